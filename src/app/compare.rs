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
    if variants.is_empty() {
        return Err(InputError(
            "nothing to compare: give a variant scenario after the base, or --policy FILE".into(),
        )
        .into());
    }
    let plan = plan_of(&args.common, &base);
    // Every scenario must fit; the largest decides the threads.
    let mut threads = analysis_threads(base_path, &base, plan.runs, args.common.threads)?;
    for (path, v) in &variants {
        let t = analysis_threads(Path::new(path), v, plan.runs, args.common.threads)?;
        threads = threads.min(t);
    }
    let out = analysis_dir(&args.common, &base, "compare");
    check_destination(&out)?;
    let pool = pool(Some(threads))?;
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
                "{path}: has no material in common with {}",
                base_path.display()
            ))
            .into());
        }
        let runs = pool.install(|| simulate(v, &plan, &|_| {})).runs;
        note(args.common.quiet, &format!("{path} done"));
        let label = path.clone();
        diffs.push((
            label,
            analysis::compare::compare(&base_runs, &runs, &materials, plan.seed).map_err(|e| {
                output::WriteError::Io {
                    path: out.clone(),
                    action: "read back the per-run table from its temporary file",
                    source: e,
                }
            })?,
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
            base_label,
            plan.runs,
            plan.seed,
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
