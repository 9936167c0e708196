//! Performance targets (docs/PERFORMANCE.md): a cold reset (one full 20-epoch
//! training run) per built-in task, a whole episode per built-in task (in
//! process and over `--serve`), an inspect step, and the cost of events
//! nobody listens to.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trainwreck::env::{ActionRequest, Episode};
use trainwreck::events::{FixedClock, NoSink, VecSink};
use trainwreck::task::{Task, TaskSet};

/// The seed every per-task figure is measured at.
const SEED: u64 = 42;

/// The walkthrough of `task` at `SEED`: the intended inspections, fix,
/// restart and diagnosis.
fn walkthrough(task: &Arc<Task>) -> Vec<ActionRequest> {
    Episode::reset(task.clone(), SEED, &mut NoSink, &FixedClock)
        .map(|e| e.walkthrough().to_vec())
        .unwrap_or_default()
}

/// A fresh copy of a built-in task: nothing an earlier episode trained (the
/// memoised reference runs) is reused.
fn fresh_task(id: &str) -> Option<Arc<Task>> {
    TaskSet::builtin().ok()?.get(id)
}

/// A whole episode, reset to done, as the walkthrough plays it: the broken
/// run at reset, the re-run at restart_run and whatever the verdict needs.
/// Each iteration starts from a fresh task, so this is the cold cost.
fn episodes(c: &mut Criterion) {
    let tasks = TaskSet::builtin().unwrap_or_default();
    let mut group = c.benchmark_group("episode");
    for task in tasks.iter() {
        let steps = walkthrough(task);
        let id = task.id().to_string();
        group.bench_function(task.id(), |b| {
            b.iter_batched(
                || fresh_task(&id),
                |task| {
                    let mut episode =
                        Episode::reset(task?, black_box(SEED), &mut NoSink, &FixedClock).ok()?;
                    for step in &steps {
                        episode.step(step, &mut NoSink, &FixedClock);
                    }
                    Some(episode.is_done())
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// The same episodes over `trainwreck --serve`: parse, step, serialise and
/// the pipe, on a new server per episode (started and warmed up untimed,
/// so neither process start nor an earlier episode's memo is counted).
fn served_episodes(c: &mut Criterion) {
    let tasks = TaskSet::builtin().unwrap_or_default();
    let mut group = c.benchmark_group("episode_serve");
    for task in tasks.iter() {
        let mut lines = vec![format!(
            r#"{{"type":"reset","data":{{"task_id":"{}","seed":{SEED}}}}}"#,
            task.id()
        )];
        for step in walkthrough(task) {
            let data = serde_json::to_string(&step).unwrap_or_default();
            lines.push(format!(r#"{{"type":"step","data":{data}}}"#));
        }
        group.bench_function(task.id(), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += served_episode(&lines).unwrap_or_default();
                }
                total
            })
        });
    }
    group.finish();
}

/// Time one episode's requests and replies on a fresh server.
fn served_episode(lines: &[String]) -> Option<Duration> {
    let mut server = Command::new(env!("CARGO_BIN_EXE_trainwreck"))
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut input = server.stdin.take()?;
    let mut output = BufReader::new(server.stdout.take()?);
    let mut reply = String::new();
    let mut exchange = |line: &str, reply: &mut String| -> Option<()> {
        writeln!(input, "{line}").ok()?;
        input.flush().ok()?;
        reply.clear();
        (output.read_line(reply).ok()? > 0).then_some(())
    };
    exchange(r#"{"type":"tasks"}"#, &mut reply)?;
    let start = Instant::now();
    for line in lines {
        exchange(line, &mut reply)?;
    }
    let elapsed = start.elapsed();
    black_box(&reply);
    // `close` has no reply: the server ends.
    let _ = writeln!(input, r#"{{"type":"close"}}"#);
    drop(input);
    server.wait().ok()?;
    Some(elapsed)
}

fn resets(c: &mut Criterion) {
    let tasks = TaskSet::builtin().unwrap_or_default();
    let mut group = c.benchmark_group("reset");
    for task in tasks.iter() {
        group.bench_function(task.id(), |b| {
            b.iter(|| {
                Episode::reset(task.clone(), black_box(42), &mut NoSink, &FixedClock)
                    .map(|e| e.step_count())
            })
        });
    }
    group.finish();
}

fn events(c: &mut Criterion) {
    let tasks = TaskSet::builtin().unwrap_or_default();
    let Some(task) = tasks.get("task_004") else {
        return;
    };
    let mut group = c.benchmark_group("events");
    group.bench_function("no_sink", |b| {
        b.iter(|| {
            Episode::reset(task.clone(), 42, &mut NoSink, &FixedClock).map(|e| e.step_count())
        })
    });
    group.bench_function("collecting_sink", |b| {
        b.iter(|| {
            let mut sink = VecSink::default();
            Episode::reset(task.clone(), 42, &mut sink, &FixedClock).map(|e| e.step_count())
        })
    });
    group.finish();
}

fn inspect_step(c: &mut Criterion) {
    let tasks = TaskSet::builtin().unwrap_or_default();
    let Some(task) = tasks.get("task_001") else {
        return;
    };
    let Ok(episode) = Episode::reset(task, 42, &mut NoSink, &FixedClock) else {
        return;
    };
    let request = ActionRequest::new("inspect_gradients");
    c.bench_function("inspect_step_and_serialise", |b| {
        b.iter_batched(
            || episode.clone(),
            |mut ep| {
                ep.step(&request, &mut NoSink, &FixedClock);
                serde_json::to_vec(&ep.observation()).map(|v| v.len())
            },
            criterion::BatchSize::SmallInput,
        )
    });
}

/// Runs at the edge of the work budget (docs/PERFORMANCE.md): one per kind
/// of work that can dominate a run, each for as many epochs as the budget
/// admits. The slowest of them is the slowest run a player or a task file can
/// start.
fn budget_edges(c: &mut Criterion) {
    use trainwreck::sim::{self, ConfigValue, DataSpec, Program, RunSpec, TrainConfig, budget};
    let data = |train: usize, val: usize, features: usize, classes: usize| -> Option<DataSpec> {
        toml::from_str(&format!(
            "train_samples = {train}\nval_samples = {val}\nfeatures = {features}\ninformative = {}\nclasses = {classes}\nclass_separation = 3.0",
            features.min(8)
        ))
        .ok()
    };
    let n = ConfigValue::Number;
    let word = |w: &str| ConfigValue::Text(w.into());
    /// A name, the data, and the config changes from the defaults.
    type Shape<'a> = (&'a str, Option<DataSpec>, Vec<(&'a str, ConfigValue)>);
    let shapes: Vec<Shape> = vec![
        (
            "wide_deep",
            data(256, 128, 20, 4),
            vec![("hidden_dim", n(128.0)), ("num_layers", n(8.0))],
        ),
        (
            "wide_deep_bn_dropout",
            data(256, 128, 20, 4),
            vec![
                ("hidden_dim", n(128.0)),
                ("num_layers", n(8.0)),
                ("batch_norm", ConfigValue::Bool(true)),
                ("dropout_rate", n(0.5)),
            ],
        ),
        (
            "batch_1_adam",
            data(256, 128, 20, 4),
            vec![
                ("batch_size", n(1.0)),
                ("optimizer", word("adam")),
                ("hidden_dim", n(64.0)),
            ],
        ),
        (
            "augmentation_big_data",
            data(2000, 100, 64, 4),
            vec![
                ("augmentation_noise", n(1.0)),
                ("hidden_dim", n(2.0)),
                ("num_layers", n(2.0)),
            ],
        ),
        (
            "tiny_net_batch_1_big_data",
            data(2000, 100, 64, 4),
            vec![
                ("hidden_dim", n(2.0)),
                ("num_layers", n(2.0)),
                ("batch_size", n(1.0)),
            ],
        ),
        ("largest_data_default_net", data(2000, 1000, 64, 10), vec![]),
    ];
    let mut group = c.benchmark_group("budget_edge");
    group.sample_size(10);
    for (name, data, pairs) in shapes {
        let Some(data) = data else { continue };
        let mut config = TrainConfig::default();
        for (target, value) in &pairs {
            let _ = config.set(target, value);
        }
        let program = Program::standard();
        let mut epochs = 100;
        while epochs > 1 {
            let _ = config.set("epochs", &ConfigValue::Number(f64::from(epochs)));
            if budget::check(&data, &config, &program, &[]).is_ok() {
                break;
            }
            epochs -= 1;
        }
        let spec = RunSpec {
            data,
            patches: Vec::new(),
            config,
            program,
            seed: 42,
        };
        group.bench_function(format!("{name}_{epochs}_epochs"), |b| {
            b.iter(|| {
                sim::run(black_box(&spec), &mut sim::Unobserved)
                    .epochs
                    .len()
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    resets,
    episodes,
    served_episodes,
    events,
    inspect_step,
    budget_edges
);
criterion_main!(benches);
