//! `timeseries.csv` and `runs.csv`.

use crate::engine::{Metric, RunTable, Variable};
use crate::stats::Report;

fn finish(w: ::csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().expect("writing to memory cannot fail")
}

/// Renders `timeseries.csv`: one row per material, step and variable with the
/// mean and the 5, 25, 50, 75 and 95th percentiles over runs.
pub fn timeseries(report: &Report) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "material", "step", "time", "variable", "mean", "p5", "p25", "p50", "p75", "p95",
    ])
    .expect("writing to memory cannot fail");
    for (m, mat) in report.materials.iter().enumerate() {
        for t in 0..report.steps {
            let time = report.times[t].to_string();
            let step = t.to_string();
            for var in Variable::ALL {
                let row = report.step_row(m, var, t);
                let mut rec = vec![
                    mat.id.clone(),
                    step.clone(),
                    time.clone(),
                    var.name().to_string(),
                ];
                rec.push(row.mean.to_string());
                rec.extend(row.p.iter().map(f64::to_string));
                w.write_record(&rec).expect("writing to memory cannot fail");
            }
        }
    }
    finish(w)
}

/// Renders `runs.csv`: one row per run and material with every per-run total,
/// then the uncertain numbers drawn for that run (one column each, named by
/// their field path), so that analysts can redo any sensitivity analysis.
pub fn runs(report: &Report, table: &RunTable) -> Vec<u8> {
    let mut out = Vec::new();
    runs_to(&mut out, report, table).expect("writing to memory cannot fail");
    out
}

/// Writes `runs.csv` to `w` row by row (it has runs x materials rows, so it
/// is not built in memory first).
///
/// # Errors
/// What `w` reports.
pub fn runs_to(
    w: &mut dyn std::io::Write,
    report: &Report,
    table: &RunTable,
) -> std::io::Result<()> {
    let mut w = ::csv::Writer::from_writer(w);
    let mut header = vec!["run".to_string(), "material".to_string()];
    header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
    header.extend(table.param_names().iter().cloned());
    w.write_record(&header)?;
    let mut rec: Vec<String> = Vec::with_capacity(header.len());
    for i in 0..table.runs() {
        let run = (table.first_run() + i as u64).to_string();
        // The drawn numbers are the same on every material's row.
        let params: Vec<String> = table.params(i).iter().map(f64::to_string).collect();
        for (m, mat) in report.materials.iter().enumerate() {
            rec.clear();
            rec.push(run.clone());
            rec.push(mat.id.clone());
            rec.extend(Metric::ALL.iter().map(|&k| table.get(i, m, k).to_string()));
            rec.extend(params.iter().cloned());
            w.write_record(&rec)?;
        }
    }
    w.flush()
}
