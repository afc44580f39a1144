//! Training without a heap gives the heap network's bits: a `StaticMlp` of
//! `TrainLinear`s and an `Mlp` of `Linear`s, started from the same parameters
//! and fed the same batches, end bitwise identical after many steps, for
//! plain SGD, SGD with momentum and Adam, in f32 and f64; gradients
//! accumulate alike; and the static network's errors change nothing.

use proptest::prelude::*;
use tinymlp::{
    AdamConfig, Error, HalfMse, Identity, Init, Linear, Matrix, Mlp, Optimizer, Rng, Scalar, SgdConfig, StaticAdam,
    StaticLayers, StaticMlp, StaticSgd, Tanh, TrainLinear,
};

const B: usize = 5;
type Heap<T> = Mlp<T, (Linear<T, 2, 6, Tanh>, Linear<T, 6, 4, Tanh>, Linear<T, 4, 1, Identity>)>;
type Layers<T> = (TrainLinear<T, 2, 6, Tanh>, TrainLinear<T, 6, 4, Tanh>, TrainLinear<T, 4, 1, Identity>);
type Static<T> = StaticMlp<T, Layers<T>, 2, 1, B>;
const PARAMETERS: usize = <Layers<f64> as StaticLayers<f64, 2, 1>>::PARAMETERS;

fn heap<T: Scalar>(seed: u64) -> Heap<T> {
    let mut rng = Rng::new(seed);
    Mlp::new((
        Linear::with(Tanh, Init::TorchDefault, &mut rng),
        Linear::with(Tanh, Init::TorchDefault, &mut rng),
        Linear::with(Identity, Init::TorchDefault, &mut rng),
    ))
}

/// The static copy of a heap network's parameters.
fn static_copy<T: Scalar>(net: &Heap<T>) -> Static<T> {
    fn layer<T: Scalar, const IN: usize, const OUT: usize, A: tinymlp::Activation<T> + Copy>(
        dense: &tinymlp::Dense<T, dyn tinymlp::Activation<T> + '_>,
        activation: A,
    ) -> TrainLinear<T, IN, OUT, A> {
        let weight = core::array::from_fn(|o| core::array::from_fn(|i| dense.weight()[o * IN + i]));
        TrainLinear::new(weight, core::array::from_fn(|o| dense.bias()[o]), activation)
    }
    let l = |i| net.layer(i).unwrap();
    StaticMlp::new((layer(l(0), Tanh), layer(l(1), Tanh), layer(l(2), Identity)))
}

fn batch<T: Scalar>(step: usize, seed: u64) -> ([[T; 2]; B], [[T; 1]; B]) {
    let mut rng = Rng::new(seed.wrapping_mul(1000) + step as u64);
    let x: [[T; 2]; B] = core::array::from_fn(|_| core::array::from_fn(|_| T::from_f64(rng.uniform(-1.0, 1.0))));
    let y = core::array::from_fn(|b| [T::from_f64((3.0 * x[b][0].as_f64()).sin() * x[b][1].as_f64())]);
    (x, y)
}

fn bits<T: Scalar>(values: &[T]) -> Vec<u64> {
    values.iter().map(|v| v.as_f64().to_bits()).collect()
}

fn static_parameters<T: Scalar>(net: &mut Static<T>) -> Vec<T> {
    let mut all = Vec::new();
    tinymlp::Parameters::visit_parameters(net, &mut |values, _| all.extend_from_slice(values));
    all
}

/// Trains both kinds `steps` times with their own optimizer of one kind and
/// compares every parameter's bits (and every loss) at the end.
fn same_training<T: Scalar>(
    seed: u64,
    steps: usize,
    mut heap_opt: Box<dyn Optimizer<T>>,
    mut static_opt: Box<dyn Optimizer<T>>,
) -> Result<(), TestCaseError> {
    let mut net = heap::<T>(seed);
    let mut twin = static_copy(&net);
    prop_assert_eq!(bits(&static_parameters(&mut twin)), bits(&net.parameters_to_vec()));
    for step in 0..steps {
        let (x, y) = batch::<T>(step, seed);
        net.zero_grad();
        let heap_out = net.forward(&Matrix::from_rows(&x).unwrap()).clone();
        let heap_loss = net.backward_loss(&HalfMse, &Matrix::from_rows(&y).unwrap());
        heap_opt.step(&mut net).unwrap();
        twin.zero_grad();
        let static_out = *twin.forward(&x);
        let static_loss = twin.backward_loss(&HalfMse, &y);
        static_opt.step(&mut twin).unwrap();
        prop_assert_eq!(bits(heap_out.as_slice()), bits(static_out.as_flattened()), "outputs at step {}", step);
        prop_assert_eq!(heap_loss.as_f64().to_bits(), static_loss.as_f64().to_bits(), "loss at step {}", step);
    }
    prop_assert_eq!(bits(&static_parameters(&mut twin)), bits(&net.parameters_to_vec()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn heap_and_static_networks_train_to_the_same_bits(seed in 0u64..1000, steps in 1usize..60) {
        let momentum = SgdConfig { lr: 0.05, momentum: 0.9, nesterov: true, ..SgdConfig::default() };
        let adamw = AdamConfig { lr: 0.01, ..AdamConfig::adamw() };
        same_training::<f64>(seed, steps,
            Box::new(tinymlp::Sgd::with_lr(0.1).unwrap()), Box::new(StaticSgd::<f64, PARAMETERS>::with_lr(0.1).unwrap()))?;
        same_training::<f32>(seed, steps,
            Box::new(tinymlp::Sgd::new(momentum).unwrap()), Box::new(StaticSgd::<f32, PARAMETERS>::new(momentum).unwrap()))?;
        same_training::<f64>(seed, steps,
            Box::new(tinymlp::Adam::with_lr(0.01).unwrap()), Box::new(StaticAdam::<f64, PARAMETERS>::with_lr(0.01).unwrap()))?;
        same_training::<f32>(seed, steps,
            Box::new(tinymlp::Adam::new(adamw).unwrap()), Box::new(StaticAdam::<f32, PARAMETERS>::new(adamw).unwrap()))?;
    }
}

#[test]
fn gradients_accumulate_as_the_heap_network_does() {
    let mut net = heap::<f64>(7);
    let mut twin = static_copy(&net);
    let mut static_grads = Vec::new();
    for step in 0..3 {
        let (x, y) = batch::<f64>(step, 7);
        net.forward(&Matrix::from_rows(&x).unwrap());
        net.backward_loss(&HalfMse, &Matrix::from_rows(&y).unwrap());
        twin.forward(&x);
        twin.backward_loss(&HalfMse, &y);
    }
    tinymlp::Parameters::visit_parameters(&mut twin, &mut |_, grads| static_grads.extend_from_slice(grads));
    assert_eq!(bits(&static_grads), bits(&net.gradients_to_vec()));
    // And the plain-GD step is Mlp::step's.
    net.step(0.1);
    twin.try_step(0.1).unwrap();
    assert_eq!(bits(&static_parameters(&mut twin)), bits(&net.parameters_to_vec()));
}

#[test]
fn errors_change_nothing() {
    let mut twin = static_copy(&heap::<f32>(1));
    let (x, y) = batch::<f32>(0, 1);
    assert_eq!(twin.try_backward_loss(&HalfMse, &y), Err(Error::NoForwardPass));
    twin.forward(&x);
    // CrossEntropyIndex wants one class index per sample, not the output's width... here it is 1
    // wide, so ask for a two-column target of HalfMse instead.
    let wide = [[0.0f32; 2]; B];
    assert!(matches!(twin.try_backward_loss(&HalfMse, &wide), Err(Error::ShapeMismatch { .. })));
    let before = static_parameters(&mut twin);
    assert!(matches!(twin.try_step(f32::NAN), Err(Error::InvalidHyperParameter { .. })));
    // An Adam state of the wrong size is refused.
    let mut wrong = StaticAdam::<f32, 3>::with_lr(0.1).unwrap();
    assert_eq!(wrong.step(&mut twin), Err(Error::StateSize { expected: 3, found: PARAMETERS }));
    assert_eq!(static_parameters(&mut twin), before);
}

#[test]
fn budgets_are_compile_time_constants() {
    const BYTES: usize = Static::<f32>::TRAIN_BYTES;
    const _: () = assert!(BYTES < 4096);
    // Parameters and gradients, the input copy, and per layer pre/out/delta
    // and the accumulation space.
    let params = PARAMETERS * 4;
    let tape = (6 + 4 + 1) * 3 * B * 4 + params;
    assert!(BYTES >= 2 * params + 2 * B * 4 + tape, "{BYTES}");
    assert_eq!(Static::<f32>::PARAMETERS, 2 * 6 + 6 + 6 * 4 + 4 + 4 + 1);
}

#[test]
fn backward_loss_panics_with_the_error_try_backward_loss_returns() {
    // Two outputs, so that CrossEntropyIndex fits and class 7 is out of range.
    type Two = (TrainLinear<f64, 2, 3, Tanh>, TrainLinear<f64, 3, 2, Identity>);
    let two = || -> StaticMlp<f64, Two, 2, 2, 1> {
        StaticMlp::new((
            TrainLinear::new([[0.1, 0.2]; 3], [0.0; 3], Tanh),
            TrainLinear::new([[0.3, -0.1, 0.2]; 2], [0.0; 2], Identity),
        ))
    };
    let panic_message = |run: &mut dyn FnMut()| {
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_err();
        payload.downcast_ref::<String>().cloned().expect("a formatted panic message")
    };
    let mut net = two();
    let no_forward = net.try_backward_loss(&tinymlp::CrossEntropyIndex, &[[1.0]]).unwrap_err();
    assert_eq!(no_forward, Error::NoForwardPass);
    let message = panic_message(&mut || {
        net.backward_loss(&tinymlp::CrossEntropyIndex, &[[1.0]]);
    });
    assert_eq!(message, format!("StaticMlp::backward_loss: {no_forward}"));

    let mut net = two();
    net.forward(&[[0.5, 0.5]]);
    let class = net.try_backward_loss(&tinymlp::CrossEntropyIndex, &[[7.0]]).unwrap_err();
    assert!(matches!(class, Error::ClassOutOfRange { .. }), "{class:?}");
    let message = panic_message(&mut || {
        net.backward_loss(&tinymlp::CrossEntropyIndex, &[[7.0]]);
    });
    assert_eq!(message, format!("StaticMlp::backward_loss: {class}"));
    assert!(message.contains('7'), "{message}");
}

/// All gradients, in visiting order, without touching the network's cache.
fn static_gradients<T: Scalar>(net: &Static<T>) -> Vec<T> {
    let mut layers = net.layers().clone();
    let mut all = Vec::new();
    StaticLayers::<T, 2, 1>::visit_parameters(&mut layers, &mut |_, grads| all.extend_from_slice(grads));
    all
}

#[test]
fn a_refused_step_keeps_the_forward_pass_and_a_step_drops_it() {
    let (x, y) = batch::<f64>(0, 3);
    let mut net = static_copy(&heap::<f64>(3));
    let mut twin = net.clone();
    // A NaN gradient (a stale one from some earlier batch), then a forward pass.
    net.layers_mut().1.weight_grad[2][1] = f64::NAN;
    net.forward(&x);
    let before = static_parameters(&mut net.clone());
    assert!(matches!(net.try_step(0.1), Err(Error::NonFinite { .. })));
    assert_eq!(bits(&static_parameters(&mut net.clone())), bits(&before));
    // The refused step changed nothing: the forward pass still serves a backward,
    // which gives the loss and gradients of a network that never tried to step.
    net.zero_grad();
    let loss = net.try_backward_loss(&HalfMse, &y).unwrap();
    twin.forward(&x);
    let twin_loss = twin.try_backward_loss(&HalfMse, &y).unwrap();
    assert_eq!(loss.to_bits(), twin_loss.to_bits());
    assert_eq!(bits(&static_gradients(&net)), bits(&static_gradients(&twin)));
    // A step that writes the parameters drops the forward pass (it belongs to
    // the old ones).
    net.try_step(0.1).unwrap();
    assert_eq!(net.try_backward_loss(&HalfMse, &y), Err(Error::NoForwardPass));
    // The same through an optimizer: a refused `step` keeps the forward pass.
    let mut net = static_copy(&heap::<f64>(3));
    net.layers_mut().1.weight_grad[2][1] = f64::NAN;
    net.forward(&x);
    let mut adam = StaticAdam::<f64, PARAMETERS>::with_lr(0.01).unwrap();
    assert!(matches!(adam.step(&mut net), Err(Error::NonFinite { .. })));
    net.zero_grad();
    assert_eq!(net.try_backward_loss(&HalfMse, &y).unwrap().to_bits(), twin_loss.to_bits());
    adam.step(&mut net).unwrap();
    assert_eq!(net.try_backward_loss(&HalfMse, &y), Err(Error::NoForwardPass));
}

#[test]
fn a_nan_target_or_output_is_an_error_naming_its_row_and_nothing_changes() {
    let (x, mut y) = batch::<f64>(0, 3);
    let mut net = static_copy(&heap::<f64>(3));
    net.forward(&x);
    let before = bits(&static_gradients(&net));
    y[1][0] = f64::NAN;
    match net.try_backward_loss(&HalfMse, &y) {
        Err(Error::NonFinite { what, index, value }) => {
            assert_eq!((what.as_str(), index), ("loss target row 1 col 0", 1));
            assert!(value.is_nan());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(bits(&static_gradients(&net)), before);
    // The forward pass is kept: the good target works without another one.
    y[1][0] = 0.5;
    assert!(net.try_backward_loss(&HalfMse, &y).unwrap().is_finite());
    net.zero_grad();
    let before = bits(&static_gradients(&net));
    // A NaN input makes a NaN output: named as the output.
    let (mut x, y) = batch::<f64>(0, 3);
    x[2][1] = f64::NAN;
    net.forward(&x);
    match net.try_backward_loss(&HalfMse, &y) {
        Err(Error::NonFinite { what, index, .. }) => {
            assert_eq!((what.as_str(), index), ("network output row 2 col 0", 2))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(bits(&static_gradients(&net)), before);
}
