//! Nothing a client sends, and no reader that goes away, brings the process
//! down: panics stay inside one request, closed pipes end commands quietly,
//! and `--serve` answers a whole line without waiting for the next one.

use crate::serve;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Run `trainwreck ARGS` with stdin `input` and a stdout whose reader has
/// already gone; returns (exit status, stderr).
fn with_closed_stdout(args: &[&str], input: &str) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainwreck"))
        .args(args)
        .env("TERM", "dumb")
        .env("TRAINWRECK_DATA_DIR", crate::scratch("pipe-data"))
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child may be gone before it reads its input; that is fine.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap(), stderr)
}

fn assert_quiet(args: &[&str], input: &str) {
    let (status, stderr) = with_closed_stdout(args, input);
    assert_ne!(status.code(), Some(101), "{args:?} panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
}

#[test]
fn a_reader_that_goes_away_ends_every_command_quietly() {
    assert_quiet(&["replay", "tests/episodes"], "");
    assert_quiet(&["tasks", "check", "tasks"], "");
    assert_quiet(&["tasks"], "");
    assert_quiet(
        &["--color", "never"],
        "tasks\nplay task_001 1\ninspect gradients\n",
    );
    let (status, stderr) = with_closed_stdout(&["--serve"], "{\"type\":\"tasks\"}\n");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn an_unrunnable_train_py_never_takes_the_session_down() {
    // Issue 11's first reproduction: the loss computed before any model output.
    let replies = serve(
        &[],
        &[
            json!({"type": "reset", "data": {"task_id": "task_002", "seed": 0}}),
            json!({"type": "step", "data": {"action_type": "inspect_code"}}),
            json!({"type": "step", "data": {"action_type": "fix_code", "line": 15, "replacement": "pass"}}),
            json!({"type": "step", "id": 4, "data": {"action_type": "restart_run"}}),
            json!({"type": "reset", "data": {"task_id": "task_002", "seed": 0}}),
            json!({"type": "state"}),
        ],
    );
    assert_eq!(replies.len(), 6, "{replies:?}");
    // Refused, failed as a run, or caught: any of those, but an answer.
    let restart = &replies[3];
    assert_eq!(restart["id"], 4);
    assert!(
        restart["type"] == "observation" || restart["data"]["code"] == "EXECUTION_ERROR",
        "{restart}"
    );
    assert_eq!(replies[4]["type"], "observation");
    assert_eq!(replies[5]["data"]["step_count"], 0);
}

/// Read stdout lines on a thread, so a test can wait for one with a limit
/// instead of hanging when it never comes.
fn lines_of(stdout: std::process::ChildStdout) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn a_partial_next_line_does_not_hold_back_a_reply() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainwreck"))
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let replies = lines_of(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"{\"type\":\"tasks\",\"id\":1}\n{\"type\":\"sta")
        .unwrap();
    stdin.flush().unwrap();
    // Generous: this bounds a hang, it does not measure speed.
    let first = replies.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let first = first.expect("no reply to a whole line while the next one is partial");
    assert_eq!(first["type"], "tasks");
    assert_eq!(first["id"], 1);
}

#[test]
fn an_over_long_repl_line_is_skipped_and_the_game_goes_on() {
    let input = format!("{}\ntasks\n", "x".repeat(100_000));
    let out = crate::trainwreck()
        .args(["--color", "never"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("That line has 100000 bytes; commands are at most 4096. Ignored."),
        "{text}"
    );
    assert!(text.contains("trainwreck> tasks\n"), "{text}");
    assert!(!text.contains("xxxx"), "the line was echoed: {text}");
}
