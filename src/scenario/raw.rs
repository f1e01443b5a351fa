//! The scenario file exactly as written: serde types that mirror the TOML,
//! with `deny_unknown_fields` so a misspelt field is an error, not a silent
//! default. Nothing here is checked beyond types: validation builds the
//! [`Scenario`](super::Scenario) from it.

use super::uncertain::RawUncertain;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// `[simulation]`: horizon, runs, seed.
    pub simulation: RawSimulation,
    /// `[[material]]` tables.
    #[serde(default)]
    pub material: Vec<RawMaterial>,
    /// `[[disruption]]` tables.
    #[serde(default)]
    pub disruption: Vec<RawDisruption>,
    /// `[[stockpile]]` tables.
    #[serde(default)]
    pub stockpile: Vec<RawStockpile>,
    /// `[[refinery]]` tables: domestic refining capacity.
    #[serde(default)]
    pub refinery: Vec<RawRefinery>,
    /// `[[product]]` tables: stocks of goods in use, recycled at end of life.
    #[serde(default)]
    pub product: Vec<RawProduct>,
    /// `[[option]]` tables: reserved supply (virtual stockpiles).
    #[serde(default)]
    pub option: Vec<RawOption>,
    /// `[[inventory]]` tables: the world's private stocks.
    #[serde(default)]
    pub inventory: Vec<RawInventory>,
}

/// `[simulation]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    /// Output folder name.
    pub name: String,
    /// First calendar year of the horizon.
    pub start_year: i64,
    /// Length of the horizon in years.
    pub years: i64,
    /// "month" (default), "quarter" or "year".
    #[serde(default)]
    pub step: Option<String>,
    /// Number of Monte Carlo runs.
    pub runs: i64,
    /// Seed of every random stream.
    pub seed: i64,
    /// Yearly discount rate for costs as present values (default 0).
    #[serde(default)]
    pub discount_rate: Option<f64>,
    /// The importing region the scenario speaks for (a label).
    #[serde(default)]
    pub region: Option<String>,
}

/// `[[material]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaterial {
    /// Identifier used by disruptions and stockpiles.
    pub id: String,
    /// Demand in tonnes per year at the start (uncertain).
    pub demand_tpy: RawUncertain,
    /// Yearly demand growth rate (uncertain), default 0.
    #[serde(default)]
    pub demand_growth: Option<RawUncertain>,
    /// Base price in EUR per tonne.
    pub price_eur_per_t: f64,
    /// Cost of one tonne of unmet demand in EUR.
    pub value_of_lost_load_eur_per_t: f64,
    /// The old name of `demand_elasticity`: refused, with a message naming
    /// the new one.
    #[serde(default)]
    pub price_elasticity: Option<toml::Value>,
    /// Short-run price elasticity of demand (< 0, uncertain); absent means
    /// nothing clears: a constant price.
    #[serde(default)]
    pub demand_elasticity: Option<RawUncertain>,
    /// Short-run price elasticity of the market's undisrupted supply
    /// (>= 0, uncertain), default 0.
    #[serde(default)]
    pub supply_elasticity: Option<RawUncertain>,
    /// The region's share of the market it buys in, (0, 1] (uncertain),
    /// default 1.
    #[serde(default)]
    pub market_share: Option<RawUncertain>,
    /// The market's supply by origin, when it differs from the region's
    /// import mix.
    #[serde(default)]
    pub market_sources: Option<Vec<RawMarketSource>>,
    /// Cap on the price as a multiple of the base price (default 10).
    #[serde(default)]
    pub max_price_multiple: Option<f64>,
    /// Share of gross imports re-exported (a trade hub), default for all sources.
    #[serde(default)]
    pub reexport_share: Option<f64>,
    /// Share of imports that must be cut before substitution and new
    /// capacity start (default 0: any cut).
    #[serde(default)]
    pub response_trigger: Option<f64>,
    /// Demand substitution after a loss begins.
    #[serde(default)]
    pub substitution: Option<RawSubstitution>,
    /// New primary capacity elsewhere after a loss begins.
    #[serde(default)]
    pub new_capacity: Option<RawNewCapacity>,
    /// `[[material.source]]` tables.
    #[serde(default)]
    pub source: Vec<RawSource>,
    /// `[[material.tier]]` tables: groups of users served in priority order.
    #[serde(default)]
    pub tier: Vec<RawTier>,
}

/// One origin of `market_sources`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMarketSource {
    /// The origin: one of the material's source regions.
    pub region: String,
    /// Its share of the market's supply.
    pub share: f64,
}

/// `[[material.source]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// Exporting region (e.g. an ISO code, or "other").
    pub region: String,
    /// Share of imports from this source; a material's shares sum to 1.
    pub share: f64,
    /// Routes and hubs the flow passes.
    #[serde(default)]
    pub routes: Vec<String>,
    /// Extra supply this source can add, as a fraction of its nominal flow (uncertain).
    #[serde(default)]
    pub spare_capacity: Option<RawUncertain>,
    /// Months to reach full spare capacity after a loss begins.
    #[serde(default)]
    pub ramp_months: Option<f64>,
    /// Share of this source's gross flow that is re-exported.
    #[serde(default)]
    pub reexport_share: Option<f64>,
}

/// `substitution` of a material.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubstitution {
    /// Largest fraction of demand substituted (uncertain).
    pub max_fraction: RawUncertain,
    /// Fraction of demand substituted per year once started (uncertain).
    pub per_year: RawUncertain,
    /// Months between the first loss and the start of substitution (default 0).
    #[serde(default)]
    pub lag_months: Option<f64>,
}

/// `new_capacity` of a material.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNewCapacity {
    /// Share of the import market added per year once online (uncertain).
    pub share_per_year: RawUncertain,
    /// Years from the first loss until the new capacity starts (uncertain).
    pub lead_time_years: RawUncertain,
    /// Largest share of the import market the new capacity reaches (default 1).
    #[serde(default)]
    pub max_share: Option<f64>,
}

/// The `materials` of a disruption: a list of ids, or "all".
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawMaterialSelection {
    /// A single string; only "all" is valid.
    One(String),
    /// A list of material ids.
    Many(Vec<String>),
}

/// `[[disruption]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDisruption {
    /// Name (unique); also names the event's random streams.
    #[serde(default)]
    pub name: Option<String>,
    /// Materials hit at once.
    pub materials: RawMaterialSelection,
    /// Target region: all flows from it.
    #[serde(default)]
    pub region: Option<String>,
    /// Target route: all flows that list it.
    #[serde(default)]
    pub route: Option<String>,
    /// Poisson arrival rate per year (uncertain).
    #[serde(default)]
    pub rate_per_year: Option<RawUncertain>,
    /// Scheduled start month, "YYYY-MM".
    #[serde(default)]
    pub start: Option<String>,
    /// Duration in months, drawn per event.
    pub duration_months: RawUncertain,
    /// Fraction of the hit flows removed, drawn per event.
    pub severity: RawUncertain,
    /// "import" (refined imports only) or "feed" (refinery feed only); both when absent.
    #[serde(default)]
    pub stage: Option<String>,
    /// "world" (the exporter supplies less to every buyer) or "region" (only
    /// the region's shipments are hit); default world for a region target,
    /// region for a route.
    #[serde(default)]
    pub scope: Option<String>,
    /// The name of another disruption whose events this one's follow: the
    /// same starts and lengths in every run (the two must give the same
    /// `rate_per_year` or `start` and `duration_months`), each event with
    /// its own severity.
    #[serde(default)]
    pub same_events_as: Option<String>,
}

/// `[[stockpile]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStockpile {
    /// Material id.
    pub material: String,
    /// Name, unique among the material's stockpiles (default: the material id,
    /// then id-2, id-3, ...).
    #[serde(default)]
    pub name: Option<String>,
    /// Order in which a material's stockpiles release (lower first; default:
    /// file order).
    #[serde(default)]
    pub release_order: Option<i64>,
    /// Fraction of the remaining gap a release covers (default 1).
    #[serde(default)]
    pub release_fraction: Option<f64>,
    /// Strategic floor never released, in days of the target basis.
    #[serde(default)]
    pub floor_days: Option<f64>,
    /// Strategic floor never released, in tonnes.
    #[serde(default)]
    pub floor_t: Option<f64>,
    /// Buy only while the price is at most this multiple of the base price.
    #[serde(default)]
    pub refill_price_cap: Option<f64>,
    /// Whether to buy while there is a gap below the release trigger (default true).
    #[serde(default)]
    pub refill_in_shortage: Option<bool>,
    /// Target in days of current demand.
    #[serde(default)]
    pub target_days: Option<f64>,
    /// Target in tonnes.
    #[serde(default)]
    pub target_t: Option<f64>,
    /// Fraction of the target held at the start (default 1).
    #[serde(default)]
    pub initial_fill: Option<f64>,
    /// Release when the gap exceeds this fraction of demand (default 0).
    #[serde(default)]
    pub release_trigger: Option<f64>,
    /// Maximum release in tonnes per year (default unlimited).
    #[serde(default)]
    pub max_release_tpy: Option<f64>,
    /// Refill rate in tonnes per year (default 0).
    #[serde(default)]
    pub replenish_tpy: Option<f64>,
    /// Yearly holding cost as a fraction of the stock's value (default 0).
    #[serde(default)]
    pub holding_cost_rate: Option<f64>,
    /// Whether the initial fill is bought (and paid) at the start (default false).
    #[serde(default)]
    pub buy_initial: Option<bool>,
    /// What a target in days counts: "consumption" (default) or "net_imports".
    #[serde(default)]
    pub target_basis: Option<String>,
    /// "gap" (default: release to the region's users when its access falls
    /// short) or "price" (also sell into the market when the world price is
    /// above `price_ceiling`).
    #[serde(default)]
    pub release_rule: Option<String>,
    /// Under `release_rule = "price"`: the multiple of the base price the
    /// releases bring the world price down to.
    #[serde(default)]
    pub price_ceiling: Option<f64>,
    /// Purchases per step at most this share of the market's demand
    /// (default 0.05).
    #[serde(default)]
    pub max_buy_share: Option<f64>,
    /// Months from the first step of a release episode to the first
    /// release (default 0).
    #[serde(default)]
    pub release_lead_months: Option<f64>,
    /// The year from whose start the stock is bought; before it, none is
    /// (default: from the start of the horizon).
    #[serde(default)]
    pub build_start: Option<i64>,
}

/// `[[material.tier]]`: a group of the material's users.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    /// Name, unique among the material's tiers.
    pub name: String,
    /// Share of the material's demand; a material's tiers' shares sum to 1.
    pub share: f64,
    /// 1 is served first; each tier of a material has its own.
    pub priority: i64,
    /// Cost of one tonne of this tier's unmet demand, EUR (default: the
    /// material's).
    #[serde(default)]
    pub value_of_lost_load_eur_per_t: Option<f64>,
    /// A surge of this tier's demand over a period.
    #[serde(default)]
    pub demand_shock: Option<RawDemandShock>,
}

/// `demand_shock` of a tier: its demand times `multiplier` from `start`
/// for `duration_months`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDemandShock {
    /// The multiple of the tier's demand during the shock (uncertain).
    pub multiplier: RawUncertain,
    /// First month, "YYYY-MM".
    pub start: String,
    /// Length in months (uncertain).
    pub duration_months: RawUncertain,
}

/// `[[option]]`: reserved supply bought as a contract (a virtual stockpile).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOption {
    /// Material id.
    pub material: String,
    /// Name, unique among the material's options (default: option-N).
    #[serde(default)]
    pub name: Option<String>,
    /// Tonnes that may be called each year.
    pub volume_tpy: f64,
    /// Fee per reserved tonne and year, EUR, paid whether or not it is called.
    pub fee_eur_per_t_year: f64,
    /// Price paid per tonne called, as a multiple of the base price.
    pub strike_multiple: f64,
    /// Months from the first step of a gap episode to the first call
    /// (default 0).
    #[serde(default)]
    pub lead_months: Option<f64>,
}

/// `[[inventory]]`: stocks held by traders and users across the market
/// (docs/model.md, "Private inventories").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInventory {
    /// Material id.
    pub material: String,
    /// Name, unique among the material's inventories (default: inventory-N).
    #[serde(default)]
    pub name: Option<String>,
    /// Size in days of the market's use at the horizon's start (may be
    /// uncertain).
    pub days: RawUncertain,
    /// Sells while the world price is above this multiple of the base
    /// price, down to it (may be uncertain).
    pub release_above: RawUncertain,
    /// Buys back while the world price stays at or below this multiple.
    pub refill_below: f64,
    /// Sales a month at most this share of its size (default 1).
    #[serde(default)]
    pub max_release_share: Option<f64>,
    /// Purchases a step at most this share of the market's demand
    /// (default 0.05).
    #[serde(default)]
    pub max_buy_share: Option<f64>,
}

/// One feed flow of a refinery.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    /// Region the feed comes from.
    pub region: String,
    /// Share of the feed; a refinery's shares sum to 1.
    pub share: f64,
    /// Routes and hubs the feed passes.
    #[serde(default)]
    pub routes: Vec<String>,
}

/// `[[refinery]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRefinery {
    /// Name (unique; default refinery-N).
    #[serde(default)]
    pub name: Option<String>,
    /// Material produced.
    pub material: String,
    /// Output capacity, t per year.
    pub capacity_tpy: f64,
    /// Year the plant comes online.
    pub online_year: i64,
    /// Years of linear ramp to full output (default 0).
    #[serde(default)]
    pub ramp_years: Option<f64>,
    /// Utilization of capacity (uncertain, default 1).
    #[serde(default)]
    pub utilization: Option<RawUncertain>,
    /// Feed sources; none means the feed is not at risk.
    #[serde(default)]
    pub feed: Vec<RawFeed>,
    /// Investment, EUR, counted in the online year.
    #[serde(default)]
    pub capex_eur: Option<f64>,
    /// Operating cost per tonne produced, EUR.
    #[serde(default)]
    pub opex_eur_per_t: Option<f64>,
}

/// A lifetime model, each parameter uncertain.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawLifetime {
    /// Weibull survival exp(-(age/scale)^shape).
    Weibull {
        /// Shape (> 0).
        shape: RawUncertain,
        /// Scale in years (> 0).
        scale: RawUncertain,
    },
    /// Lognormal, by the mean and sd of the lifetime itself.
    Lognormal {
        /// Mean lifetime in years.
        mean: RawUncertain,
        /// Standard deviation in years.
        sd: RawUncertain,
    },
    /// Normal (not truncated).
    Normal {
        /// Mean lifetime in years.
        mean: RawUncertain,
        /// Standard deviation in years.
        sd: RawUncertain,
    },
    /// Every unit lives exactly this long.
    Fixed {
        /// Lifetime in years.
        years: RawUncertain,
    },
}

/// `[[product]]`: a stock of goods in use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProduct {
    /// Identifier.
    pub id: String,
    /// Unit of the installations (a label: "MW", "units", ...).
    #[serde(default)]
    pub unit: Option<String>,
    /// Installations per year, by year ("2020" = 100).
    pub inflow: BTreeMap<String, f64>,
    /// Lifetime model.
    pub lifetime: RawLifetime,
    /// Material content, t per unit, by material id.
    pub content_t_per_unit: BTreeMap<String, f64>,
    /// Yearly relative change of the content of later cohorts (default 0).
    #[serde(default)]
    pub content_trend: Option<f64>,
    /// Year whose cohorts have exactly `content_t_per_unit` (default: start_year).
    #[serde(default)]
    pub content_year: Option<i64>,
    /// Share of end-of-life units collected (uncertain).
    pub collection_rate: RawUncertain,
    /// Recovery efficiency by material (uncertain).
    #[serde(default)]
    pub recovery: BTreeMap<String, RawUncertain>,
    /// First year in which material is recovered (default: start_year).
    #[serde(default)]
    pub recycling_from_year: Option<i64>,
    /// Whether installations consume material from the market (default false).
    #[serde(default)]
    pub adds_demand: Option<bool>,
    /// When in its step a cohort is installed: "start", "middle" (default), "end".
    #[serde(default)]
    pub inflow_at: Option<String>,
}
