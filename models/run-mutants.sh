#!/usr/bin/env bash
# Mutation harness: every planted bug of kernel/src/mutant.rs (`ALL`) must be caught.
#
#   bash models/run-mutants.sh [--quick] [--no-baseline] [MUTANT...]
#
# For each mutant the kernel is rebuilt with FT_MUTANT=<name> and the checkers run against it:
#   loom    RUSTFLAGS="--cfg loom" cargo test -p futuretask-models --release --test loom -- --exact <models>
#   shuttle cargo test -p futuretask-models --features shuttle --release --test shuttle -- <models>
#   miri    cargo +nightly miri test -p futuretask-models --test miri_races -- <races>   (many seeds)
#   tests   cargo test -p futuretask                        (the kernel's own unit + integration tests)
# each under `timeout` (a hang — a deadlock or livelock the checker did not report itself — counts
# as a kill by that checker). The models run for a mutant are the ones aimed at the invariant it
# breaks (printed before each run). A checker that cannot see a bug class by construction is
# `n/a` (shuttle is sequentially consistent: it cannot see a missing fence or a Relaxed store).
#
# Full mode (default) runs every applicable checker on every mutant and first checks that the
# same commands pass on the unmutated kernel (baseline). --quick stops at the first checker that
# kills a mutant (the others print `skip`) and leaves the baseline to the loom/shuttle/miri tiers.
# Exits non-zero if any mutant survives every checker, a build fails, or the baseline fails.
#
# Environment: FT_MUTANT_TARGET (target dirs, default target/mutants), MIRI_SEEDS (default 8 in
# --quick, 16 otherwise), FT_MUTANT_TIMEOUT (seconds per checker run, default 300; Miri gets 2x).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

QUICK=0
BASELINE=1
ONLY=()
for a in "$@"; do
    case "$a" in
    --quick) QUICK=1 ;;
    --no-baseline) BASELINE=0 ;;
    -h | --help)
        sed -n '2,25p' "$0"
        exit 0
        ;;
    -*)
        echo "unknown option $a" >&2
        exit 2
        ;;
    *) ONLY+=("$a") ;;
    esac
done
[ "$QUICK" = 1 ] && BASELINE=0

BASE="${FT_MUTANT_TARGET:-$ROOT/target/mutants}"
LOGS="$BASE/logs"
mkdir -p "$LOGS"
SEEDS="${MIRI_SEEDS:-$([ "$QUICK" = 1 ] && echo 8 || echo 16)}"
T="${FT_MUTANT_TIMEOUT:-300}"
unset RUSTFLAGS FT_MUTANT LOOM_MAX_PREEMPTIONS LOOM_MAX_PERMUTATIONS LOOM_MAX_DURATION \
    LOOM_CHECKPOINT_FILE FT_LOOM_PREEMPTION
export CARGO_TERM_COLOR=never FT_TIER=quick

# ---- the mutants ---------------------------------------------------------------------------------
# Names are the identifier-like string literals of the `ALL` table in kernel/src/mutant.rs.
mapfile -t ALL < <(sed -n '/pub const ALL/,/^];/p' kernel/src/mutant.rs | grep -o '"[a-z_][a-z_0-9]*"' | tr -d '"')
if [ "${#ALL[@]}" -eq 0 ]; then
    echo "no mutants found in kernel/src/mutant.rs" >&2
    exit 1
fi
if [ "${#ONLY[@]}" -gt 0 ]; then
    for m in "${ONLY[@]}"; do
        printf '%s\n' "${ALL[@]}" | grep -qx "$m" || {
            echo "unknown mutant $m" >&2
            exit 2
        }
    done
    MUTANTS=("${ONLY[@]}")
else
    MUTANTS=("${ALL[@]}")
fi

# ---- which checker runs which models for a mutant ------------------------------------------------
# plan <mutant> prints "checker models..." lines, most likely killer first; "checker -" = n/a.
plan() {
    case "$1" in
    publish_relaxed) # I2: a Relaxed publication is a weak-memory bug
        echo "loom publication done_means_done set_cancel"
        echo "miri run_vs_set timeout_vs_completion callback_vs_completion"
        echo "shuttle -"
        echo "tests" ;;
    completing_is_settled) # I2/I9: outcome read during COMPLETING
        echo "loom publication done_means_done"
        echo "shuttle mixed_waiters"
        echo "miri run_vs_set callback_vs_completion"
        echo "tests" ;;
    start_without_cas) # I4
        echo "loom run_cancel"
        echo "shuttle cancel_storm"
        echo "miri run_vs_set"
        echo "tests" ;;
    push_ignores_closed) # I3
        echo "loom push_complete"
        echo "shuttle mixed_waiters"
        echo "miri timeout_vs_completion drop_future_vs_completion"
        echo "tests" ;;
    drain_closes_early) # I3/I7
        echo "loom callback_complete"
        echo "shuttle callback_storm"
        echo "miri callback_vs_completion"
        echo "tests" ;;
    cancel_no_wake) # I3
        echo "loom cancel_wakes interrupt_parked_runner"
        echo "shuttle cancel_storm mixed_waiters"
        echo "miri cancel_interrupt_vs_run"
        echo "tests" ;;
    no_dekker_fence) # I5: store-buffering between runner and canceller is a weak-memory bug
        echo "loom interrupt_parked_runner"
        echo "miri cancel_interrupt_vs_run"
        echo "shuttle -"
        echo "tests" ;;
    runner_skips_interrupt_wait) # I5: use-after-free of the runner's thread handle
        echo "miri cancel_interrupt_vs_run"
        echo "loom interrupt_parked_runner interrupt_finishing_runner"
        echo "shuttle cancel_storm"
        echo "tests" ;;
    interrupt_scope_leaks) # I5
        echo "loom interrupt_finishing_runner interrupt_parked_runner"
        echo "shuttle cancel_storm"
        echo "miri cancel_interrupt_vs_run"
        echo "tests" ;;
    release_before_take) # I6: use-after-free of a released node
        echo "miri drop_future_vs_completion timeout_vs_completion abandon_vs_abandon repoll_vs_completion"
        echo "loom drop_future_complete timeout_complete drop_futures_unlink"
        echo "shuttle async_storm abandon_storm"
        echo "tests" ;;
    release_before_unlink) # I6: use-after-free of a swept node
        echo "miri abandon_vs_abandon timeout_vs_completion drop_future_vs_completion"
        echo "loom drop_futures_unlink drop_future_with_waiter"
        echo "shuttle abandon_storm"
        echo "tests" ;;
    timeout_no_unlink) # I6: a freed node left linked
        echo "miri timeout_vs_completion abandon_vs_abandon"
        echo "loom timeout_complete"
        echo "shuttle abandon_storm"
        echo "tests" ;;
    wake_before_release) # I3: a sleeper woken before its node is released sleeps on
        echo "loom sleepers_wake_all push_complete cancel_wakes"
        echo "shuttle mixed_waiters cancel_storm"
        echo "miri sleepers_vs_completion"
        echo "tests" ;;
    sweeper_ignores_dirty) # I6: a stranded abandoned waiter
        echo "loom drop_futures_unlink three_abandoners"
        echo "shuttle abandon_storm"
        echo "miri abandon_vs_abandon"
        echo "tests" ;;
    closed_callback_dropped) # I7
        echo "loom callback_complete"
        echo "shuttle callback_storm"
        echo "miri callback_vs_completion"
        echo "tests" ;;
    waker_not_replaced) # I8
        echo "loom repoll_complete"
        echo "shuttle async_storm mixed_waiters"
        echo "miri repoll_vs_completion"
        echo "tests" ;;
    wake_unguarded) # I11: a panicking waker strands the rest of the batch
        echo "loom panicking_wake_batch"
        echo "shuttle foreign_storm"
        echo "miri wake_panic_vs_completion"
        echo "tests" ;;
    clone_inside_updating) # I11: a panicking clone leaves the node UPDATING
        echo "loom panicking_clone_repoll"
        echo "shuttle foreign_storm"
        echo "miri repoll_clone_panic_vs_completion"
        echo "tests" ;;
    sweeper_drops_waker) # I11: foreign code under LOCKED
        echo "loom panicking_drop_abandon"
        echo "shuttle foreign_storm"
        echo "miri abandon_drop_panic_vs_completion"
        echo "tests" ;;
    drop_unguarded) # I11: a task's drop leaks past a panicking foreign drop
        echo "tests"
        echo "miri task_drop_foreign_panics" ;;
    sleep_without_recheck) # I10/E1: a worker sleeps through a submission (lost wakeup)
        echo "loom executor::submit_drop executor::submit_shutdown"
        echo "shuttle executor"
        echo "miri pool_push_pop_grow"
        echo "tests" ;;
    shutdown_read_after_pop) # I10: a worker leaves with an accepted task still queued
        echo "loom executor::submit_shutdown executor::submit_drop"
        echo "shuttle executor"
        echo "miri pool_push_pop_grow"
        echo "tests" ;;
    room_without_recheck) # I10/E2: a blocked submitter misses the room a worker made
        echo "loom executor::submit_blocks_for_room"
        echo "shuttle executor"
        echo "miri pool_push_pop_grow"
        echo "tests" ;;
    shutdown_now_lists_started) # I10: a started task reported unstarted
        echo "loom executor::submit_shutdown_now"
        echo "shuttle executor_shutdown_now"
        echo "miri -"
        echo "tests" ;;
    reclaim_ignores_started) # I4: a reclaimed closure claimed twice (the kernel's unit test)
        echo "tests"
        echo "loom -"
        echo "shuttle -"
        echo "miri -" ;;
    wait_ignores_interrupt) # I12: a wait inside an interrupted run never returns
        echo "loom interrupted_getter"
        echo "shuttle -"
        echo "miri -"
        echo "tests" ;;
    inbox_post_without_notify | inbox_sleep_without_recheck | watch_ready_not_posted) # I3/N1, N2
        echo "loom inbox_untimed"
        echo "shuttle inbox_storm"
        echo "miri -"
        echo "tests" ;;
    timed_out_watch_kept) # I6/N3: registrations left behind by a wait that gave up
        echo "loom inbox_timed"
        echo "shuttle inbox_storm"
        echo "miri -"
        echo "tests" ;;
    inbox_interrupt_checked_once) # I12/N4: a consumer parked in the inbox sleeps through its interrupt
        echo "loom interrupted_inbox_consumer interrupted_inbox_post_race"
        echo "shuttle -"
        echo "miri -"
        echo "tests" ;;
    mark_dirty_skips_cas) # I6/A2: the pre-A2 shortcut; only a C11 checker sees it (the lost edge)
        echo "loom three_abandoners"
        echo "miri abandon_vs_abandon"
        echo "shuttle -"
        echo "tests" ;;
    tail_relaxed) # I10/Q1: a slot published without Release (a weak-memory bug)
        echo "loom executor::submit_drop executor::submit_shutdown"
        echo "miri pool_push_pop_grow"
        echo "shuttle -"
        echo "tests" ;;
    *) # a mutant added to the kernel after this table: run everything
        echo "loom"
        echo "shuttle"
        echo "miri"
        echo "tests" ;;
    esac
}

# ---- running one checker -------------------------------------------------------------------------
# run_checker <mutant|-> <checker> <models...>: prints KILLED / survived / BUILD-FAILED and a reason.
with_mutant() {
    if [ "$1" = "-" ]; then
        shift
        env -u FT_MUTANT "$@"
    else
        local m="$1"
        shift
        env FT_MUTANT="$m" "$@"
    fi
}

miri_ready=""
ensure_miri() {
    if [ -z "$miri_ready" ]; then
        if rustup component add --toolchain nightly miri rust-src >/dev/null 2>&1 &&
            cargo +nightly miri setup >/dev/null 2>&1; then
            miri_ready=yes
        else
            miri_ready=no
        fi
    fi
    [ "$miri_ready" = yes ]
}

RESULT=""
REASON=""
run_checker() {
    local m="$1" checker="$2"
    shift 2
    local models=("$@")
    local log="$LOGS/${m//-/baseline}.$checker.log"
    local build run limit="$T"
    case "$checker" in
    loom)
        build=(env RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$BASE/loom"
            cargo test -p futuretask-models --release --test loom --test loom_waits)
        run=("${build[@]}" -- --test-threads=1 --exact "${models[@]}") ;;
    shuttle)
        build=(env CARGO_TARGET_DIR="$BASE/shuttle"
            cargo test -p futuretask-models --features shuttle --release --test shuttle --test shuttle_waits)
        run=("${build[@]}" -- --test-threads=1 "${models[@]}") ;;
    miri)
        if ! ensure_miri; then
            RESULT="n/a"
            REASON="miri is not installed"
            return
        fi
        limit=$((T * 2))
        build=(env CARGO_TARGET_DIR="$BASE/miri"
            MIRIFLAGS="-Zmiri-strict-provenance -Zmiri-many-seeds=0..$SEEDS"
            cargo +nightly miri test -p futuretask-models --test miri_races)
        run=("${build[@]}" -- "${models[@]}") ;;
    tests)
        build=(env CARGO_TARGET_DIR="$BASE/tests" cargo test -p futuretask)
        run=("${build[@]}") ;;
    esac
    echo "    [$checker] ${models[*]:-(all)}  (log: $log)"
    if ! with_mutant "$m" "${build[@]}" --no-run >"$log" 2>&1; then
        RESULT="BUILD-FAILED"
        REASON="$(grep -m1 '^error' "$log")"
        return
    fi
    local start rc
    start=$(date +%s)
    with_mutant "$m" timeout -k 10 "$limit" "${run[@]}" >>"$log" 2>&1
    rc=$?
    local secs=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        RESULT="survived"
        REASON="passed in ${secs}s"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        RESULT="KILLED"
        REASON="hang: timed out after ${limit}s"
    else
        RESULT="KILLED"
        # The first failure line; a panic's message is on the line after "panicked at".
        REASON="$(grep -a -m1 -A1 -E 'deadlock|Undefined Behavior|panicked at|memory leak|error: test failed|signal' "$log" |
            sed -e 's/^thread .* panicked at [^ ]*/panicked:/' | tr '\n' ' ' | cut -c1-160)"
        REASON="${REASON:-exit $rc} (${secs}s)"
    fi
}

# ---- baseline ------------------------------------------------------------------------------------
failures=0
if [ "$BASELINE" = 1 ]; then
    echo "== baseline: the same checker runs on the unmutated kernel must pass =="
    declare -A union=()
    for m in "${MUTANTS[@]}"; do
        while read -r checker rest; do
            [ "$rest" = "-" ] && continue
            union[$checker]="${union[$checker]:-} $rest"
        done < <(plan "$m")
    done
    for checker in loom shuttle miri tests; do
        [ -n "${union[$checker]+x}" ] || continue
        # shellcheck disable=SC2086
        models=($(tr ' ' '\n' <<<"${union[$checker]}" | sed '/^$/d' | sort -u))
        run_checker - "$checker" "${models[@]}"
        echo "    baseline $checker: $RESULT — $REASON"
        if [ "$RESULT" != survived ] && [ "$RESULT" != "n/a" ]; then
            failures=$((failures + 1))
        fi
    done
fi

# ---- the mutants ---------------------------------------------------------------------------------
declare -A CELL=()
declare -A WHY=()
for m in "${MUTANTS[@]}"; do
    echo "== mutant $m =="
    killed=0
    while read -r checker rest; do
        if [ "$rest" = "-" ]; then
            CELL[$m.$checker]="n/a"
            WHY[$m.$checker]="sequentially consistent checker: blind to weak-memory bugs"
            continue
        fi
        if [ "$QUICK" = 1 ] && [ "$killed" = 1 ]; then
            CELL[$m.$checker]="skip"
            continue
        fi
        # shellcheck disable=SC2086
        run_checker "$m" "$checker" $rest
        CELL[$m.$checker]="$RESULT"
        WHY[$m.$checker]="$REASON"
        echo "    -> $RESULT: $REASON"
        case "$RESULT" in
        KILLED) killed=1 ;;
        BUILD-FAILED) failures=$((failures + 1)) ;;
        esac
    done < <(plan "$m")
done

# ---- kill matrix ---------------------------------------------------------------------------------
echo
echo "== kill matrix ($([ "$QUICK" = 1 ] && echo quick || echo full); miri: $SEEDS seeds) =="
printf '| %-28s | %-8s | %-8s | %-8s | %-8s |\n' mutant loom shuttle miri tests
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..30})" ---------- ---------- ---------- ----------
survivors=()
for m in "${MUTANTS[@]}"; do
    row=()
    any=0
    for checker in loom shuttle miri tests; do
        c="${CELL[$m.$checker]:-n/a}"
        [ "$c" = KILLED ] && any=1
        row+=("$c")
    done
    printf '| %-28s | %-8s | %-8s | %-8s | %-8s |\n' "$m" "${row[@]}"
    [ "$any" = 1 ] || survivors+=("$m")
done
echo
for m in "${MUTANTS[@]}"; do
    for checker in loom shuttle miri tests; do
        [ "${CELL[$m.$checker]:-}" = KILLED ] && echo "$m / $checker: ${WHY[$m.$checker]}"
    done
done
if [ "${#survivors[@]}" -gt 0 ]; then
    echo "SURVIVED every checker: ${survivors[*]}"
    failures=$((failures + 1))
fi
if [ "$failures" -gt 0 ]; then
    echo "mutation harness FAILED ($failures problem(s))"
    exit 1
fi
echo "mutation harness passed: ${#MUTANTS[@]} mutants, every one killed"
