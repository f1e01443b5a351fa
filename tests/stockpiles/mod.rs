//! Stockpile policies against hand calculations: release rules, refill rules,
//! several stockpiles in a release order, and costs as present values.

use crate::util::{one_run, scenario, simulate_runs};
use crmsim::engine::Workspace;
use crmsim::scenario::Scenario;
use crmsim::vocab::{Metric, Variable};

/// Demand 120 t/yr (10 t a month) from one source, cut fully from March 2025
/// for `months`, plus the given stockpile tables.
fn cut(months: u32, extra: &str) -> Scenario {
    scenario(&format!(
        "[simulation]\nname = \"s\"\nstart_year = 2025\nyears = 1\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 1\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2025-03\"\n\
         duration_months = {months}\nseverity = 1.0\n{extra}"
    ))
}

fn series(steps: usize, ws: &Workspace, var: Variable) -> Vec<f64> {
    (0..steps).map(|t| ws.value(steps, 0, var, t)).collect()
}

/// NPV of holding a constant stock: 100 t at 1000 EUR/t, 2 %/yr, discounted
/// at 5 %/yr, monthly for 10 years. Each month costs 100 x 1000 x 0.02 / 12
/// discounted by v^t, v = 1.05^(-1/12): an annuity due,
/// (2000/12) x (1 - v^120) / (1 - v).
#[test]
fn holding_cost_npv_is_the_annuity() {
    let s = scenario(
        "[simulation]\nname = \"s\"\nstart_year = 2025\nyears = 10\nruns = 1\nseed = 1\n\
         discount_rate = 0.05\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 1\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[stockpile]]\nmaterial = \"x\"\ntarget_t = 100\nholding_cost_rate = 0.02\n",
    );
    let (_, ws) = one_run(&s);
    let v = 1.05f64.powf(-1.0 / 12.0);
    let annuity = 2000.0 / 12.0 * (1.0 - v.powi(120)) / (1.0 - v);
    let got = ws.metric(0, Metric::StockpileCostEur);
    assert!((got - annuity).abs() < 1e-9 * annuity, "{got} vs {annuity}");
    // The stock left after 10 years, at the base price, discounted 10 years.
    let end = ws.metric(0, Metric::StockpileEndValueEur);
    assert!((end - 100.0 * 1000.0 * 1.05f64.powi(-10)).abs() < 1e-6);
}

/// Covering half of the gap (priority sectors): a 10 t gap gets 5 t.
#[test]
fn release_fraction_covers_part_of_the_gap() {
    let s = cut(
        1,
        "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 100\nrelease_fraction = 0.5\n",
    );
    let (steps, ws) = one_run(&s);
    assert_eq!(series(steps, &ws, Variable::Release)[2], 5.0);
    assert_eq!(series(steps, &ws, Variable::Shortfall)[2], 5.0);
}

/// A strategic floor is never released: 30 t with a 10 t floor give 20 t
/// over a three-month cut of 10 t a month.
#[test]
fn a_floor_is_never_released() {
    let s = cut(
        3,
        "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 30\nfloor_t = 10\n",
    );
    let (steps, ws) = one_run(&s);
    assert_eq!(
        &series(steps, &ws, Variable::Release)[2..5],
        &[10.0, 10.0, 0.0]
    );
    assert_eq!(
        &series(steps, &ws, Variable::Shortfall)[2..5],
        &[0.0, 0.0, 10.0]
    );
    assert_eq!(series(steps, &ws, Variable::StockpileLevel)[4], 10.0);
}

/// Two stockpiles with a release order: the national stock (order 0, 10 t)
/// goes first, then the joint EU stock (order 1, 20 t); a four-month cut of
/// 10 t a month is covered for three months.
#[test]
fn stockpiles_release_in_their_order() {
    let s = cut(
        4,
        "[[stockpile]]\nmaterial = \"x\"\nname = \"eu\"\ntarget_t = 20\nrelease_order = 1\n\
         [[stockpile]]\nmaterial = \"x\"\nname = \"national\"\ntarget_t = 10\nrelease_order = 0\n\
         max_release_tpy = 60\n",
    );
    let (steps, ws) = one_run(&s);
    // National can release 5 t a month (60 t/yr): EU tops up the rest.
    // Levels (national + EU): 30 at the start; 5 + 15 = 20 after the first
    // month, 0 + 10 = 10 after the second (national empty), 0 after the third.
    assert_eq!(
        &series(steps, &ws, Variable::Release)[2..7],
        &[10.0, 10.0, 10.0, 0.0, 0.0]
    );
    assert_eq!(
        &series(steps, &ws, Variable::Shortfall)[2..7],
        &[0.0, 0.0, 0.0, 10.0, 0.0]
    );
    assert_eq!(
        &series(steps, &ws, Variable::StockpileLevel)[2..5],
        &[20.0, 10.0, 0.0]
    );
}

/// Refill rules: no purchase while the world price is above the cap; none
/// while the region is short when refill_in_shortage = false. D = 10 t a
/// month, e = -0.5, the region the whole market (rho = 1).
///
/// A half cut of the only source by an event on its region (world scope,
/// L_w = 0.5): before any purchase x0 = 0.5^-2 = 4 x base. The region is
/// not short (users want D x0^-0.5 = 5 t and can buy them), so the stock
/// buys B = min(target - level, replenish 12 t/yr x 1/12, max_buy_share 0.2
/// x D / rho = 2) = 1 t a month, which raises the price further:
/// x^-0.5 = 0.5 - rho B / D = 0.4, x = 6.25. With refill_price_cap = 2,
/// x0 = 4 > 2: nothing bought until the price is back to base in month 3.
///
/// The same cut aimed at the region alone (scope = "region"): the world
/// price stays at base, the region can reach D - X_r = 5 t of the 10 t its
/// users want; the gap of 5 t is below the trigger 0.6 x D = 6 t, so the
/// stock does not release. With refill_in_shortage = false it buys nothing
/// while the region is short; by default it buys 1 t a month.
#[test]
fn refill_rules_hold_purchases_back() {
    let run = |scope: &str, extra: &str| {
        let text = format!(
            "[simulation]\nname = \"s\"\nstart_year = 2025\nyears = 1\nruns = 1\nseed = 1\n\
             [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
             value_of_lost_load_eur_per_t = 20000\ndemand_elasticity = -0.5\n\
             [[material.source]]\nregion = \"A\"\nshare = 1.0\n\
             [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nscope = \"{scope}\"\n\
             start = \"2025-01\"\nduration_months = 2\nseverity = 0.5\n\
             [[stockpile]]\nmaterial = \"x\"\ntarget_t = 10\ninitial_fill = 0\nreplenish_tpy = 12\n\
             release_trigger = 0.6\nmax_buy_share = 0.2\n{extra}"
        );
        let (steps, ws) = one_run(&scenario(&text));
        (
            series(steps, &ws, Variable::StockpileLevel),
            series(steps, &ws, Variable::WorldPrice),
            series(steps, &ws, Variable::Price),
            series(steps, &ws, Variable::Release),
        )
    };
    // Default: buys 1 t a month from the start, at 6.25 x the price.
    let (level, world, price, release) = run("world", "");
    assert_eq!(&level[..3], &[1.0, 2.0, 3.0]);
    assert!((world[0] - 6250.0).abs() < 1e-9, "{}", world[0]);
    assert!((price[0] - 6250.0).abs() < 1e-9, "{}", price[0]);
    assert!(release.iter().all(|&r| r == 0.0));
    // Price cap at 2 x base: nothing bought until the price is back.
    let (level, world, _, _) = run("world", "refill_price_cap = 2\n");
    assert_eq!(&level[..3], &[0.0, 0.0, 1.0]);
    assert!((world[0] - 4000.0).abs() < 1e-9, "{}", world[0]);
    // A cut of the region's access: it is short, 5 t of 10.
    let (level, _, price, release) = run("region", "");
    assert_eq!(&level[..3], &[1.0, 2.0, 3.0]);
    assert!(release.iter().all(|&r| r == 0.0));
    // The region's users bid for the 5 t they can get: (5/10)^-2 = 4.
    assert!((price[0] - 4000.0).abs() < 1e-9, "{}", price[0]);
    // Not during a shortage: nothing bought until the cut is over.
    let (level, world, _, _) = run("region", "refill_in_shortage = false\n");
    assert_eq!(&level[..3], &[0.0, 0.0, 1.0]);
    assert_eq!(world[0], 1000.0);
}

/// With one seed, a larger target never increases any run's shortfall.
#[test]
fn larger_targets_never_increase_a_runs_shortfall() {
    let with = |days: u32| {
        scenario(&format!(
            "[simulation]\nname = \"s\"\nstart_year = 2025\nyears = 10\nruns = 1\nseed = 1\n\
             [[material]]\nid = \"x\"\ndemand_tpy = {{ dist = \"uniform\", min = 50, max = 150 }}\n\
             price_eur_per_t = 1000\nvalue_of_lost_load_eur_per_t = 20000\ndemand_elasticity = -0.3\n\
             [[material.source]]\nregion = \"A\"\nshare = 0.8\n\
             [[material.source]]\nregion = \"B\"\nshare = 0.2\nspare_capacity = 0.5\n\
             [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nrate_per_year = 0.5\n\
             duration_months = {{ dist = \"exponential\", mean = 6 }}\n\
             severity = {{ dist = \"uniform\", min = 0.2, max = 1 }}\n\
             [[stockpile]]\nmaterial = \"x\"\ntarget_days = {days}\nreplenish_tpy = 20\n\
             release_trigger = 0.05\nmax_release_tpy = 100\n"
        ))
    };
    let columns: Vec<Vec<f64>> = [0, 30, 60, 90, 180]
        .iter()
        .map(|&d| {
            simulate_runs(&with(d), 2000, 4)
                .runs
                .column(0, Metric::ShortfallT)
                .unwrap()
        })
        .collect();
    for pair in columns.windows(2) {
        for (run, (small, large)) in pair[0].iter().zip(&pair[1]).enumerate() {
            assert!(large <= &(small + 1e-9), "run {run}: {large} > {small}");
        }
    }
    assert!(columns[4].iter().sum::<f64>() < columns[0].iter().sum::<f64>());
}
