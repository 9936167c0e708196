//! Data faults that live in the rows themselves: inputs far off scale, NaN in
//! the inputs, wrong labels. Each acts through its mechanism on its task's own
//! setup, and the loader patch that undoes it recovers the run.

use super::{final_acc, spec};
use crate::sim::trainer::{Unobserved, run};
use crate::sim::{DataPatch, Outcome};

/// Inputs around a large offset: the first loss is enormous, the gradients
/// huge, and the model learns little; standardising the inputs recovers it
/// while a lower rate or clipping does not. (PyTorch, same data and net, Adam
/// 3e-3, offset 50: first-epoch loss 19–125, final accuracy 0.12–0.54;
/// standardised 0.82–0.92.)
#[test]
fn task_022_off_scale_inputs_learn_little_until_standardised() {
    let ln4 = libm::log(4.0);
    for variant in 0..3 {
        for seed in 0..4 {
            let broken = spec("task_022", variant, seed);
            let t = run(&broken, &mut Unobserved);
            assert_eq!(t.outcome, Outcome::Completed, "{variant}/{seed}: no NaN");
            assert!(t.data_stats.feature_mean > 30.0, "{:?}", t.data_stats);
            assert!(t.epochs[0].train_loss > 3.0 * ln4, "{:?}", t.epochs[0]);
            let mut fixed = broken.clone();
            fixed.patches = vec![DataPatch::NormalizeFeatures];
            let f = run(&fixed, &mut Unobserved);
            assert!(
                final_acc(&f) > final_acc(&t) + 0.15 && final_acc(&f) > 0.7,
                "{variant}/{seed}: standardised {} vs raw {}",
                final_acc(&f),
                final_acc(&t)
            );
            let mut slower = broken.clone();
            slower.config.learning_rate = 0.001;
            assert!(final_acc(&run(&slower, &mut Unobserved)) < final_acc(&f) - 0.15);
        }
    }
}

/// One NaN input row: the first batch holding it has a NaN loss (relu keeps
/// NaN, as torch.relu does) and the run fails in epoch 1, whatever the rate;
/// dropping the rows recovers it.
#[test]
fn task_023_a_nan_row_fails_the_first_epoch_and_dropping_it_recovers() {
    for variant in 0..3 {
        for seed in 0..4 {
            let broken = spec("task_023", variant, seed);
            let t = run(&broken, &mut Unobserved);
            assert!(t.data_stats.null_count > 0);
            assert!(
                matches!(&t.outcome, Outcome::Failed { epoch: 1, message, .. }
                    if message.starts_with("RuntimeError: loss is NaN at epoch 1")),
                "{variant}/{seed}: {:?}",
                t.outcome
            );
            let mut gentle = broken.clone();
            gentle.config.learning_rate = 1e-4;
            gentle
                .config
                .add_callback(crate::sim::Callback::GradientClipping);
            assert!(matches!(
                run(&gentle, &mut Unobserved).outcome,
                Outcome::Failed { epoch: 1, .. }
            ));
            let mut fixed = broken.clone();
            fixed.patches = vec![DataPatch::DropNanRows];
            let f = run(&fixed, &mut Unobserved);
            assert_eq!(f.outcome, Outcome::Completed);
            assert!(final_acc(&f) > 0.7, "{}", final_acc(&f));
        }
    }
}

/// Flipped labels: training loss stays high, validation accuracy falls short,
/// and the neighbours' vote shows it; dropping the rows the vote rejects
/// recovers most of the accuracy. (PyTorch, 45% flipped, same data and net:
/// noisy 0.72–0.75, cleaned 0.86–0.90.)
#[test]
fn task_024_flipped_labels_hold_accuracy_down_and_the_knn_filter_recovers() {
    for variant in 0..3 {
        for seed in 0..3 {
            let broken = spec("task_024", variant, seed);
            let t = run(&broken, &mut Unobserved);
            assert!(
                t.data_stats.knn_label_disagreement > 0.3,
                "{:?}",
                t.data_stats
            );
            assert!(t.final_metrics.train_loss > 0.5, "{:?}", t.final_metrics);
            let mut fixed = broken.clone();
            fixed.patches = vec![DataPatch::FilterNoisyLabels];
            let f = run(&fixed, &mut Unobserved);
            assert!(
                f.data_stats.knn_label_disagreement < t.data_stats.knn_label_disagreement / 2.0
            );
            assert!(
                final_acc(&f) > final_acc(&t) + 0.04 && final_acc(&f) > 0.7,
                "{variant}/{seed}: filtered {} vs noisy {}",
                final_acc(&f),
                final_acc(&t)
            );
            assert!(f.final_metrics.val_loss < t.final_metrics.val_loss);
        }
    }
}
