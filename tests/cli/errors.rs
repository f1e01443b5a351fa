//! Refusals: every file of tests/bad/ and its message, command-line
//! mistakes, limits checked up front, exit codes by error type, and
//! docs/errors.md quoting the real messages.

use super::*;
use crate::util::{crmsim_process, root, stderr, temp_dir};
use std::fs;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

/// A file of `tests/bad/`: what its error must say, and on which line.
struct BadCase {
    path: PathBuf,
    expect: String,
    line: Option<usize>,
}

fn bad_cases() -> Vec<BadCase> {
    let dir = root().join("tests").join("bad");
    let mut cases: Vec<BadCase> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|path| {
            // Read as bytes: one case is deliberately not UTF-8 further down.
            let bytes = fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            let mut lines = text.lines();
            let expect = lines
                .next()
                .and_then(|l| l.strip_prefix("# expect: "))
                .unwrap_or_else(|| panic!("{}: no `# expect:` line", path.display()))
                .to_string();
            let line = lines
                .next()
                .and_then(|l| l.strip_prefix("# line: "))
                .map(|n| n.parse().unwrap());
            BadCase { path, expect, line }
        })
        .collect();
    cases.sort_by(|a, b| a.path.cmp(&b.path));
    cases
}

/// What is wrong with an error as shown to the user, if anything.
fn judge(case: &BadCase, command: &str, o: &Output) -> Option<String> {
    let err = stderr(o);
    let file = case.path.display().to_string();
    let mut problems = Vec::new();
    if o.status.code() != Some(2) {
        problems.push(format!("exit code {:?}, not 2", o.status.code()));
    }
    if err.contains("panicked") {
        problems.push("a panic".into());
    }
    if !err.contains(&file) {
        problems.push("the file is not named".into());
    }
    if !err.contains(&case.expect) {
        problems.push(format!("no {:?}", case.expect));
    }
    if let Some(line) = case.line {
        if !err.contains(&format!("{file}:{line}")) {
            problems.push(format!("line {line} is not named"));
        }
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} ({command}): {}\n  stderr: {err}",
            case.path.file_name().unwrap().to_string_lossy(),
            problems.join("; ")
        )
    })
}

#[test]
fn bad_scenarios_are_refused_naming_file_line_and_field() {
    let cases = bad_cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let o = crmsim_process()
            .arg("validate")
            .arg(&case.path)
            .output()
            .unwrap();
        failures.extend(judge(case, "validate", &o));

        let tmp = temp_dir();
        let out = tmp.path().join("x");
        let o = crmsim_process()
            .arg("run")
            .arg(&case.path)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .output()
            .unwrap();
        failures.extend(judge(case, "run", &o));
        if !listing(tmp.path()).is_empty() {
            failures.push(format!(
                "{}: run left {:?}",
                case.path.display(),
                listing(tmp.path())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Names that would put results outside `outputs/`, or are not folder names
/// at all, are refused when the name is used for the output folder; nothing
/// is created, here or above.
#[test]
fn unsafe_names_create_nothing() {
    let names = [
        "../../x",
        "/tmp/x",
        "results/gallium",
        "a\\\\b",
        "bad\\u0000name",
        "..",
        ".",
        ".hidden",
        "",
    ];
    for name in names {
        let tmp = temp_dir();
        let cwd = tmp.path().join("a").join("b");
        fs::create_dir_all(&cwd).unwrap();
        let text = SMALL.replace("name = \"small\"", &format!("name = \"{name}\""));
        let file = cwd.join("s.toml");
        fs::write(&file, text).unwrap();
        let o = crmsim_process()
            .current_dir(&cwd)
            .args(["run", "s.toml", "--quiet"])
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains("s.toml:") && err.contains("simulation.name:"),
            "{name}: {err}"
        );
        assert!(
            err.contains("cannot be used as an output folder name"),
            "{name}: {err}"
        );
        assert_eq!(listing(&cwd), vec!["s.toml"], "{name}");
        assert_eq!(listing(tmp.path()), vec!["a"], "{name}");
        assert_eq!(listing(&tmp.path().join("a")), vec!["b"], "{name}");
    }
}

#[test]
fn command_line_mistakes_exit_2_and_create_nothing() {
    let tmp = temp_dir();
    let out = tmp.path().join("x");
    let gallium = scenario("gallium-eu.toml");
    let cases: Vec<(Vec<&std::ffi::OsStr>, &str)> = vec![
        (
            vec![
                "run".as_ref(),
                gallium.as_os_str(),
                "--runs".as_ref(),
                "0".as_ref(),
            ],
            "--runs",
        ),
        (
            vec![
                "run".as_ref(),
                gallium.as_os_str(),
                "--threads".as_ref(),
                "0".as_ref(),
            ],
            "--threads",
        ),
        (
            vec![
                "run".as_ref(),
                gallium.as_os_str(),
                "--seed".as_ref(),
                "-1".as_ref(),
            ],
            "-1",
        ),
        (vec!["run".as_ref()], "SCENARIO"),
        (vec!["simulate".as_ref()], "simulate"),
    ];
    for (args, expect) in cases {
        let o = crmsim_process()
            .args(&args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
        assert!(listing(tmp.path()).is_empty(), "{args:?}");
    }
}

#[test]
fn a_missing_or_unreadable_scenario_exits_2_naming_it() {
    let tmp = temp_dir();
    let missing = tmp.path().join("nowhere.toml");
    for command in ["validate", "run"] {
        let o = crmsim_process()
            .arg(command)
            .arg(&missing)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.contains("nowhere.toml: cannot read the scenario"),
            "{err}"
        );
        // The cause is given once.
        assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
    }
    // A folder given as the scenario.
    let o = crmsim_process()
        .arg("validate")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot read the scenario"));
}

#[cfg(unix)]
#[test]
fn an_endless_file_is_refused_by_size() {
    let o = crmsim_process()
        .args(["validate", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/dev/zero: larger than 16 MiB"),
        "{}",
        stderr(&o)
    );
}

/// Every input file a command reads is held to the scenario's size limit,
/// and refused with exit code 2 naming it, before anything is written.
#[cfg(unix)]
#[test]
fn endless_input_files_of_every_command_are_refused_by_size() {
    let tmp = temp_dir();
    let out = tmp.path().join("x");
    let sub = |args: &[&str]| {
        let mut cmd = crmsim_process();
        cmd.args(args);
        if args[0] != "catalogue" {
            cmd.arg("--out").arg(&out);
        }
        let o = cmd.output().unwrap();
        (o.status.code(), stderr(&o))
    };
    let limit = "larger than 16 MiB, the most crmsim reads from one input file";
    let (code, err) = sub(&["catalogue", "--data", "/dev/zero"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("/dev/zero: cannot read the catalogue: {limit}")),
        "{err}"
    );
    let (code, err) = sub(&["criticality", "/dev/zero"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/dev/zero") && err.contains(limit), "{err}");
    let input = root().join("criticality").join("eu-2023.toml");
    let (code, err) = sub(&[
        "criticality",
        input.to_str().unwrap(),
        "--scenario",
        "/dev/zero",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("/dev/zero: larger than 16 MiB, the most a scenario file may be"),
        "{err}"
    );
    assert!(!out.exists());
}

/// Every command that simulates checks the memory its runs need before it
/// starts, as `run` does: too many runs are refused with exit code 2, the
/// file and the limit named, and nothing is written.
#[test]
fn every_simulating_command_refuses_runs_beyond_the_memory_budget() {
    let gallium = scenario("gallium-eu.toml");
    let gallium = gallium.to_str().unwrap();
    let input = root().join("criticality").join("eu-2023.toml");
    // `backtest --runs` stops at 100,000: the episode's own file asks for more.
    let history = temp_dir();
    let episode = history.path().join("episode");
    fs::create_dir(&episode).unwrap();
    let shipped = root().join("history").join("gallium-germanium-2023");
    fs::copy(shipped.join("observed.csv"), episode.join("observed.csv")).unwrap();
    let text = fs::read_to_string(shipped.join("scenario.toml")).unwrap();
    assert!(text.contains("\nruns = 2000\n"));
    fs::write(
        episode.join("scenario.toml"),
        text.replace("\nruns = 2000\n", "\nruns = 1000000000\n"),
    )
    .unwrap();
    let commands: [(&str, Vec<&str>); 5] = [
        (
            "sweep",
            vec![gallium, "--set", "stockpile.gallium.target_days=0,30"],
        ),
        ("compare", vec![gallium, gallium]),
        ("optimize", vec![gallium, "--target", "p_shortfall<=0.05"]),
        (
            "criticality",
            vec![input.to_str().unwrap(), "--scenario", gallium],
        ),
        ("backtest", vec![episode.to_str().unwrap()]),
    ];
    for (command, args) in commands {
        let tmp = temp_dir();
        let started = std::time::Instant::now();
        let mut cmd = crmsim_process();
        cmd.arg(command).args(args);
        if command != "backtest" {
            cmd.args(["--runs", "1000000000"]);
        }
        let o = cmd.arg("--out").arg(tmp.path().join("x")).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("1000000000 runs of"), "{command}: {err}");
        assert!(err.contains("of memory"), "{command}: {err}");
        assert!(
            err.contains("above the limit of 8.0 GiB"),
            "{command}: {err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{command}: refused up front"
        );
        assert!(
            std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
            "{command} wrote something"
        );
    }
}

#[test]
fn runs_beyond_the_table_file_limit_are_refused_up_front() {
    let tmp = temp_dir();
    let out = tmp.path().join("x");
    let started = std::time::Instant::now();
    let o = crmsim_process()
        .arg("run")
        .arg(scenario("gallium-eu.toml"))
        .args(["--runs", "1000000000", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("gallium-eu.toml: 1000000000 runs"), "{err}");
    assert!(err.contains("of temporary disk space"), "{err}");
    assert!(err.contains("above the limit of 64.0 GiB"), "{err}");
    assert!(err.contains("use fewer runs (--runs)"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "refused up front"
    );
    assert!(listing(tmp.path()).is_empty());
}

/// The rule of docs/errors.md ("Exit codes"), error type by error type:
/// the user's input 2, the file system failing while crmsim works 1.
#[test]
fn input_errors_exit_2_and_file_system_failures_exit_1() {
    use crmsim::analysis::AnalysisError;
    use crmsim::app::Error;
    use crmsim::output::WriteError;
    use crmsim::storage::partial::PartialError;
    let io = || std::io::Error::from(std::io::ErrorKind::StorageFull);
    let code = |e: Error| e.context("while running").exit_code();
    assert_eq!(code(WriteError::Foreign("x".into()).into()), 2);
    let not_a_folder = WriteError::NotAFolder {
        path: "x".into(),
        dir: "x/y".into(),
    };
    assert_eq!(code(not_a_folder.into()), 2);
    let unwritable = WriteError::Unwritable {
        path: "x".into(),
        error: io(),
    };
    assert_eq!(code(unwritable.into()), 2);
    let failed = WriteError::Io {
        path: "x".into(),
        action: "write the file",
        source: io(),
    };
    assert_eq!(code(failed.into()), 1);
    assert_eq!(code(PartialError::Mismatch("x".into()).into()), 2);
    assert_eq!(code(PartialError::Io("x".into()).into()), 1);
    assert_eq!(code(AnalysisError::Request("x".into()).into()), 2);
    assert_eq!(code(AnalysisError::Read(io()).into()), 1);
    assert_eq!(
        code(Error::Failure(anyhow::anyhow!("an internal error"))),
        1
    );
}

/// docs/errors.md quotes, for every file of tests/bad/, the message crmsim
/// prints for it: the documentation cannot drift from the program.
#[test]
fn the_error_guide_quotes_the_real_messages() {
    let guide = fs::read_to_string(root().join("docs").join("errors.md")).unwrap();
    let mut stale = Vec::new();
    for case in bad_cases() {
        let name = case
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let relative = format!("tests/bad/{name}");
        let o = crmsim_process()
            .current_dir(root())
            .args(["validate", &relative])
            .output()
            .unwrap();
        let message = stderr(&o);
        let quoted = format!("$ crmsim validate {relative}\n{message}");
        if !guide.contains(&quoted) {
            stale.push(format!("{name}:\n{message}"));
        }
    }
    assert!(
        stale.is_empty(),
        "docs/errors.md does not quote these messages as printed:\n{}",
        stale.join("\n")
    );
}
