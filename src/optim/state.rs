//! Optimizer state in and out of safetensors ([`OptimizerState`]), so that
//! training can stop and resume exactly where it was.
//!
//! The format and its checks are documented on [`OptimizerState`]; this file
//! holds the helpers every optimizer's implementation shares (each lives
//! next to its optimizer).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::safetensors::{Dtype, SafeTensors, Writer};
use crate::{Error, Name, Result, Scalar, Shape};

/// The names and shapes of a network's parameter tensors, in the order
/// [`Parameters::visit_parameters`](crate::Parameters::visit_parameters)
/// visits them: what [`OptimizerState`] names its buffers after and checks
/// their shapes against. Networks give theirs (`Mlp::parameter_info`,
/// [`StaticMlp::parameter_info`](crate::StaticMlp::parameter_info)), with the
/// names their safetensors files use: `layers.{i}.weight` (`[outputs,
/// inputs]`) and `layers.{i}.bias` (`[outputs]`).
///
/// ```
/// use tinymlp::ParameterInfo;
///
/// let info = ParameterInfo::dense([(2, 3), (3, 1)]);
/// let tensors: Vec<(&str, &[usize])> = info.iter().collect();
/// assert_eq!(tensors[2], ("layers.1.weight", &[1, 3][..]));
/// assert_eq!((info.len(), info.parameter_count()), (4, 2 * 3 + 3 + 3 + 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParameterInfo {
    tensors: Vec<(String, Vec<usize>)>,
}

impl ParameterInfo {
    /// No tensors yet; add them with [`push`](Self::push), in visiting order.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The tensors of a stack of dense layers given as `(inputs, outputs)`:
    /// `layers.{i}.weight` of shape `[outputs, inputs]`, then
    /// `layers.{i}.bias` of shape `[outputs]`, for each layer `i`.
    #[must_use]
    pub fn dense(layers: impl IntoIterator<Item = (usize, usize)>) -> Self {
        let mut info = Self::new();
        for (index, (inputs, outputs)) in layers.into_iter().enumerate() {
            info.push(&format!("layers.{index}.weight"), &[outputs, inputs]);
            info.push(&format!("layers.{index}.bias"), &[outputs]);
        }
        info
    }

    /// Adds the next tensor in visiting order. Names should be unique:
    /// [`OptimizerState::write_state`] refuses a repeated one.
    pub fn push(&mut self, name: &str, shape: &[usize]) -> &mut Self {
        self.tensors.push((name.to_string(), shape.to_vec()));
        self
    }

    /// The tensors' names and shapes, in visiting order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &[usize])> {
        self.tensors.iter().map(|(name, shape)| (name.as_str(), shape.as_slice()))
    }

    /// The number of tensors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether there are no tensors.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// The number of values in all tensors (saturating, as a shape's size
    /// cannot exceed memory anyway).
    #[must_use]
    pub fn parameter_count(&self) -> usize {
        self.tensors.iter().fold(0usize, |total, (_, shape)| total.saturating_add(numel(shape)))
    }
}

/// An optimizer whose state (moments, momentum, step count) can be saved to
/// and restored from safetensors, so that training resumes bit for bit.
///
/// Every optimizer writes one tensor per state buffer and parameter tensor,
/// named `{kind}.{buffer}.{parameter}` with PyTorch's buffer names and the
/// parameter's own name and shape (from [`ParameterInfo`]):
///
/// | optimizer | kind | buffers |
/// |---|---|---|
/// | [`Sgd`](crate::Sgd), [`StaticSgd`](crate::StaticSgd) | `sgd` | `momentum_buffer` (with momentum) |
/// | [`Adam`](crate::Adam), [`StaticAdam`](crate::StaticAdam) (also AdamW) | `adam` | `exp_avg`, `exp_avg_sq` |
/// | [`RmsProp`](crate::RmsProp) | `rmsprop` | `square_avg`, `momentum_buffer` (with momentum), `grad_avg` (centered) |
///
/// e.g. `adam.exp_avg.layers.0.weight`. The metadata holds `optimizer` (the
/// kind), every hyper-parameter as `{kind}.{name}` (`adam.beta2`,
/// `sgd.nesterov`, ...) and Adam's step count `adam.step`. Floats are written
/// in Rust's shortest round-trip form and read back bit for bit; flags are
/// `true`/`false`, step counts decimal integers. An optimizer that has taken
/// no step yet writes no tensors, only metadata.
///
/// The heap optimizers and their array twins share the format: Adam state
/// saved on a host loads into a [`StaticAdam`](crate::StaticAdam) of the same
/// network, and back.
///
/// ## What reading checks
/// [`read_state`](OptimizerState::read_state) changes nothing unless the
/// whole state fits; otherwise it names what does not:
/// - `optimizer` must name the reader's kind ([`Error::WrongOptimizer`]);
/// - the **learning rate is taken from the file** (a schedule or
///   [`set_lr`](crate::Optimizer::set_lr) may have moved it), checked as
///   [`try_set_lr`](crate::Optimizer::try_set_lr) checks it
///   ([`Error::InvalidHyperParameter`]: e.g. `1e39` for an f32 optimizer); **every other
///   hyper-parameter must equal the optimizer's own**
///   ([`Error::StateConfig`]): moments gathered with another β or another
///   momentum mean something else, so a silent switch would not resume the
///   same training. Make the optimizer with the saved configuration;
/// - metadata must be present ([`Error::MissingMetadata`]), parse and be
///   finite ([`Error::InvalidMetadata`]), and be known
///   ([`Error::UnexpectedStateMetadata`]: e.g. `adam.amsgrad`);
/// - every buffer for every parameter must be there
///   ([`Error::MissingStateTensor`]), with the parameter's shape
///   ([`Error::StateShape`]), the optimizer's dtype ([`Error::StateDtype`]:
///   state is never rounded or widened) and finite values
///   ([`Error::NonFinite`]), none negative in the running averages of squares
///   (`exp_avg_sq`, `square_avg`: [`Error::NegativeState`]); no other tensor may sit under the `{kind}.`
///   prefix ([`Error::UnexpectedStateTensor`]): a network of other widths or
///   depth is refused. Tensors outside the prefix (such as the network's own
///   `layers.*`) are ignored, so one file can hold a whole checkpoint.
///
/// ```
/// use tinymlp::safetensors::{SafeTensors, Writer};
/// use tinymlp::{Act, Adam, DynMlp, HalfMse, Init, Matrix, Optimizer, OptimizerState, Rng};
///
/// let mut net = DynMlp::<f64>::from_widths(&[1, 8, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))?;
/// let (x, y) = (Matrix::column(&[0.0, 0.5, 1.0]), Matrix::column(&[0.0, 0.25, 1.0]));
/// let mut adam = Adam::with_lr(0.01)?;
/// let mut train = |net: &mut DynMlp<f64>, adam: &mut Adam<f64>| -> tinymlp::Result<()> {
///     net.zero_grad();
///     net.try_forward(&x)?;
///     net.try_backward_loss(&HalfMse, &y)?;
///     adam.step(net)
/// };
/// for _ in 0..5 {
///     train(&mut net, &mut adam)?;
/// }
///
/// // Save: the network's tensors and the optimizer's, in one file.
/// let mut writer = Writer::new();
/// adam.write_state(&net.parameter_info(), &mut writer)?;
/// let network = net.to_safetensors();
/// let bytes = writer.to_bytes();
///
/// // Load into fresh objects and continue.
/// let mut resumed = DynMlp::<f64>::from_safetensors(&network, Act::Tanh, Act::Identity)?;
/// let mut fresh = Adam::with_lr(0.01)?;
/// fresh.read_state(&resumed.parameter_info(), &SafeTensors::parse(&bytes)?)?;
/// assert_eq!(fresh.steps(), 5);
/// train(&mut net, &mut adam)?;
/// train(&mut resumed, &mut fresh)?;
/// assert_eq!(resumed.parameters_to_vec(), net.parameters_to_vec());
/// # Ok::<(), tinymlp::Error>(())
/// ```
///
/// `params` gives the network's parameter names and shapes in visiting
/// order, from `Mlp::parameter_info` or
/// [`StaticMlp::parameter_info`](crate::StaticMlp::parameter_info).
pub trait OptimizerState<T: Scalar> {
    /// Adds this optimizer's state to `writer`: a tensor per buffer and
    /// parameter tensor, `{kind}.{buffer}.{parameter name}` with the
    /// parameter's shape (none before the first step), and metadata:
    /// `optimizer` = the kind, each hyper-parameter and the step count.
    ///
    /// # Errors
    /// [`Error::OptimizerState`] (heap optimizers) or [`Error::StateSize`]
    /// (array optimizers) if the state was made for other parameters than
    /// `params` describes; [`Error::Safetensors`] with
    /// [`DuplicateTensor`](crate::safetensors::FormatError::DuplicateTensor)
    /// if `writer` already holds one of the names (or `params` repeats one).
    /// `writer` is unchanged then.
    fn write_state(&self, params: &ParameterInfo, writer: &mut Writer) -> Result<()>;

    /// Restores the state written by [`write_state`](Self::write_state)
    /// from `file`, which may hold other tensors and metadata too (only the
    /// `{kind}.` prefix and the `optimizer` key are read). The learning rate
    /// is taken from the file; the other hyper-parameters must match. A file
    /// with no tensors under the prefix restores an optimizer that has taken
    /// no step.
    ///
    /// # Errors
    /// Each error listed under [What reading checks](OptimizerState#what-reading-checks), naming the
    /// key or tensor; [`Error::StateSize`] for an array optimizer of another
    /// size than `params`. The optimizer is unchanged on error.
    fn read_state(&mut self, params: &ParameterInfo, file: &SafeTensors<'_>) -> Result<()>;
}

/// A metadata value of an optimizer's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value {
    /// A hyper-parameter, written in the shortest form that reads back exactly.
    Float(f64),
    /// An on/off hyper-parameter.
    Flag(bool),
    /// A step count.
    Count(u64),
}

impl Value {
    fn text(self) -> String {
        match self {
            // `{:?}` is the shortest decimal that parses back to the same
            // bits (Rust's float formatting guarantees the round trip).
            Value::Float(value) => format!("{value:?}"),
            Value::Flag(value) => value.to_string(),
            Value::Count(value) => value.to_string(),
        }
    }

    /// `text` read as the same kind of value as `self`, or what it must be.
    fn parse_like(self, text: &str) -> core::result::Result<Value, &'static str> {
        match self {
            Value::Float(_) => match text.parse::<f64>() {
                Ok(value) if value.is_finite() => Ok(Value::Float(value)),
                _ => Err("a finite number"),
            },
            Value::Flag(_) => match text {
                "true" => Ok(Value::Flag(true)),
                "false" => Ok(Value::Flag(false)),
                _ => Err("true or false"),
            },
            Value::Count(_) => match text.parse::<u64>() {
                // Digits only: `parse` would also take a leading `+`. At most
                // 2^53, so that the count stays exact as the f64 Adam's bias
                // correction uses and can never overflow when stepped.
                Ok(value) if text.bytes().all(|b| b.is_ascii_digit()) && value <= MAX_STEP => Ok(Value::Count(value)),
                _ => Err("a step count (decimal digits, at most 2^53)"),
            },
        }
    }

    /// Equal to the bit (`-0.0` is not `0.0`: it can change a sum's sign).
    fn same(self, other: Value) -> bool {
        match (self, other) {
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            _ => self == other,
        }
    }
}

/// The metadata key naming the optimizer kind.
const KIND_KEY: &str = "optimizer";
/// The hyper-parameter taken from the file rather than checked.
const LR: &str = "lr";
/// The step count, also taken from the file.
const STEP: &str = "step";
/// The largest step count read: 2^53.
const MAX_STEP: u64 = 1 << 53;

/// What [`read_metadata`] takes from a file: the learning rate and the step
/// count (0 for optimizers that keep none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Restored {
    pub(crate) lr: f64,
    pub(crate) step: u64,
}

/// One buffer of an optimizer's state, per parameter tensor in visiting order.
pub(crate) type Buffer<'b, T> = (&'static str, Vec<&'b [T]>);

/// Heap state (one `Vec` per tensor, empty before the first step) as slices,
/// checked against `params`.
pub(crate) fn heap_tensors<'b, T>(state: &'b [Vec<T>], params: &ParameterInfo) -> Result<Vec<&'b [T]>> {
    if state.len() != params.len() {
        return Err(Error::OptimizerState { tensor: None, expected: state.len(), found: params.len() });
    }
    let mut slices = Vec::with_capacity(state.len());
    for (index, (buffer, (_, shape))) in state.iter().zip(params.iter()).enumerate() {
        if buffer.len() != numel(shape) {
            return Err(Error::OptimizerState { tensor: Some(index), expected: buffer.len(), found: numel(shape) });
        }
        slices.push(buffer.as_slice());
    }
    Ok(slices)
}

/// Array state (all tensors back to back) as per-tensor slices, checked against `params`.
pub(crate) fn array_tensors<'b, T>(state: &'b [T], params: &ParameterInfo) -> Result<Vec<&'b [T]>> {
    check_array_size(state.len(), params)?;
    let mut rest = state;
    let mut slices = Vec::with_capacity(params.len());
    for (_, shape) in params.iter() {
        let (tensor, tail) = rest.split_at(numel(shape));
        slices.push(tensor);
        rest = tail;
    }
    Ok(slices)
}

/// Refuses an array state of `len` values for parameters of another size.
pub(crate) fn check_array_size(len: usize, params: &ParameterInfo) -> Result<()> {
    let found = params.parameter_count();
    if len == found { Ok(()) } else { Err(Error::StateSize { expected: len, found }) }
}

/// Writes an optimizer's state: `optimizer` = `kind`, each entry of
/// `metadata` as `{kind}.{name}`, and each buffer's tensors (none if
/// `buffers` is empty). Everything that can fail is checked first, so
/// `writer` is unchanged on error.
pub(crate) fn write<T: Scalar>(
    writer: &mut Writer,
    kind: &'static str,
    metadata: &[(&'static str, Value)],
    params: &ParameterInfo,
    buffers: &[Buffer<'_, T>],
) -> Result<()> {
    let mut tensors = Vec::new();
    for (buffer, slices) in buffers {
        for ((parameter, shape), values) in params.iter().zip(slices) {
            tensors.push((format!("{kind}.{buffer}.{parameter}"), shape, *values));
        }
    }
    let mut names: Vec<&str> = tensors.iter().map(|(name, ..)| name.as_str()).collect();
    names.sort_unstable();
    let repeated = names.windows(2).find(|pair| pair[0] == pair[1]).map(|pair| pair[0]);
    if let Some(name) = repeated.or_else(|| names.iter().copied().find(|name| writer.contains(name))) {
        let name = Name::new(name);
        return Err(crate::safetensors::FormatError::DuplicateTensor { name }.into());
    }
    // What read_metadata would refuse is not written: a saved state always loads.
    for &(name, value) in metadata {
        if let (LR, Value::Float(lr)) = (name, value)
            && !(lr.is_finite() && lr >= 0.0)
        {
            return Err(Error::InvalidHyperParameter { name: "lr", value: lr, expected: "a finite value >= 0" });
        }
    }
    writer.metadata(KIND_KEY, kind);
    for (name, value) in metadata {
        writer.metadata(&format!("{kind}.{name}"), &value.text());
    }
    for (name, shape, values) in tensors {
        // Names were checked above and each buffer has its parameter's size
        // (heap_tensors, array_tensors), so this cannot fail.
        let added = writer.add(&name, shape, values);
        debug_assert!(added.is_ok(), "{added:?}");
    }
    Ok(())
}

/// Checks an optimizer's metadata in `file` against its own `metadata` (the
/// same entries [`write`] takes): the kind, every hyper-parameter but the
/// learning rate equal to the bit, no unknown key under `{kind}.`; returns
/// the file's learning rate and step count.
pub(crate) fn read_metadata(
    file: &SafeTensors<'_>,
    kind: &'static str,
    metadata: &[(&'static str, Value)],
) -> Result<Restored> {
    match file.metadata_value(KIND_KEY) {
        None => return Err(Error::MissingMetadata { key: Name::new(KIND_KEY) }),
        Some(found) if found != kind => return Err(Error::WrongOptimizer { expected: kind, found: clip(found) }),
        Some(_) => {}
    }
    let mut restored = Restored { lr: 0.0, step: 0 };
    for &(name, ours) in metadata {
        let key = format!("{kind}.{name}");
        let text = file.metadata_value(&key).ok_or_else(|| Error::MissingMetadata { key: Name::new(&key) })?;
        let theirs = ours.parse_like(text).map_err(|expected| Error::InvalidMetadata {
            key: Name::new(&key),
            value: Name::new(text),
            expected,
        })?;
        match (name, theirs) {
            (LR, Value::Float(lr)) if lr.is_finite() && lr >= 0.0 => restored.lr = lr,
            (LR, _) => {
                return Err(Error::InvalidMetadata {
                    key: Name::new(&key),
                    value: Name::new(text),
                    expected: "a finite value >= 0",
                });
            }
            (STEP, Value::Count(step)) => restored.step = step,
            _ if !ours.same(theirs) => {
                return Err(Error::StateConfig { key, expected: ours.text(), found: theirs.text() });
            }
            _ => {}
        }
    }
    let prefix = format!("{kind}.");
    for (key, _) in file.metadata() {
        let known = key.strip_prefix(&prefix).is_none_or(|name| metadata.iter().any(|&(n, _)| n == name));
        if !known {
            return Err(Error::UnexpectedStateMetadata { key: clip(key) });
        }
    }
    Ok(restored)
}

/// Reads the optimizer's buffers from `file`: for each of `buffers`, one
/// `Vec` per parameter tensor, in visiting order. `started` says whether
/// the state has buffers (Adam: a step count above 0); `None` decides by
/// whether any tensor sits under `{kind}.`. Returns `None` for state before
/// the first step. Every tensor is checked (presence, dtype, shape, finite
/// values), and no tensor under `{kind}.` may be left over.
pub(crate) fn read_buffers<T: Scalar>(
    file: &SafeTensors<'_>,
    kind: &'static str,
    params: &ParameterInfo,
    buffers: &[&'static str],
    started: Option<bool>,
) -> Result<Option<Vec<Vec<Vec<T>>>>> {
    let prefix = format!("{kind}.");
    let under_prefix = || file.names().filter(|name| name.starts_with(&prefix));
    let started = started.unwrap_or_else(|| under_prefix().next().is_some());
    if !started || buffers.is_empty() {
        return match under_prefix().next() {
            Some(name) => Err(Error::UnexpectedStateTensor { name: clip(name) }),
            None => Ok(None),
        };
    }
    let mut expected = Vec::with_capacity(buffers.len() * params.len());
    let mut state = Vec::with_capacity(buffers.len());
    for buffer in buffers {
        let mut tensors = Vec::with_capacity(params.len());
        for (parameter, shape) in params.iter() {
            let name = format!("{prefix}{buffer}.{parameter}");
            tensors.push(read_tensor(file, &name, shape, NON_NEGATIVE.contains(buffer))?);
            expected.push(name);
        }
        state.push(tensors);
    }
    expected.sort_unstable();
    if let Some(name) = under_prefix().find(|name| expected.binary_search_by(|e| e.as_str().cmp(name)).is_err()) {
        return Err(Error::UnexpectedStateTensor { name: clip(name) });
    }
    Ok(Some(state))
}

/// The buffers that are running averages of squares, which can never be
/// negative (their square roots are the steps' denominators): Adam's
/// `exp_avg_sq`, RMSprop's `square_avg`.
const NON_NEGATIVE: &[&str] = &["exp_avg_sq", "square_avg"];

/// Tensor `name` of `file`, checked to be `T` of `shape` with finite values,
/// and none below zero if `non_negative`.
fn read_tensor<T: Scalar>(file: &SafeTensors<'_>, name: &str, shape: &[usize], non_negative: bool) -> Result<Vec<T>> {
    let tensor = file.get(name).ok_or_else(|| Error::MissingStateTensor { name: name.to_string() })?;
    let dtype = Dtype::of::<T>();
    if tensor.dtype() != dtype {
        return Err(Error::StateDtype { name: name.to_string(), expected: dtype.name(), found: tensor.dtype().name() });
    }
    if tensor.shape() != shape {
        return Err(Error::StateShape {
            name: name.to_string(),
            expected: Shape::of(shape),
            found: Shape::of(tensor.shape()),
        });
    }
    let values = tensor.to_vec::<T>()?;
    if let Some((index, value)) = crate::first_non_finite(&values) {
        return Err(Error::NonFinite { what: Name::new(name), index, value: value.as_f64() });
    }
    if non_negative && let Some(index) = values.iter().position(|&v| v < T::zero()) {
        return Err(Error::NegativeState { name: name.to_string(), index, value: values[index].as_f64() });
    }
    Ok(values)
}

/// Moves read buffers (one `Vec` per tensor) into an array state.
pub(crate) fn fill_array<T: Scalar>(array: &mut [T], tensors: Vec<Vec<T>>) {
    let mut offset = 0;
    for tensor in tensors {
        let end = offset + tensor.len();
        if let Some(slot) = array.get_mut(offset..end) {
            slot.copy_from_slice(&tensor);
        }
        offset = end;
    }
}

/// The number of values of a tensor of `shape`.
fn numel(shape: &[usize]) -> usize {
    shape.iter().fold(1usize, |n, &dim| n.saturating_mul(dim))
}

/// Up to 64 characters of text from a file, for an error message.
fn clip(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}
