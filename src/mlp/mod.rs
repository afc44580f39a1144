//! [`Mlp`]: a stack of dense layers with cached activations, trained with
//! PyTorch's four operations: `forward`, `backward`, `zero_grad`, `step`.
//!
//! One network type serves both kinds of shape. The layers are any [`Layers`]
//! implementation: a tuple of [`Linear`](crate::Linear)s (widths checked at
//! compile time) or a `Vec` of [`Dense`] layers ([`DynMlp`], widths chosen at
//! run time). Either way every layer goes through [`Dense::forward_batch`] and
//! [`Dense::backward_batch`]; this file only moves buffers between them.
//!
//! Where things are: `mod.rs` (the network: forward, backward, step,
//! parameter vectors and checks), `dyn_mlp.rs` ([`DynMlp`]'s constructors),
//! `predict.rs` (inference that leaves the training cache alone, into the
//! caller's buffers), `state_dict.rs` (safetensors in and out), `describe.rs` (the description
//! of the network those files carry, and loading from it), `rust_source.rs` (export as a
//! `static` of [`StaticLinear`](crate::StaticLinear)s), `fit.rs` ([`Fit`]),
//! `checkpoint.rs` (network + optimizer state + [`Fit`] progress in one file,
//! saved atomically, for exact resume).
//!
//! ```
//! use tinymlp::{Act, Adam, DynMlp, HalfMse, Init, Matrix, Optimizer, Rng};
//!
//! let mut rng = Rng::new(1);
//! let mut net = DynMlp::<f64>::from_widths(&[1, 4, 4, 1], Act::Sigmoid, Act::Sigmoid, Init::TorchDefault, &mut rng)?;
//! let x = Matrix::column(&[0.2, 1.2]);
//! let y = Matrix::column(&[0.9, 0.1]);
//! let mut adam = Adam::with_lr(0.01)?;
//! for _ in 0..10 {
//!     net.zero_grad();
//!     net.forward(&x);
//!     let loss = net.try_backward_loss(&HalfMse, &y)?;
//!     adam.step(&mut net)?;
//!     assert!(loss.is_finite());
//! }
//! # Ok::<(), tinymlp::Error>(())
//! ```

mod checkpoint;
mod describe;
mod dyn_mlp;
mod fit;
mod predict;
mod rust_source;
mod state_dict;

#[cfg(feature = "std")]
pub use checkpoint::write_atomically;
pub use checkpoint::{CheckpointError, Progress};
pub use fit::{EpochReport, Fit};
pub use predict::PredictScratch;
pub use state_dict::TensorNames;

use alloc::vec::Vec;

use crate::{Activation, Dense, Error, Layers, Loss, Matrix, Optimizer, Parameters, Result, Scalar};

/// A multilayer perceptron with the buffers training needs.
///
/// `forward` keeps each layer's pre-activation and output; `backward` ADDS the
/// gradients of the loss to each layer's gradient buffers (call
/// [`zero_grad`](Mlp::zero_grad) between steps, as in PyTorch); `step` is plain
/// gradient descent. The buffers are reused: after the first step at a batch
/// size, a training step allocates nothing.
///
/// The cached forward pass belongs to the weights that made it: an optimizer
/// step that updates them (as [`set_parameters`](Mlp::set_parameters) and
/// [`layer_mut`](Mlp::layer_mut)) drops it, so a backward needs a new forward
/// pass first ([`Error::NoForwardPass`] otherwise). A step refused by its
/// checks (a NaN gradient, say) changes nothing, the cache included.
///
/// # Errors and panics: one rule
/// Every operation of the training loop that can fail on the caller's data
/// comes as a pair: `try_x` returns a [`Result`] and changes nothing on error,
/// and `x` is the same call that panics with the error's message instead
/// (documented under `# Panics`). The pairs: [`try_new`](Mlp::try_new) /
/// [`new`](Mlp::new), [`try_forward`](Mlp::try_forward) / [`forward`](Mlp::forward),
/// [`try_loss`](Mlp::try_loss) / [`loss`](Mlp::loss),
/// [`try_backward_loss`](Mlp::try_backward_loss) / [`backward_loss`](Mlp::backward_loss),
/// [`try_backward`](Mlp::try_backward) / [`backward`](Mlp::backward),
/// [`try_step`](Mlp::try_step) / [`step`](Mlp::step),
/// [`try_predict`](Mlp::try_predict) / [`predict`](Mlp::predict) and
/// [`try_predict_into`](Mlp::try_predict_into) / [`predict_into`](Mlp::predict_into). Everything
/// else that can fail (files, parameter vectors, checks) returns a `Result`
/// under its plain name and has no panicking twin.
#[derive(Debug, Clone)]
pub struct Mlp<T: Scalar, L> {
    layers: L,
    cache: Cache<T>,
    input_grad_wanted: bool,
}

/// A network whose widths are chosen at run time: a `Vec` of [`Dense`] layers
/// sharing the activation type `A` (by default the run-time choice [`Act`](crate::Act)).
pub type DynMlp<T, A = crate::Act> = Mlp<T, Vec<Dense<T, A>>>;

/// What forward keeps for backward, reused from step to step.
#[derive(Debug, Clone, Default)]
struct Cache<T: Scalar> {
    /// Batch size of the last forward pass; `None` before the first.
    batch: Option<usize>,
    /// A copy of the last input batch.
    input: Matrix<T>,
    /// Per layer: `x·Wᵀ + b`.
    pre: Vec<Matrix<T>>,
    /// Per layer: the activation of `pre`.
    out: Vec<Matrix<T>>,
    /// Per layer: gradient of the loss with respect to `out`, then `pre`.
    delta: Vec<Matrix<T>>,
    /// Gradient with respect to the input, when asked for.
    input_grad: Matrix<T>,
}

impl<T: Scalar, L: Layers<T>> Mlp<T, L> {
    /// A network of `layers`.
    ///
    /// # Panics
    /// Panics where [`Mlp::try_new`] returns an error; a tuple of
    /// [`Linear`](crate::Linear)s never does.
    #[must_use]
    pub fn new(layers: L) -> Self {
        match Self::try_new(layers) {
            Ok(net) => net,
            Err(err) => panic!("Mlp::new: {err}"),
        }
    }

    /// A network of `layers`, checking that there is at least one layer, no
    /// width is zero, each layer's weight and bias fit its widths, and each
    /// layer's inputs equal the previous layer's outputs.
    ///
    /// # Errors
    /// [`Error::InvalidWidths`] (naming the layer and its widths) or
    /// [`Error::LayersDoNotChain`].
    pub fn try_new(layers: L) -> Result<Self> {
        let count = layers.count();
        if count == 0 {
            let reason = "a network needs at least one layer";
            return Err(Error::InvalidWidths { reason, layer: None, inputs: 0, outputs: 0 });
        }
        for index in 0..count {
            let layer = layers.layer(index);
            let (inputs, outputs) = (layer.inputs(), layer.outputs());
            let invalid = |reason| Err(Error::InvalidWidths { reason, layer: Some(index), inputs, outputs });
            if inputs == 0 || outputs == 0 {
                return invalid("every width must be at least 1");
            }
            // Every constructor of `Dense` keeps this; checked so that no layer
            // reaches the products with a weight of another size.
            if inputs.checked_mul(outputs) != Some(layer.weight().len()) || layer.bias().len() != outputs {
                return invalid("its weight or bias does not hold inputs x outputs or outputs values");
            }
            if index > 0 {
                let previous_outputs = layers.layer(index - 1).outputs();
                if previous_outputs != layer.inputs() {
                    return Err(Error::LayersDoNotChain { layer: index, previous_outputs, inputs: layer.inputs() });
                }
            }
        }
        let empty = || (0..count).map(|_| Matrix::zeros(0, 0)).collect::<Vec<_>>();
        let cache = Cache { pre: empty(), out: empty(), delta: empty(), ..Cache::default() };
        Ok(Self { layers, cache, input_grad_wanted: false })
    }

    /// The layers as they were given (the tuple or `Vec`); see
    /// [`Mlp::iter_layers`] to go through them one by one.
    #[must_use]
    pub fn layers(&self) -> &L {
        &self.layers
    }

    /// Layer `index`: its widths, weights, biases, gradients and activation;
    /// `None` if `index >= self.depth()`.
    ///
    /// ```
    /// use tinymlp::{Act, DynMlp, Init, Rng};
    ///
    /// let net = DynMlp::<f64>::from_widths(&[2, 3, 1], Act::Tanh, Act::Identity, Init::Zeros, &mut Rng::new(0))?;
    /// assert_eq!(net.layer(1).map(|layer| layer.inputs()), Some(3));
    /// assert!(net.layer(2).is_none());
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    #[must_use]
    pub fn layer(&self, index: usize) -> Option<&Dense<T, dyn Activation<T> + '_>> {
        (index < self.layers.count()).then(|| self.layers.layer(index))
    }

    /// The layers in order, each as [`Mlp::layer`] gives it.
    ///
    /// ```
    /// use tinymlp::{Identity, Linear, Mlp, Rng, Tanh};
    ///
    /// let mut rng = Rng::new(0);
    /// let net = Mlp::new((Linear::<f32, 2, 4, Tanh>::new(&mut rng), Linear::<f32, 4, 1, Identity>::new(&mut rng)));
    /// let weights: usize = net.iter_layers().map(|layer| layer.weight().len()).sum();
    /// assert_eq!(weights, 2 * 4 + 4 * 1);
    /// ```
    pub fn iter_layers(&self) -> impl ExactSizeIterator<Item = &Dense<T, dyn Activation<T> + '_>> + '_ {
        (0..self.layers.count()).map(|index| self.layers.layer(index))
    }

    /// Layer `index`, mutable: its weights, biases and gradients. The layer
    /// comes behind a trait object, which cannot be replaced by one of other
    /// widths, so the network stays well formed. `None` if `index >=
    /// self.depth()`.
    ///
    /// ```
    /// use tinymlp::{DynMlp, Init, Rng, Tanh, Act};
    ///
    /// let mut net = DynMlp::<f64>::from_widths(&[2, 3, 1], Act::Tanh, Act::Identity, Init::Zeros, &mut Rng::new(0))?;
    /// net.layer_mut(1).unwrap().bias_mut().fill(0.5);
    /// assert_eq!(net.try_predict(&tinymlp::Matrix::zeros(1, 2))?.as_slice(), &[0.5]);
    /// assert!(net.layer_mut(2).is_none());
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    #[must_use]
    pub fn layer_mut(&mut self, index: usize) -> Option<&mut Dense<T, dyn Activation<T> + '_>> {
        if index >= self.layers.count() {
            return None;
        }
        // Parameters may change under the cache; values cached by a forward
        // pass would no longer match them.
        self.cache.batch = None;
        Some(self.layers.layer_mut(index))
    }

    /// Unwraps the layers.
    #[must_use]
    pub fn into_layers(self) -> L {
        self.layers
    }

    /// Number of layers.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.layers.count()
    }

    /// Input width.
    #[must_use]
    pub fn inputs(&self) -> usize {
        self.layers.layer(0).inputs()
    }

    /// Output width.
    #[must_use]
    pub fn outputs(&self) -> usize {
        self.layers.layer(self.depth() - 1).outputs()
    }

    /// All widths, input first: `[1, 4, 4, 1]` for a network with one input,
    /// two hidden layers of 4 and one output.
    #[must_use]
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = Vec::with_capacity(self.depth() + 1);
        widths.push(self.inputs());
        widths.extend((0..self.depth()).map(|i| self.layers.layer(i).outputs()));
        widths
    }

    /// Total number of weights and biases.
    #[must_use]
    pub fn parameter_count(&self) -> usize {
        (0..self.depth()).map(|i| self.layers.layer(i).parameter_count()).sum()
    }

    /// The parameter tensors' names and shapes in visiting order
    /// (`layers.{i}.weight` `[outputs, inputs]`, `layers.{i}.bias`
    /// `[outputs]`, the names [`Mlp::to_safetensors`] writes), for saving and
    /// restoring an optimizer's state with [`OptimizerState`](crate::OptimizerState).
    ///
    /// ```
    /// use tinymlp::{Act, DynMlp, Init, Rng};
    ///
    /// let net = DynMlp::<f32>::from_widths(&[2, 3, 1], Act::Tanh, Act::Identity, Init::Zeros, &mut Rng::new(0))?;
    /// let info = net.parameter_info();
    /// assert_eq!(info.iter().map(|(name, _)| name).collect::<Vec<_>>(), ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]);
    /// assert_eq!(info.parameter_count(), net.parameter_count());
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    #[must_use]
    pub fn parameter_info(&self) -> crate::ParameterInfo {
        crate::ParameterInfo::dense(self.iter_layers().map(|layer| (layer.inputs(), layer.outputs())))
    }

    /// Also compute the gradient with respect to the input in `backward`
    /// (PyTorch's `x.requires_grad = True`); read it with [`Mlp::input_grad`].
    /// Off by default, since it costs one more product.
    pub fn set_input_grad(&mut self, wanted: bool) {
        self.input_grad_wanted = wanted;
    }

    /// Whether `backward` computes the input gradient (see [`Mlp::set_input_grad`]).
    #[must_use]
    pub fn wants_input_grad(&self) -> bool {
        self.input_grad_wanted
    }

    /// The gradient of the loss with respect to the last backward's input
    /// batch, if [`Mlp::set_input_grad`] is on and was on for that backward.
    /// `None` before it, and from a forward pass (a new batch) until its
    /// backward: never a gradient of another batch.
    ///
    /// ```
    /// use tinymlp::{Act, DynMlp, HalfMse, Init, Matrix, Rng};
    ///
    /// let mut net = DynMlp::<f64>::from_widths(&[2, 3, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))?;
    /// net.set_input_grad(true);
    /// net.forward(&Matrix::zeros(4, 2));
    /// assert!(net.input_grad().is_none(), "no backward on this batch yet");
    /// net.try_backward_loss(&HalfMse, &Matrix::zeros(4, 1))?;
    /// assert_eq!(net.input_grad().map(Matrix::shape), Some((4, 2)));
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    #[must_use]
    pub fn input_grad(&self) -> Option<&Matrix<T>> {
        // Emptied by every forward pass and by every backward that does not
        // compute it, so a non-empty gradient is the last backward's.
        (self.input_grad_wanted && !self.cache.input_grad.is_empty()).then_some(&self.cache.input_grad)
    }

    /// The output of the last forward pass; `None` before one, and once the
    /// parameters changed since (an optimizer step, `set_parameters`,
    /// `layer_mut`, a load), as a backward then is [`Error::NoForwardPass`].
    #[must_use]
    pub fn output(&self) -> Option<&Matrix<T>> {
        self.cache.batch.map(|_| &self.cache.out[self.depth() - 1])
    }

    /// Forward pass on a batch (one sample per row), keeping what backward needs.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` does not have [`Mlp::inputs`] columns,
    /// [`Error::EmptyBatch`] if it has no rows. The cache is untouched then.
    pub fn try_forward(&mut self, x: &Matrix<T>) -> Result<&Matrix<T>> {
        if x.cols() != self.inputs() {
            return Err(Error::ShapeMismatch { op: "forward", expected: (x.rows(), self.inputs()), found: x.shape() });
        }
        if x.rows() == 0 {
            return Err(Error::EmptyBatch { op: "forward" });
        }
        let batch = x.rows();
        let cache = &mut self.cache;
        cache.input.reshape_for(batch, x.cols());
        cache.input.as_mut_slice().copy_from_slice(x.as_slice());
        // The input gradient of the previous batch is not this batch's.
        cache.input_grad.reshape_for(0, 0);
        for index in 0..self.layers.count() {
            let layer = self.layers.layer(index);
            let (before, rest) = cache.out.split_at_mut(index);
            let input = before.last().unwrap_or(&cache.input);
            let (pre, out) = (&mut cache.pre[index], &mut rest[0]);
            pre.reshape_for(batch, layer.outputs());
            out.reshape_for(batch, layer.outputs());
            layer.forward_batch(input.as_slice(), pre.as_mut_slice(), out.as_mut_slice());
        }
        cache.batch = Some(batch);
        Ok(&cache.out[self.layers.count() - 1])
    }

    /// Forward pass on a batch; see [`Mlp::try_forward`].
    ///
    /// # Panics
    /// Panics if `x` does not have [`Mlp::inputs`] columns or has no rows.
    pub fn forward(&mut self, x: &Matrix<T>) -> &Matrix<T> {
        match self.try_forward(x) {
            Ok(_) => self.output().unwrap_or_else(|| unreachable!("forward just cached an output")),
            Err(err) => panic!("Mlp::forward: {err}"),
        }
    }

    /// The loss of the last forward pass's output against `target`, without
    /// gradients.
    ///
    /// # Errors
    /// [`Error::NoForwardPass`] before a forward pass (or after the
    /// parameters changed since); [`Error::ShapeMismatch`]
    /// if `target` does not fit the output; [`Error::NonFinite`] for a NaN or
    /// infinite value in `target` (named `loss target row {r} col {c}`) or in
    /// the output (`network output row {r} col {c}`, e.g. from a NaN input or
    /// diverged weights); any error of the loss's [`validate`](Loss::validate).
    /// (Stricter than PyTorch, whose cross-entropy accepts `-inf` logits as a
    /// mask: a network's output is never meant to be infinite here.)
    pub fn try_loss<F: Loss<T> + ?Sized>(&self, loss: &F, target: &Matrix<T>) -> Result<T> {
        let output = self.checked_output(loss, target)?;
        Ok(loss.value(output.as_slice(), target.as_slice(), output.cols()))
    }

    /// The loss of the last forward pass's output; see [`Mlp::try_loss`].
    ///
    /// # Panics
    /// Where [`Mlp::try_loss`] returns an error.
    #[must_use]
    pub fn loss<F: Loss<T> + ?Sized>(&self, loss: &F, target: &Matrix<T>) -> T {
        self.try_loss(loss, target).unwrap_or_else(|err| panic!("Mlp::loss: {err}"))
    }

    /// Backward pass from the loss: computes `loss(output, target)` for the last
    /// forward pass, back-propagates its gradient and ADDS the parameter
    /// gradients to the layers' buffers. Returns the loss.
    ///
    /// # Errors
    /// As [`Mlp::try_loss`]: [`Error::NoForwardPass`] before a forward pass (or
    /// after the parameters changed since); [`Error::ShapeMismatch`] if
    /// `target` does not fit; [`Error::NonFinite`] naming the row and column
    /// of a NaN or infinite target or output; the loss's own errors. Nothing
    /// is changed then.
    pub fn try_backward_loss<F: Loss<T> + ?Sized>(&mut self, loss: &F, target: &Matrix<T>) -> Result<T> {
        let output = self.checked_output(loss, target)?;
        let (width, value) = (output.cols(), loss.value(output.as_slice(), target.as_slice(), output.cols()));
        let last = self.depth() - 1;
        let cache = &mut self.cache;
        cache.delta[last].reshape_for(cache.out[last].rows(), width);
        loss.gradient(cache.out[last].as_slice(), target.as_slice(), width, cache.delta[last].as_mut_slice());
        self.backpropagate();
        Ok(value)
    }

    /// Backward pass from the loss, returning it; see [`Mlp::try_backward_loss`].
    ///
    /// # Panics
    /// Where [`Mlp::try_backward_loss`] returns an error.
    pub fn backward_loss<F: Loss<T> + ?Sized>(&mut self, loss: &F, target: &Matrix<T>) -> T {
        self.try_backward_loss(loss, target).unwrap_or_else(|err| panic!("Mlp::backward_loss: {err}"))
    }

    /// Backward pass from a given gradient of the loss with respect to the last
    /// forward pass's output (`batch x outputs`); ADDS the parameter gradients
    /// to the layers' buffers.
    ///
    /// # Errors
    /// [`Error::NoForwardPass`] before a forward pass (or after the
    /// parameters changed since); [`Error::ShapeMismatch`]
    /// if `output_grad` is not the output's shape. Nothing is changed then.
    pub fn try_backward(&mut self, output_grad: &Matrix<T>) -> Result<()> {
        let batch = self.cache.batch.ok_or(Error::NoForwardPass)?;
        let expected = (batch, self.outputs());
        if output_grad.shape() != expected {
            return Err(Error::ShapeMismatch { op: "backward", expected, found: output_grad.shape() });
        }
        let last = self.depth() - 1;
        let delta = &mut self.cache.delta[last];
        delta.reshape_for(expected.0, expected.1);
        delta.as_mut_slice().copy_from_slice(output_grad.as_slice());
        self.backpropagate();
        Ok(())
    }

    /// Backward pass from a given output gradient; see [`Mlp::try_backward`].
    ///
    /// # Panics
    /// Panics before a forward pass or if `output_grad` has the wrong shape.
    pub fn backward(&mut self, output_grad: &Matrix<T>) {
        if let Err(err) = self.try_backward(output_grad) {
            panic!("Mlp::backward: {err}");
        }
    }

    /// Resets every gradient buffer to zero.
    pub fn zero_grad(&mut self) {
        for index in 0..self.depth() {
            self.layers.layer_mut(index).zero_grad();
        }
    }

    /// Plain gradient descent, `p ← p − lr·grad` for every parameter: the
    /// update of [`Sgd`](crate::Sgd) without momentum (the same code), checked
    /// like every optimizer step. As every step that updates the weights, it
    /// drops the cached forward pass: forward again before the next backward.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] for a NaN, infinite or negative `lr`;
    /// [`Error::NonFinite`] naming the first NaN or infinite gradient. Nothing
    /// is updated then.
    pub fn try_step(&mut self, lr: T) -> Result<()> {
        crate::Sgd::<T>::with_lr(lr.as_f64())?.step(self)
    }

    /// Plain gradient descent; see [`Mlp::try_step`].
    ///
    /// # Panics
    /// Where [`Mlp::try_step`] returns an error.
    pub fn step(&mut self, lr: T) {
        if let Err(err) = self.try_step(lr) {
            panic!("Mlp::step: {err}");
        }
    }

    /// All parameters flattened: for each layer its weights (row-major), then its bias.
    #[must_use]
    pub fn parameters_to_vec(&self) -> Vec<T> {
        let mut all = Vec::with_capacity(self.parameter_count());
        for index in 0..self.depth() {
            let layer = self.layers.layer(index);
            all.extend_from_slice(layer.weight());
            all.extend_from_slice(layer.bias());
        }
        all
    }

    /// All gradients flattened in the order of [`Mlp::parameters_to_vec`].
    #[must_use]
    pub fn gradients_to_vec(&self) -> Vec<T> {
        let mut all = Vec::with_capacity(self.parameter_count());
        for index in 0..self.depth() {
            let layer = self.layers.layer(index);
            all.extend_from_slice(layer.weight_grad());
            all.extend_from_slice(layer.bias_grad());
        }
        all
    }

    /// Overwrites all parameters from a flat slice in the order of
    /// [`Mlp::parameters_to_vec`].
    ///
    /// # Errors
    /// [`Error::ParameterCount`] if the length is wrong; nothing changes then.
    pub fn set_parameters(&mut self, values: &[T]) -> Result<()> {
        let expected = self.parameter_count();
        if values.len() != expected {
            return Err(Error::ParameterCount { expected, found: values.len() });
        }
        let mut rest = values;
        // The walk drops the cached forward pass.
        self.visit_parameters(&mut |params, _| {
            let (head, tail) = rest.split_at(params.len());
            params.copy_from_slice(head);
            rest = tail;
        });
        Ok(())
    }

    /// `Ok` if every weight and bias is finite, else [`Error::NonFinite`]
    /// naming the first bad one (e.g. `layer 1 weight`, flat index, value).
    ///
    /// # Errors
    /// [`Error::NonFinite`].
    pub fn check_parameters(&self) -> Result<()> {
        self.check_tensors("", |layer| [layer.weight(), layer.bias()])
    }

    /// `Ok` if every accumulated gradient is finite, else [`Error::NonFinite`]
    /// naming the first bad one (e.g. `gradient of layer 0 bias`).
    ///
    /// # Errors
    /// [`Error::NonFinite`].
    pub fn check_gradients(&self) -> Result<()> {
        self.check_tensors("gradient of ", |layer| [layer.weight_grad(), layer.bias_grad()])
    }

    fn check_tensors<'s>(
        &'s self,
        prefix: &str,
        tensors: impl Fn(&'s Dense<T, dyn Activation<T> + 's>) -> [&'s [T]; 2],
    ) -> Result<()> {
        for index in 0..self.depth() {
            for (kind, values) in ["weight", "bias"].into_iter().zip(tensors(self.layers.layer(index))) {
                let name = crate::Name::format(format_args!("{prefix}layer {index} {kind}"));
                crate::finite::check_finite_named(name, values)?;
            }
        }
        Ok(())
    }

    /// A fingerprint of which smooth piece (see [`Activation::piece`]) every
    /// cached pre-activation lies in; equal fingerprints mean no kink was crossed.
    pub(crate) fn piece_signature(&self) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for index in 0..self.depth() {
            let activation = self.layers.layer(index).activation();
            for &z in self.cache.pre[index].as_slice() {
                hash = (hash ^ u64::from(activation.piece(z))).wrapping_mul(0x0100_0000_01b3);
            }
        }
        hash
    }

    fn checked_output<F: Loss<T> + ?Sized>(&self, loss: &F, target: &Matrix<T>) -> Result<&Matrix<T>> {
        let output = self.output().ok_or(Error::NoForwardPass)?;
        let expected = (output.rows(), loss.target_width(output.cols()));
        if target.shape() != expected {
            return Err(Error::ShapeMismatch { op: "loss target", expected, found: target.shape() });
        }
        // A NaN would pass silently into the loss (Ok(NaN)) and every gradient.
        check_finite_cells("loss target", target)?;
        check_finite_cells("network output", output)?;
        loss.validate(output.as_slice(), target.as_slice(), output.cols())?;
        Ok(output)
    }

    /// Runs every layer's backward from the last layer's `delta` (which holds
    /// the gradient with respect to the network output).
    fn backpropagate(&mut self) {
        let cache = &mut self.cache;
        let batch = cache.out[0].rows();
        for index in (0..self.layers.count()).rev() {
            let layer = self.layers.layer_mut(index);
            let input = if index == 0 { &cache.input } else { &cache.out[index - 1] };
            let (earlier, rest) = cache.delta.split_at_mut(index);
            let delta = rest[0].as_mut_slice();
            let input_grad = match earlier.last_mut() {
                Some(previous) => {
                    previous.reshape_for(batch, layer.inputs());
                    Some(previous.as_mut_slice())
                }
                None if self.input_grad_wanted => {
                    cache.input_grad.reshape_for(batch, layer.inputs());
                    Some(cache.input_grad.as_mut_slice())
                }
                None => {
                    // Not computed for this backward: drop an older batch's.
                    cache.input_grad.reshape_for(0, 0);
                    None
                }
            };
            layer.backward_batch(
                input.as_slice(),
                cache.pre[index].as_slice(),
                cache.out[index].as_slice(),
                delta,
                input_grad,
            );
        }
    }
}

/// `Ok` if every cell of `matrix` is finite, else [`Error::NonFinite`] naming
/// the first bad one `{what} row {r} col {c}`.
pub(crate) fn check_finite_cells<T: Scalar>(what: &'static str, matrix: &Matrix<T>) -> Result<()> {
    crate::finite::check_finite_cells(what, matrix.as_slice(), matrix.cols())
}

impl<T: Scalar, L: Layers<T>> Parameters<T> for Mlp<T, L> {
    /// Walks every layer's weights, then bias. The parameters may change, so
    /// the cached forward pass is dropped: a backward after an optimizer's
    /// step is [`Error::NoForwardPass`] instead of gradients of the old weights.
    fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [T], &[T])) {
        self.cache.batch = None;
        for index in 0..self.layers.count() {
            self.layers.layer_mut(index).visit_parameters(f);
        }
    }

    /// The same walk, reading only: the cached forward pass is kept (a step
    /// refused after its checks changes nothing).
    fn inspect_parameters(&mut self, f: &mut dyn FnMut(&[T], &[T])) {
        for layer in self.iter_layers() {
            f(layer.weight(), layer.weight_grad());
            f(layer.bias(), layer.bias_grad());
        }
    }
}
