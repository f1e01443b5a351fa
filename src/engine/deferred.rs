//! Prices worked out after a material's steps instead of within them.
//!
//! When no decision within a step reads the price (no stockpile of the
//! material has a refill price cap), each step records only where supply
//! falls short and by how much; the prices of all short cells are then
//! computed [`LANES`] at a time, and the stockpile costs are added in the
//! order the steps would have added them, so every bit is as if each price
//! had been computed in its step (docs/performance.md says what it saves).

use super::fast::lane_math;
use super::fast::{Lanes, Mask, LANES};
use super::prepare::Prepared;
use super::workspace::Workspace;
use crate::scenario::Scenario;

/// What a material's steps leave for its prices to be worked out after
/// them, when no decision within a step depends on the price (no
/// stockpile of the material has a refill price cap): each step's supply
/// to demand ratio where supply falls short, and what each stockpile's
/// cost needs (the refill, the amount bought, the level held). The prices
/// of the short lanes of all steps are then computed [`LANES`] at a time, and
/// the costs are added in the order the steps would have added them, so
/// every bit is as if each price had been computed in its step.
#[derive(Debug, Clone)]
pub(super) struct DeferredPrices {
    /// Per step: where supply falls short of demand, and S/D there (in
    /// the other lanes, and in steps where no lane is short, whatever an
    /// earlier step left).
    pub(super) short: Vec<Mask>,
    pub(super) ratio: Vec<Lanes>,
    /// Per stockpile of the material and step (`[stockpile][step]`): the
    /// refill, the amount it buys, and the level at the step's end.
    pub(super) refilling: Vec<Mask>,
    pub(super) buy: Vec<Lanes>,
    pub(super) level: Vec<Lanes>,
    /// Per stockpile of the material: the initial level.
    pub(super) initial: Vec<Lanes>,
    /// The price in each step.
    pub(super) price: Vec<Lanes>,
    /// The short (step, lane) cells, and their ratios then multiples.
    pub(super) cells: Vec<(u32, u8)>,
    pub(super) packed: Vec<f64>,
}

impl DeferredPrices {
    pub(super) fn new(steps: usize, stockpiles: usize) -> DeferredPrices {
        let lanes = vec![Lanes::splat(0.0); steps];
        let masks = vec![Mask::splat(false); steps];
        DeferredPrices {
            short: masks.clone(),
            ratio: lanes.clone(),
            refilling: vec![Mask::splat(false); steps * stockpiles],
            buy: vec![Lanes::splat(0.0); steps * stockpiles],
            level: vec![Lanes::splat(0.0); steps * stockpiles],
            initial: vec![Lanes::splat(0.0); stockpiles],
            price: lanes,
            cells: Vec::with_capacity(steps * LANES),
            packed: Vec::with_capacity(steps * LANES + LANES),
        }
    }
}

/// Works out material `m_idx`'s price in every step from what its steps
/// left in [`DeferredPrices`] (`e` is its price elasticity), and returns
/// its stockpiles' cost, added in the order of the steps.
#[inline(always)]
pub(super) fn deferred_prices(
    scenario: &Scenario,
    prep: &Prepared,
    m_idx: usize,
    e: f64,
    ws: &mut Workspace,
) -> Lanes {
    let mat = &scenario.materials[m_idx];
    let steps = prep.steps;
    let d = &mut ws.deferred;
    // The short cells, one after another, packed LANES to a vector.
    d.cells.clear();
    d.packed.clear();
    for (t, (short, ratio)) in d.short[..steps].iter().zip(&d.ratio).enumerate() {
        // The short lanes one after another, without a branch on each lane.
        let mut lanes = short.bits();
        while lanes != 0 {
            let l = lanes.trailing_zeros() as usize;
            lanes &= lanes - 1;
            d.cells.push((t as u32, l as u8));
            d.packed.push(ratio.0[l]);
        }
    }
    // The last vector's unused lanes take 1/2, an ordinary number.
    while d.packed.len() % LANES != 0 {
        d.packed.push(0.5);
    }
    let max = Lanes::splat(mat.max_price_multiple);
    for chunk in d.packed.chunks_exact_mut(LANES) {
        let ratio = Lanes::from_fn(|l| chunk[l]);
        let multiple = lane_math::exp(lane_math::ln(ratio) / e).min(max);
        chunk.copy_from_slice(&multiple.0);
    }
    let base_price = Lanes::splat(mat.price);
    d.price[..steps].fill(base_price);
    for (&(t, l), &multiple) in d.cells.iter().zip(&d.packed) {
        d.price[t as usize].0[l as usize] = mat.price * multiple;
    }
    let mut stock_cost = Lanes::splat(0.0);
    let dt = prep.dt;
    for t in 0..steps {
        let price = d.price[t];
        let discount = prep.discount[t];
        for (i, sp) in mat.stockpiles.iter().enumerate() {
            if t == 0 && sp.buy_initial {
                stock_cost += d.initial[i] * mat.price;
            }
            let k = i * steps + t;
            stock_cost = Lanes::select(
                d.refilling[k],
                stock_cost + d.buy[k] * price * discount,
                stock_cost,
            );
            stock_cost += d.level[k] * price * sp.holding_cost_rate * dt * discount;
        }
    }
    stock_cost
}
