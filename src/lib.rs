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
//!     loss = net.try_backward_loss(&HalfMse, &y)?;
//!     adam.step(&mut net)?;
//! }
//! assert!(loss < 1e-3);
//! # Ok::<(), tinymlp::Error>(())
//! ```
//!
//! ## Where things are
//! One concept per file or folder; each folder's `mod.rs` opens with its own map.
//!
//! | path | what |
//! |---|---|
//! | `scalar.rs` | [`Scalar`]: the element types, f32 and f64 ([`Float`] is num-traits' float trait, re-exported) |
//! | `matrix.rs` | [`Matrix`]: row-major matrices (`alloc`) |
//! | `kernels/` | [`kernels`]: the products ([`kernels::gemm`]), their dispatch over SIMD paths and threads, the element-wise loops |
//! | `activation/` | [`Activation`], the built-ins ([`Sigmoid`], [`Tanh`], [`Relu`], ...) and [`Act`], all generated from one table |
//! | `layer/` | the dense layer: its one implementation of the math, [`Dense`] (run-time widths), [`Linear`] (widths in the type), [`StaticLinear`] (arrays, no heap, inference), [`TrainLinear`] and [`StaticMlp`] (arrays, no heap, training), and how layers chain ([`Layers`], [`Predict`], [`StaticLayers`]) |
//! | `mlp/` | [`Mlp`] and [`DynMlp`]: forward, backward, `zero_grad`, step; safetensors I/O (files that describe their network, loaded with no other argument), Rust-source export, [`Fit`], checkpoints that resume bit for bit (`alloc`) |
//! | `loss/` | [`Loss`]: [`HalfMse`] (0.5·MSE), [`Mse`], [`L1`], [`Huber`], [`Bce`], [`BceWithLogits`], [`CrossEntropy`], [`CrossEntropyIndex`] |
//! | `optim/` | [`Optimizer`]: [`Sgd`], [`Adam`] (and AdamW), [`RmsProp`] (`alloc`); [`StaticSgd`], [`StaticAdam`] (state in arrays, no heap); [`Schedule`]s; [`OptimizerState`]: state to and from safetensors, for exact resume (`alloc`) |
//! | `init.rs`, `rng.rs` | [`Init`] and [`Rng`]: seeded initialisation with PyTorch's distributions |
//! | `safetensors/` | [`safetensors`]: the file format, read and written without dependencies (`alloc`) |
//! | `gradcheck/` | [`gradcheck`]: finite-difference checks of activations, losses and networks |
//! | `finite.rs` | [`check_finite`]: NaN and infinity checks |
//! | `error.rs` | [`Error`], [`Result`] |
//!
//! ## Conventions
//! - **Errors.** Whatever can fail on the caller's data returns a [`Result`]
//!   and changes nothing on error. The training loop's calls on [`Mlp`] also
//!   come as pairs, `try_forward` / `forward` and so on: `try_x` returns the
//!   `Result`, `x` panics with the error's message (see [`Mlp`]).
//! - **The default activation** of every layer type is [`Identity`]: a layer
//!   without one named is affine, as `torch.nn.Linear` is.
//! - **Optimizers** are built alike: `X::new(XConfig { .. })` or `X::with_lr(lr)`.
//!
//! ## Features
//! - `std` (default): implies `alloc`; uses the platform's libm through
//!   num-traits, detects SIMD at run time, and lets large products use threads.
//! - `alloc` (default through `std`): everything that needs a heap (matrices,
//!   networks, training, files). Without it: activations, the slice kernels,
//!   [`StaticLinear`] networks with [`Predict`], [`Rng`], [`Init`] and the
//!   scalar gradient checks.
//!
// Without `alloc` the heap types do not exist: their names in the map above
// point to the features section instead of being broken links.
#![cfg_attr(
    not(feature = "alloc"),
    doc = "[`Matrix`]: #features\n[`Dense`]: #features\n[`Linear`]: #features\n[`Layers`]: #features\n[`Mlp`]: #features\n[`DynMlp`]: #features\n[`Fit`]: #features\n[`Sgd`]: #features\n[`Adam`]: #features\n[`OptimizerState`]: #features\n[`RmsProp`]: #features\n[`safetensors`]: #features"
)]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Only `kernels::simd` and `kernels::matvec` may use unsafe code, to call SIMD
// intrinsics (they allow it and document every block with a `// SAFETY:`
// comment).
#![deny(unsafe_code)]
#![deny(missing_docs)]

// Unit tests use the heap (and the harness needs std) in every configuration,
// so `cargo test --no-default-features --lib` tests the no-heap build.
#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(any(feature = "std", test))]
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
mod optim;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod safetensors;

pub use activation::{Act, Activation, Elu, Gelu, Identity, LeakyRelu, Relu, Sigmoid, Silu, Softplus, Tanh};
pub use error::{Error, Name, Result, Shape};
pub use finite::{check_finite, first_non_finite};
pub use init::{BiasInit, FanMode, Init, LayerInit};
pub use layer::{LayerTape, Predict, StaticLayers, StaticLinear, StaticMlp, TrainLinear};
pub use loss::{Bce, BceWithLogits, CrossEntropy, CrossEntropyIndex, HalfMse, Huber, L1, Loss, Mse};
pub use rng::Rng;
pub use scalar::{Float, Scalar};

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use layer::{Dense, Layers, Linear};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use matrix::Matrix;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use mlp::write_atomically;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use mlp::{CheckpointError, DynMlp, EpochReport, Fit, Mlp, PredictScratch, Progress, TensorNames};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use optim::{Adam, OptimizerState, ParameterInfo, RmsProp, RmsPropConfig, Sgd};
pub use optim::{
    AdamConfig, CosineAnnealing, Exponential, Optimizer, Parameters, Schedule, SgdConfig, StaticAdam, StaticSgd,
    StepDecay,
};

/// The README's Rust snippets, compiled and run as doctests.
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
