//! The healthy reference runs of a task, remembered per seed. A reference run
//! is a pure function of the task file and the seed, so every episode (and
//! every session and thread) that plays the same task and seed shares it
//! rather than training it again. Bounded: it forgets everything when full.

use crate::sim::FinalMetrics;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// At most this many seeds are remembered per task.
const CAPACITY: usize = 4096;

#[derive(Clone, Default)]
pub struct ReferenceMemo(Arc<Mutex<HashMap<u64, FinalMetrics>>>);

impl ReferenceMemo {
    /// The remembered value for `seed`, or `compute`'s, remembered. The lock is
    /// not held while computing: two threads may both train the same reference
    /// once, and get the same bits.
    pub fn get_or_insert(&self, seed: u64, compute: impl FnOnce() -> FinalMetrics) -> FinalMetrics {
        if let Some(found) = self.lock().and_then(|map| map.get(&seed).copied()) {
            return found;
        }
        let value = compute();
        if let Some(mut map) = self.lock() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(seed, value);
        }
        value
    }

    /// A poisoned lock only means another thread panicked mid-insert; the
    /// memo is then simply not used.
    fn lock(&self) -> Option<std::sync::MutexGuard<'_, HashMap<u64, FinalMetrics>>> {
        self.0.lock().ok()
    }
}

/// Memos never make two tasks differ.
impl PartialEq for ReferenceMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ReferenceMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReferenceMemo")
    }
}
