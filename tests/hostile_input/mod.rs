//! Broken and hostile scenario text never panics: every scenario in
//! `scenarios/` mutated in many deterministic ways (a line deleted, a number
//! swapped for a string, an extreme or non-finite value, a very long string,
//! deep nesting, a table duplicated, the file cut short, stray bytes), and
//! random bytes and random TOML-like token soup, are each parsed and
//! validated. Each gives `Ok` or `Err`, never a panic; mutants that validate
//! are also simulated for two runs, which must stay finite.

use crate::util::library;
use crmsim::engine::{simulate_run, Prepared, Workspace};
use crmsim::scenario::Scenario;
use crmsim::vocab::{Metric, Variable};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;

thread_local! {
    /// Set while an input is tried: its panic is reported by the test, not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last quiet panic happened, and what it said.
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Installs, once per test binary, a panic hook that stays quiet for inputs
/// being tried on this thread and behaves as the default hook otherwise.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                LAST_PANIC.with(|p| *p.borrow_mut() = info.to_string());
            } else {
                default(info);
            }
        }));
    });
}

/// What went wrong with one input: how it was made, the panic, the input.
struct Failure {
    what: String,
    panic: String,
    input: String,
}

/// Runs `f` and turns a panic into the panic's message.
fn no_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    QUIET.with(|q| q.set(true));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    r.map_err(|_| LAST_PANIC.with(|p| p.borrow().clone()))
}

/// Two runs of a valid scenario: every recorded value and total is finite.
fn simulate_briefly(s: &Scenario) -> Result<(), String> {
    let prep = Prepared::new(s, s.seed());
    let steps = prep.steps();
    let mut ws = Workspace::new(s, &prep);
    for run in 0..2 {
        simulate_run(s, &prep, run, &mut ws);
        for m in 0..s.material_ids().count() {
            for v in Variable::ALL {
                if let Some(t) = (0..steps).find(|&t| !ws.value(steps, m, v, t).is_finite()) {
                    return Err(format!("run {run}: {} at step {t} is not finite", v.name()));
                }
            }
            for k in Metric::ALL {
                if !ws.metric(m, k).is_finite() {
                    return Err(format!("run {run}: {} is not finite", k.name()));
                }
            }
        }
    }
    Ok(())
}

/// Parses, validates and (if valid) briefly simulates `input`; a panic or a
/// non-finite result is recorded in `failures`. Returns whether it validated.
fn try_input(what: String, input: &str, failures: &mut Vec<Failure>) -> bool {
    let outcome = no_panic(|| {
        let s = Scenario::from_toml(input, Path::new("mutant.toml"));
        match s {
            Ok(s) => simulate_briefly(&s).map(|()| true),
            Err(e) => {
                // The message is rendered too: it is what the user sees.
                let _ = e.to_string();
                Ok(false)
            }
        }
    });
    match outcome {
        Ok(Ok(valid)) => valid,
        Ok(Err(problem)) | Err(problem) => {
            failures.push(Failure {
                what,
                panic: problem,
                input: input.to_string(),
            });
            false
        }
    }
}

fn report(failures: &[Failure], tried: usize) {
    if failures.is_empty() {
        return;
    }
    let mut msg = format!(
        "{} of {tried} inputs failed; the first ones:\n",
        failures.len()
    );
    let mut kinds: Vec<&str> = failures.iter().map(|f| f.panic.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    msg.push_str(&format!("distinct problems: {kinds:#?}\n"));
    for f in failures.iter().take(5) {
        let shown: String = f.input.chars().take(1500).collect();
        msg.push_str(&format!(
            "\n--- {}\n{}\n--- input ({} bytes):\n{shown}\n",
            f.what,
            f.panic,
            f.input.len()
        ));
    }
    panic!("{msg}");
}

fn scenario_files() -> Vec<(PathBuf, String)> {
    let files = library();
    assert!(!files.is_empty(), "no scenarios in scenarios/");
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// Byte ranges of the number literals in a line (outside strings and comments).
fn numbers(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    while i < b.len() {
        let c = b[i];
        if in_string {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'#' => break,
            _ => {
                let starts = c.is_ascii_digit()
                    || (matches!(c, b'-' | b'+') && b.get(i + 1).is_some_and(u8::is_ascii_digit));
                let after_word = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
                if starts && !after_word {
                    let start = i;
                    i += 1;
                    let part = |i: usize| {
                        b[i].is_ascii_digit()
                            || matches!(b[i], b'.' | b'e' | b'E' | b'_')
                            || (matches!(b[i], b'+' | b'-') && matches!(b[i - 1], b'e' | b'E'))
                    };
                    while i < b.len() && part(i) {
                        i += 1;
                    }
                    out.push((start, i));
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

/// What a number is replaced with.
fn replacements() -> Vec<String> {
    vec![
        "\"forty\"".into(),
        "-1e308".into(),
        "1e308".into(),
        "nan".into(),
        "inf".into(),
        "-inf".into(),
        "0".into(),
        "-1".into(),
        "1e-320".into(),
        "9223372036854775807".into(),
        "99999999999999999999".into(),
        format!("\"{}\"", "a".repeat(100_000)),
        "{ dist = \"normal\", mean = 1e308, sd = 1e308 }".into(),
        "[]".into(),
    ]
}

/// The lines of the first table whose header starts with `header`, up to the
/// next header of the same or a shallower kind.
fn table_block(lines: &[&str], header: &str) -> Option<(usize, usize)> {
    let start = lines
        .iter()
        .position(|l| l.trim_start().starts_with(header))?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with('[') && !l.starts_with("[[material.source]]")
        })
        .map_or(lines.len(), |k| start + 1 + k);
    Some((start, end))
}

fn mutants_of(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let join = |ls: &[&str]| ls.join("\n") + "\n";
    let mut out = Vec::new();

    // Every line that says something, deleted.
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut ls = lines.clone();
        ls.remove(i);
        out.push((format!("line {} deleted", i + 1), join(&ls)));
    }

    // Every number, replaced by a third of the hostile values (each value
    // goes to every third number, so each is tried everywhere across a
    // file's numbers while the test stays fast in debug builds).
    let reps = replacements();
    let mut k = 0;
    for (i, l) in lines.iter().enumerate() {
        for (a, b) in numbers(l) {
            k += 1;
            for (j, r) in reps.iter().enumerate() {
                if (j + k) % 3 != 0 {
                    continue;
                }
                let mut ls: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
                ls[i] = format!("{}{r}{}", &l[..a], &l[b..]);
                let shown: String = r.chars().take(20).collect();
                out.push((
                    format!("line {}: {} -> {shown}", i + 1, &l[a..b]),
                    ls.join("\n") + "\n",
                ));
            }
        }
    }

    // Deep nesting, at the top and inside [simulation].
    for depth in [200, 5000] {
        let arrays = format!("x = {}{}", "[".repeat(depth), "]".repeat(depth));
        let tables = format!("x = {}1{}", "{a = ".repeat(depth), "}".repeat(depth));
        for nested in [arrays, tables] {
            out.push((
                format!("{depth}-deep value at the top"),
                format!("{nested}\n{text}"),
            ));
            if let Some(p) = lines.iter().position(|l| l.trim() == "[simulation]") {
                let mut ls = lines.clone();
                ls.insert(p + 1, &nested);
                out.push((format!("{depth}-deep value in [simulation]"), join(&ls)));
            }
        }
    }

    // Each kind of table, duplicated.
    for header in [
        "[simulation]",
        "[[material]]",
        "[[disruption]]",
        "[[stockpile]]",
    ] {
        if let Some((a, b)) = table_block(&lines, header) {
            let mut ls = lines.clone();
            let block: Vec<&str> = lines[a..b].to_vec();
            ls.splice(b..b, block);
            out.push((format!("first {header} duplicated"), join(&ls)));
        }
    }

    // The file cut short at 20 places.
    for k in 1..20 {
        let mut cut = text.len() * k / 20;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push((format!("cut at byte {cut}"), text[..cut].to_string()));
    }

    // Stray bytes spliced in at deterministic places.
    let mut rng = ChaCha8Rng::seed_from_u64(text.len() as u64);
    for _ in 0..40 {
        let mut bytes = text.as_bytes().to_vec();
        let at = rng.random_range(0..=bytes.len());
        let n = rng.random_range(1..=8);
        let stray: Vec<u8> = (0..n).map(|_| rng.random()).collect();
        bytes.splice(at..at, stray);
        out.push((
            format!("stray bytes at {at}"),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    out
}

#[test]
fn the_number_scanner_finds_literals_only() {
    let l = r#"  x = { dist = "normal", mean = -0.04, sd = 2e-3 }   # 15 years"#;
    let found: Vec<&str> = numbers(l).into_iter().map(|(a, b)| &l[a..b]).collect();
    assert_eq!(found, vec!["-0.04", "2e-3"]);
    let l = r#"start = "2026-07"  # m0 and 1,000"#;
    assert!(numbers(l).is_empty());
    let l = "share = 1_000.5e+2";
    let (a, b) = numbers(l)[0];
    assert_eq!(&l[a..b], "1_000.5e+2");
}

#[test]
fn mutated_scenarios_never_panic() {
    let mut failures = Vec::new();
    let mut tried = 0;
    let mut valid = 0;
    for (path, text) in scenario_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            try_input(format!("{name} as it is"), &text, &mut failures),
            "{name} must be valid"
        );
        for (what, mutant) in mutants_of(&text) {
            tried += 1;
            if try_input(format!("{name}: {what}"), &mutant, &mut failures) {
                valid += 1;
            }
        }
    }
    report(&failures, tried);
    // The mutations must mostly break something, yet not only the syntax.
    assert!(tried > 1000, "{tried} mutants");
    assert!(
        valid > 0 && valid < tried,
        "{valid} of {tried} mutants valid"
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut failures = Vec::new();
    let n = 2000;
    for i in 0..n {
        let len = rng.random_range(0..512);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        try_input(format!("random bytes #{i}"), &text, &mut failures);
    }
    report(&failures, n);
}

/// Random sequences of the scenario format's own words and punctuation: they
/// reach much deeper into parsing and validation than random bytes.
#[test]
fn random_token_soup_never_panics() {
    #[rustfmt::skip]
    const TOKENS: &[&str] = &[
        "[simulation]", "[[material]]", "[[material.source]]", "[[disruption]]",
        "[[stockpile]]", "[[refinery]]", "[[product]]", "[", "]", "{", "}", "=", ",",
        "\n", "\n", "\n", " ", "\"", "'", "#", ".", "name", "start_year", "years", "step",
        "runs", "seed", "region", "id", "demand_tpy", "demand_growth", "price_eur_per_t",
        "value_of_lost_load_eur_per_t", "price_elasticity", "demand_elasticity",
        "supply_elasticity", "market_share", "market_sources", "scope", "\"world\"",
        "\"region\"", "release_rule", "price_ceiling", "max_buy_share", "source", "share", "routes",
        "spare_capacity", "ramp_months", "materials", "route", "rate_per_year", "start",
        "duration_months", "severity", "material", "target_days", "target_t", "dist",
        "mean", "sd", "min", "max", "mode", "\"normal\"", "\"pert\"", "\"weibull\"",
        "\"all\"", "\"x\"", "\"CN\"", "\"2026-07\"", "\"month\"", "0", "1", "-1", "0.5",
        "1e308", "nan", "inf", "-inf", "2025", "12", "true", "1979-05-27",
        "[[material.tier]]", "[material.tier.demand_shock]", "[[option]]", "priority",
        "multiplier", "volume_tpy", "fee_eur_per_t_year", "strike_multiple", "lead_months",
        "release_lead_months", "build_start",
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut failures = Vec::new();
    let n = 2000;
    for i in 0..n {
        let len = rng.random_range(0..200);
        let text: String = (0..len)
            .map(|_| TOKENS[rng.random_range(0..TOKENS.len())])
            .collect();
        try_input(format!("token soup #{i}"), &text, &mut failures);
    }
    report(&failures, n);
}
