//! Weight initialisation with PyTorch's distributions, drawn from the crate's
//! seeded [`Rng`].

use crate::{Error, Result, Rng, Scalar};

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
    /// `torch.nn.init.xavier_normal_(weight, gain)`: normal with standard
    /// deviation `gain·√(2 / (fan_in + fan_out))`; biases zero.
    XavierNormal {
        /// The gain.
        gain: f64,
    },
    /// `torch.nn.init.kaiming_uniform_`: uniform in `±gain·√(3 / fan)`; biases
    /// zero. PyTorch's `kaiming_uniform_(w, a, mode, nonlinearity)` has
    /// `gain = calculate_gain(nonlinearity, a)`, e.g. √2 for ReLU.
    KaimingUniform {
        /// The gain.
        gain: f64,
        /// Which fan scales the bound.
        mode: FanMode,
    },
    /// `torch.nn.init.kaiming_normal_`: normal with standard deviation
    /// `gain / √fan`; biases zero.
    KaimingNormal {
        /// The gain.
        gain: f64,
        /// Which fan scales the deviation.
        mode: FanMode,
    },
    /// Every weight `weight`, every bias `bias` (`torch.nn.init.constant_`).
    Constant {
        /// The weights' value.
        weight: f64,
        /// The biases' value.
        bias: f64,
    },
    /// All weights and biases zero (useful in tests; a network that starts here
    /// cannot break symmetry).
    Zeros,
}

/// Which fan a Kaiming initialiser uses (PyTorch's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum FanMode {
    /// The layer's inputs: preserves the forward pass's variance (PyTorch's default).
    #[default]
    FanIn,
    /// The layer's outputs: preserves the backward pass's variance.
    FanOut,
}

impl Init {
    /// Fills a layer's `weight` (`outputs x inputs`, row-major) and `bias`
    /// (`outputs`): the weights by this rule, then the biases by
    /// [`Init::default_bias`].
    ///
    /// # Panics
    /// Panics if the slices' lengths do not match `inputs` and `outputs`.
    pub fn fill<T: Scalar>(&self, inputs: usize, outputs: usize, weight: &mut [T], bias: &mut [T], rng: &mut Rng) {
        LayerInit::from(*self).fill(inputs, outputs, weight, bias, rng);
    }

    /// The same weights with the biases drawn by `bias` instead of this
    /// rule's own.
    ///
    /// ```
    /// use tinymlp::{BiasInit, Init, LayerInit};
    ///
    /// // Xavier-uniform weights with gain 1, biases uniform in [0, 1).
    /// let init: LayerInit = Init::XavierUniform { gain: 1.0 }.with_bias(BiasInit::Uniform { low: 0.0, high: 1.0 });
    /// assert_eq!(init.bias, BiasInit::Uniform { low: 0.0, high: 1.0 });
    /// ```
    #[must_use]
    pub const fn with_bias(self, bias: BiasInit) -> LayerInit {
        LayerInit { weight: self, bias }
    }

    /// The bias rule that goes with this weight rule in PyTorch:
    /// [`BiasInit::TorchDefault`] for [`Init::TorchDefault`] (as
    /// `torch.nn.Linear`), the given value for [`Init::Constant`], zeros for
    /// the rest (the usual companion of `xavier_*_` and `kaiming_*_`).
    #[must_use]
    pub const fn default_bias(&self) -> BiasInit {
        match *self {
            Init::TorchDefault => BiasInit::TorchDefault,
            Init::Constant { bias, .. } => BiasInit::Constant(bias),
            _ => BiasInit::Zeros,
        }
    }

    /// Fills `weight` (`outputs x inputs`, row-major) by this rule.
    fn fill_weight<T: Scalar>(&self, inputs: usize, outputs: usize, weight: &mut [T], rng: &mut Rng) {
        match self.draw(inputs, outputs) {
            Draw::Uniform(bound) => fill_uniform(weight, bound, rng),
            Draw::Normal(std) => fill_normal(weight, std, rng),
            Draw::Constant(value) => weight.fill(T::from_f64(value)),
        }
    }

    /// The distribution of a layer's weights under this rule.
    fn draw(&self, inputs: usize, outputs: usize) -> Draw {
        let fan_in = inputs as f64;
        let fan_out = outputs as f64;
        let fan = |mode| if mode == FanMode::FanIn { fan_in } else { fan_out };
        match *self {
            Init::TorchDefault => Draw::Uniform(torch_bound(inputs)),
            Init::XavierUniform { gain } => {
                let fans = fan_in + fan_out;
                Draw::Uniform(if fans > 0.0 { gain * num_traits::Float::sqrt(6.0 / fans) } else { 0.0 })
            }
            Init::XavierNormal { gain } => {
                let fans = fan_in + fan_out;
                Draw::Normal(if fans > 0.0 { gain * num_traits::Float::sqrt(2.0 / fans) } else { 0.0 })
            }
            Init::KaimingUniform { gain, mode } => {
                let fan = fan(mode);
                Draw::Uniform(if fan > 0.0 { gain * num_traits::Float::sqrt(3.0 / fan) } else { 0.0 })
            }
            Init::KaimingNormal { gain, mode } => {
                let fan = fan(mode);
                Draw::Normal(if fan > 0.0 { gain / num_traits::Float::sqrt(fan) } else { 0.0 })
            }
            Init::Constant { weight, .. } => Draw::Constant(weight),
            Init::Zeros => Draw::Constant(0.0),
        }
    }

    /// The parameter that sets this rule's scale, for errors.
    fn parameter(&self) -> (&'static str, f64) {
        match *self {
            Init::XavierUniform { gain }
            | Init::XavierNormal { gain }
            | Init::KaimingUniform { gain, .. }
            | Init::KaimingNormal { gain, .. } => ("gain", gain),
            Init::Constant { weight, .. } => ("constant weight", weight),
            Init::TorchDefault | Init::Zeros => ("weight", 0.0),
        }
    }
}

/// How a layer's weights are drawn.
#[derive(Clone, Copy)]
enum Draw {
    /// Uniform in `±bound`.
    Uniform(f64),
    /// Normal with this standard deviation.
    Normal(f64),
    /// Every weight this value.
    Constant(f64),
}

impl Draw {
    /// The largest magnitude a draw can have.
    fn largest(self) -> f64 {
        match self {
            Draw::Uniform(bound) => bound.abs(),
            Draw::Normal(std) => std.abs() * NORMAL_LARGEST,
            Draw::Constant(value) => value.abs(),
        }
    }
}

/// The largest magnitude of [`Rng::normal`]: its radius `√(-2 ln u)` with `u`
/// at least 2^-53 is at most `√(106 ln 2)` ≈ 8.5717.
const NORMAL_LARGEST: f64 = 8.572;

/// `Ok` if `value` is finite and so is `largest` (the largest magnitude it
/// leads to) once rounded to `T`, else an error naming the parameter.
fn check_finite_in<T: Scalar>(name: &'static str, value: f64, largest: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(Error::InvalidHyperParameter { name, value, expected: "a finite value" });
    }
    if !largest.is_finite() || !crate::finite::is_finite_in::<T>(largest) {
        let expected = "a value whose draws are finite in the network's element type";
        return Err(Error::InvalidHyperParameter { name, value, expected });
    }
    Ok(())
}

/// How a dense layer's biases are initialised, independently of its weights
/// (see [`Init::with_bias`]). Seeded and portable like [`Init`]: draws are
/// made in f64 and rounded to the element type.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum BiasInit {
    /// All zero.
    #[default]
    Zeros,
    /// Every bias this value.
    Constant(f64),
    /// Uniform in `[low, high)` (`torch.nn.init.uniform_(bias, low, high)`).
    Uniform {
        /// The smallest value.
        low: f64,
        /// The bound, not reached.
        high: f64,
    },
    /// `torch.nn.Linear`'s default: uniform in `±1/√fan_in`.
    TorchDefault,
}

impl BiasInit {
    /// Fills a layer's `bias` for a layer with `inputs` inputs.
    fn fill<T: Scalar>(&self, inputs: usize, bias: &mut [T], rng: &mut Rng) {
        match *self {
            BiasInit::Zeros => bias.fill(T::zero()),
            BiasInit::Constant(value) => bias.fill(T::from_f64(value)),
            BiasInit::Uniform { low, high } => {
                for b in bias {
                    *b = T::from_f64(rng.uniform(low, high));
                }
            }
            BiasInit::TorchDefault => fill_uniform(bias, torch_bound(inputs), rng),
        }
    }
}

/// A weight rule and a bias rule: what layer constructors take. An [`Init`]
/// converts into one with its [default bias](Init::default_bias);
/// [`Init::with_bias`] picks another.
///
/// ```
/// use tinymlp::{Act, BiasInit, DynMlp, Init, Rng};
///
/// let init = Init::XavierUniform { gain: 1.0 }.with_bias(BiasInit::Uniform { low: 0.0, high: 1.0 });
/// let net = DynMlp::<f64>::from_widths(&[1, 4, 4, 1], Act::Sigmoid, Act::Sigmoid, init, &mut Rng::new(0))?;
/// assert!(net.iter_layers().all(|layer| layer.bias().iter().all(|b| (0.0..1.0).contains(b))));
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerInit {
    /// How the weights are drawn.
    pub weight: Init,
    /// How the biases are drawn.
    pub bias: BiasInit,
}

impl From<Init> for LayerInit {
    fn from(weight: Init) -> Self {
        Self { weight, bias: weight.default_bias() }
    }
}

impl LayerInit {
    /// Fills a layer's `weight` (`outputs x inputs`, row-major), then its
    /// `bias` (`outputs`), drawing from `rng` in that order.
    ///
    /// # Panics
    /// Panics if the slices' lengths do not match `inputs` and `outputs`.
    pub fn fill<T: Scalar>(&self, inputs: usize, outputs: usize, weight: &mut [T], bias: &mut [T], rng: &mut Rng) {
        assert_eq!(weight.len(), inputs * outputs, "Init::fill: weight must be outputs x inputs");
        assert_eq!(bias.len(), outputs, "Init::fill: bias must have `outputs` values");
        self.weight.fill_weight(inputs, outputs, weight, rng);
        self.bias.fill(inputs, bias, rng);
    }
}

impl LayerInit {
    /// `Ok` if both rules draw finite values in `T` for a layer of `inputs`
    /// and `outputs`: every parameter (gain, constants, bounds) is finite,
    /// and so are the largest values it leads to once rounded to `T` (a gain
    /// of 1e300 is finite in f64 but its weights are infinite in f32).
    ///
    /// ```
    /// use tinymlp::{BiasInit, Error, Init};
    ///
    /// assert!(Init::XavierUniform { gain: 1.0 }.with_bias(BiasInit::Zeros).check::<f32>(3, 4).is_ok());
    /// let err = tinymlp::LayerInit::from(Init::XavierUniform { gain: f64::NAN }).check::<f64>(3, 4).unwrap_err();
    /// assert!(matches!(err, Error::InvalidHyperParameter { name: "gain", .. }));
    /// // Finite in f64, infinite in f32.
    /// let init = tinymlp::LayerInit::from(Init::Constant { weight: 1e300, bias: 0.0 });
    /// assert!(init.check::<f64>(3, 4).is_ok());
    /// let err = init.check::<f32>(3, 4).unwrap_err();
    /// assert!(matches!(err, Error::InvalidHyperParameter { name: "constant weight", .. }));
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] naming the parameter: `gain`,
    /// `constant weight`, `constant bias`, `uniform bias low` or `uniform
    /// bias high` (which must also be finite apart, and `low <= high`).
    pub fn check<T: Scalar>(&self, inputs: usize, outputs: usize) -> Result<()> {
        let (name, value) = self.weight.parameter();
        let draw = self.weight.draw(inputs, outputs);
        check_finite_in::<T>(name, value, draw.largest())?;
        if let Draw::Uniform(bound) = draw {
            // `Rng::uniform(-bound, bound)` computes `high - low = 2·bound` in f64.
            uniform_span_is_finite(name, value, -bound, bound)?;
        }
        match self.bias {
            BiasInit::Zeros | BiasInit::TorchDefault => Ok(()),
            BiasInit::Constant(value) => check_finite_in::<T>("constant bias", value, value.abs()),
            BiasInit::Uniform { low, high } => {
                // The draws lie between the bounds.
                check_finite_in::<T>("uniform bias low", low, low.abs())?;
                check_finite_in::<T>("uniform bias high", high, high.abs())?;
                if low > high {
                    let expected = "a finite value at most high";
                    return Err(Error::InvalidHyperParameter { name: "uniform bias low", value: low, expected });
                }
                uniform_span_is_finite("uniform bias low", low, low, high)
            }
        }
    }
}

/// `Ok` if [`Rng::uniform`]`(low, high)` can draw: its `high - low` is finite
/// in f64; else an error naming the parameter that sets the range.
fn uniform_span_is_finite(name: &'static str, value: f64, low: f64, high: f64) -> Result<()> {
    if (high - low).is_finite() {
        Ok(())
    } else {
        let expected = "a value whose uniform range (high - low) is finite";
        Err(Error::InvalidHyperParameter { name, value, expected })
    }
}

/// `1/√fan_in`, the bound of `torch.nn.Linear`'s default (0 without inputs).
fn torch_bound(inputs: usize) -> f64 {
    if inputs > 0 { 1.0 / num_traits::Float::sqrt(inputs as f64) } else { 0.0 }
}

fn fill_normal<T: Scalar>(values: &mut [T], std: f64, rng: &mut Rng) {
    for v in values {
        *v = T::from_f64(std * rng.normal());
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
    fn normal_and_kaiming_initialisers_match_torch_moments() {
        let (inputs, outputs) = (64, 300);
        let n = inputs * outputs;
        let cases = [
            (Init::XavierNormal { gain: 2.0 }, 2.0 * (2.0 / (inputs + outputs) as f64).sqrt(), false),
            (Init::KaimingNormal { gain: 2f64.sqrt(), mode: FanMode::FanIn }, (2.0 / inputs as f64).sqrt(), false),
            (Init::KaimingNormal { gain: 1.0, mode: FanMode::FanOut }, 1.0 / (outputs as f64).sqrt(), false),
            (Init::KaimingUniform { gain: 2f64.sqrt(), mode: FanMode::FanIn }, (6.0 / inputs as f64).sqrt(), true),
        ];
        for (seed, (init, scale, uniform)) in cases.into_iter().enumerate() {
            let (mut w, mut b) = (vec![0.0f64; n], vec![1.0f64; outputs]);
            init.fill(inputs, outputs, &mut w, &mut b, &mut Rng::new(seed as u64));
            let (mean, var) = moments(&w);
            let expected_var = if uniform { scale * scale / 3.0 } else { scale * scale };
            assert!(mean.abs() < 0.02 * scale, "{init:?}: mean {mean}");
            assert!((var / expected_var - 1.0).abs() < 0.04, "{init:?}: var {var} vs {expected_var}");
            if uniform {
                assert!(w.iter().all(|x| x.abs() <= scale));
            } else {
                // A normal puts ~0.27% of draws beyond 3σ.
                let tails = w.iter().filter(|x| x.abs() > 3.0 * scale).count() as f64 / n as f64;
                assert!((0.001..0.005).contains(&tails), "{init:?}: tails {tails}");
            }
            assert!(b.iter().all(|&x| x == 0.0));
        }
        let (mut w, mut b) = ([0.0f32; 6], [0.0f32; 3]);
        Init::Constant { weight: 0.5, bias: -1.0 }.fill(2, 3, &mut w, &mut b, &mut Rng::new(0));
        assert_eq!((w, b), ([0.5; 6], [-1.0; 3]));
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

    #[test]
    fn bias_rules_draw_after_the_weights_and_keep_their_ranges() {
        let (inputs, outputs) = (3, 2000);
        let draw = |init: LayerInit, seed: u64| {
            let (mut weight, mut bias) = (vec![0.0f64; inputs * outputs], vec![0.0f64; outputs]);
            init.fill(inputs, outputs, &mut weight, &mut bias, &mut Rng::new(seed));
            (weight, bias)
        };
        let xavier = Init::XavierUniform { gain: 1.0 };
        let (weight, zeros) = draw(xavier.into(), 5);
        assert!(zeros.iter().all(|&b| b == 0.0));
        // Another bias rule leaves the weights' draws alone.
        let (same_weight, bias) = draw(xavier.with_bias(BiasInit::Uniform { low: 0.0, high: 1.0 }), 5);
        assert_eq!(same_weight, weight);
        assert!(bias.iter().all(|b| (0.0..1.0).contains(b)));
        let (mean, var) = moments(&bias);
        assert!((mean - 0.5).abs() < 0.03 && (var - 1.0 / 12.0).abs() < 0.01, "{mean} {var}");
        // The default pairing is PyTorch's, bit for bit as before.
        assert_eq!(draw(Init::TorchDefault.into(), 9), draw(Init::TorchDefault.with_bias(BiasInit::TorchDefault), 9));
        let (_, constant) = draw(Init::Zeros.with_bias(BiasInit::Constant(0.25)), 0);
        assert!(constant.iter().all(|&b| b == 0.25));
        // f32 draws are the f64 draws rounded.
        let init = xavier.with_bias(BiasInit::Uniform { low: -2.0, high: 3.0 });
        let (mut w32, mut b32) = (vec![0.0f32; inputs * outputs], vec![0.0f32; outputs]);
        init.fill(inputs, outputs, &mut w32, &mut b32, &mut Rng::new(5));
        let (w64, b64) = draw(init, 5);
        assert!(b32.iter().zip(&b64).all(|(&a, &b)| a == b as f32));
        assert!(w32.iter().zip(&w64).all(|(&a, &b)| a == b as f32));
    }
}
