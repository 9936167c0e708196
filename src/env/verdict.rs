//! Whether a re-run recovered. A run recovers only if it is healthy in
//! absolute terms (it completed, its loss fell well below the loss of a
//! uniform guess, and its validation accuracy closed most of the gap between
//! chance and the task's healthy reference run), it is no worse than the
//! broken run, and the task's own symptom is gone (the task's criteria).

use crate::sim::trainer::INTERRUPTED;
use crate::sim::{FinalMetrics, Outcome, RunTrace};
use crate::task::Recovery;
use crate::task::schema::MainMetric;
use serde::Serialize;

/// The share of the chance-to-reference accuracy gap a recovered run must close.
pub const DEFAULT_MIN_GAIN: f64 = 0.75;
/// However good the reference, a recovered run is this far above chance.
pub const MIN_MARGIN_OVER_CHANCE: f64 = 0.1;
/// A recovered run's training loss ends below this share of ln(classes).
pub const MAX_LOSS_SHARE_OF_CHANCE: f64 = 0.9;
/// "No worse than the broken run" allows this much accuracy noise.
pub const BROKEN_TOLERANCE: f64 = 0.02;

/// Why a run does or does not count as recovered.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Verdict {
    pub recovered: bool,
    /// One line per check, each starting with "ok:" or "not met:".
    pub checks: Vec<String>,
}

/// The runs a verdict compares.
pub struct Runs<'a> {
    pub run: &'a RunTrace,
    /// The run the player was handed.
    pub broken: &'a FinalMetrics,
    /// The same seed with the intended fix applied.
    pub reference: &'a FinalMetrics,
    pub classes: usize,
}

pub fn judge(recovery: &Recovery, runs: &Runs<'_>) -> Verdict {
    let mut ok = true;
    let mut checks = Vec::new();
    let mut check = |pass: bool, text: String| {
        ok &= pass;
        checks.push(format!("{} {text}", if pass { "ok:" } else { "not met:" }));
    };
    match &runs.run.outcome {
        Outcome::Failed { epoch, message, .. } => {
            check(false, format!("the run failed in epoch {epoch}: {message}"))
        }
        Outcome::Stopped { epoch, reason } if reason == INTERRUPTED => check(
            false,
            format!("the run was interrupted after epoch {epoch}, before it could show a recovery"),
        ),
        _ => check(true, "the run completed".into()),
    }
    let last = runs.run.final_metrics;
    let classes = runs.classes.max(2) as f64;
    let chance = 1.0 / classes;
    let ln_c = libm::log(classes);
    let loss_bar = MAX_LOSS_SHARE_OF_CHANCE * ln_c;
    check(
        last.train_loss < loss_bar,
        format!(
            "final train_loss {} < {} (0.9 x ln {}, the loss of a uniform guess)",
            short(last.train_loss),
            short(loss_bar),
            runs.classes
        ),
    );
    let gain = recovery.min_gain_vs_reference.unwrap_or(DEFAULT_MIN_GAIN);
    let reference = runs.reference.val_accuracy;
    let bar = (chance + gain * (reference - chance)).max(chance + MIN_MARGIN_OVER_CHANCE);
    check(
        last.val_accuracy >= bar,
        format!(
            "final val_accuracy {} >= {} (chance {} + {gain} of the way to the healthy run's {})",
            short(last.val_accuracy),
            short(bar),
            short(chance),
            short(reference)
        ),
    );
    if recovery.compare_to_broken.unwrap_or(true) {
        let (name, now, before, better) =
            match recovery.main_metric.unwrap_or(MainMetric::ValAccuracy) {
                MainMetric::ValAccuracy => (
                    "val_accuracy",
                    last.val_accuracy,
                    runs.broken.val_accuracy,
                    last.val_accuracy >= runs.broken.val_accuracy - BROKEN_TOLERANCE,
                ),
                MainMetric::ValLoss => (
                    "val_loss",
                    last.val_loss,
                    runs.broken.val_loss,
                    last.val_loss <= runs.broken.val_loss + BROKEN_TOLERANCE,
                ),
                MainMetric::BalancedAccuracy => (
                    "balanced_accuracy",
                    last.val_balanced_accuracy,
                    runs.broken.val_balanced_accuracy,
                    last.val_balanced_accuracy
                        >= runs.broken.val_balanced_accuracy - BROKEN_TOLERANCE,
                ),
            };
        if before.is_finite() {
            check(
                better,
                format!(
                    "final {name} {} no worse than the broken run's {} (within {BROKEN_TOLERANCE})",
                    short(now),
                    short(before)
                ),
            );
        }
    }
    if let Some(min) = recovery.min_val_accuracy {
        check(
            last.val_accuracy >= min,
            format!("final val_accuracy {} >= {min}", short(last.val_accuracy)),
        );
    }
    if let Some(min) = recovery.min_balanced_accuracy {
        check(
            last.val_balanced_accuracy >= min,
            format!(
                "final balanced_accuracy {} >= {min} (the mean of the per-class recalls)",
                short(last.val_balanced_accuracy)
            ),
        );
    }
    if let Some(gain) = recovery.min_balanced_gain_vs_reference {
        let reference = runs.reference.val_balanced_accuracy;
        let bar = chance + gain * (reference - chance);
        check(
            last.val_balanced_accuracy >= bar,
            format!(
                "final balanced_accuracy {} >= {} (chance {} + {gain} of the way to the healthy run's {})",
                short(last.val_balanced_accuracy),
                short(bar),
                short(chance),
                short(reference)
            ),
        );
    }
    if let Some(max) = recovery.max_val_loss {
        check(
            last.val_loss <= max,
            format!("final val_loss {} <= {max}", short(last.val_loss)),
        );
    }
    if let Some(share) = recovery.min_accuracy_vs_reference {
        let want = share * reference;
        check(
            last.val_accuracy >= want,
            format!(
                "final val_accuracy {} >= {share} x the healthy run's {}",
                short(last.val_accuracy),
                short(reference)
            ),
        );
    }
    if let Some(factor) = recovery.max_val_loss_vs_reference {
        let want = factor * runs.reference.val_loss;
        check(
            last.val_loss <= want,
            format!(
                "final val_loss {} <= {factor} x the healthy run's {}",
                short(last.val_loss),
                short(runs.reference.val_loss)
            ),
        );
    }
    if let Some(max) = recovery.max_val_loss_rise {
        let best = runs
            .run
            .epochs
            .iter()
            .map(|e| e.val_loss)
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
        let rise = last.val_loss - best;
        check(
            rise <= max,
            format!("val_loss rise from its best {} <= {max}", short(rise)),
        );
    }
    if let Some(max) = recovery.max_duplicate_ratio {
        let ratio = runs.run.data_stats.duplicate_ratio;
        check(
            ratio <= max,
            format!("duplicate_ratio {} <= {max}", short(ratio)),
        );
    }
    Verdict {
        recovered: ok,
        checks,
    }
}

/// Whether a reference run is healthy enough to judge against: completed and
/// clearly above chance. `tasks check` holds every task to it.
pub fn reference_is_healthy(reference: &RunTrace, classes: usize) -> Result<(), String> {
    let chance = 1.0 / classes.max(2) as f64;
    let acc = reference.final_metrics.val_accuracy;
    if let Outcome::Failed { epoch, message, .. } = &reference.outcome {
        return Err(format!("it failed in epoch {epoch}: {message}"));
    }
    let ln_c = libm::log(classes.max(2) as f64);
    let loss_fell = reference.final_metrics.train_loss < MAX_LOSS_SHARE_OF_CHANCE * ln_c;
    if !loss_fell {
        return Err(format!(
            "its final train_loss {} is not below 0.9 x ln {classes}",
            short(reference.final_metrics.train_loss)
        ));
    }
    let above_chance = acc >= chance + 2.0 * MIN_MARGIN_OVER_CHANCE;
    if !above_chance {
        return Err(format!(
            "its final val_accuracy {} is not clearly above chance ({})",
            short(acc),
            short(chance)
        ));
    }
    Ok(())
}

fn short(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "NaN".into()
    }
}
