//! The indicator file exactly as written: serde types that mirror the TOML,
//! with `deny_unknown_fields` so that a misspelt field is an error, not a
//! silent gap. Nothing here is checked beyond types; validation builds the
//! [`Indicators`](super::Indicators) from it.
//!
//! Every figure carries its source and reference year next to it
//! (`ir = { value = 0.98, source = "...", year = 2023 }`), and a figure that
//! is not known is left out: the assessment then reports it as missing.

use serde::Deserialize;
use std::collections::BTreeMap;

/// A whole indicator file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorFile {
    /// `[criticality]`: settings, governance scores, sectors and materials.
    pub criticality: RawCriticality,
    /// `[weights]`: how the ranking combines its indicators (default 1 each).
    #[serde(default)]
    pub weights: Option<RawWeights>,
    /// `[yearly_weights]`: how the ranking per simulated year combines its
    /// indicators (default 1 each).
    #[serde(default)]
    pub yearly_weights: Option<RawYearlyWeights>,
}

/// `[criticality]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCriticality {
    /// Name of the assessment (default output folder: `outputs/<name>-criticality`).
    pub name: String,
    /// What the file assesses, in a sentence.
    #[serde(default)]
    pub description: Option<String>,
    /// Supply risk at or above which a material is critical (default 1.0).
    #[serde(default)]
    pub sr_threshold: Option<f64>,
    /// Economic importance at or above which a material is critical (default 2.8).
    #[serde(default)]
    pub ei_threshold: Option<f64>,
    /// Value added, million EUR, of the largest NACE Rev. 2 two-digit
    /// manufacturing sector: the EI scaling reference.
    #[serde(default)]
    pub ei_reference_meur: Option<RawFigure>,
    /// `[[criticality.governance]]`: WGI scores scaled to 0-10 by country.
    #[serde(default)]
    pub governance: Vec<RawGovernance>,
    /// `[[criticality.sector]]`: end-use sectors and their value added.
    #[serde(default)]
    pub sector: Vec<RawSector>,
    /// `[[criticality.material]]`: the materials assessed.
    #[serde(default)]
    pub material: Vec<RawMaterial>,
    /// A CSV of published SR and EI values to compare the computed ones
    /// with (`material,stage,SR,EI,source`), relative to the indicator
    /// file's folder. Never an input of the assessment.
    #[serde(default)]
    pub published: Option<String>,
}

/// One number with its source and reference year.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFigure {
    /// The figure.
    pub value: f64,
    /// Where it comes from (publication, table, URL or DOI; "ASSUMPTION: ..."
    /// for an assumed value).
    pub source: String,
    /// Reference year of the figure.
    pub year: i64,
}

/// Shares by country (ISO code, or "other" for the rest) with their source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShares {
    /// Fractions in [0, 1] that sum to 1.
    pub shares: BTreeMap<String, f64>,
    /// Where they come from.
    pub source: String,
    /// Reference year.
    pub year: i64,
}

/// Trade-related factors t_c by country, with their source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFactors {
    /// t_c in [0.8, 1.5] for each country whose t is not 1 (0.8: EU member
    /// state or trade-agreement partner; above 1: export restrictions);
    /// countries not listed have 1.
    pub factors: BTreeMap<String, f64>,
    /// Where they come from.
    pub source: String,
    /// Reference year.
    pub year: i64,
}

/// `[[criticality.governance]]`: WGI scores of several countries from one source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGovernance {
    /// Scaled WGI in [0, 10] (10 = weakest governance), by country.
    pub scores: BTreeMap<String, f64>,
    /// Where they come from.
    pub source: String,
    /// Reference year.
    pub year: i64,
}

/// `[[criticality.sector]]`: an end-use sector (NACE Rev. 2, two digits).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSector {
    /// NACE code, e.g. "C26".
    pub nace: String,
    /// Readable name.
    #[serde(default)]
    pub name: Option<String>,
    /// The sector's value added, million EUR.
    #[serde(default)]
    pub value_added_meur: Option<RawFigure>,
}

/// `[[criticality.material]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaterial {
    /// Identifier; a scenario's material with the same id is matched to it.
    pub id: String,
    /// Readable name.
    #[serde(default)]
    pub name: Option<String>,
    /// End-of-life recycling input rate, a fraction.
    #[serde(default)]
    pub eol_rir: Option<RawFigure>,
    /// Substitution index for supply risk, in [0, 1].
    #[serde(default)]
    pub si_sr: Option<RawFigure>,
    /// Substitution index for economic importance, in [0, 1].
    #[serde(default)]
    pub si_ei: Option<RawFigure>,
    /// End-use shares by sector (NACE codes of `[[criticality.sector]]`).
    #[serde(default)]
    pub end_use: Option<RawShares>,
    /// The extraction stage (ores and concentrates).
    #[serde(default)]
    pub extraction: Option<RawStage>,
    /// The processing stage (refined or processed material).
    #[serde(default)]
    pub processing: Option<RawStage>,
    /// The stage whose EU sourcing a scenario's import sources stand for
    /// ("extraction" or "processing"); default: the only stage with
    /// `eu_sourcing`, or the only stage.
    #[serde(default)]
    pub scenario_stage: Option<String>,
}

/// `extraction` or `processing` of a material.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// Global supply: production shares by country.
    #[serde(default)]
    pub global_supply: Option<RawShares>,
    /// EU sourcing: shares of EU supply by country.
    #[serde(default)]
    pub eu_sourcing: Option<RawShares>,
    /// EU import reliance, a fraction.
    #[serde(default)]
    pub ir: Option<RawFigure>,
    /// Trade-related factors t_c, for global supply and EU sourcing alike.
    #[serde(default)]
    pub export_restrictions: Option<RawFactors>,
    /// Trade-related factors t_c of the global supply table only (instead
    /// of `export_restrictions`, when the study's two tables differ).
    #[serde(default)]
    pub export_restrictions_gs: Option<RawFactors>,
    /// Trade-related factors t_c of the EU sourcing table only.
    #[serde(default)]
    pub export_restrictions_eu: Option<RawFactors>,
    /// Which supply the SR of this stage is computed from: "both" (default),
    /// "global" (global supply only) or "eu" (EU sourcing only).
    #[serde(default)]
    pub sr_basis: Option<String>,
}

/// `[weights]` of the ranking; each >= 0, 0 leaves an indicator out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeights {
    /// Static supply risk (the input's, at the bottleneck stage).
    #[serde(default)]
    pub static_sr: Option<f64>,
    /// Dynamic supply risk (mean over simulated years and runs).
    #[serde(default)]
    pub dynamic_sr: Option<f64>,
    /// Probability of any shortfall over the horizon.
    #[serde(default)]
    pub p_shortfall: Option<f64>,
    /// Expected shortfall as a fraction of demand.
    #[serde(default)]
    pub shortfall_fraction: Option<f64>,
}

/// `[yearly_weights]` of the ranking per simulated year; each >= 0, 0
/// leaves an indicator out.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawYearlyWeights {
    /// Expected welfare loss per euro of use.
    #[serde(default)]
    pub welfare_loss_per_eur: Option<f64>,
    /// p95 over runs of the year's peak price multiple.
    #[serde(default)]
    pub peak_price_p95: Option<f64>,
    /// Probability of a shortfall in the year.
    #[serde(default)]
    pub p_shortfall: Option<f64>,
    /// Economic importance.
    #[serde(default)]
    pub ei: Option<f64>,
}
