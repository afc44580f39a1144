//! The element types tinymlp computes with.

use core::fmt::{Debug, Display};
/// num-traits' floating-point trait, re-exported so that a `#![no_std]` crate
/// can call `exp`, `tanh`, `ln_1p`, ... on a concrete `f32` or `f64` (in its
/// own [`Activation`](crate::Activation), say) without depending on
/// num-traits itself; without std, libm provides them. Every [`Scalar`] is a
/// `Float`.
pub use num_traits::Float;

/// A floating-point element type: `f32` or `f64`.
///
/// It is [`num_traits::Float`] plus the few bounds every container and kernel in
/// the crate needs. It is sealed: the crate selects its SIMD kernels per type
/// through it.
///
/// ```
/// fn mean<T: tinymlp::Scalar>(xs: &[T]) -> T {
///     xs.iter().fold(T::zero(), |acc, &x| acc + x) / T::from(xs.len()).unwrap()
/// }
/// assert_eq!(mean(&[1.0f32, 2.0, 3.0]), 2.0);
/// ```
pub trait Scalar: Float + Debug + Display + Default + Send + Sync + 'static + sealed::Sealed {
    /// The type's name as safetensors and Rust source spell it (`"f32"` / `"f64"`).
    const NAME: &'static str;

    /// Zero, for `const` contexts (`T::zero()` is not a `const fn`).
    const ZERO: Self;

    /// Converts from f64 with rounding to nearest (exact for f64).
    #[must_use]
    fn from_f64(value: f64) -> Self;

    /// Converts to f64 exactly. (Named apart from `num_traits::ToPrimitive::to_f64`,
    /// which returns an `Option` and would be picked instead on a reference.)
    #[must_use]
    fn as_f64(self) -> f64;
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn from_f64(value: f64) -> Self {
        value as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn from_f64(value: f64) -> Self {
        value
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

pub(crate) mod sealed {
    use crate::kernels::{Form, Path};

    /// Seals [`Scalar`](super::Scalar) and carries the per-type kernel hooks.
    pub trait Sealed: Sized {
        /// `C (+)= op(A)·op(B)` (then `+ bias` on every row) on `path`, a
        /// packed path this CPU has; lengths are already checked.
        #[allow(clippy::too_many_arguments)]
        fn packed_gemm(
            path: Path,
            form: Form,
            m: usize,
            n: usize,
            k: usize,
            a: &[Self],
            b: &[Self],
            c: &mut [Self],
            accumulate: bool,
            bias: Option<&[Self]>,
        );
    }

    /// The hooks of one element type: its packed product.
    macro_rules! sealed {
        ($elem:ty, $packed_gemm:ident) => {
            impl Sealed for $elem {
                #[inline]
                fn packed_gemm(
                    path: Path,
                    form: Form,
                    m: usize,
                    n: usize,
                    k: usize,
                    a: &[$elem],
                    b: &[$elem],
                    c: &mut [$elem],
                    accumulate: bool,
                    bias: Option<&[$elem]>,
                ) {
                    crate::kernels::$packed_gemm(path, form, m, n, k, a, b, c, accumulate, bias);
                }
            }
        };
    }

    sealed!(f32, packed_gemm_f32);
    sealed!(f64, packed_gemm_f64);
}
