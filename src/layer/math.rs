//! The dense layer's forward and backward passes on slices, shared by the heap-backed
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
    // The product and the bias in one pass over `pre` (the same bits as the
    // product followed by the bias: `(0 + x·w) + b`).
    kernels::gemm_bias(Form::ABt, batch, outputs, inputs, x, weight, pre, bias);
    activation.forward_slice(pre, out);
}

/// One sample through a dense layer whose widths are known at compile time:
/// `f(W·x + b)`, the same bits as [`dense_forward`] with a batch of one on
/// every target.
///
/// On x86_64 this is [`dense_forward`] itself (its products run compiled for
/// the CPU's vectors). Elsewhere the layer runs fused: the dot products of the
/// weight rows with `x`, four rows at a time ([`kernels::dot_rows_4`], rounded
/// as the product [`dense_forward`] takes for one sample), plus the bias, then
/// [`Activation::value`] on each (the trait requires
/// [`forward_slice`](Activation::forward_slice) to give the same bits element
/// by element). No scratch array, no product set-up, no second copy of the
/// product's loops: on a Cortex-M4F this costs no more instructions than
/// hand-written nested loops (`examples/firmware`).
#[inline(always)]
pub(crate) fn dense_predict<T: Scalar, A: Activation<T>, const IN: usize, const OUT: usize>(
    weight: &[[T; IN]; OUT],
    bias: &[T; OUT],
    activation: &A,
    x: &[T; IN],
) -> [T; OUT] {
    #[cfg(target_arch = "x86_64")]
    {
        dense_predict_batched(weight, bias, activation, x)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        dense_predict_fused(weight, bias, activation, x)
    }
}

/// [`dense_predict`] through [`dense_forward`] with a batch of one.
#[cfg(any(target_arch = "x86_64", test))]
#[inline(always)]
fn dense_predict_batched<T: Scalar, A: Activation<T>, const IN: usize, const OUT: usize>(
    weight: &[[T; IN]; OUT],
    bias: &[T; OUT],
    activation: &A,
    x: &[T; IN],
) -> [T; OUT] {
    let mut pre = [T::zero(); OUT];
    let mut out = [T::zero(); OUT];
    dense_forward(IN, weight.as_flattened(), bias, activation, x, &mut pre, &mut out);
    out
}

/// [`dense_predict`] fused (see there). `dense_forward` adds the product to a
/// zeroed C before the bias; the dot products here are never -0 (see
/// `kernels::dot_rows_4`), so `0 + dot` is `dot` and the bias goes straight on.
#[cfg(any(not(target_arch = "x86_64"), test))]
#[inline(always)]
fn dense_predict_fused<T: Scalar, A: Activation<T>, const IN: usize, const OUT: usize>(
    weight: &[[T; IN]; OUT],
    bias: &[T; OUT],
    activation: &A,
    x: &[T; IN],
) -> [T; OUT] {
    if IN < 8 {
        // No full chunk of eight inputs: little to share between rows, so one
        // row at a time (more registers left to the optimiser), and the
        // output built in place rather than zeroed first.
        return core::array::from_fn(|o| {
            let [d] = kernels::dot_rows_1(&weight[o], x);
            activation.value(d + bias[o])
        });
    }
    // Four rows at a time: each element of `x` is loaded once for four
    // products; then the rows left over one by one.
    const ROWS: usize = 4;
    let mut out = [T::zero(); OUT];
    let (row_blocks, rows_left) = weight.as_chunks::<ROWS>();
    let (out_blocks, out_left) = out.as_chunks_mut::<ROWS>();
    let (bias_blocks, bias_left) = bias.as_chunks::<ROWS>();
    // `enumerate` and indexing, not `zip`: at opt-level "s" without LTO the
    // zipped iterators were left as calls, and the output was copied.
    for (b, block) in row_blocks.iter().enumerate() {
        let dots = kernels::dot_rows_4(&block[0], &block[1], &block[2], &block[3], x);
        for (r, d) in dots.into_iter().enumerate() {
            out_blocks[b][r] = activation.value(d + bias_blocks[b][r]);
        }
    }
    for (o, row) in rows_left.iter().enumerate() {
        let [d] = kernels::dot_rows_1(row, x);
        out_left[o] = activation.value(d + bias_left[o]);
    }
    out
}

/// The batch size implied by an input and an output buffer, checked for agreement.
///
/// # Panics
/// Panics if the two buffers do not hold the same number of samples.
// Inlined on x86_64 only: elsewhere the firmware's code stays as measured.
#[cfg_attr(target_arch = "x86_64", inline)]
pub(crate) fn batch_of(x_len: usize, inputs: usize, y_len: usize, outputs: usize) -> usize {
    let batch = y_len.checked_div(outputs).unwrap_or(x_len / inputs.max(1));
    assert!(
        batch * inputs == x_len && batch * outputs == y_len,
        "dense layer {inputs}->{outputs}: buffers of {x_len} and {y_len} values do not describe one batch"
    );
    batch
}

/// Where [`dense_backward`] puts the batch's parameter gradients.
pub(crate) struct GradientSink<'a, T> {
    /// `outputs x inputs`, like the weights.
    pub(crate) weight: &'a mut [T],
    /// One per output.
    pub(crate) bias: &'a mut [T],
    /// `None` when both buffers hold zeros: the batch's gradients are written
    /// straight into them. Otherwise space shaped like `weight` and `bias`,
    /// where the batch's gradients are computed before they are added
    /// (`old + new`, as PyTorch accumulates: two backward passes give exactly
    /// the sum of the two).
    pub(crate) scratch: Option<(&'a mut [T], &'a mut [T])>,
}

/// Backward pass of a dense layer for a batch. On entry `delta` holds the
/// gradient of the loss with respect to `out`; on return, with respect to
/// `pre`. The weight and bias gradients go to `grads`; if `input_grad` is
/// given it receives the gradient with respect to `x` (`batch x inputs`,
/// overwritten). `x`, `pre` and `out` are what [`dense_forward`] saw and made.
///
/// # Panics
/// Panics if the slices' lengths do not describe one batch of this layer.
#[allow(clippy::too_many_arguments)] // the layer's tensors, each a slice
pub(crate) fn dense_backward<T: Scalar, A: Activation<T> + ?Sized>(
    inputs: usize,
    weight: &[T],
    activation: &A,
    x: &[T],
    pre: &[T],
    out: &[T],
    delta: &mut [T],
    grads: GradientSink<'_, T>,
    input_grad: Option<&mut [T]>,
) {
    let outputs = grads.bias.len();
    let batch = batch_of(x.len(), inputs, delta.len(), outputs);
    // The bias gradient (the column sums of the new delta) in the same pass.
    match grads.scratch {
        None => {
            crate::activation::backward_and_sums(activation, pre, out, delta, grads.bias);
            kernels::gemm(Form::AtB, outputs, inputs, batch, delta, x, grads.weight, false);
        }
        Some((weight_part, bias_part)) => {
            bias_part.fill(T::zero());
            crate::activation::backward_and_sums(activation, pre, out, delta, bias_part);
            kernels::gemm(Form::AtB, outputs, inputs, batch, delta, x, weight_part, false);
            let new = weight_part.iter().chain(bias_part.iter());
            for (g, &new) in grads.weight.iter_mut().chain(grads.bias.iter_mut()).zip(new) {
                *g = *g + new;
            }
        }
    }
    if let Some(input_grad) = input_grad {
        kernels::gemm(Form::AB, batch, inputs, outputs, delta, weight, input_grad, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Act, Identity, Relu, Rng, Sigmoid, Tanh};

    fn value<T: Scalar>(rng: &mut Rng) -> T {
        match rng.next_u64() % 10 {
            0 => T::from_f64(-0.0),
            1 => T::zero(),
            _ => T::from_f64(rng.uniform(-2.0, 2.0)),
        }
    }

    /// The fused one-sample path (off x86_64) gives the bits of the batched
    /// one (x86_64, and what a batch runs everywhere), for layers narrower and
    /// wider than the chunks of eight inputs and the blocks of four rows, and
    /// for biases of `-0` on all-`-0` products.
    fn check<T: Scalar, A: Activation<T>, const IN: usize, const OUT: usize>(activation: &A, seed: u64) {
        let mut rng = Rng::new(seed);
        for case in 0..32 {
            let weight: [[T; IN]; OUT] = core::array::from_fn(|_| core::array::from_fn(|_| value(&mut rng)));
            let mut bias: [T; OUT] = core::array::from_fn(|_| value(&mut rng));
            let mut x: [T; IN] = core::array::from_fn(|_| value(&mut rng));
            if case % 4 == 0 {
                x = [T::from_f64(-0.0); IN];
                bias = [T::from_f64(-0.0); OUT];
            }
            let fused = dense_predict_fused(&weight, &bias, activation, &x);
            let batched = dense_predict_batched(&weight, &bias, activation, &x);
            let bits = |v: [T; OUT]| v.map(|t| t.as_f64().to_bits());
            assert_eq!(bits(fused), bits(batched), "{IN}->{OUT}, case {case}");
        }
    }

    macro_rules! check_shapes {
        ($($in:literal -> $out:literal),+) => {$(
            check::<f32, _, $in, $out>(&Tanh, $in * 100 + $out);
            check::<f64, _, $in, $out>(&Tanh, $in * 100 + $out);
            check::<f32, _, $in, $out>(&Identity, 1);
            check::<f32, _, $in, $out>(&Sigmoid, 2);
            check::<f64, _, $in, $out>(&Relu, 3);
            check::<f32, _, $in, $out>(&Act::Tanh, 4);
        )+};
    }

    #[test]
    fn fused_one_sample_layer_gives_the_bits_of_the_batched_one() {
        check_shapes!(1 -> 32, 32 -> 32, 32 -> 1, 3 -> 5, 8 -> 4, 9 -> 7, 16 -> 3, 17 -> 13, 40 -> 9, 64 -> 8);
    }
}
