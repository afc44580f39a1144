//! Activations and losses on arbitrary finite inputs, in f32 and f64.
//!
//! Activations (every `Act::ALL` variant, plus the parametrised ones with a few non-default
//! parameters):
//! - `forward_slice` / `backward_slice` equal the scalar `value` / `grad · derivative` within
//!   `SLICE_MAX_ULPS` (bit-exact today; the slack is for faster slice code later);
//! - `value` and `derivative` are finite for every finite input;
//! - both agree with a reference formula evaluated in f64 with an independent libm (the `libm`
//!   crate), within the bound documented at `reference` (GELU's against `libm::erfc`, which
//!   also checks the crate's vectorised erf).
//!
//! Losses (every built-in): for finite inputs in the loss's domain (`|x| ≤ LOSS_INPUT_LIMIT`,
//! BCE outputs and all probability targets in [0, 1], valid class indices) `validate` accepts,
//! and the value and every gradient entry are finite; a value outside the domain (a BCE output
//! outside [0, 1] or NaN, a class index out of range, fractional or NaN) is rejected by
//! `validate`; and in f64, where well conditioned, the gradient matches a central finite
//! difference of the value.
#![no_main]

mod common;

use common::{Dist, Float2, Gen, ulps};
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use tinymlp::{
    Act, Activation, Bce, BceWithLogits, CrossEntropy, CrossEntropyIndex, Elu, HalfMse, Huber, L1, LeakyRelu, Loss,
    Mse, Softplus,
};

/// How far (in units in the last place) `forward_slice` / `backward_slice` may be from the
/// scalar definition. Today the slice methods call the scalar ones, so they are bit-exact; a
/// faster (vectorised) slice implementation may use a different but equally accurate exp or
/// fuse a multiply-add, which moves results by an ulp or two.
const SLICE_MAX_ULPS: u64 = 4;

/// Relative tolerance against the f64 reference, in multiples of `T::EPSILON`: each built-in is
/// a handful of correctly rounded operations plus one libm call (exp, expm1, ln_1p, tanh: each
/// within 1-2 ulp in glibc and in the `libm` crate), so a few ulp of the result, and 8 leaves
/// room for the reference's own rounding.
const REL_EPS: f64 = 8.0;

/// Results smaller than this many times `T::MIN_POSITIVE` may be flushed to zero or be
/// inaccurate subnormals: e.g. sigmoid and SiLU compute `e^-x`, which overflows in f32 for
/// x < -88.7, giving 0 where the true value is ~1e-37 (SiLU: x·e^x).
const UNDERFLOW_FLOOR: f64 = 1024.0;

/// Loss inputs are bounded by this: the losses promise finiteness "for finite inputs, including
/// logits of ±1e4"; beyond that, squares of differences overflow f32 (the regression losses are
/// not meant to be finite for differences of 1e20).
const LOSS_INPUT_LIMIT: f64 = 1e4;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = if data.first().is_some_and(|b| b & 1 == 0) { run::<f32>(&mut u) } else { run::<f64>(&mut u) };
});

fn run<T: Float2>(u: &mut Unstructured<'_>) -> ArbResult<()> {
    let _type_byte: u8 = u.arbitrary()?;
    let count = u.int_in_range(1..=64)?;
    let dist = Dist::from_byte(u.arbitrary()?);
    let grad_dist = Dist::from_byte(u.arbitrary()?);
    let mut g = Gen::new(u.arbitrary()?);
    let loss_choice = LossChoice::new(u)?;

    let mut xs: Vec<T> = (0..count).map(|_| dist.sample(&mut g)).collect();
    let grads: Vec<T> = (0..count).map(|_| grad_dist.sample(&mut g)).collect();
    // The rest of the input: (index, bits) pairs placing the fuzzer's own values.
    while u.len() >= 3 {
        let index: u8 = u.arbitrary()?;
        let bits: u64 = u.arbitrary()?;
        xs[usize::from(index) % count] = T::finite_from_bits(bits);
    }

    for act in activations() {
        check_activation(act, &xs, &grads);
    }
    check_loss::<T>(&loss_choice, &mut g);
    Ok(())
}

/// `Act::ALL` and a few other parameters (powers of two and values not exact in f32).
fn activations() -> impl Iterator<Item = Act> {
    Act::ALL.into_iter().chain([
        Act::LeakyRelu(LeakyRelu::new(0.2)),
        Act::LeakyRelu(LeakyRelu::new(0.0)),
        Act::Elu(Elu::new(0.5)),
        Act::Elu(Elu::new(2.0)),
        Act::Softplus(Softplus::new(2.0, 20.0)),
        Act::Softplus(Softplus::new(0.5, 10.0)),
    ])
}

fn check_activation<T: Float2>(act: Act, xs: &[T], grads: &[T]) {
    let mut ys = vec![T::zero(); xs.len()];
    act.forward_slice(xs, &mut ys);
    let mut back = grads.to_vec();
    act.backward_slice(xs, &ys, &mut back);
    let eps = T::epsilon().to64();
    let floor = UNDERFLOW_FLOOR * T::min_positive_value().to64();

    for (i, &x) in xs.iter().enumerate() {
        let y = act.value(x);
        let d = act.derivative(x, y);
        assert!(y.is_finite(), "{act}({x:e}) = {y:e}");
        assert!(d.is_finite(), "{act}'({x:e}) = {d:e}");
        assert!(ulps(ys[i], y) <= SLICE_MAX_ULPS, "{act}: forward_slice gives {:e}, value({x:e}) = {y:e}", ys[i]);
        let expected = grads[i] * act.derivative(x, ys[i]);
        assert!(
            ulps(back[i], expected) <= SLICE_MAX_ULPS,
            "{act}: backward_slice gives {:e}, {:e} · derivative({x:e}) = {expected:e}",
            back[i],
            grads[i]
        );

        let r = reference(act, x.to64(), eps);
        let value_tol = REL_EPS * eps * r.value.abs() + floor + r.value_extra;
        let value_err = (y.to64() - r.value).abs();
        assert!(
            value_err <= value_tol,
            "{act}({x:e}) = {y:e}, reference {:e}: error {value_err:e} > {value_tol:e}",
            r.value
        );
        let deriv_tol = REL_EPS * eps * r.deriv_scale + floor + r.deriv_extra;
        let deriv_err = (d.to64() - r.deriv).abs();
        assert!(
            deriv_err <= deriv_tol,
            "{act}'({x:e}) = {d:e}, reference {:e}: error {deriv_err:e} > {deriv_tol:e}",
            r.deriv
        );
    }
}

/// An activation's value and derivative at `x`, computed in f64 with the `libm` crate, and the
/// error terms, beyond `REL_EPS · eps · |reference| + floor`, that computing it in `T` may add
/// (`eps` is `T::EPSILON`).
struct Reference {
    value: f64,
    /// Absolute error allowed on top of the relative one, for the value.
    value_extra: f64,
    deriv: f64,
    /// What the relative tolerance of the derivative is taken of: `|deriv|`, or the size of the
    /// terms that cancel in it.
    deriv_scale: f64,
    deriv_extra: f64,
}

/// The reference formulas, written for accuracy (not as the crate writes them) so that they are
/// an independent check:
/// - sigmoid' = e^-|x| / (1 + e^-|x|)², tanh' = 4e^-2|x| / (1 + e^-2|x|)²: the crate's
///   `y(1 - y)` and `1 - y²` from the cached output have an absolute error of a few `eps`
///   (`1 - y` cancels where y → 1), as PyTorch's do: allowed as `8·eps` absolute.
/// - SiLU' = σ(x)(1 + x·σ(-x)): the crate's `1 - σ(x)` carries an absolute error ~eps, which `x`
///   multiplies: allowed as `8·eps·(1 + |x|)·σ(x)`.
/// - GELU = x·erfc(-x/√2)/2: the crate, like PyTorch, computes Φ(x) = (1 + erf(x/√2))/2, which
///   cancels for negative x: erf's error (≤ 2 ulp of a value below 1, i.e. ≤ eps), the rounding
///   of x/√2 and of the sum leave Φ with an absolute error below ~0.9·eps, however small Φ is.
///   Allowed as `2·eps·|x|` for the value and `2·eps` for the derivative. (Tail values are
///   thus inaccurate relative to their size, e.g. GELU(-9) = -1.0e-18 comes out as -0.)
///   GELU' = Φ(x) + x·φ(x): the crate evaluates φ's exponent −x²/2 in `T`, whose relative rounding
///   error `eps` becomes a relative error `eps·x²/2` of φ: allowed as `|xφ|·eps·(x²/2 + 4)`,
///   and the relative tolerance is taken of `|Φ| + |xφ|`, which cancel for x < 0.
/// - Softplus with its threshold, as PyTorch: `x` once `βx > threshold`.
fn reference(act: Act, x: f64, eps: f64) -> Reference {
    let exact = |value: f64, deriv: f64| Reference {
        value,
        value_extra: 0.0,
        deriv,
        deriv_scale: deriv.abs(),
        deriv_extra: 0.0,
    };
    let sigmoid = |x: f64| 1.0 / (1.0 + libm::exp(-x));
    match act {
        Act::Identity => exact(x, 1.0),
        Act::Sigmoid => {
            let e = libm::exp(-x.abs());
            let deriv = e / ((1.0 + e) * (1.0 + e));
            Reference { deriv_extra: 8.0 * eps, ..exact(sigmoid(x), deriv) }
        }
        Act::Tanh => {
            let e = libm::exp(-2.0 * x.abs());
            let deriv = 4.0 * e / ((1.0 + e) * (1.0 + e));
            Reference { deriv_extra: 8.0 * eps, ..exact(libm::tanh(x), deriv) }
        }
        Act::Relu => {
            if x > 0.0 {
                exact(x, 1.0)
            } else {
                exact(0.0, 0.0)
            }
        }
        Act::LeakyRelu(l) => {
            if x > 0.0 {
                exact(x, 1.0)
            } else {
                exact(l.negative_slope * x, l.negative_slope)
            }
        }
        Act::Elu(e) => {
            if x > 0.0 {
                exact(x, 1.0)
            } else {
                exact(e.alpha * libm::expm1(x), e.alpha * libm::exp(x))
            }
        }
        Act::Silu => {
            let s = sigmoid(x);
            let deriv = s * (1.0 + x * sigmoid(-x));
            Reference { deriv_extra: 8.0 * eps * (1.0 + x.abs()) * s, ..exact(x * s, deriv) }
        }
        Act::Softplus(p) => {
            let scaled = x * p.beta;
            if scaled > p.threshold {
                exact(x, 1.0)
            } else {
                exact(libm::log1p(libm::exp(scaled)) / p.beta, sigmoid(scaled))
            }
        }
        Act::Gelu => {
            let cdf = 0.5 * libm::erfc(-x * core::f64::consts::FRAC_1_SQRT_2);
            let pdf = libm::exp(-0.5 * x * x) * 0.398_942_280_401_432_7;
            let x_pdf = x * pdf;
            let cancel = 2.0 * eps;
            Reference {
                value: x * cdf,
                value_extra: cancel * x.abs(),
                deriv: cdf + x_pdf,
                deriv_scale: cdf.abs() + x_pdf.abs(),
                // (x_pdf is 0 where x² overflows: no term then, rather than 0·∞.)
                deriv_extra: cancel + if x_pdf == 0.0 { 0.0 } else { x_pdf.abs() * eps * (0.5 * x * x + 4.0) },
            }
        }
        other => panic!("no reference for {other}"),
    }
}

// ------------------------------------------------------------------------------------ losses

/// Which loss, on what shape, and which way to break the domain.
struct LossChoice {
    loss: u8,
    huber_delta: f64,
    rows: usize,
    width: usize,
    output_dist: Dist,
    target_dist: Dist,
    /// 0..=3: none; else which out-of-domain value to place (BCE and class indices only).
    break_domain: u8,
    break_at: usize,
}

impl LossChoice {
    fn new(u: &mut Unstructured<'_>) -> ArbResult<Self> {
        Ok(Self {
            loss: u.int_in_range(0..=7)?,
            huber_delta: [1.0, 0.5, 2.0, 0.01][u.choose_index(4)?],
            rows: u.int_in_range(1..=8)?,
            width: u.int_in_range(1..=8)?,
            output_dist: Dist::from_byte(u.arbitrary()?),
            target_dist: Dist::from_byte(u.arbitrary()?),
            break_domain: u.int_in_range(0..=8)?,
            break_at: u.arbitrary::<u8>()?.into(),
        })
    }
}

fn loss_named<T: Float2>(choice: &LossChoice) -> (&'static str, Box<dyn Loss<T>>) {
    match choice.loss {
        0 => ("HalfMse", Box::new(HalfMse)),
        1 => ("Mse", Box::new(Mse)),
        2 => ("L1", Box::new(L1)),
        3 => ("Huber", Box::new(Huber { delta: choice.huber_delta })),
        4 => ("Bce", Box::new(Bce)),
        5 => ("BceWithLogits", Box::new(BceWithLogits)),
        6 => ("CrossEntropy", Box::new(CrossEntropy)),
        _ => ("CrossEntropyIndex", Box::new(CrossEntropyIndex)),
    }
}

fn check_loss<T: Float2>(choice: &LossChoice, g: &mut Gen) {
    let (name, loss) = loss_named::<T>(choice);
    let (rows, width) = (choice.rows, choice.width);
    let clamp = |v: T| T::from_f64(v.to64().clamp(-LOSS_INPUT_LIMIT, LOSS_INPUT_LIMIT));
    let unit = |v: T| T::from_f64(v.to64().abs().fract()); // in [0, 1)
    let is_bce = choice.loss == 4;
    let is_index = choice.loss == 7;

    let mut output: Vec<T> = (0..rows * width).map(|_| clamp(choice.output_dist.sample(g))).collect();
    if is_bce {
        for o in &mut output {
            // Probabilities, including exactly 0 and 1, where the logs are clamped.
            *o = match g.below(8) {
                0 => T::zero(),
                1 => T::one(),
                _ => unit(*o),
            };
        }
    }
    let target_width = loss.target_width(width);
    let target: Vec<T> = (0..rows * target_width)
        .map(|_| {
            let t = clamp(choice.target_dist.sample(g));
            match choice.loss {
                7 => T::from_f64(g.below(width as u64) as f64),
                4..=6 => {
                    if g.below(4) == 0 {
                        T::from_f64(g.below(2) as f64)
                    } else {
                        unit(t)
                    }
                }
                _ => t,
            }
        })
        .collect();

    loss.validate(&output, &target, width).unwrap_or_else(|e| panic!("{name}: valid inputs rejected: {e}"));
    let value = loss.value(&output, &target, width);
    assert!(value.is_finite(), "{name} = {value:e} for finite inputs {output:?} / {target:?}");
    let mut grad = vec![T::nan(); output.len()];
    loss.gradient(&output, &target, width, &mut grad);
    for (i, gi) in grad.iter().enumerate() {
        assert!(gi.is_finite(), "{name}: gradient[{i}] = {gi:e} for {output:?} / {target:?}");
    }
    if T::epsilon().to64() < 1e-10 {
        check_finite_differences(name, &*loss, choice, &output, &target, &grad);
    }

    // Out of the domain: validate must say so.
    if choice.break_domain >= 4 && (is_bce || is_index) {
        let bad = [-0.5, 1.5, f64::NAN, -1e-30, 2.0][usize::from(choice.break_domain - 4)];
        let (mut output, mut target) = (output, target);
        if is_bce {
            let at = choice.break_at % output.len();
            output[at] = T::from_f64(if bad == 2.0 { 1.0 + 1e-6 } else { bad });
        } else {
            let at = choice.break_at % target.len();
            target[at] = T::from_f64(if bad == 2.0 { width as f64 } else { bad });
            if bad == 1.5 && width > 2 {
                target[at] = T::from_f64(0.5); // fractional, in range
            }
        }
        assert!(
            loss.validate(&output, &target, width).is_err(),
            "{name}: validate accepted output {output:?} / target {target:?}"
        );
    }
}

/// In f64, for inputs of moderate size away from kinks, each gradient entry of the first
/// row matches the central difference `(L(x + h) - L(x - h)) / 2h`.
///
/// With `h = 1e-5·max(1, |x|)` and `|x| ≤ 8`, the truncation error is `h²·|L'''|/6`, at most
/// ~3e-7/n for BCE on [0.05, 0.95] (|f'''| ≤ 2/0.05³) and far less for the others, and the
/// rounding error is ~`|L|·u/h` ≤ 3e-9; `1e-5·max(|g|, 1/n)` (n: the number of terms the mean
/// divides by) is above both.
fn check_finite_differences<T: Float2>(
    name: &str,
    loss: &dyn Loss<T>,
    choice: &LossChoice,
    output: &[T],
    target: &[T],
    grad: &[T],
) {
    const MODERATE: f64 = 8.0;
    let width = choice.width;
    if output.iter().chain(target).any(|v| v.to64().abs() > MODERATE) {
        return;
    }
    let n = match choice.loss {
        6 | 7 => choice.rows,
        _ => output.len(),
    } as f64;
    for i in 0..width {
        let o = output[i].to64();
        let t = if choice.loss == 7 { 0.0 } else { target[i].to64() };
        let h = 1e-5 * o.abs().max(1.0);
        let d = o - t;
        let near_kink = match choice.loss {
            2 => d.abs() < 2.0 * h,
            3 => (d.abs() - choice.huber_delta).abs() < 2.0 * h,
            4 => !(0.05..=0.95).contains(&o),
            _ => false,
        };
        if near_kink {
            continue;
        }
        let at = |x: f64| {
            let mut moved = output.to_vec();
            moved[i] = T::from_f64(x);
            loss.value(&moved, target, width).to64()
        };
        let fd = (at(o + h) - at(o - h)) / (2.0 * h);
        let g = grad[i].to64();
        let tol = 1e-5 * g.abs().max(1.0 / n);
        assert!((fd - g).abs() <= tol, "{name}: gradient[{i}] = {g:e}, finite difference {fd:e} (x = {o}, t = {t})");
    }
}
