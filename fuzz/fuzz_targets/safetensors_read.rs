//! Arbitrary bytes into `SafeTensors::parse`.
//!
//! Checks:
//! - parsing never panics, whatever the bytes;
//! - it allocates at most `ALLOC_FACTOR` times the input's length (plus a constant), measured
//!   by a counting global allocator, so no size is taken from an untrusted field;
//! - an accepted file is self-consistent: every tensor's bytes are its shape's element count
//!   times its dtype's size, the tensors tile the data section, `get` finds each by name,
//!   `to_vec` reads the bytes exactly (and refuses the other dtype), `to_f64_vec` widens exactly;
//! - writing every tensor (same names, shapes, dtypes and data, in the same order) and the
//!   metadata with `Writer` and parsing the result gives the same tensors, byte for byte, and
//!   the same metadata; writing that again gives the same file.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::fuzz_target;
use tinymlp::safetensors::{Dtype, FormatError, SafeTensors, TensorView, Writer};

/// Peak heap use allowed while parsing, per input byte. The module docs promise "never more
/// than a small multiple of the input's length". The worst cases are header entries that are
/// short in JSON but large in memory: a `__metadata__` pair `"":""` is 6 bytes of JSON and two
/// `String`s of 24 bytes each, doubled by `Vec` growth, plus 16 bytes in the duplicate check:
/// ~16 bytes of heap per input byte (measured: 473,228 bytes for 5,000 such pairs in 30,026
/// bytes); a shape entry `1,` is 2 bytes of JSON and 8 of `usize` (~6.5x). Twice the worst
/// case seen leaves room for harmless changes, and still catches any size taken from a field.
const ALLOC_FACTOR: usize = 32;
/// Constant part of the allowance: the first, minimum-capacity allocations of the parser's
/// `Vec`s, which dominate for inputs of a few bytes.
const ALLOC_SLACK: usize = 4096;

/// The system allocator, counting bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn note_alloc(size: usize) {
    let now = IN_USE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note_alloc(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note_alloc(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
            note_alloc(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fuzz_target!(|data: &[u8]| {
    let baseline = IN_USE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let parsed = SafeTensors::parse(data);
    let peak = PEAK.load(Ordering::Relaxed) - baseline;
    let allowance = ALLOC_FACTOR * data.len() + ALLOC_SLACK;
    assert!(peak <= allowance, "parsing {} bytes used {peak} bytes of heap (allowance {allowance})", data.len());
    report_ratio(data.len(), peak);

    match parsed {
        Ok(file) => check_accepted(data, &file),
        Err(err) => {
            // Every error has a message, and formatting it must not panic either.
            let message = err.to_string();
            assert!(!message.is_empty());
        }
    }
});

fn check_accepted(data: &[u8], file: &SafeTensors<'_>) {
    let header_len = u64::from_le_bytes(data[..8].try_into().unwrap()) as usize;
    let data_len = data.len() - 8 - header_len;
    assert_eq!(file.len(), file.tensors().len());
    assert_eq!(file.is_empty(), file.tensors().is_empty());
    assert_eq!(file.names().count(), file.len());

    let mut covered = 0usize;
    for tensor in file.tensors() {
        let elements = tensor.shape().iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        let elements = if tensor.shape().contains(&0) { Some(0) } else { elements };
        assert_eq!(elements, Some(tensor.len()), "{}: shape {:?}", tensor.name(), tensor.shape());
        assert_eq!(tensor.bytes().len(), tensor.len() * tensor.dtype().size());
        assert_eq!(tensor.is_empty(), tensor.bytes().is_empty());
        covered += tensor.bytes().len();
        // The tensor's bytes are a slice of the data section, in file order.
        let start = tensor.bytes().as_ptr() as usize - data.as_ptr() as usize;
        assert_eq!(
            start,
            8 + header_len + covered - tensor.bytes().len(),
            "{} is not where the layout says",
            tensor.name()
        );

        let found = file.get(tensor.name()).expect("get finds every tensor");
        assert_eq!(found, tensor);
        check_values(tensor);
    }
    assert_eq!(covered, data_len, "the tensors must tile the data section");
    assert!(file.get("__metadata__").is_none());
    for (key, value) in file.metadata() {
        assert_eq!(file.metadata_value(key), Some(value.as_str()));
    }

    // Write everything back and read it again.
    let written = write(file);
    let back = SafeTensors::parse(&written).unwrap_or_else(|e| panic!("Writer's output does not parse: {e}"));
    assert_eq!(back.len(), file.len());
    for (a, b) in file.tensors().iter().zip(back.tensors()) {
        assert_eq!(a.name(), b.name());
        assert_eq!(a.dtype(), b.dtype(), "{}", a.name());
        assert_eq!(a.shape(), b.shape(), "{}", a.name());
        assert_eq!(a.bytes(), b.bytes(), "{}: data changed in the round trip", a.name());
    }
    assert_eq!(back.metadata(), file.metadata());
    // The writer is deterministic and the round trip is a fixed point.
    assert_eq!(write(&back), written);
}

/// Every tensor and the metadata of `file`, in its order, through `Writer`.
fn write(file: &SafeTensors<'_>) -> Vec<u8> {
    let mut writer = Writer::new();
    for tensor in file.tensors() {
        let added = match tensor.dtype() {
            Dtype::F32 => writer.add(tensor.name(), tensor.shape(), &tensor.to_vec::<f32>().unwrap()).map(|_| ()),
            Dtype::F64 => writer.add(tensor.name(), tensor.shape(), &tensor.to_vec::<f64>().unwrap()).map(|_| ()),
            other => panic!("parse accepted dtype {other}"),
        };
        added.unwrap_or_else(|e| panic!("Writer refused tensor {:?} of an accepted file: {e}", tensor.name()));
    }
    for (key, value) in file.metadata() {
        writer.metadata(key, value);
    }
    writer.to_bytes()
}

/// `to_vec` reads exactly the stored bits and refuses the other dtype; `to_f64_vec` widens exactly.
fn check_values(tensor: &TensorView<'_>) {
    let widened = tensor.to_f64_vec();
    assert_eq!(widened.len(), tensor.len());
    match tensor.dtype() {
        Dtype::F32 => {
            let values = tensor.to_vec::<f32>().unwrap();
            let stored = tensor.bytes().chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap()));
            assert!(values.iter().map(|v| v.to_bits()).eq(stored));
            for (&w, &v) in widened.iter().zip(&values) {
                assert!(w.to_bits() == f64::from(v).to_bits() || (w.is_nan() && v.is_nan()));
            }
            assert!(matches!(tensor.to_vec::<f64>(), Err(FormatError::DtypeMismatch { .. })));
        }
        Dtype::F64 => {
            let values = tensor.to_vec::<f64>().unwrap();
            let stored = tensor.bytes().chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap()));
            assert!(values.iter().map(|v| v.to_bits()).eq(stored));
            assert!(widened.iter().map(|v| v.to_bits()).eq(values.iter().map(|v| v.to_bits())));
            assert!(matches!(tensor.to_vec::<f32>(), Err(FormatError::DtypeMismatch { .. })));
        }
        other => panic!("parse accepted dtype {other}"),
    }
}

/// With `TINYMLP_FUZZ_ALLOC_REPORT` set, prints each new maximum of heap bytes per input byte
/// (for inputs of at least 256 bytes, where the constant part no longer dominates).
fn report_ratio(len: usize, peak: usize) {
    static WANTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    static MAX_PERCENT: AtomicUsize = AtomicUsize::new(0);
    if len < 256 || !*WANTED.get_or_init(|| std::env::var_os("TINYMLP_FUZZ_ALLOC_REPORT").is_some()) {
        return;
    }
    let percent = peak * 100 / len;
    if percent > MAX_PERCENT.fetch_max(percent, Ordering::Relaxed) {
        eprintln!(
            "new peak heap ratio: {}.{:02} bytes per input byte ({peak} for {len})",
            percent / 100,
            percent % 100
        );
    }
}
