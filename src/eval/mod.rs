//! `trainwreck eval`: play every task × seed with an agent and rank it. An
//! episode is a fresh session driven the way `--serve` is, by lines; the
//! agent only sees observation (and error) reply lines and may only send
//! `step` (or `schema`) requests, so it cannot reset, grade or pick seeds.
//! Episodes are independent and their results kept by index, so the table
//! does not depend on how many threads played them.

mod agent;
mod board;
mod builtin;
mod evidence;
mod heuristic;
mod plan;
mod rules;

pub use agent::{Agent, AgentError, ProcessAgent};
pub use board::{Board, Row};
pub use builtin::RandomAgent;
pub use heuristic::Heuristic;
pub use plan::{EpisodeSpec, SeedRange, plan};
pub use rules::markdown_table as heuristic_rules_table;

use crate::events::{FixedClock, NoSink};
use crate::protocol::{self, ErrorCode, ProtocolError, Request, error_reply};
use crate::record::Recorder;
use crate::session::{Collected, Control, Session};
use crate::task::TaskSet;
use serde::Serialize;
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An episode counts as a success at the score walkthroughs must reach.
pub const SUCCESS_SCORE: f64 = 0.9;

/// Lines an agent may send per episode beyond `max_steps` (refused or
/// malformed lines cost no step, so this bounds an agent that only errs).
const SPARE_LINES: usize = 20;

#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// The agent: `random`, `heuristic`, or a shell command that reads
    /// observation lines on stdin and writes step request lines on stdout.
    #[arg(long, value_name = "CMD")]
    pub agent: String,
    /// Tasks to play (comma-separated ids); all by default.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub tasks: Vec<String>,
    /// Seeds to play for every task: `1..50` (both ends included), `7`, or `1,5,9`.
    #[arg(long, value_name = "RANGE", default_value = "1..10")]
    pub seeds: SeedRange,
    /// Play on this many threads (the result does not depend on it).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    /// Write one recording per episode into DIR (replay with `trainwreck replay DIR`).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Write every episode's result and the table as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Seconds to wait for one line from an external agent.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
}

/// How an episode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Terminated by a diagnosis or truncated at `max_steps`.
    Done,
    /// The agent closed its output before the episode was done.
    AgentQuit,
    /// The agent failed: it could not start, timed out or wrote garbage too often.
    AgentFailed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpisodeResult {
    pub task_id: String,
    pub seed: u64,
    pub variant: String,
    /// The fault category played (a mystery's unmasked one), told only in
    /// the results, never to the agent.
    pub category: String,
    pub score: f64,
    pub success: bool,
    pub steps: usize,
    pub total_reward: f64,
    pub ending: Ending,
    /// Why the agent failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Feed one line to the session, recording it; the replies come back.
fn exchange(
    session: &mut Session,
    recorder: &mut Option<Recorder>,
    line: &str,
) -> std::io::Result<Vec<String>> {
    let mut out = Collected::default();
    if let Some(r) = recorder.as_mut() {
        r.input(line.as_bytes())?;
    }
    let _: Control = session.handle_line(line.as_bytes(), &mut NoSink, &mut out);
    if let Some(r) = recorder.as_mut() {
        if let Some(played) = &out.played {
            r.played(played)?;
        }
        for reply in &out.lines {
            r.output(reply)?;
        }
    }
    Ok(out.lines)
}

/// Whether an agent may send this line; refused lines never reach the session.
fn admit(line: &str) -> Result<(), String> {
    match protocol::parse_line(line.as_bytes()) {
        Ok(Some(envelope)) => match envelope.request {
            Request::Step(_) | Request::Schema => Ok(()),
            _ => Err(error_reply(
                envelope.id.as_ref(),
                &ProtocolError::new(
                    ErrorCode::ValidationError,
                    "under trainwreck eval an agent sends only step (or schema) requests: \
                     the harness resets, grades and picks the seeds",
                ),
            )),
        },
        // Malformed lines go to the session, which answers with the usual error.
        Ok(None) | Err(_) => Ok(()),
    }
}

/// Play one episode to its end with `agent`.
pub fn play(
    tasks: &TaskSet,
    spec: &EpisodeSpec,
    agent: &mut dyn Agent,
    record: Option<&Path>,
) -> std::io::Result<EpisodeResult> {
    let mut session = Session::new(tasks.clone(), Box::new(FixedClock), false);
    let mut recorder = match record {
        Some(dir) => Some(Recorder::create(
            &dir.join(format!("{}_s{}.jsonl", spec.task_id, spec.seed)),
            None,
            false,
        )?),
        None => None,
    };
    let reset = json!({"type": "reset", "data": {"task_id": spec.task_id, "seed": spec.seed}});
    let mut last = exchange(&mut session, &mut recorder, &reset.to_string())?
        .pop()
        .unwrap_or_default();
    let max_steps = session.episode().map_or(0, |e| e.task().file.max_steps);
    let mut ending = Ending::Done;
    let mut problem = None;
    let mut lines = 0;
    while session.episode().is_some_and(|e| !e.is_done()) {
        if lines >= max_steps + SPARE_LINES {
            ending = Ending::AgentFailed;
            problem = Some(format!("{lines} lines without finishing the episode"));
            break;
        }
        lines += 1;
        let line = match agent.act(&last) {
            Ok(Some(line)) => line,
            Ok(None) => {
                ending = Ending::AgentQuit;
                break;
            }
            Err(e) => {
                ending = Ending::AgentFailed;
                problem = Some(e.to_string());
                break;
            }
        };
        last = match admit(&line) {
            Ok(()) => exchange(&mut session, &mut recorder, &line)?
                .pop()
                .unwrap_or_default(),
            Err(refusal) => refusal,
        };
    }
    // The agent sees the final observation too, so it can learn from it.
    if ending == Ending::Done {
        agent.finish(&last);
    }
    let episode = session.episode();
    let score = episode.map_or(0.0, |e| e.grade().score);
    Ok(EpisodeResult {
        task_id: spec.task_id.clone(),
        seed: spec.seed,
        variant: episode.map_or_else(String::new, |e| crate::session::variant_name(e).to_string()),
        category: episode.map_or_else(String::new, |e| {
            let task = e.task();
            task.unmasked
                .as_ref()
                .map_or_else(|| task.file.root_cause.clone(), |u| u.category.clone())
        }),
        score,
        success: ending == Ending::Done && score >= SUCCESS_SCORE,
        steps: episode.map_or(0, |e| e.step_count()),
        total_reward: episode.map_or(0.0, |e| e.total_reward()),
        ending,
        problem,
    })
}

/// Make the agent for one episode.
fn agent_for(args: &EvalArgs, spec: &EpisodeSpec) -> Result<Box<dyn Agent>, AgentError> {
    Ok(match args.agent.as_str() {
        "random" => Box::new(RandomAgent::new(&spec.task_id, spec.seed)),
        "heuristic" => Box::new(Heuristic::default()),
        command => Box::new(ProcessAgent::spawn(
            command,
            std::time::Duration::from_secs(args.timeout.max(1)),
        )?),
    })
}

/// Play every episode of `specs` on `jobs` threads; results in plan order.
pub fn evaluate(
    tasks: &TaskSet,
    specs: &[EpisodeSpec],
    args: &EvalArgs,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<EpisodeResult>, String> {
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<EpisodeResult, String>>>> =
        Mutex::new(vec![None; specs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.clamp(1, 64) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(spec) = specs.get(i) else { break };
                    let result = match agent_for(args, spec) {
                        Ok(mut agent) => {
                            let r = play(tasks, spec, agent.as_mut(), args.record.as_deref())
                                .map_err(|e| format!("{} seed {}: {e}", spec.task_id, spec.seed));
                            agent.close();
                            r
                        }
                        Err(e) => Ok(EpisodeResult {
                            task_id: spec.task_id.clone(),
                            seed: spec.seed,
                            variant: String::new(),
                            category: String::new(),
                            score: 0.0,
                            success: false,
                            steps: 0,
                            total_reward: 0.0,
                            ending: Ending::AgentFailed,
                            problem: Some(e.to_string()),
                        }),
                    };
                    if let Ok(mut slots) = results.lock()
                        && let Some(slot) = slots.get_mut(i)
                    {
                        *slot = Some(result);
                    }
                    progress(finished.fetch_add(1, Ordering::SeqCst) + 1, specs.len());
                }
            });
        }
    });
    let slots = results
        .into_inner()
        .map_err(|_| "an evaluation thread panicked".to_string())?;
    slots
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("an episode was not played".into())))
        .collect()
}

/// `trainwreck eval`: returns the exit code.
pub fn run(tasks: TaskSet, args: &EvalArgs) -> i32 {
    let specs = match plan(&tasks, &args.tasks, &args.seeds) {
        Ok(specs) => specs,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Some(dir) = &args.record
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("error: cannot record to {}: {e}", dir.display());
        return 2;
    }
    let tty = std::io::stderr().is_terminal();
    let step = (specs.len() / 10).max(1);
    let progress = |done: usize, total: usize| {
        if tty {
            eprint!("\reval: {done}/{total} episodes");
            if done == total {
                eprintln!();
            }
        } else if done.is_multiple_of(step) || done == total {
            eprintln!("eval: {done}/{total} episodes");
        }
    };
    let results = match evaluate(&tasks, &specs, args, &progress) {
        Ok(results) => results,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    for r in results.iter().filter(|r| r.problem.is_some()) {
        eprintln!(
            "warning: {} seed {}: {}",
            r.task_id,
            r.seed,
            r.problem.as_deref().unwrap_or_default()
        );
    }
    let board = Board::new(&results);
    print!("{}", board.markdown(&args.agent));
    if let Some(path) = &args.json {
        let doc = json!({
            "agent": args.agent,
            "seeds": args.seeds.to_string(),
            "success_score": SUCCESS_SCORE,
            "rows": board.rows,
            "overall": board.overall,
            "episodes": results,
        });
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("error: cannot write {}: {e}", path.display());
            return 1;
        }
    }
    0
}
