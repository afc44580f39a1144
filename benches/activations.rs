//! Nanoseconds per element of every built-in activation's forward and backward
//! slice pass, f32 and f64, against a scalar loop over the libm formulas the
//! crate used before its vectorised kernels (`num_traits::Float`: the
//! platform's libm with `std`).
//!
//! ```text
//! cargo bench --bench activations            # full measurement (~10 s)
//! cargo bench --bench activations -- tanh    # only activations whose name contains "tanh"
//! ```
//!
//! Each row times slices of 6,400 elements (a [.., 32] layer at batch 200, the
//! sine example's hidden layers) with inputs spread evenly over [-6, 6] in a
//! scrambled order: samples of ~2 ms, median over 15 samples. The libm loop
//! is what the built-ins ran before: scalar calls, with branches for the
//! piecewise functions. Without `--bench` (for example under
//! `cargo test --all-targets`) every row runs a couple of passes and the table
//! shows that smoke run's (meaningless) timings.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tinymlp::{Act, Activation, Scalar};

/// Elements per slice.
const LEN: usize = 6_400;

/// The formulas the built-ins computed with libm before the vectorised kernels,
/// evaluated one element at a time.
fn libm_value<T: Scalar>(act: Act, x: T) -> T {
    let one = T::one();
    match act {
        Act::Identity => x,
        Act::Sigmoid => one / (one + (-x).exp()),
        Act::Tanh => x.tanh(),
        Act::Relu => {
            if x <= T::zero() {
                T::zero()
            } else {
                x
            }
        }
        Act::LeakyRelu(l) => {
            if x > T::zero() {
                x
            } else {
                x * T::from_f64(l.negative_slope)
            }
        }
        Act::Elu(e) => {
            if x > T::zero() {
                x
            } else {
                T::from_f64(e.alpha) * x.exp_m1()
            }
        }
        Act::Silu => x / (one + (-x).exp()),
        Act::Softplus(s) => {
            let scaled = x * T::from_f64(s.beta);
            if scaled > T::from_f64(s.threshold) { x } else { scaled.exp().ln_1p() / T::from_f64(s.beta) }
        }
        Act::Gelu => x * normal_cdf(x),
        _ => unreachable!("a built-in added after this bench"),
    }
}

/// `libm_value`'s derivatives, at `y = libm_value(x)`.
fn libm_derivative<T: Scalar>(act: Act, x: T, y: T) -> T {
    let one = T::one();
    match act {
        Act::Identity => one,
        Act::Sigmoid => (one - y) * y,
        Act::Tanh => one - y * y,
        Act::Relu => {
            if x > T::zero() {
                one
            } else {
                T::zero()
            }
        }
        Act::LeakyRelu(l) => {
            if x > T::zero() {
                one
            } else {
                T::from_f64(l.negative_slope)
            }
        }
        Act::Elu(e) => {
            if x > T::zero() {
                one
            } else {
                T::from_f64(e.alpha) * x.exp()
            }
        }
        Act::Silu => {
            let s = one / (one + (-x).exp());
            s * (one + x * (one - s))
        }
        Act::Softplus(s) => {
            let scaled = x * T::from_f64(s.beta);
            if scaled > T::from_f64(s.threshold) {
                one
            } else {
                let z = scaled.exp();
                z / (z + one)
            }
        }
        Act::Gelu => {
            let pdf = (T::from_f64(-0.5) * x * x).exp() * T::from_f64(0.398_942_280_401_432_7);
            normal_cdf(x) + x * pdf
        }
        _ => unreachable!("a built-in added after this bench"),
    }
}

/// Φ(x) through libm's f64 `erf`, as the GELU built-in once did through a port of it.
fn normal_cdf<T: Scalar>(x: T) -> T {
    T::from_f64(0.5 * (1.0 + libm::erf(x.as_f64() * std::f64::consts::FRAC_1_SQRT_2)))
}

/// Median nanoseconds per element of `pass` (one pass over `LEN` elements).
fn time(full: bool, mut pass: impl FnMut()) -> f64 {
    if !full {
        pass();
        let start = Instant::now();
        pass();
        return start.elapsed().as_secs_f64() * 1e9 / LEN as f64;
    }
    let warm = Instant::now();
    let mut calls = 0u32;
    while warm.elapsed() < Duration::from_millis(20) {
        pass();
        calls += 1;
    }
    let per_sample =
        ((Duration::from_millis(2).as_secs_f64() / (warm.elapsed().as_secs_f64() / f64::from(calls))) as u32).max(1);
    let mut samples: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_sample {
                pass();
            }
            start.elapsed().as_secs_f64() * 1e9 / (f64::from(per_sample) * LEN as f64)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One table row per (activation, direction) for element type `T`.
fn measure<T: Scalar>(full: bool, act: Act, rows: &mut Vec<[String; 5]>) {
    // Evenly spaced over [-6, 6] in a scrambled order (pre-activations are not
    // sorted; sorted inputs would let the branches of the libm loop predict).
    let x: Vec<T> = (0..LEN)
        .map(|i| (i * 2_731 + 1_009) % LEN)
        .map(|j| T::from_f64(-6.0 + 12.0 * j as f64 / (LEN - 1) as f64))
        .collect();
    let mut y = vec![T::zero(); LEN];
    let mut grad = vec![T::one(); LEN];
    act.forward_slice(&x, &mut y);

    let fast_forward = time(full, || act.forward_slice(black_box(&x), black_box(&mut y)));
    let libm_forward = time(full, || {
        for (y_i, &x_i) in y.iter_mut().zip(black_box(&x)) {
            *y_i = libm_value(act, x_i);
        }
        black_box(&mut y);
    });
    act.forward_slice(&x, &mut y);
    // Backward passes reset the gradient first: multiplying it by derivatives
    // pass after pass would drive it into the (slow) subnormals or to infinity.
    let fast_backward = time(full, || {
        grad.fill(T::one());
        act.backward_slice(black_box(&x), black_box(&y), black_box(&mut grad));
    });
    let libm_backward = time(full, || {
        grad.fill(T::one());
        for ((g, &x_i), &y_i) in grad.iter_mut().zip(black_box(&x)).zip(black_box(&y)) {
            *g = *g * libm_derivative(act, x_i, y_i);
        }
        black_box(&mut grad);
    });
    for (direction, fast, libm) in [("forward", fast_forward, libm_forward), ("backward", fast_backward, libm_backward)]
    {
        rows.push([
            act.name().to_owned(),
            T::NAME.to_owned(),
            direction.to_owned(),
            format!("{fast:.2}"),
            format!("{libm:.2}  ({:.1}x)", libm / fast),
        ]);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let mut rows = Vec::new();
    for act in Act::ALL {
        if !filters.is_empty() && !filters.iter().any(|f| act.name().contains(f.as_str())) {
            continue;
        }
        measure::<f32>(full, act, &mut rows);
        measure::<f64>(full, act, &mut rows);
    }
    if !full {
        println!("(smoke run: pass --bench, as `cargo bench` does, for real timings)");
    }
    println!("ns per element, slices of {LEN}, median of 15 samples");
    println!("{:<11} {:<4} {:<9} {:>9}  libm scalar (speed-up)", "activation", "type", "pass", "fast");
    for [name, ty, direction, fast, libm] in rows {
        println!("{name:<11} {ty:<4} {direction:<9} {fast:>9}  {libm}");
    }
}
