//! Learns y = sin²(4πx) on 200 evenly spaced points of [0, 1] with a run-time
//! shaped network, full-batch Adam and the loss 0.5·mean((ŷ − y)²), then draws
//! the target, the training points and the fit into an SVG file.
//!
//! ```text
//! cargo run --release --example sine
//! cargo run --release --example sine -- --activation sigmoid --hidden 16,16 --svg sigmoid.svg
//! ```

use std::error::Error;
use std::f64::consts::PI;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tinymlp::{Act, Adam, DynMlp, HalfMse, Init, Matrix, Optimizer, Rng};

// Only the helpers this plot needs; the panel type serves `examples/exercise`.
#[allow(dead_code)]
#[path = "common/svg.rs"]
mod svg;

use svg::{FONT, path_data, tick_step};

const USAGE: &str = "\
Fit y = sin²(4πx) on 200 points of [0, 1] with full-batch Adam and 0.5·MSE.

Usage: cargo run --release --example sine -- [OPTIONS]

Options:
  --hidden W1,W2,...  hidden layer widths                     [default: 32,32]
  --activation NAME   hidden activation: identity sigmoid tanh relu leaky_relu
                      elu silu softplus gelu                  [default: tanh]
  --steps N           maximum number of Adam steps            [default: 5000]
  --lr F              Adam learning rate (> 0)                [default: 0.01]
  --seed N            seed for the initial weights            [default: 0]
  --target F          stop once 0.5·MSE < F                   [default: 1e-4]
  --no-early-stop     keep training to --steps after reaching --target
  --every N           print the loss every N steps            [default: 250]
  --svg PATH          where to write the plot                 [default: sine.svg]
  -h, --help          print this help and exit
";

/// Number of training points, evenly spaced on [0, 1].
const TRAIN_POINTS: usize = 200;
/// Number of points at which the target and the fit are drawn.
const PLOT_POINTS: usize = 1000;
/// The largest network `--hidden` may ask for, so that huge widths fail cleanly.
const MAX_PARAMETERS: usize = 10_000_000;

/// Everything the command line can set.
struct Config {
    hidden: Vec<usize>,
    activation: Act,
    steps: usize,
    lr: f64,
    seed: u64,
    target: f64,
    early_stop: bool,
    every: usize,
    svg: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hidden: vec![32, 32],
            activation: Act::Tanh,
            steps: 5000,
            lr: 0.01,
            seed: 0,
            target: 1e-4,
            early_stop: true,
            every: 250,
            svg: "sine.svg".into(),
        }
    }
}

/// What a training run produced.
struct Outcome {
    /// 0.5·MSE on the training points after the last step.
    final_loss: f64,
    /// Adam steps taken.
    steps: usize,
    /// The first step count after which the loss was below the target.
    reached: Option<usize>,
    /// Wall time of the training loop.
    elapsed: Duration,
}

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("sine: {message} (see --help)");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sine: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Parses the command line; `Ok(None)` means `--help` was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Config>, String> {
    let mut config = Config::default();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--no-early-stop" => config.early_stop = false,
            "--hidden" => config.hidden = parse_widths(&value()?)?,
            "--activation" => {
                let name = value()?;
                let names: Vec<&str> = Act::ALL.iter().map(Act::name).collect();
                config.activation = name.parse().map_err(|_| {
                    format!("--activation: unknown activation `{name}` (expected one of: {})", names.join(", "))
                })?;
            }
            "--steps" => config.steps = parse_number(&flag, &value()?)?,
            "--lr" => config.lr = parse_positive(&flag, &value()?)?,
            "--seed" => config.seed = parse_number(&flag, &value()?)?,
            "--target" => config.target = parse_positive(&flag, &value()?)?,
            "--every" => {
                config.every = parse_number(&flag, &value()?)?;
                if config.every == 0 {
                    return Err("--every must be at least 1".into());
                }
            }
            "--svg" => config.svg = value()?,
            _ if flag.starts_with('-') => return Err(format!("unknown flag `{flag}`")),
            _ => return Err(format!("unexpected argument `{flag}`")),
        }
    }
    Ok(Some(config))
}

/// Parses comma-separated hidden widths such as `32,32`; each must be at least 1
/// and the whole network at most [`MAX_PARAMETERS`] weights and biases.
fn parse_widths(text: &str) -> Result<Vec<usize>, String> {
    let widths = text
        .split(',')
        .map(|part| part.trim().parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("--hidden: `{text}` is not a comma-separated list of widths like 32,32"))?;
    if widths.contains(&0) {
        return Err(format!("--hidden: every width must be at least 1, got `{text}`"));
    }
    let count = network_widths(&widths)
        .windows(2)
        .try_fold(0usize, |sum, w| w[0].checked_mul(w[1])?.checked_add(w[1])?.checked_add(sum));
    if count.is_none_or(|count| count > MAX_PARAMETERS) {
        return Err(format!("--hidden: `{text}` makes more than {MAX_PARAMETERS} parameters, too many here"));
    }
    Ok(widths)
}

/// Parses a non-negative whole number given to `flag`.
fn parse_number<N: std::str::FromStr>(flag: &str, text: &str) -> Result<N, String> {
    text.parse().map_err(|_| format!("{flag}: `{text}` is not a non-negative whole number"))
}

/// Parses a finite number greater than zero given to `flag`.
fn parse_positive(flag: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        Ok(_) => Err(format!("{flag} must be a finite number greater than 0, got `{text}`")),
        Err(_) => Err(format!("{flag}: `{text}` is not a number")),
    }
}

/// The widths of the whole network: one input, the `hidden` widths, one output.
fn network_widths(hidden: &[usize]) -> Vec<usize> {
    [&[1], hidden, &[1]].concat()
}

/// The exercise's target function.
fn target_fn(x: f64) -> f64 {
    (4.0 * PI * x).sin().powi(2)
}

/// `n` evenly spaced points of [0, 1], both ends included, as an `n x 1` column.
fn linspace(n: usize) -> Matrix<f64> {
    Matrix::from_fn(n, 1, |i, _| i as f64 / (n - 1) as f64)
}

/// Builds the network, trains it, prints a summary and writes the plot.
fn run(config: &Config) -> Result<(), Box<dyn Error>> {
    let &Config { activation, steps, lr, seed, target, .. } = config;
    let widths = network_widths(&config.hidden);
    let mut net =
        DynMlp::<f64>::from_widths(&widths, activation, Act::Identity, Init::TorchDefault, &mut Rng::new(seed))?;
    let shape = widths.iter().map(ToString::to_string).collect::<Vec<_>>().join("-");
    let params = net.parameter_count();
    println!("network {shape} ({activation} hidden, identity output, {params} parameters), seed {seed}");
    let stop = if config.early_stop { "" } else { " (no early stop)" };
    println!(
        "Adam lr {lr}, full batch of {TRAIN_POINTS} points, up to {steps} steps, stop at 0.5·MSE < {target:e}{stop}"
    );

    let outcome = train(&mut net, config)?;
    let micros = outcome.elapsed.as_secs_f64() * 1e6;
    let reached = outcome.reached.map_or_else(|| "not reached".to_owned(), |step| format!("after {step} steps"));
    println!("\nfinal 0.5·MSE   {:.4e}", outcome.final_loss);
    println!("steps taken     {}", outcome.steps);
    println!("{:<15} {reached}", format!("loss < {target:e}"));
    println!("wall time       {:.1} ms ({:.1} µs/step)", micros / 1e3, micros / outcome.steps.max(1) as f64);

    let (taken, loss) = (outcome.steps, outcome.final_loss);
    let title = format!("y = sin²(4πx): {shape} {activation}, {taken} Adam steps, final 0.5·MSE {loss:.3e}");
    write_svg(&config.svg, &net, &title)?;
    println!("wrote {}", config.svg);
    Ok(())
}

/// Full-batch Adam on the 200 training points until the loss is below the
/// target (unless early stopping is off) or the step limit is reached.
///
/// Iteration `step` measures the loss after `step` updates, so the loop does
/// one more forward pass than it takes Adam steps, and the reported loss is
/// that of the returned network.
fn train(net: &mut DynMlp<f64>, config: &Config) -> Result<Outcome, Box<dyn Error>> {
    let x = linspace(TRAIN_POINTS);
    let y = Matrix::from_fn(TRAIN_POINTS, 1, |i, _| target_fn(x[(i, 0)]));
    let mut adam = Adam::with_lr(config.lr)?;
    let mut reached = None;
    let (start, mut step) = (Instant::now(), 0);
    loop {
        net.zero_grad();
        net.forward(&x);
        let loss = match net.try_backward_loss(&HalfMse, &y) {
            // Weights that overflow the output: backward refuses it.
            Err(tinymlp::Error::NonFinite { .. }) => f64::NAN,
            other => other?,
        };
        if !loss.is_finite() {
            return Err(format!("training diverged: the loss is {loss} after {step} steps (try a smaller --lr)").into());
        }
        let first_below = loss < config.target && reached.is_none();
        if first_below {
            reached = Some(step);
        }
        if step % config.every == 0 || first_below {
            println!("step {step:>6}  loss {loss:.4e}{}", if first_below { "  first below target" } else { "" });
        }
        if step == config.steps || (config.early_stop && reached.is_some()) {
            return Ok(Outcome { final_loss: loss, steps: step, reached, elapsed: start.elapsed() });
        }
        adam.step(net)?;
        step += 1;
    }
}

/// Stroke of the target curve, in the plot and the legend.
const TARGET_STYLE: &str = r##"stroke="#9ecae1" stroke-width="5" fill="none""##;
/// Stroke of the network's curve.
const FIT_STYLE: &str = r##"stroke="#d62728" stroke-width="1.7" fill="none""##;
/// Fill of the training points.
const POINT_STYLE: &str = r##"fill="#08519c""##;

/// Writes an 800x450 SVG plot of the target, the training points and the fit to `path`.
fn write_svg(path: &str, net: &DynMlp<f64>, title: &str) -> Result<(), Box<dyn Error>> {
    const W: f64 = 800.0;
    const H: f64 = 450.0;
    let (left, right, top, bottom) = (72.0, W - 24.0, 76.0, H - 52.0);
    let (w, h) = (right - left, bottom - top);

    let xs = linspace(PLOT_POINTS).into_vec();
    let fit = net.try_predict(&linspace(PLOT_POINTS))?.into_vec();
    let truth: Vec<f64> = xs.iter().map(|&x| target_fn(x)).collect();

    // The y range covers the target and the (sensibly bounded) fit, plus a margin.
    let finite_fit = fit.iter().copied().filter(|v| v.is_finite()).map(|v| v.clamp(-1.0, 2.0));
    let (lo, hi) = finite_fit.fold((0.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (y_lo, y_hi) = (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
    let px = |x: f64| left + x * w;
    let py = |y: f64| bottom - (y - y_lo) / (y_hi - y_lo) * h;

    let mut out = BufWriter::new(File::create(path).map_err(|err| format!("cannot create {path}: {err}"))?);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}">"#)?;
    writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#)?;
    writeln!(out, r#"<text x="{}" y="30" text-anchor="middle" font-size="17" {FONT}>{title}</text>"#, W / 2.0)?;

    // Grid lines, ticks and tick labels: x every 0.25, y every `step`.
    let grid = r##"stroke="#e6e6e6""##;
    for x in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let (sx, tick_end, label_y) = (px(x), bottom + 5.0, bottom + 19.0);
        writeln!(out, r#"<line x1="{sx}" y1="{top}" x2="{sx}" y2="{bottom}" {grid}/>"#)?;
        writeln!(out, r#"<line x1="{sx}" y1="{bottom}" x2="{sx}" y2="{tick_end}" stroke="black"/>"#)?;
        writeln!(out, r#"<text x="{sx}" y="{label_y}" text-anchor="middle" font-size="12" {FONT}>{x}</text>"#)?;
    }
    let step = tick_step(y_hi - y_lo);
    for k in (y_lo / step).ceil() as i64..=(y_hi / step).floor() as i64 {
        let (y, tick_start, label_x) = (k as f64 * step, left - 5.0, left - 8.0);
        let (sy, label) = (py(y), format!("{y:.2}").trim_end_matches('0').trim_end_matches('.').to_owned());
        writeln!(out, r#"<line x1="{left}" y1="{sy:.1}" x2="{right}" y2="{sy:.1}" {grid}/>"#)?;
        writeln!(out, r#"<line x1="{tick_start}" y1="{sy:.1}" x2="{left}" y2="{sy:.1}" stroke="black"/>"#)?;
        let at = format!(r#"x="{label_x}" y="{:.1}" text-anchor="end""#, sy + 4.0);
        writeln!(out, r#"<text {at} font-size="12" {FONT}>{label}</text>"#)?;
    }
    writeln!(out, r#"<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="black"/>"#)?;
    let (mid_x, mid_y, label_y) = (left + w / 2.0, top + h / 2.0, H - 14.0);
    writeln!(out, r#"<text x="{mid_x}" y="{label_y}" text-anchor="middle" font-size="14" {FONT}>x</text>"#)?;
    writeln!(out, r#"<text x="22" y="{mid_y}" text-anchor="middle" font-size="14" {FONT}>y</text>"#)?;

    // Target, training points and fit, clipped to the plot area.
    writeln!(out, r#"<clipPath id="plot"><rect x="{left}" y="{top}" width="{w}" height="{h}"/></clipPath>"#)?;
    writeln!(out, r#"<g clip-path="url(#plot)" stroke-linejoin="round">"#)?;
    let curve = |ys: &[f64]| path_data(xs.iter().zip(ys).map(|(&x, &y)| (px(x), py(y))));
    writeln!(out, r#"<path d="{}" {TARGET_STYLE}/>"#, curve(&truth))?;
    for &x in linspace(TRAIN_POINTS).as_slice() {
        writeln!(out, r#"<circle cx="{:.1}" cy="{:.1}" r="1.8" {POINT_STYLE}/>"#, px(x), py(target_fn(x)))?;
    }
    writeln!(out, r#"<path d="{}" {FIT_STYLE}/>"#, curve(&fit))?;
    writeln!(out, "</g>")?;

    // Legend, in a row between the title and the plot: (left end, swatch, label).
    let entries = [
        (120.0, format!(r#"<line x2="26" {TARGET_STYLE}/>"#), "target sin²(4πx)".to_owned()),
        (320.0, format!(r#"<circle cx="13" r="2.5" {POINT_STYLE}/>"#), format!("{TRAIN_POINTS} training points")),
        (535.0, format!(r#"<line x2="26" {FIT_STYLE}/>"#), "network prediction".to_owned()),
    ];
    for (x, swatch, label) in entries {
        let text = format!(r#"<text x="34" y="4.5" font-size="13" {FONT}>{label}</text>"#);
        writeln!(out, r#"<g transform="translate({x} 54)">{swatch}{text}</g>"#)?;
    }
    writeln!(out, "</svg>")?;
    out.flush().map_err(|err| format!("cannot write {path}: {err}"))?;
    Ok(())
}
