#!/usr/bin/env bash
# Run the issue-8 benchmarks (P1-P8) and print the ratio table.
#
# usage: bash benches/run.sh [--quick] [--java] [CRITERION_FILTER]
#   --quick  short warm-up/measurement (about 3 minutes in all): the gate mode
#   --java   also run the Java 17 comparison (benches/java/run.sh) and append it to the table
#   CRITERION_FILTER  e.g. P4 — only the matching benchmarks (the table shows every estimate on disk)
#
# Criterion's output goes to $CARGO_TARGET_DIR/criterion (default: target/criterion of the
# workspace); the table is printed and written to $CARGO_TARGET_DIR/bench-ratios.md.
# P4 pins its two threads to one CPU itself (sched_setaffinity); nothing else is pinned.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

crit=(--noplot)
java=0
filter=()
for a in "$@"; do
    case "$a" in
        --quick) crit+=(--warm-up-time 0.5 --measurement-time 1); export FT_BENCH_QUICK=1 ;;
        --java) java=1 ;;
        *) filter+=("$a") ;;
    esac
done

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cargo bench -p futuretask-benches --benches -- "${crit[@]}" "${filter[@]}"
ratio_args=()
if [[ $java == 1 ]]; then
    jq=""
    [[ -n "${FT_BENCH_QUICK:-}" ]] && jq="--quick"
    bash "$root/benches/java/run.sh" $jq "$CARGO_TARGET_DIR/java-bench.md"
    ratio_args+=(--java "$CARGO_TARGET_DIR/java-bench.md")
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cargo run -q -p futuretask-benches --bin ratios --release -- "${ratio_args[@]}"
