//! Training-step, inference and GEMM timings for the workloads the README
//! compares with PyTorch (`scripts/bench_vs_pytorch.py` runs both sides).
//!
//! ```text
//! cargo bench --bench train_step                 # full measurement (~25 s)
//! cargo bench --bench train_step -- sine gemm    # only ids containing "sine" or "gemm"
//! cargo bench --bench train_step -- --list       # the measurement ids
//! cargo bench --bench train_step -- --no-phases  # skip the per-phase breakdown
//! cargo bench --bench train_step -- --threads 2  # large products on 2 threads (kernels::set_threads)
//! ```
//!
//! One training step is what the PyTorch side does: `zero_grad`, `forward`,
//! `0.5·mean((ŷ - y)²)` and its backward pass (`backward_loss(&HalfMse, ..)`),
//! and the optimizer's update. Each measurement warms up, then times samples of
//! many calls (~15 ms each) with `Instant` and reports the median time per call
//! over the samples (min and max alongside, to show the noise). On Linux a
//! sample during which the thread was off the CPU for more than 5% of the time
//! (another process ran) is dropped when enough clean samples exist.
//!
//! Workloads (ids as printed): `sigmoid_1_4_4_1_f64_b{2,100}_adam` (sigmoid
//! after every layer), `sine_1_32_32_1_f64_b200_adam` and
//! `tanh_1_64_64_1_f32_b256_adam` (tanh hidden, identity output; x evenly
//! spaced on [0, 1], y = sin²(4πx)), `relu_784_256_128_10_f32_b128_sgd` (ReLU
//! hidden, identity output, random inputs and one-hot targets; SGD lr 0.01),
//! Adam lr 0.01 elsewhere; one-sample inference of [16,32,32,4] with tanh after
//! every layer (`predict`, which allocates its result and scratch matrices on
//! every call, `predict_into`, which reuses the caller's output matrix and
//! `PredictScratch`, and `forward` on a 1-row batch, which reuses the training
//! cache); and square `kernels::gemm` products (GFLOP/s).
//!
//! Output: one `RESULT <id> <variant> <value> <unit>` line per measurement
//! (machine-readable; `variant` is `tuple` for a const-generic tuple network,
//! `dyn` for a `DynMlp`, or `-`), `INFO <key> <value>` lines describing the
//! build, and a human-readable table at the end.
//!
//! Cargo passes `--bench` only under `cargo bench`. Without it (for example
//! when `cargo test --all-targets` runs this binary) every measurement runs a
//! couple of calls with tiny sizes and prints `SMOKE` instead of `RESULT`
//! lines, so the test run stays well under a second.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tinymlp::kernels::{Form, gemm};
use tinymlp::{
    Act, Adam, DynMlp, HalfMse, Identity, Init, Layers, Linear, Matrix, Mlp, Optimizer, PredictScratch, Relu, Rng,
    Scalar, Sgd, Sigmoid, Tanh,
};

/// How long and how often to measure.
#[derive(Clone, Copy)]
struct Plan {
    /// `true` under `cargo bench`; `false` for the smoke run.
    full: bool,
    /// Minimum warm-up time (and at least `min_warmup_calls` calls).
    warmup: Duration,
    min_warmup_calls: u32,
    /// Target duration of one sample (a sample is at least one call).
    sample: Duration,
    /// At least this many samples, then more until `budget` is spent, at most `max_samples`.
    min_samples: usize,
    max_samples: usize,
    budget: Duration,
}

impl Plan {
    fn full() -> Self {
        Self {
            full: true,
            warmup: Duration::from_millis(150),
            min_warmup_calls: 3,
            sample: Duration::from_millis(15),
            min_samples: 7,
            max_samples: 41,
            budget: Duration::from_millis(500),
        }
    }

    fn smoke() -> Self {
        Self {
            full: false,
            warmup: Duration::ZERO,
            min_warmup_calls: 1,
            sample: Duration::ZERO,
            min_samples: 2,
            max_samples: 2,
            budget: Duration::ZERO,
        }
    }

    /// A shorter plan for the per-phase breakdown.
    fn brief(self) -> Self {
        Self { budget: self.budget / 2, min_samples: self.min_samples.min(5), ..self }
    }
}

/// Seconds per call: median, min and max over the kept samples.
#[derive(Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
    /// Samples kept and taken.
    kept: usize,
    taken: usize,
    calls_per_sample: u64,
}

/// A sample is kept only if this thread was on a CPU for at least this share
/// of its wall-clock time (where the kernel tells us: Linux's schedstat).
const MIN_ON_CPU: f64 = 0.95;

/// Nanoseconds this thread has spent running, from `/proc/thread-self/schedstat`
/// (Linux; `None` elsewhere). Reading it costs a few microseconds, outside the
/// timed interval.
fn thread_on_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Times `call` according to `plan`. Samples during which the thread was
/// descheduled for more than 5% of the time (another process took the CPU)
/// are dropped when enough clean ones exist; the machine this was written on
/// has two vCPUs shared with compilers.
fn measure(plan: Plan, mut call: impl FnMut()) -> Stats {
    let start = Instant::now();
    let mut warm_calls = 0u32;
    while warm_calls < plan.min_warmup_calls || start.elapsed() < plan.warmup {
        call();
        warm_calls += 1;
    }
    let per_call = start.elapsed().as_secs_f64() / f64::from(warm_calls);
    let calls = if per_call > 0.0 { (plan.sample.as_secs_f64() / per_call).ceil().max(1.0) as u64 } else { 1 };
    // (seconds per call, share of the sample spent on a CPU)
    let mut samples: Vec<(f64, f64)> = Vec::with_capacity(plan.max_samples);
    let clean = |samples: &[(f64, f64)]| samples.iter().filter(|s| s.1 >= MIN_ON_CPU).count();
    let started = Instant::now();
    while samples.len() < plan.max_samples
        && (clean(&samples) < plan.min_samples || started.elapsed() < plan.budget)
        && (samples.len() < plan.min_samples || started.elapsed() < 4 * plan.budget)
    {
        let cpu_before = thread_on_cpu_ns();
        let t = Instant::now();
        for _ in 0..calls {
            call();
        }
        let wall = t.elapsed();
        // With more threads the calling one waits for the others: keep every sample.
        let on_cpu = match (cpu_before, thread_on_cpu_ns()) {
            _ if tinymlp::kernels::threads() > 1 => 1.0,
            (Some(a), Some(b)) if !wall.is_zero() => (b.saturating_sub(a)) as f64 / wall.as_nanos() as f64,
            _ => 1.0,
        };
        samples.push((wall.as_secs_f64() / calls as f64, on_cpu));
    }
    let taken = samples.len();
    let mut kept: Vec<f64> = samples.iter().filter(|s| s.1 >= MIN_ON_CPU).map(|s| s.0).collect();
    if kept.len() < plan.min_samples.min(3) {
        // Too few clean samples: use them all rather than report nothing.
        kept = samples.iter().map(|s| s.0).collect();
    }
    kept.sort_by(f64::total_cmp);
    let n = kept.len();
    let median = if n % 2 == 1 { kept[n / 2] } else { 0.5 * (kept[n / 2 - 1] + kept[n / 2]) };
    Stats { median, min: kept[0], max: kept[n - 1], kept: n, taken, calls_per_sample: calls }
}

/// One printed measurement.
struct Row {
    id: String,
    variant: &'static str,
    value: f64,
    unit: &'static str,
    note: String,
}

/// Collects rows, prints each as it is measured, and the table at the end.
struct Report {
    plan: Plan,
    filters: Vec<String>,
    list_only: bool,
    /// Whether to time each phase of a step separately as well.
    phases: bool,
    rows: Vec<Row>,
}

impl Report {
    /// Whether measurement `id` is selected by the command line's filters.
    fn wants(&self, id: &str) -> bool {
        if self.list_only {
            println!("{id}");
            return false;
        }
        self.filters.is_empty() || self.filters.iter().any(|f| id.contains(f.as_str()))
    }

    /// Records a time per call in microseconds.
    fn time(&mut self, id: &str, variant: &'static str, unit: &'static str, stats: Stats) {
        let note = format!(
            "min {:.3} max {:.3} ({}/{} samples x {} calls)",
            stats.min * 1e6,
            stats.max * 1e6,
            stats.kept,
            stats.taken,
            stats.calls_per_sample
        );
        self.push(Row { id: id.to_owned(), variant, value: stats.median * 1e6, unit, note });
    }

    /// Records a GEMM rate from the time of one product of `flops` operations.
    fn rate(&mut self, id: &str, n: usize, stats: Stats) {
        let flops = 2.0 * (n as f64).powi(3);
        let note = format!(
            "n={n}: {:.3} ms/product, best {:.1} GFLOP/s ({}/{} samples x {} calls)",
            stats.median * 1e3,
            flops / stats.min / 1e9,
            stats.kept,
            stats.taken,
            stats.calls_per_sample
        );
        self.push(Row { id: id.to_owned(), variant: "-", value: flops / stats.median / 1e9, unit: "GFLOP/s", note });
    }

    fn push(&mut self, row: Row) {
        let tag = if self.plan.full { "RESULT" } else { "SMOKE" };
        println!("{tag} {} {} {:.4} {}", row.id, row.variant, row.value, row.unit);
        self.rows.push(row);
    }

    fn table(&self) {
        if self.rows.is_empty() {
            return;
        }
        let width = self.rows.iter().map(|r| r.id.len()).max().unwrap_or(0).max(11);
        println!();
        println!("{:<width$}  {:<7}  {:>12}  {:<8}  spread", "measurement", "variant", "median", "unit");
        println!("{}", "-".repeat(width + 2 + 7 + 2 + 12 + 2 + 8 + 2 + 40));
        for r in &self.rows {
            println!("{:<width$}  {:<7}  {:>12.3}  {:<8}  {}", r.id, r.variant, r.value, r.unit, r.note);
        }
    }
}

/// One full training step, as the PyTorch side does it.
fn train_step<T: Scalar, L: Layers<T>, O: Optimizer<T>>(
    net: &mut Mlp<T, L>,
    opt: &mut O,
    x: &Matrix<T>,
    y: &Matrix<T>,
) -> T {
    net.zero_grad();
    net.forward(x);
    let loss = net.try_backward_loss(&HalfMse, y).expect("backward_loss");
    opt.step(net).expect("optimizer step");
    loss
}

/// `batch` points evenly spaced on [0, 1] and the sine task's target sin²(4πx).
fn sine_data<T: Scalar>(batch: usize) -> (Matrix<T>, Matrix<T>) {
    let xs: Vec<f64> = (0..batch).map(|i| i as f64 / (batch.max(2) - 1) as f64).collect();
    let x = Matrix::from_fn(batch, 1, |i, _| T::from_f64(xs[i]));
    let y = Matrix::from_fn(batch, 1, |i, _| T::from_f64((4.0 * std::f64::consts::PI * xs[i]).sin().powi(2)));
    (x, y)
}

/// Uniform random inputs in [0, 1) and one-hot targets (an MNIST-shaped batch).
fn classification_data<T: Scalar>(
    batch: usize,
    inputs: usize,
    classes: usize,
    rng: &mut Rng,
) -> (Matrix<T>, Matrix<T>) {
    let x = Matrix::from_fn(batch, inputs, |_, _| T::from_f64(rng.next_f64()));
    let labels: Vec<usize> = (0..batch).map(|_| rng.below(classes as u64) as usize).collect();
    let y = Matrix::from_fn(batch, classes, |i, j| if labels[i] == j { T::one() } else { T::zero() });
    (x, y)
}

/// Times full training steps of `net` and records them as `id`/`variant`.
fn time_training<T: Scalar, L: Layers<T>, O: Optimizer<T>>(
    report: &mut Report,
    id: &str,
    variant: &'static str,
    mut net: Mlp<T, L>,
    mut opt: O,
    x: &Matrix<T>,
    y: &Matrix<T>,
) {
    let stats = measure(report.plan, || {
        black_box(train_step(&mut net, &mut opt, black_box(x), y));
    });
    let loss = train_step(&mut net, &mut opt, x, y);
    assert!(loss.is_finite(), "{id} {variant}: loss is {loss} after training");
    report.time(id, variant, "us/step", stats);
}

/// Times the phases of a step separately (`<id>.zero_grad`, `.forward`,
/// `.backward` (the loss and back-propagation), `.optimizer`), to show where
/// the time goes. The phases are timed in isolation, so they need not add up
/// exactly to the step.
fn time_phases<T: Scalar, L: Layers<T>, O: Optimizer<T>>(
    report: &mut Report,
    id: &str,
    mut net: Mlp<T, L>,
    mut opt: O,
    x: &Matrix<T>,
    y: &Matrix<T>,
) {
    if !report.phases {
        return;
    }
    let plan = report.plan.brief();
    let stats = measure(plan, || net.zero_grad());
    report.time(&format!("{id}.zero_grad"), "dyn", "us", stats);
    let stats = measure(plan, || {
        black_box(net.forward(black_box(x)));
    });
    report.time(&format!("{id}.forward"), "dyn", "us", stats);
    // backward_loss adds into the gradient buffers; zeroing first keeps the
    // path the training step takes (the first backward writes, not adds).
    let zero = measure(plan, || net.zero_grad()).median;
    let mut stats = measure(plan, || {
        net.zero_grad();
        black_box(net.try_backward_loss(&HalfMse, y).expect("backward_loss"));
    });
    for t in [&mut stats.median, &mut stats.min, &mut stats.max] {
        *t = (*t - zero).max(0.0);
    }
    report.time(&format!("{id}.backward"), "dyn", "us", stats);
    let stats = measure(plan, || opt.step(&mut net).expect("optimizer step"));
    report.time(&format!("{id}.optimizer"), "dyn", "us", stats);
}

/// Everything about one training workload except the network's construction.
struct Workload {
    id: &'static str,
    batch: usize,
}

fn sigmoid_441(report: &mut Report, w: &Workload) {
    if !report.wants(w.id) {
        return;
    }
    let (x, y) = sine_data::<f64>(w.batch);
    let adam = || Adam::<f64>::with_lr(0.01).expect("adam");
    let mut rng = Rng::new(1);
    let tuple = Mlp::new((
        Linear::<f64, 1, 4, Sigmoid>::new(&mut rng),
        Linear::<f64, 4, 4, Sigmoid>::new(&mut rng),
        Linear::<f64, 4, 1, Sigmoid>::new(&mut rng),
    ));
    time_training(report, w.id, "tuple", tuple, adam(), &x, &y);
    let dyn_net = || {
        DynMlp::<f64>::from_widths(&[1, 4, 4, 1], Act::Sigmoid, Act::Sigmoid, Init::TorchDefault, &mut Rng::new(1))
            .expect("widths")
    };
    time_training(report, w.id, "dyn", dyn_net(), adam(), &x, &y);
    time_phases(report, w.id, dyn_net(), adam(), &x, &y);
}

fn sine(report: &mut Report, w: &Workload) {
    if !report.wants(w.id) {
        return;
    }
    let (x, y) = sine_data::<f64>(w.batch);
    let adam = || Adam::<f64>::with_lr(0.01).expect("adam");
    let mut rng = Rng::new(2);
    let tuple = Mlp::new((
        Linear::<f64, 1, 32, Tanh>::new(&mut rng),
        Linear::<f64, 32, 32, Tanh>::new(&mut rng),
        Linear::<f64, 32, 1, Identity>::new(&mut rng),
    ));
    time_training(report, w.id, "tuple", tuple, adam(), &x, &y);
    let dyn_net = || {
        DynMlp::<f64>::from_widths(&[1, 32, 32, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(2))
            .expect("widths")
    };
    time_training(report, w.id, "dyn", dyn_net(), adam(), &x, &y);
    time_phases(report, w.id, dyn_net(), adam(), &x, &y);
}

fn tanh_64(report: &mut Report, w: &Workload) {
    if !report.wants(w.id) {
        return;
    }
    let (x, y) = sine_data::<f32>(w.batch);
    let adam = || Adam::<f32>::with_lr(0.01).expect("adam");
    let mut rng = Rng::new(3);
    let tuple = Mlp::new((
        Linear::<f32, 1, 64, Tanh>::new(&mut rng),
        Linear::<f32, 64, 64, Tanh>::new(&mut rng),
        Linear::<f32, 64, 1, Identity>::new(&mut rng),
    ));
    time_training(report, w.id, "tuple", tuple, adam(), &x, &y);
    let dyn_net = || {
        DynMlp::<f32>::from_widths(&[1, 64, 64, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(3))
            .expect("widths")
    };
    time_training(report, w.id, "dyn", dyn_net(), adam(), &x, &y);
    time_phases(report, w.id, dyn_net(), adam(), &x, &y);
}

fn mnist(report: &mut Report, w: &Workload) {
    if !report.wants(w.id) {
        return;
    }
    let mut rng = Rng::new(4);
    let (x, y) = classification_data::<f32>(w.batch, 784, 10, &mut rng);
    let sgd = || Sgd::<f32>::with_lr(0.01).expect("sgd");
    let tuple = Mlp::new((
        Linear::<f32, 784, 256, Relu>::new(&mut rng),
        Linear::<f32, 256, 128, Relu>::new(&mut rng),
        Linear::<f32, 128, 10, Identity>::new(&mut rng),
    ));
    time_training(report, w.id, "tuple", tuple, sgd(), &x, &y);
    let dyn_net = || {
        DynMlp::<f32>::from_widths(&[784, 256, 128, 10], Act::Relu, Act::Identity, Init::TorchDefault, &mut Rng::new(4))
            .expect("widths")
    };
    time_training(report, w.id, "dyn", dyn_net(), sgd(), &x, &y);
    time_phases(report, w.id, dyn_net(), sgd(), &x, &y);
}

/// One-sample inference of [16,32,32,4] with tanh after every layer, f32.
fn inference(report: &mut Report) {
    const ID_PREDICT: &str = "infer_16_32_32_4.predict";
    const ID_INTO: &str = "infer_16_32_32_4.predict_into";
    const ID_FORWARD: &str = "infer_16_32_32_4.forward";
    let (want_predict, want_into, want_forward) =
        (report.wants(ID_PREDICT), report.wants(ID_INTO), report.wants(ID_FORWARD));
    if !want_predict && !want_into && !want_forward {
        return;
    }
    let x = Matrix::from_fn(1, 16, |_, j| (j as f32 * 0.37).sin());
    let mut rng = Rng::new(5);
    let mut tuple = Mlp::new((
        Linear::<f32, 16, 32, Tanh>::new(&mut rng),
        Linear::<f32, 32, 32, Tanh>::new(&mut rng),
        Linear::<f32, 32, 4, Tanh>::new(&mut rng),
    ));
    let mut dyn_net =
        DynMlp::<f32>::from_widths(&[16, 32, 32, 4], Act::Tanh, Act::Tanh, Init::TorchDefault, &mut Rng::new(5))
            .expect("widths");
    let plan = report.plan;
    if want_predict {
        // `predict` leaves the training cache alone but allocates its result
        // (and scratch matrices) on every call.
        let stats = measure(plan, || {
            black_box(tuple.try_predict(black_box(&x)).expect("predict"));
        });
        report.time(ID_PREDICT, "tuple", "us", stats);
        let stats = measure(plan, || {
            black_box(dyn_net.try_predict(black_box(&x)).expect("predict"));
        });
        report.time(ID_PREDICT, "dyn", "us", stats);
    }
    if want_into {
        // `predict_into` reuses the caller's buffers: no allocation after the first call.
        let (mut out, mut scratch) = (Matrix::zeros(1, 4), PredictScratch::new());
        let stats = measure(plan, || {
            tuple.predict_into(black_box(&x), &mut out, &mut scratch);
            black_box(&mut out);
        });
        report.time(ID_INTO, "tuple", "us", stats);
        let stats = measure(plan, || {
            dyn_net.predict_into(black_box(&x), &mut out, &mut scratch);
            black_box(&mut out);
        });
        report.time(ID_INTO, "dyn", "us", stats);
    }
    if want_forward {
        // `forward` reuses the training cache: no allocation after the first call.
        let stats = measure(plan, || {
            black_box(tuple.forward(black_box(&x)));
        });
        report.time(ID_FORWARD, "tuple", "us", stats);
        let stats = measure(plan, || {
            black_box(dyn_net.forward(black_box(&x)));
        });
        report.time(ID_FORWARD, "dyn", "us", stats);
    }
}

/// GFLOP/s of square products `C = op(A)·op(B)` of size `n`.
fn gemm_rate<T: Scalar>(report: &mut Report, form: Form, n: usize) {
    let form_name = match form {
        Form::AB => "ab",
        Form::AtB => "atb",
        Form::ABt => "abt",
    };
    let id = format!("gemm_{form_name}_{}_{n}", T::NAME);
    if !report.wants(&id) {
        return;
    }
    let n = if report.plan.full { n } else { n.min(48) };
    let mut rng = Rng::new(n as u64);
    let a: Vec<T> = (0..n * n).map(|_| T::from_f64(rng.uniform(-1.0, 1.0))).collect();
    let b: Vec<T> = (0..n * n).map(|_| T::from_f64(rng.uniform(-1.0, 1.0))).collect();
    let mut c = vec![T::zero(); n * n];
    let stats = measure(report.plan, || {
        gemm(form, n, n, n, black_box(&a), black_box(&b), &mut c, false);
        black_box(&mut c);
    });
    report.rate(&id, n, stats);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    let list_only = args.iter().any(|a| a == "--list");
    let phases = !args.iter().any(|a| a == "--no-phases");
    // `--threads N`: let large products use N threads (`kernels::set_threads`).
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse::<usize>().unwrap_or_else(|_| panic!("--threads takes a number, not {n:?}")));
    if let Some(threads) = threads {
        tinymlp::kernels::set_threads(threads);
    }
    let filters = args
        .iter()
        .enumerate()
        .filter(|&(i, a)| !a.starts_with('-') && (i == 0 || args[i - 1] != "--threads"))
        .map(|(_, a)| a.clone())
        .collect();
    let plan = if full { Plan::full() } else { Plan::smoke() };
    let mut report = Report { plan, filters, list_only, phases, rows: Vec::new() };

    if !list_only {
        let features: Vec<&str> = [
            ("sse2", cfg!(target_feature = "sse2")),
            ("avx", cfg!(target_feature = "avx")),
            ("avx2", cfg!(target_feature = "avx2")),
            ("fma", cfg!(target_feature = "fma")),
            ("avx512f", cfg!(target_feature = "avx512f")),
            ("neon", cfg!(target_feature = "neon")),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        println!("INFO mode {}", if full { "full" } else { "smoke" });
        let features = if features.is_empty() { "none".to_owned() } else { features.join(",") };
        println!("INFO target_features {features}");
        println!("INFO debug_assertions {}", cfg!(debug_assertions));
        println!("INFO arch {}", std::env::consts::ARCH);
        println!("INFO threads {}", tinymlp::kernels::threads());
    }

    let started = Instant::now();
    // In the smoke run the batches are small and MNIST's is cut to 4 rows: an
    // unoptimised 784x256 step costs tens of milliseconds.
    let batch = |n: usize, smoke: usize| if full { n } else { smoke };
    sigmoid_441(&mut report, &Workload { id: "sigmoid_1_4_4_1_f64_b2_adam", batch: 2 });
    sigmoid_441(&mut report, &Workload { id: "sigmoid_1_4_4_1_f64_b100_adam", batch: batch(100, 8) });
    sine(&mut report, &Workload { id: "sine_1_32_32_1_f64_b200_adam", batch: batch(200, 8) });
    tanh_64(&mut report, &Workload { id: "tanh_1_64_64_1_f32_b256_adam", batch: batch(256, 8) });
    mnist(&mut report, &Workload { id: "relu_784_256_128_10_f32_b128_sgd", batch: batch(128, 4) });
    inference(&mut report);
    for n in [512, 1024] {
        gemm_rate::<f32>(&mut report, Form::AB, n);
        gemm_rate::<f64>(&mut report, Form::AB, n);
    }
    // The two other forms a training step uses (forward: A·Bᵀ, weight gradient: Aᵀ·B).
    gemm_rate::<f32>(&mut report, Form::ABt, 512);
    gemm_rate::<f32>(&mut report, Form::AtB, 512);

    if !list_only {
        report.table();
        println!("\ntotal {:.1} s ({} mode)", started.elapsed().as_secs_f64(), if full { "full" } else { "smoke" });
    }
}
