//! burn 0.22 on its two CPU backends that build here: `ndarray` (deprecated
//! since 0.22 in favour of `flex`) and `flex`, both with autodiff for
//! training and without it for inference.
//!
//! One thread: burn is built without default features, so without its
//! `rayon` feature (`burn-flex/rayon`, `burn-ndarray/multi-threads`); flex's
//! products then run `gemm` with `Parallelism::None`.
//!
//! Substitution: burn's Adam keeps β and ε as f32 (0.9, 0.999 and 1e-8 round
//! to f32 before use in an f64 network); its default ε is 1e-5, set here to
//! PyTorch's 1e-8.

use std::hint::black_box;

use burn::module::Param;
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{DType, Device, Tensor, TensorData};

use crate::workload::{Act, Dtype, Kind, Opt, Problem, Runner};

/// The CPU backend to run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    NdArray,
    Flex,
}

struct BurnRunner {
    model: Vec<Linear>,
    acts: Vec<Act>,
    /// The optimizer and its learning rate; `None` for inference.
    optim: Option<(ModuleOptimizer, f64)>,
    x: Tensor<2>,
    y: Option<Tensor<2>>,
}

impl BurnRunner {
    fn forward(&self) -> Tensor<2> {
        let mut h = self.x.clone();
        for (linear, act) in self.model.iter().zip(&self.acts) {
            h = linear.forward(h);
            h = match act {
                Act::Sigmoid => sigmoid(h),
                Act::Tanh => tanh(h),
                Act::Relu => relu(h),
                Act::Identity => h,
            };
        }
        h
    }

    /// One training step; returns the loss.
    fn train(&mut self) -> Tensor<1> {
        let out = self.forward();
        let (Some(y), Some((optim, lr))) = (&self.y, &mut self.optim) else { unreachable!("inference runner") };
        let loss = (out - y.clone()).square().mean().mul_scalar(0.5);
        // Gradients are fresh per backward (no zero_grad); the step consumes
        // the model and returns the updated one.
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let model = std::mem::take(&mut self.model);
        self.model = optim.step(*lr, model, grads);
        loss
    }
}

impl Runner for BurnRunner {
    fn step(&mut self) {
        if self.optim.is_some() {
            black_box(self.train());
        } else {
            black_box(self.forward());
        }
    }

    fn step_value(&mut self) -> f64 {
        let value = if self.optim.is_some() { self.train() } else { self.forward().sum() };
        value.into_scalar::<f64>()
    }
}

fn tensor<const D: usize>(values: &[f64], shape: [usize; D], dtype: DType, device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), (device, dtype))
}

pub fn build(problem: &Problem, backend: Backend) -> Result<Box<dyn Runner>, String> {
    let spec = &problem.spec;
    #[allow(deprecated)] // burn-ndarray is deprecated in 0.22 but still the documented CPU backend of 0.21 and before
    let device = match backend {
        Backend::NdArray => Device::ndarray(),
        Backend::Flex => Device::flex(),
    };
    let device = if spec.kind == Kind::Infer { device } else { device.autodiff() };
    let dtype = match spec.dtype {
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
    };
    let model: Vec<Linear> = problem
        .layers
        .iter()
        .map(|layer| {
            // burn's Linear keeps its weight as inputs x outputs.
            let weight = tensor(&layer.weight_t(), [layer.inputs, layer.outputs], dtype, &device);
            let bias = tensor(&layer.bias, [layer.outputs], dtype, &device);
            Linear { weight: Param::from_tensor(weight), bias: Some(Param::from_tensor(bias)) }
        })
        .collect();
    let acts = (0..model.len()).map(|i| spec.act(i)).collect();
    let x = tensor(&problem.x, [spec.batch, spec.inputs()], dtype, &device);
    let (optim, y) = match spec.kind {
        Kind::Infer => (None, None),
        Kind::Train(opt) => {
            let y = tensor(&problem.y, [spec.batch, spec.outputs()], dtype, &device);
            let optim = match opt {
                Opt::Adam { lr } => (AdamConfig::new().with_epsilon(1e-8).init(), lr),
                Opt::Sgd { lr } => (SgdConfig::new().init(), lr),
            };
            (Some(optim), Some(y))
        }
    };
    let runner = BurnRunner { model, acts, optim, x, y };
    let got = runner.model[0].weight.val().dtype();
    if got != dtype {
        return Err(format!("weights are {got:?}, wanted {dtype:?}"));
    }
    Ok(Box::new(runner))
}
