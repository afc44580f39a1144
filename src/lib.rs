//! # tinymlp
//!
//! A small, generic multilayer perceptron that you can trust and embed:
//! compile-time checked layer widths, PyTorch's training semantics, gradients
//! verified against finite differences, `#![no_std]`, and one runtime
//! dependency (num-traits).
//!
//! ## Quick start
//! ```
//! use tinymlp::{Adam, HalfMse, Identity, Linear, Matrix, Mlp, Optimizer, Rng, Tanh};
//!
//! let mut rng = Rng::new(0);
//! // Widths 1 -> 16 -> 1, checked by the compiler.
//! let mut net = Mlp::new((
//!     Linear::<f64, 1, 16, Tanh>::new(&mut rng),
//!     Linear::<f64, 16, 1, Identity>::new(&mut rng),
//! ));
//! let x = Matrix::from_fn(32, 1, |i, _| i as f64 / 31.0);
//! let y = Matrix::from_fn(32, 1, |i, _| (i as f64 / 31.0).powi(2));
//! let mut adam = Adam::with_lr(0.01)?;
//! let mut loss = f64::INFINITY;
//! for _ in 0..500 {
//!     net.zero_grad();
//!     net.forward(&x);
//!     loss = net.backward_loss(&HalfMse, &y)?;
//!     adam.step(&mut net)?;
//! }
//! assert!(loss < 1e-3);
//! # Ok::<(), tinymlp::Error>(())
//! ```
//!
//! ## Where things are
//! - [`Matrix`]: row-major matrices; [`kernels`]: the products behind them.
//! - [`Activation`] and the built-ins ([`Sigmoid`], [`Tanh`], [`Relu`], ...);
//!   [`Act`] picks one at run time.
//! - [`Dense`]: a layer and its forward/backward math; [`Linear`]: the same with
//!   widths in the type.
//! - [`Mlp`]: a network of either ([`DynMlp`] for run-time widths), with
//!   `forward`, `backward_loss`, `zero_grad`, `step`.
//! - [`Loss`]: [`HalfMse`] (the exercise's), [`Mse`], [`L1`], [`Huber`], [`Bce`],
//!   [`BceWithLogits`], [`CrossEntropy`], [`CrossEntropyIndex`].
//! - [`Optimizer`]: [`Sgd`], [`Adam`] (and AdamW), [`RmsProp`]; [`Schedule`]s.
//! - [`Fit`]: mini-batch training with shuffling, validation and early stopping.
//! - [`Init`] and [`Rng`]: seeded initialisation with PyTorch's distributions.
//! - [`safetensors`]: the file format; networks read and write it with
//!   PyTorch's names (`Mlp::to_safetensors`, `DynMlp::from_safetensors`).
//! - [`gradcheck`]: finite-difference checks for your own code; [`check_finite`]
//!   and `Mlp::check_parameters` / `check_gradients` for NaN and infinities.
//!
//! ## Features
//! - `std` (default): implies `alloc`; uses the platform's libm through num-traits.
//! - `alloc` (default through `std`): everything that needs a heap (matrices,
//!   networks, training). Without it: activations, slice kernels, [`Rng`],
//!   [`Init`] and the scalar gradient checks.

#![no_std]
// Only `kernels::simd` may use unsafe code, to call SIMD intrinsics (it allows it
// and documents every block with a `// SAFETY:` comment).
#![deny(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod activation;
mod error;
mod finite;
pub mod gradcheck;
mod init;
pub mod kernels;
mod layer;
mod loss;
mod rng;
mod scalar;

#[cfg(feature = "alloc")]
mod matrix;
#[cfg(feature = "alloc")]
mod mlp;
#[cfg(feature = "alloc")]
mod optim;
#[cfg(feature = "alloc")]
pub mod safetensors;

pub use activation::{Act, Activation, Elu, Gelu, Identity, LeakyRelu, Relu, Sigmoid, Silu, Softplus, Tanh};
pub use error::{Error, Name, Result, Shape};
pub use finite::{check_finite, first_non_finite};
pub use init::{FanMode, Init};
pub use layer::{Predict, StaticLinear};
pub use loss::{Bce, BceWithLogits, CrossEntropy, CrossEntropyIndex, HalfMse, Huber, L1, Loss, Mse};
pub use rng::Rng;
pub use scalar::{Float, Scalar};

#[cfg(feature = "alloc")]
pub use layer::{Dense, Layers, Linear};
#[cfg(feature = "alloc")]
pub use matrix::Matrix;
#[cfg(feature = "alloc")]
pub use mlp::{DynMlp, EpochReport, Fit, Mlp};
#[cfg(feature = "alloc")]
pub use optim::{
    Adam, AdamConfig, CosineAnnealing, Exponential, Optimizer, Parameters, RmsProp, RmsPropConfig, Schedule, Sgd,
    SgdConfig, StepDecay,
};

/// The README's Rust snippets, compiled and run as doctests.
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
