//! How layers compose into a network: the two protocols a chain of layers
//! implements, and ONE macro that implements both for tuples.
//!
//! - [`Layers`]: an ordered list of trainable dense layers that an
//!   [`Mlp`](crate::Mlp) runs (heap-backed: tuples of [`Linear`](crate::Linear)s,
//!   a single `Linear`, or a `Vec` of [`Dense`](crate::Dense) layers).
//! - [`Predict`]: one-sample inference with no heap (tuples of
//!   [`StaticLinear`]s, or a single one).
//!
//! In a tuple, consecutive layers share one const width parameter, so a layer
//! whose input width differs from the previous layer's output width is a type
//! error, reported by `#[diagnostic::on_unimplemented]` with the whole tuple
//! type, widths included.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use crate::{Activation, Error, Result, Scalar, StaticLinear};
#[cfg(feature = "alloc")]
use crate::{Dense, Linear};

/// An ordered list of dense layers that an [`Mlp`](crate::Mlp) can run.
///
/// Implemented for a single [`Linear`], for tuples of 1 to 8 `Linear`s whose
/// widths chain (checked by the compiler) and for `Vec<Dense<T, A>>` (checked
/// by [`Mlp::try_new`](crate::Mlp::try_new)). [`Mlp`](crate::Mlp) offers
/// everything a user needs from it ([`Mlp::layer`](crate::Mlp::layer),
/// [`Mlp::iter_layers`](crate::Mlp::iter_layers)), so user code rarely names
/// this trait.
#[cfg(feature = "alloc")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a chain of layers whose widths match",
    label = "each layer's input width must equal the previous layer's output width",
    note = "a network is a `Linear`, a tuple of 1 to 8 `Linear`s such as \
            `(Linear<f32, 2, 8, Tanh>, Linear<f32, 8, 1>)`, or a `Vec<Dense<T, A>>`"
)]
pub trait Layers<T: Scalar> {
    /// Number of layers.
    fn count(&self) -> usize;

    /// Layer `index`, with its activation behind a trait object.
    ///
    /// # Panics
    /// Panics if `index >= self.count()`.
    fn layer(&self, index: usize) -> &Dense<T, dyn Activation<T> + '_>;

    /// Layer `index`, mutable.
    ///
    /// # Panics
    /// Panics if `index >= self.count()`.
    fn layer_mut(&mut self, index: usize) -> &mut Dense<T, dyn Activation<T> + '_>;
}

#[cfg(feature = "alloc")]
impl<T: Scalar, A: Activation<T>> Layers<T> for Vec<Dense<T, A>> {
    fn count(&self) -> usize {
        self.len()
    }
    fn layer(&self, index: usize) -> &Dense<T, dyn Activation<T> + '_> {
        &self[index]
    }
    fn layer_mut(&mut self, index: usize) -> &mut Dense<T, dyn Activation<T> + '_> {
        &mut self[index]
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar, const IN: usize, const OUT: usize, A: Activation<T>> Layers<T> for Linear<T, IN, OUT, A> {
    fn count(&self) -> usize {
        1
    }
    fn layer(&self, index: usize) -> &Dense<T, dyn Activation<T> + '_> {
        assert_eq!(index, 0, "layer {index} of a 1-layer network");
        self.dense()
    }
    fn layer_mut(&mut self, index: usize) -> &mut Dense<T, dyn Activation<T> + '_> {
        assert_eq!(index, 0, "layer {index} of a 1-layer network");
        self.dense_mut()
    }
}

/// Inference on one sample with no heap, `IN` inputs to `OUT` outputs:
/// implemented for a single [`StaticLinear`] and for tuples of 1 to 8
/// `StaticLinear`s whose widths chain.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a chain of static layers from {IN} inputs to {OUT} outputs",
    label = "each layer's input width must equal the previous layer's output width",
    note = "a static network is a `StaticLinear` or a tuple of 1 to 8 `StaticLinear`s such as \
            `(StaticLinear<f32, 2, 8, Tanh>, StaticLinear<f32, 8, 1>)`"
)]
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

impl<T: Scalar, const IN: usize, const OUT: usize, A: Activation<T>> Predict<T, IN, OUT>
    for StaticLinear<T, IN, OUT, A>
{
    const PARAMETERS: usize = Self::PARAMETERS;
    const WEIGHT_BYTES: usize = Self::WEIGHT_BYTES;
    const SCRATCH_BYTES: usize = Self::SCRATCH_BYTES;

    fn predict(&self, x: &[T; IN]) -> [T; OUT] {
        self.forward(x)
    }
}

/// Implements every tuple protocol ([`Layers`] and [`Predict`]) for the tuples
/// listed at its call: one entry per arity, `(index, activation, input width,
/// output width)` per layer, consecutive layers sharing a width parameter.
macro_rules! chains {
    ($( $count:literal => [$(($index:tt, $act:ident, $w_in:ident, $w_out:ident)),+], $first:ident -> $last:ident; )+) => {$(
        #[cfg(feature = "alloc")]
        impl<T: Scalar, $($act: Activation<T>,)+ $(const $w_in: usize,)+ const $last: usize> Layers<T>
            for ($(Linear<T, $w_in, $w_out, $act>,)+)
        {
            fn count(&self) -> usize {
                $count
            }
            fn layer(&self, index: usize) -> &Dense<T, dyn Activation<T> + '_> {
                match index {
                    $($index => self.$index.dense(),)+
                    _ => panic!("layer {index} of a {}-layer network", $count),
                }
            }
            fn layer_mut(&mut self, index: usize) -> &mut Dense<T, dyn Activation<T> + '_> {
                match index {
                    $($index => self.$index.dense_mut(),)+
                    _ => panic!("layer {index} of a {}-layer network", $count),
                }
            }
        }

        impl<T: Scalar, $($act: Activation<T>,)+ $(const $w_in: usize,)+ const $last: usize> Predict<T, $first, $last>
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
    )+};
}

chains! {
    1 => [(0, A0, W0, W1)], W0 -> W1;
    2 => [(0, A0, W0, W1), (1, A1, W1, W2)], W0 -> W2;
    3 => [(0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3)], W0 -> W3;
    4 => [(0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4)], W0 -> W4;
    5 => [(0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4), (4, A4, W4, W5)], W0 -> W5;
    6 => [(0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4), (4, A4, W4, W5),
          (5, A5, W5, W6)], W0 -> W6;
    7 => [(0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4), (4, A4, W4, W5),
          (5, A5, W5, W6), (6, A6, W6, W7)], W0 -> W7;
    8 => [(0, A0, W0, W1), (1, A1, W1, W2), (2, A2, W2, W3), (3, A3, W3, W4), (4, A4, W4, W5),
          (5, A5, W5, W6), (6, A6, W6, W7), (7, A7, W7, W8)], W0 -> W8;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Identity, Tanh};

    /// A static network against the same network written as plain loops; runs
    /// without `alloc` (`cargo test --no-default-features --lib`).
    #[test]
    fn static_predict_is_the_plain_loops() {
        let net = (
            StaticLinear::new([[0.5f32, -0.25], [1.0, 0.75], [-1.5, 0.125]], [0.1, -0.2, 0.3], Tanh),
            StaticLinear::new([[1.0, -1.0, 0.5]], [0.25], Identity),
        );
        let x = [0.7f32, -1.3];
        let mut hidden = [0.0f32; 3];
        for (o, h) in hidden.iter_mut().enumerate() {
            let mut sum = 0.0;
            for (i, &x_i) in x.iter().enumerate() {
                sum += x_i * net.0.weight[o][i];
            }
            *h = Activation::<f32>::value(&Tanh, sum + net.0.bias[o]);
        }
        let mut output = 0.0f32;
        for (o, &h) in hidden.iter().enumerate() {
            output += h * net.1.weight[0][o];
        }
        output += net.1.bias[0];
        assert_eq!(net.predict(&x), [output]);
        assert_eq!(<(StaticLinear<f32, 2, 3, Tanh>, StaticLinear<f32, 3, 1>) as Predict<f32, 2, 1>>::PARAMETERS, 13);
        // One layer alone, and in a one-element tuple, agree.
        assert_eq!(net.0.predict(&x), (net.0.clone(),).predict(&x));
        let mut out = [[0.0f32]; 2];
        assert!(net.predict_batch(&[x; 3], &mut out).is_err());
        assert_eq!(out, [[0.0]; 2]);
    }
}
