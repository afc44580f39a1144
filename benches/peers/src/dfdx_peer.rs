//! dfdx 0.13 (CPU), with compile-time shapes: each workload is its own type.
//!
//! One thread: dfdx's only parallel code is its matrix product, which calls
//! `gemm` with `Parallelism::Rayon(rayon::current_num_threads())`; with
//! `RAYON_NUM_THREADS=1` (set by `main`) gemm runs on the calling thread.
//! `dfdx::flush_denormals_to_zero` (its MNIST example's speed tip) is not
//! called: it would change the floating-point mode for every crate.

use std::hint::black_box;

use dfdx::nn::{DeviceBuildExt, Module, ModuleMut, ZeroGrads};
use dfdx::optim::{Adam, Sgd};
use dfdx::prelude::*;

use crate::workload::{Id, Kind, Layer, Opt, Problem, Runner};

type Dev = Cpu;

/// Copies a layer's starting parameters (PyTorch's `outputs x inputs` layout, as dfdx's).
fn set_linear<const I: usize, const O: usize, E>(linear: &mut dfdx::nn::modules::Linear<I, O, E, Dev>, layer: &Layer)
where
    E: Dtype + num_traits::FromPrimitive,
{
    assert_eq!((layer.inputs, layer.outputs), (I, O), "layer shape");
    let cast = |v: &[f64]| v.iter().map(|&v| E::from_f64(v).expect("cast")).collect::<Vec<E>>();
    linear.weight.copy_from(&cast(&layer.weight));
    linear.bias.copy_from(&cast(&layer.bias));
}

fn rank2<const R: usize, const C: usize, E: Dtype + num_traits::FromPrimitive>(
    dev: &Dev,
    values: &[f64],
) -> Tensor<Rank2<R, C>, E, Dev> {
    let values: Vec<E> = values.iter().map(|&v| E::from_f64(v).expect("cast")).collect();
    dev.tensor_from_vec(values, (Const::<R>, Const::<C>))
}

struct Train<M, O, E: Dtype, const B: usize, const I: usize, const N: usize> {
    model: M,
    /// Taken by the forward pass and returned by backward.
    grads: Option<Gradients<E, Dev>>,
    opt: O,
    x: Tensor<Rank2<B, I>, E, Dev>,
    y: Tensor<Rank2<B, N>, E, Dev>,
}

impl<M, O, E, const B: usize, const I: usize, const N: usize> Train<M, O, E, B, I, N>
where
    E: Dtype + num_traits::FromPrimitive + Into<f64>,
    Dev: dfdx::tensor_ops::Device<E>,
    M: ModuleMut<
            Tensor<Rank2<B, I>, E, Dev, OwnedTape<E, Dev>>,
            Output = Tensor<Rank2<B, N>, E, Dev, OwnedTape<E, Dev>>,
        > + ZeroGrads<E, Dev>,
    O: dfdx::optim::Optimizer<M, Dev, E>,
{
    fn run(&mut self, read: bool) -> f64 {
        let grads = self.grads.take().expect("gradients");
        let out = self.model.forward_mut(self.x.trace(grads));
        // 0.5·mean((ŷ - y)²): dfdx's mse_loss is mean((ŷ - y)²).
        let loss = mse_loss(out, self.y.clone()) * E::from_f64(0.5).expect("cast");
        let value = if read { loss.array().into() } else { 0.0 };
        let mut grads = loss.backward();
        self.opt.update(&mut self.model, &grads).expect("dfdx update");
        self.model.zero_grads(&mut grads);
        self.grads = Some(grads);
        value
    }
}

impl<M, O, E, const B: usize, const I: usize, const N: usize> Runner for Train<M, O, E, B, I, N>
where
    E: Dtype + num_traits::FromPrimitive + Into<f64>,
    Dev: dfdx::tensor_ops::Device<E>,
    M: ModuleMut<
            Tensor<Rank2<B, I>, E, Dev, OwnedTape<E, Dev>>,
            Output = Tensor<Rank2<B, N>, E, Dev, OwnedTape<E, Dev>>,
        > + ZeroGrads<E, Dev>,
    O: dfdx::optim::Optimizer<M, Dev, E>,
{
    fn step(&mut self) {
        black_box(self.run(false));
    }

    fn step_value(&mut self) -> f64 {
        self.run(true)
    }
}

/// Builds the training runner for a model whose layers are already set.
fn train<M, E, const B: usize, const I: usize, const N: usize>(
    dev: &Dev,
    model: M,
    problem: &Problem,
) -> Box<dyn Runner>
where
    E: Dtype + num_traits::FromPrimitive + Into<f64>,
    Dev: dfdx::tensor_ops::Device<E>,
    M: ModuleMut<
            Tensor<Rank2<B, I>, E, Dev, OwnedTape<E, Dev>>,
            Output = Tensor<Rank2<B, N>, E, Dev, OwnedTape<E, Dev>>,
        > + ZeroGrads<E, Dev>
        + 'static,
{
    let x = rank2::<B, I, E>(dev, &problem.x);
    let y = rank2::<B, N, E>(dev, &problem.y);
    let grads = Some(model.alloc_grads());
    match problem.spec.kind {
        Kind::Train(Opt::Adam { lr }) => {
            let opt = Adam::new(&model, AdamConfig { lr, betas: [0.9, 0.999], eps: 1e-8, weight_decay: None });
            Box::new(Train { model, grads, opt, x, y })
        }
        Kind::Train(Opt::Sgd { lr }) => {
            let opt = Sgd::new(&model, SgdConfig { lr, momentum: None, weight_decay: None });
            Box::new(Train { model, grads, opt, x, y })
        }
        Kind::Infer => unreachable!("inference is built by `build`"),
    }
}

type Sigmoid441 = (Linear<1, 4>, Sigmoid, Linear<4, 4>, Sigmoid, Linear<4, 1>, Sigmoid);
type Sine = (Linear<1, 32>, Tanh, Linear<32, 32>, Tanh, Linear<32, 1>);
type Mnist = (Linear<784, 256>, ReLU, Linear<256, 128>, ReLU, Linear<128, 10>);
type Infer = (Linear<16, 32>, Tanh, Linear<32, 32>, Tanh, Linear<32, 4>, Tanh);

struct InferRunner<M> {
    model: M,
    x: Tensor<Rank2<1, 16>, f32, Dev>,
}

impl<M: Module<Tensor<Rank2<1, 16>, f32, Dev>, Output = Tensor<Rank2<1, 4>, f32, Dev>>> Runner for InferRunner<M> {
    fn step(&mut self) {
        black_box(self.model.forward(black_box(self.x.clone())));
    }

    fn step_value(&mut self) -> f64 {
        self.model.forward(self.x.clone()).as_vec().iter().map(|&v| f64::from(v)).sum()
    }
}

pub fn build(problem: &Problem) -> Result<Box<dyn Runner>, String> {
    let dev = Dev::default();
    let l = &problem.layers;
    Ok(match problem.spec.id {
        Id::Sigmoid441 => {
            let mut m = dev.build_module::<Sigmoid441, f64>();
            set_linear(&mut m.0, &l[0]);
            set_linear(&mut m.2, &l[1]);
            set_linear(&mut m.4, &l[2]);
            train::<_, f64, 2, 1, 1>(&dev, m, problem)
        }
        Id::Sine => {
            let mut m = dev.build_module::<Sine, f64>();
            set_linear(&mut m.0, &l[0]);
            set_linear(&mut m.2, &l[1]);
            set_linear(&mut m.4, &l[2]);
            train::<_, f64, 200, 1, 1>(&dev, m, problem)
        }
        Id::Mnist => {
            let mut m = dev.build_module::<Mnist, f32>();
            set_linear(&mut m.0, &l[0]);
            set_linear(&mut m.2, &l[1]);
            set_linear(&mut m.4, &l[2]);
            train::<_, f32, 128, 784, 10>(&dev, m, problem)
        }
        Id::Infer => {
            let mut m = dev.build_module::<Infer, f32>();
            set_linear(&mut m.0, &l[0]);
            set_linear(&mut m.2, &l[1]);
            set_linear(&mut m.4, &l[2]);
            Box::new(InferRunner { model: m, x: rank2::<1, 16, f32>(&dev, &problem.x) })
        }
    })
}
