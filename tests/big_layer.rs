//! A network with a 1024×1024 layer is built, trained, saved and exported on a
//! thread with a 2 MiB stack (the default for test threads): parameters live on
//! the heap, so nothing large is ever built on the stack. Run it in an
//! unoptimised build too: `cargo test --profile dev --test big_layer`.

use tinymlp::{HalfMse, Identity, Linear, Matrix, Mlp, Optimizer, Rng, Sgd, Tanh};

#[test]
fn a_1024_by_1024_layer_trains_saves_and_exports_on_a_2_mib_stack() {
    let worker = std::thread::Builder::new().stack_size(2 << 20).spawn(|| {
        let mut rng = Rng::new(0);
        let mut net = Mlp::new((
            Linear::<f32, 16, 1024, Tanh>::new(&mut rng),
            Linear::<f32, 1024, 1024, Tanh>::new(&mut rng),
            Linear::<f32, 1024, 1, Identity>::new(&mut rng),
        ));
        let x = Matrix::from_fn(4, 16, |i, j| ((i * 16 + j) as f32 * 0.37).sin());
        let y = Matrix::from_fn(4, 1, |i, _| i as f32 / 4.0);
        let mut sgd = Sgd::with_lr(1e-3).unwrap();
        net.zero_grad();
        net.forward(&x);
        let before = net.try_backward_loss(&HalfMse, &y).unwrap();
        sgd.step(&mut net).unwrap();
        net.forward(&x);
        assert!(net.try_loss(&HalfMse, &y).unwrap() < before);

        let bytes = net.to_safetensors();
        assert!(bytes.len() > 4 * 1024 * 1024);
        let mut copy = Mlp::new((
            Linear::<f32, 16, 1024, Tanh>::new(&mut rng),
            Linear::<f32, 1024, 1024, Tanh>::new(&mut rng),
            Linear::<f32, 1024, 1, Identity>::new(&mut rng),
        ));
        copy.load_safetensors(&bytes).unwrap();
        assert_eq!(copy.parameters_to_vec(), net.parameters_to_vec());
        let source = net.to_rust_source("BIG_NET").unwrap();
        assert!(source.contains("::tinymlp::StaticLinear<f32, 1024, 1024, ::tinymlp::Tanh>"));
    });
    worker.expect("spawn a 2 MiB thread").join().expect("no stack overflow");
}
