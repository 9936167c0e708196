//! The episode score from the task's rubric, judged on effects: evidence that
//! bears on the cause, a change set that really made the re-run healthy, the
//! mechanism named — and what it cost to get there (steps over par, restarts
//! that did not recover, symptom-only changes, guesses). Before the episode is
//! done the grade shows only what has been earned, never what is still hidden.

use super::action::Action;
use crate::task::{ActionRule, Rubric};
use serde::Serialize;
use std::collections::BTreeMap;

pub const DEFAULT_OVER_PAR_PENALTY: f64 = 0.03;
pub const DEFAULT_MAX_OVER_PAR_PENALTY: f64 = 0.3;
pub const DEFAULT_FAILED_RESTART_PENALTY: f64 = 0.05;
/// Failed restarts cost at most this many times their penalty.
pub const MAX_FAILED_RESTARTS_COUNTED: usize = 3;
pub const DEFAULT_GUESS_SHARE: f64 = 0.3;

/// Whether an action matches a task rule (a red herring).
pub fn matches(rule: &ActionRule, action: &Action) -> bool {
    if rule.action != action.action_type() {
        return false;
    }
    let (target, word, number, line) = action.rule_view();
    if let Some(want) = &rule.target {
        let want = crate::sim::TrainConfig::canonical_target(want).map_or(want.as_str(), |c| c);
        if target.as_deref() != Some(want) {
            return false;
        }
    }
    if let Some(want) = &rule.equals
        && word.as_deref() != Some(want.to_lowercase().as_str())
    {
        return false;
    }
    if let Some(max) = rule.at_most
        && !number.is_some_and(|n| n <= max)
    {
        return false;
    }
    if let Some(min) = rule.at_least
        && !number.is_some_and(|n| n >= min)
    {
        return false;
    }
    if let Some(want) = rule.line
        && line != Some(want)
    {
        return false;
    }
    true
}

/// One line of the score breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct GradeItem {
    pub item: String,
    /// Positive for earned credit, negative for a penalty.
    pub weight: f64,
    pub earned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grade {
    /// 0–1, from the rubric.
    pub score: f64,
    pub breakdown: Vec<GradeItem>,
    /// Before the end: the credit not yet earned (what it is for stays hidden).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub still_available: Option<f64>,
}

/// What the grader needs to know about an episode.
pub struct Evidence<'a> {
    pub valid_actions: &'a [Action],
    pub recovered_restart: bool,
    /// Restarts after a change whose run did not recover.
    pub failed_restarts: usize,
    pub diagnosis: Option<&'a str>,
    pub root_cause: &'a str,
    /// A two-fault task's second fault: a right answer, but not the root cause.
    pub secondary_cause: Option<&'a str>,
    /// Other labels with credit: label → share.
    pub labels: &'a BTreeMap<String, f64>,
    pub steps: usize,
    /// Steps an efficient player needs.
    pub par: usize,
}

impl Evidence<'_> {
    /// The share of the diagnosis weight the submitted label names.
    pub fn label_share(&self, label: &str) -> f64 {
        if label == self.root_cause {
            1.0
        } else {
            self.labels.get(label).copied().unwrap_or(0.0)
        }
    }
}

/// Whether the player found anything that bears on the cause: an inspection
/// the rubric credits, or a run they made healthy.
pub fn supported(rubric: &Rubric, e: &Evidence<'_>) -> bool {
    e.recovered_restart
        || e.valid_actions
            .iter()
            .any(|a| rubric.evidence.contains_key(a.action_type()))
}

pub fn grade(rubric: &Rubric, e: &Evidence<'_>) -> Grade {
    let mut breakdown = Vec::new();
    for (inspection, weight) in &rubric.evidence {
        let used = e
            .valid_actions
            .iter()
            .any(|a| a.action_type() == inspection);
        breakdown.push(GradeItem {
            item: format!("evidence: {inspection}"),
            weight: *weight,
            earned: used,
        });
    }
    breakdown.push(GradeItem {
        item: "fix: the changes in force when the run recovered".into(),
        weight: rubric.fix,
        earned: e.recovered_restart,
    });
    breakdown.push(GradeItem {
        item: "recovered: a re-run that is healthy".into(),
        weight: rubric.recovered,
        earned: e.recovered_restart,
    });
    let share = e.diagnosis.map_or(0.0, |d| e.label_share(d));
    let backed = supported(rubric, e);
    let guess = rubric.guess_share.unwrap_or(DEFAULT_GUESS_SHARE);
    let diagnosis_weight = rubric.diagnosis * share * if backed { 1.0 } else { guess };
    breakdown.push(GradeItem {
        item: match (e.diagnosis, share) {
            (Some(d), s) if s >= 1.0 && backed => format!("diagnosis: {d} names the root cause"),
            (Some(d), s) if s >= 1.0 => {
                format!("diagnosis: {d} names the root cause, but nothing you found backs it")
            }
            (Some(d), s) if s > 0.0 && e.secondary_cause == Some(d) => format!(
                "diagnosis: {d} is the second fault; the root cause, the one to name, is {}",
                e.root_cause
            ),
            (Some(d), s) if s > 0.0 => format!(
                "diagnosis: {d} names part of the mechanism (the root cause: {})",
                e.root_cause
            ),
            _ => format!("diagnosis: {}", e.root_cause),
        },
        weight: if share > 0.0 {
            diagnosis_weight
        } else {
            rubric.diagnosis
        },
        earned: share > 0.0,
    });
    if rubric.wrong_diagnosis_penalty > 0.0 {
        breakdown.push(GradeItem {
            item: "penalty: wrong diagnosis".into(),
            weight: -rubric.wrong_diagnosis_penalty,
            earned: e.diagnosis.is_some() && share == 0.0,
        });
    }
    for rule in &rubric.red_herrings {
        let chased = e.valid_actions.iter().any(|a| matches(rule, a));
        let name = match &rule.target {
            Some(t) => format!("{}:{t}", rule.action),
            None => rule.action.clone(),
        };
        breakdown.push(GradeItem {
            item: format!("penalty: symptom-only change {name}"),
            weight: -rule.penalty.unwrap_or(0.0),
            earned: chased,
        });
    }
    let over = e.steps.saturating_sub(e.par);
    let per = rubric.over_par_penalty.unwrap_or(DEFAULT_OVER_PAR_PENALTY);
    let cap = rubric
        .max_over_par_penalty
        .unwrap_or(DEFAULT_MAX_OVER_PAR_PENALTY);
    breakdown.push(GradeItem {
        item: format!("penalty: {over} steps over par ({})", e.par),
        weight: -(per * over as f64).min(cap),
        earned: over > 0,
    });
    let failed = e.failed_restarts.min(MAX_FAILED_RESTARTS_COUNTED);
    let per_restart = rubric
        .failed_restart_penalty
        .unwrap_or(DEFAULT_FAILED_RESTART_PENALTY);
    breakdown.push(GradeItem {
        item: format!(
            "penalty: {} re-run{} that did not recover",
            e.failed_restarts,
            if e.failed_restarts == 1 { "" } else { "s" }
        ),
        weight: -per_restart * failed as f64,
        earned: failed > 0,
    });
    let total: f64 = breakdown
        .iter()
        .filter(|i| i.earned)
        .map(|i| i.weight)
        .sum();
    Grade {
        score: round4(total.clamp(0.0, 1.0)),
        breakdown,
        still_available: None,
    }
}

/// What may be shown before the end: earned credit, and how much is left.
/// Penalties wait for the end too: naming one (a symptom-only change, the par)
/// would tell the player something about the answer.
pub fn in_progress(full: &Grade) -> Grade {
    let breakdown: Vec<GradeItem> = full
        .breakdown
        .iter()
        .filter(|i| i.earned && i.weight > 0.0 && !i.item.starts_with("diagnosis"))
        .cloned()
        .collect();
    let earned: f64 = breakdown.iter().map(|i| i.weight).sum();
    Grade {
        score: round4(earned.clamp(0.0, 1.0)),
        breakdown,
        still_available: Some(round4((1.0 - earned).max(0.0))),
    }
}

/// `+ 0.0` turns the -0.0 of an empty float sum into 0.0.
fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0 + 0.0
}
