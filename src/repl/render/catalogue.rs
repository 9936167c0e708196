//! The catalogue for people: the task list grouped by fault group and
//! category with each task's best score, and the player's progress by
//! category with the task to play next.

use super::layout::width_of;
use super::{Style, Tone};
use crate::cli::ColorChoice;
use crate::task::catalogue::{self, Category};
use crate::task::{Difficulty, TaskSet};

/// A best score at or above this solves a task (and its category).
pub const SOLVED: f64 = 0.9;

fn tier_tone(d: Difficulty) -> Tone {
    match d {
        Difficulty::Easy => Tone::Good,
        Difficulty::Medium => Tone::Warn,
        Difficulty::Hard => Tone::Bad,
    }
}

fn group_name(c: &Category) -> &'static str {
    c.group.map_or("other", |g| g.name())
}

fn solved(c: &Category, best: &dyn Fn(&str) -> Option<f64>) -> bool {
    c.tasks.iter().any(|t| best(t).is_some_and(|s| s >= SOLVED))
}

/// Every task as a tree: fault group, category (with its tier), then its
/// tasks with their best scores. A tree, not a table: a category's name is
/// one long word, and the list must still read at 80 columns.
pub fn task_list(tasks: &TaskSet, best: &dyn Fn(&str) -> Option<f64>, style: &Style) -> String {
    let categories = catalogue::categories(tasks);
    let id_width = tasks.iter().map(|t| width_of(t.id())).max().unwrap_or(0);
    let title_width = tasks
        .iter()
        .map(|t| width_of(&t.file.title))
        .max()
        .unwrap_or(0)
        // The line is indented 4, then id, two spaces, title, two spaces, score.
        .min(
            style
                .width
                .saturating_sub(4 + id_width + 2 + 2 + 11)
                .max(10),
        );
    let mut lines = Vec::new();
    let mut last_group = "";
    for category in &categories {
        let group = group_name(category);
        if group != last_group {
            if !last_group.is_empty() {
                lines.push(String::new());
            }
            last_group = group;
            lines.push(style.strong(group));
        }
        lines.push(style.wrap(
            &format!(
                "  {} {}",
                style.accent(&category.label),
                style.paint(category.tier.name(), tier_tone(category.tier))
            ),
            "    ",
        ));
        for id in &category.tasks {
            let Some(task) = tasks.get(id) else {
                continue;
            };
            let (score, tone) = match best(id) {
                Some(s) if s >= SOLVED => (format!("{s:.2} solved"), Tone::Good),
                Some(s) => (format!("{s:.2}"), Tone::Plain),
                None => ("-".to_string(), Tone::Dim),
            };
            let title = &task.file.title;
            let pad = title_width.saturating_sub(width_of(title));
            let line = format!(
                "    {id:<id_width$}  {title}{}  {}",
                " ".repeat(pad),
                style.paint(&score, tone)
            );
            lines.push(style.wrap(&line, &" ".repeat(6 + id_width)));
        }
    }
    lines.push(String::new());
    lines.push(style.wrap(
        &style.dim(&format!(
            "`play {}` draws a task from the catalogue and hides which one.",
            catalogue::MYSTERY_ID
        )),
        "",
    ));
    lines.join("\n")
}

/// Solved categories per group, then the task to play next: the first
/// unsolved task of the easiest unsolved category (None when all are solved).
pub fn category_progress(
    tasks: &TaskSet,
    best: &dyn Fn(&str) -> Option<f64>,
    style: &Style,
) -> (String, Option<String>) {
    let categories = catalogue::categories(tasks);
    let mut lines = vec![style.strong("Progress by category")];
    let groups: Vec<&str> = {
        let mut g: Vec<&str> = categories.iter().map(group_name).collect();
        g.dedup();
        g
    };
    let width = groups.iter().map(|g| g.len()).max().unwrap_or(0);
    for group in groups {
        let in_group: Vec<&Category> = categories
            .iter()
            .filter(|c| group_name(c) == group)
            .collect();
        let done = in_group.iter().filter(|c| solved(c, best)).count();
        let bar: String = in_group
            .iter()
            .map(|c| if solved(c, best) { '■' } else { '□' })
            .collect();
        let tone = if done == in_group.len() {
            Tone::Good
        } else {
            Tone::Plain
        };
        lines.push(format!(
            "  {group:<width$}  {}  {done} of {} solved",
            style.paint(&bar, tone),
            in_group.len()
        ));
    }
    let next = categories
        .iter()
        .filter(|c| !solved(c, best))
        .min_by_key(|c| c.tier)
        .and_then(|c| {
            c.tasks
                .iter()
                .find(|t| best(t).is_none_or(|s| s < SOLVED))
                .cloned()
        });
    (lines.join("\n"), next)
}

pub fn print_task_list(tasks: &TaskSet, json: bool, choice: ColorChoice) {
    if json {
        let categories = catalogue::categories(tasks);
        let list: Vec<serde_json::Value> = tasks
            .iter()
            .map(|t| {
                let category = categories
                    .iter()
                    .find(|c| c.label == t.file.root_cause)
                    .map(|c| (c.label.clone(), group_name(c)));
                serde_json::json!({
                    "id": t.id(),
                    "title": t.file.title,
                    "summary": t.file.summary,
                    "difficulty": t.file.difficulty.name(),
                    "category": category.as_ref().map(|c| c.0.clone()),
                    "group": category.map(|c| c.1),
                    "max_steps": t.file.max_steps,
                    "variants": t.file.variants.len().max(1),
                    "origin": t.origin,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
    } else {
        let style = Style::detect(choice);
        let progress = crate::repl::progress::Progress::load();
        println!("{}", task_list(tasks, &|id| progress.best(id), &style));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_every_task_and_category_once() {
        let tasks = TaskSet::builtin().unwrap();
        let text = task_list(&tasks, &|_| None, &Style::plain(200));
        for t in tasks.iter() {
            assert_eq!(text.matches(t.id()).count(), 1, "{}", t.id());
        }
        for c in catalogue::categories(&tasks) {
            assert!(text.contains(&c.label), "{}", c.label);
        }
    }

    #[test]
    fn progress_counts_a_category_solved_by_any_of_its_tasks_and_suggests_the_easiest_unsolved() {
        let tasks = TaskSet::builtin().unwrap();
        let categories = catalogue::categories(&tasks);
        let (_, first) = category_progress(&tasks, &|_| None, &Style::plain(80));
        let easiest = categories
            .iter()
            .find(|c| c.tier == Difficulty::Easy)
            .and_then(|c| c.tasks.first().cloned());
        assert!(first.is_some());
        assert_eq!(
            tasks
                .get(first.as_deref().unwrap_or_default())
                .map(|t| t.file.difficulty),
            easiest
                .and_then(|id| tasks.get(&id))
                .map(|t| t.file.difficulty)
        );
        let (text, next) = category_progress(&tasks, &|_| Some(0.95), &Style::plain(80));
        assert_eq!(next, None);
        let total: usize = categories.len();
        let counted: usize = text
            .lines()
            .filter_map(|l| {
                l.split(" of ")
                    .next()?
                    .split_whitespace()
                    .last()?
                    .parse::<usize>()
                    .ok()
            })
            .sum();
        assert_eq!(counted, total, "{text}");
    }
}
