#!/usr/bin/env python3
"""The PyTorch half of the tinymlp -> PyTorch -> tinymlp round trip.

Reads `tests/fixtures/roundtrip/tinymlp_{f32,f64}.safetensors` (written by the
crate: `TINYMLP_WRITE_FIXTURES=1 cargo test --test roundtrip`), loads each into
a torch module whose Linear layers live in `self.layers` (so its state_dict keys
are `layers.{i}.weight` / `layers.{i}.bias`), and saves `module.state_dict()`
with `safetensors.torch.save_file` as `torch_{f32,f64}.safetensors`. The Rust
test `tests/roundtrip.rs` then checks that every weight came back bit for bit.

Run from the repository root:

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch safetensors numpy
    .venv-torch/bin/python scripts/roundtrip_fixture.py
"""

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "roundtrip"


class Mlp(torch.nn.Module):
    """Dense layers only; the activations do not hold parameters."""

    def __init__(self, widths: list[int], dtype: torch.dtype) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(i, o, dtype=dtype) for i, o in zip(widths, widths[1:])
        )


def round_trip(dtype_name: str) -> None:
    """Loads the tinymlp file into torch and saves torch's state_dict."""
    tensors = load_file(FIXTURES / f"tinymlp_{dtype_name}.safetensors")
    count = len(tensors) // 2
    widths = [tensors["layers.0.weight"].shape[1]] + [
        tensors[f"layers.{i}.weight"].shape[0] for i in range(count)
    ]
    dtype = tensors["layers.0.weight"].dtype
    module = Mlp(widths, dtype)
    module.load_state_dict(tensors, strict=True)
    state = {name: value.contiguous() for name, value in module.state_dict().items()}
    save_file(state, FIXTURES / f"torch_{dtype_name}.safetensors")
    print(f"{dtype_name}: widths {widths}, {sum(v.numel() for v in state.values())} parameters")


if __name__ == "__main__":
    for name in ("f32", "f64"):
        round_trip(name)
