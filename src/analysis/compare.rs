//! Paired comparison of policies run on the same random world.
//!
//! With common random numbers, run i of the base and run i of a variant see
//! the same disruptions and demand, so their difference is the policy's
//! alone. The mean difference gets a t-interval on the per-run differences,
//! which is much narrower than the interval of two independent samples; the
//! difference in p95 gets a paired bootstrap interval (runs resampled
//! together, with a fixed stream, so it reproduces).

use crate::engine::rng::StreamKey;
use crate::stats::quantile_sorted;
use crate::storage::RunTable;
use crate::vocab::Metric;
use rand::Rng;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Bootstrap resamples for quantile differences.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// A difference (variant - base) with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Estimate.
    pub estimate: f64,
    /// Lower bound of the 95 % interval.
    pub lo: f64,
    /// Upper bound of the 95 % interval.
    pub hi: f64,
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom.
pub(crate) fn t975(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df.max(1.0))
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(1.959_963_984_540_054)
}

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = if xs.len() > 1 {
        xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (m, v)
}

/// Mean of `variant - base` run by run, with a t-interval.
pub fn paired_mean(base: &[f64], variant: &[f64]) -> Interval {
    let d: Vec<f64> = variant.iter().zip(base).map(|(v, b)| v - b).collect();
    let (m, v) = mean_var(&d);
    let half = t975(d.len() as f64 - 1.0) * (v / d.len() as f64).sqrt();
    Interval {
        estimate: m,
        lo: m - half,
        hi: m + half,
    }
}

/// The same difference treating the two samples as independent (Welch): what
/// an analysis without common random numbers would report.
pub fn unpaired_mean(base: &[f64], variant: &[f64]) -> Interval {
    let (mb, vb) = mean_var(base);
    let (mv, vv) = mean_var(variant);
    let (nb, nv) = (base.len() as f64, variant.len() as f64);
    let se2 = vb / nb + vv / nv;
    let df = if se2 > 0.0 {
        se2 * se2 / ((vb / nb).powi(2) / (nb - 1.0) + (vv / nv).powi(2) / (nv - 1.0))
    } else {
        nb + nv - 2.0
    };
    let half = t975(df) * se2.sqrt();
    Interval {
        estimate: mv - mb,
        lo: mv - mb - half,
        hi: mv - mb + half,
    }
}

fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, q)
}

/// Difference in the q-quantile, with a paired percentile-bootstrap interval.
pub fn paired_quantile(base: &[f64], variant: &[f64], q: f64, seed: u64) -> Interval {
    let n = base.len();
    let estimate = quantile(variant, q) - quantile(base, q);
    let mut rng = StreamKey::new(seed, "analysis/compare/bootstrap").rng(0);
    let (mut b, mut v) = (vec![0.0; n], vec![0.0; n]);
    let mut diffs = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    for _ in 0..BOOTSTRAP_RESAMPLES {
        for k in 0..n {
            let i = rng.random_range(0..n);
            b[k] = base[i];
            v[k] = variant[i];
        }
        b.sort_by(f64::total_cmp);
        v.sort_by(f64::total_cmp);
        diffs.push(quantile_sorted(&v, q) - quantile_sorted(&b, q));
    }
    diffs.sort_by(f64::total_cmp);
    Interval {
        estimate,
        lo: quantile_sorted(&diffs, 0.025),
        hi: quantile_sorted(&diffs, 0.975),
    }
}

/// One compared measure of one material.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Material id.
    pub material: String,
    /// What is compared.
    pub measure: &'static str,
    /// The base's value.
    pub base: f64,
    /// The variant's value.
    pub variant: f64,
    /// variant - base, with its interval.
    pub diff: Interval,
}

/// Total cost of a run: the welfare loss, plus the stock's net cost
/// (purchases and holding less its sales and end value), the options' (fees
/// and calls less their sales) and the refinery's.
fn total_cost(t: &RunTable, m: usize) -> std::io::Result<Vec<f64>> {
    let welfare = t.column(m, Metric::WelfareLossEur)?;
    let cost = t.column(m, Metric::StockpileCostEur)?;
    let sales = t.column(m, Metric::StockpileSalesEur)?;
    let end_value = t.column(m, Metric::StockpileEndValueEur)?;
    let refinery = t.column(m, Metric::RefineryCostEur)?;
    let fee = t.column(m, Metric::OptionFeeEur)?;
    let call = t.column(m, Metric::OptionCallEur)?;
    let option_sales = t.column(m, Metric::OptionSalesEur)?;
    Ok((0..t.runs())
        .map(|i| {
            welfare[i] + cost[i] - sales[i] - end_value[i] + refinery[i] + fee[i] + call[i]
                - option_sales[i]
        })
        .collect())
}

/// Compares a variant's runs with the base's, material by material
/// (`materials[k]` = (id, index in base, index in variant)).
///
/// # Errors
/// What reading a spilled table reported.
pub fn compare(
    base: &RunTable,
    variant: &RunTable,
    materials: &[(String, usize, usize)],
    seed: u64,
) -> std::io::Result<Vec<Difference>> {
    let mut out = Vec::new();
    for (id, mb, mv) in materials {
        let sb = base.column(*mb, Metric::ShortfallT)?;
        let sv = variant.column(*mv, Metric::ShortfallT)?;
        let any =
            |xs: &[f64]| -> Vec<f64> { xs.iter().map(|&x| f64::from(u8::from(x > 0.0))).collect() };
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
        let mut push =
            |measure, b: &[f64], v: &[f64], diff: Interval, level: &dyn Fn(&[f64]) -> f64| {
                out.push(Difference {
                    material: id.clone(),
                    measure,
                    base: level(b),
                    variant: level(v),
                    diff,
                });
            };
        push("shortfall_t_mean", &sb, &sv, paired_mean(&sb, &sv), &mean);
        push(
            "shortfall_t_p95",
            &sb,
            &sv,
            paired_quantile(&sb, &sv, 0.95, seed),
            &|x| quantile(x, 0.95),
        );
        let (ab, av) = (any(&sb), any(&sv));
        push("p_shortfall", &ab, &av, paired_mean(&ab, &av), &mean);
        for (measure, metric) in [
            ("peak_price_multiple", Metric::PeakPriceMultiple),
            ("welfare_loss_eur", Metric::WelfareLossEur),
            ("price_cost_eur", Metric::PriceCostEur),
            ("producer_gain_eur", Metric::ProducerGainEur),
            ("shortage_cost_eur", Metric::ShortageCostEur),
            ("stockpile_cost_eur", Metric::StockpileCostEur),
            ("stockpile_sales_eur", Metric::StockpileSalesEur),
            ("refinery_cost_eur", Metric::RefineryCostEur),
            ("option_called_t", Metric::OptionCalledT),
            ("option_fee_eur", Metric::OptionFeeEur),
            ("option_call_eur", Metric::OptionCallEur),
        ] {
            let (b, v) = (base.column(*mb, metric)?, variant.column(*mv, metric)?);
            push(measure, &b, &v, paired_mean(&b, &v), &mean);
        }
        let (b, v) = (outlay(base, *mb)?, outlay(variant, *mv)?);
        push("policy_outlay_eur", &b, &v, paired_mean(&b, &v), &mean);
        let (b, v) = (total_cost(base, *mb)?, total_cost(variant, *mv)?);
        push("total_cost_eur", &b, &v, paired_mean(&b, &v), &mean);
    }
    Ok(out)
}

/// What the stockpiles and options pay out in a run, before anything comes
/// back: purchases and holding, fees and calls (sales and the stocks' end
/// value left out).
fn outlay(t: &RunTable, m: usize) -> std::io::Result<Vec<f64>> {
    let cost = t.column(m, Metric::StockpileCostEur)?;
    let fee = t.column(m, Metric::OptionFeeEur)?;
    let call = t.column(m, Metric::OptionCallEur)?;
    Ok((0..t.runs()).map(|i| cost[i] + fee[i] + call[i]).collect())
}

/// One variant at a glance, over all the materials it shares with the base
/// (sums of the mean paired differences).
#[derive(Debug, Clone, PartialEq)]
pub struct Glance {
    /// The variant's name.
    pub variant: String,
    /// Mean welfare loss avoided against the base, EUR.
    pub avoided_welfare_loss: f64,
    /// Mean extra outlay on stockpiles and options, EUR.
    pub extra_outlay: f64,
    /// Mean shortfall avoided, tonnes.
    pub avoided_shortfall: f64,
}

impl Glance {
    /// Welfare loss avoided per euro of extra outlay (NaN when the outlay
    /// is not above 0).
    pub fn per_euro(&self) -> f64 {
        if self.extra_outlay > 0.0 {
            self.avoided_welfare_loss / self.extra_outlay
        } else {
            f64::NAN
        }
    }

    /// Sums `diffs`' mean differences over materials.
    pub fn of(variant: &str, diffs: &[Difference]) -> Glance {
        let sum = |measure: &str| -> f64 {
            diffs
                .iter()
                .filter(|d| d.measure == measure)
                .map(|d| d.diff.estimate)
                .sum()
        };
        Glance {
            variant: variant.to_string(),
            avoided_welfare_loss: -sum("welfare_loss_eur"),
            extra_outlay: sum("policy_outlay_eur"),
            avoided_shortfall: -sum("shortfall_t_mean"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: differences 1, 2, 3, 4, 5: mean 3, sd sqrt(2.5), n 5,
    /// t(4, 0.975) = 2.776445105..., half-width 2.7764 x sqrt(2.5/5).
    #[test]
    fn paired_interval_by_hand() {
        let base = [10.0, 10.0, 10.0, 10.0, 10.0];
        let variant = [11.0, 12.0, 13.0, 14.0, 15.0];
        let i = paired_mean(&base, &variant);
        let half = 2.776_445_105_197_793 * (2.5f64 / 5.0).sqrt();
        assert!((i.estimate - 3.0).abs() < 1e-12);
        assert!((i.hi - (3.0 + half)).abs() < 1e-9, "{i:?}");
    }
}
