//! Fitting the rows: the Poisson rate of each (region, kind) pair with its
//! Jeffreys posterior, and the distributions of durations and severities.

use super::*;

impl Catalogue {
    /// Fits every (region, kind) pair of the rows that match `filter`, the
    /// severities as sourced (no shares of world production).
    ///
    /// # Errors
    /// As [`Catalogue::fit_with`].
    pub fn fit(&self, filter: &Filter) -> Result<Fit, CatalogueError> {
        self.fit_with(filter, &WorldShares::default())
    }

    /// Fits every (region, kind) pair of the rows that match `filter`;
    /// with a material, its `world_supply` severities are divided by the
    /// region's share of world production in `shares` before each event,
    /// when there is one ([`Event::severity_of_flows`]).
    ///
    /// # Errors
    /// [`CatalogueError::Until`] if `filter.until` is before
    /// [`EXPOSURE_START`]; [`CatalogueError::NoMatch`] if a material or
    /// region is given and no row matches it.
    pub fn fit_with(&self, filter: &Filter, shares: &WorldShares) -> Result<Fit, CatalogueError> {
        let until = filter
            .until
            .or_else(|| self.newest())
            .unwrap_or(EXPOSURE_START);
        if until < EXPOSURE_START {
            return Err(CatalogueError::Until { until });
        }
        let years = f64::from(EXPOSURE_START.months_through(until)) / 12.0;
        let matches = |r: &Row| {
            filter
                .material
                .as_deref()
                .is_none_or(|m| r.materials.includes(m))
                && filter
                    .region
                    .as_deref()
                    .is_none_or(|g| r.region.eq_ignore_ascii_case(g))
        };
        let matching: Vec<&Row> = self.rows.iter().filter(|r| matches(r)).collect();
        // A material no row names is a typo, even though the rows of every
        // material (`all`) match it.
        let named = |m: &str| {
            self.rows
                .iter()
                .any(|r| matches!(&r.materials, Materials::List(ids) if ids.iter().any(|i| i == m)))
        };
        if filter.material.as_deref().is_some_and(|m| !named(m))
            || matching.is_empty() && (filter.material.is_some() || filter.region.is_some())
        {
            return Err(self.no_match(filter));
        }

        let mut excluded = Vec::new();
        let mut kept: Vec<&Row> = Vec::new();
        for r in matching {
            let why = if r.physical == Physical::No {
                Some(Exclusion::NotPhysical)
            } else if r.start < EXPOSURE_START {
                Some(Exclusion::BeforeExposure)
            } else if r.start > until {
                Some(Exclusion::AfterUntil)
            } else {
                None
            };
            match why {
                Some(e) => excluded.push((r.id.clone(), e)),
                None => kept.push(r),
            }
        }

        // A row merges into the row it names when that row is kept too.
        let kept_ids: BTreeSet<&str> = kept.iter().map(|r| r.id.as_str()).collect();
        let primary = |r: &Row| -> Option<String> {
            r.same_event_as
                .clone()
                .filter(|p| kept_ids.contains(p.as_str()))
        };
        let mut groups: BTreeMap<(String, Kind), Vec<(Event, Materials)>> = BTreeMap::new();
        for r in kept.iter().filter(|r| primary(r).is_none()) {
            let members: Vec<&&Row> = kept
                .iter()
                .filter(|m| primary(m).as_deref() == Some(r.id.as_str()))
                .collect();
            let (months, censored_at) = duration(r, until);
            let severity = r
                .severity
                .or_else(|| members.iter().find_map(|m| m.severity));
            let world_share = severity
                .filter(|s| s.basis == Basis::WorldSupply)
                .and(filter.material.as_deref())
                .and_then(|m| shares.before(m, &r.region, r.start.year()))
                .cloned();
            let event = Event {
                ids: std::iter::once(&r.id)
                    .chain(members.iter().map(|m| &m.id))
                    .cloned()
                    .collect(),
                start: r.start,
                months,
                censored_at,
                severity,
                some_markets: r.physical == Physical::SomeMarkets
                    || members.iter().any(|m| m.physical == Physical::SomeMarkets),
                world_share,
            };
            let materials = members
                .iter()
                .fold(r.materials.clone(), |acc, m| acc.union(&m.materials));
            groups
                .entry((r.region.clone(), r.kind))
                .or_default()
                .push((event, materials));
        }

        let pairs = groups
            .into_iter()
            .map(|((region, kind), mut events)| {
                events.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(a.0.ids.cmp(&b.0.ids)));
                let materials = match &filter.material {
                    Some(m) => Materials::List(vec![m.clone()]),
                    None => events
                        .iter()
                        .skip(1)
                        .fold(events[0].1.clone(), |acc, (_, m)| acc.union(m)),
                };
                let events: Vec<Event> = events.into_iter().map(|(e, _)| e).collect();
                PairFit {
                    region,
                    kind,
                    materials,
                    rate: rate(events.len(), years),
                    duration: fit_duration(&events),
                    severity: fit_severity(&events),
                    events,
                }
            })
            .collect();
        Ok(Fit {
            file: self.file.clone(),
            shares_file: shares.file().map(Path::to_path_buf),
            filter: filter.clone(),
            exposure_start: EXPOSURE_START,
            until,
            years,
            excluded,
            pairs,
        })
    }

    fn no_match(&self, filter: &Filter) -> CatalogueError {
        let mut options = Vec::new();
        if let Some(m) = &filter.material {
            options.push(format!("--material {m}"));
        }
        if let Some(r) = &filter.region {
            options.push(format!("--region {r}"));
        }
        let materials: BTreeSet<&str> = self
            .rows
            .iter()
            .flat_map(|r| match &r.materials {
                Materials::All => vec![],
                Materials::List(ids) => ids.iter().map(String::as_str).collect(),
            })
            .collect();
        let regions: BTreeSet<&str> = self.rows.iter().map(|r| r.region.as_str()).collect();
        let join = |s: BTreeSet<&str>| s.into_iter().collect::<Vec<_>>().join(", ");
        CatalogueError::NoMatch {
            file: self.file.clone(),
            filter: options.join(" "),
            known: format!(
                "materials in the catalogue: {}; regions and routes: {}",
                join(materials),
                join(regions)
            ),
        }
    }
}

/// Months in force up to the end of exposure, and the censoring month when
/// the event was still in force at its latest source or after `until`.
fn duration(r: &Row, until: Month) -> (u32, Option<Month>) {
    let (last, censored) = match r.end {
        End::Ended(end) if end <= until => (end, None),
        End::Ended(_) => (until, Some(until)),
        End::Ongoing { as_of } => {
            let at = as_of.min(until);
            (at, Some(at))
        }
    };
    (r.start.months_through(last), censored)
}

/// The Jeffreys posterior of a Poisson rate after `events` in `years`.
pub(super) fn rate(events: usize, years: f64) -> RateFit {
    RateFit {
        events,
        years,
        shape: events as f64 + 0.5,
        scale: 1.0 / years,
    }
}

/// Mean and sample standard deviation (n - 1); `xs` has at least two values.
fn moments(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let ss = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
    (mean, (ss / (n - 1.0)).sqrt())
}

fn fit_duration(events: &[Event]) -> DurationFit {
    let censored = events.iter().filter(|e| e.censored_at.is_some()).count();
    if let [e] = events {
        return DurationFit::Single {
            months: e.months,
            censored: censored == 1,
        };
    }
    let months: Vec<f64> = events.iter().map(|e| f64::from(e.months)).collect();
    let (mean, sd) = moments(&months);
    DurationFit::Lognormal {
        n: events.len(),
        censored,
        mean,
        sd,
    }
}

fn fit_severity(events: &[Event]) -> SeverityFit {
    let values: Vec<f64> = events.iter().filter_map(Event::severity_of_flows).collect();
    let n = values.len();
    if n == 0 {
        return SeverityFit::Missing;
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if n >= MIN_SEVERITIES_FOR_BETA {
        let (mean, sd) = moments(&values);
        let var = sd * sd;
        // Moments fit a beta only when 0 < var < mean (1 - mean).
        if var > 0.0 && var < mean * (1.0 - mean) {
            let k = mean * (1.0 - mean) / var - 1.0;
            return SeverityFit::Beta {
                n,
                mean,
                sd,
                alpha: mean * k,
                beta: (1.0 - mean) * k,
            };
        }
    }
    SeverityFit::Range { n, min, max }
}
