//! Every shipped scenario validates and runs, so none rots as the format grows.

use crmsim::engine::{simulate, Metric, RunPlan};
use crmsim::scenario::Scenario;
use crmsim::stats::Report;
use std::path::Path;

#[test]
fn every_scenario_validates_and_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the scenario library is there");
    for file in files {
        let s = Scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let plan = RunPlan {
            first_run: 0,
            runs: 64,
            seed: s.seed(),
        };
        let outcome = simulate(&s, &plan, &|_| {});
        let report = Report::new(&s, &plan, &outcome);
        for m in &report.materials {
            let demand = m.get(Metric::DemandT).mean;
            let short = m.get(Metric::ShortfallT).mean;
            assert!(
                demand.is_finite() && demand > 0.0,
                "{}: {}",
                file.display(),
                m.id
            );
            assert!(
                (0.0..=demand).contains(&short),
                "{}: {}",
                file.display(),
                m.id
            );
        }
    }
}
