//! The performance gate of `.ci/run`: times the reference scenario of the
//! benchmarks against a fixed calibration kernel, in this process, one after
//! the other, and fails when the scenario got slower relative to the kernel.
//!
//! ```sh
//! cargo run --release --example perf_gate                    # check
//! cargo run --release --example perf_gate -- --record "why"  # new baseline
//! ```
//!
//! Each of [`REPS`] rounds times [`RUNS`] runs of `benches/reference.toml`
//! (read as it stands, seed 42, no files written) and then the kernel, both
//! on this thread, in processor time (so that time spent waiting for a
//! processor, on a machine running other work, does not count); the ratio
//! is the median scenario time over the median kernel time. A slower
//! machine, or a cache shared with other work, slows both, so the ratio
//! moves much less than either time. The check fails (exit code 1) when the
//! ratio is more than [`TOLERANCE`] above the one in `benches/baseline.json`
//! twice in a row (a second measurement is taken only after a first
//! failure). `--record WHY` writes the median ratio of three measurements
//! there instead, with the date, the vector code path and the reason, to be
//! committed on its own (docs/performance.md, "The performance gate").

use crmsim::engine::simulate;
use crmsim::scenario::Scenario;
use crmsim::vocab::RunPlan;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

/// Runs of the reference scenario timed in a round (all of them also feed
/// the percentile sketches, as the first 10,000 of any study do).
const RUNS: u64 = 2048;
/// Rounds: scenario, then kernel, this many times after one of each to warm up.
const REPS: usize = 15;
/// Measurements whose median `--record` writes.
const RECORD_MEASUREMENTS: usize = 3;
/// How much worse than the baseline the ratio may be.
const TOLERANCE: f64 = 0.15;
/// Values of the kernel's table: 16 MiB of `f64`, more than the cache.
const KERNEL_VALUES: usize = 1 << 21;
/// Passes of the kernel over its table.
const KERNEL_PASSES: usize = 72;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn baseline_path() -> PathBuf {
    root().join("benches/baseline.json")
}

/// The calibration kernel: floating-point work of the engine's kind
/// (multiplies, adds, divisions, square roots, comparisons), on a table too
/// large for the cache, read in order and at random. Plain scalar code of
/// its own, which no change to crmsim touches; the same result every time.
fn kernel(table: &mut [f64]) -> f64 {
    let n = table.len();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut acc = 0.0;
    for pass in 0..KERNEL_PASSES {
        let a = 1.0 + (pass as f64) * 1e-3;
        // In order: a step of arithmetic per value.
        for x in table.iter_mut() {
            let y = *x * a + 0.25;
            *x = if y > 4.0 { (y / 3.0).sqrt() } else { y };
        }
        // At random: gathers, as the quantile sketches' buckets are.
        for _ in 0..n / 8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = (state % n as u64) as usize;
            acc += table[i];
            table[i] = acc.sqrt() * 1e-3;
        }
    }
    acc
}

/// The processor time this thread has had, from Linux's
/// `/proc/thread-self/schedstat` (nanoseconds on the processor); the wall
/// time since the start where that cannot be read.
fn cpu_time(start: Instant) -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or_else(|| start.elapsed(), Duration::from_nanos)
}

fn median(xs: &mut [Duration]) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// The date of `t`, `YYYY-MM-DD` in UTC (Howard Hinnant's civil_from_days).
fn date(t: SystemTime) -> String {
    let days = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The scenario's and the kernel's median processor times, in seconds,
/// after one of each to warm up, over [`REPS`] rounds taken alternately.
fn measure(s: &Scenario, pool: &rayon::ThreadPool, table: &mut [f64], simd: &str) -> f64 {
    let plan = RunPlan {
        first_run: 0,
        runs: RUNS,
        seed: 42,
    };
    let start = Instant::now();
    let time_scenario = || {
        let t = cpu_time(start);
        black_box(pool.install(|| simulate(s, black_box(&plan), &|_| {})));
        cpu_time(start) - t
    };
    let mut time_kernel = || {
        let t = cpu_time(start);
        black_box(kernel(black_box(&mut *table)));
        cpu_time(start) - t
    };
    time_scenario();
    time_kernel();
    let (mut scen, mut kern) = (Vec::new(), Vec::new());
    for _ in 0..REPS {
        scen.push(time_scenario());
        kern.push(time_kernel());
    }
    let (ms, mk) = (median(&mut scen), median(&mut kern));
    let ratio = ms.as_secs_f64() / mk.as_secs_f64();
    println!(
        "reference scenario ({RUNS} runs, 1 thread, {simd} code): median {:.3} s ({:.3}-{:.3}); \
         calibration kernel: median {:.3} s ({:.3}-{:.3}); ratio {ratio:.4} \
         ({:.1} s wall)",
        ms.as_secs_f64(),
        scen[0].as_secs_f64(),
        scen[REPS - 1].as_secs_f64(),
        mk.as_secs_f64(),
        kern[0].as_secs_f64(),
        kern[REPS - 1].as_secs_f64(),
        start.elapsed().as_secs_f64(),
    );
    ratio
}

/// The baseline's ratio, and a line on where it came from.
fn baseline() -> Result<(f64, Option<String>, String), String> {
    let path = baseline_path();
    let b: serde_json::Value = std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let ratio = b["ratio"]
        .as_f64()
        .filter(|r| r.is_finite() && *r > 0.0)
        .ok_or_else(|| format!("{}: no positive \"ratio\"", path.display()))?;
    let simd = b["simd"].as_str().map(String::from);
    let about = format!(
        "recorded {} with the {} code: {}",
        b["recorded"].as_str().unwrap_or("?"),
        simd.as_deref().unwrap_or("?"),
        b["why"].as_str().unwrap_or("?")
    );
    Ok((ratio, simd, about))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let record = match args.as_slice() {
        [] => None,
        [flag, why] if flag == "--record" && !why.trim().is_empty() => Some(why.clone()),
        _ => {
            eprintln!("usage: perf_gate [--record WHY]");
            return ExitCode::from(2);
        }
    };
    let simd = match crmsim::simd::check() {
        Ok(p) => p.name(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let s = match Scenario::load(&root().join("benches/reference.toml")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // This thread is the pool's one worker, so that its processor time is
    // the simulation's.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build()
        .expect("a thread pool");
    let mut table: Vec<f64> = (0..KERNEL_VALUES)
        .map(|i| (i % 1000) as f64 * 1e-3)
        .collect();

    if let Some(why) = record {
        // The median of three measurements, so that one taken in a busy
        // moment does not become the baseline.
        let mut ratios: Vec<f64> = (0..RECORD_MEASUREMENTS)
            .map(|_| measure(&s, &pool, &mut table, simd))
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[RECORD_MEASUREMENTS / 2];
        let json = serde_json::json!({
            "ratio": (ratio * 1e4).round() / 1e4,
            "simd": simd,
            "recorded": date(SystemTime::now()),
            "why": why,
        });
        let mut text = serde_json::to_string_pretty(&json).expect("JSON");
        text.push('\n');
        if let Err(e) = std::fs::write(baseline_path(), text) {
            eprintln!("error: cannot write {}: {e}", baseline_path().display());
            return ExitCode::from(1);
        }
        println!(
            "recorded in {}: commit it on its own, saying why",
            baseline_path().display()
        );
        return ExitCode::SUCCESS;
    }

    let (base, base_simd, about) = match baseline() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("baseline ratio {base:.4} ({about})");
    if base_simd.is_some_and(|b| b != simd) {
        println!("note: this machine runs the {simd} code, not the baseline's");
    }
    for attempt in 1..=2 {
        let change = measure(&s, &pool, &mut table, simd) / base - 1.0;
        if change <= TOLERANCE {
            println!(
                "ok: {:+.1} % against the baseline, within the {:.0} % allowed",
                change * 100.0,
                TOLERANCE * 100.0
            );
            return ExitCode::SUCCESS;
        }
        println!(
            "{}: {:+.1} % against the baseline, more than the {:.0} % allowed",
            if attempt == 1 { "again" } else { "FAIL" },
            change * 100.0,
            TOLERANCE * 100.0
        );
    }
    ExitCode::from(1)
}
