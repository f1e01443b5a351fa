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
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header = vec!["run".to_string(), "material".to_string()];
    header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
    header.extend(table.param_names().iter().cloned());
    w.write_record(&header)
        .expect("writing to memory cannot fail");
    for i in 0..table.runs() {
        let run = (table.first_run() + i as u64).to_string();
        for (m, mat) in report.materials.iter().enumerate() {
            let mut rec = vec![run.clone(), mat.id.clone()];
            rec.extend(Metric::ALL.iter().map(|&k| table.get(i, m, k).to_string()));
            rec.extend(table.params(i).iter().map(f64::to_string));
            w.write_record(&rec).expect("writing to memory cannot fail");
        }
    }
    finish(w)
}
