//! Outputs: renderers that turn a [`Report`](crate::report::Report) into bytes
//! (JSON, CSV, text, charts, an HTML report), and the one function that
//! writes them to disk.
//!
//! Files are written into a temporary folder next to the destination, which
//! then replaces the destination in one rename: a reader sees the previous
//! complete results or the new complete results, never a mix or a half-written
//! file. An existing folder is replaced only if it holds crmsim results.
//!
//! A process killed while writing can leave its temporary folder
//! (`.<name>.tmp-<pid>`) or, if killed between the two renames, the previous
//! results moved aside (`.<name>.old-<pid>`) with no `<name>` folder. The next
//! write to the same destination tidies up after processes that no longer run
//! (on Linux, where that can be checked): it puts the previous results back
//! if the destination is missing, and removes the rest. Folders of processes
//! still running, and folders without the marker, are left alone.

pub mod analysis;
pub mod backtest;
pub mod catalogue;
pub mod charts;
pub mod columns;
pub mod criticality;
pub mod criticality_chart;
pub mod csv;
pub mod html;
pub mod json;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod stocks;
pub mod text;

use rayon::prelude::*;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// How the large tables of a study (per run, per drawn number, per step)
/// are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// `runs.csv`, `params.csv`, `timeseries.csv`.
    #[default]
    Csv,
    /// `runs.parquet`, `params.parquet`, `timeseries.parquet` (typed,
    /// compressed; needs the cargo feature `parquet`).
    Parquet,
}

impl Format {
    /// Whether this build can write the format: why not, when it cannot.
    ///
    /// # Errors
    /// A message for the user when the format is not built in.
    pub fn check_available(self) -> Result<(), String> {
        if self == Format::Parquet && !cfg!(feature = "parquet") {
            return Err(
                "--format parquet: this crmsim was built without Parquet support \
                        (the cargo feature `parquet`): build it with `cargo build --release \
                        --features parquet`, or use --format csv"
                    .into(),
            );
        }
        Ok(())
    }

    /// The file name extension of its tables.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// The marker file that identifies a folder written by crmsim.
pub const MARKER: &str = ".crmsim-output";

/// One file of an output folder: a name relative to the folder, and bytes.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// File name inside the output folder (may contain one `/` for a subfolder).
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// A file written piece by piece (too large to hold in memory first): its
/// name, and a renderer that writes it to any writer.
pub struct Stream<'a> {
    /// File name inside the output folder.
    pub name: &'a str,
    /// Writes the file's contents.
    pub write: &'a (dyn Fn(&mut (dyn io::Write + Send)) -> io::Result<()> + Sync),
}

/// Escapes text for HTML and SVG element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Why results could not be written.
///
/// The first three are found by [`check_destination`] before anything is
/// simulated, and are the user's to fix (exit code 2, see
/// [`WriteError::is_input`]); [`WriteError::Io`] is the file system failing
/// once the work is under way (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The destination exists and was not written by crmsim.
    #[error(
        "{}: exists and does not hold crmsim results (no {MARKER} file); \
         choose another --out or remove it",
        .0.display()
    )]
    Foreign(PathBuf),
    /// Part of the destination's path exists and is not a folder.
    #[error(
        "{}: not a folder, so it cannot hold the output folder {}; choose another --out",
        .path.display(),
        .dir.display()
    )]
    NotAFolder {
        /// The part of the path that is not a folder.
        path: PathBuf,
        /// The destination.
        dir: PathBuf,
    },
    /// The folder the destination would go in does not let crmsim write.
    #[error(
        "{}: cannot write in this folder ({error}); choose another --out",
        path.display()
    )]
    Unwritable {
        /// The folder.
        path: PathBuf,
        /// What the file system said (part of the message, not a source).
        error: io::Error,
    },
    /// The file system refused while writing.
    #[error("{}: cannot {action}", path.display())]
    Io {
        /// The path being written.
        path: PathBuf,
        /// What was being done, e.g. "create the folder".
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
}

impl WriteError {
    /// Whether the destination given is at fault (exit code 2), rather than
    /// the file system failing while crmsim wrote (exit code 1).
    pub fn is_input(&self) -> bool {
        !matches!(self, WriteError::Io { .. })
    }
}

/// Checks, before any work, that `dir` is a destination crmsim may write:
/// not an existing folder of other files, not inside a file, and in a
/// folder (the nearest one that exists) where crmsim may create files.
/// Nothing is created.
///
/// # Errors
/// [`WriteError::Foreign`], [`WriteError::NotAFolder`] or
/// [`WriteError::Unwritable`].
pub fn check_destination(dir: &Path) -> Result<(), WriteError> {
    if dir.exists() && !dir.join(MARKER).is_file() {
        return Err(WriteError::Foreign(dir.to_path_buf()));
    }
    // The nearest part of the path that exists (the current folder for a
    // relative path none of which exists).
    let existing = dir
        .ancestors()
        .skip(1)
        .find(|a| !a.as_os_str().is_empty() && a.exists())
        .unwrap_or(Path::new("."));
    if !existing.is_dir() {
        return Err(WriteError::NotAFolder {
            path: existing.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    // A file without a name, gone when closed: whether a file can be
    // created there, without leaving anything behind.
    tempfile::tempfile_in(existing).map_err(|error| WriteError::Unwritable {
        path: existing.to_path_buf(),
        error,
    })?;
    Ok(())
}

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Writes `artifacts` as the folder `dir`, replacing a previous crmsim result
/// there in one rename.
///
/// # Errors
/// [`WriteError::Foreign`] if `dir` exists and is not a crmsim output folder;
/// [`WriteError::Io`] if the file system refuses.
pub fn write_folder(dir: &Path, artifacts: &[Artifact]) -> Result<(), WriteError> {
    write_folder_with(dir, artifacts, &[])
}

/// As [`write_folder`], with files that are rendered straight to disk.
///
/// # Errors
/// As [`write_folder`].
pub fn write_folder_with(
    dir: &Path,
    artifacts: &[Artifact],
    streams: &[Stream<'_>],
) -> Result<(), WriteError> {
    if dir.exists() && !dir.join(MARKER).is_file() {
        return Err(WriteError::Foreign(dir.to_path_buf()));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(&parent, "create the folder"))?;
    let leaf = dir
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let pid = std::process::id();
    tidy_after_killed_writers(&parent, &leaf, dir);
    let tmp = parent.join(format!(".{leaf}.tmp-{pid}"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io_err(&tmp, "remove the old temporary folder"))?;
    }
    let result = (|| {
        fs::create_dir(&tmp).map_err(io_err(&tmp, "create the temporary folder"))?;
        fs::write(tmp.join(MARKER), b"").map_err(io_err(&tmp, "write the marker file"))?;
        for a in artifacts {
            let path = tmp.join(&a.name);
            if let Some(p) = path.parent() {
                fs::create_dir_all(p).map_err(io_err(p, "create the folder"))?;
            }
            fs::write(&path, &a.bytes).map_err(io_err(&path, "write the file"))?;
        }
        // Each on its own file, side by side on the rayon pool.
        streams.par_iter().try_for_each(|st| {
            let path = tmp.join(st.name);
            let file = fs::File::create(&path).map_err(io_err(&path, "write the file"))?;
            let mut w = io::BufWriter::new(file);
            (st.write)(&mut w)
                .and_then(|()| io::Write::flush(&mut w))
                .map_err(io_err(&path, "write the file"))
        })?;
        if dir.exists() {
            let old = parent.join(format!(".{leaf}.old-{pid}"));
            fs::rename(dir, &old).map_err(io_err(dir, "move the previous results aside"))?;
            fs::rename(&tmp, dir).map_err(io_err(dir, "move the new results into place"))?;
            fs::remove_dir_all(&old).map_err(io_err(&old, "remove the previous results"))?;
        } else {
            fs::rename(&tmp, dir).map_err(io_err(dir, "move the new results into place"))?;
        }
        Ok(())
    })();
    if result.is_err() && tmp.exists() {
        // Best effort: the error being reported matters more.
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// Whether process `pid` is running (or may be, where that cannot be checked).
fn may_be_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Restores or removes what killed writers to `parent/leaf` left behind (see
/// the module docs). Best effort: a failure here only leaves a folder behind.
fn tidy_after_killed_writers(parent: &Path, leaf: &str, dir: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let prefix = format!(".{leaf}.");
    let mut olds = Vec::new();
    let mut tmps = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let (list, pid) = if let Some(pid) = rest.strip_prefix("old-") {
            (&mut olds, pid)
        } else if let Some(pid) = rest.strip_prefix("tmp-") {
            (&mut tmps, pid)
        } else {
            continue;
        };
        match pid.parse::<u32>() {
            Ok(pid) if !may_be_running(pid) => list.push(entry.path()),
            _ => {}
        }
    }
    for old in olds {
        if !old.join(MARKER).is_file() {
            continue;
        }
        if !dir.exists() {
            let _ = fs::rename(&old, dir);
        } else {
            let _ = fs::remove_dir_all(&old);
        }
    }
    for tmp in tmps {
        if tmp.join(MARKER).is_file() {
            let _ = fs::remove_dir_all(&tmp);
        } else {
            // Killed before the marker was written: removed only if empty.
            let _ = fs::remove_dir(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(name: &str, s: &str) -> Artifact {
        Artifact {
            name: name.into(),
            bytes: s.as_bytes().to_vec(),
        }
    }

    #[test]
    fn replaces_previous_results_whole() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        write_folder(&dir, &[art("a.txt", "1"), art("b.txt", "2")]).unwrap();
        write_folder(&dir, &[art("a.txt", "3")]).unwrap();
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "3");
        assert!(!dir.join("b.txt").exists(), "old results are not mixed in");
        let names: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("out")],
            "no temporary left"
        );
    }

    #[test]
    fn refuses_to_replace_a_foreign_folder() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("precious.txt"), "keep").unwrap();
        let e = write_folder(root.path(), &[art("a.txt", "1")]).unwrap_err();
        assert!(matches!(e, WriteError::Foreign(_)));
        assert!(root.path().join("precious.txt").exists());
    }

    /// The id of a process that has ended.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn tidies_up_after_killed_writers_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let dead = dead_pid();
        let live = std::process::id();
        // A dead writer's half-written folder, and one killed before its marker.
        let stale = root.path().join(format!(".out.tmp-{dead}"));
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join(MARKER), b"").unwrap();
        fs::write(stale.join("half.csv"), "1,2").unwrap();
        let empty = root
            .path()
            .join(format!(".out.tmp-{}", dead.wrapping_add(1_000_000)));
        fs::create_dir(&empty).unwrap();
        // Left alone: a running process's folder, and a folder without the marker.
        let running = root.path().join(".out.tmp-1");
        let live_old = root.path().join(format!(".out.old-{live}"));
        let foreign = root.path().join(format!(".out.old-{dead}"));
        for d in [&running, &live_old, &foreign] {
            fs::create_dir(d).unwrap();
            fs::write(d.join("keep.txt"), "keep").unwrap();
        }
        fs::write(running.join(MARKER), b"").unwrap();
        fs::write(live_old.join(MARKER), b"").unwrap();
        write_folder(&dir, &[art("a.txt", "1")]).unwrap();
        assert!(!stale.exists() && !empty.exists());
        assert!(running.join("keep.txt").exists(), "pid 1 is running");
        assert!(live_old.join("keep.txt").exists());
        assert!(foreign.join("keep.txt").exists());
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "1");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn restores_previous_results_moved_aside_by_a_killed_writer() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        write_folder(&dir, &[art("a.txt", "previous")]).unwrap();
        // Killed between its two renames: no `out`, the results moved aside.
        let old = root.path().join(format!(".out.old-{}", dead_pid()));
        fs::rename(&dir, &old).unwrap();
        // The next write puts them back, then replaces them whole as usual.
        write_folder(&dir, &[art("b.txt", "new")]).unwrap();
        assert!(!old.exists());
        assert!(!dir.join("a.txt").exists());
        assert_eq!(fs::read_to_string(dir.join("b.txt")).unwrap(), "new");
    }
}
