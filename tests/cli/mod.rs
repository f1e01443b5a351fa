//! The `crmsim` command as users meet it: exit codes (0 done, 2 wrong input,
//! 1 anything else), error messages that name the file, the line and the
//! field, the files `run` writes, and what happens to output folders.

use crate::util::{crmsim_process, root, stderr, stdout, temp_dir};
use clap::CommandFactory;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

fn scenario(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A small scenario with randomness everywhere: two materials, a Poisson and
/// a scheduled disruption, a stockpile, spare capacity and a price response.
const SMALL: &str = r#"
[simulation]
name = "small"
start_year = 2025
years = 4
step = "quarter"
runs = 150
seed = 7

[[material]]
id = "gallium"
demand_tpy = { dist = "triangular", min = 20, mode = 35, max = 60 }
demand_growth = { dist = "normal", mean = 0.04, sd = 0.02 }
price_eur_per_t = 460000
value_of_lost_load_eur_per_t = 9200000
demand_elasticity = -0.3

  [[material.source]]
  region = "CN"
  share = 0.8
  routes = ["Malacca", "Red Sea"]

  [[material.source]]
  region = "other"
  share = 0.2
  spare_capacity = { dist = "uniform", min = 0.1, max = 0.5 }
  ramp_months = 3

[[material]]
id = "germanium"
demand_tpy = 30
price_eur_per_t = 1500000
value_of_lost_load_eur_per_t = 15000000

  [[material.source]]
  region = "CN"
  share = 1.0

[[disruption]]
name = "export controls"
materials = "all"
region = "CN"
rate_per_year = { dist = "lognormal", mean = 0.3, sd = 0.2 }
duration_months = { dist = "lognormal", mean = 12, sd = 8 }
severity = { dist = "uniform", min = 0.3, max = 0.9 }

[[disruption]]
name = "Red Sea closure"
materials = ["gallium"]
route = "Red Sea"
start = "2026-04"
duration_months = 6
severity = 0.2

[[stockpile]]
material = "gallium"
target_days = 60
max_release_tpy = 30
replenish_tpy = 5
holding_cost_rate = 0.04
buy_initial = true
"#;

fn write_small(dir: &Path) -> PathBuf {
    let path = dir.join("small.toml");
    fs::write(&path, SMALL).unwrap();
    path
}

const METRICS: [&str; 11] = [
    "demand_t",
    "supply_t",
    "shortfall_t",
    "shortfall_fraction",
    "shortfall_steps",
    "longest_shortfall_steps",
    "release_t",
    "secondary_t",
    "refinery_t",
    "stockpile_cost_eur",
    "shortage_cost_eur",
];

const VARIABLES: [&str; 9] = [
    "demand",
    "supply",
    "imports",
    "secondary",
    "refinery",
    "stockpile_level",
    "release",
    "shortfall",
    "price",
];

#[test]
fn the_command_line_definition_is_consistent() {
    crmsim::cli::Cli::command().debug_assert();
}

/// A file of `tests/bad/`: what its error must say, and on which line.
struct BadCase {
    path: PathBuf,
    expect: String,
    line: Option<usize>,
}

fn bad_cases() -> Vec<BadCase> {
    let dir = root().join("tests").join("bad");
    let mut cases: Vec<BadCase> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|path| {
            // Read as bytes: one case is deliberately not UTF-8 further down.
            let bytes = fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            let mut lines = text.lines();
            let expect = lines
                .next()
                .and_then(|l| l.strip_prefix("# expect: "))
                .unwrap_or_else(|| panic!("{}: no `# expect:` line", path.display()))
                .to_string();
            let line = lines
                .next()
                .and_then(|l| l.strip_prefix("# line: "))
                .map(|n| n.parse().unwrap());
            BadCase { path, expect, line }
        })
        .collect();
    cases.sort_by(|a, b| a.path.cmp(&b.path));
    cases
}

/// What is wrong with an error as shown to the user, if anything.
fn judge(case: &BadCase, command: &str, o: &Output) -> Option<String> {
    let err = stderr(o);
    let file = case.path.display().to_string();
    let mut problems = Vec::new();
    if o.status.code() != Some(2) {
        problems.push(format!("exit code {:?}, not 2", o.status.code()));
    }
    if err.contains("panicked") {
        problems.push("a panic".into());
    }
    if !err.contains(&file) {
        problems.push("the file is not named".into());
    }
    if !err.contains(&case.expect) {
        problems.push(format!("no {:?}", case.expect));
    }
    if let Some(line) = case.line {
        if !err.contains(&format!("{file}:{line}")) {
            problems.push(format!("line {line} is not named"));
        }
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} ({command}): {}\n  stderr: {err}",
            case.path.file_name().unwrap().to_string_lossy(),
            problems.join("; ")
        )
    })
}

#[test]
fn bad_scenarios_are_refused_naming_file_line_and_field() {
    let cases = bad_cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let o = crmsim_process()
            .arg("validate")
            .arg(&case.path)
            .output()
            .unwrap();
        failures.extend(judge(case, "validate", &o));

        let tmp = temp_dir();
        let out = tmp.path().join("x");
        let o = crmsim_process()
            .arg("run")
            .arg(&case.path)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .output()
            .unwrap();
        failures.extend(judge(case, "run", &o));
        if !listing(tmp.path()).is_empty() {
            failures.push(format!(
                "{}: run left {:?}",
                case.path.display(),
                listing(tmp.path())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Names that would put results outside `outputs/`, or are not folder names
/// at all, are refused when the name is used for the output folder; nothing
/// is created, here or above.
#[test]
fn unsafe_names_create_nothing() {
    let names = [
        "../../x",
        "/tmp/x",
        "results/gallium",
        "a\\\\b",
        "bad\\u0000name",
        "..",
        ".",
        ".hidden",
        "",
    ];
    for name in names {
        let tmp = temp_dir();
        let cwd = tmp.path().join("a").join("b");
        fs::create_dir_all(&cwd).unwrap();
        let text = SMALL.replace("name = \"small\"", &format!("name = \"{name}\""));
        let file = cwd.join("s.toml");
        fs::write(&file, text).unwrap();
        let o = crmsim_process()
            .current_dir(&cwd)
            .args(["run", "s.toml", "--quiet"])
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains("s.toml:") && err.contains("simulation.name:"),
            "{name}: {err}"
        );
        assert!(
            err.contains("cannot be used as an output folder name"),
            "{name}: {err}"
        );
        assert_eq!(listing(&cwd), vec!["s.toml"], "{name}");
        assert_eq!(listing(tmp.path()), vec!["a"], "{name}");
        assert_eq!(listing(&tmp.path().join("a")), vec!["b"], "{name}");
    }
}

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

/// Reads a CSV file's header and rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    (header, r.records().map(Result::unwrap).collect())
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
        assert_eq!(&row[0], i.to_string(), "row {k}");
        assert_eq!(&row[1], materials[m], "row {k}");
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
        assert_eq!(&row[0], i.to_string());
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

#[test]
fn command_line_mistakes_exit_2_and_create_nothing() {
    let tmp = temp_dir();
    let out = tmp.path().join("x");
    let gallium = scenario("gallium-eu.toml");
    let cases: Vec<(Vec<&std::ffi::OsStr>, &str)> = vec![
        (
            vec![
                "run".as_ref(),
                gallium.as_os_str(),
                "--runs".as_ref(),
                "0".as_ref(),
            ],
            "--runs",
        ),
        (
            vec![
                "run".as_ref(),
                gallium.as_os_str(),
                "--threads".as_ref(),
                "0".as_ref(),
            ],
            "--threads",
        ),
        (
            vec![
                "run".as_ref(),
                gallium.as_os_str(),
                "--seed".as_ref(),
                "-1".as_ref(),
            ],
            "-1",
        ),
        (vec!["run".as_ref()], "SCENARIO"),
        (vec!["simulate".as_ref()], "simulate"),
    ];
    for (args, expect) in cases {
        let o = crmsim_process()
            .args(&args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
        assert!(listing(tmp.path()).is_empty(), "{args:?}");
    }
}

#[test]
fn a_missing_or_unreadable_scenario_exits_2_naming_it() {
    let tmp = temp_dir();
    let missing = tmp.path().join("nowhere.toml");
    for command in ["validate", "run"] {
        let o = crmsim_process()
            .arg(command)
            .arg(&missing)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.contains("nowhere.toml: cannot read the scenario"),
            "{err}"
        );
        // The cause is given once.
        assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
    }
    // A folder given as the scenario.
    let o = crmsim_process()
        .arg("validate")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot read the scenario"));
}

#[cfg(unix)]
#[test]
fn an_endless_file_is_refused_by_size() {
    let o = crmsim_process()
        .args(["validate", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/dev/zero: larger than 16 MiB"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn runs_beyond_the_table_file_limit_are_refused_up_front() {
    let tmp = temp_dir();
    let out = tmp.path().join("x");
    let started = std::time::Instant::now();
    let o = crmsim_process()
        .arg("run")
        .arg(scenario("gallium-eu.toml"))
        .args(["--runs", "1000000000", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("gallium-eu.toml: 1000000000 runs"), "{err}");
    assert!(err.contains("of temporary disk space"), "{err}");
    assert!(err.contains("above the limit of 64.0 GiB"), "{err}");
    assert!(err.contains("use fewer runs (--runs)"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "refused up front"
    );
    assert!(listing(tmp.path()).is_empty());
}

#[test]
fn a_folder_not_written_by_crmsim_is_refused_and_left_untouched() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let precious = tmp.path().join("thesis");
    fs::create_dir(&precious).unwrap();
    fs::write(precious.join("chapter1.tex"), "keep me").unwrap();
    let before = listing(tmp.path());
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--out"])
        .arg(&precious)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("does not hold crmsim results"), "{err}");
    assert_eq!(listing(&precious), vec!["chapter1.tex"]);
    assert_eq!(
        fs::read_to_string(precious.join("chapter1.tex")).unwrap(),
        "keep me"
    );
    assert_eq!(listing(tmp.path()), before, "nothing created beside it");
}

#[test]
fn a_second_run_replaces_the_first_whole() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let out = tmp.path().join("out");
    let run = |seed: &str| {
        let o = crmsim_process()
            .arg("run")
            .arg(&file)
            .args(["--quiet", "--runs", "64", "--seed", seed, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };
    run("1");
    // Something that the second run does not write must not survive it.
    fs::write(out.join("stale.csv"), "old").unwrap();
    run("2");
    assert!(!out.join("stale.csv").exists());
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 2);
    assert_eq!(
        listing(tmp.path()),
        vec!["out", "small.toml"],
        "no temporaries"
    );
}

/// Every file under `dir` (subfolders included), with its bytes, sorted.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((name, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A run killed mid-way (SIGKILL, so no clean-up of its own) leaves the
/// previous results whole, or nothing at a new destination; what a killed
/// writer leaves beside the destination is tidied by the next run.
#[cfg(target_os = "linux")]
#[test]
fn a_killed_run_leaves_previous_results_whole() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let out = tmp.path().join("out");
    let fresh = tmp.path().join("fresh");
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--runs", "64", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let previous = files_under(&out);

    for dest in [&out, &fresh] {
        let mut child = crmsim_process()
            .arg("run")
            .arg(&file)
            .args(["--quiet", "--runs", "3000000", "--threads", "1", "--out"])
            .arg(dest)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the run finished before it was killed");
        let pid = child.id();

        // Only the destination as it was, and at most the killed writer's
        // temporary folder (if it was killed while writing).
        for name in listing(tmp.path()) {
            assert!(
                ["out", "small.toml"].contains(&name.as_str())
                    || name
                        == format!(".{}.tmp-{pid}", dest.file_name().unwrap().to_string_lossy()),
                "left behind: {name}"
            );
        }
        assert!(!fresh.exists(), "a killed first run leaves no destination");
        assert!(
            files_under(&out) == previous,
            "the previous results changed"
        );

        // Had it been killed while writing, its half-written folder would be
        // there: make one, and check that the next run removes it.
        let leaf = dest.file_name().unwrap().to_string_lossy().into_owned();
        let half = tmp.path().join(format!(".{leaf}.tmp-{pid}"));
        fs::create_dir_all(&half).unwrap();
        fs::write(half.join(".crmsim-output"), "").unwrap();
        fs::write(half.join("runs.csv"), "run,mat").unwrap();
        let o = crmsim_process()
            .arg("run")
            .arg(&file)
            .args(["--quiet", "--runs", "64", "--out"])
            .arg(dest)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            !half.exists(),
            "the killed writer's temporary folder remains"
        );
        fs::remove_dir_all(dest).unwrap();
        if dest == &out {
            // Put the previous results back for the second round.
            fs::create_dir(&out).unwrap();
            for (f, bytes) in &previous {
                let path = out.join(f);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, bytes).unwrap();
            }
        }
    }
}

#[test]
fn an_output_folder_inside_a_file_is_refused_before_running() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let blocker = tmp.path().join("a-file");
    fs::write(&blocker, "not a folder").unwrap();
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--runs", "64", "--out"])
        .arg(blocker.join("deeper").join("out"))
        .output()
        .unwrap();
    let err = stderr(&o);
    // Wrong input: the destination is not a place results can go.
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a-file: not a folder, so it cannot hold the output folder "),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    assert_eq!(fs::read_to_string(&blocker).unwrap(), "not a folder");
}

#[test]
fn a_folder_without_write_permission_is_refused_before_running() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let locked = tmp.path().join("locked");
    fs::create_dir(&locked).unwrap();
    set_mode(&locked, 0o555);
    // A privileged user (root, as in CI) writes anyway: nothing to test.
    if fs::write(locked.join("probe"), "").is_ok() {
        set_mode(&locked, 0o755);
        eprintln!("skipped: this user may write in a read-only folder");
        return;
    }
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--runs", "64", "--out"])
        .arg(locked.join("out"))
        .output()
        .unwrap();
    set_mode(&locked, 0o755);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("locked: cannot write in this folder"), "{err}");
    assert!(listing(&locked).is_empty());
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A write that fails once the destination has been checked (here a file
/// larger than the process may write, as on a full disk) is the file
/// system's failure, not the user's: exit code 1, the file and the step
/// named, and nothing left behind.
#[test]
fn a_write_that_fails_after_the_checks_exits_1() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let out = tmp.path().join("results");
    // A limit of 4 blocks (2 or 4 KiB, by shell) on the size of any file
    // written, with SIGXFSZ ignored so that the write fails with EFBIG
    // ("File too large") instead of killing the process.
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 4 && exec "$0" "$@""#)
        .arg(crmsim_process().get_program())
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--runs", "64", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write the file: "), "{err}");
    assert!(err.contains("File too large"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists());
    assert_eq!(listing(tmp.path()), ["small.toml"]);
}

/// The rule of docs/errors.md ("Exit codes"), error type by error type:
/// the user's input 2, the file system failing while crmsim works 1.
#[test]
fn input_errors_exit_2_and_file_system_failures_exit_1() {
    use crmsim::analysis::AnalysisError;
    use crmsim::app::exit_code;
    use crmsim::output::WriteError;
    use crmsim::storage::partial::PartialError;
    let io = || std::io::Error::from(std::io::ErrorKind::StorageFull);
    let code = |e: anyhow::Error| exit_code(&e.context("while running"));
    assert_eq!(code(WriteError::Foreign("x".into()).into()), 2);
    let not_a_folder = WriteError::NotAFolder {
        path: "x".into(),
        dir: "x/y".into(),
    };
    assert_eq!(code(not_a_folder.into()), 2);
    let unwritable = WriteError::Unwritable {
        path: "x".into(),
        error: io(),
    };
    assert_eq!(code(unwritable.into()), 2);
    let failed = WriteError::Io {
        path: "x".into(),
        action: "write the file",
        source: io(),
    };
    assert_eq!(code(failed.into()), 1);
    assert_eq!(code(PartialError::Mismatch("x".into()).into()), 2);
    assert_eq!(code(PartialError::Io("x".into()).into()), 1);
    assert_eq!(code(AnalysisError::Request("x".into()).into()), 2);
    assert_eq!(code(AnalysisError::Read(io()).into()), 1);
    assert_eq!(code(anyhow::anyhow!("an internal error")), 1);
}

/// docs/errors.md quotes, for every file of tests/bad/, the message crmsim
/// prints for it: the documentation cannot drift from the program.
#[test]
fn the_error_guide_quotes_the_real_messages() {
    let guide = fs::read_to_string(root().join("docs").join("errors.md")).unwrap();
    let mut stale = Vec::new();
    for case in bad_cases() {
        let name = case
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let relative = format!("tests/bad/{name}");
        let o = crmsim_process()
            .current_dir(root())
            .args(["validate", &relative])
            .output()
            .unwrap();
        let message = stderr(&o);
        let quoted = format!("$ crmsim validate {relative}\n{message}");
        if !guide.contains(&quoted) {
            stale.push(format!("{name}:\n{message}"));
        }
    }
    assert!(
        stale.is_empty(),
        "docs/errors.md does not quote these messages as printed:\n{}",
        stale.join("\n")
    );
}
