//! How layers compose into a network: the three protocols a chain of layers
//! implements, and ONE macro that implements all of them for tuples.
//!
//! - [`Layers`]: an ordered list of trainable dense layers that an
//!   [`Mlp`](crate::Mlp) runs (heap-backed: tuples of [`Linear`](crate::Linear)s,
//!   a single `Linear`, or a `Vec` of [`Dense`](crate::Dense) layers).
//! - [`Predict`]: one-sample inference with no heap (tuples of
//!   [`StaticLinear`]s, or a single one).
//! - [`StaticLayers`]: training with no heap (tuples of [`TrainLinear`]s, run
//!   by a [`StaticMlp`](crate::StaticMlp) on fixed-size batches).
//!
//! In a tuple, consecutive layers share one const width parameter, so a layer
//! whose input width differs from the previous layer's output width is a type
//! error, reported by `#[diagnostic::on_unimplemented]` with the whole tuple
//! type, widths included.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use super::static_train::{LayerTape, StaticLayers, TrainLinear, backward_layer, forward_layer};
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

/// Implements every tuple protocol ([`Layers`], [`Predict`] and
/// [`StaticLayers`]) for the tuples listed at its call: one entry per arity,
/// `(index, activation, input width, output width, the layer feeding it)` per
/// layer (`_`: the network input), consecutive layers sharing a width
/// parameter, and the same layers in reverse for backward.
macro_rules! chains {
    ($(
        $count:literal => [$(($index:tt, $act:ident, $w_in:ident, $w_out:ident, $from:tt)),+]
        rev [$(($rindex:tt, $rfrom:tt)),+], $first:ident -> $last:ident;
    )+) => {$(
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

        impl<T: Scalar, $($act: Activation<T>,)+ $(const $w_in: usize,)+ const $last: usize>
            StaticLayers<T, $first, $last> for ($(TrainLinear<T, $w_in, $w_out, $act>,)+)
        {
            const PARAMETERS: usize = 0 $(+ $w_out * $w_in + $w_out)+;
            type Tape<const B: usize> = ($(LayerTape<T, $w_in, $w_out, B>,)+);

            fn tape<const B: usize>() -> Self::Tape<B> {
                ($(LayerTape::<T, $w_in, $w_out, B>::new(),)+)
            }

            fn forward<'t, const B: usize>(
                &self,
                x: &[[T; $first]; B],
                tape: &'t mut Self::Tape<B>,
            ) -> &'t [[T; $last]; B] {
                $(forward_layer(&self.$index, input_of!(tape, x, $from), &mut tape.$index);)+
                &last_of!(tape; $($index)+).out
            }

            fn output<const B: usize>(tape: &mut Self::Tape<B>) -> (&[[T; $last]; B], &mut [[T; $last]; B]) {
                let last = &mut last_of!(tape; $($index)+);
                (&last.out, &mut last.delta)
            }

            fn backward<const B: usize>(&mut self, x: &[[T; $first]; B], tape: &mut Self::Tape<B>) {
                $(backward_from!(self, tape, x, $rindex, $rfrom);)+
            }

            fn zero_grad(&mut self) {
                $(self.$index.zero_grad();)+
            }

            fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [T], &[T])) {
                $(
                    let layer = &mut self.$index;
                    f(layer.layer.weight.as_flattened_mut(), layer.weight_grad.as_flattened());
                    f(&mut layer.layer.bias, &layer.bias_grad);
                )+
            }

            fn visit_widths(f: &mut dyn FnMut(usize, usize)) {
                $(f($w_in, $w_out);)+
            }
        }
    )+};
}

/// A layer's input in a [`StaticLayers`] tape: the network input `x` for the
/// first layer (`_`), else the outputs of layer `from`.
macro_rules! input_of {
    ($tape:ident, $x:ident, _) => {
        $x
    };
    ($tape:ident, $x:ident, $from:tt) => {
        &$tape.$from.out
    };
}

/// The last element of a tape tuple.
macro_rules! last_of {
    ($tape:ident; $index:tt) => { $tape.$index };
    ($tape:ident; $index:tt $($rest:tt)+) => { last_of!($tape; $($rest)+) };
}

/// One layer's backward: from its delta, adding its gradients and writing the
/// delta of the layer feeding it (none for the first).
macro_rules! backward_from {
    ($self:ident, $tape:ident, $x:ident, $index:tt, _) => {
        backward_layer(&mut $self.$index, $x, &mut $tape.$index, None)
    };
    ($self:ident, $tape:ident, $x:ident, $index:tt, $from:tt) => {
        backward_layer(&mut $self.$index, &$tape.$from.out, &mut $tape.$index, Some(&mut $tape.$from.delta))
    };
}

chains! {
    1 => [(0, A0, W0, W1, _)] rev [(0, _)], W0 -> W1;
    2 => [(0, A0, W0, W1, _), (1, A1, W1, W2, 0)] rev [(1, 0), (0, _)], W0 -> W2;
    3 => [(0, A0, W0, W1, _), (1, A1, W1, W2, 0), (2, A2, W2, W3, 1)] rev [(2, 1), (1, 0), (0, _)], W0 -> W3;
    4 => [(0, A0, W0, W1, _), (1, A1, W1, W2, 0), (2, A2, W2, W3, 1), (3, A3, W3, W4, 2)]
        rev [(3, 2), (2, 1), (1, 0), (0, _)], W0 -> W4;
    5 => [(0, A0, W0, W1, _), (1, A1, W1, W2, 0), (2, A2, W2, W3, 1), (3, A3, W3, W4, 2), (4, A4, W4, W5, 3)]
        rev [(4, 3), (3, 2), (2, 1), (1, 0), (0, _)], W0 -> W5;
    6 => [(0, A0, W0, W1, _), (1, A1, W1, W2, 0), (2, A2, W2, W3, 1), (3, A3, W3, W4, 2), (4, A4, W4, W5, 3),
          (5, A5, W5, W6, 4)]
        rev [(5, 4), (4, 3), (3, 2), (2, 1), (1, 0), (0, _)], W0 -> W6;
    7 => [(0, A0, W0, W1, _), (1, A1, W1, W2, 0), (2, A2, W2, W3, 1), (3, A3, W3, W4, 2), (4, A4, W4, W5, 3),
          (5, A5, W5, W6, 4), (6, A6, W6, W7, 5)]
        rev [(6, 5), (5, 4), (4, 3), (3, 2), (2, 1), (1, 0), (0, _)], W0 -> W7;
    8 => [(0, A0, W0, W1, _), (1, A1, W1, W2, 0), (2, A2, W2, W3, 1), (3, A3, W3, W4, 2), (4, A4, W4, W5, 3),
          (5, A5, W5, W6, 4), (6, A6, W6, W7, 5), (7, A7, W7, W8, 6)]
        rev [(7, 6), (6, 5), (5, 4), (4, 3), (3, 2), (2, 1), (1, 0), (0, _)], W0 -> W8;
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
