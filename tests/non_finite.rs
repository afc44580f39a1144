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
fn a_learning_rate_set_to_nan_or_below_zero_is_refused_by_the_next_step() {
    let x = Matrix::from_rows(&[[0.5, 0.25], [1.0, 2.0]]).unwrap();
    let y = Matrix::column(&[0.0, 1.0]);
    let momentum = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    let mut adam = Adam::with_lr(0.1).unwrap();
    let mut sgd = Sgd::new(momentum).unwrap();
    let mut rmsprop = RmsProp::new(RmsPropConfig { lr: 0.1, ..RmsPropConfig::default() }).unwrap();
    let optimizers: [&mut StepWithLr; 3] = [
        &mut |lr, net| {
            adam.set_lr(lr);
            adam.step(net)
        },
        &mut |lr, net| {
            sgd.set_lr(lr);
            sgd.step(net)
        },
        &mut |lr, net| {
            rmsprop.set_lr(lr);
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
