//! One protocol session: the state machine between request lines and reply
//! lines, shared by `--serve`, the REPL (which speaks it internally, so its
//! recordings replay like any other) and `replay`. No I/O here: lines in,
//! lines out, events handed to the caller the moment the run emits them.
//!
//! It is also the last line of defence: a panic inside the engine while one
//! request is handled is caught here, answered with `EXECUTION_ERROR`, and the
//! episode it may have left half-changed is abandoned, so the session (and an
//! RL worker's rollout, or a replay of many files) goes on.

use crate::env::episode::StepInfo;
use crate::env::{ActionRequest, Episode};
use crate::events::{Clock, EVENT_NAMES, EventSink, Interrupt, TrainingEvent};
use crate::protocol::{
    self, Envelope, ErrorCode, EventSelection, ProtocolError, RenderData, RenderFormat, Request,
    ResetData, error_reply, reply,
};
use crate::render_text::{self, Progress};
use crate::task::TaskSet;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Where a session's output lines go. Events arrive while a run is going;
/// the reply comes last. A `Vec<String>` collects both in order.
pub trait Output {
    /// A training event line, emitted as the run produces it.
    fn event(&mut self, line: String);
    /// The reply to the request.
    fn reply(&mut self, line: String);
}

impl Output for Vec<String> {
    fn event(&mut self, line: String) {
        self.push(line);
    }
    fn reply(&mut self, line: String) {
        self.push(line);
    }
}

/// Whether to go on reading after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Close,
}

pub struct Session {
    tasks: TaskSet,
    episode: Option<Episode>,
    /// Why the last episode was abandoned, until the next reset.
    abandoned: Option<String>,
    subscriptions: BTreeSet<&'static str>,
    clock: Box<dyn Clock>,
    /// Round floats in reply lines to this many significant figures.
    float_digits: Option<usize>,
}

#[derive(Serialize)]
struct StepReply<'a> {
    observation: crate::env::Observation<'a>,
    reward: f64,
    done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<&'a StepInfo>,
}

#[derive(Serialize)]
struct TaskEntry<'a> {
    id: &'a str,
    title: &'a str,
    summary: &'a str,
    difficulty: &'a str,
    max_steps: usize,
    variants: usize,
    origin: &'a str,
}

/// Rounds every float in the lines it passes on (`--float-digits`).
struct Rounded<'a> {
    out: &'a mut dyn Output,
    digits: usize,
}

impl Output for Rounded<'_> {
    fn event(&mut self, line: String) {
        self.out
            .event(crate::rounding::round_json_floats(&line, self.digits));
    }
    fn reply(&mut self, line: String) {
        self.out
            .reply(crate::rounding::round_json_floats(&line, self.digits));
    }
}

/// Sends events to the live sink and, when subscribed, out as lines.
struct Forward<'a> {
    live: &'a mut dyn EventSink,
    subscriptions: &'a BTreeSet<&'static str>,
    id: Option<&'a Value>,
    out: &'a mut dyn Output,
}

impl EventSink for Forward<'_> {
    fn emit(&mut self, event: &TrainingEvent) -> Interrupt {
        if self.subscriptions.contains(event.name()) {
            self.out.event(reply("event", self.id, event));
        }
        self.live.emit(event)
    }
}

fn select(selection: &EventSelection) -> Result<Vec<&'static str>, ProtocolError> {
    match selection {
        EventSelection::All(word) if word == "all" => Ok(EVENT_NAMES.to_vec()),
        EventSelection::All(word) => Err(ProtocolError {
            code: ErrorCode::ValidationError,
            message: format!(
                "data.events: expected \"all\" or a list of event names, got \"{word}\""
            ),
            field: Some("data.events".into()),
        }),
        EventSelection::Names(names) => names
            .iter()
            .map(|n| {
                EVENT_NAMES
                    .iter()
                    .copied()
                    .find(|e| e == n)
                    .ok_or_else(|| ProtocolError {
                        code: ErrorCode::ValidationError,
                        message: format!(
                            "data.events: unknown event '{n}' (known: {})",
                            EVENT_NAMES.join(", ")
                        ),
                        field: Some("data.events".into()),
                    })
            })
            .collect(),
    }
}

impl Session {
    pub fn new(tasks: TaskSet, clock: Box<dyn Clock>, subscribe_all: bool) -> Self {
        Session {
            tasks,
            episode: None,
            abandoned: None,
            subscriptions: if subscribe_all {
                EVENT_NAMES.into_iter().collect()
            } else {
                BTreeSet::new()
            },
            clock,
            float_digits: None,
        }
    }

    /// Round every float in the replies (and events) to `digits` significant
    /// figures from now on; `None` sends them at full precision.
    pub fn set_float_digits(&mut self, digits: Option<usize>) {
        self.float_digits = digits;
    }

    pub fn tasks(&self) -> &TaskSet {
        &self.tasks
    }

    pub fn episode(&self) -> Option<&Episode> {
        self.episode.as_ref()
    }

    /// Handle one raw line; events and then the reply go to `out`.
    pub fn handle_line(
        &mut self,
        line: &[u8],
        live: &mut dyn EventSink,
        out: &mut dyn Output,
    ) -> Control {
        match protocol::parse_line(line) {
            Ok(None) => Control::Continue,
            Ok(Some(envelope)) => self.handle(envelope, live, out),
            Err((id, err)) => {
                out.reply(error_reply(id.as_ref(), &err));
                Control::Continue
            }
        }
    }

    /// Handle one request. A panic inside is answered with `EXECUTION_ERROR`
    /// and abandons the episode (see the module comment).
    pub fn handle(
        &mut self,
        envelope: Envelope,
        live: &mut dyn EventSink,
        out: &mut dyn Output,
    ) -> Control {
        let id = envelope.id.clone();
        let kind = envelope.request.kind();
        // The episode is dropped on a panic, so no half-updated state is ever
        // observed afterwards; that is what makes the assertion sound.
        match catch_unwind(AssertUnwindSafe(|| self.dispatch(envelope, live, out))) {
            Ok(control) => control,
            Err(payload) => {
                let what = panic_message(payload.as_ref());
                self.episode = None;
                self.abandoned = Some(format!(
                    "the last episode was abandoned after an internal error ({what})"
                ));
                out.reply(error_reply(
                    id.as_ref(),
                    &ProtocolError::new(
                        ErrorCode::ExecutionError,
                        format!(
                            "internal error while handling '{kind}': {what}; the episode is abandoned: send a reset to start another"
                        ),
                    ),
                ));
                Control::Continue
            }
        }
    }

    fn dispatch(
        &mut self,
        envelope: Envelope,
        live: &mut dyn EventSink,
        out: &mut dyn Output,
    ) -> Control {
        match self.float_digits {
            Some(digits) => self.dispatch_to(envelope, live, &mut Rounded { out, digits }),
            None => self.dispatch_to(envelope, live, out),
        }
    }

    fn dispatch_to(
        &mut self,
        envelope: Envelope,
        live: &mut dyn EventSink,
        out: &mut dyn Output,
    ) -> Control {
        let id = envelope.id.as_ref();
        let result = match envelope.request {
            Request::Close => return Control::Close,
            Request::Reset(data) => self.reset(data, id, live, out),
            Request::Step(action) => self.step(&action, id, live, out),
            Request::State => self.state(id),
            Request::Render(data) => self.render(&data, id),
            Request::Grade => self.grade(id),
            Request::Tasks => Ok(self.catalogue(id)),
            Request::Schema => Ok(reply("schema", id, schema())),
            Request::Subscribe(data) => select(&data.events).map(|names| {
                self.subscriptions.extend(names);
                reply(
                    "subscribed",
                    id,
                    serde_json::json!({ "events": self.subscribed() }),
                )
            }),
            Request::Unsubscribe(data) => {
                let names = match &data.events {
                    None => Ok(EVENT_NAMES.to_vec()),
                    Some(selection) => select(selection),
                };
                names.map(|names| {
                    for n in names {
                        self.subscriptions.remove(n);
                    }
                    reply(
                        "unsubscribed",
                        id,
                        serde_json::json!({ "events": self.subscribed() }),
                    )
                })
            }
        };
        out.reply(result.unwrap_or_else(|err| error_reply(id, &err)));
        Control::Continue
    }

    fn subscribed(&self) -> Vec<&'static str> {
        EVENT_NAMES
            .into_iter()
            .filter(|n| self.subscriptions.contains(n))
            .collect()
    }

    fn reset(
        &mut self,
        data: ResetData,
        id: Option<&Value>,
        live: &mut dyn EventSink,
        out: &mut dyn Output,
    ) -> Result<String, ProtocolError> {
        let task = match &data.task_id {
            Some(task_id) => self.tasks.get(task_id).ok_or_else(|| {
                ProtocolError::new(
                    ErrorCode::UnknownTask,
                    format!(
                        "unknown task '{task_id}' (known: {})",
                        self.tasks.ids().join(", ")
                    ),
                )
            })?,
            None => self.tasks.first().ok_or_else(|| {
                ProtocolError::new(ErrorCode::ExecutionError, "no task is loaded")
            })?,
        };
        let seed = data.seed.unwrap_or(0);
        let mut sink = Forward {
            live,
            subscriptions: &self.subscriptions,
            id,
            out,
        };
        let episode = Episode::reset(task, seed, &mut sink, self.clock.as_ref())
            .map_err(|e| ProtocolError::new(ErrorCode::ExecutionError, e.to_string()))?;
        self.abandoned = None;
        let episode = self.episode.insert(episode);
        Ok(reply(
            "observation",
            id,
            StepReply {
                observation: episode.observation(),
                reward: 0.0,
                done: false,
                info: None,
            },
        ))
    }

    fn step(
        &mut self,
        action: &ActionRequest,
        id: Option<&Value>,
        live: &mut dyn EventSink,
        out: &mut dyn Output,
    ) -> Result<String, ProtocolError> {
        let episode = match (self.episode.as_mut(), &self.abandoned) {
            (Some(episode), _) => episode,
            (None, Some(why)) => return Err(abandoned(why)),
            (None, None) => {
                return Err(ProtocolError::new(
                    ErrorCode::NoEpisode,
                    "no episode: send a reset first",
                ));
            }
        };
        if episode.is_done() {
            return Err(ProtocolError::new(
                ErrorCode::EpisodeDone,
                "the episode is over: send a reset to start another",
            ));
        }
        let mut sink = Forward {
            live,
            subscriptions: &self.subscriptions,
            id,
            out,
        };
        let (reward, info) = episode.step(action, &mut sink, self.clock.as_ref());
        Ok(reply(
            "observation",
            id,
            StepReply {
                observation: episode.observation(),
                reward: f64::from(reward) / 1000.0,
                done: episode.is_done(),
                info: Some(&info),
            },
        ))
    }

    fn state(&self, id: Option<&Value>) -> Result<String, ProtocolError> {
        let episode = self.current()?;
        let observation = episode.observation();
        Ok(reply(
            "state",
            id,
            serde_json::json!({
                "task_id": episode.task().id(),
                "seed": episode.seed(),
                "run_id": observation.run_id,
                "step_count": episode.step_count(),
                "max_steps": episode.task().file.max_steps,
                "done": episode.is_done(),
                "terminated": episode.is_terminated(),
                "truncated": episode.is_truncated(),
                "total_reward": episode.total_reward(),
                "score": episode.grade().score,
                "available_actions": observation.available_actions,
                "episode_state": observation.episode_state,
            }),
        ))
    }

    fn render(&self, data: &RenderData, id: Option<&Value>) -> Result<String, ProtocolError> {
        let episode = self.current()?;
        let text = match data.format {
            RenderFormat::Text => render_text::render(
                &episode.observation(),
                Progress {
                    total_reward: episode.total_reward(),
                    done: episode.is_done(),
                    score: episode.is_done().then(|| episode.grade().score),
                },
            ),
        };
        Ok(reply(
            "render",
            id,
            serde_json::json!({ "format": data.format, "text": text }),
        ))
    }

    fn grade(&self, id: Option<&Value>) -> Result<String, ProtocolError> {
        let episode = self.current()?;
        let grade = episode.grade();
        Ok(reply(
            "grade",
            id,
            serde_json::json!({
                "task_id": episode.task().id(),
                "score": grade.score,
                "breakdown": grade.breakdown,
                "steps": episode.step_count(),
                "done": episode.is_done(),
                "total_reward": episode.total_reward(),
                "debrief": episode.is_done().then(|| &episode.task().file.debrief),
            }),
        ))
    }

    fn current(&self) -> Result<&Episode, ProtocolError> {
        match (&self.episode, &self.abandoned) {
            (Some(episode), _) => Ok(episode),
            (None, Some(why)) => Err(abandoned(why)),
            (None, None) => Err(ProtocolError::new(
                ErrorCode::NoEpisode,
                "no episode: send a reset first",
            )),
        }
    }

    fn catalogue(&self, id: Option<&Value>) -> String {
        let tasks: Vec<TaskEntry> = self
            .tasks
            .iter()
            .map(|t| TaskEntry {
                id: t.id(),
                title: &t.file.title,
                summary: &t.file.summary,
                difficulty: t.file.difficulty.name(),
                max_steps: t.file.max_steps,
                variants: t.file.variants.len().max(1),
                origin: &t.origin,
            })
            .collect();
        reply("tasks", id, serde_json::json!({ "tasks": tasks }))
    }
}

fn abandoned(why: &str) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::ExecutionError,
        format!("{why}: send a reset to start another"),
    )
}

/// The text of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// JSON Schemas of the action (generated from the vocabulary table), the
/// observation and the replies.
pub fn schema() -> Value {
    let mut schema: Value =
        serde_json::from_str(include_str!("schema.json")).unwrap_or(Value::Null);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("action".into(), crate::vocab::action_schema());
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{FixedClock, NoSink};
    use serde_json::json;

    /// A sink that panics in the given epoch: a stand-in for any bug reached
    /// from inside a training run.
    struct PanicInEpoch(usize);

    impl EventSink for PanicInEpoch {
        fn emit(&mut self, event: &TrainingEvent) -> Interrupt {
            if let TrainingEvent::TrainingProgress { epoch, .. } = event
                && *epoch == self.0
            {
                panic!("injected failure in epoch {epoch}");
            }
            Interrupt::Continue
        }
    }

    fn send(session: &mut Session, request: Value, live: &mut dyn EventSink) -> Vec<Value> {
        let mut out = Vec::new();
        session.handle_line(request.to_string().as_bytes(), live, &mut out);
        out.iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn session() -> Session {
        Session::new(TaskSet::builtin().unwrap(), Box::new(FixedClock), false)
    }

    #[test]
    fn a_panic_in_a_step_answers_execution_error_and_the_next_reset_works() {
        let mut s = session();
        let reset = json!({"type": "reset", "data": {"task_id": "task_004", "seed": 0}});
        assert_eq!(
            send(&mut s, reset.clone(), &mut NoSink)[0]["type"],
            "observation"
        );
        let fix = json!({"type": "step", "data": {"action_type": "add_callback", "target": "early_stopping"}});
        send(&mut s, fix, &mut NoSink);
        let restart = json!({"type": "step", "id": 9, "data": {"action_type": "restart_run"}});
        let replies = send(&mut s, restart, &mut PanicInEpoch(3));
        assert_eq!(replies.len(), 1, "{replies:?}");
        assert_eq!(replies[0]["type"], "error");
        assert_eq!(replies[0]["id"], 9);
        assert_eq!(replies[0]["data"]["code"], "EXECUTION_ERROR");
        let message = replies[0]["data"]["message"].as_str().unwrap();
        assert!(message.contains("injected failure in epoch 3"), "{message}");
        assert!(message.contains("send a reset"), "{message}");
        // The half-stepped episode is gone: every episode request says why.
        for request in [
            json!({"type": "step", "data": {"action_type": "inspect_code"}}),
            json!({"type": "state"}),
            json!({"type": "grade"}),
        ] {
            let reply = &send(&mut s, request, &mut NoSink)[0];
            assert_eq!(reply["data"]["code"], "EXECUTION_ERROR", "{reply}");
            assert!(
                reply["data"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("abandoned"),
                "{reply}"
            );
        }
        // Requests that need no episode still work, and a reset starts afresh.
        assert_eq!(
            send(&mut s, json!({"type": "tasks"}), &mut NoSink)[0]["type"],
            "tasks"
        );
        assert_eq!(send(&mut s, reset, &mut NoSink)[0]["type"], "observation");
        let state = &send(&mut s, json!({"type": "state"}), &mut NoSink)[0];
        assert_eq!(state["data"]["step_count"], 0);
    }

    #[test]
    fn a_panic_in_a_reset_is_an_execution_error_too() {
        let mut s = session();
        let reset = json!({"type": "reset", "data": {"task_id": "task_002", "seed": 1}});
        let reply = &send(&mut s, reset.clone(), &mut PanicInEpoch(1))[0];
        assert_eq!(reply["data"]["code"], "EXECUTION_ERROR");
        assert_eq!(send(&mut s, reset, &mut NoSink)[0]["type"], "observation");
    }
}
