//! Demand tiers (docs/stockpiles.md, "Demand tiers"): a material's users in
//! groups served in priority order. A tier's demand is its share of the
//! material's, times its demand shock's multiplier while the shock lasts;
//! the material's shortfall falls on the last priority first, so releases
//! and options, which lower it, serve the first priority first.

use super::fast::{Lanes, Mask};
use crate::scenario::Tier;

/// A tier's demand shock, as the step sees it: the multiplier and length
/// in months drawn for each lane, and the step it starts in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shock {
    pub(super) multiplier: Lanes,
    pub(super) months: Lanes,
    pub(super) start: usize,
}

impl Shock {
    /// The lanes in which the shock lasts at step `t` (steps of
    /// `months_per_step` months): from its start for its length in months,
    /// rounded up to whole steps.
    #[inline(always)]
    fn on(&self, t: usize, months_per_step: f64) -> Mask {
        if t < self.start {
            return Mask::splat(false);
        }
        let elapsed = (t - self.start) as f64 * months_per_step;
        Lanes::splat(elapsed).lt(self.months)
    }

    /// The tier's demand multiple at step `t`: the multiplier while the
    /// shock lasts, else 1.
    #[inline(always)]
    pub(super) fn multiple(&self, t: usize, months_per_step: f64) -> Lanes {
        Lanes::select(
            self.on(t, months_per_step),
            self.multiplier,
            Lanes::splat(1.0),
        )
    }
}

/// The material's demand multiple at step `t` from its tiers' shocks:
/// 1 + sum of share x (multiple - 1), exactly 1 where no shock lasts.
#[inline(always)]
pub(super) fn demand_multiple(
    tiers: &[Tier],
    shocks: &[Shock],
    t: usize,
    months_per_step: f64,
) -> Lanes {
    let mut f = Lanes::splat(1.0);
    for (tier, shock) in tiers.iter().zip(shocks) {
        if tier.shock.is_some() {
            f += tier.share * (shock.multiple(t, months_per_step) - 1.0);
        }
    }
    f
}

/// Splits step `t`'s shortfall `short` over the tiers, last priority
/// first, each up to what it wants: its part of `wanted` (what the
/// material's users want at their price), in proportion to its demand.
/// Adds each tier's part to `shortfall[k]` and its cost at the tier's value
/// of lost load less the price `price` (EUR/t), discounted, to `cost[k]`.
/// The first priority takes what is left, so the parts sum to `short`.
/// Returns the step's shortage cost, the sum of the tiers' costs added.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn split(
    tiers: &[Tier],
    shocks: &[Shock],
    t: usize,
    months_per_step: f64,
    short: Lanes,
    wanted: Lanes,
    price: Lanes,
    discount: f64,
    shortfall: &mut [Lanes],
    cost: &mut [Lanes],
) -> Lanes {
    let zero = Lanes::splat(0.0);
    let mut step_cost = zero;
    // Each tier's part of demand: share x multiple / the material's multiple.
    let per_multiple = 1.0 / demand_multiple(tiers, shocks, t, months_per_step);
    let mut left = short;
    for k in (0..tiers.len()).rev() {
        let part = if k == 0 {
            left.max(zero)
        } else {
            let weight = tiers[k].share * shocks[k].multiple(t, months_per_step) * per_multiple;
            left.min(wanted * weight).max(zero)
        };
        left = left - part;
        shortfall[k] += part;
        let c = part * (tiers[k].value_of_lost_load - price) * discount;
        cost[k] += c;
        step_cost += c;
    }
    step_cost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::StreamKey;
    use crate::scenario::uncertain::{Domain, Uncertain};
    use crate::scenario::DemandShock;
    use rand::Rng;

    fn tier(share: f64, shock: bool) -> Tier {
        Tier {
            name: String::new(),
            share,
            priority: 0,
            value_of_lost_load: 1.0,
            shock: shock.then(|| DemandShock {
                multiplier: Uncertain::fixed(2.0, Domain::REAL),
                start_step: 0,
                duration_months: Uncertain::fixed(1.0, Domain::REAL),
            }),
        }
    }

    /// In every step the tiers' parts sum to the step's shortfall (to the
    /// last bits), no tier gets more than it wants except the first, which
    /// takes the rest, and a tier is short only once every tier after it
    /// is short of all it wants: over random steps, three tiers, one with a
    /// shock on.
    #[test]
    fn each_steps_parts_sum_to_its_shortfall_last_priority_first() {
        let mut rng = StreamKey::new(7, "test/tiers").rng(0);
        let tiers = [tier(0.2, true), tier(0.3, false), tier(0.5, false)];
        for _ in 0..2000 {
            let shocks = [0, 1, 2].map(|k| Shock {
                multiplier: Lanes::from_fn(|_| 1.0 + 3.0 * rng.random::<f64>()),
                months: Lanes::splat(if k == 0 { 12.0 } else { 0.0 }),
                start: if k == 0 { 0 } else { usize::MAX },
            });
            let wanted = Lanes::from_fn(|_| 100.0 * rng.random::<f64>());
            let short = Lanes::from_fn(|l| wanted.0[l] * rng.random::<f64>());
            let mut parts = [Lanes::splat(0.0); 3];
            let mut cost = [Lanes::splat(0.0); 3];
            split(
                &tiers,
                &shocks,
                0,
                1.0,
                short,
                wanted,
                Lanes::splat(0.0),
                1.0,
                &mut parts,
                &mut cost,
            );
            let f = demand_multiple(&tiers, &shocks, 0, 1.0);
            for l in 0..crate::engine::fast::LANES {
                let sum: f64 = parts.iter().map(|p| p.0[l]).sum();
                assert!((sum - short.0[l]).abs() <= 1e-12 * short.0[l].max(1.0));
                // What each tier wants: wanted x share x multiple / f.
                let want = |k: usize| {
                    let m = if k == 0 {
                        shocks[0].multiplier.0[l]
                    } else {
                        1.0
                    };
                    wanted.0[l] * tiers[k].share * m / f.0[l]
                };
                for (k, part) in parts.iter().enumerate().skip(1) {
                    assert!(part.0[l] <= want(k) * (1.0 + 1e-12));
                }
                if parts[0].0[l] > 1e-9 {
                    assert!((parts[1].0[l] - want(1)).abs() <= 1e-9 * want(1).max(1.0));
                }
                if parts[1].0[l] > 1e-9 {
                    assert!((parts[2].0[l] - want(2)).abs() <= 1e-9 * want(2).max(1.0));
                }
            }
        }
    }
}
