(** * Stage 4 — node lifetime without a GC (I6): G8–G10, the release H2–H4 by a remover or
    the completer, and the owner's [Free] after DONE.

    HeapLang transcription of the timed waiter's loop (G7 timed, G8 abandon, G9 wait for the
    release, G10) and of the release of a node (H2–H4) as the LOCKED remover's sweep (S1) and
    the completer's hand-off run it.  A node is the stage-2 tuple of its [next], [state] and
    [payload] cells.  The node invariant goes WAITING → (ABANDONED) → NOTIFYING → DONE (with WAITING ⇄
    UPDATING for an async owner, [async.v]) and, at
    DONE, holds the WHOLE node ([next] and [payload] cells; [state] with it): the releaser gives
    every field back by its H4 store and keeps nothing.  The owner, when its load sees DONE,
    takes every field out of the invariant and leaves its one-shot free token there instead
    (the "freed" branch, which holds no points-to): after that no thread can access the node,
    and the owner [Free]s each field exactly once.  A timed-out waiter is a nondeterministic
    choice: [expired] is any closure returning a boolean (no clocks); [remove] is any
    [remove_abandoned] (G9) that returns. *)
From iris.algebra Require Import excl agree csum.
From iris.base_logic.lib Require Import invariants.
From iris.heap_lang Require Import lang proofmode notation.
From iris.prelude Require Import options.
From futuretask Require Import state_word operations waiters.

(** H2–H4 on one waiter node (the caller read [next] first, H1): after H4 the releaser
    touches the node no more ([H5] wake is a no-op: the owner spins on its node). *)
Definition release : val := λ: "nd",
  notify "nd" ;;                                           (* [H2] *)
  let: "p" := !(n_payload "nd") in                         (* [H3] take the payload *)
  n_state "nd" <- #DONE.                                   (* [H4] release (I6) *)

(** The owner's release of the node's memory (the node's cells, after DONE). *)
Definition free_node : val := λ: "nd",
  Free (n_next "nd") ;; Free (n_state "nd") ;; Free (n_payload "nd").

(** G9: wait until the releaser's H4 (park; the releaser unparks — modelled as spinning). *)
Definition wait_released : val := rec: "w" "nd" :=
  if: !(n_state "nd") = #DONE then #() else "w" "nd".       (* [G9] *)

(** G7 (timed), G8–G10.  Returns [SOME outcome] or [NONE] (TimedOut). *)
Definition timed_wait : val := rec: "g7" "t" "nd" "expired" "remove" :=
  if: !(n_state "nd") = #DONE then                         (* [G7] node DONE *)
    free_node "nd" ;; SOME (await_settled "t")             (*      outcome(state.load) *)
  else if: "expired" #() then                              (* [G7] now >= deadline *)
    if: CAS (n_state "nd") #WAITING #ABANDONED then        (* [G8] *)
      "remove" #() ;;                                      (* [G9] remove_abandoned() *)
      wait_released "nd" ;;                                (* [G9] wait until DONE *)
      free_node "nd" ;;                                    (*      only then free the node *)
      if: is_done "t" then SOME (await_settled "t")        (* [G10] *)
      else NONE                                            (* [G10] TimedOut *)
    else "g7" "t" "nd" "expired" "remove"                  (* [G8] failed: NOTIFYING/DONE *)
  else "g7" "t" "nd" "expired" "remove".                   (* park_timeout *)

Section lifetime.
Context `{!heapGS Σ, !ftG Σ, !stackG Σ}.
Let Nl := nroot .@ "futuretask" .@ "lnode".

(** A node's ghost names: [n_g n] the hand-off token (carried with the node on the stack);
    [ga] the owner's abandon token ([pend ga] until its G8 CAS, then [shot ga]); [gr] the
    releaser's token, handed out by the H2 CAS and spent by the H4 store; [gf] the owner's
    free token, deposited when it takes the node back (the "freed" branch: no points-to); [gu]
    the owner's update token (async waiters, U1–U5): in the invariant except while the node
    is UPDATING, when the owner holds it with the payload cell (and the owner's abandon token
    [pend ga] is parked in the invariant: an UPDATING node is not being abandoned, and an owner
    holding [pend ga] knows its node is not UPDATING). *)
Record lgn := Lgn { l_a : gname; l_r : gname; l_f : gname; l_u : gname }.
(** The node's state word and what each state owns. *)
Definition lnode_st (γ : tgn) (n : node) (gl : lgn) (s : Z) : iProp Σ :=
  (⌜s = WAITING⌝ ∗ pend (l_r gl) ∗ tok (l_u gl) ∗ ∃ th, n_pl n ↦ th) ∨
  (⌜s = UPDATING⌝ ∗ pend (l_r gl) ∗ pend (l_a gl)) ∨
  (⌜s = ABANDONED⌝ ∗ shot (l_a gl) ∗ pend (l_r gl) ∗ tok (l_u gl) ∗ ∃ th, n_pl n ↦ th) ∨
  (⌜s = NOTIFYING⌝ ∗ pend (n_g n) ∗ tok (l_u gl)) ∨
  (⌜s = DONE⌝ ∗ handed_w (n_g n) ∗ shot (l_r gl) ∗ tok (l_u gl) ∗ (terminal_w γ ∨ shot (l_a gl)) ∗
     (∃ v, n_nx n ↦ v) ∗ ∃ v, n_pl n ↦ v).
Definition lnode_inv (γ : tgn) (n : node) (gl : lgn) : iProp Σ :=
  (∃ s : Z, n_ns n ↦ #s ∗ lnode_st γ n gl s) ∨
  (pend (l_f gl) ∗ handed_w (n_g n) ∗ shot (l_r gl)).

Global Instance lnode_st_timeless γ n gl s : Timeless (lnode_st γ n gl s).
Proof. rewrite /lnode_st. apply _. Qed.

(** The whole node, as the owner gets it back. *)
Definition lnode_cells (n : node) : iProp Σ :=
  (∃ v, n_nx n ↦ v) ∗ (∃ v, n_ns n ↦ v) ∗ ∃ v, n_pl n ↦ v.

(** A node whose hand-off token is not spent is WAITING, UPDATING or ABANDONED. *)
Lemma lnode_st_live γ n gl s :
  pend (n_g n) -∗ lnode_st γ n gl s -∗ ⌜s = WAITING ∨ s = UPDATING ∨ s = ABANDONED⌝.
Proof.
  iIntros "Htok [(-> & _)|[(-> & _)|[(-> & _)|[(_ & Htok' & _)|(_ & Hh & _)]]]]"; eauto.
  - by iDestruct (pend_excl with "Htok Htok'") as %[].
  - by iDestruct (pend_shot with "Htok Hh") as %[].
Qed.

(** H2 with the node's hand-off token: spinning while the owner holds the node UPDATING, then
    WAITING or ABANDONED → NOTIFYING; the handler gets the payload cell.  A freed node is
    impossible here: the token is not yet spent. *)
Lemma notify_lspec γ n gl :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (n_g n) }}} notify (node_val n)
  {{{ th, RET #(); n_pl n ↦ th ∗ pend (l_r gl) }}}.
Proof.
  iIntros (Φ) "[#Hn Htok] HΦ". iLöb as "IH".
  wp_rec. rewrite /n_state. wp_pures.
  wp_bind (Load _). iInv Nl as "[>(%s & Hs & Hc)|>(_ & #Hh & _)]"; last by iDestruct (pend_shot with "Htok Hh") as %[].
  iDestruct (lnode_st_live with "Htok Hc") as %Hs.
  wp_load. iModIntro. iSplitL "Hs Hc"; first (iNext; iLeft; iExists s; iFrame).
  destruct Hs as [->|[->| ->]]; wp_pures.
  2: by iApply ("IH" with "Htok HΦ").
  - wp_bind (CmpXchg _ _ _). iInv Nl as "[>(%s' & Hs & Hc)|>(_ & #Hh & _)]"; last by iDestruct (pend_shot with "Htok Hh") as %[].
    destruct (decide (s' = WAITING)) as [->|Hne].
    + iDestruct "Hc" as "[(_ & Hr & HU & Hpl)|[(% & _)|[(% & _)|[(% & _)|(% & _)]]]]"; try done.
      wp_cmpxchg_suc. iDestruct "Hpl" as (th) "Hpl". iModIntro.
      iSplitL "Hs Htok HU"; last (wp_pures; iApply "HΦ"; by iFrame).
      iNext; iLeft; iExists _; iFrame "Hs"; iRight; iRight; iRight; iLeft; by iFrame.
    + wp_cmpxchg_fail. iModIntro. iSplitL "Hs Hc"; first (iNext; iLeft; iExists s'; iFrame).
      wp_pures. by iApply ("IH" with "Htok HΦ").
  - wp_bind (CmpXchg _ _ _). iInv Nl as "[>(%s' & Hs & Hc)|>(_ & #Hh & _)]"; last by iDestruct (pend_shot with "Htok Hh") as %[].
    destruct (decide (s' = ABANDONED)) as [->|Hne].
    + iDestruct "Hc" as "[(% & _)|[(% & _)|[(_ & _ & Hr & HU & Hpl)|[(% & _)|(% & _)]]]]"; try done.
      wp_cmpxchg_suc. iDestruct "Hpl" as (th) "Hpl". iModIntro.
      iSplitL "Hs Htok HU"; last (wp_pures; iApply "HΦ"; by iFrame).
      iNext; iLeft; iExists _; iFrame "Hs"; iRight; iRight; iRight; iLeft; by iFrame.
    + wp_cmpxchg_fail. iModIntro. iSplitL "Hs Hc"; first (iNext; iLeft; iExists s'; iFrame).
      wp_pures. by iApply ("IH" with "Htok HΦ").
Qed.

(** H2–H4 (I6, the releaser's side): with the node's hand-off token, its [next] cell (read at
    H1) and the reason of the release — the task is terminal (the completer) or the owner
    abandoned the node (the remover, which saw ABANDONED) — the release gives the whole node
    back through the DONE store and leaves the releaser with nothing of the node. *)
Lemma release_spec γ n gl v :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (n_g n) ∗ n_nx n ↦ v ∗ (terminal_w γ ∨ shot (l_a gl)) }}}
    release (node_val n)
  {{{ RET #(); handed_w (n_g n) }}}.
Proof.
  iIntros (Φ) "(#Hn & Htok & Hnx & #Hwhy) HΦ".
  wp_lam. wp_apply (notify_lspec with "[$Hn $Htok]"). iIntros (th) "[Hpl Htr]".
  wp_pures. rewrite /n_payload /n_state. wp_pures. wp_load. wp_pures.
  wp_bind (Store _ _). iInv Nl as "[>(%s & Hs & Hc)|>(_ & _ & #Hr)]"; last by iDestruct (pend_shot with "Htr Hr") as %[].
  iDestruct "Hc" as "[(_ & Htr' & _)|[(_ & Htr' & _)|[(_ & _ & Htr' & _)|[(-> & Htok & HU)|(_ & _ & #Hr & _)]]]]".
  1,2,3: by iDestruct (pend_excl with "Htr Htr'") as %[].
  2: by iDestruct (pend_shot with "Htr Hr") as %[].
  iMod (pend_shoot with "Htok") as "#Hh". iMod (pend_shoot with "Htr") as "#Hr".
  wp_store. iModIntro.
  iSplitL "Hs Hnx Hpl HU".
  { iNext. iLeft. iExists _. iFrame "Hs". iRight; iRight; iRight; iRight. iSplit; first done.
    iFrame "Hh Hr Hwhy HU". iSplitL "Hnx"; by iExists _. }
  by iApply "HΦ".
Qed.

(** S1's load by the remover, which holds the node's token (the node is on the stack, so it
    is alive): a node seen ABANDONED is abandoned for good ([shot (l_a gl)], the reason the
    remover may release it). *)
Lemma sweep_load_spec γ n gl :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (n_g n) }}} !(n_state (node_val n))
  {{{ (s : Z), RET #s; pend (n_g n) ∗ if decide (s = ABANDONED) then shot (l_a gl) else True }}}.
Proof.
  iIntros (Φ) "[#Hn Htok] HΦ". rewrite /n_state. wp_pures.
  iInv Nl as "[>(%s & Hs & Hc)|>(_ & #Hh & _)]"; last by iDestruct (pend_shot with "Htok Hh") as %[].
  wp_load.
  destruct (decide (s = ABANDONED)) as [->|Hne].
  - iDestruct "Hc" as "[(% & _)|[(% & _)|[(_ & #Ha & Hc)|[(% & _)|(% & _)]]]]"; try done.
    iModIntro. iSplitL "Hs Hc"; first (iNext; iLeft; iExists _; iFrame "Hs"; iRight; iRight; iLeft; by iFrame "Ha Hc").
    iApply "HΦ". by iFrame.
  - iModIntro. iSplitL "Hs Hc"; first (iNext; iLeft; iExists _; iFrame).
    iApply "HΦ". rewrite decide_False //. by iFrame.
Qed.

(** The owner's load of its node's state.  When it sees DONE it takes the WHOLE node back
    (every cell) and deposits its free token: from then on the invariant holds no cell, so no
    thread can access the node again.  DONE tells why: the task is terminal, or the owner
    abandoned the node. *)
Lemma owner_load_spec γ n gl :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (l_f gl) }}} !(n_state (node_val n))
  {{{ (s : Z), RET #s;
      if decide (s = DONE) then lnode_cells n ∗ (terminal_w γ ∨ shot (l_a gl)) else pend (l_f gl) }}}.
Proof.
  iIntros (Φ) "[#Hn Hf] HΦ". rewrite /n_state. wp_pures.
  iInv Nl as "[>(%s & Hs & Hc)|>(Hf' & _)]"; last by iDestruct (pend_excl with "Hf Hf'") as %[].
  wp_load.
  destruct (decide (s = DONE)) as [->|Hne].
  - iDestruct "Hc" as "[(% & _)|[(% & _)|[(% & _)|[(% & _)|(_ & #Hh & #Hr & _ & #Hwhy & Hnx & Hpl)]]]]"; try done.
    iModIntro. iSplitL "Hf"; first (iNext; iRight; by iFrame "Hf Hh Hr").
    iApply "HΦ". iFrame "Hwhy Hnx Hpl". by iExists _.
  - iModIntro. iSplitL "Hs Hc"; first (iNext; iLeft; iExists _; iFrame).
    iApply "HΦ". rewrite decide_False //.
Qed.

(** The owner frees each cell of its node exactly once (it needs every points-to, which only
    the DONE store gives back). *)
Lemma free_node_spec n :
  {{{ lnode_cells n }}} free_node (node_val n) {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "(Hnx & Hns & Hpl) HΦ".
  iDestruct "Hnx" as (a) "Hnx". iDestruct "Hns" as (b) "Hns". iDestruct "Hpl" as (c) "Hpl".
  wp_lam. rewrite /n_next /n_state /n_payload. wp_pures.
  wp_free. wp_pures. wp_free. wp_pures. wp_free. by iApply "HΦ".
Qed.

(** A node whose push failed (the stack was CLOSED: the node was never published, so no
    releaser or remover can reach it) goes back to its owner whole: holding the node's hand-off
    token, its abandon token and its free token, the owner finds the node WAITING (not
    UPDATING: the abandon token is not parked; not ABANDONED, NOTIFYING, DONE or freed: it
    holds those tokens), takes the state and payload cells out and leaves the "freed" branch
    (hand-off token and releaser token spent): no thread can access the node afterwards.  With
    the [next] cell that the failed push gives back, the owner [Free]s every cell, once. *)
Lemma reclaim_unpushed γ n gl :
  inv Nl (lnode_inv γ n gl) -∗ pend (n_g n) -∗ pend (l_a gl) -∗ pend (l_f gl) ={⊤}=∗
    (∃ v, n_ns n ↦ v) ∗ ∃ v, n_pl n ↦ v.
Proof.
  iIntros "#Hn Htok Ha Hf".
  iInv Nl as "[>(%s & Hs & Hc)|>(Hf' & _)]"; last by iDestruct (pend_excl with "Hf Hf'") as %[].
  iDestruct "Hc" as "[(_ & Hr & _ & Hpl)|[(_ & _ & Ha')|[(_ & #Hab & _)|[(_ & Htok' & _)|(_ & #Hh & _)]]]]".
  - iMod (pend_shoot with "Htok") as "#Hh". iMod (pend_shoot with "Hr") as "#Hr".
    iModIntro. iSplitL "Hf"; first (iNext; iRight; by iFrame "Hf Hh Hr").
    iModIntro. iFrame "Hpl". by iExists _.
  - by iDestruct (pend_excl with "Ha Ha'") as %[].
  - by iDestruct (pend_shot with "Ha Hab") as %[].
  - by iDestruct (pend_excl with "Htok Htok'") as %[].
  - by iDestruct (pend_shot with "Htok Hh") as %[].
Qed.

(** G9: the abandoner waits for the release, then owns the whole node. *)
Lemma wait_released_spec γ n gl :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (l_f gl) }}} wait_released (node_val n)
  {{{ RET #(); lnode_cells n ∗ (terminal_w γ ∨ shot (l_a gl)) }}}.
Proof.
  iIntros (Φ) "[#Hn Hf] HΦ". iLöb as "IH".
  wp_rec. wp_apply (owner_load_spec with "[$Hn $Hf]"). iIntros (s) "Hs".
  destruct (decide (s = DONE)) as [->|Hne].
  - wp_pures. by iApply "HΦ".
  - wp_pures. rewrite bool_decide_false; last congruence. wp_pures. by iApply ("IH" with "Hs HΦ").
Qed.

(** G8: the owner's CAS WAITING → ABANDONED spends its abandon token on success. *)
Lemma abandon_spec γ n gl :
  {{{ inv Nl (lnode_inv γ n gl) ∗ pend (l_a gl) ∗ pend (l_f gl) }}}
    CAS (n_state (node_val n)) #WAITING #ABANDONED
  {{{ (b : bool), RET #b; pend (l_f gl) ∗ if b then shot (l_a gl) else pend (l_a gl) }}}.
Proof.
  iIntros (Φ) "(#Hn & Ha & Hf) HΦ". rewrite /n_state. wp_pures. wp_bind (CmpXchg _ _ _).
  iInv Nl as "[>(%s & Hs & Hc)|>(Hf' & _)]"; last by iDestruct (pend_excl with "Hf Hf'") as %[].
  destruct (decide (s = WAITING)) as [->|Hne].
  - iDestruct "Hc" as "[(_ & Htr & HU & Hpl)|[(% & _)|[(% & _)|[(% & _)|(% & _)]]]]"; try done.
    wp_cmpxchg_suc. iMod (pend_shoot with "Ha") as "#Ha".
    iModIntro. iSplitL "Hs Htr HU Hpl"; first (iNext; iLeft; iExists _; iFrame "Hs"; iRight; iRight; iLeft; by iFrame "Ha Htr HU Hpl").
    wp_pures. iApply "HΦ". by iFrame.
  - wp_cmpxchg_fail.
    iModIntro. iSplitL "Hs Hc"; first (iNext; iLeft; iExists _; iFrame).
    wp_pures. iApply "HΦ". by iFrame.
Qed.

(** G7 (timed) – G10 (I6, the owner's side; I3 safety): the waiter returns only (a) with its
    node DONE and the task terminal, having never abandoned, and the outcome, or (b) having
    abandoned (G8) and been released (G9: it waited for DONE), with the outcome or TimedOut.
    Either way it has freed each cell of its node exactly once, after the releaser's H4 gave
    the node back, and it never accessed the node after freeing it (it holds no cell). *)
Lemma timed_wait_spec γ t n gl (expired remove : val) :
  {{{ is_task γ t ∗ inv Nl (lnode_inv γ n gl) ∗ pend (l_a gl) ∗ pend (l_f gl) ∗
      □ (∀ Ψ, ▷ (∀ b : bool, Ψ #b) -∗ WP expired #() {{ Ψ }}) ∗
      □ (∀ Ψ, ▷ Ψ #() -∗ WP remove #() {{ Ψ }}) }}}
    timed_wait t (node_val n) expired remove
  {{{ r, RET r; (∃ o, ⌜r = SOMEV (outc_val o)⌝ ∗ decided γ o ∗ terminal_w γ) ∨
                (shot (l_a gl) ∗ (⌜r = NONEV⌝ ∨ ∃ o, ⌜r = SOMEV (outc_val o)⌝ ∗ decided γ o)) }}}.
Proof.
  iIntros (Φ) "(#Htask & #Hn & Ha & Hf & #Hexp & #Hrem) HΦ". iLöb as "IH".
  wp_rec. wp_pures.
  wp_apply (owner_load_spec with "[$Hn $Hf]"). iIntros (s) "Hs".
  destruct (decide (s = DONE)) as [->|Hne].
  - iDestruct "Hs" as "[Hcells [#Ht|#Hab]]"; last by iDestruct (pend_shot with "Ha Hab") as %[].
    wp_pures. wp_apply (free_node_spec with "Hcells"). iIntros "_". wp_pures.
    wp_apply (await_settled_spec with "Htask"). iIntros (o) "#Hd". wp_pures.
    iApply "HΦ". iLeft. iExists o. by iFrame "Hd Ht".
  - wp_pures. rewrite bool_decide_false; last congruence. wp_pures.
    wp_bind (expired #()). iApply "Hexp". iIntros "!>" (b). destruct b; wp_pures.
    2: by iApply ("IH" with "Ha Hs HΦ").
    wp_apply (abandon_spec with "[$Hn $Ha $Hs]"). iIntros (b) "[Hf Hb]". destruct b.
    2:{ wp_pures. by iApply ("IH" with "Hb Hf HΦ"). }
    iDestruct "Hb" as "#Hab".
    wp_pures. wp_bind (remove #()). iApply "Hrem". iNext. wp_pures.
    wp_apply (wait_released_spec with "[$Hn $Hf]"). iIntros "[Hcells _]". wp_pures.
    wp_apply (free_node_spec with "Hcells"). iIntros "_". wp_pures.
    wp_apply (is_done_spec with "Htask"). iIntros (d) "_". destruct d; wp_pures.
    + wp_apply (await_settled_spec with "Htask"). iIntros (o) "#Hd". wp_pures.
      iApply "HΦ". iRight. iFrame "Hab". iRight. iExists o. by iFrame "Hd".
    + iApply "HΦ". iRight. iFrame "Hab". by iLeft.
Qed.
End lifetime.

(** ** S1 below the first node: the LOCKED remover's sweep of the list it owns.
    While LOCKED is held no other thread writes a [next] cell (pushers write only their own,
    unpublished node's; the completer waits for LOCKED to clear, F2), so the holder of the lock
    owns the [next] cells of the linked nodes below the first: [pred.next := next] unlinks an
    ABANDONED waiter, whose release (H2–H4) follows; the remover reads [next] (H1) before the
    release and never touches the node again. *)
Definition sweep_from : val := rec: "s1" "pred" "cur" :=
  match: "cur" with
    NONE => #()
  | SOME "nd" =>
      let: "next" := !(n_next "nd") in                       (* [S1] next = node.next *)
      if: (~ n_iscb "nd") && (!(n_state "nd") = #ABANDONED) then
        n_next "pred" <- "next" ;;                            (* [S1] unlink: pred.next := next *)
        release "nd" ;;                                       (* [S1] release: H2..H4 *)
        "s1" "pred" "next"
      else "s1" "nd" "next"                                   (* [S1] pred = node *)
  end.

Section sweep.
Context `{!heapGS Σ, !ftG Σ, !stackG Σ}.
Let Nl := nroot .@ "futuretask" .@ "lnode".

(** A linked node as the stack owns it: its hand-off token and, for a waiter, its lifetime
    invariant (the owner holds the abandon and free tokens); a callback node is owned whole. *)
Definition lnode_own (γ : tgn) (n : node) : iProp Σ :=
  (pend (n_g n) ∗ if n_cb n then ∃ cb, n_pl n ↦ cb ∗ cb_wp γ cb
   else ∃ gl, inv Nl (lnode_inv γ n gl))%I.

Fixpoint is_llist (γ : tgn) (pv : val) (L : list node) : iProp Σ :=
  match L with
  | [] => ⌜pv = NONEV⌝
  | n :: L' => ∃ pv', ⌜pv = SOMEV (node_val n)⌝ ∗ n_nx n ↦ pv' ∗ lnode_own γ n ∗ is_llist γ pv' L'
  end%I.

Lemma ids_nil : ids [] = ∅.
Proof. done. Qed.
Lemma ids_cons n L : ids (n :: L) = {[n_g n]} ∪ ids L.
Proof. done. Qed.
Lemma ids_app L1 L2 : ids (L1 ++ L2) = ids L1 ∪ ids L2.
Proof. rewrite /ids fmap_app list_to_set_app_L. done. Qed.

(** Accounting of a walk that drops nodes: every node of [L] is kept in [L'] or handed off. *)
Definition kept_or_handed (L L' : list node) : iProp Σ :=
  ∀ g, ⌜g ∈ ids L⌝ → handed_w g ∨ ⌜g ∈ ids L'⌝.

Global Instance kept_or_handed_persistent L L' : Persistent (kept_or_handed L L').
Proof. rewrite /kept_or_handed. apply _. Qed.

Lemma kept_cons n L L' : kept_or_handed L L' -∗ kept_or_handed (n :: L) (n :: L').
Proof.
  iIntros "#H" (g Hg). rewrite !ids_cons in Hg |- *.
  destruct (decide (g = n_g n)) as [->|Hne]; first (iRight; iPureIntro; set_solver).
  assert (g ∈ ids L) as HgL by set_solver.
  iDestruct ("H" $! g HgL) as "[Hh|%Hg']"; first by iLeft. iRight. iPureIntro. set_solver.
Qed.

Lemma dropped_cons n L L' : handed_w (n_g n) -∗ kept_or_handed L L' -∗ kept_or_handed (n :: L) L'.
Proof.
  iIntros "#Hh #H" (g Hg). rewrite ids_cons in Hg.
  destruct (decide (g = n_g n)) as [->|Hne]; first by iLeft.
  iApply "H". iPureIntro. set_solver.
Qed.

(** The sweep keeps a sublist of the nodes: every node it drops was an ABANDONED waiter, and
    has been released (its whole node given back to its owner through the DONE store). *)
Lemma sweep_from_spec γ (pred : node) (pv : val) L :
  {{{ n_nx pred ↦ pv ∗ is_llist γ pv L }}} sweep_from (node_val pred) pv
  {{{ pv' L', RET #(); n_nx pred ↦ pv' ∗ is_llist γ pv' L' ∗ ⌜sublist L' L⌝ ∗ kept_or_handed L L' }}}.
Proof.
  iIntros (Φ) "[Hp Hl] HΦ".
  iInduction L as [|n L] "IH" forall (pred pv Φ); simpl.
  - iDestruct "Hl" as %->. wp_rec. wp_pures. iApply ("HΦ" $! NONEV []). iFrame "Hp". iModIntro.
    iSplit; first done. iSplit; first (iPureIntro; constructor).
    iIntros (g Hg). rewrite ids_nil in Hg. set_solver.
  - iDestruct "Hl" as (pv' ->) "(Hnx & [Htok Hown] & Hl)".
    wp_rec. wp_pures. rewrite /n_next /n_iscb. wp_pures. wp_load. wp_pures.
    destruct (n_cb n) eqn:Hcb; wp_pures.
    + wp_apply ("IH" $! n with "Hnx Hl"). iIntros (pv'' L') "(Hnx & Hl & %Hsub & #Hacc)".
      iApply ("HΦ" $! _ (n :: L')). iFrame "Hp".
      iSplitR "Hacc"; last (iSplit; [iPureIntro; by apply sublist_skip | by iApply kept_cons]).
      iExists pv''. iFrame. iSplit; first done. rewrite Hcb. iFrame.
    + iDestruct "Hown" as (gl) "#Hn".
      wp_apply (sweep_load_spec with "[$Hn $Htok]"). iIntros (s) "[Htok Hab]".
      destruct (decide (s = ABANDONED)) as [->|Hne]; wp_pures.
      * iDestruct "Hab" as "#Hab". rewrite /n_next. wp_pures. wp_store. wp_pures.
        wp_apply (release_spec with "[$Hn $Htok $Hnx]"); first by iRight.
        iIntros "#Hh". wp_pures.
        wp_apply ("IH" $! pred with "Hp Hl"). iIntros (pv'' L') "(Hp & Hl & %Hsub & #Hacc)".
        iApply "HΦ". iFrame. iSplit; [iPureIntro; by apply sublist_cons | by iApply dropped_cons].
      * rewrite bool_decide_false; last congruence. wp_pures.
        wp_apply ("IH" $! n with "Hnx Hl"). iIntros (pv'' L') "(Hnx & Hl & %Hsub & #Hacc)".
        iApply ("HΦ" $! _ (n :: L')). iFrame "Hp".
        iSplitR "Hacc"; last (iSplit; [iPureIntro; by apply sublist_skip | by iApply kept_cons]).
        iExists pv''. iFrame. iSplit; first done. rewrite Hcb. iFrame. iExists gl. iFrame "Hn".
Qed.
End sweep.
