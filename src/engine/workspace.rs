//! The reusable buffers of one worker ([`Workspace`]): allocated once per
//! worker and reused for every group of runs, so that the step loop never
//! allocates. A workspace holds [`LANES`] runs side by side.

use super::fast::{Lanes, Mask, LANES};
use super::market::{InventoryLanes, MarketCells, MarketLanes, StockLanes};
use super::prepare::Prepared;
use super::products::ProductFlows;
use super::tiers::Shock;
use crate::scenario::uncertain::Uncertain;
use crate::scenario::{Arrival, Scenario};
use crate::vocab::{Metric, Variable, N_METRICS, N_VARIABLES};

/// The draws of one run that only that run's scalar code reads (its
/// disruptions and products), and what it reports besides its series.
#[derive(Debug, Clone)]
pub(super) struct RunDraws {
    /// Event rate per year, per disruption (unused for scheduled ones).
    pub(super) rate: Vec<f64>,
    /// Lifetime parameters per product.
    pub(super) life: Vec<[f64; 2]>,
    /// This run's drawn parameters, in [`Prepared::param_names`] order.
    pub(super) params: Vec<f64>,
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
    pub(super) avail: Vec<Lanes>,
    /// Which runs have an event active on any import of a material,
    /// `[material][step]`: where none has, every a_s(t) of its sources is
    /// exactly 1 and the step skips the per-source arithmetic (which would
    /// give 0 lost).
    pub(super) hit: Vec<Mask>,
    /// Spare capacity of each global source.
    pub(super) spare: Vec<Lanes>,
    /// Demand at the start, per material, t/yr.
    pub(super) demand_tpy: Vec<Lanes>,
    /// Demand growth per year, per material.
    pub(super) growth: Vec<Lanes>,
    /// Level of each stockpile.
    pub(super) levels: Vec<Lanes>,
    /// What each stockpile sold into the market in the current step (its
    /// gap releases' limit is what is left of `max_release_tpy`).
    pub(super) released_now: Vec<Lanes>,
    /// Per stockpile, the steps of the release episode so far (counted
    /// only where a lead time is set).
    pub(super) stock_episode: Vec<Lanes>,
    /// Per option, the tonnes still callable in the current year.
    pub(super) option_left: Vec<Lanes>,
    /// Per stockpile, the step in which it first reached its target (-1
    /// until it does).
    pub(super) stock_filled: Vec<Lanes>,
    /// Per tier, its demand shock (a multiplier of 1 and no months
    /// without one).
    pub(super) shock: Vec<Shock>,
    /// Per tier, its shortfall and shortage cost over the run so far.
    pub(super) tier_shortfall: Vec<Lanes>,
    pub(super) tier_cost: Vec<Lanes>,
    /// Per lane, the run's values beside the metrics
    /// ([`Prepared::extra_names`] order).
    pub(super) extras: Vec<f64>,
    /// Utilization per refinery.
    pub(super) utilization: Vec<Lanes>,
    /// Substitution (max fraction, per year) per material.
    pub(super) substitution: Vec<(Lanes, Lanes)>,
    /// New capacity (share per year, lead time in years) per material.
    pub(super) new_capacity: Vec<(Lanes, Lanes)>,
    /// Per lane, that run's own draws.
    pub(super) runs: Vec<RunDraws>,
    /// Collection rate per product.
    pub(super) collection: Vec<Lanes>,
    /// Recovery per product and content.
    pub(super) recovery: Vec<Vec<Lanes>>,
    /// The runs' product outflows.
    pub(super) flows: ProductFlows,
    /// The runs' recorded series, `[material][variable][step]`.
    pub(super) series: Vec<Lanes>,
    /// Each step's welfare loss, `[material][step]`, written with the
    /// series (for the commands that observe the runs; no statistics of
    /// the study's own are kept of it).
    pub(super) welfare_loss: Vec<Lanes>,
    /// Each step's price multiple x_r (the region's price over the base
    /// price), `[material][step]`, written as [`Self::welfare_loss`].
    pub(super) price_multiple: Vec<Lanes>,
    /// The runs' totals, `[lane][material][metric]`.
    pub(super) metrics: Vec<f64>,
    /// Whether the steps write [`Self::series`]; when they do not, only the
    /// totals and the sums are kept.
    pub(super) record: bool,
    /// Each varying series' sum over the runs stepped since
    /// [`Self::clear_sums`], in run order, `[series][step]` in the order of
    /// `sum_row`; empty unless kept ([`Self::keep_sums`]). One number per
    /// cell rather than one per lane: the sums of all cells then stay in
    /// the processor's cache from one group of runs to the next.
    pub(super) sums: Vec<f64>,
    /// The row of each material's variables in `sums`, `[material][variable]`;
    /// `usize::MAX` for a variable that cannot vary (and is not summed).
    pub(super) sum_row: Vec<[usize; N_VARIABLES]>,
    /// Lanes holding runs in the last [`simulate_runs`](super::simulate_runs)(super::simulate_runs).
    pub(super) lanes_used: usize,
    /// The ranges of `avail` and of `hit` that events have written since
    /// they were last reset: only these are reset for the next runs.
    pub(super) touched_avail: Vec<std::ops::Range<usize>>,
    pub(super) touched_hit: Vec<std::ops::Range<usize>>,
    /// World-scope availability of the import flows hit by both scopes,
    /// `[row][step]` (rows as [`Prepared`] numbers them), and the ranges
    /// events wrote.
    pub(super) avail_world: Vec<Lanes>,
    pub(super) touched_world: Vec<std::ops::Range<usize>>,
    /// Each material's market in the lanes' runs.
    pub(super) market: Vec<MarketLanes>,
    /// Each stockpile's thresholds in the lanes' runs.
    pub(super) stock_lanes: Vec<StockLanes>,
    /// Each inventory's size in days and release price (drawn or fixed),
    /// its size in tonnes (set at the first step), its level, and its
    /// thresholds.
    pub(super) inventory_days: Vec<Lanes>,
    pub(super) inventory_release: Vec<Lanes>,
    pub(super) inventory_size: Vec<Lanes>,
    pub(super) inventory_levels: Vec<Lanes>,
    pub(super) inventory_lanes: Vec<InventoryLanes>,
    /// A material's market in each step, for its prices and costs after
    /// the steps ([`MarketCells`]).
    pub(super) cells: MarketCells,
}

/// The value of a number that is not drawn (0 for a random one, which is
/// overwritten each run).
pub(super) fn fixed(u: &Uncertain) -> f64 {
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
            released_now: vec![Lanes::splat(0.0); prep.n_stockpiles],
            stock_episode: vec![Lanes::splat(0.0); prep.n_stockpiles],
            option_left: vec![Lanes::splat(0.0); prep.n_options],
            stock_filled: vec![Lanes::splat(-1.0); prep.n_stockpiles],
            shock: mats
                .iter()
                .flat_map(|m| &m.tiers)
                .map(|t| match &t.shock {
                    Some(s) => Shock {
                        multiplier: splat(&s.multiplier),
                        months: splat(&s.duration_months),
                        start: s.start_step,
                    },
                    None => Shock {
                        multiplier: Lanes::splat(1.0),
                        months: Lanes::splat(0.0),
                        start: usize::MAX,
                    },
                })
                .collect(),
            tier_shortfall: vec![Lanes::splat(0.0); prep.n_tiers],
            tier_cost: vec![Lanes::splat(0.0); prep.n_tiers],
            extras: vec![0.0; LANES * prep.extra_names.len()],
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
            welfare_loss: vec![Lanes::splat(0.0); n_mat * prep.steps],
            price_multiple: vec![Lanes::splat(1.0); n_mat * prep.steps],
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
            avail_world: vec![Lanes::splat(1.0); prep.n_world_rows * prep.steps],
            touched_world: Vec::new(),
            market: mats
                .iter()
                .map(|m| {
                    let mut lanes = MarketLanes::idle();
                    if let Some(e) = &m.market.demand_elasticity {
                        lanes.eps = splat(e);
                    }
                    lanes.eta = splat(&m.market.supply_elasticity);
                    lanes.rho = splat(&m.market.market_share);
                    lanes.derive(m);
                    lanes
                })
                .collect(),
            stock_lanes: Vec::new(),
            inventory_days: mats
                .iter()
                .flat_map(|m| &m.inventories)
                .map(|v| splat(&v.days))
                .collect(),
            inventory_release: mats
                .iter()
                .flat_map(|m| &m.inventories)
                .map(|v| splat(&v.release_above))
                .collect(),
            inventory_size: vec![Lanes::splat(0.0); prep.n_inventories],
            inventory_levels: vec![Lanes::splat(0.0); prep.n_inventories],
            inventory_lanes: Vec::new(),
            cells: MarketCells::new(prep.steps),
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
    /// of [`simulate_run`](super::simulate_run)(super::simulate_run) (the first of [`simulate_runs`](super::simulate_runs)(super::simulate_runs)).
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
    /// [`simulate_run`](super::simulate_run)(super::simulate_run).
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

    /// The values beside the metrics of lane `lane`'s run, in
    /// [`Prepared::extra_names`] order.
    pub fn extras(&self, lane: usize) -> &[f64] {
        let n = self.extras.len() / LANES;
        &self.extras[lane * n..(lane + 1) * n]
    }

    /// The welfare loss of material `m` in step `t` of lane `lane`'s run,
    /// EUR, discounted as the run's `welfare_loss_eur` (of which it is the
    /// step's part: price cost less producer gain plus shortage cost).
    /// Written only while the series are recorded ([`Self::record_series`]).
    pub fn welfare_loss_in(&self, lane: usize, steps: usize, m: usize, t: usize) -> f64 {
        self.welfare_loss[m * steps + t].0[lane]
    }

    /// The price multiple x_r of material `m` in step `t` of lane `lane`'s
    /// run: the region's price over the base price, as the run's
    /// `peak_price_multiple` takes it (1 where the market does not clear).
    /// Written only while the series are recorded ([`Self::record_series`]).
    pub fn price_multiple_in(&self, lane: usize, steps: usize, m: usize, t: usize) -> f64 {
        self.price_multiple[m * steps + t].0[lane]
    }

    /// Availability a_s(t) of import source `k` of material `m` at step `t`,
    /// in the run of [`simulate_run`](super::simulate_run)(super::simulate_run): the product of (1 - severity) of the
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
