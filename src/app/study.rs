//! The commands' work for programs that use crmsim as a library (the Python
//! package, python/): a study simulated and held in memory, its tables as
//! typed columns, its output folder written on request; `validate`, `sweep`
//! and `compare` with the command line's meaning. Each goes through the
//! same checks as the command (the scenario's, the memory budget's) and
//! gives the same errors, so a program sees what a user of the command sees.

use super::*;
use crate::analysis::compare::Difference;
use crate::analysis::sweep::SweepPoint;
use crate::output::columns::{self, Table};
use crate::output::Format;

/// Where a scenario comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A scenario file.
    File(PathBuf),
    /// Scenario text; `name` stands for the file in messages (`<dict>`).
    Text {
        /// The TOML text.
        text: String,
        /// What messages call it.
        name: PathBuf,
    },
}

impl Source {
    /// The file, or what stands for it in messages.
    pub fn path(&self) -> &Path {
        match self {
            Source::File(p) => p,
            Source::Text { name, .. } => name,
        }
    }

    /// The scenario's text, and the scenario.
    ///
    /// # Errors
    /// The scenario's error (file, line, field), as the command gives it.
    pub fn load(&self) -> Result<(String, Scenario)> {
        let text = match self {
            Source::File(p) => scenario::read_text(p)?,
            Source::Text { text, .. } => text.clone(),
        };
        let scenario = Scenario::from_toml(&text, self.path())?;
        Ok((text, scenario))
    }
}

/// What `--runs`, `--seed` and `--threads` say on the command line: `None`
/// takes the scenario's runs and seed, and a thread per core.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Number of runs (1 to 10^9).
    pub runs: Option<u64>,
    /// Seed.
    pub seed: Option<u64>,
    /// Worker threads (1 to 1,024); results do not depend on them.
    pub threads: Option<u64>,
}

impl Options {
    /// The run plan of `scenario`, after checking the options' ranges as
    /// the command line does.
    fn plan(&self, scenario: &Scenario) -> Result<RunPlan> {
        if let Some(r) = self.runs {
            if !(1..=1_000_000_000).contains(&r) {
                return Err(InputError(format!("runs: {r} is not in 1..=1000000000")).into());
            }
        }
        if let Some(t) = self.threads {
            if !(1..=1024).contains(&t) {
                return Err(InputError(format!("threads: {t} is not in 1..=1024")).into());
            }
        }
        Ok(RunPlan {
            first_run: 0,
            runs: self.runs.unwrap_or(scenario.runs()),
            seed: self.seed.unwrap_or(scenario.seed()),
        })
    }
}

/// A finished study: the scenario, its runs and their summary.
pub struct Study {
    /// The scenario.
    pub scenario: Scenario,
    /// Its text (written to the output folder as scenario.toml).
    pub text: String,
    /// The runs simulated.
    pub plan: RunPlan,
    /// The per-step statistics and the per-run table.
    pub outcome: Outcome,
    /// The summary.
    pub report: Report,
}

/// Why a study did not finish.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

impl Study {
    /// Simulates `source`'s scenario as `crmsim run` does (the same runs,
    /// the same bits), stopping early when `stop` is set (then
    /// [`Interrupted`] is the error). A large per-run table is kept in a
    /// temporary file in the system's temporary folder.
    ///
    /// # Errors
    /// The scenario's, the options', the memory budget's, or a temporary
    /// file's error; [`Interrupted`].
    pub fn run(source: &Source, options: &Options, stop: &AtomicBool) -> Result<Study> {
        let (text, scenario) = source.load()?;
        let plan = options.plan(&scenario)?;
        let (fit, estimate) = workers_within_budget(source.path(), &scenario, plan.runs)?;
        let useful = useful_threads(options.threads.unwrap_or_else(cores), plan.runs);
        let pool = pool(Some(useful.min(fit)))?;
        let spill = spill_in(std::env::temp_dir(), &estimate)?;
        let outcome = pool
            .install(|| crate::engine::simulate_until(&scenario, &plan, &|_| {}, spill, stop))
            .map_err(|e| output::WriteError::Io {
                path: std::env::temp_dir(),
                action: "keep the per-run table in a temporary file",
                source: e,
            })?
            .ok_or_else(|| Error::Failure(Interrupted.into()))?;
        let report = Report::new(&scenario, &plan, &outcome)
            .map_err(|e| run::read_back(&std::env::temp_dir(), e))?;
        Ok(Study {
            scenario,
            text,
            plan,
            outcome,
            report,
        })
    }

    /// `summary.json`'s bytes.
    pub fn summary_json(&self) -> Vec<u8> {
        output::json::summary(&self.scenario, &self.report)
    }

    /// `runs.csv` as columns.
    ///
    /// # Errors
    /// What reading a spilled per-run table reported.
    pub fn runs(&self) -> Result<Table> {
        columns::runs(&self.report, &self.outcome.runs)
            .map_err(|e| run::read_back(&std::env::temp_dir(), e).into())
    }

    /// `params.csv` as columns.
    ///
    /// # Errors
    /// What reading a spilled per-run table reported.
    pub fn params(&self) -> Result<Table> {
        columns::params(&self.outcome.runs)
            .map_err(|e| run::read_back(&std::env::temp_dir(), e).into())
    }

    /// `timeseries.csv` as columns.
    pub fn timeseries(&self) -> Table {
        columns::timeseries(&self.report)
    }

    /// Writes the output folder `crmsim run --out OUT` writes (with the
    /// charts and report.html when `charts`), the tables in `format`.
    ///
    /// # Errors
    /// A destination crmsim may not write, an unavailable format, or the
    /// file system's error.
    pub fn write(&self, out: &Path, charts: bool, format: Format) -> Result<()> {
        check_destination(out)?;
        format.check_available().map_err(InputError)?;
        run::write_report(
            &self.scenario,
            self.text.clone(),
            &self.outcome,
            &self.report,
            out,
            charts,
            format,
        )
    }
}

/// `crmsim validate`: the scenario's description as the command prints it.
///
/// # Errors
/// The scenario's error, or the memory budget's for its own run count.
pub fn validate(source: &Source) -> Result<String> {
    let (_, s) = source.load()?;
    workers_within_budget(source.path(), &s, s.runs())?;
    Ok(output::text::describe(&s))
}

/// `crmsim sweep`: the grid of `settings` (each `PATH=V1,V2,...`), every
/// point on the same runs; `sweep.csv`'s bytes. Stops when `stop` is set.
///
/// # Errors
/// The scenario's, a setting's, the options' or the memory budget's error;
/// [`crate::analysis::AnalysisError::Interrupted`].
pub fn sweep(
    source: &Source,
    settings: &[String],
    options: &Options,
    stop: &AtomicBool,
) -> Result<Vec<u8>> {
    let settings = settings
        .iter()
        .map(|s| crate::analysis::edit::parse_setting(s).map_err(InputError))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let (text, scenario) = source.load()?;
    let doc: toml::Table = text.parse().expect("a validated scenario parses");
    let plan = options.plan(&scenario)?;
    let threads = analysis_threads(source.path(), &scenario, plan.runs, options.threads)?;
    let points = sweep::points(
        &doc,
        source.path(),
        &settings,
        &plan,
        threads,
        &|_, _| {},
        stop,
    )?;
    Ok(output::analysis::sweep_csv(&settings, &points))
}

/// `crmsim compare`: `base` against each of `variants` (each with its label
/// in compare.csv, by default its path) and the base with each policy file
/// of `policies` (the base itself with `base_policy`'s tables, when given),
/// run by run on the same random world; `compare.csv`'s bytes. Stops when
/// `stop` is set.
///
/// # Errors
/// A scenario's, a policy's, the options' or the memory budget's error;
/// nothing to compare; [`Interrupted`].
pub fn compare(
    base: &Source,
    variants: &[(Option<String>, Source)],
    policies: &[PathBuf],
    base_policy: Option<&Path>,
    options: &Options,
    stop: &AtomicBool,
) -> Result<Vec<u8>> {
    let (base_text, base_scenario) = base.load()?;
    let base_scenario = match base_policy {
        Some(p) => scenario::with_policy_text(&base_text, base.path(), p)?.0,
        None => base_scenario,
    };
    let mut others = Vec::new();
    for (label, v) in variants {
        let label = label
            .clone()
            .unwrap_or_else(|| v.path().display().to_string());
        others.push((label, v.load()?.1));
    }
    for p in policies {
        let (s, name) = scenario::with_policy_text(&base_text, base.path(), p)?;
        others.push((name, s));
    }
    let plan = options.plan(&base_scenario)?;
    let diffs = compare::differences(
        base.path(),
        &base_scenario,
        &others,
        &plan,
        options.threads,
        &std::env::temp_dir(),
        &compare::Watch {
            done: &|_| {},
            stop,
        },
    )?;
    Ok(output::analysis::compare_csv(&diffs))
}

/// The sweep's points, for the command and for [`sweep`].
pub(super) type Points = Vec<SweepPoint>;

/// The paired differences per variant, for the command and for [`compare`].
pub(super) type Differences = Vec<(String, Vec<Difference>)>;
