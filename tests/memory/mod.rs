//! The memory estimate that decides how many threads a study gets (and
//! refuses one too large) against the peak resident memory of real runs.

use crate::util::{crmsim_process, load, root, temp_dir};
use crmsim::engine::MemoryEstimate;
use std::time::Duration;

/// The peak resident memory (VmHWM, bytes) of a `crmsim` process run with
/// `args`, read from /proc while it runs (Linux only: `None` elsewhere).
fn peak_of(args: &[&str]) -> Option<u64> {
    let mut child = crmsim_process().args(args).spawn().unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let kib = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
            if let Some(k) = kib {
                peak = Some(peak.unwrap_or(0).max(k * 1024));
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(child.wait().unwrap().success());
    peak
}

/// On the reference scenario, with the per-run table in memory (20,000
/// runs) and spilled to a file (60,000 runs), one thread: the estimate is
/// at least the measured peak less the program's own baseline (code,
/// allocator, output buffers: 96 MiB allowed), and at most four times the
/// peak: it counts every per-step sketch at its largest size, twice (the
/// worker's and the merge's), so it is an upper bound that must not grow
/// far from what a study takes (the figures are in docs/performance.md,
/// "Memory").
#[test]
fn the_memory_estimate_brackets_the_measured_peak() {
    if !std::path::Path::new("/proc/self/status").exists() {
        return;
    }
    let scenario = load("benches/reference.toml");
    let file = root().join("benches/reference.toml");
    for runs in [20_000u64, 60_000] {
        let out = temp_dir();
        let runs_arg = runs.to_string();
        let Some(peak) = peak_of(&[
            "run",
            file.to_str().unwrap(),
            "--runs",
            &runs_arg,
            "--threads",
            "1",
            "--no-charts",
            "--quiet",
            "--out",
            out.path().join("o").to_str().unwrap(),
        ]) else {
            return;
        };
        let estimate = MemoryEstimate::new(&scenario, runs).with_spill().total(1);
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        eprintln!(
            "{runs} runs: estimate {:.1} MiB, peak {:.1} MiB",
            mib(estimate),
            mib(peak)
        );
        assert!(
            estimate + (96 << 20) >= peak,
            "{runs} runs: estimate {:.1} MiB below the peak {:.1} MiB",
            mib(estimate),
            mib(peak)
        );
        assert!(
            estimate <= 4 * peak,
            "{runs} runs: estimate {:.1} MiB above four times the peak {:.1} MiB",
            mib(estimate),
            mib(peak)
        );
    }
}
