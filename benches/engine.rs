//! Engine benchmarks: one run, a whole simulation, and the statistics merge.
//! Run with `cargo bench --bench engine`; figures go in docs/performance.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use crmsim::engine::run::{simulate_run, Prepared, Workspace};
use crmsim::engine::{simulate, RunPlan};
use crmsim::scenario::Scenario;
use std::hint::black_box;
use std::path::Path;

fn load(path: &str) -> Scenario {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    Scenario::load(&full).expect("the benchmark scenario is valid")
}

fn one_run(c: &mut Criterion) {
    let s = load("scenarios/gallium-eu.toml");
    let prep = Prepared::new(&s, 42);
    let mut ws = Workspace::new(&s, &prep);
    let mut group = c.benchmark_group("one_run");
    group.throughput(Throughput::Elements(s.steps() as u64));
    let mut run = 0;
    group.bench_function("gallium-eu", |b| {
        b.iter(|| {
            simulate_run(&s, &prep, black_box(run), &mut ws);
            run += 1;
        })
    });
    group.finish();
}

fn many_runs(c: &mut Criterion) {
    let s = load("scenarios/gallium-eu.toml");
    let plan = RunPlan {
        first_run: 0,
        runs: 2_000,
        seed: 42,
    };
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(plan.runs * s.steps() as u64));
    group.bench_function("gallium-eu-2000-runs", |b| {
        b.iter(|| black_box(simulate(&s, black_box(&plan), &|_| {})))
    });
    group.finish();
}

criterion_group!(benches, one_run, many_runs);
criterion_main!(benches);
