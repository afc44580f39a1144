//! The public API as a downstream crate meets it (only `tinymlp::` paths):
//! the panicking/`Result` pairs, optimizers as trait objects, layer access
//! without plumbing traits, per-layer activations, generic gradient checks,
//! error sources, single static layers and the `Scalar` conversions.

use std::error::Error as _;

use tinymlp::gradcheck::{self, Options, Which};
use tinymlp::safetensors::FormatError;
use tinymlp::{
    Act, Activation, Adam, DynMlp, Error, Float, HalfMse, Identity, Init, Linear, Matrix, Mlp, Optimizer, Predict, Rng,
    Scalar, Sgd, StaticLinear, Tanh,
};

fn small_net() -> DynMlp<f64> {
    DynMlp::<f64>::from_widths(&[2, 5, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(4)).unwrap()
}

fn batch() -> (Matrix<f64>, Matrix<f64>) {
    let x = Matrix::from_fn(4, 2, |i, j| i as f64 * 0.25 - j as f64 * 0.5);
    let y = Matrix::from_fn(4, 1, |i, _| (i as f64).sin());
    (x, y)
}

/// `x.as_f64()` works on values and references alike in generic code: it
/// cannot be confused with `ToPrimitive::to_f64`, which returns an `Option`.
#[test]
fn scalar_conversions_do_not_collide_with_num_traits() {
    fn total<T: Scalar>(values: &[T]) -> f64 {
        values.iter().map(|v| v.as_f64()).sum()
    }
    assert_eq!(total(&[0.5f32, 0.25]), 0.75);
    assert_eq!(total(&[1.0f64, 2.0]), 3.0);
    assert_eq!(<f32 as Scalar>::from_f64(0.1), 0.1f32);
}

#[test]
fn every_pair_agrees_and_the_panicking_twin_names_the_error() {
    let (x, y) = batch();
    let mut net = small_net();
    let forward = net.try_forward(&x).unwrap().clone();
    assert_eq!(net.forward(&x), &forward);
    assert_eq!(net.try_loss(&HalfMse, &y).unwrap().to_bits(), net.loss(&HalfMse, &y).to_bits());
    assert_eq!(net.try_predict(&x).unwrap(), net.predict(&x));
    assert_eq!(net.predict(&x), forward);

    let wrong = Matrix::zeros(3, 3);
    assert!(matches!(net.try_predict(&wrong), Err(Error::ShapeMismatch { op: "predict", .. })));
    let message = std::panic::catch_unwind(|| small_net().predict(&wrong)).unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(message.starts_with("Mlp::predict: predict: expected a 3x2 matrix, got 3x3"), "{message}");
    let message = std::panic::catch_unwind(|| small_net().backward_loss(&HalfMse, &y)).unwrap_err();
    assert!(message.downcast_ref::<String>().unwrap().starts_with("Mlp::backward_loss: backward needs a forward pass"));
}

#[test]
fn try_step_refuses_bad_rates_and_gradients_and_changes_nothing() {
    let (x, y) = batch();
    let mut net = small_net();
    net.forward(&x);
    net.backward_loss(&HalfMse, &y);
    let before = net.parameters_to_vec();
    for lr in [f64::NAN, f64::INFINITY, -0.1] {
        assert!(matches!(net.try_step(lr), Err(Error::InvalidHyperParameter { name: "lr", .. })), "{lr}");
        assert_eq!(net.parameters_to_vec(), before);
    }
    // A NaN input gives NaN gradients: refused, nothing updated.
    let mut bad = x.clone();
    bad.as_mut_slice()[0] = f64::NAN;
    net.zero_grad();
    net.forward(&bad);
    // The loss refuses the NaN output; a given output gradient carries it on.
    assert!(matches!(net.try_backward_loss(&HalfMse, &y), Err(Error::NonFinite { .. })));
    net.backward(&y);
    assert!(matches!(net.try_step(0.1), Err(Error::NonFinite { .. })));
    assert_eq!(net.parameters_to_vec(), before);
    // A good step is plain gradient descent, bit for bit Sgd's.
    let mut twin = net.clone();
    net.zero_grad();
    net.forward(&x);
    net.backward_loss(&HalfMse, &y);
    twin.zero_grad();
    twin.forward(&x);
    twin.backward_loss(&HalfMse, &y);
    net.step(0.1);
    Sgd::with_lr(0.1).unwrap().step(&mut twin).unwrap();
    let gradients = twin.gradients_to_vec();
    assert_eq!(net.parameters_to_vec(), twin.parameters_to_vec());
    let expected: Vec<f64> = before.iter().zip(&gradients).map(|(p, g)| p - 0.1 * g).collect();
    assert_eq!(net.parameters_to_vec(), expected);
}

/// A training loop that takes any optimizer behind `&mut dyn Optimizer`.
#[test]
fn optimizers_are_built_alike_and_work_as_trait_objects() {
    fn train(net: &mut DynMlp<f64>, optimizer: &mut dyn Optimizer<f64>, steps: usize) -> f64 {
        let (x, y) = batch();
        let mut loss = f64::NAN;
        for _ in 0..steps {
            net.zero_grad();
            net.forward(&x);
            loss = net.backward_loss(&HalfMse, &y);
            optimizer.step(net).unwrap();
        }
        loss
    }
    let mut optimizers: Vec<(&str, Box<dyn Optimizer<f64>>)> = vec![
        ("sgd", Box::new(Sgd::with_lr(0.05).unwrap())),
        ("adam", Box::new(Adam::with_lr(0.01).unwrap())),
        ("rmsprop", Box::new(tinymlp::RmsProp::with_lr(0.005).unwrap())),
        (
            "sgd config",
            Box::new(Sgd::new(tinymlp::SgdConfig { lr: 0.05, momentum: 0.9, ..Default::default() }).unwrap()),
        ),
        ("adam config", Box::new(Adam::new(tinymlp::AdamConfig::adamw()).unwrap())),
        ("rmsprop config", Box::new(tinymlp::RmsProp::new(tinymlp::RmsPropConfig::default()).unwrap())),
    ];
    for (name, optimizer) in &mut optimizers {
        let mut net = small_net();
        let first = train(&mut net, optimizer.as_mut(), 1);
        let later = train(&mut net, optimizer.as_mut(), 50);
        assert!(later < first, "{name}: {first} -> {later}");
    }
}

#[test]
fn layers_are_reachable_without_a_plumbing_trait() {
    let mut rng = Rng::new(0);
    let net = Mlp::new((Linear::<f32, 3, 4, Tanh>::new(&mut rng), Linear::<f32, 4, 2>::new(&mut rng)));
    let widths: Vec<(usize, usize)> = net.iter_layers().map(|layer| (layer.inputs(), layer.outputs())).collect();
    assert_eq!(widths, [(3, 4), (4, 2)]);
    assert_eq!(net.iter_layers().len(), 2);
    assert_eq!(net.layer(1).unwrap().weight().len(), 8);
    assert!(net.layer(2).is_none());
    // A single layer is a network too.
    let single = Mlp::new(Linear::<f64, 2, 1>::new(&mut rng));
    assert_eq!(single.widths(), [2, 1]);
}

/// x / (1 + |x|), written outside the crate.
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
fn a_custom_hidden_activation_and_a_builtin_output_in_one_network() {
    let mut net = DynMlp::<f64, Box<dyn Activation<f64>>>::from_widths_with(
        &[2, 6, 6, 1],
        |layer| if layer < 2 { Box::new(Softsign) } else { Box::new(Identity) },
        Init::TorchDefault,
        &mut Rng::new(9),
    )
    .unwrap();
    let (x, y) = batch();
    let report = gradcheck::check_network(&mut net, &x, &y, &HalfMse, &Options::default()).unwrap();
    assert!(report.overall().passed(), "{report:?}");
    assert!(report.overall().checked > 0);
    // The output layer is affine: its output equals its pre-activation.
    let output = net.forward(&x).clone();
    let hidden = net.iter_layers().nth(1).unwrap();
    assert_eq!(hidden.activation().value(2.0), 2.0 / 3.0);
    assert_eq!(output.shape(), (4, 1));
}

/// sigmoid written for f32 only, with `Float` from tinymlp (no num-traits
/// dependency needed).
struct SigmoidF32 {
    /// Scales the derivative: 1.0 is right, anything else a bug to catch.
    derivative_scale: f32,
}

impl Activation<f32> for SigmoidF32 {
    fn value(&self, x: f32) -> f32 {
        1.0 / (1.0 + Float::exp(-x))
    }
    fn derivative(&self, _x: f32, y: f32) -> f32 {
        self.derivative_scale * y * (1.0 - y)
    }
}

#[test]
fn gradient_checks_run_in_f32_and_catch_a_wrong_derivative() {
    let points: Vec<f32> = (-20..=20).map(|i| i as f32 * 0.3).collect();
    let right = gradcheck::check_activation(&SigmoidF32 { derivative_scale: 1.0 }, &points);
    assert!(right.passed(), "{right:?}");
    assert_eq!(right.checked, points.len());
    let wrong = gradcheck::check_activation(&SigmoidF32 { derivative_scale: 1.03 }, &points);
    assert!(!wrong.passed(), "a 3% error must fail: {wrong:?}");

    // A whole f32 network, with the f32 options; then only its biases.
    let mut net =
        DynMlp::<f32>::from_widths(&[2, 5, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(1)).unwrap();
    let x = Matrix::from_fn(3, 2, |i, j| i as f32 * 0.4 - j as f32 * 0.3);
    let y = Matrix::from_fn(3, 1, |i, _| i as f32 * 0.2);
    let options = Options::for_type::<f32>();
    let report = gradcheck::check_network(&mut net, &x, &y, &HalfMse, &options).unwrap();
    assert!(report.overall().passed(), "{report:?}");
    let biases_only = Options { which: Which { weights: false, biases: true, inputs: false }, ..options };
    let report = gradcheck::check_network(&mut net, &x, &y, &HalfMse, &biases_only).unwrap();
    assert_eq!((report.weights.checked, report.biases.checked, report.inputs.checked), (0, 6, 0));

    // check_gradient on an f32 function: f(a, b) = a²b.
    let f = |p: &[f32]| p[0] * p[0] * p[1];
    let report = gradcheck::check_gradient(f, &[1.5, -2.0], &[-6.0, 2.25], &options);
    assert!(report.passed(), "{report:?}");
    let report = gradcheck::check_gradient(f, &[1.5, -2.0], &[-6.0, 2.5], &options);
    assert!(!report.passed(), "{report:?}");
}

#[test]
fn a_malformed_file_error_has_the_format_error_as_its_source() {
    let err =
        DynMlp::<f32>::from_safetensors(b"\xff\x00\x00\x00\x00\x00\x00\x00{}", Act::Tanh, Act::Identity).unwrap_err();
    assert!(matches!(err, Error::Safetensors(_)), "{err:?}");
    let source = err.source().expect("a wrapped error has a source");
    assert!(source.downcast_ref::<FormatError>().is_some());
    assert!(Error::NoForwardPass.source().is_none());
}

#[test]
fn a_single_static_layer_predicts_without_a_tuple() {
    static LAYER: StaticLinear<f32, 2, 1> = StaticLinear::new([[2.0, -1.0]], [0.5], Identity);
    assert_eq!(LAYER.predict(&[1.0, 1.0]), [1.5]);
    assert_eq!(<StaticLinear<f32, 2, 1> as Predict<f32, 2, 1>>::WEIGHT_BYTES, 12);
    let mut out = [[0.0]; 2];
    LAYER.predict_batch(&[[0.0, 0.0], [1.0, 0.0]], &mut out).unwrap();
    assert_eq!(out, [[0.5], [2.5]]);
}
