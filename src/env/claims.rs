//! Claims: the measurable statements a debrief may make about the run the
//! player was handed, each a predicate on that run. A sign that names a claim
//! is shown only when the claim holds on the played run, with the run's own
//! numbers filled into its text; a test plays every task variant on many seeds
//! and fails if a task's claim holds on fewer than 90% of them.

use crate::sim::trainer::VANISHING_NORM;
use crate::sim::{Outcome, RunTrace};
use std::collections::BTreeMap;

/// The numbers a claim puts at a sign's disposal, by placeholder name.
pub type Values = BTreeMap<&'static str, String>;

/// What a claim is judged on.
pub struct Played<'a> {
    pub trace: &'a RunTrace,
    pub classes: usize,
    pub features: usize,
    /// The same seed trained with the intended fix, for the claims that
    /// compare with it ([`needs_reference`]); `None` elsewhere.
    pub reference: Option<&'a RunTrace>,
}

struct Claim {
    name: &'static str,
    /// What it asserts, for authors (docs/TASKS.md).
    meaning: &'static str,
    placeholders: &'static [&'static str],
    holds: fn(&Played<'_>) -> Option<Values>,
}

/// Every claim a task may name.
const CLAIMS: &[Claim] = &[
    Claim {
        name: "diverged",
        meaning: "the run failed: its loss left float32 range, or train.py raised an error",
        placeholders: &["epoch", "error"],
        holds: diverged,
    },
    Claim {
        name: "loss_at_chance",
        meaning: "final training loss within 10% of ln(classes), the loss of a uniform guess",
        placeholders: &["train_loss", "ln_classes", "classes"],
        holds: loss_at_chance,
    },
    Claim {
        name: "accuracy_near_chance",
        meaning: "final validation accuracy at most 0.1 above 1/classes",
        placeholders: &["val_accuracy", "chance"],
        holds: accuracy_near_chance,
    },
    Claim {
        name: "early_layers_vanish",
        meaning: "fc1's mean gradient norm below 1e-6 and at least 100x smaller than the last layer's",
        placeholders: &["first_norm", "last_norm", "ratio", "last_layer"],
        holds: early_layers_vanish,
    },
    Claim {
        name: "all_layers_exploding",
        meaning: "every layer's gradient norm is flagged exploding",
        placeholders: &["smallest_norm"],
        holds: all_layers_exploding,
    },
    Claim {
        name: "val_loss_turns_up",
        meaning: "validation loss reaches its minimum before the last epoch and ends at least 0.1 above it while training loss ends lower than at that minimum",
        placeholders: &[
            "best_epoch",
            "best_val_loss",
            "final_val_loss",
            "final_train_loss",
        ],
        holds: val_loss_turns_up,
    },
    Claim {
        name: "duplicates",
        meaning: "at least 10% of validation rows also appear in the training set",
        placeholders: &["duplicate_pct"],
        holds: duplicates,
    },
    Claim {
        name: "eval_during_training",
        meaning: "at least one module was in eval mode during the training steps",
        placeholders: &["eval_modules"],
        holds: eval_during_training,
    },
    Claim {
        name: "gradient_spike",
        meaning: "some layer's gradient norm in one epoch is at least 3x its median over the run",
        placeholders: &["layer", "norm", "epoch", "median"],
        holds: gradient_spike,
    },
    Claim {
        name: "gradients_above_healthy",
        meaning: "the first epoch's mean gradient norm is at least twice the healthy reference run's (the same seed with the intended fix)",
        placeholders: &["first_norm", "healthy_norm", "ratio"],
        holds: gradients_above_healthy,
    },
    Claim {
        name: "gradients_grow",
        meaning: "the last epoch's mean gradient norm is at least 3x the first epoch's",
        placeholders: &["first_norm", "last_norm"],
        holds: gradients_grow,
    },
    Claim {
        name: "inputs_off_scale",
        meaning: "the input features' mean is at least 3 away from 0 or their std at least 3",
        placeholders: &["feature_mean", "feature_std"],
        holds: inputs_off_scale,
    },
    Claim {
        name: "few_rows_per_feature",
        meaning: "fewer than 5 training rows per input feature",
        placeholders: &["train_samples", "features"],
        holds: few_rows_per_feature,
    },
    Claim {
        name: "no_nan_in_data",
        meaning: "no NaN or infinite value in the training inputs",
        placeholders: &["null_count"],
        holds: no_nan_in_data,
    },
    Claim {
        name: "nan_in_inputs",
        meaning: "at least one NaN or infinite value in the training inputs",
        placeholders: &["null_count"],
        holds: nan_in_inputs,
    },
    Claim {
        name: "failed_in_first_epoch",
        meaning: "the run failed before its first epoch ended",
        placeholders: &["error"],
        holds: failed_in_first_epoch,
    },
    Claim {
        name: "loss_starts_huge",
        meaning: "the first epoch's training loss is at least 3x ln(classes), far above a uniform guess",
        placeholders: &["first_loss", "ln_classes"],
        holds: loss_starts_huge,
    },
    Claim {
        name: "labels_disagree",
        meaning: "at least 20% of training rows carry a label the majority of their 10 nearest training rows do not",
        placeholders: &["disagreement_pct"],
        holds: labels_disagree,
    },
    Claim {
        name: "train_loss_stays_high",
        meaning: "final training loss at least 0.25x ln(classes) while validation accuracy is above chance + 0.1: the model cannot fit its own training labels",
        placeholders: &["train_loss", "val_accuracy"],
        holds: train_loss_stays_high,
    },
    Claim {
        name: "weights_tiny",
        meaning: "fc1's weight std below 0.01 at the end of the run",
        placeholders: &["std"],
        holds: weights_tiny,
    },
    Claim {
        name: "gradients_healthy",
        meaning: "no layer's gradients are flagged exploding or vanishing",
        placeholders: &[],
        holds: gradients_healthy,
    },
    Claim {
        name: "loss_still_falling",
        meaning: "the run completed and its validation loss fell in each of its last 5 epochs, by at least 0.5% in all",
        placeholders: &["from_epoch", "from_loss", "final_loss"],
        holds: loss_still_falling,
    },
    Claim {
        name: "lr_constant",
        meaning: "the learning rate was the same in every epoch",
        placeholders: &["lr"],
        holds: lr_constant,
    },
    Claim {
        name: "lr_decays_early",
        meaning: "by the middle epoch of the run the learning rate has fallen below 1% of the first epoch's",
        placeholders: &["first_lr", "epoch", "final_lr"],
        holds: lr_decays_early,
    },
    Claim {
        name: "loss_flat_late",
        meaning: "the run completed and its validation loss changed by less than 0.1% over the second half of the run",
        placeholders: &["from_epoch", "loss"],
        holds: loss_flat_late,
    },
    Claim {
        name: "initial_loss_huge",
        meaning: "the first epoch's training loss is at least 10 x ln(classes), or not finite",
        placeholders: &["first_loss", "ln_classes"],
        holds: initial_loss_huge,
    },
    Claim {
        name: "weights_unit_scale",
        meaning: "every layer's weight std is between 0.5 and 2, whatever its width",
        placeholders: &["min_std", "max_std"],
        holds: weights_unit_scale,
    },
    Claim {
        name: "no_divergence",
        meaning: "the run completed and every epoch's training loss is finite",
        placeholders: &["epochs"],
        holds: no_divergence,
    },
    Claim {
        name: "most_units_dead",
        meaning: "some layer has at least 75% dead units (constant output over the validation set)",
        placeholders: &["layer", "dead_pct"],
        holds: most_units_dead,
    },
    Claim {
        name: "few_steps_per_epoch",
        meaning: "at most 2 optimizer steps per epoch (training rows / batch size, rounded up)",
        placeholders: &[
            "steps_per_epoch",
            "batch_size",
            "train_samples",
            "total_steps",
        ],
        holds: few_steps_per_epoch,
    },
    Claim {
        name: "weights_at_init_scale",
        meaning: "fc1's weight std ends between half and twice sqrt(2 / features), the scale Kaiming init gives it",
        placeholders: &["std", "init_std"],
        holds: weights_at_init_scale,
    },
    Claim {
        name: "weights_shrunk",
        meaning: "fc1's weight std ends below a quarter of sqrt(2 / features), the scale Kaiming init gives it",
        placeholders: &["std", "init_std"],
        holds: weights_shrunk,
    },
    Claim {
        name: "loss_negative",
        meaning: "final training loss below zero, which neither cross-entropy nor a squared error can be",
        placeholders: &["train_loss", "first_loss"],
        holds: loss_negative,
    },
    Claim {
        name: "loss_stalls",
        meaning: "final training loss at least 3/4 of the first epoch's: the loss hardly fell",
        placeholders: &["first_loss", "train_loss"],
        holds: loss_stalls,
    },
    Claim {
        name: "train_loss_far_below_val",
        meaning: "final training loss at most a tenth of the final validation loss",
        placeholders: &["train_loss", "val_loss", "ratio"],
        holds: train_loss_far_below_val,
    },
    Claim {
        name: "val_metrics_disagree",
        meaning: "the final model's validation accuracy in eval mode (the confusion matrix) is at least 0.1 above the final val_accuracy the run reported",
        placeholders: &["eval_accuracy", "val_accuracy"],
        holds: val_metrics_disagree,
    },
    Claim {
        name: "classes_skewed",
        meaning: "one class holds at least 70% of the training rows",
        placeholders: &["majority_class", "majority_pct"],
        holds: classes_skewed,
    },
    Claim {
        name: "accuracy_hides_classes",
        meaning: "final validation accuracy at least 0.3 above the balanced accuracy (the mean of the per-class recalls)",
        placeholders: &[
            "val_accuracy",
            "balanced_accuracy",
            "worst_class",
            "worst_recall",
        ],
        holds: accuracy_hides_classes,
    },
    Claim {
        name: "batch_one_class",
        meaning: "every label in the training batch the loader served is the same class",
        placeholders: &["class", "rows"],
        holds: batch_one_class,
    },
    Claim {
        name: "predictions_one_class",
        meaning: "at least 80% of the final model's validation predictions are one class",
        placeholders: &["class", "pct"],
        holds: predictions_one_class,
    },
    Claim {
        name: "val_features_shifted",
        meaning: "the validation features' mean is at least one training std away from the training features' mean, or their std is at least twice or at most half the training std",
        placeholders: &["train_mean", "train_std", "val_mean", "val_std"],
        holds: val_features_shifted,
    },
    Claim {
        name: "val_features_noisier",
        meaning: "the validation features' std is at least 1.3x the training features' while their means are within half a training std",
        placeholders: &["train_std", "val_std"],
        holds: val_features_noisier,
    },
    Claim {
        name: "val_loss_high",
        meaning: "final validation loss at least twice ln(classes), worse than a uniform guess",
        placeholders: &["val_loss", "ln_classes"],
        holds: val_loss_high,
    },
    Claim {
        name: "val_accuracy_high",
        meaning: "final validation accuracy at least 0.5 above chance",
        placeholders: &["val_accuracy", "chance"],
        holds: val_accuracy_high,
    },
];

/// The names and meanings of every claim, for docs and help.
pub fn catalogue() -> impl Iterator<Item = (&'static str, &'static str)> {
    CLAIMS.iter().map(|c| (c.name, c.meaning))
}

/// Whether a claim compares the played run with the healthy reference run
/// (which then has to be trained for it).
pub fn needs_reference(name: &str) -> bool {
    name == "gradients_above_healthy"
}

fn find(name: &str) -> Option<&'static Claim> {
    CLAIMS.iter().find(|c| c.name == name)
}

/// For task checking: the claim exists and the text uses only its placeholders.
pub fn check_template(claim: &str, text: &str) -> Result<(), String> {
    let Some(c) = find(claim) else {
        let known: Vec<&str> = CLAIMS.iter().map(|c| c.name).collect();
        return Err(format!(
            "unknown claim '{claim}' (known: {})",
            known.join(", ")
        ));
    };
    for name in placeholders(text) {
        if !c.placeholders.contains(&name) {
            return Err(format!(
                "claim '{claim}' has no value '{{{name}}}' (it has: {})",
                c.placeholders.join(", ")
            ));
        }
    }
    Ok(())
}

fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// The claim's values on this run, or `None` when it does not hold (or is
/// unknown, which task checking rules out).
pub fn evaluate(claim: &str, played: &Played<'_>) -> Option<Values> {
    find(claim).and_then(|c| (c.holds)(played))
}

/// `text` with the values filled in.
pub fn render(text: &str, values: &Values) -> String {
    let mut out = text.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Three significant figures, in the style the observation's tables use.
pub fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else {
            "inf".into()
        };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn values<const N: usize>(pairs: [(&'static str, String); N]) -> Option<Values> {
    Some(pairs.into_iter().collect())
}

fn diverged(p: &Played<'_>) -> Option<Values> {
    match &p.trace.outcome {
        Outcome::Failed { epoch, message, .. } => {
            values([("epoch", epoch.to_string()), ("error", message.clone())])
        }
        _ => None,
    }
}

fn loss_at_chance(p: &Played<'_>) -> Option<Values> {
    let ln_c = libm::log(p.classes as f64);
    let loss = p.trace.final_metrics.train_loss;
    ((loss - ln_c).abs() <= 0.1 * ln_c).then_some(())?;
    values([
        ("train_loss", sig3(loss)),
        ("ln_classes", sig3(ln_c)),
        ("classes", p.classes.to_string()),
    ])
}

fn accuracy_near_chance(p: &Played<'_>) -> Option<Values> {
    let chance = 1.0 / p.classes as f64;
    let acc = p.trace.final_metrics.val_accuracy;
    (acc <= chance + 0.1).then_some(())?;
    values([("val_accuracy", sig3(acc)), ("chance", sig3(chance))])
}

fn early_layers_vanish(p: &Played<'_>) -> Option<Values> {
    let grads = &p.trace.gradient_stats;
    let (first, last) = (grads.first()?, grads.last()?);
    let ratio = last.mean_norm / first.mean_norm;
    (first.mean_norm < VANISHING_NORM && ratio >= 100.0).then_some(())?;
    values([
        ("first_norm", sig3(first.mean_norm)),
        ("last_norm", sig3(last.mean_norm)),
        ("ratio", sig3(ratio)),
        ("last_layer", last.layer_name.clone()),
    ])
}

fn all_layers_exploding(p: &Played<'_>) -> Option<Values> {
    let grads = &p.trace.gradient_stats;
    (!grads.is_empty() && grads.iter().all(|g| g.is_exploding)).then_some(())?;
    let smallest = grads
        .iter()
        .map(|g| g.mean_norm)
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    values([("smallest_norm", sig3(smallest))])
}

fn val_loss_turns_up(p: &Played<'_>) -> Option<Values> {
    let epochs = &p.trace.epochs;
    let best = epochs
        .iter()
        .filter(|e| e.val_loss.is_finite())
        .min_by(|a, b| a.val_loss.total_cmp(&b.val_loss))?;
    let last = epochs.last()?;
    (best.epoch < last.epoch
        && last.val_loss - best.val_loss >= 0.1
        && last.train_loss < best.train_loss)
        .then_some(())?;
    values([
        ("best_epoch", best.epoch.to_string()),
        ("best_val_loss", sig3(best.val_loss)),
        ("final_val_loss", sig3(last.val_loss)),
        ("final_train_loss", sig3(last.train_loss)),
    ])
}

fn duplicates(p: &Played<'_>) -> Option<Values> {
    let ratio = p.trace.data_stats.duplicate_ratio;
    (ratio >= 0.1).then_some(())?;
    values([("duplicate_pct", format!("{:.0}%", 100.0 * ratio))])
}

fn eval_during_training(p: &Played<'_>) -> Option<Values> {
    let eval: Vec<&str> = p
        .trace
        .modes
        .iter()
        .filter(|(_, m)| *m == "eval")
        .map(|(n, _)| n.as_str())
        .collect();
    (!eval.is_empty()).then_some(())?;
    values([("eval_modules", eval.join(", "))])
}

fn gradient_spike(p: &Played<'_>) -> Option<Values> {
    p.trace.gradient_stats.iter().find_map(|g| {
        let mut finite: Vec<f64> = g
            .norm_history
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        finite.sort_by(f64::total_cmp);
        let median = *finite.get(finite.len() / 2)?;
        let (at, peak) = g
            .norm_history
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        (median > 0.0 && *peak >= 3.0 * median).then(|| {
            [
                ("layer", g.layer_name.clone()),
                ("norm", sig3(*peak)),
                ("epoch", (at + 1).to_string()),
                ("median", sig3(median)),
            ]
            .into_iter()
            .collect()
        })
    })
}

fn gradients_grow(p: &Played<'_>) -> Option<Values> {
    let epochs = &p.trace.epochs;
    let (first, last) = (epochs.first()?, epochs.last()?);
    (first.grad_norm > 0.0 && last.grad_norm >= 3.0 * first.grad_norm).then_some(())?;
    values([
        ("first_norm", sig3(first.grad_norm)),
        ("last_norm", sig3(last.grad_norm)),
    ])
}

fn gradients_above_healthy(p: &Played<'_>) -> Option<Values> {
    let first = p.trace.epochs.first()?.grad_norm;
    let healthy = p.reference?.epochs.first()?.grad_norm;
    (healthy > 0.0 && first >= 2.0 * healthy).then_some(())?;
    values([
        ("first_norm", sig3(first)),
        ("healthy_norm", sig3(healthy)),
        ("ratio", sig3(first / healthy)),
    ])
}

fn inputs_off_scale(p: &Played<'_>) -> Option<Values> {
    let s = &p.trace.data_stats;
    (s.feature_mean.abs() >= 3.0 || s.feature_std >= 3.0).then_some(())?;
    values([
        ("feature_mean", sig3(s.feature_mean)),
        ("feature_std", sig3(s.feature_std)),
    ])
}

fn few_rows_per_feature(p: &Played<'_>) -> Option<Values> {
    let s = &p.trace.data_stats;
    let features = p.features;
    (features > 0 && s.train_samples < 5 * features).then_some(())?;
    values([
        ("train_samples", s.train_samples.to_string()),
        ("features", features.to_string()),
    ])
}

fn no_nan_in_data(p: &Played<'_>) -> Option<Values> {
    let nulls = p.trace.data_stats.null_count;
    (nulls == 0).then_some(())?;
    values([("null_count", nulls.to_string())])
}

fn nan_in_inputs(p: &Played<'_>) -> Option<Values> {
    let nulls = p.trace.data_stats.null_count;
    (nulls > 0).then_some(())?;
    values([("null_count", nulls.to_string())])
}

fn failed_in_first_epoch(p: &Played<'_>) -> Option<Values> {
    match &p.trace.outcome {
        Outcome::Failed { epoch, message, .. } if *epoch <= 1 => {
            values([("error", message.clone())])
        }
        _ => None,
    }
}

fn loss_starts_huge(p: &Played<'_>) -> Option<Values> {
    let ln_c = libm::log(p.classes as f64);
    let first = p.trace.epochs.first()?.train_loss;
    (first >= 3.0 * ln_c).then_some(())?;
    values([("first_loss", sig3(first)), ("ln_classes", sig3(ln_c))])
}

fn labels_disagree(p: &Played<'_>) -> Option<Values> {
    let share = p.trace.data_stats.knn_label_disagreement;
    (share >= 0.2).then_some(())?;
    values([("disagreement_pct", format!("{:.0}%", 100.0 * share))])
}

fn train_loss_stays_high(p: &Played<'_>) -> Option<Values> {
    let ln_c = libm::log(p.classes as f64);
    let last = p.trace.final_metrics;
    let chance = 1.0 / p.classes as f64;
    (last.train_loss >= 0.25 * ln_c && last.val_accuracy > chance + 0.1).then_some(())?;
    values([
        ("train_loss", sig3(last.train_loss)),
        ("val_accuracy", sig3(last.val_accuracy)),
    ])
}

fn weights_tiny(p: &Played<'_>) -> Option<Values> {
    let first = p.trace.weight_stats.first()?;
    (first.std < 0.01).then_some(())?;
    values([("std", sig3(first.std))])
}

fn gradients_healthy(p: &Played<'_>) -> Option<Values> {
    let grads = &p.trace.gradient_stats;
    grads
        .iter()
        .all(|g| !g.is_exploding && !g.is_vanishing)
        .then(Values::new)
}

fn loss_negative(p: &Played<'_>) -> Option<Values> {
    let first = p.trace.epochs.first()?.train_loss;
    let loss = p.trace.final_metrics.train_loss;
    (loss < 0.0).then_some(())?;
    values([("train_loss", sig3(loss)), ("first_loss", sig3(first))])
}

fn loss_stalls(p: &Played<'_>) -> Option<Values> {
    let first = p.trace.epochs.first()?.train_loss;
    let loss = p.trace.final_metrics.train_loss;
    (first > 0.0 && loss >= 0.75 * first).then_some(())?;
    values([("first_loss", sig3(first)), ("train_loss", sig3(loss))])
}

fn train_loss_far_below_val(p: &Played<'_>) -> Option<Values> {
    let m = p.trace.final_metrics;
    (m.train_loss > 0.0 && m.val_loss.is_finite() && 10.0 * m.train_loss <= m.val_loss)
        .then_some(())?;
    values([
        ("train_loss", sig3(m.train_loss)),
        ("val_loss", sig3(m.val_loss)),
        ("ratio", sig3(m.val_loss / m.train_loss)),
    ])
}

fn val_metrics_disagree(p: &Played<'_>) -> Option<Values> {
    let matrix = &p.trace.confusion_matrix;
    let total: usize = matrix.iter().flatten().sum();
    let right: usize = matrix
        .iter()
        .enumerate()
        .filter_map(|(i, row)| row.get(i))
        .sum();
    (total > 0).then_some(())?;
    let eval_accuracy = right as f64 / total as f64;
    let reported = p.trace.final_metrics.val_accuracy;
    (eval_accuracy >= reported + 0.1).then_some(())?;
    values([
        ("eval_accuracy", sig3(eval_accuracy)),
        ("val_accuracy", sig3(reported)),
    ])
}

fn val_accuracy_high(p: &Played<'_>) -> Option<Values> {
    let chance = 1.0 / p.classes as f64;
    let acc = p.trace.final_metrics.val_accuracy;
    (acc >= chance + 0.5).then_some(())?;
    values([("val_accuracy", sig3(acc)), ("chance", sig3(chance))])
}

/// The run completed: a claim about where its loss went would say nothing
/// about a run that stopped or failed.
fn completed(p: &Played<'_>) -> bool {
    matches!(p.trace.outcome, Outcome::Completed)
}

fn loss_still_falling(p: &Played<'_>) -> Option<Values> {
    completed(p).then_some(())?;
    let epochs = &p.trace.epochs;
    let last = epochs.last()?;
    let start = epochs.len().checked_sub(6)?;
    let from = epochs.get(start)?;
    let tail = epochs.get(start..)?;
    let falling = tail.windows(2).all(|w| w[1].val_loss < w[0].val_loss);
    (falling && last.val_loss <= 0.995 * from.val_loss).then_some(())?;
    values([
        ("from_epoch", from.epoch.to_string()),
        ("from_loss", sig3(from.val_loss)),
        ("final_loss", sig3(last.val_loss)),
    ])
}

fn lr_constant(p: &Played<'_>) -> Option<Values> {
    let first = p.trace.epochs.first()?.learning_rate;
    p.trace
        .epochs
        .iter()
        .all(|e| e.learning_rate == first)
        .then_some(())?;
    values([("lr", sig3(first))])
}

fn lr_decays_early(p: &Played<'_>) -> Option<Values> {
    let epochs = &p.trace.epochs;
    let first = epochs.first()?.learning_rate;
    let middle = epochs.len().div_ceil(2);
    let low = epochs
        .iter()
        .take(middle)
        .find(|e| e.learning_rate < 0.01 * first)?;
    values([
        ("first_lr", sig3(first)),
        ("epoch", low.epoch.to_string()),
        ("final_lr", sig3(epochs.last()?.learning_rate)),
    ])
}

fn loss_flat_late(p: &Played<'_>) -> Option<Values> {
    completed(p).then_some(())?;
    let epochs = &p.trace.epochs;
    let last = epochs.last()?;
    let from = epochs.get(epochs.len() / 2)?;
    let moved = (last.val_loss - from.val_loss).abs();
    (moved < 1e-3 * from.val_loss).then_some(())?;
    values([
        ("from_epoch", from.epoch.to_string()),
        ("loss", sig3(last.val_loss)),
    ])
}

fn initial_loss_huge(p: &Played<'_>) -> Option<Values> {
    let first = p.trace.epochs.first()?.train_loss;
    let ln_c = libm::log(p.classes as f64);
    (!first.is_finite() || first >= 10.0 * ln_c).then_some(())?;
    values([("first_loss", sig3(first)), ("ln_classes", sig3(ln_c))])
}

fn weights_unit_scale(p: &Played<'_>) -> Option<Values> {
    let stds: Vec<f64> = p.trace.weight_stats.iter().map(|w| w.std).collect();
    let (min, max) = stds
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| {
            (lo.min(s), hi.max(s))
        });
    (!stds.is_empty() && stds.iter().all(|s| (0.5..=2.0).contains(s))).then_some(())?;
    values([("min_std", sig3(min)), ("max_std", sig3(max))])
}

fn no_divergence(p: &Played<'_>) -> Option<Values> {
    completed(p).then_some(())?;
    let epochs = &p.trace.epochs;
    epochs
        .iter()
        .all(|e| e.train_loss.is_finite())
        .then_some(())?;
    values([("epochs", epochs.len().to_string())])
}

fn most_units_dead(p: &Played<'_>) -> Option<Values> {
    let worst = p
        .trace
        .weight_stats
        .iter()
        .max_by(|a, b| a.dead_neuron_pct.total_cmp(&b.dead_neuron_pct))?;
    (worst.dead_neuron_pct >= 75.0).then_some(())?;
    values([
        ("layer", worst.layer_name.clone()),
        ("dead_pct", format!("{:.0}%", worst.dead_neuron_pct)),
    ])
}

fn few_steps_per_epoch(p: &Played<'_>) -> Option<Values> {
    let s = &p.trace.data_stats;
    let steps = s.train_samples.div_ceil(s.batch_size.max(1));
    (steps <= 2).then_some(())?;
    values([
        ("steps_per_epoch", steps.to_string()),
        ("batch_size", s.batch_size.to_string()),
        ("train_samples", s.train_samples.to_string()),
        ("total_steps", (steps * p.trace.epochs.len()).to_string()),
    ])
}

/// fc1's weight std and the std Kaiming init gives a layer with its fan-in.
fn first_layer_scale(p: &Played<'_>) -> Option<(f64, f64)> {
    let first = p.trace.weight_stats.first()?;
    let init = libm::sqrt(2.0 / p.features.max(1) as f64);
    first.std.is_finite().then_some((first.std, init))
}

fn weights_at_init_scale(p: &Played<'_>) -> Option<Values> {
    let (std, init) = first_layer_scale(p)?;
    (std >= 0.5 * init && std <= 2.0 * init).then_some(())?;
    values([("std", sig3(std)), ("init_std", sig3(init))])
}

fn weights_shrunk(p: &Played<'_>) -> Option<Values> {
    let (std, init) = first_layer_scale(p)?;
    (std < 0.25 * init).then_some(())?;
    values([("std", sig3(std)), ("init_std", sig3(init))])
}

fn classes_skewed(p: &Played<'_>) -> Option<Values> {
    let counts = &p.trace.data_stats.label_distribution;
    let total: usize = counts.iter().sum();
    let (class, &top) = counts
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))?;
    (total > 0 && top * 10 >= total * 7).then_some(())?;
    values([
        ("majority_class", class.to_string()),
        (
            "majority_pct",
            format!("{:.0}%", 100.0 * top as f64 / total as f64),
        ),
    ])
}

fn accuracy_hides_classes(p: &Played<'_>) -> Option<Values> {
    let f = p.trace.final_metrics;
    (f.val_accuracy - f.val_balanced_accuracy >= 0.3).then_some(())?;
    let recalls = crate::sim::metrics::recall_by_class(&p.trace.confusion_matrix);
    let (worst_class, worst) = recalls
        .iter()
        .enumerate()
        .filter_map(|(c, r)| r.map(|r| (c, r)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    values([
        ("val_accuracy", sig3(f.val_accuracy)),
        ("balanced_accuracy", sig3(f.val_balanced_accuracy)),
        ("worst_class", worst_class.to_string()),
        ("worst_recall", sig3(worst)),
    ])
}

fn batch_one_class(p: &Played<'_>) -> Option<Values> {
    let counts = &p.trace.data_stats.batch_label_distribution;
    let rows: usize = counts.iter().sum();
    let class = counts.iter().position(|&n| n == rows)?;
    (rows > 1).then_some(())?;
    values([("class", class.to_string()), ("rows", rows.to_string())])
}

fn predictions_one_class(p: &Played<'_>) -> Option<Values> {
    let cm = &p.trace.confusion_matrix;
    let total: usize = cm.iter().flatten().sum();
    let predicted = |c: usize| {
        cm.iter()
            .map(|row| row.get(c).copied().unwrap_or(0))
            .sum::<usize>()
    };
    let (class, top) = (0..cm.len())
        .map(|c| (c, predicted(c)))
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    (total > 0 && top * 10 >= total * 8).then_some(())?;
    values([
        ("class", class.to_string()),
        ("pct", format!("{:.0}%", 100.0 * top as f64 / total as f64)),
    ])
}

fn feature_moments(p: &Played<'_>) -> [(&'static str, String); 4] {
    let s = &p.trace.data_stats;
    [
        ("train_mean", sig3(s.feature_mean)),
        ("train_std", sig3(s.feature_std)),
        ("val_mean", sig3(s.val_feature_mean)),
        ("val_std", sig3(s.val_feature_std)),
    ]
}

fn val_features_shifted(p: &Played<'_>) -> Option<Values> {
    let s = &p.trace.data_stats;
    let scale = s.feature_std.max(1e-12);
    let ratio = s.val_feature_std / scale;
    ((s.val_feature_mean - s.feature_mean).abs() >= scale || !(0.5..2.0).contains(&ratio))
        .then_some(())?;
    values(feature_moments(p))
}

fn val_features_noisier(p: &Played<'_>) -> Option<Values> {
    let s = &p.trace.data_stats;
    let scale = s.feature_std.max(1e-12);
    (s.val_feature_std >= 1.3 * scale
        && (s.val_feature_mean - s.feature_mean).abs() <= 0.5 * scale)
        .then_some(())?;
    values([
        ("train_std", sig3(s.feature_std)),
        ("val_std", sig3(s.val_feature_std)),
    ])
}

fn val_loss_high(p: &Played<'_>) -> Option<Values> {
    let ln_c = libm::log(p.classes as f64);
    let loss = p.trace.final_metrics.val_loss;
    (loss >= 2.0 * ln_c).then_some(())?;
    values([("val_loss", sig3(loss)), ("ln_classes", sig3(ln_c))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Episode;
    use crate::events::{FixedClock, NoSink};
    use crate::task::{Sign, TaskSet};

    /// Every measurable sign of every built-in task is a property of the
    /// variants it describes, not a coin flip: on 30 seeds of each variant it
    /// holds on at least 90% or at most 10% of them, and on at least one
    /// variant it holds on 90%. (A sign is shown only where it holds.)
    #[test]
    fn every_task_claim_holds_on_nine_seeds_in_ten_of_its_variants() {
        let tasks = TaskSet::builtin().unwrap();
        let mut failures = Vec::new();
        for task in tasks.iter() {
            let variants = task.file.variants.len().max(1);
            let mut seeds_by_variant = vec![Vec::new(); variants];
            for seed in 0..2000u64 {
                let v = task.variant_for_seed(seed);
                if seeds_by_variant[v].len() < 30 {
                    seeds_by_variant[v].push(seed);
                }
            }
            let claims: Vec<&String> = task
                .file
                .debrief
                .signs
                .iter()
                .filter_map(|s| match s {
                    Sign::Claim { claim, .. } => Some(claim),
                    Sign::Plain(_) => None,
                })
                .collect();
            let mut best = vec![0.0f64; claims.len()];
            for (variant, seeds) in seeds_by_variant.iter().enumerate() {
                let mut held = vec![0usize; claims.len()];
                let with_reference = claims.iter().any(|c| needs_reference(c));
                for &seed in seeds {
                    let ep = Episode::reset(task.clone(), seed, &mut NoSink, &FixedClock).unwrap();
                    let reference = with_reference.then(|| ep.reference_run());
                    let played = Played {
                        trace: ep.broken_run(),
                        classes: ep.scenario().data.classes,
                        features: ep.scenario().data.features,
                        reference: reference.as_deref(),
                    };
                    for (i, claim) in claims.iter().enumerate() {
                        held[i] += usize::from(evaluate(claim, &played).is_some());
                    }
                }
                for (i, claim) in claims.iter().enumerate() {
                    let share = held[i] as f64 / seeds.len().max(1) as f64;
                    best[i] = best[i].max(share);
                    if share > 0.1 && share < 0.9 {
                        failures.push(format!(
                            "{} variant {variant}: '{claim}' holds on {:.0}% of seeds",
                            task.id(),
                            100.0 * share
                        ));
                    }
                }
            }
            for (i, claim) in claims.iter().enumerate() {
                if best[i] < 0.9 {
                    failures.push(format!(
                        "{}: '{claim}' holds on no variant's 90% of seeds",
                        task.id()
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn the_authoring_guide_lists_every_claim() {
        let guide = include_str!("../../docs/TASKS.md");
        for claim in CLAIMS {
            let row = format!("| `{}` | {} |", claim.name, claim.meaning);
            assert!(guide.contains(&row), "docs/TASKS.md lacks the row {row}");
        }
    }

    #[test]
    fn templates_are_checked_against_the_claims_values() {
        assert!(check_template("duplicates", "{duplicate_pct} of rows").is_ok());
        assert!(
            check_template("duplicates", "{ratio}")
                .unwrap_err()
                .contains("has no value '{ratio}'")
        );
        assert!(
            check_template("nope", "x")
                .unwrap_err()
                .contains("unknown claim")
        );
    }

    #[test]
    fn render_fills_every_placeholder() {
        let v: Values = [("a", "1".to_string()), ("b", "two".to_string())]
            .into_iter()
            .collect();
        assert_eq!(render("{a} and {b}, {a}", &v), "1 and two, 1");
    }

    #[test]
    fn sig3_reads_like_the_tables() {
        assert_eq!(sig3(0.61234), "0.612");
        assert_eq!(sig3(12.345), "12.3");
        assert_eq!(sig3(1.5e-7), "1.50e-7");
        assert_eq!(sig3(f64::NAN), "NaN");
    }
}
