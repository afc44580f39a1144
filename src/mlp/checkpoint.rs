//! Checkpoints: a network, its optimizer's state and the progress of a [`Fit`]
//! run in one safetensors file, so that training can stop (or be killed) and
//! resume with exactly the weights it would have reached without stopping.
//!
//! The file is an ordinary safetensors file (PyTorch's `load_file` reads it):
//! the network's tensors under their usual names (`layers.{i}.weight`, …), the
//! optimizer's buffers under its own prefix (`adam.exp_avg.layers.0.weight`,
//! …), and in `__metadata__` the network's description, the optimizer's
//! scalars, and:
//!
//! | key | value |
//! |---|---|
//! | `tinymlp.checkpoint` | format version, `1` |
//! | `checkpoint.dtype` | `F32` or `F64`: a checkpoint only resumes into the same element type |
//! | `checkpoint.epoch`, `checkpoint.base_lr`, `checkpoint.seed`, `checkpoint.batch_size`, `checkpoint.rng`, `checkpoint.stopped` | the [`Progress`] of a [`Fit`] run (absent for a checkpoint saved by hand without one) |
//! | `checkpoint.checksum` | FNV-1a (64 bit) of everything else: every tensor's name, dtype, shape and bytes, every other metadata entry |
//!
//! Loading checks the checksum first, so a truncated or bit-flipped file is
//! refused before anything is read from it; then that the network and the
//! optimizer fit the file; and only then changes them, both or neither.
//!
//! With `std`, [`Mlp::save_checkpoint`] writes atomically: to a temporary file
//! in the same directory, flushed and synced, then renamed over the old
//! checkpoint, so a crash during the save leaves the previous checkpoint
//! whole.
//!
//! ```
//! use tinymlp::{Act, Adam, DynMlp, HalfMse, Init, Matrix, Optimizer, Rng};
//!
//! let mut rng = Rng::new(3);
//! let mut net = DynMlp::<f64>::from_widths(&[1, 8, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut rng)?;
//! let mut adam = Adam::with_lr(0.01)?;
//! let (x, y) = (Matrix::column(&[0.0, 0.5, 1.0]), Matrix::column(&[0.0, 0.25, 1.0]));
//! let mut train = |net: &mut DynMlp<f64>, adam: &mut Adam<f64>| -> tinymlp::Result<()> {
//!     net.zero_grad();
//!     net.try_forward(&x)?;
//!     net.try_backward_loss(&HalfMse, &y)?;
//!     adam.step(net)
//! };
//! for _ in 0..5 {
//!     train(&mut net, &mut adam)?;
//! }
//! let bytes = net.checkpoint_to_bytes(&adam, None)?;
//!
//! // A fresh network and optimizer of the same shape pick up where it stopped.
//! let mut resumed = DynMlp::<f64>::from_widths(&[1, 8, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(99))?;
//! let mut resumed_adam = Adam::with_lr(0.01)?;
//! assert_eq!(resumed.load_checkpoint(&bytes, &mut resumed_adam)?, None);
//! for _ in 0..5 {
//!     train(&mut net, &mut adam)?;
//!     train(&mut resumed, &mut resumed_adam)?;
//! }
//! assert_eq!(net.parameters_to_vec(), resumed.parameters_to_vec());
//! # Ok::<(), tinymlp::Error>(())
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::safetensors::{Dtype, SafeTensors, Writer};
use crate::{Error, Layers, Mlp, Name, Optimizer, Result, Rng, Scalar};

/// The checkpoint format this version writes and reads.
const FORMAT: &str = "1";
const KEY_FORMAT: &str = "tinymlp.checkpoint";
const KEY_DTYPE: &str = "checkpoint.dtype";
const KEY_EPOCH: &str = "checkpoint.epoch";
const KEY_BASE_LR: &str = "checkpoint.base_lr";
const KEY_SEED: &str = "checkpoint.seed";
const KEY_RNG: &str = "checkpoint.rng";
const KEY_BATCH_SIZE: &str = "checkpoint.batch_size";
const KEY_STOPPED: &str = "checkpoint.stopped";
const KEY_CHECKSUM: &str = "checkpoint.checksum";

/// How far a [`Fit`](crate::Fit) run got: the epochs it completed, the
/// position of its shuffling generator and its schedule's base learning rate.
/// [`Fit::resume`](crate::Fit::resume) continues a run from it; checkpoints
/// saved by [`Fit::checkpoint`](crate::Fit::checkpoint) carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub(crate) epoch: usize,
    pub(crate) base_lr_bits: u64,
    pub(crate) seed: u64,
    pub(crate) batch_size: usize,
    pub(crate) rng: [u64; 4],
    pub(crate) stopped: bool,
}

impl Progress {
    /// The epochs completed: a resumed run starts with this epoch (from 0).
    #[must_use]
    pub fn epochs_done(&self) -> usize {
        self.epoch
    }

    /// The learning rate the run's [`Schedule`](crate::Schedule) scales (the
    /// optimizer's rate when the run first started).
    #[must_use]
    pub fn base_lr(&self) -> f64 {
        f64::from_bits(self.base_lr_bits)
    }

    /// The seed the run's shuffling started from.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The run's batch size.
    #[must_use]
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Whether the run's `on_epoch` callback stopped it (early stopping)
    /// after [`epochs_done`](Progress::epochs_done) epochs: the run is
    /// over, and [`Fit::resume`](crate::Fit::resume) trains no further epoch,
    /// exactly as the run that stopped.
    #[must_use]
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    pub(crate) fn new(epoch: usize, base_lr: f64, seed: u64, batch_size: usize, rng: &Rng, stopped: bool) -> Self {
        Self { epoch, base_lr_bits: base_lr.to_bits(), seed, batch_size, rng: rng.state(), stopped }
    }
}

/// Why a checkpoint was refused (inside [`Error::Checkpoint`]); errors about
/// the network's or the optimizer's tensors are the usual [`Error`] variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The file has no `tinymlp.checkpoint` metadata: a plain model file, or
    /// not tinymlp's.
    NotACheckpoint,
    /// A checkpoint format this version does not read.
    Version {
        /// The `tinymlp.checkpoint` value found.
        found: Name,
    },
    /// The stored checksum differs from the file's content: the file was
    /// damaged (or edited) after it was written.
    Checksum {
        /// The checksum in the file's metadata.
        stored: u64,
        /// The checksum of the content as read.
        computed: u64,
    },
    /// The checkpoint holds another element type than the network's.
    Dtype {
        /// The network's element type.
        expected: Dtype,
        /// The checkpoint's `checkpoint.dtype` value.
        found: Name,
    },
    /// A layer's activation in the checkpoint differs from the network's.
    Activation {
        /// The layer, from 0.
        layer: usize,
        /// The checkpoint's activation (`tinymlp.layers.{layer}.activation`).
        checkpoint: Name,
        /// The network's.
        network: Name,
    },
    /// [`Fit::resume`](crate::Fit::resume) was given the progress of a run
    /// with another seed or batch size, which cannot continue it exactly.
    ResumeMismatch {
        /// `"seed"` or `"batch_size"`.
        setting: &'static str,
        /// The checkpointed run's value.
        checkpoint: u64,
        /// The [`Fit`](crate::Fit)'s value.
        fit: u64,
    },
    /// The optimizer cannot save or restore its state
    /// ([`Optimizer::state`](crate::Optimizer::state) is `None`).
    NoOptimizerState,
    /// A [`Progress`] beyond the end of the run it is resumed into.
    ResumeBeyondEnd {
        /// Epochs the checkpoint completed.
        epochs_done: usize,
        /// Epochs of the [`Fit`](crate::Fit) it was given to.
        epochs: usize,
    },
    /// Reading or writing the checkpoint file failed.
    #[cfg(feature = "std")]
    Io {
        /// What was being done, e.g. `"rename the temporary file"`.
        op: &'static str,
        /// The operating system's error kind.
        kind: std::io::ErrorKind,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotACheckpoint => write!(f, "not a checkpoint: no `{KEY_FORMAT}` metadata"),
            Self::Version { found } => {
                write!(f, "checkpoint format `{found}` is not supported (this version reads format {FORMAT})")
            }
            Self::Checksum { stored, computed } => write!(
                f,
                "checkpoint damaged: its checksum is {stored:016x} but its content gives {computed:016x} (truncated, bit-flipped or edited)"
            ),
            Self::Dtype { expected, found } => {
                write!(f, "checkpoint holds {found} values but the network is {expected}")
            }
            Self::Activation { layer, checkpoint, network } => write!(
                f,
                "layer {layer} of the checkpoint's network has activation `{checkpoint}` but this network's has `{network}`"
            ),
            Self::ResumeMismatch { setting, checkpoint, fit } => {
                write!(f, "cannot resume a run with {setting} {checkpoint} in a Fit with {setting} {fit}")
            }
            Self::NoOptimizerState => {
                write!(f, "the optimizer cannot save its state (Optimizer::state returns None)")
            }
            Self::ResumeBeyondEnd { epochs_done, epochs } => {
                write!(f, "cannot resume after epoch {epochs_done}: the run has only {epochs} epochs")
            }
            #[cfg(feature = "std")]
            Self::Io { op, kind } => write!(f, "checkpoint: could not {op}: {kind}"),
        }
    }
}

impl<T: Scalar, L: Layers<T>> Mlp<T, L> {
    /// A checkpoint of this network and `optimizer`'s state (and a [`Fit`](crate::Fit)
    /// run's `progress`, if any) as the bytes of one safetensors file.
    ///
    /// # Errors
    /// Whatever the optimizer's [`write_state`](crate::OptimizerState::write_state)
    /// returns (e.g. state built for another network).
    pub fn checkpoint_to_bytes<O: Optimizer<T> + ?Sized>(
        &self,
        optimizer: &O,
        progress: Option<&Progress>,
    ) -> Result<Vec<u8>> {
        let mut writer = Writer::new();
        self.write_tensors(&mut writer, super::TensorNames::Layers);
        super::describe::write_description(self, &mut writer);
        let state = optimizer.state().ok_or(Error::Checkpoint(CheckpointError::NoOptimizerState))?;
        state.write_state(&self.parameter_info(), &mut writer)?;
        writer.metadata(KEY_FORMAT, FORMAT);
        writer.metadata(KEY_DTYPE, Dtype::of::<T>().name());
        if let Some(progress) = progress {
            writer.metadata(KEY_EPOCH, &progress.epoch.to_string());
            writer.metadata(KEY_BASE_LR, &alloc::format!("{:?}", progress.base_lr()));
            writer.metadata(KEY_SEED, &progress.seed.to_string());
            writer.metadata(KEY_BATCH_SIZE, &progress.batch_size.to_string());
            let [a, b, c, d] = progress.rng;
            writer.metadata(KEY_RNG, &alloc::format!("{a:016x},{b:016x},{c:016x},{d:016x}"));
            writer.metadata(KEY_STOPPED, if progress.stopped { "true" } else { "false" });
        }
        // The checksum covers the file as it will be read back.
        let unsigned = writer.to_bytes();
        let checksum = digest(&SafeTensors::parse(&unsigned)?);
        writer.metadata(KEY_CHECKSUM, &alloc::format!("{checksum:016x}"));
        Ok(writer.to_bytes())
    }

    /// Restores this network and `optimizer` from a checkpoint made by
    /// [`checkpoint_to_bytes`](Mlp::checkpoint_to_bytes) (or
    /// [`save_checkpoint`](Mlp::save_checkpoint)) for a network of the same
    /// shape and element type and the same kind of optimizer. Returns the
    /// [`Fit`](crate::Fit) progress it holds, if any, for
    /// [`Fit::resume`](crate::Fit::resume).
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for a file that is not a checkpoint, is damaged
    /// (checksum), has another element type or other activations;
    /// [`Error::MissingMetadata`] or [`Error::InvalidMetadata`] naming the key
    /// of a progress entry that is absent or does not parse;
    /// [`Error::Safetensors`] for a malformed file; the errors of
    /// [`Mlp::load_safetensors`] for a network of another shape; the errors of
    /// the optimizer's [`read_state`](crate::OptimizerState::read_state) for
    /// another optimizer's state or state of another shape. On error neither
    /// the network nor the optimizer has changed.
    pub fn load_checkpoint<O: Optimizer<T> + ?Sized>(
        &mut self,
        bytes: &[u8],
        optimizer: &mut O,
    ) -> Result<Option<Progress>> {
        let file = SafeTensors::parse(bytes)?;
        let progress = check::<T>(&file)?;
        self.check_activations(&file)?;
        let state = optimizer.state_mut().ok_or(Error::Checkpoint(CheckpointError::NoOptimizerState))?;
        // Every check before any change: the values, then the optimizer's
        // all-or-nothing read, then the values go in (which cannot fail).
        let values = self.read_parameters(&file, is_network_tensor)?;
        state.read_state(&self.parameter_info(), &file)?;
        self.set_parameters(&values)?;
        Ok(progress)
    }

    /// Refuses a checkpoint whose layers' activations differ from this
    /// network's (as [`to_safetensors`](Mlp::to_safetensors) records them).
    fn check_activations(&self, file: &SafeTensors<'_>) -> Result<()> {
        for (layer, dense) in self.iter_layers().enumerate() {
            let key = super::describe::activation_key(layer);
            let network = super::describe::spec_of(dense.activation());
            match file.metadata_value(&key) {
                Some(checkpoint) if checkpoint == network => {}
                Some(checkpoint) => {
                    return Err(Error::Checkpoint(CheckpointError::Activation {
                        layer,
                        checkpoint: Name::new(checkpoint),
                        network: Name::new(&network),
                    }));
                }
                // A checkpoint of another depth: the tensors say so next.
                None => {}
            }
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl<T: Scalar, L: Layers<T>> Mlp<T, L> {
    /// Writes [`checkpoint_to_bytes`](Mlp::checkpoint_to_bytes) to `path`
    /// atomically: a crash at any moment leaves either the previous file or the
    /// new one, never a mix (see [`write_atomically`]).
    ///
    /// # Errors
    /// As [`checkpoint_to_bytes`](Mlp::checkpoint_to_bytes), and
    /// [`CheckpointError::Io`] if the file cannot be written.
    pub fn save_checkpoint<O: Optimizer<T> + ?Sized>(
        &self,
        path: &std::path::Path,
        optimizer: &O,
        progress: Option<&Progress>,
    ) -> Result<()> {
        write_atomically(path, &self.checkpoint_to_bytes(optimizer, progress)?)
    }

    /// Reads the checkpoint at `path` into this network and `optimizer`, as
    /// [`load_checkpoint`](Mlp::load_checkpoint).
    ///
    /// # Errors
    /// As [`load_checkpoint`](Mlp::load_checkpoint), and [`CheckpointError::Io`]
    /// if the file cannot be read.
    pub fn read_checkpoint<O: Optimizer<T> + ?Sized>(
        &mut self,
        path: &std::path::Path,
        optimizer: &mut O,
    ) -> Result<Option<Progress>> {
        let bytes = std::fs::read(path).map_err(|e| io_error("read the checkpoint", &e))?;
        self.load_checkpoint(&bytes, optimizer)
    }
}

/// Replaces the file at `path` with `bytes` so that a crash at any moment
/// leaves either the old content or the new, complete: the bytes go to a
/// temporary file in the same directory (`{name}.tmp`), which is flushed and
/// synced to the disk, then renamed over `path`, and the directory is synced
/// so the rename itself survives a power cut (where the platform allows).
///
/// # Errors
/// [`CheckpointError::Io`] naming the step that failed; `path` is then
/// untouched (a stale temporary file may remain and is overwritten next time).
#[cfg(feature = "std")]
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;

    let mut temporary = std::ffi::OsString::from(path.as_os_str());
    temporary.push(".tmp");
    let temporary = std::path::PathBuf::from(temporary);
    let mut file = std::fs::File::create(&temporary).map_err(|e| io_error("create the temporary file", &e))?;
    file.write_all(bytes).map_err(|e| io_error("write the temporary file", &e))?;
    file.flush().map_err(|e| io_error("flush the temporary file", &e))?;
    file.sync_all().map_err(|e| io_error("sync the temporary file", &e))?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(|e| io_error("rename the temporary file over the checkpoint", &e))?;
    // The rename is durable once the directory is synced; not every platform
    // can open a directory, and the checkpoint is complete either way.
    let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    if let Ok(directory) = std::fs::File::open(directory) {
        let _ = directory.sync_all();
    }
    Ok(())
}

#[cfg(feature = "std")]
fn io_error(op: &'static str, error: &std::io::Error) -> Error {
    Error::Checkpoint(CheckpointError::Io { op, kind: error.kind() })
}

/// The network's tensors in a checkpoint: `layers.{i}.weight` and `.bias`.
fn is_network_tensor(name: &str) -> bool {
    name.starts_with("layers.")
}

/// Checks format, checksum and dtype, and reads the progress, if any.
fn check<T: Scalar>(file: &SafeTensors<'_>) -> Result<Option<Progress>> {
    let fail = |e| Err(Error::Checkpoint(e));
    match file.metadata_value(KEY_FORMAT) {
        None => return fail(CheckpointError::NotACheckpoint),
        Some(FORMAT) => {}
        Some(other) => return fail(CheckpointError::Version { found: Name::new(other) }),
    }
    let stored =
        parse(file, KEY_CHECKSUM, "16 hex digits", |s| u64::from_str_radix(s, 16).ok().filter(|_| s.len() == 16))?;
    let computed = digest(file);
    if stored != computed {
        return fail(CheckpointError::Checksum { stored, computed });
    }
    let dtype = required(file, KEY_DTYPE)?;
    if dtype != Dtype::of::<T>().name() {
        return fail(CheckpointError::Dtype { expected: Dtype::of::<T>(), found: Name::new(dtype) });
    }
    if file.metadata_value(KEY_EPOCH).is_none() {
        return Ok(None);
    }
    let epoch = parse(file, KEY_EPOCH, "a whole number", digits::<usize>)?;
    let base_lr = parse(file, KEY_BASE_LR, "a finite number >= 0", |s| {
        s.parse::<f64>().ok().filter(|lr| lr.is_finite() && *lr >= 0.0)
    })?;
    let seed = parse(file, KEY_SEED, "a whole number", digits::<u64>)?;
    let batch_size = parse(file, KEY_BATCH_SIZE, "a whole number >= 1", |s| digits::<usize>(s).filter(|&b| b > 0))?;
    let stopped = parse(file, KEY_STOPPED, "true or false", |s| match s {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    })?;
    let rng = parse(file, KEY_RNG, "four 16-digit hex words, not all zero", |s| {
        let mut words = [0u64; 4];
        let mut parts = s.split(',');
        for word in &mut words {
            let part = parts.next().filter(|p| p.len() == 16)?;
            *word = u64::from_str_radix(part, 16).ok()?;
        }
        // xoshiro's state is never all zero.
        (parts.next().is_none() && words != [0; 4]).then_some(words)
    })?;
    Ok(Some(Progress { epoch, base_lr_bits: base_lr.to_bits(), seed, batch_size, rng, stopped }))
}

fn required<'f>(file: &'f SafeTensors<'_>, key: &'static str) -> Result<&'f str> {
    file.metadata_value(key).ok_or(Error::MissingMetadata { key: Name::new(key) })
}

fn parse<V>(
    file: &SafeTensors<'_>,
    key: &'static str,
    expected: &'static str,
    read: impl Fn(&str) -> Option<V>,
) -> Result<V> {
    let value = required(file, key)?;
    read(value).ok_or_else(|| Error::InvalidMetadata { key: Name::new(key), value: Name::new(value), expected })
}

/// Decimal digits only (`str::parse` would also take a leading `+`).
fn digits<V: core::str::FromStr>(text: &str) -> Option<V> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// FNV-1a (64 bit) of every tensor (name, dtype, shape, bytes, in name order)
/// and every metadata entry but the checksum (in key order). A change of any
/// single byte changes it: each step is a bijection of the running state.
fn digest(file: &SafeTensors<'_>) -> u64 {
    let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
    let mut tensors: Vec<_> = file.tensors().iter().collect();
    tensors.sort_by(|a, b| a.name().cmp(b.name()));
    for tensor in tensors {
        hash.field(tensor.name().as_bytes());
        hash.field(tensor.dtype().name().as_bytes());
        for &dim in tensor.shape() {
            hash.write(&(dim as u64).to_le_bytes());
        }
        hash.field(tensor.bytes());
    }
    let mut metadata: Vec<&(String, String)> = file.metadata().iter().filter(|(k, _)| k != KEY_CHECKSUM).collect();
    metadata.sort();
    for (key, value) in metadata {
        hash.field(key.as_bytes());
        hash.field(value.as_bytes());
    }
    hash.0
}

struct Fnv(u64);

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A length-prefixed field, so that ("ab", "c") and ("a", "bc") differ.
    fn field(&mut self, bytes: &[u8]) {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_single_byte_change_changes_the_digest() {
        let mut writer = Writer::new();
        writer.add::<f32>("layers.0.weight", &[2, 2], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        writer.metadata("a", "b");
        let bytes = writer.to_bytes();
        let reference = digest(&SafeTensors::parse(&bytes).unwrap());
        let mut tried = 0;
        for index in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[index] ^= 1 << bit;
                if let Ok(file) = SafeTensors::parse(&damaged) {
                    tried += 1;
                    // Header padding is spaces the parser skips: the same content.
                    let same = file.metadata() == SafeTensors::parse(&bytes).unwrap().metadata()
                        && file
                            .tensors()
                            .iter()
                            .zip(SafeTensors::parse(&bytes).unwrap().tensors())
                            .all(|(a, b)| a.name() == b.name() && a.shape() == b.shape() && a.bytes() == b.bytes());
                    assert_eq!(digest(&file) == reference, same, "byte {index} bit {bit}");
                }
            }
        }
        assert!(tried > 100, "only {tried} damaged files parsed");
    }
}
