//! The stockpile agencies' instruments beyond a stock's size and release
//! rule (docs/stockpiles.md): lead times, a build-up from a given year, and
//! options (virtual stockpiles). Each is checked here, with the file's line
//! and field in its error.

use super::build::{
    check, count, month_in_horizon, uncertain, within, At, FieldError, MAX_EUR_PER_T,
    MAX_PRICE_MULTIPLE, MAX_TONNES, SHARE_TOLERANCE,
};
use super::raw::{RawOption, RawTier};
use super::uncertain::{show, show_sum, Domain};
use super::{DemandShock, Material, SupplyOption, Tier};
use std::collections::BTreeSet;

/// What a scenario's horizon allows: lead times shorter than it, years
/// within it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Horizon {
    pub(crate) start_year: i32,
    pub(crate) years: u32,
    pub(crate) step_months: u32,
}

impl Horizon {
    fn months(self) -> f64 {
        f64::from(self.years) * 12.0
    }

    fn last_year(self) -> i32 {
        self.start_year + self.years as i32 - 1
    }
}

/// Largest multiple of a tier's demand in a shock.
const MAX_SHOCK_MULTIPLE: f64 = 100.0;

/// Most demand tiers of one material: priority groups, not users.
pub(crate) const MAX_TIERS: usize = 20;

/// Most `[[option]]` tables in a scenario.
pub(crate) const MAX_OPTIONS: usize = 1000;

/// The `[[material.tier]]` tables of material `mat` (`at` is the
/// material's place), by priority: shares that sum to 1, one tier a
/// priority, names unique, values of lost load that price only rationed
/// tonnes when the market clears, shocks within the horizon.
pub(crate) fn tiers(
    at: &At,
    raw: &[RawTier],
    mat: &Material,
    horizon: Horizon,
) -> Result<Vec<Tier>, FieldError> {
    count(
        &at.key("tier"),
        raw.len(),
        MAX_TIERS,
        "tiers of one material",
    )?;
    let mut tiers: Vec<Tier> = Vec::with_capacity(raw.len());
    let mut total = 0.0;
    for (i, t) in raw.iter().enumerate() {
        let at = at.key("tier").index(i, Some(&t.name));
        if t.name.is_empty() {
            return at.key("name").err("must not be empty");
        }
        if tiers.iter().any(|x| x.name == t.name) {
            return at.key("name").err(format!(
                "{:?} is used twice: name each tier of {:?} differently",
                t.name, mat.id
            ));
        }
        let share = check(
            &at.key("share"),
            t.share > 0.0 && t.share <= 1.0,
            t.share,
            "a share of the material's demand in (0, 1]",
        )?;
        total += share;
        if t.priority < 1 {
            return at.key("priority").err(format!(
                "must be a whole number >= 1, 1 served first (got {})",
                t.priority
            ));
        }
        if let Some(other) = tiers.iter().find(|x| x.priority == t.priority) {
            return at.key("priority").err(format!(
                "{} is also the priority of tier {:?}: give each tier its own",
                t.priority, other.name
            ));
        }
        let voll = match t.value_of_lost_load_eur_per_t {
            Some(v) => within(
                &at.key("value_of_lost_load_eur_per_t"),
                v,
                Domain::up_to(MAX_EUR_PER_T),
            )?,
            None => mat.value_of_lost_load,
        };
        if mat.market.clears() {
            super::market::voll_above_cap(
                &at.key("value_of_lost_load_eur_per_t"),
                voll,
                mat.market.max_price_multiple * mat.price,
            )?;
        }
        let shock = match &t.demand_shock {
            None => None,
            Some(s) => {
                let at = at.key("demand_shock");
                let multiplier = uncertain(
                    &at.key("multiplier"),
                    &s.multiplier,
                    Domain::up_to(MAX_SHOCK_MULTIPLE),
                )?;
                let duration_months = uncertain(
                    &at.key("duration_months"),
                    &s.duration_months,
                    Domain::up_to(horizon.months()),
                )?;
                let months = month_in_horizon(
                    &at.key("start"),
                    &s.start,
                    i64::from(horizon.start_year),
                    horizon.months() as i64,
                )?;
                Some(DemandShock {
                    multiplier,
                    start_step: (months / i64::from(horizon.step_months)) as usize,
                    duration_months,
                })
            }
        };
        tiers.push(Tier {
            name: t.name.clone(),
            share,
            priority: t.priority,
            value_of_lost_load: voll,
            shock,
        });
    }
    if !raw.is_empty() && (total - 1.0).abs() > SHARE_TOLERANCE {
        return at.key("tier").err(format!(
            "the shares of the tiers must sum to 1 (got {}: {})",
            show_sum(total),
            raw.iter()
                .map(|t| format!("{} {}", t.name, show(t.share)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for t in &mut tiers {
        t.share /= total;
    }
    tiers.sort_by_key(|t| t.priority);
    Ok(tiers)
}

/// A lead time in months: at least 0, and shorter than the horizon (a lead
/// past it would never let the instrument act).
pub(crate) fn lead_months(
    at: &At,
    months: Option<f64>,
    horizon: Horizon,
) -> Result<f64, FieldError> {
    let Some(x) = months else { return Ok(0.0) };
    let h = horizon.months();
    check(
        at,
        x >= 0.0 && x < h,
        x,
        &format!("a number of months from 0 to less than the horizon's {h}"),
    )
}

/// The year a stock's build-up starts: within the horizon.
pub(crate) fn build_start(
    at: &At,
    year: Option<i64>,
    horizon: Horizon,
) -> Result<Option<i32>, FieldError> {
    let Some(y) = year else { return Ok(None) };
    let (first, last) = (horizon.start_year, horizon.last_year());
    if !(i64::from(first)..=i64::from(last)).contains(&y) {
        return at.err(format!(
            "{y} is outside the horizon: a year from {first} to {last}"
        ));
    }
    Ok(Some(y as i32))
}

/// Each `[[option]]` checked and given to its material, in file order.
pub(crate) fn options(
    raw: &[RawOption],
    materials: &mut [Material],
    ids: &BTreeSet<String>,
    horizon: Horizon,
) -> Result<(), FieldError> {
    count(
        &At::root("option"),
        raw.len(),
        MAX_OPTIONS,
        "[[option]] tables",
    )?;
    for (i, o) in raw.iter().enumerate() {
        let at = At::root("option").index(i, Some(&o.material));
        let m = super::build::material_named(&at, &o.material, materials, ids)?;
        let name = o
            .name
            .clone()
            .unwrap_or_else(|| format!("option-{}", m.options.len() + 1));
        if m.options.iter().any(|x| x.name == name) {
            return at.key("name").err(format!(
                "{name:?} is used twice: name each option of {:?} differently",
                m.id
            ));
        }
        let volume_tpy = within(
            &at.key("volume_tpy"),
            check(
                &at.key("volume_tpy"),
                o.volume_tpy > 0.0,
                o.volume_tpy,
                "tonnes a year > 0",
            )?,
            Domain::up_to(MAX_TONNES),
        )?;
        let fee_eur_per_t_year = within(
            &at.key("fee_eur_per_t_year"),
            o.fee_eur_per_t_year,
            Domain::up_to(MAX_EUR_PER_T),
        )?;
        let strike_multiple = within(
            &at.key("strike_multiple"),
            o.strike_multiple,
            Domain::up_to(MAX_PRICE_MULTIPLE),
        )?;
        let lead_months = lead_months(&at.key("lead_months"), o.lead_months, horizon)?;
        m.options.push(SupplyOption {
            name,
            volume_tpy,
            fee_eur_per_t_year,
            strike_multiple,
            lead_months,
        });
    }
    Ok(())
}
