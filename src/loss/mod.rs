//! Loss functions: the [`Loss`] trait, 0.5·MSE ([`HalfMse`]), and
//! PyTorch's regression and classification losses (mean reduction).
//!
//! Files: `mod.rs` holds the trait, [`HalfMse`] and the checks every loss
//! shares; `regression.rs` holds [`Mse`], [`L1`] and [`Huber`];
//! `classification.rs` holds [`Bce`], [`BceWithLogits`], [`CrossEntropy`] and
//! [`CrossEntropyIndex`].
//!
//! # Finite values
//! What the built-ins guarantee for finite outputs and targets: no exponential
//! or logarithm overflows. [`BceWithLogits`], [`CrossEntropy`] and
//! [`CrossEntropyIndex`] use shifted forms (`log σ(x) = min(x, 0) − ln(1 + e^−|x|)`,
//! and log-sum-exp after subtracting the row's maximum), so logits of ±1e30 in
//! f32 (±1e300 in f64) give a finite loss and gradient; [`Bce`] clamps its
//! logarithms at −100 and its gradient's denominator at 1e-12.
//!
//! The arithmetic around them overflows where floating point does, as in
//! PyTorch: [`HalfMse`] and [`Mse`] square `output − target`, which is
//! infinite once the difference exceeds about 1.8e19 in f32 (1.3e154 in f64),
//! so `HalfMse` of an f32 output of 1e20 against a target of 0 is infinite;
//! differences and sums of the others overflow only near the type's largest
//! value (within a factor of the batch size), and [`Bce`]'s gradient, for
//! targets in [0, 1], stays below 1e12 in magnitude. `Fit` refuses a
//! non-finite loss ([`Error::NonFiniteLoss`](crate::Error::NonFiniteLoss)).
//!
//! ```
//! use tinymlp::{CrossEntropy, HalfMse, Loss};
//!
//! assert!(Loss::<f32>::value(&HalfMse, &[1e20], &[0.0], 1).is_infinite());
//! assert!(Loss::<f32>::value(&CrossEntropy, &[1e30, -1e30], &[0.5, 0.5], 2).is_finite());
//! ```

mod classification;
mod regression;

pub use classification::{Bce, BceWithLogits, CrossEntropy, CrossEntropyIndex};
pub use regression::{Huber, L1, Mse};

use crate::{Result, Scalar};

/// A loss over a batch: its value and its gradient with respect to the
/// network's output.
///
/// Slices are row-major `batch x width` matrices; the network checks shapes
/// (using [`Loss::target_width`]) and calls [`Loss::validate`] before calling
/// [`value`](Loss::value) and [`gradient`](Loss::gradient), so implementations
/// may assume both. Implement it to train with your own loss.
///
/// # Panics
/// Called directly (not through `Mlp::try_loss` or `Mlp::try_backward_loss`,
/// the checked forms), the
/// built-ins' `value` and `gradient` may panic on slices whose lengths do not
/// fit `width` (or a width of 0), or on a class index that `validate` would
/// refuse.
///
/// ```
/// use tinymlp::{HalfMse, Loss};
///
/// let (output, target) = ([1.0, 2.0], [0.0, 0.0]);
/// assert_eq!(HalfMse.value(&output, &target, 1), 0.5 * (1.0 + 4.0) / 2.0);
/// let mut grad = [0.0; 2];
/// HalfMse.gradient(&output, &target, 1, &mut grad);
/// assert_eq!(grad, [0.5, 1.0]);
/// ```
pub trait Loss<T: Scalar> {
    /// The loss of `output` against `target`.
    fn value(&self, output: &[T], target: &[T], width: usize) -> T;

    /// Writes `∂loss/∂output` into `grad` (overwriting it).
    fn gradient(&self, output: &[T], target: &[T], width: usize, grad: &mut [T]);

    /// Columns the target has for an output of `output_width` columns (the
    /// same by default; a class-index target has one).
    fn target_width(&self, output_width: usize) -> usize {
        output_width
    }

    /// Checks values the loss is undefined for, before anything is computed
    /// (BCE needs outputs in [0, 1]; class indices must name a class). The
    /// shapes are already checked.
    ///
    /// # Errors
    /// An [`Error`](crate::Error) naming the offending value.
    fn validate(&self, output: &[T], target: &[T], width: usize) -> Result<()> {
        let _ = (output, target, width);
        Ok(())
    }
}

/// `1/n` for the mean over `n` values.
pub(crate) fn inverse_count<T: Scalar>(n: usize) -> T {
    T::one() / T::from_f64(n as f64)
}

/// 0.5·MSE: `0.5 · mean((output - target)²)` over all elements (PyTorch:
/// `0.5 * F.mse_loss(output, target)`).
/// Its gradient is `(output - target) / n` for `n` elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct HalfMse;

impl<T: Scalar> Loss<T> for HalfMse {
    fn value(&self, output: &[T], target: &[T], _width: usize) -> T {
        let sum = output.iter().zip(target).fold(T::zero(), |acc, (&o, &t)| {
            let d = o - t;
            acc + d * d
        });
        T::from_f64(0.5) * sum / T::from_f64(output.len() as f64)
    }

    fn gradient(&self, output: &[T], target: &[T], _width: usize, grad: &mut [T]) {
        let scale = inverse_count::<T>(output.len());
        for ((g, &o), &t) in grad.iter_mut().zip(output).zip(target) {
            *g = (o - t) * scale;
        }
    }
}
