#!/usr/bin/env python3
"""PyTorch reference implementation of the ``torch_parity`` tool contract.

The Rust example ``torch_parity`` reads a model and a batch of data from
safetensors files, runs the network forward and backward (and optionally a
few optimizer steps) and writes the results to a safetensors file. This module
does exactly the same with PyTorch, so the two outputs can be compared tensor
by tensor. ``scripts/make_fixtures.py`` uses it to generate the committed
fixtures in ``tests/fixtures/parity/`` and ``scripts/check_torch_parity.py``
uses it to check the Rust tool on fresh random configurations.

Contract::

    torch_reference.py --model M.safetensors --data D.safetensors --out O.safetensors
                       [--activation NAME] [--output-activation NAME] [--loss NAME]
                       [--optimizer NAME --lr F --steps N [--momentum F] [--nesterov]
                        [--weight-decay F]]

* Model file: ``layers.{i}.weight`` [out, in] and ``layers.{i}.bias`` [out]
  for dense layer ``i`` (the ``torch.nn.Linear`` layout), all F32 or all F64.
  The dtype of the whole run is the model's dtype.
* Data file: ``x`` [batch, in] and ``y`` [batch, out], in the model's dtype.
* Network: the dense layers; ``--activation`` (default ``sigmoid``) after every
  hidden layer and ``--output-activation`` (default: the same as
  ``--activation``) after the last one. Names: identity, sigmoid, tanh, relu,
  leaky_relu, elu, silu, softplus, gelu, each with torch's default parameters.
* Loss: without ``--loss``, ``0.5 * mean((output - y)**2)`` over all elements;
  otherwise one of mse, l1, huber, bce, bce_with_logits, cross_entropy
  (``torch.nn.functional``, mean reduction; cross_entropy takes class
  probabilities [batch, classes] as targets).
* Output file: ``output`` and ``loss`` (0-dim) at the initial parameters,
  ``layers.{i}.weight.grad`` / ``layers.{i}.bias.grad`` at the initial
  parameters, and with ``--steps N`` > 0 also ``layers.{i}.weight`` /
  ``layers.{i}.bias`` after N full-batch optimizer steps. All in the model's
  dtype.
* Optimizers: sgd, adam, adamw, rmsprop exactly as ``torch.optim`` with torch's
  defaults for absent flags and ``foreach=False``.

Setup (once, from the repository root; the venv is git-ignored)::

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch safetensors numpy

Run::

    .venv-torch/bin/python scripts/torch_reference.py \\
        --model M.safetensors --data D.safetensors --out O.safetensors \\
        --activation tanh --output-activation identity --optimizer adam --lr 0.01 --steps 20

or from Python: ``torch_reference.run(model_path, data_path, out_path, ["--activation", "tanh"])``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save
from torch import Tensor, nn

#: Activation names of the contract and their torch functions (torch defaults:
#: leaky_relu slope 0.01, elu alpha 1, softplus beta 1 threshold 20, exact gelu).
ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "identity": lambda t: t,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, negative_slope=0.01),
    "elu": lambda t: F.elu(t, alpha=1.0),
    "silu": F.silu,
    "softplus": lambda t: F.softplus(t, beta=1.0, threshold=20.0),
    "gelu": lambda t: F.gelu(t, approximate="none"),
}

#: The loss used when ``--loss`` is absent: 0.5 * mean((output - y)^2).
DEFAULT_LOSS = "half_mse"


def _half_mse(output: Tensor, target: Tensor) -> Tensor:
    """``0.5 * mean((output - target)**2)`` over all elements."""
    return 0.5 * F.mse_loss(output, target, reduction="mean")


#: Loss names of the contract (``--loss``) and their torch functions, mean reduction.
LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "mse": lambda o, y: F.mse_loss(o, y, reduction="mean"),
    "l1": lambda o, y: F.l1_loss(o, y, reduction="mean"),
    "huber": lambda o, y: F.huber_loss(o, y, reduction="mean", delta=1.0),
    "bce": lambda o, y: F.binary_cross_entropy(o, y, reduction="mean"),
    "bce_with_logits": lambda o, y: F.binary_cross_entropy_with_logits(o, y, reduction="mean"),
    # Targets are class probabilities [batch, classes]; mean over the batch.
    "cross_entropy": lambda o, y: F.cross_entropy(o, y, reduction="mean"),
}

OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "adamw", "rmsprop")

#: Optimizers that take ``--momentum`` (and, for sgd only, ``--nesterov``).
MOMENTUM_OPTIMIZERS: tuple[str, ...] = ("sgd", "rmsprop")

_WEIGHT_KEY = re.compile(r"^layers\.(\d+)\.(weight|bias)$")


class ContractError(Exception):
    """A malformed model/data file or an invalid combination of flags."""


@dataclass(frozen=True)
class Options:
    """The extra flags of the contract, parsed and validated."""

    activation: str = "sigmoid"
    output_activation: str | None = None
    loss: str | None = None
    optimizer: str | None = None
    lr: float | None = None
    steps: int = 0
    momentum: float | None = None
    nesterov: bool = False
    weight_decay: float | None = None

    @property
    def out_activation(self) -> str:
        """The activation after the last layer (defaults to ``activation``)."""
        return self.output_activation if self.output_activation is not None else self.activation


class _ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises ``ContractError`` instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ContractError(message)


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number, got {text!r}")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def add_contract_flags(parser: argparse.ArgumentParser) -> None:
    """Adds the contract's extra flags (everything but the three paths) to ``parser``."""
    parser.add_argument("--activation", choices=sorted(ACTIVATIONS), default="sigmoid",
                        help="activation after every hidden layer [default: sigmoid]")
    parser.add_argument("--output-activation", choices=sorted(ACTIVATIONS), default=None,
                        help="activation after the last layer [default: --activation]")
    parser.add_argument("--loss", choices=sorted(LOSSES), default=None,
                        help="loss (mean reduction) [default: 0.5*mean((output - y)^2)]")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                        help="optimizer for --steps full-batch steps")
    parser.add_argument("--lr", type=_finite_float, default=None, help="learning rate")
    parser.add_argument("--steps", type=_non_negative_int, default=None,
                        help="number of optimizer steps")
    parser.add_argument("--momentum", type=_finite_float, default=None,
                        help="momentum (sgd, rmsprop) [default: 0]")
    parser.add_argument("--nesterov", action="store_true", help="Nesterov momentum (sgd)")
    parser.add_argument("--weight-decay", type=_finite_float, default=None,
                        help="weight decay [default: torch's, 0 (0.01 for adamw)]")


def parse_flags(args: Sequence[str]) -> Options:
    """Parses and validates the contract's extra flags (no paths)."""
    parser = _ArgumentParser(prog="torch_reference", add_help=False)
    add_contract_flags(parser)
    return _options_from_namespace(parser.parse_args(list(args)))


def _options_from_namespace(ns: argparse.Namespace) -> Options:
    """Validates the flag combination and converts it to ``Options``."""
    if ns.optimizer is None:
        given = [flag for flag, value in (("--lr", ns.lr), ("--steps", ns.steps),
                                          ("--momentum", ns.momentum),
                                          ("--weight-decay", ns.weight_decay)) if value is not None]
        if ns.nesterov:
            given.append("--nesterov")
        if given:
            raise ContractError(f"{', '.join(given)} need(s) --optimizer")
    else:
        if ns.lr is None or ns.steps is None:
            raise ContractError("--optimizer needs both --lr and --steps")
        if ns.lr < 0:
            raise ContractError(f"--lr must not be negative, got {ns.lr}")
        if ns.momentum is not None and ns.optimizer not in MOMENTUM_OPTIMIZERS:
            raise ContractError(f"--momentum does not apply to {ns.optimizer}")
        if ns.nesterov and ns.optimizer != "sgd":
            raise ContractError(f"--nesterov does not apply to {ns.optimizer}")
        if ns.nesterov and not (ns.momentum or 0.0) > 0:
            raise ContractError("--nesterov needs --momentum > 0")
    return Options(
        activation=ns.activation,
        output_activation=ns.output_activation,
        loss=ns.loss,
        optimizer=ns.optimizer,
        lr=ns.lr,
        steps=ns.steps or 0,
        momentum=ns.momentum,
        nesterov=ns.nesterov,
        weight_decay=ns.weight_decay,
    )


class Mlp(nn.Module):
    """Dense layers with ``activation`` after each hidden layer and ``output_activation`` after the last.

    ``state_dict()`` keys are exactly ``layers.{i}.weight`` and ``layers.{i}.bias``.
    """

    def __init__(self, widths: Sequence[int], activation: str, output_activation: str,
                 dtype: torch.dtype, device: str | torch.device | None = None) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(widths[i], widths[i + 1], dtype=dtype, device=device)
            for i in range(len(widths) - 1)
        )
        self.activation = activation
        self.output_activation = output_activation

    def forward(self, x: Tensor) -> Tensor:
        """The network's output for a batch ``x`` [batch, in]."""
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            x = ACTIVATIONS[self.output_activation if i == last else self.activation](x)
        return x


def configure_torch() -> None:
    """Single-threaded, deterministic torch (called by ``compute``)."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def model_widths(model: dict[str, Tensor]) -> tuple[list[int], torch.dtype]:
    """Validates a model's tensors and returns its widths ``[in, h1, ..., out]`` and dtype."""
    indices: set[int] = set()
    for key in model:
        match = _WEIGHT_KEY.match(key)
        if match is None:
            raise ContractError(f"model: unexpected tensor {key!r} "
                                 "(expected layers.{i}.weight / layers.{i}.bias)")
        indices.add(int(match.group(1)))
    if not indices:
        raise ContractError("model: no layers.{i}.weight tensors")
    count = max(indices) + 1
    dtypes = {t.dtype for t in model.values()}
    if len(dtypes) != 1 or next(iter(dtypes)) not in (torch.float32, torch.float64):
        raise ContractError(f"model: tensors must be all F32 or all F64, got {sorted(map(str, dtypes))}")
    widths: list[int] = []
    for i in range(count):
        w, b = model.get(f"layers.{i}.weight"), model.get(f"layers.{i}.bias")
        if w is None or b is None:
            raise ContractError(f"model: layer {i} needs both layers.{i}.weight and layers.{i}.bias")
        if w.dim() != 2 or b.dim() != 1 or b.shape[0] != w.shape[0] or 0 in w.shape:
            raise ContractError(f"model: layer {i}: weight {list(w.shape)} / bias {list(b.shape)} "
                                 "are not [out, in] / [out]")
        if i == 0:
            widths.append(w.shape[1])
        elif w.shape[1] != widths[-1]:
            raise ContractError(f"model: layer {i} takes {w.shape[1]} inputs but layer {i - 1} "
                                 f"has {widths[-1]} outputs")
        widths.append(w.shape[0])
    return widths, next(iter(dtypes))


def build_network(model: dict[str, Tensor], opts: Options) -> Mlp:
    """An ``Mlp`` holding (copies of) the model's parameters."""
    widths, dtype = model_widths(model)
    # Built on the meta device so that construction consumes no random numbers.
    net = Mlp(widths, opts.activation, opts.out_activation, dtype, device="meta")
    state = {key: t.detach().clone().contiguous() for key, t in model.items()}
    net.load_state_dict(state, strict=True, assign=True)
    for param in net.parameters():
        param.requires_grad_(True)
    return net


def loss_value(output: Tensor, target: Tensor, loss: str | None) -> Tensor:
    """The contract's loss (``None``: 0.5 * mean squared error)."""
    return _half_mse(output, target) if loss is None else LOSSES[loss](output, target)


def make_optimizer(params: Sequence[nn.Parameter], opts: Options) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimizer named by ``opts`` with torch's defaults for absent flags."""
    extra: dict[str, float] = {}
    if opts.weight_decay is not None:
        extra["weight_decay"] = opts.weight_decay
    if opts.momentum is not None:
        extra["momentum"] = opts.momentum
    lr = opts.lr
    match opts.optimizer:
        case "sgd":
            return torch.optim.SGD(params, lr=lr, nesterov=opts.nesterov, foreach=False, **extra)
        case "adam":
            return torch.optim.Adam(params, lr=lr, foreach=False, **extra)
        case "adamw":
            return torch.optim.AdamW(params, lr=lr, foreach=False, **extra)
        case "rmsprop":
            return torch.optim.RMSprop(params, lr=lr, foreach=False, **extra)
    raise ContractError(f"unknown optimizer {opts.optimizer!r}")


def compute(model: dict[str, Tensor], data: dict[str, Tensor], opts: Options) -> dict[str, Tensor]:
    """Runs the contract on in-memory tensors and returns the output file's tensors."""
    configure_torch()
    widths, dtype = model_widths(model)
    for key in data:
        if key not in ("x", "y"):
            raise ContractError(f"data: unexpected tensor {key!r} (expected x and y)")
    x, y = data.get("x"), data.get("y")
    if x is None or y is None:
        raise ContractError("data: needs tensors x and y")
    if x.dtype != dtype or y.dtype != dtype:
        raise ContractError(f"data: x is {x.dtype} and y is {y.dtype} but the model is {dtype}")
    if x.dim() != 2 or x.shape[1] != widths[0] or x.shape[0] == 0:
        raise ContractError(f"data: x is {list(x.shape)}, expected [batch >= 1, {widths[0]}]")
    if list(y.shape) != [x.shape[0], widths[-1]]:
        raise ContractError(f"data: y is {list(y.shape)}, expected [{x.shape[0]}, {widths[-1]}]")
    x, y = x.detach().clone(), y.detach().clone()

    net = build_network(model, opts)
    params = list(net.parameters())
    optimizer = make_optimizer(params, opts) if opts.optimizer is not None else None

    output = net(x)
    loss = loss_value(output, y, opts.loss)
    loss.backward()
    result: dict[str, Tensor] = {"output": output.detach().clone(), "loss": loss.detach().clone()}
    for name, param in net.named_parameters():
        assert param.grad is not None, name
        result[f"{name}.grad"] = param.grad.detach().clone()

    if optimizer is not None and opts.steps > 0:
        for _ in range(opts.steps):
            optimizer.zero_grad()
            loss_value(net(x), y, opts.loss).backward()
            optimizer.step()
        for name, param in net.named_parameters():
            result[name] = param.detach().clone()

    for key, t in result.items():
        assert t.dtype == dtype, (key, t.dtype)
    return {key: t.contiguous() for key, t in result.items()}


def save_deterministic(tensors: dict[str, Tensor], out_path: str | Path,
                       metadata: dict[str, str] | None = None) -> None:
    """``safetensors.torch.save_file`` with a reproducible header.

    safetensors keeps ``__metadata__`` in a Rust ``HashMap``, so with two or
    more keys their order in the JSON header changes from run to run. This
    rewrites the header with the metadata keys sorted (tensor entries are
    already sorted), keeping safetensors' compact JSON and 8-byte space padding,
    so equal inputs give byte-identical files.
    """
    blob = save({key: t.detach().contiguous() for key, t in tensors.items()}, metadata=metadata)
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    if "__metadata__" in header:
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    Path(out_path).write_bytes(struct.pack("<Q", len(text)) + text + blob[8 + length:])


def save_result(tensors: dict[str, Tensor], out_path: str | Path,
                metadata: dict[str, str] | None = None) -> None:
    """Writes an output file: contiguous tensors (``loss`` 0-dim) and optional string metadata."""
    save_deterministic(tensors, out_path, metadata)


def run(model_path: str | Path, data_path: str | Path, out_path: str | Path,
        args: Sequence[str], *, metadata: dict[str, str] | None = None) -> dict[str, Tensor]:
    """Reads the model and data files, runs the contract with the extra flags ``args``,
    writes ``out_path`` (with optional ``__metadata__``) and returns the written tensors."""
    opts = parse_flags(args)
    result = compute(load_file(str(model_path)), load_file(str(data_path)), opts)
    save_result(result, out_path, metadata)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        description="PyTorch reference for the torch_parity tool: forward, loss, gradients "
                    "and optional optimizer steps of an MLP stored in safetensors files.")
    parser.add_argument("--model", required=True, help="model file (layers.{i}.weight/bias)")
    parser.add_argument("--data", required=True, help="data file (x, y)")
    parser.add_argument("--out", required=True, help="output file to write")
    add_contract_flags(parser)
    ns = parser.parse_args(argv)
    try:
        opts = _options_from_namespace(ns)
        save_result(compute(load_file(ns.model), load_file(ns.data), opts), ns.out)
    except ContractError as err:
        print(f"torch_reference: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # unreadable files, torch errors (e.g. bce on values outside [0, 1])
        print(f"torch_reference: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
