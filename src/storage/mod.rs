//! What a simulation keeps and hands on: the per-run table (held in memory,
//! or spilled to an unnamed temporary file when it is large), the
//! [`Outcome`] of a study, and the partial results a shard of a study writes
//! for `crmsim merge`.
//!
//! Below the engine (which fills the table) and above the statistics (whose
//! per-step accumulators a partial result carries).

pub mod partial;
pub mod table;

use crate::stats::StepStats;
pub use table::{RunTable, Spill};

/// The result of simulating many runs: per-step statistics and per-run totals.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Statistics per material, variable and step.
    pub steps: StepStats,
    /// Totals per run and material.
    pub runs: RunTable,
}
