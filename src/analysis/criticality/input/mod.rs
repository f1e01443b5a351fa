//! From the raw indicator file to the validated [`Indicators`]: every range
//! checked, shares normalized, sector codes resolved, defaults filled in. Each
//! error names the file, the line and the field path, with the same machinery
//! as scenario files.
//!
//! The types and the error are here; `build` holds the checks, one function
//! per table of the file, and `build::build`, which calls them.

mod build;
#[cfg(test)]
mod tests;

use build::build;

use super::raw::{
    IndicatorFile, RawCriticality, RawFactors, RawFigure, RawMaterial, RawShares, RawStage,
};
use crate::scenario::build::SHARE_TOLERANCE;
use crate::scenario::build::{check, fraction, is_identifier, is_safe_name, At};
use crate::scenario::locate;
use crate::scenario::FieldError;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The key for the share of all countries not listed.
pub const OTHER: &str = "other";
/// The EU supply risk threshold.
pub const DEFAULT_SR_THRESHOLD: f64 = 1.0;
/// The EU economic importance threshold.
pub const DEFAULT_EI_THRESHOLD: f64 = 2.8;
/// The lowest trade-related factor t_c: the EU method's value for EU member
/// states and suppliers with an EU trade agreement.
pub const T_MIN: f64 = 0.8;
/// The highest trade-related factor t_c: the strictest export restrictions
/// in the 2023 study's tables (Appendix 7).
pub const T_MAX: f64 = 1.5;
/// How far end-use shares may sum from 1: the study computes EI from the
/// listed use shares, which add up to 98-102 % (rounding) and may leave a
/// rest without a sector.
pub const END_USE_TOLERANCE: f64 = 0.05;

/// A stage of the supply chain assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StageKind {
    /// Ores and concentrates.
    Extraction,
    /// Refined or processed material.
    Processing,
}

impl StageKind {
    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            StageKind::Extraction => "extraction",
            StageKind::Processing => "processing",
        }
    }
}

/// Which supply a stage's SR is computed from. The EU method weighs global
/// supply and EU sourcing by import reliance; when the study assessed a
/// stage on one of them only, SR = HHI x (1 - EoL-RIR) x SI_SR with that
/// side's HHI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SrBasis {
    /// Global supply and EU sourcing, weighted by import reliance.
    #[default]
    Both,
    /// Global supply only.
    Global,
    /// EU sourcing only.
    Eu,
}

impl SrBasis {
    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            SrBasis::Both => "both",
            SrBasis::Global => "global",
            SrBasis::Eu => "eu",
        }
    }

    /// Whether the SR uses global supply.
    pub fn uses_global(self) -> bool {
        self != SrBasis::Eu
    }

    /// Whether the SR uses EU sourcing.
    pub fn uses_eu(self) -> bool {
        self != SrBasis::Global
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Shares by country, summing to exactly 1 with the unassigned rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Shares {
    /// Share of each named country, in code order.
    pub(crate) countries: BTreeMap<String, f64>,
    /// Share of the countries not listed (`other`).
    pub(crate) other: f64,
}

impl Shares {
    /// The named countries' shares, in code order.
    pub fn countries(&self) -> &BTreeMap<String, f64> {
        &self.countries
    }

    /// The share not assigned to a named country.
    pub fn other(&self) -> f64 {
        self.other
    }
}

/// The inputs of one stage of one material; `None` where the file leaves a
/// figure out.
#[derive(Debug, Clone, PartialEq)]
pub struct StageInputs {
    pub(crate) kind: StageKind,
    pub(crate) global_supply: Option<Shares>,
    pub(crate) eu_sourcing: Option<Shares>,
    pub(crate) ir: Option<f64>,
    /// t_c of the countries whose t is not 1, from `export_restrictions`
    /// (both sides); `None` when the file gives per-side tables or none.
    pub(crate) export_restrictions: Option<BTreeMap<String, f64>>,
    /// t_c applying to global supply: `export_restrictions_gs`, or else
    /// `export_restrictions`.
    pub(crate) restrictions_gs: Option<BTreeMap<String, f64>>,
    /// t_c applying to EU sourcing: `export_restrictions_eu`, or else
    /// `export_restrictions`.
    pub(crate) restrictions_eu: Option<BTreeMap<String, f64>>,
    /// Whether the file gives t per side (names the missing field).
    pub(crate) per_side: bool,
    /// Which supply the SR uses.
    pub(crate) sr_basis: SrBasis,
}

impl StageInputs {
    /// The field that holds t for global supply (`gs`) or EU sourcing, for
    /// messages about a missing table.
    pub(crate) fn restrictions_field(&self, gs: bool) -> String {
        let side = match (self.per_side, gs) {
            (false, _) => "",
            (true, true) => "_gs",
            (true, false) => "_eu",
        };
        format!("{}.export_restrictions{side}", self.kind.name())
    }
}

/// The inputs of one material.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialInputs {
    pub(crate) id: String,
    pub(crate) eol_rir: Option<f64>,
    pub(crate) si_sr: Option<f64>,
    pub(crate) si_ei: Option<f64>,
    /// End-use share by NACE code (each code declared as a sector), as
    /// listed: their sum is within [`END_USE_TOLERANCE`] of 1, and what they
    /// leave unassigned (or `other`) adds nothing to EI.
    pub(crate) end_use: Option<BTreeMap<String, f64>>,
    /// Stages in the order extraction, processing (at least one).
    pub(crate) stages: Vec<StageInputs>,
    pub(crate) scenario_stage: Option<StageKind>,
    /// Index in the file's material array (for messages).
    pub(crate) index: usize,
}

impl MaterialInputs {
    /// The material's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Weights of the ranking's indicators, each >= 0, not all 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Static supply risk.
    pub static_sr: f64,
    /// Dynamic supply risk.
    pub dynamic_sr: f64,
    /// Probability of any shortfall.
    pub p_shortfall: f64,
    /// Expected shortfall fraction.
    pub shortfall_fraction: f64,
}

/// Weights of the ranking per simulated year, each >= 0, not all 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YearlyWeights {
    /// Expected welfare loss per euro of use.
    pub welfare_loss_per_eur: f64,
    /// p95 of the peak price multiple.
    pub peak_price_p95: f64,
    /// Probability of a shortfall in the year.
    pub p_shortfall: f64,
    /// Economic importance.
    pub ei: f64,
}

/// A validated indicator file. Built only by [`Indicators::from_toml`] or
/// [`Indicators::load`].
#[derive(Debug, Clone, PartialEq)]
pub struct Indicators {
    pub(crate) name: String,
    pub(crate) sr_threshold: f64,
    pub(crate) ei_threshold: f64,
    /// Value added of the EI scaling reference sector, million EUR.
    pub(crate) ei_reference: Option<f64>,
    /// Scaled WGI by country code.
    pub(crate) wgi: BTreeMap<String, f64>,
    /// Value added (million EUR) by NACE code, `None` where not given.
    pub(crate) sectors: BTreeMap<String, Option<f64>>,
    pub(crate) weights: Weights,
    pub(crate) yearly_weights: YearlyWeights,
    pub(crate) materials: Vec<MaterialInputs>,
    /// `published`: the CSV of published values, relative to the file's folder.
    pub(crate) published: Option<String>,
}

/// Why an indicator file could not be used: where, and what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    /// The file could not be read.
    #[error("{}: cannot read the indicator file", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or does not match the format.
    #[error("{}:{line}:{column}: {message}{snippet}", file.display())]
    Syntax {
        /// The file.
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
    /// A value is out of range or inconsistent with others.
    #[error("{}{}: {error}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line of the field (or of its table), when known.
        line: Option<usize>,
        /// The field and the problem.
        error: FieldError,
    },
}

impl Indicators {
    /// Reads, parses and validates an indicator file.
    ///
    /// # Errors
    /// [`IndicatorError`] naming the file, the line and the field.
    pub fn load(path: &Path) -> Result<Indicators, IndicatorError> {
        let text = crate::scenario::read_input(path).map_err(|source| IndicatorError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Indicators::from_toml(&text, path)
    }

    /// Parses and validates indicator text; `file` is only used in messages.
    ///
    /// # Errors
    /// [`IndicatorError`] naming the file, the line and the field.
    pub fn from_toml(text: &str, file: &Path) -> Result<Indicators, IndicatorError> {
        let raw: IndicatorFile = toml::from_str(text).map_err(|e| {
            let site = locate::syntax_site(text, &e);
            IndicatorError::Syntax {
                file: file.to_path_buf(),
                line: site.line,
                column: site.column,
                message: site.message,
                snippet: site.snippet,
            }
        })?;
        build(&raw).map_err(|error| IndicatorError::Invalid {
            file: file.to_path_buf(),
            line: locate::line_of_path(text, &error.path),
            error,
        })
    }

    /// The assessment's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The materials, in file order.
    pub fn materials(&self) -> &[MaterialInputs] {
        &self.materials
    }

    /// The ranking weights.
    pub fn weights(&self) -> Weights {
        self.weights
    }

    /// The weights of the ranking per simulated year.
    pub fn yearly_weights(&self) -> YearlyWeights {
        self.yearly_weights
    }

    /// Where the file's published values are (its `published` field, taken
    /// relative to the folder of `input`, the indicator file's path), if it
    /// names one.
    pub fn published_path(&self, input: &Path) -> Option<PathBuf> {
        let name = self.published.as_ref()?;
        let dir = input.parent().unwrap_or_else(|| Path::new(""));
        Some(dir.join(name))
    }

    /// The supply risk threshold.
    pub fn sr_threshold(&self) -> f64 {
        self.sr_threshold
    }

    /// The economic importance threshold.
    pub fn ei_threshold(&self) -> f64 {
        self.ei_threshold
    }

    /// A validation error about material `k`'s field `field`, located in
    /// `text` (the file's text), for checks that need a scenario.
    pub(crate) fn material_error(
        &self,
        text: &str,
        file: &Path,
        k: usize,
        field: &str,
        message: String,
    ) -> IndicatorError {
        let m = &self.materials[k];
        let error = FieldError {
            path: At::root("criticality")
                .key("material")
                .index(m.index, Some(&m.id))
                .key(field)
                .0,
            message,
        };
        IndicatorError::Invalid {
            file: file.to_path_buf(),
            line: locate::line_of_path(text, &error.path),
            error,
        }
    }
}
