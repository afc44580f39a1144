//! candle (CPU device).
//!
//! Substitution: candle has no plain Adam; `AdamW` with `weight_decay: 0.0`
//! is the same update (its decay factor is then 1). Its matrix products go
//! through `gemm` with `Parallelism::None` when `RAYON_NUM_THREADS=1`
//! (candle's `get_num_threads`), which `main` sets before anything runs.

use std::hint::black_box;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Linear, Module, Optimizer, ParamsAdamW, SGD};

use crate::workload::{Act, Dtype, Kind, Opt, Problem, Runner};

enum Optim {
    Adam(AdamW),
    Sgd(SGD),
}

struct Net {
    layers: Vec<(Linear, Act)>,
}

impl Net {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for (linear, act) in &self.layers {
            h = linear.forward(&h)?;
            h = match act {
                Act::Sigmoid => candle_nn::ops::sigmoid(&h)?,
                Act::Tanh => h.tanh()?,
                Act::Relu => h.relu()?,
                Act::Identity => h,
            };
        }
        Ok(h)
    }
}

struct CandleRunner {
    net: Net,
    optim: Option<Optim>,
    x: Tensor,
    y: Option<Tensor>,
}

impl CandleRunner {
    /// One step; returns the loss tensor (or the output for inference).
    fn run(&mut self) -> candle_core::Result<Tensor> {
        let out = self.net.forward(&self.x)?;
        let (Some(y), Some(optim)) = (&self.y, &mut self.optim) else { return Ok(out) };
        // 0.5·mean((ŷ - y)²): candle_nn::loss::mse is mean((ŷ - y)²).
        let loss = (candle_nn::loss::mse(&out, y)? * 0.5)?;
        // Gradients are computed afresh by each backward (no zero_grad needed).
        match optim {
            Optim::Adam(opt) => opt.backward_step(&loss)?,
            Optim::Sgd(opt) => opt.backward_step(&loss)?,
        }
        Ok(loss)
    }
}

impl Runner for CandleRunner {
    fn step(&mut self) {
        black_box(self.run().expect("candle step"));
    }

    fn step_value(&mut self) -> f64 {
        let value = self.run().expect("candle step");
        value.to_dtype(DType::F64).and_then(|v| v.sum_all()).and_then(|v| v.to_scalar::<f64>()).expect("read back")
    }
}

fn tensor(values: &[f64], shape: (usize, usize), dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
    Tensor::from_slice(values, shape, device)?.to_dtype(dtype)
}

pub fn build(problem: &Problem) -> Result<Box<dyn Runner>, String> {
    build_inner(problem).map_err(|e| e.to_string())
}

fn build_inner(problem: &Problem) -> candle_core::Result<Box<dyn Runner>> {
    let device = Device::Cpu;
    let spec = &problem.spec;
    let dtype = match spec.dtype {
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
    };
    let mut vars = Vec::new();
    let mut layers = Vec::new();
    for (index, layer) in problem.layers.iter().enumerate() {
        let weight = tensor(&layer.weight, (layer.outputs, layer.inputs), dtype, &device)?;
        let bias = Tensor::from_slice(&layer.bias, layer.outputs, &device)?.to_dtype(dtype)?;
        let (weight, bias) = if spec.kind == Kind::Infer {
            // Plain tensors: the forward pass records nothing for backward.
            (weight, bias)
        } else {
            let (weight, bias) = (Var::from_tensor(&weight)?, Var::from_tensor(&bias)?);
            let tensors = (weight.as_tensor().clone(), bias.as_tensor().clone());
            vars.extend([weight, bias]);
            tensors
        };
        layers.push((Linear::new(weight, Some(bias)), spec.act(index)));
    }
    let x = tensor(&problem.x, (spec.batch, spec.inputs()), dtype, &device)?;
    let (optim, y) = match spec.kind {
        Kind::Infer => (None, None),
        Kind::Train(opt) => {
            let y = tensor(&problem.y, (spec.batch, spec.outputs()), dtype, &device)?;
            let optim = match opt {
                Opt::Adam { lr } => Optim::Adam(AdamW::new(
                    vars,
                    ParamsAdamW { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 },
                )?),
                Opt::Sgd { lr } => Optim::Sgd(SGD::new(vars, lr)?),
            };
            (Some(optim), Some(y))
        }
    };
    Ok(Box::new(CandleRunner { net: Net { layers }, optim, x, y }))
}
