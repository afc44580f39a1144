#!/usr/bin/env bash
# Smoke-runs every fuzz target for ${FUZZ_SECONDS:-30} seconds on a copy of its seed corpus, on
# stable Rust (libFuzzer without sanitizers). Exits non-zero if a target fails to build, crashes,
# runs out of memory (-rss_limit_mb) or hangs (-timeout). The repository is left untouched except
# for fuzz/target (the build) and, on a crash, fuzz/artifacts/TARGET/ (both ignored by git); the
# crashing input is also printed in base64 so that a CI log holds the reproducer.
#
# Usage: fuzz/smoke.sh [TARGET...]        (default: every target)
#        FUZZ_SECONDS=600 fuzz/smoke.sh network_load
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-30}"
# Per target: the longest input libFuzzer may build. The safetensors targets get room for
# headers with many entries; the numeric targets read a short header and patch a few values.
declare -A max_len=(
    [safetensors_read]=65536
    [network_load]=65536
    [checkpoint_load]=65536
    [gemm_differential]=4096
    [activation_loss_differential]=4096
)
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(safetensors_read network_load checkpoint_load gemm_differential activation_loss_differential)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi
cargo fuzz --version

echo "building the fuzz targets"
cargo fuzz build --sanitizer none

work="$(mktemp -d "${TMPDIR:-/tmp}/tinymlp-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
for target in "${targets[@]}"; do
    len="${max_len[$target]:-65536}"
    mkdir -p "$work/corpus/$target" "artifacts/$target"
    cp corpus/"$target"/* "$work/corpus/$target/"
    log="$work/$target.log"
    touch "$work/$target.stamp"
    printf '\n=== %s: %ss, -max_len=%s\n' "$target" "$seconds" "$len"
    set +e
    cargo fuzz run --sanitizer none "$target" "$work/corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$len" -rss_limit_mb=512 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1
    status=$?
    set -e
    # The last status line (executions, coverage, corpus) and the final statistics.
    grep -E '^#[0-9]+' "$log" | tail -n 1 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: $target exited with $status"
        # The panic message (the backtrace that follows it is long), then libFuzzer's verdict.
        grep -A 3 'panicked at' "$log" | head -n 20 || true
        grep -E 'ERROR: libFuzzer|SUMMARY|out-of-memory|Timeout|Test unit written' "$log" || true
        find "artifacts/$target" -type f -newer "$work/$target.stamp" | while read -r crash; do
            echo "reproducer fuzz/$crash (base64):"
            base64 -w 0 "$crash"
            echo
            echo "rerun with: cd fuzz && cargo fuzz run --sanitizer none $target $crash"
        done
    fi
done

echo
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
