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
//!
//! [`insert_rows`] counts a batch of runs into many sketches at once (the
//! per-step statistics), with the same result as inserting value by value.

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

    /// Counts one value in each of `buckets`, which may lie outside the
    /// range kept: the range is grown once, to the highest and the lowest,
    /// before the others are counted.
    fn add_buckets(&mut self, buckets: &[u32]) {
        let Some(high) = (0..buckets.len()).max_by_key(|&k| buckets[k]) else {
            return;
        };
        let low = (0..buckets.len())
            .min_by_key(|&k| buckets[k])
            .expect("not empty");
        self.add_bucket(buckets[high], 1);
        if low != high {
            self.add_bucket(buckets[low], 1);
        }
        for (k, &i) in buckets.iter().enumerate() {
            if k == low || k == high {
                continue;
            }
            match i
                .checked_sub(self.offset)
                .and_then(|rel| self.counts.get_mut(rel as usize))
            {
                Some(c) => *c += 1,
                None => self.add_bucket(i, 1),
            }
        }
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

    /// Adds the extremes of `n` more values, already counted in buckets.
    fn add_counted(&mut self, e: Extremes, n: u64) {
        self.set_extremes(self.extremes().merge(e));
        self.count += n;
        debug_assert!(
            self.count <= MAX_VALUES,
            "a sketch counts at most {MAX_VALUES} values"
        );
    }

    /// Counts `n` values equal to `x` in the buckets (or as zeros).
    fn count_equal(&mut self, x: f64, n: u64) {
        if n == 0 {
            return;
        }
        if x > 0.0 {
            let n = u16::try_from(n).expect("a sketch counts at most MAX_VALUES values");
            self.add_bucket(bucket(x), n);
        } else {
            self.zeros += n;
        }
    }

    /// Counts column `c` of `rows` (one run after another, `width` values
    /// a run), whose smallest and largest values are `min` and `max`: the
    /// same as [`Self::insert_all`] of the column.
    ///
    /// Called through [`count_column`], out of line: inlined into
    /// [`insert_rows`], its loops lose their registers.
    #[inline(always)]
    fn count_column(
        &mut self,
        rows: &[f64],
        width: usize,
        c: usize,
        (min, max): (f64, f64),
        scratch: &mut Scratch,
    ) {
        assert!(c < width);
        let n = (rows.len() / width) as u64;
        let column = rows.chunks_exact(width).map(|run| run[c]);
        if min == max {
            self.count_equal(min, n);
            self.add_counted(
                Extremes {
                    min,
                    max,
                    at_min: n,
                    at_max: n,
                },
                n,
            );
            return;
        }
        // How many values equal the column's extremes matters only when
        // those reach the sketch's; otherwise the merged extremes are the
        // sketch's, whatever the counts.
        let tied = min <= self.min || max >= self.max;
        let (mut at_min, mut at_max) = (0, 0);
        if !tied && min > 0.0 {
            self.count_positive(column, &mut scratch.outside);
        } else {
            // The values strictly between the extremes are set apart
            // without a branch on each value, and those at the extremes
            // (often most of a column: a base price, a full stock, no
            // shortfall) counted at once. Adding 0.0 turns -0.0 into +0.0,
            // so that equal bits are equal values.
            let key = |x: f64| (x + 0.0).to_bits();
            let (low, high) = (key(min), key(max));
            let between = &mut scratch.between[..n as usize];
            let mut m = 0;
            for x in column {
                let k = key(x);
                let (is_min, is_max) = (k == low, k == high);
                at_min += u64::from(is_min);
                at_max += u64::from(is_max);
                between[m] = x;
                m += usize::from(!(is_min | is_max));
            }
            if min >= 0.0 {
                self.count_positive(between[..m].iter().copied(), &mut scratch.outside);
            } else {
                for &x in &between[..m] {
                    self.count_in_bucket(x);
                }
            }
            self.count_equal(min, at_min);
            self.count_equal(max, at_max);
        }
        self.add_buckets(&scratch.outside);
        scratch.outside.clear();
        self.add_counted(
            Extremes {
                min,
                max,
                at_min,
                at_max,
            },
            n,
        );
    }

    /// Counts positive values whose buckets are in the range kept; the
    /// others' buckets are noted in `outside`.
    #[inline]
    fn count_positive(&mut self, xs: impl Iterator<Item = f64>, outside: &mut Vec<u32>) {
        let offset = self.offset;
        let counts = &mut self.counts[..];
        for x in xs {
            let i = bucket(x);
            match counts.get_mut(i.wrapping_sub(offset) as usize) {
                Some(c) => *c += 1,
                None => note_outside(outside, i),
            }
        }
    }

    /// The range of `counts` that holds the buckets of values from `min`
    /// to `max` (empty when none is kept or positive).
    fn count_range(&self, (min, max): (f64, f64)) -> std::ops::Range<usize> {
        if max <= 0.0 || self.counts.is_empty() {
            return 0..0;
        }
        let len = self.counts.len();
        let first = if min > 0.0 {
            (bucket(min).saturating_sub(self.offset) as usize).min(len)
        } else {
            0
        };
        let last = (bucket(max).saturating_sub(self.offset) as usize).min(len - 1);
        first..last + 1
    }

    /// Has each cache line of the buckets of values from `min` to `max`
    /// fetched from memory while other work goes on, ahead of their
    /// counting; returns what it read (for `black_box`).
    ///
    /// On x86-64, a prefetch instruction, which does not wait for the
    /// lines; elsewhere, a read of one count in each line, which does (a
    /// read that misses the cache holds up the instructions after it once
    /// the processor's window is full; what each costs on a reference batch
    /// is in docs/performance.md, "Quantile sketches").
    fn fetch(&self, range: (f64, f64)) -> u16 {
        let lines = self.counts[self.count_range(range)]
            .iter()
            .step_by(LINE_COUNTS);
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            for c in lines {
                // SAFETY: SSE, which the prefetch instruction belongs to, is
                // part of every x86-64 processor; a prefetch reads nothing
                // into the program and cannot fault, and the address is a
                // count's.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(c).cast()) }
            }
            0
        }
        #[cfg(not(target_arch = "x86_64"))]
        lines.fold(0, |acc, &c| acc ^ c)
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
        let (Some(&first), Some(&last)) = (other.counts.first(), other.counts.last()) else {
            return;
        };
        if self.counts.is_empty() {
            self.offset = other.offset;
            self.counts.clone_from(&other.counts);
            return;
        }
        // The range is grown once, to the other's highest and lowest
        // buckets; the buckets between then fall in it, or below the lowest
        // kept, where they fold into it.
        let len = other.counts.len();
        self.add_bucket(other.offset + len as u32 - 1, last);
        if len > 1 {
            self.add_bucket(other.offset, first);
            for (j, &n) in other.counts[1..len - 1].iter().enumerate() {
                let rel = (other.offset + 1 + j as u32).saturating_sub(self.offset);
                self.counts[rel as usize] += n;
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

/// Counts in a cache line.
const LINE_COUNTS: usize = 64 / std::mem::size_of::<u16>();

/// Sketches whose values [`insert_rows`] reads together: a tile of their
/// values over a batch of runs stays in cache while each is counted.
const TILE: usize = 64;
/// Columns whose extremes are found together, in SIMD lanes.
const SIMD_COLUMNS: usize = 8;
/// How many columns ahead the buckets to be counted are fetched.
const AHEAD: usize = 8;

/// Scratch space of [`insert_rows`].
struct Scratch {
    /// A column's values strictly between its extremes.
    between: Vec<f64>,
    /// Buckets outside a sketch's range, added after its column.
    outside: Vec<u32>,
}

crate::simd::dispatched! {
/// Counts runs of values into several sketches at once: `rows` holds one
/// run after another, each with one value per sketch, in the order of
/// `sketches`. The result is the same as inserting each sketch's values one
/// by one ([`Sketch::insert_all`]), in any batches.
///
/// The sketches are taken in tiles of 64, and each sketch's values counted
/// together: the extremes of the tile's columns are found first, in SIMD
/// lanes; values equal to a column's extremes are counted at once; and the
/// buckets of the columns ahead are fetched from memory while one is
/// counted. Compiled for AVX-512, AVX2 and the x86-64 baseline, chosen at
/// run time ([`crate::simd`]; integer counts: the same result).
pub fn insert_rows(sketches: &mut [&mut Sketch], rows: &[f64]) {
    let width = sketches.len();
    if width == 0 || rows.is_empty() {
        return;
    }
    assert_eq!(rows.len() % width, 0, "whole runs of values");
    debug_assert!(rows.iter().all(|x| x.is_finite()), "finite values");
    let runs = rows.len() / width;
    let mut lo = [f64::INFINITY; TILE];
    let mut hi = [f64::NEG_INFINITY; TILE];
    let mut scratch = Scratch {
        between: vec![0.0; runs],
        outside: Vec::new(),
    };
    for (t, tile) in sketches.chunks_mut(TILE).enumerate() {
        let first = t * TILE;
        let w = tile.len();
        // The next tile's values, fetched while this one is counted.
        prefetch_columns(rows, width, first + w..(first + w + TILE).min(width));
        let mut c = 0;
        while c + SIMD_COLUMNS <= w {
            let (l, h) = column_ranges(rows, width, first + c);
            lo[c..c + SIMD_COLUMNS].copy_from_slice(&l);
            hi[c..c + SIMD_COLUMNS].copy_from_slice(&h);
            c += SIMD_COLUMNS;
        }
        for c in c..w {
            (lo[c], hi[c]) = rows[first + c..]
                .iter()
                .step_by(width)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                    (if x < l { x } else { l }, if x > h { x } else { h })
                });
        }
        let mut touched = 0;
        for j in 0..w + AHEAD {
            // The buckets of the column AHEAD columns on.
            if let Some(ahead) = tile.get(j) {
                touched ^= ahead.fetch((lo[j], hi[j]));
            }
            let Some(j) = j.checked_sub(AHEAD) else {
                continue;
            };
            count_column(
                tile[j],
                rows,
                width,
                first + j,
                (lo[j], hi[j]),
                &mut scratch,
            );
        }
        std::hint::black_box(touched);
    }
}
}

crate::simd::dispatched! {
/// [`Sketch::count_column`], kept out of line and compiled for AVX-512,
/// AVX2 and the x86-64 baseline (integer counts: the same result).
#[inline(never)]
fn count_column(
    sketch: &mut Sketch,
    rows: &[f64],
    width: usize,
    c: usize,
    range: (f64, f64),
    scratch: &mut Scratch,
) {
    sketch.count_column(rows, width, c, range, scratch);
}
}

/// Has the values of `columns` of `rows` (one run after another, `width`
/// values a run) fetched into the cache, without waiting for them (on
/// x86-64; elsewhere it does nothing). A batch of the reference comes from
/// memory, so reading a tile ahead saves time on a whole study (the
/// figures, and why the criterion batch, which stays in cache, does not
/// show it, are in docs/performance.md, "Quantile sketches").
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
fn prefetch_columns(rows: &[f64], width: usize, columns: std::ops::Range<usize>) {
    if columns.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    for run in rows.chunks_exact(width) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
        for x in run[columns.clone()]
            .iter()
            .step_by(64 / std::mem::size_of::<f64>())
        {
            // SAFETY: as in `Sketch::fetch`: SSE is part of every x86-64
            // processor, a prefetch cannot fault, and the address is a
            // value's.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(std::ptr::from_ref(x).cast()) }
        }
    }
}

/// Notes a bucket outside a sketch's range (rare once the range is known).
#[cold]
#[inline(never)]
fn note_outside(outside: &mut Vec<u32>, i: u32) {
    outside.push(i);
}

/// The smallest and largest values of `SIMD_COLUMNS` adjacent columns of
/// `rows` (`width` values a run), from column `first` on.
fn column_ranges(
    rows: &[f64],
    width: usize,
    first: usize,
) -> ([f64; SIMD_COLUMNS], [f64; SIMD_COLUMNS]) {
    let mut lo = [f64::INFINITY; SIMD_COLUMNS];
    let mut hi = [f64::NEG_INFINITY; SIMD_COLUMNS];
    for run in rows.chunks_exact(width) {
        let x: &[f64; SIMD_COLUMNS] = run[first..first + SIMD_COLUMNS]
            .try_into()
            .expect("SIMD_COLUMNS values");
        for l in 0..SIMD_COLUMNS {
            lo[l] = if x[l] < lo[l] { x[l] } else { lo[l] };
            hi[l] = if x[l] > hi[l] { x[l] } else { hi[l] };
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Values as the engine's series have them: mass points (zero, of
    /// either sign; a base value), values near them, values over a range
    /// wide enough to fold, and now and then a negative one.
    fn column_value() -> impl Strategy<Value = f64> {
        prop_oneof![
            3 => Just(0.0),
            1 => Just(-0.0),
            3 => Just(5.0),
            3 => 4.0f64..6.0,
            2 => 1e-30f64..1e30,
            1 => Just(-2.0),
        ]
    }

    #[test]
    fn insert_rows_by_hand() {
        // Two sketches, four runs in two batches (the first finds the
        // sketches empty): 0, 2, 0, 2 and 3, 3, 5, 3.
        let rows = [0.0, 3.0, 2.0, 3.0, 0.0, 5.0, 2.0, 3.0];
        let mut s = [Sketch::new(), Sketch::new()];
        for batch in [&rows[..2], &rows[2..]] {
            let [a, b] = &mut s;
            insert_rows(&mut [a, b], batch);
        }
        // 2.0 has the bits 0x4000 << 48, so its bucket is 0x4000 << 3.
        let [a, b] = &s;
        assert_eq!((a.count, a.zeros), (4, 2));
        assert_eq!((a.min, a.at_min, a.max, a.at_max), (0.0, 2, 2.0, 2));
        assert_eq!((a.offset, a.counts.as_slice()), (0x4000 << 3, &[2][..]));
        // 3.0 is 0x4008 << 48 and 5.0 is 0x4014 << 48: 0x0C buckets apart
        // from 0x4008 << 3, i.e. 96.
        let mut counts = vec![0; 97];
        (counts[0], counts[96]) = (3, 1);
        assert_eq!((b.count, b.zeros), (4, 0));
        assert_eq!((b.min, b.at_min, b.max, b.at_max), (3.0, 3, 5.0, 1));
        assert_eq!((b.offset, &b.counts), (0x4008 << 3, &counts));
        assert_eq!(b.quantile(0.5), 3.0);
        assert_eq!(b.quantile(1.0), 5.0);
    }

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

        /// Counting batches of runs into many sketches at once is counting
        /// each sketch's values one by one: with mass points, zeros of
        /// either sign, negative values, ranges that fold, several tiles and
        /// a last one narrower than the SIMD lanes, and sketches that held
        /// values before (or none).
        #[test]
        fn insert_rows_equals_insert_all(
            (width, rows, before) in (1usize..150, 0usize..24).prop_flat_map(|(w, r)| (
                Just(w),
                proptest::collection::vec(column_value(), w * r),
                proptest::collection::vec(proptest::collection::vec(column_value(), 0..6), w),
            )),
            cut in 0usize..24,
        ) {
            let mut one_by_one: Vec<Sketch> = before
                .iter()
                .map(|xs| {
                    let mut s = Sketch::new();
                    s.insert_all(xs.iter().copied());
                    s
                })
                .collect();
            let mut batched = one_by_one.clone();
            for (c, s) in one_by_one.iter_mut().enumerate() {
                s.insert_all(rows.iter().skip(c).step_by(width).copied());
            }
            let cut = cut.min(rows.len() / width) * width;
            for batch in [&rows[..cut], &rows[cut..]] {
                let mut refs: Vec<&mut Sketch> = batched.iter_mut().collect();
                insert_rows(&mut refs, batch);
            }
            prop_assert_eq!(batched, one_by_one);
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
