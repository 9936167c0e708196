//! The task file format as serde reads it. Every table rejects unknown keys;
//! meaning is checked afterwards by `validate`, which can point back at the
//! offending field because each check carries its path.

use crate::sim::program::Script;
use crate::sim::{ConfigValue, DataSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Ordered easiest first: a category's tier is its easiest task's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// The diagnosis label that is right for every variant: full credit.
    pub root_cause: String,
    /// Other labels that name the same mechanism at another level (full or
    /// partial credit) or its symptom (partial): label → share of the
    /// diagnosis weight, in (0, 1].
    #[serde(default)]
    pub labels: BTreeMap<String, f64>,
    pub dressing: Dressing,
    pub data: DataSpec,
    /// Overrides of the default hyper-parameters (see docs/TASKS.md for targets).
    #[serde(default)]
    pub config: BTreeMap<String, ConfigValue>,
    /// Incidental hyper-parameters a seed draws from a pool, so that no fixed
    /// value identifies the task: target → the values to choose from.
    #[serde(default)]
    pub jitter: BTreeMap<String, Vec<ConfigValue>>,
    /// The train.py the task starts from (`standard` when omitted).
    #[serde(default, skip_serializing_if = "Script::is_standard")]
    pub script: Script,
    /// Line edits applied to the script's train.py.
    #[serde(default)]
    pub edits: Vec<Edit>,
    /// What a run must show, beyond being healthy, to count as recovered.
    pub recovery: Recovery,
    pub rubric: Rubric,
    pub debrief: Debrief,
    /// A second fault in the same run (a two-fault task): both must be cured
    /// for the run to recover; the diagnosis names `root_cause`.
    #[serde(default)]
    pub secondary: Option<Secondary>,
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
    /// The colleague's notes: one text, or a pool a seed picks from (helpful,
    /// misleading or silent: an empty string is a silent colleague).
    pub notes: Pool,
    /// Static log text (e.g. a warning); a failed run's error is appended to it.
    /// `{gpu_memory_used_gb}` and `{gpu_memory_total_gb}` are filled in.
    #[serde(default)]
    pub error_log: Option<String>,
    /// A value, or `[low, high]` for a seed to draw from.
    pub gpu_memory_used_gb: Span,
    pub gpu_memory_total_gb: f64,
}

/// One text, or several for a seed to choose from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Pool {
    One(String),
    Many(Vec<String>),
}

impl Pool {
    pub fn choices(&self) -> &[String] {
        match self {
            Pool::One(one) => std::slice::from_ref(one),
            Pool::Many(many) => many,
        }
    }
}

/// A number, or a `[low, high]` range for a seed to draw from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Span {
    Value(f64),
    Range([f64; 2]),
}

impl Span {
    pub fn bounds(self) -> (f64, f64) {
        match self {
            Span::Value(v) => (v, v),
            Span::Range([lo, hi]) => (lo, hi),
        }
    }
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
    /// Final validation accuracy must close at least this share of the gap
    /// between chance and the reference run's accuracy (default 0.75).
    #[serde(default)]
    pub min_gain_vs_reference: Option<f64>,
    /// Whether the final validation accuracy must be no worse than the broken
    /// run's (default true; false where the broken accuracy is inflated, as
    /// with leakage).
    #[serde(default)]
    pub compare_to_broken: Option<bool>,
    /// The metric "no worse than the broken run" compares (default
    /// `val_accuracy`; `val_loss` where the symptom is in the loss).
    #[serde(default)]
    pub main_metric: Option<MainMetric>,
    /// Final validation loss at most this multiple of the reference run's.
    #[serde(default)]
    pub max_val_loss_vs_reference: Option<f64>,
    /// Final validation loss at most this far above the run's best.
    #[serde(default)]
    pub max_val_loss_rise: Option<f64>,
    /// Measured train/val duplicate ratio at most this.
    #[serde(default)]
    pub max_duplicate_ratio: Option<f64>,
    /// Final balanced validation accuracy (the mean of the per-class
    /// recalls) at least this: where skewed classes let plain accuracy hide
    /// a class the model never predicts.
    #[serde(default)]
    pub min_balanced_accuracy: Option<f64>,
    /// Final balanced validation accuracy must close at least this share of
    /// the gap between chance and the reference run's balanced accuracy.
    #[serde(default)]
    pub min_balanced_gain_vs_reference: Option<f64>,
    /// Every module was in train mode during the training steps (as
    /// `inspect_model_modes` reports them): the measured fact a model-mode
    /// fault changes, where its effect on accuracy is too small on some
    /// seeds to tell a broken run from a cured one.
    #[serde(default)]
    pub modules_in_train_mode: Option<bool>,
    /// At least this share of the scores the loss was handed during training
    /// were negative: raw logits are negative about half the time, while a
    /// relu (or softmax) around them clips every score to zero or above.
    #[serde(default)]
    pub min_negative_score_share: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MainMetric {
    ValAccuracy,
    ValLoss,
    /// The mean of the per-class validation recalls.
    BalancedAccuracy,
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
    /// Weight earned by using each inspection that bears on the cause.
    #[serde(default)]
    pub evidence: BTreeMap<String, f64>,
    /// Weight for the change set in force at the first restart that recovered.
    pub fix: f64,
    /// Weight for a restart whose run recovered.
    pub recovered: f64,
    /// Weight for naming the root cause.
    pub diagnosis: f64,
    /// Subtracted for a wrong diagnosis.
    #[serde(default)]
    pub wrong_diagnosis_penalty: f64,
    /// Changes that only treat a symptom; each carries a penalty. `tasks
    /// check` makes sure none of them recovers the run on its own.
    #[serde(default)]
    pub red_herrings: Vec<ActionRule>,
    /// Steps an efficient player needs (default: the walkthrough's length).
    #[serde(default)]
    pub par: Option<usize>,
    /// Subtracted per step over par (default 0.03).
    #[serde(default)]
    pub over_par_penalty: Option<f64>,
    /// The most steps over par can cost (default 0.3).
    #[serde(default)]
    pub max_over_par_penalty: Option<f64>,
    /// Subtracted per restart after a change that did not recover (default 0.05).
    #[serde(default)]
    pub failed_restart_penalty: Option<f64>,
    /// Share of the diagnosis weight a right label earns when nothing backs it:
    /// no inspection that bears on the cause and no recovered run (default 0.3).
    #[serde(default)]
    pub guess_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Debrief {
    pub bug: String,
    pub signs: Vec<Sign>,
    pub fix: String,
    #[serde(default)]
    pub reference: Option<String>,
    /// The second fault of a two-fault task, taken from its `[secondary]`
    /// table when the debrief is shown (never written in `[debrief]`).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<Secondary>,
}

/// The second fault of a two-fault task: its label and its own debrief. The
/// label earns the share `labels` gives it (partial: the diagnosis names the
/// root cause); `tasks check` makes sure curing either fault alone does not
/// recover the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secondary {
    /// A diagnosis label.
    pub cause: String,
    /// What the second fault does, and why the first one hid it.
    pub bug: String,
    /// How to cure it.
    pub fix: String,
}

/// A sign of the fault in the debrief. A sign that states something
/// measurable names the claim that checks it on the played run; its text may
/// use the claim's numbers as `{name}` placeholders (docs/TASKS.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Sign {
    Claim { claim: String, text: String },
    Plain(String),
}

impl std::fmt::Display for Sign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sign::Claim { text, .. } | Sign::Plain(text) => f.write_str(text),
        }
    }
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
    #[serde(default)]
    pub sorted_by_class: Option<bool>,
    #[serde(default)]
    pub unscaled_validation: Option<bool>,
    #[serde(default)]
    pub augmented_validation: Option<bool>,
}

/// The data fields a variant may override.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataPatch {
    #[serde(default)]
    pub class_separation: Option<f64>,
    #[serde(default)]
    pub feature_scale: Option<f64>,
    #[serde(default)]
    pub feature_offset: Option<f64>,
    #[serde(default)]
    pub class_priors: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: String,
    #[serde(default)]
    pub config: BTreeMap<String, ConfigValue>,
    #[serde(default)]
    pub faults: FaultPatch,
    /// Overrides of the task's data shape for this variant.
    #[serde(default)]
    pub data: DataPatch,
    #[serde(default)]
    pub edits: Vec<Edit>,
    #[serde(default)]
    pub notes: Option<Pool>,
    /// Extra labels with credit for this variant (added to the task's).
    #[serde(default)]
    pub labels: BTreeMap<String, f64>,
    /// Replaces the task's pools for the targets it names.
    #[serde(default)]
    pub jitter: BTreeMap<String, Vec<ConfigValue>>,
    #[serde(default)]
    pub walkthrough: Option<Vec<WalkStep>>,
}
