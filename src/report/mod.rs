//! What a study reports, independent of how it is rendered: the summary of
//! every per-run total, the per-step statistics of every series
//! ([`Report`]), the rank correlations of drawn inputs with results
//! ([`sensitivity`]), and how a number is written for people ([`num`]).
//!
//! Built from the engine's [`Outcome`]; the renderers in `crate::output`
//! turn it into files.

pub mod sensitivity;

use crate::scenario::{Material, ReleaseRule, Scenario, StockTarget, Stockpile};
use crate::stats::MetricSummary;
use crate::storage::Outcome;
use crate::storage::RunTable;
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
    /// Each demand tier's totals, by priority (empty without tiers).
    pub tiers: Vec<TierReport>,
    /// Each stockpile's fill dates and year-end levels, in release order.
    pub stockpiles: Vec<StockReport>,
}

/// One demand tier's per-run totals, summarized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierReport {
    /// Tier name.
    #[serde(skip)]
    pub name: String,
    /// The tier's shortfall, tonnes.
    pub shortfall_t: MetricSummary,
    /// The tier's shortage cost, EUR (present value).
    pub shortage_cost_eur: MetricSummary,
}

/// One stockpile through the horizon, as the Critical Raw Materials Act
/// (Art. 22) asks it reported: its level at each year's end in tonnes, in
/// days of that year's consumption and as a share of it.
#[derive(Debug, Clone, PartialEq)]
pub struct StockReport {
    /// Stockpile name.
    pub name: String,
    /// Its release rule in words.
    pub rule: String,
    /// Per year of the horizon, the share of runs in which the stock has
    /// reached its target by the year's end.
    pub filled_by: Vec<(i32, f64)>,
    /// Per year of the horizon, the year-end figures.
    pub years: Vec<StockYear>,
}

/// A stockpile at one year's end, over the runs.
#[derive(Debug, Clone, PartialEq)]
pub struct StockYear {
    /// Calendar year.
    pub year: i32,
    /// Level, tonnes.
    pub level_t: MetricSummary,
    /// Level in days of the year's consumption (runs with consumption).
    pub days_of_cover: MetricSummary,
    /// Level as a percentage of the year's consumption (runs with
    /// consumption).
    pub percent_of_annual_consumption: MetricSummary,
}

/// `{"filled_year": {"2026": share, ...}}`: the share of runs in which
/// the stock has reached its target by each year's end.
impl Serialize for StockReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Filled<'a>(&'a [(i32, f64)]);
        impl Serialize for Filled<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (year, share) in self.0 {
                    map.serialize_entry(&year.to_string(), share)?;
                }
                map.end()
            }
        }
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("filled_year", &Filled(&self.filled_by))?;
        map.end()
    }
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

/// Items written as a JSON object keyed by their names, in order.
struct Named<'a, T>(&'a [T]);

/// What has a name to be keyed by.
trait Keyed {
    fn key(&self) -> &str;
}

impl Keyed for TierReport {
    fn key(&self) -> &str {
        &self.name
    }
}

impl Keyed for StockReport {
    fn key(&self) -> &str {
        &self.name
    }
}

impl<T: Serialize + Keyed> Serialize for Named<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for item in self.0 {
            map.serialize_entry(item.key(), item)?;
        }
        map.end()
    }
}

/// Written as `{ "demand_t": {...}, ..., "p_shortfall": x }`, then the
/// tiers and stockpiles when there are any.
impl Serialize for MaterialReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.metrics.len() + 1))?;
        for (m, summary) in &self.metrics {
            map.serialize_entry(m.name(), summary)?;
        }
        map.serialize_entry("p_shortfall", &self.p_shortfall)?;
        if !self.tiers.is_empty() {
            map.serialize_entry("tiers", &Named(&self.tiers))?;
        }
        if !self.stockpiles.is_empty() {
            map.serialize_entry("stockpiles", &Named(&self.stockpiles))?;
        }
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
                    tiers: Vec::new(),
                    stockpiles: Vec::new(),
                }
            })
            .collect::<Vec<_>>();
        // Each material's tiers and stockpiles read and order their own
        // columns: side by side, collected in order.
        let mut materials = materials;
        materials
            .par_iter_mut()
            .zip(&scenario.materials)
            .try_for_each(|(report, mat)| -> std::io::Result<()> {
                report.tiers = tier_reports(mat, &outcome.runs)?;
                report.stockpiles = stock_reports(scenario, mat, &outcome.runs)?;
                Ok(())
            })?;
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
    ///
    /// (See [`StockReport`] for the stockpiles' year-end figures.)
    pub fn step_row(&self, m: usize, var: Variable, t: usize) -> &StepRow {
        &self.series[(m * N_VARIABLES + var as usize) * self.steps + t]
    }
}

/// The extra per-run column named `name` (`None` when the table has none).
fn extra(runs: &RunTable, name: &str) -> std::io::Result<Option<Vec<f64>>> {
    match runs.extra_names().iter().position(|n| n == name) {
        Some(k) => runs.extra_column(k).map(Some),
        None => Ok(None),
    }
}

/// Material `mat`'s tiers' totals, summarized.
fn tier_reports(mat: &Material, runs: &RunTable) -> std::io::Result<Vec<TierReport>> {
    let mut out = Vec::with_capacity(mat.tiers.len());
    for tier in &mat.tiers {
        let path = format!("material[{}].tier[{}]", mat.id, tier.name);
        let (Some(short), Some(cost)) = (
            extra(runs, &format!("{path}.shortfall_t"))?,
            extra(runs, &format!("{path}.shortage_cost_eur"))?,
        ) else {
            continue;
        };
        out.push(TierReport {
            name: tier.name.clone(),
            shortfall_t: MetricSummary::of_vec(short),
            shortage_cost_eur: MetricSummary::of_vec(cost),
        });
    }
    Ok(out)
}

/// Material `mat`'s stockpiles' fill dates and year-end levels.
fn stock_reports(
    scenario: &Scenario,
    mat: &Material,
    runs: &RunTable,
) -> std::io::Result<Vec<StockReport>> {
    let path = format!("material[{}]", mat.id);
    let steps_per_year = scenario.step.per_year() as f64;
    let mut out = Vec::with_capacity(mat.stockpiles.len());
    for sp in &mat.stockpiles {
        let at = format!("{path}.stockpile[{}]", sp.name);
        let Some(filled) = extra(runs, &format!("{at}.filled_step"))? else {
            continue;
        };
        let n = filled.len().max(1) as f64;
        let mut filled_by = Vec::with_capacity(scenario.years as usize);
        let mut years = Vec::with_capacity(scenario.years as usize);
        for k in 0..scenario.years as i32 {
            let year = scenario.start_year + k;
            let end = f64::from(k + 1) * steps_per_year;
            let share = filled.iter().filter(|&&s| s >= 0.0 && s < end).count() as f64 / n;
            filled_by.push((year, share));
            let (Some(level), Some(used)) = (
                extra(runs, &format!("{at}.level_t[{year}]"))?,
                extra(runs, &format!("{path}.consumption_t[{year}]"))?,
            ) else {
                continue;
            };
            // Cover is counted in runs whose users consumed anything.
            let (days, percent): (Vec<f64>, Vec<f64>) = level
                .iter()
                .zip(&used)
                .filter(|(_, &c)| c > 0.0)
                .map(|(&l, &c)| (l / c * 365.0, 100.0 * l / c))
                .unzip();
            years.push(StockYear {
                year,
                level_t: MetricSummary::of_vec(level),
                days_of_cover: MetricSummary::of_vec(days),
                percent_of_annual_consumption: MetricSummary::of_vec(percent),
            });
        }
        out.push(StockReport {
            name: sp.name.clone(),
            rule: release_in_words(sp),
            filled_by,
            years,
        });
    }
    Ok(out)
}

/// A stock target in words: "60 days" or "1 200 t".
fn target_in_words(x: StockTarget) -> String {
    match x {
        StockTarget::Days(d) => format!("{} days", num(d)),
        StockTarget::Tonnes(t) => format!("{} t", num(t)),
    }
}

/// A stockpile's size and release rule in words, for reports
/// (docs/stockpiles.md).
pub fn release_in_words(sp: &Stockpile) -> String {
    let pct = |x: f64| format!("{} %", num(100.0 * x));
    let mut s = format!("target {}", target_in_words(sp.target));
    if let Some(y) = sp.build_start {
        s += &format!(", bought from {y}");
    }
    if let ReleaseRule::Price { ceiling } = sp.release_rule {
        s += &format!(
            "; sells into the market while the world price is above {} x the base \
                 price, down to it",
            num(ceiling)
        );
    }
    s += &if sp.release_trigger > 0.0 {
        format!(
            "; releases to users once their gap exceeds {} of demand",
            pct(sp.release_trigger)
        )
    } else {
        "; releases to users whenever they are short".to_string()
    };
    if sp.release_fraction < 1.0 {
        s += &format!(", covering {} of it", pct(sp.release_fraction));
    }
    if sp.release_lead_months > 0.0 {
        s += &format!(
            ", {} months after an episode's first month",
            num(sp.release_lead_months)
        );
    }
    if sp.max_release_tpy.is_finite() {
        s += &format!(", at most {} t a year", num(sp.max_release_tpy));
    }
    if !matches!(sp.floor, StockTarget::Tonnes(t) if t == 0.0) {
        s += &format!(", keeping a floor of {}", target_in_words(sp.floor));
    }
    s
}
