//! What a player sees after each step, with the origin's field names. Views of
//! a run are computed once per run ([`RunView`]); an observation borrows them,
//! so an inspect step costs a serialisation, not a copy.

use crate::sim::data::DataBatchStats;
use crate::sim::metrics;
use crate::sim::trainer::{LayerGradStats, LayerWeightStats};
use crate::sim::{Outcome, RunTrace};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

/// Non-finite numbers become `None` (JSON null), never a silently clamped value.
pub fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct GradientStatsView {
    pub layer_name: String,
    pub norm_history: Vec<Option<f64>>,
    pub mean_norm: Option<f64>,
    pub max_norm: Option<f64>,
    pub is_exploding: bool,
    pub is_vanishing: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WeightStatsView {
    pub layer_name: String,
    pub norm: Option<f64>,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub dead_neuron_pct: f64,
    pub has_nan: bool,
    pub has_inf: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DataStatsView {
    #[serde(flatten)]
    pub stats: DataBatchStats,
    /// Validation confusion matrix of the final model: rows true, columns predicted.
    pub confusion_matrix: Vec<Vec<usize>>,
    /// Per true class, from the confusion matrix: the share of its
    /// validation rows predicted as it (null for a class with no rows).
    pub per_class_recall: Vec<Option<f64>>,
    /// Per predicted class: the share of its predictions that were right
    /// (null for a class never predicted).
    pub per_class_precision: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CodeSnippet {
    pub filename: &'static str,
    pub language: &'static str,
    pub code: String,
    pub line_count: usize,
}

/// Everything observable about one run, computed once when it finishes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub run_id: String,
    pub training_loss_history: Vec<Option<f64>>,
    pub val_loss_history: Vec<Option<f64>>,
    pub val_accuracy_history: Vec<Option<f64>>,
    /// The rate each epoch trained with, after schedule and warmup.
    pub learning_rate_history: Vec<Option<f64>>,
    pub epochs_completed: usize,
    pub status: &'static str,
    pub gradient_stats: Vec<GradientStatsView>,
    pub gradients_normal: bool,
    pub weight_stats: Vec<WeightStatsView>,
    pub data_stats: DataStatsView,
    pub modes: Vec<(String, &'static str)>,
    pub failure: Option<String>,
}

impl RunView {
    pub fn new(run_id: String, trace: &RunTrace, epochs: usize) -> Self {
        let pad = |f: fn(&crate::sim::EpochRecord) -> f64| -> Vec<Option<f64>> {
            let mut h: Vec<Option<f64>> = trace.epochs.iter().map(|e| finite(f(e))).collect();
            h.resize(epochs.max(h.len()), None);
            h
        };
        let gradient_stats: Vec<GradientStatsView> =
            trace.gradient_stats.iter().map(grad_view).collect();
        RunView {
            run_id,
            training_loss_history: pad(|e| e.train_loss),
            val_loss_history: pad(|e| e.val_loss),
            val_accuracy_history: pad(|e| e.val_accuracy),
            learning_rate_history: pad(|e| e.learning_rate),
            epochs_completed: trace.epochs.len(),
            status: match trace.outcome {
                Outcome::Completed => "completed",
                Outcome::Stopped { .. } => "stopped",
                Outcome::Failed { .. } => "failed",
            },
            gradients_normal: gradient_stats
                .iter()
                .all(|g| !g.is_exploding && !g.is_vanishing),
            gradient_stats,
            weight_stats: trace.weight_stats.iter().map(weight_view).collect(),
            data_stats: DataStatsView {
                stats: trace.data_stats.clone(),
                confusion_matrix: trace.confusion_matrix.clone(),
                per_class_recall: metrics::recall_by_class(&trace.confusion_matrix),
                per_class_precision: metrics::precision_by_class(&trace.confusion_matrix),
            },
            modes: trace.modes.clone(),
            failure: match &trace.outcome {
                Outcome::Failed {
                    message, details, ..
                } => Some(format!("{message}\n{details}")),
                _ => None,
            },
        }
    }
}

fn grad_view(g: &LayerGradStats) -> GradientStatsView {
    GradientStatsView {
        layer_name: g.layer_name.clone(),
        norm_history: g.norm_history.iter().map(|v| finite(*v)).collect(),
        mean_norm: finite(g.mean_norm),
        max_norm: finite(g.max_norm),
        is_exploding: g.is_exploding,
        is_vanishing: g.is_vanishing,
    }
}

fn weight_view(w: &LayerWeightStats) -> WeightStatsView {
    WeightStatsView {
        layer_name: w.layer_name.clone(),
        norm: finite(w.norm),
        mean: finite(w.mean),
        std: finite(w.std),
        min: finite(w.min),
        max: finite(w.max),
        dead_neuron_pct: w.dead_neuron_pct,
        has_nan: w.has_nan,
        has_inf: w.has_inf,
    }
}

/// Module name → mode, in module order (a JSON object).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModeMap<'a>(pub &'a [(String, &'static str)]);

impl schemars::JsonSchema for ModeMap<'_> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ModeMap".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "module name → the mode it was in during training steps",
            "type": "object",
            "additionalProperties": { "enum": ["train", "eval"] }
        })
    }
}

impl Serialize for ModeMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, mode) in self.0 {
            map.serialize_entry(name, mode)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct EpisodeStateView<'a> {
    pub step_count: usize,
    pub gradients_inspected: bool,
    /// Whether the gradients seen at inspection had no exploding or vanishing layer.
    pub gradients_were_normal: Option<bool>,
    pub data_inspected: bool,
    pub model_modes_inspected: bool,
    pub model_weights_inspected: bool,
    pub code_inspected: bool,
    pub fix_action_taken: bool,
    pub restart_after_fix: bool,
    pub diagnosis_submitted: bool,
    pub actions_taken: &'a [String],
}

/// The observation, field names as in the origin. Extended, never renamed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Observation<'a> {
    pub task_id: &'a str,
    pub run_id: &'a str,
    pub framework: &'a str,
    /// Length of the histories: the epochs the run was configured for.
    pub epoch: usize,
    pub epochs_completed: usize,
    /// "completed", "stopped" or "failed".
    #[schemars(extend("enum" = ["completed", "stopped", "failed"]))]
    pub run_status: &'a str,
    pub training_loss_history: &'a [Option<f64>],
    pub val_loss_history: &'a [Option<f64>],
    pub val_accuracy_history: &'a [Option<f64>],
    /// The rate each epoch trained with, after schedule and warmup.
    pub learning_rate_history: &'a [Option<f64>],
    pub gradient_stats: &'a [GradientStatsView],
    pub model_weight_stats: &'a [WeightStatsView],
    pub data_batch_stats: Option<&'a DataStatsView>,
    pub model_mode_info: ModeMap<'a>,
    pub code_snippet: Option<&'a CodeSnippet>,
    pub gpu_memory_used_gb: f64,
    pub gpu_memory_total_gb: f64,
    pub learning_rate: f64,
    #[schemars(with = "crate::sim::TrainConfig")]
    pub current_config: &'a Value,
    pub error_log: Option<&'a str>,
    pub notes: &'a str,
    pub available_actions: Vec<&'static str>,
    pub max_steps: usize,
    pub episode_state: EpisodeStateView<'a>,
    pub message: &'a str,
}
