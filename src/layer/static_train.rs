//! Training without a heap: [`TrainLinear`] (a [`StaticLinear`] with gradient
//! buffers, in arrays) composes in tuples into a [`StaticMlp`], whose batch
//! size `B` is fixed at compile time and whose activation tape is arrays too.
//! Forward and backward run the same slice math as the heap network
//! (`math.rs`), and the optimizers with array state (`StaticSgd`,
//! `StaticAdam`) run the same updates as `Sgd` and `Adam`, so both
//! kinds, started from the same parameters and fed the same batches, stay
//! bitwise identical.

use super::math::{GradientSink, dense_backward, dense_forward};
use crate::{Activation, Error, Identity, Loss, Parameters, Result, Scalar, StaticLinear, StaticSgd};

/// A [`StaticLinear`] with gradient buffers of the same shapes: a trainable
/// dense layer that needs no heap. Build it in a `const` or `static` with
/// [`TrainLinear::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainLinear<T, const IN: usize, const OUT: usize, A = Identity> {
    /// The parameters and the activation: what inference needs.
    pub layer: StaticLinear<T, IN, OUT, A>,
    /// Accumulated gradient of the loss with respect to `layer.weight`.
    pub weight_grad: [[T; IN]; OUT],
    /// Accumulated gradient of the loss with respect to `layer.bias`.
    pub bias_grad: [T; OUT],
    /// True while both gradients are known to be zero (see `GradientSink`).
    grads_are_zero: bool,
}

impl<T: Scalar, const IN: usize, const OUT: usize, A: Activation<T>> TrainLinear<T, IN, OUT, A> {
    /// A layer from its parameters, with zero gradients; usable in `const`
    /// and `static` items.
    #[must_use]
    pub const fn new(weight: [[T; IN]; OUT], bias: [T; OUT], activation: A) -> Self {
        Self::from_static(StaticLinear::new(weight, bias, activation))
    }

    /// The layer `layer` with zero gradients.
    #[must_use]
    pub const fn from_static(layer: StaticLinear<T, IN, OUT, A>) -> Self {
        Self { weight_grad: [[T::ZERO; IN]; OUT], bias_grad: [T::ZERO; OUT], layer, grads_are_zero: true }
    }

    /// Sets both gradients to zero.
    pub fn zero_grad(&mut self) {
        self.weight_grad = [[T::zero(); IN]; OUT];
        self.bias_grad = [T::zero(); OUT];
        self.grads_are_zero = true;
    }
}

/// What one layer of a [`StaticMlp`] keeps between forward and backward, for
/// a batch of `B`: its pre-activations, outputs and deltas, and space for
/// accumulating gradients.
#[derive(Debug, Clone)]
pub struct LayerTape<T, const IN: usize, const OUT: usize, const B: usize> {
    pub(super) pre: [[T; OUT]; B],
    pub(super) out: [[T; OUT]; B],
    pub(super) delta: [[T; OUT]; B],
    weight_scratch: [[T; IN]; OUT],
    bias_scratch: [T; OUT],
}

impl<T: Scalar, const IN: usize, const OUT: usize, const B: usize> LayerTape<T, IN, OUT, B> {
    pub(super) fn new() -> Self {
        let zero = T::zero();
        Self {
            pre: [[zero; OUT]; B],
            out: [[zero; OUT]; B],
            delta: [[zero; OUT]; B],
            weight_scratch: [[zero; IN]; OUT],
            bias_scratch: [zero; OUT],
        }
    }
}

/// Runs layer `layer` forward on `x` (`B` samples), into its tape.
pub(super) fn forward_layer<T: Scalar, A: Activation<T>, const IN: usize, const OUT: usize, const B: usize>(
    layer: &TrainLinear<T, IN, OUT, A>,
    x: &[[T; IN]; B],
    tape: &mut LayerTape<T, IN, OUT, B>,
) {
    let params = &layer.layer;
    let (pre, out) = (tape.pre.as_flattened_mut(), tape.out.as_flattened_mut());
    dense_forward(IN, params.weight.as_flattened(), &params.bias, &params.activation, x.as_flattened(), pre, out);
}

/// Runs layer `layer` backward from its tape's delta (the gradient with
/// respect to its output), adding its parameter gradients; `input_grad`
/// receives the gradient with respect to its input `x`.
pub(super) fn backward_layer<T: Scalar, A: Activation<T>, const IN: usize, const OUT: usize, const B: usize>(
    layer: &mut TrainLinear<T, IN, OUT, A>,
    x: &[[T; IN]; B],
    tape: &mut LayerTape<T, IN, OUT, B>,
    input_grad: Option<&mut [[T; IN]; B]>,
) {
    let scratch = if layer.grads_are_zero {
        None
    } else {
        Some((tape.weight_scratch.as_flattened_mut(), &mut tape.bias_scratch[..]))
    };
    let grads = GradientSink { weight: layer.weight_grad.as_flattened_mut(), bias: &mut layer.bias_grad, scratch };
    let params = &layer.layer;
    dense_backward(
        IN,
        params.weight.as_flattened(),
        &params.activation,
        x.as_flattened(),
        tape.pre.as_flattened(),
        tape.out.as_flattened(),
        tape.delta.as_flattened_mut(),
        grads,
        input_grad.map(|g| g.as_flattened_mut()),
    );
    layer.grads_are_zero = false;
}

/// A chain of [`TrainLinear`]s from `IN` inputs to `OUT` outputs that a
/// [`StaticMlp`] trains: implemented for tuples of 1 to 8 whose widths chain.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a chain of trainable static layers from {IN} inputs to {OUT} outputs",
    label = "each layer's input width must equal the previous layer's output width",
    note = "a trainable static network is a tuple of 1 to 8 `TrainLinear`s such as \
            `(TrainLinear<f32, 2, 8, Tanh>, TrainLinear<f32, 8, 1>)`"
)]
pub trait StaticLayers<T: Scalar, const IN: usize, const OUT: usize> {
    /// Weights plus biases of every layer.
    const PARAMETERS: usize;
    /// Every layer's [`LayerTape`] for batches of `B`.
    type Tape<const B: usize>;

    /// A zeroed tape.
    fn tape<const B: usize>() -> Self::Tape<B>;

    /// Forward through every layer; returns the last layer's outputs.
    fn forward<'t, const B: usize>(&self, x: &[[T; IN]; B], tape: &'t mut Self::Tape<B>) -> &'t [[T; OUT]; B];

    /// The last layer's outputs and deltas in `tape`.
    fn output<const B: usize>(tape: &mut Self::Tape<B>) -> (&[[T; OUT]; B], &mut [[T; OUT]; B]);

    /// Backward through every layer from the last layer's delta, adding the
    /// parameter gradients.
    fn backward<const B: usize>(&mut self, x: &[[T; IN]; B], tape: &mut Self::Tape<B>);

    /// Sets every gradient to zero.
    fn zero_grad(&mut self);

    /// Calls `f(values, gradients)` for each layer's weights, then its bias.
    fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [T], &[T]));

    /// Calls `f(inputs, outputs)` for each layer, in order.
    fn visit_widths(f: &mut dyn FnMut(usize, usize));
}

/// A network of [`TrainLinear`]s that trains on batches of exactly `B`
/// samples with no heap: the layers, a copy of the last input batch and the
/// activation tape, all arrays. `forward`, `backward_loss`, `zero_grad` and
/// `step` have `Mlp`'s semantics (gradients accumulate until
/// `zero_grad`), and any [`Optimizer`](crate::Optimizer) steps it; with
/// [`StaticSgd`] or [`StaticAdam`](crate::StaticAdam) nothing needs a heap.
///
/// The whole network lives where it is put: on the stack in `main` (a
/// microcontroller's `main` never returns) or, for large ones, in a `static`.
///
/// ```
/// use tinymlp::{HalfMse, Identity, Optimizer, StaticAdam, StaticLayers, StaticMlp, Tanh, TrainLinear};
///
/// type Layers = (TrainLinear<f32, 1, 8, Tanh>, TrainLinear<f32, 8, 1, Identity>);
/// // Parameters from anywhere (here: a fixed pattern); a trained host network
/// // exported with `to_rust_source` fits too.
/// let layers: Layers = (
///     TrainLinear::new(core::array::from_fn(|o| [0.3 * o as f32 - 1.0]), [0.1; 8], Tanh),
///     TrainLinear::new([core::array::from_fn(|i| 0.25 - 0.05 * i as f32)], [0.0], Identity),
/// );
/// // Batches of 4 samples; the memory it needs is known at compile time.
/// let mut net = StaticMlp::<f32, Layers, 1, 1, 4>::new(layers);
/// const _: () = assert!(StaticMlp::<f32, Layers, 1, 1, 4>::TRAIN_BYTES < 4096);
/// let mut adam = StaticAdam::<f32, { <Layers as StaticLayers<f32, 1, 1>>::PARAMETERS }>::with_lr(0.05)?;
/// let x = [[0.0], [0.25], [0.5], [0.75]];
/// let y = [[0.0], [0.5], [1.0], [0.5]];
/// let mut first = None;
/// for _ in 0..200 {
///     net.zero_grad();
///     net.forward(&x);
///     let loss = net.try_backward_loss(&HalfMse, &y)?;
///     first.get_or_insert(loss);
///     adam.step(&mut net)?;
/// }
/// net.forward(&x);
/// let last = net.try_backward_loss(&HalfMse, &y)?;
/// assert!(last < first.unwrap() / 10.0);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StaticMlp<T: Scalar, L: StaticLayers<T, IN, OUT>, const IN: usize, const OUT: usize, const B: usize> {
    layers: L,
    input: [[T; IN]; B],
    tape: L::Tape<B>,
    /// Whether `tape` holds a forward pass of the current parameters.
    forward_done: bool,
}

impl<T: Scalar, L: StaticLayers<T, IN, OUT>, const IN: usize, const OUT: usize, const B: usize>
    StaticMlp<T, L, IN, OUT, B>
{
    /// Bytes of the whole training state: parameters and their gradients, the
    /// input copy and the tape (pre-activations, outputs, deltas and the
    /// accumulation space of every layer). An optimizer's state comes on top
    /// (`StaticAdam`: 2 × parameters; `StaticSgd` with momentum: 1 ×).
    pub const TRAIN_BYTES: usize = core::mem::size_of::<Self>();
    /// Weights plus biases.
    pub const PARAMETERS: usize = L::PARAMETERS;

    /// A network of `layers`, with a zeroed tape.
    ///
    /// The batch size `B` must be at least 1: a network of batches of 0
    /// samples (whose loss would be the mean of nothing, NaN) does not
    /// compile.
    ///
    /// ```compile_fail,E0080
    /// use tinymlp::{Identity, StaticMlp, TrainLinear};
    ///
    /// type Layers = (TrainLinear<f64, 2, 1, Identity>,);
    /// let layers: Layers = (TrainLinear::new([[0.5, -0.5]], [0.0], Identity),);
    /// // error: the batch size B must be at least 1
    /// let net = StaticMlp::<f64, Layers, 2, 1, 0>::new(layers);
    /// ```
    #[must_use]
    pub fn new(layers: L) -> Self {
        // Evaluated when `new` is instantiated for a `B`: a compile error for 0.
        const { assert!(B >= 1, "StaticMlp: the batch size B must be at least 1") };
        Self { layers, input: [[T::zero(); IN]; B], tape: L::tape(), forward_done: false }
    }

    /// The layers.
    #[must_use]
    pub fn layers(&self) -> &L {
        &self.layers
    }

    /// The layers, mutable. The cached forward pass is dropped (the
    /// parameters may change under it).
    #[must_use]
    pub fn layers_mut(&mut self) -> &mut L {
        self.forward_done = false;
        &mut self.layers
    }

    /// Unwraps the layers.
    #[must_use]
    pub fn into_layers(self) -> L {
        self.layers
    }

    /// The parameter tensors' names and shapes in visiting order, as
    /// `Mlp::parameter_info` gives them (`layers.{i}.weight` `[outputs,
    /// inputs]`, `layers.{i}.bias` `[outputs]`), for saving and restoring
    /// the state of [`StaticSgd`] or [`StaticAdam`](crate::StaticAdam) with
    /// [`OptimizerState`](crate::OptimizerState).
    ///
    /// ```
    /// use tinymlp::{Identity, StaticMlp, Tanh, TrainLinear};
    ///
    /// type Layers = (TrainLinear<f32, 2, 3, Tanh>, TrainLinear<f32, 3, 1, Identity>);
    /// let net = StaticMlp::<f32, Layers, 2, 1, 4>::new((
    ///     TrainLinear::new([[0.0; 2]; 3], [0.0; 3], Tanh),
    ///     TrainLinear::new([[0.0; 3]; 1], [0.0; 1], Identity),
    /// ));
    /// let info = net.parameter_info();
    /// assert_eq!(info.iter().nth(2), Some(("layers.1.weight", &[1, 3][..])));
    /// assert_eq!(info.parameter_count(), StaticMlp::<f32, Layers, 2, 1, 4>::PARAMETERS);
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn parameter_info(&self) -> crate::ParameterInfo {
        let mut layers = alloc::vec::Vec::new();
        L::visit_widths(&mut |inputs, outputs| layers.push((inputs, outputs)));
        crate::ParameterInfo::dense(layers)
    }

    /// Forward pass on a batch of `B` samples, keeping what backward needs;
    /// returns the outputs.
    pub fn forward(&mut self, x: &[[T; IN]; B]) -> &[[T; OUT]; B] {
        self.input = *x;
        self.forward_done = true;
        self.layers.forward(&self.input, &mut self.tape)
    }

    /// The loss of the last forward pass's output against `target`, its
    /// gradient back-propagated and ADDED to the layers' gradients. `target`
    /// has `loss.target_width(OUT)` columns (`W`).
    ///
    /// # Errors
    /// [`Error::NoForwardPass`] before a forward pass (or after the parameters
    /// changed since: [`StaticMlp::layers_mut`], [`StaticMlp::try_step`] or an
    /// optimizer's step); [`Error::ShapeMismatch`] if `W` is not the
    /// loss's target width; [`Error::NonFinite`] for a NaN or infinite target
    /// or output, named `loss target row r col c` or `network output row r
    /// col c`, with its flat index; the loss's own
    /// [`validate`](Loss::validate) errors. Nothing changes then.
    pub fn try_backward_loss<F: Loss<T> + ?Sized, const W: usize>(
        &mut self,
        loss: &F,
        target: &[[T; W]; B],
    ) -> Result<T> {
        if !self.forward_done {
            return Err(Error::NoForwardPass);
        }
        let width = loss.target_width(OUT);
        if width != W {
            return Err(Error::ShapeMismatch { op: "loss target", expected: (B, width), found: (B, W) });
        }
        let (output, delta) = L::output(&mut self.tape);
        let (output, target) = (output.as_flattened(), target.as_flattened());
        // A NaN would pass silently into the loss (Ok(NaN)) and every gradient.
        crate::finite::check_finite_cells("loss target", target, W)?;
        crate::finite::check_finite_cells("network output", output, OUT)?;
        loss.validate(output, target, OUT)?;
        let value = loss.value(output, target, OUT);
        loss.gradient(output, target, OUT, delta.as_flattened_mut());
        self.layers.backward(&self.input, &mut self.tape);
        Ok(value)
    }

    /// As [`StaticMlp::try_backward_loss`].
    ///
    /// # Panics
    /// Where [`StaticMlp::try_backward_loss`] returns an error.
    pub fn backward_loss<F: Loss<T> + ?Sized, const W: usize>(&mut self, loss: &F, target: &[[T; W]; B]) -> T {
        match self.try_backward_loss(loss, target) {
            Ok(value) => value,
            Err(err) => panic!("StaticMlp::backward_loss: {err}"),
        }
    }

    /// Sets every gradient to zero.
    pub fn zero_grad(&mut self) {
        self.layers.zero_grad();
    }

    /// Plain gradient descent, `p ← p − lr·grad`: [`StaticSgd`]'s update.
    ///
    /// # Errors
    /// As `Mlp::try_step`: a NaN, infinite or
    /// negative `lr`, or a NaN or infinite gradient; nothing changes then (the
    /// parameters, and the cached forward pass, which a following
    /// [`try_backward_loss`](StaticMlp::try_backward_loss) still uses).
    pub fn try_step(&mut self, lr: T) -> Result<()> {
        // The optimizer's checks read through `inspect_parameters`, which
        // keeps the forward pass; only the walk that writes drops it.
        crate::Optimizer::step(&mut StaticSgd::<T, 0>::with_lr(lr.as_f64())?, self)
    }
}

impl<T: Scalar, L: StaticLayers<T, IN, OUT>, const IN: usize, const OUT: usize, const B: usize> Parameters<T>
    for StaticMlp<T, L, IN, OUT, B>
{
    fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [T], &[T])) {
        // Parameters may change: the cached forward pass no longer matches them.
        self.forward_done = false;
        self.layers.visit_parameters(f);
    }

    /// The same walk, reading only: the cached forward pass is kept, so that
    /// an optimizer step refused after its checks changes nothing.
    fn inspect_parameters(&mut self, f: &mut dyn FnMut(&[T], &[T])) {
        self.layers.visit_parameters(&mut |values, grads| f(values, grads));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HalfMse, Optimizer, StaticAdam, Tanh};

    /// XOR in f32 with no heap (this test also runs under
    /// `cargo test --no-default-features --lib`).
    #[test]
    fn learns_xor_without_a_heap() {
        type Layers = (TrainLinear<f32, 2, 4, Tanh>, TrainLinear<f32, 4, 1, Identity>);
        const P: usize = <Layers as StaticLayers<f32, 2, 1>>::PARAMETERS;
        let mut rng = crate::Rng::new(3);
        let mut draw = || rng.uniform(-1.0, 1.0) as f32;
        let first = TrainLinear::new(core::array::from_fn(|_| [draw(), draw()]), [0.0; 4], Tanh);
        let second = TrainLinear::new([core::array::from_fn(|_| draw())], [0.0], Identity);
        let mut net = StaticMlp::<f32, Layers, 2, 1, 4>::new((first, second));
        let mut adam = StaticAdam::<f32, P>::with_lr(0.05).unwrap();
        let x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
        let y = [[0.0], [1.0], [1.0], [0.0]];
        let mut loss = f32::INFINITY;
        for _ in 0..500 {
            net.zero_grad();
            net.forward(&x);
            loss = net.backward_loss(&HalfMse, &y);
            adam.step(&mut net).unwrap();
        }
        assert!(loss < 1e-3, "{loss}");
        // The trained layers are ordinary static layers for inference.
        let (first, second) = net.into_layers();
        let layers = (first.layer, second.layer);
        let prediction = crate::Predict::predict(&layers, &[1.0, 0.0])[0];
        assert!((prediction - 1.0).abs() < 0.1, "{prediction}");
    }
}
