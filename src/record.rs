//! Recording sessions as JSON lines: a header, then every input line and every
//! output line in order, each flushed as it is written, so a killed process
//! leaves a file whose complete lines are all valid; and on a clean close a
//! trailer, so a recording that stops early is told apart from one that ended.
//! Each reset that plays a task is followed by that task's id and hash, so a
//! recording depends on the tasks it played and on no other.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

pub const FORMAT: &str = "trainwreck-recording";
/// Version 2 keeps a hash per played task after its reset; version 1 kept
/// every loaded task's hash in the header, so every new task changed it.
pub const VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub program_version: String,
    /// The task and seed the session started with, when it started with one (REPL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Whether the session was subscribed to all events from the start.
    #[serde(default)]
    pub events: bool,
    /// The seed of the session's sequence of seeds for seedless resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_seed: Option<u64>,
}

/// The task a reset played and the sha256 of its file: what the episode's
/// replies depend on. For a mystery reset, the task the seed drew (its draw
/// depends on the catalogue, which replay checks by drawing again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayedTask {
    pub id: String,
    pub hash: String,
}

/// One recorded line after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// A request line, verbatim.
    In(String),
    /// A request line that was not UTF-8, as hex.
    InHex(String),
    /// A request line over the length limit: its length.
    InTooLong(usize),
    /// The task the reset on the line before plays, before any of its output.
    Task(PlayedTask),
    /// A reply or event line, as JSON.
    Out(serde_json::Value),
    /// The player interrupted the run caused by the last request after this
    /// epoch (Ctrl-C in the REPL); replay interrupts it at the same point.
    Interrupt(usize),
    /// The trailer, last: the session closed cleanly after this many entries.
    End(EndOfRecording),
}

/// What the trailer says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndOfRecording {
    /// Entries between the header and the trailer.
    pub entries: usize,
}

/// Writes one recording. [`Recorder::finish`] writes the trailer; dropping a
/// recorder whose writes all succeeded writes it too (the REPL simply lets its
/// recorder go at the end), unless the thread is unwinding from a panic.
pub struct Recorder {
    file: File,
    entries: usize,
    /// Set when a write failed or the trailer is written: write nothing more.
    closed: bool,
}

impl Recorder {
    pub fn create(path: &Path, start: Option<(&str, u64)>, events: bool) -> io::Result<Self> {
        Self::create_with(path, start, events, None)
    }

    /// As [`Recorder::create`], for a session whose seedless resets draw from
    /// `session_seed`'s sequence.
    pub fn create_seeded(
        path: &Path,
        start: Option<(&str, u64)>,
        events: bool,
        session_seed: u64,
    ) -> io::Result<Self> {
        Self::create_with(path, start, events, Some(session_seed))
    }

    fn create_with(
        path: &Path,
        start: Option<(&str, u64)>,
        events: bool,
        session_seed: Option<u64>,
    ) -> io::Result<Self> {
        let mut file = File::create(path)?;
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            program_version: env!("CARGO_PKG_VERSION").into(),
            task_id: start.map(|(id, _)| id.to_string()),
            seed: start.map(|(_, seed)| seed),
            events,
            session_seed,
        };
        writeln!(
            file,
            "{}",
            serde_json::to_string(&header).map_err(io::Error::other)?
        )?;
        Ok(Recorder {
            file,
            entries: 0,
            closed: false,
        })
    }

    fn write(&mut self, entry: &Entry) -> io::Result<()> {
        if self.closed {
            return Err(io::Error::other("the recording is closed"));
        }
        let result = serde_json::to_string(entry)
            .map_err(io::Error::other)
            .and_then(|line| {
                // One write per line: a kill leaves whole lines (or one cut-off last line).
                self.file.write_all(format!("{line}\n").as_bytes())?;
                self.file.flush()
            });
        match result {
            Ok(()) => {
                self.entries += 1;
                Ok(())
            }
            Err(e) => {
                // A recording with a hole must not end with a trailer.
                self.closed = true;
                Err(e)
            }
        }
    }

    /// Write the trailer: the session closed cleanly.
    pub fn finish(mut self) -> io::Result<()> {
        self.write_trailer()
    }

    fn write_trailer(&mut self) -> io::Result<()> {
        let trailer = Entry::End(EndOfRecording {
            entries: self.entries,
        });
        let result = self.write(&trailer);
        self.closed = true;
        result
    }

    pub fn input(&mut self, line: &[u8]) -> io::Result<()> {
        match std::str::from_utf8(line) {
            Ok(text) => self.write(&Entry::In(text.to_string())),
            Err(_) => self.write(&Entry::InHex(
                line.iter().map(|b| format!("{b:02x}")).collect(),
            )),
        }
    }

    /// The task the last input's reset plays.
    pub fn played(&mut self, task: &PlayedTask) -> io::Result<()> {
        self.write(&Entry::Task(task.clone()))
    }

    pub fn too_long_input(&mut self, len: usize) -> io::Result<()> {
        self.write(&Entry::InTooLong(len))
    }

    pub fn interrupt(&mut self, after_epoch: usize) -> io::Result<()> {
        self.write(&Entry::Interrupt(after_epoch))
    }

    pub fn output(&mut self, line: &str) -> io::Result<()> {
        let value = serde_json::from_str(line).map_err(io::Error::other)?;
        self.write(&Entry::Out(value))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if !self.closed && !std::thread::panicking() {
            // Nobody is left to tell of a failure here; a missing trailer says it.
            let _ = self.write_trailer();
        }
    }
}
