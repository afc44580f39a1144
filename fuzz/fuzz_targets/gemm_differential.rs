//! `kernels::gemm` against `kernels::reference::gemm`, and `add_row_to_each` /
//! `add_column_sums` against naive loops, in f32 and f64, for every `Form`, shapes
//! m, n, k in 0..=40, with and without accumulation, on finite values.
//!
//! `gemm` picks its implementation (plain loops, or packed and blocked with SIMD and fused
//! multiply-adds) by shape and CPU, and faster ones may come; this target tests whatever it
//! picks. So results are not required to be bit-equal to the reference, only within the error
//! bound of floating-point summation (see `check_product`), except where every order of
//! evaluation gives the same bits (also in `check_product`).
//!
//! Input: a header (type, form, shape, flags, distribution, seed) read with `Unstructured`,
//! matrices filled from the seed, then (index, bits) pairs from the rest of the input that
//! overwrite single elements, so the fuzzer can place its own values.
#![no_main]

mod common;

use common::{Dist, Float2, Gen, gamma, unit_roundoff};
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use tinymlp::kernels::{self, Form, reference};

const MAX_DIM: usize = 40;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = if data.first().is_some_and(|b| b & 1 == 0) { run::<f32>(&mut u) } else { run::<f64>(&mut u) };
});

fn run<T: Float2>(u: &mut Unstructured<'_>) -> ArbResult<()> {
    let _type_byte: u8 = u.arbitrary()?;
    let form = [Form::AB, Form::AtB, Form::ABt][u.choose_index(3)?];
    // A third of the inputs take shapes of 32 and more in every dimension: `gemm` sends products
    // of at least 32·32·32 multiply-adds to its packed (blocked, SIMD) paths, which uniformly
    // drawn shapes in 0..=40 would reach only rarely.
    let smallest = if u.ratio(1, 3)? { 32 } else { 0 };
    let m = u.int_in_range(smallest..=MAX_DIM)?;
    let n = u.int_in_range(smallest..=MAX_DIM)?;
    let k = u.int_in_range(smallest..=MAX_DIM)?;
    let accumulate: bool = u.arbitrary()?;
    let dist = Dist::from_byte(u.arbitrary()?);
    let mut g = Gen::new(u.arbitrary()?);

    let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
    let mut a: Vec<T> = (0..ar * ac).map(|_| dist.sample(&mut g)).collect();
    let mut b: Vec<T> = (0..br * bc).map(|_| dist.sample(&mut g)).collect();
    let mut c: Vec<T> = (0..m * n).map(|_| dist.sample(&mut g)).collect();
    // The rest of the input: (which matrix, index, bits) triples.
    while u.len() >= 4 {
        let which: u8 = u.arbitrary()?;
        let target = match which % 3 {
            0 => &mut a,
            1 => &mut b,
            _ => &mut c,
        };
        let index: u16 = u.arbitrary()?;
        let bits: u64 = u.arbitrary()?;
        if !target.is_empty() {
            let len = target.len();
            target[usize::from(index) % len] = T::finite_from_bits(bits);
        }
    }

    check_product(form, m, n, k, &a, &b, &c, accumulate);
    check_bias(form, m, n, k, &a, &b, &c, dist, &mut g);
    check_broadcasts(&a, &b, &mut g);
    Ok(())
}

/// `gemm` and the reference agree within twice the bound each has against the exact result.
///
/// Both compute each `c_ij` as a sum of the k products `a_ip·b_pj` (and `c_ij` itself when
/// accumulating) in some order, possibly with fused multiply-adds. Any such evaluation of an
/// n-term sum of products has error at most γ_n · Σ|terms| (Higham, *Accuracy and Stability of
/// Numerical Algorithms*, §3.1), with γ_n = n·u/(1 - n·u), as long as nothing overflows or
/// underflows. So the two differ by at most 2·γ_(k+1)·S with S = Σ_p |a_ip·b_pj| + |c_ij|.
/// Underflow adds at most one subnormal spacing per product; `TINY_PER_TERM` (one smallest
/// normal number per term) covers it even for a kernel that flushes subnormals to zero.
/// S is computed in f64; for f64 data its own rounding is absorbed by `BOUND_SLACK`.
/// Elements whose S could overflow `T` (S > MAX/4) are skipped: there, a different order may
/// legitimately overflow where the other does not.
#[allow(clippy::too_many_arguments)] // BLAS's argument list, as `gemm`'s
fn check_product<T: Float2>(form: Form, m: usize, n: usize, k: usize, a: &[T], b: &[T], c0: &[T], accumulate: bool) {
    const BOUND_SLACK: f64 = 1.0 + 1e-10;
    let tiny_per_term = T::min_positive_value().to64();

    let mut fast = c0.to_vec();
    let mut slow = c0.to_vec();
    kernels::gemm(form, m, n, k, a, b, &mut fast, accumulate);
    reference::gemm(form, m, n, k, a, b, &mut slow, accumulate);

    // Rows of op(A) and columns of op(B), in f64, each contiguous: the loops below then compare
    // little, and comparisons are what an instrumented (coverage-tracing) build pays for.
    let (a_row, a_col) = if form == Form::AtB { (1, m) } else { (k, 1) };
    let (b_row, b_col) = if form == Form::ABt { (1, k) } else { (n, 1) };
    let op_a: Vec<f64> = (0..m * k).map(|ip| a[(ip / k.max(1)) * a_row + (ip % k.max(1)) * a_col].to64()).collect();
    let op_b_t: Vec<f64> = (0..n * k).map(|jp| b[(jp % k.max(1)) * b_row + (jp / k.max(1)) * b_col].to64()).collect();
    let whole = |v: &T| v.to64().fract() == 0.0 && v.to64().abs() <= 64.0;
    let small_whole_operands = a.iter().all(whole) && b.iter().all(whole);

    let terms = k + usize::from(accumulate);
    let gamma = gamma(terms.max(1), unit_roundoff::<T>());
    let limit = T::max_value().to64() / 4.0;
    for i in 0..m {
        for j in 0..n {
            let (x, y) = (fast[i * n + j], slow[i * n + j]);
            let c_ij = if accumulate { c0[i * n + j] } else { T::zero() };
            let (mut s, mut sum) = (c_ij.to64().abs(), c_ij.to64());
            for (&a_ip, &b_pj) in op_a[i * k..(i + 1) * k].iter().zip(&op_b_t[j * k..(j + 1) * k]) {
                let product = a_ip * b_pj;
                s += product.abs();
                sum += product;
            }
            // Where every evaluation order gives the same bits: no products (c itself, or 0);
            // one product without accumulation (one rounding: the f64 product of two f32 values
            // is exact); or small whole numbers (at most 41 terms of magnitude ≤ 64² = 4096, so
            // every partial sum is below 2^18 and exact, even in f32).
            let exact = if k == 0 {
                Some(c_ij.to64())
            } else if k == 1 && !accumulate {
                Some(T::from_f64(sum).to64())
            } else if small_whole_operands && whole(&c_ij) {
                Some(sum)
            } else {
                None
            };
            if let Some(exact) = exact {
                assert!(
                    x.to64() == exact && y.to64() == exact,
                    "{form:?} {m}x{n}x{k} acc={accumulate} at ({i},{j}): gemm {x:e}, reference {y:e}, exact {exact:e}"
                );
                continue;
            }
            if s.is_nan() || s > limit {
                continue;
            }
            assert!(x.is_finite() && y.is_finite(), "{form:?} {m}x{n}x{k} at ({i},{j}): {x:e} vs {y:e} with S = {s:e}");
            let bound = 2.0 * gamma * s * BOUND_SLACK + 2.0 * terms as f64 * tiny_per_term;
            let diff = (x.to64() - y.to64()).abs();
            assert!(
                diff <= bound,
                "{form:?} {m}x{n}x{k} acc={accumulate} at ({i},{j}): gemm {x:e}, reference {y:e}, |diff| {diff:e} > bound {bound:e} (S = {s:e})"
            );
        }
    }
}

/// `gemm_bias` (a layer's product with its bias written on the way out) gives the bits of
/// `gemm` overwriting C followed by `add_row_to_each`, whatever path the shape takes; C's old
/// contents are never read. NaNs (from infinite products) compare as one NaN.
#[allow(clippy::too_many_arguments)] // BLAS's argument list, as `gemm`'s
fn check_bias<T: Float2>(form: Form, m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &[T], dist: Dist, g: &mut Gen) {
    let bias: Vec<T> = (0..n).map(|_| dist.sample(g)).collect();
    let mut fused = c.to_vec();
    kernels::gemm_bias(form, m, n, k, a, b, &mut fused, &bias);
    let mut two = c.iter().map(|&v| -v).collect::<Vec<T>>();
    kernels::gemm(form, m, n, k, a, b, &mut two, false);
    kernels::add_row_to_each(&mut two, &bias);
    let bits = |v: &[T]| v.iter().map(|x| if x.is_nan() { u64::MAX } else { x.to64().to_bits() }).collect::<Vec<_>>();
    assert!(bits(&fused) == bits(&two), "gemm_bias {form:?} {m}x{n}x{k}: not the bits of gemm then add_row_to_each");
}

/// `add_row_to_each` is one addition per element, so it must be bit-exact; `add_column_sums`
/// is a sum per column, held to the summation bound like `gemm` (a faster version may add the
/// rows in another order).
fn check_broadcasts<T: Float2>(a: &[T], b: &[T], g: &mut Gen) {
    // Shapes from the operands' lengths: a `rows x width` matrix and a width-long row.
    let width = b.len().min(MAX_DIM);
    let rows = a.len().checked_div(width).unwrap_or(0);
    let matrix = &a[..rows * width];
    let row = &b[..width];

    let mut got = matrix.to_vec();
    kernels::add_row_to_each(&mut got, row);
    for (index, (&x, &m)) in got.iter().zip(matrix).enumerate() {
        let expected = m + row[index % width];
        assert!(
            x.to64().to_bits() == expected.to64().to_bits(),
            "add_row_to_each at {index}: {x:e} != {m:e} + {:e}",
            row[index % width]
        );
    }

    let start: Vec<T> = (0..width).map(|_| Dist::Unit.sample(g)).collect();
    let mut sums = start.clone();
    kernels::add_column_sums(&mut sums, matrix);
    let gamma = gamma(rows + 1, unit_roundoff::<T>());
    let limit = T::max_value().to64() / 4.0;
    for j in 0..width {
        let mut naive = start[j];
        let mut s = start[j].to64().abs();
        for i in 0..rows {
            naive = naive + matrix[i * width + j];
            s += matrix[i * width + j].to64().abs();
        }
        if s.is_nan() || s > limit {
            continue;
        }
        let diff = (sums[j].to64() - naive.to64()).abs();
        assert!(
            diff <= 2.0 * gamma * s * (1.0 + 1e-10),
            "add_column_sums column {j} of {rows}x{width}: {:e} vs naive {naive:e}",
            sums[j]
        );
    }
}
