//! Train the sine network in f32 on the host and export it for a `#![no_std]`
//! crate: writes `examples/embed/sine_net.safetensors` (the trained weights)
//! and `examples/embed/src/sine_net.rs` (a `static` of `StaticLinear` layers
//! with those exact weights), then reports its size and inference time.
//! `--out DIR` writes `DIR/sine_net.safetensors` and `DIR/src/sine_net.rs`
//! instead, leaving the committed files alone (the trained bits depend on the
//! CPU's product path, see `tinymlp::kernels`).
//!
//! ```text
//! cargo run --release --example export_sine
//! cargo run --release --example export_sine -- --out /tmp/sine
//! ```

use std::process::ExitCode;
use std::time::Instant;

use tinymlp::{Act, Adam, DynMlp, HalfMse, Init, Matrix, Optimizer, Rng};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/embed");

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("export_sine: {message}");
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [] => DIR.to_string(),
        [flag, dir] if flag == "--out" => dir.clone(),
        _ => return Err(format!("unexpected arguments {args:?}; usage: export_sine [--out DIR]")),
    };
    std::fs::create_dir_all(format!("{dir}/src")).map_err(|e| format!("{dir}/src: {e}"))?;
    let err = |e: tinymlp::Error| e.to_string();
    let xs: Vec<f32> = (0..200).map(|i| i as f32 / 199.0).collect();
    let target = |x: f32| (4.0 * std::f32::consts::PI * x).sin().powi(2);
    let x = Matrix::column(&xs);
    let y = Matrix::column(&xs.iter().map(|&x| target(x)).collect::<Vec<_>>());
    let mut net =
        DynMlp::<f32>::from_widths(&[1, 32, 32, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))
            .map_err(err)?;
    let mut adam = Adam::with_lr(0.01).map_err(err)?;
    let (mut loss, mut steps) = (f32::INFINITY, 0);
    while loss >= 1e-4 && steps < 10_000 {
        net.zero_grad();
        net.forward(&x);
        loss = net.try_backward_loss(&HalfMse, &y).map_err(err)?;
        if loss >= 1e-4 {
            adam.step(&mut net).map_err(err)?;
            steps += 1;
        }
    }
    println!("trained [1, 32, 32, 1] tanh/identity in f32: 0.5·MSE {loss:.3e} after {steps} Adam steps");

    let weights = format!("{dir}/sine_net.safetensors");
    let source = format!("{dir}/src/sine_net.rs");
    std::fs::write(&weights, net.to_safetensors()).map_err(|e| format!("{weights}: {e}"))?;
    std::fs::write(&source, net.to_rust_source("SINE_NET").map_err(err)?).map_err(|e| format!("{source}: {e}"))?;
    println!("wrote {weights}\nwrote {source}");

    let parameters = net.parameter_count();
    println!("size: {parameters} parameters, {} bytes of f32 weights", parameters * 4);
    let start = Instant::now();
    let rounds = 100_000;
    let mut sink = 0.0f32;
    for i in 0..rounds {
        let input = Matrix::column(&[i as f32 / rounds as f32]);
        sink += net.try_predict(std::hint::black_box(&input)).map_err(err)?.as_slice()[0];
    }
    let per = start.elapsed().as_secs_f64() / f64::from(rounds) * 1e9;
    println!("host inference through Mlp::predict (allocating): {per:.0} ns per sample (checksum {sink:.3})");
    println!("the exported static network: cargo run --release --example embedded_sine");
    Ok(())
}
