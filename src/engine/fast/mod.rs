//! What makes the engine fast, behind a small door: the model's step
//! (`super::step`) reads as the docs state it, and everything here only
//! makes it run sooner, never changes a bit of what it computes.
//!
//! - [`lanes`]: [`LANES`] runs side by side in one vector ([`Lanes`],
//!   [`Mask`]), with no fused multiply-add, so each lane's numbers are
//!   exactly those of its run stepped alone;
//! - [`lane_math`]: `exp`, `ln`, `expm1` and `erfc` of a vector, bit for bit
//!   as the `libm` crate computes them one number at a time;
//! - [`chacha`]: block 0 of the random streams of a group of runs at once
//!   ([`FirstBlockRng`]), the same numbers as each run's own generator.
//!
//! The step loop, the products' lifetimes, the streams' first blocks and
//! the quantile sketches are compiled for AVX-512, AVX2 and the x86-64
//! baseline where they are defined ([`crate::simd`]), and the processor
//! picks at run time unless `CRMSIM_SIMD` caps it; the tests compare the
//! paths. docs/performance.md holds the measurements behind each choice.

pub mod chacha;
pub mod lane_math;
pub mod lanes;

pub(crate) use chacha::FirstBlockRng;
pub(crate) use lanes::{Lanes, Mask, LANES};
