//! `torch_parity`: runs a network stored by PyTorch on a batch, with PyTorch's
//! semantics, and writes the output, the loss, the gradients and (optionally)
//! the weights after some optimizer steps, for comparison with PyTorch.
//!
//! ```text
//! cargo run --release --example torch_parity -- --model M.safetensors --data D.safetensors --out O.safetensors \
//!     [--activation NAME] [--output-activation NAME] [--loss NAME] \
//!     [--optimizer NAME --lr F --steps N [--momentum F] [--nesterov] [--weight-decay F]]
//! ```
//!
//! `scripts/check_torch_parity.py` runs it against PyTorch on fresh random networks.

mod run;

use std::process::ExitCode;

use run::ToolError;

const HELP: &str = "\
torch_parity: run a safetensors model on a batch with PyTorch's semantics

usage: torch_parity --model M.safetensors --data D.safetensors --out O.safetensors
                    [--activation NAME] [--output-activation NAME] [--loss NAME]
                    [--optimizer NAME --lr F --steps N [--momentum F] [--nesterov] [--weight-decay F]]

  --model PATH              layers.{i}.weight [out, in] and layers.{i}.bias [out], all F32 or all F64
                            (an nn.Sequential state_dict with keys {k}.weight / {k}.bias also works)
  --data PATH               x [batch, in] and y [batch, out], in the model's dtype
  --out PATH                written: output, loss, layers.{i}.weight.grad, layers.{i}.bias.grad
                            (at the initial parameters), and after --steps N > 0 also
                            layers.{i}.weight and layers.{i}.bias
  --activation NAME         after every hidden layer (default: sigmoid); one of identity, sigmoid,
                            tanh, relu, leaky_relu, elu, silu, softplus, gelu (torch's defaults)
  --output-activation NAME  after the last layer (default: the --activation)
  --loss NAME               default (no flag): 0.5 * mean((output - y)^2); or, as
                            torch.nn.functional with mean reduction: mse, l1, huber (delta 1),
                            bce, bce_with_logits, cross_entropy (y: class probabilities)
  --optimizer NAME          sgd, adam, adamw or rmsprop (torch.optim with torch's defaults),
                            with --lr and --steps
  --momentum F              sgd and rmsprop
  --nesterov                sgd only (needs --momentum > 0)
  --weight-decay F          sgd, adam, rmsprop: L2 penalty (default 0); adamw: decoupled (default 0.01)

exit codes: 0 success, 2 bad command line, 1 bad or unreadable files (or a non-finite loss)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    match main_with(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("torch_parity: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn main_with(args: &[String]) -> Result<(), ToolError> {
    let options = run::parse_args(args)?;
    let read = |path: &str, what: &str| {
        std::fs::read(path).map_err(|e| ToolError::Data(format!("cannot read the {what} file {path}: {e}")))
    };
    let model = read(&options.model, "model")?;
    let data = read(&options.data, "data")?;
    let bytes = run::run(&options, &model, &data)?;
    std::fs::write(&options.out, bytes)
        .map_err(|e| ToolError::Data(format!("cannot write the output file {}: {e}", options.out)))
}
