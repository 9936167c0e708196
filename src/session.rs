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
use crate::record::PlayedTask;
use crate::render_text::{self, Progress};
use crate::sim::rng::SimRng;
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
    /// The task a reset is about to play (for a mystery, the task drawn),
    /// before any of its output: a recording keeps it, replay checks it.
    fn playing(&mut self, _task: &PlayedTask) {}
}

impl Output for Vec<String> {
    fn event(&mut self, line: String) {
        self.push(line);
    }
    fn reply(&mut self, line: String) {
        self.push(line);
    }
}

/// Every line of one request in order, and the task its reset played (what
/// a recording keeps besides the lines).
#[derive(Debug, Default)]
pub struct Collected {
    pub lines: Vec<String>,
    pub played: Option<PlayedTask>,
}

impl Output for Collected {
    fn event(&mut self, line: String) {
        self.lines.push(line);
    }
    fn reply(&mut self, line: String) {
        self.lines.push(line);
    }
    fn playing(&mut self, task: &PlayedTask) {
        self.played = Some(task.clone());
    }
}

/// The purpose string of the seed sequence (see `SimRng::new`).
const SEED_STREAM: &str = "session-seeds";

/// Whether to go on reading after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Close,
}

/// A session is `Send`, so an evaluation can run one per thread.
pub struct Session {
    tasks: TaskSet,
    episode: Option<Episode>,
    /// Why the last episode was abandoned, until the next reset.
    abandoned: Option<String>,
    /// Where a reset without a seed gets its seed (Gymnasium-like: each such
    /// reset plays a new episode, and the sequence is reproducible).
    seeds: SimRng,
    session_seed: u64,
    /// The task of the last reset: a reset without a task plays it again.
    last_task: Option<String>,
    subscriptions: BTreeSet<&'static str>,
    clock: Box<dyn Clock + Send>,
    /// Round floats in reply lines to this many significant figures.
    float_digits: Option<usize>,
}

/// Seeds drawn for seedless resets stay below this, so a person can retype them.
const DRAWN_SEED_BOUND: usize = 1 << 32;

/// The observation as sent: the engine's observation plus which episode it
/// is (`seed`, `variant`), so any episode can be replayed.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ObservationOut<'a> {
    #[serde(flatten)]
    pub observation: crate::env::Observation<'a>,
    /// The seed of this episode: `reset` with it replays the episode.
    pub seed: u64,
    /// The task variant the seed picked ("base" when the task has none).
    pub variant: &'a str,
}

/// The `data` of an `observation` reply.
#[derive(Serialize, schemars::JsonSchema)]
pub struct StepReply<'a> {
    pub observation: ObservationOut<'a>,
    pub reward: f64,
    pub done: bool,
    /// Absent on the reply to `reset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<&'a StepInfo>,
}

/// The `data` of a `state` reply.
#[derive(Serialize, schemars::JsonSchema)]
pub struct StateReply<'a> {
    pub task_id: &'a str,
    pub seed: u64,
    pub variant: &'a str,
    pub run_id: &'a str,
    pub step_count: usize,
    pub max_steps: usize,
    pub done: bool,
    pub terminated: bool,
    pub truncated: bool,
    pub total_reward: f64,
    pub score: f64,
    pub available_actions: Vec<&'static str>,
    pub episode_state: crate::env::observation::EpisodeStateView<'a>,
}

/// The `data` of a `grade` reply.
#[derive(Serialize, schemars::JsonSchema)]
pub struct GradeReply<'a> {
    pub task_id: &'a str,
    pub score: f64,
    pub breakdown: &'a [crate::env::grade::GradeItem],
    /// Before the end: the credit not yet earned (what it is for stays hidden).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub still_available: Option<f64>,
    pub steps: usize,
    pub done: bool,
    pub total_reward: f64,
    /// The debrief (`bug`, `signs` checked on the played run, `fix`,
    /// `reference`) once done; null before.
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    pub debrief: Option<crate::task::schema::Debrief>,
    /// For a mystery episode once done: the task it was. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmasked: Option<&'a crate::task::catalogue::Unmasked>,
}

/// The `data` of a `render` reply.
#[derive(Serialize, schemars::JsonSchema)]
pub struct RenderReply {
    pub format: RenderFormat,
    /// The observation as compact text.
    pub text: String,
}

/// The `data` of a `tasks` reply.
#[derive(Serialize, schemars::JsonSchema)]
pub struct TasksReply<'a> {
    pub tasks: Vec<TaskEntry<'a>>,
}

/// The `data` of `subscribed` and `unsubscribed` replies.
#[derive(Serialize, schemars::JsonSchema)]
pub struct EventsReply {
    /// The events subscribed to now.
    pub events: Vec<&'static str>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct TaskEntry<'a> {
    id: &'a str,
    title: &'a str,
    summary: &'a str,
    difficulty: &'a str,
    /// The category: the root-cause label the task teaches.
    category: &'a str,
    /// Where the fault lives: `data`, `optimisation` or `program`.
    group: &'a str,
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
    fn playing(&mut self, task: &PlayedTask) {
        self.out.playing(task);
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
    /// A session whose seedless resets draw from the sequence of session seed 0;
    /// see [`Session::seeded`].
    pub fn new(tasks: TaskSet, clock: Box<dyn Clock + Send>, subscribe_all: bool) -> Self {
        Session {
            tasks,
            episode: None,
            abandoned: None,
            seeds: SimRng::new(0, SEED_STREAM),
            session_seed: 0,
            last_task: None,
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

    /// Draw the seeds of seedless resets from `session_seed`'s sequence.
    pub fn seeded(mut self, session_seed: u64) -> Self {
        self.seeds = SimRng::new(session_seed, SEED_STREAM);
        self.session_seed = session_seed;
        self
    }

    pub fn session_seed(&self) -> u64 {
        self.session_seed
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
                    EventsReply {
                        events: self.subscribed(),
                    },
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
                        EventsReply {
                            events: self.subscribed(),
                        },
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
        let task_id = data.task_id.as_ref().or(self.last_task.as_ref());
        // An unknown id is refused before a seed is drawn, so a refused reset
        // leaves the session's sequence of seeds where it was.
        if let Some(task_id) = task_id
            && task_id != crate::task::catalogue::MYSTERY_ID
            && self.tasks.get(task_id).is_none()
        {
            return Err(ProtocolError::new(
                ErrorCode::UnknownTask,
                // Not the list of ids: it grows with the catalogue, and the
                // `tasks` request gives it with titles.
                format!(
                    "unknown task '{task_id}' (the `tasks` request lists them; or '{}' for a random one)",
                    crate::task::catalogue::MYSTERY_ID
                ),
            ));
        }
        let seed = match data.seed {
            Some(seed) => seed,
            None => self.seeds.below(DRAWN_SEED_BOUND) as u64,
        };
        let task = match task_id {
            Some(task_id) => self.tasks.resolve(task_id, seed),
            None => self.tasks.first(),
        }
        .ok_or_else(|| ProtocolError::new(ErrorCode::ExecutionError, "no task is loaded"))?;
        self.last_task = Some(task.id().to_string());
        out.playing(&PlayedTask {
            id: task.real_id().to_string(),
            hash: task.hash.clone(),
        });
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
                observation: observe(episode),
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
                observation: observe(episode),
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
            StateReply {
                task_id: episode.task().id(),
                seed: episode.seed(),
                variant: variant_name(episode),
                run_id: observation.run_id,
                step_count: episode.step_count(),
                max_steps: episode.task().file.max_steps,
                done: episode.is_done(),
                terminated: episode.is_terminated(),
                truncated: episode.is_truncated(),
                total_reward: episode.total_reward(),
                score: episode.grade().score,
                available_actions: observation.available_actions,
                episode_state: observation.episode_state,
            },
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
            RenderReply {
                format: data.format,
                text,
            },
        ))
    }

    fn grade(&self, id: Option<&Value>) -> Result<String, ProtocolError> {
        let episode = self.current()?;
        let grade = episode.grade();
        Ok(reply(
            "grade",
            id,
            GradeReply {
                task_id: episode.task().id(),
                score: grade.score,
                breakdown: &grade.breakdown,
                still_available: grade.still_available,
                steps: episode.step_count(),
                done: episode.is_done(),
                total_reward: episode.total_reward(),
                debrief: episode.is_done().then(|| episode.debrief()),
                unmasked: episode
                    .task()
                    .unmasked
                    .as_ref()
                    .filter(|_| episode.is_done()),
            },
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
                category: &t.file.root_cause,
                group: crate::vocab::group_of(&t.file.root_cause).map_or("other", |g| g.name()),
                max_steps: t.file.max_steps,
                variants: t.file.variants.len().max(1),
                origin: &t.origin,
            })
            .collect();
        reply("tasks", id, TasksReply { tasks })
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

/// The name of the variant an episode's seed picked.
pub fn variant_name(episode: &Episode) -> &str {
    let task = episode.task();
    if task.unmasked.is_some() {
        // A variant's name would tell the cause.
        return crate::task::catalogue::MYSTERY_ID;
    }
    task.file
        .variants
        .get(task.variant_for_seed(episode.seed()))
        .map_or("base", |v| v.name.as_str())
}

fn observe(episode: &Episode) -> ObservationOut<'_> {
    ObservationOut {
        observation: episode.observation(),
        seed: episode.seed(),
        variant: variant_name(episode),
    }
}

/// The protocol's JSON Schema (see `crate::schema`).
pub fn schema() -> Value {
    crate::schema::document()
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

    fn assert_send<T: Send>() {}

    #[test]
    fn a_session_can_move_to_another_thread() {
        assert_send::<Session>();
    }

    fn resets(session_seed: u64) -> Vec<(Value, u64)> {
        let tasks = TaskSet::builtin().unwrap();
        let mut session = Session::new(tasks, Box::new(FixedClock), false).seeded(session_seed);
        [
            r#"{"type":"reset","data":{"task_id":"task_002"}}"#,
            r#"{"type":"reset"}"#,
        ]
        .iter()
        .map(|line| {
            let mut out = Vec::new();
            session.handle_line(line.as_bytes(), &mut NoSink, &mut out);
            let reply: Value = serde_json::from_str(&out[0]).unwrap();
            let obs = &reply["data"]["observation"];
            (obs["task_id"].clone(), obs["seed"].as_u64().unwrap())
        })
        .collect()
    }

    #[test]
    fn seedless_resets_draw_a_reproducible_sequence_and_keep_the_task() {
        let first = resets(7);
        assert_eq!(first, resets(7));
        assert_ne!(first, resets(8));
        assert_eq!(first[1].0, "task_002");
        assert_ne!(first[0].1, first[1].1);
    }
}
