//! One run's trajectory: draw the world, then step every material through
//! time (MODEL.md steps 1 to 11). Pure and sequential; every buffer lives in a
//! [`Workspace`] that is allocated once and reused, so the step loop never
//! allocates.

use super::lane_math;
use super::lanes::{Lanes, Mask, LANES};
use super::products::{ProductFlows, ProductsPrep};
use super::rng::{FirstBlockRng, StreamKey};
use super::{Metric, Variable, N_METRICS, N_VARIABLES};
use crate::sampling::standard_exponential;
use crate::scenario::uncertain::Uncertain;
use crate::scenario::{Arrival, FlowRef, Scenario, StockTarget, TargetBasis};

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
        let discount_of = |years: f64| libm::pow(1.0 + scenario.discount_rate, -years);
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
    fn fixed_value(&self, scenario: &Scenario, m: usize, var: Variable) -> Option<f64> {
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
            Variable::Price if mat.price_elasticity.is_none() => Some(mat.price),
            _ => None,
        }
    }

    /// The names (field paths) of the numbers drawn once per run, in the
    /// order of [`Workspace::params`].
    pub fn param_names(&self) -> Vec<String> {
        self.params.iter().map(|p| p.name.clone()).collect()
    }
}

/// The draws of one run that only that run's scalar code reads (its
/// disruptions and products), and what it reports besides its series.
#[derive(Debug, Clone)]
struct RunDraws {
    /// Event rate per year, per disruption (unused for scheduled ones).
    rate: Vec<f64>,
    /// Lifetime parameters per product.
    life: Vec<[f64; 2]>,
    /// This run's drawn parameters, in [`Prepared::param_names`] order.
    params: Vec<f64>,
}

/// Reusable buffers of one worker: nothing here survives from run to run
/// except capacity (and the fixed values, set once).
///
/// A workspace steps [`LANES`] runs side by side. Values every step reads
/// are kept lane by lane (`[..][lane]`), so that one vector operation steps
/// all runs; what each run draws for itself alone is kept per run.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Availability a_s(t) of each global flow, `[flow][step]`.
    avail: Vec<Lanes>,
    /// Which runs have an event active on any import of a material,
    /// `[material][step]`: where none has, every a_s(t) of its sources is
    /// exactly 1 and the step skips the per-source arithmetic (which would
    /// give 0 lost).
    hit: Vec<Mask>,
    /// Spare capacity of each global source.
    spare: Vec<Lanes>,
    /// Demand at the start, per material, t/yr.
    demand_tpy: Vec<Lanes>,
    /// Demand growth per year, per material.
    growth: Vec<Lanes>,
    /// Level of each stockpile.
    levels: Vec<Lanes>,
    /// Utilization per refinery.
    utilization: Vec<Lanes>,
    /// Substitution (max fraction, per year) per material.
    substitution: Vec<(Lanes, Lanes)>,
    /// New capacity (share per year, lead time in years) per material.
    new_capacity: Vec<(Lanes, Lanes)>,
    /// Per lane, that run's own draws.
    runs: Vec<RunDraws>,
    /// Collection rate per product.
    collection: Vec<Lanes>,
    /// Recovery per product and content.
    recovery: Vec<Vec<Lanes>>,
    /// The runs' product outflows.
    flows: ProductFlows,
    /// The runs' recorded series, `[material][variable][step]`.
    series: Vec<Lanes>,
    /// The runs' totals, `[lane][material][metric]`.
    metrics: Vec<f64>,
    /// Whether the steps write [`Self::series`]; when they do not, only the
    /// totals and the sums are kept.
    record: bool,
    /// Each varying series' sum over the runs stepped since
    /// [`Self::clear_sums`], in run order, `[series][step]` in the order of
    /// `sum_row`; empty unless kept ([`Self::keep_sums`]). One number per
    /// cell rather than one per lane: the sums of all cells then stay in
    /// the processor's cache from one group of runs to the next.
    sums: Vec<f64>,
    /// The row of each material's variables in `sums`, `[material][variable]`;
    /// `usize::MAX` for a variable that cannot vary (and is not summed).
    sum_row: Vec<[usize; N_VARIABLES]>,
    /// Lanes holding runs in the last [`simulate_runs`].
    lanes_used: usize,
    /// The ranges of `avail` and of `hit` that events have written since
    /// they were last reset: only these are reset for the next runs.
    touched_avail: Vec<std::ops::Range<usize>>,
    touched_hit: Vec<std::ops::Range<usize>>,
    /// A material's prices worked out after its steps ([`DeferredPrices`]).
    deferred: DeferredPrices,
}

/// What a material's steps leave for its prices to be worked out after
/// them, when no decision within a step depends on the price (no
/// stockpile of the material has a refill price cap): each step's supply
/// to demand ratio where supply falls short, and what each stockpile's
/// cost needs (the refill, the amount bought, the level held). The prices
/// of the short lanes of all steps are then computed [`LANES`] at a time, and
/// the costs are added in the order the steps would have added them, so
/// every bit is as if each price had been computed in its step.
#[derive(Debug, Clone)]
struct DeferredPrices {
    /// Per step: where supply falls short of demand, and S/D there (in
    /// the other lanes, and in steps where no lane is short, whatever an
    /// earlier step left).
    short: Vec<Mask>,
    ratio: Vec<Lanes>,
    /// Per stockpile of the material and step (`[stockpile][step]`): the
    /// refill, the amount it buys, and the level at the step's end.
    refilling: Vec<Mask>,
    buy: Vec<Lanes>,
    level: Vec<Lanes>,
    /// Per stockpile of the material: the initial level.
    initial: Vec<Lanes>,
    /// The price in each step.
    price: Vec<Lanes>,
    /// The short (step, lane) cells, and their ratios then multiples.
    cells: Vec<(u32, u8)>,
    packed: Vec<f64>,
}

impl DeferredPrices {
    fn new(steps: usize, stockpiles: usize) -> DeferredPrices {
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
        let splat = |u: &Uncertain| Lanes::splat(fixed(u));
        let draws = RunDraws {
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
            params: vec![0.0; prep.params.len()],
        };
        Workspace {
            avail: vec![Lanes::splat(1.0); prep.n_flows * prep.steps],
            hit: vec![Mask::splat(false); n_mat * prep.steps],
            levels: vec![Lanes::splat(0.0); prep.n_stockpiles],
            utilization: scenario
                .refineries
                .iter()
                .map(|r| splat(&r.utilization))
                .collect(),
            substitution: mats
                .iter()
                .map(|m| {
                    m.substitution
                        .as_ref()
                        .map_or((Lanes::splat(0.0), Lanes::splat(0.0)), |s| {
                            (splat(&s.max_fraction), splat(&s.per_year))
                        })
                })
                .collect(),
            new_capacity: mats
                .iter()
                .map(|m| {
                    m.new_capacity
                        .as_ref()
                        .map_or((Lanes::splat(0.0), Lanes::splat(0.0)), |n| {
                            (splat(&n.share_per_year), splat(&n.lead_time_years))
                        })
                })
                .collect(),
            spare: mats
                .iter()
                .flat_map(|m| m.sources.iter().map(|s| splat(&s.spare_capacity)))
                .collect(),
            demand_tpy: mats.iter().map(|m| splat(&m.demand_tpy)).collect(),
            growth: mats.iter().map(|m| splat(&m.demand_growth)).collect(),
            runs: vec![draws; LANES],
            collection: scenario
                .products
                .iter()
                .map(|p| splat(&p.collection_rate))
                .collect(),
            recovery: scenario
                .products
                .iter()
                .map(|p| p.contents.iter().map(|c| splat(&c.recovery)).collect())
                .collect(),
            flows: prep.products.buffers(),
            series: vec![Lanes::splat(0.0); n_mat * N_VARIABLES * prep.steps],
            metrics: vec![0.0; LANES * n_mat * N_METRICS],
            record: true,
            sums: Vec::new(),
            sum_row: {
                let mut rows = 0;
                (0..n_mat)
                    .map(|m| {
                        Variable::ALL.map(|var| match prep.fixed_value(scenario, m, var) {
                            Some(_) => usize::MAX,
                            None => {
                                rows += 1;
                                rows - 1
                            }
                        })
                    })
                    .collect()
            },
            lanes_used: 0,
            touched_avail: Vec::new(),
            touched_hit: Vec::new(),
            deferred: DeferredPrices::new(
                prep.steps,
                mats.iter().map(|m| m.stockpiles.len()).max().unwrap_or(0),
            ),
        }
    }

    /// Whether the runs stepped from now on write their series (read with
    /// [`Self::value`], [`Self::cell`] and [`Self::series`]); they do by
    /// default. A caller that needs only the totals and the sums
    /// ([`Self::keep_sums`]) saves the writes.
    pub fn record_series(&mut self, on: bool) {
        self.record = on;
    }

    /// Keeps, from now on, each varying cell's sum over the runs stepped,
    /// from 0 ([`Self::clear_sums`]), read with [`Self::sums`].
    pub fn keep_sums(&mut self) {
        let rows = self
            .sum_row
            .iter()
            .flatten()
            .filter(|&&r| r != usize::MAX)
            .count();
        let steps = self.series.len() / (self.sum_row.len() * N_VARIABLES).max(1);
        self.sums = vec![0.0; rows * steps];
    }

    /// Sets every sum back to 0.
    pub fn clear_sums(&mut self) {
        self.sums.fill(0.0);
    }

    /// Each varying cell's sum over the runs stepped since
    /// [`Self::clear_sums`], added in run order (lane by lane, group after
    /// group) as the runs were stepped, in cell order: the cells that
    /// [`Prepared::fixed_cells`] leaves free, the order of
    /// [`crate::stats::StepStats::add_block_sums`]. (The sums are kept
    /// `[material][variable][step]` for the varying variables only, which
    /// is that order.) Empty unless [`Self::keep_sums`] was called.
    pub fn sums(&self) -> &[f64] {
        &self.sums
    }

    /// The recorded value of `var` for material `m` at step `t`, in the run
    /// of [`simulate_run`] (the first of [`simulate_runs`]).
    pub fn value(&self, steps: usize, m: usize, var: Variable, t: usize) -> f64 {
        self.value_in(0, steps, m, var, t)
    }

    /// [`Self::value`] in the run of lane `lane`.
    pub fn value_in(&self, lane: usize, steps: usize, m: usize, var: Variable, t: usize) -> f64 {
        self.cell(lane, (m * N_VARIABLES + var as usize) * steps + t)
    }

    /// The recorded value of cell `c` (`[material][variable][step]`) in the
    /// run of lane `lane`.
    #[inline]
    pub fn cell(&self, lane: usize, c: usize) -> f64 {
        self.series[c].0[lane]
    }

    /// Every recorded cell (`[material][variable][step]`), lane by lane.
    pub fn series(&self) -> &[Lanes] {
        &self.series
    }

    /// The run total `metric` of material `m`, in the run of
    /// [`simulate_run`].
    pub fn metric(&self, m: usize, metric: Metric) -> f64 {
        self.metrics(0)[m * N_METRICS + metric as usize]
    }

    /// The totals of lane `lane`'s run, `[material][metric]`.
    pub fn metrics(&self, lane: usize) -> &[f64] {
        let n = self.metrics.len() / LANES;
        &self.metrics[lane * n..(lane + 1) * n]
    }

    /// The drawn parameters of lane `lane`'s run, in
    /// [`Prepared::param_names`] order.
    pub fn params(&self, lane: usize) -> &[f64] {
        &self.runs[lane].params
    }

    /// Availability a_s(t) of import source `k` of material `m` at step `t`,
    /// in the run of [`simulate_run`]: the product of (1 - severity) of the
    /// events hitting it.
    pub fn availability(&self, prep: &Prepared, m: usize, k: usize, t: usize) -> f64 {
        self.availability_in(0, prep, m, k, t)
    }

    /// [`Self::availability`] in the run of lane `lane`.
    pub fn availability_in(
        &self,
        lane: usize,
        prep: &Prepared,
        m: usize,
        k: usize,
        t: usize,
    ) -> f64 {
        self.avail[(prep.source_offset[m] + k) * prep.steps + t].0[lane]
    }
}

/// The uncertain number drawn into `slot`.
fn uncertain<'a>(scenario: &'a Scenario, prep: &Prepared, slot: Slot) -> &'a Uncertain {
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
    }
}

/// Draws the per-run numbers of the `n` runs from `first_run` on into
/// lanes 0 to `n`.
fn draw_parameters(
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
            }
        }
    }
}

/// Steps an event lasts: its duration in months rounded up to whole steps,
/// at least one.
fn event_steps(duration_months: f64, months_per_step: f64) -> usize {
    ((duration_months / months_per_step).ceil() as usize).max(1)
}

/// Draws the disruptions of the `n` runs from `first_run` on into lanes 0
/// to `n`: multiplies their (1 - severity) into the availability of every
/// flow they hit. The lanes' availabilities start at 1 ([`reset_events`]);
/// the lanes' event rates are drawn ([`draw_parameters`]).
fn draw_events(scenario: &Scenario, prep: &Prepared, first_run: u64, n: usize, ws: &mut Workspace) {
    for (d_idx, key) in prep.event_keys.iter().enumerate() {
        // Most runs draw no more than a few events, within the stream's
        // first block, which is computed for all lanes at once.
        let blocks = key.first_blocks(first_run);
        for (lane, block) in blocks.iter().enumerate().take(n) {
            let mut rng = key.rng_from(first_run + lane as u64, block);
            draw_lane_events(scenario, prep, d_idx, lane, &mut rng, ws);
        }
    }
}

/// Draws the events of disruption `d_idx` in lane `lane`'s run from `rng`,
/// that run's stream of the disruption.
fn draw_lane_events(
    scenario: &Scenario,
    prep: &Prepared,
    d_idx: usize,
    lane: usize,
    rng: &mut FirstBlockRng,
    ws: &mut Workspace,
) {
    let d = &scenario.disruptions[d_idx];
    let steps = prep.steps;
    let mut apply = |start: usize, rng: &mut FirstBlockRng| {
        let length = event_steps(d.duration_months.sample(rng), prep.months_per_step);
        let factor = 1.0 - d.severity.sample(rng);
        let end = start.saturating_add(length).min(steps);
        for &flow in &prep.event_rows[d_idx] {
            let range = flow * steps + start..flow * steps + end;
            for a in &mut ws.avail[range.clone()] {
                a.0[lane] *= factor;
            }
            ws.touched_avail.push(range);
        }
        for &m in &prep.event_materials[d_idx] {
            let range = m * steps + start..m * steps + end;
            for hit in &mut ws.hit[range.clone()] {
                hit.set(lane);
            }
            ws.touched_hit.push(range);
        }
    };
    match &d.arrival {
        Arrival::Scheduled { step, .. } => apply(*step, rng),
        Arrival::Poisson(_) => {
            let rate = ws.runs[lane].rate[d_idx];
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
fn reset_events(ws: &mut Workspace) {
    for range in ws.touched_avail.drain(..) {
        ws.avail[range].fill(Lanes::splat(1.0));
    }
    for range in ws.touched_hit.drain(..) {
        ws.hit[range].fill(Mask::splat(false));
    }
}

/// Simulates run `run` of `scenario` into `ws` (series and totals, read
/// with [`Workspace::value`] and [`Workspace::metric`]).
pub fn simulate_run(scenario: &Scenario, prep: &Prepared, run: u64, ws: &mut Workspace) {
    simulate_runs(scenario, prep, run, 1, ws);
}

/// Simulates the `n` runs from `first_run` on (1 to [`LANES`]) side by
/// side, run `first_run + l` in lane `l`. Each lane's results are exactly
/// those of its run simulated alone. Lanes from `n` on hold values to be
/// ignored.
pub fn simulate_runs(
    scenario: &Scenario,
    prep: &Prepared,
    first_run: u64,
    n: usize,
    ws: &mut Workspace,
) {
    assert!((1..=LANES).contains(&n), "1 to {LANES} runs at a time");
    ws.lanes_used = n;
    reset_events(ws);
    draw_parameters(scenario, prep, first_run, n, ws);
    draw_events(scenario, prep, first_run, n, ws);
    if !scenario.products.is_empty() {
        let runs = &ws.runs;
        prep.products
            .flows(scenario, n, |lane| &runs[lane].life, &mut ws.flows);
    }
    step_materials(scenario, prep, ws);
}

/// Marks the path that calls it as rarely taken, so that the compiler lays
/// it out away from the common one (`std::hint::cold_path`, before Rust
/// 1.95: a call to an empty function marked cold).
#[cold]
#[inline(never)]
fn rarely() {}

/// Steps every material in every lane. Compiled three times on x86-64: for
/// processors with AVX-512 (one instruction per lane operation, and 32
/// vector registers, so that fewer values of a step go through memory), for
/// processors with AVX2 (two instructions), and for the baseline; the
/// processor picks at run time. The results are the same bits.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2", "x86_64+avx2"))]
fn step_materials(scenario: &Scenario, prep: &Prepared, ws: &mut Workspace) {
    for m_idx in 0..scenario.materials.len() {
        step_material(scenario, prep, m_idx, ws);
    }
}

/// Where a material's values go: its series (when recorded) and the sums
/// (when kept).
struct Emit<'a> {
    steps: usize,
    /// The material's series, `[variable][step]`, when recorded.
    series: Option<&'a mut [Lanes]>,
    /// The sums, `[row][step]`, when kept.
    sums: Option<&'a mut [f64]>,
    /// The row of each variable in the sums, `usize::MAX` if not summed.
    rows: [usize; N_VARIABLES],
    /// Lanes that hold a run.
    lanes: usize,
}

impl Emit<'_> {
    /// Records `value` of `var` in step `t` and adds it to its sum.
    #[inline(always)]
    fn put(&mut self, t: usize, var: Variable, value: Lanes) {
        let v = var as usize;
        if let Some(series) = self.series.as_deref_mut() {
            series[v * self.steps + t] = value;
        }
        let row = self.rows[v];
        if let (Some(sums), true) = (self.sums.as_deref_mut(), row != usize::MAX) {
            add_in_run_order(&mut sums[row * self.steps + t], value, self.lanes);
        }
    }
}

/// Adds the first `lanes` lanes of `value` to `sum`, lane by lane (in run
/// order); lanes without a run add nothing. With all lanes (a constant
/// count) the adds are unrolled.
#[inline(always)]
fn add_in_run_order(sum: &mut f64, value: Lanes, lanes: usize) {
    *sum = if lanes == LANES {
        value.0.iter().fold(*sum, |s, x| s + x)
    } else {
        value.0[..lanes].iter().fold(*sum, |s, x| s + x)
    };
}

/// Works out material `m_idx`'s price in every step from what its steps
/// left in [`DeferredPrices`] (`e` is its price elasticity), and returns
/// its stockpiles' cost, added in the order of the steps.
#[inline(always)]
fn deferred_prices(
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

/// The first step in which each lane's imports of material `m_idx` lose
/// more than its response trigger (the world's signal for substitution and
/// new capacity), from availability alone; `usize::MAX` where none does.
fn first_disrupted(
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
/// series and totals (MODEL.md steps 1 to 11). Inlined into
/// [`step_materials`], so that it is compiled for each of its targets.
#[inline(always)]
fn step_material(scenario: &Scenario, prep: &Prepared, m_idx: usize, ws: &mut Workspace) {
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
