//! The strategy suite: careful, efficient debugging must beat exhaustive,
//! shotgun and guessing play on every task, in score and in total reward.
//! Each policy plays every built-in task on 30 seeds, in-process (the engine
//! is the same one `--serve` drives). `docs/SCORING.md` shows the table this
//! prints (`cargo test --test it strategies -- --nocapture`).

use serde_json::{Value, json};
use trainwreck::env::{ActionRequest, Episode};
use trainwreck::eval::{Agent, RandomAgent};
use trainwreck::events::{FixedClock, NoSink};
use trainwreck::task::TaskSet;

const SEEDS: u64 = 30;

fn req(v: Value) -> ActionRequest {
    serde_json::from_value(v).unwrap()
}

const INSPECTIONS: [&str; 5] = [
    "inspect_gradients",
    "inspect_data_batch",
    "inspect_model_modes",
    "inspect_model_weights",
    "inspect_code",
];

/// Every common cure, applied at once without reading anything (as many as
/// fit in the shortest episode, 20 steps, with the inspections, one restart
/// and the diagnosis).
pub(crate) fn shotgun_bundle() -> Vec<Value> {
    vec![
        json!({"action_type": "modify_config", "target": "learning_rate", "value": 0.001}),
        json!({"action_type": "modify_config", "target": "weight_init", "value": "kaiming"}),
        json!({"action_type": "modify_config", "target": "batch_norm", "value": true}),
        json!({"action_type": "modify_config", "target": "dropout_rate", "value": 0.3}),
        json!({"action_type": "modify_config", "target": "weight_decay", "value": 0.01}),
        json!({"action_type": "add_callback", "target": "early_stopping"}),
        json!({"action_type": "add_callback", "target": "gradient_clipping"}),
        json!({"action_type": "patch_data_loader", "target": "remove_overlap"}),
        json!({"action_type": "patch_data_loader", "target": "normalize_features"}),
        json!({"action_type": "patch_data_loader", "target": "drop_nan_rows"}),
        json!({"action_type": "fix_model_mode"}),
        json!({"action_type": "fix_code", "line": 14, "replacement": "optimizer.zero_grad()"}),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Policy {
    Expert,
    Thorough,
    Shotgun,
    Guesser,
    Random,
}

/// Play one episode; (score, total reward).
fn play(policy: Policy, ep: &mut Episode, seed: u64) -> (f64, f64) {
    let root = ep.task().file.root_cause.clone();
    let walkthrough = ep.walkthrough().to_vec();
    let diagnose = req(json!({"action_type": "mark_diagnosed", "diagnosis": root}));
    let steps: Vec<ActionRequest> = match policy {
        Policy::Expert => walkthrough,
        Policy::Thorough => {
            let mut all: Vec<ActionRequest> = INSPECTIONS
                .iter()
                .filter(|i| !walkthrough.iter().any(|s| s.action_type == **i))
                .map(|i| req(json!({"action_type": i})))
                .collect();
            all.extend(walkthrough);
            all
        }
        Policy::Shotgun => {
            let mut all: Vec<ActionRequest> = INSPECTIONS
                .iter()
                .map(|i| req(json!({"action_type": i})))
                .collect();
            all.extend(shotgun_bundle().into_iter().map(req));
            all.push(req(json!({"action_type": "restart_run"})));
            all.push(diagnose);
            all
        }
        Policy::Guesser => vec![diagnose],
        Policy::Random => {
            let mut agent = RandomAgent::new(ep.task().id(), seed);
            while !ep.is_done() {
                let reply =
                    json!({"type": "observation", "data": {"observation": ep.observation()}});
                let line = agent.act(&reply.to_string()).unwrap().unwrap();
                let step: Value = serde_json::from_str(&line).unwrap();
                ep.step(&req(step["data"].clone()), &mut NoSink, &FixedClock);
            }
            Vec::new()
        }
    };
    for step in &steps {
        if ep.is_done() {
            break;
        }
        ep.step(step, &mut NoSink, &FixedClock);
    }
    (ep.final_grade().score, ep.total_reward())
}

#[test]
fn careful_play_beats_thorough_shotgun_guessing_and_random_play() {
    let tasks = TaskSet::builtin().unwrap();
    let policies = [
        Policy::Expert,
        Policy::Thorough,
        Policy::Shotgun,
        Policy::Guesser,
        Policy::Random,
    ];
    let mut failures = Vec::new();
    let mut random_total = 0.0;
    println!("| task | expert | thorough | shotgun | guesser | random |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for task in tasks.iter() {
        let mut means = Vec::new();
        for policy in policies {
            let (mut score, mut reward) = (0.0, 0.0);
            for seed in 0..SEEDS {
                let mut ep = Episode::reset(task.clone(), seed, &mut NoSink, &FixedClock).unwrap();
                let (s, r) = play(policy, &mut ep, seed);
                score += s;
                reward += r;
            }
            means.push((score / SEEDS as f64, reward / SEEDS as f64));
        }
        let cells: Vec<String> = means
            .iter()
            .map(|(s, r)| format!("{s:.3} / {r:+.2}"))
            .collect();
        println!("| {} | {} |", task.id(), cells.join(" | "));
        for pair in means.windows(2).zip(policies.windows(2)) {
            let ([(s1, r1), (s2, r2)], [p1, p2]) = pair else {
                continue;
            };
            if !(s1 > s2 && r1 > r2) {
                failures.push(format!(
                    "{}: {p1:?} ({s1:.3}, {r1:+.2}) does not beat {p2:?} ({s2:.3}, {r2:+.2})",
                    task.id()
                ));
            }
        }
        let (guess, random) = (means[3].0, means[4].0);
        random_total += random;
        if guess > 0.3 {
            failures.push(format!("{}: guessing scores {guess:.3} > 0.3", task.id()));
        }
        // task_001's random play stumbles on a cure (batch norm, a lower
        // rate) often enough to sit just above 0.1; no task may go past 0.12
        // and the mean over tasks stays at or below 0.1.
        if random > 0.12 {
            failures.push(format!(
                "{}: random play scores {random:.3} > 0.12",
                task.id()
            ));
        }
    }
    let random_mean = random_total / tasks.iter().count() as f64;
    if random_mean > 0.1 {
        failures.push(format!(
            "random play scores {random_mean:.3} > 0.1 on average"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn episode(task: &str, seed: u64) -> Episode {
    let tasks = TaskSet::builtin().unwrap();
    Episode::reset(tasks.get(task).unwrap(), seed, &mut NoSink, &FixedClock).unwrap()
}

/// Apply `changes`, restart, and say whether the run recovered.
fn recovers(task: &str, seed: u64, changes: &[Value]) -> bool {
    let mut ep = episode(task, seed);
    for c in changes {
        ep.step(&req(c.clone()), &mut NoSink, &FixedClock);
    }
    let (_, info) = ep.step(
        &req(json!({"action_type": "restart_run"})),
        &mut NoSink,
        &FixedClock,
    );
    info.verdict.is_some_and(|v| v.recovered)
}

/// The counter-examples of the judgement issue, each with its fair verdict.
#[test]
fn recovery_means_healthy_and_credit_follows_effect() {
    for seed in 0..10 {
        // A network at chance is not recovered, however its loss curve looks.
        let wd = json!({"action_type": "modify_config", "target": "weight_decay", "value": 1.0});
        assert!(
            !recovers("task_004", seed, &[wd]),
            "weight_decay 1, seed {seed}"
        );
        let lr = json!({"action_type": "modify_config", "target": "learning_rate", "value": 1e-6});
        assert!(!recovers("task_004", seed, &[lr]), "lr 1e-6, seed {seed}");
        let one = json!({"action_type": "modify_config", "target": "epochs", "value": 1});
        assert!(!recovers("task_004", seed, &[one]), "epochs 1, seed {seed}");
        // Batch norm cures task_001's blow-up: it counts, by effect.
        let bn = json!({"action_type": "modify_config", "target": "batch_norm", "value": true});
        assert!(
            recovers("task_001", seed, &[bn]),
            "batch norm in task_001, seed {seed}"
        );
        // A shallower stack cures task_002.
        let two = json!({"action_type": "modify_config", "target": "num_layers", "value": 2});
        assert!(
            recovers("task_002", seed, &[two]),
            "two layers in task_002, seed {seed}"
        );
    }
    // lr 1e-3 is not penalised in task_004: it is no symptom-only change there.
    let mut ep = episode("task_004", 1);
    for step in [
        json!({"action_type": "modify_config", "target": "learning_rate", "value": 1e-3}),
        json!({"action_type": "mark_diagnosed", "diagnosis": "overfitting"}),
    ] {
        ep.step(&req(step), &mut NoSink, &FixedClock);
    }
    assert!(
        ep.final_grade()
            .breakdown
            .iter()
            .all(|i| !(i.earned && i.item.contains("learning_rate"))),
        "{:?}",
        ep.final_grade().breakdown
    );
}

/// The same mechanism earns the same credit, whichever level it is named at.
#[test]
fn labels_naming_the_mechanism_earn_their_credit() {
    let diagnose = |task: &str, seed: u64, walk: bool, label: &str| {
        let mut ep = episode(task, seed);
        if walk {
            let steps: Vec<ActionRequest> = ep.walkthrough().to_vec();
            for s in steps.iter().filter(|s| s.action_type != "mark_diagnosed") {
                ep.step(s, &mut NoSink, &FixedClock);
            }
        }
        ep.step(
            &req(json!({"action_type": "mark_diagnosed", "diagnosis": label})),
            &mut NoSink,
            &FixedClock,
        );
        ep.final_grade().score
    };
    assert_eq!(diagnose("task_002", 1, true, "bad_weight_init"), 1.0);
    assert_eq!(diagnose("task_005", 1, true, "code_bug"), 1.0);
    assert!(diagnose("task_001", 1, true, "exploding_gradients") < 1.0);
    assert!(
        diagnose("task_001", 1, true, "exploding_gradients")
            > diagnose("task_001", 1, true, "nan_in_data")
    );
    // task_006's eval-mode variant: batchnorm_eval_mode is the same bug.
    let tasks = TaskSet::builtin().unwrap();
    let task = tasks.get("task_006").unwrap();
    let seed = (0..200)
        .find(|&s| {
            task.scenario_for_seed(s)
                .unwrap()
                .variant_name
                .contains("model.eval()")
        })
        .unwrap();
    assert_eq!(diagnose("task_006", seed, true, "batchnorm_eval_mode"), 1.0);
    // A right label with nothing behind it is a guess.
    assert!(diagnose("task_002", 1, false, "vanishing_gradients") <= 0.3);
}

/// Before the end, `grade` names nothing the player has not earned.
#[test]
fn grade_before_the_end_names_nothing_unearned() {
    let tasks = TaskSet::builtin().unwrap();
    for task in tasks.iter() {
        let mut ep = Episode::reset(task.clone(), 3, &mut NoSink, &FixedClock).unwrap();
        let root = task.file.root_cause.clone();
        let check = |ep: &Episode| {
            let g = ep.grade();
            let text = serde_json::to_string(&g).unwrap();
            assert!(!text.contains(&root), "{}: {text}", task.id());
            assert!(!text.contains("penalty"), "{}: {text}", task.id());
            assert!(
                g.breakdown.iter().all(|i| i.earned),
                "{}: {text}",
                task.id()
            );
            assert!(g.still_available.is_some());
        };
        check(&ep);
        let steps: Vec<ActionRequest> = ep.walkthrough().to_vec();
        for s in steps.iter().filter(|s| s.action_type != "mark_diagnosed") {
            ep.step(s, &mut NoSink, &FixedClock);
            check(&ep);
        }
    }
}
