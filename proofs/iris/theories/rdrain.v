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
    - F2 Close: an empty, LOCKED-clear stack is closed, by the completer with its last batch
      handed off; F2 DetachClose: a nonempty LOCKED-clear stack without CALLBACKS is closed by
      the CAS that detaches it (the list becomes the batch, [drain_pend] goes inside), the
      batch is handed off, and only then does the drain record [drained_w] and return.  The
      LOCKED token goes into the CLOSED branch, so no remover can lock a CLOSED stack
      afterwards, and with [rclosed_handed] every pushed node is handed off once the drain has
      returned.
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

(** A completer (holding [drain_tok], or its half of the batch variable and [drain_pend])
    never meets CLOSED: CLOSED is set only by the completer's own Close, which puts its half
    inside, or DetachClose, which puts [drain_pend] inside. *)
Lemma drainer_not_closed γ γs γl γb pv fl L B R :
  drainer γ γs -∗ ghost_var (s_B γs) (1/2) B -∗ dslot γ γs B -∗ rcases γ γs γl γb pv fl L B R -∗
  ⌜fl ≠ CLOSED⌝.
Proof.
  iIntros "Hdr HB Hsl [([% _] & _)|[(% & _)|(_ & _ & _ & _ & _ & Hcl)]]".
  1,2: iPureIntro; rewrite /unlocked_fl /locked_fl in H; lia.
  iDestruct "Hdr" as "[Hdr|(%Bm & Hmine & Hdp & _)]".
  - iDestruct "Hsl" as "[(HB' & _ & Hdp)|Hdr']".
    + iDestruct "Hcl" as "[(_ & HBc & _)|Hdp']".
      * by iDestruct (ghost_var_three with "HB HB' HBc") as %[].
      * by iDestruct (pend_excl with "Hdp Hdp'") as %[].
    + by iDestruct (tok_excl with "Hdr Hdr'") as %[].
  - iDestruct "Hcl" as "[(_ & HBc & _)|Hdp']".
    + by iDestruct (ghost_var_three with "HB HBc Hmine") as %[].
    + by iDestruct (pend_excl with "Hdp Hdp'") as %[].
Qed.

(** F1/F2 with a concurrent remover (I3 safety, I6, I7): run once by the winner with the task
    terminal (K4/C6), the drain waits while LOCKED is set (WaitForRemover: it takes nothing),
    detaches the whole list when LOCKED is clear (Detach, or DetachClose when CALLBACKS is
    clear; the detached nodes become its batch [B]) and hands every detached node off exactly
    once ([hand_off_lbatch_spec]) before its next F1 or its return.  It returns after its Close
    CAS on the empty, LOCKED-clear stack or after handing off a DetachClose's batch: the stack
    is then CLOSED for good, with the LOCKED token and the completer's half of [B] (now empty)
    locked inside, and [drained_w] recorded. *)
Lemma rdrain_spec γ γs γl γb (hd : loc) :
  {{{ inv Nr (rstack_inv γ γs γl γb hd) ∗ drainer γ γs ∗ terminal_w γ }}} drain #hd
  {{{ RET #(); closed_w γs ∗ drained_w γs }}}.
Proof.
  iIntros (Φ) "(#Hinv & Hdr & #Ht) HΦ". iLöb as "IH".
  wp_rec.
  wp_bind (Load _). iInv Nr as (r pv fl L B P R) "(>Hhd & >#Hr & >HP & >HB & >Hsl & >Hacc & Hcase)".
  wp_load.
  iDestruct (drainer_not_closed with "Hdr HB Hsl Hcase") as %Hnc.
  iDestruct (rcase_drain with "Hcase") as %Hk.
  (* normalise: the last batch (all handed off) leaves [B]; the slot holds [drain_tok] *)
  iAssert (|==> ghost_var (s_B γs) (1/2) (∅ : gset gname) ∗ ghost_var (s_B γs) (1/2) (∅ : gset gname) ∗
             acc P L ∅ R ∗ drain_tok γ ∗ drain_pend γs)%I
    with "[Hdr HB Hacc Hsl]" as ">(HB & Hmine & Hacc & Hslot & Hdp)".
  { iDestruct "Hdr" as "[Hdr|(%Bm & Hmine & Hdp & #Hall)]".
    - iDestruct "Hsl" as "[(Hmine & % & Hdp)|Hdr']"; last by iDestruct (tok_excl with "Hdr Hdr'") as %[].
      subst B. iModIntro. by iFrame.
    - iDestruct "Hsl" as "[(HB' & _ & _)|Hsl]"; first by iDestruct (ghost_var_three with "HB HB' Hmine") as %[].
      iDestruct (ghost_var_agree with "HB Hmine") as %->.
      iMod (ghost_var_update_halves (∅ : gset gname) with "HB Hmine") as "[HB Hmine]".
      iModIntro. iFrame. by iApply (acc_batch_done with "Hacc Hall"). }
  iDestruct (rcases_B _ _ _ _ _ _ _ _ ∅ with "Hcase") as "Hcase"; first done.
  iModIntro. iSplitL "Hhd HP HB Hslot Hacc Hcase".
  { iNext. iExists r, pv, fl, L, ∅, P, R. iFrame "Hhd Hr HP HB Hacc Hcase". by iRight. }
  wp_pures. wp_load. wp_pures.
  destruct Hk as [Hfl|[Hfl Hpv]].
  (* [F2] WaitForRemover: LOCKED is set, retry *)
  { rewrite /locked_fl in Hfl. destruct Hfl as [->|[->|[->|[->|[->|[->|[->| ->]]]]]]]; wp_pures.
    all: iApply ("IH" with "[Hmine Hdp] HΦ"); iRight; iExists ∅; iFrame; iIntros (g Hg); set_solver. }
  rewrite /unlocked_fl in Hfl.
  destruct Hfl as [[-> | [-> | [-> | ->]]]| ->]; last done.
  all: wp_pures.
  all: destruct Hpv as [-> | [n0 ->]]; wp_pures.
  (* goals: Close (1,3,5,7), DetachClose (2,4: no CALLBACKS), Detach (6,8) *)
  all: wp_alloc c as "Hc"; iMod (mapsto_persist with "Hc") as "#Hc"; wp_pures.
  all: wp_bind (CmpXchg _ _ _); iInv Nr as (r0 pv0 fl0 L0 B0 P0 R0) "(>Hhd & >#Hr0 & >HP & >HB & >Hsl & >Hacc & Hcase)".
  all: destruct (decide (r0 = r)) as [->|Hne];
       [ | wp_cmpxchg_fail; iModIntro;
           (iSplitL "Hhd HP HB Hsl Hacc Hcase"; first (iNext; iExists r0, pv0, fl0, L0, B0, P0, R0; by iFrame "Hhd Hr0 HP HB Hsl Hacc Hcase"));
           wp_pures; iApply ("IH" with "[Hmine Hdp] HΦ"); iRight; iExists ∅; iFrame; iIntros (g Hg); set_solver ].
  all: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  all: iDestruct "Hsl" as "[(HB' & _ & _)|Hslot]"; first by iDestruct (ghost_var_three with "HB HB' Hmine") as %[].
  all: iDestruct (ghost_var_agree with "HB Hmine") as %->.
  all: wp_cmpxchg_suc.
  all: iDestruct "Hcase" as "[([%H ->] & Htok & Hpc & Hbs & Hl)|[(%H & _)|([%H _] & _)]]";
       try (exfalso; rewrite /unlocked_fl /locked_fl in H; lia).
  (* [F2] Close: the empty, LOCKED-clear stack becomes CLOSED; the LOCKED token and the
     completer's half of the (empty) batch variable go with it, with [drained_w] *)
  1,3,5,7: iDestruct (is_llist_none with "Hl") as %->;
       iMod (pend_shoot with "Hpc") as "#Hcl"; iMod (pend_shoot with "Hdp") as "#Hdw"; iModIntro;
       iSplitL "Hhd HP HB Hslot Hacc Htok Hbs Hmine";
       [ iNext; iExists c, NONEV, CLOSED, [], ∅, P0, ∅; iFrame "Hhd Hc HP HB Hacc";
         iSplitL "Hslot"; [by iRight|]; iRight; iRight; iFrame "Hcl Ht Htok Hbs";
         iSplit; [done|]; iLeft; by iFrame "Hdw Hmine"
       | wp_pures; iApply "HΦ"; by iFrame "Hcl Hdw" ].
  (* the whole list leaves the invariant and becomes the batch *)
  all: iMod (ghost_var_update_halves (ids L0) with "HB Hmine") as "[HB Hmine]".
  all: iDestruct (acc_detach with "Hacc") as "Hacc".
  (* [F2] DetachClose: CLOSED with the batch pending ([drain_pend] inside); hand it off, then
     record [drained_w] and return *)
  1,2: iMod (pend_shoot with "Hpc") as "#Hcl"; iModIntro;
       iSplitL "Hhd HP HB Hslot Hacc Htok Hbs Hdp";
       [ iNext; iExists c, NONEV, CLOSED, [], (ids L0), P0, ∅; iFrame "Hhd Hc HP HB Hacc";
         iSplitL "Hslot"; [by iRight|]; iRight; iRight; iFrame "Hcl Ht Htok Hbs";
         iSplit; [done|]; by iRight
       | ].
  1,2: wp_pures; iApply wp_fupd;
       wp_apply (hand_off_lbatch_spec _ _ L0 _ [] with "[$Hl $Ht]"); first done;
       iIntros "[#HL _]";
       iInv Nr as (r1 pv1 fl1 L1 B1 P1 R1) "(>Hhd & >#Hr1 & >HP & >HB & >Hsl & >Hacc & Hcase)";
       iDestruct "Hcase" as "[(_ & _ & >Hpc & _)|[(_ & >Hpc & _)|(>(%Hf1 & %Hp1 & -> & ->) & Hc1 & Ht1 & Htk1 & Hbs1 & [(_ & >HBc & _)|>Hdp])]]";
       [ by iDestruct (pendingC_closed with "Hpc Hcl") as %[]
       | by iDestruct (pendingC_closed with "Hpc Hcl") as %[]
       | by iDestruct (ghost_var_three with "HB HBc Hmine") as %[] | ];
       iDestruct "Hsl" as "[(HB' & _ & _)|Hsl]"; [ by iDestruct (ghost_var_three with "HB HB' Hmine") as %[] | ];
       iDestruct (ghost_var_agree with "HB Hmine") as %->;
       iMod (ghost_var_update_halves (∅ : gset gname) with "HB Hmine") as "[HB Hmine]";
       iMod (pend_shoot with "Hdp") as "#Hdw";
       iDestruct (acc_batch_done with "Hacc []") as "Hacc"; [by iApply handed_all|];
       iModIntro; iSplitL "Hhd HP HB Hsl Hacc Hc1 Ht1 Htk1 Hbs1 Hmine";
       [ iNext; iExists r1, pv1, fl1, [], ∅, P1, ∅; iFrame "Hhd Hr1 HP HB Hacc";
         iSplitL "Hsl"; [ by iRight | ];
         iRight; iRight; iFrame "Hc1 Ht1 Htk1 Hbs1"; iSplit; [done|]; iLeft; by iFrame "Hdw Hmine"
       | iModIntro; iApply "HΦ"; by iFrame "Hcl Hdw" ].
  (* [F2] Detach: an empty DRAINING stack stays *)
  all: iModIntro; iSplitL "Hhd HP HB Hslot Hacc Htok Hpc Hbs";
       [ iNext; iExists c, NONEV, DRAINING, [], (ids L0), P0, ∅; iFrame "Hhd Hc HP HB Hacc";
         iSplitL "Hslot"; [by iRight|]; iLeft; iFrame "Htok Hpc Hbs";
         iSplit; [iPureIntro; split; [rewrite /unlocked_fl; lia | done]|]; done
       | ].
  all: wp_pures.
  all: wp_apply (hand_off_lbatch_spec _ _ L0 _ [] with "[$Hl $Ht]"); first done.
  all: iIntros "[#HL _]"; wp_pures; iApply ("IH" with "[Hmine Hdp] HΦ").
  all: iRight; iExists (ids L0); iFrame "Hmine Hdp"; by iApply handed_all.
Qed.

End rdrain.
