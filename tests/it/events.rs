//! Training lifecycle events over `--serve` (seed 001): the three shapes of a
//! run, payload types, subscription filtering and ordering.

use crate::serve;
use serde_json::{Value, json};

fn events(replies: &[Value]) -> Vec<&Value> {
    replies
        .iter()
        .filter(|r| r["type"] == "event")
        .map(|r| &r["data"])
        .collect()
}

fn names(events: &[&Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

fn subscribe_all() -> Value {
    json!({"type": "subscribe", "data": {"events": "all"}})
}

#[test]
fn a_converging_restart_gives_started_progress_completed() {
    let replies = serve(
        &[],
        &[
            json!({"type": "reset", "data": {"task_id": "task_001", "seed": 42}}),
            subscribe_all(),
            json!({"type": "step", "id": 9, "data": {"action_type": "modify_config", "target": "lr", "value": 0.001}}),
            json!({"type": "step", "id": 10, "data": {"action_type": "restart_run"}}),
        ],
    );
    let evs = events(&replies);
    let mut expected = vec!["training_started".to_string()];
    expected.extend(std::iter::repeat_n("training_progress".to_string(), 20));
    expected.push("training_completed".into());
    assert_eq!(names(&evs), expected);

    let started = evs[0];
    assert!(started["run_id"].is_string() && started["task_id"] == "task_001");
    assert_eq!(started["num_epochs"], 20);
    assert!(
        started["config"].is_object() && started["start_time"].as_str().unwrap().ends_with('Z')
    );
    for (i, p) in evs[1..21].iter().enumerate() {
        assert_eq!(p["epoch"], i + 1);
        assert_eq!(p["total_epochs"], 20);
        for key in [
            "train_loss",
            "val_loss",
            "val_accuracy",
            "grad_norm",
            "learning_rate",
            "elapsed_time",
        ] {
            assert!(p[key].is_f64(), "{key} in {p}");
        }
    }
    let done = evs[21];
    assert_eq!(done["epochs_completed"], 20);
    for key in ["train_loss", "val_loss", "val_accuracy"] {
        assert!(done["final_metrics"][key].is_f64());
    }
    // Events come before the reply of the request that caused the run, with its id.
    let last = replies.last().unwrap();
    assert_eq!(last["type"], "observation");
    assert_eq!(last["id"], 10);
    assert!(
        replies
            .iter()
            .filter(|r| r["type"] == "event")
            .all(|r| r["id"] == 10)
    );
}

#[test]
fn early_stopping_gives_stopped_with_the_epoch_count() {
    let replies = serve(
        &["--events"],
        &[
            json!({"type": "reset", "data": {"task_id": "task_004", "seed": 1}}),
            json!({"type": "step", "data": {"action_type": "add_callback", "target": "early_stopping"}}),
            json!({"type": "step", "data": {"action_type": "restart_run"}}),
        ],
    );
    let all = events(&replies);
    let restart: Vec<&Value> = all
        .iter()
        .skip_while(|e| e["event"] != "training_completed")
        .skip(1)
        .copied()
        .collect();
    let n = names(&restart);
    assert_eq!(n.first().map(String::as_str), Some("training_started"));
    let k = n.iter().filter(|e| *e == "training_progress").count();
    assert!(k < 20, "early stopping should stop before the end, ran {k}");
    let stopped = restart.last().unwrap();
    assert_eq!(stopped["event"], "training_stopped");
    assert_eq!(stopped["epochs_completed"], k);
    assert!(
        stopped["reason"]
            .as_str()
            .unwrap()
            .starts_with("early_stopping")
    );
}

#[test]
fn a_diverging_run_ends_with_an_error_naming_the_epoch() {
    let replies = serve(
        &[],
        &[
            subscribe_all(),
            json!({"type": "reset", "data": {"task_id": "task_001", "seed": 42}}),
        ],
    );
    let evs = events(&replies);
    let n = names(&evs);
    assert_eq!(n.first().map(String::as_str), Some("training_started"));
    assert_eq!(n.last().map(String::as_str), Some("training_error"));
    let progress: Vec<&&Value> = evs
        .iter()
        .filter(|e| e["event"] == "training_progress")
        .collect();
    let failing_epoch = progress.last().unwrap()["epoch"].as_u64().unwrap();
    assert!(
        progress.last().unwrap()["train_loss"].is_null(),
        "the failing epoch's loss is not finite"
    );
    let error = evs.last().unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&format!("epoch {failing_epoch}")),
        "{error}"
    );
    assert!(error["details"].is_string());
}

#[test]
fn events_go_only_to_subscribers_of_them() {
    let unsubscribed = serve(
        &[],
        &[json!({"type": "reset", "data": {"task_id": "task_002"}})],
    );
    assert_eq!(unsubscribed.len(), 1);
    let progress_only = serve(
        &[],
        &[
            json!({"type": "subscribe", "data": {"events": ["training_progress"]}}),
            json!({"type": "reset", "data": {"task_id": "task_002"}}),
        ],
    );
    assert_eq!(
        progress_only[0]["data"]["events"],
        json!(["training_progress"])
    );
    let n = names(&events(&progress_only));
    assert_eq!(n.len(), 20);
    assert!(n.iter().all(|e| e == "training_progress"));
    let after_unsubscribe = serve(
        &["--events"],
        &[
            json!({"type": "unsubscribe"}),
            json!({"type": "reset", "data": {"task_id": "task_002"}}),
        ],
    );
    assert!(events(&after_unsubscribe).is_empty());
    let bad = serve(
        &[],
        &[json!({"type": "subscribe", "data": {"events": ["training_exploded"]}})],
    );
    assert_eq!(bad[0]["data"]["code"], "VALIDATION_ERROR");
}
