//! Optimizers: anything that updates [`Parameters`] from their gradients.
//!
//! [`Sgd`], [`Adam`] (and AdamW through [`AdamConfig::adamw`]) and [`RmsProp`]
//! follow `torch.optim` exactly, including its defaults and the order of its
//! floating-point operations where that matters. [`Schedule`]s change the
//! learning rate between epochs.
//!
//! Each optimizer's update is written once, over per-tensor state buffers
//! ([`Moments`]): the heap optimizers keep them in `Vec`s made on the first
//! step; [`StaticSgd`] and [`StaticAdam`] keep them in arrays of the
//! network's parameter count, for training without a heap.
//!
//! Every optimizer saves and restores its state through [`OptimizerState`]
//! (`state.rs`, with `alloc`): safetensors tensors named after the parameters
//! ([`ParameterInfo`]), so that training resumes bit for bit.
//!
//! Files: `mod.rs` holds [`Parameters`], [`Optimizer`], [`Moments`] and the
//! checks every step makes; `sgd.rs` [`Sgd`] and [`StaticSgd`]; `adam.rs`
//! [`Adam`] and [`StaticAdam`]; `rmsprop.rs` [`RmsProp`]; `schedule.rs` the
//! [`Schedule`]s; `state.rs` [`OptimizerState`] and its file format.

/// [`Optimizer::state`] and [`Optimizer::state_mut`] for an optimizer that
/// implements [`OptimizerState`] itself (every optimizer of this crate).
macro_rules! state_through_self {
    () => {
        #[cfg(feature = "alloc")]
        fn state(&self) -> Option<&dyn crate::OptimizerState<T>> {
            Some(self)
        }

        #[cfg(feature = "alloc")]
        fn state_mut(&mut self) -> Option<&mut dyn crate::OptimizerState<T>> {
            Some(self)
        }
    };
}

mod adam;
#[cfg(feature = "alloc")]
mod rmsprop;
mod schedule;
mod sgd;
#[cfg(feature = "alloc")]
mod state;

#[cfg(feature = "alloc")]
pub use adam::Adam;
pub use adam::{AdamConfig, StaticAdam};
#[cfg(feature = "alloc")]
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use schedule::{CosineAnnealing, Exponential, Schedule, StepDecay};
#[cfg(feature = "alloc")]
pub use sgd::Sgd;
pub use sgd::{SgdConfig, StaticSgd};
#[cfg(feature = "alloc")]
pub use state::{OptimizerState, ParameterInfo};

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use crate::{Error, Result, Scalar};

/// Something with parameters and gradients that an [`Optimizer`] can update:
/// every network kind (`Mlp`, [`StaticMlp`](crate::StaticMlp)) implements it.
pub trait Parameters<T: Scalar> {
    /// Calls `f(values, gradients)` once per parameter tensor, always in the
    /// same order (for a network: each layer's weights, then its bias).
    fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [T], &[T]));

    /// Calls `f(values, gradients)` once per parameter tensor, in the order of
    /// [`visit_parameters`](Parameters::visit_parameters), to read them only:
    /// what an optimizer does before it decides to update (checking the
    /// gradients, sizing its state), so that a refused step changes nothing.
    /// The default goes through `visit_parameters`; a network that drops its
    /// cached forward pass there (parameters may change) overrides this to keep it.
    fn inspect_parameters(&mut self, f: &mut dyn FnMut(&[T], &[T])) {
        self.visit_parameters(&mut |values, grads| f(values, grads));
    }
}

/// Updates parameters from their gradients, keeping its own state (moments,
/// step count) between calls.
///
/// Every optimizer is built the same way: `X::new(XConfig { .. })` with the
/// hyper-parameters (whose `Default` is PyTorch's), or `X::with_lr(lr)` for
/// PyTorch's defaults with another learning rate; `config()` reads them back
/// and `reset()` forgets the state.
///
/// The trait is object safe, so a training loop can take any optimizer:
///
/// ```
/// use tinymlp::{Act, Adam, DynMlp, HalfMse, Init, Matrix, Optimizer, Rng, Sgd};
///
/// fn train(net: &mut DynMlp<f64>, optimizer: &mut dyn Optimizer<f64>, x: &Matrix<f64>, y: &Matrix<f64>) -> tinymlp::Result<f64> {
///     net.zero_grad();
///     net.try_forward(x)?;
///     let loss = net.try_backward_loss(&HalfMse, y)?;
///     optimizer.step(net)?;
///     Ok(loss)
/// }
///
/// let mut net = DynMlp::<f64>::from_widths(&[1, 8, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))?;
/// let (x, y) = (Matrix::column(&[0.0, 0.5, 1.0]), Matrix::column(&[0.0, 0.25, 1.0]));
/// let mut optimizers: Vec<Box<dyn Optimizer<f64>>> = vec![Box::new(Sgd::with_lr(0.1)?), Box::new(Adam::with_lr(0.01)?)];
/// for optimizer in &mut optimizers {
///     assert!(train(&mut net, optimizer.as_mut(), &x, &y)?.is_finite());
/// }
/// # Ok::<(), tinymlp::Error>(())
/// ```
pub trait Optimizer<T: Scalar> {
    /// One update of every parameter from its current gradient.
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite) for a NaN or infinite
    /// gradient, naming the tensor (in visiting order) and index;
    /// [`Error::OptimizerState`](crate::Error::OptimizerState) if the
    /// parameters' shapes differ from those the optimizer's state was built
    /// for. Nothing is updated then. (The hyper-parameters were checked when
    /// they were set.) A finite rate so large that `lr · gradient` overflows
    /// still makes infinite weights: `Mlp::check_parameters`
    /// finds them.
    fn step(&mut self, params: &mut dyn Parameters<T>) -> Result<()>;

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Changes the learning rate (for [`Schedule`]s); the state is kept.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter)
    /// naming `lr` for a rate the constructor would refuse with the other
    /// hyper-parameters: NaN, negative, infinite, not finite in `T` (`1e39`
    /// for `f32`), or (Adam) with `lr / (1 - beta1)` not finite in `T`, or
    /// (AdamW) with `lr · weight_decay` not finite in `T`. The optimizer
    /// keeps its rate then.
    ///
    /// ```
    /// use tinymlp::{Error, Optimizer, Sgd};
    ///
    /// let mut sgd = Sgd::<f32>::with_lr(0.1)?;
    /// sgd.try_set_lr(0.05)?;
    /// let err = sgd.try_set_lr(1e39).unwrap_err();
    /// assert!(matches!(err, Error::InvalidHyperParameter { name: "lr", .. }));
    /// assert_eq!(sgd.lr(), 0.05);
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    fn try_set_lr(&mut self, lr: f64) -> Result<()>;

    /// As [`try_set_lr`](Optimizer::try_set_lr).
    ///
    /// # Panics
    /// If `try_set_lr` refuses `lr`, with its error's message.
    fn set_lr(&mut self, lr: f64) {
        if let Err(err) = self.try_set_lr(lr) {
            panic!("Optimizer::set_lr: {err}");
        }
    }

    /// This optimizer's state, for checkpoints ([`Mlp::checkpoint_to_bytes`](crate::Mlp::checkpoint_to_bytes));
    /// every optimizer of this crate returns `Some(self)`. The default is
    /// `None`: an optimizer that cannot save its state, which checkpoints refuse.
    #[cfg(feature = "alloc")]
    fn state(&self) -> Option<&dyn OptimizerState<T>> {
        None
    }

    /// This optimizer's state, for restoring it from a checkpoint; `None` as
    /// [`state`](Optimizer::state).
    #[cfg(feature = "alloc")]
    fn state_mut(&mut self) -> Option<&mut dyn OptimizerState<T>> {
        None
    }
}

/// An optimizer's per-tensor state (moments, momentum): one buffer per
/// parameter tensor, in visiting order.
pub(crate) trait Moments<T> {
    /// Makes the buffers for `params`' tensors on first use (heap), or checks
    /// that they fit them (arrays, and heap buffers already made), so that a
    /// step on a different network is an error rather than a silent mix-up.
    fn fit(&mut self, params: &mut dyn Parameters<T>) -> Result<()>;

    /// Tensor `index`'s buffer: `len` values, `offset` values into the state.
    fn tensor(&mut self, index: usize, offset: usize, len: usize) -> &mut [T];
}

#[cfg(feature = "alloc")]
impl<T: Scalar> Moments<T> for Vec<Vec<T>> {
    fn fit(&mut self, params: &mut dyn Parameters<T>) -> Result<()> {
        if self.is_empty() {
            params.inspect_parameters(&mut |values, _| self.push(alloc::vec![T::zero(); values.len()]));
            return Ok(());
        }
        let (mut index, mut mismatch) = (0usize, None);
        params.inspect_parameters(&mut |values, _| {
            let expected = self.get(index).map_or(0, Vec::len);
            if mismatch.is_none() && index < self.len() && expected != values.len() {
                mismatch = Some(Error::OptimizerState { tensor: Some(index), expected, found: values.len() });
            }
            index += 1;
        });
        match mismatch {
            Some(error) => Err(error),
            None if index != self.len() => {
                Err(Error::OptimizerState { tensor: None, expected: self.len(), found: index })
            }
            None => Ok(()),
        }
    }

    fn tensor(&mut self, index: usize, _offset: usize, _len: usize) -> &mut [T] {
        &mut self[index]
    }
}

impl<T: Scalar, const N: usize> Moments<T> for [T; N] {
    fn fit(&mut self, params: &mut dyn Parameters<T>) -> Result<()> {
        let mut total = 0usize;
        params.inspect_parameters(&mut |values, _| total = total.saturating_add(values.len()));
        if total == N { Ok(()) } else { Err(Error::StateSize { expected: N, found: total }) }
    }

    fn tensor(&mut self, _index: usize, offset: usize, len: usize) -> &mut [T] {
        &mut self[offset..offset + len]
    }
}

/// Calls `update(values, grads, index, offset)` for every parameter tensor:
/// its index in visiting order and the number of values before it.
pub(crate) fn for_each_tensor<T: Scalar>(
    params: &mut dyn Parameters<T>,
    mut update: impl FnMut(&mut [T], &[T], usize, usize),
) {
    let (mut index, mut offset) = (0usize, 0usize);
    params.visit_parameters(&mut |values, grads| {
        update(values, grads, index, offset);
        index += 1;
        offset += values.len();
    });
}

/// Refuses a step on NaN or infinite gradients, before anything is updated: one
/// read of the gradients, cheap next to the forward and backward passes that
/// made them, and it keeps a single bad batch from spoiling every weight.
pub(crate) fn check_gradients<T: Scalar, P: Parameters<T> + ?Sized>(params: &mut P) -> Result<()> {
    // Only the position is kept while visiting; the error (and its name) is
    // made after, which keeps the visiting closure's frame small.
    let (mut tensor, mut found) = (0usize, None);
    params.inspect_parameters(&mut |_, grads| {
        if found.is_none()
            && let Some((index, value)) = crate::first_non_finite(grads)
        {
            found = Some((tensor, index, value.as_f64()));
        }
        tensor += 1;
    });
    match found {
        None => Ok(()),
        Some((tensor, index, value)) => {
            let what = crate::Name::numbered("gradient of parameter tensor ", tensor);
            Err(Error::NonFinite { what, index, value })
        }
    }
}

/// A few parameters and their gradient, as the optimizers' unit tests step them.
#[cfg(test)]
pub(crate) struct Quadratic<const N: usize> {
    pub(crate) x: [f64; N],
    pub(crate) grad: [f64; N],
}

#[cfg(test)]
impl<const N: usize> Parameters<f64> for Quadratic<N> {
    fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [f64], &[f64])) {
        f(&mut self.x, &self.grad);
    }
}

/// `torch.lerp(start, end, weight)` exactly as PyTorch's CPU kernel computes
/// it (two formulas, for accuracy on either side of 0.5). Adam picks the
/// formula once per step (see `adam.rs`); RMSprop (`alloc`) uses this.
#[cfg(any(feature = "alloc", test))]
pub(crate) fn lerp<T: Scalar>(start: T, end: T, weight: T) -> T {
    if weight.abs() < T::from_f64(0.5) { lerp_small(start, end, weight) } else { lerp_large(start, end, weight) }
}

/// [`lerp`]'s formula for weights below 0.5 in magnitude.
#[inline(always)]
pub(crate) fn lerp_small<T: Scalar>(start: T, end: T, weight: T) -> T {
    start + weight * (end - start)
}

/// [`lerp`]'s formula for weights of 0.5 or more in magnitude.
#[inline(always)]
pub(crate) fn lerp_large<T: Scalar>(start: T, end: T, weight: T) -> T {
    end - (end - start) * (T::one() - weight)
}

/// Checks a learning rate: finite, at least 0, and finite in `T` (the
/// constructors and [`Optimizer::try_set_lr`]).
pub(crate) fn check_lr<T: Scalar>(lr: f64) -> Result<()> {
    check_value::<T>("lr", lr, lr >= 0.0, "a finite value >= 0")
}

/// Checks a hyper-parameter, naming it in the error.
pub(crate) fn check_range(name: &'static str, value: f64, ok: bool, expected: &'static str) -> Result<()> {
    if ok && !value.is_nan() { Ok(()) } else { Err(Error::InvalidHyperParameter { name, value, expected }) }
}

/// The `eps` of Adam and RMSprop: above 0 in `T` (with 0 a zero gradient's
/// update is 0/0), and finite.
pub(crate) fn check_eps<T: Scalar>(eps: f64) -> Result<()> {
    check_value::<T>("eps", eps, T::from_f64(eps) > T::zero(), "a finite value > 0 (also in f32 for an f32 optimizer)")
}

/// Checks a hyper-parameter that the step converts to `T`: `ok` (its range),
/// finite, and still finite once converted (`1e39` is an f64 but infinite as
/// an f32, which would turn every weight into NaN or an infinity).
pub(crate) fn check_value<T: Scalar>(name: &'static str, value: f64, ok: bool, expected: &'static str) -> Result<()> {
    check_range(name, value, ok && value.is_finite(), expected)?;
    // Only f32 can fail here: an f64 that is finite stays so.
    check_range(
        name,
        value,
        crate::finite::is_finite_in::<T>(value),
        "a value finite in f32 (magnitude at most 3.4028235e38)",
    )
}
