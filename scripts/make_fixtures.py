#!/usr/bin/env python3
"""Generates the PyTorch parity fixtures in ``tests/fixtures/parity/`` and ``tests/fixtures/breadth/``.

Two fixture sets, same conventions:

* ``parity``: activations, depths and batch sizes with the default loss, and
  the SGD and Adam configurations of the original issue;
* ``breadth``: every ``--loss`` (each with SGD and with Adam), every optimizer
  configuration (sgd, adam, adamw, rmsprop with their flags) with the default
  loss, and gradients of every loss at batch 1 and batch 33.

For every case ``<case>`` it writes three safetensors files:

* ``<case>.model.safetensors``: ``layers.{i}.weight`` [out, in] and
  ``layers.{i}.bias`` [out] (the ``torch.nn.Linear`` layout), F32 or F64;
* ``<case>.data.safetensors``: ``x`` [batch, in] and ``y`` [batch, out];
* ``<case>.expected.safetensors``: what ``torch_parity --model <case>.model.safetensors
  --data <case>.data.safetensors --out O <args>`` must write (computed by
  ``scripts/torch_reference.py``), with ``__metadata__`` keys ``"args"`` (the
  extra flags, space-separated, possibly ``""``), ``"description"`` and
  ``"torch_version"``.

The Rust tests read these committed files; CI does not need Python. Every case
is seeded with ``torch.manual_seed`` (derived from the case's name), torch runs
single-threaded and deterministically, and the files are rewritten from scratch,
so running the script twice gives byte-identical files (check with
``sha256sum tests/fixtures/parity/* tests/fixtures/breadth/*``). Stale
``*.safetensors`` files of cases that no longer exist are removed. A
``README.md`` listing the cases and the conventions is written next to them.
After writing, the parity set's exercise fixture is re-checked with an
independent NumPy computation of forward, loss and gradients, and every
breadth fixture with the NumPy float64 emulation of the whole contract
(losses and optimizers too) in ``scripts/check_torch_parity.py``.

Setup (once, from the repository root; the venv is git-ignored)::

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch safetensors numpy

Run (from anywhere)::

    .venv-torch/bin/python scripts/make_fixtures.py                      # both sets
    .venv-torch/bin/python scripts/make_fixtures.py --set breadth [--out-dir DIR] [--list]
"""

from __future__ import annotations

import argparse
import math
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file as load_numpy
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_reference  # noqa: E402  (needs the path above)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT_DIR = REPO_ROOT / "tests" / "fixtures" / "parity"
BREADTH_OUT_DIR = REPO_ROOT / "tests" / "fixtures" / "breadth"

DTYPES: dict[str, torch.dtype] = {"f32": torch.float32, "f64": torch.float64}

#: Builds (model, data) for a case from its seeded state; the default is ``random_inputs``.
Generator = Callable[["Case"], tuple[dict[str, Tensor], dict[str, Tensor]]]


@dataclass(frozen=True)
class Case:
    """One fixture: a network shape, a dtype, a batch size and the tool's extra flags."""

    name: str
    widths: tuple[int, ...]
    dtype: str
    batch: int
    args: str
    description: str
    generator: Generator | None = field(default=None, compare=False)

    @property
    def torch_dtype(self) -> torch.dtype:
        """The case's dtype as a torch dtype."""
        return DTYPES[self.dtype]

    @property
    def seed(self) -> int:
        """A seed derived from the name only, so adding cases does not change the others."""
        return zlib.crc32(self.name.encode())

    @property
    def options(self) -> torch_reference.Options:
        """The case's flags, parsed."""
        return torch_reference.parse_flags(self.args.split())

    @property
    def output_activation(self) -> str:
        """The output activation the case's flags select."""
        return self.options.out_activation


def linear_default_init(widths: tuple[int, ...], dtype: torch.dtype) -> dict[str, Tensor]:
    """``nn.Linear``'s default initialisation (uses the global torch RNG)."""
    model: dict[str, Tensor] = {}
    for i in range(len(widths) - 1):
        layer = nn.Linear(widths[i], widths[i + 1], dtype=dtype)
        model[f"layers.{i}.weight"] = layer.weight.detach().clone()
        model[f"layers.{i}.bias"] = layer.bias.detach().clone()
    return model


def random_inputs(case: Case) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Default-initialised weights, ``x ~ U(-2, 2)``, ``y ~ U(-1, 1)`` (``U(0, 1)`` for sigmoid outputs)."""
    dtype = case.torch_dtype
    model = linear_default_init(case.widths, dtype)
    x = torch.rand(case.batch, case.widths[0], dtype=dtype) * 4 - 2
    y = torch.rand(case.batch, case.widths[-1], dtype=dtype)
    if case.output_activation != "sigmoid":
        y = y * 2 - 1
    return model, {"x": x, "y": y}


def exercise_inputs(case: Case) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The exercise: Xavier-uniform weights (gain of sigmoid), zero biases,
    ``x = linspace(0, 1, 2) + 0.2`` as a column and ``y = sin^2(4*pi*x)``."""
    dtype = case.torch_dtype
    gain = nn.init.calculate_gain("sigmoid")
    model: dict[str, Tensor] = {}
    for i in range(len(case.widths) - 1):
        weight = torch.empty(case.widths[i + 1], case.widths[i], dtype=dtype)
        nn.init.xavier_uniform_(weight, gain=gain)
        bias = torch.empty(case.widths[i + 1], dtype=dtype)
        nn.init.zeros_(bias)
        model[f"layers.{i}.weight"], model[f"layers.{i}.bias"] = weight, bias
    x = (torch.linspace(0, 1, case.batch, dtype=dtype) + 0.2).reshape(case.batch, 1)
    y = torch.sin(4 * math.pi * x) ** 2
    return model, {"x": x, "y": y}


def cases() -> list[Case]:
    """All fixture cases."""
    out: list[Case] = []
    for dtype in ("f64", "f32"):
        for act in torch_reference.ACTIVATIONS:
            out.append(Case(
                f"act_{act}_{dtype}", (3, 5, 2), dtype, 7, f"--activation {act}",
                f"[3, 5, 2] with {act} after both layers (output activation by default the "
                f"same as --activation), {dtype}, batch 7, default loss, gradients only"))
    shapes = [
        ("depth1_b1", (1, 1), 1, "tanh", "identity"),
        ("depth2_b2", (4, 1, 3), 2, "silu", "sigmoid"),
        ("depth3_b17", (2, 16, 16, 1), 17, "tanh", "identity"),
        ("depth4_b64", (5, 3, 1, 4, 2), 64, "leaky_relu", "softplus"),
    ]
    for dtype in ("f64", "f32"):
        for name, widths, batch, hidden, output in shapes:
            out.append(Case(
                f"{name}_{dtype}", widths, dtype, batch,
                f"--activation {hidden} --output-activation {output}",
                f"{list(widths)} with {hidden} hidden / {output} output, {dtype}, batch {batch}, "
                "default loss, gradients only"))
    sgd_net = ((3, 8, 2), 16, "--activation tanh --output-activation identity")
    sgd = [
        ("sgd", "", "plain SGD", ("f64", "f32")),
        ("sgd_momentum", " --momentum 0.9", "SGD with momentum 0.9", ("f64", "f32")),
        ("sgd_nesterov", " --momentum 0.9 --nesterov", "SGD with Nesterov momentum 0.9", ("f64",)),
        ("sgd_weight_decay", " --weight-decay 0.01", "SGD with weight decay 0.01", ("f64",)),
    ]
    for name, flags, what, dtypes in sgd:
        for dtype in dtypes:
            widths, batch, acts = sgd_net
            out.append(Case(
                f"{name}_{dtype}", widths, dtype, batch,
                f"{acts} --optimizer sgd --lr 0.1 --steps 20{flags}",
                f"{list(widths)} tanh hidden / identity output, {dtype}, batch {batch}, default loss, "
                f"{what} (lr 0.1), 20 full-batch steps"))
    adam_net = ((2, 8, 8, 1), 12, "--activation silu --output-activation identity")
    adam = [("adam", "", "Adam"), ("adam_weight_decay", " --weight-decay 0.01", "Adam with weight decay 0.01")]
    for dtype in ("f64", "f32"):
        for name, flags, what in adam:
            widths, batch, acts = adam_net
            out.append(Case(
                f"{name}_{dtype}", widths, dtype, batch,
                f"{acts} --optimizer adam --lr 0.01 --steps 20{flags}",
                f"{list(widths)} silu hidden / identity output, {dtype}, batch {batch}, default loss, "
                f"{what} (lr 0.01), 20 full-batch steps"))
    exercise = ("the exercise: [1, 4, 4, 1] sigmoid hidden and output (all defaults), f64, "
                "Xavier-uniform weights (gain 1) and zero biases, x = linspace(0, 1, 2) + 0.2 "
                "as a column, y = sin^2(4*pi*x), default loss 0.5*mean((output - y)^2)")
    out.append(Case("exercise_f64", (1, 4, 4, 1), "f64", 2, "",
                    exercise + ", gradients only", exercise_inputs))
    out.append(Case("exercise_adam_f64", (1, 4, 4, 1), "f64", 2,
                    "--optimizer adam --lr 0.01 --steps 20",
                    exercise + ", Adam (lr 0.01), 20 full-batch steps", exercise_inputs))
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "duplicate case names"
    return out


#: Per loss of the breadth set: (description of the loss, output activation, description of y).
BREADTH_LOSSES: dict[str | None, tuple[str, str, str]] = {
    None: ("default loss 0.5*mean((output - y)^2)", "identity", "y ~ U(-1, 1)"),
    "mse": ("mse loss mean((output - y)^2)", "identity", "y ~ U(-1, 1)"),
    "l1": ("l1 loss mean(|output - y|)", "identity", "y ~ U(-1, 1)"),
    "huber": ("huber loss (delta 1)", "identity",
              "y ~ U(-3, 3) so that both the quadratic and the linear branch occur"),
    "bce": ("bce loss (binary cross-entropy of probabilities)", "sigmoid", "y ~ U(0, 1)"),
    "bce_with_logits": ("bce_with_logits loss", "identity", "y ~ U(0, 1)"),
    "cross_entropy": ("cross_entropy loss with class-probability targets", "identity",
                      "y = softmax(2 * N(0, 1) logits) per row (3 classes)"),
}

#: rmsprop (division by the root of a running mean of squared gradients that
#: starts at zero) and l1 (discontinuous gradient) amplify f32 rounding over
#: many steps, so their f32 cases take only this many steps.
SHORT_F32_STEPS = 5
BREADTH_STEPS = 20


def breadth_inputs(case: Case) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """``nn.Linear`` default weights, ``x ~ U(-2, 2)`` and ``y`` to suit the loss (``BREADTH_LOSSES``)."""
    dtype = case.torch_dtype
    model = linear_default_init(case.widths, dtype)
    batch, out = case.batch, case.widths[-1]
    x = torch.rand(batch, case.widths[0], dtype=dtype) * 4 - 2
    loss = case.options.loss
    if loss == "cross_entropy":
        y = torch.softmax(torch.randn(batch, out, dtype=dtype) * 2, dim=1)
    elif loss in ("bce", "bce_with_logits"):
        y = torch.rand(batch, out, dtype=dtype)
    elif loss == "huber":
        y = torch.rand(batch, out, dtype=dtype) * 6 - 3
    else:
        y = torch.rand(batch, out, dtype=dtype) * 2 - 1
    return model, {"x": x, "y": y}


def _optimizer_flags(optimizer: str, lr: str, steps: int, flags: str) -> str:
    return f"--optimizer {optimizer} --lr {lr} --steps {steps}{flags}"


def _steps_for(dtype: str, amplifier: str | None) -> tuple[int, str]:
    """Steps and the description's step clause; ``amplifier`` (l1 or rmsprop) shortens f32 runs."""
    if dtype == "f32" and amplifier is not None:
        return SHORT_F32_STEPS, (f"{SHORT_F32_STEPS} full-batch steps (not {BREADTH_STEPS}: "
                                 f"{amplifier} amplifies f32 rounding over many steps)")
    return BREADTH_STEPS, f"{BREADTH_STEPS} full-batch steps"


def breadth_cases() -> list[Case]:
    """The breadth set: every loss, every optimizer configuration, gradients at batch 1 and 33."""
    out: list[Case] = []
    # Every --loss, with SGD and with Adam.
    loss_widths, loss_batch = (4, 6, 3), 12
    for loss, (what, output, targets) in BREADTH_LOSSES.items():
        if loss is None:
            continue
        for optimizer, lr, opt_name in (("sgd", "0.1", "SGD"), ("adam", "0.01", "Adam")):
            for dtype in ("f64", "f32"):
                steps, steps_text = _steps_for(dtype, "l1" if loss == "l1" else None)
                out.append(Case(
                    f"loss_{loss}_{optimizer}_{dtype}", loss_widths, dtype, loss_batch,
                    f"--activation tanh --output-activation {output} --loss {loss} "
                    + _optimizer_flags(optimizer, lr, steps, ""),
                    f"{list(loss_widths)} tanh hidden / {output} output, {dtype}, batch {loss_batch}, "
                    f"{what}, x ~ U(-2, 2), {targets}, {opt_name} (lr {lr}), {steps_text}",
                    breadth_inputs))
    # Every optimizer configuration with the default loss.
    opt_widths, opt_batch = (3, 8, 2), 16
    optimizers = [
        ("sgd", "sgd", "0.1", "", "plain SGD"),
        ("sgd_momentum", "sgd", "0.1", " --momentum 0.9", "SGD with momentum 0.9"),
        ("sgd_nesterov", "sgd", "0.1", " --momentum 0.9 --nesterov", "SGD with Nesterov momentum 0.9"),
        ("sgd_weight_decay", "sgd", "0.1", " --weight-decay 0.01", "SGD with weight decay 0.01"),
        ("sgd_nesterov_weight_decay", "sgd", "0.1", " --momentum 0.9 --nesterov --weight-decay 0.01",
         "SGD with Nesterov momentum 0.9 and weight decay 0.01"),
        ("adam", "adam", "0.01", "", "plain Adam"),
        ("adam_weight_decay", "adam", "0.01", " --weight-decay 0.01", "Adam with (L2) weight decay 0.01"),
        ("adamw", "adamw", "0.01", "", "plain AdamW (torch's default decoupled weight decay 0.01)"),
        ("adamw_weight_decay", "adamw", "0.01", " --weight-decay 0.1", "AdamW with weight decay 0.1"),
        ("rmsprop", "rmsprop", "0.01", "", "plain RMSprop (alpha 0.99, eps 1e-8)"),
        ("rmsprop_momentum", "rmsprop", "0.01", " --momentum 0.9", "RMSprop with momentum 0.9"),
        ("rmsprop_weight_decay", "rmsprop", "0.01", " --weight-decay 0.01", "RMSprop with weight decay 0.01"),
    ]
    what, output, targets = BREADTH_LOSSES[None]
    for name, optimizer, lr, flags, opt_name in optimizers:
        for dtype in ("f64", "f32"):
            steps, steps_text = _steps_for(dtype, "rmsprop" if optimizer == "rmsprop" else None)
            out.append(Case(
                f"opt_{name}_{dtype}", opt_widths, dtype, opt_batch,
                f"--activation tanh --output-activation {output} "
                + _optimizer_flags(optimizer, lr, steps, flags),
                f"{list(opt_widths)} tanh hidden / {output} output, {dtype}, batch {opt_batch}, "
                f"{what}, x ~ U(-2, 2), {targets}, {opt_name} (lr {lr}), {steps_text}",
                breadth_inputs))
    # Gradients only, every loss (and the default), batch 1 and batch 33.
    grad_widths = (4, 6, 3)
    for loss, (what, output, targets) in BREADTH_LOSSES.items():
        for batch in (1, 33):
            loss_flag = f" --loss {loss}" if loss is not None else ""
            out.append(Case(
                f"grad_{loss or 'default'}_b{batch}_f64", grad_widths, "f64", batch,
                f"--activation tanh --output-activation {output}{loss_flag}",
                f"{list(grad_widths)} tanh hidden / {output} output, f64, batch {batch}, "
                f"{what}, x ~ U(-2, 2), {targets}, gradients only",
                breadth_inputs))
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "duplicate case names"
    return out


def write_case(case: Case, out_dir: Path) -> list[Path]:
    """Writes the case's three files and returns their paths."""
    torch.manual_seed(case.seed)
    model, data = (case.generator or random_inputs)(case)
    widths, dtype = torch_reference.model_widths(model)
    assert tuple(widths) == case.widths and dtype == case.torch_dtype, case.name
    paths = [out_dir / f"{case.name}.{kind}.safetensors" for kind in ("model", "data", "expected")]
    torch_reference.save_deterministic(model, paths[0])
    torch_reference.save_deterministic(data, paths[1])
    metadata = {"args": case.args, "description": case.description,
                "torch_version": torch.__version__}
    torch_reference.run(paths[0], paths[1], paths[2], case.args.split(), metadata=metadata)
    return paths


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def verify_exercise(out_dir: Path, name: str = "exercise_f64") -> None:
    """Recomputes the exercise fixture's output, default loss and gradients with NumPy.

    Pins the fixture semantics independently of torch: ``y = x @ W.T + b`` with
    ``W`` stored [out, in], sigmoid after every layer including the last, and
    the loss ``0.5 * mean((output - y)**2)`` over all elements.
    """
    model = load_numpy(str(out_dir / f"{name}.model.safetensors"))
    data = load_numpy(str(out_dir / f"{name}.data.safetensors"))
    expected = load_numpy(str(out_dir / f"{name}.expected.safetensors"))
    count = len(model) // 2
    x, y = data["x"], data["y"]
    np.testing.assert_allclose(x[:, 0], [0.2, 1.2], rtol=0, atol=1e-15)
    np.testing.assert_allclose(y[:, 0], np.sin(4 * np.pi * x[:, 0]) ** 2, rtol=1e-14, atol=1e-15)
    activations = [x]
    for i in range(count):
        activations.append(_sigmoid(activations[-1] @ model[f"layers.{i}.weight"].T
                                    + model[f"layers.{i}.bias"]))
    output = activations[-1]
    loss = 0.5 * np.mean((output - y) ** 2)
    delta = (output - y) / output.size  # d loss / d output
    grads: dict[str, np.ndarray] = {}
    for i in reversed(range(count)):
        a = activations[i + 1]
        delta = delta * a * (1 - a)  # through the sigmoid
        grads[f"layers.{i}.weight.grad"] = delta.T @ activations[i]
        grads[f"layers.{i}.bias.grad"] = delta.sum(axis=0)
        delta = delta @ model[f"layers.{i}.weight"]
    assert expected["loss"].shape == (), expected["loss"].shape
    np.testing.assert_allclose(expected["output"], output, rtol=1e-13, atol=0)
    np.testing.assert_allclose(expected["loss"], loss, rtol=1e-13, atol=0)
    for key, grad in grads.items():
        np.testing.assert_allclose(expected[key], grad, rtol=1e-12, atol=1e-17, err_msg=key)
    assert set(expected) == {"output", "loss", *grads}, sorted(expected)


README_HEAD = """\
# PyTorch parity fixtures

Generated by `scripts/make_fixtures.py` (do not edit by hand; regenerate with
`.venv-torch/bin/python scripts/make_fixtures.py`, which is deterministic:
running it twice gives byte-identical files). The expected results come from
`scripts/torch_reference.py`, the PyTorch implementation of the `torch_parity`
tool contract (torch single-threaded, deterministic algorithms).

Each case `<case>` has three safetensors files:

- `<case>.model.safetensors`: `layers.{i}.weight` [out, in] and `layers.{i}.bias`
  [out] (the `torch.nn.Linear` layout: a layer computes `x @ W.T + b`), all F32
  or all F64.
- `<case>.data.safetensors`: `x` [batch, in] and `y` [batch, out], same dtype.
- `<case>.expected.safetensors`: what
  `torch_parity --model <case>.model.safetensors --data <case>.data.safetensors --out O <args>`
  must write: `output` [batch, out] and `loss` (shape `[]`) at the initial
  parameters, `layers.{i}.weight.grad` / `layers.{i}.bias.grad` at the initial
  parameters, and, for cases with `--steps N` > 0, `layers.{i}.weight` /
  `layers.{i}.bias` after the N optimizer steps. Its `__metadata__` holds
  `args` (the extra flags, separated by single spaces, possibly empty: split on
  whitespace), `description` and `torch_version`.

`scripts/check_torch_parity.py` compares with the relative error
`|a - b| / max(|b|, floor * max|B|)` (B: the reference tensor, floor =
100 * eps / tol: 2.2e-4 for f64, 0.119 for f32) against 1e-10 (f64) / 1e-4
(f32) for outputs, losses and gradients and 1e-9 / 1e-3 for weights after
steps; see its module docstring for why the floor is relative to the tensor.

| case | dtype | widths | batch | args |
|------|-------|--------|-------|------|
"""


BREADTH_README_HEAD = f"""\
# PyTorch breadth fixtures

Generated by `scripts/make_fixtures.py` (do not edit by hand; regenerate with
`.venv-torch/bin/python scripts/make_fixtures.py`, which writes this set and
`tests/fixtures/parity/`, or with `--set breadth` for this set only; it is
deterministic: running it twice gives byte-identical files). The expected
results come from `scripts/torch_reference.py`, the PyTorch implementation of
the `torch_parity` tool contract (torch single-threaded, deterministic
algorithms, `foreach=False`). The generator also checks every case against the
independent NumPy float64 emulation of the contract in
`scripts/check_torch_parity.py`.

Each case `<case>` has three safetensors files, exactly as in
`tests/fixtures/parity/`:

- `<case>.model.safetensors`: `layers.{{i}}.weight` [out, in] and `layers.{{i}}.bias`
  [out] (the `torch.nn.Linear` layout: a layer computes `x @ W.T + b`), all F32
  or all F64.
- `<case>.data.safetensors`: `x` [batch, in] and `y` [batch, out], same dtype.
- `<case>.expected.safetensors`: what
  `torch_parity --model <case>.model.safetensors --data <case>.data.safetensors --out O <args>`
  must write: `output` [batch, out] and `loss` (shape `[]`) at the initial
  parameters, `layers.{{i}}.weight.grad` / `layers.{{i}}.bias.grad` at the initial
  parameters, and, for cases with `--steps N` > 0, `layers.{{i}}.weight` /
  `layers.{{i}}.bias` after the N optimizer steps. Its `__metadata__` holds
  `args` (the extra flags, separated by single spaces: split on whitespace),
  `description` and `torch_version`.

The cases (weights: `nn.Linear`'s default initialisation; `x ~ U(-2, 2)`;
every case seeded with `torch.manual_seed(crc32(case name))`):

- `loss_<loss>_<sgd|adam>_<dtype>`: every `--loss` (mse, l1, huber, bce,
  bce_with_logits, cross_entropy) on [4, 6, 3] with tanh hidden, batch 12,
  with SGD (lr 0.1) and with Adam (lr 0.01). Output activation sigmoid for
  bce, identity otherwise. Targets: `y ~ U(-1, 1)` for mse and l1,
  `U(-3, 3)` for huber (both branches of delta 1), `U(0, 1)` for bce and
  bce_with_logits, class probabilities `softmax(2 * N(0, 1))` per row
  (3 classes) for cross_entropy.
- `opt_<configuration>_<dtype>`: every optimizer configuration with the
  default loss `0.5*mean((output - y)^2)` on [3, 8, 2] tanh hidden / identity
  output, batch 16, `y ~ U(-1, 1)`: sgd (lr 0.1) plain, `--momentum 0.9`,
  `--momentum 0.9 --nesterov`, `--weight-decay 0.01`, all three; adam
  (lr 0.01) plain, `--weight-decay 0.01`; adamw (lr 0.01) plain (torch's
  default weight decay 0.01), `--weight-decay 0.1`; rmsprop (lr 0.01) plain,
  `--momentum 0.9`, `--weight-decay 0.01`.
- `grad_<loss>_b<batch>_f64`: gradients only (no optimizer) of every loss and
  of the default loss, [4, 6, 3], batch 1 and batch 33, targets as above.

Optimizer cases take {BREADTH_STEPS} full-batch steps, except the f32 cases with
`--loss l1` or `--optimizer rmsprop`, which take {SHORT_F32_STEPS} (`--steps {SHORT_F32_STEPS}` in their
args; their descriptions say so): rmsprop divides by the root of a running
mean of squared gradients that starts at zero and l1 has a discontinuous
gradient, so both amplify f32 rounding over many steps (random sampling with
`scripts/check_torch_parity.py` has shown f32 weight differences up to 5e-3
between correct implementations after 20 steps).

`scripts/check_torch_parity.py` compares with the relative error
`|a - b| / max(|b|, floor * max|B|)` (B: the reference tensor, floor =
100 * eps / tol: 2.2e-4 for f64, 0.119 for f32) against 1e-10 (f64) / 1e-4
(f32) for outputs, losses and gradients and 1e-9 / 1e-3 for weights after
steps; see its module docstring for why the floor is relative to the tensor.

| case | dtype | widths | batch | args |
|------|-------|--------|-------|------|
"""


def write_readme(all_cases: list[Case], out_dir: Path, head: str = README_HEAD) -> Path:
    """Writes ``README.md`` (conventions and the case table) and returns its path."""
    rows = [f"| `{c.name}` | {c.dtype} | {list(c.widths)} | {c.batch} | "
            f"{f'`{c.args}`' if c.args else '(none: all defaults)'} |" for c in all_cases]
    path = out_dir / "README.md"
    path.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def verify_with_emulation(all_cases: list[Case], out_dir: Path) -> dict[tuple[str, str], float]:
    """Checks every case's expected file against the NumPy float64 emulation of the contract.

    ``check_torch_parity.np_compute`` implements forward, every loss, backward
    and every optimizer from their documented formulas without torch. Its
    float64 results, cast to the case's dtype, must agree with the fixture
    within the checker's thresholds (``check_torch_parity.compare``). Also
    checks the data the cases promise (targets in [0, 1] for the bce losses,
    probability rows for cross_entropy, both huber branches). Returns the worst
    relative error per (dtype, group).
    """
    import check_torch_parity as checker  # noqa: PLC0415  (only needed here)

    worst: dict[tuple[str, str], float] = {}
    for case in all_cases:
        load = lambda kind: load_numpy(str(out_dir / f"{case.name}.{kind}.safetensors"))  # noqa: E731
        model, data, expected = load("model"), load("data"), load("expected")
        np_dtype = checker.NP_DTYPES[case.dtype]
        result = checker.np_compute({k: v.astype(np.float64) for k, v in model.items()},
                                    {k: v.astype(np.float64) for k, v in data.items()},
                                    case.args.split())
        actual = {k: np.array(v, dtype=np_dtype) for k, v in result.items()}
        errors, problems = checker.compare(expected, actual, case.dtype)
        if problems:
            raise AssertionError(f"{case.name}: the NumPy emulation disagrees: {'; '.join(problems)}")
        for group, err in errors.items():
            worst[(case.dtype, group)] = max(worst.get((case.dtype, group), 0.0), err)
        opts = case.options
        y = data["y"].astype(np.float64)
        if opts.loss in ("bce", "bce_with_logits", "cross_entropy"):
            assert y.min() >= 0 and y.max() <= 1, case.name
        if opts.loss == "cross_entropy":
            assert y.shape[1] >= 3, case.name
            np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=0, atol=10 * np.finfo(np_dtype).eps)
        if opts.loss == "bce":
            assert opts.out_activation == "sigmoid", case.name
        if opts.loss == "huber":
            residual = np.abs(expected["output"].astype(np.float64) - y)
            assert (residual < 1).any() and (residual > 1).any(), f"{case.name}: one huber branch only"
        steps_expected = 0 if opts.optimizer is None else (
            SHORT_F32_STEPS if case.dtype == "f32" and (opts.loss == "l1" or opts.optimizer == "rmsprop")
            else BREADTH_STEPS)
        assert opts.steps == steps_expected, case.name
    return worst


@dataclass(frozen=True)
class FixtureSet:
    """A fixture set: its cases, default directory and README head."""

    cases: Callable[[], list[Case]]
    out_dir: Path
    readme_head: str


FIXTURE_SETS: dict[str, FixtureSet] = {
    "parity": FixtureSet(cases, DEFAULT_OUT_DIR, README_HEAD),
    "breadth": FixtureSet(breadth_cases, BREADTH_OUT_DIR, BREADTH_README_HEAD),
}


def write_set(name: str, out_dir: Path) -> None:
    """Writes (and verifies) one fixture set into ``out_dir``."""
    fixture_set = FIXTURE_SETS[name]
    all_cases = fixture_set.cases()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: set[Path] = set()
    for case in all_cases:
        written.update(write_case(case, out_dir))
    for stale in sorted(set(out_dir.glob("*.safetensors")) - written):
        print(f"removing stale fixture {stale.name}")
        stale.unlink()
    if name == "parity":
        verify_exercise(out_dir)
    else:
        worst = verify_with_emulation(all_cases, out_dir)
    total = sum(p.stat().st_size for p in written)
    readme = write_readme(all_cases, out_dir, fixture_set.readme_head)
    print(f"wrote {len(all_cases)} cases ({len(written)} safetensors files, {total} bytes) "
          f"and {readme.name} to {out_dir}")
    if name == "parity":
        print("verified exercise_f64 against an independent NumPy forward/loss/gradient computation")
    else:
        print(f"verified all {len(all_cases)} cases against the NumPy float64 emulation of "
              "check_torch_parity.py; worst relative errors:")
        for dtype in DTYPES:
            parts = [f"{g} {worst[(dtype, g)]:.1e}" for g in ("output", "loss", "grads", "weights")
                     if (dtype, g) in worst]
            print(f"  {dtype}: " + "  ".join(parts))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description="Write the PyTorch parity and breadth fixtures.")
    parser.add_argument("--set", dest="fixture_set", choices=("all", *FIXTURE_SETS), default="all",
                        help="which fixture set to write [default: all]")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="where to write the fixtures (needs --set parity or --set breadth) "
                             "[default: tests/fixtures/<set>]")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    ns = parser.parse_args(argv)
    names = list(FIXTURE_SETS) if ns.fixture_set == "all" else [ns.fixture_set]
    if ns.out_dir is not None and len(names) != 1:
        parser.error("--out-dir needs --set parity or --set breadth")
    if ns.list:
        for name in names:
            for case in FIXTURE_SETS[name].cases():
                print(f"{name:8} {case.name:40} {case.dtype} {str(list(case.widths)):18} "
                      f"batch {case.batch:3}  args: {case.args!r}")
        return 0
    for name in names:
        write_set(name, ns.out_dir if ns.out_dir is not None else FIXTURE_SETS[name].out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
