//! Classification losses with PyTorch's definitions and mean reduction:
//! binary cross-entropy on probabilities ([`Bce`]) and on logits
//! ([`BceWithLogits`]), and softmax cross-entropy with class-probability
//! targets ([`CrossEntropy`]) or class-index targets ([`CrossEntropyIndex`]).

use super::{Loss, inverse_count};
use crate::{Error, Result, Scalar};

/// Binary cross-entropy on probabilities, as `torch.nn.functional.binary_cross_entropy`:
/// `-mean(t·ln(o) + (1-t)·ln(1-o))` with each logarithm clamped at -100, so an
/// output of exactly 0 or 1 gives a large but finite loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Bce;

impl<T: Scalar> Loss<T> for Bce {
    fn value(&self, output: &[T], target: &[T], _width: usize) -> T {
        let floor = T::from_f64(-100.0);
        let sum = output.iter().zip(target).fold(T::zero(), |acc, (&o, &t)| {
            let log_o = o.ln().max(floor);
            let log_not_o = (-o).ln_1p().max(floor);
            acc + (t - T::one()) * log_not_o - t * log_o
        });
        sum / T::from_f64(output.len() as f64)
    }

    fn gradient(&self, output: &[T], target: &[T], _width: usize, grad: &mut [T]) {
        // As torch: (o - t) / max(o(1 - o), 1e-12), then the mean's 1/n.
        let (epsilon, scale) = (T::from_f64(1e-12), inverse_count::<T>(output.len()));
        for ((g, &o), &t) in grad.iter_mut().zip(output).zip(target) {
            *g = (o - t) / ((T::one() - o) * o).max(epsilon) * scale;
        }
    }

    fn validate(&self, output: &[T], _target: &[T], width: usize) -> Result<()> {
        match output.iter().position(|&o| !(o >= T::zero() && o <= T::one())) {
            Some(index) => Err(Error::OutOfRange {
                what: "BCE output",
                row: index.checked_div(width).unwrap_or(0),
                col: index.checked_rem(width).unwrap_or(index),
                value: output[index].as_f64(),
                expected: "a probability in [0, 1] (use BceWithLogits for logits)",
            }),
            None => Ok(()),
        }
    }
}

/// Binary cross-entropy on logits, as
/// `torch.nn.functional.binary_cross_entropy_with_logits`:
/// `mean((1-t)·x - log σ(x))`, computed stably for any |x|.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct BceWithLogits;

impl<T: Scalar> Loss<T> for BceWithLogits {
    fn value(&self, output: &[T], target: &[T], _width: usize) -> T {
        let sum = output.iter().zip(target).fold(T::zero(), |acc, (&x, &t)| acc + (T::one() - t) * x - log_sigmoid(x));
        sum / T::from_f64(output.len() as f64)
    }

    fn gradient(&self, output: &[T], target: &[T], _width: usize, grad: &mut [T]) {
        let scale = inverse_count::<T>(output.len());
        for ((g, &x), &t) in grad.iter_mut().zip(output).zip(target) {
            let sigmoid = T::one() / (T::one() + (-x).exp());
            *g = (sigmoid - t) * scale;
        }
    }
}

/// `log σ(x) = min(x, 0) - ln(1 + e^(-|x|))`, finite for every finite x.
fn log_sigmoid<T: Scalar>(x: T) -> T {
    x.min(T::zero()) - (-x.abs()).exp().ln_1p()
}

/// Softmax cross-entropy with class-probability targets, as
/// `torch.nn.functional.cross_entropy(logits, probabilities)`: each row's
/// `-Σ t_c · log softmax(x)_c`, averaged over the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CrossEntropy;

impl<T: Scalar> Loss<T> for CrossEntropy {
    fn value(&self, output: &[T], target: &[T], width: usize) -> T {
        let mut sum = T::zero();
        for (logits, probabilities) in output.chunks_exact(width).zip(target.chunks_exact(width)) {
            let lse = log_sum_exp(logits);
            for (&x, &t) in logits.iter().zip(probabilities) {
                sum = sum - t * (x - lse);
            }
        }
        sum / T::from_f64((output.len() / width.max(1)) as f64)
    }

    fn gradient(&self, output: &[T], target: &[T], width: usize, grad: &mut [T]) {
        let scale = inverse_count::<T>(output.len() / width.max(1));
        for ((logits, probabilities), g) in
            output.chunks_exact(width).zip(target.chunks_exact(width)).zip(grad.chunks_exact_mut(width))
        {
            let lse = log_sum_exp(logits);
            let total = probabilities.iter().fold(T::zero(), |acc, &t| acc + t);
            for ((g, &x), &t) in g.iter_mut().zip(logits).zip(probabilities) {
                *g = ((x - lse).exp() * total - t) * scale;
            }
        }
    }
}

/// Softmax cross-entropy with class-index targets, as
/// `torch.nn.functional.cross_entropy(logits, indices)`: the target has one
/// column holding each row's class as a whole number in `0..classes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CrossEntropyIndex;

impl<T: Scalar> Loss<T> for CrossEntropyIndex {
    fn value(&self, output: &[T], target: &[T], width: usize) -> T {
        let mut sum = T::zero();
        for (logits, &class) in output.chunks_exact(width).zip(target) {
            sum = sum + log_sum_exp(logits) - logits[class_index(class)];
        }
        sum / T::from_f64(target.len() as f64)
    }

    fn gradient(&self, output: &[T], target: &[T], width: usize, grad: &mut [T]) {
        let scale = inverse_count::<T>(target.len());
        for ((logits, &class), g) in output.chunks_exact(width).zip(target).zip(grad.chunks_exact_mut(width)) {
            let lse = log_sum_exp(logits);
            for (c, (g, &x)) in g.iter_mut().zip(logits).enumerate() {
                let one_hot = if c == class_index(class) { T::one() } else { T::zero() };
                *g = ((x - lse).exp() - one_hot) * scale;
            }
        }
    }

    fn target_width(&self, _output_width: usize) -> usize {
        1
    }

    fn validate(&self, _output: &[T], target: &[T], width: usize) -> Result<()> {
        for (row, &class) in target.iter().enumerate() {
            let value = class.as_f64();
            if !(value >= 0.0 && value < width as f64 && num_traits::Float::fract(value) == 0.0) {
                return Err(Error::ClassOutOfRange { row, value, classes: width });
            }
        }
        Ok(())
    }
}

/// A validated class index (see [`CrossEntropyIndex::validate`]).
fn class_index<T: Scalar>(class: T) -> usize {
    class.as_f64() as usize
}

/// `ln Σ e^x`, shifted by the maximum so that it never overflows.
fn log_sum_exp<T: Scalar>(logits: &[T]) -> T {
    let max = logits.iter().fold(T::neg_infinity(), |m, &x| m.max(x));
    if !max.is_finite() {
        return max;
    }
    let sum = logits.iter().fold(T::zero(), |acc, &x| acc + (x - max).exp());
    max + sum.ln()
}
