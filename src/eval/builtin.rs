//! The random built-in agent, the floor every other agent is read against: it
//! samples valid-looking actions from the vocabulary table. Also the line
//! plumbing the built-in agents share (the heuristic is in `heuristic.rs`).

use super::agent::{Agent, AgentError};
use crate::env::ActionRequest;
use crate::sim::ConfigValue;
use crate::sim::rng::SimRng;
use crate::vocab::{self, CONFIG_TARGETS, Field, Range, Values};
use serde_json::{Value, json};

pub(super) fn step_line(action: &ActionRequest) -> String {
    json!({"type": "step", "data": action}).to_string()
}

pub(super) fn observation(reply: &str) -> Value {
    serde_json::from_str::<Value>(reply)
        .ok()
        .and_then(|mut v| v.get_mut("data").map(|d| d["observation"].take()))
        .unwrap_or(Value::Null)
}

/// The statements of the standard training loop, by 1-based line number of
/// train.py (docs/TASKS.md); a random fix draws from them.
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
