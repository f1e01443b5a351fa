//! Published SR and EI values, and their comparison with the computed ones.
//!
//! An indicator file may name a CSV of published values (its `published`
//! field, e.g. `criticality/eu-2023-published.csv`), with the columns
//! `material,stage,SR,EI,source`: one row per material and stage, the
//! stage's published SR (empty when not published) and the material's
//! published EI. These values are never inputs: they are set beside the
//! values computed from the components, so that a reader sees where the
//! method and its inputs reproduce a published list and where they do not.

use super::input::StageKind;
use super::method::Assessment;
use std::path::{Path, PathBuf};

/// One row of a published-values file.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRow {
    /// Material id (as in the indicator file).
    pub material: String,
    /// The stage.
    pub stage: StageKind,
    /// The stage's published SR.
    pub sr: Option<f64>,
    /// The material's published EI.
    pub ei: Option<f64>,
    /// Where the values come from.
    pub source: String,
}

/// Published values, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Published {
    /// The rows.
    pub rows: Vec<PublishedRow>,
}

/// Why a published-values file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PublishedError {
    /// The file could not be read.
    #[error("{}: cannot read the published values", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line does not have the expected form.
    #[error("{}:{line}: {message}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// The header a published-values file starts with.
const HEADER: [&str; 5] = ["material", "stage", "SR", "EI", "source"];

impl Published {
    /// Reads and parses a published-values file.
    ///
    /// # Errors
    /// [`PublishedError`] naming the file and the line.
    pub fn load(path: &Path) -> Result<Published, PublishedError> {
        let text = crate::scenario::read_input(path).map_err(|source| PublishedError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Published::from_csv(&text, path)
    }

    /// Parses published-values text; `file` is only used in messages.
    ///
    /// # Errors
    /// [`PublishedError`] naming the file and the line.
    pub fn from_csv(text: &str, file: &Path) -> Result<Published, PublishedError> {
        let invalid = |line: u64, message: String| PublishedError::Invalid {
            file: file.to_path_buf(),
            line,
            message,
        };
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| {
                let line = e.position().map_or(i as u64 + 1, |p| p.line());
                invalid(line, e.to_string())
            })?;
            let line = rec.position().map_or(i as u64 + 1, |p| p.line());
            if i == 0 {
                if rec.iter().ne(HEADER) {
                    return Err(invalid(
                        line,
                        format!("the header must be {}", HEADER.join(",")),
                    ));
                }
                continue;
            }
            let stage = match &rec[1] {
                "extraction" => StageKind::Extraction,
                "processing" => StageKind::Processing,
                other => {
                    return Err(invalid(
                        line,
                        format!("stage: unknown stage {other:?}: use extraction or processing"),
                    ))
                }
            };
            let value = |k: usize| -> Result<Option<f64>, PublishedError> {
                let cell = rec[k].trim();
                if cell.is_empty() {
                    return Ok(None);
                }
                match cell.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                    _ => Err(invalid(
                        line,
                        format!("{}: {cell:?} is not a number >= 0", HEADER[k]),
                    )),
                }
            };
            rows.push(PublishedRow {
                material: rec[0].to_string(),
                stage,
                sr: value(2)?,
                ei: value(3)?,
                source: rec[4].to_string(),
            });
        }
        Ok(Published { rows })
    }
}

/// A computed value beside its published one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// Computed from the components.
    pub computed: Option<f64>,
    /// Published.
    pub published: Option<f64>,
}

impl Pair {
    /// computed - published, when both are known.
    pub fn difference(&self) -> Option<f64> {
        Some(self.computed? - self.published?)
    }
}

/// One material and stage of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// Material id.
    pub material: String,
    /// The stage.
    pub stage: StageKind,
    /// Which supply the computed SR uses.
    pub sr_basis: super::input::SrBasis,
    /// The stage's SR.
    pub sr: Pair,
    /// The material's EI.
    pub ei: Pair,
}

/// The computed values beside the published ones.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    /// One row per published material and stage that the assessment has, in
    /// the assessment's order.
    pub rows: Vec<ComparisonRow>,
    /// Published rows whose material and stage the assessment does not
    /// have, as `material stage`.
    pub unmatched: Vec<String>,
}

/// Sets the assessment's values beside the published ones.
pub fn compare(a: &Assessment, p: &Published) -> Comparison {
    let mut rows = Vec::new();
    for m in &a.materials {
        for s in &m.stages {
            if let Some(r) = p
                .rows
                .iter()
                .find(|r| r.material == m.id && r.stage == s.stage)
            {
                rows.push(ComparisonRow {
                    material: m.id.clone(),
                    stage: s.stage,
                    sr_basis: s.sr_basis,
                    sr: Pair {
                        computed: s.sr,
                        published: r.sr,
                    },
                    ei: Pair {
                        computed: m.ei,
                        published: r.ei,
                    },
                });
            }
        }
    }
    let unmatched = p
        .rows
        .iter()
        .filter(|r| {
            !a.materials
                .iter()
                .any(|m| m.id == r.material && m.stages.iter().any(|s| s.stage == r.stage))
        })
        .map(|r| format!("{} {}", r.material, r.stage))
        .collect();
    Comparison { rows, unmatched }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "material,stage,SR,EI,source\n\
                       x,processing,2.1,4.9,\"study, table 1\"\n\
                       x,extraction,,4.9,study\n\
                       w,processing,1.0,3.0,study\n";

    #[test]
    fn reads_rows_with_empty_cells() {
        let p = Published::from_csv(CSV, Path::new("p.csv")).unwrap();
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rows[0].source, "study, table 1");
        assert_eq!((p.rows[1].sr, p.rows[1].ei), (None, Some(4.9)));
    }

    #[test]
    fn a_wrong_cell_names_its_line_and_column() {
        let e = Published::from_csv(
            "material,stage,SR,EI,source\nx,processing,high,1,s\n",
            Path::new("p.csv"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "p.csv:2: SR: \"high\" is not a number >= 0");
        let e = Published::from_csv(
            "material,stage,SR,EI,source\nx,mining,1,1,s\n",
            Path::new("p.csv"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("p.csv:2: stage: unknown stage \"mining\""),
            "{e}"
        );
        let e = Published::from_csv("a,b\n", Path::new("p.csv"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "p.csv:1: the header must be material,stage,SR,EI,source");
    }

    #[test]
    fn differences_are_computed_minus_published() {
        let pair = Pair {
            computed: Some(2.25),
            published: Some(2.5),
        };
        assert_eq!(pair.difference(), Some(-0.25));
        let pair = Pair {
            computed: None,
            published: Some(2.5),
        };
        assert_eq!(pair.difference(), None);
    }
}
