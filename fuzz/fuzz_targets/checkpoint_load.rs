//! Checkpoint bytes into `Mlp::load_checkpoint` with each optimizer kind.
//!
//! Input layout: byte 0 picks the mode, byte 1 the optimizer (Sgd with momentum, Adam,
//! RmsProp centred) and the element type.
//! - even: RAW mode. The rest is the file, as is (seeds: real checkpoints). Past the parser the
//!   checksum refuses nearly everything, which is what a damaged file must meet.
//! - odd: EDIT mode. A real checkpoint of a small trained network is taken apart and rebuilt
//!   with fuzzer-chosen edits (tensors dropped, renamed, reshaped or re-typed; metadata values
//!   replaced, removed or added), then signed with a valid checksum unless the fuzzer says not
//!   to, so that the metadata parsers and the optimizers' state readers are reached.
//!
//! Checks: nothing panics; on error the network and the optimizer are exactly as before (their
//! own checkpoint bytes are unchanged); on success, saving them again and loading that into
//! fresh objects gives the same bytes (a loaded checkpoint is a whole, consistent state).
#![no_main]

use core::ops::ControlFlow;

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use tinymlp::safetensors::{Dtype, SafeTensors, Writer};
use tinymlp::{
    Act, Adam, CheckpointError, DynMlp, Error, Fit, HalfMse, Init, Matrix, Optimizer, RmsProp, RmsPropConfig, Rng,
    Scalar, Sgd, SgdConfig,
};

fuzz_target!(|data: &[u8]| {
    let [mode, kind, rest @ ..] = data else { return };
    let optimizer = kind % 3;
    if kind & 4 == 0 { run::<f32>(*mode, optimizer, rest) } else { run::<f64>(*mode, optimizer, rest) }
});

fn optimizer<T: Scalar>(kind: u8) -> Box<dyn Optimizer<T>> {
    match kind {
        0 => Box::new(Sgd::new(SgdConfig { lr: 0.05, momentum: 0.9, ..SgdConfig::default() }).unwrap()),
        1 => Box::new(Adam::with_lr(0.01).unwrap()),
        _ => Box::new(
            RmsProp::new(RmsPropConfig { lr: 0.01, centered: true, momentum: 0.5, ..RmsPropConfig::default() })
                .unwrap(),
        ),
    }
}

fn fresh_net<T: Scalar>(seed: u64) -> DynMlp<T> {
    DynMlp::from_widths(&[2, 3, 2], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(seed)).unwrap()
}

/// A network and optimizer after two epochs, and their checkpoint with progress.
fn trained<T: Scalar>(kind: u8) -> (DynMlp<T>, Box<dyn Optimizer<T>>, Vec<u8>) {
    let x = Matrix::from_fn(6, 2, |i, j| T::from_f64((i + j) as f64 / 7.0));
    let y = Matrix::from_fn(6, 2, |i, j| T::from_f64((i * j) as f64 / 5.0));
    let (mut net, mut opt) = (fresh_net::<T>(1), optimizer::<T>(kind));
    let history = Fit::new(2, 4).run(&mut net, &mut *opt, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(())).unwrap();
    let bytes = net.checkpoint_to_bytes(&*opt, Some(&history[1].progress)).unwrap();
    (net, opt, bytes)
}

fn run<T: Scalar>(mode: u8, kind: u8, rest: &[u8]) {
    let file = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let (_, _, original) = trained::<T>(kind);
        let Ok(edited) = edit::<T>(&original, &mut Unstructured::new(rest)) else { return };
        edited
    };
    // A network and optimizer with a state of their own, different from any checkpoint's.
    let (mut net, mut opt, _) = trained::<T>(kind);
    let x = Matrix::from_fn(3, 2, |i, j| T::from_f64((i * 2 + j) as f64 / 3.0));
    let y = Matrix::from_fn(3, 2, |i, _| T::from_f64(i as f64));
    Fit::new(1, 3).seed(5).run(&mut net, &mut *opt, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(())).unwrap();
    let before = net.checkpoint_to_bytes(&*opt, None).unwrap();
    match net.load_checkpoint(&file, &mut *opt) {
        Err(error) => {
            assert_eq!(net.checkpoint_to_bytes(&*opt, None).unwrap(), before, "changed by a refused load: {error}");
            // Every refusal has a message.
            assert!(!error.to_string().is_empty());
        }
        Ok(progress) => {
            let saved = net.checkpoint_to_bytes(&*opt, progress.as_ref()).unwrap();
            let (mut again, mut again_opt) = (fresh_net::<T>(2), optimizer::<T>(kind));
            let progress_again = again.load_checkpoint(&saved, &mut *again_opt).unwrap();
            assert_eq!(progress_again, progress);
            assert_eq!(again.checkpoint_to_bytes(&*again_opt, progress.as_ref()).unwrap(), saved);
        }
    }
}

/// The checkpoint rebuilt with fuzzer-chosen edits, signed unless the fuzzer says not to.
fn edit<T: Scalar>(original: &[u8], u: &mut Unstructured<'_>) -> ArbResult<Vec<u8>> {
    let file = SafeTensors::parse(original).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<f64>, bool)> = file
        .tensors()
        .iter()
        .map(|t| (t.name().to_string(), t.shape().to_vec(), t.to_f64_vec(), t.dtype() == Dtype::F64))
        .collect();
    let mut metadata: Vec<(String, String)> =
        file.metadata().iter().filter(|(k, _)| k != "checkpoint.checksum").cloned().collect();
    for _ in 0..u.int_in_range(0..=3)? {
        match u.int_in_range(0..=6)? {
            0 if !tensors.is_empty() => {
                let i = u.choose_index(tensors.len())?;
                tensors.remove(i);
            }
            1 if !tensors.is_empty() => {
                let i = u.choose_index(tensors.len())?;
                tensors[i].0 = u.arbitrary()?;
            }
            2 if !tensors.is_empty() => {
                // Another shape with the same number of values, or one value fewer.
                let i = u.choose_index(tensors.len())?;
                let len = tensors[i].2.len();
                if u.arbitrary()? {
                    tensors[i].1 = vec![len];
                } else if len > 0 {
                    tensors[i].2.pop();
                    tensors[i].1 = vec![len - 1];
                }
            }
            3 if !tensors.is_empty() => {
                let i = u.choose_index(tensors.len())?;
                tensors[i].3 = !tensors[i].3;
            }
            4 if !metadata.is_empty() => {
                let i = u.choose_index(metadata.len())?;
                metadata[i].1 = u.arbitrary()?;
            }
            5 if !metadata.is_empty() => {
                let i = u.choose_index(metadata.len())?;
                metadata.remove(i);
            }
            _ => metadata.push((u.arbitrary()?, u.arbitrary()?)),
        }
    }
    let mut writer = Writer::new();
    for (name, shape, values, as_f64) in &tensors {
        let added = if *as_f64 {
            writer.add::<f64>(name, shape, values).map(drop)
        } else {
            let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            writer.add::<f32>(name, shape, &values).map(drop)
        };
        if added.is_err() {
            return Err(libfuzzer_sys::arbitrary::Error::IncorrectFormat);
        }
    }
    for (key, value) in &metadata {
        writer.metadata(key, value);
    }
    if u.ratio(1, 8)? {
        return Ok(writer.to_bytes());
    }
    // A valid checksum: the loader reports the one it computed.
    writer.metadata("checkpoint.checksum", "0000000000000000");
    let mut probe = fresh_net::<T>(3);
    let mut probe_opt = optimizer::<T>(0);
    if let Err(Error::Checkpoint(CheckpointError::Checksum { computed, .. })) =
        probe.load_checkpoint(&writer.to_bytes(), &mut *probe_opt)
    {
        writer.metadata("checkpoint.checksum", &format!("{computed:016x}"));
    }
    Ok(writer.to_bytes())
}
