//! Domestic refining, supply-chain stages, routes and hubs, and market
//! responses, against hand-worked cases.

use crate::util::{one_run, scenario, simulate_runs};
use crmsim::vocab::{Metric, Variable};

const HEAD: &str =
    "[simulation]\nname = \"r\"\nstart_year = 2025\nstep = \"month\"\nruns = 1\nseed = 1\n";

fn material(id: &str, demand_tpy: f64, sources: &str) -> String {
    format!(
        "[[material]]\nid = \"{id}\"\ndemand_tpy = {demand_tpy}\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 1\n{sources}\n"
    )
}

/// Capacity 120 t/yr (10 t a month) online from 2027 with a 2-year ramp and
/// utilization 0.8: nothing in 2025-2026, then in the k-th month online
/// 10 x 0.8 x min(1, k/24), full from the 24th month. Capex 5e7 in January
/// 2027; opex 100 EUR/t on every tonne produced.
#[test]
fn refinery_output_follows_the_hand_computed_ramp() {
    let s = scenario(&format!(
        "{HEAD}years = 6\n{}\
         [[refinery]]\nmaterial = \"x\"\ncapacity_tpy = 120\nonline_year = 2027\nramp_years = 2\n\
         utilization = 0.8\ncapex_eur = 5e7\nopex_eur_per_t = 100\n",
        material(
            "x",
            240.0,
            "[[material.source]]\nregion = \"A\"\nshare = 1.0"
        )
    ));
    let (steps, ws) = one_run(&s);
    let mut produced = 0.0;
    for t in 0..steps {
        let expected = if t < 24 {
            0.0
        } else {
            10.0 * 0.8 * ((t - 24 + 1) as f64 / 24.0).min(1.0)
        };
        let got = ws.value(steps, 0, Variable::Refinery, t);
        assert!(
            (got - expected).abs() < 1e-12,
            "step {t}: {got} vs {expected}"
        );
        // Refined output is used first; imports cover the rest of 20 t.
        let imports = ws.value(steps, 0, Variable::Imports, t);
        assert!((imports - (20.0 - expected)).abs() < 1e-12);
        produced += expected;
    }
    assert!((ws.metric(0, Metric::RefineryT) - produced).abs() < 1e-9);
    let cost = ws.metric(0, Metric::RefineryCostEur);
    assert!((cost - (5e7 + 100.0 * produced)).abs() < 1e-6, "{cost}");
}

/// A region event on the feed cuts the refinery's output by exactly its
/// severity (0.4 of a feed that is all from AU: 60 % of 10 t); an event on
/// the same region limited to the import stage leaves the refinery whole and
/// cuts the AU imports instead.
#[test]
fn feed_events_cut_the_refinery_and_import_events_do_not() {
    let s = scenario(&format!(
        "{HEAD}years = 1\n{}\
         [[refinery]]\nmaterial = \"x\"\ncapacity_tpy = 120\nonline_year = 2020\n\
         feed = [{{ region = \"AU\", share = 1.0 }}]\n\
         [[disruption]]\nname = \"feed\"\nmaterials = [\"x\"]\nregion = \"AU\"\nstage = \"feed\"\n\
         start = \"2025-03\"\nduration_months = 1\nseverity = 0.4\n\
         [[disruption]]\nname = \"import\"\nmaterials = [\"x\"]\nregion = \"AU\"\nstage = \"import\"\n\
         start = \"2025-06\"\nduration_months = 1\nseverity = 0.5\n\
         [[disruption]]\nname = \"both\"\nmaterials = [\"x\"]\nregion = \"AU\"\n\
         start = \"2025-09\"\nduration_months = 1\nseverity = 1.0\n",
        material("x", 240.0, "[[material.source]]\nregion = \"AU\"\nshare = 1.0")
    ));
    let (steps, ws) = one_run(&s);
    let v = |var, t| ws.value(steps, 0, var, t);
    // March: refinery 6 t, imports cover the other 14 t in full.
    assert!((v(Variable::Refinery, 2) - 6.0).abs() < 1e-12);
    assert!((v(Variable::FeedAvailability, 2) - 0.6).abs() < 1e-12);
    assert_eq!(v(Variable::Shortfall, 2), 0.0);
    // June: refinery untouched (10 t); half the 10 t of imports lost.
    assert_eq!(v(Variable::Refinery, 5), 10.0);
    assert!((v(Variable::Shortfall, 5) - 5.0).abs() < 1e-12);
    // September: both stages cut: no refinery output, no imports.
    assert_eq!(v(Variable::Refinery, 8), 0.0);
    assert!((v(Variable::Shortfall, 8) - 20.0).abs() < 1e-12);
    // Other months: full supply.
    assert_eq!(v(Variable::Shortfall, 0), 0.0);
}

/// A route event hits exactly the sources that list the route, in every
/// material it names, and nothing else: Rotterdam carries x's source A and
/// y's source C; x's B and y's D go elsewhere.
#[test]
fn route_events_hit_exactly_the_flows_listing_the_route() {
    let s = scenario(&format!(
        "{HEAD}years = 1\n{}{}\
         [[disruption]]\nname = \"port\"\nmaterials = \"all\"\nroute = \"Rotterdam\"\n\
         start = \"2025-01\"\nduration_months = 2\nseverity = 1.0\n",
        material(
            "x",
            120.0,
            "[[material.source]]\nregion = \"A\"\nshare = 0.7\nroutes = [\"Suez\", \"Rotterdam\"]\n\
             [[material.source]]\nregion = \"B\"\nshare = 0.3\nroutes = [\"Antwerp\"]"
        ),
        material(
            "y",
            120.0,
            "[[material.source]]\nregion = \"C\"\nshare = 0.2\nroutes = [\"Rotterdam\"]\n\
             [[material.source]]\nregion = \"D\"\nshare = 0.8"
        )
    ));
    let (steps, ws) = one_run(&s);
    for t in 0..2 {
        assert!((ws.value(steps, 0, Variable::Shortfall, t) - 7.0).abs() < 1e-12);
        assert!((ws.value(steps, 1, Variable::Shortfall, t) - 2.0).abs() < 1e-12);
    }
    assert_eq!(ws.value(steps, 0, Variable::Shortfall, 2), 0.0);
}

/// A full cut of all imports from January 2025 for 24 months, demand 12 t a
/// month. Substitution: max 0.3, 0.12 a year, no lag: in month t (from 0)
/// demand is 12 x (1 - min(0.3, 0.12 (t + 1)/12)). New capacity: 0.24 of the
/// import market a year, lead time 0.5 years (6 months), so from month 6 it
/// supplies min(1, 0.24 (t - 5)/12) of the need.
#[test]
fn substitution_and_new_capacity_follow_their_ramps() {
    let s = scenario(&format!(
        "{HEAD}years = 3\n{}\
         substitution = {{ max_fraction = 0.3, per_year = 0.12 }}\n\
         new_capacity = {{ share_per_year = 0.24, lead_time_years = 0.5 }}\n\
         [[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2025-01\"\n\
         duration_months = 24\nseverity = 1.0\n",
        "[[material]]\nid = \"x\"\ndemand_tpy = 144\nprice_eur_per_t = 1\nvalue_of_lost_load_eur_per_t = 1\n"
    ));
    let (steps, ws) = one_run(&s);
    for t in 0..steps {
        let sigma = (0.12 * (t + 1) as f64 / 12.0).min(0.3);
        let demand = 12.0 * (1.0 - sigma);
        let got = ws.value(steps, 0, Variable::Demand, t);
        assert!(
            (got - demand).abs() < 1e-12,
            "month {t}: demand {got} vs {demand}"
        );
        let new_share = if t >= 6 {
            (0.24 * (t - 5) as f64 / 12.0).min(1.0)
        } else {
            0.0
        };
        let short = if t < 24 {
            demand * (1.0 - new_share)
        } else {
            0.0
        };
        let got = ws.value(steps, 0, Variable::Shortfall, t);
        assert!(
            (got - short).abs() < 1e-12,
            "month {t}: shortfall {got} vs {short}"
        );
    }
}

/// A trade hub: a source that re-exports 3/4 of its gross flow passes on
/// three times what it delivers for domestic use; domestic use and shortfall
/// are as without re-exports. A target of 30 days of net imports, with a
/// refinery covering half of demand, is 30/365 of the yearly net imports.
#[test]
fn hub_reexports_and_net_import_targets() {
    let s = scenario(&format!(
        "{HEAD}years = 1\n{}\
         [[refinery]]\nmaterial = \"x\"\ncapacity_tpy = 365\nonline_year = 2020\n\
         [[stockpile]]\nmaterial = \"x\"\ntarget_days = 30\ntarget_basis = \"net_imports\"\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2025-06\"\n\
         duration_months = 1\nseverity = 0.5\n",
        material(
            "x",
            730.0,
            "reexport_share = 0.75\n[[material.source]]\nregion = \"A\"\nshare = 0.5\n\
             [[material.source]]\nregion = \"B\"\nshare = 0.5\nreexport_share = 0.0"
        )
    ));
    let (steps, ws) = one_run(&s);
    let v = |var, t| ws.value(steps, 0, var, t);
    // Re-exports are sized on consumption (730/12 t a month), not on the
    // need for imports left by the refinery: A carries half of it.
    let consumption = 730.0 / 12.0;
    assert!((v(Variable::Reexports, 0) - 3.0 * 0.5 * consumption).abs() < 1e-9);
    // In June A delivers half of its flow: re-exports fall with it.
    assert!((v(Variable::Reexports, 5) - 3.0 * 0.25 * consumption).abs() < 1e-9);
    // Need for imports: 730/12 - 365/12 = 30.4167 t a month.
    let need = 365.0 / 12.0;
    assert!((v(Variable::Imports, 0) - need).abs() < 1e-9);
    // 30 days of net imports: 30/365 x (need x 12) = 30 t.
    assert!((v(Variable::StockpileLevel, 0) - 30.0).abs() < 1e-9);
}

/// Adding a refinery (a policy) changes no world draw of any run, and with
/// a feed that is not exposed it never increases a run's shortfall.
#[test]
fn refinery_variant_shares_the_world_and_never_hurts() {
    let base = "[simulation]\nname = \"r\"\nstart_year = 2025\nyears = 10\nruns = 1\nseed = 5\n\
         [[material]]\nid = \"x\"\ndemand_tpy = { dist = \"uniform\", min = 50, max = 150 }\n\
         demand_growth = { dist = \"normal\", mean = 0.02, sd = 0.02 }\n\
         price_eur_per_t = 1\nvalue_of_lost_load_eur_per_t = 1\n\
         substitution = { max_fraction = 0.2, per_year = { dist = \"uniform\", min = 0.02, max = 0.1 } }\n\
         [[material.source]]\nregion = \"CN\"\nshare = 0.9\n\
         spare_capacity = { dist = \"uniform\", min = 0, max = 0.3 }\n\
         [[material.source]]\nregion = \"other\"\nshare = 0.1\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"CN\"\nrate_per_year = { dist = \"uniform\", min = 0.1, max = 0.5 }\n\
         duration_months = { dist = \"lognormal\", mean = 10, sd = 6 }\nseverity = { dist = \"uniform\", min = 0.2, max = 1 }\n"
    .to_string();
    let with = format!(
        "{base}[[refinery]]\nmaterial = \"x\"\ncapacity_tpy = 30\nonline_year = 2027\nramp_years = 1\n\
         utilization = {{ dist = \"triangular\", min = 0.6, mode = 0.85, max = 0.95 }}\n"
    );
    let (a, b) = (scenario(&base), scenario(&with));
    let (ra, rb) = (simulate_runs(&a, 1000, 5), simulate_runs(&b, 1000, 5));
    // The world parameters come first and are the same, run by run.
    let n_world = ra.runs.param_names().len();
    assert_eq!(&rb.runs.param_names()[..n_world], ra.runs.param_names());
    assert_eq!(
        rb.runs.param_names()[n_world],
        "refinery[refinery-1].utilization"
    );
    let mut better = 0;
    for i in 0..1000 {
        assert_eq!(
            ra.runs.params(i).unwrap(),
            &rb.runs.params(i).unwrap()[..n_world],
            "run {i}"
        );
        let (sa, sb) = (
            ra.runs.get(i, 0, Metric::ShortfallT).unwrap(),
            rb.runs.get(i, 0, Metric::ShortfallT).unwrap(),
        );
        assert!(sb <= sa + 1e-9, "run {i}: {sb} > {sa}");
        better += usize::from(sb < sa - 1e-9);
    }
    assert!(better > 100, "the refinery matters in this case ({better})");
}
