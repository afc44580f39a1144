//! Classification with softmax cross-entropy and `Fit`: two interleaved
//! spirals (or two moons) generated here, a progress line per epoch, the final
//! accuracy, and an SVG of the decision regions with the data points.
//!
//! ```text
//! cargo run --release --example classify                  # spirals, writes classify.svg
//! cargo run --release --example classify -- --dataset moons --epochs 100
//! cargo run --release --example classify -- --checkpoint run.ckpt --every 10   # save every 10 epochs
//! cargo run --release --example classify -- --checkpoint run.ckpt --resume     # continue where it stopped
//! cargo run --release --example classify -- --help
//! ```

use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use tinymlp::{Act, Adam, CrossEntropyIndex, DynMlp, Fit, Init, Matrix, Rng};

const HELP: &str = "\
classify: learn two interleaved spirals (or two moons) with softmax cross-entropy

usage: classify [--dataset spirals|moons] [--points N] [--hidden 64,64] [--epochs N]
                [--batch N] [--lr F] [--seed N] [--svg PATH]
                [--checkpoint PATH [--every N] [--resume]]

  --dataset NAME   spirals (default) or moons
  --points N       points per class (default 300)
  --hidden LIST    hidden widths, tanh (default 64,64)
  --epochs N       at most this many epochs (default 400); stops early at 100% accuracy
  --batch N        mini-batch size (default 32)
  --lr F           Adam's learning rate (default 0.01)
  --seed N         seed for the data, the weights and the shuffling (default 0)
  --svg PATH       where to write the decision regions (default classify.svg)
  --checkpoint PATH  save network, Adam's state and the run's progress to PATH
                   (atomically: a kill at any moment leaves the last whole checkpoint)
  --every N        epochs between checkpoints (default 10; the last epoch is always saved)
  --resume         continue from --checkpoint PATH if it exists, with the same other options:
                   the result is bit for bit that of a run that never stopped";

/// The command line.
struct Options {
    dataset: String,
    points: usize,
    hidden: Vec<usize>,
    epochs: usize,
    batch: usize,
    lr: f64,
    seed: u64,
    svg: String,
    checkpoint: Option<String>,
    every: usize,
    resume: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("classify: {message} (see --help)");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("classify: {message}");
            ExitCode::from(1)
        }
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        dataset: "spirals".into(),
        points: 300,
        hidden: vec![64, 64],
        epochs: 400,
        batch: 32,
        lr: 0.01,
        seed: 0,
        svg: "classify.svg".into(),
        checkpoint: None,
        every: 10,
        resume: false,
    };
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        if flag == "--resume" {
            options.resume = true;
            continue;
        }
        let value = iter.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |what: &str| value.parse::<usize>().map_err(|_| format!("{flag} {value:?}: expected {what}"));
        match flag.as_str() {
            "--dataset" if value == "spirals" || value == "moons" => options.dataset.clone_from(value),
            "--dataset" => return Err(format!("--dataset {value:?}: expected spirals or moons")),
            "--points" => options.points = number("a whole number")?.max(1),
            "--epochs" => options.epochs = number("a whole number")?,
            "--batch" => options.batch = number("a whole number")?,
            "--seed" => {
                options.seed = value.parse().map_err(|_| format!("--seed {value:?}: expected a whole number"))?
            }
            "--lr" => {
                options.lr = value
                    .parse()
                    .ok()
                    .filter(|lr: &f64| *lr > 0.0 && lr.is_finite())
                    .ok_or_else(|| format!("--lr {value:?}: expected a positive number"))?;
            }
            "--hidden" => {
                options.hidden = value
                    .split(',')
                    .map(|w| w.trim().parse::<usize>().ok().filter(|&w| (1..=4096).contains(&w)))
                    .collect::<Option<_>>()
                    .ok_or_else(|| format!("--hidden {value:?}: expected widths 1..=4096 separated by commas"))?;
            }
            "--svg" => options.svg.clone_from(value),
            "--checkpoint" => options.checkpoint = Some(value.clone()),
            "--every" => options.every = number("a whole number")?.max(1),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if options.resume && options.checkpoint.is_none() {
        return Err("--resume needs --checkpoint PATH".into());
    }
    Ok(options)
}

/// `points` samples per class: inputs `n x 2`, class indices `n x 1`.
fn dataset(name: &str, points: usize, rng: &mut Rng) -> (Matrix<f64>, Matrix<f64>) {
    let mut inputs = Vec::with_capacity(4 * points);
    let mut classes = Vec::with_capacity(2 * points);
    for class in 0..2 {
        for i in 0..points {
            let t = i as f64 / points as f64;
            let (x, y) = if name == "moons" {
                let angle = std::f64::consts::PI * t;
                if class == 0 { (angle.cos(), angle.sin()) } else { (1.0 - angle.cos(), 0.5 - angle.sin()) }
            } else {
                // Two arms of a spiral, 1.75 turns, the second rotated by half a turn.
                let angle = 1.75 * std::f64::consts::TAU * t + std::f64::consts::PI * class as f64;
                let radius = 0.1 + 0.9 * t;
                (radius * angle.cos(), radius * angle.sin())
            };
            inputs.push(x + 0.03 * rng.normal());
            inputs.push(y + 0.03 * rng.normal());
            classes.push(class as f64);
        }
    }
    let n = classes.len();
    (Matrix::from_vec(n, 2, inputs).expect("2 values per point"), Matrix::column(&classes))
}

/// Fraction of rows whose largest logit is the target class.
fn accuracy(logits: &Matrix<f64>, classes: &Matrix<f64>) -> f64 {
    let correct = logits.iter_rows().zip(classes.as_slice()).filter(|(row, class)| argmax(row) == **class as usize);
    correct.count() as f64 / classes.rows() as f64
}

fn argmax(row: &[f64]) -> usize {
    row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best })
}

fn run(options: &Options) -> Result<(), String> {
    let mut rng = Rng::new(options.seed);
    let (x, classes) = dataset(&options.dataset, options.points, &mut rng);
    let mut widths = vec![2];
    widths.extend(&options.hidden);
    widths.push(2);
    let mut net = DynMlp::<f64>::from_widths(&widths, Act::Tanh, Act::Identity, Init::TorchDefault, &mut rng)
        .map_err(|e| e.to_string())?;
    let mut adam = Adam::with_lr(options.lr).map_err(|e| e.to_string())?;
    println!(
        "{} ({} points), network {widths:?} tanh, softmax cross-entropy, Adam lr {}, batch {}",
        options.dataset,
        classes.rows(),
        options.lr,
        options.batch
    );
    let mut fit = Fit::new(options.epochs, options.batch).seed(options.seed);
    let checkpoint = options.checkpoint.as_ref().map(Path::new);
    let mut epochs_before = 0;
    if let Some(path) = checkpoint {
        fit = fit.checkpoint(path, options.every);
        if options.resume && path.exists() {
            let progress = net.read_checkpoint(path, &mut adam).map_err(|e| format!("{}: {e}", path.display()))?;
            // Every checkpoint Fit saves carries its progress.
            let progress = progress.ok_or_else(|| format!("{}: no training progress in it", path.display()))?;
            println!("resuming from {} after epoch {}", path.display(), progress.epochs_done());
            if progress.stopped() {
                println!("that run had stopped (100% accuracy): nothing more to train");
            }
            epochs_before = progress.epochs_done();
            fit = fit.resume(progress);
        }
    }
    let start = Instant::now();
    let history = fit.run(&mut net, &mut adam, &CrossEntropyIndex, &x, &classes, |report, net| {
        let acc = net.try_predict(&x).map_or(0.0, |logits| accuracy(&logits, &classes));
        if report.epoch % 20 == 0 || acc == 1.0 {
            println!("epoch {:4}  loss {:.4e}  accuracy {:6.2}%", report.epoch, report.train_loss, 100.0 * acc);
        }
        if acc == 1.0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    });
    let history = history.map_err(|e| e.to_string())?;
    if let Some(path) = checkpoint {
        println!("checkpoint: {} ({} bytes)", path.display(), std::fs::metadata(path).map_or(0, |m| m.len()));
    }
    let elapsed = start.elapsed();
    let logits = net.try_predict(&x).map_err(|e| e.to_string())?;
    let acc = accuracy(&logits, &classes);
    println!(
        "\nfinal training accuracy {:.2}% after {} epochs ({} in this run) in {:.2} s ({:.1} ms/epoch)",
        100.0 * acc,
        history.last().map_or(epochs_before, |report| report.epoch + 1),
        history.len(),
        elapsed.as_secs_f64(),
        1e3 * elapsed.as_secs_f64() / history.len().max(1) as f64
    );
    let svg = render(&net, &x, &classes, &format!("{}: {:.2}% training accuracy", options.dataset, 100.0 * acc))?;
    std::fs::write(&options.svg, svg).map_err(|e| format!("cannot write {}: {e}", options.svg))?;
    println!("wrote {}", options.svg);
    Ok(())
}

/// The decision regions on a grid, the points on top.
fn render(net: &DynMlp<f64>, x: &Matrix<f64>, classes: &Matrix<f64>, title: &str) -> Result<String, String> {
    const SIZE: f64 = 560.0;
    const CELLS: usize = 112;
    let (lo, hi) = bounds(x);
    let to_px = |v: f64, axis: usize| (v - lo[axis]) / (hi[axis] - lo[axis]) * SIZE;
    let grid = Matrix::from_fn(CELLS * CELLS, 2, |i, j| {
        let (cx, cy) = (i % CELLS, i / CELLS);
        let cell = if j == 0 { cx } else { cy };
        lo[j] + (cell as f64 + 0.5) / CELLS as f64 * (hi[j] - lo[j])
    });
    let logits = net.try_predict(&grid).map_err(|e| e.to_string())?;
    let mut svg = String::new();
    let side = SIZE + 40.0;
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{}" font-family="sans-serif">"#,
        side + 30.0
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{}" y="24" text-anchor="middle" font-size="17">{title}</text>"#, side / 2.0);
    let _ = writeln!(svg, r#"<g transform="translate(20,45)">"#);
    let cell = SIZE / CELLS as f64;
    for (i, row) in logits.iter_rows().enumerate() {
        let color = if argmax(row) == 0 { "#dbe9f6" } else { "#fde3cf" };
        let (px, py) = ((i % CELLS) as f64 * cell, SIZE - ((i / CELLS) as f64 + 1.0) * cell);
        let _ = writeln!(
            svg,
            r#"<rect x="{px:.2}" y="{py:.2}" width="{:.2}" height="{:.2}" fill="{color}"/>"#,
            cell + 0.3,
            cell + 0.3
        );
    }
    for (point, class) in x.iter_rows().zip(classes.as_slice()) {
        let color = if *class == 0.0 { "#1f77b4" } else { "#d95f02" };
        let (px, py) = (to_px(point[0], 0), SIZE - to_px(point[1], 1));
        let _ = writeln!(
            svg,
            r#"<circle cx="{px:.2}" cy="{py:.2}" r="2.6" fill="{color}" stroke="white" stroke-width="0.5"/>"#
        );
    }
    let _ = writeln!(svg, r##"<rect width="{SIZE}" height="{SIZE}" fill="none" stroke="#555"/>"##);
    svg.push_str("</g>\n</svg>\n");
    Ok(svg)
}

/// The data's bounding box with a margin.
fn bounds(x: &Matrix<f64>) -> ([f64; 2], [f64; 2]) {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for row in x.iter_rows() {
        for axis in 0..2 {
            lo[axis] = lo[axis].min(row[axis]);
            hi[axis] = hi[axis].max(row[axis]);
        }
    }
    for axis in 0..2 {
        let margin = 0.1 * (hi[axis] - lo[axis]).max(1e-9);
        lo[axis] -= margin;
        hi[axis] += margin;
    }
    (lo, hi)
}
