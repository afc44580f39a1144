//! tinymlp itself: the const-generic tuple networks of `benches/train_step.rs`,
//! stepped exactly as there.

use std::hint::black_box;

use tinymlp::{Adam, HalfMse, Layers, Matrix, Mlp, Optimizer, Scalar, Sgd};

use crate::workload::{Id, Kind, Opt, Problem, Runner, nets};

struct Train<T: Scalar, L: Layers<T>, O: Optimizer<T>> {
    net: Mlp<T, L>,
    opt: O,
    x: Matrix<T>,
    y: Matrix<T>,
}

impl<T: Scalar, L: Layers<T>, O: Optimizer<T>> Train<T, L, O> {
    fn train_step(&mut self) -> T {
        self.net.zero_grad();
        self.net.forward(&self.x);
        let loss = self.net.try_backward_loss(&HalfMse, &self.y).expect("backward_loss");
        self.opt.step(&mut self.net).expect("optimizer step");
        loss
    }
}

impl<T: Scalar, L: Layers<T>, O: Optimizer<T>> Runner for Train<T, L, O> {
    fn step(&mut self) {
        black_box(self.train_step());
    }

    fn step_value(&mut self) -> f64 {
        self.train_step().as_f64()
    }
}

/// One-sample inference with `predict` (which allocates its result and scratch
/// on every call, as the peers allocate their output tensors).
struct Infer<L: Layers<f32>> {
    net: Mlp<f32, L>,
    x: Matrix<f32>,
}

impl<L: Layers<f32>> Runner for Infer<L> {
    fn step(&mut self) {
        black_box(self.net.try_predict(black_box(&self.x)).expect("predict"));
    }

    fn step_value(&mut self) -> f64 {
        self.net.try_predict(&self.x).expect("predict").as_slice().iter().map(|&v| f64::from(v)).sum()
    }
}

fn train<T: Scalar, L: Layers<T> + 'static>(net: Mlp<T, L>, problem: &Problem) -> Box<dyn Runner> {
    let (x, y) = problem.matrices::<T>();
    match problem.spec.kind {
        Kind::Train(Opt::Adam { lr }) => Box::new(Train { net, opt: Adam::<T>::with_lr(lr).expect("adam"), x, y }),
        Kind::Train(Opt::Sgd { lr }) => Box::new(Train { net, opt: Sgd::<T>::with_lr(lr).expect("sgd"), x, y }),
        Kind::Infer => unreachable!("inference is built by `build`"),
    }
}

pub fn build(problem: &Problem) -> Result<Box<dyn Runner>, String> {
    Ok(match problem.spec.id {
        Id::Sigmoid441 => train(nets::sigmoid441(), problem),
        Id::Sine => train(nets::sine(), problem),
        Id::Mnist => train(nets::mnist().0, problem),
        Id::Infer => Box::new(Infer { net: nets::infer().0, x: problem.matrices::<f32>().0 }),
    })
}
