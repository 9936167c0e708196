//! The hyper-parameters of one training run: what `modify_config`,
//! `replace_optimizer` and `add_callback` change, each with a documented valid
//! range so that no value can make a run explode in memory or time. The
//! targets, their ranges and their words live in the vocabulary table.

use crate::vocab;
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
    #[error("unknown callback '{name}' (known: {known})")]
    UnknownCallback { name: String, known: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    /// relu with slope 0.01 below zero: units cannot die outright.
    LeakyRelu,
    Tanh,
    Sigmoid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    Sgd,
    Adam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    Constant,
    /// Multiply the rate by `lr_gamma` every `lr_step_size` epochs.
    StepDecay,
}

/// How the loss weighs each class (`CrossEntropyLoss(weight=…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeighting {
    /// Every row counts the same.
    None,
    /// Class c weighs n / (classes · n_c), from the training labels:
    /// scikit-learn's "balanced" weights.
    Balanced,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
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
        vocab::name_of(vocab::CALLBACKS, &self)
    }

    pub fn parse(name: &str) -> Result<Self, ConfigError> {
        vocab::typed(vocab::CALLBACKS, name).ok_or_else(|| ConfigError::UnknownCallback {
            name: name.to_string(),
            known: vocab::names(vocab::CALLBACKS)
                .collect::<Vec<_>>()
                .join(", "),
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Whether the training loader reshuffles the rows every epoch
    /// (`DataLoader(shuffle=…)`); off, it serves them in stored order.
    pub shuffle: bool,
    pub class_weighting: ClassWeighting,
    /// Micro-batches per optimizer step where train.py accumulates
    /// gradients (its `ACCUM_STEPS`); a script that does not ignores it.
    pub accumulation_steps: usize,
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
            shuffle: true,
            class_weighting: ClassWeighting::None,
            accumulation_steps: 1,
            callbacks: Vec::new(),
        }
    }
}

fn number(value: &ConfigValue) -> Option<f64> {
    let n = match value {
        ConfigValue::Number(n) => *n,
        ConfigValue::Text(s) => s.trim().parse::<f64>().ok()?,
        ConfigValue::Bool(_) => return None,
    };
    n.is_finite().then_some(n)
}

fn flag(value: &ConfigValue) -> Option<bool> {
    match value {
        ConfigValue::Bool(b) => Some(*b),
        ConfigValue::Text(s) => vocab::find(vocab::FLAG_WORDS, s).and_then(|t| t.name.parse().ok()),
        ConfigValue::Number(_) => None,
    }
}

pub fn parse_optimizer(name: &str) -> Option<OptimizerKind> {
    vocab::typed(vocab::OPTIMIZERS, name)
}

impl OptimizerKind {
    pub fn name(self) -> &'static str {
        vocab::name_of(vocab::OPTIMIZERS, &self)
    }
}

/// A value as the config stores it, checked against its target's range.
fn checked(range: &vocab::Range, value: &ConfigValue) -> Option<serde_json::Value> {
    match range {
        vocab::Range::Real { min, max } => {
            let n = number(value).filter(|n| (*min..=*max).contains(n))?;
            serde_json::Number::from_f64(n).map(serde_json::Value::Number)
        }
        vocab::Range::Count { min, max } => {
            let n = number(value)?;
            if n.fract() != 0.0 || n < *min as f64 || n > *max as f64 {
                return None;
            }
            Some(serde_json::Value::from(n as u64))
        }
        vocab::Range::Choice(terms) => {
            let ConfigValue::Text(word) = value else {
                return None;
            };
            vocab::find(terms, word).map(|t| serde_json::Value::from(t.name))
        }
        vocab::Range::Flag => flag(value).map(serde_json::Value::Bool),
    }
}

impl TrainConfig {
    /// Names of every settable target, in table order.
    pub fn targets() -> impl Iterator<Item = &'static str> {
        vocab::CONFIG_TARGETS.iter().map(|t| t.name)
    }

    /// The canonical name of `target`, resolving aliases.
    pub fn canonical_target(target: &str) -> Option<&'static str> {
        vocab::config_target(target).map(|t| t.name)
    }

    /// Set one hyper-parameter. On error the config is unchanged.
    ///
    /// A target's name is its field here (the vocabulary table is the only
    /// place it is spelled), so the checked value is written through serde:
    /// adding a target is a table entry plus the field.
    pub fn set(&mut self, target: &str, value: &ConfigValue) -> Result<&'static str, ConfigError> {
        let spec = vocab::config_target(target).ok_or_else(|| ConfigError::UnknownTarget {
            target: target.to_string(),
            known: Self::targets().collect::<Vec<_>>().join(", "),
        })?;
        let bad = || ConfigError::BadValue {
            target: spec.name.to_string(),
            expected: spec.expected(),
            got: value.to_string(),
        };
        let stored = checked(&spec.range, value).ok_or_else(bad)?;
        let mut fields = match serde_json::to_value(&*self) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => return Err(bad()),
        };
        fields.insert(spec.name.to_string(), stored);
        *self = serde_json::from_value(serde_json::Value::Object(fields)).map_err(|_| bad())?;
        Ok(spec.name)
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
    fn every_table_target_is_a_field_and_every_field_a_target() {
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(TrainConfig::default())
        else {
            panic!("config is not an object")
        };
        let mut names: Vec<&str> = fields
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "callbacks")
            .collect();
        names.sort_unstable();
        let mut targets: Vec<&str> = TrainConfig::targets().collect();
        targets.sort_unstable();
        assert_eq!(names, targets);
    }

    #[test]
    fn every_word_of_every_choice_sets_its_target() {
        for t in vocab::CONFIG_TARGETS {
            for word in t.range.words() {
                let mut c = TrainConfig::default();
                assert!(
                    c.set(t.name, &ConfigValue::Text(word.to_string())).is_ok(),
                    "{} {word}",
                    t.name
                );
            }
        }
        let mut c = TrainConfig::default();
        c.set("init", &ConfigValue::Text("He".into())).unwrap();
        assert_eq!(c.weight_init, WeightInit::Kaiming);
    }

    #[test]
    fn every_enum_variant_has_a_table_name() {
        for cb in Callback::ALL {
            assert_eq!(Callback::parse(cb.name()), Ok(cb));
        }
        for o in [OptimizerKind::Sgd, OptimizerKind::Adam] {
            assert_eq!(parse_optimizer(o.name()), Some(o));
        }
        for w in [ClassWeighting::None, ClassWeighting::Balanced] {
            let word = vocab::name_of(vocab::CLASS_WEIGHTINGS, &w);
            assert_eq!(vocab::typed(vocab::CLASS_WEIGHTINGS, word), Some(w));
        }
        assert_eq!(Callback::ALL.len(), vocab::CALLBACKS.len());
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
