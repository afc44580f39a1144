//! Plain stochastic gradient descent.

use super::{Optimizer, Parameters, check_range};
use crate::{Result, Scalar};

/// `torch.optim.SGD` without momentum: `p ← p - lr · grad`.
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
/// Sgd::new(0.1)?.step(&mut p)?;
/// assert_eq!(p.0, [0.95]);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    lr: f64,
}

impl Sgd {
    /// SGD with learning rate `lr`.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if
    /// `lr` is negative, NaN or infinite.
    pub fn new(lr: f64) -> Result<Self> {
        check_range("lr", lr, (0.0..f64::INFINITY).contains(&lr), "a finite value >= 0")?;
        Ok(Self { lr })
    }

    /// The learning rate.
    #[must_use]
    pub fn lr(&self) -> f64 {
        self.lr
    }
}

impl<T: Scalar> Optimizer<T> for Sgd {
    fn step<P: Parameters<T> + ?Sized>(&mut self, params: &mut P) -> Result<()> {
        // torch: param.add_(grad, alpha=-lr)
        let minus_lr = T::from_f64(-self.lr);
        params.visit_parameters(&mut |values, grads| {
            for (p, &g) in values.iter_mut().zip(grads) {
                *p = *p + minus_lr * g;
            }
        });
        Ok(())
    }
}
