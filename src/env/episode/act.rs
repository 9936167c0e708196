//! What each action does to an episode: an inspection reveals, a change
//! waits for the next run, a restart trains and is judged, a diagnosis ends
//! the episode and is scored on the spot.

use super::{
    Episode, FAILED_RESTART, FIRST_INSPECTION, RECOVERED_RESTART, RIGHT_DIAGNOSIS, WRONG_DIAGNOSIS,
    describe_run, snippet,
};
use crate::env::action::{Action, Inspection, optimizer_name, plain};
use crate::env::grade;
use crate::env::verdict::Verdict;
use crate::events::{Clock, EventSink};
use crate::sim::{self, Outcome};
use serde_json::Value;

impl Episode {
    pub(super) fn apply(
        &mut self,
        action: &Action,
        sink: &mut dyn EventSink,
        clock: &dyn Clock,
        reward: &mut i32,
        verdict: &mut Option<Verdict>,
    ) -> Result<(), String> {
        match action {
            Action::Inspect(kind) => {
                let flags = &mut self.flags;
                let seen = match kind {
                    Inspection::Gradients => &mut flags.gradients_inspected,
                    Inspection::DataBatch => &mut flags.data_inspected,
                    Inspection::ModelModes => &mut flags.model_modes_inspected,
                    Inspection::ModelWeights => &mut flags.model_weights_inspected,
                    Inspection::Code => &mut flags.code_inspected,
                };
                let first = !*seen;
                *seen = true;
                // Only evidence that bears on the cause earns; an irrelevant
                // look costs just its step.
                if first
                    && self
                        .task
                        .file
                        .rubric
                        .evidence
                        .contains_key(kind.action_type())
                {
                    *reward += FIRST_INSPECTION;
                }
                self.message = self.inspection_message(*kind);
                if *kind == Inspection::Gradients {
                    self.flags.gradients_were_normal = Some(self.run.gradients_normal);
                }
            }
            Action::ModifyConfig { target, value } => {
                self.config.set(target, value).map_err(|e| e.to_string())?;
                self.message = format!(
                    "Set {target} = {}; it takes effect when training is re-run.",
                    plain(value)
                );
            }
            Action::AddCallback(callback) => {
                let new = self.config.add_callback(*callback);
                self.message = if new {
                    format!(
                        "Attached the {} callback; it takes effect when training is re-run.",
                        callback.name()
                    )
                } else {
                    format!("The {} callback was already attached.", callback.name())
                };
            }
            Action::ReplaceOptimizer(kind) => {
                self.config.optimizer = *kind;
                self.message = format!(
                    "Optimizer is now {} (lr {}); it takes effect when training is re-run.",
                    optimizer_name(*kind),
                    self.config.learning_rate
                );
            }
            Action::PatchDataLoader(patch) => {
                if !self.patches.contains(patch) {
                    self.patches.push(*patch);
                    self.patches.sort();
                }
                self.message = format!(
                    "Patched the data loader: {}; it takes effect when training is re-run.",
                    patch.name()
                );
            }
            Action::FixModelMode => {
                let line = self.program.ensure_train_mode();
                let eval_lines = self.program.ensure_eval_before_validation();
                self.code = snippet(&self.program);
                let eval_lines: Vec<String> = eval_lines.iter().map(usize::to_string).collect();
                self.message = if eval_lines.is_empty() {
                    format!(
                        "train.py line {line} now calls model.train() at the start of every epoch."
                    )
                } else {
                    format!(
                        "train.py line {line} now calls model.train() at the start of every epoch, and line {} model.eval() before validation.",
                        eval_lines.join(", ")
                    )
                };
            }
            Action::FixCode { line, replacement } => {
                self.program
                    .replace_line(*line, replacement)
                    .map_err(|e| e.to_string())?;
                self.code = snippet(&self.program);
                let now = self
                    .program
                    .lines
                    .get(line - 1)
                    .map(|l| l.render())
                    .unwrap_or_default();
                self.message = format!("train.py line {line} is now: {}", now.trim());
            }
            Action::RestartRun => {
                sim::budget::check(
                    &self.scenario.data,
                    &self.config,
                    &self.program,
                    &self.patches,
                )
                .map_err(|e| e.to_string())?;
                let after_fix = self.flags.fix_action_taken;
                let trace = self.train(sink, clock);
                // A run the player stopped proved nothing: the change is still
                // waiting for a run, so restart_run stays available.
                self.pending_fix = matches!(
                    &trace.outcome,
                    Outcome::Stopped { reason, .. } if reason == sim::trainer::INTERRUPTED
                );
                let judged = self.verdict();
                if after_fix {
                    self.flags.restart_after_fix = true;
                    if judged.recovered && !self.recovered_restart {
                        *reward += RECOVERED_RESTART;
                    } else if !judged.recovered {
                        *reward += FAILED_RESTART;
                        self.failed_restarts += 1;
                    }
                    self.recovered_restart |= judged.recovered;
                }
                self.message = format!(
                    "Re-ran training. {} {}",
                    describe_run(&self.run, &trace),
                    if judged.recovered {
                        "The run recovered."
                    } else {
                        "The run has not recovered."
                    }
                );
                *verdict = Some(judged);
            }
            Action::MarkDiagnosed(label) => {
                self.flags.diagnosis = Some(label.clone());
                let evidence = self.evidence();
                let share = evidence.label_share(label);
                let backed = grade::supported(&self.task.file.rubric, &evidence);
                let guess = self
                    .task
                    .file
                    .rubric
                    .guess_share
                    .unwrap_or(grade::DEFAULT_GUESS_SHARE);
                let credit = share * if backed { 1.0 } else { guess };
                *reward += if share > 0.0 {
                    (f64::from(RIGHT_DIAGNOSIS) * credit).round() as i32
                } else {
                    WRONG_DIAGNOSIS
                };
                let root = &self.task.file.root_cause;
                let second = self.task.file.secondary.as_ref().map(|s| &s.cause);
                self.message = match (share, backed) {
                    (s, _) if s > 0.0 && second == Some(label) => format!(
                        "Diagnosis '{label}' is the second fault here; the root cause was '{root}'."
                    ),
                    (s, true) if s >= 1.0 => format!("Diagnosis '{label}' is right."),
                    (s, false) if s >= 1.0 => format!(
                        "Diagnosis '{label}' is right, but nothing you found backs it: a guess earns part of the credit."
                    ),
                    (s, _) if s > 0.0 => format!(
                        "Diagnosis '{label}' names part of the mechanism; the root cause was '{root}'."
                    ),
                    _ => format!("Diagnosis '{label}' is wrong: the root cause was '{root}'."),
                };
            }
        }
        if action.is_fix() {
            self.flags.fix_action_taken = true;
            self.pending_fix = true;
            self.config_json = serde_json::to_value(&self.config).unwrap_or(Value::Null);
        }
        Ok(())
    }
}
