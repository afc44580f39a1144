//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and
//! weight decay, as `torch.optim.SGD`.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use super::{Moments, Optimizer, Parameters, check_gradients, check_lr, check_range, check_value, for_each_tensor};
use crate::{Result, Scalar};

/// SGD's hyper-parameters; `Default` is PyTorch's default (with lr 1e-3, as
/// PyTorch has no default learning rate for SGD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor (default 0: none).
    pub momentum: f64,
    /// Dampening of the momentum's new term (default 0).
    pub dampening: f64,
    /// Nesterov momentum (default off; needs momentum > 0 and dampening 0).
    pub nesterov: bool,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self { lr: 1e-3, momentum: 0.0, dampening: 0.0, nesterov: false, weight_decay: 0.0 }
    }
}

/// `torch.optim.SGD`, step for step:
///
/// ```text
/// g ← grad + weight_decay · p
/// b ← g on the first step, else momentum · b + (1 - dampening) · g   (if momentum ≠ 0)
/// g ← g + momentum · b if nesterov, else b                          (if momentum ≠ 0)
/// p ← p - lr · g
/// ```
///
/// ```
/// use tinymlp::{Optimizer, Parameters, Sgd};
///
/// struct One([f64; 1], [f64; 1]);
/// impl Parameters<f64> for One {
///     fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [f64], &[f64])) {
///         f(&mut self.0, &self.1);
///     }
/// }
/// let mut p = One([1.0], [0.5]);
/// Sgd::with_lr(0.1)?.step(&mut p)?;
/// assert_eq!(p.0, [0.95]);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd<T> {
    config: SgdConfig,
    momentum_buffers: Vec<Vec<T>>,
}

#[cfg(feature = "alloc")]
impl<T: Scalar> Sgd<T> {
    /// SGD with the given hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) (as
    /// torch raises ValueError) naming the first bad value: a negative or
    /// non-finite `lr`, `momentum` or `weight_decay`, a non-finite `dampening`,
    /// any of them beyond `T`'s range (`lr = 1e39` for `f32`, which PyTorch
    /// would take and turn into infinite weights), or Nesterov without
    /// momentum or with dampening.
    pub fn new(config: SgdConfig) -> Result<Self> {
        config.validate::<T>()?;
        Ok(Self { config, momentum_buffers: Vec::new() })
    }

    /// Plain SGD (no momentum, no weight decay) with learning rate `lr`.
    ///
    /// # Errors
    /// As [`Sgd::new`].
    pub fn with_lr(lr: f64) -> Result<Self> {
        Self::new(SgdConfig { lr, ..SgdConfig::default() })
    }

    /// The hyper-parameters.
    #[must_use]
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

    /// Forgets the momentum buffers.
    pub fn reset(&mut self) {
        self.momentum_buffers.clear();
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut dyn Parameters<T>) -> Result<()> {
        let first_step = self.momentum_buffers.is_empty();
        step(&self.config, params, &mut self.momentum_buffers, first_step)
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn try_set_lr(&mut self, lr: f64) -> Result<()> {
        self.config = SgdConfig { lr, ..self.config }.validate::<T>()?;
        Ok(())
    }

    state_through_self!();
}

impl SgdConfig {
    /// Checks the hyper-parameters as `torch.optim.SGD` does, and that each
    /// stays finite in `T`; returns them.
    fn validate<T: Scalar>(self) -> Result<Self> {
        check_lr::<T>(self.lr)?;
        check_value::<T>("momentum", self.momentum, self.momentum >= 0.0, "a finite value >= 0")?;
        check_value::<T>("dampening", self.dampening, true, "a finite value")?;
        check_value::<T>("weight_decay", self.weight_decay, self.weight_decay >= 0.0, "a finite value >= 0")?;
        let nesterov_ok = !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0);
        check_range("momentum", self.momentum, nesterov_ok, "momentum > 0 and dampening 0 for Nesterov")?;
        Ok(self)
    }
}

/// One SGD step over `params` with the momentum buffers in `buffers` (used
/// only with momentum; `first_step` starts them from the gradient, as torch):
/// the one implementation behind [`Sgd`] and [`StaticSgd`]. Nothing changes
/// on error.
fn step<T: Scalar>(
    config: &SgdConfig,
    params: &mut dyn Parameters<T>,
    buffers: &mut dyn Moments<T>,
    first_step: bool,
) -> Result<()> {
    check_gradients(params)?;
    let SgdConfig { lr, momentum, dampening, nesterov, weight_decay } = *config;
    if momentum != 0.0 {
        buffers.fit(params)?;
    }
    let minus_lr = T::from_f64(-lr);
    let (decay, momentum_t, keep) = (T::from_f64(weight_decay), T::from_f64(momentum), T::from_f64(1.0 - dampening));
    for_each_tensor(params, |values, grads, index, offset| {
        let with_decay = |p: T, grad: T| if weight_decay != 0.0 { grad + decay * p } else { grad };
        if momentum == 0.0 {
            // Plain SGD: one fused, vectorisable pass (the common case).
            for (p, &grad) in values.iter_mut().zip(grads) {
                *p = *p + minus_lr * with_decay(*p, grad);
            }
            return;
        }
        let buffer = buffers.tensor(index, offset, values.len());
        for ((p, &grad), b) in values.iter_mut().zip(grads).zip(buffer.iter_mut()) {
            let g = with_decay(*p, grad);
            *b = if first_step { g } else { *b * momentum_t + keep * g };
            let step = if nesterov { g + momentum_t * *b } else { *b };
            *p = *p + minus_lr * step;
        }
    });
    Ok(())
}

/// `Sgd` with its momentum buffer in an array: no heap. `N` is the
/// network's number of parameters; a step on parameters of another size is
/// an error (checked only with momentum, which is what uses the array).
///
/// ```
/// use tinymlp::{Optimizer, Parameters, SgdConfig, StaticSgd};
///
/// struct One([f64; 1], [f64; 1]);
/// impl Parameters<f64> for One {
///     fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [f64], &[f64])) {
///         f(&mut self.0, &self.1);
///     }
/// }
/// let mut p = One([1.0], [0.5]);
/// let mut sgd = StaticSgd::<f64, 1>::new(SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() })?;
/// sgd.step(&mut p)?;
/// sgd.step(&mut p)?;
/// assert_eq!(p.0, [1.0 - 0.05 - 0.1 * (0.9 * 0.5 + 0.5)]);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StaticSgd<T, const N: usize> {
    config: SgdConfig,
    started: bool,
    momentum_buffer: [T; N],
}

impl<T: Scalar, const N: usize> StaticSgd<T, N> {
    /// SGD with the given hyper-parameters.
    ///
    /// # Errors
    /// As `Sgd::new`.
    pub fn new(config: SgdConfig) -> Result<Self> {
        config.validate::<T>()?;
        Ok(Self { config, started: false, momentum_buffer: [T::zero(); N] })
    }

    /// Plain SGD (no momentum, no weight decay) with learning rate `lr`.
    ///
    /// # Errors
    /// As [`StaticSgd::new`].
    pub fn with_lr(lr: f64) -> Result<Self> {
        Self::new(SgdConfig { lr, ..SgdConfig::default() })
    }

    /// The hyper-parameters.
    #[must_use]
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

    /// Forgets the momentum.
    pub fn reset(&mut self) {
        self.started = false;
        self.momentum_buffer = [T::zero(); N];
    }
}

impl<T: Scalar, const N: usize> Optimizer<T> for StaticSgd<T, N> {
    fn step(&mut self, params: &mut dyn Parameters<T>) -> Result<()> {
        step(&self.config, params, &mut self.momentum_buffer, !self.started)?;
        // As `Sgd`, whose buffers exist only with momentum: without it there
        // is no state to save or restore.
        self.started |= self.config.momentum != 0.0;
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn try_set_lr(&mut self, lr: f64) -> Result<()> {
        self.config = SgdConfig { lr, ..self.config }.validate::<T>()?;
        Ok(())
    }

    state_through_self!();
}

#[cfg(feature = "alloc")]
mod state {
    //! SGD's state in safetensors: `sgd.momentum_buffer.{parameter}` (with
    //! momentum, after the first step).

    use alloc::vec::Vec;

    use super::{Sgd, SgdConfig, StaticSgd};
    use crate::optim::state::{self, Buffer, ParameterInfo, Value};
    use crate::safetensors::{SafeTensors, Writer};
    use crate::{OptimizerState, Result, Scalar};

    const KIND: &str = "sgd";
    const MOMENTUM_BUFFER: &str = "momentum_buffer";

    impl SgdConfig {
        fn state_metadata(&self) -> [(&'static str, Value); 5] {
            [
                ("lr", Value::Float(self.lr)),
                ("momentum", Value::Float(self.momentum)),
                ("dampening", Value::Float(self.dampening)),
                ("nesterov", Value::Flag(self.nesterov)),
                ("weight_decay", Value::Float(self.weight_decay)),
            ]
        }

        /// The buffers SGD keeps with this configuration.
        fn buffers(&self) -> &'static [&'static str] {
            if self.momentum != 0.0 { &[MOMENTUM_BUFFER] } else { &[] }
        }
    }

    impl<T: Scalar> OptimizerState<T> for Sgd<T> {
        fn write_state(&self, params: &ParameterInfo, writer: &mut Writer) -> Result<()> {
            let mut buffers: Vec<Buffer<'_, T>> = Vec::new();
            if !self.momentum_buffers.is_empty() {
                buffers.push((MOMENTUM_BUFFER, state::heap_tensors(&self.momentum_buffers, params)?));
            }
            state::write(writer, KIND, &self.config.state_metadata(), params, &buffers)
        }

        fn read_state(&mut self, params: &ParameterInfo, file: &SafeTensors<'_>) -> Result<()> {
            let restored = state::read_metadata(file, KIND, &self.config.state_metadata())?;
            let config = SgdConfig { lr: restored.lr, ..self.config }.validate::<T>()?;
            let buffers = state::read_buffers::<T>(file, KIND, params, self.config.buffers(), None)?;
            self.config = config;
            self.momentum_buffers = buffers.and_then(|mut b| b.pop()).unwrap_or_default();
            Ok(())
        }
    }

    impl<T: Scalar, const N: usize> OptimizerState<T> for StaticSgd<T, N> {
        fn write_state(&self, params: &ParameterInfo, writer: &mut Writer) -> Result<()> {
            state::check_array_size(N, params)?;
            let mut buffers: Vec<Buffer<'_, T>> = Vec::new();
            if self.started && self.config.momentum != 0.0 {
                buffers.push((MOMENTUM_BUFFER, state::array_tensors(&self.momentum_buffer, params)?));
            }
            state::write(writer, KIND, &self.config.state_metadata(), params, &buffers)
        }

        fn read_state(&mut self, params: &ParameterInfo, file: &SafeTensors<'_>) -> Result<()> {
            state::check_array_size(N, params)?;
            let restored = state::read_metadata(file, KIND, &self.config.state_metadata())?;
            let config = SgdConfig { lr: restored.lr, ..self.config }.validate::<T>()?;
            let buffers = state::read_buffers::<T>(file, KIND, params, self.config.buffers(), None)?;
            self.config = config;
            self.momentum_buffer.fill(T::zero());
            self.started = false;
            if let Some(tensors) = buffers.and_then(|mut b| b.pop()) {
                state::fill_array(&mut self.momentum_buffer, tensors);
                self.started = true;
            }
            Ok(())
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    use crate::optim::Quadratic;

    /// `torch.optim.SGD`'s update written out (its docs' pseudo-code):
    /// `g = ∇ + λ·p`; `b = g` on the first step, then `b = μ·b + (1 − τ)·g`;
    /// Nesterov `g = g + μ·b`, else `g = b`; `p = p − γ·g`. Dampening has no
    /// PyTorch fixture, so this transcription is its reference.
    #[test]
    fn trajectories_match_a_direct_transcription_of_torchs_update() {
        let configs = [
            SgdConfig { lr: 0.05, momentum: 0.9, dampening: 0.3, weight_decay: 0.01, nesterov: false },
            SgdConfig { lr: 0.05, momentum: 0.9, dampening: 0.0, weight_decay: 0.01, nesterov: true },
            SgdConfig { lr: 0.05, momentum: 0.0, dampening: 0.5, weight_decay: 0.0, nesterov: false },
        ];
        for config in configs {
            let mut q = Quadratic { x: [1.0, -2.0], grad: [0.0; 2] };
            let mut sgd = Sgd::new(config).unwrap();
            let (mut buf, mut x) = ([0.0f64; 2], [1.0f64, -2.0]);
            for t in 1..=30 {
                q.grad = [2.0 * q.x[0], 8.0 * q.x[1]];
                sgd.step(&mut q).unwrap();
                for i in 0..2 {
                    let mut g = [2.0 * x[0], 8.0 * x[1]][i] + config.weight_decay * x[i];
                    if config.momentum != 0.0 {
                        buf[i] = if t == 1 { g } else { config.momentum * buf[i] + (1.0 - config.dampening) * g };
                        g = if config.nesterov { g + config.momentum * buf[i] } else { buf[i] };
                    }
                    x[i] -= config.lr * g;
                }
                for i in 0..2 {
                    assert!(
                        (q.x[i] - x[i]).abs() < 1e-12 * (1.0 + x[i].abs()),
                        "{config:?} step {t}: {:?} vs {x:?}",
                        q.x
                    );
                }
            }
        }
    }
}
