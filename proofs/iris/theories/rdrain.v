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
    - F2 Close: only an empty, LOCKED-clear stack is closed; the LOCKED token goes into the
      CLOSED branch, so no remover can lock a CLOSED stack afterwards. *)
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
      iDestruct "Hcs" as "[(-> & Htr' & _)|[(-> & _ & Htr' & _)|[[-> Htok]|(-> & _ & #Hr & _)]]]".
      1,2: by iDestruct (pend_excl with "Htr Htr'") as %[].
      2: by iDestruct (pend_shot with "Htr Hr") as %[].
      iMod (pend_shoot with "Htok") as "#Hh". iMod (pend_shoot with "Htr") as "#Hr".
      wp_store. iModIntro.
      iSplitL "Hs Hnx Hpl".
      { iNext. iLeft. iExists _. iFrame "Hs". iRight; iRight; iRight. iSplit; first done.
        iFrame "Hh Hr". iSplit; first by iLeft. iSplitL "Hnx"; by iExists _. }
      wp_pures. iApply ("IH" with "Hl Hc"). iIntros "!> [HL HC]". iApply "HΦ". by iFrame "Hh HL HC".
Qed.

(** What one F1 load of the head tells the completer: LOCKED is set, or the flags are
    LOCKED-clear (or CLOSED) and the pointer is empty or a node. *)
Lemma rcase_drain γ γs γl γb (pv : val) (fl : Z) :
  ((⌜unlocked_fl fl⌝ ∗ tok γl ∗ pendingC γs ∗ (∃ b : val, ghost_var γb (1/2) b ∗ ghost_var γb (1/2) b) ∗ ∃ L, is_llist γ pv L) ∨
   (⌜locked_fl fl⌝ ∗ pendingC γs ∗ ∃ bnd L, ghost_var γb (1/2) bnd ∗ is_lseg γ pv bnd L) ∨
   (⌜fl = CLOSED ∧ pv = NONEV⌝ ∗ closed_w γs ∗ terminal_w γ ∗ tok γl ∗ ∃ b : val, ghost_var γb (1/2) b ∗ ghost_var γb (1/2) b)) -∗
  ((⌜unlocked_fl fl⌝ ∗ tok γl ∗ pendingC γs ∗ (∃ b : val, ghost_var γb (1/2) b ∗ ghost_var γb (1/2) b) ∗ ∃ L, is_llist γ pv L) ∨
   (⌜locked_fl fl⌝ ∗ pendingC γs ∗ ∃ bnd L, ghost_var γb (1/2) bnd ∗ is_lseg γ pv bnd L) ∨
   (⌜fl = CLOSED ∧ pv = NONEV⌝ ∗ closed_w γs ∗ terminal_w γ ∗ tok γl ∗ ∃ b : val, ghost_var γb (1/2) b ∗ ghost_var γb (1/2) b)) ∗
  ⌜locked_fl fl ∨ ((unlocked_fl fl ∨ fl = CLOSED) ∧ (pv = NONEV ∨ ∃ n, pv = SOMEV (node_val n)))⌝.
Proof.
  iIntros "[(% & Htok & Hpc & Hbs & %L & Hl)|[(% & H)|([% %] & H)]]".
  - destruct L as [|n L]; simpl.
    + iDestruct "Hl" as %->. iSplitL; [iLeft; iFrame; iSplit; [done|]; by iExists []|]. iPureIntro. right. eauto.
    + iDestruct "Hl" as (pv' ->) "Hl". iSplitL; [iLeft; iFrame; iSplit; [done|]; iExists (n :: L); simpl; iExists pv'; by iFrame|].
      iPureIntro. right. eauto.
  - iSplitL; [iRight; iLeft; by iFrame|]. iPureIntro. by left.
  - subst. iSplitL; [iRight; iRight; by iFrame|]. iPureIntro. right. eauto.
Qed.

(** F1/F2 with a concurrent remover (I3 safety, I6, I7): run with the task terminal (K4/C6),
    the drain waits while LOCKED is set (WaitForRemover: it takes nothing), detaches the whole
    list when LOCKED is clear (Detach) and hands every detached node off exactly once
    ([hand_off_lbatch_spec]), and returns only after its Close CAS (or a CLOSED head): the
    stack is then CLOSED for good, with the LOCKED token locked inside. *)
Lemma rdrain_spec γ γs γl γb (hd : loc) :
  {{{ inv Nr (rstack_inv γ γs γl γb hd) ∗ terminal_w γ }}} drain #hd {{{ RET #(); closed_w γs }}}.
Proof.
  iIntros (Φ) "[#Hinv #Ht] HΦ". iLöb as "IH".
  wp_rec.
  wp_bind (Load _). iInv Nr as (r pv fl) "(>Hhd & >#Hr & Hcase)".
  wp_load. iDestruct (rcase_drain with "Hcase") as "[Hcase %Hk]".
  iModIntro. iSplitL "Hhd Hcase"; first (iNext; iExists r, pv, fl; by iFrame "Hhd Hr Hcase").
  wp_pures. wp_load. wp_pures.
  destruct Hk as [Hfl|[Hfl Hpv]].
  (* [F2] WaitForRemover: LOCKED is set, retry *)
  { rewrite /locked_fl in Hfl. destruct Hfl as [->|[->|[->| ->]]]; wp_pures; by iApply "IH". }
  rewrite /unlocked_fl in Hfl.
  destruct Hfl as [[-> | ->]| ->]; wp_pures.
  all: destruct Hpv as [-> | [n0 ->]]; wp_pures.
  (* [F2] Close *)
  1,3,5: wp_alloc c as "Hc"; iMod (mapsto_persist with "Hc") as "#Hc"; wp_pures.
  1,2,3: wp_bind (CmpXchg _ _ _); iInv Nr as (r0 pv0 fl0) "(>Hhd & >#Hr0 & Hcase)".
  1,2,3: destruct (decide (r0 = r)) as [->|Hne];
       [ | wp_cmpxchg_fail; iModIntro;
           (iSplitL "Hhd Hcase"; first (iNext; iExists r0, pv0, fl0; by iFrame "Hhd Hr0 Hcase"));
           wp_pures; by iApply "IH" ].
  1,2,3: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  1,2,3: wp_cmpxchg_suc.
  1,2,3: iDestruct "Hcase" as "[(%H & Htok & Hpc & Hbs & %L & Hl)|[(%H & _)|((%H & _) & #Hcl & _ & Htok & Hbs)]]";
         try (exfalso; rewrite /unlocked_fl /locked_fl in H; lia).
  (* the empty, LOCKED-clear stack becomes CLOSED; the LOCKED token goes with it *)
  1,2: iMod (pend_shoot with "Hpc") as "#Hcl"; iModIntro;
       iSplitL "Hhd Htok Hbs";
       [ iNext; iExists c, NONEV, CLOSED; iFrame "Hhd Hc"; iRight; iRight; by iFrame "Hcl Ht Htok Hbs"
       | wp_pures; by iApply "HΦ" ].
  (* an already CLOSED head (a second drain): it stays CLOSED *)
  1: iModIntro; iSplitL "Hhd Htok Hbs";
       [ iNext; iExists c, NONEV, CLOSED; iFrame "Hhd Hc"; iRight; iRight; by iFrame "Hcl Ht Htok Hbs"
       | wp_pures; by iApply "HΦ" ].
  (* [F2] Detach: the whole list leaves the invariant, an empty DRAINING stack stays *)
  all: wp_alloc d as "Hd"; iMod (mapsto_persist with "Hd") as "#Hd"; wp_pures.
  all: wp_bind (CmpXchg _ _ _); iInv Nr as (r0 pv0 fl0) "(>Hhd & >#Hr0 & Hcase)".
  all: destruct (decide (r0 = r)) as [->|Hne];
       [ | wp_cmpxchg_fail; iModIntro;
           (iSplitL "Hhd Hcase"; first (iNext; iExists r0, pv0, fl0; by iFrame "Hhd Hr0 Hcase"));
           wp_pures; by iApply "IH" ].
  all: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  all: wp_cmpxchg_suc.
  all: iDestruct "Hcase" as "[(%H & Htok & Hpc & Hbs & %L & Hl)|[(%H & _)|((%H & %Hn) & _)]]";
         try (exfalso; rewrite /unlocked_fl /locked_fl in H; lia); try discriminate Hn.
  all: iModIntro; iSplitL "Hhd Htok Hpc Hbs";
       [ iNext; iExists d, NONEV, DRAINING; iFrame "Hhd Hd"; iLeft; iFrame "Htok Hpc Hbs";
         iSplit; [iPureIntro; rewrite /unlocked_fl; by right|]; by iExists []
       | ].
  all: wp_pures.
  all: wp_apply (hand_off_lbatch_spec _ _ L _ [] with "[$Hl $Ht]"); first done.
  all: iIntros "_"; wp_pures; by iApply "IH".
Qed.

End rdrain.
