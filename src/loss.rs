//! Loss functions: the [`Loss`] trait and the exercise's [`HalfMse`].

use crate::Scalar;

/// A loss over a batch: its value and its gradient with respect to the
/// network's output.
///
/// Slices are row-major `batch x width` matrices; the network checks shapes
/// (using [`Loss::target_width`]) before calling, so implementations may assume
/// them. Implement it to train with your own loss.
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
    /// same by default; a class-index target would have one).
    fn target_width(&self, output_width: usize) -> usize {
        output_width
    }
}

/// The exercise's loss: `0.5 · mean((output - target)²)` over all elements.
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
        let scale = T::one() / T::from_f64(output.len() as f64);
        for ((g, &o), &t) in grad.iter_mut().zip(output).zip(target) {
            *g = (o - t) * scale;
        }
    }
}
