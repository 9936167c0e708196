//! Training lifecycle events (seed 001): `training_started`, one
//! `training_progress` per epoch, then exactly one of `training_completed`,
//! `training_stopped` or `training_error`. The engine emits them through an
//! [`EventSink`]; wall-clock fields come from a [`Clock`] handed in at the edge,
//! so the engine itself stays deterministic.

use serde::Serialize;
use serde_json::Value;

/// Every event name, in lifecycle order.
pub const EVENT_NAMES: [&str; 5] = [
    "training_started",
    "training_progress",
    "training_completed",
    "training_stopped",
    "training_error",
];

/// Final metrics of a completed run. Non-finite values serialise as null.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FinalMetricsPayload {
    pub train_loss: Option<f64>,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrainingEvent {
    TrainingStarted {
        run_id: String,
        task_id: String,
        num_epochs: usize,
        #[schemars(with = "crate::sim::TrainConfig")]
        config: Value,
        /// ISO 8601, UTC. Volatile: replays compare its type, not its value.
        start_time: String,
    },
    TrainingProgress {
        run_id: String,
        epoch: usize,
        total_epochs: usize,
        train_loss: Option<f64>,
        val_loss: Option<f64>,
        val_accuracy: Option<f64>,
        grad_norm: Option<f64>,
        learning_rate: f64,
        /// Seconds since `training_started`. Volatile.
        elapsed_time: f64,
    },
    TrainingCompleted {
        run_id: String,
        epochs_completed: usize,
        final_metrics: FinalMetricsPayload,
    },
    TrainingStopped {
        run_id: String,
        epochs_completed: usize,
        reason: String,
    },
    TrainingError {
        run_id: String,
        message: String,
        details: String,
    },
}

impl TrainingEvent {
    pub fn name(&self) -> &'static str {
        match self {
            TrainingEvent::TrainingStarted { .. } => EVENT_NAMES[0],
            TrainingEvent::TrainingProgress { .. } => EVENT_NAMES[1],
            TrainingEvent::TrainingCompleted { .. } => EVENT_NAMES[2],
            TrainingEvent::TrainingStopped { .. } => EVENT_NAMES[3],
            TrainingEvent::TrainingError { .. } => EVENT_NAMES[4],
        }
    }
}

/// Fields whose values depend on the wall clock.
pub const VOLATILE_FIELDS: [&str; 2] = ["start_time", "elapsed_time"];

/// Where events go. Returning [`Interrupt::Stop`] from a progress event stops
/// the run after that epoch (the REPL's Ctrl-C).
pub trait EventSink {
    fn emit(&mut self, event: &TrainingEvent) -> Interrupt;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    Continue,
    Stop,
}

/// A sink that drops everything: the cost of events nobody listens to.
pub struct NoSink;

impl EventSink for NoSink {
    fn emit(&mut self, _: &TrainingEvent) -> Interrupt {
        Interrupt::Continue
    }
}

/// Collects events in memory (tests, serve's buffering).
#[derive(Debug, Default)]
pub struct VecSink(pub Vec<TrainingEvent>);

impl EventSink for VecSink {
    fn emit(&mut self, event: &TrainingEvent) -> Interrupt {
        self.0.push(event.clone());
        Interrupt::Continue
    }
}

/// Wall-clock time, supplied by the front-end.
pub trait Clock {
    /// Now, as ISO 8601 UTC.
    fn now_iso8601(&self) -> String;
    /// Seconds since an arbitrary fixed origin.
    fn seconds(&self) -> f64;
}

/// A clock that never moves: deterministic transcripts.
pub struct FixedClock;

impl Clock for FixedClock {
    fn now_iso8601(&self) -> String {
        "1970-01-01T00:00:00Z".to_string()
    }
    fn seconds(&self) -> f64 {
        0.0
    }
}

/// The real clock.
pub struct SystemClock {
    origin: std::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: std::time::Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now_iso8601(&self) -> String {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        iso8601_utc(secs)
    }
    fn seconds(&self) -> f64 {
        self.origin.elapsed().as_secs_f64()
    }
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, proleptic Gregorian).
pub fn iso8601_utc(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_known_dates() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601_utc(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn events_serialise_with_their_name_first() {
        let event = TrainingEvent::TrainingStopped {
            run_id: "r".into(),
            epochs_completed: 5,
            reason: "early_stopping".into(),
        };
        let json = serde_json::to_string(&event).unwrap_or_default();
        assert!(json.starts_with(r#"{"event":"training_stopped""#), "{json}");
        assert_eq!(event.name(), "training_stopped");
    }
}
