//! From the raw file to the validated [`Scenario`]: every check, every default,
//! every name resolved to an index. Each error carries the path of the field.
//!
//! The parts: the field paths and their errors, and the checks every
//! builder uses (`field`); one file per kind of table: `material` (with its
//! sources), `stockpile`, `disruption`, `refinery` and `product`. This file
//! holds the limits and [`build`] itself, which calls them in the file's order.

mod disruption;
mod field;
mod material;
mod product;
mod refinery;
mod stockpile;

use disruption::disruption;
pub(crate) use field::{
    check, count, fraction, is_identifier, is_safe_name, list, month_in_horizon, uncertain, within,
    At,
};
pub use field::{FieldError, Segment};
use material::material;
use product::product;
use product::{MAX_EUR, MAX_RESPONSE_RATE};
use refinery::refinery;
use stockpile::stockpile;

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
        let m = material_named(&at, &s.material, &mut materials, &ids)?;
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
    super::inventory::inventories(&file.inventory, &mut materials, &ids)?;

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

    disruption::leaders(&file.disruption, &mut disruptions)?;

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

/// The material named `id` by the table at `at` (its `material` field),
/// or the error naming the materials there are.
pub(crate) fn material_named<'a>(
    at: &At,
    id: &str,
    materials: &'a mut [Material],
    ids: &BTreeSet<String>,
) -> Result<&'a mut Material, FieldError> {
    match materials.iter_mut().find(|m| m.id == id) {
        Some(m) => Ok(m),
        None => at.key("material").err(format!(
            "unknown material {id:?}; materials in this scenario: {}",
            list(ids.iter())
        )),
    }
}

fn list_ids(materials: &[Material]) -> String {
    list(materials.iter().map(|m| &m.id))
}
