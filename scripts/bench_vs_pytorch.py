#!/usr/bin/env python3
"""Time tinymlp against PyTorch on the same workloads, in the same run.

For every workload of ``benches/train_step.rs`` this script runs the same
configuration in PyTorch (same widths, dtype, activations, loss, optimizer;
single thread), runs the Rust bench binary, and prints one table::

    workload | PyTorch | tinymlp (tuple, dyn) | speed-up | target | met?

One training step on both sides is: zero_grad, forward, 0.5 * mean((y_hat - y)^2),
backward, optimizer update (torch: ``opt.zero_grad(); loss = 0.5 *
F.mse_loss(net(x), y); loss.backward(); opt.step()`` with default optimizer
options, i.e. what a user gets).

The machine may be noisy (other processes, two vCPUs), so the script runs
``--rounds`` rounds; within a round each workload is timed on both sides back
to back (alternating which goes first). Times and GFLOP/s in the table are the
best of the per-round medians (each median is over many samples; samples
during which the thread lost its CPU are dropped on both sides). The speed-up
is the median over rounds of the ratio WITHIN each round, so a busy spell that
hits only one round's measurement of one side does not skew it. Every
per-round figure is printed below the table.

Run from the repository root (the venv is git-ignored; CI does not have it)::

    .venv-torch/bin/python scripts/bench_vs_pytorch.py                  # 3 rounds
    .venv-torch/bin/python scripts/bench_vs_pytorch.py --rounds 5 --threads 2 \\
        --markdown bench.md
    .venv-torch/bin/python scripts/bench_vs_pytorch.py --native        # -C target-cpu=native
    .venv-torch/bin/python scripts/bench_vs_pytorch.py --filter sine --phases

The Rust side is built once (``cargo bench --no-run``) and the resulting
executable is run directly in every round, so a source edit in the middle of
a run cannot mix two builds. ``--native`` builds with
``RUSTFLAGS=-C target-cpu=native`` into ``target/bench-native`` (so the normal
target directory is not invalidated).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = "train_step"


# --------------------------------------------------------------------------
# Workloads: ids and variants match the RESULT lines of benches/train_step.rs.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Train:
    id: str
    label: str
    widths: tuple[int, ...]
    hidden: str
    output: str
    dtype: str
    batch: int
    optimizer: str  # "adam" (lr 0.01) or "sgd" (lr 0.01)
    data: str  # "sine" or "classes"
    target: float | None  # required speed-up (torch time / tinymlp time), None: information
    guide: float | None = None  # PyTorch 1-thread us/step measured earlier (docs' GUIDE.md section 3)


TRAIN = [
    Train("sigmoid_1_4_4_1_f64_b2_adam", "[1,4,4,1] sigmoid, f64, batch 2, Adam",
          (1, 4, 4, 1), "sigmoid", "sigmoid", "f64", 2, "adam", "sine", 500.0, 239),
    Train("sigmoid_1_4_4_1_f64_b100_adam", "[1,4,4,1] sigmoid, f64, batch 100, Adam",
          (1, 4, 4, 1), "sigmoid", "sigmoid", "f64", 100, "adam", "sine", None, None),
    Train("sine_1_32_32_1_f64_b200_adam", "[1,32,32,1] tanh/id, f64, batch 200, Adam (sine)",
          (1, 32, 32, 1), "tanh", "identity", "f64", 200, "adam", "sine", 15.0, 351),
    Train("tanh_1_64_64_1_f32_b256_adam", "[1,64,64,1] tanh/id, f32, batch 256, Adam",
          (1, 64, 64, 1), "tanh", "identity", "f32", 256, "adam", "sine", None, None),
    Train("relu_784_256_128_10_f32_b128_sgd", "[784,256,128,10] relu/id, f32, batch 128, SGD",
          (784, 256, 128, 10), "relu", "identity", "f32", 128, "sgd", "classes", 2.2, 1640),
]

INFER_WIDTHS = (16, 32, 32, 4)
INFER_LIMIT_US = 0.25
INFER_GUIDE_US = 20.0
INFER = [
    ("infer_16_32_32_4.predict", "1-sample inference [16,32,32,4] tanh, f32: predict"),
    ("infer_16_32_32_4.predict_into", "1-sample inference [16,32,32,4] tanh, f32: predict_into"),
    ("infer_16_32_32_4.forward", "1-sample inference [16,32,32,4] tanh, f32: forward"),
]

# (id, form, dtype, n, required fraction of torch's GFLOP/s or None, guide GFLOP/s)
GEMM = [
    ("gemm_ab_f32_512", "ab", "f32", 512, 0.70, None),
    ("gemm_ab_f64_512", "ab", "f64", 512, 0.70, None),
    ("gemm_ab_f32_1024", "ab", "f32", 1024, 0.70, 187.0),
    ("gemm_ab_f64_1024", "ab", "f64", 1024, 0.70, 93.0),
    ("gemm_abt_f32_512", "abt", "f32", 512, None, None),
    ("gemm_atb_f32_512", "atb", "f32", 512, None, None),
]


# --------------------------------------------------------------------------
# Timing (the same scheme as the Rust side's `measure`).
# --------------------------------------------------------------------------


@dataclass
class Plan:
    warmup: float = 0.15
    min_warmup_calls: int = 3
    sample: float = 0.015
    min_samples: int = 7
    max_samples: int = 41
    budget: float = 0.5


MIN_ON_CPU = 0.95


def measure(plan: Plan, call: Callable[[], object], single_thread: bool = True) -> float:
    """Median seconds per call over the samples.

    As on the Rust side, with one thread a sample is kept only if the thread
    was on a CPU for at least 95% of its wall-clock time (time.thread_time),
    when enough such samples exist. With several threads all samples count.
    """
    clock, cpu = time.perf_counter, time.thread_time
    start = clock()
    warm = 0
    while warm < plan.min_warmup_calls or clock() - start < plan.warmup:
        call()
        warm += 1
    per_call = (clock() - start) / warm
    calls = max(1, int(-(-plan.sample // per_call))) if per_call > 0 else 1
    samples: list[tuple[float, float]] = []

    def clean() -> int:
        return sum(1 for s in samples if s[1] >= MIN_ON_CPU)

    started = clock()
    while (len(samples) < plan.max_samples
           and (clean() < plan.min_samples or clock() - started < plan.budget)
           and (len(samples) < plan.min_samples or clock() - started < 4 * plan.budget)):
        c, t = cpu(), clock()
        for _ in range(calls):
            call()
        wall, on_cpu = clock() - t, cpu() - c
        samples.append((wall / calls, on_cpu / wall if single_thread and wall > 0 else 1.0))
    kept = [s[0] for s in samples if s[1] >= MIN_ON_CPU]
    if len(kept) < min(3, plan.min_samples):
        kept = [s[0] for s in samples]
    return statistics.median(kept)


# --------------------------------------------------------------------------
# PyTorch side.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One workload (or group of measurements) timed on both sides back to back.

    `rust_filter` selects it in the Rust binary (a substring of its ids).
    """

    rust_filter: str
    kind: str  # "train", "infer" or "gemm"
    spec: object


def units(selected: Callable[[str], bool]) -> list[Unit]:
    out = [Unit(w.id, "train", w) for w in TRAIN if selected(w.id)]
    if any(selected(i) for i, _ in INFER):
        out.append(Unit("infer_16_32_32_4", "infer", None))
    out += [Unit(g[0], "gemm", g) for g in GEMM if selected(g[0])]
    return out


def torch_unit(unit: Unit, threads: int, plan: Plan) -> dict[tuple[str, str], float]:
    """Measures one unit with `threads` intra-op threads.

    Returns {(id, "torch"): value}, time in microseconds or GFLOP/s.
    """
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    dtypes = {"f32": torch.float32, "f64": torch.float64}
    acts = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}

    def network(widths, hidden, output, dtype):
        layers = []
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            layers.append(torch.nn.Linear(a, b, dtype=dtype))
            act = output if i == len(widths) - 2 else hidden
            if act != "identity":
                layers.append(acts[act]())
        return torch.nn.Sequential(*layers)

    single = threads == 1
    if unit.kind == "train":
        w: Train = unit.spec  # type: ignore[assignment]
        dtype = dtypes[w.dtype]
        net = network(w.widths, w.hidden, w.output, dtype)
        if w.data == "sine":
            x = torch.linspace(0.0, 1.0, w.batch, dtype=torch.float64).reshape(-1, 1)
            y = torch.sin(4 * torch.pi * x) ** 2
            x, y = x.to(dtype), y.to(dtype)
        else:
            x = torch.rand(w.batch, w.widths[0], dtype=dtype)
            y = F.one_hot(torch.randint(0, w.widths[-1], (w.batch,)), w.widths[-1]).to(dtype)
        # Default options, as a user would write it (on CPU: the single-tensor path).
        opt = (torch.optim.Adam(net.parameters(), lr=0.01) if w.optimizer == "adam"
               else torch.optim.SGD(net.parameters(), lr=0.01))

        def step():
            opt.zero_grad()
            loss = 0.5 * F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        return {(w.id, "torch"): measure(plan, step, single) * 1e6}

    if unit.kind == "infer":
        net = network(INFER_WIDTHS, "tanh", "tanh", torch.float32)
        x = torch.sin(torch.arange(16, dtype=torch.float32) * 0.37).reshape(1, 16)

        def infer():
            with torch.no_grad():
                return net(x)

        value = measure(plan, infer, single) * 1e6
        return {(i, "torch"): value for i, _ in INFER}

    gid, form, dt, n, _, _ = unit.spec  # type: ignore[misc]
    a = torch.rand(n, n, dtype=dtypes[dt]) * 2 - 1
    b = torch.rand(n, n, dtype=dtypes[dt]) * 2 - 1
    c = torch.empty(n, n, dtype=dtypes[dt])
    lhs = a.T if form == "atb" else a
    rhs = b.T if form == "abt" else b
    seconds = measure(plan, lambda: torch.matmul(lhs, rhs, out=c), single)
    return {(gid, "torch"): 2.0 * n**3 / seconds / 1e9}


# --------------------------------------------------------------------------
# Rust side.
# --------------------------------------------------------------------------

RESULT_RE = re.compile(r"^RESULT (\S+) (\S+) (\S+) (\S+)$")


def build_rust(native: bool, target_dir: str | None) -> tuple[str, dict[str, str]]:
    """Builds the bench and returns (executable, env used)."""
    env = dict(os.environ)
    if native:
        env["RUSTFLAGS"] = (env.get("RUSTFLAGS", "") + " -C target-cpu=native").strip()
        target_dir = target_dir or str(ROOT / "target" / "bench-native")
    if target_dir:
        env["CARGO_TARGET_DIR"] = target_dir
    cmd = ["cargo", "bench", "--bench", BENCH, "--no-run", "--message-format=json-render-diagnostics"]
    print("building:", " ".join(cmd), "(RUSTFLAGS=-C target-cpu=native)" if native else "", file=sys.stderr)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"cargo bench --no-run failed (exit {proc.returncode})")
    executable = None
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == BENCH:
            executable = msg.get("executable") or executable
    if not executable:
        sys.exit("could not find the train_step bench executable in cargo's output")
    return executable, env


def rust_results(executable: str, filters: list[str], phases: bool,
                 threads: int = 1) -> tuple[dict[tuple[str, str], float], dict[str, str]]:
    args = [executable, "--bench", *filters]
    if not phases:
        args.append("--no-phases")
    if threads != 1:
        args += ["--threads", str(threads)]
    proc = subprocess.run(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"the bench binary failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}")
    results: dict[tuple[str, str], float] = {}
    info: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        if m := RESULT_RE.match(line.strip()):
            results[(m[1], m[2])] = float(m[3])
        elif line.startswith("INFO "):
            _, key, value = line.split(" ", 2)
            info[key] = value
    return results, info


# --------------------------------------------------------------------------
# Aggregation and the table.
# --------------------------------------------------------------------------


@dataclass
class Samples:
    """Per (id, variant): one median per round."""

    rounds: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, results: dict[tuple[str, str], float]) -> None:
        for key, value in results.items():
            self.rounds.setdefault(key, []).append(value)

    def best(self, key: tuple[str, str], higher_is_better: bool = False) -> float | None:
        values = self.rounds.get(key)
        if not values:
            return None
        return max(values) if higher_is_better else min(values)


def paired_ratio(num: Samples, num_key: tuple[str, str], den: Samples, den_key: tuple[str, str]) -> float | None:
    """Median over rounds of num/den within each round (both measured back to back)."""
    a, b = num.rounds.get(num_key), den.rounds.get(den_key)
    if not a or not b or len(a) != len(b):
        return None
    return statistics.median(x / y for x, y in zip(a, b) if y > 0)


def fmt_time(us: float | None) -> str:
    if us is None:
        return "-"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    if us >= 10:
        return f"{us:.0f} us"
    if us >= 1:
        return f"{us:.2f} us"
    return f"{us * 1000:.0f} ns"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    if r >= 100:
        return f"{r:.0f}x"
    if r >= 10:
        return f"{r:.1f}x"
    return f"{r:.2f}x"


def verdict(oks: list[tuple[str, bool]]) -> str:
    if not oks:
        return "-"
    if all(ok for _, ok in oks):
        return "yes"
    good = [name for name, ok in oks if ok]
    return f"{'/'.join(good)} only" if good else "no"


# The guide's PyTorch figures with 2 threads (where it gives them).
GUIDE_2_THREADS = {
    "sigmoid_1_4_4_1_f64_b2_adam": 320.0,
    "sigmoid_1_4_4_1_f64_b100_adam": 360.0,
    "tanh_1_64_64_1_f32_b256_adam": 525.0,
    "relu_784_256_128_10_f32_b128_sgd": 1043.0,
}


def build_rows(torch_s: Samples, rust_s: Samples, threads: int = 1) -> list[list[str]]:
    """Table rows; the guide column shows the guide's figure for `threads` (1 or 2) or '-'."""
    rows = []
    for w in TRAIN:
        t = torch_s.best((w.id, "torch"))
        if t is None:
            continue
        cells, ratios, oks = [], [], []
        for variant in ("tuple", "dyn"):
            r = rust_s.best((w.id, variant))
            cells.append(fmt_time(r))
            ratio = paired_ratio(torch_s, (w.id, "torch"), rust_s, (w.id, variant))
            ratios.append(fmt_ratio(ratio))
            if w.target is not None and ratio is not None:
                oks.append((variant, ratio >= w.target))
        target = f">= {w.target:g}x" if w.target is not None else "(info)"
        met = verdict(oks) if w.target is not None else "-"
        guide = w.guide if threads == 1 else GUIDE_2_THREADS.get(w.id) if threads == 2 else None
        rows.append([w.label, fmt_time(guide), fmt_time(t), cells[0], cells[1], " / ".join(ratios), target, met])
    for iid, label in INFER:
        t = torch_s.best((iid, "torch"))
        if t is None:
            continue
        cells, ratios, oks = [], [], []
        for variant in ("tuple", "dyn"):
            r = rust_s.best((iid, variant))
            cells.append(fmt_time(r))
            ratios.append(fmt_ratio(paired_ratio(torch_s, (iid, "torch"), rust_s, (iid, variant))))
            if r is not None:
                oks.append((variant, r < INFER_LIMIT_US))
        guide = INFER_GUIDE_US if threads == 1 else None
        rows.append([label, fmt_time(guide), fmt_time(t), cells[0], cells[1], " / ".join(ratios),
                     f"< {INFER_LIMIT_US} us", verdict(oks)])
    for gid, form, dt, n, need, guide in GEMM:
        t = torch_s.best((gid, "torch"), higher_is_better=True)
        r = rust_s.best((gid, "-"), higher_is_better=True)
        if t is None:
            continue
        frac = paired_ratio(rust_s, (gid, "-"), torch_s, (gid, "torch"))
        label = f"GEMM {form.upper().replace('T', 't')} {n}^3 {dt} (GFLOP/s)"
        rows.append([
            label,
            f"{guide:.0f}" if guide and threads == 1 else "-",
            f"{t:.1f}",
            f"{r:.1f}" if r else "-",
            "",
            f"{frac:.0%} of torch" if frac is not None else "-",
            f">= {need:.0%}" if need else "(info)",
            ("yes" if frac is not None and frac >= need else "no") if need else "-",
        ])
    return rows


HEADERS = ["workload", "PyTorch (guide)", "PyTorch", "tinymlp tuple", "tinymlp dyn", "speed-up (tuple / dyn)",
           "target", "met?"]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    out = [line(HEADERS), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def markdown_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def spread_table(torch_s: Samples, rust_s: Samples) -> str:
    lines = ["per-round medians, in round order (us, or GFLOP/s for GEMM):"]
    for key, vals in [*torch_s.rounds.items(), *rust_s.rounds.items()]:
        lines.append(f"  {key[0]:<42} {key[1]:<6} " + "  ".join(f"{v:.4g}" for v in vals))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Environment.
# --------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = (s.strip() for s in line.split(":", 1))
            fields.setdefault(k, v)
        if not line.strip() and fields:
            break
    flags = fields.get("flags", "").split()
    simd = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    extra = f" (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"
    return f"{fields.get('model name', 'unknown')}{extra}, {os.cpu_count()} logical CPUs, {'+'.join(simd) or 'no AVX'}"


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def rustc_version() -> str:
    try:
        return subprocess.run(["rustc", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    except OSError:
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="alternating PyTorch/Rust rounds (default 3)")
    ap.add_argument("--threads", type=int, default=None,
                    help="also measure PyTorch with this many threads and print a second table")
    ap.add_argument("--markdown", metavar="FILE", help="also write the header and table(s) as Markdown")
    ap.add_argument("--json", metavar="FILE", help="also write every per-round figure as JSON")
    ap.add_argument("--native", action="store_true", help="build the Rust side with -C target-cpu=native")
    ap.add_argument("--target-dir", help="CARGO_TARGET_DIR for the Rust build")
    ap.add_argument("--filter", action="append", default=[], help="only ids containing this (repeatable)")
    ap.add_argument("--phases", action="store_true", help="also print the Rust per-phase breakdown")
    ap.add_argument("--quick", action="store_true", help="shorter PyTorch budgets (for trying the script)")
    args = ap.parse_args()

    import torch

    selected = lambda i: not args.filter or any(f in i for f in args.filter)
    plan = Plan(budget=0.2, min_samples=5) if args.quick else Plan()
    executable, _ = build_rust(args.native, args.target_dir)
    load_before = load()

    torch1, torchn, rust, rustn = Samples(), Samples(), Samples(), Samples()
    info: dict[str, str] = {}
    started = time.time()
    todo = units(selected)
    for r in range(args.rounds):
        for u, unit in enumerate(todo):
            # Both sides of a workload run back to back, in alternating order,
            # so that a busy spell of the machine tends to hit both.
            sides = ["torch", "rust"] if (r + u) % 2 == 0 else ["rust", "torch"]
            for side in sides:
                if side == "torch":
                    torch1.add(torch_unit(unit, 1, plan))
                    if args.threads and args.threads != 1:
                        torchn.add(torch_unit(unit, args.threads, plan))
                else:
                    res, info = rust_results(executable, [unit.rust_filter], args.phases)
                    rust.add(res)
                    if args.threads and args.threads != 1:
                        rustn.add(rust_results(executable, [unit.rust_filter], False, args.threads)[0])
        print(f"round {r + 1}/{args.rounds} done ({time.time() - started:.0f} s, load {load()})", file=sys.stderr)

    header = [
        f"date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"cpu: {cpu_model()}",
        f"torch {torch.__version__} (1 thread{'' if not args.threads else f'; and {args.threads} threads'}), "
        f"python {platform.python_version()}; {rustc_version()}",
        f"rust build: compile-time target features {info.get('target_features', '?')}"
        f"{' (-C target-cpu=native)' if args.native else ''}, debug_assertions {info.get('debug_assertions', '?')}",
        f"load average: {load_before} before, {load()} after; {args.rounds} rounds; times and GFLOP/s: best "
        "per-round median; speed-up: median over rounds of the within-round ratio",
    ]
    busy = max(float(x.split()[0]) for x in (load_before, load()))
    if busy > (os.cpu_count() or 1) - 0.5:
        header.append(f"WARNING: the machine was busy (load {busy:.1f} on {os.cpu_count()} CPUs): figures are noisy; "
                      "multi-threaded PyTorch figures are meaningless while another process holds a core")
    rows = build_rows(torch1, rust)
    print()
    print("\n".join(header))
    print()
    print("PyTorch 1 thread vs tinymlp (1 thread):")
    print(text_table(rows))
    md = ["\n".join(f"- {h}" for h in header), "", "PyTorch 1 thread vs tinymlp:", "", markdown_table(rows)]
    if args.threads and args.threads != 1:
        rows_n = build_rows(torchn, rustn, args.threads)
        print()
        print(f"PyTorch {args.threads} threads vs tinymlp {args.threads} threads (kernels::set_threads):")
        print(text_table(rows_n))
        md += ["", f"PyTorch {args.threads} threads vs tinymlp {args.threads} threads (`kernels::set_threads`):", "",
               markdown_table(rows_n)]
    if args.phases:
        print()
        print("tinymlp per-phase breakdown (dyn network, us; phases timed in isolation):")
        train_ids = {w.id for w in TRAIN}
        for (key, _), values in rust.rounds.items():
            base, _, phase = key.rpartition(".")
            if base in train_ids and phase in ("zero_grad", "forward", "backward", "optimizer"):
                step = rust.best((base, "dyn"))
                share = f"  ({min(values) / step:.0%} of the step)" if step else ""
                print(f"  {key:<48} {min(values):10.3f}{share}")
    print()
    print(spread_table(torch1, rust))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(md) + "\n")
        print(f"\nwrote {args.markdown}")
    if args.json:
        dump = {
            "header": header,
            "torch_1_thread": {f"{k[0]} {k[1]}": v for k, v in torch1.rounds.items()},
            f"torch_{args.threads}_threads": {f"{k[0]} {k[1]}": v for k, v in torchn.rounds.items()},
            f"tinymlp_{args.threads}_threads": {f"{k[0]} {k[1]}": v for k, v in rustn.rounds.items()},
            "tinymlp": {f"{k[0]} {k[1]}": v for k, v in rust.rounds.items()},
        }
        Path(args.json).write_text(json.dumps(dump, indent=1) + "\n")


if __name__ == "__main__":
    main()
