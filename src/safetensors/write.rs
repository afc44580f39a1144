//! Writing a file: [`Writer`] collects tensors and metadata and lays them out as Python's
//! `safetensors` reads them.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::json::json_string;
use super::{Dtype, FormatError, METADATA_KEY, element_count, same};
use crate::{Name, Scalar};

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

    /// Whether a tensor called `name` was already added.
    ///
    /// ```
    /// use tinymlp::safetensors::Writer;
    ///
    /// let mut writer = Writer::new();
    /// writer.add("w", &[1], &[1.0f32])?;
    /// assert!(writer.contains("w") && !writer.contains("b"));
    /// # Ok::<(), tinymlp::safetensors::FormatError>(())
    /// ```
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        let tensors = &self.tensors;
        self.by_name.binary_search_by(|&i| tensors.get(i).map_or("", |t| t.name.as_str()).cmp(name)).is_ok()
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
