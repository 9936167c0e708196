//! The optimisation faults of the catalogue, each checked on its task's own
//! setups: the fault acts through its mechanism (the rate, the penalty, the
//! schedule, the init, the units, the batch) and its cure really recovers.
//! The signatures were compared with the same nets trained in PyTorch.

use super::{final_acc, spec};
use crate::sim::trainer::{RunTrace, Unobserved, run};
use crate::sim::{Outcome, RunSpec};

fn trained(spec: &RunSpec) -> RunTrace {
    run(spec, &mut Unobserved)
}

fn with(spec: &RunSpec, change: impl FnOnce(&mut RunSpec)) -> RunSpec {
    let mut changed = spec.clone();
    change(&mut changed);
    changed
}

/// Kaiming's std for fc1 of the catalogue's 10-feature nets.
fn kaiming_fc1(spec: &RunSpec) -> f64 {
    libm::sqrt(2.0 / spec.data.features as f64)
}

#[test]
fn task_016_a_tiny_rate_creeps_and_a_sane_rate_converges() {
    // The cure each variant's walkthrough applies.
    let cures = [0.01, 0.01, 0.1, 0.1];
    for (variant, cure) in cures.into_iter().enumerate() {
        let mut longer_gap = 0.0;
        for seed in 0..4 {
            let broken = spec("task_016", variant, seed);
            let t = trained(&broken);
            assert_eq!(t.outcome, Outcome::Completed, "{variant}/{seed}");
            let losses: Vec<f64> = t.epochs.iter().map(|e| e.val_loss).collect();
            // Creeping: it falls over the run and is still falling at the end.
            assert!(
                losses[19] < losses[0] && losses[14..].windows(2).all(|w| w[1] < w[0]),
                "{variant}/{seed}: {losses:?}"
            );
            assert!(
                t.gradient_stats
                    .iter()
                    .all(|g| !g.is_exploding && !g.is_vanishing),
                "{variant}/{seed}: gradients are healthy"
            );
            let fc1 = t.weight_stats[0].std;
            let init = kaiming_fc1(&broken);
            assert!(
                fc1 > 0.5 * init && fc1 < 2.0 * init,
                "{variant}/{seed}: fc1 std {fc1} stays near its init {init}"
            );
            let fixed = trained(&with(&broken, |s| s.config.learning_rate = cure));
            assert!(
                final_acc(&fixed) > 0.8 && final_acc(&fixed) > final_acc(&t) + 0.3,
                "{variant}/{seed}: {} -> {}",
                final_acc(&t),
                final_acc(&fixed)
            );
            // Five times the epochs at the same rate is still far from the cure.
            let longer = trained(&with(&broken, |s| s.config.epochs = 100));
            longer_gap += final_acc(&fixed) - final_acc(&longer);
        }
        assert!(
            longer_gap / 4.0 > 0.2,
            "variant {variant}: 100 epochs close too much of the gap ({})",
            longer_gap / 4.0
        );
    }
}

#[test]
fn task_017_weight_decay_pulls_the_weights_to_zero_and_the_loss_back_to_ln_c() {
    let ln4 = libm::log(4.0);
    for variant in 0..3 {
        for seed in 0..4 {
            let broken = spec("task_017", variant, seed);
            let t = trained(&broken);
            assert_eq!(t.outcome, Outcome::Completed, "{variant}/{seed}");
            let best = t
                .epochs
                .iter()
                .map(|e| e.train_loss)
                .fold(f64::INFINITY, f64::min);
            let last = t.final_metrics.train_loss;
            assert!(
                (last - ln4).abs() < 0.02,
                "{variant}/{seed}: ends at a uniform guess, {last}"
            );
            // Weight decay alone: the loss falls first, then the penalty wins
            // and it climbs back. (With dropout too, the dip drowns in noise.)
            if variant < 2 {
                assert!(
                    best < last - 0.03,
                    "{variant}/{seed}: best {best} last {last}"
                );
            }
            assert!(
                t.weight_stats[0].std < 0.25 * kaiming_fc1(&broken),
                "{variant}/{seed}: fc1 std {}",
                t.weight_stats[0].std
            );
            assert!(
                t.gradient_stats.iter().all(|g| !g.is_vanishing),
                "{variant}/{seed}: the data's gradient is still there"
            );
            let fixed = trained(&with(&broken, |s| {
                s.config.weight_decay = 5e-4;
                s.config.dropout_rate = 0.0;
            }));
            assert!(final_acc(&fixed) > 0.8, "{variant}/{seed}");
        }
    }
}

#[test]
fn task_018_a_per_epoch_step_decay_freezes_the_run_and_a_constant_rate_cures_it() {
    for variant in 0..3 {
        for seed in 0..4 {
            let broken = spec("task_018", variant, seed);
            let t = trained(&broken);
            assert_eq!(t.outcome, Outcome::Completed, "{variant}/{seed}");
            let first = t.epochs[0].learning_rate;
            // The rate the trainer really used: a thousandth of the start by epoch 4.
            assert!(t.epochs[4].learning_rate < 1e-3 * first, "{variant}/{seed}");
            let (mid, last) = (t.epochs[10].val_loss, t.epochs[19].val_loss);
            assert!(
                (last - mid).abs() < 1e-3 * mid,
                "{variant}/{seed}: frozen from mid-run ({mid} -> {last})"
            );
            assert!(
                t.gradient_stats
                    .iter()
                    .all(|g| !g.is_exploding && !g.is_vanishing),
                "{variant}/{seed}: the gradients are there"
            );
            let longer = trained(&with(&broken, |s| s.config.epochs = 100));
            assert!(
                (final_acc(&longer) - final_acc(&t)).abs() < 0.03,
                "{variant}/{seed}: more epochs at a zero rate change nothing"
            );
            let fixed = trained(&with(&broken, |s| {
                s.config.lr_schedule = crate::sim::config::LrSchedule::Constant
            }));
            assert!(
                final_acc(&fixed) > 0.85 && final_acc(&fixed) > final_acc(&t) + 0.2,
                "{variant}/{seed}: {} -> {}",
                final_acc(&t),
                final_acc(&fixed)
            );
        }
    }
}

#[test]
fn task_019_a_width_blind_unit_init_makes_a_deep_stack_loud_and_kaiming_quiets_it() {
    let ln4 = libm::log(4.0);
    for variant in 0..3 {
        for seed in 0..3 {
            let broken = spec("task_019", variant, seed);
            let t = trained(&broken);
            assert_eq!(
                t.outcome,
                Outcome::Completed,
                "{variant}/{seed}: Adam never overflows"
            );
            assert!(
                t.epochs[0].train_loss > 10.0 * ln4 && t.final_metrics.val_loss > 5.0,
                "{variant}/{seed}: the loss is huge from the start and stays so"
            );
            assert!(
                t.gradient_stats.iter().all(|g| g.is_exploding),
                "{variant}/{seed}: every layer's gradient is huge"
            );
            let fixed = trained(&with(&broken, |s| {
                s.config.weight_init = crate::sim::config::WeightInit::Kaiming
            }));
            assert!(
                final_acc(&fixed) > 0.55 && fixed.final_metrics.val_loss < 1.2,
                "{variant}/{seed}: kaiming gives {}",
                final_acc(&fixed)
            );
            // Clipping leaves Adam's bounded steps, and the loud weights, as they were.
            let clipped = trained(&with(&broken, |s| s.config.gradient_clip_norm = 1.0));
            assert!(clipped.final_metrics.val_loss > 2.0, "{variant}/{seed}");
        }
    }
}

#[test]
fn task_020_a_high_rate_kills_the_relus_without_a_nan_and_a_sane_rate_keeps_them() {
    let ln4 = libm::log(4.0);
    for variant in 0..3 {
        for seed in 0..4 {
            let broken = spec("task_020", variant, seed);
            let t = trained(&broken);
            assert_eq!(t.outcome, Outcome::Completed, "{variant}/{seed}: no NaN");
            let dead = t
                .weight_stats
                .iter()
                .map(|w| w.dead_neuron_pct)
                .fold(0.0, f64::max);
            assert!(dead >= 75.0, "{variant}/{seed}: {dead}% dead at most");
            assert!(
                (t.final_metrics.train_loss - ln4).abs() < 0.1,
                "{variant}/{seed}: stuck at the prior"
            );
            let fixed = trained(&with(&broken, |s| s.config.learning_rate = 0.01));
            let alive = fixed
                .weight_stats
                .iter()
                .map(|w| w.dead_neuron_pct)
                .fold(0.0, f64::max);
            assert!(final_acc(&fixed) > 0.85 && alive < 50.0, "{variant}/{seed}");
            // Leaky units cannot die, so at this rate the run diverges instead.
            let leaky = trained(&with(&broken, |s| {
                s.config.activation = crate::sim::config::Activation::LeakyRelu
            }));
            assert!(
                matches!(leaky.outcome, Outcome::Failed { .. }),
                "{variant}/{seed}"
            );
        }
    }
}

#[test]
fn task_021_a_full_batch_at_the_small_batch_rate_underfits_and_scaling_the_rate_cures_it() {
    for variant in 0..3 {
        for seed in 0..4 {
            let broken = spec("task_021", variant, seed);
            let t = trained(&broken);
            assert_eq!(t.outcome, Outcome::Completed, "{variant}/{seed}");
            assert!(final_acc(&t) < 0.75, "{variant}/{seed}: {}", final_acc(&t));
            // The linear scaling rule: 32 times the batch, about 32 times the rate.
            let scaled = trained(&with(&broken, |s| s.config.learning_rate = 0.1));
            // Or the batch size the rate was tuned for.
            let reverted = trained(&with(&broken, |s| s.config.batch_size = 8));
            for (name, fixed) in [("scaled", scaled), ("reverted", reverted)] {
                assert!(
                    final_acc(&fixed) > 0.85 && final_acc(&fixed) > final_acc(&t) + 0.2,
                    "{variant}/{seed} {name}: {} -> {}",
                    final_acc(&t),
                    final_acc(&fixed)
                );
            }
        }
    }
}
