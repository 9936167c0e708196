//! The LLM-facing output: the `render` text view and `--float-digits`.

use crate::{serve, trainwreck};
use serde_json::{Value, json};

fn episode() -> Vec<Value> {
    vec![
        json!({"type": "reset", "data": {"task_id": "task_003", "seed": 42}}),
        json!({"type": "step", "data": {"action_type": "inspect_data_batch"}}),
        json!({"type": "render"}),
        json!({"type": "step", "data": {"action_type": "mark_diagnosed", "diagnosis": "data_leakage"}}),
        json!({"type": "render"}),
    ]
}

#[test]
fn the_text_view_is_compact_plain_and_shows_the_last_inspection() {
    let replies = serve(&[], &episode());
    let text = replies[2]["data"]["text"].as_str().unwrap();
    let observation = &replies[1]["data"]["observation"];
    assert!(text.starts_with("task_003 · run task_003-s42-r0 · step 1/25"));
    assert!(text.contains("data batch: batch_size="));
    assert!(text.contains("confusion_matrix (rows true class, columns predicted):"));
    assert!(text.contains(&format!(
        "notes: {}",
        observation["notes"].as_str().unwrap()
    )));
    assert!(
        !text.chars().any(|c| ('\u{2500}'..='\u{259f}').contains(&c)),
        "box drawing or block characters in:\n{text}"
    );
    // The curves, at 4 significant figures: far shorter than the JSON.
    let curve_line = text.lines().find(|l| l.starts_with("val_loss: ")).unwrap();
    let json_curve = observation["val_loss_history"].to_string();
    assert!(curve_line.len() * 2 < json_curve.len(), "{curve_line}");
    assert!(text.len() * 3 < replies[1].to_string().len() * 2);
    let done = replies[4]["data"]["text"].as_str().unwrap();
    assert!(done.contains("episode over · score "), "{done}");
    assert!(
        !done.contains("data batch:"),
        "only the last action's inspection is shown"
    );
}

#[test]
fn float_digits_round_every_float_and_nothing_else() {
    let full = serve(&[], &episode());
    let rounded = serve(&["--float-digits", "3"], &episode());
    assert_eq!(full.len(), rounded.len());
    let f = &full[1]["data"]["observation"];
    let r = &rounded[1]["data"]["observation"];
    for (a, b) in f["val_loss_history"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r["val_loss_history"].as_array().unwrap())
    {
        let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
        assert!((a - b).abs() <= a.abs() * 5e-3, "{a} vs {b}");
        assert!(
            b.to_string().trim_start_matches(['-', '0', '.']).len() <= 4,
            "{b}"
        );
    }
    assert_eq!(f["notes"], r["notes"]);
    assert_eq!(f["epoch"], r["epoch"]);
    assert_eq!(
        full[2], rounded[2],
        "the text view does not depend on the flag"
    );
    assert!(rounded[1].to_string().len() < full[1].to_string().len());
}

#[test]
fn float_digits_are_checked_and_exclude_recording() {
    trainwreck()
        .args(["--serve", "--float-digits", "0"])
        .assert()
        .failure();
    trainwreck()
        .args(["--float-digits", "4"])
        .assert()
        .failure();
    trainwreck()
        .args(["--serve", "--float-digits", "4", "--record", "x.jsonl"])
        .assert()
        .failure();
}
