//! `--serve` as a script would use it: determinism, hostile input, ids,
//! scripted episodes, and stdout hygiene.

use crate::{serve, serve_raw, trainwreck};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

fn reset(task: &str, seed: u64) -> Value {
    json!({"type": "reset", "data": {"task_id": task, "seed": seed}})
}

fn step(action: Value) -> Value {
    json!({"type": "step", "data": action})
}

fn raw_lines(input: &str) -> Vec<String> {
    let out = trainwreck()
        .arg("--serve")
        .write_stdin(input)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn same_task_and_seed_give_byte_identical_observations() {
    let line = format!("{}\n", reset("task_004", 7));
    let a = raw_lines(&line);
    let b = raw_lines(&line);
    assert_eq!(a, b);
    let other = raw_lines(&format!("{}\n", reset("task_004", 8)));
    assert_ne!(a, other, "another seed must give another run");
}

#[test]
fn hostile_lines_get_specific_errors_and_the_session_goes_on() {
    let mut input = Vec::new();
    let mut push = |line: &[u8]| {
        input.extend_from_slice(line);
        input.push(b'\n');
    };
    push(br#"{"type":"step","data":{"action_type":"inspect_code"}}"#); // before any reset
    push(b"this is not json");
    push(b"[1, 2, 3]");
    push(br#"{"type":"teleport"}"#);
    push(br#"{"type":"step"}"#);
    push(br#"{"type":"reset","data":{"task_id":"task_001"},"extra":1}"#);
    push(br#"{"type":"reset","data":{"seed":"seven"}}"#);
    push(br#"{"type":"reset","data":{"seed":-3}}"#);
    push(br#"{"type":"reset","data":{"seed":1e999}}"#);
    push(br#"{"type":"reset","data":{"task_id":"task_999"}}"#);
    push(b"\xff\xfe\xfd");
    push(b"");
    push(&vec![b'x'; 50 * 1024 * 1024]);
    push(br#"{"type":"reset","data":{"task_id":"task_002","seed":1}}"#);
    push(br#"{"type":"step","data":{"action_type":"modify_config","target":"learning_rate","value":-1}}"#);
    push(br#"{"type":"step","data":{"action_type":"modify_config","target":"learning_rate","value":1e308}}"#);
    push(br#"{"type":"step","data":{"action_type":"fix_code","line":3,"replacement":"pass"}}"#);
    push(br#"{"type":"step","data":{"action_type":"summon_gpu"}}"#);
    push(br#"{"type":"step","data":{"action_type":"mark_diagnosed","diagnosis":"overfitting"}}"#);
    push(br#"{"type":"step","data":{"action_type":"inspect_code"}}"#); // after done
    push(br#"{"type":"reset","data":{"task_id":"task_001","seed":1}}"#);
    let replies = serve_raw(&[], &input);
    let codes: Vec<String> = replies
        .iter()
        .map(|r| match r["type"].as_str() {
            Some("error") => r["data"]["code"].as_str().unwrap().to_string(),
            Some("observation") if r["data"]["info"]["invalid"] == true => "invalid-step".into(),
            Some(other) => other.to_string(),
            None => panic!("no type: {r}"),
        })
        .collect();
    assert_eq!(
        codes,
        [
            "NO_EPISODE",
            "INVALID_JSON",
            "VALIDATION_ERROR",
            "UNKNOWN_TYPE",
            "VALIDATION_ERROR",
            "VALIDATION_ERROR",
            "VALIDATION_ERROR",
            "VALIDATION_ERROR",
            "INVALID_JSON",
            "UNKNOWN_TASK",
            "INVALID_JSON",
            "LINE_TOO_LONG",
            "observation",
            "invalid-step",
            "invalid-step",
            "invalid-step",
            "invalid-step",
            "observation",
            "EPISODE_DONE",
            "observation",
        ]
    );
    let invalid = &replies[13]["data"];
    assert!(invalid["reward"].as_f64().unwrap() < -0.05);
    assert!(
        invalid["observation"]["message"]
            .as_str()
            .unwrap()
            .contains("learning_rate must be a number in [1e-6, 10], got -1")
    );
    let actions = replies[17]["data"]["observation"]["episode_state"]["actions_taken"]
        .as_array()
        .unwrap();
    assert_eq!(actions[0], "invalid:modify_config");
    assert_eq!(actions[2], "invalid:fix_code");
    assert!(
        replies[15]["data"]["observation"]["message"]
            .as_str()
            .unwrap()
            .contains("once it has been read")
    );
}

#[test]
fn request_ids_are_echoed_even_on_errors() {
    let replies = serve(
        &[],
        &[
            json!({"type": "reset", "id": "r1", "data": {"task_id": "task_001"}}),
            json!({"type": "state", "id": 2}),
            json!({"type": "nope", "id": [3]}),
            json!({"type": "step", "id": "s", "data": {"action_type": "inspect_code", "bogus": true}}),
        ],
    );
    let ids: Vec<&Value> = replies.iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, [&json!("r1"), &json!(2), &json!([3]), &json!("s")]);
    assert_eq!(replies[3]["data"]["field"], "data.bogus");
}

#[test]
fn every_task_is_solvable_by_script_and_mistakes_score_low() {
    let tasks = trainwreck::task::TaskSet::builtin().unwrap();
    for task in tasks.iter() {
        let seed = 42;
        let scenario = task.scenario_for_seed(seed).unwrap();
        let mut lines = vec![reset(task.id(), seed)];
        lines.extend(
            scenario
                .walkthrough
                .iter()
                .map(|s| step(serde_json::to_value(s).unwrap())),
        );
        lines.push(json!({"type": "grade"}));
        let replies = serve(&[], &lines);
        let grade = &replies.last().unwrap()["data"];
        assert_eq!(grade["done"], true, "{}", task.id());
        assert!(
            grade["score"].as_f64().unwrap() >= 0.9,
            "{}: {grade}",
            task.id()
        );
        assert!(grade["debrief"]["bug"].is_string());

        // The same evidence with the wrong diagnosis and no fix scores low.
        let wrong_label = ["scheduler_misconfigured", "data_leakage"]
            .into_iter()
            .find(|l| *l != task.file.root_cause && !scenario.labels.contains_key(*l))
            .unwrap();
        let wrong = serve(
            &[],
            &[
                reset(task.id(), seed),
                step(json!({"action_type": "inspect_gradients"})),
                step(json!({"action_type": "mark_diagnosed", "diagnosis": wrong_label})),
                json!({"type": "grade"}),
            ],
        );
        let score = wrong.last().unwrap()["data"]["score"].as_f64().unwrap();
        assert!(score < 0.3, "{}: wrong diagnosis scored {score}", task.id());
    }
}

#[test]
fn a_fix_that_does_not_work_earns_no_recovery() {
    // Warmup is task_002's red herring: the rerun stays flat.
    let replies = serve(
        &[],
        &[
            reset("task_002", 3),
            step(json!({"action_type": "add_callback", "target": "lr_warmup"})),
            step(json!({"action_type": "restart_run"})),
            json!({"type": "grade"}),
            step(json!({"action_type": "mark_diagnosed", "diagnosis": "vanishing_gradients"})),
            json!({"type": "grade"}),
        ],
    );
    let restart = &replies[2]["data"];
    assert_eq!(restart["info"]["verdict"]["recovered"], false);
    assert!(restart["reward"].as_f64().unwrap() < 0.0);
    // Before the end the grade names no penalty: that would reveal the herring.
    let before = replies[3]["data"]["breakdown"].as_array().unwrap();
    assert!(before.is_empty(), "{before:?}");
    let breakdown = replies[5]["data"]["breakdown"].as_array().unwrap();
    let earned = |needle: &str| {
        breakdown
            .iter()
            .find(|i| i["item"].as_str().unwrap().contains(needle))
            .unwrap()["earned"]
            .clone()
    };
    assert_eq!(earned("symptom-only change add_callback:lr_warmup"), true);
    assert_eq!(earned("re-run that did not recover"), true);
    assert_eq!(earned("recovered:"), false);
}

#[test]
fn running_out_of_steps_truncates_with_a_low_score() {
    let mut lines = vec![reset("task_001", 1)];
    lines.extend((0..20).map(|_| step(json!({"action_type": "inspect_data_batch"}))));
    lines.push(json!({"type": "state"}));
    let replies = serve(&[], &lines);
    let last = &replies[20]["data"];
    assert_eq!(last["done"], true);
    assert_eq!(last["info"]["truncated"], true);
    assert_eq!(last["info"]["terminated"], false);
    assert_eq!(last["info"]["score"], 0.0);
    assert_eq!(replies[21]["data"]["truncated"], true);
}

#[test]
fn schema_and_catalogue_describe_what_is_sent() {
    let replies = serve(
        &[],
        &[
            json!({"type": "schema"}),
            json!({"type": "tasks"}),
            reset("task_003", 1),
        ],
    );
    let schema = &replies[0]["data"];
    let required = schema["$defs"]["ObservationOut"]["required"]
        .as_array()
        .unwrap();
    let observation = replies[2]["data"]["observation"].as_object().unwrap();
    for key in required {
        assert!(
            observation.contains_key(key.as_str().unwrap()),
            "observation lacks {key}"
        );
    }
    let properties = schema["$defs"]["ObservationOut"]["properties"]
        .as_object()
        .unwrap();
    for key in observation.keys() {
        assert!(properties.contains_key(key), "schema lacks {key}");
    }
    let listed = replies[1]["data"]["tasks"].as_array().unwrap();
    let builtin = trainwreck::task::TaskSet::builtin().unwrap();
    assert_eq!(listed.len(), builtin.iter().count());
}

#[test]
fn close_and_eof_end_with_status_zero_and_a_closed_stdout_is_quiet() {
    let replies = serve(&[], &[json!({"type": "close"}), json!({"type": "tasks"})]);
    assert!(replies.is_empty(), "nothing after close: {replies:?}");

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trainwreck"))
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    writeln!(stdin, "{}", json!({"type": "tasks"})).unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap(); // reader drops: stdout closes
    for _ in 0..200 {
        if writeln!(stdin, "{}", json!({"type": "tasks"})).is_err() {
            break;
        }
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 11's crash: removing the model output and re-running killed the
/// process. The edit is now refused as an invalid step naming the line, and
/// the session goes on.
#[test]
fn an_edit_that_leaves_the_loss_without_an_output_is_refused_not_fatal() {
    let replies = serve(
        &[],
        &[
            reset("task_002", 0),
            step(json!({"action_type": "inspect_code"})),
            step(json!({"action_type": "fix_code", "line": 15, "replacement": "pass"})),
            step(json!({"action_type": "restart_run"})),
            reset("task_003", 1),
        ],
    );
    assert_eq!(replies.len(), 5, "{replies:?}");
    let fix = &replies[2]["data"]["observation"];
    let message = fix["message"].as_str().unwrap();
    assert!(
        message.contains("line 16") && message.contains("uses `output` before"),
        "{message}"
    );
    assert_eq!(fix["episode_state"]["actions_taken"][1], "invalid:fix_code");
    assert_eq!(replies[4]["type"], "observation");
    assert_eq!(replies[4]["data"]["observation"]["task_id"], "task_003");
}
