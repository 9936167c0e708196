//! One training run with its lifecycle events: `training_started`, a
//! `training_progress` per epoch, then exactly one of `training_completed`,
//! `training_stopped` or `training_error` — all through the sink it is handed.

use crate::events::{Clock, EventSink, FinalMetricsPayload, Interrupt, TrainingEvent};
use crate::sim::{self, EpochObserver, EpochRecord, Flow, Outcome, RunSpec, RunTrace};
use serde_json::Value;

/// Adapts the trainer's per-epoch callback to the event stream.
struct Emitter<'a> {
    sink: &'a mut dyn EventSink,
    clock: &'a dyn Clock,
    run_id: &'a str,
    started: f64,
}

impl EpochObserver for Emitter<'_> {
    fn epoch_finished(&mut self, r: &EpochRecord, total_epochs: usize) -> Flow {
        let event = TrainingEvent::TrainingProgress {
            run_id: self.run_id.to_string(),
            epoch: r.epoch,
            total_epochs,
            train_loss: r.train_loss.is_finite().then_some(r.train_loss),
            val_loss: r.val_loss.is_finite().then_some(r.val_loss),
            val_accuracy: r.val_accuracy.is_finite().then_some(r.val_accuracy),
            grad_norm: r.grad_norm.is_finite().then_some(r.grad_norm),
            learning_rate: r.learning_rate,
            elapsed_time: self.clock.seconds() - self.started,
        };
        match self.sink.emit(&event) {
            Interrupt::Continue => Flow::Continue,
            Interrupt::Stop => Flow::Stop,
        }
    }
}

/// Train once with events: started, progress per epoch, then the outcome.
pub fn train(
    spec: &RunSpec,
    task_id: &str,
    run_id: &str,
    config_json: &Value,
    sink: &mut dyn EventSink,
    clock: &dyn Clock,
) -> RunTrace {
    sink.emit(&TrainingEvent::TrainingStarted {
        run_id: run_id.to_string(),
        task_id: task_id.to_string(),
        num_epochs: spec.config.epochs,
        config: config_json.clone(),
        start_time: clock.now_iso8601(),
    });
    let mut emitter = Emitter {
        sink,
        clock,
        run_id,
        started: clock.seconds(),
    };
    let trace = sim::run(spec, &mut emitter);
    let run_id = run_id.to_string();
    let end = match &trace.outcome {
        Outcome::Completed => TrainingEvent::TrainingCompleted {
            run_id,
            epochs_completed: trace.epochs.len(),
            final_metrics: FinalMetricsPayload {
                train_loss: super::observation::finite(trace.final_metrics.train_loss),
                val_loss: super::observation::finite(trace.final_metrics.val_loss),
                val_accuracy: super::observation::finite(trace.final_metrics.val_accuracy),
            },
        },
        Outcome::Stopped { epoch, reason } => TrainingEvent::TrainingStopped {
            run_id,
            epochs_completed: *epoch,
            reason: reason.clone(),
        },
        Outcome::Failed {
            message, details, ..
        } => TrainingEvent::TrainingError {
            run_id,
            message: message.clone(),
            details: details.clone(),
        },
    };
    emitter.sink.emit(&end);
    trace
}
