//! Networks to and from safetensors, with PyTorch's names.
//!
//! Dense layer `i` is stored as `layers.{i}.weight` (`[outputs, inputs]`, as
//! `torch.nn.Linear`) and `layers.{i}.bias` (`[outputs]`). Loading also accepts
//! the state_dict of an `nn.Sequential` of Linear and activation modules, whose
//! keys are `{k}.weight` and `{k}.bias` with `k` the module's position: the
//! Linear layers are taken in increasing `k`. Files written here also carry
//! the network's description in `__metadata__` (`describe.rs`).
//!
//! ```
//! use tinymlp::{Act, DynMlp, Init, Rng};
//!
//! let net = DynMlp::<f32>::from_widths(&[2, 3, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))?;
//! let bytes = net.to_safetensors();
//! let back = DynMlp::<f32>::from_safetensors(&bytes, Act::Tanh, Act::Identity)?;
//! assert_eq!(back.parameters_to_vec(), net.parameters_to_vec());
//! # Ok::<(), tinymlp::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Shape;
use crate::safetensors::{Dtype, SafeTensors, TensorView, Writer};
use crate::{Act, Activation, Dense, DynMlp, Error, Layers, Mlp, Name, Result, Scalar};

impl<T: Scalar, L: Layers<T>> Mlp<T, L> {
    /// The network's parameters as a safetensors file (`layers.{i}.weight`,
    /// `layers.{i}.bias`), in `T`'s dtype, which PyTorch's
    /// `safetensors.torch.load_file` reads. Its `__metadata__` describes the
    /// network (format version, dtype, each layer's activation), so that
    /// [`DynMlp::from_described`] loads it with no other argument (its docs
    /// list the keys). An activation built in code with parameters outside
    /// the ranges [`Act::from_spec`](crate::Act::from_spec) accepts (e.g. a
    /// `Softplus` with `beta` 0, or an f32-infinite `LeakyRelu` slope) is
    /// written as it is, and `from_described` then refuses the file.
    #[must_use]
    pub fn to_safetensors(&self) -> Vec<u8> {
        self.to_safetensors_with(TensorNames::Layers, &[])
    }

    /// As [`Mlp::to_safetensors`], with `__metadata__` entries of your own
    /// besides the description. Keys starting with `tinymlp.` are the
    /// description's: entries you give under that prefix are not written (the
    /// description always says what the network is).
    #[must_use]
    pub fn to_safetensors_with_metadata(&self, metadata: &[(&str, &str)]) -> Vec<u8> {
        self.to_safetensors_with(TensorNames::Layers, metadata)
    }

    /// The network's parameters as a safetensors file with the given
    /// [`TensorNames`] and `__metadata__` entries (besides the description,
    /// as [`Mlp::to_safetensors_with_metadata`] writes them). With
    /// [`TensorNames::Sequential`], `model.load_state_dict(load_file(path))`
    /// works on the matching `torch.nn.Sequential` without renaming keys.
    ///
    /// ```
    /// use tinymlp::{Act, DynMlp, Init, Rng, TensorNames};
    /// use tinymlp::safetensors::SafeTensors;
    ///
    /// // nn.Sequential(Linear, Sigmoid, Linear, Sigmoid, Linear, Sigmoid)
    /// let net = DynMlp::<f64>::from_widths(&[1, 4, 4, 1], Act::Sigmoid, Act::Sigmoid, Init::TorchDefault, &mut Rng::new(0))?;
    /// let bytes = net.to_safetensors_with(TensorNames::Sequential, &[]);
    /// let file = SafeTensors::parse(&bytes)?;
    /// let names: Vec<&str> = file.tensors().iter().map(|t| t.name()).collect();
    /// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]);
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    #[must_use]
    pub fn to_safetensors_with(&self, names: TensorNames, metadata: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = Writer::new();
        self.write_tensors(&mut writer, names);
        super::describe::write_description(self, &mut writer);
        for (key, value) in metadata.iter().filter(|(key, _)| !super::describe::is_reserved(key)) {
            writer.metadata(key, value);
        }
        writer.to_bytes()
    }

    /// Adds every layer's weight and bias to `writer`, named by `names`.
    pub(super) fn write_tensors(&self, writer: &mut Writer, names: TensorNames) {
        let mut position = 0;
        for (index, layer) in self.iter_layers().enumerate() {
            let (outputs, inputs) = (layer.outputs(), layer.inputs());
            let key = match names {
                TensorNames::Layers => format!("layers.{index}"),
                TensorNames::Sequential => format!("{position}"),
            };
            // The Linear module, then its activation module unless it is the identity.
            position += 1 + usize::from(crate::activation::builtin_of(layer.activation()) != Some(Act::Identity));
            // Names are unique and shapes match the data by construction.
            let added = writer
                .add(&format!("{key}.weight"), &[outputs, inputs], layer.weight())
                .and_then(|w| w.add(&format!("{key}.bias"), &[outputs], layer.bias()));
            debug_assert!(added.is_ok(), "writing layer {index}: {added:?}");
        }
    }

    /// Overwrites every layer's parameters from a safetensors file with
    /// PyTorch's names: `layers.{i}.weight` and `layers.{i}.bias`, or an
    /// `nn.Sequential`'s `{k}.weight` and `{k}.bias` with the Linear layers in
    /// increasing `k`. F32 data loads into an f64
    /// network exactly; F64 data into an f32 network is refused (it would round).
    ///
    /// # Errors
    /// A [`Error::Safetensors`] for a malformed file; [`Error::MissingTensor`],
    /// [`Error::UnexpectedTensor`], [`Error::LayerCount`] or
    /// [`Error::TensorShape`] naming the first tensor that does not fit;
    /// [`Error::NonFinite`] naming the first tensor that holds a NaN or an
    /// infinity (and its index). The network is unchanged on error.
    pub fn load_safetensors(&mut self, bytes: &[u8]) -> Result<()> {
        self.load_file(&SafeTensors::parse(bytes)?, |_| true)
    }

    /// [`Mlp::load_safetensors`] from a parsed file, reading only the tensors
    /// whose names `keep` accepts (a checkpoint also holds optimizer state).
    pub(super) fn load_file(&mut self, file: &SafeTensors<'_>, keep: impl Fn(&str) -> bool) -> Result<()> {
        let values = self.read_parameters(file, keep)?;
        self.set_parameters(&values)
    }

    /// The parameters in `file` (among the tensors `keep` accepts) in
    /// [`Mlp::parameters_to_vec`]'s order, checked against this network's
    /// shapes; the network is not changed.
    pub(super) fn read_parameters(&self, file: &SafeTensors<'_>, keep: impl Fn(&str) -> bool) -> Result<Vec<T>> {
        let layers = dense_tensors_where(file, keep)?;
        if layers.len() != self.depth() {
            return Err(Error::LayerCount { expected: self.depth(), found: layers.len() });
        }
        let mut values = Vec::with_capacity(self.parameter_count());
        for (index, (weight, bias)) in layers.iter().enumerate() {
            let layer = self.layers().layer(index);
            expect_shape(weight, &[layer.outputs(), layer.inputs()])?;
            expect_shape(bias, &[layer.outputs()])?;
            values.extend(read_values::<T>(weight)?);
            values.extend(read_values::<T>(bias)?);
        }
        Ok(values)
    }
}

impl<T: Scalar, A: Activation<T> + Clone> DynMlp<T, A> {
    /// A network read from a safetensors file with PyTorch's names, its widths
    /// inferred from the weights' shapes; `hidden` follows every layer but the
    /// last, `output` the last.
    ///
    /// # Errors
    /// As [`Mlp::load_safetensors`], and [`Error::LayersDoNotChain`] if a
    /// layer's inputs differ from the previous layer's outputs.
    pub fn from_safetensors(bytes: &[u8], hidden: A, output: A) -> Result<Self> {
        let file = SafeTensors::parse(bytes)?;
        Self::from_file(&file, |index, last| Ok(if index == last { output.clone() } else { hidden.clone() }))
    }
}

impl<T: Scalar, A: Activation<T>> DynMlp<T, A> {
    /// The network of `file`'s dense layers, layer `index` with the activation
    /// `activation(index, last)` (`last` being the last layer's index).
    pub(super) fn from_file(
        file: &SafeTensors<'_>,
        mut activation: impl FnMut(usize, usize) -> Result<A>,
    ) -> Result<Self> {
        let tensors = dense_tensors(file)?;
        let last = tensors.len() - 1;
        let mut layers = Vec::with_capacity(tensors.len());
        for (index, (weight, bias)) in tensors.iter().enumerate() {
            let (outputs, inputs) = (weight.shape()[0], weight.shape()[1]);
            expect_shape(bias, &[outputs])?;
            let activation = activation(index, last)?;
            layers.push(Dense::from_parameters(inputs, outputs, read_values(weight)?, read_values(bias)?, activation)?);
        }
        Mlp::try_new(layers)
    }
}

/// The number of dense layers in `file`, checking that every tensor is a
/// layer's weight or bias (as [`DynMlp::from_safetensors`] does).
pub(super) fn layer_count(file: &SafeTensors<'_>) -> Result<usize> {
    Ok(dense_tensors(file)?.len())
}

/// The `(weight, bias)` tensors of each dense layer, in order, with weights
/// checked to be 2-D with no zero width.
fn dense_tensors<'f, 'a>(file: &'f SafeTensors<'a>) -> Result<Vec<(&'f TensorView<'a>, &'f TensorView<'a>)>> {
    dense_tensors_where(file, |_| true)
}

/// [`dense_tensors`] among the tensors whose names `keep` accepts.
fn dense_tensors_where<'f, 'a>(
    file: &'f SafeTensors<'a>,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<(&'f TensorView<'a>, &'f TensorView<'a>)>> {
    let mut by_index: BTreeMap<usize, [Option<&TensorView<'a>>; 2]> = BTreeMap::new();
    let mut prefix: Option<&str> = None;
    for tensor in file.tensors().iter().filter(|t| keep(t.name())) {
        let name = tensor.name();
        let (this_prefix, rest) = name.strip_prefix("layers.").map_or(("", name), |rest| ("layers.", rest));
        let parsed = rest.split_once('.').and_then(|(index, kind)| {
            let slot = match kind {
                "weight" => 0,
                "bias" => 1,
                _ => return None,
            };
            // Canonical decimal only: "01" and "1" must not both name layer 1.
            let digits_only = !index.is_empty()
                && index.bytes().all(|b| b.is_ascii_digit())
                && (index == "0" || !index.starts_with('0'));
            Some((index.parse::<usize>().ok().filter(|_| digits_only)?, slot))
        });
        let Some((index, slot)) = parsed else {
            return Err(Error::UnexpectedTensor { name: Name::new(name) });
        };
        if *prefix.get_or_insert(this_prefix) != this_prefix {
            // Mixed "layers.{i}" and nn.Sequential names: no way to order them.
            return Err(Error::UnexpectedTensor { name: Name::new(name) });
        }
        by_index.entry(index).or_default()[slot] = Some(tensor);
    }
    let prefix = prefix.unwrap_or("layers.");
    if by_index.is_empty() {
        return Err(Error::MissingTensor { name: Name::new("layers.0.weight") });
    }
    let mut layers = Vec::with_capacity(by_index.len());
    for (position, (&index, &[weight, bias])) in by_index.iter().enumerate() {
        if prefix == "layers." && index != position {
            return Err(Error::MissingTensor { name: Name::new(&tensor_name(prefix, position, "weight")) });
        }
        let weight =
            weight.ok_or_else(|| Error::MissingTensor { name: Name::new(&tensor_name(prefix, index, "weight")) })?;
        let bias = bias.ok_or_else(|| Error::MissingTensor { name: Name::new(&tensor_name(prefix, index, "bias")) })?;
        if weight.shape().len() != 2 || weight.shape().contains(&0) {
            return Err(Error::TensorShape {
                tensor: Name::new(weight.name()),
                expected: None,
                found: Shape::of(weight.shape()),
            });
        }
        layers.push((weight, bias));
    }
    Ok(layers)
}

fn tensor_name(prefix: &str, index: usize, kind: &str) -> String {
    format!("{prefix}{index}.{kind}")
}

fn expect_shape(tensor: &TensorView<'_>, expected: &[usize]) -> Result<()> {
    if tensor.shape() == expected {
        Ok(())
    } else {
        Err(Error::TensorShape {
            tensor: Name::new(tensor.name()),
            expected: Some(Shape::of(expected)),
            found: Shape::of(tensor.shape()),
        })
    }
}

/// The tensor's values as `T`: exact, so F32 widens into f64 but F64 does not
/// narrow into f32. NaN and infinities are refused, naming the tensor: a
/// network with them would only ever predict NaN.
fn read_values<T: Scalar>(tensor: &TensorView<'_>) -> Result<Vec<T>> {
    let values = if tensor.dtype() == Dtype::F32 && Dtype::of::<T>() == Dtype::F64 {
        tensor.to_f64_vec().into_iter().map(T::from_f64).collect()
    } else {
        tensor.to_vec::<T>()?
    };
    crate::finite::check_finite_named(Name::new(tensor.name()), &values)?;
    Ok(values)
}

/// How [`Mlp::to_safetensors_with`] names a network's tensors. Loading accepts
/// both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TensorNames {
    /// `layers.{i}.weight` and `layers.{i}.bias` for dense layer `i`.
    #[default]
    Layers,
    /// The keys of a `torch.nn.Sequential` of `Linear` and activation modules:
    /// `{k}.weight` and `{k}.bias`, `k` being the Linear module's position,
    /// where every layer's activation other than the identity is a module of
    /// its own (`Linear, Sigmoid, Linear, Sigmoid` has its Linears at 0 and 2;
    /// `Linear, Tanh, Linear` with an identity output at 0 and 2 as well).
    Sequential,
}
