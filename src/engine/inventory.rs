//! The world's private inventories in a step (docs/model.md, "Private
//! inventories"): traders' and users' stocks across the market, which sell
//! into it while the world price is above their release price and buy
//! back while it stays at or below their refill price. Their trade is part
//! of the world's market before any stock of the region acts.

use super::fast::{Lanes, Mask};
use super::market::{self, InventoryLanes, MarketLanes};
use crate::scenario::Inventory;

/// One material's inventories in the lanes' runs.
pub(super) struct Inventories<'a> {
    pub(super) specs: &'a [Inventory],
    pub(super) lanes: &'a [InventoryLanes],
    /// Size in days of the market's use, drawn per run.
    pub(super) days: &'a [Lanes],
    /// Size in tonnes, set at the first step.
    pub(super) size: &'a mut [Lanes],
    pub(super) level: &'a mut [Lanes],
}

impl Inventories<'_> {
    /// Whether the inventories have nothing to do in a step of the first
    /// one: every one full and nothing lost to world-scope events in any
    /// lane (then the world price is the base and nobody trades).
    #[inline(always)]
    pub(super) fn idle(&self, t: usize, lost: Lanes) -> bool {
        t > 0
            && lost.equals(Lanes::splat(0.0)).all()
            && self
                .level
                .iter()
                .zip(self.size.iter())
                .all(|(l, s)| !l.lt(*s).any())
    }

    /// The inventories' net sales into the market in step `t`, in tonnes
    /// (sales less purchases), where `demand` is the region's demand in the
    /// step, `per_tonne` what a tonne sold moves the world's z (rho / D, 0
    /// without demand), `lost` the share of the market's supply lost to
    /// world-scope events, and `dt` and `months` the step's length in years
    /// and months.
    ///
    /// At the first step each is sized at its days of the market's use,
    /// days / 365 x D / (rho dt), and full. Then, in file order, each sells
    /// where the world price is above its `release_above`, what brings it
    /// down to it (as a price-rule release does), within its level and
    /// `max_release_share` of its size a month. Where none sold, each below
    /// its size buys up to `max_buy_share` of the market's demand, no more
    /// than keeps the world price at or below its `refill_below`.
    ///
    /// Also the world's z with the trade, when no lane bought (the last
    /// one worked out: with nothing bought, the net sales are the sales it
    /// was worked out on, to the bit), so that the step need not solve it
    /// again.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    pub(super) fn trade(
        &mut self,
        t: usize,
        demand: Lanes,
        per_tonne: Lanes,
        lost: Lanes,
        m: &MarketLanes,
        dt: f64,
        months: f64,
        has_demand: Mask,
    ) -> (Lanes, Option<Lanes>) {
        let zero = Lanes::splat(0.0);
        // The market's demand at the base price in the step.
        let market_use = demand * m.inv_rho;
        if t == 0 {
            for (i, size) in self.size.iter_mut().enumerate() {
                *size = self.days[i] * (1.0 / (365.0 * dt)) * market_use;
                self.level[i] = *size;
            }
        }
        let left = 1.0 - lost;
        let mut sold = zero;
        let mut z = market::world_share(lost, zero, m);
        for (i, spec) in self.specs.iter().enumerate() {
            let th = &self.lanes[i];
            let above = z.lt(th.z_release) & has_demand;
            if !above.any() {
                continue;
            }
            let wanted = (th.z_release - left * th.release_eta) * market_use - sold;
            let limit = self.size[i] * (spec.max_release_share * months);
            let r = wanted.min(self.level[i]).min(limit).max(zero);
            let r = Lanes::select(above, r, zero);
            self.level[i] = self.level[i] - r;
            sold += r;
            z = market::world_share(lost, sold * per_tonne, m);
        }
        let none_sold = !sold.gt(zero) & has_demand;
        let mut bought = zero;
        for (i, spec) in self.specs.iter().enumerate() {
            let th = &self.lanes[i];
            let buying = none_sold & self.level[i].lt(self.size[i]);
            if !buying.any() {
                continue;
            }
            // At the refill price the market's supply must still meet its
            // demand with what is bought.
            let room = (left * th.refill_eta - th.z_refill) * market_use - bought;
            let b = (self.size[i] - self.level[i])
                .min(market_use * spec.max_buy_share)
                .min(room)
                .max(zero);
            let b = Lanes::select(buying, b, zero);
            self.level[i] += b;
            bought += b;
        }
        let z = (!bought.gt(zero).any()).then_some(z);
        (sold - bought, z)
    }
}
