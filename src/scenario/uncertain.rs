//! Numbers that may be uncertain: a plain number, or a distribution table
//! sampled once per run (or once per event for event properties).
//!
//! The raw form ([`RawUncertain`]) mirrors the TOML; [`Uncertain::build`]
//! checks the parameters, naming the offending field, and constructs the
//! sampler once, so sampling in the engine cannot fail.

use rand::Rng;
use rand_distr::{Beta, Distribution, Exp, Gamma, LogNormal, Normal, Pert, Triangular, Weibull};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a sampled value may be: the clamp applied after every draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Any real number (a growth rate, for example).
    Real,
    /// A quantity that cannot be negative: negative draws become 0.
    NonNegative,
    /// A fraction: draws are clamped to [0, 1].
    Fraction,
}

impl Domain {
    fn clamp(self, x: f64) -> f64 {
        match self {
            Domain::Real => x,
            Domain::NonNegative => x.max(0.0),
            Domain::Fraction => x.clamp(0.0, 1.0),
        }
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
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Uniform { min: f64, width: f64 },
    Triangular(Triangular<f64>),
    Pert(Pert<f64>),
    Beta(Beta<f64>),
    Gamma(Gamma<f64>),
    Exponential(Exp<f64>),
    Weibull(Weibull<f64>),
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

fn err(field: &'static str, message: String) -> ParamError {
    ParamError {
        field: Some(field),
        message,
    }
}

fn finite(field: &'static str, x: f64) -> Result<f64, ParamError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(err(field, format!("must be a finite number (got {x})")))
    }
}

fn positive(field: &'static str, x: f64) -> Result<f64, ParamError> {
    if finite(field, x)? > 0.0 {
        Ok(x)
    } else {
        Err(err(field, format!("must be > 0 (got {x})")))
    }
}

fn non_negative(field: &'static str, x: f64) -> Result<f64, ParamError> {
    if finite(field, x)? >= 0.0 {
        Ok(x)
    } else {
        Err(err(field, format!("must be >= 0 (got {x})")))
    }
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
                if !x.is_finite() {
                    return Err(whole(format!("must be a finite number (got {x})")));
                }
                match domain {
                    Domain::NonNegative if x < 0.0 => {
                        return Err(whole(format!("must be >= 0 (got {x})")))
                    }
                    Domain::Fraction if !(0.0..=1.0).contains(&x) => {
                        return Err(whole(format!("must be a fraction in [0, 1] (got {x})")))
                    }
                    _ => {}
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
        Ok(Uncertain {
            spec,
            sampler,
            fixed: f64::NAN,
            domain,
        })
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
            Some(Sampler::Uniform { min, width }) => min + width * rng.random::<f64>(),
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
        DistSpec::Normal { mean, sd } => {
            finite("mean", mean)?;
            non_negative("sd", sd)?;
            Sampler::Normal(Normal::new(mean, sd).expect("checked: finite mean, sd >= 0"))
        }
        DistSpec::Lognormal { mean, sd } => {
            positive("mean", mean)?;
            non_negative("sd", sd)?;
            // Parameters of the underlying normal from the value's own moments.
            let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
            let mu = mean.ln() - 0.5 * sigma2;
            Sampler::LogNormal(
                LogNormal::new(mu, sigma2.sqrt()).expect("checked: finite mu, sigma >= 0"),
            )
        }
        DistSpec::Uniform { min, max } => {
            finite("min", min)?;
            finite("max", max)?;
            if min > max {
                return Err(err(
                    "min",
                    format!("must be <= max (got min {min} > max {max})"),
                ));
            }
            Sampler::Uniform {
                min,
                width: max - min,
            }
        }
        DistSpec::Triangular { min, mode, max } | DistSpec::Pert { min, mode, max } => {
            finite("min", min)?;
            finite("mode", mode)?;
            finite("max", max)?;
            if min > max {
                return Err(err(
                    "min",
                    format!("must be <= max (got min {min} > max {max})"),
                ));
            }
            if !(min..=max).contains(&mode) {
                return Err(err(
                    "mode",
                    format!("must lie within [min, max] = [{min}, {max}] (got {mode})"),
                ));
            }
            if matches!(d, DistSpec::Pert { .. }) {
                if min == max {
                    return Err(err("max", format!("must be > min for a pert (got {max})")));
                }
                Sampler::Pert(
                    Pert::new(min, max)
                        .with_mode(mode)
                        .expect("checked: min < max, mode in range"),
                )
            } else {
                Sampler::Triangular(
                    Triangular::new(min, max, mode).expect("checked: min <= mode <= max"),
                )
            }
        }
        DistSpec::Beta { alpha, beta } => {
            positive("alpha", alpha)?;
            positive("beta", beta)?;
            Sampler::Beta(Beta::new(alpha, beta).expect("checked: alpha, beta > 0"))
        }
        DistSpec::Gamma { shape, scale } => {
            positive("shape", shape)?;
            positive("scale", scale)?;
            Sampler::Gamma(Gamma::new(shape, scale).expect("checked: shape, scale > 0"))
        }
        DistSpec::Exponential { mean } => {
            positive("mean", mean)?;
            Sampler::Exponential(Exp::new(1.0 / mean).expect("checked: mean > 0"))
        }
        DistSpec::Weibull { shape, scale } => {
            positive("shape", shape)?;
            positive("scale", scale)?;
            Sampler::Weibull(Weibull::new(scale, shape).expect("checked: shape, scale > 0"))
        }
    };
    Ok(s)
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
            Domain::Real,
        )
        .unwrap_err();
        assert_eq!(e.field, Some("sd"));
        assert!(e.message.contains(">= 0") && e.message.contains("-0.1"));
        let e = Uncertain::build(
            &parse("{ dist = \"uniform\", min = 2, max = 1 }"),
            Domain::Real,
        )
        .unwrap_err();
        assert_eq!(e.field, Some("min"));
        let e = Uncertain::build(
            &parse("{ dist = \"triangular\", min = 0, mode = 2, max = 1 }"),
            Domain::Real,
        )
        .unwrap_err();
        assert_eq!(e.field, Some("mode"));
        let e = Uncertain::build(&parse("1.5"), Domain::Fraction).unwrap_err();
        assert_eq!(e.field, None);
        assert!(e.message.contains("[0, 1]"));
        let e = Uncertain::build(&parse("-1"), Domain::NonNegative).unwrap_err();
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
            let u = Uncertain::build(&parse(table), Domain::Real).unwrap();
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
    fn fractions_are_clamped_after_sampling() {
        let u = Uncertain::build(
            &parse("{ dist = \"normal\", mean = 0.9, sd = 0.5 }"),
            Domain::Fraction,
        )
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let xs: Vec<f64> = (0..10_000).map(|_| u.sample(&mut rng)).collect();
        assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        assert!(xs.contains(&1.0) && xs.contains(&0.0));
    }
}
