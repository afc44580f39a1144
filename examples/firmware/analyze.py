#!/usr/bin/env python3
"""The numbers behind measure.sh's table, from one firmware run.

  analyze.py row ELF TRACE OUTPUT LABEL   prints one table row (tab-separated)
  analyze.py profile ELF TRACE            prints, for the first tinymlp and the
                                          first plain-loop inference, the
                                          instructions executed in each function
                                          and at the hottest addresses
  analyze.py table                        aligns tab-separated rows from stdin
  analyze.py check                        reads the rows from stdin and fails
                                          (exit 1, naming each miss) unless
                                          every build meets the targets below
  analyze.py path ELF FUNCTION            prints the functions reachable from
                                          FUNCTION by direct calls and branches,
                                          largest first, with their sizes
  analyze.py train-row ELF TRACE OUTPUT TRAIN_OUTPUT LABEL
                                          prints one row of the training table
  analyze.py train-profile ELF TRACE      prints the instructions of one
                                          (steady) training step per function

Instructions: QEMU ran with `-singlestep -d exec,nochain`, so every "Trace"
line is one executed instruction. The firmware calls fw_mark_begin and
fw_mark_end around each measured inference (see src/rt.rs): first one empty
region, then tinymlp on each of the POINTS inputs, then the plain loops. A
region's count is the number of instructions from fw_mark_begin's first
instruction to fw_mark_end's, minus the empty region's count (so it is the
call of the inference function, its body and its return).

Code bytes: the sizes (from the symbol table) of the functions reachable from
the inference function through direct calls and branches (llvm-objdump).

Training (the training firmware, `--features train`: src/rt/training.rs and
src/train.rs): its traced run (argument `measure`) calls the same markers,
first around nothing, then around each of TRAIN_STEPS training steps; a
step's count is computed as above. Its code is the sum of the sizes of the
functions the trace shows executing inside a step (indirect calls included,
which `path` cannot follow). Its untraced run (no argument, TRAIN_OUTPUT)
trains to the end and prints the final loss.

Formatting: whether anything reachable from infer_tinymlp formats a message
(core::fmt itself, or the panics that format their arguments: bounds checks,
assert_eq!, slice index and length failures, unwrap/expect). A panic with a
fixed message (core::panicking::panic, panic_fmt without arguments) does not
count: with this firmware's panic handler it links no formatting code. The
"core::fmt linked" column is the whole ELF, the firmware's own printing
(src/rt.rs) included.

Targets (`check`, issue #14): on every build tinymlp executes no more
instructions per inference than the plain loops (means over the inputs),
uses at most MAX_STACK bytes of stack, and reaches nothing that formats; at
opt-level "s" with LTO its code is at most MAX_CODE_S bytes.

Only the standard library; the LLVM tools come from `rustup component add
llvm-tools` (LLVM_BIN, or found through `rustc --print sysroot`).
"""

import os
import re
import struct
import subprocess
import sys

POINTS = 16
TRAIN_STEPS = 4  # MEASURED_STEPS in src/rt/training.rs
MAX_STACK = 512
MAX_CODE_S = 3072
SIZE_LTO_LABEL = 'opt "s", LTO'
# Names (mangled) of the functions that format their message.
FORMATTING = re.compile(r"3fmt|core\.\.fmt|panic_bounds_check|assert_failed|index_fail|len_fail|mismatch_fail|unwrap_failed|expect_failed|panic_display")


def llvm(tool, *args):
    bin_dir = os.environ.get("LLVM_BIN")
    if not bin_dir:
        sysroot = subprocess.run(["rustc", "--print", "sysroot"], check=True, capture_output=True, text=True).stdout.strip()
        host = re.search(r"^host: (\S+)", subprocess.run(["rustc", "-vV"], check=True, capture_output=True, text=True).stdout, re.M).group(1)
        bin_dir = os.path.join(sysroot, "lib", "rustlib", host, "bin")
    return subprocess.run([os.path.join(bin_dir, tool), *args], check=True, capture_output=True, text=True).stdout


def symbols(elf):
    """name -> (address without the Thumb bit, size; 0 if unknown)."""
    table = {}
    for line in llvm("llvm-nm", "-S", elf).splitlines():
        parts = line.split()
        if len(parts) == 4:
            table[parts[3]] = (int(parts[0], 16) & ~1, int(parts[1], 16))
        elif len(parts) == 3:
            table[parts[2]] = (int(parts[0], 16) & ~1, 0)
    return table


def region_counts(elf, trace):
    """Instructions in each marked region, in order, markers' own cost included."""
    table = symbols(elf)
    begin, end = table["fw_mark_begin"][0], table["fw_mark_end"][0]
    counts = []
    index = 0
    started = None
    pc_field = re.compile(r"\[[0-9a-f]+/([0-9a-f]+)/")
    with open(trace, errors="replace") as lines:
        for line in lines:
            if not line.startswith("Trace "):
                continue
            pc = int(pc_field.search(line).group(1), 16)
            if pc == begin:
                started = index
            elif pc == end and started is not None:
                counts.append(index - started)
                started = None
            index += 1
    return counts


def profile(elf, trace):
    """Where one inference's instructions go: per function, and the hottest
    addresses (the inner loops), for region 1 (tinymlp) and 1 + POINTS (plain)."""
    table = symbols(elf)
    begin, end = table["fw_mark_begin"][0], table["fw_mark_end"][0]
    wanted = {1: "tinymlp", 1 + POINTS: "plain loops"}
    region, inside = 0, False
    per_function, per_address = {}, {}
    line_fields = re.compile(r"\[[0-9a-f]+/([0-9a-f]+)/[0-9a-f]+/[0-9a-f]+\] ?(\S*)")
    with open(trace, errors="replace") as lines:
        for line in lines:
            if not line.startswith("Trace "):
                continue
            match = line_fields.search(line)
            pc, function = int(match.group(1), 16), match.group(2)
            if pc == begin:
                inside = region in wanted
            elif pc == end:
                inside = False
                region += 1
            if inside:
                name = wanted[region]
                counts = per_function.setdefault(name, {})
                counts[function] = counts.get(function, 0) + 1
                hot = per_address.setdefault(name, {})
                hot[pc] = hot.get(pc, 0) + 1
    for name in wanted.values():
        counts = per_function[name]
        print(f"{name}: {sum(counts.values()):,} instructions")
        for function, count in sorted(counts.items(), key=lambda item: -item[1]):
            print(f"  {count:7,}  {demangle(function)}")
        hottest = sorted(per_address[name].items(), key=lambda item: -item[1])[:16]
        print("  hottest addresses (count): " + ", ".join(f"{pc:x} ({count:,})" for pc, count in sorted(hottest)))


def call_graph(elf):
    """function -> set of functions it calls or branches to, from the disassembly."""
    graph = {}
    current = None
    header = re.compile(r"^[0-9a-f]+ <(.+)>:$")
    target = re.compile(r"\t(?:bl|blx|b|b\.w|b[a-z]{2}(?:\.w)?|cbn?z)\t.*<([^>+]+)(?:\+0x[0-9a-f]+)?>")
    for line in llvm("llvm-objdump", "-d", "--no-show-raw-insn", elf).splitlines():
        match = header.match(line)
        if match:
            current = match.group(1)
            graph.setdefault(current, set())
            continue
        match = target.search(line)
        if match and current and match.group(1) != current:
            graph[current].add(match.group(1))
    return graph


def reachable(elf, root_part):
    graph = call_graph(elf)
    roots = [name for name in graph if root_part in name]
    if len(roots) != 1:
        sys.exit(f"analyze.py: {len(roots)} functions match {root_part!r}: {roots}")
    seen, todo = set(), roots[:]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    table = symbols(elf)
    return sorted(((table.get(name, (0, 0))[1], name) for name in seen), reverse=True)


def demangle(name):
    """Readable enough: Rust's legacy `_ZN...E` names as `a::b::c` (no hash);
    v0 (`_R...`) names as they are."""
    match = re.match(r"_ZN(.*)E$", name)
    if not match:
        return name
    rest, parts = match.group(1), []
    while rest and rest[0].isdigit():
        length = int(re.match(r"\d+", rest).group())
        digits = len(str(length))
        parts.append(rest[digits : digits + length])
        rest = rest[digits + length :]
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    text = "::".join(parts)
    for code, char in [("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"), ("$C$", ","), ("..", "::"), ("$u7b$", "{"), ("$u7d$", "}")]:
        text = text.replace(code, char)
    return text


def row(elf, trace, output, label):
    counts = region_counts(elf, trace)
    expected = 1 + 2 * POINTS
    if len(counts) != expected:
        sys.exit(f"analyze.py: {len(counts)} marked regions in the trace, expected {expected}")
    empty, tiny, plain = counts[0], counts[1 : 1 + POINTS], counts[1 + POINTS :]
    tiny = [c - empty for c in tiny]
    plain = [c - empty for c in plain]
    stack = dict(re.findall(r"^stack (\w+) (\d+)", open(output).read(), re.M))
    text = 0
    for line in llvm("llvm-size", "-A", elf).splitlines():
        parts = line.split()
        if parts and parts[0] == ".text":
            text = int(parts[1])
    code_tiny = sum(size for size, _ in reachable(elf, "infer_tinymlp"))
    code_plain = sum(size for size, _ in reachable(elf, "infer_plain"))
    # The core::fmt module's symbols (mangled `core3fmt` or `core..fmt`); not
    # core::panicking::panic_fmt, which only passes the message through.
    fmt = [(name, size) for name, (_, size) in symbols(elf).items() if re.search(r"core3fmt|core\.\.fmt", name)]
    formats = sorted(demangle(name) for _, name in reachable(elf, "infer_tinymlp") if FORMATTING.search(name))
    weights = sum(size for name, (_, size) in symbols(elf).items() if "SINE_NET" in name)

    def spread(values):
        if min(values) == max(values):
            return f"{values[0]:,}"
        return f"{sum(values) / len(values):,.0f} ({min(values):,}-{max(values):,})"

    print(
        "\t".join(
            [
                label,
                f"{text:,}",
                f"{code_tiny:,} / {code_plain:,}",
                f"{weights:,}",
                spread(tiny),
                spread(plain),
                f"{sum(tiny) / sum(plain):.2f}",
                f"{int(stack['tinymlp']):,} / {int(stack['plain']):,}",
                f"yes: {', '.join(formats)}" if formats else "no",
                f"yes ({len(fmt)} symbols, {sum(size for _, size in fmt):,} B)" if fmt else "no",
            ]
        )
    )


def train_regions(elf, trace):
    """For each region between the training markers: (instructions, markers'
    own cost included; {function name: instructions})."""
    table = symbols(elf)
    begin, end = table["fw_mark_begin"][0], table["fw_mark_end"][0]
    regions, current = [], None
    line_fields = re.compile(r"\[[0-9a-f]+/([0-9a-f]+)/[0-9a-f]+/[0-9a-f]+\] ?(\S*)")
    with open(trace, errors="replace") as lines:
        for line in lines:
            if not line.startswith("Trace "):
                continue
            match = line_fields.search(line)
            pc = int(match.group(1), 16)
            if pc == begin:
                current = {}
            if current is not None:
                current[match.group(2)] = current.get(match.group(2), 0) + 1
            if pc == end and current is not None:
                regions.append((sum(current.values()) - 1, current))
                current = None
    if len(regions) != 1 + TRAIN_STEPS:
        sys.exit(f"analyze.py: {len(regions)} training regions in the trace, expected {1 + TRAIN_STEPS}")
    return regions


def train_row(elf, trace, output, train_output, label):
    regions = train_regions(elf, trace)
    empty = regions[0][0]
    steps = [count - empty for count, _ in regions[1:]]
    executed = set()
    for _, functions in regions[1:]:
        executed.update(functions)
    executed -= {"fw_mark_begin", "fw_mark_end"}
    table = symbols(elf)
    code = sum(table.get(name, (0, 0))[1] for name in executed)
    text = open(output).read()
    stack = int(re.search(r"^train-stack (\d+)", text, re.M).group(1))
    train_bytes, adam_bytes, data_bytes = map(int, re.search(r"^train-bytes (\d+) (\d+) (\d+)", text, re.M).groups())
    ram = re.search(r"^train-ram (\d+)", open(train_output).read(), re.M)
    if not ram:
        sys.exit("analyze.py: no `train-ram` line in the training run's output")
    final = re.search(r"^train final (\d+) ([0-9a-f]{8}) (met|missed) ([0-9a-f]{8})", open(train_output).read(), re.M)
    if not final:
        sys.exit("analyze.py: no `train final` line in the training run's output")
    loss, target = (struct.unpack(">f", bytes.fromhex(bits))[0] for bits in (final.group(2), final.group(4)))
    # Steps 1 and 2 take libm pow's short paths for Adam's beta^t (t = 1, 2);
    # from step 3 on it runs the general one, in software f64.
    later = steps[2:]
    fmt = [(name, size) for name, (_, size) in table.items() if re.search(r"core3fmt|core\.\.fmt", name)]
    text_bytes = 0
    for line in llvm("llvm-size", "-A", elf).splitlines():
        parts = line.split()
        if parts and parts[0] == ".text":
            text_bytes = int(parts[1])
    print(
        "\t".join(
            [
                label,
                f"{text_bytes:,}",
                f"{steps[0]:,} / {steps[1]:,}",
                f"{sum(later) / len(later):,.0f} ({min(later):,}-{max(later):,})" if min(later) != max(later) else f"{later[0]:,}",
                f"{code:,} ({len(executed)} functions)",
                f"{stack:,}",
                f"{train_bytes:,} + {adam_bytes:,} + {data_bytes:,} = {train_bytes + adam_bytes + data_bytes:,}",
                f"{int(ram.group(1)):,}",
                f"{loss:.3g} after {int(final.group(1)):,} steps ({final.group(3)} < {target:g})",
                f"yes ({len(fmt)} symbols, {sum(size for _, size in fmt):,} B)" if fmt else "no",
            ]
        )
    )


def train_profile(elf, trace):
    """One steady training step (the third) per function."""
    regions = train_regions(elf, trace)
    count, functions = regions[3]
    print(f"training step 3: {count - regions[0][0]:,} instructions")
    for function, n in sorted(functions.items(), key=lambda item: -item[1]):
        print(f"  {n:7,}  {demangle(function)}")


def path(elf, root_part):
    found = reachable(elf, root_part)
    for size, name in found:
        print(f"{size:7,}  {demangle(name)}")
    print(f"{sum(size for size, _ in found):7,}  total")


def first_number(cell):
    return float(re.match(r"[\d,.]+", cell).group().replace(",", ""))


def check():
    """Exit 1 naming every target a row misses (rows as `row` prints them,
    the header first)."""
    lines = [line.rstrip("\n").split("\t") for line in sys.stdin if line.strip()]
    header, rows = lines[0], lines[1:]
    column = {name: index for index, name in enumerate(header)}
    misses = []
    for cells in rows:
        label = cells[0]
        tiny, plain = first_number(cells[column["insns tinymlp"]]), first_number(cells[column["insns plain"]])
        if tiny > plain:
            misses.append(f"{label}: {tiny:,.0f} instructions per inference, plain loops {plain:,.0f}")
        stack = first_number(cells[column["stack B tinymlp / plain"]])
        if stack > MAX_STACK:
            misses.append(f"{label}: {stack:,.0f} B of stack, more than {MAX_STACK}")
        formats = cells[column["formatting reachable from tinymlp"]]
        if formats != "no":
            misses.append(f"{label}: the inference path formats ({formats})")
        code = first_number(cells[column["code B tinymlp / plain"]])
        if label == SIZE_LTO_LABEL and code > MAX_CODE_S:
            misses.append(f"{label}: {code:,.0f} B of inference code, more than {MAX_CODE_S}")
    if not rows:
        misses.append("no rows to check")
    for miss in misses:
        print(f"analyze.py check: MISSED {miss}", file=sys.stderr)
    if misses:
        sys.exit(1)
    print(f"targets met on {len(rows)} builds: instructions <= plain loops, stack <= {MAX_STACK} B, "
          f"nothing that formats reachable, code <= {MAX_CODE_S} B at {SIZE_LTO_LABEL}")


def table():
    rows = [line.rstrip("\n").split("\t") for line in sys.stdin if line.strip()]
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(map(len, rows)))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "row":
        row(*sys.argv[2:])
    elif len(sys.argv) == 2 and sys.argv[1] == "table":
        table()
    elif len(sys.argv) == 2 and sys.argv[1] == "check":
        check()
    elif len(sys.argv) == 4 and sys.argv[1] == "profile":
        profile(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "path":
        path(*sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == "train-row":
        train_row(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "train-profile":
        train_profile(*sys.argv[2:])
    else:
        sys.exit(__doc__)
