//! The tasks of a session: the built-ins embedded at build time plus any task
//! directories, looked up by id, resolved per seed (a mystery id draws from
//! the catalogue), and hashed for recordings.

use super::{Task, TaskError, catalogue, load_file, parse_task};
use std::path::Path;
use std::sync::Arc;

// The built-in tasks: every file under `tasks/` (see build.rs).
include!(concat!(env!("OUT_DIR"), "/builtin_tasks.rs"));

/// All tasks of a session: the built-ins plus any task directories.
#[derive(Debug, Clone, Default)]
pub struct TaskSet {
    tasks: Vec<Arc<Task>>,
    /// Every task under the mystery disguise, made on first use (the set is
    /// complete by then: tasks are only added while it is built).
    disguised: std::sync::OnceLock<Vec<Arc<Task>>>,
}

impl TaskSet {
    /// The built-in tasks only. They are checked by the test suite, so an
    /// error here is a build defect; it is still reported, never panicked on.
    pub fn builtin() -> Result<Self, Vec<TaskError>> {
        let mut set = TaskSet::default();
        let mut errors = Vec::new();
        for (name, text) in BUILTIN {
            set.add(
                parse_task(name, &format!("builtin:{name}"), text),
                &mut errors,
            );
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// Built-ins plus every `.toml`/`.json` file in each directory (sorted by name).
    pub fn with_dirs(dirs: &[impl AsRef<Path>]) -> Result<Self, Vec<TaskError>> {
        let mut set = Self::builtin()?;
        let mut errors = Vec::new();
        for dir in dirs {
            let dir = dir.as_ref();
            match crate::files::in_dir(dir, &["toml", "json"]) {
                Ok(paths) => {
                    for path in paths {
                        if crate::files::leaves(dir, &path) {
                            errors.push(TaskError::Read {
                                file: path.display().to_string(),
                                message: format!(
                                    "a symlink to outside {}: task files must be in the directory",
                                    dir.display()
                                ),
                            });
                            continue;
                        }
                        set.add(load_file(&path), &mut errors);
                    }
                }
                Err(err) => errors.push(TaskError::Read {
                    file: dir.display().to_string(),
                    message: err.to_string(),
                }),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// Exactly these tasks (no built-ins); a repeated id is an error.
    pub fn from_tasks(tasks: impl IntoIterator<Item = Task>) -> Result<Self, Vec<TaskError>> {
        let mut set = TaskSet::default();
        let mut errors = Vec::new();
        for task in tasks {
            set.insert(task, &mut errors);
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// Keep a loaded task, or its errors.
    fn add(&mut self, loaded: Result<Task, Vec<TaskError>>, errors: &mut Vec<TaskError>) {
        match loaded {
            Ok(task) => self.insert(task, errors),
            Err(mut e) => errors.append(&mut e),
        }
    }

    fn insert(&mut self, task: Task, errors: &mut Vec<TaskError>) {
        if let Some(existing) = self.get(task.id()) {
            errors.push(TaskError::Duplicate {
                id: task.id().to_string(),
                first: existing.origin.clone(),
                second: task.origin.clone(),
            });
            return;
        }
        self.tasks.push(Arc::new(task));
    }

    pub fn get(&self, id: &str) -> Option<Arc<Task>> {
        self.tasks.iter().find(|t| t.id() == id).cloned()
    }

    /// The task an episode with this id and seed plays: the task itself, or
    /// for `mystery` the seed's draw from the catalogue, disguised.
    pub fn resolve(&self, id: &str, seed: u64) -> Option<Arc<Task>> {
        if id == catalogue::MYSTERY_ID {
            return catalogue::mystery(self, seed);
        }
        self.get(id)
    }

    /// Task `id` under the mystery disguise.
    pub fn disguised(&self, id: &str) -> Option<Arc<Task>> {
        let all = self.disguised.get_or_init(|| {
            self.tasks
                .iter()
                .map(|t| Arc::new(catalogue::disguise(t)))
                .collect()
        });
        all.iter()
            .find(|t| t.unmasked.as_ref().is_some_and(|u| u.task_id == id))
            .cloned()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Task>> {
        self.tasks.iter()
    }

    pub fn ids(&self) -> Vec<String> {
        self.tasks.iter().map(|t| t.id().to_string()).collect()
    }

    pub fn first(&self) -> Option<Arc<Task>> {
        self.tasks.first().cloned()
    }
}
