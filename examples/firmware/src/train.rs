//! Training on the device, shared by the firmware and the host build: a
//! `[1, 8, 8, 1]` tanh f32 network learns y = sin²(4πx) on 32 fixed points
//! of [0, 1] with Adam, full batch, in a `StaticMlp` and a `StaticAdam`: no
//! allocator, the whole training state in one value whose size is known at
//! compile time. The same code on the host prints the host's bits for the
//! comparison (`measure.sh` fails if the firmware's differ).

use tinymlp::{
    AdamConfig, Error, Float, HalfMse, Identity, Init, Loss, Optimizer, Parameters, Rng, StaticAdam, StaticLayers,
    StaticMlp, Tanh, TrainLinear,
};

/// Width of the two hidden layers.
pub const HIDDEN: usize = 8;
/// Samples per batch: every step trains on all of them.
pub const BATCH: usize = 32;
/// The layers: `1 -> 8 -> 8 -> 1`, tanh, tanh, identity.
pub type Layers =
    (TrainLinear<f32, 1, HIDDEN, Tanh>, TrainLinear<f32, HIDDEN, HIDDEN, Tanh>, TrainLinear<f32, HIDDEN, 1>);
/// The trainable network with its tape for batches of [`BATCH`].
pub type Net = StaticMlp<f32, Layers, 1, 1, BATCH>;
/// Weights plus biases (97).
pub const PARAMETERS: usize = <Layers as StaticLayers<f32, 1, 1>>::PARAMETERS;
/// Adam with its two moments in arrays of [`PARAMETERS`].
pub type Adam = StaticAdam<f32, PARAMETERS>;

/// Bytes of the network, its gradients, input copy and tape.
pub const TRAIN_BYTES: usize = Net::TRAIN_BYTES;
/// Bytes of the optimizer (its two moments and its configuration).
pub const ADAM_BYTES: usize = core::mem::size_of::<Adam>();
/// Bytes of the training data (inputs and targets).
pub const DATA_BYTES: usize = 2 * BATCH * core::mem::size_of::<f32>();

// The RAM budget, checked by the compiler: network, tape, optimizer and data
// in 10 KiB (the stack of a step comes on top; `measure.sh` measures it).
const _: () = assert!(TRAIN_BYTES + ADAM_BYTES + DATA_BYTES <= 10 * 1024);

/// Seed of the initial parameters (PyTorch's default initialisation).
pub const SEED: u64 = 1;
/// Adam's learning rate (PyTorch's other defaults).
pub const LEARNING_RATE: f64 = 0.02;
/// Training steps.
pub const STEPS: usize = 2000;
/// A `train loss` line every this many steps.
pub const REPORT_EVERY: usize = 250;
/// The stated target: 0.5·MSE on the 32 points after [`STEPS`] steps.
pub const TARGET_LOSS: f32 = 1e-3;

/// Everything training needs: network, optimizer and data, no heap.
pub struct Training {
    net: Net,
    adam: Adam,
    x: [[f32; 1]; BATCH],
    y: [[f32; 1]; BATCH],
}

/// The `i`-th training input: [`BATCH`] evenly spaced points of [0, 1].
fn input(i: usize) -> f32 {
    i as f32 / (BATCH - 1) as f32
}

/// A layer with PyTorch's default initialisation drawn from `rng`.
fn layer<const IN: usize, const OUT: usize, A: tinymlp::Activation<f32>>(
    activation: A,
    rng: &mut Rng,
) -> TrainLinear<f32, IN, OUT, A> {
    let (mut weight, mut bias) = ([[0.0; IN]; OUT], [0.0; OUT]);
    Init::TorchDefault.fill(IN, OUT, weight.as_flattened_mut(), &mut bias, rng);
    TrainLinear::new(weight, bias, activation)
}

/// Adam with [`LEARNING_RATE`] and PyTorch's other defaults, at step 0.
///
/// # Errors
/// If Adam refuses [`LEARNING_RATE`].
pub fn adam() -> Result<Adam, Error> {
    Adam::new(AdamConfig { lr: LEARNING_RATE, ..AdamConfig::default() })
}

impl Training {
    /// The initial state: parameters from [`SEED`], `adam`, the data.
    ///
    /// Infallible, so that the ~9 KB state is returned straight into the
    /// caller's variable: a `Result<Self, _>` is built aside and copied out
    /// of (measured on the device: 26.8 KB of peak stack instead of 18.6).
    pub fn new(adam: Adam) -> Self {
        Self::with_seed(SEED, adam)
    }

    /// As [`Training::new`], with the initial parameters drawn from `seed`.
    pub fn with_seed(seed: u64, adam: Adam) -> Self {
        let mut rng = Rng::new(seed);
        let layers = (layer(Tanh, &mut rng), layer(Tanh, &mut rng), layer(Identity, &mut rng));
        let x = core::array::from_fn(|i| [input(i)]);
        let y = core::array::from_fn(|i| {
            // `Float::sin`, not the inherent `f32::sin` the host build has:
            // the libm crate's sine on both sides, so the targets' bits agree.
            let s = Float::sin(4.0 * core::f32::consts::PI * input(i));
            [s * s]
        });
        Self { net: Net::new(layers), adam, x, y }
    }

    /// The parameters, every layer's weights then its bias (the order
    /// `Mlp::set_parameters` takes).
    pub fn parameters(&mut self, mut f: impl FnMut(&[f32])) {
        self.net.visit_parameters(&mut |values, _| f(values));
    }

    /// The inputs and targets.
    #[cfg(not(target_os = "none"))]
    pub fn data(&self) -> (&[[f32; 1]; BATCH], &[[f32; 1]; BATCH]) {
        (&self.x, &self.y)
    }

    /// 0.5·MSE of the current parameters on the data (a forward pass only).
    pub fn loss(&mut self) -> f32 {
        let output = self.net.forward(&self.x);
        HalfMse.value(output.as_flattened(), self.y.as_flattened(), 1)
    }

    /// FNV-1a (32 bits) of every parameter's bits, in [`Training::parameters`]' order.
    pub fn parameter_hash(&mut self) -> u32 {
        let mut hash = 0x811c_9dc5u32;
        self.parameters(|values| {
            for value in values {
                for byte in value.to_bits().to_le_bytes() {
                    hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
                }
            }
        });
        hash
    }
}

/// One training step: zero the gradients, forward the batch, back-propagate
/// 0.5·MSE, one Adam update. Returns the loss before the update.
///
/// # Errors
/// As `try_backward_loss` and Adam's `step` (a non-finite gradient, for
/// instance); nothing is updated then.
#[inline(never)]
pub fn train_step(training: &mut Training) -> Result<f32, Error> {
    let Training { net, adam, x, y } = training;
    net.zero_grad();
    net.forward(x);
    let loss = net.try_backward_loss(&HalfMse, y)?;
    adam.step(net)?;
    Ok(loss)
}

/// What [`train`] reports, in order.
pub enum Report {
    /// The loss before step `step`'s update (every [`REPORT_EVERY`] steps).
    Loss {
        /// The step.
        step: usize,
        /// Its loss.
        loss: f32,
    },
    /// The loss after all [`STEPS`] steps, and whether it is below [`TARGET_LOSS`].
    Final {
        /// The loss after the last update.
        loss: f32,
        /// `loss < TARGET_LOSS`.
        met: bool,
    },
    /// [`Training::parameter_hash`] of the trained parameters.
    Parameters(u32),
}

/// Trains `training` (fresh from [`Training::new`]) for [`STEPS`] steps,
/// reporting as it goes. (It takes the state by reference: returning ~9 KB
/// by value would copy it on the stack.)
///
/// # Errors
/// As [`train_step`].
pub fn train(training: &mut Training, mut report: impl FnMut(Report)) -> Result<(), Error> {
    for step in 0..STEPS {
        let loss = train_step(training)?;
        if step % REPORT_EVERY == 0 {
            report(Report::Loss { step, loss });
        }
    }
    let loss = training.loss();
    report(Report::Final { loss, met: loss < TARGET_LOSS });
    report(Report::Parameters(training.parameter_hash()));
    Ok(())
}

/// The host's `train` lines, and a check that the heap network trains to the
/// same bits as the static one on this task.
#[cfg(not(target_os = "none"))]
pub mod host {
    use super::{HIDDEN, LEARNING_RATE, Report, STEPS, TARGET_LOSS, Training, adam, train, train_step};
    use tinymlp::{AdamConfig, HalfMse, Identity, Init, Linear, Matrix, Mlp, Optimizer, Rng, Tanh};

    /// Prints the `train` lines (as the training firmware's `train_to_the_end`
    /// does);
    /// fails if the target is missed or the heap network's bits differ.
    pub fn run() -> Result<(), String> {
        let mut met = false;
        let mut trained = Training::new(adam().map_err(|e| e.to_string())?);
        train(&mut trained, |report| match report {
            Report::Loss { step, loss } => println!("train loss {step:04} {:08x}", loss.to_bits()),
            Report::Final { loss, met: ok } => {
                met = ok;
                let verdict = if ok { "met" } else { "missed" };
                println!("train final {STEPS:04} {:08x} {verdict} {:08x}", loss.to_bits(), TARGET_LOSS.to_bits());
            }
            Report::Parameters(hash) => println!("train parameters {hash:08x}"),
        })
        .map_err(|error| format!("training failed: {error}"))?;
        if !met {
            return Err(format!("the final loss misses the target {TARGET_LOSS:e}"));
        }
        heap_equals_static(&mut trained)
    }

    /// The final loss after [`STEPS`] and after 1.5 × [`STEPS`] steps from
    /// the seeds 0-7 (`cargo run --release --target HOST -- seeds`): how
    /// typical the firmware's seed is.
    pub fn seeds() -> Result<(), String> {
        for seed in 0..8 {
            let mut training = Training::with_seed(seed, adam().map_err(|e| e.to_string())?);
            let mut losses = [0.0; 2];
            for (loss, steps) in losses.iter_mut().zip([STEPS, STEPS / 2]) {
                for _ in 0..steps {
                    train_step(&mut training).map_err(|e| e.to_string())?;
                }
                *loss = training.loss();
            }
            let [at_end, later] = losses;
            println!("seed {seed}: 0.5*MSE {at_end:.2e} after {STEPS} steps, {later:.2e} after {}", STEPS * 3 / 2);
        }
        Ok(())
    }

    /// Trains an `Mlp` of `Linear`s (heap) with `Adam` from the same initial
    /// parameters on the same batch and compares every step's loss and the
    /// final parameters, bit for bit, with the static training's.
    fn heap_equals_static(trained: &mut Training) -> Result<(), String> {
        let mut initial = Training::new(adam().map_err(|e| e.to_string())?);
        let mut start = Vec::new();
        initial.parameters(|values| start.extend_from_slice(values));
        // Any initial draw: `set_parameters` replaces it with the static network's.
        let mut rng = Rng::new(0);
        let mut net = Mlp::new((
            Linear::<f32, 1, HIDDEN, Tanh>::with(Tanh, Init::TorchDefault, &mut rng),
            Linear::<f32, HIDDEN, HIDDEN, Tanh>::with(Tanh, Init::TorchDefault, &mut rng),
            Linear::<f32, HIDDEN, 1, Identity>::with(Identity, Init::TorchDefault, &mut rng),
        ));
        net.set_parameters(&start).map_err(|e| e.to_string())?;
        let (x, y) = initial.data();
        let (x, y) =
            (Matrix::from_rows(x).map_err(|e| e.to_string())?, Matrix::from_rows(y).map_err(|e| e.to_string())?);
        let mut adam =
            tinymlp::Adam::new(AdamConfig { lr: LEARNING_RATE, ..AdamConfig::default() }).map_err(|e| e.to_string())?;
        for step in 0..STEPS {
            net.zero_grad();
            net.forward(&x);
            let heap_loss = net.backward_loss(&HalfMse, &y);
            adam.step(&mut net).map_err(|e| e.to_string())?;
            let static_loss = train_step(&mut initial).map_err(|e| e.to_string())?;
            if heap_loss.to_bits() != static_loss.to_bits() {
                return Err(format!("heap and static losses differ at step {step}: {heap_loss:e} vs {static_loss:e}"));
            }
        }
        let mut end = Vec::new();
        trained.parameters(|values| end.extend_from_slice(values));
        let heap: Vec<u32> = net.parameters_to_vec().iter().map(|v| v.to_bits()).collect();
        let static_bits: Vec<u32> = end.iter().map(|v| v.to_bits()).collect();
        if heap != static_bits {
            return Err("the heap network's trained parameters differ from the static one's".into());
        }
        eprintln!(
            "host: heap Mlp + Adam = StaticMlp + StaticAdam on this task, bit for bit: {STEPS} losses, {} parameters",
            heap.len()
        );
        Ok(())
    }
}
