//! The heuristic agent: a debugging checklist played over the observation
//! lines, as any external agent would play it. It inspects everything once,
//! reads the evidence through the rule table (`rules.rs`), applies the cure of
//! the strongest finding, re-runs, and reads the re-run's message: if the run
//! recovered it names that finding's label; if not, it tries the next finding
//! once before naming the best-supported label.

use super::agent::{Agent, AgentError};
use super::builtin::{observation, step_line};
use super::evidence::Evidence;
use super::rules::{Finding, findings};
use crate::env::ActionRequest;
use serde_json::Value;

/// What the checklist looks at before it decides, in order.
const INSPECTIONS: [(&str, &str); 5] = [
    ("gradients_inspected", "inspect_gradients"),
    ("data_inspected", "inspect_data_batch"),
    ("model_modes_inspected", "inspect_model_modes"),
    ("model_weights_inspected", "inspect_model_weights"),
    ("code_inspected", "inspect_code"),
];

/// Cures tried at most: one re-run for the strongest finding, one more for
/// the next, so a wrong first guess costs a re-run and not the episode.
const ATTEMPTS: usize = 2;

/// When no rule holds, the most common way a run that trains looks broken.
const FALLBACK: &str = "overfitting";

#[derive(Debug, Default)]
pub struct Heuristic {
    /// Findings still to try, strongest first (`None` until decided).
    findings: Option<Vec<Finding>>,
    /// The label of the finding whose cure is in force.
    trying: Option<&'static str>,
    /// The first finding's label: named when no cure recovered the run.
    strongest: Option<&'static str>,
    attempts: usize,
    /// Actions of the cure being applied, in reverse order.
    pending: Vec<ActionRequest>,
    /// The cures applied so far.
    tried: Vec<Vec<ActionRequest>>,
    /// A cure was applied and not yet re-run.
    changed: bool,
    recovered: bool,
}

impl Heuristic {
    fn diagnose(&self) -> ActionRequest {
        let label = if self.recovered {
            self.trying
        } else {
            self.strongest
        };
        let mut a = ActionRequest::new("mark_diagnosed");
        a.diagnosis = Some(label.unwrap_or(FALLBACK).to_string());
        a
    }

    /// Start the next finding's cure; false when there is none left to try.
    fn next_cure(&mut self) -> bool {
        let Some(findings) = self.findings.as_mut() else {
            return false;
        };
        if self.attempts >= ATTEMPTS || findings.is_empty() {
            return false;
        }
        let finding = findings.remove(0);
        if self.tried.contains(&finding.cures) {
            // The same cure again would only repeat the re-run.
            return self.next_cure();
        }
        self.tried.push(finding.cures.clone());
        self.attempts += 1;
        self.trying = Some(finding.label);
        self.pending = finding.cures.into_iter().rev().collect();
        true
    }

    fn action(&mut self, obs: &Value) -> ActionRequest {
        let state = &obs["episode_state"];
        if self.findings.is_none() {
            if let Some((_, inspect)) = INSPECTIONS.iter().find(|(flag, _)| state[flag] == false) {
                return ActionRequest::new(inspect);
            }
            let found = findings(&Evidence::read(obs));
            self.strongest = found.first().map(|f| f.label);
            self.findings = Some(found);
            self.next_cure();
        }
        if let Some(cure) = self.pending.pop() {
            self.changed = true;
            return cure;
        }
        if self.changed {
            self.changed = false;
            return ActionRequest::new("restart_run");
        }
        let message = obs["message"].as_str().unwrap_or("");
        self.recovered = message.contains("The run recovered.");
        if !self.recovered && self.attempts > 0 && self.next_cure() {
            return self.action(obs);
        }
        self.diagnose()
    }
}

impl Agent for Heuristic {
    fn act(&mut self, reply: &str) -> Result<Option<String>, AgentError> {
        let obs = observation(reply);
        Ok(Some(step_line(&self.action(&obs))))
    }
}
