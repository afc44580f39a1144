#!/usr/bin/env bash
# Builds the peers benchmark (and says how long that took), then prints the
# table twice: with glibc's default malloc, and with malloc tuned so that
# freed buffers are neither returned to the kernel nor re-faulted each step.
#
#   benches/peers/run.sh                 # 5 rounds per table
#   benches/peers/run.sh --rounds 3 --filter sine
#
# Arguments go to the benchmark binary (see `--help`). Not part of CI: the
# dependency tree (candle, burn, dfdx) takes minutes to build.
set -euo pipefail
cd "$(dirname "$0")"

echo "== build"
echo "$(rustc -V); $(cargo -V)"
echo "load average before the build: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
cargo build --release --locked
end=$(date +%s.%N)
echo "build: $(awk "BEGIN { printf \"%.0f\", $end - $start }") s (next to nothing when target/ is already built)"

bin=target/release/tinymlp-peers
echo
echo "== glibc's default malloc"
env -u GLIBC_TUNABLES RAYON_NUM_THREADS=1 "$bin" "$@"
echo
echo "== GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=268435456"
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=268435456 RAYON_NUM_THREADS=1 "$bin" "$@"
