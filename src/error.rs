//! The crate's one error type.
//!
//! Every fallible public operation returns [`Result<T>`](crate::Result) with an
//! [`Error`] whose message names the shape, value or operation at fault.

use core::fmt;

#[cfg(feature = "alloc")]
use alloc::string::String;

/// Everything that can go wrong in tinymlp, with enough detail to say what and where.
///
/// ```
/// use tinymlp::{Error, Matrix};
///
/// let err = Matrix::<f64>::from_vec(2, 3, vec![1.0; 5]).unwrap_err();
/// assert_eq!(err, Error::DataLength { rows: 2, cols: 3, len: 5 });
/// assert_eq!(err.to_string(), "a 2x3 matrix needs 6 values, got 5");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A flat buffer's length does not equal `rows * cols`.
    DataLength {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
        /// Values supplied.
        len: usize,
    },
    /// Row `row` of nested rows has `len` values where the first row had `expected`.
    RaggedRows {
        /// Index of the first row whose length differs.
        row: usize,
        /// Length of row 0.
        expected: usize,
        /// Length of the offending row.
        len: usize,
    },
    /// The operands of a `Matrix` product do not fit together (the left's
    /// inner width differs from the right's), or the matrix that an `add_`
    /// product accumulates into is not the product's shape. Shapes are as
    /// stored, before the transpose that `form` reads.
    ProductShapes {
        /// Which operand the product reads transposed: `A·B`, `Aᵀ·B` or `A·Bᵀ`.
        form: crate::kernels::Form,
        /// The left operand's shape (rows, cols).
        left: (usize, usize),
        /// The right operand's shape (rows, cols).
        right: (usize, usize),
        /// The output's shape, if it was the output that did not fit (the
        /// operands did); `None` if the operands do not fit.
        output: Option<(usize, usize)>,
    },
    /// Two operands of `op` have shapes that do not fit together.
    ShapeMismatch {
        /// The operation, e.g. `"forward"` or `"loss target"`.
        op: &'static str,
        /// The shape the operation needed (rows, cols).
        expected: (usize, usize),
        /// The shape it was given (rows, cols).
        found: (usize, usize),
    },
    /// A network was described with fewer than two widths (or given no
    /// layer), or layer `layer` has a width of zero, more weights than memory
    /// can hold, or a weight that does not hold `inputs x outputs` values.
    InvalidWidths {
        /// Why the widths were rejected.
        reason: &'static str,
        /// The layer at fault (from 0); `None` when the network as a whole is
        /// (fewer than two widths, no layer).
        layer: Option<usize>,
        /// The layer's input width (0 when `layer` is `None`).
        inputs: usize,
        /// The layer's output width (0 when `layer` is `None`).
        outputs: usize,
    },
    /// Layer `layer`'s input width does not equal the previous layer's output width.
    LayersDoNotChain {
        /// Index of the layer whose input does not fit.
        layer: usize,
        /// Output width of layer `layer - 1`.
        previous_outputs: usize,
        /// Input width of layer `layer`.
        inputs: usize,
    },
    /// A batch with no rows was given where at least one sample is needed.
    EmptyBatch {
        /// The operation that needed samples.
        op: &'static str,
    },
    /// `backward` (or a loss) was called before a `forward` pass cached its inputs.
    NoForwardPass,
    /// A parameter vector has the wrong number of values for the network.
    ParameterCount {
        /// Parameters the network has.
        expected: usize,
        /// Values supplied.
        found: usize,
    },
    /// A hyper-parameter is out of its valid range (e.g. a negative learning rate).
    InvalidHyperParameter {
        /// The parameter's name, e.g. `"beta1"`.
        name: &'static str,
        /// The value given, as f64.
        value: f64,
        /// The valid range in words.
        expected: &'static str,
    },
    /// A name (of an activation, loss or optimizer) is not known.
    UnknownName {
        /// What kind of thing was named, e.g. `"activation"`.
        kind: &'static str,
        /// The name given.
        name: alloc_free::Name,
    },
    /// A file lacks a tensor that the network needs.
    MissingTensor {
        /// The tensor's name, e.g. `layers.1.bias`.
        name: Name,
    },
    /// A file holds a tensor that is not a dense layer's weight or bias (or mixes
    /// `layers.{i}` names with `nn.Sequential` names).
    UnexpectedTensor {
        /// The tensor's name.
        name: Name,
    },
    /// A file has a different number of dense layers than the network.
    LayerCount {
        /// Layers in the network.
        expected: usize,
        /// Layers in the file.
        found: usize,
    },
    /// A tensor's shape does not fit where it goes.
    TensorShape {
        /// The tensor's name.
        tensor: Name,
        /// The shape needed, if one exact shape is (otherwise a 2-D weight with
        /// no zero width was needed).
        expected: Option<Shape>,
        /// The shape found.
        found: Shape,
    },
    /// An activation spec (as in `"leaky_relu(0.2)"`, see
    /// [`Act::from_spec`](crate::Act::from_spec)) does not parse.
    InvalidSpec {
        /// The spec given.
        spec: Name,
        /// What was expected, in words.
        expected: &'static str,
    },
    /// A file's `__metadata__` lacks a key that reading it needs: a model
    /// file's description (`DynMlp::from_described`; a file without any
    /// description, like PyTorch's own `state_dict`, lacks `tinymlp.format`),
    /// an optimizer's state (`optimizer`, `adam.step`, ...) or a checkpoint's
    /// progress (`checkpoint.epoch`, ...).
    MissingMetadata {
        /// The key, e.g. `tinymlp.format`, `tinymlp.layers.2.activation` or
        /// `adam.step`.
        key: Name,
    },
    /// A file's `__metadata__` entry does not hold what its key needs: a format
    /// version this crate does not read, a dtype that is not the tensors', an
    /// activation spec that does not parse, a layer key beyond the file's
    /// layers, an optimizer's hyper-parameter or step count that does not
    /// parse or is out of range, a checkpoint's progress that does not parse.
    InvalidMetadata {
        /// The key.
        key: Name,
        /// The value found (cut as a [`Name`] cuts it).
        value: Name,
        /// What was expected, in words.
        expected: &'static str,
    },
    /// Layer `layer` of a model file has the custom activation `name`, and the
    /// loader was given no activation for that name.
    UnknownActivation {
        /// The layer's index.
        layer: usize,
        /// The name the file records (`custom:{name}`).
        name: Name,
    },
    /// Layer `layer` of a model file has a custom activation that was saved
    /// without a name (its `Activation::name` is `None`), so no loader can
    /// tell what it was.
    UnnamedActivation {
        /// The layer's index.
        layer: usize,
    },
    /// A value is NaN or infinite where finite numbers are required. (`==`
    /// compares `value` too, so an error holding NaN is not `==` to itself:
    /// compare such errors with `matches!` or their text.)
    NonFinite {
        /// What holds it, e.g. a tensor's name or `"x"`.
        what: Name,
        /// Its flat (row-major) index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// Training met a NaN or infinite loss; the weights are as they were before
    /// the step that would have used it.
    NonFiniteLoss {
        /// Epoch (from 0).
        epoch: usize,
        /// Mini-batch within the epoch (from 0).
        batch: usize,
        /// The loss.
        value: f64,
    },
    /// A class index in a target is not below the number of classes.
    ClassOutOfRange {
        /// Row of the target.
        row: usize,
        /// The value found there.
        value: f64,
        /// Number of classes (the output width).
        classes: usize,
    },
    /// An optimizer's state (its moments) was made for parameters of other
    /// shapes: a step on a different network. `tensor` is the first tensor
    /// (in visiting order) whose length differs, or `None` when the number of
    /// tensors differs; `expected` and `found` are then counts of tensors.
    OptimizerState {
        /// The first tensor whose length differs.
        tensor: Option<usize>,
        /// The length (or tensor count) the state was made for.
        expected: usize,
        /// The length (or tensor count) the parameters have.
        found: usize,
    },
    /// An optimizer whose state lives in arrays ([`StaticAdam`](crate::StaticAdam),
    /// [`StaticSgd`](crate::StaticSgd)) was given parameters of another size.
    StateSize {
        /// Values the state holds (the array length).
        expected: usize,
        /// Values the parameters have.
        found: usize,
    },
    /// A value lies outside the range where it is defined (BCE's outputs must
    /// be probabilities).
    OutOfRange {
        /// What holds it, e.g. `"BCE output"`.
        what: &'static str,
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
        /// The value.
        value: f64,
        /// The range it must lie in.
        expected: &'static str,
    },
    /// A name is not usable where it goes (e.g. not a Rust `static` identifier).
    InvalidIdentifier {
        /// The name given.
        name: Name,
        /// What it must look like.
        expected: &'static str,
    },
    /// Layer `layer` has a custom activation, which cannot be written as Rust
    /// source; only the built-ins can.
    CustomActivation {
        /// The layer's index.
        layer: usize,
    },
    /// The buffers an operation needs for this input would be larger than
    /// memory can address (e.g. `predict` on a batch so large that
    /// `rows × widest layer` overflows).
    TooLarge {
        /// The operation.
        op: &'static str,
        /// Rows of the buffer it needed.
        rows: usize,
        /// Columns of the buffer it needed.
        cols: usize,
    },
    /// A network has more layers than an operation supports (Rust-source export
    /// writes tuples of at most 8 layers).
    TooManyLayers {
        /// Layers in the network.
        layers: usize,
        /// The most the operation supports.
        max: usize,
    },
    /// A safetensors file is malformed or unsupported; [`source`](core::error::Error::source)
    /// gives the [`FormatError`](crate::safetensors::FormatError).
    #[cfg(feature = "alloc")]
    Safetensors(crate::safetensors::FormatError),
    /// A checkpoint was refused or could not be written: see
    /// [`CheckpointError`](crate::CheckpointError).
    #[cfg(feature = "alloc")]
    Checkpoint(crate::CheckpointError),
    // Optimizer state read from a file (`OptimizerState::read_state`): one
    // variant per way the state can fail to fit, each naming the tensor or
    // metadata key. Names are kept whole (`rmsprop.momentum_buffer.layers.0.weight`
    // is longer than a `Name`), so these need the heap, as the files do.
    /// An optimizer's state file names another optimizer in its `optimizer`
    /// metadata (e.g. Adam state read into SGD).
    #[cfg(feature = "alloc")]
    WrongOptimizer {
        /// The kind of the optimizer reading it, e.g. `"adam"`.
        expected: &'static str,
        /// The kind the file names.
        found: String,
    },
    /// A metadata entry under an optimizer's prefix that the optimizer does
    /// not know (e.g. `adam.amsgrad`, which this crate does not implement).
    #[cfg(feature = "alloc")]
    UnexpectedStateMetadata {
        /// The metadata key.
        key: String,
    },
    /// A hyper-parameter in an optimizer's state file differs from the
    /// optimizer's own: its state would mean something else under the other
    /// value. (Only the learning rate is taken from the file.)
    #[cfg(feature = "alloc")]
    StateConfig {
        /// The metadata key, e.g. `adam.beta2`.
        key: String,
        /// The optimizer's value.
        expected: String,
        /// The file's value.
        found: String,
    },
    /// An optimizer's state file lacks a buffer for one of the parameter
    /// tensors.
    #[cfg(feature = "alloc")]
    MissingStateTensor {
        /// The tensor's name, e.g. `adam.exp_avg.layers.1.bias`.
        name: String,
    },
    /// An optimizer's state file holds a tensor under the optimizer's prefix
    /// that is not one of its buffers for these parameters (another network,
    /// a buffer another configuration keeps, or state for an optimizer that
    /// has taken no step).
    #[cfg(feature = "alloc")]
    UnexpectedStateTensor {
        /// The tensor's name.
        name: String,
    },
    /// A buffer in an optimizer's state file does not have the shape of its
    /// parameter tensor.
    #[cfg(feature = "alloc")]
    StateShape {
        /// The tensor's name.
        name: String,
        /// The parameter's shape.
        expected: Shape,
        /// The shape in the file.
        found: Shape,
    },
    /// A buffer in an optimizer's state file has another element type than
    /// the optimizer (state is read exactly, never converted).
    #[cfg(feature = "alloc")]
    StateDtype {
        /// The tensor's name.
        name: String,
        /// The optimizer's dtype, `"F32"` or `"F64"`.
        expected: &'static str,
        /// The file's dtype.
        found: &'static str,
    },
    /// A buffer in an optimizer's state file that can never be negative
    /// (a running average of squared gradients: Adam's `exp_avg_sq`,
    /// RMSprop's `square_avg`) holds a negative value, whose square root
    /// would turn the next step's weights into NaN.
    #[cfg(feature = "alloc")]
    NegativeState {
        /// The tensor's name, e.g. `adam.exp_avg_sq.layers.0.weight`.
        name: String,
        /// The value's flat (row-major) index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The [`Schedule`](crate::Schedule) of a `Fit` gave a
    /// learning rate that the optimizer refuses (NaN, negative, infinite, or
    /// beyond the parameters' type), at the start of epoch `epoch`: the
    /// epochs before it were trained, and the optimizer keeps their rate.
    ScheduleRate {
        /// The epoch (from 0) the rate was for.
        epoch: usize,
        /// The rate the schedule gave.
        lr: f64,
        /// What the optimizer accepts, in words.
        expected: &'static str,
    },
}

pub(crate) mod alloc_free {
    //! A short inline string so that [`Error`](super::Error) needs no heap.
    use core::fmt;

    /// The bytes a [`Name`] holds: the names the crate makes fit (optimizer
    /// state tensors such as `rmsprop.momentum_buffer.layers.123.weight`,
    /// `gradient of parameter tensor {n}` for any n below 10^17), and
    /// [`Error`](super::Error) stays at 120 bytes, below the 128 at which
    /// `clippy::result_large_err` warns on every function returning it, in
    /// this crate and its users' (96 bytes would make it 224).
    const CAPACITY: usize = 46;
    /// What ends a name that was cut to fit.
    const CUT: &str = "...";
    /// The flag in `len` that says the name was cut (and takes no more text).
    const CUT_FLAG: u8 = 0x80;

    /// A name of up to 46 bytes, kept inline (no heap). A longer one is cut
    /// at a character boundary and ends with `...`, so that a cut name never
    /// reads as a whole one.
    ///
    /// ```
    /// use tinymlp::Name;
    ///
    /// let whole = "rmsprop.momentum_buffer.layers.123.weight";
    /// assert_eq!(Name::new(whole).as_str(), whole);
    /// let long = "model.encoder.layers.11.self_attention.query_projection.weight";
    /// assert_eq!(Name::new(long).as_str(), "model.encoder.layers.11.self_attention.quer...");
    /// ```
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct Name {
        bytes: [u8; CAPACITY],
        /// The length, with [`CUT_FLAG`] once cut.
        len: u8,
    }

    impl Name {
        const EMPTY: Self = Self { bytes: [0; CAPACITY], len: 0 };

        /// Copies `s` if it has at most 46 bytes; a longer `s` is cut at a
        /// character boundary to end with `...` within 46 bytes.
        #[must_use]
        pub fn new(s: &str) -> Self {
            let mut name = Self::EMPTY;
            name.push(s);
            name
        }

        /// Formats into a name without the heap (cut as [`Name::new`] cuts),
        /// e.g. `Name::format(format_args!("layer {i} weight"))`.
        #[must_use]
        #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by the heap types
        pub(crate) fn format(args: fmt::Arguments<'_>) -> Self {
            let mut name = Self::EMPTY;
            // Writing never fails: excess text is cut.
            let _ = fmt::Write::write_fmt(&mut name, args);
            name
        }

        /// `prefix` followed by `number` in decimal, without `core::fmt` (so
        /// that a no-heap training step links no formatting code). After
        /// `"gradient of parameter tensor "` (29 bytes), numbers below 10^17
        /// are never cut.
        #[must_use]
        pub(crate) fn numbered(prefix: &str, number: usize) -> Self {
            let mut name = Self::new(prefix);
            name.push_number(number);
            name
        }

        /// `{what} row {row} col {col}` (e.g. `loss target row 3 col 1`),
        /// without `core::fmt`, as [`Name::numbered`].
        #[must_use]
        pub(crate) fn cell(what: &str, row: usize, col: usize) -> Self {
            let mut name = Self::new(what);
            name.push(" row ");
            name.push_number(row);
            name.push(" col ");
            name.push_number(col);
            name
        }

        /// Appends `number` in decimal (cut as [`Name::push`] cuts).
        fn push_number(&mut self, number: usize) {
            let mut digits = [0u8; 20];
            let mut start = digits.len();
            let mut rest = number;
            loop {
                start -= 1;
                digits[start] = b'0' + (rest % 10) as u8;
                rest /= 10;
                if rest == 0 {
                    break;
                }
            }
            // ASCII digits: always a valid str.
            self.push(core::str::from_utf8(&digits[start..]).unwrap_or("?"));
        }

        /// The stored text.
        #[must_use]
        pub fn as_str(&self) -> &str {
            // The bytes were copied from a &str at a char boundary.
            core::str::from_utf8(&self.bytes[..self.length()]).unwrap_or("")
        }

        fn length(&self) -> usize {
            usize::from(self.len & !CUT_FLAG)
        }

        /// Appends `s`; if the name would exceed [`CAPACITY`], keeps what fits
        /// with room for [`CUT`] at a character boundary, appends `CUT` and
        /// takes no more text.
        fn push(&mut self, s: &str) {
            if self.len & CUT_FLAG != 0 {
                return;
            }
            let len = self.length();
            if len + s.len() <= CAPACITY {
                self.bytes[len..len + s.len()].copy_from_slice(s.as_bytes());
                self.len = (len + s.len()) as u8;
                return;
            }
            let room = CAPACITY - CUT.len();
            let mut end = if len > room {
                // Cut the stored text itself: back to the start of a character.
                let mut end = room;
                while end > 0 && self.bytes[end] & 0xC0 == 0x80 {
                    end -= 1;
                }
                end
            } else {
                let mut take = room - len;
                while !s.is_char_boundary(take) {
                    take -= 1;
                }
                self.bytes[len..len + take].copy_from_slice(&s.as_bytes()[..take]);
                len + take
            };
            self.bytes[end..end + CUT.len()].copy_from_slice(CUT.as_bytes());
            end += CUT.len();
            // Bytes past the end stay zero, so that the derived `==` sees
            // only the text (a cut can step back over a stored character).
            self.bytes[end..].fill(0);
            self.len = end as u8 | CUT_FLAG;
        }
    }

    impl fmt::Write for Name {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.push(s);
            Ok(())
        }
    }

    impl fmt::Debug for Name {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(self.as_str(), f)
        }
    }

    impl fmt::Display for Name {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.as_str())
        }
    }
}

pub use alloc_free::Name;

/// A tensor's shape, kept without the heap (and small, so that [`Error`] stays
/// cheap to return): the first three dimensions are kept, and the rank is
/// always known.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    dims: [usize; 3],
    rank: usize,
}

impl Shape {
    /// The shape `dims` (dimensions past the third are counted, not kept).
    #[must_use]
    pub fn of(dims: &[usize]) -> Self {
        let mut kept = [0; 3];
        for (k, &d) in kept.iter_mut().zip(dims) {
            *k = d;
        }
        Self { dims: kept, rank: dims.len() }
    }

    /// Number of dimensions.
    #[must_use]
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The kept dimensions (all of them for a rank up to 3).
    #[must_use]
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank.min(3)]
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.dims().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        if self.rank > 3 {
            write!(f, ", ... ({} dims)", self.rank)?;
        }
        f.write_str("]")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::DataLength { rows, cols, len } => match rows.checked_mul(*cols) {
                Some(needed) => write!(f, "a {rows}x{cols} matrix needs {needed} values, got {len}"),
                None => write!(f, "a {rows}x{cols} matrix has more elements than memory can hold (got {len} values)"),
            },
            Error::RaggedRows { row, expected, len } => {
                write!(f, "row {row} has {len} values but row 0 has {expected}; all rows must be equally long")
            }
            Error::ProductShapes { form, left, right, output } => {
                use crate::kernels::Form;
                let (notation, m, k, n) = match form {
                    Form::AB => ("A·B", left.0, left.1, right.1),
                    Form::AtB => ("Aᵀ·B", left.1, left.0, right.1),
                    Form::ABt => ("A·Bᵀ", left.0, left.1, right.0),
                };
                write!(
                    f,
                    "matrix product {notation}: left is {}x{}, right is {}x{}",
                    left.0, left.1, right.0, right.1
                )?;
                match (output, form) {
                    (Some(out), _) => write!(f, ", so the output must be {m}x{n}, got {}x{}", out.0, out.1),
                    (None, Form::AB) => write!(f, "; the right needs {k} rows (the left's columns)"),
                    (None, Form::AtB) => write!(f, "; the right needs {k} rows (the left's rows)"),
                    (None, Form::ABt) => write!(f, "; the right needs {k} columns (the left's columns)"),
                }
            }
            Error::ShapeMismatch { op, expected, found } => {
                write!(f, "{op}: expected a {}x{} matrix, got {}x{}", expected.0, expected.1, found.0, found.1)
            }
            Error::InvalidWidths { reason, layer: None, .. } => write!(f, "invalid network widths: {reason}"),
            Error::InvalidWidths { reason, layer: Some(layer), inputs, outputs } => {
                write!(f, "invalid network widths: layer {layer} ({inputs} inputs, {outputs} outputs): {reason}")
            }
            Error::LayersDoNotChain { layer, previous_outputs, inputs } => match layer.checked_sub(1) {
                Some(previous) => write!(
                    f,
                    "layer {layer} takes {inputs} inputs but layer {previous} gives {previous_outputs} outputs"
                ),
                None => write!(f, "layer 0 takes {inputs} inputs but the network's input is {previous_outputs} wide"),
            },
            Error::EmptyBatch { op } => write!(f, "{op}: the batch has no rows"),
            Error::NoForwardPass => f.write_str("backward needs a forward pass first: call forward on this batch"),
            Error::ParameterCount { expected, found } => {
                write!(f, "the network has {expected} parameters, got {found} values")
            }
            Error::InvalidHyperParameter { name, value, expected } => {
                write!(f, "{name} = {value} is invalid: expected {expected}")
            }
            Error::UnknownName { kind, name } => {
                write!(f, "unknown {kind} name {name:?}")?;
                if *kind == "activation" {
                    f.write_str(" (known: ")?;
                    for (i, act) in crate::Act::ALL.iter().enumerate() {
                        write!(f, "{}{act}", if i == 0 { "" } else { ", " })?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            Error::MissingTensor { name } => write!(f, "the file has no tensor {name:?}"),
            Error::UnexpectedTensor { name } => write!(
                f,
                "tensor {name:?} is not a dense layer's weight or bias (expected layers.{{i}}.weight/bias \
                 or an nn.Sequential's {{k}}.weight/bias, not both)"
            ),
            Error::LayerCount { expected, found } => {
                write!(f, "the file has {found} dense layers but the network has {expected}")
            }
            Error::TensorShape { tensor, expected: Some(expected), found } => {
                write!(f, "tensor {tensor:?} has shape {found}, expected {expected}")
            }
            Error::TensorShape { tensor, expected: None, found } => {
                write!(
                    f,
                    "tensor {tensor:?} has shape {found}, expected a 2-D [outputs, inputs] weight, both at least 1"
                )
            }
            Error::InvalidSpec { spec, expected } => write!(f, "invalid activation spec {spec:?}: expected {expected}"),
            Error::MissingMetadata { key } => {
                write!(f, "the file's metadata has no {key:?}")?;
                if key.as_str() == "tinymlp.format" {
                    f.write_str(
                        ": it has no tinymlp description (a file such as a PyTorch state_dict loads with \
                         from_safetensors and the activations given)",
                    )?;
                }
                Ok(())
            }
            Error::InvalidMetadata { key, value, expected } => {
                write!(f, "metadata {key:?} = {value:?} is invalid: expected {expected}")
            }
            Error::UnknownActivation { layer, name } => write!(
                f,
                "layer {layer} has the custom activation {name:?}, which the loader was not given \
                 (map the name to your activation with from_described_with)"
            ),
            Error::UnnamedActivation { layer } => write!(
                f,
                "layer {layer} has a custom activation saved without a name (give it one with \
                 Activation::name); load this file with from_safetensors and the activations given"
            ),
            Error::NonFinite { what, index, value } => {
                write!(f, "{what} holds {value} at index {index}; only finite values are allowed")
            }
            Error::NonFiniteLoss { epoch, batch, value } => {
                write!(f, "the loss is {value} at epoch {epoch}, batch {batch}; training stopped before the step")
            }
            Error::StateSize { expected, found } => write!(
                f,
                "the optimizer's state holds {expected} values but the parameters have {found} \
                 (its size must be the network's parameter count)"
            ),
            Error::OptimizerState { tensor, expected, found } => {
                f.write_str("the optimizer's state was made for other parameters: ")?;
                match tensor {
                    Some(tensor) => write!(f, "tensor {tensor} has {found} values, the state {expected}")?,
                    None => write!(f, "they have {found} tensors, the state {expected}")?,
                }
                f.write_str(" (reset the optimizer or make a new one for a new network)")
            }
            Error::OutOfRange { what, row, col, value, expected } => {
                write!(f, "{what} at row {row}, column {col} is {value}: expected {expected}")
            }
            Error::ClassOutOfRange { row, value, classes } => {
                write!(f, "target row {row} holds class {value}, but there are {classes} classes (0..{classes})")
            }
            Error::InvalidIdentifier { name, expected } => write!(f, "{name:?} is not {expected}"),
            Error::CustomActivation { layer } => write!(
                f,
                "layer {layer} has a custom activation; only the built-in activations can be exported as Rust source"
            ),
            Error::TooLarge { op, rows, cols } => {
                write!(f, "{op}: a {rows}x{cols} buffer would be larger than memory can address")
            }
            Error::TooManyLayers { layers, max } => {
                write!(f, "the network has {layers} layers; this supports at most {max}")
            }
            #[cfg(feature = "alloc")]
            Error::Safetensors(e) => write!(f, "safetensors: {e}"),
            #[cfg(feature = "alloc")]
            Error::Checkpoint(e) => write!(f, "{e}"),
            #[cfg(feature = "alloc")]
            Error::WrongOptimizer { expected, found } => {
                write!(f, "the file holds {found:?} optimizer state, not {expected:?}")
            }
            #[cfg(feature = "alloc")]
            Error::UnexpectedStateMetadata { key } => {
                write!(f, "optimizer state metadata {key:?} is not known to this optimizer")
            }
            #[cfg(feature = "alloc")]
            Error::StateConfig { key, expected, found } => write!(
                f,
                "optimizer state was saved with {key} = {found}, but this optimizer has {expected} \
                 (make the optimizer with the saved hyper-parameters)"
            ),
            #[cfg(feature = "alloc")]
            Error::MissingStateTensor { name } => write!(f, "the optimizer state has no tensor {name:?}"),
            #[cfg(feature = "alloc")]
            Error::UnexpectedStateTensor { name } => {
                write!(f, "optimizer state tensor {name:?} is not a buffer this optimizer keeps for these parameters")
            }
            #[cfg(feature = "alloc")]
            Error::StateShape { name, expected, found } => {
                write!(f, "optimizer state tensor {name:?} has shape {found}, its parameter {expected}")
            }
            #[cfg(feature = "alloc")]
            Error::StateDtype { name, expected, found } => {
                write!(f, "optimizer state tensor {name:?} is {found}, the optimizer computes in {expected}")
            }
            #[cfg(feature = "alloc")]
            Error::NegativeState { name, index, value } => write!(
                f,
                "optimizer state tensor {name:?} holds {value} at index {index}; \
                 a running average of squares is never negative"
            ),
            Error::ScheduleRate { epoch, lr, expected } => write!(
                f,
                "the schedule's learning rate for epoch {epoch} is {lr}, which the optimizer refuses \
                 (expected {expected}); training stopped before the epoch"
            ),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            #[cfg(feature = "alloc")]
            Error::Safetensors(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(feature = "alloc")]
impl From<crate::safetensors::FormatError> for Error {
    fn from(e: crate::safetensors::FormatError) -> Self {
        Error::Safetensors(e)
    }
}

/// `core::result::Result` with tinymlp's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::Name;
    use alloc::format;
    use alloc::string::{String, ToString};

    #[test]
    fn numbered_names_match_formatted_ones() {
        let largest = 10usize.pow(17) - 1;
        for number in [0, 1, 9, 10, 99, 100, 1_000, 12_345, u32::MAX as usize, largest] {
            let formatted = Name::format(format_args!("gradient of parameter tensor {number}"));
            let numbered = Name::numbered("gradient of parameter tensor ", number);
            assert_eq!(numbered, formatted, "{number}");
            // Never cut: the whole number is there.
            assert_eq!(numbered.as_str(), format!("gradient of parameter tensor {number}"));
        }
        // Beyond, cut visibly as any name.
        let cut = Name::numbered("gradient of parameter tensor ", usize::MAX);
        assert_eq!(cut, Name::format(format_args!("gradient of parameter tensor {}", usize::MAX)));
        assert_eq!(cut.as_str(), "gradient of parameter tensor 18446744073709...");
    }

    /// Names up to the capacity are kept whole; longer ones end in `...`
    /// within it, never splitting a character, however the text arrives.
    #[test]
    fn long_names_are_cut_visibly_at_a_character_boundary() {
        use core::fmt::Write;
        let name = "rmsprop.momentum_buffer.layers.123.weight";
        assert_eq!(Name::new(name).as_str(), name);
        let exact = "x".repeat(46);
        assert_eq!(Name::new(&exact).as_str(), exact);
        let over = "y".repeat(47);
        assert_eq!(Name::new(&over).as_str(), format!("{}...", &over[..43]));
        // A 3-byte character across the cut is dropped whole.
        let wide = format!("{}€tail-that-does-not-fit", "z".repeat(42));
        assert_eq!(Name::new(&wide).as_str(), format!("{}...", "z".repeat(42)));
        // The stored text itself is cut when the overflow comes in a later write.
        let mut pieces = Name::new(&format!("{}é", "a".repeat(43)));
        assert_eq!(pieces.as_str().len(), 45);
        pieces.write_str("bc").unwrap();
        assert_eq!(pieces.as_str(), format!("{}...", "a".repeat(43)));
        pieces.write_str("more").unwrap();
        assert_eq!(pieces.as_str(), format!("{}...", "a".repeat(43)), "no text after the cut");
        // Equal text is an equal name, however it was written: a cut that
        // steps back over a stored character leaves no stale bytes behind.
        let stored = format!("{}😀ab", "a".repeat(40));
        let mut two_writes = Name::new(&stored);
        two_writes.write_str("c").unwrap();
        assert_eq!(two_writes.as_str(), Name::new(&format!("{stored}c")).as_str());
        assert!(two_writes == Name::new(&format!("{stored}c")));
        for len in 0..120 {
            let text: String = "ab€".chars().cycle().take(len).collect();
            let kept = Name::new(&text);
            assert!(kept.as_str().len() <= 46, "{len}");
            if text.len() <= 46 {
                assert_eq!(kept.as_str(), text);
            } else {
                let stem = kept.as_str().strip_suffix("...").unwrap();
                assert!(text.starts_with(stem) && stem.len() >= 43 - 2, "{len}: {kept}");
            }
        }
    }

    /// The message of the reviewer's case names the whole tensor.
    #[test]
    fn non_finite_messages_name_the_whole_tensor() {
        let error = super::Error::NonFinite {
            what: Name::new("rmsprop.momentum_buffer.layers.1.bias"),
            index: 0,
            value: f64::NAN,
        };
        assert_eq!(
            error.to_string(),
            "rmsprop.momentum_buffer.layers.1.bias holds NaN at index 0; only finite values are allowed"
        );
        // Below clippy::result_large_err's 128 bytes (see `CAPACITY`).
        assert!(core::mem::size_of::<super::Error>() < 128, "{}", core::mem::size_of::<super::Error>());
    }
}
