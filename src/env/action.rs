//! Actions: the well-formed request shape every front-end produces, and its
//! interpretation into a typed [`Action`]. A request that is well formed but
//! unknown, incomplete or out of range is not an error: it becomes an invalid
//! step with a reason, as the design asks.

use crate::sim::config::{Callback, ConfigValue, OptimizerKind, TrainConfig, parse_optimizer};
use crate::sim::data::DataPatch;
use crate::vocab::{self, Op, Role, Values};

pub use crate::vocab::{ActionRequest, Inspection};

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Inspect(Inspection),
    ModifyConfig {
        target: &'static str,
        value: ConfigValue,
    },
    AddCallback(Callback),
    ReplaceOptimizer(OptimizerKind),
    PatchDataLoader(DataPatch),
    FixModelMode,
    FixCode {
        line: usize,
        replacement: String,
    },
    RestartRun,
    MarkDiagnosed(String),
}

fn need<'a, T>(value: &'a Option<T>, action: &str, param: &str) -> Result<&'a T, String> {
    value
        .as_ref()
        .ok_or_else(|| format!("{action} needs '{param}'"))
}

impl Action {
    /// Interpret a well-formed request. `Err` says why it is not a valid action.
    ///
    /// The action and its required parameters come from the vocabulary
    /// table; only the typed payload is built here, one arm per operation.
    pub fn interpret(req: &ActionRequest) -> Result<Action, String> {
        let kind = req.action_type.as_str();
        let spec = vocab::action(kind).ok_or_else(|| {
            format!(
                "unknown action '{kind}' (known: {})",
                vocab::ACTION_TYPES.join(", ")
            )
        })?;
        for param in spec.params.iter().filter(|p| p.required) {
            // Documented coercion: replace_optimizer also takes its name as `target`.
            let coerced = spec.op == Op::ReplaceOptimizer && req.target.is_some();
            if !req.has(param.field) && !coerced {
                let hint = match param.values {
                    Values::Terms(terms) if spec.op == Op::ReplaceOptimizer => {
                        format!(
                            " ({})",
                            vocab::names(terms).collect::<Vec<_>>().join(" or ")
                        )
                    }
                    _ => String::new(),
                };
                return Err(format!("{kind} needs '{}'{hint}", param.field.key()));
            }
        }
        Ok(match spec.op {
            Op::Inspect(inspection) => Action::Inspect(inspection),
            Op::ModifyConfig => {
                let target = need(&req.target, kind, "target")?;
                let value = need(&req.value, kind, "value")?;
                let canonical = TrainConfig::canonical_target(target).ok_or_else(|| {
                    format!(
                        "unknown config target '{target}' (known: {})",
                        TrainConfig::targets().collect::<Vec<_>>().join(", ")
                    )
                })?;
                Action::ModifyConfig {
                    target: canonical,
                    value: value.clone(),
                }
            }
            Op::AddCallback => {
                let name = need(&req.target, kind, "target")?;
                Action::AddCallback(Callback::parse(name).map_err(|e| e.to_string())?)
            }
            Op::ReplaceOptimizer => {
                let name = match (&req.value, &req.target) {
                    (Some(ConfigValue::Text(s)), _) => s.clone(),
                    (None, Some(t)) => t.clone(),
                    (Some(other), _) => {
                        return Err(format!(
                            "replace_optimizer needs an optimizer name, got {other}"
                        ));
                    }
                    (None, None) => return Err(format!("{kind} needs 'value'")),
                };
                Action::ReplaceOptimizer(parse_optimizer(&name).ok_or_else(|| {
                    format!(
                        "unknown optimizer '{name}' (known: {})",
                        vocab::names(vocab::OPTIMIZERS)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?)
            }
            Op::PatchDataLoader => {
                let patch = match &req.target {
                    None => DataPatch::RemoveOverlap,
                    Some(name) => DataPatch::parse(name).ok_or_else(|| {
                        format!(
                            "unknown data patch '{name}' (known: {})",
                            vocab::names(vocab::DATA_PATCHES)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })?,
                };
                Action::PatchDataLoader(patch)
            }
            Op::FixModelMode => Action::FixModelMode,
            Op::FixCode => {
                let line = *need(&req.line, kind, "line")?;
                let replacement = need(&req.replacement, kind, "replacement")?;
                check_code_line(replacement)?;
                Action::FixCode {
                    line: usize::try_from(line).unwrap_or(usize::MAX),
                    replacement: replacement.clone(),
                }
            }
            Op::RestartRun => Action::RestartRun,
            Op::MarkDiagnosed => {
                let label = need(&req.diagnosis, kind, "diagnosis")?.trim().to_string();
                if !vocab::is_diagnosis(&label) {
                    return Err(format!(
                        "unknown diagnosis '{label}' (known: {})",
                        vocab::DIAGNOSES.join(", ")
                    ));
                }
                Action::MarkDiagnosed(label)
            }
        })
    }

    /// The operation, for looking the action up in the vocabulary table.
    pub fn op(&self) -> Op {
        match self {
            Action::Inspect(i) => Op::Inspect(*i),
            Action::ModifyConfig { .. } => Op::ModifyConfig,
            Action::AddCallback(_) => Op::AddCallback,
            Action::ReplaceOptimizer(_) => Op::ReplaceOptimizer,
            Action::PatchDataLoader(_) => Op::PatchDataLoader,
            Action::FixModelMode => Op::FixModelMode,
            Action::FixCode { .. } => Op::FixCode,
            Action::RestartRun => Op::RestartRun,
            Action::MarkDiagnosed(_) => Op::MarkDiagnosed,
        }
    }

    pub fn action_type(&self) -> &'static str {
        vocab::op_name(self.op())
    }

    pub fn is_fix(&self) -> bool {
        vocab::action_of(self.op()).is_some_and(|a| a.role == Role::Fix)
    }

    /// The short record kept in `episode_state.actions_taken`.
    pub fn label(&self) -> String {
        match self {
            Action::ModifyConfig { target, value } => {
                format!("modify_config:{target}={}", plain(value))
            }
            Action::AddCallback(c) => format!("add_callback:{}", c.name()),
            Action::ReplaceOptimizer(o) => format!("replace_optimizer:{}", optimizer_name(*o)),
            Action::PatchDataLoader(p) => format!("patch_data_loader:{}", p.name()),
            Action::FixCode { line, .. } => format!("fix_code:{line}"),
            Action::MarkDiagnosed(d) => format!("mark_diagnosed:{d}"),
            other => other.action_type().to_string(),
        }
    }

    /// (target, value as a word, line) for matching against task rules.
    pub fn rule_view(&self) -> (Option<String>, Option<String>, Option<f64>, Option<usize>) {
        match self {
            Action::ModifyConfig { target, value } => {
                let number = match value {
                    ConfigValue::Number(n) => Some(*n),
                    ConfigValue::Text(s) => s.trim().parse().ok(),
                    ConfigValue::Bool(_) => None,
                };
                (
                    Some((*target).to_string()),
                    Some(plain(value).to_lowercase()),
                    number,
                    None,
                )
            }
            Action::AddCallback(c) => (Some(c.name().to_string()), None, None, None),
            Action::ReplaceOptimizer(o) => (None, Some(optimizer_name(*o).to_string()), None, None),
            Action::PatchDataLoader(p) => (Some(p.name().to_string()), None, None, None),
            Action::FixCode { line, .. } => (None, None, None, Some(*line)),
            Action::MarkDiagnosed(d) => (None, Some(d.clone()), None, None),
            _ => (None, None, None, None),
        }
    }
}

pub fn optimizer_name(kind: OptimizerKind) -> &'static str {
    kind.name()
}

/// A value as a person would write it (no quotes).
pub fn plain(value: &ConfigValue) -> String {
    match value {
        ConfigValue::Text(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// Longest replacement line `fix_code` takes, in characters.
pub const MAX_CODE_LINE_CHARS: usize = 200;

/// A `fix_code` replacement is one line of text: a line break would put fake
/// lines into the listing (and make `line_count` disagree with it), and any
/// other control character would reach a player's terminal as a command.
fn check_code_line(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_CODE_LINE_CHARS {
        return Err(format!(
            "a fix_code replacement is one line of at most {MAX_CODE_LINE_CHARS} characters, got {chars}"
        ));
    }
    match text.chars().find(|c| c.is_control()) {
        Some('\n' | '\r') => {
            Err("a fix_code replacement is one line: it cannot contain a line break".into())
        }
        Some(c) => Err(format!(
            "a fix_code replacement cannot contain the control character {}",
            c.escape_unicode()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_code_takes_one_line_of_text_only() {
        let fix = |replacement: &str| {
            let mut r = ActionRequest::new("fix_code");
            r.line = Some(15);
            r.replacement = Some(replacement.into());
            Action::interpret(&r)
        };
        assert!(fix("output = model(x)").is_ok());
        let broken = fix("# a comment\nloss.backward()").unwrap_err();
        assert!(broken.contains("cannot contain a line break"), "{broken}");
        let escape = fix("pass\u{1b}[2J").unwrap_err();
        assert!(escape.contains("control character \\u{1b}"), "{escape}");
        assert!(!escape.contains('\u{1b}'));
        assert!(fix(&"x".repeat(MAX_CODE_LINE_CHARS + 1)).is_err());
    }

    fn req(json: &str) -> ActionRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn interprets_every_action_type() {
        for t in vocab::ACTION_TYPES {
            let mut r = ActionRequest::new(t);
            r.target = Some(match t {
                "add_callback" => "early_stopping".into(),
                "modify_config" => "lr".into(),
                _ => "remove_overlap".into(),
            });
            r.value = Some(if t == "replace_optimizer" {
                ConfigValue::Text("adam".into())
            } else {
                ConfigValue::Number(0.01)
            });
            r.diagnosis = Some("lr_too_high".into());
            r.line = Some(14);
            r.replacement = Some("optimizer.zero_grad()".into());
            let action = Action::interpret(&r).unwrap();
            assert_eq!(action.action_type(), t);
        }
    }

    #[test]
    fn incomplete_or_unknown_actions_explain_themselves() {
        assert_eq!(
            Action::interpret(&req(r#"{"action_type":"modify_config","target":"lr"}"#))
                .unwrap_err(),
            "modify_config needs 'value'"
        );
        assert!(
            Action::interpret(&req(r#"{"action_type":"fly"}"#))
                .unwrap_err()
                .starts_with("unknown action 'fly'")
        );
        assert!(
            Action::interpret(&req(
                r#"{"action_type":"mark_diagnosed","diagnosis":"gremlins"}"#
            ))
            .unwrap_err()
            .starts_with("unknown diagnosis 'gremlins'")
        );
    }

    #[test]
    fn unknown_keys_are_not_well_formed() {
        assert!(
            serde_json::from_str::<ActionRequest>(r#"{"action_type":"inspect_code","x":1}"#)
                .is_err()
        );
    }
}
