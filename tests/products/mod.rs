//! Products in use (the urban mine, electrolyzer stacks) against closed forms
//! and hand calculations: outflows, mass balance, collection and recovery,
//! added demand.

use crate::util::{for_each_run, one_run, scenario};
use crmsim::engine::{Prepared, Workspace};
use crmsim::vocab::{Metric, Variable};
use statrs::distribution::{ContinuousCDF, LogNormal};

/// One run of a one-material scenario with the given product table.
fn run_product(step: &str, years: u32, product: &str) -> (usize, Workspace) {
    let s = scenario(&format!(
        "[simulation]\nname = \"p\"\nstart_year = 2025\nyears = {years}\nstep = \"{step}\"\n\
         runs = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 100\nprice_eur_per_t = 1\n\
         value_of_lost_load_eur_per_t = 1\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[product]]\nid = \"p\"\n{product}\n"
    ));
    one_run(&s)
}

/// A single cohort of 100 units installed during 2020 (yearly steps, mid-step
/// inflow) with a fixed 7-year lifetime leaves when its age interval
/// (a - 0.5, a + 0.5] contains 7: a = 7, i.e. in 2027, horizon step 2.
#[test]
fn fixed_lifetime_cohort_leaves_in_the_hand_computed_step() {
    let (steps, ws) = run_product(
        "year",
        5,
        "inflow = { 2020 = 100, 2021 = 0 }\nlifetime = { model = \"fixed\", years = 7 }\n\
         content_t_per_unit = { x = 0.5 }\ncollection_rate = 1.0\nrecovery = { x = 1.0 }",
    );
    let eol: Vec<f64> = (0..steps)
        .map(|t| ws.value(steps, 0, Variable::Eol, t))
        .collect();
    assert_eq!(eol, vec![0.0, 0.0, 50.0, 0.0, 0.0]);
    let stock: Vec<f64> = (0..steps)
        .map(|t| ws.value(steps, 0, Variable::InUseStock, t))
        .collect();
    assert_eq!(stock, vec![50.0, 50.0, 0.0, 0.0, 0.0]);
}

/// Constant inflow of I units a year from 2015, content 1 t/unit, yearly
/// steps, mid-step inflow. In year 2015 + a_max every cohort of ages
/// 0..=a_max leaves its kernel share, and the kernel telescopes:
/// sum_{a=0}^{A} k[a] = 1 - sf(A + 0.5). So eol(2025) = I (1 - sf(10.5)).
/// Weibull(shape 2, scale 10): sf(10.5) = exp(-1.05^2).
#[test]
fn weibull_outflow_matches_closed_form() {
    let (steps, ws) = run_product(
        "year",
        3,
        "inflow = { 2015 = 10 }\nlifetime = { model = \"weibull\", shape = 2.0, scale = 10.0 }\n\
         content_t_per_unit = { x = 1.0 }\ncollection_rate = 1.0\nrecovery = { x = 1.0 }",
    );
    for t in 0..steps {
        let age = 10.0 + t as f64 + 0.5;
        let expected = 10.0 * (1.0 - (-(age / 10.0f64).powi(2)).exp());
        let got = ws.value(steps, 0, Variable::Eol, t);
        assert!(
            (got - expected).abs() <= 1e-9 * expected,
            "step {t}: {got} vs {expected}"
        );
    }
}

/// The same telescoping sum with a lognormal lifetime given by its own mean
/// and sd (mean 8, sd 4: sigma^2 = ln(1.25), mu = ln 8 - sigma^2/2), the
/// survival function taken from statrs, and monthly steps: the oldest cohort
/// in January 2025 is 120 months old, so eol = (I/12) (1 - sf(120.5/12)).
#[test]
fn lognormal_outflow_matches_closed_form() {
    let (steps, ws) = run_product(
        "month",
        1,
        "inflow = { 2015 = 12 }\nlifetime = { model = \"lognormal\", mean = 8.0, sd = 4.0 }\n\
         content_t_per_unit = { x = 1.0 }\ncollection_rate = 1.0\nrecovery = { x = 1.0 }",
    );
    let sigma2 = 1.25f64.ln();
    let ln = LogNormal::new(8f64.ln() - sigma2 / 2.0, sigma2.sqrt()).unwrap();
    for t in 0..steps {
        let age_years = (120.0 + t as f64 + 0.5) / 12.0;
        let expected = 1.0 * ln.cdf(age_years);
        let got = ws.value(steps, 0, Variable::Eol, t);
        assert!(
            (got - expected).abs() <= 1e-9 * expected,
            "step {t}: {got} vs {expected}"
        );
    }
}

/// Mass balance every step: the stock in use grows by what is installed (units
/// x content, with the content trend) and falls by what reaches end of life.
/// Inflow {2020 = 100, 2025 = 1000, 2030 = 10000}: 2026 installs
/// 100 + (1000 - 100) ... by linear interpolation, 1000 + (10000-1000)/5 = 2800
/// units a year; content 0.0004 x 0.95^(year - 2025).
#[test]
fn stock_in_use_balances_inflow_and_outflow() {
    let (steps, ws) = run_product(
        "month",
        10,
        "inflow = { 2020 = 100, 2025 = 1000, 2030 = 10000 }\n\
         lifetime = { model = \"weibull\", shape = 3.0, scale = 10.0 }\n\
         content_t_per_unit = { x = 0.0004 }\ncontent_trend = -0.05\n\
         collection_rate = 0.9\nrecovery = { x = 0.9 }\nadds_demand = true",
    );
    let yearly = |y: i32| -> f64 {
        match y {
            ..=2024 => unreachable!(),
            2025..=2029 => 1000.0 + (10_000.0 - 1000.0) * f64::from(y - 2025) / 5.0,
            _ => 10_000.0,
        }
    };
    for t in 1..steps {
        let year = 2025 + (t / 12) as i32;
        let installed = yearly(year) / 12.0 * 0.0004 * 0.95f64.powi(year - 2025);
        let v = |var, t| ws.value(steps, 0, var, t);
        let change = v(Variable::InUseStock, t) - v(Variable::InUseStock, t - 1);
        let expected = installed - v(Variable::Eol, t);
        assert!(
            (change - expected).abs() < 1e-12,
            "step {t}: {change} vs {expected}"
        );
        // adds_demand: demand = 100/12 + installations x content.
        let demand = v(Variable::Demand, t);
        assert!(
            (demand - (100.0 / 12.0 + installed)).abs() < 1e-12,
            "step {t}"
        );
    }
}

/// Secondary = eol x collection x recovery, and nothing before
/// recycling_from_year (2027 = step 24 of a monthly horizon from 2025).
#[test]
fn recovery_after_collection_from_the_recycling_year() {
    let (steps, ws) = run_product(
        "month",
        5,
        "inflow = { 2010 = 500 }\nlifetime = { model = \"normal\", mean = 12.0, sd = 3.0 }\n\
         content_t_per_unit = { x = 0.01 }\ncollection_rate = 0.4\nrecovery = { x = 0.25 }\n\
         recycling_from_year = 2027",
    );
    let mut secondary = 0.0;
    for t in 0..steps {
        let v = |var| ws.value(steps, 0, var, t);
        assert!((v(Variable::Collected) - 0.4 * v(Variable::Eol)).abs() < 1e-15);
        let expected = if t < 24 {
            0.0
        } else {
            0.4 * 0.25 * v(Variable::Eol)
        };
        assert!(
            (v(Variable::Secondary) - expected).abs() < 1e-15,
            "step {t}"
        );
        secondary += v(Variable::Secondary);
        // Secondary supply is used before imports.
        assert!(
            (v(Variable::Imports) - (v(Variable::Demand) - v(Variable::Secondary))).abs() < 1e-12
        );
    }
    assert!((ws.metric(0, Metric::SecondaryT) - secondary).abs() < 1e-12);
    assert!((ws.metric(0, Metric::CollectedT) - 0.4 * ws.metric(0, Metric::EolT)).abs() < 1e-12);
}

/// With an uncertain lifetime the per-run kernel is rebuilt from the drawn
/// parameter: with a drawn fixed lifetime L (uniform 5..9 years, yearly
/// steps) and one cohort in 2020, the cohort leaves in the step whose
/// interval (a - 0.5, a + 0.5] holds L.
#[test]
fn uncertain_lifetime_is_drawn_per_run() {
    let s = scenario(
        "[simulation]\nname = \"p\"\nstart_year = 2025\nyears = 8\nstep = \"year\"\nruns = 1\nseed = 3\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 100\nprice_eur_per_t = 1\n\
         value_of_lost_load_eur_per_t = 1\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[product]]\nid = \"p\"\ninflow = { 2020 = 100, 2021 = 0 }\n\
         lifetime = { model = \"fixed\", years = { dist = \"uniform\", min = 5.0, max = 9.0 } }\n\
         content_t_per_unit = { x = 1.0 }\ncollection_rate = 1.0\nrecovery = { x = 1.0 }\n",
    );
    assert_eq!(
        Prepared::new(&s, 3).param_names(),
        vec!["product[p].lifetime.years".to_string()]
    );
    let mut steps_seen = std::collections::BTreeSet::new();
    for_each_run(&s, 3, 40, |run, _, ws| {
        let life = ws.params(0)[0];
        // Age a with a - 0.5 < L <= a + 0.5; horizon step = 2020 + a - 2025.
        let a = (life - 0.5).ceil() as usize;
        let t = a - 5;
        assert_eq!(
            ws.value(8, 0, Variable::Eol, t),
            100.0,
            "run {run}: L = {life}"
        );
        steps_seen.insert(t);
    });
    assert!(steps_seen.len() >= 3, "the draws vary: {steps_seen:?}");
}
