//! Fuzzing, in-process against the engine: random protocol lines, mutated
//! task files, and long random action sequences (every action of the
//! vocabulary, `fix_code` with lines from a grammar of train.py statements and
//! hostile strings). A property fails on a panic (the session turns one into
//! an `EXECUTION_ERROR` that says "internal error", so that is checked too),
//! a reply that is not a JSON object with a `type`, or an observation whose
//! code listing disagrees with its line count.
//!
//! CI runs a fixed budget of each (proptest chooses the seeds). The long
//! campaign is `scripts/fuzz.sh` (the ignored `long_campaign` test, sized by
//! `FUZZ_STEPS`).

use proptest::prelude::*;
use serde_json::{Value, json};
use trainwreck::events::{FixedClock, NoSink};
use trainwreck::session::Session;
use trainwreck::task::{self, TaskSet};
use trainwreck::vocab::{self, Range};

/// A small deterministic generator (splitmix64): the seed is the whole case.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const HOSTILE: &[&str] = &[
    "",
    " ",
    "\u{1b}[2J",
    "\u{1b}]0;pwned\u{7}",
    "a\nb",
    "line\r\nnext",
    "\0",
    "\t",
    "\u{a0}",
    "\u{202e}reversed",
    "é",
    "🚂",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "-0",
    "0x10",
    "true",
    "null",
    "{\"",
    "\\",
    "'; DROP TABLE tasks; --",
    "    ",
    "#",
];

fn hostile(g: &mut Gen) -> String {
    match g.below(4) {
        0 => "x".repeat(g.below(5000)),
        1 => {
            let bytes: Vec<u8> = (0..g.below(40)).map(|_| g.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => g.pick(HOSTILE).to_string(),
    }
}

/// A line of train.py from the grammar the program model knows, mostly well
/// formed, sometimes broken.
fn train_py_line(g: &mut Gen) -> String {
    // Every form the recogniser knows, and lines it must refuse or treat as text.
    const ODD: &[&str] = &[
        "optimizer.zero_grad",
        "for epoch in range(EPOCHS):",
        "for x, y in train_loader:",
        "for step, (x, y) in enumerate(train_loader):",
        "if (step + 1) % ACCUM_STEPS == 0:",
        "loss = criterion(output, y) / 4",
        "# a comment",
        "",
        "import torch",
        "print(loss)",
    ];
    let statements: Vec<&str> = trainwreck::sim::program::STATEMENT_FORMS
        .iter()
        .chain(ODD)
        .copied()
        .collect();
    let indent = " ".repeat(4 * g.below(4) + usize::from(g.chance(0.05)));
    let mut line = format!("{indent}{}", g.pick(&statements));
    if g.chance(0.1) {
        line.push_str("  # why");
    }
    if g.chance(0.1) {
        line.push_str(&hostile(g));
    }
    line
}

/// A value for a config target: mostly in range and cheap to train, then
/// boundaries, out of range, the wrong type and hostile text.
fn config_value(g: &mut Gen, range: &Range) -> Value {
    match g.below(10) {
        0 => json!(hostile(g)),
        1 => json!(g.chance(0.5)),
        2 => json!([1, 2]),
        3 => json!(f64::MAX),
        4 => json!(-1),
        _ => match range {
            Range::Real { min, max } => json!(if g.chance(0.5) {
                *min
            } else {
                min + (max - min) * g.below(1000) as f64 / 1000.0
            }),
            // Small counts keep the runs cheap; the top of the range is rare.
            Range::Count { min, max } => json!(if g.chance(0.05) {
                *max
            } else {
                (*min + g.below(6) as u64).min(*max)
            }),
            Range::Choice(terms) => json!(g.pick(terms).name),
            Range::Flag => json!(g.pick(&["true", "false", "yes", "maybe"])),
        },
    }
}

fn action(g: &mut Gen, code_lines: usize) -> Value {
    let action_type = if g.chance(0.03) {
        hostile(g)
    } else {
        (*g.pick(&vocab::ACTION_TYPES)).to_string()
    };
    let mut data = json!({ "action_type": action_type });
    match action_type.as_str() {
        "modify_config" => {
            let t = g.pick(vocab::CONFIG_TARGETS);
            data["target"] = json!(if g.chance(0.05) {
                hostile(g)
            } else if !t.aliases.is_empty() && g.chance(0.2) {
                (*g.pick(t.aliases)).to_string()
            } else {
                t.name.to_string()
            });
            if !g.chance(0.03) {
                data["value"] = config_value(g, &t.range);
            }
        }
        "add_callback" => {
            data["target"] = json!(if g.chance(0.1) {
                hostile(g)
            } else {
                g.pick(vocab::CALLBACKS).name.to_string()
            })
        }
        "patch_data_loader" if g.chance(0.8) => {
            data["target"] = json!(g.pick(vocab::DATA_PATCHES).name);
        }
        "replace_optimizer" => {
            data["value"] = json!(if g.chance(0.1) {
                hostile(g)
            } else {
                g.pick(vocab::OPTIMIZERS).name.to_string()
            })
        }
        "fix_code" => {
            data["line"] = json!(match g.below(10) {
                0 => 0,
                1 => code_lines + 1 + g.below(5),
                2 => u64::MAX as usize,
                _ => 1 + g.below(code_lines.max(1)),
            });
            data["replacement"] = json!(if g.chance(0.15) {
                hostile(g)
            } else {
                train_py_line(g)
            });
        }
        "mark_diagnosed" => {
            data["diagnosis"] = json!(if g.chance(0.1) {
                hostile(g)
            } else {
                g.pick(&vocab::DIAGNOSES).to_string()
            })
        }
        _ => {}
    }
    if g.chance(0.02) {
        data["unexpected"] = json!(1);
    }
    json!({"type": "step", "data": data})
}

/// What a run of the fuzzer did.
#[derive(Debug, Default)]
struct Tally {
    steps: usize,
    resets: usize,
    restarts: usize,
    invalid: usize,
    errors: usize,
}

/// Send a line; check every reply. Returns the parsed replies.
fn exchange(session: &mut Session, line: &[u8]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    session.handle_line(line, &mut NoSink, &mut out);
    let mut replies = Vec::new();
    for text in out {
        let value: Value =
            serde_json::from_str(&text).map_err(|e| format!("reply is not JSON ({e}): {text}"))?;
        if !value["type"].is_string() {
            return Err(format!("reply without a type: {text}"));
        }
        if value["type"] == "error"
            && value["data"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("internal error"))
        {
            return Err(format!(
                "a panic inside the engine, after {}: {text}",
                String::from_utf8_lossy(line)
            ));
        }
        if let Some(snippet) = value["data"]["observation"]["code_snippet"].as_object() {
            let code = snippet["code"].as_str().unwrap_or_default();
            let count = snippet["line_count"].as_u64().unwrap_or(0) as usize;
            if code.lines().count() != count {
                return Err(format!(
                    "code_snippet shows {} lines but line_count is {count}",
                    code.lines().count()
                ));
            }
        }
        replies.push(value);
    }
    Ok(replies)
}

/// Play `steps` random actions, resetting when an episode ends.
fn play(seed: u64, steps: usize, tasks: &TaskSet, tally: &mut Tally) -> Result<(), String> {
    let mut g = Gen(seed);
    let ids = tasks.ids();
    let mut session = Session::new(tasks.clone(), Box::new(FixedClock), false);
    let mut code_lines = 20;
    let mut done = true;
    for _ in 0..steps {
        let line = if done || g.chance(0.01) {
            tally.resets += 1;
            json!({"type": "reset", "data": {"task_id": g.pick(&ids), "seed": g.next() % 1000}})
        } else {
            action(&mut g, code_lines)
        };
        if line["data"]["action_type"] == "restart_run" {
            tally.restarts += 1;
        }
        let replies = exchange(&mut session, line.to_string().as_bytes())?;
        tally.steps += 1;
        for r in &replies {
            match r["type"].as_str() {
                Some("error") => tally.errors += 1,
                Some("observation") => {
                    done = r["data"]["done"] == true;
                    if r["data"]["info"]["invalid"] == true {
                        tally.invalid += 1;
                    }
                    if let Some(n) = r["data"]["observation"]["code_snippet"]["line_count"].as_u64()
                    {
                        code_lines = n as usize;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// A valid request, mangled.
fn protocol_line(g: &mut Gen) -> Vec<u8> {
    let base = match g.below(6) {
        0 => {
            json!({"type": "reset", "id": g.next() % 5, "data": {"task_id": "task_00".to_string() + &(1 + g.below(7)).to_string(), "seed": g.next()}})
        }
        1 => action(g, 20),
        2 => json!({"type": g.pick(&["state", "grade", "tasks", "schema", "render", "close"])}),
        3 => json!({"type": "subscribe", "data": {"events": g.pick(&["all", "none"])}}),
        4 => json!({"type": "unsubscribe"}),
        _ => json!({"type": hostile(g), "id": null}),
    };
    let mut bytes = base.to_string().into_bytes();
    for _ in 0..g.below(4) {
        if bytes.is_empty() {
            break;
        }
        let at = g.below(bytes.len());
        match g.below(4) {
            0 => bytes[at] = g.next() as u8,
            1 => {
                bytes.remove(at);
            }
            2 => bytes.insert(at, *g.pick(b"{}[]\",:\\0-e.")),
            _ => {
                let junk = hostile(g);
                bytes.splice(at..at, junk.bytes());
            }
        }
    }
    bytes.retain(|&b| b != b'\n');
    bytes
}

fn fuzz_protocol(seed: u64, lines: usize, tasks: &TaskSet) -> Result<(), String> {
    let mut g = Gen(seed);
    let mut session = Session::new(tasks.clone(), Box::new(FixedClock), false);
    exchange(
        &mut session,
        br#"{"type":"reset","data":{"task_id":"task_001","seed":1}}"#,
    )?;
    for _ in 0..lines {
        let line = protocol_line(&mut g);
        exchange(&mut session, &line)?;
    }
    Ok(())
}

/// A built-in task file, mutated: numbers and strings swapped for hostile
/// ones, lines dropped, duplicated, nested or cut.
fn mutated_task(g: &mut Gen) -> (String, String) {
    let (name, text) = *g.pick(task::BUILTIN);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..1 + g.below(3) {
        let at = g.below(lines.len());
        let line = lines[at].clone();
        lines[at] = match g.below(8) {
            0 => String::new(),
            1 => format!("{line}\n{line}"),
            2 => match line.split_once('=') {
                Some((k, _)) => format!(
                    "{k}= {}",
                    g.pick(&[
                        "nan",
                        "inf",
                        "-5",
                        "1e308",
                        "0",
                        "-0.0",
                        "99999999999999999999",
                        "1.5",
                        "\"x\"",
                        "[]",
                        "{}"
                    ])
                ),
                None => line,
            },
            3 => match line.split_once('=') {
                Some((k, _)) => format!("{k}= {}", toml_string(&hostile(g))),
                None => line,
            },
            4 => "[".repeat(g.below(300)),
            5 => format!(
                "x = {}{}",
                "[".repeat(g.below(300)),
                "]".repeat(g.below(300))
            ),
            6 => line
                .chars()
                .take(g.below(line.chars().count() + 1))
                .collect(),
            _ => format!("{line} # {}", hostile(g).replace('\n', " ")),
        };
    }
    (name.to_string(), lines.join("\n"))
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn fuzz_task_files(seed: u64, files: usize) -> Result<(), String> {
    let mut g = Gen(seed);
    for _ in 0..files {
        let (name, text) = mutated_task(&mut g);
        // Accepted or refused, never a panic; an accepted task must play.
        if let Ok(task) = task::parse_task(&name, "fuzz", &text) {
            let set = TaskSet::from_tasks([task]).map_err(|e| format!("{e:?}"))?;
            let id = set.ids().first().cloned().unwrap_or_default();
            let mut session = Session::new(set, Box::new(FixedClock), false);
            let reset = json!({"type": "reset", "data": {"task_id": id, "seed": g.next() % 100}});
            exchange(&mut session, reset.to_string().as_bytes())
                .map_err(|e| format!("{e}\n--- task file ---\n{text}"))?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_action_sequences_never_break_the_engine(seed in any::<u64>()) {
        let tasks = TaskSet::builtin().unwrap();
        let mut tally = Tally::default();
        play(seed, 60, &tasks, &mut tally).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn mangled_protocol_lines_are_answered(seed in any::<u64>()) {
        let tasks = TaskSet::builtin().unwrap();
        fuzz_protocol(seed, 100, &tasks).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn mutated_task_files_are_refused_or_play(seed in any::<u64>()) {
        fuzz_task_files(seed, 8).map_err(TestCaseError::fail)?;
    }
}

/// The long campaign: `FUZZ_STEPS` random actions (default 10^6), then as
/// many protocol lines and a thousandth as many task files; prints the tally.
#[test]
#[ignore = "long: run by scripts/fuzz.sh"]
fn long_campaign() {
    let steps: usize = std::env::var("FUZZ_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let tasks = TaskSet::builtin().unwrap();
    let started = std::time::Instant::now();
    let mut tally = Tally::default();
    let chunk = 10_000;
    let mut case = seed;
    while tally.steps < steps {
        if let Err(e) = play(case, chunk.min(steps - tally.steps), &tasks, &mut tally) {
            panic!("action sequence seed {case}: {e}");
        }
        case += 1;
        eprintln!(
            "actions: {tally:?} after {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let actions_time = started.elapsed();
    let lines = steps;
    for case in 0..lines.div_ceil(1000) as u64 {
        let count = 1000.min(lines - case as usize * 1000);
        if let Err(e) = fuzz_protocol(seed ^ case, count, &tasks) {
            panic!("protocol seed {}: {e}", seed ^ case);
        }
    }
    let protocol_time = started.elapsed() - actions_time;
    let files = (steps / 1000).max(10);
    for case in 0..(files / 10) as u64 {
        if let Err(e) = fuzz_task_files(seed ^ (case << 20), 10) {
            panic!("task file seed {}: {e}", seed ^ (case << 20));
        }
    }
    println!(
        "FUZZ RESULT: {} action steps ({} resets, {} restarts, {} invalid actions, {} error replies) in {:.0} s; {lines} protocol lines in {:.0} s; {files} task files in {:.0} s; no failure",
        tally.steps,
        tally.resets,
        tally.restarts,
        tally.invalid,
        tally.errors,
        actions_time.as_secs_f64(),
        protocol_time.as_secs_f64(),
        (started.elapsed() - actions_time - protocol_time).as_secs_f64()
    );
}
