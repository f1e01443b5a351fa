//! The fast grid: a lifetime read once per age on a prepared grid of ages
//! ([`AgeGrid`], [`TailPoint`]), [`LANES`] ages at a time, and cohorts whose
//! weight is the same all year convolved a year at a time
//! ([`YearWeights`], [`convolve_grouped_from_into`]). The same numbers, to
//! the bit or within the stated tolerance, as the plain definitions in
//! [`super::reference`] (see the module's tests).

use super::reference::forward_dot;
use super::{kernel_entry, log, AgeSteps, Lifetime, Reader, TailPoint};
use crate::engine::fast::lane_math;
use crate::engine::fast::{Lanes, Mask, LANES};
use crate::scenario::InflowTiming;

/// The ages at the end of each age-step of a kernel, with what does not
/// depend on the lifetime's parameters worked out once: `ln(age)`, and,
/// for a Weibull lifetime whose shape is known in advance, `age^shape`.
/// Reading a lifetime on the grid ([`AgeGrid::read_into`]) then costs one
/// exponential or `erfc` per age.
#[derive(Debug, Clone)]
pub struct AgeGrid {
    ages: Vec<f64>,
    ln_ages: Vec<f64>,
    /// A Weibull shape and `age^shape` at every age, when all are normal
    /// numbers (ages 0 excepted), so that `(age / scale)^shape` can be
    /// taken as `age^shape * scale^-shape`.
    weibull_pow: Option<(f64, Vec<f64>)>,
}

impl AgeGrid {
    /// The grid of `n` age-steps for `timing` and steps of `dt` years (the
    /// ages of [`outflow_kernel`](super::outflow_kernel)), with powers for a Weibull `shape` if given.
    pub fn new(timing: InflowTiming, dt: f64, n: usize, weibull_shape: Option<f64>) -> AgeGrid {
        let steps = AgeSteps::new(timing, dt);
        let ages: Vec<f64> = (0..n).map(|a| steps.end_of(a)).collect();
        let ln_ages = ages.iter().map(|&x| log(x)).collect();
        let weibull_pow = weibull_shape.and_then(|shape| {
            let pows: Vec<f64> = ages.iter().map(|&x| libm::pow(x, shape)).collect();
            let usable = ages
                .iter()
                .zip(&pows)
                .all(|(&x, &p)| if x > 0.0 { p.is_normal() } else { p == 0.0 });
            usable.then_some((shape, pows))
        });
        AgeGrid {
            ages,
            ln_ages,
            weibull_pow,
        }
    }

    /// Number of ages.
    pub fn len(&self) -> usize {
        self.ages.len()
    }

    /// Whether the grid has no ages.
    pub fn is_empty(&self) -> bool {
        self.ages.is_empty()
    }

    /// Fills `out[a]` with `lifetime` read at the end of age-step `a`
    /// ([`Lifetime::tail_point`]), for `a` in `0..out.len()` (at most
    /// [`Self::len`]). Weibull, lognormal and normal lifetimes are read
    /// [`LANES`] ages at a time, with the same bits as one at a time. Does
    /// not allocate.
    pub fn read_into(&self, lifetime: &Lifetime, out: &mut [TailPoint]) {
        let n = out.len();
        let reader = Reader::new(lifetime);
        match reader {
            Reader::Weibull { shape, scale } => {
                // (age / scale)^shape = age^shape * scale^-shape, with the
                // first factor from the table: one exponential per age.
                let c = libm::pow(scale, -shape);
                if let Some((s, pows)) = &self.weibull_pow {
                    if *s == shape && c.is_normal() {
                        weibull_points_into(&pows[..n], c, out);
                        return;
                    }
                }
                for (p, &x) in out.iter_mut().zip(&self.ages[..n]) {
                    *p = reader.point(x, None);
                }
            }
            Reader::Normal { mu, sigma, log_age } if sigma > 0.0 => {
                let xs = if log_age {
                    &self.ln_ages[..n]
                } else {
                    &self.ages[..n]
                };
                // The z of lognormal_z, or of a normal lifetime.
                normal_points_into(xs, mu, sigma, out);
            }
            _ => {
                for ((p, &x), &ln_x) in out.iter_mut().zip(&self.ages[..n]).zip(&self.ln_ages) {
                    *p = reader.point(x, Some(ln_x));
                }
            }
        }
    }
}

/// Fills `out[i]` with the point of `xs[i]`, [`LANES`] at a time through
/// `points`, which gives each lane's point and whether it is from the
/// failed side. The last, partial group repeats its last value in the
/// lanes beyond the end, which are not written.
#[inline(always)]
fn by_lanes(xs: &[f64], out: &mut [TailPoint], points: impl Fn(Lanes) -> (Mask, Lanes)) {
    for (x, p) in xs.chunks(LANES).zip(out.chunks_mut(LANES)) {
        let last = x[x.len() - 1];
        let x = Lanes::from_fn(|l| x.get(l).copied().unwrap_or(last));
        let (lower, value) = points(x);
        for (l, p) in p.iter_mut().enumerate() {
            *p = TailPoint {
                lower: lower.get(l),
                value: value.0[l],
            };
        }
    }
}

crate::simd::dispatched! {
/// `out[i]` = [`weibull_point`] of `pows[i] * c`. Compiled for AVX-512,
/// AVX2 and the x86-64 baseline, with the same bits.
fn weibull_points_into(pows: &[f64], c: f64, out: &mut [TailPoint]) {
    by_lanes(pows, out, |x| weibull_points(x * c));
}
}

crate::simd::dispatched! {
/// `out[i]` = [`normal_point`] of `(xs[i] - mu) / sigma`. Compiled for
/// AVX-512, AVX2 and the x86-64 baseline, with the same bits.
fn normal_points_into(xs: &[f64], mu: f64, sigma: f64, out: &mut [TailPoint]) {
    by_lanes(xs, out, |x| normal_points((x - mu) / sigma));
}
}

/// Fills `out[a]` with the outflow kernel from the points `p` read on a
/// grid ([`AgeGrid::read_into`]): `out[0] = P(lifetime <= x_0)`,
/// `out[a] = P(x_{a-1} < lifetime <= x_a)`, the values of
/// [`outflow_kernel`](super::outflow_kernel) on the same ages. `out` and `p` have the same length.
pub fn kernel_from_points(p: &[TailPoint], out: &mut [f64]) {
    debug_assert_eq!(p.len(), out.len());
    let mut prev = None;
    for (k, &point) in out.iter_mut().zip(p) {
        *k = kernel_entry(prev, point);
        prev = Some(point);
    }
}

/// Fills `out[j]` with the kernel summed over a window of
/// `steps_per_year` age-steps ending at `j`, `sum k[i]` for `i` in
/// `max(0, j + 1 - steps_per_year)..=j`, read directly as the mass between
/// two points (`P(x_{j - spy} < lifetime <= x_j)`, or `P(lifetime <= x_j)`
/// for `j < spy`) rather than summed, so that it keeps its relative
/// accuracy. This is the kernel that [`convolve_grouped_from_into`] needs.
/// `out` and `p` have the same length.
pub fn window_kernel_from_points(p: &[TailPoint], steps_per_year: usize, out: &mut [f64]) {
    debug_assert_eq!(p.len(), out.len());
    let head = steps_per_year.min(p.len());
    for (g, point) in out[..head].iter_mut().zip(&p[..head]) {
        *g = point.failed_by();
    }
    for ((g, &hi), &lo) in out[head..].iter_mut().zip(&p[head..]).zip(p) {
        *g = lo.mass_to(hi);
    }
}

/// Everything that left by the end of step `upto - 1`, as
/// [`cumulative_outflow`](super::reference::cumulative_outflow) with the cumulative kernel read from the points
/// (`K[a] = P(lifetime <= x_a)`): `sum_{c < upto} w[c] K[upto - 1 - c]`.
/// `p` must hold at least `min(upto, w.len())` points.
pub fn cumulative_outflow_from_points(w: &[f64], p: &[TailPoint], upto: usize) -> f64 {
    let upto = upto.min(w.len());
    let mut left = 0.0;
    for (&wc, point) in w[..upto].iter().rev().zip(p) {
        left += wc * point.failed_by();
    }
    left
}

/// Cohort weights that are the same in every step of a calendar year, kept
/// as one value per year, as [`material_weights_into`](super::material_weights_into) makes them from
/// [`inflow_per_step`](super::inflow_per_step) (installations spread evenly over a year's steps,
/// content changing once a year).
#[derive(Debug, Clone, PartialEq)]
pub struct YearWeights {
    steps_per_year: usize,
    per_year: Vec<f64>,
}

impl YearWeights {
    /// Groups per-step weights `w` by blocks of `steps_per_year` steps from
    /// step 0. `None` unless every block holds one value exactly (to the
    /// bit) and `w.len()` is a whole number of blocks, `steps_per_year > 0`:
    /// then the cohort convolution must be done step by step.
    pub fn new(w: &[f64], steps_per_year: usize) -> Option<YearWeights> {
        if steps_per_year == 0 || w.len() % steps_per_year != 0 {
            return None;
        }
        w.chunks_exact(steps_per_year)
            .map(|block| {
                let v = block[0];
                block
                    .iter()
                    .all(|x| x.to_bits() == v.to_bits())
                    .then_some(v)
            })
            .collect::<Option<Vec<f64>>>()
            .map(|per_year| YearWeights {
                steps_per_year,
                per_year,
            })
    }
}

crate::simd::dispatched! {
/// The cohort convolution of [`convolve_from_into`](super::reference::convolve_from_into) for weights constant
/// within each year: `out[j] = sum_y W_y G[from + j - spy y]`, over the years
/// `y` whose first step is at or before step `from + j`, with `W_y` year
/// `y`'s weight per step and `G` the window kernel of
/// [`window_kernel_from_points`]. Each year of cohorts costs one
/// multiply-add per output step instead of `steps_per_year`.
///
/// Equals `convolve_from_into(w, k, from, out)` to rounding when
/// `window[j] = sum k[max(0, j + 1 - spy)..=j]` and `k` is at least
/// `from + out.len()` long; `window` must be that long too. Sums run over
/// years in increasing order, a fixed order. Does not allocate. Compiled
/// for AVX-512, AVX2 and the x86-64 baseline (each output's multiply-adds
/// are the same operations in the same order, so the same bits).
pub fn convolve_grouped_from_into(w: &YearWeights, window: &[f64], from: usize, out: &mut [f64]) {
    let end = from + out.len();
    assert!(window.len() >= end, "the window kernel covers every step");
    out.fill(0.0);
    for (y, &wy) in w.per_year.iter().enumerate() {
        let first = y * w.steps_per_year;
        if first >= end {
            break;
        }
        if wy == 0.0 {
            continue;
        }
        // Step m >= first meets this year's cohorts through G[m - first].
        let m0 = from.max(first);
        for (o, &g) in out[m0 - from..]
            .iter_mut()
            .zip(&window[m0 - first..end - first])
        {
            *o += wy * g;
        }
    }
}
}

/// [`convolve_from_into`](super::reference::convolve_from_into) with the kernel given reversed
/// (`k_rev[i] = k[k_rev.len() - 1 - i]`): the same terms in the same order,
/// so the same results to the bit, but read forwards, which vectorizes.
pub fn convolve_reversed_from_into(w: &[f64], k_rev: &[f64], from: usize, out: &mut [f64]) {
    let n = k_rev.len();
    let start = w.iter().position(|&x| x != 0.0).unwrap_or(w.len());
    for (j, o) in out.iter_mut().enumerate() {
        let m = from + j;
        let lo = start.max((m + 1).saturating_sub(n));
        let hi = (m + 1).min(w.len());
        *o = if lo < hi {
            // Cohort c meets kernel age m - c, at k_rev[c + n - 1 - m].
            let shift = n - 1 - m;
            forward_dot(&w[lo..hi], &k_rev[lo + shift..hi + shift])
        } else {
            0.0
        };
    }
}

/// `sum_i a[i] b[n - 1 - i]`, in four interleaved partial sums (a fixed
/// order, so the result is the same every time) for speed.
pub(super) fn reversed_dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0; 4];
    let head = a.chunks_exact(4);
    let rest = head.remainder();
    for (x, y) in head.zip(b.rchunks_exact(4)) {
        acc[0] += x[0] * y[3];
        acc[1] += x[1] * y[2];
        acc[2] += x[2] * y[1];
        acc[3] += x[3] * y[0];
    }
    let mut tail = 0.0;
    let n = rest.len();
    for (i, x) in rest.iter().enumerate() {
        tail += x * b[n - 1 - i];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// [`weibull_point`] lane by lane, for cumulative hazards `u`.
#[inline(always)]
fn weibull_points(u: Lanes) -> (Mask, Lanes) {
    let lower = u.lt(Lanes::splat(std::f64::consts::LN_2));
    let minus_u = -u;
    // Ages are in increasing order: a group of lanes is mostly on one side.
    // (No closure for the failed side: a closure is compiled on its own,
    // for the baseline, not for the caller's AVX-512 or AVX2.)
    let value = if lower.all() {
        -lane_math::exp_m1(minus_u)
    } else if !lower.any() {
        lane_math::exp(minus_u)
    } else {
        Lanes::select(lower, -lane_math::exp_m1(minus_u), lane_math::exp(minus_u))
    };
    (lower, value)
}

/// [`normal_point`] lane by lane: `P(Z <= z)` where `z <= 0`, else
/// `P(Z > z)`, both `erfc(|z| / sqrt 2) / 2`.
#[inline(always)]
fn normal_points(z: Lanes) -> (Mask, Lanes) {
    let lower = z.le(Lanes::splat(0.0));
    let away = Lanes::select(lower, -z, z) / std::f64::consts::SQRT_2;
    (lower, 0.5 * lane_math::erfc(away))
}
