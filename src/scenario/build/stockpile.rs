//! A `[[stockpile]]` table: the target, the fill, the release and refill
//! rules, and the instruments' lead times.

use super::*;

pub(super) fn stockpile(
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
    let (release_rule, max_buy_share) = crate::scenario::market::release_rule(at, s)?;
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
