//! Runs the network that `export_sine` wrote as Rust source: checks it
//! against the trained weights (bit for bit) and times one inference.
//!
//! ```text
//! cargo run --release --example export_sine     # train and export (once)
//! cargo run --release --example embedded_sine   # use the exported static network
//! ```

use std::time::Instant;

use tinymlp::{Act, DynMlp, Matrix, Predict};

include!("embed/src/sine_net.rs");

fn main() {
    let bytes = include_bytes!("embed/sine_net.safetensors");
    let trained = DynMlp::<f32>::from_safetensors(bytes, Act::Tanh, Act::Identity).expect("the exported weights");
    let mut worst = 0.0f32;
    for i in 0..=1000 {
        let x = i as f32 / 1000.0;
        let [ours] = SINE_NET.predict(&[x]);
        let theirs = trained.try_predict(&Matrix::column(&[x])).expect("one sample").as_slice()[0];
        assert_eq!(ours.to_bits(), theirs.to_bits(), "x = {x}: the static network differs");
        worst = worst.max((ours - (4.0 * std::f32::consts::PI * x).sin().powi(2)).abs());
    }
    println!("static network = trained network, bit for bit, on 1001 inputs; worst |error| vs sin²(4πx): {worst:.4}");
    println!(
        "size: {} parameters, {SINE_NET_BYTES} bytes of weights, at most {} bytes of value arrays per inference (SCRATCH_BYTES, not a stack bound)",
        <SineNet as Predict<f32, 1, 1>>::PARAMETERS,
        <SineNet as Predict<f32, 1, 1>>::SCRATCH_BYTES
    );
    let rounds = 1_000_000u32;
    let start = Instant::now();
    let mut sink = 0.0f32;
    for i in 0..rounds {
        let [y] = SINE_NET.predict(std::hint::black_box(&[i as f32 / rounds as f32]));
        sink += y;
    }
    let ns = start.elapsed().as_secs_f64() / f64::from(rounds) * 1e9;
    println!("one inference: {ns:.0} ns on this machine (checksum {sink:.1})");
}
