//! Activation functions: the [`Activation`] trait, the built-ins, and [`Act`],
//! a run-time choice among the built-ins.
//!
//! The built-ins keep PyTorch's formulas but evaluate `exp`, `tanh` and `erf`
//! with branch-free kernels of their own, so that a layer's whole batch is one
//! vectorised pass; each type's documentation states its accuracy (a few ulp
//! of the libm evaluation), and the slice methods give bitwise the results of
//! the scalar ones.
//!
//! How to write your own: see [`Activation`].
//!
//! Where things are:
//! - `mod.rs`: the [`Activation`] trait;
//! - `act.rs`: [`Act`] and the ONE table of built-ins it is generated from
//!   (names, gains, Rust-source export, dispatch);
//! - `builtin.rs`: each built-in's struct and math;
//! - `fast/`: the vectorisable `exp`, `tanh` and `erf` kernels they use;
//! - `accuracy.rs` (tests): the ulp bounds, enforced against libm.

#[cfg(test)]
mod accuracy;
mod act;
mod builtin;
mod fast;

pub use act::Act;
// Every public item of `builtin.rs` is a built-in activation struct.
pub use builtin::*;

use crate::Scalar;

/// The key to [`Activation::builtin`]: a public type in a private module, so
/// that code outside the crate can neither name it (to override the method)
/// nor make one (to call it).
mod sealed {
    /// See the module docs.
    #[derive(Debug, Clone, Copy)]
    pub struct Token(pub(super) ());
}

/// An element-wise activation function and its derivative.
///
/// Layers call the slice methods once per layer and batch, so dispatch happens
/// once per layer, not per element; a type can override them with a faster loop.
///
/// # Writing your own
/// Implement [`Activation::value`] and [`Activation::derivative`]. The
/// derivative receives both the input `x` and the cached output `y = value(x)`,
/// so it can use whichever is cheaper (sigmoid's is `y(1 - y)`). If your
/// function has kinks (like ReLU at 0), also implement [`Activation::piece`] so
/// the [gradient checker](crate::gradcheck) can tell a kink from a bug.
///
/// ```
/// use tinymlp::{Activation, Scalar};
///
/// /// x / (1 + |x|), a cheap sigmoid-like squashing function.
/// struct Softsign;
///
/// impl<T: Scalar> Activation<T> for Softsign {
///     fn value(&self, x: T) -> T {
///         x / (T::one() + x.abs())
///     }
///     fn derivative(&self, x: T, _y: T) -> T {
///         let d = T::one() + x.abs();
///         T::one() / (d * d)
///     }
/// }
///
/// let report = tinymlp::gradcheck::check_activation(&Softsign, &[-3.0, -0.5, 0.25, 2.0]);
/// assert!(report.max_relative_error < 1e-7);
/// ```
///
/// An activation for one concrete type works the same way. In a `#![no_std]`
/// crate, `f32` has no `exp` or `tanh` methods of its own (they live in std);
/// [`tinymlp::Float`](crate::Float) (num-traits' `Float`, re-exported, backed
/// by libm without std) provides them, so the crate needs no num-traits
/// dependency of its own:
///
/// ```
/// use tinymlp::{Activation, Float};
///
/// /// Mish, x · tanh(softplus(x)), for f32 only.
/// struct Mish;
///
/// impl Activation<f32> for Mish {
///     fn value(&self, x: f32) -> f32 {
///         x * Float::tanh(Float::ln_1p(x.exp()))
///     }
///     fn derivative(&self, x: f32, _y: f32) -> f32 {
///         let t = Float::tanh(Float::ln_1p(x.exp()));
///         let sigmoid = 1.0 / (1.0 + Float::exp(-x));
///         t + x * sigmoid * (1.0 - t * t)
///     }
/// }
///
/// assert!((Mish.value(1.0) - 0.865_098_4).abs() < 1e-6);
/// assert!((Mish.derivative(1.0, 0.0) - 1.049_036_2).abs() < 1e-5);
/// ```
///
/// # Trait objects
/// See [`Activation`]: what works with `&dyn Activation<T>` and
/// `Box<dyn Activation<T>>`, and what needs `Clone` or `Default`.
///
/// # Adding a built-in
/// A new built-in touches three places here: its struct and its math (`impl
/// Activation`, with `is_builtin!()` in it) in `builtin.rs`; its row in the
/// table in `act.rs` (which makes its `Act` variant, name, gain, dispatch,
/// `From` impl, parsing and Rust-source export); and its reference formula
/// and bounds in `accuracy.rs` (whose checks already run over [`Act::ALL`];
/// an exact formula like ReLU's needs none). Outside this module, only the
/// crate root's re-export names the struct.
///
/// # Trait objects
/// The trait is object safe, and `&dyn Activation<T>` and
/// `Box<dyn Activation<T>>` are activations themselves, so one network can
/// mix custom and built-in functions: [`Dense::new`] and
/// [`Dense::from_parameters`] take any
/// activation, a `Vec` of such layers makes an [`Mlp`] with
/// [`Mlp::try_new`], and
/// [`Linear::with`] takes one for a fixed-width layer.
/// What copies or invents an activation needs more than the trait:
/// [`DynMlp::from_widths`] and
/// [`DynMlp::from_safetensors`] clone the
/// hidden activation into every hidden layer (`A: Clone`, which a
/// `Box<dyn Activation<T>>` is not), and
/// [`Linear::new`] builds one with `A: Default`.
/// [`DynMlp::from_widths_with`] asks for
/// each layer's activation and needs neither.
///
/// ```
/// use tinymlp::{Activation, Dense, Identity, Init, Mlp, Rng, Scalar, Tanh};
///
/// let mut rng = Rng::new(0);
/// let layers: Vec<Dense<f64, Box<dyn Activation<f64>>>> = vec![
///     Dense::new(2, 8, Box::new(Tanh), Init::TorchDefault, &mut rng),
///     Dense::new(8, 1, Box::new(Identity), Init::TorchDefault, &mut rng),
/// ];
/// let net = Mlp::try_new(layers)?;
/// assert_eq!(net.widths(), [2, 8, 1]);
/// # Ok::<(), tinymlp::Error>(())
/// ```
///
/// # Exported source
/// Only the built-ins (and [`Act`]) can be exported as Rust source: a custom
/// activation cannot claim to be one, even if it computes the same function.
///
/// ```compile_fail,E0050
/// use tinymlp::{Act, Activation};
///
/// struct NotTanh;
///
/// impl Activation<f64> for NotTanh {
///     fn value(&self, x: f64) -> f64 {
///         x
///     }
///     fn derivative(&self, _x: f64, _y: f64) -> f64 {
///         1.0
///     }
///     fn builtin(&self) -> Option<Act> {
///         Some(Act::Tanh)
///     }
/// }
/// ```
// The heap types named above exist only with `alloc`.
#[cfg_attr(
    feature = "alloc",
    doc = "[`Dense::from_parameters`]: crate::Dense::from_parameters\n[`Dense::new`]: crate::Dense::new\n[`DynMlp::from_safetensors`]: crate::DynMlp::from_safetensors\n[`DynMlp::from_widths_with`]: crate::DynMlp::from_widths_with\n[`DynMlp::from_widths`]: crate::DynMlp::from_widths\n[`Linear::new`]: crate::Linear::new\n[`Linear::with`]: crate::Linear::with\n[`Mlp::try_new`]: crate::Mlp::try_new\n[`Mlp`]: crate::Mlp"
)]
#[cfg_attr(
    not(feature = "alloc"),
    doc = "[`Dense::from_parameters`]: #trait-objects\n[`Dense::new`]: #trait-objects\n[`DynMlp::from_safetensors`]: #trait-objects\n[`DynMlp::from_widths_with`]: #trait-objects\n[`DynMlp::from_widths`]: #trait-objects\n[`Linear::new`]: #trait-objects\n[`Linear::with`]: #trait-objects\n[`Mlp::try_new`]: #trait-objects\n[`Mlp`]: #trait-objects"
)]
pub trait Activation<T: Scalar> {
    /// The function's value at `x`.
    fn value(&self, x: T) -> T;

    /// The derivative at `x`, where `y` is `self.value(x)` (cached from the
    /// forward pass, so the derivative may use either).
    fn derivative(&self, x: T, y: T) -> T;

    /// Index of the smooth piece that `x` falls in. Smooth functions keep the
    /// default (always 0); functions with kinks return a different index on each
    /// side (ReLU: 0 for `x <= 0`, 1 above) so that finite-difference checks can
    /// skip steps that straddle a kink.
    fn piece(&self, x: T) -> u32 {
        let _ = x;
        0
    }

    /// The built-in this is, if it is one: what `Mlp::to_rust_source` writes.
    /// Sealed (its argument's type cannot be named outside the crate), so a
    /// custom activation can never pass for a built-in and be exported as one.
    #[doc(hidden)]
    fn builtin(&self, _: sealed::Token) -> Option<Act> {
        None
    }

    /// The name a saved model file records for this activation, if it has
    /// one (the default: `None`).
    ///
    /// A custom activation that returns `Some(name)` is saved as
    /// `custom:{name}` by [`Mlp::to_safetensors`], and
    /// [`DynMlp::from_described_with`] asks the caller for the activation of
    /// that name when loading; one that keeps `None` is saved as `custom`, and
    /// such a file loads only with the activations given
    /// ([`DynMlp::from_safetensors`]). Choose a name that says which function
    /// and parameters it is (`"mish"`, `"softsign"`, `"swish_beta_1.5"`). The
    /// built-ins return their [`Act::name`]; files record them by their
    /// [`Act::spec`], with parameters.
    ///
    /// ```
    /// use tinymlp::{Activation, Scalar, Tanh};
    ///
    /// struct Softsign;
    /// impl<T: Scalar> Activation<T> for Softsign {
    ///     fn value(&self, x: T) -> T { x / (T::one() + x.abs()) }
    ///     fn derivative(&self, x: T, _y: T) -> T { let d = T::one() + x.abs(); T::one() / (d * d) }
    ///     fn name(&self) -> Option<&str> { Some("softsign") }
    /// }
    ///
    /// assert_eq!(Activation::<f32>::name(&Softsign), Some("softsign"));
    /// assert_eq!(Activation::<f32>::name(&Tanh), Some("tanh"));
    /// ```
    // The heap types named above exist only with `alloc`.
    #[cfg_attr(
        feature = "alloc",
        doc = "[`Mlp::to_safetensors`]: crate::Mlp::to_safetensors\n[`DynMlp::from_described_with`]: crate::DynMlp::from_described_with\n[`DynMlp::from_safetensors`]: crate::DynMlp::from_safetensors\n[`Act::spec`]: crate::Act::spec"
    )]
    #[cfg_attr(
        not(feature = "alloc"),
        doc = "[`Mlp::to_safetensors`]: #method.name\n[`DynMlp::from_described_with`]: #method.name\n[`DynMlp::from_safetensors`]: #method.name\n[`Act::spec`]: #method.name"
    )]
    fn name(&self) -> Option<&str> {
        None
    }

    /// `y[i] = value(x[i])` for every element. An override may be faster
    /// but must give the same bits as `value`: a static network's one-sample
    /// path off x86_64 calls `value` instead.
    ///
    /// # Panics
    /// Implementations may panic if the slices differ in length.
    fn forward_slice(&self, x: &[T], y: &mut [T]) {
        assert_eq!(x.len(), y.len(), "forward_slice: input and output lengths differ");
        for (y_i, &x_i) in y.iter_mut().zip(x) {
            *y_i = self.value(x_i);
        }
    }

    /// `grad[i] *= derivative(x[i], y[i])` for every element: turns the gradient
    /// with respect to the outputs into the gradient with respect to the inputs.
    ///
    /// # Panics
    /// Implementations may panic if the slices differ in length.
    fn backward_slice(&self, x: &[T], y: &[T], grad: &mut [T]) {
        assert!(x.len() == grad.len() && y.len() == grad.len(), "backward_slice: lengths differ");
        for ((g, &x_i), &y_i) in grad.iter_mut().zip(x).zip(y) {
            *g = *g * self.derivative(x_i, y_i);
        }
    }

    /// [`backward_slice`](Activation::backward_slice), then the column sums of
    /// `grad` (rows of `sums.len()` values) added to `sums`, row by row: a
    /// layer's bias gradient. The built-ins do both in one pass over `grad`;
    /// sealed, so every other activation runs the two passes.
    #[doc(hidden)]
    fn backward_slice_and_sums(&self, x: &[T], y: &[T], grad: &mut [T], sums: &mut [T], _: sealed::Token) {
        self.backward_slice(x, y, grad);
        crate::kernels::add_column_sums(sums, grad);
    }
}

impl<T: Scalar, A: Activation<T> + ?Sized> Activation<T> for &A {
    fn value(&self, x: T) -> T {
        (**self).value(x)
    }
    fn derivative(&self, x: T, y: T) -> T {
        (**self).derivative(x, y)
    }
    fn piece(&self, x: T) -> u32 {
        (**self).piece(x)
    }
    fn builtin(&self, token: sealed::Token) -> Option<Act> {
        (**self).builtin(token)
    }
    fn name(&self) -> Option<&str> {
        (**self).name()
    }
    fn forward_slice(&self, x: &[T], y: &mut [T]) {
        (**self).forward_slice(x, y);
    }
    fn backward_slice(&self, x: &[T], y: &[T], grad: &mut [T]) {
        (**self).backward_slice(x, y, grad);
    }
    fn backward_slice_and_sums(&self, x: &[T], y: &[T], grad: &mut [T], sums: &mut [T], token: sealed::Token) {
        (**self).backward_slice_and_sums(x, y, grad, sums, token);
    }
}

#[cfg(any(feature = "alloc", test))]
impl<T: Scalar, A: Activation<T> + ?Sized> Activation<T> for alloc::boxed::Box<A> {
    fn value(&self, x: T) -> T {
        (**self).value(x)
    }
    fn derivative(&self, x: T, y: T) -> T {
        (**self).derivative(x, y)
    }
    fn piece(&self, x: T) -> u32 {
        (**self).piece(x)
    }
    fn builtin(&self, token: sealed::Token) -> Option<Act> {
        (**self).builtin(token)
    }
    fn name(&self) -> Option<&str> {
        (**self).name()
    }
    fn forward_slice(&self, x: &[T], y: &mut [T]) {
        (**self).forward_slice(x, y);
    }
    fn backward_slice(&self, x: &[T], y: &[T], grad: &mut [T]) {
        (**self).backward_slice(x, y, grad);
    }
    fn backward_slice_and_sums(&self, x: &[T], y: &[T], grad: &mut [T], sums: &mut [T], token: sealed::Token) {
        (**self).backward_slice_and_sums(x, y, grad, sums, token);
    }
}

/// A built-in in a box, so that a network of boxed activations
/// (`DynMlp<T, Box<dyn Activation<T>>>`) can be loaded from a described file
/// with [`DynMlp::from_described_with`](crate::DynMlp::from_described_with).
#[cfg(feature = "alloc")]
impl<T: Scalar> From<Act> for alloc::boxed::Box<dyn Activation<T>> {
    fn from(act: Act) -> Self {
        alloc::boxed::Box::new(act)
    }
}

/// The built-in `activation` is, or `None` for a custom one.
#[cfg(any(feature = "alloc", test))]
pub(crate) fn builtin_of<T: Scalar, A: Activation<T> + ?Sized>(activation: &A) -> Option<Act> {
    activation.builtin(sealed::Token(()))
}

/// `grad[i] *= derivative(x[i], y[i])`, then the column sums of `grad` (rows
/// of `sums.len()`) added to `sums`: a layer's backward through its
/// activation and its bias gradient, in one pass for the built-ins (see
/// [`Activation::backward_slice_and_sums`]).
#[inline]
pub(crate) fn backward_and_sums<T: Scalar, A: Activation<T> + ?Sized>(
    activation: &A,
    x: &[T],
    y: &[T],
    grad: &mut [T],
    sums: &mut [T],
) {
    activation.backward_slice_and_sums(x, y, grad, sums, sealed::Token(()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dyn_and_boxed_activations_forward_slices() {
        let boxed: alloc::boxed::Box<dyn Activation<f64>> = alloc::boxed::Box::new(Tanh);
        let mut y = [0.0; 2];
        boxed.forward_slice(&[0.0, 1.0], &mut y);
        assert_eq!(y, [0.0, Tanh.value(1.0)]);
        assert!((y[1] - num_traits::Float::tanh(1.0)).abs() <= f64::EPSILON);
    }

    #[test]
    fn builtin_of_sees_through_references_and_boxes() {
        struct Custom;
        impl Activation<f64> for Custom {
            fn value(&self, x: f64) -> f64 {
                x
            }
            fn derivative(&self, _x: f64, _y: f64) -> f64 {
                1.0
            }
        }
        let leaky = LeakyRelu::new(0.3);
        assert_eq!(builtin_of::<f64, _>(&leaky), Some(Act::LeakyRelu(leaky)));
        assert_eq!(builtin_of::<f64, _>(&&Tanh), Some(Act::Tanh));
        assert_eq!(builtin_of::<f32, _>(&Act::Gelu), Some(Act::Gelu));
        let boxed: alloc::boxed::Box<dyn Activation<f64>> = alloc::boxed::Box::new(Sigmoid);
        assert_eq!(builtin_of(&boxed), Some(Act::Sigmoid));
        assert_eq!(builtin_of::<f64, dyn Activation<f64>>(&*boxed), Some(Act::Sigmoid));
        assert_eq!(builtin_of(&Custom), None);
        let boxed: alloc::boxed::Box<dyn Activation<f64>> = alloc::boxed::Box::new(Custom);
        assert_eq!(builtin_of(&boxed), None);
    }
}
