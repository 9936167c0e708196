//! The fixed vocabulary shared by task files and the engine: action types and
//! diagnosis labels. Task files are checked against it when they load.

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

/// The inspection actions (each earns a reward the first time it is used).
pub const INSPECTIONS: [&str; 5] = [
    "inspect_gradients",
    "inspect_data_batch",
    "inspect_model_modes",
    "inspect_model_weights",
    "inspect_code",
];

/// Actions that change the next run.
pub const FIXES: [&str; 6] = [
    "modify_config",
    "add_callback",
    "replace_optimizer",
    "patch_data_loader",
    "fix_model_mode",
    "fix_code",
];

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
