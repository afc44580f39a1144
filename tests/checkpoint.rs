//! Checkpoints: exact resume through `Fit` for every optimizer, both network
//! kinds, f32 and f64, with and without a schedule; atomic saves; and damaged
//! or mismatched checkpoints refused with the objects unchanged.

use core::ops::ControlFlow;
use std::path::PathBuf;

use tinymlp::safetensors::{SafeTensors, Writer};
use tinymlp::{
    Act, Adam, AdamConfig, CheckpointError, CosineAnnealing, DynMlp, Error, Fit, HalfMse, Identity, Init, Layers,
    Linear, Matrix, Mlp, Optimizer, RmsProp, RmsPropConfig, Rng, Scalar, Schedule, Sgd, SgdConfig, Tanh,
};

/// Every optimizer configuration whose state differs in kind.
fn optimizers<T: Scalar>() -> Vec<(&'static str, Box<dyn Optimizer<T>>)> {
    let sgd = |config| Box::new(Sgd::<T>::new(config).unwrap()) as Box<dyn Optimizer<T>>;
    vec![
        ("sgd", sgd(SgdConfig { lr: 0.05, ..SgdConfig::default() })),
        ("sgd momentum nesterov", sgd(SgdConfig { lr: 0.05, momentum: 0.9, nesterov: true, ..SgdConfig::default() })),
        (
            "sgd momentum dampening decay",
            sgd(SgdConfig { lr: 0.05, momentum: 0.8, dampening: 0.1, weight_decay: 1e-3, ..SgdConfig::default() }),
        ),
        ("adam", Box::new(Adam::<T>::with_lr(0.01).unwrap())),
        ("adamw", Box::new(Adam::<T>::new(AdamConfig { lr: 0.01, ..AdamConfig::adamw() }).unwrap())),
        (
            "rmsprop centered momentum",
            Box::new(
                RmsProp::<T>::new(RmsPropConfig {
                    lr: 0.005,
                    momentum: 0.5,
                    centered: true,
                    ..RmsPropConfig::default()
                })
                .unwrap(),
            ),
        ),
    ]
}

fn data<T: Scalar>() -> (Matrix<T>, Matrix<T>) {
    let x = Matrix::from_fn(24, 2, |i, j| T::from_f64(((i * 7 + j * 3) % 11) as f64 / 10.0 - 0.5));
    let y = Matrix::from_fn(24, 1, |i, _| T::from_f64(((i % 5) as f64 / 4.0).powi(2)));
    (x, y)
}

fn dyn_net<T: Scalar>() -> DynMlp<T> {
    DynMlp::from_widths(&[2, 6, 5, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(21)).unwrap()
}

type TupleNet<T> = Mlp<T, (Linear<T, 2, 6, Tanh>, Linear<T, 6, 5, Tanh>, Linear<T, 5, 1, Identity>)>;

fn tuple_net<T: Scalar>() -> TupleNet<T> {
    let mut rng = Rng::new(21);
    Mlp::new((Linear::new(&mut rng), Linear::new(&mut rng), Linear::new(&mut rng)))
}

const EPOCHS: usize = 5;

/// `EPOCHS` epochs in one go, and for every k: k epochs, a checkpoint file,
/// fresh objects loaded from it, the rest: the same bits.
fn fit_resumes_exactly<T: Scalar, L: Layers<T>>(make: fn() -> Mlp<T, L>, schedule: Option<&dyn Schedule>) {
    let (x, y) = data::<T>();
    let dir = scratch_dir("resume");
    for (index, (name, _)) in optimizers::<T>().iter().enumerate() {
        let optimizer = || optimizers::<T>().swap_remove(index).1;
        let mut fit = Fit::new(EPOCHS, 5).seed(3);
        if let Some(schedule) = schedule {
            fit = fit.schedule(schedule);
        }
        let (mut net, mut opt) = (make(), optimizer());
        fit.run(&mut net, &mut *opt, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(())).unwrap();
        let expected = net.checkpoint_to_bytes(&*opt, None).unwrap();

        for k in 0..=EPOCHS {
            let path = dir.join(format!("{name}-{k}.ckpt"));
            let (mut first, mut first_opt) = (make(), optimizer());
            if k == 0 {
                // Nothing trained: a checkpoint of the initial state, without progress.
                first.save_checkpoint(&path, &*first_opt, None).unwrap();
            } else {
                // A run cut after k epochs (as a crash after the k-th save would).
                let mut first_fit = Fit::new(k, 5).seed(3).checkpoint(&path, 1);
                if let Some(schedule) = schedule {
                    first_fit = first_fit.schedule(schedule);
                }
                first_fit.run(&mut first, &mut *first_opt, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(())).unwrap();
            }
            let (mut resumed, mut resumed_opt) = (make(), optimizer());
            let progress = resumed.read_checkpoint(&path, &mut *resumed_opt).unwrap();
            let resumed_fit = match progress {
                Some(progress) => {
                    assert_eq!(progress.epochs_done(), k, "{name}");
                    fit.resume(progress)
                }
                None => fit,
            };
            let rest = resumed_fit
                .run(&mut resumed, &mut *resumed_opt, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()))
                .unwrap();
            assert_eq!(rest.first().map(|r| r.epoch), (k < EPOCHS).then_some(k), "{name}, k = {k}");
            assert_eq!(net.parameters_to_vec(), resumed.parameters_to_vec(), "{} {name}: weights, k = {k}", T::NAME);
            assert_eq!(
                resumed.checkpoint_to_bytes(&*resumed_opt, None).unwrap(),
                expected,
                "{} {name}: weights and optimizer state, k = {k}",
                T::NAME
            );
            assert!(!tmp_of(&path).exists(), "the temporary file is renamed away");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

const COSINE: CosineAnnealing = CosineAnnealing { t_max: 3, eta_min: 1e-4 };

#[test]
fn fit_resumes_bit_for_bit_f64() {
    for schedule in [None, Some(&COSINE as &dyn Schedule)] {
        fit_resumes_exactly::<f64, _>(dyn_net, schedule);
        fit_resumes_exactly::<f64, _>(tuple_net, schedule);
    }
}

#[test]
fn fit_resumes_bit_for_bit_f32() {
    for schedule in [None, Some(&COSINE as &dyn Schedule)] {
        fit_resumes_exactly::<f32, _>(dyn_net, schedule);
        fit_resumes_exactly::<f32, _>(tuple_net, schedule);
    }
}

#[test]
fn a_run_stopped_early_resumes_to_the_same_end() {
    let (x, y) = data::<f64>();
    let dir = scratch_dir("stopped");
    let path = dir.join("run.ckpt");
    let stop_at_2 = |report: &tinymlp::EpochReport<f64>, _: &DynMlp<f64>| {
        if report.epoch >= 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let fit = Fit::new(10, 5).checkpoint(&path, 4);
    let (mut net, mut adam) = (dyn_net::<f64>(), Adam::with_lr(0.01).unwrap());
    assert_eq!(fit.run(&mut net, &mut adam, &HalfMse, &x, &y, stop_at_2).unwrap().len(), 3);
    // Killed after the stop's save, restarted: nothing more to train.
    let (mut resumed, mut resumed_adam) = (dyn_net::<f64>(), Adam::with_lr(0.01).unwrap());
    let progress = resumed.read_checkpoint(&path, &mut resumed_adam).unwrap().unwrap();
    assert!(progress.stopped());
    assert_eq!(progress.epochs_done(), 3);
    let more = fit.resume(progress).run(&mut resumed, &mut resumed_adam, &HalfMse, &x, &y, stop_at_2).unwrap();
    assert!(more.is_empty());
    assert_eq!(resumed.parameters_to_vec(), net.parameters_to_vec());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn resuming_with_another_seed_or_batch_size_is_refused() {
    let (x, y) = data::<f64>();
    let (mut net, mut adam, bytes) = trained();
    let progress = net.load_checkpoint(&bytes, &mut adam).unwrap().unwrap();
    assert_eq!((progress.seed(), progress.batch_size()), (0, 8));
    for (fit, setting, checkpoint, fit_value) in
        [(Fit::new(5, 8).seed(1), "seed", 0, 1), (Fit::new(5, 4), "batch_size", 8, 4)]
    {
        let before = net.checkpoint_to_bytes(&adam, None).unwrap();
        let error = fit.resume(progress).run(&mut net, &mut adam, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()));
        assert_eq!(
            error.unwrap_err(),
            Error::Checkpoint(CheckpointError::ResumeMismatch { setting, checkpoint, fit: fit_value })
        );
        assert_eq!(net.checkpoint_to_bytes(&adam, None).unwrap(), before);
    }
}

#[test]
fn a_checkpoint_of_other_activations_is_refused() {
    let (_, _, bytes) = trained();
    let mut relu =
        DynMlp::<f64>::from_widths(&[2, 6, 5, 1], Act::Relu, Act::Identity, Init::TorchDefault, &mut Rng::new(21))
            .unwrap();
    let mut adam = Adam::with_lr(0.01).unwrap();
    let before = relu.checkpoint_to_bytes(&adam, None).unwrap();
    let error = relu.load_checkpoint(&bytes, &mut adam).unwrap_err();
    assert!(matches!(error, Error::Checkpoint(CheckpointError::Activation { layer: 0, .. })), "{error}");
    assert!(error.to_string().contains("tanh") && error.to_string().contains("relu"), "{error}");
    assert_eq!(relu.checkpoint_to_bytes(&adam, None).unwrap(), before);
}

#[test]
fn a_checkpoint_that_saves_always_loads() {
    let mut net = dyn_net::<f64>();
    let mut adam = Adam::with_lr(0.01).unwrap();
    for lr in [f64::NAN, f64::INFINITY, -0.5] {
        // A rate the checkpoint could not hold never gets into the optimizer.
        let error = adam.try_set_lr(lr).unwrap_err();
        assert!(matches!(error, Error::InvalidHyperParameter { name: "lr", .. }), "{lr}: {error}");
        assert_eq!(adam.lr(), 0.01);
        let bytes = net.checkpoint_to_bytes(&adam, None).unwrap();
        net.load_checkpoint(&bytes, &mut Adam::with_lr(0.5).unwrap()).unwrap();
    }
}

#[test]
fn fit_checkpoints_every_n_epochs_and_at_the_end() {
    let (x, y) = data::<f64>();
    let dir = scratch_dir("every");
    let path = dir.join("run.ckpt");
    let mut seen = Vec::new();
    let (mut net, mut adam) = (dyn_net::<f64>(), Adam::with_lr(0.01).unwrap());
    Fit::new(7, 8)
        .checkpoint(&path, 3)
        .run(&mut net, &mut adam, &HalfMse, &x, &y, |report, _| {
            // The file on disk when epoch e is reported is the one saved after the last multiple of 3.
            let on_disk = path.exists().then(|| {
                let (mut probe, mut probe_adam) = (dyn_net::<f64>(), Adam::with_lr(0.01).unwrap());
                probe.read_checkpoint(&path, &mut probe_adam).unwrap().unwrap().epochs_done()
            });
            seen.push((report.epoch, on_disk));
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen, [(0, None), (1, None), (2, None), (3, Some(3)), (4, Some(3)), (5, Some(3)), (6, Some(6))]);
    let debug = format!("{:?}", Fit::<f64>::new(7, 8).checkpoint(&path, 3));
    assert!(debug.contains("checkpoint: Some((") && debug.contains("run.ckpt"), "{debug}");
    let (mut probe, mut probe_adam) = (dyn_net::<f64>(), Adam::with_lr(0.01).unwrap());
    assert_eq!(probe.read_checkpoint(&path, &mut probe_adam).unwrap().unwrap().epochs_done(), 7);
    assert_eq!(probe.parameters_to_vec(), net.parameters_to_vec());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_stale_temporary_file_from_a_crashed_save_is_harmless() {
    // What a kill during a save leaves: the previous checkpoint, and a partial temporary file.
    let (x, y) = data::<f64>();
    let dir = scratch_dir("stale");
    let path = dir.join("run.ckpt");
    let (mut net, mut adam) = (dyn_net::<f64>(), Adam::with_lr(0.01).unwrap());
    Fit::new(2, 8)
        .checkpoint(&path, 1)
        .run(&mut net, &mut adam, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()))
        .unwrap();
    let whole = std::fs::read(&path).unwrap();
    std::fs::write(tmp_of(&path), &whole[..whole.len() / 2]).unwrap();
    let (mut resumed, mut resumed_adam) = (dyn_net::<f64>(), Adam::with_lr(0.01).unwrap());
    assert_eq!(resumed.read_checkpoint(&path, &mut resumed_adam).unwrap().unwrap().epochs_done(), 2);
    // The next save overwrites the stale file and renames it into place.
    resumed.save_checkpoint(&path, &resumed_adam, None).unwrap();
    assert!(!tmp_of(&path).exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// A trained network and Adam, and their checkpoint.
fn trained() -> (DynMlp<f64>, Adam<f64>, Vec<u8>) {
    let (x, y) = data::<f64>();
    let (mut net, mut adam) = (dyn_net::<f64>(), Adam::with_lr(0.01).unwrap());
    let history = Fit::new(2, 8).run(&mut net, &mut adam, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(())).unwrap();
    let bytes = net.checkpoint_to_bytes(&adam, Some(&history[1].progress)).unwrap();
    (net, adam, bytes)
}

/// Loads `bytes` into a fresh network and Adam that have taken steps of their
/// own, expecting an error, and checks that neither changed.
fn refused(bytes: &[u8]) -> Error {
    let (mut net, mut adam, _) = trained();
    // Different from the checkpoint's state, so a partial load would show.
    let (x, y) = data::<f64>();
    Fit::new(1, 8).seed(9).run(&mut net, &mut adam, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(())).unwrap();
    net.try_forward(&x).unwrap();
    let (before, output) = (net.checkpoint_to_bytes(&adam, None).unwrap(), net.output().cloned());
    let error = net.load_checkpoint(bytes, &mut adam).unwrap_err();
    assert_eq!(net.checkpoint_to_bytes(&adam, None).unwrap(), before, "changed by a refused load: {error}");
    assert_eq!(net.output().cloned(), output, "the forward cache is lost by a refused load: {error}");
    error
}

#[test]
fn truncated_checkpoints_are_refused_at_every_length() {
    let (_, _, bytes) = trained();
    for len in 0..bytes.len() {
        let error = refused(&bytes[..len]);
        assert!(
            matches!(error, Error::Safetensors(_) | Error::Checkpoint(CheckpointError::Checksum { .. })),
            "length {len}: {error}"
        );
    }
}

#[test]
fn every_bit_flip_is_refused_or_changes_nothing() {
    let (net, adam, bytes) = trained();
    let original = net.checkpoint_to_bytes(&adam, None).unwrap();
    let mut refusals = 0;
    for index in 0..bytes.len() {
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[index] ^= 1 << bit;
            let (mut probe, mut probe_adam) = (dyn_net::<f64>(), Adam::with_lr(0.01).unwrap());
            match probe.load_checkpoint(&damaged, &mut probe_adam) {
                Err(_) => refusals += 1,
                // Only flips that do not change the content may load, e.g. the case
                // of a hex digit in the checksum: what loads is the original.
                Ok(_) => assert_eq!(
                    probe.checkpoint_to_bytes(&probe_adam, None).unwrap(),
                    original,
                    "byte {index} bit {bit} loaded something else"
                ),
            }
        }
    }
    assert!(refusals > bytes.len() * 8 * 99 / 100, "{refusals} of {} flips refused", bytes.len() * 8);
}

#[test]
fn mismatched_checkpoints_name_the_problem() {
    let (_, _, bytes) = trained();

    // A network of another shape.
    let (mut wide, mut adam) = (
        DynMlp::<f64>::from_widths(&[2, 7, 5, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))
            .unwrap(),
        Adam::with_lr(0.01).unwrap(),
    );
    let before = wide.checkpoint_to_bytes(&adam, None).unwrap();
    let error = wide.load_checkpoint(&bytes, &mut adam).unwrap_err();
    assert!(error.to_string().contains("layers.0.weight"), "{error}");
    assert_eq!(wide.checkpoint_to_bytes(&adam, None).unwrap(), before);

    // Another optimizer's state.
    let (mut net, mut sgd) = (dyn_net::<f64>(), Sgd::with_lr(0.1).unwrap());
    let before = net.checkpoint_to_bytes(&sgd, None).unwrap();
    let error = net.load_checkpoint(&bytes, &mut sgd).unwrap_err();
    assert!(error.to_string().contains("adam") && error.to_string().contains("sgd"), "{error}");
    assert_eq!(net.checkpoint_to_bytes(&sgd, None).unwrap(), before);

    // Another element type.
    let (mut narrow, mut adam32) = (dyn_net::<f32>(), Adam::<f32>::with_lr(0.01).unwrap());
    let before = narrow.checkpoint_to_bytes(&adam32, None).unwrap();
    let error = narrow.load_checkpoint(&bytes, &mut adam32).unwrap_err();
    assert!(matches!(error, Error::Checkpoint(CheckpointError::Dtype { .. })), "{error}");
    assert!(error.to_string().contains("F64") && error.to_string().contains("F32"), "{error}");
    assert_eq!(narrow.checkpoint_to_bytes(&adam32, None).unwrap(), before);

    // A model file is not a checkpoint.
    let error = refused(&dyn_net::<f64>().to_safetensors());
    assert_eq!(error, Error::Checkpoint(CheckpointError::NotACheckpoint));
}

#[test]
fn edited_metadata_is_refused_naming_the_key() {
    let (_, _, bytes) = trained();
    let file = SafeTensors::parse(&bytes).unwrap();
    // Rewrites the file with one metadata value replaced (and the checksum made
    // to match, as a careless tool would not, so that the value itself is checked).
    let edit = |key: &str, value: Option<&str>| -> Vec<u8> {
        let mut writer = Writer::new();
        for tensor in file.tensors() {
            writer.add::<f64>(tensor.name(), tensor.shape(), &tensor.to_vec::<f64>().unwrap()).unwrap();
        }
        for (k, v) in file.metadata() {
            if k == key {
                if let Some(value) = value {
                    writer.metadata(k, value);
                }
            } else if k != "checkpoint.checksum" {
                writer.metadata(k, v);
            }
        }
        resign(writer)
    };
    for (key, value) in [
        ("checkpoint.epoch", Some("-1")),
        ("checkpoint.epoch", Some("two")),
        ("checkpoint.base_lr", Some("NaN")),
        ("checkpoint.seed", Some("")),
        ("checkpoint.rng", Some("0000000000000000,0000000000000000,0000000000000000,0000000000000000")),
        ("checkpoint.rng", Some("1,2,3,4")),
        ("checkpoint.base_lr", None),
        ("checkpoint.dtype", None),
    ] {
        let error = refused(&edit(key, value));
        assert!(error.to_string().contains(key), "{key} = {value:?}: {error}");
    }
    let error = refused(&edit("tinymlp.checkpoint", Some("2")));
    assert!(matches!(error, Error::Checkpoint(CheckpointError::Version { .. })), "{error}");
    // Without re-signing, any edit is a checksum error.
    let mut unsigned = bytes.clone();
    let at = bytes.windows(5).position(|w| w == b"\"F64\"").unwrap();
    unsigned[at + 3] = b'2'; // "F62"
    assert!(matches!(refused(&unsigned), Error::Checkpoint(CheckpointError::Checksum { .. })));
}

/// The writer's file with a valid checksum, which the loader reports when it
/// refuses a wrong one (so the edited value itself gets checked).
fn resign(writer: Writer) -> Vec<u8> {
    let unsigned = writer.to_bytes();
    let file = SafeTensors::parse(&unsigned).unwrap();
    let mut probe = Writer::new();
    for tensor in file.tensors() {
        probe.add::<f64>(tensor.name(), tensor.shape(), &tensor.to_vec::<f64>().unwrap()).unwrap();
    }
    for (k, v) in file.metadata() {
        probe.metadata(k, v);
    }
    probe.metadata("checkpoint.checksum", "0000000000000000");
    let Error::Checkpoint(CheckpointError::Checksum { computed, .. }) = refused(&probe.to_bytes()) else {
        // Refused before the checksum (an unknown format version): nothing to sign.
        return probe.to_bytes();
    };
    probe.metadata("checkpoint.checksum", &format!("{computed:016x}"));
    probe.to_bytes()
}

#[test]
fn an_optimizer_without_state_cannot_checkpoint() {
    struct Plain;
    impl Optimizer<f64> for Plain {
        fn step(&mut self, _: &mut dyn tinymlp::Parameters<f64>) -> tinymlp::Result<()> {
            Ok(())
        }
        fn lr(&self) -> f64 {
            0.0
        }
        fn try_set_lr(&mut self, _: f64) -> tinymlp::Result<()> {
            Ok(())
        }
    }
    let net = dyn_net::<f64>();
    assert_eq!(
        net.checkpoint_to_bytes(&Plain, None).unwrap_err(),
        Error::Checkpoint(CheckpointError::NoOptimizerState)
    );
}

#[test]
fn write_atomically_replaces_the_file_and_reports_io_errors() {
    let dir = scratch_dir("atomic");
    let path = dir.join("file.bin");
    tinymlp::write_atomically(&path, b"first").unwrap();
    tinymlp::write_atomically(&path, b"second").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    assert!(!tmp_of(&path).exists());
    let missing = dir.join("no such directory").join("file.bin");
    let error = tinymlp::write_atomically(&missing, b"x").unwrap_err();
    assert!(matches!(error, Error::Checkpoint(CheckpointError::Io { op: "create the temporary file", .. })), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn resuming_beyond_the_run_is_refused() {
    let (mut net, mut adam, bytes) = trained();
    let progress = net.load_checkpoint(&bytes, &mut adam).unwrap().unwrap();
    let (x, y) = data::<f64>();
    let error =
        Fit::new(1, 8).resume(progress).run(&mut net, &mut adam, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()));
    assert_eq!(error.unwrap_err(), Error::Checkpoint(CheckpointError::ResumeBeyondEnd { epochs_done: 2, epochs: 1 }));
}

/// A fresh directory of its own for each call (tests run in parallel).
fn scratch_dir(name: &str) -> PathBuf {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tinymlp-checkpoint-{name}-{}-{call}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tmp_of(path: &std::path::Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}
