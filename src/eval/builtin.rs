//! The built-in agents, the scale every other agent is read against: a
//! random agent that samples valid-looking actions from the vocabulary table,
//! and a heuristic that reads only the observation lines (as any external
//! agent would) and follows a debugging checklist.

use super::agent::{Agent, AgentError};
use crate::env::ActionRequest;
use crate::sim::ConfigValue;
use crate::sim::rng::SimRng;
use crate::vocab::{self, CONFIG_TARGETS, Field, Range, Values};
use serde_json::{Value, json};

fn step_line(action: &ActionRequest) -> String {
    json!({"type": "step", "data": action}).to_string()
}

fn observation(reply: &str) -> Value {
    serde_json::from_str::<Value>(reply)
        .ok()
        .and_then(|mut v| v.get_mut("data").map(|d| d["observation"].take()))
        .unwrap_or(Value::Null)
}

/// The statements of the standard training loop, by 1-based line number of
/// train.py (docs/TASKS.md); a random fix draws from them, the heuristic
/// restores them.
const LOOP: [(u64, &str); 6] = [
    (12, "model.train()"),
    (14, "optimizer.zero_grad()"),
    (15, "output = model(x)"),
    (16, "loss = criterion(output, y)"),
    (17, "loss.backward()"),
    (18, "optimizer.step()"),
];

/// Uniform over the actions available now, parameters uniform over the
/// table's values; seeded by the episode, so it is reproducible.
pub struct RandomAgent {
    rng: SimRng,
}

impl RandomAgent {
    pub fn new(task_id: &str, seed: u64) -> Self {
        RandomAgent {
            rng: SimRng::new(seed, &format!("random-agent:{task_id}")),
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.rng.below(items.len()))
    }

    fn value_in(&mut self, range: &Range) -> ConfigValue {
        match range {
            Range::Real { min, max } => ConfigValue::Number(self.rng.uniform(*min, *max)),
            Range::Count { min, max } => {
                let span = usize::try_from(max.saturating_sub(*min)).unwrap_or(0);
                ConfigValue::Number((*min + self.rng.below(span + 1) as u64) as f64)
            }
            Range::Choice(terms) => {
                ConfigValue::Text(self.pick(terms).map_or("", |t| t.name).to_string())
            }
            Range::Flag => ConfigValue::Bool(self.rng.chance(0.5)),
        }
    }

    fn action(&mut self, obs: &Value) -> ActionRequest {
        let available: Vec<&str> = obs["available_actions"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let name = self.pick(&available).copied().unwrap_or("inspect_code");
        let mut req = ActionRequest::new(name);
        let Some(spec) = vocab::action(name) else {
            return req;
        };
        let mut target = None;
        for p in spec.params {
            if !p.required && self.rng.chance(0.5) {
                continue;
            }
            match p.values {
                Values::ConfigTarget => {
                    target = self.pick(CONFIG_TARGETS);
                    req.target = target.map(|t| t.name.to_string());
                }
                Values::ConfigValue => {
                    req.value = target.map(|t| self.value_in(&t.range));
                }
                Values::Terms(terms) => {
                    let word = self.pick(terms).map_or("", |t| t.name).to_string();
                    match p.field {
                        Field::Value => req.value = Some(ConfigValue::Text(word)),
                        Field::Diagnosis => req.diagnosis = Some(word),
                        _ => req.target = Some(word),
                    }
                }
                Values::Line => {
                    let lines = obs["code_snippet"]["line_count"]
                        .as_u64()
                        .unwrap_or(20)
                        .max(1);
                    req.line = Some(1 + self.rng.below(lines as usize) as u64);
                }
                Values::Code => {
                    req.replacement = self.pick(&LOOP).map(|(_, s)| (*s).to_string());
                }
            }
        }
        req
    }
}

impl Agent for RandomAgent {
    fn act(&mut self, reply: &str) -> Result<Option<String>, AgentError> {
        let obs = observation(reply);
        Ok(Some(step_line(&self.action(&obs))))
    }
}

/// A debugging checklist: look at gradients, data, modes and code; name the
/// first anomaly found; apply its usual cure; restart; diagnose.
#[derive(Debug, Default)]
pub struct Heuristic {
    diagnosis: Option<&'static str>,
    cures: Vec<ActionRequest>,
    restarted: bool,
}

fn numbers(v: &Value) -> Vec<Option<f64>> {
    v.as_array()
        .map(|a| a.iter().map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn set(target: &str, value: ConfigValue) -> ActionRequest {
    let mut a = ActionRequest::new("modify_config");
    a.target = Some(target.into());
    a.value = Some(value);
    a
}

fn with_target(action: &str, target: &str) -> ActionRequest {
    let mut a = ActionRequest::new(action);
    a.target = Some(target.into());
    a
}

/// Strip a trailing comment and spacing, so `x  =  y  # note` reads `x = y`.
fn statement(line: &str) -> String {
    let code = line.split('#').next().unwrap_or("");
    code.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The root cause the observation points to, and the actions that cure it.
fn judge(obs: &Value) -> (&'static str, Vec<ActionRequest>) {
    let code = obs["code_snippet"]["code"].as_str().unwrap_or("");
    let lines: Vec<&str> = code.lines().collect();
    for (n, expected) in LOOP {
        let at = usize::try_from(n - 1).ok().and_then(|i| lines.get(i));
        // A mode line that is only a comment is a mode problem, not a wrong
        // computation: the mode check below names it.
        if let Some(line) = at
            && statement(line) != expected
            && !(expected == LOOP[0].1 && statement(line).is_empty())
        {
            let mut fix = ActionRequest::new("fix_code");
            fix.line = Some(n);
            fix.replacement = Some(expected.into());
            return ("code_bug", vec![fix]);
        }
    }
    let modes = obs["model_mode_info"].as_object();
    if modes.is_some_and(|m| m.values().any(|v| v == "eval")) {
        return (
            "batchnorm_eval_mode",
            vec![ActionRequest::new("fix_model_mode")],
        );
    }
    let data = &obs["data_batch_stats"];
    if data["duplicate_ratio"].as_f64().unwrap_or(0.0) > 0.05 {
        return (
            "data_leakage",
            vec![with_target("patch_data_loader", "remove_overlap")],
        );
    }
    if data["null_count"].as_u64().unwrap_or(0) > 0 {
        return (
            "nan_in_data",
            vec![with_target("patch_data_loader", "drop_nan_rows")],
        );
    }
    let grads = obs["gradient_stats"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mean_norm = |g: Option<&Value>| g.and_then(|g| g["mean_norm"].as_f64());
    let (first, last) = (mean_norm(grads.first()), mean_norm(grads.last()));
    let shrinking = matches!((first, last), (Some(f), Some(l)) if l > 0.0 && f / l < 1e-3);
    if grads.iter().any(|g| g["is_vanishing"] == true) || shrinking {
        return (
            "vanishing_gradients",
            vec![set("weight_init", ConfigValue::Text("kaiming".into()))],
        );
    }
    let train = numbers(&obs["training_loss_history"]);
    let completed = obs["epochs_completed"].as_u64().unwrap_or(0) as usize;
    let blew_up = obs["run_status"] == "failed"
        || train.iter().take(completed).any(Option::is_none)
        || grads.iter().any(|g| g["is_exploding"] == true);
    if blew_up {
        return (
            "lr_too_high",
            vec![set("learning_rate", ConfigValue::Number(0.001))],
        );
    }
    if data["feature_std"].as_f64().is_some_and(|s| s > 10.0)
        || data["feature_mean"].as_f64().is_some_and(|m| m.abs() > 5.0)
    {
        return (
            "unnormalized_inputs",
            vec![with_target("patch_data_loader", "normalize_features")],
        );
    }
    (
        "overfitting",
        vec![with_target("add_callback", "early_stopping")],
    )
}

impl Heuristic {
    fn action(&mut self, obs: &Value) -> ActionRequest {
        let state = &obs["episode_state"];
        for (flag, inspect) in [
            ("gradients_inspected", "inspect_gradients"),
            ("data_inspected", "inspect_data_batch"),
            ("model_modes_inspected", "inspect_model_modes"),
            ("code_inspected", "inspect_code"),
        ] {
            if state[flag] == false {
                return ActionRequest::new(inspect);
            }
        }
        if self.diagnosis.is_none() {
            let (diagnosis, mut cures) = judge(obs);
            cures.reverse();
            self.diagnosis = Some(diagnosis);
            self.cures = cures;
        }
        if let Some(cure) = self.cures.pop() {
            return cure;
        }
        if !self.restarted && state["fix_action_taken"] == true {
            self.restarted = true;
            return ActionRequest::new("restart_run");
        }
        let mut diagnose = ActionRequest::new("mark_diagnosed");
        diagnose.diagnosis = self.diagnosis.map(str::to_string);
        diagnose
    }
}

impl Agent for Heuristic {
    fn act(&mut self, reply: &str) -> Result<Option<String>, AgentError> {
        let obs = observation(reply);
        Ok(Some(step_line(&self.action(&obs))))
    }
}
