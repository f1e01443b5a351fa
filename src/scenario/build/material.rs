//! A `[[material]]` table: demand, growth, price, its sources and the
//! market's fields.

use super::*;

pub(super) fn material(at: &At, m: &RawMaterial) -> Result<Material, FieldError> {
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
    let market = crate::scenario::market::market(at, m, price, voll, &sources)?;
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
        inventories: Vec::new(),
        tiers: Vec::new(),
        response_trigger: fraction(
            &at.key("response_trigger"),
            m.response_trigger.unwrap_or(0.0),
        )?,
        substitution,
        new_capacity,
    })
}
