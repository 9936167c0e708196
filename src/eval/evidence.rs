//! What the heuristic agent knows about a run: the fields of one observation
//! line, read into plain numbers once. Only what a player sees goes in — the
//! curves, the run status, the config, and whatever the inspections showed —
//! never the task id, title or anything a mystery episode disguises.

use serde_json::Value;

/// One layer's gradients as `inspect_gradients` showed them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GradientLayer {
    pub mean_norm: Option<f64>,
    pub exploding: bool,
    pub vanishing: bool,
}

/// One layer's weights as `inspect_model_weights` showed them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WeightLayer {
    pub std: Option<f64>,
    /// Percent of the layer's units that output zero for every input.
    pub dead_pct: f64,
}

/// The data statistics `inspect_data_batch` showed (zeros until inspected).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataStats {
    pub train_samples: f64,
    pub feature_mean: f64,
    pub feature_std: f64,
    pub val_feature_mean: f64,
    pub val_feature_std: f64,
    pub null_count: u64,
    pub duplicate_ratio: f64,
    pub knn_label_disagreement: f64,
    pub label_distribution: Vec<u64>,
    pub batch_label_distribution: Vec<u64>,
}

/// The config fields the cures are sized from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub optimizer: String,
    pub learning_rate: f64,
    pub momentum: f64,
    pub batch_size: f64,
    pub dropout_rate: f64,
}

/// Everything the rules may look at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub run_failed: bool,
    /// Per completed epoch; `None` where the value was not finite.
    pub train_loss: Vec<Option<f64>>,
    pub val_loss: Vec<Option<f64>>,
    pub val_accuracy: Vec<Option<f64>>,
    pub learning_rates: Vec<Option<f64>>,
    pub gradients: Vec<GradientLayer>,
    pub weights: Vec<WeightLayer>,
    pub data: DataStats,
    /// Modules that were in eval mode during training steps.
    pub modules_in_eval: usize,
    /// The lines of train.py (empty until inspected).
    pub code: Vec<String>,
    pub config: Config,
}

fn floats(v: &Value) -> Vec<Option<f64>> {
    v.as_array()
        .map(|a| a.iter().map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn counts(v: &Value) -> Vec<u64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

impl Evidence {
    /// Read an observation object (the `observation` of a reply).
    pub fn read(obs: &Value) -> Self {
        let completed = obs["epochs_completed"].as_u64().unwrap_or(0) as usize;
        let history = |field: &str| {
            let mut h = floats(&obs[field]);
            h.truncate(completed);
            h
        };
        let list = |field: &str| obs[field].as_array().cloned().unwrap_or_default();
        let data = &obs["data_batch_stats"];
        let config = &obs["current_config"];
        Evidence {
            run_failed: obs["run_status"] == "failed",
            train_loss: history("training_loss_history"),
            val_loss: history("val_loss_history"),
            val_accuracy: history("val_accuracy_history"),
            learning_rates: history("learning_rate_history"),
            gradients: list("gradient_stats")
                .iter()
                .map(|g| GradientLayer {
                    mean_norm: g["mean_norm"].as_f64(),
                    exploding: g["is_exploding"] == true,
                    vanishing: g["is_vanishing"] == true,
                })
                .collect(),
            weights: list("model_weight_stats")
                .iter()
                .map(|w| WeightLayer {
                    std: w["std"].as_f64(),
                    dead_pct: number(&w["dead_neuron_pct"]),
                })
                .collect(),
            data: DataStats {
                train_samples: number(&data["train_samples"]),
                feature_mean: number(&data["feature_mean"]),
                feature_std: number(&data["feature_std"]),
                val_feature_mean: number(&data["val_feature_mean"]),
                val_feature_std: number(&data["val_feature_std"]),
                null_count: data["null_count"].as_u64().unwrap_or(0),
                duplicate_ratio: number(&data["duplicate_ratio"]),
                knn_label_disagreement: number(&data["knn_label_disagreement"]),
                label_distribution: counts(&data["label_distribution"]),
                batch_label_distribution: counts(&data["batch_label_distribution"]),
            },
            modules_in_eval: obs["model_mode_info"]
                .as_object()
                .map_or(0, |m| m.values().filter(|v| *v == "eval").count()),
            code: obs["code_snippet"]["code"]
                .as_str()
                .unwrap_or("")
                .lines()
                .map(str::to_string)
                .collect(),
            config: Config {
                optimizer: config["optimizer"].as_str().unwrap_or("").to_string(),
                learning_rate: number(&config["learning_rate"]),
                momentum: number(&config["momentum"]),
                batch_size: number(&config["batch_size"]),
                dropout_rate: number(&config["dropout_rate"]),
            },
        }
    }

    /// The classes, from the label counts (at least 2).
    pub fn classes(&self) -> usize {
        self.data.label_distribution.len().max(2)
    }

    /// The last finite value of a history.
    pub fn last(history: &[Option<f64>]) -> Option<f64> {
        history.iter().rev().find_map(|v| *v)
    }

    /// The first finite value of a history.
    pub fn first(history: &[Option<f64>]) -> Option<f64> {
        history.iter().find_map(|v| *v)
    }

    /// The smallest finite value of a history.
    pub fn min(history: &[Option<f64>]) -> Option<f64> {
        history.iter().flatten().copied().reduce(f64::min)
    }

    /// The largest finite value of a history.
    pub fn max(history: &[Option<f64>]) -> Option<f64> {
        history.iter().flatten().copied().reduce(f64::max)
    }

    /// Layers before the output layer (the output layer has no relu to die).
    pub fn hidden_weights(&self) -> &[WeightLayer] {
        let n = self.weights.len().saturating_sub(1);
        self.weights.get(..n).unwrap_or_default()
    }
}

/// A line of code without its comment and with single spaces, so
/// `x  =  y  # note` reads `x = y`.
pub fn statement(line: &str) -> String {
    let code = line.split('#').next().unwrap_or("");
    code.split_whitespace().collect::<Vec<_>>().join(" ")
}
