//! Self-describing model files: the description of a network that
//! [`Mlp::to_safetensors`] writes into a file's `__metadata__`, and
//! [`DynMlp::from_described`], which builds the network from such a file with
//! no other argument.
//!
//! The description is a few string entries under the prefix `tinymlp.`
//! (format 1; the table is in [`DynMlp::from_described`]'s docs). Files
//! without it, such as PyTorch's own `state_dict`, still load with
//! [`DynMlp::from_safetensors`] and the activations given.
//!
//! Read top-down: the keys, writing them, reading them back (each key checked
//! in turn, every error naming the key), and the two loaders.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::state_dict::layer_count;
use crate::activation::builtin_of;
use crate::safetensors::{Dtype, SafeTensors, Writer};
use crate::{Act, Activation, DynMlp, Error, Layers, Mlp, Name, Result, Scalar};

/// Every key of the description starts with this; the writer keeps the
/// caller's own entries out of it.
const PREFIX: &str = "tinymlp.";
/// The version of the description's layout. A reader refuses other versions.
const FORMAT_KEY: &str = "tinymlp.format";
const FORMAT: &str = "1";
/// The crate version that wrote the file: for people, not checked.
const VERSION_KEY: &str = "tinymlp.version";
/// The tensors' dtype, `F32` or `F64`.
const DTYPE_KEY: &str = "tinymlp.dtype";
/// Layer `i`'s activation is under `tinymlp.layers.{i}.activation`.
const LAYER_PREFIX: &str = "tinymlp.layers.";
const ACTIVATION_SUFFIX: &str = ".activation";
/// How a custom activation is recorded: `custom:{name}`, or `custom` alone
/// when it has no name.
const CUSTOM: &str = "custom";

pub(super) fn activation_key(layer: usize) -> String {
    format!("{LAYER_PREFIX}{layer}{ACTIVATION_SUFFIX}")
}

/// Whether `key` belongs to the description (so a caller's entry under it is
/// not written).
pub(super) fn is_reserved(key: &str) -> bool {
    key.starts_with(PREFIX)
}

/// Adds the description of `net` to `writer`'s metadata.
pub(super) fn write_description<T: Scalar, L: Layers<T>>(net: &Mlp<T, L>, writer: &mut Writer) {
    writer.metadata(FORMAT_KEY, FORMAT);
    writer.metadata(VERSION_KEY, env!("CARGO_PKG_VERSION"));
    writer.metadata(DTYPE_KEY, Dtype::of::<T>().name());
    for (index, layer) in net.iter_layers().enumerate() {
        writer.metadata(&activation_key(index), &spec_of(layer.activation()));
    }
}

/// A built-in's spec (`leaky_relu(0.2)`), or how a custom activation is recorded.
pub(super) fn spec_of<T: Scalar, A: Activation<T> + ?Sized>(activation: &A) -> String {
    if let Some(act) = builtin_of(activation) {
        return act.spec();
    }
    match activation.name() {
        Some(name) if !name.is_empty() => format!("{CUSTOM}:{name}"),
        _ => String::from(CUSTOM),
    }
}

/// A layer's activation as the file describes it.
enum Described<'f> {
    Builtin(Act),
    /// `custom:{name}`, for the caller to map.
    Custom(&'f str),
}

/// Each layer's activation from `file`'s description, after checking the
/// format version, the dtype against the tensors, and that the layer keys are
/// exactly those of the file's layers.
fn read_description<'f>(file: &'f SafeTensors<'_>) -> Result<Vec<Described<'f>>> {
    let value = |key: &str| file.metadata_value(key).ok_or_else(|| Error::MissingMetadata { key: Name::new(key) });
    let invalid = |key: &str, value: &str, expected| Error::InvalidMetadata {
        key: Name::new(key),
        value: Name::new(value),
        expected,
    };

    let format = value(FORMAT_KEY)?;
    if format != FORMAT {
        return Err(invalid(FORMAT_KEY, format, "1, the only format this version of tinymlp reads"));
    }

    let dtype_name = value(DTYPE_KEY)?;
    let Some(dtype) = [Dtype::F32, Dtype::F64].into_iter().find(|dtype| dtype.name() == dtype_name) else {
        return Err(invalid(DTYPE_KEY, dtype_name, "F32 or F64"));
    };
    let depth = layer_count(file)?;
    // Every tensor is a layer's weight or bias (`layer_count` checked).
    if let Some(tensor) = file.tensors().iter().find(|tensor| tensor.dtype() != dtype) {
        let expected = match tensor.dtype() {
            Dtype::F32 => "F32, the dtype of the file's tensors",
            Dtype::F64 => "F64, the dtype of the file's tensors",
        };
        return Err(invalid(DTYPE_KEY, dtype_name, expected));
    }

    // A layer key that is not one of the file's layers contradicts the tensors.
    for (key, text) in file.metadata() {
        let Some(rest) = key.strip_prefix(LAYER_PREFIX) else { continue };
        let layer = rest.strip_suffix(ACTIVATION_SUFFIX).and_then(|index| index.parse::<usize>().ok());
        if !layer.is_some_and(|layer| layer < depth && activation_key(layer) == *key) {
            return Err(invalid(
                key,
                text,
                "no such key: the layer keys are tinymlp.layers.{i}.activation for each of the file's layers",
            ));
        }
    }

    (0..depth)
        .map(|layer| {
            let key = activation_key(layer);
            let text = value(&key)?;
            if text == CUSTOM {
                return Err(Error::UnnamedActivation { layer });
            }
            if let Some(name) = text.strip_prefix(CUSTOM).and_then(|rest| rest.strip_prefix(':')) {
                return if name.is_empty() {
                    Err(Error::UnnamedActivation { layer })
                } else {
                    Ok(Described::Custom(name))
                };
            }
            Act::from_spec(text).map(Described::Builtin).map_err(|err| match err {
                Error::InvalidSpec { expected, .. } => invalid(&key, text, expected),
                other => other,
            })
        })
        .collect()
}

impl<T: Scalar> DynMlp<T> {
    /// The network a file written by [`Mlp::to_safetensors`] describes, with
    /// no other argument: widths from the tensors, each layer's activation
    /// (parameters included) from the file's `__metadata__`. It computes what
    /// the saved network computed, bit for bit.
    ///
    /// ```
    /// use tinymlp::{Act, DynMlp, Init, LeakyRelu, Matrix, Rng};
    ///
    /// let leaky = Act::LeakyRelu(LeakyRelu::new(0.2));
    /// let net = DynMlp::<f32>::from_widths(&[3, 8, 2], leaky, Act::Sigmoid, Init::TorchDefault, &mut Rng::new(0))?;
    /// let bytes = net.to_safetensors();
    ///
    /// let back = DynMlp::<f32>::from_described(&bytes)?;
    /// assert_eq!(back.layers()[0].activation(), &leaky);
    /// let x = Matrix::from_rows(&[[0.5, -1.0, 2.0]])?;
    /// assert_eq!(back.try_predict(&x)?, net.try_predict(&x)?);
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    ///
    /// # The description
    /// String entries of `__metadata__` (format 1), which PyTorch's
    /// `safetensors.torch.load_file` ignores:
    ///
    /// | key | value |
    /// |---|---|
    /// | `tinymlp.format` | `1`, the version of this layout |
    /// | `tinymlp.version` | the crate version that wrote the file (for people; not checked) |
    /// | `tinymlp.dtype` | `F32` or `F64`: the tensors' dtype |
    /// | `tinymlp.layers.{i}.activation` | layer `i`'s activation: a built-in's [`Act::spec`] (`tanh`, `leaky_relu(0.2)`, `softplus(1.0, 20.0)`); `custom:{name}` for a custom activation whose [`Activation::name`] is `name`; `custom` for one without a name |
    ///
    /// Only built-ins load here; [`DynMlp::from_described_with`] maps custom
    /// names to activations of yours. An f32 file loads into an f64 network
    /// exactly; an f64 file into an f32 network is refused (it would round).
    ///
    /// # Errors
    /// - [`Error::Safetensors`] for a malformed file, and the tensor errors of
    ///   [`DynMlp::from_safetensors`] (among them [`Error::NonFinite`] naming
    ///   the first tensor holding a NaN or an infinity);
    /// - [`Error::MissingMetadata`] naming the first key missing: a file
    ///   without a description (e.g. PyTorch's `state_dict`) lacks
    ///   `tinymlp.format`;
    /// - [`Error::InvalidMetadata`] naming the key and value: a format other
    ///   than `1`, a dtype other than `F32`/`F64` or not the tensors', an
    ///   activation spec that does not parse (unknown name, wrong parameters,
    ///   a NaN or infinite parameter), a layer key beyond the file's layers;
    /// - [`Error::UnknownActivation`] naming the layer and the name for a
    ///   `custom:{name}` layer; [`Error::UnnamedActivation`] for a `custom` one.
    pub fn from_described(bytes: &[u8]) -> Result<Self> {
        Self::from_described_with(bytes, |_| None)
    }
}

impl<T: Scalar, A: Activation<T> + From<Act>> DynMlp<T, A> {
    /// As [`DynMlp::from_described`], with your own activations: a layer
    /// recorded as `custom:{name}` gets `custom(name)`, and built-ins become
    /// `A` through `From<Act>`. With `A = Box<dyn Activation<T>>` a network
    /// can mix your activations with the built-ins:
    ///
    /// ```
    /// use tinymlp::{Activation, DynMlp, Identity, Init, Matrix, Rng, Scalar};
    ///
    /// /// x / (1 + |x|), saved as "custom:softsign".
    /// struct Softsign;
    /// impl<T: Scalar> Activation<T> for Softsign {
    ///     fn value(&self, x: T) -> T { x / (T::one() + x.abs()) }
    ///     fn derivative(&self, x: T, _y: T) -> T { let d = T::one() + x.abs(); T::one() / (d * d) }
    ///     fn name(&self) -> Option<&str> { Some("softsign") }
    /// }
    ///
    /// type Net = DynMlp<f64, Box<dyn Activation<f64>>>;
    /// let net = Net::from_widths_with(&[2, 8, 1], |layer| if layer == 0 { Box::new(Softsign) } else { Box::new(Identity) },
    ///     Init::TorchDefault, &mut Rng::new(0))?;
    /// let bytes = net.to_safetensors();
    ///
    /// let back = Net::from_described_with(&bytes, |name| match name {
    ///     "softsign" => Some(Box::new(Softsign)),
    ///     _ => None,
    /// })?;
    /// let x = Matrix::from_rows(&[[0.3, -2.0]])?;
    /// assert_eq!(back.try_predict(&x)?, net.try_predict(&x)?);
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`DynMlp::from_described`]; [`Error::UnknownActivation`] names the
    /// first layer whose name `custom` returns `None` for.
    pub fn from_described_with(bytes: &[u8], mut custom: impl FnMut(&str) -> Option<A>) -> Result<Self> {
        let file = SafeTensors::parse(bytes)?;
        let described = read_description(&file)?;
        let depth = described.len();
        let mut activations = Vec::with_capacity(depth);
        for (layer, activation) in described.into_iter().enumerate() {
            activations.push(match activation {
                Described::Builtin(act) => A::from(act),
                Described::Custom(name) => {
                    custom(name).ok_or(Error::UnknownActivation { layer, name: Name::new(name) })?
                }
            });
        }
        let mut activations = activations.into_iter();
        // One activation per layer: `read_description` counted the same layers.
        Self::from_file(&file, |index, _| {
            activations.next().ok_or(Error::LayerCount { expected: depth, found: index + 1 })
        })
    }
}
