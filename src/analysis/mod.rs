//! Analyses built on the engine: sweeps over policy grids, paired comparisons
//! of scenarios, and stockpile sizing. All of them run every variant with the
//! same seed, so that differences are the policy's, not the noise's. One,
//! [`catalogue`], runs no simulation: it fits the event parameters that
//! scenarios use from the catalogue of past disruptions.

pub mod backtest;
pub mod catalogue;
pub mod compare;
pub mod criticality;
pub mod edit;
pub mod optimize;
pub mod sweep;

use crate::engine::simulate;
use crate::scenario::{Scenario, ScenarioError};
use crate::stats::MetricSummary;
use crate::storage::{Outcome, RunTable};
use crate::vocab::{Metric, RunPlan};
use std::path::Path;

/// Why an analysis could not be run.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A path could not be applied.
    #[error(transparent)]
    Edit(#[from] edit::EditError),
    /// An edited scenario is not valid.
    #[error("{context}: {source}")]
    Scenario {
        /// Which variant.
        context: String,
        /// The validation error (boxed: it is large, and rare).
        source: Box<ScenarioError>,
    },
    /// The request does not fit the scenario.
    #[error("{0}")]
    Request(String),
    /// A per-run table could not be read back from its temporary file.
    #[error("cannot read the per-run table back from its temporary file")]
    Read(#[from] std::io::Error),
    /// The caller's stop signal was set (Ctrl-C in Python) before the
    /// analysis finished.
    #[error("interrupted")]
    Interrupted,
}

impl AnalysisError {
    /// Whether the request or the scenario is at fault (exit code 2), not
    /// the file system (exit code 1).
    pub fn is_input(&self) -> bool {
        !matches!(self, AnalysisError::Read(_) | AnalysisError::Interrupted)
    }
}

/// What a stockpile policy achieves for one material, against the same
/// scenario without stockpiles (same seed, so the same world run by run).
/// Money is in EUR, present values; tonnes over the horizon; means over runs.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRow {
    /// Material id.
    pub material: String,
    /// Mean total shortfall.
    pub shortfall_mean: f64,
    /// 95th percentile of total shortfall.
    pub shortfall_p95: f64,
    /// Mean of the worst 5 % of total shortfall.
    pub shortfall_cvar95: f64,
    /// Share of runs with any shortfall.
    pub p_shortfall: f64,
    /// Mean share of demand unmet over the horizon.
    pub shortfall_fraction_mean: f64,
    /// 95th percentile of the share of demand unmet.
    pub shortfall_fraction_p95: f64,
    /// Mean stockpile cost (purchases and holding).
    pub stockpile_cost: f64,
    /// Mean value of the stock left at the end.
    pub stockpile_end_value: f64,
    /// Mean value of the stock's sales (its releases at the region's price).
    pub stockpile_sales: f64,
    /// Mean shortage cost.
    pub shortage_cost: f64,
    /// Mean welfare loss: price cost - producer gain + shortage cost.
    pub welfare_loss_mean: f64,
    /// 95th percentile of the welfare loss.
    pub welfare_loss_p95: f64,
    /// 95th percentile of the peak price multiple (the region's price).
    pub peak_price_multiple_p95: f64,
    /// Mean shortfall avoided against the baseline.
    pub avoided_shortfall: f64,
    /// Mean welfare loss avoided against the baseline: the policy's benefit.
    pub avoided_welfare_loss: f64,
    /// Mean cost of the options: their fees and calls.
    pub option_cost: f64,
    /// Mean value of the options' tonnes sold to users at the region's price.
    pub option_sales: f64,
    /// Stockpile and option costs less their sales and the stocks' end value.
    pub net_stockpile_cost: f64,
    /// Avoided welfare loss / net stockpile cost (NaN when the cost is not
    /// above 0).
    pub benefit_cost_ratio: f64,
    /// Net stockpile cost per tonne of avoided shortfall (NaN when none avoided).
    pub cost_per_t_avoided: f64,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

/// The policy rows of each material of `scenario`, against `baseline` (the
/// runs of the same scenario without stockpiles, same plan).
///
/// # Errors
/// What reading a spilled table reported.
pub fn policy_rows(
    scenario: &Scenario,
    runs: &RunTable,
    baseline: &RunTable,
) -> std::io::Result<Vec<PolicyRow>> {
    scenario
        .material_ids()
        .enumerate()
        .map(|(m, id)| {
            let short = runs.column(m, Metric::ShortfallT)?;
            let summary = MetricSummary::of(&short);
            let col = |k| runs.column(m, k).map(|c| mean(&c));
            let base_short = mean(&baseline.column(m, Metric::ShortfallT)?);
            let base_loss = mean(&baseline.column(m, Metric::WelfareLossEur)?);
            let stockpile_cost = col(Metric::StockpileCostEur)?;
            let stockpile_end_value = col(Metric::StockpileEndValueEur)?;
            let stockpile_sales = col(Metric::StockpileSalesEur)?;
            let shortage_cost = col(Metric::ShortageCostEur)?;
            let welfare = MetricSummary::of(&runs.column(m, Metric::WelfareLossEur)?);
            let peak = MetricSummary::of(&runs.column(m, Metric::PeakPriceMultiple)?);
            let avoided_shortfall = base_short - summary.mean;
            let avoided_welfare_loss = base_loss - welfare.mean;
            let option_cost = col(Metric::OptionFeeEur)? + col(Metric::OptionCallEur)?;
            let option_sales = col(Metric::OptionSalesEur)?;
            let net =
                stockpile_cost - stockpile_sales - stockpile_end_value + option_cost - option_sales;
            let fraction = MetricSummary::of(&runs.column(m, Metric::ShortfallFraction)?);
            Ok(PolicyRow {
                material: id.to_string(),
                shortfall_mean: summary.mean,
                shortfall_p95: summary.p95,
                shortfall_cvar95: summary.cvar95,
                p_shortfall: short.iter().filter(|&&x| x > 0.0).count() as f64
                    / short.len().max(1) as f64,
                shortfall_fraction_mean: fraction.mean,
                shortfall_fraction_p95: fraction.p95,
                stockpile_cost,
                stockpile_end_value,
                stockpile_sales,
                shortage_cost,
                option_cost,
                option_sales,
                welfare_loss_mean: welfare.mean,
                welfare_loss_p95: welfare.p95,
                peak_price_multiple_p95: peak.p95,
                avoided_shortfall,
                avoided_welfare_loss,
                net_stockpile_cost: net,
                benefit_cost_ratio: if net > 0.0 {
                    avoided_welfare_loss / net
                } else {
                    f64::NAN
                },
                cost_per_t_avoided: if avoided_shortfall > 0.0 {
                    net / avoided_shortfall
                } else {
                    f64::NAN
                },
            })
        })
        .collect()
}

/// Validates an edited scenario document.
fn scenario_of(doc: &toml::Table, file: &Path, context: &str) -> Result<Scenario, AnalysisError> {
    let text = toml::to_string(doc).expect("a parsed document serializes");
    Scenario::from_toml(&text, file).map_err(|source| AnalysisError::Scenario {
        context: context.to_string(),
        source: Box::new(source),
    })
}

/// Simulates on the current pool without progress reporting.
fn run(scenario: &Scenario, plan: &RunPlan) -> Outcome {
    simulate(scenario, plan, &|_| {})
}

/// [`run`], stopping between blocks of runs when `stop` is set.
fn run_until(
    scenario: &Scenario,
    plan: &RunPlan,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Outcome, AnalysisError> {
    crate::engine::simulate_until(scenario, plan, &|_| {}, None, stop)
        .expect("a per-run table held in memory has no file to fail")
        .ok_or(AnalysisError::Interrupted)
}
