//! The world's private inventories (`[[inventory]]`, docs/model.md,
//! "Private inventories") through the whole engine, against hand
//! calculations.
//!
//! Unless a test says otherwise: monthly steps, demand 120 t/yr, so
//! D = 10 t a step; P0 = 1000 EUR/t; epsilon = -0.5; eta = 0; rho = 1; one
//! source A; a world-scope cut of 0.2 from March 2025 (step 2) for three
//! months; one inventory of 9.125 days of the market's use, which is
//! 9.125 / 365 x 120 = 3 t, selling above 1.2 x P0 and buying back up to
//! 1.05 x P0.

use crate::util::{balanced, one_run, scenario};
use crmsim::engine::Workspace;
use crmsim::scenario::Scenario;
use crmsim::vocab::{Metric, Variable};

/// A one-year monthly scenario with `material` added to the material's
/// table and `rest` after it.
fn world(material: &str, rest: &str) -> Scenario {
    scenario(&world_text(material, rest))
}

/// The text of [`world`].
fn world_text(material: &str, rest: &str) -> String {
    format!(
        "[simulation]\nname = \"inv\"\nstart_year = 2025\nyears = 1\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\ndemand_elasticity = -0.5\n{material}\n\
         [[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[disruption]]\nname = \"cut\"\nmaterials = [\"x\"]\nregion = \"A\"\n\
         scope = \"world\"\nstart = \"2025-03\"\nduration_months = 3\nseverity = 0.2\n{rest}"
    )
}

/// The default inventory, with `extra` fields.
fn inventory(extra: &str) -> String {
    format!(
        "[[inventory]]\nmaterial = \"x\"\nname = \"traders\"\ndays = 9.125\n\
         release_above = 1.2\nrefill_below = 1.05\n{extra}\n"
    )
}

fn world_multiples(run: &(usize, Workspace)) -> Vec<f64> {
    (0..run.0)
        .map(|t| run.1.value(run.0, 0, Variable::WorldPrice, t) / 1000.0)
        .collect()
}

/// `got` equals `want` to 1e-12 relative.
fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: {got} against {want} by hand"
    );
}

/// The hand case: the 3 t inventory holds the world price at 1.2 while it
/// lasts, runs out in the third month of the cut, then buys back no more
/// than keeps the price at 1.05.
#[test]
fn sells_down_to_its_price_runs_out_and_buys_back_below_its_refill_price() {
    let run = one_run(&world("", &inventory("")));
    let x = world_multiples(&run);
    // Steps 0-1: full, the price at the base.
    close(x[0], 1.0, "step 0");
    close(x[1], 1.0, "step 1");
    // Steps 2-3: z = 1.2^-0.5 = 0.912871; it sells
    // (0.912871 - 0.8) x 10 = 1.128709 t a step, 2.257419 t in two steps.
    let sale = (1.2f64.powf(-0.5) - 0.8) * 10.0;
    close(x[2], 1.2, "step 2");
    close(x[3], 1.2, "step 3");
    // Step 4: what is left, 3 - 2 x 1.128709 = 0.742581 t, is not enough:
    // z = 0.8 + 0.0742581, x = z^-2 = 1.308340.
    let left = 3.0 - 2.0 * sale;
    let z4: f64 = 0.8 + left / 10.0;
    close(x[4], z4.powi(-2), "step 4");
    assert!((x[4] - 1.308340).abs() < 1e-6);
    // Steps 5-11: empty, the cut over; each buys what keeps x at 1.05:
    // (1 - 1.05^-0.5) x 10 = 0.240999 t a step (less than 5 % of 10 t and
    // than the 3 t it lacks, 7 x 0.240999 = 1.686995 t bought in all).
    for (t, &xt) in x.iter().enumerate().skip(5) {
        close(xt, 1.05, &format!("step {t}"));
    }
    balanced(&run);
    // Price cost: D P0 (x^0.5 - 1) / 0.5 = 20,000 (x^0.5 - 1) a step.
    let cost = |x: f64| 20_000.0 * (x.sqrt() - 1.0);
    let want = 2.0 * cost(1.2) + cost(z4.powi(-2)) + 7.0 * cost(1.05);
    let got = run.1.metric(0, Metric::PriceCostEur);
    assert!(
        (got - want).abs() <= 1e-9 * want,
        "price cost {got} against {want} by hand"
    );
    // The inventory is the world's: none of its trade is the region's
    // stock's.
    assert_eq!(run.1.metric(0, Metric::StockpileCostEur), 0.0);
    assert_eq!(run.1.metric(0, Metric::StockpileSalesEur), 0.0);
    for t in 0..run.0 {
        assert_eq!(run.1.value(run.0, 0, Variable::Release, t), 0.0);
        assert_eq!(run.1.value(run.0, 0, Variable::StockpileLevel, t), 0.0);
    }
}

/// Without the inventory the same cut gives x = 0.8^-2 = 1.5625 for three
/// months; the inventory never raises the price while it sells.
#[test]
fn without_it_the_cut_gives_the_contract_price() {
    let run = one_run(&world("", ""));
    let x = world_multiples(&run);
    for (t, &xt) in x.iter().enumerate().take(5).skip(2) {
        close(xt, 1.5625, &format!("step {t}"));
    }
    close(x[5], 1.0, "step 5");
}

/// `max_release_share = 0.2`: at most 0.6 t a month, so z = 0.86 and
/// x = 0.86^-2 = 1.352082 in each of the three months (1.8 t sold of 3).
#[test]
fn its_monthly_limit_holds_the_sales_back() {
    let run = one_run(&world("", &inventory("max_release_share = 0.2")));
    let x = world_multiples(&run);
    for (t, &xt) in x.iter().enumerate().take(5).skip(2) {
        close(xt, 0.86f64.powi(-2), &format!("step {t}"));
    }
    // Then it buys back 0.240999 t a step up to 1.05 x P0.
    close(x[5], 1.05, "step 5");
    balanced(&run);
}

/// Two inventories in file order: the first sells down to 1.2 until it
/// runs out; the second only above 1.3. Step 4: the first has 0.742581 t
/// left, z = 0.874258, x = 1.308340 > 1.3, so the second sells what
/// brings x to 1.3: (1.3^-0.5 - 0.874258) x 10 = 0.027999 t.
#[test]
fn inventories_sell_in_file_order_each_above_its_own_price() {
    let second = "[[inventory]]\nmaterial = \"x\"\nname = \"users\"\ndays = 30\n\
                  release_above = 1.3\nrefill_below = 1.02\n";
    let run = one_run(&world("", &format!("{}{second}", inventory(""))));
    let x = world_multiples(&run);
    close(x[2], 1.2, "step 2");
    close(x[3], 1.2, "step 3");
    close(x[4], 1.3, "step 4");
    balanced(&run);
}

/// eta = 0.3: the inventory sells (1.2^-0.5 - 0.8 x 1.2^0.3) x 10 =
/// 0.678950 t a step and the world price is 1.2 to 1e-12 (Newton's
/// method); 3 t last four such steps, more than the cut's three.
#[test]
fn with_a_supply_elasticity_it_still_holds_its_price() {
    let run = one_run(&world("supply_elasticity = 0.3", &inventory("")));
    let x = world_multiples(&run);
    for (t, &xt) in x.iter().enumerate().take(5).skip(2) {
        close(xt, 1.2, &format!("step {t}"));
    }
    let sale = (1.2f64.powf(-0.5) - 0.8 * 1.2f64.powf(0.3)) * 10.0;
    assert!((sale - 0.678950).abs() < 1e-6, "{sale}");
    balanced(&run);
}

/// The inventory belongs to the world: the scenario without its policies
/// (the baseline of sweep, compare and optimize) keeps it, and a region's
/// stock beside it changes nothing of its trade in a step where the stock
/// does not act.
#[test]
fn every_variant_keeps_it() {
    let stock = "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 1\nrelease_trigger = 0.5\n";
    let s = world("", &format!("{}{stock}", inventory("")));
    let bare = s.without_policies();
    let x = world_multiples(&one_run(&bare));
    close(x[2], 1.2, "step 2 without the stock");
    let x = world_multiples(&one_run(&s));
    close(x[2], 1.2, "step 2 with the stock");
    // A policy file replaces the stocks and options, never the inventories.
    let dir = crate::util::temp_dir();
    let (base, policy) = (dir.path().join("base.toml"), dir.path().join("none.toml"));
    let text = world_text("", &format!("{}{stock}", inventory("")));
    std::fs::write(&base, &text).unwrap();
    std::fs::write(&policy, "name = \"no stock\"\n").unwrap();
    let (with_policy, _) = crmsim::scenario::with_policy(&base, &policy).unwrap();
    assert!(!with_policy.has_stockpiles());
    let x = world_multiples(&one_run(&with_policy));
    close(x[2], 1.2, "step 2 under a policy file without stocks");
}
