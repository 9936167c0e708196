//! What a step did, said in the REPL's own words (`restart`, `fix line`,
//! `diagnose`) from structured data: the request that was sent, the episode
//! before and after, and the step's verdict. The engine's prose is never
//! shown or rewritten here, so `--serve` keeps the protocol's names and the
//! game speaks its own.

use super::render::{Style, Tone, column_numbers};
use crate::env::observation::RunView;
use crate::env::{ActionRequest, Episode};
use crate::sim::TrainConfig;
use crate::sim::program::Program;
use crate::vocab;
use serde_json::Value;

/// The parts of the episode a step may change, taken before it.
pub struct Before {
    pub config: TrainConfig,
    pub program: Program,
}

impl Before {
    pub fn of(ep: &Episode) -> Self {
        Before {
            config: ep.config().clone(),
            program: ep.program().clone(),
        }
    }
}

/// A config value as the config table shows it.
fn config_value(config: &TrainConfig, target: &str) -> String {
    match serde_json::to_value(config)
        .ok()
        .and_then(|v| v.get(target).cloned())
    {
        Some(Value::String(s)) => s,
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
        None => "?".into(),
    }
}

/// Code compared as Python reads it: spacing does not matter.
fn squashed(code: &str) -> String {
    code.split('#')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The last value of a history among the epochs that ran, if finite.
fn last(history: &[Option<f64>], ran: usize) -> Option<f64> {
    ran.checked_sub(1)
        .and_then(|i| history.get(i).copied().flatten())
}

/// One sentence on how the run went: completed, stopped or failed, with its
/// last numbers.
pub fn run_summary(run: &RunView, stopped_by_player: bool, config: &TrainConfig) -> String {
    let ran = run.epochs_completed;
    let numbers = column_numbers(&[
        last(&run.training_loss_history, ran),
        last(&run.val_loss_history, ran),
        last(&run.val_accuracy_history, ran),
    ]);
    let figures = format!(
        "train loss {}, val loss {}, val accuracy {}",
        numbers.first().map_or("NaN", String::as_str),
        numbers.get(1).map_or("NaN", String::as_str),
        numbers.get(2).map_or("NaN", String::as_str),
    );
    let epochs = if ran == 1 { "epoch" } else { "epochs" };
    let summary = match run.status {
        "failed" => {
            let how = run
                .failure
                .as_deref()
                .and_then(|f| f.lines().next())
                .unwrap_or("the loss became NaN or infinite");
            format!("The run failed in epoch {ran}: {how}.")
        }
        "stopped" if stopped_by_player => {
            format!("You stopped the run after epoch {ran}: {figures}.")
        }
        "stopped" => {
            let why = if config
                .callbacks
                .contains(&crate::sim::config::Callback::EarlyStopping)
            {
                " (early stopping)"
            } else {
                ""
            };
            format!("The run stopped after epoch {ran}{why}: {figures}.")
        }
        _ => format!("The run completed {ran} {epochs}: {figures}."),
    };
    match rate_change(&run.learning_rate_history, ran) {
        Some(change) => format!("{summary} {change}"),
        None => summary,
    }
}

/// How the learning rate moved during the run, when a schedule or warmup moved it.
fn rate_change(history: &[Option<f64>], ran: usize) -> Option<String> {
    let rates: Vec<f64> = history.iter().take(ran).flatten().copied().collect();
    let (first, last) = (rates.first()?, rates.last()?);
    if rates.windows(2).all(|w| w[0] == w[1]) {
        return None;
    }
    let figures = column_numbers(&[Some(*first), Some(*last)]);
    Some(format!(
        "The learning rate went from {} in epoch 1 to {} in epoch {}.",
        figures.first().map_or("?", String::as_str),
        figures.get(1).map_or("?", String::as_str),
        rates.len()
    ))
}

/// The recovery verdict of a restart: a heading and one line per check.
pub fn verdict(verdict: &Value, style: &Style) -> Vec<String> {
    let recovered = verdict["recovered"].as_bool().unwrap_or(false);
    let mut lines = vec![if recovered {
        style.good("The run recovered:")
    } else {
        style.warn("The run has not recovered:")
    }];
    for check in verdict["checks"].as_array().into_iter().flatten() {
        let text = check.as_str().unwrap_or_default();
        let line = if let Some(rest) = text.strip_prefix("ok:") {
            format!("  {} {}", style.good("✓"), rest.trim())
        } else if let Some(rest) = text.strip_prefix("not met:") {
            format!("  {} {}", style.bad("✗"), rest.trim())
        } else {
            format!("  · {text}")
        };
        lines.push(style.wrap(&line, "    "));
    }
    lines
}

const RESTART_HINT: &str = "`restart` trains with it.";

/// What the step did, in sentences. `verdict` is the step's `info.verdict`.
pub fn describe(
    req: &ActionRequest,
    before: &Before,
    ep: &Episode,
    verdict_value: Option<&Value>,
    stopped_by_player: bool,
    style: &Style,
) -> Vec<String> {
    let run = ep.run();
    let hint = style.accent(RESTART_HINT);
    match req.action_type.as_str() {
        "inspect_gradients" => {
            let named = |pick: fn(&crate::env::observation::GradientStatsView) -> bool| {
                run.gradient_stats
                    .iter()
                    .filter(|g| pick(g))
                    .map(|g| g.layer_name.as_str())
                    .collect::<Vec<_>>()
            };
            let exploding = named(|g| g.is_exploding);
            let vanishing = named(|g| g.is_vanishing);
            let mut parts = Vec::new();
            if !exploding.is_empty() {
                parts.push(format!("Exploding: {}.", exploding.join(", ")));
            }
            if !vanishing.is_empty() {
                parts.push(format!("Vanishing: {}.", vanishing.join(", ")));
            }
            if parts.is_empty() {
                parts.push("No layer is exploding or vanishing.".into());
            }
            vec![parts.join(" ")]
        }
        "inspect_model_modes" => {
            let eval = run.modes.iter().filter(|(_, m)| *m == "eval").count();
            vec![format!(
                "{eval} of {} modules were in eval mode during training steps.",
                run.modes.len()
            )]
        }
        "inspect_code" => vec![format!(
            "train.py has {} lines. {} replaces one (Tab after the number offers the line as it is).",
            ep.program().line_count(),
            style.accent("fix line <n> <code>")
        )],
        "modify_config" => {
            let target = req
                .target
                .as_deref()
                .and_then(TrainConfig::canonical_target)
                .unwrap_or_default();
            let was = config_value(&before.config, target);
            let now = config_value(ep.config(), target);
            if was == now {
                vec![format!("{target} was already {now}. {hint}")]
            } else {
                vec![format!("Set {target} = {now} (was {was}). {hint}")]
            }
        }
        "add_callback" => {
            let term = req
                .target
                .as_deref()
                .and_then(|n| vocab::find(vocab::CALLBACKS, n));
            let name = term.map_or("?", |t| t.name);
            let new = config_value(&before.config, "callbacks") != config_value(ep.config(), "callbacks");
            if new {
                let what = term.map_or("", |t| t.definition);
                vec![format!("Attached {name}: {what}. {hint}")]
            } else {
                vec![format!("{name} was already attached. {hint}")]
            }
        }
        "replace_optimizer" => vec![format!(
            "The optimiser is now {} (learning rate {}). {hint}",
            config_value(ep.config(), "optimizer"),
            config_value(ep.config(), "learning_rate")
        )],
        "patch_data_loader" => {
            let term = match req.target.as_deref() {
                Some(name) => vocab::find(vocab::DATA_PATCHES, name),
                None => vocab::DATA_PATCHES.first(),
            };
            vec![match term {
                Some(t) => format!("The data loader will {}. {hint}", t.definition),
                None => format!("Patched the data loader. {hint}"),
            }]
        }
        "fix_model_mode" => {
            let changed = first_change(&before.program, ep.program());
            vec![format!(
                "train.py line {changed} now calls model.train() at the start of every epoch. {hint}"
            )]
        }
        "fix_code" => {
            let n = req.line.and_then(|l| usize::try_from(l).ok()).unwrap_or(0);
            let now = n
                .checked_sub(1)
                .and_then(|i| ep.program().lines.get(i))
                .map(|l| l.render().trim().to_string())
                .unwrap_or_default();
            let typed = req.replacement.as_deref().unwrap_or_default().trim();
            let mut text = format!("Line {n} is now `{now}`.");
            if squashed(typed) != squashed(&now) {
                text.push_str(&format!(
                    " You typed `{typed}`, which does the same here, so train.py shows it in its usual form."
                ));
            }
            vec![format!("{text} {hint}")]
        }
        "restart_run" => {
            let mut lines = vec![run_summary(run, stopped_by_player, ep.config())];
            if stopped_by_player {
                lines.push(style.warn(
                    "Your change is still waiting for a full run: `restart` again to train with it.",
                ));
            }
            if let Some(v) = verdict_value {
                lines.extend(verdict(v, style));
            }
            lines
        }
        "mark_diagnosed" => {
            let label = req.diagnosis.as_deref().unwrap_or_default().trim();
            let root = &ep.task().file.root_cause;
            if label == root {
                vec![style.good(&format!("Diagnosis '{label}' is right."))]
            } else {
                vec![style.bad(&format!(
                    "Diagnosis '{label}' is wrong: the root cause was '{root}'."
                ))]
            }
        }
        _ => Vec::new(),
    }
    .into_iter()
    .map(|line| {
        if line.contains('\n') {
            line
        } else {
            style.wrap(&line, "")
        }
    })
    .collect()
}

/// The 1-based number of the first line that differs (the last line when
/// only a line was appended).
fn first_change(before: &Program, after: &Program) -> usize {
    before
        .lines
        .iter()
        .zip(&after.lines)
        .position(|(a, b)| a != b)
        .map_or(after.lines.len(), |i| i + 1)
}

/// Tone for a reward: green when it helped, red when it cost more than a step.
pub fn reward_tone(reward: f64) -> Tone {
    if reward > 0.0 {
        Tone::Good
    } else if reward < -0.02 {
        Tone::Bad
    } else {
        Tone::Dim
    }
}
