//! Agents: anything that answers an observation reply line with a request
//! line. An external agent is a process spoken to over its stdin/stdout, one
//! process per episode, so episodes cannot leak into one another.

use crate::protocol::MAX_LINE_BYTES;
use crate::serve::{LineRead, read_bounded_line};
use std::io::{BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot start the agent `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("the agent sent nothing for {0:?}")]
    Timeout(Duration),
    #[error("the agent sent a line longer than {MAX_LINE_BYTES} bytes")]
    LineTooLong,
    #[error("cannot read from the agent: {0}")]
    Read(std::io::Error),
}

pub trait Agent {
    /// The request line answering `reply` (the last reply line, usually an
    /// observation); `None` when the agent has quit.
    fn act(&mut self, reply: &str) -> Result<Option<String>, AgentError>;

    /// The episode is over; `reply` is its final observation.
    fn finish(&mut self, _reply: &str) {}

    /// Release the agent (end the process).
    fn close(&mut self) {}
}

type Line = Result<Option<String>, AgentError>;

pub struct ProcessAgent {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    timeout: Duration,
}

impl ProcessAgent {
    /// Start `command` with the shell.
    pub fn spawn(command: &str, timeout: Duration) -> Result<Self, AgentError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| AgentError::Spawn {
                command: command.to_string(),
                source,
            })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let (tx, lines) = mpsc::channel::<Line>();
        if let Some(stdout) = stdout {
            // A reader thread, so a silent agent meets the timeout instead of
            // blocking the evaluation.
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut buf = Vec::new();
                loop {
                    let line = match read_bounded_line(&mut reader, &mut buf, MAX_LINE_BYTES) {
                        Ok(LineRead::Eof) => Ok(None),
                        Ok(LineRead::Line) => Ok(Some(String::from_utf8_lossy(&buf).into_owned())),
                        Ok(LineRead::TooLong(_)) => Err(AgentError::LineTooLong),
                        Err(e) => Err(AgentError::Read(e)),
                    };
                    let last = !matches!(line, Ok(Some(_)));
                    if tx.send(line).is_err() || last {
                        break;
                    }
                }
            });
        }
        Ok(ProcessAgent {
            child,
            stdin,
            lines,
            timeout,
        })
    }

    fn send(&mut self, line: &str) {
        let written = self
            .stdin
            .as_mut()
            .map(|stdin| writeln!(stdin, "{line}").and_then(|()| stdin.flush()));
        if matches!(written, Some(Err(_))) {
            // The agent has gone; its output will say EOF.
            self.stdin = None;
        }
    }
}

impl Agent for ProcessAgent {
    fn act(&mut self, reply: &str) -> Result<Option<String>, AgentError> {
        self.send(reply);
        loop {
            match self.lines.recv_timeout(self.timeout) {
                // Blank lines are not requests; wait for one.
                Ok(Ok(Some(line))) if line.trim().is_empty() => continue,
                Ok(line) => return line,
                Err(RecvTimeoutError::Timeout) => return Err(AgentError::Timeout(self.timeout)),
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
    }

    fn finish(&mut self, reply: &str) {
        self.send(reply);
    }

    fn close(&mut self) {
        self.stdin = None; // EOF: a well-behaved agent exits now
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ProcessAgent {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.close();
        }
    }
}
