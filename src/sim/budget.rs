//! The work budget: what a training run will cost, computed from its config,
//! its data sizes and its train.py before it starts, and the limit every run
//! is held to (a player's restart as much as a task file's runs). The unit is
//! the multiply-add: the matrix products dominate, and the other work
//! (activations, batch norm, dropout masks, optimizer updates, augmentation
//! noise, the data statistics) is counted in multiply-add equivalents measured
//! against them on the reference machine (docs/PERFORMANCE.md).

use super::config::{OptimizerKind, TrainConfig};
use super::data::{DataPatch, DataSpec, LABEL_SAMPLE};
use super::program::{Node, Program, Stmt};

/// The most work one run may take, in multiply-add equivalents. The slowest
/// run this admits takes well under a second on one core (docs/PERFORMANCE.md
/// gives the measured figure); every built-in task's run costs about 1% of it.
pub const BUDGET: f64 = 2.0e9;

// The other work, in multiply-adds of the same time, measured (release build,
// x86_64 with AVX2) by timing runs where each term dominates.

/// A layer narrower than this is as slow per input as one this wide (the
/// products vectorise across a layer's outputs).
const MIN_EFFECTIVE_WIDTH: f64 = 12.0;
/// Per unit and row: activation, batch norm, dropout (a random mask).
const ACTIVATION: f64 = 2.0;
const BATCH_NORM: f64 = 8.0;
const DROPOUT: f64 = 60.0;
/// Per row and class: softmax and cross-entropy (exp and ln), bookkeeping.
const TRAIN_ROW_PER_CLASS: f64 = 450.0;
const VAL_ROW_PER_CLASS: f64 = 350.0;
/// Per batch: assembling it, gradient norms, the step's bookkeeping.
const BATCH: f64 = 3300.0;
/// Per parameter and update (momentum or Adam's moments, weight decay).
const SGD_UPDATE: f64 = 28.0;
const ADAM_UPDATE: f64 = 90.0;
/// Per feature and row when augmentation noise is on (a normal draw).
const NOISE: f64 = 320.0;
/// Per validation row, training row and feature: the nearest-neighbour scan
/// behind `duplicate_ratio` and `class_overlap_score`; per pair of training rows
/// and feature, the label-agreement scan.
const NEIGHBOUR: f64 = 2.5;

/// What a run costs, by where the work goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunCost {
    /// Forward and backward passes over the training rows, all epochs.
    pub training: f64,
    /// Optimizer updates and gradient resets, all epochs: grows as the batch shrinks.
    pub updates: f64,
    /// Validation passes, all epochs.
    pub validation: f64,
    /// Once per run: building the data, its statistics, the final evaluation.
    pub fixed: f64,
}

impl RunCost {
    pub fn total(&self) -> f64 {
        self.training + self.updates + self.validation + self.fixed
    }
}

/// A run over [`BUDGET`], with what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "this run would take about {} multiply-adds, over the budget of {}: {advice}",
    amount(self.cost.total()),
    amount(BUDGET)
)]
pub struct OverBudget {
    pub cost: RunCost,
    pub advice: String,
}

/// `1.2e9` → `1.2 billion`.
fn amount(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.1} billion", n / 1e9)
    } else {
        format!("{:.0} million", n / 1e6)
    }
}

/// How many times each kind of statement runs per batch, per epoch and once.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    forward: f64,
    backward: f64,
    step: f64,
    zero_grad: f64,
    validate: f64,
}

fn count(nodes: &[Node], per_batch: &mut Counts, per_epoch: &mut Counts, once: &mut Counts) {
    for node in nodes {
        match node {
            Node::Stmt(stmt, _) => tally(stmt, once),
            Node::EpochLoop(body) => {
                for inner in body {
                    match inner {
                        Node::Stmt(stmt, _) => tally(stmt, per_epoch),
                        Node::BatchLoop(batch) => {
                            for b in batch {
                                match b {
                                    Node::Stmt(stmt, _) => tally(stmt, per_batch),
                                    // Runs on every ACCUM_STEPS-th batch: counted
                                    // as every batch, an upper bound.
                                    Node::AccumulationGate(gated) => {
                                        for g in gated {
                                            if let Node::Stmt(stmt, _) = g {
                                                tally(stmt, per_batch);
                                            }
                                        }
                                    }
                                    Node::EpochLoop(_) | Node::BatchLoop(_) => {}
                                }
                            }
                        }
                        Node::EpochLoop(_) | Node::AccumulationGate(_) => {}
                    }
                }
            }
            Node::BatchLoop(_) | Node::AccumulationGate(_) => {}
        }
    }
}

fn tally(stmt: &Stmt, counts: &mut Counts) {
    match stmt {
        Stmt::Forward { .. } => counts.forward += 1.0,
        Stmt::Backward => counts.backward += 1.0,
        Stmt::Step => counts.step += 1.0,
        Stmt::ZeroGrad => counts.zero_grad += 1.0,
        Stmt::Validate => counts.validate += 1.0,
        _ => {}
    }
}

/// The cost of training `config` on `data` with `program`.
pub fn run_cost(
    data: &DataSpec,
    config: &TrainConfig,
    program: &Program,
    patches: &[DataPatch],
) -> RunCost {
    let (features, classes) = (data.features as f64, data.classes as f64);
    let (n_train, n_val) = (data.train_samples as f64, data.val_samples as f64);
    let filtered = if patches.contains(&DataPatch::FilterNoisyLabels) {
        1.0
    } else {
        0.0
    };
    let hidden = config.hidden_dim as f64;
    let hidden_layers = config.num_layers.saturating_sub(1) as f64;
    let wide = |width: f64| width.max(MIN_EFFECTIVE_WIDTH);
    // Weights: inputs → hidden → … → hidden → classes.
    let (weights, products) = if hidden_layers > 0.0 {
        (
            features * hidden + (hidden_layers - 1.0) * hidden * hidden + hidden * classes,
            features * wide(hidden)
                + (hidden_layers - 1.0) * hidden * wide(hidden)
                + hidden * wide(classes),
        )
    } else {
        (features * classes, features * wide(classes))
    };
    let hidden_units = hidden_layers * hidden;
    let per_unit = ACTIVATION
        + if config.batch_norm { BATCH_NORM } else { 0.0 }
        + if config.dropout_rate > 0.0 {
            DROPOUT
        } else {
            0.0
        };
    let params = weights
        + (hidden_units + classes)
        + if config.batch_norm {
            2.0 * hidden_units
        } else {
            0.0
        };
    let forward_row = products + hidden_units * per_unit;
    let backward_row = 2.0 * products + hidden_units * per_unit;
    let update = match config.optimizer {
        OptimizerKind::Sgd => SGD_UPDATE,
        OptimizerKind::Adam => ADAM_UPDATE,
    };
    let batch_size = config.batch_size.max(1) as f64;
    let batches = (n_train / batch_size).ceil();
    let batch_rows = n_train.min(batch_size);
    let epochs = config.epochs as f64;

    let (mut per_batch, mut per_epoch, mut once) = Default::default();
    match program.tree() {
        Ok(tree) => count(&tree, &mut per_batch, &mut per_epoch, &mut once),
        // The trainer runs nothing for a program without structure; count the
        // standard loop anyway so the estimate is never below a real run's.
        Err(_) => {
            per_batch = Counts {
                forward: 1.0,
                backward: 1.0,
                step: 1.0,
                zero_grad: 1.0,
                validate: 0.0,
            }
        }
    }
    let noise = if config.augmentation_noise > 0.0 {
        NOISE
    } else {
        0.0
    };
    // A forward or backward outside the batch loop works on one batch's rows.
    let outside = |counts: &Counts| {
        counts.forward * batch_rows * forward_row + counts.backward * batch_rows * backward_row
    };
    // A weighted sampler draws one uniform number per row and searches the
    // cumulative weights: less than one normal draw per feature, so a
    // feature's noise bounds it.
    let sampling = if patches.contains(&DataPatch::BalanceClasses) {
        NOISE
    } else {
        0.0
    };
    let training = epochs
        * (per_batch.forward * n_train * forward_row
            + per_batch.backward * n_train * backward_row
            + n_train * (features * (1.0 + noise) + sampling + classes * TRAIN_ROW_PER_CLASS)
            + batches * BATCH
            + outside(&per_epoch))
        + outside(&once);
    let updates_per_epoch = (per_batch.step * batches + per_epoch.step) * params * update
        + (per_batch.zero_grad * batches + per_epoch.zero_grad) * params;
    let updates = epochs * updates_per_epoch + (once.step * update + once.zero_grad) * params;
    // Every epoch ends with a validation pass, plus any the program asks for.
    let passes = epochs * (1.0 + per_batch.validate * batches + per_epoch.validate) + once.validate;
    // A validation loader that (wrongly) augments draws noise for every value
    // of every pass.
    let val_noise = if data.faults.augmented_validation && config.augmentation_noise > 0.0 {
        features * NOISE
    } else {
        0.0
    };
    let validation = passes * n_val * (forward_row + val_noise + classes * VAL_ROW_PER_CLASS);
    // Data generation, the train/val nearest-neighbour statistics, the model's
    // initialisation and the final evaluation (dead units, confusion matrix).
    let fixed = (n_train + n_val) * features * 4.0
        + n_val * n_train * features * NEIGHBOUR
        // The label-agreement scans: the statistic's sample of rows, and every
        // row when the loader filters noisy labels.
        + (n_train.min(LABEL_SAMPLE as f64) + filtered * n_train)
            * n_train
            * features
            * NEIGHBOUR
        + params * 4.0
        + n_val * (forward_row + val_noise + classes * VAL_ROW_PER_CLASS);
    RunCost {
        training,
        updates,
        validation,
        fixed,
    }
}

/// Refuse a run over the budget, saying what to reduce.
pub fn check(
    data: &DataSpec,
    config: &TrainConfig,
    program: &Program,
    patches: &[DataPatch],
) -> Result<(), OverBudget> {
    let cost = run_cost(data, config, program, patches);
    if cost.total() <= BUDGET {
        return Ok(());
    }
    let per_epoch = (cost.training + cost.updates + cost.validation) / config.epochs.max(1) as f64;
    let fitting_epochs = ((BUDGET - cost.fixed) / per_epoch).floor();
    let mut advice = Vec::new();
    if cost.fixed > BUDGET / 2.0 {
        advice.push(format!(
            "the data is too large (train_samples {} × val_samples {} × features {}): use fewer rows or features",
            data.train_samples, data.val_samples, data.features
        ));
    } else {
        if cost.updates > cost.training {
            advice.push(format!(
                "raise batch_size (now {}: every batch is an optimizer update of every weight)",
                config.batch_size
            ));
        }
        advice.push(format!(
            "reduce hidden_dim (now {}) or num_layers (now {})",
            config.hidden_dim, config.num_layers
        ));
        if fitting_epochs >= 1.0 {
            advice.push(format!(
                "or reduce epochs (now {}; at most {fitting_epochs} fit as it stands)",
                config.epochs
            ));
        }
    }
    Err(OverBudget {
        cost,
        advice: advice.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ConfigValue;

    fn data(train: usize, val: usize, features: usize) -> DataSpec {
        toml::from_str(&format!(
            "train_samples = {train}\nval_samples = {val}\nfeatures = {features}\ninformative = 1\nclasses = 4\nclass_separation = 1.0"
        ))
        .unwrap()
    }

    fn config(pairs: &[(&str, ConfigValue)]) -> TrainConfig {
        let mut c = TrainConfig::default();
        for (target, value) in pairs {
            c.set(target, value).unwrap();
        }
        c
    }

    #[test]
    fn the_reported_expensive_restart_is_refused_and_says_what_to_change() {
        // Issue 11: 27.9 s of CPU for one restart_run.
        let c = config(&[
            ("epochs", ConfigValue::Number(100.0)),
            ("batch_size", ConfigValue::Number(1.0)),
            ("hidden_dim", ConfigValue::Number(128.0)),
            ("num_layers", ConfigValue::Number(8.0)),
            ("batch_norm", ConfigValue::Bool(true)),
            ("dropout_rate", ConfigValue::Number(0.5)),
            ("optimizer", ConfigValue::Text("adam".into())),
            ("augmentation_noise", ConfigValue::Number(5.0)),
        ]);
        let err = check(&data(256, 128, 20), &c, &Program::standard(), &[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("over the budget of 2.0 billion"), "{text}");
        assert!(text.contains("raise batch_size (now 1"), "{text}");
        assert!(
            text.contains("reduce hidden_dim (now 128) or num_layers (now 8)"),
            "{text}"
        );
    }

    #[test]
    fn data_beyond_any_model_change_is_named_as_the_problem() {
        let err = check(
            &data(20_000, 10_000, 64),
            &TrainConfig::default(),
            &Program::standard(),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("the data is too large"), "{err}");
    }

    #[test]
    fn every_builtin_task_fits_with_room_to_spare() {
        for task in crate::task::TaskSet::builtin().unwrap().iter() {
            for variant in 0..task.file.variants.len().max(1) {
                let s = task.scenario(variant).unwrap();
                let cost = run_cost(&s.data, &s.config, &s.program, &[]).total();
                assert!(
                    cost < BUDGET / 10.0,
                    "{} variant {variant}: {cost}",
                    task.id()
                );
            }
        }
    }

    #[test]
    fn cost_grows_with_every_size_it_depends_on() {
        let base = run_cost(
            &data(256, 128, 20),
            &TrainConfig::default(),
            &Program::standard(),
            &[],
        );
        for (target, value) in [
            ("epochs", 40.0),
            ("hidden_dim", 32.0),
            ("num_layers", 6.0),
            ("batch_size", 4.0),
        ] {
            let c = config(&[(target, ConfigValue::Number(value))]);
            let more = run_cost(&data(256, 128, 20), &c, &Program::standard(), &[]);
            assert!(more.total() > base.total(), "{target}");
        }
        let bigger = run_cost(
            &data(512, 256, 40),
            &TrainConfig::default(),
            &Program::standard(),
            &[],
        );
        assert!(bigger.total() > base.total());
        let filtered = run_cost(
            &data(256, 128, 20),
            &TrainConfig::default(),
            &Program::standard(),
            &[DataPatch::FilterNoisyLabels],
        );
        assert!(filtered.total() > base.total(), "the filter's scan is paid");
    }
}
