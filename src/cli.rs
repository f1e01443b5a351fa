//! The command line: clap types only, no logic.

use crate::analysis::catalogue::Month;
use crate::analysis::edit::{parse_setting, Setting};
use crate::analysis::optimize::Target;
use crate::output::Format;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::str::FromStr;

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
    /// params.csv, charts and report.html.
    Run(RunArgs),
    /// Check a scenario and print what was understood, defaults included.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Combine the partial results of shards (`run --shard K/N`) into the
    /// results of one run, identical to a single process's.
    Merge(MergeArgs),
    /// Run a grid of policy variants (`--set PATH=V1,V2,...`, several make a
    /// grid), all with the same seed; write sweep.csv.
    Sweep(SweepArgs),
    /// Compare scenarios run by run on the same random world: paired
    /// differences with 95 % intervals; write compare.csv.
    Compare(CompareArgs),
    /// Size each material's stockpile: the smallest that meets a risk
    /// target, the best net benefit, or the best use of a budget.
    Optimize(OptimizeArgs),
    /// The EU criticality indicators (supply risk, economic importance) from
    /// an indicator file; with --scenario, the supply risk of every simulated
    /// year and a ranked list weighing static and simulated risk.
    Criticality(CriticalityArgs),
    /// Fit event rates, durations and severities per (region, kind) from the
    /// catalogue of past disruptions; print a table, or with --toml the
    /// `[[disruption]]` tables to paste into a scenario.
    Catalogue(CatalogueArgs),
    /// Replay a past episode (a folder with scenario.toml and observed.csv)
    /// and set the simulated bands against what was observed; write
    /// backtest.csv, a chart per observed series and report.md, and print
    /// the coverage and the error.
    Backtest(BacktestArgs),
}

/// Options of `crmsim backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The episode folder, e.g. history/gallium-germanium-2023.
    pub episode: PathBuf,
    /// Number of runs (overrides `simulation.runs` of its scenario.toml);
    /// every run's series are kept, so at most 100,000.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub runs: Option<u64>,
    /// Seed (overrides `simulation.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default: `outputs/<episode folder>-backtest`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the charts.
    #[arg(long)]
    pub no_charts: bool,
}

/// Options of `crmsim catalogue`.
#[derive(Debug, Args)]
pub struct CatalogueArgs {
    /// Only events that hit this material (rows of `materials = all`, the
    /// route events, hit every material); the tables then name it alone.
    #[arg(long)]
    pub material: Option<String>,
    /// Only events of this region (ISO code) or route (e.g. RedSea); case is
    /// ignored.
    #[arg(long)]
    pub region: Option<String>,
    /// The catalogue (CSV).
    #[arg(long, value_name = "PATH", default_value = "data/disruptions.csv")]
    pub data: PathBuf,
    /// The regions' shares of world mine production (CSV, rows
    /// `mine_production_share:<REGION>`), by which a severity sourced as a
    /// share of world supply is divided when one material is fitted
    /// (default: `materials.csv` beside the catalogue, when there is one).
    #[arg(long, value_name = "PATH")]
    pub shares: Option<PathBuf>,
    /// The last month of exposure (default: the newest month in the
    /// catalogue); events still in force then are censored there.
    #[arg(long, value_name = "YYYY-MM", value_parser = Month::from_str)]
    pub until: Option<Month>,
    /// Print the `[[disruption]]` tables, with the rows behind them, instead
    /// of the table.
    #[arg(long)]
    pub toml: bool,
}

/// Options of `crmsim criticality`.
#[derive(Debug, Args)]
pub struct CriticalityArgs {
    /// The indicator file (TOML), e.g. criticality/eu-2023.toml.
    pub input: PathBuf,
    /// A scenario whose simulated sourcing mix and recycling give the dynamic
    /// supply risk, and whose shortfall risk joins the ranking.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Shared options; runs, seed and threads apply to --scenario
    /// (default folder: outputs/<criticality.name>-criticality).
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options shared by the analysis commands.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Number of runs (overrides `simulation.runs`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub runs: Option<u64>,
    /// Seed (overrides `simulation.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Output folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress and no table.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Options of `crmsim sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// A numeric field and its values, e.g.
    /// `stockpile.gallium.target_days=0,30,60,90,180`; give several for a grid.
    #[arg(long = "set", value_name = "PATH=V1,V2,...", value_parser = parse_setting, required = true)]
    pub settings: Vec<Setting>,
    /// Skip the cost-risk frontier charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Shared options (default folder: `outputs/<name>-sweep`).
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options of `crmsim compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The base scenario, then any variant scenarios.
    #[arg(required = true, num_args = 1..)]
    pub scenarios: Vec<PathBuf>,
    /// A policy file: the base with this file's `[[stockpile]]` and `[[option]]`
    /// tables in place of its own is one more variant (repeatable;
    /// docs/stockpiles.md, "Comparing designs").
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// A policy file for the base itself: its tables in place of the
    /// base's own stockpiles and options (e.g. a file with none, so that
    /// every design is measured against no stock).
    #[arg(long, value_name = "FILE")]
    pub base_policy: Option<PathBuf>,
    /// Skip the paired-difference charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Shared options; runs and seed default to the base's
    /// (default folder: outputs/<base name>-compare).
    #[command(flatten)]
    pub common: CommonArgs,
}

/// What `optimize` maximizes besides a risk target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    /// Avoided shortage cost less net stockpile cost.
    NetBenefit,
}

/// Options of `crmsim optimize`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("goal").required(true).args(["target", "objective", "budget_eur"])))]
pub struct OptimizeArgs {
    /// The scenario file (TOML); each material's first `[[stockpile]]` (with
    /// target_days) is sized, keeping its other rules.
    pub scenario: PathBuf,
    /// A risk target: p_shortfall<=P, shortfall_p95<=T, shortfall_mean<=T,
    /// shortfall_cvar95<=T (tonnes over the horizon), shortfall_fraction<=F
    /// or shortfall_fraction_p95<=F (shares of demand).
    #[arg(long, value_parser = Target::parse)]
    pub target: Option<Target>,
    /// Maximize net benefit instead.
    #[arg(long, value_enum)]
    pub objective: Option<ObjectiveArg>,
    /// Allocate this budget (net stockpile cost, EUR) across materials.
    #[arg(long)]
    pub budget_eur: Option<f64>,
    /// Largest stock considered, days of demand.
    #[arg(long, default_value_t = 365.0)]
    pub max_days: f64,
    /// Resolution of the answer, days.
    #[arg(long, default_value_t = 1.0)]
    pub step_days: f64,
    /// Shared options (default folder: `outputs/<name>-optimize`).
    #[command(flatten)]
    pub common: CommonArgs,
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
    /// Skip the charts (charts/*.png, *.svg) and report.html.
    #[arg(long)]
    pub no_charts: bool,
    /// How the per-run, drawn-number and per-step tables are written: csv
    /// (runs.csv, params.csv, timeseries.csv) or parquet (runs.parquet, ...).
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
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
    /// (default folder: `outputs/<name>.shards/K-of-N`).
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Skip the charts (charts/*.png, *.svg) and report.html.
    #[arg(long)]
    pub no_charts: bool,
    /// How the per-run, drawn-number and per-step tables are written: csv
    /// (runs.csv, params.csv, timeseries.csv) or parquet (runs.parquet, ...).
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}
