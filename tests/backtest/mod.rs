//! `crmsim backtest`: the bands' coverage on episodes drawn from the model
//! itself, the rows every shipped episode holds, and the rows refused.

use crate::util::{root, scenario_in, stderr, stdout, temp_dir};
use crmsim::analysis::backtest::{self, Observation};
use crmsim::vocab::RunPlan;
use std::path::Path;

/// The shipped episodes, each a folder of `history/`.
const EPISODES: [&str; 5] = [
    "gallium-germanium-2023",
    "rare-earths-2010",
    "magnets-2025",
    "graphite-2023",
    "antimony-2024",
];

/// A small market with uncertain demand, elasticity, spare capacity and
/// event: every quantity observed below is continuous over the runs.
const SYNTHETIC: &str = r#"
[simulation]
name = "synthetic"
start_year = 2030
years = 2
step = "month"
runs = 1000
seed = 7

[[material]]
id = "x"
demand_tpy = { dist = "uniform", min = 80, max = 120 }
price_eur_per_t = 1000
demand_elasticity = { dist = "uniform", min = -1.0, max = -0.3 }
value_of_lost_load_eur_per_t = 50000

  [[material.source]]
  region = "AA"
  share = 0.7

  [[material.source]]
  region = "BB"
  share = 0.3
  spare_capacity = { dist = "uniform", min = 0.0, max = 0.5 }
  ramp_months = 6

[[disruption]]
name = "cut"
materials = ["x"]
region = "AA"
start = "2030-04"
duration_months = { dist = "uniform", min = 12, max = 18 }
severity = { dist = "uniform", min = 0.2, max = 0.6 }
"#;

/// The rows of the synthetic episode (values are placeholders: each draw
/// replaces them).
const SYNTHETIC_OBSERVED: &str = "material,date,variable,value,unit,source
x,2030-06,price_multiple,1,ratio,synthetic
x,2030-10,price_multiple,1,ratio (quarterly average),synthetic
x,2030-08,exports_multiple,1,ratio,synthetic
x,2030-09,imports,1,t/month,synthetic
x,2030-01,imports,1,t/year,synthetic
";

fn synthetic_episode() -> backtest::Episode {
    let file = Path::new("synthetic/observed.csv");
    let obs = backtest::parse_observed(SYNTHETIC_OBSERVED, file).unwrap_or_else(|e| panic!("{e}"));
    let s = scenario_in(SYNTHETIC, "synthetic/scenario.toml");
    backtest::episode(Path::new("synthetic"), s, obs, file).unwrap_or_else(|e| panic!("{e}"))
}

/// Observations drawn from the model itself (runs the bands did not use)
/// fall inside the 5-95 % band about 90 % of the time.
#[test]
fn draws_from_the_model_are_covered_about_ninety_percent() {
    let ep = synthetic_episode();
    let band = backtest::simulate(
        &ep,
        &RunPlan {
            first_run: 0,
            runs: 1000,
            seed: 7,
        },
    );
    let draws = 400;
    let truth = backtest::simulate(
        &ep,
        &RunPlan {
            // The next block boundary after the band's runs.
            first_run: 1024,
            runs: draws,
            seed: 7,
        },
    );
    let (mut inside, mut points) = (0usize, 0usize);
    for r in 0..draws as usize {
        let observed: Vec<Observation> = ep
            .observations
            .iter()
            .zip(&ep.targets)
            .map(|(o, t)| Observation {
                value: truth.value(t, r),
                ..o.clone()
            })
            .collect();
        let result = backtest::score(&ep, &observed, &band);
        inside += result.score.inside;
        points += result.score.points;
    }
    let coverage = inside as f64 / points as f64;
    assert!(
        (0.86..=0.94).contains(&coverage),
        "coverage {coverage} over {points} points drawn from the model"
    );
}

/// A row's simulated value is the per-run quantity: the price multiple of
/// each run is its own price over its own first price, and a yearly row in
/// tonnes is the run's total over the year.
#[test]
fn a_row_reads_each_run_on_its_own() {
    let ep = synthetic_episode();
    let plan = RunPlan {
        first_run: 0,
        runs: 16,
        seed: 7,
    };
    let sim = backtest::simulate(&ep, &plan);
    let s = &ep.scenario;
    crate::util::for_each_run(s, 7, 16, |run, steps, ws| {
        let price = |t| ws.value(steps, 0, crmsim::vocab::Variable::Price, t);
        let imports = |t| ws.value(steps, 0, crmsim::vocab::Variable::Imports, t);
        let r = run as usize;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        assert!(close(sim.value(&ep.targets[0], r), price(5) / price(0)));
        let quarter = (price(9) + price(10) + price(11)) / 3.0 / price(0);
        assert!(close(sim.value(&ep.targets[1], r), quarter));
        let year: f64 = (0..12).map(imports).sum();
        assert!(close(sim.value(&ep.targets[4], r), year));
    });
}

/// Every row of every shipped observed.csv has six fields and a source.
#[test]
fn every_observed_row_cites_a_source() {
    let mut rows = 0;
    for ep in EPISODES {
        let file = root().join("history").join(ep).join("observed.csv");
        let mut reader = ::csv::Reader::from_path(&file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            backtest::OBSERVED_COLUMNS,
            "{}",
            file.display()
        );
        for record in reader.records() {
            let record = record.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let line = record.position().map_or(0, |p| p.line());
            assert_eq!(record.len(), 6, "{}:{line}", file.display());
            assert!(
                record[5].trim().len() > 20,
                "{}:{line}: no source",
                file.display()
            );
            rows += 1;
        }
    }
    assert!(rows >= 60, "{rows} rows in all");
}

/// Every shipped episode loads: its scenario validates, and every row names
/// a material of it, a known variable, a unit that fits, and a period
/// within the horizon.
#[test]
fn every_shipped_episode_loads() {
    for ep in EPISODES {
        let dir = root().join("history").join(ep);
        let episode = backtest::load(&dir).unwrap_or_else(|e| panic!("{ep}: {e:#}"));
        assert_eq!(episode.targets.len(), episode.observations.len());
    }
}

/// The command runs a shipped episode, writes its files and prints the
/// coverage; it exits 0 whatever the coverage.
#[test]
fn the_command_writes_the_files_and_prints_the_coverage() {
    let tmp = temp_dir();
    let out = tmp.path().join("bt");
    let o = crate::util::crmsim()
        .current_dir(root())
        .args([
            "backtest",
            "history/gallium-germanium-2023",
            "--runs",
            "200",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("coverage (observed points inside the simulated 5-95 % band)"),
        "{text}"
    );
    assert!(
        text.contains("mean absolute log error of the median"),
        "{text}"
    );
    let csv = std::fs::read_to_string(out.join("backtest.csv")).unwrap();
    assert!(
        csv.starts_with("material,date,variable,observed,p5,p50,p95,inside_90\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 27);
    for f in [
        "report.md",
        "charts/gallium-price-multiple.png",
        "charts/gallium-price-multiple.svg",
        "charts/gallium-exports-multiple.png",
        "charts/germanium-exports-multiple.svg",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
}

/// An episode folder with the synthetic scenario and `observed` as its
/// observed.csv; the command's exit code and standard error.
fn refused(observed: &str) -> (Option<i32>, String, std::path::PathBuf) {
    let tmp = temp_dir();
    let dir = tmp.path().join("ep");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("scenario.toml"), SYNTHETIC).unwrap();
    std::fs::write(dir.join("observed.csv"), observed).unwrap();
    let out = tmp.path().join("out");
    let o = crate::util::crmsim()
        .args(["backtest", "--runs", "20", "--out"])
        .arg(&out)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.exists(), "nothing is written");
    (o.status.code(), stderr(&o), dir.join("observed.csv"))
}

const HEADER: &str = "material,date,variable,value,unit,source\n";
const GOOD: &str = "x,2030-06,price_multiple,1.5,ratio,a source\n";

#[test]
fn an_unknown_material_is_refused_naming_the_file_and_row() {
    let (code, err, file) = refused(&format!(
        "{HEADER}{GOOD}tin,2030-06,price_multiple,2,ratio,s\n"
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}:3: tin,2030-06,price_multiple: material \"tin\" is not in the episode's scenario",
            file.display()
        )),
        "{err}"
    );
}

#[test]
fn an_unknown_variable_is_refused_naming_the_file_and_row() {
    let (code, err, file) = refused(&format!(
        "{HEADER}x,2030-06,exports_from_origin,3,t/month,s\n"
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}:2: x,2030-06,exports_from_origin: unknown variable",
            file.display()
        )),
        "{err}"
    );
}

#[test]
fn a_date_outside_the_horizon_is_refused_naming_the_file_and_row() {
    for (row, line) in [
        (
            "x,2029-12,price_multiple,1,ratio,s\n",
            "x,2029-12,price_multiple",
        ),
        (
            "x,2032-01,price_multiple,1,ratio,s\n",
            "x,2032-01,price_multiple",
        ),
        ("x,2031-06,imports,1,t/year,s\n", "x,2031-06,imports"),
    ] {
        let (code, err, file) = refused(&format!("{HEADER}{GOOD}{row}"));
        assert_eq!(code, Some(2), "{err}");
        assert!(
            err.contains(&format!("{}:3: {line}: ", file.display())),
            "{err}"
        );
        assert!(
            err.contains("outside the episode's horizon 2030-01 to 2031-12"),
            "{err}"
        );
    }
}

#[test]
fn a_row_without_a_source_is_refused_naming_the_file_and_row() {
    let (code, err, file) = refused(&format!(
        "{HEADER}{GOOD}x,2030-07,price_multiple,2,ratio,\n"
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}:3: x,2030-07,price_multiple: no source",
            file.display()
        )),
        "{err}"
    );
}

#[test]
fn a_unit_that_does_not_fit_is_refused() {
    let (code, err, _) = refused(&format!("{HEADER}x,2030-07,imports,2,ratio,s\n"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("unit \"ratio\" does not fit imports: use t/month or t/quarter or t/year"),
        "{err}"
    );
}

/// The shipped scenario each episode material's tables come from
/// (`rare_earth_magnets` has none: the magnet episode's stand-in).
const SHIPPED: [(&str, &str); 5] = [
    ("gallium", "gallium-eu.toml"),
    ("germanium", "germanium-eu.toml"),
    ("rare_earths", "rare-earth-2010-template.toml"),
    ("natural_graphite", "graphite-eu.toml"),
    ("antimony", "antimony-eu.toml"),
];

/// The `[[material]]` and `[[inventory]]` tables of material `id` in the
/// scenario file at `path`, as parsed values.
fn tables_of(path: &Path, id: &str) -> (toml::Value, Vec<toml::Value>) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let of = |key: &str| -> Vec<toml::Value> {
        doc.get(key)
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|t| {
                        t.get(if key == "material" { "id" } else { "material" })
                            .and_then(toml::Value::as_str)
                            == Some(id)
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let material = of("material");
    assert_eq!(material.len(), 1, "{}: material {id}", path.display());
    (material[0].clone(), of("inventory"))
}

/// One parameter set per material: an episode's `[[material]]` and
/// `[[inventory]]` tables are the shipped scenario's, value for value;
/// only its events are the episode's own.
#[test]
fn episodes_use_the_shipped_markets_and_inventories_unchanged() {
    let mut seen = 0;
    for ep in EPISODES {
        let path = root().join("history").join(ep).join("scenario.toml");
        for (id, file) in SHIPPED {
            let text = std::fs::read_to_string(&path).unwrap();
            if !text.contains(&format!("id = \"{id}\"")) {
                continue;
            }
            let shipped = tables_of(&root().join("scenarios").join(file), id);
            let episode = tables_of(&path, id);
            assert_eq!(
                episode.0, shipped.0,
                "{ep}: [[material]] {id} differs from {file}"
            );
            assert_eq!(
                episode.1, shipped.1,
                "{ep}: [[inventory]] of {id} differs from {file}"
            );
            assert!(!episode.1.is_empty(), "{ep}: {id} has no inventory");
            seen += 1;
        }
    }
    assert_eq!(seen, 6, "the episodes' materials with a shipped scenario");
}

/// An episode's one-month events with a fixed severity are its observed
/// drops: severity = 1 - exports_multiple of the row of that month.
#[test]
fn one_month_events_take_their_severity_from_the_observed_row() {
    let mut checked = 0;
    for ep in EPISODES {
        let dir = root().join("history").join(ep);
        let text = std::fs::read_to_string(dir.join("scenario.toml")).unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let observed = std::fs::read_to_string(dir.join("observed.csv")).unwrap();
        let rows: Vec<Vec<&str>> = observed
            .lines()
            .skip(1)
            .map(|l| l.splitn(6, ',').collect())
            .collect();
        for d in doc["disruption"].as_array().unwrap() {
            let (Some(sev), Some(1)) = (
                d.get("severity").and_then(toml::Value::as_float),
                d.get("duration_months").and_then(toml::Value::as_integer),
            ) else {
                continue;
            };
            let start = d["start"].as_str().unwrap();
            let materials: Vec<&str> = d["materials"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap())
                .collect();
            let row = rows
                .iter()
                .find(|r| {
                    materials.contains(&r[0])
                        && r[1] == start
                        && r[2] == "exports_multiple"
                        && r[4] == "ratio"
                })
                .unwrap_or_else(|| panic!("{ep}: no observed row for {start}"));
            let value: f64 = row[3].parse().unwrap();
            assert!(
                (sev - (1.0 - value)).abs() < 1e-9,
                "{ep} {start}: severity {sev}, observed exports {value}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} one-month events");
}
