//! Optimizer hyper-parameters that would make NaN or infinite weights are
//! refused where they are set, naming the parameter and value: at
//! construction, by `try_set_lr` (the optimizer keeping its rate), and by
//! `Fit` when a schedule gives such a rate (naming the epoch). Each case here
//! made NaN or infinite weights, with `Ok`, before.

use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use tinymlp::{
    Act, Adam, AdamConfig, DynMlp, Error, Exponential, Fit, HalfMse, Init, Matrix, Optimizer, Parameters, RmsProp,
    RmsPropConfig, Rng, Scalar, Sgd, SgdConfig, StaticAdam, StaticSgd,
};

/// Two parameters and their gradients.
struct Two<T>([T; 2], [T; 2]);

impl<T: Scalar> Parameters<T> for Two<T> {
    fn visit_parameters(&mut self, f: &mut dyn FnMut(&mut [T], &[T])) {
        f(&mut self.0, &self.1);
    }
}

fn refused<T>(result: tinymlp::Result<T>, name: &str, value: f64) -> Error {
    let Err(error) = result else { panic!("{name} = {value} accepted") };
    assert!(
        matches!(&error, Error::InvalidHyperParameter { name: n, value: v, .. } if *n == name && v.to_bits() == value.to_bits()),
        "{name} = {value}: {error:?}"
    );
    assert!(error.to_string().starts_with(&format!("{name} = {value} is invalid")), "{error}");
    error
}

/// An optimizer as a trait object, or why it could not be made.
type Made<T> = tinymlp::Result<Box<dyn Optimizer<T>>>;

/// Every optimizer of `T` with learning rate `lr`, as trait objects.
fn every_optimizer<T: Scalar>(lr: f64) -> Vec<(&'static str, Made<T>)> {
    fn boxed<T: Scalar, O: Optimizer<T> + 'static>(o: tinymlp::Result<O>) -> Made<T> {
        o.map(|o| Box::new(o) as Box<dyn Optimizer<T>>)
    }
    let momentum = SgdConfig { lr, momentum: 0.9, ..SgdConfig::default() };
    vec![
        ("sgd", boxed(Sgd::<T>::with_lr(lr))),
        ("sgd momentum", boxed(Sgd::<T>::new(momentum))),
        ("static sgd", boxed(StaticSgd::<T, 2>::new(momentum))),
        ("adam", boxed(Adam::<T>::with_lr(lr))),
        ("adamw", boxed(Adam::<T>::new(AdamConfig { lr, ..AdamConfig::adamw() }))),
        ("static adam", boxed(StaticAdam::<T, 2>::with_lr(lr))),
        ("rmsprop", boxed(RmsProp::<T>::with_lr(lr))),
        (
            "rmsprop centered",
            boxed(RmsProp::<T>::new(RmsPropConfig { lr, centered: true, ..RmsPropConfig::default() })),
        ),
    ]
}

#[test]
fn values_beyond_f32_are_refused_by_f32_optimizers_only() {
    // 1e39 is a finite f64 but infinite as an f32: every weight became NaN or -inf.
    for (kind, optimizer) in every_optimizer::<f32>(1e39) {
        let error = refused(optimizer, "lr", 1e39);
        assert!(error.to_string().contains("finite in f32"), "{kind}: {error}");
    }
    for (kind, optimizer) in every_optimizer::<f64>(1e39) {
        let mut optimizer = optimizer.unwrap_or_else(|e| panic!("{kind}: {e}"));
        let mut p = Two([1.0, 2.0], [0.0, 1e-300]);
        optimizer.step(&mut p).unwrap();
        assert!(p.0.iter().all(|v| v.is_finite()), "{kind}: {:?}", p.0);
    }
    let big = 1e39;
    refused(Sgd::<f32>::new(SgdConfig { momentum: big, ..SgdConfig::default() }), "momentum", big);
    refused(Sgd::<f32>::new(SgdConfig { dampening: -big, ..SgdConfig::default() }), "dampening", -big);
    refused(StaticSgd::<f32, 2>::new(SgdConfig { weight_decay: big, ..SgdConfig::default() }), "weight_decay", big);
    refused(Adam::<f32>::new(AdamConfig { weight_decay: big, ..AdamConfig::default() }), "weight_decay", big);
    refused(Adam::<f32>::new(AdamConfig { eps: big, ..AdamConfig::default() }), "eps", big);
    refused(RmsProp::<f32>::new(RmsPropConfig { momentum: big, ..RmsPropConfig::default() }), "momentum", big);
    refused(RmsProp::<f32>::new(RmsPropConfig { weight_decay: big, ..RmsPropConfig::default() }), "weight_decay", big);
    refused(RmsProp::<f32>::new(RmsPropConfig { eps: big, ..RmsPropConfig::default() }), "eps", big);
}

#[test]
fn adams_derived_factors_must_be_finite_too() {
    // The first step's size lr / (1 - beta1) = 3e39: infinite in f32.
    let config = AdamConfig { lr: 3e38, beta1: 0.9, ..AdamConfig::default() };
    refused(Adam::<f32>::new(config), "lr", 3e38);
    refused(StaticAdam::<f32, 2>::new(config), "lr", 3e38);
    assert!(Adam::<f32>::new(AdamConfig { beta1: 0.0, ..config }).is_ok());
    assert!(Adam::<f64>::new(config).is_ok());
    // AdamW shrinks weights by 1 - lr·weight_decay = 1 - 1e40.
    let adamw = AdamConfig { lr: 1e20, weight_decay: 1e20, ..AdamConfig::adamw() };
    refused(Adam::<f32>::new(adamw), "weight_decay", 1e20);
    assert!(Adam::<f32>::new(AdamConfig { decoupled_weight_decay: false, ..adamw }).is_ok());
    let adamw = AdamConfig { lr: 1e200, weight_decay: 1e200, ..AdamConfig::adamw() };
    refused(Adam::<f64>::new(adamw), "weight_decay", 1e200);
    // A new rate that breaks the same check is refused naming the rate.
    let mut adamw = Adam::<f32>::new(AdamConfig { lr: 1e-3, weight_decay: 1e10, ..AdamConfig::adamw() }).unwrap();
    refused(adamw.try_set_lr(1e37), "lr", 1e37);
    assert_eq!(adamw.lr(), 1e-3);
    let mut adamw =
        StaticAdam::<f32, 2>::new(AdamConfig { lr: 1e-3, weight_decay: 1e10, ..AdamConfig::adamw() }).unwrap();
    refused(adamw.try_set_lr(1e37), "lr", 1e37);
}

#[test]
fn eps_must_be_above_zero_in_the_optimizers_type() {
    // eps = 0 made a zero gradient's step 0/0 = NaN (PyTorch takes eps = 0).
    for eps in [0.0, -0.0, -1e-8, f64::NAN] {
        refused(Adam::<f64>::new(AdamConfig { eps, ..AdamConfig::default() }), "eps", eps);
        refused(Adam::<f32>::new(AdamConfig { eps, ..AdamConfig::adamw() }), "eps", eps);
        refused(StaticAdam::<f64, 2>::new(AdamConfig { eps, ..AdamConfig::default() }), "eps", eps);
        refused(RmsProp::<f64>::new(RmsPropConfig { eps, ..RmsPropConfig::default() }), "eps", eps);
        refused(RmsProp::<f32>::new(RmsPropConfig { eps, centered: true, ..RmsPropConfig::default() }), "eps", eps);
    }
    // 1e-50 is 0 as an f32.
    refused(Adam::<f32>::new(AdamConfig { eps: 1e-50, ..AdamConfig::default() }), "eps", 1e-50);
    refused(RmsProp::<f32>::new(RmsPropConfig { eps: 1e-50, ..RmsPropConfig::default() }), "eps", 1e-50);
    // The smallest accepted eps keeps a zero gradient's step finite (zero).
    let smallest = f64::from_bits(1);
    let mut adam = Adam::<f64>::new(AdamConfig { eps: smallest, ..AdamConfig::default() }).unwrap();
    let mut rmsprop = RmsProp::<f64>::new(RmsPropConfig { eps: smallest, ..RmsPropConfig::default() }).unwrap();
    let mut adam32 =
        Adam::<f32>::new(AdamConfig { eps: f64::from(f32::from_bits(1)), ..AdamConfig::default() }).unwrap();
    for _ in 0..3 {
        let mut p = Two([1.0, 2.0], [0.0, 0.0]);
        adam.step(&mut p).unwrap();
        rmsprop.step(&mut p).unwrap();
        assert_eq!(p.0, [1.0, 2.0]);
        let mut p = Two([1.0f32, 2.0], [0.0, 0.0]);
        adam32.step(&mut p).unwrap();
        assert_eq!(p.0, [1.0, 2.0]);
    }
}

#[test]
fn rmsprops_alpha_must_be_in_zero_one() {
    // alpha = 2 made the average of squares negative and the weights NaN.
    for alpha in [2.0, 1.0 + f64::EPSILON, -0.5, f64::NAN, f64::INFINITY] {
        let error = refused(RmsProp::<f64>::new(RmsPropConfig { alpha, ..RmsPropConfig::default() }), "alpha", alpha);
        assert!(error.to_string().contains("[0, 1]"), "{error}");
    }
    for alpha in [0.0, 1.0] {
        for centered in [false, true] {
            let config = RmsPropConfig { lr: 0.01, alpha, centered, ..RmsPropConfig::default() };
            let mut rmsprop = RmsProp::<f64>::new(config).unwrap();
            let mut p = Two([1.0, -1.0], [0.5, -3.0]);
            for _ in 0..5 {
                rmsprop.step(&mut p).unwrap();
            }
            assert!(p.0.iter().all(|v| v.is_finite()), "alpha {alpha}, centered {centered}: {:?}", p.0);
        }
    }
}

/// A refused rate leaves the optimizer as it was: the next steps are those
/// of a twin that never saw it, bit for bit.
#[test]
fn try_set_lr_refuses_a_bad_rate_and_keeps_the_old_one() {
    fn check<T: Scalar>(bad: &[f64]) {
        let twins = every_optimizer::<T>(0.05).into_iter().zip(every_optimizer::<T>(0.05));
        for ((kind, optimizer), (_, twin)) in twins {
            let (mut optimizer, mut twin) = (optimizer.unwrap(), twin.unwrap());
            let grads = [T::from_f64(0.5), T::from_f64(-0.25)];
            let (mut p, mut q) = (Two([T::one(); 2], grads), Two([T::one(); 2], grads));
            optimizer.step(&mut p).unwrap();
            twin.step(&mut q).unwrap();
            for &lr in bad {
                refused(optimizer.try_set_lr(lr), "lr", lr);
                assert_eq!(optimizer.lr(), 0.05, "{kind}");
                let panic = catch_unwind(AssertUnwindSafe(|| optimizer.set_lr(lr))).unwrap_err();
                let message = panic.downcast_ref::<String>().unwrap();
                assert!(message.starts_with(&format!("Optimizer::set_lr: lr = {lr} is invalid")), "{message}");
                assert_eq!(optimizer.lr(), 0.05, "{kind}");
            }
            for _ in 0..3 {
                optimizer.step(&mut p).unwrap();
                twin.step(&mut q).unwrap();
            }
            assert_eq!(p.0, q.0, "{kind} {}", T::NAME);
            optimizer.try_set_lr(0.0).unwrap();
            assert_eq!(optimizer.lr(), 0.0);
        }
    }
    check::<f64>(&[f64::NAN, -0.5, -f64::MIN_POSITIVE, f64::INFINITY]);
    check::<f32>(&[f64::NAN, -0.5, f64::INFINITY, 1e39]);
}

fn net() -> DynMlp<f64> {
    DynMlp::from_widths(&[1, 4, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(3)).unwrap()
}

/// A schedule that turns negative at epoch 1 stops `Fit` there with an error
/// naming the epoch and rate; epoch 0 was trained, and the optimizer keeps
/// epoch 0's rate.
#[test]
fn a_schedule_giving_a_bad_rate_stops_fit_naming_the_epoch() {
    let x = Matrix::column(&[-1.0, -0.5, 0.0, 0.5, 1.0]);
    let y = Matrix::column(&[1.0, 0.25, 0.0, 0.25, 1.0]);
    let (mut scheduled, mut plain) = (net(), net());
    let (mut sgd, mut twin) = (Sgd::with_lr(0.1).unwrap(), Sgd::with_lr(0.1).unwrap());
    let flip = Exponential { gamma: -1.0 };
    let mut epochs = 0;
    let error = Fit::new(3, 2)
        .schedule(&flip)
        .run(&mut scheduled, &mut sgd, &HalfMse, &x, &y, |_, _| {
            epochs += 1;
            ControlFlow::Continue(())
        })
        .unwrap_err();
    assert!(matches!(error, Error::ScheduleRate { epoch: 1, lr, .. } if lr == -0.1), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the schedule's learning rate for epoch 1 is -0.1, which the optimizer refuses \
         (expected a finite value >= 0); training stopped before the epoch"
    );
    assert_eq!(epochs, 1);
    assert_eq!(sgd.lr(), 0.1, "the optimizer keeps epoch 0's rate");
    Fit::new(1, 2).run(&mut plain, &mut twin, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(())).unwrap();
    assert_eq!(scheduled.parameters_to_vec(), plain.parameters_to_vec(), "exactly epoch 0 was trained");

    // A NaN gamma: gamma^0 is 1, so epoch 1 is the first bad one.
    let mut other = net();
    let nan = Exponential { gamma: f64::NAN };
    let error = Fit::new(2, 2)
        .schedule(&nan)
        .run(&mut other, &mut Adam::with_lr(0.1).unwrap(), &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()))
        .unwrap_err();
    assert!(matches!(error, Error::ScheduleRate { epoch: 1, lr, .. } if lr.is_nan()), "{error:?}");

    // AdamW refuses a rate whose lr · weight_decay overflows (in f32: epoch 1's
    // lr 1e37 passes the other checks, lr · 100 does not): a schedule's too.
    let mut other =
        DynMlp::<f32>::from_widths(&[1, 4, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(3)).unwrap();
    let (x, y) = (Matrix::column(&[-1.0f32, 0.0, 1.0]), Matrix::column(&[1.0f32, 0.0, 1.0]));
    let mut adamw = Adam::<f32>::new(AdamConfig { lr: 1e-3, weight_decay: 100.0, ..AdamConfig::adamw() }).unwrap();
    let error = Fit::new(2, 2)
        .schedule(&Exponential { gamma: 1e40 })
        .run(&mut other, &mut adamw, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()))
        .unwrap_err();
    assert!(matches!(error, Error::ScheduleRate { epoch: 1, .. }), "{error:?}");
    assert_eq!(adamw.lr(), 1e-3);
}

/// The learning rate a state file restores is checked as `try_set_lr` checks
/// it: an f64 optimizer's 1e39 does not load into an f32 one.
#[test]
fn a_state_files_rate_beyond_f32_is_refused() {
    use tinymlp::OptimizerState;
    use tinymlp::safetensors::{SafeTensors, Writer};
    let info = tinymlp::ParameterInfo::dense([(2, 1)]);
    let mut writer = Writer::new();
    Adam::<f64>::with_lr(1e39).unwrap().write_state(&info, &mut writer).unwrap();
    let bytes = writer.to_bytes();
    let file = SafeTensors::parse(&bytes).unwrap();
    let mut adam = Adam::<f32>::with_lr(0.01).unwrap();
    refused(adam.read_state(&info, &file), "lr", 1e39);
    assert_eq!(adam.lr(), 0.01);
    let mut adam = Adam::<f64>::with_lr(0.01).unwrap();
    adam.read_state(&info, &file).unwrap();
    assert_eq!(adam.lr(), 1e39);
}
