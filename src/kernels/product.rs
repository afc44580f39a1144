//! [`Product`]: the description of one product that the kernel paths share,
//! and the blocks of it that threads work on.

use super::Form;

/// One product `C (+)= op(A)·op(B)` as the kernels see it: the form,
/// the shape of C (`m x n`, contiguous) and the depth `k`, the operands with
/// the distances between their stored rows, whether C is added to, and a
/// row added to every row of C after the product (a layer's bias).
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
    /// `n` values added to every row of C once the product is in it
    /// (`c = (c + op(A)·op(B)) + bias`, the same roundings as adding the row
    /// afterwards), or none.
    pub(crate) bias: Option<&'a [T]>,
}

impl<'a, T> Product<'a, T> {
    /// The product of whole stored operands (lengths checked by the caller).
    pub(crate) fn new(form: Form, m: usize, n: usize, k: usize, a: &'a [T], b: &'a [T], accumulate: bool) -> Self {
        let lda = if form == Form::AtB { m } else { k };
        let ldb = if form == Form::ABt { k } else { n };
        Self { form, m, n, k, a, lda, b, ldb, accumulate, bias: None }
    }

    /// The same product with `bias` (`n` values, checked by the caller) added
    /// to every row of C at the end.
    pub(crate) fn with_bias(self, bias: Option<&'a [T]>) -> Self {
        Self { bias, ..self }
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
        let bias = self.bias.map(|bias| &bias[first..first + count]);
        Self { n: count, b, bias, ..self }
    }
}
