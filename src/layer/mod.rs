//! Layers: the dense layer `y = f(x·Wᵀ + b)` in its three storages, all
//! running the ONE implementation of its math in `math.rs`.
//!
//! - [`Dense`] (`dense.rs`, `alloc`): widths chosen at run time, parameters and
//!   gradients on the heap; the unit every [`Mlp`](crate::Mlp) trains.
//! - [`Linear`] (`linear.rs`, `alloc`): a [`Dense`] whose widths are part of
//!   its type.
//! - [`StaticLinear`] (`static_linear.rs`): parameters in arrays, buildable in
//!   a `const` or `static`, for inference with no heap.
//! - [`TrainLinear`] and [`StaticMlp`] (`static_train.rs`): the same with
//!   gradients, and a network that trains on fixed-size batches with no heap.
//! - `chain.rs`: how layers compose: [`Layers`] (what an `Mlp` runs) and
//!   [`Predict`] (heap-free inference) and [`StaticLayers`] (heap-free
//!   training), implemented for tuples by one macro.
//!
//! # The default activation
//! One rule for every layer type: a layer without an activation named is
//! affine, as `torch.nn.Linear` is ([`Identity`](crate::Identity) is the
//! default type parameter of [`Linear`] and [`StaticLinear`], and
//! [`Act::default()`](crate::Act) is `Act::Identity`).

mod chain;
#[cfg(feature = "alloc")]
mod dense;
#[cfg(feature = "alloc")]
mod linear;
pub(crate) mod math;
mod static_linear;
mod static_train;

#[cfg(feature = "alloc")]
pub use chain::Layers;
pub use chain::Predict;
#[cfg(feature = "alloc")]
pub use dense::Dense;
#[cfg(feature = "alloc")]
pub use linear::Linear;
pub use static_linear::StaticLinear;
pub use static_train::{LayerTape, StaticLayers, StaticMlp, TrainLinear};
