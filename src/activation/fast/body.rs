// The algorithms shared by `double.rs` and `single.rs`: each file defines
// `F` (the float), `U` (its bits), `consts` (its `core::fN::consts`), the
// polynomial coefficients and the range constants (MANTISSA_BITS, EXP_LO,
// EXP_HI, EXPM1_LO, MAX_EXPONENT, TANH_CLAMP, ERFC_SHIFT, ERFC_CENTRE,
// ERF_ONE_FROM), then includes this file: one implementation, two precisions.

/// `c[0] + c[1]·x + … + c[N−1]·x^(N−1)` for `N ≥ 3`: Horner's rule for the
/// two lowest terms (which carry most of the value, so their rounding is what
/// the result sees) over `c[2] + c[3]·x + …` evaluated as
/// `Σ (q[2j] + q[2j+1]·x²)·x^(4j)` with `q[i] = c[2+2i] + c[3+2i]·x`. The same
/// work as Horner's rule throughout, but a dependency chain about half as long,
/// which is what limits the vectorised loops. (`N` is a constant: the branches
/// fold and the loop unrolls.)
#[inline(always)]
fn poly<const N: usize>(x: F, c: &[F; N]) -> F {
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
fn abs(x: F) -> F {
    F::from_bits(x.to_bits() & !SIGN)
}

/// `magnitude` with the sign of `sign` (`magnitude` must be non-negative or NaN).
#[inline(always)]
fn with_sign_of(magnitude: F, sign: F) -> F {
    F::from_bits(magnitude.to_bits() | (sign.to_bits() & SIGN))
}

/// `x` clamped to `[lo, hi]`; a NaN stays NaN.
#[inline(always)]
fn clamp(x: F, lo: F, hi: F) -> F {
    let x = if x < lo { lo } else { x };
    if x > hi { hi } else { x }
}

/// `x` rounded to an integer (ties to even), for `|x| < 2^(MANTISSA_BITS - 1)`.
#[inline(always)]
fn round(x: F) -> F {
    (x + ROUND) - ROUND
}

/// `2^k` for an integer-valued `k` in `[−1022, 1023]`, built from its bits.
#[inline(always)]
fn pow2(k: F) -> F {
    F::from_bits((k + ROUND_BIASED).to_bits() << MANTISSA_BITS)
}

/// `v · 2^k` for an integer-valued `k` in `[−2044, 2046]`, rounded once: the
/// first factor `2^⌊k/2⌉` is exact for the `v` used here, the second rounds
/// into the subnormals or overflows to infinity where the result does.
#[inline(always)]
fn scale(v: F, k: F) -> F {
    let half = round(k * 0.5);
    v * pow2(half) * pow2(k - half)
}

/// `x = k·ln 2 + r` with `k` an integer and `|r| ≤ ln 2 / 2` (a hair more where
/// `x / ln 2` rounds to the other integer).
#[inline(always)]
fn reduce(x: F) -> (F, F) {
    let k = round(x * consts::LOG2_E);
    (k, (x - k * LN2_HI) - k * LN2_LO)
}

/// Like [`reduce`], but `k = 0` whenever `|x| < ln 2`, so that `r` lies in
/// `(−ln 2, ln 2)` and `k = ±1` only comes with `r` of the same sign as `k`:
/// `2^k·e^r − 1` then never cancels.
#[inline(always)]
fn reduce_wide(x: F) -> (F, F) {
    let k = if abs(x) < consts::LN_2 { 0.0 } else { round(x * consts::LOG2_E) };
    (k, (x - k * LN2_HI) - k * LN2_LO)
}

/// `e^r − 1` for `|r| ≤ ln 2/2`; the small correction `r²·S(r)` carries all
/// the rounding error, so the sum is within about half an ulp.
#[inline(always)]
fn expm1_narrow(r: F) -> F {
    r + (r * r) * poly(r, &EXPM1_NARROW)
}

/// `e^r − 1` for `|r| ≤ ln 2`.
#[inline(always)]
fn expm1_wide(r: F) -> F {
    r + (r * r) * poly(r, &EXPM1_WIDE)
}

/// `e^x`, also for subnormal results; `+∞` above `ln(F::MAX)`, `0` below −745.14.
#[inline(always)]
pub(crate) fn exp(x: F) -> F {
    let (k, r) = reduce(clamp(x, EXP_LO, EXP_HI));
    scale(1.0 + expm1_narrow(r), k)
}

/// `2^k·(e^r − 1) + (2^k − 1)` for the output of [`reduce_wide`] with `k ≤ 1023`:
/// `e^x − 1`, with no cancellation (see [`reduce_wide`]).
#[inline(always)]
fn expm1_reduced(k: F, r: F) -> F {
    let s = pow2(k);
    s * expm1_wide(r) - (1.0 - s)
}

/// `e^x − 1`, accurate near 0; `−1` below −40 (where that is the rounded result).
#[inline(always)]
pub(crate) fn expm1(x: F) -> F {
    let (k, r) = reduce_wide(clamp(x, EXPM1_LO, EXP_HI));
    // 2^1024 is not an F: for k = 1024 compute 2^1023·e^r − 1 and double it
    // (off by 1 in a result near F::MAX, far below its ulp).
    let k_low = if k > MAX_EXPONENT { MAX_EXPONENT } else { k };
    let e = expm1_reduced(k_low, r) * pow2(k - k_low);
    // expm1(±0) = ±0 (the sum above gives +0 for both).
    if x == 0.0 { x } else { e }
}

/// `tanh(x)`, odd (`tanh(−x) = −tanh(x)`, also for `±0`), exactly `±1` from
/// `|x| ≈ 19.06` on.
#[inline(always)]
pub(crate) fn tanh(x: F) -> F {
    // tanh|x| = E/(E + 2) with E = e^(2|x|) − 1, accurate for every |x|.
    let (k, r) = tanh_k_r(x);
    let e = expm1_reduced(k, r);
    with_sign_of(e / (e + 2.0), x)
}

/// [`tanh`] in three stages, for loops that run each stage over a block of
/// elements before the next (shorter dependency chains, so that more elements
/// are in flight): with `(r, s) = tanh_reduce(x)`,
/// `tanh(x) = tanh_finish(tanh_poly(r), s, x)`, the same operations as
/// [`tanh`].
#[inline(always)]
pub(crate) fn tanh_reduce(x: F) -> (F, F) {
    let (k, r) = tanh_k_r(x);
    (r, pow2(k))
}

/// `k` and `r` of `2|x| = k·ln 2 + r` (clamped), as [`tanh`] reduces.
#[inline(always)]
fn tanh_k_r(x: F) -> (F, F) {
    let y = abs(x) + abs(x);
    reduce_wide(if y > TANH_CLAMP { TANH_CLAMP } else { y })
}

/// The second stage of [`tanh_reduce`]: `e^r − 1`.
#[inline(always)]
pub(crate) fn tanh_poly(r: F) -> F {
    expm1_wide(r)
}

/// The last stage of [`tanh_reduce`]: `tanh(x)` from `p = tanh_poly(r)` and
/// `s = 2^k` (see [`expm1_reduced`]).
#[inline(always)]
pub(crate) fn tanh_finish(p: F, s: F, x: F) -> F {
    let e = s * p - (1.0 - s);
    with_sign_of(e / (e + 2.0), x)
}

/// The logistic function `1/(1 + e^(−x))`, evaluated as `e^x/(1 + e^x)` for
/// negative `x`, which keeps subnormal results (`x` in `(−745.2, −708.4)`).
#[inline(always)]
pub(crate) fn sigmoid(x: F) -> F {
    let e = exp(-abs(x));
    let numerator = if x < 0.0 { e } else { 1.0 };
    numerator / (1.0 + e)
}

/// `ln(1 + u)` for `u` in `[0, 1]` or NaN (fdlibm's `log1p` method, straight-line).
#[inline(always)]
fn log1p_unit(u: F) -> F {
    let sum = 1.0 + u;
    // `sum` is rounded; ln(1 + u) = ln(sum) + ln(1 + c/sum) with c the rounding error.
    let correction = (u - (sum - 1.0)) / sum;
    let big = sum > consts::SQRT_2;
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
pub(crate) fn log1p_exp(x: F) -> F {
    let positive = if x > 0.0 { x } else { 0.0 };
    positive + log1p_unit(exp(-abs(x)))
}

/// `erf(t)`, given `gauss ≈ e^(−t²)` (relative error up to `t²·2^−52` is
/// harmless: it only enters where `erfc(t)·t² < 0.16`).
#[inline(always)]
pub(crate) fn erf_with_gauss(t: F, gauss: F) -> F {
    let a = abs(t);
    let small = a + a * poly(a * a, &ERF_SMALL);
    let big = 1.0 - gauss * poly(1.0 / (a + ERFC_SHIFT) - ERFC_CENTRE, &ERFC_BIG);
    // Ordered so that a NaN falls through to `small`, which is NaN.
    let magnitude = if a >= ERF_ONE_FROM {
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
pub(crate) fn erf(t: F) -> F {
    erf_with_gauss(t, exp(-(t * t)))
}
