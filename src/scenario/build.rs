//! From the raw file to the validated [`Scenario`]: every check, every default,
//! every name resolved to an index. Each error carries the path of the field.

use super::instruments::{self, Horizon};
use super::raw::{
    RawDisruption, RawLifetime, RawMaterial, RawMaterialSelection, RawProduct, RawRefinery,
    RawStockpile, ScenarioFile,
};
use super::uncertain::{show, show_sum, Domain, RawUncertain, Uncertain};
use super::{
    Arrival, Disruption, Feed, FlowRef, LifetimeSpec, Material, NewCapacity, Product,
    ProductContent, Refinery, Scenario, Source, Stage, Step, StockTarget, Stockpile, Substitution,
    Target, TargetBasis,
};
use crate::scenario::InflowTiming;
use std::collections::BTreeSet;
use std::fmt;

/// Largest horizon accepted, in years.
pub const MAX_YEARS: i64 = 200;
/// Largest number of runs accepted.
pub const MAX_RUNS: i64 = 1_000_000_000;
/// Tolerance on the sum of a material's source shares.
pub const SHARE_TOLERANCE: f64 = 1e-6;

// Upper limits on values. They are far beyond any real market, and they keep
// every total the engine forms finite: demand at MAX_TONNES growing at
// MAX_GROWTH for MAX_YEARS, held MAX_TARGET_DAYS and priced at MAX_EUR_PER_T
// times MAX_PRICE_MULTIPLE, stays below 1e100, so even sums of squares over
// a billion runs do not overflow. Draws of uncertain numbers are clamped to
// the same limits.

/// Largest quantity in tonnes or tonnes per year (demand, stock targets,
/// release and refill rates): 400 times the world's yearly iron ore output.
pub const MAX_TONNES: f64 = 1e12;
/// Largest price or value of lost load, EUR per tonne.
pub const MAX_EUR_PER_T: f64 = 1e15;
/// Largest yearly demand growth: +100 % a year, demand doubling every year.
pub const MAX_GROWTH: f64 = 1.0;
/// Largest spare capacity, as a multiple of a source's nominal flow.
pub const MAX_SPARE_CAPACITY: f64 = 100.0;
/// Largest event rate of a disruption, events per year.
pub const MAX_RATE_PER_YEAR: f64 = 100.0;
/// Longest event, in months: the longest horizon.
pub const MAX_DURATION_MONTHS: f64 = 12.0 * MAX_YEARS as f64;
/// Largest price cap, as a multiple of the base price.
pub const MAX_PRICE_MULTIPLE: f64 = 1000.0;
/// Largest stockpile target in days of demand: a hundred years.
pub const MAX_TARGET_DAYS: f64 = 36_500.0;
/// Largest yearly holding cost, as a fraction of the stock's value.
pub const MAX_HOLDING_COST_RATE: f64 = 1.0;
/// Most `[[material]]` tables in one scenario.
pub const MAX_MATERIALS: usize = 200;
/// Most `[[material.source]]` tables of one material.
pub const MAX_SOURCES: usize = 300;
/// Most `[[disruption]]` tables in one scenario.
pub const MAX_DISRUPTIONS: usize = 1000;

/// One step of a field path: a key, or an element of an array of tables
/// (with a readable label such as the material id, when there is one).
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// A table key.
    Key(String),
    /// The n-th element of an array, with an optional label for messages.
    Index(usize, Option<String>),
}

/// A validation error: the path of the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// Where the problem is, e.g. `material[gallium].demand_growth.sd`.
    pub path: Vec<Segment>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl FieldError {
    /// The path written as `material[gallium].source[1].share`.
    pub fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Segment::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Segment::Index(i, label) => match label {
                    Some(l) => s.push_str(&format!("[{l}]")),
                    None => s.push_str(&format!("[{i}]")),
                },
            }
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path_string(), self.message)
    }
}

impl std::error::Error for FieldError {}

/// A field path under construction.
#[derive(Clone)]
pub(crate) struct At(pub(crate) Vec<Segment>);

impl At {
    pub(crate) fn root(key: &str) -> At {
        At(vec![Segment::Key(key.to_string())])
    }
    pub(crate) fn key(&self, key: &str) -> At {
        let mut p = self.0.clone();
        p.push(Segment::Key(key.to_string()));
        At(p)
    }
    pub(crate) fn index(&self, i: usize, label: Option<&str>) -> At {
        let mut p = self.0.clone();
        p.push(Segment::Index(i, label.map(str::to_string)));
        At(p)
    }
    pub(crate) fn err<T>(&self, message: impl Into<String>) -> Result<T, FieldError> {
        Err(FieldError {
            path: self.0.clone(),
            message: message.into(),
        })
    }
}

pub(crate) fn uncertain(
    at: &At,
    raw: &RawUncertain,
    domain: Domain,
) -> Result<Uncertain, FieldError> {
    Uncertain::build(raw, domain).map_err(|e| FieldError {
        path: match e.field {
            Some(f) => at.key(f).0,
            None => at.0.clone(),
        },
        message: e.message,
    })
}

pub(crate) fn check(at: &At, ok: bool, x: f64, what: &str) -> Result<f64, FieldError> {
    if ok && x.is_finite() {
        Ok(x)
    } else {
        at.err(format!("must be {what} (got {})", show(x)))
    }
}

/// `x` must lie in `domain` (finite, between its limits).
pub(crate) fn within(at: &At, x: f64, domain: Domain) -> Result<f64, FieldError> {
    match domain.check(x) {
        None => Ok(x),
        Some(message) => at.err(message),
    }
}

pub(crate) fn fraction(at: &At, x: f64) -> Result<f64, FieldError> {
    within(at, x, Domain::FRACTION)
}

/// At most `max` items of `what` under `at`.
pub(crate) fn count(at: &At, n: usize, max: usize, what: &str) -> Result<(), FieldError> {
    if n > max {
        at.err(format!("{n} {what}: at most {max} are supported"))
    } else {
        Ok(())
    }
}

/// A name that is safe as a folder name: letters, digits, '-', '_' and '.',
/// starting with a letter or digit, at most 100 characters.
pub(crate) fn is_safe_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() <= 100
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// An identifier: lowercase letters, digits, '_' and '-', starting with a letter.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

pub(super) fn build(file: &ScenarioFile) -> Result<Scenario, FieldError> {
    let sim = &file.simulation;
    let at = At::root("simulation");
    if !is_safe_name(&sim.name) {
        return at.key("name").err(format!(
            "{:?} cannot be used as an output folder name: use letters, digits, '-', '_' \
             and '.', starting with a letter or digit, at most 100 characters",
            sim.name
        ));
    }
    if !(1800..=2300).contains(&sim.start_year) {
        return at.key("start_year").err(format!(
            "must be a year in 1800..=2300 (got {})",
            sim.start_year
        ));
    }
    if !(1..=MAX_YEARS).contains(&sim.years) {
        return at.key("years").err(format!(
            "must be a whole number of years from 1 to {MAX_YEARS} (got {})",
            sim.years
        ));
    }
    let step = match sim.step.as_deref() {
        None | Some("month") => Step::Month,
        Some("quarter") => Step::Quarter,
        Some("year") => Step::Year,
        Some(other) => {
            return at.key("step").err(format!(
                "unknown step {other:?}: use \"month\", \"quarter\" or \"year\""
            ))
        }
    };
    if !(1..=MAX_RUNS).contains(&sim.runs) {
        return at
            .key("runs")
            .err(format!("must be from 1 to {MAX_RUNS} (got {})", sim.runs));
    }
    let discount_rate = match sim.discount_rate {
        Some(r) => check(
            &at.key("discount_rate"),
            r > -1.0 && r <= 1.0,
            r,
            "a yearly rate in (-1, 1], e.g. 0.03",
        )?,
        None => 0.0,
    };
    if sim.seed < 0 {
        return at
            .key("seed")
            .err(format!("must be a whole number >= 0 (got {})", sim.seed));
    }
    let years = u32::try_from(sim.years).expect("checked: 1..=200");
    let steps = years as usize * step.per_year() as usize;

    if file.material.is_empty() {
        return At::root("material").err("a scenario needs at least one [[material]]");
    }
    count(
        &At::root("material"),
        file.material.len(),
        MAX_MATERIALS,
        "[[material]] tables",
    )?;
    count(
        &At::root("disruption"),
        file.disruption.len(),
        MAX_DISRUPTIONS,
        "[[disruption]] tables",
    )?;
    let horizon = Horizon {
        start_year: i32::try_from(sim.start_year).expect("checked: 1800..=2300"),
        years,
        step_months: step.months(),
    };
    let mut materials = Vec::with_capacity(file.material.len());
    let mut ids = BTreeSet::new();
    for (i, m) in file.material.iter().enumerate() {
        let at = At::root("material").index(i, Some(&m.id));
        if !is_identifier(&m.id) {
            return At::root("material").index(i, None).key("id").err(format!(
                "{:?} is not a valid id: use lowercase letters, digits, '_' and '-', \
                 starting with a letter",
                m.id
            ));
        }
        if !ids.insert(m.id.clone()) {
            return at
                .key("id")
                .err(format!("duplicate material id {:?}", m.id));
        }
        let mut mat = material(&at, m)?;
        mat.tiers = instruments::tiers(&at, &m.tier, &mat, horizon)?;
        materials.push(mat);
    }

    for (i, s) in file.stockpile.iter().enumerate() {
        let at = At::root("stockpile").index(i, Some(&s.material));
        let Some(m) = materials.iter_mut().find(|m| m.id == s.material) else {
            return at.key("material").err(format!(
                "unknown material {:?}; materials in this scenario: {}",
                s.material,
                list(ids.iter())
            ));
        };
        let name = match &s.name {
            Some(n) => n.clone(),
            None if m.stockpiles.is_empty() => m.id.clone(),
            None => format!("{}-{}", m.id, m.stockpiles.len() + 1),
        };
        if m.stockpiles.iter().any(|x| x.name == name) {
            return at.key("name").err(format!(
                "{name:?} is used twice: name each stockpile of {:?} differently",
                m.id
            ));
        }
        let order = s.release_order.unwrap_or(m.stockpiles.len() as i64);
        let stockpile = stockpile(&at, s, name, order, horizon)?;
        super::market::check_stockpile(&at, &stockpile, &m.market)?;
        m.stockpiles.push(stockpile);
        // A stable sort keeps file order among equal release orders.
        m.stockpiles.sort_by_key(|x| x.release_order);
    }
    instruments::options(&file.option, &mut materials, &ids, horizon)?;

    let start_year = i32::try_from(sim.start_year).expect("checked: 1800..=2300");
    let mut refineries = Vec::with_capacity(file.refinery.len());
    let mut refinery_names = BTreeSet::new();
    for (i, r) in file.refinery.iter().enumerate() {
        let name = r
            .name
            .clone()
            .unwrap_or_else(|| format!("refinery-{}", i + 1));
        let at = At::root("refinery").index(i, Some(&name));
        if !refinery_names.insert(name.clone()) {
            return at.key("name").err(format!(
                "duplicate refinery name {name:?}: names must be unique"
            ));
        }
        refineries.push(refinery(&at, r, name, &materials)?);
    }

    let mut disruptions = Vec::with_capacity(file.disruption.len());
    let mut names = BTreeSet::new();
    for (i, d) in file.disruption.iter().enumerate() {
        let name = d
            .name
            .clone()
            .unwrap_or_else(|| format!("disruption-{}", i + 1));
        let at = At::root("disruption").index(i, Some(&name));
        if !names.insert(name.clone()) {
            return at.key("name").err(format!(
                "duplicate disruption name {name:?}: names must be unique"
            ));
        }
        disruptions.push(disruption(
            &at,
            d,
            name,
            &materials,
            &refineries,
            sim.start_year,
            step,
            steps,
        )?);
    }

    let mut products = Vec::with_capacity(file.product.len());
    let mut product_ids = BTreeSet::new();
    for (i, p) in file.product.iter().enumerate() {
        let at = At::root("product").index(i, Some(&p.id));
        if !is_identifier(&p.id) {
            return At::root("product").index(i, None).key("id").err(format!(
                "{:?} is not a valid id: use lowercase letters, digits, '_' and '-', \
                 starting with a letter",
                p.id
            ));
        }
        if !product_ids.insert(p.id.clone()) {
            return at.key("id").err(format!("duplicate product id {:?}", p.id));
        }
        products.push(product(&at, p, &materials, start_year, years)?);
    }

    Ok(Scenario {
        name: sim.name.clone(),
        start_year,
        years,
        step,
        runs: u64::try_from(sim.runs).expect("checked: >= 1"),
        seed: u64::try_from(sim.seed).expect("checked: >= 0"),
        discount_rate,
        region: sim.region.clone(),
        materials,
        disruptions,
        products,
        refineries,
    })
}

fn refinery(
    at: &At,
    r: &RawRefinery,
    name: String,
    materials: &[Material],
) -> Result<Refinery, FieldError> {
    let Some(material) = materials.iter().position(|m| m.id == r.material) else {
        return at.key("material").err(format!(
            "unknown material {:?}; materials in this scenario: {}",
            r.material,
            list_ids(materials)
        ));
    };
    let capacity_tpy = within(
        &at.key("capacity_tpy"),
        r.capacity_tpy,
        Domain::up_to(MAX_TONNES),
    )?;
    if !(1800..=2500).contains(&r.online_year) {
        return at.key("online_year").err(format!(
            "must be a year in 1800..=2500 (got {})",
            r.online_year
        ));
    }
    let ramp_years = within(
        &at.key("ramp_years"),
        r.ramp_years.unwrap_or(0.0),
        Domain::up_to(MAX_YEARS as f64),
    )?;
    let utilization = match &r.utilization {
        Some(u) => uncertain(&at.key("utilization"), u, Domain::FRACTION)?,
        None => Uncertain::fixed(1.0, Domain::FRACTION),
    };
    let mut feed = Vec::with_capacity(r.feed.len());
    let mut total = 0.0;
    for (k, f) in r.feed.iter().enumerate() {
        let at = at.key("feed").index(k, None);
        if f.region.is_empty() {
            return at.key("region").err("must not be empty");
        }
        let share = fraction(&at.key("share"), f.share)?;
        total += share;
        feed.push(Feed {
            region: f.region.clone(),
            share,
            routes: f.routes.clone(),
        });
    }
    if !feed.is_empty() && (total - 1.0).abs() > SHARE_TOLERANCE {
        return at.key("feed").err(format!(
            "the shares of the feed must sum to 1 (got {}); leave feed out for a feed that is not at risk", show_sum(total)
        ));
    }
    for f in &mut feed {
        f.share /= total;
    }
    Ok(Refinery {
        name,
        material,
        capacity_tpy,
        online_year: r.online_year as i32,
        ramp_years,
        utilization,
        feed,
        capex_eur: within(
            &at.key("capex_eur"),
            r.capex_eur.unwrap_or(0.0),
            Domain::up_to(MAX_EUR),
        )?,
        opex_eur_per_t: within(
            &at.key("opex_eur_per_t"),
            r.opex_eur_per_t.unwrap_or(0.0),
            Domain::up_to(MAX_EUR_PER_T),
        )?,
    })
}

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
fn lifetime_param(at: &At, raw: &RawUncertain) -> Result<Uncertain, FieldError> {
    let u = uncertain(at, raw, Domain::up_to(MAX_LIFETIME_YEARS))?;
    match u.fixed_value() {
        Some(x) if x <= 0.0 => at.err(format!("must be > 0 years (got {x})")),
        _ => Ok(u),
    }
}

fn product(
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

pub(crate) fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn material(at: &At, m: &RawMaterial) -> Result<Material, FieldError> {
    let demand_tpy = uncertain(
        &at.key("demand_tpy"),
        &m.demand_tpy,
        Domain::up_to(MAX_TONNES),
    )?;
    let growth = Domain::between(-1.0, MAX_GROWTH);
    let demand_growth = match &m.demand_growth {
        Some(g) => uncertain(&at.key("demand_growth"), g, growth)?,
        None => Uncertain::fixed(0.0, growth),
    };
    if let Some(g) = demand_growth.fixed_value() {
        if g <= -1.0 {
            return at
                .key("demand_growth")
                .err(format!("must be > -1 (got {})", show(g)));
        }
    }
    let price = check(
        &at.key("price_eur_per_t"),
        m.price_eur_per_t > 0.0,
        m.price_eur_per_t,
        "a finite number > 0",
    )?;
    within(
        &at.key("price_eur_per_t"),
        price,
        Domain::up_to(MAX_EUR_PER_T),
    )?;
    let voll = within(
        &at.key("value_of_lost_load_eur_per_t"),
        m.value_of_lost_load_eur_per_t,
        Domain::up_to(MAX_EUR_PER_T),
    )?;
    if m.source.is_empty() {
        return at
            .key("source")
            .err("a material needs at least one [[material.source]] with region and share");
    }
    count(
        &at.key("source"),
        m.source.len(),
        MAX_SOURCES,
        "sources of one material",
    )?;
    let reexport =
        |at: &At, x: f64| check(at, (0.0..=0.99).contains(&x), x, "a share in [0, 0.99]");
    let material_reexport = match m.reexport_share {
        Some(x) => reexport(&at.key("reexport_share"), x)?,
        None => 0.0,
    };
    let substitution = match &m.substitution {
        Some(sub) => {
            let sat = at.key("substitution");
            Some(Substitution {
                max_fraction: uncertain(
                    &sat.key("max_fraction"),
                    &sub.max_fraction,
                    Domain::FRACTION,
                )?,
                per_year: uncertain(
                    &sat.key("per_year"),
                    &sub.per_year,
                    Domain::up_to(MAX_RESPONSE_RATE),
                )?,
                lag_months: within(
                    &sat.key("lag_months"),
                    sub.lag_months.unwrap_or(0.0),
                    Domain::up_to(MAX_DURATION_MONTHS),
                )?,
            })
        }
        None => None,
    };
    let new_capacity = match &m.new_capacity {
        Some(nc) => {
            let nat = at.key("new_capacity");
            Some(NewCapacity {
                share_per_year: uncertain(
                    &nat.key("share_per_year"),
                    &nc.share_per_year,
                    Domain::up_to(MAX_RESPONSE_RATE),
                )?,
                lead_time_years: uncertain(
                    &nat.key("lead_time_years"),
                    &nc.lead_time_years,
                    Domain::up_to(MAX_YEARS as f64),
                )?,
                max_share: fraction(&nat.key("max_share"), nc.max_share.unwrap_or(1.0))?,
            })
        }
        None => None,
    };
    let mut sources = Vec::with_capacity(m.source.len());
    let mut total = 0.0;
    for (k, s) in m.source.iter().enumerate() {
        let at = at.key("source").index(k, None);
        let share = fraction(&at.key("share"), s.share)?;
        total += share;
        let spare_capacity = match &s.spare_capacity {
            Some(u) => uncertain(
                &at.key("spare_capacity"),
                u,
                Domain::up_to(MAX_SPARE_CAPACITY),
            )?,
            None => Uncertain::fixed(0.0, Domain::up_to(MAX_SPARE_CAPACITY)),
        };
        let ramp_months = within(
            &at.key("ramp_months"),
            s.ramp_months.unwrap_or(0.0),
            Domain::up_to(MAX_DURATION_MONTHS),
        )?;
        if s.region.is_empty() {
            return at.key("region").err("must not be empty");
        }
        let reexport_share = match s.reexport_share {
            Some(x) => reexport(&at.key("reexport_share"), x)?,
            None => material_reexport,
        };
        sources.push(Source {
            region: s.region.clone(),
            share,
            routes: s.routes.clone(),
            spare_capacity,
            ramp_months,
            reexport_share,
        });
    }
    if (total - 1.0).abs() > SHARE_TOLERANCE {
        return at.key("source").err(format!(
            "the shares of the sources must sum to 1 (got {}: {})",
            show_sum(total),
            m.source
                .iter()
                .map(|s| format!("{} {}", s.region, s.share))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // Within the tolerance, normalize so the shares sum to 1 as the model says.
    for s in &mut sources {
        s.share /= total;
    }
    let market = super::market::market(at, m, price, voll, &sources)?;
    Ok(Material {
        id: m.id.clone(),
        demand_tpy,
        demand_growth,
        price,
        value_of_lost_load: voll,
        market,
        sources,
        stockpiles: Vec::new(),
        options: Vec::new(),
        tiers: Vec::new(),
        response_trigger: fraction(
            &at.key("response_trigger"),
            m.response_trigger.unwrap_or(0.0),
        )?,
        substitution,
        new_capacity,
    })
}

fn stockpile(
    at: &At,
    s: &RawStockpile,
    name: String,
    release_order: i64,
    horizon: Horizon,
) -> Result<Stockpile, FieldError> {
    let floor = match (s.floor_days, s.floor_t) {
        (Some(d), None) => StockTarget::Days(within(
            &at.key("floor_days"),
            d,
            Domain::up_to(MAX_TARGET_DAYS),
        )?),
        (None, Some(t)) => {
            StockTarget::Tonnes(within(&at.key("floor_t"), t, Domain::up_to(MAX_TONNES))?)
        }
        (Some(_), Some(_)) => {
            return at
                .key("floor_t")
                .err("give either floor_days or floor_t, not both")
        }
        (None, None) => StockTarget::Tonnes(0.0),
    };
    let refill_price_cap = match s.refill_price_cap {
        Some(x) => check(
            &at.key("refill_price_cap"),
            x > 0.0 && x <= MAX_PRICE_MULTIPLE,
            x,
            &format!("a multiple of the base price in (0, {MAX_PRICE_MULTIPLE}]"),
        )?,
        None => f64::INFINITY,
    };
    let target = match (s.target_days, s.target_t) {
        (Some(d), None) => StockTarget::Days(within(
            &at.key("target_days"),
            d,
            Domain::up_to(MAX_TARGET_DAYS),
        )?),
        (None, Some(t)) => {
            StockTarget::Tonnes(within(&at.key("target_t"), t, Domain::up_to(MAX_TONNES))?)
        }
        (Some(_), Some(_)) => {
            return at
                .key("target_t")
                .err("give either target_days or target_t, not both")
        }
        (None, None) => {
            return at.err("needs a target: target_days (days of demand) or target_t (tonnes)")
        }
    };
    let max_release_tpy = match s.max_release_tpy {
        Some(x) => within(
            &at.key("max_release_tpy"),
            check(&at.key("max_release_tpy"), x > 0.0, x, "a number > 0")?,
            Domain::up_to(MAX_TONNES),
        )?,
        None => f64::INFINITY,
    };
    let (release_rule, max_buy_share) = super::market::release_rule(at, s)?;
    Ok(Stockpile {
        name,
        release_order,
        release_fraction: fraction(
            &at.key("release_fraction"),
            s.release_fraction.unwrap_or(1.0),
        )?,
        floor,
        refill_price_cap,
        refill_in_shortage: s.refill_in_shortage.unwrap_or(true),
        target,
        // A stock built up from a given year starts empty unless told.
        initial_fill: fraction(
            &at.key("initial_fill"),
            s.initial_fill
                .unwrap_or(if s.build_start.is_some() { 0.0 } else { 1.0 }),
        )?,
        release_trigger: fraction(&at.key("release_trigger"), s.release_trigger.unwrap_or(0.0))?,
        max_release_tpy,
        // A build-up buys as fast as max_buy_share lets it unless told.
        replenish_tpy: match s.replenish_tpy {
            Some(x) => within(&at.key("replenish_tpy"), x, Domain::up_to(MAX_TONNES))?,
            None if s.build_start.is_some() => f64::INFINITY,
            None => 0.0,
        },
        holding_cost_rate: within(
            &at.key("holding_cost_rate"),
            s.holding_cost_rate.unwrap_or(0.0),
            Domain::up_to(MAX_HOLDING_COST_RATE),
        )?,
        buy_initial: s.buy_initial.unwrap_or(false),
        target_basis: match s.target_basis.as_deref() {
            None | Some("consumption") => TargetBasis::Consumption,
            Some("net_imports") => TargetBasis::NetImports,
            Some(other) => {
                return at.key("target_basis").err(format!(
                    "unknown basis {other:?}: use \"consumption\" or \"net_imports\""
                ))
            }
        },
        release_rule,
        max_buy_share,
        release_lead_months: instruments::lead_months(
            &at.key("release_lead_months"),
            s.release_lead_months,
            horizon,
        )?,
        build_start: instruments::build_start(&at.key("build_start"), s.build_start, horizon)?,
    })
}

/// Parses "YYYY-MM" (or "YYYY-MM-DD", day ignored) into (year, month).
pub(crate) fn parse_month(s: &str) -> Option<(i64, u32)> {
    let mut parts = s.split('-');
    let y = parts.next()?;
    let m = parts.next()?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    if let Some(d) = parts.next() {
        let day: u32 = d.parse().ok()?;
        if d.len() != 2 || !(1..=31).contains(&day) || parts.next().is_some() {
            return None;
        }
    }
    let year: i64 = y.parse().ok()?;
    let month: u32 = m.parse().ok()?;
    (1..=12).contains(&month).then_some((year, month))
}

#[allow(clippy::too_many_arguments)]
fn disruption(
    at: &At,
    d: &RawDisruption,
    name: String,
    materials: &[Material],
    refineries: &[Refinery],
    start_year: i64,
    step: Step,
    steps: usize,
) -> Result<Disruption, FieldError> {
    let ids: Vec<usize> = match &d.materials {
        RawMaterialSelection::One(s) if s == "all" => (0..materials.len()).collect(),
        RawMaterialSelection::One(s) => {
            return at.key("materials").err(format!(
                "{s:?}: give a list of material ids, e.g. [{s:?}], or \"all\""
            ))
        }
        RawMaterialSelection::Many(list) => {
            if list.is_empty() {
                return at
                    .key("materials")
                    .err("must name at least one material, or \"all\"");
            }
            let mut idx = Vec::with_capacity(list.len());
            for id in list {
                match materials.iter().position(|m| &m.id == id) {
                    Some(i) if !idx.contains(&i) => idx.push(i),
                    Some(_) => {
                        return at
                            .key("materials")
                            .err(format!("material {id:?} is listed twice"))
                    }
                    None => {
                        return at.key("materials").err(format!(
                            "unknown material {id:?}; materials in this scenario: {}",
                            list_ids(materials)
                        ))
                    }
                }
            }
            idx
        }
    };
    let target = match (&d.region, &d.route) {
        (Some(r), None) => Target::Region(r.clone()),
        (None, Some(r)) => Target::Route(r.clone()),
        (Some(_), Some(_)) => {
            return at
                .key("route")
                .err("give either region or route, not both (write two disruptions)")
        }
        (None, None) => return at.err("needs a target: region = \"...\" or route = \"...\""),
    };
    let stage = match d.stage.as_deref() {
        None => Stage::Both,
        Some("import") => Stage::Import,
        Some("feed") => Stage::Feed,
        Some(other) => {
            return at.key("stage").err(format!(
                "unknown stage {other:?}: use \"import\" (refined imports only) or \"feed\" \
                 (refinery feed only); leave it out for both"
            ))
        }
    };
    let hits_flow = |region: &str, routes: &[String]| match &target {
        Target::Region(r) => region == r,
        Target::Route(r) => routes.iter().any(|x| x == r),
    };
    let mut hits = Vec::new();
    if stage != Stage::Feed {
        for &m in &ids {
            for (s, src) in materials[m].sources.iter().enumerate() {
                if hits_flow(&src.region, &src.routes) {
                    hits.push(FlowRef::Import(m, s));
                }
            }
        }
    }
    if stage != Stage::Import {
        for (r, refinery) in refineries.iter().enumerate() {
            if !ids.contains(&refinery.material) {
                continue;
            }
            for (f, feed) in refinery.feed.iter().enumerate() {
                if hits_flow(&feed.region, &feed.routes) {
                    hits.push(FlowRef::Feed(r, f));
                }
            }
        }
    }
    if hits.is_empty() {
        let feeds = || {
            refineries
                .iter()
                .filter(|r| ids.contains(&r.material))
                .flat_map(|r| r.feed.iter())
        };
        let (key, known): (&str, BTreeSet<&String>) = match &target {
            Target::Region(_) => (
                "region",
                ids.iter()
                    .flat_map(|&m| materials[m].sources.iter().map(|s| &s.region))
                    .chain(feeds().map(|f| &f.region))
                    .collect(),
            ),
            Target::Route(_) => (
                "route",
                ids.iter()
                    .flat_map(|&m| materials[m].sources.iter().flat_map(|s| s.routes.iter()))
                    .chain(feeds().flat_map(|f| f.routes.iter()))
                    .collect(),
            ),
        };
        return at.key(key).err(format!(
            "{target} hits no flow of the materials it names; {key}s of those flows: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                list(known.into_iter())
            }
        ));
    }
    let arrival = match (&d.rate_per_year, &d.start) {
        (Some(rate), None) => {
            let u = uncertain(
                &at.key("rate_per_year"),
                rate,
                Domain::up_to(MAX_RATE_PER_YEAR),
            )?;
            Arrival::Poisson(u)
        }
        (None, Some(start)) => {
            let Some((y, mo)) = parse_month(start) else {
                return at
                    .key("start")
                    .err(format!("{start:?} is not a month: write \"YYYY-MM\", e.g. \"2026-07\""));
            };
            let months = (y - start_year) * 12 + i64::from(mo) - 1;
            let horizon_months = steps as i64 * i64::from(step.months());
            if !(0..horizon_months).contains(&months) {
                let last_year = start_year + horizon_months / 12 - 1;
                return at.key("start").err(format!(
                    "{start:?} is outside the horizon {start_year}-01 to {last_year}-12"
                ));
            }
            Arrival::Scheduled {
                step: usize::try_from(months / i64::from(step.months()))
                    .expect("checked: inside the horizon"),
                month: start.clone(),
            }
        }
        (Some(_), Some(_)) => {
            return at
                .key("start")
                .err("give either rate_per_year (random events) or start (one scheduled event), not both")
        }
        (None, None) => {
            return at.err(
                "needs rate_per_year (random events per year) or start = \"YYYY-MM\" (one scheduled event)",
            )
        }
    };
    let duration_months = uncertain(
        &at.key("duration_months"),
        &d.duration_months,
        Domain::up_to(MAX_DURATION_MONTHS),
    )?;
    let severity = uncertain(&at.key("severity"), &d.severity, Domain::FRACTION)?;
    let scope = super::market::scope(at, d, &target, stage)?;
    Ok(Disruption {
        name,
        materials: ids,
        target,
        arrival,
        duration_months,
        severity,
        stage,
        scope,
        hits,
    })
}

fn list_ids(materials: &[Material]) -> String {
    list(materials.iter().map(|m| &m.id))
}
