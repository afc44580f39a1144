//! The products and element-wise loops that training needs, on row-major slices.
//!
//! Every matrix product in the crate goes through [`gemm()`]; the layer math and
//! `Matrix`'s product methods call nothing else. [`gemm()`] picks a [`Path`] by
//! shape: plain loops for tiny products, and for the rest a cache-blocked
//! product with a register-tiled micro-kernel, using the best SIMD instructions
//! of the CPU (AVX-512 or AVX2 + FMA on x86_64, chosen at run time with `std`,
//! at compile time without). [`gemm_with`] runs a path of your choice; tests
//! compare every path against the obvious triple loop, kept in the crate for
//! them.
//!
//! Nothing here allocates: packing buffers live on the stack (at most 32 KiB,
//! see [`Path`]), so the products work without `alloc` and a training step stays
//! allocation-free. With `std`, `set_threads` lets large products use more
//! threads (off by default; bitwise identical results; starting the threads
//! allocates).
//!
//! # Reproducibility
//! A path gives bitwise identical results for the same inputs on every call: no
//! result depends on the alignment of the slices, on threads or on timing. On
//! the packed paths an element of C does not even depend on the other rows or
//! columns (a batch of one gives the same bits as the same row in a batch of
//! 100), nor on the [`Form`], nor on the number of threads. The path [`gemm()`]
//! takes depends only on the form, the shape, the element type and the CPU.
//! Different paths round differently (see [`Path`]), so the same product can
//! differ in the last bits between two machines, or between a tiny and a large
//! product; pin a path with [`gemm_with`] if you need the same bits everywhere.
//!
//! # Where things are
//! - `gemm.rs`: the products ([`Form`], [`gemm()`], [`gemm_with`]) and the
//!   hand-off from a [`Path`] to its implementation.
//! - `dispatch.rs`: [`Path`], [`available_paths`], CPU detection, the shape
//!   thresholds that pick a path, and the `#[target_feature]` trampolines that
//!   compile a loop for the CPU's vector width.
//! - `elementwise.rs`: the activations' loops and the bias broadcasts, through
//!   those trampolines.
//! - `simple.rs`: the plain loops of [`Path::Simple`]; `matvec.rs`: its dot
//!   products (`A·Bᵀ`, `A·b`) with AVX2 on x86_64, several rows at a time,
//!   the same bits.
//! - `blocked.rs` (the packed, blocked loop nest), `portable.rs` and `simd.rs`
//!   (its micro-kernels), `product.rs` (one product's operands).
//! - `threads.rs`: more threads for large products (`std`).
//! - `reference.rs`: the naive triple loop the tests compare against.

// The products keep BLAS's argument list (form, m, n, k, A, B, C, accumulate):
// familiar to anyone who has called a GEMM, and free of wrapper types.
#![allow(clippy::too_many_arguments)]

mod blocked;
mod dispatch;
mod elementwise;
mod gemm;
#[cfg(target_arch = "x86_64")]
mod matvec;
mod portable;
mod product;
#[doc(hidden)]
pub mod reference;
#[cfg(target_arch = "x86_64")]
mod simd;
mod simple;
#[cfg(feature = "std")]
mod threads;

pub use dispatch::{Path, available_paths};
pub use gemm::{Form, gemm, gemm_with};
#[doc(hidden)]
pub use gemm::{gemm_bias, gemm_bias_with};
#[cfg(feature = "std")]
pub use threads::{set_threads, threads};

// Tuning knobs and test yardsticks that tests, benchmarks and fuzz targets
// outside the crate use: reachable, but not part of the documented API.
#[doc(hidden)]
pub use dispatch::path_for;
#[doc(hidden)]
pub use elementwise::{add_column_sums, add_row_to_each};
#[cfg(feature = "std")]
#[doc(hidden)]
pub use threads::{MAX_THREADS, PARALLEL_MIN};

pub(crate) use elementwise::{best_path, map, map_staged_on, scale_by, scale_by_and_sum, vectorised_heavy_on};
// The fused one-sample path of a static layer, off x86_64 (and in the tests).
#[cfg(any(not(target_arch = "x86_64"), test))]
pub(crate) use simple::{dot_rows_1, dot_rows_4};
// The activations' accuracy tests run the loops on every path.
#[cfg(test)]
pub(crate) use elementwise::{map_on, scale_by_and_sum_on, scale_by_on};
pub(crate) use gemm::{packed_gemm_f32, packed_gemm_f64};
