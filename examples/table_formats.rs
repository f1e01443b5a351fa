//! What writing a study's large tables costs in each format: simulates a
//! scenario once, then writes `runs`, `params` and `timeseries` as CSV and
//! as Parquet to a temporary folder, alternately, several times, and
//! prints each round's seconds (wall and this process's CPU) and the
//! files' sizes (docs/performance.md, "Parquet").
//!
//! ```sh
//! cargo run --release --example table_formats -- benches/reference.toml 1000000 3
//! ```

use crmsim::engine::simulate_with;
use crmsim::output::{csv, parquet};
use crmsim::report::Report;
use crmsim::scenario::Scenario;
use crmsim::storage::Spill;
use crmsim::vocab::RunPlan;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

/// This process's CPU time so far, in seconds (user and system), from
/// /proc/self/stat on Linux; NaN elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command's closing parenthesis; utime and stime are
    // the 14th and 15th fields of the line, in clock ticks (100 a second).
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => f64::NAN,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).map_or("benches/reference.toml", String::as_str);
    let runs: u64 = args.get(2).map_or(Ok(100_000), |s| s.parse())?;
    let rounds: usize = args.get(3).map_or(Ok(3), |s| s.parse())?;
    let scenario = Scenario::load(Path::new(file))?;
    let plan = RunPlan {
        first_run: 0,
        runs,
        seed: scenario.seed(),
    };
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let spill = Some(Spill::new_in(dir.path())?);
    let outcome = simulate_with(&scenario, &plan, &|_| {}, spill)?;
    let report = Report::new(&scenario, &plan, &outcome)?;
    println!(
        "{file}: {runs} runs simulated and summarized in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let table = &outcome.runs;
    type Writer<'a> = Box<dyn Fn(&mut (dyn Write + Send)) -> std::io::Result<()> + Sync + 'a>;
    let writers: [(&str, &str, Writer); 6] = [
        (
            "csv",
            "runs.csv",
            Box::new(|w| csv::runs_to(w, &report, table)),
        ),
        ("csv", "params.csv", Box::new(|w| csv::params_to(w, table))),
        (
            "csv",
            "timeseries.csv",
            Box::new(|w| w.write_all(&csv::timeseries(&report))),
        ),
        (
            "parquet",
            "runs.parquet",
            Box::new(|w| parquet::runs_to(w, &report, table)),
        ),
        (
            "parquet",
            "params.parquet",
            Box::new(|w| parquet::params_to(w, table)),
        ),
        (
            "parquet",
            "timeseries.parquet",
            Box::new(|w| w.write_all(&parquet::timeseries(&report)?)),
        ),
    ];
    for round in 1..=rounds {
        for format in ["csv", "parquet"] {
            let (wall, cpu) = (Instant::now(), cpu_seconds());
            let mut sizes = Vec::new();
            for (_, name, write) in writers.iter().filter(|(f, _, _)| *f == format) {
                let path = dir.path().join(name);
                let mut w = BufWriter::new(std::fs::File::create(&path)?);
                write(&mut w)?;
                w.flush()?;
                drop(w);
                sizes.push(format!("{name} {} B", std::fs::metadata(&path)?.len()));
                std::fs::remove_file(&path)?;
            }
            println!(
                "round {round} {format:7}: {:.1} s wall, {:.1} s CPU; {}",
                wall.elapsed().as_secs_f64(),
                cpu_seconds() - cpu,
                sizes.join(", ")
            );
        }
    }
    Ok(())
}
