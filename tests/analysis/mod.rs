//! The analyses against numbers known outside the code: a paired difference
//! known in closed form, the optimizer against brute force, and the budget
//! allocation against hand calculations and against trying every
//! combination.

use crate::util::{crmsim, scenario, stderr, temp_dir};
use crmsim::analysis::compare::{compare, paired_mean, unpaired_mean};
use crmsim::analysis::optimize::{allocate_budget, optimize, Choice, Grid, Objective, Target};
use crmsim::analysis::{edit, policy_rows};
use crmsim::engine::simulate;
use crmsim::vocab::{Metric, RunPlan};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::path::Path;

/// One source cut by Poisson events (rate L, fixed d months, severity 1),
/// constant demand D = 1 t a month, no spare capacity.
fn poisson(extra: &str) -> String {
    format!(
        "[simulation]\nname = \"a\"\nstart_year = 2025\nyears = 10\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 12\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 10000\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nrate_per_year = 0.5\n\
         duration_months = 6\nseverity = 1.0\n{extra}"
    )
}

/// A refinery whose feed is not at risk, covering f = 1/4 of demand from the
/// start, scales every step's shortfall by (1 - f) (only the imported 3/4 can
/// be lost). So the true mean difference is -f x E[shortfall of the base] =
/// -f x D x sum_t (1 - exp(-L dt min(d, t + 1))), in closed form. The paired
/// interval contains it and is narrower than the unpaired one.
#[test]
fn paired_interval_contains_the_closed_form_and_is_narrower() {
    let base = scenario(&poisson(""));
    let variant = scenario(&poisson(
        "[[refinery]]\nmaterial = \"x\"\ncapacity_tpy = 3\nonline_year = 2000\n",
    ));
    let plan = RunPlan {
        first_run: 0,
        runs: 4000,
        seed: 21,
    };
    let a = simulate(&base, &plan, &|_| {})
        .runs
        .column(0, Metric::ShortfallT)
        .unwrap();
    let b = simulate(&variant, &plan, &|_| {})
        .runs
        .column(0, Metric::ShortfallT)
        .unwrap();
    let dt = 1.0 / 12.0;
    let closed: f64 = (0..120)
        .map(|t: usize| 1.0 - (-0.5 * dt * (6usize.min(t + 1)) as f64).exp())
        .sum();
    let truth = -0.25 * closed;
    let paired = paired_mean(&a, &b);
    let unpaired = unpaired_mean(&a, &b);
    assert!(
        paired.lo <= truth && truth <= paired.hi,
        "{paired:?} vs {truth}"
    );
    assert!(
        unpaired.lo <= truth && truth <= unpaired.hi,
        "{unpaired:?} vs {truth}"
    );
    assert!(
        (paired.hi - paired.lo) < 0.5 * (unpaired.hi - unpaired.lo),
        "paired {paired:?} is not much narrower than unpaired {unpaired:?}"
    );
    // compare() reports the same numbers for the mean.
    let base_runs = simulate(&base, &plan, &|_| {}).runs;
    let variant_runs = simulate(&variant, &plan, &|_| {}).runs;
    let d = compare(&base_runs, &variant_runs, &[("x".into(), 0, 0)], 21).unwrap();
    assert_eq!(d[0].measure, "shortfall_t_mean");
    assert_eq!(d[0].diff, paired);
}

/// The smallest stock (in whole days) meeting shortfall_mean <= 20 t (the base
/// has about 120 (1 - e^-0.25) = 26.5 t) found by
/// bisection equals the smallest found by trying every day from 0 to 120.
#[test]
fn optimize_agrees_with_brute_force() {
    let text = poisson(
        "[[stockpile]]\nmaterial = \"x\"\ntarget_days = 0\nreplenish_tpy = 6\nmax_buy_share = 1\n",
    );
    let doc: toml::Table = text.parse().unwrap();
    let plan = RunPlan {
        first_run: 0,
        runs: 300,
        seed: 3,
    };
    let target = Target::ShortfallMean(20.0);
    let grid = Grid {
        max_days: 120.0,
        step_days: 1.0,
    };
    let found = optimize(
        &doc,
        Path::new("a.toml"),
        Objective::Target(target),
        grid,
        &plan,
        &|_| {},
    )
    .unwrap();
    let baseline = simulate(&scenario(&text).without_policies(), &plan, &|_| {}).runs;
    let brute = (0..=120)
        .find(|&d| {
            let mut doc = doc.clone();
            edit::set(&mut doc, "stockpile.x.target_days", f64::from(d)).unwrap();
            let s = scenario(&toml::to_string(&doc).unwrap());
            let runs = simulate(&s, &plan, &|_| {}).runs;
            target.met(&policy_rows(&s, &runs, &baseline).unwrap()[0])
        })
        .map(f64::from);
    assert!(brute.is_some(), "the case has an answer within the grid");
    assert_eq!(found[0].days, brute);

    // Net benefit: the best of the grid is the grid point with the largest
    // avoided welfare loss less net stockpile cost.
    let grid = Grid {
        max_days: 120.0,
        step_days: 30.0,
    };
    let best = optimize(
        &doc,
        Path::new("a.toml"),
        Objective::NetBenefit,
        grid,
        &plan,
        &|_| {},
    )
    .unwrap();
    let value = |d: f64| {
        let mut doc = doc.clone();
        edit::set(&mut doc, "stockpile.x.target_days", d).unwrap();
        let s = scenario(&toml::to_string(&doc).unwrap());
        let r = &policy_rows(&s, &simulate(&s, &plan, &|_| {}).runs, &baseline).unwrap()[0];
        r.avoided_welfare_loss - r.net_stockpile_cost
    };
    let brute = [0.0, 30.0, 60.0, 90.0, 120.0]
        .into_iter()
        .max_by(|a, b| value(*a).total_cmp(&value(*b)))
        .unwrap();
    assert_eq!(best[0].days, Some(brute));
}

/// A budget allocation never spends more than the budget, and for one
/// material it is found by trying every size of the grid: of the sizes whose
/// net cost is within the budget, the one that avoids the most welfare loss
/// (the cheaper of equals). (Within the budget alone would pass for an
/// allocation of nothing.) The stock is bought at the start (buy_initial): with
/// purchases, sales and the stock left at the end all at the base price
/// and no discounting, its net cost is its holding cost, 5 %/yr of the
/// stock held at 1000 EUR/t, which grows with the target; a stock given
/// for free would have a net cost below zero (its end value).
#[test]
fn budget_allocation_stays_within_budget() {
    let text = poisson("[[stockpile]]\nmaterial = \"x\"\ntarget_days = 0\nreplenish_tpy = 6\nmax_buy_share = 1\nholding_cost_rate = 0.05\nbuy_initial = true\n");
    let doc: toml::Table = text.parse().unwrap();
    let plan = RunPlan {
        first_run: 0,
        runs: 200,
        seed: 3,
    };
    let grid = Grid {
        max_days: 120.0,
        step_days: 30.0,
    };
    let budget = 20_000.0;
    let out = optimize(
        &doc,
        Path::new("a.toml"),
        Objective::Budget(budget),
        grid,
        &plan,
        &|_| {},
    )
    .unwrap();
    let row = out[0].row.as_ref().unwrap();
    assert!(
        row.net_stockpile_cost <= budget,
        "{}",
        row.net_stockpile_cost
    );

    let baseline = simulate(&scenario(&text).without_policies(), &plan, &|_| {}).runs;
    let rows: Vec<_> = [0.0, 30.0, 60.0, 90.0, 120.0]
        .into_iter()
        .map(|d| {
            let mut doc = doc.clone();
            edit::set(&mut doc, "stockpile.x.target_days", d).unwrap();
            let s = scenario(&toml::to_string(&doc).unwrap());
            policy_rows(&s, &simulate(&s, &plan, &|_| {}).runs, &baseline).unwrap()[0].clone()
        })
        .collect();
    let best = |budget: f64| {
        (0..rows.len())
            .filter(|&k| rows[k].net_stockpile_cost <= budget)
            .fold(None, |best: Option<usize>, k| match best {
                Some(b)
                    if (rows[b].avoided_welfare_loss, -rows[b].net_stockpile_cost)
                        >= (rows[k].avoided_welfare_loss, -rows[k].net_stockpile_cost) =>
                {
                    Some(b)
                }
                _ => Some(k),
            })
            .expect("0 days costs nothing here")
    };
    let k = best(budget);
    assert!(k > 0, "the budget buys some stock in this case");
    assert_eq!(out[0].days, Some(30.0 * k as f64));
    assert_eq!(row.net_stockpile_cost, rows[k].net_stockpile_cost);
    // A budget between the net costs of 30 and 60 days buys 30.
    assert!(rows[1].net_stockpile_cost < rows[2].net_stockpile_cost);
    let tight = 0.5 * (rows[1].net_stockpile_cost + rows[2].net_stockpile_cost);
    assert_eq!(best(tight), 1, "the case has a binding budget");
    let out = optimize(
        &doc,
        Path::new("a.toml"),
        Objective::Budget(tight),
        grid,
        &plan,
        &|_| {},
    )
    .unwrap();
    assert_eq!(out[0].days, Some(30.0));
    assert!(out[0].row.as_ref().unwrap().net_stockpile_cost <= tight);
}

/// A material's choices from (cost, gain) pairs.
fn choices(pairs: &[(f64, f64)]) -> Vec<Choice> {
    pairs
        .iter()
        .map(|&(cost, gain)| Choice { cost, gain })
        .collect()
}

/// Two materials, budget 20, sizes 0, 30 and 60 days:
///
/// | size | A cost | A gain | B cost | B gain |
/// |------|--------|--------|--------|--------|
/// | 0    | 0      | 0      | 0      | 0      |
/// | 30   | 10     | 1      | 10     | 5      |
/// | 60   | 20     | 30     | 20     | 8      |
///
/// A's benefit is not concave: its first 30 days avoid little, its next 30
/// much. Greedy, one step at a time to the most gain per extra euro: first
/// B to 30 days (5/10 = 0.5 against A's 1/10 = 0.1), then B to 60 (3/10 =
/// 0.3 against 0.1); the 20 euros are spent, A's step no longer fits: A 0,
/// B 60, gain 8. It never sees that A's second step (29/10) is worth its
/// first. By hand, the four combinations within 20 euros: (0, 0) gains 0,
/// (0, 60) 8, (30, 30) 1 + 5 = 6, (60, 0) 30. The best is A 60 days, B 0,
/// gain 30 for a cost of 20.
#[test]
fn budget_allocation_is_exact_where_greedy_is_not() {
    let a = choices(&[(0.0, 0.0), (10.0, 1.0), (20.0, 30.0)]);
    let b = choices(&[(0.0, 0.0), (10.0, 5.0), (20.0, 8.0)]);
    assert_eq!(
        allocate_budget(&[a.clone(), b.clone()], 20.0),
        Some(vec![2, 0])
    );
    // With 40 euros both take 60 days (gain 38); with 30, A 60 and B 30
    // (gain 35, against A 30 + B 60 = 9 and A 60 alone = 30).
    assert_eq!(
        allocate_budget(&[a.clone(), b.clone()], 40.0),
        Some(vec![2, 2])
    );
    assert_eq!(allocate_budget(&[a, b], 30.0), Some(vec![2, 1]));
}

/// The tie rule, costs below zero and budgets nothing fits, by hand.
#[test]
fn budget_allocation_ties_negative_costs_and_no_fit_by_hand() {
    // Equal gains: the lower cost (10 of 10 and 20 for a gain of 4).
    let flat = choices(&[(0.0, 0.0), (10.0, 4.0), (20.0, 4.0)]);
    assert_eq!(allocate_budget(&[flat], 30.0), Some(vec![1]));
    // Equal gain and cost: the smaller size, first material first. A 1 + B 0
    // and A 0 + B 1 both cost 10 and gain 2; [0, 1] is the smaller.
    let one = choices(&[(0.0, 0.0), (10.0, 2.0)]);
    assert_eq!(
        allocate_budget(&[one.clone(), one.clone()], 10.0),
        Some(vec![0, 1])
    );
    // Equal sizes in one list: the first.
    let twice = choices(&[(0.0, 0.0), (5.0, 3.0), (5.0, 3.0)]);
    assert_eq!(allocate_budget(&[twice], 5.0), Some(vec![1]));

    // A material that cannot be sized costs 5 (its one choice), above the
    // budget of 3; B's 30 days cost -3 (its end value exceeds its cost) and
    // gain 10, 60 days cost -1 and gain 12. B 0 totals 5, B 30 totals 2,
    // B 60 totals 4: only B 30 fits.
    let fixed = choices(&[(5.0, 0.0)]);
    let b = choices(&[(0.0, 0.0), (-3.0, 10.0), (-1.0, 12.0)]);
    assert_eq!(
        allocate_budget(&[fixed.clone(), b.clone()], 3.0),
        Some(vec![0, 1])
    );
    // With 4 euros B 60 fits too and gains more.
    assert_eq!(
        allocate_budget(&[fixed.clone(), b.clone()], 4.0),
        Some(vec![0, 2])
    );
    // Below 2 nothing fits.
    assert_eq!(allocate_budget(&[fixed, b], 1.9), None);
    // A choice that costs less and gains less than another can be the best:
    // a negative cost frees the budget for another material. C 30 days
    // costs -10 and gains 1, D 30 days costs 15 and gains 20; budget 5.
    // C 0 + D 30 costs 15 (over), C 30 + D 30 costs 5 and gains 21.
    let c = choices(&[(0.0, 0.0), (-10.0, 1.0)]);
    let d = choices(&[(0.0, 0.0), (15.0, 20.0)]);
    assert_eq!(allocate_budget(&[c, d], 5.0), Some(vec![1, 1]));

    // No materials: the empty allocation, which costs 0.
    assert_eq!(allocate_budget(&[], 0.0), Some(vec![]));
    assert_eq!(allocate_budget(&[], -1.0), None);
    // A material with no choice, or none usable, and a budget that is not a
    // number: nothing fits, and no panic.
    assert_eq!(allocate_budget(&[vec![]], 10.0), None);
    assert_eq!(
        allocate_budget(&[choices(&[(f64::NAN, 1.0), (1.0, f64::INFINITY)])], 10.0),
        None
    );
    assert_eq!(allocate_budget(&[choices(&[(0.0, 0.0)])], f64::NAN), None);
    // A choice that is not finite is passed over for one that is.
    let odd = choices(&[(0.0, 0.0), (1.0, f64::NAN), (2.0, 1.0)]);
    assert_eq!(allocate_budget(&[odd], 10.0), Some(vec![2]));
}

/// Total cost and gain of `picks`, added in material order.
fn totals(tables: &[Vec<Choice>], picks: &[usize]) -> (f64, f64) {
    tables
        .iter()
        .zip(picks)
        .fold((0.0, 0.0), |(c, g), (t, &i)| (c + t[i].cost, g + t[i].gain))
}

/// Every combination in lexicographic order, keeping the one with the most
/// gain within the budget, then the lower cost; the first of equals is the
/// lexicographically smallest.
fn brute_force(tables: &[Vec<Choice>], budget: f64) -> Option<Vec<usize>> {
    let mut picks = vec![0; tables.len()];
    let mut best: Option<(Vec<usize>, f64, f64)> = None;
    loop {
        let (cost, gain) = totals(tables, &picks);
        let better = best
            .as_ref()
            .is_none_or(|(_, c, g)| gain > *g || (gain == *g && cost < *c));
        if cost <= budget && better {
            best = Some((picks.clone(), cost, gain));
        }
        // The next combination, the last material turning fastest.
        let mut m = tables.len();
        loop {
            if m == 0 {
                return best.map(|(p, _, _)| p);
            }
            m -= 1;
            picks[m] += 1;
            if picks[m] < tables[m].len() {
                break;
            }
            picks[m] = 0;
        }
    }
}

fn brute_force_config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 2000;
    }
    c.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/analysis/analysis.proptest-regressions"
    ))));
    c
}

/// 2 to 4 materials of 3 to 6 choices, with costs and gains from `value`.
fn tables(value: BoxedStrategy<(f64, f64)>) -> impl Strategy<Value = Vec<Vec<Choice>>> {
    prop::collection::vec(
        prop::collection::vec(value.prop_map(|(cost, gain)| Choice { cost, gain }), 3..=6),
        2..=4,
    )
}

proptest! {
    #![proptest_config(brute_force_config())]

    /// Whole euros, so every sum is exact and ties are frequent: the
    /// allocation is the one brute force finds, tie rule included.
    #[test]
    fn budget_allocation_matches_brute_force_in_whole_euros(
        tables in tables((-8i32..=20, -3i32..=12)
            .prop_map(|(c, g)| (f64::from(c), f64::from(g)))
            .boxed()),
        budget in -20i32..=60,
    ) {
        let budget = f64::from(budget);
        let found = allocate_budget(&tables, budget);
        prop_assert_eq!(&found, &brute_force(&tables, budget));
        if let Some(picks) = found {
            prop_assert!(totals(&tables, &picks).0 <= budget);
        }
    }

    /// Costs and gains in euros with cents and beyond, whose sums round:
    /// the best total gain within the budget, and the lowest cost among the
    /// allocations with that gain, are brute force's.
    #[test]
    fn budget_allocation_matches_brute_force_in_real_euros(
        tables in tables((-2e6..1e7f64, -1e5..5e7f64).boxed()),
        budget in -3e6..3e7f64,
    ) {
        let found = allocate_budget(&tables, budget);
        let brute = brute_force(&tables, budget);
        prop_assert_eq!(found.is_some(), brute.is_some());
        if let (Some(found), Some(brute)) = (found, brute) {
            let (cost, gain) = totals(&tables, &found);
            let (best_cost, best_gain) = totals(&tables, &brute);
            prop_assert!(cost <= budget, "{} > {}", cost, budget);
            prop_assert_eq!(gain, best_gain);
            prop_assert_eq!(cost, best_cost);
        }
    }
}

/// The analysis commands write their files (and charts) and exit 0; a bad
/// path exits 2 naming it.
#[test]
fn analysis_commands_write_their_files() {
    let tmp = temp_dir();
    let file = tmp.path().join("a.toml");
    std::fs::write(
        &file,
        poisson("[[stockpile]]\nmaterial = \"x\"\ntarget_days = 30\nreplenish_tpy = 6\n"),
    )
    .unwrap();
    let variant = tmp.path().join("b.toml");
    std::fs::write(
        &variant,
        poisson("[[stockpile]]\nmaterial = \"x\"\ntarget_days = 90\nreplenish_tpy = 6\n"),
    )
    .unwrap();
    let run = |args: &[&str], out: &str| {
        let o = crmsim()
            .args(args)
            .args(["--runs", "128", "--quiet", "--out"])
            .arg(tmp.path().join(out))
            .output()
            .unwrap();
        (o.status.code(), stderr(&o))
    };
    let f = file.to_str().unwrap();
    let (code, err) = run(
        &["sweep", f, "--set", "stockpile.x.target_days=0,60"],
        "sweep",
    );
    assert_eq!(code, Some(0), "{err}");
    let csv = std::fs::read_to_string(tmp.path().join("sweep/sweep.csv")).unwrap();
    assert!(
        csv.starts_with("stockpile.x.target_days,material,shortfall_t_mean"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3);
    assert!(tmp.path().join("sweep/charts/x-frontier.png").is_file());

    let (code, err) = run(&["compare", f, variant.to_str().unwrap()], "compare");
    assert_eq!(code, Some(0), "{err}");
    let csv = std::fs::read_to_string(tmp.path().join("compare/compare.csv")).unwrap();
    assert!(
        csv.contains("shortfall_t_mean") && csv.contains("p_shortfall"),
        "{csv}"
    );
    assert!(tmp
        .path()
        .join("compare/charts/x-differences.svg")
        .is_file());

    let (code, err) = run(
        &[
            "optimize",
            f,
            "--target",
            "shortfall_mean<=20",
            "--max-days",
            "60",
        ],
        "opt",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(tmp.path().join("opt/optimize.csv").is_file());

    let (code, err) = run(
        &[
            "optimize",
            f,
            "--budget-eur",
            "1e6",
            "--step-days",
            "30",
            "--max-days",
            "60",
        ],
        "budget",
    );
    assert_eq!(code, Some(0), "{err}");
    let csv = std::fs::read_to_string(tmp.path().join("budget/optimize.csv")).unwrap();
    assert!(
        csv.lines().nth(1).is_some_and(|l| l.contains(
            "the most avoided welfare loss within the budget, \
             exact over the grid 0..60 days by 30 days, for these runs"
        )),
        "{csv}"
    );

    let (code, err) = run(
        &["sweep", f, "--set", "material.nickel.demand_tpy=1"],
        "bad",
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no material with id \"nickel\"; there are: x"),
        "{err}"
    );
    assert!(!tmp.path().join("bad").exists());
}
