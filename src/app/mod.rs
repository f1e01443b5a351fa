//! Orchestration of each command: load, validate, simulate, summarize, write.
//! Errors get their context here, at the edge; each becomes an [`Error`],
//! input or failure, which gives the exit code.
//!
//! One file per command; what several commands share (loading a document,
//! the thread pool, the memory budget, where results go) is here.

mod backtest;
mod catalogue;
mod compare;
mod criticality;
mod merge;
mod optimize;
mod run;
pub mod study;
mod sweep;

use crate::analysis;
use crate::analysis::criticality::{DynamicError, IndicatorError, Indicators};
use crate::cli::{
    BacktestArgs, CatalogueArgs, Cli, Command, CommonArgs, CompareArgs, CriticalityArgs, MergeArgs,
    OptimizeArgs, RunArgs, SweepArgs,
};
use crate::engine::simulate_with;
use crate::engine::MemoryEstimate;
use crate::output::{self, Artifact};
use crate::report::Report;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::storage::partial::{self, Partial, PartialError};
use crate::storage::{Outcome, Spill};
use crate::vocab::{RunPlan, BLOCK_RUNS};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A problem with what the user asked for (not with the scenario file).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// The memory a run may use, in bytes. A run estimated to need more (from
/// its runs, materials, steps and threads; see [`MemoryEstimate`]) is refused
/// before it starts, or given fewer threads when that is enough.
pub const MEMORY_BUDGET: u64 = 8 << 30;

/// The largest per-run table kept in a temporary file, in bytes (a million
/// runs of ten materials take about 1.7 GB).
pub const TABLE_FILE_LIMIT: u64 = 64 << 30;

/// What went wrong in a command, sorted by whose it is, which decides the
/// exit code (docs/errors.md, "Exit codes"). Each error type of the crate
/// says which it is ([`Classify`]) when it becomes an `Error`, so the kind
/// is known from the first error and kept as context is added.
#[derive(Debug)]
pub enum Error {
    /// The input is wrong: the scenario, a data file, an option, a
    /// destination crmsim may not write. Exit code 2.
    Input(anyhow::Error),
    /// The file system failed while crmsim read or wrote its own files (a
    /// full disk, a per-run table that cannot be read back), or an internal
    /// error. Exit code 1.
    Failure(anyhow::Error),
}

impl Error {
    /// The exit code: 2 for [`Error::Input`], 1 for [`Error::Failure`].
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) => 2,
            Error::Failure(_) => 1,
        }
    }

    /// The same error, with `what` said first.
    pub fn context(self, what: &'static str) -> Error {
        match self {
            Error::Input(e) => Error::Input(e.context(what)),
            Error::Failure(e) => Error::Failure(e.context(what)),
        }
    }
}

/// With `{:#}`, the whole chain, outermost first, joined by ": ".
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (Error::Input(e) | Error::Failure(e)) = self;
        if f.alternate() {
            write!(f, "{e:#}")
        } else {
            write!(f, "{e}")
        }
    }
}

/// Whether an error is the user's input (exit code 2) or a failure while
/// crmsim works (1): implemented by every error type a command can meet.
pub trait Classify {
    /// True when the input is wrong.
    fn is_input(&self) -> bool;
}

impl<E> From<E> for Error
where
    E: Classify + std::error::Error + Send + Sync + 'static,
{
    fn from(e: E) -> Error {
        if e.is_input() {
            Error::Input(e.into())
        } else {
            Error::Failure(e.into())
        }
    }
}

/// Errors that are always the input's.
macro_rules! input_errors {
    ($($t:ty),* $(,)?) => {
        $(impl Classify for $t {
            fn is_input(&self) -> bool {
                true
            }
        })*
    };
}

input_errors!(
    ScenarioError,
    InputError,
    IndicatorError,
    DynamicError,
    crate::analysis::criticality::PublishedError,
    crate::analysis::catalogue::CatalogueError,
    crate::analysis::backtest::BacktestError,
);

/// Errors that are never the input's.
macro_rules! failures {
    ($($t:ty),* $(,)?) => {
        $(impl Classify for $t {
            fn is_input(&self) -> bool {
                false
            }
        })*
    };
}

failures!(
    output::charts::ChartError,
    output::criticality_chart::ChartError,
    rayon::ThreadPoolBuildError,
);

impl Classify for output::WriteError {
    fn is_input(&self) -> bool {
        output::WriteError::is_input(self)
    }
}

impl Classify for PartialError {
    fn is_input(&self) -> bool {
        PartialError::is_input(self)
    }
}

impl Classify for analysis::AnalysisError {
    fn is_input(&self) -> bool {
        analysis::AnalysisError::is_input(self)
    }
}

/// A command's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds what was being done to an error, keeping its kind.
trait Context<T> {
    fn context(self, what: &'static str) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &'static str) -> Result<T> {
        self.map_err(|e| e.into().context(what))
    }
}

/// Runs the command line's command.
///
/// # Errors
/// Any failure, with context, as an [`Error`] that gives the exit code.
pub fn run(cli: Cli) -> Result<()> {
    // A wrong CRMSIM_SIMD stops every command before it starts.
    crate::simd::check().map_err(|e| InputError(e.to_string()))?;
    match cli.command {
        Command::Run(args) => run::run_scenario(&args),
        Command::Validate { scenario } => {
            let s = Scenario::load(&scenario)?;
            // The file's own run count must fit, with one thread at least.
            workers_within_budget(&scenario, &s, s.runs())?;
            print!("{}", output::text::describe(&s));
            println!("\n{}: valid", scenario.display());
            Ok(())
        }
        Command::Merge(args) => merge::merge(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Optimize(args) => optimize::optimize_cmd(&args),
        Command::Criticality(args) => criticality::criticality_cmd(&args),
        Command::Catalogue(args) => catalogue::catalogue_cmd(&args),
        Command::Backtest(args) => backtest::backtest_cmd(&args),
    }
}

/// Where results go: `--out`, or `outputs/<name>` (`outputs/<name>.shards/K-of-N`
/// for a shard).
fn output_dir(args: &RunArgs, scenario: &Scenario) -> PathBuf {
    args.out.clone().unwrap_or_else(|| match args.shard {
        Some(s) => Path::new("outputs")
            .join(format!("{}.shards", scenario.name()))
            .join(format!("{}-of-{}", s.index, s.count)),
        None => Path::new("outputs").join(scenario.name()),
    })
}

/// Refuses, before a long run, a destination that is not crmsim's to
/// replace or write (see [`output::check_destination`]).
fn check_destination(out: &Path) -> Result<()> {
    Ok(output::check_destination(out)?)
}

/// A size in MiB or GiB.
fn gib(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes < 1 << 30 {
        format!("{:.0} MiB", b / f64::from(1u32 << 20))
    } else {
        format!("{:.1} GiB", b / f64::from(1u32 << 30))
    }
}

/// The most worker threads `runs` runs of `scenario` can use within
/// [`MEMORY_BUDGET`] (at least 1), and the estimate it comes from.
///
/// # Errors
/// [`InputError`] naming the limit when even one thread would exceed it.
fn workers_within_budget(
    file: &Path,
    scenario: &Scenario,
    runs: u64,
) -> Result<(u64, MemoryEstimate)> {
    let estimate = MemoryEstimate::new(scenario, runs).with_spill();
    if estimate.table_file > TABLE_FILE_LIMIT {
        return Err(InputError(format!(
            "{}: {runs} runs of {} material(s) would need about {} of temporary disk space \
             for the per-run totals, above the limit of {}; use fewer runs (--runs), or split \
             the study into shards (--shard K/N, see docs/cluster.md)",
            file.display(),
            scenario.material_ids().count(),
            gib(estimate.table_file),
            gib(TABLE_FILE_LIMIT),
        ))
        .into());
    }
    let fit = workers_within(file, scenario, runs, &estimate)?;
    Ok((fit, estimate))
}

/// The worker threads an analysis (sweep, compare, optimize, criticality
/// with a scenario, backtest) runs `runs` runs of `scenario` with: the
/// number asked for (default: one per core), fewer when that is what fits
/// in [`MEMORY_BUDGET`]. Analyses keep each per-run table in memory.
///
/// # Errors
/// [`InputError`] naming the limit when even one thread would exceed it.
fn analysis_threads(
    file: &Path,
    scenario: &Scenario,
    runs: u64,
    threads: Option<u64>,
) -> Result<u64> {
    analysis_threads_observed(file, scenario, runs, threads, 0)
}

/// [`analysis_threads`] for a simulation whose [`crate::engine::Observer`]
/// keeps `observed` values of every run.
///
/// # Errors
/// [`InputError`] naming the limit when even one thread would exceed it.
fn analysis_threads_observed(
    file: &Path,
    scenario: &Scenario,
    runs: u64,
    threads: Option<u64>,
    observed: u64,
) -> Result<u64> {
    let estimate = MemoryEstimate::new(scenario, runs).with_observed(runs, observed);
    let fit = workers_within(file, scenario, runs, &estimate)?;
    Ok(threads.unwrap_or_else(cores).min(fit))
}

/// The most worker threads that fit `estimate` in [`MEMORY_BUDGET`].
///
/// # Errors
/// [`InputError`] naming the limit when even one thread would exceed it.
fn workers_within(
    file: &Path,
    scenario: &Scenario,
    runs: u64,
    estimate: &MemoryEstimate,
) -> Result<u64> {
    let fit = estimate.workers_within(MEMORY_BUDGET);
    if fit == 0 {
        return Err(InputError(format!(
            "{}: {runs} runs of {} steps of {} material(s) would need about {} of memory \
             ({} for the per-run totals, {} for each copy of the per-step \
             statistics of {} series), above the limit of {}; use fewer runs (--runs), \
             a shorter horizon, a coarser step or fewer materials",
            file.display(),
            scenario.steps(),
            scenario.material_ids().count(),
            gib(estimate.total(1)),
            gib(estimate.run_table),
            gib(estimate.step_stats),
            estimate.cells,
            gib(MEMORY_BUDGET),
        ))
        .into());
    }
    Ok(fit)
}

/// A temporary file beside the output folder `out` for the per-run table,
/// when the `estimate` (made [`MemoryEstimate::with_spill`]) keeps it in
/// one; `None` when it fits in memory.
fn spill_beside(out: &Path, estimate: &MemoryEstimate) -> Result<Option<Spill>> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    spill_in(dir, estimate)
}

/// A temporary file in the folder `dir` for the per-run table, when the
/// `estimate` keeps it in one (see [`spill_beside`]).
fn spill_in(dir: PathBuf, estimate: &MemoryEstimate) -> Result<Option<Spill>> {
    if estimate.table_file == 0 {
        return Ok(None);
    }
    let io = |action| {
        let dir = dir.clone();
        move |source| output::WriteError::Io {
            path: dir,
            action,
            source,
        }
    };
    std::fs::create_dir_all(&dir).map_err(io("create the folder"))?;
    let spill = Spill::new_in(&dir).map_err(io("create a temporary file for the per-run table"))?;
    Ok(Some(spill))
}

fn progress_bar(runs: u64, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(runs), ProgressDrawTarget::hidden());
    if !quiet {
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {eta} left")
                .expect("a fixed template is valid"),
        );
    }
    bar
}

/// The threads worth starting for `runs` runs when `asked` are asked for:
/// no more than there are blocks of runs, and at least one.
fn useful_threads(asked: u64, runs: u64) -> u64 {
    asked.min(runs.div_ceil(BLOCK_RUNS)).max(1)
}

/// The number of cores (1 when it cannot be told).
fn cores() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

/// A worker pool of the requested size (default: one thread per core).
fn pool(threads: Option<u64>) -> Result<rayon::ThreadPool> {
    let n = usize::try_from(threads.unwrap_or_else(cores))
        .expect("at most 1024 threads, or the core count");
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .context("cannot start the worker threads")
}

/// A scenario file: its text, the validated scenario, and the parsed document.
fn load_document(path: &Path) -> Result<(String, Scenario, toml::Table)> {
    let text = scenario::read_text(path)?;
    let scenario = Scenario::from_toml(&text, path)?;
    let doc: toml::Table = text.parse().expect("a validated scenario parses");
    Ok((text, scenario, doc))
}

fn plan_of(common: &CommonArgs, scenario: &Scenario) -> RunPlan {
    RunPlan {
        first_run: 0,
        runs: common.runs.unwrap_or(scenario.runs()),
        seed: common.seed.unwrap_or(scenario.seed()),
    }
}

fn analysis_dir(common: &CommonArgs, scenario: &Scenario, what: &str) -> PathBuf {
    common
        .out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(format!("{}-{what}", scenario.name())))
}

fn note(quiet: bool, message: &str) {
    if !quiet {
        eprintln!("{message}");
    }
}
