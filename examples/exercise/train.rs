//! The exercise's networks, data and training runs, without any printing:
//! shared by the example and by `tests/exercise.rs`, so that the test checks
//! what the example runs.

use std::f64::consts::PI;
use std::time::{Duration, Instant};

use tinymlp::{Act, Adam, BiasInit, DynMlp, Error, HalfMse, Init, LayerInit, Loss, Matrix, Optimizer, Rng};

/// Number of training points, evenly spaced on [0, 1].
pub const TRAIN_POINTS: usize = 200;
/// The two points of the gradient check, as in the exercise.
pub const EXERCISE_X: [f64; 2] = [0.2, 1.2];
/// Default number of training steps for each optimizer.
pub const DEFAULT_STEPS: usize = 10_000;
/// Default learning rate(s) of plain gradient descent.
pub const DEFAULT_GD_LRS: [f64; 2] = [0.1, 1.0];
/// Default learning rate of Adam (PyTorch's usual 1e-3 is slower here).
pub const DEFAULT_ADAM_LR: f64 = 0.01;

/// The target, y = sin²(4πx).
#[must_use]
pub fn target_fn(x: f64) -> f64 {
    (4.0 * PI * x).sin().powi(2)
}

/// `n` evenly spaced points of [0, 1], both ends included, as an `n x 1` column.
#[must_use]
pub fn linspace(n: usize) -> Matrix<f64> {
    Matrix::from_fn(n, 1, |i, _| i as f64 / (n - 1) as f64)
}

/// The training set: [`TRAIN_POINTS`] points of [0, 1] and their targets.
#[must_use]
pub fn training_data() -> (Matrix<f64>, Matrix<f64>) {
    let x = linspace(TRAIN_POINTS);
    let y = Matrix::from_fn(TRAIN_POINTS, 1, |i, _| target_fn(x[(i, 0)]));
    (x, y)
}

/// How the networks' parameters are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitRule {
    /// The exercise's: Xavier-uniform weights with PyTorch's gain for the
    /// hidden activation (1 for sigmoid, 5/3 for tanh), biases uniform in [0, 1).
    Exercise,
    /// `torch.nn.Linear`'s default (weights and biases uniform in ±1/√fan_in).
    Torch,
}

impl InitRule {
    /// The rule for a network whose hidden layers use `hidden`.
    #[must_use]
    pub fn layer_init(self, hidden: Act) -> LayerInit {
        match self {
            InitRule::Exercise => Init::XavierUniform { gain: hidden.torch_gain().unwrap_or(1.0) }
                .with_bias(BiasInit::Uniform { low: 0.0, high: 1.0 }),
            InitRule::Torch => Init::TorchDefault.into(),
        }
    }

    /// The name `--init` takes.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            InitRule::Exercise => "exercise",
            InitRule::Torch => "torch",
        }
    }
}

/// A network shape: one input, the hidden widths, one output.
#[derive(Debug, Clone, PartialEq)]
pub struct NetSpec {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Activation after every hidden layer.
    pub activation: Act,
    /// Activation after the output layer.
    pub output: Act,
}

impl NetSpec {
    /// The exercise's network: [1, 4, 4, 1], sigmoid after every layer.
    #[must_use]
    pub fn exercise() -> Self {
        Self { hidden: vec![4, 4], activation: Act::Sigmoid, output: Act::Sigmoid }
    }

    /// The sine example's network: [1, 32, 32, 1], tanh hidden, identity output.
    #[must_use]
    pub fn wide() -> Self {
        Self { hidden: vec![32, 32], activation: Act::Tanh, output: Act::Identity }
    }

    /// All widths, input first.
    #[must_use]
    pub fn widths(&self) -> Vec<usize> {
        [&[1], self.hidden.as_slice(), &[1]].concat()
    }

    /// A label such as `1-4-4-1 sigmoid/sigmoid`.
    #[must_use]
    pub fn label(&self) -> String {
        let shape = self.widths().iter().map(ToString::to_string).collect::<Vec<_>>().join("-");
        format!("{shape} {}/{}", self.activation, self.output)
    }

    /// The network, f64, drawn by `init` from `Rng::new(seed)`.
    ///
    /// # Errors
    /// As [`DynMlp::from_widths`].
    pub fn build(&self, init: InitRule, seed: u64) -> tinymlp::Result<DynMlp<f64>> {
        let layer_init = init.layer_init(self.activation);
        DynMlp::from_widths(&self.widths(), self.activation, self.output, layer_init, &mut Rng::new(seed))
    }
}

/// An optimizer and its learning rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Plain gradient descent, `Mlp::try_step(lr)`.
    Gd(f64),
    /// `torch.optim.Adam` with PyTorch's defaults and this learning rate.
    Adam(f64),
}

impl Method {
    /// A label such as `GD lr 0.5`.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Method::Gd(lr) => format!("GD lr {lr}"),
            Method::Adam(lr) => format!("Adam lr {lr}"),
        }
    }
}

/// What one training run produced.
#[derive(Debug, Clone)]
pub struct Run {
    /// The optimizer.
    pub method: Method,
    /// `losses[k]`: 0.5·MSE on the training set after `k` steps (the last
    /// entry is the final network's, or the first non-finite one).
    pub losses: Vec<f64>,
    /// Optimizer steps taken.
    pub steps: usize,
    /// The step count at which the loss or a gradient stopped being finite.
    pub diverged_at: Option<usize>,
    /// Wall time of the training loop.
    pub elapsed: Duration,
    /// The trained network.
    pub net: DynMlp<f64>,
}

impl Run {
    /// The loss of the trained network; infinite if training diverged.
    #[must_use]
    pub fn final_loss(&self) -> f64 {
        if self.diverged_at.is_some() { f64::INFINITY } else { self.losses.last().copied().unwrap_or(f64::NAN) }
    }

    /// Microseconds per step (each step: zero_grad, forward, 0.5·MSE, backward, update).
    #[must_use]
    pub fn micros_per_step(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e6 / self.steps.max(1) as f64
    }
}

/// Full-batch training of a copy of `initial` for `steps` steps of `method`
/// on `(x, y)`, with 0.5·MSE. Stops early, recording where, if the loss or a
/// gradient stops being finite.
///
/// # Errors
/// An invalid learning rate, or data that does not fit the network.
pub fn train(
    initial: &DynMlp<f64>,
    method: Method,
    steps: usize,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> tinymlp::Result<Run> {
    let mut net = initial.clone();
    let mut adam = match method {
        Method::Adam(lr) => Some(Adam::with_lr(lr)?),
        Method::Gd(lr) => {
            // Refuse a bad rate before training rather than call it divergence.
            tinymlp::Sgd::<f64>::with_lr(lr)?;
            None
        }
    };
    let mut losses = Vec::with_capacity(steps + 1);
    let mut diverged_at = None;
    let start = Instant::now();
    let mut step = 0;
    loop {
        net.zero_grad();
        net.try_forward(x)?;
        let loss = match net.try_backward_loss(&HalfMse, y) {
            Ok(loss) => loss,
            // The weights overflowed the output, which backward refuses; its loss is not finite either.
            Err(Error::NonFinite { .. }) => {
                net.output().map_or(f64::NAN, |out| HalfMse.value(out.as_slice(), y.as_slice(), out.cols()))
            }
            Err(err) => return Err(err),
        };
        losses.push(loss);
        if !loss.is_finite() {
            diverged_at = Some(step);
            break;
        }
        if step == steps {
            break;
        }
        let stepped = match (&mut adam, method) {
            (Some(adam), _) => adam.step(&mut net),
            (None, Method::Gd(lr)) => net.try_step(lr),
            (None, Method::Adam(_)) => unreachable!("Adam is built above"),
        };
        match stepped {
            Ok(()) => step += 1,
            Err(Error::NonFinite { .. }) => {
                // Overflowing gradients (nothing was updated): the loss is about to blow up too.
                diverged_at = Some(step);
                break;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(Run { method, losses, steps: step, diverged_at, elapsed: start.elapsed(), net })
}
