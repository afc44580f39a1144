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
//! with its own [`FormatError`] variant naming the tensor or field at fault (this module's
//! functions return [`FormatError`], the format's own error type, so that the reader can be
//! used on its own; it converts into the crate's [`Error`](crate::Error) with `?`, and the
//! network loaders return it wrapped as [`Error::Safetensors`](crate::Error::Safetensors)):
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
//!
//! ## Files
//! Top-down: `read.rs` holds [`SafeTensors`] and [`TensorView`] and checks what spans the whole
//! file; it reads the header with `header.rs` (what each entry must hold), which reads JSON with
//! `json.rs` (the strict cursor, plus the string escaper `write.rs` uses). `write.rs` holds
//! [`Writer`], `error.rs` [`FormatError`]; `mod.rs` [`Dtype`], [`MAX_HEADER_LEN`] and the helpers
//! reader and writer share.

mod error;
mod header;
mod json;
mod read;
mod write;

pub use error::FormatError;
pub use read::{SafeTensors, TensorView};
pub use write::Writer;

use core::any::Any;
use core::fmt;

use crate::Scalar;

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

/// The product of `shape`, unless it overflows. A zero anywhere makes it 0, whatever the order
/// of the other dimensions.
fn element_count(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |n, &dim| n.checked_mul(dim))
}

/// `value` as `T` when `U` is `T`: a plain copy, so that every bit (NaN payloads included)
/// survives. Callers only call it with `T == U`; otherwise it converts through f64.
fn same<T: Scalar, U: Scalar>(value: U) -> T {
    let mut out = T::zero();
    match (&mut out as &mut dyn Any).downcast_mut::<U>() {
        Some(slot) => *slot = value,
        None => out = T::from_f64(value.as_f64()),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_keeps_every_bit() {
        let nan = f32::from_bits(0x7fa0_0001); // a signalling NaN with a payload
        assert_eq!(same::<f32, f32>(nan).to_bits(), nan.to_bits());
        let nan = f64::from_bits(0x7ff0_0000_dead_beef);
        assert_eq!(same::<f64, f64>(nan).to_bits(), nan.to_bits());
        assert_eq!(same::<f64, f32>(0.1f32), f64::from(0.1f32));
    }
}
