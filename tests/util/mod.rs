//! What the test modules share: scenarios from TOML text, one run's
//! trajectory, whole simulations, the scenario library, temporary folders
//! and the `crmsim` binary. Tests that do not check the engine's own
//! machinery (lanes, workspaces) reach it through these, so that a move of
//! its internals is mended here.

use crmsim::engine::{simulate, simulate_run, Prepared, Workspace};
use crmsim::output::{csv, json};
use crmsim::report::Report;
use crmsim::scenario::Scenario;
use crmsim::storage::Outcome;
use crmsim::vocab::RunPlan;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The repository's root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scenario from TOML text, as if read from `test.toml`; an invalid one
/// fails the test with its message.
pub fn scenario(toml: &str) -> Scenario {
    scenario_in(toml, "test.toml")
}

/// A scenario from TOML text, as if read from `file` (the name its error
/// messages give).
pub fn scenario_in(toml: &str, file: &str) -> Scenario {
    Scenario::from_toml(toml, Path::new(file)).unwrap_or_else(|e| panic!("{e}"))
}

/// A scenario file of the library or the benchmarks, by its path from the
/// repository's root.
pub fn load(relative: &str) -> Scenario {
    Scenario::load(&root().join(relative)).unwrap_or_else(|e| panic!("{e}"))
}

/// The files of `scenarios/` ending in `.toml`, sorted.
pub fn library() -> Vec<PathBuf> {
    let dir = root().join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Run `run` of `s` with `seed`, stepped alone, for step-by-step checks.
pub fn trajectory(s: &Scenario, seed: u64, run: u64) -> (Prepared, Workspace) {
    let prep = Prepared::new(s, seed);
    let mut ws = Workspace::new(s, &prep);
    simulate_run(s, &prep, run, &mut ws);
    (prep, ws)
}

/// Every step of a run of [`one_run`]: demand = consumption + demand
/// reduction + shortfall, to 1e-12 relative.
pub fn balanced(run: &(usize, Workspace)) {
    use crmsim::vocab::Variable;
    for t in 0..run.0 {
        let v = |var| run.1.value(run.0, 0, var, t);
        let d = v(Variable::Demand);
        let used = v(Variable::Consumption) + v(Variable::DemandReduction) + v(Variable::Shortfall);
        assert!((d - used).abs() <= 1e-12 * d, "step {t}: {d} vs {used}");
    }
}

/// The first run with seed 1: the number of steps and the trajectory.
pub fn one_run(s: &Scenario) -> (usize, Workspace) {
    let (prep, ws) = trajectory(s, 1, 0);
    (prep.steps(), ws)
}

/// Runs 0..`runs` of `s` with `seed`, stepped alone, one after another;
/// `check` sees each run's index, the number of steps and the trajectory.
pub fn for_each_run(
    s: &Scenario,
    seed: u64,
    runs: u64,
    mut check: impl FnMut(u64, usize, &Workspace),
) {
    let prep = Prepared::new(s, seed);
    let mut ws = Workspace::new(s, &prep);
    for run in 0..runs {
        simulate_run(s, &prep, run, &mut ws);
        check(run, prep.steps(), &ws);
    }
}

/// Runs 0..`runs` of `s` with `seed`, through the engine's driver.
pub fn simulate_runs(s: &Scenario, runs: u64, seed: u64) -> Outcome {
    let plan = RunPlan {
        first_run: 0,
        runs,
        seed,
    };
    simulate(s, &plan, &|_| {})
}

/// The runs and seed the scenario asks for, through the engine's driver.
pub fn simulate_all(s: &Scenario) -> Outcome {
    simulate(s, &RunPlan::from_scenario(s), &|_| {})
}

/// What `crmsim run` writes of an outcome (summary.json, timeseries.csv,
/// runs.csv, params.csv), as bytes: what users compare.
pub fn rendered(s: &Scenario, plan: &RunPlan, outcome: &Outcome) -> Vec<Vec<u8>> {
    let report = Report::new(s, plan, outcome).unwrap();
    vec![
        json::summary(s, &report),
        csv::timeseries(&report),
        csv::runs(&report, &outcome.runs).unwrap(),
        csv::params(&outcome.runs).unwrap(),
    ]
}

/// `f` on a rayon pool of `threads` threads.
pub fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}

/// A temporary folder, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// The `crmsim` binary, for `assert()`-style checks.
pub fn crmsim() -> assert_cmd::Command {
    assert_cmd::cargo::cargo_bin_cmd!("crmsim")
}

/// The `crmsim` binary as a plain process (to spawn, time out or kill).
pub fn crmsim_process() -> std::process::Command {
    std::process::Command::new(assert_cmd::cargo::cargo_bin!("crmsim"))
}

/// A finished command's standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A finished command's standard output, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A CSV file's header and its rows of fields.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r =
        ::csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}
