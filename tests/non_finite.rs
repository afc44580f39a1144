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
    let loss = net.try_backward_loss(&HalfMse, &y).unwrap();
    assert!(loss.is_nan(), "the NaN input reaches the loss");
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
            adam.try_set_lr(lr)?;
            assert_eq!(adam.lr(), lr);
            adam.step(net)
        },
        &mut |lr, net| {
            sgd.try_set_lr(lr)?;
            assert_eq!(sgd.lr(), lr);
            sgd.step(net)
        },
        &mut |lr, net| {
            rmsprop.try_set_lr(lr)?;
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
