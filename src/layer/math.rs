//! The dense layer's forward pass on slices, shared by the heap-backed
//! [`Dense`](crate::Dense) and the array-backed [`StaticLinear`](crate::StaticLinear):
//! one implementation of the math, no allocation.

use crate::kernels::{self, Form};
use crate::{Activation, Scalar};

/// `pre = x·Wᵀ + b` and `out = f(pre)` for a batch: `x` is `batch x inputs`,
/// `weight` is `outputs x inputs` (row-major, as `torch.nn.Linear`; `outputs`
/// is `bias.len()`), `pre` and `out` are `batch x outputs`.
///
/// # Panics
/// Panics if the slices' lengths do not describe one batch of this layer.
pub(crate) fn dense_forward<T: Scalar, A: Activation<T> + ?Sized>(
    inputs: usize,
    weight: &[T],
    bias: &[T],
    activation: &A,
    x: &[T],
    pre: &mut [T],
    out: &mut [T],
) {
    let outputs = bias.len();
    assert!(
        outputs.checked_mul(inputs) == Some(weight.len()),
        "dense layer {inputs}->{outputs}: {} weights given",
        weight.len()
    );
    let batch = batch_of(x.len(), inputs, pre.len(), outputs);
    kernels::gemm(Form::ABt, batch, outputs, inputs, x, weight, pre, false);
    kernels::add_row_to_each(pre, bias);
    activation.forward_slice(pre, out);
}

/// The batch size implied by an input and an output buffer, checked for agreement.
///
/// # Panics
/// Panics if the two buffers do not hold the same number of samples.
pub(crate) fn batch_of(x_len: usize, inputs: usize, y_len: usize, outputs: usize) -> usize {
    let batch = y_len.checked_div(outputs).unwrap_or(x_len / inputs.max(1));
    assert!(
        batch * inputs == x_len && batch * outputs == y_len,
        "dense layer {inputs}->{outputs}: buffers of {x_len} and {y_len} values do not describe one batch"
    );
    batch
}
