//! Numbers that may be uncertain: a plain number, or a distribution table
//! sampled once per run (or once per event for event properties).
//!
//! The raw form ([`RawUncertain`]) mirrors the TOML; [`Uncertain::build`]
//! checks the parameters, naming the offending field, and constructs the
//! sampler once (from [`crate::sampling`], the same bits on every
//! platform), so sampling in the engine cannot fail.

use crate::sampling::{
    self, Beta, Exponential, Gamma, LogNormal, Normal, Pert, Triangular, Uniform, Weibull,
};
use rand::Rng;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a value may be: every fixed value must lie in `[min, max]`, and every
/// draw is clamped to it. The upper limits keep the engine's sums finite (a
/// demand of 1e308 t/yr, or a Weibull draw that overflows, would otherwise
/// turn every total into infinity or NaN); the limits are the `MAX_*`
/// constants of the scenario builder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Domain {
    /// Smallest value allowed.
    pub min: f64,
    /// Largest value allowed.
    pub max: f64,
}

impl Domain {
    /// Any finite number.
    pub const REAL: Domain = Domain {
        min: -f64::MAX,
        max: f64::MAX,
    };
    /// A fraction: [0, 1].
    pub const FRACTION: Domain = Domain { min: 0.0, max: 1.0 };

    /// A quantity that cannot be negative, at most `max`.
    pub const fn up_to(max: f64) -> Domain {
        Domain { min: 0.0, max }
    }

    /// Any number in `[min, max]`.
    pub const fn between(min: f64, max: f64) -> Domain {
        Domain { min, max }
    }

    /// The nearest value in the domain (NaN, which no valid distribution
    /// draws, becomes the value nearest 0).
    fn clamp(self, x: f64) -> f64 {
        if x.is_nan() {
            0.0f64.clamp(self.min, self.max)
        } else {
            x.clamp(self.min, self.max)
        }
    }

    /// Why `x` is outside the domain, if it is.
    pub(crate) fn check(self, x: f64) -> Option<String> {
        if !x.is_finite() {
            Some(format!("must be a finite number (got {})", show(x)))
        } else if self == Domain::FRACTION && !(0.0..=1.0).contains(&x) {
            Some(format!("must be a fraction in [0, 1] (got {})", show(x)))
        } else if x < self.min {
            Some(format!("must be >= {} (got {})", show(self.min), show(x)))
        } else if x > self.max {
            Some(format!(
                "must be at most {} (got {})",
                show(self.max),
                show(x)
            ))
        } else {
            None
        }
    }
}

/// A number for an error message, as people write it: 1e12 rather than
/// 1000000000000, and 1e308 rather than a line of 309 digits.
pub(crate) fn show(x: f64) -> String {
    let a = x.abs();
    if a.is_finite() && (a >= 1e6 || (a > 0.0 && a < 1e-6)) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// A sum of shares for an error message: to 12 significant digits, so that
/// 0.2 + 0.7 shows as 0.9, not 0.8999999999999999.
pub(crate) fn show_sum(x: f64) -> String {
    match format!("{x:.11e}").parse::<f64>() {
        Ok(rounded) => show(rounded),
        Err(_) => show(x),
    }
}

/// A distribution table exactly as written in the scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum DistSpec {
    /// Normal with the given mean and standard deviation.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (>= 0).
        sd: f64,
    },
    /// Lognormal given by the mean and sd of the value itself (not of its log).
    Lognormal {
        /// Mean of the value (> 0).
        mean: f64,
        /// Standard deviation of the value (>= 0).
        sd: f64,
    },
    /// Uniform on [min, max].
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound (>= min).
        max: f64,
    },
    /// Triangular on [min, max] with the given mode.
    Triangular {
        /// Lower bound.
        min: f64,
        /// Most likely value, within [min, max].
        mode: f64,
        /// Upper bound.
        max: f64,
    },
    /// PERT (beta-shaped, shape 4) on [min, max] with the given mode.
    Pert {
        /// Lower bound.
        min: f64,
        /// Most likely value, within [min, max].
        mode: f64,
        /// Upper bound (> min).
        max: f64,
    },
    /// Beta on [0, 1].
    Beta {
        /// First shape parameter (> 0).
        alpha: f64,
        /// Second shape parameter (> 0).
        beta: f64,
    },
    /// Gamma with shape k and scale theta (mean k theta).
    Gamma {
        /// Shape (> 0).
        shape: f64,
        /// Scale (> 0).
        scale: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean (> 0).
        mean: f64,
    },
    /// Weibull with shape k and scale lambda.
    Weibull {
        /// Shape (> 0).
        shape: f64,
        /// Scale (> 0).
        scale: f64,
    },
}

/// An uncertain number as written: a number, or a distribution table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RawUncertain {
    /// A fixed value.
    Fixed(f64),
    /// A distribution, sampled per run (or per event).
    Dist(DistSpec),
}

impl<'de> Deserialize<'de> for RawUncertain {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawUncertain;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a distribution table such as { dist = \"normal\", mean = 1.0, sd = 0.1 }")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(RawUncertain::Fixed(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(RawUncertain::Fixed(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(RawUncertain::Fixed(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                DistSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawUncertain::Dist)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The constructed sampler of a distribution.
#[derive(Debug, Clone)]
enum Sampler {
    Normal(Normal),
    LogNormal(LogNormal),
    Uniform(Uniform),
    Triangular(Triangular),
    Pert(Pert),
    Beta(Beta),
    Gamma(Gamma),
    Exponential(Exponential),
    Weibull(Weibull),
}

/// A validated uncertain number: fixed, or a distribution ready to sample.
#[derive(Debug, Clone)]
pub struct Uncertain {
    spec: RawUncertain,
    sampler: Option<Sampler>,
    fixed: f64,
    domain: Domain,
}

/// Why an uncertain number was rejected: the sub-field and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    /// The offending sub-field (`sd`, `min`, ...), or `None` for the value itself.
    pub field: Option<&'static str>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl Uncertain {
    /// A fixed value (no randomness), without checks; for code-built scenarios.
    pub fn fixed(value: f64, domain: Domain) -> Self {
        Uncertain {
            spec: RawUncertain::Fixed(value),
            sampler: None,
            fixed: domain.clamp(value),
            domain,
        }
    }

    /// Checks the parameters of `raw` and builds its sampler.
    ///
    /// A fixed value must be finite and inside `domain` (a fraction above 1 is
    /// an error, not clamped); a distribution must have valid parameters.
    ///
    /// # Errors
    /// A [`ParamError`] naming the offending sub-field and what would be valid.
    pub fn build(raw: &RawUncertain, domain: Domain) -> Result<Self, ParamError> {
        let spec = raw.clone();
        let sampler = match *raw {
            RawUncertain::Fixed(x) => {
                let whole = |message: String| ParamError {
                    field: None,
                    message,
                };
                if let Some(message) = domain.check(x) {
                    return Err(whole(message));
                }
                return Ok(Uncertain {
                    spec,
                    sampler: None,
                    fixed: x,
                    domain,
                });
            }
            RawUncertain::Dist(ref d) => Some(build_sampler(d)?),
        };
        let u = Uncertain {
            spec,
            sampler,
            fixed: f64::NAN,
            domain,
        };
        // Draws are clamped to the domain; a distribution centred beyond its
        // upper limit is a mistake (a unit, a missing decimal point), not a
        // shape to clamp silently.
        let mean = u.mean();
        if mean.is_nan() || mean > domain.max {
            return Err(ParamError {
                field: None,
                message: format!(
                    "the mean of the distribution must be at most {} (got {})",
                    show(domain.max),
                    show(mean)
                ),
            });
        }
        Ok(u)
    }

    /// Whether a value is drawn (true) or fixed (false).
    pub fn is_random(&self) -> bool {
        self.sampler.is_some()
    }

    /// The value as written in the scenario.
    pub fn spec(&self) -> &RawUncertain {
        &self.spec
    }

    /// The fixed value, if the number is not random.
    pub fn fixed_value(&self) -> Option<f64> {
        self.sampler.is_none().then_some(self.fixed)
    }

    /// Draws a value (a fixed value draws nothing from `rng`), clamped to the domain.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let x = match &self.sampler {
            None => return self.fixed,
            Some(Sampler::Normal(d)) => d.sample(rng),
            Some(Sampler::LogNormal(d)) => d.sample(rng),
            Some(Sampler::Uniform(d)) => d.sample(rng),
            Some(Sampler::Triangular(d)) => d.sample(rng),
            Some(Sampler::Pert(d)) => d.sample(rng),
            Some(Sampler::Beta(d)) => d.sample(rng),
            Some(Sampler::Gamma(d)) => d.sample(rng),
            Some(Sampler::Exponential(d)) => d.sample(rng),
            Some(Sampler::Weibull(d)) => d.sample(rng),
        };
        self.domain.clamp(x)
    }

    /// The mean of the (unclamped) distribution, or the fixed value.
    pub fn mean(&self) -> f64 {
        match &self.spec {
            RawUncertain::Fixed(x) => *x,
            RawUncertain::Dist(d) => match *d {
                DistSpec::Normal { mean, .. }
                | DistSpec::Lognormal { mean, .. }
                | DistSpec::Exponential { mean } => mean,
                DistSpec::Uniform { min, max } => 0.5 * (min + max),
                DistSpec::Triangular { min, mode, max } => (min + mode + max) / 3.0,
                DistSpec::Pert { min, mode, max } => (min + 4.0 * mode + max) / 6.0,
                DistSpec::Beta { alpha, beta } => alpha / (alpha + beta),
                DistSpec::Gamma { shape, scale } => shape * scale,
                DistSpec::Weibull { shape, scale } => {
                    scale * statrs::function::gamma::gamma(1.0 + 1.0 / shape)
                }
            },
        }
    }
}

/// Checks a distribution's parameters and builds its sampler.
fn build_sampler(d: &DistSpec) -> Result<Sampler, ParamError> {
    let s = match *d {
        DistSpec::Normal { mean, sd } => Sampler::Normal(Normal::new(mean, sd).map_err(param)?),
        DistSpec::Lognormal { mean, sd } => {
            Sampler::LogNormal(LogNormal::from_mean_sd(mean, sd).map_err(param)?)
        }
        DistSpec::Uniform { min, max } => Sampler::Uniform(Uniform::new(min, max).map_err(param)?),
        DistSpec::Triangular { min, mode, max } => {
            Sampler::Triangular(Triangular::new(min, mode, max).map_err(param)?)
        }
        DistSpec::Pert { min, mode, max } => {
            Sampler::Pert(Pert::new(min, mode, max).map_err(param)?)
        }
        DistSpec::Beta { alpha, beta } => Sampler::Beta(Beta::new(alpha, beta).map_err(param)?),
        DistSpec::Gamma { shape, scale } => {
            Sampler::Gamma(Gamma::new(shape, scale).map_err(param)?)
        }
        DistSpec::Exponential { mean } => {
            Sampler::Exponential(Exponential::new(mean).map_err(param)?)
        }
        DistSpec::Weibull { shape, scale } => {
            Sampler::Weibull(Weibull::new(shape, scale).map_err(param)?)
        }
    };
    Ok(s)
}

/// A sampler's refusal as the scenario says it: the sub-field, and the
/// reason with numbers as people write them.
fn param(e: sampling::Error) -> ParamError {
    use sampling::Error as E;
    let (field, message) = match e {
        E::NotFinite { param, value } => (
            param,
            format!("must be a finite number (got {})", show(value)),
        ),
        E::NotPositive { param, value } => (param, format!("must be > 0 (got {})", show(value))),
        E::Negative { param, value } => (param, format!("must be >= 0 (got {})", show(value))),
        E::MinAboveMax { min, max } => (
            "min",
            format!("must be <= max (got min {} > max {})", show(min), show(max)),
        ),
        E::ModeOutside { min, mode, max } => (
            "mode",
            format!(
                "must lie within [min, max] = [{}, {}] (got {})",
                show(min),
                show(max),
                show(mode)
            ),
        ),
        E::EmptyPert { max } => (
            "max",
            format!("must be > min for a pert (got {})", show(max)),
        ),
        E::LognormalSdTooLarge { ratio } => (
            "sd",
            format!(
                "is too large for the mean of a lognormal (sd / mean = {})",
                show(ratio)
            ),
        ),
    };
    ParamError {
        field: Some(field),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn parse(s: &str) -> RawUncertain {
        #[derive(Deserialize)]
        struct W {
            x: RawUncertain,
        }
        toml::from_str::<W>(&format!("x = {s}")).unwrap().x
    }

    fn moments(u: &Uncertain, n: usize) -> (f64, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let xs: Vec<f64> = (0..n).map(|_| u.sample(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        (m, v.sqrt())
    }

    #[test]
    fn parses_numbers_and_tables() {
        assert_eq!(parse("0.04"), RawUncertain::Fixed(0.04));
        assert_eq!(parse("3"), RawUncertain::Fixed(3.0));
        assert_eq!(
            parse("{ dist = \"normal\", mean = 0.04, sd = 0.02 }"),
            RawUncertain::Dist(DistSpec::Normal {
                mean: 0.04,
                sd: 0.02
            })
        );
    }

    #[test]
    fn rejects_unknown_distribution_and_fields() {
        #[derive(Deserialize, Debug)]
        struct W {
            #[allow(dead_code)]
            x: RawUncertain,
        }
        let e = toml::from_str::<W>("x = { dist = \"cauchy\", mean = 1 }").unwrap_err();
        assert!(e.message().contains("unknown variant `cauchy`"), "{e}");
        let e = toml::from_str::<W>("x = { dist = \"normal\", mean = 1, sdd = 1 }").unwrap_err();
        assert!(e.message().contains("unknown field `sdd`"), "{e}");
    }

    #[test]
    fn impossible_parameters_name_the_field() {
        let e = Uncertain::build(
            &parse("{ dist = \"normal\", mean = 0.04, sd = -0.1 }"),
            Domain::REAL,
        )
        .unwrap_err();
        assert_eq!(e.field, Some("sd"));
        assert!(e.message.contains(">= 0") && e.message.contains("-0.1"));
        let e = Uncertain::build(
            &parse("{ dist = \"uniform\", min = 2, max = 1 }"),
            Domain::REAL,
        )
        .unwrap_err();
        assert_eq!(e.field, Some("min"));
        let e = Uncertain::build(
            &parse("{ dist = \"triangular\", min = 0, mode = 2, max = 1 }"),
            Domain::REAL,
        )
        .unwrap_err();
        assert_eq!(e.field, Some("mode"));
        let e = Uncertain::build(&parse("1.5"), Domain::FRACTION).unwrap_err();
        assert_eq!(e.field, None);
        assert!(e.message.contains("[0, 1]"));
        let e = Uncertain::build(&parse("-1"), Domain::up_to(f64::MAX)).unwrap_err();
        assert!(e.message.contains(">= 0"));
    }

    /// Sample moments against the closed-form moments of each distribution,
    /// within 5 standard errors of the mean (n = 200,000, fixed seed).
    #[test]
    fn sample_moments_match_closed_forms() {
        let n = 200_000;
        let cases: Vec<(&str, f64, f64)> = vec![
            // (table, mean, sd) from the textbook formulas.
            ("{ dist = \"normal\", mean = 5, sd = 2 }", 5.0, 2.0),
            // lognormal is parameterized by the value's own mean and sd.
            ("{ dist = \"lognormal\", mean = 12, sd = 8 }", 12.0, 8.0),
            // uniform: (a+b)/2, (b-a)/sqrt(12)
            (
                "{ dist = \"uniform\", min = 0.3, max = 1.0 }",
                0.65,
                0.7 / 12f64.sqrt(),
            ),
            // triangular: (a+b+c)/3, sqrt((a²+b²+c²-ab-ac-bc)/18) with a=0,c=1,b=3
            (
                "{ dist = \"triangular\", min = 0, mode = 1, max = 3 }",
                4.0 / 3.0,
                ((0.0 + 1.0 + 9.0 - 0.0 - 0.0 - 3.0) / 18.0f64).sqrt(),
            ),
            // pert: (a+4m+b)/6; alpha = 1+4(m-a)/(b-a) = 3, beta = 3 on [0,6]:
            // var = (b-a)² αβ/((α+β)²(α+β+1)) = 36*9/(36*7)
            (
                "{ dist = \"pert\", min = 0, mode = 3, max = 6 }",
                3.0,
                (9.0f64 / 7.0).sqrt(),
            ),
            // beta(2,5): 2/7, sqrt(10/(49*8))
            (
                "{ dist = \"beta\", alpha = 2, beta = 5 }",
                2.0 / 7.0,
                (10.0f64 / 392.0).sqrt(),
            ),
            // gamma(k=3, θ=2): 6, sqrt(12)
            (
                "{ dist = \"gamma\", shape = 3, scale = 2 }",
                6.0,
                12f64.sqrt(),
            ),
            ("{ dist = \"exponential\", mean = 4 }", 4.0, 4.0),
            // weibull(k=2, λ=3): λΓ(1.5) = 3·√π/2, λ²(Γ(2) - Γ(1.5)²) = 9(1 - π/4)
            (
                "{ dist = \"weibull\", shape = 2, scale = 3 }",
                1.5 * std::f64::consts::PI.sqrt(),
                (9.0 * (1.0 - std::f64::consts::PI / 4.0)).sqrt(),
            ),
        ];
        for (table, mean, sd) in cases {
            let u = Uncertain::build(&parse(table), Domain::REAL).unwrap();
            let (m, s) = moments(&u, n);
            let se = sd / (n as f64).sqrt();
            assert!((m - mean).abs() < 5.0 * se, "{table}: mean {m} vs {mean}");
            assert!((s - sd).abs() / sd < 0.02, "{table}: sd {s} vs {sd}");
            assert!(
                (u.mean() - mean).abs() < 1e-12 * mean.abs().max(1.0),
                "{table}"
            );
        }
    }

    #[test]
    fn values_beyond_the_upper_limit_are_rejected_and_draws_clamped() {
        let e = Uncertain::build(&parse("1e308"), Domain::up_to(1e12)).unwrap_err();
        assert_eq!(e.message, "must be at most 1e12 (got 1e308)");
        let e = Uncertain::build(&parse("nan"), Domain::up_to(1e12)).unwrap_err();
        assert_eq!(e.message, "must be a finite number (got NaN)");
        // A Weibull with a tiny shape has an astronomically large mean.
        let e = Uncertain::build(
            &parse("{ dist = \"weibull\", shape = 0.01, scale = 1 }"),
            Domain::up_to(1e12),
        )
        .unwrap_err();
        assert_eq!(e.field, None);
        assert!(e.message.contains("mean of the distribution"), "{e:?}");
        // Heavy tails below the limit are accepted, and no draw exceeds it.
        let u = Uncertain::build(
            &parse("{ dist = \"weibull\", shape = 0.08, scale = 1 }"),
            Domain::up_to(1e12),
        )
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let xs: Vec<f64> = (0..100_000).map(|_| u.sample(&mut rng)).collect();
        assert!(xs.iter().all(|x| (0.0..=1e12).contains(x)));
        assert!(xs.contains(&1e12), "some draws reach the limit");
    }

    /// Every distribution with extreme but finite parameters: built or
    /// rejected, never a panic, and every draw finite and in the domain.
    #[test]
    fn extreme_parameters_are_rejected_or_sample_finite_values() {
        let extremes = [
            5e-324,
            1e-320,
            1e-300,
            1e-9,
            1.0,
            1e9,
            1e300,
            1e308,
            f64::MAX,
        ];
        let domain = Domain::up_to(1e12);
        let mut tried = 0;
        for &a in &extremes {
            for &b in &extremes {
                for &c in &extremes {
                    let tables = [
                        format!("{{ dist = \"normal\", mean = {a:e}, sd = {b:e} }}"),
                        format!("{{ dist = \"lognormal\", mean = {a:e}, sd = {b:e} }}"),
                        format!("{{ dist = \"uniform\", min = {a:e}, max = {b:e} }}"),
                        format!(
                            "{{ dist = \"triangular\", min = {a:e}, mode = {b:e}, max = {c:e} }}"
                        ),
                        format!("{{ dist = \"pert\", min = {a:e}, mode = {b:e}, max = {c:e} }}"),
                        format!("{{ dist = \"beta\", alpha = {a:e}, beta = {b:e} }}"),
                        format!("{{ dist = \"gamma\", shape = {a:e}, scale = {b:e} }}"),
                        format!("{{ dist = \"exponential\", mean = {a:e} }}"),
                        format!("{{ dist = \"weibull\", shape = {a:e}, scale = {b:e} }}"),
                    ];
                    for table in tables {
                        let Ok(u) = Uncertain::build(&parse(&table), domain) else {
                            continue;
                        };
                        tried += 1;
                        let mut rng = ChaCha8Rng::seed_from_u64(tried);
                        for _ in 0..20 {
                            let x = u.sample(&mut rng);
                            assert!((0.0..=1e12).contains(&x), "{table}: drew {x}");
                        }
                    }
                }
            }
        }
        assert!(tried > 100, "{tried} accepted");
    }

    #[test]
    fn fractions_are_clamped_after_sampling() {
        let u = Uncertain::build(
            &parse("{ dist = \"normal\", mean = 0.9, sd = 0.5 }"),
            Domain::FRACTION,
        )
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let xs: Vec<f64> = (0..10_000).map(|_| u.sample(&mut rng)).collect();
        assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        assert!(xs.contains(&1.0) && xs.contains(&0.0));
    }
}
