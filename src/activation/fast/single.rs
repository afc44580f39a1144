//! The f32 kernels, computed in f32 (four or more lanes per vector). They
//! mirror the f64 ones in `double.rs` with shorter approximations; the method
//! and the accuracy table are in the parent module.

/// The sign bit.
const SIGN: u32 = 1 << 31;
/// ln 2 split as in musl's `expf`: `LN2_HI` has 15 significant bits, so
/// `k · LN2_HI` is exact for `|k| < 512`; `LN2_LO` is positive, so that the
/// reduction keeps the sign of a zero.
const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
/// 1.5 · 2^23: `(x + ROUND) - ROUND` rounds `|x| < 2^22` to an integer.
const ROUND: f32 = 12_582_912.0;
/// `ROUND` plus the exponent bias 127, for [`pow2`].
const ROUND_BIASED: f32 = ROUND + 127.0;

/// `e^r − 1 = r + r²·S(r)` (minimax fits as in `double.rs`): `NARROW` for
/// `|r| ≤ ln 2/2` (relative error of `S` below 2^-28.4), `WIDE` for `|r| ≤ ln 2`
/// (below 2^-27.1).
const EXPM1_NARROW: [f32; 6] = [0.5, 0.166_666_67, 0.041_666_467, 0.008_333_361, 0.001_393_364_3, 0.000_198_578_17];
const EXPM1_WIDE: [f32; 7] =
    [0.5, 0.166_666_7, 0.041_666_65, 0.008_332_777, 0.001_388_945, 0.000_200_736_58, 2.487_854_5e-5];

/// musl's `log1pf` coefficients (`Lg1`..`Lg4`, from fdlibm's `e_logf.c`).
const LG: [f32; 4] = [
    f32::from_bits(0x3f2a_aaaa),
    f32::from_bits(0x3ecc_ce13),
    f32::from_bits(0x3e91_e9ee),
    f32::from_bits(0x3e78_9e26),
];

/// `erf(t) = t + t·P(t²)` for `|t| < 1` (Remez fit, relative error of `1 + P`
/// below 2^-29.6 before rounding the coefficients).
const ERF_SMALL: [f32; 7] =
    [0.128_379_17, -0.376_126_26, 0.112_835_85, -0.026_853_811, 0.005_188_327_7, -0.000_801_019_4, 7.853_861e-5];

/// `erfc(t) = e^(−t²) · G(1/(t + 2) − 1/4)` for `1 ≤ t < 4`, weighted minimax
/// (absolute error of `erfc` below 2^-29.6).
const ERFC_BIG: [f32; 6] = [0.255_395_68, 1.708_741_8, 3.866_563_3, 5.055_74, 0.931_027_4, -7.229_597_6];

/// `c[0] + c[1]·x + … + c[N−1]·x^(N−1)` for `N ≥ 3`: Horner's rule for the
/// two lowest terms (which carry most of the value, so their rounding is what
/// the result sees) over `c[2] + c[3]·x + …` evaluated as
/// `Σ (q[2j] + q[2j+1]·x²)·x^(4j)` with `q[i] = c[2+2i] + c[3+2i]·x`. The same
/// work as Horner's rule throughout, but a dependency chain about half as long,
/// which is what limits the vectorised loops. (`N` is a constant: the branches
/// fold and the loop unrolls.)
#[inline(always)]
fn poly<const N: usize>(x: f32, c: &[f32; N]) -> f32 {
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

/// `|x|`, as a bit operation.
#[inline(always)]
fn abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & !SIGN)
}

/// `magnitude` with the sign of `sign` (`magnitude` non-negative or NaN).
#[inline(always)]
fn with_sign_of(magnitude: f32, sign: f32) -> f32 {
    f32::from_bits(magnitude.to_bits() | (sign.to_bits() & SIGN))
}

/// `x` clamped to `[lo, hi]`; a NaN stays NaN.
#[inline(always)]
fn clamp(x: f32, lo: f32, hi: f32) -> f32 {
    let x = if x < lo { lo } else { x };
    if x > hi { hi } else { x }
}

/// `x` rounded to an integer (ties to even), for `|x| < 2^22`.
#[inline(always)]
fn round(x: f32) -> f32 {
    (x + ROUND) - ROUND
}

/// `2^k` for an integer-valued `k` in `[−126, 127]`.
#[inline(always)]
fn pow2(k: f32) -> f32 {
    f32::from_bits((k + ROUND_BIASED).to_bits() << 23)
}

/// `v · 2^k` for an integer-valued `k` in `[−252, 254]`, rounded once.
#[inline(always)]
fn scale(v: f32, k: f32) -> f32 {
    let half = round(k * 0.5);
    v * pow2(half) * pow2(k - half)
}

/// `x = k·ln 2 + r`, `|r| ≤ ln 2 / 2`.
#[inline(always)]
fn reduce(x: f32) -> (f32, f32) {
    let k = round(x * core::f32::consts::LOG2_E);
    (k, (x - k * LN2_HI) - k * LN2_LO)
}

/// Like [`reduce`], but `k = 0` whenever `|x| < ln 2` (see `double.rs`).
#[inline(always)]
fn reduce_wide(x: f32) -> (f32, f32) {
    let k = if abs(x) < core::f32::consts::LN_2 { 0.0 } else { round(x * core::f32::consts::LOG2_E) };
    (k, (x - k * LN2_HI) - k * LN2_LO)
}

/// `e^r − 1` for `|r| ≤ ln 2/2`.
#[inline(always)]
fn expm1_narrow(r: f32) -> f32 {
    r + (r * r) * poly(r, &EXPM1_NARROW)
}

/// `e^r − 1` for `|r| ≤ ln 2`.
#[inline(always)]
fn expm1_wide(r: f32) -> f32 {
    r + (r * r) * poly(r, &EXPM1_WIDE)
}

/// `e^x`, also for subnormal results; `+∞` above `ln(f32::MAX)`.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let (k, r) = reduce(clamp(x, -104.0, 89.0));
    scale(1.0 + expm1_narrow(r), k)
}

/// `2^k·(e^r − 1) + (2^k − 1)` for the output of [`reduce_wide`], `k ≤ 127`.
#[inline(always)]
fn expm1_reduced(k: f32, r: f32) -> f32 {
    let s = pow2(k);
    s * expm1_wide(r) - (1.0 - s)
}

/// `e^x − 1`, accurate near 0.
#[inline(always)]
pub(crate) fn expm1(x: f32) -> f32 {
    let (k, r) = reduce_wide(clamp(x, -18.0, 89.0));
    let k_low = if k > 127.0 { 127.0 } else { k };
    let e = expm1_reduced(k_low, r) * pow2(k - k_low);
    // expm1(±0) = ±0 (the sum above gives +0 for both).
    if x == 0.0 { x } else { e }
}

/// `tanh(x)`, odd, exactly `±1` from `|x| ≈ 9.01` on.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let y = abs(x) + abs(x);
    let (k, r) = reduce_wide(if y > 20.0 { 20.0 } else { y });
    let e = expm1_reduced(k, r);
    with_sign_of(e / (e + 2.0), x)
}

/// `1/(1 + e^(−x))`, as `e^x/(1 + e^x)` for negative `x`.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    let e = exp(-abs(x));
    let numerator = if x < 0.0 { e } else { 1.0 };
    numerator / (1.0 + e)
}

/// `ln(1 + u)` for `u` in `[0, 1]` or NaN.
#[inline(always)]
fn log1p_unit(u: f32) -> f32 {
    let sum = 1.0 + u;
    let correction = (u - (sum - 1.0)) / sum;
    let big = sum > core::f32::consts::SQRT_2;
    let m = if big { sum * 0.5 } else { sum };
    let k = if big { 1.0 } else { 0.0 };
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * poly(z, &LG);
    let half_f_squared = 0.5 * f * f;
    k * LN2_HI - ((half_f_squared - (s * (half_f_squared + r) + (k * LN2_LO + correction))) - f)
}

/// `ln(1 + e^x) = max(x, 0) + ln(1 + e^(−|x|))`.
#[inline(always)]
pub(crate) fn log1p_exp(x: f32) -> f32 {
    let positive = if x > 0.0 { x } else { 0.0 };
    positive + log1p_unit(exp(-abs(x)))
}

/// `erf(t)` given `gauss ≈ e^(−t²)`.
#[inline(always)]
pub(crate) fn erf_with_gauss(t: f32, gauss: f32) -> f32 {
    let a = abs(t);
    let small = a + a * poly(a * a, &ERF_SMALL);
    let big = 1.0 - gauss * poly(1.0 / (a + 2.0) - 0.25, &ERFC_BIG);
    let magnitude = if a >= 4.0 {
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
pub(crate) fn erf(t: f32) -> f32 {
    erf_with_gauss(t, exp(-(t * t)))
}
