//! [`FormatError`]: every way a safetensors file can be rejected, or a tensor fail to be
//! written or converted, and its message.

use core::fmt;

use super::{Dtype, MAX_HEADER_LEN, METADATA_KEY};
use crate::Name;

/// Why a safetensors file was rejected, or a tensor could not be written or converted.
///
/// Every variant names the tensor, field or byte position at fault. Names are kept inline
/// (so that the error needs no heap): up to 46 bytes, a longer one cut to end with `...`
/// ([`Name`]).
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
    /// A tensor name appears twice in the header, or was added twice to a
    /// [`Writer`](super::Writer).
    DuplicateTensor {
        /// The repeated name.
        name: Name,
    },
    /// The header has two `__metadata__` entries.
    DuplicateMetadata,
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
    /// A [`Writer`](super::Writer) was asked to name a tensor `__metadata__`.
    ReservedName,
    /// A [`Writer`](super::Writer) was given a different number of values than the shape has elements.
    DataLength {
        /// The tensor's name.
        tensor: Name,
        /// The shape's element count.
        elements: usize,
        /// Values given.
        len: usize,
    },
    /// [`TensorView::to_vec`](super::TensorView::to_vec) asked for a type other than the tensor's.
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
            FormatError::DuplicateMetadata => write!(f, "{METADATA_KEY} appears twice in the header"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        // Error embeds FormatError; keep Result<_, Error> cheap to return
        // (Error below 128 bytes: see the capacity of `Name`).
        assert!(core::mem::size_of::<FormatError>() <= 112, "{}", core::mem::size_of::<FormatError>());
    }
}
