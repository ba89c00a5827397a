#!/usr/bin/env bash
# Planted protocol bugs: each patch under proofs/iris/mutants/ is applied to a scratch copy of
# proofs/iris/theories, and the Iris proof must then FAIL to build (the mutant is KILLED).
#   bash proofs/iris/mutants/run.sh [--quick]   (--quick: publish_before_write, push_ignores_closed,
#   free_before_done)
# Files before the patched one are not rebuilt when proofs/iris/build.sh left their .vo files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
command -v coqc >/dev/null || { echo "error: coqc not found"; exit 2; }
quick=0; [ "${1:-}" = "--quick" ] && quick=1
if [ $quick -eq 1 ]; then
  names=(publish_before_write push_ignores_closed free_before_done)
else
  names=(publish_before_write cancel_ignores_phase settled_precedence push_ignores_closed done_before_take
         free_before_done touch_after_release lock_closed_stack drain_ignores_locked
         waker_outside_updating)
fi
files=$(grep -E '^theories/.*\.v$' "$root/_CoqProject")
killed=0; survived=0
for name in "${names[@]}"; do
  p="$here/$name.patch"
  target="theories/$(sed -n 's/^+++ b\/\([^[:space:]]*\).*/\1/p' "$p" | head -1)"
  tmp=$(mktemp -d)
  mkdir "$tmp/theories"; cp "$root"/theories/*.v "$tmp/theories/"; cp "$root/_CoqProject" "$tmp/"
  # Reuse the compiled prefix (files before the patched one), if it is up to date.
  for f in $files; do
    [ "$f" = "$target" ] && break
    vo="$root/${f%.v}.vo"
    if [ -f "$vo" ] && [ "$vo" -nt "$root/$f" ]; then cp "$vo" "$tmp/${f%.v}.vo"; fi
  done
  (cd "$tmp/theories" && patch -p1 --quiet < "$p") || { echo "error: $name does not apply"; rm -rf "$tmp"; exit 1; }
  t0=$(date +%s); ok=1; started=0
  for f in $files; do
    [ "$f" = "$target" ] && started=1
    if [ $started -eq 0 ] && [ -f "$tmp/${f%.v}.vo" ]; then continue; fi
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
