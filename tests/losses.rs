//! Losses: gradients with respect to the outputs against finite differences
//! for random shapes (property tests), PyTorch's definitions on known values,
//! stability at logits of ±1e4, and clear errors for undefined inputs.

use proptest::prelude::*;
use tinymlp::gradcheck::{Options, check_gradient};
use tinymlp::{
    Act, Bce, BceWithLogits, CrossEntropy, CrossEntropyIndex, DynMlp, Error, HalfMse, Huber, Init, L1, Loss, Matrix,
    Mse, Rng,
};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Finite differences of `loss.value` against `loss.gradient` at `output`.
fn fd_error<F: Loss<f64>>(loss: &F, output: &[f64], target: &[f64], width: usize) -> f64 {
    let mut analytic = vec![0.0; output.len()];
    loss.gradient(output, target, width, &mut analytic);
    let report = check_gradient(|o| loss.value(o, target, width), output, &analytic, &Options::default());
    report.max_relative_error
}

/// `rows x width` values in `[low, high)`.
fn values(rows: usize, width: usize, low: f64, high: f64, rng: &mut Rng) -> Vec<f64> {
    (0..rows * width).map(|_| rng.uniform(low, high)).collect()
}

/// Differences `|d|` in `[0.01, 3)` that keep `margin` away from `kink` too.
fn away_from(rng: &mut Rng, kink: f64) -> f64 {
    loop {
        let d = rng.uniform(0.01, 3.0);
        if (d - kink).abs() > 0.01 {
            return if rng.next_u64().is_multiple_of(2) { d } else { -d };
        }
    }
}

fn softmax_rows(logits: &[f64], width: usize) -> Vec<f64> {
    logits
        .chunks(width)
        .flat_map(|row| {
            let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = row.iter().map(|x| (x - max).exp()).sum();
            row.iter().map(move |x| (x - max).exp() / sum).collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn regression_loss_gradients_match_finite_differences(rows in 1usize..=8, width in 1usize..=8, seed: u64) {
        let mut rng = Rng::new(seed);
        let target = values(rows, width, -2.0, 2.0, &mut rng);
        let smooth: Vec<f64> = target.iter().map(|t| t + rng.uniform(-3.0, 3.0)).collect();
        prop_assert!(fd_error(&HalfMse, &smooth, &target, width) < 1e-6);
        prop_assert!(fd_error(&Mse, &smooth, &target, width) < 1e-6);
        let off_kink: Vec<f64> = target.iter().map(|t| t + away_from(&mut rng, 0.0)).collect();
        prop_assert!(fd_error(&L1, &off_kink, &target, width) < 1e-6);
        let delta = rng.uniform(0.2, 2.0);
        let off_corner: Vec<f64> = target.iter().map(|t| t + away_from(&mut rng, delta)).collect();
        let huber = Huber { delta };
        prop_assert!(fd_error(&huber, &off_corner, &target, width) < 1e-6);
    }

    #[test]
    fn classification_loss_gradients_match_finite_differences(rows in 1usize..=8, width in 1usize..=8, seed: u64) {
        let mut rng = Rng::new(seed);
        let probabilities = values(rows, width, 0.1, 0.9, &mut rng);
        let labels = values(rows, width, 0.0, 1.0, &mut rng);
        prop_assert!(fd_error(&Bce, &probabilities, &labels, width) < 1e-6);
        let logits = values(rows, width, -6.0, 6.0, &mut rng);
        prop_assert!(fd_error(&BceWithLogits, &logits, &labels, width) < 1e-6);
        let soft_targets = softmax_rows(&values(rows, width, -3.0, 3.0, &mut rng), width);
        prop_assert!(fd_error(&CrossEntropy, &logits, &soft_targets, width) < 1e-6);
        // Targets whose rows do not sum to 1 (PyTorch takes them as they are):
        // the gradient's softmax term scales with the row's total.
        let unnormalised = values(rows, width, 0.0, 1.0, &mut rng);
        prop_assert!(fd_error(&CrossEntropy, &logits, &unnormalised, width) < 1e-6);
        let classes: Vec<f64> = (0..rows).map(|_| rng.below(width as u64) as f64).collect();
        prop_assert!(fd_error(&CrossEntropyIndex, &logits, &classes, width) < 1e-6);
        // Class indices are one-hot probabilities.
        let one_hot: Vec<f64> = classes
            .iter()
            .flat_map(|&c| (0..width).map(move |j| if j == c as usize { 1.0 } else { 0.0 }))
            .collect();
        let (a, b) = (CrossEntropyIndex.value(&logits, &classes, width), CrossEntropy.value(&logits, &one_hot, width));
        prop_assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0));
    }
}

#[test]
fn known_values_follow_pytorch() {
    let (o, t) = ([0.5, -1.0, 2.0], [0.0, 0.0, 0.5]);
    assert_eq!(Mse.value(&o, &t, 3), (0.25 + 1.0 + 2.25) / 3.0);
    assert_eq!(L1.value(&o, &t, 3), 3.0 / 3.0);
    // huber: 0.125, 0.5 (|d| = 1 = delta is linear: 1·(1 - 0.5)), 1.5 - 0.5 = 1.0
    assert_eq!(Huber { delta: 1.0 }.value(&o, &t, 3), (0.125 + 0.5 + 1.0) / 3.0);
    let mut g = [9.0; 3];
    L1.gradient(&[1.0, 1.0, 0.0], &[1.0, 0.0, 1.0], 3, &mut g);
    assert_eq!(g, [0.0, 1.0 / 3.0, -1.0 / 3.0], "L1's gradient at 0 is 0, as torch");
    // BCE clamps each log at -100: an output of exactly 0 for a positive label costs 100.
    assert_eq!(Bce.value(&[0.0], &[1.0], 1), 100.0);
    assert!((Bce.value(&[0.25], &[1.0], 1) - 4f64.ln()).abs() < 1e-15);
    // cross-entropy of uniform logits over 4 classes is ln 4.
    assert!((CrossEntropyIndex.value(&[0.0; 4], &[2.0], 4) - 4f64.ln()).abs() < 1e-15);
}

#[test]
fn huge_logits_stay_finite_in_f32_and_f64() {
    fn check<T: tinymlp::Scalar>() {
        let big = T::from_f64(1e4);
        let logits = [big, -big, T::zero(), -big, big, big];
        let labels = [T::one(), T::zero(), T::from_f64(0.5), T::one(), T::zero(), T::one()];
        let soft =
            [T::from_f64(0.2), T::from_f64(0.3), T::from_f64(0.5), T::zero(), T::from_f64(0.5), T::from_f64(0.5)];
        let classes = [T::from_f64(1.0), T::from_f64(0.0)];
        let mut grad = [T::zero(); 6];
        let losses: [(&dyn Loss<T>, &[T]); 3] =
            [(&BceWithLogits, &labels), (&CrossEntropy, &soft), (&CrossEntropyIndex, &classes)];
        for (loss, target) in losses {
            let value = loss.value(&logits, target, 3);
            assert!(value.is_finite(), "{value}");
            let mut g = grad;
            loss.gradient(&logits, target, 3, &mut g);
            assert!(g.iter().all(|x| x.is_finite()), "{g:?}");
            grad = g;
        }
        let probabilities = [T::zero(), T::one(), T::from_f64(0.5)];
        assert!(Bce.value(&probabilities, &[T::one(), T::zero(), T::one()], 1).is_finite());
        Bce.gradient(&probabilities, &[T::one(), T::zero(), T::one()], 1, &mut grad[..3]);
        assert!(grad.iter().all(|x| x.is_finite()));
    }
    check::<f32>();
    check::<f64>();
}

#[test]
fn undefined_inputs_are_errors_naming_the_value() {
    let mut net =
        DynMlp::<f64>::from_widths(&[2, 3], Act::Identity, Act::Identity, Init::TorchDefault, &mut Rng::new(0))
            .unwrap();
    let x = Matrix::from_rows(&[[0.5, 1.0], [1.0, -1.0]]).unwrap();
    net.forward(&x);
    let err = net.try_backward_loss(&CrossEntropyIndex, &Matrix::column(&[1.0, 3.0])).unwrap_err();
    assert_eq!(err, Error::ClassOutOfRange { row: 1, value: 3.0, classes: 3 });
    assert_eq!(err.to_string(), "target row 1 holds class 3, but there are 3 classes (0..3)");
    assert!(net.try_backward_loss(&CrossEntropyIndex, &Matrix::column(&[0.5, 1.0])).is_err(), "fractional class");
    assert!(net.gradients_to_vec().iter().all(|&g| g == 0.0), "nothing changed");
    assert!(net.try_backward_loss(&CrossEntropyIndex, &Matrix::column(&[2.0, 0.0])).is_ok());
    // Identity outputs are not probabilities: BCE refuses them by value.
    let mut probabilities = DynMlp::<f64>::from_widths(
        &[2, 1],
        Act::Identity,
        Act::Identity,
        Init::Constant { weight: 1.0, bias: 0.0 },
        &mut Rng::new(0),
    )
    .unwrap();
    probabilities.forward(&x);
    let err = probabilities.try_backward_loss(&Bce, &Matrix::column(&[1.0, 0.0])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "BCE output at row 0, column 0 is 1.5: expected a probability in [0, 1] (use BceWithLogits for logits)"
    );
    let err = probabilities.try_backward_loss(&Huber { delta: -1.0 }, &Matrix::column(&[1.0, 0.0])).unwrap_err();
    assert_eq!(err.to_string(), "huber delta = -1 is invalid: expected a finite value > 0");
}

/// What the loss module's docs claim about finite values, checked: the stable
/// forms stay finite at logits of ±1e30 (f32) and ±1e300 (f64); the squared
/// differences overflow past about 1.8e19 (f32) and 1.3e154 (f64); Bce's
/// gradient stays below 1e12 for targets in [0, 1].
#[test]
fn finite_value_claims_of_the_loss_docs_hold() {
    fn stable<T: tinymlp::Scalar>(big: f64) {
        let (big, half, one) = (T::from_f64(big), T::from_f64(0.5), T::one());
        let logits = [big, -big, T::zero(), -big, big, big];
        let cases: [(&dyn Loss<T>, Vec<T>); 3] = [
            (&BceWithLogits, vec![one, T::zero(), half, one, T::zero(), half]),
            (&CrossEntropy, vec![half, half, T::zero(), T::zero(), half, half]),
            (&CrossEntropyIndex, vec![T::one(), T::zero()]),
        ];
        for (loss, target) in cases {
            let value = loss.value(&logits, &target, 3);
            let mut grad = vec![T::zero(); logits.len()];
            loss.gradient(&logits, &target, 3, &mut grad);
            assert!(value.is_finite() && grad.iter().all(|g| g.is_finite()), "{value:?} {grad:?}");
        }
    }
    stable::<f32>(1e30);
    stable::<f64>(1e300);

    let half_mse = |o: f64| Loss::<f64>::value(&HalfMse, &[o], &[0.0], 1);
    let half_mse_32 = |o: f32| Loss::<f32>::value(&HalfMse, &[o], &[0.0], 1);
    assert!(half_mse_32(1.8e19).is_finite() && half_mse_32(1.9e19).is_infinite() && half_mse_32(1e20).is_infinite());
    assert!(half_mse(1.3e154).is_finite() && half_mse(1.4e154).is_infinite());
    assert!(Loss::<f64>::value(&Mse, &[1e200], &[0.0], 1).is_infinite());
    // L1 and Huber: finite up to the largest value.
    assert!(Loss::<f32>::value(&L1, &[f32::MAX / 2.0], &[-f32::MAX / 2.0], 1).is_finite());
    assert!(Loss::<f32>::value(&Huber::default(), &[f32::MAX / 2.0], &[-f32::MAX / 2.0], 1).is_finite());

    let mut rng = Rng::new(5);
    let output: Vec<f64> =
        [0.0, 1.0, 1e-300, 1.0 - 1e-16].into_iter().chain(values(1, 60, 0.0, 1.0, &mut rng)).collect();
    let target: Vec<f64> = [1.0, 0.0, 1.0, 0.0].into_iter().chain(values(1, 60, 0.0, 1.0, &mut rng)).collect();
    let mut grad = vec![0.0; output.len()];
    Loss::<f64>::gradient(&Bce, &output, &target, 1, &mut grad);
    assert!(grad.iter().all(|g| g.abs() < 1e12), "{grad:?}");
}
