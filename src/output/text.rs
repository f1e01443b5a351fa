//! Plain-text renderings: what `validate` understood of a scenario, and the
//! short results table `run` prints.

use crate::report::{num, Report};
use crate::scenario::uncertain::{DistSpec, RawUncertain, Uncertain};
use crate::scenario::InflowTiming;
use crate::scenario::{Arrival, Scenario, Stage, StockTarget, TargetBasis};
use crate::vocab::Metric;
use std::fmt::Write;

/// An uncertain number as the analyst wrote it.
pub fn uncertain(u: &Uncertain) -> String {
    match u.spec() {
        RawUncertain::Fixed(x) => num(*x),
        RawUncertain::Dist(d) => match *d {
            DistSpec::Normal { mean, sd } => format!("normal(mean {}, sd {})", num(mean), num(sd)),
            DistSpec::Lognormal { mean, sd } => {
                format!("lognormal(mean {}, sd {})", num(mean), num(sd))
            }
            DistSpec::Uniform { min, max } => format!("uniform({} to {})", num(min), num(max)),
            DistSpec::Triangular { min, mode, max } => {
                format!("triangular({}, mode {}, {})", num(min), num(mode), num(max))
            }
            DistSpec::Pert { min, mode, max } => {
                format!("pert({}, mode {}, {})", num(min), num(mode), num(max))
            }
            DistSpec::Beta { alpha, beta } => format!("beta({}, {})", num(alpha), num(beta)),
            DistSpec::Gamma { shape, scale } => {
                format!("gamma(shape {}, scale {})", num(shape), num(scale))
            }
            DistSpec::Exponential { mean } => format!("exponential(mean {})", num(mean)),
            DistSpec::Weibull { shape, scale } => {
                format!("weibull(shape {}, scale {})", num(shape), num(scale))
            }
        },
    }
}

/// What was understood of a scenario, defaults included.
pub fn describe(s: &Scenario) -> String {
    let mut o = String::new();
    let last_year = s.start_year + s.years as i32 - 1;
    let _ = writeln!(
        o,
        "scenario {}: {}-{} ({} years), {} steps of one {}, {} runs, seed {}{}",
        s.name,
        s.start_year,
        last_year,
        s.years,
        s.steps(),
        s.step.name(),
        s.runs,
        s.seed,
        s.region
            .as_ref()
            .map(|r| format!(", region {r}"))
            .unwrap_or_default()
    );
    let _ = writeln!(o, "\nmaterials ({}):", s.materials.len());
    for m in &s.materials {
        let _ = writeln!(
            o,
            "  {}: demand {} t/yr, growth {}/yr, price {} EUR/t{}, lost load {} EUR/t",
            m.id,
            uncertain(&m.demand_tpy),
            uncertain(&m.demand_growth),
            num(m.price),
            match &m.market.demand_elasticity {
                Some(e) => format!(
                    " (demand elasticity {}, supply elasticity {}, market share {}, cap x{})",
                    uncertain(e),
                    uncertain(&m.market.supply_elasticity),
                    uncertain(&m.market.market_share),
                    num(m.market.max_price_multiple)
                ),
                None => " (constant: no demand_elasticity)".into(),
            },
            num(m.value_of_lost_load)
        );
        for src in &m.sources {
            let mut line = format!("    source {} share {}", src.region, num(src.share));
            if !src.routes.is_empty() {
                let _ = write!(line, " via {}", src.routes.join(", "));
            }
            if src.reexport_share > 0.0 {
                let _ = write!(
                    line,
                    ", re-exports {} of its gross flow",
                    num(src.reexport_share)
                );
            }
            if src.spare_capacity.is_random() || src.spare_capacity.fixed_value() != Some(0.0) {
                let _ = write!(
                    line,
                    ", spare capacity {} over {} months",
                    uncertain(&src.spare_capacity),
                    num(src.ramp_months)
                );
            }
            let _ = writeln!(o, "{line}");
        }
        if (m.substitution.is_some() || m.new_capacity.is_some()) && m.response_trigger > 0.0 {
            let _ = writeln!(
                o,
                "    market responses start when more than {} of imports are cut",
                num(m.response_trigger)
            );
        }
        if let Some(sub) = &m.substitution {
            let _ = writeln!(
                o,
                "    substitution: up to {} of demand at {}/yr, {} months after imports are first disrupted",
                uncertain(&sub.max_fraction),
                uncertain(&sub.per_year),
                num(sub.lag_months)
            );
        }
        if let Some(nc) = &m.new_capacity {
            let _ = writeln!(
                o,
                "    new capacity: {} of the import market per year, up to {}, {} years after imports are first disrupted",
                uncertain(&nc.share_per_year),
                num(nc.max_share),
                uncertain(&nc.lead_time_years)
            );
        }
    }
    let _ = writeln!(o, "\ndisruptions ({}):", s.disruptions.len());
    for d in &s.disruptions {
        let names: Vec<&str> = d
            .materials
            .iter()
            .map(|&i| s.materials[i].id.as_str())
            .collect();
        let when = match &d.arrival {
            Arrival::Poisson(rate) => format!("{} events/yr", uncertain(rate)),
            Arrival::Scheduled { month, step } => format!("scheduled {month} (step {step})"),
        };
        let when = match d.leader {
            Some(l) => format!("the events of {} ({when})", s.disruptions[l].name),
            None => when,
        };
        let stage = match d.stage {
            Stage::Both => "",
            Stage::Import => " (imports only)",
            Stage::Feed => " (refinery feed only)",
        };
        let _ = writeln!(
            o,
            "  {}: {}{stage} of [{}], {}, duration {} months, severity {}; hits {} flow(s)",
            d.name,
            d.target,
            names.join(", "),
            when,
            uncertain(&d.duration_months),
            uncertain(&d.severity),
            d.hits.len()
        );
    }
    let _ = writeln!(o, "\nrefineries ({}):", s.refineries.len());
    for r in &s.refineries {
        let feed = if r.feed.is_empty() {
            "feed not at risk".to_string()
        } else {
            let parts: Vec<String> = r
                .feed
                .iter()
                .map(|f| {
                    let via = if f.routes.is_empty() {
                        String::new()
                    } else {
                        format!(" via {}", f.routes.join(", "))
                    };
                    format!("{} {}{via}", f.region, num(f.share))
                })
                .collect();
            format!("feed {}", parts.join("; "))
        };
        let _ = writeln!(
            o,
            "  {}: {} t/yr of {} from {}, ramp {} years, utilization {}, {feed}, capex {} EUR, opex {} EUR/t",
            r.name,
            num(r.capacity_tpy),
            s.materials[r.material].id,
            r.online_year,
            num(r.ramp_years),
            uncertain(&r.utilization),
            num(r.capex_eur),
            num(r.opex_eur_per_t)
        );
    }
    let _ = writeln!(o, "\nproducts ({}):", s.products.len());
    for p in &s.products {
        let inflow: Vec<String> = p
            .inflow
            .iter()
            .map(|(y, v)| format!("{y}: {}", num(*v)))
            .collect();
        let life: Vec<String> = p
            .lifetime
            .params()
            .iter()
            .map(|(n, u)| format!("{n} {}", uncertain(u)))
            .collect();
        let _ = writeln!(
            o,
            "  {}: installations {} {}/yr (linear between years, flat after), lifetime {}({}), \
             inflow at the {} of each step, collection {}, recycling from {}{}",
            p.id,
            inflow.join(", "),
            p.unit,
            p.lifetime.model(),
            life.join(", "),
            match p.timing {
                InflowTiming::Start => "start",
                InflowTiming::Middle => "middle",
                InflowTiming::End => "end",
            },
            uncertain(&p.collection_rate),
            p.recycling_from_year,
            if p.adds_demand {
                ", installations add demand"
            } else {
                ""
            }
        );
        for c in &p.contents {
            let _ = writeln!(
                o,
                "    {}: {} t/{} in {} (trend {}/yr), recovery {}",
                s.materials[c.material].id,
                num(c.t_per_unit),
                p.unit,
                p.content_year,
                num(p.content_trend),
                uncertain(&c.recovery)
            );
        }
    }
    let stocks: Vec<_> = s
        .materials
        .iter()
        .flat_map(|m| m.stockpiles.iter().map(move |sp| (m, sp)))
        .collect();
    let _ = writeln!(o, "\nstockpiles ({}):", stocks.len());
    for (m, sp) in stocks {
        let days = |x: StockTarget, what: &str| match x {
            StockTarget::Days(d) if sp.target_basis == TargetBasis::NetImports => {
                format!("{} days of net imports{what}", num(d))
            }
            StockTarget::Days(d) => format!("{} days of demand{what}", num(d)),
            StockTarget::Tonnes(t) => format!("{} t{what}", num(t)),
        };
        let max_release = if sp.max_release_tpy.is_finite() {
            format!("{} t/yr", num(sp.max_release_tpy))
        } else {
            "unlimited".into()
        };
        let floor = match sp.floor {
            StockTarget::Tonnes(0.0) => String::new(),
            f => format!(", floor {}", days(f, " never released")),
        };
        let cap = if sp.refill_price_cap.is_finite() {
            format!(
                " while the price is at most {} x base",
                num(sp.refill_price_cap)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "  {} ({}, release order {}): target {}, initial fill {}{floor}; release {} of the gap \
             when it exceeds {} of demand (max {max_release}); refill {} t/yr{cap}{}; \
             holding cost {}/yr; initial purchase {}",
            sp.name,
            m.id,
            sp.release_order,
            days(sp.target, ""),
            num(sp.initial_fill),
            num(sp.release_fraction),
            num(sp.release_trigger),
            num(sp.replenish_tpy),
            if sp.refill_in_shortage { "" } else { ", not during a shortage" },
            num(sp.holding_cost_rate),
            if sp.buy_initial { "paid" } else { "not paid" }
        );
        if sp.release_lead_months > 0.0 || sp.build_start.is_some() {
            let mut extra = Vec::new();
            if sp.release_lead_months > 0.0 {
                extra.push(format!(
                    "releases {} months after an episode starts",
                    num(sp.release_lead_months)
                ));
            }
            if let Some(y) = sp.build_start {
                extra.push(format!(
                    "bought from {y}, at most {} of the market's demand a step",
                    num(sp.max_buy_share)
                ));
            }
            let _ = writeln!(o, "    {}", extra.join("; "));
        }
    }
    let options: Vec<_> = s
        .materials
        .iter()
        .flat_map(|m| m.options.iter().map(move |op| (m, op)))
        .collect();
    if !options.is_empty() {
        let _ = writeln!(
            o,
            "
options ({}):",
            options.len()
        );
        for (m, op) in options {
            let _ = writeln!(
                o,
                "  {} ({}): {} t a year callable, fee {} EUR/t/yr on all of it, strike {} x base \
                 price, lead {} months",
                op.name,
                m.id,
                num(op.volume_tpy),
                num(op.fee_eur_per_t_year),
                num(op.strike_multiple),
                num(op.lead_months)
            );
        }
    }
    let inventories: Vec<_> = s
        .materials
        .iter()
        .flat_map(|m| m.inventories.iter().map(move |v| (m, v)))
        .collect();
    if !inventories.is_empty() {
        let _ = writeln!(
            o,
            "
private inventories ({}, the world's: kept in every variant):",
            inventories.len()
        );
        for (m, v) in inventories {
            let _ = writeln!(
                o,
                "  {} ({}): {} days of the market's use; sells above {} x base price, \
                 at most {} of its size a month; buys back up to {} x base price, at most {} \
                 of the market's demand a step",
                v.name,
                m.id,
                uncertain(&v.days),
                uncertain(&v.release_above),
                num(v.max_release_share),
                num(v.refill_below),
                num(v.max_buy_share)
            );
        }
    }
    for m in s.materials.iter().filter(|m| !m.tiers.is_empty()) {
        let _ = writeln!(
            o,
            "
demand tiers of {} (served in priority order):",
            m.id
        );
        for t in &m.tiers {
            let shock = match &t.shock {
                Some(sh) => format!(
                    "; demand x {} from step {} for {} months",
                    uncertain(&sh.multiplier),
                    sh.start_step,
                    uncertain(&sh.duration_months)
                ),
                None => String::new(),
            };
            let _ = writeln!(
                o,
                "  {} (priority {}): share {}, value of lost load {} EUR/t{shock}",
                t.name,
                t.priority,
                num(t.share),
                num(t.value_of_lost_load)
            );
        }
    }
    if s.discount_rate != 0.0 {
        let _ = writeln!(
            o,
            "\ncosts discounted at {}/yr to {}",
            num(s.discount_rate),
            s.start_year
        );
    }
    o
}

/// A plain-text table: the first column left-aligned, the others
/// right-aligned, columns two spaces apart.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        cells
            .iter()
            .enumerate()
            .map(|(c, v)| {
                if c == 0 {
                    format!("{v:<w$}", w = widths[c])
                } else {
                    format!("{v:>w$}", w = widths[c])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut o = line(header) + "\n";
    for r in rows {
        o += &line(&r.iter().map(String::as_str).collect::<Vec<_>>());
        o.push('\n');
    }
    o
}

/// The short results table printed after a run.
pub fn results_table(s: &Scenario, report: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}: {} runs, seed {}, {} {} steps from {}",
        report.name,
        report.runs,
        report.seed,
        report.steps,
        s.step.name(),
        s.start_year
    );
    let header = [
        "material",
        "demand t",
        "shortfall t mean",
        "shortfall t p95",
        "P(shortfall)",
        "peak price p95",
        "welfare loss EUR",
        "stock net EUR",
    ];
    let rows: Vec<Vec<String>> = report
        .materials
        .iter()
        .map(|m| {
            vec![
                m.id.clone(),
                num(m.get(Metric::DemandT).mean),
                num(m.get(Metric::ShortfallT).mean),
                num(m.get(Metric::ShortfallT).p95),
                format!("{:.3}", m.p_shortfall),
                format!("x{:.2}", m.get(Metric::PeakPriceMultiple).p95),
                num(m.get(Metric::WelfareLossEur).mean),
                num(m.get(Metric::StockpileCostEur).mean
                    - m.get(Metric::StockpileSalesEur).mean
                    - m.get(Metric::StockpileEndValueEur).mean),
            ]
        })
        .collect();
    o += &table(&header, &rows);
    let _ = writeln!(
        o,
        "(totals over the horizon, mean over runs; peak price: the region's highest price \
         over the base price, 95th percentile of runs; welfare loss: what users lose to \
         higher prices and rationing, less what domestic producers gain; stock net: \
         purchases and holding less sales and the stock's end value)"
    );
    o
}

#[cfg(test)]
mod tests {
    use crate::report::num;

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(1234567.0), "1 234 567");
        assert_eq!(num(12.3456), "12.35");
        assert_eq!(num(0.000123456), "0.0001235");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(40.0), "40");
    }
}
