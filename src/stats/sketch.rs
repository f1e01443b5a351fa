//! A mergeable quantile sketch for non-negative values, with bounded memory.
//!
//! Values are counted in log-linear buckets read straight off the bits of the
//! `f64`: the exponent and the top [`SUB_BITS`] bits of the mantissa, so 128
//! buckets per doubling. A bucket's midpoint is within 2^-8 (0.39 %) of any
//! value in it, so a reported quantile is within 0.39 % of a value whose rank
//! is the asked-for rank (rounded to the nearest run). Zeros are counted
//! apart, exactly. The smallest and largest values, and how many values equal
//! each, are kept exactly: a quantile whose rank falls on them is exact (a
//! base price shared by all undisrupted runs, a full stock, a fixed demand),
//! and no answer lies outside them.
//!
//! Counts are integers, so merging is exact and the result is the same in any
//! order: a sketch merged from shards equals the sketch of one process. At
//! most [`MAX_BUCKETS`] buckets are kept (16 doublings below the largest value
//! seen); smaller values are counted in the lowest kept bucket, which only
//! affects quantiles that are below 1/65,536 of the largest value.

/// Mantissa bits used to split each doubling into buckets.
pub const SUB_BITS: u32 = 7;
/// Most buckets one sketch keeps (16 doublings at 128 buckets each).
pub const MAX_BUCKETS: usize = 16 << SUB_BITS;
/// Most values one sketch counts. Counts are 16-bit, which halves the
/// memory a sketch's buckets take (and the cache misses of counting); the
/// engine sketches at most `PERCENTILE_RUNS` runs, well within this.
pub const MAX_VALUES: u64 = u16::MAX as u64;

/// A quantile sketch (see the module docs for its accuracy).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sketch {
    count: u64,
    zeros: u64,
    /// Bucket index of `counts[0]`.
    offset: u32,
    counts: Vec<u16>,
    min: f64,
    max: f64,
    at_min: u64,
    at_max: u64,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch {
            count: 0,
            zeros: 0,
            offset: 0,
            counts: Vec::new(),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            at_min: 0,
            at_max: 0,
        }
    }
}

/// The bucket of a positive finite value.
#[inline]
fn bucket(x: f64) -> u32 {
    (x.to_bits() >> (52 - SUB_BITS)) as u32
}

/// The lower bound of a bucket.
fn bucket_low(i: u32) -> f64 {
    f64::from_bits(u64::from(i) << (52 - SUB_BITS))
}

/// Running extremes and how many values equal each.
#[derive(Clone, Copy)]
struct Extremes {
    min: f64,
    max: f64,
    at_min: u64,
    at_max: u64,
}

impl Extremes {
    #[inline]
    fn add(&mut self, x: f64) {
        if x < self.min {
            self.min = x;
            self.at_min = 1;
        } else if x == self.min {
            self.at_min += 1;
        }
        if x > self.max {
            self.max = x;
            self.at_max = 1;
        } else if x == self.max {
            self.at_max += 1;
        }
    }

    /// Combines two sets of extremes: exact and commutative.
    fn merge(self, o: Extremes) -> Extremes {
        let min = self.min.min(o.min);
        let max = self.max.max(o.max);
        let tally = |own: bool, n: u64| if own { n } else { 0 };
        Extremes {
            min,
            max,
            at_min: tally(self.min == min, self.at_min) + tally(o.min == min, o.at_min),
            at_max: tally(self.max == max, self.at_max) + tally(o.max == max, o.at_max),
        }
    }
}

impl Sketch {
    /// The most memory one sketch takes (its buckets at [`MAX_BUCKETS`]),
    /// in bytes; used to refuse runs that would not fit.
    pub const MAX_BYTES: usize =
        std::mem::size_of::<Sketch>() + MAX_BUCKETS * std::mem::size_of::<u16>();

    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of values counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn extremes(&self) -> Extremes {
        Extremes {
            min: self.min,
            max: self.max,
            at_min: self.at_min,
            at_max: self.at_max,
        }
    }

    fn set_extremes(&mut self, e: Extremes) {
        self.min = e.min;
        self.max = e.max;
        self.at_min = e.at_min;
        self.at_max = e.at_max;
    }

    /// Counts `n` values in bucket `i`, growing or folding the bucket range.
    fn add_bucket(&mut self, i: u32, n: u16) {
        if self.counts.is_empty() {
            self.offset = i;
            self.counts.push(n);
            return;
        }
        let top = (self.offset + self.counts.len() as u32 - 1).max(i);
        // Lowest bucket kept: everything below it folds into it.
        let floor = top.saturating_sub(MAX_BUCKETS as u32 - 1);
        if floor > self.offset {
            let cut = ((floor - self.offset) as usize).min(self.counts.len());
            let folded: u16 = self.counts.drain(..cut).sum();
            if self.counts.is_empty() {
                self.counts.push(0);
            }
            self.offset = floor;
            self.counts[0] += folded;
        }
        let i = i.max(floor);
        if i < self.offset {
            let extra = (self.offset - i) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, extra));
            self.offset = i;
        }
        let rel = (i - self.offset) as usize;
        if rel >= self.counts.len() {
            self.counts.resize(rel + 1, 0);
        }
        self.counts[rel] += n;
    }

    /// Counts `x` in its bucket, or as a zero; not in `count` or the
    /// extremes.
    #[inline]
    fn count_in_bucket(&mut self, x: f64) {
        if x > 0.0 {
            let i = bucket(x);
            // Fast path: the bucket is already in range (the usual case).
            match i
                .checked_sub(self.offset)
                .and_then(|rel| self.counts.get_mut(rel as usize))
            {
                Some(c) => *c += 1,
                None => self.add_bucket(i, 1),
            }
        } else {
            self.zeros += 1;
        }
    }

    /// Counts one value; it must be finite and non-negative (negative values
    /// count as zero). At most [`MAX_VALUES`] values in all.
    pub fn insert(&mut self, x: f64) {
        self.insert_all([x]);
    }

    /// Counts many values; the same as inserting them one by one, faster.
    pub fn insert_all(&mut self, xs: impl IntoIterator<Item = f64>) {
        let mut e = self.extremes();
        let mut n = 0;
        for x in xs {
            n += 1;
            debug_assert!(x.is_finite(), "Sketch::insert({x})");
            e.add(x);
            self.count_in_bucket(x);
        }
        self.count += n;
        debug_assert!(
            self.count <= MAX_VALUES,
            "a sketch counts at most {MAX_VALUES} values"
        );
        self.set_extremes(e);
    }

    /// Counts a slice of values; the same as [`Self::insert_all`], faster:
    /// the extremes are found in four independent lanes without a branch
    /// per value, then merged.
    pub fn insert_slice(&mut self, xs: &[f64]) {
        if xs.is_empty() {
            return;
        }
        let (mut lo, mut hi) = ([f64::INFINITY; 4], [f64::NEG_INFINITY; 4]);
        let lanes = xs.chunks_exact(4);
        let rest = lanes.remainder();
        for x in lanes {
            for l in 0..4 {
                lo[l] = if x[l] < lo[l] { x[l] } else { lo[l] };
                hi[l] = if x[l] > hi[l] { x[l] } else { hi[l] };
            }
        }
        for &x in rest {
            lo[0] = if x < lo[0] { x } else { lo[0] };
            hi[0] = if x > hi[0] { x } else { hi[0] };
        }
        let min = lo
            .into_iter()
            .fold(f64::INFINITY, |a, b| if b < a { b } else { a });
        let max = hi
            .into_iter()
            .fold(f64::NEG_INFINITY, |a, b| if b > a { b } else { a });
        let (mut at_min, mut at_max) = (0u64, 0u64);
        for &x in xs {
            debug_assert!(x.is_finite(), "Sketch::insert({x})");
            at_min += u64::from(x == min);
            at_max += u64::from(x == max);
        }
        let slice = Extremes {
            min,
            max,
            at_min,
            at_max,
        };
        self.set_extremes(self.extremes().merge(slice));
        for &x in xs {
            self.count_in_bucket(x);
        }
        self.count += xs.len() as u64;
        debug_assert!(
            self.count <= MAX_VALUES,
            "a sketch counts at most {MAX_VALUES} values"
        );
    }

    /// Adds another sketch's counts; exact, and independent of order.
    pub fn merge(&mut self, other: &Sketch) {
        self.count += other.count;
        debug_assert!(
            self.count <= MAX_VALUES,
            "a sketch counts at most {MAX_VALUES} values"
        );
        self.zeros += other.zeros;
        self.set_extremes(self.extremes().merge(other.extremes()));
        for (j, &n) in other.counts.iter().enumerate() {
            if n > 0 {
                self.add_bucket(other.offset + j as u32, n);
            }
        }
    }

    /// The value at quantile `q` in [0, 1]: the value of rank
    /// round(q (n - 1)) among the n counted (0-based), to within 0.39 %, and
    /// exact when that rank holds the smallest or the largest value.
    /// `NaN` when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        let rank = (q.clamp(0.0, 1.0) * (self.count - 1) as f64).round() as u64;
        if rank < self.at_min {
            return self.min;
        }
        if rank >= self.count - self.at_max {
            return self.max;
        }
        if rank < self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        for (j, &n) in self.counts.iter().enumerate() {
            seen += u64::from(n);
            if rank < seen {
                let i = self.offset + j as u32;
                let mid = 0.5 * (bucket_low(i) + bucket_low(i + 1));
                return mid.clamp(self.min, self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact_quantile(xs: &[f64], q: f64) -> f64 {
        let mut v = xs.to_vec();
        v.sort_by(f64::total_cmp);
        v[(q * (v.len() - 1) as f64).round() as usize]
    }

    #[test]
    fn constant_values_are_exact() {
        let mut s = Sketch::new();
        for _ in 0..1000 {
            s.insert(3.3);
        }
        for q in [0.05, 0.5, 0.95] {
            assert_eq!(s.quantile(q), 3.3);
        }
    }

    #[test]
    fn values_shared_by_many_runs_are_exact() {
        // 90 runs at the base price, 10 above it in the same bucket.
        let mut s = Sketch::new();
        for i in 0..100 {
            s.insert(if i < 90 { 400_000.0 } else { 401_000.0 });
        }
        assert_eq!(s.quantile(0.05), 400_000.0);
        assert_eq!(s.quantile(0.5), 400_000.0);
        assert_eq!(s.quantile(0.95), 401_000.0);
        // A value inside a bucket, away from the extremes, is approximate.
        let mut s = Sketch::new();
        for x in [1.0, 400_000.0, 400_100.0, 400_500.0, 1e6] {
            s.insert(x);
        }
        assert!((s.quantile(0.5) - 400_100.0).abs() <= 400_100.0 / 256.0);
        // Supply is the other way round: most runs at the top of a bucket.
        let mut s = Sketch::new();
        for i in 0..100 {
            s.insert(if i < 20 { 3.30 } else { 3.333 });
        }
        assert_eq!(s.quantile(0.5), 3.333);
    }

    #[test]
    fn zeros_are_exact() {
        let mut s = Sketch::new();
        for i in 0..100 {
            s.insert(if i < 90 { 0.0 } else { 1.0 + i as f64 });
        }
        assert_eq!(s.quantile(0.5), 0.0);
        assert_eq!(s.quantile(0.89), 0.0);
        assert_eq!(s.quantile(1.0), 100.0);
    }

    #[test]
    fn uniform_quantiles_within_stated_error() {
        // Values 1..=10000: the value of rank k is k + 1.
        let xs: Vec<f64> = (1..=10_000).map(f64::from).collect();
        let mut s = Sketch::new();
        xs.iter().for_each(|&x| s.insert(x));
        for q in [0.05, 0.25, 0.5, 0.75, 0.95, 0.99] {
            let exact = exact_quantile(&xs, q);
            let got = s.quantile(q);
            assert!(
                (got - exact).abs() <= exact / 256.0,
                "q {q}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn wide_ranges_fold_only_the_tiny_values() {
        let mut s = Sketch::new();
        for k in -40..=40 {
            s.insert(2f64.powi(k));
        }
        assert!(s.counts.len() <= MAX_BUCKETS);
        // The largest value 2^40 is the first bucket of its doubling; the
        // floor is 2047 buckets lower: 2^24 (1 + 1/128) to 2^24 (1 + 2/128).
        // The median 2^0 lies below it and is reported in the floor bucket.
        let floor = 2f64.powi(24) * (1.0 + 1.0 / 128.0)..2f64.powi(24) * (1.0 + 2.0 / 128.0);
        let median = s.quantile(0.5);
        assert!(floor.contains(&median), "{median}");
        assert_eq!(s.quantile(1.0), 2f64.powi(40));
        assert!((s.quantile(0.9) - 2f64.powi(32)).abs() <= 2f64.powi(32) / 256.0);
    }

    proptest! {
        /// Any split, merged in any order, gives the very same sketch.
        #[test]
        fn merge_equals_insert_all(
            xs in proptest::collection::vec(prop_oneof![Just(0.0), 1e-30f64..1e30], 1..300),
            cut in 0usize..300,
        ) {
            let cut = cut.min(xs.len());
            let mut all = Sketch::new();
            xs.iter().for_each(|&x| all.insert(x));
            let (mut a, mut b) = (Sketch::new(), Sketch::new());
            xs[..cut].iter().for_each(|&x| a.insert(x));
            xs[cut..].iter().for_each(|&x| b.insert(x));
            let mut ab = a.clone();
            ab.merge(&b);
            b.merge(&a);
            prop_assert_eq!(&ab, &all);
            prop_assert_eq!(&b, &all);
        }

        /// Counting a slice at once is counting its values one by one.
        #[test]
        fn insert_slice_equals_insert_all(
            xs in proptest::collection::vec(prop_oneof![Just(0.0), Just(5.0), 1e-30f64..1e30], 0..300),
            before in proptest::collection::vec(prop_oneof![Just(0.0), Just(5.0), 1.0f64..10.0], 0..20),
        ) {
            let mut a = Sketch::new();
            a.insert_all(before.iter().copied());
            let mut b = a.clone();
            a.insert_all(xs.iter().copied());
            b.insert_slice(&xs);
            prop_assert_eq!(a, b);
        }

        /// Quantiles are within 0.39 % of the exact value of the same rank,
        /// whenever that value is above the folding floor.
        #[test]
        fn quantiles_within_error(
            xs in proptest::collection::vec(1.0f64..1e4, 2..500),
            q in 0.0f64..1.0,
        ) {
            let mut s = Sketch::new();
            xs.iter().for_each(|&x| s.insert(x));
            let exact = exact_quantile(&xs, q);
            prop_assert!((s.quantile(q) - exact).abs() <= exact / 256.0);
        }
    }
}
