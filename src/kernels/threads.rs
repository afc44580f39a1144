//! More threads for large products (`std` only, off by default).
//!
//! [`set_threads`] lets a large packed product split C into blocks of rows or
//! of columns, one per thread, each computed by the same blocked loop with its
//! own packing space. An element of C depends only on its row of
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

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::blocked::{self, MicroKernel};
use super::product::Product;
use crate::Scalar;

/// The most threads a product may use; 1 until [`set_threads`] is called.
static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Multiply-adds a product needs per thread before it is split: about 0.3 ms
/// of f32 work on one AVX-512 core. Starting and joining a thread costs about
/// 50 µs here, and the second core starts cold: on a 2-vCPU machine two
/// threads only paid off from products of about 1 ms (measured with
/// `benches/train_step.rs -- --threads 2`).
///
/// Unstable: public for the crate's tests only, hidden from the documentation
/// and not covered by semver (it follows measurements).
#[doc(hidden)]
pub const PARALLEL_MIN: usize = 1 << 24;

/// The most threads a product uses, whatever [`set_threads`] says.
///
/// Unstable: public for the crate's tests only, hidden from the documentation
/// and not covered by semver.
#[doc(hidden)]
pub const MAX_THREADS: usize = 16;

/// A block has at least this many rows (a few tiles of every kernel).
const ROW_ALIGN: usize = 24;

/// Lets large products use up to `threads` threads (the calling one included,
/// at most 16); `0` and `1` mean one thread, the default. Applies to the whole
/// process, from the next product on.
///
/// A product is split into blocks of rows of C, one per thread, only when each
/// block gets at least 2²⁴ multiply-adds (threads are started per product,
/// which costs tens of microseconds), so small networks stay on the calling
/// thread. Every element of C is computed by the same
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

/// How a product is shared out: by blocks of rows of C (every thread packs
/// all of B, reads its rows of A in place and writes its rows of C) or by
/// blocks of columns of C (every thread packs only its columns of B, but
/// works in a copy of its block of C, which is not contiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// This many blocks of rows.
    Rows(usize),
    /// This many blocks of columns.
    Columns(usize),
}

/// A block has at least this many columns (a few strips of every kernel).
const COLUMN_MIN: usize = 32;

/// How an `m x n x k` product is split over at most `threads` threads, with
/// at least [`PARALLEL_MIN`] multiply-adds per thread; `None` for one thread.
/// By columns when copying C's blocks (`m·n`, twice when accumulating) costs
/// less than packing B once more per thread (`n·k`): short, deep products
/// such as a layer's forward pass on a batch of 128.
fn split(threads: usize, m: usize, n: usize, k: usize, accumulate: bool) -> Option<Split> {
    let work = m.saturating_mul(n).saturating_mul(k);
    let most = threads.min(work / PARALLEL_MIN);
    let rows = most.min(m / ROW_ALIGN);
    let columns = most.min(n / COLUMN_MIN);
    let copies = if accumulate { 2 } else { 1 };
    if columns >= 2 && (m.saturating_mul(copies) < k || rows < 2) {
        Some(Split::Columns(columns))
    } else if rows >= 2 {
        Some(Split::Rows(rows))
    } else {
        None
    }
}

/// [`blocked::gemm`] on blocks of C, one per thread, when [`set_threads`]
/// allows and the product is large; on this thread otherwise.
pub(super) fn gemm<T: Scalar, K: MicroKernel<T> + Send + Sync>(kernel: K, product: Product<'_, T>, c: &mut [T]) {
    let Product { m, n, k, accumulate, .. } = product;
    match split(threads(), m, n, k, accumulate) {
        None => blocked::gemm(kernel, product, c),
        Some(Split::Rows(blocks)) => by_rows(kernel, product, c, blocks),
        Some(Split::Columns(blocks)) => by_columns(kernel, product, c, blocks),
    }
}

/// [`Split::Rows`]: each thread writes its rows of C in place.
fn by_rows<T: Scalar, K: MicroKernel<T> + Send + Sync>(kernel: K, product: Product<'_, T>, c: &mut [T], blocks: usize) {
    let (m, n) = (product.m, product.n);
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
            blocked::gemm(kernel, product.rows(first_row, block.len() / n), block);
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

/// [`Split::Columns`]: each thread computes its block of columns of C in a
/// copy (holding C's values when accumulating, so that every element sees the
/// same additions in the same order as in place), which is then copied back.
fn by_columns<T: Scalar, K: MicroKernel<T> + Send + Sync>(
    kernel: K,
    product: Product<'_, T>,
    c: &mut [T],
    blocks: usize,
) {
    let (m, n) = (product.m, product.n);
    let width = n.div_ceil(K::NR).div_ceil(blocks) * K::NR;
    let count = n.div_ceil(width);
    debug_assert!(count <= blocks);
    let span = |index: usize| (index * width, width.min(n - index * width));
    let c_in: &[T] = c;
    let compute = |index: usize| -> Vec<T> {
        let (j0, cols) = span(index);
        let mut block = Vec::with_capacity(m * cols);
        if product.accumulate {
            for row in c_in.chunks_exact(n) {
                block.extend_from_slice(&row[j0..j0 + cols]);
            }
        } else {
            block.resize(m * cols, T::zero());
        }
        blocked::gemm(kernel, product.columns(j0, cols), &mut block);
        block
    };
    let mut results: [Option<Vec<T>>; MAX_THREADS] = [const { None }; MAX_THREADS];
    std::thread::scope(|scope| {
        let compute = &compute;
        let mut handles: [Option<std::thread::ScopedJoinHandle<'_, Vec<T>>>; MAX_THREADS] =
            [const { None }; MAX_THREADS];
        for (index, handle) in handles.iter_mut().enumerate().take(count).skip(1) {
            *handle = std::thread::Builder::new().spawn_scoped(scope, move || compute(index)).ok();
        }
        results[0] = Some(compute(0));
        for (index, handle) in handles.iter_mut().enumerate().take(count).skip(1) {
            results[index] = Some(match handle.take() {
                Some(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // The thread did not start: compute the block here.
                None => compute(index),
            });
        }
    });
    for (index, block) in results.iter().enumerate().take(count) {
        let (j0, cols) = span(index);
        if let Some(block) = block {
            for (c_row, block_row) in c.chunks_exact_mut(n).zip(block.chunks_exact(cols)) {
                c_row[j0..j0 + cols].copy_from_slice(block_row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_large_products_are_split_and_the_cheaper_way() {
        // Short and deep: by columns; as deep as tall when accumulating: by rows.
        assert_eq!(split(2, 256, 1024, 1024, false), Some(Split::Columns(2)));
        assert_eq!(split(2, 1024, 1024, 256, true), Some(Split::Rows(2)));
        assert_eq!(split(2, 1024, 1024, 1024, true), Some(Split::Rows(2)));
        // The MNIST-shaped layer products (batch 128) and the sine network's
        // stay on one thread, as does everything with one thread.
        assert_eq!(split(2, 128, 256, 784, false), None);
        assert_eq!(split(2, 200, 32, 32, false), None);
        assert_eq!(split(1, 1024, 1024, 1024, false), None);
        assert_eq!(split(4, 512, 512, 512, false), Some(Split::Rows(4)));
        // Too few rows for a row split: by columns; too few of both: none.
        assert_eq!(split(16, 47, 100_000, 100_000, true), Some(Split::Columns(16)));
        assert_eq!(split(16, 47, 40, 1 << 40, false), None);
        assert_eq!(split(16, 1 << 12, 1 << 12, 1 << 12, true), Some(Split::Rows(16)));
        // No overflow for absurd shapes.
        assert_eq!(split(2, usize::MAX, usize::MAX, usize::MAX, false), Some(Split::Rows(2)));
    }
}
