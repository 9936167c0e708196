//! Performance targets (docs/PERFORMANCE.md): a cold reset (one full 20-epoch
//! training run) per built-in task, an inspect step, and the cost of events
//! nobody listens to.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use trainwreck::env::{ActionRequest, Episode};
use trainwreck::events::{FixedClock, NoSink, VecSink};
use trainwreck::task::TaskSet;

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

criterion_group!(benches, resets, events, inspect_step);
criterion_main!(benches);
