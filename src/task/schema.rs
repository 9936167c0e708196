//! The task file format as serde reads it. Every table rejects unknown keys;
//! meaning is checked afterwards by `validate`, which can point back at the
//! offending field because each check carries its path.

use crate::sim::{ConfigValue, DataSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    pub fn name(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy",
            Difficulty::Medium => "medium",
            Difficulty::Hard => "hard",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    pub id: String,
    pub title: String,
    /// One line for the catalogue.
    pub summary: String,
    pub difficulty: Difficulty,
    pub max_steps: usize,
    /// The diagnosis label that is right for every variant.
    pub root_cause: String,
    pub dressing: Dressing,
    pub data: DataSpec,
    /// Overrides of the default hyper-parameters (see docs/TASKS.md for targets).
    #[serde(default)]
    pub config: BTreeMap<String, ConfigValue>,
    /// Line edits applied to the standard train.py.
    #[serde(default)]
    pub edits: Vec<Edit>,
    /// What a run must show to count as recovered.
    pub recovery: Recovery,
    /// Actions that address the root cause.
    #[serde(default)]
    pub fixes: Vec<ActionRule>,
    pub rubric: Rubric,
    pub debrief: Debrief,
    /// The intended solution, as step data; a variant may replace it.
    #[serde(default)]
    pub walkthrough: Vec<WalkStep>,
    /// One is picked per seed.
    #[serde(default)]
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dressing {
    #[serde(default = "pytorch")]
    pub framework: String,
    pub notes: String,
    /// Static log text (e.g. a warning); a failed run's error is appended to it.
    #[serde(default)]
    pub error_log: Option<String>,
    pub gpu_memory_used_gb: f64,
    pub gpu_memory_total_gb: f64,
}

fn pytorch() -> String {
    "pytorch".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub line: usize,
    pub replace: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    /// Final validation accuracy at least this.
    #[serde(default)]
    pub min_val_accuracy: Option<f64>,
    /// Final validation loss at most this.
    #[serde(default)]
    pub max_val_loss: Option<f64>,
    /// Final validation accuracy at least this share of the reference run's
    /// (the same variant trained with the walkthrough's fixes).
    #[serde(default)]
    pub min_accuracy_vs_reference: Option<f64>,
    /// Final validation loss at most this multiple of the reference run's.
    #[serde(default)]
    pub max_val_loss_vs_reference: Option<f64>,
    /// Final validation loss at most this far above the run's best.
    #[serde(default)]
    pub max_val_loss_rise: Option<f64>,
    /// Measured train/val duplicate ratio at most this.
    #[serde(default)]
    pub max_duplicate_ratio: Option<f64>,
}

/// Matches an action: its type, and optionally its target and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRule {
    pub action: String,
    #[serde(default)]
    pub target: Option<String>,
    /// For numeric values: the value must be at most this.
    #[serde(default)]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub at_least: Option<f64>,
    /// For word values (optimizer, activation …): the value must be this.
    #[serde(default)]
    pub equals: Option<String>,
    /// For fix_code: the line that must be patched.
    #[serde(default)]
    pub line: Option<usize>,
    /// Score penalty when used as a red herring.
    #[serde(default)]
    pub penalty: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Weight earned by using each inspection that reveals the fault.
    #[serde(default)]
    pub evidence: BTreeMap<String, f64>,
    /// Weight for taking an accepted fix.
    pub fix: f64,
    /// Weight for a restart whose run recovered.
    pub recovered: f64,
    /// Weight for naming the root cause.
    pub diagnosis: f64,
    /// Subtracted for a wrong diagnosis.
    #[serde(default)]
    pub wrong_diagnosis_penalty: f64,
    /// Actions that chase the colleague's red herring; each carries a penalty.
    #[serde(default)]
    pub red_herrings: Vec<ActionRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Debrief {
    pub bug: String,
    pub signs: Vec<String>,
    pub fix: String,
    #[serde(default)]
    pub reference: Option<String>,
}

/// One step of a walkthrough: an action request, as sent over the protocol.
pub type WalkStep = crate::vocab::ActionRequest;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPatch {
    #[serde(default)]
    pub leakage: Option<f64>,
    #[serde(default)]
    pub label_noise: Option<f64>,
    #[serde(default)]
    pub nan_rows: Option<usize>,
    #[serde(default)]
    pub glitch_epoch: Option<usize>,
    #[serde(default)]
    pub glitch_scale: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: String,
    #[serde(default)]
    pub config: BTreeMap<String, ConfigValue>,
    #[serde(default)]
    pub faults: FaultPatch,
    #[serde(default)]
    pub edits: Vec<Edit>,
    #[serde(default)]
    pub notes: Option<String>,
    /// Extra accepted fixes for this variant (e.g. the buggy line).
    #[serde(default)]
    pub fixes: Vec<ActionRule>,
    #[serde(default)]
    pub walkthrough: Option<Vec<WalkStep>>,
}
