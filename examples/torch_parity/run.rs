//! The work of `torch_parity`, free of files and processes so that the fixture
//! tests can run it in-process: parse the flags, run the network, return the
//! output file's bytes.

use std::fmt;

use tinymlp::safetensors::{Dtype, SafeTensors, TensorView, Writer};
use tinymlp::{
    Act, Adam, AdamConfig, Bce, BceWithLogits, CrossEntropy, DynMlp, HalfMse, Huber, L1, Loss, Matrix, Mse, Optimizer,
    RmsProp, RmsPropConfig, Scalar, Sgd, SgdConfig,
};

/// What the user asked for on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `--model`.
    pub model: String,
    /// `--data`.
    pub data: String,
    /// `--out`.
    pub out: String,
    /// `--activation`, after every hidden layer.
    pub activation: Act,
    /// `--output-activation`, after the last layer.
    pub output_activation: Act,
    /// `--loss`, or `None` for the default 0.5·mean squared error.
    pub loss: Option<String>,
    /// `--optimizer` with its settings, if given.
    pub optimizer: Option<OptimizerChoice>,
}

/// The losses `--loss` accepts, as torch.nn.functional names.
pub const LOSSES: [&str; 6] = ["mse", "l1", "huber", "bce", "bce_with_logits", "cross_entropy"];

/// The optimizers `--optimizer` accepts, as torch.optim names (lower case).
pub const OPTIMIZERS: [&str; 4] = ["sgd", "adam", "adamw", "rmsprop"];

/// An optimizer and its hyper-parameters (torch's defaults for absent flags).
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerChoice {
    /// One of [`OPTIMIZERS`].
    pub name: String,
    /// `--lr`.
    pub lr: f64,
    /// `--steps`.
    pub steps: u64,
    /// `--momentum` (sgd and rmsprop).
    pub momentum: f64,
    /// `--nesterov` (sgd only).
    pub nesterov: bool,
    /// `--weight-decay`, if given (adamw's default is 0.01, the others' 0).
    pub weight_decay: Option<f64>,
}

/// Why the tool stopped: a usage error (exit code 2) or a data error (exit code 1).
#[derive(Debug, Clone, PartialEq)]
pub enum ToolError {
    /// Bad command line.
    Usage(String),
    /// Bad or unreadable files, or a failure while computing.
    Data(String),
}

impl ToolError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            ToolError::Usage(_) => 2,
            ToolError::Data(_) => 1,
        }
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::Usage(message) | ToolError::Data(message) => f.write_str(message),
        }
    }
}

fn usage(message: impl Into<String>) -> ToolError {
    ToolError::Usage(message.into())
}

fn data(message: impl Into<String>) -> ToolError {
    ToolError::Data(message.into())
}

/// Parses the flags (without the program name).
pub fn parse_args(args: &[String]) -> Result<Options, ToolError> {
    let mut values: Vec<(&str, Option<&str>)> = Vec::new();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let takes_value = match flag.as_str() {
            "--model"
            | "--data"
            | "--out"
            | "--activation"
            | "--output-activation"
            | "--loss"
            | "--optimizer"
            | "--lr"
            | "--steps"
            | "--momentum"
            | "--weight-decay" => true,
            "--nesterov" => false,
            other => return Err(usage(format!("unknown argument {other:?} (see --help)"))),
        };
        if values.iter().any(|(seen, _)| *seen == flag) {
            return Err(usage(format!("{flag} is given twice")));
        }
        let value = if takes_value {
            Some(iter.next().ok_or_else(|| usage(format!("{flag} needs a value")))?.as_str())
        } else {
            None
        };
        values.push((flag, value));
    }
    let get = |flag: &str| values.iter().find(|(f, _)| *f == flag).and_then(|(_, v)| *v);
    let has = |flag: &str| values.iter().any(|(f, _)| *f == flag);
    let required = |flag: &str| get(flag).map(str::to_owned).ok_or_else(|| usage(format!("{flag} is required")));

    let activation = match get("--activation") {
        Some(name) => parse_activation("--activation", name)?,
        None => Act::Sigmoid,
    };
    let output_activation = match get("--output-activation") {
        Some(name) => parse_activation("--output-activation", name)?,
        None => activation,
    };
    let loss = match get("--loss") {
        Some(name) if LOSSES.contains(&name) => Some(name.to_owned()),
        Some(name) => {
            return Err(usage(format!(
                "--loss {name:?}: unknown loss (known: {}; without --loss: 0.5·mean squared error)",
                LOSSES.join(", ")
            )));
        }
        None => None,
    };
    let optimizer = match get("--optimizer") {
        Some(name) => Some(parse_optimizer(name, &get, has("--nesterov"))?),
        None => {
            if let Some(flag) =
                ["--lr", "--steps", "--momentum", "--weight-decay", "--nesterov"].iter().find(|f| has(f))
            {
                return Err(usage(format!("{flag} needs --optimizer")));
            }
            None
        }
    };
    Ok(Options {
        model: required("--model")?,
        data: required("--data")?,
        out: required("--out")?,
        activation,
        output_activation,
        loss,
        optimizer,
    })
}

fn parse_activation(flag: &str, name: &str) -> Result<Act, ToolError> {
    name.parse().map_err(|_| {
        let known: Vec<&str> = Act::ALL.iter().map(Act::name).collect();
        usage(format!("{flag} {name:?}: unknown activation (known: {})", known.join(", ")))
    })
}

fn parse_optimizer<'a>(
    name: &str,
    get: &dyn Fn(&str) -> Option<&'a str>,
    nesterov: bool,
) -> Result<OptimizerChoice, ToolError> {
    if !OPTIMIZERS.contains(&name) {
        return Err(usage(format!("--optimizer {name:?}: unknown optimizer (known: {})", OPTIMIZERS.join(", "))));
    }
    let lr = number("--lr", get("--lr").ok_or_else(|| usage("--optimizer needs --lr"))?)?;
    let steps_text = get("--steps").ok_or_else(|| usage("--optimizer needs --steps"))?;
    let steps = steps_text
        .parse::<u64>()
        .map_err(|_| usage(format!("--steps {steps_text:?}: expected a whole number >= 0")))?;
    let momentum = get("--momentum").map(|v| number("--momentum", v)).transpose()?;
    let weight_decay = get("--weight-decay").map(|v| number("--weight-decay", v)).transpose()?;
    if momentum.is_some() && !matches!(name, "sgd" | "rmsprop") {
        return Err(usage(format!("--momentum applies to --optimizer sgd or rmsprop, not {name}")));
    }
    if nesterov && name != "sgd" {
        return Err(usage(format!("--nesterov applies to --optimizer sgd, not {name}")));
    }
    let momentum = momentum.unwrap_or(0.0);
    if nesterov && momentum <= 0.0 {
        return Err(usage("--nesterov needs --momentum > 0 (as torch.optim.SGD)"));
    }
    Ok(OptimizerChoice { name: name.to_owned(), lr, steps, momentum, nesterov, weight_decay })
}

/// A finite, non-negative number.
fn number(flag: &str, text: &str) -> Result<f64, ToolError> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        Ok(value) => Err(usage(format!("{flag} {value}: expected a finite number >= 0"))),
        Err(_) => Err(usage(format!("{flag} {text:?}: not a number"))),
    }
}

/// Runs the contract on the model and data bytes; returns the output file's bytes.
pub fn run(options: &Options, model_bytes: &[u8], data_bytes: &[u8]) -> Result<Vec<u8>, ToolError> {
    let model = SafeTensors::parse(model_bytes).map_err(|e| data(format!("model {}: {e}", options.model)))?;
    let dtype = single_dtype(&model, &options.model)?;
    match dtype {
        Dtype::F32 => run_typed::<f32>(options, model_bytes, data_bytes),
        _ => run_typed::<f64>(options, model_bytes, data_bytes),
    }
}

fn single_dtype(file: &SafeTensors<'_>, path: &str) -> Result<Dtype, ToolError> {
    let first = file.tensors().first().ok_or_else(|| data(format!("model {path}: the file holds no tensors")))?;
    if let Some(other) = file.tensors().iter().find(|t| t.dtype() != first.dtype()) {
        return Err(data(format!(
            "model {path}: mixed dtypes ({} is {}, {} is {})",
            first.name(),
            first.dtype(),
            other.name(),
            other.dtype()
        )));
    }
    Ok(first.dtype())
}

fn run_typed<T: Scalar>(options: &Options, model_bytes: &[u8], data_bytes: &[u8]) -> Result<Vec<u8>, ToolError> {
    let mut net = DynMlp::<T>::from_safetensors(model_bytes, options.activation, options.output_activation)
        .map_err(|e| data(format!("model {}: {e}", options.model)))?;
    let model = SafeTensors::parse(model_bytes).map_err(|e| data(e.to_string()))?;
    for tensor in model.tensors() {
        check_finite(tensor, &options.model)?;
    }
    let (x, y) = read_data::<T>(options, data_bytes, net.inputs(), net.outputs())?;

    let loss_fn = loss_function::<T>(options.loss.as_deref());
    net.zero_grad();
    let output = net.forward(&x).clone();
    let loss = net.try_backward_loss(loss_fn.as_ref(), &y).map_err(|e| data(format!("loss: {e}")))?;
    let mut writer = Writer::new();
    let add = |writer: &mut Writer, name: &str, shape: &[usize], values: &[T]| {
        writer.add(name, shape, values).map(|_| ()).map_err(|e| data(format!("writing {name}: {e}")))
    };
    add(&mut writer, "output", &[output.rows(), output.cols()], output.as_slice())?;
    add(&mut writer, "loss", &[], &[loss])?;
    for (index, layer) in net.layers().iter().enumerate() {
        add(
            &mut writer,
            &format!("layers.{index}.weight.grad"),
            &[layer.outputs(), layer.inputs()],
            layer.weight_grad(),
        )?;
        add(&mut writer, &format!("layers.{index}.bias.grad"), &[layer.outputs()], layer.bias_grad())?;
    }
    if let Some(choice) = options.optimizer.as_ref().filter(|c| c.steps > 0) {
        train(&mut net, choice, loss_fn.as_ref(), &x, &y)?;
        for (index, layer) in net.layers().iter().enumerate() {
            add(&mut writer, &format!("layers.{index}.weight"), &[layer.outputs(), layer.inputs()], layer.weight())?;
            add(&mut writer, &format!("layers.{index}.bias"), &[layer.outputs()], layer.bias())?;
        }
    }
    Ok(writer.to_bytes())
}

/// The loss `--loss` names (validated by [`parse_args`]), or the exercise's.
fn loss_function<T: Scalar>(name: Option<&str>) -> Box<dyn Loss<T>> {
    match name {
        Some("mse") => Box::new(Mse),
        Some("l1") => Box::new(L1),
        Some("huber") => Box::new(Huber::default()),
        Some("bce") => Box::new(Bce),
        Some("bce_with_logits") => Box::new(BceWithLogits),
        Some("cross_entropy") => Box::new(CrossEntropy),
        _ => Box::new(HalfMse),
    }
}

/// `steps` full-batch steps: zero_grad, forward, loss, backward, update.
fn train<T: Scalar>(
    net: &mut DynMlp<T>,
    choice: &OptimizerChoice,
    loss: &dyn Loss<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
) -> Result<(), ToolError> {
    let invalid = |e: tinymlp::Error| usage(format!("--optimizer {}: {e}", choice.name));
    let (lr, count) = (choice.lr, choice.steps);
    let weight_decay = choice.weight_decay.unwrap_or(0.0);
    match choice.name.as_str() {
        "adam" => {
            let config = AdamConfig { lr, weight_decay, ..AdamConfig::default() };
            steps(net, &mut Adam::new(config).map_err(invalid)?, loss, count, x, y)
        }
        "adamw" => {
            let weight_decay = choice.weight_decay.unwrap_or(AdamConfig::adamw().weight_decay);
            let config = AdamConfig { lr, weight_decay, ..AdamConfig::adamw() };
            steps(net, &mut Adam::new(config).map_err(invalid)?, loss, count, x, y)
        }
        "rmsprop" => {
            let config = RmsPropConfig { lr, weight_decay, momentum: choice.momentum, ..RmsPropConfig::default() };
            steps(net, &mut RmsProp::new(config).map_err(invalid)?, loss, count, x, y)
        }
        _ => {
            let (momentum, nesterov) = (choice.momentum, choice.nesterov);
            let config = SgdConfig { lr, momentum, nesterov, weight_decay, ..SgdConfig::default() };
            steps(net, &mut Sgd::new(config).map_err(invalid)?, loss, count, x, y)
        }
    }
}

fn steps<T: Scalar, O: Optimizer<T>>(
    net: &mut DynMlp<T>,
    optimizer: &mut O,
    loss: &dyn Loss<T>,
    count: u64,
    x: &Matrix<T>,
    y: &Matrix<T>,
) -> Result<(), ToolError> {
    for step in 1..=count {
        net.zero_grad();
        net.forward(x);
        let value = net.try_backward_loss(loss, y).map_err(|e| data(format!("step {step}: {e}")))?;
        if !value.is_finite() {
            return Err(data(format!("step {step}: the loss is {value}; stopping before it reaches the weights")));
        }
        optimizer.step(net).map_err(|e| data(e.to_string()))?;
    }
    Ok(())
}

/// `x` and `y` from the data file, checked against the network and the model's dtype.
fn read_data<T: Scalar>(
    options: &Options,
    bytes: &[u8],
    inputs: usize,
    outputs: usize,
) -> Result<(Matrix<T>, Matrix<T>), ToolError> {
    let path = &options.data;
    let file = SafeTensors::parse(bytes).map_err(|e| data(format!("data {path}: {e}")))?;
    let matrix = |name: &str, width: usize, what: &str| -> Result<Matrix<T>, ToolError> {
        let tensor = file.get(name).ok_or_else(|| data(format!("data {path}: no tensor {name:?}")))?;
        if tensor.dtype() != Dtype::of::<T>() {
            return Err(data(format!(
                "data {path}: {name} is {} but the model is {}",
                tensor.dtype(),
                Dtype::of::<T>()
            )));
        }
        let &[rows, cols] = tensor.shape() else {
            return Err(data(format!("data {path}: {name} has shape {:?}, expected [batch, {width}]", tensor.shape())));
        };
        if cols != width {
            return Err(data(format!("data {path}: {name} has {cols} columns but the network has {width} {what}")));
        }
        if rows == 0 {
            return Err(data(format!("data {path}: {name} has no rows (an empty batch)")));
        }
        check_finite(tensor, path)?;
        let values = tensor.to_vec::<T>().map_err(|e| data(format!("data {path}: {e}")))?;
        Matrix::from_vec(rows, cols, values).map_err(|e| data(format!("data {path}: {name}: {e}")))
    };
    let x = matrix("x", inputs, "inputs")?;
    let y = matrix("y", outputs, "outputs")?;
    if x.rows() != y.rows() {
        return Err(data(format!("data {path}: x has {} rows but y has {}", x.rows(), y.rows())));
    }
    Ok((x, y))
}

fn check_finite(tensor: &TensorView<'_>, path: &str) -> Result<(), ToolError> {
    match tensor.to_f64_vec().iter().position(|v| !v.is_finite()) {
        Some(index) => Err(data(format!(
            "{path}: {} holds {} at flat index {index}; only finite values are allowed",
            tensor.name(),
            tensor.to_f64_vec()[index]
        ))),
        None => Ok(()),
    }
}
