//! The built-in activations, each with PyTorch's definition.
//!
//! All are finite (no NaN, no overflow) for every finite input in f32 and f64,
//! including ±1e4 and beyond, and propagate a NaN input as NaN.

use super::{Act, Activation};
use crate::Scalar;

/// `f(x) = x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Identity;

impl<T: Scalar> Activation<T> for Identity {
    fn builtin(&self) -> Option<Act> {
        Some(Act::Identity)
    }
    #[inline]
    fn value(&self, x: T) -> T {
        x
    }
    #[inline]
    fn derivative(&self, _x: T, _y: T) -> T {
        T::one()
    }
    fn forward_slice(&self, x: &[T], y: &mut [T]) {
        y.copy_from_slice(x);
    }
    fn backward_slice(&self, _x: &[T], _y: &[T], _grad: &mut [T]) {}
}

/// `σ(x) = 1 / (1 + e^(-x))`; derivative `σ(x)(1 - σ(x))` from the cached output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Sigmoid;

impl<T: Scalar> Activation<T> for Sigmoid {
    fn builtin(&self) -> Option<Act> {
        Some(Act::Sigmoid)
    }
    #[inline]
    fn value(&self, x: T) -> T {
        // e^(-x) overflows to +inf for very negative x, giving exactly 0: no NaN.
        T::one() / (T::one() + (-x).exp())
    }
    #[inline]
    fn derivative(&self, _x: T, y: T) -> T {
        (T::one() - y) * y
    }
}

/// `tanh(x)`; derivative `1 - tanh²(x)` from the cached output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Tanh;

impl<T: Scalar> Activation<T> for Tanh {
    fn builtin(&self) -> Option<Act> {
        Some(Act::Tanh)
    }
    #[inline]
    fn value(&self, x: T) -> T {
        x.tanh()
    }
    #[inline]
    fn derivative(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
}

/// `max(0, x)`; derivative 0 at `x <= 0` (as PyTorch), 1 above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Relu;

impl<T: Scalar> Activation<T> for Relu {
    fn builtin(&self) -> Option<Act> {
        Some(Act::Relu)
    }
    #[inline]
    fn value(&self, x: T) -> T {
        // Written so that a NaN input stays NaN, as torch.relu does.
        if x <= T::zero() { T::zero() } else { x }
    }
    #[inline]
    fn derivative(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { T::zero() }
    }
    fn piece(&self, x: T) -> u32 {
        u32::from(x > T::zero())
    }
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
    #[must_use]
    pub const fn new(negative_slope: f64) -> Self {
        Self { negative_slope }
    }
}

impl Default for LeakyRelu {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<T: Scalar> Activation<T> for LeakyRelu {
    fn builtin(&self) -> Option<Act> {
        Some(Act::LeakyRelu(*self))
    }
    #[inline]
    fn value(&self, x: T) -> T {
        if x > T::zero() { x } else { x * T::from_f64(self.negative_slope) }
    }
    #[inline]
    fn derivative(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { T::from_f64(self.negative_slope) }
    }
    fn piece(&self, x: T) -> u32 {
        u32::from(x > T::zero())
    }
}

/// `x` for `x > 0`, `alpha · (e^x - 1)` otherwise (PyTorch default alpha 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elu {
    /// Scale of the negative branch.
    pub alpha: f64,
}

impl Elu {
    /// PyTorch's default, alpha 1.
    pub const DEFAULT: Self = Self { alpha: 1.0 };

    /// An ELU with the given alpha.
    #[must_use]
    pub const fn new(alpha: f64) -> Self {
        Self { alpha }
    }
}

impl Default for Elu {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<T: Scalar> Activation<T> for Elu {
    fn builtin(&self) -> Option<Act> {
        Some(Act::Elu(*self))
    }
    #[inline]
    fn value(&self, x: T) -> T {
        if x > T::zero() { x } else { T::from_f64(self.alpha) * x.exp_m1() }
    }
    #[inline]
    fn derivative(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { T::from_f64(self.alpha) * x.exp() }
    }
    fn piece(&self, x: T) -> u32 {
        u32::from(x > T::zero())
    }
}

/// SiLU (swish): `x · σ(x)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Silu;

impl<T: Scalar> Activation<T> for Silu {
    fn builtin(&self) -> Option<Act> {
        Some(Act::Silu)
    }
    #[inline]
    fn value(&self, x: T) -> T {
        x / (T::one() + (-x).exp())
    }
    #[inline]
    fn derivative(&self, x: T, _y: T) -> T {
        let s = T::one() / (T::one() + (-x).exp());
        s * (T::one() + x * (T::one() - s))
    }
}

/// `ln(1 + e^(beta·x)) / beta`, and `x` itself once `beta·x > threshold`
/// (PyTorch defaults: beta 1, threshold 20).
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
    #[must_use]
    pub const fn new(beta: f64, threshold: f64) -> Self {
        Self { beta, threshold }
    }
}

impl Default for Softplus {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<T: Scalar> Activation<T> for Softplus {
    fn builtin(&self) -> Option<Act> {
        Some(Act::Softplus(*self))
    }
    #[inline]
    fn value(&self, x: T) -> T {
        let beta = T::from_f64(self.beta);
        let scaled = x * beta;
        if scaled > T::from_f64(self.threshold) { x } else { scaled.exp().ln_1p() / beta }
    }
    #[inline]
    fn derivative(&self, x: T, _y: T) -> T {
        let scaled = x * T::from_f64(self.beta);
        if scaled > T::from_f64(self.threshold) {
            T::one()
        } else {
            let z = scaled.exp();
            z / (z + T::one())
        }
    }
    fn piece(&self, x: T) -> u32 {
        // The switch to `x` at the threshold is a (tiny) jump in value.
        u32::from(x * T::from_f64(self.beta) > T::from_f64(self.threshold))
    }
}

/// GELU, exact form: `x · Φ(x) = x/2 · (1 + erf(x/√2))` (PyTorch's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Gelu;

impl<T: Scalar> Activation<T> for Gelu {
    fn builtin(&self) -> Option<Act> {
        Some(Act::Gelu)
    }
    #[inline]
    fn value(&self, x: T) -> T {
        x * normal_cdf(x)
    }
    #[inline]
    fn derivative(&self, x: T, _y: T) -> T {
        // 1/√(2π)
        let inv_sqrt_2pi = T::from_f64(0.398_942_280_401_432_7);
        let pdf = (T::from_f64(-0.5) * x * x).exp() * inv_sqrt_2pi;
        normal_cdf(x) + x * pdf
    }
}

/// Φ(x) = (1 + erf(x/√2)) / 2, evaluated in f64.
#[inline]
fn normal_cdf<T: Scalar>(x: T) -> T {
    let x = x.to_f64();
    T::from_f64(0.5 * (1.0 + crate::special::erf(x * core::f64::consts::FRAC_1_SQRT_2)))
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
        for act in Act::ALL {
            let report = crate::gradcheck::check_activation(&act, &points);
            assert!(report.max_relative_error < 1e-7, "{act}: {report:?}");
        }
    }
}
