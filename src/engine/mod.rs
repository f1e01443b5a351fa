//! The engine: one group of runs ([`simulate_runs`], the model's step in `step`) and the parallel driver
//! ([`simulate`]) that runs many and folds them into statistics.
//!
//! Runs are simulated in blocks of [`BLOCK_RUNS`] consecutive runs. Within a
//! block, per-step sums are added in run order as the runs are stepped
//! ([`Workspace::sums`]); blocks are then added into an
//! exact sum, and quantile sketches count integers, so the statistics do not
//! depend on which thread ran which block, nor on how many threads there were.
//! Per-run totals are kept in run order.

pub mod cohort;
mod draws;
mod emit;
mod fast;
mod inventory;
mod market;
mod prepare;
pub mod products;
pub mod rng;
mod run;
mod step;
mod tiers;
mod workspace;

pub use fast::lanes::LANES;
pub use prepare::Prepared;
pub use run::{simulate_run, simulate_runs};
pub use workspace::Workspace;

/// Not API: the benchmarks' door to the engine's machinery, so that
/// `benches/` can time its parts (the vector lanes and their maths, the
/// batched random streams). Nothing else should use it.
#[doc(hidden)]
pub mod bench_support {
    pub use super::fast::lane_math;
    pub use super::fast::lanes::Lanes;
}

use crate::scenario::Scenario;
use crate::stats::exact::Window;
use crate::stats::StepStats;
use crate::storage::table::{self, Spill, TableBuilder};
use crate::storage::Outcome;
use crate::vocab::{RunPlan, BLOCK_RUNS, N_METRICS, N_VARIABLES};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Per-step percentiles (`timeseries.csv`) are estimated from the runs with
/// index below this (all runs when there are fewer); means use every run.
/// Counting every value of every step in a sketch would cost more than the
/// simulation itself, and beyond 10,000 runs the percentiles of one step
/// change by less than their Monte Carlo error.
pub const PERCENTILE_RUNS: u64 = 10_000;
const _: () = assert!(PERCENTILE_RUNS <= crate::stats::sketch::MAX_VALUES);
const _: () = assert!(table::CHUNK_RUNS as u64 % BLOCK_RUNS == 0);

/// Varying cells per run of a batch of sketched runs. With few sketches,
/// their counts stay in cache from one batch to the next, and so does a
/// small batch; with many, a batch holds more runs, so that each sketch's
/// counts are fetched from memory fewer times (the batch sizes measured on
/// the reference and on `benches/products.toml` are in docs/performance.md,
/// "Quantile sketches").
const CELLS_PER_SKETCH_BATCH_RUN: usize = 112;

/// Memory a worker's batch of sketched runs takes, in bytes, at most
/// (unless that would leave fewer than [`MIN_SKETCH_BATCH_RUNS`] runs).
/// Freed once a worker is past the sketched runs.
const SKETCH_BATCH_BYTES: usize = 32 << 20;

/// Runs in a batch of sketched runs, at least.
const MIN_SKETCH_BATCH_RUNS: usize = 64;

/// Runs in a batch of sketched runs, at most.
const MAX_SKETCH_BATCH_RUNS: usize = 256;

/// Runs a worker collects before counting them in the quantile sketches
/// ([`StepStats::sketch_runs`]), when each run has `cells` values to count:
/// a multiple of [`LANES`], so that a batch holds whole groups of runs
/// stepped together. Sketches count integers, so the batches do not change
/// the result.
pub fn sketch_batch_runs(cells: usize) -> usize {
    let for_cells = cells / CELLS_PER_SKETCH_BATCH_RUN;
    let within_bytes = SKETCH_BATCH_BYTES / (8 * cells.max(1));
    let runs = for_cells
        .min(within_bytes)
        .clamp(MIN_SKETCH_BATCH_RUNS, MAX_SKETCH_BATCH_RUNS);
    runs / LANES * LANES
}

/// An upper bound on the memory a simulation and its outputs take, in parts:
/// what grows with runs, and what each worker thread holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Per-run totals and drawn parameters, in bytes, and the values an
    /// [`Observer`] keeps of every run ([`Self::with_observed`]); `runs.csv`
    /// is written row by row.
    pub run_table: u64,
    /// One set of per-step statistics (exact sums and quantile sketches of
    /// every material, variable and step, at their largest), in bytes.
    pub step_stats: u64,
    /// One worker's buffers (availability, one run's series, block sums,
    /// the batch of sketched runs), in bytes.
    pub workspace: u64,
    /// The per-step report and its rendering as `timeseries.csv`, in bytes.
    pub series_report: u64,
    /// Number of recorded series (materials x variables x steps).
    pub cells: u64,
    /// The per-run table's bytes kept in a temporary file instead of
    /// memory (0 when it is held in memory); see [`Self::with_spill`].
    pub table_file: u64,
    /// Values in one row of the per-run table.
    row_values: u64,
}

/// Bytes of one number in a CSV file, at most (17 significant digits, sign,
/// point, exponent, comma).
const CSV_NUMBER_BYTES: u64 = 26;

impl MemoryEstimate {
    /// Estimates the memory of `runs` runs of `scenario`.
    pub fn new(scenario: &Scenario, runs: u64) -> MemoryEstimate {
        let prep = Prepared::new(scenario, 0);
        let n_mat = scenario.materials.len() as u64;
        let steps = prep.steps() as u64;
        let params = prep.param_names().len() as u64;
        let cells = n_mat * N_VARIABLES as u64 * steps;
        let row = n_mat * N_METRICS as u64 + params + prep.extra_names().len() as u64;
        // Held once (blocks fill it in place); runs.csv is written row by
        // row, not held in memory.
        let run_table = runs.saturating_mul(8 * row);
        let step_stats = cells.saturating_mul(StepStats::MAX_BYTES_PER_CELL as u64);
        let sources: u64 = scenario
            .materials
            .iter()
            .map(|m| m.sources.len() as u64)
            .sum();
        let lanes = LANES as u64;
        // The batch of sketched runs holds the values of the cells that vary.
        let varying = prep
            .fixed_cells(scenario)
            .iter()
            .filter(|f| f.is_none())
            .count();
        let batch = (sketch_batch_runs(varying) * varying) as u64;
        // A material's market cells: eight values a step, for its prices
        // and costs after the steps; and every material's welfare loss and
        // price multiple a step, kept for observers.
        let market_cells = lanes * steps * (8 + 2 * n_mat);
        // Availability, the lanes' series, the block sums, the batch, the
        // lanes' rows, the market cells, the exact sums' windows (three
        // words a varying cell).
        let windows = 3 * varying as u64;
        let workspace = 8
            * (lanes * sources * steps
                + (1 + lanes) * cells
                + batch
                + lanes * row
                + market_cells
                + windows);
        // Per cell: a mean and five percentiles, then a CSV row of ten fields.
        let series_report = cells * (6 * 8 + 10 * CSV_NUMBER_BYTES);
        MemoryEstimate {
            run_table,
            step_stats,
            workspace,
            series_report,
            cells,
            table_file: 0,
            row_values: row,
        }
    }

    /// The estimate when an [`Observer`] keeps `values_per_run` values of
    /// each of `runs` runs ([`simulate_observed`]): held once, and a block's
    /// worth in each worker.
    pub fn with_observed(self, runs: u64, values_per_run: u64) -> MemoryEstimate {
        let per_run = values_per_run.saturating_mul(8);
        MemoryEstimate {
            run_table: self.run_table.saturating_add(runs.saturating_mul(per_run)),
            workspace: self
                .workspace
                .saturating_add(BLOCK_RUNS.saturating_mul(per_run)),
            ..self
        }
    }

    /// The estimate when a large per-run table is kept in a temporary file
    /// ([`simulate_with`]): memory holds only the chunks being filled or
    /// read (a few per worker, counted generously as 4).
    pub fn with_spill(self) -> MemoryEstimate {
        if self.run_table <= table::SPILL_ABOVE_BYTES {
            return self;
        }
        let chunks = 4 * table::CHUNK_RUNS as u64 * self.row_values * 8;
        MemoryEstimate {
            table_file: self.run_table,
            run_table: chunks.min(self.run_table),
            ..self
        }
    }

    /// The total with `workers` threads: each holds its statistics and
    /// buffers, and one more set of statistics holds their merge.
    pub fn total(&self, workers: u64) -> u64 {
        let per_worker = self.step_stats.saturating_add(self.workspace);
        self.fixed()
            .saturating_add(per_worker.saturating_mul(workers))
    }

    /// What does not depend on the number of workers.
    fn fixed(&self) -> u64 {
        self.run_table
            .saturating_add(self.series_report)
            .saturating_add(self.step_stats)
    }

    /// The most workers (at least 0) that keep [`Self::total`] within `budget`.
    pub fn workers_within(&self, budget: u64) -> u64 {
        let per_worker = self.step_stats.saturating_add(self.workspace).max(1);
        budget.saturating_sub(self.fixed()) / per_worker
    }
}

/// Simulates `plan` on the current rayon pool, keeping the per-run table in
/// memory. `progress` is called with the number of runs finished, as blocks
/// complete (from any thread).
///
/// The result is the same, bit for bit, whatever the pool's size.
pub fn simulate(scenario: &Scenario, plan: &RunPlan, progress: &(dyn Fn(u64) + Sync)) -> Outcome {
    simulate_with(scenario, plan, progress, None)
        .expect("a per-run table held in memory has no file to fail")
}

/// What a command reads of every run as the engine steps it, beside the
/// engine's own statistics, so that it need not simulate the runs again
/// (`criticality --scenario` reads each year's sourcing and recycling): a
/// fixed number of values per run, handed back in run order.
pub trait Observer: Sync {
    /// Values per run.
    fn values_per_run(&self) -> usize;

    /// Whether [`Self::observe`] reads the per-step series of the
    /// workspace (they are then recorded for every run).
    fn needs_series(&self) -> bool;

    /// Writes the values of run `lane` of the group just stepped in `ws`
    /// into `out` (`values_per_run` long).
    fn observe(&self, prep: &Prepared, ws: &Workspace, lane: usize, out: &mut [f64]);
}

/// [`simulate`] with `observer` reading every run: the outcome, and the
/// observer's values, run after run (`values_per_run` each).
pub fn simulate_observed(
    scenario: &Scenario,
    plan: &RunPlan,
    observer: &dyn Observer,
) -> (Outcome, Vec<f64>) {
    let observed = std::sync::Mutex::new(vec![0.0; plan.runs as usize * observer.values_per_run()]);
    let outcome = simulate_inner(
        scenario,
        plan,
        &|_| {},
        None,
        Some((observer, &observed)),
        None,
    )
    .expect("a per-run table held in memory has no file to fail")
    .expect("a study without a stop signal runs to its end");
    let values = observed
        .into_inner()
        .expect("no worker panics while holding the observed values");
    (outcome, values)
}

/// [`simulate`], keeping the per-run table in `spill` when it is large
/// (above [`table::SPILL_ABOVE_BYTES`]), so that memory does not grow with
/// the runs.
///
/// # Errors
/// What writing the temporary file reported.
pub fn simulate_with(
    scenario: &Scenario,
    plan: &RunPlan,
    progress: &(dyn Fn(u64) + Sync),
    spill: Option<Spill>,
) -> std::io::Result<Outcome> {
    simulate_inner(scenario, plan, progress, spill, None, None)
        .map(|o| o.expect("a study without a stop signal runs to its end"))
}

/// [`simulate_with`] that stops early when `stop` is set (from another
/// thread: a caller that waits for an interrupt, such as Ctrl-C in Python):
/// no block is started after it is seen, and `Ok(None)` is returned. A study
/// that runs to its end is the same, bit for bit, as [`simulate_with`]'s.
///
/// # Errors
/// What writing the temporary file reported.
pub fn simulate_until(
    scenario: &Scenario,
    plan: &RunPlan,
    progress: &(dyn Fn(u64) + Sync),
    spill: Option<Spill>,
    stop: &AtomicBool,
) -> std::io::Result<Option<Outcome>> {
    simulate_inner(scenario, plan, progress, spill, None, Some(stop))
}

/// An observer and where its values go (runs from the plan's first).
type Observed<'a> = (&'a dyn Observer, &'a std::sync::Mutex<Vec<f64>>);

/// The one group-stepping loop behind [`simulate_with`],
/// [`simulate_observed`] and [`simulate_until`]: `None` when `stop` was
/// set before the last block was taken.
fn simulate_inner(
    scenario: &Scenario,
    plan: &RunPlan,
    progress: &(dyn Fn(u64) + Sync),
    spill: Option<Spill>,
    observer: Option<Observed>,
    stop: Option<&AtomicBool>,
) -> std::io::Result<Option<Outcome>> {
    assert!(
        plan.first_run % BLOCK_RUNS == 0,
        "a run plan starts on a block boundary"
    );
    let prep = Prepared::new(scenario, plan.seed);
    let n_mat = scenario.materials.len();
    let n_blocks = plan.runs.div_ceil(BLOCK_RUNS);
    let workers = (rayon::current_num_threads() as u64).clamp(1, n_blocks.max(1));
    let next_block = AtomicU64::new(0);
    let end = plan.first_run + plan.runs;
    let table = TableBuilder::with_extras(
        plan.first_run,
        plan.runs as usize,
        n_mat,
        prep.param_names(),
        prep.extra_names().to_vec(),
        spill,
    );
    let row = table.row_len();
    let n_metrics = n_mat * N_METRICS;
    let n_params = prep.param_names().len();

    // Each worker takes the next block until none is left. Blocks are folded
    // into the worker's statistics exactly, so who ran what does not matter.
    let parts: Vec<StepStats> = (0..workers)
        .into_par_iter()
        .map(|_| {
            let mut ws = Workspace::new(scenario, &prep);
            // Each cell's sum over the block's runs, kept as the runs are
            // stepped.
            ws.keep_sums();
            let mut stats = StepStats::new(prep.fixed_cells(scenario));
            // The cells that vary between runs: the others need no sums
            // and no sketches.
            let varying = stats.varying_cells();
            // The block sums' exact sums, held apart until the worker ends.
            let mut windows = vec![Window::default(); varying.len()];
            // The block's rows of the per-run table.
            let mut rows = vec![0.0; BLOCK_RUNS as usize * row];
            // The block's observed values, when a command observes the runs.
            let per_run = observer.map_or(0, |(o, _)| o.values_per_run());
            let mut seen = vec![0.0; BLOCK_RUNS as usize * per_run];
            let series_for_observer = observer.is_some_and(|(o, _)| o.needs_series());
            // The sketched runs' values of the varying cells, one run after
            // another, until a batch is full: the more runs reach a sketch
            // at once, the fewer times its counts are fetched from memory.
            let width = varying.len();
            let batch_len = sketch_batch_runs(width) * width;
            let mut batch: Vec<f64> = Vec::new();
            loop {
                if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                    break;
                }
                let b = next_block.fetch_add(1, Ordering::Relaxed);
                if b >= n_blocks {
                    break;
                }
                let first = plan.first_run + b * BLOCK_RUNS;
                let last = (first + BLOCK_RUNS).min(end);
                ws.clear_sums();
                for group in (first..last).step_by(LANES) {
                    let n = (last - group).min(LANES as u64) as usize;
                    // The group's runs below PERCENTILE_RUNS (the first few:
                    // runs are in order), whose series are sketched; the
                    // others need only their sums and totals.
                    let sketched = (PERCENTILE_RUNS.saturating_sub(group) as usize).min(n);
                    ws.record_series((sketched > 0 && width > 0) || series_for_observer);
                    simulate_runs(scenario, &prep, group, n, &mut ws);
                    if sketched > 0 && width > 0 {
                        let series = ws.series();
                        // Batches hold whole groups, but for a plan's last.
                        if batch.len() + sketched * width > batch_len {
                            stats.sketch_runs(&batch);
                            batch.clear();
                        }
                        if batch.capacity() == 0 {
                            batch.reserve_exact(batch_len);
                        }
                        let start = batch.len();
                        batch.resize(start + sketched * width, 0.0);
                        let runs = &mut batch[start..];
                        for (j, &c) in varying.iter().enumerate() {
                            for (lane, &x) in series[c].0[..sketched].iter().enumerate() {
                                runs[lane * width + j] = x;
                            }
                        }
                        if batch.len() == batch_len {
                            stats.sketch_runs(&batch);
                            batch.clear();
                        }
                    } else if batch.capacity() > 0 {
                        // Past the sketched runs, and blocks are taken in
                        // order: no later run of this worker is sketched.
                        stats.sketch_runs(&batch);
                        batch = Vec::new();
                    }
                    for lane in 0..n {
                        let r = (group + lane as u64 - first) as usize;
                        let out = &mut rows[r * row..(r + 1) * row];
                        let (metrics, rest) = out.split_at_mut(n_metrics);
                        let (params, extras) = rest.split_at_mut(n_params);
                        metrics.copy_from_slice(ws.metrics(lane));
                        params.copy_from_slice(ws.params(lane));
                        extras.copy_from_slice(ws.extras(lane));
                        if let Some((o, _)) = observer {
                            o.observe(&prep, &ws, lane, &mut seen[r * per_run..][..per_run]);
                        }
                    }
                }
                stats.add_block_sums_via(&varying, &mut windows, ws.sums(), last - first);
                let n = (last - first) as usize;
                table.put_rows((b * BLOCK_RUNS) as usize, &rows[..n * row]);
                if let Some((_, all)) = observer {
                    let at = (b * BLOCK_RUNS) as usize * per_run;
                    let mut all = all.lock().expect("no worker panics while holding it");
                    all[at..at + n * per_run].copy_from_slice(&seen[..n * per_run]);
                }
                progress(last - first);
            }
            stats.sketch_runs(&batch);
            stats.settle(&mut windows);
            stats
        })
        .collect();

    // Stopped: some blocks may not have run.
    if next_block.load(Ordering::Relaxed) < n_blocks {
        return Ok(None);
    }
    // The first worker's statistics take the others'.
    let mut parts = parts.into_iter();
    let mut stats = parts
        .next()
        .unwrap_or_else(|| StepStats::new(prep.fixed_cells(scenario)));
    for s in parts {
        stats.merge(&s);
    }
    Ok(Some(Outcome {
        steps: stats,
        runs: table.finish()?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(years: u32, materials: usize) -> Scenario {
        let mut text = format!(
            "[simulation]\nname = \"t\"\nstart_year = 2025\nyears = {years}\nruns = 1\nseed = 1\n"
        );
        for m in 0..materials {
            text.push_str(&format!(
                "[[material]]\nid = \"m{m}\"\ndemand_tpy = 1\nprice_eur_per_t = 1\n\
                 value_of_lost_load_eur_per_t = 1\n\
                 [[material.source]]\nregion = \"A\"\nshare = 1\n"
            ));
        }
        Scenario::from_toml(&text, Path::new("t.toml")).unwrap()
    }

    #[test]
    fn sketch_batches_grow_with_the_cells_within_32_mib_and_64_to_256_runs() {
        // The reference's 21,600 varying cells: 21,600 / 112 = 192.9 runs,
        // 33 MB (32 MiB would be 194.2 runs), down to a multiple of 8 lanes.
        assert_eq!(LANES, 8);
        assert_eq!(sketch_batch_runs(21_600), 192);
        // Products: 7,680 / 112 = 68.6, down to 64.
        assert_eq!(sketch_batch_runs(7_680), 64);
        // 50,000 cells: 32 MiB / 400,000 bytes = 83.9 runs.
        assert_eq!(sketch_batch_runs(50_000), 80);
        assert_eq!(sketch_batch_runs(2_520), 64);
        assert_eq!(sketch_batch_runs(1_000_000), 64);
        assert_eq!(sketch_batch_runs(0), 64);
    }

    #[test]
    fn runs_from_percentile_runs_on_reach_the_means_not_the_percentiles() {
        let text = "[simulation]\nname = \"t\"\nstart_year = 2025\nyears = 2\nruns = 1\nseed = 3\n\
             [[material]]\nid = \"x\"\nprice_eur_per_t = 1\nvalue_of_lost_load_eur_per_t = 1\n\
             demand_tpy = { dist = \"lognormal\", mean = 40, sd = 10 }\n\
             [[material.source]]\nregion = \"A\"\nshare = 1\n\
             [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nrate_per_year = 2\n\
             duration_months = 3\nseverity = { dist = \"uniform\", min = 0.2, max = 1.0 }\n";
        let s = Scenario::from_toml(text, Path::new("t.toml")).unwrap();
        // Runs 9,920 to 10,175 on two threads: only the first 80 are
        // sketched, in whichever worker runs them.
        let stats = |runs| {
            let plan = RunPlan {
                first_run: PERCENTILE_RUNS - 80,
                runs,
                seed: 3,
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            pool.install(|| simulate(&s, &plan, &|_| {})).steps
        };
        let (all, sketched) = (stats(256), stats(80));
        assert_eq!((all.runs(), sketched.runs()), (256, 80));
        let varying = sketched.varying_cells();
        // Demand, supply, imports, shortfall and consumption (a market that
        // does not clear: prices and demand reduction are fixed), in each
        // of 24 steps.
        assert_eq!(varying.len(), 5 * 24);
        for &c in &varying {
            for q in [0.0, 0.05, 0.5, 0.95, 1.0] {
                assert_eq!(
                    all.quantile(c, q).to_bits(),
                    sketched.quantile(c, q).to_bits(),
                    "cell {c}"
                );
            }
        }
        // Demand in the first step, drawn per run: the means differ.
        assert_ne!(all.mean(0), sketched.mean(0));
    }

    #[test]
    fn memory_estimate_grows_with_runs_steps_materials_and_workers() {
        let e = MemoryEstimate::new(&scenario(10, 1), 1000);
        assert_eq!(e.cells, N_VARIABLES as u64 * 120);
        // The totals, held once.
        let m = N_METRICS as u64;
        assert_eq!(e.run_table, 1000 * 8 * m);
        assert!(e.total(2) > e.total(1));
        assert_eq!(e.workers_within(e.total(3)), 3);
        assert_eq!(e.workers_within(e.total(1) - 1), 0);
        let more_runs = MemoryEstimate::new(&scenario(10, 1), 2000);
        let more_steps = MemoryEstimate::new(&scenario(20, 1), 1000);
        let more_materials = MemoryEstimate::new(&scenario(10, 2), 1000);
        for bigger in [more_runs, more_steps, more_materials] {
            assert!(bigger.total(1) > e.total(1));
        }
        // A billion runs of 200 years: far beyond any budget, and no overflow.
        let huge = MemoryEstimate::new(&scenario(200, 3), 1_000_000_000);
        assert!(huge.total(1024) > 1 << 38);
    }
}
