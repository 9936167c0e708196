//! `trainwreck tasks` and `tasks check`: the catalogue, and task-file errors
//! that name file, line, column and field.

use crate::{scratch, trainwreck};

#[test]
fn the_catalogue_lists_the_six_origin_tasks_first() {
    let out = trainwreck().args(["tasks", "--json"]).output().unwrap();
    assert!(out.status.success());
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = list.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids.get(..6),
        Some(
            &[
                "task_001", "task_002", "task_003", "task_004", "task_005", "task_006"
            ][..]
        )
    );
    let table = trainwreck()
        .args(["tasks", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("task_006") && text.contains("Nothing works as it should"),
        "{text}"
    );
}

#[test]
fn builtin_task_files_check_clean() {
    trainwreck()
        .args(["tasks", "check", "tasks"])
        .assert()
        .success();
}

/// `--seeds` sets how many seeds each variant is played on (CI plays 40);
/// zero plays nothing and is refused.
#[test]
fn tasks_check_plays_as_many_seeds_as_asked() {
    let out = trainwreck()
        .args(["tasks", "check", "tasks/task_001.toml", "--seeds", "12"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: tasks/task_001.toml"));
    let out = trainwreck()
        .args(["tasks", "check", "tasks/task_001.toml", "--seeds", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seeds"));
}

#[test]
fn errors_name_file_line_column_and_field() {
    let dir = scratch("check");
    let good = std::fs::read_to_string("tasks/task_002.toml").unwrap();
    let bad_value = dir.join("bad_value.toml");
    std::fs::write(
        &bad_value,
        good.replace(
            "config = { learning_rate = 0.04 }",
            "config = { learning_rate = 99.0 }",
        ),
    )
    .unwrap();
    let typo = dir.join("typo.toml");
    std::fs::write(&typo, good.replace("max_steps = 20", "max_stepz = 20")).unwrap();
    let label = dir.join("label.toml");
    std::fs::write(
        &label,
        good.replace(
            "root_cause = \"vanishing_gradients\"",
            "root_cause = \"gremlins\"",
        ),
    )
    .unwrap();
    let out = trainwreck()
        .args(["tasks", "check"])
        .args([&bad_value, &typo, &label])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    let line_of =
        |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let lr_line = line_of(
        &std::fs::read_to_string(&bad_value).unwrap(),
        "learning_rate = 99.0",
    );
    assert!(
        err.contains(&format!(
            "{}:{lr_line}:28: variants[2].config.learning_rate: learning_rate must be a number in [1e-6, 10], got 99",
            bad_value.display()
        )),
        "{err}"
    );
    let typo_line = line_of(&good, "max_steps = 20");
    assert!(
        err.contains(&format!(
            "{}:{typo_line}:1: max_stepz: unknown field `max_stepz`",
            typo.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}:{}:14: root_cause: unknown diagnosis 'gremlins'",
            label.display(),
            line_of(&good, "root_cause = ")
        )),
        "{err}"
    );
}

#[test]
fn two_tasks_with_one_id_name_both_files() {
    let dir = scratch("dupe");
    std::fs::write(
        dir.join("a.toml"),
        std::fs::read_to_string("tasks/task_001.toml").unwrap(),
    )
    .unwrap();
    let out = trainwreck()
        .args(["tasks", "--tasks-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!(
            "task id 'task_001' is defined twice: builtin:task_001.toml and {}",
            dir.join("a.toml").display()
        )),
        "{err}"
    );
}
