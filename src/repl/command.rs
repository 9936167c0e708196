//! The REPL's command language: short human syntax for every action of the
//! vocabulary, plus the game's own commands. Parsing is pure; a command that
//! is not understood costs nothing and gets a suggestion.

use crate::env::ActionRequest;
use crate::sim::ConfigValue;
use crate::vocab;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Action(ActionRequest),
    Help(Option<String>),
    Status,
    Curves,
    Config,
    Code,
    Actions,
    Tasks,
    Grade,
    Play { task: String, seed: Option<u64> },
    Next,
    Quit,
}

/// Every command word, for completion and suggestions.
pub const WORDS: [&str; 21] = [
    "inspect",
    "set",
    "callback",
    "optimizer",
    "patch",
    "fix",
    "restart",
    "diagnose",
    "help",
    "status",
    "curves",
    "config",
    "code",
    "actions",
    "tasks",
    "grade",
    "play",
    "next",
    "quit",
    "exit",
    "hint",
];

/// The word typed after `inspect` for each inspection, and its action type.
pub fn inspect_targets() -> impl Iterator<Item = (&'static str, &'static str)> {
    vocab::ACTIONS
        .iter()
        .filter(|a| a.role == vocab::Role::Inspection && !a.short.is_empty())
        .map(|a| (a.short, a.name))
}

fn alternatives(words: impl Iterator<Item = &'static str>) -> String {
    words.collect::<Vec<_>>().join("|")
}

/// One line of help per command: (usage, what it does). Word lists live in
/// `help <command>`, read from the vocabulary table.
pub fn help() -> Vec<(String, &'static str)> {
    let fixed = |usage: &str, what: &'static str| (usage.to_string(), what);
    vec![
        fixed(
            "inspect <what>",
            "look at gradients, data, modes, weights or code (the first look at each earns +0.05)",
        ),
        fixed(
            "set <target> <value>",
            "change a hyper-parameter, e.g. `set lr 1e-3` (`help set`: targets, ranges, current values)",
        ),
        fixed(
            "callback <name>",
            "attach a training callback (`help callback` lists them)",
        ),
        fixed(
            "optimizer <name>",
            "replace the optimiser (`help optimizer` lists them)",
        ),
        fixed(
            "patch data [<patch>]",
            "patch the data loader (`help patch` lists the patches)",
        ),
        fixed(
            "fix modes",
            "call model.train() at the start of every epoch",
        ),
        fixed(
            "fix line <n> <code>",
            "replace line n of train.py, e.g. `fix line 14 optimizer.zero_grad()`",
        ),
        fixed(
            "restart",
            "re-train with your changes (+0.40 if it really recovers)",
        ),
        fixed(
            "diagnose <label>",
            "name the root cause and end the episode (`help diagnose` lists the labels)",
        ),
        fixed(
            "status",
            "where the episode stands: steps, reward, score so far",
        ),
        fixed("curves", "draw the loss and accuracy curves again"),
        fixed("config", "show the current hyper-parameters"),
        fixed("code", "show train.py (after `inspect code`)"),
        fixed("actions", "list what you can do now"),
        fixed("tasks", "list the tasks by category, with your best scores"),
        fixed(
            "play <task> [seed]",
            "start a task, e.g. `play task_003 7`; `play mystery` hides which",
        ),
        fixed("next", "start the next unsolved task"),
        fixed("grade", "the score breakdown so far"),
        fixed("help [command]", "this list, or one command in detail"),
        fixed("quit", "leave (Ctrl-D works too)"),
    ]
}

fn action(kind: &str) -> ActionRequest {
    ActionRequest::new(kind)
}

/// A config value as typed: number when it parses, bool for true/false, else text.
fn value(word: &str) -> ConfigValue {
    if let Ok(n) = word.parse::<f64>() {
        return ConfigValue::Number(n);
    }
    match word {
        "true" | "on" => ConfigValue::Bool(true),
        "false" | "off" => ConfigValue::Bool(false),
        _ => ConfigValue::Text(word.to_string()),
    }
}

/// Parse one line. `Ok(None)` for a blank line; `Err` is a one-line explanation.
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    if line.starts_with('{') {
        return serde_json::from_str::<ActionRequest>(line)
            .map(|req| Some(Command::Action(req)))
            .map_err(|e| format!("not a valid action object: {e}"));
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let (head, rest) = (words[0].to_ascii_lowercase(), &words[1..]);
    let arg = |i: usize| rest.get(i).copied();
    let command = match head.as_str() {
        "inspect" | "i" => {
            let nouns = || {
                inspect_targets()
                    .map(|(w, _)| w)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let what = arg(0).ok_or_else(|| format!("inspect what? {}", nouns()))?;
            let kind = inspect_targets()
                .find(|(name, _)| name.starts_with(&what.to_ascii_lowercase()) && what.len() >= 2)
                .map(|(_, kind)| kind)
                .ok_or_else(|| format!("cannot inspect '{what}': try {}", nouns()))?;
            Command::Action(action(kind))
        }
        "set" => {
            let (Some(target), Some(v)) = (arg(0), arg(1)) else {
                return Err("usage: set <target> <value>, e.g. `set lr 1e-3`".into());
            };
            let mut a = action("modify_config");
            a.target = Some(target.to_string());
            a.value = Some(value(v));
            Command::Action(a)
        }
        "callback" => {
            let name = arg(0).ok_or_else(|| {
                format!(
                    "usage: callback {}",
                    alternatives(vocab::names(vocab::CALLBACKS))
                )
            })?;
            let mut a = action("add_callback");
            a.target = Some(name.to_string());
            Command::Action(a)
        }
        "optimizer" | "optim" => {
            let name = arg(0).ok_or_else(|| {
                format!(
                    "usage: optimizer {}",
                    alternatives(vocab::names(vocab::OPTIMIZERS))
                )
            })?;
            let mut a = action("replace_optimizer");
            a.value = Some(ConfigValue::Text(name.to_string()));
            Command::Action(a)
        }
        "patch" => {
            let mut a = action("patch_data_loader");
            a.target = match (arg(0), arg(1)) {
                (Some("data"), target) => target.map(str::to_string),
                (Some(target), _) => Some(target.to_string()),
                (None, _) => None,
            };
            Command::Action(a)
        }
        "fix" => match arg(0) {
            Some("modes" | "mode") => Command::Action(action("fix_model_mode")),
            Some("line") => {
                let number = arg(1).and_then(|n| n.parse::<u64>().ok()).ok_or(
                    "usage: fix line <n> <code>, e.g. `fix line 14 optimizer.zero_grad()`",
                )?;
                // Everything after the number, spacing kept as typed.
                let after = line
                    .splitn(4, char::is_whitespace)
                    .nth(3)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or("fix line needs the new code after the number (Tab there offers the line as it is)")?;
                let mut a = action("fix_code");
                a.line = Some(number);
                a.replacement = Some(after.to_string());
                Command::Action(a)
            }
            _ => return Err("usage: fix modes | fix line <n> <code>".into()),
        },
        "restart" | "rerun" => Command::Action(action("restart_run")),
        "diagnose" => {
            let label = arg(0).ok_or("usage: diagnose <label> (press Tab for the labels)")?;
            let mut a = action("mark_diagnosed");
            a.diagnosis = Some(label.to_string());
            Command::Action(a)
        }
        "help" | "?" | "hint" => {
            Command::Help((!rest.is_empty()).then(|| rest.join(" ").to_ascii_lowercase()))
        }
        "status" => Command::Status,
        "curves" | "plot" => Command::Curves,
        "config" => Command::Config,
        "code" => Command::Code,
        "actions" => Command::Actions,
        "tasks" => Command::Tasks,
        "grade" | "score" => Command::Grade,
        "next" => Command::Next,
        "play" => {
            let task = arg(0).ok_or("usage: play <task> [seed], e.g. `play task_001`")?;
            let seed = match arg(1) {
                Some(s) => Some(
                    s.parse::<u64>()
                        .map_err(|_| format!("seed must be a whole number, got '{s}'"))?,
                ),
                None => None,
            };
            Command::Play {
                task: task.to_string(),
                seed,
            }
        }
        "quit" | "exit" | "q" => Command::Quit,
        other => {
            return Err(match suggest(other) {
                Some(s) => {
                    format!("unknown command '{other}'; did you mean '{s}'? (help lists them all)")
                }
                None => format!("unknown command '{other}' (help lists them all)"),
            });
        }
    };
    Ok(Some(command))
}

/// The closest command word, if it is close enough to be a typo.
pub fn suggest(word: &str) -> Option<&'static str> {
    super::check::closest(word, WORDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(line: &str) -> ActionRequest {
        match parse(line) {
            Ok(Some(Command::Action(a))) => a,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn human_syntax_maps_to_actions() {
        assert_eq!(act("inspect gradients").action_type, "inspect_gradients");
        assert_eq!(act("i gr").action_type, "inspect_gradients");
        let set = act("set lr 1e-3");
        assert_eq!(
            (set.target.as_deref(), set.value),
            (Some("lr"), Some(ConfigValue::Number(1e-3)))
        );
        assert_eq!(act("set bn true").value, Some(ConfigValue::Bool(true)));
        assert_eq!(
            act("callback early_stopping").target.as_deref(),
            Some("early_stopping")
        );
        assert_eq!(
            act("optimizer adam").value,
            Some(ConfigValue::Text("adam".into()))
        );
        assert_eq!(act("patch data").target, None);
        assert_eq!(
            act("patch data normalize_features").target.as_deref(),
            Some("normalize_features")
        );
        assert_eq!(act("fix modes").action_type, "fix_model_mode");
        let fix = act("fix line 11 loss = criterion(output, y)");
        assert_eq!(
            (fix.line, fix.replacement.as_deref()),
            (Some(11), Some("loss = criterion(output, y)"))
        );
        assert_eq!(act("restart").action_type, "restart_run");
        assert_eq!(
            act("diagnose lr_too_high").diagnosis.as_deref(),
            Some("lr_too_high")
        );
        assert_eq!(
            act(r#"{"action_type":"inspect_code"}"#).action_type,
            "inspect_code"
        );
    }

    #[test]
    fn mistakes_explain_and_suggest() {
        assert_eq!(
            parse("inspekt gradients").unwrap_err(),
            "unknown command 'inspekt'; did you mean 'inspect'? (help lists them all)"
        );
        assert_eq!(
            parse("set lr").unwrap_err(),
            "usage: set <target> <value>, e.g. `set lr 1e-3`"
        );
        assert!(parse("fix line x y").is_err());
        assert!(
            parse("zzzzzz")
                .unwrap_err()
                .starts_with("unknown command 'zzzzzz' (help")
        );
        assert_eq!(parse("   ").unwrap(), None);
    }
}
