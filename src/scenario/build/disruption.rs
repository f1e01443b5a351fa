//! A `[[disruption]]` table: what it hits (materials, a region, a route or
//! a refinery), when it arrives, how long it lasts and how severe it is.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn disruption(
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
            let horizon_months = steps as i64 * i64::from(step.months());
            let months = month_in_horizon(&at.key("start"), start, start_year, horizon_months)?;
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
    let scope = crate::scenario::market::scope(at, d, &target, stage)?;
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
        leader: None,
    })
}

/// Resolves each `same_events_as` of `raw` (in file order, as `built`) to
/// its leader: another disruption, itself following none, with the same
/// arrivals and lengths as written, so that following it changes which
/// events come together, never how often or how long each one's are.
pub(super) fn leaders(raw: &[RawDisruption], built: &mut [Disruption]) -> Result<(), FieldError> {
    for i in 0..built.len() {
        let Some(name) = &raw[i].same_events_as else {
            continue;
        };
        let at = At::root("disruption")
            .index(i, Some(&built[i].name))
            .key("same_events_as");
        let Some(l) = built.iter().position(|d| d.name == *name) else {
            let names: Vec<&String> = built.iter().map(|d| &d.name).collect();
            return at.err(format!(
                "no disruption is named {name:?}; disruptions: {}",
                list(names.into_iter())
            ));
        };
        if l == i {
            return at.err("a disruption cannot follow itself");
        }
        if raw[l].same_events_as.is_some() {
            return at.err(format!(
                "{name:?} follows another disruption itself: name the one it follows"
            ));
        }
        let (me, lead) = (&built[i], &built[l]);
        let same_arrival = match (&me.arrival, &lead.arrival) {
            (Arrival::Poisson(a), Arrival::Poisson(b)) => a.spec() == b.spec(),
            (Arrival::Scheduled { step: a, .. }, Arrival::Scheduled { step: b, .. }) => a == b,
            _ => false,
        };
        if !same_arrival || me.duration_months.spec() != lead.duration_months.spec() {
            return at.err(format!(
                "its rate_per_year (or start) and duration_months must be those of {name:?}, \
                 so that only which events come together changes"
            ));
        }
        built[i].leader = Some(l);
    }
    Ok(())
}
