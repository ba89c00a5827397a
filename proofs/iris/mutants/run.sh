#!/usr/bin/env bash
# Planted protocol bugs: each patch under proofs/iris/mutants/ is applied to a scratch copy of
# proofs/iris/theories, and the Iris proof must then FAIL to build (the mutant is KILLED).
#   bash proofs/iris/mutants/run.sh [--quick]   (--quick: the two state-word mutants only)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
command -v coqc >/dev/null || { echo "error: coqc not found"; exit 2; }
quick=0; [ "${1:-}" = "--quick" ] && quick=1
patches=("$here"/publish_before_write.patch "$here"/cancel_ignores_phase.patch)
[ $quick -eq 1 ] || patches+=("$here"/settled_precedence.patch)
killed=0; survived=0
for p in "${patches[@]}"; do
  name=$(basename "$p" .patch)
  tmp=$(mktemp -d)
  cp -r "$root/theories" "$tmp/theories"; cp "$root/_CoqProject" "$tmp/"
  rm -f "$tmp"/theories/*.vo "$tmp"/theories/*.vo? "$tmp"/theories/*.glob "$tmp"/theories/.*.aux
  (cd "$tmp/theories" && patch -p1 --quiet < "$p") || { echo "error: $name does not apply"; rm -rf "$tmp"; exit 1; }
  t0=$(date +%s); ok=1
  for f in $(grep -E '^theories/.*\.v$' "$tmp/_CoqProject"); do
    if ! (cd "$tmp" && coqc -Q theories futuretask "$f" > "$tmp/log" 2>&1); then
      ok=0; where=$(grep -m1 -oE 'line [0-9]+' "$tmp/log" || true)
      echo "KILLED iris mutant=$name file=$f at $where ($(( $(date +%s) - t0 ))s): $(grep -m1 -E '^Error' -A1 "$tmp/log" | tr '\n' ' ' | cut -c1-160)"
      break
    fi
  done
  if [ $ok -eq 1 ]; then echo "SURVIVED iris mutant=$name: the proof still builds"; survived=$((survived+1)); else killed=$((killed+1)); fi
  rm -rf "$tmp"
done
echo "FT-IRIS-MUTANTS killed=$killed survived=$survived"
[ $survived -eq 0 ]
