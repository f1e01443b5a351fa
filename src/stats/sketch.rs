//! A mergeable quantile sketch for non-negative values, with bounded memory.
//!
//! Values are counted in log-linear buckets read straight off the bits of the
//! `f64`: the exponent and the top [`SUB_BITS`] bits of the mantissa, so 128
//! buckets per doubling. A bucket's midpoint is within 2^-8 (0.39 %) of any
//! value in it, so a reported quantile is within 0.39 % of a value whose rank
//! is the asked-for rank (rounded to the nearest run). Zeros are counted
//! apart, exactly. Each bucket also keeps the smallest and largest value it
//! has seen and how many values equal each: a quantile whose rank falls on
//! one of those is reported exactly (a base price shared by all undisrupted
//! runs, a fixed demand), any other is clamped within the bucket's extremes.
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

/// A quantile sketch (see the module docs for its accuracy).
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    count: u64,
    zeros: u64,
    /// Bucket index of `buckets[0]`.
    offset: u32,
    buckets: Vec<Bucket>,
    min: f64,
    max: f64,
}

/// One bucket: how many values, their extremes, and how many equal each.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    count: u32,
    at_min: u32,
    at_max: u32,
    min: f64,
    max: f64,
}

impl Bucket {
    const EMPTY: Bucket = Bucket {
        count: 0,
        at_min: 0,
        at_max: 0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    fn single(x: f64) -> Bucket {
        Bucket {
            count: 1,
            at_min: 1,
            at_max: 1,
            min: x,
            max: x,
        }
    }

    /// Adds another bucket's values: exact and commutative.
    fn absorb(&mut self, o: &Bucket) {
        let min = self.min.min(o.min);
        let max = self.max.max(o.max);
        let tally = |own: bool, n: u32| if own { n } else { 0 };
        self.at_min = tally(self.min == min, self.at_min) + tally(o.min == min, o.at_min);
        self.at_max = tally(self.max == max, self.at_max) + tally(o.max == max, o.at_max);
        self.count += o.count;
        self.min = min;
        self.max = max;
    }

    /// The value of the `r`-th smallest (0-based) of this bucket's values.
    fn value_at(&self, r: u64, index: u32) -> f64 {
        if r < u64::from(self.at_min) {
            self.min
        } else if r >= u64::from(self.count - self.at_max) {
            self.max
        } else {
            (0.5 * (bucket_low(index) + bucket_low(index + 1))).clamp(self.min, self.max)
        }
    }
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch {
            count: 0,
            zeros: 0,
            offset: 0,
            buckets: Vec::new(),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

/// The bucket of a positive finite value.
fn bucket(x: f64) -> u32 {
    (x.to_bits() >> (52 - SUB_BITS)) as u32
}

/// The lower bound of a bucket.
fn bucket_low(i: u32) -> f64 {
    f64::from_bits(u64::from(i) << (52 - SUB_BITS))
}

impl Sketch {
    /// The most memory one sketch takes (its buckets at [`MAX_BUCKETS`]),
    /// in bytes; used to refuse runs that would not fit.
    pub const MAX_BYTES: usize =
        std::mem::size_of::<Sketch>() + MAX_BUCKETS * std::mem::size_of::<Bucket>();

    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of values counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds `b` to bucket `i`, growing or folding the bucket range.
    fn add_bucket(&mut self, i: u32, b: &Bucket) {
        if self.buckets.is_empty() {
            self.offset = i;
            self.buckets.push(*b);
            return;
        }
        let top = (self.offset + self.buckets.len() as u32 - 1).max(i);
        // Lowest bucket kept: everything below it folds into it.
        let floor = top.saturating_sub(MAX_BUCKETS as u32 - 1);
        if floor > self.offset {
            let cut = ((floor - self.offset) as usize).min(self.buckets.len());
            let mut folded = Bucket::EMPTY;
            for d in self.buckets.drain(..cut) {
                folded.absorb(&d);
            }
            if self.buckets.is_empty() {
                self.buckets.push(Bucket::EMPTY);
            }
            self.offset = floor;
            self.buckets[0].absorb(&folded);
        }
        let i = i.max(floor);
        if i < self.offset {
            let extra = (self.offset - i) as usize;
            self.buckets
                .splice(0..0, std::iter::repeat_n(Bucket::EMPTY, extra));
            self.offset = i;
        }
        let rel = (i - self.offset) as usize;
        if rel >= self.buckets.len() {
            self.buckets.resize(rel + 1, Bucket::EMPTY);
        }
        self.buckets[rel].absorb(b);
    }

    /// Counts one value; it must be finite and non-negative (negative values
    /// count as zero).
    pub fn insert(&mut self, x: f64) {
        debug_assert!(x.is_finite(), "Sketch::insert({x})");
        self.count += 1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if x > 0.0 {
            self.add_bucket(bucket(x), &Bucket::single(x));
        } else {
            self.zeros += 1;
        }
    }

    /// Adds another sketch's counts; exact, and independent of order.
    pub fn merge(&mut self, other: &Sketch) {
        self.count += other.count;
        self.zeros += other.zeros;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        for (j, b) in other.buckets.iter().enumerate() {
            if b.count > 0 {
                self.add_bucket(other.offset + j as u32, b);
            }
        }
    }

    /// The value at quantile `q` in [0, 1]: the value of rank
    /// round(q (n - 1)) among the n counted (0-based), to within 0.39 %.
    /// `NaN` when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        let rank = (q.clamp(0.0, 1.0) * (self.count - 1) as f64).round() as u64;
        if rank == 0 {
            return self.min.max(0.0);
        }
        if rank == self.count - 1 {
            return self.max;
        }
        if rank < self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        for (j, b) in self.buckets.iter().enumerate() {
            if rank < seen + u64::from(b.count) {
                return b.value_at(rank - seen, self.offset + j as u32);
            }
            seen += u64::from(b.count);
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
        assert!(s.buckets.len() <= MAX_BUCKETS);
        // The largest value is 2^40, so the floor is 2^(40-16) = 2^24: the
        // median 2^0 lies below it, in the floor bucket with 2^-40..=2^24,
        // and is reported within that bucket's extremes.
        let median = s.quantile(0.5);
        assert!(
            (2f64.powi(-40)..=2f64.powi(24)).contains(&median),
            "{median}"
        );
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
