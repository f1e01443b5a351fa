//! `criticality.csv`, `criticality_dynamic.csv`, `criticality_ranking.csv`,
//! `criticality_dynamic_ranking.csv`, `criticality_comparison.csv` and the
//! readable tables of `crmsim criticality`. An empty cell is a value that could not be computed; the
//! row's `missing_inputs` says why.

use super::text::table;
use crate::analysis::criticality::dynamic::Dynamic;
use crate::analysis::criticality::published::Pair;
use crate::analysis::criticality::ranking::{Indicator, Ranking, YearlyIndicator, YearlyRanking};
use crate::analysis::criticality::risk::Interval;
use crate::analysis::criticality::{Assessment, Comparison};
use crate::report::num;

fn finish(w: ::csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().expect("writing to memory cannot fail")
}

fn write(w: &mut ::csv::Writer<Vec<u8>>, rec: &[String]) {
    w.write_record(rec).expect("writing to memory cannot fail");
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(String::new, |x| x.to_string())
}

fn flag(x: Option<bool>) -> String {
    x.map_or_else(String::new, |b| b.to_string())
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// `criticality.csv`: one row per material and stage, in file order. EI is
/// the material's; `critical` uses the row's SR; `bottleneck` marks the
/// stage whose SR is the material's; `sr_basis` says which supply the SR
/// uses (`both`, `global` or `eu`).
pub fn assessment_csv(a: &Assessment) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    write(
        &mut w,
        &strings(&[
            "material",
            "stage",
            "hhi_gs",
            "hhi_eu",
            "ir",
            "eol_rir",
            "si_sr",
            "sr",
            "ei",
            "critical",
            "bottleneck",
            "conc_gs",
            "conc_eu",
            "other_gs",
            "other_eu",
            "missing_inputs",
            "sr_basis",
        ]),
    );
    for m in &a.materials {
        for s in &m.stages {
            let mut missing = s.sr_missing.clone();
            missing.extend(m.ei_missing.iter().cloned());
            missing.sort();
            missing.dedup();
            write(
                &mut w,
                &[
                    m.id.clone(),
                    s.stage.name().to_string(),
                    cell(s.hhi_gs),
                    cell(s.hhi_eu),
                    cell(s.ir),
                    cell(s.eol_rir),
                    cell(s.si_sr),
                    cell(s.sr),
                    cell(m.ei),
                    flag(m.stage_critical(s, a)),
                    (m.bottleneck == Some(s.stage)).to_string(),
                    cell(s.conc_gs),
                    cell(s.conc_eu),
                    cell(s.other_gs),
                    cell(s.other_eu),
                    missing.join("; "),
                    s.sr_basis.name().to_string(),
                ],
            );
        }
    }
    finish(w)
}

/// `criticality_dynamic.csv`: per material found in both files and simulated
/// year, the SR over runs (mean, p5, p50, p95), the mean HHI_WGI,t of the
/// simulated sourcing mix and the mean EoL-RIR used, next to the static SR of
/// the same stage and the simulation's own risk measures (the same on every
/// year of a material). A material whose dynamic SR cannot be computed has
/// one row without a year, listing the missing inputs.
pub fn dynamic_csv(a: &Assessment, d: &Dynamic) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    write(
        &mut w,
        &strings(&[
            "material",
            "stage",
            "year",
            "sr_mean",
            "sr_p5",
            "sr_p50",
            "sr_p95",
            "hhi_eu_mean",
            "eol_rir_mean",
            "eol_rir_basis",
            "static_sr",
            "p_shortfall",
            "shortfall_fraction_mean",
            "shortfall_t_cvar95",
            "missing_inputs",
        ]),
    );
    for m in &d.materials {
        let static_sr = a
            .materials
            .iter()
            .find(|x| x.id == m.id)
            .and_then(|x| x.stages.iter().find(|s| s.stage == m.stage))
            .and_then(|s| s.sr);
        let tail = [
            cell(static_sr),
            m.p_shortfall.to_string(),
            m.shortfall_fraction.to_string(),
            m.shortfall_cvar95_t.to_string(),
            m.missing.join("; "),
        ];
        if m.years.is_empty() {
            let mut rec = vec![m.id.clone(), m.stage.name().to_string()];
            rec.extend(std::iter::repeat_n(String::new(), 7));
            rec.push(m.eol_basis.name().to_string());
            rec.extend(tail.iter().cloned());
            write(&mut w, &rec);
            continue;
        }
        for y in &m.years {
            let mut rec = vec![
                m.id.clone(),
                m.stage.name().to_string(),
                y.year.to_string(),
                y.sr.mean.to_string(),
                y.sr.p5.to_string(),
                y.sr.p50.to_string(),
                y.sr.p95.to_string(),
                y.hhi_eu_mean.to_string(),
                y.eol_rir_mean.to_string(),
                m.eol_basis.name().to_string(),
            ];
            rec.extend(tail.iter().cloned());
            write(&mut w, &rec);
        }
    }
    finish(w)
}

/// `criticality_ranking.csv`: materials in rank order with each indicator's
/// value and normalized value, the score and the weights used.
pub fn ranking_csv(r: &Ranking) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header = strings(&["rank", "material", "score"]);
    header.extend(Indicator::ALL.iter().map(|i| i.name().to_string()));
    header.extend(Indicator::ALL.iter().map(|i| format!("{}_norm", i.name())));
    header.extend(strings(&["weights_used", "missing_indicators"]));
    write(&mut w, &header);
    let weights = r
        .used
        .iter()
        .map(|(i, w)| format!("{}={w}", i.name()))
        .collect::<Vec<_>>()
        .join("; ");
    for row in &r.rows {
        let mut rec = vec![
            row.rank.map_or_else(String::new, |n| n.to_string()),
            row.material.clone(),
            cell(row.score),
        ];
        rec.extend(row.values.iter().map(|&x| cell(x)));
        rec.extend(row.normalized.iter().map(|&x| cell(x)));
        rec.push(weights.clone());
        rec.push(row.missing.join("; "));
        write(&mut w, &rec);
    }
    finish(w)
}

/// An interval's estimate, lower and upper bound (empty cells where not
/// known).
fn interval(x: Option<Interval>) -> [String; 3] {
    let bounds = x.and_then(|i| i.bounds);
    [
        cell(x.map(|i| i.estimate)),
        cell(bounds.map(|b| b.0)),
        cell(bounds.map(|b| b.1)),
    ]
}

/// `criticality_dynamic_ranking.csv`: per simulated year, the materials
/// found in both files in rank order, each risk measure with its 95 %
/// Monte Carlo interval (`_low`, `_high`), the EI, the year's mean welfare
/// loss and value of demand behind the ratio, the normalized values, the
/// score and the weights used.
pub fn yearly_ranking_csv(r: &YearlyRanking) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header = strings(&["year", "rank", "material", "score"]);
    for name in ["welfare_loss_per_eur", "peak_price_p95", "p_shortfall"] {
        header.extend([
            name.to_string(),
            format!("{name}_low"),
            format!("{name}_high"),
        ]);
    }
    header.extend(strings(&[
        "ei",
        "welfare_loss_eur_mean",
        "demand_value_eur_mean",
    ]));
    header.extend(
        YearlyIndicator::ALL
            .iter()
            .map(|i| format!("{}_norm", i.name())),
    );
    header.extend(strings(&["weights_used", "missing_indicators"]));
    write(&mut w, &header);
    let weights = r
        .used
        .iter()
        .map(|(i, w)| format!("{}={w}", i.name()))
        .collect::<Vec<_>>()
        .join("; ");
    for (year, rows) in &r.years {
        for row in rows {
            let mut rec = vec![
                year.to_string(),
                row.rank.map_or_else(String::new, |n| n.to_string()),
                row.material.clone(),
                cell(row.score),
            ];
            rec.extend(interval(row.risk.welfare_loss_per_eur));
            rec.extend(interval(Some(row.risk.peak_price_p95)));
            rec.extend(interval(Some(row.risk.p_shortfall)));
            rec.push(cell(row.ei));
            rec.push(row.risk.welfare_loss_eur_mean.to_string());
            rec.push(row.risk.demand_value_eur_mean.to_string());
            rec.extend(row.normalized.iter().map(|&x| cell(x)));
            rec.push(weights.clone());
            rec.push(row.missing.join("; "));
            write(&mut w, &rec);
        }
    }
    finish(w)
}

/// The readable top of the ranking per year: each year's first three
/// materials with their scores.
pub fn yearly_ranking_table(r: &YearlyRanking) -> String {
    let rows: Vec<Vec<String>> = r
        .years
        .iter()
        .map(|(year, rows)| {
            let mut row = vec![year.to_string()];
            for k in 0..3 {
                row.push(
                    rows.get(k)
                        .and_then(|x| Some(format!("{} {:.2}", x.material, x.score?)))
                        .unwrap_or_else(|| "-".into()),
                );
            }
            row
        })
        .collect();
    table(&["year", "1st (score)", "2nd", "3rd"], &rows)
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), num)
}

/// The readable summary: one line per material with its SR (bottleneck
/// stage), EI, whether it is critical, its rank and how many inputs are
/// missing.
pub fn summary_table(a: &Assessment, r: &Ranking) -> String {
    let rows: Vec<Vec<String>> = a
        .materials
        .iter()
        .map(|m| {
            let mut missing: Vec<&String> = m.stages.iter().flat_map(|s| &s.sr_missing).collect();
            missing.extend(&m.ei_missing);
            missing.sort();
            missing.dedup();
            let rank = r
                .rows
                .iter()
                .find(|x| x.material == m.id)
                .and_then(|x| x.rank);
            vec![
                m.id.clone(),
                opt(m.sr),
                m.bottleneck
                    .map_or_else(|| "-".into(), |s| s.name().to_string()),
                opt(m.ei),
                m.critical
                    .map_or_else(|| "unknown".into(), |c| if c { "yes" } else { "no" }.into()),
                rank.map_or_else(|| "-".into(), |n| n.to_string()),
                missing.len().to_string(),
            ]
        })
        .collect();
    table(
        &[
            "material",
            "SR",
            "stage",
            "EI",
            "critical",
            "rank",
            "missing inputs",
        ],
        &rows,
    )
}

/// `criticality_comparison.csv`: per material and stage with a published
/// value, the computed SR and EI beside the published ones and the
/// difference (computed - published); `sr_basis` is the supply the computed
/// SR uses. Empty where a value is not known.
pub fn comparison_csv(c: &Comparison) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    write(
        &mut w,
        &strings(&[
            "material",
            "stage",
            "sr_basis",
            "sr_computed",
            "sr_published",
            "sr_difference",
            "ei_computed",
            "ei_published",
            "ei_difference",
        ]),
    );
    for r in &c.rows {
        write(
            &mut w,
            &[
                r.material.clone(),
                r.stage.name().to_string(),
                r.sr_basis.name().to_string(),
                cell(r.sr.computed),
                cell(r.sr.published),
                cell(r.sr.difference()),
                cell(r.ei.computed),
                cell(r.ei.published),
                cell(r.ei.difference()),
            ],
        );
    }
    finish(w)
}

/// Two decimals, `-` when unknown.
fn two(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{x:.2}"))
}

/// A difference with its sign, two decimals (`-` when unknown).
fn signed(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{x:+.2}"))
}

/// The readable comparison with the published values: per material and
/// stage, computed, published and difference for SR and EI (two decimals),
/// and the supply the computed SR uses; then the published rows the file
/// has no stage for.
pub fn comparison_table(c: &Comparison) -> String {
    let pair = |p: &Pair| [two(p.computed), two(p.published), signed(p.difference())];
    let rows: Vec<Vec<String>> = c
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.material.clone(),
                r.stage.name().to_string(),
                r.sr_basis.name().to_string(),
            ];
            row.extend(pair(&r.sr));
            row.extend(pair(&r.ei));
            row
        })
        .collect();
    let mut out = table(
        &[
            "material",
            "stage",
            "SR basis",
            "SR computed",
            "SR published",
            "SR diff",
            "EI computed",
            "EI published",
            "EI diff",
        ],
        &rows,
    );
    if !c.unmatched.is_empty() {
        out.push_str(&format!(
            "Published, not in the indicator file: {}\n",
            c.unmatched.join(", ")
        ));
    }
    out
}
