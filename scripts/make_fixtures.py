#!/usr/bin/env python3
"""Generates the PyTorch parity fixtures in ``tests/fixtures/parity/``.

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
``sha256sum tests/fixtures/parity/*``). Stale ``*.safetensors`` files of cases
that no longer exist are removed. A ``README.md`` listing the cases and the
conventions is written next to them. After writing, the exercise fixture is
re-checked with an independent NumPy computation of forward, loss and gradients.

Setup (once, from the repository root; the venv is git-ignored)::

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch safetensors numpy

Run (from anywhere)::

    .venv-torch/bin/python scripts/make_fixtures.py [--out-dir DIR] [--list]
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
    def output_activation(self) -> str:
        """The output activation the case's flags select."""
        return torch_reference.parse_flags(self.args.split()).out_activation


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


def write_readme(all_cases: list[Case], out_dir: Path) -> Path:
    """Writes ``README.md`` (conventions and the case table) and returns its path."""
    rows = [f"| `{c.name}` | {c.dtype} | {list(c.widths)} | {c.batch} | "
            f"{f'`{c.args}`' if c.args else '(none: all defaults)'} |" for c in all_cases]
    path = out_dir / "README.md"
    path.write_text(README_HEAD + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description="Write the PyTorch parity fixtures.")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR,
                        help=f"where to write the fixtures [default: {DEFAULT_OUT_DIR.relative_to(REPO_ROOT)}]")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    ns = parser.parse_args(argv)
    all_cases = cases()
    if ns.list:
        for case in all_cases:
            print(f"{case.name:24} {case.dtype} {str(list(case.widths)):18} batch {case.batch:3}  "
                  f"args: {case.args!r}")
        return 0
    out_dir: Path = ns.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    written: set[Path] = set()
    for case in all_cases:
        written.update(write_case(case, out_dir))
    for stale in sorted(set(out_dir.glob("*.safetensors")) - written):
        print(f"removing stale fixture {stale.name}")
        stale.unlink()
    verify_exercise(out_dir)
    total = sum(p.stat().st_size for p in written)
    readme = write_readme(all_cases, out_dir)
    print(f"wrote {len(all_cases)} cases ({len(written)} safetensors files, {total} bytes) "
          f"and {readme.name} to {out_dir}")
    print("verified exercise_f64 against an independent NumPy forward/loss/gradient computation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
