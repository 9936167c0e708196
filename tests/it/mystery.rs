//! Mystery episodes: the seed draws the category, the disguise names nothing,
//! so a policy that does not read what it is shown cannot beat chance, and
//! every category comes up. In-process, like the strategy suite (the engine
//! is the one `--serve` drives); the protocol side is tested in `serve.rs`.

use super::strategies::shotgun_bundle;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use trainwreck::env::{ActionRequest, Episode};
use trainwreck::events::{FixedClock, NoSink};
use trainwreck::task::TaskSet;
use trainwreck::task::catalogue::{self, MYSTERY_ID};
use trainwreck::vocab;

fn req(v: Value) -> ActionRequest {
    serde_json::from_value(v).unwrap()
}

fn mystery(tasks: &TaskSet, seed: u64) -> Episode {
    let task = tasks.resolve(MYSTERY_ID, seed).unwrap();
    Episode::reset(task, seed, &mut NoSink, &FixedClock).unwrap()
}

fn category_of(ep: &Episode) -> String {
    ep.task().unmasked.as_ref().unwrap().category.clone()
}

#[test]
fn mystery_draws_cover_every_category_about_evenly() {
    let tasks = TaskSet::builtin().unwrap();
    let categories = catalogue::categories(&tasks);
    let per = 40;
    let seeds = (per * categories.len()) as u64;
    let mut drawn: BTreeMap<String, usize> = BTreeMap::new();
    let mut played: BTreeMap<String, usize> = BTreeMap::new();
    for seed in 0..seeds {
        let id = catalogue::mystery_pick(&tasks, seed).unwrap();
        let task = tasks.get(&id).unwrap();
        *drawn.entry(task.file.root_cause.clone()).or_default() += 1;
        *played.entry(id).or_default() += 1;
    }
    for c in &categories {
        let n = drawn.get(&c.label).copied().unwrap_or(0);
        // Binomial(seeds, 1/k): ±50% is more than 3 standard deviations at 40 per category.
        assert!(
            n >= per / 2 && n <= per * 3 / 2,
            "{}: drawn {n} times in {seeds} seeds, expected about {per}",
            c.label
        );
    }
    assert_eq!(played.len(), tasks.iter().count(), "every task is played");
}

/// The share of the diagnosis credit `label` earns in this episode.
fn share(ep: &Episode, label: &str) -> f64 {
    if label == ep.task().file.root_cause {
        1.0
    } else {
        ep.scenario().labels.get(label).copied().unwrap_or(0.0)
    }
}

/// Per label: (mean score of playing `prefix` blind then naming it, the
/// share of episodes in which the label earns any credit).
fn blind_scores(
    tasks: &TaskSet,
    seeds: u64,
    prefix: &[Value],
) -> BTreeMap<&'static str, (f64, f64)> {
    let mut total: BTreeMap<&'static str, (f64, f64)> = BTreeMap::new();
    for seed in 0..seeds {
        let mut ep = mystery(tasks, seed);
        for step in prefix {
            ep.step(&req(step.clone()), &mut NoSink, &FixedClock);
        }
        for label in vocab::DIAGNOSES {
            let mut guess = ep.clone();
            guess.step(
                &req(json!({"action_type": "mark_diagnosed", "diagnosis": label})),
                &mut NoSink,
                &FixedClock,
            );
            assert!(guess.is_done());
            let entry = total.entry(label).or_default();
            entry.0 += guess.final_grade().score;
            entry.1 += if share(&ep, label) > 0.0 { 1.0 } else { 0.0 };
        }
    }
    for (score, chance) in total.values_mut() {
        *score /= seeds as f64;
        *chance /= seeds as f64;
    }
    total
}

/// Chance, for a label, is how often naming it is right by luck: the share
/// of the drawn episodes in which it earns any diagnosis credit at all (it is
/// the root cause, or the taxonomy says it names part of the mechanism). A
/// policy that never reads an observation — whatever it inspects, changes or
/// names — must not score more than that, as if each lucky episode earned
/// full marks and every other one nothing: no credit for evidence it did not
/// read or cures it did not choose when its label is wrong. Reading the
/// observations (the walkthrough) solves the mystery.
#[test]
fn a_policy_that_ignores_the_observations_scores_no_better_than_chance() {
    let tasks = TaskSet::builtin().unwrap();
    let categories = catalogue::categories(&tasks).len();
    let seeds = 8 * categories as u64;
    let inspect_all: Vec<Value> = [
        "inspect_gradients",
        "inspect_data_batch",
        "inspect_model_modes",
        "inspect_model_weights",
        "inspect_code",
    ]
    .iter()
    .map(|a| json!({"action_type": a}))
    .collect();
    let mut shotgun = inspect_all.clone();
    shotgun.extend(shotgun_bundle());
    shotgun.push(json!({"action_type": "restart_run"}));
    let mut failures = Vec::new();
    for (name, prefix) in [
        ("guess", Vec::new()),
        ("inspect everything, then guess", inspect_all),
        ("shotgun every cure, then guess", shotgun),
    ] {
        let scores = blind_scores(&tasks, seeds, &prefix);
        let best = scores.iter().map(|(_, (s, _))| *s).fold(0.0, f64::max);
        println!("{name}: the best label scores {best:.3}");
        for (label, (score, chance)) in &scores {
            if score > chance {
                failures.push(format!(
                    "{name}, then always '{label}': {score:.3} > chance {chance:.3}"
                ));
            }
        }
    }
    let mut informed = 0.0;
    for seed in 0..seeds {
        let mut ep = mystery(&tasks, seed);
        for step in ep.walkthrough().to_vec() {
            ep.step(&step, &mut NoSink, &FixedClock);
        }
        informed += ep.final_grade().score;
    }
    informed /= seeds as f64;
    println!("the walkthrough scores {informed:.3}");
    if informed < 0.9 {
        failures.push(format!("the walkthrough scores {informed:.3} < 0.9"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_disguise_names_nothing_before_the_end_and_everything_after() {
    let tasks = TaskSet::builtin().unwrap();
    for seed in 0..24 {
        let mut ep = mystery(&tasks, seed);
        let real = ep.task().unmasked.clone().unwrap();
        let real_task = tasks.get(&real.task_id).unwrap();
        let obs = serde_json::to_string(&ep.observation()).unwrap();
        for secret in [
            real.task_id.as_str(),
            real_task.file.title.as_str(),
            real_task.file.summary.as_str(),
        ] {
            assert!(!obs.contains(secret), "seed {seed}: '{secret}' shows");
        }
        assert_eq!(ep.observation().task_id, MYSTERY_ID);
        assert_eq!(ep.observation().max_steps, catalogue::MYSTERY_MAX_STEPS);
        ep.step(
            &req(json!({"action_type": "mark_diagnosed", "diagnosis": category_of(&ep)})),
            &mut NoSink,
            &FixedClock,
        );
        assert!(
            ep.observation().message.contains(&real.task_id),
            "seed {seed}: {}",
            ep.observation().message
        );
    }
}

/// Over the protocol: a mystery reset names nothing (its events neither), the
/// grade at the end says what it was, and a recording of it replays.
#[test]
fn a_mystery_over_serve_is_disguised_unmasked_at_the_end_and_replays() {
    let dir = super::scratch("mystery");
    let file = dir.join("mystery.jsonl");
    let replies = super::serve(
        &["--events", "--record", file.to_str().unwrap()],
        &[
            json!({"type": "reset", "data": {"task_id": "mystery", "seed": 11}}),
            json!({"type": "step", "data": {"action_type": "inspect_gradients"}}),
            json!({"type": "grade"}),
            json!({"type": "step", "data": {"action_type": "mark_diagnosed", "diagnosis": "overfitting"}}),
            json!({"type": "grade"}),
            json!({"type": "reset", "data": {"seed": 12}}),
        ],
    );
    let tasks = TaskSet::builtin().unwrap();
    let real = catalogue::mystery_pick(&tasks, 11).unwrap();
    let text: Vec<String> = replies.iter().map(Value::to_string).collect();
    let before_end = replies
        .iter()
        .take_while(|r| r["data"]["done"] != true)
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!before_end.contains(&real), "{real} shows before the end");
    let obs = replies.iter().find(|r| r["type"] == "observation").unwrap();
    assert_eq!(obs["data"]["observation"]["task_id"], MYSTERY_ID);
    assert_eq!(obs["data"]["observation"]["variant"], MYSTERY_ID);
    let started = replies
        .iter()
        .find(|r| r["data"]["event"] == "training_started")
        .unwrap_or_else(|| panic!("no training_started in {text:?}"));
    assert_eq!(started["data"]["task_id"], MYSTERY_ID);
    let grades: Vec<&Value> = replies.iter().filter(|r| r["type"] == "grade").collect();
    assert!(grades[0]["data"].get("unmasked").is_none());
    assert_eq!(grades[1]["data"]["unmasked"]["task_id"], real.as_str());
    // A reset without a task plays another mystery, drawn from its own seed.
    let last = replies
        .iter()
        .rev()
        .find(|r| r["type"] == "observation")
        .unwrap();
    assert_eq!(last["data"]["observation"]["task_id"], MYSTERY_ID);
    assert_eq!(last["data"]["observation"]["seed"], 12);
    super::trainwreck()
        .arg("replay")
        .arg(&file)
        .assert()
        .success();
}
