(** * Stage 4 (continued) — the LOCKED remover on the head word: A1/A2, S1, S2 (I6).

    [remove_abandoned] (A1, A2: AwaitHandOff on CLOSED, MarkDirty — always a CAS, also when
    DIRTY is already set — when LOCKED, else Lock), the lock holder's sweep S1 (the first node
    unlinked by a head CAS, restarting when it fails; below it [sweep_from] of lifetime.v) and
    S2 ([unlock_step]: DIRTY → clear it and sweep again, else clear LOCKED).  The head word is
    the stage-2 record encoding.  LOCKED is an exclusive ghost token [tok γl]: it is in the
    invariant while LOCKED is clear and with the one remover while it is set.  While LOCKED is
    set the remover owns the list from a boundary [bnd] (a ghost variable, half in the
    invariant) down, and the invariant owns only the segment pushed above [bnd] since; at each
    S1 head load the remover takes that segment too.  Pushers only prepend (they write their own
    node's [next] before publishing it), so no [next] cell the remover owns is written by
    anyone else.  Safety only (DIRTY carries no ghost state: it matters for liveness and for
    C11, see ALGORITHM.md "A2 under C11"; HeapLang is SC).  The completer's F1/F2 on this
    invariant is proved in [rdrain.v].

    Accounting of pushed nodes ([P], the stage-2 authoritative set): every pushed node is handed
    off, or in the list the invariant owns, or in the completer's batch [B] (the stage-2 batch
    variable, with the same drain slot), or in the set [R] of nodes the LOCKED holder took
    (kept in the boundary variable with [bnd]; the holder knows each of them is still in its
    list or handed off).  Once CLOSED, [R] is empty and so is the list, and [B] is empty once
    the drain has returned ([drained_w]; a DetachClose hands its batch off after CLOSED): then
    every pushed node was handed off ([rclosed_handed]), by the remover after its S1 unlink or
    by the completer after its Detach or DetachClose — each one once, by its single hand-off
    token.  The remover's head writes keep CALLBACKS like DRAINING (Lock/MarkDirty set a bit,
    S1 keeps the flags, S2 clears only DIRTY or LOCKED). *)
From iris.algebra Require Import excl agree csum auth gset.
From iris.base_logic.lib Require Import invariants ghost_var.
From iris.heap_lang Require Import lang proofmode notation.
From iris.prelude Require Import options.
From futuretask Require Import state_word operations waiters lifetime.

(** S2 ([unlock_step]); its SweepAgain goes back to S1, passed as [s1]. *)
Definition unlock : val := rec: "s2" "s1" "hd" :=
  let: "h" := !"hd" in                                     (* [S2] h = head.load *)
  let: "hv" := !"h" in
  if: ~ (((Snd "hv") `land` #DIRTY) = #0) then
    let: "w" := ref (Fst "hv", (Snd "hv") `land` #(Z.lnot DIRTY)) in
    if: CAS "hd" "h" "w" then "s1" "hd" else "s2" "s1" "hd"  (* [S2] SweepAgain *)
  else
    let: "w" := ref (Fst "hv", (Snd "hv") `land` #(Z.lnot LOCKED)) in
    if: CAS "hd" "h" "w" then #() else "s2" "s1" "hd".       (* [S2] Release *)

(** S1 (then S2). *)
Definition sweep : val := rec: "s1" "hd" :=
  let: "h" := !"hd" in                                     (* [S1] head.load *)
  let: "hv" := !"h" in
  match: Fst "hv" with
    NONE => unlock "s1" "hd"                               (* [S2] *)
  | SOME "nd" =>
      let: "next" := !(n_next "nd") in                      (* [S1] next = node.next *)
      if: (~ n_iscb "nd") && (!(n_state "nd") = #ABANDONED) then
        let: "w" := ref ("next", Snd "hv") in
        if: CAS "hd" "h" "w"                                (* [S1] unlink: pred is None *)
        then release "nd" ;; "s1" "hd"                       (* [S1] release: H2..H4; walk on *)
        else "s1" "hd"                                       (* [S1] CAS failed: restart S1 *)
      else sweep_from "nd" "next" ;; unlock "s1" "hd"       (* [S1] below the first; [S2] *)
  end.

Definition remove_abandoned : val := λ: "hd",
  let: "h" := !"hd" in                                     (* [A1] *)
  (rec: "a2" "h" :=
     let: "hv" := !"h" in
     let: "fl" := Snd "hv" in
     if: ~ (("fl" `land` #CLOSED) = #0) then #()           (* [A2] AwaitHandOff *)
     else if: ~ (("fl" `land` #LOCKED) = #0) then
       let: "w" := ref (Fst "hv", "fl" `lor` #DIRTY) in
       let: "r" := CmpXchg "hd" "h" "w" in                  (* [A2] MarkDirty: always a CAS *)
       if: Snd "r" then #() else "a2" (Fst "r")
     else
       let: "w" := ref (Fst "hv", "fl" `lor` #LOCKED) in
       let: "r" := CmpXchg "hd" "h" "w" in                  (* [A2] Lock *)
       if: Snd "r" then sweep "hd" else "a2" (Fst "r")      (*      on success goto S1 *)
  ) "h".

Class removerG Σ := RemoverG { rm_bG :> ghost_varG Σ (val * gset gname) }.
Definition removerΣ : gFunctors := #[ghost_varΣ (val * gset gname)].
Global Instance subG_removerΣ {Σ} : subG removerΣ Σ → removerG Σ.
Proof. solve_inG. Qed.

Section remover.
Context `{!heapGS Σ, !ftG Σ, !stackG Σ, !removerG Σ}.
Let Nr := nroot .@ "futuretask" .@ "rstack".

Fixpoint is_lseg (γ : tgn) (pv bnd : val) (L : list node) : iProp Σ :=
  match L with
  | [] => ⌜pv = bnd⌝
  | n :: L' => ∃ pv', ⌜pv = SOMEV (node_val n)⌝ ∗ n_nx n ↦ pv' ∗ lnode_own γ n ∗ is_lseg γ pv' bnd L'
  end%I.

Lemma lseg_app γ pv bnd L1 L2 :
  is_lseg γ pv bnd L1 -∗ is_llist γ bnd L2 -∗ is_llist γ pv (L1 ++ L2).
Proof.
  iInduction L1 as [|n L1] "IH" forall (pv); simpl.
  - iIntros (->) "$".
  - iIntros "H Hl". iDestruct "H" as (pv' ->) "(Hnx & Hown & Hs)".
    iExists pv'. iFrame. iSplit; first done. iApply ("IH" with "Hs Hl").
Qed.

(** A segment from the remover's first node to itself is empty: the remover owns that
    node's [next] cell. *)
Lemma lseg_empty γ n v L1 :
  is_lseg γ (SOMEV (node_val n)) (SOMEV (node_val n)) L1 -∗ n_nx n ↦ v -∗ ⌜L1 = []⌝ ∗ n_nx n ↦ v.
Proof.
  destruct L1 as [|m L1]; simpl; first by iIntros "_ $".
  iIntros "H Hnx". iDestruct "H" as (pv' Heq) "(Hnx' & _)".
  rewrite /node_val in Heq. simplify_eq. rewrite Heq.
  by iDestruct (mapsto_ne with "Hnx Hnx'") as %?.
Qed.

Lemma is_llist_none γ L : is_llist γ NONEV L -∗ ⌜L = []⌝.
Proof. destruct L; simpl; first by iIntros. iIntros "H". by iDestruct "H" as (?) "(% & _)". Qed.

Definition unlocked_fl (fl : Z) : Prop := fl = 0%Z ∨ fl = DRAINING ∨ fl = CALLBACKS ∨ fl = 20%Z.
Definition locked_fl (fl : Z) : Prop :=
  fl = 1%Z ∨ fl = 3%Z ∨ fl = 5%Z ∨ fl = 7%Z ∨ fl = 17%Z ∨ fl = 19%Z ∨ fl = 21%Z ∨ fl = 23%Z.

(** ** Accounting *)
(** Every pushed node is handed off, or in the invariant's list [L], the batch [B] or the
    holder's set [R]. *)
Definition acc (P : gset gname) (L : list node) (B R : gset gname) : iProp Σ :=
  ∀ g, ⌜g ∈ P⌝ → handed_w g ∨ ⌜g ∈ ids L ∪ B ∪ R⌝.
(** What the LOCKED holder knows of the nodes it took: each is in its list or handed off. *)
Definition covers (R : gset gname) (L : list node) : iProp Σ :=
  ∀ g, ⌜g ∈ R⌝ → handed_w g ∨ ⌜g ∈ ids L⌝.
Global Instance acc_persistent P L B R : Persistent (acc P L B R).
Proof. rewrite /acc. apply _. Qed.
Global Instance acc_timeless P L B R : Timeless (acc P L B R).
Proof. rewrite /acc. apply _. Qed.
Global Instance covers_persistent R L : Persistent (covers R L).
Proof. rewrite /covers. apply _. Qed.

Lemma acc_push P L B R n :
  acc P L B R -∗ acc (P ∪ {[n_g n]}) (n :: L) B R.
Proof.
  iIntros "#H" (g Hg). rewrite ids_cons.
  destruct (decide (g = n_g n)) as [->|Hne]; first (iRight; iPureIntro; set_solver).
  iDestruct ("H" $! g with "[%]") as "[Hh|%Hg']"; first set_solver; first by iLeft.
  iRight. iPureIntro. set_solver.
Qed.

Lemma acc_lock P L B : acc P L B ∅ -∗ acc P [] B (ids L).
Proof.
  iIntros "#H" (g Hg). iDestruct ("H" $! g Hg) as "[Hh|%Hg']"; first by iLeft.
  iRight. iPureIntro. rewrite ids_nil. set_solver.
Qed.

Lemma acc_take P Lp B R : acc P Lp B R -∗ acc P [] B (R ∪ ids Lp).
Proof.
  iIntros "#H" (g Hg). iDestruct ("H" $! g Hg) as "[Hh|%Hg']"; first by iLeft.
  iRight. iPureIntro. rewrite ids_nil. set_solver.
Qed.

Lemma acc_release P Lp L B R : acc P Lp B R -∗ covers R L -∗ acc P (Lp ++ L) B ∅.
Proof.
  iIntros "#H #Hc" (g Hg). rewrite ids_app.
  iDestruct ("H" $! g Hg) as "[Hh|%Hg']"; first by iLeft.
  destruct (decide (g ∈ R)) as [HR|HR].
  - iDestruct ("Hc" $! g HR) as "[Hh|%]"; first by iLeft. iRight. iPureIntro. set_solver.
  - iRight. iPureIntro. set_solver.
Qed.

Lemma acc_batch_done P L Bm R :
  acc P L Bm R -∗ (∀ g, ⌜g ∈ Bm⌝ → handed_w g) -∗ acc P L ∅ R.
Proof.
  iIntros "#H #Hb" (g Hg). iDestruct ("H" $! g Hg) as "[Hh|%Hg']"; first by iLeft.
  destruct (decide (g ∈ Bm)) as [HB|HB]; first (iLeft; by iApply "Hb").
  iRight. iPureIntro. set_solver.
Qed.

Lemma acc_detach P L R : acc P L ∅ R -∗ acc P [] (ids L) R.
Proof.
  iIntros "#H" (g Hg). iDestruct ("H" $! g Hg) as "[Hh|%Hg']"; first by iLeft.
  iRight. iPureIntro. rewrite ids_nil. set_solver.
Qed.

Lemma covers_ids L : ⊢ covers (ids L) L.
Proof. iIntros (g Hg). by iRight. Qed.

Lemma covers_take R Lp L : covers R L -∗ covers (R ∪ ids Lp) (Lp ++ L).
Proof.
  iIntros "#H" (g Hg). rewrite ids_app.
  destruct (decide (g ∈ R)) as [HR|HR].
  - iDestruct ("H" $! g HR) as "[Hh|%]"; first by iLeft. iRight. iPureIntro. set_solver.
  - iRight. iPureIntro. set_solver.
Qed.

Lemma covers_drop R n L : covers R (n :: L) -∗ handed_w (n_g n) -∗ covers R L.
Proof.
  iIntros "#H #Hh" (g Hg). iDestruct ("H" $! g Hg) as "[Hh'|%Hg']"; first by iLeft.
  rewrite ids_cons in Hg'. destruct (decide (g = n_g n)) as [->|Hne]; first by iLeft.
  iRight. iPureIntro. set_solver.
Qed.

Lemma covers_sweep R n L L' : covers R (n :: L) -∗ kept_or_handed L L' -∗ covers R (n :: L').
Proof.
  iIntros "#H #Hk" (g Hg). iDestruct ("H" $! g Hg) as "[Hh|%Hg']"; first by iLeft.
  iApply (kept_cons with "Hk"). done.
Qed.

(** The drain slot of stage 2: the completer's half of the batch variable (batch empty) and
    [drain_pend] until the completer first loads the head, then its [drain_tok]. *)
Definition dslot (γ : tgn) (γs : sgn) (B : gset gname) : iProp Σ :=
  (ghost_var (s_B γs) (1/2) B ∗ ⌜B = ∅⌝ ∗ drain_pend γs) ∨ drain_tok γ.
(** Both halves of the boundary variable (no holder). *)
Definition bfull (γb : gname) (R : gset gname) : iProp Σ :=
  ∃ b : val, ghost_var γb (1/2) (b, R) ∗ ghost_var γb (1/2) (b, R).

(** The flags' three cases: LOCKED clear (the lock token and the whole list inside), LOCKED
    set (the segment above the remover's boundary inside), or CLOSED (empty, terminal, the lock
    token inside: CLOSED is never set while LOCKED is held; either [drained_w] and the
    completer's half of an empty [B] inside, or [drain_pend] while a DetachClose's batch is
    being handed off). *)
Definition rcases (γ : tgn) (γs : sgn) (γl γb : gname) (pv : val) (fl : Z) (L : list node)
    (B R : gset gname) : iProp Σ :=
  (⌜unlocked_fl fl ∧ R = ∅⌝ ∗ tok γl ∗ pendingC γs ∗ bfull γb R ∗ is_llist γ pv L) ∨
  (⌜locked_fl fl⌝ ∗ pendingC γs ∗ ∃ bnd, ghost_var γb (1/2) (bnd, R) ∗ is_lseg γ pv bnd L) ∨
  (⌜fl = CLOSED ∧ pv = NONEV ∧ L = [] ∧ R = ∅⌝ ∗ closed_w γs ∗ terminal_w γ ∗ tok γl ∗
     bfull γb R ∗ ((drained_w γs ∗ ghost_var (s_B γs) (1/2) B ∗ ⌜B = ∅⌝) ∨ drain_pend γs)).

(** The head invariant with a remover and the completer. *)
Definition rstack_inv (γ : tgn) (γs : sgn) (γl γb : gname) (hd : loc) : iProp Σ :=
  ∃ (r : loc) (pv : val) (fl : Z) (L : list node) (B P R : gset gname),
    hd ↦ #r ∗ r ↦□ (pv, #fl)%V ∗ own (s_P γs) (● P) ∗ ghost_var (s_B γs) (1/2) B ∗
    dslot γ γs B ∗ acc P L B R ∗ rcases γ γs γl γb pv fl L B R.

(** The lock holder: the token and the list from its boundary down, covering every node it
    took. *)
Definition holder (γ : tgn) (γl γb : gname) : iProp Σ :=
  tok γl ∗ ∃ bnd L R, ghost_var γb (1/2) (bnd, R) ∗ is_llist γ bnd L ∗ covers R L.

Definition rhead_info (r : loc) : iProp Σ :=
  ∃ pv (fl : Z), r ↦□ (pv, #fl)%V ∗ ⌜unlocked_fl fl ∨ locked_fl fl ∨ fl = CLOSED⌝.

Lemma rcases_B γ γs γl γb pv fl L B B' R :
  fl ≠ CLOSED → rcases γ γs γl γb pv fl L B R -∗ rcases γ γs γl γb pv fl L B' R.
Proof. iIntros (Hfl) "[H|[H|([% _] & _)]]"; [by iLeft|by iRight; iLeft|done]. Qed.

(** S2: with DIRTY set, clear it and sweep again ([s1], once); else clear LOCKED and give the
    lock token and the list back ([Φ #()]). *)
Lemma unlock_spec γ γs γl γb (hd : loc) (s1 : val) Φ :
  inv Nr (rstack_inv γ γs γl γb hd) -∗ holder γ γl γb -∗
  ((holder γ γl γb -∗ WP s1 #hd {{ Φ }}) ∧ Φ #()) -∗ WP unlock s1 #hd {{ Φ }}.
Proof.
  iIntros "#Hinv Hh Hk". iLöb as "IH2". wp_rec. wp_pures.
  iDestruct "Hh" as "(Htok & %bnd & %L & %R & Hb & Hl & #Hcov)".
  wp_bind (Load _). iInv Nr as (r0 pv0 fl0 L0 B0 P0 R0) "(>Hhd & >#Hr0 & >HP & >HB & >Hsl & >Hacc & Hcase)".
  iDestruct "Hcase" as "[(_ & >Htok' & _)|[(>%Hfl & >Hpc & %bnd' & >Hb' & Hseg)|(_ & _ & _ & >Htok' & _)]]".
  1,3: by iDestruct (tok_excl with "Htok Htok'") as %[].
  wp_load. iModIntro.
  iSplitL "Hhd HP HB Hsl Hacc Hpc Hb' Hseg".
  { iNext. iExists r0, pv0, fl0, L0, B0, P0, R0. iFrame "Hhd Hr0 HP HB Hsl Hacc".
    iRight; iLeft. iFrame "Hpc". iSplit; first done. iExists bnd'. by iFrame. }
  clear bnd'.
  wp_pures. wp_load. wp_pures.
  destruct Hfl as [->|[->|[->|[->|[->|[->|[->| ->]]]]]]]; wp_pures.
  all: wp_alloc w as "Hw"; iMod (mapsto_persist with "Hw") as "#Hw"; wp_pures.
  all: wp_bind (CmpXchg _ _ _); iInv Nr as (r1 pv1 fl1 L1 B1 P1 R1) "(>Hhd & >#Hr1 & >HP & >HB & >Hsl & >Hacc & Hcase)".
  all: destruct (decide (r1 = r0)) as [->|Hne];
       [ | wp_cmpxchg_fail; iModIntro;
           (iSplitL "Hhd HP HB Hsl Hacc Hcase"; first (iNext; iExists r1, pv1, fl1, L1, B1, P1, R1; by iFrame "Hhd Hr1 HP HB Hsl Hacc Hcase"));
           wp_pures; iApply ("IH2" with "[Htok Hb Hl] Hk"); iFrame "Htok"; iExists bnd, L, R; by iFrame "Hb Hl Hcov" ].
  all: iDestruct (mapsto_agree with "Hr0 Hr1") as %[= <- <-].
  all: iDestruct "Hcase" as "[(_ & >Htok' & _)|[(_ & >Hpc & %bnd' & >Hb' & Hseg)|(_ & _ & _ & >Htok' & _)]]";
       [ by iDestruct (tok_excl with "Htok Htok'") as %[] | | by iDestruct (tok_excl with "Htok Htok'") as %[] ].
  all: wp_cmpxchg_suc.
  all: iDestruct (ghost_var_agree with "Hb Hb'") as %[= <- <-].
  (* Release (fl = 1, 5, 17, 21): LOCKED, the list and the taken nodes go back *)
  1,3,5,7: iMod (ghost_var_update_halves (bnd, ∅) with "Hb Hb'") as "[Hb Hb']";
       iDestruct (lseg_app with "Hseg Hl") as "Hl";
       iDestruct (acc_release with "Hacc Hcov") as "Hacc"; iModIntro;
       iSplitL "Hhd HP HB Hsl Hacc Htok Hpc Hb Hb' Hl";
       [ iNext; iExists w, pv0, _, (L1 ++ L), B1, P1, ∅; iFrame "Hhd Hw HP HB Hsl Hacc"; iLeft; iFrame "Htok Hpc Hl";
         iSplit; [iPureIntro; split; [rewrite /unlocked_fl; compute; lia | done]|];
         iExists bnd; iFrame
       | wp_pures; iDestruct "Hk" as "[_ Hk]"; done ].
  (* SweepAgain (fl = 3, 7, 19, 23): DIRTY cleared, sweep again *)
  all: iModIntro;
       iSplitL "Hhd HP HB Hsl Hacc Hpc Hb' Hseg";
       [ iNext; iExists w, pv0, _, L1, B1, P1, R; iFrame "Hhd Hw HP HB Hsl Hacc"; iRight; iLeft; iFrame "Hpc";
         iSplit; [iPureIntro; rewrite /locked_fl; compute; lia|]; iExists bnd; iFrame
       | ].
  all: wp_pures; iDestruct "Hk" as "[Hk _]"; iApply "Hk"; iFrame "Htok"; iExists bnd, L, R; by iFrame "Hb Hl Hcov".
Qed.

(** S1–S2 (I6, the remover): the lock holder unlinks ABANDONED waiters (the first by a head
    CAS, the others by [pred.next := next], in [sweep_from]) and releases each only after
    unlinking it; it re-sweeps while DIRTY is set and finally gives LOCKED and the list back.
    Every node it drops from its list is handed off ([covers]). *)
Lemma sweep_spec γ γs γl γb (hd : loc) :
  {{{ inv Nr (rstack_inv γ γs γl γb hd) ∗ holder γ γl γb }}} sweep #hd {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "[#Hinv Hh] HΦ". iLöb as "IH".
  wp_rec.
  iDestruct "Hh" as "(Htok & %bnd & %L & %R & Hb & Hl & #Hcov)".
  wp_bind (Load _). iInv Nr as (r pv fl Lp B P R0) "(>Hhd & >#Hr & >HP & >HB & >Hsl & >Hacc & Hcase)".
  iDestruct "Hcase" as "[(_ & >Htok' & _)|[(>%Hfl & >Hpc & %bnd' & >Hb' & Hseg)|(_ & _ & _ & >Htok' & _)]]".
  1,3: by iDestruct (tok_excl with "Htok Htok'") as %[].
  iDestruct (ghost_var_agree with "Hb Hb'") as %[= <- <-].
  wp_load.
  iDestruct (lseg_app with "Hseg Hl") as "Hl".
  iDestruct (acc_take with "Hacc") as "Hacc".
  iDestruct (covers_take _ Lp with "Hcov") as "#Hcov'". iClear "Hcov".
  iMod (ghost_var_update_halves (pv, R ∪ ids Lp) with "Hb Hb'") as "[Hb Hb']".
  iModIntro.
  iSplitL "Hhd HP HB Hsl Hacc Hpc Hb'".
  { iNext. iExists r, pv, fl, [], B, P, (R ∪ ids Lp). iFrame "Hhd Hr HP HB Hsl Hacc".
    iRight; iLeft. iFrame "Hpc". iSplit; first done. iExists pv. by iFrame "Hb'". }
  wp_pures. wp_load. wp_pures.
  remember (Lp ++ L) as La eqn:HLa. remember (R ∪ ids Lp) as Ra eqn:HRa.
  clear HLa HRa Lp L R.
  destruct La as [|n L]; simpl.
  { iDestruct "Hl" as %->. wp_pures.
    iApply (unlock_spec with "Hinv [Htok Hb] [HΦ]").
    - iFrame "Htok". iExists NONEV, [], Ra. by iFrame "Hb Hcov'".
    - iSplit; [iIntros "Hh"; iApply ("IH" with "Hh HΦ") | by iApply "HΦ"]. }
  iDestruct "Hl" as (pv' ->) "(Hnx & [Hpt Hown] & Hl)".
  wp_pures. rewrite /n_next /n_iscb. wp_pures. wp_load. wp_pures.
  destruct (n_cb n) eqn:Hcb; wp_pures.
  - wp_apply (sweep_from_spec γ n with "[$Hnx $Hl]"). iIntros (pv'' L') "(Hnx & Hl & _ & #Hk)".
    wp_pures.
    iApply (unlock_spec with "Hinv [Htok Hb Hnx Hl Hpt Hown] [HΦ]").
    + iFrame "Htok". iExists (SOMEV (node_val n)), (n :: L'), Ra. iFrame "Hb". simpl.
      iSplitL; last by iApply (covers_sweep with "Hcov' Hk").
      iExists pv''. iFrame. iSplit; first done. rewrite /lnode_own Hcb. iFrame.
    + iSplit; [iIntros "Hh"; iApply ("IH" with "Hh HΦ") | by iApply "HΦ"].
  - iDestruct "Hown" as (gl) "#Hn".
    wp_apply (sweep_load_spec with "[$Hn $Hpt]"). iIntros (s) "[Hpt Hab]".
    destruct (decide (s = ABANDONED)) as [->|Hne]; wp_pures.
    + iDestruct "Hab" as "#Hab".
      wp_alloc w as "Hw"; iMod (mapsto_persist with "Hw") as "#Hw"; wp_pures.
      wp_bind (CmpXchg _ _ _); iInv Nr as (r1 pv1 fl1 L1 B1 P1 R1) "(>Hhd & >#Hr1 & >HP & >HB & >Hsl & >Hacc & Hcase)".
      destruct (decide (r1 = r)) as [->|Hne].
      2:{ wp_cmpxchg_fail. iModIntro.
          iSplitL "Hhd HP HB Hsl Hacc Hcase"; first (iNext; iExists r1, pv1, fl1, L1, B1, P1, R1; by iFrame "Hhd Hr1 HP HB Hsl Hacc Hcase").
          wp_pures. iApply ("IH" with "[Htok Hb Hnx Hpt Hl] HΦ"). iFrame "Htok".
          iExists (SOMEV (node_val n)), (n :: L), Ra. iFrame "Hb Hcov'". simpl. iExists pv'. iFrame.
          iSplit; first done. rewrite /lnode_own Hcb. iExists gl. iFrame "Hn". }
      iDestruct (mapsto_agree with "Hr Hr1") as %[= <- <-].
      iDestruct "Hcase" as "[(_ & >Htok' & _)|[(_ & >Hpc & %bnd' & >Hb' & Hseg)|(_ & _ & _ & >Htok' & _)]]".
      1,3: by iDestruct (tok_excl with "Htok Htok'") as %[].
      iDestruct (ghost_var_agree with "Hb Hb'") as %[= <- <-].
      wp_cmpxchg_suc.
      iDestruct (lseg_empty with "Hseg Hnx") as "[-> Hnx]".
      iMod (ghost_var_update_halves (pv', Ra) with "Hb Hb'") as "[Hb Hb']".
      iModIntro.
      iSplitL "Hhd HP HB Hsl Hacc Hpc Hb'".
      { iNext. iExists w, pv', fl, [], B1, P1, Ra. iFrame "Hhd Hw HP HB Hsl Hacc".
        iRight; iLeft. iFrame "Hpc". iSplit; first done. iExists pv'. by iFrame "Hb'". }
      wp_pures.
      wp_apply (release_spec with "[$Hn $Hpt $Hnx]"); first by iRight.
      iIntros "#Hh". wp_pures.
      iApply ("IH" with "[Htok Hb Hl] HΦ"). iFrame "Htok". iExists pv', L, Ra. iFrame "Hb Hl".
      by iApply (covers_drop with "Hcov' Hh").
    + rewrite bool_decide_false; last congruence. wp_pures.
      wp_apply (sweep_from_spec γ n with "[$Hnx $Hl]"). iIntros (pv'' L') "(Hnx & Hl & _ & #Hk)".
      wp_pures.
      iApply (unlock_spec with "Hinv [Htok Hb Hnx Hl Hpt] [HΦ]").
      * iFrame "Htok". iExists (SOMEV (node_val n)), (n :: L'), Ra. iFrame "Hb". simpl.
        iSplitL; last by iApply (covers_sweep with "Hcov' Hk").
        iExists pv''. iFrame. iSplit; first done. rewrite /lnode_own Hcb. iExists gl. iFrame "Hn".
      * iSplit; [iIntros "Hh"; iApply ("IH" with "Hh HΦ") | by iApply "HΦ"].
Qed.

Lemma rcase_valid γ γs γl γb pv fl L B R :
  rcases γ γs γl γb pv fl L B R -∗ ⌜unlocked_fl fl ∨ locked_fl fl ∨ fl = CLOSED⌝.
Proof. iIntros "[([% _] & _)|[(% & _)|([% _] & _)]]"; eauto. Qed.

(** A1/A2 (I6): AwaitHandOff on CLOSED; MarkDirty (a CAS, also when DIRTY is already set)
    when LOCKED; otherwise the Lock CAS takes the lock token and the whole list, and S1–S2 run.
    It returns having touched no node it does not own. *)
Lemma remove_abandoned_spec γ γs γl γb (hd : loc) :
  {{{ inv Nr (rstack_inv γ γs γl γb hd) }}} remove_abandoned #hd {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "#Hinv HΦ". wp_lam.
  wp_bind (Load _). iInv Nr as (r pv fl L B P R) "(>Hhd & >#Hr & >HP & >HB & >Hsl & >Hacc & Hcase)".
  wp_load. iDestruct (rcase_valid with "Hcase") as %Hv. iModIntro.
  iSplitL "Hhd HP HB Hsl Hacc Hcase"; first (iNext; iExists r, pv, fl, L, B, P, R; by iFrame "Hhd Hr HP HB Hsl Hacc Hcase").
  iAssert (rhead_info r) as "Hi"; first (iExists pv, fl; by iFrame "Hr").
  iClear "Hr". clear pv fl L B P R Hv.
  wp_let. wp_closure. iLöb as "IH" forall (r) "Hi".
  iDestruct "Hi" as (pv fl) "[#Hr %Hv]".
  wp_pures. wp_load. wp_pures.
  rewrite /unlocked_fl /locked_fl in Hv.
  destruct Hv as [[->|[->|[->| ->]]]|[[->|[->|[->|[->|[->|[->|[->| ->]]]]]]]| ->]]; wp_pures.
  13: by iApply "HΦ".
  all: wp_alloc w as "Hw"; iMod (mapsto_persist with "Hw") as "#Hw"; wp_pures.
  all: wp_bind (CmpXchg _ _ _); iInv Nr as (r0 pv0 fl0 L0 B0 P0 R0) "(>Hhd & >#Hr0 & >HP & >HB & >Hsl & >Hacc & Hcase)".
  all: destruct (decide (r0 = r)) as [->|Hne];
       [ | wp_cmpxchg_fail; iDestruct (rcase_valid with "Hcase") as %Hv0; iModIntro;
           (iSplitL "Hhd HP HB Hsl Hacc Hcase"; first (iNext; iExists r0, pv0, fl0, L0, B0, P0, R0; by iFrame "Hhd Hr0 HP HB Hsl Hacc Hcase"));
           wp_let; wp_proj; wp_if; wp_proj; iApply ("IH" with "HΦ"); iModIntro; iExists pv0, fl0; by iFrame "Hr0" ].
  all: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  all: iDestruct "Hcase" as "[(>[%H %HR] & >Htok & >Hpc & >Hbs & Hl)|[(>%H & >Hpc & Hrest)|(>[%H _] & Hrest)]]".
  all: try (exfalso; rewrite /unlocked_fl /locked_fl in H; lia).
  all: wp_cmpxchg_suc.
  (* Lock (fl = 0, DRAINING, CALLBACKS, DRAINING|CALLBACKS): the token, the whole list and its
     nodes go to the remover; S1 *)
  1,2,3,4: subst R0; iDestruct "Hbs" as (b) "[Hb Hb']";
       iMod (ghost_var_update_halves (pv, ids L0) with "Hb Hb'") as "[Hb Hb']";
       iDestruct (acc_lock with "Hacc") as "Hacc"; iModIntro;
       iSplitL "Hhd HP HB Hsl Hacc Hpc Hb'";
       [ iNext; iExists w, pv, _, [], B0, P0, (ids L0); iFrame "Hhd Hw HP HB Hsl Hacc"; iRight; iLeft; iFrame "Hpc";
         iSplit; [iPureIntro; rewrite /locked_fl; compute; lia|]; iExists pv; by iFrame
       | wp_pures; wp_apply (sweep_spec with "[$Hinv Htok Hb Hl]");
         [ iFrame "Htok"; iExists pv, L0, (ids L0); iFrame; iApply covers_ids | iIntros "_"; by iApply "HΦ" ] ].
  (* MarkDirty (fl = LOCKED, LOCKED|DIRTY, …): the same list, DIRTY set *)
  all: iModIntro; iSplitL "Hhd HP HB Hsl Hacc Hpc Hrest";
       [ iNext; iExists w, pv, _, L0, B0, P0, R0; iFrame "Hhd Hw HP HB Hsl Hacc"; iRight; iLeft; iFrame "Hpc Hrest";
         iPureIntro; rewrite /locked_fl; compute; lia
       | wp_pures; by iApply "HΦ" ].
Qed.

Lemma rcase_info γ γs γl γb pv fl L B R :
  rcases γ γs γl γb pv fl L B R -∗
  rcases γ γs γl γb pv fl L B R ∗
  (⌜unlocked_fl fl ∨ locked_fl fl⌝ ∨ (⌜fl = CLOSED⌝ ∗ closed_w γs ∗ terminal_w γ)).
Proof.
  iIntros "[([% %] & H)|[(% & H)|([% %] & #Hc & #Ht & H)]]".
  - iSplitL; [iLeft; by iFrame|]. iLeft. eauto.
  - iSplitL; [iRight; iLeft; by iFrame|]. iLeft. eauto.
  - iSplitL; [iRight; iRight; by iFrame "Hc Ht H"|]. iRight. by iFrame "Hc Ht".
Qed.

Definition rpush_info (γ : tgn) (γs : sgn) (r : loc) : iProp Σ :=
  ∃ pv (fl : Z), r ↦□ (pv, #fl)%V ∗
    (⌜unlocked_fl fl ∨ locked_fl fl⌝ ∨ (⌜fl = CLOSED⌝ ∗ closed_w γs ∗ terminal_w γ)).

(** P1–P3 with a remover: a push onto CLOSED still fails (and proves the task terminal); a push
    while LOCKED prepends to the segment above the remover's boundary, writing only the pushed
    node's own [next] before publishing it.  A successful push records the node as pushed. *)
Lemma push_rspec γ γs γl γb (hd : loc) (n : node) (v0 : val) (kc : bool) :
  {{{ inv Nr (rstack_inv γ γs γl γb hd) ∗ n_nx n ↦ v0 ∗ lnode_own γ n ∗
      (if kc then closed_w γs else True) }}}
    push #hd (node_val n)
  {{{ (b : bool), RET #b;
      if b then ⌜kc = false⌝ ∗ pushed_w γs (n_g n)
      else (∃ v, n_nx n ↦ v) ∗ lnode_own γ n ∗ closed_w γs ∗ terminal_w γ }}}.
Proof.
  iIntros (Φ) "(#Hinv & Hnx & Hown & Hkc) HΦ".
  wp_lam. wp_pures.
  wp_bind (Load _). iInv Nr as (r pv fl L B P R) "(>Hhd & >#Hr & >HP & >HB & >Hsl & >Hacc & Hcase)".
  wp_load. iDestruct (rcase_info with "Hcase") as "[Hcase #Hfl]".
  iModIntro. iSplitL "Hhd HP HB Hsl Hacc Hcase"; first (iNext; iExists r, pv, fl, L, B, P, R; by iFrame "Hhd Hr HP HB Hsl Hacc Hcase").
  iAssert (rpush_info γ γs r) as "#Hi"; first (iExists pv, fl; by iFrame "Hr Hfl").
  iClear "Hr Hfl". clear pv fl L B P R.
  wp_let. wp_closure.
  iLöb as "IH" forall (r v0) "Hi".
  iDestruct "Hi" as (pv fl) "[#Hr Hfl]".
  wp_pures. wp_load. wp_pures. rewrite /try_push /n_iscb.
  iDestruct "Hfl" as "[%Hfl|(-> & #Hc & #Ht)]".
  2:{ wp_pures. iApply "HΦ". iModIntro. iFrame "Hc Ht Hown". by iExists v0. }
  rewrite /unlocked_fl /locked_fl in Hfl.
  destruct Hfl as [[-> | [-> | [-> | ->]]]|[-> | [-> | [-> | [-> | [-> | [-> | [-> | ->]]]]]]]];
    wp_pures; destruct (n_cb n); wp_pures.
  all: rewrite /n_next; wp_pures; wp_store; wp_alloc r' as "Hr'"; wp_pures.
  all: iMod (mapsto_persist with "Hr'") as "#Hr'".
  all: wp_bind (CmpXchg _ _ _); iInv Nr as (r0 pv0 fl0 L0 B0 P0 R0) "(>Hhd & >#Hr0 & >HP & >HB & >Hsl & >Hacc & Hcase)".
  all: destruct (decide (r0 = r)) as [->|Hne].
  all: try (wp_cmpxchg_fail; iDestruct (rcase_info with "Hcase") as "[Hcase #Hfl0]"; iModIntro;
            (iSplitL "Hhd HP HB Hsl Hacc Hcase"; first (iNext; iExists r0, pv0, fl0, L0, B0, P0, R0; by iFrame "Hhd Hr0 HP HB Hsl Hacc Hcase"));
            wp_let; wp_proj; wp_if; wp_proj;
            iApply ("IH" with "Hnx Hown Hkc HΦ"); iExists pv0, fl0; by iFrame "Hr0 Hfl0").
  all: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  all: wp_cmpxchg_suc.
  all: iDestruct "Hcase" as "[([%H %HR] & Htok & Hpc & Hbs & Hl)|[(%H & Hpc & %bnd & Hb & Hseg)|([%H _] & _)]]";
       try (exfalso; rewrite /unlocked_fl /locked_fl in H; lia).
  all: destruct kc; [by iDestruct (pendingC_closed with "Hpc Hkc") as %[]|].
  all: iMod (own_update _ _ (● (P0 ∪ {[n_g n]}) ⋅ ◯ (P0 ∪ {[n_g n]})) with "HP") as "[HP Hfrag]";
       [ apply auth_update_alloc, gset_local_update; set_solver | ].
  all: iDestruct (own_mono _ _ (◯ ({[n_g n]} : gset gname)) with "Hfrag") as "Hpw";
       [ apply auth_frag_mono, gset_included; set_solver | ].
  all: iDestruct (acc_push _ _ _ _ n with "Hacc") as "Hacc".
  all: iModIntro.
  (* LOCKED clear: the node goes on the list *)
  1-8: iSplitL "Hhd HP HB Hsl Hacc Htok Hpc Hbs Hl Hnx Hown";
       [ iNext; iExists r', (SOMEV (node_val n)), _, (n :: L0), B0, (P0 ∪ {[n_g n]}), R0;
         iFrame "Hhd Hr' HP HB Hsl Hacc"; iLeft; iFrame "Htok Hpc Hbs";
         iSplit; [iPureIntro; split; [rewrite /unlocked_fl; compute; lia | done]|];
         simpl; iExists pv; by iFrame
       | wp_pures; iApply "HΦ"; by iFrame "Hpw" ].
  (* LOCKED set: the node goes on the segment above the remover's boundary *)
  all: iSplitL "Hhd HP HB Hsl Hacc Hpc Hb Hseg Hnx Hown";
       [ iNext; iExists r', (SOMEV (node_val n)), _, (n :: L0), B0, (P0 ∪ {[n_g n]}), R0;
         iFrame "Hhd Hr' HP HB Hsl Hacc"; iRight; iLeft; iFrame "Hpc";
         iSplit; [iPureIntro; rewrite /locked_fl; compute; lia|];
         iExists bnd; iFrame "Hb"; simpl; iExists pv; by iFrame
       | wp_pures; iApply "HΦ"; by iFrame "Hpw" ].
Qed.

(** Pushed-node accounting (I3 safety, I6, I7): once the stack is CLOSED and the drain has
    returned ([drained_w]), every node whose push succeeded has been handed off — released by
    the remover after its S1 unlink, or handed off by the completer after its Detach or
    DetachClose (a waiter released, a callback run).  With the node's
    single hand-off token ([notify_lspec], [run_callbacks_spec]) it was handed off exactly
    once: never by both, never by neither. *)
Lemma rclosed_handed γ γs γl γb hd g :
  inv Nr (rstack_inv γ γs γl γb hd) -∗ closed_w γs -∗ drained_w γs -∗ pushed_w γs g ={⊤}=∗
  handed_w g.
Proof.
  iIntros "#Hinv #Hc #Hdw Hpw".
  iInv Nr as (r pv fl L B P R) "(>Hhd & >#Hr & >HP & >HB & >Hsl & >#Hacc & Hcase)".
  iDestruct "Hcase" as "[(_ & _ & >Hpc & _)|[(_ & >Hpc & _)|(>(%Hfl & %Hpv & -> & ->) & Hc' & Ht' & Htk & Hbs & [(Hdw' & HBc & >->)|>Hdp])]]".
  1,2: by iDestruct (pendingC_closed with "Hpc Hc") as %[].
  2: by iDestruct (pend_shot with "Hdp Hdw") as %[].
  iDestruct (own_valid_2 with "HP Hpw") as %[Hsub _]%auth_both_valid_discrete.
  apply gset_included in Hsub.
  iDestruct ("Hacc" $! g with "[%]") as "[#Hh|%Hg]"; [set_solver| |].
  2:{ exfalso. rewrite ids_nil in Hg. set_solver. }
  iModIntro. iSplitL; last done. iNext. iExists r, pv, fl, [], ∅, P, ∅.
  iFrame "Hhd Hr HP HB Hsl Hacc". iRight; iRight. iFrame "Hc' Ht' Htk Hbs".
  iSplit; first by iPureIntro. iLeft. by iFrame "Hdw' HBc".
Qed.

(** G7–G10 with the real G9: the timed waiter's [remove_abandoned] is the one above. *)
Lemma timed_wait_removing_spec γ γs γl γb (hd : loc) t n gl (expired : val) :
  {{{ is_task γ t ∗ inv Nr (rstack_inv γ γs γl γb hd) ∗
      inv (nroot .@ "futuretask" .@ "lnode") (lnode_inv γ n gl) ∗ pend (l_a gl) ∗ pend (l_f gl) ∗
      □ (∀ Ψ, ▷ (∀ b : bool, Ψ #b) -∗ WP expired #() {{ Ψ }}) }}}
    timed_wait t (node_val n) expired (λ: <>, remove_abandoned #hd)%V
  {{{ r, RET r; (∃ o, ⌜r = SOMEV (outc_val o)⌝ ∗ decided γ o ∗ terminal_w γ) ∨
                (shot (l_a gl) ∗ (⌜r = NONEV⌝ ∨ ∃ o, ⌜r = SOMEV (outc_val o)⌝ ∗ decided γ o)) }}}.
Proof.
  iIntros (Φ) "(#Htask & #Hinv & #Hn & Ha & Hf & #Hexp) HΦ".
  iApply (timed_wait_spec with "[$Htask $Hn $Ha $Hf $Hexp] HΦ").
  iIntros "!>" (Ψ) "HΨ". wp_pures. wp_apply (remove_abandoned_spec with "Hinv"). iIntros "_". done.
Qed.

(** The invariant is established by [new_stack] (empty, no flag, nothing pushed). *)
Lemma new_rstack_spec γ :
  {{{ True }}} new_stack #() {{{ (hd : loc) γs γl γb, RET #hd; inv Nr (rstack_inv γ γs γl γb hd) }}}.
Proof.
  iIntros (Φ) "_ HΦ". wp_lam. wp_alloc r as "Hr". wp_alloc hd as "Hhd".
  iMod (mapsto_persist with "Hr") as "#Hr".
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γc) "Hc"; first done.
  iMod (own_alloc (● (∅ : gset gname))) as (γP) "HP"; first by apply auth_auth_valid.
  iMod (ghost_var_alloc (∅ : gset gname)) as (γB) "[HB1 HB2]".
  iMod (own_alloc (Excl ())) as (γl) "Hl"; first done.
  iMod (ghost_var_alloc ((NONEV : val), (∅ : gset gname))) as (γb) "[Hb1 Hb2]".
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γD) "HD"; first done.
  iMod (inv_alloc Nr _ (rstack_inv γ (Sgn γc γP γB γD) γl γb hd) with "[-HΦ]") as "#Hinv".
  { iNext. iExists r, NONEV, 0%Z, [], ∅, ∅, ∅. iFrame "Hhd Hr HP HB1".
    iSplitL "HB2 HD"; first (iLeft; by iFrame).
    iSplitR; first (iIntros (g Hg); set_solver).
    iLeft. iFrame "Hl Hc". iSplit; first (iPureIntro; split; [by left | done]).
    iSplitL "Hb1 Hb2"; [iExists _; iFrame | done]. }
  iModIntro. by iApply "HΦ".
Qed.

End remover.
