//! [`Dense`]: a fully connected layer followed by an activation, and the one
//! implementation of its forward and backward math that every network uses.

use alloc::vec;
use alloc::vec::Vec;

use super::math::{GradientSink, dense_backward};
use crate::{Activation, Error, LayerInit, Result, Rng, Scalar};

/// A dense layer `y = f(x·Wᵀ + b)` with weights stored as `torch.nn.Linear`
/// stores them (`outputs x inputs`, row-major), its bias, gradient buffers of
/// the same shapes, and its activation `f`.
///
/// The activation is the last field, so `&Dense<T, Tanh>` coerces to
/// `&Dense<T, dyn Activation<T>>`: networks run every layer through the same,
/// non-generic math whatever its activation.
///
/// ```
/// use tinymlp::{Dense, Identity};
///
/// let layer = Dense::from_parameters(2, 1, vec![3.0, -1.0], vec![0.5], Identity)?;
/// let (mut pre, mut out) = ([0.0; 2], [0.0; 2]);
/// layer.forward_batch(&[1.0, 1.0, 2.0, 0.0], &mut pre, &mut out); // two samples
/// assert_eq!(out, [2.5, 6.5]);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dense<T, A: ?Sized> {
    inputs: usize,
    outputs: usize,
    weight: Vec<T>,
    bias: Vec<T>,
    weight_grad: Vec<T>,
    bias_grad: Vec<T>,
    /// True while both gradient buffers are known to be zero, so backward can
    /// write the batch's gradients directly instead of adding them.
    grads_are_zero: bool,
    /// Holds a batch's gradients before they are added to non-zero buffers, so
    /// that accumulating is `old + new` as in PyTorch (twice one backward is
    /// exactly two backwards). Allocated on the first accumulation.
    scratch: Vec<T>,
    activation: A,
}

impl<T: Scalar, A: Activation<T>> Dense<T, A> {
    /// A layer with `inputs -> outputs` initialised by `init` from `rng`.
    ///
    /// # Panics
    /// Panics if `inputs * outputs` overflows `usize` (naming both widths) or
    /// cannot be allocated, or if `init` would draw NaN or infinite values
    /// ([`LayerInit::check`], naming the parameter).
    /// [`DynMlp::from_widths`](crate::DynMlp::from_widths) checks all this and
    /// returns an error instead.
    #[must_use]
    pub fn new(inputs: usize, outputs: usize, activation: A, init: impl Into<LayerInit>, rng: &mut Rng) -> Self {
        let Some(weights) = inputs.checked_mul(outputs) else {
            panic!("Dense::new: a layer of {inputs} inputs and {outputs} outputs has more weights than usize can count")
        };
        let init = init.into();
        if let Err(err) = init.check::<T>(inputs, outputs) {
            panic!("Dense::new: {err}");
        }
        let mut weight = vec![T::zero(); weights];
        let mut bias = vec![T::zero(); outputs];
        init.fill(inputs, outputs, &mut weight, &mut bias, rng);
        Self::assemble(inputs, outputs, weight, bias, activation)
    }

    /// A layer with the given weights (`outputs x inputs`, row-major) and bias.
    ///
    /// # Errors
    /// [`Error::DataLength`] if `weight` does not hold `outputs * inputs` values
    /// or `bias` does not hold `outputs`.
    pub fn from_parameters(inputs: usize, outputs: usize, weight: Vec<T>, bias: Vec<T>, activation: A) -> Result<Self> {
        if inputs.checked_mul(outputs) != Some(weight.len()) {
            return Err(Error::DataLength { rows: outputs, cols: inputs, len: weight.len() });
        }
        if bias.len() != outputs {
            return Err(Error::DataLength { rows: 1, cols: outputs, len: bias.len() });
        }
        Ok(Self::assemble(inputs, outputs, weight, bias, activation))
    }

    fn assemble(inputs: usize, outputs: usize, weight: Vec<T>, bias: Vec<T>, activation: A) -> Self {
        let weight_grad = vec![T::zero(); weight.len()];
        let bias_grad = vec![T::zero(); bias.len()];
        Self {
            inputs,
            outputs,
            weight,
            bias,
            weight_grad,
            bias_grad,
            grads_are_zero: true,
            scratch: Vec::new(),
            activation,
        }
    }
}

impl<T: Scalar, A: Activation<T> + ?Sized> Dense<T, A> {
    /// Input width.
    #[must_use]
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Output width.
    #[must_use]
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Weights, `outputs x inputs`, row-major (row `o` feeds output `o`).
    #[must_use]
    pub fn weight(&self) -> &[T] {
        &self.weight
    }

    /// Weights, mutable (the shape cannot change).
    #[must_use]
    pub fn weight_mut(&mut self) -> &mut [T] {
        &mut self.weight
    }

    /// Bias, one per output.
    #[must_use]
    pub fn bias(&self) -> &[T] {
        &self.bias
    }

    /// Bias, mutable.
    #[must_use]
    pub fn bias_mut(&mut self) -> &mut [T] {
        &mut self.bias
    }

    /// Accumulated gradient of the loss with respect to the weights.
    #[must_use]
    pub fn weight_grad(&self) -> &[T] {
        &self.weight_grad
    }

    /// Accumulated gradient of the loss with respect to the bias.
    #[must_use]
    pub fn bias_grad(&self) -> &[T] {
        &self.bias_grad
    }

    /// The activation applied after the affine map.
    #[must_use]
    pub fn activation(&self) -> &A {
        &self.activation
    }

    /// Number of weights and biases.
    #[must_use]
    pub fn parameter_count(&self) -> usize {
        self.weight.len() + self.bias.len()
    }

    /// Resets both gradient buffers to zero.
    pub fn zero_grad(&mut self) {
        self.weight_grad.fill(T::zero());
        self.bias_grad.fill(T::zero());
        self.grads_are_zero = true;
    }

    /// Calls `f(values, gradients)` for the weights, then for the bias.
    pub fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [T], &[T])) {
        // The values may change; the gradients cannot (they are passed shared).
        f(&mut self.weight, &self.weight_grad);
        f(&mut self.bias, &self.bias_grad);
    }

    /// Forward pass for a batch: `pre = x·Wᵀ + b` and `out = f(pre)`, where `x`
    /// is `batch x inputs` and `pre`, `out` are `batch x outputs` (row-major).
    ///
    /// # Panics
    /// Panics if the slices' lengths do not fit the layer's widths.
    pub fn forward_batch(&self, x: &[T], pre: &mut [T], out: &mut [T]) {
        super::math::dense_forward(self.inputs, &self.weight, &self.bias, &self.activation, x, pre, out);
    }

    /// Backward pass for a batch. On entry `delta` holds the gradient of the loss
    /// with respect to `out`; on return it holds the gradient with respect to
    /// `pre`. The weight and bias gradients are ADDED to the layer's buffers
    /// (accumulation, as PyTorch). If `input_grad` is given it receives the
    /// gradient with respect to `x` (`batch x inputs`, overwritten).
    ///
    /// `x`, `pre` and `out` must be what [`Dense::forward_batch`] saw and produced.
    ///
    /// # Panics
    /// Panics if the slices' lengths do not fit the layer's widths.
    pub fn backward_batch(&mut self, x: &[T], pre: &[T], out: &[T], delta: &mut [T], input_grad: Option<&mut [T]>) {
        let scratch = if self.grads_are_zero {
            None
        } else {
            self.scratch.resize(self.weight.len() + self.outputs, T::zero());
            Some(self.scratch.split_at_mut(self.weight.len()))
        };
        let grads = GradientSink { weight: &mut self.weight_grad, bias: &mut self.bias_grad, scratch };
        dense_backward(self.inputs, &self.weight, &self.activation, x, pre, out, delta, grads, input_grad);
        self.grads_are_zero = false;
    }
}

impl<T: PartialEq, A: PartialEq + ?Sized> PartialEq for Dense<T, A> {
    /// Equal widths, parameters, gradients and activation (scratch space is ignored).
    fn eq(&self, other: &Self) -> bool {
        self.inputs == other.inputs
            && self.outputs == other.outputs
            && self.weight == other.weight
            && self.bias == other.bias
            && self.weight_grad == other.weight_grad
            && self.bias_grad == other.bias_grad
            && self.activation == other.activation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Sigmoid, Tanh};

    #[test]
    fn layers_with_a_zero_width_run_on_empty_slices() {
        // 3 -> 0: a batch of 2 has 6 inputs and no outputs; the input gradient is zero.
        let mut layer = Dense::from_parameters(3, 0, vec![], vec![], Tanh).unwrap();
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        layer.forward_batch(&x, &mut [], &mut []);
        let mut input_grad = [f64::NAN; 6];
        layer.backward_batch(&x, &[], &[], &mut [], Some(&mut input_grad));
        assert_eq!(input_grad, [0.0; 6]);
        // 0 -> 2: the output is the activated bias.
        let layer = Dense::from_parameters(0, 2, vec![], vec![0.5, -0.5], Tanh).unwrap();
        let (mut pre, mut out) = ([0.0; 4], [0.0; 4]);
        layer.forward_batch(&[], &mut pre, &mut out);
        assert_eq!(pre, [0.5, -0.5, 0.5, -0.5]);
    }

    #[test]
    fn forward_and_backward_on_a_tiny_layer() {
        let mut layer = Dense::from_parameters(2, 1, vec![0.5, -0.25], vec![0.1], Tanh).unwrap();
        let x = [1.0, 2.0];
        let (mut pre, mut out) = ([0.0], [0.0]);
        layer.forward_batch(&x, &mut pre, &mut out);
        assert!((pre[0] - 0.1f64).abs() < 1e-15);
        let mut delta = [1.0];
        let mut input_grad = [0.0; 2];
        layer.backward_batch(&x, &pre, &out, &mut delta, Some(&mut input_grad));
        let d = 1.0 - out[0] * out[0];
        assert_eq!(delta, [d]);
        assert_eq!(layer.weight_grad(), &[d * 1.0, d * 2.0]);
        assert_eq!(layer.bias_grad(), &[d]);
        assert_eq!(input_grad, [d * 0.5, d * -0.25]);
    }

    #[test]
    #[should_panic(expected = "Dense::new: a layer of 9223372036854775808 inputs and 2 outputs has more weights")]
    #[cfg(target_pointer_width = "64")]
    fn a_weight_count_that_overflows_panics_naming_the_widths() {
        // In release builds the product wrapped to 0: a layer of 2^63 inputs with no weights.
        let _ = Dense::<f32, Tanh>::new(1 << 63, 2, Tanh, crate::Init::Zeros, &mut Rng::new(0));
    }

    #[test]
    fn wrong_parameter_lengths_are_errors() {
        let err = Dense::<f64, _>::from_parameters(3, 2, vec![0.0; 5], vec![0.0; 2], Sigmoid).unwrap_err();
        assert_eq!(err, Error::DataLength { rows: 2, cols: 3, len: 5 });
        assert!(Dense::<f64, _>::from_parameters(3, 2, vec![0.0; 6], vec![0.0; 3], Sigmoid).is_err());
    }
}
