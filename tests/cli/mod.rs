//! The `crmsim` command as users meet it: exit codes (0 done, 2 wrong input,
//! 1 anything else), error messages that name the file, the line and the
//! field, the files `run` writes, and what happens to output folders.
//!
//! What the files share is here: the small scenario, the documented
//! metrics and variables; `errors` holds the refusals and their messages
//! (tests/bad, exit codes, docs/errors.md), `outputs` the files a run writes,
//! `folders` what happens to output folders.

mod errors;
mod folders;
mod outputs;

use crate::util::root;
use clap::CommandFactory;
use std::fs;
use std::path::{Path, PathBuf};

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

/// README.md's annotated scenario is a valid scenario, every table of it
/// as the page shows it.
#[test]
fn the_readme_scenario_is_valid() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let at = readme
        .find("## A scenario, annotated")
        .expect("README.md has its annotated scenario");
    let start = at + readme[at..].find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let s = crmsim::scenario::Scenario::from_toml(&readme[start..end], Path::new("README.md"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.has_stockpiles());
}
