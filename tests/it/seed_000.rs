//! The origin's WebSocket test suite (shared/seeds/000), assertion for
//! assertion, with each message sent as a line to `--serve`.

use crate::serve;
use serde_json::{Value, json};

fn reset(data: Option<Value>) -> Value {
    match data {
        Some(d) => json!({"type": "reset", "data": d}),
        None => json!({"type": "reset"}),
    }
}

fn step(action: Value) -> Value {
    json!({"type": "step", "data": action})
}

fn obs(reply: &Value) -> &Value {
    assert_eq!(reply["type"], "observation", "{reply}");
    &reply["data"]["observation"]
}

#[test]
fn ws_endpoint_exists() {
    // The origin checks for a /ws route; here the endpoint is --serve itself,
    // and it must answer a request with exactly one reply line.
    let replies = serve(&[], &[json!({"type": "tasks"})]);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["type"], "tasks");
}

#[test]
fn ws_reset_returns_observation() {
    let replies = serve(&[], &[reset(None)]);
    assert_eq!(replies[0]["type"], "observation");
    let o = obs(&replies[0]);
    assert_eq!(o["training_loss_history"].as_array().unwrap().len(), 20);
    assert_eq!(o["val_accuracy_history"].as_array().unwrap().len(), 20);
    assert_eq!(o["val_loss_history"].as_array().unwrap().len(), 20);
    assert_eq!(o["framework"], "pytorch");
    assert_eq!(o["epoch"], 20);
    assert!(!o["available_actions"].as_array().unwrap().is_empty());
    assert_eq!(o["episode_state"]["step_count"], 0);
}

#[test]
fn ws_reset_with_task_selection() {
    let replies = serve(
        &[],
        &[reset(Some(json!({"task_id": "task_003", "seed": 42})))],
    );
    assert_eq!(replies[0]["type"], "observation");
    let o = obs(&replies[0]);
    assert!(
        o["notes"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("architecture upgraded")
    );
    assert!(o["error_log"].is_null());
}

#[test]
fn ws_task_selection_all_tasks() {
    for task_id in [
        "task_001", "task_002", "task_003", "task_004", "task_005", "task_006",
    ] {
        let replies = serve(&[], &[reset(Some(json!({"task_id": task_id, "seed": 42})))]);
        assert_eq!(replies[0]["type"], "observation", "{task_id} failed reset");
        let o = obs(&replies[0]);
        assert_eq!(
            o["training_loss_history"].as_array().unwrap().len(),
            20,
            "{task_id} missing loss history"
        );
    }
}

#[test]
fn ws_step_inspect_gradients() {
    let replies = serve(
        &[],
        &[
            reset(None),
            step(json!({"action_type": "inspect_gradients"})),
        ],
    );
    let o = obs(&replies[1]);
    let grads = o["gradient_stats"].as_array().unwrap();
    assert_eq!(grads.len(), 4);
    assert_eq!(o["episode_state"]["gradients_inspected"], true);
    for g in grads {
        for key in ["layer_name", "mean_norm", "is_exploding", "is_vanishing"] {
            assert!(g.get(key).is_some(), "missing {key}");
        }
    }
}

#[test]
fn ws_full_episode_flow() {
    let replies = serve(
        &[],
        &[
            reset(Some(json!({"task_id": "task_001", "seed": 42}))),
            step(json!({"action_type": "inspect_gradients"})),
            step(
                json!({"action_type": "modify_config", "target": "learning_rate", "value": 0.001}),
            ),
            step(json!({"action_type": "restart_run"})),
            step(json!({"action_type": "mark_diagnosed", "diagnosis": "lr_too_high"})),
        ],
    );
    assert!(!obs(&replies[0])["error_log"].is_null());
    assert!(
        obs(&replies[1])["gradient_stats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["is_exploding"] == true)
    );
    assert_eq!(obs(&replies[2])["episode_state"]["fix_action_taken"], true);
    assert_eq!(obs(&replies[3])["episode_state"]["restart_after_fix"], true);
    let done = replies[4]["data"]["done"].as_bool().unwrap_or(false);
    assert!(done || obs(&replies[4])["episode_state"]["diagnosis_submitted"] == true);
}

#[test]
fn ws_task_005_red_herrings() {
    let replies = serve(
        &[],
        &[
            reset(Some(json!({"task_id": "task_005", "seed": 42}))),
            step(json!({"action_type": "inspect_gradients"})),
            step(json!({"action_type": "inspect_model_modes"})),
        ],
    );
    let o = obs(&replies[0]);
    assert!(!o["error_log"].is_null());
    assert!(o["gpu_memory_used_gb"].as_f64().unwrap() > 14.0);
    for g in obs(&replies[1])["gradient_stats"].as_array().unwrap() {
        assert_eq!(g["is_exploding"], false, "{g}");
    }
    let modes = obs(&replies[2])["model_mode_info"].as_object().unwrap();
    assert!(modes.values().any(|v| v == "eval"));
}

#[test]
fn ws_task_006_code_inspection() {
    let replies = serve(
        &[],
        &[
            reset(Some(json!({"task_id": "task_006", "seed": 42}))),
            step(json!({"action_type": "inspect_code"})),
        ],
    );
    let snippet = &obs(&replies[1])["code_snippet"];
    assert!(!snippet.is_null());
    assert_eq!(snippet["filename"], "train.py");
    assert!(snippet["line_count"].as_u64().unwrap() > 0);
}

#[test]
fn ws_invalid_message_returns_error() {
    let replies = serve(
        &[],
        &[
            reset(None),
            json!({"type": "step", "action": {"action_type": "inspect_gradients"}}),
        ],
    );
    assert_eq!(replies[1]["type"], "error");
}

#[test]
fn ws_step_data_batch() {
    let replies = serve(
        &[],
        &[
            reset(None),
            step(json!({"action_type": "inspect_data_batch"})),
        ],
    );
    let o = obs(&replies[1]);
    assert!(!o["data_batch_stats"].is_null());
    assert!(o["data_batch_stats"].get("class_overlap_score").is_some());
    assert_eq!(o["episode_state"]["data_inspected"], true);
}
