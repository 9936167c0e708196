//! Judging: whether a run really recovered (the task's recovery criteria,
//! measured on the run), and the episode score from the task's rubric.

use super::action::Action;
use crate::sim::{FinalMetrics, RunTrace};
use crate::task::{ActionRule, Recovery, Rubric};
use serde::Serialize;

/// Why a run does or does not count as recovered.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Verdict {
    pub recovered: bool,
    /// One line per criterion, e.g. "val_accuracy 0.71 >= 0.66".
    pub checks: Vec<String>,
}

/// Does `trace` meet the criteria? `reference` is the final metrics of the
/// healthy reference run, needed only by the `*_vs_reference` criteria.
pub fn needs_reference(recovery: &Recovery) -> bool {
    recovery.min_accuracy_vs_reference.is_some() || recovery.max_val_loss_vs_reference.is_some()
}

pub fn judge(recovery: &Recovery, trace: &RunTrace, reference: Option<&FinalMetrics>) -> Verdict {
    let mut ok = true;
    let mut checks = Vec::new();
    let mut check = |pass: bool, text: String| {
        ok &= pass;
        checks.push(format!("{} {text}", if pass { "ok:" } else { "not met:" }));
    };
    match &trace.outcome {
        crate::sim::Outcome::Failed { epoch, .. } => {
            check(false, format!("the run diverged at epoch {epoch}"))
        }
        crate::sim::Outcome::Stopped { epoch, reason }
            if reason == crate::sim::trainer::INTERRUPTED =>
        {
            check(
                false,
                format!(
                    "the run was interrupted after epoch {epoch}, before it could show a recovery"
                ),
            )
        }
        _ => {}
    }
    let last = trace.final_metrics;
    if let Some(min) = recovery.min_val_accuracy {
        check(
            last.val_accuracy >= min,
            format!("final val_accuracy {} >= {min}", short(last.val_accuracy)),
        );
    }
    if let Some(max) = recovery.max_val_loss {
        check(
            last.val_loss <= max,
            format!("final val_loss {} <= {max}", short(last.val_loss)),
        );
    }
    if let (Some(share), Some(r)) = (recovery.min_accuracy_vs_reference, reference) {
        let want = share * r.val_accuracy;
        check(
            last.val_accuracy >= want,
            format!(
                "final val_accuracy {} >= {share} x the healthy run's {}",
                short(last.val_accuracy),
                short(r.val_accuracy)
            ),
        );
    }
    if let (Some(factor), Some(r)) = (recovery.max_val_loss_vs_reference, reference) {
        let want = factor * r.val_loss;
        check(
            last.val_loss <= want,
            format!(
                "final val_loss {} <= {factor} x the healthy run's {}",
                short(last.val_loss),
                short(r.val_loss)
            ),
        );
    }
    if let Some(max) = recovery.max_val_loss_rise {
        let best = trace
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
        let ratio = trace.data_stats.duplicate_ratio;
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

fn short(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "NaN".into()
    }
}

/// Whether an action matches a task rule (a fix or a red herring).
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
}

/// What the grader needs to know about an episode.
pub struct Evidence<'a> {
    pub valid_actions: &'a [Action],
    pub accepted_fixes: &'a [ActionRule],
    pub recovered_restart: bool,
    pub diagnosis: Option<&'a str>,
    pub root_cause: &'a str,
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
    let fixed = e
        .valid_actions
        .iter()
        .any(|a| e.accepted_fixes.iter().any(|rule| matches(rule, a)));
    breakdown.push(GradeItem {
        item: "fix: an accepted fix was applied".into(),
        weight: rubric.fix,
        earned: fixed,
    });
    breakdown.push(GradeItem {
        item: "recovered: a restart after the fix really recovered".into(),
        weight: rubric.recovered,
        earned: e.recovered_restart,
    });
    let right = e.diagnosis == Some(e.root_cause);
    breakdown.push(GradeItem {
        item: format!("diagnosis: {}", e.root_cause),
        weight: rubric.diagnosis,
        earned: right,
    });
    if rubric.wrong_diagnosis_penalty > 0.0 {
        breakdown.push(GradeItem {
            item: "penalty: wrong diagnosis".into(),
            weight: -rubric.wrong_diagnosis_penalty,
            earned: e.diagnosis.is_some() && !right,
        });
    }
    for rule in &rubric.red_herrings {
        let chased = e.valid_actions.iter().any(|a| matches(rule, a));
        let name = match &rule.target {
            Some(t) => format!("{}:{t}", rule.action),
            None => rule.action.clone(),
        };
        breakdown.push(GradeItem {
            item: format!("penalty: red herring {name}"),
            weight: -rule.penalty.unwrap_or(0.0),
            earned: chased,
        });
    }
    let total: f64 = breakdown
        .iter()
        .filter(|i| i.earned)
        .map(|i| i.weight)
        .sum();
    Grade {
        // `+ 0.0` turns the -0.0 of an empty float sum into 0.0.
        score: (total.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0 + 0.0,
        breakdown,
    }
}
