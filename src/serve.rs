//! `--serve`: the session loop over stdin/stdout. Reads bounded lines (an
//! over-long line is skipped without being held whole), writes only protocol
//! lines to stdout, and flushes whenever it has no more input buffered, so a
//! request/reply client never waits and a piped batch is not flushed per line.

use crate::events::NoSink;
use crate::protocol::{ErrorCode, MAX_LINE_BYTES, ProtocolError, error_reply};
use crate::record::Recorder;
use crate::session::{Control, Session};
use std::io::{self, BufRead, Write};

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
    let n = io::Read::take(&mut *reader, max as u64 + 1).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(LineRead::Eof);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        return Ok(LineRead::Line);
    }
    if buf.len() <= max {
        return Ok(LineRead::Line); // last line without a newline
    }
    let mut skipped = buf.len();
    buf.clear();
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            break;
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(at) => {
                skipped += at;
                reader.consume(at + 1);
                break;
            }
            None => {
                let len = available.len();
                skipped += len;
                reader.consume(len);
            }
        }
    }
    Ok(LineRead::TooLong(skipped))
}

/// Run the loop until EOF or `close`. A closed stdout ends it quietly.
pub fn serve(session: &mut Session, mut recorder: Option<Recorder>) -> io::Result<()> {
    let stdin = io::stdin();
    let mut input = io::BufReader::with_capacity(1 << 16, stdin.lock());
    let stdout = io::stdout();
    let mut output = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = Vec::new();
    let mut replies = Vec::new();
    loop {
        replies.clear();
        let control = match read_bounded_line(&mut input, &mut line, MAX_LINE_BYTES)? {
            LineRead::Eof => break,
            LineRead::TooLong(len) => {
                if let Some(r) = recorder.as_mut() {
                    r.too_long_input(len)?;
                }
                replies.push(error_reply(
                    None,
                    &ProtocolError::new(
                        ErrorCode::LineTooLong,
                        format!("line of {len} bytes exceeds the limit of {MAX_LINE_BYTES} bytes; it was skipped"),
                    ),
                ));
                Control::Continue
            }
            LineRead::Line => {
                if let Some(r) = recorder.as_mut() {
                    r.input(&line)?;
                }
                session.handle_line(&line, &mut NoSink, &mut replies)
            }
        };
        for reply in &replies {
            if let Some(r) = recorder.as_mut() {
                r.output(reply)?;
            }
            if !write_line(&mut output, reply)? {
                return Ok(());
            }
        }
        if control == Control::Close {
            break;
        }
        if input.buffer().is_empty() && !flush(&mut output)? {
            return Ok(());
        }
    }
    flush(&mut output)?;
    Ok(())
}

/// Write a line; `Ok(false)` when the reader has gone (broken pipe).
fn write_line(out: &mut impl Write, line: &str) -> io::Result<bool> {
    let result = out
        .write_all(line.as_bytes())
        .and_then(|()| out.write_all(b"\n"));
    quiet_pipe(result)
}

fn flush(out: &mut impl Write) -> io::Result<bool> {
    quiet_pipe(out.flush())
}

fn quiet_pipe(result: io::Result<()>) -> io::Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
