//! The meaning checks a task file gets after serde has read it: every name
//! against the vocabulary table, every number against its range, every
//! variant resolved and its walkthrough checked, and a budget on what its
//! runs may cost. Each problem carries the path of the field it is about.

use super::{
    ActionRule, FieldPath, Problem, Recovery, Scenario, Secondary, Sign, TaskFile, WalkStep,
    catalogue, problem, resolve,
};
use crate::sim::{DataPatch, DataSpec, TrainConfig};
use crate::vocab;
use std::collections::BTreeMap;

fn check_range(
    problems: &mut Vec<Problem>,
    at: &FieldPath,
    name: &str,
    value: f64,
    lo: f64,
    hi: f64,
) {
    if !(value.is_finite() && (lo..=hi).contains(&value)) {
        problems.push(problem(
            at.with(name),
            format!("must be in [{lo}, {hi}], got {value}"),
        ));
    }
}

/// Ranges that bound the cost of a run (see docs/TASKS.md).
pub(crate) fn check_data(data: &DataSpec, at: &FieldPath) -> Vec<Problem> {
    let mut p = Vec::new();
    check_range(
        &mut p,
        at,
        "train_samples",
        data.train_samples as f64,
        8.0,
        2000.0,
    );
    check_range(
        &mut p,
        at,
        "val_samples",
        data.val_samples as f64,
        4.0,
        1000.0,
    );
    check_range(&mut p, at, "features", data.features as f64, 1.0, 64.0);
    check_range(
        &mut p,
        at,
        "informative",
        data.informative as f64,
        0.0,
        data.features as f64,
    );
    check_range(&mut p, at, "classes", data.classes as f64, 2.0, 10.0);
    check_range(
        &mut p,
        at,
        "class_separation",
        data.class_separation,
        0.0,
        20.0,
    );
    check_range(
        &mut p,
        at,
        "feature_scale",
        data.feature_scale,
        1e-3,
        1000.0,
    );
    check_range(
        &mut p,
        at,
        "feature_offset",
        data.feature_offset,
        -1000.0,
        1000.0,
    );
    if !data.class_priors.is_empty() {
        let priors = at.with("class_priors");
        if data.class_priors.len() != data.classes {
            p.push(problem(
                priors.clone(),
                format!(
                    "needs one share per class ({}), got {}",
                    data.classes,
                    data.class_priors.len()
                ),
            ));
        }
        for (i, share) in data.class_priors.iter().enumerate() {
            if !(share.is_finite() && (0.001..=1.0).contains(share)) {
                p.push(problem(
                    priors.with(i),
                    format!("a class's share must be in [0.001, 1], got {share}"),
                ));
            }
        }
        let total: f64 = data.class_priors.iter().sum();
        if (total - 1.0).abs() > 1e-6 {
            p.push(problem(
                priors,
                format!("the shares must sum to 1, got {total}"),
            ));
        }
    }
    let f = at.with("faults");
    let faults = &data.faults;
    check_range(&mut p, &f, "leakage", faults.leakage, 0.0, 1.0);
    check_range(&mut p, &f, "label_noise", faults.label_noise, 0.0, 1.0);
    check_range(
        &mut p,
        &f,
        "nan_rows",
        faults.nan_rows as f64,
        0.0,
        data.train_samples as f64,
    );
    check_range(
        &mut p,
        &f,
        "glitch_epoch",
        faults.glitch_epoch as f64,
        0.0,
        100.0,
    );
    check_range(
        &mut p,
        &f,
        "glitch_scale",
        faults.glitch_scale,
        1e-3,
        1000.0,
    );
    p
}

fn check_rule(rule: &ActionRule, at: &FieldPath, problems: &mut Vec<Problem>) {
    if !vocab::is_action_type(&rule.action) {
        problems.push(problem(
            at.with("action"),
            format!(
                "unknown action '{}' (known: {})",
                rule.action,
                vocab::ACTION_TYPES.join(", ")
            ),
        ));
    }
    if rule.action == "modify_config"
        && let Some(target) = &rule.target
        && TrainConfig::canonical_target(target).is_none()
    {
        problems.push(problem(
            at.with("target"),
            format!("unknown config target '{target}'"),
        ));
    }
}

/// The second fault names a label other than the root cause, one that earns
/// partial credit (the diagnosis names the root cause), and explains itself.
fn check_secondary(
    secondary: &Secondary,
    file: &TaskFile,
    at: &FieldPath,
    problems: &mut Vec<Problem>,
) {
    let cause = &secondary.cause;
    if !vocab::is_diagnosis(cause) {
        problems.push(problem(
            at.with("cause"),
            format!("unknown diagnosis '{cause}'"),
        ));
    } else if *cause == file.root_cause {
        problems.push(problem(
            at.with("cause"),
            "the second fault must differ from root_cause",
        ));
    } else if !file.labels.get(cause).is_some_and(|share| *share < 1.0) {
        problems.push(problem(
            at.with("cause"),
            format!(
                "list '{cause}' in labels with a share below 1: naming the second fault earns part of the credit, the root cause all of it"
            ),
        ));
    }
    for (field, text) in [("bug", &secondary.bug), ("fix", &secondary.fix)] {
        if text.trim().is_empty() {
            problems.push(problem(at.with(field), "must not be empty"));
        }
    }
}

fn check_labels(
    labels: &BTreeMap<String, f64>,
    root_cause: &str,
    at: &FieldPath,
    problems: &mut Vec<Problem>,
) {
    for (label, share) in labels {
        if !vocab::is_diagnosis(label) {
            problems.push(problem(
                at.with(label.as_str()),
                format!("unknown diagnosis '{label}'"),
            ));
        } else if label == root_cause {
            problems.push(problem(
                at.with(label.as_str()),
                "the root cause always earns full credit; list only other labels",
            ));
        }
        if !(share.is_finite() && *share > 0.0 && *share <= 1.0) {
            problems.push(problem(
                at.with(label.as_str()),
                format!("a label's share must be in (0, 1], got {share}"),
            ));
        }
    }
}

fn check_walk_step(step: &WalkStep, at: &FieldPath, problems: &mut Vec<Problem>) {
    if !vocab::is_action_type(&step.action_type) {
        problems.push(problem(
            at.with("action_type"),
            format!("unknown action '{}'", step.action_type),
        ));
    }
    if let Some(d) = &step.diagnosis
        && !vocab::is_diagnosis(d)
    {
        problems.push(problem(
            at.with("diagnosis"),
            format!("unknown diagnosis '{d}'"),
        ));
    }
}

/// A task's runs must fit the work budget every player run is held to: the
/// broken run, and the reference run with the walkthrough's loader patches.
fn over_budget(scenario: &Scenario, file: &TaskFile, index: usize) -> Option<Problem> {
    let patches: Vec<DataPatch> = scenario
        .walkthrough
        .iter()
        .filter(|step| step.action_type == "patch_data_loader")
        .filter_map(|step| DataPatch::parse(step.target.as_deref().unwrap_or_default()))
        .collect();
    let err = crate::sim::budget::check(
        &scenario.data,
        &scenario.config,
        &scenario.program,
        &patches,
    )
    .err()?;
    let at = if file.variants.is_empty() {
        FieldPath(vec!["data".into()])
    } else {
        FieldPath(vec!["variants".into(), index.into()])
    };
    Some(problem(at, err.to_string()))
}

/// Everything `serde` cannot check: vocabulary, ranges, sums, and that every
/// variant resolves.
pub fn validate(file: &TaskFile) -> Vec<Problem> {
    let mut p = Vec::new();
    let root = FieldPath::default();
    if file.id.trim().is_empty()
        || file
            .id
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        p.push(problem(
            root.with("id"),
            "must be non-empty and use only letters, digits, '_' and '-'",
        ));
    }
    if file.id == catalogue::MYSTERY_ID {
        p.push(problem(
            root.with("id"),
            "'mystery' is reserved: it asks for a random task from the catalogue",
        ));
    }
    check_range(
        &mut p,
        &root,
        "max_steps",
        file.max_steps as f64,
        1.0,
        500.0,
    );
    if !vocab::is_diagnosis(&file.root_cause) {
        p.push(problem(
            root.with("root_cause"),
            format!(
                "unknown diagnosis '{}' (known: {})",
                file.root_cause,
                vocab::DIAGNOSES.join(", ")
            ),
        ));
    }
    let dressing = root.with("dressing");
    check_range(
        &mut p,
        &dressing,
        "gpu_memory_total_gb",
        file.dressing.gpu_memory_total_gb,
        0.0,
        1024.0,
    );
    let (lo, hi) = file.dressing.gpu_memory_used_gb.bounds();
    let total = file.dressing.gpu_memory_total_gb;
    check_range(
        &mut p,
        &dressing,
        "gpu_memory_used_gb",
        lo,
        0.0,
        hi.min(total),
    );
    check_range(&mut p, &dressing, "gpu_memory_used_gb", hi, lo, total);
    check_labels(&file.labels, &file.root_cause, &root.with("labels"), &mut p);
    if let Some(secondary) = &file.secondary {
        check_secondary(secondary, file, &root.with("secondary"), &mut p);
    }
    let recovery = root.with("recovery");
    let r = &file.recovery;
    for (name, value) in [
        ("min_val_accuracy", r.min_val_accuracy),
        ("max_duplicate_ratio", r.max_duplicate_ratio),
        ("min_negative_score_share", r.min_negative_score_share),
        ("min_balanced_accuracy", r.min_balanced_accuracy),
        (
            "min_balanced_gain_vs_reference",
            r.min_balanced_gain_vs_reference,
        ),
    ] {
        if let Some(v) = value {
            check_range(&mut p, &recovery, name, v, 0.0, 1.0);
        }
    }
    for (name, value) in [
        ("max_val_loss", r.max_val_loss),
        ("max_val_loss_rise", r.max_val_loss_rise),
        ("min_accuracy_vs_reference", r.min_accuracy_vs_reference),
        ("max_val_loss_vs_reference", r.max_val_loss_vs_reference),
    ] {
        if let Some(v) = value {
            check_range(&mut p, &recovery, name, v, 0.0, 1e6);
        }
    }
    if r == &Recovery::default() {
        p.push(problem(recovery, "needs at least one criterion"));
    }
    let rubric = root.with("rubric");
    let rb = &file.rubric;
    for name in rb.evidence.keys() {
        if !vocab::INSPECTIONS.contains(&name.as_str()) {
            p.push(problem(
                rubric.with("evidence").with(name.as_str()),
                format!(
                    "'{name}' is not an inspection (known: {})",
                    vocab::INSPECTIONS.join(", ")
                ),
            ));
        }
    }
    let weights = [
        rb.fix,
        rb.recovered,
        rb.diagnosis,
        rb.wrong_diagnosis_penalty,
    ];
    let total: f64 = rb.evidence.values().sum::<f64>() + rb.fix + rb.recovered + rb.diagnosis;
    if weights
        .iter()
        .chain(rb.evidence.values())
        .any(|w| !w.is_finite() || !(0.0..=1.0).contains(w))
    {
        p.push(problem(
            rubric.clone(),
            "weights and penalties must be numbers in [0, 1]",
        ));
    } else if (total - 1.0).abs() > 1e-6 {
        p.push(problem(
            rubric.clone(),
            format!("evidence + fix + recovered + diagnosis must sum to 1, got {total}"),
        ));
    }
    for (i, rule) in rb.red_herrings.iter().enumerate() {
        let at = rubric.with("red_herrings").with(i);
        check_rule(rule, &at, &mut p);
        match rule.penalty {
            None => p.push(problem(at.with("penalty"), "a red herring needs a penalty")),
            Some(v) => check_range(&mut p, &at, "penalty", v, 0.0, 1.0),
        }
    }
    for (name, value) in [
        ("over_par_penalty", rb.over_par_penalty),
        ("max_over_par_penalty", rb.max_over_par_penalty),
        ("failed_restart_penalty", rb.failed_restart_penalty),
        ("guess_share", rb.guess_share),
    ] {
        if let Some(v) = value {
            check_range(&mut p, &rubric, name, v, 0.0, 1.0);
        }
    }
    check_range(
        &mut p,
        &rubric,
        "wrong_diagnosis_penalty",
        rb.wrong_diagnosis_penalty,
        0.0,
        1.0,
    );
    if let Some(par) = rb.par {
        check_range(
            &mut p,
            &rubric,
            "par",
            par as f64,
            1.0,
            file.max_steps as f64,
        );
    }
    for (i, sign) in file.debrief.signs.iter().enumerate() {
        if let Sign::Claim { claim, text } = sign {
            let at = root.with("debrief").with("signs").with(i);
            if let Err(why) = crate::env::claims::check_template(claim, text) {
                p.push(problem(at, why));
            }
        }
    }
    for (i, step) in file.walkthrough.iter().enumerate() {
        check_walk_step(step, &root.with("walkthrough").with(i), &mut p);
    }
    let variants = file.variants.len().max(1);
    for index in 0..variants {
        match resolve(file, index, None) {
            Err(problems) => p.extend(problems),
            Ok(scenario) => p.extend(over_budget(&scenario, file, index)),
        }
        if let Some(v) = file.variants.get(index) {
            let at = root.with("variants").with(index);
            check_labels(&v.labels, &file.root_cause, &at.with("labels"), &mut p);
            for (i, step) in v.walkthrough.iter().flatten().enumerate() {
                check_walk_step(step, &at.with("walkthrough").with(i), &mut p);
            }
        }
    }
    p.dedup();
    let resolved_walk =
        (0..variants).all(|i| resolve(file, i, None).is_ok_and(|s| !s.walkthrough.is_empty()));
    if !resolved_walk && p.is_empty() {
        p.push(problem(
            root.with("walkthrough"),
            "every variant needs a walkthrough",
        ));
    }
    p
}
