//! y = sin²(4πx) on a microcontroller: the network trained by tinymlp on the
//! host, exported as Rust source, evaluated with no heap and no std.
#![no_std]

use tinymlp::Predict;

include!("sine_net.rs");

// The memory budget, checked by the compiler: 1153 f32 parameters.
const _: () = assert!(SINE_NET_BYTES <= 8 * 1024);
const _: () = assert!(<SineNet as Predict<f32, 1, 1>>::SCRATCH_BYTES <= 1024);

/// The network's estimate of sin²(4πx) for x in [0, 1].
#[must_use]
pub fn sine_squared(x: f32) -> f32 {
    let [y] = SINE_NET.predict(&[x]);
    y
}
