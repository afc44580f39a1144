//! [`DynMlp`]'s constructors: networks whose widths and activations are chosen
//! at run time.

use crate::{Activation, Dense, DynMlp, Error, LayerInit, Result, Rng, Scalar};

impl<T: Scalar, A: Activation<T> + Clone> DynMlp<T, A> {
    /// A network with the given widths (input first), `hidden` after every
    /// layer but the last and `output` after the last, initialised by `init`.
    /// ([`DynMlp::from_widths_with`] takes any activation per layer, without
    /// `Clone`.)
    ///
    /// ```
    /// use tinymlp::{Act, DynMlp, Init, Rng};
    ///
    /// let gain = Act::Sigmoid.torch_gain().unwrap();
    /// let net = DynMlp::<f32>::from_widths(&[1, 4, 4, 1], Act::Sigmoid, Act::Sigmoid,
    ///     Init::XavierUniform { gain }, &mut Rng::new(0))?;
    /// assert_eq!(net.parameter_count(), 8 + 20 + 5);
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`DynMlp::from_widths_with`].
    pub fn from_widths(
        widths: &[usize],
        hidden: A,
        output: A,
        init: impl Into<LayerInit>,
        rng: &mut Rng,
    ) -> Result<Self> {
        let last = widths.len().saturating_sub(2);
        Self::from_widths_with(widths, |i| if i == last { output.clone() } else { hidden.clone() }, init, rng)
    }
}

impl<T: Scalar, A: Activation<T>> DynMlp<T, A> {
    /// A network with the given widths (input first) whose layer `i` (from 0)
    /// gets the activation `activation(i)`, initialised by `init`. With
    /// `A = Box<dyn Activation<T>>` each layer can have an activation of its
    /// own type, e.g. a custom one in the hidden layers and a built-in at the
    /// output:
    ///
    /// ```
    /// use tinymlp::{Activation, DynMlp, Identity, Init, Rng, Scalar};
    ///
    /// /// x / (1 + |x|)
    /// struct Softsign;
    /// impl<T: Scalar> Activation<T> for Softsign {
    ///     fn value(&self, x: T) -> T { x / (T::one() + x.abs()) }
    ///     fn derivative(&self, x: T, _y: T) -> T { let d = T::one() + x.abs(); T::one() / (d * d) }
    /// }
    ///
    /// let net = DynMlp::<f64, Box<dyn Activation<f64>>>::from_widths_with(
    ///     &[2, 8, 8, 1],
    ///     |layer| if layer < 2 { Box::new(Softsign) } else { Box::new(Identity) },
    ///     Init::TorchDefault,
    ///     &mut Rng::new(0),
    /// )?;
    /// assert_eq!(net.widths(), [2, 8, 8, 1]);
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidWidths`] for fewer than two widths, or naming the first
    /// layer with a zero width or too many weights to address;
    /// [`Error::InvalidHyperParameter`] naming a parameter of `init` that is
    /// NaN or infinite, or whose weights or biases would be in `T` (see
    /// [`LayerInit::check`]). Nothing is drawn from `rng` then.
    pub fn from_widths_with(
        widths: &[usize],
        mut activation: impl FnMut(usize) -> A,
        init: impl Into<LayerInit>,
        rng: &mut Rng,
    ) -> Result<Self> {
        let init = init.into();
        if widths.len() < 2 {
            let reason = "give at least an input and an output width";
            return Err(Error::InvalidWidths { reason, layer: None, inputs: 0, outputs: 0 });
        }
        for (layer, pair) in widths.windows(2).enumerate() {
            let (inputs, outputs) = (pair[0], pair[1]);
            let reason = if inputs == 0 || outputs == 0 {
                "every width must be at least 1"
            } else if inputs.checked_mul(outputs).is_none_or(|n| n > isize::MAX as usize / 8) {
                "its weight count overflows memory"
            } else {
                continue;
            };
            return Err(Error::InvalidWidths { reason, layer: Some(layer), inputs, outputs });
        }
        // Before any draw, so that the caller's `rng` is untouched on error.
        for pair in widths.windows(2) {
            init.check::<T>(pair[0], pair[1])?;
        }
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, pair)| Dense::new(pair[0], pair[1], activation(i), init, rng))
            .collect();
        Self::try_new(layers)
    }
}
