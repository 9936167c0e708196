//! Runs one training: builds the data and the model, executes `train.py`'s
//! statements epoch by epoch, and returns everything measured on the way in a
//! [`RunTrace`]. An [`EpochObserver`] sees each epoch as it finishes and may stop
//! the run (Ctrl-C); it is how training events leave the simulator.

use super::config::{Callback, ClassWeighting, TrainConfig};
use super::data::{DataBatchStats, DataPatch, DataSpec, Dataset};
use super::metrics;
use super::model::{
    Cache, Mlp, Mode, argmax_rows, cross_entropy, cross_entropy_loss, relu, weighted_cross_entropy,
};
use super::optim::{Optimizer, clip_global_norm, global_norm_and_sums};
use super::program::{CriterionKind, Divisor, Node, Program, Stmt, Target, Wrap};
use super::rng::SimRng;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The stop reason of a run its observer interrupted (Ctrl-C in the REPL).
pub const INTERRUPTED: &str = "interrupted by the user";

/// A gradient norm above this (mean over epochs) is "exploding".
pub const EXPLODING_NORM: f64 = 10.0;
/// A gradient norm below this (mean over epochs) is "vanishing".
pub const VANISHING_NORM: f64 = 1e-6;

/// Everything a run needs. Same spec, same trace, bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    pub data: DataSpec,
    pub patches: Vec<DataPatch>,
    pub config: TrainConfig,
    pub program: Program,
    pub seed: u64,
}

/// Metrics of one finished epoch. Non-finite values stay non-finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    /// Mean recall over the validation classes (what accuracy hides when
    /// classes are skewed).
    pub val_balanced_accuracy: f64,
    /// Mean global gradient norm over the epoch's backward passes.
    pub grad_norm: f64,
    pub learning_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    Stopped {
        epoch: usize,
        reason: String,
    },
    Failed {
        epoch: usize,
        message: String,
        details: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerGradStats {
    pub layer_name: String,
    /// Mean weight-gradient norm per epoch (NaN where it was not finite).
    pub norm_history: Vec<f64>,
    pub mean_norm: f64,
    pub max_norm: f64,
    pub is_exploding: bool,
    /// Mean norm below 1e-6, or below it in more than half of the epochs.
    pub is_vanishing: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerWeightStats {
    pub layer_name: String,
    pub norm: f64,
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
    /// Share (percent) of the layer's units whose output is constant over the
    /// validation set (always-zero relus, saturated sigmoids).
    pub dead_neuron_pct: f64,
    pub has_nan: bool,
    pub has_inf: bool,
}

/// Metrics of the model a run ends with: the last epoch's, or the best epoch's
/// when early stopping restored its weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinalMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    pub val_balanced_accuracy: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunTrace {
    pub epochs: Vec<EpochRecord>,
    pub outcome: Outcome,
    pub final_metrics: FinalMetrics,
    pub gradient_stats: Vec<LayerGradStats>,
    pub weight_stats: Vec<LayerWeightStats>,
    /// Module → mode during the last training step ("train"/"eval").
    pub modes: Vec<(String, &'static str)>,
    pub data_stats: DataBatchStats,
    /// Validation confusion matrix of the final model: rows true, columns predicted.
    pub confusion_matrix: Vec<Vec<usize>>,
    /// Share of the scores the loss was handed over all training steps that
    /// were negative (NaN when no loss ran). Raw logits are negative about
    /// half the time; a relu or softmax wrapped around them makes it 0.
    pub negative_score_share: f64,
}

/// Whether to go on after an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Sees a run as it happens.
pub trait EpochObserver {
    fn epoch_finished(&mut self, record: &EpochRecord, total_epochs: usize) -> Flow;
}

/// An observer that watches nothing and never stops a run.
pub struct Unobserved;

impl EpochObserver for Unobserved {
    fn epoch_finished(&mut self, _: &EpochRecord, _: usize) -> Flow {
        Flow::Continue
    }
}

/// The mutable state `train.py` acts on.
struct Machine<'a> {
    config: &'a TrainConfig,
    data: &'a Dataset,
    model: Mlp,
    optimizer: Optimizer,
    grads: Vec<Vec<f64>>,
    cache: Cache,
    /// Validation's forward buffers, kept from epoch to epoch.
    val_cache: Cache,
    /// Dropout masks for a validation run in train mode.
    val_dropout_rng: SimRng,
    dropout_rng: SimRng,
    shuffle_rng: SimRng,
    augment_rng: SimRng,
    /// Noise the validation loader adds to its rows (0 = none), drawn from
    /// its own stream so that validating never moves the training streams.
    val_noise: f64,
    val_augment_rng: SimRng,
    /// Per-class loss weights (`CrossEntropyLoss(weight=…)`), when weighted.
    class_weights: Option<Vec<f64>>,
    /// Sample rows inversely to their class's count instead of shuffling.
    balanced_sampling: bool,
    /// Labels of the first batch of the latest epoch, as served.
    served_batch_labels: Vec<usize>,
    glitch: Option<(usize, f64)>,
    // Per batch.
    batch_x: Vec<f64>,
    batch_y: Vec<usize>,
    /// What `model(x)` returned.
    raw_logits: Vec<f64>,
    /// What `output = …` produced (after any wrap).
    logits: Vec<f64>,
    output_wrap: Wrap,
    /// What `criterion = …` built, once it has run.
    criterion: Option<CriterionKind>,
    graph: LossGraph,
    last_grad_norm: f64,
    loss: f64,
    /// Scores handed to the loss so far, and how many were negative.
    scores_seen: usize,
    scores_negative: usize,
    // Per epoch.
    epoch: usize,
    lr: f64,
    loss_sum: f64,
    batches: usize,
    layer_norm_sums: Vec<f64>,
    /// Each gradient tensor's sum of squares at the last backward pass.
    tensor_sums: Vec<f64>,
    grad_norm_sum: f64,
    backward_calls: usize,
    validated: Option<Evaluation>,
    last_train_mode: Mode,
    /// 0-based index of the batch being trained, for tracebacks.
    batch_index: usize,
    failure: Option<(String, String)>,
}

/// One validation pass.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Evaluation {
    loss: f64,
    accuracy: f64,
    balanced_accuracy: f64,
}

impl Evaluation {
    const NONE: Evaluation = Evaluation {
        loss: f64::NAN,
        accuracy: f64::NAN,
        balanced_accuracy: f64::NAN,
    };
}

/// What `loss.backward()` would find, as autograd tracks it.
#[derive(Debug, Clone, PartialEq)]
enum LossGraph {
    /// No loss computed in this batch yet.
    Missing,
    /// A loss with no path back to the parameters (`.detach()` on the way).
    Detached,
    /// A live graph: the gradient of the loss with respect to the logits.
    Live(Vec<f64>),
    /// `backward` already ran and freed the graph.
    Freed,
}

/// Train once. Pure: the same spec always gives the same trace.
pub fn run(spec: &RunSpec, observer: &mut dyn EpochObserver) -> RunTrace {
    let data = spec.data.build(spec.seed, &spec.patches);
    let config = &spec.config;
    let mut init_rng = SimRng::new(spec.seed, "init");
    let model = Mlp::new(spec.data.features, spec.data.classes, config, &mut init_rng);
    let layers = model.layer_count();
    let optimizer = Optimizer::new(
        config.optimizer,
        config.momentum,
        config.weight_decay,
        &model.params,
    );
    let grads = model.zeros_like();
    let faults = &spec.data.faults;
    let val_noise = if faults.augmented_validation
        && !spec.patches.contains(&DataPatch::NoValidationAugmentation)
    {
        config.augmentation_noise
    } else {
        0.0
    };
    let class_weights = (config.class_weighting == ClassWeighting::Balanced)
        .then(|| balanced_weights(&data.train.y, data.classes));
    let mut m = Machine {
        config,
        data: &data,
        model,
        optimizer,
        grads,
        cache: Cache::default(),
        val_cache: Cache::inference(),
        val_dropout_rng: SimRng::new(spec.seed, "val-dropout"),
        dropout_rng: SimRng::new(spec.seed, "dropout"),
        shuffle_rng: SimRng::new(spec.seed, "shuffle"),
        augment_rng: SimRng::new(spec.seed, "augment"),
        val_noise,
        val_augment_rng: SimRng::new(spec.seed, "val_augment"),
        class_weights,
        balanced_sampling: spec.patches.contains(&DataPatch::BalanceClasses),
        served_batch_labels: Vec::new(),
        glitch: (faults.glitch_epoch > 0).then_some((faults.glitch_epoch, faults.glitch_scale)),
        batch_x: Vec::new(),
        batch_y: Vec::new(),
        raw_logits: Vec::new(),
        logits: Vec::new(),
        output_wrap: Wrap::Plain,
        criterion: None,
        graph: LossGraph::Missing,
        last_grad_norm: 0.0,
        loss: f64::NAN,
        scores_seen: 0,
        scores_negative: 0,
        epoch: 0,
        lr: config.learning_rate,
        loss_sum: 0.0,
        batches: 0,
        layer_norm_sums: vec![0.0; layers],
        tensor_sums: Vec::new(),
        grad_norm_sum: 0.0,
        backward_calls: 0,
        validated: None,
        last_train_mode: Mode::Train,
        batch_index: 0,
        failure: None,
    };
    // A program that fails its structure check cannot reach here through the
    // engine (edits are checked); an empty tree simply trains nothing.
    let tree = spec.program.tree().unwrap_or_default();
    let mut epochs = Vec::new();
    let mut layer_history: Vec<Vec<f64>> = vec![Vec::new(); layers];
    let mut outcome = Outcome::Completed;
    let mut best_val = f64::INFINITY;
    let mut best_epoch = 0;
    let early_stopping = config.has_callback(Callback::EarlyStopping);
    let mut best_model: Option<Mlp> = None;
    let mut restored_epoch = None;

    'program: for node in &tree {
        match node {
            Node::Stmt(stmt, line) => {
                m.exec(stmt, *line);
                if let Some((message, details)) = m.failure.take() {
                    outcome = Outcome::Failed {
                        epoch: 0,
                        message,
                        details,
                    };
                    break 'program;
                }
            }
            Node::BatchLoop(_) | Node::AccumulationGate(_) => {}
            Node::EpochLoop(body) => {
                for epoch in 0..config.epochs {
                    m.begin_epoch(epoch);
                    for inner in body {
                        match inner {
                            Node::Stmt(stmt, line) => m.exec(stmt, *line),
                            Node::BatchLoop(batch_body) => m.batch_loop(batch_body),
                            Node::EpochLoop(_) | Node::AccumulationGate(_) => {}
                        }
                        if m.failure.is_some() {
                            break;
                        }
                    }
                    let record = m.end_epoch();
                    for (history, sum) in layer_history.iter_mut().zip(&m.layer_norm_sums) {
                        history.push(if m.backward_calls > 0 {
                            sum / m.backward_calls as f64
                        } else {
                            0.0
                        });
                    }
                    epochs.push(record);
                    let flow = observer.epoch_finished(&record, config.epochs);
                    if let Some((message, details)) = m.failure.take() {
                        outcome = Outcome::Failed {
                            epoch: epoch + 1,
                            message,
                            details,
                        };
                        break 'program;
                    }
                    if flow == Flow::Stop {
                        outcome = Outcome::Stopped {
                            epoch: epoch + 1,
                            reason: INTERRUPTED.into(),
                        };
                        break 'program;
                    }
                    if record.val_loss < best_val {
                        best_val = record.val_loss;
                        best_epoch = epoch + 1;
                        if early_stopping {
                            best_model = Some(m.model.clone());
                        }
                    } else if early_stopping
                        && epoch + 1 - best_epoch >= config.early_stopping_patience
                    {
                        outcome = Outcome::Stopped {
                            epoch: epoch + 1,
                            reason: format!(
                                "early_stopping: val_loss has not improved for {} epochs; restored the weights of epoch {} (val_loss {:.4})",
                                config.early_stopping_patience, best_epoch, best_val
                            ),
                        };
                        if let Some(best) = best_model.take() {
                            m.model = best;
                            restored_epoch = Some(best_epoch);
                        }
                        break 'program;
                    }
                }
            }
        }
    }
    m.finish(epochs, outcome, layer_history, restored_epoch)
}

impl<'a> Machine<'a> {
    fn begin_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
        self.lr = self.config.lr_at(epoch);
        self.loss_sum = 0.0;
        self.batches = 0;
        self.layer_norm_sums.iter_mut().for_each(|s| *s = 0.0);
        self.grad_norm_sum = 0.0;
        self.backward_calls = 0;
        self.validated = None;
    }

    /// The order the training loader serves rows in this epoch: a weighted
    /// sample with replacement (`WeightedRandomSampler`), a fresh permutation
    /// (`shuffle=True`), or the stored order (`shuffle=False`).
    fn epoch_order(&mut self) -> Vec<usize> {
        let train = &self.data.train;
        if self.balanced_sampling {
            let weights = balanced_weights(&train.y, self.data.classes);
            let row_weights: Vec<f64> = train
                .y
                .iter()
                .map(|&y| weights.get(y).copied().unwrap_or(0.0))
                .collect();
            return weighted_sample(&row_weights, train.len(), &mut self.shuffle_rng);
        }
        let mut order: Vec<usize> = (0..train.len()).collect();
        if self.config.shuffle {
            self.shuffle_rng.shuffle(&mut order);
        }
        order
    }

    fn batch_loop(&mut self, body: &[Node]) {
        let order = self.epoch_order();
        let train = &self.data.train;
        let d = train.features;
        let batch = self.config.batch_size.max(1);
        for (b, chunk) in order.chunks(batch).enumerate() {
            self.batch_x.clear();
            self.batch_y.clear();
            for &i in chunk {
                self.batch_x.extend_from_slice(train.row(i));
                self.batch_y.push(train.y[i]);
            }
            if b == 0 {
                self.served_batch_labels.clone_from(&self.batch_y);
            }
            if self.config.augmentation_noise > 0.0 {
                for v in self.batch_x.iter_mut() {
                    *v += self.augment_rng.normal() * self.config.augmentation_noise;
                }
            }
            if let Some((glitch_epoch, scale)) = self.glitch
                && glitch_epoch == self.epoch + 1
                && b == 0
            {
                self.batch_x.iter_mut().for_each(|v| *v *= scale);
            }
            debug_assert_eq!(self.batch_x.len(), chunk.len() * d);
            self.graph = LossGraph::Missing;
            self.loss = f64::NAN;
            self.batch_index = b;
            // `(step + 1) % ACCUM_STEPS == 0`, with `step` counting this
            // epoch's batches from 0 as `enumerate` does.
            let gate_open = (b + 1) % self.config.accumulation_steps.max(1) == 0;
            for node in body {
                let gated: &[Node] = match node {
                    Node::Stmt(..) => std::slice::from_ref(node),
                    Node::AccumulationGate(inner) if gate_open => inner,
                    _ => &[],
                };
                for inner in gated {
                    if let Node::Stmt(stmt, line) = inner {
                        self.exec(stmt, *line);
                        if self.failure.is_some() {
                            return;
                        }
                    }
                }
            }
            self.batches += 1;
            self.loss_sum += self.loss;
            // The simulated framework trains in float32: a value past its range is
            // inf there (and turns the weights NaN one step later), so the run
            // fails where PyTorch's would even though f64 could carry on.
            if !fits_f32(self.loss) || !fits_f32(self.last_grad_norm) {
                self.loss = if self.loss.is_nan() {
                    f64::NAN
                } else {
                    f64::INFINITY
                };
                self.loss_sum = self.loss;
                let step = self.epoch * order.len().div_ceil(batch) + b + 1;
                self.failure = Some((
                    format!(
                        "RuntimeError: loss is {} at epoch {}, step {} (lr={})",
                        if self.loss.is_nan() { "NaN" } else { "inf" },
                        self.epoch + 1,
                        step,
                        fmt_g(self.lr)
                    ),
                    format!(
                        "non-finite loss in batch {} of epoch {}/{}; global gradient norm at the last backward pass: {}",
                        b + 1,
                        self.epoch + 1,
                        self.config.epochs,
                        fmt_g(self.last_grad_norm)
                    ),
                ));
                return;
            }
        }
    }

    /// Stop the run the way the Python script would die: an exception raised
    /// at `line`, in the current batch.
    fn raise(&mut self, line: usize, stmt: &Stmt, error: String) {
        self.failure = Some((
            error,
            format!(
                "Traceback: File \"train.py\", line {line}: {} (batch {} of epoch {}/{})",
                stmt.text(),
                self.batch_index + 1,
                self.epoch + 1,
                self.config.epochs
            ),
        ));
    }

    fn exec(&mut self, stmt: &Stmt, line: usize) {
        match stmt {
            Stmt::Text { .. }
            | Stmt::NoOp { .. }
            | Stmt::EpochLoop
            | Stmt::BatchLoop
            | Stmt::EnumeratedBatchLoop
            | Stmt::AccumulationGate => {}
            Stmt::SetMode { mode } => self.model.mode = (*mode).into(),
            Stmt::ZeroGrad => self
                .grads
                .iter_mut()
                .for_each(|g| g.iter_mut().for_each(|v| *v = 0.0)),
            Stmt::Forward { wrap } => {
                let rows = self.batch_y.len();
                if rows == 0 {
                    return self.raise(line, stmt, "NameError: name 'x' is not defined".into());
                }
                if self.config.batch_norm && self.model.mode == Mode::Train && rows == 1 {
                    let width = self.model.dims.get(1).copied().unwrap_or(0);
                    return self.raise(
                        line,
                        stmt,
                        format!(
                            "ValueError: Expected more than 1 value per channel when training, got input size torch.Size([1, {width}])"
                        ),
                    );
                }
                self.last_train_mode = self.model.mode;
                let raw =
                    self.model
                        .forward(&self.batch_x, rows, &mut self.dropout_rng, &mut self.cache);
                // The raw logits are kept only where a wrap's gradient needs them.
                if matches!(wrap, Wrap::Plain | Wrap::Detached) {
                    self.logits = raw;
                    self.raw_logits.clear();
                } else {
                    self.logits = apply_wrap(*wrap, &raw, self.data.classes).into_owned();
                    self.raw_logits = raw;
                }
                self.output_wrap = *wrap;
            }
            Stmt::Criterion { loss } => self.criterion = Some(*loss),
            Stmt::Loss { expr } => {
                let (rows, classes) = (self.batch_y.len(), self.data.classes);
                if self.logits.len() != rows * classes {
                    return self.raise(
                        line,
                        stmt,
                        "NameError: name 'output' is not defined".into(),
                    );
                }
                let Some(criterion) = self.criterion else {
                    return self.raise(
                        line,
                        stmt,
                        "NameError: name 'criterion' is not defined".into(),
                    );
                };
                let input = apply_wrap(expr.wrap, &self.logits, classes);
                self.scores_seen += input.len();
                self.scores_negative += input.iter().filter(|v| **v < 0.0).count();
                let (loss, grad) = match (criterion, expr.target) {
                    // A one-hot row is a class distribution, which
                    // CrossEntropyLoss takes as well as an index: same loss.
                    (CriterionKind::CrossEntropy, target) => match &self.class_weights {
                        None => cross_entropy(&input, &self.batch_y, classes),
                        Some(weights) => {
                            let (loss, grad) =
                                weighted_cross_entropy(&input, &self.batch_y, classes, weights);
                            if target == Target::OneHot {
                                // With class-probability targets PyTorch's
                                // weighted mean divides by the rows, not by
                                // the rows' summed weights.
                                let norm: f64 = self
                                    .batch_y
                                    .iter()
                                    .map(|&y| weights.get(y).copied().unwrap_or(0.0))
                                    .sum();
                                let k = norm / rows.max(1) as f64;
                                (loss * k, grad.into_iter().map(|g| g * k).collect())
                            } else {
                                (loss, grad)
                            }
                        }
                    },
                    (CriterionKind::Mse, Target::OneHot) => {
                        let target = |i: usize, j: usize| f64::from(u8::from(self.batch_y[i] == j));
                        mean_squared_error(&input, classes, target)
                    }
                    // MSELoss broadcasts the (N,) index vector against the
                    // (N, C) output: along the class axis, so it runs only when
                    // the batch has exactly C rows, comparing column j with y[j].
                    (CriterionKind::Mse, Target::Index) if rows == classes => {
                        let target = |_: usize, j: usize| self.batch_y[j] as f64;
                        mean_squared_error(&input, classes, target)
                    }
                    (CriterionKind::Mse, Target::Index) => {
                        return self.raise(
                            line,
                            stmt,
                            format!(
                                "RuntimeError: The size of tensor a ({classes}) must match the size of tensor b ({rows}) at non-singleton dimension 1"
                            ),
                        );
                    }
                };
                // Back through the loss line's wrap to `output`, then through
                // the forward line's wrap to the model's logits.
                let grad = wrap_backward(expr.wrap, &self.logits, &input, grad, classes);
                let mut grad = wrap_backward(
                    self.output_wrap,
                    &self.raw_logits,
                    &self.logits,
                    grad,
                    classes,
                );
                self.loss = loss;
                if expr.negated {
                    self.loss = -loss;
                    grad.iter_mut().for_each(|g| *g = -*g);
                }
                // `… / ACCUM_STEPS` scales the gradient; the loss is logged
                // undivided (as `loss.item() * ACCUM_STEPS`), so the curves of
                // a scaled and an unscaled run read on one scale.
                let divisor = match expr.divisor {
                    None => 1.0,
                    Some(Divisor::AccumSteps) => self.config.accumulation_steps.max(1) as f64,
                    Some(Divisor::Literal(n)) => f64::from(n),
                };
                if divisor != 1.0 {
                    grad.iter_mut().for_each(|g| *g /= divisor);
                }
                let detached = expr.wrap == Wrap::Detached || self.output_wrap == Wrap::Detached;
                self.graph = if detached {
                    LossGraph::Detached
                } else {
                    LossGraph::Live(grad)
                };
            }
            Stmt::Backward => {
                match std::mem::replace(&mut self.graph, LossGraph::Freed) {
                    LossGraph::Live(dlogits) => {
                        self.model
                            .backward(&mut self.cache, dlogits, &mut self.grads)
                    }
                    // autograd's own words for these three.
                    LossGraph::Detached => {
                        return self.raise(
                            line,
                            stmt,
                            "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn".into(),
                        );
                    }
                    LossGraph::Freed => {
                        return self.raise(
                            line,
                            stmt,
                            "RuntimeError: Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed)".into(),
                        );
                    }
                    LossGraph::Missing => {
                        return self.raise(
                            line,
                            stmt,
                            "NameError: name 'loss' is not defined".into(),
                        );
                    }
                }
                self.backward_calls += 1;
                self.last_grad_norm = global_norm_and_sums(&self.grads, &mut self.tensor_sums);
                self.grad_norm_sum += self.last_grad_norm;
                for (l, sum) in self.layer_norm_sums.iter_mut().enumerate() {
                    let squares = self.tensor_sums.get(self.model.weight_index(l));
                    *sum += libm::sqrt(squares.copied().unwrap_or(0.0));
                }
            }
            Stmt::Step => {
                if let Some(max_norm) = self.config.effective_clip_norm() {
                    clip_global_norm(&mut self.grads, max_norm);
                }
                self.optimizer
                    .step(&mut self.model.params, &self.grads, self.lr);
            }
            // evaluate() runs the model in whatever mode it is in, as a real
            // evaluation helper under torch.no_grad() does: model.eval() is
            // train.py's job.
            Stmt::Validate => match self.model.mode {
                Mode::Eval => self.validated = Some(self.evaluate()),
                Mode::Train => match self.evaluate_in_train_mode() {
                    Ok(result) => self.validated = Some(result),
                    Err(error) => self.raise(line, stmt, error),
                },
            },
        }
    }

    /// The validation features as the validation loader serves them: with
    /// the training augmentation's noise when it (wrongly) applies it (a
    /// fresh draw per pass), else the rows themselves, uncopied.
    fn served_validation(&mut self) -> Cow<'a, [f64]> {
        let data: &'a Dataset = self.data;
        if self.val_noise > 0.0 {
            let noise = self.val_noise;
            let rng = &mut self.val_augment_rng;
            Cow::Owned(
                data.val
                    .x
                    .iter()
                    .map(|v| v + rng.normal() * noise)
                    .collect(),
            )
        } else {
            Cow::Borrowed(&data.val.x)
        }
    }

    /// Validation loss and accuracy in the model's current mode without dropout
    /// randomness leaking into the training stream. The loss is the plain
    /// mean cross-entropy whatever the training loss weighs: one yardstick
    /// for every run.
    fn evaluate(&mut self) -> Evaluation {
        if self.data.val.is_empty() {
            return Evaluation::NONE;
        }
        let x = self.served_validation();
        let val = &self.data.val;
        let saved = self.model.mode;
        self.model.mode = Mode::Eval;
        let mut rng = SimRng::new(0, "eval");
        let logits = self
            .model
            .forward(&x, val.len(), &mut rng, &mut self.val_cache);
        self.model.mode = saved;
        let loss = cross_entropy_loss(&logits, &val.y, self.data.classes);
        let predicted = argmax_rows(&logits, self.data.classes);
        let correct = predicted.iter().zip(&val.y).filter(|(p, y)| p == y).count();
        let confusion = metrics::confusion(&val.y, &predicted, self.data.classes);
        Evaluation {
            loss,
            accuracy: correct as f64 / val.len() as f64,
            balanced_accuracy: metrics::balanced_accuracy(&confusion),
        }
    }

    /// Validation with the model left in train mode: the validation loader's
    /// batches go through dropout (fresh masks) and through batch norm with
    /// each batch's own statistics, which also move the running estimates.
    fn evaluate_in_train_mode(&mut self) -> Result<Evaluation, String> {
        if self.data.val.is_empty() {
            return Ok(Evaluation::NONE);
        }
        let served = self.served_validation();
        let val = &self.data.val;
        let (d, classes) = (val.features, self.data.classes);
        let batch = self.config.batch_size.max(1);
        let mut loss_sum = 0.0;
        let mut predicted = Vec::with_capacity(val.len());
        let mut cache = Cache::inference();
        for start in (0..val.len()).step_by(batch) {
            let rows = batch.min(val.len() - start);
            if self.config.batch_norm && rows == 1 {
                let width = self.model.dims.get(1).copied().unwrap_or(0);
                return Err(format!(
                    "ValueError: Expected more than 1 value per channel when training, got input size torch.Size([1, {width}])"
                ));
            }
            let x = &served[start * d..(start + rows) * d];
            let y = &val.y[start..start + rows];
            let logits = self
                .model
                .forward(x, rows, &mut self.val_dropout_rng, &mut cache);
            loss_sum += cross_entropy_loss(&logits, y, classes) * rows as f64;
            predicted.extend(argmax_rows(&logits, classes));
        }
        let correct = predicted.iter().zip(&val.y).filter(|(p, y)| p == y).count();
        let confusion = metrics::confusion(&val.y, &predicted, classes);
        Ok(Evaluation {
            loss: loss_sum / val.len() as f64,
            accuracy: correct as f64 / val.len() as f64,
            balanced_accuracy: metrics::balanced_accuracy(&confusion),
        })
    }

    fn end_epoch(&mut self) -> EpochRecord {
        let evaluation = if self.failure.is_some() {
            Evaluation::NONE
        } else {
            self.validated.unwrap_or_else(|| self.evaluate())
        };
        let Evaluation {
            loss: val_loss,
            accuracy: val_accuracy,
            balanced_accuracy: val_balanced_accuracy,
        } = evaluation;
        // Reported as the float32 framework would: past its range is inf.
        let val_loss = in_f32_range(val_loss);
        EpochRecord {
            epoch: self.epoch + 1,
            train_loss: if self.batches > 0 {
                self.loss_sum / self.batches as f64
            } else {
                f64::NAN
            },
            val_loss,
            val_accuracy,
            val_balanced_accuracy,
            grad_norm: if self.backward_calls > 0 {
                self.grad_norm_sum / self.backward_calls as f64
            } else {
                0.0
            },
            learning_rate: self.lr,
        }
    }

    fn finish(
        mut self,
        epochs: Vec<EpochRecord>,
        outcome: Outcome,
        history: Vec<Vec<f64>>,
        restored_epoch: Option<usize>,
    ) -> RunTrace {
        let final_record = restored_epoch
            .and_then(|e| epochs.get(e.wrapping_sub(1)))
            .or(epochs.last());
        let final_metrics = final_record.map_or(
            FinalMetrics {
                epoch: 0,
                train_loss: f64::NAN,
                val_loss: f64::NAN,
                val_accuracy: f64::NAN,
                val_balanced_accuracy: f64::NAN,
            },
            |r| FinalMetrics {
                epoch: r.epoch,
                train_loss: r.train_loss,
                val_loss: r.val_loss,
                val_accuracy: r.val_accuracy,
                val_balanced_accuracy: r.val_balanced_accuracy,
            },
        );
        let gradient_stats = history
            .into_iter()
            .enumerate()
            .map(|(l, norm_history)| {
                // Reported as float32 PyTorch would hold them: past its range
                // a norm is inf, and inf is not averaged in.
                let norm_history: Vec<f64> = norm_history.into_iter().map(in_f32_range).collect();
                let finite: Vec<f64> = norm_history
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                let mean_norm = if finite.is_empty() {
                    f64::NAN
                } else {
                    finite.iter().sum::<f64>() / finite.len() as f64
                };
                let max_norm = finite.iter().copied().fold(f64::NAN, f64::max);
                LayerGradStats {
                    layer_name: format!("fc{}", l + 1),
                    is_exploding: mean_norm > EXPLODING_NORM
                        || norm_history.iter().any(|v| !v.is_finite()),
                    is_vanishing: is_vanishing(&norm_history, mean_norm),
                    norm_history,
                    mean_norm,
                    max_norm,
                }
            })
            .collect();

        // One eval forward of the rows as the validation loader serves them
        // gives the dead-unit counts, the confusion matrix and the served
        // statistics.
        let served_val = self.served_validation();
        let val = &self.data.val;
        let (logits, acts) = self.model.eval_forward(&served_val, val.len());
        let layers = self.model.layer_count();
        let weight_stats = (0..layers)
            .map(|l| {
                let w = &self.model.params[self.model.weight_index(l)];
                let n = w.len().max(1) as f64;
                let mean = w.iter().sum::<f64>() / n;
                let var = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                let width = self.model.dims[l + 1];
                let dead = acts.get(l).map_or(0, |a| count_constant_units(a, width));
                LayerWeightStats {
                    layer_name: format!("fc{}", l + 1),
                    norm: in_f32_range(libm::sqrt(w.iter().map(|v| v * v).sum::<f64>())),
                    mean: in_f32_range(mean),
                    std: in_f32_range(libm::sqrt(var)),
                    min: in_f32_range(w.iter().copied().fold(f64::INFINITY, f64::min)),
                    max: in_f32_range(w.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                    dead_neuron_pct: 100.0 * dead as f64 / width as f64,
                    has_nan: w.iter().any(|v| v.is_nan()),
                    // A float32 weight past its range is inf.
                    has_inf: w.iter().any(|v| !v.is_nan() && !fits_f32(*v)),
                }
            })
            .collect();

        let classes = self.data.classes;
        let confusion_matrix = metrics::confusion(&val.y, &argmax_rows(&logits, classes), classes);
        RunTrace {
            epochs,
            outcome,
            final_metrics,
            gradient_stats,
            weight_stats,
            modes: self.model.module_modes(self.last_train_mode),
            data_stats: self.data.stats(
                self.config.batch_size,
                &served_val,
                &self.served_batch_labels,
            ),
            confusion_matrix,
            negative_score_share: if self.scores_seen == 0 {
                f64::NAN
            } else {
                self.scores_negative as f64 / self.scores_seen as f64
            },
        }
    }
}

/// `wrap` applied to rows of `classes` values (borrowed when it changes nothing).
fn apply_wrap(wrap: Wrap, values: &[f64], classes: usize) -> Cow<'_, [f64]> {
    match wrap {
        Wrap::Plain | Wrap::Detached => Cow::Borrowed(values),
        Wrap::Relu => Cow::Owned(values.iter().map(|&v| relu(v)).collect()),
        Wrap::Softmax => Cow::Owned(
            values
                .chunks(classes.max(1))
                .flat_map(|row| {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let exps: Vec<f64> = row.iter().map(|v| libm::exp(v - max)).collect();
                    let sum: f64 = exps.iter().sum();
                    exps.into_iter().map(move |e| e / sum)
                })
                .collect(),
        ),
    }
}

/// The gradient with respect to a wrap's input, given the gradient with
/// respect to its output (`input` and `output` are the wrap's two sides).
fn wrap_backward(
    wrap: Wrap,
    input: &[f64],
    output: &[f64],
    mut grad: Vec<f64>,
    classes: usize,
) -> Vec<f64> {
    match wrap {
        // Detached stops the graph altogether; the caller records that.
        Wrap::Plain | Wrap::Detached => {}
        // relu passes gradient only where its input was positive.
        Wrap::Relu => {
            for (g, &z) in grad.iter_mut().zip(input) {
                if z <= 0.0 {
                    *g = 0.0;
                }
            }
        }
        // The softmax Jacobian: dz_j = s_j (g_j - sum_k g_k s_k) per row.
        Wrap::Softmax => {
            let width = classes.max(1);
            for (g, s) in grad.chunks_mut(width).zip(output.chunks(width)) {
                let dot: f64 = g.iter().zip(s).map(|(a, b)| a * b).sum();
                for (gj, &sj) in g.iter_mut().zip(s) {
                    *gj = sj * (*gj - dot);
                }
            }
        }
    }
    grad
}

/// `nn.MSELoss()` (mean over every element) of `input` against `target(row,
/// class)`, and its gradient.
fn mean_squared_error(
    input: &[f64],
    classes: usize,
    target: impl Fn(usize, usize) -> f64,
) -> (f64, Vec<f64>) {
    let n = input.len().max(1) as f64;
    let mut total = 0.0;
    let mut grad = Vec::with_capacity(input.len());
    for (k, &v) in input.iter().enumerate() {
        let diff = v - target(k / classes.max(1), k % classes.max(1));
        total += diff * diff;
        grad.push(2.0 * diff / n);
    }
    (total / n, grad)
}

/// scikit-learn's "balanced" class weights, n / (classes · n_c), from the
/// training labels; a class with no rows gets weight 0 (no row carries it).
fn balanced_weights(labels: &[usize], classes: usize) -> Vec<f64> {
    let mut counts = vec![0usize; classes];
    for &y in labels {
        if let Some(c) = counts.get_mut(y) {
            *c += 1;
        }
    }
    let n = labels.len() as f64;
    counts
        .iter()
        .map(|&c| {
            if c > 0 {
                n / (classes as f64 * c as f64)
            } else {
                0.0
            }
        })
        .collect()
}

/// `count` indices drawn with replacement, each with probability
/// proportional to its weight, as `WeightedRandomSampler(weights, count,
/// replacement=True)` draws them.
fn weighted_sample(weights: &[f64], count: usize, rng: &mut SimRng) -> Vec<usize> {
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut total = 0.0;
    for w in weights {
        total += w.max(0.0);
        cumulative.push(total);
    }
    if total.is_nan() || total <= 0.0 {
        return (0..count.min(weights.len())).collect();
    }
    (0..count)
        .map(|_| {
            let u = rng.unit() * total;
            cumulative
                .partition_point(|&c| c <= u)
                .min(weights.len() - 1)
        })
        .collect()
}

/// Judged per epoch: a layer that gets (almost) no gradient in most epochs is
/// vanishing, whatever one good epoch does to the mean.
fn is_vanishing(norm_history: &[f64], mean_norm: f64) -> bool {
    let starved = norm_history
        .iter()
        .filter(|v| v.is_finite() && **v < VANISHING_NORM)
        .count();
    mean_norm < VANISHING_NORM || 2 * starved > norm_history.len()
}

fn in_f32_range(v: f64) -> f64 {
    if v.is_finite() && !fits_f32(v) {
        v.signum() * f64::INFINITY
    } else {
        v
    }
}

fn fits_f32(v: f64) -> bool {
    v.is_finite() && v.abs() <= f64::from(f32::MAX)
}

/// Units whose activation does not vary across rows.
fn count_constant_units(acts: &[f64], width: usize) -> usize {
    (0..width)
        .filter(|&j| {
            let mut column = acts.iter().skip(j).step_by(width);
            let Some(&first) = column.next() else {
                return false;
            };
            column.all(|&v| (v - first).abs() < 1e-9)
        })
        .count()
}

/// Format like Python's `%g`: short and exact enough for a learning rate.
pub fn fmt_g(v: f64) -> String {
    let s = format!("{v}");
    if s.len() <= 10 { s } else { format!("{v:.4e}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_starved_in_most_epochs_is_vanishing_whatever_its_mean() {
        let mut history = vec![0.0; 19];
        history.push(5.0);
        let mean = history.iter().sum::<f64>() / 20.0;
        assert!(mean > VANISHING_NORM);
        assert!(is_vanishing(&history, mean));
        assert!(!is_vanishing(&[0.0, 1.0, 1.0], 2.0 / 3.0));
    }

    /// The wraps' and MSE's hand-written gradients agree with finite
    /// differences of the loss they feed.
    #[test]
    fn wrap_and_mse_gradients_match_finite_differences() {
        let classes = 3;
        let labels = [2usize, 0];
        let z = [0.3, -1.2, 0.8, 1.5, 0.1, -0.4];
        let one_hot = |i: usize, j: usize| f64::from(u8::from(labels[i] == j));
        for (wrap, mse) in [
            (Wrap::Softmax, false),
            (Wrap::Softmax, true),
            (Wrap::Relu, true),
        ] {
            let loss = |z: &[f64]| {
                let out = apply_wrap(wrap, z, classes);
                if mse {
                    mean_squared_error(&out, classes, one_hot).0
                } else {
                    cross_entropy(&out, &labels, classes).0
                }
            };
            let out = apply_wrap(wrap, &z, classes);
            let grad_out = if mse {
                mean_squared_error(&out, classes, one_hot).1
            } else {
                cross_entropy(&out, &labels, classes).1
            };
            let grad = wrap_backward(wrap, &z, &out, grad_out, classes);
            for i in 0..z.len() {
                let (mut up, mut down) = (z, z);
                up[i] += 1e-6;
                down[i] -= 1e-6;
                let numeric = (loss(&up) - loss(&down)) / 2e-6;
                assert!(
                    (numeric - grad[i]).abs() < 1e-6,
                    "{wrap:?} mse={mse} [{i}]: numeric {numeric} analytic {}",
                    grad[i]
                );
            }
        }
    }

    #[test]
    fn values_past_float32_range_read_as_inf() {
        assert_eq!(in_f32_range(6e56), f64::INFINITY);
        assert_eq!(in_f32_range(-6e56), f64::NEG_INFINITY);
        assert_eq!(in_f32_range(1.0), 1.0);
    }
}
