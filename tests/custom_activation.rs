//! What a downstream crate meets when it brings its own activation, written as
//! that crate would: only `tinymlp::` public paths. A custom activation is
//! never exported as a built-in; an activation for `f32` alone reaches
//! `exp` and `tanh` through `tinymlp::Float`; and boxed activations mix custom
//! and built-in functions in one network whose gradients check out.

use tinymlp::gradcheck::check_network;
use tinymlp::{Activation, Dense, DynMlp, Error, Float, HalfMse, Identity, Init, Matrix, Mlp, Rng, Scalar};

/// Behaves exactly like tanh, which is what a custom activation pretending to
/// be `Act::Tanh` would look like; it must still not be exported as one.
#[derive(Clone)]
struct LooksLikeTanh;

impl<T: Scalar> Activation<T> for LooksLikeTanh {
    fn value(&self, x: T) -> T {
        x.tanh()
    }
    fn derivative(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
}

#[test]
fn a_custom_activation_is_refused_by_rust_source_export() {
    let net = DynMlp::<f64, LooksLikeTanh>::from_widths(
        &[2, 3, 1],
        LooksLikeTanh,
        LooksLikeTanh,
        Init::TorchDefault,
        &mut Rng::new(0),
    )
    .unwrap();
    assert_eq!(net.to_rust_source("NET").unwrap_err(), Error::CustomActivation { layer: 0 });
}

/// Mish, `x · tanh(ln(1 + e^x))`, for f32 only: the methods come from
/// `tinymlp::Float`, as they would in a `#![no_std]` crate.
#[derive(Clone, Copy)]
struct Mish;

impl Activation<f32> for Mish {
    fn value(&self, x: f32) -> f32 {
        x * Float::tanh(Float::ln_1p(Float::exp(x)))
    }
    fn derivative(&self, x: f32, _y: f32) -> f32 {
        let t = Float::tanh(Float::ln_1p(Float::exp(x)));
        let sigmoid = 1.0 / (1.0 + Float::exp(-x));
        t + x * sigmoid * (1.0 - t * t)
    }
}

#[test]
fn an_f32_only_activation_through_tinymlp_float_runs_in_a_network() {
    // One 1→1 layer with weight 1 and bias 0: the network's output is Mish itself.
    let mut net = DynMlp::<f32, _>::from_widths(&[1, 1], Mish, Mish, Init::TorchDefault, &mut Rng::new(0)).unwrap();
    net.set_parameters(&[1.0, 0.0]).unwrap();
    let xs = [-20.0f32, -3.0, -0.5, 0.0, 0.25, 1.0, 4.0, 15.0];
    let out = net.predict(&Matrix::column(&xs));
    for (&x, &y) in xs.iter().zip(out.as_slice()) {
        let x64 = f64::from(x);
        let expected = x64 * x64.exp().ln_1p().tanh();
        assert!(
            (f64::from(y) - expected).abs() <= 4.0 * f64::from(f32::EPSILON) * (1.0 + expected.abs()),
            "mish({x}) = {y}, expected {expected}"
        );
    }
}

/// `x / (1 + |x|)`, generic: used behind a `Box<dyn Activation<f64>>`.
struct Softsign;

impl<T: Scalar> Activation<T> for Softsign {
    fn value(&self, x: T) -> T {
        x / (T::one() + x.abs())
    }
    fn derivative(&self, x: T, _y: T) -> T {
        let d = T::one() + x.abs();
        T::one() / (d * d)
    }
}

#[test]
fn boxed_custom_and_builtin_activations_make_a_network_with_correct_gradients() {
    let mut rng = Rng::new(7);
    let layers: Vec<Dense<f64, Box<dyn Activation<f64>>>> = vec![
        Dense::new(3, 5, Box::new(Softsign), Init::TorchDefault, &mut rng),
        Dense::new(5, 4, Box::new(Softsign), Init::TorchDefault, &mut rng),
        Dense::new(4, 2, Box::new(Identity), Init::TorchDefault, &mut rng),
    ];
    let mut net = Mlp::try_new(layers).unwrap();
    assert_eq!(net.widths(), [3, 5, 4, 2]);
    let x = Matrix::from_fn(6, 3, |i, j| (i as f64 * 0.7 - j as f64 * 1.3).sin());
    let y = Matrix::from_fn(6, 2, |i, j| (i + j) as f64 * 0.1);
    let report = check_network(&mut net, &x, &y, &HalfMse, &Default::default()).unwrap();
    assert!(report.overall().max_relative_error < 1e-6, "{report:?}");
    // The boxed custom layers are not built-ins, so the network cannot be exported;
    // the built-in output layer alone would be.
    assert_eq!(net.to_rust_source("NET").unwrap_err(), Error::CustomActivation { layer: 0 });
}
