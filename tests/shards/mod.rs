//! Sharded runs: merged partials equal one process, bit for bit, however the
//! runs were split; partials of different studies are refused.

use crate::util::{on_threads, rendered, scenario_in};
use crmsim::engine::{simulate, simulate_with, PERCENTILE_RUNS};
use crmsim::scenario::Scenario;
use crmsim::storage::partial::{self, Partial, PartialError};
use crmsim::storage::Spill;
use crmsim::vocab::RunPlan;

const SCENARIO: &str = r#"
[simulation]
name = "shards"
start_year = 2025
years = 6
runs = 1000
seed = 9

[[material]]
id = "x"
demand_tpy = { dist = "lognormal", mean = 40, sd = 10 }
demand_growth = { dist = "normal", mean = 0.03, sd = 0.02 }
price_eur_per_t = 1000
value_of_lost_load_eur_per_t = 20000
demand_elasticity = -0.4
  [[material.source]]
  region = "CN"
  share = 0.7
  routes = ["Suez"]
  [[material.source]]
  region = "other"
  share = 0.3
  spare_capacity = { dist = "uniform", min = 0, max = 0.4 }
  ramp_months = 4

[[disruption]]
materials = ["x"]
region = "CN"
rate_per_year = 0.4
duration_months = { dist = "exponential", mean = 8 }
severity = { dist = "uniform", min = 0.2, max = 1.0 }

[[stockpile]]
material = "x"
target_days = 60
replenish_tpy = 5
holding_cost_rate = 0.02

[[refinery]]
material = "x"
capacity_tpy = 10
online_year = 2027
utilization = { dist = "uniform", min = 0.5, max = 0.9 }

[[product]]
id = "p"
inflow = { 2015 = 100, 2030 = 300 }
lifetime = { model = "weibull", shape = 2.5, scale = { dist = "uniform", min = 8, max = 12 } }
content_t_per_unit = { x = 0.01 }
collection_rate = { dist = "uniform", min = 0.3, max = 0.6 }
recovery = { x = 0.8 }
"#;

fn shards(s: &Scenario, total: u64, plans: &[RunPlan]) -> Vec<(String, Partial)> {
    plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            let outcome = simulate(s, plan, &|_| {});
            let p = Partial::new(SCENARIO.to_string(), total, *plan, outcome);
            // Through the file format, as on a cluster.
            let name = format!("shard {i}");
            (name.clone(), Partial::decode(&p.encode(), &name).unwrap())
        })
        .collect()
}

#[test]
fn any_split_merges_to_the_single_run_bit_for_bit() {
    let s = scenario_in(SCENARIO, "shards.toml");
    let total = 1000;
    let whole = RunPlan {
        first_run: 0,
        runs: total,
        seed: 9,
    };
    let expected = rendered(&s, &whole, &simulate(&s, &whole, &|_| {}));
    for n in [1u64, 2, 3, 7] {
        let plans: Vec<RunPlan> = (0..n).map(|k| RunPlan::shard(total, 9, k, n)).collect();
        // Contiguous, covering, uneven when n does not divide the 16 blocks.
        assert_eq!(plans.iter().map(|p| p.runs).sum::<u64>(), total);
        let mut parts = shards(&s, total, &plans);
        parts.reverse(); // the order given does not matter
                         // Half of the merges keep the merged table in a temporary file.
        let spill = (n % 2 == 1).then(|| Spill::new_in(&std::env::temp_dir()).unwrap().above(0));
        let (text, plan, outcome) = partial::merge(parts, spill).unwrap();
        assert_eq!(outcome.runs.is_spilled(), n % 2 == 1);
        assert_eq!(text, SCENARIO);
        assert_eq!(plan, whole);
        assert_eq!(rendered(&s, &plan, &outcome), expected, "{n} shards");
    }
    // An uneven split by hand: 1, 5 and 10 blocks.
    let plans = [
        RunPlan {
            first_run: 0,
            runs: 64,
            seed: 9,
        },
        RunPlan {
            first_run: 64,
            runs: 320,
            seed: 9,
        },
        RunPlan {
            first_run: 384,
            runs: 616,
            seed: 9,
        },
    ];
    let (_, plan, outcome) = partial::merge(shards(&s, total, &plans), None).unwrap();
    assert_eq!(rendered(&s, &plan, &outcome), expected, "uneven split");
}

#[test]
fn partials_spanning_chunks_merge_in_any_order_into_a_file() {
    // 9,000 runs: three chunks of the per-run table (4,096 runs each), split
    // into shards whose boundaries fall inside chunks, given in reverse.
    let s = scenario_in(SCENARIO, "shards.toml");
    let total = 9000;
    let whole = RunPlan {
        first_run: 0,
        runs: total,
        seed: 9,
    };
    let expected = rendered(&s, &whole, &simulate(&s, &whole, &|_| {}));
    let plans: Vec<RunPlan> = (0..3).map(|k| RunPlan::shard(total, 9, k, 3)).collect();
    assert!(plans.iter().any(|p| p.first_run % 4096 != 0));
    let mut parts = shards(&s, total, &plans);
    parts.reverse();
    let spill = Spill::new_in(&std::env::temp_dir()).unwrap().above(0);
    let (_, plan, outcome) = partial::merge(parts, Some(spill)).unwrap();
    assert!(outcome.runs.is_spilled());
    assert_eq!(rendered(&s, &plan, &outcome), expected);
}

#[test]
fn past_the_percentile_runs_threads_and_shards_change_no_bit() {
    // 10,300 runs: the first 10,000 feed the percentile sketches, the rest
    // only the means and the per-run table; a shard that straddles that
    // point sketches part of its runs.
    let s = scenario_in(SCENARIO, "shards.toml");
    let total = 10_300;
    assert!(total > PERCENTILE_RUNS);
    let whole = RunPlan {
        first_run: 0,
        runs: total,
        seed: 9,
    };
    let one = on_threads(1, || simulate(&s, &whole, &|_| {}));
    let expected = rendered(&s, &whole, &one);
    let partial = |o| Partial::new(SCENARIO.to_string(), total, whole, o).encode();
    let expected_partial = partial(one);
    for threads in [2, 3] {
        let outcome = on_threads(threads, || simulate(&s, &whole, &|_| {}));
        assert_eq!(
            rendered(&s, &whole, &outcome),
            expected,
            "{threads} threads"
        );
        assert!(
            partial(outcome) == expected_partial,
            "partial, {threads} threads"
        );
    }
    // Shards on 3 and 2 threads: three even ones, and by hand one of 156
    // whole blocks (9,984 runs) and one straddling run 10,000.
    let even: Vec<RunPlan> = (0..3).map(|k| RunPlan::shard(total, 9, k, 3)).collect();
    let straddling = [
        RunPlan {
            first_run: 0,
            runs: 9984,
            seed: 9,
        },
        RunPlan {
            first_run: 9984,
            runs: total - 9984,
            seed: 9,
        },
    ];
    for (plans, threads) in [(&even[..], 3), (&straddling[..], 2), (&straddling[..], 3)] {
        let parts = on_threads(threads, || shards(&s, total, plans));
        let (_, plan, outcome) = partial::merge(parts, None).unwrap();
        assert_eq!(plan, whole);
        assert_eq!(
            rendered(&s, &plan, &outcome),
            expected,
            "{} shards on {threads} threads",
            plans.len()
        );
    }
}

#[test]
fn a_table_kept_in_a_file_gives_the_same_results_and_partials() {
    let s = scenario_in(SCENARIO, "shards.toml");
    let plan = RunPlan {
        first_run: 0,
        runs: 1000,
        seed: 9,
    };
    let in_memory = simulate(&s, &plan, &|_| {});
    let spill = Spill::new_in(&std::env::temp_dir()).unwrap().above(0);
    let in_file = simulate_with(&s, &plan, &|_| {}, Some(spill)).unwrap();
    assert!(in_file.runs.is_spilled() && !in_memory.runs.is_spilled());
    assert_eq!(
        rendered(&s, &plan, &in_file),
        rendered(&s, &plan, &in_memory)
    );
    // A shard's partial streams the file; it reads back as the same table.
    let encode = |outcome| Partial::new(SCENARIO.to_string(), 1000, plan, outcome).encode();
    let (a, b) = (encode(in_file), encode(in_memory));
    assert_eq!(a, b);
    assert!(Partial::decode(&a, "a").is_ok());
    // Read value by value from a reader (as merge reads a file), it is the
    // same partial; cut short anywhere, it is refused.
    assert_eq!(
        Partial::read_from(&a[..], "a").unwrap(),
        Partial::decode(&a, "a").unwrap()
    );
    for cut in [0, 1, a.len() / 3, a.len() - 1] {
        assert!(matches!(
            Partial::read_from(&a[..cut], "a"),
            Err(PartialError::Unreadable(_))
        ));
    }
}

#[test]
fn partials_of_different_studies_are_refused() {
    let s = scenario_in(SCENARIO, "shards.toml");
    let a = || shards(&s, 256, &[RunPlan::shard(256, 9, 0, 2)]).remove(0);
    let b_other_seed = shards(&s, 256, &[RunPlan::shard(256, 10, 1, 2)]).remove(0);
    let err = partial::merge(vec![a(), b_other_seed], None).unwrap_err();
    assert!(
        matches!(&err, PartialError::Mismatch(m) if m.contains("different seed")),
        "{err}"
    );

    let mut other_scenario = shards(&s, 256, &[RunPlan::shard(256, 9, 1, 2)]).remove(0);
    other_scenario.1.scenario_text.push_str("\n# edited\n");
    let err = partial::merge(vec![a(), other_scenario], None).unwrap_err();
    assert!(err.to_string().contains("different scenario"), "{err}");

    let err = partial::merge(vec![a()], None).unwrap_err();
    assert!(
        err.to_string().contains("runs 128..256 are missing"),
        "{err}"
    );

    let err = partial::merge(vec![a(), a()], None).unwrap_err();
    assert!(err.to_string().contains("overlaps"), "{err}");

    // A partial claiming this scenario but holding another's results (a
    // damaged or edited file): one drawn parameter fewer.
    let fixed_utilization = SCENARIO.replace(
        "utilization = { dist = \"uniform\", min = 0.5, max = 0.9 }",
        "utilization = 0.7",
    );
    assert_ne!(fixed_utilization, SCENARIO);
    let other = scenario_in(&fixed_utilization, "other.toml");
    let plan = RunPlan::shard(256, 9, 1, 2);
    let outcome = simulate(&other, &plan, &|_| {});
    let forged = (
        "forged".to_string(),
        Partial::new(SCENARIO.to_string(), 256, plan, outcome),
    );
    let err = partial::merge(vec![a(), forged], None).unwrap_err();
    assert!(err.to_string().contains("do not have the shape"), "{err}");

    assert!(matches!(
        Partial::decode(b"not a partial", "x"),
        Err(PartialError::Unreadable(_))
    ));
}
