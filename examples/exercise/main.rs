//! The classic NumPy exercise tinymlp grew out of, end to end: the network
//! `[1, 4, 4, 1]` with a sigmoid after every layer, Xavier-uniform weights and
//! biases uniform in [0, 1); forward on two points; 0.5·MSE; backward for one
//! sample and for the batch; the gradients written for a PyTorch check
//! (`scripts/exercise_check.py`); then training on y = sin²(4πx) with plain
//! gradient descent and with Adam, from the same initial network, for the
//! exercise's network and the sine example's `[1, 32, 32, 1]` tanh network.
//!
//! ```text
//! cargo run --release --example exercise
//! cargo run --release --example exercise -- --lr 0.1,0.5,1 --steps 20000 --seed 3
//! cargo run --release --example exercise -- --hidden 32,32 --activation tanh --output-activation identity
//! ```

#[path = "../common/svg.rs"]
mod svg;
mod train;

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tinymlp::safetensors::Writer;
use tinymlp::{Act, DynMlp, HalfMse, Matrix, TensorNames};

use svg::Panel;
use train::{InitRule, Method, NetSpec, Run};

const USAGE: &str = "\
The exercise tinymlp grew out of, end to end: gradients of [1, 4, 4, 1] sigmoid
on two points (for a PyTorch check), then learning y = sin²(4πx) on 200 points of
[0, 1] with plain gradient descent and with Adam from the same initial network.

Usage: cargo run --release --example exercise -- [OPTIONS]

Options:
  --seed N                   seed of every initial network            [default: 0]
  --steps N                  training steps per optimizer             [default: 10000]
  --lr F1,F2,...             plain gradient descent learning rate(s)  [default: 0.1,1]
  --adam-lr F                Adam learning rate                       [default: 0.01]
  --init NAME                initialisation of the trained networks: exercise
                             (Xavier-uniform with the hidden activation's gain,
                             biases uniform in [0, 1)) or torch (nn.Linear's)
                                                                      [default: exercise]
  --hidden W1,W2,...         train only this network ...
  --activation NAME          ... with this hidden activation          [default: sigmoid]
  --output-activation NAME   ... and this output activation           [default: sigmoid]
                             Without any of these three, two networks are trained:
                             1-4-4-1 sigmoid/sigmoid (the exercise's) and
                             1-32-32-1 tanh/identity (the sine example's).
                             Activations: identity sigmoid tanh relu leaky_relu elu
                             silu softplus gelu
  --every N                  print the losses every N steps           [default: 1000]
  --out DIR                  where the files go                       [default: exercise-out]
  -h, --help                 print this help and exit

Written to DIR: model.safetensors (the exercise's network, nn.Sequential names
0.weight, 0.bias, 2.weight, ...), inputs.safetensors (x, y), gradients.safetensors
(one_sample.* and batch.*: output, loss and {k}.weight.grad / {k}.bias.grad),
loss.svg (loss curves, log scale) and fit.svg (the fitted curves over the target).
Check the gradients against PyTorch with
  .venv-torch/bin/python scripts/exercise_check.py --dir DIR
";

/// The largest network `--hidden` may ask for, so that huge widths fail cleanly.
const MAX_PARAMETERS: usize = 10_000_000;

/// Everything the command line can set.
struct Config {
    seed: u64,
    steps: usize,
    gd_lrs: Vec<f64>,
    adam_lr: f64,
    init: InitRule,
    hidden: Option<Vec<usize>>,
    activation: Option<Act>,
    output: Option<Act>,
    every: usize,
    out: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            seed: 0,
            steps: train::DEFAULT_STEPS,
            gd_lrs: train::DEFAULT_GD_LRS.to_vec(),
            adam_lr: train::DEFAULT_ADAM_LR,
            init: InitRule::Exercise,
            hidden: None,
            activation: None,
            output: None,
            every: 1000,
            out: "exercise-out".into(),
        }
    }
}

impl Config {
    /// The networks to train: both by default, or the one the flags describe.
    fn networks(&self) -> Vec<NetSpec> {
        if self.hidden.is_none() && self.activation.is_none() && self.output.is_none() {
            return vec![NetSpec::exercise(), NetSpec::wide()];
        }
        let exercise = NetSpec::exercise();
        vec![NetSpec {
            hidden: self.hidden.clone().unwrap_or(exercise.hidden),
            activation: self.activation.unwrap_or(exercise.activation),
            output: self.output.unwrap_or(exercise.output),
        }]
    }
}

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("exercise: {message} (see --help)");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("exercise: {err}");
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
            "--seed" => config.seed = parse_number(&flag, &value()?)?,
            "--steps" => config.steps = parse_number(&flag, &value()?)?,
            "--lr" => {
                let text = value()?;
                config.gd_lrs =
                    text.split(',').map(|part| parse_positive(&flag, part.trim())).collect::<Result<_, _>>()?;
            }
            "--adam-lr" => config.adam_lr = parse_positive(&flag, &value()?)?,
            "--init" => {
                config.init = match value()?.as_str() {
                    "exercise" => InitRule::Exercise,
                    "torch" => InitRule::Torch,
                    other => return Err(format!("--init: unknown rule `{other}` (expected exercise or torch)")),
                }
            }
            "--hidden" => config.hidden = Some(parse_widths(&value()?)?),
            "--activation" => config.activation = Some(parse_activation(&flag, &value()?)?),
            "--output-activation" => config.output = Some(parse_activation(&flag, &value()?)?),
            "--every" => {
                config.every = parse_number(&flag, &value()?)?;
                if config.every == 0 {
                    return Err("--every must be at least 1".into());
                }
            }
            "--out" => config.out = value()?.into(),
            _ if flag.starts_with('-') => return Err(format!("unknown flag `{flag}`")),
            _ => return Err(format!("unexpected argument `{flag}`")),
        }
    }
    Ok(Some(config))
}

/// Parses an activation name given to `flag`.
fn parse_activation(flag: &str, name: &str) -> Result<Act, String> {
    let names: Vec<&str> = Act::ALL.iter().map(Act::name).collect();
    name.parse().map_err(|_| format!("{flag}: unknown activation `{name}` (expected one of: {})", names.join(", ")))
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
    let all = [&[1], widths.as_slice(), &[1]].concat();
    let count = all.windows(2).try_fold(0usize, |sum, w| w[0].checked_mul(w[1])?.checked_add(w[1])?.checked_add(sum));
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

/// The whole exercise: gradients, files, training, plots, timings.
fn run(config: &Config) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(&config.out).map_err(|err| format!("cannot create {}: {err}", config.out.display()))?;
    gradients(config)?;
    let mut trained = Vec::new();
    for spec in config.networks() {
        trained.push(train_both(config, &spec)?);
    }
    let loss_svg = config.out.join("loss.svg");
    write_file(&loss_svg, loss_plot(config, &trained)?)?;
    let fit_svg = config.out.join("fit.svg");
    write_file(&fit_svg, fit_plot(config, &trained)?)?;
    println!("\nwrote {} and {}", loss_svg.display(), fit_svg.display());

    println!("\n== speed");
    for (spec, runs) in &trained {
        let times: Vec<String> = runs.iter().map(|run| format!("{} {}", run.method.label(), per_step(run))).collect();
        println!("{:<26} per step (batch {}): {}", spec.label(), train::TRAIN_POINTS, times.join(", "));
    }
    println!("PyTorch on the same workloads, in one run: .venv-torch/bin/python scripts/bench_vs_pytorch.py");
    Ok(())
}

/// The exercise's first half: forward on x = [0.2, 1.2], 0.5·MSE, backward for
/// one sample and for the batch, everything printed and written for PyTorch.
fn gradients(config: &Config) -> Result<(), Box<dyn Error>> {
    let spec = NetSpec::exercise();
    let mut net = spec.build(InitRule::Exercise, config.seed)?;
    let x = Matrix::column(&train::EXERCISE_X);
    let y = Matrix::from_fn(x.rows(), 1, |i, _| train::target_fn(x[(i, 0)]));
    println!("== the exercise's network: {}, seed {}", spec.label(), config.seed);
    println!("Xavier-uniform weights (gain 1 = calculate_gain(\"sigmoid\")), biases uniform in [0, 1)");
    println!("weights in the exercise's layout W[in][out] (x @ W + b; tinymlp and torch store the transpose):");
    for (index, layer) in net.iter_layers().enumerate() {
        println!("  W{} =", index + 1);
        print_exercise_layout(layer.weight(), layer.inputs(), layer.outputs(), "    ");
        println!("  b{} = {}", index + 1, row(layer.bias()));
    }

    let output = net.try_forward(&x)?.clone();
    let cost = net.try_loss(&HalfMse, &y)?;
    println!("\n== forward on x = {}, y = sin²(4πx) = {}", row(x.as_slice()), row(y.as_slice()));
    println!("ŷ = {}", row(output.as_slice()));
    println!("C = 0.5·mean((ŷ − y)²) = {cost:.17e}");

    // One sample: the first point alone.
    let mut one = net.clone();
    let (x1, y1) = (Matrix::column(&x.as_slice()[..1]), Matrix::column(&y.as_slice()[..1]));
    one.zero_grad();
    let one_output = one.try_forward(&x1)?.clone();
    let one_cost = one.try_backward_loss(&HalfMse, &y1)?;
    // The second point alone, to show how the batch gradient relates.
    let mut second = net.clone();
    second.zero_grad();
    second.try_forward(&Matrix::column(&x.as_slice()[1..]))?;
    second.try_backward_loss(&HalfMse, &Matrix::column(&y.as_slice()[1..]))?;
    // The batch.
    net.zero_grad();
    net.try_forward(&x)?;
    let batch_cost = net.try_backward_loss(&HalfMse, &y)?;

    for (title, model) in [(format!("one sample (x = {})", x[(0, 0)]), &one), ("the batch of 2".to_owned(), &net)] {
        let first = model.layer(0).ok_or("the network has no layer")?;
        println!("\n== backward, {title}: first layer's gradients, exercise's layout");
        println!("  dC/dW1 =");
        print_exercise_layout(first.weight_grad(), first.inputs(), first.outputs(), "    ");
        println!("  dC/db1 = {}", row(first.bias_grad()));
    }
    let mean: Vec<f64> =
        one.gradients_to_vec().iter().zip(second.gradients_to_vec()).map(|(a, b)| 0.5 * (a + b)).collect();
    let worst = worst_relative(&net.gradients_to_vec(), &mean);
    println!("\nbatch gradient = mean of the two per-sample gradients: worst relative difference {worst:.1e}");

    let out = &config.out;
    let seed = config.seed.to_string();
    let metadata = [("network", "1-4-4-1, sigmoid after every Linear"), ("seed", seed.as_str())];
    write_file(&out.join("model.safetensors"), net.to_safetensors_with(TensorNames::Sequential, &metadata))?;
    let mut inputs = Writer::new();
    inputs.add("x", &[x.rows(), 1], x.as_slice())?.add("y", &[y.rows(), 1], y.as_slice())?;
    write_file(&out.join("inputs.safetensors"), inputs.to_bytes())?;
    let mut grads = Writer::new();
    add_gradients(&mut grads, "one_sample", &one, one_output.as_slice(), one_cost)?;
    add_gradients(&mut grads, "batch", &net, output.as_slice(), batch_cost)?;
    grads.metadata("one_sample", "the first row of x and y only");
    write_file(&out.join("gradients.safetensors"), grads.to_bytes())?;
    println!(
        "wrote model, inputs and gradients to {0}/ (check: .venv-torch/bin/python scripts/exercise_check.py --dir {0})",
        out.display()
    );
    Ok(())
}

/// Adds `{prefix}.output`, `{prefix}.loss` and every layer's
/// `{prefix}.{k}.weight.grad` / `{prefix}.{k}.bias.grad` with nn.Sequential's `k`.
fn add_gradients(
    writer: &mut Writer,
    prefix: &str,
    net: &DynMlp<f64>,
    output: &[f64],
    loss: f64,
) -> Result<(), Box<dyn Error>> {
    writer.add(&format!("{prefix}.output"), &[output.len(), 1], output)?;
    writer.add(&format!("{prefix}.loss"), &[], &[loss])?;
    let mut position = 0;
    for layer in net.iter_layers() {
        let (outputs, inputs) = (layer.outputs(), layer.inputs());
        writer.add(&format!("{prefix}.{position}.weight.grad"), &[outputs, inputs], layer.weight_grad())?;
        writer.add(&format!("{prefix}.{position}.bias.grad"), &[outputs], layer.bias_grad())?;
        // Every layer here is followed by its sigmoid module.
        position += 2;
    }
    Ok(())
}

/// Prints an `outputs x inputs` row-major matrix as the exercise's `inputs x outputs`.
fn print_exercise_layout(values: &[f64], inputs: usize, outputs: usize, indent: &str) {
    for i in 0..inputs {
        let line: Vec<f64> = (0..outputs).map(|o| values[o * inputs + i]).collect();
        println!("{indent}{}", row(&line));
    }
}

/// `[a, b, c]` with every value in full precision, aligned.
fn row(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:>23.16e}")).collect();
    format!("[{}]", items.join(", "))
}

/// The largest `|a − b| / max(|a|, |b|)` over paired values (0 where both are 0).
fn worst_relative(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| if a == b { 0.0 } else { (a - b).abs() / a.abs().max(b.abs()) }).fold(0.0, f64::max)
}

/// Trains one network from one initial copy with every GD rate and with Adam,
/// printing checkpoints and the final losses.
fn train_both(config: &Config, spec: &NetSpec) -> Result<(NetSpec, Vec<Run>), Box<dyn Error>> {
    let initial = spec.build(config.init, config.seed)?;
    let (x, y) = train::training_data();
    let methods: Vec<Method> =
        config.gd_lrs.iter().map(|&lr| Method::Gd(lr)).chain([Method::Adam(config.adam_lr)]).collect();
    println!(
        "\n== training {} ({} parameters, {} init, seed {}) on {} points of y = sin²(4πx), {} full-batch steps each",
        spec.label(),
        initial.parameter_count(),
        config.init.name(),
        config.seed,
        train::TRAIN_POINTS,
        config.steps
    );
    let runs = methods
        .iter()
        .map(|&method| train::train(&initial, method, config.steps, &x, &y))
        .collect::<Result<Vec<_>, _>>()?;

    let header: Vec<String> = runs.iter().map(|run| format!("{:>14}", run.method.label())).collect();
    println!("{:>8}  {}", "step", header.join(""));
    let checkpoints = (0..=config.steps).filter(|step| step % config.every == 0 || *step == config.steps);
    for step in checkpoints {
        let cells: Vec<String> = runs.iter().map(|run| format!("{:>14}", loss_cell(run, step))).collect();
        println!("{step:>8}  {}", cells.join(""));
    }
    let adam = runs.last().ok_or("no runs")?;
    for run in &runs {
        let ending = match run.diverged_at {
            Some(step) => format!("diverged at step {step}"),
            None => format!("final 0.5·MSE {:.3e}", run.final_loss()),
        };
        let versus = if std::ptr::eq(run, adam) || run.diverged_at.is_some() {
            String::new()
        } else {
            let ratio = run.final_loss() / adam.final_loss();
            if ratio < 10.0 { format!(" ({ratio:.1}x Adam's)") } else { format!(" ({ratio:.0}x Adam's)") }
        };
        println!("  {:<14} {ending}{versus}, {}", run.method.label(), per_step(run));
    }
    Ok((spec.clone(), runs))
}

/// The time per step, e.g. `65.1 µs/step`.
fn per_step(run: &Run) -> String {
    if run.steps == 0 { "no steps timed".to_owned() } else { format!("{:.1} µs/step", run.micros_per_step()) }
}

/// The loss after `step` steps, or where the run diverged.
fn loss_cell(run: &Run, step: usize) -> String {
    match run.losses.get(step) {
        Some(loss) if loss.is_finite() => format!("{loss:.3e}"),
        Some(_) => "diverged".into(),
        None => "-".into(),
    }
}

/// Stroke styles: plain gradient descent in blues and greens, Adam in red.
fn style(method: Method, index: usize) -> String {
    const GD: [&str; 5] = ["#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#8c564b"];
    match method {
        Method::Gd(_) => {
            // Dashes from the second rate on: equal losses would hide each other.
            let dash = if index == 0 { "" } else { r#" stroke-dasharray="7 4""# };
            format!(r#"stroke="{}" stroke-width="1.8" fill="none"{dash}"#, GD[index % GD.len()])
        }
        Method::Adam(_) => r##"stroke="#d62728" stroke-width="1.8" fill="none""##.to_owned(),
    }
}

/// A legend label with the run's final loss.
fn legend_label(run: &Run) -> String {
    match run.diverged_at {
        Some(step) => format!("{}: diverged at step {step}", run.method.label()),
        None => format!("{}: final {:.2e}", run.method.label(), run.final_loss()),
    }
}

/// Side-by-side panels, one per network: (width, height, panel positions).
fn layout(count: usize) -> (f64, f64, Vec<(f64, f64)>) {
    let (panel_w, panel_h) = (520.0, 340.0);
    let width = 90.0 + count as f64 * (panel_w + 90.0);
    let positions = (0..count).map(|i| (90.0 + i as f64 * (panel_w + 90.0), 80.0)).collect();
    (width, 80.0 + panel_h + 60.0, positions)
}

/// Loss curves on a log scale, GD vs Adam, one panel per network.
fn loss_plot(config: &Config, trained: &[(NetSpec, Vec<Run>)]) -> Result<String, std::fmt::Error> {
    let (width, height, positions) = layout(trained.len());
    let mut body = String::new();
    let ids = ["loss0", "loss1", "loss2"];
    for (index, ((spec, runs), (left, top))) in trained.iter().zip(positions).enumerate() {
        let finite = runs.iter().flat_map(|run| run.losses.iter().copied()).filter(|l| l.is_finite() && *l > 0.0);
        let (lo, hi) = finite.fold((f64::INFINITY, 0.0f64), |(lo, hi), l| (lo.min(l), hi.max(l)));
        // Decades around the finite losses, at most 1e3 at the top (divergence shoots up).
        let (lo, hi) = (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil().min(3.0)));
        let panel = Panel {
            id: ids[index % ids.len()],
            left,
            top,
            width: 520.0,
            height: 340.0,
            x_range: (0.0, config.steps.max(1) as f64),
            y_range: (lo, hi.max(lo * 10.0)),
            log_y: true,
        };
        panel.axes(&mut body, &spec.label(), "step", "0.5·MSE (log scale)")?;
        // At most ~1000 points per curve: every k-th step, keeping each bucket's
        // largest loss so that GD's oscillations stay visible.
        let stride = (config.steps / 1000).max(1);
        let mut legend = Vec::new();
        for (i, run) in runs.iter().enumerate() {
            let points = run.losses.chunks(stride).enumerate().map(|(k, bucket)| {
                let worst = bucket.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                ((k * stride) as f64, if worst.is_finite() { worst.min(hi * 10.0) } else { hi * 10.0 })
            });
            panel.curve(&mut body, points, &style(run.method, i))?;
            if let Some(step) = run.diverged_at {
                // A cross at the top edge where the loss left the plot for good.
                let (cx, cy) = (panel.px(step as f64), panel.top + 6.0);
                let d = format!("M{:.1},{:.1} l8,8 m0,-8 l-8,8", cx - 4.0, cy - 4.0);
                writeln!(body, r#"<path d="{d}" {}/>"#, style(run.method, i))?;
            }
            legend.push((style(run.method, i), legend_label(run)));
        }
        panel.legend(&mut body, &legend)?;
    }
    let title = format!(
        "y = sin²(4πx): plain gradient descent vs Adam, {} steps, seed {}, {} init",
        config.steps,
        config.seed,
        config.init.name()
    );
    Ok(svg::document(width, height, &title, &body))
}

/// The fitted curves over the target, one panel per network.
fn fit_plot(config: &Config, trained: &[(NetSpec, Vec<Run>)]) -> Result<String, Box<dyn Error>> {
    const PLOT_POINTS: usize = 500;
    let (width, height, positions) = layout(trained.len());
    let xs = train::linspace(PLOT_POINTS);
    let mut body = String::new();
    let ids = ["fit0", "fit1", "fit2"];
    let target_style = r##"stroke="#9ecae1" stroke-width="6" fill="none""##.to_owned();
    for (index, ((spec, runs), (left, top))) in trained.iter().zip(positions).enumerate() {
        let panel = Panel {
            id: ids[index % ids.len()],
            left,
            top,
            width: 520.0,
            height: 340.0,
            x_range: (0.0, 1.0),
            // Room above the target's peaks for the legend.
            y_range: (-0.15, 1.6),
            log_y: false,
        };
        panel.axes(&mut body, &spec.label(), "x", "y")?;
        let target = xs.as_slice().iter().map(|&x| (x, train::target_fn(x)));
        panel.curve(&mut body, target, &target_style)?;
        let mut legend = vec![(target_style.clone(), "target sin²(4πx)".to_owned())];
        for (i, run) in runs.iter().enumerate() {
            let fit = run.net.try_predict(&xs)?;
            // Clamp so that a diverged network's huge values still draw at the edge.
            let points = xs.as_slice().iter().zip(fit.as_slice()).map(|(&x, &y)| (x, y.clamp(-10.0, 10.0)));
            panel.curve(&mut body, points, &style(run.method, i))?;
            legend.push((style(run.method, i), legend_label(run)));
        }
        panel.legend(&mut body, &legend)?;
    }
    let title = format!("The fits after {} steps (seed {}, {} init)", config.steps, config.seed, config.init.name());
    Ok(svg::document(width, height, &title, &body))
}

/// Writes `contents` to `path`, naming the file on error.
fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), Box<dyn Error>> {
    std::fs::write(path, contents).map_err(|err| format!("cannot write {}: {err}", path.display()).into())
}
