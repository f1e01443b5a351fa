//! The market's numbers (docs/model.md, "The market"): each run's
//! elasticities and market share with what follows from them, the world
//! price's equation and its solution, and the prices and costs worked out
//! after a material's steps.
//!
//! Within a step the market works on z = x^epsilon, the share of its
//! base-price demand a buyer wants at the price multiple x: every decision
//! of the step (is the price above a ceiling, at the cap, does the region
//! get what it wants) is a comparison of such shares, and with eta = 0 the
//! world's equation is linear in z. The prices themselves, x = z^(1/epsilon),
//! and the costs that need them are worked out after the steps
//! ([`prices_and_costs`]), [`LANES`] runs at a time.

use super::fast::lane_math;
use super::fast::{Lanes, Mask, LANES};
use super::prepare::Prepared;
use super::workspace::Workspace;
use crate::scenario::{Material, ReleaseRule, Scenario};
use crate::vocab::{Metric, Variable, N_METRICS};

/// One material's market in each lane's run.
#[derive(Debug, Clone, Copy)]
pub(super) struct MarketLanes {
    /// epsilon < 0 (unused when the market does not clear).
    pub(super) eps: Lanes,
    /// eta >= 0.
    pub(super) eta: Lanes,
    /// rho in (0, 1].
    pub(super) rho: Lanes,
    /// 1 / rho and 1 / epsilon (the steps multiply rather than divide).
    pub(super) inv_rho: Lanes,
    pub(super) inv_eps: Lanes,
    /// 1 / (1 + epsilon), where 1 + epsilon is not 0.
    pub(super) inv_one_plus_eps: Lanes,
    /// The cap as a share of base demand wanted: cap^epsilon.
    pub(super) z_cap: Lanes,
    /// cap^eta: the market's supply at the cap, per unit not lost.
    pub(super) cap_eta: Lanes,
    /// Whether eta = 0 in every lane: the world's equation is then linear.
    pub(super) eta_zero: bool,
}

impl MarketLanes {
    /// A market that does not clear (and the values to start from).
    pub(super) fn idle() -> MarketLanes {
        let one = Lanes::splat(1.0);
        MarketLanes {
            eps: Lanes::splat(-1.0),
            eta: Lanes::splat(0.0),
            rho: one,
            inv_rho: one,
            inv_eps: Lanes::splat(-1.0),
            inv_one_plus_eps: one,
            z_cap: one,
            cap_eta: one,
            eta_zero: true,
        }
    }

    /// Works out what follows from the lanes' eps, eta and rho (drawn or
    /// fixed) for material `mat`.
    pub(super) fn derive(&mut self, mat: &Material) {
        let cap = mat.market.max_price_multiple;
        self.z_cap = self.eps.map(|e| libm::pow(cap, e));
        self.cap_eta = self.eta.map(|h| libm::pow(cap, h));
        self.eta_zero = self.eta.0.iter().all(|&h| h == 0.0);
        self.inv_rho = self.rho.map(|r| 1.0 / r);
        self.inv_eps = self.eps.map(|e| 1.0 / e);
        self.inv_one_plus_eps = self
            .eps
            .map(|e| if e == -1.0 { 1.0 } else { 1.0 / (1.0 + e) });
    }
}

/// One stockpile's thresholds in each lane's run, as shares wanted
/// (z = x^epsilon).
#[derive(Debug, Clone, Copy)]
pub(super) struct StockLanes {
    /// Under the price rule: ceiling^epsilon (0 under the gap rule: never
    /// above it).
    pub(super) z_ceiling: Lanes,
    /// ceiling^eta.
    pub(super) ceiling_eta: Lanes,
    /// refill_price_cap^epsilon: purchases only where z is at least this
    /// (0 without a cap).
    pub(super) z_refill: Lanes,
}

impl StockLanes {
    /// The thresholds of stockpile `sp` of a material whose market is `m`.
    pub(super) fn new(
        sp: &crate::scenario::Stockpile,
        m: &MarketLanes,
        clears: bool,
    ) -> StockLanes {
        let zero = Lanes::splat(0.0);
        let (z_ceiling, ceiling_eta) = match sp.release_rule {
            ReleaseRule::Price { ceiling } if clears => (
                m.eps.map(|e| libm::pow(ceiling, e)),
                m.eta.map(|h| libm::pow(ceiling, h)),
            ),
            _ => (zero, Lanes::splat(1.0)),
        };
        let z_refill = if clears && sp.refill_price_cap.is_finite() {
            m.eps.map(|e| libm::pow(sp.refill_price_cap, e))
        } else {
            zero
        };
        StockLanes {
            z_ceiling,
            ceiling_eta,
            z_refill,
        }
    }
}

/// One inventory's thresholds in each lane's run, as shares wanted
/// (docs/model.md, "Private inventories").
#[derive(Debug, Clone, Copy)]
pub(super) struct InventoryLanes {
    /// release_above^epsilon and release_above^eta: it sells where the
    /// world's z is below the first, what brings z up to it.
    pub(super) z_release: Lanes,
    pub(super) release_eta: Lanes,
    /// refill_below^epsilon and refill_below^eta: it buys where z is at
    /// least the first, no more than keeps z at or above it.
    pub(super) z_refill: Lanes,
    pub(super) refill_eta: Lanes,
}

impl InventoryLanes {
    /// The thresholds of inventory `inv` of a material whose market is `m`
    /// (an inventory's market clears: the scenario's checks see to it).
    /// `release` is its release price in each lane's run.
    pub(super) fn new(
        inv: &crate::scenario::Inventory,
        release: Lanes,
        m: &MarketLanes,
    ) -> InventoryLanes {
        let powers = |x: Lanes| {
            (
                Lanes::from_fn(|l| libm::pow(x.0[l], m.eps.0[l])),
                Lanes::from_fn(|l| libm::pow(x.0[l], m.eta.0[l])),
            )
        };
        let (z_release, release_eta) = powers(release);
        let (z_refill, refill_eta) = powers(Lanes::splat(inv.refill_below));
        InventoryLanes {
            z_release,
            release_eta,
            z_refill,
            refill_eta,
        }
    }
}

/// The world's share wanted z (= x^epsilon) where the market's supply,
/// (1 - `lost`) x^eta plus `extra` (rho (R_m - B) / D: releases sold into it
/// less purchases, per unit of the market's demand), meets its demand
/// x^epsilon; at the cap (z <= cap^epsilon), the cap. One root: z rises
/// with x falling and the supply falls. With eta = 0 it is
/// z = 1 - lost + extra; otherwise Newton's method on
/// h(z) = z - (1 - lost) z^k - extra, k = eta / epsilon < 0, which is
/// increasing and concave, to the last bits.
#[inline(always)]
pub(super) fn world_share(lost: Lanes, extra: Lanes, m: &MarketLanes) -> Lanes {
    let left = 1.0 - lost;
    let linear = (left + extra).max(m.z_cap);
    if m.eta_zero {
        return linear;
    }
    // Lanes with nothing lost and nothing traded keep the base price.
    let one = Lanes::splat(1.0);
    let zero = Lanes::splat(0.0);
    let calm = lost.equals(zero) & extra.equals(zero);
    if calm.all() {
        return one;
    }
    // The solver is a function of its own, out of the step's line, so that
    // its values do not crowd the step's registers (docs/performance.md).
    solve_world(left, extra, linear, calm, m)
}

crate::simd::dispatched! {
/// The rest of [`world_share`] where eta > 0 and some lane is not calm:
/// Newton's method, compiled for each code path like the step.
#[inline(never)]
fn solve_world(left: Lanes, extra: Lanes, linear: Lanes, calm: Mask, m: &MarketLanes) -> Lanes {
    let one = Lanes::splat(1.0);
    let zero = Lanes::splat(0.0);
    let k = m.eta / m.eps;
    // h is increasing: no root above the cap's share where h(z_cap) >= 0.
    let capped = (m.z_cap - left * m.cap_eta - extra).gt(zero)
        | (m.z_cap - left * m.cap_eta - extra).equals(zero);
    // The root without the trade, a^(1/(1-k)) (where h' = 1 - k), moved
    // to first order by it: the error left is of the order of extra^2,
    // and each step of Newton's method squares it.
    let one_minus_k = 1.0 - k;
    let nothing_lost = left.equals(one);
    let root = if nothing_lost.all() {
        one
    } else {
        Lanes::select(
            nothing_lost,
            one,
            lane_math::exp(lane_math::ln(left.max(zero)) / one_minus_k),
        )
    };
    // Where nothing is lost, z = 1 + w with (1 - k) w - k (k - 1) w^2 / 2
    // + O(w^3) = extra: the start is right to the order of extra^3.
    let w = extra / one_minus_k;
    let second = Lanes::select(
        nothing_lost,
        k * (k - 1.0) / (2.0 * one_minus_k) * w * w,
        zero,
    );
    let mut z = (root + w + second).max(m.z_cap);
    // Newton's error is squared at each step: once a step moves z by less
    // than 1e-8 of it, what is left is of the order of 1e-16 (times
    // h'' / 2h', which is |k| / 2 near z = 1).
    // Each lane stops at its own convergence (it keeps its value while the
    // others go on), so that its result does not depend on the runs beside
    // it.
    let mut done = calm | capped;
    for _ in 0..100 {
        let zk = lane_math::exp(k * lane_math::ln(z));
        let h = z - left * zk - extra;
        let slope = 1.0 - k * left * zk / z;
        let next = (z - h / slope).max(m.z_cap);
        let step = next - z;
        let small = step.le(next * 1e-8) & (-step).le(next * 1e-8);
        z = Lanes::select(done, z, next);
        done = done | small;
        if done.all() {
            break;
        }
    }
    let solved = Lanes::select(capped, m.z_cap, z);
    // Lanes whose eta is 0 take the linear solution, exactly.
    Lanes::select(calm, one, Lanes::select(m.eta.equals(zero), linear, solved))
}
}

/// One lane of [`world_share`], by the same steps: the root of
/// z = a z^k + c above `z_cap`, or `z_cap` when there is none above it.
#[cfg(test)]
pub(super) fn solve_lane(a: f64, c: f64, k: f64, z_cap: f64, cap_eta: f64) -> f64 {
    let m = MarketLanes {
        eps: Lanes::splat(-1.0),
        eta: Lanes::splat(-k),
        z_cap: Lanes::splat(z_cap),
        cap_eta: Lanes::splat(cap_eta),
        eta_zero: k == 0.0,
        ..MarketLanes::idle()
    };
    world_share(Lanes::splat(1.0 - a), Lanes::splat(c), &m).0[0]
}

/// A material's market in each step, kept for its prices and costs to be
/// worked out after the steps (`[step]`).
#[derive(Debug, Clone)]
pub(super) struct MarketCells {
    /// The world's share wanted, z = x^epsilon.
    pub(super) z: Vec<Lanes>,
    /// The region's, z_r = x_r^epsilon.
    pub(super) z_r: Vec<Lanes>,
    /// Demand, domestic output, shortfall and release.
    pub(super) demand: Vec<Lanes>,
    pub(super) domestic: Vec<Lanes>,
    pub(super) shortfall: Vec<Lanes>,
    pub(super) release: Vec<Lanes>,
    /// Tonnes called from options.
    pub(super) called: Vec<Lanes>,
    /// What the users want at their price (written only for materials
    /// with demand tiers).
    pub(super) wanted: Vec<Lanes>,
    /// The prices worked out, world's and region's, EUR/t.
    pub(super) world_price: Vec<Lanes>,
    pub(super) price: Vec<Lanes>,
}

impl MarketCells {
    pub(super) fn new(steps: usize) -> MarketCells {
        let v = vec![Lanes::splat(0.0); steps];
        MarketCells {
            z: v.clone(),
            z_r: v.clone(),
            demand: v.clone(),
            domestic: v.clone(),
            shortfall: v.clone(),
            release: v.clone(),
            called: v.clone(),
            wanted: v.clone(),
            world_price: v.clone(),
            price: v,
        }
    }
}

/// (x^(1+e) - 1) / (1 + e) from x z (= x^(1+e)) and ln x: the consumer
/// surplus lost per unit of base-price spending (ln x at e = -1). With
/// u = (1 + e) ln x it is ln x (e^u - 1) / u; where |u| < 0.05 (a price
/// near the base, or e near -1) the quotient would lose digits to the
/// subtraction, so there it is ln x times the series of (e^u - 1) / u to
/// u^7 (what is left, below u^8 / 9!, is under 1e-15 relative); elsewhere
/// the subtraction loses less than 1e-14.
#[inline(always)]
fn surplus_loss(xz: Lanes, ln_x: Lanes, eps: Lanes, inv_one_plus: Lanes) -> Lanes {
    let one_plus = eps + 1.0;
    let u = one_plus * ln_x;
    let near = u.lt(Lanes::splat(0.05)) & u.gt(Lanes::splat(-0.05));
    let direct = (xz - 1.0) * inv_one_plus;
    if !near.any() {
        return direct;
    }
    // Horner's rule over 1/8!, 1/7!, ..., 1/1!.
    let mut poly = Lanes::splat(0.0);
    for d in [40_320.0, 5_040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0] {
        poly = poly * u + 1.0 / d;
    }
    Lanes::select(near, ln_x * poly, direct)
}

/// Works out material `m_idx`'s prices in every step from the shares its
/// steps kept, writes them (series and sums, as the steps write theirs),
/// and adds the costs that need them to `totals`, step by step in order:
/// price cost, producer gain, shortage cost, stock sales, welfare loss and
/// the peak price multiple. Inlined into the step loop, so that it is
/// compiled for each of its targets.
#[inline(always)]
pub(super) fn prices_and_costs(
    scenario: &Scenario,
    prep: &Prepared,
    m_idx: usize,
    ws: &mut Workspace,
    totals: &mut [Lanes; N_METRICS],
) {
    let mat = &scenario.materials[m_idx];
    let steps = prep.steps;
    let p0 = mat.price;
    let voll = mat.value_of_lost_load;
    let m = ws.market[m_idx];
    let clears = mat.market.clears();
    let one = Lanes::splat(1.0);
    let zero = Lanes::splat(0.0);
    let tiers = &mat.tiers;
    let tier_offset = prep.tier_offset[m_idx];
    let shocks = &ws.shock[tier_offset..][..tiers.len()];
    let tier_shortfall = &mut ws.tier_shortfall[tier_offset..][..tiers.len()];
    let tier_cost = &mut ws.tier_cost[tier_offset..][..tiers.len()];
    tier_shortfall.fill(zero);
    tier_cost.fill(zero);
    let cells = &mut ws.cells;
    let mut price_cost = zero;
    let mut producer_gain = zero;
    let mut shortage_cost = zero;
    let mut sales = zero;
    let mut option_sales = zero;
    let has_options = !mat.options.is_empty();
    let mut peak = one;
    // Each step's welfare loss, for the commands that observe the runs.
    let record = ws.record;
    let step_welfare = &mut ws.welfare_loss[m_idx * steps..][..steps];
    let step_multiple = &mut ws.price_multiple[m_idx * steps..][..steps];
    for t in 0..steps {
        let discount = prep.discount[t];
        let (z, z_r) = (cells.z[t], cells.z_r[t]);
        let calm = !clears || (z.equals(one) & z_r.equals(one)).all();
        let mut welfare = zero;
        let (x, x_r) = if calm {
            (one, one)
        } else {
            // x = z^(1/e) = exp(ln z / e); ln 1 = 0 gives x = 1 exactly.
            let ln_x = lane_math::ln(z) * m.inv_eps;
            let x = lane_math::exp(ln_x);
            let same = z_r.equals(z);
            let (x_r, ln_x_r) = if same.all() {
                (x, ln_x)
            } else {
                let ln_x_r = lane_math::ln(z_r) * m.inv_eps;
                (
                    Lanes::select(same, x, lane_math::exp(ln_x_r)),
                    Lanes::select(same, ln_x, ln_x_r),
                )
            };
            let d = cells.demand[t];
            let price_step =
                d * p0 * surplus_loss(x_r * z_r, ln_x_r, m.eps, m.inv_one_plus_eps) * discount;
            let gain_step = cells.domestic[t] * p0 * (x_r - 1.0) * discount;
            price_cost += price_step;
            producer_gain += gain_step;
            welfare = price_step - gain_step;
            peak = peak.max(x_r);
            (x, x_r)
        };
        let shortage_step = if tiers.is_empty() {
            cells.shortfall[t] * (voll - x_r * p0) * discount
        } else {
            super::tiers::split(
                tiers,
                shocks,
                t,
                prep.months_per_step,
                cells.shortfall[t],
                cells.wanted[t],
                x_r * p0,
                discount,
                tier_shortfall,
                tier_cost,
            )
        };
        if tiers.is_empty() {
            shortage_cost += shortage_step;
        }
        if record {
            step_welfare[t] = welfare + shortage_step;
            step_multiple[t] = x_r;
        }
        sales += cells.release[t] * x_r * p0 * discount;
        if has_options {
            option_sales += cells.called[t] * x_r * p0 * discount;
        }
        cells.world_price[t] = x * p0;
        cells.price[t] = x_r * p0;
    }
    if !tiers.is_empty() {
        // The material's shortage cost is its tiers'; each tier's totals
        // go to the run's extra values.
        let n_extra = ws.extras.len() / LANES;
        let first = prep.extras[m_idx].tiers;
        for (k, (short, cost)) in tier_shortfall.iter().zip(tier_cost.iter()).enumerate() {
            shortage_cost += *cost;
            for lane in 0..LANES {
                let row = &mut ws.extras[lane * n_extra..][..n_extra];
                row[first + 2 * k] = short.0[lane];
                row[first + 2 * k + 1] = cost.0[lane];
            }
        }
    }
    totals[Metric::PriceCostEur as usize] = price_cost;
    totals[Metric::ProducerGainEur as usize] = producer_gain;
    totals[Metric::ShortageCostEur as usize] = shortage_cost;
    totals[Metric::StockpileSalesEur as usize] = sales;
    totals[Metric::OptionSalesEur as usize] = option_sales;
    totals[Metric::WelfareLossEur as usize] = price_cost - producer_gain + shortage_cost;
    totals[Metric::PeakPriceMultiple as usize] = peak;
    if clears {
        let series_base = m_idx * crate::vocab::N_VARIABLES * steps;
        for (var, values) in [
            (Variable::Price, &ws.cells.price),
            (Variable::WorldPrice, &ws.cells.world_price),
        ] {
            let v = var as usize;
            if ws.record {
                ws.series[series_base + v * steps..][..steps].copy_from_slice(values);
            }
            let row = ws.sum_row[m_idx][v];
            if !ws.sums.is_empty() && row != usize::MAX {
                for (sum, value) in ws.sums[row * steps..][..steps].iter_mut().zip(values) {
                    super::emit::add_in_run_order(sum, *value, ws.lanes_used);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x = z^(1/e): the price multiple of a share wanted.
    fn price(z: f64, e: f64) -> f64 {
        libm::pow(z, 1.0 / e)
    }

    /// MARKET.md's cases, e = -0.5 and a 0.2 world-scope loss: with eta = 0,
    /// x = 0.8^-2 = 1.5625; with eta = 0.3, x solves x^-0.5 = 0.8 x^0.3, so
    /// x = 0.8^(-1/0.8) = 1.321714...; with a cap of 1.25, the cap.
    #[test]
    fn the_world_price_of_the_contracts_cases() {
        let e = -0.5;
        let cap = |c: f64| libm::pow(c, e);
        let eta0 = solve_lane(0.8, 0.0, 0.0, cap(10.0), 1.0);
        assert!((price(eta0, e) - 1.5625).abs() < 1e-12);
        let k = 0.3 / e;
        let z = solve_lane(0.8, 0.0, k, cap(10.0), libm::pow(10.0, 0.3));
        let want = libm::pow(0.8, -1.0 / 0.8);
        assert!((price(z, e) - want).abs() < 1e-12 * want, "{}", price(z, e));
        assert_eq!(solve_lane(0.8, 0.0, 0.0, cap(1.25), 1.0), cap(1.25));
    }

    /// With eta > 0 and a trade, the root satisfies its equation to 1e-12
    /// relative: z = a z^k + c, over losses, trades and elasticities.
    #[test]
    fn newton_solves_the_world_equation() {
        for &a in &[1.0, 0.95, 0.8, 0.5, 0.1] {
            for &c in &[-0.05, -1e-3, -1e-6, 0.0, 1e-6, 1e-3, 0.05, 0.3] {
                for &(e, eta) in &[
                    (-0.1, 0.05),
                    (-0.3, 0.1),
                    (-0.5, 0.3),
                    (-1.0, 1.0),
                    (-2.0, 0.5),
                ] {
                    let cap = 1000.0f64;
                    let (z_cap, cap_eta) = (libm::pow(cap, e), libm::pow(cap, eta));
                    let k = eta / e;
                    let z = solve_lane(a, c, k, z_cap, cap_eta);
                    if z == z_cap {
                        // At the cap: demand is still above supply there.
                        assert!(z_cap - a * libm::pow(z_cap, k) - c >= 0.0);
                        continue;
                    }
                    let residual = z - a * libm::pow(z, k) - c;
                    assert!(
                        residual.abs() <= 1e-13 * z,
                        "a {a} c {c} e {e} eta {eta}: z {z}, residual {residual}"
                    );
                    // And the price it gives, x, to 1e-12: demand x^e equals
                    // supply a x^eta + c.
                    let x = price(z, e);
                    let gap = libm::pow(x, e) - a * libm::pow(x, eta) - c;
                    assert!(gap.abs() <= 1e-12 * libm::pow(x, e), "x {x}: {gap}");
                }
            }
        }
    }

    /// The surplus lost per euro of base spending: (x^(1+e) - 1) / (1 + e),
    /// ln x at e = -1; near e = -1 the series agrees with the quotient
    /// where the quotient is still good, and with ln x at -1.
    #[test]
    fn surplus_loss_by_hand() {
        let at = |x: f64, e: f64| {
            let z = libm::pow(x, e);
            let inv = if e == -1.0 { 1.0 } else { 1.0 / (1.0 + e) };
            surplus_loss(
                Lanes::splat(x * z),
                Lanes::splat(x.ln()),
                Lanes::splat(e),
                Lanes::splat(inv),
            )
            .0[0]
        };
        // e = -0.5, x = 1.5625: (1.25 - 1) / 0.5 = 0.5.
        assert!((at(1.5625, -0.5) - 0.5).abs() < 1e-15);
        // e = -1, x = 1.25: ln 1.25.
        assert!((at(1.25, -1.0) - 1.25f64.ln()).abs() < 1e-15);
        // Against (e^u - 1) / (1 + e), u = (1 + e) ln x, from exp_m1: the
        // series (|u| < 0.05) and the quotient, near e = -1 and near x = 1.
        for (x, e) in [
            (3.0, -1.0005),
            (3.0, -0.9995),
            (3.0, -1.1),
            (1.0001, -0.3),
            (1.2, -0.5),
        ] {
            let u = (1.0 + e) * f64::ln(x);
            let exact = u.exp_m1() / (1.0 + e);
            assert!((at(x, e) - exact).abs() < 1e-14 * exact, "{x} {e}");
        }
    }
}
