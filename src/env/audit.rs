//! Auditing a task by playing it: on a number of seeds per variant, its
//! healthy reference run must be healthy, its broken run must not already
//! count as recovered, its walkthrough must recover, and none of its red
//! herrings may recover the run on its own (a change that cures the run is
//! never a symptom-only change); a two-fault task's run must need both cures. `tasks check` runs this after the static
//! checks; the tests run it with more seeds.

use super::action::{Action, ActionRequest};
use super::episode::Episode;
use super::verdict::reference_is_healthy;
use crate::events::{FixedClock, NoSink};
use crate::task::{ActionRule, Task};
use std::sync::Arc;

/// One way a task failed its audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub variant: String,
    pub seed: u64,
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "variant '{}', seed {}: {}",
            self.variant, self.seed, self.problem
        )
    }
}

/// The seeds an audit plays for a variant: the first `per_variant` seeds that
/// select it (seeds are searched up to a bound, so a variant no seed selects
/// is reported rather than searched for forever).
fn seeds_for(task: &Task, variant: usize, per_variant: usize) -> Vec<u64> {
    (0..(per_variant as u64 * 64).max(64))
        .filter(|&seed| task.variant_for_seed(seed) == variant)
        .take(per_variant)
        .collect()
}

/// The request a red herring rule stands for, when it is concrete enough to
/// play (a config change needs a value: its bound).
fn herring_request(rule: &ActionRule) -> Option<ActionRequest> {
    let mut request = serde_json::json!({ "action_type": rule.action });
    if let Some(target) = &rule.target {
        request["target"] = target.clone().into();
    }
    if rule.action == "modify_config" {
        let value = rule
            .at_least
            .or(rule.at_most)
            .map(serde_json::Value::from)
            .or_else(|| rule.equals.clone().map(Into::into))?;
        request["value"] = value;
    }
    serde_json::from_value(request).ok()
}

/// Play `task` on `per_variant` seeds of every variant.
pub fn audit(task: &Arc<Task>, per_variant: usize) -> Vec<Finding> {
    let mut findings = Vec::new();
    let variants = task.file.variants.len().max(1);
    for variant in 0..variants {
        let name = task
            .file
            .variants
            .get(variant)
            .map_or("base".to_string(), |v| v.name.clone());
        let seeds = seeds_for(task, variant, per_variant);
        if seeds.is_empty() {
            findings.push(Finding {
                variant: name.clone(),
                seed: 0,
                problem: "no seed selects this variant".into(),
            });
        }
        for seed in seeds {
            let mut problem = |problem: String| {
                findings.push(Finding {
                    variant: name.clone(),
                    seed,
                    problem,
                })
            };
            let Ok(mut episode) = Episode::reset(task.clone(), seed, &mut NoSink, &FixedClock)
            else {
                problem("the variant does not resolve".into());
                continue;
            };
            let classes = episode.scenario().data.classes;
            if let Err(why) = reference_is_healthy(&episode.reference_run(), classes) {
                problem(format!("the healthy reference run is not healthy: {why}"));
            }
            let broken = episode.verdict();
            if broken.recovered {
                problem("the broken run already counts as recovered".into());
            }
            for rule in &task.file.rubric.red_herrings {
                let Some(request) = herring_request(rule) else {
                    continue;
                };
                let Ok(mut chased) = Episode::reset(task.clone(), seed, &mut NoSink, &FixedClock)
                else {
                    continue;
                };
                chased.step(&request, &mut NoSink, &FixedClock);
                let restart: ActionRequest =
                    match serde_json::from_value(serde_json::json!({"action_type": "restart_run"}))
                    {
                        Ok(r) => r,
                        Err(_) => continue,
                    };
                let (_, info) = chased.step(&restart, &mut NoSink, &FixedClock);
                if info.verdict.is_some_and(|v| v.recovered) {
                    let target = rule
                        .target
                        .as_deref()
                        .map_or(String::new(), |t| format!(":{t}"));
                    problem(format!(
                        "the red herring {}{target} recovers the run on its own",
                        rule.action
                    ));
                }
            }
            if task.file.secondary.is_some() {
                for why in each_cure_is_needed(task, seed, episode.walkthrough()) {
                    problem(why);
                }
            }
            let walkthrough = episode.walkthrough().to_vec();
            let mut recovered = false;
            for step in &walkthrough {
                let (_, info) = episode.step(step, &mut NoSink, &FixedClock);
                recovered |= info.verdict.is_some_and(|v| v.recovered);
            }
            if !recovered {
                problem("the walkthrough does not recover the run".into());
            }
        }
    }
    findings
}

/// A two-fault task must need both cures: its walkthrough holds at least two
/// changes, and leaving any one of them out leaves a run that does not
/// recover. Returns what is wrong.
fn each_cure_is_needed(task: &Arc<Task>, seed: u64, walkthrough: &[ActionRequest]) -> Vec<String> {
    let changes: Vec<usize> = walkthrough
        .iter()
        .enumerate()
        .filter(|(_, step)| Action::interpret(step).is_ok_and(|a| a.is_fix()))
        .map(|(i, _)| i)
        .collect();
    if changes.len() < 2 {
        return vec![format!(
            "a two-fault task's walkthrough must make a change for each fault; it makes {}",
            changes.len()
        )];
    }
    let mut problems = Vec::new();
    for &left_out in &changes {
        let Ok(mut episode) = Episode::reset(task.clone(), seed, &mut NoSink, &FixedClock) else {
            continue;
        };
        let mut recovered = false;
        for (i, step) in walkthrough.iter().enumerate() {
            if i == left_out || episode.is_done() {
                continue;
            }
            let (_, info) = episode.step(step, &mut NoSink, &FixedClock);
            recovered |= info.verdict.is_some_and(|v| v.recovered);
        }
        if recovered {
            problems.push(format!(
                "the walkthrough without its change '{}' still recovers: that fault alone is not needed",
                walkthrough
                    .get(left_out)
                    .and_then(|s| Action::interpret(s).ok())
                    .map_or_else(String::new, |a| a.label())
            ));
        }
    }
    problems
}
