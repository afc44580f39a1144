//! The built-ins against their PyTorch formulas evaluated with libm, enforcing
//! the accuracy table in `builtin.rs`, and the scalar/slice agreement.
//!
//! Error of one point: `|ours − reference|` must be at most
//! `ulps · ulp(reference) + slack · ε · scale(x)`, where `ε` is the type's
//! machine epsilon and `scale(x)` the size of the terms a formula subtracts
//! (zero where nothing cancels): the second term only matters near zeros of a
//! derivative and in GELU's `1 + erf(x/√2)` for negative `x`, where the
//! reference formula loses the same absolute accuracy. Products with a
//! subnormal factor may also be off by a few subnormal spacings times `|x|`.

use super::{Act, Activation, Elu, Gelu, Silu, Softplus};
use crate::Scalar;
use crate::kernels::{self, Path};
use alloc::vec::Vec;

/// ulp of `v` in the type `T` (the subnormal spacing near 0).
fn ulp<T: Scalar>(v: f64) -> f64 {
    let (digits, min_exponent) = if core::mem::size_of::<T>() == 4 { (24, -126) } else { (53, -1022) };
    let exponent = if v == 0.0 { min_exponent } else { (v.abs().log2().floor() as i32).max(min_exponent) };
    // 2^(exponent − digits + 1), exactly (`powi` would underflow on the way).
    let power = exponent - digits + 1;
    if power >= -1022 { f64::from_bits(((power + 1023) as u64) << 52) } else { f64::from_bits(1 << (power + 1074)) }
}

/// `1/(1 + e^(−x))` with libm, accurate for every `x`.
fn sigmoid(x: f64) -> f64 {
    if x < 0.0 {
        let e = x.exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + (-x).exp())
    }
}

/// Reference value, derivative at the reference value, and the size of the
/// cancelling terms of the value and of the derivative; `None` for the exact
/// formulas (identity, ReLU, leaky ReLU), which the kernels do not touch. The
/// match names every variant, so a new built-in does not compile until it has
/// a reference here.
fn reference(act: Act, x: f64) -> Option<(f64, f64, f64, f64)> {
    Some(match act {
        Act::Identity | Act::Relu | Act::LeakyRelu(_) => return None,
        Act::Sigmoid => {
            let y = sigmoid(x);
            (y, (1.0 - y) * y, 0.0, 0.0)
        }
        Act::Tanh => {
            let y = x.tanh();
            (y, 1.0 - y * y, 0.0, 0.0)
        }
        Act::Elu(Elu { alpha }) => {
            if x > 0.0 {
                (x, 1.0, 0.0, 0.0)
            } else {
                (alpha * x.exp_m1(), alpha * x.exp(), 0.0, 0.0)
            }
        }
        Act::Silu => {
            let s = sigmoid(x);
            // s·(1 + x(1 − s)): 1 − s loses ε, which x multiplies.
            (x * s, s * (1.0 + x * (1.0 - s)), 0.0, s * (1.0 + x.abs()))
        }
        Act::Softplus(Softplus { beta, threshold }) => {
            let z = x * beta;
            if z > threshold {
                (x, 1.0, 0.0, 0.0)
            } else {
                ((z.max(0.0) + (-z.abs()).exp().ln_1p()) / beta, sigmoid(z), 0.0, 0.0)
            }
        }
        Act::Gelu => {
            let cdf = 0.5 * (1.0 + libm::erf(x * core::f64::consts::FRAC_1_SQRT_2));
            let pdf = (-0.5 * x * x).exp() * 0.398_942_280_401_432_7;
            (x * cdf, cdf + x * pdf, x.abs(), 1.0)
        }
    })
}

/// Bounds per activation: (value ulps, value slack, derivative ulps, derivative slack).
fn bounds<T: Scalar>(act: Act) -> (f64, f64, f64, f64) {
    let f32 = core::mem::size_of::<T>() == 4;
    match act {
        Act::Sigmoid => (2.0, 0.0, 0.0, 0.0),
        Act::Tanh => (if f32 { 2.0 } else { 4.0 }, 0.0, 0.0, 0.0),
        Act::Elu(_) => (1.0, 0.0, 1.0, 0.0),
        Act::Silu => (3.0, 0.0, 3.0, 2.0),
        Act::Softplus(_) => (2.0, 0.0, 2.0, 0.0),
        Act::Gelu => (1.0, 1.0, 2.0, 1.0),
        Act::Identity | Act::Relu | Act::LeakyRelu(_) => unreachable!("{act} has no reference to compare with"),
    }
}

fn inputs(points: usize) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut xs: Vec<f64> = (0..=points).map(|i| -50.0 + 100.0 * i as f64 / points as f64).collect();
    xs.extend((0..points).map(|_| f64::from_bits(next())).filter(|x| x.is_finite()));
    xs.extend((0..points).map(|_| f64::from(f32::from_bits(next() as u32))).filter(|x| x.is_finite()));
    xs.extend([0.0, -0.0, 1e-310, -1e-310, 1e-40, -1e-40, 20.0, 20.000_001, -750.0, -105.0, f64::MAX, f64::MIN]);
    xs
}

/// Worst `error / allowed` over the inputs, for value and derivative, and where.
fn worst<T: Scalar>(act: Act, xs: &[f64]) -> [(f64, f64); 2] {
    let (value_ulps, value_slack, derivative_ulps, derivative_slack) = bounds::<T>(act);
    let epsilon = T::epsilon().as_f64();
    let mut worst = [(0.0, 0.0); 2];
    for &x64 in xs {
        let x = T::from_f64(x64);
        let x64 = x.as_f64();
        let Some((y_ref, d_ref, value_scale, derivative_scale)) = reference(act, x64) else { continue };
        let y = act.value(x);
        // Sigmoid's and tanh's derivatives are PyTorch's formulas of the cached
        // output, evaluated in `T`: nothing to compare beyond the value.
        let y_ref_t = T::from_f64(y_ref);
        let d = act.derivative(x, y_ref_t);
        let d_ref = if matches!(act, Act::Sigmoid | Act::Tanh) { d.as_f64() } else { d_ref };
        let checks = [
            (y.as_f64(), T::from_f64(y_ref).as_f64(), value_ulps, value_slack * value_scale),
            (d.as_f64(), T::from_f64(d_ref).as_f64(), derivative_ulps, derivative_slack * derivative_scale),
        ];
        for (slot, (ours, reference, ulps, slack)) in worst.iter_mut().zip(checks) {
            if ours == reference || (ours.is_nan() && reference.is_nan()) {
                continue;
            }
            // Products with a subnormal factor (SiLU, GELU below about −708
            // in f64) keep only the factor's absolute accuracy.
            let underflow = 4.0 * x64.abs() * ulp::<T>(0.0);
            let allowed = ulps * ulp::<T>(reference) + slack * epsilon + underflow;
            // A NaN where the reference is a number (or the reverse) is infinitely wrong.
            let ratio = (ours - reference).abs() / allowed;
            let ratio = if ratio.is_nan() || allowed == 0.0 { f64::INFINITY } else { ratio };
            if ratio > slot.0 {
                *slot = (ratio, x64);
            }
        }
    }
    worst
}

fn check<T: Scalar>(points: usize) {
    let xs = inputs(points);
    for act in Act::ALL.into_iter().filter(|&act| reference(act, 0.0).is_some()) {
        let [(value, at_value), (derivative, at_derivative)] = worst::<T>(act, &xs);
        #[cfg(feature = "std")]
        std::println!(
            "{act} {}: worst error / bound: value {value:.3} at {at_value:e}, derivative {derivative:.3} at {at_derivative:e}",
            T::NAME
        );
        assert!(value <= 1.0, "{act} {}: value error {value} x the bound at {at_value:e}", T::NAME);
        assert!(derivative <= 1.0, "{act} {}: derivative error {derivative} x the bound at {at_derivative:e}", T::NAME);
    }
}

#[test]
fn builtins_are_within_their_documented_bounds() {
    check::<f32>(100_000);
    check::<f64>(100_000);
}

#[test]
#[ignore = "slow: 10^7 points per activation; run with --release -- --ignored"]
fn builtins_are_within_their_documented_bounds_dense() {
    check::<f32>(10_000_000);
    check::<f64>(10_000_000);
}

/// The slice methods run the scalar methods' code: bitwise equal results,
/// for every length (vector body and remainder) and for parameterised built-ins.
#[test]
fn slices_match_scalar_methods_bitwise() {
    let xs = inputs(500);
    let acts =
        [Act::Elu(Elu::new(0.7)), Act::Softplus(Softplus::new(2.0, 10.0)), Act::LeakyRelu(super::LeakyRelu::new(0.2))];
    for act in Act::ALL.into_iter().chain(acts) {
        slices_match::<f32>(act, &xs);
        slices_match::<f64>(act, &xs);
    }
    // Through the concrete types as well as `Act`.
    slices_match_for::<f64, _>(&Gelu, &xs);
    slices_match_for::<f32, _>(&Silu, &xs);
}

/// The element-wise loops compiled for each vector feature this CPU has give
/// the bits of the plain loop (the default path is the best of them).
#[test]
fn every_kernel_path_gives_the_same_bits() {
    let xs = inputs(500);
    for act in Act::ALL.into_iter().chain([Act::Elu(Elu::new(0.7)), Act::Softplus(Softplus::new(2.0, 10.0))]) {
        paths_match::<f32>(act, &xs);
        paths_match::<f64>(act, &xs);
    }
    paths_match_for::<f64, _>(&Gelu, &xs);
    paths_match_for::<f32, _>(&Silu, &xs);
}

/// The staged forward loop of `tanh` gives the bits of `value` on every path,
/// for short slices (one loop) and long ones (several blocks and a partial one).
#[test]
fn staged_tanh_gives_the_bits_of_value_on_every_path() {
    fn check<T: Scalar>(xs: &[f64]) {
        for len in [0, 1, 63, 64, 65, 300, xs.len()] {
            let x: Vec<T> = xs[xs.len() - len..].iter().map(|&v| T::from_f64(v)).collect();
            for path in kernels::available_paths() {
                let mut y = alloc::vec![T::zero(); x.len()];
                super::builtin::tanh_staged_on(path, &x, &mut y);
                for (&x_i, &y_i) in x.iter().zip(&y) {
                    let value = Activation::<T>::value(&super::Tanh, x_i);
                    assert!(same(y_i, value), "{path} {}: tanh({x_i:?}) = {value:?}, staged {y_i:?}", T::NAME);
                }
            }
        }
    }
    let mut xs = inputs(1_000);
    xs.extend([f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN]);
    check::<f32>(&xs);
    check::<f64>(&xs);
}

/// The backward pass with the bias gradient's column sums in the same loop
/// gives the bits of the two passes (`backward_slice`, then
/// `add_column_sums`), for every built-in, through `Act` and the concrete
/// types, on every path; a custom activation runs the two passes.
#[test]
fn backward_with_column_sums_gives_the_bits_of_two_passes() {
    fn check<T: Scalar, A: Activation<T>>(act: &A, xs: &[f64]) {
        const WIDTH: usize = 7;
        let len = xs.len() / WIDTH * WIDTH;
        let x: Vec<T> = xs[..len].iter().map(|&v| T::from_f64(v)).collect();
        let mut y = alloc::vec![T::zero(); len];
        act.forward_slice(&x, &mut y);
        let grad: Vec<T> = (0..len).map(|i| T::from_f64(1.0 + (i % 13) as f64 * 0.37)).collect();
        let start: Vec<T> = (0..WIDTH).map(|j| T::from_f64(j as f64 * 0.5 - 1.0)).collect();
        let (mut two_grad, mut two_sums) = (grad.clone(), start.clone());
        act.backward_slice(&x, &y, &mut two_grad);
        kernels::add_column_sums(&mut two_sums, &two_grad);
        let bits = |v: &[T]| v.iter().map(|t| t.as_f64().to_bits()).collect::<Vec<_>>();
        let (mut one_grad, mut one_sums) = (grad.clone(), start.clone());
        super::backward_and_sums(act, &x, &y, &mut one_grad, &mut one_sums);
        assert!(bits(&one_grad) == bits(&two_grad) && bits(&one_sums) == bits(&two_sums), "{}", T::NAME);
        for path in kernels::available_paths() {
            let (mut on_grad, mut on_sums) = (grad.clone(), start.clone());
            kernels::scale_by_and_sum_on(path, &x, &y, &mut on_grad, &mut on_sums, |x_i, y_i| act.derivative(x_i, y_i));
            assert!(bits(&on_grad) == bits(&two_grad) && bits(&on_sums) == bits(&two_sums), "{path} {}", T::NAME);
        }
    }
    let xs = inputs(500);
    let acts =
        [Act::Elu(Elu::new(0.7)), Act::Softplus(Softplus::new(2.0, 10.0)), Act::LeakyRelu(super::LeakyRelu::new(0.2))];
    for act in Act::ALL.into_iter().chain(acts) {
        check::<f32, _>(&act, &xs);
        check::<f64, _>(&act, &xs);
    }
    check::<f64, _>(&super::Tanh, &xs);
    check::<f32, _>(&Gelu, &xs);
    check::<f64, _>(&Silu, &xs);
    /// Not a built-in: the trait's default runs the two passes.
    struct Square;
    impl<T: Scalar> Activation<T> for Square {
        fn value(&self, x: T) -> T {
            x * x
        }
        fn derivative(&self, x: T, _y: T) -> T {
            x + x
        }
    }
    check::<f64, _>(&Square, &xs);
    let boxed: alloc::boxed::Box<dyn Activation<f32>> = alloc::boxed::Box::new(Act::Tanh);
    check::<f32, _>(&boxed, &xs);
}

fn paths_match<T: Scalar>(act: Act, xs: &[f64]) {
    paths_match_for::<T, _>(&act, xs);
}

fn paths_match_for<T: Scalar, A: Activation<T>>(act: &A, xs: &[f64]) {
    let x: Vec<T> = xs.iter().map(|&v| T::from_f64(v)).collect();
    let seed: Vec<T> = (0..x.len()).map(|i| T::from_f64(1.0 + i as f64 * 0.01)).collect();
    let run = |path: Path| {
        let mut y = alloc::vec![T::zero(); x.len()];
        kernels::map_on(path, &x, &mut y, |x_i| act.value(x_i));
        let mut grad = seed.clone();
        kernels::scale_by_on(path, &x, &y, &mut grad, |x_i, y_i| act.derivative(x_i, y_i));
        (y, grad)
    };
    let (plain_y, plain_grad) = run(Path::Portable);
    for path in kernels::available_paths() {
        let (y, grad) = run(path);
        for i in 0..x.len() {
            assert!(same(y[i], plain_y[i]), "{path} {}: value at {:?}: {:?} vs {:?}", T::NAME, x[i], y[i], plain_y[i]);
            assert!(same(grad[i], plain_grad[i]), "{path} {}: derivative at {:?}", T::NAME, x[i]);
        }
    }
}

fn slices_match<T: Scalar>(act: Act, xs: &[f64]) {
    slices_match_for::<T, _>(&act, xs);
}

fn slices_match_for<T: Scalar, A: Activation<T>>(act: &A, xs: &[f64]) {
    for len in [0, 1, 7, 8, 9, 17, xs.len()] {
        let x: Vec<T> = xs[..len].iter().map(|&v| T::from_f64(v)).collect();
        let mut y = alloc::vec![T::zero(); len];
        act.forward_slice(&x, &mut y);
        let mut grad: Vec<T> = (0..len).map(|i| T::from_f64(1.0 + i as f64 * 0.01)).collect();
        let expected_grad: Vec<T> =
            grad.iter().zip(&x).zip(&y).map(|((&g, &x), &y)| g * act.derivative(x, y)).collect();
        act.backward_slice(&x, &y, &mut grad);
        for i in 0..len {
            let scalar = act.value(x[i]);
            assert!(same(y[i], scalar), "forward_slice vs value at {:?}: {:?} vs {:?}", x[i], y[i], scalar);
            assert!(same(grad[i], expected_grad[i]), "backward_slice at {:?}", x[i]);
        }
    }
}

fn same<T: Scalar>(a: T, b: T) -> bool {
    a.as_f64().to_bits() == b.as_f64().to_bits() || (a.is_nan() && b.is_nan())
}
