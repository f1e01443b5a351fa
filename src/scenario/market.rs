//! The checks of the market's fields (docs/model.md, "The market"): the
//! elasticities, the region's market share, the market's origins, the cap
//! and the value of lost load on `[[material]]`; the release rule and the
//! purchase limit on `[[stockpile]]`; the scope of a `[[disruption]]`.

use super::build::{check, uncertain, within, At, FieldError, MAX_PRICE_MULTIPLE, SHARE_TOLERANCE};
use super::raw::{RawDisruption, RawMaterial, RawStockpile};
use super::uncertain::{show, show_sum, Domain, Uncertain};
use super::{Market, ReleaseRule, Scope, Source, Stage, Stockpile, Target};

/// Largest |elasticity| accepted, of demand or of supply.
pub const MAX_ELASTICITY: f64 = 10.0;
/// Smallest |demand elasticity| a draw is clamped to: a demand that does
/// not answer the price at all has no price that clears it.
pub const MIN_DEMAND_ELASTICITY: f64 = 1e-3;
/// Smallest market share a draw is clamped to.
pub const MIN_MARKET_SHARE: f64 = 1e-6;

/// The market of material `m` (base price `price`, value of lost load
/// `voll`, import sources `sources` as validated).
/// A value of lost load `voll` (at `at`) prices only the tonnes rationed at
/// the price cap `cap` (EUR/t) when the market clears: it must be above it.
pub(super) fn voll_above_cap(at: &At, voll: f64, cap: f64) -> Result<(), FieldError> {
    if voll <= cap {
        return at.err(format!(
            "must be above the capped price, max_price_multiple x price_eur_per_t = {} EUR/t \
             (got {}): it prices only the tonnes rationed at the cap",
            show(cap),
            show(voll)
        ));
    }
    Ok(())
}

pub(super) fn market(
    at: &At,
    m: &RawMaterial,
    price: f64,
    voll: f64,
    sources: &[Source],
) -> Result<Market, FieldError> {
    if m.price_elasticity.is_some() {
        return at.key("price_elasticity").err(
            "was renamed demand_elasticity (a short-run price elasticity of demand < 0, \
             e.g. -0.3); see docs/model.md, \"The market\"",
        );
    }
    let demand_elasticity = match &m.demand_elasticity {
        Some(raw) => {
            let at = at.key("demand_elasticity");
            let u = uncertain(
                &at,
                raw,
                Domain::between(-MAX_ELASTICITY, -MIN_DEMAND_ELASTICITY),
            )
            .map_err(|e| negative_message(e, &at))?;
            Some(u)
        }
        None => None,
    };
    let supply_elasticity = match &m.supply_elasticity {
        Some(raw) => uncertain(
            &at.key("supply_elasticity"),
            raw,
            Domain::up_to(MAX_ELASTICITY),
        )?,
        None => Uncertain::fixed(0.0, Domain::up_to(MAX_ELASTICITY)),
    };
    let share_domain = Domain::between(MIN_MARKET_SHARE, 1.0);
    let market_share = match &m.market_share {
        Some(raw) => {
            let at = at.key("market_share");
            uncertain(&at, raw, share_domain).map_err(|e| FieldError {
                message: if e.message.starts_with("must be >=") {
                    "must be a share in (0, 1]: the region's use over the use of the market it \
                     buys in"
                        .to_string()
                } else {
                    e.message
                },
                ..e
            })?
        }
        None => Uncertain::fixed(1.0, share_domain),
    };
    let max_price_multiple = match m.max_price_multiple {
        Some(x) => within(
            &at.key("max_price_multiple"),
            x,
            Domain::between(1.0, MAX_PRICE_MULTIPLE),
        )?,
        None => 10.0,
    };
    if demand_elasticity.is_some() {
        voll_above_cap(
            &at.key("value_of_lost_load_eur_per_t"),
            voll,
            max_price_multiple * price,
        )?;
    }
    let mut market_sources = Vec::new();
    if let Some(list) = &m.market_sources {
        let at = at.key("market_sources");
        let mut total = 0.0;
        let mut seen: Vec<&str> = Vec::new();
        for (i, o) in list.iter().enumerate() {
            let at = at.index(i, Some(&o.region));
            let share = check(
                &at.key("share"),
                (0.0..=1.0).contains(&o.share),
                o.share,
                "a share in [0, 1]",
            )?;
            if seen.contains(&o.region.as_str()) {
                return at
                    .key("region")
                    .err(format!("{:?} is listed twice", o.region));
            }
            seen.push(&o.region);
            // A region listed twice among the sources (one origin through
            // two ports) takes the origin's share in proportion to its flows.
            let flows: Vec<usize> = (0..sources.len())
                .filter(|&k| sources[k].region == o.region)
                .collect();
            if flows.is_empty() {
                let regions: Vec<String> =
                    sources.iter().map(|s| format!("{:?}", s.region)).collect();
                return at.key("region").err(format!(
                    "{:?} is not among the material's sources ({}); an origin of the market \
                     must be one of them, so that the same events hit it (a source may have \
                     share 0)",
                    o.region,
                    regions.join(", ")
                ));
            }
            let of_region: f64 = flows.iter().map(|&k| sources[k].share).sum();
            for &k in &flows {
                let weight = if of_region > 0.0 {
                    sources[k].share / of_region
                } else {
                    1.0 / flows.len() as f64
                };
                market_sources.push((k, share * weight));
            }
            total += share;
        }
        if total > 1.0 + SHARE_TOLERANCE {
            return at.err(format!(
                "the shares must sum to at most 1 (got {}); the rest of the market is not \
                 hit by any event",
                show_sum(total)
            ));
        }
    }
    Ok(Market {
        demand_elasticity,
        supply_elasticity,
        market_share,
        sources: market_sources,
        max_price_multiple,
    })
}

/// A demand elasticity's domain error, in the words of the field.
fn negative_message(e: FieldError, at: &At) -> FieldError {
    let fixed_not_negative = e.path == at.0 && e.message.starts_with("must be at most");
    let too_elastic = e.path == at.0 && e.message.starts_with("must be >=");
    FieldError {
        message: if fixed_not_negative {
            format!(
                "must be < 0, at most -{MIN_DEMAND_ELASTICITY} (the short-run price \
                 elasticity of demand, e.g. -0.3; leave it out for a constant price){}",
                e.message
                    .find("(got")
                    .map_or(String::new(), |i| format!(" {}", &e.message[i..]))
            )
        } else if too_elastic {
            format!(
                "must be >= -{MAX_ELASTICITY} {}",
                &e.message[e.message.find("(got").unwrap_or(0)..]
            )
        } else {
            e.message
        },
        ..e
    }
}

/// The release rule and purchase limit of stockpile `s`.
pub(super) fn release_rule(at: &At, s: &RawStockpile) -> Result<(ReleaseRule, f64), FieldError> {
    let rule = match (s.release_rule.as_deref(), s.price_ceiling) {
        (None | Some("gap"), None) => ReleaseRule::Gap,
        (None | Some("gap"), Some(_)) => {
            return at
                .key("price_ceiling")
                .err("applies only to release_rule = \"price\"")
        }
        (Some("price"), Some(c)) => ReleaseRule::Price {
            ceiling: check(
                &at.key("price_ceiling"),
                (1.0..=MAX_PRICE_MULTIPLE).contains(&c),
                c,
                "a multiple of the base price >= 1 (and at most the material's \
                 max_price_multiple)",
            )?,
        },
        (Some("price"), None) => {
            return at.key("price_ceiling").err(
                "release_rule = \"price\" needs price_ceiling: the multiple of the base price \
                 the releases bring the world price down to, e.g. 1.5",
            )
        }
        (Some(other), _) => {
            return at.key("release_rule").err(format!(
                "unknown rule {other:?}: use \"gap\" (release to the region's users when \
                 they are short) or \"price\" (also sell into the market above price_ceiling)"
            ))
        }
    };
    Ok((rule, max_buy_share(at, s.max_buy_share)?))
}

/// `max_buy_share` of the table at `at` (a stockpile's or an inventory's):
/// purchases a step at most this share of the market's demand, 0.05 unless
/// given.
pub(crate) fn max_buy_share(at: &At, x: Option<f64>) -> Result<f64, FieldError> {
    match x {
        Some(x) => check(
            &at.key("max_buy_share"),
            x > 0.0 && x <= 1.0,
            x,
            "a share in (0, 1] of the market's demand per step",
        ),
        None => Ok(0.05),
    }
}

/// Checks stockpile `s` (at `at`) against its material's market.
pub(super) fn check_stockpile(at: &At, s: &Stockpile, market: &Market) -> Result<(), FieldError> {
    if let ReleaseRule::Price { ceiling } = s.release_rule {
        if !market.clears() {
            return at.key("release_rule").err(
                "\"price\" needs a market that clears: give the material a demand_elasticity",
            );
        }
        if ceiling > market.max_price_multiple {
            return at.key("price_ceiling").err(format!(
                "must be at most the material's max_price_multiple, {} (got {})",
                show(market.max_price_multiple),
                show(ceiling)
            ));
        }
    }
    Ok(())
}

/// The scope of disruption `d`, aimed at `target` and `stage`.
pub(super) fn scope(
    at: &At,
    d: &RawDisruption,
    target: &Target,
    stage: Stage,
) -> Result<Scope, FieldError> {
    let scope = match d.scope.as_deref() {
        None => {
            return Ok(match target {
                Target::Region(_) => Scope::World,
                Target::Route(_) => Scope::Region,
            })
        }
        Some("world") => Scope::World,
        Some("region") => Scope::Region,
        Some(other) => {
            return at.key("scope").err(format!(
                "unknown scope {other:?}: use \"world\" (the exporter supplies less to every \
                 buyer) or \"region\" (only the region's shipments are hit)"
            ))
        }
    };
    if stage == Stage::Feed {
        return at.key("scope").err(
            "does not apply to stage = \"feed\": a feed event cuts a domestic refinery's \
             feed, not the market's supply; leave scope out",
        );
    }
    Ok(scope)
}
