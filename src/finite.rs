//! Checks for NaN and infinities, so that bad numbers are reported where they
//! first appear instead of spreading silently through the weights.
//!
//! ```
//! use tinymlp::{Error, check_finite};
//!
//! assert!(check_finite("x", &[1.0, 2.0]).is_ok());
//! let err = check_finite("x", &[1.0, f64::NAN]).unwrap_err();
//! assert!(matches!(err, Error::NonFinite { index: 1, .. }));
//! assert_eq!(err.to_string(), "x holds NaN at index 1; only finite values are allowed");
//! ```

use crate::{Error, Name, Result, Scalar};

/// `Ok` if every value of the row-major `values` (rows of `width`) is finite,
/// else [`Error::NonFinite`] naming the first bad one `{what} row {r} col {c}`
/// with its flat index: the one check of a loss's target and of a network's
/// output, for `Mlp` and `StaticMlp`. The error is made out of line, straight
/// into the return value, so that a no-heap training step's frame (the
/// firmware's stack) holds no name and links no formatting; and the check
/// itself is not inlined, which at opt-level 3 would widen that frame.
#[inline(never)]
pub(crate) fn check_finite_cells<T: Scalar>(what: &'static str, values: &[T], width: usize) -> Result<()> {
    match first_non_finite(values) {
        Some((index, value)) => non_finite_cell(what, index, width, value.as_f64()),
        None => Ok(()),
    }
}

#[cold]
#[inline(never)]
fn non_finite_cell(what: &'static str, index: usize, width: usize, value: f64) -> Result<()> {
    let (row, col) = (index / width, index % width);
    Err(Error::NonFinite { what: Name::cell(what, row, col), index, value })
}

/// Whether `value` is finite once rounded to `T` (an f64 above f32's range is
/// not, in f32): the one test behind the checks of hyper-parameters,
/// initialisers and activation parameters.
#[must_use]
pub(crate) fn is_finite_in<T: Scalar>(value: f64) -> bool {
    T::from_f64(value).is_finite()
}

/// The index and value of the first NaN or infinity in `values`.
#[must_use]
pub fn first_non_finite<T: Scalar>(values: &[T]) -> Option<(usize, T)> {
    // The common case, all finite, in one branch-free pass that the compiler
    // vectorises (an optimizer checks every gradient on every step).
    if values.iter().fold(true, |finite, v| finite & v.is_finite()) {
        return None;
    }
    values.iter().position(|v| !v.is_finite()).map(|i| (i, values[i]))
}

/// `Ok` if every value is finite, else [`Error::NonFinite`] naming `what`
/// (up to 46 bytes; a longer name is cut to end with `...`, see
/// [`Name`](crate::Name)), the flat index and the value.
///
/// # Errors
/// [`Error::NonFinite`] for the first NaN or infinity.
pub fn check_finite<T: Scalar>(what: &str, values: &[T]) -> Result<()> {
    check_finite_named(Name::new(what), values)
}

/// As [`check_finite`], with a prepared name.
pub(crate) fn check_finite_named<T: Scalar>(what: Name, values: &[T]) -> Result<()> {
    match first_non_finite(values) {
        Some((index, value)) => Err(Error::NonFinite { what, index, value: value.as_f64() }),
        None => Ok(()),
    }
}
