//! One run's trajectory: draw the world, then step every material through
//! time (MODEL.md steps 1 to 11). Pure and sequential; every buffer lives in a
//! [`Workspace`] that is allocated once and reused, so the step loop never
//! allocates.

use super::products::{ProductFlows, ProductsPrep};
use super::rng::StreamKey;
use super::{Metric, Variable, N_METRICS, N_VARIABLES};
use crate::scenario::uncertain::Uncertain;
use crate::scenario::{Arrival, FlowRef, Scenario, StockTarget, TargetBasis};
use rand_distr::{Distribution, Exp1};

/// Where a per-run parameter goes in the [`Workspace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
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
}

/// A number drawn once per run, from its own world stream.
#[derive(Debug, Clone)]
struct Param {
    /// Field path, e.g. `material[gallium].demand_growth`.
    name: String,
    key: StreamKey,
    slot: Slot,
}

/// What is fixed for all runs: stream keys and index tables.
#[derive(Debug, Clone)]
pub struct Prepared {
    steps: usize,
    dt: f64,
    months_per_step: f64,
    steps_per_year: f64,
    /// First global source index of each material.
    source_offset: Vec<usize>,
    /// Global flow rows (imports, then refinery feeds) each disruption hits.
    event_rows: Vec<Vec<usize>>,
    /// Materials whose imports each disruption hits.
    event_materials: Vec<Vec<usize>>,
    /// First global flow row of each refinery's feed.
    feed_offset: Vec<usize>,
    n_flows: usize,
    /// Refineries producing each material.
    refineries_of: Vec<Vec<usize>>,
    /// Ramp factor of each refinery per step, `[refinery][step]`.
    refinery_ramp: Vec<f64>,
    /// The step in which each refinery's capex is spent, if in the horizon.
    capex_step: Vec<Option<usize>>,
    /// First global stockpile index of each material.
    stock_offset: Vec<usize>,
    n_stockpiles: usize,
    /// Discount factor of each step, (1 + r)^-(t dt), and at the horizon's end.
    discount: Vec<f64>,
    discount_end: f64,
    /// The uncertain numbers drawn once per run, in a fixed order.
    params: Vec<Param>,
    event_keys: Vec<StreamKey>,
    products: ProductsPrep,
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
            n_sources += mat.sources.len();
        }
        for (d_idx, d) in scenario.disruptions.iter().enumerate() {
            if let Arrival::Poisson(rate) = &d.arrival {
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
        let event_rows = scenario
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
        for m in &scenario.materials {
            stock_offset.push(n_stockpiles);
            n_stockpiles += m.stockpiles.len();
        }
        let dt = scenario.step.dt();
        let discount_of = |years: f64| (1.0 + scenario.discount_rate).powf(-years);
        Prepared {
            stock_offset,
            n_stockpiles,
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
        }
    }

    /// Number of steps per run.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// For each recorded cell (`[material][variable][step]`), the value it
    /// has in every run when it cannot vary, e.g. no secondary supply for a
    /// material without products; `None` for cells that vary.
    pub fn fixed_cells(&self, scenario: &Scenario) -> Vec<Option<f64>> {
        let mut out = Vec::with_capacity(scenario.materials.len() * N_VARIABLES * self.steps);
        for (m, mat) in scenario.materials.iter().enumerate() {
            let products = self.products.touches(m);
            let refineries = !self.refineries_of[m].is_empty();
            let stock = !mat.stockpiles.is_empty();
            let hub = mat.sources.iter().any(|s| s.reexport_share > 0.0);
            for var in Variable::ALL {
                let fixed = match var {
                    Variable::Secondary
                    | Variable::InUseStock
                    | Variable::Eol
                    | Variable::Collected
                        if !products =>
                    {
                        Some(0.0)
                    }
                    Variable::Refinery if !refineries => Some(0.0),
                    Variable::FeedAvailability if !refineries => Some(1.0),
                    Variable::StockpileLevel | Variable::Release if !stock => Some(0.0),
                    Variable::Reexports if !hub => Some(0.0),
                    Variable::Price if mat.price_elasticity.is_none() => Some(mat.price),
                    _ => None,
                };
                out.extend(std::iter::repeat_n(fixed, self.steps));
            }
        }
        out
    }

    /// The names (field paths) of the numbers drawn once per run, in the
    /// order of [`Workspace::params`].
    pub fn param_names(&self) -> Vec<String> {
        self.params.iter().map(|p| p.name.clone()).collect()
    }
}

/// Reusable buffers of one worker: nothing here survives from run to run
/// except capacity (and the fixed values, set once).
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Availability a_s(t) of each global source, `[source][step]`.
    avail: Vec<f64>,
    /// Whether an event is active on any import of a material, `[material]
    /// [step]`: where none is, every a_s(t) of its sources is exactly 1 and
    /// the steps skip the per-source arithmetic (which would give 0 lost).
    hit: Vec<bool>,
    /// Spare capacity of each global source.
    spare: Vec<f64>,
    /// Demand at the start, per material, t/yr.
    demand_tpy: Vec<f64>,
    /// Demand growth per year, per material.
    growth: Vec<f64>,
    /// Event rate per year, per disruption (unused for scheduled ones).
    rate: Vec<f64>,
    /// Level of each stockpile.
    levels: Vec<f64>,
    /// Utilization per refinery.
    utilization: Vec<f64>,
    /// Substitution (max fraction, per year) per material.
    substitution: Vec<(f64, f64)>,
    /// New capacity (share per year, lead time in years) per material.
    new_capacity: Vec<(f64, f64)>,
    /// Lifetime parameters per product.
    life: Vec<[f64; 2]>,
    /// Collection rate per product.
    collection: Vec<f64>,
    /// Recovery per product and content.
    recovery: Vec<Vec<f64>>,
    /// This run's product flows per material.
    flows: ProductFlows,
    /// This run's drawn parameters, in [`Prepared::param_names`] order.
    pub(crate) params: Vec<f64>,
    /// The run's recorded series, `[material][variable][step]`.
    pub(crate) series: Vec<f64>,
    /// The run's totals, `[material][metric]`.
    pub(crate) metrics: Vec<f64>,
}

/// The value of a number that is not drawn (0 for a random one, which is
/// overwritten each run).
fn fixed(u: &Uncertain) -> f64 {
    u.fixed_value().unwrap_or(0.0)
}

impl Workspace {
    /// Buffers sized for `scenario`, with its fixed numbers in place.
    pub fn new(scenario: &Scenario, prep: &Prepared) -> Workspace {
        let n_mat = scenario.materials.len();
        let mats = &scenario.materials;
        Workspace {
            avail: vec![1.0; prep.n_flows * prep.steps],
            hit: vec![false; n_mat * prep.steps],
            levels: vec![0.0; prep.n_stockpiles],
            utilization: scenario
                .refineries
                .iter()
                .map(|r| fixed(&r.utilization))
                .collect(),
            substitution: mats
                .iter()
                .map(|m| {
                    m.substitution
                        .as_ref()
                        .map_or((0.0, 0.0), |s| (fixed(&s.max_fraction), fixed(&s.per_year)))
                })
                .collect(),
            new_capacity: mats
                .iter()
                .map(|m| {
                    m.new_capacity.as_ref().map_or((0.0, 0.0), |n| {
                        (fixed(&n.share_per_year), fixed(&n.lead_time_years))
                    })
                })
                .collect(),
            spare: mats
                .iter()
                .flat_map(|m| m.sources.iter().map(|s| fixed(&s.spare_capacity)))
                .collect(),
            demand_tpy: mats.iter().map(|m| fixed(&m.demand_tpy)).collect(),
            growth: mats.iter().map(|m| fixed(&m.demand_growth)).collect(),
            rate: scenario
                .disruptions
                .iter()
                .map(|d| match &d.arrival {
                    Arrival::Poisson(r) => fixed(r),
                    Arrival::Scheduled { .. } => 0.0,
                })
                .collect(),
            life: scenario
                .products
                .iter()
                .map(|p| {
                    let mut v = [0.0; 2];
                    for (slot, (_, u)) in v.iter_mut().zip(p.lifetime.params()) {
                        *slot = fixed(u);
                    }
                    v
                })
                .collect(),
            collection: scenario
                .products
                .iter()
                .map(|p| fixed(&p.collection_rate))
                .collect(),
            recovery: scenario
                .products
                .iter()
                .map(|p| p.contents.iter().map(|c| fixed(&c.recovery)).collect())
                .collect(),
            flows: prep.products.buffers(n_mat),
            params: vec![0.0; prep.params.len()],
            series: vec![0.0; n_mat * N_VARIABLES * prep.steps],
            metrics: vec![0.0; n_mat * N_METRICS],
        }
    }

    /// The recorded value of `var` for material `m` at step `t`.
    pub fn value(&self, steps: usize, m: usize, var: Variable, t: usize) -> f64 {
        self.series[(m * N_VARIABLES + var as usize) * steps + t]
    }

    /// The recorded value of cell `c` (`[material][variable][step]`).
    pub fn cell(&self, c: usize) -> f64 {
        self.series[c]
    }

    /// The run total `metric` of material `m`.
    pub fn metric(&self, m: usize, metric: Metric) -> f64 {
        self.metrics[m * N_METRICS + metric as usize]
    }

    /// This run's drawn parameters, in [`Prepared::param_names`] order.
    pub fn params(&self) -> &[f64] {
        &self.params
    }

    /// Availability a_s(t) of import source `k` of material `m` at step `t`:
    /// the product of (1 - severity) of the events hitting it.
    pub fn availability(&self, prep: &Prepared, m: usize, k: usize, t: usize) -> f64 {
        self.avail[(prep.source_offset[m] + k) * prep.steps + t]
    }
}

/// Draws this run's per-run numbers into their slots.
fn draw_parameters(scenario: &Scenario, prep: &Prepared, run: u64, ws: &mut Workspace) {
    let substitution = |m: usize| {
        scenario.materials[m]
            .substitution
            .as_ref()
            .expect("a substitution slot belongs to a material with substitution")
    };
    let new_capacity = |m: usize| {
        scenario.materials[m]
            .new_capacity
            .as_ref()
            .expect("a new-capacity slot belongs to a material with new capacity")
    };
    for (i, p) in prep.params.iter().enumerate() {
        let mut rng = p.key.rng(run);
        let mats = &scenario.materials;
        let x = match p.slot {
            Slot::DemandTpy(m) => mats[m].demand_tpy.sample(&mut rng),
            Slot::DemandGrowth(m) => mats[m].demand_growth.sample(&mut rng),
            Slot::Spare(g) => {
                let m = prep.source_offset.partition_point(|&o| o <= g) - 1;
                mats[m].sources[g - prep.source_offset[m]]
                    .spare_capacity
                    .sample(&mut rng)
            }
            Slot::Rate(d) => match &scenario.disruptions[d].arrival {
                Arrival::Poisson(rate) => rate.sample(&mut rng),
                Arrival::Scheduled { .. } => unreachable!("only Poisson rates are parameters"),
            },
            Slot::Life(p, i) => scenario.products[p].lifetime.params()[i].1.sample(&mut rng),
            Slot::Collection(p) => scenario.products[p].collection_rate.sample(&mut rng),
            Slot::Recovery(p, k) => scenario.products[p].contents[k].recovery.sample(&mut rng),
            Slot::Utilization(r) => scenario.refineries[r].utilization.sample(&mut rng),
            Slot::SubstitutionMax(m) => substitution(m).max_fraction.sample(&mut rng),
            Slot::SubstitutionRate(m) => substitution(m).per_year.sample(&mut rng),
            Slot::NewCapacityShare(m) => new_capacity(m).share_per_year.sample(&mut rng),
            Slot::NewCapacityLead(m) => new_capacity(m).lead_time_years.sample(&mut rng),
        };
        ws.params[i] = x;
        match p.slot {
            Slot::DemandTpy(m) => ws.demand_tpy[m] = x,
            Slot::DemandGrowth(m) => ws.growth[m] = x,
            Slot::Spare(g) => ws.spare[g] = x,
            Slot::Rate(d) => ws.rate[d] = x,
            Slot::Life(p, i) => ws.life[p][i] = x,
            Slot::Collection(p) => ws.collection[p] = x,
            Slot::Recovery(p, k) => ws.recovery[p][k] = x,
            Slot::Utilization(r) => ws.utilization[r] = x,
            Slot::SubstitutionMax(m) => ws.substitution[m].0 = x,
            Slot::SubstitutionRate(m) => ws.substitution[m].1 = x,
            Slot::NewCapacityShare(m) => ws.new_capacity[m].0 = x,
            Slot::NewCapacityLead(m) => ws.new_capacity[m].1 = x,
        }
    }
}

/// Steps an event lasts: its duration in months rounded up to whole steps,
/// at least one.
fn event_steps(duration_months: f64, months_per_step: f64) -> usize {
    ((duration_months / months_per_step).ceil() as usize).max(1)
}

/// Draws this run's disruptions and multiplies their (1 - severity) into the
/// availability of every flow they hit.
fn draw_events(scenario: &Scenario, prep: &Prepared, run: u64, ws: &mut Workspace) {
    let steps = prep.steps;
    ws.avail.fill(1.0);
    ws.hit.fill(false);
    let horizon_years = steps as f64 * prep.dt;
    for (d_idx, d) in scenario.disruptions.iter().enumerate() {
        let mut rng = prep.event_keys[d_idx].rng(run);
        let mut apply = |start: usize, rng: &mut rand_chacha::ChaCha8Rng| {
            let length = event_steps(d.duration_months.sample(rng), prep.months_per_step);
            let factor = 1.0 - d.severity.sample(rng);
            let end = start.saturating_add(length).min(steps);
            for &flow in &prep.event_rows[d_idx] {
                let row = flow * steps;
                for a in &mut ws.avail[row + start..row + end] {
                    *a *= factor;
                }
            }
            for &m in &prep.event_materials[d_idx] {
                ws.hit[m * steps + start..m * steps + end].fill(true);
            }
        };
        match &d.arrival {
            Arrival::Scheduled { step, .. } => apply(*step, &mut rng),
            Arrival::Poisson(_) => {
                let rate = ws.rate[d_idx];
                if rate <= 0.0 {
                    continue;
                }
                // Arrivals of a Poisson process in continuous time; an event
                // starts in the step its arrival falls in.
                let mut t = 0.0;
                loop {
                    let gap: f64 = Exp1.sample(&mut rng);
                    t += gap / rate;
                    if t >= horizon_years {
                        break;
                    }
                    let start = ((t / prep.dt) as usize).min(steps - 1);
                    apply(start, &mut rng);
                }
            }
        }
    }
}

/// Simulates run `run` of `scenario` into `ws` (series and totals).
pub fn simulate_run(scenario: &Scenario, prep: &Prepared, run: u64, ws: &mut Workspace) {
    let steps = prep.steps;
    let dt = prep.dt;
    draw_parameters(scenario, prep, run, ws);
    draw_events(scenario, prep, run, ws);
    if !scenario.products.is_empty() {
        prep.products.flows(
            scenario,
            &ws.life,
            &ws.collection,
            &ws.recovery,
            &mut ws.flows,
        );
    }
    for (m_idx, mat) in scenario.materials.iter().enumerate() {
        let demand_tpy = ws.demand_tpy[m_idx];
        // Growth below -100 %/yr would make demand negative: it stops at zero.
        let growth = ws.growth[m_idx].max(-1.0);
        let step_growth = (1.0 + growth).powf(dt);
        let offset = prep.source_offset[m_idx];
        let series_base = m_idx * N_VARIABLES * steps;
        let mut totals = [0.0; N_METRICS];
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
        let nc_lead_steps = (nc_lead * prep.steps_per_year).ceil() as usize;

        let mut stock_cost = 0.0;
        let mut shortage_cost = 0.0;
        let mut refinery_cost = 0.0;
        let mut end_level = 0.0;
        let mut episode = 0u32;
        let mut run_length = 0.0f64;
        let mut growth_factor = 1.0;
        // First step in which an import flow of this material is disrupted:
        // the world's signal for substitution and new capacity.
        let mut first_disrupted: Option<usize> = None;

        let hub = mat.sources.iter().any(|s| s.reexport_share > 0.0);
        let hit = &ws.hit[m_idx * steps..(m_idx + 1) * steps];
        for (t, &hit_t) in hit.iter().enumerate() {
            if first_disrupted.is_none() && hit_t {
                // Share of imports cut, from availability alone (the world).
                let cut: f64 = mat
                    .sources
                    .iter()
                    .enumerate()
                    .map(|(k, src)| src.share * (1.0 - ws.avail[(offset + k) * steps + t]))
                    .sum();
                if cut > mat.response_trigger {
                    first_disrupted = Some(t);
                }
            }
            // 1. Demand, with growth counted to the start of the step, plus
            // what new installations of products consume, less substitution.
            let mut demand = demand_tpy * growth_factor * dt + prep.products.extra_demand(m_idx, t);
            growth_factor *= step_growth;
            if let (Some(t0), Some(_)) = (first_disrupted, &mat.substitution) {
                let years = (t - t0 + 1) as f64 * dt - sub_lag_years;
                demand *= 1.0 - (sub_rate * years.max(0.0)).min(sub_max);
            }
            // 2. Secondary supply from products in use.
            let (secondary, in_use, eol, collected) = if has_products {
                let i = m_idx * steps + t;
                let f = &ws.flows;
                (f.secondary[i], f.in_use[i], f.eol[i], f.collected[i])
            } else {
                (0.0, 0.0, 0.0, 0.0)
            };
            // 3. Refinery output, limited by the availability of its feed.
            let mut refinery = 0.0;
            let mut online_capacity = 0.0;
            let mut fed_capacity = 0.0;
            for &r in refineries {
                let spec = &scenario.refineries[r];
                let feed = if spec.feed.is_empty() {
                    1.0
                } else {
                    let row = prep.feed_offset[r];
                    spec.feed
                        .iter()
                        .enumerate()
                        .map(|(f, feed)| feed.share * ws.avail[(row + f) * steps + t])
                        .sum()
                };
                let capacity = spec.capacity_tpy * dt * prep.refinery_ramp[r * steps + t];
                let output = capacity * ws.utilization[r] * feed;
                refinery += output;
                online_capacity += capacity;
                fed_capacity += capacity * feed;
                refinery_cost += output * spec.opex_eur_per_t * prep.discount[t];
                if prep.capex_step[r] == Some(t) {
                    refinery_cost += spec.capex_eur * prep.discount[t];
                }
            }
            let feed_availability = if online_capacity > 0.0 {
                fed_capacity / online_capacity
            } else {
                1.0
            };
            // 4. Domestic supply first; the rest is imported.
            let domestic = demand.min(secondary + refinery);
            let need = demand - domestic;
            // 5.-6. Imports by source, losses and compensation.
            let mut lost = 0.0;
            let mut reexports = 0.0;
            for (k, src) in mat.sources.iter().enumerate().filter(|_| hit_t || hub) {
                let a = ws.avail[(offset + k) * steps + t];
                lost += src.share * need * (1.0 - a);
                if src.reexport_share > 0.0 {
                    // Transit is sized on consumption, not on what domestic
                    // supply leaves to import.
                    let r = src.reexport_share;
                    reexports += src.share * demand * a * r / (1.0 - r);
                }
            }
            episode = if lost > 0.0 { episode + 1 } else { 0 };
            let months_in_episode = f64::from(episode) * prep.months_per_step;
            let mut spare_supply = 0.0;
            if lost > 0.0 {
                for (k, src) in mat.sources.iter().enumerate() {
                    let a = ws.avail[(offset + k) * steps + t];
                    let ramp = if src.ramp_months > 0.0 {
                        (months_in_episode / src.ramp_months).min(1.0)
                    } else {
                        1.0
                    };
                    spare_supply += ws.spare[offset + k] * src.share * need * a * ramp;
                }
                // New primary capacity elsewhere, once online, stays.
                if let (Some(t0), Some(_)) = (first_disrupted, &mat.new_capacity) {
                    let online = t0 + nc_lead_steps;
                    if t >= online {
                        let share = (nc_rate * (t - online + 1) as f64 * dt).min(nc_max);
                        spare_supply += share * need;
                    }
                }
            }
            let compensation = lost.min(spare_supply);
            // 7. Gap and supply; computed from the loss so that no loss
            // means a gap of exactly zero. The shares sum to 1 only to the
            // last bit, so a total loss can exceed the need by a rounding
            // error: the gap is capped at the need, which keeps supply and
            // imports from going negative.
            let gap = (lost - compensation).max(0.0).min(need);
            let supply = demand - gap;
            let imports = need - gap;
            // 10. Price from the market balance.
            let price = match mat.price_elasticity {
                // Supply = demand gives the base price exactly. Otherwise
                // (S/D)^(1/e) = exp(ln(S/D) / e): a logarithm and an
                // exponential cost half a general power.
                Some(e) if demand > 0.0 && supply < demand => {
                    mat.price
                        * ((supply / demand).ln() / e)
                            .exp()
                            .min(mat.max_price_multiple)
                }
                _ => mat.price,
            };
            // 8. Stockpiles release in order, or refill.
            let discount = prep.discount[t];
            let mut release = 0.0;
            let mut remaining = gap;
            let mut level = 0.0;
            let levels = &mut ws.levels[prep.stock_offset[m_idx]..];
            for (sp, lvl) in mat.stockpiles.iter().zip(levels.iter_mut()) {
                let basis = match sp.target_basis {
                    TargetBasis::Consumption => demand,
                    TargetBasis::NetImports => need,
                };
                let tonnes = |x: StockTarget| match x {
                    StockTarget::Days(days) => days / 365.0 * basis / dt,
                    StockTarget::Tonnes(t) => t,
                };
                let target = tonnes(sp.target);
                if t == 0 {
                    // A stock starts at initial_fill x its first target,
                    // bought at the base price when buy_initial is set.
                    *lvl = sp.initial_fill * target;
                    if sp.buy_initial {
                        stock_cost += *lvl * mat.price;
                    }
                }
                if gap > sp.release_trigger * demand {
                    let available = (*lvl - tonnes(sp.floor)).max(0.0);
                    let r = (remaining * sp.release_fraction)
                        .min(available)
                        .min(sp.max_release_tpy * dt);
                    *lvl -= r;
                    remaining -= r;
                    release += r;
                } else if *lvl < target
                    && price <= sp.refill_price_cap * mat.price
                    && (sp.refill_in_shortage || gap == 0.0)
                {
                    let buy = (target - *lvl).min(sp.replenish_tpy * dt);
                    *lvl += buy;
                    stock_cost += buy * price * discount;
                }
                // 11. Holding cost on the stock held through the step.
                stock_cost += *lvl * price * sp.holding_cost_rate * dt * discount;
                level += *lvl;
            }
            // 9. What is left unmet.
            let shortfall = remaining.max(0.0);
            shortage_cost += shortfall * mat.value_of_lost_load * discount;

            let values = [
                demand,
                supply,
                imports,
                secondary,
                refinery,
                level,
                release,
                shortfall,
                price,
                in_use,
                eol,
                collected,
                feed_availability,
                reexports,
            ];
            for (v, value) in values.into_iter().enumerate() {
                ws.series[series_base + v * steps + t] = value;
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
            end_level = level;
            if shortfall > 0.0 {
                totals[Metric::ShortfallSteps as usize] += 1.0;
                run_length += 1.0;
                let longest = &mut totals[Metric::LongestShortfallSteps as usize];
                *longest = longest.max(run_length);
            } else {
                run_length = 0.0;
            }
        }
        let demand_t = totals[Metric::DemandT as usize];
        totals[Metric::ShortfallFraction as usize] = if demand_t > 0.0 {
            totals[Metric::ShortfallT as usize] / demand_t
        } else {
            0.0
        };
        totals[Metric::StockpileCostEur as usize] = stock_cost;
        totals[Metric::RefineryCostEur as usize] = refinery_cost;
        totals[Metric::ShortageCostEur as usize] = shortage_cost;
        totals[Metric::StockpileEndValueEur as usize] = end_level * mat.price * prep.discount_end;
        ws.metrics[m_idx * N_METRICS..(m_idx + 1) * N_METRICS].copy_from_slice(&totals);
    }
}
