//! The built-in activations, each with PyTorch's definition.
//!
//! With PyTorch's default parameters, all are finite (no NaN, no overflow) for
//! every finite input in f32 and f64, including ±1e4 and beyond, and all
//! propagate a NaN input as NaN. With other parameters in the range their `new`
//! documents (what [`Act::from_spec`] accepts), values stay finite wherever the
//! exact value is representable: a leaky ReLU of slope 2 overflows at
//! `−f32::MAX` as the exact `2·x` does. Parameters outside that range (a
//! softplus beta of 0, a slope that is infinite in f32) give NaN or infinities.
//!
//! The exponentials, `tanh` and `erf` come from the vectorisable kernels in
//! `fast`, and every built-in overrides the slice methods with a loop over its
//! own `value` and `derivative`, so a layer's batch is one vectorised pass whose
//! results are bitwise those of the scalar methods.
//!
//! # Accuracy
//! Each function keeps PyTorch's formula; the error is measured against that
//! formula evaluated with libm (f64) or in f64 and rounded (f32), in ulp of the
//! result, and enforced by the tests in `accuracy.rs` (dense grids and random
//! bit patterns over the whole finite range):
//!
//! | activation | value | derivative |
//! |---|---|---|
//! | sigmoid | 2 ulp | `(1 − y)·y` of the cached output, as PyTorch |
//! | tanh | f64: 4 ulp of glibc's `tanh` (2 of the exact value); f32: 2 ulp | `1 − y²` of the cached output |
//! | ELU | 1 ulp | 1 ulp |
//! | SiLU | 3 ulp | 3 ulp + 2ε·σ(x)·(1 + \|x\|) |
//! | softplus | 2 ulp | 2 ulp |
//! | GELU | 1 ulp + ε·\|x\| | 2 ulp + ε |
//!
//! `ε` is the type's machine epsilon. The absolute terms are where the formula
//! itself cancels (SiLU's `1 − σ(x)` for large `x`, GELU's `1 + erf(x/√2)` for
//! negative `x`); the reference formula loses the same. Products with a
//! subnormal factor (below about −708 in f64, −87 in f32) keep its absolute
//! accuracy only. Identity, ReLU and leaky ReLU are exact.

use super::sealed::Token;
use super::{Act, Activation, fast};
use crate::{Scalar, kernels};

/// The slice methods as loops over `value` and `derivative`, so that the two
/// paths share one implementation (and one rounding) per function. For the
/// loops to vectorise, `value` and `derivative` compute every side of a
/// piecewise definition and then select (`let a = ..; if c { b } else { a }`):
/// an expensive expression inside an `if` arm stays a branch and keeps the
/// loop scalar.
macro_rules! vectorised_slices {
    () => {
        fn forward_slice(&self, x: &[T], y: &mut [T]) {
            // A local copy: its parameters cannot alias `y`, so they stay in
            // registers for the whole loop.
            let this = *self;
            kernels::map(
                x,
                y,
                #[inline(always)]
                |x_i| this.value(x_i),
            );
        }
        vectorised_backward!();
    };
}

/// The backward slice methods of [`vectorised_slices`], for a built-in with a
/// forward slice of its own.
macro_rules! vectorised_backward {
    () => {
        fn backward_slice(&self, x: &[T], y: &[T], grad: &mut [T]) {
            let this = *self;
            kernels::scale_by(
                x,
                y,
                grad,
                #[inline(always)]
                |x_i, y_i| this.derivative(x_i, y_i),
            );
        }
        fn backward_slice_and_sums(&self, x: &[T], y: &[T], grad: &mut [T], sums: &mut [T], _: Token) {
            let this = *self;
            kernels::scale_by_and_sum(
                x,
                y,
                grad,
                sums,
                #[inline(always)]
                |x_i, y_i| this.derivative(x_i, y_i),
            );
        }
    };
}

/// `Activation::builtin` and `Activation::name` for a built-in: itself, as an
/// [`Act`], and the table's name (the `From` impl comes from the table in
/// `act.rs`).
macro_rules! is_builtin {
    () => {
        fn builtin(&self, _: Token) -> Option<Act> {
            Some(Act::from(*self))
        }
        fn name(&self) -> Option<&str> {
            Some(Act::from(*self).name())
        }
    };
}

/// `f(x) = x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Identity;

impl<T: Scalar> Activation<T> for Identity {
    is_builtin!();
    #[inline(always)]
    fn value(&self, x: T) -> T {
        x
    }
    #[inline(always)]
    fn derivative(&self, _x: T, _y: T) -> T {
        T::one()
    }
    fn forward_slice(&self, x: &[T], y: &mut [T]) {
        y.copy_from_slice(x);
    }
    fn backward_slice(&self, _x: &[T], _y: &[T], _grad: &mut [T]) {}
}

/// `σ(x) = 1 / (1 + e^(-x))`; derivative `σ(x)(1 - σ(x))` from the cached output.
///
/// Vectorised; within 2 ulp of the libm evaluation (`e^x/(1 + e^x)` below 0,
/// so results down to the subnormals are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Sigmoid;

impl<T: Scalar> Activation<T> for Sigmoid {
    is_builtin!();
    #[inline(always)]
    fn value(&self, x: T) -> T {
        fast::sigmoid(x)
    }
    #[inline(always)]
    fn derivative(&self, _x: T, y: T) -> T {
        (T::one() - y) * y
    }
    vectorised_slices!();
}

/// `tanh(x)`; derivative `1 - tanh²(x)` from the cached output.
///
/// Vectorised; f64 within 2 ulp of the exact value (4 of glibc's `tanh`, which
/// errs by up to 2 itself), f32 within 2 ulp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Tanh;

impl<T: Scalar> Activation<T> for Tanh {
    is_builtin!();
    #[inline(always)]
    fn value(&self, x: T) -> T {
        fast::tanh(x)
    }
    #[inline(always)]
    fn derivative(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
    /// [`Activation::value`]'s operations in three stages over blocks of the
    /// slice (the argument reduction, the polynomial, the quotient): about 40%
    /// faster than one loop of the whole chain on x86_64, the same bits.
    fn forward_slice(&self, x: &[T], y: &mut [T]) {
        tanh_staged_on(kernels::best_path(), x, y);
    }
    vectorised_backward!();
}

/// [`Tanh`]'s forward slice on `path`.
#[inline]
pub(crate) fn tanh_staged_on<T: Scalar>(path: kernels::Path, x: &[T], y: &mut [T]) {
    kernels::map_staged_on(
        path,
        x,
        y,
        #[inline(always)]
        |x_i| fast::tanh_reduce(x_i),
        #[inline(always)]
        |r| fast::tanh_poly(r),
        #[inline(always)]
        |p, s, x_i| fast::tanh_finish(p, s, x_i),
    );
}

/// `max(0, x)`; derivative 0 at `x <= 0` (as PyTorch), 1 above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Relu;

impl<T: Scalar> Activation<T> for Relu {
    is_builtin!();
    #[inline(always)]
    fn value(&self, x: T) -> T {
        // Written so that a NaN input stays NaN, as torch.relu does.
        if x <= T::zero() { T::zero() } else { x }
    }
    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { T::zero() }
    }
    fn piece(&self, x: T) -> u32 {
        u32::from(x > T::zero())
    }
    vectorised_slices!();
}

/// `x` for `x > 0`, `negative_slope · x` otherwise (PyTorch default slope 0.01).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyRelu {
    /// Slope for negative inputs.
    pub negative_slope: f64,
}

impl LeakyRelu {
    /// PyTorch's default, slope 0.01.
    pub const DEFAULT: Self = Self { negative_slope: 0.01 };

    /// A leaky ReLU with the given negative slope.
    ///
    /// The slope must be finite once rounded to f32 (`|negative_slope|` up to
    /// about 3.4e38), as for any network precision: an infinite slope makes
    /// the value at 0 NaN (`0·∞`). `new` does not check (it is `const`);
    /// [`Act::from_spec`] refuses other slopes.
    #[must_use]
    pub const fn new(negative_slope: f64) -> Self {
        Self { negative_slope }
    }

    /// Why these parameters are outside the documented range, if they are:
    /// what `Act::from_spec` says it expected.
    pub(crate) fn invalid(&self) -> Option<&'static str> {
        let expected = "leaky_relu(negative_slope) with negative_slope finite in f32 (|negative_slope| <= 3.4e38)";
        (!finite_in_f32(self.negative_slope)).then_some(expected)
    }
}

/// Whether `value` is finite once rounded to f32: an activation parameter
/// must be, in a network of either precision (a model file's activation spec
/// does not depend on the file's precision).
fn finite_in_f32(value: f64) -> bool {
    crate::finite::is_finite_in::<f32>(value)
}

impl Default for LeakyRelu {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<T: Scalar> Activation<T> for LeakyRelu {
    is_builtin!();
    #[inline(always)]
    fn value(&self, x: T) -> T {
        if x > T::zero() { x } else { x * T::from_f64(self.negative_slope) }
    }
    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { T::from_f64(self.negative_slope) }
    }
    fn piece(&self, x: T) -> u32 {
        u32::from(x > T::zero())
    }
    vectorised_slices!();
}

/// `x` for `x > 0`, `alpha · (e^x - 1)` otherwise (PyTorch default alpha 1);
/// derivative `alpha · e^x` below 0.
///
/// Vectorised; value and derivative within 1 ulp of the libm evaluation (alpha 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elu {
    /// Scale of the negative branch.
    pub alpha: f64,
}

impl Elu {
    /// PyTorch's default, alpha 1.
    pub const DEFAULT: Self = Self { alpha: 1.0 };

    /// An ELU with the given alpha.
    ///
    /// Alpha must be finite once rounded to f32 (`|alpha|` up to about
    /// 3.4e38), as for any network precision: an infinite alpha makes the
    /// value at 0 NaN (`∞·0`). `new` does not check (it is `const`);
    /// [`Act::from_spec`] refuses other values.
    #[must_use]
    pub const fn new(alpha: f64) -> Self {
        Self { alpha }
    }

    /// Why these parameters are outside the documented range, if they are:
    /// what `Act::from_spec` says it expected.
    pub(crate) fn invalid(&self) -> Option<&'static str> {
        (!finite_in_f32(self.alpha)).then_some("elu(alpha) with alpha finite in f32 (|alpha| <= 3.4e38)")
    }
}

impl Default for Elu {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<T: Scalar> Activation<T> for Elu {
    is_builtin!();
    #[inline(always)]
    fn value(&self, x: T) -> T {
        // Both sides are computed and one is selected (see `vectorised_slices`).
        let negative = T::from_f64(self.alpha) * fast::expm1(x);
        if x > T::zero() { x } else { negative }
    }
    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        let negative = T::from_f64(self.alpha) * fast::exp(x);
        if x > T::zero() { T::one() } else { negative }
    }
    fn piece(&self, x: T) -> u32 {
        u32::from(x > T::zero())
    }
    vectorised_slices!();
}

/// SiLU (swish): `x · σ(x)`; derivative `σ(x)(1 + x(1 - σ(x)))`.
///
/// Vectorised; value within 3 ulp of the libm evaluation, derivative within
/// 3 ulp plus `2ε·σ(x)(1 + |x|)` (the formula's own cancellation in `1 - σ(x)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Silu;

impl<T: Scalar> Activation<T> for Silu {
    is_builtin!();
    #[inline(always)]
    fn value(&self, x: T) -> T {
        x * fast::sigmoid(x)
    }
    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        let s = fast::sigmoid(x);
        s * (T::one() + x * (T::one() - s))
    }
    vectorised_slices!();
}

/// `ln(1 + e^(beta·x)) / beta`, and `x` itself once `beta·x > threshold`
/// (PyTorch defaults: beta 1, threshold 20); derivative `σ(beta·x)` below the
/// threshold (PyTorch's `e^s/(e^s + 1)`), 1 above.
///
/// Vectorised, evaluated as `(max(s, 0) + ln(1 + e^(-|s|)))/beta` with `s = beta·x`;
/// value and derivative within 2 ulp of the libm evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Softplus {
    /// Sharpness.
    pub beta: f64,
    /// Above `beta·x > threshold` the function is linear.
    pub threshold: f64,
}

impl Softplus {
    /// PyTorch's defaults: beta 1, threshold 20.
    pub const DEFAULT: Self = Self { beta: 1.0, threshold: 20.0 };

    /// A softplus with the given beta and threshold.
    ///
    /// Valid parameters, for a network of either precision: `beta > 0` with
    /// both `beta` and `ln(2)/beta` (the value at 0) finite once rounded to
    /// f32 (about 2.04e-39 <= beta <= 3.4e38), and `threshold` finite in f32
    /// (`|threshold|` up to about 3.4e38). A beta of 0 divides by zero
    /// (`ln(2)/0` at `x = 0`, infinite), a beta too small for `ln(2)/beta`
    /// overflows, and a negative beta mirrors the function (`−softplus(−x)`,
    /// concave), which PyTorch's softplus is not meant to be; a threshold
    /// infinite in f32 never switches to `x`, so a product `beta·x` that
    /// overflows gives an infinite value. `new` does not check (it is
    /// `const`); [`Act::from_spec`] refuses other values.
    #[must_use]
    pub const fn new(beta: f64, threshold: f64) -> Self {
        Self { beta, threshold }
    }

    /// Why these parameters are outside the documented range, if they are:
    /// what `Act::from_spec` says it expected.
    pub(crate) fn invalid(&self) -> Option<&'static str> {
        let beta = self.beta as f32;
        if !(beta > 0.0 && beta.is_finite() && (core::f32::consts::LN_2 / beta).is_finite()) {
            Some(
                "softplus(beta, threshold) with beta > 0 and beta, ln(2)/beta finite in f32 (2.04e-39 <= beta <= 3.4e38)",
            )
        } else if !finite_in_f32(self.threshold) {
            Some("softplus(beta, threshold) with threshold finite in f32 (|threshold| <= 3.4e38)")
        } else {
            None
        }
    }
}

impl Default for Softplus {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<T: Scalar> Activation<T> for Softplus {
    is_builtin!();
    #[inline(always)]
    fn value(&self, x: T) -> T {
        let beta = T::from_f64(self.beta);
        let scaled = x * beta;
        // ln(1 + e^s) without overflow for any s (PyTorch: log1p(exp(s))).
        let soft = fast::log1p_exp(scaled) / beta;
        if scaled > T::from_f64(self.threshold) { x } else { soft }
    }
    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        let scaled = x * T::from_f64(self.beta);
        // e^s/(e^s + 1) (PyTorch's form) is σ(s), which cannot overflow.
        let soft = fast::sigmoid(scaled);
        if scaled > T::from_f64(self.threshold) { T::one() } else { soft }
    }
    fn piece(&self, x: T) -> u32 {
        // The switch to `x` at the threshold is a (tiny) jump in value.
        u32::from(x * T::from_f64(self.beta) > T::from_f64(self.threshold))
    }
    vectorised_slices!();
}

/// GELU, exact form: `x · Φ(x) = x/2 · (1 + erf(x/√2))` (PyTorch's default);
/// derivative `Φ(x) + x·φ(x)`.
///
/// Vectorised, with PyTorch's formula: value within 1 ulp + `ε·|x|` of its
/// evaluation with libm's erf (the second term is
/// where `1 + erf` cancels, for negative `x`), derivative within 2 ulp + `ε`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Gelu;

impl<T: Scalar> Activation<T> for Gelu {
    is_builtin!();
    #[inline(always)]
    fn value(&self, x: T) -> T {
        let t = x * T::from_f64(core::f64::consts::FRAC_1_SQRT_2);
        x * (T::from_f64(0.5) * (T::one() + fast::erf(t)))
    }
    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        // Φ(x) + x·φ(x); e^(−x²/2) serves φ and the erfc branch of erf(x/√2).
        let gauss = fast::exp(T::from_f64(-0.5) * x * x);
        let t = x * T::from_f64(core::f64::consts::FRAC_1_SQRT_2);
        let cdf = T::from_f64(0.5) * (T::one() + fast::erf_with_gauss(t, gauss));
        // 1/√(2π)
        cdf + x * (gauss * T::from_f64(0.398_942_280_401_432_7))
    }
    vectorised_slices!();
}

#[cfg(test)]
mod tests {
    use super::super::Act;
    use super::*;

    fn check_finite<T: Scalar>() {
        let big = T::from_f64(1e4);
        let inputs = [
            -big,
            -T::from_f64(30.0),
            -T::one(),
            T::zero(),
            T::one(),
            T::from_f64(30.0),
            big,
            T::max_value(),
            T::min_value(),
        ];
        for act in Act::ALL {
            for &x in &inputs {
                let y = act.value(x);
                let d = act.derivative(x, y);
                assert!(y.is_finite() || (x.abs() == T::max_value() && y.is_infinite()), "{act}({x}) = {y}");
                assert!(d.is_finite(), "{act}'({x}) = {d}");
            }
            assert!(Activation::<T>::value(&act, T::nan()).is_nan(), "{act}(NaN) must be NaN");
        }
    }

    #[test]
    fn finite_at_extremes_f32_and_f64() {
        check_finite::<f32>();
        check_finite::<f64>();
    }

    /// At the edges of the documented range, softplus stays finite at inputs
    /// whose exact value is representable; just outside, it does not.
    #[test]
    fn softplus_is_finite_over_its_documented_range() {
        fn finite<T: Scalar>(softplus: Softplus) -> bool {
            [-1e4, -1.0, 0.0, 1e-3, 1.0, 1e4].into_iter().all(|x| {
                let x = T::from_f64(x);
                let y = Activation::<T>::value(&softplus, x);
                y.is_finite() && Activation::<T>::derivative(&softplus, x, y).is_finite()
            })
        }
        let smallest = 2.04e-39;
        for beta in [smallest, 1e-30, 0.5, 1.0, 1e30, 3.4e38] {
            for threshold in [-3.4e38, -20.0, 0.0, 20.0, 3.4e38] {
                let softplus = Softplus::new(beta, threshold);
                assert_eq!(softplus.invalid(), None, "{softplus:?}");
                assert!(finite::<f32>(softplus) && finite::<f64>(softplus), "{softplus:?}");
            }
        }
        for beta in [0.0, -0.0, -1.0, 2.03e-39, 1e-300, 3.5e38, 1e300] {
            let softplus = Softplus::new(beta, 20.0);
            assert!(softplus.invalid().is_some(), "{softplus:?}");
            assert!(!finite::<f32>(softplus) || beta < 0.0, "{softplus:?}");
        }
        // A threshold infinite in f32: a product beta·x that overflows no
        // longer switches to x, and ln(1 + e^∞) is infinite.
        let wide = Softplus::new(1e30, 1e300);
        assert!(wide.invalid().is_some());
        assert!(Activation::<f32>::value(&wide, 1e10).is_infinite());
        assert!(Activation::<f32>::value(&Softplus::new(1e30, 3.4e38), 1e10).is_finite());
    }

    #[test]
    fn leaky_relu_and_elu_parameters_infinite_in_f32_are_invalid() {
        for value in [-3.4e38, -1.0, 0.0, 0.2, 3.4e38] {
            assert_eq!(LeakyRelu::new(value).invalid(), None);
            assert_eq!(Elu::new(value).invalid(), None);
            assert!(Activation::<f32>::value(&LeakyRelu::new(value), 0.0).is_finite());
            assert!(Activation::<f32>::value(&Elu::new(value), 0.0).is_finite());
        }
        for value in [-1e39, 3.5e38, 1e300] {
            assert!(LeakyRelu::new(value).invalid().is_some());
            assert!(Elu::new(value).invalid().is_some());
            // 0·∞ at the origin.
            assert!(Activation::<f32>::value(&LeakyRelu::new(value), 0.0).is_nan());
            assert!(Activation::<f32>::value(&Elu::new(value), 0.0).is_nan());
        }
    }

    #[test]
    fn known_values() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * (1.0 + b.abs());
        assert!(close(Activation::<f64>::value(&Sigmoid, 0.0), 0.5));
        assert!(close(Activation::<f64>::value(&Gelu, 1.0), 0.841_344_746_068_542_9));
        assert!(close(Activation::<f64>::value(&Softplus::DEFAULT, 0.0), core::f64::consts::LN_2));
        assert!(close(Activation::<f64>::value(&Softplus::DEFAULT, 25.0), 25.0));
        assert!(close(Activation::<f64>::value(&Elu::DEFAULT, -1.0), (-1.0f64).exp() - 1.0));
        assert!(close(Activation::<f64>::value(&Silu, 1.0), 1.0 / (1.0 + (-1.0f64).exp())));
        assert_eq!(Activation::<f64>::derivative(&Relu, 0.0, 0.0), 0.0);
        assert_eq!(Activation::<f64>::derivative(&LeakyRelu::DEFAULT, 0.0, 0.0), 0.01);
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let points: alloc::vec::Vec<f64> = (-40..=40).map(|i| f64::from(i) * 0.137 + 0.01).collect();
        // The defaults, and parameters away from them (a derivative that
        // ignored its parameter would pass with the defaults alone).
        let others = [
            Act::LeakyRelu(LeakyRelu::new(0.2)),
            Act::Elu(Elu::new(0.7)),
            Act::Softplus(Softplus::new(2.0, 10.0)),
            Act::Softplus(Softplus::new(0.5, 20.0)),
        ];
        for act in Act::ALL.into_iter().chain(others) {
            let report = crate::gradcheck::check_activation(&act, &points);
            assert!(report.max_relative_error < 1e-7, "{act}: {report:?}");
        }
    }
}
