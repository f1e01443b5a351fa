//! Exponential, logarithm and complementary error function of [`Lanes`],
//! giving in each lane exactly the bits of the `libm` crate's scalar
//! function (a port of musl's, itself from FreeBSD's msun).
//!
//! The step loop's price and the product lifetimes take their
//! transcendental functions from here (and the rest of the engine from the
//! scalar `libm`) rather than from the platform's C library, whose results
//! may differ in the last bit from one library, processor or version to
//! another. (The draws of the distributions themselves use the scalar
//! `libm` too, in `crate::sampling`.)
//!
//! Each function runs libm's algorithm on all lanes at once: the same
//! constants and the same operations in the same order (no fused
//! multiply-add), the branches on the argument's range turned into
//! selects, so that each step is one vector instruction. Lanes outside the
//! common path (NaN, infinities, results that overflow or are subnormal,
//! and the few ranges noted at each function) are recomputed with the scalar
//! libm function: those cases take extra steps in libm (scalbn's
//! prescaling, early returns) which would cost every call if they were
//! computed for all lanes, and they are rare.

use super::lanes::{Lanes, Mask, LANES};

const SIGN: u64 = 1 << 63;
const TWO52: f64 = 4503599627370496.0;
/// `2^52 + 1023`: adding an integer `k` in `-1023..2^51` gives a number
/// whose low 52 bits are `k + 1023`, a biased exponent.
const EXP_MAGIC: f64 = 4503599627371519.0;

/// The bits of `x`, lane by lane.
#[inline(always)]
fn to_bits(x: Lanes) -> [u64; LANES] {
    std::array::from_fn(|l| x.0[l].to_bits())
}

/// The numbers of bits `b`, lane by lane.
#[inline(always)]
fn from_bits(b: [u64; LANES]) -> Lanes {
    Lanes::from_fn(|l| f64::from_bits(b[l]))
}

/// Where the high word of `|x|` (libm's `ix` or `hx & 0x7fffffff`) is below
/// `hw`, compared as the whole bits of `|x|` against `hw << 32`.
#[inline(always)]
fn high_below(x: Lanes, hw: u32) -> Mask {
    // As i64: both sides are below 2^63, and AVX2 compares signed integers.
    Mask::from_fn(|l| ((x.0[l].to_bits() & !SIGN) as i64) < (i64::from(hw) << 32))
}

/// Where the sign bit is set (libm's `sign`), NaN and -0 included.
#[inline(always)]
fn negative(x: Lanes) -> Mask {
    Mask::from_fn(|l| (x.0[l].to_bits() as i64) < 0)
}

/// `2^k` for integer `k` in `-1022..=1023`, from its biased exponent.
#[inline(always)]
fn pow2(k: Lanes) -> Lanes {
    let b = to_bits(k + EXP_MAGIC);
    from_bits(std::array::from_fn(|l| b[l] << 52))
}

/// `t` rounded toward zero (`f64::trunc`) where `|t| < 2^52`: `|t|` rounded
/// to an integer by adding and subtracting 2^52, less one where that rounded
/// up. For `1 <= |t| < 2^31` these are the bits of `t as i32 as f64`, which
/// the compiler would convert lane by lane (the conversion saturates).
#[inline(always)]
fn trunc(t: Lanes) -> Lanes {
    let a = from_bits(to_bits(t).map(|b| b & !SIGN));
    let r = (a + TWO52) - TWO52;
    let r = r - Lanes::select(r.gt(a), Lanes::splat(1.0), Lanes::splat(0.0));
    Lanes::from_fn(|l| r.0[l].copysign(t.0[l]))
}

/// `y` with the lanes where `m` holds replaced by `f` of the same lane of
/// `x`. Out of line and cold: called only when some lane leaves the common
/// path.
#[cold]
#[inline(never)]
fn scalar_lanes(f: fn(f64) -> f64, x: Lanes, m: Mask, mut y: Lanes) -> Lanes {
    for l in 0..LANES {
        if m.get(l) {
            y.0[l] = f(x.0[l]);
        }
    }
    y
}

const LN2_HI: f64 = f64::from_bits(0x3fe62e42_fee00000); // 6.93147180369123816490e-01
const LN2_LO: f64 = f64::from_bits(0x3dea39ef_35793c76); // 1.90821492927058770002e-10
const INVLN2: f64 = f64::from_bits(0x3ff71547_652b82fe); // 1.44269504088896338700e+00

// exp
const P1: f64 = f64::from_bits(0x3fc55555_5555553e); // 1.66666666666666019037e-01
const P2: f64 = f64::from_bits(0xbf66c16c_16bebd93); // -2.77777777770155933842e-03
const P3: f64 = f64::from_bits(0x3f11566a_af25de2c); // 6.61375632143793436117e-05
const P4: f64 = f64::from_bits(0xbebbbd41_c5d26bf1); // -1.65339022054652515390e-06
const P5: f64 = f64::from_bits(0x3e663769_72bea4d0); // 4.13813679705723846039e-08

/// `libm::exp` lane by lane.
///
/// Computed for all lanes where `|x| < 708.39` (libm's high word of `|x|`
/// below `0x4086232b`), with libm's three argument reductions as one:
/// `k = (INVLN2 * x ± 0.5) as i32` above `0.5 ln2` (which below `1.5 ln2`
/// is libm's `k = ±1`), and `k = 0` below, where `hi = x - 0 * LN2_HI`
/// and `lo = 0 * LN2_LO` are libm's `hi = x, lo = 0`. These `k` are in
/// `-1022..=1022`, where libm's `scalbn(y, k)` is the one product
/// `y * 2^k` (it prescales only outside `-1022..=1023`). Where
/// `|x| <= 2^-28` the result is libm's `1 + x`. The scalar function gives
/// the rest: NaN, infinities, overflow, and the arguments below -708.39,
/// whose results are subnormal or zero.
#[inline(always)]
pub fn exp(x: Lanes) -> Lanes {
    let special = !high_below(x, 0x4086232b);
    let reduce = !high_below(x, 0x3fd62e43);
    let tiny = high_below(x, 0x3e300001);
    let half = Lanes::from_fn(|l| 0.5f64.copysign(x.0[l]));
    // libm's `(INVLN2 * x + half) as i32`: at least 1 in magnitude here.
    let k = Lanes::select(reduce, trunc(INVLN2 * x + half), Lanes::splat(0.0));
    let hi = x - k * LN2_HI; // k*ln2hi is exact here
    let lo = k * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    let y = Lanes::select(tiny, 1.0 + x, y * pow2(k));
    if special.any() {
        return scalar_lanes(libm::exp, x, special, y);
    }
    y
}

// expm1
// Scaled Q's: Qn_here = 2**n * Qn_above, for R(2*z) where z = hxs = x*x/2.
const Q1: f64 = f64::from_bits(0xbfa11111_111110f4); // -3.33333333333331316428e-02
const Q2: f64 = f64::from_bits(0x3f5a01a0_19fe5585); // 1.58730158725481460165e-03
const Q3: f64 = f64::from_bits(0xbf14ce19_9eaadbb7); // -7.93650757867487942473e-05
const Q4: f64 = f64::from_bits(0x3ed0cfca_86e65239); // 4.00821782732936239552e-06
const Q5: f64 = f64::from_bits(0xbe8afdb7_6e09c32d); // -2.01099218183624371326e-07

/// `libm::expm1` (`e^x - 1`) lane by lane.
///
/// Computed for all lanes where `|x| < 1.5 ln2` (libm's high word of `|x|`
/// below `0x3ff0a2b2`): libm's reductions by `k = 0` and `k = ±1` as one
/// (`hi = x - k ln2_hi`, `lo = k ln2_lo`, which for `k = 0` gives libm's
/// `x` and `c = 0`), and its three endings (`k` = 0, -1, 1) selected lane
/// by lane. Where `|x| < 2^-54` the result is `x`, as in libm. So all of
/// `(-ln 2, 0]` is on the vector path. The scalar function gives the rest
/// (`|k| >= 2`, whose scaling by `2^k` takes three more cases, and NaN and
/// infinities).
#[inline(always)]
pub fn exp_m1(x: Lanes) -> Lanes {
    let special = !high_below(x, 0x3ff0a2b2);
    let reduce = !high_below(x, 0x3fd62e43);
    let tiny = high_below(x, 0x3c900000);
    let k = Lanes::select(
        reduce,
        Lanes::from_fn(|l| 1.0f64.copysign(x.0[l])),
        Lanes::splat(0.0),
    );
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let c = (hi - r) - lo;
    let hfx = 0.5 * r;
    let hxs = r * hfx;
    let r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
    let t = 3.0 - r1 * hfx;
    let e = hxs * ((r1 - t) / (6.0 - r * t));
    // k = 0 (c is 0)
    let k0 = r - (r * e - hxs);
    let e = r * (e - c) - c;
    let e = e - hxs;
    // exp(x) ~ 2^k (x_reduced - e + 1)
    let k_minus = 0.5 * (r - e) - 0.5;
    let k_plus = Lanes::select(
        r.lt(Lanes::splat(-0.25)),
        -2.0 * (e - (r + 0.5)),
        1.0 + 2.0 * (r - e),
    );
    let y = Lanes::select(negative(x), k_minus, k_plus);
    let y = Lanes::select(reduce, y, k0);
    let y = Lanes::select(tiny, x, y);
    if special.any() {
        return scalar_lanes(libm::expm1, x, special, y);
    }
    y
}

// log
const LG1: f64 = f64::from_bits(0x3fe55555_55555593); // 6.666666666666735130e-01
const LG2: f64 = f64::from_bits(0x3fd99999_9997fa04); // 3.999999999940941908e-01
const LG3: f64 = f64::from_bits(0x3fd24924_94229359); // 2.857142874366239149e-01
const LG4: f64 = f64::from_bits(0x3fcc71c5_1d8e78af); // 2.222219843214978396e-01
const LG5: f64 = f64::from_bits(0x3fc74664_96cb03de); // 1.818357216161805012e-01
const LG6: f64 = f64::from_bits(0x3fc39a09_d078c69f); // 1.531383769920937332e-01
const LG7: f64 = f64::from_bits(0x3fc2f112_df3e5244); // 1.479819860511658591e-01

/// `libm::log` (natural logarithm) lane by lane.
///
/// Computed for all lanes where `x` is positive, normal and finite: libm's
/// reduction `x = 2^k (1 + f)` with `sqrt(2)/2 < 1 + f < sqrt(2)` in
/// integer operations on the bits, then its polynomial. At `x = 1` this
/// gives libm's `0` (`f = 0`, `k = 0`). The scalar function gives zero,
/// subnormals (which libm scales up first), negative numbers, infinity and
/// NaN.
#[inline(always)]
pub fn ln(x: Lanes) -> Lanes {
    let ui = to_bits(x);
    let special = Mask::from_fn(|l| {
        !(0x0010_0000_0000_0000..0x7ff0_0000_0000_0000).contains(&(ui[l] as i64))
    });
    // Reduce x into [sqrt(2)/2, sqrt(2)]: libm's `hx += 0x3ff00000 -
    // 0x3fe6a09e` in the high word of the bits.
    let hx: [u64; LANES] =
        std::array::from_fn(|l| ui[l].wrapping_add((0x3ff00000 - 0x3fe6a09e) << 32));
    // k + 0x3ff in the low bits of 2^52, then k exactly: (2^52 + k + 0x3ff)
    // - (2^52 + 0x3ff).
    let dk = from_bits(std::array::from_fn(|l| (hx[l] >> 52) | TWO52.to_bits())) - EXP_MAGIC;
    let m = from_bits(std::array::from_fn(|l| {
        (hx[l] & 0x000fffff_ffffffff) + (0x3fe6a09e << 32)
    }));

    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let y = s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
    if special.any() {
        return scalar_lanes(libm::log, x, special, y);
    }
    y
}

// erfc
const ERX: f64 = f64::from_bits(0x3feb0ac1_60000000); // 8.45062911510467529297e-01

// Coefficients for approximation to erf on [0,0.84375].
const PP0: f64 = f64::from_bits(0x3fc06eba_8214db68); // 1.28379167095512558561e-01
const PP1: f64 = f64::from_bits(0xbfd4cd7d_691cb913); // -3.25042107247001499370e-01
const PP2: f64 = f64::from_bits(0xbf9d2a51_dbd7194f); // -2.84817495755985104766e-02
const PP3: f64 = f64::from_bits(0xbf77a291_236668e4); // -5.77027029648944159157e-03
const PP4: f64 = f64::from_bits(0xbef8ead6_120016ac); // -2.37630166566501626084e-05
const QQ1: f64 = f64::from_bits(0x3fd97779_cddadc09); // 3.97917223959155352819e-01
const QQ2: f64 = f64::from_bits(0x3fb0a54c_5536ceba); // 6.50222499887672944485e-02
const QQ3: f64 = f64::from_bits(0x3f74d022_c4d36b0f); // 5.08130628187576562776e-03
const QQ4: f64 = f64::from_bits(0x3f215dc9_221c1a10); // 1.32494738004321644526e-04
const QQ5: f64 = f64::from_bits(0xbed09c43_42a26120); // -3.96022827877536812320e-06

// Coefficients for approximation to erf in [0.84375,1.25].
const PA0: f64 = f64::from_bits(0xbf6359b8_bef77538); // -2.36211856075265944077e-03
const PA1: f64 = f64::from_bits(0x3fda8d00_ad92b34d); // 4.14856118683748331666e-01
const PA2: f64 = f64::from_bits(0xbfd7d240_fbb8c3f1); // -3.72207876035701323847e-01
const PA3: f64 = f64::from_bits(0x3fd45fca_805120e4); // 3.18346619901161753674e-01
const PA4: f64 = f64::from_bits(0xbfbc6398_3d3e28ec); // -1.10894694282396677476e-01
const PA5: f64 = f64::from_bits(0x3fa22a36_599795eb); // 3.54783043256182359371e-02
const PA6: f64 = f64::from_bits(0xbf61bf38_0a96073f); // -2.16637559486879084300e-03
const QA1: f64 = f64::from_bits(0x3fbb3e66_18eee323); // 1.06420880400844228286e-01
const QA2: f64 = f64::from_bits(0x3fe14af0_92eb6f33); // 5.40397917702171048937e-01
const QA3: f64 = f64::from_bits(0x3fb2635c_d99fe9a7); // 7.18286544141962662868e-02
const QA4: f64 = f64::from_bits(0x3fc02660_e763351f); // 1.26171219808761642112e-01
const QA5: f64 = f64::from_bits(0x3f8bedc2_6b51dd1c); // 1.36370839120290507362e-02
const QA6: f64 = f64::from_bits(0x3f888b54_5735151d); // 1.19844998467991074170e-02

// Coefficients for approximation to erfc in [1.25,1/0.35].
const RA0: f64 = f64::from_bits(0xbf843412_600d6435); // -9.86494403484714822705e-03
const RA1: f64 = f64::from_bits(0xbfe63416_e4ba7360); // -6.93858572707181764372e-01
const RA2: f64 = f64::from_bits(0xc0251e04_41b0e726); // -1.05586262253232909814e+01
const RA3: f64 = f64::from_bits(0xc04f300a_e4cba38d); // -6.23753324503260060396e+01
const RA4: f64 = f64::from_bits(0xc0644cb1_84282266); // -1.62396669462573470355e+02
const RA5: f64 = f64::from_bits(0xc067135c_ebccabb2); // -1.84605092906711035994e+02
const RA6: f64 = f64::from_bits(0xc0545265_57e4d2f2); // -8.12874355063065934246e+01
const RA7: f64 = f64::from_bits(0xc023a0ef_c69ac25c); // -9.81432934416914548592e+00
const SA1: f64 = f64::from_bits(0x4033a6b9_bd707687); // 1.96512716674392571292e+01
const SA2: f64 = f64::from_bits(0x4061350c_526ae721); // 1.37657754143519042600e+02
const SA3: f64 = f64::from_bits(0x407b290d_d58a1a71); // 4.34565877475229228821e+02
const SA4: f64 = f64::from_bits(0x40842b19_21ec2868); // 6.45387271733267880336e+02
const SA5: f64 = f64::from_bits(0x407ad021_57700314); // 4.29008140027567833386e+02
const SA6: f64 = f64::from_bits(0x405b28a3_ee48ae2c); // 1.08635005541779435134e+02
const SA7: f64 = f64::from_bits(0x401a47ef_8e484a93); // 6.57024977031928170135e+00
const SA8: f64 = f64::from_bits(0xbfaeeff2_ee749a62); // -6.04244152148580987438e-02

// Coefficients for approximation to erfc in [1/.35,28].
const RB0: f64 = f64::from_bits(0xbf843412_39e86f4a); // -9.86494292470009928597e-03
const RB1: f64 = f64::from_bits(0xbfe993ba_70c285de); // -7.99283237680523006574e-01
const RB2: f64 = f64::from_bits(0xc031c209_555f995a); // -1.77579549177547519889e+01
const RB3: f64 = f64::from_bits(0xc064145d_43c5ed98); // -1.60636384855821916062e+02
const RB4: f64 = f64::from_bits(0xc083ec88_1375f228); // -6.37566443368389627722e+02
const RB5: f64 = f64::from_bits(0xc0900461_6a2e5992); // -1.02509513161107724954e+03
const RB6: f64 = f64::from_bits(0xc07e384e_9bdc383f); // -4.83519191608651397019e+02
const SB1: f64 = f64::from_bits(0x403e568b_261d5190); // 3.03380607434824582924e+01
const SB2: f64 = f64::from_bits(0x40745cae_221b9f0a); // 3.25792512996573918826e+02
const SB3: f64 = f64::from_bits(0x409802eb_189d5118); // 1.53672958608443695994e+03
const SB4: f64 = f64::from_bits(0x40a8ffb7_688c246a); // 3.19985821950859553908e+03
const SB5: f64 = f64::from_bits(0x40a3f219_cedf3be6); // 2.55305040643316442583e+03
const SB6: f64 = f64::from_bits(0x407da874_e79fe763); // 4.74528541206955367215e+02
const SB7: f64 = f64::from_bits(0xc03670e2_42712d62); // -2.24409524465858183362e+01

/// `libm::erfc` lane by lane.
///
/// Computed for all finite lanes. libm's four ranges of `|x|` (below
/// 0.84375, below 1.25, below 1/0.35, below 28) share two rational
/// functions whose coefficients are picked lane by lane: one for `|x| <
/// 1.25` (in `x^2` below 0.84375, in `|x| - 1` above) and one for
/// `1.25 <= |x| < 28` (in `1/x^2`, with the coefficients of either side of
/// 1/0.35), each computed only when some lane needs it. The shorter
/// polynomials are padded with zero coefficients, which leaves their bits
/// unchanged (`c + s * 0 = c` for finite `s` and nonzero `c`). libm's
/// exponentials are [`exp`]'s (whose own scalar fallback takes the
/// subnormal `exp(-x^2)` beyond 26.6). Each lane then keeps its range's
/// ending; `|x| >= 28` gives libm's constants. The scalar function gives
/// NaN and the infinities.
#[inline(always)]
pub fn erfc(x: Lanes) -> Lanes {
    let special = !high_below(x, 0x7ff00000);
    let neg = negative(x);
    let ax = from_bits(to_bits(x).map(|b| b & !SIGN));
    let small = high_below(x, 0x3feb0000); // |x| < 0.84375
    let below_125 = high_below(x, 0x3ff40000);
    let below_28 = high_below(x, 0x403c0000);

    // |x| < 1.25: erf(x) = x + x * (p/q)(x^2) below 0.84375,
    // erf(|x|) = erx + (p/q)(|x| - 1) above. Skipped when no lane is
    // there (then no lane keeps these values): the ages at which a
    // lifetime is read are in order, so most groups of lanes lie in one
    // range.
    let (erfc0, erfc1) = if below_125.any() {
        let s = Lanes::select(small, x * x, ax - 1.0);
        let c = |a: f64, b: f64| Lanes::select(small, Lanes::splat(a), Lanes::splat(b));
        let p = c(PP0, PA0)
            + s * (c(PP1, PA1)
                + s * (c(PP2, PA2)
                    + s * (c(PP3, PA3) + s * (c(PP4, PA4) + s * (c(0.0, PA5) + s * c(0.0, PA6))))));
        let q = 1.0
            + s * (c(QQ1, QA1)
                + s * (c(QQ2, QA2)
                    + s * (c(QQ3, QA3) + s * (c(QQ4, QA4) + s * (c(QQ5, QA5) + s * c(0.0, QA6))))));
        let y = p / q;
        let below_quarter = high_below(x, 0x3fd00000);
        let erfc0 = Lanes::select(
            neg | below_quarter,
            1.0 - (x + x * y),
            0.5 - (x - 0.5 + x * y),
        );
        let erfc0 = Lanes::select(high_below(x, 0x3c700000), 1.0 - x, erfc0);
        (erfc0, 1.0 - ERX - y)
    } else {
        (Lanes::splat(0.0), Lanes::splat(0.0))
    };

    // 1.25 <= |x| < 28: exp(-z*z - 0.5625) * exp((z - x)(z + x) + r/S) / x,
    // z being x with its low word cleared.
    let tail = !below_125 & below_28;
    let erfc2 = if tail.any() {
        // Other lanes at 2, within the tail and far from exp's limits.
        let ax = Lanes::select(tail, ax, Lanes::splat(2.0));
        let s = 1.0 / (ax * ax);
        let first = high_below(x, 0x4006db6d); // |x| < 1/0.35
        let c = |a: f64, b: f64| Lanes::select(first, Lanes::splat(a), Lanes::splat(b));
        let r = c(RA0, RB0)
            + s * (c(RA1, RB1)
                + s * (c(RA2, RB2)
                    + s * (c(RA3, RB3)
                        + s * (c(RA4, RB4)
                            + s * (c(RA5, RB5) + s * (c(RA6, RB6) + s * c(RA7, 0.0)))))));
        let big_s = 1.0
            + s * (c(SA1, SB1)
                + s * (c(SA2, SB2)
                    + s * (c(SA3, SB3)
                        + s * (c(SA4, SB4)
                            + s * (c(SA5, SB5)
                                + s * (c(SA6, SB6) + s * (c(SA7, SB7) + s * c(SA8, 0.0))))))));
        let z = from_bits(to_bits(ax).map(|b| b & 0xffffffff_00000000));
        let e1 = exp(Lanes::from_fn(|l| -z.0[l] * z.0[l] - 0.5625));
        let e2 = exp((z - ax) * (z + ax) + r / big_s);
        Lanes::select(below_125, erfc1, e1 * e2 / ax)
    } else {
        erfc1
    };
    // libm's `2 - erfc2` below 0.
    let erfc2 = Lanes::select(neg, 2.0 - erfc2, erfc2);

    // |x| >= 28
    let x1p_1022 = f64::from_bits(0x0010000000000000);
    let beyond = Lanes::select(
        neg,
        Lanes::splat(2.0 - x1p_1022),
        Lanes::splat(x1p_1022 * x1p_1022),
    );
    let y = Lanes::select(small, erfc0, Lanes::select(below_28, erfc2, beyond));
    if special.any() {
        return scalar_lanes(libm::erfc, x, special, y);
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[derive(Clone, Copy, Debug)]
    enum Fun {
        Exp,
        ExpM1,
        Ln,
        Erfc,
    }

    impl Fun {
        fn scalar(self, x: f64) -> f64 {
            match self {
                Fun::Exp => libm::exp(x),
                Fun::ExpM1 => libm::expm1(x),
                Fun::Ln => libm::log(x),
                Fun::Erfc => libm::erfc(x),
            }
        }

        fn lanes(self, x: Lanes) -> Lanes {
            match self {
                Fun::Exp => exp(x),
                Fun::ExpM1 => exp_m1(x),
                Fun::Ln => ln(x),
                Fun::Erfc => erfc(x),
            }
        }
    }

    crate::simd::dispatched! {
    /// `f` of each of `xs` into `ys`, compiled for AVX-512 and AVX2 too,
    /// as the engine's step loop is (a loop, not a closure, so that the
    /// functions are inlined into each version); the processor running the
    /// test picks the version, as it does for the engine.
    fn dispatched(f: Fun, xs: &[Lanes], ys: &mut [Lanes]) {
        for (x, y) in xs.iter().zip(ys) {
            *y = match f {
                Fun::Exp => exp(*x),
                Fun::ExpM1 => exp_m1(*x),
                Fun::Ln => ln(*x),
                Fun::Erfc => erfc(*x),
            };
        }
    }
    }

    /// Checks every lane of `f` against libm, LANES consecutive values of
    /// `xs` a call, on the baseline and on the dispatched (AVX-512 or AVX2) code.
    fn check(f: Fun, xs: &[f64]) {
        let lanes: Vec<Lanes> = xs
            .chunks(LANES)
            .map(|c| Lanes::from_fn(|l| c[l % c.len()]))
            .collect();
        let mut fast = vec![Lanes::splat(0.0); lanes.len()];
        dispatched(f, &lanes, &mut fast);
        for (x, fast) in lanes.iter().zip(fast) {
            let base = f.lanes(*x);
            for l in 0..LANES {
                let want = f.scalar(x.0[l]);
                for (code, got) in [("baseline", base.0[l]), ("dispatched", fast.0[l])] {
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "{f:?}({:e} = {:#018x}) on the {code} code: {got:e}, libm gives {want:e}, \
                         lanes {:?}",
                        x.0[l],
                        x.0[l].to_bits(),
                        x.0
                    );
                }
            }
        }
    }

    /// The number whose high word is `hw` and low word 0.
    fn high(hw: u32) -> f64 {
        f64::from_bits(u64::from(hw) << 32)
    }

    /// `n` inputs: any bits; magnitudes log-uniform between `2^lo` and
    /// `2^hi`, either sign; uniform in each of `ranges`; and within a few
    /// ulps to a relative 2^-8 of each of `edges` (and of their negatives).
    fn inputs(
        seed: u64,
        n: usize,
        (lo, hi): (f64, f64),
        ranges: &[(f64, f64)],
        edges: &[f64],
    ) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| match rng.random_range(0..8) {
                0 => f64::from_bits(rng.random()),
                1 | 2 => {
                    let m = rng.random_range(lo..hi).exp2();
                    if rng.random() {
                        -m
                    } else {
                        m
                    }
                }
                3 | 4 => {
                    let (a, b) = ranges[rng.random_range(0..ranges.len())];
                    rng.random_range(a..=b)
                }
                _ => {
                    let e = edges[rng.random_range(0..edges.len())];
                    let e = if rng.random() { -e } else { e };
                    let bits = rng.random_range(0..45);
                    let d = rng.random_range(0..=1i64 << bits);
                    let d = if rng.random() { -d } else { d };
                    f64::from_bits(e.to_bits().wrapping_add_signed(d))
                }
            })
            .collect()
    }

    /// Signed zeros, subnormals, the extremes of the normal numbers,
    /// infinities, NaNs and 1, each in every lane beside ordinary numbers,
    /// then side by side.
    fn special_values(f: Fun, more: &[f64]) {
        let mut values = vec![
            0.0,
            5e-324,
            f64::from_bits(0x000f_ffff_ffff_ffff),
            2.2e-310,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001),
            f64::from_bits(0x7ff8_dead_beef_0001),
            1.0,
        ];
        values.extend_from_slice(more);
        let values: Vec<f64> = values.iter().flat_map(|&v| [v, -v]).collect();
        let mut xs = Vec::new();
        for &v in &values {
            for lane in 0..LANES {
                xs.extend((0..LANES).map(|l| if l == lane { v } else { 0.3 + l as f64 }));
            }
        }
        xs.extend_from_slice(&values);
        check(f, &xs);
    }

    /// For `1 <= |t| < 2^31`, integers and halves give and take a few ulps.
    #[test]
    fn trunc_is_the_integer_conversion() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for _ in 0..100_000 {
            let t = Lanes::from_fn(|_| {
                let top: i64 = if rng.random() { 1100 } else { 1 << 31 };
                let n = rng.random_range(1..top) as f64;
                let t = n + [0.0, 0.5, -0.5][rng.random_range(0..3)];
                let t = f64::from_bits(t.to_bits().wrapping_add_signed(rng.random_range(-3..=3)));
                let t = t.max(1.0);
                if rng.random() {
                    -t
                } else {
                    t
                }
            });
            let want = t.map(|t| (t as i32) as f64);
            for l in 0..LANES {
                assert_eq!(trunc(t).0[l].to_bits(), want.0[l].to_bits(), "{:?}", t.0);
            }
        }
    }

    const N: usize = 400_000;
    const HALF_LN2: f64 = 0.5 * std::f64::consts::LN_2;

    #[test]
    fn exp_is_libm_exp() {
        let mut edges = vec![
            high(0x4086232b),
            high(0x3fd62e42),
            high(0x3fd62e43),
            high(0x3ff0a2b2),
            high(0x3e300000),
            high(0x3e300001),
            HALF_LN2,
            3.0 * HALF_LN2,
            709.782_712_893_384,
            708.396_418_532_264_1,
            745.133_219_101_941_1,
            1e-300,
        ];
        // Where k changes: x / ln2 = n + 1/2.
        edges.extend((-1023..=1024).map(|n| (f64::from(n) + 0.5) * std::f64::consts::LN_2));
        let ranges = [
            (-30.0, 0.0),
            (-1.0, 1.0),
            (-3.0 * HALF_LN2, 3.0 * HALF_LN2),
            (-745.2, -700.0),
            (700.0, 709.8),
            (-710.0, 710.0),
        ];
        check(Fun::Exp, &inputs(1, N, (-40.0, 10.0), &ranges, &edges));
        special_values(
            Fun::Exp,
            &[
                708.4, 709.78, 709.79, 710.0, 720.0, 740.0, 745.1, 745.14, 745.2, 800.0, 1e-20,
            ],
        );
    }

    #[test]
    fn exp_m1_is_libm_expm1() {
        let edges = [
            high(0x3c900000),
            high(0x3fd62e42),
            high(0x3fd62e43),
            high(0x3ff0a2b2),
            high(0x4043687a),
            HALF_LN2,
            3.0 * HALF_LN2,
            std::f64::consts::LN_2,
            std::f64::consts::LN_2 - 0.25,
            709.782_712_893_384,
        ];
        let ranges = [
            (-std::f64::consts::LN_2, 0.0),
            (-HALF_LN2, 0.0),
            (-1.1, 1.1),
            (-50.0, 50.0),
        ];
        check(Fun::ExpM1, &inputs(2, N, (-60.0, 10.0), &ranges, &edges));
        special_values(Fun::ExpM1, &[1e-17, 1e-16, 38.9, 40.0, 709.8, 710.0]);
    }

    #[test]
    fn ln_is_libm_log() {
        let edges = [
            1.0,
            std::f64::consts::FRAC_1_SQRT_2,
            std::f64::consts::SQRT_2,
            f64::MIN_POSITIVE,
            f64::MAX,
            2.0,
            0.5,
            0.01,
            1e300,
        ];
        let ranges = [(0.01, 1.0), (0.5, 2.0), (0.0, 1e6)];
        check(Fun::Ln, &inputs(3, N, (-1074.0, 1024.0), &ranges, &edges));
        check(Fun::Ln, &inputs(4, N / 4, (-10.0, 10.0), &ranges, &edges));
        special_values(
            Fun::Ln,
            &[2.0, 0.5, 1.0 + f64::EPSILON, 1.0 - f64::EPSILON / 2.0],
        );
    }

    #[test]
    fn erfc_is_libm_erfc() {
        let edges = [
            high(0x3c700000),
            high(0x3fd00000),
            high(0x3feb0000),
            high(0x3ff40000),
            high(0x4006db6d),
            high(0x403c0000),
            0.84375,
            1.25,
            1.0 / 0.35,
            28.0,
            6.0,
            26.6,
            27.3,
        ];
        let ranges = [
            (0.0, 6.0),
            (0.0, 28.0),
            (-6.0, 6.0),
            (-28.5, 28.5),
            (0.84, 1.26),
            (26.0, 28.0),
        ];
        check(Fun::Erfc, &inputs(5, N, (-60.0, 6.0), &ranges, &edges));
        special_values(
            Fun::Erfc,
            &[
                1e-17,
                0.25,
                0.84375,
                1.25,
                1.0 / 0.35,
                6.0,
                27.0,
                28.0,
                30.0,
                1e300,
            ],
        );
    }
}
