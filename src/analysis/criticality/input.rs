//! From the raw indicator file to the validated [`Indicators`]: every range
//! checked, shares normalized, sector codes resolved, defaults filled in. Each
//! error names the file, the line and the field path, with the same machinery
//! as scenario files.

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
    pub(crate) materials: Vec<MaterialInputs>,
    /// `published`: the CSV of published values, relative to the file's folder.
    pub(crate) published: Option<String>,
}

/// Why an indicator file could not be used: where, and what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    /// The file could not be read.
    #[error("{}: cannot read the indicator file: {source}", file.display())]
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
        let text = std::fs::read_to_string(path).map_err(|source| IndicatorError::Read {
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

/// A reference year that is plausible for a published figure.
fn year(at: &At, y: i64) -> Result<(), FieldError> {
    if (1900..=2100).contains(&y) {
        Ok(())
    } else {
        at.key("year")
            .err(format!("must be a year in 1900..=2100 (got {y})"))
    }
}

fn source(at: &At, s: &str) -> Result<(), FieldError> {
    if s.trim().is_empty() {
        at.key("source").err(
            "must say where the figure comes from (write \"ASSUMPTION: ...\" for an assumed value)",
        )
    } else {
        Ok(())
    }
}

/// A figure's value after checking its source and year.
fn figure(at: &At, f: &RawFigure) -> Result<f64, FieldError> {
    source(at, &f.source)?;
    year(at, f.year)?;
    Ok(f.value)
}

fn fraction_figure(at: &At, f: &RawFigure) -> Result<f64, FieldError> {
    let v = figure(at, f)?;
    fraction(&at.key("value"), v)
}

/// A country code: a letter or digit first, then letters, digits, '-' or '_'.
fn is_country(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

fn country_key(at: &At, code: &str) -> Result<(), FieldError> {
    if is_country(code) {
        Ok(())
    } else {
        at.err(format!(
            "{code:?} is not a country code: use letters, digits, '-' and '_' (e.g. \"CN\")"
        ))
    }
}

/// Checks a table of shares field by field (its source and year, at least
/// one share, each key by `keys`, each share a fraction) and returns where
/// the shares are and their sum, for the caller's rule on the sum.
fn listed_shares(
    at: &At,
    raw: &RawShares,
    keys: &dyn Fn(&At, &str) -> Result<(), FieldError>,
) -> Result<(At, f64), FieldError> {
    source(at, &raw.source)?;
    year(at, raw.year)?;
    let s = at.key("shares");
    if raw.shares.is_empty() {
        return s.err("needs at least one share");
    }
    let mut sum = 0.0;
    for (code, &x) in &raw.shares {
        let at = s.key(code);
        keys(&at, code)?;
        fraction(&at, x)?;
        sum += x;
    }
    Ok((s, sum))
}

/// Shares in [0, 1] summing to 1 within [`SHARE_TOLERANCE`], then scaled to
/// sum to exactly 1. `other` is the share of the countries not listed.
fn shares(
    at: &At,
    raw: &RawShares,
    keys: &dyn Fn(&At, &str) -> Result<(), FieldError>,
) -> Result<Shares, FieldError> {
    let (s, sum) = listed_shares(at, raw, keys)?;
    if (sum - 1.0).abs() > SHARE_TOLERANCE {
        return s.err(format!(
            "must sum to 1 (got {sum}); give the rest of the world as {OTHER} = {:.6}",
            (1.0 - sum).max(0.0)
        ));
    }
    let mut countries = BTreeMap::new();
    let mut other = 0.0;
    for (code, &x) in &raw.shares {
        if code == OTHER {
            other = x / sum;
        } else {
            countries.insert(code.clone(), x / sum);
        }
    }
    Ok(Shares { countries, other })
}

/// End-use shares as listed, each a fraction of the material's use in a
/// declared sector or `other` (uses without a sector), summing to within
/// [`END_USE_TOLERANCE`] of 1. They are not scaled: the study computes EI
/// from the listed shares, and the part of 100 % they do not account for
/// (or `other`) adds nothing to EI. Returns the sectors' shares.
fn end_use_shares(
    at: &At,
    raw: &RawShares,
    sectors: &BTreeMap<String, Option<f64>>,
) -> Result<BTreeMap<String, f64>, FieldError> {
    let (s, sum) = listed_shares(at, raw, &|at, code| {
        if code != OTHER && !sectors.contains_key(code) {
            return at.err(format!(
                "{code:?} is not a declared sector: add a [[criticality.sector]] with \
                 nace = {code:?}, or count the use under {OTHER:?} (no sector)"
            ));
        }
        Ok(())
    })?;
    let out = raw
        .shares
        .iter()
        .filter(|(code, _)| code.as_str() != OTHER)
        .map(|(code, &x)| (code.clone(), x))
        .collect();
    if (sum - 1.0).abs() > END_USE_TOLERANCE + SHARE_TOLERANCE {
        return s.err(format!(
            "must sum to between {} and {} (got {sum}): list the uses the study lists, and \
             give uses without a sector as {OTHER}",
            1.0 - END_USE_TOLERANCE,
            1.0 + END_USE_TOLERANCE
        ));
    }
    Ok(out)
}

fn country_shares(at: &At, raw: &RawShares) -> Result<Shares, FieldError> {
    shares(at, raw, &|at, code| {
        if code == OTHER {
            Ok(())
        } else {
            country_key(at, code)
        }
    })
}

fn export_restrictions(at: &At, raw: &RawFactors) -> Result<BTreeMap<String, f64>, FieldError> {
    source(at, &raw.source)?;
    year(at, raw.year)?;
    let f = at.key("factors");
    let mut out = BTreeMap::new();
    for (code, &t) in &raw.factors {
        let at = f.key(code);
        if code == OTHER {
            return at.err(format!(
                "restrictions are per country; {OTHER:?} (the unassigned rest) has none"
            ));
        }
        country_key(&at, code)?;
        check(
            &at,
            (T_MIN..=T_MAX).contains(&t),
            t,
            "a factor t_c in [0.8, 1.5] (EU method: 0.8 for EU member states and \
             trade-agreement partners, 1 otherwise, above 1 under export restrictions)",
        )?;
        out.insert(code.clone(), t);
    }
    Ok(out)
}

fn stage(at: &At, kind: StageKind, raw: &RawStage) -> Result<StageInputs, FieldError> {
    let table = |name: &str, f: &Option<RawFactors>| {
        f.as_ref()
            .map(|f| export_restrictions(&at.key(name), f))
            .transpose()
    };
    let both = table("export_restrictions", &raw.export_restrictions)?;
    let gs = table("export_restrictions_gs", &raw.export_restrictions_gs)?;
    let eu = table("export_restrictions_eu", &raw.export_restrictions_eu)?;
    let per_side = gs.is_some() || eu.is_some();
    if per_side && both.is_some() {
        let side = if gs.is_some() {
            "export_restrictions_gs"
        } else {
            "export_restrictions_eu"
        };
        return at.key(side).err(
            "give either export_restrictions (both sides) or export_restrictions_gs and \
             export_restrictions_eu (one per side), not both",
        );
    }
    let sr_basis = match raw.sr_basis.as_deref() {
        None | Some("both") => SrBasis::Both,
        Some("global") => SrBasis::Global,
        Some("eu") => SrBasis::Eu,
        Some(other) => {
            return at.key("sr_basis").err(format!(
                "unknown basis {other:?}: use \"both\" (default), \"global\" (global supply \
                 only) or \"eu\" (EU sourcing only)"
            ))
        }
    };
    let (restrictions_gs, restrictions_eu) = if per_side {
        (gs, eu)
    } else {
        (both.clone(), both.clone())
    };
    Ok(StageInputs {
        kind,
        global_supply: raw
            .global_supply
            .as_ref()
            .map(|s| country_shares(&at.key("global_supply"), s))
            .transpose()?,
        eu_sourcing: raw
            .eu_sourcing
            .as_ref()
            .map(|s| country_shares(&at.key("eu_sourcing"), s))
            .transpose()?,
        ir: raw
            .ir
            .as_ref()
            .map(|f| fraction_figure(&at.key("ir"), f))
            .transpose()?,
        export_restrictions: both,
        restrictions_gs,
        restrictions_eu,
        per_side,
        sr_basis,
    })
}

fn material(
    at: &At,
    index: usize,
    raw: &RawMaterial,
    sectors: &BTreeMap<String, Option<f64>>,
) -> Result<MaterialInputs, FieldError> {
    let opt = |name: &str, f: &Option<RawFigure>| {
        f.as_ref()
            .map(|f| fraction_figure(&at.key(name), f))
            .transpose()
    };
    let end_use = raw
        .end_use
        .as_ref()
        .map(|s| end_use_shares(&at.key("end_use"), s, sectors))
        .transpose()?;
    let mut stages = Vec::new();
    if let Some(s) = &raw.extraction {
        stages.push(stage(&at.key("extraction"), StageKind::Extraction, s)?);
    }
    if let Some(s) = &raw.processing {
        stages.push(stage(&at.key("processing"), StageKind::Processing, s)?);
    }
    if stages.is_empty() {
        return at.err(
            "needs an [criticality.material.extraction] or [criticality.material.processing] \
             table (it may be empty: every input then counts as missing)",
        );
    }
    let scenario_stage = match raw.scenario_stage.as_deref() {
        None => None,
        Some(name) => {
            let kind = match name {
                "extraction" => StageKind::Extraction,
                "processing" => StageKind::Processing,
                other => {
                    return at.key("scenario_stage").err(format!(
                        "unknown stage {other:?}: use \"extraction\" or \"processing\""
                    ))
                }
            };
            if !stages.iter().any(|s| s.kind == kind) {
                return at
                    .key("scenario_stage")
                    .err(format!("the material has no {name} table to stand for"));
            }
            Some(kind)
        }
    };
    Ok(MaterialInputs {
        id: raw.id.clone(),
        eol_rir: opt("eol_rir", &raw.eol_rir)?,
        si_sr: opt("si_sr", &raw.si_sr)?,
        si_ei: opt("si_ei", &raw.si_ei)?,
        end_use,
        stages,
        scenario_stage,
        index,
    })
}

fn settings(c: &RawCriticality) -> Result<(f64, f64, Option<f64>), FieldError> {
    let at = At::root("criticality");
    if !is_safe_name(&c.name) {
        return at.key("name").err(format!(
            "{:?} cannot be used as an output folder name: use letters, digits, '-', '_' \
             and '.', starting with a letter or digit, at most 100 characters",
            c.name
        ));
    }
    let threshold = |name: &str, x: Option<f64>, default: f64| match x {
        Some(x) => check(&at.key(name), x >= 0.0, x, "a finite number >= 0"),
        None => Ok(default),
    };
    let sr = threshold("sr_threshold", c.sr_threshold, DEFAULT_SR_THRESHOLD)?;
    let ei = threshold("ei_threshold", c.ei_threshold, DEFAULT_EI_THRESHOLD)?;
    let reference = match &c.ei_reference_meur {
        Some(f) => {
            let at = at.key("ei_reference_meur");
            let v = figure(&at, f)?;
            Some(check(&at.key("value"), v > 0.0, v, "a value added > 0")?)
        }
        None => None,
    };
    Ok((sr, ei, reference))
}

pub(super) fn build(file: &IndicatorFile) -> Result<Indicators, FieldError> {
    let c = &file.criticality;
    let (sr_threshold, ei_threshold, ei_reference) = settings(c)?;
    let root = At::root("criticality");
    if c.published.as_ref().is_some_and(|p| p.trim().is_empty()) {
        return root.key("published").err(
            "must name the CSV of published values (e.g. \"eu-2023-published.csv\", beside \
             this file), or be left out",
        );
    }

    let mut wgi = BTreeMap::new();
    for (i, g) in c.governance.iter().enumerate() {
        let at = root.key("governance").index(i, None);
        source(&at, &g.source)?;
        year(&at, g.year)?;
        for (code, &w) in &g.scores {
            let at = at.key("scores").key(code);
            if code == OTHER {
                return at.err(format!(
                    "{OTHER:?} is the unassigned rest of a share table and has no score"
                ));
            }
            country_key(&at, code)?;
            check(&at, (0.0..=10.0).contains(&w), w, "a scaled WGI in [0, 10]")?;
            if wgi.insert(code.clone(), w).is_some() {
                return at.err(format!(
                    "{code} has a score in an earlier [[criticality.governance]] table"
                ));
            }
        }
    }

    let mut sectors = BTreeMap::new();
    for (i, s) in c.sector.iter().enumerate() {
        let at = root.key("sector").index(i, Some(&s.nace));
        if !is_country(&s.nace) {
            return at.key("nace").err(format!(
                "{:?} is not a NACE code: use letters and digits, e.g. \"C26\"",
                s.nace
            ));
        }
        let va = match &s.value_added_meur {
            Some(f) => {
                let at = at.key("value_added_meur");
                let v = figure(&at, f)?;
                Some(check(&at.key("value"), v >= 0.0, v, "a value added >= 0")?)
            }
            None => None,
        };
        if sectors.insert(s.nace.clone(), va).is_some() {
            return at
                .key("nace")
                .err(format!("sector {} is declared twice", s.nace));
        }
    }

    if c.material.is_empty() {
        return root
            .key("material")
            .err("an indicator file needs at least one [[criticality.material]]");
    }
    let mut materials: Vec<MaterialInputs> = Vec::with_capacity(c.material.len());
    for (i, m) in c.material.iter().enumerate() {
        let at = root.key("material").index(i, Some(&m.id));
        if !is_identifier(&m.id) {
            return at.key("id").err(format!(
                "{:?} is not a valid id: use lowercase letters, digits, '_' and '-', starting \
                 with a letter",
                m.id
            ));
        }
        if materials.iter().any(|x| x.id == m.id) {
            return at
                .key("id")
                .err(format!("material {} is listed twice", m.id));
        }
        materials.push(material(&at, i, m, &sectors)?);
    }

    let w = file.weights.clone().unwrap_or(super::raw::RawWeights {
        static_sr: None,
        dynamic_sr: None,
        p_shortfall: None,
        shortfall_fraction: None,
    });
    let at = At::root("weights");
    let weight = |name: &str, x: Option<f64>| match x {
        Some(x) => check(
            &at.key(name),
            x >= 0.0,
            x,
            "a weight >= 0 (0 leaves it out)",
        ),
        None => Ok(1.0),
    };
    let weights = Weights {
        static_sr: weight("static_sr", w.static_sr)?,
        dynamic_sr: weight("dynamic_sr", w.dynamic_sr)?,
        p_shortfall: weight("p_shortfall", w.p_shortfall)?,
        shortfall_fraction: weight("shortfall_fraction", w.shortfall_fraction)?,
    };
    if weights.static_sr + weights.dynamic_sr + weights.p_shortfall + weights.shortfall_fraction
        <= 0.0
    {
        return at.err("at least one weight must be > 0");
    }

    Ok(Indicators {
        name: c.name.clone(),
        sr_threshold,
        ei_threshold,
        ei_reference,
        wgi,
        sectors,
        weights,
        materials,
        published: c.published.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid file: one material with a processing stage; `extra` is
    /// appended inside that stage table.
    fn file(stage: &str, extra: &str) -> String {
        format!(
            "[criticality]\nname = \"t\"\n\
             [[criticality.governance]]\nsource = \"s\"\nyear = 2022\nscores = {{ CN = 6.0 }}\n\
             [[criticality.sector]]\nnace = \"C26\"\n\
             [[criticality.material]]\nid = \"x\"\n{extra}\n\
             [criticality.material.processing]\n{stage}\n"
        )
    }

    fn parse(text: &str) -> Result<Indicators, IndicatorError> {
        Indicators::from_toml(text, Path::new("t.toml"))
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("the file is invalid").to_string()
    }

    #[test]
    fn defaults_and_normalized_shares() {
        let ind = parse(&file(
            "global_supply = { shares = { CN = 0.7, other = 0.3 }, source = \"s\", year = 2024 }",
            "",
        ))
        .unwrap();
        assert_eq!((ind.sr_threshold, ind.ei_threshold), (1.0, 2.8));
        assert_eq!(ind.weights.static_sr, 1.0);
        assert_eq!(ind.weights.shortfall_fraction, 1.0);
        let g = ind.materials[0].stages[0].global_supply.as_ref().unwrap();
        assert_eq!(g.other, 0.3);
        assert_eq!(g.countries["CN"], 0.7);
        assert_eq!(
            ind.materials[0].stages[0].ir, None,
            "a missing figure stays missing"
        );
    }

    #[test]
    fn shares_must_sum_to_one() {
        let e = error(&file(
            "global_supply = { shares = { CN = 0.7, RU = 0.2 }, source = \"s\", year = 2024 }",
            "",
        ));
        assert!(
            e.starts_with(
                "t.toml:13: criticality.material[x].processing.global_supply.shares: must sum to 1"
            ),
            "{e}"
        );
        assert!(e.contains("other = 0.100000"), "{e}");
    }

    #[test]
    fn a_share_is_a_fraction() {
        let e = error(&file(
            "eu_sourcing = { shares = { CN = 1.2, other = -0.2 }, source = \"s\", year = 2024 }",
            "",
        ));
        assert!(
            e.ends_with("processing.eu_sourcing.shares.CN: must be a fraction in [0, 1] (got 1.2)"),
            "{e}"
        );
    }

    #[test]
    fn wgi_is_on_zero_to_ten() {
        let text = file("", "").replace("CN = 6.0", "CN = 10.5");
        let e = error(&text);
        assert_eq!(
            e,
            "t.toml:6: criticality.governance[0].scores.CN: must be a scaled WGI in [0, 10] (got 10.5)"
        );
    }

    #[test]
    fn a_country_has_one_score() {
        let text = file("", "").replace(
            "[[criticality.sector]]",
            "[[criticality.governance]]\nsource = \"s\"\nyear = 2023\nscores = { CN = 5.0 }\n\
             [[criticality.sector]]",
        );
        assert!(error(&text).contains("criticality.governance[1].scores.CN: CN has a score"));
    }

    #[test]
    fn trade_factors_are_between_0_8_and_1_5() {
        let ind = parse(&file(
            "export_restrictions = { factors = { CN = 0.8, RU = 1.5 }, source = \"s\", year = 2024 }",
            "",
        ))
        .unwrap();
        let stage = &ind.materials[0].stages[0];
        let both: BTreeMap<String, f64> = [("CN".to_string(), 0.8), ("RU".to_string(), 1.5)]
            .into_iter()
            .collect();
        assert_eq!(stage.export_restrictions.as_ref(), Some(&both));
        assert_eq!(stage.restrictions_gs.as_ref(), Some(&both));
        assert_eq!(stage.restrictions_eu.as_ref(), Some(&both));
        for bad in ["0.79", "1.6", "0"] {
            let e = error(&file(
                &format!(
                    "export_restrictions = {{ factors = {{ CN = {bad} }}, source = \"s\", year = 2024 }}"
                ),
                "",
            ));
            assert!(
                e.contains(&format!(
                    "processing.export_restrictions.factors.CN: must be a factor t_c in [0.8, 1.5] \
                     (EU method: 0.8 for EU member states and trade-agreement partners, 1 \
                     otherwise, above 1 under export restrictions) (got {bad})"
                )),
                "{e}"
            );
        }
        let e = error(&file(
            "export_restrictions = { factors = { other = 1.1 }, source = \"s\", year = 2024 }",
            "",
        ));
        assert!(
            e.contains("factors.other: restrictions are per country"),
            "{e}"
        );
    }

    #[test]
    fn trade_factors_may_differ_between_the_two_supplies() {
        let ind = parse(&file(
            "export_restrictions_gs = { factors = { CN = 1.1 }, source = \"s\", year = 2024 }\n\
             export_restrictions_eu = { factors = {}, source = \"s\", year = 2024 }",
            "",
        ))
        .unwrap();
        let stage = &ind.materials[0].stages[0];
        assert_eq!(stage.export_restrictions, None);
        assert_eq!(stage.restrictions_gs.as_ref().unwrap()["CN"], 1.1);
        assert!(stage.restrictions_eu.as_ref().unwrap().is_empty());
        assert_eq!(
            stage.restrictions_field(true),
            "processing.export_restrictions_gs"
        );
        // One side only: the other side's t is missing, not taken as 1.
        let ind = parse(&file(
            "export_restrictions_eu = { factors = {}, source = \"s\", year = 2024 }",
            "",
        ))
        .unwrap();
        assert_eq!(ind.materials[0].stages[0].restrictions_gs, None);
        // Both forms at once are ambiguous.
        let e = error(&file(
            "export_restrictions = { factors = {}, source = \"s\", year = 2024 }\n\
             export_restrictions_eu = { factors = {}, source = \"s\", year = 2024 }",
            "",
        ));
        assert!(
            e.starts_with("t.toml:14: criticality.material[x].processing.export_restrictions_eu: give either export_restrictions (both sides)"),
            "{e}"
        );
    }

    #[test]
    fn the_sr_basis_is_both_global_or_eu() {
        let basis = |extra: &str| parse(&file(extra, "")).unwrap().materials[0].stages[0].sr_basis;
        assert_eq!(basis(""), SrBasis::Both);
        assert_eq!(basis("sr_basis = \"both\""), SrBasis::Both);
        assert_eq!(basis("sr_basis = \"global\""), SrBasis::Global);
        assert_eq!(basis("sr_basis = \"eu\""), SrBasis::Eu);
        let e = error(&file("sr_basis = \"gs\"", ""));
        assert!(
            e.starts_with(
                "t.toml:13: criticality.material[x].processing.sr_basis: unknown basis \"gs\""
            ),
            "{e}"
        );
    }

    #[test]
    fn end_uses_may_leave_a_rest_and_are_used_as_listed() {
        let text = |shares: &str| {
            file(
                "",
                &format!("end_use = {{ shares = {{ {shares} }}, source = \"s\", year = 2023 }}"),
            )
            .replace(
                "[[criticality.sector]]\nnace = \"C26\"\n",
                "[[criticality.sector]]\nnace = \"C26\"\n[[criticality.sector]]\nnace = \"C27\"\n",
            )
        };
        // 0.97 listed: not scaled, the 3 % rest stays unassigned.
        let ind = parse(&text("C26 = 0.6, C27 = 0.37")).unwrap();
        let eu = ind.materials[0].end_use.as_ref().unwrap();
        assert_eq!((eu["C26"], eu["C27"]), (0.6, 0.37));
        // 1.02 listed, with uses without a sector as other: kept as listed,
        // and other is not a sector.
        let ind = parse(&text("C26 = 0.6, C27 = 0.36, other = 0.06")).unwrap();
        let eu = ind.materials[0].end_use.as_ref().unwrap();
        assert_eq!(eu.len(), 2);
        assert_eq!((eu["C26"], eu["C27"]), (0.6, 0.36));
        // 0.94 and 1.06 are outside [0.95, 1.05].
        for shares in ["C26 = 0.6, C27 = 0.34", "C26 = 0.7, C27 = 0.36"] {
            let e = error(&text(shares));
            assert!(
                e.contains(
                    "criticality.material[x].end_use.shares: must sum to between 0.95 and 1.05"
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn the_published_values_are_found_beside_the_file() {
        let text = file("", "").replace(
            "name = \"t\"\n",
            "name = \"t\"\npublished = \"t-published.csv\"\n",
        );
        let ind = parse(&text).unwrap();
        assert_eq!(
            ind.published_path(Path::new("criticality/t.toml")),
            Some(PathBuf::from("criticality/t-published.csv"))
        );
        assert_eq!(
            parse(&file("", ""))
                .unwrap()
                .published_path(Path::new("t.toml")),
            None
        );
        let e = error(&text.replace("t-published.csv", " "));
        assert!(
            e.starts_with("t.toml:3: criticality.published: must name the CSV"),
            "{e}"
        );
    }

    #[test]
    fn ir_and_material_fractions_are_in_zero_one() {
        let e = error(&file(
            "ir = { value = 1.5, source = \"s\", year = 2023 }",
            "",
        ));
        assert!(
            e.ends_with("processing.ir.value: must be a fraction in [0, 1] (got 1.5)"),
            "{e}"
        );
        let e = error(&file(
            "",
            "eol_rir = { value = -0.1, source = \"s\", year = 2023 }",
        ));
        assert!(
            e.contains("criticality.material[x].eol_rir.value: must be a fraction"),
            "{e}"
        );
    }

    #[test]
    fn every_figure_names_its_source_and_year() {
        let e = error(&file(
            "ir = { value = 0.5, source = \" \", year = 2023 }",
            "",
        ));
        assert!(
            e.contains("processing.ir.source: must say where the figure comes from"),
            "{e}"
        );
        let e = error(&file("ir = { value = 0.5, source = \"s\", year = 23 }", ""));
        assert!(
            e.contains("processing.ir.year: must be a year in 1900..=2100 (got 23)"),
            "{e}"
        );
        let e = error(&file("ir = { value = 0.5, year = 2023 }", ""));
        assert!(e.starts_with("t.toml:13:"), "{e}");
        assert!(e.contains("missing field `source`"), "{e}");
    }

    #[test]
    fn a_misspelt_field_is_an_error_at_its_line() {
        let e = error(&file(
            "irr = { value = 0.5, source = \"s\", year = 2023 }",
            "",
        ));
        assert!(e.starts_with("t.toml:13:1: unknown field `irr`"), "{e}");
    }

    #[test]
    fn end_uses_name_declared_sectors() {
        let e = error(&file(
            "",
            "end_use = { shares = { C27 = 1.0 }, source = \"s\", year = 2023 }",
        ));
        assert!(
            e.contains(
                "criticality.material[x].end_use.shares.C27: \"C27\" is not a declared sector: \
                 add a [[criticality.sector]] with nace = \"C27\", or count the use under \"other\""
            ),
            "{e}"
        );
    }

    #[test]
    fn materials_are_unique_and_have_a_stage() {
        let text = file("", "")
            + "[[criticality.material]]\nid = \"x\"\n[criticality.material.extraction]\n";
        assert!(error(&text).contains("criticality.material[x].id: material x is listed twice"));
        let text = "[criticality]\nname = \"t\"\n[[criticality.material]]\nid = \"y\"\n";
        let e = error(text);
        assert!(
            e.starts_with("t.toml:3: criticality.material[y]: needs an"),
            "{e}"
        );
    }

    #[test]
    fn the_scenario_stage_is_one_of_the_material_s_stages() {
        let e = error(&file("", "scenario_stage = \"extraction\""));
        assert!(
            e.contains(
                "criticality.material[x].scenario_stage: the material has no extraction table"
            ),
            "{e}"
        );
        let e = error(&file("", "scenario_stage = \"mining\""));
        assert!(e.contains("unknown stage \"mining\""), "{e}");
    }

    #[test]
    fn some_weight_must_count() {
        let text = file("", "")
            + "[weights]\nstatic_sr = 0\ndynamic_sr = 0\np_shortfall = 0\nshortfall_fraction = 0\n";
        assert!(error(&text).ends_with("weights: at least one weight must be > 0"));
        let text = file("", "") + "[weights]\np_shortfall = -1\n";
        assert!(error(&text).contains("weights.p_shortfall: must be a weight >= 0"));
    }
}
