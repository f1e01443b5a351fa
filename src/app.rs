//! Orchestration of each command: load, validate, simulate, summarize, write.
//! Errors get their context here, at the edge; exit codes are decided here.

use crate::analysis::criticality::{self, DynamicError, IndicatorError, Indicators};
use crate::analysis::{self, optimize};
use crate::cli::{
    Cli, Command, CommonArgs, CompareArgs, CriticalityArgs, MergeArgs, OptimizeArgs, RunArgs,
    SweepArgs,
};
use crate::engine::MemoryEstimate;
use crate::engine::{simulate, simulate_with};
use crate::output::{self, Artifact, MARKER};
use crate::report::Report;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::storage::partial::{self, Partial, PartialError};
use crate::storage::{Outcome, Spill};
use crate::vocab::{RunPlan, BLOCK_RUNS};
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

/// The largest per-run table kept in a temporary file, in bytes (a million
/// runs of ten materials take about 1.7 GB).
pub const TABLE_FILE_LIMIT: u64 = 64 << 30;

/// The exit code for an error: 2 when the input is wrong, 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    let input = e.chain().any(|c| {
        c.is::<ScenarioError>()
            || c.is::<InputError>()
            || c.is::<output::WriteError>()
            || c.is::<partial::PartialError>()
            || c.is::<analysis::AnalysisError>()
            || c.is::<IndicatorError>()
            || c.is::<DynamicError>()
    });
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
        Command::Merge(args) => merge(&args),
        Command::Sweep(args) => sweep(&args),
        Command::Compare(args) => compare(&args),
        Command::Optimize(args) => optimize_cmd(&args),
        Command::Criticality(args) => criticality_cmd(&args),
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

/// Refuses, before a long run, a destination that is not crmsim's to replace.
fn check_destination(out: &Path) -> Result<()> {
    if out.exists() && !out.join(MARKER).is_file() {
        return Err(output::WriteError::Foreign(out.to_path_buf()).into());
    }
    Ok(())
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
    Ok((fit, estimate))
}

fn run_scenario(args: &RunArgs) -> Result<()> {
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
    let asked = args.threads.unwrap_or_else(cores);
    // Each worker holds its own statistics: fewer workers use less memory
    // and give the same results.
    let (fit, estimate) = workers_within_budget(&args.scenario, &scenario, plan.runs)?;
    let useful = asked.min(plan.runs.div_ceil(BLOCK_RUNS)).max(1);
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
        let write = |w: &mut dyn std::io::Write| partial.write_to(w);
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
    let report =
        pool.install(|| write_results(&scenario, text, &plan, &outcome, &out, !args.no_charts))?;
    if !args.quiet {
        print_results(&scenario, &report, &out, started);
    }
    Ok(())
}

/// A temporary file beside the output folder `out` for the per-run table,
/// when the `estimate` (made [`MemoryEstimate::with_spill`]) keeps it in
/// one; `None` when it fits in memory.
fn spill_beside(out: &Path, estimate: &MemoryEstimate) -> Result<Option<Spill>> {
    if estimate.table_file == 0 {
        return Ok(None);
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
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

/// Renders every result file of a finished study and writes the folder;
/// returns the report, for the results table.
fn write_results(
    scenario: &Scenario,
    text: String,
    plan: &RunPlan,
    outcome: &Outcome,
    out: &Path,
    charts: bool,
) -> Result<Report> {
    let report = Report::new(scenario, plan, outcome);
    let mut artifacts = vec![
        Artifact {
            name: "summary.json".into(),
            bytes: output::json::summary(scenario, &report),
        },
        Artifact {
            name: "timeseries.csv".into(),
            bytes: output::csv::timeseries(&report),
        },
        Artifact {
            name: "scenario.toml".into(),
            bytes: text.into_bytes(),
        },
        Artifact {
            name: "resolved.txt".into(),
            bytes: output::text::describe(scenario).into_bytes(),
        },
    ];
    if charts {
        let figures = output::charts::figures(scenario, &report, &outcome.runs)
            .context("cannot draw the charts")?;
        artifacts.extend(figures.iter().flat_map(|f| f.artifacts()));
        artifacts.push(Artifact {
            name: "report.html".into(),
            bytes: output::html::report(scenario, &report, &figures),
        });
    }
    // The summary and the charts read the per-run table; from a temporary
    // file that can fail, and nothing is written then.
    if let Some(source) = outcome.runs.read_error() {
        return Err(output::WriteError::Io {
            path: out.to_path_buf(),
            action: "read back the per-run table from its temporary file",
            source,
        }
        .into());
    }
    let runs_csv = |w: &mut dyn std::io::Write| output::csv::runs_to(w, &report, &outcome.runs);
    let params_csv = |w: &mut dyn std::io::Write| output::csv::params_to(w, &outcome.runs);
    output::write_folder_with(
        out,
        &artifacts,
        &[
            output::Stream {
                name: "runs.csv",
                write: &runs_csv,
            },
            output::Stream {
                name: "params.csv",
                write: &params_csv,
            },
        ],
    )?;
    Ok(report)
}

fn print_results(scenario: &Scenario, report: &Report, out: &Path, started: Instant) {
    print!("{}", output::text::results_table(scenario, report));
    println!(
        "results in {} ({:.1} s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
}

fn merge(args: &MergeArgs) -> Result<()> {
    let started = Instant::now();
    // One partial is read at a time; the merged per-run table goes to a
    // temporary file beside the output when it is large.
    let read = |path: &PathBuf| -> Result<(String, Partial)> {
        let file = if path.is_dir() {
            path.join(partial::FILE_NAME)
        } else {
            path.clone()
        };
        let bytes = std::fs::read(&file).map_err(|e| {
            InputError(format!(
                "{}: cannot read the partial result: {e}",
                file.display()
            ))
        })?;
        let name = file.display().to_string();
        let p = Partial::decode(&bytes, &name)?;
        Ok((name, p))
    };
    let mut paths = args.partials.iter();
    let first = paths
        .next()
        .ok_or_else(|| PartialError::Mismatch("no partial results to merge".into()))?;
    let (name, first) = read(first)?;
    let scenario = Scenario::from_toml(
        &first.scenario_text,
        Path::new("scenario.toml (from the partials)"),
    )?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(scenario.name()));
    check_destination(&out)?;
    // The study's size is checked as a run of it would be: a damaged
    // partial may claim any number of runs.
    let (_, estimate) = workers_within_budget(Path::new(&name), &scenario, first.total_runs)?;
    let spill = spill_beside(&out, &estimate)?;
    let mut merger = partial::Merger::new(name, first, spill)?;
    for path in paths {
        let (name, p) = read(path)?;
        merger.add(name, p)?;
    }
    let (text, plan, outcome) = merger.finish()?;
    let report = write_results(&scenario, text, &plan, &outcome, &out, !args.no_charts)?;
    if !args.quiet {
        print_results(&scenario, &report, &out, started);
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
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        file: path.to_path_buf(),
        source,
    })?;
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

fn sweep(args: &SweepArgs) -> Result<()> {
    let started = Instant::now();
    let (text, scenario, doc) = load_document(&args.scenario)?;
    let plan = plan_of(&args.common, &scenario);
    let out = analysis_dir(&args.common, &scenario, "sweep");
    check_destination(&out)?;
    let quiet = args.common.quiet;
    let progress = |done: usize, total: usize| note(quiet, &format!("point {done}/{total} done"));
    let points = pool(args.common.threads)?.install(|| {
        analysis::sweep::sweep(&doc, &args.scenario, &args.settings, &plan, &progress)
    })?;
    let mut artifacts = vec![
        Artifact {
            name: "sweep.csv".into(),
            bytes: output::analysis::sweep_csv(&args.settings, &points),
        },
        Artifact {
            name: "scenario.toml".into(),
            bytes: text.into_bytes(),
        },
    ];
    if !args.no_charts {
        artifacts.extend(
            output::analysis::sweep_charts(&args.settings, &points)
                .context("cannot draw the charts")?,
        );
    }
    output::write_folder(&out, &artifacts)?;
    if !quiet {
        print!("{}", output::analysis::sweep_table(&args.settings, &points));
        println!(
            "{} runs per point, seed {}; avoided amounts against the same scenario without \
             stockpiles; results in {} ({:.1} s)",
            plan.runs,
            plan.seed,
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn compare(args: &CompareArgs) -> Result<()> {
    let started = Instant::now();
    let (base_path, variant_paths) = args
        .scenarios
        .split_first()
        .expect("clap requires at least two scenarios");
    let base = Scenario::load(base_path)?;
    let variants = variant_paths
        .iter()
        .map(|p| Scenario::load(p).map(|s| (p, s)))
        .collect::<Result<Vec<_>, _>>()?;
    let plan = plan_of(&args.common, &base);
    let out = analysis_dir(&args.common, &base, "compare");
    check_destination(&out)?;
    let pool = pool(args.common.threads)?;
    let base_runs = pool.install(|| simulate(&base, &plan, &|_| {})).runs;
    let mut diffs = Vec::with_capacity(variants.len());
    for (path, v) in &variants {
        let materials: Vec<(String, usize, usize)> = base
            .material_ids()
            .enumerate()
            .filter_map(|(mb, id)| {
                v.material_ids()
                    .position(|x| x == id)
                    .map(|mv| (id.to_string(), mb, mv))
            })
            .collect();
        if materials.is_empty() {
            return Err(InputError(format!(
                "{}: has no material in common with {}",
                path.display(),
                base_path.display()
            ))
            .into());
        }
        let runs = pool.install(|| simulate(v, &plan, &|_| {})).runs;
        note(args.common.quiet, &format!("{} done", path.display()));
        let label = path.display().to_string();
        diffs.push((
            label,
            analysis::compare::compare(&base_runs, &runs, &materials, plan.seed),
        ));
    }
    let mut artifacts = vec![Artifact {
        name: "compare.csv".into(),
        bytes: output::analysis::compare_csv(&diffs),
    }];
    if !args.no_charts {
        artifacts
            .extend(output::analysis::compare_charts(&diffs).context("cannot draw the charts")?);
    }
    output::write_folder(&out, &artifacts)?;
    if !args.common.quiet {
        print!("{}", output::analysis::compare_table(&diffs));
        println!(
            "base {}: {} runs, seed {}, every variant on the same runs; results in {} ({:.1} s)",
            base_path.display(),
            plan.runs,
            plan.seed,
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn optimize_cmd(args: &OptimizeArgs) -> Result<()> {
    let started = Instant::now();
    let (text, scenario, doc) = load_document(&args.scenario)?;
    let plan = plan_of(&args.common, &scenario);
    let out = analysis_dir(&args.common, &scenario, "optimize");
    check_destination(&out)?;
    let objective = match (args.target, args.objective, args.budget_eur) {
        (Some(t), _, _) => optimize::Objective::Target(t),
        (_, Some(_), _) => optimize::Objective::NetBenefit,
        (_, _, Some(b)) if b.is_finite() && b >= 0.0 => optimize::Objective::Budget(b),
        (_, _, Some(b)) => {
            return Err(InputError(format!("--budget-eur {b}: give a budget >= 0")).into())
        }
        _ => unreachable!("clap requires one goal"),
    };
    let grid = optimize::Grid {
        max_days: args.max_days,
        step_days: args.step_days,
    };
    let quiet = args.common.quiet;
    let progress = |m: &str| note(quiet, m);
    let sizings = pool(args.common.threads)?
        .install(|| optimize::optimize(&doc, &args.scenario, objective, grid, &plan, &progress))?;
    output::write_folder(
        &out,
        &[
            Artifact {
                name: "optimize.csv".into(),
                bytes: output::analysis::optimize_csv(&sizings),
            },
            Artifact {
                name: "scenario.toml".into(),
                bytes: text.into_bytes(),
            },
        ],
    )?;
    if !quiet {
        print!("{}", output::analysis::optimize_table(&sizings));
        println!(
            "{} runs, seed {}; results in {} ({:.1} s)",
            plan.runs,
            plan.seed,
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn criticality_cmd(args: &CriticalityArgs) -> Result<()> {
    let started = Instant::now();
    let quiet = args.common.quiet;
    let text = std::fs::read_to_string(&args.input).map_err(|source| IndicatorError::Read {
        file: args.input.clone(),
        source,
    })?;
    let ind = Indicators::from_toml(&text, &args.input)?;
    let scenario = match &args.scenario {
        Some(path) => {
            let s_text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
                file: path.clone(),
                source,
            })?;
            let s = Scenario::from_toml(&s_text, path)?;
            Some((s_text, s))
        }
        None => {
            if args.common.runs.is_some() || args.common.seed.is_some() {
                return Err(InputError(
                    "--runs and --seed apply to a simulation: give --scenario SCENARIO.toml".into(),
                )
                .into());
            }
            None
        }
    };
    let out = args
        .common
        .out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(format!("{}-criticality", ind.name())));
    check_destination(&out)?;

    let assessment = criticality::assess(&ind);
    let dynamic = match &scenario {
        Some((_, s)) => {
            let plan = plan_of(&args.common, s);
            let pool = pool(args.common.threads)?;
            let outcome = pool.install(|| simulate(s, &plan, &|_| {}));
            let report = Report::new(s, &plan, &outcome);
            let d = pool
                .install(|| criticality::dynamic(&ind, s, &plan, &report))
                .map_err(|e| match e {
                    DynamicError::StageUnclear {
                        material, message, ..
                    } => anyhow::Error::from(ind.material_error(
                        &text,
                        &args.input,
                        material,
                        "scenario_stage",
                        message,
                    )),
                    other => other.into(),
                })?;
            Some(d)
        }
        None => None,
    };
    let ranking = criticality::rank(&ind, &assessment, dynamic.as_ref());

    let mut artifacts = vec![
        Artifact {
            name: "criticality.csv".into(),
            bytes: output::criticality::assessment_csv(&assessment),
        },
        Artifact {
            name: "criticality.svg".into(),
            bytes: output::criticality_chart::chart_svg(&assessment)?,
        },
        Artifact {
            name: "criticality_ranking.csv".into(),
            bytes: output::criticality::ranking_csv(&ranking),
        },
        Artifact {
            name: "criticality_input.toml".into(),
            bytes: text.clone().into_bytes(),
        },
    ];
    if let (Some(d), Some((s_text, _))) = (&dynamic, &scenario) {
        artifacts.push(Artifact {
            name: "criticality_dynamic.csv".into(),
            bytes: output::criticality::dynamic_csv(&assessment, d),
        });
        artifacts.push(Artifact {
            name: "scenario.toml".into(),
            bytes: s_text.clone().into_bytes(),
        });
    }
    output::write_folder(&out, &artifacts)?;
    if !quiet {
        print!(
            "{}",
            output::criticality::summary_table(&assessment, &ranking)
        );
        if !ranking.left_out.is_empty() {
            let names: Vec<&str> = ranking.left_out.iter().map(|i| i.name()).collect();
            println!(
                "ranking without {} (they need --scenario)",
                names.join(", ")
            );
        }
        if let Some(d) = &dynamic {
            if !d.unmatched.is_empty() {
                println!(
                    "scenario materials not in the indicator file (no dynamic SR): {}",
                    d.unmatched.join(", ")
                );
            }
            println!(
                "dynamic SR from {}: {} runs, seed {}",
                d.scenario, d.runs, d.seed
            );
        }
        println!(
            "results in {} ({:.1} s)",
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
