//! `trainwreck replay`: re-run recorded sessions against the current engine
//! and compare every reply; and `--walkthroughs`, which plays each built-in
//! task's intended solution. Verdicts: match, diverged (with the first
//! difference located by file, line and JSON path) or unusable.

use crate::events::{EventSink, FixedClock, Interrupt, NoSink, TrainingEvent, VOLATILE_FIELDS};
use crate::protocol::{self, Request};
use crate::record::{Entry, FORMAT, Header, VERSION};
use crate::session::{Control, Session};
use crate::task::TaskSet;
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Match { exchanges: usize },
    Diverged(Divergence),
    Unusable(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    pub line: usize,
    pub path: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: at {}\n  expected: {}\n  actual:   {}",
            self.line, self.path, self.expected, self.actual
        )
    }
}

/// Interrupts a run after a given epoch, as the player did when it was recorded.
struct StopAfter(Option<usize>);

impl EventSink for StopAfter {
    fn emit(&mut self, event: &TrainingEvent) -> Interrupt {
        match (event, self.0) {
            (TrainingEvent::TrainingProgress { epoch, .. }, Some(stop)) if *epoch == stop => {
                Interrupt::Stop
            }
            _ => Interrupt::Continue,
        }
    }
}

/// Compare two replies; wall-clock fields only need the same JSON type.
pub fn first_difference(
    expected: &Value,
    actual: &Value,
    path: &str,
) -> Option<(String, String, String)> {
    let leaf = path.rsplit('.').next().unwrap_or("");
    if VOLATILE_FIELDS.contains(&leaf) {
        let same_type = std::mem::discriminant(expected) == std::mem::discriminant(actual);
        return (!same_type).then(|| (path.to_string(), expected.to_string(), actual.to_string()));
    }
    match (expected, actual) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, av) in a {
                let here = format!("{path}.{key}");
                match b.get(key) {
                    Some(bv) => {
                        if let Some(d) = first_difference(av, bv, &here) {
                            return Some(d);
                        }
                    }
                    None => return Some((here, av.to_string(), "(missing)".into())),
                }
            }
            b.keys()
                .find(|k| !a.contains_key(*k))
                .map(|k| (format!("{path}.{k}"), "(missing)".into(), b[k].to_string()))
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                if let Some(d) = first_difference(av, bv, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (a.len() != b.len()).then(|| {
                (
                    format!("{path} (length)"),
                    a.len().to_string(),
                    b.len().to_string(),
                )
            })
        }
        _ => (expected != actual)
            .then(|| (path.to_string(), expected.to_string(), actual.to_string())),
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// Replay one recording's text.
pub fn replay_text(text: &str, tasks: &TaskSet) -> Verdict {
    let mut lines = text.split_inclusive('\n').enumerate();
    let Some((_, first)) = lines.next() else {
        return Verdict::Unusable("empty file: not a recording".into());
    };
    let header: Header = match serde_json::from_str(first.trim_end()) {
        Ok(h) => h,
        Err(_) => return Verdict::Unusable("the first line is not a recording header".into()),
    };
    if header.format != FORMAT {
        return Verdict::Unusable(format!("format '{}' is not {FORMAT}", header.format));
    }
    if header.version != VERSION {
        return Verdict::Unusable(format!(
            "format version {} is unknown (this program reads version {VERSION})",
            header.version
        ));
    }
    let mut entries = Vec::new();
    for (index, raw) in lines {
        if !raw.ends_with('\n') {
            return Verdict::Unusable(format!("incomplete: line {} is cut off", index + 1));
        }
        match serde_json::from_str::<Entry>(raw.trim_end()) {
            Ok(entry) => entries.push((index + 1, entry)),
            Err(e) => {
                return Verdict::Unusable(format!(
                    "line {}: not a recording entry ({e})",
                    index + 1
                ));
            }
        }
    }
    // Every task the recording resets must be unchanged since it was recorded.
    let default_task = tasks
        .first()
        .map(|t| t.id().to_string())
        .unwrap_or_default();
    for (_, entry) in &entries {
        if let Entry::In(line) = entry
            && let Ok(Some(env)) = protocol::parse_line(line.as_bytes())
            && let Request::Reset(data) = env.request
        {
            let id = data.task_id.unwrap_or_else(|| default_task.clone());
            let (Some(recorded), Some(current)) = (header.tasks.get(&id), tasks.get(&id)) else {
                continue; // an unknown task replays as UNKNOWN_TASK, as recorded
            };
            if *recorded != current.hash {
                return Verdict::Unusable(format!(
                    "task {id} changed since the recording (recorded {recorded}, now {})",
                    current.hash
                ));
            }
        }
    }
    let mut session = Session::new(tasks.clone(), Box::new(FixedClock), header.events);
    let mut expected: Vec<(usize, &Value)> = Vec::new();
    let mut actual: Vec<String> = Vec::new();
    let mut exchanges = 0;
    let mut closed = false;
    let check =
        |expected: &mut Vec<(usize, &Value)>, actual: &mut Vec<String>| -> Option<Divergence> {
            for (i, produced) in actual.iter().enumerate() {
                let produced: Value = serde_json::from_str(produced).unwrap_or(Value::Null);
                let Some((line, want)) = expected.get(i) else {
                    return Some(Divergence {
                        line: expected.last().map_or(0, |(l, _)| *l),
                        path: "(extra reply)".into(),
                        expected: "(nothing)".into(),
                        actual: produced.to_string(),
                    });
                };
                if let Some((path, e, a)) = first_difference(want, &produced, "$") {
                    return Some(Divergence {
                        line: *line,
                        path,
                        expected: e,
                        actual: a,
                    });
                }
            }
            if let Some((line, want)) = expected.get(actual.len()) {
                return Some(Divergence {
                    line: *line,
                    path: "(missing reply)".into(),
                    expected: want.to_string(),
                    actual: "(nothing)".into(),
                });
            }
            expected.clear();
            actual.clear();
            None
        };
    for (index, (line, entry)) in entries.iter().enumerate() {
        let input = match entry {
            Entry::Out(value) => {
                expected.push((*line, value));
                continue;
            }
            Entry::Interrupt(_) => continue,
            Entry::In(text) => Some(text.as_bytes().to_vec()),
            Entry::InHex(hex) => unhex(hex),
            Entry::InTooLong(_) => None,
        };
        if let Some(d) = check(&mut expected, &mut actual) {
            return Verdict::Diverged(d);
        }
        if closed {
            break;
        }
        exchanges += 1;
        // An interrupt recorded for this request is among its entries, before the next request.
        let interrupt = entries[index + 1..]
            .iter()
            .take_while(|(_, e)| matches!(e, Entry::Out(_) | Entry::Interrupt(_)))
            .find_map(|(_, e)| match e {
                Entry::Interrupt(epoch) => Some(*epoch),
                _ => None,
            });
        match input {
            Some(bytes) => {
                if session.handle_line(&bytes, &mut StopAfter(interrupt), &mut actual)
                    == Control::Close
                {
                    closed = true;
                }
            }
            None => {
                let Entry::InTooLong(len) = entry else {
                    continue;
                };
                actual.push(protocol::error_reply(
                    None,
                    &protocol::ProtocolError::new(
                        protocol::ErrorCode::LineTooLong,
                        format!(
                            "line of {len} bytes exceeds the limit of {} bytes; it was skipped",
                            protocol::MAX_LINE_BYTES
                        ),
                    ),
                ));
            }
        }
    }
    match check(&mut expected, &mut actual) {
        Some(d) => Verdict::Diverged(d),
        None => Verdict::Match { exchanges },
    }
}

/// The recordings named by the arguments: files, and `.jsonl` files in directories.
pub fn collect(paths: &[PathBuf]) -> Vec<PathBuf> {
    crate::files::expand(paths, &["jsonl"])
}

pub fn replay_file(path: &Path, tasks: &TaskSet) -> Verdict {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => replay_text(&text, tasks),
            Err(_) => Verdict::Unusable("not UTF-8: not a recording".into()),
        },
        Err(e) => Verdict::Unusable(format!("cannot read: {e}")),
    }
}

/// The result of playing one task's walkthrough on one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkResult {
    pub task_id: String,
    pub seed: u64,
    pub variant: String,
    pub done: bool,
    pub score: f64,
}

/// The score every walkthrough must reach.
pub const WALKTHROUGH_MIN_SCORE: f64 = 0.9;

/// Play every task's walkthrough once per variant, through the protocol.
pub fn walkthroughs(tasks: &TaskSet) -> Vec<WalkResult> {
    let mut results = Vec::new();
    for task in tasks.iter() {
        let variants = task.file.variants.len().max(1);
        let mut covered = vec![false; variants];
        for seed in 0..256u64 {
            let variant = task.variant_for_seed(seed);
            if covered[variant] {
                continue;
            }
            covered[variant] = true;
            let mut session = Session::new(tasks.clone(), Box::new(FixedClock), false);
            let mut out = Vec::new();
            let reset =
                serde_json::json!({"type": "reset", "data": {"task_id": task.id(), "seed": seed}});
            session.handle_line(reset.to_string().as_bytes(), &mut NoSink, &mut out);
            let steps = match session.episode() {
                Some(ep) => ep.walkthrough().to_vec(),
                None => Vec::new(),
            };
            for step in &steps {
                let line = serde_json::json!({"type": "step", "data": step});
                session.handle_line(line.to_string().as_bytes(), &mut NoSink, &mut out);
            }
            let (done, score) = session
                .episode()
                .map_or((false, 0.0), |ep| (ep.is_done(), ep.grade().score));
            results.push(WalkResult {
                task_id: task.id().to_string(),
                seed,
                variant: task
                    .file
                    .variants
                    .get(variant)
                    .map_or_else(|| "base".to_string(), |v| v.name.clone()),
                done,
                score,
            });
            if covered.iter().all(|c| *c) {
                break;
            }
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_are_located_and_clock_fields_only_typed() {
        let a = json!({"data": {"x": [1, 2], "start_time": "2026-01-01T00:00:00Z"}});
        let b = json!({"data": {"x": [1, 3], "start_time": "1970-01-01T00:00:00Z"}});
        assert_eq!(
            first_difference(&a, &b, "$"),
            Some(("$.data.x[1]".into(), "2".into(), "3".into()))
        );
        let c = json!({"data": {"x": [1, 2], "start_time": 5}});
        assert_eq!(
            first_difference(&a, &c, "$").map(|d| d.0),
            Some("$.data.start_time".into())
        );
        let d = json!({"data": {"x": [1, 2], "start_time": "2030-01-01T00:00:00Z"}});
        assert_eq!(first_difference(&a, &d, "$"), None);
    }

    #[test]
    fn every_walkthrough_reaches_its_promise() {
        let tasks = TaskSet::builtin().unwrap();
        let results = walkthroughs(&tasks);
        assert!(results.len() >= 6 * 3);
        for r in results {
            assert!(r.done && r.score >= WALKTHROUGH_MIN_SCORE, "{r:?}");
        }
    }
}
