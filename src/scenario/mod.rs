//! Scenarios: the file as written ([`raw`]), and the validated, resolved model
//! ([`Scenario`]) that the engine runs.
//!
//! A scenario is parsed once and checked once: names are resolved to indices,
//! distributions are constructed, defaults are filled in, and every problem is
//! reported with the file, the line and the field path
//! (`material[gallium].demand_growth.sd: must be >= 0 (got -0.1)`). After
//! that, nothing downstream re-checks or fails.

pub(crate) mod build;
mod instruments;
mod inventory;
pub(crate) mod locate;
mod market;
mod policy;
pub mod raw;
pub mod uncertain;

use crate::vocab::RunPlan;
use std::fmt;
use std::path::{Path, PathBuf};
use uncertain::Uncertain;

pub use build::FieldError;
pub use policy::{with_policy, with_policy_text};

/// When, within its install step, a cohort enters the stock; this fixes the
/// ages at which the survival function is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InflowTiming {
    /// Installed at the start of the step: a cohort is `a + 1` steps old at
    /// the end of its age-step `a`, so `k[0] = 1 - sf(dt)` and
    /// `k[a] = sf(a dt) - sf((a + 1) dt)`.
    Start,
    /// Installed at mid-step (the default): `k[0] = 1 - sf(dt / 2)` and
    /// `k[a] = sf((a - 1/2) dt) - sf((a + 1/2) dt)`.
    #[default]
    Middle,
    /// Survival at whole ages, as ODYM's `DynamicStockModel` computes it
    /// (`sf[m, c] = ProbDist.sf(m - c)`, `o_c[c, c] = i[c] - s_c[c, c]`,
    /// `o_c[m, c] = s_c[m - 1, c] - s_c[m, c]`): `k[0] = 1 - sf(0)` and
    /// `k[a] = sf((a - 1) dt) - sf(a dt)`. Equivalent to installing at the
    /// end of the step.
    ///
    /// With yearly steps this reproduces the published inflow-driven cases
    /// of ODYM's `tests/test_dynamic_stock_model.py` (IndEcol/ODYM): fixed
    /// lifetime 5, normal (5, 1.5) and Weibull (1.2, 1) with inflows 1..10
    /// (total stock and outflow), and the lognormal (20, 20) stock at t = 60
    /// (`LN_Stock_Reference_2060`); see the `odym_*` tests.
    End,
}

/// The length of one simulation step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// One month (12 steps a year).
    Month,
    /// Three months (4 steps a year).
    Quarter,
    /// One year.
    Year,
}

impl Step {
    /// Months in one step.
    pub fn months(self) -> u32 {
        match self {
            Step::Month => 1,
            Step::Quarter => 3,
            Step::Year => 12,
        }
    }

    /// Steps in one year.
    pub fn per_year(self) -> u32 {
        12 / self.months()
    }

    /// The step length in years.
    pub fn dt(self) -> f64 {
        f64::from(self.months()) / 12.0
    }

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Step::Month => "month",
            Step::Quarter => "quarter",
            Step::Year => "year",
        }
    }
}

/// A validated scenario, ready to simulate. Built only by [`Scenario::from_toml`]
/// or [`Scenario::load`], so its invariants hold everywhere else.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub(crate) name: String,
    pub(crate) start_year: i32,
    pub(crate) years: u32,
    pub(crate) step: Step,
    pub(crate) runs: u64,
    pub(crate) seed: u64,
    pub(crate) discount_rate: f64,
    pub(crate) region: Option<String>,
    pub(crate) materials: Vec<Material>,
    pub(crate) disruptions: Vec<Disruption>,
    pub(crate) products: Vec<Product>,
    pub(crate) refineries: Vec<Refinery>,
}

/// One material's market: demand, price and import sources.
#[derive(Debug, Clone)]
pub struct Material {
    pub(crate) id: String,
    pub(crate) demand_tpy: Uncertain,
    pub(crate) demand_growth: Uncertain,
    pub(crate) price: f64,
    pub(crate) value_of_lost_load: f64,
    pub(crate) market: Market,
    pub(crate) sources: Vec<Source>,
    /// Stockpiles in release order.
    pub(crate) stockpiles: Vec<Stockpile>,
    /// Options, called after the stockpiles' releases, in file order.
    pub(crate) options: Vec<SupplyOption>,
    /// The world's private stocks, in file order: part of the world, so
    /// kept in every variant of a comparison.
    pub(crate) inventories: Vec<Inventory>,
    /// Demand tiers by priority, first served first (empty: one group).
    pub(crate) tiers: Vec<Tier>,
    pub(crate) response_trigger: f64,
    pub(crate) substitution: Option<Substitution>,
    pub(crate) new_capacity: Option<NewCapacity>,
}

/// A material's short-run market (docs/model.md, "The market"): how demand
/// and the market's other supply answer the price, and how much of the
/// market the region is.
#[derive(Debug, Clone)]
pub struct Market {
    /// epsilon < 0; `None`: nothing clears, the price stays at the base.
    pub(crate) demand_elasticity: Option<Uncertain>,
    /// eta >= 0.
    pub(crate) supply_elasticity: Uncertain,
    /// rho in (0, 1].
    pub(crate) market_share: Uncertain,
    /// The market's supply by origin, as (source index, share); empty: the
    /// region's own balance stands for the market's.
    pub(crate) sources: Vec<(usize, f64)>,
    /// The price cap, as a multiple of the base price.
    pub(crate) max_price_multiple: f64,
}

impl Market {
    /// Whether the market clears (a demand elasticity is given).
    pub fn clears(&self) -> bool {
        self.demand_elasticity.is_some()
    }
}

/// Whom a disruption's loss hits (docs/model.md, "Two kinds of loss").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The exporter supplies less to every buyer: the world price rises.
    World,
    /// Only the region's shipments: the region's own price rises.
    Region,
}

impl Scope {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Scope::World => "world",
            Scope::Region => "region",
        }
    }
}

/// When a stockpile releases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReleaseRule {
    /// To the region's users when its access falls short of what they want.
    Gap,
    /// Also into the market, when the world price is above `ceiling` times
    /// the base price, down to it.
    Price {
        /// A multiple of the base price, in [1, the cap].
        ceiling: f64,
    },
}

/// Demand that substitutes away once imports are first disrupted.
#[derive(Debug, Clone)]
pub struct Substitution {
    pub(crate) max_fraction: Uncertain,
    pub(crate) per_year: Uncertain,
    pub(crate) lag_months: f64,
}

/// Primary capacity elsewhere that comes online after a lead time once
/// imports are first disrupted, and stays.
#[derive(Debug, Clone)]
pub struct NewCapacity {
    pub(crate) share_per_year: Uncertain,
    pub(crate) lead_time_years: Uncertain,
    pub(crate) max_share: f64,
}

/// One import source of a material.
#[derive(Debug, Clone)]
pub struct Source {
    pub(crate) region: String,
    /// Normalized so that a material's shares sum to exactly 1.
    pub(crate) share: f64,
    pub(crate) routes: Vec<String>,
    pub(crate) spare_capacity: Uncertain,
    pub(crate) ramp_months: f64,
    /// Share of the gross flow re-exported, in [0, 1).
    pub(crate) reexport_share: f64,
}

/// What a disruption hits.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Every flow from this region.
    Region(String),
    /// Every flow that lists this route.
    Route(String),
}

/// Which stage of the supply chain a disruption hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Refined imports and refinery feed.
    Both,
    /// Refined imports only.
    Import,
    /// Refinery feed only.
    Feed,
}

/// A flow a disruption can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowRef {
    /// Import source `s` of material `m`.
    Import(usize, usize),
    /// Feed flow `f` of refinery `r`.
    Feed(usize, usize),
}

/// How a disruption's events arrive.
#[derive(Debug, Clone)]
pub enum Arrival {
    /// A Poisson process with this rate per year (drawn once per run).
    Poisson(Uncertain),
    /// One event starting in this step.
    Scheduled {
        /// The step the event starts in.
        step: usize,
        /// The start as written ("YYYY-MM").
        month: String,
    },
}

/// A disruption type: which flows it hits, how often, how long and how hard.
#[derive(Debug, Clone)]
pub struct Disruption {
    pub(crate) name: String,
    pub(crate) materials: Vec<usize>,
    pub(crate) target: Target,
    pub(crate) arrival: Arrival,
    pub(crate) duration_months: Uncertain,
    pub(crate) severity: Uncertain,
    pub(crate) stage: Stage,
    pub(crate) scope: Scope,
    /// The flows it hits, resolved at validation.
    pub(crate) hits: Vec<FlowRef>,
    /// The disruption whose events this one's follow (`same_events_as`):
    /// its starts and lengths, this one's severities.
    pub(crate) leader: Option<usize>,
}

/// One feed flow of a refinery.
#[derive(Debug, Clone)]
pub struct Feed {
    pub(crate) region: String,
    /// Normalized so that a refinery's feed shares sum to exactly 1.
    pub(crate) share: f64,
    pub(crate) routes: Vec<String>,
}

/// A domestic refinery: capacity, ramp, utilization, feed and costs.
#[derive(Debug, Clone)]
pub struct Refinery {
    pub(crate) name: String,
    pub(crate) material: usize,
    pub(crate) capacity_tpy: f64,
    pub(crate) online_year: i32,
    pub(crate) ramp_years: f64,
    pub(crate) utilization: Uncertain,
    pub(crate) feed: Vec<Feed>,
    pub(crate) capex_eur: f64,
    pub(crate) opex_eur_per_t: f64,
}

/// What a stockpile target in days counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetBasis {
    /// Days of consumption (demand).
    Consumption,
    /// Days of net imports: demand less domestic supply.
    NetImports,
}

/// A stockpile target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StockTarget {
    /// Days of current demand (365 days a year).
    Days(f64),
    /// A fixed quantity in tonnes.
    Tonnes(f64),
}

/// A strategic stockpile of one material, with its release and refill rules.
#[derive(Debug, Clone)]
pub struct Stockpile {
    pub(crate) name: String,
    pub(crate) release_order: i64,
    pub(crate) release_fraction: f64,
    /// Strategic floor (days of the basis, or tonnes); `Tonnes(0)` for none.
    pub(crate) floor: StockTarget,
    /// Buy only at a price up to this multiple of the base price.
    pub(crate) refill_price_cap: f64,
    pub(crate) refill_in_shortage: bool,
    pub(crate) target: StockTarget,
    pub(crate) initial_fill: f64,
    pub(crate) release_trigger: f64,
    /// Tonnes per year; infinite when unlimited.
    pub(crate) max_release_tpy: f64,
    pub(crate) replenish_tpy: f64,
    pub(crate) holding_cost_rate: f64,
    pub(crate) buy_initial: bool,
    pub(crate) target_basis: TargetBasis,
    pub(crate) release_rule: ReleaseRule,
    /// Purchases per step at most this share of the market's demand.
    pub(crate) max_buy_share: f64,
    /// Months from the first step of a release episode to the first
    /// release (docs/stockpiles.md, "Lead time").
    pub(crate) release_lead_months: f64,
    /// The year from whose start the stock is bought (`None`: from the
    /// horizon's start).
    pub(crate) build_start: Option<i32>,
}

/// A group of a material's users, served in priority order
/// (docs/stockpiles.md, "Demand tiers").
#[derive(Debug, Clone)]
pub struct Tier {
    pub(crate) name: String,
    /// Share of the material's demand (the tiers' shares sum to 1).
    pub(crate) share: f64,
    /// 1 is served first.
    pub(crate) priority: i64,
    /// EUR per tonne of this tier's unmet demand.
    pub(crate) value_of_lost_load: f64,
    pub(crate) shock: Option<DemandShock>,
}

/// A surge of a tier's demand: times `multiplier` for `duration_months`
/// from step `start_step`.
#[derive(Debug, Clone)]
pub struct DemandShock {
    pub(crate) multiplier: Uncertain,
    pub(crate) start_step: usize,
    pub(crate) duration_months: Uncertain,
}

/// Reserved supply outside the disrupted flows, bought as a contract: a
/// virtual stockpile (docs/stockpiles.md, "Options").
#[derive(Debug, Clone)]
pub struct SupplyOption {
    pub(crate) name: String,
    /// Tonnes that may be called in each year of the horizon.
    pub(crate) volume_tpy: f64,
    /// EUR per reserved tonne and year.
    pub(crate) fee_eur_per_t_year: f64,
    /// The price of a tonne called, as a multiple of the base price.
    pub(crate) strike_multiple: f64,
    /// Months from the first step of a gap episode to the first call.
    pub(crate) lead_months: f64,
}

/// Stocks held by traders and users across the market: they sell into it
/// when the world price rises above `release_above` and buy back while it
/// stays at or below `refill_below` (docs/model.md, "Private inventories").
#[derive(Debug, Clone)]
pub struct Inventory {
    pub(crate) name: String,
    /// Size in days of the market's use (D / rho) at the first step.
    pub(crate) days: Uncertain,
    /// A multiple of the base price from `refill_below` to the cap (its
    /// draws too).
    pub(crate) release_above: Uncertain,
    /// A multiple of the base price from 1 to the cap.
    pub(crate) refill_below: f64,
    /// Sales a month at most this share of the size.
    pub(crate) max_release_share: f64,
    /// Purchases a step at most this share of the market's demand.
    pub(crate) max_buy_share: f64,
}

/// A lifetime model with uncertain parameters (drawn once per run).
#[derive(Debug, Clone)]
pub enum LifetimeSpec {
    /// Weibull (shape, scale in years).
    Weibull {
        /// Shape.
        shape: Uncertain,
        /// Scale, years.
        scale: Uncertain,
    },
    /// Lognormal by the lifetime's own mean and sd, years.
    LogNormal {
        /// Mean, years.
        mean: Uncertain,
        /// Standard deviation, years.
        sd: Uncertain,
    },
    /// Normal (not truncated), years.
    Normal {
        /// Mean, years.
        mean: Uncertain,
        /// Standard deviation, years.
        sd: Uncertain,
    },
    /// Fixed lifetime, years.
    Fixed {
        /// Lifetime, years.
        years: Uncertain,
    },
}

impl LifetimeSpec {
    /// The parameters with their names, in a fixed order.
    pub fn params(&self) -> Vec<(&'static str, &Uncertain)> {
        match self {
            LifetimeSpec::Weibull { shape, scale } => vec![("shape", shape), ("scale", scale)],
            LifetimeSpec::LogNormal { mean, sd } | LifetimeSpec::Normal { mean, sd } => {
                vec![("mean", mean), ("sd", sd)]
            }
            LifetimeSpec::Fixed { years } => vec![("years", years)],
        }
    }

    /// The i-th of [`Self::params`], without building the list (the engine
    /// draws it in every run).
    pub fn param(&self, i: usize) -> &Uncertain {
        match (self, i) {
            (LifetimeSpec::Weibull { shape, .. }, 0) => shape,
            (LifetimeSpec::Weibull { scale, .. }, 1) => scale,
            (LifetimeSpec::LogNormal { mean, .. } | LifetimeSpec::Normal { mean, .. }, 0) => mean,
            (LifetimeSpec::LogNormal { sd, .. } | LifetimeSpec::Normal { sd, .. }, 1) => sd,
            (LifetimeSpec::Fixed { years }, 0) => years,
            _ => panic!("lifetime parameter {i} of a {} lifetime", self.model()),
        }
    }

    /// The model's name as written in scenario files.
    pub fn model(&self) -> &'static str {
        match self {
            LifetimeSpec::Weibull { .. } => "weibull",
            LifetimeSpec::LogNormal { .. } => "lognormal",
            LifetimeSpec::Normal { .. } => "normal",
            LifetimeSpec::Fixed { .. } => "fixed",
        }
    }
}

/// One material contained in a product.
#[derive(Debug, Clone)]
pub struct ProductContent {
    /// Index of the material.
    pub(crate) material: usize,
    /// t per unit for cohorts installed in the product's content year.
    pub(crate) t_per_unit: f64,
    /// Recovery efficiency of collected material (drawn once per run).
    pub(crate) recovery: Uncertain,
}

/// A stock of goods in use whose end-of-life flows, after collection and
/// recovery, are domestic secondary supply.
#[derive(Debug, Clone)]
pub struct Product {
    pub(crate) id: String,
    pub(crate) unit: String,
    /// Installation points (year, units per year), sorted.
    pub(crate) inflow: Vec<(i32, f64)>,
    pub(crate) lifetime: LifetimeSpec,
    pub(crate) timing: InflowTiming,
    pub(crate) contents: Vec<ProductContent>,
    pub(crate) content_trend: f64,
    pub(crate) content_year: i32,
    pub(crate) collection_rate: Uncertain,
    pub(crate) recycling_from_year: i32,
    pub(crate) adds_demand: bool,
}

impl Product {
    /// First calendar year of the product's cohort series: the first
    /// installation year, or the scenario start if that is earlier.
    pub(crate) fn first_year(&self, start_year: i32) -> i32 {
        self.inflow
            .first()
            .map_or(start_year, |p| p.0.min(start_year))
    }
}

/// Why a scenario could not be used: where, and what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read the scenario", file.display())]
    Read {
        /// The scenario file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or does not match the schema.
    #[error("{}:{line}:{column}: {message}{snippet}", file.display())]
    Syntax {
        /// The scenario file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// The offending line with a caret, prefixed by a newline.
        snippet: String,
        /// The field the error is in, as a path (`material[0].demand_tpy`),
        /// when the text parses as TOML and the error is inside a value.
        field: Option<String>,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error(
        "{}: larger than {} MiB, the most a scenario file may be (scenarios are a few kB)",
        file.display(),
        MAX_FILE_BYTES >> 20
    )]
    TooLarge {
        /// The scenario file.
        file: PathBuf,
    },
    /// A value is out of range or inconsistent with others.
    #[error("{}{}: {error}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The scenario file.
        file: PathBuf,
        /// 1-based line of the field (or of its table), when known.
        line: Option<usize>,
        /// The field and the problem.
        error: FieldError,
    },
}

/// Largest scenario file accepted, in bytes. Real scenarios are a few kB;
/// the limit keeps a wrong path (a data dump, `/dev/zero`) from filling memory.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads at most [`MAX_FILE_BYTES`] of a file the user named: `Ok(None)`
/// when it holds more.
fn read_limited(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_FILE_BYTES).then_some(bytes))
}

/// Reads a scenario file's text.
///
/// # Errors
/// [`ScenarioError::Read`] if it cannot be read, [`ScenarioError::TooLarge`]
/// beyond [`MAX_FILE_BYTES`], [`ScenarioError::Syntax`] if it is not UTF-8.
pub fn read_text(path: &Path) -> Result<String, ScenarioError> {
    let bytes = read_limited(path)
        .map_err(|source| ScenarioError::Read {
            file: path.to_path_buf(),
            source,
        })?
        .ok_or_else(|| ScenarioError::TooLarge {
            file: path.to_path_buf(),
        })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..valid]);
        let (line, column) = locate::line_col(&text, valid);
        ScenarioError::Syntax {
            file: path.to_path_buf(),
            line,
            column,
            message: "not UTF-8 text: save the scenario as UTF-8".into(),
            snippet: String::new(),
            field: None,
        }
    })
}

/// Reads the text of an input file other than a scenario (an indicator
/// file, published values, a catalogue, observed series), within the same
/// [`MAX_FILE_BYTES`]. Each caller wraps the error in its own type, which
/// names the file and what it is.
///
/// # Errors
/// The file system's error, as [`std::fs::read_to_string`] gives it (a
/// file that is not UTF-8 included), or one of kind `FileTooLarge` beyond
/// the limit.
pub fn read_input(path: &Path) -> std::io::Result<String> {
    let bytes = read_limited(path)?.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} MiB, the most crmsim reads from one input file",
                MAX_FILE_BYTES >> 20
            ),
        )
    })?;
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Parses `text` (the file `file`) as `T`, a syntax or schema error with
/// its line and column.
fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, file: &Path) -> Result<T, ScenarioError> {
    toml::from_str(text).map_err(|e| {
        let site = locate::syntax_site(text, &e);
        ScenarioError::Syntax {
            file: file.to_path_buf(),
            line: site.line,
            column: site.column,
            message: site.message,
            snippet: site.snippet,
            field: e.span().and_then(|span| locate::field_at(text, span.start)),
        }
    })
}

/// A validation error of the file `file` (text `text`), at the line of its
/// field.
fn invalid(text: &str, file: &Path, error: FieldError) -> ScenarioError {
    ScenarioError::Invalid {
        file: file.to_path_buf(),
        line: locate::line_of_path(text, &error.path),
        error,
    }
}

impl ScenarioError {
    /// The field the error is about, as a path such as
    /// `material[gallium].demand_tpy` (a validation error) or
    /// `material[0].demand_tpy` (a value of the wrong type), when known.
    pub fn field(&self) -> Option<String> {
        match self {
            ScenarioError::Syntax { field, .. } => field.clone(),
            ScenarioError::Invalid { error, .. } => Some(error.path_string()),
            ScenarioError::Read { .. } | ScenarioError::TooLarge { .. } => None,
        }
    }

    /// The 1-based line the error is on, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScenarioError::Syntax { line, .. } => Some(*line),
            ScenarioError::Invalid { line, .. } => *line,
            ScenarioError::Read { .. } | ScenarioError::TooLarge { .. } => None,
        }
    }

    /// The file the error is in.
    pub fn file(&self) -> &Path {
        match self {
            ScenarioError::Read { file, .. }
            | ScenarioError::Syntax { file, .. }
            | ScenarioError::TooLarge { file }
            | ScenarioError::Invalid { file, .. } => file,
        }
    }
}

impl RunPlan {
    /// All runs the scenario asks for, with its seed.
    pub fn from_scenario(s: &Scenario) -> RunPlan {
        RunPlan {
            first_run: 0,
            runs: s.runs(),
            seed: s.seed(),
        }
    }
}

impl Scenario {
    /// Reads, parses and validates a scenario file.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the file, the line and the field.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = read_text(path)?;
        Scenario::from_toml(&text, path)
    }

    /// Parses and validates scenario text; `file` is only used in messages.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the file, the line and the field.
    pub fn from_toml(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
        let raw: raw::ScenarioFile = parse_toml(text, file)?;
        build::build(&raw).map_err(|error| invalid(text, file, error))
    }

    /// The scenario's name (also the default output folder name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of runs asked for in the file.
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// Seed given in the file.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// First calendar year.
    pub fn start_year(&self) -> i32 {
        self.start_year
    }

    /// Horizon in years.
    pub fn years(&self) -> u32 {
        self.years
    }

    /// Step length.
    pub fn step(&self) -> Step {
        self.step
    }

    /// Number of steps in the horizon.
    pub fn steps(&self) -> usize {
        self.years as usize * self.step.per_year() as usize
    }

    /// The calendar time (decimal year) at which step `t` starts.
    pub fn time_of_step(&self, t: usize) -> f64 {
        f64::from(self.start_year) + t as f64 * self.step.dt()
    }

    /// Material ids, in file order.
    pub fn material_ids(&self) -> impl Iterator<Item = &str> {
        self.materials.iter().map(|m| m.id.as_str())
    }

    /// A copy without any stockpile or option: the counterfactual policy
    /// on the same world.
    pub fn without_policies(&self) -> Scenario {
        let mut s = self.clone();
        for m in &mut s.materials {
            m.stockpiles.clear();
            m.options.clear();
        }
        s
    }

    /// Whether any material has a stockpile.
    pub fn has_stockpiles(&self) -> bool {
        self.materials.iter().any(|m| !m.stockpiles.is_empty())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Region(r) => write!(f, "region {r}"),
            Target::Route(r) => write!(f, "route {r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::uncertain::Domain;

    #[test]
    fn each_lifetime_parameter_is_the_one_listed() {
        let u = |x: f64| Uncertain::fixed(x, Domain::REAL);
        let specs = [
            LifetimeSpec::Weibull {
                shape: u(2.0),
                scale: u(7.0),
            },
            LifetimeSpec::LogNormal {
                mean: u(11.0),
                sd: u(3.0),
            },
            LifetimeSpec::Normal {
                mean: u(12.0),
                sd: u(4.0),
            },
            LifetimeSpec::Fixed { years: u(9.0) },
        ];
        for spec in &specs {
            for (i, (_, listed)) in spec.params().into_iter().enumerate() {
                assert!(std::ptr::eq(spec.param(i), listed), "{}", spec.model());
            }
        }
        assert_eq!(specs[1].param(1).fixed_value(), Some(3.0));
    }
}
