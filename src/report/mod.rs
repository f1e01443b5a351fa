//! What a study reports, independent of how it is rendered: the summary of
//! every per-run total, the per-step statistics of every series
//! ([`Report`]), the rank correlations of drawn inputs with results
//! ([`sensitivity`]), and how a number is written for people ([`num`]).
//!
//! Built from the engine's [`Outcome`]; the renderers in `crate::output`
//! turn it into files.

pub mod sensitivity;

use crate::scenario::Scenario;
use crate::stats::MetricSummary;
use crate::storage::Outcome;
use crate::vocab::{Metric, RunPlan, Variable, N_VARIABLES};
use serde::Serialize;

/// A number for people: thousands separated by spaces above 10,000, and at
/// most 4 significant digits below.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if a >= 1e4 {
        let s = format!("{:.0}", a);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        format!("{}{out}", if x < 0.0 { "-" } else { "" })
    } else if a == 0.0 {
        "0".into()
    } else {
        let digits = (3 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// The summary of one material: each per-run total, and `p_shortfall`.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialReport {
    /// Material id.
    pub id: String,
    /// Summary of each per-run total, in [`Metric::ALL`] order.
    pub metrics: Vec<(Metric, MetricSummary)>,
    /// Share of runs with any shortfall.
    pub p_shortfall: f64,
}

impl MaterialReport {
    /// The summary of `metric`.
    pub fn get(&self, metric: Metric) -> &MetricSummary {
        &self
            .metrics
            .iter()
            .find(|(m, _)| *m == metric)
            .expect("every metric is summarized")
            .1
    }
}

/// Written as `{ "demand_t": {...}, ..., "p_shortfall": x }`.
impl Serialize for MaterialReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.metrics.len() + 1))?;
        for (m, summary) in &self.metrics {
            map.serialize_entry(m.name(), summary)?;
        }
        map.serialize_entry("p_shortfall", &self.p_shortfall)?;
        map.end()
    }
}

/// Per-step statistics of one variable of one material.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRow {
    /// Mean over runs.
    pub mean: f64,
    /// Percentiles 5, 25, 50, 75, 95 (from the sketch).
    pub p: [f64; 5],
}

/// The percentiles reported per step.
pub const STEP_QUANTILES: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

/// Everything a run reports, independent of how it is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Scenario name.
    pub name: String,
    /// Runs simulated.
    pub runs: u64,
    /// Seed used.
    pub seed: u64,
    /// Steps per run.
    pub steps: usize,
    /// Calendar time at the start of each step.
    pub times: Vec<f64>,
    /// Per material, in file order.
    pub materials: Vec<MaterialReport>,
    /// `[material][variable][step]` statistics.
    pub series: Vec<StepRow>,
}

impl Report {
    /// Summarizes an outcome of `scenario` under `plan`.
    ///
    /// # Errors
    /// What reading a spilled per-run table reported.
    pub fn new(scenario: &Scenario, plan: &RunPlan, outcome: &Outcome) -> std::io::Result<Report> {
        use rayon::prelude::*;
        let steps = scenario.steps();
        let ids: Vec<&str> = scenario.material_ids().collect();
        // Each summary reads and orders one column on its own; collected in
        // order, the results do not depend on the number of threads.
        // The share of runs with a shortfall is counted from the shortfall
        // column read for its summary, before the summary reorders it.
        let mut summaries = (0..ids.len() * Metric::ALL.len())
            .into_par_iter()
            .map(|k| {
                let (m, metric) = (k / Metric::ALL.len(), Metric::ALL[k % Metric::ALL.len()]);
                let column = outcome.runs.column(m, metric)?;
                let share = (metric == Metric::ShortfallT).then(|| {
                    column.iter().filter(|&&x| x > 0.0).count() as f64 / column.len().max(1) as f64
                });
                Ok((MetricSummary::of_vec(column), share))
            })
            .collect::<std::io::Result<Vec<_>>>()?
            .into_iter();
        let materials = ids
            .iter()
            .map(|id| {
                let mut p_shortfall = None;
                let metrics = Metric::ALL
                    .iter()
                    .map(|&metric| {
                        let (summary, share) = summaries.next().expect("one per metric");
                        p_shortfall = p_shortfall.or(share);
                        (metric, summary)
                    })
                    .collect();
                MaterialReport {
                    id: id.to_string(),
                    metrics,
                    p_shortfall: p_shortfall.expect("the shortfall is one of the metrics"),
                }
            })
            .collect::<Vec<_>>();
        let cells = materials.len() * N_VARIABLES * steps;
        let series = (0..cells)
            .into_par_iter()
            .map(|c| StepRow {
                mean: outcome.steps.mean(c),
                p: STEP_QUANTILES.map(|q| outcome.steps.quantile(c, q)),
            })
            .collect();
        Ok(Report {
            name: scenario.name().to_string(),
            runs: plan.runs,
            seed: plan.seed,
            steps,
            times: (0..steps).map(|t| scenario.time_of_step(t)).collect(),
            materials,
            series,
        })
    }

    /// The statistics of `var` for material `m` at step `t`.
    pub fn step_row(&self, m: usize, var: Variable, t: usize) -> &StepRow {
        &self.series[(m * N_VARIABLES + var as usize) * self.steps + t]
    }
}
