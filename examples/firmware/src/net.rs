//! The measured code, shared by the firmware and the host build: the exported
//! sine network run by tinymlp, the same weights run by plain nested loops,
//! and the inputs both are run on.

use tinymlp::{Activation, Predict, StaticLinear};

// The network `examples/export_sine.rs` exported, as `examples/embed` uses it.
include!("../../embed/src/sine_net.rs");

// The budget `examples/embed` checks: the weights fit in 8 KiB.
const _: () = assert!(SINE_NET_BYTES <= 8 * 1024);

/// How many inputs the outputs are compared on.
pub const POINTS: usize = 16;

/// The `i`-th input: `POINTS` evenly spaced points of [0, 1].
#[must_use]
pub fn point(i: usize) -> f32 {
    i as f32 / (POINTS - 1) as f32
}

/// An inference function: one input, one output.
pub type Infer = fn(f32) -> f32;

/// One inference with tinymlp: what a user of the exported network writes.
#[inline(never)]
#[must_use]
pub fn infer_tinymlp(x: f32) -> f32 {
    let [y] = SINE_NET.predict(&[x]);
    y
}

/// One inference with plain nested `for` loops over the same weights, each
/// dot product summed in index order, then the bias, then the layer's
/// activation through `Activation::value` element by element (tinymlp's own
/// tanh, so only the loops differ). tinymlp sums each dot product in eight
/// interleaved partial sums, so the last bits may differ from tinymlp's.
#[inline(never)]
#[must_use]
pub fn infer_plain(x: f32) -> f32 {
    let (first, hidden, last) = &SINE_NET;
    let [y] = plain_layer(last, &plain_layer(hidden, &plain_layer(first, &[x])));
    y
}

// Index loops on purpose: the baseline is what one writes by hand in C.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn plain_layer<const IN: usize, const OUT: usize, A: Activation<f32>>(
    layer: &StaticLinear<f32, IN, OUT, A>,
    x: &[f32; IN],
) -> [f32; OUT] {
    let mut y = [0.0f32; OUT];
    for o in 0..OUT {
        let mut sum = 0.0f32;
        for i in 0..IN {
            sum += layer.weight[o][i] * x[i];
        }
        y[o] = layer.activation.value(sum + layer.bias[o]);
    }
    y
}
