//! Which uncertain inputs drive a result: Spearman rank correlations between
//! the numbers drawn once per run and a per-run total.
//!
//! Rank correlation rather than Pearson correlation, because shortfall
//! responds to its drivers in strongly nonlinear ways (no shortfall at all
//! below some disruption rate, then a steep rise) and has a long right tail:
//! ranks measure "does more of this input go with more of that output",
//! whatever the shape, and one extreme run cannot dominate them.

use crate::storage::RunTable;
use crate::vocab::Metric;

/// Ranks of `xs`, from 1 (smallest) to n (largest); tied values all get the
/// average of the ranks they span (e.g. `[5, 7, 7, 9]` -> `[1, 2.5, 2.5, 4]`),
/// which is what makes the Spearman coefficient below the textbook one.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut out = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && xs[order[j]] == xs[order[i]] {
            j += 1;
        }
        // Positions i..j (0-based) hold ranks i+1..=j; their mean is (i+1+j)/2.
        let rank = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            out[k] = rank;
        }
        i = j;
    }
    out
}

/// Spearman's rank correlation of `x` and `y`: the Pearson correlation of
/// their [`ranks`], in [-1, 1]. `None` when there are fewer than two pairs,
/// the lengths differ, or either side is constant (the coefficient is then
/// undefined: a number that never varies explains nothing).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    rho(&ranks(x), &ranks(y))
}

/// Spearman's rho from ranks counted from 1 (Pearson's correlation of the
/// ranks): `None` when the lengths differ, there are fewer than 2, or
/// either is constant.
fn rho(rx: &[f64], ry: &[f64]) -> Option<f64> {
    if rx.len() != ry.len() || rx.len() < 2 {
        return None;
    }
    let n = rx.len() as f64;
    // Both rank vectors have mean (n + 1) / 2 whatever the ties.
    let mean = (n + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(ry) {
        let (da, db) = (a - mean, b - mean);
        sxy += da * db;
        sxx += da * da;
        syy += db * db;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// The rank correlation of one per-run parameter with a per-run total.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamCorrelation {
    /// The parameter's field path, as in [`RunTable::param_names`].
    pub name: String,
    /// Spearman's rank correlation with the total, in [-1, 1].
    pub rho: f64,
}

/// Spearman's correlation of every per-run parameter of `table` with
/// `metric` of material `m`, strongest (largest |rho|) first; ties in |rho|
/// are broken by name, so the order is reproducible. Parameters for which the
/// coefficient is undefined (see [`spearman`]) are left out, so the result is
/// empty when the total never varies (e.g. no run has a shortfall).
///
/// # Errors
/// What reading a spilled table reported.
pub fn rank_correlations(
    table: &RunTable,
    m: usize,
    metric: Metric,
) -> std::io::Result<Vec<ParamCorrelation>> {
    let ry = ranks(&table.column(m, metric)?);
    let rhos = (0..table.param_names().len())
        .map(|p| Ok(rho(&ranks(&table.param_column(p)?), &ry)))
        .collect::<std::io::Result<Vec<_>>>()?;
    Ok(sorted(table.param_names().iter().zip(rhos).collect()))
}

/// [`rank_correlations`] for every material at once, in material order:
/// each parameter and each material's `metric` is ranked once, not once per
/// pair (the same numbers, a fraction of the sorting). Parameters are ranked
/// in parallel on the caller's rayon pool.
///
/// # Errors
/// What reading a spilled table reported.
pub fn rank_correlations_all(
    table: &RunTable,
    metric: Metric,
) -> std::io::Result<Vec<Vec<ParamCorrelation>>> {
    use rayon::prelude::*;
    let ry: Vec<Vec<f64>> = (0..table.materials())
        .into_par_iter()
        .map(|m| Ok(ranks(&table.column(m, metric)?)))
        .collect::<std::io::Result<_>>()?;
    // rhos[p][m]: parameter p against material m.
    let rhos: Vec<Vec<Option<f64>>> = (0..table.param_names().len())
        .into_par_iter()
        .map(|p| {
            let rx = ranks(&table.param_column(p)?);
            Ok(ry.iter().map(|r| rho(&rx, r)).collect())
        })
        .collect::<std::io::Result<_>>()?;
    Ok((0..table.materials())
        .map(|m| {
            sorted(
                table
                    .param_names()
                    .iter()
                    .zip(&rhos)
                    .map(|(name, r)| (name, r[m]))
                    .collect(),
            )
        })
        .collect())
}

/// The defined correlations, strongest first (ties by name).
fn sorted(rhos: Vec<(&String, Option<f64>)>) -> Vec<ParamCorrelation> {
    let mut out: Vec<ParamCorrelation> = rhos
        .into_iter()
        .filter_map(|(name, rho)| {
            rho.map(|rho| ParamCorrelation {
                name: name.clone(),
                rho,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.rho
            .abs()
            .total_cmp(&a.rho.abs())
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_get_average_ranks() {
        assert_eq!(ranks(&[5.0, 7.0, 7.0, 9.0]), vec![1.0, 2.5, 2.5, 4.0]);
        assert_eq!(ranks(&[3.0, 1.0, 2.0]), vec![3.0, 1.0, 2.0]);
        assert_eq!(ranks(&[0.0, 0.0, 0.0]), vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn spearman_by_hand() {
        // x = [1, 2, 3, 4, 5], y = [2, 1, 4, 3, 5]: no ties, so
        // rho = 1 - 6 sum d^2 / (n (n^2 - 1)) with d = [-1, 1, -1, 1, 0],
        // sum d^2 = 4: rho = 1 - 24 / 120 = 0.8.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 1.0, 4.0, 3.0, 5.0];
        assert!((spearman(&x, &y).unwrap() - 0.8).abs() < 1e-12);

        // With ties: x = [1, 2, 3, 4], y = [0, 0, 1, 2] (shortfall-like: two
        // runs without any). Ranks of y: [1.5, 1.5, 3, 4], mean 2.5.
        // Deviations: x [-1.5, -0.5, 0.5, 1.5], y [-1, -1, 0.5, 1.5].
        // sxy = 1.5 + 0.5 + 0.25 + 2.25 = 4.5; sxx = 5; syy = 1 + 1 + 0.25 +
        // 2.25 = 4.5. rho = 4.5 / sqrt(5 x 4.5) = sqrt(0.9) = 0.948683...
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [0.0, 0.0, 1.0, 2.0];
        assert!((spearman(&x, &y).unwrap() - 0.9f64.sqrt()).abs() < 1e-12);

        // A monotone transform does not change it; reversing flips the sign.
        let cubed: Vec<f64> = y.iter().map(|v| v * v * v).collect();
        assert_eq!(spearman(&x, &cubed), spearman(&x, &y));
        let neg: Vec<f64> = y.iter().map(|v| -v).collect();
        assert!((spearman(&x, &neg).unwrap() + 0.9f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn undefined_cases() {
        assert_eq!(spearman(&[1.0, 2.0], &[3.0, 3.0]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
        assert_eq!(spearman(&[1.0, 2.0], &[1.0]), None);
    }

    #[test]
    fn all_materials_at_once_equal_one_at_a_time() {
        use crate::engine::simulate;
        use crate::vocab::RunPlan;
        let s = crate::scenario::Scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/reference.toml"
        )))
        .unwrap();
        let plan = RunPlan {
            first_run: 0,
            runs: 300,
            seed: 5,
        };
        let table = simulate(&s, &plan, &|_| {}).runs;
        let all = rank_correlations_all(&table, Metric::ShortfallT).unwrap();
        assert_eq!(all.len(), table.materials());
        for (m, got) in all.iter().enumerate() {
            assert_eq!(
                got,
                &rank_correlations(&table, m, Metric::ShortfallT).unwrap()
            );
        }
    }
}
