//! Networks that need no heap: [`StaticLinear`] layers keep their weights in
//! arrays, can be built in a `const` context and stored in a `static`, and a
//! tuple of them runs one sample with [`Predict::predict`] on the stack alone.
//!
//! This is what [`Mlp::to_rust_source`](crate::Mlp::to_rust_source) generates
//! for firmware: train on the host, export, `include!` in a `#![no_std]` crate.
//!
//! ```
//! use tinymlp::{Identity, Predict, StaticLinear, Tanh};
//!
//! type Net = (StaticLinear<f32, 2, 3, Tanh>, StaticLinear<f32, 3, 1, Identity>);
//! static NET: Net = (
//!     StaticLinear::new([[0.5, -0.25], [1.0, 0.0], [0.0, 1.0]], [0.0, 0.1, -0.1], Tanh),
//!     StaticLinear::new([[1.0, -1.0, 0.5]], [0.25], Identity),
//! );
//! // Compile-time memory budget: weights and the scratch one inference needs.
//! const _: () = assert!(<Net as Predict<f32, 2, 1>>::WEIGHT_BYTES == 13 * 4);
//! let [y] = NET.predict(&[1.0, 2.0]);
//! assert!(y.is_finite());
//! ```
//!
//! Widths must chain, as for [`Linear`](crate::Linear):
//!
//! ```compile_fail,E0599
//! use tinymlp::{Predict, StaticLinear, Tanh};
//! let net = (StaticLinear::<f32, 2, 3, Tanh>::new([[0.0; 2]; 3], [0.0; 3], Tanh),
//!            StaticLinear::<f32, 4, 1, Tanh>::new([[0.0; 4]; 1], [0.0; 1], Tanh));
//! let [_y] = net.predict(&[1.0, 2.0]);
//! ```
//!
//! (With the second layer's input width 3, the same code compiles:)
//!
//! ```
//! use tinymlp::{Predict, StaticLinear, Tanh};
//! let net = (StaticLinear::<f32, 2, 3, Tanh>::new([[0.0; 2]; 3], [0.0; 3], Tanh),
//!            StaticLinear::<f32, 3, 1, Tanh>::new([[0.0; 3]; 1], [0.0; 1], Tanh));
//! let [_y] = net.predict(&[1.0, 2.0]);
//! ```

use crate::{Activation, Scalar};

/// A dense layer with `IN` inputs and `OUT` outputs whose parameters are
/// arrays: `weight[o][i]` as `torch.nn.Linear`'s `weight`, and `bias[o]`.
///
/// Big layers belong in a `static` (or a `Box`), never in a local variable: a
/// `StaticLinear<f32, 1024, 1024>` is 4 MiB.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticLinear<T, const IN: usize, const OUT: usize, A = crate::Identity> {
    /// Weights, one row per output.
    pub weight: [[T; IN]; OUT],
    /// Biases, one per output.
    pub bias: [T; OUT],
    /// The activation after the affine map.
    pub activation: A,
}

impl<T: Scalar, const IN: usize, const OUT: usize, A: Activation<T>> StaticLinear<T, IN, OUT, A> {
    /// Weights plus biases.
    pub const PARAMETERS: usize = OUT * IN + OUT;
    /// Bytes of weights and biases.
    pub const WEIGHT_BYTES: usize = Self::PARAMETERS * core::mem::size_of::<T>();
    /// An upper bound on the bytes of stack one inference of this layer uses
    /// for its values: the pre-activation and the output (off x86_64 only the
    /// output is kept: the layer runs fused, see [`forward`](Self::forward)).
    pub const SCRATCH_BYTES: usize = 2 * OUT * core::mem::size_of::<T>();

    /// Evaluated by the constructor: a width of zero is a compile-time error,
    /// as for [`Linear`](crate::Linear).
    const VALID: () = assert!(IN > 0 && OUT > 0, "a StaticLinear layer needs at least one input and one output");

    /// A layer from its parameters; usable in `const` and `static` items.
    ///
    /// A width of zero does not compile:
    ///
    /// ```compile_fail,E0080
    /// use tinymlp::{StaticLinear, Tanh};
    ///
    /// let layer = StaticLinear::<f32, 3, 0, Tanh>::new([], [], Tanh);
    /// let _ = layer.forward(&[1.0, 2.0, 3.0]);
    /// ```
    #[must_use]
    pub const fn new(weight: [[T; IN]; OUT], bias: [T; OUT], activation: A) -> Self {
        let () = Self::VALID;
        Self { weight, bias, activation }
    }

    /// The layer's output for one sample: `activation(weight · x + bias)`.
    ///
    /// On x86_64 this runs the same products as a batch (compiled for the
    /// CPU's vectors); elsewhere one fused pass over the arrays (dot products
    /// four rows at a time, then bias and activation, no scratch arrays), as
    /// cheap on a Cortex-M4F as hand-written loops. Both round in the same
    /// order: the bits are the same on every target.
    ///
    /// ```
    /// use tinymlp::{StaticLinear, Tanh};
    ///
    /// let layer = StaticLinear::new([[0.5f32, -1.0], [2.0, 0.25]], [0.0, -0.5], Tanh);
    /// let [a, b] = layer.forward(&[1.0, 2.0]);
    /// assert!((a - (0.5f32 - 2.0).tanh()).abs() < 1e-6);
    /// assert!((b - (2.0f32 + 0.5 - 0.5).tanh()).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn forward(&self, x: &[T; IN]) -> [T; OUT] {
        super::math::dense_predict(&self.weight, &self.bias, &self.activation, x)
    }
}
