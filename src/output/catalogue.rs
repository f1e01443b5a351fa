//! Renderings of a catalogue fit ([`crate::analysis::catalogue::Fit`]): a
//! table for the terminal, and `[[disruption]]` tables to paste into a
//! scenario, each preceded by comments that say which rows it came from,
//! the command that made it, and where a value is a fallback.

use super::text::table;
use crate::analysis::catalogue::{
    Basis, DurationFit, Event, Fit, Materials, PairFit, SeverityFit, MIN_SEVERITIES_FOR_BETA,
};
use crate::report::num;
use std::fmt::Write;

/// The command that makes `fit`, with the options it was given.
pub fn command(fit: &Fit) -> String {
    let mut c = format!("crmsim catalogue --data {}", fit.file.display());
    if let Some(m) = &fit.filter.material {
        let _ = write!(c, " --material {m}");
    }
    if let Some(r) = &fit.filter.region {
        let _ = write!(c, " --region {r}");
    }
    if let Some(u) = fit.filter.until {
        let _ = write!(c, " --until {u}");
    }
    // A table of shares other than the one beside the catalogue is named.
    if let Some(shares) = &fit.shares_file {
        if *shares != fit.file.with_file_name("materials.csv") {
            let _ = write!(c, " --shares {}", shares.display());
        }
    }
    c
}

fn exposure(fit: &Fit) -> String {
    format!(
        "{} to {}{}, {} years",
        fit.exposure_start,
        fit.until,
        if fit.filter.until.is_some() {
            ""
        } else {
            " (the newest month in the catalogue)"
        },
        num(fit.years)
    )
}

/// A number for a TOML file: six significant digits, no exponent.
fn value(x: f64) -> String {
    let rounded: f64 = format!("{x:.5e}").parse().expect("a formatted f64 parses");
    rounded.to_string()
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The route's name as scenarios write it: `RedSea` becomes `Red Sea`.
fn route_name(region: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in region.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_ascii_lowercase();
        out.push(c);
    }
    out
}

fn months(e: &Event) -> String {
    match e.censored_at {
        Some(at) => format!("{}+ months (in force at {at}, censored)", e.months),
        None if e.months == 1 => "1 month".into(),
        None => format!("{} months", e.months),
    }
}

fn severity_cell(s: &SeverityFit) -> String {
    match *s {
        SeverityFit::Beta { alpha, beta, .. } => {
            format!("beta({}, {})", num(alpha), num(beta))
        }
        SeverityFit::Range { n, min, max } if min == max => {
            format!("{} ({n} value, fallback)", num(min))
        }
        SeverityFit::Range { n, min, max } => {
            format!("{} to {} ({n} values, fallback)", num(min), num(max))
        }
        SeverityFit::Missing => "none sourced".into(),
    }
}

/// The fit as a table for the terminal: one line per (region, kind) pair,
/// then the rows left out.
pub fn render_table(fit: &Fit) -> String {
    let mut o = format!(
        "{}: exposure {}; rate per year: Jeffreys posterior mean and 90 % interval\n",
        fit.file.display(),
        exposure(fit)
    );
    let rows: Vec<Vec<String>> = fit
        .pairs
        .iter()
        .map(|p| {
            let (mean, sd) = match p.duration {
                DurationFit::Lognormal { mean, sd, .. } => (num(mean), num(sd)),
                DurationFit::Single { months, .. } => (months.to_string(), "-".into()),
            };
            let censored = p.events.iter().filter(|e| e.censored_at.is_some()).count();
            vec![
                format!("{} {}", p.region, p.kind),
                p.rate.events.to_string(),
                num(p.rate.mean()),
                num(p.rate.quantile(0.05)),
                num(p.rate.quantile(0.95)),
                mean,
                sd,
                censored.to_string(),
                severity_cell(&p.severity),
            ]
        })
        .collect();
    if rows.is_empty() {
        o.push_str("no event left to fit\n");
    } else {
        o.push_str(&table(
            &[
                "region kind",
                "events",
                "rate",
                "p5",
                "p95",
                "months mean",
                "sd",
                "censored",
                "severity",
            ],
            &rows,
        ));
    }
    for (id, why) in &fit.excluded {
        let _ = writeln!(o, "left out: {id}: {}", why.reason());
    }
    let converted: Vec<&str> = fit
        .pairs
        .iter()
        .filter(|p| p.events.iter().any(|e| e.world_share.is_some()))
        .map(|p| p.region.as_str())
        .collect();
    if !converted.is_empty() {
        let _ = writeln!(
            o,
            "severities of {}: shares of world supply divided by the region's share of world mine \
             production before each event, to give shares of its flows.",
            converted.join(", ")
        );
    }
    let _ = writeln!(
        o,
        "durations: months in force, first and last counted; censored ones are lower bounds.\n\
         For the [[disruption]] tables, with the rows behind them: {} --toml",
        command(fit)
    );
    o
}

/// The fit as `[[disruption]]` tables to paste into a scenario, one per
/// (region, kind) pair, each preceded by comments listing its rows.
pub fn render_toml(fit: &Fit) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Disruptions fitted from {} by", fit.file.display());
    let _ = writeln!(o, "#   {}", command(fit));
    let _ = writeln!(o, "# Exposure: {}.", exposure(fit));
    o.push_str(
        "# Method (docs/catalogue.md): rate_per_year is the posterior of a Poisson rate\n\
         # under the Jeffreys prior, Gamma(shape = events + 1/2, scale = 1 / years).\n\
         # duration_months: months in force, first and last counted; an event still in\n\
         # force at its latest source (or at the end of exposure) counts its months so\n\
         # far, a lower bound; a lognormal with the durations' mean and sd.\n",
    );
    let _ = writeln!(
        o,
        "# severity: a beta by moments from {MIN_SEVERITIES_FOR_BETA} or more sourced values; with fewer, the\n\
         # uniform over the observed values (FALLBACK). Sourced severities are shares of world\n\
         # supply or of the region's exports, as written; a scenario's severity is the share\n\
         # of the flows from the region: with --material, a world_supply share is divided by\n\
         # the region's share of world mine production of the material (at most 1), when the\n\
         # table of shares has it; otherwise it is used as written, and understates the cut."
    );
    if fit.filter.material.is_none() {
        o.push_str(
            "# Without --material, a table names every material its rows hit, and its rate counts\n\
             # events that hit any of them: keep the materials your scenario has, or fit one\n\
             # material with --material.\n",
        );
    }
    if !fit.excluded.is_empty() {
        o.push_str("# Rows left out:\n");
        for (id, why) in &fit.excluded {
            let _ = writeln!(o, "#   {id}: {}", why.reason());
        }
    }
    if fit.pairs.is_empty() {
        o.push_str("# No event left to fit.\n");
    }
    for p in &fit.pairs {
        o.push('\n');
        pair(&mut o, fit, p);
    }
    o
}

fn pair(o: &mut String, fit: &Fit, p: &PairFit) {
    let rows: usize = p.events.iter().map(|e| e.ids.len()).sum();
    let _ = writeln!(
        o,
        "# {} {}: {} event{} in {} years, from {} row{}:",
        p.region,
        p.kind,
        p.events.len(),
        if p.events.len() == 1 { "" } else { "s" },
        num(fit.years),
        rows,
        if rows == 1 { "" } else { "s" },
    );
    for e in &p.events {
        let mut line = format!("#   {}", e.ids[0]);
        if e.ids.len() > 1 {
            let _ = write!(line, " (with {}: one event)", e.ids[1..].join(", "));
        }
        let _ = write!(line, ": from {}, {}", e.start, months(e));
        if let Some(s) = e.severity {
            let basis = match s.basis {
                Basis::WorldSupply => "of world supply",
                Basis::Exports => "of the region's exports",
            };
            let _ = write!(line, ", severity {} {basis}", value(s.value));
            if let (Basis::WorldSupply, Some(w)) = (s.basis, &e.world_share) {
                let flows = e.severity_of_flows().expect("a severity");
                let _ = write!(
                    line,
                    ", {} of {}'s flows ({} % of world mine production in {}, line {})",
                    value(flows),
                    p.region,
                    num(100.0 * w.share),
                    w.year,
                    w.line
                );
                if s.value >= w.share {
                    line.push_str(
                        ", capped: the event's share of world supply is not below the region's",
                    );
                }
            }
        }
        if e.some_markets {
            line.push_str(", shut out of some markets only");
        }
        let _ = writeln!(o, "{line}");
    }
    let _ = writeln!(
        o,
        "# rate: mean {} per year, 90 % interval {} to {}",
        num(p.rate.mean()),
        num(p.rate.quantile(0.05)),
        num(p.rate.quantile(0.95))
    );
    let duration =
        match p.duration {
            DurationFit::Lognormal {
                n,
                censored,
                mean,
                sd,
            } => {
                let _ = writeln!(
                    o,
                    "# duration: lognormal by moments of {n} durations{}",
                    if censored == n {
                        ", all censored: they say only how long events last at least".to_string()
                    } else if censored > 0 {
                        format!(", {censored} censored: the mean is a lower bound")
                    } else {
                        String::new()
                    }
                );
                format!(
                    "{{ dist = \"lognormal\", mean = {}, sd = {} }}",
                    value(mean),
                    value(sd)
                )
            }
            DurationFit::Single { months, censored } => {
                let _ =
                    writeln!(
                o,
                "# duration: FALLBACK: one event cannot give a spread; its duration, fixed{}",
                if censored { " (censored: a lower bound)" } else { "" }
            );
                months.to_string()
            }
        };
    let of_world = p
        .events
        .iter()
        .any(|e| e.severity.is_some_and(|s| s.basis == Basis::WorldSupply));
    if p.events.iter().any(|e| e.world_share.is_some()) {
        let material = fit.filter.material.as_deref().unwrap_or("the material");
        let table = fit.shares_file.as_deref().map_or_else(
            || "the table of shares".to_string(),
            |f| f.display().to_string(),
        );
        let _ = writeln!(
            o,
            "# severity: shares of world supply divided by {}'s share of world mine production of\n\
             # {material} before the event (the newest year before it in {table}, else the\n\
             # earliest), to give shares of {}'s flows",
            p.region,
            p.region
        );
    } else if fit.filter.material.is_some() && of_world {
        let _ = writeln!(
            o,
            "# severity: ASSUMPTION: shares of world supply used as written: the table of shares has\n\
             # no share of world production for {}; they understate the share of its flows cut",
            p.region
        );
    }
    let severity = match p.severity {
        SeverityFit::Beta {
            n,
            mean,
            sd,
            alpha,
            beta,
        } => {
            let _ = writeln!(
                o,
                "# severity: beta by moments of {n} sourced values (mean {}, sd {})",
                num(mean),
                num(sd)
            );
            format!(
                "{{ dist = \"beta\", alpha = {}, beta = {} }}",
                value(alpha),
                value(beta)
            )
        }
        SeverityFit::Range { n, min, max } => {
            let values = if n == 1 { "value" } else { "values" };
            if min == max {
                let _ = writeln!(
                    o,
                    "# severity: FALLBACK: {n} sourced {values}, too few to fit a spread: the observed value"
                );
                value(min)
            } else {
                let _ = writeln!(
                    o,
                    "# severity: FALLBACK: {n} sourced {values}, too few for a beta (or no spread a beta\n\
                     # can hold): the uniform over the observed range"
                );
                format!(
                    "{{ dist = \"uniform\", min = {}, max = {} }}",
                    value(min),
                    value(max)
                )
            }
        }
        SeverityFit::Missing => {
            o.push_str(
                "# severity: ASSUMPTION: no row has a sourced severity; uniform over [0, 1] stands\n\
                 # for an unknown share. Replace it with a sourced figure.\n",
            );
            "{ dist = \"uniform\", min = 0, max = 1 }".to_string()
        }
    };
    let name = match &fit.filter.material {
        Some(m) => format!("{} {} {m} (catalogue)", p.region, p.kind),
        None => format!("{} {} (catalogue)", p.region, p.kind),
    };
    o.push_str("[[disruption]]\n");
    let _ = writeln!(o, "name = {}", quote(&name));
    let materials = match &p.materials {
        Materials::All => quote("all"),
        Materials::List(ids) => format!(
            "[{}]",
            ids.iter().map(|m| quote(m)).collect::<Vec<_>>().join(", ")
        ),
    };
    let _ = writeln!(o, "materials = {materials}");
    if p.is_route() {
        let _ = writeln!(o, "route = {}", quote(&route_name(&p.region)));
    } else {
        let _ = writeln!(o, "region = {}", quote(&p.region));
    }
    let _ = writeln!(
        o,
        "rate_per_year = {{ dist = \"gamma\", shape = {}, scale = {} }}",
        value(p.rate.shape),
        value(p.rate.scale)
    );
    let _ = writeln!(o, "duration_months = {duration}");
    let _ = writeln!(o, "severity = {severity}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::catalogue::{catalogue, Catalogue, Filter};
    use crate::scenario::Scenario;
    use std::collections::BTreeSet;
    use std::path::Path;

    const SMALL: &str = "\
id,materials,region,kind,start,end,as_of,severity,severity_basis,physical,same_event_as,description,source,note
aa-out-1,nickel,AA,outage,2006-03,2006-05,,0.2,world_supply,yes,,,src a,
aa-out-2,nickel;cobalt,AA,outage,2010-01,2010-12,,0.4,world_supply,yes,,,src b,
aa-out-3,nickel,AA,outage,2014-07,2014-07,,0.3,world_supply,yes,,,src c,
bb-ec-1,gallium,BB,export_control,2008-01,2009-12,,,,yes,,,src d,
bb-ec-2,gallium;germanium,BB,export_control,2012-06,ongoing,2014-11,0.5,exports,yes,,,src e,
bb-ec-2b,germanium;indium,BB,export_control,2012-09,2013-03,,,,yes,bb-ec-2,,src f,
bb-tariff,gallium,BB,sanction,2013-01,2013-06,,,,no,,,src g,
sea-1,all,RedSea,logistics,2011-02,2011-03,,,,yes,,,src h,
";

    fn small(filter: &Filter) -> Fit {
        Catalogue::from_csv(SMALL, Path::new("t.csv"))
            .unwrap()
            .fit(filter)
            .unwrap()
    }

    /// A minimal scenario with every material the fit names, each imported
    /// from every region it names and over every route, then the fragment.
    fn paste(fit: &Fit, fragment: &str) -> Scenario {
        let mut materials = BTreeSet::new();
        let mut regions = BTreeSet::new();
        let mut routes = BTreeSet::new();
        for p in &fit.pairs {
            if let Materials::List(ids) = &p.materials {
                materials.extend(ids.iter().cloned());
            }
            if p.is_route() {
                routes.insert(quote(&route_name(&p.region)));
            } else {
                regions.insert(p.region.clone());
            }
        }
        if materials.is_empty() {
            materials.insert("steel".to_string());
        }
        regions.insert("other".to_string());
        let routes = routes.into_iter().collect::<Vec<_>>().join(", ");
        let mut s = String::from(
            "[simulation]\nname = \"fit\"\nstart_year = 2026\nyears = 2\nruns = 10\nseed = 1\n",
        );
        for m in &materials {
            s += &format!(
                "\n[[material]]\nid = \"{m}\"\ndemand_tpy = 100\nprice_eur_per_t = 1000\n\
                 value_of_lost_load_eur_per_t = 10000\n"
            );
            for r in &regions {
                s += &format!(
                    "  [[material.source]]\n  region = \"{r}\"\n  share = {}\n  routes = [{routes}]\n",
                    1.0 / regions.len() as f64
                );
            }
        }
        s.push('\n');
        s.push_str(fragment);
        Scenario::from_toml(&s, Path::new("pasted.toml")).unwrap_or_else(|e| panic!("{e}\n{s}"))
    }

    #[test]
    fn the_fragment_loads_as_a_scenario() {
        let fit = small(&Filter::default());
        let fragment = render_toml(&fit);
        let scenario = paste(&fit, &fragment);
        assert_eq!(scenario.disruptions.len(), 3);
        // The values fitted by hand in analysis::catalogue's tests:
        // shape 3.5, scale 12/119; mean 16/3, sd sqrt(103/3); beta(6, 14).
        assert!(
            fragment.contains(
                "[[disruption]]\n\
                 name = \"AA outage (catalogue)\"\n\
                 materials = [\"cobalt\", \"nickel\"]\n\
                 region = \"AA\"\n\
                 rate_per_year = { dist = \"gamma\", shape = 3.5, scale = 0.10084 }\n\
                 duration_months = { dist = \"lognormal\", mean = 5.33333, sd = 5.85947 }\n\
                 severity = { dist = \"beta\", alpha = 6, beta = 14 }\n"
            ),
            "{fragment}"
        );
        // Mean 27, sd sqrt(18); one severity, 0.5.
        assert!(fragment.contains(
            "duration_months = { dist = \"lognormal\", mean = 27, sd = 4.24264 }\nseverity = 0.5\n"
        ));
        // The route event: materials "all", the route named as scenarios do.
        assert!(fragment.contains("materials = \"all\"\nroute = \"Red Sea\"\n"));
        assert!(fragment.contains("duration_months = 2\n"));
        assert!(fragment.contains("severity = { dist = \"uniform\", min = 0, max = 1 }\n"));
        // The comments: the command, the rows, what was left out.
        assert!(fragment.contains("#   crmsim catalogue --data t.csv\n"));
        assert!(
            fragment.contains("#   bb-ec-2 (with bb-ec-2b: one event): from 2012-06, 30+ months")
        );
        assert!(fragment.contains("#   bb-tariff: removes no physical supply (physical = no)\n"));
        assert!(fragment.contains("# severity: ASSUMPTION: no row has a sourced severity"));
    }

    #[test]
    fn a_material_fit_names_that_material() {
        let filter = Filter {
            material: Some("germanium".into()),
            until: Some("2013-12".parse().unwrap()),
            ..Filter::default()
        };
        let fit = small(&filter);
        let fragment = render_toml(&fit);
        paste(&fit, &fragment);
        assert!(fragment
            .contains("#   crmsim catalogue --data t.csv --material germanium --until 2013-12\n"));
        assert!(fragment.contains(
            "name = \"BB export_control germanium (catalogue)\"\nmaterials = [\"germanium\"]\n"
        ));
        // One event, censored at the end of exposure: 2012-06 to 2013-12.
        assert!(fragment.contains("duration_months = 19\n"));
        assert!(fragment.contains("(censored: a lower bound)"));
    }

    /// The whole catalogue's fit, and narrower ones, paste into scenarios.
    #[test]
    fn the_real_catalogue_fit_loads_as_a_scenario() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/disruptions.csv");
        for filter in [
            Filter::default(),
            Filter {
                material: Some("gallium".into()),
                ..Filter::default()
            },
            Filter {
                region: Some("ZA".into()),
                until: Some("2019-12".parse().unwrap()),
                ..Filter::default()
            },
        ] {
            let fit = catalogue(&data, &filter).unwrap();
            let scenario = paste(&fit, &render_toml(&fit));
            assert_eq!(scenario.disruptions.len(), fit.pairs.len());
            assert!(!render_table(&fit).is_empty());
        }
    }

    #[test]
    fn the_table_has_a_line_per_pair() {
        let fit = small(&Filter::default());
        let t = render_table(&fit);
        assert!(
            t.starts_with(
                "t.csv: exposure 2005-01 to 2014-11 (the newest month in the catalogue), \
                 9.917 years;"
            ),
            "{t}"
        );
        assert_eq!(t.lines().filter(|l| l.starts_with("AA outage ")).count(), 1);
        assert!(t.contains("beta(6, 14)"));
        assert!(t.contains("0.5 (1 value, fallback)"));
        assert!(t.contains("left out: bb-tariff: removes no physical supply (physical = no)\n"));
        assert!(t.contains("crmsim catalogue --data t.csv --toml"));
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(route_name("RedSea"), "Red Sea");
        assert_eq!(route_name("Suez"), "Suez");
        assert_eq!(route_name("SouthChinaSea"), "South China Sea");
        assert_eq!(value(12.0 / 119.0), "0.10084");
        assert_eq!(value(3.5), "3.5");
        assert_eq!(value(12.0 / 253.0), "0.0474308");
        for name in [
            "CN export_control (catalogue)",
            "a \"b\" 'c'",
            "back\\slash",
        ] {
            let doc: ::toml::Table = ::toml::from_str(&format!("x = {}", quote(name))).unwrap();
            assert_eq!(doc["x"].as_str(), Some(name));
        }
    }
}
