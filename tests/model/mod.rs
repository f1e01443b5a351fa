//! The model's numbers against numbers worked out outside the code: closed
//! forms, hand calculations written out here, and conservation laws.

use crate::util::{for_each_run, scenario, simulate_runs, trajectory};
use crmsim::vocab::{Metric, Variable};

fn header(years: u32, step: &str, runs: u64) -> String {
    format!(
        "[simulation]\nname = \"t\"\nstart_year = 2025\nyears = {years}\nstep = \"{step}\"\n\
         runs = {runs}\nseed = 1\n"
    )
}

/// Poisson events of fixed duration d steps and severity 1 on the only
/// source, constant demand D per step, no stockpile. Step t is short exactly
/// when some event started in one of the min(d, t + 1) steps ending at t; the
/// number started in each step is Poisson(L dt), so
///   E[total shortfall] = D x sum_t (1 - exp(-L dt min(d, t + 1))).
#[test]
fn poisson_shortfall_matches_closed_form() {
    let (years, rate, d_months) = (10u32, 0.5f64, 6usize);
    let demand_tpy = 12.0; // D = 1 t per monthly step
    let s = scenario(&format!(
        "{}\n[[material]]\nid = \"x\"\ndemand_tpy = {demand_tpy}\nprice_eur_per_t = 1\n\
         value_of_lost_load_eur_per_t = 1\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nrate_per_year = {rate}\n\
         duration_months = {d_months}\nseverity = 1.0\n",
        header(years, "month", 1)
    ));
    let runs = 20_000;
    let out = simulate_runs(&s, runs, 7);
    let dt = 1.0 / 12.0;
    let steps = years as usize * 12;
    let expected: f64 = (0..steps)
        .map(|t| 1.0 - (-rate * dt * d_months.min(t + 1) as f64).exp())
        .sum::<f64>()
        * (demand_tpy * dt);
    let xs = out.runs.column(0, Metric::ShortfallT).unwrap();
    let mean = xs.iter().sum::<f64>() / runs as f64;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (runs - 1) as f64).sqrt();
    let se = sd / (runs as f64).sqrt();
    assert!(
        (mean - expected).abs() < 4.0 * se,
        "mean {mean} vs closed form {expected} (se {se})"
    );
}

/// A scheduled full cut of 6 months against a full stockpile of 3 months of
/// demand with no release limit: the stock covers 3 months, the other 3 are
/// short. Demand 120 t/yr = 10 t/month; 91.25 days = 1/4 year = 30 t.
#[test]
fn stockpile_covers_exactly_its_months() {
    let s = scenario(&format!(
        "{}\n[[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1\n\
         value_of_lost_load_eur_per_t = 1\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2026-03\"\n\
         duration_months = 6\nseverity = 1.0\n\
         [[stockpile]]\nmaterial = \"x\"\ntarget_days = 91.25\n",
        header(3, "month", 1)
    ));
    let (prep, ws) = trajectory(&s, 1, 0);
    assert!((ws.metric(0, Metric::ShortfallT) - 30.0).abs() < 1e-9);
    assert!((ws.metric(0, Metric::ReleaseT) - 30.0).abs() < 1e-9);
    assert_eq!(ws.metric(0, Metric::ShortfallSteps), 3.0);
    assert_eq!(ws.metric(0, Metric::LongestShortfallSteps), 3.0);
    // The cut starts in March 2026 = step 14: releases in 14..17, short in 17..20.
    let steps = prep.steps();
    for t in 0..steps {
        let release = ws.value(steps, 0, Variable::Release, t);
        let short = ws.value(steps, 0, Variable::Shortfall, t);
        let (r, sh) = match t {
            14..=16 => (10.0, 0.0),
            17..=19 => (0.0, 10.0),
            _ => (0.0, 0.0),
        };
        assert!(
            (release - r).abs() < 1e-9 && (short - sh).abs() < 1e-9,
            "step {t}"
        );
    }
}

/// Two sources, A (share 0.6) fully cut for 12 months from the first step,
/// B (share 0.4) with spare capacity 0.5 reached over 4 months. Need N = 10
/// t/month; A loses 6; B can add 0.5 x 0.4 x 10 = 2 t at full ramp, and
/// k/4 of it in the k-th month of the loss: 0.5, 1.0, 1.5, then 2.0.
#[test]
fn spare_capacity_ramps_linearly_to_share_times_spare() {
    let s = scenario(&format!(
        "{}\n[[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1\n\
         value_of_lost_load_eur_per_t = 1\n\
         [[material.source]]\nregion = \"A\"\nshare = 0.6\n\
         [[material.source]]\nregion = \"B\"\nshare = 0.4\nspare_capacity = 0.5\nramp_months = 4\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2025-01\"\n\
         duration_months = 12\nseverity = 1.0\n",
        header(2, "month", 1)
    ));
    let (prep, ws) = trajectory(&s, 1, 0);
    let steps = prep.steps();
    for t in 0..steps {
        let comp = if t < 12 {
            2.0 * ((t + 1) as f64 / 4.0).min(1.0)
        } else {
            0.0
        };
        let short = if t < 12 { 6.0 - comp } else { 0.0 };
        let imports = ws.value(steps, 0, Variable::Imports, t);
        assert!(
            (imports - (10.0 - short)).abs() < 1e-12,
            "step {t}: imports {imports}"
        );
        let got = ws.value(steps, 0, Variable::Shortfall, t);
        assert!(
            (got - short).abs() < 1e-12,
            "step {t}: shortfall {got} vs {short}"
        );
    }
    // Quarterly steps: k counts 3 months a step, so 3/4 then full.
    let q = scenario(&format!(
        "{}\n[[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1\n\
         value_of_lost_load_eur_per_t = 1\n\
         [[material.source]]\nregion = \"A\"\nshare = 0.6\n\
         [[material.source]]\nregion = \"B\"\nshare = 0.4\nspare_capacity = 0.5\nramp_months = 4\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2025-01\"\n\
         duration_months = 12\nseverity = 1.0\n",
        header(2, "quarter", 1)
    ));
    let (prep, ws) = trajectory(&q, 1, 0);
    // N = 30 t/quarter; A loses 18; full compensation 0.5 x 0.4 x 30 = 6.
    let expect = [18.0 - 6.0 * 0.75, 12.0, 12.0, 12.0, 0.0];
    for (t, e) in expect.iter().enumerate() {
        let got = ws.value(prep.steps(), 0, Variable::Shortfall, t);
        assert!((got - e).abs() < 1e-12, "quarter {t}: {got} vs {e}");
    }
}

/// Demand D(t) = demand_tpy (1 + g)^(t dt) dt, growth counted to the start of
/// the step, for each step length.
#[test]
fn demand_grows_as_written() {
    for (step, dt) in [("month", 1.0 / 12.0), ("quarter", 0.25), ("year", 1.0)] {
        let s = scenario(&format!(
            "{}\n[[material]]\nid = \"x\"\ndemand_tpy = 100\ndemand_growth = 0.1\n\
             price_eur_per_t = 1\nvalue_of_lost_load_eur_per_t = 1\n\
             [[material.source]]\nregion = \"A\"\nshare = 1.0\n",
            header(5, step, 1)
        ));
        let (prep, ws) = trajectory(&s, 1, 0);
        for t in 0..prep.steps() {
            let expected = 100.0 * 1.1f64.powf(t as f64 * dt) * dt;
            let got = ws.value(prep.steps(), 0, Variable::Demand, t);
            assert!(
                (got - expected).abs() < 1e-12 * expected,
                "{step} {t}: {got} vs {expected}"
            );
        }
    }
}

/// The market's price with demand elasticity e, no supply elasticity and
/// the region the whole market: x solves x^e = 1 - L_w, L_w the share of
/// supply lost to world-scope events (MARKET.md, "One step"), capped. A
/// cut of half the supply (an event on a region: world scope) with
/// e = -0.5 gives x = 0.5^-2 = 4 times the price, and users give up
/// D (1 - 4^-0.5) = half of demand; a full cut has no root: the default
/// cap of 10, where users want D 10^-0.5 and get nothing (rationed).
/// D = 1 t a month.
#[test]
fn price_responds_to_scarcity_with_cap() {
    let s = scenario(&format!(
        "{}\n[[material]]\nid = \"x\"\ndemand_tpy = 12\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\ndemand_elasticity = -0.5\n\
         [[material.source]]\nregion = \"A\"\nshare = 0.5\n\
         [[material.source]]\nregion = \"B\"\nshare = 0.5\n\
         [[disruption]]\nname = \"half\"\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2025-02\"\n\
         duration_months = 1\nseverity = 1.0\n\
         [[disruption]]\nname = \"all-a\"\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2025-04\"\n\
         duration_months = 1\nseverity = 1.0\n\
         [[disruption]]\nname = \"all-b\"\nmaterials = [\"x\"]\nregion = \"B\"\nstart = \"2025-04\"\n\
         duration_months = 1\nseverity = 1.0\n",
        header(1, "month", 1)
    ));
    let (prep, ws) = trajectory(&s, 1, 0);
    let v = |var, t| ws.value(prep.steps(), 0, var, t);
    let price = |t| v(Variable::Price, t);
    assert_eq!(price(0), 1000.0);
    assert!((price(1) - 4000.0).abs() < 1e-9);
    assert_eq!(price(2), 1000.0);
    assert!((price(3) - 10_000.0).abs() < 1e-9);
    // The region is the whole market: its price is the world's.
    for t in 0..4 {
        assert!(
            (v(Variable::WorldPrice, t) - price(t)).abs() < 1e-9,
            "step {t}"
        );
    }
    // Half cut: 0.5 t consumed, 0.5 t given up, none short.
    assert!((v(Variable::Consumption, 1) - 0.5).abs() < 1e-12);
    assert!((v(Variable::DemandReduction, 1) - 0.5).abs() < 1e-12);
    assert_eq!(v(Variable::Shortfall, 1), 0.0);
    // Full cut: wanted 10^-0.5 = 0.316228 t at the cap, none delivered.
    let wanted = 10f64.powf(-0.5);
    assert_eq!(v(Variable::Consumption, 3), 0.0);
    assert!((v(Variable::Shortfall, 3) - wanted).abs() < 1e-12);
    assert!((v(Variable::DemandReduction, 3) - (1.0 - wanted)).abs() < 1e-12);
    // The peak is the cap.
    assert!((ws.metric(0, Metric::PeakPriceMultiple) - 10.0).abs() < 1e-12);
}

/// Costs by hand: a stock of 10 t bought at 1000 EUR/t at the start, held 12
/// months at 2 %/yr: 10 000 + 12 x 10 x 1000 x 0.02 / 12 = 10 200 EUR; it
/// never releases, so it sells nothing and 10 t at 1000 EUR/t are left.
/// A 1-month full cut of 1 t with lost load 5000 EUR/t and no stock, in a
/// market that does not clear (no demand elasticity): the users lose the
/// value of the tonne less the price they did not pay,
/// 1 x (5000 - 1000) = 4000 EUR, their whole welfare loss (no price
/// change, no domestic output).
#[test]
fn costs_by_hand() {
    let s = scenario(&format!(
        "{}\n[[material]]\nid = \"x\"\ndemand_tpy = 12\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 5000\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[material]]\nid = \"y\"\ndemand_tpy = 12\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 5000\n[[material.source]]\nregion = \"B\"\nshare = 1.0\n\
         [[disruption]]\nmaterials = [\"y\"]\nregion = \"B\"\nstart = \"2025-06\"\n\
         duration_months = 1\nseverity = 1.0\n\
         [[stockpile]]\nmaterial = \"x\"\ntarget_t = 10\nholding_cost_rate = 0.02\nbuy_initial = true\n",
        header(1, "month", 1)
    ));
    let (_, ws) = trajectory(&s, 1, 0);
    assert!((ws.metric(0, Metric::StockpileCostEur) - 10_200.0).abs() < 1e-6);
    assert_eq!(ws.metric(0, Metric::ShortageCostEur), 0.0);
    assert_eq!(ws.metric(0, Metric::StockpileSalesEur), 0.0);
    assert!((ws.metric(0, Metric::StockpileEndValueEur) - 10_000.0).abs() < 1e-6);
    assert_eq!(ws.metric(0, Metric::WelfareLossEur), 0.0);
    assert!((ws.metric(1, Metric::ShortageCostEur) - 4000.0).abs() < 1e-9);
    assert!((ws.metric(1, Metric::WelfareLossEur) - 4000.0).abs() < 1e-9);
    assert_eq!(ws.metric(1, Metric::PriceCostEur), 0.0);
    assert!((ws.metric(1, Metric::ShortfallFraction) - 1.0 / 12.0).abs() < 1e-12);
}

/// An event's duration is rounded up to whole steps, at least one: 4 months
/// is 2 quarters, 1 month is one quarter.
#[test]
fn durations_round_up_to_whole_steps() {
    for (months, quarters) in [(4.0, 2.0), (1.0, 1.0), (6.0, 2.0), (0.0, 1.0)] {
        let s = scenario(&format!(
            "{}\n[[material]]\nid = \"x\"\ndemand_tpy = 4\nprice_eur_per_t = 1\n\
             value_of_lost_load_eur_per_t = 1\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n\
             [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2025-04\"\n\
             duration_months = {months}\nseverity = 1.0\n",
            header(2, "quarter", 1)
        ));
        let (_, ws) = trajectory(&s, 1, 0);
        assert_eq!(
            ws.metric(0, Metric::ShortfallSteps),
            quarters,
            "{months} months"
        );
    }
}

/// Overlapping events multiply their (1 - severity): 0.5 and 0.5 leave a
/// quarter of the flow; a route event hits only the sources listing it.
#[test]
fn overlapping_events_multiply_and_routes_hit_only_their_flows() {
    let s = scenario(&format!(
        "{}\n[[material]]\nid = \"x\"\ndemand_tpy = 12\nprice_eur_per_t = 1\n\
         value_of_lost_load_eur_per_t = 1\n\
         [[material.source]]\nregion = \"A\"\nshare = 0.5\nroutes = [\"Suez\"]\n\
         [[material.source]]\nregion = \"B\"\nshare = 0.5\nroutes = [\"Cape\"]\n\
         [[disruption]]\nname = \"a\"\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2025-01\"\n\
         duration_months = 2\nseverity = 0.5\n\
         [[disruption]]\nname = \"suez\"\nmaterials = \"all\"\nroute = \"Suez\"\nstart = \"2025-02\"\n\
         duration_months = 1\nseverity = 0.5\n",
        header(1, "month", 1)
    ));
    let (prep, ws) = trajectory(&s, 1, 0);
    let short = |t| ws.value(prep.steps(), 0, Variable::Shortfall, t);
    // Month 1: A at 0.5 -> loses 0.5 x 0.5 = 0.25 t. Month 2: A at 0.25 -> 0.375 t.
    assert!((short(0) - 0.25).abs() < 1e-12);
    assert!((short(1) - 0.375).abs() < 1e-12);
    assert_eq!(short(2), 0.0);
}

/// Conservation in every step of every run: demand = supply + release +
/// demand given up at the price + shortfall, supply + release being what
/// the users consume; shortfall never above demand; the stock never negative, and
/// never raised by purchases above max(previous level, current target) nor by
/// more than one step of refill. With demand that does not fall (the target
/// does not shrink), that is: never above the target plus one step of refill.
#[test]
fn conservation_and_bounds_every_step() {
    let s = scenario(&format!(
        "{}\n[[material]]\nid = \"x\"\ndemand_tpy = {{ dist = \"lognormal\", mean = 40, sd = 10 }}\n\
         demand_growth = {{ dist = \"normal\", mean = 0.04, sd = 0.03 }}\n\
         price_eur_per_t = 400000\nvalue_of_lost_load_eur_per_t = 8000000\ndemand_elasticity = -0.3\n\
         [[material.source]]\nregion = \"CN\"\nshare = 0.71\nroutes = [\"Suez\"]\n\
         [[material.source]]\nregion = \"other\"\nshare = 0.29\n\
         spare_capacity = {{ dist = \"uniform\", min = 0, max = 0.5 }}\nramp_months = 6\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"CN\"\nrate_per_year = 0.5\n\
         duration_months = {{ dist = \"lognormal\", mean = 12, sd = 8 }}\n\
         severity = {{ dist = \"uniform\", min = 0.3, max = 1.0 }}\n\
         [[disruption]]\nname = \"suez\"\nmaterials = \"all\"\nroute = \"Suez\"\nrate_per_year = 0.3\n\
         duration_months = 3\nseverity = 0.6\n\
         [[stockpile]]\nmaterial = \"x\"\ntarget_days = 60\ninitial_fill = 0.5\nrelease_trigger = 0.02\n\
         max_release_tpy = 30\nreplenish_tpy = 10\n",
        header(20, "month", 1)
    ));
    let dt = 1.0 / 12.0;
    let mut short_steps = 0;
    let refill = 10.0 * dt;
    for_each_run(&s, 3, 500, |run, steps, ws| {
        let v = |var, t| ws.value(steps, 0, var, t);
        let mut previous = 0.5 * 60.0 / 365.0 * v(Variable::Demand, 0) / dt;
        let mut growing = true;
        for t in 0..steps {
            let (d, sup, rel, sh, given_up, used) = (
                v(Variable::Demand, t),
                v(Variable::Supply, t),
                v(Variable::Release, t),
                v(Variable::Shortfall, t),
                v(Variable::DemandReduction, t),
                v(Variable::Consumption, t),
            );
            assert!(
                (d - (sup + rel + given_up + sh)).abs() <= 1e-12 * d,
                "run {run} step {t}"
            );
            assert!(
                (d - (used + given_up + sh)).abs() <= 1e-12 * d,
                "run {run} step {t}"
            );
            assert!(sh >= 0.0 && sh <= d && rel >= 0.0 && given_up >= 0.0);
            let level = v(Variable::StockpileLevel, t);
            let target = 60.0 / 365.0 * d / dt;
            assert!(level >= 0.0, "run {run} step {t}: level {level}");
            assert!(level <= previous.max(target) + 1e-9, "run {run} step {t}");
            assert!(level <= previous + refill + 1e-9, "run {run} step {t}");
            growing &= t == 0 || d >= v(Variable::Demand, t - 1);
            if growing {
                assert!(
                    level <= target + refill + 1e-9,
                    "run {run} step {t}: {level} > {target}"
                );
            }
            previous = level;
            short_steps += usize::from(sh > 0.0);
        }
    });
    assert!(short_steps > 0, "the case exercises shortfalls");
}

/// Common random numbers: adding a stockpile changes no world draw (demand is
/// identical run by run) and never increases any run's shortfall.
#[test]
fn stockpile_variant_sees_the_same_world_and_never_more_shortfall() {
    let base = format!(
        "{}\n[[material]]\nid = \"x\"\ndemand_tpy = {{ dist = \"uniform\", min = 30, max = 50 }}\n\
         demand_growth = {{ dist = \"normal\", mean = 0.03, sd = 0.02 }}\n\
         price_eur_per_t = 1\nvalue_of_lost_load_eur_per_t = 1\n\
         [[material.source]]\nregion = \"CN\"\nshare = 0.8\n\
         [[material.source]]\nregion = \"other\"\nshare = 0.2\nspare_capacity = 0.3\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"CN\"\nrate_per_year = 0.3\n\
         duration_months = {{ dist = \"exponential\", mean = 9 }}\n\
         severity = {{ dist = \"beta\", alpha = 2, beta = 2 }}\n",
        header(15, "month", 1)
    );
    let with =
        format!("{base}\n[[stockpile]]\nmaterial = \"x\"\ntarget_days = 90\nreplenish_tpy = 5\n");
    let a = simulate_runs(&scenario(&base), 2000, 11);
    let b = simulate_runs(&scenario(&with), 2000, 11);
    let mut strictly_better = 0;
    for i in 0..2000 {
        assert_eq!(
            a.runs.get(i, 0, Metric::DemandT).unwrap().to_bits(),
            b.runs.get(i, 0, Metric::DemandT).unwrap().to_bits(),
            "run {i}: same world"
        );
        let (sa, sb) = (
            a.runs.get(i, 0, Metric::ShortfallT).unwrap(),
            b.runs.get(i, 0, Metric::ShortfallT).unwrap(),
        );
        assert!(sb <= sa + 1e-9, "run {i}: {sb} > {sa}");
        strictly_better += usize::from(sb < sa);
    }
    assert!(strictly_better > 100, "the stockpile matters in this case");
}
