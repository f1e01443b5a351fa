//! The analyses against numbers known outside the code: a paired difference
//! known in closed form, and the optimizer against brute force.

use crate::util::{crmsim, scenario, stderr, temp_dir};
use crmsim::analysis::compare::{compare, paired_mean, unpaired_mean};
use crmsim::analysis::optimize::{optimize, Grid, Objective, Target};
use crmsim::analysis::{edit, policy_rows};
use crmsim::engine::simulate;
use crmsim::vocab::{Metric, RunPlan};
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
    let baseline = simulate(&scenario(&text).without_stockpiles(), &plan, &|_| {}).runs;
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

    let baseline = simulate(&scenario(&text).without_stockpiles(), &plan, &|_| {}).runs;
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
