//! Partial results of a shard (`crmsim run --shard K/N`) and their merge.
//!
//! A partial holds the scenario text, the seed, the range of runs it covers
//! and the raw [`Outcome`] of those runs: per-step statistics (exact sums and
//! integer sketches) and the per-run table. Merging adds the statistics
//! exactly and appends the tables in run order, so the merged result equals
//! the result of one process, bit for bit, however the runs were split.

use crate::engine::{Outcome, RunPlan, RunTable, Spill};
use serde::{Deserialize, Serialize};

/// The file name of a partial inside a shard's output folder.
pub const FILE_NAME: &str = "partial.crmsim";

/// Identifies the format; bumped when the layout changes.
const FORMAT: &str = "crmsim-partial-1";

/// One shard's result.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    format: String,
    /// Version of crmsim that wrote it (merging across versions is refused).
    pub crmsim_version: String,
    /// The scenario file as given.
    pub scenario_text: String,
    /// Seed used.
    pub seed: u64,
    /// Runs of the whole study.
    pub total_runs: u64,
    /// The runs this partial covers.
    pub plan: RunPlan,
    /// Their outcome.
    pub outcome: Outcome,
}

/// Why partials could not be read or merged.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    /// Not a partial, or written by another format version.
    #[error("{0}: not a crmsim partial result (or from an incompatible version)")]
    Unreadable(String),
    /// The partials do not belong to one study.
    #[error("{0}")]
    Mismatch(String),
}

impl Partial {
    /// A partial of `plan`'s runs of a study of `total_runs` runs.
    pub fn new(scenario_text: String, total_runs: u64, plan: RunPlan, outcome: Outcome) -> Self {
        Partial {
            format: FORMAT.to_string(),
            crmsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_text,
            seed: plan.seed,
            total_runs,
            plan,
            outcome,
        }
    }

    /// The bytes of the partial file.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out)
            .expect("a partial of an in-memory table always serializes");
        out
    }

    /// Writes the partial file to `w`, reading a spilled per-run table one
    /// chunk at a time.
    ///
    /// # Errors
    /// What writing (or reading the table) reported.
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut w = std::io::BufWriter::new(w);
        postcard::to_io(self, &mut w).map_err(|e| match self.outcome.runs.read_error() {
            Some(read) => read,
            None => std::io::Error::other(e),
        })?;
        std::io::Write::flush(&mut w)
    }

    /// Reads a partial file's bytes; `name` is used in messages.
    ///
    /// # Errors
    /// [`PartialError::Unreadable`] for anything that is not a partial of
    /// this format.
    pub fn decode(bytes: &[u8], name: &str) -> Result<Partial, PartialError> {
        match postcard::from_bytes::<Partial>(bytes) {
            Ok(p) if p.format == FORMAT => Ok(p),
            _ => Err(PartialError::Unreadable(name.to_string())),
        }
    }
}

/// Merges partials of one study into the outcome of all its runs, with the
/// scenario text and the plan of the whole study. `names` label the partials
/// in messages. The merged per-run table is kept in `spill` when it is large.
///
/// # Errors
/// [`PartialError::Mismatch`] when the partials come from different
/// scenarios, seeds, study sizes or versions, overlap, or leave runs out.
pub fn merge(
    mut parts: Vec<(String, Partial)>,
    spill: Option<Spill>,
) -> Result<(String, RunPlan, Outcome), PartialError> {
    let mismatch = |m: String| Err(PartialError::Mismatch(m));
    let Some((first_name, first)) = parts.first() else {
        return mismatch("no partial results to merge".into());
    };
    for (name, p) in &parts[1..] {
        let differs = if p.scenario_text != first.scenario_text {
            Some("a different scenario")
        } else if p.seed != first.seed {
            Some("a different seed")
        } else if p.total_runs != first.total_runs {
            Some("a different number of runs")
        } else if p.crmsim_version != first.crmsim_version {
            Some("a different crmsim version")
        } else {
            None
        };
        if let Some(what) = differs {
            return mismatch(format!(
                "{name} and {first_name} cannot be merged: they come from {what} \
                 (seed {} vs {}, runs {} vs {}, version {} vs {})",
                p.seed,
                first.seed,
                p.total_runs,
                first.total_runs,
                p.crmsim_version,
                first.crmsim_version
            ));
        }
    }
    let (total_runs, seed, text) = (first.total_runs, first.seed, first.scenario_text.clone());
    parts.sort_by_key(|(_, p)| p.plan.first_run);
    let mut next = 0;
    for (name, p) in &parts {
        if p.plan.runs == 0 {
            continue;
        }
        if p.plan.first_run != next {
            return mismatch(if p.plan.first_run > next {
                format!(
                    "runs {next}..{} are missing: no partial covers them",
                    p.plan.first_run
                )
            } else {
                format!(
                    "{name} overlaps another partial at run {}",
                    p.plan.first_run
                )
            });
        }
        next = p.plan.first_run + p.plan.runs;
    }
    if next != total_runs {
        return mismatch(format!(
            "runs {next}..{total_runs} are missing: no partial covers them"
        ));
    }
    let mut steps: Option<crate::stats::StepStats> = None;
    let mut tables: Vec<RunTable> = Vec::with_capacity(parts.len());
    for (_, p) in parts.into_iter().filter(|(_, p)| p.plan.runs > 0) {
        match &mut steps {
            None => steps = Some(p.outcome.steps),
            Some(s) => s.merge(&p.outcome.steps),
        }
        tables.push(p.outcome.runs);
    }
    let steps = steps.expect("runs > 0 means a non-empty partial");
    let runs = RunTable::concat(tables, spill).map_err(PartialError::Mismatch)?;
    let plan = RunPlan {
        first_run: 0,
        runs: total_runs,
        seed,
    };
    let outcome = Outcome { steps, runs };
    Ok((text, plan, outcome))
}
