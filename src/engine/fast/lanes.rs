//! Numbers of several runs side by side, so that one instruction steps them
//! all (SIMD lanes across runs).
//!
//! Every operation is the `f64` operation applied lane by lane, in the same
//! order of operations as one run's scalar code would do it, so each lane
//! gives exactly the bits a run simulated alone would. Branches of the model
//! become [`Lanes::select`]: both sides are computed and each lane keeps its
//! own.

use std::ops::{Add, AddAssign, BitAnd, BitOr, Div, Mul, Neg, Not, Sub};

/// Runs stepped together. Eight `f64` fill one 512-bit vector (AVX-512);
/// on 256-bit vectors (AVX2) an operation takes two instructions, on
/// 128-bit ones (the x86-64 baseline) four. Eight rather than four halve
/// the instructions per run with AVX-512 (docs/performance.md).
pub const LANES: usize = 8;

/// One number per lane.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(align(64))]
pub struct Lanes(pub [f64; LANES]);

/// One condition per lane, as all bits set (true) or clear (false), the
/// form vector comparisons give, so that a select is three bit operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(align(64))]
pub struct Mask([u64; LANES]);

impl Lanes {
    /// The same value in every lane.
    #[inline(always)]
    pub const fn splat(x: f64) -> Lanes {
        Lanes([x; LANES])
    }

    /// `f(lane)` for each lane.
    #[inline(always)]
    pub fn from_fn(f: impl FnMut(usize) -> f64) -> Lanes {
        Lanes(std::array::from_fn(f))
    }

    /// `f` applied to each lane.
    #[inline(always)]
    pub fn map(self, mut f: impl FnMut(f64) -> f64) -> Lanes {
        Lanes(self.0.map(&mut f))
    }

    /// `f64::min` lane by lane.
    #[inline(always)]
    pub fn min(self, o: Lanes) -> Lanes {
        Lanes(std::array::from_fn(|l| self.0[l].min(o.0[l])))
    }

    /// `f64::max` lane by lane.
    #[inline(always)]
    pub fn max(self, o: Lanes) -> Lanes {
        Lanes(std::array::from_fn(|l| self.0[l].max(o.0[l])))
    }

    /// Where `self > o`.
    #[inline(always)]
    pub fn gt(self, o: Lanes) -> Mask {
        Mask::from_fn(|l| self.0[l] > o.0[l])
    }

    /// Where `self < o`.
    #[inline(always)]
    pub fn lt(self, o: Lanes) -> Mask {
        Mask::from_fn(|l| self.0[l] < o.0[l])
    }

    /// Where `self <= o`.
    #[inline(always)]
    pub fn le(self, o: Lanes) -> Mask {
        Mask::from_fn(|l| self.0[l] <= o.0[l])
    }

    /// Where `self == o`.
    #[inline(always)]
    pub fn equals(self, o: Lanes) -> Mask {
        Mask::from_fn(|l| self.0[l] == o.0[l])
    }

    /// `if m { a } else { b }` lane by lane.
    #[inline(always)]
    pub fn select(m: Mask, a: Lanes, b: Lanes) -> Lanes {
        Lanes(std::array::from_fn(|l| {
            f64::from_bits((a.0[l].to_bits() & m.0[l]) | (b.0[l].to_bits() & !m.0[l]))
        }))
    }
}

impl Mask {
    /// `f(lane)` for each lane.
    #[inline(always)]
    pub fn from_fn(mut f: impl FnMut(usize) -> bool) -> Mask {
        Mask(std::array::from_fn(|l| if f(l) { !0 } else { 0 }))
    }

    /// Whether lane `l` holds.
    #[inline(always)]
    pub fn get(self, l: usize) -> bool {
        self.0[l] != 0
    }

    /// Sets lane `l`.
    #[inline(always)]
    pub fn set(&mut self, l: usize) {
        self.0[l] = !0;
    }

    /// The lanes that hold as bits, lane `l` in bit `l`.
    #[inline(always)]
    pub fn bits(self) -> u32 {
        self.0
            .iter()
            .enumerate()
            .fold(0, |acc, (l, &m)| acc | (((m >> 63) as u32) << l))
    }

    /// Whether any lane holds.
    #[inline(always)]
    pub fn any(self) -> bool {
        self.0.iter().fold(0, |acc, &m| acc | m) != 0
    }

    /// Whether every lane holds.
    #[inline(always)]
    pub fn all(self) -> bool {
        self.0.iter().fold(!0, |acc, &m| acc & m) != 0
    }

    /// The same condition in every lane.
    #[inline(always)]
    pub const fn splat(b: bool) -> Mask {
        Mask([if b { !0 } else { 0 }; LANES])
    }
}

macro_rules! lane_op {
    ($trait:ident, $f:ident, $op:tt) => {
        impl $trait for Lanes {
            type Output = Lanes;
            #[inline(always)]
            fn $f(self, o: Lanes) -> Lanes {
                Lanes(std::array::from_fn(|l| self.0[l] $op o.0[l]))
            }
        }
        impl $trait<f64> for Lanes {
            type Output = Lanes;
            #[inline(always)]
            fn $f(self, o: f64) -> Lanes {
                Lanes(std::array::from_fn(|l| self.0[l] $op o))
            }
        }
        impl $trait<Lanes> for f64 {
            type Output = Lanes;
            #[inline(always)]
            fn $f(self, o: Lanes) -> Lanes {
                Lanes(std::array::from_fn(|l| self $op o.0[l]))
            }
        }
    };
}

lane_op!(Add, add, +);
lane_op!(Sub, sub, -);
lane_op!(Mul, mul, *);
lane_op!(Div, div, /);

impl AddAssign for Lanes {
    #[inline(always)]
    fn add_assign(&mut self, o: Lanes) {
        *self = *self + o;
    }
}

impl Neg for Lanes {
    type Output = Lanes;
    #[inline(always)]
    fn neg(self) -> Lanes {
        self.map(|x| -x)
    }
}

impl BitAnd for Mask {
    type Output = Mask;
    #[inline(always)]
    fn bitand(self, o: Mask) -> Mask {
        Mask(std::array::from_fn(|l| self.0[l] & o.0[l]))
    }
}

impl BitOr for Mask {
    type Output = Mask;
    #[inline(always)]
    fn bitor(self, o: Mask) -> Mask {
        Mask(std::array::from_fn(|l| self.0[l] | o.0[l]))
    }
}

impl Not for Mask {
    type Output = Mask;
    #[inline(always)]
    fn not(self) -> Mask {
        Mask(self.0.map(|b| !b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four cases, repeated over the lanes.
    fn four(v: [f64; 4]) -> Lanes {
        Lanes::from_fn(|l| v[l % 4])
    }

    fn bools(m: Mask) -> Vec<bool> {
        (0..LANES).map(|l| m.get(l)).collect()
    }

    fn four_bools(v: [bool; 4]) -> Vec<bool> {
        (0..LANES).map(|l| v[l % 4]).collect()
    }

    #[test]
    fn each_lane_is_its_own_scalar_operation() {
        let a = four([1.0, -2.0, 0.1, 3.0]);
        let b = four([0.2, 5.0, 0.2, 3.0]);
        assert_eq!((a + b).0, four([1.2, 3.0, 0.1 + 0.2, 6.0]).0);
        assert_eq!((a - b).0, four([0.8, -7.0, 0.1 - 0.2, 0.0]).0);
        assert_eq!((a * b).0, four([1.0 * 0.2, -10.0, 0.1 * 0.2, 9.0]).0);
        assert_eq!((a / b).0, four([5.0, -0.4, 0.5, 1.0]).0);
        assert_eq!(a.min(b).0, four([0.2, -2.0, 0.1, 3.0]).0);
        assert_eq!(a.max(b).0, four([1.0, 5.0, 0.2, 3.0]).0);
        assert_eq!(bools(a.gt(b)), four_bools([true, false, false, false]));
        assert_eq!(bools(a.le(b)), four_bools([false, true, true, true]));
        assert_eq!(bools(a.equals(b)), four_bools([false, false, false, true]));
        let m = a.lt(b);
        assert_eq!(Lanes::select(m, a, b).0, four([0.2, -2.0, 0.1, 3.0]).0);
        assert!(m.any() && !Mask::splat(false).any());
        // Lanes 1 and 2 of every four: 0b0110 per four lanes.
        let every_four: u32 = (0..LANES / 4).map(|k| 0b0110 << (4 * k)).sum();
        assert_eq!(m.bits(), every_four);
        assert_eq!(Mask::splat(true).bits(), (1 << LANES) - 1);
        assert!(Mask::splat(true).all() && !m.all());
        assert_eq!((-a).0, four([-1.0, 2.0, -0.1, -3.0]).0);
        assert_eq!((-Lanes::splat(0.0)).0[0].to_bits(), (-0.0f64).to_bits());
        let third = Mask::from_fn(|l| l % 4 == 3);
        assert_eq!(
            bools(!m & Mask::splat(true) | third),
            four_bools([true, false, false, true])
        );
    }
}
