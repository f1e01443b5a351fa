//! The plain cohort convolution, written as the definition reads: the
//! outflow of step `m` is `sum_c w[c] k[m - c]`. The engine uses the fast
//! grid (`super::grid`); this is what the grid is tested against, and what
//! a reader checks the model with.

use super::grid::reversed_dot;

/// Cohort convolution `out[m] = sum_{c <= m} w[c] k[m - c]` for `m` in
/// `0..out.len()`, with `w` and `k` taken as zero beyond their lengths.
///
/// With `w` the per-step inflow (or cohort material weights) and `k` an
/// outflow kernel this is the outflow series; with `k` a survival kernel it
/// is the stock at the end of each step. Cost is about `n^2 / 2`
/// multiply-adds (leading zeros of `w` are skipped). Does not allocate.
pub fn convolve_into(w: &[f64], k: &[f64], out: &mut [f64]) {
    let start = w.iter().position(|&x| x != 0.0).unwrap_or(w.len());
    for (m, o) in out.iter_mut().enumerate() {
        // Cohorts c in lo..hi, with c >= start, c <= m, c < w.len(), m - c < k.len().
        let lo = start.max((m + 1).saturating_sub(k.len()));
        let hi = (m + 1).min(w.len());
        let mut acc = 0.0;
        if lo < hi {
            let ks = &k[m + 1 - hi..=m - lo];
            for (wc, ka) in w[lo..hi].iter().zip(ks.iter().rev()) {
                acc += wc * ka;
            }
        }
        *o = acc;
    }
}

/// The cohort convolution from step `from` on only:
/// `out[j] = sum_{c <= from + j} w[c] k[from + j - c]`, the same values as
/// [`convolve_into`] gives at steps `from..from + out.len()`, at the cost of
/// those steps alone. Does not allocate.
pub fn convolve_from_into(w: &[f64], k: &[f64], from: usize, out: &mut [f64]) {
    let start = w.iter().position(|&x| x != 0.0).unwrap_or(w.len());
    for (j, o) in out.iter_mut().enumerate() {
        let m = from + j;
        let lo = start.max((m + 1).saturating_sub(k.len()));
        let hi = (m + 1).min(w.len());
        *o = if lo < hi {
            reversed_dot(&w[lo..hi], &k[m + 1 - hi..=m - lo])
        } else {
            0.0
        };
    }
}

/// `sum_i a[i] b[i]` in the four partial sums of [`reversed_dot`].
pub(super) fn forward_dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0; 4];
    let head = a.chunks_exact(4);
    let rest = head.remainder();
    let tail_b = &b[a.len() - rest.len()..];
    for (x, y) in head.zip(b.chunks_exact(4)) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in rest.iter().zip(tail_b) {
        tail += x * y;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Everything that left by the end of step `upto - 1`:
/// `sum_{m < upto} sum_{c <= m} w[c] k[m - c] = sum_{c < upto} w[c] K[upto - 1 - c]`
/// with `K` the cumulative kernel, in O(upto) without the steps' outflows.
pub fn cumulative_outflow(w: &[f64], k: &[f64], upto: usize) -> f64 {
    let upto = upto.min(w.len());
    let mut left = 0.0;
    let mut kcum = 0.0;
    for age in 0..upto {
        // Cohort upto - 1 - age has been in use for ages 0..=age.
        kcum += k.get(age).copied().unwrap_or(0.0);
        left += w[upto - 1 - age] * kcum;
    }
    left
}
