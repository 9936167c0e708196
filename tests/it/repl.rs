//! The human game: a piped session is a readable transcript, and a real
//! terminal (pty) plays task_001 to the debrief.

use crate::{scratch, trainwreck};
use expectrl::Expect;
use std::time::Duration;

#[test]
fn a_piped_session_prints_a_complete_transcript() {
    let out = trainwreck()
        .args(["--task", "task_001", "--seed", "1", "--color", "never"])
        .write_stdin("inspect gradients\nset lr 1e-3\nrestart\ndiagnose lr_too_high\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "task_001 · The loss that went to NaN · seed 1",
        "trainwreck> inspect gradients",
        "exploding",
        "trainwreck> set lr 1e-3",
        "Set learning_rate = 0.001.",
        "The run recovered.",
        "Diagnosis 'lr_too_high' is right.",
        "Episode over. Score 1.00",
        "Debrief",
        "Next: play task_002",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains('\u{1b}'), "colour off means no escape codes");
}

#[test]
fn mistakes_cost_nothing_and_suggest() {
    let out = trainwreck()
        .args(["--task", "task_002", "--seed", "1", "--color", "never"])
        .write_stdin("inspekt gradients\nset lr\nstatus\nhelp fix\n")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("unknown command 'inspekt'; did you mean 'inspect'?"),
        "{text}"
    );
    assert!(text.contains("usage: set <target> <value>"), "{text}");
    assert!(text.contains("step 0/20 · total reward +0.00"), "{text}");
    assert!(text.contains("fix line <n> <code>"), "{text}");
}

#[test]
fn the_welcome_lists_tasks_and_progress_is_kept() {
    let data = scratch("progress");
    let run = |input: &str| {
        let out = trainwreck()
            .env("TRAINWRECK_DATA_DIR", &data)
            .args(["--color", "never"])
            .write_stdin(input.to_string())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let first =
        run("play task_003 4\ninspect data\npatch data\nrestart\ndiagnose data_leakage\nquit\n");
    assert!(first.contains("Type play task_001 to begin"), "{first}");
    assert!(first.contains("Episode over. Score 1.00"), "{first}");
    let second = run("tasks\n");
    assert!(second.contains("1.00 solved"), "{second}");
}

#[test]
fn a_terminal_session_plays_task_001_to_the_debrief() {
    let data = scratch("pty");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_trainwreck"));
    cmd.args(["--task", "task_001", "--seed", "3", "--color", "never"])
        .env("TRAINWRECK_DATA_DIR", &data)
        .env("TERM", "xterm");
    let mut session = expectrl::Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    session.expect("trainwreck> ").unwrap();
    for (line, answer) in [
        ("inspect gradients", "exploding"),
        ("set lr 1e-3", "Set learning_rate = 0.001."),
        ("restart", "The run recovered."),
        ("diagnose lr_too_high", "Debrief"),
    ] {
        session.send_line(line).unwrap();
        session.expect(answer).unwrap();
    }
    session.expect("Next: play task_002").unwrap();
    session.send_line("quit").unwrap();
    session.expect(expectrl::Eof).unwrap();
}

#[test]
fn ctrl_c_during_a_watched_run_stops_the_run_not_the_game() {
    let data = scratch("pty-ctrl-c");
    let record = data.join("interrupted.jsonl");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_trainwreck"));
    cmd.args([
        "--task", "task_001", "--seed", "3", "--color", "never", "--record",
    ])
    .arg(&record)
    .env("TRAINWRECK_DATA_DIR", &data)
    .env("TERM", "xterm");
    let mut session = expectrl::Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    session.expect("trainwreck> ").unwrap();
    // Lines are typed as a keyboard does: Enter is a carriage return.
    session.send("set lr 1e-3\r").unwrap();
    session.expect("Set learning_rate = 0.001.").unwrap();
    session.send("restart\r").unwrap();
    session.expect("training").unwrap();
    // A watched run takes about a second (paced per epoch); interrupt it early.
    std::thread::sleep(Duration::from_millis(400));
    session.send("\u{3}").unwrap();
    session.expect("Run stopped (Ctrl-C).").unwrap();
    session.expect("The run stopped after epoch").unwrap();
    session.send("status\r").unwrap();
    session.expect("step 2/20").unwrap();
    // The recording is flushed line by line: the stop is in it already.
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(text.contains(r#""event":"training_stopped""#), "{text}");
    assert!(text.contains("interrupted by the user"), "{text}");
    session.send("quit\r").unwrap();
    // Wait for a clean exit: the recording's trailer is written on the way out.
    session.expect(expectrl::Eof).unwrap();
    drop(session);
    // The recorded interrupt replays: the run stops at the same epoch.
    let out = crate::trainwreck()
        .arg("replay")
        .arg(&record)
        .output()
        .unwrap();
    let verdict =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        verdict.contains("1 episode replayed, 0 diverged, 0 unusable"),
        "{verdict}"
    );
}
