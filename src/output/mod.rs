//! Outputs: renderers that turn a [`Report`](crate::stats::Report) into bytes
//! (JSON, CSV, text), and the one function that writes them to disk.
//!
//! Files are written into a temporary folder next to the destination, which
//! then replaces the destination in one rename: a reader sees the previous
//! complete results or the new complete results, never a mix or a half-written
//! file. An existing folder is replaced only if it holds crmsim results.

pub mod analysis;
pub mod criticality;
pub mod criticality_chart;
pub mod csv;
pub mod json;
pub mod partial;
pub mod text;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

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

/// Why results could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The destination exists and was not written by crmsim.
    #[error(
        "{}: exists and does not hold crmsim results (no {MARKER} file); \
         choose another --out or remove it",
        .0.display()
    )]
    Foreign(PathBuf),
    /// The file system refused.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path being written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
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
    if dir.exists() && !dir.join(MARKER).is_file() {
        return Err(WriteError::Foreign(dir.to_path_buf()));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let leaf = dir
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let pid = std::process::id();
    let tmp = parent.join(format!(".{leaf}.tmp-{pid}"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    let result = (|| {
        fs::create_dir(&tmp).map_err(io_err(&tmp))?;
        fs::write(tmp.join(MARKER), b"").map_err(io_err(&tmp))?;
        for a in artifacts {
            let path = tmp.join(&a.name);
            if let Some(p) = path.parent() {
                fs::create_dir_all(p).map_err(io_err(p))?;
            }
            fs::write(&path, &a.bytes).map_err(io_err(&path))?;
        }
        if dir.exists() {
            let old = parent.join(format!(".{leaf}.old-{pid}"));
            fs::rename(dir, &old).map_err(io_err(dir))?;
            fs::rename(&tmp, dir).map_err(io_err(dir))?;
            fs::remove_dir_all(&old).map_err(io_err(&old))?;
        } else {
            fs::rename(&tmp, dir).map_err(io_err(dir))?;
        }
        Ok(())
    })();
    if result.is_err() && tmp.exists() {
        // Best effort: the error being reported matters more.
        let _ = fs::remove_dir_all(&tmp);
    }
    result
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
}
