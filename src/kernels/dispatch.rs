//! Which implementation runs: the [`Path`]s and which of them this CPU has,
//! the shape thresholds that pick one for [`gemm()`](super::gemm()), and the
//! `#[target_feature]` trampolines that compile a loop (a product's plain
//! loops, an activation's) for the CPU's widest vectors.
//!
//! The thresholds and the trampolines' cut-offs are machine-tuned: none of them
//! is public API.

use core::fmt;

use super::Form;
#[cfg(target_arch = "x86_64")]
use super::simd;
use crate::Scalar;

/// An implementation of [`gemm()`](super::gemm()). [`available_paths`] lists
/// the ones this CPU can run; [`gemm_with`](super::gemm_with) runs one.
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
    /// 6 x 8 for f64, `KC` = 192. x86_64 only; at most 16 KiB of packing space.
    Avx2,
    /// Packed and blocked, with AVX-512F micro-kernels: 12 x 32 for f32,
    /// 12 x 16 for f64, `KC` = 192. x86_64 only; at most 32 KiB of packing
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

/// The path [`gemm()`](super::gemm()) takes for `form` with an `m x n` result,
/// inner dimension `k` and element type `T`.
///
/// [`Path::Simple`] where the plain loops are faster than packing: tiny
/// products (at most 2048 multiply-adds, at most 4 rows or a single column),
/// outer products (`k = 1`: one rounded multiply per element on every path,
/// so the same bits as the packed paths but for the sign of a product that
/// underflows to zero),
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
/// Unstable: public for the crate's tests and benchmarks only, hidden from the
/// documentation and not covered by semver (the thresholds follow
/// measurements).
///
/// ```
/// use tinymlp::kernels::{path_for, Form, Path};
///
/// assert_eq!(path_for::<f32>(Form::ABt, 2, 4, 1), Path::Simple);
/// assert_ne!(path_for::<f64>(Form::AB, 512, 512, 512), Path::Simple);
/// ```
#[doc(hidden)]
#[must_use]
pub fn path_for<T: Scalar>(form: Form, m: usize, n: usize, k: usize) -> Path {
    let work = m.saturating_mul(n).saturating_mul(k);
    let outputs = m.saturating_mul(n);
    let simple = work <= 2048
        || m <= 4
        || n == 1
        || k == 1
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

/// The best packed path of this CPU, detected once.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
pub(super) fn best_packed() -> Path {
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
pub(super) fn best_packed() -> Path {
    if cfg!(all(target_arch = "x86_64", target_feature = "avx512f")) {
        Path::Avx512
    } else if cfg!(all(target_arch = "x86_64", target_feature = "avx2", target_feature = "fma")) {
        Path::Avx2
    } else {
        Path::Portable
    }
}

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
pub(super) fn compiled_for<R>(path: Path, work: usize, body: impl FnOnce() -> R) -> R {
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

/// Below this many elements (activations, or [`CHEAP`] additions each) a loop
/// runs as compiled for the baseline: the call through a `#[target_feature]`
/// wrapper would cost more than wider vectors save. Same bits either way.
pub(super) const WIDE_MIN: usize = 16;

/// Runs `body` compiled for the best vector feature of this CPU (see
/// [`compiled_for`]), for element-wise loops of `work` cheap operations (an
/// addition each) whose results do not depend on the vector width.
#[inline(always)]
pub(super) fn vectorised<R>(work: usize, body: impl FnOnce() -> R) -> R {
    compiled_for(best_packed(), work / CHEAP, body)
}

/// How many element operations as cheap as an addition weigh as much as one
/// activation (tens of instructions) in [`compiled_for`]'s threshold.
pub(super) const CHEAP: usize = 16;
