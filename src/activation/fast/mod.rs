//! Fast, vectorisable elementary functions for the built-in activations.
//!
//! On small networks the activations cost more than the matrix products: a
//! scalar libm `tanh` takes 10–20 ns, and a `[1, 32, 32, 1]` network evaluates
//! 12,800 of them per forward pass of 200 samples. The functions here are
//! straight-line code (every `if` selects between two computed values and
//! compiles to a blend, no data-dependent loops or calls), so a loop over a
//! slice runs several elements per instruction.
//!
//! # Method
//! `e^x`: `x = k·ln 2 + r` (Cody–Waite with a two-part ln 2, `|r| ≤ ln 2/2`),
//! `e^r − 1 = r + r²·S(r)` with a minimax polynomial `S` (so that all rounding
//! error sits in the small correction), and `2^k` built from its bits and applied
//! in two halves, so that overflow gives `+∞` and underflow rounds into the
//! subnormals once. `expm1` and `tanh` reduce with `k = 0` for `|x| < ln 2`
//! (a wider polynomial), so that `2^k·(e^r − 1) + (2^k − 1)` never cancels;
//! `tanh|x| = E/(E + 2)` with `E = e^(2|x|) − 1`. The logistic function is
//! `1/(1 + e^(−x))` for `x ≥ 0` and `e^x/(1 + e^x)` below, so that it keeps
//! subnormal results. `ln(1 + e^x) = max(x, 0) + ln(1 + e^(−|x|))`, with
//! fdlibm's `log1p` method on `[0, 1]`. `erf(t)` is `t + t·P(t²)` below 1 and
//! `1 − e^(−t²)·G(1/(t + c))` above. The polynomials are Remez fits (mpmath)
//! made for this crate, except the `log1p` ones (fdlibm).
//!
//! # Accuracy
//! Largest error found, in units in the last place (ulp) of the result, against
//! the correctly rounded value for f32 (the f64 libm value rounded to f32) and
//! against libm for f64 (`num_traits::Float`, the platform's libm, and for
//! `erf`, which `Float` lacks, libm's erf from the `libm` crate). `tests.rs`
//! enforces these bounds on dense grids, random points and random bit
//! patterns over the whole finite range (10^5 per sweep in `cargo test`, 10^7
//! and every f32 input with `cargo test --release -- --ignored`), and on the
//! special values.
//!
//! | function | f64 | f32 |
//! |---|---|---|
//! | `exp` | 1 | 1 |
//! | `expm1` | 1 | 1 |
//! | `tanh` | 4 (2 from the exact value; glibc's `tanh` is 2 ulp itself) | 2 |
//! | `sigmoid` | 2 | 2 |
//! | `log1p_exp` | 2 | 2 |
//! | `erf` | 1 | 1 |
//!
//! Every function maps NaN to NaN and `±∞` to its limits, `exp` underflows
//! gradually (subnormal results within 1 ulp), and `expm1`, `tanh` and `erf`
//! keep the sign of a zero.
//!
//! # Files
//! `mod.rs` holds the generic front ends; `body.rs` the algorithms, written
//! once and included by `double.rs` (f64 constants and coefficients) and
//! `single.rs` (f32); `tests.rs` the accuracy sweeps that enforce the table.

mod double;
mod single;
#[cfg(test)]
mod tests;

use crate::Scalar;

/// Whether `T` is `f32`: `Scalar` is sealed to `f32` and `f64`. A constant after
/// monomorphisation, so the branches below fold away.
#[inline(always)]
fn is_f32<T: Scalar>() -> bool {
    core::mem::size_of::<T>() == 4
}

/// Generic front ends: each converts to the concrete type (exact, and folded
/// away by the optimiser) and calls the f32 or f64 kernel.
macro_rules! generic {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident),+);)*) => {$(
        $(#[$doc])*
        #[inline(always)]
        pub(crate) fn $name<T: Scalar>($($arg: T),+) -> T {
            if is_f32::<T>() {
                T::from_f64(f64::from(single::$name($($arg.as_f64() as f32),+)))
            } else {
                T::from_f64(double::$name($($arg.as_f64()),+))
            }
        }
    )*};
}

/// The first stage of `tanh` in three (see `body.rs`): `r` and `2^k`.
#[inline(always)]
pub(crate) fn tanh_reduce<T: Scalar>(x: T) -> (T, T) {
    if is_f32::<T>() {
        let (r, s) = single::tanh_reduce(x.as_f64() as f32);
        (T::from_f64(f64::from(r)), T::from_f64(f64::from(s)))
    } else {
        let (r, s) = double::tanh_reduce(x.as_f64());
        (T::from_f64(r), T::from_f64(s))
    }
}

generic! {
    /// `e^x` (see the table in the module docs for its accuracy).
    fn exp(x);
    /// `e^x − 1`, accurate near 0.
    fn expm1(x);
    /// `tanh(x)`.
    fn tanh(x);
    /// The second stage of `tanh` in three (see `body.rs`).
    fn tanh_poly(r);
    /// The last stage of `tanh` in three.
    fn tanh_finish(p, s, x);
    /// The logistic function `1/(1 + e^(−x))`.
    fn sigmoid(x);
    /// `ln(1 + e^x)` for every `x`.
    fn log1p_exp(x);
    /// The error function.
    fn erf(t);
    /// `erf(t)` given `gauss ≈ e^(−t²)` (relative error `t²·ε` allowed), so that
    /// GELU's derivative computes one exponential for both of its terms.
    fn erf_with_gauss(t, gauss);
}
