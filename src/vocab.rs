//! The fixed vocabulary shared by task files and the engine: the shape of an
//! action request, action types and diagnosis labels. Task files are checked
//! against it when they load.

use crate::sim::ConfigValue;
use serde::{Deserialize, Serialize};

/// Every action type, in the order `available_actions` lists them.
pub const ACTION_TYPES: [&str; 13] = [
    "inspect_gradients",
    "inspect_data_batch",
    "inspect_model_modes",
    "inspect_model_weights",
    "inspect_code",
    "modify_config",
    "add_callback",
    "replace_optimizer",
    "patch_data_loader",
    "fix_model_mode",
    "fix_code",
    "restart_run",
    "mark_diagnosed",
];

/// The inspection actions (each earns a reward the first time it is used):
/// the first five action types.
pub const INSPECTIONS: &[&str] = ACTION_TYPES.split_at(5).0;

/// Actions that change the next run: the six after the inspections.
pub const FIXES: &[&str] = ACTION_TYPES.split_at(11).0.split_at(5).1;

/// Root-cause labels accepted by `mark_diagnosed`. The first seven are the origin's.
pub const DIAGNOSES: [&str; 12] = [
    "lr_too_high",
    "vanishing_gradients",
    "data_leakage",
    "overfitting",
    "batchnorm_eval_mode",
    "code_bug",
    "scheduler_misconfigured",
    "exploding_gradients",
    "unnormalized_inputs",
    "label_noise",
    "nan_in_data",
    "bad_weight_init",
];

pub fn is_diagnosis(label: &str) -> bool {
    DIAGNOSES.contains(&label)
}

pub fn is_action_type(name: &str) -> bool {
    ACTION_TYPES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspections_and_fixes_are_the_right_slices() {
        assert_eq!(INSPECTIONS.first(), Some(&"inspect_gradients"));
        assert_eq!(INSPECTIONS.last(), Some(&"inspect_code"));
        assert_eq!(FIXES.first(), Some(&"modify_config"));
        assert_eq!(FIXES.last(), Some(&"fix_code"));
    }
}

/// The step payload of the protocol (`{"action_type": …, …}`). Unknown keys are
/// rejected by serde; everything else is judged by [`Action::interpret`].
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
}
