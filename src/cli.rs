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
    /// Simulate a scenario and write summary.json, timeseries.csv and runs.csv.
    Run(RunArgs),
    /// Check a scenario and print what was understood, defaults included.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Combine the partial results of shards (`run --shard K/N`) into the
    /// results of one run, identical to a single process's.
    Merge(MergeArgs),
}

/// Options of `crmsim merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard output folders (or their partial.crmsim files).
    #[arg(required = true)]
    pub partials: Vec<PathBuf>,
    /// Output folder (default: outputs/<simulation.name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No results table.
    #[arg(long, short)]
    pub quiet: bool,
}

/// One shard of a study: the `index`-th (from 0) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard number.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

/// Parses "K/N" with 0 <= K < N.
fn parse_shard(s: &str) -> Result<Shard, String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?}: write K/N, e.g. 0/4 for the first of four shards"))?;
    let index: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("{k:?} is not a shard number"))?;
    let count: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("{n:?} is not a shard count"))?;
    if count == 0 || index >= count {
        return Err(format!("shard {index}/{count}: K must be from 0 to N - 1"));
    }
    Ok(Shard { index, count })
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
    /// Simulate only the K-th of N contiguous blocks of runs (K from 0) and
    /// write a partial result for `crmsim merge`
    /// (default folder: outputs/<name>.shards/K-of-N).
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
}
