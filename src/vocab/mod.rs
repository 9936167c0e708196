//! The fixed vocabulary shared by task files, the engine and every front-end:
//! the table of actions, parameters, config targets, callbacks, data patches
//! and diagnosis labels (`table`), the words they are made of (`term`), the
//! shape of an action request, and the lookups everything else derives from.

mod docs;
mod schema;
mod table;
mod term;

pub use docs::{
    markdown_actions, markdown_callbacks, markdown_config_targets, markdown_data_patches,
    markdown_labels,
};
pub use schema::{action_schema, range_schema, terms_schema};
pub use table::*;
pub use term::{FaultGroup, Term, find, name_of, names, typed};

use crate::sim::ConfigValue;
use serde::{Deserialize, Serialize};

const fn action_names<const N: usize>() -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = ACTIONS[i].name;
        i += 1;
    }
    out
}

const fn count_role(role: Role) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < ACTIONS.len() {
        if ACTIONS[i].role as u8 == role as u8 {
            n += 1;
        }
        i += 1;
    }
    n
}

const fn names_in_role<const N: usize>(role: Role) -> [&'static str; N] {
    let mut out = [""; N];
    let mut n = 0;
    let mut i = 0;
    while i < ACTIONS.len() {
        if ACTIONS[i].role as u8 == role as u8 {
            out[n] = ACTIONS[i].name;
            n += 1;
        }
        i += 1;
    }
    out
}

const fn term_names<const N: usize>(terms: &[Term]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = terms[i].name;
        i += 1;
    }
    out
}

/// Every action type, in the order `available_actions` lists them.
pub const ACTION_TYPES: [&str; ACTIONS.len()] = action_names();

/// The inspection actions (each earns evidence the first time it is used).
pub const INSPECTIONS: [&str; count_role(Role::Inspection)] = names_in_role(Role::Inspection);

/// Actions that change the next run.
pub const FIXES: [&str; count_role(Role::Fix)] = names_in_role(Role::Fix);

/// Root-cause labels accepted by `mark_diagnosed`, in table order.
pub const DIAGNOSES: [&str; LABELS.len()] = term_names(LABELS);

pub fn is_diagnosis(label: &str) -> bool {
    DIAGNOSES.contains(&label)
}

/// Where the fault a diagnosis label names lives.
pub fn group_of(label: &str) -> Option<FaultGroup> {
    LABELS
        .iter()
        .find(|t| t.name == label)
        .and_then(|t| t.group)
}

pub fn is_action_type(name: &str) -> bool {
    ACTION_TYPES.contains(&name)
}

/// The table entry of an action type.
pub fn action(name: &str) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// The table entry of an operation (every operation has exactly one).
pub fn action_of(op: Op) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.op == op)
}

/// The name of an operation's action type.
pub fn op_name(op: Op) -> &'static str {
    action_of(op).map_or("", |a| a.name)
}

/// The label's definition, for debriefs and help.
pub fn label(name: &str) -> Option<&'static Term> {
    LABELS.iter().find(|t| t.name == name)
}

/// The config target `word` names (its name or an alias, surrounding space ignored).
pub fn config_target(word: &str) -> Option<&'static ConfigTarget> {
    let word = word.trim();
    CONFIG_TARGETS
        .iter()
        .find(|t| t.name == word || t.aliases.contains(&word))
}

/// Action types valid now, in table order.
pub fn available_actions(code_inspected: bool, pending_fix: bool) -> Vec<&'static str> {
    ACTIONS
        .iter()
        .filter(|a| match a.availability {
            Availability::Always => true,
            Availability::AfterCodeInspected => code_inspected,
            Availability::AfterPendingFix => pending_fix,
        })
        .map(|a| a.name)
        .collect()
}

impl Inspection {
    pub fn action_type(self) -> &'static str {
        op_name(Op::Inspect(self))
    }
}

/// A number written the way the docs and errors show it: `1e-6`, `0.999`, `10`.
pub fn show_number(n: f64) -> String {
    if n != 0.0 && n.abs() < 1e-3 {
        format!("{n:e}")
    } else {
        format!("{n}")
    }
}

impl Range {
    /// What the range accepts, in words: "a number in [1e-6, 10]".
    pub fn describe(&self) -> String {
        match self {
            Range::Real { min, max } => {
                format!("a number in [{}, {}]", show_number(*min), show_number(*max))
            }
            Range::Count { min, max } => format!("a whole number in [{min}, {max}]"),
            Range::Choice(terms) => {
                format!("one of {}", names(terms).collect::<Vec<_>>().join(", "))
            }
            Range::Flag => "true or false".to_string(),
        }
    }

    /// The words a person may type for it (for completion); empty for numbers.
    pub fn words(&self) -> Vec<&'static str> {
        match self {
            Range::Choice(terms) => names(terms).collect(),
            Range::Flag => names(FLAG_WORDS).collect(),
            _ => Vec::new(),
        }
    }
}

impl ConfigTarget {
    /// What it accepts, with the note: "a number in [0, 1000] (0 turns clipping off)".
    pub fn expected(&self) -> String {
        if self.note.is_empty() {
            self.range.describe()
        } else {
            format!("{} ({})", self.range.describe(), self.note)
        }
    }
}

/// The step payload of the protocol (`{"action_type": …, …}`). Unknown keys are
/// rejected by serde; everything else is judged by `Action::interpret`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub action_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ConfigValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

impl ActionRequest {
    pub fn new(action_type: &str) -> Self {
        ActionRequest {
            action_type: action_type.to_string(),
            ..ActionRequest::default()
        }
    }

    /// Whether the request carries a value for `field`.
    pub fn has(&self, field: Field) -> bool {
        match field {
            Field::Target => self.target.is_some(),
            Field::Value => self.value.is_some(),
            Field::Diagnosis => self.diagnosis.is_some(),
            Field::Line => self.line.is_some(),
            Field::Replacement => self.replacement.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn derived_lists_follow_the_table() {
        assert_eq!(INSPECTIONS.first(), Some(&"inspect_gradients"));
        assert_eq!(INSPECTIONS.last(), Some(&"inspect_code"));
        assert_eq!(FIXES.first(), Some(&"modify_config"));
        assert_eq!(FIXES.last(), Some(&"fix_code"));
        assert_eq!(DIAGNOSES.len(), LABELS.len());
        assert!(is_diagnosis("lr_too_high") && !is_diagnosis("gremlins"));
    }

    #[test]
    fn every_name_and_alias_is_unique_and_snake_case() {
        let snake = |w: &str| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        let mut seen = BTreeSet::new();
        for a in ACTIONS {
            assert!(snake(a.name) && seen.insert(a.name), "{}", a.name);
        }
        let mut targets = BTreeSet::new();
        for t in CONFIG_TARGETS {
            for w in std::iter::once(&t.name).chain(t.aliases) {
                assert!(snake(w) && targets.insert(*w), "{w}");
            }
        }
        for terms in [
            LABELS,
            DATA_PATCHES,
            CALLBACKS,
            OPTIMIZERS,
            ACTIVATIONS,
            WEIGHT_INITS,
            LR_SCHEDULES,
        ] {
            let mut words = BTreeSet::new();
            for t in terms {
                assert!(!t.definition.is_empty(), "{} needs a definition", t.name);
                for w in std::iter::once(&t.name).chain(t.aliases) {
                    assert!(snake(w) && words.insert(*w), "{w}");
                }
            }
        }
    }

    #[test]
    fn every_op_has_one_action() {
        for a in ACTIONS {
            assert_eq!(
                ACTIONS.iter().filter(|b| b.op == a.op).count(),
                1,
                "{}",
                a.name
            );
            assert_eq!(op_name(a.op), a.name);
        }
    }

    #[test]
    fn availability_follows_the_episode() {
        let fresh = available_actions(false, false);
        assert!(!fresh.contains(&"fix_code") && !fresh.contains(&"restart_run"));
        assert_eq!(available_actions(true, true), ACTION_TYPES.to_vec());
    }

    #[test]
    fn ranges_describe_themselves_as_errors_did() {
        let lr = config_target("lr").map(ConfigTarget::expected);
        assert_eq!(lr.as_deref(), Some("a number in [1e-6, 10]"));
        let clip = config_target("clip").map(ConfigTarget::expected);
        assert_eq!(
            clip.as_deref(),
            Some("a number in [0, 1000] (0 turns clipping off)")
        );
    }

    #[test]
    fn every_label_says_where_its_fault_lives() {
        for label in LABELS {
            assert!(label.group.is_some(), "{} has no group", label.name);
        }
    }
}
