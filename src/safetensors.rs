//! Reading and writing [safetensors](https://github.com/huggingface/safetensors) files,
//! without dependencies (needs the `alloc` feature).
//!
//! A safetensors file is an 8-byte little-endian `u64` header length `N`, then `N` bytes of
//! UTF-8 JSON, then the data section. The header is one JSON object mapping each tensor name to
//! `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}` (byte offsets into the data
//! section, which is little-endian and row-major), plus an optional `"__metadata__"` object of
//! strings. tinymlp reads and writes the two dtypes it computes with, `F32` and `F64`.
//!
//! ```
//! use tinymlp::safetensors::{Dtype, SafeTensors, Writer};
//!
//! let mut writer = Writer::new();
//! writer.add("layer0.weight", &[2, 3], &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])?;
//! writer.add("layer0.bias", &[2], &[0.5f64, -0.5])?;
//! writer.metadata("format", "pt");
//! let bytes = writer.to_bytes();
//!
//! let file = SafeTensors::parse(&bytes)?;
//! let weight = file.get("layer0.weight").expect("written above");
//! assert_eq!((weight.dtype(), weight.shape()), (Dtype::F32, &[2, 3][..]));
//! assert_eq!(weight.to_vec::<f32>()?, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! assert_eq!(file.metadata_value("format"), Some("pt"));
//! # Ok::<(), tinymlp::Error>(())
//! ```
//!
//! ## What the reader checks
//! [`SafeTensors::parse`] treats its input as hostile: it never panics, never reads out of
//! bounds and never allocates more than a small multiple of the input's length. It rejects, each
//! with its own [`FormatError`] variant naming the tensor or field at fault:
//! - a file shorter than 8 bytes, a header length beyond the file or above [`MAX_HEADER_LEN`]
//!   (the reference implementation's limit), a header that is not UTF-8;
//! - JSON syntax errors (with the byte position), a header that does not start with `{`;
//! - tensor entries with a missing, unknown, repeated or wrongly typed field; dtypes other than
//!   `F32` and `F64` (other safetensors dtypes such as `BF16` are named as unsupported); shape
//!   entries and offsets that are not non-negative integers (`1.0`, `-1` and `1e3` are rejected,
//!   as serde_json, which the reference implementation uses, rejects them); shapes whose size
//!   overflows `usize`;
//! - `data_offsets` that are not `[begin, end]` with `begin <= end <= ` the data section's length,
//!   or whose length is not the shape's element count times the dtype's size;
//! - tensors that overlap, and data bytes that belong to no tensor: like the reference
//!   implementation, the tensors must tile the data section exactly, so that a file cannot hide
//!   other content (a "polyglot") in its gaps;
//! - a tensor name or `__metadata__` key that appears twice;
//! - a `__metadata__` that is not an object of strings.
//!
//! That is stricter than the Python library (0.8), which follows serde's defaults: it also
//! accepts whitespace before the `{` and `"__metadata__": null`, ignores unknown fields, and
//! keeps the last of duplicate keys. The format's description forbids duplicate keys and
//! leading whitespace; the other two never occur in files its writers produce.
//!
//! The JSON parser reads exactly the header's shape (an object of objects of strings and integer
//! arrays) without recursion, so nesting cannot exhaust the stack: a value of the wrong kind is
//! reported as soon as its first byte is seen. Whitespace may appear wherever JSON allows it,
//! including the trailing spaces writers pad the header with.
//!
//! ## What the writer produces
//! [`Writer`] writes what Python's `safetensors.torch.load_file` reads: tensors in insertion
//! order both in the header and in the data section, `__metadata__` (first) only if some was
//! given, the header padded with spaces to a multiple of 8 bytes, little-endian data.
//! Insertion order is kept even where it leaves an `F64` tensor at an offset that is not a
//! multiple of 8 (Python reads such files); add `F64` tensors before `F32` ones to get the
//! alignment Python's own writer gives, which orders data by dtype size.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;

use crate::{Name, Scalar};

/// The largest header [`SafeTensors::parse`] accepts, in bytes: the reference implementation's
/// limit, so that both accept the same files.
pub const MAX_HEADER_LEN: usize = 100_000_000;

/// The key of the optional string-to-string metadata object in the header.
const METADATA_KEY: &str = "__metadata__";

/// Every other dtype the safetensors format defines, so that a file using one is reported as
/// unsupported by name rather than as garbage.
const OTHER_DTYPES: [&str; 18] = [
    "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "I16", "U16", "F16", "BF16",
    "I32", "U32", "C64", "I64", "U64",
];

/// The element types tinymlp reads and writes: the safetensors names of [`Scalar`]'s two types.
///
/// ```
/// use tinymlp::safetensors::Dtype;
///
/// assert_eq!(Dtype::of::<f32>(), Dtype::F32);
/// assert_eq!((Dtype::F64.name(), Dtype::F64.size()), ("F64", 8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    /// IEEE 754 binary32, little-endian (`f32`).
    F32,
    /// IEEE 754 binary64, little-endian (`f64`).
    F64,
}

impl Dtype {
    /// Bytes per element: 4 or 8.
    #[must_use]
    pub const fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    /// The name the header uses: `"F32"` or `"F64"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "F32",
            Dtype::F64 => "F64",
        }
    }

    /// The dtype that stores `T`.
    #[must_use]
    pub fn of<T: Scalar>() -> Self {
        // Scalar is sealed to f32 and f64, so its name decides.
        if T::NAME == "f32" { Dtype::F32 } else { Dtype::F64 }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "F32" => Some(Dtype::F32),
            "F64" => Some(Dtype::F64),
            _ => None,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a safetensors file was rejected, or a tensor could not be written or converted.
///
/// Every variant names the tensor, field or byte position at fault. Names are kept inline
/// (so that the error needs no heap) and are truncated to their first 32 bytes.
/// Positions called "byte ... of the header" count from the first byte after the 8-byte length.
///
/// ```
/// use tinymlp::safetensors::{FormatError, SafeTensors};
///
/// let header = br#"{"x":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#;
/// let mut file = (header.len() as u64).to_le_bytes().to_vec();
/// file.extend_from_slice(header);
/// file.extend_from_slice(&[0, 0]);
/// let err = SafeTensors::parse(&file).unwrap_err();
/// assert!(matches!(err, FormatError::UnsupportedDtype { dtype: "BF16", .. }));
/// assert_eq!(err.to_string(), r#"dtype BF16 of tensor "x" is not supported (only F32 and F64)"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// The file is shorter than the 8 bytes that hold the header length.
    FileTooShort {
        /// The file's length in bytes.
        len: usize,
    },
    /// The header length is above [`MAX_HEADER_LEN`].
    HeaderTooLarge {
        /// The header length the file declares.
        header_len: u64,
    },
    /// The header length runs past the end of the file.
    HeaderBeyondFile {
        /// The header length the file declares.
        header_len: u64,
        /// The bytes that follow the length field.
        available: usize,
    },
    /// The header is not valid UTF-8.
    HeaderNotUtf8 {
        /// Byte of the header where the invalid sequence starts.
        position: usize,
    },
    /// The header does not start with `{`: it is empty, not an object, or starts with whitespace.
    HeaderNotObject {
        /// The header's first byte, if it has one.
        found: Option<u8>,
    },
    /// The header is not valid JSON.
    Json {
        /// Byte of the header where the problem was found.
        position: usize,
        /// What is wrong there.
        problem: &'static str,
    },
    /// A tensor's entry is not a JSON object.
    TensorNotObject {
        /// The tensor's name.
        tensor: Name,
        /// What was found instead, e.g. `"an array"`.
        found: &'static str,
    },
    /// A field of a tensor's entry has the wrong JSON type.
    FieldType {
        /// The tensor's name.
        tensor: Name,
        /// The field: `"dtype"`, `"shape"` or `"data_offsets"`.
        field: &'static str,
        /// What the field must be.
        expected: &'static str,
        /// What was found instead.
        found: &'static str,
    },
    /// An entry of `shape` or `data_offsets` is not a non-negative integer that fits `usize`.
    NotAnInteger {
        /// The tensor's name.
        tensor: Name,
        /// The field: `"shape"` or `"data_offsets"`.
        field: &'static str,
        /// Index of the entry in the array.
        index: usize,
        /// What was found instead, e.g. `"a negative number"`.
        found: &'static str,
    },
    /// A tensor's entry lacks a field.
    MissingField {
        /// The tensor's name.
        tensor: Name,
        /// The missing field.
        field: &'static str,
    },
    /// A tensor's entry has a field other than `dtype`, `shape` and `data_offsets`.
    UnknownField {
        /// The tensor's name.
        tensor: Name,
        /// The unexpected field.
        field: Name,
    },
    /// A tensor's entry has the same field twice.
    DuplicateField {
        /// The tensor's name.
        tensor: Name,
        /// The repeated field.
        field: &'static str,
    },
    /// A tensor has a safetensors dtype other than `F32` and `F64`, e.g. `BF16`.
    UnsupportedDtype {
        /// The tensor's name.
        tensor: Name,
        /// The dtype, e.g. `"BF16"`.
        dtype: &'static str,
    },
    /// A tensor's dtype is not a safetensors dtype at all (e.g. `"float32"`).
    UnknownDtype {
        /// The tensor's name.
        tensor: Name,
        /// The dtype string.
        dtype: Name,
    },
    /// The element count or byte size of a tensor's shape overflows `usize`.
    ShapeOverflow {
        /// The tensor's name.
        tensor: Name,
    },
    /// A tensor's `data_offsets` does not hold exactly two integers.
    OffsetsCount {
        /// The tensor's name.
        tensor: Name,
        /// How many it holds.
        count: usize,
    },
    /// A tensor's `data_offsets` begins after it ends.
    OffsetsReversed {
        /// The tensor's name.
        tensor: Name,
        /// The first offset.
        begin: usize,
        /// The second offset.
        end: usize,
    },
    /// A tensor's data ends beyond the data section.
    OffsetsBeyondData {
        /// The tensor's name.
        tensor: Name,
        /// The end offset.
        end: usize,
        /// The data section's length in bytes.
        data_len: usize,
    },
    /// A tensor's `data_offsets` span a different number of bytes than its shape and dtype need.
    ByteLength {
        /// The tensor's name.
        tensor: Name,
        /// The tensor's dtype.
        dtype: Dtype,
        /// The shape's element count.
        elements: usize,
        /// Bytes the shape and dtype need.
        expected: usize,
        /// Bytes the offsets span.
        found: usize,
    },
    /// Two tensors' data overlap.
    Overlap {
        /// The tensor that starts inside the other.
        tensor: Name,
        /// Its first offset.
        begin: usize,
        /// The tensor it starts inside.
        other: Name,
        /// The other tensor's end offset.
        other_end: usize,
    },
    /// Bytes between two tensors' data belong to no tensor.
    Gap {
        /// The tensor after the gap.
        tensor: Name,
        /// First unused byte of the data section.
        begin: usize,
        /// One past the last unused byte (where `tensor` begins).
        end: usize,
    },
    /// Bytes at the end of the data section belong to no tensor.
    UnusedBytes {
        /// First unused byte of the data section.
        begin: usize,
        /// The data section's length.
        end: usize,
    },
    /// A tensor name (or `__metadata__`) appears twice in the header, or was added twice to a
    /// [`Writer`].
    DuplicateTensor {
        /// The repeated name.
        name: Name,
    },
    /// `__metadata__` is not a JSON object.
    MetadataNotObject {
        /// What was found instead.
        found: &'static str,
    },
    /// A `__metadata__` value is not a string.
    MetadataValueNotString {
        /// The key whose value is wrong.
        key: Name,
        /// What was found instead.
        found: &'static str,
    },
    /// `__metadata__` has the same key twice.
    DuplicateMetadataKey {
        /// The repeated key.
        key: Name,
    },
    /// A [`Writer`] was asked to name a tensor `__metadata__`.
    ReservedName,
    /// A [`Writer`] was given a different number of values than the shape has elements.
    DataLength {
        /// The tensor's name.
        tensor: Name,
        /// The shape's element count.
        elements: usize,
        /// Values given.
        len: usize,
    },
    /// [`TensorView::to_vec`] asked for a type other than the tensor's.
    DtypeMismatch {
        /// The tensor's name.
        tensor: Name,
        /// The tensor's dtype.
        dtype: Dtype,
        /// The dtype of the type asked for.
        requested: Dtype,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::FileTooShort { len } => {
                write!(f, "the file has {len} bytes, fewer than the 8 that hold the header length")
            }
            FormatError::HeaderTooLarge { header_len } => {
                write!(f, "the header length {header_len} is above the limit of {MAX_HEADER_LEN} bytes")
            }
            FormatError::HeaderBeyondFile { header_len, available } => write!(
                f,
                "the header length {header_len} runs past the end of the file ({available} bytes follow the length)"
            ),
            FormatError::HeaderNotUtf8 { position } => {
                write!(f, "the header is not valid UTF-8 (at byte {position} of the header)")
            }
            FormatError::HeaderNotObject { found: None } => {
                f.write_str("the header is empty; it must be a JSON object")
            }
            FormatError::HeaderNotObject { found: Some(byte) } => {
                f.write_str("the header must be a JSON object starting with '{' at its first byte, found ")?;
                if byte.is_ascii_graphic() {
                    write!(f, "{:?}", char::from(*byte))
                } else {
                    write!(f, "byte {byte:#04x}")
                }
            }
            FormatError::Json { position, problem } => {
                write!(f, "invalid JSON at byte {position} of the header: {problem}")
            }
            FormatError::TensorNotObject { tensor, found } => {
                write!(f, "the entry of tensor {tensor:?} must be an object, found {found}")
            }
            FormatError::FieldType { tensor, field, expected, found } => {
                write!(f, "{field} of tensor {tensor:?} must be {expected}, found {found}")
            }
            FormatError::NotAnInteger { tensor, field, index, found } => {
                write!(f, "{field}[{index}] of tensor {tensor:?} must be a non-negative integer, found {found}")
            }
            FormatError::MissingField { tensor, field } => write!(f, "tensor {tensor:?} has no {field} field"),
            FormatError::UnknownField { tensor, field } => write!(
                f,
                "tensor {tensor:?} has an unknown field {field:?} (the fields are dtype, shape and data_offsets)"
            ),
            FormatError::DuplicateField { tensor, field } => write!(f, "tensor {tensor:?} has the {field} field twice"),
            FormatError::UnsupportedDtype { tensor, dtype } => {
                write!(f, "dtype {dtype} of tensor {tensor:?} is not supported (only F32 and F64)")
            }
            FormatError::UnknownDtype { tensor, dtype } => {
                write!(f, "dtype {dtype:?} of tensor {tensor:?} is not a safetensors dtype")
            }
            FormatError::ShapeOverflow { tensor } => {
                write!(f, "the shape of tensor {tensor:?} has more elements or bytes than usize can count")
            }
            FormatError::OffsetsCount { tensor, count } => write!(
                f,
                "data_offsets of tensor {tensor:?} must hold exactly two integers [begin, end], found {count}"
            ),
            FormatError::OffsetsReversed { tensor, begin, end } => {
                write!(f, "data_offsets of tensor {tensor:?} begin at {begin}, after their end {end}")
            }
            FormatError::OffsetsBeyondData { tensor, end, data_len } => write!(
                f,
                "data_offsets of tensor {tensor:?} end at byte {end}, beyond the {data_len}-byte data section"
            ),
            FormatError::ByteLength { tensor, dtype, elements, expected, found } => write!(
                f,
                "tensor {tensor:?} has {elements} {dtype} elements, which take {expected} bytes, \
                 but its data_offsets span {found} bytes"
            ),
            FormatError::Overlap { tensor, begin, other, other_end } => write!(
                f,
                "tensor {tensor:?} begins at byte {begin} of the data section, \
                 inside tensor {other:?} which ends at byte {other_end}"
            ),
            FormatError::Gap { tensor, begin, end } => {
                write!(f, "bytes {begin}..{end} of the data section, before tensor {tensor:?}, belong to no tensor")
            }
            FormatError::UnusedBytes { begin, end } => {
                write!(f, "bytes {begin}..{end} at the end of the data section belong to no tensor")
            }
            FormatError::DuplicateTensor { name } if name.as_str() == METADATA_KEY => {
                write!(f, "{METADATA_KEY} appears twice in the header")
            }
            FormatError::DuplicateTensor { name } => write!(f, "tensor name {name:?} appears twice"),
            FormatError::MetadataNotObject { found } => {
                write!(f, "{METADATA_KEY} must be an object of strings, found {found}")
            }
            FormatError::MetadataValueNotString { key, found } => {
                write!(f, "{METADATA_KEY} entry {key:?} must be a string, found {found}")
            }
            FormatError::DuplicateMetadataKey { key } => write!(f, "{METADATA_KEY} has the key {key:?} twice"),
            FormatError::ReservedName => {
                write!(f, "{METADATA_KEY:?} is reserved for the file's metadata and cannot name a tensor")
            }
            FormatError::DataLength { tensor, elements, len } => {
                write!(f, "the shape of tensor {tensor:?} has {elements} elements but {len} values were given")
            }
            FormatError::DtypeMismatch { tensor, dtype, requested } => {
                write!(f, "tensor {tensor:?} holds {dtype} values, not {requested} (to_f64_vec reads either)")
            }
        }
    }
}

impl core::error::Error for FormatError {}

/// One tensor of a parsed file: its name, dtype, shape and little-endian bytes, borrowed from
/// the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorView<'a> {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: &'a [u8],
    /// Where `bytes` begins and ends in the data section, for the layout checks.
    begin: usize,
    end: usize,
}

impl<'a> TensorView<'a> {
    /// The tensor's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tensor's element type.
    #[must_use]
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The tensor's shape, outermost dimension first (row-major); `[]` for a scalar.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The tensor's data as stored: little-endian, row-major.
    #[must_use]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The number of elements: the product of the shape (1 for a scalar).
    #[must_use]
    pub fn len(&self) -> usize {
        // The parser checked that the bytes are exactly elements * size.
        self.bytes.len() / self.dtype.size()
    }

    /// Whether the tensor has no elements (a zero in its shape).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The values as `T`, exactly as stored, if the tensor's dtype is `T`'s.
    ///
    /// There is no silent conversion: reading `F64` data as `f32` would round. Use
    /// [`to_f64_vec`](Self::to_f64_vec) to read either dtype as f64 (exactly).
    ///
    /// # Errors
    /// [`FormatError::DtypeMismatch`] if the dtype is not [`Dtype::of::<T>()`](Dtype::of).
    pub fn to_vec<T: Scalar>(&self) -> Result<Vec<T>, FormatError> {
        let requested = Dtype::of::<T>();
        if requested != self.dtype {
            return Err(FormatError::DtypeMismatch { tensor: Name::new(&self.name), dtype: self.dtype, requested });
        }
        Ok(match self.dtype {
            Dtype::F32 => self.bytes.chunks_exact(4).map(|c| same::<T, f32>(f32::from_le_bytes(array(c)))).collect(),
            Dtype::F64 => self.bytes.chunks_exact(8).map(|c| same::<T, f64>(f64::from_le_bytes(array(c)))).collect(),
        })
    }

    /// The values as f64, whatever the dtype (widening `F32` is exact).
    #[must_use]
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self.dtype {
            Dtype::F32 => self.bytes.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes(array(c)))).collect(),
            Dtype::F64 => self.bytes.chunks_exact(8).map(|c| f64::from_le_bytes(array(c))).collect(),
        }
    }
}

/// Copies a chunk into an array; `chunks_exact` guarantees the length, and zipping keeps even a
/// wrong length from panicking.
fn array<const N: usize>(chunk: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (dst, src) in out.iter_mut().zip(chunk) {
        *dst = *src;
    }
    out
}

/// `value` as `T` when `U` is `T`: a plain copy, so that every bit (NaN payloads included)
/// survives. Callers only call it with `T == U`; otherwise it converts through f64.
fn same<T: Scalar, U: Scalar>(value: U) -> T {
    let mut out = T::zero();
    match (&mut out as &mut dyn Any).downcast_mut::<U>() {
        Some(slot) => *slot = value,
        None => out = T::from_f64(value.to_f64()),
    }
    out
}

/// A parsed safetensors file: its tensors (borrowing their data from the input) and metadata.
///
/// ```
/// use tinymlp::safetensors::{SafeTensors, Writer};
///
/// let mut writer = Writer::new();
/// writer.add("b", &[2], &[1.0f64, 2.0])?.add("a", &[], &[3.0f32])?;
/// let bytes = writer.to_bytes();
/// let file = SafeTensors::parse(&bytes)?;
/// assert_eq!(file.names().collect::<Vec<_>>(), ["b", "a"]);
/// assert_eq!(file.get("a").map(|t| t.to_f64_vec()), Some(vec![3.0]));
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeTensors<'a> {
    /// In the order of their data in the file.
    tensors: Vec<TensorView<'a>>,
    /// Indices into `tensors`, sorted by name, for [`get`](Self::get).
    by_name: Vec<usize>,
    metadata: Vec<(String, String)>,
}

impl<'a> SafeTensors<'a> {
    /// Parses and validates a whole safetensors file (see the [module docs](self) for every check).
    ///
    /// # Errors
    /// The first problem found, as a [`FormatError`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, FormatError> {
        let Some((length, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(FormatError::FileTooShort { len: bytes.len() });
        };
        let header_len = u64::from_le_bytes(*length);
        // Both checks come before anything is sized by the header length.
        if header_len > MAX_HEADER_LEN as u64 {
            return Err(FormatError::HeaderTooLarge { header_len });
        }
        let beyond = FormatError::HeaderBeyondFile { header_len, available: rest.len() };
        let n = usize::try_from(header_len).map_err(|_| beyond)?;
        let (header, data) = rest.split_at_checked(n).ok_or(beyond)?;
        let text =
            core::str::from_utf8(header).map_err(|e| FormatError::HeaderNotUtf8 { position: e.valid_up_to() })?;
        if header.first() != Some(&b'{') {
            return Err(FormatError::HeaderNotObject { found: header.first().copied() });
        }

        let (mut tensors, metadata) = Parser { text, bytes: header, pos: 0 }.header(data)?;
        // Stable, so that zero-sized tensors sharing an offset stay in header order.
        tensors.sort_by_key(|t| (t.begin, t.end));
        let by_name = sorted_by_name(&tensors);
        if let Some(name) = first_repeat(by_name.iter().map(|&i| name_at(&tensors, i))) {
            return Err(FormatError::DuplicateTensor { name: Name::new(name) });
        }
        check_layout(&tensors, data.len())?;
        Ok(Self { tensors, by_name, metadata })
    }

    /// The tensors, in the order of their data in the file (by `data_offsets`; zero-sized tensors
    /// at the same offset in header order). Python's `save_file` orders data by dtype, then name.
    #[must_use]
    pub fn tensors(&self) -> &[TensorView<'a>] {
        &self.tensors
    }

    /// The tensor called `name`, if there is one.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&TensorView<'a>> {
        let found = self.by_name.binary_search_by(|&i| name_at(&self.tensors, i).cmp(name)).ok()?;
        self.by_name.get(found).and_then(|&i| self.tensors.get(i))
    }

    /// The tensors' names, in the order of [`tensors`](Self::tensors).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.iter().map(TensorView::name)
    }

    /// The number of tensors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether the file holds no tensors.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// The `__metadata__` entries as (key, value), in header order; empty if there were none.
    #[must_use]
    pub fn metadata(&self) -> &[(String, String)] {
        &self.metadata
    }

    /// The `__metadata__` value of `key`, if there is one.
    #[must_use]
    pub fn metadata_value(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The product of `shape`, unless it overflows. A zero anywhere makes it 0, whatever the order
/// of the other dimensions.
fn element_count(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |n, &dim| n.checked_mul(dim))
}

fn name_at<'t>(tensors: &'t [TensorView<'_>], i: usize) -> &'t str {
    tensors.get(i).map_or("", TensorView::name)
}

/// Indices of `tensors` sorted by name.
fn sorted_by_name(tensors: &[TensorView<'_>]) -> Vec<usize> {
    let mut by_name: Vec<usize> = (0..tensors.len()).collect();
    by_name.sort_unstable_by(|&a, &b| name_at(tensors, a).cmp(name_at(tensors, b)));
    by_name
}

/// The first string of a sorted sequence that equals its successor. Sorting and comparing
/// neighbours keeps duplicate detection O(n log n) on a header with millions of keys.
fn first_repeat<'s>(sorted: impl Iterator<Item = &'s str>) -> Option<&'s str> {
    let mut previous = None;
    for name in sorted {
        if previous == Some(name) {
            return Some(name);
        }
        previous = Some(name);
    }
    None
}

/// Checks that `tensors`, sorted by `(begin, end)`, tile `0..data_len` exactly.
fn check_layout(tensors: &[TensorView<'_>], data_len: usize) -> Result<(), FormatError> {
    let mut covered = 0;
    let mut previous: Option<&TensorView<'_>> = None;
    for tensor in tensors {
        if tensor.begin < covered {
            return Err(FormatError::Overlap {
                tensor: Name::new(&tensor.name),
                begin: tensor.begin,
                other: Name::new(previous.map_or("", TensorView::name)),
                other_end: covered,
            });
        }
        if tensor.begin > covered {
            return Err(FormatError::Gap { tensor: Name::new(&tensor.name), begin: covered, end: tensor.begin });
        }
        covered = tensor.end;
        previous = Some(tensor);
    }
    if covered < data_len {
        return Err(FormatError::UnusedBytes { begin: covered, end: data_len });
    }
    Ok(())
}

/// `__metadata__` entries as (key, value), in header order.
type Metadata = Vec<(String, String)>;

/// A JSON number, classified as the header needs it.
enum Number {
    Integer(usize),
    TooLarge,
    Negative,
    Fraction,
}

impl Number {
    /// What a non-integer was, for error messages.
    fn describe(&self) -> &'static str {
        match self {
            Number::Integer(_) => "an integer",
            Number::TooLarge => "an integer too large for usize",
            Number::Negative => "a negative number",
            Number::Fraction => "a number with a fraction or exponent",
        }
    }
}

/// A cursor over the header, reading exactly the JSON the format allows.
///
/// Each method reads one construct starting at `pos` (whitespace before it already skipped)
/// and leaves `pos` just after it. Nothing recurses: the header's shape is fixed, and a value
/// of the wrong kind is an error as soon as its first byte is seen.
struct Parser<'h> {
    text: &'h str,
    bytes: &'h [u8],
    pos: usize,
}

impl<'h> Parser<'h> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, problem: &'static str) -> FormatError {
        FormatError::Json { position: self.pos, problem }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    /// What kind of JSON value starts at `pos`, for wrong-type messages; a syntax error if none does.
    fn kind(&self) -> Result<&'static str, FormatError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        match rest.first() {
            Some(b'{') => Ok("an object"),
            Some(b'[') => Ok("an array"),
            Some(b'"') => Ok("a string"),
            Some(b'-' | b'0'..=b'9') => Ok("a number"),
            _ if rest.starts_with(b"true") || rest.starts_with(b"false") => Ok("a boolean"),
            _ if rest.starts_with(b"null") => Ok("null"),
            Some(_) => Err(self.error("expected a JSON value")),
            None => Err(self.error("unexpected end of the header")),
        }
    }

    /// After a member of an object or an element of an array: `true` after a comma (another
    /// follows), `false` after `close`.
    fn more(&mut self, close: u8, problem: &'static str) -> Result<bool, FormatError> {
        self.skip_whitespace();
        if self.eat(b',') {
            self.skip_whitespace();
            Ok(true)
        } else if self.eat(close) {
            Ok(false)
        } else {
            Err(self.error(problem))
        }
    }

    /// After an object's `{`: `true` if a member follows, `false` after an immediate `}`.
    fn object_has_members(&mut self) -> bool {
        self.skip_whitespace();
        !self.eat(b'}')
    }

    /// An object member's key and the colon after it; leaves `pos` at the value.
    fn key(&mut self) -> Result<String, FormatError> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string key"));
        }
        let key = self.string()?;
        self.skip_whitespace();
        if !self.eat(b':') {
            return Err(self.error("expected ':' after a key"));
        }
        self.skip_whitespace();
        Ok(key)
    }

    /// The whole header: the root object, then only whitespace.
    fn header<'a>(mut self, data: &'a [u8]) -> Result<(Vec<TensorView<'a>>, Metadata), FormatError> {
        let mut tensors = Vec::new();
        let mut metadata = None;
        // `parse` checked that the header starts with '{'.
        self.pos = 1;
        if self.object_has_members() {
            loop {
                let key = self.key()?;
                if key == METADATA_KEY {
                    if metadata.is_some() {
                        return Err(FormatError::DuplicateTensor { name: Name::new(METADATA_KEY) });
                    }
                    metadata = Some(self.metadata()?);
                } else {
                    tensors.push(self.tensor(key, data)?);
                }
                if !self.more(b'}', "expected ',' or '}' after a header entry")? {
                    break;
                }
            }
        }
        self.skip_whitespace();
        if self.pos < self.bytes.len() {
            return Err(self.error("unexpected characters after the header object"));
        }
        Ok((tensors, metadata.unwrap_or_default()))
    }

    /// The `__metadata__` object of strings.
    fn metadata(&mut self) -> Result<Metadata, FormatError> {
        if !self.eat(b'{') {
            return Err(FormatError::MetadataNotObject { found: self.kind()? });
        }
        let mut entries: Vec<(String, String)> = Vec::new();
        if self.object_has_members() {
            loop {
                let key = self.key()?;
                if self.peek() != Some(b'"') {
                    return Err(FormatError::MetadataValueNotString { key: Name::new(&key), found: self.kind()? });
                }
                let value = self.string()?;
                entries.push((key, value));
                if !self.more(b'}', "expected ',' or '}' in __metadata__")? {
                    break;
                }
            }
        }
        let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        if let Some(key) = first_repeat(keys.into_iter()) {
            return Err(FormatError::DuplicateMetadataKey { key: Name::new(key) });
        }
        Ok(entries)
    }

    /// One tensor's entry, checked against itself and the data section's length.
    fn tensor<'a>(&mut self, name: String, data: &'a [u8]) -> Result<TensorView<'a>, FormatError> {
        let tensor = Name::new(&name);
        if !self.eat(b'{') {
            return Err(FormatError::TensorNotObject { tensor, found: self.kind()? });
        }
        let (mut dtype, mut shape, mut offsets) = (None, None, None);
        if self.object_has_members() {
            loop {
                let field = self.key()?;
                match field.as_str() {
                    "dtype" => {
                        if dtype.is_some() {
                            return Err(FormatError::DuplicateField { tensor, field: "dtype" });
                        }
                        dtype = Some(self.dtype(tensor)?);
                    }
                    "shape" => {
                        if shape.is_some() {
                            return Err(FormatError::DuplicateField { tensor, field: "shape" });
                        }
                        let mut dims = Vec::new();
                        self.integers(tensor, "shape", |_, dim| dims.push(dim))?;
                        shape = Some(dims);
                    }
                    "data_offsets" => {
                        if offsets.is_some() {
                            return Err(FormatError::DuplicateField { tensor, field: "data_offsets" });
                        }
                        let mut pair = [0usize; 2];
                        let count = self.integers(tensor, "data_offsets", |i, offset| {
                            if let Some(slot) = pair.get_mut(i) {
                                *slot = offset;
                            }
                        })?;
                        if count != 2 {
                            return Err(FormatError::OffsetsCount { tensor, count });
                        }
                        offsets = Some((pair[0], pair[1]));
                    }
                    _ => return Err(FormatError::UnknownField { tensor, field: Name::new(&field) }),
                }
                if !self.more(b'}', "expected ',' or '}' in a tensor entry")? {
                    break;
                }
            }
        }
        let missing = |field| FormatError::MissingField { tensor, field };
        let dtype = dtype.ok_or(missing("dtype"))?;
        let shape = shape.ok_or(missing("shape"))?;
        let (begin, end) = offsets.ok_or(missing("data_offsets"))?;

        if begin > end {
            return Err(FormatError::OffsetsReversed { tensor, begin, end });
        }
        let beyond = FormatError::OffsetsBeyondData { tensor, end, data_len: data.len() };
        let bytes = data.get(begin..end).ok_or(beyond)?;
        let overflow = FormatError::ShapeOverflow { tensor };
        let elements = element_count(&shape).ok_or(overflow)?;
        let expected = elements.checked_mul(dtype.size()).ok_or(overflow)?;
        if expected != bytes.len() {
            return Err(FormatError::ByteLength { tensor, dtype, elements, expected, found: bytes.len() });
        }
        Ok(TensorView { name, dtype, shape, bytes, begin, end })
    }

    /// A tensor's `dtype` value.
    fn dtype(&mut self, tensor: Name) -> Result<Dtype, FormatError> {
        if self.peek() != Some(b'"') {
            return Err(FormatError::FieldType { tensor, field: "dtype", expected: "a string", found: self.kind()? });
        }
        let name = self.string()?;
        if let Some(dtype) = Dtype::from_name(&name) {
            return Ok(dtype);
        }
        Err(match OTHER_DTYPES.iter().find(|&&other| other == name) {
            Some(other) => FormatError::UnsupportedDtype { tensor, dtype: other },
            None => FormatError::UnknownDtype { tensor, dtype: Name::new(&name) },
        })
    }

    /// An array of non-negative integers, each passed to `push` with its index; returns the count.
    fn integers(
        &mut self,
        tensor: Name,
        field: &'static str,
        mut push: impl FnMut(usize, usize),
    ) -> Result<usize, FormatError> {
        if !self.eat(b'[') {
            let expected = "an array of non-negative integers";
            return Err(FormatError::FieldType { tensor, field, expected, found: self.kind()? });
        }
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(0);
        }
        let mut index = 0;
        loop {
            let not_integer = |found| FormatError::NotAnInteger { tensor, field, index, found };
            match self.peek() {
                Some(b'-' | b'0'..=b'9') => match self.number()? {
                    Number::Integer(value) => push(index, value),
                    other => return Err(not_integer(other.describe())),
                },
                _ => return Err(not_integer(self.kind()?)),
            }
            // At least one byte was read per element, so this cannot overflow.
            index += 1;
            if !self.more(b']', "expected ',' or ']' in an array")? {
                return Ok(index);
            }
        }
    }

    /// A JSON number, checked against JSON's grammar and classified.
    fn number(&mut self) -> Result<Number, FormatError> {
        let start = self.pos;
        let negative = self.eat(b'-');
        let mut value = Some(0usize);
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(FormatError::Json {
                        position: start,
                        problem: "leading zeros are not allowed in numbers",
                    });
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(digit @ b'0'..=b'9') = self.peek() {
                    value = value.and_then(|v| v.checked_mul(10)?.checked_add(usize::from(digit - b'0')));
                    self.pos += 1;
                }
            }
            _ => return Err(self.error("expected a digit")),
        }
        let mut fraction = false;
        if self.eat(b'.') {
            fraction = true;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            fraction = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        Ok(match value {
            _ if negative => Number::Negative,
            _ if fraction => Number::Fraction,
            Some(value) => Number::Integer(value),
            None => Number::TooLarge,
        })
    }

    /// One or more decimal digits.
    fn digits(&mut self) -> Result<(), FormatError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error("expected a digit"));
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        Ok(())
    }

    /// A string, unescaped. `pos` is at the opening quote.
    fn string(&mut self) -> Result<String, FormatError> {
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    out.push_str(self.slice(run)?);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.slice(run)?);
                    self.pos += 1;
                    out.push(self.escape()?);
                    run = self.pos;
                }
                Some(0x00..=0x1f) => return Err(self.error("control character in a string (JSON needs it escaped)")),
                Some(_) => self.pos += 1,
            }
        }
    }

    /// The text from `start` to `pos`. Both are at ASCII bytes of valid UTF-8, so this never fails.
    fn slice(&self, start: usize) -> Result<&'h str, FormatError> {
        self.text.get(start..self.pos).ok_or(FormatError::Json { position: start, problem: "invalid UTF-8" })
    }

    /// The character an escape stands for; `pos` is just after the backslash.
    fn escape(&mut self) -> Result<char, FormatError> {
        let Some(byte) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        // Errors point at the backslash.
        let start = self.pos.saturating_sub(1);
        self.pos += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unpaired =
                    FormatError::Json { position: start, problem: "unpaired UTF-16 surrogate in \\u escape" };
                let code = match self.hex4()? {
                    high @ 0xD800..=0xDBFF => {
                        // A high surrogate must be followed by an escaped low one.
                        if !(self.eat(b'\\') && self.eat(b'u')) {
                            return Err(unpaired);
                        }
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(unpaired);
                        }
                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(unpaired),
                    code => code,
                };
                char::from_u32(code).ok_or(unpaired)?
            }
            _ => return Err(FormatError::Json { position: start, problem: "invalid escape in a string" }),
        })
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Result<u32, FormatError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self.peek().and_then(|b| char::from(b).to_digit(16));
            let Some(digit) = digit else {
                return Err(self.error("expected four hex digits after \\u"));
            };
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }
}

/// Builds a safetensors file from tensors and metadata.
///
/// ```
/// use tinymlp::safetensors::{FormatError, Writer};
///
/// let mut writer = Writer::new();
/// writer.add("w", &[2, 2], &[1.0f64, 2.0, 3.0, 4.0])?;
/// assert!(matches!(writer.add("w", &[1], &[0.0f64]), Err(FormatError::DuplicateTensor { .. })));
/// assert!(matches!(writer.add("v", &[3], &[0.0f32]), Err(FormatError::DataLength { elements: 3, len: 1, .. })));
/// let bytes = writer.to_bytes();
/// assert_eq!((bytes.len() - 32) % 8, 0); // length field and padded header are 8-aligned
/// # Ok::<(), FormatError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writer {
    tensors: Vec<Entry>,
    /// Indices into `tensors`, sorted by name, so that duplicate checks stay O(log n).
    by_name: Vec<usize>,
    data: Vec<u8>,
    metadata: Vec<(String, String)>,
}

/// A tensor added to a [`Writer`]: its header entry; the bytes are in `Writer::data`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

impl Writer {
    /// An empty writer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tensor of `shape` (row-major, `[]` for a scalar) holding `data`, after those
    /// already added, with `T`'s dtype.
    ///
    /// # Errors
    /// - [`FormatError::ReservedName`] if `name` is `__metadata__`;
    /// - [`FormatError::DuplicateTensor`] if a tensor called `name` was already added;
    /// - [`FormatError::ShapeOverflow`] if the shape's size overflows `usize`;
    /// - [`FormatError::DataLength`] if `data` does not have the shape's element count.
    pub fn add<T: Scalar>(&mut self, name: &str, shape: &[usize], data: &[T]) -> Result<&mut Self, FormatError> {
        if name == METADATA_KEY {
            return Err(FormatError::ReservedName);
        }
        let tensor = Name::new(name);
        let tensors = &self.tensors;
        let Err(slot) = self.by_name.binary_search_by(|&i| tensors.get(i).map_or("", |t| t.name.as_str()).cmp(name))
        else {
            return Err(FormatError::DuplicateTensor { name: tensor });
        };
        let dtype = Dtype::of::<T>();
        let overflow = FormatError::ShapeOverflow { tensor };
        let elements = element_count(shape).ok_or(overflow)?;
        elements.checked_mul(dtype.size()).ok_or(overflow)?;
        if elements != data.len() {
            return Err(FormatError::DataLength { tensor, elements, len: data.len() });
        }
        let begin = self.data.len();
        for &value in data {
            match dtype {
                Dtype::F32 => self.data.extend_from_slice(&same::<f32, T>(value).to_le_bytes()),
                Dtype::F64 => self.data.extend_from_slice(&same::<f64, T>(value).to_le_bytes()),
            }
        }
        let end = self.data.len();
        self.by_name.insert(slot, self.tensors.len());
        self.tensors.push(Entry { name: name.to_string(), dtype, shape: shape.to_vec(), begin, end });
        Ok(self)
    }

    /// Sets a `__metadata__` entry, replacing the value if `key` was already set (keys stay in
    /// the order they were first set).
    pub fn metadata(&mut self, key: &str, value: &str) -> &mut Self {
        match self.metadata.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.to_string(),
            None => self.metadata.push((key.to_string(), value.to_string())),
        }
        self
    }

    /// The file: length, header (padded with spaces to a multiple of 8 bytes, so that the data
    /// starts 8-aligned), data.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut header = String::from("{");
        if !self.metadata.is_empty() {
            json_string(&mut header, METADATA_KEY);
            header.push_str(":{");
            for (i, (key, value)) in self.metadata.iter().enumerate() {
                if i > 0 {
                    header.push(',');
                }
                json_string(&mut header, key);
                header.push(':');
                json_string(&mut header, value);
            }
            header.push('}');
        }
        for tensor in &self.tensors {
            if header.len() > 1 {
                header.push(',');
            }
            json_string(&mut header, &tensor.name);
            header.push_str(":{\"dtype\":\"");
            header.push_str(tensor.dtype.name());
            header.push_str("\",\"shape\":[");
            for (i, dim) in tensor.shape.iter().enumerate() {
                if i > 0 {
                    header.push(',');
                }
                header.push_str(&dim.to_string());
            }
            header.push_str("],\"data_offsets\":[");
            header.push_str(&tensor.begin.to_string());
            header.push(',');
            header.push_str(&tensor.end.to_string());
            header.push_str("]}");
        }
        header.push('}');
        while header.len() % 8 != 0 {
            header.push(' ');
        }
        let mut out = Vec::with_capacity(8 + header.len() + self.data.len());
        // usize is at most 64 bits on every target Rust supports, so this is lossless.
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&self.data);
        out
    }
}

/// Appends `s` as a JSON string, escaping what JSON requires and nothing else (non-ASCII stays
/// UTF-8, as serde_json writes it).
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\0'..='\u{1f}' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let byte = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_string(json: &str) -> Result<String, FormatError> {
        let mut parser = Parser { text: json, bytes: json.as_bytes(), pos: 0 };
        let s = parser.string()?;
        assert_eq!(parser.pos, json.len(), "the string should end the input");
        Ok(s)
    }

    #[test]
    fn string_escapes() {
        assert_eq!(parse_string(r#""a\"b\\c\/d\b\f\n\r\t""#).unwrap(), "a\"b\\c/d\u{8}\u{c}\n\r\t");
        assert_eq!(parse_string(r#""\u00e9\u4E2D""#).unwrap(), "é中");
        assert_eq!(parse_string(r#""\ud83d\ude00x""#).unwrap(), "😀x");
        assert_eq!(parse_string("\"raw é中😀\"").unwrap(), "raw é中😀");
        let problem = |json| match parse_string(json) {
            Err(FormatError::Json { problem, .. }) => problem,
            other => panic!("{json}: {other:?}"),
        };
        assert!(problem(r#""\ud83d""#).contains("surrogate"));
        assert!(problem(r#""\ud83dx""#).contains("surrogate"));
        assert!(problem(r#""\ud83d\u0041""#).contains("surrogate"));
        assert!(problem(r#""\ude00""#).contains("surrogate"));
        assert!(problem(r#""\u12g4""#).contains("hex"));
        assert!(problem(r#""\u12"#).contains("hex"));
        assert!(problem(r#""\x""#).contains("escape"));
        assert!(problem("\"a\nb\"").contains("control"));
        assert!(problem(r#""abc"#).contains("unterminated"));
        assert!(problem(r#""abc\"#).contains("unterminated"));
    }

    #[test]
    fn numbers_are_classified() {
        let classify = |json: &str| {
            let mut parser = Parser { text: json, bytes: json.as_bytes(), pos: 0 };
            parser.number().map(|n| match n {
                Number::Integer(v) => v.to_string(),
                other => other.describe().to_string(),
            })
        };
        assert_eq!(classify("0").unwrap(), "0");
        assert_eq!(classify("1234").unwrap(), "1234");
        assert_eq!(classify(&usize::MAX.to_string()).unwrap(), usize::MAX.to_string());
        assert_eq!(classify("99999999999999999999999").unwrap(), "an integer too large for usize");
        assert_eq!(classify("-1").unwrap(), "a negative number");
        assert_eq!(classify("-0").unwrap(), "a negative number");
        assert_eq!(classify("1.0").unwrap(), "a number with a fraction or exponent");
        assert_eq!(classify("1e3").unwrap(), "a number with a fraction or exponent");
        assert_eq!(classify("1E+3").unwrap(), "a number with a fraction or exponent");
        for bad in ["-", "01", "1.", "1.e3", "1e", "1e+", ".5", "-a"] {
            assert!(matches!(classify(bad), Err(FormatError::Json { .. })), "{bad}");
        }
    }

    #[test]
    fn json_string_escapes_round_trip() {
        let nasty = "q\"b\\s/\u{0}\u{1f}\u{7f}\n\r\t\u{8}\u{c}é😀";
        let mut out = String::new();
        json_string(&mut out, nasty);
        assert_eq!(out, "\"q\\\"b\\\\s/\\u0000\\u001f\u{7f}\\n\\r\\t\\b\\fé😀\"");
        assert_eq!(parse_string(&out).unwrap(), nasty);
    }

    #[test]
    fn same_keeps_every_bit() {
        let nan = f32::from_bits(0x7fa0_0001); // a signalling NaN with a payload
        assert_eq!(same::<f32, f32>(nan).to_bits(), nan.to_bits());
        let nan = f64::from_bits(0x7ff0_0000_dead_beef);
        assert_eq!(same::<f64, f64>(nan).to_bits(), nan.to_bits());
        assert_eq!(same::<f64, f32>(0.1f32), f64::from(0.1f32));
    }

    #[test]
    fn error_stays_small() {
        // Error embeds FormatError; keep Result<_, Error> cheap to return.
        assert!(core::mem::size_of::<FormatError>() <= 96, "{}", core::mem::size_of::<FormatError>());
    }
}
