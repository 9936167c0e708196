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
/// "No worse than the broken run" allows at least this much noise.
pub const BROKEN_TOLERANCE: f64 = 0.02;

/// How far a re-run's accuracy may fall below the broken run's and still
/// count as no worse: the standard error of the difference between two
/// accuracies of about `accuracy` measured on `rows` validation rows, and
/// never less than `BROKEN_TOLERANCE`. On 96 rows at 0.6 that is 0.07: two
/// runs of the same healthy model differ by that much from the seed alone,
/// so a cure that lands a little below a lucky broken run is still a cure.
pub fn accuracy_tolerance(accuracy: f64, rows: usize) -> f64 {
    if rows == 0 || !accuracy.is_finite() {
        return BROKEN_TOLERANCE;
    }
    let p = accuracy.clamp(0.0, 1.0);
    libm::sqrt(2.0 * p * (1.0 - p) / rows as f64).max(BROKEN_TOLERANCE)
}

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
        let rows: usize = runs.run.confusion_matrix.iter().flatten().sum();
        let (name, now, before, tolerance, better) =
            match recovery.main_metric.unwrap_or(MainMetric::ValAccuracy) {
                MainMetric::ValAccuracy => {
                    let tolerance = accuracy_tolerance(runs.broken.val_accuracy, rows);
                    (
                        "val_accuracy",
                        last.val_accuracy,
                        runs.broken.val_accuracy,
                        tolerance,
                        last.val_accuracy >= runs.broken.val_accuracy - tolerance,
                    )
                }
                MainMetric::ValLoss => (
                    "val_loss",
                    last.val_loss,
                    runs.broken.val_loss,
                    BROKEN_TOLERANCE,
                    last.val_loss <= runs.broken.val_loss + BROKEN_TOLERANCE,
                ),
                MainMetric::BalancedAccuracy => {
                    let tolerance = accuracy_tolerance(runs.broken.val_balanced_accuracy, rows);
                    (
                        "balanced_accuracy",
                        last.val_balanced_accuracy,
                        runs.broken.val_balanced_accuracy,
                        tolerance,
                        last.val_balanced_accuracy >= runs.broken.val_balanced_accuracy - tolerance,
                    )
                }
            };
        if before.is_finite() {
            check(
                better,
                format!(
                    "final {name} {} no worse than the broken run's {} (within {}{})",
                    short(now),
                    short(before),
                    short(tolerance),
                    if name == "val_loss" {
                        String::new()
                    } else {
                        format!(", the noise of {rows} validation rows")
                    }
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
    if recovery.modules_in_train_mode == Some(true) {
        let eval: Vec<&str> = runs
            .run
            .modes
            .iter()
            .filter(|(_, mode)| *mode == "eval")
            .map(|(name, _)| name.as_str())
            .collect();
        check(
            eval.is_empty(),
            if eval.is_empty() {
                "every module was in train mode during the training steps".into()
            } else {
                format!(
                    "every module in train mode during the training steps ({} ran in eval mode)",
                    eval.join(", ")
                )
            },
        );
    }
    if let Some(min) = recovery.min_negative_score_share {
        let share = runs.run.negative_score_share;
        check(
            share >= min,
            format!(
                "share of the scores handed to the loss that were negative {} >= {min}",
                short(share)
            ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Episode;
    use crate::events::{FixedClock, NoSink};
    use crate::task::TaskSet;

    #[test]
    fn the_tolerance_is_the_noise_of_the_validation_set_and_never_below_the_floor() {
        let small = accuracy_tolerance(0.6, 96);
        assert!((small - libm::sqrt(2.0 * 0.24 / 96.0)).abs() < 1e-12);
        assert!(small > 0.07 && small < 0.071, "{small}");
        assert_eq!(accuracy_tolerance(0.6, 100_000), BROKEN_TOLERANCE);
        assert_eq!(accuracy_tolerance(1.0, 96), BROKEN_TOLERANCE);
        assert_eq!(accuracy_tolerance(0.6, 0), BROKEN_TOLERANCE);
        assert_eq!(accuracy_tolerance(f64::NAN, 96), BROKEN_TOLERANCE);
    }

    /// The first `n` seeds that play `variant` of `task`, with their broken
    /// verdicts and the verdicts after the walkthrough.
    fn played(task: &str, variant: usize, n: usize) -> Vec<(u64, Verdict, Verdict)> {
        let task = TaskSet::builtin().unwrap().get(task).unwrap();
        (0..)
            .filter(|&seed| task.variant_for_seed(seed) == variant)
            .take(n)
            .map(|seed| {
                let mut ep = Episode::reset(task.clone(), seed, &mut NoSink, &FixedClock).unwrap();
                let broken = ep.verdict();
                for step in ep.walkthrough().to_vec() {
                    ep.step(&step, &mut NoSink, &FixedClock);
                }
                (seed, broken, ep.verdict())
            })
            .collect()
    }

    fn check<'a>(verdict: &'a Verdict, about: &str) -> &'a str {
        let found = verdict.checks.iter().find(|c| c.contains(about));
        found.map_or("", String::as_str)
    }

    /// model.eval() inside the loop: the modes the run measured fail the
    /// criterion whatever the accuracy, and model.train() meets it.
    #[test]
    fn eval_mode_during_training_is_judged_from_the_measured_modes() {
        for (seed, broken, fixed) in played("task_006", 2, 3) {
            let before = check(&broken, "train mode during the training steps");
            assert!(before.starts_with("not met:"), "seed {seed}: {before}");
            assert!(before.contains("bn1"), "seed {seed}: {before}");
            let after = check(&fixed, "train mode during the training steps");
            assert!(after.starts_with("ok:"), "seed {seed}: {after}");
        }
    }

    /// relu on the logits: none of the scores the loss saw was negative;
    /// without the relu about half are.
    #[test]
    fn clipped_scores_are_judged_from_the_scores_the_loss_saw() {
        for (seed, broken, fixed) in played("task_006", 3, 3) {
            let before = check(&broken, "were negative");
            assert!(before.starts_with("not met:"), "seed {seed}: {before}");
            assert!(before.contains(" 0.000 >= 0.01"), "seed {seed}: {before}");
            let after = check(&fixed, "were negative");
            assert!(after.starts_with("ok:"), "seed {seed}: {after}");
            assert!(fixed.recovered, "seed {seed}: {:?}", fixed.checks);
        }
    }
}
