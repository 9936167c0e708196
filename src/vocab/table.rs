//! The vocabulary table: the one place where every action, parameter, config
//! target, callback, data patch, optimiser and diagnosis label is spelled and
//! defined. Everything else (parsing, validation, `available_actions`, the
//! JSON Schema, the REPL's words and help, the docs' tables) is derived from
//! these constants. Adding a label or a data patch is one entry here.

use super::term::{FaultGroup, Term};

/// Root-cause labels accepted by `mark_diagnosed`, each with what it means.
/// The first six are the origin environment's.
pub const LABELS: &[Term] = &[
    Term::label(
        "lr_too_high",
        FaultGroup::Optimisation,
        "updates too large for the loss surface: loss diverges or oscillates",
    ),
    Term::label(
        "vanishing_gradients",
        FaultGroup::Optimisation,
        "gradients shrink layer by layer toward the input so early layers do not learn",
    ),
    Term::label(
        "data_leakage",
        FaultGroup::Data,
        "validation rows also appear in training, so validation metrics overstate generalisation",
    ),
    Term::label(
        "overfitting",
        FaultGroup::Optimisation,
        "the model fits training noise: training loss falls while validation loss rises",
    ),
    Term::label(
        "batchnorm_eval_mode",
        FaultGroup::Program,
        "the model trains in eval mode, so batch norm uses frozen running statistics and dropout is off",
    ),
    Term::label(
        "code_bug",
        FaultGroup::Program,
        "a line of the training script computes the wrong thing",
    ),
    Term::label(
        "scheduler_misconfigured",
        FaultGroup::Optimisation,
        "the learning-rate schedule decays or warms up at the wrong time or by the wrong amount",
    ),
    Term::label(
        "exploding_gradients",
        FaultGroup::Optimisation,
        "gradient norms grow without bound through the layers",
    ),
    Term::label(
        "unnormalized_inputs",
        FaultGroup::Data,
        "input features on a scale or offset far from zero mean/unit variance",
    ),
    Term::label(
        "label_noise",
        FaultGroup::Data,
        "a share of training labels is wrong",
    ),
    Term::label(
        "nan_in_data",
        FaultGroup::Data,
        "NaN or corrupt values in the input rows",
    ),
    Term::label(
        "bad_weight_init",
        FaultGroup::Optimisation,
        "weights initialised at a scale that makes signals vanish or explode",
    ),
    // The catalogue's categories, by group (each a task's root_cause).
    // -- data --
    Term::label(
        "class_imbalance",
        FaultGroup::Data,
        "one class dominates the training data, so the model learns to predict it and rarely the others while plain accuracy hides the missed classes",
    ),
    Term::label(
        "preprocessing_mismatch",
        FaultGroup::Data,
        "training and validation inputs are prepared differently (one split scaled, the other not), so the model is judged on inputs unlike those it learned from",
    ),
    Term::label(
        "augmentation_on_validation",
        FaultGroup::Data,
        "the training augmentation is applied to the validation data too, so validation scores the model on corrupted inputs: its metrics are worse and noisier than the model is",
    ),
    Term::label(
        "unshuffled_data",
        FaultGroup::Data,
        "the loader serves rows in stored order with shuffling off; stored sorted by class, every batch holds one class and each epoch drags the model toward the last class it saw",
    ),
    // -- optimisation --
    Term::label(
        "lr_too_low",
        FaultGroup::Optimisation,
        "updates too small: the loss creeps down and the run ends far from converged",
    ),
    Term::label(
        "over_regularization",
        FaultGroup::Optimisation,
        "weight decay or dropout so strong that the model cannot fit even the training set",
    ),
    Term::label(
        "dead_relus",
        FaultGroup::Optimisation,
        "relu units pushed to output zero for every input: they pass no gradient and never recover",
    ),
    Term::label(
        "batch_size_lr_mismatch",
        FaultGroup::Optimisation,
        "the batch size changed without re-tuning the learning rate, so the run takes too few or too noisy steps",
    ),
    // -- program --
    Term::label(
        "softmax_before_cross_entropy",
        FaultGroup::Program,
        "probabilities, not raw logits, go into CrossEntropyLoss, which applies log-softmax itself: gradients are squashed and the loss cannot fall far",
    ),
    Term::label(
        "wrong_loss_function",
        FaultGroup::Program,
        "the criterion does not fit the output: a regression loss on class scores, so the training loss falls while the classifier learns little",
    ),
    Term::label(
        "loss_sign_flipped",
        FaultGroup::Program,
        "the loss is negated, so the optimiser maximises the real loss: the reported loss falls below zero without bound",
    ),
    Term::label(
        "missing_eval_mode",
        FaultGroup::Program,
        "validation runs without model.eval(): dropout and batch-norm batch statistics make the reported validation metrics worse and noisier than the model is",
    ),
    Term::label(
        "unscaled_gradient_accumulation",
        FaultGroup::Program,
        "gradients are accumulated over micro-batches without dividing each loss by the number of them: the step sums instead of averages, so the effective learning rate is that many times the configured one",
    ),
];

/// What `patch_data_loader` can do. The first is the default.
pub const DATA_PATCHES: &[Term] = &[
    Term::new(
        "remove_overlap",
        "drop validation rows that also occur in the training set",
    )
    .aka(&["dedupe", "deduplicate", "overlap"]),
    Term::new(
        "normalize_features",
        "standardise features with the training set's mean and std",
    )
    .aka(&["normalize", "normalise", "standardize"]),
    Term::new("drop_nan_rows", "drop training rows that contain NaN").aka(&["drop_nan", "nan"]),
    Term::new(
        "filter_noisy_labels",
        "drop training rows whose label disagrees with the majority of their 10 nearest training rows",
    )
    .aka(&["clean_labels", "knn_filter"]),
    Term::new(
        "scale_validation",
        "apply the training loader's fitted feature scaling to the validation rows too",
    )
    .aka(&["match_preprocessing", "transform_validation", "val_transform"]),
    Term::new(
        "no_validation_augmentation",
        "give the validation loader the deterministic evaluation transform, without random augmentation",
    )
    .aka(&["eval_transform", "no_val_augmentation"]),
    Term::new(
        "balance_classes",
        "sample training rows with probability inversely proportional to their class's count (WeightedRandomSampler)",
    )
    .aka(&["oversample", "weighted_sampler", "resample"]),
];

/// Callbacks `add_callback` attaches.
pub const CALLBACKS: &[Term] = &[
    Term::new(
        "early_stopping",
        "stop when validation loss has not improved for early_stopping_patience epochs and restore the best weights",
    ),
    Term::new(
        "gradient_clipping",
        "clip the global gradient norm to gradient_clip_norm (1.0 when unset)",
    ),
    Term::new(
        "lr_warmup",
        "ramp the rate linearly from lr/10 over the first warmup_epochs epochs",
    ),
];

/// Optimisers (`replace_optimizer`, and the `optimizer` config target).
pub const OPTIMIZERS: &[Term] = &[
    Term::new("sgd", "stochastic gradient descent with momentum"),
    Term::new("adam", "Adam (betas 0.9, 0.999)"),
];

pub const ACTIVATIONS: &[Term] = &[
    Term::new("relu", "max(0, x)"),
    Term::new(
        "leaky_relu",
        "relu with slope 0.01 below zero: units cannot die",
    ),
    Term::new("tanh", "hyperbolic tangent"),
    Term::new("sigmoid", "logistic function"),
];

pub const WEIGHT_INITS: &[Term] = &[
    Term::new("kaiming", "He normal, std sqrt(2 / fan_in): right for relu").aka(&["he"]),
    Term::new(
        "xavier",
        "Glorot normal, std sqrt(2 / (fan_in + fan_out)): right for tanh and sigmoid",
    )
    .aka(&["glorot"]),
    Term::new("tiny", "std 0.001: starves deep stacks of signal"),
    Term::new("huge", "std 1 regardless of width: saturates and explodes"),
];

pub const LR_SCHEDULES: &[Term] = &[
    Term::new("constant", "the configured rate every epoch"),
    Term::new(
        "step_decay",
        "multiply the rate by lr_gamma every lr_step_size epochs",
    )
    .aka(&["step"]),
];

/// How the loss weighs the classes (`class_weighting`).
pub const CLASS_WEIGHTINGS: &[Term] = &[
    Term::new("none", "every row counts the same"),
    Term::new(
        "balanced",
        "class c weighs n / (classes x n_c) of the training labels, as CrossEntropyLoss(weight=...)",
    )
    .aka(&["inverse_frequency", "weighted"]),
];

/// The words a flag target accepts (besides JSON `true`/`false`).
pub const FLAG_WORDS: &[Term] = &[
    Term::new("true", "on").aka(&["on", "yes"]),
    Term::new("false", "off").aka(&["off", "no"]),
];

/// What a config target accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// A finite number in `[min, max]`.
    Real { min: f64, max: f64 },
    /// A whole number in `[min, max]`.
    Count { min: u64, max: u64 },
    /// One of these words (or an alias).
    Choice(&'static [Term]),
    /// `true` or `false`.
    Flag,
}

/// One hyper-parameter `modify_config` may set. Its name is the field of
/// `TrainConfig` and of the observation's `current_config`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfigTarget {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub range: Range,
    /// Said after the range in errors and docs; empty for none.
    pub note: &'static str,
}

const fn target(name: &'static str, range: Range) -> ConfigTarget {
    ConfigTarget {
        name,
        aliases: &[],
        range,
        note: "",
    }
}

impl ConfigTarget {
    const fn aka(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    const fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }
}

/// Ranges are part of the contract: they bound the cost of a run to a few
/// milliseconds and keep every value meaningful, for task files and players alike.
pub const CONFIG_TARGETS: &[ConfigTarget] = &[
    target(
        "learning_rate",
        Range::Real {
            min: 1e-6,
            max: 10.0,
        },
    )
    .aka(&["lr"]),
    target("optimizer", Range::Choice(OPTIMIZERS)),
    target(
        "momentum",
        Range::Real {
            min: 0.0,
            max: 0.999,
        },
    )
    .note("SGD only"),
    target("weight_decay", Range::Real { min: 0.0, max: 1.0 }).aka(&["wd"]),
    target("batch_size", Range::Count { min: 1, max: 512 }),
    target("epochs", Range::Count { min: 1, max: 100 }),
    target("hidden_dim", Range::Count { min: 2, max: 128 }).aka(&["hidden"]),
    target("num_layers", Range::Count { min: 2, max: 8 })
        .aka(&["layers"])
        .note("linear layers, the output layer included"),
    target("activation", Range::Choice(ACTIVATIONS)),
    target("weight_init", Range::Choice(WEIGHT_INITS)).aka(&["init"]),
    target("batch_norm", Range::Flag).aka(&["bn"]),
    target("dropout_rate", Range::Real { min: 0.0, max: 0.9 }).aka(&["dropout"]),
    target(
        "gradient_clip_norm",
        Range::Real {
            min: 0.0,
            max: 1000.0,
        },
    )
    .aka(&["clip", "grad_clip"])
    .note("0 turns clipping off"),
    target("lr_schedule", Range::Choice(LR_SCHEDULES)),
    target("lr_step_size", Range::Count { min: 1, max: 100 }),
    target(
        "lr_gamma",
        Range::Real {
            min: 0.01,
            max: 1.0,
        },
    ),
    target("warmup_epochs", Range::Count { min: 1, max: 50 }).note("with the lr_warmup callback"),
    target("early_stopping_patience", Range::Count { min: 1, max: 50 })
        .aka(&["patience"])
        .note("with the early_stopping callback"),
    target("augmentation_noise", Range::Real { min: 0.0, max: 5.0 })
        .aka(&["augmentation"])
        .note("std of Gaussian noise added to training features"),
    target("shuffle", Range::Flag).note("reshuffle the training rows every epoch"),
    target("class_weighting", Range::Choice(CLASS_WEIGHTINGS))
        .aka(&["class_weights", "loss_weights"])
        .note("weights of the classes in the loss"),
    target("accumulation_steps", Range::Count { min: 1, max: 16 })
        .aka(&["accum_steps"])
        .note("micro-batches per step: train.py's ACCUM_STEPS"),
];

/// The five things a player can look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inspection {
    Gradients,
    DataBatch,
    ModelModes,
    ModelWeights,
    Code,
}

/// What an action does, so the engine can dispatch without spelling names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Inspect(Inspection),
    ModifyConfig,
    AddCallback,
    ReplaceOptimizer,
    PatchDataLoader,
    FixModelMode,
    FixCode,
    RestartRun,
    MarkDiagnosed,
}

/// The role an action plays in an episode (inspections earn evidence, fixes
/// arm `restart_run`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Inspection,
    Fix,
    Restart,
    Diagnosis,
}

/// When an action is offered in `available_actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Always,
    /// After `inspect_code`: the player has seen the line numbers.
    AfterCodeInspected,
    /// After a fix that has not been re-trained yet.
    AfterPendingFix,
}

/// A field of the action request (`ActionRequest`'s keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Target,
    Value,
    Diagnosis,
    Line,
    Replacement,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Target,
        Field::Value,
        Field::Diagnosis,
        Field::Line,
        Field::Replacement,
    ];

    /// The request's JSON key.
    pub const fn key(self) -> &'static str {
        match self {
            Field::Target => "target",
            Field::Value => "value",
            Field::Diagnosis => "diagnosis",
            Field::Line => "line",
            Field::Replacement => "replacement",
        }
    }
}

/// The values a parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Values {
    /// A config target name or alias.
    ConfigTarget,
    /// A value in the range of the chosen config target.
    ConfigValue,
    /// One of these words (or an alias).
    Terms(&'static [Term]),
    /// A 1-based line number of `train.py`.
    Line,
    /// One line of Python.
    Code,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    pub field: Field,
    pub required: bool,
    pub values: Values,
}

const fn required(field: Field, values: Values) -> Param {
    Param {
        field,
        required: true,
        values,
    }
}

const fn optional(field: Field, values: Values) -> Param {
    Param {
        field,
        required: false,
        values,
    }
}

/// One action type of the protocol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActionSpec {
    pub name: &'static str,
    pub op: Op,
    pub role: Role,
    pub availability: Availability,
    pub params: &'static [Param],
    /// What it does, in one line.
    pub effect: &'static str,
    /// The word a person types for it after a command (`inspect data`); the
    /// REPL builds its words from these. Empty when there is none.
    pub short: &'static str,
}

const fn action(name: &'static str, op: Op, role: Role, effect: &'static str) -> ActionSpec {
    ActionSpec {
        name,
        op,
        role,
        availability: Availability::Always,
        params: &[],
        effect,
        short: "",
    }
}

impl ActionSpec {
    const fn with(mut self, params: &'static [Param]) -> Self {
        self.params = params;
        self
    }

    const fn short(mut self, word: &'static str) -> Self {
        self.short = word;
        self
    }

    const fn offered(mut self, availability: Availability) -> Self {
        self.availability = availability;
        self
    }
}

/// Every action type, in the order `available_actions` lists them.
pub const ACTIONS: &[ActionSpec] = &[
    action(
        "inspect_gradients",
        Op::Inspect(Inspection::Gradients),
        Role::Inspection,
        "fills `gradient_stats`",
    )
    .short("gradients"),
    action(
        "inspect_data_batch",
        Op::Inspect(Inspection::DataBatch),
        Role::Inspection,
        "fills `data_batch_stats`",
    )
    .short("data"),
    action(
        "inspect_model_modes",
        Op::Inspect(Inspection::ModelModes),
        Role::Inspection,
        "fills `model_mode_info`",
    )
    .short("modes"),
    action(
        "inspect_model_weights",
        Op::Inspect(Inspection::ModelWeights),
        Role::Inspection,
        "fills `model_weight_stats`",
    )
    .short("weights"),
    action(
        "inspect_code",
        Op::Inspect(Inspection::Code),
        Role::Inspection,
        "fills `code_snippet`; makes `fix_code` available",
    )
    .short("code"),
    action(
        "modify_config",
        Op::ModifyConfig,
        Role::Fix,
        "sets a hyper-parameter",
    )
    .with(&[
        required(Field::Target, Values::ConfigTarget),
        required(Field::Value, Values::ConfigValue),
    ]),
    action(
        "add_callback",
        Op::AddCallback,
        Role::Fix,
        "attaches a training callback",
    )
    .with(&[required(Field::Target, Values::Terms(CALLBACKS))]),
    action(
        "replace_optimizer",
        Op::ReplaceOptimizer,
        Role::Fix,
        "replaces the optimiser",
    )
    .with(&[required(Field::Value, Values::Terms(OPTIMIZERS))]),
    action(
        "patch_data_loader",
        Op::PatchDataLoader,
        Role::Fix,
        "patches the data loader",
    )
    .with(&[optional(Field::Target, Values::Terms(DATA_PATCHES))]),
    action(
        "fix_model_mode",
        Op::FixModelMode,
        Role::Fix,
        "puts `model.train()` at the start of every epoch and `model.eval()` before validation",
    ),
    action(
        "fix_code",
        Op::FixCode,
        Role::Fix,
        "replaces one line of `train.py`",
    )
    .with(&[
        required(Field::Line, Values::Line),
        required(Field::Replacement, Values::Code),
    ])
    .offered(Availability::AfterCodeInspected),
    action(
        "restart_run",
        Op::RestartRun,
        Role::Restart,
        "re-trains with the current config and code",
    )
    .offered(Availability::AfterPendingFix),
    action(
        "mark_diagnosed",
        Op::MarkDiagnosed,
        Role::Diagnosis,
        "names the root cause and ends the episode",
    )
    .with(&[required(Field::Diagnosis, Values::Terms(LABELS))]),
];
