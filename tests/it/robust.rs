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

/// The most expensive restart a player can ask for: refused before it runs.
fn expensive_changes() -> Vec<Value> {
    [
        ("epochs", json!(100)),
        ("batch_size", json!(1)),
        ("hidden_dim", json!(128)),
        ("num_layers", json!(8)),
        ("optimizer", json!("adam")),
    ]
    .into_iter()
    .map(|(target, value)| {
        json!({"type": "step", "data": {"action_type": "modify_config", "target": target, "value": value}})
    })
    .collect()
}

#[test]
fn a_run_over_the_work_budget_is_refused_saying_what_to_reduce() {
    let mut lines = vec![json!({"type": "reset", "data": {"task_id": "task_004", "seed": 0}})];
    lines.extend(expensive_changes());
    lines.push(json!({"type": "step", "data": {"action_type": "restart_run"}}));
    lines.push(json!({"type": "state"}));
    let replies = serve(&[], &lines);
    let restart = &replies[replies.len() - 2];
    assert_eq!(restart["data"]["info"]["invalid"], true, "{restart}");
    let message = restart["data"]["observation"]["message"].as_str().unwrap();
    assert!(
        message.contains("over the budget of 2.0 billion"),
        "{message}"
    );
    assert!(message.contains("raise batch_size (now 1"), "{message}");
    assert!(
        message.contains("reduce hidden_dim (now 128) or num_layers (now 8)"),
        "{message}"
    );
    // No run happened: still the reset's run.
    assert_eq!(replies.last().unwrap()["data"]["run_id"], "task_004-s0-r0");
}

#[test]
fn a_task_file_over_the_work_budget_is_refused_with_its_location() {
    // Issue 11: a task with 2,000 training rows and 64 features ran 88 s per reset.
    let dir = crate::scratch("budget-task");
    let text = std::fs::read_to_string("tasks/task_001.toml")
        .unwrap()
        .replace("task_001", "huge_data")
        .replace("train_samples = 256", "train_samples = 2000")
        .replace("val_samples = 128", "val_samples = 1000")
        .replace("features = 10", "features = 64")
        .replace(
            "[config]\n",
            "[config]\nepochs = 100\nhidden_dim = 64\nbatch_size = 4\n",
        );
    let file = dir.join("huge.toml");
    std::fs::write(&file, text).unwrap();
    let out = crate::trainwreck()
        .args(["tasks", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:", file.display())) && err.contains("over the budget"),
        "{err}"
    );
    assert!(err.contains("raise batch_size (now 4"), "{err}");
    assert!(err.contains("at most "), "{err}");
}

#[test]
fn events_stream_while_the_run_goes_and_a_killed_recording_replays_as_cut_off() {
    let dir = crate::scratch("kill");
    let record = dir.join("killed.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainwreck"))
        .args(["--serve", "--events", "--record"])
        .arg(&record)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let replies = lines_of(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    // A deliberately long but allowed run: a wide, deep net for 18 epochs.
    let mut requests = vec![json!({"type": "reset", "data": {"task_id": "task_004", "seed": 0}})];
    for (target, value) in [("hidden_dim", 128), ("num_layers", 8), ("epochs", 15)] {
        requests.push(json!({"type": "step", "data": {"action_type": "modify_config", "target": target, "value": value}}));
    }
    requests.push(json!({"type": "step", "id": "long", "data": {"action_type": "restart_run"}}));
    for r in &requests {
        writeln!(stdin, "{r}").unwrap();
    }
    stdin.flush().unwrap();
    // Read until the long run's first epoch arrives; its reply must not have.
    let mut seen_reply = false;
    loop {
        let line = replies
            .recv_timeout(Duration::from_secs(60))
            .expect("the long run's first epoch never arrived");
        if line["id"] == "long" && line["type"] == "observation" {
            seen_reply = true;
            break;
        }
        if line["id"] == "long" && line["data"]["event"] == "training_progress" {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !seen_reply,
        "the reply came before the run's first progress event"
    );
    let out = crate::trainwreck()
        .arg("replay")
        .arg(&record)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unusable: cut off"), "{err}");
    assert!(!err.contains("diverged"), "{err}");
}

/// `tasks check` on `files`, with a limit on how long it may take (a FIFO
/// used to hang it): (exit code, stdout, stderr).
fn check_tasks(args: &[&std::path::Path]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainwreck"))
        .args(["tasks", "check"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    std::thread::spawn(move || {
        let (mut o, mut e) = (String::new(), String::new());
        let _ = out.read_to_string(&mut o);
        let _ = err.read_to_string(&mut e);
        let _ = tx.send((o, e));
    });
    let result = rx.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let status = child.wait().unwrap();
    let (o, e) = result.expect("tasks check hung");
    (status.code(), o, e)
}

fn task_002_as(id: &str) -> String {
    std::fs::read_to_string("tasks/task_002.toml")
        .unwrap()
        .replace("id = \"task_002\"", &format!("id = \"{id}\""))
}

#[test]
fn task_files_are_bounded_and_every_value_checked() {
    let dir = crate::scratch("bounded");
    let cases = [
        (
            "nan_penalty",
            task_002_as("a1").replace("penalty = 0.1", "penalty = nan"),
            "must be a finite number",
        ),
        (
            "negative_penalty",
            task_002_as("a2").replace("penalty = 0.1", "penalty = -5"),
            "penalty: must be in [0, 1]",
        ),
        (
            "big_penalty",
            task_002_as("a3").replace(
                "wrong_diagnosis_penalty = 0.2",
                "wrong_diagnosis_penalty = 7",
            ),
            "must be numbers in [0, 1]",
        ),
        (
            "escape_title",
            task_002_as("a4").replace(
                "title = \"The loss",
                "title = \"\\u001b]0;pwned\\u0007The loss",
            ),
            "title: contains the control character \\u{1b}",
        ),
        (
            "clear_screen_notes",
            task_002_as("a5").replace("\"Loss is stuck", "\"\\u001b[2JLoss is stuck"),
            "dressing.notes[0]: contains the control character",
        ),
        (
            "huge_notes",
            task_002_as("a6").replace(
                "\"Loss is stuck",
                &format!("\"{}Loss is stuck", "x".repeat(100_000)),
            ),
            "longer than the limit of 4000",
        ),
        (
            "deep",
            format!(
                "{}\nx = {}1{}",
                task_002_as("a7"),
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
            "nested deeper than 16 levels",
        ),
    ];
    for (name, text, expected) in cases {
        let file = dir.join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let (code, _, err) = check_tasks(&[&file]);
        assert_eq!(code, Some(1), "{name}: {err}");
        assert!(err.contains(expected), "{name}: {err}");
        assert!(
            err.contains(&format!("{}:", file.display())),
            "{name}: no location: {err}"
        );
        assert!(
            !err.contains('\u{1b}'),
            "{name}: the escape reached the terminal"
        );
    }
}

#[test]
fn only_regular_files_inside_the_directory_are_read() {
    let dir = crate::scratch("special-files");
    let tasks = dir.join("tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    std::os::unix::fs::symlink("/dev/zero", tasks.join("zero.toml")).unwrap();
    let fifo = tasks.join("fifo.toml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (code, _, err) = check_tasks(&[&tasks]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("zero.toml: cannot read: not a regular file"),
        "{err}"
    );
    assert!(
        err.contains("fifo.toml: cannot read: not a regular file"),
        "{err}"
    );

    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("elsewhere.toml"), task_002_as("elsewhere")).unwrap();
    let linked = dir.join("linked");
    std::fs::create_dir_all(&linked).unwrap();
    std::os::unix::fs::symlink(outside.join("elsewhere.toml"), linked.join("in.toml")).unwrap();
    let out = crate::trainwreck()
        .args(["tasks", "--tasks-dir"])
        .arg(&linked)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("a symlink to outside"), "{err}");
}

#[test]
fn an_id_defined_twice_is_refused_by_tasks_check_as_by_tasks_dir() {
    let dir = crate::scratch("dup-ids");
    let (a, b, builtin) = (dir.join("a.toml"), dir.join("b.toml"), dir.join("c.toml"));
    std::fs::write(&a, task_002_as("twice")).unwrap();
    std::fs::write(&b, task_002_as("twice")).unwrap();
    std::fs::write(&builtin, task_002_as("task_003")).unwrap();
    let (code, _, err) = check_tasks(&[&a, &b, &builtin]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("task id 'twice' is defined twice"), "{err}");
    assert!(
        err.contains("task id 'task_003' is defined twice: builtin:task_003.toml"),
        "{err}"
    );
}

#[test]
fn a_fix_code_line_break_is_refused_so_the_listing_matches_its_line_count() {
    // Found by the fuzzing campaign (seed 20261127): a comment replacement
    // with a line break was taken, and the listing grew a line that
    // line_count did not count.
    for replacement in [
        "# a comment\nimport os",
        "pass # x\nloss.backward()",
        "pass\u{1b}[2J",
    ] {
        let replies = serve(
            &[],
            &[
                json!({"type": "reset", "data": {"task_id": "task_002", "seed": 0}}),
                json!({"type": "step", "data": {"action_type": "inspect_code"}}),
                json!({"type": "step", "data": {"action_type": "fix_code", "line": 1, "replacement": replacement}}),
            ],
        );
        let step = &replies[2]["data"];
        assert_eq!(step["info"]["invalid"], true, "{replacement:?}: {step}");
        let snippet = &step["observation"]["code_snippet"];
        assert_eq!(
            snippet["code"].as_str().unwrap().lines().count() as u64,
            snippet["line_count"].as_u64().unwrap()
        );
        let message = step["observation"]["message"].as_str().unwrap();
        assert!(
            !message.contains('\u{1b}') && !message.contains('\n'),
            "{message:?}"
        );
    }
}

#[test]
fn a_null_id_is_echoed_like_any_other_value() {
    let out = crate::trainwreck()
        .arg("--serve")
        .write_stdin("{\"type\":\"tasks\",\"id\":null}\n{\"type\":\"nope\",\"id\":null}\n{\"type\":\"tasks\"}\n")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("{\"type\":\"tasks\",\"id\":null,"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("{\"type\":\"error\",\"id\":null,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("{\"type\":\"tasks\",\"data\""),
        "{}",
        lines[2]
    );
}

#[test]
fn a_crlf_line_of_exactly_the_limit_is_accepted_as_the_lf_one_is() {
    let limit = 1 << 20;
    let request = "{\"type\":\"tasks\",\"id\":\"";
    let padded = format!("{request}{}\"}}", "x".repeat(limit - request.len() - 2));
    assert_eq!(padded.len(), limit);
    for ending in ["\n", "\r\n"] {
        let replies = crate::serve_raw(&[], format!("{padded}{ending}").as_bytes());
        assert_eq!(replies[0]["type"], "tasks", "{ending:?}");
    }
    let over = format!("{request}{}\"}}\r\n", "x".repeat(limit - request.len() - 1));
    let replies = crate::serve_raw(&[], over.as_bytes());
    assert_eq!(replies[0]["data"]["code"], "LINE_TOO_LONG");
}
