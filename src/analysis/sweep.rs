//! `crmsim sweep`: one simulation per point of a grid of `--set` values, all
//! with the same seed, each summarized against the scenario without stockpiles.

use super::edit::{self, Setting};
use super::{policy_rows, run_until, scenario_of, AnalysisError, PolicyRow};
use crate::scenario::Scenario;
use crate::vocab::RunPlan;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// One point of the grid and what it achieves.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    /// The value of each setting, in the order given.
    pub values: Vec<f64>,
    /// One row per material.
    pub rows: Vec<PolicyRow>,
}

/// The grid: every combination of the settings' values, the first setting
/// varying slowest.
pub fn grid(settings: &[Setting]) -> Vec<Vec<f64>> {
    settings.iter().fold(vec![Vec::new()], |acc, s| {
        acc.iter()
            .flat_map(|prefix| {
                s.values.iter().map(move |&v| {
                    let mut p = prefix.clone();
                    p.push(v);
                    p
                })
            })
            .collect()
    })
}

/// Runs the sweep of `doc` (the parsed scenario file `file`) over `settings`
/// with `plan`. `progress(done, total)` is called after each point; the
/// sweep stops when `stop` is set (between blocks of runs).
///
/// # Errors
/// [`AnalysisError`] when a path does not apply or a point is not a valid
/// scenario (the point is named).
pub fn sweep(
    doc: &toml::Table,
    file: &Path,
    settings: &[Setting],
    plan: &RunPlan,
    progress: &dyn Fn(usize, usize),
    stop: &AtomicBool,
) -> Result<Vec<SweepPoint>, AnalysisError> {
    let base = scenario_of(doc, file, "the scenario")?;
    let baseline = run_until(&base.without_policies(), plan, stop)?;
    let points = grid(settings);
    // Check every point before the first long simulation.
    let scenarios = points
        .iter()
        .map(|values| {
            let mut d = doc.clone();
            for (s, &v) in settings.iter().zip(values) {
                edit::set(&mut d, &s.path, v)?;
            }
            let context = settings
                .iter()
                .zip(values)
                .map(|(s, v)| format!("{}={v}", s.path))
                .collect::<Vec<_>>()
                .join(", ");
            scenario_of(&d, file, &format!("sweep point {context}"))
        })
        .collect::<Result<Vec<Scenario>, _>>()?;
    let mut out = Vec::with_capacity(points.len());
    for (k, (values, s)) in points.into_iter().zip(&scenarios).enumerate() {
        let outcome = run_until(s, plan, stop)?;
        out.push(SweepPoint {
            values,
            rows: policy_rows(s, &outcome.runs, &baseline.runs)?,
        });
        progress(k + 1, scenarios.len());
    }
    Ok(out)
}
