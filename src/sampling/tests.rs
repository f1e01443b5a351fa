//! The samplers against values worked by hand, their moments within four
//! standard errors and the Kolmogorov-Smirnov distance to the exact CDF.

use super::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{self as sd, ContinuousCDF};
use statrs::function::gamma::gamma;

/// A generator that gives the listed 64-bit words, in order, to test a
/// draw from known uniforms.
struct Words {
    words: Vec<u64>,
    next: usize,
}

impl Words {
    fn new(words: &[u64]) -> Words {
        Words {
            words: words.to_vec(),
            next: 0,
        }
    }

    /// Whether every word was used.
    fn used_all(&self) -> bool {
        self.next == self.words.len()
    }
}

impl RngCore for Words {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }

    fn next_u64(&mut self) -> u64 {
        let w = self.words[self.next];
        self.next += 1;
        w
    }

    fn fill_bytes(&mut self, _: &mut [u8]) {
        unreachable!("the samplers draw whole words")
    }
}

/// The word whose [`unit()`] is 0.75 (its top 53 bits are 3 * 2^51).
const THREE_QUARTERS: u64 = 0xC000_0000_0000_0000;
/// The word whose [`unit()`] is 0.5, and so is `1 - unit`.
const HALF: u64 = 0x8000_0000_0000_0000;
/// The word whose [`unit()`] is 0.25.
const QUARTER: u64 = 0x4000_0000_0000_0000;

/// Whether `got` is within 2 units in the last place of `want`
/// (relative 4.5e-16).
fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 2.0 * f64::EPSILON * want.abs()
}

#[test]
fn unit_draws_are_the_top_53_bits_of_a_word() {
    let mut w = Words::new(&[0, THREE_QUARTERS, u64::MAX, 0x7FF]);
    assert_eq!(unit(&mut w), 0.0);
    assert_eq!(unit(&mut w), 0.75);
    assert_eq!(unit(&mut w), 1.0 - f64::EPSILON / 2.0);
    // The low 11 bits are not used.
    assert_eq!(unit(&mut w), 0.0);
    // The same bits as rand's uniform f64.
    use rand::Rng;
    let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(9), ChaCha8Rng::seed_from_u64(9));
    for _ in 0..1000 {
        assert_eq!(unit(&mut a).to_bits(), b.random::<f64>().to_bits());
    }
}

/// Draws computed by hand from known uniforms (the true values to 20
/// digits, from the closed forms), which a wrong formula would miss.
#[test]
fn inverse_cdf_draws_by_hand() {
    // U = 1 - 0.5 = 0.5: -ln(0.5) = ln 2 = 0.69314718055994530942.
    let e = standard_exponential(&mut Words::new(&[HALF]));
    assert!(close(e, std::f64::consts::LN_2), "{e}");
    // U = 1 - 0 = 1: -ln(1) = +0, never -0.
    let e = standard_exponential(&mut Words::new(&[0]));
    assert_eq!(e.to_bits(), 0);
    // mean 2: 2 ln 2 = 1.3862943611198906188.
    let x = Exponential::new(2.0)
        .unwrap()
        .sample(&mut Words::new(&[HALF]));
    assert!(close(x, 1.3862943611198906), "{x}");
    // Weibull(k = 2, lambda = 3): 3 (ln 2)^(1/2) = 2.4976638334730932691.
    let x = Weibull::new(2.0, 3.0)
        .unwrap()
        .sample(&mut Words::new(&[HALF]));
    assert!(close(x, 2.4976638334730934), "{x}");
    // Weibull(k = 0.5, lambda = 1): (ln 2)^2 = 0.48045301391820142467.
    let x = Weibull::new(0.5, 1.0)
        .unwrap()
        .sample(&mut Words::new(&[HALF]));
    assert!(close(x, 0.48045301391820144), "{x}");
    // Uniform on [2, 6], U = 0.75: 2 + 4 * 0.75 = 5, exactly.
    let x = Uniform::new(2.0, 6.0)
        .unwrap()
        .sample(&mut Words::new(&[THREE_QUARTERS]));
    assert_eq!(x, 5.0);
    // Triangular(0, 1, 3): F(mode) = 1/3. U = 0.25 is left of the
    // mode: sqrt(3 * 0.25 * 1) = 0.86602540378443864676; U = 0.75 is
    // right of it: 3 - sqrt((3 - 2.25) * 2) = 1.7752551286084109509.
    let t = Triangular::new(0.0, 1.0, 3.0).unwrap();
    let x = t.sample(&mut Words::new(&[QUARTER]));
    assert!(close(x, 0.8660254037844386), "{x}");
    let x = t.sample(&mut Words::new(&[THREE_QUARTERS]));
    assert!(close(x, 1.775255128608411), "{x}");
    // A triangular on a point is the point.
    let x = Triangular::new(4.0, 4.0, 4.0)
        .unwrap()
        .sample(&mut Words::new(&[THREE_QUARTERS]));
    assert_eq!(x, 4.0);
}

/// The polar method by hand: (u, v) = (-1, -1) (s = 2) and (0, 0)
/// (s = 0) are rejected; (0.5, 0.5) gives s = 0.5 and
/// 0.5 sqrt(-2 ln(0.5) / 0.5) = sqrt(ln 2) = 0.83255461115769775635.
#[test]
fn polar_normal_by_hand() {
    let words = [0, 0, HALF, HALF, THREE_QUARTERS, THREE_QUARTERS];
    let mut w = Words::new(&words);
    let z = standard_normal(&mut w);
    assert!(w.used_all());
    assert!(close(z, 0.8325546111576978), "{z}");
    // Normal(5, 2): 5 + 2 sqrt(ln 2) = 6.6651092223153955127.
    let x = Normal::new(5.0, 2.0)
        .unwrap()
        .sample(&mut Words::new(&words));
    assert!(close(x, 6.665109222315396), "{x}");
    // Lognormal with mean 12 and sd 8: sigma^2 = ln(13/9) =
    // 0.36772478012531735326, mu = ln 12 - sigma^2 / 2 =
    // 2.3010442597253416336, and the draw exp(mu + sigma sqrt(ln 2)) =
    // 16.542089278543495691.
    let d = LogNormal::from_mean_sd(12.0, 8.0).unwrap();
    assert!(close(d.mu(), 2.3010442597253418), "{}", d.mu());
    assert!(close(d.sigma(), 0.6064031498312961), "{}", d.sigma());
    let x = d.sample(&mut Words::new(&words));
    assert!(close(x, 16.542089278543497), "{x}");
}

#[test]
fn pert_shapes_are_one_plus_four_times_the_mode_share() {
    // alpha = 1 + 4 * 2 / 20 = 1.4, beta = 1 + 4 * 18 / 20 = 4.6.
    let (a, b) = Pert::new(10.0, 12.0, 30.0).unwrap().shapes();
    assert!(close(a, 1.4) && close(b, 4.6), "{a} {b}");
    // Bounds whose range overflows: the shapes of the same ratios.
    let (a, b) = Pert::new(-f64::MAX, 0.0, f64::MAX).unwrap().shapes();
    assert_eq!((a, b), (3.0, 3.0));
}

#[test]
fn invalid_parameters_name_the_parameter() {
    use Error::*;
    let nan = f64::NAN;
    assert!(matches!(
        Normal::new(nan, 1.0),
        Err(NotFinite { param: "mean", .. })
    ));
    assert_eq!(
        Normal::new(0.0, -1.0),
        Err(Negative {
            param: "sd",
            value: -1.0
        })
    );
    assert_eq!(
        LogNormal::from_mean_sd(0.0, 1.0),
        Err(NotPositive {
            param: "mean",
            value: 0.0
        })
    );
    assert_eq!(
        LogNormal::from_mean_sd(1e-300, 1e10),
        Err(LognormalSdTooLarge {
            ratio: f64::INFINITY
        })
    );
    assert_eq!(
        Uniform::new(2.0, 1.0),
        Err(MinAboveMax { min: 2.0, max: 1.0 })
    );
    assert_eq!(
        Triangular::new(0.0, 2.0, 1.0),
        Err(ModeOutside {
            min: 0.0,
            mode: 2.0,
            max: 1.0
        })
    );
    assert!(matches!(
        Triangular::new(0.0, f64::INFINITY, 1.0),
        Err(NotFinite { param: "mode", .. })
    ));
    assert_eq!(Pert::new(1.0, 1.0, 1.0), Err(EmptyPert { max: 1.0 }));
    assert_eq!(
        Beta::new(1.0, 0.0),
        Err(NotPositive {
            param: "beta",
            value: 0.0
        })
    );
    assert_eq!(
        Gamma::new(-1.0, 1.0),
        Err(NotPositive {
            param: "shape",
            value: -1.0
        })
    );
    assert!(matches!(
        Weibull::new(1.0, f64::INFINITY),
        Err(NotFinite { param: "scale", .. })
    ));
    assert_eq!(
        Exponential::new(0.0),
        Err(NotPositive {
            param: "mean",
            value: 0.0
        })
    );
    assert_eq!(
        Normal::new(0.0, -1.0).unwrap_err().to_string(),
        "sd: must be >= 0 (got -1)"
    );
}

/// Beta shapes far below 1, whose gamma draws underflow to 0: the
/// draws are 0 or 1 (up to rounding), and 1 with probability
/// alpha / (alpha + beta) in the limit, here 1/4 (within 4 standard
/// errors, n = 20,000, fixed seed).
#[test]
fn beta_of_tiny_shapes_is_zero_or_one_with_the_right_odds() {
    let n = 20_000;
    for (alpha, beta) in [(1e-300, 3e-300), (5e-324, 1.5e-323), (1e-9, 3e-9)] {
        let d = Beta::new(alpha, beta).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut ones = 0;
        for _ in 0..n {
            let x = d.sample(&mut rng);
            assert!(x == 0.0 || x == 1.0 || alpha > 1e-300, "{alpha}: {x}");
            assert!((0.0..=1.0).contains(&x), "{alpha}: {x}");
            ones += usize::from(x > 0.5);
        }
        let p = ones as f64 / n as f64;
        let se = (0.25f64 * 0.75 / n as f64).sqrt();
        assert!((p - 0.25).abs() < 4.0 * se, "{alpha}, {beta}: {p}");
    }
}

/// A sampler under test with its closed-form moments and exact CDF.
struct Case {
    name: &'static str,
    draw: Box<dyn Fn(&mut ChaCha8Rng) -> f64>,
    mean: f64,
    var: f64,
    /// Excess kurtosis, for the standard error of the sample variance.
    kurtosis: f64,
    cdf: Box<dyn Fn(f64) -> f64>,
}

/// Mean, variance and excess kurtosis of Beta(a, b).
fn beta_moments(a: f64, b: f64) -> (f64, f64, f64) {
    let s = a + b;
    let var = a * b / (s * s * (s + 1.0));
    let k =
        6.0 * ((a - b).powi(2) * (s + 1.0) - a * b * (s + 2.0)) / (a * b * (s + 2.0) * (s + 3.0));
    (a / s, var, k)
}

/// Mean, variance and excess kurtosis of Weibull(k, lambda), from the
/// raw moments lambda^i Gamma(1 + i / k).
fn weibull_moments(k: f64, lambda: f64) -> (f64, f64, f64) {
    let m: Vec<f64> = (1..=4)
        .map(|i| lambda.powi(i) * gamma(1.0 + f64::from(i) / k))
        .collect();
    let var = m[1] - m[0] * m[0];
    let mu4 = m[3] - 4.0 * m[0] * m[2] + 6.0 * m[0] * m[0] * m[1] - 3.0 * m[0].powi(4);
    (m[0], var, mu4 / (var * var) - 3.0)
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name, draw: Box<dyn Fn(&mut ChaCha8Rng) -> f64>, m: (f64, f64, f64), cdf| {
        cases.push(Case {
            name,
            draw,
            mean: m.0,
            var: m.1,
            kurtosis: m.2,
            cdf,
        });
    };
    add(
        "standard normal",
        Box::new(standard_normal),
        (0.0, 1.0, 0.0),
        Box::new(|x| sd::Normal::new(0.0, 1.0).unwrap().cdf(x)),
    );
    let d = Normal::new(5.0, 2.0).unwrap();
    add(
        "normal(5, 2)",
        Box::new(move |r| d.sample(r)),
        (5.0, 4.0, 0.0),
        Box::new(|x| sd::Normal::new(5.0, 2.0).unwrap().cdf(x)),
    );
    // Lognormal of mean 12 and sd 8: w = exp(sigma^2) = 1 + 64/144, and
    // excess kurtosis w^4 + 2 w^3 + 3 w^2 - 6.
    let d = LogNormal::from_mean_sd(12.0, 8.0).unwrap();
    let w: f64 = 13.0 / 9.0;
    let (mu, sigma) = ((12f64).ln() - 0.5 * w.ln(), w.ln().sqrt());
    add(
        "lognormal(mean 12, sd 8)",
        Box::new(move |r| d.sample(r)),
        (12.0, 64.0, w.powi(4) + 2.0 * w.powi(3) + 3.0 * w * w - 6.0),
        Box::new(move |x| sd::LogNormal::new(mu, sigma).unwrap().cdf(x)),
    );
    let d = Uniform::new(0.3, 1.0).unwrap();
    add(
        "uniform(0.3, 1)",
        Box::new(move |r| d.sample(r)),
        (0.65, 0.49 / 12.0, -1.2),
        Box::new(|x| sd::Uniform::new(0.3, 1.0).unwrap().cdf(x)),
    );
    // Triangular(a, c, b): mean (a + b + c) / 3, variance
    // (a^2 + b^2 + c^2 - ab - ac - bc) / 18, excess kurtosis -3/5.
    let d = Triangular::new(0.0, 1.0, 3.0).unwrap();
    add(
        "triangular(0, 1, 3)",
        Box::new(move |r| d.sample(r)),
        (4.0 / 3.0, 7.0 / 18.0, -0.6),
        Box::new(|x| sd::Triangular::new(0.0, 3.0, 1.0).unwrap().cdf(x)),
    );
    let d = Triangular::new(2.0, 2.0, 5.0).unwrap();
    add(
        "triangular(2, 2, 5)",
        Box::new(move |r| d.sample(r)),
        (3.0, 0.5, -0.6),
        Box::new(|x| sd::Triangular::new(2.0, 5.0, 2.0).unwrap().cdf(x)),
    );
    // PERT(0, 3, 6) is 6 Beta(3, 3); PERT(10, 12, 30) is 10 + 20
    // Beta(1.4, 4.6).
    let d = Pert::new(0.0, 3.0, 6.0).unwrap();
    let (m, v, k) = beta_moments(3.0, 3.0);
    add(
        "pert(0, 3, 6)",
        Box::new(move |r| d.sample(r)),
        (6.0 * m, 36.0 * v, k),
        Box::new(|x| sd::Beta::new(3.0, 3.0).unwrap().cdf(x / 6.0)),
    );
    let d = Pert::new(10.0, 12.0, 30.0).unwrap();
    let (m, v, k) = beta_moments(1.4, 4.6);
    add(
        "pert(10, 12, 30)",
        Box::new(move |r| d.sample(r)),
        (10.0 + 20.0 * m, 400.0 * v, k),
        Box::new(|x| sd::Beta::new(1.4, 4.6).unwrap().cdf((x - 10.0) / 20.0)),
    );
    for (a, b) in [(2.0, 5.0), (0.5, 0.3), (0.2, 1.5)] {
        let d = Beta::new(a, b).unwrap();
        add(
            match a {
                2.0 => "beta(2, 5)",
                0.5 => "beta(0.5, 0.3)",
                _ => "beta(0.2, 1.5)",
            },
            Box::new(move |r| d.sample(r)),
            beta_moments(a, b),
            Box::new(move |x| sd::Beta::new(a, b).unwrap().cdf(x)),
        );
    }
    // Gamma(k, theta): mean k theta, variance k theta^2, excess
    // kurtosis 6 / k; statrs takes the rate 1 / theta.
    for (k, theta) in [(3.0, 2.0), (1.0, 1.0), (0.4, 1.5), (150.0, 0.01)] {
        let d = Gamma::new(k, theta).unwrap();
        add(
            match k {
                3.0 => "gamma(3, 2)",
                1.0 => "gamma(1, 1)",
                0.4 => "gamma(0.4, 1.5)",
                _ => "gamma(150, 0.01)",
            },
            Box::new(move |r| d.sample(r)),
            (k * theta, k * theta * theta, 6.0 / k),
            Box::new(move |x| sd::Gamma::new(k, 1.0 / theta).unwrap().cdf(x)),
        );
    }
    add(
        "standard exponential",
        Box::new(standard_exponential),
        (1.0, 1.0, 6.0),
        Box::new(|x| sd::Exp::new(1.0).unwrap().cdf(x)),
    );
    let d = Exponential::new(4.0).unwrap();
    add(
        "exponential(mean 4)",
        Box::new(move |r| d.sample(r)),
        (4.0, 16.0, 6.0),
        Box::new(|x| sd::Exp::new(0.25).unwrap().cdf(x)),
    );
    for (k, lambda) in [(2.0, 3.0), (0.7, 1.5)] {
        let d = Weibull::new(k, lambda).unwrap();
        add(
            if k == 2.0 {
                "weibull(2, 3)"
            } else {
                "weibull(0.7, 1.5)"
            },
            Box::new(move |r| d.sample(r)),
            weibull_moments(k, lambda),
            Box::new(move |x| sd::Weibull::new(k, lambda).unwrap().cdf(x)),
        );
    }
    cases
}

/// Sample mean and variance within 4 standard errors of the closed
/// forms (n = 100,000, a fixed seed per case, so never flaky). The
/// standard error of the variance is sigma^2 sqrt((kurtosis + 2) / n),
/// kurtosis in excess of the normal's.
#[test]
fn sample_moments_within_four_standard_errors() {
    let n = 100_000;
    for (i, c) in cases().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + i as u64);
        let xs: Vec<f64> = (0..n).map(|_| (c.draw)(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se_mean = (c.var / n as f64).sqrt();
        let se_var = c.var * ((c.kurtosis + 2.0) / n as f64).sqrt();
        assert!(
            (mean - c.mean).abs() < 4.0 * se_mean,
            "{}: mean {mean} vs {} (se {se_mean})",
            c.name,
            c.mean
        );
        assert!(
            (var - c.var).abs() < 4.0 * se_var,
            "{}: variance {var} vs {} (se {se_var})",
            c.name,
            c.var
        );
    }
}

/// Kolmogorov-Smirnov against the exact CDF (statrs'): the largest gap
/// between the empirical and the exact CDF of n = 20,000 draws is
/// below the critical value at alpha = 0.001, 1.949 / sqrt(n) =
/// 0.01378 (the asymptotic Kolmogorov quantile sqrt(ln(2 / alpha) /
/// 2)); a fixed seed per case, so never flaky.
#[test]
fn kolmogorov_smirnov_against_the_exact_cdf() {
    let n = 20_000;
    let critical = 1.949 / (n as f64).sqrt();
    for (i, c) in cases().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(2000 + i as u64);
        let mut xs: Vec<f64> = (0..n).map(|_| (c.draw)(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        let d = xs
            .iter()
            .enumerate()
            .map(|(j, &x)| {
                let f = (c.cdf)(x);
                (f - j as f64 / n as f64).max((j + 1) as f64 / n as f64 - f)
            })
            .fold(0.0, f64::max);
        assert!(d < critical, "{}: D = {d} >= {critical}", c.name);
    }
}
