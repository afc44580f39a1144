//! Activation functions: the [`Activation`] trait, the built-ins, and [`Act`],
//! a run-time choice among the built-ins.
//!
//! The built-ins keep PyTorch's formulas but evaluate `exp`, `tanh` and `erf`
//! with branch-free kernels of their own, so that a layer's whole batch is one
//! vectorised pass; each type's documentation states its accuracy (a few ulp
//! of the libm evaluation), and the slice methods give bitwise the results of
//! the scalar ones.
//!
//! # Writing your own
//! Implement [`Activation::value`] and [`Activation::derivative`]. The
//! derivative receives both the input `x` and the cached output `y = value(x)`,
//! so it can use whichever is cheaper (sigmoid's is `y(1 - y)`). If your
//! function has kinks (like ReLU at 0), also implement [`Activation::piece`] so
//! the [gradient checker](crate::gradcheck) can tell a kink from a bug.
//!
//! ```
//! use tinymlp::{Activation, Scalar};
//!
//! /// x / (1 + |x|), a cheap sigmoid-like squashing function.
//! struct Softsign;
//!
//! impl<T: Scalar> Activation<T> for Softsign {
//!     fn value(&self, x: T) -> T {
//!         x / (T::one() + x.abs())
//!     }
//!     fn derivative(&self, x: T, _y: T) -> T {
//!         let d = T::one() + x.abs();
//!         T::one() / (d * d)
//!     }
//! }
//!
//! let report = tinymlp::gradcheck::check_activation(&Softsign, &[-3.0, -0.5, 0.25, 2.0]);
//! assert!(report.max_relative_error < 1e-7);
//! ```

#[cfg(test)]
mod accuracy;
mod builtin;
mod fast;

pub use builtin::{Elu, Gelu, Identity, LeakyRelu, Relu, Sigmoid, Silu, Softplus, Tanh};

use crate::{Error, Result, Scalar};
use core::fmt;
use core::str::FromStr;

/// An element-wise activation function and its derivative.
///
/// Layers call the slice methods once per layer and batch, so dispatch happens
/// once per layer, not per element; a type can override them with a faster loop.
/// The trait is object safe: `&dyn Activation<f32>` and `Box<dyn Activation<f64>>`
/// work wherever an activation is expected.
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

    /// The built-in this is, if it is one: lets a network be exported as Rust
    /// source (see `Mlp::to_rust_source`). Custom activations keep the default.
    fn builtin(&self) -> Option<Act> {
        None
    }

    /// `y[i] = value(x[i])` for every element.
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
    fn builtin(&self) -> Option<Act> {
        (**self).builtin()
    }
    fn forward_slice(&self, x: &[T], y: &mut [T]) {
        (**self).forward_slice(x, y);
    }
    fn backward_slice(&self, x: &[T], y: &[T], grad: &mut [T]) {
        (**self).backward_slice(x, y, grad);
    }
}

#[cfg(feature = "alloc")]
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
    fn builtin(&self) -> Option<Act> {
        (**self).builtin()
    }
    fn forward_slice(&self, x: &[T], y: &mut [T]) {
        (**self).forward_slice(x, y);
    }
    fn backward_slice(&self, x: &[T], y: &[T], grad: &mut [T]) {
        (**self).backward_slice(x, y, grad);
    }
}

/// A built-in activation chosen at run time, for networks whose shape and
/// functions come from a file or a command line.
///
/// Dispatch on the variant happens once per slice, so an `Act` costs the same
/// as the concrete type. Names follow PyTorch's functional names.
///
/// ```
/// use tinymlp::{Act, Activation};
///
/// let act: Act = "leaky_relu".parse()?;
/// assert_eq!(act.to_string(), "leaky_relu");
/// assert_eq!(Activation::<f64>::value(&act, -2.0), -0.02);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Act {
    /// [`Identity`].
    Identity,
    /// [`Sigmoid`], the exercise's default.
    #[default]
    Sigmoid,
    /// [`Tanh`].
    Tanh,
    /// [`Relu`].
    Relu,
    /// [`LeakyRelu`] with its slope.
    LeakyRelu(LeakyRelu),
    /// [`Elu`] with its alpha.
    Elu(Elu),
    /// [`Silu`].
    Silu,
    /// [`Softplus`] with its beta and threshold.
    Softplus(Softplus),
    /// [`Gelu`] (exact erf form).
    Gelu,
}

impl Act {
    /// Every built-in with PyTorch's default parameters, in a fixed order.
    pub const ALL: [Act; 9] = [
        Act::Identity,
        Act::Sigmoid,
        Act::Tanh,
        Act::Relu,
        Act::LeakyRelu(LeakyRelu::DEFAULT),
        Act::Elu(Elu::DEFAULT),
        Act::Silu,
        Act::Softplus(Softplus::DEFAULT),
        Act::Gelu,
    ];

    /// The name used by [`FromStr`] and [`Display`](fmt::Display) (PyTorch's functional name).
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Act::Identity => "identity",
            Act::Sigmoid => "sigmoid",
            Act::Tanh => "tanh",
            Act::Relu => "relu",
            Act::LeakyRelu(_) => "leaky_relu",
            Act::Elu(_) => "elu",
            Act::Silu => "silu",
            Act::Softplus(_) => "softplus",
            Act::Gelu => "gelu",
        }
    }

    /// The gain `torch.nn.init.calculate_gain` recommends for this function, or
    /// `None` where PyTorch defines none (ELU, SiLU, softplus, GELU).
    ///
    /// ```
    /// assert_eq!(tinymlp::Act::Tanh.torch_gain(), Some(5.0 / 3.0));
    /// ```
    #[must_use]
    pub fn torch_gain(&self) -> Option<f64> {
        match self {
            Act::Identity | Act::Sigmoid => Some(1.0),
            Act::Tanh => Some(5.0 / 3.0),
            Act::Relu => Some(core::f64::consts::SQRT_2),
            Act::LeakyRelu(l) => Some(num_traits::Float::sqrt(2.0 / (1.0 + l.negative_slope * l.negative_slope))),
            Act::Elu(_) | Act::Silu | Act::Softplus(_) | Act::Gelu => None,
        }
    }
}

/// Forwards a method to the variant's concrete type.
macro_rules! dispatch {
    ($self:ident, $act:ident => $call:expr) => {
        match $self {
            Act::Identity => {
                let $act = &Identity;
                $call
            }
            Act::Sigmoid => {
                let $act = &Sigmoid;
                $call
            }
            Act::Tanh => {
                let $act = &Tanh;
                $call
            }
            Act::Relu => {
                let $act = &Relu;
                $call
            }
            Act::LeakyRelu(inner) => {
                let $act = inner;
                $call
            }
            Act::Elu(inner) => {
                let $act = inner;
                $call
            }
            Act::Silu => {
                let $act = &Silu;
                $call
            }
            Act::Softplus(inner) => {
                let $act = inner;
                $call
            }
            Act::Gelu => {
                let $act = &Gelu;
                $call
            }
        }
    };
}

impl<T: Scalar> Activation<T> for Act {
    // Inlined into loops (the kernel-path tests run them per path), where the
    // match is hoisted out of the loop.
    #[inline(always)]
    fn value(&self, x: T) -> T {
        dispatch!(self, a => Activation::<T>::value(a, x))
    }
    #[inline(always)]
    fn derivative(&self, x: T, y: T) -> T {
        dispatch!(self, a => Activation::<T>::derivative(a, x, y))
    }
    fn piece(&self, x: T) -> u32 {
        dispatch!(self, a => Activation::<T>::piece(a, x))
    }
    fn builtin(&self) -> Option<Act> {
        Some(*self)
    }
    fn forward_slice(&self, x: &[T], y: &mut [T]) {
        dispatch!(self, a => Activation::<T>::forward_slice(a, x, y));
    }
    fn backward_slice(&self, x: &[T], y: &[T], grad: &mut [T]) {
        dispatch!(self, a => Activation::<T>::backward_slice(a, x, y, grad));
    }
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Act {
    type Err = Error;

    /// Parses a PyTorch functional name with PyTorch's default parameters.
    fn from_str(name: &str) -> Result<Self> {
        Act::ALL
            .into_iter()
            .find(|act| act.name() == name)
            .ok_or(Error::UnknownName { kind: "activation", name: crate::error::Name::new(name) })
    }
}

macro_rules! act_from {
    ($($ty:ident => $variant:expr),* $(,)?) => {
        $(impl From<$ty> for Act {
            #[allow(unused_variables)]
            fn from(inner: $ty) -> Self {
                $variant(inner)
            }
        })*
    };
}

act_from! {
    Identity => |_| Act::Identity,
    Sigmoid => |_| Act::Sigmoid,
    Tanh => |_| Act::Tanh,
    Relu => |_| Act::Relu,
    LeakyRelu => Act::LeakyRelu,
    Elu => Act::Elu,
    Silu => |_| Act::Silu,
    Softplus => Act::Softplus,
    Gelu => |_| Act::Gelu,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for act in Act::ALL {
            assert_eq!(act.name().parse::<Act>().unwrap(), act);
        }
        let err = "swish".parse::<Act>().unwrap_err();
        assert!(err.to_string().starts_with("unknown activation name \"swish\" (known: identity, sigmoid, tanh,"));
    }

    #[test]
    fn dyn_and_boxed_activations_forward_slices() {
        let boxed: alloc::boxed::Box<dyn Activation<f64>> = alloc::boxed::Box::new(Tanh);
        let mut y = [0.0; 2];
        boxed.forward_slice(&[0.0, 1.0], &mut y);
        assert_eq!(y, [0.0, Tanh.value(1.0)]);
        assert!((y[1] - num_traits::Float::tanh(1.0)).abs() <= f64::EPSILON);
    }
}
