//! Scenarios: the file as written ([`raw`]), and the validated, resolved model
//! ([`Scenario`]) that the engine runs.
//!
//! A scenario is parsed once and checked once: names are resolved to indices,
//! distributions are constructed, defaults are filled in, and every problem is
//! reported with the file, the line and the field path
//! (`material[gallium].demand_growth.sd: must be >= 0 (got -0.1)`). After
//! that, nothing downstream re-checks or fails.

mod build;
mod locate;
pub mod raw;
pub mod uncertain;

use std::fmt;
use std::path::{Path, PathBuf};
use uncertain::Uncertain;

pub use build::FieldError;

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
    pub(crate) region: Option<String>,
    pub(crate) materials: Vec<Material>,
    pub(crate) disruptions: Vec<Disruption>,
}

/// One material's market: demand, price and import sources.
#[derive(Debug, Clone)]
pub struct Material {
    pub(crate) id: String,
    pub(crate) demand_tpy: Uncertain,
    pub(crate) demand_growth: Uncertain,
    pub(crate) price: f64,
    pub(crate) value_of_lost_load: f64,
    pub(crate) price_elasticity: Option<f64>,
    pub(crate) max_price_multiple: f64,
    pub(crate) sources: Vec<Source>,
    pub(crate) stockpile: Option<Stockpile>,
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
}

/// What a disruption hits.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Every flow from this region.
    Region(String),
    /// Every flow that lists this route.
    Route(String),
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
    /// The (material, source) pairs it hits, resolved at validation.
    pub(crate) hits: Vec<(usize, usize)>,
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
    pub(crate) target: StockTarget,
    pub(crate) initial_fill: f64,
    pub(crate) release_trigger: f64,
    /// Tonnes per year; infinite when unlimited.
    pub(crate) max_release_tpy: f64,
    pub(crate) replenish_tpy: f64,
    pub(crate) holding_cost_rate: f64,
    pub(crate) buy_initial: bool,
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

/// Reads a scenario file's text.
///
/// # Errors
/// [`ScenarioError::Read`] if it cannot be read, [`ScenarioError::TooLarge`]
/// beyond [`MAX_FILE_BYTES`], [`ScenarioError::Syntax`] if it is not UTF-8.
pub fn read_text(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let read_err = |source| ScenarioError::Read {
        file: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::TooLarge {
            file: path.to_path_buf(),
        });
    }
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
        }
    })
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
        let raw: raw::ScenarioFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let (line, column) = locate::line_col(text, offset);
            ScenarioError::Syntax {
                file: file.to_path_buf(),
                line,
                column,
                message: e.message().trim_end().to_string(),
                snippet: locate::snippet(text, line, column),
            }
        })?;
        build::build(&raw).map_err(|error| ScenarioError::Invalid {
            file: file.to_path_buf(),
            line: locate::line_of_path(text, &error.path),
            error,
        })
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

    /// A copy with one material's stockpile removed (or all when `None`):
    /// the counterfactual "without stockpile" policy on the same world.
    pub fn without_stockpiles(&self) -> Scenario {
        let mut s = self.clone();
        for m in &mut s.materials {
            m.stockpile = None;
        }
        s
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
