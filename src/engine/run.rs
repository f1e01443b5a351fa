//! One run's trajectory: draw the world, then step every material through
//! time (MODEL.md steps 1 to 11). Pure and sequential; every buffer lives in a
//! [`Workspace`] that is allocated once and reused, so the step loop never
//! allocates.

use super::rng::StreamKey;
use super::{Metric, Variable, N_METRICS, N_VARIABLES};
use crate::scenario::uncertain::Uncertain;
use crate::scenario::{Arrival, Scenario, StockTarget};
use rand_distr::{Distribution, Exp1};

/// Where a per-run parameter goes in the [`Workspace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    DemandTpy(usize),
    DemandGrowth(usize),
    Spare(usize),
    Rate(usize),
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
    /// First global source index of each material.
    source_offset: Vec<usize>,
    n_sources: usize,
    /// The uncertain numbers drawn once per run, in a fixed order.
    params: Vec<Param>,
    event_keys: Vec<StreamKey>,
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
            for (k, src) in mat.sources.iter().enumerate() {
                add(
                    &src.spare_capacity,
                    format!("{path}.source[{}].spare_capacity", src.region),
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
        let event_keys = scenario
            .disruptions
            .iter()
            .map(|d| StreamKey::new(seed, &format!("world/disruption/{}/events", d.name)))
            .collect();
        Prepared {
            steps: scenario.steps(),
            dt: scenario.step.dt(),
            months_per_step: f64::from(scenario.step.months()),
            source_offset,
            n_sources,
            params,
            event_keys,
        }
    }

    /// Number of steps per run.
    pub fn steps(&self) -> usize {
        self.steps
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
    /// Spare capacity of each global source.
    spare: Vec<f64>,
    /// Demand at the start, per material, t/yr.
    demand_tpy: Vec<f64>,
    /// Demand growth per year, per material.
    growth: Vec<f64>,
    /// Event rate per year, per disruption (unused for scheduled ones).
    rate: Vec<f64>,
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
            avail: vec![1.0; prep.n_sources * prep.steps],
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
            params: vec![0.0; prep.params.len()],
            series: vec![0.0; n_mat * N_VARIABLES * prep.steps],
            metrics: vec![0.0; n_mat * N_METRICS],
        }
    }

    /// The recorded value of `var` for material `m` at step `t`.
    pub fn value(&self, steps: usize, m: usize, var: Variable, t: usize) -> f64 {
        self.series[(m * N_VARIABLES + var as usize) * steps + t]
    }

    /// The run total `metric` of material `m`.
    pub fn metric(&self, m: usize, metric: Metric) -> f64 {
        self.metrics[m * N_METRICS + metric as usize]
    }

    /// This run's drawn parameters, in [`Prepared::param_names`] order.
    pub fn params(&self) -> &[f64] {
        &self.params
    }
}

/// Draws this run's per-run numbers into their slots.
fn draw_parameters(scenario: &Scenario, prep: &Prepared, run: u64, ws: &mut Workspace) {
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
        };
        ws.params[i] = x;
        match p.slot {
            Slot::DemandTpy(m) => ws.demand_tpy[m] = x,
            Slot::DemandGrowth(m) => ws.growth[m] = x,
            Slot::Spare(g) => ws.spare[g] = x,
            Slot::Rate(d) => ws.rate[d] = x,
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
    let horizon_years = steps as f64 * prep.dt;
    for (d_idx, d) in scenario.disruptions.iter().enumerate() {
        let mut rng = prep.event_keys[d_idx].rng(run);
        let mut apply = |start: usize, rng: &mut rand_chacha::ChaCha8Rng| {
            let length = event_steps(d.duration_months.sample(rng), prep.months_per_step);
            let factor = 1.0 - d.severity.sample(rng);
            let end = start.saturating_add(length).min(steps);
            for &(m, s) in &d.hits {
                let row = (prep.source_offset[m] + s) * steps;
                for a in &mut ws.avail[row + start..row + end] {
                    *a *= factor;
                }
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
    for (m_idx, mat) in scenario.materials.iter().enumerate() {
        let demand_tpy = ws.demand_tpy[m_idx];
        // Growth below -100 %/yr would make demand negative: it stops at zero.
        let growth = ws.growth[m_idx].max(-1.0);
        let step_growth = (1.0 + growth).powf(dt);
        let offset = prep.source_offset[m_idx];
        let series_base = m_idx * N_VARIABLES * steps;
        let mut totals = [0.0; N_METRICS];

        let target_of = |demand: f64| -> f64 {
            match mat.stockpile.as_ref().map(|s| s.target) {
                Some(StockTarget::Days(days)) => days / 365.0 * demand / dt,
                Some(StockTarget::Tonnes(t)) => t,
                None => 0.0,
            }
        };
        // The stockpile starts at initial_fill x its target at t = 0.
        let mut level = mat
            .stockpile
            .as_ref()
            .map_or(0.0, |s| s.initial_fill * target_of(demand_tpy * dt));
        let mut stock_cost = match &mat.stockpile {
            Some(s) if s.buy_initial => level * mat.price,
            _ => 0.0,
        };
        let mut episode = 0u32;
        let mut run_length = 0.0f64;
        let mut growth_factor = 1.0;

        for t in 0..steps {
            // 1. Demand, with growth counted to the start of the step.
            let demand = demand_tpy * growth_factor * dt;
            growth_factor *= step_growth;
            // 2.-4. Domestic supply (secondary, refining) comes first.
            let secondary = 0.0;
            let refinery = 0.0;
            let domestic = demand.min(secondary + refinery);
            let need = demand - domestic;
            // 5.-6. Imports by source, losses and compensation.
            let mut lost = 0.0;
            for k in 0..mat.sources.len() {
                let a = ws.avail[(offset + k) * steps + t];
                lost += mat.sources[k].share * need * (1.0 - a);
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
                Some(e) if demand > 0.0 => {
                    mat.price * ((supply / demand).powf(1.0 / e)).min(mat.max_price_multiple)
                }
                _ => mat.price,
            };
            // 8. Stockpile release or refill.
            let mut release = 0.0;
            if let Some(sp) = &mat.stockpile {
                if gap > sp.release_trigger * demand {
                    release = gap.min(level).min(sp.max_release_tpy * dt);
                    level -= release;
                } else {
                    let target = target_of(demand);
                    if level < target {
                        let buy = (target - level).min(sp.replenish_tpy * dt);
                        level += buy;
                        stock_cost += buy * price;
                    }
                }
                // 11. Holding cost on the stock held through the step.
                stock_cost += level * price * sp.holding_cost_rate * dt;
            }
            // 9. What is left unmet.
            let shortfall = gap - release;

            let values = [
                demand, supply, imports, secondary, refinery, level, release, shortfall, price,
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
        totals[Metric::ShortageCostEur as usize] =
            totals[Metric::ShortfallT as usize] * mat.value_of_lost_load;
        ws.metrics[m_idx * N_METRICS..(m_idx + 1) * N_METRICS].copy_from_slice(&totals);
    }
}
