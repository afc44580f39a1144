//! The products and element-wise loops that training needs, on row-major slices.
//!
//! Every matrix product in the crate goes through [`gemm`]; the layer math and
//! [`Matrix`](crate::Matrix)'s product methods call nothing else. [`gemm`] picks
//! a [`Path`] by shape ([`path_for`]): plain loops for tiny products, and for
//! the rest a cache-blocked product with a register-tiled micro-kernel, using
//! the best SIMD instructions of the CPU (AVX-512 or AVX2 + FMA on x86_64,
//! chosen at run time with `std`, at compile time without). [`gemm_with`] runs
//! a path of your choice; [`mod@reference`] holds the obvious triple loop that
//! tests compare against.
//!
//! Nothing here allocates: packing buffers live on the stack (at most 64 KiB,
//! see [`Path`]), so the products work without `alloc` and a training step stays
//! allocation-free. With `std`, [`set_threads`] lets large products use more
//! threads (off by default; bitwise identical results; starting the threads
//! allocates).
//!
//! # Reproducibility
//! A path gives bitwise identical results for the same inputs on every call: no
//! result depends on the alignment of the slices, on threads or on timing. On
//! the packed paths an element of C does not even depend on the other rows or
//! columns (a batch of one gives the same bits as the same row in a batch of
//! 100), nor on the [`Form`], nor on the number of threads. The path [`gemm`]
//! takes depends only on the form, the shape, the element type and the CPU.
//! Different paths round differently (see [`Path`]), so the same product can
//! differ in the last bits between two machines, or between a tiny and a large
//! product; pin a path with [`gemm_with`] if you need the same bits everywhere.

// The products keep BLAS's argument list (form, m, n, k, A, B, C, accumulate):
// familiar to anyone who has called a GEMM, and free of wrapper types.
#![allow(clippy::too_many_arguments)]

mod blocked;
mod portable;
mod product;
pub mod reference;
#[cfg(target_arch = "x86_64")]
mod simd;
mod simple;
#[cfg(feature = "std")]
mod threads;

use core::fmt;
use core::ops::Mul;

use crate::Scalar;
use product::Product;
#[cfg(feature = "std")]
pub use threads::{MAX_THREADS, PARALLEL_MIN, set_threads, threads};

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

/// An implementation of [`gemm`]. [`available_paths`] lists the ones this CPU
/// can run; [`gemm_with`] runs one.
///
/// Rounding: [`Simple`](Path::Simple) and [`Portable`](Path::Portable) round
/// every multiply and every add, in a fixed order, and give the same bits on
/// every target. [`Avx2`](Path::Avx2) and [`Avx512`](Path::Avx512) use fused
/// multiply-adds (one rounding each) over the same depth blocks and give the
/// same bits as each other. Every path is within the usual `γ(k)·Σₚ|aᵢₚ·bₚⱼ|`
/// bound of the exact product, `γ(k) = k·u/(1 - k·u)` (the tests check it).
///
/// The packed paths pack a `KC x NR` panel of `op(B)` at a time (it stays in
/// L1) and read `op(A)` in place, `MR` rows at a time; depths are split into
/// equal blocks of at most `KC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Path {
    /// Plain loops over the stored rows (`axpy`s, or dot products for `A·Bᵀ`):
    /// no packing, no set-up; the fastest for tiny products. Available
    /// everywhere.
    Simple,
    /// Packed and blocked, with a plain-Rust 4 x 8 micro-kernel (`MR x NR`)
    /// that compilers vectorise, `KC` = 128. Available everywhere; at most
    /// 16 KiB of packing space.
    Portable,
    /// Packed and blocked, with AVX2 + FMA micro-kernels: 6 x 16 for f32,
    /// 6 x 8 for f64, `KC` = 192. x86_64 only; at most 64 KiB of packing space.
    Avx2,
    /// Packed and blocked, with AVX-512F micro-kernels: 12 x 32 for f32,
    /// 12 x 16 for f64, `KC` = 192. x86_64 only; at most 64 KiB of packing
    /// space.
    Avx512,
}

impl Path {
    /// Every path, in order of preference for large products (last is best).
    const ALL: [Path; 4] = [Path::Simple, Path::Portable, Path::Avx2, Path::Avx512];

    /// Whether this CPU can run the path. With the `std` feature the CPU is
    /// asked at run time; without it, the target features the crate was
    /// compiled for decide (e.g. `-C target-cpu=native`).
    #[must_use]
    pub fn is_available(self) -> bool {
        match self {
            Path::Simple | Path::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => simd::has_avx2_fma(),
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => simd::has_avx512(),
            #[cfg(not(target_arch = "x86_64"))]
            Path::Avx2 | Path::Avx512 => false,
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Path::Simple => "simple",
            Path::Portable => "portable",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
        })
    }
}

/// The paths this CPU can run, [`Path::Simple`] first, the best last.
///
/// ```
/// use tinymlp::kernels::{available_paths, Path};
///
/// assert!(available_paths().any(|path| path == Path::Portable));
/// ```
pub fn available_paths() -> impl Iterator<Item = Path> {
    Path::ALL.into_iter().filter(|path| path.is_available())
}

/// The best packed path of this CPU, detected once.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
fn best_packed() -> Path {
    use core::sync::atomic::{AtomicU8, Ordering};
    // 0: not yet detected; otherwise 1 + the index in `Path::ALL`. Racing
    // first calls all store the same value.
    static BEST: AtomicU8 = AtomicU8::new(0);
    match BEST.load(Ordering::Relaxed) {
        0 => {
            let best = if simd::has_avx512() {
                Path::Avx512
            } else if simd::has_avx2_fma() {
                Path::Avx2
            } else {
                Path::Portable
            };
            let index = Path::ALL.iter().position(|&path| path == best).unwrap_or(1);
            BEST.store(index as u8 + 1, Ordering::Relaxed);
            best
        }
        code => Path::ALL[usize::from(code - 1)],
    }
}

/// The best packed path the crate was compiled for.
#[cfg(not(all(target_arch = "x86_64", feature = "std")))]
fn best_packed() -> Path {
    if cfg!(all(target_arch = "x86_64", target_feature = "avx512f")) {
        Path::Avx512
    } else if cfg!(all(target_arch = "x86_64", target_feature = "avx2", target_feature = "fma")) {
        Path::Avx2
    } else {
        Path::Portable
    }
}

/// The path [`gemm`] takes for `form` with an `m x n` result, inner dimension
/// `k` and element type `T`.
///
/// [`Path::Simple`] where the plain loops are faster than packing: tiny
/// products (at most 2048 multiply-adds, at most 4 rows or a single column),
/// shallow and narrow ones (`k <= 4` and `n <= 8`), and the forms whose loops
/// run along `k` when C has few elements (`A·Bᵀ` with `n <= 2` or
/// `m·n <= 96`, `Aᵀ·B` with `m·n <= 64`). Otherwise the best packed path of
/// the CPU, except that [`Path::Avx2`] is taken over [`Path::Avx512`] for
/// products no wider than one AVX-512 vector (16 f32, 8 f64) or at most 6 rows
/// high: its smaller tile wastes less, and the two give the same bits. On CPUs
/// with only the portable kernel, products stay on [`Path::Simple`] until they
/// are large (2¹⁸ multiply-adds and at least 16 in every dimension). The
/// thresholds were measured on an AVX-512 CPU (`benches/gemm.rs`).
///
/// ```
/// use tinymlp::kernels::{path_for, Form, Path};
///
/// assert_eq!(path_for::<f32>(Form::ABt, 2, 4, 1), Path::Simple);
/// assert_ne!(path_for::<f64>(Form::AB, 512, 512, 512), Path::Simple);
/// ```
#[must_use]
pub fn path_for<T: Scalar>(form: Form, m: usize, n: usize, k: usize) -> Path {
    let work = m.saturating_mul(n).saturating_mul(k);
    let outputs = m.saturating_mul(n);
    let simple = work <= 2048
        || m <= 4
        || n == 1
        || (k <= 4 && n <= 8)
        || match form {
            Form::ABt => n <= 2 || outputs <= 96,
            Form::AtB => outputs <= 64,
            Form::AB => false,
        };
    if simple {
        return Path::Simple;
    }
    let vector_lanes = 64 / core::mem::size_of::<T>();
    match best_packed() {
        Path::Avx512 if (n <= vector_lanes || m <= 6) && Path::Avx2.is_available() => Path::Avx2,
        Path::Portable if work < 1 << 18 || m.min(n).min(k) < 16 => Path::Simple,
        best => best,
    }
}

/// General matrix product on row-major slices: `C = op(A)·op(B)`, or
/// `C += op(A)·op(B)` when `accumulate` is true.
///
/// The path is [`path_for`]`::<T>(form, m, n, k)`. Without `accumulate`, C is
/// only written, never read.
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
pub fn gemm<T: Scalar>(form: Form, m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], accumulate: bool) {
    check_lengths(form, m, n, k, a.len(), b.len(), c.len());
    run(path_for::<T>(form, m, n, k), form, m, n, k, a, b, c, accumulate);
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
/// Panics if the path is not available on this CPU (see [`available_paths`]),
/// or if a slice's length does not equal its shape's size.
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
    run(path, form, m, n, k, a, b, c, accumulate);
}

/// The product on `path` (lengths checked). Plain arguments rather than a
/// [`Product`]: this is the path of the tiniest products, where passing the
/// struct through the calls cost about 10% of a one-sample inference.
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
) {
    match path {
        // The plain loops give the same bits for every vector width.
        Path::Simple => {
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
        packed => T::packed_gemm(packed, form, m, n, k, a, b, c, accumulate),
    }
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
        ) {
            let product = Product::new(form, m, n, k, a, b, accumulate);
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
/// when [`set_threads`] allows and the product is large (`std`), else on this
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

pub(crate) fn check_lengths(form: Form, m: usize, n: usize, k: usize, a: usize, b: usize, c: usize) {
    let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
    // Sizes that overflow match no slice length (and must not wrap into one).
    assert!(ar.checked_mul(ac) == Some(a), "gemm {form:?}: A must be {ar}x{ac}, got {a} values");
    assert!(br.checked_mul(bc) == Some(b), "gemm {form:?}: B must be {br}x{bc}, got {b} values");
    assert!(m.checked_mul(n) == Some(c), "gemm {form:?}: C must be {m}x{n}, got {c} values");
}

/// `y[i] = f(x[i])`, with the loop compiled for the best vector feature of this
/// CPU (the path of the packed products), so that a straight-line `f` (the
/// built-in activations) runs up to 8 f64 or 16 f32 elements per instruction
/// with AVX-512. Every path gives the same bits: see [`map_on`].
///
/// # Panics
/// If the lengths differ.
#[inline]
pub(crate) fn map<T: Copy>(x: &[T], y: &mut [T], f: impl Fn(T) -> T) {
    map_on(best_packed(), x, y, f);
}

/// [`map`] on a given path: the loop runs through [`compiled_for`], so all
/// paths give the same bits.
///
/// # Panics
/// If the lengths differ or `path` is not available on this CPU.
#[inline]
pub(crate) fn map_on<T: Copy>(path: Path, x: &[T], y: &mut [T], f: impl Fn(T) -> T) {
    assert_eq!(x.len(), y.len(), "forward_slice: input and output lengths differ");
    compiled_for(
        path,
        x.len(),
        #[inline(always)]
        || map_loop(x, y, f),
    );
}

/// `grad[i] = grad[i] · f(x[i], y[i])` on the best path, as [`map`].
///
/// # Panics
/// If the lengths differ.
#[inline]
pub(crate) fn scale_by<T: Copy + Mul<Output = T>>(x: &[T], y: &[T], grad: &mut [T], f: impl Fn(T, T) -> T) {
    scale_by_on(best_packed(), x, y, grad, f);
}

/// [`scale_by`] on a given path, as [`map_on`].
///
/// # Panics
/// If the lengths differ or `path` is not available on this CPU.
#[inline]
pub(crate) fn scale_by_on<T: Copy + Mul<Output = T>>(
    path: Path,
    x: &[T],
    y: &[T],
    grad: &mut [T],
    f: impl Fn(T, T) -> T,
) {
    assert!(x.len() == grad.len() && y.len() == grad.len(), "backward_slice: lengths differ");
    compiled_for(
        path,
        x.len(),
        #[inline(always)]
        || scale_by_loop(x, y, grad, f),
    );
}

/// Runs `body` compiled for the best vector feature of this CPU (see
/// [`compiled_for`]), for element-wise loops of `work` cheap operations (an
/// addition each) whose results do not depend on the vector width.
#[inline(always)]
fn vectorised<R>(work: usize, body: impl FnOnce() -> R) -> R {
    compiled_for(best_packed(), work / CHEAP, body)
}

/// How many element operations as cheap as an addition weigh as much as one
/// activation (tens of instructions) in [`compiled_for`]'s threshold.
const CHEAP: usize = 16;

/// Below this many elements (activations, or [`CHEAP`] additions each) a loop
/// runs as compiled for the baseline: the call through a `#[target_feature]`
/// wrapper would cost more than wider vectors save. Same bits either way.
const WIDE_MIN: usize = 16;

/// Runs `body` compiled for `path`'s vector feature where `body` is an
/// `#[inline(always)]` closure: the AVX-512 and AVX2 paths through their
/// `#[target_feature]` wrappers, every other path (and work of fewer than
/// [`WIDE_MIN`] elements) as it is. Only for code whose results do not depend
/// on the vector width (the same operations in the same order whatever the
/// lane count).
///
/// # Panics
/// If `path` is not available on this CPU.
#[inline(always)]
fn compiled_for<R>(path: Path, work: usize, body: impl FnOnce() -> R) -> R {
    if work < WIDE_MIN {
        return body();
    }
    match path {
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => simd::Avx512::detect().expect("the avx512 path is not available on this CPU").run(body),
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => simd::Avx2::detect().expect("the avx2 path is not available on this CPU").run(body),
        _ => body(),
    }
}

/// The loop of [`map`]: inputs and outputs are separate slices, so it needs no
/// aliasing checks, and the optimiser picks the vector width and unrolling.
#[inline(always)]
pub(crate) fn map_loop<T: Copy>(x: &[T], y: &mut [T], f: impl Fn(T) -> T) {
    for (y_i, &x_i) in y.iter_mut().zip(x) {
        *y_i = f(x_i);
    }
}

/// The loop of [`scale_by`].
#[inline(always)]
pub(crate) fn scale_by_loop<T: Copy + Mul<Output = T>>(x: &[T], y: &[T], grad: &mut [T], f: impl Fn(T, T) -> T) {
    for ((g, &x_i), &y_i) in grad.iter_mut().zip(x).zip(y) {
        *g = *g * f(x_i, y_i);
    }
}

/// Adds `row` to every row of the row-major `rows x row.len()` matrix `matrix`.
///
/// # Panics
/// Panics if `matrix.len()` is not a multiple of `row.len()`.
pub fn add_row_to_each<T: Scalar>(matrix: &mut [T], row: &[T]) {
    if row.is_empty() {
        assert!(matrix.is_empty(), "add_row_to_each: empty row for a non-empty matrix");
        return;
    }
    assert_eq!(matrix.len() % row.len(), 0, "add_row_to_each: matrix width must equal the row's length");
    vectorised(
        matrix.len(),
        #[inline(always)]
        || {
            for m_row in matrix.chunks_exact_mut(row.len()) {
                for (m, &r) in m_row.iter_mut().zip(row) {
                    *m = *m + r;
                }
            }
        },
    );
}

/// Adds the column sums of the row-major matrix `matrix` (width `sums.len()`) to `sums`.
///
/// # Panics
/// Panics if `matrix.len()` is not a multiple of `sums.len()`.
pub fn add_column_sums<T: Scalar>(sums: &mut [T], matrix: &[T]) {
    if sums.is_empty() {
        assert!(matrix.is_empty(), "add_column_sums: no columns for a non-empty matrix");
        return;
    }
    assert_eq!(matrix.len() % sums.len(), 0, "add_column_sums: matrix width must equal sums' length");
    vectorised(
        matrix.len(),
        #[inline(always)]
        || {
            for m_row in matrix.chunks_exact(sums.len()) {
                for (s, &m) in sums.iter_mut().zip(m_row) {
                    *s = *s + m;
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn broadcast_and_column_sums() {
        let mut m = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        add_row_to_each(&mut m, &[10.0, 20.0, 30.0]);
        assert_eq!(m, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
        let mut sums = [1.0f32, 1.0, 1.0];
        add_column_sums(&mut sums, &m);
        assert_eq!(sums, [26.0, 48.0, 70.0]);
    }

    #[test]
    #[should_panic(expected = "B must be")]
    fn wrong_length_panics_with_shape() {
        let mut c = [0.0; 4];
        gemm(Form::AB, 2, 2, 2, &[0.0; 4], &[0.0; 3], &mut c, false);
    }
}
