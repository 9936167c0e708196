//! Judging an episode: the verdict on the current run against the healthy
//! reference run of the same seed, the grade from the rubric, and the debrief
//! with the signs that hold on the run the player was handed.

use super::Episode;
use crate::env::action::Action;
use crate::env::claims::{self, Played};
use crate::env::grade::{self, Evidence, Grade};
use crate::env::verdict::{self, Runs, Verdict};
use crate::sim::{self, RunTrace};
use crate::task::{Debrief, Sign};
use std::sync::Arc;

impl Episode {
    pub(super) fn evidence(&self) -> Evidence<'_> {
        let rubric = &self.task.file.rubric;
        Evidence {
            valid_actions: &self.valid_actions,
            recovered_restart: self.recovered_restart,
            failed_restarts: self.failed_restarts,
            diagnosis: self.flags.diagnosis.as_deref(),
            root_cause: &self.task.file.root_cause,
            secondary_cause: self.task.file.secondary.as_ref().map(|s| s.cause.as_str()),
            labels: &self.scenario.labels,
            steps: self.step_count,
            par: rubric.par.unwrap_or(self.scenario.walkthrough.len()),
        }
    }

    /// The score as the player may see it now: before the end, only what has
    /// been earned and how much is still available; at the end, everything.
    pub fn grade(&self) -> Grade {
        let full = self.final_grade();
        if self.done {
            full
        } else {
            grade::in_progress(&full)
        }
    }

    /// The whole breakdown, hidden items included: for the end of an episode
    /// and for tests.
    pub fn final_grade(&self) -> Grade {
        grade::grade(&self.task.file.rubric, &self.evidence())
    }

    /// The debrief for the run the player was handed: the task's text, with
    /// each measurable sign shown only where it holds on this run and with
    /// this run's numbers.
    pub fn debrief(&self) -> Debrief {
        let file = &self.task.file.debrief;
        // Trained only when a sign compares with it.
        let reference = file
            .signs
            .iter()
            .any(|sign| matches!(sign, Sign::Claim { claim, .. } if claims::needs_reference(claim)))
            .then(|| self.reference_run());
        let played = Played {
            trace: &self.broken,
            classes: self.scenario.data.classes,
            features: self.scenario.data.features,
            reference: reference.as_deref(),
        };
        let signs = file
            .signs
            .iter()
            .filter_map(|sign| match sign {
                Sign::Plain(text) => Some(Sign::Plain(text.clone())),
                Sign::Claim { claim, text } => claims::evaluate(claim, &played)
                    .map(|values| Sign::Plain(claims::render(text, &values))),
            })
            .collect();
        Debrief {
            signs,
            secondary: self.task.file.secondary.clone(),
            ..file.clone()
        }
    }

    /// Whether the current run recovered: healthy, no worse than the broken
    /// run, and free of the task's symptom.
    pub fn verdict(&mut self) -> Verdict {
        let reference = self.reference_metrics();
        verdict::judge(
            &self.task.file.recovery,
            &Runs {
                run: &self.trace,
                broken: &self.broken.final_metrics,
                reference: &reference,
                classes: self.scenario.data.classes,
            },
        )
    }

    /// The healthy run of this seed: the variant with the walkthrough's fixes
    /// applied. Trained once per task and seed, and shared by every episode
    /// that plays them.
    pub(super) fn reference_metrics(&mut self) -> sim::FinalMetrics {
        let task = self.task.clone();
        task.references
            .get_or_insert(self.seed, || self.reference_run().final_metrics)
    }

    /// Train the reference run (see `reference_metrics`).
    pub fn reference_run(&self) -> Arc<RunTrace> {
        let mut healthy = self.clone();
        healthy.config = healthy.scenario.config.clone();
        healthy.program = healthy.scenario.program.clone();
        healthy.patches.clear();
        for step in &self.scenario.walkthrough {
            if let Ok(action) = Action::interpret(step)
                && action.is_fix()
            {
                let (mut reward, mut verdict) = (0, None);
                let _ = healthy.apply(
                    &action,
                    &mut crate::events::NoSink,
                    &crate::events::FixedClock,
                    &mut reward,
                    &mut verdict,
                );
            }
        }
        // A player who applied exactly the intended fix has just trained the
        // reference: the same spec gives the same bits, so reuse it.
        if healthy.spec() == self.trace_spec {
            return self.trace.clone();
        }
        healthy.train(&mut crate::events::NoSink, &crate::events::FixedClock)
    }
}
