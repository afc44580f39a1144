//! The four workloads, as `benches/train_step.rs` and
//! `scripts/bench_vs_pytorch.py` define them, and the one set of data and
//! initial weights every crate starts from.
//!
//! tinymlp builds each network exactly as `benches/train_step.rs` does (same
//! seeds, same PyTorch-default initialisation); its weights and the data are
//! then copied into every peer, so all crates run the same numbers and the
//! sanity phase can compare their losses.

use tinymlp::{Identity, Linear, Matrix, Mlp, Relu, Rng, Scalar, Sigmoid, Tanh};

/// Activation after a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Sigmoid,
    Tanh,
    Relu,
    Identity,
}

/// Element type of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
}

/// What one timed call does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// zero_grad, forward, 0.5·mean((ŷ - y)²), backward, optimizer update.
    Train(Opt),
    /// A forward pass of one sample, no gradients.
    Infer,
}

/// Optimizer of a training workload, with PyTorch's defaults apart from the
/// learning rate (Adam: β = (0.9, 0.999), ε = 1e-8, no weight decay; SGD: no
/// momentum, no weight decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Opt {
    Adam { lr: f64 },
    Sgd { lr: f64 },
}

/// Which workload (the peers with compile-time shapes, dfdx, match on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Id {
    Sigmoid441,
    Sine,
    Mnist,
    Infer,
}

/// One workload.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub id: Id,
    /// The id `benches/train_step.rs` prints for it.
    pub name: &'static str,
    /// The row label of the table.
    pub label: &'static str,
    pub widths: &'static [usize],
    pub hidden: Act,
    pub output: Act,
    pub dtype: Dtype,
    pub batch: usize,
    pub kind: Kind,
}

impl Spec {
    /// The activation after layer `index`.
    pub fn act(&self, index: usize) -> Act {
        if index + 2 == self.widths.len() { self.output } else { self.hidden }
    }

    pub fn inputs(&self) -> usize {
        self.widths[0]
    }

    pub fn outputs(&self) -> usize {
        self.widths[self.widths.len() - 1]
    }
}

pub const SPECS: [Spec; 4] = [
    Spec {
        id: Id::Sigmoid441,
        name: "sigmoid_1_4_4_1_f64_b2_adam",
        label: "[1,4,4,1] sigmoid, f64, batch 2, Adam",
        widths: &[1, 4, 4, 1],
        hidden: Act::Sigmoid,
        output: Act::Sigmoid,
        dtype: Dtype::F64,
        batch: 2,
        kind: Kind::Train(Opt::Adam { lr: 0.01 }),
    },
    Spec {
        id: Id::Sine,
        name: "sine_1_32_32_1_f64_b200_adam",
        label: "sine [1,32,32,1] tanh/identity, f64, batch 200, Adam",
        widths: &[1, 32, 32, 1],
        hidden: Act::Tanh,
        output: Act::Identity,
        dtype: Dtype::F64,
        batch: 200,
        kind: Kind::Train(Opt::Adam { lr: 0.01 }),
    },
    Spec {
        id: Id::Mnist,
        name: "relu_784_256_128_10_f32_b128_sgd",
        label: "[784,256,128,10] relu/identity, f32, batch 128, SGD",
        widths: &[784, 256, 128, 10],
        hidden: Act::Relu,
        output: Act::Identity,
        dtype: Dtype::F32,
        batch: 128,
        kind: Kind::Train(Opt::Sgd { lr: 0.01 }),
    },
    Spec {
        id: Id::Infer,
        name: "infer_16_32_32_4",
        label: "inference [16,32,32,4] tanh, f32, 1 sample",
        widths: &[16, 32, 32, 4],
        hidden: Act::Tanh,
        output: Act::Tanh,
        dtype: Dtype::F32,
        batch: 1,
        kind: Kind::Infer,
    },
];

/// One layer's starting parameters: `weight` is `outputs x inputs`, row-major
/// (PyTorch's layout), stored as f64 (exact for f32 workloads).
#[derive(Clone, Debug)]
pub struct Layer {
    pub inputs: usize,
    pub outputs: usize,
    pub weight: Vec<f64>,
    pub bias: Vec<f64>,
}

impl Layer {
    /// The weight transposed: `inputs x outputs`, row-major (burn's layout).
    pub fn weight_t(&self) -> Vec<f64> {
        let mut t = vec![0.0; self.weight.len()];
        for o in 0..self.outputs {
            for i in 0..self.inputs {
                t[i * self.outputs + o] = self.weight[o * self.inputs + i];
            }
        }
        t
    }
}

/// A workload with its data and starting weights.
#[derive(Clone, Debug)]
pub struct Problem {
    pub spec: Spec,
    /// `batch x inputs`, row-major.
    pub x: Vec<f64>,
    /// `batch x outputs`, row-major (empty for inference).
    pub y: Vec<f64>,
    pub layers: Vec<Layer>,
}

/// `batch` points evenly spaced on [0, 1] and y = sin²(4πx) (as train_step.rs).
fn sine_data(batch: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..batch).map(|i| i as f64 / (batch.max(2) - 1) as f64).collect();
    let y = x.iter().map(|&x| (4.0 * std::f64::consts::PI * x).sin().powi(2)).collect();
    (x, y)
}

/// Copies the layers of a tinymlp network.
fn layers_of<T: Scalar, L: tinymlp::Layers<T>>(net: &Mlp<T, L>) -> Vec<Layer> {
    net.iter_layers()
        .map(|layer| Layer {
            inputs: layer.inputs(),
            outputs: layer.outputs(),
            weight: layer.weight().iter().map(|w| w.as_f64()).collect(),
            bias: layer.bias().iter().map(|b| b.as_f64()).collect(),
        })
        .collect()
}

/// The networks of `benches/train_step.rs`, built with its seeds.
pub mod nets {
    use super::*;

    pub type Sigmoid441 = (Linear<f64, 1, 4, Sigmoid>, Linear<f64, 4, 4, Sigmoid>, Linear<f64, 4, 1, Sigmoid>);
    pub type Sine = (Linear<f64, 1, 32, Tanh>, Linear<f64, 32, 32, Tanh>, Linear<f64, 32, 1, Identity>);
    pub type Mnist = (Linear<f32, 784, 256, Relu>, Linear<f32, 256, 128, Relu>, Linear<f32, 128, 10, Identity>);
    pub type Infer = (Linear<f32, 16, 32, Tanh>, Linear<f32, 32, 32, Tanh>, Linear<f32, 32, 4, Tanh>);

    pub fn sigmoid441() -> Mlp<f64, Sigmoid441> {
        let mut rng = Rng::new(1);
        Mlp::new((Linear::new(&mut rng), Linear::new(&mut rng), Linear::new(&mut rng)))
    }

    pub fn sine() -> Mlp<f64, Sine> {
        let mut rng = Rng::new(2);
        Mlp::new((Linear::new(&mut rng), Linear::new(&mut rng), Linear::new(&mut rng)))
    }

    /// The MNIST-shaped network and its data: train_step.rs draws the data
    /// first, then the weights, from one generator.
    pub fn mnist() -> (Mlp<f32, Mnist>, Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(4);
        let (batch, inputs, classes) = (128, 784, 10);
        let x: Vec<f64> = (0..batch * inputs).map(|_| f64::from(rng.next_f64() as f32)).collect();
        let labels: Vec<usize> = (0..batch).map(|_| rng.below(classes as u64) as usize).collect();
        let y = (0..batch * classes).map(|k| if labels[k / classes] == k % classes { 1.0 } else { 0.0 }).collect();
        let net = Mlp::new((Linear::new(&mut rng), Linear::new(&mut rng), Linear::new(&mut rng)));
        (net, x, y)
    }

    pub fn infer() -> (Mlp<f32, Infer>, Vec<f64>) {
        let mut rng = Rng::new(5);
        let x = (0..16).map(|j| f64::from((j as f32 * 0.37).sin())).collect();
        (Mlp::new((Linear::new(&mut rng), Linear::new(&mut rng), Linear::new(&mut rng))), x)
    }
}

impl Problem {
    pub fn new(spec: Spec) -> Self {
        let (x, y, layers) = match spec.id {
            Id::Sigmoid441 => {
                let (x, y) = sine_data(spec.batch);
                (x, y, layers_of(&nets::sigmoid441()))
            }
            Id::Sine => {
                let (x, y) = sine_data(spec.batch);
                (x, y, layers_of(&nets::sine()))
            }
            Id::Mnist => {
                let (net, x, y) = nets::mnist();
                (x, y, layers_of(&net))
            }
            Id::Infer => {
                let (net, x) = nets::infer();
                (x, Vec::new(), layers_of(&net))
            }
        };
        Self { spec, x, y, layers }
    }

    /// The data as tinymlp matrices of `T`.
    pub fn matrices<T: Scalar>(&self) -> (Matrix<T>, Matrix<T>) {
        let (b, i, o) = (self.spec.batch, self.spec.inputs(), self.spec.outputs());
        let x = Matrix::from_fn(b, i, |r, c| T::from_f64(self.x[r * i + c]));
        let y = if self.y.is_empty() {
            Matrix::zeros(0, 0)
        } else {
            Matrix::from_fn(b, o, |r, c| T::from_f64(self.y[r * o + c]))
        };
        (x, y)
    }
}

/// What a crate does with one workload.
pub trait Runner {
    /// One timed call: a training step, or one inference. The result stays
    /// in the crate's own type (no read-back), as a user's loop would have it.
    fn step(&mut self);

    /// One training step, returning the loss it computed (before the update);
    /// for inference, the sum of the outputs.
    fn step_value(&mut self) -> f64;
}
