//! The simulator: really trains a small network on synthetic data with the
//! task's faults acting through their mechanism. Pure and deterministic: no
//! I/O, no clock, no threads; the same [`RunSpec`] gives the same bits.

#[cfg(test)]
mod behaviour;
pub mod budget;
pub mod config;
pub mod data;
mod kernels;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod program;
pub mod rng;
pub mod trainer;

pub use config::{Callback, ClassWeighting, ConfigError, ConfigValue, TrainConfig};
pub use data::{DataBatchStats, DataPatch, DataSpec};
pub use program::{Program, ProgramError};
pub use trainer::{
    EpochObserver, EpochRecord, FinalMetrics, Flow, Outcome, RunSpec, RunTrace, Unobserved, run,
};
