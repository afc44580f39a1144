//! Inference that leaves the training cache alone: [`Mlp::try_predict`]
//! returns a new matrix, [`Mlp::try_predict_into`] writes into the caller's
//! matrix and reuses a [`PredictScratch`], so that after the first call at a
//! batch size it allocates nothing. Both run the same loop over the layers.

use alloc::vec::Vec;

use super::Mlp;
use crate::{Error, Layers, Matrix, Result, Scalar};

/// Reusable space for [`Mlp::predict_into`]: every layer's pre-activations
/// and the hidden layers' outputs of one batch. It grows to the largest batch
/// it has served and is never shrunk, so calls at that batch size or smaller
/// allocate nothing. One scratch may serve several networks of any widths.
///
/// ```
/// use tinymlp::{Act, DynMlp, Init, Matrix, PredictScratch, Rng};
///
/// let net = DynMlp::<f32>::from_widths(&[2, 8, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))?;
/// let (mut out, mut scratch) = (Matrix::zeros(1, 1), PredictScratch::new());
/// for x in [[0.0, 1.0], [0.5, -0.5]] {
///     net.try_predict_into(&Matrix::from_rows(&[x])?, &mut out, &mut scratch)?;
///     assert_eq!(out.shape(), (1, 1));
/// }
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PredictScratch<T> {
    values: Vec<T>,
}

impl<T> PredictScratch<T> {
    /// An empty scratch; the first [`Mlp::predict_into`] sizes it.
    #[must_use]
    pub const fn new() -> Self {
        Self { values: Vec::new() }
    }

    /// How many values it holds now (it never shrinks).
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether it holds nothing yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl<T: Scalar, L: Layers<T>> Mlp<T, L> {
    /// Inference without touching the training cache: the output for every row
    /// of `x`, in a new matrix. Allocates the result and a scratch buffer on
    /// every call; [`Mlp::try_predict_into`] reuses the caller's instead.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` does not have [`Mlp::inputs`] columns;
    /// [`Error::TooLarge`] if the scratch space for the batch would not fit in
    /// memory's address range.
    pub fn try_predict(&self, x: &Matrix<T>) -> Result<Matrix<T>> {
        let mut result = Matrix::zeros(0, 0);
        self.try_predict_into(x, &mut result, &mut PredictScratch::new())?;
        Ok(result)
    }

    /// Inference without touching the training cache; see [`Mlp::try_predict`].
    ///
    /// # Panics
    /// Where [`Mlp::try_predict`] returns an error.
    #[must_use]
    pub fn predict(&self, x: &Matrix<T>) -> Matrix<T> {
        self.try_predict(x).unwrap_or_else(|err| panic!("Mlp::predict: {err}"))
    }

    /// Inference into the caller's buffers: `out` becomes `x.rows() x
    /// outputs` and receives the output for every row of `x`, `scratch` holds
    /// the values in between. Neither is allocated anew when it is already
    /// big enough (`out`'s allocation is reused whatever its shape), so a
    /// serving loop that keeps both allocates nothing after its first call.
    /// The results are the same bits as [`Mlp::predict`] and
    /// [`Mlp::forward`]; the training cache is not touched.
    ///
    /// ```
    /// use tinymlp::{Linear, Matrix, Mlp, PredictScratch, Rng, Tanh};
    ///
    /// let mut rng = Rng::new(0);
    /// let net = Mlp::new((Linear::<f32, 3, 16, Tanh>::new(&mut rng), Linear::<f32, 16, 2, Tanh>::new(&mut rng)));
    /// let x = Matrix::from_rows(&[[0.1, 0.2, 0.3]])?;
    /// let (mut out, mut scratch) = (Matrix::zeros(1, 2), PredictScratch::new());
    /// net.try_predict_into(&x, &mut out, &mut scratch)?;
    /// assert_eq!(out, net.predict(&x));
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` does not have [`Mlp::inputs`] columns;
    /// [`Error::TooLarge`] if the scratch space for the batch would not fit in
    /// memory's address range. `out` and `scratch` are unchanged then.
    pub fn try_predict_into(&self, x: &Matrix<T>, out: &mut Matrix<T>, scratch: &mut PredictScratch<T>) -> Result<()> {
        if x.cols() != self.inputs() {
            return Err(Error::ShapeMismatch { op: "predict", expected: (x.rows(), self.inputs()), found: x.shape() });
        }
        // The scratch holds three `rows x widest` buffers: the
        // pre-activations, and two layers' outputs in turn.
        let (rows, depth) = (x.rows(), self.depth());
        let widest = (0..depth).map(|index| self.layers.layer(index).outputs()).max().unwrap_or(0);
        let size = rows.checked_mul(widest).filter(|size| size.checked_mul(3).is_some());
        let Some(size) = size else { return Err(Error::TooLarge { op: "predict", rows, cols: 3 * widest }) };
        if scratch.values.len() < 3 * size {
            scratch.values.resize(3 * size, T::zero());
        }
        out.reshape_for(rows, self.outputs());
        let (pre, rest) = scratch.values.split_at_mut(size);
        let (even, rest) = rest.split_at_mut(size);
        let odd = &mut rest[..size];
        for index in 0..depth {
            let layer = self.layers.layer(index);
            let (len, previous) = (rows * layer.outputs(), rows * layer.inputs());
            // Layer i reads layer i-1's output and writes into the other buffer.
            let (from, to): (&[T], &mut [T]) = match (index, index % 2) {
                (0, _) => (x.as_slice(), &mut *even),
                (_, 0) => (&odd[..previous], &mut *even),
                _ => (&even[..previous], &mut *odd),
            };
            let to = if index + 1 == depth { out.as_mut_slice() } else { &mut to[..len] };
            layer.forward_batch(from, &mut pre[..len], to);
        }
        Ok(())
    }

    /// Inference into the caller's buffers; see [`Mlp::try_predict_into`].
    ///
    /// # Panics
    /// Where [`Mlp::try_predict_into`] returns an error.
    pub fn predict_into(&self, x: &Matrix<T>, out: &mut Matrix<T>, scratch: &mut PredictScratch<T>) {
        if let Err(err) = self.try_predict_into(x, out, scratch) {
            panic!("Mlp::predict_into: {err}");
        }
    }
}
