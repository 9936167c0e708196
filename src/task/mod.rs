//! Tasks: loading TOML/JSON task files, checking them against the engine's
//! vocabulary and ranges, and turning a task plus a seed into the concrete
//! training setup of one episode. Built-in tasks are embedded in the binary.

pub mod catalogue;
mod error;
pub mod limits;
mod locate;
pub mod memo;
mod parse;
pub mod scenario;
pub mod schema;
mod set;
mod validate;

pub(crate) use error::problem;
pub use error::{FieldPath, Problem, Seg, TaskError};
pub use parse::{load_file, parse_task};
pub use scenario::Scenario;
use scenario::resolve;
pub use schema::{
    ActionRule, Debrief, Difficulty, Dressing, Edit, Pool, Recovery, Rubric, Secondary, Sign, Span,
    TaskFile, Variant, WalkStep,
};
pub use set::{BUILTIN, TaskSet};
pub use validate::validate;

/// A checked task, ready to play.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub file: TaskFile,
    /// Where it came from: `builtin:task_001.toml` or a path.
    pub origin: String,
    /// sha256 of the file's bytes, hex (a disguised task keeps its
    /// original's: a recording names the task it really played).
    pub hash: String,
    /// Its healthy reference runs, per seed.
    pub references: memo::ReferenceMemo,
    /// For a mystery episode's disguised task: the task it really is.
    pub unmasked: Option<catalogue::Unmasked>,
}

impl Task {
    pub fn id(&self) -> &str {
        &self.file.id
    }

    /// The id of the task this really is: its own, or under a mystery's
    /// disguise the original's.
    pub fn real_id(&self) -> &str {
        self.unmasked.as_ref().map_or(self.id(), |u| &u.task_id)
    }

    /// Which variant a seed plays: a ChaCha draw, so consecutive seeds mix.
    pub fn variant_for_seed(&self, seed: u64) -> usize {
        let n = self.file.variants.len();
        if n == 0 {
            return 0;
        }
        crate::sim::rng::SimRng::new(seed, "variant").below(n)
    }

    /// Variant `index` (0 when the task has none) with no seed's draws: the
    /// first value of every pool.
    pub fn scenario(&self, index: usize) -> Result<Scenario, Vec<Problem>> {
        resolve(&self.file, index, None)
    }

    /// The seed's variant with the seed's draws: what an episode plays.
    pub fn scenario_for_seed(&self, seed: u64) -> Result<Scenario, Vec<Problem>> {
        resolve(&self.file, self.variant_for_seed(seed), Some(seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tasks_load() {
        if let Err(errors) = TaskSet::builtin() {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{}", text.join("\n"));
        }
    }
}
