//! An exact sum of non-negative `f64` values.
//!
//! Floating-point addition is not associative, so a mean summed in a different
//! order (another thread count, another split of runs into shards) would
//! differ in its last bits. [`ExactSum`] keeps the sum as a big fixed-point
//! integer covering the whole `f64` range: adding and merging are exact, so the
//! result is the same whatever the order, and is rounded to `f64` only once.

use smallvec::SmallVec;

/// Bits of payload per limb; limbs are `u64`, so carries have room.
const LIMB_BITS: u32 = 32;
const LIMB_MASK: u64 = (1 << LIMB_BITS) - 1;
/// Bit position of 2^0: the smallest subnormal is 2^-1074 = bit 0.
const BIAS: i32 = 1074;

/// The exact sum of the non-negative finite values added so far.
///
/// One sum may be held in limbs laid out differently (zero limbs at either
/// end, left by the order and the way values came in: one by one, through a
/// window, by a merge), so `==` and serializing see it without them
/// (`ExactSum::canonical`): equal sums compare equal and write the same
/// bytes, however they were accumulated.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ExactSum {
    /// Index of `limbs[0]` in units of [`LIMB_BITS`] bits above 2^-1074.
    lo: u32,
    /// Little-endian limbs, each below 2^32 between operations; inline up
    /// to [`INLINE_LIMBS`] (sums within 2^139 of each other).
    limbs: SmallVec<[u64; INLINE_LIMBS]>,
}

/// Limbs held without a heap allocation.
const INLINE_LIMBS: usize = 6;

impl PartialEq for ExactSum {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}

impl Eq for ExactSum {}

/// Written as the derived form would write it (`lo`, then the limbs as a
/// sequence), from `ExactSum::canonical`: what is read back is the same
/// sum.
impl serde::Serialize for ExactSum {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (lo, limbs) = self.canonical();
        let mut st = serializer.serialize_struct("ExactSum", 2)?;
        st.serialize_field("lo", &lo)?;
        st.serialize_field("limbs", limbs)?;
        st.end()
    }
}

/// A sum held apart for [`ExactSum::add_via`]: a 128-bit integer whose bit 0
/// is at absolute position `low` (in units of 2^-1074), and how many values
/// it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    acc: u128,
    low: u32,
    n: u32,
}

impl Window {
    /// Adds `x` (finite, non-negative) if the window takes it: when it is
    /// not full and `x` is within its bits (a first value sets them).
    /// Zero is taken as it is: nothing to add.
    #[inline]
    pub fn try_add(&mut self, x: f64) -> bool {
        let Some((mant, p)) = parts(x) else {
            return true;
        };
        if self.n == 0 {
            self.low = p.saturating_sub(WINDOW_BELOW);
        } else if self.n == WINDOW_VALUES {
            return false;
        }
        match p.checked_sub(self.low) {
            Some(shift) if shift <= WINDOW_SHIFT => {
                self.acc += u128::from(mant) << shift;
                self.n += 1;
                true
            }
            _ => false,
        }
    }
}

/// Bits a window reaches below its first value: smaller values go to the
/// limbs.
const WINDOW_BELOW: u32 = 24;
/// The largest shift of a value's 53 bits in a window (values above go to
/// the limbs).
const WINDOW_SHIFT: u32 = 56;
/// Values a window holds before it is settled: below 2^11 values of below
/// 2^(53 + 56) each sum to below 2^120, within 128 bits.
const WINDOW_VALUES: u32 = (1 << 11) - 1;

/// The 53-bit (at most) integer and the absolute position of its bit 0
/// (in units of 2^-1074) of a positive finite `x`; `None` for zero, and
/// for what is not a finite non-negative number (which is ignored in
/// release builds: every value the engine records is one).
#[inline]
fn parts(x: f64) -> Option<(u64, u32)> {
    debug_assert!(x.is_finite() && x >= 0.0, "ExactSum::add({x})");
    if !(x.is_finite() && x > 0.0) {
        return None;
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    // x = mant * 2^(e), with bit 0 of mant at absolute position e + BIAS.
    let (mant, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    Some((mant, (e + BIAS) as u32))
}

/// 2^k as an `f64` (k within the `f64` exponent range, else 0 or infinity).
fn pow2(k: i32) -> f64 {
    if k > 1023 {
        f64::INFINITY
    } else if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else if k >= -1074 {
        f64::from_bits(1u64 << (k + 1074))
    } else {
        0.0
    }
}

impl ExactSum {
    /// The most memory one sum takes (limbs spanning the whole `f64` range,
    /// with room for carries), in bytes; used to refuse runs that would not fit.
    pub const MAX_BYTES: usize = std::mem::size_of::<ExactSum>()
        + ((2 * BIAS as usize + 2) / LIMB_BITS as usize + 4) * std::mem::size_of::<u64>();

    /// An empty sum (zero).
    pub fn new() -> Self {
        Self::default()
    }

    /// The limbs without zero limbs at either end, and the index of the
    /// lowest nonzero one (0 and no limbs for zero): the sum itself,
    /// however it was kept. Between operations every limb is below 2^32,
    /// so equal sums have equal canonical forms.
    fn canonical(&self) -> (u32, &[u64]) {
        let first = self.limbs.iter().position(|&l| l != 0);
        let last = self.limbs.iter().rposition(|&l| l != 0);
        match (first, last) {
            (Some(a), Some(b)) => (self.lo + a as u32, &self.limbs[a..=b]),
            _ => (0, &[]),
        }
    }

    /// Makes limbs `from..to` (absolute indices) addressable.
    #[cold]
    fn ensure(&mut self, from: u32, to: u32) {
        if self.limbs.is_empty() {
            self.lo = from;
            self.limbs.resize((to - from) as usize, 0);
            return;
        }
        if from < self.lo {
            let extra = (self.lo - from) as usize;
            self.limbs.insert_many(0, std::iter::repeat_n(0, extra));
            self.lo = from;
        }
        let hi = self.lo as usize + self.limbs.len();
        if to as usize > hi {
            self.limbs.resize(to as usize - self.lo as usize, 0);
        }
    }

    /// Propagates carries upward from relative limb `i`, growing as needed.
    fn carry_from(&mut self, mut i: usize) {
        while i < self.limbs.len() {
            let carry = self.limbs[i] >> LIMB_BITS;
            if carry == 0 {
                return;
            }
            self.limbs[i] &= LIMB_MASK;
            if i + 1 == self.limbs.len() {
                self.limbs.push(0);
            }
            self.limbs[i + 1] += carry;
            i += 1;
        }
    }

    /// Adds `x`, which must be finite and non-negative (else it is ignored in
    /// release builds: every value the engine records is).
    #[inline]
    pub fn add(&mut self, x: f64) {
        if let Some((mant, p)) = parts(x) {
            self.add_at(mant, p);
        }
    }

    /// Adds `v * 2^(p - 1074)`: `v` with its bit 0 at absolute position `p`.
    #[inline]
    fn add_at(&mut self, v: u64, p: u32) {
        let limb = p / LIMB_BITS;
        let wide = u128::from(v) << (p % LIMB_BITS);
        // Usually the limbs are there: a cell's sums keep their magnitude.
        let end = self.lo as usize + self.limbs.len();
        if self.limbs.is_empty() || limb < self.lo || limb as usize + 3 > end {
            self.ensure(limb, limb + 3);
        }
        let base = (limb - self.lo) as usize;
        // Each limb is below 2^32, so limb + chunk + carry fits in 33 bits.
        let chunk = |j: u32| ((wide >> (LIMB_BITS * j)) as u64) & LIMB_MASK;
        let l: &mut [u64; 3] = (&mut self.limbs[base..base + 3])
            .try_into()
            .expect("three limbs");
        let v0 = l[0] + chunk(0);
        let v1 = l[1] + chunk(1) + (v0 >> LIMB_BITS);
        let v2 = l[2] + chunk(2) + (v1 >> LIMB_BITS);
        *l = [v0 & LIMB_MASK, v1 & LIMB_MASK, v2 & LIMB_MASK];
        let carry = v2 >> LIMB_BITS;
        if carry > 0 {
            self.carry_above(base + 3, carry);
        }
    }

    /// Adds `x` (as [`Self::add`]) through `window`, where it is held until
    /// [`Self::settle`]: a sum of many values of about one magnitude adds
    /// most of them to one 128-bit integer there, faster than to the
    /// limbs. Exact all the same: the sum is the same, whichever way each
    /// value went.
    #[inline]
    pub fn add_via(&mut self, window: &mut Window, x: f64) {
        if !window.try_add(x) {
            self.add_beside(window, x);
        }
    }

    /// [`Self::add_via`] for an `x` that `window` did not take: it settles
    /// a full window and starts it again at `x`, or adds `x` to the limbs.
    #[cold]
    pub fn add_beside(&mut self, window: &mut Window, x: f64) {
        let Some((mant, p)) = parts(x) else {
            return;
        };
        if window.n == WINDOW_VALUES {
            self.settle(window);
            if window.try_add(x) {
                return;
            }
        }
        self.add_at(mant, p);
    }

    /// Adds what `window` holds (from [`Self::add_via`]) and empties it.
    pub fn settle(&mut self, window: &mut Window) {
        if window.n > 0 {
            self.add_at(window.acc as u64, window.low);
            self.add_at((window.acc >> 64) as u64, window.low + 64);
        }
        *window = Window::default();
    }

    /// Adds `carry` to relative limb `i` (pushed if missing) and propagates.
    #[cold]
    fn carry_above(&mut self, i: usize, carry: u64) {
        if i == self.limbs.len() {
            self.limbs.push(0);
        }
        self.limbs[i] += carry;
        self.carry_from(i);
    }

    /// Adds another exact sum: the result is exact.
    pub fn merge(&mut self, other: &ExactSum) {
        if other.limbs.is_empty() {
            return;
        }
        let top = other.lo + other.limbs.len() as u32;
        self.ensure(other.lo, top);
        let base = (other.lo - self.lo) as usize;
        for (j, &l) in other.limbs.iter().enumerate() {
            self.limbs[base + j] += l;
        }
        self.carry_from(base);
        // Every limb we touched may carry; a second pass settles them.
        for i in base..self.limbs.len() {
            self.carry_from(i);
        }
    }

    /// The sum rounded to `f64` (within one unit in the last place; the same
    /// bits for the same exact sum, however it was accumulated).
    pub fn value(&self) -> f64 {
        self.limbs
            .iter()
            .enumerate()
            .map(|(i, &l)| l as f64 * pow2((self.lo as i32 + i as i32) * LIMB_BITS as i32 - BIAS))
            .fold(0.0, |acc, x| acc + x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sums_small_integers_and_fractions_exactly() {
        let mut s = ExactSum::new();
        for x in [0.5, 0.25, 3.0, 1e-300, 1e300, 5e-324] {
            s.add(x);
        }
        // 1e300 dwarfs the rest in f64, but the integer is exact: subtracting
        // it back (by a second sum) is not possible, so check pieces instead.
        let mut a = ExactSum::new();
        a.add(0.5);
        a.add(0.25);
        a.add(3.0);
        assert_eq!(a.value(), 3.75);
        assert_eq!(s.value(), 1e300);
    }

    /// The sum of `xs` in the given order, and the same in f64 one by one.
    fn exact_and_naive(xs: &[f64]) -> (f64, f64) {
        let mut s = ExactSum::new();
        xs.iter().for_each(|&x| s.add(x));
        (s.value(), xs.iter().fold(0.0, |acc, &x| acc + x))
    }

    /// Sums whose f64 running total drops every small value: each is at
    /// most half a unit in the last place of the total (a tie rounds to the
    /// even total), so plain addition never moves. The exact sums are
    /// worked out in integers (or halves) here, each representable in f64,
    /// so the one rounding of `value` must give them exactly, in any order.
    #[test]
    fn small_values_after_a_large_one_are_not_lost() {
        // 1e16 (ulp 2) and a thousand 1s: 10,000,000,000,001,000, even and
        // below 2^54, so an f64. Plain f64: 1e16 + 1 ties to 1e16, every time.
        let mut xs = vec![1e16];
        xs.extend([1.0; 1000]);
        let reference = (10_000_000_000_000_000u64 + 1000) as f64;
        assert_eq!(reference as u64, 10_000_000_000_001_000, "an f64");
        let (exact, naive) = exact_and_naive(&xs);
        assert_eq!(naive, 1e16, "the case defeats f64");
        assert_eq!(exact, reference);
        // The small values first: f64 gets this order right, and the exact
        // sum is the same.
        xs.reverse();
        assert_eq!(exact_and_naive(&xs), (reference, reference));

        // 2^62 (ulp 2^10) and 1,024 ones: 2^62 + 2^10 exactly.
        let mut xs = vec![2f64.powi(62)];
        xs.extend([1.0; 1024]);
        let (exact, naive) = exact_and_naive(&xs);
        assert_eq!(naive, 2f64.powi(62));
        assert_eq!(exact, ((1u64 << 62) + (1 << 10)) as f64);

        // 1 (ulp 2^-52) and 2^-53 twice: 1 + 2^-52, the next f64 after 1.
        let (exact, naive) = exact_and_naive(&[1.0, 2f64.powi(-53), 2f64.powi(-53)]);
        assert_eq!(naive, 1.0);
        assert_eq!(exact, 1.0 + f64::EPSILON);

        // 2^53 (ulp 2), four halves and a 1: 2^53 + 3, a tie between
        // 2^53 + 2 and 2^53 + 4, rounded to the even mantissa: 2^53 + 4.
        // Plain f64 loses each half and then the 1 (a tie, to 2^53).
        let (exact, naive) = exact_and_naive(&[2f64.powi(53), 0.5, 0.5, 0.5, 0.5, 1.0]);
        assert_eq!(naive, 2f64.powi(53));
        assert_eq!(exact, ((1u64 << 53) + 4) as f64);
    }

    /// Values of very different magnitudes, interleaved so that f64 loses
    /// bits at several places: the exact sum equals the integer sum
    /// (computed in u128), which is an f64 here.
    #[test]
    fn interleaved_magnitudes_sum_to_the_integer_sum() {
        // 2^60 three times (the total's ulp is 2^8 past 2^60, 2^9 past
        // 2^61, so 127 and 129 are each below half of it), 100 values of
        // 129, 56 of 127, 2^40 + 2^20 and 468:
        // 3 x 2^60 + 2^40 + 2^20 + (12,900 + 7,112 + 468 = 20,480 = 40 x 512),
        // a multiple of 2^9 below 2^62, so an f64.
        let mut xs = Vec::new();
        for k in 0..100 {
            if k % 40 == 0 {
                xs.push(2f64.powi(60));
            }
            xs.push(129.0);
            if k < 56 {
                xs.push(127.0);
            }
        }
        xs.push(2f64.powi(40) + 2f64.powi(20));
        xs.push(468.0);
        let reference: u128 = 3 * (1u128 << 60) + (1 << 40) + (1 << 20) + 20_480;
        let integer_sum: u128 = xs.iter().map(|&x| x as u128).sum();
        assert_eq!(integer_sum, reference, "the hand sum above");
        assert_eq!(reference as f64 as u128, reference, "an f64");
        let (exact, naive) = exact_and_naive(&xs);
        assert_ne!(naive, reference as f64, "the case defeats f64");
        assert_eq!(exact, reference as f64);
        // In reverse and sorted orders too.
        xs.reverse();
        assert_eq!(exact_and_naive(&xs).0, reference as f64);
        xs.sort_by(f64::total_cmp);
        assert_eq!(exact_and_naive(&xs).0, reference as f64);
    }

    #[test]
    fn classic_cancellation_case_is_exact() {
        // 0.1 added ten times in f64 gives 0.9999999999999999; the exact sum of
        // those ten f64 values (each 0.1000000000000000055511151231257827)
        // rounds to 1.0000000000000000555 -> 1.0.
        let mut s = ExactSum::new();
        let mut naive = 0.0;
        for _ in 0..10 {
            s.add(0.1);
            naive += 0.1;
        }
        assert_eq!(naive, 0.9999999999999999);
        assert_eq!(s.value(), 1.0);
    }

    /// The limbs of `s` without zero limbs at either end, and the index of
    /// the lowest nonzero one: the sum itself, however it was kept.
    fn trimmed(s: &ExactSum) -> (u32, Vec<u64>) {
        let (lo, limbs) = s.canonical();
        (lo, limbs.to_vec())
    }

    /// 1 and 2^30 through a window, in both orders (limbs of 32 bits, limb
    /// k from 2^(32k - 1074)). 1 first: the window starts 24 bits below 1
    /// and takes 2^30 too; settling it adds its halves at limbs 31 and 33,
    /// three limbs each: limbs 31 to 35. 2^30 first: the window starts 24
    /// bits below 2^30, 1 goes to limbs 31 to 33, and settling adds the
    /// halves at limbs 32 and 34: limbs 31 to 36. The top bit is in limb 34
    /// either way, so the limbs above are zeros, one more in the second. One
    /// sum, two layouts: equal all the same, and written as the same bytes.
    #[test]
    fn equal_sums_kept_in_different_limbs_are_equal_and_write_the_same_bytes() {
        let through_window = |xs: &[f64]| {
            let mut s = ExactSum::new();
            let mut w = Window::default();
            for &x in xs {
                s.add_via(&mut w, x);
            }
            s.settle(&mut w);
            s
        };
        let a = through_window(&[1.0, 2f64.powi(30)]);
        let b = through_window(&[2f64.powi(30), 1.0]);
        let mut c = ExactSum::new();
        c.add(2f64.powi(30));
        c.add(1.0);
        assert_ne!(
            (a.lo, &a.limbs[..]),
            (b.lo, &b.limbs[..]),
            "the layouts differ (else this test shows nothing)"
        );
        assert_eq!(b.limbs.last(), Some(&0), "a zero limb on top");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.value().to_bits(), (1.0 + 2f64.powi(30)).to_bits());
        assert_eq!(a.value().to_bits(), b.value().to_bits());
        let bytes = |s: &ExactSum| postcard::to_stdvec(s).unwrap();
        assert_eq!(bytes(&a), bytes(&b));
        assert_eq!(bytes(&a), bytes(&c));
        // Read back: the same sum, the same value, the same bytes again.
        let back: ExactSum = postcard::from_bytes(&bytes(&b)).unwrap();
        assert_eq!(back, a);
        assert_eq!(back.value().to_bits(), a.value().to_bits());
        assert_eq!(bytes(&back), bytes(&a));
        // What the derived form wrote (all the limbs) reads as the same sum.
        let raw = postcard::to_stdvec(&(b.lo, b.limbs.to_vec())).unwrap();
        let from_raw: ExactSum = postcard::from_bytes(&raw).unwrap();
        assert_eq!(from_raw, a);
        // Zero, however it came, is zero.
        let mut zero = ExactSum::new();
        zero.add(0.0);
        zero.merge(&ExactSum::new());
        let mut w = Window::default();
        zero.add_via(&mut w, 0.0);
        zero.settle(&mut w);
        assert_eq!(zero, ExactSum::new());
        assert_ne!(zero, a);
        assert_eq!(bytes(&zero), bytes(&ExactSum::new()));
    }

    #[test]
    fn a_window_takes_values_near_its_first_and_settles_when_full() {
        // 3,000 values of 1.5 (more than a window holds), one of 2^-40 (below
        // the window's 24 bits under its first value) and one of 2^60 (above
        // its 56 bits): 4,500 + 2^-40 + 2^60 exactly.
        let mut via = ExactSum::new();
        let mut w = Window::default();
        let mut one_by_one = ExactSum::new();
        let mut xs = vec![1.5; 3000];
        xs.insert(10, 2f64.powi(-40));
        xs.insert(2500, 2f64.powi(60));
        xs.push(0.0);
        for &x in &xs {
            via.add_via(&mut w, x);
            one_by_one.add(x);
        }
        // Not all in the limbs before settling.
        assert_ne!(trimmed(&via), trimmed(&one_by_one));
        via.settle(&mut w);
        assert_eq!(w, Window::default());
        assert_eq!(trimmed(&via), trimmed(&one_by_one));
        assert_eq!(via.value(), 4500.0 + 2f64.powi(60));
    }

    proptest! {
        /// Adding through a window, settled once or more along the way,
        /// gives the same sum as adding each value to the limbs: values of
        /// one magnitude, of others below and above, zeros, and more values
        /// than a window holds.
        #[test]
        fn a_window_gives_the_same_sum(
            xs in proptest::collection::vec(
                prop_oneof![
                    6 => 1.0f64..2.0,
                    1 => 1e-30f64..1e30,
                    1 => Just(0.0),
                    1 => 1e-320f64..1e-300,
                ],
                0..5000,
            ),
            settle_at in 0usize..5000,
        ) {
            let mut via = ExactSum::new();
            let mut w = Window::default();
            let mut one_by_one = ExactSum::new();
            for (i, &x) in xs.iter().enumerate() {
                via.add_via(&mut w, x);
                one_by_one.add(x);
                if i == settle_at {
                    via.settle(&mut w);
                }
            }
            via.settle(&mut w);
            prop_assert_eq!(trimmed(&via), trimmed(&one_by_one));
            prop_assert_eq!(via.value().to_bits(), one_by_one.value().to_bits());
        }

        /// Merge in any split and any order equals adding everything at once.
        #[test]
        fn order_and_split_do_not_matter(
            xs in proptest::collection::vec(0.0f64..1e12, 1..200),
            cut in 0usize..200,
        ) {
            let cut = cut.min(xs.len());
            let mut all = ExactSum::new();
            xs.iter().for_each(|&x| all.add(x));
            let mut rev = ExactSum::new();
            xs.iter().rev().for_each(|&x| rev.add(x));
            let (mut a, mut b) = (ExactSum::new(), ExactSum::new());
            xs[..cut].iter().for_each(|&x| a.add(x));
            xs[cut..].iter().for_each(|&x| b.add(x));
            b.merge(&a);
            prop_assert_eq!(all.value().to_bits(), rev.value().to_bits());
            prop_assert_eq!(all.value().to_bits(), b.value().to_bits());
            // And close to the naive sum.
            let naive: f64 = xs.iter().sum();
            prop_assert!((all.value() - naive).abs() <= 1e-12 * naive.max(1.0));
        }
    }
}
