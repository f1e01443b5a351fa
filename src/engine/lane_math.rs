//! Exponential, logarithm and complementary error function of [`Lanes`],
//! giving in each lane exactly the bits of the `libm` crate's scalar
//! function (a port of musl's, itself from FreeBSD's msun).
//!
//! The step loop's price and the product lifetimes take their
//! transcendental functions from here (and the rest of the engine from the
//! scalar `libm`) rather than from the platform's C library, whose results
//! may differ in the last bit from one library, processor or version to
//! another. (The draws of the distributions themselves, by `rand_distr`,
//! still use the platform's functions.)

use super::lanes::Lanes;

/// `libm::exp` lane by lane.
#[inline(always)]
pub fn exp(x: Lanes) -> Lanes {
    x.map(libm::exp)
}

/// `libm::expm1` (`e^x - 1`) lane by lane.
#[inline(always)]
pub fn exp_m1(x: Lanes) -> Lanes {
    x.map(libm::expm1)
}

/// `libm::log` (natural logarithm) lane by lane.
#[inline(always)]
pub fn ln(x: Lanes) -> Lanes {
    x.map(libm::log)
}

/// `libm::erfc` lane by lane.
#[inline(always)]
pub fn erfc(x: Lanes) -> Lanes {
    x.map(libm::erfc)
}
