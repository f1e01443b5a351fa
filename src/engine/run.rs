//! One run's trajectory: draw the world, then step every material through
//! time (MODEL.md steps 1 to 11). Pure and sequential; every buffer lives in a
//! [`Workspace`] that is allocated once and reused, so the step loop never
//! allocates.

use super::rng::StreamKey;
use super::{Metric, Variable, N_METRICS, N_VARIABLES};
use crate::scenario::uncertain::Uncertain;
use crate::scenario::{Arrival, Scenario, StockTarget};
use rand_distr::{Distribution, Exp1};

/// What is fixed for all runs: stream keys and index tables.
#[derive(Debug, Clone)]
pub struct Prepared {
    steps: usize,
    dt: f64,
    months_per_step: f64,
    /// First global source index of each material.
    source_offset: Vec<usize>,
    n_sources: usize,
    demand_keys: Vec<(Option<StreamKey>, Option<StreamKey>)>,
    spare_keys: Vec<Option<StreamKey>>,
    rate_keys: Vec<Option<StreamKey>>,
    event_keys: Vec<StreamKey>,
}

/// Keys only for numbers that are drawn: fixed numbers need no stream.
fn key_if(random: bool, seed: u64, name: String) -> Option<StreamKey> {
    random.then(|| StreamKey::new(seed, &name))
}

impl Prepared {
    /// Precomputes what every run of `scenario` under `seed` shares.
    pub fn new(scenario: &Scenario, seed: u64) -> Prepared {
        let mut source_offset = Vec::with_capacity(scenario.materials.len());
        let mut n_sources = 0;
        let mut demand_keys = Vec::new();
        let mut spare_keys = Vec::new();
        for m in &scenario.materials {
            source_offset.push(n_sources);
            n_sources += m.sources.len();
            // World streams: named by what they draw, never by policy.
            let base = format!("world/material/{}", m.id);
            demand_keys.push((
                key_if(m.demand_tpy.is_random(), seed, format!("{base}/demand_tpy")),
                key_if(m.demand_growth.is_random(), seed, format!("{base}/demand_growth")),
            ));
            for (k, s) in m.sources.iter().enumerate() {
                spare_keys.push(key_if(
                    s.spare_capacity.is_random(),
                    seed,
                    format!("{base}/source/{k}/spare_capacity"),
                ));
            }
        }
        let rate_keys = scenario
            .disruptions
            .iter()
            .map(|d| match &d.arrival {
                Arrival::Poisson(rate) => key_if(
                    rate.is_random(),
                    seed,
                    format!("world/disruption/{}/rate_per_year", d.name),
                ),
                Arrival::Scheduled { .. } => None,
            })
            .collect();
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
            demand_keys,
            spare_keys,
            rate_keys,
            event_keys,
        }
    }

    /// Number of steps per run.
    pub fn steps(&self) -> usize {
        self.steps
    }
}

/// Reusable buffers of one worker: nothing here survives from run to run
/// except capacity.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Availability a_s(t) of each global source, `[source][step]`.
    avail: Vec<f64>,
    /// Sampled spare capacity of each global source.
    spare: Vec<f64>,
    /// The run's recorded series, `[material][variable][step]`.
    pub(crate) series: Vec<f64>,
    /// The run's totals, `[material][metric]`.
    pub(crate) metrics: Vec<f64>,
}

impl Workspace {
    /// Buffers sized for `scenario`.
    pub fn new(scenario: &Scenario, prep: &Prepared) -> Workspace {
        let n_mat = scenario.materials.len();
        Workspace {
            avail: vec![1.0; prep.n_sources * prep.steps],
            spare: vec![0.0; prep.n_sources],
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
            Arrival::Poisson(rate) => {
                let rate = sample_opt(rate, prep.rate_keys[d_idx].as_ref(), run);
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
    draw_events(scenario, prep, run, ws);
    for (g, key) in prep.spare_keys.iter().enumerate() {
        let (m, k) = global_to_local(&prep.source_offset, g);
        let u = &scenario.materials[m].sources[k].spare_capacity;
        ws.spare[g] = sample_opt(u, key.as_ref(), run);
    }
    for (m_idx, mat) in scenario.materials.iter().enumerate() {
        let (dkey, gkey) = &prep.demand_keys[m_idx];
        let demand_tpy = sample_opt(&mat.demand_tpy, dkey.as_ref(), run);
        let growth = sample_opt(&mat.demand_growth, gkey.as_ref(), run).max(-1.0);
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
            // means a gap of exactly zero.
            let gap = (lost - compensation).max(0.0);
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

/// A number drawn once per run from its own stream (or its fixed value).
fn sample_opt(u: &Uncertain, key: Option<&StreamKey>, run: u64) -> f64 {
    match u.fixed_value() {
        Some(x) => x,
        None => u.sample(&mut key.expect("a random number has a stream key").rng(run)),
    }
}

fn global_to_local(offsets: &[usize], g: usize) -> (usize, usize) {
    let m = offsets.partition_point(|&o| o <= g) - 1;
    (m, g - offsets[m])
}
