//! `trainwreck eval`: a leaderboard that does not depend on --jobs, agents
//! that are programs (a Python example among them), recordings that replay,
//! and an agent that may not reset or grade. Few seeds: CI time matters.

use crate::{scratch, trainwreck};

fn eval(args: &[&str]) -> (String, String) {
    let out = trainwreck().arg("eval").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

#[test]
fn the_table_does_not_depend_on_the_number_of_jobs() {
    let args = [
        "--agent",
        "heuristic",
        "--tasks",
        "task_001,task_005",
        "--seeds",
        "1..2",
    ];
    let (one, progress) = eval(&[&args[..], &["--jobs", "1"]].concat());
    let (two, _) = eval(&[&args[..], &["--jobs", "2"]].concat());
    assert_eq!(one, two);
    assert!(one.contains("| task_001 | 2 |"), "{one}");
    assert!(one.contains("| **overall** | 4 |"), "{one}");
    assert!(progress.contains("eval: 4/4 episodes"), "{progress}");
}

#[test]
fn a_python_agent_plays_and_its_recordings_replay() {
    let dir = scratch("eval-record");
    let json = dir.join("results.json");
    let agent = concat!(
        "python3 ",
        env!("CARGO_MANIFEST_DIR"),
        "/examples/checklist_agent.py"
    );
    let (table, _) = eval(&[
        "--agent",
        agent,
        "--tasks",
        "task_003",
        "--seeds",
        "4",
        "--record",
        dir.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let episode = &results["episodes"][0];
    assert_eq!(episode["ending"], "done", "{results}");
    assert_eq!(episode["success"], true, "{results}\n{table}");
    trainwreck()
        .arg("replay")
        .arg(dir.join("task_003_s4.jsonl"))
        .assert()
        .success();
}

#[test]
fn an_agent_cannot_reset_and_a_silent_one_is_cut_off() {
    let dir = scratch("eval-cheat");
    let json = dir.join("r.json");
    // Tries to reset to a seed of its choosing, then leaves.
    let cheat =
        r#"read line; echo '{"type":"reset","data":{"seed":1}}'; read line; echo "$line" >&2"#;
    let (_, stderr) = eval(&[
        "--agent",
        cheat,
        "--tasks",
        "task_001",
        "--seeds",
        "2",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(stderr.contains("an agent sends only step"), "{stderr}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(results["episodes"][0]["ending"], "agent_quit");
    assert_eq!(results["episodes"][0]["steps"], 0);

    let (_, stderr) = eval(&[
        "--agent",
        "sleep 5",
        "--tasks",
        "task_001",
        "--seeds",
        "2",
        "--timeout",
        "1",
    ]);
    assert!(stderr.contains("sent nothing"), "{stderr}");
}

#[test]
fn bad_arguments_are_refused_in_words() {
    trainwreck()
        .args(["eval", "--agent", "random", "--seeds", "9..1"])
        .assert()
        .failure();
    let out = trainwreck()
        .args(["eval", "--agent", "random", "--tasks", "task_999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown task 'task_999'"));
}

/// The mean score of `agent` over mystery episodes `seeds`.
fn mystery_score(agent: &str, seeds: &str) -> f64 {
    let dir = scratch(&format!("eval-mystery-{agent}"));
    let json = dir.join("r.json");
    eval(&[
        "--agent",
        agent,
        "--tasks",
        "mystery",
        "--seeds",
        seeds,
        "--jobs",
        "2",
        "--json",
        json.to_str().unwrap(),
    ]);
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    results["overall"]["mean_score"].as_f64().unwrap()
}

#[test]
fn the_heuristic_beats_random_by_a_wide_margin_on_mystery_episodes() {
    // Mystery episodes hide the task, so the heuristic can only win by
    // reading the evidence; 40 seeds draw most of the catalogue's categories.
    let heuristic = mystery_score("heuristic", "1..40");
    let random = mystery_score("random", "1..40");
    assert!(heuristic >= 0.8, "heuristic {heuristic}");
    assert!(random <= 0.15, "random {random}");
    assert!(
        heuristic - random >= 0.6,
        "heuristic {heuristic}, random {random}"
    );
}
