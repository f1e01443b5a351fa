//! The words every layer shares: the per-step variables and per-run
//! metrics a simulation records, and the run plan (which runs, with which
//! seed) that the command line chooses apart from the scenario.
//!
//! It sits below the scenario, the engine, the statistics and the outputs,
//! and imports none of them.

/// Runs per block: the unit of work and of reproducible summation.
pub const BLOCK_RUNS: u64 = 64;

/// The per-step variables recorded for each material, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    /// Demand D(t), tonnes per step.
    Demand,
    /// What domestic output and the market deliver to the region's users,
    /// releases aside: consumption less release.
    Supply,
    /// Supply less domestic output: imports delivered, compensation included.
    Imports,
    /// Domestic secondary supply (recycling).
    Secondary,
    /// Domestic refinery output.
    Refinery,
    /// Stockpile level at the end of the step, tonnes.
    StockpileLevel,
    /// Stockpile release.
    Release,
    /// Unmet demand after release.
    Shortfall,
    /// The region's price, EUR per tonne: the world price, or above it
    /// when the region's access is cut.
    Price,
    /// Material held in products in use, at the end of the step, tonnes.
    InUseStock,
    /// Material in products reaching end of life.
    Eol,
    /// Material in end-of-life products that are collected.
    Collected,
    /// Share of the online refinery capacity whose feed arrives (1 without refineries).
    FeedAvailability,
    /// Imports delivered to the region and passed on (a trade hub).
    Reexports,
    /// The world price, EUR per tonne.
    WorldPrice,
    /// What the region's users get: delivered, releases included.
    Consumption,
    /// Demand given up at the region's price: demand less what users want
    /// at that price.
    DemandReduction,
}

/// Number of [`Variable`]s.
pub const N_VARIABLES: usize = 17;

impl Variable {
    /// All variables, in output order.
    pub const ALL: [Variable; N_VARIABLES] = [
        Variable::Demand,
        Variable::Supply,
        Variable::Imports,
        Variable::Secondary,
        Variable::Refinery,
        Variable::StockpileLevel,
        Variable::Release,
        Variable::Shortfall,
        Variable::Price,
        Variable::InUseStock,
        Variable::Eol,
        Variable::Collected,
        Variable::FeedAvailability,
        Variable::Reexports,
        Variable::WorldPrice,
        Variable::Consumption,
        Variable::DemandReduction,
    ];

    /// The name used in `timeseries.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Variable::Demand => "demand",
            Variable::Supply => "supply",
            Variable::Imports => "imports",
            Variable::Secondary => "secondary",
            Variable::Refinery => "refinery",
            Variable::StockpileLevel => "stockpile_level",
            Variable::Release => "release",
            Variable::Shortfall => "shortfall",
            Variable::Price => "price",
            Variable::InUseStock => "in_use_stock",
            Variable::Eol => "eol",
            Variable::Collected => "collected",
            Variable::FeedAvailability => "feed_availability",
            Variable::Reexports => "reexports",
            Variable::WorldPrice => "world_price",
            Variable::Consumption => "consumption",
            Variable::DemandReduction => "demand_reduction",
        }
    }
}

/// The per-run totals kept for each material, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Total demand, tonnes.
    DemandT,
    /// Total supply used, tonnes.
    SupplyT,
    /// Total shortfall, tonnes.
    ShortfallT,
    /// Shortfall / demand over the horizon.
    ShortfallFraction,
    /// Steps with a shortfall.
    ShortfallSteps,
    /// Longest run of consecutive steps with a shortfall.
    LongestShortfallSteps,
    /// Total stockpile release, tonnes.
    ReleaseT,
    /// Total secondary supply, tonnes.
    SecondaryT,
    /// Total refinery output, tonnes.
    RefineryT,
    /// Stockpile purchases and holding costs, EUR (present value).
    StockpileCostEur,
    /// The rationed tonnes times the value of lost load less the price
    /// they were not paid, EUR (present value).
    ShortageCostEur,
    /// Material in products reaching end of life, tonnes.
    EolT,
    /// Material collected from end-of-life products, tonnes.
    CollectedT,
    /// Refinery capex (in the online year) and opex, EUR.
    RefineryCostEur,
    /// Re-exports delivered, tonnes.
    ReexportsT,
    /// Value of the stock left at the horizon's end, at the base price,
    /// discounted like the costs, EUR.
    StockpileEndValueEur,
    /// Price cost less producer gain plus shortage cost, EUR (present value).
    WelfareLossEur,
    /// The users' loss of consumer surplus at the region's price, EUR
    /// (present value).
    PriceCostEur,
    /// The region's own output sold at the region's price above the base
    /// price, EUR (present value).
    ProducerGainEur,
    /// Demand given up at the price, tonnes.
    DemandReductionT,
    /// Stockpile releases at the region's price, EUR (present value).
    StockpileSalesEur,
    /// The largest multiple of the base price the region's price reaches.
    PeakPriceMultiple,
    /// Tonnes called from options (reserved supply).
    OptionCalledT,
    /// Options' reservation fees, EUR (present value).
    OptionFeeEur,
    /// Options' calls at their strike prices, EUR (present value).
    OptionCallEur,
    /// The tonnes called, at the region's price, EUR (present value).
    OptionSalesEur,
}

/// Number of [`Metric`]s.
pub const N_METRICS: usize = 26;

impl Metric {
    /// All metrics, in output order.
    pub const ALL: [Metric; N_METRICS] = [
        Metric::DemandT,
        Metric::SupplyT,
        Metric::ShortfallT,
        Metric::ShortfallFraction,
        Metric::ShortfallSteps,
        Metric::LongestShortfallSteps,
        Metric::ReleaseT,
        Metric::SecondaryT,
        Metric::RefineryT,
        Metric::StockpileCostEur,
        Metric::ShortageCostEur,
        Metric::EolT,
        Metric::CollectedT,
        Metric::RefineryCostEur,
        Metric::ReexportsT,
        Metric::StockpileEndValueEur,
        Metric::WelfareLossEur,
        Metric::PriceCostEur,
        Metric::ProducerGainEur,
        Metric::DemandReductionT,
        Metric::StockpileSalesEur,
        Metric::PeakPriceMultiple,
        Metric::OptionCalledT,
        Metric::OptionFeeEur,
        Metric::OptionCallEur,
        Metric::OptionSalesEur,
    ];

    /// Whether the total counts steps (a whole number in every run): an
    /// integer column in the typed tables (Parquet, data frames).
    pub fn is_count(self) -> bool {
        matches!(self, Metric::ShortfallSteps | Metric::LongestShortfallSteps)
    }

    /// The name used in `summary.json` and `runs.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::DemandT => "demand_t",
            Metric::SupplyT => "supply_t",
            Metric::ShortfallT => "shortfall_t",
            Metric::ShortfallFraction => "shortfall_fraction",
            Metric::ShortfallSteps => "shortfall_steps",
            Metric::LongestShortfallSteps => "longest_shortfall_steps",
            Metric::ReleaseT => "release_t",
            Metric::SecondaryT => "secondary_t",
            Metric::RefineryT => "refinery_t",
            Metric::StockpileCostEur => "stockpile_cost_eur",
            Metric::ShortageCostEur => "shortage_cost_eur",
            Metric::EolT => "eol_t",
            Metric::CollectedT => "collected_t",
            Metric::RefineryCostEur => "refinery_cost_eur",
            Metric::ReexportsT => "reexports_t",
            Metric::StockpileEndValueEur => "stockpile_end_value_eur",
            Metric::WelfareLossEur => "welfare_loss_eur",
            Metric::PriceCostEur => "price_cost_eur",
            Metric::ProducerGainEur => "producer_gain_eur",
            Metric::DemandReductionT => "demand_reduction_t",
            Metric::StockpileSalesEur => "stockpile_sales_eur",
            Metric::PeakPriceMultiple => "peak_price_multiple",
            Metric::OptionCalledT => "option_called_t",
            Metric::OptionFeeEur => "option_fee_eur",
            Metric::OptionCallEur => "option_call_eur",
            Metric::OptionSalesEur => "option_sales_eur",
        }
    }
}

/// Which runs to simulate, with which seed: the command line's choices,
/// kept apart from the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunPlan {
    /// Index of the first run (a multiple of [`BLOCK_RUNS`]).
    pub first_run: u64,
    /// Number of runs.
    pub runs: u64,
    /// Seed of every stream.
    pub seed: u64,
}

impl RunPlan {
    /// The `k`-th of `n` shards (0-based) of `runs` runs: a contiguous range
    /// of whole blocks, so that merged shards equal one process bit for bit.
    /// A shard may be empty when there are more shards than blocks.
    pub fn shard(runs: u64, seed: u64, k: u64, n: u64) -> RunPlan {
        let blocks = runs.div_ceil(BLOCK_RUNS);
        let first_block = blocks * k / n;
        let end_block = blocks * (k + 1) / n;
        let first_run = first_block * BLOCK_RUNS;
        let end_run = (end_block * BLOCK_RUNS).min(runs);
        RunPlan {
            first_run,
            runs: end_run.saturating_sub(first_run),
            seed,
        }
    }
}
