(** * Stage 4 (continued) — async waiters: the UPDATING hand-off (U1–U5) and the future's drop

    HeapLang transcription of [kernel/src/future.rs]'s re-poll of a registered future (U1–U5:
    the waker replaced under UPDATING, the clone of the new waker — user code — run outside
    UPDATING) and of its drop (G8 abandon, [remove_abandoned], wait for DONE, then free), on the
    lifetime nodes of [lifetime.v] and the stage-4 stack.  The waker is any value; [same] (the
    waker's [will_wake]) and [clone] are closures with any result; the completer's H2 spins while
    the node is UPDATING ([notify_lspec]).  The owner's update token [tok (l_u gl)] is in the
    node invariant in every state but UPDATING: holding it, the owner knows the node is UPDATING,
    so its store of WAITING (U2, U3, U5) never overwrites a releaser's NOTIFYING or DONE, and
    the payload cell (the waker) is the owner's alone between U1/U4 and the store.  Safety only:
    that the completion wakes the most recently registered waker (I8) is not stated. *)
From iris.algebra Require Import excl agree csum.
From iris.base_logic.lib Require Import invariants ghost_var.
From iris.heap_lang Require Import adequacy.
From iris.heap_lang Require Import lang proofmode notation.
From iris.prelude Require Import options.
From futuretask Require Import state_word operations waiters lifetime remover rdrain rtask.

(** Re-poll of a registered future: U1–U5.  Returns [true] (Ready) or [false] (Pending). *)
Definition repoll : val := λ: "nd" "same" "clone",
  if: !(n_state "nd") = #DONE then #true                    (* node DONE → Ready *)
  else if: CAS (n_state "nd") #WAITING #UPDATING then        (* [U1] *)
    if: "same" #() then n_state "nd" <- #WAITING ;; #false   (* [U2] will_wake: Pending *)
    else
      n_state "nd" <- #WAITING ;;                            (* [U3] *)
      let: "w" := "clone" #() in                             (* [U3] clone, outside UPDATING *)
      if: CAS (n_state "nd") #WAITING #UPDATING then         (* [U4] *)
        n_payload "nd" <- "w" ;;                             (* [U5] replace the waker *)
        n_state "nd" <- #WAITING ;;                          (* [U5] *)
        #false                                               (*      Pending *)
      else #true                                             (* [U4] failed → Ready *)
  else #true.                                                (* [U1] failed → Ready *)

(** The future's drop: G8, then [remove_abandoned] on success, then wait for DONE, and only
    then free the node. *)
Definition drop_future : val := λ: "nd" "remove",
  (if: CAS (n_state "nd") #WAITING #ABANDONED then "remove" #() else #()) ;;   (* [G8] *)
  wait_released "nd" ;;                                      (* yield until DONE *)
  free_node "nd".                                            (* only then free *)

(** Re-poll while the executor polls again ([again]) and the future is Pending. *)
Definition poll_loop : val := rec: "poll" "nd" "same" "clone" "again" :=
  if: "again" #() then
    (if: repoll "nd" "same" "clone" then #() else "poll" "nd" "same" "clone" "again")
  else #().

(** A future's life on a task: registration (P1–P3 with the waker as payload; Closed → Ready),
    re-polls while [again] says so and the task is not ready, then the drop (a Closed push:
    the never-published node is freed at once). *)
Definition future_life : val := λ: "t" "waker" "same" "clone" "again",
  let: "w" := t_waiters "t" in
  let: "nd" := (ref NONE, ref #WAITING, ref "waker", #false) in
  if: push "w" "nd" then
    poll_loop "nd" "same" "clone" "again" ;;
    drop_future "nd" (λ: <>, remove_abandoned "w")
  else free_node "nd".                                       (* Closed → Ready: the node was
                                                                never published; freed now *)

Section async.
Context `{!heapGS Σ, !ftG Σ, !stackG Σ, !removerG Σ}.
Let Nl := nroot .@ "futuretask" .@ "lnode".

Definition any_spec (f : val) : iProp Σ := □ (∀ Ψ, ▷ (∀ v : val, Ψ v) -∗ WP f #() {{ Ψ }}).
Definition bool_spec (f : val) : iProp Σ := □ (∀ Ψ, ▷ (∀ b : bool, Ψ #b) -∗ WP f #() {{ Ψ }}).

(** The owner's load of its node (before it is done with it): no cell is taken. *)
Lemma owner_peek_spec γ n gl :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (l_f gl) }}} !(n_state (node_val n))
  {{{ (s : Z), RET #s; pend (l_f gl) }}}.
Proof.
  iIntros (Φ) "[#Hn Hf] HΦ". rewrite /n_state. wp_pures.
  iInv Nl as "[>(%s & Hs & Hc)|>(Hf' & _)]"; last by iDestruct (pend_excl with "Hf Hf'") as %[].
  wp_load. iModIntro. iSplitL "Hs Hc"; first (iNext; iLeft; iExists _; iFrame).
  by iApply "HΦ".
Qed.

(** U1 / U4: the owner's CAS WAITING → UPDATING takes the update token and the payload cell
    (and parks the owner's abandon token in the invariant until the WAITING store). *)
Lemma begin_update_spec γ n gl :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (l_f gl) ∗ pend (l_a gl) }}}
    CAS (n_state (node_val n)) #WAITING #UPDATING
  {{{ (b : bool), RET #b; pend (l_f gl) ∗
      if b then tok (l_u gl) ∗ ∃ th, n_pl n ↦ th else pend (l_a gl) }}}.
Proof.
  iIntros (Φ) "(#Hn & Hf & Ha) HΦ". rewrite /n_state. wp_pures. wp_bind (CmpXchg _ _ _).
  iInv Nl as "[>(%s & Hs & Hc)|>(Hf' & _)]"; last by iDestruct (pend_excl with "Hf Hf'") as %[].
  destruct (decide (s = WAITING)) as [->|Hne].
  - iDestruct "Hc" as "[(_ & Hr & HU & Hpl)|[(% & _)|[(% & _)|[(% & _)|(% & _)]]]]"; try done.
    wp_cmpxchg_suc. iModIntro.
    iSplitL "Hs Hr Ha"; first (iNext; iLeft; iExists _; iFrame "Hs"; iRight; iLeft; by iFrame).
    wp_pures. iApply "HΦ". by iFrame.
  - wp_cmpxchg_fail. iModIntro. iSplitL "Hs Hc"; first (iNext; iLeft; iExists _; iFrame).
    wp_pures. iApply "HΦ". by iFrame.
Qed.

(** U2 / U3 / U5: holding the update token the owner knows the node is UPDATING (no releaser can
    have moved it: H2 spins on UPDATING), so its store of WAITING gives the token and the
    payload cell back and overwrites nothing (and takes the abandon token back). *)
Lemma end_update_spec γ n gl th :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (l_f gl) ∗ tok (l_u gl) ∗ n_pl n ↦ th }}}
    n_state (node_val n) <- #WAITING
  {{{ RET #(); pend (l_f gl) ∗ pend (l_a gl) }}}.
Proof.
  iIntros (Φ) "(#Hn & Hf & HU & Hpl) HΦ". rewrite /n_state. wp_pures.
  iInv Nl as "[>(%s & Hs & Hc)|>(Hf' & _)]"; last by iDestruct (pend_excl with "Hf Hf'") as %[].
  iDestruct "Hc" as "[(_ & _ & HU' & _)|[(-> & Hr & Ha)|[(_ & _ & _ & HU' & _)|[(_ & _ & HU')|(_ & _ & _ & HU' & _)]]]]".
  1,3,4,5: by iDestruct (tok_excl with "HU HU'") as %[].
  wp_store. iModIntro.
  iSplitL "Hs Hr HU Hpl"; first (iNext; iLeft; iExists _; iFrame "Hs"; iLeft; iFrame; iSplit; [done | by iExists _]).
  iApply "HΦ". by iFrame.
Qed.

(** U1–U5 (I6, I11 safety): a re-poll never races the releaser for the waker — the payload
    cell is the owner's only between its U1/U4 CAS and its WAITING store, which overwrites no
    NOTIFYING/DONE — and the clone of the new waker (user code) runs with the node WAITING. *)
Lemma repoll_spec γ n gl (same clone : val) :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (l_f gl) ∗ pend (l_a gl) ∗ bool_spec same ∗ any_spec clone }}}
    repoll (node_val n) same clone
  {{{ (b : bool), RET #b; pend (l_f gl) ∗ pend (l_a gl) }}}.
Proof.
  iIntros (Φ) "(#Hn & Hf & Ha & #Hsame & #Hclone) HΦ".
  wp_lam. wp_pures.
  wp_apply (owner_peek_spec with "[$Hn $Hf]"). iIntros (s) "Hf".
  wp_pures. case_bool_decide; wp_pures; first (iApply "HΦ"; by iFrame).
  wp_apply (begin_update_spec with "[$Hn $Hf $Ha]"). iIntros (b) "[Hf Hb]".
  destruct b; wp_pures; last (iApply "HΦ"; by iFrame).
  iDestruct "Hb" as "[HU [%th Hpl]]".
  wp_bind (same #()). iApply "Hsame". iIntros "!>" (b). destruct b; wp_pures.
  - wp_apply (end_update_spec with "[$Hn $Hf $HU $Hpl]"). iIntros "[Hf Ha]". wp_pures.
    iApply "HΦ". by iFrame.
  - wp_apply (end_update_spec with "[$Hn $Hf $HU $Hpl]"). iIntros "[Hf Ha]". wp_pures.
    wp_bind (clone #()). iApply "Hclone". iIntros "!>" (w). wp_pures.
    wp_apply (begin_update_spec with "[$Hn $Hf $Ha]"). iIntros (b) "[Hf Hb]".
    destruct b; wp_pures; last (iApply "HΦ"; by iFrame).
    iDestruct "Hb" as "[HU [%th' Hpl]]".
    rewrite /n_payload. wp_pures. wp_store. wp_pures.
    wp_apply (end_update_spec with "[$Hn $Hf $HU $Hpl]"). iIntros "[Hf Ha]". wp_pures.
    iApply "HΦ". by iFrame.
Qed.

(** The drop (I6): abandon (G8) and run the remover if the node is still WAITING, then wait for
    the release (DONE) and only then free every cell of the node, exactly once. *)
Lemma drop_future_spec γ n gl (remove : val) :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (l_a gl) ∗ pend (l_f gl) ∗
      □ (∀ Ψ, ▷ Ψ #() -∗ WP remove #() {{ Ψ }}) }}}
    drop_future (node_val n) remove
  {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "(#Hn & Ha & Hf & #Hrem) HΦ".
  wp_lam. wp_pures.
  wp_apply (abandon_spec with "[$Hn $Ha $Hf]"). iIntros (b) "[Hf _]".
  wp_bind (If _ _ _).
  iApply (wp_wand _ _ _ (λ _, True)%I with "[]").
  { destruct b; [wp_pures; iApply "Hrem"; by iNext | by wp_pures]. }
  iIntros (?) "_". wp_pures.
  wp_apply (wait_released_spec with "[$Hn $Hf]"). iIntros "[Hcells _]". wp_pures.
  wp_apply (free_node_spec with "Hcells"). iIntros "_". by iApply "HΦ".
Qed.

Lemma poll_loop_spec γ n gl (same clone again : val) :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (l_f gl) ∗ pend (l_a gl) ∗ bool_spec same ∗ any_spec clone ∗
      bool_spec again }}}
    poll_loop (node_val n) same clone again
  {{{ RET #(); pend (l_f gl) ∗ pend (l_a gl) }}}.
Proof.
  iIntros (Φ) "(#Hn & Hf & Ha & #Hsame & #Hclone & #Hagain) HΦ". iLöb as "IH".
  wp_rec. wp_pures. wp_bind (again #()). iApply "Hagain". iIntros "!>" (b).
  destruct b; wp_pures; last (iApply "HΦ"; by iFrame).
  wp_apply (repoll_spec with "[$Hn $Hf $Ha $Hsame $Hclone]").
  iIntros (b) "[Hf Ha]". destruct b; wp_pures; first (iApply "HΦ"; by iFrame).
  by iApply ("IH" with "Hf Ha HΦ").
Qed.

(** A future on the stage-4 task (I6, I7's stack, I3 safety): registered by a push (a Closed
    push means Ready), re-polled any number of times (U1–U5), then dropped (G8, the remover,
    the wait for DONE, the free) — concurrently with the completer's drain, which spins while
    the node is UPDATING, and other removers.  Its node is freed exactly once on every path:
    after DONE, or at once when the push met CLOSED ([reclaim_unpushed]). *)
Lemma future_life_spec γ t (waker same clone again : val) :
  {{{ is_rft γ t ∗ bool_spec same ∗ any_spec clone ∗ bool_spec again }}}
    future_life t waker same clone again
  {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "([#Htask #Hs] & #Hsame & #Hclone & #Hagain) HΦ".
  iDestruct "Hs" as (a fc hd γs γl γb ->) "#Hinv".
  wp_lam. rewrite /t_waiters. wp_pures.
  wp_alloc pl as "Hpl"; wp_alloc ns as "Hns"; wp_alloc nx as "Hnx"; wp_pures.
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γn) "Htok"; first done.
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (ga) "Ha"; first done.
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (gr) "Hr"; first done.
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (gf) "Hf"; first done.
  iMod (own_alloc (Excl ())) as (gu) "HU"; first done.
  iMod (inv_alloc Nl _ (lnode_inv γ (Node nx ns pl false γn) (Lgn ga gr gf gu)) with "[Hns Hpl Hr HU]") as "#Hn".
  { iNext; iLeft; iExists _; iFrame "Hns"; iLeft; iSplit; [done|]; iFrame "Hr HU"; by iExists _. }
  wp_apply (push_rspec γ γs γl γb hd (Node nx ns pl false γn) _ false with "[$Hinv $Hnx Htok]").
  { iSplitL; [rewrite /lnode_own /=; iFrame "Htok"; iExists _; iFrame "Hn" | done]. }
  iIntros ([]).
  2:{ iIntros "([%v Hnx] & [Htok _] & _)". wp_pures.
      iMod (reclaim_unpushed with "Hn Htok Ha Hf") as "[Hns Hpl]".
      wp_apply (free_node_spec (Node nx ns pl false γn) with "[$Hns $Hpl Hnx]"); first by iExists v.
      iIntros "_". by iApply "HΦ". }
  iIntros "_". wp_pures.
  wp_apply (poll_loop_spec γ (Node nx ns pl false γn) (Lgn ga gr gf gu) same clone again
            with "[$Hn $Hf $Ha $Hsame $Hclone $Hagain]").
  iIntros "[Hf Ha]". wp_pures.
  wp_apply (drop_future_spec γ (Node nx ns pl false γn) (Lgn ga gr gf gu) with "[$Hn $Ha $Hf]");
    last by iIntros "_"; iApply "HΦ".
  iIntros "!>" (Ψ) "HΨ". wp_pures. wp_apply (remove_abandoned_spec with "Hinv"). by iIntros "_".
Qed.

End async.

(** ** Everything together, async waiter included *)
Definition client_async : expr :=
  let: "t" := new_futuretask (λ: <>, InjL #42) in
  let: "clk" := ref #false in
  Fork (run "t" #()) ;;                                     (* the runner *)
  Fork (cancel "t" #true) ;;                                (* an interrupting cancel *)
  Fork ("clk" <- #true) ;;                                  (* the deadline passes, some time *)
  Fork (get_timed "t" (λ: <>, !"clk")) ;;                   (* a timed waiter: may abandon *)
  Fork (future_life "t" #1 (λ: <>, !"clk") (λ: <>, #2) (λ: <>, ~ !"clk")) ;;   (* a future *)
  Fork (add_done_callback "t" (λ: <>, #())) ;;              (* a callback *)
  get_timed "t" (λ: <>, !"clk").                            (* another timed waiter *)

Section client_async.
Context `{!heapGS Σ, !ftG Σ, !stackG Σ, !removerG Σ}.
Let Nc := nroot .@ "client" .@ "clock".

Lemma client_async_spec :
  ⊢ WP client_async {{ r, ⌜r = NONEV ∨ ∃ v, r = SOMEV v⌝ }}.
Proof using All.
  rewrite /client_async. wp_pure (Rec _ _ _). wp_apply (new_futuretask_rspec with "[]").
  { rewrite /job_wp. wp_pures. iPureIntro. eauto. }
  iIntros (t γ) "#Ht". wp_pures. wp_alloc clk as "Hclk". wp_pures.
  iMod (inv_alloc Nc _ (∃ b : bool, clk ↦ #b) with "[Hclk]") as "#Hc"; first (iNext; by iExists false).
  iAssert (bool_spec (λ: <>, ! #clk)%V) as "#Hexp".
  { iIntros "!>" (Ψ) "HΨ". wp_pures. iInv Nc as (b) ">Hclk". wp_load. iModIntro.
    iSplitL "Hclk"; first (iNext; by iExists b). iApply "HΨ". }
  iAssert (bool_spec (λ: <>, ~ ! #clk)%V) as "#Hagain".
  { iIntros "!>" (Ψ) "HΨ". wp_pures. wp_bind (Load _). iInv Nc as (b) ">Hclk". wp_load. iModIntro.
    iSplitL "Hclk"; first (iNext; by iExists b). wp_pures. iApply "HΨ". }
  iAssert (any_spec (λ: <>, #2)%V) as "#Hclone".
  { iIntros "!>" (Ψ) "HΨ". wp_pures. iApply "HΨ". }
  iDestruct "Ht" as "[#Htask #Hs]".
  wp_apply (wp_fork with "[]").
  { iNext. wp_apply (run_spec with "Htask"). by iIntros (?) "_". }
  wp_pures. wp_apply (wp_fork with "[]").
  { iNext. wp_apply (cancel_spec with "Htask"). by iIntros (?) "_". }
  wp_pures. wp_apply (wp_fork with "[]").
  { iNext. iInv Nc as (b) ">Hclk". wp_store. iModIntro. iSplitL; last done. iNext. by iExists true. }
  wp_pures. wp_apply (wp_fork with "[]").
  { iNext. wp_pures. wp_apply (get_timed_spec with "[$Htask $Hs $Hexp]"). by iIntros (?) "_". }
  wp_pures. wp_apply (wp_fork with "[]").
  { iNext. wp_pures. wp_apply (future_life_spec γ t #1 (λ: <>, ! #clk)%V (λ: <>, #2)%V (λ: <>, ~ ! #clk)%V
                with "[$Htask $Hs $Hexp $Hclone $Hagain]").
    by iIntros "_". }
  wp_pures. wp_apply (wp_fork with "[]").
  { iNext. wp_pures. wp_apply (add_done_callback_rspec with "[$Htask $Hs]"); last by iIntros "_".
    iIntros "_". by wp_pures. }
  wp_pures. wp_apply (get_timed_spec with "[$Htask $Hs $Hexp]").
  iIntros (r) "[->|(%o & -> & _)]"; iPureIntro; eauto.
Qed.
End client_async.

(** Adequacy with an async waiter too: runner, interrupting cancel, a timed waiter that may
    abandon, a future that re-polls (U1–U5, replacing its waker under UPDATING while the
    completer's H2 spins) and is dropped (G8, the remover, the wait for DONE, the free), a
    callback, and the winner's drain: no interleaving gets stuck (no access to a freed cell, no
    double [Free]). *)
Theorem client_async_adequate σ :
  adequate NotStuck client_async σ (λ r _, r = NONEV ∨ ∃ v, r = SOMEV v).
Proof.
  apply (heap_adequacy clientΣ). iIntros (?) "_". iApply client_async_spec.
Qed.
