//! The player's progress (best score per task) and history file, kept in the
//! user's data directory: `$TRAINWRECK_DATA_DIR`, else `$XDG_DATA_HOME/trainwreck`,
//! else `~/.local/share/trainwreck`. Failing to read or write it is reported
//! once and never stops the game. Saving merges with what is on disk (another
//! game may share the directory) and replaces the file atomically (a temporary
//! file, then a rename), so a reader never sees half a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Best scores from the file's text. An entry that is not a finite number
/// (an old file written while a task could score NaN) is dropped, not the file.
fn parse(text: &str) -> Result<BTreeMap<String, f64>, serde_json::Error> {
    let raw: BTreeMap<String, serde_json::Value> = serde_json::from_str(text)?;
    Ok(raw
        .into_iter()
        .filter_map(|(task, v)| v.as_f64().filter(|s| s.is_finite()).map(|s| (task, s)))
        .collect())
}

pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TRAINWRECK_DATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(xdg).join("trainwreck"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share/trainwreck"))
}

#[derive(Debug, Default)]
pub struct Progress {
    best: BTreeMap<String, f64>,
    path: Option<PathBuf>,
    /// Set once a read or write failed and the player was told.
    pub warning: Option<String>,
}

impl Progress {
    pub fn load() -> Self {
        let Some(dir) = data_dir() else {
            return Progress {
                warning: Some("no home directory: progress will not be saved".into()),
                ..Progress::default()
            };
        };
        let path = dir.join("progress.json");
        let mut progress = Progress {
            path: Some(path.clone()),
            ..Progress::default()
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse(&text) {
                Ok(best) => progress.best = best,
                Err(e) => {
                    progress.warning = Some(format!(
                        "cannot read {}: {e}; starting afresh",
                        path.display()
                    ))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => progress.warning = Some(format!("cannot read {}: {e}", path.display())),
        }
        progress
    }

    pub fn best(&self, task: &str) -> Option<f64> {
        self.best.get(task).copied()
    }

    /// Remember a score; returns a warning the first time saving fails.
    pub fn record(&mut self, task: &str, score: f64) -> Option<String> {
        if score.is_finite() {
            let entry = self.best.entry(task.to_string()).or_insert(score);
            *entry = entry.max(score);
        }
        let path = self.path.clone()?;
        let result = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| self.save(&path));
        match result {
            Ok(()) => None,
            Err(e) if self.warning.is_none() => {
                let w = format!("cannot save progress to {}: {e}", path.display());
                self.warning = Some(w.clone());
                Some(w)
            }
            Err(_) => None,
        }
    }

    /// Merge with the file's scores (best of both), then replace it atomically.
    fn save(&mut self, path: &Path) -> std::io::Result<()> {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(on_disk) = parse(&text)
        {
            for (task, score) in on_disk {
                let entry = self.best.entry(task).or_insert(score);
                *entry = entry.max(score);
            }
        }
        let text = serde_json::to_string_pretty(&self.best).map_err(std::io::Error::other)?;
        let temp = path.with_extension(format!("json.{}.tmp", std::process::id()));
        std::fs::write(&temp, text)
            .and_then(|()| std::fs::rename(&temp, path))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&temp);
            })
    }

    pub fn history_path() -> Option<PathBuf> {
        data_dir().map(|d| d.join("history.txt"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &Path) -> Progress {
        Progress {
            path: Some(path.to_path_buf()),
            ..Progress::default()
        }
    }

    #[test]
    fn games_sharing_a_file_keep_each_others_best_scores() {
        let dir = std::env::temp_dir().join(format!("trainwreck-progress-{}", std::process::id()));
        let path = dir.join("progress.json");
        let _ = std::fs::remove_file(&path);
        let (mut a, mut b) = (at(&path), at(&path));
        assert_eq!(a.record("task_001", 0.8), None);
        assert_eq!(b.record("task_002", 0.5), None);
        assert_eq!(a.record("task_001", 0.3), None);
        assert_eq!(b.record("task_003", f64::NAN), None);
        let saved = parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(saved.get("task_001"), Some(&0.8));
        assert_eq!(saved.get("task_002"), Some(&0.5));
        assert_eq!(saved.get("task_003"), None);
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_null_score_loses_that_entry_not_the_file() {
        let best = parse(r#"{"task_001": 0.9, "task_002": null}"#).unwrap();
        assert_eq!(best.len(), 1);
        assert_eq!(best.get("task_001"), Some(&0.9));
    }
}
