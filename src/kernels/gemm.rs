//! The public products: [`gemm()`](super::gemm()) picks a [`Path`] for the
//! shape, [`gemm_with`] takes one, and both hand the product to that path's
//! implementation (the plain loops, or the blocked loop nest with a
//! micro-kernel, on several threads when allowed).

use super::blocked;
#[cfg(target_arch = "x86_64")]
use super::dispatch::{CHEAP, WIDE_MIN, best_packed, compiled_for};
use super::dispatch::{Path, path_for};
use super::elementwise::add_row_to_each;
use super::portable;
use super::product::Product;
#[cfg(target_arch = "x86_64")]
use super::simd;
use super::simple;
#[cfg(feature = "std")]
use super::threads;
use crate::Scalar;

/// Which operand of a product is read transposed. Shapes are (rows, cols) of the
/// stored, row-major slices; C is always `m x n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// C (+)= A·B with A `m x k`, B `k x n`.
    AB,
    /// C (+)= Aᵀ·B with A `k x m`, B `k x n`.
    AtB,
    /// C (+)= A·Bᵀ with A `m x k`, B `n x k`.
    ABt,
}

impl Form {
    /// Stored shapes of A and B for an `m x n` result with inner dimension `k`.
    #[must_use]
    pub const fn operand_shapes(self, m: usize, n: usize, k: usize) -> ((usize, usize), (usize, usize)) {
        match self {
            Form::AB => ((m, k), (k, n)),
            Form::AtB => ((k, m), (k, n)),
            Form::ABt => ((m, k), (n, k)),
        }
    }
}

/// General matrix product on row-major slices: `C = op(A)·op(B)`, or
/// `C += op(A)·op(B)` when `accumulate` is true.
///
/// The path depends only on the form, the shape, the element type and the
/// CPU: [`Path::Simple`] for tiny products (a few thousand multiply-adds, a
/// handful of rows, or a single column), otherwise the best packed path of
/// the CPU. The thresholds were measured on one machine and may change in any
/// release. Without `accumulate`, C is only written, never read.
///
/// ```
/// use tinymlp::kernels::{gemm, Form};
///
/// let a = [1.0, 2.0, 3.0, 4.0]; // 2x2
/// let b = [5.0, 6.0, 7.0, 8.0]; // 2x2
/// let mut c = [1.0; 4];
/// gemm(Form::AB, 2, 2, 2, &a, &b, &mut c, true);
/// assert_eq!(c, [20.0, 23.0, 44.0, 51.0]);
/// ```
///
/// # Panics
/// Panics if a slice's length does not equal its shape's size (see [`Form`]).
#[inline]
pub fn gemm<T: Scalar>(form: Form, m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], accumulate: bool) {
    check_lengths(form, m, n, k, a.len(), b.len(), c.len());
    run(path_for::<T>(form, m, n, k), form, m, n, k, a, b, c, accumulate, None);
}

/// `C = op(A)·op(B) + 1·biasᵀ`: [`gemm()`] without accumulation, then `bias`
/// (`n` values) added to every row of C, with the same roundings (and the same
/// bits) as [`gemm()`] followed by [`add_row_to_each`]. The packed paths add
/// the bias as they write each tile of C, so C makes one trip through memory
/// instead of two (a layer's forward pass).
///
/// Unstable: public for the crate's tests and fuzz targets only, hidden from
/// the documentation and not covered by semver.
///
/// ```
/// use tinymlp::kernels::{gemm_bias, Form};
///
/// let x = [1.0, 2.0]; // 1x2
/// let w = [3.0, 4.0, 5.0, 6.0]; // 2x2, one row per output
/// let mut y = [0.0; 2];
/// gemm_bias(Form::ABt, 1, 2, 2, &x, &w, &mut y, &[0.5, -0.5]);
/// assert_eq!(y, [11.5, 16.5]);
/// ```
///
/// # Panics
/// Panics if a slice's length does not equal its shape's size (see [`Form`]),
/// or if `bias` does not hold `n` values.
#[doc(hidden)]
#[inline]
pub fn gemm_bias<T: Scalar>(form: Form, m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], bias: &[T]) {
    check_lengths(form, m, n, k, a.len(), b.len(), c.len());
    assert_eq!(bias.len(), n, "gemm_bias {form:?}: the bias must hold {n} values, got {}", bias.len());
    run(path_for::<T>(form, m, n, k), form, m, n, k, a, b, c, false, Some(bias));
}

/// [`gemm_bias`] on the given path (as [`gemm_with`]).
///
/// Unstable: public for the crate's tests only, hidden from the documentation
/// and not covered by semver.
///
/// # Panics
/// As [`gemm_with`], or if `bias` does not hold `n` values.
#[doc(hidden)]
#[inline]
pub fn gemm_bias_with<T: Scalar>(
    path: Path,
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    bias: &[T],
) {
    assert!(path.is_available(), "gemm_bias_with: the {path} path is not available on this CPU");
    check_lengths(form, m, n, k, a.len(), b.len(), c.len());
    assert_eq!(bias.len(), n, "gemm_bias {form:?}: the bias must hold {n} values, got {}", bias.len());
    run(path, form, m, n, k, a, b, c, false, Some(bias));
}

/// [`gemm`] on the given path, whatever the shape: for tests, benchmarks, and
/// results that must be the same bits on every machine ([`Path::Portable`] or
/// [`Path::Simple`]).
///
/// ```
/// use tinymlp::kernels::{gemm_with, Form, Path};
///
/// let a = [1.0f32, 2.0, 3.0]; // 1x3
/// let b = [4.0f32, 5.0, 6.0]; // 3x1
/// let mut c = [0.0f32];
/// gemm_with(Path::Portable, Form::AB, 1, 1, 3, &a, &b, &mut c, false);
/// assert_eq!(c, [32.0]);
/// ```
///
/// # Panics
/// Panics if the path is not available on this CPU (see
/// [`available_paths`](super::available_paths)), or if a slice's length does
/// not equal its shape's size.
pub fn gemm_with<T: Scalar>(
    path: Path,
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) {
    assert!(path.is_available(), "gemm_with: the {path} path is not available on this CPU");
    check_lengths(form, m, n, k, a.len(), b.len(), c.len());
    run(path, form, m, n, k, a, b, c, accumulate, None);
}

/// Panics unless the slice lengths `a`, `b` and `c` fit the shapes of `form`
/// with an `m x n` result and inner dimension `k`, naming the operand.
/// Inlined, so that a caller that has checked the lengths already (the layer
/// math) pays for no second check.
#[inline(always)]
pub(crate) fn check_lengths(form: Form, m: usize, n: usize, k: usize, a: usize, b: usize, c: usize) {
    let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
    // Sizes that overflow match no slice length (and must not wrap into one).
    assert!(ar.checked_mul(ac) == Some(a), "gemm {form:?}: A must be {ar}x{ac}, got {a} values");
    assert!(br.checked_mul(bc) == Some(b), "gemm {form:?}: B must be {br}x{bc}, got {b} values");
    assert!(m.checked_mul(n) == Some(c), "gemm {form:?}: C must be {m}x{n}, got {c} values");
}

/// The product on `path` (lengths checked), then `bias` (`n` values) added to
/// every row. Plain arguments rather than a [`Product`]: this is the path of
/// the tiniest products, where passing the struct through the calls cost about
/// 10% of a one-sample inference.
#[inline]
fn run<T: Scalar>(
    path: Path,
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
    bias: Option<&[T]>,
) {
    if path == Path::Simple {
        // With a bias (a layer's forward), one pass over C: the dot products
        // with AVX2, or an outer product (a layer of one input).
        #[cfg(target_arch = "x86_64")]
        if let Some(bias) = bias {
            if !accumulate && super::matvec::dot_products_with_bias(form, m, n, k, a, b, c, bias) {
                return;
            }
            if simple::is_outer(form, n, k) && m > 0 {
                let work = m.saturating_mul(n) / CHEAP;
                return compiled_for(
                    best_packed(),
                    work,
                    #[inline(always)]
                    || simple::outer(n, a, b, c, accumulate, Some(bias)),
                );
            }
        }
        run_simple(form, m, n, k, a, b, c, accumulate);
        if let Some(bias) = bias {
            add_row_to_each(c, bias);
        }
    } else {
        T::packed_gemm(path, form, m, n, k, a, b, c, accumulate, bias);
    }
}

/// The plain loops of [`Path::Simple`].
#[inline]
fn run_simple<T: Scalar>(form: Form, m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], accumulate: bool) {
    // The plain loops give the same bits for every vector width, so large
    // ones run compiled for the CPU's widest vectors.
    #[cfg(target_arch = "x86_64")]
    {
        let work = m.saturating_mul(n).saturating_mul(k) / CHEAP;
        if work < WIDE_MIN {
            simple::gemm_baseline(form, m, n, k, a, b, c, accumulate);
        } else {
            compiled_for(
                best_packed(),
                work,
                #[inline(always)]
                || simple::gemm(form, m, n, k, a, b, c, accumulate),
            );
        }
    }
    // Elsewhere there is no wider build to switch to: one call, so that the
    // loops are compiled once (a second copy costs ~1.2 KB on a Cortex-M).
    #[cfg(not(target_arch = "x86_64"))]
    simple::gemm_baseline(form, m, n, k, a, b, c, accumulate);
}

/// The packed product for one element type on an available packed path (the
/// per-type hook behind [`Scalar`]).
macro_rules! packed_gemm {
    ($name:ident, $elem:ty) => {
        pub(crate) fn $name(
            path: Path,
            form: Form,
            m: usize,
            n: usize,
            k: usize,
            a: &[$elem],
            b: &[$elem],
            c: &mut [$elem],
            accumulate: bool,
            bias: Option<&[$elem]>,
        ) {
            let product = Product::new(form, m, n, k, a, b, accumulate).with_bias(bias);
            match path {
                #[cfg(target_arch = "x86_64")]
                Path::Avx512 => match simd::Avx512::detect() {
                    Some(kernel) => blocked_gemm(kernel, product, c),
                    None => unreachable!("the avx512 path was checked to be available"),
                },
                #[cfg(target_arch = "x86_64")]
                Path::Avx2 => match simd::Avx2::detect() {
                    Some(kernel) => blocked_gemm(kernel, product, c),
                    None => unreachable!("the avx2 path was checked to be available"),
                },
                _ => blocked_gemm(portable::Portable, product, c),
            }
        }
    };
}

/// The blocked product with `kernel`: on row blocks of C in several threads
/// when `set_threads` allows and the product is large (`std`), else on this
/// thread.
#[inline]
fn blocked_gemm<T: Scalar, K: blocked::MicroKernel<T> + Send + Sync>(kernel: K, product: Product<'_, T>, c: &mut [T]) {
    #[cfg(feature = "std")]
    threads::gemm(kernel, product, c);
    #[cfg(not(feature = "std"))]
    blocked::gemm(kernel, product, c);
}

packed_gemm!(packed_gemm_f32, f32);
packed_gemm!(packed_gemm_f64, f64);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dispatch::{available_paths, compiled_for};
    use crate::kernels::reference;
    use alloc::vec::Vec;

    fn filled(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::Rng::new(seed);
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    #[test]
    fn every_form_matches_reference_on_awkward_shapes() {
        // Under Miri (which checks the SIMD kernels' raw-pointer accesses when
        // built with their target features) a few shapes that still have
        // partial tiles and several panels.
        let sizes: &[usize] = if cfg!(miri) { &[0, 1, 7, 13] } else { &[0, 1, 2, 3, 7, 8, 9, 16, 17] };
        for path in available_paths() {
            for form in [Form::AB, Form::AtB, Form::ABt] {
                for &m in sizes {
                    for &n in sizes {
                        for &k in sizes {
                            let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
                            let a = filled(ar * ac, 1);
                            let b = filled(br * bc, 2);
                            for accumulate in [false, true] {
                                let mut c = filled(m * n, 3);
                                let mut expected = c.clone();
                                gemm_with(path, form, m, n, k, &a, &b, &mut c, accumulate);
                                reference::gemm(form, m, n, k, &a, &b, &mut expected, accumulate);
                                for (x, y) in c.iter().zip(&expected) {
                                    assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "{path} {form:?} {m}x{n}x{k}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The small-shape loops compiled for each vector feature give the bits of
    /// the baseline build of the same loops.
    #[test]
    fn simple_loops_give_the_same_bits_on_every_path() {
        for form in [Form::AB, Form::AtB, Form::ABt] {
            for (m, n, k) in [(1, 32, 16), (5, 9, 33), (17, 1, 40), (3, 64, 1), (8, 8, 8)] {
                let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
                let (a, b) = (filled(ar * ac, 1), filled(br * bc, 2));
                let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
                let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
                let run = |path: Path| {
                    let (mut c, mut c32) = (filled(m * n, 3), alloc::vec![0.5f32; m * n]);
                    compiled_for(path, usize::MAX, || simple::gemm(form, m, n, k, &a, &b, &mut c, true));
                    compiled_for(path, usize::MAX, || simple::gemm(form, m, n, k, &a32, &b32, &mut c32, true));
                    let bits: Vec<u64> = c.iter().map(|v| v.to_bits()).collect();
                    let bits32: Vec<u32> = c32.iter().map(|v| v.to_bits()).collect();
                    (bits, bits32)
                };
                let baseline = run(Path::Portable);
                for path in available_paths() {
                    assert!(run(path) == baseline, "{path} {form:?} {m}x{n}x{k}");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "B must be")]
    fn wrong_length_panics_with_shape() {
        let mut c = [0.0; 4];
        gemm(Form::AB, 2, 2, 2, &[0.0; 4], &[0.0; 3], &mut c, false);
    }
}
