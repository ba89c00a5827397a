#!/usr/bin/env bash
# Run the benchmarks (the targets of issues 8 and 18, P1-P8) and print the ratio table.
#
# usage: bash benches/run.sh [--quick] [--java] [--p5-runs N] [--p5-gap SECS] [CRITERION_FILTER]
#   --quick         short warm-up/measurement (about 3 minutes in all): the gate mode; P5 is
#                   measured once (as if --p5-runs 1) unless --p5-runs says otherwise
#   --java          also run the Java 17 comparison (benches/java/run.sh) and append it to the table
#   --p5-runs N     measure the P5 group (the unpinned round trip) N times in all (default 3; 1
#                   with --quick): once in the main pass, then N-1 more times after it, each a
#                   separate `cargo bench` of that group alone. The table's P5-worst target
#                   compares each contender's worst run (its largest median) over the N runs:
#                   "no cliff" is about the worst run, which one run's median does not show.
#   --p5-gap SECS   seconds between the end of one P5 run and the start of the next (default 60:
#                   runs a minute apart, so a burst of load or a bad scheduling phase shows up as
#                   one bad run, not as noise inside one)
#   CRITERION_FILTER  e.g. P4 — only the matching benchmarks (the table shows every estimate on
#                   disk); the extra P5 runs happen only when the main pass measured P5
#
# Criterion's output goes to $CARGO_TARGET_DIR/criterion (default: target/criterion of the
# workspace); the table is printed and written to $CARGO_TARGET_DIR/bench-ratios.md.
# Each P5 run's estimates are copied to $CARGO_TARGET_DIR/bench-runs/P5_roundtrip_unpinned/<run>/
# (criterion overwrites its own); the first run of an invocation clears the previous series.
# P4 pins its two threads to one CPU itself (sched_setaffinity); nothing else is pinned.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# Every loop of every contender starts on a 64-byte boundary. The sub-nanosecond rows (P2, P3)
# time loops of a few instructions, which on this CPU run measurably slower when they cross a
# 64-byte line; without this, where the linker happens to place a loop (which any unrelated
# change moves) decides those rows.
export RUSTFLAGS="${RUSTFLAGS:-} -C llvm-args=-align-loops=64"

crit=(--noplot)
java=0
quick=0
p5_runs=""
p5_gap=60
filter=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1; crit+=(--warm-up-time 0.5 --measurement-time 1); export FT_BENCH_QUICK=1 ;;
        --java) java=1 ;;
        --p5-runs) p5_runs="${2:?--p5-runs needs a count}"; shift ;;
        --p5-gap) p5_gap="${2:?--p5-gap needs seconds}"; shift ;;
        *) filter+=("$1") ;;
    esac
    shift
done
if [[ -z $p5_runs ]]; then
    p5_runs=3
    [[ $quick == 1 ]] && p5_runs=1
fi
[[ $p5_runs =~ ^[1-9][0-9]*$ ]] || { echo "--p5-runs: a count ≥ 1, not '$p5_runs'" >&2; exit 2; }
[[ $p5_gap =~ ^[0-9]+$ ]] || { echo "--p5-gap: whole seconds, not '$p5_gap'" >&2; exit 2; }

p5=P5_roundtrip_unpinned
series="$CARGO_TARGET_DIR/bench-runs/$p5"
marker="$(mktemp)"
trap 'rm -f "$marker"' EXIT
snapshots=0

# Copy the P5 estimates written since the marker as one run of the series; false if none were.
snapshot() {
    local src="$CARGO_TARGET_DIR/criterion/$p5" run f fn
    [[ -d $src ]] || return 1
    local fresh=()
    while IFS= read -r f; do fresh+=("$f"); done \
        < <(find "$src" -path '*/new/estimates.json' -newer "$marker" | sort)
    [[ ${#fresh[@]} -gt 0 ]] || return 1
    [[ $snapshots == 0 ]] && rm -rf "$series"
    snapshots=$((snapshots + 1))
    run="$series/$(date +%Y%m%dT%H%M%S)-$snapshots"
    for f in "${fresh[@]}"; do
        fn="$(basename "$(dirname "$(dirname "$f")")")"
        mkdir -p "$run/$fn"
        cp -p "$f" "$run/$fn/estimates.json"
    done
    echo "P5 run $snapshots of $p5_runs saved in $run (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
touch "$marker"
cargo bench -p futuretask-benches --benches -- "${crit[@]}" "${filter[@]}"
if snapshot; then
    for ((i = 2; i <= p5_runs; i++)); do
        echo "P5 run $i of $p5_runs in ${p5_gap} s" >&2
        sleep "$p5_gap"
        touch "$marker"
        cargo bench -p futuretask-benches --bench handoff -- "${crit[@]}" "$p5"
        snapshot || echo "P5 run $i wrote no estimates" >&2
    done
fi
ratio_args=()
if [[ $java == 1 ]]; then
    jq=""
    [[ -n "${FT_BENCH_QUICK:-}" ]] && jq="--quick"
    bash "$root/benches/java/run.sh" $jq "$CARGO_TARGET_DIR/java-bench.md"
    ratio_args+=(--java "$CARGO_TARGET_DIR/java-bench.md")
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cargo run -q -p futuretask-benches --bin ratios --release -- "${ratio_args[@]}"
