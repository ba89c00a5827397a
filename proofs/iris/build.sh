#!/usr/bin/env bash
# Builds the Iris proof of the FutureTask protocol (proofs/iris/) and checks it is complete.
#   bash proofs/iris/build.sh      -> prints "FT-IRIS lemmas=N files=M seconds=S" on success
# Fails if coqc is missing, if any file under proofs/iris/theories uses Admitted / admit /
# Axiom / Parameter / Conjecture, if a file does not compile, or if a main theorem depends on
# an axiom (Print Assumptions must say "Closed under the global context").
set -euo pipefail
cd "$(dirname "$0")"
command -v coqc >/dev/null || { echo "error: coqc not found (apt-get install -y coq libcoq-iris libcoq-stdpp)"; exit 2; }
echo "== $(coqc --version | head -1)"
if grep -nE '\b(Admitted|admit|Axiom|Axioms|Parameter|Parameters|Conjecture|Hypothesis|Hypotheses)\b' theories/*.v; then
  echo "error: an admitted lemma, axiom or parameter under proofs/iris/theories"; exit 1
fi
start=$(date +%s)
files=$(grep -E '^theories/.*\.v$' _CoqProject)
for f in $files; do
  echo "== coqc $f"
  coqc -Q theories futuretask "$f"
done
# No axiom behind the main results.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mains="complete_spec cancel_spec set_spec fail_spec run_spec await_settled_spec \
           get_now_done_spec is_done_spec report_spec state_terminal_spec no_claim_after_cancel \
           win_tok_exclusive decided_agree push_spec push_closed_spec notify_spec \
           hand_off_batch_spec run_callbacks_spec drain_spec wait_done_spec get_spec \
           add_done_callback_spec new_futuretask_spec closed_handed \
           notify_lspec release_spec sweep_load_spec owner_load_spec free_node_spec \
           wait_released_spec abandon_spec timed_wait_spec sweep_from_spec reclaim_unpushed \
           unlock_spec sweep_spec remove_abandoned_spec push_rspec timed_wait_removing_spec \
           new_rstack_spec
           hand_off_lbatch_spec rdrain_spec rclosed_handed
           new_futuretask_rspec get_timed_spec add_done_callback_rspec client_spec client_adequate
           owner_peek_spec begin_update_spec end_update_spec repoll_spec drop_future_spec poll_loop_spec
           future_life_spec client_async_spec client_async_adequate"
{
  echo "From futuretask Require Import $(for f in $files; do basename "$f" .v; done | tr '\n' ' ')."
  for l in $mains; do
    echo "Print Assumptions $l."
  done
} > "$tmp/assumptions.v"
coqc -Q theories futuretask "$tmp/assumptions.v" > "$tmp/out.txt"
closed=$(grep -c 'Closed under the global context' "$tmp/out.txt" || true)
nmains=$(echo $mains | wc -w)
if [ "$closed" -ne "$nmains" ]; then
  cat "$tmp/out.txt"; echo "error: a main theorem depends on an assumption"; exit 1
fi
echo "== Print Assumptions: $nmains main theorems closed under the global context"
secs=$(( $(date +%s) - start ))
lemmas=$(cat $files | grep -cE '^\s*(Lemma|Theorem|Corollary)\s')
nfiles=$(echo "$files" | wc -w)
echo "FT-IRIS lemmas=$lemmas files=$nfiles seconds=$secs"
