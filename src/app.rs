//! Orchestration of each command: load, validate, simulate, summarize, write.
//! Errors get their context here, at the edge; exit codes are decided here.

use crate::cli::{Cli, Command, RunArgs};
use crate::engine::{simulate, RunPlan};
use crate::output::{self, Artifact, MARKER};
use crate::scenario::{Scenario, ScenarioError};
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

fn run_scenario(args: &RunArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.scenario).map_err(|source| ScenarioError::Read {
        file: args.scenario.clone(),
        source,
    })?;
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
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n as usize,
    );
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

    let mut artifacts = vec![
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
    if !args.no_charts {
        let figures = pool
            .install(|| output::charts::figures(&scenario, &report, &outcome.runs))
            .context("cannot draw the charts")?;
        artifacts.extend(figures.iter().flat_map(|f| f.artifacts()));
        artifacts.push(Artifact {
            name: "report.html".into(),
            bytes: output::html::report(&scenario, &report, &figures),
        });
    }
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
