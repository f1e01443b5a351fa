//! The vector code paths (`crmsim::simd`): the baseline code forced with
//! `CRMSIM_SIMD=portable` (and AVX2 forced with `avx2`) writes the same
//! bytes as the path the processor picks, on the reference scenario of the
//! benchmarks, read from `benches/reference.toml` as it stands.

use crate::util::{crmsim_process, root, stderr, temp_dir};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Every file under `dir`, by its path from `dir`.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let name = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(name, fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// `summary.json` with the value of `build.simd` cut out, and that value.
fn without_simd(summary: &[u8]) -> (Vec<u8>, String) {
    let text = std::str::from_utf8(summary).unwrap();
    let key = "\"simd\": \"";
    assert_eq!(text.matches(key).count(), 1, "one build.simd\n{text}");
    let start = text.find(key).unwrap() + key.len();
    let len = text[start..].find('"').unwrap();
    let cut = format!("{}{}", &text[..start], &text[start + len..]);
    (cut.into_bytes(), text[start..start + len].to_string())
}

#[test]
fn portable_code_writes_the_same_bytes() {
    let dir = temp_dir();
    let run = |simd: Option<&str>| {
        let out = dir.path().join(simd.unwrap_or("auto"));
        let mut cmd = crmsim_process();
        match simd {
            Some(v) => cmd.env("CRMSIM_SIMD", v),
            None => cmd.env_remove("CRMSIM_SIMD"),
        };
        // Several blocks of 64 runs, the last one partial, and several
        // batches of the quantile sketches; the charts too.
        let o = cmd
            .arg("run")
            .arg(root().join("benches/reference.toml"))
            .args(["--runs", "700", "--quiet", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mut all = files(&out);
        let (summary, simd) = without_simd(&all["summary.json"]);
        all.insert("summary.json".into(), summary);
        (all, simd)
    };
    let (auto, auto_simd) = run(None);
    assert!(
        auto.len() > 10,
        "the results and the charts: {:?}",
        auto.keys()
    );
    for forced in ["portable", "avx2"] {
        let (files, simd) = run(Some(forced));
        if forced == "portable" && !cfg!(target_feature = "avx2") {
            assert_eq!(simd, "portable");
        }
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            auto.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &files {
            assert!(
                *bytes == auto[name],
                "{name} differs between the {simd} code (CRMSIM_SIMD={forced}) and the \
                 {auto_simd} code"
            );
        }
    }
}

#[test]
fn an_unknown_code_path_is_an_input_error() {
    let o = crmsim_process()
        .env("CRMSIM_SIMD", "sse9")
        .arg("validate")
        .arg(root().join("benches/reference.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("CRMSIM_SIMD=\"sse9\" is not a code path") && err.contains("portable"),
        "{err}"
    );
}

#[test]
fn summary_json_names_the_build() {
    let dir = temp_dir();
    let out = dir.path().join("o");
    let o = crmsim_process()
        .env("CRMSIM_SIMD", "portable")
        .arg("run")
        .arg(root().join("scenarios/gallium-eu.toml"))
        .args(["--runs", "10", "--no-charts", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["build"]["version"], env!("CARGO_PKG_VERSION"));
    let simd = summary["build"]["simd"].as_str().unwrap();
    if cfg!(target_feature = "avx2") {
        assert!(["avx2", "avx512"].contains(&simd), "{simd}");
    } else {
        assert_eq!(simd, "portable");
    }
}
