//! Command-line parsing (clap) and dispatch to the front-ends. Returns the
//! process exit code; errors are reported here, once, with their context.

use crate::events::SystemClock;
use crate::record::Recorder;
use crate::replay;
use crate::report::{self, Case, Finding};
use crate::session::Session;
use crate::task::{self, TaskError, TaskSet};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "trainwreck",
    version,
    about = "Debug broken neural-network training runs: a game for people and agents",
    after_help = "With no command, starts the game. `trainwreck --serve` speaks JSON lines on stdin/stdout (docs/PROTOCOL.md)."
)]
pub struct Cli {
    /// Speak the JSON-lines protocol on stdin/stdout instead of playing.
    #[arg(long)]
    pub serve: bool,
    /// With --serve: subscribe to every training event from the start.
    #[arg(long, requires = "serve")]
    pub events: bool,
    /// With --serve: round every float in the replies to N significant
    /// figures (shorter lines for LLM clients). Recordings keep full
    /// precision, so this cannot be combined with --record.
    #[arg(long, value_name = "N", requires = "serve", conflicts_with = "record",
          value_parser = clap::value_parser!(u8).range(1..=17))]
    pub float_digits: Option<u8>,
    /// Start with this task.
    #[arg(long, value_name = "ID")]
    pub task: Option<String>,
    /// Start with a mystery: a task drawn from the catalogue by the seed,
    /// its title and cause hidden until the end (same as `--task mystery`).
    #[arg(long, conflicts_with = "task")]
    pub mystery: bool,
    /// Seed of the episode (which variant, which data, which init): a whole number, 0 or more.
    /// With --serve: seeds the session's sequence of seeds for resets without one.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Load more task files from this directory (repeatable).
    #[arg(long = "tasks-dir", value_name = "DIR", global = true)]
    pub tasks_dirs: Vec<PathBuf>,
    /// Record the session as JSON lines to FILE (replay with `trainwreck replay FILE`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A seed as typed: a whole number from 0 up, said plainly when it is not one.
fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim().parse::<u64>().map_err(|_| {
        format!(
            "the seed must be a whole number from 0 to {}, got '{text}'",
            u64::MAX
        )
    })
}

/// Paths named on the command line that do not exist: reported, and the
/// command stops with the usage exit code before doing anything.
fn missing(paths: &[PathBuf]) -> bool {
    let absent: Vec<&PathBuf> = paths.iter().filter(|p| !p.exists()).collect();
    for p in &absent {
        eprintln!("error: {}: no such file or directory", p.display());
    }
    !absent.is_empty()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the tasks, or check task files.
    Tasks {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<TasksAction>,
    },
    /// Re-run recorded episodes and fail on any divergence.
    ///
    /// Exit 0 when all match, 1 on a divergence or a failed walkthrough, 2
    /// when a recording is unusable (not a recording, cut off, recorded
    /// against other tasks) or none was given.
    Replay {
        /// Recordings (.jsonl files, or directories of them).
        paths: Vec<PathBuf>,
        /// Also play every task's walkthrough and check its score.
        #[arg(long)]
        walkthroughs: bool,
        /// How failures are written: `human` (file:N: … on stderr) or
        /// `github` (::error annotations on stdout).
        #[arg(long, value_enum, default_value_t = ReplayFormat::Human)]
        format: ReplayFormat,
        /// Also write a JUnit XML report to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Print the protocol's JSON Schema (draft 2020-12).
    Schema,
    /// Play every task × seed with an agent and print a leaderboard.
    Eval(crate::eval::EvalArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    Human,
    Github,
}

#[derive(Debug, Subcommand)]
pub enum TasksAction {
    /// Validate task files; exit non-zero with every error.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Seeds each variant is played on (CI plays many: a verdict must
        /// hold on every seed, not just the first few).
        #[arg(long, default_value_t = AUDIT_SEEDS, value_parser = clap::value_parser!(u16).range(1..=1000))]
        seeds: u16,
    },
}

fn report(errors: &[TaskError]) {
    for e in errors {
        eprintln!("error: {e}");
    }
}

fn load_tasks(dirs: &[PathBuf]) -> Option<TaskSet> {
    match TaskSet::with_dirs(dirs) {
        Ok(set) => Some(set),
        Err(errors) => {
            report(&errors);
            None
        }
    }
}

pub fn run(cli: Cli) -> i32 {
    if !cli.serve {
        // `trainwreck replay … | head` ends like any Unix filter: quietly.
        crate::pipe::die_quietly_on_broken_pipe();
    }
    match cli.command {
        Some(Command::Tasks {
            action: Some(TasksAction::Check { paths, seeds }),
            ..
        }) => {
            if missing(&paths) {
                return 2;
            }
            check(&paths, usize::from(seeds))
        }
        Some(Command::Tasks { json, action: None }) => {
            let Some(tasks) = load_tasks(&cli.tasks_dirs) else {
                return 2;
            };
            crate::repl::render::print_task_list(&tasks, json, cli.color);
            0
        }
        Some(Command::Replay {
            paths,
            walkthroughs,
            format,
            junit,
        }) => {
            if missing(&paths) {
                return 2;
            }
            let Some(tasks) = load_tasks(&cli.tasks_dirs) else {
                return 2;
            };
            let format = match format {
                ReplayFormat::Human => report::Format::Human,
                ReplayFormat::Github => report::Format::Github,
            };
            replay_all(&tasks, &paths, walkthroughs, format, junit.as_deref())
        }
        Some(Command::Schema) => match serde_json::to_string_pretty(&crate::schema::document()) {
            Ok(text) => {
                println!("{text}");
                0
            }
            Err(e) => {
                eprintln!("error: cannot print the schema: {e}");
                1
            }
        },
        Some(Command::Eval(args)) => {
            let Some(tasks) = load_tasks(&cli.tasks_dirs) else {
                return 2;
            };
            crate::eval::run(tasks, &args)
        }
        None => {
            let Some(tasks) = load_tasks(&cli.tasks_dirs) else {
                return 2;
            };
            if cli.serve {
                serve(tasks, &cli)
            } else {
                crate::repl::run(tasks, &cli)
            }
        }
    }
}

fn serve(tasks: TaskSet, cli: &Cli) -> i32 {
    // Gymnasium-like: seedless resets draw from the session's own sequence,
    // seeded by --seed or, without it, from entropy; recorded so replay agrees.
    let session_seed = cli.seed.unwrap_or_else(rand::random);
    let recorder = match &cli.record {
        Some(path) => match Recorder::create_seeded(path, None, cli.events, session_seed) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("error: cannot record to {}: {e}", path.display());
                return 2;
            }
        },
        None => None,
    };
    let mut session =
        Session::new(tasks, Box::new(SystemClock::default()), cli.events).seeded(session_seed);
    session.set_float_digits(cli.float_digits.map(usize::from));
    match crate::serve::serve(&mut session, recorder) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Seeds per variant `tasks check` plays unless told.
const AUDIT_SEEDS: u16 = 4;

fn check(paths: &[PathBuf], seeds_per_variant: usize) -> i32 {
    let files = crate::files::expand(paths, &["toml", "json"]);
    let mut failed = 0;
    // An id may be defined once, among the built-ins and the files given, as
    // when the files are loaded with --tasks-dir; a built-in's own file (the
    // same bytes) is that built-in, not a second definition.
    let mut defined: std::collections::BTreeMap<String, (String, String)> = TaskSet::builtin()
        .map(|set| {
            set.iter()
                .map(|t| (t.id().to_string(), (t.origin.clone(), t.hash.clone())))
                .collect()
        })
        .unwrap_or_default();
    for file in &files {
        match task::load_file(file) {
            Ok(t) => match defined.get(t.id()) {
                Some((first, hash)) if *hash != t.hash || !first.starts_with("builtin:") => {
                    failed += 1;
                    report(&[TaskError::Duplicate {
                        id: t.id().to_string(),
                        first: first.clone(),
                        second: t.origin.clone(),
                    }]);
                }
                known => {
                    let builtin = known.is_some();
                    // Playing the task is the only way to know its runs tell
                    // the story it claims: a healthy reference, a broken run
                    // that is really broken, herrings that do not cure it.
                    let findings = crate::env::audit::audit(
                        &std::sync::Arc::new(t.clone()),
                        seeds_per_variant,
                    );
                    if findings.is_empty() {
                        let note = if builtin { ", built in" } else { "" };
                        println!("ok: {} ({}{note})", file.display(), t.id());
                    } else {
                        failed += 1;
                        for finding in findings {
                            eprintln!(
                                "error: {}: {} when played: {finding}",
                                file.display(),
                                t.id()
                            );
                        }
                    }
                    if !builtin {
                        defined.insert(t.id().to_string(), (t.origin.clone(), t.hash.clone()));
                    }
                }
            },
            Err(errors) => {
                failed += 1;
                report(&errors);
            }
        }
    }
    println!(
        "{} checked, {failed} with errors",
        report::plural(files.len(), "task file")
    );
    if failed > 0 || files.is_empty() { 1 } else { 0 }
}

fn replay_all(
    tasks: &TaskSet,
    paths: &[PathBuf],
    walkthroughs: bool,
    format: report::Format,
    junit: Option<&std::path::Path>,
) -> i32 {
    if paths.is_empty() && !walkthroughs {
        eprintln!(
            "error: nothing to replay: name recordings (.jsonl files or directories of them), or pass --walkthroughs"
        );
        return 2;
    }
    let files = replay::collect(paths);
    if !paths.is_empty() && files.is_empty() {
        let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "error: no recordings (.jsonl files) in {}",
            named.join(", ")
        );
        return 2;
    }
    let show = |case: &Case| match &case.finding {
        None => println!("ok: {} ({})", case.name, case.detail),
        Some(f) => match format {
            report::Format::Human => eprintln!("{}", f.human(&case.name)),
            report::Format::Github => println!("{}", f.github(&case.name)),
        },
    };
    let mut cases = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        let case = Case::recording(&name, &replay::replay_file(file, tasks));
        show(&case);
        cases.push(case);
    }
    if walkthroughs {
        for r in replay::walkthroughs(tasks) {
            let ok = r.done && r.score >= replay::WALKTHROUGH_MIN_SCORE;
            let name = format!("walkthrough {} seed {} ({})", r.task_id, r.seed, r.variant);
            let score = format!(
                "score {:.2}{}",
                r.score,
                if r.done { "" } else { ", not done" }
            );
            let case = Case {
                suite: "walkthroughs",
                detail: score.clone(),
                finding: (!ok).then(|| Finding {
                    file: None,
                    line: 0,
                    title: "walkthrough failed",
                    message: format!(
                        "walkthrough failed: {score} (needs {:.2} and done)",
                        replay::WALKTHROUGH_MIN_SCORE
                    ),
                    unusable: false,
                }),
                name,
            };
            show(&case);
            cases.push(case);
        }
    }
    let failed_in = |suite: &str, title: &str| {
        cases
            .iter()
            .filter(|c| c.suite == suite && c.finding.as_ref().is_some_and(|f| f.title == title))
            .count()
    };
    let diverged = failed_in("recordings", "diverged");
    let unusable = failed_in("recordings", "unusable");
    let walk_failed = failed_in("walkthroughs", "walkthrough failed");
    println!(
        "{} replayed, {diverged} diverged, {unusable} unusable{}",
        report::plural(files.len(), "episode"),
        if walkthroughs {
            format!("; walkthroughs: {walk_failed} failed")
        } else {
            String::new()
        }
    );
    if let Some(path) = junit
        && let Err(e) = std::fs::write(path, report::junit(&cases))
    {
        eprintln!(
            "error: cannot write the JUnit report {}: {e}",
            path.display()
        );
        return 2;
    }
    if unusable > 0 {
        2
    } else if diverged > 0 || walk_failed > 0 {
        1
    } else {
        0
    }
}
