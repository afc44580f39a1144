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
//! ```
//! use tinymlp::gradcheck::{check_gradient, Options};
//!
//! // f(x, y) = x²y, gradient (2xy, x²).
//! let f = |p: &[f64]| p[0] * p[0] * p[1];
//! let report = check_gradient(f, &[1.5, -2.0], &[-6.0, 2.25], &Options::default());
//! assert!(report.max_relative_error < 1e-9);
//! assert_eq!(report.checked, 2);
//! ```

use crate::Activation;

/// Step size and error floor of a check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Finite-difference step `h` (default 1e-3: with the O(h⁴) stencil this keeps
    /// both truncation and rounding error near 1e-12 for losses of order 1).
    pub step: f64,
    /// Gradients smaller than this are compared absolutely (default 1e-5, so the
    /// error bound for them is 1e-5 × the relative tolerance).
    pub floor: f64,
    /// Check at most this many entries, chosen at random (default: all).
    pub max_checks: usize,
    /// Seed for choosing the entries when `max_checks` limits them.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self { step: 1e-3, floor: 1e-5, max_checks: usize::MAX, seed: 0 }
    }
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

/// Checks `analytic` against finite differences of `f` at `x`.
///
/// # Panics
/// Panics if `x` and `analytic` differ in length, or `x` has more than 64 entries
/// (use [`Options::max_checks`] and your own loop for large inputs).
pub fn check_gradient(mut f: impl FnMut(&[f64]) -> f64, x: &[f64], analytic: &[f64], options: &Options) -> Report {
    assert_eq!(x.len(), analytic.len(), "check_gradient: x and analytic differ in length");
    assert!(x.len() <= 64, "check_gradient: at most 64 entries");
    let mut point = [0.0f64; 64];
    let point = &mut point[..x.len()];
    point.copy_from_slice(x);
    let mut report = Report::default();
    let floor = options.floor * f(point).abs().max(1.0);
    for index in chosen_indices(x.len(), options) {
        let at = |offset: f64| -> Result<(f64, bool), core::convert::Infallible> {
            point[index] = x[index] + offset;
            let value = f(point);
            point[index] = x[index];
            Ok((value, true))
        };
        let Ok((numeric, _)) = estimate(at, options.step);
        report.record(Location::Index(index), analytic[index], numeric, floor);
    }
    report
}

/// Checks an activation's [`derivative`](Activation::derivative) against finite
/// differences of its [`value`](Activation::value) at each point, in f64.
/// Points whose stencil crosses a kink are skipped.
pub fn check_activation<A: Activation<f64> + ?Sized>(activation: &A, points: &[f64]) -> Report {
    let options = Options::default();
    let mut report = Report::default();
    let h = options.step;
    for (index, &x) in points.iter().enumerate() {
        let piece = activation.piece(x);
        let at = |offset: f64| -> Result<(f64, bool), core::convert::Infallible> {
            Ok((activation.value(x + offset), activation.piece(x + offset) == piece))
        };
        let Ok((numeric, smooth)) = estimate(at, h);
        if !smooth {
            report.skipped_kinks += 1;
            continue;
        }
        let analytic = activation.derivative(x, activation.value(x));
        let floor = options.floor * activation.value(x).abs().max(1.0);
        report.record(Location::Index(index), analytic, numeric, floor);
    }
    report
}

#[cfg(feature = "alloc")]
mod network;
#[cfg(feature = "alloc")]
pub use network::{NetworkReport, check_network};
