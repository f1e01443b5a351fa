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
//! - Severity: from the events that have one. With [`MIN_SEVERITIES_FOR_BETA`]
//!   or more, a beta by moments; with fewer, the uniform over the observed
//!   range, marked as a fallback; with none, nothing is fitted.
//! - Rows are left out or merged by columns, not by ids: `physical = no`
//!   (removes no supply) is left out, and a row whose `same_event_as` row is
//!   in the same fit is merged into it (one event).

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
    /// Their severities.
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
    #[error("{}: cannot read the catalogue: {source}", file.display())]
    Read {
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

/// Reads the catalogue at `path` and fits it: what `crmsim catalogue` does.
///
/// # Errors
/// [`CatalogueError`] naming the file, the line and the field, or the
/// filter that matches nothing.
pub fn catalogue(path: &Path, filter: &Filter) -> Result<Fit, CatalogueError> {
    Catalogue::load(path)?.fit(filter)
}

impl Catalogue {
    /// Reads and validates a catalogue file.
    ///
    /// # Errors
    /// [`CatalogueError`] naming the file, the line and the field.
    pub fn load(path: &Path) -> Result<Catalogue, CatalogueError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Catalogue::from_csv(&text, path)
    }

    /// Parses and validates catalogue text; `file` is only used in messages.
    ///
    /// # Errors
    /// [`CatalogueError`] naming the file, the line and the field.
    pub fn from_csv(text: &str, file: &Path) -> Result<Catalogue, CatalogueError> {
        let csv_err = |e: csv::Error| CatalogueError::Csv {
            file: file.to_path_buf(),
            line: e.position().map(|p| p.line()),
            message: match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("{len} fields, but the header has {expected_len}"),
                _ => e.to_string(),
            },
        };
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header = reader.headers().map_err(csv_err)?.clone();
        let mut col = BTreeMap::new();
        for name in COLUMNS {
            let Some(i) = header.iter().position(|h| h.trim() == name) else {
                return Err(CatalogueError::MissingColumn {
                    file: file.to_path_buf(),
                    column: name,
                });
            };
            col.insert(name, i);
        }
        let mut rows: Vec<Row> = Vec::new();
        let mut lines: BTreeMap<String, u64> = BTreeMap::new();
        for record in reader.records() {
            let record = record.map_err(csv_err)?;
            let line = record.position().map_or(0, |p| p.line());
            let fields = Fields {
                record: &record,
                col: &col,
            };
            let row = parse_row(&fields, line).map_err(|(field, message)| {
                let id = fields.get("id");
                CatalogueError::Invalid {
                    file: file.to_path_buf(),
                    line,
                    field: if id.is_empty() || field == "id" {
                        field.to_string()
                    } else {
                        format!("row[{id}].{field}")
                    },
                    message,
                }
            })?;
            if let Some(first) = lines.insert(row.id.clone(), line) {
                return Err(CatalogueError::Invalid {
                    file: file.to_path_buf(),
                    line,
                    field: "id".into(),
                    message: format!("{:?} is already the id of line {first}", row.id),
                });
            }
            rows.push(row);
        }
        check_links(&rows).map_err(|(row, message)| CatalogueError::Invalid {
            file: file.to_path_buf(),
            line: row.line,
            field: format!("row[{}].same_event_as", row.id),
            message,
        })?;
        Ok(Catalogue {
            file: file.to_path_buf(),
            rows,
        })
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

    /// Fits every (region, kind) pair of the rows that match `filter`.
    ///
    /// # Errors
    /// [`CatalogueError::Until`] if `filter.until` is before
    /// [`EXPOSURE_START`]; [`CatalogueError::NoMatch`] if a material or
    /// region is given and no row matches it.
    pub fn fit(&self, filter: &Filter) -> Result<Fit, CatalogueError> {
        let until = filter
            .until
            .or_else(|| self.newest())
            .unwrap_or(EXPOSURE_START);
        if until < EXPOSURE_START {
            return Err(CatalogueError::Until { until });
        }
        let years = f64::from(EXPOSURE_START.months_through(until)) / 12.0;
        let matches = |r: &Row| {
            filter
                .material
                .as_deref()
                .is_none_or(|m| r.materials.includes(m))
                && filter
                    .region
                    .as_deref()
                    .is_none_or(|g| r.region.eq_ignore_ascii_case(g))
        };
        let matching: Vec<&Row> = self.rows.iter().filter(|r| matches(r)).collect();
        // A material no row names is a typo, even though the rows of every
        // material (`all`) match it.
        let named = |m: &str| {
            self.rows
                .iter()
                .any(|r| matches!(&r.materials, Materials::List(ids) if ids.iter().any(|i| i == m)))
        };
        if filter.material.as_deref().is_some_and(|m| !named(m))
            || matching.is_empty() && (filter.material.is_some() || filter.region.is_some())
        {
            return Err(self.no_match(filter));
        }

        let mut excluded = Vec::new();
        let mut kept: Vec<&Row> = Vec::new();
        for r in matching {
            let why = if r.physical == Physical::No {
                Some(Exclusion::NotPhysical)
            } else if r.start < EXPOSURE_START {
                Some(Exclusion::BeforeExposure)
            } else if r.start > until {
                Some(Exclusion::AfterUntil)
            } else {
                None
            };
            match why {
                Some(e) => excluded.push((r.id.clone(), e)),
                None => kept.push(r),
            }
        }

        // A row merges into the row it names when that row is kept too.
        let kept_ids: BTreeSet<&str> = kept.iter().map(|r| r.id.as_str()).collect();
        let primary = |r: &Row| -> Option<String> {
            r.same_event_as
                .clone()
                .filter(|p| kept_ids.contains(p.as_str()))
        };
        let mut groups: BTreeMap<(String, Kind), Vec<(Event, Materials)>> = BTreeMap::new();
        for r in kept.iter().filter(|r| primary(r).is_none()) {
            let members: Vec<&&Row> = kept
                .iter()
                .filter(|m| primary(m).as_deref() == Some(r.id.as_str()))
                .collect();
            let (months, censored_at) = duration(r, until);
            let event = Event {
                ids: std::iter::once(&r.id)
                    .chain(members.iter().map(|m| &m.id))
                    .cloned()
                    .collect(),
                start: r.start,
                months,
                censored_at,
                severity: r
                    .severity
                    .or_else(|| members.iter().find_map(|m| m.severity)),
                some_markets: r.physical == Physical::SomeMarkets
                    || members.iter().any(|m| m.physical == Physical::SomeMarkets),
            };
            let materials = members
                .iter()
                .fold(r.materials.clone(), |acc, m| acc.union(&m.materials));
            groups
                .entry((r.region.clone(), r.kind))
                .or_default()
                .push((event, materials));
        }

        let pairs = groups
            .into_iter()
            .map(|((region, kind), mut events)| {
                events.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(a.0.ids.cmp(&b.0.ids)));
                let materials = match &filter.material {
                    Some(m) => Materials::List(vec![m.clone()]),
                    None => events
                        .iter()
                        .skip(1)
                        .fold(events[0].1.clone(), |acc, (_, m)| acc.union(m)),
                };
                let events: Vec<Event> = events.into_iter().map(|(e, _)| e).collect();
                PairFit {
                    region,
                    kind,
                    materials,
                    rate: rate(events.len(), years),
                    duration: fit_duration(&events),
                    severity: fit_severity(&events),
                    events,
                }
            })
            .collect();
        Ok(Fit {
            file: self.file.clone(),
            filter: filter.clone(),
            exposure_start: EXPOSURE_START,
            until,
            years,
            excluded,
            pairs,
        })
    }

    fn no_match(&self, filter: &Filter) -> CatalogueError {
        let mut options = Vec::new();
        if let Some(m) = &filter.material {
            options.push(format!("--material {m}"));
        }
        if let Some(r) = &filter.region {
            options.push(format!("--region {r}"));
        }
        let materials: BTreeSet<&str> = self
            .rows
            .iter()
            .flat_map(|r| match &r.materials {
                Materials::All => vec![],
                Materials::List(ids) => ids.iter().map(String::as_str).collect(),
            })
            .collect();
        let regions: BTreeSet<&str> = self.rows.iter().map(|r| r.region.as_str()).collect();
        let join = |s: BTreeSet<&str>| s.into_iter().collect::<Vec<_>>().join(", ");
        CatalogueError::NoMatch {
            file: self.file.clone(),
            filter: options.join(" "),
            known: format!(
                "materials in the catalogue: {}; regions and routes: {}",
                join(materials),
                join(regions)
            ),
        }
    }
}

/// Months in force up to the end of exposure, and the censoring month when
/// the event was still in force at its latest source or after `until`.
fn duration(r: &Row, until: Month) -> (u32, Option<Month>) {
    let (last, censored) = match r.end {
        End::Ended(end) if end <= until => (end, None),
        End::Ended(_) => (until, Some(until)),
        End::Ongoing { as_of } => {
            let at = as_of.min(until);
            (at, Some(at))
        }
    };
    (r.start.months_through(last), censored)
}

/// The Jeffreys posterior of a Poisson rate after `events` in `years`.
fn rate(events: usize, years: f64) -> RateFit {
    RateFit {
        events,
        years,
        shape: events as f64 + 0.5,
        scale: 1.0 / years,
    }
}

/// Mean and sample standard deviation (n - 1); `xs` has at least two values.
fn moments(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let ss = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
    (mean, (ss / (n - 1.0)).sqrt())
}

fn fit_duration(events: &[Event]) -> DurationFit {
    let censored = events.iter().filter(|e| e.censored_at.is_some()).count();
    if let [e] = events {
        return DurationFit::Single {
            months: e.months,
            censored: censored == 1,
        };
    }
    let months: Vec<f64> = events.iter().map(|e| f64::from(e.months)).collect();
    let (mean, sd) = moments(&months);
    DurationFit::Lognormal {
        n: events.len(),
        censored,
        mean,
        sd,
    }
}

fn fit_severity(events: &[Event]) -> SeverityFit {
    let values: Vec<f64> = events
        .iter()
        .filter_map(|e| e.severity.map(|s| s.value))
        .collect();
    let n = values.len();
    if n == 0 {
        return SeverityFit::Missing;
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if n >= MIN_SEVERITIES_FOR_BETA {
        let (mean, sd) = moments(&values);
        let var = sd * sd;
        // Moments fit a beta only when 0 < var < mean (1 - mean).
        if var > 0.0 && var < mean * (1.0 - mean) {
            let k = mean * (1.0 - mean) / var - 1.0;
            return SeverityFit::Beta {
                n,
                mean,
                sd,
                alpha: mean * k,
                beta: (1.0 - mean) * k,
            };
        }
    }
    SeverityFit::Range { n, min, max }
}

type FieldResult<T> = Result<T, (&'static str, String)>;

fn month(field: &'static str, s: &str) -> FieldResult<Month> {
    s.parse().map_err(|e: MonthError| (field, e.to_string()))
}

/// One record's fields by column name, trimmed.
struct Fields<'a> {
    record: &'a csv::StringRecord,
    col: &'a BTreeMap<&'static str, usize>,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> &'a str {
        self.record.get(self.col[name]).unwrap_or("").trim()
    }
}

fn parse_row(f: &Fields<'_>, line: u64) -> FieldResult<Row> {
    let get = |name: &str| f.get(name);
    let id = get("id");
    if id.is_empty() {
        return Err(("id", "is empty: every row needs a unique id".into()));
    }
    let materials = match get("materials") {
        "" => {
            return Err((
                "materials",
                "is empty: name the materials hit, or all".into(),
            ))
        }
        "all" => Materials::All,
        list => {
            let mut ids = BTreeSet::new();
            for m in list.split(';').map(str::trim) {
                if !crate::scenario::build::is_identifier(m) {
                    return Err((
                        "materials",
                        format!(
                            "{m:?} is not a material id (lowercase letters, digits, '_' \
                             and '-', starting with a letter); separate ids with ';'"
                        ),
                    ));
                }
                ids.insert(m.to_string());
            }
            Materials::List(ids.into_iter().collect())
        }
    };
    let region = get("region");
    if region.is_empty() {
        return Err((
            "region",
            "is empty: give the country code or route hit".into(),
        ));
    }
    let kind = get("kind");
    let kind = Kind::ALL
        .into_iter()
        .find(|k| k.name() == kind)
        .ok_or_else(|| {
            (
                "kind",
                format!(
                    "{kind:?} is not a kind: use {}",
                    Kind::ALL.map(Kind::name).join(", ")
                ),
            )
        })?;
    let start = month("start", get("start"))?;
    let end = match (get("end"), get("as_of")) {
        ("ongoing", "") => {
            return Err((
                "as_of",
                "is empty: an ongoing row needs the month of its latest source (YYYY-MM)".into(),
            ))
        }
        ("ongoing", as_of) => End::Ongoing {
            as_of: month("as_of", as_of)?,
        },
        (end, "") => {
            End::Ended(month("end", end).map_err(|(f, m)| (f, format!("{m}, or ongoing")))?)
        }
        (_, as_of) => {
            return Err((
                "as_of",
                format!("{as_of:?}: only an ongoing row has as_of; leave it empty"),
            ))
        }
    };
    let last = match end {
        End::Ended(m) => ("end", m),
        End::Ongoing { as_of } => ("as_of", as_of),
    };
    if last.1 < start {
        return Err((last.0, format!("{} is before start {start}", last.1)));
    }
    let severity = match (get("severity"), get("severity_basis")) {
        ("", "") => None,
        ("", basis) => {
            return Err((
                "severity_basis",
                format!("{basis:?} without a severity: leave both empty, or give both"),
            ))
        }
        (value, basis) => {
            let v: f64 = value
                .parse()
                .ok()
                .filter(|v: &f64| (0.0..=1.0).contains(v))
                .ok_or_else(|| {
                    (
                        "severity",
                        format!("{value:?}: must be a share in [0, 1], or empty"),
                    )
                })?;
            let basis = match basis {
                "world_supply" => Basis::WorldSupply,
                "exports" => Basis::Exports,
                other => {
                    return Err((
                        "severity_basis",
                        format!("{other:?}: use world_supply or exports"),
                    ))
                }
            };
            Some(Severity { value: v, basis })
        }
    };
    let physical = match get("physical") {
        "yes" => Physical::Yes,
        "no" => Physical::No,
        "some_markets" => Physical::SomeMarkets,
        other => {
            return Err((
                "physical",
                format!("{other:?}: use yes, no or some_markets"),
            ))
        }
    };
    let same_event_as = Some(get("same_event_as"))
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let source = get("source");
    if source.is_empty() {
        return Err(("source", "is empty: every row must cite its source".into()));
    }
    Ok(Row {
        id: id.to_string(),
        line,
        materials,
        region: region.to_string(),
        kind,
        start,
        end,
        severity,
        physical,
        same_event_as,
        source: source.to_string(),
    })
}

/// Each `same_event_as` names another row of the same region and kind,
/// which itself names none.
fn check_links(rows: &[Row]) -> Result<(), (&Row, String)> {
    for r in rows {
        let Some(p) = &r.same_event_as else { continue };
        let Some(target) = rows.iter().find(|t| &t.id == p) else {
            return Err((r, format!("{p:?} is not the id of a row")));
        };
        if target.id == r.id {
            return Err((r, "names the row itself".into()));
        }
        if (target.region.as_str(), target.kind) != (r.region.as_str(), r.kind) {
            return Err((
                r,
                format!(
                    "{p:?} is a {} {} row, this one {} {}: one event has one region and kind",
                    target.region, target.kind, r.region, r.kind
                ),
            ));
        }
        if target.same_event_as.is_some() {
            return Err((
                r,
                format!("{p:?} itself names another row: point to the first row of the event"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,materials,region,kind,start,end,as_of,severity,severity_basis,\
                          physical,same_event_as,description,source,note";

    /// Seven rows: three AA outages, two BB export controls (one ongoing,
    /// with a second row of the same event), and a BB tariff that removes
    /// no supply.
    const ROWS: [&str; 7] = [
        "aa-out-1,nickel,AA,outage,2006-03,2006-05,,0.2,world_supply,yes,,,src a,",
        "aa-out-2,nickel;cobalt,AA,outage,2010-01,2010-12,,0.4,world_supply,yes,,,src b,",
        "aa-out-3,nickel,AA,outage,2014-07,2014-07,,0.3,world_supply,yes,,,src c,",
        "bb-ec-1,gallium,BB,export_control,2008-01,2009-12,,,,yes,,,src d,",
        "bb-ec-2,gallium;germanium,BB,export_control,2012-06,ongoing,2014-11,0.5,exports,yes,,,src e,",
        "bb-ec-2b,germanium;indium,BB,export_control,2012-09,2013-03,,,,yes,bb-ec-2,,src f,",
        "bb-tariff,gallium,BB,sanction,2013-01,2013-06,,,,no,,,src g,",
    ];

    fn text(rows: &[&str]) -> String {
        let mut t = format!("{HEADER}\n");
        for r in rows {
            t.push_str(r);
            t.push('\n');
        }
        t
    }

    fn small() -> Catalogue {
        Catalogue::from_csv(&text(&ROWS), Path::new("t.csv")).unwrap()
    }

    fn fit(filter: Filter) -> Fit {
        small().fit(&filter).unwrap()
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} != {b}");
    }

    fn list(ids: &[&str]) -> Materials {
        Materials::List(ids.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn months_parse_and_count() {
        let m: Month = "2012-06".parse().unwrap();
        assert_eq!((m.year(), m.month()), (2012, 6));
        assert_eq!(m.to_string(), "2012-06");
        // June to December, both counted: 7 months.
        assert_eq!(m.months_through("2012-12".parse().unwrap()), 7);
        assert_eq!(m.months_through(m), 1);
        assert_eq!(m.months_through("2012-05".parse().unwrap()), 0);
        for bad in [
            "2012-13", "2012-00", "2012-6", "12-06", "2012/06", "", "2012-06 ",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hand_counted_fit() {
        let f = fit(Filter::default());
        // The newest month in the file is bb-ec-2's as_of, 2014-11.
        // Exposure 2005-01 to 2014-11: 9 x 12 + 11 = 119 months = 119/12 years.
        assert_eq!(f.until, "2014-11".parse().unwrap());
        close(f.years, 119.0 / 12.0);
        assert_eq!(
            f.excluded,
            vec![("bb-tariff".to_string(), Exclusion::NotPhysical)]
        );
        assert_eq!(f.pairs.len(), 2);

        let aa = &f.pairs[0];
        assert_eq!((aa.region.as_str(), aa.kind), ("AA", Kind::Outage));
        assert_eq!(aa.materials, list(&["cobalt", "nickel"]));
        // 3 events in 119/12 years: Jeffreys shape 3 + 1/2, scale 12/119;
        // mean 3.5 x 12 / 119 = 42/119 = 0.3529 per year.
        assert_eq!(aa.rate.events, 3);
        close(aa.rate.shape, 3.5);
        close(aa.rate.scale, 12.0 / 119.0);
        close(aa.rate.mean(), 42.0 / 119.0);
        // Durations 2006-03..05 = 3, 2010-01..12 = 12, 2014-07..07 = 1 month.
        // Mean 16/3; squared deviations (7/3)^2 + (20/3)^2 + (13/3)^2 = 618/9,
        // over n - 1 = 2: 103/3; sd sqrt(103/3) = 5.8595.
        let months: Vec<u32> = aa.events.iter().map(|e| e.months).collect();
        assert_eq!(months, [3, 12, 1]);
        match aa.duration {
            DurationFit::Lognormal {
                n,
                censored,
                mean,
                sd,
            } => {
                assert_eq!((n, censored), (3, 0));
                close(mean, 16.0 / 3.0);
                close(sd, (103.0_f64 / 3.0).sqrt());
            }
            other => panic!("{other:?}"),
        }
        // Severities 0.2, 0.4, 0.3: mean 0.3, variance (0.01 + 0.01 + 0) / 2
        // = 0.01; k = 0.3 x 0.7 / 0.01 - 1 = 20; alpha = 0.3 k = 6,
        // beta = 0.7 k = 14.
        match aa.severity {
            SeverityFit::Beta {
                n,
                mean,
                alpha,
                beta,
                ..
            } => {
                assert_eq!(n, 3);
                close(mean, 0.3);
                close(alpha, 6.0);
                close(beta, 14.0);
            }
            other => panic!("{other:?}"),
        }

        let bb = &f.pairs[1];
        assert_eq!((bb.region.as_str(), bb.kind), ("BB", Kind::ExportControl));
        assert_eq!(bb.materials, list(&["gallium", "germanium", "indium"]));
        // bb-ec-2b is the same event as bb-ec-2: 2 events, not 3.
        // Shape 2 + 1/2, scale 12/119.
        assert_eq!(bb.rate.events, 2);
        close(bb.rate.shape, 2.5);
        close(bb.rate.scale, 12.0 / 119.0);
        assert_eq!(bb.events[1].ids, ["bb-ec-2", "bb-ec-2b"]);
        // bb-ec-1: 2008-01..2009-12 = 24 months. bb-ec-2: ongoing, censored
        // at its as_of 2014-11: June-December 2012 (7) + 12 + 11 = 30 months.
        // Mean 27, sd sqrt((3^2 + 3^2) / 1) = sqrt(18).
        assert_eq!(bb.events[0].months, 24);
        assert_eq!(bb.events[1].months, 30);
        assert_eq!(bb.events[1].censored_at, Some("2014-11".parse().unwrap()));
        match bb.duration {
            DurationFit::Lognormal {
                n,
                censored,
                mean,
                sd,
            } => {
                assert_eq!((n, censored), (2, 1));
                close(mean, 27.0);
                close(sd, 18.0_f64.sqrt());
            }
            other => panic!("{other:?}"),
        }
        // One sourced severity: too few for a spread.
        assert_eq!(
            bb.severity,
            SeverityFit::Range {
                n: 1,
                min: 0.5,
                max: 0.5
            }
        );
    }

    #[test]
    fn until_ends_exposure_and_censors() {
        let f = fit(Filter {
            until: Some("2012-12".parse().unwrap()),
            ..Filter::default()
        });
        // 2005-01 to 2012-12: 96 months = 8 years.
        close(f.years, 8.0);
        assert_eq!(
            f.excluded,
            vec![
                ("aa-out-3".to_string(), Exclusion::AfterUntil),
                ("bb-tariff".to_string(), Exclusion::NotPhysical),
            ]
        );
        let aa = &f.pairs[0];
        // 2 events in 8 years: shape 2.5, scale 1/8.
        close(aa.rate.shape, 2.5);
        close(aa.rate.scale, 0.125);
        // Durations 3 and 12: mean 7.5, sd sqrt(4.5^2 + 4.5^2) = sqrt(40.5).
        match aa.duration {
            DurationFit::Lognormal { mean, sd, .. } => {
                close(mean, 7.5);
                close(sd, 40.5_f64.sqrt());
            }
            other => panic!("{other:?}"),
        }
        // Two severities: the uniform over their range.
        assert_eq!(
            aa.severity,
            SeverityFit::Range {
                n: 2,
                min: 0.2,
                max: 0.4
            }
        );
        let bb = &f.pairs[1];
        // bb-ec-2 is ongoing at 2014-11 but exposure ends 2012-12: censored
        // there, June-December 2012 = 7 months. Durations 24 and 7: mean
        // 15.5, sd sqrt(8.5^2 + 8.5^2) = sqrt(144.5).
        assert_eq!(bb.events[1].months, 7);
        assert_eq!(bb.events[1].censored_at, Some("2012-12".parse().unwrap()));
        match bb.duration {
            DurationFit::Lognormal { mean, sd, .. } => {
                close(mean, 15.5);
                close(sd, 144.5_f64.sqrt());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_ended_event_is_censored_at_until() {
        let f = fit(Filter {
            until: Some("2009-06".parse().unwrap()),
            ..Filter::default()
        });
        // 2005-01 to 2009-06: 54 months = 4.5 years.
        close(f.years, 4.5);
        let bb = &f.pairs[1];
        // bb-ec-1 ended 2009-12, after the end of exposure: 2008-01 to
        // 2009-06 = 18 months, censored.
        assert_eq!(bb.events.len(), 1);
        assert_eq!(bb.events[0].months, 18);
        assert_eq!(bb.events[0].censored_at, Some("2009-06".parse().unwrap()));
        assert_eq!(
            bb.duration,
            DurationFit::Single {
                months: 18,
                censored: true
            }
        );
        // 1 event in 4.5 years: shape 1.5, scale 1/4.5.
        close(bb.rate.shape, 1.5);
        close(bb.rate.scale, 1.0 / 4.5);
    }

    #[test]
    fn filters() {
        // nickel: the AA outages only, and the table names nickel alone.
        let f = fit(Filter {
            material: Some("nickel".into()),
            ..Filter::default()
        });
        assert_eq!(f.pairs.len(), 1);
        assert_eq!(f.pairs[0].region, "AA");
        assert_eq!(f.pairs[0].materials, list(&["nickel"]));
        assert_eq!(f.pairs[0].rate.events, 3);
        assert!(f.excluded.is_empty());
        // cobalt: one AA outage.
        let f = fit(Filter {
            material: Some("cobalt".into()),
            ..Filter::default()
        });
        assert_eq!(f.pairs[0].rate.events, 1);
        // germanium: both rows of the merged event match: still one event.
        let f = fit(Filter {
            material: Some("germanium".into()),
            ..Filter::default()
        });
        assert_eq!(f.pairs.len(), 1);
        assert_eq!(f.pairs[0].events.len(), 1);
        assert_eq!(f.pairs[0].events[0].ids, ["bb-ec-2", "bb-ec-2b"]);
        // indium: only bb-ec-2b matches, so it stands alone with its own
        // dates (2012-09 to 2013-03: 7 months) and no severity.
        let f = fit(Filter {
            material: Some("indium".into()),
            ..Filter::default()
        });
        let bb = &f.pairs[0];
        assert_eq!(bb.events[0].ids, ["bb-ec-2b"]);
        assert_eq!(
            bb.duration,
            DurationFit::Single {
                months: 7,
                censored: false
            }
        );
        assert_eq!(bb.severity, SeverityFit::Missing);
        // region, case ignored.
        let f = fit(Filter {
            region: Some("bb".into()),
            ..Filter::default()
        });
        assert_eq!(f.pairs.len(), 1);
        assert_eq!(f.pairs[0].kind, Kind::ExportControl);
        assert_eq!(f.excluded.len(), 1);
        // Both filters: gallium from BB. bb-ec-2b (germanium, indium) does
        // not match, so bb-ec-2 stands alone; the tariff is left out.
        let f = fit(Filter {
            material: Some("gallium".into()),
            region: Some("BB".into()),
            ..Filter::default()
        });
        assert_eq!(f.pairs.len(), 1);
        assert_eq!(f.pairs[0].events.len(), 2);
        assert_eq!(f.pairs[0].events[1].ids, ["bb-ec-2"]);
        assert_eq!(f.excluded.len(), 1);
        // A material and a region that match rows, but never together.
        assert!(small()
            .fit(&Filter {
                material: Some("gallium".into()),
                region: Some("AA".into()),
                ..Filter::default()
            })
            .is_err());
    }

    #[test]
    fn a_filter_that_matches_nothing_is_an_error() {
        let e = small()
            .fit(&Filter {
                material: Some("tin".into()),
                ..Filter::default()
            })
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv: no row matches --material tin; materials in the catalogue: cobalt, \
             gallium, germanium, indium, nickel; regions and routes: AA, BB"
        );
        // A row of every material (`all`) does not make a typo match.
        let mut rows = ROWS.to_vec();
        rows.push("sea-1,all,RedSea,logistics,2011-02,2011-03,,,,yes,,,src h,");
        let e = Catalogue::from_csv(&text(&rows), Path::new("t.csv"))
            .unwrap()
            .fit(&Filter {
                material: Some("nikel".into()),
                ..Filter::default()
            })
            .unwrap_err();
        assert!(e.to_string().starts_with(
            "t.csv: no row matches --material nikel; materials in the catalogue: cobalt,"
        ));
        let e = small()
            .fit(&Filter {
                until: Some("2004-12".parse().unwrap()),
                ..Filter::default()
            })
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--until 2004-12: must not be before 2005-01, when exposure starts"
        );
    }

    #[test]
    fn rate_quantiles_match_chi_square_tables() {
        // Gamma(k + 1/2, 1/T) = chi-square(2k + 1) / (2T). With k = 1, T = 1:
        // chi-square(3) quantiles 0.351846 (5 %) and 7.814728 (95 %).
        let r = rate(1, 1.0);
        assert!((r.quantile(0.05) - 0.351846 / 2.0).abs() < 1e-5);
        assert!((r.quantile(0.95) - 7.814728 / 2.0).abs() < 1e-5);
        close(r.mean(), 1.5);
        close(r.sd(), 1.5_f64.sqrt());
    }

    fn error(rows: &[&str]) -> String {
        Catalogue::from_csv(&text(rows), Path::new("t.csv"))
            .unwrap_err()
            .to_string()
    }

    fn with(row: usize, column: &str, value: &str) -> String {
        let i = COLUMNS.iter().position(|c| *c == column).unwrap();
        let mut fields: Vec<String> = ROWS[row].split(',').map(str::to_string).collect();
        fields[i] = value.to_string();
        let changed = fields.join(",");
        let mut rows: Vec<&str> = ROWS.to_vec();
        rows[row] = &changed;
        error(&rows)
    }

    #[test]
    fn input_errors_name_the_file_line_and_field() {
        let no_as_of = text(&ROWS).replace(",as_of", "");
        let e = Catalogue::from_csv(&no_as_of, Path::new("t.csv")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:1: missing column \"as_of\"; the header must name: id,materials,region,\
             kind,start,end,as_of,severity,severity_basis,physical,same_event_as,description,\
             source,note"
        );
        assert_eq!(
            with(2, "kind", "strike"),
            "t.csv:4: row[aa-out-3].kind: \"strike\" is not a kind: use export_control, \
             outage, sanction, logistics"
        );
        assert_eq!(
            with(0, "start", "2006-13"),
            "t.csv:2: row[aa-out-1].start: \"2006-13\" is not a month: write YYYY-MM, e.g. 2025-11"
        );
        assert_eq!(
            with(0, "end", "soon"),
            "t.csv:2: row[aa-out-1].end: \"soon\" is not a month: write YYYY-MM, e.g. 2025-11, \
             or ongoing"
        );
        assert_eq!(
            with(1, "severity", "1.5"),
            "t.csv:3: row[aa-out-2].severity: \"1.5\": must be a share in [0, 1], or empty"
        );
        assert_eq!(
            with(1, "severity", "-0.1"),
            "t.csv:3: row[aa-out-2].severity: \"-0.1\": must be a share in [0, 1], or empty"
        );
        assert_eq!(
            with(3, "source", ""),
            "t.csv:5: row[bb-ec-1].source: is empty: every row must cite its source"
        );
        assert_eq!(
            with(3, "source", "  "),
            "t.csv:5: row[bb-ec-1].source: is empty: every row must cite its source"
        );
        assert_eq!(
            with(4, "as_of", ""),
            "t.csv:6: row[bb-ec-2].as_of: is empty: an ongoing row needs the month of its \
             latest source (YYYY-MM)"
        );
        assert_eq!(
            with(3, "as_of", "2010-01"),
            "t.csv:5: row[bb-ec-1].as_of: \"2010-01\": only an ongoing row has as_of; leave it empty"
        );
        assert_eq!(
            with(3, "end", "2007-12"),
            "t.csv:5: row[bb-ec-1].end: 2007-12 is before start 2008-01"
        );
        assert_eq!(
            with(0, "severity_basis", "imports"),
            "t.csv:2: row[aa-out-1].severity_basis: \"imports\": use world_supply or exports"
        );
        assert_eq!(
            with(3, "severity_basis", "exports"),
            "t.csv:5: row[bb-ec-1].severity_basis: \"exports\" without a severity: leave both \
             empty, or give both"
        );
        assert_eq!(
            with(0, "physical", "maybe"),
            "t.csv:2: row[aa-out-1].physical: \"maybe\": use yes, no or some_markets"
        );
        assert_eq!(
            with(0, "materials", "Nickel"),
            "t.csv:2: row[aa-out-1].materials: \"Nickel\" is not a material id (lowercase \
             letters, digits, '_' and '-', starting with a letter); separate ids with ';'"
        );
        assert_eq!(
            with(0, "region", ""),
            "t.csv:2: row[aa-out-1].region: is empty: give the country code or route hit"
        );
        assert_eq!(
            with(0, "id", ""),
            "t.csv:2: id: is empty: every row needs a unique id"
        );
        assert_eq!(
            with(1, "id", "aa-out-1"),
            "t.csv:3: id: \"aa-out-1\" is already the id of line 2"
        );
        assert_eq!(
            with(5, "same_event_as", "bb-ec-9"),
            "t.csv:7: row[bb-ec-2b].same_event_as: \"bb-ec-9\" is not the id of a row"
        );
        assert_eq!(
            with(5, "same_event_as", "aa-out-1"),
            "t.csv:7: row[bb-ec-2b].same_event_as: \"aa-out-1\" is a AA outage row, this one \
             BB export_control: one event has one region and kind"
        );
        assert_eq!(
            with(5, "same_event_as", "bb-ec-2b"),
            "t.csv:7: row[bb-ec-2b].same_event_as: names the row itself"
        );
        let mut rows = ROWS.to_vec();
        rows.push("bb-ec-2c,indium,BB,export_control,2012-10,2012-11,,,,yes,bb-ec-2b,,src h,");
        assert_eq!(
            error(&rows),
            "t.csv:9: row[bb-ec-2c].same_event_as: \"bb-ec-2b\" itself names another row: \
             point to the first row of the event"
        );
        let mut rows = ROWS.to_vec();
        rows[0] = "aa-out-1,nickel,AA,outage,2006-03";
        assert_eq!(error(&rows), "t.csv:2: 5 fields, but the header has 14");
    }

    #[test]
    fn lines_count_quoted_line_breaks() {
        // A description over three lines: the next row starts on line 5.
        let rows = [
            "aa-out-1,nickel,AA,outage,2006-03,2006-05,,,,yes,,\"one\ntwo\nthree\",src a,",
            "aa-out-2,nickel,AA,blackout,2010-01,2010-12,,,,yes,,,src b,",
        ];
        assert!(error(&rows).starts_with("t.csv:5: row[aa-out-2].kind:"));
    }

    /// Every row of the sourced data used to fit events or to check them
    /// cites a source: the catalogue (which `Catalogue::load` checks with
    /// every other rule) and every history/*/observed.csv.
    #[test]
    fn every_data_row_has_a_source() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cat = Catalogue::load(&root.join("data/disruptions.csv")).unwrap();
        assert!(cat.rows().len() >= 49);
        assert!(cat.rows().iter().all(|r| !r.source.trim().is_empty()));

        let mut files = 0;
        for dir in std::fs::read_dir(root.join("history")).unwrap() {
            let path = dir.unwrap().path().join("observed.csv");
            if !path.exists() {
                continue;
            }
            files += 1;
            let mut reader = csv::Reader::from_path(&path).unwrap();
            let header = reader.headers().unwrap().clone();
            assert_eq!(
                header.iter().collect::<Vec<_>>(),
                ["material", "date", "variable", "value", "unit", "source"],
                "{}",
                path.display()
            );
            let mut rows = 0;
            for record in reader.records() {
                let record = record.unwrap();
                let line = record.position().unwrap().line();
                assert!(
                    !record[5].trim().is_empty(),
                    "{}:{line}: source is empty",
                    path.display()
                );
                rows += 1;
            }
            assert!(rows > 0, "{}: no rows", path.display());
        }
        assert!(files >= 5, "history/*/observed.csv: {files} files");
    }

    /// The catalogue's rules, applied by columns: the three rows that remove
    /// no supply are left out, and the two rows of WTO case DS431 are one
    /// event.
    #[test]
    fn the_catalogue_rules_apply_by_column() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let f = catalogue(&root.join("data/disruptions.csv"), &Filter::default()).unwrap();
        let mut left_out: Vec<&str> = f.excluded.iter().map(|(id, _)| id.as_str()).collect();
        left_out.sort_unstable();
        assert_eq!(
            left_out,
            [
                "br-vanadium-us-tariff-2025",
                "cn-tungsten-us-301-tariff-2025",
                "ru-lme-nickel-squeeze-2022"
            ]
        );
        let cn = f
            .pairs
            .iter()
            .find(|p| p.region == "CN" && p.kind == Kind::ExportControl)
            .unwrap();
        assert!(cn
            .events
            .iter()
            .any(|e| e.ids == ["cn-re-export-quota-cut-2010", "cn-ds431-w-mo-2012"]));
        let rows: usize = cn.events.iter().map(|e| e.ids.len()).sum();
        assert_eq!(rows, cn.events.len() + 1);
    }
}
