//! The f64 kernels. The method and the accuracy table are in the parent module.
//!
//! Every function is straight-line code: branches are `if`s between two
//! already computed values, which compile to compare-and-blend, so a loop over a
//! slice vectorises. Clamping with `if x < lo { lo } else { x }` (rather than
//! `f64::max`) keeps a NaN input flowing through to a NaN result.

/// The sign bit.
const SIGN: u64 = 1 << 63;
/// ln 2 split into a high part whose low 21 significand bits are zero, so that
/// `k · LN2_HI` is exact for `|k| < 2^21`, and the rest (fdlibm's split).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5 · 2^52: `(x + ROUND) - ROUND` rounds `|x| < 2^51` to an integer (ties to
/// even), and the sum holds that integer in its low significand bits.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// `ROUND` plus the exponent bias 1023, for [`pow2`].
const ROUND_BIASED: f64 = ROUND + 1023.0;

/// `e^r − 1 = r + r²·S(r)`: minimax fits of `S` (Remez exchange in mpmath,
/// relative error weight). `NARROW` serves `|r| ≤ ln 2/2` with relative error
/// below 2^-58.3, `WIDE` serves `|r| ≤ ln 2` with relative error below 2^-58.1.
const EXPM1_NARROW: [f64; 11] = [
    0.5,
    0.166_666_666_666_666_7,
    0.041_666_666_666_666_616,
    0.008_333_333_333_326_14,
    0.001_388_888_888_891_807_2,
    0.000_198_412_698_748_212_4,
    2.480_158_724_557_834_6e-5,
    2.755_725_538_674_195_3e-6,
    2.755_734_967_712_877_7e-7,
    2.510_522_671_446_335e-8,
    2.088_938_752_130_291_6e-9,
];
const EXPM1_WIDE: [f64; 13] = [
    0.5,
    0.166_666_666_666_666_63,
    0.041_666_666_666_666_71,
    0.008_333_333_333_335_063,
    0.001_388_888_888_887_907,
    0.000_198_412_698_383_797_5,
    2.480_158_730_946_974_6e-5,
    2.755_732_129_190_141e-6,
    2.755_731_662_465_322e-7,
    2.505_138_987_091_418_6e-8,
    2.087_702_823_401_992_3e-9,
    1.617_873_626_167_194e-10,
    1.149_556_288_925_271_5e-11,
];

/// fdlibm's `log1p` coefficients (`Lg1`..`Lg7`, Sun Microsystems 1993):
/// `ln((1+s)/(1−s)) = 2s + 2s/3·s² + s·R(s²)` with `R(z) = Σ LG[i]·z^(i+1)`,
/// `|error| < 2^-58.45` for `|s| ≤ 0.1716`.
const LG: [f64; 7] = [
    f64::from_bits(0x3fe5_5555_5555_5593),
    f64::from_bits(0x3fd9_9999_9997_fa04),
    f64::from_bits(0x3fd2_4924_9422_9359),
    f64::from_bits(0x3fcc_71c5_1d8e_78af),
    f64::from_bits(0x3fc7_4664_96cb_03de),
    f64::from_bits(0x3fc3_9a09_d078_c69f),
    f64::from_bits(0x3fc2_f112_df3e_5244),
];

/// `erf(t) = t + t·P(t²)` for `|t| < 1`: a weighted minimax polynomial fitted
/// with mpmath's Remez exchange; relative error of `1 + P` below 2^-56.9.
const ERF_SMALL: [f64; 12] = [
    0.128_379_167_095_512_56,
    -0.376_126_389_031_835_2,
    0.112_837_916_709_441_85,
    -0.026_866_170_643_111_47,
    0.005_223_977_606_118_483,
    -0.000_854_832_592_931_508_6,
    0.000_120_552_935_769_223_6,
    -1.492_471_230_249_454_7e-5,
    1.644_713_157_798_695_4e-6,
    -1.620_631_381_472_967e-7,
    1.371_098_065_963_082_2e-8,
    -7.779_469_007_200_023e-10,
];

/// `erfc(t) = e^(−t²) · G(1/(t + 3) − ERFC_CENTRE)` for `1 ≤ t < 5.95`: a
/// minimax fit of `G` weighted by `e^(−t²)`, so the absolute error of `erfc`
/// is below 2^-59.4 (what `erf = 1 − erfc` needs near 1).
const ERFC_BIG: [f64; 15] = [
    0.208_674_167_509_565_36,
    2.229_208_832_266_053_7,
    10.340_876_990_209_491,
    38.093_801_094_521_26,
    106.924_867_231_040_4,
    205.644_005_915_332,
    173.751_525_839_492_64,
    -313.965_117_798_573_1,
    -1_024.138_388_337_849_8,
    134.016_397_521_255_7,
    4_351.979_847_174_882,
    1_380.166_217_153_917_2,
    -20_443.920_793_041_02,
    -6_482.304_399_933_201,
    98_770.504_695_826_15,
];
/// The centre of `1/(t + 3)` over `[1, 5.95]`, as rounded in the fit.
const ERFC_CENTRE: f64 = 0.180_865_921_787_709_5;

/// `c[0] + c[1]·x + … + c[N−1]·x^(N−1)` for `N ≥ 3`: Horner's rule for the
/// two lowest terms (which carry most of the value, so their rounding is what
/// the result sees) over `c[2] + c[3]·x + …` evaluated as
/// `Σ (q[2j] + q[2j+1]·x²)·x^(4j)` with `q[i] = c[2+2i] + c[3+2i]·x`. The same
/// work as Horner's rule throughout, but a dependency chain about half as long,
/// which is what limits the vectorised loops. (`N` is a constant: the branches
/// fold and the loop unrolls.)
#[inline(always)]
fn poly<const N: usize>(x: f64, c: &[f64; N]) -> f64 {
    const LOW: usize = 2;
    let x2 = x * x;
    let pair = |i: usize| {
        let k = LOW + 2 * i;
        if k + 1 < N { c[k] + c[k + 1] * x } else { c[k] }
    };
    let quad = |j: usize| if LOW + 4 * j + 2 < N { pair(2 * j) + pair(2 * j + 1) * x2 } else { pair(2 * j) };
    let quads = (N - LOW).div_ceil(4);
    let x4 = x2 * x2;
    let high = (0..quads - 1).rev().fold(quad(quads - 1), |acc, j| acc * x4 + quad(j));
    c[0] + x * (c[1] + x * high)
}

/// `|x|`, as a bit operation (vectorises to a mask).
#[inline(always)]
fn abs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & !SIGN)
}

/// `magnitude` with the sign of `sign` (`magnitude` must be non-negative or NaN).
#[inline(always)]
fn with_sign_of(magnitude: f64, sign: f64) -> f64 {
    f64::from_bits(magnitude.to_bits() | (sign.to_bits() & SIGN))
}

/// `x` clamped to `[lo, hi]`; a NaN stays NaN.
#[inline(always)]
fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    let x = if x < lo { lo } else { x };
    if x > hi { hi } else { x }
}

/// `x` rounded to an integer (ties to even), for `|x| < 2^51`.
#[inline(always)]
fn round(x: f64) -> f64 {
    (x + ROUND) - ROUND
}

/// `2^k` for an integer-valued `k` in `[−1022, 1023]`, built from its bits.
#[inline(always)]
fn pow2(k: f64) -> f64 {
    f64::from_bits((k + ROUND_BIASED).to_bits() << 52)
}

/// `v · 2^k` for an integer-valued `k` in `[−2044, 2046]`, rounded once: the
/// first factor `2^⌊k/2⌉` is exact for the `v` used here, the second rounds
/// into the subnormals or overflows to infinity where the result does.
#[inline(always)]
fn scale(v: f64, k: f64) -> f64 {
    let half = round(k * 0.5);
    v * pow2(half) * pow2(k - half)
}

/// `x = k·ln 2 + r` with `k` an integer and `|r| ≤ ln 2 / 2` (a hair more where
/// `x / ln 2` rounds to the other integer).
#[inline(always)]
fn reduce(x: f64) -> (f64, f64) {
    let k = round(x * core::f64::consts::LOG2_E);
    (k, (x - k * LN2_HI) - k * LN2_LO)
}

/// Like [`reduce`], but `k = 0` whenever `|x| < ln 2`, so that `r` lies in
/// `(−ln 2, ln 2)` and `k = ±1` only comes with `r` of the same sign as `k`:
/// `2^k·e^r − 1` then never cancels.
#[inline(always)]
fn reduce_wide(x: f64) -> (f64, f64) {
    let k = if abs(x) < core::f64::consts::LN_2 { 0.0 } else { round(x * core::f64::consts::LOG2_E) };
    (k, (x - k * LN2_HI) - k * LN2_LO)
}

/// `e^r − 1` for `|r| ≤ ln 2/2`; the small correction `r²·S(r)` carries all
/// the rounding error, so the sum is within about half an ulp.
#[inline(always)]
fn expm1_narrow(r: f64) -> f64 {
    r + (r * r) * poly(r, &EXPM1_NARROW)
}

/// `e^r − 1` for `|r| ≤ ln 2`.
#[inline(always)]
fn expm1_wide(r: f64) -> f64 {
    r + (r * r) * poly(r, &EXPM1_WIDE)
}

/// `e^x`, also for subnormal results; `+∞` above `ln(f64::MAX)`, `0` below −745.14.
#[inline(always)]
pub(crate) fn exp(x: f64) -> f64 {
    let (k, r) = reduce(clamp(x, -746.0, 710.0));
    scale(1.0 + expm1_narrow(r), k)
}

/// `2^k·(e^r − 1) + (2^k − 1)` for the output of [`reduce_wide`] with `k ≤ 1023`:
/// `e^x − 1`, with no cancellation (see [`reduce_wide`]).
#[inline(always)]
fn expm1_reduced(k: f64, r: f64) -> f64 {
    let s = pow2(k);
    s * expm1_wide(r) - (1.0 - s)
}

/// `e^x − 1`, accurate near 0; `−1` below −40 (where that is the rounded result).
#[inline(always)]
pub(crate) fn expm1(x: f64) -> f64 {
    let (k, r) = reduce_wide(clamp(x, -40.0, 710.0));
    // 2^1024 is not an f64: for k = 1024 compute 2^1023·e^r − 1 and double it
    // (off by 1 in a result near f64::MAX, far below its ulp).
    let k_low = if k > 1023.0 { 1023.0 } else { k };
    let e = expm1_reduced(k_low, r) * pow2(k - k_low);
    // expm1(±0) = ±0 (the sum above gives +0 for both).
    if x == 0.0 { x } else { e }
}

/// `tanh(x)`, odd (`tanh(−x) = −tanh(x)`, also for `±0`), exactly `±1` from
/// `|x| ≈ 19.06` on.
#[inline(always)]
pub(crate) fn tanh(x: f64) -> f64 {
    // tanh|x| = E/(E + 2) with E = e^(2|x|) − 1, accurate for every |x|.
    let y = abs(x) + abs(x);
    let (k, r) = reduce_wide(if y > 40.0 { 40.0 } else { y });
    let e = expm1_reduced(k, r);
    with_sign_of(e / (e + 2.0), x)
}

/// The logistic function `1/(1 + e^(−x))`, evaluated as `e^x/(1 + e^x)` for
/// negative `x`, which keeps subnormal results (`x` in `(−745.2, −708.4)`).
#[inline(always)]
pub(crate) fn sigmoid(x: f64) -> f64 {
    let e = exp(-abs(x));
    let numerator = if x < 0.0 { e } else { 1.0 };
    numerator / (1.0 + e)
}

/// `ln(1 + u)` for `u` in `[0, 1]` or NaN (fdlibm's `log1p` method, straight-line).
#[inline(always)]
fn log1p_unit(u: f64) -> f64 {
    let sum = 1.0 + u;
    // `sum` is rounded; ln(1 + u) = ln(sum) + ln(1 + c/sum) with c the rounding error.
    let correction = (u - (sum - 1.0)) / sum;
    let big = sum > core::f64::consts::SQRT_2;
    let m = if big { sum * 0.5 } else { sum };
    let k = if big { 1.0 } else { 0.0 };
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * poly(z, &LG);
    let half_f_squared = 0.5 * f * f;
    k * LN2_HI - ((half_f_squared - (s * (half_f_squared + r) + (k * LN2_LO + correction))) - f)
}

/// `ln(1 + e^x)`, evaluated as `max(x, 0) + ln(1 + e^(−|x|))` so that it is
/// accurate and finite for every finite `x`.
#[inline(always)]
pub(crate) fn log1p_exp(x: f64) -> f64 {
    let positive = if x > 0.0 { x } else { 0.0 };
    positive + log1p_unit(exp(-abs(x)))
}

/// `erf(t)`, given `gauss ≈ e^(−t²)` (relative error up to `t²·2^−52` is
/// harmless: it only enters where `erfc(t)·t² < 0.16`).
#[inline(always)]
pub(crate) fn erf_with_gauss(t: f64, gauss: f64) -> f64 {
    let a = abs(t);
    let small = a + a * poly(a * a, &ERF_SMALL);
    let big = 1.0 - gauss * poly(1.0 / (a + 3.0) - ERFC_CENTRE, &ERFC_BIG);
    // Ordered so that a NaN falls through to `small`, which is NaN.
    let magnitude = if a >= 5.95 {
        1.0
    } else if a >= 1.0 {
        big
    } else {
        small
    };
    with_sign_of(magnitude, t)
}

/// The error function.
#[inline(always)]
pub(crate) fn erf(t: f64) -> f64 {
    erf_with_gauss(t, exp(-(t * t)))
}
