//! The hyper-parameters of one training run: what `modify_config`,
//! `replace_optimizer` and `add_callback` change, each with a documented valid
//! range so that no value can make a run explode in memory or time.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A config error names the target and says what would have been accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown config target '{target}' (known: {known})")]
    UnknownTarget { target: String, known: String },
    #[error("{target} must be {expected}, got {got}")]
    BadValue {
        target: String,
        expected: String,
        got: String,
    },
    #[error("unknown callback '{name}' (known: early_stopping, gradient_clipping, lr_warmup)")]
    UnknownCallback { name: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    /// relu with slope 0.01 below zero: units cannot die outright.
    LeakyRelu,
    Tanh,
    Sigmoid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightInit {
    /// He normal: std = sqrt(2 / fan_in). Right for relu.
    Kaiming,
    /// Glorot normal: std = sqrt(2 / (fan_in + fan_out)). Right for tanh/sigmoid.
    Xavier,
    /// std = 0.001: a deliberately bad init that starves deep stacks of signal.
    Tiny,
    /// std = 1.0 regardless of width: a deliberately bad init that saturates.
    Huge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    Sgd,
    Adam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    Constant,
    /// Multiply the rate by `lr_gamma` every `lr_step_size` epochs.
    StepDecay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Callback {
    /// Stop when validation loss has not improved for `early_stopping_patience` epochs.
    EarlyStopping,
    /// Clip the global gradient norm to `gradient_clip_norm` (1.0 when unset).
    GradientClipping,
    /// Ramp the rate linearly from lr/10 over the first `warmup_epochs` epochs.
    LrWarmup,
}

impl Callback {
    pub const ALL: [Callback; 3] = [
        Callback::EarlyStopping,
        Callback::GradientClipping,
        Callback::LrWarmup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Callback::EarlyStopping => "early_stopping",
            Callback::GradientClipping => "gradient_clipping",
            Callback::LrWarmup => "lr_warmup",
        }
    }

    pub fn parse(name: &str) -> Result<Self, ConfigError> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == name.trim())
            .ok_or_else(|| ConfigError::UnknownCallback {
                name: name.to_string(),
            })
    }
}

/// A value as it arrives from a player: JSON number, string or bool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl fmt::Display for ConfigValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigValue::Bool(b) => write!(f, "{b}"),
            ConfigValue::Number(n) => write!(f, "{n}"),
            ConfigValue::Text(s) => write!(f, "'{s}'"),
        }
    }
}

/// Everything that shapes one training run and that a player may change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub learning_rate: f64,
    pub optimizer: OptimizerKind,
    pub momentum: f64,
    pub weight_decay: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub hidden_dim: usize,
    /// Number of linear layers, the output layer included.
    pub num_layers: usize,
    pub activation: Activation,
    pub weight_init: WeightInit,
    pub batch_norm: bool,
    pub dropout_rate: f64,
    /// 0 means no clipping.
    pub gradient_clip_norm: f64,
    pub lr_schedule: LrSchedule,
    pub lr_step_size: usize,
    pub lr_gamma: f64,
    pub warmup_epochs: usize,
    pub early_stopping_patience: usize,
    /// Std of Gaussian noise added to training features each batch (0 = off).
    pub augmentation_noise: f64,
    pub callbacks: Vec<Callback>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            learning_rate: 0.01,
            optimizer: OptimizerKind::Sgd,
            momentum: 0.9,
            weight_decay: 0.0,
            batch_size: 32,
            epochs: 20,
            hidden_dim: 16,
            num_layers: 4,
            activation: Activation::Relu,
            weight_init: WeightInit::Kaiming,
            batch_norm: false,
            dropout_rate: 0.0,
            gradient_clip_norm: 0.0,
            lr_schedule: LrSchedule::Constant,
            lr_step_size: 5,
            lr_gamma: 0.5,
            warmup_epochs: 3,
            early_stopping_patience: 3,
            augmentation_noise: 0.0,
            callbacks: Vec::new(),
        }
    }
}

/// One settable target: its name, what it accepts, and how to apply it.
struct Target {
    name: &'static str,
    expected: &'static str,
    apply: fn(&mut TrainConfig, &ConfigValue) -> Option<()>,
}

fn number(value: &ConfigValue) -> Option<f64> {
    let n = match value {
        ConfigValue::Number(n) => *n,
        ConfigValue::Text(s) => s.trim().parse::<f64>().ok()?,
        ConfigValue::Bool(_) => return None,
    };
    n.is_finite().then_some(n)
}

fn real_in(value: &ConfigValue, lo: f64, hi: f64) -> Option<f64> {
    number(value).filter(|n| (lo..=hi).contains(n))
}

fn count_in(value: &ConfigValue, lo: usize, hi: usize) -> Option<usize> {
    let n = number(value)?;
    if n.fract() != 0.0 || n < lo as f64 || n > hi as f64 {
        return None;
    }
    Some(n as usize)
}

fn word(value: &ConfigValue) -> Option<&str> {
    match value {
        ConfigValue::Text(s) => Some(s.trim()),
        _ => None,
    }
}

fn flag(value: &ConfigValue) -> Option<bool> {
    match value {
        ConfigValue::Bool(b) => Some(*b),
        ConfigValue::Text(s) => match s.trim() {
            "true" | "on" | "yes" => Some(true),
            "false" | "off" | "no" => Some(false),
            _ => None,
        },
        ConfigValue::Number(_) => None,
    }
}

pub fn parse_optimizer(name: &str) -> Option<OptimizerKind> {
    match name.trim().to_ascii_lowercase().as_str() {
        "sgd" => Some(OptimizerKind::Sgd),
        "adam" => Some(OptimizerKind::Adam),
        _ => None,
    }
}

fn parse_activation(name: &str) -> Option<Activation> {
    match name {
        "relu" => Some(Activation::Relu),
        "leaky_relu" => Some(Activation::LeakyRelu),
        "tanh" => Some(Activation::Tanh),
        "sigmoid" => Some(Activation::Sigmoid),
        _ => None,
    }
}

fn parse_init(name: &str) -> Option<WeightInit> {
    match name {
        "kaiming" | "he" => Some(WeightInit::Kaiming),
        "xavier" | "glorot" => Some(WeightInit::Xavier),
        "tiny" => Some(WeightInit::Tiny),
        "huge" => Some(WeightInit::Huge),
        _ => None,
    }
}

/// Ranges are part of the contract (docs/TASKS.md lists them): they bound the
/// cost of a run to a few milliseconds and keep every value meaningful.
const TARGETS: &[Target] = &[
    Target {
        name: "learning_rate",
        expected: "a number in [1e-6, 10]",
        apply: |c, v| {
            c.learning_rate = real_in(v, 1e-6, 10.0)?;
            Some(())
        },
    },
    Target {
        name: "optimizer",
        expected: "one of sgd, adam",
        apply: |c, v| {
            c.optimizer = parse_optimizer(word(v)?)?;
            Some(())
        },
    },
    Target {
        name: "momentum",
        expected: "a number in [0, 0.999]",
        apply: |c, v| {
            c.momentum = real_in(v, 0.0, 0.999)?;
            Some(())
        },
    },
    Target {
        name: "weight_decay",
        expected: "a number in [0, 1]",
        apply: |c, v| {
            c.weight_decay = real_in(v, 0.0, 1.0)?;
            Some(())
        },
    },
    Target {
        name: "batch_size",
        expected: "a whole number in [1, 512]",
        apply: |c, v| {
            c.batch_size = count_in(v, 1, 512)?;
            Some(())
        },
    },
    Target {
        name: "epochs",
        expected: "a whole number in [1, 100]",
        apply: |c, v| {
            c.epochs = count_in(v, 1, 100)?;
            Some(())
        },
    },
    Target {
        name: "hidden_dim",
        expected: "a whole number in [2, 128]",
        apply: |c, v| {
            c.hidden_dim = count_in(v, 2, 128)?;
            Some(())
        },
    },
    Target {
        name: "num_layers",
        expected: "a whole number in [2, 8]",
        apply: |c, v| {
            c.num_layers = count_in(v, 2, 8)?;
            Some(())
        },
    },
    Target {
        name: "activation",
        expected: "one of relu, leaky_relu, tanh, sigmoid",
        apply: |c, v| {
            c.activation = parse_activation(word(v)?)?;
            Some(())
        },
    },
    Target {
        name: "weight_init",
        expected: "one of kaiming, xavier, tiny, huge",
        apply: |c, v| {
            c.weight_init = parse_init(word(v)?)?;
            Some(())
        },
    },
    Target {
        name: "batch_norm",
        expected: "true or false",
        apply: |c, v| {
            c.batch_norm = flag(v)?;
            Some(())
        },
    },
    Target {
        name: "dropout_rate",
        expected: "a number in [0, 0.9]",
        apply: |c, v| {
            c.dropout_rate = real_in(v, 0.0, 0.9)?;
            Some(())
        },
    },
    Target {
        name: "gradient_clip_norm",
        expected: "a number in [0, 1000] (0 turns clipping off)",
        apply: |c, v| {
            c.gradient_clip_norm = real_in(v, 0.0, 1000.0)?;
            Some(())
        },
    },
    Target {
        name: "lr_schedule",
        expected: "one of constant, step_decay",
        apply: |c, v| {
            c.lr_schedule = match word(v)? {
                "constant" => LrSchedule::Constant,
                "step_decay" | "step" => LrSchedule::StepDecay,
                _ => return None,
            };
            Some(())
        },
    },
    Target {
        name: "lr_step_size",
        expected: "a whole number in [1, 100]",
        apply: |c, v| {
            c.lr_step_size = count_in(v, 1, 100)?;
            Some(())
        },
    },
    Target {
        name: "lr_gamma",
        expected: "a number in [0.01, 1]",
        apply: |c, v| {
            c.lr_gamma = real_in(v, 0.01, 1.0)?;
            Some(())
        },
    },
    Target {
        name: "warmup_epochs",
        expected: "a whole number in [1, 50]",
        apply: |c, v| {
            c.warmup_epochs = count_in(v, 1, 50)?;
            Some(())
        },
    },
    Target {
        name: "early_stopping_patience",
        expected: "a whole number in [1, 50]",
        apply: |c, v| {
            c.early_stopping_patience = count_in(v, 1, 50)?;
            Some(())
        },
    },
    Target {
        name: "augmentation_noise",
        expected: "a number in [0, 5]",
        apply: |c, v| {
            c.augmentation_noise = real_in(v, 0.0, 5.0)?;
            Some(())
        },
    },
];

/// Short names a person types; the canonical name is what is stored and shown.
const ALIASES: &[(&str, &str)] = &[
    ("lr", "learning_rate"),
    ("wd", "weight_decay"),
    ("dropout", "dropout_rate"),
    ("clip", "gradient_clip_norm"),
    ("grad_clip", "gradient_clip_norm"),
    ("layers", "num_layers"),
    ("hidden", "hidden_dim"),
    ("init", "weight_init"),
    ("bn", "batch_norm"),
    ("patience", "early_stopping_patience"),
    ("augmentation", "augmentation_noise"),
];

impl TrainConfig {
    /// Names of every settable target, in a stable order.
    pub fn targets() -> impl Iterator<Item = &'static str> {
        TARGETS.iter().map(|t| t.name)
    }

    /// The canonical name of `target`, resolving aliases.
    pub fn canonical_target(target: &str) -> Option<&'static str> {
        let target = target.trim();
        let resolved = ALIASES
            .iter()
            .find(|(alias, _)| *alias == target)
            .map_or(target, |(_, name)| name);
        TARGETS.iter().find(|t| t.name == resolved).map(|t| t.name)
    }

    /// Set one hyper-parameter. On error the config is unchanged.
    pub fn set(&mut self, target: &str, value: &ConfigValue) -> Result<&'static str, ConfigError> {
        let name = Self::canonical_target(target).ok_or_else(|| ConfigError::UnknownTarget {
            target: target.to_string(),
            known: Self::targets().collect::<Vec<_>>().join(", "),
        })?;
        let spec =
            TARGETS
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| ConfigError::UnknownTarget {
                    target: target.to_string(),
                    known: String::new(),
                })?;
        let mut next = self.clone();
        match (spec.apply)(&mut next, value) {
            Some(()) => {
                *self = next;
                Ok(name)
            }
            None => Err(ConfigError::BadValue {
                target: name.to_string(),
                expected: spec.expected.to_string(),
                got: value.to_string(),
            }),
        }
    }

    pub fn has_callback(&self, callback: Callback) -> bool {
        self.callbacks.contains(&callback)
    }

    /// Attach a callback; attaching twice is harmless. Returns whether it was new.
    pub fn add_callback(&mut self, callback: Callback) -> bool {
        if self.has_callback(callback) {
            return false;
        }
        self.callbacks.push(callback);
        self.callbacks.sort();
        true
    }

    /// The clip norm in force: the explicit setting, else 1.0 when the callback is on.
    pub fn effective_clip_norm(&self) -> Option<f64> {
        if self.gradient_clip_norm > 0.0 {
            Some(self.gradient_clip_norm)
        } else if self.has_callback(Callback::GradientClipping) {
            Some(1.0)
        } else {
            None
        }
    }

    /// The learning rate used during `epoch` (0-based) after schedule and warmup.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        let mut lr = self.learning_rate;
        if self.lr_schedule == LrSchedule::StepDecay && self.lr_step_size > 0 {
            let decays = (epoch / self.lr_step_size) as i32;
            lr *= libm::pow(self.lr_gamma, f64::from(decays));
        }
        if self.has_callback(Callback::LrWarmup) && epoch < self.warmup_epochs {
            let ramp = 0.1 + 0.9 * epoch as f64 / self.warmup_epochs as f64;
            lr *= ramp;
        }
        lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_accepts_aliases_and_strings() {
        let mut c = TrainConfig::default();
        assert_eq!(
            c.set("lr", &ConfigValue::Text("1e-3".into())),
            Ok("learning_rate")
        );
        assert_eq!(c.learning_rate, 1e-3);
        c.set("optimizer", &ConfigValue::Text("Adam".into()))
            .unwrap();
        assert_eq!(c.optimizer, OptimizerKind::Adam);
        c.set("bn", &ConfigValue::Bool(true)).unwrap();
        assert!(c.batch_norm);
    }

    #[test]
    fn out_of_range_is_rejected_and_leaves_config_alone() {
        let mut c = TrainConfig::default();
        let before = c.clone();
        let err = c
            .set("learning_rate", &ConfigValue::Number(-1.0))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "learning_rate must be a number in [1e-6, 10], got -1"
        );
        assert!(c.set("hidden_dim", &ConfigValue::Number(1e9)).is_err());
        assert!(c.set("batch_size", &ConfigValue::Number(2.5)).is_err());
        assert!(
            c.set("learning_rate", &ConfigValue::Text("NaN".into()))
                .is_err()
        );
        assert!(
            c.set("learning_rate", &ConfigValue::Text("inf".into()))
                .is_err()
        );
        assert_eq!(c, before);
    }

    #[test]
    fn unknown_target_lists_known_ones() {
        let err = TrainConfig::default()
            .set("lernrate", &ConfigValue::Number(1.0))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown config target 'lernrate'")
        );
        assert!(err.to_string().contains("learning_rate"));
    }

    #[test]
    fn schedule_and_warmup_shape_the_rate() {
        let mut c = TrainConfig {
            learning_rate: 1.0,
            lr_schedule: LrSchedule::StepDecay,
            lr_step_size: 2,
            lr_gamma: 0.5,
            ..TrainConfig::default()
        };
        assert_eq!(c.lr_at(0), 1.0);
        assert_eq!(c.lr_at(2), 0.5);
        assert_eq!(c.lr_at(5), 0.25);
        c.lr_schedule = LrSchedule::Constant;
        c.add_callback(Callback::LrWarmup);
        assert!((c.lr_at(0) - 0.1).abs() < 1e-12);
        assert_eq!(c.lr_at(3), 1.0);
    }
}
