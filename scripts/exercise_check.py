#!/usr/bin/env python3
"""Checks ``examples/exercise``'s gradients against PyTorch, in float64.

The example writes, into its output folder (``--out``, default ``exercise-out``):

- ``model.safetensors``: the exercise's network with ``nn.Sequential`` names
  (``0.weight``, ``0.bias``, ``2.weight``, ...; weights ``[out, in]``);
- ``inputs.safetensors``: ``x`` and ``y`` (``[2, 1]``; y = sin(4 pi x)^2);
- ``gradients.safetensors``: for ``one_sample`` (the first row of x and y)
  and ``batch`` (both rows): ``output``, ``loss`` and ``{k}.weight.grad`` /
  ``{k}.bias.grad``.

This script builds the exercise's own network, ``nn.Sequential(Linear,
Sigmoid, Linear, Sigmoid, Linear, Sigmoid)`` (widths read from the file) in
float64, loads the weights with ``model.load_state_dict(load_file(...))``, runs
forward, ``0.5 * mse_loss`` and backward for one sample and for the batch,
prints the first layer's gradients side by side (in the exercise's
``[in, out]`` layout, i.e. transposed) and the worst relative difference
``|a - b| / max(|a|, |b|)`` of every tensor. Exit code 0 if every difference
is at most ``--tol`` (default 1e-12), 1 otherwise, 2 for missing files.

Run from the repository root (the venv is git-ignored; CI does not have it)::

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch safetensors numpy
    cargo run --release --example exercise
    .venv-torch/bin/python scripts/exercise_check.py --dir exercise-out
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    """The largest |a - b| / max(|a|, |b|) over the elements (0 where both are 0)."""
    scale = torch.maximum(a.abs(), b.abs())
    diff = (a - b).abs()
    ratio = torch.where(scale > 0, diff / torch.where(scale > 0, scale, torch.ones_like(scale)), torch.zeros_like(diff))
    return float(ratio.max()) if ratio.numel() else 0.0


def exercise_model(state: dict[str, torch.Tensor]) -> nn.Sequential:
    """nn.Sequential(Linear, Sigmoid, ...) with a Sigmoid after every Linear, float64."""
    positions = sorted(int(name.split(".")[0]) for name in state if name.endswith(".weight"))
    modules: list[nn.Module] = []
    for position in positions:
        if position != len(modules):
            sys.exit(f"exercise_check: expected Linear modules at 0, 2, 4, ...; found {positions}")
        out_features, in_features = state[f"{position}.weight"].shape
        modules += [nn.Linear(in_features, out_features, dtype=torch.float64), nn.Sigmoid()]
    model = nn.Sequential(*modules)
    model.load_state_dict(state)
    return model


def exercise_layout(t: torch.Tensor) -> list[list[float]]:
    """A weight (or its gradient) as the exercise stores it: [in, out]."""
    return t.T.tolist() if t.dim() == 2 else [t.tolist()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="exercise-out", help="the example's --out folder (default: exercise-out)")
    parser.add_argument("--tol", type=float, default=1e-12, help="largest relative difference allowed (default: 1e-12)")
    args = parser.parse_args()
    folder = Path(args.dir)
    paths = {name: folder / f"{name}.safetensors" for name in ("model", "inputs", "gradients")}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        print(f"exercise_check: missing {', '.join(missing)}; run `cargo run --release --example exercise -- --out {folder}`",
              file=sys.stderr)
        return 2

    torch.set_default_dtype(torch.float64)
    state = load_file(paths["model"])
    inputs = load_file(paths["inputs"])
    rust = load_file(paths["gradients"])
    model = exercise_model(state)
    x, y = inputs["x"], inputs["y"]
    print(f"PyTorch {torch.__version__}, float64; model {paths['model']}: {model}")

    worst_overall = 0.0
    for case, rows in (("one_sample", slice(0, 1)), ("batch", slice(None))):
        model.zero_grad()
        output = model(x[rows])
        loss = 0.5 * nn.functional.mse_loss(output, y[rows])
        loss.backward()
        print(f"\n== {case} (x = {x[rows].flatten().tolist()})")
        ours = {f"{name}.grad": p.grad for name, p in model.named_parameters()}
        ours["output"] = output.detach()
        ours["loss"] = loss.detach()

        first_w, first_b = "0.weight.grad", "0.bias.grad"
        print("first layer's gradients, exercise's layout [in, out]:   tinymlp | PyTorch")
        for label, name in (("dC/dW1", first_w), ("dC/db1", first_b)):
            for row_rust, row_torch in zip(exercise_layout(rust[f"{case}.{name}"]), exercise_layout(ours[name])):
                for k, (a, b) in enumerate(zip(row_rust, row_torch)):
                    print(f"  {label}[{k}]  {a: .17e} | {b: .17e}   diff {abs(a - b):.1e}")

        print("worst relative difference per tensor:")
        for name, theirs in ours.items():
            key = f"{case}.{name}"
            if key not in rust:
                print(f"  {key}: missing in {paths['gradients']}")
                worst_overall = float("inf")
                continue
            mine = rust[key].reshape(theirs.shape)
            worst = relative(mine, theirs)
            worst_overall = max(worst_overall, worst)
            print(f"  {key:<26} {worst:.2e}")

    verdict = "PASS" if worst_overall <= args.tol else "FAIL"
    print(f"\nworst relative difference overall: {worst_overall:.2e} (tolerance {args.tol:g}): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
