//! The command line as a careful CLI gives it: usage errors and missing files
//! exit 2 with one plain message on stderr, counts are spelled right.

use crate::trainwreck;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = trainwreck().args(args).write_stdin("").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_task_on_the_command_line_exits_2() {
    let (code, _, err) = run(&["--task", "task_999"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: unknown task 'task_999'"), "{err}");
}

#[test]
fn a_negative_seed_is_explained() {
    let (code, _, err) = run(&["--task", "task_001", "--seed", "-1"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("the seed must be a whole number from 0 to"),
        "{err}"
    );
}

#[test]
fn missing_files_exit_2_before_anything_runs() {
    let (code, out, err) = run(&["replay", "/nonexistent.jsonl"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: /nonexistent.jsonl: no such file or directory\n"
    );
    assert!(out.is_empty(), "{out}");
    let (code, _, err) = run(&["tasks", "check", "/nonexistent.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("no such file"), "{err}");
}

#[test]
fn one_is_singular() {
    let (code, out, _) = run(&["replay", "tests/episodes/task_003_wrong_diagnosis.jsonl"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.ends_with("1 episode replayed, 0 diverged, 0 unusable\n"),
        "{out}"
    );
}
