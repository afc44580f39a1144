//! The naive triple-loop product, kept as the yardstick for faster kernels.
//!
//! It is written for obviousness, not speed: one multiply-add per element access
//! through an index function. Tests (and fuzz targets) compare every optimised
//! path against it.
//!
//! Unstable: public for the crate's tests and fuzz targets only, hidden from
//! the documentation and not covered by semver.

use super::Form;
use super::gemm::check_lengths;
use crate::Scalar;

/// `C (+)= op(A)·op(B)` by the definition; same contract as [`gemm()`](super::gemm()).
///
/// ```
/// use tinymlp::kernels::{Form, reference};
///
/// let a = [1.0, 2.0, 3.0]; // 1x3
/// let mut c = [0.0];
/// reference::gemm(Form::ABt, 1, 1, 3, &a, &a, &mut c, false);
/// assert_eq!(c, [14.0]);
/// ```
///
/// # Panics
/// Panics if a slice's length does not equal its shape's size.
pub fn gemm<T: Scalar>(form: Form, m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], accumulate: bool) {
    check_lengths(form, m, n, k, a.len(), b.len(), c.len());
    let a_at = |i: usize, p: usize| match form {
        Form::AtB => a[p * m + i],
        Form::AB | Form::ABt => a[i * k + p],
    };
    let b_at = |p: usize, j: usize| match form {
        Form::ABt => b[j * k + p],
        Form::AB | Form::AtB => b[p * n + j],
    };
    for i in 0..m {
        for j in 0..n {
            let mut sum = T::zero();
            for p in 0..k {
                sum = sum + a_at(i, p) * b_at(p, j);
            }
            let c_ij = &mut c[i * n + j];
            *c_ij = if accumulate { *c_ij + sum } else { sum };
        }
    }
}
