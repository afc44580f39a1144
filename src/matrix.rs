//! [`Matrix`]: a dense, row-major, heap-backed matrix.

use alloc::vec::Vec;
use core::fmt;
use core::ops::{Index, IndexMut};

use crate::kernels::{self, Form};
use crate::{Error, Result, Scalar};

/// A dense `rows x cols` matrix stored row-major in one contiguous `Vec`.
///
/// In networks a batch is a matrix whose rows are samples.
///
/// ```
/// use tinymlp::Matrix;
///
/// let a = Matrix::from_rows(&[[1.0, 2.0], [3.0, 4.0]])?;
/// let b = Matrix::from_fn(2, 1, |i, _| (i + 1) as f64);
/// let c = a.matmul(&b)?;
/// assert_eq!(c.as_slice(), &[5.0, 11.0]);
/// assert_eq!(a[(1, 0)], 3.0);
/// assert_eq!(a.transpose().row(0), &[1.0, 3.0]);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Matrix<T> {
    rows: usize,
    cols: usize,
    data: Vec<T>,
}

/// `rows · cols`, or a panic that names the shape if it overflows.
fn element_count(rows: usize, cols: usize) -> usize {
    rows.checked_mul(cols).unwrap_or_else(|| panic!("a {rows}x{cols} matrix has more elements than usize can count"))
}

impl<T: Scalar> Matrix<T> {
    /// A `rows x cols` matrix of zeros.
    ///
    /// # Panics
    /// If `rows · cols` overflows `usize` (or, like `Vec`, if the allocation
    /// fails). [`Matrix::from_vec`] is the fallible form.
    #[must_use]
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, data: alloc::vec![T::zero(); element_count(rows, cols)] }
    }

    /// A `rows x cols` matrix whose element `(i, j)` is `f(i, j)`.
    ///
    /// # Panics
    /// As [`Matrix::zeros`].
    #[must_use]
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(element_count(rows, cols));
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Self { rows, cols, data }
    }

    /// Wraps row-major `data` as a `rows x cols` matrix.
    ///
    /// # Errors
    /// [`Error::DataLength`] if `data.len() != rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::DataLength { rows, cols, len: data.len() });
        }
        Ok(Self { rows, cols, data })
    }

    /// Builds a matrix from nested rows (arrays, slices or vectors).
    ///
    /// ```
    /// let m = tinymlp::Matrix::from_rows(&[vec![1.0f32, 2.0, 3.0]])?;
    /// assert_eq!(m.shape(), (1, 3));
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RaggedRows`] if the rows differ in length.
    pub fn from_rows<R: AsRef<[T]>>(rows: &[R]) -> Result<Self> {
        let cols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, row) in rows.iter().enumerate() {
            let row = row.as_ref();
            if row.len() != cols {
                return Err(Error::RaggedRows { row: i, expected: cols, len: row.len() });
            }
            data.extend_from_slice(row);
        }
        Ok(Self { rows: rows.len(), cols, data })
    }

    /// A one-column matrix holding `values` (a batch of scalar samples).
    #[must_use]
    pub fn column(values: &[T]) -> Self {
        Self { rows: values.len(), cols: 1, data: values.to_vec() }
    }

    /// Number of rows.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    #[must_use]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True if the matrix has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// All elements, row-major.
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// All elements, row-major, mutable.
    #[must_use]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The row-major storage, consuming the matrix.
    #[must_use]
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Row `i` as a slice.
    ///
    /// # Panics
    /// Panics if `i >= self.rows()`.
    #[must_use]
    pub fn row(&self, i: usize) -> &[T] {
        assert!(i < self.rows, "row {i} of a matrix with {} rows", self.rows);
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i` as a mutable slice.
    ///
    /// # Panics
    /// Panics if `i >= self.rows()`.
    #[must_use]
    pub fn row_mut(&mut self, i: usize) -> &mut [T] {
        assert!(i < self.rows, "row {i} of a matrix with {} rows", self.rows);
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Iterates over the rows.
    pub fn iter_rows(&self) -> impl ExactSizeIterator<Item = &[T]> + '_ {
        // chunks_exact(0) panics; a zero-column matrix still has `rows` empty rows.
        (0..self.rows).map(move |i| &self.data[i * self.cols..(i + 1) * self.cols])
    }

    /// Element `(i, j)`, or `None` when out of range.
    #[must_use]
    pub fn get(&self, i: usize, j: usize) -> Option<T> {
        (i < self.rows && j < self.cols).then(|| self.data[i * self.cols + j])
    }

    /// The transpose, as a new matrix.
    #[must_use]
    pub fn transpose(&self) -> Self {
        Self::from_fn(self.cols, self.rows, |i, j| self.data[j * self.cols + i])
    }

    /// The product `self · rhs`.
    ///
    /// # Errors
    /// [`Error::ProductShapes`] if `self.cols() != rhs.rows()`.
    pub fn matmul(&self, rhs: &Self) -> Result<Self> {
        self.product(rhs, Form::AB)
    }

    /// The product `selfᵀ · rhs`, without forming the transpose.
    ///
    /// # Errors
    /// [`Error::ProductShapes`] if `self.rows() != rhs.rows()`.
    pub fn t_matmul(&self, rhs: &Self) -> Result<Self> {
        self.product(rhs, Form::AtB)
    }

    /// The product `self · rhsᵀ`, without forming the transpose.
    ///
    /// # Errors
    /// [`Error::ProductShapes`] if `self.cols() != rhs.cols()`.
    pub fn matmul_t(&self, rhs: &Self) -> Result<Self> {
        self.product(rhs, Form::ABt)
    }

    /// `self += a · b`.
    ///
    /// # Errors
    /// [`Error::ProductShapes`] if the shapes do not fit; `self` is unchanged then.
    pub fn add_matmul(&mut self, a: &Self, b: &Self) -> Result<()> {
        self.product_into(a, b, Form::AB, true)
    }

    /// `self += aᵀ · b`.
    ///
    /// # Errors
    /// [`Error::ProductShapes`] if the shapes do not fit; `self` is unchanged then.
    pub fn add_t_matmul(&mut self, a: &Self, b: &Self) -> Result<()> {
        self.product_into(a, b, Form::AtB, true)
    }

    /// `self += a · bᵀ`.
    ///
    /// # Errors
    /// [`Error::ProductShapes`] if the shapes do not fit; `self` is unchanged then.
    pub fn add_matmul_t(&mut self, a: &Self, b: &Self) -> Result<()> {
        self.product_into(a, b, Form::ABt, true)
    }

    fn product(&self, rhs: &Self, form: Form) -> Result<Self> {
        let (m, n, _) = product_dims(form, self, rhs)?;
        let mut out = Self::zeros(m, n);
        out.product_into(self, rhs, form, false)?;
        Ok(out)
    }

    fn product_into(&mut self, a: &Self, b: &Self, form: Form, accumulate: bool) -> Result<()> {
        let (m, n, k) = product_dims(form, a, b)?;
        if self.shape() != (m, n) {
            return Err(Error::ProductShapes { form, left: a.shape(), right: b.shape(), output: Some(self.shape()) });
        }
        kernels::gemm(form, m, n, k, &a.data, &b.data, &mut self.data, accumulate);
        Ok(())
    }

    /// Re-shapes to `rows x cols`, reusing the allocation when it is big enough.
    /// The contents are unspecified afterwards (callers overwrite them).
    pub(crate) fn reshape_for(&mut self, rows: usize, cols: usize) {
        self.rows = rows;
        self.cols = cols;
        self.data.resize(rows * cols, T::zero());
    }
}

/// `(m, n, k)` of `op(a)·op(b)`, or the mismatch.
fn product_dims<T>(form: Form, a: &Matrix<T>, b: &Matrix<T>) -> Result<(usize, usize, usize)> {
    let (m, k, b_inner, n) = match form {
        Form::AB => (a.rows, a.cols, b.rows, b.cols),
        Form::AtB => (a.cols, a.rows, b.rows, b.cols),
        Form::ABt => (a.rows, a.cols, b.cols, b.rows),
    };
    if k != b_inner {
        return Err(Error::ProductShapes { form, left: (a.rows, a.cols), right: (b.rows, b.cols), output: None });
    }
    Ok((m, n, k))
}

impl<T> Index<(usize, usize)> for Matrix<T> {
    type Output = T;
    /// # Panics
    /// Panics if `(i, j)` is out of range.
    fn index(&self, (i, j): (usize, usize)) -> &T {
        assert!(i < self.rows && j < self.cols, "index ({i}, {j}) out of a {}x{} matrix", self.rows, self.cols);
        &self.data[i * self.cols + j]
    }
}

impl<T> IndexMut<(usize, usize)> for Matrix<T> {
    /// # Panics
    /// Panics if `(i, j)` is out of range.
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        assert!(i < self.rows && j < self.cols, "index ({i}, {j}) out of a {}x{} matrix", self.rows, self.cols);
        &mut self.data[i * self.cols + j]
    }
}

impl<T: fmt::Debug> fmt::Debug for Matrix<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matrix {}x{} ", self.rows, self.cols)?;
        let mut list = f.debug_list();
        for i in 0..self.rows {
            list.entry(&&self.data[i * self.cols..(i + 1) * self.cols]);
        }
        list.finish()
    }
}

impl<T: Scalar> Default for Matrix<T> {
    fn default() -> Self {
        Self::zeros(0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn constructors_and_accessors() {
        let m = Matrix::from_vec(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(m.shape(), (2, 3));
        assert_eq!(m.row(1), &[4.0, 5.0, 6.0]);
        assert_eq!(m.get(1, 2), Some(6.0));
        assert_eq!(m.get(2, 0), None);
        assert_eq!(m.iter_rows().count(), 2);
        let t = m.transpose();
        assert_eq!(t.shape(), (3, 2));
        assert_eq!(t.as_slice(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).unwrap(), m);
        assert_eq!(
            Matrix::from_rows(&[vec![1.0], vec![1.0, 2.0]]).unwrap_err(),
            Error::RaggedRows { row: 1, expected: 1, len: 2 }
        );
        assert_eq!(Matrix::<f32>::zeros(0, 4).iter_rows().count(), 0);
        assert_eq!(Matrix::<f32>::zeros(3, 0).iter_rows().count(), 3);
    }

    #[test]
    fn products_agree_with_transposes() {
        let a = Matrix::from_fn(3, 4, |i, j| (i * 4 + j) as f64 * 0.5 - 2.0);
        let b = Matrix::from_fn(4, 2, |i, j| (i as f64) - (j as f64) * 1.5);
        let ab = a.matmul(&b).unwrap();
        assert_eq!(a.transpose().t_matmul(&b).unwrap(), ab);
        assert_eq!(a.matmul_t(&b.transpose()).unwrap(), ab);
        let mut acc = ab.clone();
        acc.add_matmul(&a, &b).unwrap();
        assert_eq!(acc.as_slice(), ab.as_slice().iter().map(|x| 2.0 * x).collect::<Vec<_>>().as_slice());
        acc.add_t_matmul(&a.transpose(), &b).unwrap();
        acc.add_matmul_t(&a, &b.transpose()).unwrap();
        assert_eq!(acc.as_slice(), ab.as_slice().iter().map(|x| 4.0 * x).collect::<Vec<_>>().as_slice());
    }

    #[test]
    fn product_shape_errors_leave_output_untouched() {
        let a = Matrix::<f64>::zeros(2, 3);
        let b = Matrix::<f64>::zeros(2, 3);
        let err = a.matmul(&b).unwrap_err();
        assert_eq!(err, Error::ProductShapes { form: Form::AB, left: (2, 3), right: (2, 3), output: None });
        let mut c = Matrix::from_fn(2, 2, |_, _| 7.0);
        assert!(c.add_matmul(&a, &b.transpose()).is_ok());
        let mut c = Matrix::from_fn(3, 3, |_, _| 7.0);
        let err = c.add_matmul(&a, &b.transpose()).unwrap_err();
        assert_eq!(err, Error::ProductShapes { form: Form::AB, left: (2, 3), right: (3, 2), output: Some((3, 3)) });
        assert!(c.as_slice().iter().all(|&x| x == 7.0));
    }

    #[test]
    fn product_shape_errors_name_both_operands_and_the_form() {
        let message = |result: Result<Matrix<f64>>| result.unwrap_err().to_string();
        let (a, b) = (Matrix::<f64>::zeros(2, 3), Matrix::<f64>::zeros(2, 3));
        assert_eq!(
            message(a.matmul(&b)),
            "matrix product A·B: left is 2x3, right is 2x3; the right needs 3 rows (the left's columns)"
        );
        assert_eq!(
            message(a.t_matmul(&Matrix::zeros(3, 4))),
            "matrix product Aᵀ·B: left is 2x3, right is 3x4; the right needs 2 rows (the left's rows)"
        );
        assert_eq!(
            message(a.matmul_t(&Matrix::zeros(4, 2))),
            "matrix product A·Bᵀ: left is 2x3, right is 4x2; the right needs 3 columns (the left's columns)"
        );
        // Operands that fit, into an output of another shape: the shape it needs.
        let mut out = Matrix::<f64>::zeros(5, 5);
        let into = |out: &mut Matrix<f64>, form| match form {
            Form::AB => out.add_matmul(&a, &Matrix::zeros(3, 4)),
            Form::AtB => out.add_t_matmul(&a, &Matrix::zeros(2, 4)),
            Form::ABt => out.add_matmul_t(&a, &Matrix::zeros(4, 3)),
        };
        for (form, needs) in [(Form::AB, "2x4"), (Form::AtB, "3x4"), (Form::ABt, "2x4")] {
            let text = into(&mut out, form).unwrap_err().to_string();
            assert!(text.ends_with(&alloc::format!(", so the output must be {needs}, got 5x5")), "{text}");
            assert!(text.contains("left is 2x3"), "{text}");
        }
        // The operands are checked first: both wrong names the operands.
        let err = out.add_matmul(&a, &b).unwrap_err();
        assert_eq!(err, Error::ProductShapes { form: Form::AB, left: (2, 3), right: (2, 3), output: None });
    }
}
