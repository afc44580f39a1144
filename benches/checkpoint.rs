//! What a checkpoint costs on the MNIST-shape network the README's speed table
//! trains ([784, 256, 128, 10], ReLU, f32) with Adam: file size, time to build
//! the bytes, to save them atomically (write, fsync, rename) and to load them
//! back into a fresh network and optimizer; and one training step for scale.
//!
//! ```text
//! cargo bench --bench checkpoint        # prints one line per measurement
//! ```
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) it does one
//! round-trip and prints `SMOKE`.

use std::time::Instant;

use tinymlp::{Act, Adam, DynMlp, HalfMse, Init, Matrix, Optimizer, Rng};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let widths: &[usize] = if full { &[784, 256, 128, 10] } else { &[8, 4, 2] };
    let rounds = if full { 20 } else { 1 };
    let mut rng = Rng::new(0);
    let make =
        |rng: &mut Rng| DynMlp::<f32>::from_widths(widths, Act::Relu, Act::Identity, Init::TorchDefault, rng).unwrap();
    let mut net = make(&mut rng);
    let mut adam = Adam::with_lr(1e-3).unwrap();
    let x = Matrix::from_fn(128, widths[0], |i, j| ((i * 7 + j) % 13) as f32 / 13.0);
    let y = Matrix::from_fn(128, widths[widths.len() - 1], |i, j| f32::from(u8::from(i % 10 == j)));
    let step = |net: &mut DynMlp<f32>, adam: &mut Adam<f32>| {
        net.zero_grad();
        net.forward(&x);
        net.backward_loss(&HalfMse, &y);
        adam.step(net).unwrap();
    };
    step(&mut net, &mut adam);

    let dir = std::env::temp_dir().join(format!("tinymlp-bench-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mnist.ckpt");
    let (mut fresh, mut fresh_adam) = (make(&mut Rng::new(1)), Adam::with_lr(1e-3).unwrap());
    let mut times = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    let mut size = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        let bytes = net.checkpoint_to_bytes(&adam, None).unwrap();
        times[0].push(start.elapsed());
        size = bytes.len();
        let start = Instant::now();
        net.save_checkpoint(&path, &adam, None).unwrap();
        times[1].push(start.elapsed());
        let start = Instant::now();
        fresh.read_checkpoint(&path, &mut fresh_adam).unwrap();
        times[2].push(start.elapsed());
        let start = Instant::now();
        step(&mut net, &mut adam);
        times[3].push(start.elapsed());
        step(&mut fresh, &mut fresh_adam);
    }
    assert_eq!(net.parameters_to_vec(), fresh.parameters_to_vec(), "the loaded copy trains identically");
    std::fs::remove_dir_all(&dir).unwrap();
    let label = if full { "RESULT" } else { "SMOKE" };
    println!("{label} network {widths:?} f32, Adam: {} parameters, checkpoint {size} bytes", net.parameter_count());
    for (name, samples) in
        ["to bytes", "save (bytes + write + fsync + rename)", "read + load", "one training step b128"]
            .iter()
            .zip(&mut times)
    {
        samples.sort();
        let median = samples[samples.len() / 2];
        println!(
            "{label} {name}: median {:.2} ms (min {:.2}, max {:.2}, {} rounds)",
            median.as_secs_f64() * 1e3,
            samples[0].as_secs_f64() * 1e3,
            samples[samples.len() - 1].as_secs_f64() * 1e3,
            samples.len()
        );
    }
}
