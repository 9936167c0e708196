//! Slips are free: everything the REPL can check on its own copy of the
//! episode (the target, the value's type and range, the label, optimiser,
//! callback, patch, line number and statement, whether the action is
//! available yet) is checked before a step is spent, with "did you mean".
//! Only a request that would be a valid step reaches the engine.

use crate::env::{ActionRequest, Episode};
use crate::sim::config::{ConfigError, TrainConfig};
use crate::sim::program::ProgramError;
use crate::vocab;

/// The candidate closest to `word`, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            // A prefix counts as close: `grad` for `gradient_clipping`.
            let d = if c.starts_with(&word) && word.len() >= 3 {
                1
            } else {
                edit_distance(&word, c)
            };
            (d, c)
        })
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

/// "unknown X 'w'; did you mean 'y'?" or the list of what is known.
fn unknown(what: &str, word: &str, known: &[&str]) -> String {
    match closest(word, known.iter().copied()) {
        Some(s) => format!("unknown {what} '{word}': did you mean '{s}'?"),
        None => format!("unknown {what} '{word}' (known: {})", known.join(", ")),
    }
}

pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = i;
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let (Some(&cur), Some(&left)) = (row.get(j + 1), row.get(j)) else {
                continue;
            };
            let best = (prev + usize::from(ca != *cb)).min(left + 1).min(cur + 1);
            if let Some(slot) = row.get_mut(j + 1) {
                *slot = best;
            }
            prev = cur;
        }
    }
    row.last().copied().unwrap_or(0)
}

/// Every name `set` accepts: canonical targets and their short aliases.
pub fn target_names() -> Vec<&'static str> {
    vocab::CONFIG_TARGETS
        .iter()
        .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
        .collect()
}

/// A statement error in the REPL's words (`fix line`, not the protocol's).
fn program_error(e: &ProgramError) -> String {
    match e {
        ProgramError::Unrecognised { line, text, forms } => format!(
            "line {line}: `{text}` is not a statement `fix line` understands. It understands: {forms}"
        ),
        ProgramError::NoSuchLine { line, count } => {
            format!("there is no line {line}: train.py has lines 1 to {count}")
        }
        ProgramError::LoopHeader { line } => format!(
            "line {line} is a loop or `if` header; `fix line` edits the statements inside the blocks"
        ),
        ProgramError::NewLoop { line } => {
            format!("line {line}: `fix line` writes one statement, not a loop or `if` header")
        }
        ProgramError::Indentation { line } => {
            format!("line {line}: indentation must be a multiple of 4 spaces")
        }
        ProgramError::Structure => {
            "that would leave train.py without its epoch loop around the batch loop".into()
        }
        ProgramError::OutsideBatchLoop { line, text } => format!(
            "line {line}: `{text}` needs the batch `x, y`, which exist only inside `for x, y in train_loader:`"
        ),
        ProgramError::UsedBeforeAssigned {
            line,
            text,
            name,
            assigner,
        } => format!(
            "line {line}: `{text}` would use `{name}` before it is assigned (`{assigner}` must come on an earlier line)"
        ),
    }
}

/// Check `req` against the episode as it stands. `Err` explains the slip in
/// the REPL's words; nothing has been sent and nothing is spent.
pub fn check(req: &ActionRequest, ep: &Episode) -> Result<(), String> {
    if ep.is_done() {
        return Err("this episode is over: `next` or `play <task>` starts another".into());
    }
    let available = ep.available_actions();
    match req.action_type.as_str() {
        "modify_config" => {
            let target = req.target.as_deref().unwrap_or_default();
            if TrainConfig::canonical_target(target).is_none() {
                return Err(format!(
                    "{} (`help set` lists them with their ranges)",
                    unknown("setting", target, &target_names())
                ));
            }
            let Some(value) = &req.value else {
                return Err(format!("set {target} to what? e.g. `set {target} <value>`"));
            };
            if let Err(ConfigError::BadValue {
                target,
                expected,
                got,
            }) = ep.config().clone().set(target, value)
            {
                let words =
                    vocab::config_target(&target).map_or_else(Vec::new, |t| t.range.words());
                let typed = got.trim_matches('\'');
                return Err(match closest(typed, words.iter().copied()) {
                    Some(s) if !words.is_empty() => {
                        format!("{target} must be {expected}, got {got}: did you mean '{s}'?")
                    }
                    _ => format!("{target} must be {expected}, got {got}"),
                });
            }
        }
        "add_callback" => {
            let name = req.target.as_deref().unwrap_or_default();
            if vocab::find(vocab::CALLBACKS, name).is_none() {
                return Err(unknown(
                    "callback",
                    name,
                    &vocab::names(vocab::CALLBACKS).collect::<Vec<_>>(),
                ));
            }
        }
        "replace_optimizer" => {
            let name = match (&req.value, &req.target) {
                (Some(crate::sim::ConfigValue::Text(s)), _) => s.clone(),
                (None, Some(t)) => t.clone(),
                (Some(other), _) => other.to_string(),
                (None, None) => String::new(),
            };
            if vocab::find(vocab::OPTIMIZERS, &name).is_none() {
                return Err(unknown(
                    "optimizer",
                    &name,
                    &vocab::names(vocab::OPTIMIZERS).collect::<Vec<_>>(),
                ));
            }
        }
        "patch_data_loader" => {
            if let Some(name) = &req.target
                && vocab::find(vocab::DATA_PATCHES, name).is_none()
            {
                return Err(unknown(
                    "data patch",
                    name,
                    &vocab::names(vocab::DATA_PATCHES).collect::<Vec<_>>(),
                ));
            }
        }
        "fix_code" => {
            if !available.contains(&"fix_code") {
                return Err(
                    "open train.py first: `inspect code` shows it with its line numbers".into(),
                );
            }
            let count = ep.program().line_count();
            let line = req.line.unwrap_or(0);
            let Some(number) = usize::try_from(line)
                .ok()
                .filter(|n| (1..=count).contains(n))
            else {
                return Err(format!(
                    "there is no line {line}: train.py has lines 1 to {count}"
                ));
            };
            let Some(code) = req.replacement.as_deref().filter(|c| !c.trim().is_empty()) else {
                return Err(format!(
                    "fix line {number} needs the new code after the number (Tab offers the line as it is)"
                ));
            };
            if let Err(e) = ep.program().clone().replace_line(number, code) {
                return Err(program_error(&e));
            }
        }
        "restart_run" if !available.contains(&"restart_run") => {
            return Err(
                "nothing has changed since the last run: change something first \
                 (set, callback, optimizer, patch data, fix modes or fix line)"
                    .into(),
            );
        }
        "mark_diagnosed" => {
            let label = req.diagnosis.as_deref().unwrap_or_default().trim();
            if !vocab::is_diagnosis(label) {
                return Err(format!(
                    "{} (`help diagnose` lists the labels)",
                    unknown("diagnosis", label, &vocab::DIAGNOSES)
                ));
            }
        }
        _ => {}
    }
    // Whatever the REPL does not know how to say better, the engine's own
    // interpretation catches (a hand-typed JSON action, say).
    crate::env::action::Action::interpret(req).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{FixedClock, NoSink};
    use crate::repl::command::{Command, parse};
    use crate::task::TaskSet;

    fn episode() -> Episode {
        let task = TaskSet::builtin().unwrap().get("task_001").unwrap();
        Episode::reset(task, 3, &mut NoSink, &FixedClock).unwrap()
    }

    fn slip(ep: &Episode, line: &str) -> String {
        match parse(line) {
            Ok(Some(Command::Action(req))) => check(&req, ep).unwrap_err(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn every_slip_of_the_issue_is_caught_with_a_suggestion() {
        let mut ep = episode();
        assert_eq!(
            slip(&ep, "set lr abc"),
            "learning_rate must be a number in [1e-6, 10], got 'abc'"
        );
        assert_eq!(
            slip(&ep, "set lr 50"),
            "learning_rate must be a number in [1e-6, 10], got 50"
        );
        assert!(slip(&ep, "set learnin_rate 0.1").contains("did you mean 'learning_rate'?"));
        assert!(slip(&ep, "set weight_init xavir").contains("did you mean 'xavier'?"));
        assert!(slip(&ep, "diagnose foo").starts_with("unknown diagnosis 'foo' (known: "));
        assert!(slip(&ep, "diagnose lr_to_high").contains("did you mean 'lr_too_high'?"));
        assert_eq!(
            slip(&ep, "optimizer rmsprop"),
            "unknown optimizer 'rmsprop' (known: sgd, adam)"
        );
        assert!(slip(&ep, "callback early_stoping").contains("did you mean 'early_stopping'?"));
        assert!(slip(&ep, "patch data normalise_features").contains("normalize_features"));
        assert!(slip(&ep, "restart").starts_with("nothing has changed"));
        assert!(slip(&ep, "fix line 12 foo bar baz").starts_with("open train.py first"));
        ep.step(
            &ActionRequest::new("inspect_code"),
            &mut NoSink,
            &FixedClock,
        );
        assert!(slip(&ep, "fix line 12 foo bar baz").contains("is not a statement"));
        assert!(slip(&ep, "fix line 99 pass").contains("train.py has lines 1 to"));
        assert!(slip(&ep, "fix line 11 pass").contains("loop or `if` header"));
        assert_eq!(ep.step_count(), 1, "no slip reached the engine");
    }

    #[test]
    fn valid_requests_pass() {
        let ep = episode();
        for line in [
            "set lr 1e-3",
            "set init xavier",
            "set bn true",
            "callback gradient_clipping",
            "optimizer adam",
            "patch data",
            "diagnose lr_too_high",
            "inspect gradients",
        ] {
            let Ok(Some(Command::Action(req))) = parse(line) else {
                panic!("{line}")
            };
            assert_eq!(check(&req, &ep), Ok(()), "{line}");
        }
    }

    #[test]
    fn suggestions_need_to_be_close() {
        assert_eq!(closest("zzzzzz", ["inspect"]), None);
        assert_eq!(
            closest("grad", ["gradient_clipping", "lr_warmup"]),
            Some("gradient_clipping")
        );
        assert!(target_names().contains(&"lr"));
    }
}
