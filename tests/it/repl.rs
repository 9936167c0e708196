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
        "Set learning_rate = 0.001 (was 0.3). `restart` trains with it.",
        "The run recovered:",
        "✓ final val_accuracy",
        "Diagnosis 'lr_too_high' is right.",
        "Episode over. Score 1.00",
        "Debrief",
        "Next: play task_",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains('\u{1b}'), "colour off means no escape codes");
}

/// A two-fault task in the REPL: the first cure alone leaves the run broken,
/// and the debrief explains the second fault too.
#[test]
fn a_two_fault_debrief_explains_both_faults() {
    let out = trainwreck()
        .args(["--task", "task_025", "--seed", "4", "--color", "never"])
        .write_stdin(
            "inspect data\npatch drop_nan_rows\nrestart\nset lr 0.01\nrestart\ndiagnose nan_in_data\n",
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let not_yet = text.find("has not recovered").unwrap_or(usize::MAX);
    let recovered = text.find("The run recovered").unwrap_or(0);
    assert!(
        not_yet < recovered,
        "first cure alone must not recover:\n{text}"
    );
    for needle in [
        "Diagnosis 'nan_in_data' is right.",
        "The bug:",
        "The second fault, lr_too_high:",
        "Its fix:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
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
    // Which task comes first depends on the catalogue (the easiest category).
    assert!(first.contains("Type play task_"), "{first}");
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
        ("set lr 1e-3", "Set learning_rate = 0.001"),
        ("restart", "The run recovered:"),
        ("diagnose lr_too_high", "Debrief"),
    ] {
        session.send_line(line).unwrap();
        session.expect(answer).unwrap();
    }
    session.expect("Next: play task_").unwrap();
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
    session.expect("Set learning_rate = 0.001").unwrap();
    session.send("restart\r").unwrap();
    session.expect("training").unwrap();
    // A watched run takes about a second (paced per epoch); interrupt it early.
    std::thread::sleep(Duration::from_millis(400));
    session.send("\u{3}").unwrap();
    session.expect("Run stopped (Ctrl-C).").unwrap();
    session.expect("You stopped the run after epoch").unwrap();
    session.expect("still waiting for a full run").unwrap();
    session.send("status\r").unwrap();
    // The status line itself (the restart's reward line also says "step 2/20"),
    // then the prompt: rustyline drops keys typed before it takes the terminal.
    session.expect("step 2/20 · total reward").unwrap();
    session.expect("trainwreck> ").unwrap();
    // The change is still pending: `restart` runs it without typing it again.
    session.send("restart\r").unwrap();
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&seen).contains("step 3/20") {
        assert!(
            std::time::Instant::now() < deadline,
            "no second run:\n{}",
            String::from_utf8_lossy(&seen)
        );
        let mut buf = [0u8; 4096];
        match session.try_read(&mut buf) {
            Ok(n) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("The run recovered:"), "{text}");
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

#[test]
fn slips_of_the_keyboard_cost_no_step() {
    let out = trainwreck()
        .args(["--task", "task_006", "--seed", "0", "--color", "never"])
        .env("COLUMNS", "200")
        .write_stdin(
            "set lr abc\ndiagnose foo\noptimizer rmsprop\ncallback foo\nfix line 12 foo bar baz\n\
             restart\nset learnin_rate 0.1\ninspect code\nfix line 14 model.zero_grad()\nstatus\n",
        )
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "✗ learning_rate must be a number in [1e-6, 10], got 'abc' (no step used)",
        "✗ unknown diagnosis 'foo'",
        "✗ unknown optimizer 'rmsprop' (known: sgd, adam) (no step used)",
        "✗ unknown callback 'foo'",
        "✗ open train.py first",
        "✗ nothing has changed since the last run",
        "did you mean 'learning_rate'?",
        // What was typed is never silently rewritten.
        "Line 14 is now `optimizer.zero_grad()`. You typed `model.zero_grad()`, which does the same here",
        // Two steps: inspect code and the fix; every slip was free.
        "step 2/30",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // The REPL speaks its own commands, never the protocol's.
    for protocol in [
        "restart_run",
        "fix_code",
        "modify_config",
        "mark_diagnosed",
        "send a reset",
    ] {
        assert!(!text.contains(protocol), "{protocol} leaked into:\n{text}");
    }
}

/// The visible text of a terminal screen line: escape sequences removed.
fn visible(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                for next in chars.by_ref() {
                    if next != '[' && ('@'..='~').contains(&next) {
                        break;
                    }
                }
            }
            continue;
        }
        if c != '\r' {
            out.push(c);
        }
    }
    out
}

/// Every table in `text` has its right border in one column on every line.
fn assert_borders_align(text: &str) {
    let mut table: Vec<String> = Vec::new();
    let mut tables = 0;
    for line in text.lines().map(visible) {
        let trimmed = line.trim_end();
        if trimmed.starts_with('┌') {
            table.clear();
        }
        if ['┌', '│', '╞', '├', '└']
            .iter()
            .any(|c| trimmed.starts_with(*c))
        {
            table.push(trimmed.to_string());
        }
        if trimmed.starts_with('└') {
            tables += 1;
            let widths: Vec<usize> = table.iter().map(|l| l.chars().count()).collect();
            assert!(
                widths.iter().all(|w| *w == widths[0]),
                "ragged right border {widths:?}:\n{}",
                table.join("\n")
            );
            let right: Vec<char> = table.iter().filter_map(|l| l.chars().last()).collect();
            assert!(
                right.iter().all(|c| ['┐', '│', '╡', '┤', '┘'].contains(c)),
                "right border broken: {right:?}"
            );
            table.clear();
        }
    }
    assert!(tables >= 3, "expected tables in:\n{text}");
}

#[test]
fn a_coloured_terminal_session_keeps_every_table_aligned() {
    let data = scratch("pty-colour");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_trainwreck"));
    cmd.args(["--task", "task_005", "--seed", "2", "--color", "always"])
        .env("TRAINWRECK_DATA_DIR", &data)
        .env("TERM", "xterm-256color");
    let mut session = expectrl::Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    session.expect("trainwreck> ").unwrap();
    let mut screen = String::new();
    for (line, answer) in [
        ("inspect gradients", "reward"),
        ("inspect modes", "reward"),
        ("inspect data", "reward"),
        ("inspect weights", "reward"),
        ("tasks", "task_006"),
        ("fix modes", "reward"),
        ("restart", "reward"),
        ("diagnose batchnorm_eval_mode", "Debrief"),
    ] {
        session.send(format!("{line}\r")).unwrap();
        let found = session.expect(answer).unwrap();
        screen.push_str(&String::from_utf8_lossy(found.before()));
        screen.push_str(&String::from_utf8_lossy(found.as_bytes()));
        // Wait for the prompt: keys typed before it are dropped.
        let found = session.expect("trainwreck> ").unwrap();
        screen.push_str(&String::from_utf8_lossy(found.before()));
    }
    assert!(screen.contains("\u{1b}["), "colour was on");
    assert_borders_align(&screen);
    session.send("quit\r").unwrap();
    session.expect(expectrl::Eof).unwrap();
}

/// The README's session is the binary's real output: each part between `…`
/// lines appears, verbatim and in order, in a fresh run of the same command.
#[test]
fn the_readme_session_is_real_output() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let after = readme.split("Real output (").nth(1).unwrap();
    let block = after
        .split("```text\n")
        .nth(1)
        .unwrap()
        .split("\n```")
        .next()
        .unwrap();
    let typed: String = block
        .lines()
        .filter_map(|l| l.strip_prefix("trainwreck> "))
        .map(|l| format!("{l}\n"))
        .collect();
    let out = trainwreck()
        .args(["--task", "task_002", "--seed", "4", "--color", "never"])
        .env("COLUMNS", "80")
        .write_stdin(typed)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut from = 0;
    for part in block.split("\n…\n") {
        let at = text[from..]
            .find(part)
            .unwrap_or_else(|| panic!("README part not in the output:\n{part}\n---\n{text}"));
        from += at + part.len();
    }
}
