//! A task's variant made concrete for one seed: the config with its overrides
//! and the seed's incidental values, the edited `train.py`, the data faults,
//! and the dressing the seed draws (notes, GPU memory). Everything a seed
//! varies is drawn here from named ChaCha streams, so it is reproducible.

use super::schema::{Edit, TaskFile, WalkStep};
use super::{FieldPath, Problem, problem};
use crate::sim::data::DataFaults;
use crate::sim::rng::SimRng;
use crate::sim::{ConfigValue, DataSpec, Program, TrainConfig};
use std::collections::BTreeMap;

/// The concrete setup of one episode: a task's variant resolved for a seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub variant: usize,
    pub variant_name: String,
    pub data: DataSpec,
    pub config: TrainConfig,
    pub program: Program,
    pub notes: String,
    pub gpu_memory_used_gb: f64,
    /// The dressing's static log text with the seed's figures filled in.
    pub error_log: Option<String>,
    /// Labels with credit besides the root cause: label → share.
    pub labels: BTreeMap<String, f64>,
    pub walkthrough: Vec<WalkStep>,
}

fn apply_config(
    config: &mut TrainConfig,
    overrides: &BTreeMap<String, ConfigValue>,
    at: &FieldPath,
    problems: &mut Vec<Problem>,
) {
    for (target, value) in overrides {
        if let Err(err) = config.set(target, value) {
            problems.push(problem(at.with(target.as_str()), err.to_string()));
        }
    }
}

fn apply_edits(program: &mut Program, edits: &[Edit], at: &FieldPath, problems: &mut Vec<Problem>) {
    for (i, edit) in edits.iter().enumerate() {
        if let Err(err) = program.replace_line(edit.line, &edit.replace) {
            problems.push(problem(at.with(i), err.to_string()));
        }
    }
}

/// The pools in force for a variant: the task's, less what the task's or the
/// variant's config sets outright, plus the variant's own. Each pool comes with where it was written.
fn jitter_pools(file: &TaskFile, index: usize) -> Vec<(FieldPath, &String, &Vec<ConfigValue>)> {
    let variant = file.variants.get(index);
    let mut pools: BTreeMap<&String, (FieldPath, &Vec<ConfigValue>)> = BTreeMap::new();
    for (target, values) in &file.jitter {
        // A value the task or the variant sets outright is not incidental.
        let overridden = file.config.contains_key(target)
            || variant.is_some_and(|v| v.config.contains_key(target));
        if !overridden {
            let at = FieldPath(vec!["jitter".into(), target.as_str().into()]);
            pools.insert(target, (at, values));
        }
    }
    if let Some(v) = variant {
        for (target, values) in &v.jitter {
            let at = FieldPath(vec![
                "variants".into(),
                index.into(),
                "jitter".into(),
                target.as_str().into(),
            ]);
            pools.insert(target, (at, values));
        }
    }
    pools
        .into_iter()
        .map(|(target, (at, values))| (at, target, values))
        .collect()
}

/// A variant's override, where it gives one.
fn overwrite<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// Resolve variant `index` (0 when the task has none). With a seed, the
/// seed's draws are applied; without one, every pooled value is checked and
/// the first is used (the template `tasks check` and the tests look at).
pub fn resolve(file: &TaskFile, index: usize, seed: Option<u64>) -> Result<Scenario, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut config = TrainConfig::default();
    apply_config(
        &mut config,
        &file.config,
        &FieldPath(vec!["config".into()]),
        &mut problems,
    );
    let mut program = Program::of(file.script);
    apply_edits(
        &mut program,
        &file.edits,
        &FieldPath(vec!["edits".into()]),
        &mut problems,
    );
    let mut data = file.data.clone();
    let mut notes = &file.dressing.notes;
    let mut labels = file.labels.clone();
    let mut walkthrough = file.walkthrough.clone();
    let mut variant_name = "base".to_string();
    if let Some(variant) = file.variants.get(index) {
        let at = FieldPath(vec!["variants".into(), index.into()]);
        variant_name = variant.name.clone();
        apply_config(
            &mut config,
            &variant.config,
            &at.with("config"),
            &mut problems,
        );
        apply_edits(
            &mut program,
            &variant.edits,
            &at.with("edits"),
            &mut problems,
        );
        let shape = &variant.data;
        overwrite(&mut data.class_separation, shape.class_separation);
        overwrite(&mut data.feature_scale, shape.feature_scale);
        overwrite(&mut data.feature_offset, shape.feature_offset);
        overwrite(&mut data.class_priors, shape.class_priors.clone());
        let patch = &variant.faults;
        let faults: &mut DataFaults = &mut data.faults;
        overwrite(&mut faults.leakage, patch.leakage);
        overwrite(&mut faults.label_noise, patch.label_noise);
        overwrite(&mut faults.nan_rows, patch.nan_rows);
        overwrite(&mut faults.glitch_epoch, patch.glitch_epoch);
        overwrite(&mut faults.glitch_scale, patch.glitch_scale);
        overwrite(&mut faults.sorted_by_class, patch.sorted_by_class);
        overwrite(&mut faults.unscaled_validation, patch.unscaled_validation);
        overwrite(&mut faults.augmented_validation, patch.augmented_validation);
        if let Some(n) = &variant.notes {
            notes = n;
        }
        labels.extend(variant.labels.iter().map(|(k, v)| (k.clone(), *v)));
        if let Some(w) = &variant.walkthrough {
            walkthrough = w.clone();
        }
    }
    for (at, target, values) in jitter_pools(file, index) {
        if values.is_empty() {
            problems.push(problem(at, "a pool needs at least one value"));
            continue;
        }
        match seed {
            Some(seed) => {
                let pick = SimRng::new(seed, &format!("jitter:{target}")).below(values.len());
                if let Some(value) = values.get(pick)
                    && let Err(err) = config.set(target, value)
                {
                    problems.push(problem(at.with(pick), err.to_string()));
                }
            }
            None => {
                for (i, value) in values.iter().enumerate() {
                    let mut probe = config.clone();
                    if let Err(err) = probe.set(target, value) {
                        problems.push(problem(at.with(i), err.to_string()));
                    }
                }
                if let Some(first) = values.first() {
                    // An error here was reported above with its index.
                    config.set(target, first).ok();
                }
            }
        }
    }
    let choices = notes.choices();
    let pick = seed.map_or(0, |seed| SimRng::new(seed, "notes").below(choices.len()));
    let notes = choices.get(pick).cloned().unwrap_or_default();
    let dressing = &file.dressing;
    let (lo, hi) = dressing.gpu_memory_used_gb.bounds();
    let gpu_memory_used_gb = match seed {
        // Tenths of a GB, as nvidia-smi rounds.
        Some(seed) if hi > lo => (SimRng::new(seed, "gpu").uniform(lo, hi) * 10.0).round() / 10.0,
        _ => lo,
    };
    let error_log = dressing.error_log.as_ref().map(|text| {
        text.replace("{gpu_memory_used_gb}", &format!("{gpu_memory_used_gb:.1}"))
            .replace(
                "{gpu_memory_total_gb}",
                &format!("{:.1}", dressing.gpu_memory_total_gb),
            )
            .replace(
                "{gpu_memory_pct}",
                &format!(
                    "{:.0}",
                    100.0 * gpu_memory_used_gb
                        / dressing.gpu_memory_total_gb.max(f64::MIN_POSITIVE)
                ),
            )
    });
    problems.extend(super::validate::check_data(
        &data,
        &FieldPath(vec!["data".into()]),
    ));
    if problems.is_empty() {
        Ok(Scenario {
            variant: index,
            variant_name,
            data,
            config,
            program,
            notes,
            gpu_memory_used_gb,
            error_log,
            labels,
            walkthrough,
        })
    } else {
        Err(problems)
    }
}
