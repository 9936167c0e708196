//! The catalogue: tasks grouped into fault categories (a category is a root
//! cause; its tasks are the ways the catalogue breaks a run for that cause),
//! each category's tier (its easiest task's difficulty), and mystery episodes,
//! which draw a category, then one of its tasks, from the seed and play it
//! under a disguise that names nothing.

use super::{Difficulty, Task, TaskSet};
use crate::sim::rng::SimRng;
use crate::vocab::{self, FaultGroup};
use std::sync::Arc;

/// The task id that asks for a mystery episode.
pub const MYSTERY_ID: &str = "mystery";
const MYSTERY_TITLE: &str = "A mystery run";
const MYSTERY_SUMMARY: &str = "Something went wrong in this training run. Find out what.";
/// Every mystery episode has the same step limit, so the limit tells nothing:
/// the largest any built-in task allows.
pub const MYSTERY_MAX_STEPS: usize = 30;

/// One root cause and the tasks that teach it.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// The root-cause label (the tasks' `root_cause`).
    pub label: String,
    /// Where the fault lives; `None` for a label the vocabulary lacks
    /// (validation rules that out for loaded tasks).
    pub group: Option<FaultGroup>,
    /// The easiest of its tasks.
    pub tier: Difficulty,
    /// Its tasks' ids, in catalogue order.
    pub tasks: Vec<String>,
}

impl Category {
    /// The label's one-line definition from the vocabulary table.
    pub fn definition(&self) -> &'static str {
        vocab::LABELS
            .iter()
            .find(|t| t.name == self.label)
            .map_or("", |t| t.definition)
    }
}

/// The real task behind a mystery episode, told once the episode is done.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Unmasked {
    pub task_id: String,
    pub title: String,
    /// The category (root-cause label) that was drawn.
    pub category: String,
}

/// The categories of a task set, ordered by group, then tier, then label.
pub fn categories(set: &TaskSet) -> Vec<Category> {
    let mut out: Vec<Category> = Vec::new();
    for task in set.iter() {
        let file = &task.file;
        match out.iter_mut().find(|c| c.label == file.root_cause) {
            Some(c) => {
                c.tasks.push(task.id().to_string());
                c.tier = c.tier.min(file.difficulty);
            }
            None => out.push(Category {
                label: file.root_cause.clone(),
                group: vocab::group_of(&file.root_cause),
                tier: file.difficulty,
                tasks: vec![task.id().to_string()],
            }),
        }
    }
    out.sort_by(|a, b| (a.group, a.tier, &a.label).cmp(&(b.group, b.tier, &b.label)));
    out
}

/// The README's catalogue table: one row per category, by group and tier.
pub fn markdown_table(set: &TaskSet) -> String {
    let mut out = String::from(
        "| group | category | tier | tasks | what it means |\n| --- | --- | --- | --- | --- |\n",
    );
    for c in categories(set) {
        // A two-fault task names its second fault beside its id.
        let tasks: Vec<String> = c
            .tasks
            .iter()
            .map(
                |id| match set.get(id).and_then(|t| t.file.secondary.clone()) {
                    Some(second) => format!("{id} (+ `{}`)", second.cause),
                    None => id.clone(),
                },
            )
            .collect();
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            c.group.map_or("other", |g| g.name()),
            c.label,
            c.tier.name(),
            tasks.join(", "),
            c.definition()
        ));
    }
    out
}

/// The Python package's `_catalogue.py`: the built-in task ids.
pub fn python_catalogue(set: &TaskSet) -> String {
    let ids: Vec<String> = set.iter().map(|t| format!("{:?}", t.id())).collect();
    format!(
        "\"\"\"The ids of the tasks built into the binary, generated from its catalogue\n(a Rust test, ``python_catalogue_is_the_builtin_one``, keeps this file in step\nand prints it when it is not).\"\"\"\n\nBUILTIN_TASKS = (\n{}\n)\n",
        ids.iter()
            .map(|id| format!("    {id},"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// `task` under the mystery disguise: its id, title, summary, difficulty and
/// step limit say nothing about the cause; everything it trains is the same.
pub(super) fn disguise(task: &Task) -> Task {
    let mut file = task.file.clone();
    file.id = MYSTERY_ID.to_string();
    file.title = MYSTERY_TITLE.to_string();
    file.summary = MYSTERY_SUMMARY.to_string();
    file.difficulty = Difficulty::Hard;
    file.max_steps = MYSTERY_MAX_STEPS;
    Task {
        file,
        origin: task.origin.clone(),
        hash: task.hash.clone(),
        // A disguised task trains exactly what its original trains.
        references: task.references.clone(),
        unmasked: Some(Unmasked {
            task_id: task.id().to_string(),
            title: task.file.title.clone(),
            category: task.file.root_cause.clone(),
        }),
    }
}

/// Which task a mystery seed plays: a category uniformly, then one of its
/// tasks uniformly (so a category with many tasks is not drawn more often).
/// The variant is then the task's own draw from the same seed.
pub fn mystery_pick(set: &TaskSet, seed: u64) -> Option<String> {
    let cats = categories(set);
    if cats.is_empty() {
        return None;
    }
    let category = cats.get(SimRng::new(seed, "mystery category").below(cats.len()))?;
    let task = category
        .tasks
        .get(SimRng::new(seed, "mystery task").below(category.tasks.len()))?;
    Some(task.clone())
}

/// The disguised task a mystery seed plays.
pub fn mystery(set: &TaskSet, seed: u64) -> Option<Arc<Task>> {
    let id = mystery_pick(set, seed)?;
    set.disguised(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_root_cause_is_a_category_with_a_group() {
        let set = TaskSet::builtin().unwrap();
        let cats = categories(&set);
        let ids: usize = cats.iter().map(|c| c.tasks.len()).sum();
        assert_eq!(ids, set.iter().count());
        for c in &cats {
            assert!(c.group.is_some(), "{} has no group", c.label);
            assert!(!c.definition().is_empty(), "{} has no definition", c.label);
        }
        let origin = [
            "lr_too_high",
            "vanishing_gradients",
            "data_leakage",
            "overfitting",
            "batchnorm_eval_mode",
            "code_bug",
        ];
        for label in origin {
            assert!(cats.iter().any(|c| c.label == label), "{label}");
        }
    }

    #[test]
    fn a_mystery_hides_the_task_and_trains_the_same_thing() {
        let set = TaskSet::builtin().unwrap();
        for seed in 0..40 {
            let id = mystery_pick(&set, seed).unwrap();
            let real = set.get(&id).unwrap();
            let masked = mystery(&set, seed).unwrap();
            assert_eq!(masked.id(), MYSTERY_ID);
            assert_eq!(masked.file.title, MYSTERY_TITLE);
            assert_eq!(masked.file.max_steps, MYSTERY_MAX_STEPS);
            assert_eq!(masked.file.data, real.file.data);
            assert_eq!(masked.file.variants, real.file.variants);
            assert_eq!(
                masked.unmasked.as_ref().map(|u| u.task_id.as_str()),
                Some(id.as_str())
            );
            assert_eq!(masked.hash, real.hash);
            assert_eq!(masked.real_id(), id);
        }
    }

    #[test]
    fn no_builtin_task_allows_more_steps_than_a_mystery() {
        let set = TaskSet::builtin().unwrap();
        for t in set.iter() {
            assert!(t.file.max_steps <= MYSTERY_MAX_STEPS, "{}", t.id());
        }
    }
}
