//! The small-shape path ([`Path::Simple`](super::Path::Simple)): plain loops
//! over the stored rows, with no packing and no set-up cost.
//!
//! For tiny products (a handful of rows, or a width of a few elements) any
//! packing costs more than the multiply-adds, so these loops win. Every element
//! is computed with separate multiplies and adds in a fixed order (row `axpy`s,
//! or dot products with eight fixed partial sums), so the results are the same
//! bits on every target, whatever vector width the compiler picks.

use super::Form;
use crate::Scalar;

/// `C (+)= op(A)·op(B)`; lengths are checked by the caller.
pub(super) fn gemm<T: Scalar>(
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) {
    if !accumulate {
        c.fill(T::zero());
    }
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    // Degenerate shapes whose loop would run along a length-1 dimension are the
    // same memory read as another form with a long inner loop.
    match form {
        // C (m x 1) = A·b: one dot product per row, as A·Bᵀ with B = bᵀ (1 x k).
        Form::AB if n == 1 => loops(Form::ABt, m, 1, k, a, b, c),
        // C (m x 1) = Aᵀ·b is the row Cᵀ (1 x m) = bᵀ·A: axpys along m.
        Form::AtB if n == 1 => loops(Form::AB, 1, m, k, b, a, c),
        // C = a·bᵀ with columns a, b: an outer product, axpys along n.
        Form::ABt if k == 1 => loops(Form::AB, m, n, 1, a, b, c),
        _ => loops(form, m, n, k, a, b, c),
    }
}

/// `C += op(A)·op(B)` for non-empty shapes.
#[inline]
fn loops<T: Scalar>(form: Form, m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T]) {
    match form {
        Form::AB => {
            for (c_row, a_row) in c.chunks_exact_mut(n).zip(a.chunks_exact(k)) {
                for (&a_ip, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
                    axpy(c_row, a_ip, b_row);
                }
            }
        }
        Form::AtB => {
            for (a_row, b_row) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
                for (&a_pi, c_row) in a_row.iter().zip(c.chunks_exact_mut(n)) {
                    axpy(c_row, a_pi, b_row);
                }
            }
        }
        Form::ABt => {
            for (c_row, a_row) in c.chunks_exact_mut(n).zip(a.chunks_exact(k)) {
                for (c_ij, b_row) in c_row.iter_mut().zip(b.chunks_exact(k)) {
                    *c_ij = *c_ij + dot(a_row, b_row);
                }
            }
        }
    }
}

/// `y += alpha * x`, element by element.
#[inline]
fn axpy<T: Scalar>(y: &mut [T], alpha: T, x: &[T]) {
    for (y_i, &x_i) in y.iter_mut().zip(x) {
        *y_i = *y_i + alpha * x_i;
    }
}

/// Dot product with eight independent partial sums, so the compiler can keep
/// them in vector lanes.
#[inline]
fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    let mut partial = [T::zero(); 8];
    let a_chunks = a.chunks_exact(8);
    let b_chunks = b.chunks_exact(8);
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (ca, cb) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            partial[lane] = partial[lane] + ca[lane] * cb[lane];
        }
    }
    let mut sum = ((partial[0] + partial[4]) + (partial[1] + partial[5]))
        + ((partial[2] + partial[6]) + (partial[3] + partial[7]));
    for (&x, &y) in a_tail.iter().zip(b_tail) {
        sum = sum + x * y;
    }
    sum
}
