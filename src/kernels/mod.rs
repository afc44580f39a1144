//! The products and element-wise loops that training needs, on row-major slices.
//!
//! Every matrix product in the crate goes through [`gemm`]; the layer math and
//! [`Matrix`](crate::Matrix)'s product methods call nothing else. That keeps one
//! place to replace with faster code. [`mod@reference`] holds the obvious triple
//! loop that tests compare against.

// The products keep BLAS's argument list (form, m, n, k, A, B, C, accumulate):
// familiar to anyone who has called a GEMM, and free of wrapper types.
#![allow(clippy::too_many_arguments)]

pub mod reference;

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
    if !accumulate {
        c.fill(T::zero());
    }
    match form {
        Form::AB => {
            for (c_row, a_row) in c.chunks_exact_mut(n.max(1)).zip(a.chunks_exact(k.max(1))).take(m) {
                for (&a_ip, b_row) in a_row.iter().zip(b.chunks_exact(n.max(1))) {
                    axpy(c_row, a_ip, b_row);
                }
            }
        }
        Form::AtB => {
            for (a_row, b_row) in a.chunks_exact(m.max(1)).zip(b.chunks_exact(n.max(1))).take(k) {
                for (&a_pi, c_row) in a_row.iter().zip(c.chunks_exact_mut(n.max(1))) {
                    axpy(c_row, a_pi, b_row);
                }
            }
        }
        Form::ABt => {
            if k == 0 {
                return;
            }
            for (c_row, a_row) in c.chunks_exact_mut(n.max(1)).zip(a.chunks_exact(k)).take(m) {
                for (c_ij, b_row) in c_row.iter_mut().zip(b.chunks_exact(k)) {
                    *c_ij = *c_ij + dot(a_row, b_row);
                }
            }
        }
    }
}

pub(crate) fn check_lengths(form: Form, m: usize, n: usize, k: usize, a: usize, b: usize, c: usize) {
    let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
    assert_eq!(a, ar * ac, "gemm {form:?}: A must be {ar}x{ac}");
    assert_eq!(b, br * bc, "gemm {form:?}: B must be {br}x{bc}");
    assert_eq!(c, m * n, "gemm {form:?}: C must be {m}x{n}");
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
    for m_row in matrix.chunks_exact_mut(row.len()) {
        for (m, &r) in m_row.iter_mut().zip(row) {
            *m = *m + r;
        }
    }
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
    for m_row in matrix.chunks_exact(sums.len()) {
        for (s, &m) in sums.iter_mut().zip(m_row) {
            *s = *s + m;
        }
    }
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
        let sizes = [0usize, 1, 2, 3, 7, 8, 9, 16, 17];
        for form in [Form::AB, Form::AtB, Form::ABt] {
            for &m in &sizes {
                for &n in &sizes {
                    for &k in &sizes {
                        let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
                        let a = filled(ar * ac, 1);
                        let b = filled(br * bc, 2);
                        for accumulate in [false, true] {
                            let mut c = filled(m * n, 3);
                            let mut expected = c.clone();
                            gemm(form, m, n, k, &a, &b, &mut c, accumulate);
                            reference::gemm(form, m, n, k, &a, &b, &mut expected, accumulate);
                            for (x, y) in c.iter().zip(&expected) {
                                assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "{form:?} {m}x{n}x{k}");
                            }
                        }
                    }
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
