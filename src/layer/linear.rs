//! [`Linear`]: a dense layer whose widths are part of its type. A tuple of them
//! is an [`Mlp`](crate::Mlp)'s [`Layers`](crate::Layers) (see `chain.rs`), so
//! the compiler checks that each layer's input width is the previous layer's
//! output width.
//!
//! ```
//! use tinymlp::{Identity, Linear, Mlp, Rng, Tanh};
//!
//! let mut rng = Rng::new(0);
//! let net = Mlp::new((
//!     Linear::<f64, 1, 32, Tanh>::new(&mut rng),
//!     Linear::<f64, 32, 32, Tanh>::new(&mut rng),
//!     Linear::<f64, 32, 1, Identity>::new(&mut rng),
//! ));
//! assert_eq!(net.widths(), vec![1, 32, 32, 1]);
//! ```
//!
//! A layer with 8 outputs cannot feed a layer with 5 inputs:
//!
//! ```compile_fail,E0277
//! use tinymlp::{Linear, Mlp, Rng, Tanh};
//!
//! let mut rng = Rng::new(0);
//! let net = Mlp::new((
//!     Linear::<f64, 3, 8, Tanh>::new(&mut rng),
//!     Linear::<f64, 5, 2, Tanh>::new(&mut rng),
//! ));
//! ```

use crate::{Activation, Dense, Error, Identity, Init, LayerInit, Result, Rng, Scalar};

/// A dense layer with `IN` inputs and `OUT` outputs fixed at compile time,
/// followed by the activation `A`.
///
/// Parameters live on the heap (inside a [`Dense`]), so even a `Linear<f32,
/// 1024, 1024>` costs a few words of stack.
///
/// A width of zero does not compile:
///
/// ```compile_fail,E0080
/// use tinymlp::{Linear, Rng, Tanh};
///
/// let layer = Linear::<f64, 0, 3, Tanh>::new(&mut Rng::new(0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Linear<T, const IN: usize, const OUT: usize, A = Identity> {
    dense: Dense<T, A>,
}

impl<T: Scalar, const IN: usize, const OUT: usize, A: Activation<T> + Default> Linear<T, IN, OUT, A> {
    /// A layer initialised as `torch.nn.Linear` does ([`Init::TorchDefault`]).
    #[must_use]
    pub fn new(rng: &mut Rng) -> Self {
        Self::with(A::default(), Init::TorchDefault, rng)
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, A: Activation<T>> Linear<T, IN, OUT, A> {
    /// The number of inputs, `IN`.
    pub const INPUTS: usize = IN;
    /// The number of outputs, `OUT`.
    pub const OUTPUTS: usize = OUT;
    /// Weights plus biases: `OUT * IN + OUT`.
    pub const PARAMETERS: usize = OUT * IN + OUT;

    /// Evaluated by every constructor: a width of zero is a compile-time
    /// error, as is a layer too large to count its parameters.
    const VALID: () = assert!(
        IN > 0 && OUT > 0 && OUT.checked_mul(IN).is_some() && (OUT * IN).checked_add(OUT).is_some(),
        "a Linear layer needs at least one input and one output, and a parameter count that fits usize"
    );

    /// A layer with the given activation and initialiser.
    ///
    /// # Panics
    /// Panics if `init` would draw NaN or infinite values, naming the
    /// parameter (see [`LayerInit::check`]).
    #[must_use]
    pub fn with(activation: A, init: impl Into<LayerInit>, rng: &mut Rng) -> Self {
        let () = Self::VALID;
        Self { dense: Dense::new(IN, OUT, activation, init, rng) }
    }

    /// Wraps a [`Dense`] layer whose widths are `IN -> OUT`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] (as `(outputs, inputs)`) if the widths differ.
    pub fn from_dense(dense: Dense<T, A>) -> Result<Self> {
        let () = Self::VALID;
        if (dense.outputs(), dense.inputs()) != (OUT, IN) {
            return Err(Error::ShapeMismatch {
                op: "Linear::from_dense (outputs, inputs)",
                expected: (OUT, IN),
                found: (dense.outputs(), dense.inputs()),
            });
        }
        Ok(Self { dense })
    }

    /// The layer's parameters, gradients and activation.
    #[must_use]
    pub fn dense(&self) -> &Dense<T, A> {
        &self.dense
    }

    /// Mutable access to the parameters and gradients. The layer comes
    /// behind a trait object, which cannot be replaced by one of other widths:
    /// the widths stay `IN -> OUT`.
    #[must_use]
    pub fn dense_mut(&mut self) -> &mut Dense<T, dyn Activation<T> + '_> {
        &mut self.dense
    }

    /// Unwraps the runtime-shaped layer.
    #[must_use]
    pub fn into_dense(self) -> Dense<T, A> {
        self.dense
    }
}
