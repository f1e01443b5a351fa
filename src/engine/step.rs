//! The model's step: one material through the horizon, in every lane.
//!
//! This is the model as docs/model.md states it, steps 1 to 11, in that
//! order: demand, secondary supply, refinery output, domestic supply,
//! imports and losses, compensation by spare capacity, gap, stockpiles,
//! shortfall, price, costs. A new policy rule that acts within a step goes
//! here, in its numbered place; what it needs drawn goes in
//! [`super::draws`], what it needs precomputed in [`super::prepare`], and
//! its buffers in [`super::workspace`].
//!
//! The step works on [`Lanes`]: [`LANES`] runs side by side, one vector
//! operation for all of them (`super::fast`); each lane's numbers are
//! exactly those of its run stepped alone.

use super::deferred::deferred_prices;
use super::emit::{add_in_run_order, Emit};
use super::fast::lane_math;
use super::fast::{Lanes, Mask, LANES};
use super::prepare::Prepared;
use super::products::ProductFlows;
use super::workspace::Workspace;
use crate::scenario::{Scenario, StockTarget, TargetBasis};
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
/// series and totals (docs/model.md steps 1 to 11). Inlined into
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
    let mut shortage_cost = zero;
    let mut refinery_cost = zero;
    let mut end_level = zero;
    let mut episode = zero;
    let mut run_length = zero;
    let mut growth_factor = one;

    let hub = mat.sources.iter().any(|s| s.reexport_share > 0.0);
    let stock_offset = prep.stock_offset[m_idx];
    let sum_row = ws.sum_row[m_idx];
    // With no refill price cap, no decision within a step reads the price:
    // it is worked out after the steps, for the short lanes only.
    let defer_price = mat.price_elasticity.is_some()
        && mat
            .stockpiles
            .iter()
            .all(|sp| sp.refill_price_cap == f64::INFINITY);
    // The price's sums are then added after the steps too.
    let mut sum_row_in_steps = sum_row;
    if defer_price {
        sum_row_in_steps[Variable::Price as usize] = usize::MAX;
    }
    // What the steps read and write, borrowed apart from the workspace
    // (and from each other), so that writing one does not make the others
    // be fetched again.
    let lanes_used = ws.lanes_used;
    let Workspace {
        avail,
        hit,
        levels,
        utilization,
        spare,
        series,
        record,
        sums,
        deferred,
        flows,
        collection,
        recovery,
        ..
    } = &mut *ws;
    let avail: &[Lanes] = avail;
    let hit = &hit[m_idx * steps..][..steps];
    let levels = &mut levels[stock_offset..][..mat.stockpiles.len()];
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
        // 5.-6. Imports by source, losses and compensation.
        let mut lost = zero;
        let mut reexports = zero;
        if any_hit || hub {
            for (k, src) in mat.sources.iter().enumerate() {
                let a = avail(offset + k);
                lost += src.share * need * (1.0 - a);
                if src.reexport_share > 0.0 {
                    rarely();
                    // Transit is sized on consumption, not on what domestic
                    // supply leaves to import.
                    let r = src.reexport_share;
                    reexports += src.share * demand * a * r / (1.0 - r);
                }
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
        // imports from going negative.
        let gap = (lost - compensation).max(zero).min(need);
        let supply = demand - gap;
        let imports = need - gap;
        // 10. Price from the market balance.
        let base_price = splat(mat.price);
        let price = match mat.price_elasticity {
            // Supply = demand gives the base price exactly. Otherwise
            // (S/D)^(1/e) = exp(ln(S/D) / e): a logarithm and an
            // exponential cost half a general power.
            Some(e) => {
                let short = supply.lt(demand) & demand.gt(zero);
                if defer_price {
                    deferred.short[t] = short;
                    // Read in the short lanes only.
                    if short.any() {
                        deferred.ratio[t] = supply / demand;
                    }
                    // A stand-in: the price is worked out after the steps.
                    base_price
                } else if short.any() {
                    rarely();
                    // Lanes not short take 1/2, an ordinary number, and
                    // keep the base price.
                    let ratio = Lanes::select(short, supply / demand, splat(0.5));
                    let multiple =
                        lane_math::exp(lane_math::ln(ratio) / e).min(splat(mat.max_price_multiple));
                    Lanes::select(short, base_price * multiple, base_price)
                } else {
                    base_price
                }
            }
            None => base_price,
        };
        // 8. Stockpiles release in order, or refill.
        let discount = prep.discount[t];
        let mut release = zero;
        let mut remaining = gap;
        let mut level = zero;
        for (i, (sp, lvl)) in mat.stockpiles.iter().zip(levels.iter_mut()).enumerate() {
            let basis = match sp.target_basis {
                TargetBasis::Consumption => demand,
                TargetBasis::NetImports => need,
            };
            let tonnes = |x: StockTarget| match x {
                StockTarget::Days(days) => days / 365.0 * basis / dt,
                StockTarget::Tonnes(t) => splat(t),
            };
            let target = tonnes(sp.target);
            if t == 0 {
                rarely();
                // A stock starts at initial_fill x its first target,
                // bought at the base price when buy_initial is set.
                *lvl = sp.initial_fill * target;
                if defer_price {
                    deferred.initial[i] = *lvl;
                } else if sp.buy_initial {
                    stock_cost += *lvl * mat.price;
                }
            }
            let releasing = gap.gt(sp.release_trigger * demand);
            let available = (*lvl - tonnes(sp.floor)).max(zero);
            let r = (remaining * sp.release_fraction)
                .min(available)
                .min(splat(sp.max_release_tpy * dt));
            // Deferred prices come with no cap: every price is below it.
            let affordable = if defer_price {
                Mask::splat(true)
            } else {
                price.le(splat(sp.refill_price_cap * mat.price))
            };
            let refilling = !releasing
                & lvl.lt(target)
                & affordable
                & (Mask::splat(sp.refill_in_shortage) | gap.equals(zero));
            let buy = (target - *lvl).min(splat(sp.replenish_tpy * dt));
            *lvl = Lanes::select(
                releasing,
                *lvl - r,
                Lanes::select(refilling, *lvl + buy, *lvl),
            );
            remaining = Lanes::select(releasing, remaining - r, remaining);
            release = Lanes::select(releasing, release + r, release);
            if defer_price {
                deferred.refilling[i * steps + t] = refilling;
                deferred.buy[i * steps + t] = buy;
                deferred.level[i * steps + t] = *lvl;
            } else {
                stock_cost =
                    Lanes::select(refilling, stock_cost + buy * price * discount, stock_cost);
                // 11. Holding cost on the stock held through the step.
                stock_cost += *lvl * price * sp.holding_cost_rate * dt * discount;
            }
            level += *lvl;
        }
        // 9. What is left unmet.
        let shortfall = remaining.max(zero);
        shortage_cost += shortfall * mat.value_of_lost_load * discount;

        // Each value is recorded and summed as it stands, without going
        // through a list of all fourteen.
        out.put(t, Variable::Demand, demand);
        out.put(t, Variable::Supply, supply);
        out.put(t, Variable::Imports, imports);
        out.put(t, Variable::Secondary, secondary);
        out.put(t, Variable::Refinery, refinery);
        out.put(t, Variable::StockpileLevel, level);
        out.put(t, Variable::Release, release);
        out.put(t, Variable::Shortfall, shortfall);
        out.put(t, Variable::Price, price);
        out.put(t, Variable::InUseStock, in_use);
        out.put(t, Variable::Eol, eol);
        out.put(t, Variable::Collected, collected);
        out.put(t, Variable::FeedAvailability, feed_availability);
        out.put(t, Variable::Reexports, reexports);
        totals[Metric::DemandT as usize] += demand;
        totals[Metric::SupplyT as usize] += supply;
        totals[Metric::ShortfallT as usize] += shortfall;
        totals[Metric::ReleaseT as usize] += release;
        totals[Metric::SecondaryT as usize] += secondary;
        totals[Metric::RefineryT as usize] += refinery;
        totals[Metric::EolT as usize] += eol;
        totals[Metric::CollectedT as usize] += collected;
        totals[Metric::ReexportsT as usize] += reexports;
        end_level = level;
        let short = shortfall.gt(zero);
        let counted = &mut totals[Metric::ShortfallSteps as usize];
        *counted = Lanes::select(short, *counted + 1.0, *counted);
        run_length = Lanes::select(short, run_length + 1.0, zero);
        let longest = &mut totals[Metric::LongestShortfallSteps as usize];
        *longest = Lanes::select(short, longest.max(run_length), *longest);
    }
    if let (true, Some(e)) = (defer_price, mat.price_elasticity) {
        stock_cost = deferred_prices(scenario, prep, m_idx, e, ws);
        let prices = &ws.deferred.price;
        let v = Variable::Price as usize;
        if ws.record {
            ws.series[series_base + v * steps..][..steps].copy_from_slice(prices);
        }
        let row = sum_row[v];
        if !ws.sums.is_empty() && row != usize::MAX {
            for (sum, price) in ws.sums[row * steps..][..steps].iter_mut().zip(prices) {
                add_in_run_order(sum, *price, ws.lanes_used);
            }
        }
    }
    let demand_t = totals[Metric::DemandT as usize];
    totals[Metric::ShortfallFraction as usize] = Lanes::select(
        demand_t.gt(zero),
        totals[Metric::ShortfallT as usize] / demand_t,
        zero,
    );
    totals[Metric::StockpileCostEur as usize] = stock_cost;
    totals[Metric::RefineryCostEur as usize] = refinery_cost;
    totals[Metric::ShortageCostEur as usize] = shortage_cost;
    totals[Metric::StockpileEndValueEur as usize] = end_level * mat.price * prep.discount_end;
    let per_lane = ws.metrics.len() / LANES;
    for (l, lane) in ws.metrics.chunks_exact_mut(per_lane).enumerate() {
        for (k, total) in totals.iter().enumerate() {
            lane[m_idx * N_METRICS + k] = total.0[l];
        }
    }
}
