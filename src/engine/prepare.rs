//! What every run of a scenario shares, worked out once before the runs:
//! the stream keys of everything drawn, and index tables (which flows each
//! disruption hits, where each material's sources and stockpiles sit),
//! discount factors and refinery ramps.

use super::products::ProductsPrep;
use super::rng::StreamKey;
use crate::scenario::uncertain::Uncertain;
use crate::scenario::{Arrival, FlowRef, Scenario, Scope};
use crate::vocab::{Variable, N_VARIABLES};

/// Where a per-run parameter goes in the [`Workspace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    DemandTpy(usize),
    DemandGrowth(usize),
    Spare(usize),
    Rate(usize),
    /// Product p's i-th lifetime parameter.
    Life(usize, usize),
    Collection(usize),
    /// Product p's recovery of its k-th content.
    Recovery(usize, usize),
    Utilization(usize),
    SubstitutionMax(usize),
    SubstitutionRate(usize),
    NewCapacityShare(usize),
    NewCapacityLead(usize),
    DemandElasticity(usize),
    SupplyElasticity(usize),
    MarketShare(usize),
    /// The demand shock's multiplier of a global tier.
    ShockMultiplier(usize),
    /// The demand shock's length in months of a global tier.
    ShockMonths(usize),
    /// The size in days of a global inventory.
    InventoryDays(usize),
    /// The release price of a global inventory.
    InventoryRelease(usize),
}

/// Which availability of an import flow counts for the world scope
/// (docs/model.md, "Two kinds of loss").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WorldAvail {
    /// Only world-scope events hit the flow (or none): a_w = a.
    All,
    /// Only region-scope events hit it: a_w = 1.
    One,
    /// Both: a_w is kept apart, in this row of the world availability.
    Row(usize),
}

/// How the region's net loss of a material splits by scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScopeMix {
    /// All of it is world-scope (or nothing hits the material).
    World,
    /// All of it is region-scope.
    Region,
    /// Both kinds hit: split in proportion to the two losses.
    Mixed,
}

/// A number drawn once per run, from its own world stream.
#[derive(Debug, Clone)]
pub(super) struct Param {
    /// Field path, e.g. `material[gallium].demand_growth`.
    pub(super) name: String,
    pub(super) key: StreamKey,
    pub(super) slot: Slot,
}

/// Where a material's per-run values beside the metrics go: the run
/// table's extra columns ([`Prepared::extra_names`]).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ExtraColumns {
    /// First column of its demand tiers, two each: shortfall (t) and
    /// shortage cost (EUR).
    pub(super) tiers: usize,
    /// First column of its consumption in each year (when it has
    /// stockpiles).
    pub(super) consumption: usize,
    /// First column of its stockpiles, each: the step in which it first
    /// reached its target (-1: never), then its level at each year's end.
    pub(super) stocks: usize,
}

/// What is fixed for all runs: stream keys and index tables.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub(super) steps: usize,
    pub(super) dt: f64,
    pub(super) months_per_step: f64,
    pub(super) steps_per_year: f64,
    /// First global source index of each material.
    pub(super) source_offset: Vec<usize>,
    /// Global flow rows (imports, then refinery feeds) each disruption hits.
    pub(super) event_rows: Vec<Vec<usize>>,
    /// Materials whose imports each disruption hits.
    pub(super) event_materials: Vec<Vec<usize>>,
    /// First global flow row of each refinery's feed.
    pub(super) feed_offset: Vec<usize>,
    pub(super) n_flows: usize,
    /// Refineries producing each material.
    pub(super) refineries_of: Vec<Vec<usize>>,
    /// Ramp factor of each refinery per step, `[refinery][step]`.
    pub(super) refinery_ramp: Vec<f64>,
    /// The step in which each refinery's capex is spent, if in the horizon.
    pub(super) capex_step: Vec<Option<usize>>,
    /// First global stockpile index of each material.
    pub(super) stock_offset: Vec<usize>,
    pub(super) n_stockpiles: usize,
    /// Per global stockpile, its release lead time in whole steps.
    pub(super) stock_lead: Vec<f64>,
    /// Per global stockpile, the first step in which it may buy.
    pub(super) stock_build_step: Vec<usize>,
    /// First global option index of each material.
    pub(super) option_offset: Vec<usize>,
    pub(super) n_options: usize,
    /// Per global option, its lead time in whole steps.
    pub(super) option_lead: Vec<f64>,
    /// First global inventory index of each material.
    pub(super) inventory_offset: Vec<usize>,
    pub(super) n_inventories: usize,
    /// First global tier index of each material.
    pub(super) tier_offset: Vec<usize>,
    pub(super) n_tiers: usize,
    /// Per material, where its extra per-run values go.
    pub(super) extras: Vec<ExtraColumns>,
    /// Names of the extra per-run values, in column order.
    pub(super) extra_names: Vec<String>,
    /// Discount factor of each step, (1 + r)^-(t dt), and at the horizon's end.
    pub(super) discount: Vec<f64>,
    pub(super) discount_end: f64,
    /// The uncertain numbers drawn once per run, in a fixed order.
    pub(super) params: Vec<Param>,
    pub(super) event_keys: Vec<StreamKey>,
    pub(super) products: ProductsPrep,
    /// Per import flow (global source index), where its world-scope
    /// availability is read.
    pub(super) world_avail: Vec<WorldAvail>,
    /// Rows of the world availability (flows hit by both scopes).
    pub(super) n_world_rows: usize,
    /// Per disruption, whether its scope is the world's.
    pub(super) event_world: Vec<bool>,
    /// Per material, how its loss splits by scope.
    pub(super) scope_mix: Vec<ScopeMix>,
}

impl Prepared {
    /// Precomputes what every run of `scenario` under `seed` shares.
    pub fn new(scenario: &Scenario, seed: u64) -> Prepared {
        let mut source_offset = Vec::with_capacity(scenario.materials.len());
        let mut n_sources = 0;
        let mut params = Vec::new();
        // World streams are named by what they draw, never by policy, so a
        // policy change leaves every world draw as it was.
        let mut add = |u: &Uncertain, name: String, stream: String, slot: Slot| {
            if u.is_random() {
                params.push(Param {
                    name,
                    key: StreamKey::new(seed, &stream),
                    slot,
                });
            }
        };
        let mut n_tiers_seen = 0;
        let mut n_inventories_seen = 0;
        for (m, mat) in scenario.materials.iter().enumerate() {
            source_offset.push(n_sources);
            let base = format!("world/material/{}", mat.id);
            let path = format!("material[{}]", mat.id);
            add(
                &mat.demand_tpy,
                format!("{path}.demand_tpy"),
                format!("{base}/demand_tpy"),
                Slot::DemandTpy(m),
            );
            add(
                &mat.demand_growth,
                format!("{path}.demand_growth"),
                format!("{base}/demand_growth"),
                Slot::DemandGrowth(m),
            );
            if let Some(sub) = &mat.substitution {
                add(
                    &sub.max_fraction,
                    format!("{path}.substitution.max_fraction"),
                    format!("{base}/substitution/max_fraction"),
                    Slot::SubstitutionMax(m),
                );
                add(
                    &sub.per_year,
                    format!("{path}.substitution.per_year"),
                    format!("{base}/substitution/per_year"),
                    Slot::SubstitutionRate(m),
                );
            }
            if let Some(nc) = &mat.new_capacity {
                add(
                    &nc.share_per_year,
                    format!("{path}.new_capacity.share_per_year"),
                    format!("{base}/new_capacity/share_per_year"),
                    Slot::NewCapacityShare(m),
                );
                add(
                    &nc.lead_time_years,
                    format!("{path}.new_capacity.lead_time_years"),
                    format!("{base}/new_capacity/lead_time_years"),
                    Slot::NewCapacityLead(m),
                );
            }
            for (k, src) in mat.sources.iter().enumerate() {
                // Sources go by region; a region listed twice (one origin
                // through two ports) adds its rank: CN#2.
                let nth = mat.sources[..k]
                    .iter()
                    .filter(|s| s.region == src.region)
                    .count();
                let label = if nth == 0 {
                    src.region.clone()
                } else {
                    format!("{}#{}", src.region, nth + 1)
                };
                add(
                    &src.spare_capacity,
                    format!("{path}.source[{label}].spare_capacity"),
                    format!("{base}/source/{k}/spare_capacity"),
                    Slot::Spare(n_sources + k),
                );
            }
            if let Some(e) = &mat.market.demand_elasticity {
                add(
                    e,
                    format!("{path}.demand_elasticity"),
                    format!("{base}/demand_elasticity"),
                    Slot::DemandElasticity(m),
                );
            }
            add(
                &mat.market.supply_elasticity,
                format!("{path}.supply_elasticity"),
                format!("{base}/supply_elasticity"),
                Slot::SupplyElasticity(m),
            );
            add(
                &mat.market.market_share,
                format!("{path}.market_share"),
                format!("{base}/market_share"),
                Slot::MarketShare(m),
            );
            for (k, tier) in mat.tiers.iter().enumerate() {
                if let Some(shock) = &tier.shock {
                    let (path, base) = (
                        format!("{path}.tier[{}].demand_shock", tier.name),
                        format!("{base}/tier/{k}/demand_shock"),
                    );
                    add(
                        &shock.multiplier,
                        format!("{path}.multiplier"),
                        format!("{base}/multiplier"),
                        Slot::ShockMultiplier(n_tiers_seen + k),
                    );
                    add(
                        &shock.duration_months,
                        format!("{path}.duration_months"),
                        format!("{base}/duration_months"),
                        Slot::ShockMonths(n_tiers_seen + k),
                    );
                }
            }
            for (k, inv) in mat.inventories.iter().enumerate() {
                add(
                    &inv.days,
                    format!("{path}.inventory[{}].days", inv.name),
                    format!("{base}/inventory/{k}/days"),
                    Slot::InventoryDays(n_inventories_seen + k),
                );
                add(
                    &inv.release_above,
                    format!("{path}.inventory[{}].release_above", inv.name),
                    format!("{base}/inventory/{k}/release_above"),
                    Slot::InventoryRelease(n_inventories_seen + k),
                );
            }
            n_inventories_seen += mat.inventories.len();
            n_tiers_seen += mat.tiers.len();
            n_sources += mat.sources.len();
        }
        for (d_idx, d) in scenario.disruptions.iter().enumerate() {
            // A disruption that follows another uses that one's rate.
            if let (Arrival::Poisson(rate), None) = (&d.arrival, d.leader) {
                add(
                    rate,
                    format!("disruption[{}].rate_per_year", d.name),
                    format!("world/disruption/{}/rate_per_year", d.name),
                    Slot::Rate(d_idx),
                );
            }
        }
        for (p_idx, p) in scenario.products.iter().enumerate() {
            let base = format!("world/product/{}", p.id);
            let path = format!("product[{}]", p.id);
            for (i, (name, u)) in p.lifetime.params().into_iter().enumerate() {
                add(
                    u,
                    format!("{path}.lifetime.{name}"),
                    format!("{base}/lifetime/{name}"),
                    Slot::Life(p_idx, i),
                );
            }
            add(
                &p.collection_rate,
                format!("{path}.collection_rate"),
                format!("{base}/collection_rate"),
                Slot::Collection(p_idx),
            );
            for (k, c) in p.contents.iter().enumerate() {
                let id = &scenario.materials[c.material].id;
                add(
                    &c.recovery,
                    format!("{path}.recovery.{id}"),
                    format!("{base}/recovery/{id}"),
                    Slot::Recovery(p_idx, k),
                );
            }
        }
        // A refinery is a policy: its draws have policy streams, so adding
        // one leaves every world draw as it was.
        for (r, refinery) in scenario.refineries.iter().enumerate() {
            add(
                &refinery.utilization,
                format!("refinery[{}].utilization", refinery.name),
                format!("policy/refinery/{}/utilization", refinery.name),
                Slot::Utilization(r),
            );
        }
        let event_keys = scenario
            .disruptions
            .iter()
            .map(|d| StreamKey::new(seed, &format!("world/disruption/{}/events", d.name)))
            .collect();
        let steps = scenario.steps();
        let spy = scenario.step.per_year() as usize;
        let mut feed_offset = Vec::with_capacity(scenario.refineries.len());
        let mut n_flows = n_sources;
        for r in &scenario.refineries {
            feed_offset.push(n_flows);
            n_flows += r.feed.len();
        }
        let event_rows: Vec<Vec<usize>> = scenario
            .disruptions
            .iter()
            .map(|d| {
                d.hits
                    .iter()
                    .map(|h| match *h {
                        FlowRef::Import(m, s) => source_offset[m] + s,
                        FlowRef::Feed(r, f) => feed_offset[r] + f,
                    })
                    .collect()
            })
            .collect();
        let event_materials = scenario
            .disruptions
            .iter()
            .map(|d| {
                let mut ms: Vec<usize> = d
                    .hits
                    .iter()
                    .filter_map(|h| match *h {
                        FlowRef::Import(m, _) => Some(m),
                        FlowRef::Feed(..) => None,
                    })
                    .collect();
                ms.sort_unstable();
                ms.dedup();
                ms
            })
            .collect();
        let mut refineries_of = vec![Vec::new(); scenario.materials.len()];
        let mut refinery_ramp = vec![0.0; scenario.refineries.len() * steps];
        let mut capex_step = Vec::with_capacity(scenario.refineries.len());
        for (r, refinery) in scenario.refineries.iter().enumerate() {
            refineries_of[refinery.material].push(r);
            // Steps since the plant came online, counted from its online year.
            let online = i64::from(refinery.online_year - scenario.start_year) * spy as i64;
            let ramp_steps = refinery.ramp_years * spy as f64;
            for t in 0..steps {
                let k = t as i64 - online;
                refinery_ramp[r * steps + t] = if k < 0 {
                    0.0
                } else if ramp_steps <= 0.0 {
                    1.0
                } else {
                    ((k + 1) as f64 / ramp_steps).min(1.0)
                };
            }
            capex_step.push(usize::try_from(online).ok().filter(|&t| t < steps));
        }
        let mut stock_offset = Vec::with_capacity(scenario.materials.len());
        let mut n_stockpiles = 0;
        let mut option_offset = Vec::with_capacity(scenario.materials.len());
        let mut n_options = 0;
        let mut inventory_offset = Vec::with_capacity(scenario.materials.len());
        let mut n_inventories = 0;
        for m in &scenario.materials {
            inventory_offset.push(n_inventories);
            n_inventories += m.inventories.len();
            stock_offset.push(n_stockpiles);
            n_stockpiles += m.stockpiles.len();
            option_offset.push(n_options);
            n_options += m.options.len();
        }
        // Lead times start whole steps after an episode's first step.
        let months_per_step = f64::from(scenario.step.months());
        let lead_steps = |months: f64| (months / months_per_step).ceil();
        let stocks = scenario.materials.iter().flat_map(|m| &m.stockpiles);
        let stock_lead = stocks
            .clone()
            .map(|s| lead_steps(s.release_lead_months))
            .collect();
        let stock_build_step = stocks
            .map(|s| {
                s.build_start
                    .map_or(0, |y| (y - scenario.start_year) as usize * spy)
            })
            .collect();
        let mut tier_offset = Vec::with_capacity(scenario.materials.len());
        let mut n_tiers = 0;
        let mut extras = Vec::with_capacity(scenario.materials.len());
        let mut extra_names = Vec::new();
        let years = scenario.years as i32;
        for m in &scenario.materials {
            tier_offset.push(n_tiers);
            n_tiers += m.tiers.len();
            let path = format!("material[{}]", m.id);
            let tiers = extra_names.len();
            for t in &m.tiers {
                extra_names.push(format!("{path}.tier[{}].shortfall_t", t.name));
                extra_names.push(format!("{path}.tier[{}].shortage_cost_eur", t.name));
            }
            let consumption = extra_names.len();
            if !m.stockpiles.is_empty() {
                for y in 0..years {
                    extra_names.push(format!("{path}.consumption_t[{}]", scenario.start_year + y));
                }
            }
            let stocks = extra_names.len();
            for sp in &m.stockpiles {
                extra_names.push(format!("{path}.stockpile[{}].filled_step", sp.name));
                for y in 0..years {
                    extra_names.push(format!(
                        "{path}.stockpile[{}].level_t[{}]",
                        sp.name,
                        scenario.start_year + y
                    ));
                }
            }
            extras.push(ExtraColumns {
                tiers,
                consumption,
                stocks,
            });
        }
        let option_lead = scenario
            .materials
            .iter()
            .flat_map(|m| &m.options)
            .map(|o| lead_steps(o.lead_months))
            .collect();
        // Which scopes hit each import flow.
        let mut world_hit = vec![false; n_sources];
        let mut region_hit = vec![false; n_sources];
        for (d, rows) in scenario.disruptions.iter().zip(&event_rows) {
            for &row in rows.iter().filter(|&&row| row < n_sources) {
                match d.scope {
                    Scope::World => world_hit[row] = true,
                    Scope::Region => region_hit[row] = true,
                }
            }
        }
        let mut n_world_rows = 0;
        let world_avail: Vec<WorldAvail> = (0..n_sources)
            .map(|row| match (world_hit[row], region_hit[row]) {
                (true, true) => {
                    n_world_rows += 1;
                    WorldAvail::Row(n_world_rows - 1)
                }
                (false, true) => WorldAvail::One,
                _ => WorldAvail::All,
            })
            .collect();
        let scope_mix = scenario
            .materials
            .iter()
            .enumerate()
            .map(|(m, mat)| {
                let rows = source_offset[m]..source_offset[m] + mat.sources.len();
                let world = rows.clone().any(|r| world_hit[r]);
                let region = rows.clone().any(|r| region_hit[r]);
                match (world, region) {
                    (true, true) => ScopeMix::Mixed,
                    (false, true) => ScopeMix::Region,
                    _ => ScopeMix::World,
                }
            })
            .collect();
        let event_world = scenario
            .disruptions
            .iter()
            .map(|d| d.scope == Scope::World)
            .collect();
        let dt = scenario.step.dt();
        let discount_of = |years: f64| libm::pow(1.0 + scenario.discount_rate, -years);
        Prepared {
            stock_offset,
            inventory_offset,
            n_inventories,
            n_stockpiles,
            stock_lead,
            stock_build_step,
            option_offset,
            n_options,
            option_lead,
            tier_offset,
            n_tiers,
            extras,
            extra_names,
            discount: (0..steps).map(|t| discount_of(t as f64 * dt)).collect(),
            discount_end: discount_of(steps as f64 * dt),
            steps,
            dt,
            months_per_step: f64::from(scenario.step.months()),
            steps_per_year: spy as f64,
            source_offset,
            event_rows,
            event_materials,
            feed_offset,
            n_flows,
            refineries_of,
            refinery_ramp,
            capex_step,
            params,
            event_keys,
            products: ProductsPrep::new(scenario),
            world_avail,
            n_world_rows,
            event_world,
            scope_mix,
        }
    }

    /// Number of steps per run.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The discount factor of step `t` (1 without a discount rate), by
    /// which the runs' money totals are present values.
    pub fn discount(&self, t: usize) -> f64 {
        self.discount[t]
    }

    /// For each recorded cell (`[material][variable][step]`), the value it
    /// has in every run when it cannot vary, e.g. no secondary supply for a
    /// material without products; `None` for cells that vary.
    pub fn fixed_cells(&self, scenario: &Scenario) -> Vec<Option<f64>> {
        let mut out = Vec::with_capacity(scenario.materials.len() * N_VARIABLES * self.steps);
        for m in 0..scenario.materials.len() {
            for var in Variable::ALL {
                let fixed = self.fixed_value(scenario, m, var);
                out.extend(std::iter::repeat_n(fixed, self.steps));
            }
        }
        out
    }

    /// The value `var` of material `m` has at every step of every run when
    /// the scenario leaves it no way to vary; `None` when it may vary.
    pub(super) fn fixed_value(&self, scenario: &Scenario, m: usize, var: Variable) -> Option<f64> {
        let mat = &scenario.materials[m];
        let products = self.products.touches(m);
        let refineries = !self.refineries_of[m].is_empty();
        let stock = !mat.stockpiles.is_empty();
        let hub = mat.sources.iter().any(|s| s.reexport_share > 0.0);
        match var {
            Variable::Secondary | Variable::InUseStock | Variable::Eol | Variable::Collected
                if !products =>
            {
                Some(0.0)
            }
            Variable::Refinery if !refineries => Some(0.0),
            Variable::FeedAvailability if !refineries => Some(1.0),
            Variable::StockpileLevel | Variable::Release if !stock => Some(0.0),
            Variable::Reexports if !hub => Some(0.0),
            Variable::Price | Variable::WorldPrice if !mat.market.clears() => Some(mat.price),
            Variable::DemandReduction if !mat.market.clears() => Some(0.0),
            _ => None,
        }
    }

    /// The names (field paths) of the numbers drawn once per run, in the
    /// order of [`Workspace::params`](super::Workspace::params).
    pub fn param_names(&self) -> Vec<String> {
        self.params.iter().map(|p| p.name.clone()).collect()
    }

    /// Names of the per-run values kept beside the metrics, in column
    /// order.
    pub fn extra_names(&self) -> &[String] {
        &self.extra_names
    }
}
