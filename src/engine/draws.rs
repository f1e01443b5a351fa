//! What a group of runs draws before it steps: each run's uncertain
//! parameters (one number per run, from its own world stream) and its
//! disruptions (Poisson arrivals or scheduled, with their durations and
//! severities), written into the workspace's availability a_s(t).

use super::fast::FirstBlockRng;
use super::fast::{Lanes, Mask};
use super::market::{InventoryLanes, StockLanes};
use super::prepare::{Prepared, Slot, WorldAvail};
use super::workspace::Workspace;
use crate::sampling::standard_exponential;
use crate::scenario::uncertain::Uncertain;
use crate::scenario::{Arrival, Scenario};

/// The uncertain number drawn into `slot`.
pub(super) fn uncertain<'a>(scenario: &'a Scenario, prep: &Prepared, slot: Slot) -> &'a Uncertain {
    let mats = &scenario.materials;
    let substitution = |m: usize| {
        mats[m]
            .substitution
            .as_ref()
            .expect("a substitution slot belongs to a material with substitution")
    };
    let new_capacity = |m: usize| {
        mats[m]
            .new_capacity
            .as_ref()
            .expect("a new-capacity slot belongs to a material with new capacity")
    };
    match slot {
        Slot::DemandTpy(m) => &mats[m].demand_tpy,
        Slot::DemandGrowth(m) => &mats[m].demand_growth,
        Slot::Spare(g) => {
            let m = prep.source_offset.partition_point(|&o| o <= g) - 1;
            &mats[m].sources[g - prep.source_offset[m]].spare_capacity
        }
        Slot::Rate(d) => match &scenario.disruptions[d].arrival {
            Arrival::Poisson(rate) => rate,
            Arrival::Scheduled { .. } => unreachable!("only Poisson rates are parameters"),
        },
        Slot::Life(p, i) => scenario.products[p].lifetime.param(i),
        Slot::Collection(p) => &scenario.products[p].collection_rate,
        Slot::Recovery(p, k) => &scenario.products[p].contents[k].recovery,
        Slot::Utilization(r) => &scenario.refineries[r].utilization,
        Slot::SubstitutionMax(m) => &substitution(m).max_fraction,
        Slot::SubstitutionRate(m) => &substitution(m).per_year,
        Slot::NewCapacityShare(m) => &new_capacity(m).share_per_year,
        Slot::NewCapacityLead(m) => &new_capacity(m).lead_time_years,
        Slot::DemandElasticity(m) => mats[m]
            .market
            .demand_elasticity
            .as_ref()
            .expect("a demand-elasticity slot belongs to a market that clears"),
        Slot::SupplyElasticity(m) => &mats[m].market.supply_elasticity,
        Slot::MarketShare(m) => &mats[m].market.market_share,
        Slot::InventoryDays(g) | Slot::InventoryRelease(g) => {
            let m = prep.inventory_offset.partition_point(|&o| o <= g) - 1;
            let inv = &mats[m].inventories[g - prep.inventory_offset[m]];
            match slot {
                Slot::InventoryDays(_) => &inv.days,
                _ => &inv.release_above,
            }
        }
        Slot::ShockMultiplier(g) | Slot::ShockMonths(g) => {
            let m = prep.tier_offset.partition_point(|&o| o <= g) - 1;
            let shock = mats[m].tiers[g - prep.tier_offset[m]]
                .shock
                .as_ref()
                .expect("a shock slot belongs to a tier with a shock");
            match slot {
                Slot::ShockMultiplier(_) => &shock.multiplier,
                _ => &shock.duration_months,
            }
        }
    }
}

/// Draws the per-run numbers of the `n` runs from `first_run` on into
/// lanes 0 to `n`.
pub(super) fn draw_parameters(
    scenario: &Scenario,
    prep: &Prepared,
    first_run: u64,
    n: usize,
    ws: &mut Workspace,
) {
    for (i, p) in prep.params.iter().enumerate() {
        let u = uncertain(scenario, prep, p.slot);
        // A draw rarely needs more than its stream's first block, which is
        // computed for all lanes at once.
        let blocks = p.key.first_blocks(first_run);
        for (lane, block) in blocks.iter().enumerate().take(n) {
            let x = u.sample(&mut p.key.rng_from(first_run + lane as u64, block));
            let own = &mut ws.runs[lane];
            own.params[i] = x;
            match p.slot {
                Slot::DemandTpy(m) => ws.demand_tpy[m].0[lane] = x,
                Slot::DemandGrowth(m) => ws.growth[m].0[lane] = x,
                Slot::Spare(g) => ws.spare[g].0[lane] = x,
                Slot::Rate(d) => own.rate[d] = x,
                Slot::Life(p, i) => own.life[p][i] = x,
                Slot::Collection(p) => ws.collection[p].0[lane] = x,
                Slot::Recovery(p, k) => ws.recovery[p][k].0[lane] = x,
                Slot::Utilization(r) => ws.utilization[r].0[lane] = x,
                Slot::SubstitutionMax(m) => ws.substitution[m].0 .0[lane] = x,
                Slot::SubstitutionRate(m) => ws.substitution[m].1 .0[lane] = x,
                Slot::NewCapacityShare(m) => ws.new_capacity[m].0 .0[lane] = x,
                Slot::NewCapacityLead(m) => ws.new_capacity[m].1 .0[lane] = x,
                Slot::DemandElasticity(m) => ws.market[m].eps.0[lane] = x,
                Slot::SupplyElasticity(m) => ws.market[m].eta.0[lane] = x,
                Slot::MarketShare(m) => ws.market[m].rho.0[lane] = x,
                Slot::ShockMultiplier(g) => ws.shock[g].multiplier.0[lane] = x,
                Slot::ShockMonths(g) => ws.shock[g].months.0[lane] = x,
                Slot::InventoryDays(g) => ws.inventory_days[g].0[lane] = x,
                Slot::InventoryRelease(g) => ws.inventory_release[g].0[lane] = x,
            }
        }
    }
    market_lanes(scenario, ws);
}

/// Works out what follows from each material's drawn market numbers, and
/// its stockpiles' and inventories' thresholds (a few powers per material
/// and group).
fn market_lanes(scenario: &Scenario, ws: &mut Workspace) {
    ws.stock_lanes.clear();
    ws.inventory_lanes.clear();
    for (mat, market) in scenario.materials.iter().zip(ws.market.iter_mut()) {
        if mat
            .market
            .demand_elasticity
            .as_ref()
            .is_some_and(Uncertain::is_random)
            || mat.market.supply_elasticity.is_random()
            || mat.market.market_share.is_random()
        {
            market.derive(mat);
        }
        for sp in &mat.stockpiles {
            ws.stock_lanes
                .push(StockLanes::new(sp, market, mat.market.clears()));
        }
        let first = ws.inventory_lanes.len();
        for (k, inv) in mat.inventories.iter().enumerate() {
            let release = ws.inventory_release[first + k];
            ws.inventory_lanes
                .push(InventoryLanes::new(inv, release, market));
        }
    }
}

/// Steps an event lasts: its duration in months rounded up to whole steps,
/// at least one.
pub(super) fn event_steps(duration_months: f64, months_per_step: f64) -> usize {
    ((duration_months / months_per_step).ceil() as usize).max(1)
}

/// Draws the disruptions of the `n` runs from `first_run` on into lanes 0
/// to `n`: multiplies their (1 - severity) into the availability of every
/// flow they hit. The lanes' availabilities start at 1 ([`reset_events`]);
/// the lanes' event rates are drawn ([`draw_parameters`]).
pub(super) fn draw_events(
    scenario: &Scenario,
    prep: &Prepared,
    first_run: u64,
    n: usize,
    ws: &mut Workspace,
) {
    for (d_idx, key) in prep.event_keys.iter().enumerate() {
        // Most runs draw no more than a few events, within the stream's
        // first block, which is computed for all lanes at once.
        let blocks = key.first_blocks(first_run);
        // A disruption that follows another draws its starts and lengths
        // from the leader's stream and its severities from its own.
        let leader = scenario.disruptions[d_idx].leader;
        let timing = &prep.event_keys[leader.unwrap_or(d_idx)];
        let timing_blocks = leader.map(|_| timing.first_blocks(first_run));
        for (lane, block) in blocks.iter().enumerate().take(n) {
            let run = first_run + lane as u64;
            let mut own = key.rng_from(run, block);
            match &timing_blocks {
                None => draw_lane_events(scenario, prep, d_idx, lane, &mut own, None, ws),
                Some(t) => {
                    let mut rng = timing.rng_from(run, &t[lane]);
                    draw_lane_events(scenario, prep, d_idx, lane, &mut rng, Some(&mut own), ws);
                }
            }
        }
    }
}

/// Draws the events of disruption `d_idx` in lane `lane`'s run from `rng`,
/// that run's stream of the disruption; for a disruption that follows
/// another, `rng` is that run's stream of its leader (the starts and
/// lengths, the leader's severities drawn and set aside so that the two
/// streams stay in step) and `own` its own stream (its severities).
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_lane_events(
    scenario: &Scenario,
    prep: &Prepared,
    d_idx: usize,
    lane: usize,
    rng: &mut FirstBlockRng,
    mut own: Option<&mut FirstBlockRng>,
    ws: &mut Workspace,
) {
    let d = &scenario.disruptions[d_idx];
    let lead = d.leader.unwrap_or(d_idx);
    let timing = &scenario.disruptions[lead];
    let steps = prep.steps;
    let mut apply = |start: usize, rng: &mut FirstBlockRng| {
        let length = event_steps(timing.duration_months.sample(rng), prep.months_per_step);
        let severity = match own.as_deref_mut() {
            None => d.severity.sample(rng),
            Some(own) => {
                let _ = timing.severity.sample(rng);
                d.severity.sample(own)
            }
        };
        let factor = 1.0 - severity;
        let end = start.saturating_add(length).min(steps);
        for &flow in &prep.event_rows[d_idx] {
            let range = flow * steps + start..flow * steps + end;
            for a in &mut ws.avail[range.clone()] {
                a.0[lane] *= factor;
            }
            ws.touched_avail.push(range);
            // A flow hit by both scopes keeps its world-scope availability
            // apart.
            if let (true, Some(WorldAvail::Row(row))) =
                (prep.event_world[d_idx], prep.world_avail.get(flow))
            {
                let range = row * steps + start..row * steps + end;
                for a in &mut ws.avail_world[range.clone()] {
                    a.0[lane] *= factor;
                }
                ws.touched_world.push(range);
            }
        }
        for &m in &prep.event_materials[d_idx] {
            let range = m * steps + start..m * steps + end;
            for hit in &mut ws.hit[range.clone()] {
                hit.set(lane);
            }
            ws.touched_hit.push(range);
        }
    };
    match &timing.arrival {
        Arrival::Scheduled { step, .. } => apply(*step, rng),
        Arrival::Poisson(_) => {
            let rate = ws.runs[lane].rate[lead];
            if rate <= 0.0 {
                return;
            }
            // Arrivals of a Poisson process in continuous time; an event
            // starts in the step its arrival falls in.
            let horizon_years = steps as f64 * prep.dt;
            let mut t = 0.0;
            loop {
                let gap = standard_exponential(rng);
                t += gap / rate;
                if t >= horizon_years {
                    break;
                }
                let start = ((t / prep.dt) as usize).min(steps - 1);
                apply(start, rng);
            }
        }
    }
}

/// No event anywhere, in every lane: what events wrote is set back.
pub(super) fn reset_events(ws: &mut Workspace) {
    for range in ws.touched_avail.drain(..) {
        ws.avail[range].fill(Lanes::splat(1.0));
    }
    for range in ws.touched_hit.drain(..) {
        ws.hit[range].fill(Mask::splat(false));
    }
    for range in ws.touched_world.drain(..) {
        ws.avail_world[range].fill(Lanes::splat(1.0));
    }
}
