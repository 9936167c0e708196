//! The compact plain-text view of an observation, for language models (the
//! protocol's `render` request with `"format":"text"`). It carries what a
//! player needs to decide the next step — the curves as short numeric series,
//! the config, the notes, the result of the last inspection as a plain table,
//! what is available — in a fraction of the JSON's bytes: numbers at 3–4
//! significant figures, no box drawing, no colour, nothing inspected earlier
//! repeated (the client saw it in an earlier turn).

use crate::env::Observation;
use crate::env::observation::{GradientStatsView, WeightStatsView};
use crate::rounding::format_significant;
use serde_json::Value;
use std::fmt::Write;

/// Significant figures of curves and scalar statistics.
const DIGITS: usize = 4;
/// Significant figures of long per-epoch series inside tables.
const SERIES_DIGITS: usize = 3;

/// Where the episode stands: what the observation itself does not say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub total_reward: f64,
    pub done: bool,
    /// The episode score, once it is done.
    pub score: Option<f64>,
}

/// The text view of `obs`. Lines end with `\n`.
pub fn render(obs: &Observation<'_>, progress: Progress) -> String {
    let mut out = String::new();
    let state = &obs.episode_state;
    // Writing into a String cannot fail; the results are ignored below.
    let _ = writeln!(
        out,
        "{} · run {} · step {}/{} · total reward {}",
        obs.task_id,
        obs.run_id,
        state.step_count,
        obs.max_steps,
        format_significant(progress.total_reward, DIGITS)
    );
    let _ = writeln!(
        out,
        "run {}, {}/{} epochs · lr {} · gpu {}/{} GB",
        obs.run_status,
        obs.epochs_completed,
        obs.epoch,
        format_significant(obs.learning_rate, DIGITS),
        format_significant(obs.gpu_memory_used_gb, DIGITS),
        format_significant(obs.gpu_memory_total_gb, DIGITS),
    );
    let _ = writeln!(
        out,
        "train_loss: {}",
        series(obs.training_loss_history, DIGITS)
    );
    let _ = writeln!(out, "val_loss: {}", series(obs.val_loss_history, DIGITS));
    let _ = writeln!(
        out,
        "val_accuracy: {}",
        series(obs.val_accuracy_history, DIGITS)
    );
    // A rate that changed during the run (a schedule, warmup) is part of its story.
    let rates: Vec<f64> = obs
        .learning_rate_history
        .iter()
        .flatten()
        .copied()
        .collect();
    if rates.windows(2).any(|w| w[0] != w[1]) {
        let _ = writeln!(
            out,
            "learning_rate: {}",
            series(obs.learning_rate_history, DIGITS)
        );
    }
    let _ = writeln!(out, "config: {}", inline_object(obs.current_config));
    if let Some(log) = obs.error_log {
        let _ = writeln!(out, "error_log: {}", log.trim_end());
    }
    let _ = writeln!(out, "notes: {}", obs.notes.trim_end());
    let last = state.actions_taken.last().map(String::as_str);
    match last {
        Some("inspect_gradients") => gradients(&mut out, obs.gradient_stats),
        Some("inspect_model_weights") => weights(&mut out, obs.model_weight_stats),
        Some("inspect_data_batch") => {
            if let Some(stats) = obs.data_batch_stats {
                data_batch(
                    &mut out,
                    &serde_json::to_value(stats).unwrap_or(Value::Null),
                );
            }
        }
        Some("inspect_model_modes") => {
            let modes: Vec<String> = obs
                .model_mode_info
                .0
                .iter()
                .map(|(module, mode)| format!("{module}={mode}"))
                .collect();
            let _ = writeln!(out, "model modes during training: {}", modes.join(" "));
        }
        Some("inspect_code") => {
            if let Some(code) = obs.code_snippet {
                let _ = writeln!(out, "{} ({} lines):", code.filename, code.line_count);
                for (n, line) in code.code.lines().enumerate() {
                    let _ = writeln!(out, "{:>2} {line}", n + 1);
                }
            }
        }
        _ => {}
    }
    let _ = writeln!(out, "message: {}", obs.message.trim_end());
    if progress.done {
        let score = progress
            .score
            .map(|s| format_significant(s, DIGITS))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(out, "episode over · score {score}");
    } else {
        let _ = writeln!(out, "available: {}", obs.available_actions.join(" "));
    }
    out
}

/// Space-separated numbers; `-` where a value is missing (not finite, or the
/// epoch did not run).
fn series(values: &[Option<f64>], digits: usize) -> String {
    values
        .iter()
        .map(|v| v.map_or_else(|| "-".to_string(), |v| format_significant(v, digits)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn maybe(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format_significant(v, digits))
}

/// A JSON value as compact text: numbers at [`DIGITS`], strings bare, arrays
/// space-separated in brackets.
fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (None, Some(i), _) => i.to_string(),
            (None, None, Some(f)) => format_significant(f, DIGITS),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(scalar).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(_) => inline_object(value),
    }
}

/// `key=value key=value`.
fn inline_object(value: &Value) -> String {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", scalar(v)))
            .collect::<Vec<_>>()
            .join(" "),
        other => scalar(other),
    }
}

/// Left-aligned columns separated by two spaces; no rules, no box drawing.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let _ = write!(text, "{cell:<w$}");
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}

fn gradients(out: &mut String, stats: &[GradientStatsView]) {
    let _ = writeln!(
        out,
        "gradients ({} layers; history = norm per epoch):",
        stats.len()
    );
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|g| {
            let status = match (g.is_exploding, g.is_vanishing) {
                (true, _) => "exploding",
                (_, true) => "vanishing",
                _ => "ok",
            };
            vec![
                g.layer_name.clone(),
                maybe(g.mean_norm, SERIES_DIGITS),
                maybe(g.max_norm, SERIES_DIGITS),
                status.to_string(),
                series(&g.norm_history, SERIES_DIGITS - 1),
            ]
        })
        .collect();
    table(
        out,
        &["layer", "mean_norm", "max_norm", "status", "history"],
        &rows,
    );
}

fn weights(out: &mut String, stats: &[WeightStatsView]) {
    let _ = writeln!(out, "weights ({} layers):", stats.len());
    let flag = |b: bool| if b { "yes" } else { "no" }.to_string();
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|w| {
            vec![
                w.layer_name.clone(),
                maybe(w.norm, SERIES_DIGITS),
                maybe(w.mean, SERIES_DIGITS),
                maybe(w.std, SERIES_DIGITS),
                maybe(w.min, SERIES_DIGITS),
                maybe(w.max, SERIES_DIGITS),
                format_significant(w.dead_neuron_pct, SERIES_DIGITS),
                flag(w.has_nan),
                flag(w.has_inf),
            ]
        })
        .collect();
    table(
        out,
        &[
            "layer", "norm", "mean", "std", "min", "max", "dead%", "nan", "inf",
        ],
        &rows,
    );
}

/// The data statistics: scalars on one line, number lists as series, and a
/// matrix (the confusion matrix) as rows.
fn data_batch(out: &mut String, stats: &Value) {
    let Value::Object(map) = stats else {
        return;
    };
    let mut scalars = Vec::new();
    let mut rest = String::new();
    for (key, value) in map {
        match value {
            Value::Array(rows) if rows.iter().all(Value::is_array) => {
                let _ = writeln!(rest, "{key} (rows true class, columns predicted):");
                for row in rows {
                    let _ = writeln!(rest, "{}", scalar(row).trim_matches(['[', ']']));
                }
            }
            Value::Array(_) => {
                let _ = writeln!(rest, "{key}: {}", scalar(value).trim_matches(['[', ']']));
            }
            _ => scalars.push(format!("{key}={}", scalar(value))),
        }
    }
    let _ = writeln!(out, "data batch: {}", scalars.join(" "));
    out.push_str(&rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_mark_missing_values() {
        assert_eq!(series(&[Some(1.7556), None, Some(0.25)], 4), "1.756 - 0.25");
    }

    #[test]
    fn tables_align_without_box_drawing() {
        let mut out = String::new();
        table(
            &mut out,
            &["layer", "norm"],
            &[
                vec!["fc1".into(), "1.5".into()],
                vec!["fc10".into(), "22".into()],
            ],
        );
        assert_eq!(out, "layer  norm\nfc1    1.5\nfc10   22\n");
    }

    #[test]
    fn a_confusion_matrix_renders_as_rows() {
        let mut out = String::new();
        data_batch(
            &mut out,
            &serde_json::json!({"batch_size": 32, "feature_mean": 8.043088953486807,
                "label_distribution": [64, 64], "confusion_matrix": [[17, 3], [4, 20]]}),
        );
        assert_eq!(
            out,
            "data batch: batch_size=32 feature_mean=8.043\n\
             confusion_matrix (rows true class, columns predicted):\n17 3\n4 20\n\
             label_distribution: 64 64\n"
        );
    }
}
