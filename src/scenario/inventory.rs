//! The world's private inventories (`[[inventory]]`, docs/model.md,
//! "Private inventories"): stocks held by traders and users across the
//! market, which sell into it when the world price rises and buy back when
//! it is low. They belong to the world, not to a policy: every variant of a
//! comparison keeps them.

use super::build::{check, count, uncertain, At, FieldError};
use super::raw::RawInventory;
use super::uncertain::{show, Domain};
use super::{Inventory, Material};
use std::collections::BTreeSet;

/// Most `[[inventory]]` tables in a scenario.
pub(crate) const MAX_INVENTORIES: usize = 1000;

/// Largest inventory in days of the market's use: ten years.
const MAX_INVENTORY_DAYS: f64 = 3650.0;

/// Each `[[inventory]]` checked and given to its material, in file order.
pub(crate) fn inventories(
    raw: &[RawInventory],
    materials: &mut [Material],
    ids: &BTreeSet<String>,
) -> Result<(), FieldError> {
    count(
        &At::root("inventory"),
        raw.len(),
        MAX_INVENTORIES,
        "[[inventory]] tables",
    )?;
    for (i, v) in raw.iter().enumerate() {
        let at = At::root("inventory").index(i, Some(&v.material));
        let m = super::build::material_named(&at, &v.material, materials, ids)?;
        if !m.market.clears() {
            return at.key("material").err(format!(
                "{:?} has no demand_elasticity: an inventory answers the world price, \
                 and only a market that clears has one",
                m.id
            ));
        }
        let name = v
            .name
            .clone()
            .unwrap_or_else(|| format!("inventory-{}", m.inventories.len() + 1));
        if m.inventories.iter().any(|x| x.name == name) {
            return at.key("name").err(format!(
                "{name:?} is used twice: name each inventory of {:?} differently",
                m.id
            ));
        }
        let cap = m.market.max_price_multiple;
        let days = uncertain(&at.key("days"), &v.days, Domain::up_to(MAX_INVENTORY_DAYS))?;
        let refill_below = check(
            &at.key("refill_below"),
            (1.0..=cap).contains(&v.refill_below),
            v.refill_below,
            &format!(
                "a multiple of the base price from 1 to the cap ({})",
                show(cap)
            ),
        )?;
        // Drawn values stay in [refill_below, cap]: an inventory never
        // sells below the price it buys back at.
        let release_above = uncertain(
            &at.key("release_above"),
            &v.release_above,
            Domain::between(refill_below, cap),
        )
        .map_err(|mut e| {
            e.message.push_str(&format!(
                ": an inventory sells above a price from refill_below ({}) to the cap ({})",
                show(refill_below),
                show(cap)
            ));
            e
        })?;
        let max_release_share = v.max_release_share.unwrap_or(1.0);
        let max_release_share = check(
            &at.key("max_release_share"),
            max_release_share > 0.0 && max_release_share <= 1.0,
            max_release_share,
            "a share in (0, 1] of its size per month",
        )?;
        let max_buy_share = super::market::max_buy_share(&at, v.max_buy_share)?;
        m.inventories.push(Inventory {
            name,
            days,
            release_above,
            refill_below,
            max_release_share,
            max_buy_share,
        });
    }
    Ok(())
}
