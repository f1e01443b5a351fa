//! `crmsim criticality`: the EU criticality indicators (supply risk SR and
//! economic importance EI, European Commission 2017 method) from a sourced
//! indicator file, a dynamic SR recomputed from a scenario's simulated years,
//! and a ranked national list that weighs static and simulated risk.
//!
//! The indicator file has its own format ([`raw`]), validated once into
//! [`Indicators`]; a figure that is not known is left out and reported as a
//! missing input, never filled in. [`method`] holds the formulas and the
//! static assessment, [`dynamic`](mod@dynamic) the simulated one, [`risk`]
//! its risk measures per year with their Monte Carlo intervals, [`ranking`]
//! the lists (over the horizon and per year), and [`published`] sets the
//! computed values beside published ones.

pub mod dynamic;
pub mod input;
pub mod method;
pub mod published;
pub mod ranking;
pub mod raw;
pub mod risk;

pub use dynamic::{simulate_dynamic, Dynamic, DynamicError};
pub use input::{IndicatorError, Indicators, SrBasis, StageKind, YearlyWeights};
pub use method::{assess, Assessment};
pub use published::{compare, Comparison, Published, PublishedError};
pub use ranking::{rank, rank_years, Ranking, YearlyRanking};
