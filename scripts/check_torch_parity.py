#!/usr/bin/env python3
"""Checks the Rust ``torch_parity`` example against PyTorch on fresh random configurations.

This is the "try it as a new user would" check. For each of N random
configurations (depth 1-4, widths 1-16, batch 1-64, a random hidden/output
activation pair, f32 or f64, a random optimizer with or without momentum,
Nesterov and weight decay, 0-20 steps) it

1. writes ``model.safetensors`` (``nn.Linear`` default initialisation) and
   ``data.safetensors`` (``x ~ U(-2, 2)``, ``y`` to suit the loss) into a
   temporary directory,
2. runs the Rust tool: ``cargo run --release --quiet --example torch_parity --
   --model ... --data ... --out rust.safetensors <flags>`` in the repository root,
3. runs ``scripts/torch_reference.py`` with the same flags, and
4. compares every tensor, printing one line per configuration with the largest
   relative error of each tensor group (output, loss, grads, weights).

It ends with PASS or FAIL (exit code 0 or 1; 2 for usage or build errors). The
thresholds: f64 outputs, losses and gradients within 1e-10, f64 weights after
steps within 1e-9; f32 within 1e-4 and 1e-3.

Relative error of an element (a: tool, b: reference, B: b's whole tensor)::

    |a - b| / max(|b|, floor * max|B|),   floor = ULPS * eps / tol   (ULPS = 100)

with ``eps`` the dtype's machine epsilon and ``tol`` its output/gradient
threshold, so ``floor`` is 2.2e-4 for f64 (eps 2.2e-16, tol 1e-10) and 0.119
for f32 (eps 1.19e-7, tol 1e-4); the same floor is used for the weights. Why
not a tiny absolute floor such as 1e-12: the rounding error of a computed
element is bounded by ``eps * (sum of the magnitudes of the terms it was
computed from)``, not by ``eps * |b|``. Gradient entries are sums over the
batch whose terms cancel, and outputs are sums over a layer's inputs, so an
entry 1e4 times smaller than its neighbours legitimately carries a relative
error of ~1e4 * eps; two correct implementations that merely sum in a
different order then differ by more than the thresholds (measured: torch f32
against float64 gives relative errors up to 1e-2 on such entries, torch f64
against an independent NumPy float64 implementation up to 4e-11). The terms'
magnitude is of the order of the tensor's largest entry, hence the floor
relative to ``max|B|``: an entry is judged relatively while ``|b| >= floor *
max|B|`` and otherwise by its absolute error, which may then be at most
``tol * floor * max|B| = ULPS * eps * max|B|``, i.e. 100 roundoffs at the
tensor's scale. A real bug (a wrong derivative, a missing bias correction)
moves values by O(1) at that scale and still fails by many orders of
magnitude. With this floor the measured worst errors of correct
implementations are ~50x (f64) and ~10x (f32) below the thresholds. If the
whole reference tensor is zero, the comparison is exact; non-finite
references must be matched exactly (same infinity; NaN for NaN).

Known limits when sampling beyond the defaults: rmsprop divides by the root of
a running mean of squared gradients that starts at zero, and l1 has a
discontinuous gradient, so both amplify rounding differences during steps; in
f32 their weights after steps can differ by more than 1e-3 between correct
implementations (seen: rmsprop 5e-3, l1 with adamw 8e-2). Judge failures there
with ``--dtype f64`` or ``--max-steps 0`` first.

Setup (once, from the repository root; the venv is git-ignored)::

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch safetensors numpy

Run::

    .venv-torch/bin/python scripts/check_torch_parity.py                 # 20 configurations
    .venv-torch/bin/python scripts/check_torch_parity.py -n 100 --seed 7
    .venv-torch/bin/python scripts/check_torch_parity.py --loss default,mse,huber --optimizer sgd,adam,adamw
    .venv-torch/bin/python scripts/check_torch_parity.py --command target/release/examples/torch_parity

To validate this checker itself without the Rust tool, replace the tool by an
in-process stand-in: ``--emulate numpy`` (an independent NumPy float64
implementation of forward, losses, backward and optimizers) or ``--emulate
torch64`` (the torch reference run in float64, cast back). Both show the real
rounding noise of an f32 implementation against a float64 one.
"""

from __future__ import annotations

import argparse
import math
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file as load_numpy
from safetensors.numpy import save_file as save_numpy
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_reference  # noqa: E402  (needs the path above)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOSS = "default"  # no --loss flag: 0.5 * mean((output - y)^2)
LOSS_NAMES: tuple[str, ...] = (DEFAULT_LOSS, *torch_reference.LOSSES)
ACTIVATION_NAMES: tuple[str, ...] = tuple(torch_reference.ACTIVATIONS)

#: Relative-error thresholds: dtype -> (outputs, losses and gradients; weights after steps).
TOLERANCES: dict[str, tuple[float, float]] = {"f64": (1e-10, 1e-9), "f32": (1e-4, 1e-3)}
DTYPES: dict[str, torch.dtype] = {"f32": torch.float32, "f64": torch.float64}
NP_DTYPES: dict[str, type] = {"f32": np.float32, "f64": np.float64}
GROUPS: tuple[str, ...] = ("output", "loss", "grads", "weights")

#: A tool: (model path, data path, out path, extra flags) -> None; raises ToolError on failure.
Tool = Callable[[Path, Path, Path, list[str]], None]


class ToolError(Exception):
    """The tool under test failed to produce an output file."""


# --------------------------------------------------------------------------- configurations

@dataclass(frozen=True)
class Config:
    """One random configuration: the network, the data and the tool's extra flags."""

    index: int
    seed: int
    dtype: str
    widths: tuple[int, ...]
    batch: int
    activation: str
    output_activation: str
    loss: str
    flags: tuple[str, ...]
    steps: int

    def summary(self) -> str:
        """A one-line description for the report."""
        opt = shlex.join(self.flags[4:])  # the first four flags spell out the activations
        widths = "-".join(map(str, self.widths))
        return (f"{self.dtype} {widths} b{self.batch} {self.activation}/{self.output_activation} "
                f"{opt or '(no flags beyond activations)'}")


@dataclass(frozen=True)
class Sampling:
    """What configurations may contain."""

    losses: tuple[str, ...]
    optimizers: tuple[str, ...]
    activations: tuple[str, ...]
    dtypes: tuple[str, ...]
    max_steps: int


def sample_config(rng: random.Random, index: int, seed: int, sampling: Sampling) -> Config:
    """Draws one configuration; the flags always spell out both activations."""
    dtype = rng.choice(sampling.dtypes)
    depth = rng.randint(1, 4)
    widths = [rng.randint(1, 16) for _ in range(depth + 1)]
    batch = rng.randint(1, 64)
    activation = rng.choice(sampling.activations)
    output_activation = rng.choice(sampling.activations)
    loss = rng.choice(sampling.losses)
    if loss == "bce":  # needs outputs in (0, 1)
        output_activation = "sigmoid"
    if loss == "cross_entropy":  # one class would make the loss identically zero
        widths[-1] = max(widths[-1], 2)
    flags = ["--activation", activation, "--output-activation", output_activation]
    if loss != DEFAULT_LOSS:
        flags += ["--loss", loss]
    steps = rng.randint(0, sampling.max_steps)
    # Steps 0: half the time no optimizer at all, half the time "--steps 0".
    if steps > 0 or rng.random() < 0.5:
        optimizer = rng.choice(sampling.optimizers)
        lr = {"sgd": 0.1, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.01}[optimizer]
        flags += ["--optimizer", optimizer, "--lr", str(lr), "--steps", str(steps)]
        if optimizer in torch_reference.MOMENTUM_OPTIMIZERS and rng.random() < 0.5:
            flags += ["--momentum", "0.9"]
            if optimizer == "sgd" and rng.random() < 0.5:
                flags += ["--nesterov"]
        if rng.random() < 0.5:
            flags += ["--weight-decay", rng.choice(["0.01", "0.1"])]
    else:
        steps = 0
    return Config(index, seed, dtype, tuple(widths), batch, activation, output_activation, loss,
                  tuple(flags), steps)


def make_inputs(config: Config) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Seeded model (``nn.Linear`` default init) and data suited to the loss and output activation."""
    torch.manual_seed(config.seed)
    dtype = DTYPES[config.dtype]
    model: dict[str, Tensor] = {}
    for i in range(len(config.widths) - 1):
        layer = nn.Linear(config.widths[i], config.widths[i + 1], dtype=dtype)
        model[f"layers.{i}.weight"] = layer.weight.detach().clone()
        model[f"layers.{i}.bias"] = layer.bias.detach().clone()
    x = torch.rand(config.batch, config.widths[0], dtype=dtype) * 4 - 2
    out = config.widths[-1]
    if config.loss == "cross_entropy":
        y = torch.softmax(torch.randn(config.batch, out, dtype=dtype) * 2, dim=1)
    elif config.loss in ("bce", "bce_with_logits") or config.output_activation == "sigmoid":
        y = torch.rand(config.batch, out, dtype=dtype)
    else:
        y = torch.rand(config.batch, out, dtype=dtype) * 2 - 1
    return model, {"x": x, "y": y}


# --------------------------------------------------------------------------- tools

def rust_tool(command: Sequence[str], timeout: float) -> Tool:
    """A tool that runs ``command + [--model ..., --data ..., --out ..., *flags]`` in the repo root."""

    def run(model: Path, data: Path, out: Path, flags: list[str]) -> None:
        argv = [*command, "--model", str(model), "--data", str(data), "--out", str(out), *flags]
        try:
            proc = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as err:
            raise ToolError(f"timed out after {timeout:g} s: {shlex.join(argv)}") from err
        except OSError as err:
            raise ToolError(f"could not start {shlex.join(argv)}: {err}") from err
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-15:])
            raise ToolError(f"exit code {proc.returncode}: {shlex.join(argv)}" + (f"\n{tail}" if tail else ""))
        if not out.exists():
            raise ToolError(f"exited 0 but wrote no {out.name}: {shlex.join(argv)}")

    return run


def build_rust_example() -> None:
    """``cargo build --release --example torch_parity`` so build errors surface once, clearly."""
    argv = ["cargo", "build", "--release", "--quiet", "--example", "torch_parity"]
    print(f"building: {shlex.join(argv)}", flush=True)
    proc = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise ToolError("the Rust example `torch_parity` does not build (does examples/torch_parity.rs "
                        "exist?); fix that first or pass --command / --emulate")


def _upcast_run(compute: Callable[[dict[str, np.ndarray], dict[str, np.ndarray], list[str]],
                                  dict[str, np.ndarray]]) -> Tool:
    """A stand-in tool that computes in float64 and writes the results in the model's dtype."""

    def run(model_path: Path, data_path: Path, out: Path, flags: list[str]) -> None:
        model, data = load_numpy(str(model_path)), load_numpy(str(data_path))
        dtype = next(iter(model.values())).dtype
        result = compute({k: v.astype(np.float64) for k, v in model.items()},
                         {k: v.astype(np.float64) for k, v in data.items()}, flags)
        # (np.ascontiguousarray would turn the 0-dim loss into shape [1].)
        save_numpy({k: np.array(v, dtype=dtype, order="C") for k, v in result.items()}, str(out))

    return run


def _torch64(model: dict[str, np.ndarray], data: dict[str, np.ndarray],
             flags: list[str]) -> dict[str, np.ndarray]:
    result = torch_reference.compute({k: torch.from_numpy(v) for k, v in model.items()},
                                     {k: torch.from_numpy(v) for k, v in data.items()},
                                     torch_reference.parse_flags(flags))
    return {k: v.numpy() for k, v in result.items()}


# --------------------------------------------------------------------------- NumPy emulation

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def np_activation(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The activation's value and derivative at ``z`` (torch's conventions at kinks)."""
    match name:
        case "identity":
            return z, np.ones_like(z)
        case "sigmoid":
            s = _sigmoid(z)
            return s, s * (1 - s)
        case "tanh":
            t = np.tanh(z)
            return t, 1 - t * t
        case "relu":
            return np.maximum(z, 0), (z > 0).astype(z.dtype)
        case "leaky_relu":
            return np.where(z > 0, z, 0.01 * z), np.where(z > 0, 1.0, 0.01)
        case "elu":
            return np.where(z > 0, z, np.expm1(np.minimum(z, 0))), np.where(z > 0, 1.0, np.exp(np.minimum(z, 0)))
        case "silu":
            s = _sigmoid(z)
            return z * s, s * (1 + z * (1 - s))
        case "softplus":
            big = z > 20
            return (np.where(big, z, np.log1p(np.exp(np.minimum(z, 20)))),
                    np.where(big, 1.0, _sigmoid(z)))
        case "gelu":
            cdf = 0.5 * (1 + _erf(z / math.sqrt(2)))
            return z * cdf, cdf + z * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    raise ValueError(name)


def np_loss(name: str | None, o: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The loss and its gradient with respect to the output ``o``."""
    n, d = o.size, o - y
    match name:
        case None:
            return 0.5 * np.mean(d * d), d / n
        case "mse":
            return np.mean(d * d), 2 * d / n
        case "l1":
            return np.mean(np.abs(d)), np.sign(d) / n
        case "huber":
            small = np.abs(d) <= 1.0
            return np.mean(np.where(small, 0.5 * d * d, np.abs(d) - 0.5)), np.clip(d, -1, 1) / n
        case "bce":
            log_o, log_1o = np.maximum(np.log(o), -100), np.maximum(np.log1p(-o), -100)
            return -np.mean(y * log_o + (1 - y) * log_1o), (o - y) / np.maximum(o * (1 - o), 1e-12) / n
        case "bce_with_logits":
            value = np.maximum(o, 0) - o * y + np.log1p(np.exp(-np.abs(o)))
            return np.mean(value), (_sigmoid(o) - y) / n
        case "cross_entropy":
            shifted = o - o.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            batch = o.shape[0]
            return -np.sum(y * log_p) / batch, (np.exp(log_p) * y.sum(axis=1, keepdims=True) - y) / batch
    raise ValueError(name)


def np_forward_backward(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                        opts: torch_reference.Options) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
    """Output, loss and parameter gradients (keys ``layers.{i}.weight`` / ``bias``)."""
    count = len(params) // 2
    inputs, derivs = [x], []
    for i in range(count):
        z = inputs[-1] @ params[f"layers.{i}.weight"].T + params[f"layers.{i}.bias"]
        a, da = np_activation(opts.out_activation if i == count - 1 else opts.activation, z)
        inputs.append(a)
        derivs.append(da)
    loss, delta = np_loss(opts.loss, inputs[-1], y)
    grads: dict[str, np.ndarray] = {}
    for i in reversed(range(count)):
        delta = delta * derivs[i]
        grads[f"layers.{i}.weight"] = delta.T @ inputs[i]
        grads[f"layers.{i}.bias"] = delta.sum(axis=0)
        delta = delta @ params[f"layers.{i}.weight"]
    return inputs[-1], float(loss), grads


def np_compute(model: dict[str, np.ndarray], data: dict[str, np.ndarray],
               flags: list[str]) -> dict[str, np.ndarray]:
    """The contract in NumPy float64, written independently of torch (optimizers from their docs)."""
    opts = torch_reference.parse_flags(flags)
    params = {k: v.copy() for k, v in model.items()}
    output, loss, grads = np_forward_backward(params, data["x"], data["y"], opts)
    result = {"output": output, "loss": np.array(loss)}
    result.update({f"{k}.grad": g for k, g in grads.items()})
    if opts.optimizer is None or opts.steps == 0:
        return result
    wd = opts.weight_decay if opts.weight_decay is not None else (0.01 if opts.optimizer == "adamw" else 0.0)
    mom, lr = opts.momentum or 0.0, opts.lr
    state: dict[str, dict[str, np.ndarray]] = {k: {} for k in params}
    for t in range(1, opts.steps + 1):
        _, _, grads = np_forward_backward(params, data["x"], data["y"], opts)
        for key, p in params.items():
            g, s = grads[key], state[key]
            if opts.optimizer == "adamw":
                p *= 1 - lr * wd
            elif wd:
                g = g + wd * p
            if opts.optimizer == "sgd":
                if mom:
                    s["buf"] = g.copy() if t == 1 else mom * s["buf"] + g
                    g = g + mom * s["buf"] if opts.nesterov else s["buf"]
                p -= lr * g
            elif opts.optimizer in ("adam", "adamw"):
                s["m"] = 0.9 * s.get("m", 0.0) + 0.1 * g
                s["v"] = 0.999 * s.get("v", 0.0) + 0.001 * g * g
                denom = np.sqrt(s["v"]) / math.sqrt(1 - 0.999 ** t) + 1e-8
                p -= lr / (1 - 0.9 ** t) * s["m"] / denom
            elif opts.optimizer == "rmsprop":
                s["sq"] = 0.99 * s.get("sq", 0.0) + 0.01 * g * g
                avg = np.sqrt(s["sq"]) + 1e-8
                if mom:
                    s["buf"] = mom * s.get("buf", 0.0) + g / avg
                    p -= lr * s["buf"]
                else:
                    p -= lr * g / avg
    result.update(params)
    return result


# --------------------------------------------------------------------------- comparison

def group_of(key: str) -> str:
    """The report group of an output tensor."""
    if key in ("output", "loss"):
        return key
    return "grads" if key.endswith(".grad") else "weights"


def floor_for(dtype: str, ulps: float) -> float:
    """The relative-error floor (a fraction of ``max|B|``) for ``dtype``: ``ulps * eps / tol``."""
    return ulps * float(np.finfo(NP_DTYPES[dtype]).eps) / TOLERANCES[dtype][0]


def relative_error(actual: np.ndarray, expected: np.ndarray, floor: float) -> float:
    """Largest ``|a - b| / max(|b|, floor * max|B|)`` (see the module docstring), in float64."""
    a, b = actual.astype(np.float64), expected.astype(np.float64)
    finite = np.isfinite(b)
    if not finite.all():
        same = (a[~finite] == b[~finite]) | (np.isnan(a[~finite]) & np.isnan(b[~finite]))
        if not same.all():
            return math.inf
        a, b = a[finite], b[finite]
    if b.size == 0:
        return 0.0
    diff = np.abs(a - b)
    if not np.isfinite(diff).all():
        return math.inf
    scale = float(np.abs(b).max())
    if scale == 0.0:
        return 0.0 if not diff.any() else math.inf
    denominator = np.maximum(np.abs(b), floor * scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / denominator)  # 0/0 -> 0, x/0 -> inf
    return float(ratio.max())


def compare(expected: dict[str, np.ndarray], actual: dict[str, np.ndarray], dtype: str,
            ulps: float = 100.0) -> tuple[dict[str, float], list[str]]:
    """Per-group largest relative error and a list of problems (missing keys, shapes, dtypes, tolerance)."""
    floor = floor_for(dtype, ulps)
    problems: list[str] = []
    errors: dict[str, float] = {}
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        problems.append(f"missing tensors: {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected tensors: {', '.join(extra)}")
    for key in sorted(set(expected) & set(actual)):
        a, b = actual[key], expected[key]
        if a.dtype != b.dtype:
            problems.append(f"{key}: dtype {a.dtype}, expected {b.dtype}")
        if a.shape != b.shape:
            problems.append(f"{key}: shape {list(a.shape)}, expected {list(b.shape)}")
            continue
        group = group_of(key)
        errors[group] = max(errors.get(group, 0.0), relative_error(a, b, floor))
    tol_values, tol_weights = TOLERANCES[dtype]
    for group, err in errors.items():
        tol = tol_weights if group == "weights" else tol_values
        if not err <= tol:
            problems.append(f"{group}: relative error {err:.2e} > {tol:g}")
    return errors, problems


# --------------------------------------------------------------------------- driver

def _split_list(parser: argparse.ArgumentParser, values: list[str] | None, allowed: Sequence[str],
                default: Sequence[str], flag: str) -> tuple[str, ...]:
    """Comma-separated, possibly repeated names, checked against ``allowed`` (exit 2 otherwise)."""
    if not values:
        return tuple(default)
    names = tuple(dict.fromkeys(n.strip() for v in values for n in v.split(",") if n.strip()))
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        parser.error(f"{flag}: unknown name(s) {', '.join(unknown) or '(none)'}; "
                     f"expected some of: {', '.join(allowed)}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="Compare the Rust torch_parity example with the PyTorch reference on random configurations.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Lists take comma-separated names and may be repeated, e.g. --loss default,mse --loss huber.")
    parser.add_argument("-n", "--configs", type=int, default=20, help="number of configurations [20]")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampler and of the data [0]")
    parser.add_argument("--loss", action="append",
                        help=f"losses to sample from ({', '.join(LOSS_NAMES)}; 'default' = no --loss "
                             "flag, 0.5*mean squared error) [default]")
    parser.add_argument("--optimizer", action="append",
                        help=f"optimizers to sample from ({', '.join(torch_reference.OPTIMIZERS)}) [sgd,adam]")
    parser.add_argument("--activation", action="append",
                        help="activations to sample hidden and output activations from [all nine]")
    parser.add_argument("--dtype", action="append", help="dtypes to sample from (f32, f64) [f32,f64]")
    parser.add_argument("--max-steps", type=int, default=20, help="steps are drawn from 0..=MAX [20]")
    parser.add_argument("--ulps", type=float, default=100.0,
                        help="relative-error floor = ULPS * eps / tol times the tensor's largest "
                             "|entry| (see the module docstring) [100]")
    tool = parser.add_mutually_exclusive_group()
    tool.add_argument("--command",
                      help="run this command (shell-split, relative to the repo root) instead of "
                           "`cargo run --release --quiet --example torch_parity --`")
    tool.add_argument("--emulate", choices=("numpy", "torch64"),
                      help="replace the tool by an in-process float64 stand-in (validates this checker)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per tool run [600]")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each configuration's flags "
                        "and every problem in full")
    ns = parser.parse_args(argv)
    if ns.configs < 1 or ns.max_steps < 0 or not ns.ulps >= 0:
        parser.error("--configs must be >= 1, --max-steps >= 0 and --ulps >= 0")
    ns.sampling = Sampling(
        losses=_split_list(parser, ns.loss, LOSS_NAMES, (DEFAULT_LOSS,), "--loss"),
        optimizers=_split_list(parser, ns.optimizer, torch_reference.OPTIMIZERS, ("sgd", "adam"), "--optimizer"),
        activations=_split_list(parser, ns.activation, ACTIVATION_NAMES, ACTIVATION_NAMES, "--activation"),
        dtypes=_split_list(parser, ns.dtype, tuple(DTYPES), tuple(DTYPES), "--dtype"),
        max_steps=ns.max_steps,
    )
    return ns


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the check; returns the exit code (0 PASS, 1 FAIL, 2 setup error)."""
    ns = parse_args(argv)
    torch_reference.configure_torch()
    try:
        command: list[str] | None = None
        if ns.emulate == "numpy":
            tool, tool_name = _upcast_run(np_compute), "NumPy float64 emulation (in process)"
        elif ns.emulate == "torch64":
            tool, tool_name = _upcast_run(_torch64), "torch float64 emulation (in process)"
        elif ns.command:
            command = shlex.split(ns.command)
            tool, tool_name = rust_tool(command, ns.timeout), shlex.join(command)
        else:
            build_rust_example()
            command = ["cargo", "run", "--release", "--quiet", "--example", "torch_parity", "--"]
            tool, tool_name = rust_tool(command, ns.timeout), shlex.join(command)
    except ToolError as err:
        print(f"check_torch_parity: {err}", file=sys.stderr)
        return 2

    s = ns.sampling
    print(f"tool: {tool_name}")
    print(f"sampling {ns.configs} configurations (seed {ns.seed}): losses {','.join(s.losses)}; "
          f"optimizers {','.join(s.optimizers)}; dtypes {','.join(s.dtypes)}; steps 0..={s.max_steps}")
    floors = ", ".join(f"{d} {floor_for(d, ns.ulps):.2g}" for d in DTYPES)
    print(f"thresholds (max relative error; floor x max|tensor|: {floors}): "
          f"f64 {TOLERANCES['f64'][0]:g} outputs/grads, {TOLERANCES['f64'][1]:g} weights; "
          f"f32 {TOLERANCES['f32'][0]:g}, {TOLERANCES['f32'][1]:g}")
    rng = random.Random(ns.seed)
    workdir = Path(tempfile.mkdtemp(prefix="torch_parity_"))
    failures: list[tuple[Config, list[str], Path]] = []
    worst: dict[tuple[str, str], float] = {}
    started = time.monotonic()
    for index in range(ns.configs):
        config = sample_config(rng, index, ns.seed * 1_000_003 + index, s)
        case_dir = workdir / f"config{index:03}"
        case_dir.mkdir()
        model_path, data_path = case_dir / "model.safetensors", case_dir / "data.safetensors"
        rust_out, torch_out = case_dir / "tool.safetensors", case_dir / "torch.safetensors"
        model, data = make_inputs(config)
        torch_reference.save_deterministic(model, model_path)
        torch_reference.save_deterministic(data, data_path)
        flags = list(config.flags)
        prefix = f"[{index + 1:>{len(str(ns.configs))}}/{ns.configs}] {config.summary()}"
        if ns.verbose:
            print(f"{prefix}\n    flags: {shlex.join(flags)}")
        problems: list[str] = []
        errors: dict[str, float] = {}
        try:
            torch_reference.run(model_path, data_path, torch_out, flags)
        except Exception as err:  # a sampling problem, not a tool problem, but still a failure
            problems.append(f"torch reference failed: {type(err).__name__}: {err}")
        if not problems:
            try:
                tool(model_path, data_path, rust_out, flags)
                actual = load_numpy(str(rust_out))
            except ToolError as err:
                problems.append(f"tool failed: {err}")
            except Exception as err:
                problems.append(f"tool output unreadable: {type(err).__name__}: {err}")
            else:
                errors, problems = compare(load_numpy(str(torch_out)), actual, config.dtype, ns.ulps)
        for group, err in errors.items():
            key = (config.dtype, group)
            worst[key] = max(worst.get(key, 0.0), err)
        columns = "  ".join(f"{g} {errors[g]:.1e}" if g in errors else f"{g} {'-':>7}" for g in GROUPS)
        verdict = "ok" if not problems else "FAIL"
        print(f"{prefix if not ns.verbose else '   '} | {columns} | {verdict}", flush=True)
        if problems:
            failures.append((config, problems, case_dir))
            for problem in problems if ns.verbose else problems[:3]:
                print("    " + problem.replace("\n", "\n    "))

    elapsed = time.monotonic() - started
    print()
    for dtype in s.dtypes:
        parts = [f"{g} {worst[(dtype, g)]:.1e}" for g in GROUPS if (dtype, g) in worst]
        if parts:
            print(f"worst {dtype}: " + "  ".join(parts))
    keep = ns.keep or bool(failures)
    if failures:
        print(f"FAIL: {len(failures)} of {ns.configs} configurations ({elapsed:.1f} s); inputs kept in {workdir}")
        for config, _, case_dir in failures[:5] if command is not None else []:
            argv = [*command, "--model", str(case_dir / "model.safetensors"), "--data",
                    str(case_dir / "data.safetensors"), "--out", str(case_dir / "tool.safetensors"),
                    *config.flags]
            print(f"  reproduce #{config.index + 1} (from {REPO_ROOT}): {shlex.join(argv)}")
    else:
        print(f"PASS: all {ns.configs} configurations within tolerance ({elapsed:.1f} s)")
    if keep:
        if not failures:
            print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
