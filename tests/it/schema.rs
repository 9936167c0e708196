//! The generated JSON Schema: the same from `schema` and `trainwreck schema`,
//! kept in docs/schema.json, describing every recorded reply, and enough on
//! its own for an agent to play every task without an invalid action.

use crate::{assert_valid_reply, serve, trainwreck, validator};
use serde_json::{Value, json};

#[test]
fn the_command_the_request_and_the_docs_agree() {
    let out = trainwreck().arg("schema").output().unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let replied = serve(&[], &[json!({"type": "schema"})]);
    assert_eq!(replied[0]["data"], printed);
    let on_disk: Value = serde_json::from_str(include_str!("../../docs/schema.json")).unwrap();
    assert_eq!(
        on_disk, printed,
        "docs/schema.json: run `trainwreck schema > docs/schema.json`"
    );
    assert_eq!(
        printed["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn every_recorded_reply_matches_the_schema() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/episodes");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().skip(1) {
            let entry: Value = serde_json::from_str(line).unwrap();
            if let Some(out) = entry.get("out") {
                assert_valid_reply(out);
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} replies");
}

#[test]
fn the_catalogue_replies_match_the_schema() {
    // Not in tests/episodes: their replies list the whole catalogue, so a
    // recording of them would change with every new task.
    let replies = serve(
        &[],
        &[
            json!({"type": "tasks"}),
            json!({"type": "schema"}),
            json!({"type": "reset", "data": {"task_id": "nope"}}),
        ],
    );
    assert_eq!(replies.len(), 3);
    for reply in &replies {
        assert_valid_reply(reply);
    }
    assert_eq!(replies[2]["data"]["code"], "UNKNOWN_TASK");
}

#[test]
fn requests_are_described_and_bad_ones_are_not() {
    let request = validator("request");
    for good in [
        json!({"type": "reset"}),
        json!({"type": "reset", "id": 3, "data": {"task_id": "task_001", "seed": 4}}),
        json!({"type": "step", "data": {"action_type": "modify_config", "target": "lr", "value": 0.001}}),
        json!({"type": "step", "data": {"action_type": "fix_code", "line": 14, "replacement": "pass"}}),
        json!({"type": "subscribe", "data": {"events": "all"}}),
    ] {
        assert!(request.is_valid(&good), "{good}");
    }
    for bad in [
        json!({"type": "step", "data": {"action_type": "fix_code", "line": 0, "replacement": "pass"}}),
        json!({"type": "step", "data": {"action_type": "modify_config", "target": "lr", "value": 50}}),
        json!({"type": "step", "data": {"action_type": "modify_config", "target": "lr"}}),
        json!({"type": "step", "data": {"action_type": "mark_diagnosed", "diagnosis": "gremlins"}}),
        json!({"type": "step", "data": {"action_type": "fly"}}),
        json!({"type": "reset", "data": {"seed": -1}}),
        json!({"type": "reset", "extra": 1}),
    ] {
        assert!(!request.is_valid(&bad), "{bad}");
    }
}

/// The constant a oneOf/enum member stands for, or the first enum member.
fn first_word(param: &Value) -> Option<Value> {
    if let Some(members) = param["oneOf"].as_array() {
        return members.first().map(|m| m["const"].clone());
    }
    param["enum"].as_array().and_then(|e| e.first().cloned())
}

/// A value the parameter's schema allows: a word, or the middle of the range.
fn value_for(param: &Value) -> Value {
    if let Some(word) = first_word(param) {
        return word;
    }
    match param["type"].as_str() {
        Some("boolean") => json!(true),
        Some("integer") => {
            let (lo, hi) = (
                param["minimum"].as_u64().unwrap(),
                param["maximum"].as_u64().unwrap_or(20),
            );
            json!(lo + (hi - lo) / 2)
        }
        Some("number") => {
            let (lo, hi) = (
                param["minimum"].as_f64().unwrap(),
                param["maximum"].as_f64().unwrap(),
            );
            json!(lo + (hi - lo) / 2.0)
        }
        _ => param["examples"][0].clone(),
    }
}

/// Build one action of each variant from the schema alone.
fn actions_from(schema: &Value) -> Vec<Value> {
    let mut actions = Vec::new();
    for variant in schema["$defs"]["action"]["oneOf"].as_array().unwrap() {
        let props = &variant["properties"];
        let mut action = json!({"action_type": props["action_type"]["const"]});
        if let Some(examples) = variant["examples"].as_array() {
            actions.push(examples[0].clone());
            continue;
        }
        let targets = variant["oneOf"].as_array();
        for key in variant["required"].as_array().unwrap() {
            let key = key.as_str().unwrap();
            if key == "action_type" {
                continue;
            }
            // modify_config: one variant per target, each with its own range.
            let param = match targets.and_then(|t| t.first()) {
                Some(target) => &target["properties"][key],
                None => &props[key],
            };
            action[key] = value_for(param);
        }
        actions.push(action);
    }
    actions
}

#[test]
fn a_schema_driven_agent_plays_every_task_without_an_invalid_action() {
    let schema = serve(&[], &[json!({"type": "schema"})]).remove(0)["data"].take();
    let actions = actions_from(&schema);
    assert_eq!(
        actions.len(),
        schema["$defs"]["action"]["oneOf"].as_array().unwrap().len()
    );
    let tasks = serve(&[], &[json!({"type": "tasks"})]).remove(0);
    for task in tasks["data"]["tasks"].as_array().unwrap() {
        // Inspections first (they make fix_code available), then every fix,
        // then restart and diagnose: one of each action type, in schema order.
        let mut lines = vec![json!({"type": "reset", "data": {"task_id": task["id"], "seed": 3}})];
        lines.extend(actions.iter().map(|a| json!({"type": "step", "data": a})));
        let replies = serve(&[], &lines);
        for (reply, action) in replies.iter().skip(1).zip(&actions) {
            if reply["data"]["observation"].is_null() {
                break;
            }
            assert_eq!(
                reply["data"]["info"]["invalid"], false,
                "{}: {action} → {reply}",
                task["id"]
            );
        }
        assert_eq!(
            replies.last().unwrap()["data"]["done"],
            true,
            "{}",
            task["id"]
        );
    }
}
