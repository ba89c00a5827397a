#!/usr/bin/env bash
# Miri tier: the kernel's and the executor's unit tests and the races (models/tests/miri_races.rs,
# the kernel's; models/tests/executor_miri.rs, the executor's) under Miri, over many seeds, with
# strict provenance.
#
#   bash models/run-miri.sh [SEEDS] [TEST-FILTER...]     # quick: 8 seeds, full: 64
#
# Each seed reruns every race with a different Miri scheduler/weak-memory/CAS-failure choice;
# a use-after-free, data race, uninitialised read, leak or deadlock in any seed fails the run and
# Miri prints the seed (replay one: MIRIFLAGS="-Zmiri-seed=<n> -Zmiri-strict-provenance"
# cargo +nightly miri test -p futuretask-models --test miri_races --test executor_miri <name>).
# Extra Miri flags: MIRIFLAGS_EXTRA. Target directory: CARGO_TARGET_DIR (default target/miri).
set -euo pipefail
cd "$(dirname "$0")/.."

SEEDS="${1:-8}"
shift || true
case "$SEEDS" in
'' | *[!0-9]*)
    echo "usage: $0 [SEEDS] [TEST-FILTER...]" >&2
    exit 2
    ;;
esac

echo "== miri toolchain =="
rustup component add --toolchain nightly miri rust-src
cargo +nightly miri setup

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/miri}"
# No -Zmiri-disable-isolation: time is Miri's virtual clock, so the timed waits are reproducible.
# Per-race bound (virtual seconds per seed, futuretask_models::race_driver): a race that makes no
# progress aborts, and Miri prints the failing seed.
export FT_MIRI_RACE_SECS="${FT_MIRI_RACE_SECS:-60}"
export MIRIFLAGS="-Zmiri-strict-provenance -Zmiri-env-forward=FT_MIRI_RACE_SECS -Zmiri-many-seeds=0..${SEEDS} ${MIRIFLAGS_EXTRA:-}"
echo "MIRIFLAGS=$MIRIFLAGS"

start=$(date +%s)
if [ "$#" -eq 0 ]; then
    echo "== kernel and executor unit tests under Miri (${SEEDS} seeds) =="
    # The integration tests (tokio, futures, wall-clock timing) are the std tier's; Miri runs the
    # libraries' own tests and the dedicated races below.
    cargo +nightly miri test -p futuretask -p futuretask-executor --lib
fi

# The races' test targets: the kernel's and the executor's.
RACES=(--test miri_races --test executor_miri)
echo "== models/tests/{miri_races,executor_miri}.rs under Miri (${SEEDS} seeds) =="
# One test thread: libtest's parallel runner waits with a timeout, which would hide a deadlock
# from Miri's detector.
# A livelock (a thread spinning on a hand-off that never comes) is not something Miri reports: it
# just runs. Each race has a watchdog (FT_MIRI_RACE_SECS above) that aborts it, so the seed fails
# and Miri names it. As a backstop (a watchdog that is never scheduled), bound the races' wall time (MIRI_RACES_TIMEOUT, default 20 s per seed, at least 240 s)
# and, on a timeout, find and print the seed that does not finish.
limit="${MIRI_RACES_TIMEOUT:-$((SEEDS * 20 > 240 ? SEEDS * 20 : 240))}"
rc=0
timeout "$limit" cargo +nightly miri test -p futuretask-models "${RACES[@]}" -- --test-threads=1 "$@" || rc=$?
if [ "$rc" -eq 124 ]; then
    echo "miri races did not finish in ${limit} s (a livelock?); looking for the seed that hangs" >&2
    for ((s = 0; s < SEEDS; s++)); do
        if ! MIRIFLAGS="-Zmiri-strict-provenance -Zmiri-env-forward=FT_MIRI_RACE_SECS -Zmiri-seed=$s ${MIRIFLAGS_EXTRA:-}" timeout 300 \
            cargo +nightly miri test -q -p futuretask-models "${RACES[@]}" -- --test-threads=1 "$@" >/dev/null 2>&1; then
            echo "REPRODUCE: MIRIFLAGS=\"-Zmiri-strict-provenance -Zmiri-seed=$s -Zmiri-report-progress=20000000\" cargo +nightly miri test -p futuretask-models ${RACES[*]} -- --test-threads=1 $*" >&2
            echo "  (the progress reports show where the spinning thread is)" >&2
            exit 1
        fi
    done
    # Every seed finished on its own: the hang needs the many-seeds run's own choices.
    echo "no single seed hangs; reproduce with the same command: MIRIFLAGS=\"$MIRIFLAGS -Zmiri-report-progress=20000000\" cargo +nightly miri test -p futuretask-models ${RACES[*]} -- --test-threads=1 $*" >&2
    exit 1
elif [ "$rc" -ne 0 ]; then
    exit "$rc"
fi
echo "miri tier passed: ${SEEDS} seeds in $(($(date +%s) - start)) s"
