//! `crmsim merge`: the partial results of a study's shards back into one
//! result, bit for bit what one process would have written.

use super::run::{print_results, write_results};
use super::*;

pub(super) fn merge(args: &MergeArgs) -> Result<()> {
    let started = Instant::now();
    // One partial is read at a time; the merged per-run table goes to a
    // temporary file beside the output when it is large.
    let read = |path: &PathBuf| -> Result<(String, Partial)> {
        let file = if path.is_dir() {
            path.join(partial::FILE_NAME)
        } else {
            path.clone()
        };
        let reader = std::fs::File::open(&file).map_err(|e| {
            InputError(format!(
                "{}: cannot read the partial result: {e}",
                file.display()
            ))
        })?;
        let name = file.display().to_string();
        // Read value by value: a partial of a large study is gigabytes.
        let p = Partial::read_from(reader, &name)?;
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
    args.format.check_available().map_err(InputError)?;
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
    let report = write_results(
        &scenario,
        text,
        &plan,
        &outcome,
        &out,
        !args.no_charts,
        args.format,
    )?;
    if !args.quiet {
        print_results(&scenario, &report, &out, started);
    }
    Ok(())
}
