//! A `[[product]]` table: the material in each unit, the lifetimes, the
//! installations and what is collected at end of life.

use super::*;

/// Longest product lifetime accepted, years.
pub const MAX_LIFETIME_YEARS: f64 = 1000.0;
/// Largest installation rate of a product, units per year.
pub const MAX_UNITS: f64 = 1e12;
/// Largest material content of a product unit, t per unit.
pub const MAX_CONTENT_T_PER_UNIT: f64 = 1e3;
/// Largest single amount of money (capex), EUR.
pub const MAX_EUR: f64 = 1e15;
/// Largest yearly substitution or new-capacity rate accepted (fractions a year).
pub const MAX_RESPONSE_RATE: f64 = 10.0;

/// Oldest installation year accepted, relative to the start.
const MAX_HISTORY_YEARS: i32 = 200;

/// A lifetime parameter: a number > 0, or a distribution (draws are kept
/// above zero by the engine).
pub(super) fn lifetime_param(at: &At, raw: &RawUncertain) -> Result<Uncertain, FieldError> {
    let u = uncertain(at, raw, Domain::up_to(MAX_LIFETIME_YEARS))?;
    match u.fixed_value() {
        Some(x) if x <= 0.0 => at.err(format!("must be > 0 years (got {x})")),
        _ => Ok(u),
    }
}

pub(super) fn product(
    at: &At,
    p: &RawProduct,
    materials: &[Material],
    start_year: i32,
    years: u32,
) -> Result<Product, FieldError> {
    let last_year = start_year + years as i32 - 1;
    let mut inflow = Vec::with_capacity(p.inflow.len());
    for (year, &units) in &p.inflow {
        let at = at.key("inflow").key(year);
        let y: i32 = match year.trim().parse() {
            Ok(y) => y,
            Err(_) => return at.err(format!("{year:?} is not a year: write e.g. 2025 = 1000")),
        };
        // Points after the horizon still shape the interpolation inside it.
        let latest = last_year + MAX_HISTORY_YEARS;
        if !(start_year - MAX_HISTORY_YEARS..=latest).contains(&y) {
            return at.err(format!(
                "year {y} is outside {}..={latest} (at most {MAX_HISTORY_YEARS} years before the \
                 start or after the end)",
                start_year - MAX_HISTORY_YEARS
            ));
        }
        inflow.push((y, within(&at, units, Domain::up_to(MAX_UNITS))?));
    }
    if inflow.is_empty() {
        return at
            .key("inflow")
            .err("give installations per year by year, e.g. inflow = { 2020 = 100, 2030 = 1000 }");
    }
    inflow.sort_by_key(|x| x.0);
    let lat = at.key("lifetime");
    let lifetime = match &p.lifetime {
        RawLifetime::Weibull { shape, scale } => LifetimeSpec::Weibull {
            shape: lifetime_param(&lat.key("shape"), shape)?,
            scale: lifetime_param(&lat.key("scale"), scale)?,
        },
        RawLifetime::Lognormal { mean, sd } => LifetimeSpec::LogNormal {
            mean: lifetime_param(&lat.key("mean"), mean)?,
            sd: lifetime_param(&lat.key("sd"), sd)?,
        },
        RawLifetime::Normal { mean, sd } => LifetimeSpec::Normal {
            mean: lifetime_param(&lat.key("mean"), mean)?,
            sd: lifetime_param(&lat.key("sd"), sd)?,
        },
        RawLifetime::Fixed { years } => LifetimeSpec::Fixed {
            years: lifetime_param(&lat.key("years"), years)?,
        },
    };
    let timing = match p.inflow_at.as_deref() {
        None | Some("middle") => InflowTiming::Middle,
        Some("start") => InflowTiming::Start,
        Some("end") => InflowTiming::End,
        Some(other) => {
            return at.key("inflow_at").err(format!(
                "unknown timing {other:?}: use \"start\", \"middle\" or \"end\""
            ))
        }
    };
    if p.content_t_per_unit.is_empty() {
        return at.key("content_t_per_unit").err(
            "give the material content per unit, e.g. content_t_per_unit = { iridium = 0.0004 }",
        );
    }
    let mut contents = Vec::with_capacity(p.content_t_per_unit.len());
    for (id, &t) in &p.content_t_per_unit {
        let cat = at.key("content_t_per_unit").key(id);
        let Some(m) = materials.iter().position(|m| &m.id == id) else {
            return cat.err(format!(
                "unknown material {id:?}; materials in this scenario: {}",
                list_ids(materials)
            ));
        };
        let t_per_unit = within(&cat, t, Domain::up_to(MAX_CONTENT_T_PER_UNIT))?;
        let Some(raw) = p.recovery.get(id) else {
            return at.key("recovery").err(format!(
                "no recovery for {id:?}: give recovery = {{ {id} = ... }} (0 if it is not recovered)"
            ));
        };
        let recovery = uncertain(&at.key("recovery").key(id), raw, Domain::FRACTION)?;
        contents.push(ProductContent {
            material: m,
            t_per_unit,
            recovery,
        });
    }
    if let Some(extra) = p
        .recovery
        .keys()
        .find(|k| !p.content_t_per_unit.contains_key(*k))
    {
        return at.key("recovery").key(extra).err(format!(
            "{extra:?} has a recovery but no content_t_per_unit entry"
        ));
    }
    let content_trend = match p.content_trend {
        Some(x) => check(
            &at.key("content_trend"),
            x > -1.0 && x <= MAX_GROWTH,
            x,
            &format!("a yearly change in (-1, {MAX_GROWTH}]"),
        )?,
        None => 0.0,
    };
    let year_in = |key: &str, y: Option<i64>| -> Result<i32, FieldError> {
        match y {
            None => Ok(start_year),
            Some(y) if (1800..=2500).contains(&y) => Ok(y as i32),
            Some(y) => at
                .key(key)
                .err(format!("must be a year in 1800..=2500 (got {y})")),
        }
    };
    Ok(Product {
        id: p.id.clone(),
        unit: p.unit.clone().unwrap_or_else(|| "units".into()),
        inflow,
        lifetime,
        timing,
        contents,
        content_trend,
        content_year: year_in("content_year", p.content_year)?,
        collection_rate: uncertain(
            &at.key("collection_rate"),
            &p.collection_rate,
            Domain::FRACTION,
        )?,
        recycling_from_year: year_in("recycling_from_year", p.recycling_from_year)?,
        adds_demand: p.adds_demand.unwrap_or(false),
    })
}
