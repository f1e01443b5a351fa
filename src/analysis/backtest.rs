//! Backtests: a past episode replayed as a scenario and set against what was
//! observed (docs/validation.md).
//!
//! An episode is a folder with `scenario.toml` (the episode as it happened:
//! scheduled events, with the market parameters of the material's shipped
//! scenario) and `observed.csv` (`material,date,variable,value,unit,source`).
//! Each observed row names a quantity the model also computes, run by run:
//!
//! - a `timeseries.csv` variable (`imports`, `price`, ...), its value in the
//!   row's period;
//! - `price_multiple`: the region's price over its price at the episode's
//!   first date, the first step of the scenario's horizon (before its
//!   events, so the base price; the observed series' base date is also
//!   before the episode). The multiple is taken within each run
//!   (price(t) / price(first step) of the same run), and its percentiles
//!   are those of the per-run multiples, not a ratio of percentiles;
//! - `exports_multiple`: the origin's exports over their pre-episode level,
//!   which the model has as the availability a_s(t) of the flow from the
//!   origin that the scenario's events on the material target (1 before and
//!   after the events, 1 - severity during one).
//!
//! A row covers one month unless its unit says otherwise: `t/year` and
//! `ratio (yearly average)` cover the twelve months from its date,
//! `t/quarter` and `ratio (quarterly average)` three. The simulated value of
//! a row is the per-run mean over its months (for tonnes, the total over the
//! period in the row's unit).
//!
//! The result gives each row the 5th, 50th and 95th percentiles of its
//! simulated value over the runs, whether the observed value is inside the
//! 5-95 % band (a value on a bound is inside), the coverage (the share of
//! rows inside) and the mean absolute log error of the median. It reports;
//! it does not judge.

use crate::analysis::catalogue::Month;
use crate::engine::{simulate_observed, Observer, Prepared, Workspace};
use crate::report::{StepRow, STEP_QUANTILES};
use crate::scenario::{Scenario, Target as EventTarget};
use crate::vocab::{RunPlan, Variable};
use std::path::{Path, PathBuf};

/// The columns of `observed.csv`, in order.
pub const OBSERVED_COLUMNS: [&str; 6] = ["material", "date", "variable", "value", "unit", "source"];

/// The variables an observed row may name besides the `timeseries.csv` ones.
pub const DERIVED_VARIABLES: [&str; 2] = ["price_multiple", "exports_multiple"];

/// Why an episode cannot be backtested: the message names the file and,
/// for a row, its line.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The episode's scenario is wrong.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// A file could not be read.
    #[error("{}: cannot read the file: {cause}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// The header is not `material,date,variable,value,unit,source`.
    #[error("{}:1: the header must be {}, found {found}", file.display(), OBSERVED_COLUMNS.join(","))]
    Header {
        /// The file.
        file: PathBuf,
        /// The header as found.
        found: String,
    },
    /// A row is wrong.
    #[error("{}:{line}: {row}: {message}", file.display())]
    Row {
        /// The file.
        file: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// The row's first fields (`material,date,variable`), to find it.
        row: String,
        /// What is wrong, and what would be valid.
        message: String,
    },
    /// The file has no rows.
    #[error("{}: no observed rows", file.display())]
    Empty {
        /// The file.
        file: PathBuf,
    },
}

/// One row of `observed.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Material id.
    pub material: String,
    /// First month the row covers.
    pub date: Month,
    /// Variable name.
    pub variable: String,
    /// The observed value.
    pub value: f64,
    /// Unit as written.
    pub unit: String,
    /// Where the figure comes from.
    pub source: String,
    /// 1-based line in the file (0 for rows not read from a file).
    pub line: u64,
}

/// What the model computes for a variable, run by run and step by step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A recorded series.
    Series(Variable),
    /// The region's price over its price at the first step.
    PriceMultiple,
    /// The availability of import source `source` of the material.
    ExportsMultiple {
        /// The source, as numbered in the material.
        source: usize,
    },
}

/// One simulated series: a material's quantity over the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesKey {
    /// Material index.
    pub material: usize,
    /// Material id.
    pub material_id: String,
    /// Variable name, as in `observed.csv`.
    pub variable: String,
    /// What is computed.
    pub quantity: Quantity,
}

/// Where an observed row reads the simulated series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// Index into the series.
    pub series: usize,
    /// First step.
    pub first: usize,
    /// Steps averaged.
    pub len: usize,
    /// Multiplier of the per-step mean (steps per period of the unit, for
    /// flows in tonnes; 1 otherwise).
    pub scale: f64,
}

/// An episode ready to simulate: its scenario, its rows and where each row
/// reads the model.
#[derive(Debug, Clone)]
pub struct Episode {
    /// The folder.
    pub dir: PathBuf,
    /// The scenario, validated.
    pub scenario: Scenario,
    /// The observed rows, in file order.
    pub observations: Vec<Observation>,
    /// The series the rows need.
    pub series: Vec<SeriesKey>,
    /// Per row, where it reads the series.
    pub targets: Vec<Target>,
}

/// The simulated series of an episode, per run.
#[derive(Debug, Clone)]
pub struct Simulated {
    /// Runs simulated.
    pub runs: u64,
    /// Seed.
    pub seed: u64,
    /// Steps per run.
    pub steps: usize,
    /// `[series][run * steps + t]`.
    pub values: Vec<Vec<f64>>,
}

/// One row's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The observed row.
    pub observation: Observation,
    /// 5th, 50th and 95th percentiles of the simulated value.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Whether the observed value is within [p5, p95].
    pub inside: bool,
}

/// Coverage and error over a set of rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Rows.
    pub points: usize,
    /// Rows inside the band.
    pub inside: usize,
    /// Mean absolute log error of the median over the rows whose observed
    /// value and median are both above 0; `None` when there are none.
    pub log_error: Option<f64>,
    /// Rows in the log error.
    pub log_points: usize,
}

impl Score {
    /// The share of rows inside the band (0 without rows).
    pub fn coverage(&self) -> f64 {
        if self.points == 0 {
            0.0
        } else {
            self.inside as f64 / self.points as f64
        }
    }

    /// The score of `rows`.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a Scored>) -> Score {
        let (mut points, mut inside, mut log_points, mut log_sum) = (0, 0, 0, 0.0);
        for r in rows {
            points += 1;
            inside += usize::from(r.inside);
            if r.observation.value > 0.0 && r.p50 > 0.0 {
                log_points += 1;
                log_sum += (r.p50 / r.observation.value).ln().abs();
            }
        }
        Score {
            points,
            inside,
            log_error: (log_points > 0).then(|| log_sum / log_points as f64),
            log_points,
        }
    }
}

/// A backtest's result.
#[derive(Debug, Clone)]
pub struct Backtest {
    /// Every row, compared.
    pub rows: Vec<Scored>,
    /// All rows together.
    pub score: Score,
    /// Per series, the per-step percentiles (the fan).
    pub fans: Vec<Vec<StepRow>>,
}

impl Backtest {
    /// The score of the rows of one series (material and variable).
    pub fn score_of(&self, key: &SeriesKey) -> Score {
        Score::of(
            self.rows
                .iter()
                .filter(|r| r.observation.material == key.material_id)
                .filter(|r| r.observation.variable == key.variable),
        )
    }
}

/// Reads an episode folder: `scenario.toml` and `observed.csv`.
///
/// # Errors
/// [`crate::scenario::ScenarioError`] for the scenario; [`BacktestError`]
/// for the observed rows.
pub fn load(dir: &Path) -> Result<Episode, BacktestError> {
    let scenario = Scenario::load(&dir.join("scenario.toml"))?;
    let file = dir.join("observed.csv");
    let text = crate::scenario::read_input(&file).map_err(|cause| BacktestError::Read {
        file: file.clone(),
        cause,
    })?;
    let observations = parse_observed(&text, &file)?;
    episode(dir, scenario, observations, &file)
}

/// The rows of an `observed.csv` text; `file` names it in messages.
///
/// # Errors
/// [`BacktestError`] naming the file and the row.
pub fn parse_observed(text: &str, file: &Path) -> Result<Vec<Observation>, BacktestError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| BacktestError::Header {
        file: file.to_path_buf(),
        found: e.to_string(),
    })?;
    if header.iter().map(str::trim).ne(OBSERVED_COLUMNS) {
        return Err(BacktestError::Header {
            file: file.to_path_buf(),
            found: header.iter().collect::<Vec<_>>().join(","),
        });
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| BacktestError::Row {
            file: file.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            row: String::new(),
            message: format!("not a CSV row: {e}"),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let row = format!("{},{},{}", field(0), field(1), field(2));
        let bad = |message: String| BacktestError::Row {
            file: file.to_path_buf(),
            line,
            row: row.clone(),
            message,
        };
        if record.len() != OBSERVED_COLUMNS.len() {
            return Err(bad(format!(
                "{} fields, expected {} ({})",
                record.len(),
                OBSERVED_COLUMNS.len(),
                OBSERVED_COLUMNS.join(",")
            )));
        }
        let date: Month = field(1).parse().map_err(|e| bad(format!("date: {e}")))?;
        let value: f64 = field(3)
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad(format!("value {:?} is not a number", field(3))))?;
        if field(5).is_empty() {
            return Err(bad(
                "no source: every observed figure must cite where it comes from".into(),
            ));
        }
        out.push(Observation {
            material: field(0).to_string(),
            date,
            variable: field(2).to_string(),
            value,
            unit: field(4).to_string(),
            source: field(5).to_string(),
            line,
        });
    }
    if out.is_empty() {
        return Err(BacktestError::Empty {
            file: file.to_path_buf(),
        });
    }
    Ok(out)
}

/// Months a row covers, from its unit: 12 for `t/year` and `(yearly
/// average)`, 3 for `t/quarter` and `(quarterly average)`, else 1.
fn period_months(unit: &str) -> u32 {
    if unit == "t/year" || unit.contains("yearly average") {
        12
    } else if unit == "t/quarter" || unit.contains("quarterly average") {
        3
    } else {
        1
    }
}

/// Whether a variable is a flow in tonnes per step (its period value is a
/// total), rather than a level, a price or a share.
fn is_flow(var: Variable) -> bool {
    !matches!(
        var,
        Variable::Price
            | Variable::WorldPrice
            | Variable::StockpileLevel
            | Variable::InUseStock
            | Variable::FeedAvailability
    )
}

/// The units a variable's rows may have.
fn units_of(quantity: Quantity) -> &'static [&'static str] {
    match quantity {
        Quantity::Series(Variable::Price | Variable::WorldPrice) => &["EUR/t"],
        Quantity::Series(Variable::FeedAvailability) => &[
            "ratio",
            "ratio (quarterly average)",
            "ratio (yearly average)",
        ],
        Quantity::Series(Variable::StockpileLevel | Variable::InUseStock) => &["t"],
        Quantity::Series(_) => &["t/month", "t/quarter", "t/year"],
        Quantity::PriceMultiple | Quantity::ExportsMultiple { .. } => &[
            "ratio",
            "ratio (quarterly average)",
            "ratio (yearly average)",
        ],
    }
}

/// The origin whose flow `exports_multiple` of material `m` follows: the
/// one region the scenario's region events on `m` target.
fn origin_of(s: &Scenario, m: usize) -> Result<usize, String> {
    let mut regions: Vec<&str> = s
        .disruptions
        .iter()
        .filter(|d| d.materials.contains(&m))
        .filter_map(|d| match &d.target {
            EventTarget::Region(r) => Some(r.as_str()),
            EventTarget::Route(_) => None,
        })
        .collect();
    regions.sort_unstable();
    regions.dedup();
    let [region] = regions[..] else {
        return Err(format!(
            "exports_multiple follows the flow from the one origin the scenario's events on \
             {} target, but they target {}",
            s.materials[m].id,
            if regions.is_empty() {
                "no region".to_string()
            } else {
                regions.join(", ")
            }
        ));
    };
    s.materials[m]
        .sources
        .iter()
        .position(|src| src.region == region)
        .ok_or_else(|| format!("no source of {} comes from {region}", s.materials[m].id))
}

/// Checks the rows against the scenario and works out where each reads the
/// model.
///
/// # Errors
/// [`BacktestError::Row`] for a row whose material is not in the scenario,
/// whose variable is unknown, whose unit does not fit its variable, or
/// whose period is not within the horizon.
pub fn episode(
    dir: &Path,
    scenario: Scenario,
    observations: Vec<Observation>,
    file: &Path,
) -> Result<Episode, BacktestError> {
    let s = &scenario;
    let step_months = s.step().months();
    let horizon_months = s.years() * 12;
    let first_month = Month::new(s.start_year(), 1).expect("January");
    let last_month = Month::new(s.start_year() + s.years() as i32 - 1, 12).expect("December");
    let mut series: Vec<SeriesKey> = Vec::new();
    let mut targets = Vec::with_capacity(observations.len());
    for o in &observations {
        let bad = |message: String| BacktestError::Row {
            file: file.to_path_buf(),
            line: o.line,
            row: format!("{},{},{}", o.material, o.date, o.variable),
            message,
        };
        let m = s
            .materials
            .iter()
            .position(|mat| mat.id == o.material)
            .ok_or_else(|| {
                bad(format!(
                    "material {:?} is not in the episode's scenario (its materials: {})",
                    o.material,
                    s.material_ids().collect::<Vec<_>>().join(", ")
                ))
            })?;
        let months = period_months(&o.unit);
        let offset = first_month.months_through(o.date).saturating_sub(1);
        if o.date < first_month || offset + months > horizon_months {
            let period = if months == 1 {
                o.date.to_string()
            } else {
                let end = o.date.year() * 12 + o.date.month() as i32 - 1 + months as i32 - 1;
                let last = Month::new(end.div_euclid(12), end.rem_euclid(12) as u32 + 1)
                    .expect("a month of the year");
                format!(
                    "{} to {last} (the row's unit {:?} covers {months} months)",
                    o.date, o.unit
                )
            };
            return Err(bad(format!(
                "{period} is outside the episode's horizon {first_month} to {last_month}"
            )));
        }
        let quantity = match o.variable.as_str() {
            "price_multiple" => Quantity::PriceMultiple,
            "exports_multiple" => Quantity::ExportsMultiple {
                source: origin_of(s, m).map_err(&bad)?,
            },
            name => match Variable::ALL.iter().find(|v| v.name() == name) {
                Some(&v) => Quantity::Series(v),
                None => {
                    return Err(bad(format!(
                        "unknown variable {name:?}: use price_multiple, exports_multiple or a \
                         timeseries.csv variable ({})",
                        Variable::ALL.map(Variable::name).join(", ")
                    )))
                }
            },
        };
        let units = units_of(quantity);
        if !units.contains(&o.unit.as_str()) {
            return Err(bad(format!(
                "unit {:?} does not fit {}: use {}",
                o.unit,
                o.variable,
                units.join(" or ")
            )));
        }
        let first = (offset / step_months) as usize;
        let end = (offset + months).div_ceil(step_months) as usize;
        // A flow's row is a total over its period: the mean per step times
        // the steps in the period.
        let scale = match quantity {
            Quantity::Series(v) if is_flow(v) => f64::from(months) / f64::from(step_months),
            _ => 1.0,
        };
        let key = SeriesKey {
            material: m,
            material_id: o.material.clone(),
            variable: o.variable.clone(),
            quantity,
        };
        let series_index = match series.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                series.push(key);
                series.len() - 1
            }
        };
        targets.push(Target {
            series: series_index,
            first,
            len: (end - first).max(1),
            scale,
        });
    }
    Ok(Episode {
        dir: dir.to_path_buf(),
        scenario,
        observations,
        series,
        targets,
    })
}

/// What the backtest reads of every run as the engine steps it: each series
/// the episode needs, step by step.
struct Reader<'a> {
    episode: &'a Episode,
    steps: usize,
}

impl Observer for Reader<'_> {
    fn values_per_run(&self) -> usize {
        self.episode.series.len() * self.steps
    }

    fn needs_series(&self) -> bool {
        true
    }

    fn observe(&self, prep: &Prepared, ws: &Workspace, lane: usize, out: &mut [f64]) {
        let steps = self.steps;
        for (key, row) in self.episode.series.iter().zip(out.chunks_exact_mut(steps)) {
            let m = key.material;
            match key.quantity {
                Quantity::Series(v) => {
                    for (t, x) in row.iter_mut().enumerate() {
                        *x = ws.value_in(lane, steps, m, v, t);
                    }
                }
                Quantity::PriceMultiple => {
                    let p0 = ws.value_in(lane, steps, m, Variable::Price, 0);
                    for (t, x) in row.iter_mut().enumerate() {
                        *x = ws.value_in(lane, steps, m, Variable::Price, t) / p0;
                    }
                }
                Quantity::ExportsMultiple { source } => {
                    for (t, x) in row.iter_mut().enumerate() {
                        *x = ws.availability_in(lane, prep, m, source, t);
                    }
                }
            }
        }
    }
}

/// Simulates the runs of `plan` (on the current rayon pool, through the
/// engine's one group-stepping loop) and keeps, per run, each series the
/// episode needs. The same numbers whatever the number of threads. The plan
/// starts on a block boundary (a multiple of [`crate::vocab::BLOCK_RUNS`]),
/// as every run plan does.
pub fn simulate(episode: &Episode, plan: &RunPlan) -> Simulated {
    let s = &episode.scenario;
    let steps = s.steps();
    let runs = usize::try_from(plan.runs).expect("runs fit in memory");
    let reader = Reader { episode, steps };
    let (_, observed) = simulate_observed(s, plan, &reader);
    // Run after run, each run's series one after another: regrouped series
    // by series, each run's row in run order.
    let per_run = reader.values_per_run();
    let values = (0..episode.series.len())
        .map(|k| {
            let mut out = Vec::with_capacity(runs * steps);
            for run in 0..runs {
                out.extend_from_slice(&observed[run * per_run + k * steps..][..steps]);
            }
            out
        })
        .collect();
    Simulated {
        runs: plan.runs,
        seed: plan.seed,
        steps,
        values,
    }
}

impl Simulated {
    /// The simulated value of a row in run `run` (counted from the plan's
    /// first run).
    pub fn value(&self, target: &Target, run: usize) -> f64 {
        let row = &self.values[target.series][run * self.steps..(run + 1) * self.steps];
        let cells = &row[target.first..target.first + target.len];
        target.scale * cells.iter().sum::<f64>() / target.len as f64
    }
}

/// The `q` quantile of sorted values, linearly interpolated between order
/// statistics (Hyndman and Fan's type 7, the default of R and numpy).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "a quantile of no values");
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Whether `x` is within `[lo, hi]`, a value on a bound counting as inside
/// (to a relative 1e-9, which absorbs the last bits of a ratio).
pub fn within(x: f64, lo: f64, hi: f64) -> bool {
    let tol = |b: f64| 1e-9 * (1.0 + b.abs());
    x >= lo - tol(lo) && x <= hi + tol(hi)
}

/// Sets the episode's rows against the simulated runs.
pub fn score(episode: &Episode, observations: &[Observation], sim: &Simulated) -> Backtest {
    let runs = usize::try_from(sim.runs).expect("runs fit in memory");
    let mut buf = vec![0.0; runs];
    let rows = observations
        .iter()
        .zip(&episode.targets)
        .map(|(o, target)| {
            for (r, x) in buf.iter_mut().enumerate() {
                *x = sim.value(target, r);
            }
            buf.sort_by(f64::total_cmp);
            let (p5, p50, p95) = (
                quantile(&buf, 0.05),
                quantile(&buf, 0.5),
                quantile(&buf, 0.95),
            );
            Scored {
                observation: o.clone(),
                p5,
                p50,
                p95,
                inside: within(o.value, p5, p95),
            }
        })
        .collect::<Vec<_>>();
    let fans = sim
        .values
        .iter()
        .map(|v| {
            (0..sim.steps)
                .map(|t| {
                    for (r, x) in buf.iter_mut().enumerate() {
                        *x = v[r * sim.steps + t];
                    }
                    buf.sort_by(f64::total_cmp);
                    StepRow {
                        mean: buf.iter().sum::<f64>() / runs as f64,
                        p: STEP_QUANTILES.map(|q| quantile(&buf, q)),
                    }
                })
                .collect()
        })
        .collect();
    Backtest {
        score: Score::of(&rows),
        rows,
        fans,
    }
}
