//! Rendering an episode for people: charts, tables and colour, fitted to the
//! terminal. Everything returns a `String` (snapshot-tested at 40, 80 and 200
//! columns, with and without colour); the REPL decides where it goes.

pub mod catalogue;
pub mod chart;
pub mod layout;

pub use catalogue::{category_progress, print_task_list, task_list};

use crate::cli::ColorChoice;
use crate::env::Episode;
use crate::env::grade::Grade;
use crate::env::observation::RunView;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};
use layout::{Grid, Kind};
use owo_colors::OwoColorize;
use std::io::IsTerminal;

/// The terminal: whether to colour, and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    pub width: usize,
    pub height: usize,
}

/// What a piece of text means, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Good,
    Bad,
    Warn,
    Dim,
    Strong,
    Accent,
}

/// `COLUMNS`/`LINES` as a number, for output that is not a terminal.
fn env_size(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.trim().parse().ok()
}

impl Style {
    /// Colour on a terminal unless NO_COLOR is set; `--color` overrides. The
    /// size is the terminal's, or `COLUMNS`×`LINES` (default 80×24) when
    /// stdout is not a terminal or the terminal does not say.
    pub fn detect(choice: ColorChoice) -> Self {
        let tty = std::io::stdout().is_terminal();
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        // A terminal that reports no size (a bare pty) counts as not knowing it.
        let reported = console::Term::stdout()
            .size_checked()
            .filter(|(rows, cols)| tty && *rows > 0 && *cols > 0);
        let (height, width) = match reported {
            Some((rows, cols)) => (usize::from(rows), usize::from(cols)),
            None => (
                env_size("LINES").unwrap_or(24),
                env_size("COLUMNS").unwrap_or(80),
            ),
        };
        Style {
            color,
            width: width.clamp(20, 240),
            height: height.clamp(10, 200),
        }
    }

    /// No colour, `width` columns, a 24-line terminal.
    pub fn plain(width: usize) -> Self {
        Style {
            color: false,
            width,
            height: 24,
        }
    }

    /// Colour on, `width` columns, a 24-line terminal.
    pub fn coloured(width: usize) -> Self {
        Style {
            color: true,
            ..Style::plain(width)
        }
    }

    /// `s` in the colour of `tone` (unchanged without colour).
    pub fn paint(&self, s: &str, tone: Tone) -> String {
        if !self.color {
            return s.to_string();
        }
        match tone {
            Tone::Plain => s.to_string(),
            Tone::Good => s.green().to_string(),
            Tone::Bad => s.red().bold().to_string(),
            Tone::Warn => s.yellow().to_string(),
            Tone::Dim => s.dimmed().to_string(),
            Tone::Strong => s.bold().to_string(),
            Tone::Accent => s.cyan().to_string(),
        }
    }

    pub fn good(&self, s: &str) -> String {
        self.paint(s, Tone::Good)
    }
    pub fn bad(&self, s: &str) -> String {
        self.paint(s, Tone::Bad)
    }
    pub fn warn(&self, s: &str) -> String {
        self.paint(s, Tone::Warn)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint(s, Tone::Dim)
    }
    pub fn strong(&self, s: &str) -> String {
        self.paint(s, Tone::Strong)
    }
    pub fn accent(&self, s: &str) -> String {
        self.paint(s, Tone::Accent)
    }

    /// Prose wrapped to the terminal, continuation lines indented by `hang`.
    pub fn wrap(&self, text: &str, hang: &str) -> String {
        layout::wrap(text, self.width, hang)
    }

    /// A table cell in the colour of `tone`. comfy-table applies the colour
    /// after it has measured and wrapped the text, so borders stay aligned.
    pub fn cell(&self, text: &str, tone: Tone) -> Cell {
        let cell = Cell::new(text);
        if !self.color {
            return cell;
        }
        match tone {
            Tone::Plain => cell,
            Tone::Good => cell.fg(Color::Green),
            Tone::Bad => cell.fg(Color::Red).add_attribute(Attribute::Bold),
            Tone::Warn => cell.fg(Color::Yellow),
            Tone::Dim => cell.add_attribute(Attribute::Dim),
            Tone::Strong => cell.add_attribute(Attribute::Bold),
            Tone::Accent => cell.fg(Color::Cyan),
        }
    }

    fn table(&self) -> Table {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(self.width).unwrap_or(u16::MAX));
        if self.color {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t
    }

    /// Height of the loss chart: the 10 rows of a small terminal, more when there is room.
    pub fn chart_height(&self) -> usize {
        (self.height * 2 / 5).clamp(10, 30)
    }

    /// Height of the accuracy chart, which needs less resolution.
    pub fn small_chart_height(&self) -> usize {
        (self.height / 5).clamp(6, 15)
    }
}

/// Numbers of one column in one notation: positional when every value reads
/// well that way, else all in scientific notation. `NaN` stands for non-finite.
pub fn column_numbers(values: &[Option<f64>]) -> Vec<String> {
    let scientific = values
        .iter()
        .flatten()
        .any(|v| *v != 0.0 && !(1e-3..1e5).contains(&v.abs()));
    values
        .iter()
        .map(|v| match v {
            None => "NaN".to_string(),
            Some(v) if scientific => format!("{v:.1e}"),
            Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
            Some(v) => format!("{v:.3}"),
        })
        .collect()
}

/// The first line of a run's failure (the error itself, without details).
fn failure_headline(run: &RunView) -> Option<&str> {
    run.failure.as_deref().and_then(|f| f.lines().next())
}

fn has_finite(values: &[Option<f64>]) -> bool {
    values.iter().flatten().any(|v| v.is_finite())
}

/// Loss curves (train and validation) and validation accuracy. With
/// `previous`, the last run's validation loss is drawn too, dimmed and under
/// the current run. A run with nothing finite to draw gets a sentence saying
/// where and how it failed instead of an empty axis.
pub fn curves(run: &RunView, previous: Option<&RunView>, style: &Style) -> String {
    let ran = run.epochs_completed;
    let mut series = Vec::new();
    if let Some(prev) = previous.filter(|p| has_finite(&p.val_loss_history)) {
        series.push(chart::Series {
            name: "previous val loss",
            values: &prev.val_loss_history,
            ran: prev.epochs_completed,
            glyph: '+',
            tone: Tone::Dim,
        });
    }
    series.push(chart::Series {
        name: "val loss",
        values: &run.val_loss_history,
        ran,
        glyph: '○',
        tone: Tone::Warn,
    });
    series.push(chart::Series {
        name: "train loss",
        values: &run.training_loss_history,
        ran,
        glyph: '●',
        tone: Tone::Accent,
    });
    let title = style.strong(&format!("Loss ({})", run.run_id));
    let failed_how = match (run.status, failure_headline(run)) {
        ("failed", Some(how)) => Some(format!("The run failed in epoch {ran}: {how}")),
        ("failed", None) => Some(format!("The run failed in epoch {ran}.")),
        _ => None,
    };
    let anything = has_finite(&run.training_loss_history)
        || has_finite(&run.val_loss_history)
        || has_finite(&run.val_accuracy_history);
    let mut out = Vec::new();
    if !anything {
        out.push(title);
        let why = failed_how.unwrap_or_else(|| {
            format!("The run stopped after epoch {ran} before any value was measured.")
        });
        out.push(style.wrap(
            &style.bad(&format!(
                "Nothing to draw: every value of this run is NaN or infinite. {why}"
            )),
            "",
        ));
        if series.len() > 2 {
            // The previous run still draws, with the failure marked over it.
            out.extend(chart::render(
                "",
                &series,
                style.width,
                style.chart_height(),
                style,
            ));
        }
        return out.join("\n");
    }
    out.extend(chart::render(
        &title,
        &series,
        style.width,
        style.chart_height(),
        style,
    ));
    if let Some(how) = failed_how {
        out.push(style.wrap(&style.bad(&how), "  "));
    }
    out.push(String::new());
    let acc = [chart::Series {
        name: "val accuracy",
        values: &run.val_accuracy_history,
        ran,
        glyph: '◆',
        tone: Tone::Good,
    }];
    out.extend(chart::render(
        &style.strong("Validation accuracy"),
        &acc,
        style.width,
        style.small_chart_height(),
        style,
    ));
    out.join("\n")
}

/// What the gradient history says about a layer, in a word or two.
fn gradient_status(g: &crate::env::observation::GradientStatsView) -> (String, Tone) {
    let ran = g.norm_history.iter().flatten().count();
    let zeros = g
        .norm_history
        .iter()
        .flatten()
        .filter(|v| **v == 0.0)
        .count();
    if g.is_exploding {
        ("exploding".into(), Tone::Bad)
    } else if g.is_vanishing {
        ("vanishing".into(), Tone::Warn)
    } else if zeros > 0 {
        (format!("zero in {zeros}/{ran}"), Tone::Warn)
    } else {
        ("ok".into(), Tone::Good)
    }
}

pub fn gradients(run: &RunView, style: &Style) -> String {
    let mut grid = Grid::new(&[
        ("layer", Kind::Token),
        ("mean norm", Kind::Number),
        ("max norm", Kind::Number),
        ("history", Kind::Token),
        ("status", Kind::Text(6)),
    ]);
    let means = column_numbers(
        &run.gradient_stats
            .iter()
            .map(|g| g.mean_norm)
            .collect::<Vec<_>>(),
    );
    let maxes = column_numbers(
        &run.gradient_stats
            .iter()
            .map(|g| g.max_norm)
            .collect::<Vec<_>>(),
    );
    let mut glyphs = String::new();
    for ((g, mean), max) in run.gradient_stats.iter().zip(means).zip(maxes) {
        let spark = chart::sparkline(&g.norm_history);
        glyphs.push_str(&spark);
        let (status, tone) = gradient_status(g);
        grid.row(vec![
            (g.layer_name.clone(), Tone::Plain),
            (mean, Tone::Plain),
            (max, Tone::Plain),
            (spark, Tone::Plain),
            (status, tone),
        ]);
    }
    let mut legend =
        vec!["history: one bar per epoch, log scale (▁ smallest … █ largest)".to_string()];
    if glyphs.contains('_') {
        legend.push("_ exactly zero: no gradient reached the layer".into());
    }
    if glyphs.contains(chart::DIVERGED) {
        legend.push(format!("{} NaN or infinite", chart::DIVERGED));
    }
    format!(
        "{}\n{}",
        grid.render(style),
        style.dim(&style.wrap(&legend.join(" · "), "  "))
    )
}

pub fn weights(run: &RunView, style: &Style) -> String {
    let mut grid = Grid::new(&[
        ("layer", Kind::Token),
        ("norm", Kind::Number),
        ("mean", Kind::Number),
        ("std", Kind::Number),
        ("min", Kind::Number),
        ("max", Kind::Number),
        ("dead %", Kind::Number),
        ("NaN/Inf", Kind::Token),
    ]);
    let w = &run.weight_stats;
    let col = |f: fn(&crate::env::observation::WeightStatsView) -> Option<f64>| {
        column_numbers(&w.iter().map(f).collect::<Vec<_>>())
    };
    let (norm, mean, std, min, max) = (
        col(|w| w.norm),
        col(|w| w.mean),
        col(|w| w.std),
        col(|w| w.min),
        col(|w| w.max),
    );
    for (i, w) in w.iter().enumerate() {
        let at = |c: &[String]| c.get(i).cloned().unwrap_or_default();
        let broken = w.has_nan || w.has_inf;
        grid.row(vec![
            (w.layer_name.clone(), Tone::Plain),
            (at(&norm), Tone::Plain),
            (at(&mean), Tone::Plain),
            (at(&std), Tone::Plain),
            (at(&min), Tone::Plain),
            (at(&max), Tone::Plain),
            (format!("{:.0}", w.dead_neuron_pct), Tone::Plain),
            if broken {
                ("yes".into(), Tone::Bad)
            } else {
                ("no".into(), Tone::Plain)
            },
        ]);
    }
    grid.render(style)
}

pub fn data(run: &RunView, style: &Style) -> String {
    let s = &run.data_stats.stats;
    let mut grid = Grid::new(&[("statistic", Kind::Text(10)), ("value", Kind::Text(12))]);
    let flag = |v: f64, bad: bool| (format!("{v:.3}"), if bad { Tone::Bad } else { Tone::Plain });
    let counts = |v: &[usize]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let labels = counts(&s.label_distribution);
    let batch_labels = counts(&s.batch_label_distribution);
    let rows: Vec<(&str, (String, Tone))> = vec![
        (
            "train / val rows",
            (
                format!("{} / {}", s.train_samples, s.val_samples),
                Tone::Plain,
            ),
        ),
        ("batch size", (s.batch_size.to_string(), Tone::Plain)),
        ("rows per label (train)", (labels, Tone::Plain)),
        (
            "feature mean",
            (format!("{:.3}", s.feature_mean), Tone::Plain),
        ),
        (
            "feature std",
            (format!("{:.3}", s.feature_std), Tone::Plain),
        ),
        ("labels in one batch", (batch_labels, Tone::Plain)),
        (
            "val feature mean",
            (format!("{:.3}", s.val_feature_mean), Tone::Plain),
        ),
        (
            "val feature std",
            (format!("{:.3}", s.val_feature_std), Tone::Plain),
        ),
        (
            "null values",
            (
                s.null_count.to_string(),
                if s.null_count > 0 {
                    Tone::Bad
                } else {
                    Tone::Plain
                },
            ),
        ),
        (
            "duplicate_ratio",
            flag(s.duplicate_ratio, s.duplicate_ratio > 0.0),
        ),
        (
            "class_overlap_score",
            flag(s.class_overlap_score, s.class_overlap_score > 0.05),
        ),
        (
            "knn_label_disagreement",
            flag(s.knn_label_disagreement, s.knn_label_disagreement > 0.2),
        ),
    ];
    for (k, v) in rows {
        grid.row(vec![(k.to_string(), Tone::Plain), v]);
    }
    let mut out = grid.render(style);
    let cm = &run.data_stats.confusion_matrix;
    if !cm.is_empty() {
        let header: Vec<String> = std::iter::once("true \\ predicted".to_string())
            .chain((0..cm.len()).map(|c| c.to_string()))
            .chain(std::iter::once("recall".to_string()))
            .collect();
        let kinds: Vec<(&str, Kind)> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                (
                    h.as_str(),
                    if i == 0 { Kind::Text(4) } else { Kind::Number },
                )
            })
            .collect();
        let mut m = Grid::new(&kinds);
        for (i, row) in cm.iter().enumerate() {
            let mut cells = vec![(i.to_string(), Tone::Plain)];
            cells.extend(row.iter().enumerate().map(|(j, n)| {
                let tone = if i == j { Tone::Good } else { Tone::Plain };
                (n.to_string(), tone)
            }));
            let recall = run.data_stats.per_class_recall.get(i).copied().flatten();
            cells.push((
                recall.map_or("-".to_string(), |r| format!("{r:.2}")),
                Tone::Plain,
            ));
            m.row(cells);
        }
        out.push_str("\nValidation confusion matrix\n");
        out.push_str(&m.render(style));
    }
    out
}

pub fn modes(run: &RunView, style: &Style) -> String {
    let mut grid = Grid::new(&[
        ("module", Kind::Token),
        ("mode during training steps", Kind::Token),
    ]);
    for (name, mode) in &run.modes {
        let tone = if *mode == "eval" {
            Tone::Bad
        } else {
            Tone::Good
        };
        grid.row(vec![(name.clone(), Tone::Plain), (mode.to_string(), tone)]);
    }
    grid.render(style)
}

pub fn config(episode: &Episode, style: &Style) -> String {
    let mut grid = Grid::new(&[("hyper-parameter", Kind::Token), ("value", Kind::Text(8))]);
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(episode.config()) {
        for (k, v) in map {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            grid.row(vec![(k, Tone::Plain), (text, Tone::Plain)]);
        }
    }
    grid.render(style)
}

/// train.py with line numbers; a long line wraps under its own code, indented
/// one more level, as Python continues a line.
pub fn code(episode: &Episode, style: &Style) -> String {
    episode
        .program()
        .render()
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let indent = line.len() - line.trim_start().len();
            let hang = format!("{}{}", style.dim("    │ "), " ".repeat(indent + 4));
            let numbered = format!("{} {line}", style.dim(&format!("{:>3} │", i + 1)));
            style.wrap(&numbered, &hang)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn grade(grade: &Grade, style: &Style) -> String {
    let mut grid = Grid::new(&[
        ("rubric item", Kind::Text(12)),
        ("weight", Kind::Number),
        ("earned", Kind::Token),
    ]);
    for item in &grade.breakdown {
        let mark = match (item.earned, item.weight < 0.0) {
            (true, false) => ("yes".to_string(), Tone::Good),
            (true, true) => ("yes".to_string(), Tone::Bad),
            (false, _) => ("no".to_string(), Tone::Dim),
        };
        grid.row(vec![
            (item.item.clone(), Tone::Plain),
            (format!("{:+.2}", item.weight), Tone::Plain),
            mark,
        ]);
    }
    grid.render(style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::ActionRequest;
    use crate::events::{FixedClock, NoSink};
    use crate::task::{Task, TaskSet};

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

    /// Every renderer's output for one set of episodes at one style.
    fn everything(style: &Style) -> Vec<(String, String)> {
        let diverged = episode("task_001", 42);
        let log = episode("task_006", 0); // zero_grad never called: the loss climbs by decades
        let eval = episode("task_005", 42);
        let leak = episode("task_003", 42);
        // The origin's six: the snapshot shows the layout, and stays put as
        // the catalogue grows.
        let builtin = TaskSet::builtin().unwrap();
        let tasks = TaskSet::from_tasks(
            builtin
                .iter()
                .filter(|t| t.id() <= "task_006")
                .map(|t| Task::clone(t)),
        )
        .unwrap();
        vec![
            (
                "curves_diverging".into(),
                curves(diverged.run(), None, style),
            ),
            (
                "gradients_exploding".into(),
                gradients(diverged.run(), style),
            ),
            ("curves_log_scale".into(), curves(log.run(), None, style)),
            ("modes_eval".into(), modes(eval.run(), style)),
            ("weights".into(), weights(eval.run(), style)),
            ("data_with_leakage".into(), data(leak.run(), style)),
            ("code".into(), code(&log, style)),
            ("config".into(), config(&log, style)),
            ("grade".into(), grade(&log.grade(), style)),
            (
                "task_list".into(),
                task_list(&tasks, &|id| (id == "task_002").then_some(0.95), style),
            ),
        ]
    }

    /// Escape codes made visible, so a coloured snapshot can be read.
    fn visible(text: &str) -> String {
        text.replace('\u{1b}', "␛")
    }

    #[test]
    fn snapshots_at_40_80_and_200_columns() {
        for width in [40, 80, 200] {
            for (name, text) in everything(&Style::plain(width)) {
                insta::assert_snapshot!(format!("{name}_{width}"), text);
            }
        }
        for (name, text) in everything(&Style::coloured(80)) {
            insta::assert_snapshot!(format!("{name}_80_coloured"), visible(&text));
        }
    }

    /// Colour changes nothing but the colour: with the escape codes removed,
    /// coloured output is the plain output, so every border is where it was.
    #[test]
    fn colour_never_moves_a_border() {
        for width in [40, 80, 200] {
            let plain = everything(&Style::plain(width));
            let coloured = everything(&Style::coloured(width));
            for ((name, p), (_, c)) in plain.iter().zip(&coloured) {
                // The config and these healthy weights are all plain words.
                assert!(
                    name == "config" || name == "weights" || c.contains('\u{1b}'),
                    "{name} at {width} has no colour"
                );
                assert_eq!(&console::strip_ansi_codes(c), p, "{name} at {width}");
            }
        }
    }

    #[test]
    fn a_run_that_failed_in_epoch_1_is_said_not_drawn() {
        let failed = episode("task_001", 1);
        assert_eq!(failed.run().status, "failed");
        let wide = curves(failed.run(), None, &Style::plain(200));
        assert!(
            wide.contains("The run failed in epoch 1: RuntimeError"),
            "{wide}"
        );
        assert!(!wide.contains('│'), "no empty axis:\n{wide}");
        insta::assert_snapshot!(
            "curves_failed_in_epoch_1",
            curves(failed.run(), None, &Style::plain(80))
        );
    }

    #[test]
    fn a_rerun_is_drawn_over_the_previous_run() {
        let tasks = TaskSet::builtin().unwrap();
        let mut ep =
            Episode::reset(tasks.get("task_004").unwrap(), 2, &mut NoSink, &FixedClock).unwrap();
        let before = ep.run().clone();
        let mut callback = ActionRequest::new("add_callback");
        callback.target = Some("early_stopping".into());
        ep.step(&callback, &mut NoSink, &FixedClock);
        ep.step(&ActionRequest::new("restart_run"), &mut NoSink, &FixedClock);
        for width in [40, 80, 200] {
            let text = curves(ep.run(), Some(&before), &Style::plain(width));
            assert!(text.contains("+ previous val loss"), "{text}");
            assert!(
                text.contains('○'),
                "the current val loss is visible:\n{text}"
            );
            insta::assert_snapshot!(format!("curves_rerun_{width}"), text);
        }
        insta::assert_snapshot!(
            "curves_rerun_80_coloured",
            visible(&curves(ep.run(), Some(&before), &Style::coloured(80)))
        );
    }

    #[test]
    fn narrow_and_wide_terminals_fit() {
        let eps = [
            episode("task_001", 42),
            episode("task_006", 0),
            episode("task_003", 1),
            episode("task_001", 1),
        ];
        let tasks = TaskSet::builtin().unwrap();
        for width in [40, 80, 200] {
            for style in [Style::plain(width), Style::coloured(width)] {
                for ep in &eps {
                    let run = ep.run();
                    let rendered = [
                        curves(run, Some(run), &style),
                        gradients(run, &style),
                        weights(run, &style),
                        data(run, &style),
                        modes(run, &style),
                        config(ep, &style),
                        code(ep, &style),
                        grade(&ep.grade(), &style),
                        task_list(&tasks, &|_| None, &style),
                    ];
                    for text in rendered {
                        for line in text.lines() {
                            assert!(layout::width_of(line) <= width, "{width} columns: {line:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn numbers_in_a_column_share_one_notation() {
        assert_eq!(
            column_numbers(&[Some(0.001), Some(0.0009), None]),
            vec!["1.0e-3", "9.0e-4", "NaN"]
        );
        assert_eq!(
            column_numbers(&[Some(0.5), Some(250.0)]),
            vec!["0.500", "250"]
        );
    }
}
