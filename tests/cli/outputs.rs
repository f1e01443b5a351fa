//! The files `run` writes: their names, columns and keys, the run and
//! parameter tables exactly, the same bytes whatever the thread count;
//! `validate` on every shipped scenario.

use super::*;
use crate::util::{crmsim_process, read_csv, root, stderr, stdout, temp_dir};
use std::collections::BTreeSet;
use std::fs;

#[test]
fn run_writes_the_documented_files_columns_and_keys() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let out = tmp.path().join("out");
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("gallium") && stdout(&o).contains("germanium"));
    for f in [
        "summary.json",
        "timeseries.csv",
        "runs.csv",
        "params.csv",
        ".crmsim-output",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }

    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["runs"], 150);
    assert_eq!(summary["seed"], 7);
    assert_eq!(summary["steps"], 16);
    let materials = summary["materials"].as_object().unwrap();
    let ids: BTreeSet<&str> = materials.keys().map(String::as_str).collect();
    assert_eq!(ids, ["gallium", "germanium"].into());
    for (id, m) in materials {
        let keys: BTreeSet<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        let mut documented: BTreeSet<&str> = METRICS.into();
        documented.insert("p_shortfall");
        // MODEL.md's keys are all there (later features add more).
        assert!(documented.is_subset(&keys), "{id}: {keys:?}");
    }
    for (id, m) in materials {
        for metric in METRICS {
            let s = m[metric]
                .as_object()
                .unwrap_or_else(|| panic!("{id}.{metric}"));
            let keys: BTreeSet<&str> = s.keys().map(String::as_str).collect();
            let documented = [
                "mean", "sd", "min", "p5", "p50", "p95", "p99", "max", "cvar95",
            ];
            assert_eq!(keys, documented.into(), "{id}.{metric}");
            assert!(
                s.values().all(|v| v.as_f64().is_some_and(f64::is_finite)),
                "{id}.{metric}: {s:?}"
            );
        }
        let p = m["p_shortfall"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }

    let mut ts = csv::Reader::from_path(out.join("timeseries.csv")).unwrap();
    assert_eq!(
        ts.headers().unwrap().iter().collect::<Vec<_>>(),
        ["material", "step", "time", "variable", "mean", "p5", "p25", "p50", "p75", "p95"]
    );
    let rows: Vec<csv::StringRecord> = ts.records().map(Result::unwrap).collect();
    // MODEL.md's variables are all there (later features add more).
    assert_eq!(rows.len(), 2 * 16 * crmsim::vocab::Variable::ALL.len());
    let seen: BTreeSet<&str> = rows.iter().map(|r| &r[3]).collect();
    assert!(VARIABLES
        .into_iter()
        .collect::<BTreeSet<_>>()
        .is_subset(&seen));
    for r in &rows {
        for x in r.iter().skip(4) {
            assert!(x.parse::<f64>().unwrap().is_finite(), "{r:?}");
        }
    }

    let mut runs = csv::Reader::from_path(out.join("runs.csv")).unwrap();
    let header: Vec<String> = runs.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..2], ["run", "material"]);
    assert_eq!(header[2..13], METRICS);
    assert_eq!(header.len(), 2 + crmsim::vocab::Metric::ALL.len());
    assert_eq!(runs.records().count(), 150 * 2);
    let mut params = csv::Reader::from_path(out.join("params.csv")).unwrap();
    assert_eq!(&params.headers().unwrap()[0], "run");
    assert_eq!(params.records().count(), 150);
}

/// A CSV field as the `f64` it stands for.
fn number(field: &str) -> f64 {
    field.parse().unwrap_or_else(|e| panic!("{field:?}: {e}"))
}

#[test]
fn runs_csv_and_params_csv_hold_the_run_table_exactly() {
    use crmsim::engine::simulate;
    use crmsim::vocab::{Metric, RunPlan};
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let out = tmp.path().join("out");
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--runs", "150", "--seed", "7", "--quiet", "--no-charts"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The same runs, simulated here.
    let s = crmsim::scenario::Scenario::load(&file).unwrap();
    let plan = RunPlan {
        first_run: 0,
        runs: 150,
        seed: 7,
    };
    let table = simulate(&s, &plan, &|_| {}).runs;
    let materials = ["gallium", "germanium"];

    let (header, rows) = read_csv(&out.join("runs.csv"));
    let mut expected = vec!["run".to_string(), "material".to_string()];
    expected.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
    assert_eq!(header, expected);
    assert_eq!(rows.len(), 150 * materials.len());
    for (k, row) in rows.iter().enumerate() {
        let (i, m) = (k / materials.len(), k % materials.len());
        assert_eq!(row.len(), 2 + Metric::ALL.len(), "row {k}");
        assert_eq!(row[0], i.to_string(), "row {k}");
        assert_eq!(row[1], materials[m], "row {k}");
        for (j, &metric) in Metric::ALL.iter().enumerate() {
            let want = table.get(i, m, metric).unwrap();
            assert_eq!(number(&row[2 + j]).to_bits(), want.to_bits(), "row {k}");
        }
    }

    let (header, rows) = read_csv(&out.join("params.csv"));
    let names = table.param_names();
    assert_eq!(names.len(), 4, "the scenario draws {names:?}");
    assert_eq!(header[0], "run");
    assert_eq!(header[1..], *names);
    assert_eq!(rows.len(), 150);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 1 + names.len(), "run {i}");
        assert_eq!(row[0], i.to_string());
        for (p, &want) in table.params(i).unwrap().iter().enumerate() {
            assert_eq!(number(&row[1 + p]).to_bits(), want.to_bits(), "run {i}");
        }
    }
}

#[test]
fn params_csv_of_a_scenario_without_draws_has_the_run_column_alone() {
    let tmp = temp_dir();
    let file = tmp.path().join("fixed.toml");
    fs::write(
        &file,
        r#"
[simulation]
name = "fixed"
start_year = 2025
years = 2
runs = 3
seed = 1

[[material]]
id = "x"
demand_tpy = 10
price_eur_per_t = 1000
value_of_lost_load_eur_per_t = 5000

  [[material.source]]
  region = "CN"
  share = 1.0
"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--no-charts"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(out.join("params.csv")).unwrap(),
        "run\n0\n1\n2\n"
    );
    let runs = fs::read_to_string(out.join("runs.csv")).unwrap();
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(lines.len(), 1 + 3);
    // Fixed numbers, whole ones written as integers: demand 2 x 10 t, no shortfall.
    assert!(lines[1].starts_with("0,x,20,20,0,0,0,0,"), "{}", lines[1]);
}

#[test]
fn thread_count_does_not_change_a_byte() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let run = |threads: &str| {
        let out = tmp.path().join(format!("t{threads}"));
        let o = crmsim_process()
            .arg("run")
            .arg(&file)
            // Many blocks of 64 runs, so that two or three threads share
            // the work, several chunks of rows of runs.csv and params.csv,
            // and runs past the first 10,000, which alone feed the
            // percentile sketches (PERCENTILE_RUNS).
            .args([
                "--runs",
                "10300",
                "--seed",
                "11",
                "--threads",
                threads,
                "--quiet",
            ])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        out
    };
    let one = run("1");
    for threads in ["2", "3"] {
        let other = run(threads);
        for f in ["summary.json", "timeseries.csv", "runs.csv", "params.csv"] {
            let a = fs::read(one.join(f)).unwrap();
            let b = fs::read(other.join(f)).unwrap();
            assert!(a == b, "{f} differs between 1 and {threads} threads");
        }
    }
}

#[test]
fn validate_prints_what_it_understood() {
    let o = crmsim_process()
        .arg("validate")
        .arg(scenario("eu-stockpile-feasibility.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("materials ("), "{out}");
    let text = fs::read_to_string(scenario("eu-stockpile-feasibility.toml")).unwrap();
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("id = \""))
        .map(|l| l.split('"').next().unwrap())
        .collect();
    assert!(ids.len() > 1);
    for id in ids {
        assert!(out.contains(&format!("  {id}: demand")), "{id} not listed");
    }
    assert!(out.contains(": valid"), "{out}");
}

#[test]
fn every_sample_scenario_validates() {
    for path in crate::util::library() {
        let o = crmsim_process()
            .arg("validate")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            stderr(&o)
        );
    }
    // Every policy file of scenarios/policies/ fits the scenario it names.
    let base = root()
        .join("scenarios")
        .join("eu-stockpile-feasibility.toml");
    let mut policies = 0;
    for entry in fs::read_dir(root().join("scenarios").join("policies")).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("eu-stockpile-feasibility.toml"),
            "{}",
            path.display()
        );
        crmsim::scenario::with_policy(&base, &path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        policies += 1;
    }
    assert_eq!(policies, 6);
}
