//! RMSprop, exactly as `torch.optim.RMSprop` (single-tensor CPU path).

use alloc::vec::Vec;

use super::{Moments, Optimizer, Parameters, check_eps, check_gradients, check_lr, check_value, lerp};
use crate::{Result, Scalar};

/// RMSprop's hyper-parameters; `Default` is PyTorch's default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate (default 1e-2).
    pub lr: f64,
    /// Decay of the squared-gradient average (default 0.99), in `[0, 1]`
    /// (PyTorch has no upper bound, but above 1 the average of squares
    /// turns negative, and its square root NaN).
    pub alpha: f64,
    /// Added to the denominator (default 1e-8). Must be above 0, also once
    /// converted to the parameters' type (PyTorch takes 0, which makes a
    /// zero gradient's step 0/0 = NaN).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor (default 0: none).
    pub momentum: f64,
    /// Normalise by the estimated variance instead of the raw second moment
    /// (default off).
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false }
    }
}

/// `torch.optim.RMSprop`, step for step:
///
/// ```text
/// g ← grad + weight_decay · p
/// s ← α·s + (1 - α)·g²
/// ḡ ← lerp(ḡ, g, 1 - α);  d ← √max(s - ḡ², 0) + ε   (centered)
///                         d ← √s + ε              (otherwise)
/// b ← momentum·b + g/d;   p ← p - lr·b            (momentum > 0)
///                         p ← p - lr·g/d          (otherwise)
/// ```
///
/// One departure from torch: the centered variance `s - ḡ²` is clamped at 0.
/// It is never negative in exact arithmetic, but when the gradient barely
/// varies rounding puts it an ulp below zero, where torch's square root gives
/// NaN weights; the bits are torch's everywhere else.
///
/// ```
/// use tinymlp::{RmsProp, RmsPropConfig};
///
/// let rmsprop = RmsProp::<f64>::new(RmsPropConfig { momentum: 0.9, ..RmsPropConfig::default() })?;
/// assert_eq!(rmsprop.config().alpha, 0.99);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RmsProp<T> {
    config: RmsPropConfig,
    square_avg: Vec<Vec<T>>,
    grad_avg: Vec<Vec<T>>,
    momentum_buffer: Vec<Vec<T>>,
}

impl<T: Scalar> RmsProp<T> {
    /// RMSprop with the given hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) (as
    /// torch raises ValueError) naming the first bad value: a negative or
    /// non-finite `lr`, `weight_decay` or `momentum`, any of them beyond `T`'s
    /// range (`lr = 1e39` for `f32`), and, stricter than PyTorch, an `alpha`
    /// outside `[0, 1]` or an `eps` that is not above 0 in `T` (see their
    /// fields).
    pub fn new(config: RmsPropConfig) -> Result<Self> {
        let config = config.validate::<T>()?;
        Ok(Self { config, square_avg: Vec::new(), grad_avg: Vec::new(), momentum_buffer: Vec::new() })
    }

    /// RMSprop with learning rate `lr` and PyTorch's other defaults.
    ///
    /// # Errors
    /// As [`RmsProp::new`].
    pub fn with_lr(lr: f64) -> Result<Self> {
        Self::new(RmsPropConfig { lr, ..RmsPropConfig::default() })
    }

    /// The hyper-parameters.
    #[must_use]
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }

    /// Forgets the running averages and the momentum.
    pub fn reset(&mut self) {
        self.square_avg.clear();
        self.grad_avg.clear();
        self.momentum_buffer.clear();
    }
}

impl<T: Scalar> Optimizer<T> for RmsProp<T> {
    fn step(&mut self, params: &mut dyn Parameters<T>) -> Result<()> {
        check_gradients(params)?;
        let RmsPropConfig { lr, alpha, eps, weight_decay, momentum, centered } = self.config;
        self.square_avg.fit(params)?;
        if centered {
            self.grad_avg.fit(params)?;
        }
        if momentum > 0.0 {
            self.momentum_buffer.fit(params)?;
        }
        let (decay, alpha_t, one_minus_alpha) =
            (T::from_f64(weight_decay), T::from_f64(alpha), T::from_f64(1.0 - alpha));
        let (eps, momentum_t, minus_lr) = (T::from_f64(eps), T::from_f64(momentum), T::from_f64(-lr));
        let mut square_avgs = self.square_avg.iter_mut();
        let mut grad_avgs = self.grad_avg.iter_mut();
        let mut buffers = self.momentum_buffer.iter_mut();
        params.visit_parameters(&mut |values, grads| {
            let Some(square_avg) = square_avgs.next() else { return };
            let mut grad_avg = if centered { grad_avgs.next().map(|v| v.iter_mut()) } else { None };
            let mut buffer = if momentum > 0.0 { buffers.next().map(|v| v.iter_mut()) } else { None };
            for ((p, &grad), s) in values.iter_mut().zip(grads).zip(square_avg.iter_mut()) {
                let g = if weight_decay != 0.0 { grad + decay * *p } else { grad };
                *s = *s * alpha_t + one_minus_alpha * g * g;
                let avg = match grad_avg.as_mut().and_then(Iterator::next) {
                    Some(mean) => {
                        *mean = lerp(*mean, g, one_minus_alpha);
                        // s ≥ mean² in exact arithmetic; rounding can put it
                        // an ulp below when the gradient barely varies, where
                        // torch's square root gives NaN: clamp to 0 (the same
                        // bits as torch wherever torch's are not NaN).
                        let variance = *s + -T::one() * *mean * *mean;
                        if variance < T::zero() { T::zero() } else { variance }.sqrt()
                    }
                    None => s.sqrt(),
                } + eps;
                match buffer.as_mut().and_then(Iterator::next) {
                    Some(b) => {
                        *b = *b * momentum_t + g / avg;
                        *p = *p + minus_lr * *b;
                    }
                    None => *p = *p + minus_lr * (g / avg),
                }
            }
        });
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn try_set_lr(&mut self, lr: f64) -> Result<()> {
        self.config = RmsPropConfig { lr, ..self.config }.validate::<T>()?;
        Ok(())
    }

    state_through_self!();
}

impl RmsPropConfig {
    /// Checks the hyper-parameters as `torch.optim.RMSprop` does, and more:
    /// `alpha` at most 1, `eps` above 0, each finite in `T`. Returns them.
    fn validate<T: Scalar>(self) -> Result<Self> {
        let RmsPropConfig { lr, alpha, eps, weight_decay, momentum, .. } = self;
        check_lr::<T>(lr)?;
        check_value::<T>("alpha", alpha, (0.0..=1.0).contains(&alpha), "a value in [0, 1]")?;
        check_eps::<T>(eps)?;
        check_value::<T>("weight_decay", weight_decay, weight_decay >= 0.0, "a finite value >= 0")?;
        check_value::<T>("momentum", momentum, momentum >= 0.0, "a finite value >= 0")?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::optim::Quadratic;

    /// A direct transcription of torch.optim.RMSprop's documented algorithm.
    fn transcription(config: RmsPropConfig, steps: usize) -> [f64; 3] {
        let mut x = [1.0, -2.0, 0.5];
        let (mut s, mut mean, mut b) = ([0.0; 3], [0.0; 3], [0.0; 3]);
        for _ in 0..steps {
            for i in 0..3 {
                let g = [2.0 * x[0], 8.0 * x[1], -x[2]][i] + config.weight_decay * x[i];
                s[i] = config.alpha * s[i] + (1.0 - config.alpha) * g * g;
                let mut v = s[i];
                if config.centered {
                    mean[i] = mean[i] + (1.0 - config.alpha) * (g - mean[i]);
                    v -= mean[i] * mean[i];
                }
                let avg = v.sqrt() + config.eps;
                if config.momentum > 0.0 {
                    b[i] = config.momentum * b[i] + g / avg;
                    x[i] -= config.lr * b[i];
                } else {
                    x[i] -= config.lr * g / avg;
                }
            }
        }
        x
    }

    /// A constant gradient makes the centered variance s - ḡ² tend to 0, and
    /// rounding put it below 0 at step 3,226 (f64, gradient 0.1): the square
    /// root made the weight NaN while the step returned `Ok`.
    #[test]
    fn the_centered_variance_never_goes_below_zero() {
        let config = RmsPropConfig { lr: 1e-6, centered: true, ..RmsPropConfig::default() };
        let mut rmsprop = RmsProp::new(config).unwrap();
        let mut q = Quadratic { x: [1.0; 3], grad: [0.3, 1e-3, 0.1] };
        let mut clamped = 0;
        for _ in 0..4000 {
            rmsprop.step(&mut q).unwrap();
            assert!(q.x.iter().all(|x| x.is_finite()), "{:?}", q.x);
            let (s, mean) = (&rmsprop.square_avg[0], &rmsprop.grad_avg[0]);
            clamped += (0..3).filter(|&i| s[i] - mean[i] * mean[i] < 0.0).count();
        }
        assert!(clamped > 0, "the case this tests did not occur");
    }

    #[test]
    fn every_variant_matches_the_transcription() {
        for (momentum, centered, weight_decay) in
            [(0.0, false, 0.0), (0.9, false, 0.0), (0.0, true, 0.1), (0.5, true, 0.01)]
        {
            let config = RmsPropConfig { lr: 0.01, momentum, centered, weight_decay, ..RmsPropConfig::default() };
            let mut rmsprop = RmsProp::new(config).unwrap();
            let mut q = Quadratic { x: [1.0, -2.0, 0.5], grad: [0.0; 3] };
            for _ in 0..25 {
                q.grad = [2.0 * q.x[0], 8.0 * q.x[1], -q.x[2]];
                rmsprop.step(&mut q).unwrap();
            }
            let expected = transcription(config, 25);
            for i in 0..3 {
                assert!((q.x[i] - expected[i]).abs() < 1e-12, "{config:?}: {:?} vs {expected:?}", q.x);
            }
        }
    }
}

mod state {
    //! RMSprop's state in safetensors: `rmsprop.square_avg.{parameter}`,
    //! with momentum `rmsprop.momentum_buffer.{parameter}`, centered
    //! `rmsprop.grad_avg.{parameter}`, after the first step.

    use alloc::vec::Vec;

    use super::{RmsProp, RmsPropConfig};
    use crate::optim::state::{self, Buffer, ParameterInfo, Value};
    use crate::safetensors::{SafeTensors, Writer};
    use crate::{OptimizerState, Result, Scalar};

    const KIND: &str = "rmsprop";
    const SQUARE_AVG: &str = "square_avg";
    const MOMENTUM_BUFFER: &str = "momentum_buffer";
    const GRAD_AVG: &str = "grad_avg";

    impl RmsPropConfig {
        fn state_metadata(&self) -> [(&'static str, Value); 6] {
            [
                ("lr", Value::Float(self.lr)),
                ("alpha", Value::Float(self.alpha)),
                ("eps", Value::Float(self.eps)),
                ("weight_decay", Value::Float(self.weight_decay)),
                ("momentum", Value::Float(self.momentum)),
                ("centered", Value::Flag(self.centered)),
            ]
        }

        /// The buffers RMSprop keeps with this configuration, in torch's order.
        fn buffers(&self) -> Vec<&'static str> {
            let mut buffers = alloc::vec![SQUARE_AVG];
            if self.momentum > 0.0 {
                buffers.push(MOMENTUM_BUFFER);
            }
            if self.centered {
                buffers.push(GRAD_AVG);
            }
            buffers
        }
    }

    impl<T: Scalar> OptimizerState<T> for RmsProp<T> {
        fn write_state(&self, params: &ParameterInfo, writer: &mut Writer) -> Result<()> {
            let mut buffers: Vec<Buffer<'_, T>> = Vec::new();
            if !self.square_avg.is_empty() {
                for name in self.config.buffers() {
                    let tensors = match name {
                        SQUARE_AVG => &self.square_avg,
                        MOMENTUM_BUFFER => &self.momentum_buffer,
                        _ => &self.grad_avg,
                    };
                    buffers.push((name, state::heap_tensors(tensors, params)?));
                }
            }
            state::write(writer, KIND, &self.config.state_metadata(), params, &buffers)
        }

        fn read_state(&mut self, params: &ParameterInfo, file: &SafeTensors<'_>) -> Result<()> {
            let restored = state::read_metadata(file, KIND, &self.config.state_metadata())?;
            let config = RmsPropConfig { lr: restored.lr, ..self.config }.validate::<T>()?;
            let names = self.config.buffers();
            let buffers = state::read_buffers::<T>(file, KIND, params, &names, None)?;
            let (mut square_avg, mut momentum_buffer, mut grad_avg) = (Vec::new(), Vec::new(), Vec::new());
            for (name, tensors) in names.iter().zip(buffers.unwrap_or_default()) {
                match *name {
                    SQUARE_AVG => square_avg = tensors,
                    MOMENTUM_BUFFER => momentum_buffer = tensors,
                    _ => grad_avg = tensors,
                }
            }
            self.config = config;
            self.square_avg = square_avg;
            self.momentum_buffer = momentum_buffer;
            self.grad_avg = grad_avg;
            Ok(())
        }
    }
}
