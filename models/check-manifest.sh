#!/usr/bin/env bash
# Check a tier's output against models/MANIFEST.txt: every listed model of the given checker
# family must have printed at least one `FT-MODEL` line, none with iterations=0, and the
# invariants it reports must be the listed ones.
#
#   RUSTFLAGS="--cfg loom" cargo test -p futuretask-models --release 2>&1 | tee loom.log
#   bash models/check-manifest.sh loom loom.log        # families: loom, shuttle, miri
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
family="${1:?usage: $0 <loom|shuttle|miri> [LOG]}"
log="${2:-/dev/stdin}"
out="$(grep -ao 'FT-MODEL .*' "$log" || true)"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

fail=0
expected=0
while read -r checker name invariants _; do
    case "$checker" in '' | '#'*) continue ;; esac
    case "$checker" in "$family"*) ;; *) continue ;; esac
    expected=$((expected + 1))
    lines="$(grep -a " checker=$checker name=$name " <<<"$out" || true)"
    if [ -z "$lines" ]; then
        echo "MISSING  $checker/$name: no FT-MODEL line"
        fail=1
        continue
    fi
    while read -r l; do
        it="$(field iterations "$l")"
        inv="$(field invariants "$l")"
        if [ -z "$it" ] || [ "$it" -eq 0 ]; then
            echo "EMPTY    $checker/$name: iterations=${it:-?}"
            fail=1
        fi
        if [ "$inv" != "$invariants" ]; then
            echo "MISMATCH $checker/$name: reports invariants=$inv, manifest says $invariants"
            fail=1
        fi
    done <<<"$lines"
    echo "ok       $checker/$name ($(wc -l <<<"$lines") line(s))"
done <"$here/MANIFEST.txt"

if [ "$expected" -eq 0 ]; then
    echo "the manifest lists no $family model"
    exit 1
fi
exit "$fail"
