//! The header's schema: the root object, `__metadata__` and each tensor's entry, read with the
//! JSON [`Parser`] and checked against themselves and the data section's length. What spans
//! several entries (unique names, the data layout) is checked in `read.rs`.

use alloc::string::String;
use alloc::vec::Vec;

use super::json::{Number, Parser};
use super::read::{TensorView, first_repeat};
use super::{Dtype, FormatError, METADATA_KEY, OTHER_DTYPES, element_count};
use crate::Name;

/// `__metadata__` entries as (key, value), in header order.
type Metadata = Vec<(String, String)>;

impl Parser<'_> {
    /// The whole header: the root object, then only whitespace.
    pub(super) fn header<'a>(mut self, data: &'a [u8]) -> Result<(Vec<TensorView<'a>>, Metadata), FormatError> {
        let mut tensors = Vec::new();
        let mut metadata = None;
        // `parse` checked that the header starts with '{'.
        self.pos = 1;
        if self.object_has_members() {
            loop {
                let key = self.key()?;
                if key == METADATA_KEY {
                    if metadata.is_some() {
                        return Err(FormatError::DuplicateMetadata);
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
}
