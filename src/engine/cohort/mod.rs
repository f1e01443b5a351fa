//! Dynamic stock model: cohort outflows of products in use.
//!
//! This module owns the product-stock arithmetic of crmsim: turning yearly
//! installation points into a per-step inflow series ([`inflow_per_step`]),
//! the lifetime models and their survival functions ([`Lifetime`]), the
//! discretisation of a lifetime into a per-age outflow kernel under one of
//! three timing conventions ([`InflowTiming`], [`outflow_kernel`]), the
//! matching survival kernel ([`survival_kernel_from_outflow`]), the material
//! weights of each cohort ([`MaterialContent`], [`material_weights_into`]) and
//! the cohort convolution that yields end-of-life flows and stocks
//! ([`reference::convolve_into`], the plain definition). For the engine, which does this in every run, a
//! lifetime is read once per age on a prepared grid ([`AgeGrid`],
//! [`TailPoint`]) and cohorts whose weight is the same all year are
//! convolved a year at a time ([`YearWeights`],
//! [`convolve_grouped_from_into`]): the fast grid, in `grid`, which the
//! tests hold against the plain convolution of [`reference`](mod@reference). Apart from [`inflow_per_step`] and the
//! prepared grid and weights, everything works in caller-owned buffers and
//! never allocates, so it can run once per Monte Carlo run when lifetime
//! parameters are uncertain.
//!
//! Notation: step `m` is a time step of length `dt = 1 / steps_per_year`
//! years; a cohort is the inflow of one step `c`; its age at step `m` is
//! `m - c` steps. Because the fraction of a cohort leaving depends only on
//! its age, the outflow at step `m` is the convolution
//! `out(m) = sum_c inflow(c) k[m - c]` and the stock in use at the end of
//! step `m` is `stock(m) = sum_c inflow(c) s[m - c]`, with
//! `s[a] = 1 - sum_{j <= a} k[j]`, so that stock equals cumulative inflow
//! minus cumulative outflow up to rounding.

mod grid;
pub mod reference;

use crate::scenario::InflowTiming;
use libm::erfc;

pub use grid::{
    convolve_grouped_from_into, convolve_reversed_from_into, cumulative_outflow_from_points,
    kernel_from_points, window_kernel_from_points, AgeGrid, YearWeights,
};

/// Lifetime distribution of one product unit, in years.
///
/// Parameters are assumed validated (all strictly positive and finite); no
/// input makes these functions panic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lifetime {
    /// Weibull: `sf(a) = exp(-(a / scale)^shape)` for `a > 0`.
    Weibull {
        /// Shape `k` (> 0); `k > 1` means wear-out.
        shape: f64,
        /// Scale `l` in years (> 0).
        scale: f64,
    },
    /// Lognormal, parameterised by the mean and standard deviation of the
    /// lifetime itself (not of its logarithm): `sigma^2 = ln(1 + sd^2/mean^2)`,
    /// `mu = ln(mean) - sigma^2 / 2`, `sf(a) = 1 - Phi((ln a - mu) / sigma)`
    /// for `a > 0` and 1 for `a <= 0`. (ODYM's `DynamicStockModel` uses
    /// `ln(1 + mean^2/sd^2)` instead, so the two agree only when `mean == sd`.)
    LogNormal {
        /// Mean lifetime in years (> 0).
        mean: f64,
        /// Standard deviation of the lifetime in years (> 0).
        sd: f64,
    },
    /// Normal, NOT truncated: `sf(a) = 1 - Phi((a - mean) / sd)` for every
    /// `a`, so `sf(0) < 1`. The probability mass below age 0,
    /// `Phi(-mean / sd)`, is not lost: every timing convention puts it in the
    /// install step (kernel entry `k[0]`), as ODYM does.
    Normal {
        /// Mean lifetime in years (> 0).
        mean: f64,
        /// Standard deviation in years (> 0).
        sd: f64,
    },
    /// Every unit lives exactly `years`: `sf(a) = 1` if `a < years`, else 0.
    Fixed {
        /// Lifetime in years (> 0).
        years: f64,
    },
}

impl Lifetime {
    /// Survival function: probability that a unit is still in use at
    /// `age_years`, i.e. `P(lifetime > age_years)`.
    ///
    /// Normal-family tails use `erfc` directly, so small survival
    /// probabilities keep their relative accuracy.
    pub fn survival(&self, age_years: f64) -> f64 {
        match *self {
            Lifetime::Weibull { shape, scale } => libm::exp(-weibull_u(age_years, shape, scale)),
            Lifetime::LogNormal { mean, sd } => {
                let (mu, sigma) = lognormal_params(mean, sd);
                upper_tail(lognormal_z(log(age_years), mu, sigma))
            }
            Lifetime::Normal { mean, sd } => upper_tail((age_years - mean) / sd),
            Lifetime::Fixed { years } => {
                if age_years < years {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// Reads the distribution at `age_years` from its small side: the
    /// probability of having failed by then while that is at most about
    /// one half, the survival probability after. Keeps relative accuracy
    /// in both tails (near age 0 and far beyond the typical lifetime).
    pub fn tail_point(&self, age_years: f64) -> TailPoint {
        Reader::new(self).point(age_years, None)
    }
}

/// The lifetime distribution at one age, from whichever side is small:
/// `P(lifetime <= age)` before the median, `P(lifetime > age)` after it.
///
/// Differences of two such points give the mass of an age interval without
/// subtracting two numbers close to 1 ([`TailPoint::mass_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TailPoint {
    /// Whether `value` is `P(lifetime <= age)` (else `P(lifetime > age)`).
    lower: bool,
    value: f64,
}

impl TailPoint {
    /// From the failed side: `value = P(lifetime <= age)`.
    fn failed(value: f64) -> TailPoint {
        TailPoint { lower: true, value }
    }

    /// From the survival side: `value = P(lifetime > age)`.
    fn surviving(value: f64) -> TailPoint {
        TailPoint {
            lower: false,
            value,
        }
    }

    /// `P(lifetime <= age)`.
    pub fn failed_by(self) -> f64 {
        if self.lower {
            self.value
        } else {
            1.0 - self.value
        }
    }

    /// `P(age_self < lifetime <= age_later)` for a later point `later`,
    /// from the small sides (clamped at 0 against rounding).
    pub fn mass_to(self, later: TailPoint) -> f64 {
        let (lo, hi) = (self.value, later.value);
        let mass = match (self.lower, later.lower) {
            (true, true) => hi - lo,
            (false, false) => lo - hi,
            (true, false) => 1.0 - lo - hi,
            // Not reached for ordered ages (both quantities are monotone).
            (false, true) => hi - (1.0 - lo),
        };
        mass.max(0.0)
    }
}

/// A lifetime with the constants of its distribution worked out once.
#[derive(Debug, Clone, Copy)]
enum Reader {
    Weibull { shape: f64, scale: f64 },
    Normal { mu: f64, sigma: f64, log_age: bool },
    Fixed { years: f64 },
}

impl Reader {
    fn new(lifetime: &Lifetime) -> Reader {
        match *lifetime {
            Lifetime::Weibull { shape, scale } => Reader::Weibull { shape, scale },
            Lifetime::LogNormal { mean, sd } => {
                let (mu, sigma) = lognormal_params(mean, sd);
                Reader::Normal {
                    mu,
                    sigma,
                    log_age: true,
                }
            }
            Lifetime::Normal { mean, sd } => Reader::Normal {
                mu: mean,
                sigma: sd,
                log_age: false,
            },
            Lifetime::Fixed { years } => Reader::Fixed { years },
        }
    }

    /// The point at `age`; `ln_age`, when given, is `age.ln()`.
    #[inline]
    fn point(&self, age: f64, ln_age: Option<f64>) -> TailPoint {
        match *self {
            Reader::Weibull { shape, scale } => weibull_point(weibull_u(age, shape, scale)),
            Reader::Normal {
                mu,
                sigma,
                log_age: true,
            } => normal_point(lognormal_z(ln_age.unwrap_or_else(|| log(age)), mu, sigma)),
            Reader::Normal {
                mu,
                sigma,
                log_age: false,
            } => normal_point((age - mu) / sigma),
            Reader::Fixed { years } => {
                if age < years {
                    TailPoint::failed(0.0)
                } else {
                    TailPoint::surviving(0.0)
                }
            }
        }
    }
}

/// `ln(age)`, `-inf` for ages `<= 0`.
fn log(age: f64) -> f64 {
    if age > 0.0 {
        libm::log(age)
    } else {
        f64::NEG_INFINITY
    }
}

/// The Weibull point for cumulative hazard `u`: `-expm1(-u)` while the
/// survival `exp(-u)` is above one half, `exp(-u)` after.
#[inline]
fn weibull_point(u: f64) -> TailPoint {
    if u < std::f64::consts::LN_2 {
        TailPoint::failed(-libm::expm1(-u))
    } else {
        TailPoint::surviving(libm::exp(-u))
    }
}

/// The standard normal point at `z`: `P(Z <= z)` for `z <= 0`, else `P(Z > z)`.
#[inline]
fn normal_point(z: f64) -> TailPoint {
    if z <= 0.0 {
        TailPoint::failed(lower_tail(z))
    } else {
        TailPoint::surviving(upper_tail(z))
    }
}

/// Age, in steps, at the end of age-step 0 under `timing`.
fn first_age_steps(timing: InflowTiming) -> f64 {
    match timing {
        InflowTiming::Start => 1.0,
        InflowTiming::Middle => 0.5,
        InflowTiming::End => 0.0,
    }
}

/// Fills `out[a]` (for `a` in `0..out.len()`) with the fraction of a cohort
/// that leaves the stock at age `a` steps, for steps of `dt` years and the
/// given timing convention (see [`InflowTiming`] for the formulas).
///
/// The distribution is read once at each age-step's end
/// ([`Lifetime::tail_point`]) and each entry is the probability mass
/// between two consecutive points, from whichever tail of the distribution
/// is small, so entries keep their relative accuracy even when they are
/// tiny. `k[0]` also holds any mass below age 0 (normal lifetimes). The
/// entries sum to the fraction that has left by the end of age-step
/// `out.len() - 1`, which is at most 1.
///
/// When `1 / dt` is (within 1e-9) a whole number `n` of steps per year, ages
/// are computed as `steps / n`, which is exact for whole and half steps, so
/// fixed lifetimes fall in the hand-expected step. Does not allocate.
pub fn outflow_kernel(lifetime: &Lifetime, timing: InflowTiming, dt: f64, out: &mut [f64]) {
    let reader = Reader::new(lifetime);
    let ages = AgeSteps::new(timing, dt);
    let mut prev = None;
    for (a, k) in out.iter_mut().enumerate() {
        let point = reader.point(ages.end_of(a), None);
        *k = kernel_entry(prev, point);
        prev = Some(point);
    }
}

/// Kernel entry from the points at the end of the previous age-step
/// (`None` for age-step 0) and of this one.
#[inline]
fn kernel_entry(prev: Option<TailPoint>, point: TailPoint) -> f64 {
    match prev {
        Some(p) => p.mass_to(point),
        None => point.failed_by(),
    }
}

/// The age, in years, at the end of each age-step.
#[derive(Debug, Clone, Copy)]
struct AgeSteps {
    first: f64,
    /// Whole steps per year, when `1 / dt` is one.
    whole: Option<f64>,
    dt: f64,
}

impl AgeSteps {
    fn new(timing: InflowTiming, dt: f64) -> AgeSteps {
        let per_year = 1.0 / dt;
        let whole = per_year.round();
        let exact = whole >= 1.0 && (per_year - whole).abs() <= 1e-9 * whole;
        AgeSteps {
            first: first_age_steps(timing),
            whole: exact.then_some(whole),
            dt,
        }
    }

    /// Age at the end of age-step `a`.
    fn end_of(&self, a: usize) -> f64 {
        let steps = a as f64 + self.first;
        match self.whole {
            Some(n) => steps / n,
            None => steps * self.dt,
        }
    }
}

/// Fills `out[a]` with the fraction of a cohort still in use at the end of
/// age-step `a`: `s[a] = 1 - sum_{j <= a} k[j]` (clamped to `[0, 1]` against
/// rounding), so that stock = cumulative inflow - cumulative outflow.
///
/// Entries of `out` beyond `k.len()` get the last value (no further outflow
/// is known). Does not allocate.
pub fn survival_kernel_from_outflow(k: &[f64], out: &mut [f64]) {
    let mut left = 0.0;
    for (a, s) in out.iter_mut().enumerate() {
        if let Some(&ka) = k.get(a) {
            left += ka;
        }
        *s = (1.0 - left).clamp(0.0, 1.0);
    }
}

/// Per-step installations from yearly points `(year, units per year)`.
///
/// Step `i` lies in calendar year `first_step_year + i / steps_per_year`
/// (step 0 starts on 1 January of `first_step_year`). The yearly rate of
/// year `y` is 0 before the first point's year, the piecewise-linear
/// interpolation between points (by whole calendar year), and the last
/// point's value from its year on; each of the `steps_per_year` steps of
/// year `y` gets `rate(y) / steps_per_year`. Points need not be sorted; if a
/// year is given twice the later entry wins. Returns `n_steps` zeros if
/// `points` is empty or `steps_per_year` is 0.
///
/// Stock built before `first_step_year` is not represented: to include it,
/// start the series at the first point's year.
pub fn inflow_per_step(
    points: &[(i32, f64)],
    first_step_year: i32,
    steps_per_year: usize,
    n_steps: usize,
) -> Vec<f64> {
    let mut out = vec![0.0; n_steps];
    if points.is_empty() || steps_per_year == 0 {
        return out;
    }
    let mut pts = points.to_vec();
    pts.sort_by_key(|p| p.0);
    // `dedup_by` passes (later, kept): keep the later value of a repeated year.
    pts.dedup_by(|later, kept| {
        if later.0 == kept.0 {
            kept.1 = later.1;
            true
        } else {
            false
        }
    });
    for (i, year_steps) in out.chunks_mut(steps_per_year).enumerate() {
        let year = i64::from(first_step_year) + i as i64;
        let rate = yearly_rate(&pts, year);
        year_steps.fill(rate / steps_per_year as f64);
    }
    out
}

/// Material content per unit of each cohort: `per_unit * (1 + annual_trend)^(y - reference_year)`
/// t per unit for cohorts installed during calendar year `y` (the trend
/// steps once per calendar year, like [`inflow_per_step`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaterialContent {
    /// Content per unit (t per unit) of cohorts installed in `reference_year`.
    pub per_unit: f64,
    /// Relative change of the content per year (e.g. -0.02 for 2 % less a year).
    pub annual_trend: f64,
    /// Calendar year in which the content equals `per_unit`.
    pub reference_year: i32,
}

impl MaterialContent {
    /// Content per unit (t per unit) of cohorts installed during `year`.
    pub fn in_year(&self, year: i32) -> f64 {
        let years = i64::from(year) - i64::from(self.reference_year);
        let years = years.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        self.per_unit * (1.0 + self.annual_trend).powi(years)
    }
}

/// Fills `out[c] = inflow[c] * content(year of step c)` (t per step), the
/// material weight of each cohort, for steps laid out as in
/// [`inflow_per_step`]. Convolving these weights with an outflow kernel
/// ([`convolve_into`](reference::convolve_into)) gives the end-of-life material flow. Entries of `out`
/// beyond `inflow.len()` are set to 0; `steps_per_year = 0` gives all
/// zeros. Does not allocate.
pub fn material_weights_into(
    inflow: &[f64],
    content: &MaterialContent,
    first_step_year: i32,
    steps_per_year: usize,
    out: &mut [f64],
) {
    out.fill(0.0);
    if steps_per_year == 0 {
        return;
    }
    let n = out.len().min(inflow.len());
    for (i, (o, u)) in out[..n]
        .chunks_mut(steps_per_year)
        .zip(inflow[..n].chunks(steps_per_year))
        .enumerate()
    {
        let year = i64::from(first_step_year) + i as i64;
        let year = year.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let c = content.in_year(year);
        for (o, u) in o.iter_mut().zip(u) {
            *o = u * c;
        }
    }
}

/// Yearly rate of `year` from sorted, de-duplicated, non-empty points.
fn yearly_rate(pts: &[(i32, f64)], year: i64) -> f64 {
    let below = pts.partition_point(|p| i64::from(p.0) <= year);
    if below == 0 {
        return 0.0;
    }
    let (y0, v0) = pts[below - 1];
    match pts.get(below) {
        None => v0,
        Some(&(y1, v1)) => {
            let (y0, y1) = (i64::from(y0), i64::from(y1));
            // Weighted form: exact at the given years and for whole-number data.
            (v0 * (y1 - year) as f64 + v1 * (year - y0) as f64) / (y1 - y0) as f64
        }
    }
}

/// Weibull cumulative hazard `(a / scale)^shape`, 0 for `a <= 0`.
fn weibull_u(age: f64, shape: f64, scale: f64) -> f64 {
    if age > 0.0 {
        libm::pow(age / scale, shape)
    } else {
        0.0
    }
}

/// `(mu, sigma)` of the underlying normal for a lognormal lifetime of the
/// given mean and standard deviation.
fn lognormal_params(mean: f64, sd: f64) -> (f64, f64) {
    let cv = sd / mean;
    let sigma2 = if cv < 1e150 {
        libm::log1p(cv * cv)
    } else {
        // ln(1 + cv^2) = 2 ln(cv) to double precision; avoids overflow of cv^2 (or cv).
        2.0 * (libm::log(sd) - libm::log(mean))
    };
    (libm::log(mean) - 0.5 * sigma2, sigma2.sqrt())
}

/// Standardised log-age from `ln_age = ln(age)` (`-inf` for ages `<= 0`,
/// which gives `-inf`).
fn lognormal_z(ln_age: f64, mu: f64, sigma: f64) -> f64 {
    let d = ln_age - mu;
    if sigma > 0.0 {
        d / sigma
    } else if d < 0.0 {
        // Degenerate (sd/mean below ~1e-154): all mass at the mean.
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    }
}

/// Standard normal `P(Z <= z) = erfc(-z / sqrt 2) / 2`.
fn lower_tail(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Standard normal `P(Z > z) = erfc(z / sqrt 2) / 2`.
fn upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests;
