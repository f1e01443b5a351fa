//! `crmsim run`: load a scenario, check its memory, simulate (all runs, or
//! one shard of a study), summarize, and write the output folder.

use super::*;

pub(super) fn run_scenario(args: &RunArgs) -> Result<()> {
    let text = scenario::read_text(&args.scenario)?;
    let scenario = Scenario::from_toml(&text, &args.scenario)?;
    let total_runs = args.runs.unwrap_or(scenario.runs());
    let seed = args.seed.unwrap_or(scenario.seed());
    let plan = match args.shard {
        Some(s) => RunPlan::shard(total_runs, seed, s.index, s.count),
        None => RunPlan {
            first_run: 0,
            runs: total_runs,
            seed,
        },
    };
    let out = output_dir(args, &scenario);
    check_destination(&out)?;
    args.format.check_available().map_err(InputError)?;
    let asked = args.threads.unwrap_or_else(cores);
    // Each worker holds its own statistics: fewer workers use less memory
    // and give the same results.
    let (fit, estimate) = workers_within_budget(&args.scenario, &scenario, plan.runs)?;
    let useful = useful_threads(asked, plan.runs);
    let threads = useful.min(fit);
    if threads < useful && args.threads.is_some() && !args.quiet {
        eprintln!(
            "note: using {threads} threads instead of {asked} to stay within the memory limit of {}",
            gib(MEMORY_BUDGET)
        );
    }
    let pool = pool(Some(threads))?;

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
    let spill = spill_beside(&out, &estimate)?;
    let outcome = pool
        .install(|| simulate_with(&scenario, &plan, &progress, spill))
        .map_err(|e| output::WriteError::Io {
            path: out.clone(),
            action: "keep the per-run table in a temporary file beside it",
            source: e,
        })?;
    bar.finish_and_clear();

    if let Some(shard) = args.shard {
        let partial = Partial::new(text, total_runs, plan, outcome);
        // Streamed, so that a large per-run table is never held whole.
        let write = |w: &mut (dyn std::io::Write + Send)| partial.write_to(w);
        output::write_folder_with(
            &out,
            &[],
            &[output::Stream {
                name: partial::FILE_NAME,
                write: &write,
            }],
        )?;
        if !args.quiet {
            println!(
                "shard {}/{}: runs {}..{} of {} written to {} ({:.1} s)",
                shard.index,
                shard.count,
                plan.first_run,
                plan.first_run + plan.runs,
                total_runs,
                out.display(),
                started.elapsed().as_secs_f64()
            );
        }
        return Ok(());
    }
    let report = pool.install(|| {
        write_results(
            &scenario,
            text,
            &plan,
            &outcome,
            &out,
            !args.no_charts,
            args.format,
        )
    })?;
    if !args.quiet {
        print_results(&scenario, &report, &out, started);
    }
    Ok(())
}

/// Renders every result file of a finished study and writes the folder;
/// returns the report, for the results table.
pub(super) fn write_results(
    scenario: &Scenario,
    text: String,
    plan: &RunPlan,
    outcome: &Outcome,
    out: &Path,
    charts: bool,
    format: output::Format,
) -> Result<Report> {
    // The summary and the charts read the per-run table; from a temporary
    // file that can fail, and nothing is written then.
    let report = Report::new(scenario, plan, outcome).map_err(|e| read_back(out, e))?;
    write_report(scenario, text, outcome, &report, out, charts, format)?;
    Ok(report)
}

/// The error of a per-run table that cannot be read back from its
/// temporary file, for the output folder `out`.
pub(super) fn read_back(out: &Path, source: std::io::Error) -> output::WriteError {
    output::WriteError::Io {
        path: out.to_path_buf(),
        action: "read back the per-run table from its temporary file",
        source,
    }
}

/// Writes the output folder of a study whose report is made.
pub(super) fn write_report(
    scenario: &Scenario,
    text: String,
    outcome: &Outcome,
    report: &Report,
    out: &Path,
    charts: bool,
    format: output::Format,
) -> Result<()> {
    let read_back = |source| read_back(out, source);
    // The text files and the charts are rendered side by side on the pool:
    // neither reads the other, and each keeps its own order.
    let text_files = || -> Result<Vec<Artifact>> {
        let mut files = vec![Artifact {
            name: "summary.json".into(),
            bytes: output::json::summary(scenario, report),
        }];
        match format {
            output::Format::Csv => files.push(Artifact {
                name: "timeseries.csv".into(),
                bytes: output::csv::timeseries(report),
            }),
            output::Format::Parquet => files.push(Artifact {
                name: "timeseries.parquet".into(),
                bytes: parquet_timeseries(report)?,
            }),
        }
        if report.materials.iter().any(|m| !m.stockpiles.is_empty()) {
            files.push(Artifact {
                name: "stocks.csv".into(),
                bytes: output::csv::stocks(report),
            });
        }
        files.extend([
            Artifact {
                name: "scenario.toml".into(),
                bytes: text.into_bytes(),
            },
            Artifact {
                name: "resolved.txt".into(),
                bytes: output::text::describe(scenario).into_bytes(),
            },
        ]);
        Ok(files)
    };
    let drawn = || -> Result<Vec<Artifact>> {
        if !charts {
            return Ok(Vec::new());
        }
        let figures =
            output::charts::figures(scenario, report, &outcome.runs).map_err(|e| match e {
                output::charts::ChartError::Read(source) => read_back(source).into(),
                e => Error::from(e).context("cannot draw the charts"),
            })?;
        let flows = output::charts::flow_figures(scenario, report)
            .context("cannot draw the flows diagrams")?;
        let mut files: Vec<Artifact> = figures.iter().flat_map(|f| f.artifacts()).collect();
        files.push(Artifact {
            name: "report.html".into(),
            bytes: output::html::report(scenario, report, &figures, &flows),
        });
        Ok(files)
    };
    let (artifacts, drawn) = rayon::join(text_files, drawn);
    let mut artifacts = artifacts?;
    artifacts.extend(drawn?);
    let runs = |w: &mut (dyn std::io::Write + Send)| match format {
        output::Format::Csv => output::csv::runs_to(w, report, &outcome.runs),
        output::Format::Parquet => parquet_runs(w, report, &outcome.runs),
    };
    let params = |w: &mut (dyn std::io::Write + Send)| match format {
        output::Format::Csv => output::csv::params_to(w, &outcome.runs),
        output::Format::Parquet => parquet_params(w, &outcome.runs),
    };
    let (runs_name, params_name) = match format {
        output::Format::Csv => ("runs.csv", "params.csv"),
        output::Format::Parquet => ("runs.parquet", "params.parquet"),
    };
    output::write_folder_with(
        out,
        &artifacts,
        &[
            output::Stream {
                name: runs_name,
                write: &runs,
            },
            output::Stream {
                name: params_name,
                write: &params,
            },
        ],
    )?;
    Ok(())
}

// The Parquet writers, or, in a build without them, a failure (the format
// is checked before a study starts: see `output::Format::check_available`).

#[cfg(feature = "parquet")]
use output::parquet::{params_to as parquet_params, runs_to as parquet_runs};

#[cfg(feature = "parquet")]
fn parquet_timeseries(report: &Report) -> Result<Vec<u8>> {
    output::parquet::timeseries(report).map_err(|e| {
        Error::Failure(anyhow::Error::new(e).context("cannot write timeseries.parquet"))
    })
}

#[cfg(not(feature = "parquet"))]
fn parquet_unavailable() -> std::io::Error {
    std::io::Error::other(output::Format::Parquet.check_available().unwrap_err())
}

#[cfg(not(feature = "parquet"))]
fn parquet_runs(
    _: &mut (dyn std::io::Write + Send),
    _: &Report,
    _: &crate::storage::RunTable,
) -> std::io::Result<()> {
    Err(parquet_unavailable())
}

#[cfg(not(feature = "parquet"))]
fn parquet_params(
    _: &mut (dyn std::io::Write + Send),
    _: &crate::storage::RunTable,
) -> std::io::Result<()> {
    Err(parquet_unavailable())
}

#[cfg(not(feature = "parquet"))]
fn parquet_timeseries(_: &Report) -> Result<Vec<u8>> {
    Err(InputError(output::Format::Parquet.check_available().unwrap_err()).into())
}

pub(super) fn print_results(scenario: &Scenario, report: &Report, out: &Path, started: Instant) {
    print!("{}", output::text::results_table(scenario, report));
    println!(
        "results in {} ({:.1} s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
}
