//! Watching a run: the training events drive a progress bar with the current
//! loss and a growing sparkline, paced so a person can follow it; Ctrl-C during
//! a run stops the run (training_stopped), not the game.

use super::render::chart::sparkline;
use crate::events::{EventSink, Interrupt, TrainingEvent};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub struct LiveRun {
    bar: Option<ProgressBar>,
    losses: Vec<Option<f64>>,
    interrupted: Arc<AtomicBool>,
    /// Pause per epoch so the run can be watched (0 when not a terminal).
    pace: Duration,
    visible: bool,
    /// Terminal columns: the bar and its sparkline never wrap.
    width: usize,
    pub stopped_by_user: bool,
    /// The epoch after which the player stopped the last run.
    pub stopped_after: Option<usize>,
}

impl LiveRun {
    pub fn new(interrupted: Arc<AtomicBool>, visible: bool, width: usize) -> Self {
        LiveRun {
            bar: None,
            losses: Vec::new(),
            interrupted,
            pace: if visible {
                Duration::from_millis(60)
            } else {
                Duration::ZERO
            },
            visible,
            width,
            stopped_by_user: false,
            stopped_after: None,
        }
    }
}

impl EventSink for LiveRun {
    fn emit(&mut self, event: &TrainingEvent) -> Interrupt {
        match event {
            TrainingEvent::TrainingStarted { num_epochs, .. } => {
                self.interrupted.store(false, Ordering::SeqCst);
                self.losses.clear();
                self.stopped_by_user = false;
                self.stopped_after = None;
                let bar = ProgressBar::with_draw_target(
                    Some(*num_epochs as u64),
                    if self.visible {
                        ProgressDrawTarget::stderr()
                    } else {
                        ProgressDrawTarget::hidden()
                    },
                );
                let template = if self.width >= 80 {
                    "training {bar:20.cyan/blue} epoch {pos}/{len} {msg}"
                } else {
                    "{bar:10.cyan/blue} {pos}/{len} {msg}"
                };
                if let Ok(style) = ProgressStyle::with_template(template) {
                    bar.set_style(style.progress_chars("█▉ "));
                }
                self.bar = Some(bar);
                Interrupt::Continue
            }
            TrainingEvent::TrainingProgress {
                epoch,
                train_loss,
                val_accuracy,
                ..
            } => {
                self.losses.push(*train_loss);
                if let Some(bar) = &self.bar {
                    bar.set_position(*epoch as u64);
                    let loss = train_loss.map_or("NaN".to_string(), |l| format!("{l:.4}"));
                    let acc = val_accuracy.map_or("NaN".to_string(), |a| format!("{a:.2}"));
                    let text = format!("loss {loss} acc {acc}");
                    // What is left of the line after the bar, counts and text
                    // shows the latest epochs of the sparkline.
                    let total = bar.length().unwrap_or(0).to_string().len();
                    let fixed = if self.width >= 80 { 9 + 20 + 7 } else { 11 };
                    let room = self
                        .width
                        .saturating_sub(fixed + 2 * total + 2 + text.len() + 2);
                    let spark: Vec<char> = sparkline(&self.losses).chars().collect();
                    let latest: String = spark[spark.len().saturating_sub(room)..].iter().collect();
                    bar.set_message(format!("{text} {latest}"));
                }
                if !self.pace.is_zero() {
                    std::thread::sleep(self.pace);
                }
                if self.interrupted.swap(false, Ordering::SeqCst) {
                    self.stopped_by_user = true;
                    self.stopped_after = Some(*epoch);
                    Interrupt::Stop
                } else {
                    Interrupt::Continue
                }
            }
            _ => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                Interrupt::Continue
            }
        }
    }
}
