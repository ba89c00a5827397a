(** * Stage 1 (continued) — run (I4), get / get_now / is_done (I2, I9) *)
From iris.algebra Require Import excl agree csum.
From iris.base_logic.lib Require Import invariants ghost_var.
From iris.heap_lang Require Import lang proofmode notation.
From iris.prelude Require Import options.
From futuretask Require Import state_word.

Section ops.
Context `{!heapGS Σ, !ftG Σ}.
Let N := nroot .@ "futuretask" .@ "state".

Lemma wait_interrupt_spec γ t :
  {{{ is_task γ t }}} wait_interrupt t {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "#Ht HΦ". iDestruct "Ht" as (st out rn job f w fc ->) "(_ & _ & #Hinv)".
  iLöb as "IH". wp_rec. rewrite /t_state. wp_pures.
  wp_apply (load_st_spec with "Hinv"). iIntros (p b) "_".
  rewrite /phase_of. destruct p, b; rewrite /enc /=; wp_pures; try (by iApply "HΦ"); by iApply "IH".
Qed.

(** I4: the claim succeeds at most once, only from exactly NEW, and only the claimer calls
    the closure: [job_wp f] is one-shot and is handed out with [claim_tok] by the R2 CAS. *)
Lemma run_spec γ t (me : val) :
  {{{ is_task γ t }}} run t me {{{ (b : bool), RET #b; if b then claim_tok γ else True }}}.
Proof.
  iIntros (Φ) "#Ht HΦ". iDestruct "Ht" as (st out rn job f w fc ->) "(#Hjob & #Hfc & #Hinv)".
  rewrite /run /t_state. wp_pures.
  wp_apply (load_st_spec with "Hinv"). iIntros (p b) "_".
  rewrite /try_start. wp_let. wp_closure.
  iLöb as "IH" forall (p b).
  wp_pures.
  destruct (decide (p = PNew ∧ b = false)) as [[-> ->]|Hne].
  2:{ destruct p, b; try (by destruct Hne); rewrite /enc /=; wp_pures; by iApply "HΦ". }
  rewrite /enc /=. wp_pures.
  wp_bind (CmpXchg _ _ _). iInv N as (p' b') "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  destruct (decide (enc p' b' = 0%Z)) as [He|He].
  2:{ wp_cmpxchg_fail. iModIntro. iSplitR "HΦ"; first (iNext; iExists p', b'; iFrame).
      wp_let; wp_proj; wp_if; wp_proj. by iApply ("IH" with "HΦ"). }
  apply enc_new_0 in He as [-> ->]. wp_cmpxchg_suc. simpl.
  iDestruct "Hcl" as "[Hclaim Hjw]".
  iMod (ghost_var_update_halves (PNew, true) with "Hph Hph2") as "[Hph Hph2]".
  iModIntro. iSplitR "HΦ Hclaim Hjw".
  { iNext. iExists PNew, true. iFrame "Hst". simpl. by iFrame. }
  wp_pures. rewrite /t_runner. wp_pures.
  (* [R3] *)
  wp_bind (Store _ _). iInv N as (p2 b2) "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  iDestruct "Hrn" as (r) "Hrn". wp_store. iModIntro.
  iSplitR "HΦ Hclaim Hjw"; first (iNext; iExists _, _; iFrame "Hst"; iFrame; by iExists _).
  wp_pures. rewrite /t_job. wp_pures. wp_load.
  (* [R4]: the one call of the closure *)
  wp_bind (f #()). iApply (wp_wand with "Hjw"). iIntros (res) "%Hres".
  destruct Hres as [v [-> | ->]]; wp_pures.
  - wp_apply (complete_spec with "[]").
    { iExists st, out, rn, job, f, w, fc. eauto. }
    iIntros (won) "_". wp_pures. rewrite /t_runner. wp_pures.
    wp_bind (Store _ _). iInv N as (p3 b3) "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
    iDestruct "Hrn" as (r') "Hrn". wp_store. iModIntro.
    iSplitR "HΦ Hclaim"; first (iNext; iExists _, _; iFrame "Hst"; iFrame; by iExists _).
    wp_pures. destruct won; wp_pures.
    + by iApply "HΦ".
    + wp_apply (wait_interrupt_spec with "[]"); last (iIntros "_"; wp_pures; by iApply "HΦ").
      iExists st, out, rn, job, f, w, fc. eauto.
  - wp_apply (complete_spec with "[]").
    { iExists st, out, rn, job, f, w, fc. eauto. }
    iIntros (won) "_". wp_pures. rewrite /t_runner. wp_pures.
    wp_bind (Store _ _). iInv N as (p3 b3) "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
    iDestruct "Hrn" as (r') "Hrn". wp_store. iModIntro.
    iSplitR "HΦ Hclaim"; first (iNext; iExists _, _; iFrame "Hst"; iFrame; by iExists _).
    wp_pures. destruct won; wp_pures.
    + by iApply "HΦ".
    + wp_apply (wait_interrupt_spec with "[]"); last (iIntros "_"; wp_pures; by iApply "HΦ").
      iExists st, out, rn, job, f, w, fc. eauto.
Qed.

(** G1/G2: the outcome returned is the decided (winner's) one (I2). *)
Lemma await_settled_spec γ t :
  {{{ is_task γ t }}} await_settled t {{{ o, RET outc_val o; decided γ o }}}.
Proof.
  iIntros (Φ) "#Ht HΦ". iPoseProof "Ht" as "Ht'".
  iDestruct "Ht'" as (st out rn job f w fc ->) "(_ & _ & #Hinv)".
  iLöb as "IH". wp_rec. rewrite /t_state. wp_pures.
  wp_apply (load_st_spec with "Hinv"). iIntros (p b) "#Hseen".
  rewrite /is_settled /phase_of.
  destruct (settled p) eqn:Hs.
  - destruct p; try done; destruct b; rewrite /enc /=; wp_pures.
    all: wp_apply (report_spec with "[$Ht $Hseen]"); [done|].
    all: iIntros (o) "[Hd _]"; by iApply "HΦ".
  - destruct p; try done; destruct b; rewrite /enc /=; wp_pures; iApply "IH"; by iNext.
Qed.

(** I9: a thread that saw the task done ([decided]) gets the outcome from [get] with an
    expired deadline — never TimedOut, never a push. *)
Lemma get_now_done_spec γ t o :
  {{{ is_task γ t ∗ decided γ o }}} get_now t {{{ RET outc_val o; True }}}.
Proof.
  iIntros (Φ) "[#Ht #Hd] HΦ". iPoseProof "Ht" as "Ht'".
  iDestruct "Ht'" as (st out rn job f w fc ->) "(_ & _ & #Hinv)".
  wp_lam. rewrite /t_state. wp_pures.
  wp_apply (load_st_decided_spec with "[$Hinv $Hd]"). iIntros (p b) "[#Hseen %Hne]".
  rewrite /is_settled /is_done_w /phase_of.
  destruct (settled p) eqn:Hs.
  - destruct p; try done; destruct b; rewrite /enc /=; wp_pures.
    all: wp_apply (report_spec with "[$Ht $Hseen]"); [done|].
    all: iIntros (o') "[Hd' _]"; iDestruct (decided_agree with "Hd Hd'") as %<-; by iApply "HΦ".
  - destruct p; try done; destruct b; rewrite /enc /=; wp_pures.
    all: wp_apply (await_settled_spec with "Ht").
    all: iIntros (o') "Hd'"; iDestruct (decided_agree with "Hd Hd'") as %<-; by iApply "HΦ".
Qed.

(** I9: [is_done] true means the outcome is decided (so [get_now_done_spec] applies). *)
Lemma is_done_spec γ t :
  {{{ is_task γ t }}} is_done t
  {{{ (d : bool), RET #d; if d then ∃ o, decided γ o else True }}}.
Proof.
  iIntros (Φ) "#Ht HΦ". iPoseProof "Ht" as "Ht'".
  iDestruct "Ht'" as (st out rn job f w fc ->) "(_ & _ & #Hinv)".
  wp_lam. rewrite /t_state. wp_pures.
  wp_apply (load_st_spec with "Hinv"). iIntros (p b) "#Hseen".
  rewrite /is_done_w /phase_of.
  destruct (decide (p = PNew)) as [->|Hne].
  - destruct b; rewrite /enc /=; wp_pures; by iApply "HΦ".
  - iDestruct (seen_not_new with "Hseen") as (o) "[Hd _]"; first done.
    destruct p; try done; destruct b; rewrite /enc /=; wp_pures; iApply "HΦ"; by iExists o.
Qed.

(** I4, "never after a cancel won": once a cancel that found the task unstarted is published,
    the claim token is locked in the invariant for good, so no [run] can hold it. *)
Lemma no_claim_after_cancel γ t p :
  p = PCancelled ∨ p = PInterrupted →
  is_task γ t -∗ final γ (p, false) -∗ claim_tok γ ={⊤}=∗ False.
Proof.
  iIntros (Hp) "#Ht #Hfin Hc".
  iDestruct "Ht" as (st out rn job f w fc ->) "(_ & _ & #Hinv)".
  iInv N as (p' b') "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  iDestruct (res_final with "Hfin Hres") as %[-> ->]. simpl.
  iDestruct "Hcl" as "[>Hc' _]". by iDestruct (claim_tok_exclusive with "Hc Hc'") as %[].
Qed.

End ops.
