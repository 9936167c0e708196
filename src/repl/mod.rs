//! The human game: a rustyline REPL over the same session the JSON protocol
//! uses (so `--record` works the same), with charts, tables, colour, tab
//! completion, a live view of each run and a debrief at the end. When stdin is
//! not a terminal it reads plain lines and echoes prompt and input, so a piped
//! session reads as a transcript.

pub mod check;
pub mod command;
pub mod help;
pub mod live;
pub mod outcome;
pub mod progress;
pub mod render;

use crate::cli::Cli;
use crate::env::observation::RunView;
use crate::events::SystemClock;
use crate::record::Recorder;
use crate::session::{Collected, Session};
use crate::task::{TaskSet, catalogue};
use crate::vocab;
use command::Command;
use live::LiveRun;
use progress::Progress;
use render::Style;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::hint::HistoryHinter;
use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

const PROMPT: &str = "trainwreck> ";

/// Longest command line read; a longer one is skipped without being kept.
const MAX_COMMAND_BYTES: usize = 4096;

fn too_long(len: usize) -> String {
    format!("That line has {len} bytes; commands are at most {MAX_COMMAND_BYTES}. Ignored.")
}

/// What completion needs to know about the game, shared with the editor.
#[derive(Debug, Default)]
struct Known {
    task_ids: Vec<String>,
    /// train.py as the player has seen it (empty until `inspect code`).
    code: Vec<String>,
    /// The current value of each config target, as `set` would take it.
    config: Vec<(String, String)>,
}

#[derive(Helper, Hinter, Highlighter, Validator)]
struct LineHelper {
    known: Arc<Mutex<Known>>,
    #[rustyline(Hinter)]
    hinter: HistoryHinter,
}

impl Completer for LineHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        // After the last whitespace character, whatever its width in bytes.
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8());
        let words: Vec<&str> = before[..start].split_whitespace().collect();
        let known = self
            .known
            .lock()
            .map_err(|_| rustyline::error::ReadlineError::Interrupted)?;
        let owned: Vec<String>;
        let options: Vec<&str> = match words.as_slice() {
            [] => command::WORDS.to_vec(),
            ["inspect"] => command::inspect_targets().map(|(n, _)| n).collect(),
            ["set"] => check::target_names(),
            ["set", target] => match vocab::config_target(target) {
                Some(t) if !t.range.words().is_empty() => t.range.words(),
                // A number: offer the value it has now, to edit.
                Some(t) => known
                    .config
                    .iter()
                    .filter(|(name, _)| name == t.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
                None => Vec::new(),
            },
            ["optimizer"] => vocab::names(vocab::OPTIMIZERS).collect(),
            ["callback"] => vocab::names(vocab::CALLBACKS).collect(),
            ["patch"] => std::iter::once("data")
                .chain(vocab::names(vocab::DATA_PATCHES))
                .collect(),
            ["patch", "data"] => vocab::names(vocab::DATA_PATCHES).collect(),
            ["fix"] => vec!["modes", "line"],
            ["fix", "line"] => {
                owned = (1..=known.code.len()).map(|n| n.to_string()).collect();
                owned.iter().map(String::as_str).collect()
            }
            // `fix line N <Tab>`: the line as it is now, to edit.
            ["fix", "line", n] if start == pos => n
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| known.code.get(i))
                .map(|line| line.trim())
                .into_iter()
                .collect(),
            ["diagnose"] => vocab::DIAGNOSES.to_vec(),
            ["play"] => known
                .task_ids
                .iter()
                .map(String::as_str)
                .chain([catalogue::MYSTERY_ID])
                .collect(),
            ["help"] => command::WORDS.to_vec(),
            ["help", "set"] => check::target_names(),
            _ => Vec::new(),
        };
        let prefix = &before[start..];
        let pairs = options
            .into_iter()
            .filter(|o| o.starts_with(prefix))
            .map(|o| Pair {
                display: o.to_string(),
                // A word is followed by a space; a line of code is left to edit.
                replacement: if o.contains(' ') || o.contains('(') {
                    o.to_string()
                } else {
                    format!("{o} ")
                },
            })
            .collect();
        Ok((start, pairs))
    }
}

/// Where lines come from: the line editor, or plain stdin.
enum Input {
    Editor(Box<Editor<LineHelper, rustyline::history::DefaultHistory>>),
    Plain(std::io::StdinLock<'static>),
}

struct Game {
    session: Session,
    style: Style,
    progress: Progress,
    recorder: Option<Recorder>,
    live: LiveRun,
    known: Arc<Mutex<Known>>,
    previous_run: Option<RunView>,
    last_task: Option<String>,
}

/// A seed for a player who did not choose one: below 1000, so it is easy to
/// read back and type again (`play task_003 417`).
fn random_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64 % 1000)
}

impl Game {
    /// Send one request through the session (and the recorder); returns the replies.
    fn send(&mut self, request: Value) -> Vec<Value> {
        let line = request.to_string();
        if let Some(r) = self.recorder.as_mut()
            && let Err(e) = r.input(line.as_bytes())
        {
            eprintln!("{}", self.style.warn(&format!("recording stopped: {e}")));
            self.recorder = None;
        }
        let mut out = Collected::default();
        self.session
            .handle_line(line.as_bytes(), &mut self.live, &mut out);
        let Collected { lines: out, played } = out;
        if let Some(r) = self.recorder.as_mut() {
            let interrupt = self.live.stopped_after.take();
            let written = played
                .map_or(Ok(()), |task| r.played(&task))
                .and_then(|()| interrupt.map_or(Ok(()), |epoch| r.interrupt(epoch)));
            if let Err(e) = written {
                eprintln!("{}", self.style.warn(&format!("recording stopped: {e}")));
            }
            for reply in &out {
                if let Err(e) = r.output(reply) {
                    eprintln!("{}", self.style.warn(&format!("recording stopped: {e}")));
                    self.recorder = None;
                    break;
                }
            }
        }
        out.iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Print `text`, prose wrapped to the terminal (tables and charts already fit).
    fn say(&self, text: &str) {
        println!("{}", self.style.wrap(text, ""));
    }

    /// What completion offers, brought up to date with the episode.
    fn refresh_known(&self) {
        let Ok(mut known) = self.known.lock() else {
            return;
        };
        let Some(ep) = self.session.episode() else {
            known.code.clear();
            known.config.clear();
            return;
        };
        known.code = if ep.available_actions().contains(&"fix_code") {
            ep.program().render().lines().map(str::to_string).collect()
        } else {
            Vec::new()
        };
        known.config = match serde_json::to_value(ep.config()) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, text)
                })
                .collect(),
            _ => Vec::new(),
        };
    }

    fn welcome(&self) {
        let s = &self.style;
        self.say(&format!(
            "{} — debug broken neural-network training runs.\n",
            s.strong("trainwreck")
        ));
        let (progress, next) =
            render::category_progress(self.session.tasks(), &|id| self.progress.best(id), s);
        self.say(&progress);
        let start = match next {
            Some(task) => format!(
                "Type {} to begin (the easiest category you have not solved), {} for a case whose cause is hidden",
                s.accent(&format!("play {task}")),
                s.accent(&format!("play {}", catalogue::MYSTERY_ID))
            ),
            None => format!(
                "Every category is solved. Try {} for a case whose cause is hidden",
                s.accent(&format!("play {}", catalogue::MYSTERY_ID))
            ),
        };
        self.say(&format!(
            "\n{start}; {} lists the tasks, {} all commands, Tab completes.",
            s.accent("tasks"),
            s.accent("help")
        ));
    }

    /// Start `task`; `Err` says why it cannot start.
    fn play(&mut self, task: &str, seed: Option<u64>) -> Result<(), String> {
        let seed = seed.unwrap_or_else(random_seed);
        self.previous_run = None;
        let replies = self.send(json!({"type": "reset", "data": {"task_id": task, "seed": seed}}));
        if let Some(err) = error_of(&replies) {
            return Err(err);
        }
        self.last_task = Some(task.to_string());
        let Some(ep) = self.session.episode() else {
            return Err("no episode started".into());
        };
        let s = &self.style;
        let f = &ep.task().file;
        let obs = ep.observation();
        let mut text = vec![
            String::new(),
            s.strong(&format!("{} · {} · seed {seed}", f.id, f.title)),
            format!(
                "{} · {} steps · the run {}",
                if ep.task().unmasked.is_some() {
                    "cause hidden"
                } else {
                    f.difficulty.name()
                },
                f.max_steps,
                match obs.run_status {
                    "failed" => format!("failed in epoch {}", obs.epochs_completed),
                    "stopped" => format!("stopped after epoch {}", obs.epochs_completed),
                    _ => format!("completed {} epochs", obs.epochs_completed),
                }
            ),
            String::new(),
            format!("{} {}", s.accent("Notes:"), obs.notes),
        ];
        if let Some(log) = obs.error_log {
            text.push(s.accent("Error log:"));
            for line in log.lines() {
                text.push(s.wrap(&s.bad(line), "  "));
            }
        }
        text.push(format!(
            "GPU memory: {:.1} / {:.1} GB",
            obs.gpu_memory_used_gb, obs.gpu_memory_total_gb
        ));
        text.push(String::new());
        text.push(render::curves(ep.run(), None, s));
        text.push(format!(
            "\nInvestigate ({}), fix, {}, then {}.",
            s.accent("inspect gradients|data|modes|weights|code"),
            s.accent("restart"),
            s.accent("diagnose <label>")
        ));
        self.say(&text.join("\n"));
        Ok(())
    }

    fn act(&mut self, request: crate::env::ActionRequest) {
        let Some(ep) = self.session.episode() else {
            return;
        };
        // A slip costs nothing: whatever can be checked here is, before a step is spent.
        if let Err(slip) = check::check(&request, ep) {
            self.say(&self.style.warn(&format!("✗ {slip} (no step used)")));
            return;
        }
        let before = outcome::Before::of(ep);
        let previous = ep.run().clone();
        let replies = self.send(json!({"type": "step", "data": request}));
        if let Some(err) = error_of(&replies) {
            self.say(&self.style.warn(&err));
            return;
        }
        let Some(reply) = replies.iter().rev().find(|r| r["type"] == "observation") else {
            return;
        };
        let data = &reply["data"];
        let Some(ep) = self.session.episode() else {
            return;
        };
        let s = &self.style;
        let mut text = Vec::new();
        if data["info"]["invalid"].as_bool().unwrap_or(false) {
            // Only a hand-typed protocol action gets here: answer in its words.
            let message = data["observation"]["message"].as_str().unwrap_or_default();
            text.push(s.warn(&format!("✗ {message}")));
        } else {
            let stopped = self.live.stopped_by_user;
            match request.action_type.as_str() {
                "inspect_gradients" => text.push(render::gradients(ep.run(), s)),
                "inspect_data_batch" => text.push(render::data(ep.run(), s)),
                "inspect_model_modes" => text.push(render::modes(ep.run(), s)),
                "inspect_model_weights" => text.push(render::weights(ep.run(), s)),
                "inspect_code" => text.push(render::code(ep, s)),
                "restart_run" => {
                    if stopped {
                        text.push(s.warn("Run stopped (Ctrl-C)."));
                    }
                    text.push(render::curves(ep.run(), Some(&previous), s));
                    self.previous_run = Some(previous);
                }
                _ => {}
            }
            let verdict = data["info"].get("verdict");
            text.extend(outcome::describe(
                &request, &before, ep, verdict, stopped, s,
            ));
        }
        let reward = data["reward"].as_f64().unwrap_or(0.0);
        text.push(format!(
            "{} {}",
            s.paint(
                &format!("reward {reward:+.2}"),
                outcome::reward_tone(reward)
            ),
            s.dim(&format!(
                "· total {:+.2} · step {}/{}",
                ep.total_reward(),
                ep.step_count(),
                ep.task().file.max_steps
            ))
        ));
        self.say(&text.join("\n"));
        if data["done"].as_bool().unwrap_or(false) {
            self.finish();
        }
    }

    fn finish(&mut self) {
        let Some(ep) = self.session.episode() else {
            return;
        };
        let s = &self.style;
        let grade = ep.grade();
        let task = ep.task().clone();
        let d = ep.debrief();
        let ending = if ep.is_truncated() {
            format!(
                "Out of steps ({} of {}): the episode is over.",
                ep.step_count(),
                task.file.max_steps
            )
        } else {
            "Episode over.".to_string()
        };
        let mut text = vec![
            String::new(),
            s.strong(&format!(
                "{ending} Score {:.2} · total reward {:+.2}",
                grade.score,
                ep.total_reward()
            )),
            render::grade(&grade, s),
            String::new(),
            s.strong("Debrief"),
            s.wrap(&format!("{} {}", s.accent("The bug:"), d.bug), "  "),
            s.accent("The signs:"),
        ];
        text.extend(
            d.signs
                .iter()
                .map(|sign| s.wrap(&format!("  • {sign}"), "    ")),
        );
        text.push(s.wrap(&format!("{} {}", s.accent("The fix:"), d.fix), "  "));
        if let Some(second) = &d.secondary {
            text.push(s.wrap(
                &format!(
                    "{} {}",
                    s.accent(&format!("The second fault, {}:", second.cause)),
                    second.bug
                ),
                "  ",
            ));
            text.push(s.wrap(&format!("{} {}", s.accent("Its fix:"), second.fix), "  "));
        }
        if let Some(r) = &d.reference {
            text.push(s.dim(&format!("Read more: {r}")));
        }
        // A mystery counts for the task it really was.
        let played = task
            .unmasked
            .as_ref()
            .map_or(task.id(), |u| u.task_id.as_str());
        if let Some(real) = &task.unmasked {
            text.push(s.strong(&format!(
                "The mystery was {} (\"{}\"), a case of {}.",
                real.task_id, real.title, real.category
            )));
        }
        let warning = self.progress.record(played, grade.score);
        if let Some(next) = self.next_task() {
            text.push(format!(
                "\nNext: {} (or {} for the list).",
                s.accent(&format!("play {next}")),
                s.accent("tasks")
            ));
        } else {
            text.push(format!(
                "\n{}",
                s.good("Every task solved. Try other seeds: play <task> <seed>.")
            ));
        }
        self.say(&text.join("\n"));
        if let Some(w) = warning {
            self.say(&s.warn(&w));
        }
    }

    /// The first unsolved task of the easiest unsolved category.
    fn next_task(&self) -> Option<String> {
        let (_, next) = render::category_progress(
            self.session.tasks(),
            &|id| self.progress.best(id),
            &self.style,
        );
        next
    }

    fn need_episode(&self) -> bool {
        if self.session.episode().is_none() {
            self.say(
                &self
                    .style
                    .warn("No episode yet: `play task_001` to start one."),
            );
            return false;
        }
        true
    }

    /// What the player can do now, in the REPL's commands.
    fn actions_now(&self, ep: &crate::env::Episode) -> String {
        let s = &self.style;
        if ep.is_done() {
            return format!(
                "This episode is over: {} or {} starts another.",
                s.accent("next"),
                s.accent("play <task>")
            );
        }
        let available = ep.available_actions();
        let usage = |kind: &str| match kind {
            "modify_config" => "set <target> <value>",
            "add_callback" => "callback <name>",
            "replace_optimizer" => "optimizer <name>",
            "patch_data_loader" => "patch data [<patch>]",
            "fix_model_mode" => "fix modes",
            "fix_code" => "fix line <n> <code>",
            "restart_run" => "restart",
            "mark_diagnosed" => "diagnose <label>",
            _ => "",
        };
        let mut now = vec![format!(
            "inspect {}",
            command::inspect_targets()
                .map(|(w, _)| w)
                .collect::<Vec<_>>()
                .join("|")
        )];
        now.extend(
            available
                .iter()
                .map(|k| usage(k))
                .filter(|u| !u.is_empty())
                .map(str::to_string),
        );
        let mut lines = vec![s.strong("You can now:")];
        lines.extend(now.iter().map(|u| format!("  {}", s.accent(u))));
        let mut later = Vec::new();
        if !available.contains(&"fix_code") {
            later.push(format!(
                "  {} after {}",
                s.accent("fix line <n> <code>"),
                s.accent("inspect code")
            ));
        }
        if !available.contains(&"restart_run") {
            later.push(format!("  {} after a change", s.accent("restart")));
        }
        if !later.is_empty() {
            lines.push(s.strong("Later:"));
            lines.extend(later);
        }
        lines.join("\n")
    }

    /// Handle one line; false to quit.
    fn line(&mut self, line: &str) -> bool {
        let command = match command::parse(line) {
            Ok(Some(c)) => c,
            Ok(None) => return true,
            Err(why) => {
                self.say(&self.style.warn(&why));
                return true;
            }
        };
        let s = self.style;
        match command {
            Command::Quit => return false,
            Command::Help(None) => self.say(&help::overview(&s)),
            Command::Help(Some(word)) => match help::topic(&word, self.session.episode(), &s) {
                Some(text) => self.say(&text),
                None => {
                    let head = word.split_whitespace().next().unwrap_or_default();
                    let hint = command::suggest(head)
                        .map(|w| format!("; did you mean '{w}'?"))
                        .unwrap_or_default();
                    self.say(&s.warn(&format!(
                        "no command '{head}'{hint} (`help` lists them all)"
                    )));
                }
            },
            Command::Tasks => self.say(&render::task_list(
                self.session.tasks(),
                &|id| self.progress.best(id),
                &s,
            )),
            Command::Play { task, seed } => {
                if let Err(why) = self.play(&task, seed) {
                    self.say(&s.bad(&why));
                }
            }
            Command::Next => match self.next_task() {
                Some(t) => {
                    if let Err(why) = self.play(&t, None) {
                        self.say(&s.bad(&why));
                    }
                }
                None => {
                    self.say(&s.good("Every task solved. Try other seeds: play <task> <seed>."))
                }
            },
            Command::Action(req) => {
                if self.need_episode() {
                    self.act(req);
                }
            }
            Command::Status
            | Command::Grade
            | Command::Curves
            | Command::Config
            | Command::Code
            | Command::Actions => {
                if !self.need_episode() {
                    return true;
                }
                let Some(ep) = self.session.episode() else {
                    return true;
                };
                let text = match command {
                    Command::Curves => render::curves(ep.run(), self.previous_run.as_ref(), &s),
                    Command::Config => render::config(ep, &s),
                    Command::Code if ep.observation().code_snippet.is_none() => {
                        s.warn("train.py is not open yet: `inspect code` first.")
                    }
                    Command::Code => render::code(ep, &s),
                    Command::Actions => self.actions_now(ep),
                    Command::Grade => render::grade(&ep.grade(), &s),
                    _ => format!(
                        "{} · seed {} · step {}/{} · total reward {:+.2} · score so far {:.2}{}",
                        ep.task().id(),
                        ep.seed(),
                        ep.step_count(),
                        ep.task().file.max_steps,
                        ep.total_reward(),
                        ep.grade().score,
                        if ep.is_done() { " · done" } else { "" }
                    ),
                };
                self.say(&text);
            }
        }
        self.refresh_known();
        true
    }
}

fn error_of(replies: &[Value]) -> Option<String> {
    replies
        .iter()
        .find(|r| r["type"] == "error")
        .map(|r| r["data"]["message"].as_str().unwrap_or("error").to_string())
}

pub fn run(tasks: TaskSet, cli: &Cli) -> i32 {
    let interactive = std::io::stdin().is_terminal();
    let style = Style::detect(cli.color);
    let recorder = match &cli.record {
        Some(path) => {
            let task = cli
                .task
                .as_deref()
                .or(cli.mystery.then_some(catalogue::MYSTERY_ID));
            let start = task.map(|t| (t, cli.seed.unwrap_or(0)));
            // A recording keeps the training events too.
            match Recorder::create(path, start, true) {
                Ok(r) => Some(r),
                Err(e) => {
                    eprintln!("error: cannot record to {}: {e}", path.display());
                    return 2;
                }
            }
        }
        None => None,
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // Only a run in progress reads the flag; at the prompt rustyline owns Ctrl-C.
        let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
    }
    let known = Arc::new(Mutex::new(Known {
        task_ids: tasks.ids(),
        ..Known::default()
    }));
    let progress = Progress::load();
    let mut game = Game {
        session: Session::new(
            tasks,
            Box::new(SystemClock::default()),
            cli.record.is_some(),
        ),
        style,
        progress,
        recorder,
        live: LiveRun::new(
            interrupted,
            interactive && std::io::stderr().is_terminal(),
            style.width,
        ),
        known: known.clone(),
        previous_run: None,
        last_task: None,
    };
    if let Some(w) = &game.progress.warning {
        eprintln!("{}", style.warn(&format!("note: {w}")));
    }
    let start = cli
        .task
        .clone()
        .or_else(|| cli.mystery.then(|| catalogue::MYSTERY_ID.to_string()));
    match &start {
        Some(task) => {
            if let Err(why) = game.play(task, Some(cli.seed.unwrap_or_else(random_seed))) {
                eprintln!("error: {why}");
                return 2; // a task named on the command line must exist
            }
            game.refresh_known();
        }
        None => game.welcome(),
    }
    let history = Progress::history_path();
    let mut input = if interactive {
        let config = rustyline::Config::builder()
            .completion_type(rustyline::CompletionType::List)
            .build();
        match Editor::with_config(config) {
            Ok(mut editor) => {
                editor.set_helper(Some(LineHelper {
                    known,
                    hinter: HistoryHinter::new(),
                }));
                if let Some(h) = &history {
                    let _ = editor.load_history(h);
                }
                Input::Editor(Box::new(editor))
            }
            Err(_) => Input::Plain(std::io::stdin().lock()),
        }
    } else {
        Input::Plain(std::io::stdin().lock())
    };
    loop {
        let line = match &mut input {
            Input::Editor(editor) => match editor.readline(PROMPT) {
                Ok(line) => {
                    let _ = editor.add_history_entry(line.as_str());
                    line
                }
                Err(ReadlineError::Interrupted) => continue,
                Err(_) => break,
            },
            Input::Plain(stdin) => {
                let mut bytes = Vec::new();
                match crate::serve::read_bounded_line(stdin, &mut bytes, MAX_COMMAND_BYTES) {
                    Ok(crate::serve::LineRead::Eof) | Err(_) => break,
                    Ok(crate::serve::LineRead::TooLong(len)) => {
                        println!("{PROMPT}…");
                        game.say(&style.warn(&too_long(len)));
                        continue;
                    }
                    Ok(crate::serve::LineRead::Line) => {
                        let line = String::from_utf8_lossy(&bytes).into_owned();
                        println!("{PROMPT}{line}");
                        line
                    }
                }
            }
        };
        if line.len() > MAX_COMMAND_BYTES {
            game.say(&style.warn(&too_long(line.len())));
            continue;
        }
        if !game.line(&line) {
            break;
        }
        let _ = std::io::stdout().flush();
    }
    if let (Input::Editor(editor), Some(h)) = (&mut input, &history) {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_after_a_wide_whitespace_character_does_not_panic() {
        let helper = LineHelper {
            known: Arc::new(Mutex::new(Known::default())),
            hinter: HistoryHinter::new(),
        };
        let history = rustyline::history::DefaultHistory::new();
        let ctx = Context::new(&history);
        // U+00A0 (no-break space) is whitespace and two bytes long.
        let line = "inspect\u{a0}gr";
        let (start, pairs) = helper.complete(line, line.len(), &ctx).unwrap();
        assert_eq!(&line[start..], "gr");
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].replacement, "gradients ");
        let (start, _) = helper.complete("\u{a0}", 2, &ctx).unwrap();
        assert_eq!(start, 2);
    }
}
