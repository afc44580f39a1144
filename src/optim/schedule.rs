//! Learning-rate schedules: the learning rate for an epoch, from the initial
//! one, in PyTorch's closed forms (`StepLR`, `ExponentialLR`, `CosineAnnealingLR`).
//!
//! ```
//! use tinymlp::{Optimizer, Schedule, Sgd, StepDecay};
//!
//! let mut sgd = Sgd::<f64>::with_lr(0.1)?;
//! let schedule = StepDecay { step_size: 10, gamma: 0.5 };
//! for epoch in 0..30 {
//!     sgd.set_lr(schedule.lr(0.1, epoch));
//!     // ... one epoch of training ...
//! }
//! assert_eq!(sgd.lr(), 0.025);
//! # Ok::<(), tinymlp::Error>(())
//! ```

/// A learning rate as a function of the epoch.
pub trait Schedule {
    /// The learning rate for `epoch` (from 0), given the initial rate `base_lr`.
    fn lr(&self, base_lr: f64, epoch: usize) -> f64;
}

/// `base_lr · gamma^⌊epoch / step_size⌋` (`torch.optim.lr_scheduler.StepLR`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepDecay {
    /// Epochs between decays (0 is treated as 1).
    pub step_size: usize,
    /// Factor per decay.
    pub gamma: f64,
}

impl Schedule for StepDecay {
    fn lr(&self, base_lr: f64, epoch: usize) -> f64 {
        base_lr * powi(self.gamma, epoch / self.step_size.max(1))
    }
}

/// `base_lr · gamma^epoch` (`torch.optim.lr_scheduler.ExponentialLR`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exponential {
    /// Factor per epoch.
    pub gamma: f64,
}

impl Schedule for Exponential {
    fn lr(&self, base_lr: f64, epoch: usize) -> f64 {
        base_lr * powi(self.gamma, epoch)
    }
}

/// `eta_min + (base_lr - eta_min)·(1 + cos(π·epoch / t_max)) / 2`
/// (`torch.optim.lr_scheduler.CosineAnnealingLR`'s closed form; it keeps
/// following the cosine after `t_max`, as PyTorch's does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineAnnealing {
    /// Epochs of the half period (0 is treated as 1).
    pub t_max: usize,
    /// The smallest learning rate.
    pub eta_min: f64,
}

impl Schedule for CosineAnnealing {
    fn lr(&self, base_lr: f64, epoch: usize) -> f64 {
        let phase = core::f64::consts::PI * epoch as f64 / self.t_max.max(1) as f64;
        self.eta_min + (base_lr - self.eta_min) * (1.0 + num_traits::Float::cos(phase)) / 2.0
    }
}

fn powi(base: f64, exponent: usize) -> f64 {
    num_traits::Float::powi(base, i32::try_from(exponent).unwrap_or(i32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        let step = StepDecay { step_size: 3, gamma: 0.1 };
        assert_eq!([0, 2, 3, 6].map(|e| step.lr(1.0, e)), [1.0, 1.0, 0.1, 0.1 * 0.1]);
        assert_eq!(Exponential { gamma: 0.5 }.lr(2.0, 3), 0.25);
        let cosine = CosineAnnealing { t_max: 10, eta_min: 0.01 };
        assert_eq!(cosine.lr(0.1, 0), 0.1);
        assert!((cosine.lr(0.1, 5) - 0.055).abs() < 1e-15);
        assert!((cosine.lr(0.1, 10) - 0.01).abs() < 1e-15);
    }
}
