//! More threads for large products (`std` only, off by default).
//!
//! [`set_threads`] lets a large packed product split the rows of C into
//! contiguous blocks, one per thread, each computed by the same blocked loop
//! with its own packing space. An element of C depends only on its row of
//! `op(A)`, its column of `op(B)` and the depth blocks (see the module docs of
//! `blocked`), so every element is computed by the same operations in the same
//! order whatever the number of threads: the results are bitwise identical to
//! one thread's.
//!
//! Threads are started for each product with [`std::thread::scope`], which
//! costs tens of microseconds, so only products with at least
//! [`PARALLEL_MIN`] multiply-adds per thread are split: on small networks
//! every product stays on the calling thread. If the system cannot start a
//! thread, its block runs on the calling thread instead.

use core::sync::atomic::{AtomicUsize, Ordering};

use super::Form;
use super::blocked::{self, MicroKernel};
use crate::Scalar;

/// The most threads a product may use; 1 until [`set_threads`] is called.
static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Multiply-adds a product needs per thread before it is split: about 40 µs
/// of f32 work on one AVX-512 core, so that starting a thread (~20 µs) pays.
pub const PARALLEL_MIN: usize = 1 << 21;

/// The most threads a product uses, whatever [`set_threads`] says.
pub const MAX_THREADS: usize = 16;

/// A block has at least this many rows (a few tiles of every kernel).
const ROW_ALIGN: usize = 24;

/// Lets large products use up to `threads` threads (the calling one
/// included, at most [`MAX_THREADS`]); `0` and `1` mean one thread, the
/// default. Applies to the whole process, from the next product on.
///
/// A product is split into blocks of rows of C, one per thread, only when
/// each block gets at least [`PARALLEL_MIN`] multiply-adds (threads are
/// started per product, which costs tens of microseconds), so small networks
/// stay on the calling thread. Every element of C is computed by the same
/// operations in the same order as on one thread: results are bitwise
/// identical for every thread count. Starting threads allocates, so a
/// training step with large products is no longer allocation-free; if the
/// system cannot start a thread, its block runs on the calling thread.
///
/// ```
/// use tinymlp::kernels::{gemm, set_threads, threads, Form};
///
/// let (m, n, k) = (256, 256, 256);
/// let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 - 3.0).collect();
/// let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.5).collect();
/// let mut one = vec![0.0; m * n];
/// gemm(Form::AB, m, n, k, &a, &b, &mut one, false);
///
/// set_threads(2);
/// assert_eq!(threads(), 2);
/// let mut two = vec![0.0; m * n];
/// gemm(Form::AB, m, n, k, &a, &b, &mut two, false);
/// set_threads(1);
/// assert_eq!(one, two);
/// ```
pub fn set_threads(threads: usize) {
    THREADS.store(threads.clamp(1, MAX_THREADS), Ordering::Relaxed);
}

/// The most threads a large product may use (see [`set_threads`]).
#[must_use]
pub fn threads() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// The number of row blocks for an `m x n x k` product: at most `threads`,
/// with at least [`PARALLEL_MIN`] multiply-adds and [`ROW_ALIGN`] rows each.
fn blocks(threads: usize, m: usize, n: usize, k: usize) -> usize {
    let work = m.saturating_mul(n).saturating_mul(k);
    threads.min(work / PARALLEL_MIN).min(m / ROW_ALIGN).max(1)
}

/// [`blocked::gemm`] on row blocks of C, one per thread; `lda` as there.
pub(super) fn gemm<T: Scalar, K: MicroKernel<T> + Send + Sync>(
    kernel: K,
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) {
    let lda = match form {
        Form::AtB => m,
        Form::AB | Form::ABt => k,
    };
    let blocks = blocks(threads(), m, n, k);
    if blocks <= 1 {
        return blocked::gemm(kernel, form, m, n, k, a, lda, b, c, accumulate);
    }
    // Whole tiles per block, spread evenly (the bits do not depend on where
    // the blocks end, only the balance does).
    let rows = m.div_ceil(K::MR).div_ceil(blocks) * K::MR;
    // The blocks of C, with the first row of each, made before the scope so
    // that a block whose thread could not start is still here afterwards.
    let mut slots: [Option<(usize, &mut [T])>; MAX_THREADS] = [const { None }; MAX_THREADS];
    // At most `blocks` (so at most MAX_THREADS) chunks: rows ≥ m / blocks.
    debug_assert!(m.div_ceil(rows) <= blocks);
    for ((index, block), slot) in c.chunks_mut(rows * n).enumerate().zip(&mut slots) {
        *slot = Some((index * rows, block));
    }
    let run = |slot: &mut Option<(usize, &mut [T])>| {
        if let Some((first_row, block)) = slot.take() {
            // Row i of op(A) starts at a[i·lda] (AB, ABt) or at a[i] (AtB).
            let a_block = match form {
                Form::AtB => &a[first_row..],
                Form::AB | Form::ABt => &a[first_row * lda..],
            };
            blocked::gemm(kernel, form, block.len() / n, n, k, a_block, lda, b, block, accumulate);
        }
    };
    std::thread::scope(|scope| {
        let (first, others) = slots.split_at_mut(1);
        for slot in others.iter_mut().filter(|slot| slot.is_some()) {
            // A thread that fails to start drops its closure unrun: the block
            // stays in its slot for the loop below.
            let _ = std::thread::Builder::new().spawn_scoped(scope, move || run(slot));
        }
        run(&mut first[0]);
    });
    for slot in &mut slots {
        run(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_large_products_with_enough_rows_are_split() {
        // MNIST-shaped layer products split in two; the sine network's do not.
        assert_eq!(blocks(2, 128, 256, 784), 2);
        assert_eq!(blocks(2, 256, 784, 128), 2);
        assert_eq!(blocks(2, 200, 32, 32), 1);
        // One thread, too little work per thread, too few rows.
        assert_eq!(blocks(1, 1024, 1024, 1024), 1);
        assert_eq!(blocks(4, 128, 128, 256), 2);
        assert_eq!(blocks(16, 47, 100_000, 100_000), 1);
        assert_eq!(blocks(16, 1 << 12, 1 << 12, 1 << 12), 16);
        // No overflow for absurd shapes.
        assert_eq!(blocks(2, usize::MAX, usize::MAX, usize::MAX), 2);
    }
}
