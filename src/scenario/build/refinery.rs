//! A `[[refinery]]` table: its feeds and products checked against the materials.

use super::*;

pub(super) fn refinery(
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
