//! The episode engine: a task and a seed become an episode; actions step it;
//! each step gives an observation, a reward and whether it is done. Pure: the
//! only outside things it touches are the event sink and clock it is handed.

pub mod action;
pub mod audit;
pub mod claims;
pub mod episode;
pub mod grade;
pub mod observation;
pub mod training;
pub mod verdict;

pub use action::{Action, ActionRequest};
pub use episode::{Episode, StepInfo};
pub use grade::{Grade, GradeItem};
pub use observation::Observation;
pub use verdict::Verdict;
