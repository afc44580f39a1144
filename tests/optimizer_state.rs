//! Optimizer state in and out of safetensors (`OptimizerState`):
//! - every optimizer's state round-trips: read into a fresh optimizer, it
//!   writes the same bytes and takes the same next steps, bit for bit;
//! - exact resume (property): N steps in one go equal k steps, a save of the
//!   network and the optimizer, a load into fresh objects and N − k more
//!   steps, bitwise, for every optimizer, the const-generic `Mlp`, `DynMlp`
//!   and `StaticMlp`, f32 and f64;
//! - the learning rate (any finite value, and every schedule's) reads back
//!   to the bit;
//! - every refusal names what is wrong and leaves the optimizer (and on
//!   write, the writer) unchanged.

use proptest::prelude::*;
use tinymlp::safetensors::{Dtype, FormatError, SafeTensors, Writer};
use tinymlp::{
    Act, Adam, AdamConfig, CosineAnnealing, DynMlp, Error, Exponential, HalfMse, Identity, Init, Linear, Matrix, Mlp,
    Optimizer, OptimizerState, ParameterInfo, Parameters, RmsProp, RmsPropConfig, Rng, Scalar, Schedule, Sgd,
    SgdConfig, StaticAdam, StaticLayers, StaticMlp, StaticSgd, StepDecay, Tanh, TrainLinear,
};

/// An optimizer whose state can be saved: what the tests drive.
trait Opt<T: Scalar>: Optimizer<T> + OptimizerState<T> {}
impl<T: Scalar, O: Optimizer<T> + OptimizerState<T>> Opt<T> for O {}

const WIDTHS: [usize; 4] = [2, 5, 3, 1];
const B: usize = 4;
type Heap<T> = Mlp<T, (Linear<T, 2, 5, Tanh>, Linear<T, 5, 3, Tanh>, Linear<T, 3, 1, Identity>)>;
type Layers<T> = (TrainLinear<T, 2, 5, Tanh>, TrainLinear<T, 5, 3, Tanh>, TrainLinear<T, 3, 1, Identity>);
type Static<T> = StaticMlp<T, Layers<T>, 2, 1, B>;
const P: usize = <Layers<f64> as StaticLayers<f64, 2, 1>>::PARAMETERS;

/// Every optimizer and the variants whose state differs.
const KINDS: [&str; 14] = [
    "sgd",
    "sgd momentum",
    "sgd nesterov",
    "sgd dampening+decay",
    "adam",
    "adamw",
    "adam coupled decay",
    "rmsprop",
    "rmsprop momentum",
    "rmsprop centered+momentum+decay",
    "static sgd",
    "static sgd momentum",
    "static adam",
    "static adamw",
];

fn optimizer<T: Scalar>(kind: &str) -> Box<dyn Opt<T>> {
    let sgd = |config: SgdConfig| SgdConfig { lr: 0.05, ..config };
    let momentum = sgd(SgdConfig { momentum: 0.9, ..SgdConfig::default() });
    let adam = AdamConfig { lr: 0.01, ..AdamConfig::default() };
    let adamw = AdamConfig { lr: 0.01, ..AdamConfig::adamw() };
    let rmsprop = RmsPropConfig { lr: 0.005, ..RmsPropConfig::default() };
    match kind {
        "sgd" => Box::new(Sgd::new(sgd(SgdConfig::default())).unwrap()),
        "sgd momentum" => Box::new(Sgd::new(momentum).unwrap()),
        "sgd nesterov" => Box::new(Sgd::new(SgdConfig { nesterov: true, ..momentum }).unwrap()),
        "sgd dampening+decay" => {
            Box::new(Sgd::new(SgdConfig { momentum: 0.5, dampening: 0.3, weight_decay: 0.01, ..momentum }).unwrap())
        }
        "adam" => Box::new(Adam::new(adam).unwrap()),
        "adamw" => Box::new(Adam::new(adamw).unwrap()),
        "adam coupled decay" => Box::new(Adam::new(AdamConfig { weight_decay: 0.1, ..adam }).unwrap()),
        "rmsprop" => Box::new(RmsProp::new(rmsprop).unwrap()),
        "rmsprop momentum" => Box::new(RmsProp::new(RmsPropConfig { momentum: 0.9, ..rmsprop }).unwrap()),
        "rmsprop centered+momentum+decay" => Box::new(
            RmsProp::new(RmsPropConfig { momentum: 0.5, centered: true, weight_decay: 0.01, ..rmsprop }).unwrap(),
        ),
        "static sgd" => Box::new(StaticSgd::<T, P>::new(sgd(SgdConfig::default())).unwrap()),
        "static sgd momentum" => Box::new(StaticSgd::<T, P>::new(momentum).unwrap()),
        "static adam" => Box::new(StaticAdam::<T, P>::new(adam).unwrap()),
        "static adamw" => Box::new(StaticAdam::<T, P>::new(adamw).unwrap()),
        _ => unreachable!("unknown optimizer {kind}"),
    }
}

/// The batch for training step `step`: fixed, so that two runs see the same data.
fn batch(step: usize) -> ([[f64; 2]; B], [[f64; 1]; B]) {
    let mut rng = Rng::new(1000 + step as u64);
    let x: [[f64; 2]; B] = core::array::from_fn(|_| [rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)]);
    let y = core::array::from_fn(|b| [(3.0 * x[b][0]).sin() * x[b][1]]);
    (x, y)
}

/// The three network kinds, trained, saved and loaded alike.
trait Net<T: Scalar>: Parameters<T> + Clone {
    /// A network initialised from `seed`.
    fn fresh(seed: u64) -> Self;
    /// zero_grad, forward and backward on batch `step`.
    fn gradients(&mut self, step: usize);
    fn parameter_info(&self) -> ParameterInfo;
    fn save(&self) -> Vec<u8>;
    /// A fresh network holding the parameters in `bytes`.
    fn load(bytes: &[u8]) -> Self;
    fn values(&self) -> Vec<T>;
}

fn matrices<T: Scalar>(step: usize) -> (Matrix<T>, Matrix<T>) {
    let (x, y) = batch(step);
    (Matrix::from_fn(B, 2, |r, c| T::from_f64(x[r][c])), Matrix::from_fn(B, 1, |r, _| T::from_f64(y[r][0])))
}

impl<T: Scalar> Net<T> for Heap<T> {
    fn fresh(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        Mlp::new((
            Linear::with(Tanh, Init::TorchDefault, &mut rng),
            Linear::with(Tanh, Init::TorchDefault, &mut rng),
            Linear::with(Identity, Init::TorchDefault, &mut rng),
        ))
    }
    fn gradients(&mut self, step: usize) {
        let (x, y) = matrices::<T>(step);
        self.zero_grad();
        self.forward(&x);
        self.backward_loss(&HalfMse, &y);
    }
    fn parameter_info(&self) -> ParameterInfo {
        Mlp::parameter_info(self)
    }
    fn save(&self) -> Vec<u8> {
        self.to_safetensors()
    }
    fn load(bytes: &[u8]) -> Self {
        // Another seed: every parameter must come from the file.
        let mut net = <Self as Net<T>>::fresh(12345);
        net.load_safetensors(bytes).unwrap();
        net
    }
    fn values(&self) -> Vec<T> {
        self.parameters_to_vec()
    }
}

impl<T: Scalar> Net<T> for DynMlp<T> {
    fn fresh(seed: u64) -> Self {
        DynMlp::from_widths(&WIDTHS, Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(seed)).unwrap()
    }
    fn gradients(&mut self, step: usize) {
        let (x, y) = matrices::<T>(step);
        self.zero_grad();
        self.forward(&x);
        self.backward_loss(&HalfMse, &y);
    }
    fn parameter_info(&self) -> ParameterInfo {
        Mlp::parameter_info(self)
    }
    fn save(&self) -> Vec<u8> {
        self.to_safetensors()
    }
    fn load(bytes: &[u8]) -> Self {
        DynMlp::from_safetensors(bytes, Act::Tanh, Act::Identity).unwrap()
    }
    fn values(&self) -> Vec<T> {
        self.parameters_to_vec()
    }
}

impl<T: Scalar> Net<T> for Static<T> {
    fn fresh(seed: u64) -> Self {
        let mut net = Self::new((
            TrainLinear::new([[T::zero(); 2]; 5], [T::zero(); 5], Tanh),
            TrainLinear::new([[T::zero(); 5]; 3], [T::zero(); 3], Tanh),
            TrainLinear::new([[T::zero(); 3]; 1], [T::zero(); 1], Identity),
        ));
        // The heap network's initialisation, so that all kinds start alike.
        let values = <Heap<T> as Net<T>>::fresh(seed).parameters_to_vec();
        set_values(&mut net, &values);
        net
    }
    fn gradients(&mut self, step: usize) {
        let (x, y) = batch(step);
        let x = x.map(|row| row.map(T::from_f64));
        let y = y.map(|row| row.map(T::from_f64));
        self.zero_grad();
        self.forward(&x);
        self.backward_loss(&HalfMse, &y);
    }
    fn parameter_info(&self) -> ParameterInfo {
        StaticMlp::parameter_info(self)
    }
    fn save(&self) -> Vec<u8> {
        // StaticMlp has no file format of its own: the same names as Mlp's.
        let values = Net::<T>::values(self);
        let mut writer = Writer::new();
        let mut offset = 0;
        for (name, shape) in StaticMlp::parameter_info(self).iter() {
            let len: usize = shape.iter().product();
            writer.add(name, shape, &values[offset..offset + len]).unwrap();
            offset += len;
        }
        writer.to_bytes()
    }
    fn load(bytes: &[u8]) -> Self {
        let mut net = <Self as Net<T>>::fresh(12345);
        let file = SafeTensors::parse(bytes).unwrap();
        let mut values = Vec::new();
        for (name, _) in StaticMlp::parameter_info(&net).iter() {
            values.extend(file.get(name).unwrap().to_vec::<T>().unwrap());
        }
        set_values(&mut net, &values);
        net
    }
    fn values(&self) -> Vec<T> {
        let mut values = Vec::new();
        self.clone().visit_parameters(&mut |v, _| values.extend_from_slice(v));
        values
    }
}

fn set_values<T: Scalar>(net: &mut impl Parameters<T>, values: &[T]) {
    let mut offset = 0;
    net.visit_parameters(&mut |v, _| {
        v.copy_from_slice(&values[offset..offset + v.len()]);
        offset += v.len();
    });
    assert_eq!(offset, values.len());
}

fn bits<T: Scalar>(values: &[T]) -> Vec<u64> {
    values.iter().map(|v| v.as_f64().to_bits()).collect()
}

/// The optimizer's state as a file: what "unchanged" and "identical" compare.
fn state_bytes<T: Scalar>(optimizer: &dyn Opt<T>, params: &ParameterInfo) -> Vec<u8> {
    let mut writer = Writer::new();
    optimizer.write_state(params, &mut writer).unwrap();
    writer.to_bytes()
}

/// Trains on batches `steps`, shrinking the learning rate every third step
/// from whatever it is: a resumed run gets it right only if the rate was
/// restored exactly.
fn train<T: Scalar, N: Net<T>>(net: &mut N, optimizer: &mut dyn Opt<T>, steps: core::ops::Range<usize>) {
    for step in steps {
        if step % 3 == 2 {
            optimizer.set_lr(optimizer.lr() * 0.7);
        }
        net.gradients(step);
        optimizer.step(net).unwrap();
    }
}

/// Round trip of `kind` on network kind `N`: after 3 steps, state (in a file
/// that also holds the network and other metadata) read into a fresh
/// optimizer writes the same bytes and takes the same 3 next steps.
fn round_trip<T: Scalar, N: Net<T>>(kind: &str) {
    let mut net = N::fresh(7);
    let mut original = optimizer::<T>(kind);
    train(&mut net, original.as_mut(), 0..3);
    let info = net.parameter_info();
    let mut writer = Writer::new();
    let mut offset = 0;
    let values = net.values();
    for (name, shape) in info.iter() {
        let len: usize = shape.iter().product();
        writer.add(name, shape, &values[offset..offset + len]).unwrap();
        offset += len;
    }
    writer.metadata("epoch", "3");
    original.write_state(&info, &mut writer).unwrap();
    let bytes = writer.to_bytes();
    let file = SafeTensors::parse(&bytes).unwrap();

    let mut restored = optimizer::<T>(kind);
    restored.set_lr(0.123); // taken from the file
    restored.read_state(&info, &file).unwrap();
    assert_eq!(restored.lr().to_bits(), original.lr().to_bits(), "{kind}");
    assert_eq!(state_bytes(restored.as_ref(), &info), state_bytes(original.as_ref(), &info), "{kind}");

    let mut copy = net.clone();
    train(&mut net, original.as_mut(), 3..6);
    train(&mut copy, restored.as_mut(), 3..6);
    assert_eq!(bits(&copy.values()), bits(&net.values()), "{kind}");
    assert_eq!(state_bytes(restored.as_ref(), &info), state_bytes(original.as_ref(), &info), "{kind}");
}

#[test]
fn every_optimizer_round_trips_on_every_network_kind() {
    for kind in KINDS {
        round_trip::<f64, Heap<f64>>(kind);
        round_trip::<f32, Heap<f32>>(kind);
        round_trip::<f64, DynMlp<f64>>(kind);
        round_trip::<f32, Static<f32>>(kind);
    }
}

#[test]
fn state_names_follow_torch() {
    let net = <DynMlp<f64> as Net<f64>>::fresh(0);
    let info = Net::<f64>::parameter_info(&net);
    let names = |kind: &str| {
        let mut net = net.clone();
        let mut optimizer = optimizer::<f64>(kind);
        train(&mut net, optimizer.as_mut(), 0..1);
        let bytes = state_bytes(optimizer.as_ref(), &info);
        let file = SafeTensors::parse(&bytes).unwrap();
        let names: Vec<String> = file.names().map(String::from).collect();
        let metadata: Vec<(String, String)> = file.metadata().to_vec();
        (names, metadata)
    };
    let (tensors, metadata) = names("adam");
    assert_eq!(tensors.len(), 2 * 6);
    assert_eq!(tensors[0], "adam.exp_avg.layers.0.weight");
    assert_eq!(tensors[11], "adam.exp_avg_sq.layers.2.bias");
    let value = |key: &str| metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    assert_eq!(value("optimizer"), Some("adam"));
    assert_eq!(value("adam.step"), Some("1"));
    assert_eq!(value("adam.lr"), Some("0.01"));
    assert_eq!(value("adam.eps"), Some("1e-8"));
    assert_eq!(value("adam.decoupled_weight_decay"), Some("false"));
    let (tensors, _) = names("rmsprop centered+momentum+decay");
    let prefixes: Vec<&str> = tensors.iter().filter(|n| n.ends_with("layers.0.weight")).map(String::as_str).collect();
    assert_eq!(
        prefixes,
        [
            "rmsprop.square_avg.layers.0.weight",
            "rmsprop.momentum_buffer.layers.0.weight",
            "rmsprop.grad_avg.layers.0.weight"
        ]
    );
    assert_eq!(names("sgd nesterov").0[1], "sgd.momentum_buffer.layers.0.bias");
    // Plain SGD keeps no state: metadata only.
    let (tensors, metadata) = names("sgd");
    assert!(tensors.is_empty());
    assert_eq!(metadata.iter().find(|(k, _)| k == "sgd.nesterov").map(|(_, v)| v.as_str()), Some("false"));
    // A static optimizer writes what its heap twin writes.
    assert_eq!(names("static adam"), names("adam"));
    assert_eq!(names("static sgd momentum"), names("sgd momentum"));
}

#[test]
fn state_moves_between_heap_and_array_optimizers() {
    let mut net = <Heap<f64> as Net<f64>>::fresh(3);
    let info = Net::<f64>::parameter_info(&net);
    let mut adam = optimizer::<f64>("adam");
    train(&mut net, adam.as_mut(), 0..4);
    let bytes = state_bytes(adam.as_ref(), &info);
    let mut array = optimizer::<f64>("static adam");
    array.read_state(&info, &SafeTensors::parse(&bytes).unwrap()).unwrap();
    let mut copy = net.clone();
    train(&mut net, adam.as_mut(), 4..8);
    train(&mut copy, array.as_mut(), 4..8);
    assert_eq!(bits(&copy.values()), bits(&net.values()));
}

#[test]
fn an_optimizer_before_its_first_step_writes_metadata_only_and_reading_that_resets() {
    let net = <DynMlp<f32> as Net<f32>>::fresh(0);
    let info = Net::<f32>::parameter_info(&net);
    for kind in KINDS {
        let fresh = optimizer::<f32>(kind);
        let empty = state_bytes(fresh.as_ref(), &info);
        assert!(SafeTensors::parse(&empty).unwrap().is_empty(), "{kind}");
        // An optimizer with state, reset by reading the empty state, steps as a fresh one.
        let (mut a, mut b) = (net.clone(), net.clone());
        let mut used = optimizer::<f32>(kind);
        train(&mut a, used.as_mut(), 0..3);
        used.read_state(&info, &SafeTensors::parse(&empty).unwrap()).unwrap();
        assert_eq!(state_bytes(used.as_ref(), &info), empty, "{kind}");
        let mut fresh = optimizer::<f32>(kind);
        let mut a = net.clone();
        train(&mut a, used.as_mut(), 0..3);
        train(&mut b, fresh.as_mut(), 0..3);
        assert_eq!(bits(&a.values()), bits(&b.values()), "{kind}");
    }
}

/// N steps in one go against k steps, a save, a load into fresh objects and
/// N − k more steps: weights and optimizer state bitwise identical.
fn resume<T: Scalar, N: Net<T>>(kind: &str, total: usize, k: usize, seed: u64) -> Result<(), TestCaseError> {
    let mut straight = N::fresh(seed);
    let mut optimizer_straight = optimizer::<T>(kind);
    train(&mut straight, optimizer_straight.as_mut(), 0..total);

    let mut first = N::fresh(seed);
    let mut optimizer_first = optimizer::<T>(kind);
    train(&mut first, optimizer_first.as_mut(), 0..k);
    let network = first.save();
    let state = state_bytes(optimizer_first.as_ref(), &first.parameter_info());
    drop((first, optimizer_first));

    let mut resumed = N::load(&network);
    let mut optimizer_resumed = optimizer::<T>(kind);
    optimizer_resumed.read_state(&resumed.parameter_info(), &SafeTensors::parse(&state).unwrap()).unwrap();
    train(&mut resumed, optimizer_resumed.as_mut(), k..total);

    prop_assert_eq!(bits(&resumed.values()), bits(&straight.values()), "{} k={}", kind, k);
    let info = straight.parameter_info();
    prop_assert_eq!(
        state_bytes(optimizer_resumed.as_ref(), &info),
        state_bytes(optimizer_straight.as_ref(), &info),
        "{} k={}",
        kind,
        k
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every optimizer on every network kind in f32 and f64, for a random
    /// split point k of 8 steps and a random initialisation.
    #[test]
    fn resuming_from_a_checkpoint_is_exact(k in 0..=8usize, seed in 0..1000u64) {
        let total = 8;
        for kind in KINDS {
            resume::<f64, Heap<f64>>(kind, total, k, seed)?;
            resume::<f32, Heap<f32>>(kind, total, k, seed)?;
            resume::<f64, DynMlp<f64>>(kind, total, k, seed)?;
            resume::<f32, DynMlp<f32>>(kind, total, k, seed)?;
            resume::<f64, Static<f64>>(kind, total, k, seed)?;
            resume::<f32, Static<f32>>(kind, total, k, seed)?;
        }
    }

    /// Any learning rate that `try_set_lr` (or a schedule) gave is read back
    /// to the bit: every finite value >= 0 but Adam's beyond `f64::MAX · (1 - beta1)`.
    #[test]
    fn the_learning_rate_reads_back_to_the_bit(raw in any::<u64>(), kind in 0..KINDS.len()) {
        let lr = f64::from_bits(raw & !(1 << 63));
        prop_assume!(lr.is_finite());
        let info = Net::<f64>::parameter_info(&<DynMlp<f64> as Net<f64>>::fresh(0));
        let mut saved = optimizer::<f64>(KINDS[kind]);
        let accepted = saved.try_set_lr(lr).is_ok();
        prop_assert_eq!(accepted, !KINDS[kind].contains("adam") || (lr / (1.0 - 0.9)).is_finite());
        prop_assume!(accepted);
        let bytes = state_bytes(saved.as_ref(), &info);
        let mut read = optimizer::<f64>(KINDS[kind]);
        read.read_state(&info, &SafeTensors::parse(&bytes).unwrap()).unwrap();
        prop_assert_eq!(read.lr().to_bits(), lr.to_bits());
    }
}

#[test]
fn every_schedules_learning_rates_read_back_to_the_bit() {
    let schedules: [&dyn Schedule; 3] = [
        &StepDecay { step_size: 3, gamma: 0.7 },
        &Exponential { gamma: 0.95 },
        &CosineAnnealing { t_max: 17, eta_min: 1e-5 },
    ];
    let info = ParameterInfo::dense([(2, 5), (5, 3), (3, 1)]);
    for schedule in schedules {
        for base in [0.1, 3e-4, 1.0 / 3.0] {
            for epoch in 0..60 {
                let lr = schedule.lr(base, epoch);
                let mut saved = Adam::<f32>::with_lr(base).unwrap();
                saved.set_lr(lr);
                let mut writer = Writer::new();
                saved.write_state(&info, &mut writer).unwrap();
                let bytes = writer.to_bytes();
                let mut read = Adam::<f32>::with_lr(base).unwrap();
                read.read_state(&info, &SafeTensors::parse(&bytes).unwrap()).unwrap();
                assert_eq!(read.lr().to_bits(), lr.to_bits(), "base {base}, epoch {epoch}");
            }
        }
    }
}

// ---------------------------------------------------------------- refusals

/// A tensor of a file being rewritten.
struct Tensor {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    values: Vec<f64>,
}

/// `bytes` with its tensors and metadata edited by `edit`.
fn rewrite(bytes: &[u8], edit: impl FnOnce(&mut Vec<Tensor>, &mut Vec<(String, String)>)) -> Vec<u8> {
    let file = SafeTensors::parse(bytes).unwrap();
    let mut tensors: Vec<Tensor> = file
        .tensors()
        .iter()
        .map(|t| Tensor {
            name: t.name().to_string(),
            dtype: t.dtype(),
            shape: t.shape().to_vec(),
            values: t.to_f64_vec(),
        })
        .collect();
    let mut metadata = file.metadata().to_vec();
    edit(&mut tensors, &mut metadata);
    let mut writer = Writer::new();
    for t in &tensors {
        match t.dtype {
            Dtype::F32 => writer.add(&t.name, &t.shape, &t.values.iter().map(|&v| v as f32).collect::<Vec<_>>()),
            _ => writer.add(&t.name, &t.shape, &t.values),
        }
        .unwrap();
    }
    for (key, value) in &metadata {
        writer.metadata(key, value);
    }
    writer.to_bytes()
}

fn set_metadata(metadata: &mut Vec<(String, String)>, key: &str, value: &str) {
    match metadata.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_string(),
        None => metadata.push((key.to_string(), value.to_string())),
    }
}

/// Reads `bytes` into `optimizer` (which has state of its own), expects
/// `check` to accept the error, and the optimizer's state to be unchanged.
fn refused<T: Scalar>(
    optimizer: &mut dyn Opt<T>,
    info: &ParameterInfo,
    bytes: &[u8],
    check: impl FnOnce(&Error) -> bool,
) -> Error {
    let own = ParameterInfo::dense([(2, 5), (5, 3), (3, 1)]);
    let before = state_bytes(optimizer, &own);
    let error = optimizer.read_state(info, &SafeTensors::parse(bytes).unwrap()).unwrap_err();
    assert!(check(&error), "unexpected error: {error:?} ({error})");
    assert_eq!(state_bytes(optimizer, &own), before, "changed by a refused read: {error}");
    error
}

/// An Adam state after 2 steps (the file to spoil), and an Adam with other
/// state (1 step, another lr) to read it into.
fn adam_setup() -> (Vec<u8>, ParameterInfo, Box<dyn Opt<f64>>) {
    let mut net = <DynMlp<f64> as Net<f64>>::fresh(0);
    let info = Net::<f64>::parameter_info(&net);
    let mut saved = optimizer::<f64>("adam");
    train(&mut net, saved.as_mut(), 0..2);
    let bytes = state_bytes(saved.as_ref(), &info);
    let mut reader = optimizer::<f64>("adam");
    train(&mut <DynMlp<f64> as Net<f64>>::fresh(1), reader.as_mut(), 5..6);
    reader.set_lr(0.02);
    (bytes, info, reader)
}

#[test]
fn another_optimizers_state_is_refused() {
    let (bytes, info, mut adam) = adam_setup();
    let mut sgd = optimizer::<f64>("sgd momentum");
    train(&mut <DynMlp<f64> as Net<f64>>::fresh(1), sgd.as_mut(), 0..1);
    let error = refused(
        sgd.as_mut(),
        &info,
        &bytes,
        |e| matches!(e, Error::WrongOptimizer { expected: "sgd", found } if found == "adam"),
    );
    assert_eq!(error.to_string(), "the file holds \"adam\" optimizer state, not \"sgd\"");
    let sgd_bytes = state_bytes(sgd.as_ref(), &info);
    refused(adam.as_mut(), &info, &sgd_bytes, |e| matches!(e, Error::WrongOptimizer { expected: "adam", .. }));
    let mut rmsprop = optimizer::<f64>("rmsprop");
    refused(rmsprop.as_mut(), &info, &bytes, |e| matches!(e, Error::WrongOptimizer { expected: "rmsprop", .. }));
    let no_kind = rewrite(&bytes, |_, m| m.retain(|(k, _)| k != "optimizer"));
    refused(
        adam.as_mut(),
        &info,
        &no_kind,
        |e| matches!(e, Error::MissingMetadata { key } if key.as_str() == "optimizer"),
    );
    let network_only = <DynMlp<f64> as Net<f64>>::fresh(0).to_safetensors();
    refused(adam.as_mut(), &info, &network_only, |e| matches!(e, Error::MissingMetadata { .. }));
}

#[test]
fn missing_extra_misshapen_and_non_finite_tensors_are_refused() {
    let (bytes, info, mut adam) = adam_setup();
    let name = "adam.exp_avg_sq.layers.1.bias";
    let missing = rewrite(&bytes, |t, _| t.retain(|t| t.name != name));
    refused(adam.as_mut(), &info, &missing, |e| matches!(e, Error::MissingStateTensor { name: n } if n == name));

    let extra = rewrite(&bytes, |t, _| {
        t.push(Tensor {
            name: "adam.exp_avg.layers.9.weight".into(),
            dtype: Dtype::F64,
            shape: vec![1],
            values: vec![0.0],
        })
    });
    refused(
        adam.as_mut(),
        &info,
        &extra,
        |e| matches!(e, Error::UnexpectedStateTensor { name } if name == "adam.exp_avg.layers.9.weight"),
    );
    // amsgrad's buffer is not one this Adam keeps.
    let amsgrad = rewrite(&bytes, |t, _| {
        t.push(Tensor {
            name: "adam.max_exp_avg_sq.layers.0.bias".into(),
            dtype: Dtype::F64,
            shape: vec![5],
            values: vec![0.0; 5],
        })
    });
    refused(adam.as_mut(), &info, &amsgrad, |e| matches!(e, Error::UnexpectedStateTensor { .. }));

    let transposed = rewrite(&bytes, |t, _| t[0].shape = vec![2, 5]);
    let error = refused(
        adam.as_mut(),
        &info,
        &transposed,
        |e| matches!(e, Error::StateShape { name, .. } if name == "adam.exp_avg.layers.0.weight"),
    );
    assert_eq!(
        error.to_string(),
        "optimizer state tensor \"adam.exp_avg.layers.0.weight\" has shape [2, 5], its parameter [5, 2]"
    );

    let nan = rewrite(&bytes, |t, _| t[3].values[1] = f64::NAN);
    refused(adam.as_mut(), &info, &nan, |e| matches!(e, Error::NonFinite { index: 1, .. }));

    // Tensors while the step count says no step was taken, and the reverse.
    let step_zero = rewrite(&bytes, |_, m| set_metadata(m, "adam.step", "0"));
    refused(adam.as_mut(), &info, &step_zero, |e| matches!(e, Error::UnexpectedStateTensor { .. }));
    let no_tensors = rewrite(&bytes, |t, _| t.clear());
    refused(
        adam.as_mut(),
        &info,
        &no_tensors,
        |e| matches!(e, Error::MissingStateTensor { name } if name == "adam.exp_avg.layers.0.weight"),
    );
}

/// A running average of squares (`exp_avg_sq`, `square_avg`) is never
/// negative: a file saying otherwise is refused, naming the tensor and index,
/// before the optimizer changes; the buffers that may be negative (first
/// moments, momentum) load with negative values.
#[test]
fn negative_second_moments_are_refused() {
    for (kind, second, signed) in [
        ("adam", "adam.exp_avg_sq.layers.1.bias", "adam.exp_avg.layers.1.bias"),
        ("static adam", "adam.exp_avg_sq.layers.0.weight", "adam.exp_avg.layers.0.weight"),
        ("rmsprop", "rmsprop.square_avg.layers.2.weight", "rmsprop.square_avg.layers.2.weight"),
        ("rmsprop centered+momentum+decay", "rmsprop.square_avg.layers.1.weight", "rmsprop.grad_avg.layers.1.weight"),
    ] {
        let mut net = <DynMlp<f64> as Net<f64>>::fresh(0);
        let info = Net::<f64>::parameter_info(&net);
        let mut saved = optimizer::<f64>(kind);
        train(&mut net, saved.as_mut(), 0..2);
        let bytes = state_bytes(saved.as_ref(), &info);
        let mut reader = optimizer::<f64>(kind);
        train(&mut <DynMlp<f64> as Net<f64>>::fresh(1), reader.as_mut(), 5..6);

        let negative = rewrite(&bytes, |t, _| t.iter_mut().find(|t| t.name == second).unwrap().values[1] = -1e-3);
        let error = refused(
            reader.as_mut(),
            &info,
            &negative,
            |e| matches!(e, Error::NegativeState { name, index: 1, value } if name == second && *value == -1e-3),
        );
        assert!(error.to_string().contains(&format!("{second:?} holds -0.001 at index 1")), "{error}");

        // -0.0 is not below zero (its square root is -0.0, harmless).
        let minus_zero = rewrite(&bytes, |t, _| t.iter_mut().find(|t| t.name == second).unwrap().values[0] = -0.0);
        reader.read_state(&info, &SafeTensors::parse(&minus_zero).unwrap()).unwrap();
        if signed != second {
            let negative_mean =
                rewrite(&bytes, |t, _| t.iter_mut().find(|t| t.name == signed).unwrap().values[0] = -5.0);
            reader.read_state(&info, &SafeTensors::parse(&negative_mean).unwrap()).unwrap();
        }
    }
}

#[test]
fn state_of_another_dtype_is_refused() {
    let (bytes, info, _) = adam_setup();
    let mut adam32 = optimizer::<f32>("adam");
    train(&mut <DynMlp<f32> as Net<f32>>::fresh(1), adam32.as_mut(), 0..1);
    let error = refused(
        adam32.as_mut(),
        &info,
        &bytes,
        |e| matches!(e, Error::StateDtype { name, expected: "F32", found: "F64" } if name == "adam.exp_avg.layers.0.weight"),
    );
    assert!(error.to_string().contains("is F64, the optimizer computes in F32"), "{error}");
    // One f32 tensor in an f64 file.
    let (_, _, mut adam) = adam_setup();
    let mixed = rewrite(&bytes, |t, _| t[5].dtype = Dtype::F32);
    refused(
        adam.as_mut(),
        &info,
        &mixed,
        |e| matches!(e, Error::StateDtype { name, expected: "F64", found: "F32" } if name == "adam.exp_avg.layers.2.bias"),
    );
}

#[test]
fn bad_metadata_is_refused_naming_the_key() {
    let (bytes, info, mut adam) = adam_setup();
    for (key, value) in [
        ("adam.step", "abc"),
        ("adam.step", "-1"),
        ("adam.step", "+2"),
        ("adam.step", "2.0"),
        ("adam.step", ""),
        ("adam.step", "99999999999999999999999"),
        ("adam.step", "18446744073709551615"),
        ("adam.step", "9007199254740993"),
        ("adam.beta1", "x"),
        ("adam.beta1", "NaN"),
        ("adam.eps", "inf"),
        ("adam.decoupled_weight_decay", "yes"),
        ("adam.lr", "-0.5"),
        ("adam.lr", "0.01.1"),
    ] {
        let spoiled = rewrite(&bytes, |_, m| set_metadata(m, key, value));
        let error = refused(
            adam.as_mut(),
            &info,
            &spoiled,
            |e| matches!(e, Error::InvalidMetadata { key: k, value: v, .. } if k.as_str() == key && v.as_str() == value),
        );
        assert!(error.to_string().contains(key), "{error}");
    }
    let no_step = rewrite(&bytes, |_, m| m.retain(|(k, _)| k != "adam.step"));
    refused(
        adam.as_mut(),
        &info,
        &no_step,
        |e| matches!(e, Error::MissingMetadata { key } if key.as_str() == "adam.step"),
    );
    let amsgrad = rewrite(&bytes, |_, m| set_metadata(m, "adam.amsgrad", "true"));
    refused(
        adam.as_mut(),
        &info,
        &amsgrad,
        |e| matches!(e, Error::UnexpectedStateMetadata { key } if key == "adam.amsgrad"),
    );
    // The largest step count accepted.
    let most = rewrite(&bytes, |_, m| set_metadata(m, "adam.step", "9007199254740992"));
    let mut reader = Adam::<f64>::with_lr(0.01).unwrap();
    reader.read_state(&info, &SafeTensors::parse(&most).unwrap()).unwrap();
    assert_eq!(reader.steps(), 1 << 53);
    // Metadata outside the prefix belongs to someone else: accepted.
    let other = rewrite(&bytes, |_, m| set_metadata(m, "epoch", "12"));
    adam.read_state(&info, &SafeTensors::parse(&other).unwrap()).unwrap();
}

#[test]
fn other_hyper_parameters_are_refused_but_the_learning_rate_is_restored() {
    let (bytes, info, _) = adam_setup();
    let mut other_beta = Adam::<f64>::new(AdamConfig { lr: 0.01, beta2: 0.99, ..AdamConfig::default() }).unwrap();
    let error = refused(
        &mut other_beta,
        &info,
        &bytes,
        |e| matches!(e, Error::StateConfig { key, expected, found } if key == "adam.beta2" && expected == "0.99" && found == "0.999"),
    );
    assert!(error.to_string().contains("adam.beta2 = 0.999"), "{error}");
    let mut adamw = optimizer::<f64>("adamw");
    refused(
        adamw.as_mut(),
        &info,
        &bytes,
        |e| matches!(e, Error::StateConfig { key, .. } if key == "adam.weight_decay"),
    );
    let negative_zero = rewrite(&bytes, |_, m| set_metadata(m, "adam.weight_decay", "-0.0"));
    let mut adam = Adam::<f64>::with_lr(0.5).unwrap();
    refused(&mut adam, &info, &negative_zero, |e| matches!(e, Error::StateConfig { .. }));
    let mut nesterov = Sgd::<f64>::new(SgdConfig { momentum: 0.9, nesterov: true, ..SgdConfig::default() }).unwrap();
    let plain = state_bytes(&Sgd::<f64>::new(SgdConfig { momentum: 0.9, ..SgdConfig::default() }).unwrap(), &info);
    refused(&mut nesterov, &info, &plain, |e| matches!(e, Error::StateConfig { key, .. } if key == "sgd.nesterov"));
    // The learning rate is the file's.
    let mut adam = Adam::<f64>::with_lr(0.5).unwrap();
    adam.read_state(&info, &SafeTensors::parse(&bytes).unwrap()).unwrap();
    assert_eq!((adam.lr(), adam.steps()), (0.01, 2));
}

#[test]
fn state_for_another_network_is_refused() {
    let (bytes, _, mut adam) = adam_setup();
    for (widths, check) in [
        // A narrower hidden layer: shapes differ.
        (
            &[2, 4, 3, 1][..],
            (|e: &Error| matches!(e, Error::StateShape { name, .. } if name == "adam.exp_avg.layers.0.weight"))
                as fn(&Error) -> bool,
        ),
        // One layer fewer: the file's last layer is left over.
        (
            &[2, 5, 3][..],
            |e: &Error| matches!(e, Error::UnexpectedStateTensor { name } if name == "adam.exp_avg.layers.2.weight"),
        ),
        // One layer more: the state lacks it.
        (
            &[2, 5, 3, 1, 1][..],
            |e: &Error| matches!(e, Error::MissingStateTensor { name } if name == "adam.exp_avg.layers.3.weight"),
        ),
    ] {
        let other =
            DynMlp::<f64>::from_widths(widths, Act::Tanh, Act::Identity, Init::Zeros, &mut Rng::new(0)).unwrap();
        refused(adam.as_mut(), &other.parameter_info(), &bytes, check);
    }
    // An array optimizer of another size than the network.
    let mut small = StaticAdam::<f64, 3>::with_lr(0.01).unwrap();
    let error = small.read_state(&ParameterInfo::dense([(2, 5), (5, 3), (3, 1)]), &SafeTensors::parse(&bytes).unwrap());
    assert_eq!(error, Err(Error::StateSize { expected: 3, found: P }));
    assert_eq!(small, StaticAdam::<f64, 3>::with_lr(0.01).unwrap());
}

#[test]
fn refused_writes_leave_the_writer_unchanged() {
    let mut net = <DynMlp<f64> as Net<f64>>::fresh(0);
    let info = Net::<f64>::parameter_info(&net);
    let mut adam = optimizer::<f64>("adam");
    train(&mut net, adam.as_mut(), 0..1);
    let mut writer = Writer::new();
    writer.add("adam.exp_avg_sq.layers.2.bias", &[1], &[0.0f64]).unwrap();
    writer.metadata("optimizer", "mine");
    let before = writer.clone();
    let error = adam.write_state(&info, &mut writer).unwrap_err();
    assert!(matches!(error, Error::Safetensors(FormatError::DuplicateTensor { .. })), "{error:?}");
    assert_eq!(writer, before);
    // State made for another network.
    let other = ParameterInfo::dense([(2, 5), (5, 3)]);
    assert_eq!(
        adam.write_state(&other, &mut writer),
        Err(Error::OptimizerState { tensor: None, expected: 6, found: 4 })
    );
    let mut wider = ParameterInfo::dense([(2, 6), (6, 3), (3, 1)]);
    assert_eq!(
        adam.write_state(&wider, &mut writer),
        Err(Error::OptimizerState { tensor: Some(0), expected: 10, found: 12 })
    );
    assert_eq!(writer, before);
    let static_adam = StaticAdam::<f64, P>::with_lr(0.01).unwrap();
    assert_eq!(
        static_adam.write_state(wider.push("extra", &[2]), &mut writer),
        Err(Error::StateSize { expected: P, found: 2 * 6 + 6 + 6 * 3 + 3 + 3 + 1 + 2 })
    );
    assert_eq!(writer, before);
}
