//! The data group's phenomena, checked on the built-in tasks' own setups: each
//! fault acts through its mechanism in the rows or the loaders, leaves the
//! evidence its debrief names, and the intended cure recovers.

use super::super::trainer::{RunTrace, Unobserved, run};
use super::super::{DataPatch, RunSpec};
use super::{final_acc, spec};

/// Pure: the run a spec gives.
fn train(s: &RunSpec) -> RunTrace {
    run(s, &mut Unobserved)
}

fn with_patch(s: &RunSpec, patch: DataPatch) -> RunSpec {
    let mut fixed = s.clone();
    fixed.patches.push(patch);
    fixed
}

/// task_009: the training loader standardises, the validation loader serves
/// raw features. Training looks perfect while validation loss explodes;
/// handing the training scaler to validation cures it, normalising the
/// (already standardised) training features again does not.
#[test]
fn unscaled_validation_explodes_val_loss_and_the_training_scaler_cures_it() {
    for variant in 0..4 {
        for seed in 0..3 {
            let broken = spec("task_009", variant, seed);
            let t = train(&broken);
            let s = &t.data_stats;
            assert!(
                s.feature_mean.abs() < 1e-9 && (s.feature_std - 1.0).abs() < 1e-9,
                "the training split is standardised: {s:?}"
            );
            assert!(
                (s.val_feature_mean - s.feature_mean).abs() >= 2.0,
                "the validation split is raw: {s:?}"
            );
            assert!(t.final_metrics.train_loss < 0.2, "{:?}", t.final_metrics);
            let fixed = train(&with_patch(&broken, DataPatch::ScaleValidation));
            let f = &fixed.data_stats;
            assert!(
                (f.val_feature_mean - f.feature_mean).abs() < 0.5,
                "same transform, same scale: {f:?}"
            );
            assert!(
                t.final_metrics.val_loss > 4.0 * fixed.final_metrics.val_loss,
                "variant {variant} seed {seed}: {} vs {}",
                t.final_metrics.val_loss,
                fixed.final_metrics.val_loss
            );
            assert!(final_acc(&fixed) > final_acc(&t) + 0.05);
            // The training rows are already standardised: standardising them
            // again with their own statistics leaves validation raw.
            let renormalised = train(&with_patch(&broken, DataPatch::NormalizeFeatures));
            assert!(
                renormalised.final_metrics.val_loss > 4.0 * fixed.final_metrics.val_loss,
                "{} vs {}",
                renormalised.final_metrics.val_loss,
                fixed.final_metrics.val_loss
            );
        }
    }
}

/// task_007: skewed priors. An unweighted loss predicts the majority class
/// almost everywhere: accuracy near the majority's share, balanced accuracy
/// near chance. Balanced loss weights and a balanced sampler each bring the
/// rare classes back.
#[test]
fn skewed_classes_hide_behind_accuracy_and_balancing_recovers_them() {
    use super::super::ClassWeighting;
    for variant in 0..3 {
        for seed in 0..3 {
            let broken = spec("task_007", variant, seed);
            let t = train(&broken);
            let f = t.final_metrics;
            let majority = *t.data_stats.label_distribution.iter().max().unwrap_or(&0);
            assert!(
                majority * 10 >= t.data_stats.train_samples * 8,
                "{:?}",
                t.data_stats
            );
            assert!(
                f.val_accuracy > 0.75 && f.val_accuracy - f.val_balanced_accuracy > 0.3,
                "variant {variant} seed {seed}: {f:?}"
            );
            let mut weighted = broken.clone();
            weighted.config.class_weighting = ClassWeighting::Balanced;
            let w = train(&weighted).final_metrics;
            let s = train(&with_patch(&broken, DataPatch::BalanceClasses)).final_metrics;
            for (name, cured) in [("weighted loss", w), ("balanced sampler", s)] {
                assert!(
                    cured.val_balanced_accuracy > f.val_balanced_accuracy + 0.08,
                    "variant {variant} seed {seed} {name}: {cured:?} vs {f:?}"
                );
            }
        }
    }
}

/// task_010: the validation loader applies the training noise. Validation
/// features are noisier than the training rows, accuracy falls far below the
/// model's and moves with each evaluation's draw; a deterministic evaluation
/// transform recovers it.
#[test]
fn augmented_validation_scores_corrupted_rows_and_the_eval_transform_recovers() {
    for variant in 0..3 {
        for seed in 0..3 {
            let broken = spec("task_010", variant, seed);
            let t = train(&broken);
            let s = &t.data_stats;
            assert!(s.val_feature_std > 1.5 * s.feature_std, "{s:?}");
            let fixed = train(&with_patch(&broken, DataPatch::NoValidationAugmentation));
            let f = &fixed.data_stats;
            assert!((f.val_feature_std - f.feature_std).abs() < 0.2, "{f:?}");
            assert!(
                final_acc(&fixed) > final_acc(&t) + 0.15,
                "variant {variant} seed {seed}: {} vs {}",
                final_acc(&fixed),
                final_acc(&t)
            );
            // Training is untouched: the same batches, the same weights.
            assert_eq!(
                t.epochs
                    .iter()
                    .map(|e| e.train_loss.to_bits())
                    .collect::<Vec<_>>(),
                fixed
                    .epochs
                    .iter()
                    .map(|e| e.train_loss.to_bits())
                    .collect::<Vec<_>>()
            );
        }
    }
}

/// task_008: class-sorted rows served with shuffle off. Every batch is one
/// class and the model ends each epoch answering the last one; shuffling
/// every epoch recovers it, and batch norm (one-class batch statistics) does
/// not.
#[test]
fn class_sorted_rows_without_shuffle_collapse_to_one_class_and_shuffling_recovers() {
    for variant in 0..3 {
        for seed in 0..3 {
            let broken = spec("task_008", variant, seed);
            let t = train(&broken);
            let batch = &t.data_stats.batch_label_distribution;
            let rows: usize = batch.iter().sum();
            assert!(
                rows > 1 && batch.contains(&rows),
                "one class per batch: {batch:?}"
            );
            let predicted: Vec<usize> = (0..4)
                .map(|c| t.confusion_matrix.iter().map(|r| r[c]).sum())
                .collect();
            let top = predicted.iter().copied().max().unwrap_or(0);
            assert!(
                top * 10 >= 128 * 8,
                "variant {variant} seed {seed}: {predicted:?}"
            );
            let mut shuffled = broken.clone();
            shuffled.config.shuffle = true;
            let s = train(&shuffled);
            assert!(
                final_acc(&s) > final_acc(&t) + 0.4,
                "variant {variant} seed {seed}: {} vs {}",
                final_acc(&s),
                final_acc(&t)
            );
            let served = &s.data_stats.batch_label_distribution;
            assert!(served.iter().filter(|&&n| n > 0).count() > 1, "{served:?}");
            let mut normed = broken.clone();
            normed.config.batch_norm = true;
            assert!(final_acc(&train(&normed)) < final_acc(&s) - 0.3);
        }
    }
}
