//! Measurement firmware for tinymlp on a Cortex-M4F (QEMU mps2-an386); see
//! README.md. On bare metal (`--target thumbv7em-none-eabihf`) it prints each
//! output's bits over semihosting, runs every inference between the marker
//! functions that `measure.sh` counts instructions between, and prints the
//! stack each inference uses. Built with `--features train`, it is the
//! training firmware instead: it trains the network of `src/train.rs` on the
//! device (`src/rt/training.rs`). On the host it prints the same `out` and
//! `train` lines, the host's bits for the comparison.
#![cfg_attr(target_os = "none", no_std, no_main)]
#![deny(missing_docs)]

// On the device, each firmware compiles only its own code, so the inference
// firmware's figures do not depend on the training code (or the reverse).
#[cfg(any(not(target_os = "none"), not(feature = "train")))]
mod net;
#[cfg(target_os = "none")]
mod rt;
#[cfg(any(not(target_os = "none"), feature = "train"))]
mod train;

#[cfg(not(target_os = "none"))]
fn main() {
    use net::{Infer, POINTS, infer_plain, infer_tinymlp, point};
    let runs: [(&str, Infer); 2] = [("tinymlp", infer_tinymlp), ("plain", infer_plain)];
    for (name, infer) in runs {
        for i in 0..POINTS {
            let x = point(i);
            println!("out {name} {i:02} {:08x} {:08x}", x.to_bits(), infer(x).to_bits());
        }
    }
    let training = if std::env::args().any(|arg| arg == "seeds") { train::host::seeds } else { train::host::run };
    if let Err(message) = training() {
        eprintln!("tinymlp-firmware (host): {message}");
        std::process::exit(1);
    }
}
