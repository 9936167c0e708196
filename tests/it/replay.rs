//! Recording sessions and replaying them: match, divergence located by line
//! and JSON path, and unusable recordings said to be unusable.

use crate::{scratch, trainwreck};
use serde_json::json;
use std::path::{Path, PathBuf};

fn record_serve(dir: &Path, extra: &[&str]) -> PathBuf {
    let file = dir.join("serve.jsonl");
    let lines = [
        json!({"type": "reset", "data": {"task_id": "task_001", "seed": 5}}),
        json!({"type": "subscribe", "data": {"events": "all"}}),
        json!({"type": "step", "data": {"action_type": "inspect_gradients"}}),
        json!({"type": "step", "data": {"action_type": "modify_config", "target": "lr", "value": 0.001}}),
        json!({"type": "step", "data": {"action_type": "restart_run"}}),
        json!({"type": "step", "data": {"action_type": "mark_diagnosed", "diagnosis": "lr_too_high"}}),
    ];
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect::<String>() + "not json\n";
    trainwreck()
        .args(["--serve", "--record"])
        .arg(&file)
        .args(extra)
        .write_stdin(input)
        .assert()
        .success();
    file
}

/// Exit code, stdout (results and summary) and stderr (diagnostics).
fn replay_split(paths: &[&Path], extra: &[&str]) -> (i32, String, String) {
    let out = trainwreck()
        .arg("replay")
        .args(paths)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Exit code and everything printed.
fn replay(paths: &[&Path], extra: &[&str]) -> (i32, String) {
    let (code, out, err) = replay_split(paths, extra);
    (code, out + &err)
}

#[test]
fn serve_and_repl_recordings_replay_clean() {
    let dir = scratch("replay-ok");
    let serve_file = record_serve(&dir, &[]);
    let repl_file = dir.join("repl.jsonl");
    trainwreck()
        .args(["--task", "task_003", "--seed", "2", "--record"])
        .arg(&repl_file)
        .write_stdin("inspect data\npatch data\nrestart\ndiagnose data_leakage\n")
        .assert()
        .success();
    let (code, out, err) = replay_split(&[&serve_file, &repl_file], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.ends_with("2 episodes replayed, 0 diverged, 0 unusable\n"),
        "{out}"
    );
    assert_eq!(err, "");
    let (_, out, _) = replay_split(&[&serve_file], &[]);
    assert!(
        out.ends_with("1 episode replayed, 0 diverged, 0 unusable\n"),
        "{out}"
    );
}

#[test]
fn a_changed_number_is_a_divergence_located_by_line_and_path() {
    let dir = scratch("replay-diverge");
    let file = record_serve(&dir, &[]);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = lines
        .iter()
        .position(|l| l.contains("\"gradient_stats\":[{"))
        .unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&lines[at]).unwrap();
    let recorded = value["out"]["data"]["observation"]["gpu_memory_used_gb"].clone();
    value["out"]["data"]["observation"]["gpu_memory_used_gb"] = json!(1.5);
    lines[at] = value.to_string();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (code, out, err) = replay_split(&[&file], &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.starts_with(&format!(
            "{}:{}: diverged at $.data.observation.gpu_memory_used_gb\n",
            file.display(),
            at + 1
        )),
        "{err}"
    );
    assert!(
        err.contains("expected: 1.5") && err.contains(&format!("actual:   {recorded}\n")),
        "{err}"
    );
    assert!(
        out.ends_with("1 episode replayed, 1 diverged, 0 unusable\n"),
        "{out}"
    );

    // The same for GitHub: an annotation on stdout, one line per finding.
    let (code, out, err) = replay_split(&[&file], &["--format", "github"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err, "");
    let annotation = format!(
        "::error file={},line={},title=diverged::diverged at $.data.observation.gpu_memory_used_gb%0A  expected: 1.5%0A  actual:   {recorded}\n",
        file.display(),
        at + 1
    );
    assert!(out.starts_with(&annotation), "{out}");
    assert!(
        out.ends_with("1 episode replayed, 1 diverged, 0 unusable\n"),
        "{out}"
    );

    // And JUnit.
    let junit = dir.join("report.xml");
    let (code, _, _) = replay_split(&[&file], &["--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuite name="recordings" tests="1" failures="1" errors="0">"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<failure type="diverged" message="diverged at $.data.observation.gpu_memory_used_gb">"#), "{xml}");
}

#[test]
fn truncated_foreign_and_future_recordings_are_unusable() {
    let dir = scratch("replay-unusable");
    let file = record_serve(&dir, &[]);
    let text = std::fs::read_to_string(&file).unwrap();
    let cut = dir.join("cut.jsonl");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let (code, out) = replay(&[&cut], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("unusable: cut off: the file ends inside this line"),
        "{out}"
    );

    // Cut at a line boundary (`head -5`), and the header alone: cut off, named by line.
    for keep in [5, 1] {
        let head = dir.join(format!("head{keep}.jsonl"));
        let lines: String = text.lines().take(keep).map(|l| format!("{l}\n")).collect();
        std::fs::write(&head, lines).unwrap();
        let (code, out, err) = replay_split(&[&head], &[]);
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            err.starts_with(&format!(
                "{}:{keep}: unusable: cut off: no end-of-recording trailer",
                head.display()
            )),
            "{err}"
        );
        assert!(!err.contains("diverged"), "{err}");
    }

    let foreign = dir.join("foreign.jsonl");
    std::fs::write(&foreign, "{\"hello\": 1}\n").unwrap();
    let (code, out) = replay(&[&foreign], &[]);
    assert_eq!(code, 2);
    assert!(out.contains("not a recording header"), "{out}");

    let future = dir.join("future.jsonl");
    std::fs::write(&future, text.replacen("\"version\":2", "\"version\":99", 1)).unwrap();
    let (code, out) = replay(&[&future], &[]);
    assert_eq!(code, 2);
    assert!(out.contains("format version 99 is unknown"), "{out}");

    // Version 1 hashed every loaded task in its header; its files are re-recorded.
    let old = dir.join("old.jsonl");
    std::fs::write(&old, text.replacen("\"version\":2", "\"version\":1", 1)).unwrap();
    let (code, out) = replay(&[&old], &[]);
    assert_eq!(code, 2);
    assert!(
        out.contains("format version 1 is older than this program reads (2): re-record it"),
        "{out}"
    );
}

#[test]
fn an_edited_task_file_makes_its_recordings_unusable() {
    let dir = scratch("replay-task");
    let tasks = dir.join("tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    let original = std::fs::read_to_string("tasks/task_001.toml")
        .unwrap()
        .replace("task_001", "custom_lr");
    std::fs::write(tasks.join("custom.toml"), &original).unwrap();
    let file = dir.join("custom.jsonl");
    trainwreck()
        .args(["--serve", "--tasks-dir"])
        .arg(&tasks)
        .arg("--record")
        .arg(&file)
        .write_stdin(format!(
            "{}\n",
            json!({"type": "reset", "data": {"task_id": "custom_lr", "seed": 1}})
        ))
        .assert()
        .success();
    let tasks_arg = tasks.to_str().unwrap();
    assert_eq!(replay(&[&file], &["--tasks-dir", tasks_arg]).0, 0);
    std::fs::write(
        tasks.join("custom.toml"),
        original.replace("gpu_memory_total_gb = 16.0", "gpu_memory_total_gb = 24.0"),
    )
    .unwrap();
    let (code, out) = replay(&[&file], &["--tasks-dir", tasks_arg]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("task custom_lr changed since the recording (recorded "),
        "{out}"
    );
}

#[test]
fn replaying_nothing_is_an_error() {
    let (code, out, err) = replay_split(&[], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("nothing to replay"), "{err}");
    let empty = scratch("replay-empty");
    let (code, _, err) = replay_split(&[&empty], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no recordings (.jsonl files) in"), "{err}");
}

#[test]
fn a_recording_made_with_a_tasks_dir_names_its_task_when_the_dir_is_missing() {
    let dir = scratch("replay-missing-task");
    let tasks = custom_lr_tasks(&dir);
    let file = dir.join("custom.jsonl");
    trainwreck()
        .args(["--serve", "--tasks-dir"])
        .arg(&tasks)
        .arg("--record")
        .arg(&file)
        .write_stdin(format!(
            "{}\n",
            json!({"type": "reset", "data": {"task_id": "custom_lr", "seed": 1}})
        ))
        .assert()
        .success();
    let (code, out, err) = replay_split(&[&file], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.starts_with(&format!(
            "{}:2: unusable: unknown task 'custom_lr'",
            file.display()
        )),
        "{err}"
    );
}

#[test]
fn walkthroughs_replay_for_every_task() {
    let (code, out) = replay(&[], &["--walkthroughs"]);
    assert_eq!(code, 0, "{out}");
    for id in [
        "task_001", "task_002", "task_003", "task_004", "task_005", "task_006",
    ] {
        assert!(
            out.contains(&format!("ok: walkthrough {id} ")),
            "{id}: {out}"
        );
    }
    assert!(out.contains("walkthroughs: 0 failed"));
}

#[test]
fn the_recorded_episodes_replay() {
    // `cargo test` alone catches drift in tests/episodes (not only .ci/run).
    let (code, out, err) = replay_split(&[Path::new("tests/episodes")], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(" diverged, 0 unusable"), "{out}");
    assert_eq!(err, "");
}

/// A serve session of `lines` recorded to `file` with the built-in tasks.
fn record_lines(file: &Path, lines: &[serde_json::Value]) {
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    trainwreck()
        .args(["--serve", "--record"])
        .arg(file)
        .write_stdin(input)
        .assert()
        .success();
}

#[test]
fn a_new_task_leaves_recordings_replayable_unless_a_mystery_now_draws_it() {
    let dir = scratch("replay-unrelated");
    // A second lr_too_high task: same category, so only that category's
    // mystery draws can change.
    let tasks = custom_lr_tasks(&dir);
    let tasks_arg = tasks.to_str().unwrap();

    let played = dir.join("task_002.jsonl");
    record_lines(
        &played,
        &[
            json!({"type": "reset", "data": {"task_id": "task_002", "seed": 1}}),
            json!({"type": "step", "data": {"action_type": "inspect_gradients"}}),
        ],
    );
    let (code, out) = replay(&[&played], &["--tasks-dir", tasks_arg]);
    assert_eq!(code, 0, "{out}");

    // Mystery seeds whose draw the new task leaves alone, and one it takes.
    let before = trainwreck::task::TaskSet::builtin().unwrap();
    let after = trainwreck::task::TaskSet::with_dirs(&[&tasks]).unwrap();
    let pick = trainwreck::task::catalogue::mystery_pick;
    let same = (0..200)
        .find(|s| pick(&before, *s) == pick(&after, *s))
        .unwrap();
    let moved = (0..2000)
        .find(|s| pick(&after, *s).as_deref() == Some("custom_lr"))
        .unwrap();
    let was = pick(&before, moved).unwrap();
    for (seed, name) in [(same, "same"), (moved, "moved")] {
        record_lines(
            &dir.join(format!("mystery_{name}.jsonl")),
            &[json!({"type": "reset", "data": {"task_id": "mystery", "seed": seed}})],
        );
    }
    let (code, out) = replay(
        &[&dir.join("mystery_same.jsonl")],
        &["--tasks-dir", tasks_arg],
    );
    assert_eq!(code, 0, "{out}");
    let moved_file = dir.join("mystery_moved.jsonl");
    let (code, _, err) = replay_split(&[&moved_file], &["--tasks-dir", tasks_arg]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with(&format!(
            "{}:2: unusable: this reset played task {was} when it was recorded and plays task custom_lr now",
            moved_file.display()
        )),
        "{err}"
    );
    // Without the new task it replays: the draw is the recorded one again.
    assert_eq!(replay(&[&moved_file], &[]).0, 0);
}

/// A task directory under `dir` holding `custom_lr`, a copy of task_001 under
/// another id (the same category, lr_too_high).
fn custom_lr_tasks(dir: &std::path::Path) -> std::path::PathBuf {
    let tasks = dir.join("tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    let text = std::fs::read_to_string("tasks/task_001.toml")
        .unwrap()
        .replace("task_001", "custom_lr");
    std::fs::write(tasks.join("custom.toml"), text).unwrap();
    tasks
}
