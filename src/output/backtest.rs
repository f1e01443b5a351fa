//! Renderings of a backtest ([`crate::analysis::backtest::Backtest`]):
//! `backtest.csv`, a summary table for the terminal, `report.md`, and one
//! chart per observed series.

use super::charts::{self, BacktestChart, ChartError, Figure, ObservedPoint};
use super::text::table;
use super::Artifact;
use crate::analysis::backtest::{Backtest, Episode, Score, SeriesKey};
use crate::report::num;
use crate::vocab::RunPlan;
use std::fmt::Write;

/// The columns of `backtest.csv`.
pub const COLUMNS: [&str; 8] = [
    "material",
    "date",
    "variable",
    "observed",
    "p5",
    "p50",
    "p95",
    "inside_90",
];

/// `backtest.csv`: one row per observed row, in file order.
pub fn csv(result: &Backtest) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).expect("writing to memory");
    for r in &result.rows {
        let o = &r.observation;
        w.write_record([
            o.material.clone(),
            o.date.to_string(),
            o.variable.clone(),
            o.value.to_string(),
            r.p5.to_string(),
            r.p50.to_string(),
            r.p95.to_string(),
            r.inside.to_string(),
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// A share as a percentage, to the unit.
fn pct(x: f64) -> String {
    format!("{:.0} %", 100.0 * x)
}

fn log_error(s: &Score) -> String {
    s.log_error
        .map_or_else(|| "-".to_string(), |e| format!("{e:.2}"))
}

/// The name of the episode: its folder's last component.
pub fn episode_name(episode: &Episode) -> String {
    episode.dir.file_name().map_or_else(
        || episode.dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The table of coverage and error per series and in all, and the two
/// headline lines, for the terminal.
pub fn summary(episode: &Episode, plan: &RunPlan, result: &Backtest) -> String {
    let mut rows: Vec<Vec<String>> = episode
        .series
        .iter()
        .map(|k| {
            let s = result.score_of(k);
            vec![
                k.material_id.clone(),
                k.variable.clone(),
                s.points.to_string(),
                s.inside.to_string(),
                pct(s.coverage()),
                log_error(&s),
            ]
        })
        .collect();
    let all = result.score;
    rows.push(vec![
        "all".into(),
        String::new(),
        all.points.to_string(),
        all.inside.to_string(),
        pct(all.coverage()),
        log_error(&all),
    ]);
    let mut out = format!(
        "{}: {} runs, seed {}\n",
        episode_name(episode),
        plan.runs,
        plan.seed
    );
    out.push_str(&table(
        &[
            "material",
            "variable",
            "points",
            "inside",
            "coverage",
            "log error",
        ],
        &rows,
    ));
    let left_out = all.points - all.log_points;
    let _ = writeln!(
        out,
        "coverage (observed points inside the simulated 5-95 % band): {} ({} of {})",
        pct(all.coverage()),
        all.inside,
        all.points
    );
    let _ = writeln!(
        out,
        "mean absolute log error of the median: {} (over {} points{})",
        log_error(&all),
        all.log_points,
        if left_out > 0 {
            format!("; {left_out} with an observed value or median of 0 left out")
        } else {
            String::new()
        }
    );
    out
}

fn chart_name(key: &SeriesKey) -> String {
    format!("{}-{}", key.material_id, key.variable.replace('_', "-"))
}

/// What a series' values are, for an axis.
fn y_label(key: &SeriesKey) -> String {
    match key.variable.as_str() {
        "price_multiple" => "price / price at the first date".into(),
        "exports_multiple" => "exports / pre-episode level".into(),
        "price" | "world_price" => "EUR per t".into(),
        v => format!("{v}, t per step"),
    }
}

/// One chart per series: the simulated fan and the observed points.
///
/// # Errors
/// [`ChartError`] if drawing or encoding fails.
pub fn figures(
    episode: &Episode,
    plan: &RunPlan,
    result: &Backtest,
) -> Result<Vec<Figure>, ChartError> {
    let s = &episode.scenario;
    let dt = s.step().dt();
    let start = f64::from(s.start_year());
    let starts: Vec<f64> = (0..s.steps()).map(|t| s.time_of_step(t)).collect();
    episode
        .series
        .iter()
        .zip(&result.fans)
        .enumerate()
        .map(|(i, (key, fan))| {
            let points = result
                .rows
                .iter()
                .zip(&episode.targets)
                .filter(|(_, t)| t.series == i)
                .map(|(r, t)| ObservedPoint {
                    start: start + t.first as f64 * dt,
                    end: start + (t.first + t.len) as f64 * dt,
                    value: r.observation.value,
                    inside: r.inside,
                })
                .collect();
            let score = result.score_of(key);
            let chart = charts::backtest(&BacktestChart {
                title: format!(
                    "{}: {} of {}",
                    episode_name(episode),
                    key.variable,
                    key.material_id
                ),
                subtitle: format!(
                    "{} of {} observed points inside the 5-95 % band; {} runs, seed {}",
                    score.inside, score.points, plan.runs, plan.seed
                ),
                y_label: y_label(key),
                x_range: (start, start + f64::from(s.years())),
                starts: starts.clone(),
                step: dt,
                rows: fan.clone(),
                points,
            })?;
            Ok(Figure {
                name: chart_name(key),
                material: key.material_id.clone(),
                caption: format!(
                    "{} of {}: the simulated median and bands over the episode, and the \
                     observed points (filled inside the 5-95 % band, hollow outside).",
                    key.variable, key.material_id
                ),
                chart,
            })
        })
        .collect()
}

/// `report.md`: the headline figures, the table per series, each chart, and
/// the rows outside the band.
pub fn report(episode: &Episode, plan: &RunPlan, result: &Backtest, figures: &[Figure]) -> String {
    let mut out = format!("# Backtest: {}\n\n", episode_name(episode));
    let _ = writeln!(
        out,
        "Episode folder `{}`, {} runs, seed {}. The band is the simulated 5-95 % range of each \
         observed quantity; a point on a bound counts as inside. The log error is the mean of \
         |ln(median / observed)| over the points where both are above 0. This report measures; \
         it does not judge (docs/validation.md).\n",
        episode.dir.display(),
        plan.runs,
        plan.seed
    );
    out.push_str("```\n");
    out.push_str(&summary(episode, plan, result));
    out.push_str("```\n\n");
    for f in figures {
        let _ = writeln!(
            out,
            "![{}](charts/{}.png)\n\n{}\n",
            f.name, f.name, f.caption
        );
    }
    out.push_str("## Every point\n\n");
    out.push_str("| material | date | variable | observed | p5 | p50 | p95 | inside |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for r in &result.rows {
        let o = &r.observation;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            o.material,
            o.date,
            o.variable,
            num(o.value),
            num(r.p5),
            num(r.p50),
            num(r.p95),
            if r.inside { "yes" } else { "no" }
        );
    }
    out
}

/// Every file of a backtest folder.
///
/// # Errors
/// [`ChartError`] if drawing fails.
pub fn artifacts(
    episode: &Episode,
    plan: &RunPlan,
    result: &Backtest,
    with_charts: bool,
) -> Result<Vec<Artifact>, ChartError> {
    let figures = if with_charts {
        figures(episode, plan, result)?
    } else {
        Vec::new()
    };
    let mut out = vec![
        Artifact {
            name: "backtest.csv".into(),
            bytes: csv(result),
        },
        Artifact {
            name: "report.md".into(),
            bytes: report(episode, plan, result, &figures).into_bytes(),
        },
    ];
    for f in &figures {
        out.extend(f.artifacts());
    }
    Ok(out)
}
