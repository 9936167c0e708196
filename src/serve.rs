//! `--serve`: the session loop over stdin/stdout. Reads bounded lines (an
//! over-long line is skipped without being held whole) and writes only
//! protocol lines to stdout. Events are written and flushed the moment the run
//! emits them; a reply is flushed unless the next request is already complete
//! in the input buffer, so a request/reply client never waits (not even
//! behind a partial next line) and a piped batch is not flushed per line.

use crate::events::NoSink;
use crate::protocol::{ErrorCode, MAX_LINE_BYTES, ProtocolError, error_reply};
use crate::record::{PlayedTask, Recorder};
use crate::session::{Control, Output, Session};
use std::io::{self, BufRead, BufReader, Read, Write};

/// What one bounded read produced.
#[derive(Debug, PartialEq, Eq)]
pub enum LineRead {
    Eof,
    Line,
    /// The line was longer than the limit; it was consumed and dropped.
    TooLong(usize),
}

/// Read one line of at most `max` bytes into `buf` (newline removed). A longer
/// line is read through to its end in chunks and discarded.
pub fn read_bounded_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    buf.clear();
    // Room for the line, a CR and the LF: the limit counts the line alone,
    // whichever line ending it has.
    let n = io::Read::take(&mut *reader, max as u64 + 2).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(LineRead::Eof);
    }
    let whole = buf.last() == Some(&b'\n');
    if whole {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    if whole || n < max + 2 {
        // The whole line was read (the last one may lack its newline).
        if buf.len() <= max {
            return Ok(LineRead::Line);
        }
        let len = buf.len();
        buf.clear();
        return Ok(LineRead::TooLong(len));
    }
    let mut skipped = buf.len();
    let mut last = buf.last().copied();
    buf.clear();
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            break;
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(at) => {
                // The length of the line itself: without a CR before its LF.
                let before = if at > 0 {
                    available.get(at - 1).copied()
                } else {
                    last
                };
                skipped = (skipped + at).saturating_sub(usize::from(before == Some(b'\r')));
                reader.consume(at + 1);
                break;
            }
            None => {
                let len = available.len();
                skipped += len;
                last = available.last().copied();
                reader.consume(len);
            }
        }
    }
    Ok(LineRead::TooLong(skipped))
}

/// Run the loop over stdin/stdout until EOF or `close`. A closed stdout ends
/// it quietly.
pub fn serve(session: &mut Session, recorder: Option<Recorder>) -> io::Result<()> {
    let stdin = io::stdin();
    let mut input = BufReader::with_capacity(1 << 16, stdin.lock());
    let stdout = io::stdout();
    let output = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    serve_io(session, recorder, &mut input, output)
}

/// Lines written to the client (and the recording) as the session produces them.
struct Client<'a, W: Write> {
    out: W,
    recorder: Option<&'a mut Recorder>,
    /// The client closed its end: stop quietly.
    gone: bool,
    /// The first other write error.
    error: Option<io::Error>,
}

impl<W: Write> Client<'_, W> {
    fn write(&mut self, line: &str, flush: bool) {
        if self.gone || self.error.is_some() {
            return;
        }
        if let Some(r) = self.recorder.as_mut()
            && let Err(e) = r.output(line)
        {
            self.error = Some(e);
            return;
        }
        let result = self
            .out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| if flush { self.out.flush() } else { Ok(()) });
        self.settle(result);
    }

    fn flush(&mut self) {
        if !self.gone && self.error.is_none() {
            let result = self.out.flush();
            self.settle(result);
        }
    }

    fn settle(&mut self, result: io::Result<()>) {
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.gone = true,
            Err(e) => self.error = Some(e),
        }
    }
}

impl<W: Write> Output for Client<'_, W> {
    fn event(&mut self, line: String) {
        self.write(&line, true);
    }
    fn reply(&mut self, line: String) {
        self.write(&line, false);
    }
    fn playing(&mut self, task: &PlayedTask) {
        if self.gone || self.error.is_some() {
            return;
        }
        if let Some(r) = self.recorder.as_mut()
            && let Err(e) = r.played(task)
        {
            self.error = Some(e);
        }
    }
}

/// The loop itself, over any input and output.
pub fn serve_io<R: Read>(
    session: &mut Session,
    mut recorder: Option<Recorder>,
    input: &mut BufReader<R>,
    output: impl Write,
) -> io::Result<()> {
    let mut client = Client {
        out: output,
        recorder: recorder.as_mut(),
        gone: false,
        error: None,
    };
    let mut line = Vec::new();
    loop {
        let control = match read_bounded_line(input, &mut line, MAX_LINE_BYTES)? {
            LineRead::Eof => break,
            LineRead::TooLong(len) => {
                if let Some(r) = client.recorder.as_mut() {
                    r.too_long_input(len)?;
                }
                client.reply(error_reply(
                    None,
                    &ProtocolError::new(
                        ErrorCode::LineTooLong,
                        format!("line of {len} bytes exceeds the limit of {MAX_LINE_BYTES} bytes; it was skipped"),
                    ),
                ));
                Control::Continue
            }
            LineRead::Line => {
                if let Some(r) = client.recorder.as_mut() {
                    r.input(&line)?;
                }
                session.handle_line(&line, &mut NoSink, &mut client)
            }
        };
        if let Some(e) = client.error.take() {
            return Err(e);
        }
        if client.gone || control == Control::Close {
            break;
        }
        // Reading the next line cannot block only if it is already whole here.
        if !input.buffer().contains(&b'\n') {
            client.flush();
        }
    }
    client.flush();
    if let Some(e) = client.error.take() {
        return Err(e);
    }
    // The client closing its end is an orderly end too: the recording is whole.
    match recorder {
        Some(r) => r.finish(),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::FixedClock;
    use crate::task::TaskSet;

    /// Remembers what had been written at each flush.
    #[derive(Default)]
    struct Flushes {
        written: Vec<u8>,
        at_flush: Vec<String>,
    }

    impl Write for &mut Flushes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.at_flush
                .push(String::from_utf8_lossy(&self.written).into_owned());
            Ok(())
        }
    }

    fn run(input: &[u8], subscribe_all: bool) -> Flushes {
        let mut session = Session::new(
            TaskSet::builtin().unwrap(),
            Box::new(FixedClock),
            subscribe_all,
        );
        let mut flushes = Flushes::default();
        let mut reader = BufReader::new(input);
        serve_io(&mut session, None, &mut reader, &mut flushes).unwrap();
        flushes
    }

    #[test]
    fn each_event_is_flushed_as_the_run_emits_it_and_before_the_reply() {
        let flushes = run(
            b"{\"type\":\"reset\",\"data\":{\"task_id\":\"task_004\",\"seed\":1}}\n",
            true,
        );
        // training_started, 20 progress events, training_completed: each flushed alone.
        let first = &flushes.at_flush[0];
        assert_eq!(first.lines().count(), 1, "{first}");
        assert!(first.contains("\"event\":\"training_started\""), "{first}");
        for (i, text) in flushes.at_flush.iter().enumerate().take(22) {
            assert_eq!(text.lines().count(), i + 1);
            assert!(!text.contains("\"type\":\"observation\""), "flush {i}");
        }
        let last = flushes.at_flush.last().unwrap();
        assert!(
            last.lines()
                .last()
                .unwrap()
                .starts_with("{\"type\":\"observation\"")
        );
    }

    #[test]
    fn a_reply_is_flushed_when_only_a_partial_line_follows() {
        let flushes = run(b"{\"type\":\"tasks\",\"id\":1}\n{\"type\":\"sta", false);
        let first = &flushes.at_flush[0];
        assert_eq!(first.lines().count(), 1);
        assert!(first.starts_with("{\"type\":\"tasks\",\"id\":1"), "{first}");
    }

    #[test]
    fn a_batch_of_whole_lines_is_not_flushed_per_line() {
        let flushes = run(
            b"{\"type\":\"tasks\"}\n{\"type\":\"tasks\"}\n{\"type\":\"tasks\"}\n",
            false,
        );
        assert_eq!(flushes.at_flush[0].lines().count(), 3);
    }

    #[test]
    fn bounded_lines() {
        let mut reader = io::Cursor::new(b"short\r\n0123456789abc\nnext\nlast".to_vec());
        let mut buf = Vec::new();
        assert_eq!(
            read_bounded_line(&mut reader, &mut buf, 8).unwrap(),
            LineRead::Line
        );
        assert_eq!(buf, b"short");
        assert_eq!(
            read_bounded_line(&mut reader, &mut buf, 8).unwrap(),
            LineRead::TooLong(13)
        );
        assert_eq!(
            read_bounded_line(&mut reader, &mut buf, 8).unwrap(),
            LineRead::Line
        );
        assert_eq!(buf, b"next");
        assert_eq!(
            read_bounded_line(&mut reader, &mut buf, 8).unwrap(),
            LineRead::Line
        );
        assert_eq!(buf, b"last");
        assert_eq!(
            read_bounded_line(&mut reader, &mut buf, 8).unwrap(),
            LineRead::Eof
        );
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_accepted_with_either_line_ending() {
        for input in [&b"12345678\nnext\n"[..], b"12345678\r\nnext\r\n"] {
            let mut reader = io::Cursor::new(input.to_vec());
            let mut buf = Vec::new();
            assert_eq!(
                read_bounded_line(&mut reader, &mut buf, 8).unwrap(),
                LineRead::Line
            );
            assert_eq!(buf, b"12345678");
            read_bounded_line(&mut reader, &mut buf, 8).unwrap();
            assert_eq!(buf, b"next");
        }
        for input in [
            &b"123456789\nnext\n"[..],
            b"123456789\r\nnext\n",
            b"123456789",
        ] {
            let mut reader = io::Cursor::new(input.to_vec());
            let mut buf = Vec::new();
            assert_eq!(
                read_bounded_line(&mut reader, &mut buf, 8).unwrap(),
                LineRead::TooLong(9),
                "{input:?}"
            );
        }
    }
}
