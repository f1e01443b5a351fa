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
    /// The allocation of a budget (net stockpile cost, EUR) across materials:
    /// the sizes of the grid, one per material, with the most avoided welfare
    /// loss in total among those whose total net cost is within the budget,
    /// found exactly by [`allocate_budget`]. When none is (even the cheapest
    /// sizes cost more), every material is left at 0 days.
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

/// One size a material can be given, as [`allocate_budget`] weighs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    /// Net stockpile cost, EUR: purchases and holding less sales and end
    /// value, so below zero when the stock ends up worth more than it cost.
    pub cost: f64,
    /// Avoided welfare loss, EUR.
    pub gain: f64,
}

/// A partial allocation of the first materials: the sums of their costs and
/// gains, added in material order, the partial of the materials before the
/// last that it extends (its index in their frontier) and the last one's
/// choice.
#[derive(Debug, Clone, Copy)]
struct Partial {
    cost: f64,
    gain: f64,
    parent: usize,
    choice: usize,
}

/// The choice for each material (an index into its list) whose total gain
/// is largest among the combinations whose total cost is at most `budget`,
/// or `None` when no combination fits (also when a material has no choice).
///
/// Ties go to the lower total cost, then to the lexicographically smallest
/// indices, first material first: with each list in increasing size, the
/// first material takes the smaller size. Costs may be below zero. A choice
/// whose cost or gain is not finite is never taken.
///
/// The gain is separable across materials, so this is dynamic programming
/// over the materials, exact with real-valued costs (no rounding of euros
/// to a grid). After each material it keeps the Pareto frontier of partial
/// allocations: a partial that costs at least as much as another and gains
/// no more is dropped, since any completion of it does no better than the
/// same completion of the other; so is one that cannot fit the budget even
/// with the cheapest choice of every material still to come. Totals are
/// summed in material order, and the maximum (and the cost that breaks its
/// ties) is exact for those sums: rounding is monotone, so adding the same
/// choices cannot turn a dominated partial into a better one. The work is
/// the frontier's size times the next material's choices, per material, and
/// the memory the frontiers' sizes; a frontier holds at most one partial
/// per distinct total cost reached, and no more than the product of the
/// list lengths so far.
pub fn allocate_budget(choices: &[Vec<Choice>], budget: f64) -> Option<Vec<usize>> {
    let usable = |c: &Choice| c.cost.is_finite() && c.gain.is_finite();
    // The cheapest cost of each material, to drop a partial that cannot fit.
    let cheapest: Vec<f64> = choices
        .iter()
        .map(|list| {
            list.iter()
                .filter(|c| usable(c))
                .map(|c| c.cost)
                .min_by(f64::total_cmp)
        })
        .collect::<Option<_>>()?;
    let fits = |cost: f64, next: usize| cheapest[next..].iter().fold(cost, |t, c| t + c) <= budget;
    // frontiers[m] is the frontier before material m, in increasing cost
    // (and so gain); rank[j] is the place of the frontier's partial j when
    // they are sorted by their choices, to break ties without storing them.
    // Sums that start from +0.0 are never -0.0 and, the choices being
    // finite, never NaN: `total_cmp` orders them as `<=` does.
    let mut frontiers: Vec<Vec<Partial>> = vec![vec![Partial {
        cost: 0.0,
        gain: 0.0,
        parent: 0,
        choice: 0,
    }]];
    let mut rank = vec![0];
    let (mut kept, mut merged, mut extended) = (Vec::new(), Vec::new(), Vec::new());
    for (m, list) in choices.iter().enumerate() {
        let frontier = frontiers.last().expect("the first frontier is there");
        // Cheapest first; at equal cost the larger gain, then the smaller
        // choices.
        let order = |a: &Partial, b: &Partial| {
            a.cost
                .total_cmp(&b.cost)
                .then(b.gain.total_cmp(&a.gain))
                .then(rank[a.parent].cmp(&rank[b.parent]))
                .then(a.choice.cmp(&b.choice))
        };
        // The frontier extended by one choice at a time, merged in order
        // into those kept so far: a partial is kept only if it gains more
        // than every one before it, so the rest are dominated and of equals
        // the first stays. This holds the frontier, never all the
        // extensions at once.
        kept.clear();
        for (i, c) in list.iter().enumerate().filter(|(_, c)| usable(c)) {
            extended.clear();
            extended.extend(
                frontier
                    .iter()
                    .enumerate()
                    .map(|(p, f)| Partial {
                        cost: f.cost + c.cost,
                        gain: f.gain + c.gain,
                        parent: p,
                        choice: i,
                    })
                    .filter(|e| fits(e.cost, m + 1)),
            );
            // In order already but where rounding makes two costs equal.
            extended.sort_by(order);
            merged.clear();
            let (mut a, mut b) = (kept.iter().peekable(), extended.iter().peekable());
            while let Some(next) = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if order(x, y).is_gt() => b.next(),
                (Some(_), _) => a.next(),
                (None, _) => b.next(),
            } {
                if merged.last().is_none_or(|k: &Partial| next.gain > k.gain) {
                    merged.push(*next);
                }
            }
            std::mem::swap(&mut kept, &mut merged);
        }
        let mut by_choices: Vec<usize> = (0..kept.len()).collect();
        by_choices.sort_by_key(|&j| (rank[kept[j].parent], kept[j].choice));
        rank = vec![0; kept.len()];
        for (r, &j) in by_choices.iter().enumerate() {
            rank[j] = r;
        }
        frontiers.push(kept.clone());
    }
    // The last frontier is in increasing cost and gain: its last is best.
    // (With no materials the one empty partial costs 0, which may not fit.)
    let last = frontiers.last().expect("the first frontier is there");
    let mut j = last
        .len()
        .checked_sub(1)
        .filter(|&j| last[j].cost <= budget)?;
    let mut picks = vec![0; choices.len()];
    for m in (0..choices.len()).rev() {
        let partial = frontiers[m + 1][j];
        picks[m] = partial.choice;
        j = partial.parent;
    }
    Some(picks)
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
            let grid_text = format!("the grid 0..{} days by {} days", day(steps), grid.step_days);
            let (choice, note): (Vec<i64>, String) = match objective {
                Objective::NetBenefit => {
                    let net = |r: &PolicyRow| r.avoided_welfare_loss - r.net_stockpile_cost;
                    let choice = (0..n)
                        .map(|m| {
                            (0..=steps).fold(0, |best, k| {
                                if net(&table[k as usize][m]) > net(&table[best as usize][m]) {
                                    k
                                } else {
                                    best
                                }
                            })
                        })
                        .collect();
                    (choice, format!("best of {grid_text}, for these runs"))
                }
                Objective::Budget(budget) => {
                    // A material that cannot be sized has its one row, so
                    // that its other stocks' net cost counts against the
                    // budget, as it always has.
                    let choices: Vec<Vec<Choice>> = (0..n)
                        .map(|m| {
                            let sizes = if paths[m].is_ok() { steps } else { 0 };
                            (0..=sizes as usize)
                                .map(|k| Choice {
                                    cost: table[k][m].net_stockpile_cost,
                                    gain: table[k][m].avoided_welfare_loss,
                                })
                                .collect()
                        })
                        .collect();
                    match allocate_budget(&choices, budget) {
                        Some(picks) => (
                            picks.into_iter().map(|k| k as i64).collect(),
                            format!(
                                "the most avoided welfare loss within the budget, exact over \
                                 {grid_text}, for these runs"
                            ),
                        ),
                        None => (
                            vec![0; n],
                            format!(
                                "left at 0 days: no allocation over {grid_text} has a net \
                                 cost within the budget"
                            ),
                        ),
                    }
                }
                Objective::Target(_) => unreachable!("handled above"),
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
