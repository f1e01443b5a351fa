//! The model's step: one material through the horizon, in every lane.
//!
//! This is the model as docs/model.md states it, steps 1 to 9, in that
//! order: demand, secondary supply, refinery output, domestic supply,
//! imports and losses, compensation by spare capacity, gap, the market
//! (8.1 to 8.8: world price, market releases, purchases, the world price
//! with the stock's trade, the region's access, gap releases, the region's
//! price, quantities; the shares and prices in [`super::market`]), costs.
//! A new policy rule that acts within a step goes here, in its numbered
//! place; what it needs drawn goes in
//! [`super::draws`], what it needs precomputed in [`super::prepare`], and
//! its buffers in [`super::workspace`].
//!
//! The step works on [`Lanes`]: [`LANES`] runs side by side, one vector
//! operation for all of them (`super::fast`); each lane's numbers are
//! exactly those of its run stepped alone.

use super::emit::Emit;
use super::fast::{Lanes, Mask, LANES};
use super::inventory::Inventories;
use super::market;
use super::prepare::{Prepared, ScopeMix, WorldAvail};
use super::products::ProductFlows;
use super::workspace::Workspace;
use crate::scenario::{ReleaseRule, Scenario, StockTarget, Stockpile, TargetBasis};
use crate::vocab::{Metric, Variable, N_METRICS, N_VARIABLES};

/// Marks the path that calls it as rarely taken, so that the compiler lays
/// it out away from the common one (`std::hint::cold_path`, before Rust
/// 1.95: a call to an empty function marked cold).
#[cold]
#[inline(never)]
pub(super) fn rarely() {}

crate::simd::dispatched! {
/// Steps every material in every lane. Compiled three times on x86-64: for
/// processors with AVX-512 (one instruction per lane operation, and 32
/// vector registers, so that fewer values of a step go through memory), for
/// processors with AVX2 (two instructions), and for the baseline; the
/// processor picks at run time, capped by `CRMSIM_SIMD` ([`crate::simd`]).
/// The results are the same bits.
pub(super) fn step_materials(scenario: &Scenario, prep: &Prepared, ws: &mut Workspace) {
    for m_idx in 0..scenario.materials.len() {
        step_material(scenario, prep, m_idx, ws);
    }
}
}

/// The tonnes a stock target or floor stands for, on `basis` per step.
#[inline(always)]
fn stock_tonnes(x: StockTarget, basis: Lanes, dt: f64) -> Lanes {
    match x {
        // days / 365 x basis / dt, with one multiplication in the lanes.
        StockTarget::Days(days) => basis * (days / 365.0 / dt),
        StockTarget::Tonnes(t) => Lanes::splat(t),
    }
}

/// What stockpile `sp`'s days count: demand or net imports.
#[inline(always)]
fn stock_basis(sp: &Stockpile, demand: Lanes, need: Lanes) -> Lanes {
    match sp.target_basis {
        TargetBasis::Consumption => demand,
        TargetBasis::NetImports => need,
    }
}

/// The world-scope availability a_w of import flow `row` in step `t`,
/// whose availability from all events is `a`.
#[inline(always)]
fn world_availability(
    prep: &Prepared,
    avail_world: &[Lanes],
    row: usize,
    t: usize,
    a: Lanes,
) -> Lanes {
    match prep.world_avail[row] {
        WorldAvail::All => a,
        WorldAvail::One => Lanes::splat(1.0),
        WorldAvail::Row(r) => avail_world[r * prep.steps + t],
    }
}

/// The first step in which each lane's imports of material `m_idx` lose
/// more than its response trigger (the world's signal for substitution and
/// new capacity), from availability alone; `usize::MAX` where none does.
pub(super) fn first_disrupted(
    scenario: &Scenario,
    prep: &Prepared,
    m_idx: usize,
    ws: &Workspace,
) -> [usize; LANES] {
    let mat = &scenario.materials[m_idx];
    let steps = prep.steps;
    let offset = prep.source_offset[m_idx];
    let mut first = [usize::MAX; LANES];
    let hit = &ws.hit[m_idx * steps..(m_idx + 1) * steps];
    for (t, hit_t) in hit.iter().enumerate() {
        for (lane, found) in first.iter_mut().enumerate() {
            if *found == usize::MAX && hit_t.get(lane) {
                // Share of imports cut.
                let cut: f64 = mat
                    .sources
                    .iter()
                    .enumerate()
                    .map(|(k, src)| src.share * (1.0 - ws.avail[(offset + k) * steps + t].0[lane]))
                    .sum();
                if cut > mat.response_trigger {
                    *found = t;
                }
            }
        }
    }
    first
}

/// Steps material `m_idx` through the horizon in every lane, into the
/// series and totals (docs/model.md steps 1 to 9). Inlined into
/// [`step_materials`], so that it is compiled for each of its targets.
#[inline(always)]
pub(super) fn step_material(
    scenario: &Scenario,
    prep: &Prepared,
    m_idx: usize,
    ws: &mut Workspace,
) {
    let steps = prep.steps;
    let dt = prep.dt;
    let mat = &scenario.materials[m_idx];
    let splat = Lanes::splat;
    let zero = splat(0.0);
    let one = splat(1.0);
    let demand_tpy = ws.demand_tpy[m_idx];
    // Growth below -100 %/yr would make demand negative: it stops at zero.
    let step_growth = ws.growth[m_idx].map(|g| libm::pow(1.0 + g.max(-1.0), dt));
    let offset = prep.source_offset[m_idx];
    let series_base = m_idx * N_VARIABLES * steps;
    let mut totals = [zero; N_METRICS];
    let has_products = prep.products.touches(m_idx);
    let refineries = &prep.refineries_of[m_idx];
    let (sub_max, sub_rate) = ws.substitution[m_idx];
    let sub_lag_years = mat
        .substitution
        .as_ref()
        .map_or(0.0, |s| s.lag_months / 12.0);
    let (nc_rate, nc_lead) = ws.new_capacity[m_idx];
    let nc_max = mat.new_capacity.as_ref().map_or(0.0, |n| n.max_share);
    // New capacity starts whole steps after the first disruption.
    let nc_lead_steps = nc_lead.0.map(|l| (l * prep.steps_per_year).ceil() as usize);
    let t0 = if mat.substitution.is_some() || mat.new_capacity.is_some() {
        first_disrupted(scenario, prep, m_idx, ws)
    } else {
        [usize::MAX; LANES]
    };

    let mut stock_cost = zero;
    let mut refinery_cost = zero;
    let mut end_level = zero;
    let mut episode = zero;
    let mut run_length = zero;
    let mut growth_factor = one;

    let hub = mat.sources.iter().any(|s| s.reexport_share > 0.0);
    let stock_offset = prep.stock_offset[m_idx];
    let sum_row = ws.sum_row[m_idx];
    // The prices are worked out after the steps (super::market): their
    // series are written there.
    let mut sum_row_in_steps = sum_row;
    let clears = mat.market.clears();
    if clears {
        sum_row_in_steps[Variable::Price as usize] = usize::MAX;
        sum_row_in_steps[Variable::WorldPrice as usize] = usize::MAX;
    }
    let market = ws.market[m_idx];
    let scope_mix = prep.scope_mix[m_idx];
    // What the steps read and write, borrowed apart from the workspace
    // (and from each other), so that writing one does not make the others
    // be fetched again.
    let lanes_used = ws.lanes_used;
    let Workspace {
        avail,
        hit,
        levels,
        released_now,
        stock_episode,
        option_left,
        stock_filled,
        shock,
        extras,
        utilization,
        spare,
        series,
        record,
        sums,
        cells,
        flows,
        avail_world,
        stock_lanes,
        collection,
        recovery,
        inventory_days,
        inventory_size,
        inventory_levels,
        inventory_lanes,
        ..
    } = &mut *ws;
    let avail: &[Lanes] = avail;
    let avail_world: &[Lanes] = avail_world;
    let hit = &hit[m_idx * steps..][..steps];
    let levels = &mut levels[stock_offset..][..mat.stockpiles.len()];
    let released_now = &mut released_now[stock_offset..][..mat.stockpiles.len()];
    let stock_episode = &mut stock_episode[stock_offset..][..mat.stockpiles.len()];
    let stock_lead = &prep.stock_lead[stock_offset..][..mat.stockpiles.len()];
    let stock_build_step = &prep.stock_build_step[stock_offset..][..mat.stockpiles.len()];
    // Lead times need each stock's episode counted; without them, nothing.
    let any_lead = stock_lead.iter().any(|&l| l > 0.0);
    let options = &mat.options;
    let option_offset = prep.option_offset[m_idx];
    let option_left = &mut option_left[option_offset..][..options.len()];
    let option_lead = &prep.option_lead[option_offset..][..options.len()];
    let steps_per_year = prep.steps_per_year as usize;
    let stock_filled = &mut stock_filled[stock_offset..][..mat.stockpiles.len()];
    let tiers = &mat.tiers;
    let shocks = &shock[prep.tier_offset[m_idx]..][..tiers.len()];
    let has_shocks = tiers.iter().any(|t| t.shock.is_some());
    // The run's values beside the metrics: each stock's year-end levels
    // and the material's consumption in each year.
    let n_extra = extras.len() / LANES;
    let extra_at = prep.extras[m_idx];
    let mut year_consumption = zero;
    let mut gap_episode = zero;
    let mut option_fee = zero;
    let mut option_call = zero;
    let stock_lanes: &[_] = &stock_lanes[stock_offset..][..mat.stockpiles.len()];
    let inventory_at = prep.inventory_offset[m_idx];
    let n_inventories = mat.inventories.len();
    let mut inventories = Inventories {
        specs: &mat.inventories,
        lanes: &inventory_lanes[inventory_at..][..n_inventories],
        days: &inventory_days[inventory_at..][..n_inventories],
        size: &mut inventory_size[inventory_at..][..n_inventories],
        level: &mut inventory_levels[inventory_at..][..n_inventories],
    };
    let spare = &spare[offset..][..mat.sources.len()];
    let utilization: &[Lanes] = utilization;
    let flows: &ProductFlows = flows;
    let collection: &[Lanes] = collection;
    let recovery: &[Vec<Lanes>] = recovery;
    let mut out = Emit {
        steps,
        series: record.then(|| &mut series[series_base..][..N_VARIABLES * steps]),
        sums: (!sums.is_empty()).then_some(&mut sums[..]),
        rows: sum_row_in_steps,
        lanes: lanes_used,
    };
    for t in 0..steps {
        let any_hit = hit[t].any();
        let avail = |flow: usize| avail[flow * steps + t];
        // 1. Demand, with growth counted to the start of the step, plus
        // what new installations of products consume, less substitution.
        let mut demand = demand_tpy * growth_factor * dt + prep.products.extra_demand(m_idx, t);
        growth_factor = growth_factor * step_growth;
        if mat.substitution.is_some() {
            // The less common paths are laid out away from the loop (the
            // steps run faster when the instructions run in sequence).
            rarely();
            demand = Lanes::from_fn(|l| {
                if t >= t0[l] {
                    let years = (t - t0[l] + 1) as f64 * dt - sub_lag_years;
                    demand.0[l] * (1.0 - (sub_rate.0[l] * years.max(0.0)).min(sub_max.0[l]))
                } else {
                    demand.0[l]
                }
            });
        }
        if has_shocks {
            rarely();
            // A tier's demand shock (docs/stockpiles.md, "Demand tiers").
            demand = demand * super::tiers::demand_multiple(tiers, shocks, t, prep.months_per_step);
        }
        // 2. Secondary supply from products in use.
        let (secondary, in_use, eol, collected) = if has_products {
            prep.products
                .material_flows(m_idx, t, flows, collection, recovery)
        } else {
            (zero, zero, zero, zero)
        };
        // 3. Refinery output, limited by the availability of its feed.
        let mut refinery = zero;
        let mut online_capacity = 0.0;
        let mut fed_capacity = zero;
        for &r in refineries {
            let spec = &scenario.refineries[r];
            let feed = if spec.feed.is_empty() {
                one
            } else {
                let row = prep.feed_offset[r];
                let mut sum = splat(-0.0);
                for (f, feed) in spec.feed.iter().enumerate() {
                    sum += feed.share * avail(row + f);
                }
                sum
            };
            let capacity = spec.capacity_tpy * dt * prep.refinery_ramp[r * steps + t];
            let output = capacity * utilization[r] * feed;
            refinery += output;
            online_capacity += capacity;
            fed_capacity += capacity * feed;
            refinery_cost += output * spec.opex_eur_per_t * prep.discount[t];
            if prep.capex_step[r] == Some(t) {
                rarely();
                refinery_cost += splat(spec.capex_eur * prep.discount[t]);
            }
        }
        let feed_availability = if online_capacity > 0.0 {
            fed_capacity / online_capacity
        } else {
            one
        };
        // 4. Domestic supply first; the rest is imported.
        let domestic = demand.min(secondary + refinery);
        let need = demand - domestic;
        // 5.-6. Imports by source, losses and compensation; the losses
        // also by scope: world-scope events first (availability a_w), the
        // region's on what they leave.
        let mut lost = zero;
        let mut lost_world = zero;
        let mut market_lost = zero;
        let mut reexports = zero;
        if any_hit || hub {
            for (k, src) in mat.sources.iter().enumerate() {
                let a = avail(offset + k);
                lost += src.share * need * (1.0 - a);
                if clears && scope_mix == ScopeMix::Mixed {
                    let a_w = world_availability(prep, avail_world, offset + k, t, a);
                    lost_world += src.share * need * (1.0 - a_w);
                }
                if src.reexport_share > 0.0 {
                    rarely();
                    // Transit is sized on consumption, not on what domestic
                    // supply leaves to import.
                    let r = src.reexport_share;
                    reexports += src.share * demand * a * r / (1.0 - r);
                }
            }
            // The market's own origins, when given: their world-scope
            // losses, with no compensation (the market's comes from eta).
            for &(k, share) in &mat.market.sources {
                let a = avail(offset + k);
                let a_w = world_availability(prep, avail_world, offset + k, t, a);
                market_lost += share * (1.0 - a_w);
            }
        }
        let losing = lost.gt(zero);
        episode = Lanes::select(losing, episode + 1.0, zero);
        let mut spare_supply = zero;
        if losing.any() {
            let months_in_episode = episode * prep.months_per_step;
            for (k, src) in mat.sources.iter().enumerate() {
                let a = avail(offset + k);
                let ramp = if src.ramp_months > 0.0 {
                    (months_in_episode / src.ramp_months).min(one)
                } else {
                    one
                };
                spare_supply += spare[k] * src.share * need * a * ramp;
            }
            // New primary capacity elsewhere, once online, stays.
            if mat.new_capacity.is_some() {
                rarely();
                spare_supply = Lanes::from_fn(|l| {
                    let online = t0[l].saturating_add(nc_lead_steps[l]);
                    if t0[l] != usize::MAX && t >= online {
                        let share = (nc_rate.0[l] * (t - online + 1) as f64 * dt).min(nc_max);
                        spare_supply.0[l] + share * need.0[l]
                    } else {
                        spare_supply.0[l]
                    }
                });
            }
            spare_supply = Lanes::select(losing, spare_supply, zero);
        }
        let compensation = lost.min(spare_supply);
        // 7. Gap and supply; computed from the loss so that no loss
        // means a gap of exactly zero. The shares sum to 1 only to the
        // last bit, so a total loss can exceed the need by a rounding
        // error: the gap is capped at the need, which keeps supply and
        // imports from going negative. The gap splits by scope in
        // proportion to the two losses: X_w world-scope, X_r the region's.
        let gap = (lost - compensation).max(zero).min(need);
        let (x_world, x_region) = match scope_mix {
            ScopeMix::World => (gap, zero),
            ScopeMix::Region => (zero, gap),
            ScopeMix::Mixed => {
                let share = Lanes::select(losing, lost_world / lost, zero);
                let x_w = gap * share;
                (x_w, gap - x_w)
            }
        };
        let discount = prep.discount[t];
        // 8. The market (docs/model.md, "The market"), in shares wanted:
        // z = x^epsilon for a price multiple x.
        let has_demand = demand.gt(zero);
        // Per unit of the market's demand (D / rho), what a tonne moves.
        // One division a step: the rest multiply by 1 / D.
        let per_demand = Lanes::select(has_demand, 1.0 / demand, zero);
        let per_tonne = market.rho * per_demand;
        // 8.1 World price before the stock: the share of the market's
        // supply lost to world-scope events, and the world's z0.
        let lost_share = if !clears {
            zero
        } else if mat.market.sources.is_empty() {
            x_world * per_demand
        } else {
            market_lost
        };
        // 8.1a The world's private inventories trade first: their net
        // sales are part of the world's market before any stock of the
        // region acts (only a market that clears has them).
        let (world_trade, z_traded) = if n_inventories > 0 && !inventories.idle(t, lost_share) {
            rarely();
            inventories.trade(
                t,
                demand,
                per_tonne,
                lost_share,
                &market,
                dt,
                prep.months_per_step,
                has_demand,
            )
        } else {
            (zero, None)
        };
        let z0 = match z_traded {
            Some(z) => z,
            None if clears => market::world_share(lost_share, world_trade * per_tonne, &market),
            None => one,
        };
        let at_cap0 = z0.le(market.z_cap) & Mask::splat(clears);
        let mut level = zero;
        let mut release = zero;
        if t == 0 {
            rarely();
            // A stock starts at initial_fill x its first target, bought at
            // the base price when buy_initial is set.
            stock_episode.fill(zero);
            stock_filled.fill(splat(-1.0));
            for (sp, lvl) in mat.stockpiles.iter().zip(levels.iter_mut()) {
                *lvl = sp.initial_fill * stock_tonnes(sp.target, stock_basis(sp, demand, need), dt);
                if sp.buy_initial {
                    stock_cost += *lvl * mat.price;
                }
            }
        }
        // 8.2 Market releases (price rule), in release order, each down to
        // its ceiling on what the ones before it left.
        let mut market_release = zero;
        let mut z = z0;
        released_now.fill(zero);
        if clears
            && mat
                .stockpiles
                .iter()
                .any(|sp| matches!(sp.release_rule, ReleaseRule::Price { .. }))
        {
            rarely();
            for (i, (sp, lvl)) in mat.stockpiles.iter().zip(levels.iter_mut()).enumerate() {
                if !matches!(sp.release_rule, ReleaseRule::Price { .. }) {
                    continue;
                }
                let th = &stock_lanes[i];
                // Past its lead time: the episode's steps before this one.
                let mobilised = !stock_episode[i].lt(splat(stock_lead[i]));
                let above = z.lt(th.z_ceiling) & has_demand & mobilised;
                if !above.any() {
                    continue;
                }
                let wanted =
                    (th.z_ceiling - (1.0 - lost_share) * th.ceiling_eta) * demand * market.inv_rho
                        - world_trade
                        - market_release;
                let available =
                    (*lvl - stock_tonnes(sp.floor, stock_basis(sp, demand, need), dt)).max(zero);
                let r = Lanes::select(
                    above,
                    wanted
                        .min(available)
                        .min(splat(sp.max_release_tpy * dt))
                        .max(zero),
                    zero,
                );
                *lvl = *lvl - r;
                market_release += r;
                released_now[i] = r;
                z = market::world_share(
                    lost_share,
                    (world_trade + market_release) * per_tonne,
                    &market,
                );
            }
        }
        // 8.3 Purchases, when no stock releases in this step: not at the
        // cap, not above a stock's refill price cap, and (unless
        // refill_in_shortage) not while the region is short.
        let access0 = if clears {
            let a = demand - x_region;
            Lanes::select(
                at_cap0,
                a.min(demand * (1.0 - lost_share) * market.cap_eta + market.rho * world_trade),
                a,
            )
        } else {
            demand - gap
        };
        let gap0 = if clears { demand * z0 - access0 } else { gap };
        let mut releasing = market_release.gt(zero);
        for sp in &mat.stockpiles {
            releasing = releasing | gap0.gt(sp.release_trigger * demand);
        }
        let short0 = gap0.gt(zero);
        let mut bought = zero;
        let mut purchase_room = if clears {
            // What keeps the world price at or below the cap.
            ((1.0 - lost_share) * market.cap_eta - market.z_cap) * demand * market.inv_rho
                + world_trade
        } else {
            splat(f64::INFINITY)
        };
        for (i, (sp, lvl)) in mat.stockpiles.iter().zip(levels.iter_mut()).enumerate() {
            let target = stock_tonnes(sp.target, stock_basis(sp, demand, need), dt);
            let buying = !releasing
                & !at_cap0
                & lvl.lt(target)
                & !z0.lt(stock_lanes[i].z_refill)
                & (Mask::splat(sp.refill_in_shortage) | !short0)
                & Mask::splat(t >= stock_build_step[i]);
            // No branch on whether any lane buys: which lanes do changes
            // from step to step, and a wrong guess costs more than the
            // few operations below.
            let cap_share = sp.max_buy_share * demand * market.inv_rho;
            let b = (target - *lvl)
                .min(splat(sp.replenish_tpy * dt))
                .min(cap_share)
                .min(purchase_room)
                .max(zero);
            let b = Lanes::select(buying, b, zero);
            *lvl += b;
            // The first step the stock holds its target (to the last bits).
            let full = !lvl.lt(target * (1.0 - 1e-12)) & stock_filled[i].lt(zero) & target.gt(zero);
            stock_filled[i] = Lanes::select(full, splat(t as f64), stock_filled[i]);
            bought += b;
            purchase_room = purchase_room - b;
            stock_cost += b * mat.price * discount;
        }
        // 8.4 The world price with the stock's trade.
        if clears && (market.eta_zero || bought.gt(zero).any()) {
            // Lanes that released keep their release in the market.
            z = market::world_share(
                lost_share,
                (world_trade + market_release - bought) * per_tonne,
                &market,
            );
        }
        // Purchases are held to what keeps the price at or below the cap:
        // they never ration, so the market rations only where the loss
        // alone took it to the cap (and releases did not bring it down).
        let at_cap = z.le(market.z_cap) & at_cap0;
        // 8.5 The region's access to the world market at that price; at
        // the cap every buyer gets the same share of what it wants.
        let access = if clears {
            let a = demand - x_region + market_release;
            if at_cap.any() {
                let rationed = demand * (1.0 - lost_share) * market.cap_eta
                    + market.rho * (world_trade + market_release - bought);
                Lanes::select(at_cap, a.min(rationed), a)
            } else {
                a
            }
        } else {
            demand - gap
        };
        // 8.6 Gap releases (both rules), in release order, each on what the
        // ones before it left; they serve users the market could not reach.
        let wants = if clears { demand * z } else { demand };
        let gap_r = if clears { wants - access } else { gap };
        let mut remaining = gap_r;
        let mut gap_release = zero;
        for (i, (sp, lvl)) in mat.stockpiles.iter().zip(levels.iter_mut()).enumerate() {
            let mut trigger = gap_r.gt(sp.release_trigger * demand);
            if any_lead {
                rarely();
                // The stock's episode: its gap trigger crossed, or (price
                // rule) the world price above its ceiling before any stock.
                let episode = trigger | z0.lt(stock_lanes[i].z_ceiling);
                let mobilised = !stock_episode[i].lt(splat(stock_lead[i]));
                stock_episode[i] = Lanes::select(episode, stock_episode[i] + 1.0, zero);
                trigger = trigger & mobilised;
            }
            if trigger.any() {
                let floor = stock_tonnes(sp.floor, stock_basis(sp, demand, need), dt);
                let available = (*lvl - floor).max(zero);
                let limit = splat(sp.max_release_tpy * dt) - released_now[i];
                let r = (remaining * sp.release_fraction)
                    .min(available)
                    .min(limit)
                    .max(zero);
                let r = Lanes::select(trigger, r, zero);
                *lvl = *lvl - r;
                remaining = remaining - r;
                gap_release += r;
            }
            // Holding cost on the stock held through the step, at the base
            // price.
            stock_cost += *lvl * mat.price * sp.holding_cost_rate * dt * discount;
            level += *lvl;
        }
        release += market_release + gap_release;
        // 8.6b Options, in file order, on what the stocks left: reserved
        // supply outside the disrupted flows, callable up to its volume in
        // each year, once past its lead time in the gap's episode.
        let mut called = zero;
        if !options.is_empty() {
            rarely();
            let mobilised_after = gap_episode;
            gap_episode = Lanes::select(gap_r.gt(zero), gap_episode + 1.0, zero);
            for (j, opt) in options.iter().enumerate() {
                if t % steps_per_year == 0 {
                    option_left[j] = splat(opt.volume_tpy);
                }
                let mobilised = !mobilised_after.lt(splat(option_lead[j]));
                let c = Lanes::select(mobilised, remaining.min(option_left[j]).max(zero), zero);
                option_left[j] = option_left[j] - c;
                remaining = remaining - c;
                called += c;
                option_call += c * (opt.strike_multiple * mat.price) * discount;
                option_fee += splat(opt.volume_tpy * opt.fee_eur_per_t_year * dt) * discount;
            }
        }
        // 8.7 The region's price: the world's, unless its users want more
        // than they can get; then they bid for what they can get.
        // 8.8 Quantities: what users want at their price (Q), get, give up,
        // and lack (only at the cap).
        let (z_r, consumption, reduction, shortfall) = if clears {
            let got = access + gap_release + called;
            let short = wants.gt(got) & has_demand;
            let got_share = got * per_demand;
            let z_r = Lanes::select(short, got_share.max(market.z_cap), z);
            let region_capped = short & got_share.le(market.z_cap);
            // Not at the cap the users get exactly what they want.
            let q = Lanes::select(
                short,
                Lanes::select(region_capped, demand * market.z_cap, got),
                wants,
            );
            let delivered = q.min(got);
            (z_r, delivered, demand - q, q - delivered)
        } else {
            let shortfall = remaining.max(zero);
            (one, demand - shortfall, zero, shortfall)
        };
        let supply = if clears {
            (consumption - release - called).max(zero)
        } else {
            demand - gap
        };
        let imports = if clears {
            (supply - domestic).max(zero)
        } else {
            need - gap
        };
        cells.z[t] = z;
        cells.z_r[t] = z_r;
        cells.demand[t] = demand;
        cells.domestic[t] = domestic;
        cells.shortfall[t] = shortfall;
        cells.release[t] = release;
        cells.called[t] = called;
        if !tiers.is_empty() {
            cells.wanted[t] = demand - reduction;
        }
        if !mat.stockpiles.is_empty() {
            year_consumption += consumption;
            if (t + 1) % steps_per_year == 0 {
                rarely();
                // The year's end: the stocks' levels and the year's
                // consumption, for the stocks' report (stocks.csv).
                let year = t / steps_per_year;
                let years = steps / steps_per_year;
                for lane in 0..LANES {
                    let row = &mut extras[lane * n_extra..][..n_extra];
                    row[extra_at.consumption + year] = year_consumption.0[lane];
                    for (i, lvl) in levels.iter().enumerate() {
                        let first = extra_at.stocks + i * (1 + years);
                        row[first + 1 + year] = lvl.0[lane];
                    }
                }
                year_consumption = zero;
            }
        }

        // Each value is recorded and summed as it stands, without going
        // through a list of all of them.
        out.put(t, Variable::Demand, demand);
        out.put(t, Variable::Supply, supply);
        out.put(t, Variable::Imports, imports);
        out.put(t, Variable::Secondary, secondary);
        out.put(t, Variable::Refinery, refinery);
        out.put(t, Variable::StockpileLevel, level);
        out.put(t, Variable::Release, release);
        out.put(t, Variable::Shortfall, shortfall);
        out.put(t, Variable::InUseStock, in_use);
        out.put(t, Variable::Eol, eol);
        out.put(t, Variable::Collected, collected);
        out.put(t, Variable::FeedAvailability, feed_availability);
        out.put(t, Variable::Reexports, reexports);
        out.put(t, Variable::Consumption, consumption);
        out.put(t, Variable::DemandReduction, reduction);
        if !clears {
            out.put(t, Variable::Price, splat(mat.price));
            out.put(t, Variable::WorldPrice, splat(mat.price));
        }
        totals[Metric::DemandT as usize] += demand;
        totals[Metric::SupplyT as usize] += supply;
        totals[Metric::ShortfallT as usize] += shortfall;
        totals[Metric::ReleaseT as usize] += release;
        totals[Metric::SecondaryT as usize] += secondary;
        totals[Metric::RefineryT as usize] += refinery;
        totals[Metric::EolT as usize] += eol;
        totals[Metric::CollectedT as usize] += collected;
        totals[Metric::ReexportsT as usize] += reexports;
        totals[Metric::DemandReductionT as usize] += reduction;
        totals[Metric::OptionCalledT as usize] += called;
        end_level = level;
        let short = shortfall.gt(zero);
        let counted = &mut totals[Metric::ShortfallSteps as usize];
        *counted = Lanes::select(short, *counted + 1.0, *counted);
        run_length = Lanes::select(short, run_length + 1.0, zero);
        let longest = &mut totals[Metric::LongestShortfallSteps as usize];
        *longest = Lanes::select(short, longest.max(run_length), *longest);
    }
    let years = steps / steps_per_year;
    for (i, filled) in stock_filled.iter().enumerate() {
        for lane in 0..LANES {
            extras[lane * n_extra + extra_at.stocks + i * (1 + years)] = filled.0[lane];
        }
    }
    // 9. Prices and the costs that need them, after the steps.
    market::prices_and_costs(scenario, prep, m_idx, ws, &mut totals);
    let demand_t = totals[Metric::DemandT as usize];
    totals[Metric::ShortfallFraction as usize] = Lanes::select(
        demand_t.gt(zero),
        totals[Metric::ShortfallT as usize] / demand_t,
        zero,
    );
    totals[Metric::StockpileCostEur as usize] = stock_cost;
    totals[Metric::OptionFeeEur as usize] = option_fee;
    totals[Metric::OptionCallEur as usize] = option_call;
    totals[Metric::RefineryCostEur as usize] = refinery_cost;
    totals[Metric::StockpileEndValueEur as usize] = end_level * mat.price * prep.discount_end;
    let per_lane = ws.metrics.len() / LANES;
    for (l, lane) in ws.metrics.chunks_exact_mut(per_lane).enumerate() {
        for (k, total) in totals.iter().enumerate() {
            lane[m_idx * N_METRICS + k] = total.0[l];
        }
    }
}
