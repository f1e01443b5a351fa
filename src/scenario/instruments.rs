//! The stockpile agencies' instruments beyond a stock's size and release
//! rule (docs/stockpiles.md): lead times, a build-up from a given year, and
//! options (virtual stockpiles). Each is checked here, with the file's line
//! and field in its error.

use super::build::{check, within, At, FieldError, MAX_EUR_PER_T, MAX_PRICE_MULTIPLE, MAX_TONNES};
use super::raw::RawOption;
use super::uncertain::Domain;
use super::{Material, SupplyOption};
use std::collections::BTreeSet;

/// What a scenario's horizon allows: lead times shorter than it, years
/// within it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Horizon {
    pub(crate) start_year: i32,
    pub(crate) years: u32,
}

impl Horizon {
    fn months(self) -> f64 {
        f64::from(self.years) * 12.0
    }

    fn last_year(self) -> i32 {
        self.start_year + self.years as i32 - 1
    }
}

/// A lead time in months: at least 0, and shorter than the horizon (a lead
/// past it would never let the instrument act).
pub(crate) fn lead_months(at: &At, months: Option<f64>, horizon: Horizon) -> Result<f64, FieldError> {
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
pub(crate) fn build_start(at: &At, year: Option<i64>, horizon: Horizon) -> Result<Option<i32>, FieldError> {
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
    for (i, o) in raw.iter().enumerate() {
        let at = At::root("option").index(i, Some(&o.material));
        let Some(m) = materials.iter_mut().find(|m| m.id == o.material) else {
            return at.key("material").err(format!(
                "unknown material {:?}; materials in this scenario: {}",
                o.material,
                super::build::list(ids.iter())
            ));
        };
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
            check(&at.key("volume_tpy"), o.volume_tpy > 0.0, o.volume_tpy, "tonnes a year > 0")?,
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
