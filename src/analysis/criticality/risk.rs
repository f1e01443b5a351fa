//! The simulation's risk measures per material and year, each with its
//! Monte Carlo interval (95 %), for the ranking per year of the horizon:
//!
//! - expected welfare loss per euro of use: the ratio of the mean welfare
//!   loss to the mean value of demand at the base price, with the
//!   delta-method (ratio estimator) interval, Student's t with n - 1
//!   degrees of freedom;
//! - the p95 over runs of the year's peak price multiple, with the
//!   distribution-free interval between two order statistics whose ranks
//!   come from the binomial distribution (no bootstrap);
//! - the probability of a shortfall in the year, with the Wilson score
//!   interval.
//!
//! Every sum runs over the runs in run order, so the results do not depend
//! on the number of threads that simulated them.

use crate::analysis::compare::t975;
use crate::stats::quantile_sorted;
use statrs::distribution::{Binomial, DiscreteCDF};

/// The standard normal's 97.5 % quantile: the two-sided 95 % interval.
const Z975: f64 = 1.959_963_984_540_054;

/// An estimate with its 95 % Monte Carlo interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The estimate.
    pub estimate: f64,
    /// Lower and upper bound; `None` when the runs cannot give one (a ratio
    /// from a single run).
    pub bounds: Option<(f64, f64)>,
}

/// One material's risk measures in one simulated year.
#[derive(Debug, Clone, PartialEq)]
pub struct YearRisk {
    /// Calendar year.
    pub year: i32,
    /// Mean over runs of the year's welfare loss, EUR (discounted as
    /// `welfare_loss_eur` when the scenario sets a discount rate).
    pub welfare_loss_eur_mean: f64,
    /// Mean over runs of the year's demand at the base price, EUR
    /// (discounted alike).
    pub demand_value_eur_mean: f64,
    /// Welfare loss per euro of use: `welfare_loss_eur_mean /
    /// demand_value_eur_mean`; `None` when no run has demand in the year.
    pub welfare_loss_per_eur: Option<Interval>,
    /// p95 over runs of the year's peak price multiple (the region's price
    /// over the base price, largest over the year's steps, at least 1).
    pub peak_price_p95: Interval,
    /// Share of runs with a shortfall in some step of the year.
    pub p_shortfall: Interval,
}

/// Values per run and year that [`YearRisk`] is reduced from.
pub const RISK_PER_YEAR: usize = 4;

/// The per-run values of one year, as the observer writes them: welfare
/// loss (EUR), demand at the base price (EUR), peak price multiple, and 1
/// with a shortfall (else 0).
pub type RunYear = [f64; RISK_PER_YEAR];

/// Ranks (1-based) of the order statistics that bound the `q`-quantile of
/// `n` runs with confidence at least 95 %, where the runs allow it: the
/// largest `l` with P(B <= l - 1) <= 2.5 % and the smallest `u` with
/// P(B <= u - 1) >= 97.5 %, B ~ Binomial(n, q) the number of runs below the
/// quantile. Clamped to [1, n] when there are too few runs (then the
/// coverage is below 95 %: fewer than 72 runs for the p95's upper bound).
pub fn quantile_ranks(n: usize, q: f64) -> (usize, usize) {
    if n == 0 {
        return (0, 0);
    }
    let b = Binomial::new(q, n as u64).expect("q is a probability");
    let cdf = |k: usize| b.cdf(k as u64);
    // The first k in [lo, hi) where `pred` holds (pred is monotone), or hi.
    let search = |mut lo: usize, mut hi: usize, pred: &dyn Fn(usize) -> bool| {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    };
    // l - 1 is the last k with cdf(k) <= 0.025: one before the first k with
    // cdf(k) > 0.025.
    let first_above = search(0, n + 1, &|k| cdf(k) > 0.025);
    let l = first_above.clamp(1, n);
    let first_reaching = search(0, n + 1, &|k| cdf(k) >= 0.975);
    let u = (first_reaching + 1).clamp(1, n);
    (l, u)
}

/// The ratio of means sum(w) / sum(v) with its 95 % interval by the delta
/// method: standard error sqrt(sum (w_r - R v_r)^2 / (n (n - 1))) / mean(v),
/// times Student's t quantile with n - 1 degrees of freedom. `None` when
/// sum(v) is 0; no bounds from one run.
pub fn ratio_of_means(w: &[f64], v: &[f64]) -> Option<Interval> {
    let n = w.len();
    let (sw, sv) = (w.iter().sum::<f64>(), v.iter().sum::<f64>());
    if n == 0 || sv <= 0.0 {
        return None;
    }
    let r = sw / sv;
    let bounds = (n > 1).then(|| {
        let nf = n as f64;
        let ss: f64 = w.iter().zip(v).map(|(a, b)| (a - r * b).powi(2)).sum();
        let se = (ss / (nf * (nf - 1.0))).sqrt() / (sv / nf);
        let h = t975(nf - 1.0) * se;
        (r - h, r + h)
    });
    Some(Interval {
        estimate: r,
        bounds,
    })
}

/// The p95 of `values` (linear interpolation between order statistics, as
/// every percentile of crmsim) with the order statistics of
/// [`quantile_ranks`] as its interval.
pub fn p95_interval(values: &[f64]) -> Interval {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (l, u) = quantile_ranks(sorted.len(), 0.95);
    Interval {
        estimate: quantile_sorted(&sorted, 0.95),
        bounds: (!sorted.is_empty()).then(|| (sorted[l - 1], sorted[u - 1])),
    }
}

/// The share of `hits` out of `n` with the Wilson score interval at 95 %:
/// (p + z^2/2n -+ z sqrt(p (1 - p)/n + z^2/4n^2)) / (1 + z^2/n).
pub fn wilson(hits: usize, n: usize) -> Interval {
    if n == 0 {
        return Interval {
            estimate: 0.0,
            bounds: None,
        };
    }
    let nf = n as f64;
    let p = hits as f64 / nf;
    let z2 = Z975 * Z975;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = Z975 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    Interval {
        estimate: p,
        bounds: Some(((centre - half).max(0.0), (centre + half).min(1.0))),
    }
}

/// The risk measures of `year` from each run's values of that year, in run
/// order.
pub fn year_risk(year: i32, runs: &[RunYear]) -> YearRisk {
    let n = runs.len();
    let welfare: Vec<f64> = runs.iter().map(|r| r[0]).collect();
    let value: Vec<f64> = runs.iter().map(|r| r[1]).collect();
    let peak: Vec<f64> = runs.iter().map(|r| r[2]).collect();
    let short = runs.iter().filter(|r| r[3] > 0.0).count();
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / n.max(1) as f64;
    YearRisk {
        year,
        welfare_loss_eur_mean: mean(&welfare),
        demand_value_eur_mean: mean(&value),
        welfare_loss_per_eur: ratio_of_means(&welfare, &value),
        peak_price_p95: p95_interval(&peak),
        p_shortfall: wilson(short, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Wilson at 95 %, by hand: 3 of 3 gives (3 / (3 + z^2), 1) = (0.43850, 1); 0 of 10 gives
    /// (0, z^2/(n + z^2)) = (0, 0.27753); 1 of 2 gives (0.09453, 0.90547).
    #[test]
    fn wilson_by_hand() {
        let w = wilson(3, 3);
        let (lo, hi) = w.bounds.unwrap();
        assert_eq!(w.estimate, 1.0);
        assert!(close(lo, 0.438_50, 1e-5) && hi == 1.0, "{w:?}");
        let (lo, hi) = wilson(0, 10).bounds.unwrap();
        assert!(lo == 0.0 && close(hi, 0.277_53, 1e-5), "{hi}");
        let (lo, hi) = wilson(1, 2).bounds.unwrap();
        assert!(close(lo, 0.094_53, 1e-5) && close(hi, 0.905_47, 1e-5));
    }

    /// n = 2000, q = 0.95: B has mean 1900 and sd sqrt(95) = 9.75, so the
    /// normal approximation puts the ranks near 1900 -+ 1.96 x 9.75, 1881
    /// and 1919 (+1 for the upper order statistic: 1920); the exact binomial
    /// gives 1880 and 1920, with coverage at least 95 %. A few runs: of 3,
    /// P(B <= 1) = 0.00725, so the second is a lower bound and the largest
    /// the (clamped) upper one; 72 runs are the fewest whose largest value
    /// is an upper bound (1 - 0.95^72 = 0.9751).
    #[test]
    fn order_statistic_ranks_cover_the_quantile() {
        let (l, u) = quantile_ranks(2000, 0.95);
        assert_eq!((l, u), (1880, 1920));
        let b = Binomial::new(0.95, 2000).unwrap();
        let coverage = b.cdf(u as u64 - 1) - b.cdf(l as u64 - 1);
        assert!(coverage >= 0.95, "{coverage}");
        assert_eq!(quantile_ranks(3, 0.95), (2, 3));
        assert_eq!(quantile_ranks(72, 0.95).1, 72);
        assert_eq!(quantile_ranks(1, 0.95), (1, 1));
    }

    /// w = (1, 3), v = (10, 10): R = 0.2, residuals -1 and 1, se =
    /// sqrt(2 / 2) / 10 = 0.1, t(1) = 12.7062: 0.2 -+ 1.27062.
    #[test]
    fn ratio_of_means_by_hand() {
        let r = ratio_of_means(&[1.0, 3.0], &[10.0, 10.0]).unwrap();
        assert!(close(r.estimate, 0.2, 1e-15));
        let (lo, hi) = r.bounds.unwrap();
        assert!(close(lo, 0.2 - 1.270_62, 1e-5) && close(hi, 0.2 + 1.270_62, 1e-5));
        assert_eq!(ratio_of_means(&[1.0], &[0.0]), None);
        assert_eq!(ratio_of_means(&[1.0], &[4.0]).unwrap().bounds, None);
    }
}
