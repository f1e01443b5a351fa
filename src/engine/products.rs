//! Products in use as secondary supply: per material and step, the material
//! reaching end of life, collected, recovered, and held in the stock in use,
//! and the demand added by new installations.
//!
//! What does not change between runs is computed once ([`ProductsPrep`]): the
//! cohorts' material weights, the added demand, and, when a product's lifetime
//! is not uncertain, its whole outflow series, and otherwise the ages at which
//! the lifetime is read with their logarithms and powers ([`AgeGrid`]).
//! Each run then reads the drawn lifetime at every age and convolves the
//! cohorts with it, in reused buffers: year by year
//! ([`cohort::convolve_grouped_from_into`]), since a year's cohorts carry the
//! same weight, or step by step if they do not.

use super::cohort::{self, AgeGrid, Lifetime, MaterialContent, TailPoint, YearWeights};
use super::fast::{Lanes, LANES};
use crate::scenario::{LifetimeSpec, Product, Scenario};

/// Smallest lifetime parameter used: draws are kept above it.
const MIN_LIFETIME_PARAM: f64 = 1e-6;

/// One product, prepared.
#[derive(Debug, Clone)]
struct Item {
    /// Steps of history before the horizon.
    hist: usize,
    /// Cohort weights per step from the first cohort (units x content
    /// factor, content scale 1): `hist + steps` values.
    weights: Vec<f64>,
    /// The weights per year, when they are constant within each year.
    year_weights: Option<YearWeights>,
    /// Cumulative weights, for the stock in use.
    cum_weights: Vec<f64>,
    /// The ages at which the lifetime is read, `hist + steps` of them.
    grid: AgeGrid,
    /// When the lifetime is not uncertain: the outflow (content scale 1)
    /// before the horizon, summed, and in each horizon step.
    fixed_outflow: Option<(f64, Vec<f64>)>,
    /// First horizon step from which material is recovered.
    recycle_from: usize,
}

/// Everything about products that is the same in every run.
#[derive(Debug, Clone)]
pub struct ProductsPrep {
    items: Vec<Item>,
    steps: usize,
    steps_per_year: usize,
    /// Demand added by installations, `[material][step]`.
    extra_demand: Vec<f64>,
    /// Per material, the products' contents of it, in the order of the
    /// products and of their contents.
    contents_of: Vec<Vec<ContentOf>>,
    longest: usize,
}

/// The product outflows of a group of runs side by side (one run per
/// lane), from which [`ProductsPrep::material_flows`] works out each
/// material's flows in each step, and scratch.
#[derive(Debug, Clone)]
pub struct ProductFlows {
    scratch: Scratch,
    /// One run's outflow in the horizon's steps (content scale 1).
    run_outflow: Vec<f64>,
    /// Each lane's outflow of each product in the horizon's steps (content
    /// scale 1), `[product][step]`.
    outflow: Vec<Lanes>,
    /// Units of each product in use at the end of each step (content scale
    /// 1), `[product][step]`.
    units_in_use: Vec<Lanes>,
}

/// A product's content of a material, as the material's flows read it.
#[derive(Debug, Clone)]
struct ContentOf {
    product: usize,
    /// Index of the content within the product.
    content: usize,
    t_per_unit: f64,
    /// First horizon step from which the material is recovered.
    recycle_from: usize,
}

fn lifetime(spec: &LifetimeSpec, v: &[f64]) -> Lifetime {
    let p = |i: usize| v[i].max(MIN_LIFETIME_PARAM);
    match spec {
        LifetimeSpec::Weibull { .. } => Lifetime::Weibull {
            shape: p(0),
            scale: p(1),
        },
        LifetimeSpec::LogNormal { .. } => Lifetime::LogNormal {
            mean: p(0),
            sd: p(1),
        },
        LifetimeSpec::Normal { .. } => Lifetime::Normal {
            mean: p(0),
            sd: p(1),
        },
        LifetimeSpec::Fixed { .. } => Lifetime::Fixed { years: p(0) },
    }
}

/// Buffers for one product's outflow, as long as the longest product.
#[derive(Debug, Clone)]
struct Scratch {
    points: Vec<TailPoint>,
    /// The window kernel, or the kernel when cohorts are convolved step by step.
    kernel: Vec<f64>,
    kernel_rev: Vec<f64>,
}

impl Scratch {
    fn new(n: usize) -> Scratch {
        Scratch {
            points: vec![TailPoint::default(); n],
            kernel: vec![0.0; n],
            kernel_rev: vec![0.0; n],
        }
    }
}

impl Item {
    /// Fills `series` with the outflow (content scale 1) in each horizon
    /// step for lifetime `lt`, and returns all that left before the horizon.
    fn outflow(&self, lt: &Lifetime, spy: usize, s: &mut Scratch, series: &mut [f64]) -> f64 {
        let n = self.weights.len();
        let points = &mut s.points[..n];
        self.grid.read_into(lt, points);
        let k = &mut s.kernel[..n];
        match &self.year_weights {
            Some(yw) => {
                cohort::window_kernel_from_points(points, spy, k);
                cohort::convolve_grouped_from_into(yw, k, self.hist, series);
            }
            None => {
                cohort::kernel_from_points(points, k);
                // Reversed once, the kernel is read forwards (vectorized).
                let k_rev = &mut s.kernel_rev[..n];
                for (r, &x) in k_rev.iter_mut().zip(k.iter().rev()) {
                    *r = x;
                }
                cohort::convolve_reversed_from_into(&self.weights, k_rev, self.hist, series);
            }
        }
        cohort::cumulative_outflow_from_points(&self.weights, points, self.hist)
    }
}

/// The lifetime parameter values of a product that is not uncertain.
fn fixed_params(p: &Product) -> Option<Vec<f64>> {
    p.lifetime
        .params()
        .iter()
        .map(|(_, u)| u.fixed_value())
        .collect()
}

impl ProductsPrep {
    /// Prepares the products of `scenario`.
    pub fn new(scenario: &Scenario) -> ProductsPrep {
        let steps = scenario.steps();
        let spy = scenario.step.per_year() as usize;
        let dt = scenario.step.dt();
        let n_mat = scenario.materials.len();
        let mut extra_demand = vec![0.0; n_mat * steps];
        let mut items = Vec::with_capacity(scenario.products.len());
        for p in &scenario.products {
            let first_year = p.first_year(scenario.start_year);
            let hist = (scenario.start_year - first_year) as usize * spy;
            let n = hist + steps;
            let inflow = cohort::inflow_per_step(&p.inflow, first_year, spy, n);
            let mut weights = vec![0.0; n];
            let content = MaterialContent {
                per_unit: 1.0,
                annual_trend: p.content_trend,
                reference_year: p.content_year,
            };
            cohort::material_weights_into(&inflow, &content, first_year, spy, &mut weights);
            let cum_weights = weights
                .iter()
                .scan(0.0, |acc, w| {
                    *acc += w;
                    Some(*acc)
                })
                .collect();
            for c in &p.contents {
                if p.adds_demand {
                    let row = &mut extra_demand[c.material * steps..(c.material + 1) * steps];
                    for (d, w) in row.iter_mut().zip(&weights[hist..]) {
                        *d += c.t_per_unit * w;
                    }
                }
            }
            // A Weibull shape that is not uncertain: its powers of the ages
            // are worked out once.
            let weibull_shape = match &p.lifetime {
                LifetimeSpec::Weibull { shape, .. } => shape.fixed_value(),
                _ => None,
            }
            .map(|v| v.max(MIN_LIFETIME_PARAM));
            let recycle_from = (i64::from(p.recycling_from_year - scenario.start_year) * spy as i64)
                .clamp(0, steps as i64) as usize;
            let mut item = Item {
                hist,
                year_weights: YearWeights::new(&weights, spy),
                weights,
                cum_weights,
                grid: AgeGrid::new(p.timing, dt, n, weibull_shape),
                fixed_outflow: None,
                recycle_from,
            };
            item.fixed_outflow = fixed_params(p).map(|v| {
                let mut out = vec![0.0; steps];
                let before = item.outflow(
                    &lifetime(&p.lifetime, &v),
                    spy,
                    &mut Scratch::new(n),
                    &mut out,
                );
                (before, out)
            });
            items.push(item);
        }
        let longest = items.iter().map(|i| i.weights.len()).max().unwrap_or(0);
        let mut contents_of = vec![Vec::new(); n_mat];
        for (p_idx, (p, item)) in scenario.products.iter().zip(&items).enumerate() {
            for (k, c) in p.contents.iter().enumerate() {
                contents_of[c.material].push(ContentOf {
                    product: p_idx,
                    content: k,
                    t_per_unit: c.t_per_unit,
                    recycle_from: item.recycle_from,
                });
            }
        }
        ProductsPrep {
            contents_of,
            items,
            steps,
            steps_per_year: spy,
            extra_demand,
            longest,
        }
    }

    /// Demand added by installations of material `m` in step `t`.
    #[inline]
    pub fn extra_demand(&self, m: usize, t: usize) -> f64 {
        self.extra_demand[m * self.steps + t]
    }

    /// Whether any product contains material `m`.
    pub fn touches(&self, m: usize) -> bool {
        !self.contents_of[m].is_empty()
    }

    /// Empty buffers for [`Self::flows`].
    pub fn buffers(&self) -> ProductFlows {
        let cells = self.items.len() * self.steps;
        let zero = Lanes::splat(0.0);
        ProductFlows {
            scratch: Scratch::new(self.longest),
            run_outflow: vec![0.0; self.steps],
            outflow: vec![zero; cells],
            units_in_use: vec![zero; cells],
        }
    }

    /// The product outflows of `n` runs side by side (1 to [`LANES`]), run
    /// `l` in lane `l`, for [`Self::material_flows`]. `life(l)[p]` holds run
    /// `l`'s lifetime parameters of product p, as drawn (or fixed). Lanes
    /// from `n` on have no outflow.
    ///
    /// Each run's outflow is worked out alone (its lifetime is its own);
    /// the units in use follow for all lanes at once, each lane with the
    /// operations, in the order, of a run computed alone.
    pub fn flows<'a>(
        &self,
        scenario: &Scenario,
        n: usize,
        life: impl Fn(usize) -> &'a [[f64; 2]],
        out: &mut ProductFlows,
    ) {
        assert!((1..=LANES).contains(&n), "1 to {LANES} runs at a time");
        let steps = self.steps;
        let zero = Lanes::splat(0.0);
        for (p_idx, (p, item)) in scenario.products.iter().zip(&self.items).enumerate() {
            // Outflow in the horizon's steps, and all that left before it.
            let outflow = &mut out.outflow[p_idx * steps..][..steps];
            let mut left = zero;
            match &item.fixed_outflow {
                Some((before, series)) => {
                    for (o, &x) in outflow.iter_mut().zip(series) {
                        *o = Lanes::splat(x);
                    }
                    left = Lanes::splat(*before);
                }
                None => {
                    for lane in 0..LANES {
                        if lane >= n {
                            for o in outflow.iter_mut() {
                                o.0[lane] = 0.0;
                            }
                            left.0[lane] = 0.0;
                            continue;
                        }
                        let lt = lifetime(&p.lifetime, &life(lane)[p_idx]);
                        let series = &mut out.run_outflow[..steps];
                        let before =
                            item.outflow(&lt, self.steps_per_year, &mut out.scratch, series);
                        for (o, &x) in outflow.iter_mut().zip(series.iter()) {
                            o.0[lane] = x;
                        }
                        left.0[lane] = before;
                    }
                }
            }
            // Units in use = cumulative weights - cumulative outflow, from
            // the first cohort on: a running sum, once per product.
            let units = &mut out.units_in_use[p_idx * steps..][..steps];
            let cum = &item.cum_weights[item.hist..];
            for ((u, &out_t), &cum_t) in units.iter_mut().zip(outflow.iter()).zip(cum) {
                left += out_t;
                *u = (cum_t - left).max(zero);
            }
        }
    }

    /// Material `m`'s flows in step `t` from the products of the runs whose
    /// outflows [`Self::flows`] left in `flows`: the secondary supply
    /// recovered, the material in the stock in use, reaching end of life,
    /// and collected. `collection[p]` holds the runs' collection rates of
    /// product p and `recovery[p][k]` their recovery of its k-th content.
    /// Each sums the products' contents of `m` in their order, from zero.
    #[inline(always)]
    pub fn material_flows(
        &self,
        m: usize,
        t: usize,
        flows: &ProductFlows,
        collection: &[Lanes],
        recovery: &[Vec<Lanes>],
    ) -> (Lanes, Lanes, Lanes, Lanes) {
        let zero = Lanes::splat(0.0);
        let (mut secondary, mut in_use, mut eol, mut collected) = (zero, zero, zero, zero);
        for c in &self.contents_of[m] {
            let i = c.product * self.steps + t;
            let out_t = flows.outflow[i];
            let collect = collection[c.product];
            let x = c.t_per_unit * out_t;
            eol += x;
            collected += x * collect;
            if t >= c.recycle_from {
                let recover = recovery[c.product][c.content];
                secondary += c.t_per_unit * out_t * collect * recover;
            }
            in_use += c.t_per_unit * flows.units_in_use[i];
        }
        (secondary, in_use, eol, collected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::InflowTiming;

    fn item(weights: Vec<f64>, hist: usize, spy: usize, shape: Option<f64>) -> Item {
        let cum_weights = weights
            .iter()
            .scan(0.0, |acc, w| {
                *acc += w;
                Some(*acc)
            })
            .collect();
        let n = weights.len();
        Item {
            hist,
            year_weights: YearWeights::new(&weights, spy),
            grid: AgeGrid::new(InflowTiming::Middle, 1.0 / spy as f64, n, shape),
            weights,
            cum_weights,
            fixed_outflow: None,
            recycle_from: 0,
        }
    }

    fn assert_close(a: &[f64], b: &[f64], rel: f64) {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= rel * y.abs(), "step {i}: {x:e} vs {y:e}");
        }
    }

    fn step_by_step(it: &Item, lt: &Lifetime, steps: usize) -> (f64, Vec<f64>) {
        let n = it.weights.len();
        let mut k = vec![0.0; n];
        cohort::outflow_kernel(lt, InflowTiming::Middle, 1.0 / 12.0, &mut k);
        let mut out = vec![0.0; steps];
        cohort::reference::convolve_from_into(&it.weights, &k, it.hist, &mut out);
        (
            cohort::reference::cumulative_outflow(&it.weights, &k, it.hist),
            out,
        )
    }

    // A product's outflow, grouped by year or (weights not constant within
    // years) step by step, matches the step-by-step convolution of
    // outflow_kernel's kernel.
    #[test]
    fn outflow_by_year_and_step_by_step_agree() {
        let (spy, hist, steps) = (12, 360, 240);
        let inflow = cohort::inflow_per_step(&[(1998, 5.0), (2025, 50.0)], 1995, spy, hist + steps);
        let lifetimes = [
            Lifetime::Weibull {
                shape: 2.0,
                scale: 7.0,
            },
            Lifetime::LogNormal {
                mean: 11.0,
                sd: 3.0,
            },
        ];
        for lt in &lifetimes {
            let shape = match *lt {
                Lifetime::Weibull { shape, .. } => Some(shape),
                _ => None,
            };
            let grouped = item(inflow.clone(), hist, spy, shape);
            assert!(grouped.year_weights.is_some());
            let mut uneven = inflow.clone();
            uneven[400] *= 1.5; // one month of 2028 differs from the others
            let uneven = item(uneven, hist, spy, shape);
            assert!(uneven.year_weights.is_none());
            for it in [&grouped, &uneven] {
                let mut s = Scratch::new(hist + steps);
                let mut out = vec![f64::NAN; steps];
                let before = it.outflow(lt, spy, &mut s, &mut out);
                let (before_ref, out_ref) = step_by_step(it, lt, steps);
                assert_close(&out, &out_ref, 1e-12);
                assert_close(&[before], &[before_ref], 1e-12);
            }
        }
    }
}
