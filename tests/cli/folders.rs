//! Output folders: one crmsim did not write is refused, a second run
//! replaces the first whole, a killed run leaves the previous results,
//! and destinations that cannot be written are refused before running.

use super::*;
use crate::util::{crmsim_process, stderr, temp_dir};
use std::fs;
use std::path::Path;
use std::time::Duration;

#[test]
fn a_folder_not_written_by_crmsim_is_refused_and_left_untouched() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let precious = tmp.path().join("thesis");
    fs::create_dir(&precious).unwrap();
    fs::write(precious.join("chapter1.tex"), "keep me").unwrap();
    let before = listing(tmp.path());
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--out"])
        .arg(&precious)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("does not hold crmsim results"), "{err}");
    assert_eq!(listing(&precious), vec!["chapter1.tex"]);
    assert_eq!(
        fs::read_to_string(precious.join("chapter1.tex")).unwrap(),
        "keep me"
    );
    assert_eq!(listing(tmp.path()), before, "nothing created beside it");
}

#[test]
fn a_second_run_replaces_the_first_whole() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let out = tmp.path().join("out");
    let run = |seed: &str| {
        let o = crmsim_process()
            .arg("run")
            .arg(&file)
            .args(["--quiet", "--runs", "64", "--seed", seed, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };
    run("1");
    // Something that the second run does not write must not survive it.
    fs::write(out.join("stale.csv"), "old").unwrap();
    run("2");
    assert!(!out.join("stale.csv").exists());
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 2);
    assert_eq!(
        listing(tmp.path()),
        vec!["out", "small.toml"],
        "no temporaries"
    );
}

/// Every file under `dir` (subfolders included), with its bytes, sorted.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((name, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A run killed mid-way (SIGKILL, so no clean-up of its own) leaves the
/// previous results whole, or nothing at a new destination; what a killed
/// writer leaves beside the destination is tidied by the next run.
#[cfg(target_os = "linux")]
#[test]
fn a_killed_run_leaves_previous_results_whole() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let out = tmp.path().join("out");
    let fresh = tmp.path().join("fresh");
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--runs", "64", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let previous = files_under(&out);

    for dest in [&out, &fresh] {
        let mut child = crmsim_process()
            .arg("run")
            .arg(&file)
            .args(["--quiet", "--runs", "3000000", "--threads", "1", "--out"])
            .arg(dest)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the run finished before it was killed");
        let pid = child.id();

        // Only the destination as it was, and at most the killed writer's
        // temporary folder (if it was killed while writing).
        for name in listing(tmp.path()) {
            assert!(
                ["out", "small.toml"].contains(&name.as_str())
                    || name
                        == format!(".{}.tmp-{pid}", dest.file_name().unwrap().to_string_lossy()),
                "left behind: {name}"
            );
        }
        assert!(!fresh.exists(), "a killed first run leaves no destination");
        assert!(
            files_under(&out) == previous,
            "the previous results changed"
        );

        // Had it been killed while writing, its half-written folder would be
        // there: make one, and check that the next run removes it.
        let leaf = dest.file_name().unwrap().to_string_lossy().into_owned();
        let half = tmp.path().join(format!(".{leaf}.tmp-{pid}"));
        fs::create_dir_all(&half).unwrap();
        fs::write(half.join(".crmsim-output"), "").unwrap();
        fs::write(half.join("runs.csv"), "run,mat").unwrap();
        let o = crmsim_process()
            .arg("run")
            .arg(&file)
            .args(["--quiet", "--runs", "64", "--out"])
            .arg(dest)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            !half.exists(),
            "the killed writer's temporary folder remains"
        );
        fs::remove_dir_all(dest).unwrap();
        if dest == &out {
            // Put the previous results back for the second round.
            fs::create_dir(&out).unwrap();
            for (f, bytes) in &previous {
                let path = out.join(f);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, bytes).unwrap();
            }
        }
    }
}

#[test]
fn an_output_folder_inside_a_file_is_refused_before_running() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let blocker = tmp.path().join("a-file");
    fs::write(&blocker, "not a folder").unwrap();
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--runs", "64", "--out"])
        .arg(blocker.join("deeper").join("out"))
        .output()
        .unwrap();
    let err = stderr(&o);
    // Wrong input: the destination is not a place results can go.
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a-file: not a folder, so it cannot hold the output folder "),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    assert_eq!(fs::read_to_string(&blocker).unwrap(), "not a folder");
}

#[test]
fn a_folder_without_write_permission_is_refused_before_running() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let locked = tmp.path().join("locked");
    fs::create_dir(&locked).unwrap();
    set_mode(&locked, 0o555);
    // A privileged user (root, as in CI) writes anyway: nothing to test.
    if fs::write(locked.join("probe"), "").is_ok() {
        set_mode(&locked, 0o755);
        eprintln!("skipped: this user may write in a read-only folder");
        return;
    }
    let o = crmsim_process()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--runs", "64", "--out"])
        .arg(locked.join("out"))
        .output()
        .unwrap();
    set_mode(&locked, 0o755);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("locked: cannot write in this folder"), "{err}");
    assert!(listing(&locked).is_empty());
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A write that fails once the destination has been checked (here a file
/// larger than the process may write, as on a full disk) is the file
/// system's failure, not the user's: exit code 1, the file and the step
/// named, and nothing left behind.
#[test]
fn a_write_that_fails_after_the_checks_exits_1() {
    let tmp = temp_dir();
    let file = write_small(tmp.path());
    let out = tmp.path().join("results");
    // A limit of 4 blocks (2 or 4 KiB, by shell) on the size of any file
    // written, with SIGXFSZ ignored so that the write fails with EFBIG
    // ("File too large") instead of killing the process.
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 4 && exec "$0" "$@""#)
        .arg(crmsim_process().get_program())
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--runs", "64", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write the file: "), "{err}");
    assert!(err.contains("File too large"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists());
    assert_eq!(listing(tmp.path()), ["small.toml"]);
}
