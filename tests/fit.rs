//! `Fit`: it trains (regression and classification, both network kinds), its
//! batches are exactly the manual steps they stand for, seeds determine it,
//! reports are right, it stops early, bad losses and gradients stop it with
//! the weights as before the failing step, bad inputs change nothing, and after
//! the first epoch it allocates nothing.

use std::ops::ControlFlow;

use tinymlp::{
    Act, Adam, BceWithLogits, CosineAnnealing, CrossEntropyIndex, DynMlp, EpochReport, Error, Fit, HalfMse, Identity,
    Init, Layers, Linear, Loss, Matrix, Mlp, Optimizer, Parameters, Rng, Schedule, Sgd, Tanh,
};

mod common;

use common::allocations_in;

type Net = Mlp<f64, (Linear<f64, 1, 8, Tanh>, Linear<f64, 8, 1, Identity>)>;

fn regression_net(seed: u64) -> Net {
    let mut rng = Rng::new(seed);
    Mlp::new((Linear::new(&mut rng), Linear::new(&mut rng)))
}

/// `y = sin(πx)` on `rows` points of [-1, 1].
fn sine(rows: usize) -> (Matrix<f64>, Matrix<f64>) {
    let x = Matrix::from_fn(rows, 1, |i, _| -1.0 + 2.0 * i as f64 / (rows - 1) as f64);
    let y = Matrix::from_fn(rows, 1, |i, _| (std::f64::consts::PI * x[(i, 0)]).sin());
    (x, y)
}

/// Four XOR clusters of `per_corner` jittered points; class 1 where the signs differ.
fn xor(per_corner: usize) -> (Matrix<f64>, Vec<f64>) {
    let mut rng = Rng::new(99);
    let mut rows = Vec::new();
    let mut classes = Vec::new();
    for (a, b) in [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)] {
        for _ in 0..per_corner {
            rows.push([a + rng.uniform(-0.3, 0.3), b + rng.uniform(-0.3, 0.3)]);
            classes.push(if a * b < 0.0 { 1.0 } else { 0.0 });
        }
    }
    (Matrix::from_rows(&rows).unwrap(), classes)
}

fn bits<L: Layers<f64>>(net: &Mlp<f64, L>) -> Vec<u64> {
    net.parameters_to_vec().iter().map(|p| p.to_bits()).collect()
}

fn keep_going<T, N>(_: &EpochReport<T>, _: &N) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// One step by hand on rows `rows` of (x, y); returns the loss.
fn manual_step<L: Layers<f64>>(
    net: &mut Mlp<f64, L>,
    optimizer: &mut impl Optimizer<f64>,
    loss: &impl Loss<f64>,
    (x, y): (&Matrix<f64>, &Matrix<f64>),
    rows: &[usize],
) -> f64 {
    let bx = Matrix::from_fn(rows.len(), x.cols(), |i, j| x[(rows[i], j)]);
    let by = Matrix::from_fn(rows.len(), y.cols(), |i, j| y[(rows[i], j)]);
    net.zero_grad();
    net.forward(&bx);
    let value = net.try_backward_loss(loss, &by).unwrap();
    // An optimizer refuses NaN or infinite gradients (leaving the weights alone).
    if optimizer.step(net).is_err() {
        return f64::NAN;
    }
    value
}

#[test]
fn fit_reduces_the_loss_of_a_regression() {
    let (x, y) = sine(64);
    let mut net = regression_net(1);
    let mut adam = Adam::with_lr(0.01).unwrap();
    let history = Fit::new(300, 16).seed(3).run(&mut net, &mut adam, &HalfMse, &x, &y, keep_going).unwrap();
    assert_eq!(history.len(), 300);
    let (first, last) = (history[0].train_loss, history[299].train_loss);
    assert!(first > 0.05, "first epoch's loss {first}");
    assert!(last < 1e-3 && last < first / 50.0, "loss went from {first} to {last}");
    net.forward(&x);
    assert!(net.try_loss(&HalfMse, &y).unwrap() < 1e-3);
}

#[test]
fn fit_learns_xor_with_cross_entropy_on_a_static_network() {
    let (x, classes) = xor(8);
    let y = Matrix::column(&classes);
    let mut rng = Rng::new(5);
    let mut net = Mlp::new((Linear::<f64, 2, 8, Tanh>::new(&mut rng), Linear::<f64, 8, 2, Identity>::new(&mut rng)));
    let mut adam = Adam::with_lr(0.05).unwrap();
    let history = Fit::new(150, 8).run(&mut net, &mut adam, &CrossEntropyIndex, &x, &y, keep_going).unwrap();
    let (first, last) = (history[0].train_loss, history.last().unwrap().train_loss);
    assert!(first > 0.5, "first epoch's loss {first} (ln 2 = 0.69 for a guess)");
    assert!(last < 0.05, "loss went from {first} to {last}");
    let logits = net.try_predict(&x).unwrap();
    for (row, &class) in logits.iter_rows().zip(&classes) {
        assert_eq!(f64::from(u8::from(row[1] > row[0])), class, "logits {row:?}");
    }
}

#[test]
fn fit_learns_xor_with_bce_with_logits_on_a_dynamic_network() {
    let (x, classes) = xor(8);
    let y = Matrix::column(&classes);
    let mut net =
        DynMlp::<f64>::from_widths(&[2, 8, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(2)).unwrap();
    let mut adam = Adam::with_lr(0.05).unwrap();
    // Through a trait object: any `Loss<T> + ?Sized` will do.
    let loss: &dyn Loss<f64> = &BceWithLogits;
    let history = Fit::new(150, 8).seed(11).run(&mut net, &mut adam, loss, &x, &y, keep_going).unwrap();
    let (first, last) = (history[0].train_loss, history.last().unwrap().train_loss);
    assert!(first > 0.5 && last < 0.05, "loss went from {first} to {last}");
    let logits = net.try_predict(&x).unwrap();
    for (&logit, &class) in logits.as_slice().iter().zip(&classes) {
        assert_eq!(f64::from(u8::from(logit > 0.0)), class, "logit {logit}");
    }
}

#[test]
fn the_seed_determines_the_weights() {
    let (x, y) = sine(20);
    let train = |seed| {
        let mut net = regression_net(0);
        let mut adam = Adam::with_lr(0.01).unwrap();
        Fit::new(5, 3).seed(seed).run(&mut net, &mut adam, &HalfMse, &x, &y, keep_going).unwrap();
        bits(&net)
    };
    assert_eq!(train(7), train(7));
    assert_ne!(train(7), train(8));
}

#[test]
fn a_full_batch_epoch_without_shuffling_is_one_manual_step() {
    let (x, y) = sine(10);
    for batch_size in [10, 11, usize::MAX] {
        let (mut fitted, mut manual) = (regression_net(4), regression_net(4));
        let (mut adam_fit, mut adam_manual) = (Adam::with_lr(0.1).unwrap(), Adam::with_lr(0.1).unwrap());
        let history = Fit::new(1, batch_size)
            .shuffle(false)
            .run(&mut fitted, &mut adam_fit, &HalfMse, &x, &y, keep_going)
            .unwrap();
        let all: Vec<usize> = (0..10).collect();
        let loss = manual_step(&mut manual, &mut adam_manual, &HalfMse, (&x, &y), &all);
        assert_eq!(bits(&fitted), bits(&manual), "batch size {batch_size}");
        assert_eq!(history[0].train_loss.to_bits(), loss.to_bits());
    }
}

#[test]
fn batches_of_one_without_shuffling_are_manual_steps_in_order() {
    let (x, y) = sine(6);
    let (mut fitted, mut manual) = (regression_net(4), regression_net(4));
    let (mut sgd_fit, mut sgd_manual) = (Sgd::with_lr(0.05).unwrap(), Sgd::with_lr(0.05).unwrap());
    Fit::new(2, 1).shuffle(false).run(&mut fitted, &mut sgd_fit, &HalfMse, &x, &y, keep_going).unwrap();
    for _ in 0..2 {
        for row in 0..6 {
            manual_step(&mut manual, &mut sgd_manual, &HalfMse, (&x, &y), &[row]);
        }
    }
    assert_eq!(bits(&fitted), bits(&manual));
}

#[test]
fn shuffled_batches_follow_the_seeded_permutation_and_the_loss_is_weighted_by_batch_size() {
    // 7 rows in batches of 3: sizes 3, 3, 1; the last, partial batch is kept.
    let (x, y) = sine(7);
    let (mut fitted, mut manual) = (regression_net(6), regression_net(6));
    let (mut adam_fit, mut adam_manual) = (Adam::with_lr(0.05).unwrap(), Adam::with_lr(0.05).unwrap());
    let history = Fit::new(3, 3).seed(42).run(&mut fitted, &mut adam_fit, &HalfMse, &x, &y, keep_going).unwrap();
    let mut rng = Rng::new(42);
    for report in &history {
        let mut order: Vec<usize> = (0..7).collect();
        rng.shuffle(&mut order);
        let mut weighted = 0.0;
        for batch in order.chunks(3) {
            weighted += manual_step(&mut manual, &mut adam_manual, &HalfMse, (&x, &y), batch) * batch.len() as f64;
        }
        assert_eq!(report.train_loss.to_bits(), (weighted / 7.0).to_bits(), "epoch {}", report.epoch);
    }
    assert_eq!(history.iter().map(|r| r.epoch).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(bits(&fitted), bits(&manual));
}

#[test]
fn break_stops_after_the_epoch_that_returned_it() {
    let (x, y) = sine(8);
    let mut net = regression_net(0);
    let mut sgd = Sgd::with_lr(0.01).unwrap();
    let mut seen = Vec::new();
    let history = Fit::new(100, 4)
        .run(&mut net, &mut sgd, &HalfMse, &x, &y, |report, _| {
            seen.push(report.epoch);
            if report.epoch == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(seen, [0, 1, 2]);
    let no_epochs = Fit::new(0, 4).run(&mut net, &mut sgd, &HalfMse, &x, &y, keep_going).unwrap();
    assert!(no_epochs.is_empty());
}

#[test]
fn the_validation_loss_is_the_loss_on_the_validation_data_after_each_epoch() {
    let (x, y) = sine(16);
    let xv = Matrix::from_fn(5, 1, |i, _| -0.9 + 0.4 * i as f64);
    let yv = Matrix::from_fn(5, 1, |i, _| xv[(i, 0)] * 0.5);
    let mut net = regression_net(3);
    let mut adam = Adam::with_lr(0.01).unwrap();
    let mut checked = 0;
    let history = Fit::new(4, 5)
        .validation(&xv, &yv)
        .run(&mut net, &mut adam, &HalfMse, &x, &y, |report, net| {
            // The network handed over is the one after this epoch's last step.
            let output = net.try_predict(&xv).unwrap();
            let expected = HalfMse.value(output.as_slice(), yv.as_slice(), 1);
            assert_eq!(report.validation_loss.map(f64::to_bits), Some(expected.to_bits()));
            assert!(report.elapsed.is_some(), "std has a clock");
            checked += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(checked, 4);
    net.forward(&xv);
    assert_eq!(history[3].validation_loss, Some(net.try_loss(&HalfMse, &yv).unwrap()));
    assert!(history.windows(2).all(|w| w[0].elapsed <= w[1].elapsed));
    let without = Fit::new(1, 5).run(&mut net, &mut adam, &HalfMse, &x, &y, keep_going).unwrap();
    assert_eq!(without[0].validation_loss, None);
}

#[test]
fn a_nan_in_the_data_stops_training_before_the_step_that_would_use_it() {
    let (mut x, y) = sine(8);
    x[(5, 0)] = f64::NAN;
    let (mut fitted, mut manual) = (regression_net(2), regression_net(2));
    let (mut adam_fit, mut adam_manual) = (Adam::with_lr(0.01).unwrap(), Adam::with_lr(0.01).unwrap());
    let err = Fit::new(3, 2).shuffle(false).run(&mut fitted, &mut adam_fit, &HalfMse, &x, &y, keep_going).unwrap_err();
    // Row 5 is in batch 2 (rows 4 and 5) of epoch 0.
    assert!(matches!(err, Error::NonFiniteLoss { epoch: 0, batch: 2, value } if value.is_nan()), "{err:?}");
    for batch in [[0, 1], [2, 3]] {
        manual_step(&mut manual, &mut adam_manual, &HalfMse, (&x, &y), &batch);
    }
    assert_eq!(bits(&fitted), bits(&manual));
    assert_eq!(adam_fit.steps(), 2);
}

#[test]
fn an_overflowing_learning_rate_stops_training_with_the_last_finite_weights() {
    let (x, y) = sine(6);
    let (mut fitted, mut manual) = (regression_net(8), regression_net(8));
    let (mut sgd_fit, mut sgd_manual) = (Sgd::with_lr(1e3).unwrap(), Sgd::with_lr(1e3).unwrap());
    let mut last_epoch_weights = Vec::new();
    let err = Fit::new(1000, 4)
        .shuffle(false)
        .run(&mut fitted, &mut sgd_fit, &HalfMse, &x, &y, |_, net| {
            last_epoch_weights = bits(net);
            ControlFlow::Continue(())
        })
        .unwrap_err();
    // The same steps by hand, up to the first non-finite loss.
    let (failed_epoch, failed_batch) = 'manual: {
        for epoch in 0..1000 {
            for (batch, rows) in [&[0, 1, 2, 3][..], &[4, 5]].into_iter().enumerate() {
                let before = manual.clone();
                if !manual_step(&mut manual, &mut sgd_manual, &HalfMse, (&x, &y), rows).is_finite() {
                    manual = before;
                    break 'manual (epoch, batch);
                }
            }
        }
        panic!("the loss never overflowed");
    };
    match err {
        Error::NonFiniteLoss { epoch, batch, value } => {
            assert_eq!((epoch, batch), (failed_epoch, failed_batch));
            assert!(value.is_infinite() || value.is_nan(), "{value}");
        }
        // Overflow can also show first in the gradients, under a finite loss.
        Error::NonFinite { .. } => {}
        other => panic!("expected NonFiniteLoss or NonFinite, got {other:?}"),
    }
    assert_eq!(bits(&fitted), bits(&manual));
    if failed_batch == 0 {
        assert_eq!(bits(&fitted), last_epoch_weights);
    }
}

/// A loss whose value is finite but whose gradient is not, as when backward overflows.
struct InfiniteGradient;

impl Loss<f64> for InfiniteGradient {
    fn value(&self, _output: &[f64], _target: &[f64], _width: usize) -> f64 {
        1.0
    }
    fn gradient(&self, _output: &[f64], _target: &[f64], _width: usize, grad: &mut [f64]) {
        grad.fill(f64::INFINITY);
    }
}

#[test]
fn a_non_finite_gradient_under_a_finite_loss_names_the_parameter_and_changes_no_weight() {
    let (x, y) = sine(4);
    let layer = tinymlp::Dense::from_parameters(1, 1, vec![0.5], vec![0.0], Act::Identity).unwrap();
    let mut net = Mlp::try_new(vec![layer]).unwrap();
    let before = bits(&net);
    let mut sgd = Sgd::with_lr(0.1).unwrap();
    let err = Fit::new(1, 4).shuffle(false).run(&mut net, &mut sgd, &InfiniteGradient, &x, &y, keep_going).unwrap_err();
    // x[0] = -1, so the first weight gradient is -inf (mixed signs in the sum make it NaN).
    let Error::NonFinite { what, index, value } = err else { panic!("expected NonFinite, got {err:?}") };
    assert_eq!((what.as_str(), index), ("gradient of layer 0 weight", 0));
    assert!(!value.is_finite());
    assert_eq!(bits(&net), before);
    assert!(err.to_string().starts_with("gradient of layer 0 weight holds"), "{err}");
}

/// Settings, inputs, targets, and the error they must give.
type Case<'a> = (Fit<'a, f64>, &'a Matrix<f64>, &'a Matrix<f64>, Error);

#[test]
fn bad_inputs_are_errors_that_change_nothing() {
    let (x, y) = sine(6);
    let (xv, yv) = sine(3);
    let wide = Matrix::zeros(6, 2);
    let short = Matrix::zeros(5, 1);
    let empty = Matrix::zeros(0, 1);
    let mut net = regression_net(0);
    let before = bits(&net);
    let mut adam = Adam::with_lr(0.1).unwrap();
    let cases: [Case; 7] = [
        (Fit::new(1, 2), &wide, &y, Error::ShapeMismatch { op: "fit inputs", expected: (6, 1), found: (6, 2) }),
        (Fit::new(1, 2), &x, &short, Error::ShapeMismatch { op: "fit targets", expected: (6, 1), found: (5, 1) }),
        (Fit::new(1, 2), &x, &wide, Error::ShapeMismatch { op: "fit targets", expected: (6, 1), found: (6, 2) }),
        (Fit::new(1, 2), &empty, &empty, Error::EmptyBatch { op: "fit" }),
        (
            Fit::new(1, 0),
            &x,
            &y,
            Error::InvalidHyperParameter { name: "batch_size", value: 0.0, expected: "at least 1" },
        ),
        (
            Fit::new(1, 2).validation(&xv, &y),
            &x,
            &y,
            Error::ShapeMismatch { op: "fit validation targets", expected: (3, 1), found: (6, 1) },
        ),
        (Fit::new(1, 2).validation(&empty, &empty), &x, &y, Error::EmptyBatch { op: "fit validation" }),
    ];
    for (fit, x, y, expected) in cases {
        let mut called = false;
        let err = fit
            .run(&mut net, &mut adam, &HalfMse, x, y, |_, _| {
                called = true;
                ControlFlow::Continue(())
            })
            .unwrap_err();
        assert_eq!(err, expected);
        assert!(!called);
        assert_eq!(bits(&net), before);
        assert_eq!(adam.steps(), 0);
    }
    // A class-index target has one column whatever the output width.
    let err = Fit::new(1, 2).run(&mut net, &mut adam, &CrossEntropyIndex, &x, &wide, keep_going).unwrap_err();
    assert_eq!(err, Error::ShapeMismatch { op: "fit targets", expected: (6, 1), found: (6, 2) });
    let err = Fit::new(1, 2).validation(&wide, &yv).run(&mut net, &mut adam, &HalfMse, &x, &y, keep_going);
    assert!(matches!(err, Err(Error::ShapeMismatch { op: "fit validation inputs", .. })), "{err:?}");
    assert_eq!(bits(&net), before);
}

#[test]
fn epochs_after_the_first_allocate_nothing() {
    // 10 rows in batches of 4 (a partial last batch) and a larger validation
    // set: every buffer's largest shape is met in the first epoch.
    let (x, y) = sine(10);
    let (xv, yv) = sine(13);
    let net = regression_net(1);
    let count = |epochs| {
        let mut net = net.clone();
        let mut adam = Adam::with_lr(0.01).unwrap();
        let fit = Fit::new(epochs, 4).seed(1).validation(&xv, &yv);
        let (allocations, history) =
            allocations_in(|| fit.run(&mut net, &mut adam, &HalfMse, &x, &y, keep_going).unwrap());
        assert_eq!(history.len(), epochs);
        allocations
    };
    let (one, many) = (count(1), count(20));
    assert!(one > 0);
    assert_eq!(one, many, "epochs 2..20 allocated {} times", many - one);
}

/// An optimizer written outside the crate: plain SGD that records the rate of
/// every step it takes.
struct Recording {
    inner: Sgd<f64>,
    rates: Vec<f64>,
}

impl Optimizer<f64> for Recording {
    fn step(&mut self, params: &mut dyn Parameters<f64>) -> tinymlp::Result<()> {
        self.rates.push(self.inner.lr());
        self.inner.step(params)
    }
    fn lr(&self) -> f64 {
        self.inner.lr()
    }
    fn try_set_lr(&mut self, lr: f64) -> tinymlp::Result<()> {
        self.inner.try_set_lr(lr)
    }
}

#[test]
fn a_cosine_schedule_sets_the_rate_of_every_step_in_fit() {
    let mut net =
        DynMlp::<f64>::from_widths(&[1, 8, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(3)).unwrap();
    let x = Matrix::from_fn(10, 1, |i, _| i as f64 / 9.0);
    let y = Matrix::from_fn(10, 1, |i, _| (3.0 * i as f64 / 9.0).sin());
    let cosine = CosineAnnealing { t_max: 6, eta_min: 0.001 };
    let mut optimizer = Recording { inner: Sgd::with_lr(0.2).unwrap(), rates: Vec::new() };
    // 10 rows in batches of 4: 3 steps per epoch.
    let history = Fit::new(8, 4)
        .schedule(&cosine)
        .run(&mut net, &mut optimizer, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(optimizer.rates.len(), 8 * 3);
    for (epoch, report) in history.iter().enumerate() {
        let expected = cosine.lr(0.2, epoch);
        assert_eq!(report.lr, expected, "epoch {epoch}");
        assert_eq!(&optimizer.rates[3 * epoch..3 * epoch + 3], &[expected; 3], "epoch {epoch}");
    }
    // The rates fall from the base rate to eta_min at t_max and rise after it.
    assert_eq!(history[0].lr, 0.2);
    assert!((history[6].lr - 0.001).abs() < 1e-15);
    assert!(history[7].lr > history[6].lr);
    assert_eq!(optimizer.lr(), history[7].lr);
}

#[test]
fn fit_takes_an_optimizer_as_a_trait_object() {
    let mut net =
        DynMlp::<f64>::from_widths(&[1, 4, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0)).unwrap();
    let (x, y) = (Matrix::column(&[0.0, 0.5, 1.0]), Matrix::column(&[1.0, 0.0, 1.0]));
    let mut optimizers: Vec<Box<dyn Optimizer<f64>>> =
        vec![Box::new(Sgd::with_lr(0.1).unwrap()), Box::new(Adam::with_lr(0.01).unwrap())];
    for optimizer in &mut optimizers {
        let before = net.parameters_to_vec();
        let history = Fit::new(2, 3)
            .run(&mut net, optimizer.as_mut(), &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()))
            .unwrap();
        assert_eq!(history.len(), 2);
        assert_ne!(net.parameters_to_vec(), before);
    }
}

#[test]
fn a_nan_target_is_refused_before_the_first_step_naming_its_row() {
    let (x, mut y) = sine(8);
    y[(6, 0)] = f64::NAN;
    let mut net = regression_net(2);
    let before = bits(&net);
    let mut adam = Adam::with_lr(0.01).unwrap();
    let err = Fit::new(3, 2).run(&mut net, &mut adam, &HalfMse, &x, &y, keep_going).unwrap_err();
    assert_eq!(err.to_string(), "fit targets row 6 col 0 holds NaN at index 6; only finite values are allowed");
    assert_eq!((bits(&net), adam.steps()), (before.clone(), 0));
    let (xv, mut yv) = sine(3);
    yv[(1, 0)] = f64::INFINITY;
    let err = Fit::new(3, 2).validation(&xv, &yv).run(&mut net, &mut adam, &HalfMse, &x, &sine(8).1, keep_going);
    assert!(matches!(err, Err(Error::NonFinite { index: 1, .. })), "{err:?}");
    assert_eq!((bits(&net), adam.steps()), (before, 0));
}

#[test]
fn a_validation_set_that_gives_a_nan_output_is_reported_not_refused() {
    let (x, y) = sine(8);
    let (mut xv, yv) = sine(3);
    xv[(2, 0)] = f64::NAN;
    let mut net = regression_net(2);
    let mut adam = Adam::with_lr(0.01).unwrap();
    let history = Fit::new(2, 4).validation(&xv, &yv).run(&mut net, &mut adam, &HalfMse, &x, &y, keep_going).unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|report| report.train_loss.is_finite()));
    assert!(history.iter().all(|report| report.validation_loss.is_some_and(f64::is_nan)));
}
