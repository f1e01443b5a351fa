//! Renderers of the analyses: `sweep.csv`, `compare.csv`, `optimize.csv` and
//! their readable tables.

use super::charts::{self, ChartError, FrontierPoint};
use super::text::table;
use super::Artifact;
use crate::analysis::compare::Difference;
use crate::analysis::edit::Setting;
use crate::analysis::optimize::Sizing;
use crate::analysis::sweep::SweepPoint;
use crate::analysis::PolicyRow;
use crate::report::num;
use std::fmt::Write;

fn finish(w: ::csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().expect("writing to memory cannot fail")
}

/// Column names of a [`PolicyRow`], after the material.
const POLICY_COLUMNS: [&str; 18] = [
    "shortfall_t_mean",
    "shortfall_t_p95",
    "shortfall_t_cvar95",
    "p_shortfall",
    "shortfall_fraction_mean",
    "shortfall_fraction_p95",
    "stockpile_cost_eur",
    "stockpile_end_value_eur",
    "stockpile_sales_eur",
    "shortage_cost_eur",
    "welfare_loss_eur_mean",
    "welfare_loss_eur_p95",
    "peak_price_multiple_p95",
    "avoided_shortfall_t",
    "avoided_welfare_loss_eur",
    "net_stockpile_cost_eur",
    "benefit_cost_ratio",
    "cost_per_t_avoided_eur",
];

fn policy_values(r: &PolicyRow) -> [f64; 18] {
    [
        r.shortfall_mean,
        r.shortfall_p95,
        r.shortfall_cvar95,
        r.p_shortfall,
        r.shortfall_fraction_mean,
        r.shortfall_fraction_p95,
        r.stockpile_cost,
        r.stockpile_end_value,
        r.stockpile_sales,
        r.shortage_cost,
        r.welfare_loss_mean,
        r.welfare_loss_p95,
        r.peak_price_multiple_p95,
        r.avoided_shortfall,
        r.avoided_welfare_loss,
        r.net_stockpile_cost,
        r.benefit_cost_ratio,
        r.cost_per_t_avoided,
    ]
}

/// An empty cell for values that do not exist (NaN).
fn cell(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        x.to_string()
    }
}

/// `sweep.csv`: one row per grid point and material.
pub fn sweep_csv(settings: &[Setting], points: &[SweepPoint]) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = settings.iter().map(|s| s.path.clone()).collect();
    header.push("material".into());
    header.extend(POLICY_COLUMNS.iter().map(|c| c.to_string()));
    w.write_record(&header)
        .expect("writing to memory cannot fail");
    for p in points {
        for r in &p.rows {
            let mut rec: Vec<String> = p.values.iter().map(f64::to_string).collect();
            rec.push(r.material.clone());
            rec.extend(policy_values(r).iter().map(|&x| cell(x)));
            w.write_record(&rec).expect("writing to memory cannot fail");
        }
    }
    finish(w)
}

/// A plain text table: the first column left-aligned, the others right-aligned.
pub(crate) fn opt_num(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        num(x)
    }
}

/// The sweep as a table: per point and material, risk and money.
pub fn sweep_table(settings: &[Setting], points: &[SweepPoint]) -> String {
    let point_label = |p: &SweepPoint| {
        settings
            .iter()
            .zip(&p.values)
            .map(|(s, v)| {
                format!(
                    "{}={}",
                    s.path.rsplit('.').next().unwrap_or(&s.path),
                    num(*v)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rows: Vec<Vec<String>> = points
        .iter()
        .flat_map(|p| {
            p.rows.iter().map(move |r| {
                vec![
                    point_label(p),
                    r.material.clone(),
                    num(r.shortfall_mean),
                    num(r.shortfall_p95),
                    format!("{:.3}", r.p_shortfall),
                    num(r.net_stockpile_cost),
                    num(r.avoided_welfare_loss),
                    opt_num(r.benefit_cost_ratio),
                ]
            })
        })
        .collect();
    table(
        &[
            "point",
            "material",
            "shortfall t",
            "p95 t",
            "P(short)",
            "net stock EUR",
            "avoided loss EUR",
            "benefit/cost",
        ],
        &rows,
    )
}

/// `compare.csv`: one row per variant, material and measure.
pub fn compare_csv(diffs: &[(String, Vec<Difference>)]) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "variant",
        "material",
        "measure",
        "base",
        "variant_value",
        "difference",
        "ci95_lo",
        "ci95_hi",
    ])
    .expect("writing to memory cannot fail");
    for (variant, ds) in diffs {
        for d in ds {
            w.write_record([
                variant.clone(),
                d.material.clone(),
                d.measure.to_string(),
                d.base.to_string(),
                d.variant.to_string(),
                d.diff.estimate.to_string(),
                d.diff.lo.to_string(),
                d.diff.hi.to_string(),
            ])
            .expect("writing to memory cannot fail");
        }
    }
    finish(w)
}

/// The comparison as a table, with a reading of each interval.
pub fn compare_table(diffs: &[(String, Vec<Difference>)]) -> String {
    let mut o = String::new();
    for (variant, ds) in diffs {
        let _ = writeln!(
            o,
            "{variant} minus base (95 % intervals, paired run by run):"
        );
        let rows: Vec<Vec<String>> = ds
            .iter()
            .map(|d| {
                let sure = if d.diff.lo > 0.0 || d.diff.hi < 0.0 {
                    ""
                } else {
                    "  (not distinguishable from 0)"
                };
                vec![
                    d.material.clone(),
                    d.measure.to_string(),
                    num(d.base),
                    num(d.variant),
                    format!(
                        "{} [{}, {}]{sure}",
                        num(d.diff.estimate),
                        num(d.diff.lo),
                        num(d.diff.hi)
                    ),
                ]
            })
            .collect();
        o += &table(
            &[
                "material",
                "measure",
                "base",
                "variant",
                "difference [95 % CI]",
            ],
            &rows,
        );
        o.push('\n');
    }
    o += &glance_table(diffs);
    o
}

/// Each variant at a glance: welfare loss avoided, extra outlay on
/// stockpiles and options, and their ratio, summed over the materials.
pub fn glance_table(diffs: &[(String, Vec<Difference>)]) -> String {
    let rows: Vec<Vec<String>> = diffs
        .iter()
        .map(|(variant, ds)| {
            let g = crate::analysis::compare::Glance::of(variant, ds);
            let per_euro = g.per_euro();
            vec![
                variant.clone(),
                num(g.avoided_welfare_loss),
                num(g.extra_outlay),
                if per_euro.is_finite() {
                    num(per_euro)
                } else {
                    "-".into()
                },
                num(g.avoided_shortfall),
            ]
        })
        .collect();
    let mut o = "Each variant against the base, all materials (means of the paired differences):\n"
        .to_string();
    o += &table(
        &[
            "variant",
            "welfare loss avoided, EUR",
            "extra outlay, EUR",
            "avoided per euro",
            "shortfall avoided, t",
        ],
        &rows,
    );
    o
}

/// `optimize.csv`: one row per material.
pub fn optimize_csv(sizings: &[Sizing]) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header = vec!["material".to_string(), "target_days".to_string()];
    header.extend(POLICY_COLUMNS.iter().map(|c| c.to_string()));
    header.push("note".into());
    w.write_record(&header)
        .expect("writing to memory cannot fail");
    for s in sizings {
        let mut rec = vec![
            s.material.clone(),
            s.days.map(|d| d.to_string()).unwrap_or_default(),
        ];
        match &s.row {
            Some(r) => rec.extend(policy_values(r).iter().map(|&x| cell(x))),
            None => rec.extend(std::iter::repeat_n(String::new(), POLICY_COLUMNS.len())),
        }
        rec.push(s.note.clone());
        w.write_record(&rec).expect("writing to memory cannot fail");
    }
    finish(w)
}

/// The sizing as a table, with how exact the answers are said once below it
/// and the materials without an answer listed with the reason.
pub fn optimize_table(sizings: &[Sizing]) -> String {
    let rows: Vec<Vec<String>> = sizings
        .iter()
        .map(|s| {
            let r = s.row.as_ref();
            let f = |g: fn(&PolicyRow) -> f64| r.map_or("-".into(), |r| opt_num(g(r)));
            vec![
                s.material.clone(),
                s.days.map_or("-".into(), num),
                f(|r| r.shortfall_mean),
                r.map_or("-".into(), |r| {
                    format!("{:.2} %", 100.0 * r.shortfall_fraction_mean)
                }),
                r.map_or("-".into(), |r| format!("{:.3}", r.p_shortfall)),
                f(|r| r.net_stockpile_cost),
                f(|r| r.avoided_welfare_loss),
            ]
        })
        .collect();
    let mut o = table(
        &[
            "material",
            "days",
            "shortfall t",
            "of demand",
            "P(short)",
            "net stock EUR",
            "avoided loss EUR",
        ],
        &rows,
    );
    // The note of the sized materials is shared; others say why not.
    if let Some(shared) = sizings.iter().find(|s| s.days.is_some()).map(|s| &s.note) {
        let _ = writeln!(o, "days: {shared}");
    }
    for s in sizings.iter().filter(|s| s.days.is_none()) {
        let _ = writeln!(o, "{}: {}", s.material, s.note);
    }
    o
}

fn chart_artifacts(name: &str, chart: charts::Chart) -> [Artifact; 2] {
    [
        Artifact {
            name: format!("charts/{name}.svg"),
            bytes: chart.svg.into_bytes(),
        },
        Artifact {
            name: format!("charts/{name}.png"),
            bytes: chart.png,
        },
    ]
}

/// One cost-risk frontier per material: each sweep point's net stockpile
/// cost against its p95 total shortfall.
///
/// # Errors
/// [`ChartError`] when drawing fails.
pub fn sweep_charts(
    settings: &[Setting],
    points: &[SweepPoint],
) -> Result<Vec<Artifact>, ChartError> {
    let Some(first) = points.first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (m, row) in first.rows.iter().enumerate() {
        let frontier: Vec<FrontierPoint> = points
            .iter()
            .map(|p| FrontierPoint {
                label: settings
                    .iter()
                    .zip(&p.values)
                    .map(|(s, v)| {
                        format!(
                            "{} {}",
                            s.path.rsplit('.').next().unwrap_or(&s.path),
                            num(*v)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                cost_eur: p.rows[m].net_stockpile_cost,
                risk: p.rows[m].shortfall_p95,
            })
            .collect();
        let chart = charts::frontier(
            &format!("{}: cost and risk of each option", row.material),
            "p95 of total shortfall (t)",
            &frontier,
        )?;
        out.extend(chart_artifacts(
            &format!("{}-frontier", row.material),
            chart,
        ));
    }
    Ok(out)
}

/// One chart per material: each variant's paired difference in mean total
/// shortfall with its 95 % interval.
///
/// # Errors
/// [`ChartError`] when drawing fails.
pub fn compare_charts(diffs: &[(String, Vec<Difference>)]) -> Result<Vec<Artifact>, ChartError> {
    let mut materials: Vec<&str> = Vec::new();
    for (_, ds) in diffs {
        for d in ds {
            if !materials.contains(&d.material.as_str()) {
                materials.push(&d.material);
            }
        }
    }
    let mut out = Vec::new();
    for m in materials {
        let rows: Vec<charts::Difference> = diffs
            .iter()
            .filter_map(|(variant, ds)| {
                ds.iter()
                    .find(|d| d.material == m && d.measure == "shortfall_t_mean")
                    .map(|d| charts::Difference {
                        label: variant.rsplit('/').next().unwrap_or(variant).to_string(),
                        mean: d.diff.estimate,
                        lo: d.diff.lo,
                        hi: d.diff.hi,
                    })
            })
            .collect();
        let chart = charts::differences(
            &format!("{m}: change in mean total shortfall against the base"),
            "variant - base, tonnes over the horizon (95 % interval, paired)",
            &rows,
        )?;
        out.extend(chart_artifacts(&format!("{m}-differences"), chart));
    }
    Ok(out)
}
