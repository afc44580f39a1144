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
//! ```compile_fail
//! use tinymlp::{Predict, StaticLinear, Tanh};
//! let net = (StaticLinear::<f32, 2, 3, Tanh>::new([[0.0; 2]; 3], [0.0; 3], Tanh),
//!            StaticLinear::<f32, 4, 1, Tanh>::new([[0.0; 4]; 1], [0.0; 1], Tanh));
//! let _ = net.predict(&[1.0, 2.0]);
//! ```

use crate::{Activation, Error, Result, Scalar};

/// A dense layer with `IN` inputs and `OUT` outputs whose parameters are
/// arrays: `weight[o][i]` as `torch.nn.Linear`'s `weight`, and `bias[o]`.
///
/// Big layers belong in a `static` (or a `Box`), never in a local variable: a
/// `StaticLinear<f32, 1024, 1024>` is 4 MiB.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticLinear<T, const IN: usize, const OUT: usize, A> {
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
    /// Bytes of stack one inference of this layer uses for its values (the
    /// pre-activation and the output).
    pub const SCRATCH_BYTES: usize = 2 * OUT * core::mem::size_of::<T>();

    /// A layer from its parameters; usable in `const` and `static` items.
    #[must_use]
    pub const fn new(weight: [[T; IN]; OUT], bias: [T; OUT], activation: A) -> Self {
        Self { weight, bias, activation }
    }

    /// The layer's output for one sample.
    #[must_use]
    pub fn forward(&self, x: &[T; IN]) -> [T; OUT] {
        let mut pre = [T::zero(); OUT];
        let mut out = [T::zero(); OUT];
        crate::layer_math::dense_forward(
            IN,
            self.weight.as_flattened(),
            &self.bias,
            &self.activation,
            x,
            &mut pre,
            &mut out,
        );
        out
    }
}

/// Inference on one sample with no heap: implemented for tuples of 1 to 8
/// [`StaticLinear`]s whose widths chain, `IN` inputs to `OUT` outputs.
pub trait Predict<T: Scalar, const IN: usize, const OUT: usize> {
    /// Weights plus biases of every layer.
    const PARAMETERS: usize;
    /// Bytes of all weights and biases.
    const WEIGHT_BYTES: usize;
    /// An upper bound on the bytes of stack one [`Predict::predict`] uses for
    /// values (every layer's pre-activation and output).
    const SCRATCH_BYTES: usize;

    /// The network's output for one sample.
    #[must_use]
    fn predict(&self, x: &[T; IN]) -> [T; OUT];

    /// The outputs for a batch, written into `out` (one row per input row).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `out` has a different number of rows than
    /// `x`; `out` is unchanged then.
    fn predict_batch(&self, x: &[[T; IN]], out: &mut [[T; OUT]]) -> Result<()> {
        if x.len() != out.len() {
            return Err(Error::ShapeMismatch {
                op: "predict_batch output",
                expected: (x.len(), OUT),
                found: (out.len(), OUT),
            });
        }
        for (row, result) in x.iter().zip(out.iter_mut()) {
            *result = self.predict(row);
        }
        Ok(())
    }
}

/// Implements [`Predict`] for a tuple of `StaticLinear`s whose consecutive
/// widths share one const parameter, so a mismatch is a type error.
macro_rules! tuple_predict {
    ($first:ident, $last:ident; $($width:ident),+; $(($index:tt, $act:ident, $w_in:ident, $w_out:ident)),+) => {
        impl<T: Scalar, $($act: Activation<T>,)+ $(const $width: usize,)+> Predict<T, $first, $last>
            for ($(StaticLinear<T, $w_in, $w_out, $act>,)+)
        {
            const PARAMETERS: usize = 0 $(+ StaticLinear::<T, $w_in, $w_out, $act>::PARAMETERS)+;
            const WEIGHT_BYTES: usize = 0 $(+ StaticLinear::<T, $w_in, $w_out, $act>::WEIGHT_BYTES)+;
            const SCRATCH_BYTES: usize = 0 $(+ StaticLinear::<T, $w_in, $w_out, $act>::SCRATCH_BYTES)+;

            fn predict(&self, x: &[T; $first]) -> [T; $last] {
                let values = x;
                $(let values = &self.$index.forward(values);)+
                *values
            }
        }
    };
}

tuple_predict!(W0, W1; W0, W1; (0, A0, W0, W1));
tuple_predict!(W0, W2; W0, W1, W2; (0, A0, W0, W1), (1, A1, W1, W2));
tuple_predict!(W0, W3; W0, W1, W2, W3; (0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3));
tuple_predict!(W0, W4; W0, W1, W2, W3, W4; (0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4));
tuple_predict!(W0, W5; W0, W1, W2, W3, W4, W5;
    (0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4), (4, A4, W4, W5));
tuple_predict!(W0, W6; W0, W1, W2, W3, W4, W5, W6;
    (0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4), (4, A4, W4, W5), (5, A5, W5, W6));
tuple_predict!(W0, W7; W0, W1, W2, W3, W4, W5, W6, W7;
    (0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4), (4, A4, W4, W5), (5, A5, W5, W6),
    (6, A6, W6, W7));
tuple_predict!(W0, W8; W0, W1, W2, W3, W4, W5, W6, W7, W8;
    (0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4), (4, A4, W4, W5), (5, A5, W5, W6),
    (6, A6, W6, W7), (7, A7, W7, W8));
