//! Event parameters fitted from the sourced catalogue of past disruptions
//! (`data/disruptions.csv`): for each (region, kind) pair, the Poisson rate
//! of events with its uncertainty, and the distributions of their durations
//! and severities, in the units of a scenario's `[[disruption]]` table.
//!
//! The catalogue is read once into typed [`Row`]s (every problem names the
//! file, the line and the field); [`Catalogue::fit`] is then a pure function
//! of the rows and a [`Filter`]. The renderers (a table for the terminal, a
//! TOML fragment to paste into a scenario) are in `output::catalogue`.
//!
//! The method and its limits are in docs/catalogue.md. In short:
//! - Rate: `n` events in `T` years of exposure, from [`EXPOSURE_START`] to
//!   the stated end month inclusive. With the Jeffreys prior for a Poisson
//!   rate, the posterior is Gamma(shape = n + 1/2, scale = 1 / T).
//! - Duration: the months the event was in force, its first and last month
//!   counted (an event that starts and ends in one month lasts 1), which is
//!   how the engine lays an event over monthly steps. An `ongoing` event, or
//!   one that ends after the end of exposure, is censored there and counts
//!   with its length so far: a lower bound. With two or more events, a
//!   lognormal with the durations' mean and sample sd (method of moments).
//! - Severity: from the events that have one, as shares of the flows from
//!   the region: a share of world supply is divided by the region's share
//!   of world mine production of the material fitted before the event
//!   ([`WorldShares::before`]), when it is known. With [`MIN_SEVERITIES_FOR_BETA`] or more, a beta by
//!   moments; with fewer, the uniform over the observed range, marked as a
//!   fallback; with none, nothing is fitted.
//! - Rows are left out or merged by columns, not by ids: `physical = no`
//!   (removes no supply) is left out, and a row whose `same_event_as` row is
//!   in the same fit is merged into it (one event).
//!
//! The parts: the types and errors are here; `read` turns the CSV into
//! validated rows; `shares` reads the regions' shares of world production;
//! `fit` turns the rows into rates and distributions.

mod fit;
mod read;
mod shares;
#[cfg(test)]
mod tests;

pub use shares::{WorldShare, WorldShares};

use statrs::distribution::{ContinuousCDF, Gamma};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The first month of exposure: the catalogue's coverage begins in 2005
/// (data/README.md, "For fitting rates").
pub const EXPOSURE_START: Month = Month {
    year: 2005,
    month: 1,
};

/// The fewest severities from which a beta distribution is fitted; with
/// fewer, the severity falls back to the uniform over the observed range.
/// Two points give a variance but no check of it; three are the least that
/// give a spread not fixed by the two extremes alone.
pub const MIN_SEVERITIES_FOR_BETA: usize = 3;

/// The columns a catalogue must have (in any order; others are ignored).
pub const COLUMNS: [&str; 14] = [
    "id",
    "materials",
    "region",
    "kind",
    "start",
    "end",
    "as_of",
    "severity",
    "severity_basis",
    "physical",
    "same_event_as",
    "description",
    "source",
    "note",
];

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

/// A text that is not a month written `YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a month: write YYYY-MM, e.g. 2025-11")]
pub struct MonthError(pub String);

impl Month {
    /// The month, if `month` is in 1..=12.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        (1..=12).contains(&month).then_some(Month { year, month })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month of the year, 1..=12.
    pub fn month(self) -> u32 {
        self.month
    }

    fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    /// The months from `self` to `last`, both counted (0 when `last` is
    /// before `self`).
    pub fn months_through(self, last: Month) -> u32 {
        u32::try_from((last.index() - self.index() + 1).max(0)).expect("years are 4 digits")
    }
}

impl FromStr for Month {
    type Err = MonthError;

    fn from_str(s: &str) -> Result<Month, MonthError> {
        let bad = || MonthError(s.to_string());
        let b = s.as_bytes();
        if b.len() != 7
            || b[4] != b'-'
            || !s[..4]
                .bytes()
                .chain(s[5..].bytes())
                .all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let year: i32 = s[..4].parse().map_err(|_| bad())?;
        let month: u32 = s[5..].parse().map_err(|_| bad())?;
        Month::new(year, month).ok_or_else(bad)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// What kind of event a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Export bans, quotas, licensing, duties by the supplying state.
    ExportControl,
    /// Mine, smelter or plant stoppages, whatever the cause.
    Outage,
    /// Measures against a country's supply by other states or market bodies.
    Sanction,
    /// Route or border closures.
    Logistics,
}

impl Kind {
    /// All kinds, in the order they are listed.
    pub const ALL: [Kind; 4] = [
        Kind::ExportControl,
        Kind::Outage,
        Kind::Sanction,
        Kind::Logistics,
    ];

    /// The name used in the catalogue.
    pub fn name(self) -> &'static str {
        match self {
            Kind::ExportControl => "export_control",
            Kind::Outage => "outage",
            Kind::Sanction => "sanction",
            Kind::Logistics => "logistics",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The materials an event hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Materials {
    /// Every material carried (a route event).
    All,
    /// These material ids, sorted, without repeats.
    List(Vec<String>),
}

impl Materials {
    /// Whether the event hit `material`.
    pub fn includes(&self, material: &str) -> bool {
        match self {
            Materials::All => true,
            Materials::List(ids) => ids.iter().any(|m| m == material),
        }
    }

    fn union(&self, other: &Materials) -> Materials {
        match (self, other) {
            (Materials::List(a), Materials::List(b)) => Materials::List(
                a.iter()
                    .chain(b)
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            ),
            _ => Materials::All,
        }
    }
}

/// What a severity is a share of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// World supply of the material.
    WorldSupply,
    /// The region's exports of the material.
    Exports,
}

impl Basis {
    /// The name used in the catalogue.
    pub fn name(self) -> &'static str {
        match self {
            Basis::WorldSupply => "world_supply",
            Basis::Exports => "exports",
        }
    }
}

/// A sourced share of supply an event removed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Severity {
    /// The share, in [0, 1].
    pub value: f64,
    /// What it is a share of.
    pub basis: Basis,
}

/// Whether an event removed physical supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Physical {
    /// It did.
    Yes,
    /// It did not (a tariff, a market squeeze): left out of every fit.
    No,
    /// It shut supply out of some markets only: fitted, and flagged.
    SomeMarkets,
}

/// When an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// It ended in this month.
    Ended(Month),
    /// It was still in force at the latest source, dated this month.
    Ongoing {
        /// The month of the latest source read.
        as_of: Month,
    },
}

/// One validated row of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Unique id.
    pub id: String,
    /// 1-based line of the row in the file.
    pub line: u64,
    /// Materials hit.
    pub materials: Materials,
    /// The region (ISO alpha-2 code) or route hit.
    pub region: String,
    /// What kind of event.
    pub kind: Kind,
    /// First month in force.
    pub start: Month,
    /// When it ended.
    pub end: End,
    /// The sourced severity, if any.
    pub severity: Option<Severity>,
    /// Whether it removed physical supply.
    pub physical: Physical,
    /// The row this one describes the same event as, if any.
    pub same_event_as: Option<String>,
    /// The sources (never empty).
    pub source: String,
}

/// A validated catalogue. Built only by [`Catalogue::load`] or
/// [`Catalogue::from_csv`].
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    file: PathBuf,
    rows: Vec<Row>,
}

/// Which rows to fit, and to when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only rows that hit this material (or `all`); the fitted tables then
    /// name this material alone.
    pub material: Option<String>,
    /// Only rows of this region or route (ASCII case ignored).
    pub region: Option<String>,
    /// The last month of exposure; `None` for the newest month in the
    /// catalogue (of any `start`, `end` or `as_of`). Events that start later
    /// are left out; events in force later are censored at it.
    pub until: Option<Month>,
}

/// Why a row that matches the filter was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    /// `physical = no`: it removed no supply.
    NotPhysical,
    /// It started before [`EXPOSURE_START`].
    BeforeExposure,
    /// It started after the end of exposure.
    AfterUntil,
}

impl Exclusion {
    /// Why, in words.
    pub fn reason(self) -> &'static str {
        match self {
            Exclusion::NotPhysical => "removes no physical supply (physical = no)",
            Exclusion::BeforeExposure => "starts before the exposure period",
            Exclusion::AfterUntil => "starts after the end of exposure",
        }
    }
}

/// One event of a fit: one row, or several rows of one event merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The rows, the one whose dates are used first.
    pub ids: Vec<String>,
    /// First month in force.
    pub start: Month,
    /// Months in force, first and last counted; up to the censoring month
    /// when censored.
    pub months: u32,
    /// The month it was censored at (still in force then), if any.
    pub censored_at: Option<Month>,
    /// Its sourced severity, if any.
    pub severity: Option<Severity>,
    /// It shut supply out of some markets only.
    pub some_markets: bool,
    /// The region's share of world production its `world_supply`
    /// severity is divided by ([`WorldShares::before`]): `None` without a
    /// material, without such a severity, or when the share is not known
    /// (the severity is then as sourced, and understates the cut).
    pub world_share: Option<WorldShare>,
}

impl Event {
    /// The event's severity as a share of the flows from its region: an
    /// `exports` share as sourced; a `world_supply` share divided by the
    /// region's share of world production ([`Event::world_share`]), at
    /// most 1, or as sourced when that share is not known.
    pub fn severity_of_flows(&self) -> Option<f64> {
        let s = self.severity?;
        Some(match (s.basis, &self.world_share) {
            (Basis::WorldSupply, Some(w)) => (s.value / w.share).min(1.0),
            _ => s.value,
        })
    }
}

/// The posterior of a Poisson rate: Gamma(shape, scale) per year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateFit {
    /// Number of events.
    pub events: usize,
    /// Exposure in years.
    pub years: f64,
    /// Gamma shape: events + 1/2 (Jeffreys prior).
    pub shape: f64,
    /// Gamma scale: 1 / years.
    pub scale: f64,
}

impl RateFit {
    /// The posterior mean, events per year.
    pub fn mean(&self) -> f64 {
        self.shape * self.scale
    }

    /// The posterior standard deviation.
    pub fn sd(&self) -> f64 {
        self.shape.sqrt() * self.scale
    }

    /// The posterior's `p` quantile.
    pub fn quantile(&self, p: f64) -> f64 {
        Gamma::new(self.shape, 1.0 / self.scale)
            .expect("shape >= 1/2 and a positive exposure")
            .inverse_cdf(p)
    }
}

/// The fitted distribution of durations, in months.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DurationFit {
    /// A lognormal with the durations' mean and sample sd.
    Lognormal {
        /// Number of events.
        n: usize,
        /// How many of them are censored (their durations are lower bounds).
        censored: usize,
        /// Mean, months.
        mean: f64,
        /// Sample standard deviation (n - 1), months.
        sd: f64,
    },
    /// One event: a duration, but no spread.
    Single {
        /// Months in force.
        months: u32,
        /// Whether it is censored (a lower bound).
        censored: bool,
    },
}

/// The fitted distribution of severities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeverityFit {
    /// A beta with the severities' mean and sample variance.
    Beta {
        /// Number of severities.
        n: usize,
        /// Mean.
        mean: f64,
        /// Sample standard deviation (n - 1).
        sd: f64,
        /// First shape parameter.
        alpha: f64,
        /// Second shape parameter.
        beta: f64,
    },
    /// Too few severities (or no spread a beta can hold): the uniform over
    /// the observed range, a fallback.
    Range {
        /// Number of severities.
        n: usize,
        /// Smallest.
        min: f64,
        /// Largest.
        max: f64,
    },
    /// No event has a sourced severity.
    Missing,
}

/// The fit of one (region, kind) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct PairFit {
    /// The region or route.
    pub region: String,
    /// The kind of event.
    pub kind: Kind,
    /// The materials the fitted table names: the filter's material, or the
    /// union of the events' materials.
    pub materials: Materials,
    /// The events, by start.
    pub events: Vec<Event>,
    /// The rate of events.
    pub rate: RateFit,
    /// Their durations.
    pub duration: DurationFit,
    /// Their severities, as shares of the flows from the region
    /// ([`Event::severity_of_flows`]).
    pub severity: SeverityFit,
}

impl PairFit {
    /// Whether the region is a route rather than a country: a country is
    /// an ISO 3166 alpha-2 code, two capital letters.
    pub fn is_route(&self) -> bool {
        !(self.region.len() == 2 && self.region.bytes().all(|c| c.is_ascii_uppercase()))
    }
}

/// A fit of the catalogue: what was asked, and one [`PairFit`] per
/// (region, kind) pair, ordered by region then kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The catalogue file.
    pub file: PathBuf,
    /// The table of shares of world production read, if any.
    pub shares_file: Option<PathBuf>,
    /// The filter as given.
    pub filter: Filter,
    /// First month of exposure.
    pub exposure_start: Month,
    /// Last month of exposure.
    pub until: Month,
    /// Exposure in years.
    pub years: f64,
    /// The rows that matched the filter but were left out, and why.
    pub excluded: Vec<(String, Exclusion)>,
    /// The fits.
    pub pairs: Vec<PairFit>,
}

/// Why a catalogue could not be read or fitted.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The file could not be read.
    #[error("{}: cannot read the catalogue", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The table of shares of world production could not be read.
    #[error("{}: cannot read the table of shares of world production", file.display())]
    ReadShares {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not well-formed CSV.
    #[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Csv {
        /// The file.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// A column is missing from the header.
    #[error(
        "{}:1: missing column {column:?}; the header must name: {}",
        file.display(),
        COLUMNS.join(",")
    )]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The column.
        column: &'static str,
    },
    /// A value is missing, out of range or inconsistent.
    #[error("{}:{line}: {field}: {message}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// The field, as `row[<id>].<column>`.
        field: String,
        /// What is wrong, and what would be valid.
        message: String,
    },
    /// `until` is before the exposure starts.
    #[error("--until {until}: must not be before {EXPOSURE_START}, when exposure starts")]
    Until {
        /// The month given.
        until: Month,
    },
    /// No row matches the filter.
    #[error("{}: no row matches {filter}; {known}", file.display())]
    NoMatch {
        /// The file.
        file: PathBuf,
        /// The filter, as options.
        filter: String,
        /// The values that would match.
        known: String,
    },
}

/// Reads the catalogue at `path` and fits it, its `world_supply`
/// severities read with the shares of the `materials.csv` beside it
/// ([`WorldShares::beside`]): what `crmsim catalogue` does by default.
///
/// # Errors
/// [`CatalogueError`] naming the file, the line and the field, or the
/// filter that matches nothing.
pub fn catalogue(path: &Path, filter: &Filter) -> Result<Fit, CatalogueError> {
    Catalogue::load(path)?.fit_with(filter, &WorldShares::beside(path)?)
}

impl Catalogue {
    /// Reads and validates a catalogue file.
    ///
    /// # Errors
    /// [`CatalogueError`] naming the file, the line and the field.
    pub fn load(path: &Path) -> Result<Catalogue, CatalogueError> {
        let text = crate::scenario::read_input(path).map_err(|source| CatalogueError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Catalogue::from_csv(&text, path)
    }

    /// The rows, in file order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The newest month in the catalogue: of any `start`, `end` or `as_of`.
    pub fn newest(&self) -> Option<Month> {
        self.rows
            .iter()
            .flat_map(|r| {
                let end = match r.end {
                    End::Ended(m) | End::Ongoing { as_of: m } => m,
                };
                [r.start, end]
            })
            .max()
    }
}
