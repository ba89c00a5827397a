#!/usr/bin/env bash
# Checks proofs/futuretask.pml with SPIN.
#
#   bash proofs/run-spin.sh            safety + every LTL property (weak fairness), per configuration
#   bash proofs/run-spin.sh --mutants  each mutant must be caught (errors > 0); prints the trails
#
# Installs spin (Debian package) if missing. Works in $FT_SPIN_DIR (default: target/spin under the
# repository root, which git ignores): pan sources, binaries and trails never land in the repo.
# Exits non-zero on any error (or, with --mutants, on a mutant that is not caught).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PML="$HERE/futuretask.pml"
PROTOCOL="$ROOT/kernel/src/protocol.rs"
WORK=${FT_SPIN_DIR:-$ROOT/target/spin}
MODE=check
case "${1:-}" in
  "") ;;
  --mutants) MODE=mutants ;;
  *) echo "usage: $0 [--mutants]" >&2; exit 2 ;;
esac

if ! command -v spin >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then
  echo "== installing spin and gcc"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq spin gcc >/dev/null
fi
echo "== $(spin -V)"

# ---- drift check: the #defines of the model must equal the constants of protocol.rs ----------
drift=0
declare -A CONST=()
while read -r name value; do
  case "$value" in
    0b*) value=${value//_/}; value=$((2#${value#0b})) ;; # digit separators (0b1_0000)
    *"<<"*) value=$((value)) ;; # a shift of literals (REF = 1 << 8)
    [A-Z]*) # a sum of constants defined above it (DRAIN_REF = REF + DRAIN_HELD)
      sum=0
      for term in ${value//+/ }; do
        if [ -z "${CONST[$term]:-}" ]; then echo "run-spin.sh: cannot evaluate $name = $value" >&2; exit 1; fi
        sum=$((sum + ${CONST[$term]}))
      done
      value=$sum ;;
    *) value=${value//_/} ;;
  esac
  CONST[$name]=$value
  pml=$(sed -n "s/^#define $name[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p" "$PML" | head -1)
  if [ -z "$pml" ]; then
    continue # not used by the Promela model
  fi
  if [ "$pml" != "$value" ]; then
    echo "DRIFT: $name is $value in protocol.rs but $pml in futuretask.pml" >&2
    drift=1
  fi
done < <(sed -n 's/^pub const \([A-Z_]*\): usize = \([0-9a-fx_b]*\|[0-9]* << [0-9]*\|[A-Z_]*\( + [A-Z_]*\)*\);.*/\1 \2/p' "$PROTOCOL")
if [ "$drift" != 0 ]; then exit 1; fi
echo "== constants agree with kernel/src/protocol.rs"

mkdir -p "$WORK"
cd "$WORK"
cp "$PML" futuretask.pml
CC_FLAGS=(-O2 -w -DCOLLAPSE)
DEPTH=(-m400000)

# Configurations: name|spin defines|LTL properties (default: LTLS). Actors besides the runner
# (or, "counted", the promise) and the interrupting canceller; a counted task (-DCOUNTED_TASK=1)
# also has a cloner, and every actor but the promise holds one reference. A counted task has no
# runner and never INTERRUPTING (runner_settles is vacuous there); task_freed is its I13 liveness.
# The counted untimed+callback configuration is checked for safety only: its liveness runs take
# about 40 s each, and each of its two actors' liveness is checked with the other left out.
# Without a canceller (-DWITH_CANCELLER=0) every reader of a counted task can leave before it
# settles, so the promise's W1 may give up the task's last reference and free it itself.
# Takers (T4, T5; take_ends is T5's liveness): -DWITH_TAKER=1 adds a handle that takes the
# outcome at any time, -DUNTIMED_TAKES=1 makes the untimed get's handle take it after the get;
# their configurations leave the cloner out (the taker is the extra handle). "alone" has the
# promise and the waiting taker only: the take must succeed there (completeness, TAKE_COMPLETE).
CONFIGS=(
  "untimed+callback|-DWITH_TIMED=0 -DWITH_ASYNC=0"
  "untimed+timed|-DWITH_ASYNC=0 -DWITH_CB=0"
  "async|-DWITH_UNTIMED=0 -DWITH_TIMED=0 -DWITH_CB=0"
  "counted: untimed|-DCOUNTED_TASK=1 -DWITH_TIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0|single_winner waiters_return task_freed"
  "counted: timed|-DCOUNTED_TASK=1 -DWITH_UNTIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0|single_winner waiters_return task_freed"
  "counted: async|-DCOUNTED_TASK=1 -DWITH_UNTIMED=0 -DWITH_TIMED=0 -DWITH_CB=0|single_winner waiters_return task_freed"
  "counted: callback|-DCOUNTED_TASK=1 -DWITH_UNTIMED=0 -DWITH_TIMED=0 -DWITH_ASYNC=0|single_winner callbacks_run task_freed"
  "counted: untimed+callback|-DCOUNTED_TASK=1 -DWITH_TIMED=0 -DWITH_ASYNC=0|-"
  "counted: timed, no canceller|-DCOUNTED_TASK=1 -DWITH_CANCELLER=0 -DWITH_UNTIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0|single_winner waiters_return task_freed"
  "counted: untimed get takes, alone|-DCOUNTED_TASK=1 -DUNTIMED_TAKES=1 -DWITH_CANCELLER=0 -DWITH_CLONER=0 -DWITH_TIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0|single_winner waiters_return task_freed take_ends"
  "counted: untimed, taker|-DCOUNTED_TASK=1 -DWITH_TAKER=1 -DWITH_CLONER=0 -DWITH_TIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0|single_winner waiters_return task_freed take_ends"
  "counted: callback, taker|-DCOUNTED_TASK=1 -DWITH_TAKER=1 -DWITH_CLONER=0 -DWITH_UNTIMED=0 -DWITH_TIMED=0 -DWITH_ASYNC=0|single_winner callbacks_run task_freed take_ends"
  "counted: untimed get takes, callback|-DCOUNTED_TASK=1 -DUNTIMED_TAKES=1 -DWITH_CLONER=0 -DWITH_TIMED=0 -DWITH_ASYNC=0|take_ends"
)
LTLS=(single_winner waiters_return runner_settles callbacks_run)

# actors DEFINES...: the threads a configuration runs, in words
actors() {
  local d=" $* " out
  has() { [[ "$d" == *" -D$1 "* ]]; }
  if has COUNTED_TASK=1; then out="promise (set / fail / dropped)"; else out="runner"; fi
  has WITH_CANCELLER=0 || out+=", cancel_and_interrupt()"
  if has COUNTED_TASK=1 && ! has WITH_CLONER=0; then out+=", cloner"; fi
  if ! has WITH_UNTIMED=0; then
    if has UNTIMED_TAKES=1; then out+=", untimed get (then takes)"; else out+=", untimed get"; fi
  fi
  has WITH_TIMED=0 || out+=", timed get"
  has WITH_ASYNC=0 || out+=", async waiter"
  has WITH_CB=0 || out+=", callback"
  if has WITH_TAKER=1; then out+=", taker"; fi
  echo "$out"
}

failures=0

# run_pan LABEL BINARY ARGS...: runs pan, prints the summary line, returns its error count
run_pan() {
  local label=$1 bin=$2
  shift 2
  local out start end errors states depth
  start=$(date +%s.%N)
  out=$("./$bin" "$@" 2>&1) || true
  end=$(date +%s.%N)
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' <<<"$out" | tail -1)
  depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  printf '   %-34s states stored %-10s depth %-5s errors %-3s %5.1fs\n' \
    "$label" "${states:-?}" "${depth:-?}" "${errors:-?}" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
  if grep -q "max search depth too small" <<<"$out"; then
    echo "   (search depth too small: raise -m)" >&2
    errors=${errors:-1}
    [ "$errors" = 0 ] && errors=1
  fi
  if [ -z "${errors:-}" ]; then
    echo "$out" | tail -20 >&2
    errors=1
  fi
  # pan's own lines, for tools that read them (cargo xtask verify sums "states, stored")
  grep -E "states, stored|errors: " <<<"$out" | sed 's/^ */     pan: /'
  LAST_OUT=$out
  return "$errors"
}

if [ "$MODE" = check ]; then
  for cfg in "${CONFIGS[@]}"; do
    IFS='|' read -r name defs_s ltls_s <<<"$cfg"
    read -r -a defs <<<"$defs_s"
    if [ -z "$ltls_s" ]; then ltls=("${LTLS[@]}"); elif [ "$ltls_s" = - ]; then ltls=(); else read -r -a ltls <<<"$ltls_s"; fi
    echo "== configuration: $(actors "${defs[@]}")"
    spin "${defs[@]}" -a futuretask.pml >/dev/null
    # the two verifiers compile in parallel (pan.c is large; this is most of the script's time)
    gcc "${CC_FLAGS[@]}" -DSAFETY -DNOCLAIM -o pan_safety pan.c &
    cc_safety=$!
    if [ "${#ltls[@]}" != 0 ]; then
      gcc "${CC_FLAGS[@]}" -DNFAIR=4 -o pan_ltl pan.c &
      cc_ltl=$!
      wait "$cc_ltl"
    fi
    wait "$cc_safety"
    run_pan "safety (asserts, end states)" pan_safety "${DEPTH[@]}" || failures=$((failures + 1))
    for ltl in ${ltls[@]+"${ltls[@]}"}; do
      if [ "$ltl" = callbacks_run ] && [[ " ${defs[*]} " == *" -DWITH_CB=0 "* ]]; then
        continue # no callback in this configuration
      fi
      run_pan "ltl $ltl (-a -f)" pan_ltl -a -f -N "$ltl" "${DEPTH[@]}" || failures=$((failures + 1))
    done
  done
  if [ "$failures" != 0 ]; then
    echo "FAILED: $failures check(s) reported errors; trails are in $WORK" >&2
    exit 1
  fi
  echo "OK: no errors"
  exit 0
fi

# ---- mutants: SPIN must find each bug ---------------------------------------------------------
MUTANTS=(
  "MUTANT_NO_CLOSED_CHECK|-DWITH_TIMED=0 -DWITH_ASYNC=0"
  "MUTANT_NO_REDRAIN|-DWITH_TIMED=0 -DWITH_ASYNC=0"
  "MUTANT_NO_INTERRUPT_WAIT|-DWITH_TIMED=0 -DWITH_ASYNC=0"
  "MUTANT_WAKE_BEFORE_RELEASE|-DWITH_TIMED=0 -DWITH_ASYNC=0"
  "MUTANT_SLEEPER_NO_WAKE|-DWITH_TIMED=0 -DWITH_ASYNC=0"
  "MUTANT_RELEASE_BEFORE_DRAIN|-DCOUNTED_TASK=1 -DWITH_TIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0"
  "MUTANT_COUNTED_PLAIN_STORE|-DCOUNTED_TASK=1 -DWITH_TIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0"
  "MUTANT_PUSH_WITHOUT_ANNOUNCE|-DCOUNTED_TASK=1 -DWITH_TIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0"
  "MUTANT_PUBLISH_IGNORES_ANNOUNCE|-DCOUNTED_TASK=1 -DWITH_TIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0"
  "MUTANT_TAKE_IGNORES_DRAIN_HELD|-DCOUNTED_TASK=1 -DWITH_TAKER=1 -DWITH_CLONER=0 -DWITH_TIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0"
  "MUTANT_TAKE_SKIPS_CLOSE|-DCOUNTED_TASK=1 -DWITH_TAKER=1 -DWITH_CLONER=0 -DWITH_UNTIMED=0 -DWITH_TIMED=0 -DWITH_ASYNC=0"
  "MUTANT_PUBLISH_WITHOUT_DRAIN_HELD|-DCOUNTED_TASK=1 -DUNTIMED_TAKES=1 -DWITH_CANCELLER=0 -DWITH_CLONER=0 -DWITH_TIMED=0 -DWITH_ASYNC=0 -DWITH_CB=0"
)
missed=0
for m in "${MUTANTS[@]}"; do
  name=${m%%|*}
  read -r -a defs <<<"${m#*|}"
  echo "== mutant $name ($(actors "${defs[@]}"))"
  rm -f futuretask.pml.trail
  spin -D"$name" "${defs[@]}" -a futuretask.pml >/dev/null
  gcc "${CC_FLAGS[@]}" -DSAFETY -DNOCLAIM -o pan_mutant pan.c
  if run_pan "safety" pan_mutant "${DEPTH[@]}"; then
    echo "   NOT CAUGHT: $name" >&2
    missed=$((missed + 1))
    continue
  fi
  grep -E "^pan:[0-9]+:" <<<"$LAST_OUT" | sed 's/^/   /' || true
  cp futuretask.pml.trail "$name.trail"
  echo "   trail ($WORK/$name.trail), replayed with spin -t -p:"
  spin -t -p -D"$name" "${defs[@]}" futuretask.pml 2>&1 |
    grep -E '^ *[0-9]+:[[:space:]]+proc|assert|<<<<<' | grep -v 'proc  0 (:init:' |
    sed -E 's/^ *([0-9]+):[[:space:]]+proc +([0-9]+) \(([A-Za-z]+):1\) [^ ]*:([0-9]+) \(state [0-9]+\)/     \1 \3 line \4/' |
    tail -"${FT_TRAIL_LINES:-40}"
done
if [ "$missed" != 0 ]; then
  echo "FAILED: $missed mutant(s) not caught" >&2
  exit 1
fi
echo "OK: every mutant caught"
