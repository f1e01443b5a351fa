//! The flows diagram of the report: its bands as wide as their tonnes on
//! hand numbers, and, end to end, the report's diagram of each material
//! holding the means that `summary.json` and `timeseries.csv` give, with
//! what comes in equal to what users get plus what is not used.

use crate::util::{crmsim, temp_dir};
use crmsim::output::charts::{imports_by_source, sankey, Family, Flow, Flows};
use std::collections::BTreeMap;
use std::fs;

/// The `data-` attributes of every element of `svg` that starts with
/// `open` (e.g. `<path class="band"`), in document order.
fn elements(svg: &str, open: &str) -> Vec<BTreeMap<String, String>> {
    svg.match_indices(open)
        .map(|(at, _)| {
            let tag = &svg[at..at + svg[at..].find('>').expect("a closed tag")];
            tag.split(" data-")
                .skip(1)
                .map(|attr| {
                    let (name, rest) = attr.split_once("=\"").expect("name=\"value\"");
                    let value = &rest[..rest.find('"').expect("a closing quote")];
                    (name.to_string(), value.to_string())
                })
                .collect()
        })
        .collect()
}

fn number(e: &BTreeMap<String, String>, name: &str) -> f64 {
    e[name]
        .parse()
        .unwrap_or_else(|_| panic!("data-{name} is a number: {e:?}"))
}

/// A band: (from, to, tonnes, width).
type Band = (String, String, f64, f64);

fn bands(svg: &str) -> Vec<Band> {
    elements(svg, "<path class=\"band\"")
        .iter()
        .map(|e| {
            (
                e["from"].clone(),
                e["to"].clone(),
                number(e, "tonnes"),
                number(e, "width"),
            )
        })
        .collect()
}

/// Nodes by key: (tonnes, height).
fn nodes(svg: &str) -> BTreeMap<String, (f64, f64)> {
    elements(svg, "<rect class=\"node\"")
        .iter()
        .map(|e| {
            (
                e["node"].clone(),
                (number(e, "tonnes"), number(e, "height")),
            )
        })
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// Imports of 60 t, 2/3 from A and 1/3 from B (and none from C), refinery
/// 10, recycling 20, releases 10: users get 100 t. Demand 120 = 100 + 15
/// given up at the price + 5 short. No option calls (0 t).
#[test]
fn bands_are_as_wide_as_their_tonnes_and_add_up() {
    let mut inflows = imports_by_source(60.0, [("A", 2.0 / 3.0), ("B", 1.0 / 3.0), ("C", 0.0)]);
    inflows.extend([
        Flow::new("domestic refinery output", 10.0, Family::Domestic),
        Flow::new("secondary supply (recycling)", 20.0, Family::Domestic),
        Flow::new("stockpile releases", 10.0, Family::Stock),
        Flow::new("option calls", 0.0, Family::Stock),
    ]);
    let flows = Flows {
        title: "m: flows".into(),
        subtitle: String::new(),
        inflows,
        not_used: 0.0,
        consumption: 100.0,
        unmet: vec![
            Flow::new("demand given up at the price", 15.0, Family::GivenUp),
            Flow::new("shortfall", 5.0, Family::Shortfall),
        ],
    };
    assert_eq!(flows.demand(), 120.0);
    let svg = sankey(&flows).unwrap();
    let bands = bands(&svg);
    let nodes = nodes(&svg);

    // Every band and node: the same pixels per tonne.
    let per_t = bands[0].3 / bands[0].2;
    assert!(per_t > 0.0);
    for (from, to, t, w) in &bands {
        assert!(
            close(*w, t * per_t, 1e-12),
            "{from} -> {to}: {w} px for {t} t"
        );
    }
    for (key, (t, h)) in &nodes {
        assert!(close(*h, t * per_t, 1e-12), "{key}: {h} px for {t} t");
    }

    // The bands into use: 40, 20 (imports), 10, 20, 10; C (inflow 2) and
    // the option calls (inflow 6) are left out.
    let into_use: Vec<(&str, f64)> = bands
        .iter()
        .filter(|b| b.1 == "consumption")
        .map(|b| (b.0.as_str(), b.2))
        .collect();
    let expected = [
        ("inflow-0", 40.0),
        ("inflow-1", 20.0),
        ("inflow-3", 10.0),
        ("inflow-4", 20.0),
        ("inflow-5", 10.0),
    ];
    assert_eq!(into_use.len(), expected.len(), "{into_use:?}");
    for ((key, t), (want_key, want)) in into_use.iter().zip(expected) {
        assert_eq!(*key, want_key);
        assert!(close(*t, want, 1e-12), "{key}: {t} t, not {want}");
    }
    assert!(!nodes.contains_key("inflow-2") && !nodes.contains_key("inflow-6"));
    assert!(!svg.contains("imports from C") && !svg.contains("option calls"));
    assert!(!svg.contains("not-used") && !svg.contains("unaccounted"));

    // Inflow widths add up to the consumption bar; outflow widths to demand's.
    let sum_to = |to: &str| -> f64 { bands.iter().filter(|b| b.1 == to).map(|b| b.3).sum() };
    assert!(close(sum_to("consumption"), nodes["consumption"].1, 1e-12));
    assert!(close(sum_to("demand"), nodes["demand"].1, 1e-12));
    assert!(close(nodes["demand"].0, 120.0, 1e-12));
    let out_of_demand: Vec<(&str, f64)> = bands
        .iter()
        .filter(|b| b.1 == "demand")
        .map(|b| (b.0.as_str(), b.2))
        .collect();
    assert_eq!(
        out_of_demand,
        [("consumption", 100.0), ("unmet-0", 15.0), ("unmet-1", 5.0)]
    );

    // Labelled with their tonnes; a title on every band and node, and on
    // the whole (the text alternative).
    for label in [
        "imports from A: 40 t",
        "imports from B: 20 t",
        "domestic refinery output: 10 t",
        "secondary supply (recycling): 20 t",
        "stockpile releases: 10 t",
        "what users get (consumption): 100 t",
        "demand given up at the price: 15 t",
        "shortfall: 5 t",
        "demand: 120 t",
    ] {
        assert!(
            svg.contains(&format!(">{label}</text>")),
            "{label:?} is drawn"
        );
    }
    assert_eq!(
        svg.matches("<title>").count(),
        bands.len() + nodes.len() + 1
    );
    assert!(svg.contains(
        "<title>m: flows. Coming in: imports from A 40 t, imports from B 20 t, domestic refinery \
         output 10 t, secondary supply (recycling) 20 t, stockpile releases 10 t. Demand 120 t: \
         what users get (consumption) 100 t, demand given up at the price 15 t, shortfall 5 t.\
         </title>"
    ));
}

/// Two materials. "x": a market that clears, imports from A (0.6) and B
/// (0.4), a refinery, a product that is recycled, a stockpile, and an
/// embargo on A's shipments to the region, so that every flow occurs. "y":
/// no market, imports 50/50 from A and B, no disruption, and from 2031 a
/// refinery of 150 t/yr for a demand of 100 t/yr: by hand, 2030's 100 t
/// of imports (50 from each), 750 t of refinery output (5 years), of
/// which 500 t used and 250 t not used; users get 600 t, all of demand.
const SCENARIO: &str = r#"
[simulation]
name = "flows-test"
start_year = 2030
years = 6
step = "month"
runs = 256
seed = 5

[[material]]
id = "x"
demand_tpy = { dist = "uniform", min = 100, max = 140 }
price_eur_per_t = 1000
value_of_lost_load_eur_per_t = 50000
demand_elasticity = -0.5
max_price_multiple = 2

  [[material.source]]
  region = "A"
  share = 0.6

  [[material.source]]
  region = "B"
  share = 0.4
  spare_capacity = { dist = "uniform", min = 0.0, max = 0.3 }

[[material]]
id = "y"
demand_tpy = 100
price_eur_per_t = 500
value_of_lost_load_eur_per_t = 5000

  [[material.source]]
  region = "A"
  share = 0.5

  [[material.source]]
  region = "B"
  share = 0.5

[[refinery]]
material = "x"
capacity_tpy = 30
online_year = 2030

[[refinery]]
material = "y"
capacity_tpy = 150
online_year = 2031

[[product]]
id = "p"
inflow = { 2020 = 100, 2021 = 0 }
lifetime = { model = "fixed", years = { dist = "uniform", min = 10.0, max = 14.0 } }
content_t_per_unit = { x = 0.5 }
collection_rate = 0.8
recovery = { x = 0.9 }

[[stockpile]]
material = "x"
target_days = 60
release_trigger = 0.0
max_release_tpy = 60
replenish_tpy = 20

[[disruption]]
name = "embargo"
materials = ["x"]
region = "A"
scope = "region"
rate_per_year = { dist = "uniform", min = 0.2, max = 2.0 }
duration_months = 4
severity = 1.0
"#;

/// The sum over steps of a variable's per-step means in `timeseries.csv`.
fn series_total(csv: &str, material: &str, variable: &str) -> f64 {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (m, v, mean) = (col("material"), col("variable"), col("mean"));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[m] == material && r[v] == variable)
        .map(|r| r[mean].parse::<f64>().unwrap())
        .sum()
}

#[test]
fn the_report_shows_each_materials_mean_flows_and_they_balance() {
    let dir = temp_dir();
    let file = dir.path().join("flows.toml");
    fs::write(&file, SCENARIO).unwrap();
    let out = dir.path().join("out");
    crmsim()
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(&file)
        .assert()
        .success();
    let page = fs::read_to_string(out.join("report.html")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    let timeseries = fs::read_to_string(out.join("timeseries.csv")).unwrap();

    for id in ["x", "y"] {
        let open = format!("<figure id=\"flows-{id}\">");
        let at = page
            .find(&open)
            .unwrap_or_else(|| panic!("{id}: a flows figure"));
        let figure = &page[at..at + page[at..].find("</figure>").unwrap()];
        assert!(figure.contains("<svg role=\"img\" aria-label=\""));
        assert!(figure.contains("split by the scenario&#39;s import mix"));
        assert!(figure.contains("means over runs"));
        let nodes = nodes(figure);
        let bands = bands(figure);
        let mean = |metric: &str| summary["materials"][id][metric]["mean"].as_f64().unwrap();
        let node = |key: &str| nodes.get(key).map_or(0.0, |n| n.0);

        // The diagram's tonnes are the outputs' means.
        let imports = series_total(&timeseries, id, "imports");
        let demand = mean("demand_t");
        let consumption = demand - mean("demand_reduction_t") - mean("shortfall_t");
        let not_used = imports + mean("refinery_t") + mean("secondary_t") - mean("supply_t");
        let expected = [
            ("inflow-0", imports * 0.6),
            ("inflow-1", imports * 0.4),
            ("inflow-2", mean("refinery_t")),
            ("inflow-3", mean("secondary_t")),
            ("inflow-4", mean("release_t")),
            ("consumption", consumption),
            ("unmet-0", mean("demand_reduction_t")),
            ("unmet-1", mean("shortfall_t")),
            ("demand", demand),
        ];
        let expected = expected.map(|(k, t)| {
            // y's imports are split 50/50.
            let t = match (id, k) {
                ("y", "inflow-0" | "inflow-1") => imports * 0.5,
                _ => t,
            };
            (k, t)
        });
        for (key, want) in expected {
            assert!(
                close(node(key), want, 1e-9),
                "{id} {key}: {} vs {want}",
                node(key)
            );
        }
        if id == "x" {
            for key in [
                "inflow-0", "inflow-1", "inflow-2", "inflow-3", "inflow-4", "unmet-0", "unmet-1",
            ] {
                assert!(nodes.contains_key(key), "x: every flow occurs ({key})");
            }
        }
        if not_used > 1e-9 * demand {
            assert!(
                close(node("not-used"), not_used, 1e-9),
                "{id}: {not_used} not used"
            );
        } else {
            assert!(
                !nodes.contains_key("not-used"),
                "{id}: all domestic output used"
            );
        }

        // What comes in is what users get plus domestic output not used,
        // with nothing left unaccounted for.
        let inflows: f64 = nodes
            .iter()
            .filter(|(k, _)| k.starts_with("inflow-"))
            .map(|(_, n)| n.0)
            .sum();
        assert!(
            close(inflows, node("consumption") + node("not-used"), 1e-9),
            "{id}: {inflows} in, {} used, {} not used",
            node("consumption"),
            node("not-used")
        );
        assert!(!nodes.keys().any(|k| k.starts_with("unaccounted")));
        assert!(close(
            node("consumption") + node("unmet-0") + node("unmet-1"),
            demand,
            1e-9
        ));
        // Band widths add up at both ends of the consumption bar and at demand.
        let width = |pred: &dyn Fn(&Band) -> bool| -> f64 {
            bands.iter().filter(|b| pred(b)).map(|b| b.3).sum()
        };
        let into_use = width(&|b| b.1 == "consumption");
        assert!(close(into_use, nodes["consumption"].1, 1e-9));
        assert!(close(width(&|b| b.1 == "demand"), nodes["demand"].1, 1e-9));
        let from_inflows = width(&|b| b.0.starts_with("inflow-"));
        let inflow_heights: f64 = nodes
            .iter()
            .filter(|(k, _)| k.starts_with("inflow-"))
            .map(|(_, n)| n.1)
            .sum();
        assert!(close(from_inflows, inflow_heights, 1e-9));
    }

    // y by hand (see SCENARIO).
    let y = {
        let at = page.find("<figure id=\"flows-y\">").unwrap();
        nodes(&page[at..at + page[at..].find("</figure>").unwrap()])
    };
    for (key, want) in [
        ("inflow-0", 50.0),
        ("inflow-1", 50.0),
        ("inflow-2", 750.0),
        ("consumption", 600.0),
        ("not-used", 250.0),
        ("demand", 600.0),
    ] {
        assert!(
            close(y[key].0, want, 1e-9),
            "y {key}: {} vs {want}",
            y[key].0
        );
    }
    assert_eq!(
        y.len(),
        6,
        "no recycling, releases, demand given up or shortfall: {y:?}"
    );
}
