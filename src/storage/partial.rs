//! Partial results of a shard (`crmsim run --shard K/N`) and their merge.
//!
//! A partial holds the scenario text, the seed, the range of runs it covers
//! and the raw [`Outcome`] of those runs: per-step statistics (exact sums and
//! integer sketches) and the per-run table. Merging adds the statistics
//! exactly and appends the tables in run order, so the merged result equals
//! the result of one process, bit for bit, however the runs were split.

use super::table::TableBuilder;
use super::{Outcome, Spill};
use crate::stats::StepStats;
use crate::vocab::RunPlan;
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
    /// The file system failed while merging (the per-run table could not be
    /// written to, or read back from, its temporary file): not the
    /// partials' fault.
    #[error("{0}")]
    Io(String),
}

impl PartialError {
    /// Whether the partials given are at fault (exit code 2), not the file
    /// system (exit code 1).
    pub fn is_input(&self) -> bool {
        !matches!(self, PartialError::Io(_))
    }
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
        /// Keeps the first error of the writer: postcard reports any as
        /// "buffer full".
        struct Kept<'a> {
            w: std::io::BufWriter<&'a mut dyn std::io::Write>,
            error: Option<std::io::Error>,
        }
        impl std::io::Write for Kept<'_> {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.w.write(buf).inspect_err(|e| {
                    if e.kind() != std::io::ErrorKind::Interrupted {
                        self.error
                            .get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
                    }
                })
            }
            fn flush(&mut self) -> std::io::Result<()> {
                self.w.flush()
            }
        }
        let mut kept = Kept {
            w: std::io::BufWriter::new(w),
            error: None,
        };
        if let Err(e) = postcard::to_io(self, &mut kept) {
            return Err(match (kept.error.take(), e) {
                (Some(write), _) => write,
                // The only error of the values themselves: a chunk of the
                // per-run table that could not be read back.
                (None, postcard::Error::SerdeSerCustom) => std::io::Error::other(
                    "cannot read the per-run table back from its temporary file",
                ),
                (None, e) => std::io::Error::other(e),
            });
        }
        std::io::Write::flush(&mut kept)
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

    /// Reads a partial from `r` (a file as `run --shard` wrote it) value by
    /// value, so that its bytes are never held whole: only the decoded
    /// partial is. `name` is used in messages.
    ///
    /// # Errors
    /// [`PartialError::Unreadable`] for anything that is not a partial of
    /// this format, or that cannot be read to its end.
    pub fn read_from(r: impl std::io::Read, name: &str) -> Result<Partial, PartialError> {
        // Room for the longest text a partial holds, the scenario's (at most
        // the scenario loader's limit); numbers are read one at a time.
        let mut scratch = vec![0u8; crate::scenario::MAX_FILE_BYTES as usize + (1 << 20)];
        let r = std::io::BufReader::with_capacity(1 << 20, r);
        match postcard::from_io::<Partial, _>((r, &mut scratch)) {
            Ok((p, _)) if p.format == FORMAT => Ok(p),
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
    parts: Vec<(String, Partial)>,
    spill: Option<Spill>,
) -> Result<(String, RunPlan, Outcome), PartialError> {
    let mut parts = parts.into_iter();
    let Some((name, first)) = parts.next() else {
        return Err(PartialError::Mismatch("no partial results to merge".into()));
    };
    let mut merger = Merger::new(name, first, spill)?;
    for (name, p) in parts {
        merger.add(name, p)?;
    }
    merger.finish()
}

/// Merges partials given one at a time, in any order, so that only one is
/// held at once besides the merged result (whose per-run table may be kept
/// in a temporary file).
pub struct Merger {
    first_name: String,
    scenario_text: String,
    crmsim_version: String,
    seed: u64,
    total_runs: u64,
    steps: StepStats,
    table: TableBuilder,
    /// The runs each partial covered, by first run, with its name.
    covered: Vec<(u64, u64, String)>,
}

impl Merger {
    /// A merge that starts with `first` (named `name` in messages); the
    /// merged per-run table is kept in `spill` when it is large.
    ///
    /// # Errors
    /// [`PartialError::Mismatch`] when the partial's runs do not fit its study.
    pub fn new(name: String, first: Partial, spill: Option<Spill>) -> Result<Merger, PartialError> {
        let table = &first.outcome.runs;
        let builder = TableBuilder::with_extras(
            0,
            usize::try_from(first.total_runs).unwrap_or(usize::MAX),
            table.materials(),
            table.param_names().to_vec(),
            table.extra_names().to_vec(),
            spill,
        );
        let mut merger = Merger {
            first_name: name.clone(),
            scenario_text: first.scenario_text.clone(),
            crmsim_version: first.crmsim_version.clone(),
            seed: first.seed,
            total_runs: first.total_runs,
            steps: first.outcome.steps.empty_like(),
            table: builder,
            covered: Vec::new(),
        };
        merger.add(name, first)?;
        Ok(merger)
    }

    /// Adds one more partial (named `name` in messages).
    ///
    /// # Errors
    /// [`PartialError::Mismatch`] when it comes from another study or
    /// overlaps a partial already added.
    pub fn add(&mut self, name: String, p: Partial) -> Result<(), PartialError> {
        let mismatch = |m: String| Err(PartialError::Mismatch(m));
        let differs = if p.scenario_text != self.scenario_text {
            Some("a different scenario")
        } else if p.seed != self.seed {
            Some("a different seed")
        } else if p.total_runs != self.total_runs {
            Some("a different number of runs")
        } else if p.crmsim_version != self.crmsim_version {
            Some("a different crmsim version")
        } else {
            None
        };
        if let Some(what) = differs {
            return mismatch(format!(
                "{name} and {} cannot be merged: they come from {what} \
                 (seed {} vs {}, runs {} vs {}, version {} vs {})",
                self.first_name,
                p.seed,
                self.seed,
                p.total_runs,
                self.total_runs,
                p.crmsim_version,
                self.crmsim_version
            ));
        }
        let (from, runs) = (p.plan.first_run, p.plan.runs);
        if runs == 0 {
            return Ok(());
        }
        // The same scenario text gives the same shape; a damaged file may not.
        let table = &p.outcome.runs;
        if !self.steps.same_cells(&p.outcome.steps)
            || table.materials() != self.table.materials()
            || table.param_names() != self.table.param_names()
            || table.extra_names() != self.table.extra_names()
        {
            return mismatch(format!(
                "{name}: its results do not have the shape of {}'s (a damaged file?)",
                self.first_name
            ));
        }
        if from.saturating_add(runs) > self.total_runs || p.outcome.runs.runs() as u64 != runs {
            return mismatch(format!(
                "{name}: runs {from}..{} do not fit a study of {} runs",
                from.saturating_add(runs),
                self.total_runs
            ));
        }
        if let Some((at, _, _)) = self
            .covered
            .iter()
            .find(|(f, n, _)| from < f + n && *f < from + runs)
        {
            return mismatch(format!(
                "{name} overlaps another partial at run {}",
                from.max(*at)
            ));
        }
        self.steps.merge(&p.outcome.steps);
        self.table
            .put_table(from as usize, &p.outcome.runs)
            .map_err(|e| PartialError::Io(format!("{name}: cannot read its runs: {e}")))?;
        self.covered.push((from, runs, name));
        Ok(())
    }

    /// The merged study: its scenario text, its plan and the outcome of all
    /// its runs.
    ///
    /// # Errors
    /// [`PartialError::Mismatch`] when runs are left out, or the merged
    /// table cannot be kept.
    pub fn finish(mut self) -> Result<(String, RunPlan, Outcome), PartialError> {
        self.covered.sort_by_key(|c| c.0);
        let mut next = 0;
        for &(from, runs, _) in &self.covered {
            if from != next {
                break;
            }
            next = from + runs;
        }
        if next != self.total_runs {
            let upto = self
                .covered
                .iter()
                .map(|c| c.0)
                .find(|&f| f > next)
                .unwrap_or(self.total_runs);
            return Err(PartialError::Mismatch(format!(
                "runs {next}..{upto} are missing: no partial covers them"
            )));
        }
        let runs = self
            .table
            .finish()
            .map_err(|e| PartialError::Io(format!("cannot keep the per-run table: {e}")))?;
        let plan = RunPlan {
            first_run: 0,
            runs: self.total_runs,
            seed: self.seed,
        };
        let outcome = Outcome {
            steps: self.steps,
            runs,
        };
        Ok((self.scenario_text, plan, outcome))
    }
}
