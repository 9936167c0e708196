//! `help`: every command on one screen, and each command in detail with its
//! vocabulary (targets with ranges and current values, labels, callbacks,
//! patches and optimisers with their definitions), all read from the
//! vocabulary table and fitted to the terminal.

use super::command;
use super::render::layout::{Grid, Kind, width_of};
use super::render::{Style, Tone};
use crate::env::Episode;
use crate::vocab::{self, Term};

/// Every command: usage and what it does, two columns when there is room.
pub fn overview(style: &Style) -> String {
    let entries = command::help();
    let column = entries
        .iter()
        .map(|(usage, _)| width_of(usage))
        .max()
        .unwrap_or(0)
        .min(26);
    let two_columns = style.width >= column + 34;
    let mut lines = vec![style.strong("Commands")];
    for (usage, what) in &entries {
        if two_columns && width_of(usage) <= column {
            let pad = " ".repeat(column - width_of(usage));
            let line = format!("  {}{pad}  {what}", style.accent(usage));
            lines.push(style.wrap(&line, &" ".repeat(column + 4)));
        } else {
            lines.push(format!("  {}", style.accent(usage)));
            lines.push(style.wrap(&format!("      {what}"), "      "));
        }
    }
    lines.push(style.wrap(
        &format!(
            "Tab completes commands, targets, values and labels (twice lists them). {} shows a command in detail.",
            style.accent("help <command>")
        ),
        "",
    ));
    lines.join("\n")
}

/// A table of terms and their definitions.
fn terms(heading: &str, terms: &[Term], style: &Style) -> String {
    let mut grid = Grid::new(&[(heading, Kind::Token), ("what it means", Kind::Text(20))]);
    for t in terms {
        let name = if t.aliases.is_empty() {
            t.name.to_string()
        } else {
            format!("{} ({})", t.name, t.aliases.join(", "))
        };
        grid.row(vec![
            (name, Tone::Accent),
            (t.definition.to_string(), Tone::Plain),
        ]);
    }
    grid.render(style)
}

/// The config targets: name and aliases, what each accepts, and its value now.
fn targets(episode: Option<&Episode>, style: &Style) -> String {
    let now = episode.and_then(|ep| serde_json::to_value(ep.config()).ok());
    let mut headers = vec![("target", Kind::Token), ("accepts", Kind::Text(16))];
    if now.is_some() {
        headers.push(("now", Kind::Token));
    }
    let mut grid = Grid::new(&headers);
    for t in vocab::CONFIG_TARGETS {
        let name = if t.aliases.is_empty() {
            t.name.to_string()
        } else {
            format!("{} ({})", t.name, t.aliases.join(", "))
        };
        let mut row = vec![(name, Tone::Accent), (t.expected(), Tone::Plain)];
        if let Some(config) = &now {
            let value = match config.get(t.name) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            row.push((value, Tone::Plain));
        }
        grid.row(row);
    }
    grid.render(style)
}

/// One command in detail, or `None` when `topic` names no command.
pub fn topic(topic: &str, episode: Option<&Episode>, style: &Style) -> Option<String> {
    let mut words = topic.split_whitespace();
    let head = words.next().unwrap_or_default();
    let head = match head {
        "optim" => "optimizer",
        "i" => "inspect",
        "labels" | "label" => "diagnose",
        "callbacks" => "callback",
        other => other,
    };
    let usage: Vec<String> = command::help()
        .into_iter()
        .filter(|(usage, _)| usage.split_whitespace().next() == Some(head))
        .map(|(usage, what)| style.wrap(&format!("{}  {what}", style.accent(&usage)), "    "))
        .collect();
    if usage.is_empty() {
        return None;
    }
    let mut out = usage;
    match head {
        "set" => match words.next().and_then(vocab::config_target) {
            Some(t) => {
                let accepts = format!("{} accepts {}.", style.accent(t.name), t.expected());
                out.push(style.wrap(&accepts, "  "));
                if let vocab::Range::Choice(choices) = t.range {
                    out.push(terms("value", choices, style));
                }
            }
            None => out.push(targets(episode, style)),
        },
        "diagnose" => out.push(terms("label", vocab::LABELS, style)),
        "callback" => out.push(terms("callback", vocab::CALLBACKS, style)),
        "patch" => out.push(terms("patch", vocab::DATA_PATCHES, style)),
        "optimizer" => out.push(terms("optimizer", vocab::OPTIMIZERS, style)),
        _ => {}
    }
    Some(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{FixedClock, NoSink};
    use crate::task::TaskSet;

    #[test]
    fn help_fits_every_width() {
        let task = TaskSet::builtin().unwrap().get("task_002").unwrap();
        let ep = Episode::reset(task, 1, &mut NoSink, &FixedClock).unwrap();
        for width in [40, 80, 100, 200] {
            for style in [Style::plain(width), Style::coloured(width)] {
                let mut texts = vec![overview(&style)];
                for t in [
                    "set",
                    "set init",
                    "diagnose",
                    "callback",
                    "patch",
                    "optimizer",
                    "fix",
                ] {
                    texts.push(topic(t, Some(&ep), &style).unwrap());
                }
                for text in texts {
                    for line in text.lines() {
                        assert!(width_of(line) <= width, "{width}: {line:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn help_set_shows_ranges_and_current_values() {
        let task = TaskSet::builtin().unwrap().get("task_001").unwrap();
        let ep = Episode::reset(task, 1, &mut NoSink, &FixedClock).unwrap();
        let text = topic("set", Some(&ep), &Style::plain(100)).unwrap();
        assert!(text.contains("learning_rate (lr)"), "{text}");
        assert!(text.contains("a number in [1e-6, 10]"), "{text}");
        assert!(text.contains("0.3"), "the current rate:\n{text}");
        let labels = topic("diagnose", None, &Style::plain(200)).unwrap();
        assert!(labels.contains("batchnorm_eval_mode"), "{labels}");
        assert!(labels.contains("frozen running statistics"), "{labels}");
        assert_eq!(topic("frobnicate", None, &Style::plain(80)), None);
    }
}
