//! Adam, exactly as `torch.optim.Adam` (single-tensor CPU path).

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use super::{
    Moments, Optimizer, Parameters, check_eps, check_gradients, check_lr, check_range, check_value, for_each_tensor,
    lerp_large, lerp_small,
};
use crate::{Error, Result, Scalar};

/// Adam's hyper-parameters; `Default` is PyTorch's default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Decay of the first moment (default 0.9).
    pub beta1: f64,
    /// Decay of the second moment (default 0.999).
    pub beta2: f64,
    /// Added to the denominator (default 1e-8). Must be above 0, also once
    /// converted to the parameters' type (PyTorch takes 0, which makes a
    /// zero gradient's step 0/0 = NaN).
    pub eps: f64,
    /// Weight decay (default 0): an L2 penalty added to the gradient, or, with
    /// `decoupled_weight_decay`, a shrinking of the weights (AdamW).
    pub weight_decay: f64,
    /// Decoupled weight decay `p ← p·(1 - lr·weight_decay)` before the update,
    /// as `torch.optim.AdamW` (and Adam's `decoupled_weight_decay=True`).
    pub decoupled_weight_decay: bool,
}

impl AdamConfig {
    /// `torch.optim.AdamW`'s defaults: Adam's, with decoupled weight decay 0.01.
    ///
    /// ```
    /// use tinymlp::{Adam, AdamConfig};
    ///
    /// let adamw = Adam::<f32>::new(AdamConfig { lr: 0.01, ..AdamConfig::adamw() })?;
    /// assert_eq!(adamw.config().weight_decay, 0.01);
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    #[must_use]
    pub const fn adamw() -> Self {
        Self { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01, decoupled_weight_decay: true }
    }
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled_weight_decay: false }
    }
}

/// Adam with bias correction, step for step the same as `torch.optim.Adam`:
///
/// ```text
/// t ← t + 1
/// p ← p·(1 - lr·weight_decay)          (AdamW: decoupled_weight_decay)
/// g ← grad + weight_decay · p          (Adam: otherwise)
/// m ← m + (1 - β1)(g - m)            (torch: exp_avg.lerp_(grad, 1 - β1))
/// v ← β2·v + (1 - β2)·g²
/// p ← p - lr/(1 - β1^t) · m / (√v / √(1 - β2^t) + ε)
/// ```
///
/// The moment buffers are created on the first step, sized to the parameters.
///
/// ```
/// use tinymlp::{Adam, AdamConfig};
///
/// let adam = Adam::<f64>::new(AdamConfig { lr: 0.01, ..AdamConfig::default() })?;
/// assert_eq!(adam.config().beta2, 0.999);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq)]
pub struct Adam<T> {
    config: AdamConfig,
    steps: u64,
    first_moment: Vec<Vec<T>>,
    second_moment: Vec<Vec<T>>,
}

#[cfg(feature = "alloc")]
impl<T: Scalar> Adam<T> {
    /// Adam with the given hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) (as
    /// torch raises ValueError) naming the first bad value: a negative or
    /// non-finite `lr` or `weight_decay`, a beta outside `[0, 1)`, an `eps`
    /// that is not above 0 in `T` (stricter than PyTorch, which takes
    /// `eps = 0` and then divides 0 by 0 on a zero gradient), or a value
    /// beyond `T`'s range: `lr = 1e39` for `f32`, the first step's size
    /// `lr / (1 - beta1)`, or AdamW's `lr · weight_decay`.
    pub fn new(config: AdamConfig) -> Result<Self> {
        config.validate::<T>()?;
        Ok(Self { config, steps: 0, first_moment: Vec::new(), second_moment: Vec::new() })
    }

    /// Adam with learning rate `lr` and PyTorch's other defaults.
    ///
    /// # Errors
    /// As [`Adam::new`].
    pub fn with_lr(lr: f64) -> Result<Self> {
        Self::new(AdamConfig { lr, ..AdamConfig::default() })
    }

    /// The hyper-parameters.
    #[must_use]
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Steps taken so far.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Forgets the moments and the step count.
    pub fn reset(&mut self) {
        self.steps = 0;
        self.first_moment.clear();
        self.second_moment.clear();
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut dyn Parameters<T>) -> Result<()> {
        step(&self.config, &mut self.steps, params, &mut self.first_moment, &mut self.second_moment)
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn try_set_lr(&mut self, lr: f64) -> Result<()> {
        self.config = AdamConfig { lr, ..self.config }.validate::<T>().map_err(|err| naming_lr(err, lr))?;
        Ok(())
    }

    state_through_self!();
}

impl AdamConfig {
    /// Checks the hyper-parameters as `torch.optim.Adam` does, and more: `eps`
    /// above 0, and every factor the step makes from them finite in `T`.
    /// Returns them.
    fn validate<T: Scalar>(self) -> Result<Self> {
        let AdamConfig { lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay } = self;
        check_lr::<T>(lr)?;
        check_value::<T>("weight_decay", weight_decay, weight_decay >= 0.0, "a finite value >= 0")?;
        check_eps::<T>(eps)?;
        check_range("beta1", beta1, (0.0..1.0).contains(&beta1), "a value in [0, 1)")?;
        check_range("beta2", beta2, (0.0..1.0).contains(&beta2), "a value in [0, 1)")?;
        // The largest step size, the first step's (bias correction 1 - beta1).
        let first_step = lr / (1.0 - beta1);
        let ok = crate::finite::is_finite_in::<T>(first_step);
        check_range("lr", lr, ok, "lr / (1 - beta1), the first step's size, finite in the parameters' type")?;
        if decoupled_weight_decay {
            let shrink = 1.0 - lr * weight_decay;
            let ok = crate::finite::is_finite_in::<T>(shrink);
            check_range("weight_decay", weight_decay, ok, "lr · weight_decay finite in the parameters' type")?;
        }
        Ok(self)
    }
}

/// A refusal of a new rate names `lr`, whichever check refused it (AdamW's
/// `lr · weight_decay` is checked under `weight_decay` at construction).
fn naming_lr(err: Error, lr: f64) -> Error {
    match err {
        Error::InvalidHyperParameter { expected, .. } => {
            Error::InvalidHyperParameter { name: "lr", value: lr, expected }
        }
        other => other,
    }
}

/// One Adam step over `params` with the moments in `first` and `second`: the
/// one implementation behind [`Adam`] and [`StaticAdam`]. Nothing changes on
/// error.
fn step<T: Scalar>(
    config: &AdamConfig,
    steps: &mut u64,
    params: &mut dyn Parameters<T>,
    first: &mut dyn Moments<T>,
    second: &mut dyn Moments<T>,
) -> Result<()> {
    check_gradients(params)?;
    first.fit(params)?;
    second.fit(params)?;
    *steps += 1;
    let AdamConfig { lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay } = *config;
    // As torch, the scalar factors are computed in f64 (Python floats,
    // with `**` as pow).
    let t = *steps as f64;
    let bias_correction1 = 1.0 - num_traits::Float::powf(beta1, t);
    let bias_correction2 = 1.0 - num_traits::Float::powf(beta2, t);
    let minus_step_size = T::from_f64(-(lr / bias_correction1));
    let bias_correction2_sqrt = T::from_f64(num_traits::Float::sqrt(bias_correction2));
    let lerp_weight = T::from_f64(1.0 - beta1);
    let (beta2, one_minus_beta2, eps) = (T::from_f64(beta2), T::from_f64(1.0 - beta2), T::from_f64(eps));
    let decay = match (weight_decay != 0.0, decoupled_weight_decay) {
        (false, _) => Decay::None,
        (true, false) => Decay::Coupled(T::from_f64(weight_decay)),
        (true, true) => Decay::Decoupled(T::from_f64(1.0 - lr * weight_decay)),
    };
    let factors = Factors { minus_step_size, bias_correction2_sqrt, lerp_weight, beta2, one_minus_beta2, eps };
    for_each_tensor(params, |values, grads, index, offset| {
        let m = first.tensor(index, offset, values.len());
        let v = second.tensor(index, offset, values.len());
        update_on(crate::kernels::best_path(), factors, decay, values, grads, m, v);
    });
    Ok(())
}

/// The per-step scalars of Adam's update, in the parameters' type.
#[derive(Clone, Copy)]
struct Factors<T> {
    minus_step_size: T,
    bias_correction2_sqrt: T,
    lerp_weight: T,
    beta2: T,
    one_minus_beta2: T,
    eps: T,
}

/// Adam's weight decay: none, added to the gradient (`weight_decay`), or a
/// shrinking of the weights before the update (`1 - lr·weight_decay`, AdamW).
#[derive(Clone, Copy)]
enum Decay<T> {
    None,
    Coupled(T),
    Decoupled(T),
}

/// Adam's update of one tensor, its loop compiled for `path`'s vector feature
/// (the CPU's best, for a step) when the tensor has 16 values or more. The
/// choices that hold for the whole step (the decay, `lerp`'s formula) are made
/// here, once, so that each loop is straight-line code that the compiler
/// vectorises. Every element goes through the same operations in the same
/// order whatever the vector width (no fused multiply-adds), so the bits are
/// the same on every path.
fn update_on<T: Scalar>(
    path: crate::kernels::Path,
    factors: Factors<T>,
    decay: Decay<T>,
    values: &mut [T],
    grads: &[T],
    m: &mut [T],
    v: &mut [T],
) {
    let small_weight = factors.lerp_weight.abs() < T::from_f64(0.5);
    crate::kernels::vectorised_heavy_on(
        path,
        values.len(),
        #[inline(always)]
        || match (decay, small_weight) {
            (Decay::None, true) => update_loop::<T, true>(factors, values, grads, m, v, |_, g| g, |p| p),
            (Decay::None, false) => update_loop::<T, false>(factors, values, grads, m, v, |_, g| g, |p| p),
            (Decay::Coupled(d), true) => update_loop::<T, true>(factors, values, grads, m, v, |p, g| g + d * p, |p| p),
            (Decay::Coupled(d), false) => {
                update_loop::<T, false>(factors, values, grads, m, v, |p, g| g + d * p, |p| p)
            }
            (Decay::Decoupled(s), true) => update_loop::<T, true>(factors, values, grads, m, v, |_, g| g, |p| p * s),
            (Decay::Decoupled(s), false) => update_loop::<T, false>(factors, values, grads, m, v, |_, g| g, |p| p * s),
        },
    );
}

/// The loop of [`update_on`]: `shrink` maps a weight before the update,
/// `gradient` gives the gradient the update uses from the (shrunk) weight and
/// the stored gradient; `SMALL_WEIGHT` picks [`lerp`]'s formula (the same one
/// `lerp` would pick for this weight).
#[inline(always)]
fn update_loop<T: Scalar, const SMALL_WEIGHT: bool>(
    factors: Factors<T>,
    values: &mut [T],
    grads: &[T],
    m: &mut [T],
    v: &mut [T],
    gradient: impl Fn(T, T) -> T,
    shrink: impl Fn(T) -> T,
) {
    let Factors { minus_step_size, bias_correction2_sqrt, lerp_weight, beta2, one_minus_beta2, eps } = factors;
    for (((p, &grad), m), v) in values.iter_mut().zip(grads).zip(m.iter_mut()).zip(v.iter_mut()) {
        let weight = shrink(*p);
        let g = gradient(weight, grad);
        *m = if SMALL_WEIGHT { lerp_small(*m, g, lerp_weight) } else { lerp_large(*m, g, lerp_weight) };
        *v = *v * beta2 + one_minus_beta2 * g * g;
        let denom = v.sqrt() / bias_correction2_sqrt + eps;
        *p = weight + minus_step_size * (*m / denom);
    }
}

/// `Adam` with its moments in arrays: no heap. `N` is the network's number
/// of parameters (e.g. `{ <Net as StaticTrain<f32, 1, 1>>::PARAMETERS }`);
/// a step on parameters of another size is an error.
///
/// ```
/// use tinymlp::{AdamConfig, Optimizer, Parameters, StaticAdam};
///
/// struct Two([f32; 2], [f32; 2]);
/// impl Parameters<f32> for Two {
///     fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [f32], &[f32])) {
///         f(&mut self.0, &self.1);
///     }
/// }
/// let mut p = Two([1.0, -1.0], [0.5, -0.5]);
/// let mut adam = StaticAdam::<f32, 2>::new(AdamConfig { lr: 0.1, ..AdamConfig::default() })?;
/// adam.step(&mut p)?;
/// assert!((p.0[0] - 0.9).abs() < 1e-6 && (p.0[1] + 0.9).abs() < 1e-6);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StaticAdam<T, const N: usize> {
    config: AdamConfig,
    steps: u64,
    first_moment: [T; N],
    second_moment: [T; N],
}

impl<T: Scalar, const N: usize> StaticAdam<T, N> {
    /// Adam with the given hyper-parameters and zero moments.
    ///
    /// # Errors
    /// As [`AdamConfig`]'s checks in `Adam::new`.
    pub fn new(config: AdamConfig) -> Result<Self> {
        config.validate::<T>()?;
        Ok(Self { config, steps: 0, first_moment: [T::zero(); N], second_moment: [T::zero(); N] })
    }

    /// Adam with learning rate `lr` and PyTorch's other defaults.
    ///
    /// # Errors
    /// As [`StaticAdam::new`].
    pub fn with_lr(lr: f64) -> Result<Self> {
        Self::new(AdamConfig { lr, ..AdamConfig::default() })
    }

    /// The hyper-parameters.
    #[must_use]
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Steps taken so far.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Zeroes the moments and the step count.
    pub fn reset(&mut self) {
        self.steps = 0;
        self.first_moment = [T::zero(); N];
        self.second_moment = [T::zero(); N];
    }
}

impl<T: Scalar, const N: usize> Optimizer<T> for StaticAdam<T, N> {
    fn step(&mut self, params: &mut dyn Parameters<T>) -> Result<()> {
        step(&self.config, &mut self.steps, params, &mut self.first_moment, &mut self.second_moment)
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn try_set_lr(&mut self, lr: f64) -> Result<()> {
        self.config = AdamConfig { lr, ..self.config }.validate::<T>().map_err(|err| naming_lr(err, lr))?;
        Ok(())
    }

    state_through_self!();
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::Error;
    use crate::optim::lerp;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    use crate::optim::Quadratic;

    /// The update loop, compiled for every vector width this CPU has, gives
    /// the bits of a direct transcription of PyTorch's formulas (with the
    /// two-formula `lerp`), for each kind of weight decay and both of
    /// `lerp`'s formulas, on lengths with and without a vector remainder.
    #[test]
    fn the_update_gives_the_same_bits_on_every_path() {
        fn check<T: Scalar>() {
            let mut rng = crate::Rng::new(3);
            let mut random = |scale: f64| T::from_f64(rng.uniform(-scale, scale));
            for len in [1, 15, 16, 37, 64] {
                let values: Vec<T> = (0..len).map(|_| random(2.0)).collect();
                let grads: Vec<T> = (0..len).map(|_| random(1.0)).collect();
                let m0: Vec<T> = (0..len).map(|_| random(0.1)).collect();
                let v0: Vec<T> = (0..len).map(|_| random(0.01).abs()).collect();
                for (decay, beta1) in [
                    (Decay::None, 0.9),
                    (Decay::None, 0.3),
                    (Decay::Coupled(T::from_f64(0.01)), 0.9),
                    (Decay::Coupled(T::from_f64(0.01)), 0.2),
                    (Decay::Decoupled(T::from_f64(0.999)), 0.9),
                    (Decay::Decoupled(T::from_f64(0.999)), 0.1),
                ] {
                    let factors = Factors {
                        minus_step_size: T::from_f64(-0.01 / 0.19),
                        bias_correction2_sqrt: T::from_f64(0.0446),
                        lerp_weight: T::from_f64(1.0 - beta1),
                        beta2: T::from_f64(0.999),
                        one_minus_beta2: T::from_f64(1.0 - 0.999),
                        eps: T::from_f64(1e-8),
                    };
                    let (mut expected, mut m, mut v) = (values.clone(), m0.clone(), v0.clone());
                    for (((p, &grad), m), v) in expected.iter_mut().zip(&grads).zip(&mut m).zip(&mut v) {
                        if let Decay::Decoupled(shrink) = decay {
                            *p = *p * shrink;
                        }
                        let g = if let Decay::Coupled(d) = decay { grad + d * *p } else { grad };
                        *m = lerp(*m, g, factors.lerp_weight);
                        *v = *v * factors.beta2 + factors.one_minus_beta2 * g * g;
                        let denom = v.sqrt() / factors.bias_correction2_sqrt + factors.eps;
                        *p = *p + factors.minus_step_size * (*m / denom);
                    }
                    let bits = |x: &[T]| x.iter().map(|x| x.as_f64().to_bits()).collect::<Vec<_>>();
                    for path in crate::kernels::available_paths() {
                        let (mut got, mut got_m, mut got_v) = (values.clone(), m0.clone(), v0.clone());
                        update_on(path, factors, decay, &mut got, &grads, &mut got_m, &mut got_v);
                        assert_eq!(bits(&got), bits(&expected), "{path} {} len {len}", T::NAME);
                        assert_eq!(bits(&got_m), bits(&m), "{path} {} len {len}", T::NAME);
                        assert_eq!(bits(&got_v), bits(&v), "{path} {} len {len}", T::NAME);
                    }
                }
            }
        }
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn first_step_moves_each_parameter_by_lr() {
        // With bias correction, Adam's first step is lr * g / (|g| + eps') = ±lr.
        let mut q = Quadratic { x: [1.0, -2.0], grad: [3.0, -0.5] };
        let mut adam = Adam::with_lr(0.1).unwrap();
        adam.step(&mut q).unwrap();
        assert!((q.x[0] - 0.9).abs() < 1e-8 && (q.x[1] + 1.9).abs() < 1e-8, "{:?}", q.x);
    }

    #[test]
    fn reference_trajectory_matches_a_direct_transcription() {
        let mut q = Quadratic { x: [1.0, -2.0], grad: [0.0; 2] };
        let mut adam = Adam::with_lr(0.05).unwrap();
        let (mut m, mut v, mut x) = ([0.0f64; 2], [0.0f64; 2], [1.0f64, -2.0]);
        for t in 1..=30 {
            q.grad = [2.0 * q.x[0], 8.0 * q.x[1]];
            adam.step(&mut q).unwrap();
            for i in 0..2 {
                let g = [2.0 * x[0], 8.0 * x[1]][i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                let m_hat = m[i] / (1.0 - 0.9f64.powi(t));
                let v_hat = v[i] / (1.0 - 0.999f64.powi(t));
                x[i] -= 0.05 * m_hat / (v_hat.sqrt() + 1e-8 * 1.0);
            }
            for i in 0..2 {
                assert!((q.x[i] - x[i]).abs() < 1e-9 * (1.0 + x[i].abs()), "step {t}: {:?} vs {x:?}", q.x);
            }
        }
    }

    #[test]
    fn invalid_hyper_parameters_and_shape_changes_are_errors() {
        assert!(matches!(Adam::<f64>::with_lr(-1.0), Err(Error::InvalidHyperParameter { name: "lr", .. })));
        let bad_beta = AdamConfig { beta1: 1.0, ..AdamConfig::default() };
        assert!(matches!(Adam::<f64>::new(bad_beta), Err(Error::InvalidHyperParameter { name: "beta1", .. })));
        let mut adam = Adam::with_lr(0.1).unwrap();
        adam.step(&mut Quadratic { x: [0.0; 2], grad: [1.0; 2] }).unwrap();
        struct Three([f64; 3], [f64; 3]);
        impl Parameters<f64> for Three {
            fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [f64], &[f64])) {
                f(&mut self.0, &self.1);
            }
        }
        let mut three = Three([5.0; 3], [1.0; 3]);
        let err = adam.step(&mut three).unwrap_err();
        assert_eq!(err, Error::OptimizerState { tensor: Some(0), expected: 2, found: 3 });
        assert_eq!(
            err.to_string(),
            "the optimizer's state was made for other parameters: tensor 0 has 3 values, the state 2 \
             (reset the optimizer or make a new one for a new network)"
        );
        assert_eq!(three.0, [5.0; 3]);
        // One tensor more than the state has.
        struct Two([f64; 2], [f64; 2], [f64; 1], [f64; 1]);
        impl Parameters<f64> for Two {
            fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [f64], &[f64])) {
                f(&mut self.0, &self.1);
                f(&mut self.2, &self.3);
            }
        }
        let mut two = Two([5.0; 2], [1.0; 2], [5.0], [1.0]);
        assert_eq!(adam.step(&mut two), Err(Error::OptimizerState { tensor: None, expected: 1, found: 2 }));
        assert_eq!((two.0, two.2), ([5.0; 2], [5.0]));
    }
}

#[cfg(feature = "alloc")]
mod state {
    //! Adam's state in safetensors: `adam.exp_avg.{parameter}` and
    //! `adam.exp_avg_sq.{parameter}` after the first step, `adam.step`.

    use alloc::vec::Vec;

    use super::{Adam, AdamConfig, StaticAdam};
    use crate::optim::state::{self, Buffer, ParameterInfo, Value};
    use crate::safetensors::{SafeTensors, Writer};
    use crate::{OptimizerState, Result, Scalar};

    const KIND: &str = "adam";
    const BUFFERS: &[&str] = &["exp_avg", "exp_avg_sq"];

    impl AdamConfig {
        fn state_metadata(&self, steps: u64) -> [(&'static str, Value); 7] {
            [
                ("lr", Value::Float(self.lr)),
                ("beta1", Value::Float(self.beta1)),
                ("beta2", Value::Float(self.beta2)),
                ("eps", Value::Float(self.eps)),
                ("weight_decay", Value::Float(self.weight_decay)),
                ("decoupled_weight_decay", Value::Flag(self.decoupled_weight_decay)),
                ("step", Value::Count(steps)),
            ]
        }
    }

    impl<T: Scalar> OptimizerState<T> for Adam<T> {
        fn write_state(&self, params: &ParameterInfo, writer: &mut Writer) -> Result<()> {
            let mut buffers: Vec<Buffer<'_, T>> = Vec::new();
            if self.steps > 0 {
                buffers.push((BUFFERS[0], state::heap_tensors(&self.first_moment, params)?));
                buffers.push((BUFFERS[1], state::heap_tensors(&self.second_moment, params)?));
            }
            state::write(writer, KIND, &self.config.state_metadata(self.steps), params, &buffers)
        }

        fn read_state(&mut self, params: &ParameterInfo, file: &SafeTensors<'_>) -> Result<()> {
            let restored = state::read_metadata(file, KIND, &self.config.state_metadata(self.steps))?;
            let config = AdamConfig { lr: restored.lr, ..self.config }.validate::<T>()?;
            let buffers = state::read_buffers::<T>(file, KIND, params, BUFFERS, Some(restored.step > 0))?;
            let (first, second) = match buffers {
                Some(mut moments) => (moments.remove(0), moments.remove(0)),
                None => (Vec::new(), Vec::new()),
            };
            self.config = config;
            self.steps = restored.step;
            self.first_moment = first;
            self.second_moment = second;
            Ok(())
        }
    }

    impl<T: Scalar, const N: usize> OptimizerState<T> for StaticAdam<T, N> {
        fn write_state(&self, params: &ParameterInfo, writer: &mut Writer) -> Result<()> {
            state::check_array_size(N, params)?;
            let mut buffers: Vec<Buffer<'_, T>> = Vec::new();
            if self.steps > 0 {
                buffers.push((BUFFERS[0], state::array_tensors(&self.first_moment, params)?));
                buffers.push((BUFFERS[1], state::array_tensors(&self.second_moment, params)?));
            }
            state::write(writer, KIND, &self.config.state_metadata(self.steps), params, &buffers)
        }

        fn read_state(&mut self, params: &ParameterInfo, file: &SafeTensors<'_>) -> Result<()> {
            state::check_array_size(N, params)?;
            let restored = state::read_metadata(file, KIND, &self.config.state_metadata(self.steps))?;
            let config = AdamConfig { lr: restored.lr, ..self.config }.validate::<T>()?;
            let buffers = state::read_buffers::<T>(file, KIND, params, BUFFERS, Some(restored.step > 0))?;
            self.config = config;
            self.steps = restored.step;
            self.first_moment.fill(T::zero());
            self.second_moment.fill(T::zero());
            if let Some(mut moments) = buffers {
                state::fill_array(&mut self.first_moment, moments.remove(0));
                state::fill_array(&mut self.second_moment, moments.remove(0));
            }
            Ok(())
        }
    }
}
