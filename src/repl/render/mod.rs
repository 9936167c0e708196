//! Rendering an episode for people: charts, comfy-table tables and colour.
//! Everything returns a `String` (tested at fixed widths, colour off); the REPL
//! decides where it goes.

pub mod chart;

use crate::cli::ColorChoice;
use crate::env::Episode;
use crate::env::grade::Grade;
use crate::env::observation::RunView;
use crate::task::TaskSet;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};
use owo_colors::OwoColorize;
use std::io::IsTerminal;

/// Whether and how to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    /// Colour on a terminal unless NO_COLOR is set; `--color` overrides.
    pub fn detect(choice: ColorChoice) -> Self {
        let tty = std::io::stdout().is_terminal();
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        let width = if tty {
            console::Term::stdout().size().1 as usize
        } else {
            80
        };
        Style {
            color,
            width: width.clamp(20, 240),
        }
    }

    pub fn plain(width: usize) -> Self {
        Style {
            color: false,
            width,
        }
    }

    pub fn good(&self, s: &str) -> String {
        if self.color {
            s.green().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn bad(&self, s: &str) -> String {
        if self.color {
            s.red().bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn warn(&self, s: &str) -> String {
        if self.color {
            s.yellow().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn dim(&self, s: &str) -> String {
        if self.color {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn strong(&self, s: &str) -> String {
        if self.color {
            s.bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn accent(&self, s: &str) -> String {
        if self.color {
            s.cyan().to_string()
        } else {
            s.to_string()
        }
    }

    fn table(&self) -> Table {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(self.width as u16);
        if !self.color {
            t.force_no_tty();
        }
        t
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "NaN".to_string(), chart::axis_number)
}

/// Loss curves (train and validation) and validation accuracy. With `previous`,
/// the last run's validation loss is drawn too, for comparison.
pub fn curves(run: &RunView, previous: Option<&RunView>, style: &Style) -> String {
    let mut series = vec![
        chart::Series {
            name: "train loss",
            values: &run.training_loss_history,
            glyph: '●',
        },
        chart::Series {
            name: "val loss",
            values: &run.val_loss_history,
            glyph: '○',
        },
    ];
    if let Some(prev) = previous {
        series.push(chart::Series {
            name: "previous val loss",
            values: &prev.val_loss_history,
            glyph: '+',
        });
    }
    let height = if style.width < 60 { 6 } else { 10 };
    let diverged_at = (run.status == "failed").then(|| run.epochs_completed.saturating_sub(1));
    let mut out = chart::render(
        &style.strong(&format!("Loss ({})", run.run_id)),
        &series,
        diverged_at,
        style.width,
        height,
    );
    out.push(String::new());
    let acc = [chart::Series {
        name: "val accuracy",
        values: &run.val_accuracy_history,
        glyph: '◆',
    }];
    out.extend(chart::render(
        &style.strong("Validation accuracy"),
        &acc,
        diverged_at,
        style.width,
        height.min(6),
    ));
    out.join("\n")
}

pub fn gradients(run: &RunView, style: &Style) -> String {
    let mut t = style.table();
    t.set_header(vec![
        "layer",
        "mean norm",
        "max norm",
        "history (log)",
        "status",
    ]);
    for g in &run.gradient_stats {
        let status = if g.is_exploding {
            style.bad("exploding")
        } else if g.is_vanishing {
            style.warn("vanishing")
        } else {
            style.good("ok")
        };
        t.add_row(vec![
            Cell::new(&g.layer_name),
            Cell::new(num(g.mean_norm)).set_alignment(CellAlignment::Right),
            Cell::new(num(g.max_norm)).set_alignment(CellAlignment::Right),
            Cell::new(chart::sparkline(&g.norm_history)),
            Cell::new(status),
        ]);
    }
    t.to_string()
}

pub fn weights(run: &RunView, style: &Style) -> String {
    let mut t = style.table();
    t.set_header(vec![
        "layer", "norm", "mean", "std", "min", "max", "dead %", "NaN/Inf",
    ]);
    for w in &run.weight_stats {
        let broken = w.has_nan || w.has_inf;
        t.add_row(vec![
            Cell::new(&w.layer_name),
            Cell::new(num(w.norm)).set_alignment(CellAlignment::Right),
            Cell::new(num(w.mean)).set_alignment(CellAlignment::Right),
            Cell::new(num(w.std)).set_alignment(CellAlignment::Right),
            Cell::new(num(w.min)).set_alignment(CellAlignment::Right),
            Cell::new(num(w.max)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.0}", w.dead_neuron_pct)).set_alignment(CellAlignment::Right),
            Cell::new(if broken {
                style.bad("yes")
            } else {
                "no".to_string()
            }),
        ]);
    }
    t.to_string()
}

pub fn data(run: &RunView, style: &Style) -> String {
    let s = &run.data_stats.stats;
    let mut t = style.table();
    t.set_header(vec!["statistic", "value"]);
    let flag = |v: f64, bad: bool| {
        if bad {
            style.bad(&format!("{v:.3}"))
        } else {
            format!("{v:.3}")
        }
    };
    let rows: Vec<(&str, String)> = vec![
        (
            "train / val rows",
            format!("{} / {}", s.train_samples, s.val_samples),
        ),
        ("batch size", s.batch_size.to_string()),
        ("labels (train)", format!("{:?}", s.label_distribution)),
        ("feature mean", format!("{:.3}", s.feature_mean)),
        ("feature std", format!("{:.3}", s.feature_std)),
        ("null values", s.null_count.to_string()),
        (
            "duplicate_ratio",
            flag(s.duplicate_ratio, s.duplicate_ratio > 0.0),
        ),
        (
            "class_overlap_score",
            flag(s.class_overlap_score, s.class_overlap_score > 0.05),
        ),
    ];
    for (k, v) in rows {
        t.add_row(vec![Cell::new(k), Cell::new(v)]);
    }
    let mut out = t.to_string();
    let cm = &run.data_stats.confusion_matrix;
    if !cm.is_empty() {
        let mut m = style.table();
        let mut header = vec!["true \\ predicted".to_string()];
        header.extend((0..cm.len()).map(|c| c.to_string()));
        m.set_header(header);
        for (i, row) in cm.iter().enumerate() {
            let mut cells = vec![Cell::new(i)];
            cells.extend(
                row.iter()
                    .map(|n| Cell::new(n).set_alignment(CellAlignment::Right)),
            );
            m.add_row(cells);
        }
        out.push_str("\nValidation confusion matrix\n");
        out.push_str(&m.to_string());
    }
    out
}

pub fn modes(run: &RunView, style: &Style) -> String {
    let mut t = style.table();
    t.set_header(vec!["module", "mode during training steps"]);
    for (name, mode) in &run.modes {
        let m = if *mode == "eval" {
            style.bad(mode)
        } else {
            style.good(mode)
        };
        t.add_row(vec![Cell::new(name), Cell::new(m)]);
    }
    t.to_string()
}

pub fn config(episode: &Episode, style: &Style) -> String {
    let mut t = style.table();
    t.set_header(vec!["hyper-parameter", "value"]);
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(episode.config()) {
        for (k, v) in map {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            t.add_row(vec![Cell::new(k), Cell::new(text)]);
        }
    }
    t.to_string()
}

pub fn code(episode: &Episode, style: &Style) -> String {
    episode
        .program()
        .render()
        .lines()
        .enumerate()
        .map(|(i, line)| format!("{} {line}", style.dim(&format!("{:>3} │", i + 1))))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn grade(grade: &Grade, style: &Style) -> String {
    let mut t = style.table();
    t.set_header(vec!["rubric item", "weight", "earned"]);
    for item in &grade.breakdown {
        let mark = match (item.earned, item.weight < 0.0) {
            (true, false) => style.good("yes"),
            (true, true) => style.bad("yes"),
            (false, _) => style.dim("no"),
        };
        t.add_row(vec![
            Cell::new(&item.item),
            Cell::new(format!("{:+.2}", item.weight)).set_alignment(CellAlignment::Right),
            Cell::new(mark),
        ]);
    }
    t.to_string()
}

/// The task catalogue: a table, or JSON for scripts.
pub fn task_list(tasks: &TaskSet, best: &dyn Fn(&str) -> Option<f64>, style: &Style) -> String {
    let mut t = style.table();
    t.set_header(vec!["id", "title", "difficulty", "best score"]);
    for task in tasks.iter() {
        let f = &task.file;
        let difficulty = match f.difficulty.name() {
            "easy" => style.good("easy"),
            "medium" => style.warn("medium"),
            other => style.bad(other),
        };
        let best = match best(task.id()) {
            Some(s) if s >= 0.9 => style.good(&format!("{s:.2} solved")),
            Some(s) => format!("{s:.2}"),
            None => style.dim("-"),
        };
        t.add_row(vec![
            Cell::new(task.id()),
            Cell::new(&f.title),
            Cell::new(difficulty),
            Cell::new(best),
        ]);
    }
    t.to_string()
}

pub fn print_task_list(tasks: &TaskSet, json: bool, choice: ColorChoice) {
    if json {
        let list: Vec<serde_json::Value> = tasks
            .iter()
            .map(|t| {
                serde_json::json!({
                    "id": t.id(),
                    "title": t.file.title,
                    "summary": t.file.summary,
                    "difficulty": t.file.difficulty.name(),
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
    use crate::env::ActionRequest;
    use crate::events::{FixedClock, NoSink};

    fn episode(task: &str, seed: u64) -> Episode {
        let tasks = TaskSet::builtin().unwrap();
        let mut ep =
            Episode::reset(tasks.get(task).unwrap(), seed, &mut NoSink, &FixedClock).unwrap();
        for kind in [
            "inspect_gradients",
            "inspect_data_batch",
            "inspect_model_modes",
            "inspect_model_weights",
            "inspect_code",
        ] {
            ep.step(&ActionRequest::new(kind), &mut NoSink, &FixedClock);
        }
        ep
    }

    #[test]
    fn snapshots_at_80_columns_without_colour() {
        let style = Style::plain(80);
        let diverged = episode("task_001", 42);
        insta::assert_snapshot!("curves_diverging", curves(diverged.run(), None, &style));
        insta::assert_snapshot!("gradients_exploding", gradients(diverged.run(), &style));
        let log = episode("task_006", 0); // zero_grad never called: the loss climbs by decades
        insta::assert_snapshot!("curves_log_scale", curves(log.run(), None, &style));
        let eval = episode("task_005", 42);
        insta::assert_snapshot!("modes_eval", modes(eval.run(), &style));
        insta::assert_snapshot!("weights", weights(eval.run(), &style));
        insta::assert_snapshot!(
            "data_with_leakage",
            data(episode("task_003", 42).run(), &style)
        );
        insta::assert_snapshot!("code", code(&log, &style));
        insta::assert_snapshot!("config", config(&log, &style));
        insta::assert_snapshot!("grade", grade(&log.grade(), &style));
        let tasks = TaskSet::builtin().unwrap();
        insta::assert_snapshot!(
            "task_list",
            task_list(&tasks, &|id| (id == "task_002").then_some(0.95), &style)
        );
    }

    #[test]
    fn narrow_and_wide_terminals_fit() {
        let eps = [
            episode("task_001", 42),
            episode("task_006", 0),
            episode("task_003", 1),
        ];
        let tasks = TaskSet::builtin().unwrap();
        for width in [40, 200] {
            let style = Style::plain(width);
            for ep in &eps {
                let run = ep.run();
                let rendered = [
                    curves(run, Some(run), &style),
                    gradients(run, &style),
                    weights(run, &style),
                    data(run, &style),
                    modes(run, &style),
                    config(ep, &style),
                    grade(&ep.grade(), &style),
                    task_list(&tasks, &|_| None, &style),
                ];
                for text in rendered {
                    for line in text.lines() {
                        assert!(line.chars().count() <= width, "{width} columns: {line:?}");
                    }
                }
            }
        }
    }
}
