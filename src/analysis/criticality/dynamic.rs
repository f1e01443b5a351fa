//! The dynamic supply risk: the EU method's SR recomputed for every simulated
//! year of every run of a scenario, with the EU sourcing mix and the EoL-RIR
//! taken from the simulation instead of the indicator file.
//!
//! For material m in year y of a run:
//! - sourcing mix: each import source s weighs share_s x (mean of a_s(t) over
//!   the year's steps); sources are mapped to countries by their `region`
//!   (`other` is the unassigned rest), and the weights are scaled to sum to 1
//!   (when every source is cut completely the mix is the nominal one);
//! - EoL-RIR: secondary supply used / demand over the year (secondary supply
//!   above a step's demand leaves the region), when the scenario has a
//!   product that recovers the material; otherwise the scenario does not model
//!   recycling of it and the file's EoL-RIR is kept;
//! - global supply, IR, SI_SR and export restrictions stay those of the file.
//!
//! The runs are those of the scenario's own study: the engine's one
//! group-stepping loop hands every run to this module as it steps it
//! ([`crate::engine::Observer`]), so nothing is simulated twice; each run's
//! values are kept in run order and reduced in that order, so the results do
//! not depend on the number of threads.

use super::input::{Indicators, MaterialInputs, StageKind, OTHER};
use super::method::{hhi_wgi_t, supply_risk};
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
    /// Mean HHI_WGI,t of the simulated sourcing mix.
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
    /// Inputs missing for the dynamic SR, by field path.
    pub missing: Vec<String>,
    /// Share of runs with any shortfall.
    pub p_shortfall: f64,
    /// Mean over runs of shortfall / demand over the horizon.
    pub shortfall_fraction: f64,
    /// Mean of the worst 5 % of total shortfall, tonnes.
    pub shortfall_cvar95_t: f64,
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
    /// Country index of each import source (`None`: the unassigned rest).
    source_country: Vec<Option<usize>>,
    /// WGI_c x t_c of each country.
    weight: Vec<f64>,
    /// Nominal share of each country.
    nominal: Vec<f64>,
    hhi_gs: f64,
    ir: f64,
    si_sr: f64,
    /// The file's EoL-RIR, or `None` when it is simulated.
    eol_rir: Option<f64>,
}

/// Values per year: SR, HHI_EU, EoL-RIR.
const PER_YEAR: usize = 3;

impl Spec {
    /// SR, HHI_EU and EoL-RIR of year `y` of the run in lane `lane` of `ws`.
    fn year(
        &self,
        scenario: &Scenario,
        prep: &Prepared,
        ws: &Workspace,
        lane: usize,
        y: usize,
        spy: usize,
    ) -> [f64; PER_YEAR] {
        let m = self.scenario;
        let steps = prep.steps();
        let (t0, t1) = (y * spy, (y + 1) * spy);
        let mut w = vec![0.0; self.weight.len()];
        let mut total = 0.0;
        for (k, src) in scenario.materials[m].sources.iter().enumerate() {
            let a: f64 = (t0..t1)
                .map(|t| ws.availability_in(lane, prep, m, k, t))
                .sum::<f64>()
                / spy as f64;
            let x = src.share * a;
            if let Some(c) = self.source_country[k] {
                w[c] += x;
            }
            total += x;
        }
        let mix: &[f64] = if total > 0.0 {
            for x in &mut w {
                *x /= total;
            }
            &w
        } else {
            &self.nominal
        };
        let hhi_eu: f64 = mix.iter().zip(&self.weight).map(|(s, c)| s * s * c).sum();
        let eol = self.eol_rir.unwrap_or_else(|| {
            // Secondary supply above a step's demand leaves the region: it is
            // not an input to EU supply.
            let (mut used, mut demand) = (0.0, 0.0);
            for t in t0..t1 {
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
            supply_risk(self.hhi_gs, hhi_eu, self.ir, eol, self.si_sr),
            hhi_eu,
            eol,
        ]
    }
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
    let mut countries: Vec<String> = Vec::new();
    let mut source_country = Vec::new();
    for src in &scenario.materials[m].sources {
        if src.region == OTHER {
            source_country.push(None);
            continue;
        }
        let c = match countries.iter().position(|x| *x == src.region) {
            Some(c) => c,
            None => {
                countries.push(src.region.clone());
                countries.len() - 1
            }
        };
        source_country.push(Some(c));
    }
    let mut weight = Vec::with_capacity(countries.len());
    let mut nominal = vec![0.0; countries.len()];
    for (src, c) in scenario.materials[m].sources.iter().zip(&source_country) {
        if let Some(c) = c {
            nominal[*c] += src.share;
        }
    }
    for (c, code) in countries.iter().enumerate() {
        match ind.wgi.get(code) {
            Some(w) => weight.push(w * t.get(code).copied().unwrap_or(1.0)),
            None => {
                weight.push(0.0);
                if nominal[c] > 0.0 {
                    missing.push(format!("wgi.{code}"));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    match (missing.is_empty(), hhi_gs, s.ir, mat.si_sr) {
        (true, Some(hhi_gs), Some(ir), Some(si_sr)) => Ok(Spec {
            input: k,
            scenario: m,
            source_country,
            weight,
            nominal,
            hhi_gs,
            ir,
            si_sr,
            eol_rir,
        }),
        _ => Err(missing),
    }
}

/// What the dynamic assessment reads of every run, as the engine steps it
/// ([`Observer`]): for each material it can assess, each year's SR, EU HHI
/// and EoL-RIR.
struct Reader<'a> {
    scenario: &'a Scenario,
    specs: &'a [Spec],
    years: usize,
    spy: usize,
}

impl Observer for Reader<'_> {
    fn values_per_run(&self) -> usize {
        self.specs.len() * self.years * PER_YEAR
    }

    fn needs_series(&self) -> bool {
        true
    }

    fn observe(&self, prep: &Prepared, ws: &Workspace, lane: usize, out: &mut [f64]) {
        let mut at = 0;
        for s in self.specs {
            for y in 0..self.years {
                out[at..at + PER_YEAR].copy_from_slice(&s.year(
                    self.scenario,
                    prep,
                    ws,
                    lane,
                    y,
                    self.spy,
                ));
                at += PER_YEAR;
            }
        }
    }
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
            missing,
            p_shortfall: 0.0,
            shortfall_fraction: 0.0,
            shortfall_cvar95_t: 0.0,
        });
    }

    let years = scenario.years() as usize;
    let reader = Reader {
        scenario,
        specs: &specs,
        years,
        spy: scenario.step().per_year() as usize,
    };
    let per_run = reader.values_per_run();
    let (outcome, values) = simulate_observed(scenario, plan, &reader);
    let report = Report::new(scenario, plan, &outcome)
        .expect("a per-run table held in memory reads without error");
    for (dm, &m) in materials.iter_mut().zip(&scenario_index) {
        let r = &report.materials[m];
        dm.p_shortfall = r.p_shortfall;
        dm.shortfall_fraction = r.get(Metric::ShortfallFraction).mean;
        dm.shortfall_cvar95_t = r.get(Metric::ShortfallT).cvar95;
    }
    let runs = plan.runs as usize;
    for (i, s) in specs.iter().enumerate() {
        let at =
            |run: usize, y: usize, v: usize| values[run * per_run + (i * years + y) * PER_YEAR + v];
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        let dm = materials
            .iter_mut()
            .find(|d| d.id == ind.materials[s.input].id)
            .expect("every spec has its material");
        dm.years = (0..years)
            .map(|y| {
                let sr: Vec<f64> = (0..runs).map(|r| at(r, y, 0)).collect();
                let hhi: Vec<f64> = (0..runs).map(|r| at(r, y, 1)).collect();
                let eol: Vec<f64> = (0..runs).map(|r| at(r, y, 2)).collect();
                DynamicYear {
                    year: scenario.start_year() + y as i32,
                    sr: Distribution::of(&sr),
                    hhi_eu_mean: mean(&hhi),
                    eol_rir_mean: mean(&eol),
                }
            })
            .collect();
        let yearly: Vec<f64> = dm.years.iter().map(|y| y.sr.mean).collect();
        dm.sr_mean = (runs > 0).then(|| mean(&yearly));
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
