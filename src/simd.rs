//! Which vector code runs: the engine's hot functions (the step loop, the
//! products' lifetimes, the first blocks of the random streams, the
//! quantile sketches) are compiled three times on x86-64, for processors
//! with AVX-512, for processors with AVX2 and for the x86-64 baseline, and
//! one of the three is picked once per process ([`path`]). Every path gives
//! the same bits (no fused multiply-add, the same operations in the same
//! order); the test `simd::portable_code_writes_the_same_bytes` checks it
//! on the whole reference scenario.
//!
//! The environment variable `CRMSIM_SIMD` caps the choice:
//!
//! - unset, empty or `auto`: the widest path the processor has;
//! - `avx2`: AVX2 at most, even on a processor with AVX-512;
//! - `portable`: the baseline code everywhere.
//!
//! Any other value is an error ([`check`]; `crmsim` exits with code 2).
//! `summary.json` records the path that ran (`build.simd`, [`CodePath::name`]).

use std::sync::OnceLock;

/// The environment variable that caps the code path.
pub const ENV: &str = "CRMSIM_SIMD";

/// A compiled version of the hot functions, from the narrowest to the widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CodePath {
    /// The target's baseline (SSE2 on x86-64), the only code elsewhere.
    Portable,
    /// x86-64 with AVX2: one 256-bit instruction per operation on four lanes.
    Avx2,
    /// x86-64 with AVX-512 (F, VL, DQ) and AVX2: 512-bit vectors and 32
    /// vector registers.
    Avx512,
}

impl CodePath {
    /// The name `summary.json` gives the path: `"avx512"`, `"avx2"` or
    /// `"portable"`. The baseline code of a build whose own target already
    /// has AVX2 or AVX-512 (`RUSTFLAGS="-C target-cpu=native"` on such a
    /// processor) is named after what it was compiled with.
    pub fn name(self) -> &'static str {
        let built_for = if cfg!(all(
            target_feature = "avx512f",
            target_feature = "avx512vl",
            target_feature = "avx512dq",
            target_feature = "avx2"
        )) {
            CodePath::Avx512
        } else if cfg!(target_feature = "avx2") {
            CodePath::Avx2
        } else {
            CodePath::Portable
        };
        match self.max(built_for) {
            CodePath::Portable => "portable",
            CodePath::Avx2 => "avx2",
            CodePath::Avx512 => "avx512",
        }
    }
}

/// An unknown value of `CRMSIM_SIMD`.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{ENV}={0:?} is not a code path: leave it unset (or `auto`) for the widest the \
     processor has, or set `avx2` or `portable`"
)]
pub struct SimdError(pub String);

/// The widest path the processor has.
pub fn detected() -> CodePath {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx2")
        {
            return CodePath::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") {
            return CodePath::Avx2;
        }
    }
    CodePath::Portable
}

/// The path for a value of `CRMSIM_SIMD` (`None`: unset) on a processor
/// whose widest path is `widest`.
///
/// # Errors
/// A value other than empty, `auto`, `avx2` and `portable`.
pub fn choose(value: Option<&str>, widest: CodePath) -> Result<CodePath, SimdError> {
    let cap = match value.map(str::trim) {
        None | Some("" | "auto") => CodePath::Avx512,
        Some("avx2") => CodePath::Avx2,
        Some("portable") => CodePath::Portable,
        Some(other) => return Err(SimdError(other.to_string())),
    };
    Ok(cap.min(widest))
}

/// The path of this process, read from `CRMSIM_SIMD` and the processor the
/// first time it is asked for.
static PATH: OnceLock<Result<CodePath, SimdError>> = OnceLock::new();

/// The path of this process, or the error of its `CRMSIM_SIMD`. `crmsim`
/// calls it before anything else, so that a wrong value stops it at once.
///
/// # Errors
/// An unknown value of `CRMSIM_SIMD` (not valid Unicode included).
pub fn check() -> Result<CodePath, SimdError> {
    PATH.get_or_init(|| match std::env::var_os(ENV) {
        None => choose(None, detected()),
        Some(v) => match v.to_str() {
            Some(v) => choose(Some(v), detected()),
            None => Err(SimdError(v.to_string_lossy().into_owned())),
        },
    })
    .clone()
}

/// The path the hot functions take in this process.
///
/// # Panics
/// On an unknown value of `CRMSIM_SIMD` (the command line checks it first
/// with [`check`] and reports it as an input error).
#[inline]
pub fn path() -> CodePath {
    match PATH.get() {
        Some(Ok(p)) => *p,
        _ => check().unwrap_or_else(|e| panic!("{e}")),
    }
}

/// Defines a function compiled for AVX-512, AVX2 and the baseline, which
/// calls the version of [`simd::path`](crate::simd::path) (for crmsim's own
/// hot functions, and for benchmarks that measure them as the engine runs
/// them). The body is written once; each version inlines it (and what it
/// calls `#[inline(always)]`) with its target's instructions. Parameters
/// are plain names, and the function is not generic.
///
/// ```
/// crmsim::dispatched! {
///     /// The sum of `xs`, in order (the same bits on every path).
///     fn sum(xs: &[f64]) -> f64 {
///         xs.iter().sum()
///     }
/// }
/// assert_eq!(sum(&[1.0, 2.0]), 3.0);
/// ```
#[macro_export]
macro_rules! dispatched {
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn simd_body($($arg: $ty),*) $(-> $ret)? $body

            match $crate::simd::path() {
                #[cfg(target_arch = "x86_64")]
                $crate::simd::CodePath::Avx512 => {
                    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2")]
                    unsafe fn simd_avx512($($arg: $ty),*) $(-> $ret)? {
                        simd_body($($arg),*)
                    }
                    // SAFETY: `path` gives AVX-512 only when the processor
                    // has every one of these features.
                    unsafe { simd_avx512($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                $crate::simd::CodePath::Avx2 => {
                    #[target_feature(enable = "avx2")]
                    unsafe fn simd_avx2($($arg: $ty),*) $(-> $ret)? {
                        simd_body($($arg),*)
                    }
                    // SAFETY: `path` gives AVX2 only when the processor has it.
                    unsafe { simd_avx2($($arg),*) }
                }
                _ => simd_body($($arg),*),
            }
        }
    };
}
pub use crate::dispatched;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_caps_what_the_processor_has() {
        use CodePath::*;
        for widest in [Portable, Avx2, Avx512] {
            assert_eq!(choose(None, widest).unwrap(), widest);
            assert_eq!(choose(Some(""), widest).unwrap(), widest);
            assert_eq!(choose(Some("auto"), widest).unwrap(), widest);
            assert_eq!(choose(Some("portable"), widest).unwrap(), Portable);
            assert_eq!(choose(Some("avx2"), widest).unwrap(), widest.min(Avx2));
        }
        let e = choose(Some("sse9"), Avx512).unwrap_err();
        assert!(
            e.to_string().starts_with("CRMSIM_SIMD=\"sse9\" is not"),
            "{e}"
        );
        assert!(
            choose(Some("AVX2"), Avx512).is_err(),
            "names are lower case"
        );
    }

    #[test]
    fn the_path_is_named_for_summary_json() {
        assert_eq!(CodePath::Avx512.name(), "avx512");
        if !cfg!(target_feature = "avx2") {
            assert_eq!(CodePath::Portable.name(), "portable");
            assert_eq!(CodePath::Avx2.name(), "avx2");
        }
    }
}
