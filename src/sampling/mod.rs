//! The samplers of every distribution a scenario may give, drawn the same
//! way, to the last bit, on every platform.
//!
//! A draw is built from uniform 64-bit words of the generator and from
//! arithmetic that IEEE 754 fixes exactly (`+ - * /`, `sqrt`, conversions),
//! and every transcendental function (`log`, `exp`, `pow`) comes from the
//! `libm` crate, a pure Rust port of musl's (FreeBSD's) functions, never
//! from the platform's C library, whose last bits may differ from one
//! library, processor or version to another. So one seed gives the same
//! draws on any machine, and a shard of a study run on another node merges
//! with the rest bit for bit.
//!
//! Each sampler is built once with its parameters checked
//! ([`Error`] names the parameter), and then draws without failing. The
//! algorithms are the textbook exact ones, each with its reference:
//! inverse CDFs where the CDF inverts in closed form (uniform, triangular,
//! exponential, Weibull), Marsaglia's polar method for the normal (and the
//! lognormal), Marsaglia and Tsang's method for the gamma, and the beta
//! (and PERT) as a ratio of two gammas. The files in
//! `tests/data/sampler_vectors/` pin their output bit for bit.
//!
//! This module depends on nothing else of the crate: only on `rand`'s
//! [`RngCore`] for the words and on `libm`.
//!
//! The tests, by hand and against moments and exact CDFs, are in
//! `tests.rs` beside this file.

use rand::RngCore;
use std::fmt;

/// `2^-53`: the spacing of the 53-bit uniform grid on [0, 1).
const UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// A uniform draw on [0, 1): the top 53 bits of a 64-bit word, times
/// `2^-53`. Every value is a multiple of `2^-53`, exact; these are the bits
/// `rand`'s `StandardUniform` gives for `f64` (so `rng.random::<f64>()`).
#[inline]
pub fn unit<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * UNIT
}

/// A uniform draw on (0, 1]: `1 -` [`unit()`], exact, so that its logarithm
/// is finite (at most `53 ln 2` in magnitude).
#[inline]
fn unit_open_closed<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    1.0 - unit(rng)
}

/// A standard normal draw (mean 0, sd 1), by Marsaglia's polar method:
/// draw `u`, `v` uniform on [-1, 1) until `s = u^2 + v^2` lies in (0, 1),
/// then `u sqrt(-2 ln(s) / s)` is standard normal. The method gives a pair;
/// the second value, `v sqrt(...)`, is not kept, so that a draw depends on
/// no state but the generator's.
///
/// Reference: G. Marsaglia and T. A. Bray, "A convenient method for
/// generating normal variables", SIAM Review 6(3), 260-264 (1964).
pub fn standard_normal<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let u = 2.0 * unit(rng) - 1.0;
        let v = 2.0 * unit(rng) - 1.0;
        let s = u * u + v * v;
        if s < 1.0 && s > 0.0 {
            return u * libm::sqrt(-2.0 * libm::log(s) / s);
        }
    }
}

/// A standard exponential draw (mean 1), by the inverse CDF: `-ln(U)` with
/// `U` uniform on (0, 1]. `U` is a multiple of `2^-53`, so the largest draw
/// is `53 ln 2 = 36.7` (a tail of probability `2^-53` is cut). This is the
/// gap between arrivals of a Poisson process of rate 1.
///
/// Reference: L. Devroye, *Non-Uniform Random Variate Generation*,
/// Springer (1986), section II.2 (the inversion method).
pub fn standard_exponential<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    // `0 -` rather than a negation, so that U = 1 gives +0, not -0.
    0.0 - libm::log(unit_open_closed(rng))
}

/// Why a sampler's parameters were refused: the parameter, by its name in
/// the scenario format, and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Error {
    /// The parameter is NaN or infinite.
    NotFinite {
        /// The parameter's name.
        param: &'static str,
        /// Its value.
        value: f64,
    },
    /// The parameter must be > 0.
    NotPositive {
        /// The parameter's name.
        param: &'static str,
        /// Its value.
        value: f64,
    },
    /// The parameter must be >= 0.
    Negative {
        /// The parameter's name.
        param: &'static str,
        /// Its value.
        value: f64,
    },
    /// `min` is above `max`.
    MinAboveMax {
        /// The lower bound.
        min: f64,
        /// The upper bound.
        max: f64,
    },
    /// `mode` lies outside [`min`, `max`].
    ModeOutside {
        /// The lower bound.
        min: f64,
        /// The mode.
        mode: f64,
        /// The upper bound.
        max: f64,
    },
    /// A PERT needs `max > min` (its shape is undefined on a point).
    EmptyPert {
        /// The upper bound, equal to the lower one.
        max: f64,
    },
    /// A lognormal's sd is so large against its mean that the parameters
    /// of the underlying normal overflow.
    LognormalSdTooLarge {
        /// `sd / mean`.
        ratio: f64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::NotFinite { param, value } => {
                write!(f, "{param}: must be a finite number (got {value})")
            }
            Error::NotPositive { param, value } => write!(f, "{param}: must be > 0 (got {value})"),
            Error::Negative { param, value } => write!(f, "{param}: must be >= 0 (got {value})"),
            Error::MinAboveMax { min, max } => {
                write!(f, "min: must be <= max (got min {min} > max {max})")
            }
            Error::ModeOutside { min, mode, max } => write!(
                f,
                "mode: must lie within [min, max] = [{min}, {max}] (got {mode})"
            ),
            Error::EmptyPert { max } => write!(f, "max: must be > min for a pert (got {max})"),
            Error::LognormalSdTooLarge { ratio } => write!(
                f,
                "sd: is too large for the mean of a lognormal (sd / mean = {ratio})"
            ),
        }
    }
}

impl std::error::Error for Error {}

fn finite(param: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::NotFinite { param, value })
    }
}

fn positive(param: &'static str, value: f64) -> Result<f64, Error> {
    if finite(param, value)? > 0.0 {
        Ok(value)
    } else {
        Err(Error::NotPositive { param, value })
    }
}

fn non_negative(param: &'static str, value: f64) -> Result<f64, Error> {
    if finite(param, value)? >= 0.0 {
        Ok(value)
    } else {
        Err(Error::Negative { param, value })
    }
}

/// Checks `min <= mode <= max`, all finite, in the order the scenario's
/// messages name them.
fn check_range(min: f64, mode: f64, max: f64) -> Result<(), Error> {
    finite("min", min)?;
    finite("mode", mode)?;
    finite("max", max)?;
    if min > max {
        return Err(Error::MinAboveMax { min, max });
    }
    if !(min..=max).contains(&mode) {
        return Err(Error::ModeOutside { min, mode, max });
    }
    Ok(())
}

/// The normal distribution: `mean + sd Z`, `Z` by [`standard_normal`]
/// (Marsaglia's polar method).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normal {
    mean: f64,
    sd: f64,
}

impl Normal {
    /// The normal of the given mean and standard deviation.
    ///
    /// # Errors
    /// `mean` not finite, or `sd` not finite or negative.
    pub fn new(mean: f64, sd: f64) -> Result<Normal, Error> {
        finite("mean", mean)?;
        non_negative("sd", sd)?;
        Ok(Normal { mean, sd })
    }

    /// One draw.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        self.mean + self.sd * standard_normal(rng)
    }
}

/// The lognormal distribution, given by the mean and standard deviation of
/// the value itself: `exp(mu + sigma Z)` with `sigma^2 = ln(1 + sd^2 /
/// mean^2)` and `mu = ln(mean) - sigma^2 / 2`, `Z` by [`standard_normal`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    mu: f64,
    sigma: f64,
}

impl LogNormal {
    /// The lognormal whose value has the given mean and standard deviation.
    ///
    /// # Errors
    /// `mean` not finite or not positive, `sd` not finite or negative, or
    /// `sd / mean` so large that `sigma` or `mu` overflows.
    pub fn from_mean_sd(mean: f64, sd: f64) -> Result<LogNormal, Error> {
        positive("mean", mean)?;
        non_negative("sd", sd)?;
        let cv = sd / mean;
        let sigma2 = libm::log1p(cv * cv);
        let mu = libm::log(mean) - 0.5 * sigma2;
        if !(sigma2.is_finite() && mu.is_finite()) {
            return Err(Error::LognormalSdTooLarge { ratio: cv });
        }
        Ok(LogNormal {
            mu,
            sigma: libm::sqrt(sigma2),
        })
    }

    /// The mean of the underlying normal, `ln` of the median.
    pub fn mu(&self) -> f64 {
        self.mu
    }

    /// The standard deviation of the underlying normal.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// One draw.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        libm::exp(self.mu + self.sigma * standard_normal(rng))
    }
}

/// The uniform distribution on [min, max]: `min + (max - min) U`, `U` by
/// [`unit()`] (the inverse CDF; no transcendental function).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uniform {
    min: f64,
    width: f64,
}

impl Uniform {
    /// The uniform on [`min`, `max`] (a single point if they are equal).
    ///
    /// # Errors
    /// A bound not finite, or `min > max`.
    pub fn new(min: f64, max: f64) -> Result<Uniform, Error> {
        finite("min", min)?;
        finite("max", max)?;
        if min > max {
            return Err(Error::MinAboveMax { min, max });
        }
        Ok(Uniform {
            min,
            width: max - min,
        })
    }

    /// One draw.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        self.min + self.width * unit(rng)
    }
}

/// The triangular distribution on [min, max] with its peak at `mode`, by
/// the inverse CDF: with `U` by [`unit()`] and `r = (max - min) U`,
/// `min + sqrt(r (mode - min))` where `r < mode - min`, else
/// `max - sqrt((max - min - r) (max - mode))`.
///
/// Reference: L. Devroye, *Non-Uniform Random Variate Generation*,
/// Springer (1986), section II.2 (the inversion method).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Triangular {
    min: f64,
    mode: f64,
    max: f64,
}

impl Triangular {
    /// The triangular on [`min`, `max`] with the given mode.
    ///
    /// # Errors
    /// A parameter not finite, `min > max`, or `mode` outside [`min`, `max`].
    pub fn new(min: f64, mode: f64, max: f64) -> Result<Triangular, Error> {
        check_range(min, mode, max)?;
        Ok(Triangular { min, mode, max })
    }

    /// One draw.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        let range = self.max - self.min;
        let left = self.mode - self.min;
        let r = range * unit(rng);
        if r < left {
            self.min + libm::sqrt(r * left)
        } else {
            self.max - libm::sqrt((range - r) * (self.max - self.mode))
        }
    }
}

/// The core of [`Gamma`] for one shape: Marsaglia and Tsang's method for
/// shape `a >= 1` (shape + 1 for a shape below 1, whose draws are then
/// multiplied by `U^(1 / shape)`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct GammaCore {
    /// The shape asked for.
    shape: f64,
    /// Whether the shape is below 1, drawn as shape + 1 and boosted.
    boost: bool,
    /// `a - 1/3`, `a` the shape the method draws.
    d: f64,
    /// `1 / sqrt(9 d)`.
    c: f64,
}

impl GammaCore {
    /// The core for a positive, finite shape.
    fn new(shape: f64) -> GammaCore {
        let boost = shape < 1.0;
        let a = if boost { shape + 1.0 } else { shape };
        let d = a - 1.0 / 3.0;
        GammaCore {
            shape,
            boost,
            d,
            c: 1.0 / libm::sqrt(9.0 * d),
        }
    }

    /// `v` such that `d v` is a gamma draw of shape `a` (>= 1): Marsaglia
    /// and Tsang's acceptance test, with its squeeze.
    fn v<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        loop {
            let x = standard_normal(rng);
            let t = 1.0 + self.c * x;
            if t <= 0.0 {
                continue;
            }
            let v = t * t * t;
            let u = unit_open_closed(rng);
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 {
                return v;
            }
            if libm::log(u) < 0.5 * x2 + self.d * (1.0 - v + libm::log(v)) {
                return v;
            }
        }
    }

    /// `ln(U)` for the boost of a shape below 1 (0 otherwise): the draw is
    /// `d v exp(ln(U) / shape)`.
    fn ln_boost<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        if self.boost {
            libm::log(unit_open_closed(rng))
        } else {
            0.0
        }
    }

    /// A gamma draw of this shape and scale 1.
    fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        let g = self.d * self.v(rng);
        if self.boost {
            g * libm::exp(self.ln_boost(rng) / self.shape)
        } else {
            g
        }
    }
}

/// The gamma distribution of shape `k` and scale `theta` (mean `k theta`),
/// by Marsaglia and Tsang's method: with `d = k - 1/3` and `c = 1 /
/// sqrt(9 d)`, draw `Z` standard normal and `U` uniform until `v = (1 +
/// c Z)^3 > 0` and `ln U < Z^2 / 2 + d (1 - v + ln v)` (after the quick
/// squeeze `U < 1 - 0.0331 Z^4`); then `d v` is a gamma draw. A shape
/// below 1 is drawn as `k + 1` and multiplied by `U^(1/k)`.
///
/// Reference: G. Marsaglia and W. W. Tsang, "A simple method for
/// generating gamma variables", ACM Transactions on Mathematical Software
/// 26(3), 363-372 (2000), including its note on shapes below 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamma {
    core: GammaCore,
    scale: f64,
}

impl Gamma {
    /// The gamma of the given shape and scale.
    ///
    /// # Errors
    /// `shape` or `scale` not finite or not positive.
    pub fn new(shape: f64, scale: f64) -> Result<Gamma, Error> {
        positive("shape", shape)?;
        positive("scale", scale)?;
        Ok(Gamma {
            core: GammaCore::new(shape),
            scale,
        })
    }

    /// One draw.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        self.scale * self.core.sample(rng)
    }
}

/// The beta distribution on [0, 1] with shapes `alpha` and `beta`, as
/// `X / (X + Y)` for `X`, `Y` gamma draws of shapes `alpha` and `beta`
/// (scale 1, by [`Gamma`]'s method). The ratio is computed from the
/// logarithms, as `1 / (1 + exp(ln Y - ln X))`, so that shapes far below
/// 1, whose gamma draws underflow to 0, still give 0 or 1 with the right
/// odds instead of 0 / 0.
///
/// Reference: L. Devroye, *Non-Uniform Random Variate Generation*,
/// Springer (1986), section IX.4 (the beta density, from two gammas);
/// the gammas as in [`Gamma`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beta {
    x: GammaCore,
    y: GammaCore,
}

impl Beta {
    /// The beta of the given shapes.
    ///
    /// # Errors
    /// `alpha` or `beta` not finite or not positive.
    pub fn new(alpha: f64, beta: f64) -> Result<Beta, Error> {
        positive("alpha", alpha)?;
        positive("beta", beta)?;
        Ok(Beta {
            x: GammaCore::new(alpha),
            y: GammaCore::new(beta),
        })
    }

    /// One draw, in [0, 1].
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        let (a, b) = (&self.x, &self.y);
        let ln_x = libm::log(a.d * a.v(rng));
        let boost_x = a.ln_boost(rng);
        let ln_y = libm::log(b.d * b.v(rng));
        let boost_y = b.ln_boost(rng);
        // boost_y / beta - boost_x / alpha, over the smaller shape at the
        // end: each quotient alone may overflow for a tiny shape, their
        // difference need not.
        let m = a.shape.min(b.shape);
        let boosts = (boost_y * (m / b.shape) - boost_x * (m / a.shape)) / m;
        1.0 / (1.0 + libm::exp((ln_y - ln_x) + boosts))
    }
}

/// The PERT distribution on [min, max] with the given mode (shape 4):
/// `min + (max - min) B`, `B` a [`Beta`] draw with shapes
/// `alpha = 1 + 4 (mode - min) / (max - min)` and
/// `beta = 1 + 4 (max - mode) / (max - min)`, so that the mean is
/// `(min + 4 mode + max) / 6`.
///
/// Reference: D. G. Malcolm, J. H. Roseboom, C. E. Clark and W. Fazar,
/// "Application of a technique for research and development program
/// evaluation", Operations Research 7(5), 646-669 (1959); the beta form of
/// D. Vose, *Risk Analysis: A Quantitative Guide*, 3rd ed., Wiley (2008).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pert {
    min: f64,
    range: f64,
    beta: Beta,
}

impl Pert {
    /// The PERT on [`min`, `max`] with the given mode.
    ///
    /// # Errors
    /// A parameter not finite, `min > max`, `mode` outside [`min`, `max`],
    /// or `min == max`.
    pub fn new(min: f64, mode: f64, max: f64) -> Result<Pert, Error> {
        check_range(min, mode, max)?;
        if min == max {
            return Err(Error::EmptyPert { max });
        }
        let range = max - min;
        // The same ratios from halves where the range overflows (bounds
        // near the largest f64), so that the shapes stay in [1, 5].
        let (left, right, span) = if range.is_finite() {
            (mode - min, max - mode, range)
        } else {
            (
                0.5 * mode - 0.5 * min,
                0.5 * max - 0.5 * mode,
                0.5 * max - 0.5 * min,
            )
        };
        let alpha = 1.0 + 4.0 * (left / span);
        let beta = 1.0 + 4.0 * (right / span);
        Ok(Pert {
            min,
            range,
            beta: Beta::new(alpha, beta).expect("shapes in [1, 5]"),
        })
    }

    /// The beta's shapes, `(alpha, beta)`.
    pub fn shapes(&self) -> (f64, f64) {
        (self.beta.x.shape, self.beta.y.shape)
    }

    /// One draw.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        self.min + self.range * self.beta.sample(rng)
    }
}

/// The exponential distribution of the given mean: `mean E`, `E` by
/// [`standard_exponential`] (the inverse CDF, `-ln U`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exponential {
    mean: f64,
}

impl Exponential {
    /// The exponential of the given mean (1 / its rate).
    ///
    /// # Errors
    /// `mean` not finite or not positive.
    pub fn new(mean: f64) -> Result<Exponential, Error> {
        positive("mean", mean)?;
        Ok(Exponential { mean })
    }

    /// One draw.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        self.mean * standard_exponential(rng)
    }
}

/// The Weibull distribution of shape `k` and scale `lambda`, by the inverse
/// CDF: `lambda (-ln U)^(1/k)`, `-ln U` by [`standard_exponential`].
///
/// Reference: L. Devroye, *Non-Uniform Random Variate Generation*,
/// Springer (1986), section II.2 (the inversion method); the
/// distribution of W. Weibull, "A statistical distribution function of
/// wide applicability", Journal of Applied Mechanics 18(3), 293-297 (1951).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weibull {
    inv_shape: f64,
    scale: f64,
}

impl Weibull {
    /// The Weibull of the given shape and scale.
    ///
    /// # Errors
    /// `shape` or `scale` not finite or not positive.
    pub fn new(shape: f64, scale: f64) -> Result<Weibull, Error> {
        positive("shape", shape)?;
        positive("scale", scale)?;
        Ok(Weibull {
            inv_shape: 1.0 / shape,
            scale,
        })
    }

    /// One draw.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        self.scale * libm::pow(standard_exponential(rng), self.inv_shape)
    }
}

#[cfg(test)]
mod tests;
