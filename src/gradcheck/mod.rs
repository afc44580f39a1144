//! Finite-difference gradient checking, for your own activations, losses and
//! networks.
//!
//! Derivatives are estimated with the five-point central stencil
//! `D(h) = (8(f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h` (error `O(h⁴)`) at
//! `h` and `h/2`, combined by Richardson extrapolation into
//! `D(h/2) + (D(h/2) - D(h)) / 15` (error `O(h⁶)`); all arithmetic on the
//! differences is done in f64. The error of a point is
//! `|analytic - numeric| / max(|analytic|, |numeric|, floor)`: relative for
//! gradients larger than `floor`, absolute (scaled by `1/floor`) below. Rounding
//! noise in the differences grows with the function's magnitude, so the floor is
//! `Options::floor · max(1, |f(x)|)`.
//!
//! A step that crosses a kink (an [`Activation::piece`] change) is skipped and
//! counted, not reported as an error.
//!
//! Files: `mod.rs` holds the stencil, [`check_gradient`] and the activation and
//! loss checks; `network.rs` holds `check_network` (`alloc`), which checks a whole
//! network's weight, bias and input gradients.
//!
//! ```
//! use tinymlp::gradcheck::{check_gradient, Options};
//!
//! // f(x, y) = x²y, gradient (2xy, x²).
//! let f = |p: &[f64]| p[0] * p[0] * p[1];
//! let report = check_gradient(f, &[1.5, -2.0], &[-6.0, 2.25], &Options::default());
//! assert!(report.max_relative_error < 1e-9);
//! assert_eq!(report.checked, 2);
//! ```

use crate::{Activation, Scalar};

/// How a check is run: step, error floor, tolerance, and which entries.
///
/// `Options::default()` suits f64; [`Options::for_type`] gives settings for
/// the element type (f32 values carry about 7 digits, so a check of f32 code
/// needs a larger step and looser bounds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Finite-difference step `h` (default 1e-3: with the extrapolated stencil this
    /// keeps both truncation and rounding error near 1e-12 for f64 losses of order 1).
    pub step: f64,
    /// Gradients smaller than this are compared absolutely (default 1e-5, so the
    /// error bound for them is 1e-5 × the relative tolerance).
    pub floor: f64,
    /// The largest error [`Report::passed`] accepts (default 1e-6).
    pub tolerance: f64,
    /// Check at most this many entries of each kind, chosen at random (default: all).
    pub max_checks: usize,
    /// Seed for choosing the entries when `max_checks` limits them.
    pub seed: u64,
    /// Which of a network's gradients `check_network` checks (default: all).
    pub which: Which,
}

impl Default for Options {
    fn default() -> Self {
        Self { step: 1e-3, floor: 1e-5, tolerance: 1e-6, max_checks: usize::MAX, seed: 0, which: Which::ALL }
    }
}

impl Options {
    /// Settings for checking code that computes in `T`: the defaults for f64;
    /// for f32 a step of 2⁻⁷ (a power of two, so `x ± h` is exact for the
    /// values of a network), a floor of 1e-2 and a tolerance of 1e-2, which
    /// f32 rounding stays well inside and a wrong derivative does not.
    ///
    /// ```
    /// use tinymlp::gradcheck::Options;
    ///
    /// assert_eq!(Options::for_type::<f64>(), Options::default());
    /// assert!(Options::for_type::<f32>().tolerance > Options::default().tolerance);
    /// ```
    #[must_use]
    pub fn for_type<T: Scalar>() -> Self {
        if core::mem::size_of::<T>() == core::mem::size_of::<f64>() {
            Self::default()
        } else {
            Self { step: 1.0 / 128.0, floor: 1e-2, tolerance: 1e-2, ..Self::default() }
        }
    }
}

/// Which gradients of a network `check_network` (with `alloc`) compares with
/// finite differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Which {
    /// Every layer's weights.
    pub weights: bool,
    /// Every layer's biases.
    pub biases: bool,
    /// The input batch.
    pub inputs: bool,
}

impl Which {
    /// Weights, biases and inputs.
    pub const ALL: Self = Self { weights: true, biases: true, inputs: true };
    /// Weights and biases, not the inputs.
    pub const PARAMETERS: Self = Self { weights: true, biases: true, inputs: false };
}

/// Where a checked entry lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Entry `index` of a plain vector (or the input point of an activation).
    Index(usize),
    /// Weight `(row, col)` of layer `layer` (row = output, col = input).
    Weight {
        /// Layer index.
        layer: usize,
        /// Output index.
        row: usize,
        /// Input index.
        col: usize,
    },
    /// Bias `index` of layer `layer`.
    Bias {
        /// Layer index.
        layer: usize,
        /// Output index.
        index: usize,
    },
    /// Input feature `feature` of sample `sample`.
    Input {
        /// Row of the batch.
        sample: usize,
        /// Column of the batch.
        feature: usize,
    },
}

/// The worst disagreement found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mismatch {
    /// Where.
    pub location: Location,
    /// The gradient the code computed.
    pub analytic: f64,
    /// The finite-difference estimate.
    pub numeric: f64,
    /// Their error as defined in the [module docs](self).
    pub relative_error: f64,
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Report {
    /// The tolerance of the [`Options`] the check ran with.
    pub tolerance: f64,
    /// Largest error over the checked entries (0 if none was checked).
    pub max_relative_error: f64,
    /// The entry with that error.
    pub worst: Option<Mismatch>,
    /// Entries compared.
    pub checked: usize,
    /// Entries skipped because a step crossed a kink.
    pub skipped_kinks: usize,
}

impl Report {
    /// A report for a check run with `options`, before any comparison.
    pub(crate) fn new(options: &Options) -> Self {
        Self { tolerance: options.tolerance, ..Self::default() }
    }

    /// Whether every checked entry is within the tolerance (a check that
    /// compared nothing passes).
    #[must_use]
    pub fn passed(&self) -> bool {
        self.max_relative_error <= self.tolerance
    }

    /// Records one comparison.
    pub(crate) fn record(&mut self, location: Location, analytic: f64, numeric: f64, floor: f64) {
        let scale = analytic.abs().max(numeric.abs()).max(floor);
        let mut relative_error = (analytic - numeric).abs() / scale;
        if relative_error.is_nan() {
            relative_error = f64::INFINITY;
        }
        self.checked += 1;
        if self.worst.is_none() || relative_error > self.max_relative_error {
            self.max_relative_error = relative_error;
            self.worst = Some(Mismatch { location, analytic, numeric, relative_error });
        }
    }

    /// Merges another report into this one.
    pub fn merge(&mut self, other: &Report) {
        self.checked += other.checked;
        self.skipped_kinks += other.skipped_kinks;
        if let Some(worst) = other.worst
            && (self.worst.is_none() || worst.relative_error > self.max_relative_error)
        {
            self.max_relative_error = worst.relative_error;
            self.worst = Some(worst);
        }
    }
}

/// The extrapolated derivative of `at` (which returns the function's value at
/// an offset from the point and whether it is on the point's smooth piece), and
/// whether every evaluation was on that piece.
pub(crate) fn estimate<E>(mut at: impl FnMut(f64) -> Result<(f64, bool), E>, h: f64) -> Result<(f64, bool), E> {
    let mut smooth = true;
    let mut five_point = |step: f64| -> Result<f64, E> {
        let mut value = |offset: f64| -> Result<f64, E> {
            let (value, same_piece) = at(offset)?;
            smooth &= same_piece;
            Ok(value)
        };
        let (plus2, plus1) = (value(2.0 * step)?, value(step)?);
        let (minus1, minus2) = (value(-step)?, value(-2.0 * step)?);
        Ok((8.0 * (plus1 - minus1) - (plus2 - minus2)) / (12.0 * step))
    };
    let coarse = five_point(h)?;
    let fine = five_point(h / 2.0)?;
    Ok((fine + (fine - coarse) / 15.0, smooth))
}

/// Which entries to check: all of `0..len`, or `max_checks` of them at random.
pub(crate) fn chosen_indices(len: usize, options: &Options) -> impl Iterator<Item = usize> {
    let mut rng = crate::Rng::new(options.seed);
    let take = len.min(options.max_checks);
    let all = take == len;
    let mut next = 0usize;
    core::iter::from_fn(move || {
        if next == take {
            return None;
        }
        next += 1;
        Some(if all { next - 1 } else { rng.below(len as u64) as usize })
    })
}

/// Checks `analytic` against finite differences of `f` at `x`. `f` computes
/// in `T`; the differences are taken in f64.
///
/// # Panics
/// Panics if `x` and `analytic` differ in length, or `x` has more than 64 entries
/// (use [`Options::max_checks`] and your own loop for large inputs).
pub fn check_gradient<T: Scalar>(mut f: impl FnMut(&[T]) -> T, x: &[T], analytic: &[T], options: &Options) -> Report {
    assert_eq!(x.len(), analytic.len(), "check_gradient: x and analytic differ in length");
    assert!(x.len() <= 64, "check_gradient: at most 64 entries");
    let mut point = [T::zero(); 64];
    let point = &mut point[..x.len()];
    point.copy_from_slice(x);
    let mut report = Report::new(options);
    let floor = options.floor * f(point).as_f64().abs().max(1.0);
    for index in chosen_indices(x.len(), options) {
        let at = |offset: f64| -> Result<(f64, bool), core::convert::Infallible> {
            point[index] = T::from_f64(x[index].as_f64() + offset);
            let value = f(point).as_f64();
            point[index] = x[index];
            Ok((value, true))
        };
        let Ok((numeric, _)) = estimate(at, options.step);
        report.record(Location::Index(index), analytic[index].as_f64(), numeric, floor);
    }
    report
}

/// Checks an activation's [`derivative`](Activation::derivative) against finite
/// differences of its [`value`](Activation::value) at each point, computing in
/// `T` with [`Options::for_type`]`::<T>()`. Points whose stencil crosses a kink
/// (an [`Activation::piece`] change) are skipped and counted.
///
/// ```
/// use tinymlp::{Activation, Float};
/// use tinymlp::gradcheck::check_activation;
///
/// /// An activation written for f32 only.
/// struct Swish;
/// impl Activation<f32> for Swish {
///     fn value(&self, x: f32) -> f32 { x / (1.0 + (-x).exp()) }
///     fn derivative(&self, x: f32, _y: f32) -> f32 {
///         let s = 1.0 / (1.0 + (-x).exp());
///         s * (1.0 + x * (1.0 - s))
///     }
/// }
///
/// let report = check_activation(&Swish, &[-3.0f32, -0.5, 0.25, 2.0]);
/// assert!(report.passed(), "{report:?}");
/// ```
pub fn check_activation<T: Scalar, A: Activation<T> + ?Sized>(activation: &A, points: &[T]) -> Report {
    check_activation_with(activation, points, &Options::for_type::<T>())
}

/// [`check_activation`] with the given options.
pub fn check_activation_with<T: Scalar, A: Activation<T> + ?Sized>(
    activation: &A,
    points: &[T],
    options: &Options,
) -> Report {
    let mut report = Report::new(options);
    for (index, &x) in points.iter().enumerate() {
        let piece = activation.piece(x);
        let at = |offset: f64| -> Result<(f64, bool), core::convert::Infallible> {
            let shifted = T::from_f64(x.as_f64() + offset);
            Ok((activation.value(shifted).as_f64(), activation.piece(shifted) == piece))
        };
        let Ok((numeric, smooth)) = estimate(at, options.step);
        if !smooth {
            report.skipped_kinks += 1;
            continue;
        }
        let value = activation.value(x);
        let analytic = activation.derivative(x, value).as_f64();
        let floor = options.floor * value.as_f64().abs().max(1.0);
        report.record(Location::Index(index), analytic, numeric, floor);
    }
    report
}

#[cfg(feature = "alloc")]
mod network;
#[cfg(feature = "alloc")]
pub use network::{NetworkReport, check_network};
