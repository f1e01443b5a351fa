//! `crmsim optimize`: the size of each material's stockpile (its first
//! `[[stockpile]]`'s `target_days`) that meets a risk target, maximizes net
//! benefit, or makes the best use of a budget.
//!
//! A stockpile of one material changes nothing for another, so every
//! material is sized at once: one simulation evaluates a candidate size for
//! each. With one seed, a larger stock never increases any run's shortfall,
//! so every risk measure falls with the size and a bisection over whole
//! steps finds the smallest size that meets a target exactly (for these
//! runs): the answer is the smallest multiple of the step that does.

use super::{edit, policy_rows, run, scenario_of, AnalysisError, PolicyRow};
use crate::scenario::{Scenario, StockTarget};
use crate::storage::Outcome;
use crate::vocab::RunPlan;
use std::path::Path;

/// A risk measure and its bound: `measure <= bound`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Share of runs with any shortfall.
    PShortfall(f64),
    /// 95th percentile of total shortfall, tonnes.
    ShortfallP95(f64),
    /// Mean total shortfall, tonnes.
    ShortfallMean(f64),
    /// Mean of the worst 5 % of total shortfall, tonnes.
    ShortfallCvar95(f64),
    /// Mean share of demand unmet over the horizon.
    ShortfallFraction(f64),
    /// 95th percentile of the share of demand unmet.
    ShortfallFractionP95(f64),
    /// 95th percentile of the peak multiple of the base price (the
    /// region's price).
    PeakPriceMultipleP95(f64),
    /// 95th percentile of the welfare loss, EUR.
    WelfareLossP95(f64),
}

impl Target {
    /// Parses `p_shortfall<=0.05`, `shortfall_p95<=10`, `shortfall_mean<=X`,
    /// `shortfall_cvar95<=X` (tonnes), `shortfall_fraction<=0.01`,
    /// `shortfall_fraction_p95<=0.05` (shares of demand, comparable across
    /// materials), `peak_price_multiple_p95<=2` and `welfare_loss_eur_p95<=X`.
    ///
    /// # Errors
    /// A message naming what would be valid.
    pub fn parse(s: &str) -> Result<Target, String> {
        let (name, bound) = s.split_once("<=").ok_or_else(|| {
            format!("{s:?}: write MEASURE<=BOUND, e.g. p_shortfall<=0.05 or shortfall_p95<=10")
        })?;
        let bound: f64 = bound
            .trim()
            .parse()
            .ok()
            .filter(|b: &f64| b.is_finite() && *b >= 0.0)
            .ok_or_else(|| format!("{bound:?} is not a bound >= 0"))?;
        match name.trim() {
            "p_shortfall" => Ok(Target::PShortfall(bound)),
            "shortfall_p95" => Ok(Target::ShortfallP95(bound)),
            "shortfall_mean" => Ok(Target::ShortfallMean(bound)),
            "shortfall_cvar95" => Ok(Target::ShortfallCvar95(bound)),
            "shortfall_fraction" => Ok(Target::ShortfallFraction(bound)),
            "shortfall_fraction_p95" => Ok(Target::ShortfallFractionP95(bound)),
            "peak_price_multiple_p95" => Ok(Target::PeakPriceMultipleP95(bound)),
            "welfare_loss_eur_p95" => Ok(Target::WelfareLossP95(bound)),
            other => Err(format!(
                "unknown measure {other:?}: use p_shortfall, shortfall_p95, shortfall_mean, \
                 shortfall_cvar95, shortfall_fraction, shortfall_fraction_p95, \
                 peak_price_multiple_p95 or welfare_loss_eur_p95"
            )),
        }
    }

    /// The measure's value in a policy row.
    pub fn value(&self, row: &PolicyRow) -> f64 {
        match self {
            Target::PShortfall(_) => row.p_shortfall,
            Target::ShortfallP95(_) => row.shortfall_p95,
            Target::ShortfallMean(_) => row.shortfall_mean,
            Target::ShortfallCvar95(_) => row.shortfall_cvar95,
            Target::ShortfallFraction(_) => row.shortfall_fraction_mean,
            Target::ShortfallFractionP95(_) => row.shortfall_fraction_p95,
            Target::PeakPriceMultipleP95(_) => row.peak_price_multiple_p95,
            Target::WelfareLossP95(_) => row.welfare_loss_p95,
        }
    }

    /// Whether a row meets the target.
    pub fn met(&self, row: &PolicyRow) -> bool {
        let bound = match *self {
            Target::PShortfall(b)
            | Target::ShortfallP95(b)
            | Target::ShortfallMean(b)
            | Target::ShortfallCvar95(b)
            | Target::ShortfallFraction(b)
            | Target::ShortfallFractionP95(b)
            | Target::PeakPriceMultipleP95(b)
            | Target::WelfareLossP95(b) => b,
        };
        self.value(row) <= bound
    }
}

/// What to optimize.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// The smallest size that meets the target.
    Target(Target),
    /// The size that maximizes avoided welfare loss less net stockpile cost.
    NetBenefit,
    /// The allocation of a budget (net stockpile cost, EUR) across materials,
    /// step by step to the material with the most avoided welfare loss per
    /// extra euro.
    Budget(f64),
}

/// The search space: sizes in days, from 0 to `max_days` by `step_days`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Largest size tried, days of demand.
    pub max_days: f64,
    /// Resolution, days.
    pub step_days: f64,
}

/// The answer for one material.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// Material id.
    pub material: String,
    /// The chosen size in days of demand (None: no size meets the target
    /// within the grid, or the material has no stockpile to size).
    pub days: Option<f64>,
    /// What the chosen size achieves (None when no size was chosen).
    pub row: Option<PolicyRow>,
    /// How exact the answer is, or why there is none.
    pub note: String,
}

/// Materials that can be sized: those whose first stockpile has a target
/// in days. Returns (material index, stockpile path) per material, or a
/// note why it cannot be sized.
fn sizable(s: &Scenario) -> Vec<Result<String, String>> {
    s.materials
        .iter()
        .map(|m| match m.stockpiles.first() {
            None => Err("no [[stockpile]] to size: add one with the rules to use".into()),
            Some(sp) if !matches!(sp.target, StockTarget::Days(_)) => Err(
                "the stockpile's target is in tonnes (target_t); give target_days to size it"
                    .into(),
            ),
            Some(sp) => Ok(format!("stockpile.{}.target_days", sp.name)),
        })
        .collect()
}

/// Evaluates one size per material (None: leave the material as it is).
fn evaluate(
    doc: &toml::Table,
    file: &Path,
    paths: &[Result<String, String>],
    days: &[Option<f64>],
    plan: &RunPlan,
) -> Result<(Scenario, Outcome), AnalysisError> {
    let mut d = doc.clone();
    for (path, day) in paths.iter().zip(days) {
        if let (Ok(path), Some(day)) = (path, day) {
            edit::set(&mut d, path, *day)?;
        }
    }
    let s = scenario_of(&d, file, "a candidate size")?;
    let outcome = run(&s, plan);
    Ok((s, outcome))
}

/// Sizes the stockpiles of `doc` (the parsed scenario `file`).
///
/// # Errors
/// [`AnalysisError`] when the scenario cannot be edited or run.
pub fn optimize(
    doc: &toml::Table,
    file: &Path,
    objective: Objective,
    grid: Grid,
    plan: &RunPlan,
    progress: &dyn Fn(&str),
) -> Result<Vec<Sizing>, AnalysisError> {
    if !(grid.step_days > 0.0 && grid.max_days >= grid.step_days) {
        return Err(AnalysisError::Request(format!(
            "the grid needs 0 < step ({}) <= max ({}) days",
            grid.step_days, grid.max_days
        )));
    }
    let base = scenario_of(doc, file, "the scenario")?;
    let paths = sizable(&base);
    if paths.iter().all(Result::is_err) {
        return Err(AnalysisError::Request(
            "no material has a [[stockpile]] with target_days to size".into(),
        ));
    }
    let baseline = run(&base.without_policies(), plan);
    let n = paths.len();
    let steps = (grid.max_days / grid.step_days).floor() as i64;
    let day = |k: i64| k as f64 * grid.step_days;
    let rows_at = |ks: &[i64]| -> Result<Vec<PolicyRow>, AnalysisError> {
        let days: Vec<Option<f64>> = ks.iter().map(|&k| Some(day(k))).collect();
        let (s, o) = evaluate(doc, file, &paths, &days, plan)?;
        Ok(policy_rows(&s, &o.runs, &baseline.runs)?)
    };
    let ids: Vec<String> = base.material_ids().map(str::to_string).collect();
    let not_sized = |m: usize| -> Sizing {
        Sizing {
            material: ids[m].clone(),
            days: None,
            row: None,
            note: paths[m].clone().err().unwrap_or_default(),
        }
    };

    match objective {
        Objective::Target(target) => {
            // Invariant per material: size hi meets the target, lo does not.
            let at_max = rows_at(&vec![steps; n])?;
            progress(&format!("{} days evaluated", day(steps)));
            let at_zero = rows_at(&vec![0; n])?;
            progress("0 days evaluated");
            let mut lo = vec![0i64; n];
            let mut hi = vec![steps; n];
            let mut best: Vec<Option<PolicyRow>> = at_max.iter().cloned().map(Some).collect();
            let mut done = vec![false; n];
            for m in 0..n {
                if paths[m].is_err() || !target.met(&at_max[m]) {
                    done[m] = true;
                    best[m] = None;
                } else if target.met(&at_zero[m]) {
                    done[m] = true;
                    hi[m] = 0;
                    best[m] = Some(at_zero[m].clone());
                }
            }
            while (0..n).any(|m| !done[m] && hi[m] - lo[m] > 1) {
                let mid: Vec<i64> = (0..n)
                    .map(|m| if done[m] { hi[m] } else { (lo[m] + hi[m]) / 2 })
                    .collect();
                let rows = rows_at(&mid)?;
                progress("bisection step");
                for m in 0..n {
                    if done[m] {
                        continue;
                    }
                    if target.met(&rows[m]) {
                        hi[m] = mid[m];
                        best[m] = Some(rows[m].clone());
                    } else {
                        lo[m] = mid[m];
                    }
                    done[m] = hi[m] - lo[m] <= 1;
                }
            }
            Ok((0..n)
                .map(|m| match (&paths[m], &best[m]) {
                    (Err(_), _) => not_sized(m),
                    (Ok(_), None) => Sizing {
                        material: ids[m].clone(),
                        days: None,
                        row: Some(at_max[m].clone()),
                        note: format!(
                            "not reachable within {} days (at {} days: {})",
                            day(steps),
                            day(steps),
                            crate::report::num(target.value(&at_max[m]))
                        ),
                    },
                    (Ok(_), Some(row)) => Sizing {
                        material: ids[m].clone(),
                        days: Some(day(hi[m])),
                        row: Some(row.clone()),
                        note: format!(
                            "smallest multiple of {} days that meets the target, for these runs",
                            grid.step_days
                        ),
                    },
                })
                .collect())
        }
        Objective::NetBenefit | Objective::Budget(_) => {
            // One simulation per grid size evaluates every material at it.
            let mut table: Vec<Vec<PolicyRow>> = Vec::with_capacity(steps as usize + 1);
            for k in 0..=steps {
                table.push(rows_at(&vec![k; n])?);
                progress(&format!("{} days evaluated", day(k)));
            }
            let net = |r: &PolicyRow| r.avoided_welfare_loss - r.net_stockpile_cost;
            let choice: Vec<i64> = match objective {
                Objective::NetBenefit => (0..n)
                    .map(|m| {
                        (0..=steps).fold(0, |best, k| {
                            if net(&table[k as usize][m]) > net(&table[best as usize][m]) {
                                k
                            } else {
                                best
                            }
                        })
                    })
                    .collect(),
                Objective::Budget(budget) => {
                    let mut k = vec![0i64; n];
                    let mut spent: f64 = (0..n).map(|m| table[0][m].net_stockpile_cost).sum();
                    loop {
                        let mut pick: Option<(usize, f64)> = None;
                        for m in (0..n).filter(|&m| paths[m].is_ok() && k[m] < steps) {
                            let (now, next) =
                                (&table[k[m] as usize][m], &table[k[m] as usize + 1][m]);
                            let extra = next.net_stockpile_cost - now.net_stockpile_cost;
                            let gain = next.avoided_welfare_loss - now.avoided_welfare_loss;
                            if gain <= 0.0 || spent + extra > budget {
                                continue;
                            }
                            let ratio = if extra > 0.0 {
                                gain / extra
                            } else {
                                f64::INFINITY
                            };
                            if pick.is_none_or(|(_, r)| ratio > r) {
                                pick = Some((m, ratio));
                            }
                        }
                        let Some((m, _)) = pick else { break };
                        spent += table[k[m] as usize + 1][m].net_stockpile_cost
                            - table[k[m] as usize][m].net_stockpile_cost;
                        k[m] += 1;
                    }
                    k
                }
                Objective::Target(_) => unreachable!("handled above"),
            };
            let note = match objective {
                Objective::NetBenefit => format!(
                    "best of the grid 0..{} days by {} days, for these runs",
                    day(steps),
                    grid.step_days
                ),
                _ => format!(
                    "greedy allocation by steps of {} days up to {}: each step to the material \
                     with the most avoided welfare loss per extra euro",
                    grid.step_days,
                    day(steps)
                ),
            };
            Ok((0..n)
                .map(|m| {
                    if paths[m].is_err() {
                        return not_sized(m);
                    }
                    Sizing {
                        material: ids[m].clone(),
                        days: Some(day(choice[m])),
                        row: Some(table[choice[m] as usize][m].clone()),
                        note: note.clone(),
                    }
                })
                .collect())
        }
    }
}
