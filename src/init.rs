//! Weight initialisation with PyTorch's distributions, drawn from the crate's
//! seeded [`Rng`].

use crate::{Rng, Scalar};

/// How a dense layer's weights and biases are initialised.
///
/// Draws are made in f64 and rounded to `T`, so a seed gives the same network
/// on every platform (and the f32 network is the f64 one, rounded).
///
/// ```
/// use tinymlp::{Init, Rng};
///
/// let (mut weight, mut bias) = ([0.0f64; 6], [0.0f64; 3]);
/// Init::TorchDefault.fill(2, 3, &mut weight, &mut bias, &mut Rng::new(0));
/// let bound = 1.0 / 2f64.sqrt();
/// assert!(weight.iter().chain(&bias).all(|w| w.abs() <= bound));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Init {
    /// `torch.nn.Linear`'s default: weights and biases uniform in `±1/√fan_in`
    /// (kaiming_uniform with `a = √5`).
    #[default]
    TorchDefault,
    /// `torch.nn.init.xavier_uniform_(weight, gain)`: uniform in
    /// `±gain·√(6 / (fan_in + fan_out))`; biases zero. Use
    /// [`Act::torch_gain`](crate::Act::torch_gain) for PyTorch's `calculate_gain`.
    XavierUniform {
        /// The gain (1 for sigmoid and identity, 5/3 for tanh, √2 for ReLU).
        gain: f64,
    },
    /// All weights and biases zero (useful in tests; a network that starts here
    /// cannot break symmetry).
    Zeros,
}

impl Init {
    /// Fills a layer's `weight` (`outputs x inputs`, row-major) and `bias` (`outputs`).
    ///
    /// # Panics
    /// Panics if the slices' lengths do not match `inputs` and `outputs`.
    pub fn fill<T: Scalar>(&self, inputs: usize, outputs: usize, weight: &mut [T], bias: &mut [T], rng: &mut Rng) {
        assert_eq!(weight.len(), inputs * outputs, "Init::fill: weight must be outputs x inputs");
        assert_eq!(bias.len(), outputs, "Init::fill: bias must have `outputs` values");
        let fan_in = inputs as f64;
        let fan_out = outputs as f64;
        match *self {
            Init::TorchDefault => {
                let bound = if inputs > 0 { 1.0 / num_traits::Float::sqrt(fan_in) } else { 0.0 };
                fill_uniform(weight, bound, rng);
                fill_uniform(bias, bound, rng);
            }
            Init::XavierUniform { gain } => {
                let fans = fan_in + fan_out;
                let bound = if fans > 0.0 { gain * num_traits::Float::sqrt(6.0 / fans) } else { 0.0 };
                fill_uniform(weight, bound, rng);
                bias.fill(T::zero());
            }
            Init::Zeros => {
                weight.fill(T::zero());
                bias.fill(T::zero());
            }
        }
    }
}

fn fill_uniform<T: Scalar>(values: &mut [T], bound: f64, rng: &mut Rng) {
    for v in values {
        *v = T::from_f64(rng.uniform(-bound, bound));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn moments(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        (mean, values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n)
    }

    #[test]
    fn torch_default_matches_uniform_bound_and_variance() {
        let (inputs, outputs) = (50, 400);
        let (mut w, mut b) = (vec![0.0f64; inputs * outputs], vec![0.0f64; outputs]);
        Init::TorchDefault.fill(inputs, outputs, &mut w, &mut b, &mut Rng::new(1));
        let bound = 1.0 / (inputs as f64).sqrt();
        assert!(w.iter().all(|x| x.abs() <= bound));
        let (mean, var) = moments(&w);
        assert!(mean.abs() < 0.01 * bound);
        assert!((var / (bound * bound / 3.0) - 1.0).abs() < 0.03, "var {var}");
        assert!(b.iter().all(|x| x.abs() <= bound) && b.iter().any(|&x| x != 0.0));
    }

    #[test]
    fn xavier_uniform_matches_torch_formula() {
        let (inputs, outputs, gain) = (30, 70, 5.0 / 3.0);
        let (mut w, mut b) = (vec![0.0f64; inputs * outputs], vec![1.0f64; outputs]);
        Init::XavierUniform { gain }.fill(inputs, outputs, &mut w, &mut b, &mut Rng::new(2));
        let bound = gain * (6.0 / (inputs + outputs) as f64).sqrt();
        assert!(w.iter().all(|x| x.abs() <= bound));
        assert!(w.iter().any(|x| x.abs() > 0.95 * bound));
        let (_, var) = moments(&w);
        assert!((var / (bound * bound / 3.0) - 1.0).abs() < 0.05);
        assert!(b.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn f32_draws_are_the_f64_draws_rounded() {
        let (mut w64, mut b64) = ([0.0f64; 12], [0.0f64; 4]);
        let (mut w32, mut b32) = ([0.0f32; 12], [0.0f32; 4]);
        Init::TorchDefault.fill(3, 4, &mut w64, &mut b64, &mut Rng::new(3));
        Init::TorchDefault.fill(3, 4, &mut w32, &mut b32, &mut Rng::new(3));
        for (a, b) in w64.iter().zip(&w32) {
            assert_eq!(*a as f32, *b);
        }
    }
}
