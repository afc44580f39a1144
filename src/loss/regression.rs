//! Regression losses with PyTorch's definitions and mean reduction over all
//! elements: [`Mse`], [`L1`], [`Huber`].

use super::{Loss, inverse_count};
use crate::{Error, Result, Scalar};

/// `mean((output - target)²)`, as `torch.nn.functional.mse_loss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Mse;

impl<T: Scalar> Loss<T> for Mse {
    fn value(&self, output: &[T], target: &[T], _width: usize) -> T {
        mean_of(output, target, |d| d * d)
    }
    fn gradient(&self, output: &[T], target: &[T], _width: usize, grad: &mut [T]) {
        // As torch: the factor 2/n is formed in f64, then rounded once.
        let scale = T::from_f64(2.0 / output.len() as f64);
        each(output, target, grad, |d| d * scale);
    }
}

/// `mean(|output - target|)`, as `torch.nn.functional.l1_loss`; the gradient
/// at a zero difference is 0, as PyTorch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct L1;

impl<T: Scalar> Loss<T> for L1 {
    fn value(&self, output: &[T], target: &[T], _width: usize) -> T {
        mean_of(output, target, T::abs)
    }
    fn gradient(&self, output: &[T], target: &[T], _width: usize, grad: &mut [T]) {
        let scale = inverse_count::<T>(output.len());
        each(output, target, grad, |d| sign(d) * scale);
    }
}

/// Huber loss, as `torch.nn.functional.huber_loss`: `d²/2` for `|d| < delta`,
/// `delta·(|d| - delta/2)` beyond; mean over all elements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear (PyTorch's default 1).
    pub delta: f64,
}

impl Default for Huber {
    fn default() -> Self {
        Self { delta: 1.0 }
    }
}

impl<T: Scalar> Loss<T> for Huber {
    fn value(&self, output: &[T], target: &[T], _width: usize) -> T {
        let (delta, half) = (T::from_f64(self.delta), T::from_f64(0.5));
        mean_of(output, target, |d| {
            let z = d.abs();
            if z < delta { half * z * z } else { delta * (z - half * delta) }
        })
    }
    fn gradient(&self, output: &[T], target: &[T], _width: usize, grad: &mut [T]) {
        let (delta, scale) = (T::from_f64(self.delta), inverse_count::<T>(output.len()));
        each(output, target, grad, |d| {
            let clipped = if d < -delta {
                -delta
            } else if d > delta {
                delta
            } else {
                d
            };
            clipped * scale
        });
    }

    fn validate(&self, _output: &[T], _target: &[T], _width: usize) -> Result<()> {
        if self.delta > 0.0 && self.delta.is_finite() {
            Ok(())
        } else {
            Err(Error::InvalidHyperParameter { name: "huber delta", value: self.delta, expected: "a finite value > 0" })
        }
    }
}

/// `sign(d)` with `sign(0) = 0` (and NaN kept).
fn sign<T: Scalar>(d: T) -> T {
    if d > T::zero() {
        T::one()
    } else if d < T::zero() {
        -T::one()
    } else {
        d * T::zero()
    }
}

/// `mean(f(output - target))`.
fn mean_of<T: Scalar>(output: &[T], target: &[T], f: impl Fn(T) -> T) -> T {
    let sum = output.iter().zip(target).fold(T::zero(), |acc, (&o, &t)| acc + f(o - t));
    sum / T::from_f64(output.len() as f64)
}

/// `grad[i] = f(output[i] - target[i])`.
fn each<T: Scalar>(output: &[T], target: &[T], grad: &mut [T], f: impl Fn(T) -> T) {
    for ((g, &o), &t) in grad.iter_mut().zip(output).zip(target) {
        *g = f(o - t);
    }
}
