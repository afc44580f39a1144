//! The same seed and data give bitwise identical weights: across runs, across
//! threads running at the same time, and for every kernel path, whatever the
//! alignment of the caller's buffers. (Different paths may round differently;
//! see `kernels::Path`. The path `gemm` picks depends only on the shape and
//! the CPU.)

use std::ops::ControlFlow;

use tinymlp::kernels::{Form, available_paths, gemm_with};
use tinymlp::{Act, Adam, CrossEntropyIndex, DynMlp, Fit, Init, Matrix, Rng};

/// Trains a small classifier with shuffled mini-batches; returns the weights' bits.
fn train(seed: u64) -> Vec<u64> {
    let mut rng = Rng::new(seed);
    let x = Matrix::from_fn(96, 3, |_, _| rng.uniform(-2.0, 2.0));
    let classes = Matrix::from_fn(96, 1, |i, _| (x[(i, 0)] * x[(i, 1)] + x[(i, 2)]).signum().max(0.0));
    let mut net =
        DynMlp::<f64>::from_widths(&[3, 48, 48, 2], Act::Gelu, Act::Identity, Init::TorchDefault, &mut rng).unwrap();
    let mut adam = Adam::with_lr(0.01).unwrap();
    Fit::new(5, 16)
        .seed(seed)
        .run(&mut net, &mut adam, &CrossEntropyIndex, &x, &classes, |_, _| ControlFlow::Continue(()))
        .unwrap();
    net.parameters_to_vec().into_iter().map(f64::to_bits).collect()
}

#[test]
fn training_is_bitwise_reproducible_across_runs_and_threads() {
    let first = train(7);
    assert_eq!(train(7), first, "a second run");
    let handles: Vec<_> = (0..2).map(|_| std::thread::spawn(|| train(7))).collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), first, "a run on another thread, concurrently");
    }
    assert_ne!(train(8), first, "another seed gives another network");
}

#[test]
fn every_kernel_path_is_deterministic_whatever_the_alignment() {
    let (m, n, k) = (67, 45, 129);
    let mut rng = Rng::new(3);
    let a: Vec<f32> = (0..m * k + 1).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let b: Vec<f32> = (0..k * n + 1).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    for path in available_paths() {
        for form in [Form::AB, Form::AtB, Form::ABt] {
            let mut first = vec![0.0f32; m * n];
            gemm_with(path, form, m, n, k, &a[..m * k], &b[..k * n], &mut first, false);
            // The same values, one element further into their buffers: a
            // different alignment for A, B and C.
            let shifted = |values: &[f32]| {
                let mut buffer = vec![0.0f32; values.len() + 1];
                buffer[1..].copy_from_slice(values);
                buffer
            };
            let (a_shifted, b_shifted) = (shifted(&a[..m * k]), shifted(&b[..k * n]));
            let mut again = vec![0.0f32; m * n + 1];
            gemm_with(path, form, m, n, k, &a_shifted[1..], &b_shifted[1..], &mut again[1..], false);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&first), bits(&again[1..]), "{path:?} {form:?}");
        }
    }
}
