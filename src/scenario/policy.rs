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
use super::{invalid, parse_toml, read_text, Scenario, ScenarioError};
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

/// The scenario `base` with the stockpiles and options of the policy file
/// `policy` in place of its own, and the policy's name.
///
/// # Errors
/// [`ScenarioError`] naming the file (the policy's for its tables, else the
/// scenario's), the line and the field.
pub fn with_policy(base: &Path, policy: &Path) -> Result<(Scenario, String), ScenarioError> {
    with_policy_text(&read_text(base)?, base, policy)
}

/// [`with_policy`] for a base scenario given as text (`base` names it in
/// messages).
///
/// # Errors
/// As [`with_policy`].
pub fn with_policy_text(
    base_text: &str,
    base: &Path,
    policy: &Path,
) -> Result<(Scenario, String), ScenarioError> {
    let mut raw: ScenarioFile = parse_toml(base_text, base)?;
    let policy_text = read_text(policy)?;
    let p: RawPolicy = parse_toml(&policy_text, policy)?;
    raw.stockpile = p.stockpile;
    raw.option = p.option;
    let scenario = build::build(&raw).map_err(|error| {
        let in_policy = matches!(
            error.path.first(),
            Some(Segment::Key(k)) if k == "stockpile" || k == "option"
        );
        if in_policy {
            invalid(&policy_text, policy, error)
        } else {
            invalid(base_text, base, error)
        }
    })?;
    let name = p.name.unwrap_or_else(|| policy.display().to_string());
    Ok((scenario, name))
}
