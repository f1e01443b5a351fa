//! The stockpile agencies' instruments (docs/stockpiles.md) against hand
//! calculations: release lead times, options (virtual stockpiles), a stock
//! built up from a given year.

use crate::util::{one_run, read_csv, scenario, simulate_runs};
use crmsim::engine::Workspace;
use crmsim::scenario::Scenario;
use crmsim::vocab::{Metric, Variable};

/// D = 120 t/yr (10 t a month) from one source, whose shipments to the
/// region are cut by `severity` (scope "region") from January of the first
/// year for `months`; `years` long, monthly, base price 1000 EUR/t, no
/// discounting; `market` and `extra` added to the material and the file.
fn cut(years: u32, months: u32, severity: f64, market: &str, extra: &str) -> Scenario {
    scenario(&format!(
        "[simulation]\nname = \"s\"\nstart_year = 2026\nyears = {years}\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\n{market}\
         [[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nscope = \"region\"\n\
         start = \"2026-01\"\nduration_months = {months}\nseverity = {severity}\n{extra}"
    ))
}

fn series(steps: usize, ws: &Workspace, var: Variable) -> Vec<f64> {
    (0..steps).map(|t| ws.value(steps, 0, var, t)).collect()
}

/// The hand case: a full cut for 6 months, a 100 t stock that
/// needs 2 months to mobilise. Months 1-2 of the cut: nothing released,
/// shortfall 10 t each; months 3-6: 10 t released each. Shortfall 20 t,
/// release 40 t, 60 t left.
#[test]
fn a_release_lead_time_holds_the_first_months_back() {
    let s = cut(
        1,
        6,
        1.0,
        "",
        "[[stockpile]]\nmaterial = \"x\"\ntarget_t = 100\nrelease_lead_months = 2\n",
    );
    let (steps, ws) = one_run(&s);
    let release = series(steps, &ws, Variable::Release);
    let short = series(steps, &ws, Variable::Shortfall);
    assert_eq!(&release[..7], &[0.0, 0.0, 10.0, 10.0, 10.0, 10.0, 0.0]);
    assert_eq!(&short[..7], &[10.0, 10.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(ws.metric(0, Metric::ShortfallT), 20.0);
    assert_eq!(ws.metric(0, Metric::ReleaseT), 40.0);
    assert_eq!(series(steps, &ws, Variable::StockpileLevel)[11], 60.0);
}

/// A lead time counts from each episode's first step: two cuts of 3 months
/// apart by a calm month, lead 1 month: the first month of each is short.
#[test]
fn each_episode_has_its_own_lead_time() {
    let s = scenario(
        "[simulation]\nname = \"s\"\nstart_year = 2026\nyears = 1\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\n\
         [[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2026-01\"\n\
         duration_months = 3\nseverity = 1.0\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nstart = \"2026-05\"\n\
         duration_months = 3\nseverity = 1.0\n\
         [[stockpile]]\nmaterial = \"x\"\ntarget_t = 100\nrelease_lead_months = 1\n",
    );
    let (steps, ws) = one_run(&s);
    let short = series(steps, &ws, Variable::Shortfall);
    assert_eq!(&short[..8], &[10.0, 0.0, 0.0, 0.0, 10.0, 0.0, 0.0, 0.0]);
}

/// The hand case: a half cut for 12 months (a gap of 5 t a
/// month), an option on 60 t a year at a fee of 100 EUR/t/yr and a strike
/// of 1.5 x the base price: 5 t called each month, no shortfall; fee
/// 100 x 60 x 1 year = 6,000 EUR, calls 60 x 1.5 x 1000 = 90,000 EUR, and
/// the 60 t sold to users at the base price (nothing clears): 60,000 EUR.
#[test]
fn an_option_covers_the_gap_at_its_strike() {
    let s = cut(
        1,
        12,
        0.5,
        "",
        "[[option]]\nmaterial = \"x\"\nvolume_tpy = 60\nfee_eur_per_t_year = 100\n\
         strike_multiple = 1.5\n",
    );
    let (_, ws) = one_run(&s);
    assert_eq!(ws.metric(0, Metric::ShortfallT), 0.0);
    assert_eq!(ws.metric(0, Metric::OptionCalledT), 60.0);
    assert!((ws.metric(0, Metric::OptionFeeEur) - 6000.0).abs() < 1e-9);
    assert!((ws.metric(0, Metric::OptionCallEur) - 90_000.0).abs() < 1e-9);
    assert!((ws.metric(0, Metric::OptionSalesEur) - 60_000.0).abs() < 1e-9);
    // Demand = delivered + demand reduction + shortfall, every month.
    assert_eq!(ws.metric(0, Metric::SupplyT) + 60.0, 120.0);
}

/// An option's volume is a yearly allowance and its lead time counts from
/// the gap's first month. 30 t a year, lead 2 months, a half cut (5 t a
/// month) for the whole of 2026-2027: in each year months 1-2 are short
/// in 2026 only (the episode goes on into 2027), then 6 months are called
/// (30 t) and the rest of the year is short again. 2026: 2 + 4 months
/// short (30 t), 30 t called; 2027: 6 months called, 6 short (30 t).
#[test]
fn an_option_is_a_yearly_allowance_after_its_lead_time() {
    let s = cut(
        2,
        24,
        0.5,
        "",
        "[[option]]\nmaterial = \"x\"\nvolume_tpy = 30\nfee_eur_per_t_year = 0\n\
         strike_multiple = 1\nlead_months = 2\n",
    );
    let (steps, ws) = one_run(&s);
    let short = series(steps, &ws, Variable::Shortfall);
    let mut want = vec![5.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 5.0];
    want.extend([0.0; 6].iter().chain(&[5.0; 6]));
    assert_eq!(short, want);
    assert_eq!(ws.metric(0, Metric::OptionCalledT), 60.0);
}

/// With a market that clears, the option's tonnes reach the users the cut
/// left short: e = -0.5, a region-scope half cut. Without the option the
/// region's users bid for the 5 t they can get, x_r = (5/10)^(1/-0.5) = 4;
/// with it they get 5 + 5 t and the price stays at the base.
#[test]
fn an_option_brings_the_regions_price_down() {
    let with = |extra: &str| {
        let s = cut(1, 3, 0.5, "demand_elasticity = -0.5\n", extra);
        let (steps, ws) = one_run(&s);
        (
            series(steps, &ws, Variable::Price),
            ws.metric(0, Metric::OptionCalledT),
        )
    };
    let (price, called) = with("");
    assert!((price[0] - 4000.0).abs() < 1e-9, "{}", price[0]);
    assert_eq!(called, 0.0);
    let (price, called) = with(
        "[[option]]\nmaterial = \"x\"\nvolume_tpy = 60\nfee_eur_per_t_year = 1\n\
         strike_multiple = 1\n",
    );
    assert_eq!(&price[..4], &[1000.0; 4]);
    assert_eq!(called, 15.0);
}

/// Adding an option never raises any run's shortfall (the same random
/// world with and without it), and lowers it in total.
#[test]
fn an_option_never_raises_a_runs_shortfall() {
    let with = |extra: &str| {
        scenario(&format!(
            "[simulation]\nname = \"s\"\nstart_year = 2025\nyears = 10\nruns = 1\nseed = 1\n\
             [[material]]\nid = \"x\"\ndemand_tpy = {{ dist = \"uniform\", min = 50, max = 150 }}\n\
             price_eur_per_t = 1000\nvalue_of_lost_load_eur_per_t = 20000\ndemand_elasticity = -0.3\n\
             max_price_multiple = 3\n\
             [[material.source]]\nregion = \"A\"\nshare = 0.8\n\
             [[material.source]]\nregion = \"B\"\nshare = 0.2\nspare_capacity = 0.5\n\
             [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nrate_per_year = 0.5\n\
             duration_months = {{ dist = \"exponential\", mean = 6 }}\n\
             severity = {{ dist = \"uniform\", min = 0.2, max = 1 }}\n\
             [[stockpile]]\nmaterial = \"x\"\ntarget_days = 30\nreplenish_tpy = 20\n\
             release_trigger = 0.05\n{extra}"
        ))
    };
    let column = |s: &Scenario| {
        simulate_runs(s, 2000, 4)
            .runs
            .column(0, Metric::ShortfallT)
            .unwrap()
    };
    let without = column(&with(""));
    let option = column(&with(
        "[[option]]\nmaterial = \"x\"\nvolume_tpy = 20\nfee_eur_per_t_year = 50\n\
         strike_multiple = 1.2\nlead_months = 1\n",
    ));
    for (run, (a, b)) in without.iter().zip(&option).enumerate() {
        assert!(b <= &(a + 1e-9), "run {run}: {b} > {a}");
    }
    assert!(option.iter().sum::<f64>() < without.iter().sum::<f64>());
}

/// A stock built up from empty from 2027 at a buying cap of 10 % of the
/// market's demand (1 t a month, the region the whole market): nothing in
/// 2026, 1 t more each month from January 2027, its 24 t target reached
/// in December 2028.
#[test]
fn a_build_up_starts_in_its_year_at_the_buying_cap() {
    let s = scenario(
        "[simulation]\nname = \"s\"\nstart_year = 2026\nyears = 4\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\ndemand_elasticity = -0.5\n\
         [[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[stockpile]]\nmaterial = \"x\"\ntarget_t = 24\nbuild_start = 2027\nmax_buy_share = 0.1\n",
    );
    let (steps, ws) = one_run(&s);
    let level = series(steps, &ws, Variable::StockpileLevel);
    assert!(level[..12].iter().all(|&l| l == 0.0));
    for (k, &l) in level[12..36].iter().enumerate() {
        assert!((l - (k + 1) as f64).abs() < 1e-9, "month {k}: {l}");
    }
    assert!(level[36..].iter().all(|&l| (l - 24.0).abs() < 1e-9));
}

/// Per-run extra values of run 0 by name (tiers, stocks).
fn extras(s: &Scenario) -> impl Fn(&str) -> f64 {
    let runs = simulate_runs(s, 1, 1).runs;
    move |name: &str| {
        let k = runs
            .extra_names()
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", runs.extra_names()));
        runs.extra_column(k).unwrap()[0]
    }
}

/// Two tiers of D = 10 t a month: defence (share 0.1, priority 1, VoLL
/// 200,000 EUR/t) and civil (0.9, priority 2, VoLL 20,000 EUR/t).
const TIERS: &str = "[[material.tier]]\nname = \"defence\"\nshare = 0.1\npriority = 1\n\
     value_of_lost_load_eur_per_t = 200000\n\
     [[material.tier]]\nname = \"civil\"\nshare = 0.9\npriority = 2\n";

/// The hand case: one month of a region-scope cut, no stock, a
/// market that does not clear. A cut of 0.5 leaves 5 t short, all civil
/// (it wants 9); a cut of 0.95 leaves 9.5 t: civil 9, defence 0.5. Costs at
/// the tier's VoLL less the base price not paid: 9 x 19,000 and
/// 0.5 x 199,000.
#[test]
fn the_last_priority_is_short_first() {
    let run = |severity: f64| {
        let s = cut(1, 1, severity, TIERS, "");
        let get = extras(&s);
        let (_, ws) = one_run(&s);
        (
            get("material[x].tier[civil].shortfall_t"),
            get("material[x].tier[defence].shortfall_t"),
            get("material[x].tier[civil].shortage_cost_eur"),
            get("material[x].tier[defence].shortage_cost_eur"),
            ws.metric(0, Metric::ShortageCostEur),
        )
    };
    let (civil, defence, civil_cost, defence_cost, total) = run(0.5);
    assert_eq!((civil, defence), (5.0, 0.0));
    assert!((civil_cost - 5.0 * 19_000.0).abs() < 1e-6);
    assert_eq!(defence_cost, 0.0);
    assert!((total - civil_cost).abs() < 1e-6);
    let (civil, defence, civil_cost, defence_cost, total) = run(0.95);
    assert!((civil - 9.0).abs() < 1e-12 && (defence - 0.5).abs() < 1e-12);
    assert!((civil_cost - 9.0 * 19_000.0).abs() < 1e-6);
    assert!((defence_cost - 0.5 * 199_000.0).abs() < 1e-6);
    assert!((total - civil_cost - defence_cost).abs() < 1e-6);
}

/// At the price cap of a market that clears: e = -0.5, the cap 4 x the
/// base (z_cap = 4^-0.5 = 0.5). A region-scope cut of 0.9 leaves the users
/// 1 t of the 10 they want at base: their price goes to the cap, where they
/// want D z_cap = 5 t and get 1: 4 t short. Civil wants 0.9 x 5 = 4.5 t, so
/// it takes all 4. A cut of 0.99 leaves 0.1 t: 4.9 short, civil 4.5,
/// defence 0.4.
#[test]
fn tiers_split_what_is_rationed_at_the_cap() {
    let run = |severity: f64| {
        let s = cut(
            1,
            1,
            severity,
            &format!("demand_elasticity = -0.5\nmax_price_multiple = 4\n{TIERS}"),
            "",
        );
        let get = extras(&s);
        (
            get("material[x].tier[civil].shortfall_t"),
            get("material[x].tier[defence].shortfall_t"),
        )
    };
    let (civil, defence) = run(0.9);
    assert!(
        (civil - 4.0).abs() < 1e-9 && defence == 0.0,
        "{civil} {defence}"
    );
    let (civil, defence) = run(0.99);
    assert!((civil - 4.5).abs() < 1e-9, "{civil}");
    assert!((defence - 0.4).abs() < 1e-9, "{defence}");
}

/// A wartime surge: the defence tier's demand x3 in March and April. The
/// material's demand is then 10 x (0.9 + 0.1 x 3) = 12 t; a full-month cut
/// of 0.95 in March leaves 11.4 t short: civil (9 t wanted) 9, defence 2.4.
#[test]
fn a_demand_shock_raises_its_tiers_demand() {
    // The shock's table follows its tier's.
    let tiers = "[[material.tier]]\nname = \"defence\"\nshare = 0.1\npriority = 1\n\
         value_of_lost_load_eur_per_t = 200000\n\
         [material.tier.demand_shock]\nmultiplier = 3\nstart = \"2026-03\"\nduration_months = 2\n\
         [[material.tier]]\nname = \"civil\"\nshare = 0.9\npriority = 2\n";
    let text = format!(
        "[simulation]\nname = \"s\"\nstart_year = 2026\nyears = 1\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\n{tiers}\
         [[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nscope = \"region\"\n\
         start = \"2026-03\"\nduration_months = 1\nseverity = 0.95\n"
    );
    let s = scenario(&text);
    let (steps, ws) = one_run(&s);
    let demand = series(steps, &ws, Variable::Demand);
    assert_eq!(&demand[..6], &[10.0, 10.0, 12.0, 12.0, 10.0, 10.0]);
    let get = extras(&s);
    let civil = get("material[x].tier[civil].shortfall_t");
    let defence = get("material[x].tier[defence].shortfall_t");
    assert!((civil - 9.0).abs() < 1e-9, "{civil}");
    assert!((defence - 2.4).abs() < 1e-9, "{defence}");
}

/// The tiers' shortfalls sum to the material's in every run (each step's
/// split sums to the step's shortfall), with stocks, options, a market
/// that clears and a drawn surge.
#[test]
fn the_tiers_shortfalls_sum_to_the_materials() {
    let s = scenario(
        "[simulation]\nname = \"s\"\nstart_year = 2025\nyears = 5\nruns = 1\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = { dist = \"uniform\", min = 50, max = 150 }\n\
         price_eur_per_t = 1000\nvalue_of_lost_load_eur_per_t = 20000\ndemand_elasticity = -0.3\n\
         max_price_multiple = 3\n\
         [[material.tier]]\nname = \"defence\"\nshare = 0.2\npriority = 1\n\
         [material.tier.demand_shock]\nmultiplier = { dist = \"uniform\", min = 1, max = 4 }\n\
         start = \"2026-01\"\nduration_months = { dist = \"uniform\", min = 1, max = 24 }\n\
         [[material.tier]]\nname = \"health\"\nshare = 0.3\npriority = 2\n\
         [[material.tier]]\nname = \"civil\"\nshare = 0.5\npriority = 3\n\
         [[material.source]]\nregion = \"A\"\nshare = 0.8\n\
         [[material.source]]\nregion = \"B\"\nshare = 0.2\n\
         [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nscope = \"region\"\nrate_per_year = 1\n\
         duration_months = { dist = \"exponential\", mean = 6 }\n\
         severity = { dist = \"uniform\", min = 0.5, max = 1 }\n\
         [[stockpile]]\nmaterial = \"x\"\ntarget_days = 20\nreplenish_tpy = 20\n\
         [[option]]\nmaterial = \"x\"\nvolume_tpy = 5\nfee_eur_per_t_year = 10\nstrike_multiple = 1\n",
    );
    let runs = simulate_runs(&s, 500, 9).runs;
    let column = |name: &str| {
        let k = runs.extra_names().iter().position(|n| n == name).unwrap();
        runs.extra_column(k).unwrap()
    };
    let tiers = ["defence", "health", "civil"]
        .map(|t| column(&format!("material[x].tier[{t}].shortfall_t")));
    let costs = ["defence", "health", "civil"]
        .map(|t| column(&format!("material[x].tier[{t}].shortage_cost_eur")));
    let total = runs.column(0, Metric::ShortfallT).unwrap();
    let cost = runs.column(0, Metric::ShortageCostEur).unwrap();
    let mut short_runs = 0;
    for i in 0..500 {
        let sum: f64 = tiers.iter().map(|c| c[i]).sum();
        assert!(
            (sum - total[i]).abs() <= 1e-9 * total[i].max(1.0),
            "run {i}"
        );
        let sum: f64 = costs.iter().map(|c| c[i]).sum();
        assert!(
            (sum - cost[i]).abs() <= 1e-9 * cost[i].abs().max(1.0),
            "run {i}"
        );
        // Nobody in a higher priority is short while a lower one is not.
        if tiers[0][i] > 0.0 {
            assert!(tiers[1][i] > 0.0 && tiers[2][i] > 0.0, "run {i}");
        }
        short_runs += usize::from(total[i] > 0.0);
    }
    assert!(short_runs > 50, "{short_runs}");
}

/// The Art. 22 report of a stock built up from empty from 2027 (as in
/// `a_build_up_starts_in_its_year_at_the_buying_cap`): 1 t bought a month,
/// which moves the price (the region is the whole market): users want
/// D z = 10 x (1 - 1/10) = 9 t a month while it buys, 10 t after. Year
/// ends: 2026 0 t; 2027 12 t of 108 t consumed (40.56 days, 11.1 %); 2028
/// 24 t of 108 t (81.1 days, 22.2 %); 2029 24 t of 120 t (73 days, 20 %).
/// Filled in December 2028 in every run. The levels match timeseries.csv's
/// stockpile_level in each December.
#[test]
fn stocks_csv_reports_levels_cover_and_fill_dates() {
    let tmp = crate::util::temp_dir();
    let file = tmp.path().join("s.toml");
    std::fs::write(
        &file,
        "[simulation]\nname = \"s\"\nstart_year = 2026\nyears = 4\nruns = 3\nseed = 1\n\
         [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\ndemand_elasticity = -0.5\n\
         [[material.source]]\nregion = \"A\"\nshare = 1.0\n\
         [[stockpile]]\nmaterial = \"x\"\nname = \"eu\"\ntarget_t = 24\nbuild_start = 2027\n\
         max_buy_share = 0.1\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = crate::util::crmsim_process()
        .args(["run", "--no-charts", "--quiet", "--out"])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", crate::util::stderr(&o));
    let (header, rows) = read_csv(&out.join("stocks.csv"));
    assert_eq!(
        header,
        [
            "stockpile",
            "material",
            "year",
            "level_t",
            "level_t_p5",
            "level_t_p95",
            "days_of_cover",
            "days_of_cover_p5",
            "days_of_cover_p95",
            "percent_of_annual_consumption",
            "percent_of_annual_consumption_p5",
            "percent_of_annual_consumption_p95"
        ]
    );
    let want = [
        (2026, 0.0, 0.0, 0.0),
        (2027, 12.0, 12.0 / 108.0 * 365.0, 100.0 * 12.0 / 108.0),
        (2028, 24.0, 24.0 / 108.0 * 365.0, 100.0 * 24.0 / 108.0),
        (2029, 24.0, 73.0, 20.0),
    ];
    assert_eq!(rows.len(), want.len());
    let (ts_header, ts) = read_csv(&out.join("timeseries.csv"));
    assert_eq!(
        ts_header[..5],
        ["material", "step", "time", "variable", "mean"]
    );
    for (row, (year, level, days, percent)) in rows.iter().zip(want) {
        assert_eq!(row[..3], ["eu".to_string(), "x".into(), year.to_string()]);
        let f = |k: usize| row[k].parse::<f64>().unwrap();
        for (k, x) in [(3, level), (6, days), (9, percent)] {
            for j in k..k + 3 {
                assert!(
                    (f(j) - x).abs() < 1e-9 * x.max(1.0),
                    "{year} column {j}: {}",
                    f(j)
                );
            }
        }
        // The same level as timeseries.csv's in December of that year.
        let december = ((year - 2026) * 12 + 11).to_string();
        let ts_level = ts
            .iter()
            .find(|r| r[1] == december && r[3] == "stockpile_level")
            .map(|r| r[4].parse::<f64>().unwrap())
            .unwrap();
        assert_eq!(f(3), ts_level, "{year}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let filled = &summary["materials"]["x"]["stockpiles"]["eu"]["filled_year"];
    assert_eq!(
        filled,
        &serde_json::json!({"2026": 0.0, "2027": 0.0, "2028": 1.0, "2029": 1.0})
    );
}

/// A policy file replaces the scenario's stockpiles and options: the base's
/// own stock written as a policy gives the base's numbers exactly (every
/// difference 0), the empty policy gives the scenario without any, and an
/// error in a policy's table names the policy file and its line.
#[test]
fn policy_files_swap_the_design_on_the_same_world() {
    let tmp = crate::util::temp_dir();
    let stock = "[[stockpile]]\nmaterial = \"x\"\ntarget_days = 30\nrelease_trigger = 0.02\n\
                 replenish_tpy = 20\n";
    let base = tmp.path().join("base.toml");
    std::fs::write(
        &base,
        format!(
            "[simulation]\nname = \"s\"\nstart_year = 2026\nyears = 5\nruns = 300\nseed = 3\n\
             [[material]]\nid = \"x\"\ndemand_tpy = {{ dist = \"uniform\", min = 50, max = 150 }}\n\
             price_eur_per_t = 1000\nvalue_of_lost_load_eur_per_t = 20000\n\
             demand_elasticity = -0.3\nmax_price_multiple = 3\n\
             [[material.source]]\nregion = \"A\"\nshare = 1.0\n\
             [[disruption]]\nmaterials = [\"x\"]\nregion = \"A\"\nrate_per_year = 0.5\n\
             duration_months = 4\nseverity = 0.8\n{stock}"
        ),
    )
    .unwrap();
    let same = tmp.path().join("same.toml");
    std::fs::write(&same, format!("name = \"same\"\n{stock}")).unwrap();
    let none = tmp.path().join("none.toml");
    std::fs::write(&none, "name = \"none\"\n").unwrap();
    let out = tmp.path().join("cmp");
    let o = crate::util::crmsim_process()
        .args(["compare", "--no-charts", "--quiet", "--out"])
        .arg(&out)
        .arg(&base)
        .arg("--policy")
        .arg(&same)
        .arg("--policy")
        .arg(&none)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", crate::util::stderr(&o));
    let (header, rows) = read_csv(&out.join("compare.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (variant, measure, difference) = (col("variant"), col("measure"), col("difference"));
    let mut seen = 0;
    for r in &rows {
        let d: f64 = r[difference].parse().unwrap();
        if r[variant] == "same" {
            assert_eq!(d, 0.0, "{}", r[measure]);
            seen += 1;
        }
        // Without the stock: no stock cost, and the base's whole outlay
        // saved.
        if r[variant] == "none" && r[measure] == "stockpile_cost_eur" {
            assert!(d < 0.0);
        }
    }
    assert!(seen > 10);
    // The same check by the library: the empty policy is the scenario
    // without policies.
    let (plain, name) = crmsim::scenario::with_policy(&base, &none).unwrap();
    assert_eq!(name, "none");
    let bare = crmsim::scenario::Scenario::load(&base)
        .unwrap()
        .without_policies();
    let a = simulate_runs(&plain, 128, 3)
        .runs
        .column(0, Metric::ShortfallT)
        .unwrap();
    let b = simulate_runs(&bare, 128, 3)
        .runs
        .column(0, Metric::ShortfallT)
        .unwrap();
    assert_eq!(a, b);

    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\n\n[[option]]\nmaterial = \"y\"\nvolume_tpy = 1\nfee_eur_per_t_year = 1\n\
         strike_multiple = 1\n",
    )
    .unwrap();
    let o = crate::util::crmsim_process()
        .args(["compare", "--quiet", "--out"])
        .arg(tmp.path().join("cmp2"))
        .arg(&base)
        .arg("--policy")
        .arg(&bad)
        .output()
        .unwrap();
    let err = crate::util::stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}:4: option[y].material: unknown material \"y\"",
            bad.display()
        )),
        "{err}"
    );
    assert!(!tmp.path().join("cmp2").exists());
}

/// A file cannot ask for unbounded tiers or options: 21 tiers of one
/// material and 1,001 options are refused, naming the limit.
#[test]
fn tiers_and_options_are_limited_in_number() {
    let head = "[simulation]\nname = \"s\"\nstart_year = 2026\nyears = 1\nruns = 1\nseed = 1\n\
                [[material]]\nid = \"x\"\ndemand_tpy = 120\nprice_eur_per_t = 1000\n\
                value_of_lost_load_eur_per_t = 20000\n\
                [[material.source]]\nregion = \"A\"\nshare = 1.0\n";
    let tiers: String = (1..=21)
        .map(|k| {
            format!(
                "[[material.tier]]\nname = \"t{k}\"\nshare = {}\npriority = {k}\n",
                1.0 / 21.0
            )
        })
        .collect();
    let err = crmsim::scenario::Scenario::from_toml(
        &format!("{head}{tiers}"),
        std::path::Path::new("t.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("21 tiers of one material: at most 20"),
        "{err}"
    );
    let options: String = (0..1001)
        .map(|_| "[[option]]\nmaterial = \"x\"\nvolume_tpy = 1\nfee_eur_per_t_year = 1\nstrike_multiple = 1\n")
        .collect();
    let err = crmsim::scenario::Scenario::from_toml(
        &format!("{head}{options}"),
        std::path::Path::new("o.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("1001 [[option]] tables: at most 1000"),
        "{err}"
    );
}
