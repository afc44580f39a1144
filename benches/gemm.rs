//! GFLOP/s of `kernels::gemm`: square products of 256, 512 and 1024 in f32 and
//! f64 for every form, with and without accumulation, and the shapes training
//! of small networks uses.
//!
//! `cargo bench --bench gemm` measures (median of 7 samples of ~20 ms each);
//! without `--bench` (as `cargo test --all-targets` runs it) every case runs
//! once, as a smoke test. The `simple` column is the plain-loop path (the
//! loops `gemm` used before the packed paths), for the non-square shapes.
//! Options after `--`:
//! - `--paths`: also time every path this CPU has, not only the one `gemm` picks.
//! - `--filter TEXT`: only the cases whose label contains TEXT (e.g. `1024`).
//! - `--torch PYTHON`: time `torch.matmul` (one thread; `addmm_` when
//!   accumulating) on the same shapes with that Python interpreter, sample for
//!   sample alternating with ours so that both see the same machine load, and
//!   print the ratio. Without it the 1024³ rows are compared with the
//!   single-thread figures in the project's guide (187 GFLOP/s f32, 93 GFLOP/s
//!   f64).

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use tinymlp::Scalar;
use tinymlp::kernels::{Form, Path, available_paths, gemm, gemm_with, path_for};

/// torch.matmul single thread at 1024³ on the development machine (the guide).
const GUIDE_TORCH_GFLOPS: [(&str, f64); 2] = [("f32", 187.0), ("f64", 93.0)];

struct Options {
    measure: bool,
    paths: bool,
    torch: Option<String>,
    filter: Option<String>,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1).cloned());
    Options {
        measure: args.iter().any(|a| a == "--bench"),
        paths: args.iter().any(|a| a == "--paths"),
        torch: value("--torch"),
        filter: value("--filter"),
    }
}

#[derive(Clone, Copy)]
struct Case {
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    accumulate: bool,
}

impl Case {
    fn flops(&self) -> f64 {
        2.0 * (self.m * self.n * self.k) as f64
    }
    fn is_square(&self) -> bool {
        self.m == self.n && self.n == self.k
    }
    fn label(&self) -> String {
        let acc = if self.accumulate { "+=" } else { "=" };
        format!("{:<3} {:>4}x{:<4}x{:<4} {acc}", format!("{:?}", self.form), self.m, self.n, self.k)
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for size in [256, 512, 1024] {
        for form in [Form::AB, Form::AtB, Form::ABt] {
            for accumulate in [false, true] {
                cases.push(Case { form, m: size, n: size, k: size, accumulate });
            }
        }
    }
    // Training shapes: [1,32,32,1] at batch 200 (forward, weight gradient,
    // input gradient), a batch of 2 through a [1,4,..] layer, and the first
    // layer of a 784-256-128-10 network at batch 128.
    let training = [
        (Form::ABt, 200, 32, 32),
        (Form::AtB, 32, 32, 200),
        (Form::AB, 200, 32, 32),
        (Form::ABt, 2, 4, 1),
        (Form::AtB, 4, 1, 2),
        (Form::ABt, 128, 256, 784),
        (Form::AtB, 256, 784, 128),
        (Form::AB, 128, 784, 256),
        (Form::ABt, 128, 10, 128),
        (Form::ABt, 256, 64, 1),
        (Form::ABt, 256, 64, 64),
    ];
    for (form, m, n, k) in training {
        cases.push(Case { form, m, n, k, accumulate: false });
    }
    cases
}

fn filled<T: Scalar>(len: usize, seed: u64) -> Vec<T> {
    let mut rng = tinymlp::Rng::new(seed);
    (0..len).map(|_| T::from_f64(rng.uniform(-1.0, 1.0))).collect()
}

/// Rounds of paired samples (ours, then torch's) per case when measuring.
const SAMPLES: usize = 7;
/// Target duration of one sample.
const SAMPLE_SECONDS: f64 = 0.02;

/// Calls per sample: doubled until a batch takes a quarter of a sample, then
/// scaled. `per_call(calls)` returns seconds per call.
fn calibrate(mut per_call: impl FnMut(usize) -> f64) -> usize {
    let mut calls = 1;
    loop {
        let seconds = per_call(calls) * calls as f64;
        if seconds >= SAMPLE_SECONDS / 4.0 || calls >= 1 << 20 {
            return ((calls as f64 * SAMPLE_SECONDS / seconds.max(1e-9)) as usize).clamp(1, 1 << 22);
        }
        calls *= 2;
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// GFLOP/s of `gemm` (or `gemm_with(path)`) and, if given, of torch on the same
/// case: medians over paired samples, so that both see the same machine load.
fn gflops<T: Scalar>(measure: bool, case: Case, path: Option<Path>, mut torch: Option<&mut Torch>) -> (f64, f64) {
    let ((ar, ac), (br, bc)) = case.form.operand_shapes(case.m, case.n, case.k);
    let a = filled::<T>(ar * ac, 1);
    let b = filled::<T>(br * bc, 2);
    let mut c = filled::<T>(case.m * case.n, 3);
    let Case { form, m, n, k, accumulate } = case;
    // Accumulating into the same C keeps the values bounded enough here.
    let mut run = |calls: usize| {
        let start = Instant::now();
        for _ in 0..calls {
            match path {
                None => gemm(form, m, n, k, black_box(&a), black_box(&b), black_box(&mut c), accumulate),
                Some(path) => {
                    gemm_with(path, form, m, n, k, black_box(&a), black_box(&b), black_box(&mut c), accumulate)
                }
            }
        }
        start.elapsed().as_secs_f64() / calls as f64
    };
    let once = run(1);
    let torch_once = torch.as_deref_mut().and_then(|t| t.time(case, 1)).unwrap_or(f64::NAN);
    if !measure {
        return (case.flops() / once / 1e9, case.flops() / torch_once / 1e9);
    }
    let calls = calibrate(&mut run);
    let torch_calls = match torch.as_deref_mut() {
        Some(t) => calibrate(|calls| t.time(case, calls).unwrap_or(f64::NAN)),
        None => 0,
    };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        ours.push(run(calls));
        if let Some(t) = torch.as_deref_mut() {
            theirs.push(t.time(case, torch_calls).unwrap_or(f64::NAN));
        }
    }
    let torch_rate = if theirs.is_empty() { f64::NAN } else { case.flops() / median(theirs) / 1e9 };
    (case.flops() / median(ours) / 1e9, torch_rate)
}

/// A Python process that times `torch.matmul` (one thread) on request: one
/// line `form m n k accumulate calls` in, seconds per call out.
struct Torch {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

const TORCH_SERVER: &str = r#"
import sys, time, torch
torch.set_num_threads(1)
dtype = getattr(torch, sys.argv[1])
cache = {}
for line in sys.stdin:
    form, m, n, k, acc, calls = line.split()
    m, n, k, acc, calls = int(m), int(n), int(k), acc == "1", int(calls)
    key = (form, m, n, k, acc)
    if key not in cache:
        a = torch.rand(*((k, m) if form == "AtB" else (m, k)), dtype=dtype) * 2 - 1
        b = torch.rand(*((n, k) if form == "ABt" else (k, n)), dtype=dtype) * 2 - 1
        c = torch.rand(m, n, dtype=dtype)
        op_a = a.t() if form == "AtB" else a
        op_b = b.t() if form == "ABt" else b
        cache[key] = (lambda: c.addmm_(op_a, op_b)) if acc else (lambda: torch.matmul(op_a, op_b, out=c))
        cache[key]()
    run = cache[key]
    start = time.perf_counter()
    for _ in range(calls):
        run()
    print((time.perf_counter() - start) / calls, flush=True)
"#;

impl Torch {
    fn start(python: &str, dtype: &str) -> Option<Torch> {
        let mut child = Command::new(python)
            .args(["-c", TORCH_SERVER, dtype])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| eprintln!("cannot start {python}: {e}"))
            .ok()?;
        let input = child.stdin.take()?;
        let output = BufReader::new(child.stdout.take()?);
        Some(Torch { child, input, output })
    }

    /// Seconds per call over `calls` calls.
    fn time(&mut self, case: Case, calls: usize) -> Option<f64> {
        let form = format!("{:?}", case.form);
        writeln!(self.input, "{form} {} {} {} {} {calls}", case.m, case.n, case.k, u8::from(case.accumulate)).ok()?;
        let mut line = String::new();
        self.output.read_line(&mut line).ok()?;
        line.trim().parse().ok()
    }
}

impl Drop for Torch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn table<T: Scalar>(options: &Options) {
    let cases: Vec<Case> =
        cases().into_iter().filter(|c| options.filter.as_deref().is_none_or(|f| c.label().contains(f))).collect();
    let paths: Vec<Path> = if options.paths { available_paths().collect() } else { Vec::new() };
    let dtype = if T::NAME == "f32" { "float32" } else { "float64" };
    let mut torch = options.torch.as_deref().and_then(|python| Torch::start(python, dtype));
    let guide = GUIDE_TORCH_GFLOPS.iter().find(|(name, _)| *name == T::NAME).map_or(f64::NAN, |&(_, g)| g);

    print!("\n{} {:<24} {:>8} {:>8} {:>8}", T::NAME, "case", "path", "GFLOP/s", "simple");
    for path in &paths {
        print!(" {:>9}", path.to_string());
    }
    if torch.is_some() {
        println!(" {:>8} {:>7}", "torch", "ratio");
    } else {
        println!(" {:>11}", "vs guide");
    }
    for case in cases {
        let (rate, torch_rate) = gflops::<T>(options.measure, case, None, torch.as_mut());
        print!(
            "{:<28} {:>8} {:>8.1}",
            case.label(),
            path_for::<T>(case.form, case.m, case.n, case.k).to_string(),
            rate
        );
        if case.is_square() {
            print!(" {:>8}", "");
        } else {
            print!(" {:>8.1}", gflops::<T>(options.measure, case, Some(Path::Simple), None).0);
        }
        for &path in &paths {
            print!(" {:>9.1}", gflops::<T>(options.measure, case, Some(path), None).0);
        }
        if torch.is_some() {
            println!(" {:>8.1} {:>6.0}%", torch_rate, 100.0 * rate / torch_rate);
        } else if case.is_square() && case.m == 1024 {
            println!(" {:>10.0}%", 100.0 * rate / guide);
        } else {
            println!();
        }
    }
}

fn main() {
    let options = options();
    if !options.measure {
        println!("gemm bench: smoke run (one call per case); `cargo bench --bench gemm` measures");
    }
    table::<f32>(&options);
    table::<f64>(&options);
}
