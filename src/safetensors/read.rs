//! Reading a file: [`SafeTensors`] splits it into length, header and data, has the header read
//! (see `header.rs`), then checks what spans the whole file: unique names and tensors that tile
//! the data section. [`TensorView`] is one tensor of the result.

use alloc::string::String;
use alloc::vec::Vec;

use super::json::Parser;
use super::{Dtype, FormatError, MAX_HEADER_LEN, same};
use crate::{Name, Scalar};

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
    /// Parses and validates a whole safetensors file (see the [module docs](super) for every check).
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
pub(super) fn first_repeat<'s>(sorted: impl Iterator<Item = &'s str>) -> Option<&'s str> {
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

/// One tensor of a parsed file: its name, dtype, shape and little-endian bytes, borrowed from
/// the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorView<'a> {
    pub(super) name: String,
    pub(super) dtype: Dtype,
    pub(super) shape: Vec<usize>,
    pub(super) bytes: &'a [u8],
    /// Where `bytes` begins and ends in the data section, for the layout checks.
    pub(super) begin: usize,
    pub(super) end: usize,
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
