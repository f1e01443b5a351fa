//! The market that clears (MARKET.md) through the whole engine, against
//! hand calculations: every case listed at the end of MARKET.md, and the
//! release rules, rationing, the market's origins, spare capacity split
//! between the two scopes, a refinery's producer gain and a paired
//! comparison of a stock's welfare effect.
//!
//! Unless a test says otherwise: monthly steps, demand 120 t/yr, so
//! D = 10 t a step; P0 = 1000 EUR/t; epsilon = -0.5; eta = 0; rho = 1; one
//! source A; no spare capacity; no stock; VoLL 20 000 EUR/t (above the
//! default cap of 10 x P0); one event on A in March 2025 (step 2) for one
//! month. Without discounting a one-step event's costs are the run's totals.

use crate::util::{balanced, one_run, scenario, simulate_runs};
use crmsim::analysis::compare::compare;
use crmsim::engine::Workspace;
use crmsim::vocab::{Metric, Variable};

/// The step the event falls in.
const CUT: usize = 2;

/// A one-year monthly scenario of material `x`: `material` is added to the
/// `[[material]]` table (after the default source A, so it may hold more
/// sources), `rest` after it (disruptions, stockpiles, refineries).
fn case(material: &str, rest: &str) -> (usize, Workspace) {
    let s = scenario(&format!(
        "[simulation]\nname = \"m\"\nstart_year = 2025\nyears = 1\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\n{material}\n{rest}"
    ));
    one_run(&s)
}

/// The default market: elasticity -0.5, `extra` fields, and source A.
fn material(extra: &str) -> String {
    format!("demand_elasticity = -0.5\n{extra}\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n")
}

/// An event on region A in March 2025 for one month.
fn cut(severity: f64, scope: &str) -> String {
    format!(
        "[[disruption]]\nname = \"{scope}-{severity}\"\nmaterials = [\"x\"]\nregion = \"A\"\n\
         scope = \"{scope}\"\nstart = \"2025-03\"\nduration_months = 1\nseverity = {severity}\n"
    )
}

/// The value of `var` in step `t`.
fn at(run: &(usize, Workspace), var: Variable, t: usize) -> f64 {
    run.1.value(run.0, 0, var, t)
}

fn metric(run: &(usize, Workspace), k: Metric) -> f64 {
    run.1.metric(0, k)
}

/// `got` equals `want` to 1e-12 relative (of `want`, or absolute below 1).
fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: {got} against {want} by hand"
    );
}

/// A value the contract gives to 6 decimals.
fn six(got: f64, want: f64) {
    assert!(
        (got - want).abs() < 1e-6,
        "{got} against {want} in MARKET.md"
    );
}

/// Money: to 1e-9 EUR relative (sums over the steps).
fn close_eur(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: {got} against {want} by hand"
    );
}

/// The quantities and prices of the cut step: world price, the region's
/// price, consumption, demand reduction, shortfall, release.
fn step(run: &(usize, Workspace), want: [f64; 6]) {
    let vars = [
        Variable::WorldPrice,
        Variable::Price,
        Variable::Consumption,
        Variable::DemandReduction,
        Variable::Shortfall,
        Variable::Release,
    ];
    for (var, w) in vars.into_iter().zip(want) {
        close(at(run, var, CUT), w, var.name());
    }
    balanced(run);
}

/// Nothing happens: x = x_r = 1, Q = D, every cost 0.
#[test]
fn nothing_happens() {
    let run = case(&material(""), "");
    for t in 0..run.0 {
        assert_eq!(at(&run, Variable::WorldPrice, t), 1000.0);
        assert_eq!(at(&run, Variable::Price, t), 1000.0);
        assert_eq!(at(&run, Variable::Consumption, t), 10.0);
        assert_eq!(at(&run, Variable::DemandReduction, t), 0.0);
        assert_eq!(at(&run, Variable::Shortfall, t), 0.0);
    }
    for k in [
        Metric::WelfareLossEur,
        Metric::PriceCostEur,
        Metric::ProducerGainEur,
        Metric::ShortageCostEur,
        Metric::DemandReductionT,
        Metric::StockpileSalesEur,
    ] {
        assert_eq!(metric(&run, k), 0.0, "{}", k.name());
    }
    assert_eq!(metric(&run, Metric::PeakPriceMultiple), 1.0);
}

/// A world-scope cut of 0.2: x^-0.5 = 0.8, x = 0.8^-2 = 1.5625; users want
/// D x^-0.5 = 8 t and get them: demand reduction 2, shortfall 0. Price cost
/// D P0 (x^0.5 - 1) / 0.5 = 10 000 x 0.25 / 0.5 = 5000 EUR, the welfare
/// loss. Supply and imports 8 t. Before and after: the base price.
#[test]
fn a_world_cut_raises_the_world_price() {
    let run = case(&material(""), &cut(0.2, "world"));
    step(&run, [1562.5, 1562.5, 8.0, 2.0, 0.0, 0.0]);
    close(at(&run, Variable::Supply, CUT), 8.0, "supply");
    close(at(&run, Variable::Imports, CUT), 8.0, "imports");
    assert_eq!(at(&run, Variable::Price, CUT - 1), 1000.0);
    assert_eq!(at(&run, Variable::Price, CUT + 1), 1000.0);
    close_eur(metric(&run, Metric::PriceCostEur), 5000.0, "price cost");
    close_eur(metric(&run, Metric::WelfareLossEur), 5000.0, "welfare loss");
    assert_eq!(metric(&run, Metric::ShortageCostEur), 0.0);
    close(
        metric(&run, Metric::DemandReductionT),
        2.0,
        "demand reduction",
    );
    close(metric(&run, Metric::PeakPriceMultiple), 1.5625, "peak");
}

/// The same with eta = 0.3: x^-0.5 = 0.8 x^0.3, x = 0.8^(-1/0.8) =
/// 1.321714; users consume D x^-0.5 = 10 x 0.8^0.625 = 8.698237, which
/// the market's supply 8 x^0.3 (the undisrupted 8 t answering the price)
/// delivers. Price cost 10 000 x (x^0.5 - 1) / 0.5.
#[test]
fn supply_that_answers_the_price_lowers_it() {
    let run = case(&material("supply_elasticity = 0.3"), &cut(0.2, "world"));
    let x = 0.8f64.powf(-1.0 / 0.8);
    six(x, 1.321714);
    let q = 10.0 * x.powf(-0.5);
    step(&run, [1000.0 * x, 1000.0 * x, q, 10.0 - q, 0.0, 0.0]);
    close(q, 8.0 * x.powf(0.3), "demand meets supply");
    close(at(&run, Variable::Supply, CUT), q, "supply");
    close_eur(
        metric(&run, Metric::PriceCostEur),
        10_000.0 * (x.sqrt() - 1.0) / 0.5,
        "price cost",
    );
}

/// The same with epsilon = -1: x^-1 = 0.8, x = 1.25; consumption 8; price
/// cost D P0 ln x = 10 000 ln 1.25 = 2231.44 EUR.
#[test]
fn unit_elasticity_prices_by_the_logarithm() {
    let m = "demand_elasticity = -1\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n";
    let run = case(m, &cut(0.2, "world"));
    step(&run, [1250.0, 1250.0, 8.0, 2.0, 0.0, 0.0]);
    let cost = 10_000.0 * 1.25f64.ln();
    close(cost, 2231.435513142098, "10 000 ln 1.25");
    close_eur(metric(&run, Metric::PriceCostEur), cost, "price cost");
}

/// The same with a cap of 1.25 (below 1.5625): x = x_r = 1.25, the market
/// rations. Users want Q = 10 x 1.25^-0.5 = 8.944272 t and get the 8 t
/// left: shortfall 0.944272, demand reduction 10 - Q = 1.055728. Shortage
/// cost 0.944272 x (20 000 - 1250) = 17 705.10 EUR; price cost
/// 10 000 x (1.25^0.5 - 1) / 0.5 = 2360.68 EUR; welfare loss their sum.
#[test]
fn at_the_cap_the_market_rations() {
    let run = case(&material("max_price_multiple = 1.25"), &cut(0.2, "world"));
    let q = 10.0 * 1.25f64.powf(-0.5);
    close(q, 8.94427190999916, "Q");
    step(&run, [1250.0, 1250.0, 8.0, 10.0 - q, q - 8.0, 0.0]);
    let shortage = (q - 8.0) * (20_000.0 - 1250.0);
    let price = 10_000.0 * (1.25f64.sqrt() - 1.0) / 0.5;
    close_eur(
        metric(&run, Metric::ShortageCostEur),
        shortage,
        "shortage cost",
    );
    close_eur(metric(&run, Metric::PriceCostEur), price, "price cost");
    close_eur(
        metric(&run, Metric::WelfareLossEur),
        shortage + price,
        "welfare loss",
    );
    close(metric(&run, Metric::ShortfallT), q - 8.0, "shortfall_t");
    assert_eq!(metric(&run, Metric::ShortfallSteps), 1.0);
}

/// The same cut as a region-scope event with rho = 0.1: the world market
/// is not short, x = 1; the region reaches D - X_r = 8 t of the 10 it
/// wants at x, so its users bid x_r = (8/10)^-2 = 1.5625: delivered 8,
/// demand reduction 2, shortfall 0, price cost 5000 EUR.
#[test]
fn a_region_cut_raises_the_regions_price_only() {
    let run = case(&material("market_share = 0.1"), &cut(0.2, "region"));
    step(&run, [1000.0, 1562.5, 8.0, 2.0, 0.0, 0.0]);
    close_eur(metric(&run, Metric::PriceCostEur), 5000.0, "price cost");
}

/// A world-scope cut of 0.2 and a region-scope cut of 0.5 on the same
/// flow, rho = 0.1: the world scope is applied first, X_w = 10 x 0.2 = 2,
/// X_r = 10 x 0.8 x 0.5 = 4. World: x = 0.8^-2 = 1.5625. The region reaches
/// A = D - X_r = 6 t, below the 8 it wants at x: x_r = 0.6^-2 = 2.777778;
/// delivered 6, demand reduction 4, shortfall 0.
#[test]
fn both_scopes_on_one_flow() {
    let run = case(
        &material("market_share = 0.1"),
        &format!("{}{}", cut(0.2, "world"), cut(0.5, "region")),
    );
    step(&run, [1562.5, 1000.0 / 0.36, 6.0, 4.0, 0.0, 0.0]);
    close(1.0 / 0.36, 2.7777777777777777, "x_r");
}

/// A full stock under `release_rule = "price"`, ceiling 1.2, and the
/// world-scope cut: before the stock x0 = 1.5625 > 1.2, so it sells
/// R_m = 10 (1.2^-0.5 - 0.8) = 1.128709 t, which brings x to 1.2 (x^-0.5 =
/// 0.8 + R_m / D). Users want and get 10 x 1.2^-0.5 = 9.128709 t: 8 from
/// the market's suppliers, the rest from the stock; no gap release. Sales
/// R_m x 1.2 x 1000 = 1354.45 EUR. No replenishment: the stock buys nothing.
#[test]
fn a_price_rule_release_brings_the_price_to_its_ceiling() {
    let stock = "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 100\nrelease_rule = \"price\"\n\
                 price_ceiling = 1.2\n";
    let run = case(&material(""), &format!("{}{stock}", cut(0.2, "world")));
    let r_m = 10.0 * (1.2f64.powf(-0.5) - 0.8);
    six(r_m, 1.128709);
    let q = 10.0 * 1.2f64.powf(-0.5);
    step(&run, [1200.0, 1200.0, q, 10.0 - q, 0.0, r_m]);
    close(
        at(&run, Variable::Supply, CUT),
        8.0,
        "supply from the market",
    );
    close(
        at(&run, Variable::StockpileLevel, CUT),
        100.0 - r_m,
        "stock level",
    );
    close_eur(
        metric(&run, Metric::StockpileSalesEur),
        r_m * 1200.0,
        "sales",
    );
    close_eur(
        metric(&run, Metric::PriceCostEur),
        10_000.0 * (1.2f64.sqrt() - 1.0) / 0.5,
        "price cost",
    );
}

/// The same with a cap of 1.25: x0 = 1.25 (the cap: 1.5625 is above it)
/// is above the ceiling 1.2, so the stock sells the same R_m = 1.128709 t
/// and x = 1.2, below the cap: the market clears and the region's users
/// get all they want at 1.2 (A1 = D + R_m = 11.13 > 9.13), so there is no
/// gap release: the release is R_m alone, nothing released that nobody
/// uses.
#[test]
fn a_price_rule_release_below_the_cap_releases_nothing_more() {
    let stock = "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 100\nrelease_rule = \"price\"\n\
                 price_ceiling = 1.2\n";
    let run = case(
        &material("max_price_multiple = 1.25"),
        &format!("{}{stock}", cut(0.2, "world")),
    );
    let r_m = 10.0 * (1.2f64.powf(-0.5) - 0.8);
    let q = 10.0 * 1.2f64.powf(-0.5);
    step(&run, [1200.0, 1200.0, q, 10.0 - q, 0.0, r_m]);
    close(
        at(&run, Variable::Supply, CUT),
        8.0,
        "supply from the market",
    );
}

/// eta = 0.3 and a price-rule release, ceiling 1.2: before the stock
/// x0 = 0.8^(-1/0.8) = 1.3217 > 1.2, so the stock sells what brings x to
/// 1.2: R_m = 10 (1.2^-0.5 - 0.8 x 1.2^0.3) = 0.678950 t. The market's
/// suppliers then deliver 8 x 1.2^0.3 = 8.449760 t; users consume
/// 10 x 1.2^-0.5 = 9.128709 t.
#[test]
fn a_price_rule_release_with_supply_that_answers_the_price() {
    let stock = "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 100\nrelease_rule = \"price\"\n\
                 price_ceiling = 1.2\n";
    let run = case(
        &material("supply_elasticity = 0.3"),
        &format!("{}{stock}", cut(0.2, "world")),
    );
    let r_m = 10.0 * (1.2f64.powf(-0.5) - 0.8 * 1.2f64.powf(0.3));
    six(r_m, 0.678950);
    let q = 10.0 * 1.2f64.powf(-0.5);
    step(&run, [1200.0, 1200.0, q, 10.0 - q, 0.0, r_m]);
    close(
        at(&run, Variable::Supply, CUT),
        8.0 * 1.2f64.powf(0.3),
        "the market's supply at 1.2",
    );
}

/// Rationing at the cap with a gap release: cap 1.25, the world-scope cut
/// of 0.2, a gap-rule stock releasing half of the gap. At the cap the
/// region reaches A1 = min(D, D (1 - L_w)) = 8 t of the
/// Q = 10 x 1.25^-0.5 = 8.944272 its users want; the stock releases
/// G = 0.5 x 0.944272 = 0.472136 t to them (the world price stays at the
/// cap), A = 8.472136 < Q: still rationed at the cap, x_r = 1.25,
/// shortfall Q - A = 0.472136, shortage cost 0.472136 x 18 750 =
/// 8852.55 EUR, sales 0.472136 x 1250 = 590.17 EUR.
#[test]
fn a_gap_release_at_the_cap_serves_rationed_users() {
    let stock = "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 100\nrelease_fraction = 0.5\n";
    let run = case(
        &material("max_price_multiple = 1.25"),
        &format!("{}{stock}", cut(0.2, "world")),
    );
    let q = 10.0 * 1.25f64.powf(-0.5);
    let g = 0.5 * (q - 8.0);
    close(g, 0.47213595499958, "G");
    step(&run, [1250.0, 1250.0, 8.0 + g, 10.0 - q, q - 8.0 - g, g]);
    close(
        at(&run, Variable::Supply, CUT),
        8.0,
        "supply from the market",
    );
    close_eur(
        metric(&run, Metric::ShortageCostEur),
        (q - 8.0 - g) * 18_750.0,
        "shortage cost",
    );
    close_eur(metric(&run, Metric::StockpileSalesEur), g * 1250.0, "sales");
}

/// No disruption, rho = 0.1, a stock buying B = 1 t a step (replenish
/// 12 t/yr; the default max_buy_share 0.05 x D / rho = 5 t does not bind):
/// x^-0.5 = 1 - rho B / D = 0.99, x = x_r = 0.99^-2 = 1.020304; users
/// consume 9.9 t. With max_buy_share = 0.005 the limit is
/// 0.005 x 100 = 0.5 t: x = 0.995^-2 = 1.010076. Purchases cost B x P0.
#[test]
fn purchases_raise_the_price_by_the_regions_share() {
    for (share, b) in [("", 1.0), ("max_buy_share = 0.005\n", 0.5)] {
        let stock = format!(
            "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 100\ninitial_fill = 0\n\
             replenish_tpy = 12\n{share}"
        );
        let run = case(&material("market_share = 0.1"), &stock);
        let x = (1.0 - 0.1 * b / 10.0f64).powf(-2.0);
        for t in 0..run.0 {
            let w = [1000.0 * x, 1000.0 * x, 10.0 - 0.1 * b, 0.1 * b, 0.0, 0.0];
            let vars = [
                Variable::WorldPrice,
                Variable::Price,
                Variable::Consumption,
                Variable::DemandReduction,
                Variable::Shortfall,
                Variable::Release,
            ];
            for (var, w) in vars.into_iter().zip(w) {
                close(
                    at(&run, var, t),
                    w,
                    &format!("B {b}, step {t} {}", var.name()),
                );
            }
            close(
                at(&run, Variable::StockpileLevel, t),
                b * (t + 1) as f64,
                "level",
            );
        }
        six(x, if b < 1.0 { 1.010076 } else { 1.020304 });
        close_eur(
            metric(&run, Metric::StockpileCostEur),
            12.0 * b * 1000.0,
            "purchases",
        );
        balanced(&run);
    }
}

/// `market_sources`: the region imports half from A and half from B (whose
/// spare capacity, 0.5 of its flow, covers all the region loses when A is
/// cut by half), but the market it buys in gets 80 % of its supply from A.
/// The region's own balance has no loss (X_w = 0.5 x 10 x 0.5 - 2.5 = 0),
/// so without `market_sources` the price stays at base; with them
/// L_w = 0.8 x 0.5 = 0.4 and x = 0.6^-2 = 2.777778 (the region's spare
/// capacity does not make up the market's loss): users consume 6 t.
#[test]
fn the_market_sources_set_the_world_loss() {
    let sources = "demand_elasticity = -0.5\n{extra}\
                   [[material.source]]\nregion = \"A\"\nshare = 0.5\n\
                   [[material.source]]\nregion = \"B\"\nshare = 0.5\nspare_capacity = 0.5\n\
                   ramp_months = 0\n";
    let own = case(&sources.replace("{extra}", ""), &cut(0.5, "world"));
    step(&own, [1000.0, 1000.0, 10.0, 0.0, 0.0, 0.0]);
    let market = case(
        &sources.replace(
            "{extra}",
            "market_sources = [{ region = \"A\", share = 0.8 }]\n",
        ),
        &cut(0.5, "world"),
    );
    step(&market, [1000.0 / 0.36, 1000.0 / 0.36, 6.0, 4.0, 0.0, 0.0]);
}

/// Spare capacity shared between the scopes: A (share 0.8) loses 0.2 to a
/// world event and, of the rest, 0.5 to a region event; B (share 0.2,
/// spare 0.5, no ramp) adds up to 0.5 x 0.2 x 10 = 1 t. Losses: world
/// 8 x 0.2 = 1.6, region 8 x 0.8 x 0.5 = 3.2; the 1 t is split 1/3 to
/// the world scope, 2/3 to the region's: X_w = 1.6 - 1/3 = 19/15,
/// X_r = 3.2 - 2/3 = 38/15. World: x^-0.5 = 1 - 19/150 = 131/150,
/// x = (150/131)^2 = 1.311112. The region reaches D - X_r = 112/15 =
/// 7.466667 t, below the 8.733333 it wants at x: x_r = (150/112)^2 =
/// 1.793686; delivered 7.466667, demand reduction 2.533333.
#[test]
fn spare_capacity_is_shared_between_the_scopes() {
    let m = "demand_elasticity = -0.5\n\
             [[material.source]]\nregion = \"A\"\nshare = 0.8\n\
             [[material.source]]\nregion = \"B\"\nshare = 0.2\nspare_capacity = 0.5\n\
             ramp_months = 0\n";
    let run = case(m, &format!("{}{}", cut(0.2, "world"), cut(0.5, "region")));
    let x = (150.0f64 / 131.0).powi(2);
    let x_r = (150.0f64 / 112.0).powi(2);
    let a = 112.0 / 15.0;
    step(&run, [1000.0 * x, 1000.0 * x_r, a, 10.0 - a, 0.0, 0.0]);
}

/// Producer gain: a refinery with secure feed makes 24 t/yr = 2 t a step,
/// so the region imports 8 t. A world-scope cut of 0.2 of the imports:
/// X_w = 1.6, L_w = 1.6 / 10 = 0.16, x = 0.84^-2 = 1.417234; users want
/// and get 8.4 t (imports 6.4). Price cost 10 000 x (0.84^-1 - 1) / 0.5 =
/// 3809.52 EUR; the refinery's 2 t sell at the higher price: producer gain
/// 2 x 1000 x (x - 1) = 834.47 EUR; welfare loss 3809.52 - 834.47 =
/// 2975.06 EUR.
#[test]
fn domestic_output_gains_what_users_lose_on_it() {
    let refinery = "[[refinery]]\nmaterial = \"x\"\ncapacity_tpy = 24\nonline_year = 2000\n";
    let run = case(&material(""), &format!("{}{refinery}", cut(0.2, "world")));
    close(at(&run, Variable::Refinery, CUT), 2.0, "refinery output");
    let x = 0.84f64.powi(-2);
    step(&run, [1000.0 * x, 1000.0 * x, 8.4, 1.6, 0.0, 0.0]);
    close(at(&run, Variable::Imports, CUT), 6.4, "imports");
    let price = 10_000.0 * (1.0 / 0.84 - 1.0) / 0.5;
    let gain = 2.0 * 1000.0 * (x - 1.0);
    close(price, 3809.523809523809, "price cost by hand");
    close_eur(metric(&run, Metric::PriceCostEur), price, "price cost");
    close_eur(metric(&run, Metric::ProducerGainEur), gain, "producer gain");
    close_eur(
        metric(&run, Metric::WelfareLossEur),
        price - gain,
        "welfare loss",
    );
}

/// A paired comparison: demand drawn per run, D_i = demand_i / 12 a step;
/// the world-scope cut of 0.2 in March. Without a stock each run loses
/// 2 D_i P0 (1.5625^0.5 - 1) = 0.5 D_i P0; with a full price-rule stock
/// (ceiling 1.2, no replenishment, so it never buys) the price stops at
/// 1.2 and the loss is 2 D_i P0 (1.2^0.5 - 1) = 0.190890 D_i P0. So the
/// welfare loss falls by 0.309110 D_i P0 in every run: the paired mean
/// difference is -0.309110 P0 x the mean of D_i, and its interval excludes
/// zero.
#[test]
fn a_stock_lowers_the_welfare_loss_in_a_paired_comparison() {
    let text = |stock: &str| {
        format!(
            "[simulation]\nname = \"m\"\nstart_year = 2025\nyears = 1\nruns = 200\nseed = 5\n\
             [[material]]\nid = \"x\"\ndemand_tpy = {{ dist = \"uniform\", min = 60, max = 180 }}\n\
             price_eur_per_t = 1000\nvalue_of_lost_load_eur_per_t = 20000\n\
             demand_elasticity = -0.5\n[[material.source]]\nregion = \"A\"\nshare = 1.0\n{}{stock}",
            cut(0.2, "world")
        )
    };
    let stock = "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 1000\nrelease_rule = \"price\"\n\
                 price_ceiling = 1.2\n";
    let base = simulate_runs(&scenario(&text("")), 200, 5).runs;
    let with = simulate_runs(&scenario(&text(stock)), 200, 5).runs;
    let names = base.param_names();
    let k = names
        .iter()
        .position(|n| n == "material[x].demand_tpy")
        .unwrap_or_else(|| panic!("{names:?}"));
    // Per tonne of a step's demand: 2 P0 ((1.2^0.5 - 1) - (1.5625^0.5 - 1)).
    let per_t = 2.0 * 1000.0 * ((1.2f64.sqrt() - 1.0) - 0.25);
    six(per_t, -309.109770);
    let mut sum_d = 0.0;
    for i in 0..200 {
        let d = base.params(i).unwrap()[k] / 12.0;
        sum_d += d;
        let (b, v) = (
            base.get(i, 0, Metric::WelfareLossEur).unwrap(),
            with.get(i, 0, Metric::WelfareLossEur).unwrap(),
        );
        close_eur(
            b,
            0.5 * d * 1000.0,
            &format!("run {i}: loss without the stock"),
        );
        close_eur(v - b, per_t * d, &format!("run {i}: the stock's effect"));
    }
    let diffs = compare(&base, &with, &[("x".into(), 0, 0)], 5).unwrap();
    let welfare = diffs
        .iter()
        .find(|d| d.measure == "welfare_loss_eur")
        .expect("compare reports the welfare loss");
    let want = per_t * sum_d / 200.0;
    close_eur(welfare.diff.estimate, want, "paired mean difference");
    assert!(
        welfare.diff.lo <= want && want <= welfare.diff.hi && welfare.diff.hi < 0.0,
        "{:?}: the interval holds {want} and excludes zero",
        welfare.diff
    );
}
