//! The command line: clap types only, no logic.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Monte Carlo simulator of critical raw material supply: how likely and how
/// large a shortfall is, and what stockpiles, refining and recycling buy.
#[derive(Debug, Parser)]
#[command(name = "crmsim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and write summary.json, timeseries.csv, runs.csv,
    /// charts and report.html.
    Run(RunArgs),
    /// Check a scenario and print what was understood, defaults included.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
}

/// Options of `crmsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Number of runs (overrides `simulation.runs`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub runs: Option<u64>,
    /// Seed (overrides `simulation.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default: outputs/<simulation.name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// No progress bar and no results table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Skip the charts (charts/*.png, *.svg) and report.html.
    #[arg(long)]
    pub no_charts: bool,
}
