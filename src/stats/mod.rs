//! Statistics: mergeable per-step accumulators ([`StepStats`]) and
//! summaries of per-run totals ([`MetricSummary`]). What a study reports
//! (the `Report` that renderers turn into files) is built from them in
//! `crate::report`.
//!
//! Per-step statistics hold, for every (material, variable, step), an exact
//! sum (for the mean) and a quantile [`sketch::Sketch`]: memory grows with
//! steps, never with runs. Per-run totals are kept one row per run, so their
//! quantiles and tail means are exact.

pub mod exact;
pub mod sketch;

use exact::{ExactSum, Window};
use serde::Serialize;
use sketch::Sketch;

/// Per-step statistics: one exact sum and one sketch per cell, except for
/// cells whose value is the same in every run (a material without products
/// has no secondary supply), which hold that value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepStats {
    runs: u64,
    fixed: Vec<Option<f64>>,
    sums: Vec<ExactSum>,
    sketches: Vec<Sketch>,
}

impl StepStats {
    /// Empty statistics over one cell per entry of `fixed`: `Some(v)` for a
    /// cell that is `v` in every run, `None` for one that varies.
    pub fn new(fixed: Vec<Option<f64>>) -> StepStats {
        let cells = fixed.len();
        StepStats {
            runs: 0,
            fixed,
            sums: vec![ExactSum::new(); cells],
            sketches: vec![Sketch::new(); cells],
        }
    }

    /// Whether `other` counts the same cells, fixed at the same values (so
    /// that the two can be merged).
    pub fn same_cells(&self, other: &StepStats) -> bool {
        self.fixed.len() == other.fixed.len()
            && self.sums.len() == other.sums.len()
            && self.sketches.len() == other.sketches.len()
            && self
                .fixed
                .iter()
                .zip(&other.fixed)
                .all(|(a, b)| a.map(f64::to_bits) == b.map(f64::to_bits))
    }

    /// Empty statistics over the same cells as these.
    pub fn empty_like(&self) -> StepStats {
        StepStats::new(self.fixed.clone())
    }

    /// The most memory one cell takes, in bytes.
    pub const MAX_BYTES_PER_CELL: usize = ExactSum::MAX_BYTES + Sketch::MAX_BYTES;

    /// Number of runs counted.
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// Counts a block of `runs` runs from each varying cell's sum over the
    /// block (`sums[i]` for the i-th of [`Self::varying_cells`], added in
    /// run order): the sums are added exactly, so the result does not depend
    /// on which blocks were counted where. Fixed cells need no sum.
    pub fn add_block_sums(&mut self, sums: &[f64], runs: u64) {
        self.runs += runs;
        let mut n = 0;
        for (sum, &s) in self.varying_sums().zip(sums) {
            sum.add(s);
            n += 1;
        }
        debug_assert_eq!(n, sums.len(), "one sum per varying cell");
    }

    /// [`Self::add_block_sums`] through `windows`, one per varying cell
    /// ([`ExactSum::add_via`]; `varying` is [`Self::varying_cells`]):
    /// faster, but the sums are held in the windows, and these statistics
    /// do not count them, until [`Self::settle`]. The same sums in the end.
    pub fn add_block_sums_via(
        &mut self,
        varying: &[usize],
        windows: &mut [Window],
        sums: &[f64],
        runs: u64,
    ) {
        self.runs += runs;
        debug_assert_eq!(varying.len(), sums.len(), "one sum per varying cell");
        debug_assert_eq!(windows.len(), sums.len(), "one window per varying cell");
        for ((w, &s), &c) in windows.iter_mut().zip(sums).zip(varying) {
            if !w.try_add(s) {
                self.sums[c].add_beside(w, s);
            }
        }
    }

    /// Adds what `windows` hold (from [`Self::add_block_sums_via`]) and
    /// empties them.
    pub fn settle(&mut self, windows: &mut [Window]) {
        for (sum, w) in self.varying_sums().zip(windows.iter_mut()) {
            sum.settle(w);
        }
    }

    /// The exact sums of the varying cells, in cell order.
    fn varying_sums(&mut self) -> impl Iterator<Item = &mut ExactSum> {
        self.sums
            .iter_mut()
            .zip(&self.fixed)
            .filter(|(_, f)| f.is_none())
            .map(|(sum, _)| sum)
    }

    /// The cells that vary between runs (not fixed), in cell order: the
    /// cells [`Self::sketch_runs`] takes.
    pub fn varying_cells(&self) -> Vec<usize> {
        (0..self.fixed.len())
            .filter(|&c| self.fixed[c].is_none())
            .collect()
    }

    /// Counts runs in the quantile sketches. `values` holds, one run after
    /// another, each run's values of the [`Self::varying_cells`]. The runs
    /// must also be counted by [`Self::add_block_sums`]; sketches count
    /// integers, so runs may reach them in any order and in any batches.
    pub fn sketch_runs(&mut self, values: &[f64]) {
        let mut varying: Vec<&mut Sketch> = self
            .sketches
            .iter_mut()
            .zip(&self.fixed)
            .filter(|(_, f)| f.is_none())
            .map(|(s, _)| s)
            .collect();
        sketch::insert_rows(&mut varying, values);
    }

    /// Adds another set of statistics: exact, and independent of order.
    /// The cells are merged in parallel on the current rayon pool (each on
    /// its own: the same result).
    pub fn merge(&mut self, other: &StepStats) {
        use rayon::prelude::*;
        debug_assert_eq!(self.fixed, other.fixed);
        self.runs += other.runs;
        /// Cells merged per task.
        const CELLS: usize = 1024;
        self.sums
            .par_chunks_mut(CELLS)
            .zip(other.sums.par_chunks(CELLS))
            .zip(self.sketches.par_chunks_mut(CELLS))
            .zip(other.sketches.par_chunks(CELLS))
            .for_each(|(((sums, other_sums), sketches), other_sketches)| {
                for (a, b) in sums.iter_mut().zip(other_sums) {
                    a.merge(b);
                }
                for (a, b) in sketches.iter_mut().zip(other_sketches) {
                    a.merge(b);
                }
            });
    }

    /// Mean of a cell over the runs.
    pub fn mean(&self, cell: usize) -> f64 {
        if self.runs == 0 {
            return f64::NAN;
        }
        match self.fixed[cell] {
            Some(v) => v,
            None => self.sums[cell].value() / self.runs as f64,
        }
    }

    /// Quantile `q` of a cell (see [`sketch`] for the accuracy).
    pub fn quantile(&self, cell: usize, q: f64) -> f64 {
        match self.fixed[cell] {
            Some(v) if self.runs > 0 => v,
            _ => self.sketches[cell].quantile(q),
        }
    }
}

/// Summary of one per-run total over all runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricSummary {
    /// Mean over runs.
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for a single run.
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// 5th percentile (linear interpolation between order statistics).
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
    /// Mean of the worst 5 %: the largest ceil(0.05 n) values.
    pub cvar95: f64,
}

/// The q-quantile of sorted values, interpolating linearly between order
/// statistics at position q (n - 1) (the common "type 7" definition).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let (lo, hi, frac) = quantile_position(n, q);
    if frac == 0.0 {
        sorted[lo]
    } else {
        sorted[lo] + frac * (sorted[hi] - sorted[lo])
    }
}

impl MetricSummary {
    /// Summarizes values given in run order (summed in that order).
    pub fn of(values: &[f64]) -> MetricSummary {
        MetricSummary::of_vec(values.to_vec())
    }

    /// As [`Self::of`], reordering `values` in place instead of copying
    /// them.
    ///
    /// The order statistics are picked out by selection rather than by
    /// sorting every value: under the total order of `f64::total_cmp` the
    /// value at each rank is unique to the bit, so they are the values a
    /// full sort would put there.
    pub fn of_vec(mut values: Vec<f64>) -> MetricSummary {
        let n = values.len();
        if n == 0 {
            let nan = f64::NAN;
            return MetricSummary {
                mean: nan,
                sd: nan,
                min: nan,
                p5: nan,
                p50: nan,
                p95: nan,
                p99: nan,
                max: nan,
                cvar95: nan,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        // The worst `tail` values, in ascending order, at the end; then the
        // other ranks the percentiles read, each at its place.
        let tail = n.div_ceil(20).max(1);
        let split = n - tail;
        values.select_nth_unstable_by(split, f64::total_cmp);
        values[split..].sort_unstable_by(f64::total_cmp);
        let cvar95 = values[split..].iter().sum::<f64>() / tail as f64;
        let mut ranks: Vec<usize> = [0.05, 0.50, 0.95, 0.99]
            .iter()
            .flat_map(|&q| {
                let (lo, hi, _) = quantile_position(n, q);
                [lo, hi]
            })
            .chain([0])
            .filter(|&r| r < split)
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        select_ranks(&mut values[..split], 0, &ranks);
        let sorted = &values;
        MetricSummary {
            mean,
            sd,
            min: sorted[0],
            p5: quantile_sorted(sorted, 0.05),
            p50: quantile_sorted(sorted, 0.50),
            p95: quantile_sorted(sorted, 0.95),
            p99: quantile_sorted(sorted, 0.99),
            max: sorted[n - 1],
            cvar95,
        }
    }
}

/// Where quantile `q` of `n` (at least one) sorted values lies: the two
/// ranks [`quantile_sorted`] reads and the fraction of the way from the
/// first to the second.
fn quantile_position(n: usize, q: f64) -> (usize, usize, f64) {
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    (lo, (lo + 1).min(n - 1), pos - lo as f64)
}

/// Puts the value of each rank in `ranks` (ascending, distinct, counted
/// from `values`' first index, `first`) at that index, as a sort by
/// `f64::total_cmp` would.
fn select_ranks(values: &mut [f64], first: usize, ranks: &[usize]) {
    let Some(&r) = ranks.get(ranks.len() / 2) else {
        return;
    };
    let (below, _, above) = values.select_nth_unstable_by(r - first, f64::total_cmp);
    select_ranks(below, first, &ranks[..ranks.len() / 2]);
    select_ranks(above, r + 1, &ranks[ranks.len() / 2 + 1..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_sketches_and_block_sums_equal_counting_cell_by_cell() {
        // 130 cells (every third fixed at 2.5), so the varying ones span
        // several tiles; 70 runs in two batches of unequal size.
        let cells: usize = 130;
        let fixed: Vec<Option<f64>> = (0..cells).map(|c| (c % 3 == 0).then_some(2.5)).collect();
        let value = |c: usize, r: usize| match fixed[c] {
            Some(v) => v,
            None => ((c * 31 + r * 17) % 97) as f64 * 0.37 + if r % 5 == 0 { 0.0 } else { 1e-3 },
        };
        let mut stats = StepStats::new(fixed.clone());
        let varying = stats.varying_cells();
        let mut windows = vec![Window::default(); varying.len()];
        assert_eq!(varying.len(), cells - cells.div_ceil(3));
        for runs in [0..45, 45..70] {
            let batch: Vec<f64> = runs
                .clone()
                .flat_map(|r| varying.iter().map(move |&c| value(c, r)))
                .collect();
            stats.sketch_runs(&batch);
            let mut sums = vec![0.0; varying.len()];
            for r in runs.clone() {
                for (&c, s) in varying.iter().zip(&mut sums) {
                    *s += value(c, r);
                }
            }
            // The first batch's sums one by one, the second's through
            // windows: the same sums.
            if runs.start == 0 {
                stats.add_block_sums(&sums, runs.len() as u64);
            } else {
                stats.add_block_sums_via(&varying, &mut windows, &sums, runs.len() as u64);
            }
        }
        stats.settle(&mut windows);
        assert_eq!(stats.runs(), 70);
        for &c in &varying {
            let mut one = Sketch::new();
            let mut sum = ExactSum::new();
            let (mut first, mut second) = (0.0, 0.0);
            for r in 0..70 {
                one.insert(value(c, r));
                if r < 45 {
                    first += value(c, r);
                } else {
                    second += value(c, r);
                }
            }
            sum.add(first);
            sum.add(second);
            assert_eq!(stats.sketches[c], one, "cell {c}");
            assert_eq!(stats.mean(c), sum.value() / 70.0, "cell {c}");
        }
        assert_eq!(stats.mean(0), 2.5);
        assert_eq!(stats.quantile(3, 0.5), 2.5);
    }

    /// The same block sums counted in two orders, through windows as the
    /// engine counts them: the exact sums end in different limbs (see
    /// `exact`'s test of 1 and 2^30), yet the statistics are equal and
    /// serialize to the same bytes, as a shard's partial result does.
    #[test]
    fn statistics_counted_in_another_order_are_equal_and_write_the_same_bytes() {
        let blocks: [[f64; 2]; 3] = [[1.0, 3.5], [2f64.powi(30), 0.25], [2f64.powi(-40), 7.0]];
        let count = |order: &[usize]| {
            let mut st = StepStats::new(vec![None, Some(2.0), None]);
            let varying = st.varying_cells();
            let mut windows = vec![Window::default(); varying.len()];
            for &i in order {
                st.add_block_sums_via(&varying, &mut windows, &blocks[i], 64);
            }
            st.settle(&mut windows);
            st
        };
        let a = count(&[0, 1, 2]);
        let b = count(&[1, 2, 0]);
        assert_ne!(
            format!("{:?}", a.sums),
            format!("{:?}", b.sums),
            "held differently (else this test shows nothing)"
        );
        assert_eq!(a, b);
        assert_eq!(a.mean(0).to_bits(), b.mean(0).to_bits());
        assert_eq!(
            postcard::to_stdvec(&a).unwrap(),
            postcard::to_stdvec(&b).unwrap()
        );
        // Merged in either order, the same again.
        let (mut ab, mut ba) = (count(&[0]), count(&[1, 2]));
        ab.merge(&count(&[1, 2]));
        ba.merge(&count(&[0]));
        assert_eq!(ab, ba);
        assert_eq!(ab, a);
        assert_eq!(
            postcard::to_stdvec(&ab).unwrap(),
            postcard::to_stdvec(&ba).unwrap()
        );
    }

    #[test]
    fn metric_summary_by_hand() {
        // 1..=20: mean 10.5, sd sqrt(35) (variance n(n+1)/12 = 35 for 1..n,
        // n = 20), p5 at position 0.95 -> 1.95, median 10.5, p95 at 18.05 ->
        // 19.05, p99 at 18.81 -> 19.81, cvar95 = mean of the top 1 = 20.
        let xs: Vec<f64> = (1..=20).map(f64::from).collect();
        let s = MetricSummary::of(&xs);
        assert_eq!(s.mean, 10.5);
        assert!((s.sd - 35f64.sqrt()).abs() < 1e-12);
        assert!((s.p5 - 1.95).abs() < 1e-12);
        assert_eq!(s.p50, 10.5);
        assert!((s.p95 - 19.05).abs() < 1e-12);
        assert!((s.p99 - 19.81).abs() < 1e-12);
        assert_eq!(s.cvar95, 20.0);
        assert_eq!((s.min, s.max), (1.0, 20.0));
        // 100 values: the worst 5 % are 96..=100, mean 98.
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(MetricSummary::of(&xs).cvar95, 98.0);
    }

    /// The summary from a full sort of the values, every order statistic
    /// read from it.
    fn summary_by_sorting(values: &[f64]) -> [f64; 9] {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let tail = n.div_ceil(20);
        let cvar95 = sorted[n - tail..].iter().sum::<f64>() / tail as f64;
        let q = |q| quantile_sorted(&sorted, q);
        [
            mean,
            sd,
            sorted[0],
            q(0.05),
            q(0.50),
            q(0.95),
            q(0.99),
            sorted[n - 1],
            cvar95,
        ]
    }

    proptest::proptest! {
        #[test]
        fn selected_ranks_equal_a_full_sort_bit_for_bit(
            // Few distinct values, so that ranks tie; signed zeros, NaN
            // and infinities among them.
            picks in proptest::collection::vec(0usize..12, 1..400),
            scale in 0.1f64..1e6,
        ) {
            let pool = [
                0.0, -0.0, 1.0, 2.5, 2.5 + 1e-9, 7.0, -3.0, 1e-300,
                f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 42.0,
            ];
            let xs: Vec<f64> = picks
                .iter()
                .enumerate()
                .map(|(i, &k)| if k == 11 { scale * (i as f64).sin() } else { pool[k] })
                .collect();
            let s = MetricSummary::of(&xs);
            let got = [s.mean, s.sd, s.min, s.p5, s.p50, s.p95, s.p99, s.max, s.cvar95];
            let expected = summary_by_sorting(&xs);
            proptest::prop_assert_eq!(got.map(f64::to_bits), expected.map(f64::to_bits));
        }
    }
}
