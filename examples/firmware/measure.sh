#!/usr/bin/env bash
# Builds the measurement firmware, runs it under QEMU (mps2-an386, a
# Cortex-M4F) and prints one table row per build: code size, instructions and
# stack per inference for tinymlp and for plain nested loops, whether core::fmt
# is linked. Exits non-zero if the firmware's outputs differ from the host's
# bits (the same crate built for the host prints them) or a run fails.
# Then the same for the training firmware (`--features train`, src/train.rs):
# a traced run measures a few training steps, an untraced one trains to the
# end; exits non-zero if its `train` lines (losses, final loss, parameter
# hash) differ from the host's or the final loss misses the target.
#
#   bash examples/firmware/measure.sh                  # the four builds below
#   bash examples/firmware/measure.sh release speed    # some of them
#   BUILD_ONLY=1 bash examples/firmware/measure.sh     # no QEMU: build and size only
#   CHECK=1 bash examples/firmware/measure.sh          # also fail unless the targets
#                                                      # are met (analyze.py check)
#   PROFILE=1 bash examples/firmware/measure.sh release  # also: instructions per
#                                                      # function, code per function
#
# Builds (profiles in Cargo.toml): release = opt-level "s" + fat LTO,
# speed = opt-level 3 + fat LTO, size-nolto and speed-nolto without LTO.
# Needs qemu-system-arm, python3, the thumbv7em-none-eabihf target and
# llvm-tools (`rustup component add llvm-tools`). README.md explains the method.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never

target=thumbv7em-none-eabihf
host=$(rustc -vV | sed -n 's/^host: //p')
export LLVM_BIN="$(rustc --print sysroot)/lib/rustlib/$host/bin"
[ -x "$LLVM_BIN/llvm-nm" ] || rustup component add llvm-tools >/dev/null 2>&1 || true
if [ ! -x "$LLVM_BIN/llvm-nm" ] && [ -z "${BUILD_ONLY:-}" ]; then
    echo "measure.sh: llvm-tools missing (rustup component add llvm-tools)" >&2
    exit 2
fi

if [ "$#" -gt 0 ]; then profiles=("$@"); else profiles=(release speed size-nolto speed-nolto); fi
declare -A label=([release]='opt "s", LTO' [speed]='opt 3, LTO' [size-nolto]='opt "s", no LTO' [speed-nolto]='opt 3, no LTO')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "${BUILD_ONLY:-}" ]; then
    # The host's bits: the same inputs through the same code on this machine.
    cargo run --quiet --release --target "$host" > "$work/host.txt"
fi

failed=0
rows=()
for profile in "${profiles[@]}"; do
    cargo build --quiet --profile "$profile" --target "$target"
    elf="target/$target/$profile/tinymlp-firmware"
    if [ -n "${BUILD_ONLY:-}" ]; then
        echo "built $elf ($profile)"
        [ ! -x "$LLVM_BIN/llvm-size" ] || "$LLVM_BIN/llvm-size" "$elf"
        continue
    fi
    # -singlestep: one instruction per translated block, so each "Trace" line
    # of -d exec,nochain is one executed instruction.
    if ! timeout 120 qemu-system-arm -M mps2-an386 -nographic -kernel "$elf" \
        -semihosting-config enable=on,target=native,chardev=semihosting \
        -chardev "file,id=semihosting,path=$work/$profile.out" \
        -singlestep -d exec,nochain -D "$work/$profile.trace" </dev/null; then
        echo "measure.sh: $profile: the firmware failed under QEMU:" >&2
        cat "$work/$profile.out" >&2
        failed=1
        continue
    fi
    if ! diff <(grep '^out ' "$work/host.txt") <(grep '^out ' "$work/$profile.out") > "$work/$profile.diff"; then
        echo "measure.sh: $profile: the firmware's outputs differ from the host's (< host, > firmware):" >&2
        cat "$work/$profile.diff" >&2
        failed=1
    fi
    rows+=("$(python3 analyze.py row "$elf" "$work/$profile.trace" "$work/$profile.out" "${label[$profile]:-$profile}")")
    if [ -n "${PROFILE:-}" ]; then
        echo "=== $profile: where the instructions go"
        python3 analyze.py profile "$elf" "$work/$profile.trace"
        echo "=== $profile: code reachable from infer_tinymlp"
        python3 analyze.py path "$elf" infer_tinymlp
    fi
    rm -f "$work/$profile.trace"
done

# The training firmware, in its own target directory (so that the inference
# firmware's ELF stays where it is).
train_rows=()
for profile in "${profiles[@]}"; do
    cargo build --quiet --profile "$profile" --target "$target" --features train --target-dir target/train
    elf="target/train/$target/$profile/tinymlp-firmware"
    if [ -n "${BUILD_ONLY:-}" ]; then
        echo "built $elf ($profile, training)"
        [ ! -x "$LLVM_BIN/llvm-size" ] || "$LLVM_BIN/llvm-size" "$elf"
        continue
    fi
    # Traced: a few steps between the markers (argument `measure`).
    if ! timeout 120 qemu-system-arm -M mps2-an386 -nographic -kernel "$elf" \
        -semihosting-config enable=on,target=native,chardev=semihosting,arg=firmware,arg=measure \
        -chardev "file,id=semihosting,path=$work/$profile.train-measure" \
        -singlestep -d exec,nochain -D "$work/$profile.trace" </dev/null; then
        echo "measure.sh: $profile: the training firmware's measured steps failed under QEMU:" >&2
        cat "$work/$profile.train-measure" >&2
        failed=1
        continue
    fi
    # Untraced: trains to the end; exits 1 if it misses its target.
    start=$(date +%s.%N)
    if ! timeout 120 qemu-system-arm -M mps2-an386 -nographic -kernel "$elf" \
        -semihosting-config enable=on,target=native,chardev=semihosting \
        -chardev "file,id=semihosting,path=$work/$profile.train" </dev/null; then
        echo "measure.sh: $profile: training on the device failed or missed its target:" >&2
        cat "$work/$profile.train" >&2
        failed=1
        continue
    fi
    seconds=$(python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$start")
    if ! diff <(grep '^train ' "$work/host.txt") <(grep '^train ' "$work/$profile.train") > "$work/$profile.diff"; then
        echo "measure.sh: $profile: the firmware's training differs from the host's (< host, > firmware):" >&2
        cat "$work/$profile.diff" >&2
        failed=1
    fi
    train_rows+=("$(python3 analyze.py train-row "$elf" "$work/$profile.trace" "$work/$profile.train-measure" "$work/$profile.train" "${label[$profile]:-$profile}")	$seconds")
    if [ -n "${PROFILE:-}" ]; then
        echo "=== $profile: where one training step's instructions go"
        python3 analyze.py train-profile "$elf" "$work/$profile.trace"
    fi
    rm -f "$work/$profile.trace"
done

if [ -z "${BUILD_ONLY:-}" ]; then
    echo
    echo "sine network [1,32,32,1] tanh f32, Cortex-M4F (QEMU mps2-an386), one inference; tinymlp / plain loops"
    echo "insns: executed per inference (QEMU exec trace; mean (min-max) over the $(grep -c '^out tinymlp' "$work/host.txt") inputs where they differ);"
    echo "code: bytes of the functions reachable from the inference function; stack: bytes one inference uses (painting);"
    echo "formatting: anything that formats reachable from infer_tinymlp; core::fmt linked: anywhere in the ELF (the firmware prints too)"
    {
        printf 'build\t.text B\tcode B tinymlp / plain\tweights B\tinsns tinymlp\tinsns plain\ttinymlp/plain\tstack B tinymlp / plain\tformatting reachable from tinymlp\tcore::fmt linked\n'
        printf '%s\n' "${rows[@]}"
    } > "$work/rows.tsv"
    python3 analyze.py table < "$work/rows.tsv"
    if [ "$failed" = 0 ]; then
        echo "outputs: firmware = host, bit for bit ($(grep -c '^out ' "$work/host.txt") values, every build)"
    fi
    if [ -n "${CHECK:-}" ] && ! python3 analyze.py check < "$work/rows.tsv"; then
        failed=1
    fi
    if [ "${#train_rows[@]}" -gt 0 ]; then
        echo
        echo "training firmware (--features train, src/train.rs): [1,8,8,1] tanh f32 learns sin^2(4 pi x) on 32 points, full batch, Adam, no allocator"
        echo "insns: executed per training step (zero_grad, forward, backward, Adam): step 1 / step 2, then steps 3-4, where Adam's beta^t"
        echo "takes libm pow's general path (software f64); code: bytes of the functions a step executes; stack: bytes one step uses"
        echo "(painting); state: StaticMlp::TRAIN_BYTES + StaticAdam + data (one value on the stack); RAM: stack of the whole training"
        echo "run, state included (painting; the firmware has no .data or .bss); QEMU s: the untraced training run"
        {
            printf 'build\t.text B\tinsns step 1 / 2\tinsns per step\tcode B\tstack B\tstate B\tRAM B\tfinal 0.5*MSE\tcore::fmt linked\tQEMU s\n'
            printf '%s\n' "${train_rows[@]}"
        } | python3 analyze.py table
        if [ "$failed" = 0 ]; then
            echo "training: firmware = host, bit for bit ($(grep -c '^train ' "$work/host.txt") lines: losses, final loss, parameter hash; every build)"
        fi
    fi
fi
exit "$failed"
