//! `crmsim sweep`: a grid of policy variants on one random world.

use super::*;

pub(super) fn sweep(args: &SweepArgs) -> Result<()> {
    let started = Instant::now();
    let (text, scenario, doc) = load_document(&args.scenario)?;
    let plan = plan_of(&args.common, &scenario);
    let threads = analysis_threads(&args.scenario, &scenario, plan.runs, args.common.threads)?;
    let out = analysis_dir(&args.common, &scenario, "sweep");
    check_destination(&out)?;
    let quiet = args.common.quiet;
    let progress = |done: usize, total: usize| note(quiet, &format!("point {done}/{total} done"));
    let points = points(
        &doc,
        &args.scenario,
        &args.settings,
        &plan,
        threads,
        &progress,
        &AtomicBool::new(false),
    )?;
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

/// The sweep's points on a pool of `threads`, stopping when `stop` is set.
pub(super) fn points(
    doc: &toml::Table,
    file: &Path,
    settings: &[crate::analysis::edit::Setting],
    plan: &RunPlan,
    threads: u64,
    progress: &(dyn Fn(usize, usize) + Sync),
    stop: &AtomicBool,
) -> Result<study::Points> {
    Ok(pool(Some(threads))?
        .install(|| analysis::sweep::sweep(doc, file, settings, plan, progress, stop))?)
}
