//! `trainwreck replay`: re-run recorded sessions against the current engine
//! and compare every reply; and `--walkthroughs`, which plays each built-in
//! task's intended solution. Verdicts: match, diverged (with the first
//! difference located by file, line and JSON path) or unusable (not a
//! recording, cut off before its trailer, or recorded against other tasks).
//!
//! A recording is streamed: one exchange (a request and what it produced) is
//! held at a time, so memory does not grow with the file.

use crate::events::{EventSink, FixedClock, Interrupt, NoSink, TrainingEvent, VOLATILE_FIELDS};
use crate::protocol::{self, Request};
use crate::record::{Entry, FORMAT, Header, VERSION};
use crate::session::{Control, Session};
use crate::task::TaskSet;
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

/// Longest recording line read, in bytes: a request line at the protocol's
/// limit, written as a JSON string, fits with room for escapes.
pub const MAX_RECORDING_LINE: usize = 8 * protocol::MAX_LINE_BYTES;

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Match { exchanges: usize },
    Diverged(Divergence),
    Unusable(Unusable),
}

/// Why a recording cannot be replayed, and where (1-based line; 0 for the
/// file as a whole).
#[derive(Debug, Clone, PartialEq)]
pub struct Unusable {
    pub line: usize,
    pub why: String,
}

impl Unusable {
    fn at(line: usize, why: impl Into<String>) -> Verdict {
        Verdict::Unusable(Unusable {
            line,
            why: why.into(),
        })
    }
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
            "diverged at {}\n  expected: {}\n  actual:   {}",
            self.path, self.expected, self.actual
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

/// One line of a recording, read with a bound.
enum RawLine {
    Eof,
    /// A whole line (newline removed, CR too).
    Whole(Vec<u8>),
    /// The file ends inside this line.
    CutOff,
    TooLong,
}

fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<RawLine> {
    buf.clear();
    let n = reader
        .take(MAX_RECORDING_LINE as u64 + 1)
        .read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(RawLine::Eof);
    }
    if buf.last() != Some(&b'\n') {
        return Ok(if buf.len() > MAX_RECORDING_LINE {
            RawLine::TooLong
        } else {
            RawLine::CutOff
        });
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(RawLine::Whole(std::mem::take(buf)))
}

/// A request read from the recording, not yet re-executed: it runs once the
/// next entry says whether the player interrupted it.
struct Pending {
    line: usize,
    input: Option<Vec<u8>>,
    too_long: usize,
}

/// The replay of one recording, entry by entry.
struct Replayer<'a> {
    tasks: &'a TaskSet,
    header: Header,
    session: Session,
    pending: Option<Pending>,
    /// The replies of the last executed request not yet matched, and its line.
    produced: VecDeque<String>,
    request_line: usize,
    exchanges: usize,
    closed: bool,
}

impl Replayer<'_> {
    /// Re-execute the pending request, interrupted after `interrupt` if the
    /// player did. Unusable when it resets a task that cannot be replayed.
    fn execute(&mut self, interrupt: Option<usize>) -> Result<(), Verdict> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        if self.closed {
            return Err(Unusable::at(
                pending.line,
                "a request after the session was closed",
            ));
        }
        self.exchanges += 1;
        self.request_line = pending.line;
        let mut out = Vec::new();
        match &pending.input {
            Some(bytes) => {
                self.check_task(bytes, pending.line)?;
                let control = self
                    .session
                    .handle_line(bytes, &mut StopAfter(interrupt), &mut out);
                self.closed = control == Control::Close;
            }
            None => out.push(protocol::error_reply(
                None,
                &protocol::ProtocolError::new(
                    protocol::ErrorCode::LineTooLong,
                    format!(
                        "line of {} bytes exceeds the limit of {} bytes; it was skipped",
                        pending.too_long,
                        protocol::MAX_LINE_BYTES
                    ),
                ),
            )),
        }
        self.produced = out.into();
        Ok(())
    }

    /// Every task a recording resets must be the one it was recorded with.
    fn check_task(&self, bytes: &[u8], line: usize) -> Result<(), Verdict> {
        let Ok(Some(env)) = protocol::parse_line(bytes) else {
            return Ok(());
        };
        let Request::Reset(data) = env.request else {
            return Ok(());
        };
        let Some(id) = data
            .task_id
            .or_else(|| self.tasks.first().map(|t| t.id().to_string()))
        else {
            return Ok(());
        };
        match (self.header.tasks.get(&id), self.tasks.hash_of(&id)) {
            // Unknown then and now: it replays as UNKNOWN_TASK, as recorded.
            (None, None) => Ok(()),
            (Some(_), None) => Err(Unusable::at(
                line,
                format!(
                    "unknown task '{id}': the recording played it, but no loaded task has that id (was it recorded with --tasks-dir?)"
                ),
            )),
            (None, Some(_)) => Err(Unusable::at(
                line,
                format!(
                    "the header has no hash for task '{id}', so whether it changed cannot be checked"
                ),
            )),
            (Some(recorded), Some(current)) if *recorded != current => Err(Unusable::at(
                line,
                format!(
                    "task {id} changed since the recording (recorded {recorded}, now {current})"
                ),
            )),
            (Some(_), Some(_)) => Ok(()),
        }
    }

    /// A recorded reply: the next one the request produced must equal it.
    fn expect(&mut self, line: usize, want: &Value) -> Option<Divergence> {
        let Some(produced) = self.produced.pop_front() else {
            return Some(Divergence {
                line,
                path: "(missing reply)".into(),
                expected: want.to_string(),
                actual: "(nothing)".into(),
            });
        };
        let produced: Value = serde_json::from_str(&produced).unwrap_or(Value::Null);
        first_difference(want, &produced, "$").map(|(path, expected, actual)| Divergence {
            line,
            path,
            expected,
            actual,
        })
    }

    /// The last request's replies must all have been recorded.
    fn exchange_done(&mut self) -> Option<Divergence> {
        let extra = self.produced.pop_front()?;
        Some(Divergence {
            line: self.request_line,
            path: "(extra reply)".into(),
            expected: "(nothing)".into(),
            actual: serde_json::from_str::<Value>(&extra).map_or(extra, |v| v.to_string()),
        })
    }

    /// Handle one entry; `Err` ends the replay with that verdict.
    fn entry(&mut self, line: usize, entry: Entry, count: usize) -> Result<Flow, Verdict> {
        let interrupt = match &entry {
            Entry::Interrupt(epoch) if self.pending.is_some() => Some(*epoch),
            Entry::Interrupt(_) => {
                return Err(Unusable::at(
                    line,
                    "an interrupt that does not follow its request",
                ));
            }
            _ => None,
        };
        self.execute(interrupt)?;
        let next = match entry {
            Entry::Interrupt(_) => return Ok(Flow::Go),
            Entry::Out(want) => {
                return Ok(match self.expect(line, &want) {
                    Some(d) => Flow::Diverged(d),
                    None => Flow::Go,
                });
            }
            Entry::End(end) => {
                if end.entries != count {
                    return Err(Unusable::at(
                        line,
                        format!(
                            "the trailer counts {} entries but {count} precede it",
                            end.entries
                        ),
                    ));
                }
                return Ok(match self.exchange_done() {
                    Some(d) => Flow::Diverged(d),
                    None => Flow::Ended,
                });
            }
            Entry::In(text) => Pending {
                line,
                input: Some(text.into_bytes()),
                too_long: 0,
            },
            Entry::InHex(hex) => Pending {
                line,
                input: Some(unhex(&hex).ok_or_else(|| {
                    Unusable::at(line, "'in_hex' is not an even-length hex string")
                })?),
                too_long: 0,
            },
            Entry::InTooLong(len) => Pending {
                line,
                input: None,
                too_long: len,
            },
        };
        if let Some(d) = self.exchange_done() {
            return Ok(Flow::Diverged(d));
        }
        self.pending = Some(next);
        Ok(Flow::Go)
    }
}

enum Flow {
    Go,
    Diverged(Divergence),
    Ended,
}

/// Replay one recording read from `reader`.
pub fn replay_reader(mut reader: impl BufRead, tasks: &TaskSet) -> Verdict {
    match replay_stream(&mut reader, tasks) {
        Ok(verdict) | Err(verdict) => verdict,
    }
}

fn replay_stream(reader: &mut impl BufRead, tasks: &TaskSet) -> Result<Verdict, Verdict> {
    let read_error = |line: usize, e: io::Error| Unusable::at(line, format!("cannot read: {e}"));
    let mut buf = Vec::new();
    let first = match read_line(reader, &mut buf).map_err(|e| read_error(1, e))? {
        RawLine::Eof => return Err(Unusable::at(0, "empty file: not a recording")),
        RawLine::Whole(bytes) => bytes,
        RawLine::CutOff | RawLine::TooLong => {
            return Err(Unusable::at(1, "the first line is not a recording header"));
        }
    };
    let header: Header = serde_json::from_slice(&first)
        .map_err(|_| Unusable::at(1, "the first line is not a recording header"))?;
    if header.format != FORMAT {
        return Err(Unusable::at(
            1,
            format!("format '{}' is not {FORMAT}", header.format),
        ));
    }
    if header.version != VERSION {
        return Err(Unusable::at(
            1,
            format!(
                "format version {} is unknown (this program reads version {VERSION})",
                header.version
            ),
        ));
    }
    let events = header.events;
    let session_seed = header.session_seed.unwrap_or(0);
    let mut replayer = Replayer {
        tasks,
        header,
        session: Session::new(tasks.clone(), Box::new(FixedClock), events).seeded(session_seed),
        pending: None,
        produced: VecDeque::new(),
        request_line: 0,
        exchanges: 0,
        closed: false,
    };
    let mut line = 1;
    let mut last_entry = 1;
    let mut entries = 0;
    let mut divergence: Option<Divergence> = None;
    let mut ended = false;
    loop {
        let raw = read_line(reader, &mut buf).map_err(|e| read_error(line + 1, e))?;
        line += 1;
        let bytes = match raw {
            RawLine::Eof => break,
            RawLine::Whole(bytes) => bytes,
            RawLine::TooLong => {
                return Err(Unusable::at(
                    line,
                    format!("line longer than {MAX_RECORDING_LINE} bytes: not a recording entry"),
                ));
            }
            RawLine::CutOff => {
                return Err(cut_off(
                    line,
                    "the file ends inside this line",
                    divergence.as_ref(),
                ));
            }
        };
        // Blank lines carry nothing; a trailing one is common after editing.
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if ended {
            return Err(Unusable::at(
                line,
                "more after the end-of-recording trailer",
            ));
        }
        let entry: Entry = serde_json::from_slice(&bytes)
            .map_err(|e| Unusable::at(line, format!("not a recording entry ({e})")))?;
        last_entry = line;
        let count = entries;
        entries += 1;
        if divergence.is_some() {
            // Only look for the trailer now: a recording without one is cut off.
            ended = matches!(entry, Entry::End(_));
            continue;
        }
        match replayer.entry(line, entry, count)? {
            Flow::Go => {}
            Flow::Diverged(d) => divergence = Some(d),
            Flow::Ended => ended = true,
        }
    }
    if !ended {
        return Err(cut_off(
            last_entry,
            "no end-of-recording trailer after this line (the recording process did not close cleanly)",
            divergence.as_ref(),
        ));
    }
    Ok(match divergence {
        Some(d) => Verdict::Diverged(d),
        None => Verdict::Match {
            exchanges: replayer.exchanges,
        },
    })
}

fn cut_off(line: usize, why: &str, divergence: Option<&Divergence>) -> Verdict {
    let before = divergence.map_or(String::new(), |d| {
        format!(
            "; before that, line {} {}",
            d.line,
            d.to_string().replace('\n', " ")
        )
    });
    Unusable::at(line, format!("cut off: {why}{before}"))
}

/// The recordings named by the arguments: files, and `.jsonl` files in directories.
pub fn collect(paths: &[PathBuf]) -> Vec<PathBuf> {
    crate::files::expand(paths, &["jsonl"])
}

/// Replay one file. A panic while replaying it is reported as its verdict, so
/// the files after it are still replayed.
pub fn replay_file(path: &Path, tasks: &TaskSet) -> Verdict {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Unusable::at(0, format!("cannot read: {e}")),
    };
    replay_guarded(io::BufReader::with_capacity(1 << 16, file), tasks)
}

/// [`replay_reader`], with a panic anywhere in it turned into a verdict.
pub fn replay_guarded(reader: impl BufRead, tasks: &TaskSet) -> Verdict {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        replay_reader(reader, tasks)
    }))
    .unwrap_or_else(|_| Unusable::at(0, "internal error while replaying (a panic; see stderr)"))
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
    use crate::record::EndOfRecording;
    use serde_json::json;

    /// A recording of `requests` made with the built-in tasks, as text; with
    /// the trailer when `trailer`.
    fn recording(requests: &[Value], trailer: bool) -> String {
        let tasks = TaskSet::builtin().unwrap();
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            program_version: "test".into(),
            tasks: tasks
                .iter()
                .map(|t| (t.id().to_string(), t.hash.clone()))
                .collect(),
            task_id: None,
            seed: None,
            events: false,
            session_seed: None,
        };
        let mut lines = vec![serde_json::to_string(&header).unwrap()];
        let mut session = Session::new(tasks, Box::new(FixedClock), false);
        for request in requests {
            let text = request.to_string();
            lines.push(serde_json::to_string(&Entry::In(text.clone())).unwrap());
            let mut out = Vec::new();
            session.handle_line(text.as_bytes(), &mut NoSink, &mut out);
            for reply in out {
                let value: Value = serde_json::from_str(&reply).unwrap();
                lines.push(serde_json::to_string(&Entry::Out(value)).unwrap());
            }
        }
        if trailer {
            let end = Entry::End(EndOfRecording {
                entries: lines.len() - 1,
            });
            lines.push(serde_json::to_string(&end).unwrap());
        }
        lines.join("\n") + "\n"
    }

    fn verdict(text: &str) -> Verdict {
        replay_reader(text.as_bytes(), &TaskSet::builtin().unwrap())
    }

    fn episode() -> Vec<Value> {
        vec![
            json!({"type": "reset", "data": {"task_id": "task_001", "seed": 3}}),
            json!({"type": "step", "data": {"action_type": "inspect_gradients"}}),
            json!({"type": "state"}),
        ]
    }

    #[test]
    fn a_whole_recording_matches_and_a_trailing_blank_line_is_harmless() {
        let text = recording(&episode(), true);
        assert_eq!(verdict(&text), Verdict::Match { exchanges: 3 });
        assert_eq!(
            verdict(&(text.clone() + "\n")),
            Verdict::Match { exchanges: 3 }
        );
        assert_eq!(
            verdict(&text.replace('\n', "\r\n")),
            Verdict::Match { exchanges: 3 }
        );
    }

    #[test]
    fn a_recording_without_its_trailer_is_cut_off_never_diverged() {
        let text = recording(&episode(), false);
        let lines = text.lines().count();
        let Verdict::Unusable(u) = verdict(&text) else {
            panic!("{:?}", verdict(&text));
        };
        assert_eq!(u.line, lines);
        assert!(u.why.starts_with("cut off"), "{}", u.why);
        // Killed during a request: the request is there, its reply is not.
        let killed: String = text
            .lines()
            .take(lines - 1)
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            matches!(verdict(&killed), Verdict::Unusable(u) if u.why.starts_with("cut off") && u.line == lines - 1)
        );
        // The header alone.
        let header = text.lines().next().unwrap().to_string() + "\n";
        assert!(
            matches!(verdict(&header), Verdict::Unusable(u) if u.why.starts_with("cut off") && u.line == 1)
        );
        // Ending inside a line.
        let torn = &text[..text.len() - 10];
        assert!(
            matches!(verdict(torn), Verdict::Unusable(u) if u.why.contains("ends inside this line"))
        );
    }

    #[test]
    fn text_after_the_trailer_or_a_wrong_count_is_unusable() {
        let text = recording(&episode(), true);
        let after = text.clone() + "{\"in\":\"{}\"}\n";
        assert!(
            matches!(verdict(&after), Verdict::Unusable(u) if u.why.contains("after the end-of-recording trailer"))
        );
        let miscounted = text.replace("{\"end\":{\"entries\":", "{\"end\":{\"entries\":1");
        assert!(
            matches!(verdict(&miscounted), Verdict::Unusable(u) if u.why.contains("the trailer counts"))
        );
    }

    #[test]
    fn a_header_without_the_hash_of_a_played_task_is_unusable() {
        let text = recording(&episode(), true);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut header: Value = serde_json::from_str(&lines[0]).unwrap();
        header["tasks"].as_object_mut().unwrap().remove("task_001");
        lines[0] = header.to_string();
        let Verdict::Unusable(u) = verdict(&(lines.join("\n") + "\n")) else {
            panic!("expected unusable");
        };
        assert_eq!(u.line, 2);
        assert!(u.why.contains("no hash for task 'task_001'"), "{}", u.why);
    }

    #[test]
    fn a_task_the_recording_played_but_that_is_not_loaded_is_named_unknown() {
        let text = recording(&episode(), true);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut header: Value = serde_json::from_str(&lines[0]).unwrap();
        header["tasks"]["custom_task"] = json!("00");
        lines[0] = header.to_string();
        lines[1] = serde_json::to_string(&Entry::In(
            json!({"type": "reset", "data": {"task_id": "custom_task"}}).to_string(),
        ))
        .unwrap();
        let Verdict::Unusable(u) = verdict(&(lines.join("\n") + "\n")) else {
            panic!("expected unusable");
        };
        assert!(u.why.starts_with("unknown task 'custom_task'"), "{}", u.why);
    }

    #[test]
    fn a_panic_while_replaying_is_a_verdict_not_the_end() {
        struct Exploding;
        impl Read for Exploding {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                panic!("the disk caught fire")
            }
        }
        let verdict = replay_guarded(io::BufReader::new(Exploding), &TaskSet::builtin().unwrap());
        assert!(matches!(verdict, Verdict::Unusable(u) if u.why.starts_with("internal error")));
    }

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
