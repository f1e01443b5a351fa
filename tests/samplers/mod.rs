//! The samplers' draws, pinned bit for bit: each file of
//! `tests/data/sampler_vectors/` holds 2,000 draws of one distribution from
//! a fixed ChaCha8 stream, made as the engine makes its streams
//! (`StreamKey::new(seed, name).rng(run)`), as the hex bits of each `f64`,
//! after a header naming the distribution, its parameters and the stream.
//! The test draws them again and compares every line, header included.
//!
//! The samplers promise the same bits on every platform (they take their
//! logarithms, exponentials and powers from `libm`), so these files must
//! pass everywhere, unchanged. A change of a sampler that changes its draws
//! on purpose regenerates them, deliberately, with
//!
//! ```sh
//! cargo test --release --test tests -- --ignored samplers::write_sampler_vectors
//! ```
//!
//! and says so in CHANGELOG.md (the results of every scenario change too,
//! and `tests/stability/mod.rs` with them).

use crmsim::engine::rng::StreamKey;
use crmsim::sampling::{
    standard_exponential, standard_normal, Beta, Exponential, Gamma, LogNormal, Normal, Pert,
    Triangular, Uniform, Weibull,
};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;
use std::path::PathBuf;

/// Draws per file.
const DRAWS: usize = 2000;
/// The seed of every file's stream (the name differs).
const SEED: u64 = 2024;

/// One file: its name, the distribution, its parameters as written in the
/// header, and the sampler.
struct Vector {
    file: &'static str,
    distribution: &'static str,
    parameters: &'static str,
    draw: Box<dyn Fn(&mut ChaCha8Rng) -> f64>,
}

fn vectors() -> Vec<Vector> {
    let v = |file, distribution, parameters, draw: Box<dyn Fn(&mut ChaCha8Rng) -> f64>| Vector {
        file,
        distribution,
        parameters,
        draw,
    };
    let normal = Normal::new(5.0, 2.0).unwrap();
    let lognormal = LogNormal::from_mean_sd(12.0, 8.0).unwrap();
    let uniform = Uniform::new(0.3, 1.0).unwrap();
    let triangular = Triangular::new(0.0, 1.0, 3.0).unwrap();
    let pert = Pert::new(10.0, 12.0, 30.0).unwrap();
    let beta = Beta::new(2.0, 5.0).unwrap();
    let beta_small = Beta::new(0.5, 0.3).unwrap();
    let gamma = Gamma::new(3.0, 2.0).unwrap();
    let gamma_small = Gamma::new(0.4, 1.5).unwrap();
    let exponential = Exponential::new(4.0).unwrap();
    let weibull = Weibull::new(2.5, 8.0).unwrap();
    vec![
        v(
            "standard-normal.txt",
            "standard normal (sampling::standard_normal)",
            "mean = 0, sd = 1",
            Box::new(standard_normal),
        ),
        v(
            "normal.txt",
            "normal",
            "mean = 5, sd = 2",
            Box::new(move |r| normal.sample(r)),
        ),
        v(
            "lognormal.txt",
            "lognormal (mean and sd of the value itself)",
            "mean = 12, sd = 8",
            Box::new(move |r| lognormal.sample(r)),
        ),
        v(
            "uniform.txt",
            "uniform",
            "min = 0.3, max = 1",
            Box::new(move |r| uniform.sample(r)),
        ),
        v(
            "triangular.txt",
            "triangular",
            "min = 0, mode = 1, max = 3",
            Box::new(move |r| triangular.sample(r)),
        ),
        v(
            "pert.txt",
            "pert",
            "min = 10, mode = 12, max = 30",
            Box::new(move |r| pert.sample(r)),
        ),
        v(
            "beta.txt",
            "beta",
            "alpha = 2, beta = 5",
            Box::new(move |r| beta.sample(r)),
        ),
        v(
            "beta-small-shapes.txt",
            "beta",
            "alpha = 0.5, beta = 0.3",
            Box::new(move |r| beta_small.sample(r)),
        ),
        v(
            "gamma.txt",
            "gamma",
            "shape = 3, scale = 2",
            Box::new(move |r| gamma.sample(r)),
        ),
        v(
            "gamma-small-shape.txt",
            "gamma",
            "shape = 0.4, scale = 1.5",
            Box::new(move |r| gamma_small.sample(r)),
        ),
        v(
            "exponential.txt",
            "exponential",
            "mean = 4",
            Box::new(move |r| exponential.sample(r)),
        ),
        v(
            "poisson-gaps.txt",
            "standard exponential (sampling::standard_exponential, the gaps of Poisson arrivals)",
            "mean = 1",
            Box::new(standard_exponential),
        ),
        v(
            "weibull.txt",
            "weibull",
            "shape = 2.5, scale = 8",
            Box::new(move |r| weibull.sample(r)),
        ),
    ]
}

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sampler_vectors")
}

/// The stream name of a file: `sampler_vectors/` and the file's name
/// without `.txt`.
fn stream_name(v: &Vector) -> String {
    format!("sampler_vectors/{}", v.file.trim_end_matches(".txt"))
}

/// The file's text, drawn now.
fn text(v: &Vector) -> String {
    let name = stream_name(v);
    let mut rng = StreamKey::new(SEED, &name).rng(0);
    let mut s = String::new();
    writeln!(s, "# crmsim sampler test vector (tests/samplers/mod.rs)").unwrap();
    writeln!(s, "# distribution: {}", v.distribution).unwrap();
    writeln!(s, "# parameters: {}", v.parameters).unwrap();
    writeln!(
        s,
        "# stream: ChaCha8, StreamKey::new({SEED}, \"{name}\").rng(0) (src/engine/rng.rs)"
    )
    .unwrap();
    writeln!(
        s,
        "# draws: {DRAWS}, in order, each as the 16 hex digits of its f64 bits"
    )
    .unwrap();
    writeln!(
        s,
        "# regenerate deliberately: cargo test --release --test tests -- --ignored samplers::write_sampler_vectors"
    )
    .unwrap();
    for _ in 0..DRAWS {
        writeln!(s, "{:016x}", (v.draw)(&mut rng).to_bits()).unwrap();
    }
    s
}

#[test]
fn samplers_give_the_pinned_bits() {
    for v in vectors() {
        let path = folder().join(v.file);
        let stored =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let drawn = text(&v);
        for (i, (s, d)) in stored.lines().zip(drawn.lines()).enumerate() {
            let value = |line: &str| {
                u64::from_str_radix(line, 16)
                    .map(|b| format!(" ({:?})", f64::from_bits(b)))
                    .unwrap_or_default()
            };
            assert_eq!(
                s,
                d,
                "{}, line {}: stored{} vs drawn{}",
                v.file,
                i + 1,
                value(s),
                value(d)
            );
        }
        assert_eq!(
            stored.lines().count(),
            drawn.lines().count(),
            "{}: number of lines",
            v.file
        );
    }
}

/// The files hold exactly the listed vectors: none left over from a
/// renamed case.
#[test]
fn every_stored_vector_is_checked() {
    let mut stored: Vec<String> = std::fs::read_dir(folder())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".txt"))
        .collect();
    stored.sort();
    let mut listed: Vec<String> = vectors().iter().map(|v| v.file.to_string()).collect();
    listed.sort();
    assert_eq!(stored, listed);
}

/// Writes the files anew. Not part of the normal runs: only when the
/// draws change on purpose (see the top of this file).
#[test]
#[ignore = "regenerates tests/data/sampler_vectors; run deliberately"]
fn write_sampler_vectors() {
    std::fs::create_dir_all(folder()).unwrap();
    for v in vectors() {
        std::fs::write(folder().join(v.file), text(&v)).unwrap();
    }
}
