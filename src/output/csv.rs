//! `timeseries.csv`, `runs.csv` and `params.csv`.
//!
//! `runs.csv` (runs x materials rows) and `params.csv` (one row per run) are
//! the large files of a study: their rows are formatted straight into byte
//! buffers, in parallel chunks that are written in run order, so the bytes do
//! not depend on the number of threads. Numbers are written with the fewest
//! digits that read back to the same `f64`, and whole numbers as integers.

use super::columns::RunsLayout;
use crate::report::Report;
use crate::storage::table::Chunk;
use crate::storage::RunTable;
use crate::vocab::{Metric, Variable};
use std::io;

fn finish(w: ::csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().expect("writing to memory cannot fail")
}

/// Renders `timeseries.csv`: one row per material, step and variable with the
/// mean and the 5, 25, 50, 75 and 95th percentiles over runs. Materials are
/// rendered in parallel and joined in file order.
pub fn timeseries(report: &Report) -> Vec<u8> {
    use rayon::prelude::*;
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "material", "step", "time", "variable", "mean", "p5", "p25", "p50", "p75", "p95",
    ])
    .expect("writing to memory cannot fail");
    let mut out = finish(w);
    let parts: Vec<Vec<u8>> = report
        .materials
        .par_iter()
        .enumerate()
        .map(|(m, mat)| {
            let mut w = ::csv::Writer::from_writer(Vec::new());
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
            finish(w)
        })
        .collect();
    for part in parts {
        out.extend_from_slice(&part);
    }
    out
}

/// Renders `runs.csv`: one row per run and material with every per-run total
/// ([`Metric::ALL`] order). The numbers drawn for each run are in
/// `params.csv` (see [`params`]); the two join on `run`.
///
/// # Errors
/// What reading a spilled table reported (writing to memory cannot fail).
pub fn runs(report: &Report, table: &RunTable) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    runs_to(&mut out, report, table)?;
    Ok(out)
}

/// Writes `runs.csv` to `w` chunk by chunk (it has runs x materials rows, so
/// it is not built in memory first).
///
/// # Errors
/// What `w` reports.
pub fn runs_to(w: &mut dyn io::Write, report: &Report, table: &RunTable) -> io::Result<()> {
    let layout = RunsLayout::new(report, table);
    let header: Vec<&str> = layout.header.iter().map(String::as_str).collect();
    write_header(w, &header)?;
    // Each material's id as a finished CSV field, once.
    let ids: Vec<Vec<u8>> = layout
        .materials
        .iter()
        .map(|id| {
            let mut field = Vec::new();
            push_text(&mut field, id);
            field
        })
        .collect();
    let tier_columns = &layout.tier_columns;
    let first_run = table.first_run();
    write_in_run_order(w, table, |chunk, i, out| {
        let mut num = Numbers::new();
        let run = first_run + (chunk.first() + i) as u64;
        for (m, id) in ids.iter().enumerate() {
            num.push_u64(out, run);
            out.push(b',');
            out.extend_from_slice(id);
            for metric in Metric::ALL {
                out.push(b',');
                num.push_f64(out, chunk.get(i, m, metric));
            }
            for col in &tier_columns[m] {
                out.push(b',');
                if let Some(k) = col {
                    num.push_f64(out, chunk.extra(i, *k));
                }
            }
            out.push(b'\n');
        }
    })
}

/// Renders `stocks.csv`: one row per stockpile and year, its level at the
/// year's end in tonnes, in days of the year's consumption and as a
/// percentage of it (the Critical Raw Materials Act's Art. 22 report),
/// each as the mean over runs with its 5th and 95th percentiles.
pub fn stocks(report: &Report) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header = vec!["stockpile".to_string(), "material".into(), "year".into()];
    for what in ["level_t", "days_of_cover", "percent_of_annual_consumption"] {
        header.push(what.into());
        header.push(format!("{what}_p5"));
        header.push(format!("{what}_p95"));
    }
    w.write_record(&header).expect("writing to memory");
    let mut num = Numbers::new();
    for mat in &report.materials {
        for sp in &mat.stockpiles {
            for y in &sp.years {
                let mut row = vec![sp.name.clone(), mat.id.clone(), y.year.to_string()];
                for s in [
                    &y.level_t,
                    &y.days_of_cover,
                    &y.percent_of_annual_consumption,
                ] {
                    for x in [s.mean, s.p5, s.p95] {
                        let mut field = Vec::new();
                        if x.is_finite() {
                            num.push_f64(&mut field, x);
                        }
                        row.push(String::from_utf8(field).expect("digits are text"));
                    }
                }
                w.write_record(&row).expect("writing to memory");
            }
        }
    }
    finish(w)
}

/// Renders `params.csv`: one row per run, the run's number, then the
/// uncertain numbers drawn for that run (one column each, named by its field
/// path, in [`RunTable::param_names`] order), for sensitivity analyses of
/// one's own. A scenario that draws nothing gives the `run` column alone.
///
/// # Errors
/// What reading a spilled table reported (writing to memory cannot fail).
pub fn params(table: &RunTable) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    params_to(&mut out, table)?;
    Ok(out)
}

/// Writes `params.csv` to `w` chunk by chunk.
///
/// # Errors
/// What `w` reports, or what reading a spilled table reported.
pub fn params_to(w: &mut dyn io::Write, table: &RunTable) -> io::Result<()> {
    let mut header = vec!["run"];
    header.extend(table.param_names().iter().map(String::as_str));
    write_header(w, &header)?;
    let first_run = table.first_run();
    let n_params = table.param_names().len();
    write_in_run_order(w, table, |chunk, i, out| {
        let mut num = Numbers::new();
        num.push_u64(out, first_run + (chunk.first() + i) as u64);
        for p in 0..n_params {
            out.push(b',');
            num.push_f64(out, chunk.param(i, p));
        }
        out.push(b'\n');
    })
}

fn write_header(w: &mut dyn io::Write, fields: &[&str]) -> io::Result<()> {
    let mut head = ::csv::Writer::from_writer(Vec::new());
    head.write_record(fields)?;
    w.write_all(&head.into_inner().map_err(|e| e.into_error())?)
}

/// Writes a row per run of `table`, each appended to a buffer by
/// `row(chunk, i, buffer)` for the `i`-th run of a chunk of the table, in
/// run order. The table is read one chunk at a time; the runs of a chunk are
/// formatted in parallel pieces, and while one chunk is written the next is
/// formatted, so at most two chunks' text is held, in buffers reused from
/// chunk to chunk.
///
/// # Errors
/// What `w` reports, or what reading the table reported.
fn write_in_run_order(
    w: &mut dyn io::Write,
    table: &RunTable,
    row: impl Fn(&Chunk, usize, &mut Vec<u8>) + Sync,
) -> io::Result<()> {
    use rayon::prelude::*;
    /// Runs formatted per task.
    const PIECE: usize = 512;
    // A chunk that could not be read is formatted as nothing and its
    // error returned, to be passed on before anything after it is written.
    let format = |chunk: Option<io::Result<Chunk>>, buffers: &mut Vec<Vec<u8>>| -> io::Result<()> {
        let Some(chunk) = chunk else {
            buffers.clear();
            return Ok(());
        };
        let chunk = chunk?;
        let runs = chunk.runs();
        buffers.resize(runs.div_ceil(PIECE), Vec::new());
        buffers.par_iter_mut().enumerate().for_each(|(k, buf)| {
            buf.clear();
            for i in k * PIECE..((k + 1) * PIECE).min(runs) {
                row(&chunk, i, buf);
            }
        });
        Ok(())
    };
    let mut chunks = table.chunks();
    let mut ready: Vec<Vec<u8>> = Vec::new();
    let mut next: Vec<Vec<u8>> = Vec::new();
    format(chunks.next(), &mut ready)?;
    while !ready.is_empty() {
        // Formatting the next chunk on the pool while this thread writes.
        let mut formatted = Ok(());
        rayon::in_place_scope(|s| {
            s.spawn(|_| formatted = format(chunks.next(), &mut next));
            ready.iter().try_for_each(|buf| w.write_all(buf))
        })?;
        formatted?;
        std::mem::swap(&mut ready, &mut next);
    }
    w.flush()
}

/// Appends `s` as a CSV field, quoted when it holds a comma, a quote or a
/// line break (as the `csv` crate writes it).
fn push_text(out: &mut Vec<u8>, s: &str) {
    if !s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Whole numbers below this magnitude are written as integers: every one is
/// exact in an `f64`, so its digits are its value.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0; // 2^53

/// Scratch space for formatting numbers.
struct Numbers {
    int: itoa::Buffer,
    float: zmij::Buffer,
}

impl Numbers {
    fn new() -> Self {
        Numbers {
            int: itoa::Buffer::new(),
            float: zmij::Buffer::new(),
        }
    }

    fn push_u64(&mut self, out: &mut Vec<u8>, n: u64) {
        out.extend_from_slice(self.int.format(n).as_bytes());
    }

    /// Appends `x` with the fewest digits that read back to the same `f64`
    /// (`3`, `-2.5`, `0.1`, `1e-7`, `1.2345678901234568e17`). Non-finite
    /// values are written as Rust writes them (`NaN`, `inf`, `-inf`), which
    /// Rust's and most CSV readers' float parsers read back.
    fn push_f64(&mut self, out: &mut Vec<u8>, x: f64) {
        // A whole number: `as i64` truncates in one instruction, where
        // `fract` calls the library's `trunc` (NaN fails the first test).
        if x.abs() < EXACT_INTEGERS && (x as i64) as f64 == x {
            if x == 0.0 && x.is_sign_negative() {
                // -0.0 is not the integer 0; keep its sign, so it reads back.
                out.extend_from_slice(b"-0");
            } else {
                // Exact: |x| < 2^53 fits an i64 and is a whole number.
                out.extend_from_slice(self.int.format(x as i64).as_bytes());
            }
        } else if x.is_finite() {
            // zmij writes a positive exponent with its sign (`1e+17`); the
            // files have `1e17`, as ryu writes it. Only exponents from 16 up
            // are written with a `+`, so it is the third or fourth byte
            // from the end.
            let s = self.float.format_finite(x).as_bytes();
            let n = s.len();
            match [3, 4].into_iter().find(|&d| n > d && s[n - d] == b'+') {
                Some(d) => {
                    out.extend_from_slice(&s[..n - d]);
                    out.extend_from_slice(&s[n - d + 1..]);
                }
                None => out.extend_from_slice(s),
            }
        } else if x.is_nan() {
            out.extend_from_slice(b"NaN");
        } else if x > 0.0 {
            out.extend_from_slice(b"inf");
        } else {
            out.extend_from_slice(b"-inf");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn number(x: f64) -> String {
        let mut out = Vec::new();
        Numbers::new().push_f64(&mut out, x);
        String::from_utf8(out).expect("ASCII")
    }

    #[test]
    fn numbers_have_the_shortest_digits_and_integers_no_point() {
        let two_53 = 9_007_199_254_740_992.0;
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (3.0, "3"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e-7, "1e-7"),
            (123_456_789_012_345_680.0, "1.2345678901234568e17"),
            (two_53 - 1.0, "9007199254740991"),
            (-(two_53 - 1.0), "-9007199254740991"),
            // From 2^53 on, whole numbers are no longer all exact: shortest digits.
            (two_53, "9007199254740992.0"),
            (1e300, "1e300"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (x, expected) in cases {
            assert_eq!(number(x), expected, "{x:e}");
        }
    }

    #[test]
    fn short_decimals_and_powers_of_two_are_written_as_ryu_writes_them() {
        let mut ryu = ryu::Buffer::new();
        let mut check = |x: f64| {
            for x in [x, x.next_up(), x.next_down(), -x] {
                if x.is_finite() && !(x.fract() == 0.0 && x.abs() < EXACT_INTEGERS) {
                    assert_eq!(number(x), ryu.format_finite(x), "{x:e}");
                }
            }
        };
        for e in -325..=308 {
            for k in [1, 2, 5, 9, 12, 25, 123, 999, 4096, 123_457] {
                check(format!("{k}e{e}").parse().expect("a number"));
            }
        }
        for e in -1074..=1023 {
            check(2f64.powi(e));
            check(3.0 * 2f64.powi(e));
        }
    }

    #[test]
    fn integers_are_written_whole() {
        let mut out = Vec::new();
        let mut num = Numbers::new();
        num.push_u64(&mut out, 0);
        out.push(b',');
        num.push_u64(&mut out, u64::MAX);
        assert_eq!(out, b"0,18446744073709551615");
    }

    /// A table of `runs` runs (several chunks) whose column c of run i holds
    /// `i * 100 + c`, plus a half in every third column; in a temporary file
    /// when `spill`.
    fn numbered_table(runs: usize, spill: bool) -> RunTable {
        use crate::storage::table::TableBuilder;
        let names = vec!["a".to_string(), "b,c".to_string()];
        let spill = spill.then(|| {
            crate::storage::Spill::new_in(&std::env::temp_dir())
                .unwrap()
                .above(0)
        });
        let b = TableBuilder::with_shape(5, runs, 2, names, spill);
        let cols = b.row_len();
        let rows: Vec<f64> = (0..runs)
            .flat_map(|i| (0..cols).map(move |c| value(i, c)))
            .collect();
        b.put_rows(0, &rows);
        b.finish().unwrap()
    }

    fn value(i: usize, c: usize) -> f64 {
        (i * 100 + c) as f64 + if c % 3 == 0 { 0.5 } else { 0.0 }
    }

    #[test]
    fn large_files_hold_every_run_in_order_whatever_the_threads() {
        use crate::report::MaterialReport;
        use crate::vocab::N_METRICS;
        let runs = 3 * crate::storage::table::CHUNK_RUNS + 17;
        let report = Report {
            name: "t".into(),
            runs: runs as u64,
            seed: 0,
            steps: 0,
            times: Vec::new(),
            materials: ["x", "y"]
                .map(|id| MaterialReport {
                    id: id.into(),
                    metrics: Vec::new(),
                    p_shortfall: 0.0,
                    tiers: Vec::new(),
                    stockpiles: Vec::new(),
                })
                .to_vec(),
            series: Vec::new(),
        };
        // Written out by hand: runs are numbered from 5, the numbers as
        // Rust displays them (which for these is the shortest form).
        let mut want_runs = String::from("run,material");
        for m in Metric::ALL {
            want_runs += &format!(",{}", m.name());
        }
        want_runs.push('\n');
        let mut want_params = String::from("run,a,\"b,c\"\n");
        for i in 0..runs {
            for (m, id) in ["x", "y"].iter().enumerate() {
                want_runs += &format!("{},{id}", i + 5);
                for c in m * N_METRICS..(m + 1) * N_METRICS {
                    want_runs += &format!(",{}", value(i, c));
                }
                want_runs.push('\n');
            }
            let p0 = 2 * N_METRICS;
            want_params += &format!("{},{},{}\n", i + 5, value(i, p0), value(i, p0 + 1));
        }
        for spill in [false, true] {
            let table = numbered_table(runs, spill);
            assert_eq!(table.is_spilled(), spill);
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let (r, p) = pool.install(|| (super::runs(&report, &table), params(&table)));
                let (r, p) = (r.unwrap(), p.unwrap());
                assert!(r == want_runs.as_bytes(), "runs.csv, {threads} threads");
                assert!(p == want_params.as_bytes(), "params.csv, {threads} threads");
            }
        }
    }

    #[test]
    fn text_is_quoted_as_the_csv_crate_quotes_it() {
        for s in [
            "gallium",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "cr\r",
            "",
            "é",
        ] {
            let mut ours = Vec::new();
            push_text(&mut ours, s);
            ours.extend_from_slice(b",x\n");
            let mut theirs = ::csv::Writer::from_writer(Vec::new());
            theirs.write_record([s, "x"]).unwrap();
            assert_eq!(ours, theirs.into_inner().unwrap(), "{s:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn numbers_read_back_bit_for_bit(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            let back: f64 = number(x).parse().expect("a number");
            if x.is_nan() {
                prop_assert!(back.is_nan());
            } else {
                prop_assert_eq!(back.to_bits(), x.to_bits(), "{}", number(x));
            }
        }

        #[test]
        fn numbers_are_written_as_ryu_writes_them(
            bits in any::<u64>(),
            // The same mantissa in the range of everyday magnitudes, 2^-30
            // to 2^70, where the form changes from point to exponent.
            exponent in 993u64..1094,
        ) {
            let mut ryu = ryu::Buffer::new();
            let mantissa = bits & ((1 << 52) - 1);
            for x in [f64::from_bits(bits), f64::from_bits(mantissa | exponent << 52)] {
                // Whole numbers below 2^53 are written as integers instead.
                if x.is_finite() && !(x.fract() == 0.0 && x.abs() < EXACT_INTEGERS) {
                    prop_assert_eq!(number(x), ryu.format_finite(x), "{:e}", x);
                }
            }
        }

        #[test]
        fn everyday_numbers_read_back_bit_for_bit(x in -1e9f64..1e9) {
            prop_assert_eq!(number(x).parse::<f64>().unwrap().to_bits(), x.to_bits());
        }

        #[test]
        fn whole_numbers_read_back_bit_for_bit(n in -(1i64 << 53)..=(1i64 << 53)) {
            let x = n as f64;
            let text = number(x);
            prop_assert_eq!(text.parse::<f64>().unwrap().to_bits(), x.to_bits());
            if n.abs() < (1 << 53) {
                prop_assert_eq!(text, n.to_string());
            }
        }
    }
}
