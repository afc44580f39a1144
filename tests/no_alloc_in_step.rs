//! After the first step at a batch size, a training step (zero_grad, forward,
//! backward_loss, optimizer step) allocates nothing, for both network kinds and
//! both optimizers; a smaller batch afterwards allocates nothing either.
//!
//! One-sample inference from a static network allocates nothing either, nor
//! does `Mlp::predict_into` from a heap network once its buffers have served
//! a batch at least as large. A
//! counting global allocator (`tests/common`) counts the allocations made on
//! this test's thread while counting is switched on.

use tinymlp::{
    Act, Adam, DynMlp, HalfMse, Identity, Init, Layers, Linear, Matrix, Mlp, Optimizer, Predict, PredictScratch, Rng,
    Sgd, StaticLinear, Tanh,
};

mod common;

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    common::allocations_in(f).0
}

fn data(rows: usize) -> (Matrix<f32>, Matrix<f32>) {
    let x = Matrix::from_fn(rows, 1, |i, _| i as f32 / rows as f32);
    let y = Matrix::from_fn(rows, 1, |i, _| (i as f32 / rows as f32).sin());
    (x, y)
}

fn train_steps<L: Layers<f32>, O: Optimizer<f32>>(
    net: &mut Mlp<f32, L>,
    opt: &mut O,
    x: &Matrix<f32>,
    y: &Matrix<f32>,
) {
    for _ in 0..3 {
        net.zero_grad();
        net.forward(x);
        net.try_backward_loss(&HalfMse, y).unwrap();
        opt.step(net).unwrap();
        net.step(1e-3);
    }
}

fn assert_steady_state_allocates_nothing<L: Layers<f32>, O: Optimizer<f32>>(net: &mut Mlp<f32, L>, opt: &mut O) {
    let (big_x, big_y) = data(64);
    let (small_x, small_y) = data(17);
    train_steps(net, opt, &big_x, &big_y); // warm-up: buffers and moments are created here
    assert_eq!(allocations_in(|| train_steps(net, opt, &big_x, &big_y)), 0, "same batch size");
    assert_eq!(allocations_in(|| train_steps(net, opt, &small_x, &small_y)), 0, "smaller batch");
    net.set_input_grad(true);
    train_steps(net, opt, &big_x, &big_y);
    assert_eq!(allocations_in(|| train_steps(net, opt, &big_x, &big_y)), 0, "with input gradients");
}

#[test]
fn training_steps_allocate_nothing_after_warm_up() {
    let mut runtime =
        DynMlp::<f32>::from_widths(&[1, 32, 32, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(1))
            .unwrap();
    assert_steady_state_allocates_nothing(&mut runtime, &mut Adam::with_lr(0.01).unwrap());
    assert_steady_state_allocates_nothing(&mut runtime, &mut Sgd::with_lr(0.01).unwrap());

    let mut rng = Rng::new(2);
    let mut fixed = Mlp::new((
        Linear::<f32, 1, 16, Tanh>::new(&mut rng),
        Linear::<f32, 16, 16, Tanh>::new(&mut rng),
        Linear::<f32, 16, 1, Identity>::new(&mut rng),
    ));
    assert_steady_state_allocates_nothing(&mut fixed, &mut Adam::with_lr(0.01).unwrap());

    // The counter itself works: a Vec allocates.
    assert_eq!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 16]))), 1);
}

#[test]
fn one_sample_inference_from_a_static_network_allocates_nothing() {
    static NET: (StaticLinear<f32, 2, 4, Tanh>, StaticLinear<f32, 4, 1, Identity>) = (
        StaticLinear::new([[0.5, -0.5], [0.25, 1.0], [-1.0, 0.0], [0.0, 2.0]], [0.1, 0.0, -0.1, 0.2], Tanh),
        StaticLinear::new([[1.0, -1.0, 0.5, 0.25]], [0.0], Identity),
    );
    let mut sum = 0.0;
    assert_eq!(allocations_in(|| sum += NET.predict(&[0.3, -0.7])[0]), 0);
    assert!(sum.is_finite());
}

/// `predict_into` after a first call at the largest batch: no allocation for
/// that batch, a smaller one, or one sample, from either network kind.
fn assert_inference_allocates_nothing<L: Layers<f32>>(net: &Mlp<f32, L>) {
    let (big, _) = data(64);
    let (small, _) = data(17);
    let one = Matrix::from_fn(1, 1, |_, _| 0.25f32);
    let (mut out, mut scratch) = (Matrix::zeros(0, 0), PredictScratch::new());
    net.predict_into(&big, &mut out, &mut scratch); // warm-up: sizes both buffers
    let mut sum = 0.0;
    let mut infer = |x: &Matrix<f32>| {
        net.predict_into(x, &mut out, &mut scratch);
        sum += out.as_slice()[0];
    };
    assert_eq!(allocations_in(|| infer(&big)), 0, "same batch size");
    assert_eq!(allocations_in(|| infer(&small)), 0, "smaller batch");
    assert_eq!(allocations_in(|| (0..100).for_each(|_| infer(&one))), 0, "one sample");
    assert!(sum.is_finite());
    // The counter sees the allocating call: `predict` allocates its result.
    assert!(allocations_in(|| drop(std::hint::black_box(net.predict(&one)))) > 0);
}

#[test]
fn predict_into_allocates_nothing_after_warm_up() {
    let runtime =
        DynMlp::<f32>::from_widths(&[1, 32, 32, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(3))
            .unwrap();
    assert_inference_allocates_nothing(&runtime);
    let mut rng = Rng::new(4);
    let fixed = Mlp::new((
        Linear::<f32, 1, 16, Tanh>::new(&mut rng),
        Linear::<f32, 16, 16, Tanh>::new(&mut rng),
        Linear::<f32, 16, 1, Identity>::new(&mut rng),
    ));
    assert_inference_allocates_nothing(&fixed);
}
