//! [`Product`]: the description of one product that the kernel paths share,
//! and the blocks of it that threads work on.

use super::Form;

/// One product `C (+)= op(A)·op(B)` as the kernels see it: the form,
/// the shape of C (`m x n`, contiguous) and the depth `k`, the operands with
/// the distances between their stored rows, and whether C is added to.
///
/// `lda` is `k` ([`Form::AB`], [`Form::ABt`]) or `m` ([`Form::AtB`]) and `ldb`
/// is `n` ([`Form::AB`], [`Form::AtB`]) or `k` ([`Form::ABt`]) for whole
/// operands, and more for a block of rows of `op(A)` or of columns of
/// `op(B)` inside them (the threads of [`super::threads`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Product<'a, T> {
    pub(crate) form: Form,
    pub(crate) m: usize,
    pub(crate) n: usize,
    pub(crate) k: usize,
    pub(crate) a: &'a [T],
    pub(crate) lda: usize,
    pub(crate) b: &'a [T],
    pub(crate) ldb: usize,
    pub(crate) accumulate: bool,
}

impl<'a, T> Product<'a, T> {
    /// The product of whole stored operands (lengths checked by the caller).
    pub(crate) fn new(form: Form, m: usize, n: usize, k: usize, a: &'a [T], b: &'a [T], accumulate: bool) -> Self {
        let lda = if form == Form::AtB { m } else { k };
        let ldb = if form == Form::ABt { k } else { n };
        Self { form, m, n, k, a, lda, b, ldb, accumulate }
    }

    /// The rows `first..first + count` of C: the same columns of `op(B)`.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn rows(self, first: usize, count: usize) -> Self {
        // Row i of op(A) starts at a[i·lda] (AB, ABt) or at a[i] (AtB).
        let a = if self.form == Form::AtB { &self.a[first..] } else { &self.a[first * self.lda..] };
        Self { m: count, a, ..self }
    }

    /// The columns `first..first + count` of C: the same rows of `op(A)`.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn columns(self, first: usize, count: usize) -> Self {
        // Column j of op(B) starts at b[j] (AB, AtB) or at b[j·ldb] (ABt).
        let b = if self.form == Form::ABt { &self.b[first * self.ldb..] } else { &self.b[first..] };
        Self { n: count, b, ..self }
    }
}
