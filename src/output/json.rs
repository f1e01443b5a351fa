//! `summary.json`: the per-run totals of every material, summarized.

use crate::report::{MaterialReport, Report};
use crate::scenario::Scenario;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// The materials in file order, as a JSON object keyed by id.
struct Materials<'a>(&'a [MaterialReport]);

impl Serialize for Materials<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for m in self.0 {
            map.serialize_entry(&m.id, m)?;
        }
        map.end()
    }
}

/// What made the results: crmsim's version and the vector code that ran
/// ([`crate::simd::CodePath::name`]). The only part of `summary.json` that
/// may differ between two machines for the same scenario, seed and runs.
#[derive(Serialize)]
struct Build {
    version: &'static str,
    simd: &'static str,
}

#[derive(Serialize)]
struct Summary<'a> {
    scenario: &'a str,
    build: Build,
    runs: u64,
    seed: u64,
    steps: usize,
    step: &'static str,
    start_year: i32,
    years: u32,
    materials: Materials<'a>,
}

/// Renders `summary.json` (pretty-printed, keys in a fixed order).
pub fn summary(scenario: &Scenario, report: &Report) -> Vec<u8> {
    let summary = Summary {
        scenario: &report.name,
        build: Build {
            version: env!("CARGO_PKG_VERSION"),
            simd: crate::simd::path().name(),
        },
        runs: report.runs,
        seed: report.seed,
        steps: report.steps,
        step: scenario.step().name(),
        start_year: scenario.start_year(),
        years: scenario.years(),
        materials: Materials(&report.materials),
    };
    let mut bytes = serde_json::to_vec_pretty(&summary).expect("a summary always serializes");
    bytes.push(b'\n');
    bytes
}
