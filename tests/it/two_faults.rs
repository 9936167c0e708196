//! Two-fault tasks: a run broken in two ways recovers only when both are
//! cured, the diagnosis names the root cause (the second fault earns part of
//! the credit and is told so), the debrief explains both, and `tasks check`
//! refuses a two-fault task whose second cure is not needed.

use crate::{scratch, serve, trainwreck};
use serde_json::{Value, json};

fn step(action: Value) -> Value {
    json!({"type": "step", "data": action})
}

fn restart() -> Value {
    step(json!({"action_type": "restart_run"}))
}

fn recovered(reply: &Value) -> bool {
    reply["data"]["info"]["verdict"]["recovered"] == json!(true)
}

/// Every built-in two-fault task, with its root cause and second fault.
fn two_fault_tasks() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("tasks").unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let file: toml::Value = toml::from_str(&text).unwrap();
        if let Some(second) = file.get("secondary") {
            out.push((
                file["id"].as_str().unwrap().to_string(),
                file["root_cause"].as_str().unwrap().to_string(),
                second["cause"].as_str().unwrap().to_string(),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn the_catalogue_has_at_least_three_two_fault_tasks() {
    let tasks = two_fault_tasks();
    assert!(tasks.len() >= 3, "{tasks:?}");
}

/// task_025 over `--serve`: dropping the NaN rows alone leaves a run that
/// still does not recover; lowering the learning rate as well recovers it.
#[test]
fn curing_one_fault_is_not_enough_and_curing_both_recovers() {
    for seed in [0, 1, 2] {
        let replies = serve(
            &[],
            &[
                json!({"type": "reset", "data": {"task_id": "task_025", "seed": seed}}),
                step(json!({"action_type": "patch_data_loader", "target": "drop_nan_rows"})),
                restart(),
                step(
                    json!({"action_type": "modify_config", "target": "learning_rate", "value": 0.01}),
                ),
                restart(),
            ],
        );
        assert!(!recovered(&replies[2]), "seed {seed}: {}", replies[2]);
        assert!(recovered(&replies[4]), "seed {seed}: {}", replies[4]);
    }
}

/// Naming the second fault earns part of the diagnosis credit and says what
/// it named; naming the root cause earns all of it; either way the debrief
/// explains both faults.
#[test]
fn the_diagnosis_names_the_root_cause_and_the_debrief_explains_both() {
    for (task, root, second) in two_fault_tasks() {
        let play = |label: &str| {
            serve(
                &[],
                &[
                    json!({"type": "reset", "data": {"task_id": task, "seed": 0}}),
                    step(json!({"action_type": "inspect_data_batch"})),
                    step(json!({"action_type": "mark_diagnosed", "diagnosis": label})),
                    json!({"type": "grade"}),
                ],
            )
        };
        let named_root = play(&root);
        let named_second = play(&second);
        let message = |replies: &[Value]| {
            replies[2]["data"]["observation"]["message"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert!(
            message(&named_second).contains("second fault"),
            "{task}: {}",
            message(&named_second)
        );
        let score = |replies: &[Value]| replies[3]["data"]["score"].as_f64().unwrap();
        assert!(
            score(&named_root) > score(&named_second) && score(&named_second) > 0.0,
            "{task}: root {} second {}",
            score(&named_root),
            score(&named_second)
        );
        let debrief = &named_root[3]["data"]["debrief"];
        assert_eq!(debrief["secondary"]["cause"], json!(second), "{task}");
        assert!(
            debrief["secondary"]["bug"]
                .as_str()
                .is_some_and(|b| !b.is_empty())
                && debrief["bug"].as_str().is_some_and(|b| !b.is_empty()),
            "{task}: {debrief}"
        );
    }
}

/// Write `text` as `name` and `tasks check` it: it must fail; its stderr.
fn check_fails(dir: &std::path::Path, name: &str, text: &str) -> (std::path::PathBuf, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = trainwreck()
        .args(["tasks", "check"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{name} passed tasks check");
    (path, String::from_utf8(out.stderr).unwrap())
}

/// A two-fault task whose walkthrough carries a change the run does not need
/// is refused, and so is a second fault that is not given partial credit.
#[test]
fn tasks_check_refuses_a_second_fault_that_is_not_needed() {
    let dir = scratch("two-faults");
    let good = std::fs::read_to_string("tasks/task_025.toml").unwrap();
    let good = good.replace("id = \"task_025\"", "id = \"task_x25\"");
    let (_, err) = check_fails(
        &dir,
        "unneeded.toml",
        &good.replace(
            "    { action_type = \"restart_run\" },",
            "    { action_type = \"add_callback\", target = \"early_stopping\" },\n    { action_type = \"restart_run\" },",
        ),
    );
    assert!(
        err.contains(
            "the walkthrough without its change 'add_callback:early_stopping' still recovers"
        ),
        "{err}"
    );

    let (unlisted, err) = check_fails(
        &dir,
        "unlisted.toml",
        &good.replace(
            "labels = { lr_too_high = 0.5, exploding_gradients = 0.2 }",
            "labels = { exploding_gradients = 0.2 }",
        ),
    );
    let line = good
        .lines()
        .position(|l| l.starts_with("cause = "))
        .unwrap()
        + 1;
    assert!(
        err.lines()
            .any(|l| l.contains(&format!("{}:{line}:", unlisted.display()))
                && l.contains(
                    "secondary.cause: list 'lr_too_high' in labels with a share below 1"
                )),
        "{err}"
    );
}
