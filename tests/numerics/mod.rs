//! Numerical care at the edges: tiny, huge and zero demands, shares that sum
//! to 1 only up to rounding, and severities of exactly 0 and exactly 1.

use crate::util::{for_each_run, library, load, root, scenario};
use crmsim::engine::{simulate_run, Prepared, Workspace};
use crmsim::scenario::Scenario;
use crmsim::vocab::{Metric, Variable};
use std::path::Path;

mod reference;

/// Demand is met by supply, release, demand given up at the price and
/// shortfall at every step (supply + release being what the users consume),
/// within a relative 1e-9, and every value is finite and not negative.
fn assert_balanced(s: &Scenario) {
    let n_mat = s.material_ids().count();
    for_each_run(s, s.seed(), s.runs(), |run, steps, ws| {
        for m in 0..n_mat {
            for t in 0..steps {
                let v = |var| ws.value(steps, m, var, t);
                for var in Variable::ALL {
                    assert!(
                        v(var).is_finite() && v(var) >= 0.0,
                        "run {run} step {t}: {} = {}",
                        var.name(),
                        v(var)
                    );
                }
                let d = v(Variable::Demand);
                let sum = v(Variable::Supply)
                    + v(Variable::Release)
                    + v(Variable::DemandReduction)
                    + v(Variable::Shortfall);
                assert!(
                    (d - sum).abs() <= 1e-9 * d,
                    "run {run} step {t}: demand {d} vs {sum}"
                );
                let used = v(Variable::Consumption)
                    + v(Variable::DemandReduction)
                    + v(Variable::Shortfall);
                assert!(
                    (d - used).abs() <= 1e-9 * d,
                    "run {run} step {t}: demand {d} vs consumed, given up and short {used}"
                );
                assert!(v(Variable::Shortfall) <= d);
            }
            for k in Metric::ALL {
                assert!(ws.metric(m, k).is_finite(), "{}", k.name());
            }
        }
    });
}

/// A market of `demand` t/yr with every mechanism at work: two sources, a
/// Poisson disruption, a scheduled full cut, spare capacity, a stockpile in
/// days of demand and a price response. Every quantity is relative to
/// demand, so the shortfall fraction must not depend on its scale.
fn market(demand: f64) -> String {
    format!(
        r#"
[simulation]
name = "scale"
start_year = 2025
years = 10
runs = 40
seed = 3

[[material]]
id = "x"
demand_tpy = {{ dist = "uniform", min = {lo:e}, max = {hi:e} }}
demand_growth = {{ dist = "normal", mean = 0.03, sd = 0.02 }}
price_eur_per_t = 1000
value_of_lost_load_eur_per_t = 20000
demand_elasticity = -0.3

  [[material.source]]
  region = "CN"
  share = 0.7

  [[material.source]]
  region = "other"
  share = 0.3
  spare_capacity = 0.5
  ramp_months = 4

[[disruption]]
materials = ["x"]
region = "CN"
rate_per_year = 0.5
duration_months = {{ dist = "lognormal", mean = 8, sd = 5 }}
severity = {{ dist = "uniform", min = 0.3, max = 1.0 }}

[[disruption]]
materials = ["x"]
region = "other"
start = "2027-01"
duration_months = 12
severity = 1.0

[[stockpile]]
material = "x"
target_days = 90
release_trigger = 0.01
"#,
        lo = 0.8 * demand,
        hi = 1.2 * demand
    )
}

#[test]
fn tiny_and_huge_demands_balance_and_scale() {
    // The shortfall and the demand given up at the price, as fractions of
    // demand, and the peak price multiple: none depends on the scale.
    let fractions = |demand: f64| -> Vec<[f64; 3]> {
        let s = scenario(&market(demand));
        assert_balanced(&s);
        let mut out = Vec::new();
        for_each_run(&s, s.seed(), s.runs(), |_, _, ws| {
            out.push([
                ws.metric(0, Metric::ShortfallFraction),
                ws.metric(0, Metric::DemandReductionT) / ws.metric(0, Metric::DemandT),
                ws.metric(0, Metric::PeakPriceMultiple),
            ]);
        });
        out
    };
    let tiny = fractions(1e-6);
    let huge = fractions(1e9);
    assert!(tiny.iter().any(|f| f[0] > 0.0), "the disruptions bite");
    assert!(tiny.iter().any(|f| f[1] > 0.0), "users give up demand");
    for (a, b) in tiny.iter().zip(&huge) {
        for k in 0..3 {
            assert!(
                (a[k] - b[k]).abs() <= 1e-9 * a[k].max(b[k]).max(1e-300),
                "fraction {k}: {} at 1e-6 t/yr vs {} at 1e9 t/yr",
                a[k],
                b[k]
            );
        }
    }
}

#[test]
fn zero_demand_gives_zero_everything_and_the_base_price() {
    let s = scenario(
        r#"
[simulation]
name = "zero"
start_year = 2025
years = 5
runs = 10
seed = 1

[[material]]
id = "x"
demand_tpy = 0
price_eur_per_t = 1000
value_of_lost_load_eur_per_t = 20000
demand_elasticity = -0.3

  [[material.source]]
  region = "CN"
  share = 1.0
  spare_capacity = 0.5

[[disruption]]
materials = ["x"]
region = "CN"
rate_per_year = 3
duration_months = 6
severity = 1.0

[[stockpile]]
material = "x"
target_days = 60
replenish_tpy = 10
buy_initial = true
holding_cost_rate = 0.05
"#,
    );
    for_each_run(&s, s.seed(), s.runs(), |run, steps, ws| {
        for t in 0..steps {
            for var in Variable::ALL {
                let x = ws.value(steps, 0, var, t);
                // The prices (the region's and the world's) stay at base;
                // feed availability is 1 without refineries; everything
                // else is zero.
                let expected = match var {
                    Variable::Price | Variable::WorldPrice => 1000.0,
                    Variable::FeedAvailability => 1.0,
                    _ => 0.0,
                };
                assert_eq!(x, expected, "run {run} step {t}: {}", var.name());
            }
        }
        for k in Metric::ALL {
            // The peak price is a multiple of the base price: 1.
            let expected = if k == Metric::PeakPriceMultiple {
                1.0
            } else {
                0.0
            };
            assert_eq!(ws.metric(0, k), expected, "run {run}: {}", k.name());
        }
    });
}

fn with_shares(shares: &[&str]) -> String {
    let mut t = String::from(
        "[simulation]\nname = \"s\"\nstart_year = 2025\nyears = 2\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1\n\
         value_of_lost_load_eur_per_t = 1\n",
    );
    for (i, s) in shares.iter().enumerate() {
        t.push_str(&format!(
            "[[material.source]]\nregion = \"R{i}\"\nshare = {s}\nroutes = [\"Suez\"]\n"
        ));
    }
    // Every source cut at once, for the whole horizon.
    t.push_str(
        "[[disruption]]\nmaterials = [\"x\"]\nroute = \"Suez\"\nstart = \"2025-01\"\n\
         duration_months = 24\nseverity = 1.0\n",
    );
    t
}

#[test]
fn shares_summing_to_one_up_to_rounding_are_accepted() {
    let accepted: [&[&str]; 4] = [
        // 0.1 + 0.2 + 0.7 = 1.0000000000000002 in floating point.
        &["0.1", "0.2", "0.7"],
        // Thirds written with 12 digits: 0.999999999999.
        &["0.333333333333", "0.333333333333", "0.333333333334"],
        &["0.333333333333", "0.333333333333", "0.333333333333"],
        // Off by 1e-9.
        &["0.4", "0.600000001"],
    ];
    for shares in accepted {
        let s = scenario(&with_shares(shares));
        // With every source cut, all of demand is short (up to the shares'
        // rounding: they are normalized to sum to 1 only to the last bit),
        // and nothing goes negative.
        assert_balanced(&s);
        for_each_run(&s, s.seed(), s.runs(), |_, steps, ws| {
            for t in 0..steps {
                let supply = ws.value(steps, 0, Variable::Supply, t);
                let short = ws.value(steps, 0, Variable::Shortfall, t);
                assert!((0.0..=1e-12).contains(&supply), "{shares:?}: {supply}");
                assert!((short - 10.0).abs() <= 1e-12, "{shares:?}: {short}");
            }
        });
    }
    let e = Scenario::from_toml(&with_shares(&["0.5", "0.4999"]), Path::new("t.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("must sum to 1"), "{e}");
}

fn base_with(disruption: &str) -> String {
    format!(
        r#"
[simulation]
name = "sev"
start_year = 2025
years = 8
runs = 30
seed = 5

[[material]]
id = "x"
demand_tpy = {{ dist = "lognormal", mean = 50, sd = 10 }}
demand_growth = {{ dist = "normal", mean = 0.02, sd = 0.01 }}
price_eur_per_t = 1000
value_of_lost_load_eur_per_t = 10000
demand_elasticity = -0.5
max_price_multiple = 4

  [[material.source]]
  region = "CN"
  share = 0.6

  [[material.source]]
  region = "other"
  share = 0.4
  spare_capacity = {{ dist = "uniform", min = 0.1, max = 0.5 }}
  ramp_months = 3

[[stockpile]]
material = "x"
target_days = 30
replenish_tpy = 5
{disruption}
"#
    )
}

/// Every recorded value and total of every run, as bits.
fn fingerprint(s: &Scenario) -> Vec<u64> {
    let mut bits = Vec::new();
    for_each_run(s, s.seed(), s.runs(), |_, steps, ws| {
        for var in Variable::ALL {
            bits.extend((0..steps).map(|t| ws.value(steps, 0, var, t).to_bits()));
        }
        bits.extend(Metric::ALL.iter().map(|&k| ws.metric(0, k).to_bits()));
    });
    bits
}

#[test]
fn severity_exactly_zero_changes_nothing_at_all() {
    let without = scenario(&base_with(""));
    let harmless = scenario(&base_with(
        "[[disruption]]\nmaterials = [\"x\"]\nregion = \"CN\"\nrate_per_year = 3\n\
         duration_months = { dist = \"lognormal\", mean = 12, sd = 6 }\nseverity = 0\n",
    ));
    assert_eq!(fingerprint(&without), fingerprint(&harmless));
}

#[test]
fn severity_exactly_one_removes_the_flow_exactly() {
    // The only source cut for 6 months from March 2026 (steps 14 to 19).
    let s = scenario(
        r#"
[simulation]
name = "cut"
start_year = 2025
years = 3
runs = 3
seed = 1

[[material]]
id = "x"
demand_tpy = { dist = "uniform", min = 30, max = 90 }
price_eur_per_t = 1000
value_of_lost_load_eur_per_t = 10000
demand_elasticity = -0.3
max_price_multiple = 7

  [[material.source]]
  region = "CN"
  share = 1.0

[[disruption]]
materials = ["x"]
region = "CN"
start = "2026-03"
duration_months = 6
severity = 1.0
"#,
    );
    // In the cut the market has no supply left (L_w = 1): no price clears
    // it, so the price is the cap, 7 x 1000, and the market rations. Users
    // still want D 7^-0.3 at that price and get nothing: that is the
    // shortfall; the rest, D (1 - 7^-0.3), they give up.
    let wanted = 7f64.powf(-0.3);
    for_each_run(&s, s.seed(), s.runs(), |run, steps, ws| {
        for t in 0..steps {
            let v = |var| ws.value(steps, 0, var, t);
            let d = v(Variable::Demand);
            let cut = (14..20).contains(&t);
            let (supply, short, reduction, price) = if cut {
                (0.0, d * wanted, d * (1.0 - wanted), 7000.0)
            } else {
                (d, 0.0, 0.0, 1000.0)
            };
            assert_eq!(v(Variable::Supply), supply, "run {run} step {t}");
            assert_eq!(v(Variable::Consumption), supply, "run {run} step {t}");
            assert!(
                (v(Variable::Shortfall) - short).abs() <= 1e-12 * d,
                "run {run} step {t}: shortfall {} vs {short}",
                v(Variable::Shortfall)
            );
            assert!(
                (v(Variable::DemandReduction) - reduction).abs() <= 1e-12 * d,
                "run {run} step {t}: demand reduction {} vs {reduction}",
                v(Variable::DemandReduction)
            );
            assert!(
                (v(Variable::Price) - price).abs() <= 1e-12 * price,
                "run {run} step {t}: price {}",
                v(Variable::Price)
            );
        }
        assert_eq!(ws.metric(0, Metric::ShortfallSteps), 6.0);
    });
}

/// Every run equals a plain scalar implementation of the model written in
/// the test from docs/model.md (`reference.rs`), step by step and in its
/// totals, in random scenarios of what that implementation covers: one or
/// two materials, sources with spare capacity and ramps, scheduled events
/// on regions and routes, a stockpile with its release and refill rules, a
/// price response with a cap, discounting. The engine's runs are read from
/// groups of lanes (full and partial), and their totals from the driver's
/// per-run table too.
///
/// Equal to a relative 1e-12 of each value's scale (a step's demand or
/// stock for tonnes, the base price for prices), not bit for bit: the
/// reference grows demand as (1 + g)^(t dt) where the engine multiplies a
/// step's factor in, takes (S/D)^(1/e) with `powf` where the engine takes
/// exp(ln(S/D)/e), and adds in its own order. Counts of steps are exact.
#[test]
fn runs_equal_a_scalar_implementation_of_the_model() {
    use crmsim::engine::simulate_runs;
    use crmsim::engine::LANES;
    use crmsim::vocab::N_METRICS;
    use reference::Draws;
    let tonnes = [
        Variable::Demand,
        Variable::Supply,
        Variable::Imports,
        Variable::Secondary,
        Variable::Refinery,
        Variable::StockpileLevel,
        Variable::Release,
        Variable::Shortfall,
        Variable::InUseStock,
        Variable::Eol,
        Variable::Collected,
        Variable::Reexports,
        Variable::Consumption,
        Variable::DemandReduction,
    ];
    let (mut cases, mut above_base, mut released, mut short) = (0, 0, 0, 0);
    let (mut inventory_sold, mut inventory_bought) = (0, 0);
    for case in reference::cases(2024).take(300) {
        let text = case.toml();
        let s = scenario(&text);
        let prep = Prepared::new(&s, case.seed);
        let steps = prep.steps();
        let names = prep.param_names();
        let mut ws = Workspace::new(&s, &prep);
        let table = crate::util::simulate_runs(&s, case.runs, case.seed).runs;
        for first in (0..case.runs).step_by(LANES) {
            let n = (case.runs - first).min(LANES as u64) as usize;
            simulate_runs(&s, &prep, first, n, &mut ws);
            for lane in 0..n {
                let run = first + lane as u64;
                for (m, mat) in case.materials.iter().enumerate() {
                    let want =
                        reference::run(&case, m, &Draws::of(&case, m, &names, ws.params(lane)));
                    let at = |what: &str| format!("run {run}, {}, {what}\n{text}", mat.id);
                    for t in 0..steps {
                        let got = |var| ws.value_in(lane, steps, m, var, t);
                        let want = |var: Variable| want.series[var as usize][t];
                        let scale = want(Variable::Demand).max(want(Variable::StockpileLevel));
                        for var in tonnes {
                            let (g, w) = (got(var), want(var));
                            assert!(
                                (g - w).abs() <= 1e-12 * scale.max(g.abs()).max(w.abs()),
                                "{}: {g} against {w}; the step, engine against reference: {:?}",
                                at(&format!("step {t} {}", var.name())),
                                Variable::ALL.map(|v| (v.name(), got(v), want(v)))
                            );
                        }
                        for var in [Variable::Price, Variable::WorldPrice] {
                            let (g, w) = (got(var), want(var));
                            assert!(
                                (g - w).abs() <= 1e-12 * w,
                                "{}: {g} against {w}",
                                at(&format!("step {t} {}", var.name()))
                            );
                        }
                        let w = want(Variable::Price);
                        assert_eq!(
                            got(Variable::FeedAvailability),
                            1.0,
                            "{}",
                            at(&format!("step {t}"))
                        );
                        above_base += usize::from(w > mat.price);
                    }
                    let scale = want.totals[Metric::DemandT as usize];
                    // Money: a cost is a sum of quantities (each right to
                    // rounding) times prices up to the value of lost load,
                    // and the welfare loss a sum of such costs, which may
                    // nearly cancel: it is held to 1e-12 of the value of
                    // all demand at the value of lost load.
                    let money = scale * mat.voll;
                    for k in Metric::ALL {
                        let w = want.totals[k as usize];
                        for (how, g) in [
                            (
                                "stepped in lanes",
                                ws.metrics(lane)[m * N_METRICS + k as usize],
                            ),
                            ("in the run table", table.get(run as usize, m, k).unwrap()),
                        ] {
                            let ok = match k {
                                Metric::ShortfallSteps | Metric::LongestShortfallSteps => g == w,
                                Metric::ShortfallFraction => (g - w).abs() <= 1e-12,
                                Metric::PeakPriceMultiple => (g - w).abs() <= 1e-12 * w,
                                k if k.name().ends_with("_eur") => {
                                    (g - w).abs() <= 1e-12 * money.max(g.abs()).max(w.abs())
                                }
                                _ => (g - w).abs() <= 1e-12 * scale.max(g.abs()).max(w.abs()),
                            };
                            assert!(
                                ok,
                                "{}: {g} against {w}",
                                at(&format!("{} {how}", k.name()))
                            );
                        }
                    }
                    released += usize::from(want.totals[Metric::ReleaseT as usize] > 0.0);
                    inventory_sold += usize::from(want.inventory_steps.0 > 0);
                    inventory_bought += usize::from(want.inventory_steps.1 > 0);
                    short += usize::from(want.totals[Metric::ShortfallSteps as usize] > 0.0);
                }
            }
        }
        cases += 1;
    }
    // The cases reach every path: prices above the base, releases,
    // shortfalls, and runs whose private inventory sold and bought back.
    assert_eq!(cases, 300);
    assert!(
        above_base > 100 && released > 100 && short > 100,
        "{above_base} {released} {short}"
    );
    assert!(
        inventory_sold > 100 && inventory_bought > 20,
        "{inventory_sold} {inventory_bought}"
    );
}

/// Runs stepped side by side (the engine's path) give exactly the bits of
/// each run stepped alone, in every scenario of the library and the
/// benchmarks (hubs, refineries, substitution, new capacity, products), for
/// full and partial groups of lanes.
#[test]
fn runs_side_by_side_equal_runs_alone() {
    use crmsim::engine::simulate_runs;
    use crmsim::engine::LANES;
    use crmsim::vocab::N_METRICS;
    let mut files = library();
    files.push(root().join("benches/reference.toml"));
    for file in files {
        let s = Scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let prep = Prepared::new(&s, 7);
        let steps = prep.steps();
        let n_mat = s.material_ids().count();
        let cells = n_mat * crmsim::vocab::N_VARIABLES * steps;
        let mut alone = Workspace::new(&s, &prep);
        let mut lanes = Workspace::new(&s, &prep);
        for (first, n) in [(0, LANES), (LANES as u64, 1), (40, LANES - 1)] {
            simulate_runs(&s, &prep, first, n, &mut lanes);
            for lane in 0..n {
                simulate_run(&s, &prep, first + lane as u64, &mut alone);
                let name = file.display();
                for c in 0..cells {
                    assert_eq!(
                        alone.cell(0, c).to_bits(),
                        lanes.cell(lane, c).to_bits(),
                        "{name}: run {} cell {c}",
                        first + lane as u64
                    );
                }
                let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(alone.metrics(0)), bits(lanes.metrics(lane)), "{name}");
                assert_eq!(alone.metrics(0).len(), n_mat * N_METRICS);
                assert_eq!(bits(alone.params(0)), bits(lanes.params(lane)), "{name}");
            }
        }
    }
}

/// The engine's per-step means are the means of the runs simulated one by
/// one, to rounding, for every varying cell of the reference scenario; 70
/// runs end on a partial group of lanes, whose empty lanes add nothing.
#[test]
fn per_step_means_are_the_means_of_the_runs_alone() {
    use crmsim::engine::simulate;
    use crmsim::vocab::RunPlan;
    let s = load("benches/reference.toml");
    let plan = RunPlan {
        first_run: 0,
        runs: 70,
        seed: 11,
    };
    let outcome = simulate(&s, &plan, &|_| {});
    let prep = Prepared::new(&s, plan.seed);
    let mut ws = Workspace::new(&s, &prep);
    let cells = s.material_ids().count() * crmsim::vocab::N_VARIABLES * prep.steps();
    let mut sums = vec![0.0; cells];
    for run in 0..plan.runs {
        simulate_run(&s, &prep, run, &mut ws);
        for (c, sum) in sums.iter_mut().enumerate() {
            *sum += ws.cell(0, c);
        }
    }
    let mut compared = 0;
    for &c in &outcome.steps.varying_cells() {
        let expected = sums[c] / plan.runs as f64;
        let mean = outcome.steps.mean(c);
        assert!(
            (mean - expected).abs() <= 1e-12 * expected.abs(),
            "cell {c}: {mean} against {expected}"
        );
        compared += 1;
    }
    // Demand, supply, imports, stock level, release, shortfall, price,
    // world price, consumption and demand reduction vary in every material
    // (all 10 have a demand elasticity); secondary supply, stock in use,
    // end of life and collection too in the 5 with products: 240 steps of
    // each.
    assert_eq!(compared, (10 * 10 + 5 * 4) * 240);
}

/// A workspace keeps nothing from the runs it stepped before: run 9 gives
/// the same bits in a fresh workspace and in one that has just stepped
/// runs full of disruptions (the reference scenario's events).
#[test]
fn a_workspace_keeps_nothing_from_earlier_runs() {
    use crmsim::engine::simulate_runs;
    use crmsim::engine::LANES;
    let s = load("benches/reference.toml");
    let prep = Prepared::new(&s, 5);
    let mut fresh = Workspace::new(&s, &prep);
    simulate_run(&s, &prep, 9, &mut fresh);
    let mut used = Workspace::new(&s, &prep);
    for first in (100..180).step_by(LANES) {
        simulate_runs(&s, &prep, first, LANES, &mut used);
    }
    simulate_run(&s, &prep, 9, &mut used);
    let bits = |ws: &Workspace| {
        ws.series()
            .iter()
            .map(|v| v.0[0].to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&fresh), bits(&used));
    let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(fresh.metrics(0)), bits(used.metrics(0)));
}

/// Prices are worked out after a material's steps when no stockpile has a
/// refill price cap, and in each step otherwise. A cap at the largest
/// allowed multiple (1000 x the base price, at or above every price) never
/// binds, so both ways must give the same bits in every series and total.
#[test]
fn prices_after_the_steps_equal_prices_within_them() {
    use crmsim::engine::simulate_runs;
    use crmsim::engine::LANES;
    for name in ["gallium-eu", "defence-supply", "nickel-hub"] {
        let file = root().join(format!("scenarios/{name}.toml"));
        let text = std::fs::read_to_string(&file).expect("a library scenario");
        let capped = text.replace(
            "[[stockpile]]\n",
            "[[stockpile]]\nrefill_price_cap = 1000\n",
        );
        assert!(capped != text, "{name} has stockpiles");
        let (a, b) = (scenario(&text), scenario(&capped));
        let prep_a = Prepared::new(&a, 3);
        let prep_b = Prepared::new(&b, 3);
        let mut ws_a = Workspace::new(&a, &prep_a);
        let mut ws_b = Workspace::new(&b, &prep_b);
        let mut short = 0;
        for first in (0..64).step_by(LANES) {
            simulate_runs(&a, &prep_a, first, LANES, &mut ws_a);
            simulate_runs(&b, &prep_b, first, LANES, &mut ws_b);
            let bits = |ws: &Workspace| {
                ws.series()
                    .iter()
                    .flat_map(|v| v.0.map(f64::to_bits))
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&ws_a), bits(&ws_b), "{name}: runs from {first}");
            for lane in 0..LANES {
                let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(ws_a.metrics(lane)), bits(ws_b.metrics(lane)), "{name}");
            }
            // The prices compared include scarcity prices.
            let steps = prep_a.steps();
            for lane in 0..LANES {
                for t in 0..steps {
                    let price = ws_a.value_in(lane, steps, 0, Variable::Price, t);
                    let base = ws_a.value_in(lane, steps, 0, Variable::Price, 0);
                    short += usize::from(price > base);
                }
            }
        }
        assert!(short > 0, "{name}: some price above the base");
    }
}
