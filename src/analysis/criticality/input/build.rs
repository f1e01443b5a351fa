//! The checks of an indicator file, one function per table: figures and
//! their sources, shares by country and by end use, the stages of each
//! material, and the settings; [`build`] calls them in the file's order.

use super::*;

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

    let w = file
        .weights
        .clone()
        .unwrap_or(crate::analysis::criticality::raw::RawWeights {
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

    let w = file.yearly_weights.clone().unwrap_or_default();
    let at = At::root("yearly_weights");
    let weight = |name: &str, x: Option<f64>| match x {
        Some(x) => check(
            &at.key(name),
            x.is_finite() && x >= 0.0,
            x,
            "a weight >= 0 (0 leaves it out)",
        ),
        None => Ok(1.0),
    };
    let yearly_weights = YearlyWeights {
        welfare_loss_per_eur: weight("welfare_loss_per_eur", w.welfare_loss_per_eur)?,
        peak_price_p95: weight("peak_price_p95", w.peak_price_p95)?,
        p_shortfall: weight("p_shortfall", w.p_shortfall)?,
        ei: weight("ei", w.ei)?,
    };
    if yearly_weights.welfare_loss_per_eur
        + yearly_weights.peak_price_p95
        + yearly_weights.p_shortfall
        + yearly_weights.ei
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
        yearly_weights,
        materials,
        published: c.published.clone(),
    })
}
