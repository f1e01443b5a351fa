//! Engine benchmarks on the reference scenarios of `benches/`: one run, the
//! cohort outflows of one product and all product flows of one run (the
//! engine's path), the merge of statistics, counting a batch of runs in the
//! quantile sketches, and whole simulations of 10,000 runs. Figures and
//! commands: docs/performance.md. `lane_math` compares the lane versions of
//! exp, ln and erfc with libm's scalar functions; `streams` the first draw
//! of a stream for a group of runs, from the first blocks computed side by
//! side and from a `ChaCha8Rng` per run.
//!
//! `cargo bench --bench engine` measures; `-- --quick` gives a short run
//! (what CI does, so every change shows its speed).

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput,
};
use crmsim::engine::bench_support::lane_math;
use crmsim::engine::bench_support::Lanes;
use crmsim::engine::cohort::{self, AgeGrid, Lifetime, TailPoint, YearWeights};
use crmsim::engine::products::ProductsPrep;
use crmsim::engine::rng::StreamKey;
use crmsim::engine::LANES;
use crmsim::engine::{simulate, sketch_batch_runs};
use crmsim::engine::{simulate_run, simulate_runs, Prepared, Workspace};
use crmsim::scenario::InflowTiming;
use crmsim::scenario::Scenario;
use crmsim::stats::StepStats;
use crmsim::vocab::RunPlan;
use rand::{Rng, RngCore, SeedableRng};
use std::hint::black_box;
use std::path::Path;

fn load(path: &str) -> Scenario {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    Scenario::load(&full).expect("the benchmark scenario is valid")
}

/// Material-steps of one run: materials x steps.
fn material_steps(s: &Scenario) -> u64 {
    (s.material_ids().count() * s.steps()) as u64
}

fn one_run(c: &mut Criterion) {
    let s = load("benches/reference.toml");
    let prep = Prepared::new(&s, 42);
    let mut ws = Workspace::new(&s, &prep);
    let mut group = c.benchmark_group("one_run");
    group.throughput(Throughput::Elements(material_steps(&s)));
    let mut run = 0;
    group.bench_function("reference", |b| {
        b.iter(|| {
            simulate_run(&s, &prep, black_box(run), &mut ws);
            run += 1;
        })
    });
    group.finish();
    // The engine's own path: runs stepped side by side, per run.
    let mut group = c.benchmark_group("lanes");
    group.throughput(Throughput::Elements(LANES as u64 * material_steps(&s)));
    let mut first = 0;
    group.bench_function("reference_runs_side_by_side", |b| {
        b.iter(|| {
            simulate_runs(&s, &prep, black_box(first), LANES, &mut ws);
            first += LANES as u64;
        })
    });
    group.finish();
}

fn cohort_outflows(c: &mut Criterion) {
    // 30 years of monthly history and 20 years of horizon: 600 cohorts, on
    // the path the engine takes for a Weibull lifetime of fixed shape and
    // uncertain scale (read on a prepared grid, convolved year by year).
    let inflow = cohort::inflow_per_step(&[(1995, 2.0e8), (2025, 5.0e8)], 1995, 12, 600);
    let years = YearWeights::new(&inflow, 12).expect("installations are the same each month");
    let grid = AgeGrid::new(InflowTiming::Middle, 1.0 / 12.0, 600, Some(2.0));
    let mut points = vec![TailPoint::default(); 600];
    let mut window = vec![0.0; 600];
    let mut out = vec![0.0; 240];
    let mut group = c.benchmark_group("cohort");
    group.throughput(Throughput::Elements(240));
    group.bench_function("kernel_and_horizon_outflows_600_steps", |b| {
        b.iter(|| {
            let life = Lifetime::Weibull {
                shape: 2.0,
                scale: black_box(7.0),
            };
            grid.read_into(&life, &mut points);
            cohort::window_kernel_from_points(&points, 12, &mut window);
            cohort::convolve_grouped_from_into(&years, &window, 360, &mut out);
            black_box(cohort::cumulative_outflow_from_points(
                &inflow, &points, 360,
            ))
        })
    });
    // The product outflows of a group of runs of the reference scenario
    // (its two products: Weibull with uncertain scale, lognormal with
    // uncertain mean), side by side, with the lifetimes varied from one run
    // and one iteration to the next.
    let s = load("benches/reference.toml");
    let prep = ProductsPrep::new(&s);
    let mut flows = prep.buffers();
    let mut i = 0u32;
    let mut life = [[[0.0; 2]; 2]; LANES];
    group.throughput(Throughput::Elements(LANES as u64));
    group.bench_function("reference_products_of_8_runs", |b| {
        b.iter(|| {
            for l in &mut life {
                i = i.wrapping_add(1);
                let x = f64::from(i % 64) / 64.0;
                *l = [[2.0, 5.0 + 4.0 * x], [8.0 + 6.0 * x, 3.0]];
            }
            let life = black_box(&life);
            prep.flows(&s, LANES, |l| &life[l], &mut flows);
            black_box(&flows);
        })
    });
    group.finish();
}

fn merge_statistics(c: &mut Criterion) {
    let s = load("benches/reference.toml");
    let plan = |first_run| RunPlan {
        first_run,
        runs: 640,
        seed: 42,
    };
    let a = simulate(&s, &plan(0), &|_| {});
    let b = simulate(&s, &plan(640), &|_| {});
    c.bench_function("stats/merge_reference_step_statistics", |bench| {
        bench.iter(|| {
            let mut merged = a.steps.clone();
            merged.merge(black_box(&b.steps));
            merged
        })
    });
}

/// Counting one batch of reference runs in the quantile sketches, as a
/// worker does, into sketches that already hold five batches (so their
/// ranges are those of a study, and their counts are fetched from memory).
fn sketch_batch(c: &mut Criterion) {
    let s = load("benches/reference.toml");
    let prep = Prepared::new(&s, 42);
    let mut ws = Workspace::new(&s, &prep);
    let mut stats = StepStats::new(prep.fixed_cells(&s));
    let varying = stats.varying_cells();
    let runs = sketch_batch_runs(varying.len()) as u64;
    let mut batch = |first: u64| {
        let mut values = Vec::with_capacity(runs as usize * varying.len());
        for group in (first..first + runs).step_by(LANES) {
            simulate_runs(&s, &prep, group, LANES, &mut ws);
            for lane in 0..LANES {
                values.extend(varying.iter().map(|&c| ws.cell(lane, c)));
            }
        }
        values
    };
    for k in 0..5 {
        stats.sketch_runs(&batch(k * runs));
    }
    let next = batch(5 * runs);
    let mut group = c.benchmark_group("stats");
    group.sample_size(20);
    group.throughput(Throughput::Elements(next.len() as u64));
    group.bench_function("sketch_reference_batch", |b| {
        b.iter_batched(
            || stats.clone(),
            |mut stats| {
                stats.sketch_runs(black_box(&next));
                stats
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn many_runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    for (name, path) in [
        ("reference-10000-runs", "benches/reference.toml"),
        ("products-10000-runs", "benches/products.toml"),
    ] {
        let s = load(path);
        let plan = RunPlan {
            first_run: 0,
            runs: 10_000,
            seed: 42,
        };
        group.throughput(Throughput::Elements(plan.runs * material_steps(&s)));
        group.bench_function(name, |b| {
            b.iter(|| black_box(simulate(&s, black_box(&plan), &|_| {})))
        });
    }
    group.finish();
}

#[derive(Clone, Copy)]
enum LaneFn {
    Exp,
    Ln,
    Erfc,
}

crmsim::dispatched! {
/// The lane function `f` of each of `xs` into `ys`, compiled for AVX-512
/// and AVX2 too, as the engine's step loop is.
fn lanes_of(f: LaneFn, xs: &[Lanes], ys: &mut [Lanes]) {
    for (x, y) in xs.iter().zip(ys) {
        *y = match f {
            LaneFn::Exp => lane_math::exp(*x),
            LaneFn::Ln => lane_math::ln(*x),
            LaneFn::Erfc => lane_math::erfc(*x),
        };
    }
}
}

/// The lane function `f` and libm's `scalar` on the same 4096 arguments,
/// uniform in `lo..hi`.
fn lanes_and_libm(
    group: &mut BenchmarkGroup<WallTime>,
    name: &str,
    f: LaneFn,
    scalar: impl Fn(f64) -> f64,
    (lo, hi): (f64, f64),
) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let xs: Vec<f64> = (0..4096).map(|_| rng.random_range(lo..hi)).collect();
    let lanes: Vec<Lanes> = xs.chunks(LANES).map(|c| Lanes::from_fn(|l| c[l])).collect();
    group.throughput(Throughput::Elements(xs.len() as u64));
    let mut out = vec![Lanes::splat(0.0); lanes.len()];
    group.bench_function(format!("{name}_lanes"), |b| {
        b.iter(|| lanes_of(f, black_box(&lanes), &mut out))
    });
    let mut out = vec![0.0; xs.len()];
    group.bench_function(format!("{name}_libm"), |b| {
        b.iter(|| {
            for (x, y) in black_box(&xs).iter().zip(&mut out) {
                *y = scalar(*x);
            }
        })
    });
}

/// exp, ln and erfc of arguments in the ranges the engine gives them, four
/// a call, against libm's scalar functions.
fn lane_math(c: &mut Criterion) {
    let mut group = c.benchmark_group("lane_math");
    lanes_and_libm(&mut group, "exp", LaneFn::Exp, libm::exp, (-30.0, 0.0));
    lanes_and_libm(&mut group, "ln", LaneFn::Ln, libm::log, (0.01, 1.0));
    lanes_and_libm(&mut group, "erfc", LaneFn::Erfc, libm::erfc, (0.0, 6.0));
    group.finish();
}

/// One u64 from one stream for each run of a group of [`LANES`]: what most
/// drawn parameters need.
fn streams(c: &mut Criterion) {
    let key = StreamKey::new(42, "world/material/gallium/demand_growth");
    let mut group = c.benchmark_group("streams");
    group.throughput(Throughput::Elements(LANES as u64));
    let mut first = 0;
    group.bench_function("first_u64_of_each_lane_from_first_blocks", |b| {
        b.iter(|| {
            let blocks = key.first_blocks(black_box(first));
            let mut sum = 0u64;
            for (l, block) in blocks.iter().enumerate() {
                sum ^= key.rng_from(first + l as u64, block).next_u64();
            }
            first += LANES as u64;
            sum
        })
    });
    let mut first = 0;
    group.bench_function("first_u64_of_each_lane_from_chacha8rng", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for l in 0..LANES as u64 {
                sum ^= key.rng(black_box(first) + l).next_u64();
            }
            first += LANES as u64;
            sum
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    one_run,
    cohort_outflows,
    merge_statistics,
    sketch_batch,
    many_runs,
    lane_math,
    streams
);
criterion_main!(benches);
