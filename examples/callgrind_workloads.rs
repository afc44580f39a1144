//! The workloads of `benches/train_step.rs`, each called N times in a function
//! of its own, for counting instructions with callgrind (deterministic, unlike
//! time on a shared machine), and a fingerprint of the bits the crate computes,
//! for checking that a change kept them.
//!
//! ```text
//! RUSTFLAGS="-C target-cpu=x86-64-v3" cargo build --release --example callgrind_workloads --target-dir target/v3
//! valgrind --tool=callgrind --toggle-collect='callgrind_workloads::work_*' \
//!     target/v3/release/examples/callgrind_workloads sigmoid 10000
//! ```
//!
//! Instructions per call = callgrind's "Collected" / (N + warm-up calls); the
//! warm-up calls are inside the counted functions too (10, or 3 for `mnist`).
//! `-C target-cpu=x86-64-v3` because valgrind cannot decode AVX-512: the
//! program then takes the AVX2 paths. Workloads: `sigmoid`, `sigmoid-dyn`
//! ([1,4,4,1] f64 batch 2 Adam steps), `sine` ([1,32,32,1] f64 batch 200 Adam
//! steps), `mnist` ([784,256,128,10] f32 batch 128 SGD steps), `predict`,
//! `predict-into`, `forward` (one-sample [16,32,32,4] tanh f32 inference).
//! `bits` prints a hash of products on every shape class, training
//! trajectories and inference outputs: two versions that print the same hash
//! computed the same bits.

use std::hint::black_box;

use tinymlp::kernels::{Form, Path, gemm, gemm_with};
use tinymlp::{
    Act, Adam, DynMlp, HalfMse, Identity, Init, Layers, Linear, Matrix, Mlp, Optimizer, PredictScratch, Relu, Rng,
    Scalar, Sgd, Sigmoid, Tanh,
};

/// The sine task's data, as the bench makes it.
fn sine_data(batch: usize) -> (Matrix<f64>, Matrix<f64>) {
    let xs: Vec<f64> = (0..batch).map(|i| i as f64 / (batch.max(2) - 1) as f64).collect();
    let x = Matrix::from_fn(batch, 1, |i, _| xs[i]);
    let y = Matrix::from_fn(batch, 1, |i, _| (4.0 * std::f64::consts::PI * xs[i]).sin().powi(2));
    (x, y)
}

fn step<T: Scalar, L: Layers<T>, O: Optimizer<T>>(net: &mut Mlp<T, L>, opt: &mut O, x: &Matrix<T>, y: &Matrix<T>) -> T {
    net.zero_grad();
    net.forward(x);
    let loss = net.try_backward_loss(&HalfMse, y).expect("backward");
    opt.step(net).expect("step");
    loss
}

#[inline(never)]
fn work_steps<T: Scalar, L: Layers<T>, O: Optimizer<T>>(
    n: usize,
    net: &mut Mlp<T, L>,
    opt: &mut O,
    x: &Matrix<T>,
    y: &Matrix<T>,
) {
    for _ in 0..n {
        black_box(step(net, opt, black_box(x), y));
    }
}

#[inline(never)]
fn work_predict<L: Layers<f32>>(n: usize, net: &Mlp<f32, L>, x: &Matrix<f32>) {
    for _ in 0..n {
        black_box(net.predict(black_box(x)));
    }
}

#[inline(never)]
fn work_forward<L: Layers<f32>>(n: usize, net: &mut Mlp<f32, L>, x: &Matrix<f32>) {
    for _ in 0..n {
        black_box(net.forward(black_box(x)));
    }
}

#[inline(never)]
fn work_predict_into<L: Layers<f32>>(
    n: usize,
    net: &Mlp<f32, L>,
    x: &Matrix<f32>,
    out: &mut Matrix<f32>,
    scratch: &mut PredictScratch<f32>,
) {
    for _ in 0..n {
        net.predict_into(black_box(x), out, scratch);
        black_box(&mut *out);
    }
}

fn train<T: Scalar, L: Layers<T>, O: Optimizer<T>>(
    n: usize,
    warm_up: usize,
    mut net: Mlp<T, L>,
    mut opt: O,
    x: &Matrix<T>,
    y: &Matrix<T>,
) {
    work_steps(warm_up, &mut net, &mut opt, x, y);
    work_steps(n, &mut net, &mut opt, x, y);
}

/// FNV-1a over the bits of everything the crate computes in `bits` mode.
struct Fingerprint(u64);

impl Fingerprint {
    fn add<T: Scalar>(&mut self, values: &[T]) {
        for v in values {
            self.0 = (self.0 ^ v.as_f64().to_bits()).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn bits() -> u64 {
    let mut print = Fingerprint(0xcbf2_9ce4_8422_2325);
    let mut rng = Rng::new(9);
    for form in [Form::AB, Form::AtB, Form::ABt] {
        for m in [1usize, 2, 3, 5, 8, 13, 33] {
            for n in [1usize, 3, 4, 7, 9, 32, 37] {
                for k in [1usize, 5, 8, 15, 16, 17, 32, 40] {
                    let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
                    let a: Vec<f64> = (0..ar * ac).map(|_| rng.uniform(-1.0, 1.0)).collect();
                    let b: Vec<f64> = (0..br * bc).map(|_| rng.uniform(-1.0, 1.0)).collect();
                    let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
                    let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
                    for path in [Path::Simple, Path::Portable] {
                        let mut c = vec![0.5f64; m * n];
                        gemm_with(path, form, m, n, k, &a, &b, &mut c, true);
                        let mut c32 = vec![0.5f32; m * n];
                        gemm_with(path, form, m, n, k, &a32, &b32, &mut c32, false);
                        print.add(&c);
                        print.add(&c32);
                    }
                    let mut c = vec![0.5f64; m * n];
                    gemm(form, m, n, k, &a, &b, &mut c, true);
                    print.add(&c);
                }
            }
        }
    }
    let (x, y) = sine_data(200);
    let mut net =
        DynMlp::<f64>::from_widths(&[1, 32, 32, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(2))
            .expect("widths");
    let mut adam = Adam::<f64>::with_lr(0.01).expect("adam");
    for _ in 0..50 {
        step(&mut net, &mut adam, &x, &y);
    }
    print.add(&net.parameters_to_vec());
    let (x, y) = sine_data(2);
    let mut net =
        DynMlp::<f64>::from_widths(&[1, 4, 4, 1], Act::Sigmoid, Act::Sigmoid, Init::TorchDefault, &mut Rng::new(1))
            .expect("widths");
    let mut adam = Adam::<f64>::with_lr(0.01).expect("adam");
    for _ in 0..50 {
        step(&mut net, &mut adam, &x, &y);
    }
    print.add(&net.parameters_to_vec());
    let mut rng = Rng::new(5);
    let net = Mlp::new((
        Linear::<f32, 16, 32, Tanh>::new(&mut rng),
        Linear::<f32, 32, 32, Tanh>::new(&mut rng),
        Linear::<f32, 32, 4, Tanh>::new(&mut rng),
    ));
    for i in 0..50 {
        let x = Matrix::from_fn(1 + i % 5, 16, |r, j| ((r * 16 + j + i) as f32 * 0.37).sin());
        print.add(net.predict(&x).as_slice());
    }
    let (mut net, mut sgd, x, y) = mnist();
    for _ in 0..3 {
        step(&mut net, &mut sgd, &x, &y);
    }
    print.add(&net.parameters_to_vec());
    print.0
}

type MnistNet = (Linear<f32, 784, 256, Relu>, Linear<f32, 256, 128, Relu>, Linear<f32, 128, 10, Identity>);

fn mnist() -> (Mlp<f32, MnistNet>, Sgd<f32>, Matrix<f32>, Matrix<f32>) {
    let mut rng = Rng::new(4);
    let x = Matrix::from_fn(128, 784, |_, _| rng.next_f64() as f32);
    let y = Matrix::from_fn(128, 10, |i, j| if i % 10 == j { 1.0f32 } else { 0.0 });
    let net = Mlp::new((
        Linear::<f32, 784, 256, Relu>::new(&mut rng),
        Linear::<f32, 256, 128, Relu>::new(&mut rng),
        Linear::<f32, 128, 10, Identity>::new(&mut rng),
    ));
    (net, Sgd::with_lr(0.01).expect("sgd"), x, y)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map_or("bits", String::as_str);
    let n: usize = args.get(2).map_or(1000, |n| n.parse().expect("a number of calls"));
    let adam = || Adam::<f64>::with_lr(0.01).expect("adam");
    let inference_net = || {
        let mut rng = Rng::new(5);
        Mlp::new((
            Linear::<f32, 16, 32, Tanh>::new(&mut rng),
            Linear::<f32, 32, 32, Tanh>::new(&mut rng),
            Linear::<f32, 32, 4, Tanh>::new(&mut rng),
        ))
    };
    let sample = Matrix::from_fn(1, 16, |_, j| (j as f32 * 0.37).sin());
    match what {
        "sigmoid" => {
            let (x, y) = sine_data(2);
            let mut rng = Rng::new(1);
            let net = Mlp::new((
                Linear::<f64, 1, 4, Sigmoid>::new(&mut rng),
                Linear::<f64, 4, 4, Sigmoid>::new(&mut rng),
                Linear::<f64, 4, 1, Sigmoid>::new(&mut rng),
            ));
            train(n, 10, net, adam(), &x, &y);
        }
        "sigmoid-dyn" => {
            let (x, y) = sine_data(2);
            let widths = [1, 4, 4, 1];
            let net =
                DynMlp::<f64>::from_widths(&widths, Act::Sigmoid, Act::Sigmoid, Init::TorchDefault, &mut Rng::new(1))
                    .expect("widths");
            train(n, 10, net, adam(), &x, &y);
        }
        "sine" => {
            let (x, y) = sine_data(200);
            let mut rng = Rng::new(2);
            let net = Mlp::new((
                Linear::<f64, 1, 32, Tanh>::new(&mut rng),
                Linear::<f64, 32, 32, Tanh>::new(&mut rng),
                Linear::<f64, 32, 1, Identity>::new(&mut rng),
            ));
            train(n, 10, net, adam(), &x, &y);
        }
        "mnist" => {
            let (net, sgd, x, y) = mnist();
            train(n, 3, net, sgd, &x, &y);
        }
        "predict" => {
            let net = inference_net();
            work_predict(10, &net, &sample);
            work_predict(n, &net, &sample);
        }
        "predict-into" => {
            let net = inference_net();
            let (mut out, mut scratch) = (Matrix::zeros(1, 4), PredictScratch::new());
            work_predict_into(10, &net, &sample, &mut out, &mut scratch);
            work_predict_into(n, &net, &sample, &mut out, &mut scratch);
        }
        "forward" => {
            let mut net = inference_net();
            work_forward(10, &mut net, &sample);
            work_forward(n, &mut net, &sample);
        }
        "bits" => println!("bits {:016x}", bits()),
        other => panic!(
            "unknown workload {other:?}: sigmoid, sigmoid-dyn, sine, mnist, predict, predict-into, forward, bits"
        ),
    }
}
