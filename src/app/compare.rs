//! `crmsim compare`: scenarios on the same random world, with paired
//! differences run by run.

use super::*;

pub(super) fn compare(args: &CompareArgs) -> Result<()> {
    let started = Instant::now();
    let (base_path, variant_paths) = args
        .scenarios
        .split_first()
        .expect("clap requires at least two scenarios");
    let (base, base_label) = match &args.base_policy {
        Some(p) => {
            let (s, name) = scenario::with_policy(base_path, p)?;
            (s, format!("{} with {name}", base_path.display()))
        }
        None => (Scenario::load(base_path)?, base_path.display().to_string()),
    };
    let mut variants = variant_paths
        .iter()
        .map(|p| Scenario::load(p).map(|s| (p.display().to_string(), s)))
        .collect::<Result<Vec<_>, _>>()?;
    for p in &args.policies {
        let (s, name) = scenario::with_policy(base_path, p)?;
        variants.push((name, s));
    }
    let plan = plan_of(&args.common, &base);
    let out = analysis_dir(&args.common, &base, "compare");
    check_destination(&out)?;
    let quiet = args.common.quiet;
    let diffs = differences(
        base_path,
        &base,
        &variants,
        &plan,
        args.common.threads,
        &out,
        &Watch {
            done: &|path| note(quiet, &format!("{path} done")),
            stop: &AtomicBool::new(false),
        },
    )?;
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
            base_label,
            plan.runs,
            plan.seed,
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Who follows a comparison: `done` hears of each variant finished, and
/// the comparison stops (between blocks of runs) when `stop` is set.
pub(super) struct Watch<'a> {
    /// Called with each variant's label when it is done.
    pub(super) done: &'a dyn Fn(&str),
    /// The stop signal.
    pub(super) stop: &'a AtomicBool,
}

/// Each variant's paired differences with `base` (the file `base_path`),
/// on the same runs; `out` names the folder in a read-back error.
pub(super) fn differences(
    base_path: &Path,
    base: &Scenario,
    variants: &[(String, Scenario)],
    plan: &RunPlan,
    threads: Option<u64>,
    out: &Path,
    watch: &Watch,
) -> Result<study::Differences> {
    if variants.is_empty() {
        return Err(InputError(
            "nothing to compare: give a variant scenario after the base, or --policy FILE".into(),
        )
        .into());
    }
    // Every scenario must fit; the largest decides the threads.
    let mut fit = analysis_threads(base_path, base, plan.runs, threads)?;
    for (path, v) in variants {
        fit = fit.min(analysis_threads(Path::new(path), v, plan.runs, threads)?);
    }
    let pool = pool(Some(fit))?;
    let simulate = |s: &Scenario| -> Result<Outcome> {
        pool.install(|| crate::engine::simulate_until(s, plan, &|_| {}, None, watch.stop))
            .map_err(|e| run::read_back(out, e))?
            .ok_or_else(|| Error::Failure(study::Interrupted.into()))
    };
    let base_runs = simulate(base)?.runs;
    let mut diffs = Vec::with_capacity(variants.len());
    for (path, v) in variants {
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
                "{path}: has no material in common with {}",
                base_path.display()
            ))
            .into());
        }
        let runs = simulate(v)?.runs;
        (watch.done)(path);
        diffs.push((
            path.clone(),
            analysis::compare::compare(&base_runs, &runs, &materials, plan.seed)
                .map_err(|e| run::read_back(out, e))?,
        ));
    }
    Ok(diffs)
}
