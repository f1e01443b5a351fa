//! crmsim: a Monte Carlo simulator of critical raw material supply.
//!
//! An analyst describes a material market in a scenario file (demand, import
//! sources and their routes, disruptions such as export controls and blocked
//! shipping lanes, and policy levers such as strategic stockpiles); crmsim
//! draws many possible futures, steps each month by month, and reports how
//! likely and how large a shortfall is, and what each lever costs and buys.
//!
//! Data flows one way:
//! scenario file -> [`scenario::Scenario`] (validated once) ->
//! [`engine::simulate`] -> [`report::Report`] -> [`output`] renderers -> files.
//!
//! Reproducibility: every random number comes from a stream keyed by (seed,
//! run, name of what is drawn), so the same seed gives the same results bit
//! for bit whatever the number of threads, and policy variants of a scenario
//! see the same random world run by run (common random numbers). Every draw
//! goes through [`sampling`], whose samplers take their logarithms and
//! exponentials from `libm` rather than the platform's C library, so the
//! same seed gives the same bits on every platform too.

#![warn(missing_docs)]

pub mod analysis;
pub mod app;
pub mod cli;
pub mod engine;
pub mod output;
pub mod report;
pub mod sampling;
pub mod scenario;
pub mod simd;
pub mod stats;
pub mod storage;
pub mod vocab;
