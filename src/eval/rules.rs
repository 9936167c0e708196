//! The heuristic agent's decision table: each rule names the evidence a fault
//! leaves in what a player sees, the usual cure for it, and the label it
//! submits. Rules are tried in order and every one that holds is a finding,
//! strongest first; there is no rule per task, only per kind of evidence, so a
//! task and its mystery counterpart are judged alike. Thresholds are loose
//! rules of thumb a practitioner would use, not values read off task files.

use super::evidence::{Evidence, statement};
use crate::env::ActionRequest;
use crate::sim::ConfigValue;

/// One row of the table.
pub struct Rule {
    /// The label submitted when this rule's cure is the one that worked.
    pub label: &'static str,
    /// What the rule looks for, in words.
    pub evidence: &'static str,
    /// What it does about it, in words.
    pub cure: &'static str,
    /// The cure's actions when the evidence holds.
    pub check: fn(&Evidence) -> Option<Vec<ActionRequest>>,
}

/// A rule that held: the label and the actions that cure its fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub label: &'static str,
    pub cures: Vec<ActionRequest>,
}

/// Every rule that holds on the evidence, in table order.
pub fn findings(e: &Evidence) -> Vec<Finding> {
    RULES
        .iter()
        .filter_map(|rule| {
            (rule.check)(e).map(|cures| Finding {
                label: rule.label,
                cures,
            })
        })
        .collect()
}

/// The table as markdown (docs/BASELINES.md shows it; a test keeps it in step).
pub fn markdown_table() -> String {
    let mut out = String::from("| # | evidence | cure | label |\n| --- | --- | --- | --- |\n");
    for (i, rule) in RULES.iter().enumerate() {
        out.push_str(&format!(
            "| {} | {} | {} | `{}` |\n",
            i + 1,
            rule.evidence,
            rule.cure,
            rule.label
        ));
    }
    out
}

pub const RULES: &[Rule] = &[
    // -- program: train.py against the standard loop (docs/TASKS.md) --
    Rule {
        label: "softmax_before_cross_entropy",
        evidence: "train.py applies softmax to the output or inside the loss call",
        cure: "restore the line (`output = model(x)` / `loss = criterion(output, y)`)",
        check: softmax_before_loss,
    },
    Rule {
        label: "wrong_loss_function",
        evidence: "train.py's criterion is not `nn.CrossEntropyLoss()`",
        cure: "`criterion = nn.CrossEntropyLoss()`",
        check: wrong_criterion,
    },
    Rule {
        label: "loss_sign_flipped",
        evidence: "train.py negates the loss",
        cure: "`loss = criterion(output, y)`",
        check: negated_loss,
    },
    Rule {
        label: "unscaled_gradient_accumulation",
        evidence: "train.py steps once every `ACCUM_STEPS` micro-batches (`if (step + 1) % ACCUM_STEPS == 0:`) and its loss line does not divide by `ACCUM_STEPS`",
        cure: "`loss = criterion(output, y) / ACCUM_STEPS`",
        check: unscaled_accumulation,
    },
    Rule {
        label: "code_bug",
        evidence: "a statement of the training loop differs from the standard one (`model.train()` at the top of the epoch, `zero_grad()`, forward, loss, `backward()`, `step()`)",
        cure: "restore the standard statement",
        check: loop_statement_differs,
    },
    Rule {
        label: "missing_eval_mode",
        evidence: "train.py calls `evaluate` with no `model.eval()` after the batch loop",
        cure: "`model.eval()` on the line before `evaluate`",
        check: validation_without_eval,
    },
    Rule {
        label: "batchnorm_eval_mode",
        evidence: "inspect_model_modes: modules were in eval mode during training steps",
        cure: "fix_model_mode",
        check: trains_in_eval_mode,
    },
    // -- data: inspect_data_batch --
    Rule {
        label: "nan_in_data",
        evidence: "training values that are NaN or infinite (`null_count` > 0)",
        cure: "patch_data_loader drop_nan_rows",
        check: nan_rows,
    },
    Rule {
        label: "data_leakage",
        evidence: "more than 5% of validation rows also occur in training (`duplicate_ratio`)",
        cure: "patch_data_loader remove_overlap",
        check: leaked_rows,
    },
    Rule {
        label: "preprocessing_mismatch",
        evidence: "validation feature mean more than 1 away from the training one",
        cure: "patch_data_loader scale_validation",
        check: validation_shifted,
    },
    Rule {
        label: "augmentation_on_validation",
        evidence: "validation feature std more than 1.3x the training one, means alike",
        cure: "patch_data_loader no_validation_augmentation",
        check: validation_noisier,
    },
    Rule {
        label: "lr_too_high",
        evidence: "the run failed on a non-finite loss (with no NaN in the data)",
        cure: "learning rate / 100",
        check: diverged,
    },
    Rule {
        label: "unnormalized_inputs",
        evidence: "training features far from standardised (|mean| > 5 or std > 5)",
        cure: "patch_data_loader normalize_features",
        check: off_scale_features,
    },
    Rule {
        label: "class_imbalance",
        evidence: "the largest class has at least 4x the rows of the smallest",
        cure: "class_weighting balanced",
        check: imbalanced_classes,
    },
    Rule {
        label: "unshuffled_data",
        evidence: "a served training batch holds a single class",
        cure: "shuffle true",
        check: one_class_batches,
    },
    // -- optimisation: curves, gradients, weights --
    Rule {
        label: "scheduler_misconfigured",
        evidence: "the learning rate fell below 1% of its first value during the run (`learning_rate_history`)",
        cure: "lr_schedule constant",
        check: schedule_collapsed,
    },
    Rule {
        label: "over_regularization",
        evidence: "every layer's weight std under 0.1, the training loss stuck at ln(classes), and gradients that reach the first layer",
        cure: "weight_decay 5e-4 (and dropout_rate 0 when it is above 0.3)",
        check: weights_collapsed,
    },
    Rule {
        label: "dead_relus",
        evidence: "a hidden layer with at least 60% dead units, and validation accuracy that ends at chance or 0.2 below its best",
        cure: "learning rate to the usual rate (Adam 1e-3; SGD 0.1 x (1 - momentum))",
        check: units_died,
    },
    Rule {
        label: "vanishing_gradients",
        evidence: "gradients vanish toward the input: the first layer is flagged vanishing or its norm is under 1/1000 of the last layer's",
        cure: "weight_init kaiming",
        check: gradients_vanish_toward_input,
    },
    Rule {
        label: "exploding_gradients",
        evidence: "every layer flagged exploding and hidden weights with std 0.8 or more",
        cure: "weight_init kaiming",
        check: init_too_large,
    },
    Rule {
        label: "batch_size_lr_mismatch",
        evidence: "the training or validation loss still falling at the end (its last quarter of epochs 0.5% below the quarter before) in a run whose batch holds half the training set or more",
        cure: "learning rate to the usual rate scaled by batch size / 32",
        check: big_batch_crawls,
    },
    Rule {
        label: "lr_too_low",
        evidence: "the loss still falling at the end with the learning rate under 1/10 of the usual rate",
        cure: "learning rate to the usual rate scaled by batch size / 32",
        check: small_rate_crawls,
    },
    Rule {
        label: "overfitting",
        evidence: "validation loss ends 10% or more above its minimum while the training loss ends under half of it",
        cure: "add_callback early_stopping",
        check: validation_turns_up,
    },
    Rule {
        label: "label_noise",
        evidence: "labels outvoted by their 10 nearest rows for 30% or more of rows, and a training loss that stays above 0.5",
        cure: "patch_data_loader filter_noisy_labels",
        check: noisy_labels,
    },
];

fn set(target: &str, value: ConfigValue) -> ActionRequest {
    let mut a = ActionRequest::new("modify_config");
    a.target = Some(target.into());
    a.value = Some(value);
    a
}

fn with_target(action: &str, target: &str) -> ActionRequest {
    let mut a = ActionRequest::new(action);
    a.target = Some(target.into());
    a
}

/// Replace line `index` (0-based) of train.py.
fn fix_line(index: usize, replacement: &str) -> ActionRequest {
    let mut a = ActionRequest::new("fix_code");
    a.line = Some(index as u64 + 1);
    a.replacement = Some(replacement.into());
    a
}

/// The statements of train.py with their 0-based line numbers.
fn statements(e: &Evidence) -> impl Iterator<Item = (usize, String)> + '_ {
    e.code.iter().map(|l| statement(l)).enumerate()
}

const OUTPUT: &str = "output = model(x)";
const LOSS: &str = "loss = criterion(output, y)";
const CRITERION: &str = "criterion = nn.CrossEntropyLoss()";
/// The loss line of the accumulating loop: each micro-batch's share.
const SCALED_LOSS: &str = "loss = criterion(output, y) / ACCUM_STEPS";

/// Whether train.py steps once every `ACCUM_STEPS` micro-batches.
fn accumulates(e: &Evidence) -> bool {
    statements(e).any(|(_, s)| s.starts_with("if (step + 1) % ACCUM_STEPS"))
}

/// The standard loss line of this loop.
fn standard_loss(e: &Evidence) -> &'static str {
    if accumulates(e) { SCALED_LOSS } else { LOSS }
}

fn softmax_before_loss(e: &Evidence) -> Option<Vec<ActionRequest>> {
    statements(e).find_map(|(i, s)| {
        if !s.contains("softmax(") {
            None
        } else if s.starts_with("output =") {
            Some(vec![fix_line(i, OUTPUT)])
        } else if s.starts_with("loss =") {
            Some(vec![fix_line(i, LOSS)])
        } else {
            None
        }
    })
}

fn wrong_criterion(e: &Evidence) -> Option<Vec<ActionRequest>> {
    statements(e)
        .find(|(_, s)| s.starts_with("criterion =") && s != CRITERION)
        .map(|(i, _)| vec![fix_line(i, CRITERION)])
}

fn negated_loss(e: &Evidence) -> Option<Vec<ActionRequest>> {
    statements(e)
        .find(|(_, s)| s.starts_with("loss = -"))
        .map(|(i, _)| vec![fix_line(i, LOSS)])
}

fn unscaled_accumulation(e: &Evidence) -> Option<Vec<ActionRequest>> {
    if !accumulates(e) {
        return None;
    }
    statements(e)
        .find(|(_, s)| s.starts_with("loss =") && !s.contains("ACCUM_STEPS"))
        .map(|(i, _)| vec![fix_line(i, SCALED_LOSS)])
}

fn loop_statement_differs(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let lines: Vec<(usize, String)> = statements(e).collect();
    // The statement opening the epoch body sets the mode: a comment there is
    // the mode rule's business (the modes show it), a wrong call is a bug.
    let epoch = lines.iter().position(|(_, s)| s.starts_with("for epoch"));
    if let Some((i, s)) = epoch.and_then(|p| lines.get(p + 1))
        && s.starts_with("model.")
        && s != "model.train()"
    {
        return Some(vec![fix_line(*i, "model.train()")]);
    }
    let standard: [(&str, &str); 5] = [
        ("optimizer.zero_grad", "optimizer.zero_grad()"),
        ("output =", OUTPUT),
        ("loss =", standard_loss(e)),
        ("loss.backward", "loss.backward()"),
        ("optimizer.step", "optimizer.step()"),
    ];
    standard.iter().find_map(|(prefix, want)| {
        lines
            .iter()
            .find(|(_, s)| s.starts_with(prefix))
            .filter(|(_, s)| s != want)
            .map(|(i, _)| vec![fix_line(*i, want)])
    })
}

fn validation_without_eval(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let lines: Vec<(usize, String)> = statements(e).collect();
    let at = lines
        .iter()
        .position(|(_, s)| s.contains("evaluate(model"))?;
    let after_step = lines
        .get(..at)?
        .iter()
        .rposition(|(_, s)| s.starts_with("optimizer.step"))?;
    let between = lines.get(after_step + 1..at)?;
    if between.iter().any(|(_, s)| s == "model.eval()") {
        return None;
    }
    // Only a blank or comment line can make way for the call.
    let (free, _) = between.iter().rev().find(|(_, s)| s.is_empty())?;
    Some(vec![fix_line(*free, "model.eval()")])
}

fn trains_in_eval_mode(e: &Evidence) -> Option<Vec<ActionRequest>> {
    (e.modules_in_eval > 0).then(|| vec![ActionRequest::new("fix_model_mode")])
}

fn nan_rows(e: &Evidence) -> Option<Vec<ActionRequest>> {
    (e.data.null_count > 0).then(|| vec![with_target("patch_data_loader", "drop_nan_rows")])
}

fn leaked_rows(e: &Evidence) -> Option<Vec<ActionRequest>> {
    (e.data.duplicate_ratio > 0.05)
        .then(|| vec![with_target("patch_data_loader", "remove_overlap")])
}

fn validation_shifted(e: &Evidence) -> Option<Vec<ActionRequest>> {
    ((e.data.val_feature_mean - e.data.feature_mean).abs() > 1.0)
        .then(|| vec![with_target("patch_data_loader", "scale_validation")])
}

fn validation_noisier(e: &Evidence) -> Option<Vec<ActionRequest>> {
    (e.data.feature_std > 0.0 && e.data.val_feature_std > 1.3 * e.data.feature_std).then(|| {
        vec![with_target(
            "patch_data_loader",
            "no_validation_augmentation",
        )]
    })
}

fn diverged(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let non_finite = e.train_loss.iter().any(Option::is_none);
    ((e.run_failed || non_finite) && e.data.null_count == 0).then(|| {
        vec![set(
            "learning_rate",
            ConfigValue::Number(e.config.learning_rate / 100.0),
        )]
    })
}

fn off_scale_features(e: &Evidence) -> Option<Vec<ActionRequest>> {
    (e.data.feature_mean.abs() > 5.0 || e.data.feature_std > 5.0)
        .then(|| vec![with_target("patch_data_loader", "normalize_features")])
}

fn imbalanced_classes(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let counts = &e.data.label_distribution;
    let most = counts.iter().max().copied().unwrap_or(0);
    let least = counts.iter().min().copied().unwrap_or(0);
    (most > 0 && most >= 4 * least)
        .then(|| vec![set("class_weighting", ConfigValue::Text("balanced".into()))])
}

fn one_class_batches(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let batch = &e.data.batch_label_distribution;
    let present = batch.iter().filter(|&&n| n > 0).count();
    let rows: u64 = batch.iter().sum();
    let classes = e.data.label_distribution.iter().filter(|&&n| n > 0).count();
    (present == 1 && rows >= 4 && classes > 1)
        .then(|| vec![set("shuffle", ConfigValue::Bool(true))])
}

fn schedule_collapsed(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let first = Evidence::first(&e.learning_rates)?;
    let last = Evidence::last(&e.learning_rates)?;
    (first > 0.0 && last < 0.01 * first)
        .then(|| vec![set("lr_schedule", ConfigValue::Text("constant".into()))])
}

fn gradients_vanish_toward_input(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let first = e.gradients.first()?;
    let last = e.gradients.last()?;
    let shrinking =
        matches!((first.mean_norm, last.mean_norm), (Some(f), Some(l)) if l > 0.0 && f / l < 1e-3);
    ((first.vanishing && !last.vanishing) || shrinking)
        .then(|| vec![set("weight_init", ConfigValue::Text("kaiming".into()))])
}

/// The final training loss within 10% of ln(classes): a uniform guess.
fn loss_at_chance(e: &Evidence) -> bool {
    let chance = (e.classes() as f64).ln();
    Evidence::last(&e.train_loss).is_some_and(|l| (l - chance).abs() <= 0.1 * chance)
}

fn weights_collapsed(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let collapsed =
        !e.weights.is_empty() && e.weights.iter().all(|w| w.std.is_some_and(|s| s < 0.1));
    let reach_input = gradients_vanish_toward_input(e).is_none();
    (collapsed && loss_at_chance(e) && reach_input).then(|| {
        let mut cures = vec![set("weight_decay", ConfigValue::Number(5e-4))];
        if e.config.dropout_rate > 0.3 {
            cures.push(set("dropout_rate", ConfigValue::Number(0.0)));
        }
        cures
    })
}

/// The rate an optimiser usually trains well at on standardised data with a
/// batch of 32: Adam's 1e-3, or an SGD step of 0.1 after momentum's
/// 1 / (1 - momentum) amplification.
fn usual_rate(e: &Evidence) -> f64 {
    if e.config.optimizer == "adam" {
        1e-3
    } else {
        0.1 * (1.0 - e.config.momentum.clamp(0.0, 0.99))
    }
}

/// The usual rate, scaled linearly with the batch (Goyal et al., 2017).
fn rate_for_batch(e: &Evidence) -> f64 {
    usual_rate(e) * (e.config.batch_size / 32.0).max(1.0)
}

fn units_died(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let dead = e.hidden_weights().iter().any(|w| w.dead_pct >= 60.0);
    let chance = 1.0 / e.classes() as f64;
    let best = Evidence::max(&e.val_accuracy)?;
    let end = Evidence::last(&e.val_accuracy)?;
    let collapsed = best - end >= 0.2 || end <= chance + 0.05;
    (dead && collapsed).then(|| vec![set("learning_rate", ConfigValue::Number(usual_rate(e)))])
}

fn init_too_large(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let all_exploding = !e.gradients.is_empty() && e.gradients.iter().all(|g| g.exploding);
    let large = e
        .hidden_weights()
        .iter()
        .any(|w| w.std.is_some_and(|s| s >= 0.8));
    (all_exploding && large).then(|| vec![set("weight_init", ConfigValue::Text("kaiming".into()))])
}

/// A loss history's last quarter of epochs averages more than 0.5% below the
/// quarter before: still learning when the run ended (quarters, not single
/// epochs, so batch noise does not decide).
fn falling(history: &[Option<f64>]) -> bool {
    let n = history.len();
    let q = n / 4;
    let mean = |from: usize| -> Option<f64> {
        let window = history.get(from..from + q)?;
        let sum: Option<f64> = window.iter().copied().sum();
        sum.map(|s| s / q as f64)
    };
    match (q > 0).then(|| (mean(n - 2 * q), mean(n - q))) {
        Some((Some(before), Some(end))) => end < 0.995 * before,
        _ => false,
    }
}

/// The run was still learning when it ended: the training or the (less
/// noisy) validation loss still falling.
fn still_falling(e: &Evidence) -> bool {
    falling(&e.train_loss) || falling(&e.val_loss)
}

fn big_batch_crawls(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let big = e.data.train_samples > 0.0 && e.config.batch_size >= 0.5 * e.data.train_samples;
    (big && still_falling(e) && e.config.learning_rate < rate_for_batch(e) / 4.0)
        .then(|| vec![set("learning_rate", ConfigValue::Number(rate_for_batch(e)))])
}

fn small_rate_crawls(e: &Evidence) -> Option<Vec<ActionRequest>> {
    (still_falling(e) && e.config.learning_rate < usual_rate(e) / 10.0)
        .then(|| vec![set("learning_rate", ConfigValue::Number(rate_for_batch(e)))])
}

fn validation_turns_up(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let best = Evidence::min(&e.val_loss)?;
    let end = Evidence::last(&e.val_loss)?;
    let train = Evidence::last(&e.train_loss)?;
    (end >= 1.1 * best && train < 0.5 * best)
        .then(|| vec![with_target("add_callback", "early_stopping")])
}

fn noisy_labels(e: &Evidence) -> Option<Vec<ActionRequest>> {
    let train = Evidence::last(&e.train_loss)?;
    (e.data.knn_label_disagreement >= 0.3 && train > 0.5)
        .then(|| vec![with_target("patch_data_loader", "filter_noisy_labels")])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(lines: &[&str]) -> Evidence {
        Evidence {
            code: lines.iter().map(|l| l.to_string()).collect(),
            ..Evidence::default()
        }
    }

    const STANDARD: [&str; 10] = [
        "for epoch in range(EPOCHS):",
        "    model.train()",
        "    for x, y in train_loader:",
        "        optimizer.zero_grad()",
        "        output = model(x)",
        "        loss = criterion(output, y)",
        "        loss.backward()",
        "        optimizer.step()",
        "    model.eval()",
        "    val_loss, val_acc = evaluate(model, val_loader)",
    ];

    #[test]
    fn the_standard_loop_raises_no_finding() {
        assert_eq!(findings(&code(&STANDARD)), vec![]);
    }

    #[test]
    fn a_changed_statement_is_found_and_restored_on_its_line() {
        let mut lines = STANDARD;
        lines[3] = "        optimizer.zero_grad";
        let found = findings(&code(&lines));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].label, "code_bug");
        assert_eq!(found[0].cures[0].line, Some(4));
        assert_eq!(
            found[0].cures[0].replacement.as_deref(),
            Some("optimizer.zero_grad()")
        );
    }

    #[test]
    fn the_specific_program_fault_comes_before_the_generic_one() {
        let mut lines = STANDARD;
        lines[5] = "        loss = -criterion(output, y)";
        let labels: Vec<&str> = findings(&code(&lines)).iter().map(|f| f.label).collect();
        assert_eq!(labels, ["loss_sign_flipped", "code_bug"]);
    }

    const ACCUMULATING: [&str; 12] = [
        "for epoch in range(EPOCHS):",
        "    model.train()",
        "    optimizer.zero_grad()",
        "    for step, (x, y) in enumerate(train_loader):",
        "        output = model(x)",
        "        loss = criterion(output, y) / ACCUM_STEPS",
        "        loss.backward()",
        "        if (step + 1) % ACCUM_STEPS == 0:",
        "            optimizer.step()",
        "            optimizer.zero_grad()",
        "    model.eval()",
        "    val_loss, val_acc = evaluate(model, val_loader)",
    ];

    #[test]
    fn an_accumulating_loop_divides_its_loss_and_is_found_when_it_does_not() {
        assert_eq!(findings(&code(&ACCUMULATING)), vec![]);
        let mut lines = ACCUMULATING;
        lines[5] = "        loss = criterion(output, y)";
        let found = findings(&code(&lines));
        assert_eq!(found[0].label, "unscaled_gradient_accumulation");
        assert_eq!(found[0].cures[0].line, Some(6));
        assert_eq!(found[0].cures[0].replacement.as_deref(), Some(SCALED_LOSS));
        // The standard loop's undivided loss is no finding.
        assert!(unscaled_accumulation(&code(&STANDARD)).is_none());
    }

    #[test]
    fn validation_without_eval_gets_the_call_on_a_free_line() {
        let mut lines = STANDARD;
        lines[8] = "    # evaluate() runs under no_grad";
        let found = findings(&code(&lines));
        assert_eq!(found[0].label, "missing_eval_mode");
        assert_eq!(found[0].cures[0].line, Some(9));
    }

    #[test]
    fn every_rule_is_in_the_markdown_table() {
        let table = markdown_table();
        for rule in RULES {
            assert!(table.contains(&format!("`{}`", rule.label)), "{table}");
        }
    }

    #[test]
    fn labels_are_in_the_vocabulary() {
        for rule in RULES {
            assert!(
                crate::vocab::LABELS.iter().any(|t| t.name == rule.label),
                "{}",
                rule.label
            );
        }
    }
}
