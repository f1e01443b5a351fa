//! The dynamic assessment: the EU method's SR for every simulated year of
//! every run of a scenario, on the sourcing mix the region plans for, and
//! the simulation's risk measures per year (welfare loss per euro of use,
//! peak price multiple, shortfall), which the ranking per year combines
//! with EI.
//!
//! For material m in year y of a run:
//! - sourcing mix: the region's planned one, its contracts: the scenario's
//!   nominal import shares, mapped to countries by their `region` (several
//!   sources of one region add up; `other` is the unassigned rest). The
//!   scenario format has no dated change of sourcing, so the planned mix is
//!   the same in every year and run; a disruption does not change it, and
//!   shows in the risk measures instead;
//! - EoL-RIR: secondary supply used / demand over the year (secondary supply
//!   above a step's demand leaves the region), when the scenario has a
//!   product that recovers the material; otherwise the scenario does not
//!   model recycling of it and the file's EoL-RIR is kept;
//! - global supply, IR, SI_SR and export restrictions stay those of the file;
//! - risk measures ([`risk`](super::risk)): the year's welfare loss and the
//!   value of its demand at the base price, its peak price multiple, and
//!   whether it has a shortfall.
//!
//! The runs are those of the scenario's own study: the engine's one
//! group-stepping loop hands every run to this module as it steps it
//! ([`crate::engine::Observer`]), so nothing is simulated twice; each run's
//! values are kept in run order and reduced in that order, so the results do
//! not depend on the number of threads.

use super::input::{Indicators, MaterialInputs, StageKind, OTHER};
use super::method::{hhi_wgi_t, supply_risk};
use super::risk::{year_risk, RunYear, YearRisk, RISK_PER_YEAR};
use crate::engine::{simulate_observed, Observer, Prepared, Workspace};
use crate::report::Report;
use crate::scenario::Scenario;
use crate::stats::quantile_sorted;
use crate::storage::Outcome;
use crate::vocab::{Metric, RunPlan, Variable};
use std::collections::BTreeMap;

/// Why the dynamic assessment could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DynamicError {
    /// The scenario and the indicator file share no material id.
    #[error(
        "the scenario's materials ({scenario}) and the indicator file's ({input}) have no id \
         in common"
    )]
    NoCommonMaterial {
        /// The scenario's material ids.
        scenario: String,
        /// The indicator file's material ids.
        input: String,
    },
    /// A material has two stages and it is not clear which one the scenario's
    /// import sources stand for.
    #[error("material {id}: {message}")]
    StageUnclear {
        /// Index of the material in the indicator file.
        material: usize,
        /// Its id.
        id: String,
        /// What to do.
        message: String,
    },
}

/// Where a dynamic SR's EoL-RIR comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EolBasis {
    /// Secondary supply / demand of the simulated year.
    Simulated,
    /// The indicator file's (the scenario does not recycle the material).
    Input,
}

impl EolBasis {
    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            EolBasis::Simulated => "simulated",
            EolBasis::Input => "input",
        }
    }
}

/// Mean and percentiles over runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distribution {
    /// Mean (summed in run order).
    pub mean: f64,
    /// 5th percentile (linear interpolation between order statistics).
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

impl Distribution {
    /// Of values in run order.
    pub fn of(values: &[f64]) -> Distribution {
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Distribution {
            mean,
            p5: quantile_sorted(&sorted, 0.05),
            p50: quantile_sorted(&sorted, 0.50),
            p95: quantile_sorted(&sorted, 0.95),
        }
    }
}

/// One simulated year of one material.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicYear {
    /// Calendar year.
    pub year: i32,
    /// Supply risk over runs.
    pub sr: Distribution,
    /// HHI_WGI,t of the planned sourcing mix (the same in every run).
    pub hhi_eu_mean: f64,
    /// Mean EoL-RIR used.
    pub eol_rir_mean: f64,
}

/// The dynamic assessment of one material found in both files.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicMaterial {
    /// Material id.
    pub id: String,
    /// The stage the scenario's sources stand for.
    pub stage: StageKind,
    /// Where the EoL-RIR comes from.
    pub eol_basis: EolBasis,
    /// One entry per simulated year; empty when inputs are missing.
    pub years: Vec<DynamicYear>,
    /// Mean SR over all years and runs.
    pub sr_mean: Option<f64>,
    /// SR over all years and runs together (percentiles of the pooled
    /// values): the spread the criticality chart draws.
    pub sr_spread: Option<Distribution>,
    /// Inputs missing for the dynamic SR, by field path.
    pub missing: Vec<String>,
    /// Share of runs with any shortfall.
    pub p_shortfall: f64,
    /// Mean over runs of shortfall / demand over the horizon.
    pub shortfall_fraction: f64,
    /// Mean of the worst 5 % of total shortfall, tonnes.
    pub shortfall_cvar95_t: f64,
    /// The risk measures of each simulated year (whatever inputs the SR
    /// misses).
    pub risk: Vec<YearRisk>,
}

/// The dynamic assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Dynamic {
    /// Scenario name.
    pub scenario: String,
    /// Runs simulated.
    pub runs: u64,
    /// Seed.
    pub seed: u64,
    /// Materials in both files, in the indicator file's order.
    pub materials: Vec<DynamicMaterial>,
    /// Scenario materials that the indicator file does not have.
    pub unmatched: Vec<String>,
}

/// The stage a scenario's import sources stand for: `scenario_stage`, else
/// the only stage with EU sourcing, else the only stage.
fn scenario_stage(m: &MaterialInputs) -> Result<StageKind, String> {
    if let Some(s) = m.scenario_stage {
        return Ok(s);
    }
    let with_eu: Vec<StageKind> = m
        .stages
        .iter()
        .filter(|s| s.eu_sourcing.is_some())
        .map(|s| s.kind)
        .collect();
    match (with_eu.as_slice(), m.stages.as_slice()) {
        ([one], _) => Ok(*one),
        (_, [only]) => Ok(only.kind),
        _ => Err(
            "both stages are given: set scenario_stage = \"extraction\" or \"processing\" to \
             say which the scenario's import sources stand for"
                .into(),
        ),
    }
}

/// Whether the scenario recovers material `m` from a product at end of life.
fn recycles(scenario: &Scenario, m: usize) -> bool {
    scenario
        .products
        .iter()
        .any(|p| p.contents.iter().any(|c| c.material == m))
}

/// What one material needs for its yearly SR.
struct Spec {
    /// Index of the material in the indicator file and in the scenario.
    input: usize,
    scenario: usize,
    /// HHI_WGI,t of the planned sourcing mix.
    hhi_eu: f64,
    hhi_gs: f64,
    ir: f64,
    si_sr: f64,
    /// The file's EoL-RIR, or `None` when it is simulated.
    eol_rir: Option<f64>,
}

/// Values per run and year of a material's SR: SR and EoL-RIR.
const SR_PER_YEAR: usize = 2;

impl Spec {
    /// SR and EoL-RIR of year `y` of the run in lane `lane` of `ws`.
    fn year(
        &self,
        prep: &Prepared,
        ws: &Workspace,
        lane: usize,
        y: usize,
        spy: usize,
    ) -> [f64; SR_PER_YEAR] {
        let m = self.scenario;
        let steps = prep.steps();
        let eol = self.eol_rir.unwrap_or_else(|| {
            // Secondary supply above a step's demand leaves the region: it is
            // not an input to EU supply.
            let (mut used, mut demand) = (0.0, 0.0);
            for t in y * spy..(y + 1) * spy {
                let d = ws.value_in(lane, steps, m, Variable::Demand, t);
                used += ws.value_in(lane, steps, m, Variable::Secondary, t).min(d);
                demand += d;
            }
            if demand > 0.0 {
                used / demand
            } else {
                0.0
            }
        });
        [
            supply_risk(self.hhi_gs, self.hhi_eu, self.ir, eol, self.si_sr),
            eol,
        ]
    }
}

/// The risk values of year `y` of material `m` in the run in lane `lane`:
/// welfare loss, demand at the base price (discounted alike), peak price
/// multiple (at least 1, as the run's `peak_price_multiple`), and 1 when a
/// step is short.
fn risk_year(
    scenario: &Scenario,
    prep: &Prepared,
    ws: &Workspace,
    lane: usize,
    m: usize,
    y: usize,
    spy: usize,
) -> RunYear {
    let steps = prep.steps();
    let p0 = scenario.materials[m].price;
    let (mut welfare, mut value, mut peak, mut short) = (0.0, 0.0, 1.0_f64, 0.0);
    for t in y * spy..(y + 1) * spy {
        welfare += ws.welfare_loss_in(lane, steps, m, t);
        value += ws.value_in(lane, steps, m, Variable::Demand, t) * p0 * prep.discount(t);
        peak = peak.max(ws.price_multiple_in(lane, steps, m, t));
        if ws.value_in(lane, steps, m, Variable::Shortfall, t) > 0.0 {
            short = 1.0;
        }
    }
    [welfare, value, peak, short]
}

/// Builds the spec of material `k` of `ind` against scenario material `m`,
/// or lists what is missing.
fn spec(
    ind: &Indicators,
    k: usize,
    stage: StageKind,
    scenario: &Scenario,
    m: usize,
) -> Result<Spec, Vec<String>> {
    let mat = &ind.materials[k];
    let s = mat
        .stages
        .iter()
        .find(|s| s.kind == stage)
        .expect("the scenario stage is one of the material's stages");
    let prefix = stage.name();
    let mut missing = Vec::new();
    let none = BTreeMap::new();
    let t = match &s.export_restrictions {
        Some(t) => t,
        None => {
            missing.push(format!("{prefix}.export_restrictions"));
            &none
        }
    };
    let hhi_gs = match &s.global_supply {
        Some(g) => match hhi_wgi_t(g, &ind.wgi, t) {
            Ok(h) => Some(h),
            Err(codes) => {
                missing.extend(codes.into_iter().map(|c| format!("wgi.{c}")));
                None
            }
        },
        None => {
            missing.push(format!("{prefix}.global_supply"));
            None
        }
    };
    if s.ir.is_none() {
        missing.push(format!("{prefix}.ir"));
    }
    if mat.si_sr.is_none() {
        missing.push("si_sr".into());
    }
    let eol_rir = if recycles(scenario, m) {
        None
    } else {
        if mat.eol_rir.is_none() {
            missing.push("eol_rir".into());
        }
        mat.eol_rir
    };
    // The planned mix: each country's nominal share (sources of one region
    // add up; `other` is the unassigned rest).
    let mut planned: BTreeMap<&str, f64> = BTreeMap::new();
    for src in &scenario.materials[m].sources {
        if src.region != OTHER {
            *planned.entry(src.region.as_str()).or_insert(0.0) += src.share;
        }
    }
    let mut hhi_eu = 0.0;
    for (code, share) in &planned {
        match ind.wgi.get(*code) {
            Some(w) => hhi_eu += share * share * w * t.get(*code).copied().unwrap_or(1.0),
            None if *share > 0.0 => missing.push(format!("wgi.{code}")),
            None => {}
        }
    }
    missing.sort();
    missing.dedup();
    match (missing.is_empty(), hhi_gs, s.ir, mat.si_sr) {
        (true, Some(hhi_gs), Some(ir), Some(si_sr)) => Ok(Spec {
            input: k,
            scenario: m,
            hhi_eu,
            hhi_gs,
            ir,
            si_sr,
            eol_rir,
        }),
        _ => Err(missing),
    }
}

/// What the dynamic assessment reads of every run, as the engine steps it
/// ([`Observer`]): each year's risk values of every material found in both
/// files, then each year's SR and EoL-RIR of every material it can assess.
struct Reader<'a> {
    scenario: &'a Scenario,
    /// Scenario index of each material found in both files.
    risk: &'a [usize],
    specs: &'a [Spec],
    years: usize,
    spy: usize,
}

impl Reader<'_> {
    /// Where the SR values start in a run's values.
    fn sr_at(&self) -> usize {
        self.risk.len() * self.years * RISK_PER_YEAR
    }
}

impl Observer for Reader<'_> {
    fn values_per_run(&self) -> usize {
        self.sr_at() + self.specs.len() * self.years * SR_PER_YEAR
    }

    fn needs_series(&self) -> bool {
        true
    }

    fn observe(&self, prep: &Prepared, ws: &Workspace, lane: usize, out: &mut [f64]) {
        let mut at = 0;
        for &m in self.risk {
            for y in 0..self.years {
                out[at..at + RISK_PER_YEAR].copy_from_slice(&risk_year(
                    self.scenario,
                    prep,
                    ws,
                    lane,
                    m,
                    y,
                    self.spy,
                ));
                at += RISK_PER_YEAR;
            }
        }
        for s in self.specs {
            for y in 0..self.years {
                out[at..at + SR_PER_YEAR].copy_from_slice(&s.year(prep, ws, lane, y, self.spy));
                at += SR_PER_YEAR;
            }
        }
    }
}

/// The values the dynamic assessment keeps of each run of `scenario` with
/// `ind` (for the memory estimate, [`crate::engine::MemoryEstimate::with_observed`]):
/// at most, as if every shared material had its SR.
pub fn values_per_run(ind: &Indicators, scenario: &Scenario) -> u64 {
    let shared = scenario
        .material_ids()
        .filter(|id| ind.materials.iter().any(|m| m.id == *id))
        .count() as u64;
    shared * scenario.years() as u64 * (RISK_PER_YEAR + SR_PER_YEAR) as u64
}

/// Simulates `plan` of `scenario` once, on the current rayon pool, with the
/// dynamic assessment of the materials `ind` and `scenario` share reading
/// every run: the scenario's outcome and report (as `run` gives them), and
/// the assessment.
///
/// # Errors
/// [`DynamicError`] when no material is shared or a material's stage is
/// unclear (before anything is simulated).
pub fn simulate_dynamic(
    ind: &Indicators,
    scenario: &Scenario,
    plan: &RunPlan,
) -> Result<(Outcome, Report, Dynamic), DynamicError> {
    let pairs: Vec<(usize, usize)> = ind
        .materials
        .iter()
        .enumerate()
        .filter_map(|(k, mat)| {
            scenario
                .material_ids()
                .position(|id| id == mat.id)
                .map(|m| (k, m))
        })
        .collect();
    if pairs.is_empty() {
        return Err(DynamicError::NoCommonMaterial {
            scenario: scenario.material_ids().collect::<Vec<_>>().join(", "),
            input: ind
                .materials
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut specs = Vec::new();
    let mut materials = Vec::new();
    let mut scenario_index = Vec::new();
    for &(k, m) in &pairs {
        let mat = &ind.materials[k];
        let stage = scenario_stage(mat).map_err(|message| DynamicError::StageUnclear {
            material: k,
            id: mat.id.clone(),
            message,
        })?;
        let missing = match spec(ind, k, stage, scenario, m) {
            Ok(s) => {
                specs.push(s);
                Vec::new()
            }
            Err(missing) => missing,
        };
        scenario_index.push(m);
        materials.push(DynamicMaterial {
            id: mat.id.clone(),
            stage,
            eol_basis: if recycles(scenario, m) {
                EolBasis::Simulated
            } else {
                EolBasis::Input
            },
            years: Vec::new(),
            sr_mean: None,
            sr_spread: None,
            missing,
            p_shortfall: 0.0,
            shortfall_fraction: 0.0,
            shortfall_cvar95_t: 0.0,
            risk: Vec::new(),
        });
    }

    let years = scenario.years() as usize;
    let reader = Reader {
        scenario,
        risk: &scenario_index,
        specs: &specs,
        years,
        spy: scenario.step().per_year() as usize,
    };
    let per_run = reader.values_per_run();
    let sr_at = reader.sr_at();
    let (outcome, values) = simulate_observed(scenario, plan, &reader);
    let report = Report::new(scenario, plan, &outcome)
        .expect("a per-run table held in memory reads without error");
    let runs = plan.runs as usize;
    let year_of = |y: usize| scenario.start_year() + y as i32;
    for (i, (dm, &m)) in materials.iter_mut().zip(&scenario_index).enumerate() {
        let r = &report.materials[m];
        dm.p_shortfall = r.p_shortfall;
        dm.shortfall_fraction = r.get(Metric::ShortfallFraction).mean;
        dm.shortfall_cvar95_t = r.get(Metric::ShortfallT).cvar95;
        dm.risk = (0..years)
            .map(|y| {
                let of_runs: Vec<RunYear> = (0..runs)
                    .map(|run| {
                        let at = run * per_run + (i * years + y) * RISK_PER_YEAR;
                        values[at..at + RISK_PER_YEAR]
                            .try_into()
                            .expect("RISK_PER_YEAR values")
                    })
                    .collect();
                year_risk(year_of(y), &of_runs)
            })
            .collect();
    }
    for (i, s) in specs.iter().enumerate() {
        let at = |run: usize, y: usize, v: usize| {
            values[run * per_run + sr_at + (i * years + y) * SR_PER_YEAR + v]
        };
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        let dm = materials
            .iter_mut()
            .find(|d| d.id == ind.materials[s.input].id)
            .expect("every spec has its material");
        dm.years = (0..years)
            .map(|y| {
                let sr: Vec<f64> = (0..runs).map(|r| at(r, y, 0)).collect();
                let eol: Vec<f64> = (0..runs).map(|r| at(r, y, 1)).collect();
                DynamicYear {
                    year: year_of(y),
                    sr: Distribution::of(&sr),
                    hhi_eu_mean: s.hhi_eu,
                    eol_rir_mean: mean(&eol),
                }
            })
            .collect();
        let yearly: Vec<f64> = dm.years.iter().map(|y| y.sr.mean).collect();
        dm.sr_mean = (runs > 0).then(|| mean(&yearly));
        // Run after run, each run's years in order.
        let pooled: Vec<f64> = (0..runs)
            .flat_map(|r| (0..years).map(move |y| (r, y)))
            .map(|(r, y)| at(r, y, 0))
            .collect();
        dm.sr_spread = (runs > 0).then(|| Distribution::of(&pooled));
    }
    let unmatched = scenario
        .material_ids()
        .filter(|id| !ind.materials.iter().any(|m| m.id == *id))
        .map(str::to_string)
        .collect();
    let dynamic = Dynamic {
        scenario: scenario.name().to_string(),
        runs: plan.runs,
        seed: plan.seed,
        materials,
        unmatched,
    };
    Ok((outcome, report, dynamic))
}
