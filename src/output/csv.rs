//! `timeseries.csv` and `runs.csv`.

use crate::engine::table::Chunk;
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
    use rayon::prelude::*;
    /// Runs formatted per task; the tasks of a chunk of the table run in
    /// parallel and are written in run order, so the bytes do not depend on
    /// the threads.
    const CHUNK: usize = 512;
    let mut header = vec!["run".to_string(), "material".to_string()];
    header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
    header.extend(table.param_names().iter().cloned());
    let mut head = ::csv::Writer::from_writer(Vec::new());
    head.write_record(&header)?;
    w.write_all(&head.into_inner().map_err(|e| e.into_error())?)?;

    let rows = |chunk: &Chunk, lo: usize, hi: usize| -> std::io::Result<Vec<u8>> {
        let mut out = ::csv::Writer::from_writer(Vec::new());
        let mut rec: Vec<String> = Vec::with_capacity(header.len());
        let n_params = table.param_names().len();
        for i in lo..hi {
            let run = (table.first_run() + (chunk.first() + i) as u64).to_string();
            // The drawn numbers are the same on every material's row.
            let params: Vec<String> = (0..n_params)
                .map(|p| chunk.param(i, p).to_string())
                .collect();
            for (m, mat) in report.materials.iter().enumerate() {
                rec.clear();
                rec.push(run.clone());
                rec.push(mat.id.clone());
                rec.extend(Metric::ALL.iter().map(|&k| chunk.get(i, m, k).to_string()));
                rec.extend(params.iter().cloned());
                out.write_record(&rec)?;
            }
        }
        out.into_inner().map_err(|e| e.into_error())
    };
    for chunk in table.chunks() {
        if let Some(e) = table.read_error() {
            return Err(e);
        }
        let n = chunk.runs();
        let parts: Vec<std::io::Result<Vec<u8>>> = (0..n)
            .step_by(CHUNK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|lo| rows(&chunk, lo, (lo + CHUNK).min(n)))
            .collect();
        for part in parts {
            w.write_all(&part?)?;
        }
    }
    if let Some(e) = table.read_error() {
        return Err(e);
    }
    w.flush()
}
