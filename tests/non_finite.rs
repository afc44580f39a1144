//! NaN and infinities are reported where they first appear, with their
//! location, and never reach the weights.

use tinymlp::{
    Act, Adam, DynMlp, Error, HalfMse, Init, Matrix, Name, Optimizer, RmsProp, RmsPropConfig, Rng, Sgd, SgdConfig,
    check_finite,
};

fn net() -> DynMlp<f64> {
    DynMlp::from_widths(&[2, 3, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(3)).unwrap()
}

#[test]
fn optimizers_refuse_non_finite_gradients_and_change_nothing() {
    let x = Matrix::from_rows(&[[0.5, f64::NAN], [1.0, 2.0]]).unwrap();
    let y = Matrix::column(&[0.0, 1.0]);
    let momentum = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    let mut optimizers: (Adam<f64>, Sgd<f64>, RmsProp<f64>) =
        (Adam::with_lr(0.1).unwrap(), Sgd::new(momentum).unwrap(), RmsProp::new(RmsPropConfig::default()).unwrap());
    let mut net = net();
    let before = net.parameters_to_vec();
    net.forward(&x);
    // The NaN input reaches the output, which the loss refuses, naming it.
    let err = net.try_backward_loss(&HalfMse, &y).unwrap_err();
    assert_eq!(err.to_string(), "network output row 0 col 0 holds NaN at index 0; only finite values are allowed");
    assert!(net.gradients_to_vec().iter().all(|&g| g == 0.0));
    // A given output gradient carries it into the parameter gradients.
    net.backward(&Matrix::column(&[1.0, 1.0]));
    let err = net.check_gradients().unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { what, index: 0, value } if what == Name::new("gradient of layer 0 weight") && value.is_nan())
    );
    for result in [optimizers.0.step(&mut net), optimizers.1.step(&mut net), optimizers.2.step(&mut net)] {
        let err = result.unwrap_err();
        assert!(err.to_string().starts_with("gradient of parameter tensor 0 holds NaN at index 0"), "{err}");
    }
    assert_eq!(net.parameters_to_vec(), before);
    assert_eq!(optimizers.0.steps(), 0, "Adam's state did not advance");
    // After a good batch, the same optimizers step normally from clean state.
    let good = Matrix::from_rows(&[[0.5, 0.25], [1.0, 2.0]]).unwrap();
    net.zero_grad();
    net.forward(&good);
    net.try_backward_loss(&HalfMse, &y).unwrap();
    optimizers.0.step(&mut net).unwrap();
    assert_eq!(optimizers.0.steps(), 1);
    assert_ne!(net.parameters_to_vec(), before);
}

#[test]
fn parameter_and_data_checks_name_the_location() {
    let mut net = net();
    assert!(net.check_parameters().is_ok());
    let mut values = net.parameters_to_vec();
    // Layer 0 has 6 weights and 3 biases; index 10 is layer 1's weight 1.
    values[10] = f64::INFINITY;
    net.set_parameters(&values).unwrap();
    let err = net.check_parameters().unwrap_err();
    assert_eq!(err.to_string(), "layer 1 weight holds inf at index 1; only finite values are allowed");
    assert!(check_finite("x", &[0.0f32, -1.0]).is_ok());
    assert!(matches!(check_finite("y", &[0.0f32, f32::NEG_INFINITY]), Err(Error::NonFinite { index: 1, .. })));
}

/// Sets an optimizer's learning rate, then steps.
type StepWithLr<'a> = dyn FnMut(f64, &mut DynMlp<f64>) -> Result<(), Error> + 'a;

#[test]
fn a_learning_rate_of_nan_or_below_zero_is_refused_and_the_old_rate_kept() {
    let x = Matrix::from_rows(&[[0.5, 0.25], [1.0, 2.0]]).unwrap();
    let y = Matrix::column(&[0.0, 1.0]);
    let momentum = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    let mut adam = Adam::with_lr(0.1).unwrap();
    let mut sgd = Sgd::new(momentum).unwrap();
    let mut rmsprop = RmsProp::new(RmsPropConfig { lr: 0.1, ..RmsPropConfig::default() }).unwrap();
    let optimizers: [&mut StepWithLr; 3] = [
        &mut |lr, net| {
            let old = adam.lr();
            if let Err(err) = adam.try_set_lr(lr) {
                assert_eq!(adam.lr().to_bits(), old.to_bits(), "the old rate is kept");
                return Err(err);
            }
            assert_eq!(adam.lr(), lr);
            adam.step(net)
        },
        &mut |lr, net| {
            let old = sgd.lr();
            if let Err(err) = sgd.try_set_lr(lr) {
                assert_eq!(sgd.lr().to_bits(), old.to_bits(), "the old rate is kept");
                return Err(err);
            }
            assert_eq!(sgd.lr(), lr);
            sgd.step(net)
        },
        &mut |lr, net| {
            let old = rmsprop.lr();
            if let Err(err) = rmsprop.try_set_lr(lr) {
                assert_eq!(rmsprop.lr().to_bits(), old.to_bits(), "the old rate is kept");
                return Err(err);
            }
            assert_eq!(rmsprop.lr(), lr);
            rmsprop.step(net)
        },
    ];
    for step in optimizers {
        for bad in [f64::NAN, -0.5, f64::INFINITY] {
            let mut net = net();
            net.forward(&x);
            net.try_backward_loss(&HalfMse, &y).unwrap();
            let before = net.parameters_to_vec();
            let err = step(bad, &mut net).unwrap_err();
            assert!(matches!(err, Error::InvalidHyperParameter { name: "lr", .. }), "{err}");
            assert_eq!(net.parameters_to_vec(), before);
            // A good rate works again.
            step(0.01, &mut net).unwrap();
            assert_ne!(net.parameters_to_vec(), before);
        }
    }
}

/// Many one-value tensors, the last gradient NaN.
struct ManyTensors(Vec<[f64; 1]>, Vec<[f64; 1]>);

impl tinymlp::Parameters<f64> for ManyTensors {
    fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [f64], &[f64])) {
        for (value, grad) in self.0.iter_mut().zip(&self.1) {
            f(value, grad);
        }
    }
}

/// Error messages name the whole tensor: a gradient's tensor number of four
/// digits and more, and an optimizer state tensor's 37-byte name, were cut at
/// 32 bytes.
#[test]
fn messages_name_the_whole_tensor() {
    for count in [1235, 100_001] {
        let mut params = ManyTensors(vec![[1.0]; count], vec![[0.5]; count]);
        params.1[count - 1] = [f64::NAN];
        let err = Sgd::with_lr(0.1).unwrap().step(&mut params).unwrap_err();
        let expected = format!("gradient of parameter tensor {} holds NaN at index 0", count - 1);
        assert!(err.to_string().starts_with(&expected), "{err}");
    }

    use tinymlp::OptimizerState;
    use tinymlp::safetensors::{SafeTensors, Writer};
    let mut net = net();
    let x = Matrix::from_rows(&[[0.5, 0.25], [1.0, 2.0]]).unwrap();
    let config = RmsPropConfig { lr: 0.01, momentum: 0.9, ..RmsPropConfig::default() };
    let mut rmsprop = RmsProp::<f64>::new(config).unwrap();
    net.forward(&x);
    net.backward_loss(&HalfMse, &Matrix::column(&[0.0, 1.0]));
    rmsprop.step(&mut net).unwrap();
    let mut writer = Writer::new();
    rmsprop.write_state(&net.parameter_info(), &mut writer).unwrap();
    let bytes = writer.to_bytes();
    let file = SafeTensors::parse(&bytes).unwrap();
    let mut poisoned = Writer::new();
    for (key, value) in file.metadata() {
        poisoned.metadata(key, value);
    }
    let name = "rmsprop.momentum_buffer.layers.1.bias";
    for tensor in file.tensors() {
        let mut values = tensor.to_vec::<f64>().unwrap();
        if tensor.name() == name {
            values[0] = f64::NAN;
        }
        poisoned.add(tensor.name(), tensor.shape(), &values).unwrap();
    }
    let bytes = poisoned.to_bytes();
    let err = RmsProp::<f64>::new(config)
        .unwrap()
        .read_state(&net.parameter_info(), &SafeTensors::parse(&bytes).unwrap())
        .unwrap_err();
    assert_eq!(err.to_string(), format!("{name} holds NaN at index 0; only finite values are allowed"));
}

/// Asserts that `err` is `NonFinite` naming `what`, at `index`, holding `value`.
fn assert_non_finite(err: Error, what: &str, index: usize, value: f64) {
    match err {
        Error::NonFinite { what: name, index: i, value: v } => {
            assert_eq!((name.as_str(), i), (what, index));
            assert_eq!(v.to_bits(), value.to_bits(), "{v} vs {value}");
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
}

#[test]
fn a_nan_target_or_output_is_an_error_naming_its_row_and_column() {
    use tinymlp::{CrossEntropy, CrossEntropyIndex, Loss};
    let mut net = net();
    let x = Matrix::from_rows(&[[0.0, 0.3], [0.3, 0.6]]).unwrap();
    net.forward(&x);
    let before = (net.parameters_to_vec(), net.gradients_to_vec());
    let nan_target = Matrix::column(&[f64::NAN, 0.2]);
    assert_non_finite(net.try_loss(&HalfMse, &nan_target).unwrap_err(), "loss target row 0 col 0", 0, f64::NAN);
    let err = net.try_backward_loss(&HalfMse, &nan_target).unwrap_err();
    assert_eq!(err.to_string(), "loss target row 0 col 0 holds NaN at index 0; only finite values are allowed");
    let inf_target = Matrix::column(&[0.1, f64::NEG_INFINITY]);
    let err = net.try_backward_loss(&CrossEntropy, &inf_target).unwrap_err();
    assert_non_finite(err, "loss target row 1 col 0", 1, f64::NEG_INFINITY);
    let err = net.try_backward_loss(&CrossEntropyIndex, &Matrix::column(&[0.0, f64::INFINITY])).unwrap_err();
    assert_non_finite(err, "loss target row 1 col 0", 1, f64::INFINITY);
    assert_eq!((net.parameters_to_vec(), net.gradients_to_vec()), before, "nothing changed");
    assert!(net.output().is_some(), "the forward pass is kept");
    // An infinite output (here from an infinite bias) is named as the network's.
    let mut values = net.parameters_to_vec();
    let last = values.len() - 1;
    values[last] = f64::INFINITY; // the output bias
    net.set_parameters(&values).unwrap();
    net.forward(&x);
    let zeros = Matrix::column(&[0.0, 0.0]);
    assert_non_finite(net.try_loss(&HalfMse, &zeros).unwrap_err(), "network output row 0 col 0", 0, f64::INFINITY);
    assert!(Loss::<f64>::value(&HalfMse, &[f64::INFINITY], &[0.0], 1).is_infinite(), "the loss would be inf");
    // The target is checked first.
    let err = net.try_backward_loss(&HalfMse, &Matrix::column(&[0.0, f64::NAN])).unwrap_err();
    assert_non_finite(err, "loss target row 1 col 0", 1, f64::NAN);
}

#[test]
fn initialisers_that_would_draw_nan_or_infinity_are_refused_naming_the_parameter() {
    use tinymlp::{BiasInit, Dense, FanMode, LayerInit};
    fn build<T: tinymlp::Scalar>(init: impl Into<LayerInit>) -> Result<DynMlp<T>, Error> {
        let mut rng = Rng::new(1);
        let result = DynMlp::<T>::from_widths(&[3, 4, 2], Act::Tanh, Act::Identity, init, &mut rng);
        if result.is_err() {
            assert_eq!(rng.next_u64(), Rng::new(1).next_u64(), "nothing was drawn");
        }
        result
    }
    let name_of = |err: Error| match err {
        Error::InvalidHyperParameter { name, .. } => name,
        other => panic!("expected InvalidHyperParameter, got {other:?}"),
    };
    let gains = [
        Init::XavierUniform { gain: f64::NAN },
        Init::XavierNormal { gain: f64::INFINITY },
        Init::KaimingUniform { gain: f64::NEG_INFINITY, mode: FanMode::FanIn },
        Init::KaimingNormal { gain: f64::NAN, mode: FanMode::FanOut },
    ];
    for init in gains {
        assert_eq!(name_of(build::<f64>(init).unwrap_err()), "gain", "{init:?}");
    }
    // Finite in f64, infinite once rounded to f32.
    let err = build::<f32>(Init::Constant { weight: 1e300, bias: 0.0 }).unwrap_err();
    assert!(matches!(err, Error::InvalidHyperParameter { name: "constant weight", value: 1e300, .. }));
    assert!(
        err.to_string().ends_with("is invalid: expected a value whose draws are finite in the network's element type")
    );
    assert!(build::<f64>(Init::Constant { weight: 1e300, bias: 0.0 }).is_ok());
    assert_eq!(name_of(build::<f32>(Init::XavierNormal { gain: 1e38 }).unwrap_err()), "gain");
    assert!(build::<f32>(Init::XavierNormal { gain: 1e30 }).unwrap().check_parameters().is_ok());
    // A uniform bound finite in f64 whose range 2·bound is not: the draws would be infinite.
    for init in [Init::XavierUniform { gain: 1e308 }, Init::KaimingUniform { gain: 1e308, mode: FanMode::FanIn }] {
        assert_eq!(name_of(build::<f64>(init).unwrap_err()), "gain", "{init:?}");
    }
    assert!(build::<f64>(Init::XavierUniform { gain: 1e300 }).unwrap().check_parameters().is_ok());
    assert_eq!(name_of(build::<f64>(Init::Constant { weight: 0.5, bias: f64::NAN }).unwrap_err()), "constant bias");
    let biases = [
        (BiasInit::Constant(f64::INFINITY), "constant bias"),
        (BiasInit::Uniform { low: f64::NAN, high: 1.0 }, "uniform bias low"),
        (BiasInit::Uniform { low: 0.0, high: f64::INFINITY }, "uniform bias high"),
        (BiasInit::Uniform { low: 1.0, high: 0.0 }, "uniform bias low"),
        // high - low overflows: the draws would be infinite.
        (BiasInit::Uniform { low: -1e308, high: 1e308 }, "uniform bias low"),
    ];
    for (bias, name) in biases {
        assert_eq!(name_of(build::<f64>(Init::Zeros.with_bias(bias)).unwrap_err()), name, "{bias:?}");
    }
    // A NaN that no rule uses is no error: Init::Constant's bias under another bias rule.
    assert!(build::<f64>(Init::Constant { weight: 0.5, bias: f64::NAN }.with_bias(BiasInit::Zeros)).is_ok());
    let panic = std::panic::catch_unwind(|| {
        Dense::<f64, Act>::new(2, 2, Act::Tanh, Init::XavierUniform { gain: f64::NAN }, &mut Rng::new(0))
    })
    .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert_eq!(message, "Dense::new: gain = NaN is invalid: expected a finite value");
}
