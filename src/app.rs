//! Orchestration of each command: load, validate, simulate, summarize, write.
//! Errors get their context here, at the edge; exit codes are decided here.

use crate::cli::{Cli, Command, RunArgs};
use crate::engine::{simulate, MemoryEstimate, RunPlan, BLOCK_RUNS};
use crate::output::{self, Artifact, MARKER};
use crate::scenario::{self, Scenario, ScenarioError};
use crate::stats::Report;
use anyhow::{Context, Result};
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

/// The exit code for an error: 2 when the input is wrong, 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    let input = e
        .chain()
        .any(|c| c.is::<ScenarioError>() || c.is::<InputError>() || c.is::<output::WriteError>());
    if input {
        2
    } else {
        1
    }
}

/// Runs the command line's command.
///
/// # Errors
/// Any failure, with context; see [`exit_code`] for how it maps to an exit code.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run_scenario(&args),
        Command::Validate { scenario } => {
            let s = Scenario::load(&scenario)?;
            // The file's own run count must fit, with one thread at least.
            workers_within_budget(&scenario, &s, s.runs())?;
            print!("{}", output::text::describe(&s));
            println!("\n{}: valid", scenario.display());
            Ok(())
        }
    }
}

/// Where results go: `--out`, or `outputs/<name>`.
fn output_dir(args: &RunArgs, scenario: &Scenario) -> PathBuf {
    args.out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(scenario.name()))
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
/// [`MEMORY_BUDGET`] (at least 1).
///
/// # Errors
/// [`InputError`] naming the limit when even one thread would exceed it.
fn workers_within_budget(file: &Path, scenario: &Scenario, runs: u64) -> Result<u64> {
    let estimate = MemoryEstimate::new(scenario, runs);
    let fit = estimate.workers_within(MEMORY_BUDGET);
    if fit == 0 {
        return Err(InputError(format!(
            "{}: {runs} runs of {} steps of {} material(s) would need about {} of memory \
             ({} for the per-run totals and runs.csv, {} for each copy of the per-step \
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

fn run_scenario(args: &RunArgs) -> Result<()> {
    let text = scenario::read_text(&args.scenario)?;
    let scenario = Scenario::from_toml(&text, &args.scenario)?;
    let plan = RunPlan {
        first_run: 0,
        runs: args.runs.unwrap_or(scenario.runs()),
        seed: args.seed.unwrap_or(scenario.seed()),
    };
    let out = output_dir(args, &scenario);
    // Refuse before a long run, not after it.
    if out.exists() && !out.join(MARKER).is_file() {
        return Err(output::WriteError::Foreign(out).into());
    }
    let asked = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u64));
    // Each worker holds its own statistics: fewer workers use less memory
    // and give the same results.
    let fit = workers_within_budget(&args.scenario, &scenario, plan.runs)?;
    let useful = asked.min(plan.runs.div_ceil(BLOCK_RUNS)).max(1);
    let threads = useful.min(fit);
    if threads < useful && args.threads.is_some() && !args.quiet {
        eprintln!(
            "note: using {threads} threads instead of {asked} to stay within the memory limit of {}",
            gib(MEMORY_BUDGET)
        );
    }
    let threads = usize::try_from(threads).expect("at most 1024 threads, or the core count");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;

    let bar = progress_bar(plan.runs, args.quiet);
    let started = Instant::now();
    let shown = AtomicBool::new(false);
    let progress = |n: u64| {
        bar.inc(n);
        // Only runs longer than a second get a bar.
        if !shown.load(Ordering::Relaxed) && started.elapsed() > Duration::from_secs(1) {
            shown.store(true, Ordering::Relaxed);
            if !args.quiet && std::io::stderr().is_terminal() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    };
    let outcome = pool.install(|| simulate(&scenario, &plan, &progress));
    bar.finish_and_clear();
    let report = Report::new(&scenario, &plan, &outcome);

    let artifacts = vec![
        Artifact {
            name: "summary.json".into(),
            bytes: output::json::summary(&scenario, &report),
        },
        Artifact {
            name: "timeseries.csv".into(),
            bytes: output::csv::timeseries(&report),
        },
        Artifact {
            name: "runs.csv".into(),
            bytes: output::csv::runs(&report, &outcome.runs),
        },
        Artifact {
            name: "scenario.toml".into(),
            bytes: text.into_bytes(),
        },
        Artifact {
            name: "resolved.txt".into(),
            bytes: output::text::describe(&scenario).into_bytes(),
        },
    ];
    output::write_folder(&out, &artifacts)?;
    if !args.quiet {
        print!("{}", output::text::results_table(&scenario, &report));
        println!(
            "results in {} ({:.1} s)",
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
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
