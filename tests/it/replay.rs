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

fn replay(paths: &[&Path], extra: &[&str]) -> (i32, String) {
    let out = trainwreck()
        .arg("replay")
        .args(paths)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
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
    let (code, out) = replay(&[&serve_file, &repl_file], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.ends_with("2 episodes replayed, 0 diverged, 0 unusable\n"),
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
    value["out"]["data"]["observation"]["gpu_memory_used_gb"] = json!(1.5);
    lines[at] = value.to_string();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (code, out) = replay(&[&file], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "line {}: at $.data.observation.gpu_memory_used_gb",
            at + 1
        )),
        "{out}"
    );
    assert!(
        out.contains("expected: 1.5") && out.contains("actual:   6.2"),
        "{out}"
    );
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
    assert!(out.contains("incomplete: line"), "{out}");

    let foreign = dir.join("foreign.jsonl");
    std::fs::write(&foreign, "{\"hello\": 1}\n").unwrap();
    let (code, out) = replay(&[&foreign], &[]);
    assert_eq!(code, 2);
    assert!(out.contains("not a recording header"), "{out}");

    let future = dir.join("future.jsonl");
    std::fs::write(&future, text.replacen("\"version\":1", "\"version\":99", 1)).unwrap();
    let (code, out) = replay(&[&future], &[]);
    assert_eq!(code, 2);
    assert!(out.contains("format version 99 is unknown"), "{out}");
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
        original.replace("gpu_memory_used_gb = 6.2", "gpu_memory_used_gb = 6.3"),
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
