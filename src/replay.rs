//! `trainwreck replay`: re-run recorded sessions against the current engine
//! and compare every reply; and `--walkthroughs`, which plays each built-in
//! task's intended solution. Verdicts: match, diverged (with the first
//! difference located by file, line and JSON path) or unusable (not a
//! recording, cut off before its trailer, or a reset that plays another task
//! or another version of its task than when it was recorded).
//!
//! A recording is streamed: one exchange (a request and what it produced) is
//! held at a time, so memory does not grow with the file.

use crate::events::{EventSink, FixedClock, Interrupt, NoSink, TrainingEvent, VOLATILE_FIELDS};
use crate::protocol;
use crate::record::{Entry, FORMAT, Header, PlayedTask, VERSION};
use crate::session::{Collected, Control, Session};
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
    /// The task its reset played when recorded.
    played: Option<PlayedTask>,
}

/// The replay of one recording, entry by entry.
struct Replayer<'a> {
    tasks: &'a TaskSet,
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
        let mut out = Collected::default();
        match &pending.input {
            Some(bytes) => {
                let control = self
                    .session
                    .handle_line(bytes, &mut StopAfter(interrupt), &mut out);
                self.closed = control == Control::Close;
                self.check_played(pending.played.as_ref(), out.played.as_ref(), pending.line)?;
            }
            None => out.lines.push(protocol::error_reply(
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
        self.produced = out.lines.into();
        Ok(())
    }

    /// A reset must play the task it played when recorded, unchanged: its
    /// replies depend on that task's file and, for a mystery, on the draw.
    /// Checked before any reply is compared, so a changed task is named as
    /// such rather than as the first number it moved.
    fn check_played(
        &self,
        recorded: Option<&PlayedTask>,
        now: Option<&PlayedTask>,
        line: usize,
    ) -> Result<(), Verdict> {
        let why = match (recorded, now) {
            (None, None) => return Ok(()),
            (Some(then), None) if self.tasks.get(&then.id).is_none() => format!(
                "unknown task '{}': the recording played it, but no loaded task has that id (was it recorded with --tasks-dir?)",
                then.id
            ),
            (Some(then), None) => format!(
                "this reset played task {} when it was recorded, and plays no task now",
                then.id
            ),
            (None, Some(now)) => format!(
                "the recording does not say which task this reset played (now {}), so whether it changed cannot be checked",
                now.id
            ),
            (Some(then), Some(now)) if then.id != now.id => format!(
                "this reset played task {} when it was recorded and plays task {} now (a mystery's draw or a reset without a task id depends on the loaded tasks, which changed)",
                then.id, now.id
            ),
            (Some(then), Some(now)) if then.hash != now.hash => format!(
                "task {} changed since the recording (recorded {}, now {})",
                then.id, then.hash, now.hash
            ),
            (Some(_), Some(_)) => return Ok(()),
        };
        Err(Unusable::at(line, why))
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
        if let Entry::Task(played) = entry {
            // It belongs to the request before it, which has not run yet.
            return match self.pending.as_mut() {
                Some(p) if p.input.is_some() && p.played.is_none() => {
                    p.played = Some(played);
                    Ok(Flow::Go)
                }
                _ => Err(Unusable::at(
                    line,
                    "a played task that does not follow its request",
                )),
            };
        }
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
            Entry::Interrupt(_) | Entry::Task(_) => return Ok(Flow::Go),
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
                played: None,
            },
            Entry::InHex(hex) => Pending {
                line,
                input: Some(unhex(&hex).ok_or_else(|| {
                    Unusable::at(line, "'in_hex' is not an even-length hex string")
                })?),
                too_long: 0,
                played: None,
            },
            Entry::InTooLong(len) => Pending {
                line,
                input: None,
                too_long: len,
                played: None,
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
        let why = if header.version < VERSION {
            format!(
                "format version {} is older than this program reads ({VERSION}): re-record it",
                header.version
            )
        } else {
            format!(
                "format version {} is unknown (this program reads version {VERSION})",
                header.version
            )
        };
        return Err(Unusable::at(1, why));
    }
    let events = header.events;
    let session_seed = header.session_seed.unwrap_or(0);
    let mut replayer = Replayer {
        tasks,
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
            let mut out = Collected::default();
            session.handle_line(text.as_bytes(), &mut NoSink, &mut out);
            if let Some(played) = out.played {
                lines.push(serde_json::to_string(&Entry::Task(played)).unwrap());
            }
            for reply in out.lines {
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

    /// `text` with its lines passed through `edit` (the header is line 0).
    fn edited(text: &str, edit: impl Fn(usize, Value) -> Option<Value>) -> String {
        text.lines()
            .enumerate()
            .filter_map(|(i, l)| edit(i, serde_json::from_str(l).unwrap()))
            .map(|v| format!("{v}\n"))
            .collect()
    }

    fn unusable(text: &str) -> Unusable {
        match verdict(text) {
            Verdict::Unusable(u) => u,
            other => panic!("expected unusable, got {other:?}"),
        }
    }

    #[test]
    fn a_reset_is_followed_by_the_task_it_played_and_its_hash() {
        let text = recording(&episode(), true);
        let task = TaskSet::builtin().unwrap().get("task_001").unwrap();
        let played: Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
        assert_eq!(
            played,
            json!({"task": {"id": "task_001", "hash": task.hash}})
        );
        let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert!(header.get("tasks").is_none(), "{header}");
    }

    #[test]
    fn a_reset_without_the_task_it_played_is_unusable() {
        let text = edited(&recording(&episode(), true), |_, v| {
            v.get("task").is_none().then_some(v)
        });
        // The trailer's count is off by one now; the reset is found first.
        let u = unusable(&text);
        assert_eq!(u.line, 2);
        assert!(
            u.why
                .contains("does not say which task this reset played (now task_001)"),
            "{}",
            u.why
        );
    }

    #[test]
    fn a_changed_hash_or_another_task_is_unusable_and_named() {
        let text = recording(&episode(), true);
        let changed = edited(&text, |_, mut v| {
            if v.get("task").is_some() {
                v["task"]["hash"] = json!("00");
            }
            Some(v)
        });
        let u = unusable(&changed);
        assert_eq!(u.line, 2);
        assert!(
            u.why
                .starts_with("task task_001 changed since the recording (recorded 00, now "),
            "{}",
            u.why
        );
        let other = edited(&text, |_, mut v| {
            if v.get("task").is_some() {
                v["task"]["id"] = json!("task_002");
            }
            Some(v)
        });
        let u = unusable(&other);
        assert!(
            u.why.starts_with(
                "this reset played task task_002 when it was recorded and plays task task_001 now"
            ),
            "{}",
            u.why
        );
    }

    #[test]
    fn a_played_task_anywhere_but_after_its_request_is_unusable() {
        let text = recording(&episode(), true);
        let twice = edited(&text, |i, v| {
            Some(if i == 3 {
                json!({"task": {"id": "task_001", "hash": "00"}})
            } else {
                v
            })
        });
        let u = unusable(&twice);
        assert_eq!(u.line, 4);
        assert!(u.why.contains("does not follow its request"), "{}", u.why);
    }

    #[test]
    fn a_task_the_recording_played_but_that_is_not_loaded_is_named_unknown() {
        let text = edited(&recording(&episode(), true), |i, v| {
            Some(match i {
                1 => serde_json::to_value(Entry::In(
                    json!({"type": "reset", "data": {"task_id": "custom_task"}}).to_string(),
                ))
                .unwrap(),
                2 => json!({"task": {"id": "custom_task", "hash": "00"}}),
                _ => v,
            })
        });
        let u = unusable(&text);
        assert_eq!(u.line, 2);
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
