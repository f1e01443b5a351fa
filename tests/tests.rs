//! crmsim's integration tests, one crate (one link step) with one module per
//! area and the helpers they share in `util`.
//!
//! Each area is a folder (`tests/<area>/mod.rs`): cargo builds every
//! `tests/*.rs` file as a test crate of its own, so only this file may sit
//! at the top.

mod util;

mod analysis;
mod backtest;
mod catalogue;
mod charts;
mod cli;
mod criticality;
mod formats;
mod hostile_input;
mod instruments;
mod inventory;
mod joint;
mod market;
mod memory;
mod model;
mod numerics;
mod products;
mod properties;
mod refining;
mod samplers;
mod scenarios;
mod shards;
mod simd;
mod stability;
mod stockpiles;
