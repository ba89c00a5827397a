(** * Stage 4 (continued) — the completer's drain on the stack with a remover (F1, F2, H1–H5)

    The code is the drain of [waiters.v] ([drain], [hand_off_batch]), unchanged; this file
    proves it over the stage-4 head invariant [rstack_inv] of [remover.v], where a remover may
    hold LOCKED at any time and the waiter nodes are lifetime nodes ([lnode_inv] of
    [lifetime.v]), freed by their owner after DONE.
    - F2 WaitForRemover: while LOCKED is set the invariant gives the completer nothing (the
      remover owns the list below its boundary), so the completer can only load and retry; a
      Detach or Close CAS can only succeed on a head version whose flags are LOCKED-clear.
    - F2 Detach: the CAS takes the whole list out of the invariant (the list is owned by the
      invariant only while LOCKED is clear), leaving an empty DRAINING stack: the remover can
      never reach a detached node again.
    - H1–H5: each detached waiter node is released exactly once by the batch walk, with its
      [next] read first (H1) and given back with the whole node at H4; the owner frees it.
    - F2 Close: only an empty, LOCKED-clear stack is closed, by the completer with its last
      batch handed off; the LOCKED token goes into the CLOSED branch, so no remover can lock a
      CLOSED stack afterwards, and with [rclosed_handed] every pushed node is then handed off.
    - Accounting: a Detach moves the detached nodes from the list to the completer's batch [B]
      (the stage-2 batch variable); the next F1 finds them all handed off. *)
From iris.algebra Require Import excl agree csum.
From iris.base_logic.lib Require Import invariants ghost_var.
From iris.heap_lang Require Import lang proofmode notation.
From iris.prelude Require Import options.
From futuretask Require Import state_word operations waiters lifetime remover.

Section rdrain.
Context `{!heapGS Σ, !ftG Σ, !stackG Σ, !removerG Σ}.
Let Nl := nroot .@ "futuretask" .@ "lnode".
Let Nr := nroot .@ "futuretask" .@ "rstack".

(** H1–H5 over a detached batch of lifetime nodes: every waiter node is released (H2 with its
    hand-off token; H3; H4 gives the whole node, [next] cell included, back to its owner), the
    walk having read its [next] first (H1); every callback is queued and then run.  All nodes
    end [handed_w]; the completer keeps nothing of a released node. *)
Lemma hand_off_lbatch_spec γ l L cbs C :
  {{{ is_llist γ l L ∗ cbs_list γ cbs C ∗ terminal_w γ }}} hand_off_batch l cbs
  {{{ RET #(); ([∗ list] n ∈ L, handed_w (n_g n)) ∗ [∗ list] n ∈ C, handed_w (n_g n) }}}.
Proof.
  iIntros (Φ) "(Hl & Hc & #Ht) HΦ".
  iInduction L as [|n L] "IH" forall (l cbs C Φ); simpl.
  - iDestruct "Hl" as %->. wp_rec. wp_pures. wp_apply (run_callbacks_spec with "[$Hc $Ht]").
    iIntros "HC". iApply "HΦ". by iFrame.
  - iDestruct "Hl" as (pv' ->) "(Hnx & Hown & Hl)".
    wp_rec. wp_pures. rewrite /n_next /n_iscb. wp_pures. wp_load. wp_pures.
    rewrite /lnode_own. iDestruct "Hown" as "[Htok Hown]". destruct (n_cb n) eqn:Hcb; wp_pures.
    + iApply ("IH" $! pv' (SOMEV (node_val n, cbs)) (n :: C) with "Hl [Hc Hown Htok]").
      { simpl. iExists cbs. iFrame. done. }
      iIntros "!> [HL [#Hh HC]]". iApply "HΦ". by iFrame "Hh HL HC".
    + iDestruct "Hown" as (gl) "#Hn".
      wp_apply (notify_lspec with "[$Hn $Htok]"). iIntros (th) "[Hpl Htr]".
      wp_pures. rewrite /n_payload. wp_pures. wp_load. wp_pures.
      rewrite /n_state. wp_pures.
      wp_bind (Store _ _).
      iInv Nl as "[>(%s & Hs & Hcs)|>(_ & _ & #Hr)]"; last by iDestruct (pend_shot with "Htr Hr") as %[].
      iDestruct "Hcs" as "[(_ & Htr' & _)|[(_ & Htr' & _)|[(_ & _ & Htr' & _)|[(-> & Htok & HU)|(_ & _ & #Hr & _)]]]]".
      1,2,3: by iDestruct (pend_excl with "Htr Htr'") as %[].
      2: by iDestruct (pend_shot with "Htr Hr") as %[].
      iMod (pend_shoot with "Htok") as "#Hh". iMod (pend_shoot with "Htr") as "#Hr".
      wp_store. iModIntro.
      iSplitL "Hs Hnx Hpl HU".
      { iNext. iLeft. iExists _. iFrame "Hs". iRight; iRight; iRight; iRight. iSplit; first done.
        iFrame "Hh Hr HU". iSplit; first by iLeft. iSplitL "Hnx"; by iExists _. }
      wp_pures. iApply ("IH" with "Hl Hc"). iIntros "!> [HL HC]". iApply "HΦ". by iFrame "Hh HL HC".
Qed.

(** What one F1 load of the head tells the completer: LOCKED is set, or the flags are
    LOCKED-clear (or CLOSED) and the pointer is empty or a node. *)
Lemma rcase_drain γ γs γl γb pv fl L B R :
  rcases γ γs γl γb pv fl L B R -∗
  ⌜locked_fl fl ∨ ((unlocked_fl fl ∨ fl = CLOSED) ∧ (pv = NONEV ∨ ∃ n, pv = SOMEV (node_val n)))⌝.
Proof.
  iIntros "[([% _] & _ & _ & _ & Hl)|[(% & _)|([% [% _]] & _)]]".
  - destruct L as [|n L]; simpl.
    + iDestruct "Hl" as %->. iPureIntro. right. eauto.
    + iDestruct "Hl" as (pv' ->) "_". iPureIntro. right. eauto.
  - iPureIntro. by left.
  - subst. iPureIntro. right. eauto.
Qed.

(** A completer (holding [drain_tok] or its half of the batch variable) never meets CLOSED:
    CLOSED is set only by the completer's own Close, which puts its half inside. *)
Lemma drainer_not_closed γ γs γl γb pv fl L B R :
  drainer γ γs -∗ ghost_var (s_B γs) (1/2) B -∗ dslot γ γs B -∗ rcases γ γs γl γb pv fl L B R -∗
  ⌜fl ≠ CLOSED⌝.
Proof.
  iIntros "Hdr HB Hsl [([% _] & _)|[(% & _)|(_ & _ & _ & _ & HBc & _)]]".
  1,2: iPureIntro; rewrite /unlocked_fl /locked_fl in H; lia.
  iDestruct "Hdr" as "[Hdr|(%Bm & Hmine & _)]".
  - iDestruct "Hsl" as "[[HB' _]|Hdr']"; first by iDestruct (ghost_var_three with "HB HB' HBc") as %[].
    by iDestruct (tok_excl with "Hdr Hdr'") as %[].
  - by iDestruct (ghost_var_three with "HB HBc Hmine") as %[].
Qed.

(** F1/F2 with a concurrent remover (I3 safety, I6, I7): run once by the winner with the task
    terminal (K4/C6), the drain waits while LOCKED is set (WaitForRemover: it takes nothing),
    detaches the whole list when LOCKED is clear (Detach; the detached nodes become its batch
    [B]) and hands every detached node off exactly once ([hand_off_lbatch_spec]) before its next
    F1, and returns only after its Close CAS on the empty, LOCKED-clear stack: the stack is then
    CLOSED for good, with the LOCKED token and the completer's half of [B] locked inside. *)
Lemma rdrain_spec γ γs γl γb (hd : loc) :
  {{{ inv Nr (rstack_inv γ γs γl γb hd) ∗ drainer γ γs ∗ terminal_w γ }}} drain #hd
  {{{ RET #(); closed_w γs }}}.
Proof.
  iIntros (Φ) "(#Hinv & Hdr & #Ht) HΦ". iLöb as "IH".
  wp_rec.
  wp_bind (Load _). iInv Nr as (r pv fl L B P R) "(>Hhd & >#Hr & >HP & >HB & >Hsl & >Hacc & Hcase)".
  wp_load.
  iDestruct (drainer_not_closed with "Hdr HB Hsl Hcase") as %Hnc.
  iDestruct (rcase_drain with "Hcase") as %Hk.
  (* normalise: the last batch (all handed off) leaves [B]; the slot holds [drain_tok] *)
  iAssert (|==> ghost_var (s_B γs) (1/2) (∅ : gset gname) ∗ ghost_var (s_B γs) (1/2) (∅ : gset gname) ∗
             acc P L ∅ R ∗ drain_tok γ)%I
    with "[Hdr HB Hacc Hsl]" as ">(HB & Hmine & Hacc & Hslot)".
  { iDestruct "Hdr" as "[Hdr|(%Bm & Hmine & #Hall)]".
    - iDestruct "Hsl" as "[[Hmine %]|Hdr']"; last by iDestruct (tok_excl with "Hdr Hdr'") as %[].
      subst B. iModIntro. by iFrame.
    - iDestruct "Hsl" as "[[HB' _]|Hsl]"; first by iDestruct (ghost_var_three with "HB HB' Hmine") as %[].
      iDestruct (ghost_var_agree with "HB Hmine") as %->.
      iMod (ghost_var_update_halves (∅ : gset gname) with "HB Hmine") as "[HB Hmine]".
      iModIntro. iFrame. by iApply (acc_batch_done with "Hacc Hall"). }
  iDestruct (rcases_B _ _ _ _ _ _ _ _ ∅ with "Hcase") as "Hcase"; first done.
  iModIntro. iSplitL "Hhd HP HB Hslot Hacc Hcase".
  { iNext. iExists r, pv, fl, L, ∅, P, R. iFrame "Hhd Hr HP HB Hacc Hcase". by iRight. }
  wp_pures. wp_load. wp_pures.
  destruct Hk as [Hfl|[Hfl Hpv]].
  (* [F2] WaitForRemover: LOCKED is set, retry *)
  { rewrite /locked_fl in Hfl. destruct Hfl as [->|[->|[->| ->]]]; wp_pures.
    all: iApply ("IH" with "[Hmine] HΦ"); iRight; iExists ∅; iFrame; iIntros (g Hg); set_solver. }
  rewrite /unlocked_fl in Hfl.
  destruct Hfl as [[-> | ->]| ->]; last done.
  all: wp_pures.
  all: destruct Hpv as [-> | [n0 ->]]; wp_pures.
  (* [F2] Close *)
  1,3: wp_alloc c as "Hc"; iMod (mapsto_persist with "Hc") as "#Hc"; wp_pures.
  1,2: wp_bind (CmpXchg _ _ _); iInv Nr as (r0 pv0 fl0 L0 B0 P0 R0) "(>Hhd & >#Hr0 & >HP & >HB & >Hsl & >Hacc & Hcase)".
  1,2: destruct (decide (r0 = r)) as [->|Hne];
       [ | wp_cmpxchg_fail; iModIntro;
           (iSplitL "Hhd HP HB Hsl Hacc Hcase"; first (iNext; iExists r0, pv0, fl0, L0, B0, P0, R0; by iFrame "Hhd Hr0 HP HB Hsl Hacc Hcase"));
           wp_pures; iApply ("IH" with "[Hmine] HΦ"); iRight; iExists ∅; iFrame; iIntros (g Hg); set_solver ].
  1,2: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  1,2: iDestruct "Hsl" as "[[HB' _]|Hslot]"; first by iDestruct (ghost_var_three with "HB HB' Hmine") as %[].
  1,2: iDestruct (ghost_var_agree with "HB Hmine") as %->.
  1,2: wp_cmpxchg_suc.
  1,2: iDestruct "Hcase" as "[([%H ->] & Htok & Hpc & Hbs & Hl)|[(%H & _)|([%H _] & _)]]";
       try (exfalso; rewrite /unlocked_fl /locked_fl in H; lia).
  (* the empty, LOCKED-clear stack becomes CLOSED; the LOCKED token and the completer's half of
     the (empty) batch variable go with it *)
  1,2: iDestruct (is_llist_none with "Hl") as %->;
       iMod (pend_shoot with "Hpc") as "#Hcl"; iModIntro;
       iSplitL "Hhd HP HB Hslot Hacc Htok Hbs Hmine";
       [ iNext; iExists c, NONEV, CLOSED, [], ∅, P0, ∅; iFrame "Hhd Hc HP HB Hacc";
         iSplitL "Hslot"; [by iRight|]; iRight; iRight; by iFrame "Hcl Ht Htok Hbs Hmine"
       | wp_pures; by iApply "HΦ" ].
  (* [F2] Detach: the whole list leaves the invariant and becomes the batch; an empty
     DRAINING stack stays *)
  all: wp_alloc d as "Hd"; iMod (mapsto_persist with "Hd") as "#Hd"; wp_pures.
  all: wp_bind (CmpXchg _ _ _); iInv Nr as (r0 pv0 fl0 L0 B0 P0 R0) "(>Hhd & >#Hr0 & >HP & >HB & >Hsl & >Hacc & Hcase)".
  all: destruct (decide (r0 = r)) as [->|Hne];
       [ | wp_cmpxchg_fail; iModIntro;
           (iSplitL "Hhd HP HB Hsl Hacc Hcase"; first (iNext; iExists r0, pv0, fl0, L0, B0, P0, R0; by iFrame "Hhd Hr0 HP HB Hsl Hacc Hcase"));
           wp_pures; iApply ("IH" with "[Hmine] HΦ"); iRight; iExists ∅; iFrame; iIntros (g Hg); set_solver ].
  all: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  all: iDestruct "Hsl" as "[[HB' _]|Hslot]"; first by iDestruct (ghost_var_three with "HB HB' Hmine") as %[].
  all: iDestruct (ghost_var_agree with "HB Hmine") as %->.
  all: wp_cmpxchg_suc.
  all: iDestruct "Hcase" as "[([%H ->] & Htok & Hpc & Hbs & Hl)|[(%H & _)|([%H _] & _)]]";
       try (exfalso; rewrite /unlocked_fl /locked_fl in H; lia).
  all: iMod (ghost_var_update_halves (ids L0) with "HB Hmine") as "[HB Hmine]".
  all: iDestruct (acc_detach with "Hacc") as "Hacc".
  all: iModIntro; iSplitL "Hhd HP HB Hslot Hacc Htok Hpc Hbs";
       [ iNext; iExists d, NONEV, DRAINING, [], (ids L0), P0, ∅; iFrame "Hhd Hd HP HB Hacc";
         iSplitL "Hslot"; [by iRight|]; iLeft; iFrame "Htok Hpc Hbs";
         iSplit; [iPureIntro; split; [rewrite /unlocked_fl; by right | done]|]; done
       | ].
  all: wp_pures.
  all: wp_apply (hand_off_lbatch_spec _ _ L0 _ [] with "[$Hl $Ht]"); first done.
  all: iIntros "[#HL _]"; wp_pures; iApply ("IH" with "[Hmine] HΦ").
  all: iRight; iExists (ids L0); iFrame "Hmine"; by iApply handed_all.
Qed.

End rdrain.
