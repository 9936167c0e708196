//! What the player sees of an episode: the observation, gated by what has
//! been inspected, and the message each inspection answers with.

use super::Episode;
use crate::env::action::Inspection;
use crate::env::observation::{EpisodeStateView, ModeMap, Observation};

impl Episode {
    pub fn observation(&self) -> Observation<'_> {
        let f = &self.flags;
        let dressing = &self.task.file.dressing;
        Observation {
            task_id: self.task.id(),
            run_id: &self.run.run_id,
            framework: &dressing.framework,
            epoch: self.run.training_loss_history.len(),
            epochs_completed: self.run.epochs_completed,
            run_status: self.run.status,
            training_loss_history: &self.run.training_loss_history,
            val_loss_history: &self.run.val_loss_history,
            val_accuracy_history: &self.run.val_accuracy_history,
            learning_rate_history: &self.run.learning_rate_history,
            gradient_stats: if f.gradients_inspected {
                &self.run.gradient_stats
            } else {
                &[]
            },
            model_weight_stats: if f.model_weights_inspected {
                &self.run.weight_stats
            } else {
                &[]
            },
            data_batch_stats: f.data_inspected.then_some(&self.run.data_stats),
            model_mode_info: ModeMap(if f.model_modes_inspected {
                &self.run.modes
            } else {
                &[]
            }),
            code_snippet: f.code_inspected.then_some(&self.code),
            gpu_memory_used_gb: self.scenario.gpu_memory_used_gb,
            gpu_memory_total_gb: dressing.gpu_memory_total_gb,
            learning_rate: self.config.learning_rate,
            current_config: &self.config_json,
            error_log: self.error_log(),
            notes: &self.scenario.notes,
            available_actions: self.available_actions(),
            max_steps: self.task.file.max_steps,
            episode_state: EpisodeStateView {
                step_count: self.step_count,
                gradients_inspected: f.gradients_inspected,
                gradients_were_normal: f.gradients_were_normal,
                data_inspected: f.data_inspected,
                model_modes_inspected: f.model_modes_inspected,
                model_weights_inspected: f.model_weights_inspected,
                code_inspected: f.code_inspected,
                fix_action_taken: f.fix_action_taken,
                restart_after_fix: f.restart_after_fix,
                diagnosis_submitted: f.diagnosis.is_some(),
                actions_taken: &self.actions_taken,
            },
            message: &self.message,
        }
    }

    pub(super) fn error_log(&self) -> Option<&str> {
        self.error_log_text.as_deref()
    }

    pub(super) fn inspection_message(&self, kind: Inspection) -> String {
        let run = &self.run;
        match kind {
            Inspection::Gradients => {
                let exploding: Vec<&str> = run
                    .gradient_stats
                    .iter()
                    .filter(|g| g.is_exploding)
                    .map(|g| g.layer_name.as_str())
                    .collect();
                let vanishing: Vec<&str> = run
                    .gradient_stats
                    .iter()
                    .filter(|g| g.is_vanishing)
                    .map(|g| g.layer_name.as_str())
                    .collect();
                let mut parts = vec![format!(
                    "Gradient statistics for {} layers.",
                    run.gradient_stats.len()
                )];
                if !exploding.is_empty() {
                    parts.push(format!("Exploding: {}.", exploding.join(", ")));
                }
                if !vanishing.is_empty() {
                    parts.push(format!("Vanishing: {}.", vanishing.join(", ")));
                }
                if exploding.is_empty() && vanishing.is_empty() {
                    parts.push("No layer is exploding or vanishing.".into());
                }
                parts.join(" ")
            }
            Inspection::DataBatch => format!(
                "Data statistics: {} training and {} validation rows, duplicate_ratio {:.2}.",
                run.data_stats.stats.train_samples,
                run.data_stats.stats.val_samples,
                run.data_stats.stats.duplicate_ratio
            ),
            Inspection::ModelModes => {
                let eval = run.modes.iter().filter(|(_, m)| *m == "eval").count();
                format!(
                    "Module modes during training steps: {} of {} modules in eval.",
                    eval,
                    run.modes.len()
                )
            }
            Inspection::ModelWeights => {
                format!("Weight statistics for {} layers.", run.weight_stats.len())
            }
            Inspection::Code => format!(
                "train.py, {} lines; any line can now be edited.",
                self.code.line_count
            ),
        }
    }
}
