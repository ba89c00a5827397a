#!/usr/bin/env bash
# Mutation harness: every planted bug of models/mutants/REGISTRY must be caught.
#
#   bash models/run-mutants.sh [--quick] [--no-baseline] [--part k/n] [MUTANT...]
#
# The shipped source holds no planted bug: each mutant is a patch, models/mutants/<name>.patch.
# The harness copies the working tree (tracked and untracked-not-ignored files) to a scratch
# tree, $FT_MUTANT_TARGET/src, and for each mutant applies its patch there, runs the checkers the
# registry lists for it, and reverses the patch:
#   loom    RUSTFLAGS="--cfg loom" cargo test -p futuretask-models --release --test loom
#           --test loom_waits --test executor_loom -- --exact <models>
#   shuttle cargo test -p futuretask-models --features shuttle --release --test shuttle
#           --test shuttle_waits --test executor_shuttle -- <models>
#   miri    cargo +nightly miri test -p futuretask-models --test miri_races --test executor_miri
#           -- <races>   (many seeds)
#   tests   cargo test -p futuretask -p futuretask-executor (the kernel's and the executor's unit +
#           integration tests)
# each under `timeout` (a hang — a deadlock or livelock the checker did not report itself — counts
# as a kill by that checker). With a baseline, a checker's limit is 5x its baseline run (at least
# 60 s, at most the default): the baseline runs the union of the mutants' models, so no passing
# run of a subset takes longer than it. The models run for a mutant are the ones aimed at the invariant it
# breaks (the registry's lines, in kill order; printed before each run). A checker that cannot see
# a bug class by construction is `n/a` (shuttle is sequentially consistent: it cannot see a
# missing fence or a Relaxed store).
#
# Full mode (default) runs every applicable checker on every mutant and first checks that the
# same commands pass on the unpatched scratch tree (baseline). --quick stops at the first checker
# that kills a mutant (the others print `skip`) and leaves the baseline to the loom/shuttle/miri
# tiers. Exits non-zero if any mutant survives every checker, a patch does not apply, a build
# fails, or the baseline fails.
#
# --part k/n runs the mutants whose registry position p (from 0) has p mod n = k-1, so n runs
# with k = 1..n cover the registry exactly once (the gate runs the parts as separate checks, which
# lets `cargo xtask verify --shard` spread them over runners).
#
# Environment: FT_MUTANT_TARGET (scratch tree and target dirs, default target/mutants),
# MIRI_SEEDS (default 8 in --quick, 16 otherwise), FT_MUTANT_TIMEOUT (seconds per checker run,
# default 300; Miri gets 2x).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
REGISTRY="models/mutants/REGISTRY"

QUICK=0
BASELINE=1
ONLY=()
PART=""
args=("$@")
i=0
while [ "$i" -lt "${#args[@]}" ]; do
    a="${args[$i]}"
    i=$((i + 1))
    case "$a" in
    --quick) QUICK=1 ;;
    --part)
        PART="${args[$i]:-}"
        i=$((i + 1))
        ;;
    --part=*) PART="${a#--part=}" ;;
    --no-baseline) BASELINE=0 ;;
    -h | --help)
        sed -n '2,38p' "$0"
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
PART_K=1
PART_N=1
if [ -n "$PART" ]; then
    if [[ "$PART" =~ ^([0-9]+)/([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] &&
        [ "${BASH_REMATCH[1]}" -le "${BASH_REMATCH[2]}" ]; then
        PART_K="${BASH_REMATCH[1]}"
        PART_N="${BASH_REMATCH[2]}"
    else
        echo "--part takes k/n with 1 <= k <= n, not '$PART'" >&2
        exit 2
    fi
fi

command -v patch >/dev/null || {
    echo "error: patch not found (apt-get install -y patch)" >&2
    exit 2
}

BASE="${FT_MUTANT_TARGET:-$ROOT/target/mutants}"
case "$BASE" in /*) ;; *) BASE="$ROOT/$BASE" ;; esac
# Never the real tree's target directories: the scratch tree's artifacts have the same names, so
# the next real build would find the last mutant's build fresh and test it.
if [ "$(realpath -m "$BASE")" = "$(realpath -m "$ROOT/target")" ]; then
    echo "FT_MUTANT_TARGET must not be the workspace's target/ (its loom/shuttle/miri directories are the real tree's)" >&2
    exit 2
fi
SRC="$BASE/src"
LOGS="$BASE/logs"
mkdir -p "$LOGS"
SEEDS="${MIRI_SEEDS:-$([ "$QUICK" = 1 ] && echo 8 || echo 16)}"
T="${FT_MUTANT_TIMEOUT:-300}"
unset RUSTFLAGS LOOM_MAX_PREEMPTIONS LOOM_MAX_PERMUTATIONS LOOM_MAX_DURATION \
    LOOM_CHECKPOINT_FILE FT_LOOM_PREEMPTION
# A failure against a mutant is expected: no proptest regression file is written for it.
export CARGO_TERM_COLOR=never FT_TIER=quick PROPTEST_DISABLE_FAILURE_PERSISTENCE=1

# ---- the registry --------------------------------------------------------------------------------
# ALL: the mutants in registry order; PLAN[m]: its "checker models..." lines, in kill order
# ("checker -" = n/a).
ALL=()
declare -A PLAN=()
cur=""
while IFS= read -r line || [ -n "$line" ]; do
    read -r key rest <<<"$line"
    case "$key" in
    "" | \#*) continue ;;
    mutant)
        cur="$rest"
        ALL+=("$cur")
        PLAN[$cur]=""
        ;;
    loom | shuttle | miri | tests)
        [ -n "$cur" ] || {
            echo "$REGISTRY: '$key' before the first 'mutant' line" >&2
            exit 1
        }
        [ "$rest" = "n/a" ] && rest="-"
        PLAN[$cur]+="$key${rest:+ $rest}"$'\n'
        ;;
    invariants | description | stateright | promela | iris) ;;
    *)
        echo "$REGISTRY: unknown key '$key' (mutant ${cur:-none})" >&2
        exit 1
        ;;
    esac
done <"$REGISTRY"
if [ "${#ALL[@]}" -eq 0 ]; then
    echo "no mutants found in $REGISTRY" >&2
    exit 1
fi
if [ "${#ONLY[@]}" -gt 0 ]; then
    for m in "${ONLY[@]}"; do
        [ -n "${PLAN[$m]+x}" ] || {
            echo "unknown mutant $m (not in $REGISTRY)" >&2
            exit 2
        }
    done
    MUTANTS=("${ONLY[@]}")
else
    MUTANTS=("${ALL[@]}")
fi
if [ "$PART_N" -gt 1 ]; then
    picked=()
    for p in "${!MUTANTS[@]}"; do
        [ $((p % PART_N)) -eq $((PART_K - 1)) ] && picked+=("${MUTANTS[$p]}")
    done
    MUTANTS=("${picked[@]}")
    echo "part $PART_K/$PART_N: ${#MUTANTS[@]} mutant(s): ${MUTANTS[*]}"
    if [ "${#MUTANTS[@]}" -eq 0 ]; then
        echo "part $PART_K/$PART_N selects no mutant" >&2
        exit 2
    fi
fi

# plan <mutant> prints "checker models..." lines, most likely killer first; "checker -" = n/a.
plan() {
    printf '%s' "${PLAN[$1]}"
}

# ---- the scratch tree ----------------------------------------------------------------------------
# Mirror the working tree's tracked and untracked-not-ignored files into $SRC. Only files whose
# content differs are copied (with a new mtime, so cargo rebuilds what changed and reuses the rest);
# files no longer in the tree are removed. A file left patched by an interrupted run differs from
# the tree, so it is restored here.
sync_scratch() {
    mkdir -p "$SRC"
    local list="$BASE/files.list" f n=0
    (cd "$ROOT" && git ls-files -co --exclude-standard -z) >"$list" || {
        echo "git ls-files failed in $ROOT" >&2
        exit 1
    }
    declare -A keep=()
    while IFS= read -r -d '' f; do
        [ -e "$ROOT/$f" ] || [ -L "$ROOT/$f" ] || continue
        keep[$f]=1
        if [ -L "$ROOT/$f" ] || ! cmp -s "$ROOT/$f" "$SRC/$f"; then
            mkdir -p "$(dirname "$SRC/$f")"
            cp -P --remove-destination "$ROOT/$f" "$SRC/$f"
            n=$((n + 1))
        fi
    done <"$list"
    while IFS= read -r -d '' f; do
        f="${f#./}"
        [ -n "${keep[$f]+x}" ] || rm -f "$SRC/$f"
    done < <(cd "$SRC" && find . \( -type f -o -type l \) -print0)
    echo "scratch tree: $SRC ($n file(s) updated from the working tree)"
}

# apply_mutant <m> / revert_mutant <m>: patch the scratch tree (-R to undo). Strict: no fuzz.
PATCH_FLAGS=(-p1 --fuzz=0 --batch --silent --no-backup-if-mismatch -r -)
apply_mutant() {
    local p="$ROOT/models/mutants/$1.patch"
    if [ ! -f "$p" ]; then
        echo "mutant $1: no patch models/mutants/$1.patch" >&2
        return 1
    fi
    if ! (cd "$SRC" && patch --dry-run "${PATCH_FLAGS[@]}" <"$p" >/dev/null 2>&1); then
        echo "mutant $1: models/mutants/$1.patch does not apply to the current tree:" >&2
        (cd "$SRC" && patch --dry-run -p1 --fuzz=0 --batch <"$p") 2>&1 | sed 's/^/    /' >&2
        return 1
    fi
    (cd "$SRC" && patch "${PATCH_FLAGS[@]}" <"$p")
}
revert_mutant() {
    local p="$ROOT/models/mutants/$1.patch" f
    if ! (cd "$SRC" && patch -R "${PATCH_FLAGS[@]}" <"$p"); then
        echo "mutant $1: reversing models/mutants/$1.patch failed; the scratch tree is re-synced" >&2
        sync_scratch
        return
    fi
    # The reversed files must be the working tree's again.
    for f in $(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p"); do
        if ! cmp -s "$ROOT/$f" "$SRC/$f"; then
            echo "mutant $1: $f differs from the working tree after the reverse patch" >&2
            exit 1
        fi
    done
}

# ---- running one checker -------------------------------------------------------------------------
# run_checker <mutant|-> <checker> <models...>: prints KILLED / survived / BUILD-FAILED and a
# reason. Runs in the scratch tree, which holds the mutant's patch (or none: `-`).
in_scratch() {
    (cd "$SRC" && "$@")
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
SECS=0
declare -A BASE_SECS=()
run_checker() {
    local m="$1" checker="$2"
    shift 2
    local models=("$@")
    local log="$LOGS/${m//-/baseline}.$checker.log"
    local build run limit="$T"
    case "$checker" in
    loom)
        build=(env RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$BASE/loom"
            cargo test -p futuretask-models --release --test loom --test loom_waits --test executor_loom)
        run=("${build[@]}" -- --test-threads=1 --exact "${models[@]}") ;;
    shuttle)
        build=(env CARGO_TARGET_DIR="$BASE/shuttle"
            cargo test -p futuretask-models --features shuttle --release \
            --test shuttle --test shuttle_waits --test executor_shuttle)
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
            cargo +nightly miri test -p futuretask-models --test miri_races --test executor_miri)
        run=("${build[@]}" -- "${models[@]}") ;;
    tests)
        build=(env CARGO_TARGET_DIR="$BASE/tests" cargo test -p futuretask -p futuretask-executor)
        run=("${build[@]}") ;;
    esac
    if [ "$m" != - ] && [ -n "${BASE_SECS[$checker]+x}" ]; then
        local rel=$((5 * BASE_SECS[$checker]))
        [ "$rel" -lt 60 ] && rel=60
        [ "$rel" -lt "$limit" ] && limit="$rel"
    fi
    echo "    [$checker] ${models[*]:-(all)}  (log: $log)"
    if ! in_scratch "${build[@]}" --no-run >"$log" 2>&1; then
        RESULT="BUILD-FAILED"
        REASON="$(grep -m1 '^error' "$log")"
        return
    fi
    local start rc
    start=$(date +%s)
    in_scratch timeout -k 10 "$limit" "${run[@]}" >>"$log" 2>&1
    rc=$?
    local secs=$(($(date +%s) - start))
    SECS="$secs"
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
sync_scratch
failures=0
if [ "$BASELINE" = 1 ]; then
    echo "== baseline: the same checker runs on the unpatched scratch tree must pass =="
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
        [ "$RESULT" = survived ] && BASE_SECS[$checker]="$SECS"
        if [ "$RESULT" != survived ] && [ "$RESULT" != "n/a" ]; then
            failures=$((failures + 1))
        fi
    done
fi

# ---- the mutants ---------------------------------------------------------------------------------
declare -A CELL=()
declare -A WHY=()
for m in "${MUTANTS[@]}"; do
    echo "== mutant $m (models/mutants/$m.patch) =="
    if ! apply_mutant "$m"; then
        CELL[$m.patch]="NO-APPLY"
        failures=$((failures + 1))
        continue
    fi
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
    revert_mutant "$m"
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
        c="${CELL[$m.$checker]:-${CELL[$m.patch]:-n/a}}"
        [ "$c" = KILLED ] && any=1
        row+=("$c")
    done
    printf '| %-28s | %-8s | %-8s | %-8s | %-8s |\n' "$m" "${row[@]}"
    [ "$any" = 1 ] || [ "${CELL[$m.patch]:-}" = NO-APPLY ] || survivors+=("$m")
done
echo
for m in "${MUTANTS[@]}"; do
    for checker in loom shuttle miri tests; do
        [ "${CELL[$m.$checker]:-}" = KILLED ] && echo "$m / $checker: ${WHY[$m.$checker]}"
    done
done
for m in "${MUTANTS[@]}"; do
    [ "${CELL[$m.patch]:-}" = NO-APPLY ] && echo "PATCH DOES NOT APPLY: $m (models/mutants/$m.patch)"
done
if [ "${#survivors[@]}" -gt 0 ]; then
    echo "SURVIVED every checker: ${survivors[*]}"
    failures=$((failures + 1))
fi
if [ "$failures" -gt 0 ]; then
    echo "mutation harness FAILED ($failures problem(s))"
    exit 1
fi
if [ "$PART_N" -gt 1 ]; then
    echo "mutation harness passed: ${#MUTANTS[@]} mutants (part $PART_K/$PART_N), every one killed"
else
    echo "mutation harness passed: ${#MUTANTS[@]} mutants, every one killed"
fi
