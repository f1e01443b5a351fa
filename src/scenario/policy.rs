//! Policy files: the `[[stockpile]]` and `[[option]]` tables of one design,
//! kept apart from the scenario they are tried on, so that designs are
//! compared on one world without copying it (`crmsim compare BASE --policy
//! FILE`, docs/stockpiles.md "Comparing designs").
//!
//! A policy's tables replace the scenario's own stockpiles and options; an
//! empty policy file is the design without any. Errors in the policy's
//! tables name the policy file and its line.

use super::build::{self, Segment};
use super::raw::{RawOption, RawStockpile, ScenarioFile};
use super::{locate, read_text, Scenario, ScenarioError};
use serde::Deserialize;
use std::path::Path;

/// A policy file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    /// The design's name, for tables and charts (default: the file's path).
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    stockpile: Vec<RawStockpile>,
    #[serde(default)]
    option: Vec<RawOption>,
}

/// Parses `text` (the file `file`) as `T`, with the error's line.
fn parse<T: serde::de::DeserializeOwned>(text: &str, file: &Path) -> Result<T, ScenarioError> {
    toml::from_str(text).map_err(|e| {
        let site = locate::syntax_site(text, &e);
        ScenarioError::Syntax {
            file: file.to_path_buf(),
            line: site.line,
            column: site.column,
            message: site.message,
            snippet: site.snippet,
        }
    })
}

/// The scenario `base` with the stockpiles and options of the policy file
/// `policy` in place of its own, and the policy's name.
///
/// # Errors
/// [`ScenarioError`] naming the file (the policy's for its tables, else the
/// scenario's), the line and the field.
pub fn with_policy(base: &Path, policy: &Path) -> Result<(Scenario, String), ScenarioError> {
    let base_text = read_text(base)?;
    let mut raw: ScenarioFile = parse(&base_text, base)?;
    let policy_text = read_text(policy)?;
    let p: RawPolicy = parse(&policy_text, policy)?;
    raw.stockpile = p.stockpile;
    raw.option = p.option;
    let scenario = build::build(&raw).map_err(|error| {
        let in_policy = matches!(
            error.path.first(),
            Some(Segment::Key(k)) if k == "stockpile" || k == "option"
        );
        let (file, text) = if in_policy {
            (policy, &policy_text)
        } else {
            (base, &base_text)
        };
        ScenarioError::Invalid {
            file: file.to_path_buf(),
            line: locate::line_of_path(text, &error.path),
            error,
        }
    })?;
    let name = p.name.unwrap_or_else(|| policy.display().to_string());
    Ok((scenario, name))
}
