//! Charts and the HTML report: that each chart exists and decodes at its
//! size, that the SVGs carry their axis labels and material names, that the
//! report holds every material and nothing from the network, and that the
//! sensitivity chart puts first the input that the scenario makes dominant.
//! The flows diagram has its own module (`flows`).

mod flows;

use crate::util::{crmsim, scenario_in, simulate_all, temp_dir};
use crmsim::output::charts::{
    self, differences, fan, frontier, Chart, Difference, Fan, FanChart, Figure, FrontierPoint, Tone,
};
use crmsim::output::html;
use crmsim::report::num;
use crmsim::report::sensitivity::rank_correlations;
use crmsim::report::{Report, StepRow};
use crmsim::scenario::Scenario;
use crmsim::storage::Outcome;
use crmsim::vocab::{Metric, RunPlan};

/// Two materials. For "x", one disruption with a wide uniform rate (0 to 3
/// events a year, each a full 3-month cut) drives the shortfall; a second
/// one is rare and mild, and demand growth barely varies. "y" has a
/// stockpile.
const SCENARIO: &str = r#"
[simulation]
name = "chart-test"
start_year = 2030
years = 6
step = "month"
runs = 400
seed = 11

[[material]]
id = "x"
demand_tpy = 120
demand_growth = { dist = "normal", mean = 0.0, sd = 0.005 }
price_eur_per_t = 1000
value_of_lost_load_eur_per_t = 10000

  [[material.source]]
  region = "A"
  share = 1.0

[[material]]
id = "y"
demand_tpy = { dist = "uniform", min = 50, max = 70 }
price_eur_per_t = 500
value_of_lost_load_eur_per_t = 5000

  [[material.source]]
  region = "A"
  share = 0.5

  [[material.source]]
  region = "B"
  share = 0.5
  spare_capacity = { dist = "uniform", min = 0.0, max = 0.5 }

[[disruption]]
name = "dominant cut"
materials = ["x", "y"]
region = "A"
rate_per_year = { dist = "uniform", min = 0.0, max = 3.0 }
duration_months = 3
severity = 1.0

[[disruption]]
name = "minor cut"
materials = ["x"]
region = "A"
rate_per_year = { dist = "uniform", min = 0.0, max = 0.05 }
duration_months = 1
severity = 0.2

[[stockpile]]
material = "y"
target_days = 30
release_trigger = 0.0
max_release_tpy = 60
replenish_tpy = 10
"#;

fn run() -> (Scenario, Report, Outcome) {
    let s = scenario_in(SCENARIO, "chart-test.toml");
    let plan = RunPlan::from_scenario(&s);
    let out = simulate_all(&s);
    let report = Report::new(&s, &plan, &out).unwrap();
    (s, report, out)
}

/// Width and height of a PNG, decoded in full (so a corrupt one fails).
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    (info.width, info.height)
}

fn check_chart(c: &Chart, texts: &[&str]) {
    assert_eq!(png_size(&c.png), c.size);
    assert!(c.svg.starts_with("<svg"), "an SVG document");
    for t in texts {
        assert!(c.svg.contains(t), "the SVG shows {t:?}");
    }
}

/// The y coordinate of the `<text>` element whose content is `label`.
fn text_y(svg: &str, label: &str) -> i32 {
    let end = svg
        .find(&format!(">\n{label}\n</text>"))
        .unwrap_or_else(|| panic!("{label:?} is drawn"));
    let start = svg[..end].rfind("<text").unwrap();
    let tag = &svg[start..end];
    let y = tag.split(" y=\"").nth(1).unwrap();
    y[..y.find('"').unwrap()].parse().unwrap()
}

fn figure<'a>(figs: &'a [Figure], name: &str) -> &'a Figure {
    figs.iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("chart {name} exists"))
}

#[test]
fn every_material_gets_its_charts() {
    let (s, report, out) = run();
    let figs = charts::figures(&s, &report, &out.runs).unwrap();
    let names: Vec<&str> = figs.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "x-supply",
            "x-shortfall",
            "x-welfare",
            "x-sensitivity",
            "y-supply",
            "y-stockpile",
            "y-shortfall",
            "y-welfare",
            "y-sensitivity"
        ],
        "a stockpile chart only where there is a stockpile; no secondary or refinery \
         chart without such supply; a welfare chart where more than 5 % of the futures \
         lose welfare (both materials are short in many)"
    );
    for id in ["x", "y"] {
        check_chart(
            &figure(&figs, &format!("{id}-supply")).chart,
            &[
                id,
                "year",
                "tonnes per year",
                "supply: median",
                "demand: median",
                "2030",
                "2036",
            ],
        );
        check_chart(
            &figure(&figs, &format!("{id}-shortfall")).chart,
            &[
                id,
                "total shortfall (t)",
                "probability of exceeding (%)",
                "p95 = ",
            ],
        );
        check_chart(
            &figure(&figs, &format!("{id}-welfare")).chart,
            &[id, "welfare loss"],
        );
        check_chart(
            &figure(&figs, &format!("{id}-sensitivity")).chart,
            &[id, "Spearman rank correlation with total shortfall"],
        );
    }
    // The p95 the shortfall chart states is that of the runs' totals: the
    // order statistics interpolated at 0.95 (n - 1), worked out here.
    for (m, id) in ["x", "y"].iter().enumerate() {
        let mut totals = out.runs.column(m, Metric::ShortfallT).unwrap();
        totals.sort_by(f64::total_cmp);
        let at = 0.95 * (totals.len() - 1) as f64;
        let (i, frac) = (at.floor() as usize, at - at.floor());
        let p95 = totals[i] + frac * (totals[(i + 1).min(totals.len() - 1)] - totals[i]);
        assert!(p95 > 0.0, "{id}: the case has shortfalls");
        let svg = &figure(&figs, &format!("{id}-shortfall")).chart.svg;
        let label = format!("p95 = {} t", num(p95));
        assert!(svg.contains(&label), "{id}: {label:?} is drawn");
    }
    check_chart(
        &figure(&figs, "y-stockpile").chart,
        &["y", "tonnes in stock", "year"],
    );
    // Whole years on the time axis, never 2030.0833.
    let supply = &figure(&figs, "x-supply").chart.svg;
    assert!(!supply.contains("2030.") && !supply.contains("2031."));

    let artifacts: Vec<String> = figs
        .iter()
        .flat_map(|f| f.artifacts())
        .map(|a| a.name)
        .collect();
    assert!(artifacts.contains(&"charts/x-supply.png".to_string()));
    assert!(artifacts.contains(&"charts/x-supply.svg".to_string()));
}

#[test]
fn the_dominant_input_comes_first() {
    let (s, report, out) = run();
    let ranking = rank_correlations(&out.runs, 0, Metric::ShortfallT).unwrap();
    assert_eq!(ranking[0].name, "disruption[dominant cut].rate_per_year");
    assert!(ranking[0].rho > 0.7, "{ranking:?}");

    let figs = charts::figures(&s, &report, &out.runs).unwrap();
    let svg = &figure(&figs, "x-sensitivity").chart.svg;
    let top = text_y(svg, "dominant cut: events per year");
    for other in ["minor cut: events per year", "demand growth per year"] {
        assert!(
            top < text_y(svg, other),
            "{other} is drawn below the dominant input"
        );
    }
    // y's inputs: its own and the disruption hitting it; not x's.
    let svg = &figure(&figs, "y-sensitivity").chart.svg;
    assert!(svg.contains("dominant cut: events per year"));
    assert!(!svg.contains("minor cut"), "minor cut does not hit y");
}

#[test]
fn report_holds_every_material_and_nothing_from_the_network() {
    let (s, report, out) = run();
    let figs = charts::figures(&s, &report, &out.runs).unwrap();
    let flows = charts::flow_figures(&s, &report).unwrap();
    let page = String::from_utf8(html::report(&s, &report, &figs, &flows)).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        !page.to_lowercase().contains("http"),
        "no link, namespace or fetch"
    );
    assert!(!page.contains("<script"));
    for id in ["x", "y"] {
        assert!(page.contains(&format!("<table id=\"summary-{id}\">")));
        assert!(page.contains(&format!("<section id=\"material-{id}\">")));
        assert!(page.contains(&format!("<li><strong>{id}</strong>: In ")));
    }
    for f in &figs {
        assert!(page.contains(&format!("<figure id=\"chart-{}\">", f.name)));
    }
    for id in ["x", "y"] {
        assert!(page.contains(&format!("<figure id=\"flows-{id}\">")));
    }
    // A level chart per stockpile.
    let stocks: usize = report.materials.iter().map(|m| m.stockpiles.len()).sum();
    assert_eq!(
        page.matches("<svg ").count(),
        figs.len() + 2 + stocks,
        "every chart inline, a flows diagram per material and a chart per stock"
    );
    assert!(page.contains("over 2030-2035"));
    assert!(
        page.contains("scenario chart-test: 2030-2035"),
        "assumptions echoed"
    );
}

#[test]
fn fan_chart_draws_any_variable() {
    let rows: Vec<StepRow> = (0..24)
        .map(|t| {
            let m = 10.0 + t as f64;
            StepRow {
                mean: m,
                p: [m - 4.0, m - 2.0, m, m + 2.0, m + 4.0],
            }
        })
        .collect();
    let chart = FanChart {
        title: "z: refinery output".into(),
        subtitle: String::new(),
        y_label: "tonnes per year".into(),
        x_range: (2030.0, 2032.0),
        starts: (0..24).map(|t| 2030.0 + t as f64 / 12.0).collect(),
        step: 1.0 / 12.0,
        fan: Fan {
            label: "refinery output".into(),
            rows,
        },
        reference: None,
        tone: Tone::Orange,
    };
    let c = fan(&chart).unwrap();
    check_chart(
        &c,
        &["z: refinery output", "refinery output: median", "2031"],
    );
    assert!(
        !c.svg.contains("demand"),
        "no reference, no reference legend"
    );
}

#[test]
fn frontier_chart() {
    let points = vec![
        FrontierPoint {
            label: "no stockpile".into(),
            cost_eur: 0.0,
            risk: 210.0,
        },
        FrontierPoint {
            label: "30 days".into(),
            cost_eur: 4.0e6,
            risk: 150.0,
        },
        FrontierPoint {
            label: "60 days, slow refill".into(),
            cost_eur: 9.0e6,
            risk: 160.0,
        },
        FrontierPoint {
            label: "90 days".into(),
            cost_eur: 13.0e6,
            risk: 90.0,
        },
    ];
    let c = frontier("gallium: cost against risk", "p95 shortfall (t)", &points).unwrap();
    check_chart(
        &c,
        &[
            "gallium: cost against risk",
            "cost (million EUR)",
            "p95 shortfall (t)",
            "60 days, slow refill",
            "efficient frontier",
        ],
    );
    assert_eq!(c.size, (1000, 640));
}

#[test]
fn differences_chart() {
    let diffs = vec![
        Difference {
            label: "30 days - none".into(),
            mean: -40.0,
            lo: -52.0,
            hi: -28.0,
        },
        Difference {
            label: "90 days - 60 days".into(),
            mean: -3.0,
            lo: -9.0,
            hi: 2.5,
        },
    ];
    let c = differences(
        "gallium: change in total shortfall",
        "difference in total shortfall (t)",
        &diffs,
    )
    .unwrap();
    check_chart(
        &c,
        &[
            "gallium: change in total shortfall",
            "difference in total shortfall (t)",
            "30 days - none",
            "95 % confidence interval",
        ],
    );
    // Given order, top down.
    assert!(text_y(&c.svg, "30 days - none") < text_y(&c.svg, "90 days - 60 days"));
    assert_eq!(c.size.1, 220 + 48 * 2);
}

#[test]
fn a_single_bar_or_none_still_draws() {
    let c = charts::tornado("t", "rho", "shortfall", &[("only".to_string(), -0.5)]).unwrap();
    check_chart(&c, &["only", "-0.50"]);
    let c = charts::tornado("t", "rho", "shortfall", &[]).unwrap();
    check_chart(&c, &["no input varies"]);
}

#[test]
fn run_writes_the_same_charts_on_any_threads_unless_told_not_to() {
    let dir = temp_dir();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let run_with = |threads: &str| {
        let out = dir.path().join(format!("with-{threads}"));
        crmsim()
            .args([
                "run",
                "--quiet",
                "--runs",
                "128",
                "--threads",
                threads,
                "--out",
            ])
            .arg(&out)
            .arg(&file)
            .assert()
            .success();
        out
    };
    let (one, two) = (run_with("1"), run_with("2"));
    for name in [
        "report.html",
        "charts/x-supply.png",
        "charts/x-supply.svg",
        "charts/y-stockpile.png",
        "charts/y-sensitivity.svg",
    ] {
        let a = std::fs::read(one.join(name)).unwrap();
        assert_eq!(
            a,
            std::fs::read(two.join(name)).unwrap(),
            "{name}: the same whatever the threads"
        );
    }

    let without = dir.path().join("without");
    crmsim()
        .args(["run", "--quiet", "--no-charts", "--runs", "128", "--out"])
        .arg(&without)
        .arg(&file)
        .assert()
        .success();
    assert!(without.join("summary.json").is_file());
    assert!(!without.join("report.html").exists());
    assert!(!without.join("charts").exists());
}
