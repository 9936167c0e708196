//! Which episodes an evaluation plays: every chosen task × every seed, in a
//! fixed order (task order of the catalogue, then seed), so results can be
//! kept by index whatever the number of threads.

use crate::task::TaskSet;
use std::fmt;
use std::str::FromStr;

/// Seeds to play: `A..B` (both ends included), `A..=B`, `N`, or `A,B,C`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRange(pub Vec<u64>);

/// More seeds than this per task is surely a typo (each one is an episode per task).
const MAX_SEEDS: u64 = 100_000;

impl FromStr for SeedRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("'{}' is not a seed (a whole number from 0)", s.trim()))
        };
        let text = text.trim();
        if let Some((lo, hi)) = text.split_once("..") {
            let lo = number(lo)?;
            let hi = number(hi.strip_prefix('=').unwrap_or(hi))?;
            if hi < lo {
                return Err(format!("the range {lo}..{hi} is empty"));
            }
            if hi - lo >= MAX_SEEDS {
                return Err(format!("at most {MAX_SEEDS} seeds per task"));
            }
            return Ok(SeedRange((lo..=hi).collect()));
        }
        let seeds = text.split(',').map(number).collect::<Result<Vec<_>, _>>()?;
        if seeds.len() as u64 > MAX_SEEDS {
            return Err(format!("at most {MAX_SEEDS} seeds per task"));
        }
        Ok(SeedRange(seeds))
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let contiguous = self.0.windows(2).all(|w| w[1] == w[0] + 1);
        match (self.0.first(), self.0.last()) {
            (Some(lo), Some(hi)) if contiguous && lo != hi => write!(f, "{lo}..{hi}"),
            _ => {
                let words: Vec<String> = self.0.iter().map(u64::to_string).collect();
                write!(f, "{}", words.join(","))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpisodeSpec {
    pub task_id: String,
    pub seed: u64,
}

/// The episodes to play, in order. An unknown task id is an error.
pub fn plan(
    tasks: &TaskSet,
    chosen: &[String],
    seeds: &SeedRange,
) -> Result<Vec<EpisodeSpec>, String> {
    let mystery = crate::task::catalogue::MYSTERY_ID;
    for id in chosen {
        if tasks.get(id).is_none() && id != mystery {
            return Err(format!(
                "unknown task '{id}' (known: {}; or '{mystery}' for the seed's draw from the catalogue)",
                tasks.ids().join(", ")
            ));
        }
    }
    let mut ids: Vec<String> = tasks
        .ids()
        .into_iter()
        .filter(|id| chosen.is_empty() || chosen.contains(id))
        .collect();
    // Mystery episodes only when asked for, after the named tasks.
    if chosen.iter().any(|id| id == mystery) {
        ids.push(mystery.to_string());
    }
    Ok(ids
        .iter()
        .flat_map(|id| {
            seeds.0.iter().map(move |&seed| EpisodeSpec {
                task_id: id.clone(),
                seed,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_lists_and_single_seeds() {
        assert_eq!("1..3".parse(), Ok(SeedRange(vec![1, 2, 3])));
        assert_eq!("1..=3".parse(), Ok(SeedRange(vec![1, 2, 3])));
        assert_eq!("7".parse(), Ok(SeedRange(vec![7])));
        assert_eq!("4,2".parse(), Ok(SeedRange(vec![4, 2])));
        assert!("3..1".parse::<SeedRange>().is_err());
        assert!("-1".parse::<SeedRange>().is_err());
        assert!("0..18446744073709551615".parse::<SeedRange>().is_err());
        assert_eq!(SeedRange(vec![1, 2, 3]).to_string(), "1..3");
    }

    #[test]
    fn plan_is_task_major_and_refuses_unknown_tasks() {
        let tasks = TaskSet::builtin().unwrap();
        let specs = plan(&tasks, &[], &SeedRange(vec![5, 6])).unwrap();
        assert_eq!(specs.len(), 2 * tasks.ids().len());
        assert_eq!((specs[0].seed, specs[1].seed), (5, 6));
        assert_eq!(specs[0].task_id, specs[1].task_id);
        assert!(plan(&tasks, &["nope".into()], &SeedRange(vec![1])).is_err());
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in ".{0,40}") {
            let _ = text.parse::<SeedRange>();
        }
    }
}
