//! Element-wise loops: the activations' forward and backward loops ([`map`],
//! [`scale_by`]) and the bias broadcasts of a layer ([`add_row_to_each`],
//! [`add_column_sums`]). Each runs compiled for the CPU's widest vectors
//! through the trampolines of the dispatch module; the loops do the same
//! operations in the same order at every width, so every path gives the same
//! bits.

use core::ops::Mul;

use super::dispatch::{Path, best_packed, compiled_for, vectorised};
use crate::Scalar;

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

/// `y[i] = last(second(u), v, x[i])` with `(u, v) = first(x[i])`, compiled
/// for `path` as [`map_on`] (every path gives the same bits): for a long
/// straight-line `f` cut into three stages. Each stage runs over a block of
/// elements (small enough to stay in L1, with `v` kept in a block-sized
/// array) before the next, so the CPU keeps more elements in flight than with
/// the whole chain in one loop body (on x86_64 and aarch64; elsewhere one
/// loop, the same bits).
///
/// # Panics
/// If the lengths differ or `path` is not available on this CPU.
#[inline]
pub(crate) fn map_staged_on<T: Copy>(
    path: Path,
    x: &[T],
    y: &mut [T],
    first: impl Fn(T) -> (T, T),
    second: impl Fn(T) -> T,
    last: impl Fn(T, T, T) -> T,
) {
    /// Elements per block: 4 KiB of inputs and outputs at f64.
    const BLOCK: usize = 256;
    /// Below this many elements, one loop of the whole chain.
    const SHORT: usize = 64;
    assert_eq!(x.len(), y.len(), "forward_slice: input and output lengths differ");
    let Some(&x0) = x.first() else { return };
    compiled_for(
        path,
        x.len(),
        #[inline(always)]
        || {
            // Staging pays on out-of-order cores with wide vectors; elsewhere
            // (microcontrollers) it would only cost loop overhead and a block
            // of stack.
            let staged = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));
            if !staged || x.len() < SHORT {
                // Too few elements for the chains to limit the loop (or no
                // staging): one pass, without the stages' three loop overheads.
                return map_loop(x, y, |x_i| {
                    let (u, v) = first(x_i);
                    last(second(u), v, x_i)
                });
            }
            let mut aux = [x0; BLOCK];
            for (y, x) in y.chunks_mut(BLOCK).zip(x.chunks(BLOCK)) {
                for ((y_i, aux_i), &x_i) in y.iter_mut().zip(aux.iter_mut()).zip(x) {
                    (*y_i, *aux_i) = first(x_i);
                }
                for y_i in y.iter_mut() {
                    *y_i = second(*y_i);
                }
                for ((y_i, &aux_i), &x_i) in y.iter_mut().zip(aux.iter()).zip(x) {
                    *y_i = last(*y_i, aux_i, x_i);
                }
            }
        },
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

/// `grad[i] = grad[i] · f(x[i], y[i])` and then `sums[j] += grad[r][j]` for
/// each row `r` of `grad` (rows of `sums.len()` values), in one pass, on the
/// best path: the bits of [`scale_by`] followed by [`add_column_sums`] (the
/// same operations in the same order).
///
/// # Panics
/// If the lengths differ or `grad` is not made of rows of `sums.len()`.
#[inline]
pub(crate) fn scale_by_and_sum<T: Scalar>(x: &[T], y: &[T], grad: &mut [T], sums: &mut [T], f: impl Fn(T, T) -> T) {
    scale_by_and_sum_on(best_packed(), x, y, grad, sums, f);
}

/// [`scale_by_and_sum`] on a given path, as [`map_on`].
///
/// # Panics
/// As [`scale_by_and_sum`], or if `path` is not available on this CPU.
#[inline]
pub(crate) fn scale_by_and_sum_on<T: Scalar>(
    path: Path,
    x: &[T],
    y: &[T],
    grad: &mut [T],
    sums: &mut [T],
    f: impl Fn(T, T) -> T,
) {
    assert!(x.len() == grad.len() && y.len() == grad.len(), "backward_slice: lengths differ");
    let width = sums.len();
    if width == 0 {
        assert!(grad.is_empty(), "add_column_sums: no columns for a non-empty matrix");
        return;
    }
    assert_eq!(grad.len() % width, 0, "add_column_sums: matrix width must equal sums' length");
    compiled_for(
        path,
        x.len(),
        #[inline(always)]
        || {
            let rows = grad.chunks_exact_mut(width).zip(x.chunks_exact(width)).zip(y.chunks_exact(width));
            for ((g_row, x_row), y_row) in rows {
                for (((g, s), &x_i), &y_i) in g_row.iter_mut().zip(sums.iter_mut()).zip(x_row).zip(y_row) {
                    *g = *g * f(x_i, y_i);
                    *s = *s + *g;
                }
            }
        },
    );
}

/// Runs `body`, a loop over `len` elements of tens of operations each (an
/// optimizer's update), compiled for `path`'s vector feature (the best
/// packed path of this CPU, for [`map`]'s loop) when `len` is large enough to
/// pay for the call. `body` must do the same operations in the same order
/// whatever the vector width (no fused multiply-adds), so that every path
/// gives the same bits.
///
/// # Panics
/// If `path` is not available on this CPU.
#[inline(always)]
pub(crate) fn vectorised_heavy_on<R>(path: Path, len: usize, body: impl FnOnce() -> R) -> R {
    compiled_for(path, len, body)
}

/// The path whose vector feature [`map`] and [`scale_by`] compile their loops
/// for: the best packed path of this CPU.
#[inline]
pub(crate) fn best_path() -> Path {
    best_packed()
}

/// The loop of [`map`]: inputs and outputs are separate slices, so it needs no
/// aliasing checks, and the optimiser picks the vector width and unrolling.
#[inline(always)]
fn map_loop<T: Copy>(x: &[T], y: &mut [T], f: impl Fn(T) -> T) {
    for (y_i, &x_i) in y.iter_mut().zip(x) {
        *y_i = f(x_i);
    }
}

/// The loop of [`scale_by`].
#[inline(always)]
fn scale_by_loop<T: Copy + Mul<Output = T>>(x: &[T], y: &[T], grad: &mut [T], f: impl Fn(T, T) -> T) {
    for ((g, &x_i), &y_i) in grad.iter_mut().zip(x).zip(y) {
        *g = *g * f(x_i, y_i);
    }
}

/// Adds `row` to every row of the row-major `rows x row.len()` matrix `matrix`
/// (a layer's bias).
///
/// Unstable: public for the crate's fuzz targets only, hidden from the
/// documentation and not covered by semver.
///
/// # Panics
/// Panics if `matrix.len()` is not a multiple of `row.len()`.
#[doc(hidden)]
#[inline]
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

/// Adds the column sums of the row-major matrix `matrix` (width `sums.len()`) to
/// `sums` (a layer's bias gradient).
///
/// Unstable: public for the crate's fuzz targets only, hidden from the
/// documentation and not covered by semver.
///
/// # Panics
/// Panics if `matrix.len()` is not a multiple of `sums.len()`.
#[doc(hidden)]
#[inline]
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

    #[test]
    fn broadcast_and_column_sums() {
        let mut m = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        add_row_to_each(&mut m, &[10.0, 20.0, 30.0]);
        assert_eq!(m, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
        let mut sums = [1.0f32, 1.0, 1.0];
        add_column_sums(&mut sums, &m);
        assert_eq!(sums, [26.0, 48.0, 70.0]);
    }
}
