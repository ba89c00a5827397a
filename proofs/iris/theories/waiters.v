(** * Stages 2 and 3 — the waiter stack (steps P, F, H, G5–G7) and callbacks (steps D)

    HeapLang transcription of push (P1–P3), the completer's drain (F1–F2, hand_off_batch
    H1–H5), the blocking get (G1, G2, G5–G7) and add_done_callback (D1–D2).

    Encoding of the head word: the head cell holds a location [r] of an immutable record
    [(ptr, flags)] allocated afresh for every head version ([r ↦□ (ptr, #flags)]); CAS compares
    the locations, so a CAS succeeds exactly when the head version is the one observed (the
    kernel's CAS on the packed word [ptr | flags]).  Flags use the kernel's bits (LOCKED=1,
    DIRTY=2, DRAINING=4, CLOSED=8).  A node is the tuple of its [next], [state] and [payload]
    cells and its (immutable) kind.  No remover exists before stage 4, so LOCKED/DIRTY are never
    set here; the completer's WaitForRemover branch is transcribed anyway. *)
From iris.algebra Require Import excl agree csum.
From iris.base_logic.lib Require Import invariants ghost_var.
From iris.heap_lang Require Import lang proofmode notation.
From iris.prelude Require Import options.
From futuretask Require Import state_word operations.

Notation WAITING := 0%Z (only parsing).
Notation UPDATING := 1%Z (only parsing).
Notation ABANDONED := 2%Z (only parsing).
Notation NOTIFYING := 3%Z (only parsing).
Notation DONE := 4%Z (only parsing).
Notation LOCKED := 1%Z (only parsing).
Notation DIRTY := 2%Z (only parsing).
Notation DRAINING := 4%Z (only parsing).
Notation CLOSED := 8%Z (only parsing).

Definition n_next : val := λ: "nd", Fst (Fst (Fst "nd")).
Definition n_state : val := λ: "nd", Snd (Fst (Fst "nd")).
Definition n_payload : val := λ: "nd", Snd (Fst "nd").
Definition n_iscb : val := λ: "nd", Snd "nd".

Definition new_stack : val := λ: <>, ref (ref (NONE, #0)).

(** [try_push] of protocol.rs on the flags: None when CLOSED, else the kept flags. *)
Definition try_push : val := λ: "fl",
  if: ("fl" `land` #CLOSED) = #0 then SOME ("fl" `land` #(LOCKED + DIRTY + DRAINING)) else NONE.

Definition push : val := λ: "hd" "nd",
  let: "h" := !"hd" in                                    (* [P1] *)
  (rec: "p2" "h" :=
     let: "hv" := !"h" in                                  (* (the observed version's record) *)
     match: try_push (Snd "hv") with
       NONE => #false                                      (* [P2] Closed *)
     | SOME "fl" =>
         n_next "nd" <- Fst "hv" ;;                        (* [P2] node.next := head_ptr(h) *)
         let: "h'" := ref (SOME "nd", "fl") in
         let: "r" := CmpXchg "hd" "h" "h'" in              (* [P3] *)
         if: Snd "r" then #true else "p2" (Fst "r")
     end) "h".

(** H2: take exclusive access (node_try_notify), spinning while UPDATING. *)
Definition notify : val := rec: "h2" "nd" :=
  let: "n" := !(n_state "nd") in                          (* [H2] load *)
  if: "n" = #UPDATING then "h2" "nd"
  else if: ("n" = #WAITING) || ("n" = #ABANDONED) then
    (if: CAS (n_state "nd") "n" #NOTIFYING then #() else "h2" "nd")   (* [H2] CAS *)
  else #().

(** Run the private callback list (registration order). *)
Definition run_callbacks : val := rec: "rc" "cbs" :=
  match: "cbs" with
    NONE => #()
  | SOME "c" => (!(n_payload (Fst "c"))) #() ;; "rc" (Snd "c")
  end.

Definition hand_off_batch : val := rec: "hob" "l" "cbs" :=
  match: "l" with
    NONE => run_callbacks "cbs"        (* H6 omitted: sleepers spin on their node (see PROOF.md) *)
  | SOME "nd" =>
      let: "next" := !(n_next "nd") in                     (* [H1] *)
      if: n_iscb "nd" then "hob" "next" (SOME ("nd", "cbs"))   (* callback: prepend (FIFO) *)
      else
        notify "nd" ;;                                     (* [H2] *)
        let: "p" := !(n_payload "nd") in                   (* [H3] take the payload *)
        n_state "nd" <- #DONE ;;                           (* [H4] release *)
        (* [H5] wake(p): unpark is a no-op, the owner spins on its node *)
        "hob" "next" "cbs"
  end.

(** finish_completion: F1, F2. *)
Definition drain : val := rec: "f1" "hd" :=
  let: "h" := !"hd" in                                    (* [F1] *)
  let: "hv" := !"h" in
  if: ~ (((Snd "hv") `land` #LOCKED) = #0) then "f1" "hd"  (* [F2] WaitForRemover *)
  else match: Fst "hv" with
    NONE =>
      let: "c" := ref (NONE, #CLOSED) in
      if: CAS "hd" "h" "c" then #() else "f1" "hd"         (* [F2] Close *)
  | SOME "top" =>
      let: "d" := ref (NONE, #DRAINING) in
      if: CAS "hd" "h" "d"                                 (* [F2] Detach *)
      then hand_off_batch (SOME "top") NONE ;; "f1" "hd"
      else "f1" "hd"
  end.

(** G7 (untimed; the futex wait is modelled as spinning on the node). *)
Definition wait_done : val := rec: "g7" "t" "nd" :=
  let: "n" := !(n_state "nd") in                          (* [G7] *)
  if: "n" = #DONE then await_settled "t" else "g7" "t" "nd".

Definition get : val := λ: "t",
  let: "s" := !(t_state "t") in                           (* [G1] *)
  if: is_settled "s" then report "t" "s"
  else if: is_done_w "s" then await_settled "t"            (* [G2] *)
  else
    let: "nd" := (ref NONE, ref #WAITING, ref #(), #false) in   (* [G5] *)
    if: push (t_waiters "t") "nd" then wait_done "t" "nd"  (* [G6], [G7] *)
    else await_settled "t".                                 (* [G6] Closed *)

Definition add_done_callback : val := λ: "t" "cb",
  let: "nd" := (ref NONE, ref #WAITING, ref "cb", #true) in     (* [D1] *)
  if: push (t_waiters "t") "nd" then #()
  else (!(n_payload "nd")) #() ;; #().                       (* [D2] run it now, on this thread *)

(** The whole task: its waiter stack and drain. *)
Definition new_futuretask : val := λ: "f",
  let: "w" := new_stack #() in new_task "f" "w" drain.

(** ** Logic *)
Record node := Node { n_nx : loc; n_ns : loc; n_pl : loc; n_cb : bool; n_g : gname }.
Definition node_val (n : node) : val := (#(n_nx n), #(n_ns n), #(n_pl n), #(n_cb n)).

Class stackG Σ := StackG { stack_cG :> inG Σ (oneshotR unit) }.
Definition stackΣ : gFunctors := #[GFunctor (oneshotR unit)].
Global Instance subG_stackΣ {Σ} : subG stackΣ Σ → stackG Σ.
Proof. solve_inG. Qed.

Section waiters.
Context `{!heapGS Σ, !ftG Σ, !stackG Σ}.
Let Ns := nroot .@ "futuretask" .@ "stack".
Let Nn := nroot .@ "futuretask" .@ "node".

(** The task is terminal: outcome decided and terminal word published. *)
Definition terminal_w (γ : tgn) : iProp Σ := ∃ o pb, decided γ o ∗ final γ pb.
(** A callback's one-shot specification: it may run once, after the outcome is visible (I7). *)
Definition cb_wp (γ : tgn) (cb : val) : iProp Σ := terminal_w γ -∗ WP cb #() {{ _, True }}%I.

Definition pendingC (γc : gname) : iProp Σ := own γc (Cinl (Excl ()) : oneshotR unit).
(** [closed_w]: the stack was CLOSED (persistent). *)
Definition closed_w (γc : gname) : iProp Σ := own γc (Cinr (to_agree (() : leibnizO unit)) : oneshotR unit).

(** Hand-off of a waiter node: WAITING (payload in the invariant) → NOTIFYING (the handler's
    token [tok (n_g n)] is deposited: at most one hand-off) → DONE (task terminal). *)
Definition node_inv (γ : tgn) (n : node) : iProp Σ :=
  ∃ s : Z, n_ns n ↦ #s ∗
    ((⌜s = WAITING⌝ ∗ ∃ th, n_pl n ↦ th) ∨
     (⌜s = NOTIFYING⌝ ∗ tok (n_g n)) ∨
     (⌜s = DONE⌝ ∗ tok (n_g n) ∗ terminal_w γ)).

Definition node_own (γ : tgn) (n : node) : iProp Σ :=
  (if n_cb n then ∃ cb, n_pl n ↦ cb ∗ cb_wp γ cb
   else tok (n_g n) ∗ inv Nn (node_inv γ n))%I.

Fixpoint is_list (γ : tgn) (pv : val) (L : list node) : iProp Σ :=
  match L with
  | [] => ⌜pv = NONEV⌝
  | n :: L' => ∃ pv', ⌜pv = SOMEV (node_val n)⌝ ∗ n_nx n ↦ pv' ∗ node_own γ n ∗ is_list γ pv' L'
  end%I.

Definition stack_inv (γ : tgn) (γc : gname) (hd : loc) : iProp Σ :=
  ∃ (r : loc) (pv : val) (fl : Z) (L : list node),
    hd ↦ #r ∗ r ↦□ (pv, #fl)%V ∗ is_list γ pv L ∗
    ((⌜fl = 0%Z ∨ fl = DRAINING⌝ ∗ pendingC γc) ∨
     (⌜fl = CLOSED ∧ L = []⌝ ∗ closed_w γc ∗ terminal_w γ ∗ drain_tok γ)).

Definition is_stack (γ : tgn) (γc : gname) (w : val) : iProp Σ :=
  ∃ hd : loc, ⌜w = #hd⌝ ∗ inv Ns (stack_inv γ γc hd).

Global Instance is_stack_persistent γ γc w : Persistent (is_stack γ γc w).
Proof. apply _. Qed.

(** What a load of the head tells: the version's record, and CLOSED comes with its witnesses. *)
Definition head_info (γ : tgn) (γc : gname) (r : loc) : iProp Σ :=
  ∃ pv (fl : Z), r ↦□ (pv, #fl)%V ∗
    ((⌜fl = 0%Z ∨ fl = DRAINING⌝) ∨ (⌜fl = CLOSED⌝ ∗ closed_w γc ∗ terminal_w γ)).

Lemma pendingC_closed γc : pendingC γc -∗ closed_w γc -∗ False.
Proof. iIntros "H1 H2". by iDestruct (own_valid_2 with "H1 H2") as %?. Qed.

Lemma new_stack_spec γ :
  {{{ True }}} new_stack #() {{{ w γc, RET w; is_stack γ γc w }}}.
Proof.
  iIntros (Φ) "_ HΦ". wp_lam. wp_alloc r as "Hr". wp_alloc hd as "Hhd".
  iMod (mapsto_persist with "Hr") as "#Hr".
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γc) "Hc"; first done.
  iMod (inv_alloc Ns _ (stack_inv γ γc hd) with "[-HΦ]") as "#Hinv".
  { iNext. iExists r, NONEV, 0%Z, []. iFrame "Hhd Hr". iSplit; first done. iLeft. iFrame "Hc". iPureIntro. by left. }
  iModIntro. iApply "HΦ". iExists hd. eauto.
Qed.

(** A push onto a CLOSED stack fails; a push that fails proves the stack CLOSED and the task
    terminal, and gives the node back.  [kc]: the caller already knows the stack is closed. *)
Lemma push_spec γ γc (hd : loc) (n : node) (v0 : val) (kc : bool) :
  {{{ inv Ns (stack_inv γ γc hd) ∗ n_nx n ↦ v0 ∗ node_own γ n ∗ (if kc then closed_w γc else True) }}}
    push #hd (node_val n)
  {{{ (b : bool), RET #b;
      if b then ⌜kc = false⌝ else (∃ v, n_nx n ↦ v) ∗ node_own γ n ∗ closed_w γc ∗ terminal_w γ }}}.
Proof.
  iIntros (Φ) "(#Hinv & Hnx & Hown & Hkc) HΦ".
  wp_lam. wp_pures.
  wp_bind (Load _). iInv Ns as (r pv fl L) "(>Hhd & >#Hr & Hl & >Hcase)".
  wp_load.
  iAssert (head_info γ γc r) as "#Hi".
  { iExists pv, fl. iFrame "Hr".
    iDestruct "Hcase" as "[[% _]|([% %] & #Hc & #Ht & _)]"; [iLeft; by iPureIntro | iRight; iFrame "Hc Ht"; by iPureIntro]. }
  iModIntro. iSplitL "Hhd Hl Hcase"; first (iNext; iExists r, pv, fl, L; by iFrame).
  wp_let. wp_closure. iClear "Hr". clear pv fl L.
  iLöb as "IH" forall (r v0) "Hi".
  iDestruct "Hi" as (pv fl) "[#Hr Hfl]".
  wp_pures. wp_load. wp_pures. rewrite /try_push.
  iDestruct "Hfl" as "[%Hfl|(-> & #Hc & #Ht)]".
  2:{ wp_pures. iApply "HΦ". iModIntro. iFrame "Hc Ht Hown". by iExists v0. }
  assert (Hfl' : Z.land fl (LOCKED + DIRTY + DRAINING) = fl) by (destruct Hfl as [-> | ->]; done).
  destruct Hfl as [-> | ->]; wp_pures.
  all: rewrite /n_next; wp_pures; wp_store; wp_alloc r' as "Hr'"; wp_pures.
  all: iMod (mapsto_persist with "Hr'") as "#Hr'".
  all: wp_bind (CmpXchg _ _ _); iInv Ns as (r0 pv0 fl0 L0) "(>Hhd & >#Hr0 & Hl & >Hcase)".
  all: destruct (decide (r0 = r)) as [->|Hne].
  all: try (wp_cmpxchg_fail; iModIntro;
            iAssert (head_info γ γc r0) as "#Hi0";
            [ iExists pv0, fl0; iFrame "Hr0";
              iDestruct "Hcase" as "[[% _]|([% %] & #Hc & #Ht & _)]"; [iLeft; by iPureIntro | iRight; iFrame "Hc Ht"; by iPureIntro]
            | ];
            iSplitL "Hhd Hl Hcase"; [iNext; iExists r0, pv0, fl0, L0; by iFrame|];
            wp_let; wp_proj; wp_if; wp_proj; by iApply ("IH" with "Hnx Hown Hkc HΦ")).
  all: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  all: iDestruct "Hcase" as "[[_ Hpc]|(%Hx & _)]";
       [| exfalso; destruct Hx as [Hx _]; discriminate Hx].
  all: destruct kc; [by iDestruct (pendingC_closed with "Hpc Hkc") as %[]|].
  all: wp_cmpxchg_suc; iModIntro.
  all: iSplitL "Hhd Hl Hpc Hnx Hown";
       [ iNext; iExists r', (SOMEV (node_val n)), _, (n :: L0); iFrame "Hhd Hr'";
         iSplitL "Hl Hnx Hown"; [iExists pv; by iFrame|]; iLeft; iFrame "Hpc"; iPureIntro; eauto | ].
  all: wp_pures; by iApply "HΦ".
Qed.

Lemma push_closed_spec γ γc hd n v0 :
  {{{ inv Ns (stack_inv γ γc hd) ∗ n_nx n ↦ v0 ∗ node_own γ n ∗ closed_w γc }}}
    push #hd (node_val n)
  {{{ RET #false; node_own γ n }}}.
Proof.
  iIntros (Φ) "(#Hinv & Hnx & Hown & #Hc) HΦ".
  wp_apply (push_spec _ _ _ _ _ true with "[$Hinv $Hnx $Hown $Hc]").
  iIntros ([]); first by iIntros (?).
  iIntros "(_ & Hown & _)". by iApply "HΦ".
Qed.

Global Instance terminal_w_persistent γ : Persistent (terminal_w γ).
Proof. apply _. Qed.

Lemma is_list_shape γ pv L :
  is_list γ pv L -∗ is_list γ pv L ∗ ⌜pv = NONEV ∨ ∃ n, pv = SOMEV (node_val n)⌝.
Proof.
  destruct L as [|n L]; simpl.
  - iIntros "%". iSplit; first done. iPureIntro. by left.
  - iIntros "H". iDestruct "H" as (pv') "(% & H)". iSplitL; first (iExists pv'; by iFrame).
    iPureIntro. right. by exists n.
Qed.

Lemma is_list_none γ L : is_list γ NONEV L -∗ ⌜L = []⌝.
Proof. destruct L; simpl; first by iIntros. iIntros "H". by iDestruct "H" as (?) "(% & _)". Qed.

(** H2: the handler holding the node's token takes it from WAITING to NOTIFYING — at most one
    hand-off per node, since the token is deposited in the node's invariant. *)
Lemma notify_spec γ n :
  {{{ inv Nn (node_inv γ n) ∗ tok (n_g n) }}} notify (node_val n)
  {{{ th, RET #(); n_pl n ↦ th }}}.
Proof.
  iIntros (Φ) "[#Hn Htok] HΦ". iLöb as "IH".
  wp_rec. rewrite /n_state. wp_pures.
  wp_bind (Load _). iInv Nn as (s) "(>Hs & >[[-> Hpl]|[[-> Htok']|(-> & Htok' & _)]])".
  2,3: by iDestruct (tok_excl with "Htok Htok'") as %[].
  wp_load. iModIntro. iSplitL "Hs Hpl"; first (iNext; iExists _; iFrame "Hs"; iLeft; by iFrame).
  wp_pures.
  wp_bind (CmpXchg _ _ _). iInv Nn as (s) "(>Hs & >[[-> Hpl]|[[-> Htok']|(-> & Htok' & _)]])".
  2,3: by iDestruct (tok_excl with "Htok Htok'") as %[].
  wp_cmpxchg_suc. iDestruct "Hpl" as (th) "Hpl". iModIntro.
  iSplitL "Hs Htok"; first (iNext; iExists _; iFrame "Hs"; iRight; iLeft; by iFrame).
  wp_pures. by iApply "HΦ".
Qed.

(** The completer's private callback list. *)
Fixpoint cbs_list (γ : tgn) (cbs : val) (C : list node) : iProp Σ :=
  match C with
  | [] => ⌜cbs = NONEV⌝
  | n :: C' => ∃ rest, ⌜cbs = SOMEV (node_val n, rest)⌝ ∗
                 (∃ cb, n_pl n ↦ cb ∗ cb_wp γ cb) ∗ cbs_list γ rest C'
  end%I.

(** I7: each callback of the list is called exactly once, with the outcome visible. *)
Lemma run_callbacks_spec γ cbs C :
  {{{ cbs_list γ cbs C ∗ terminal_w γ }}} run_callbacks cbs {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "[Hl #Ht] HΦ".
  iInduction C as [|n C] "IH" forall (cbs); simpl.
  - iDestruct "Hl" as %->. wp_rec. wp_pures. by iApply "HΦ".
  - iDestruct "Hl" as (rest ->) "[Hc Hl]". iDestruct "Hc" as (cb) "[Hpl Hcb]".
    wp_rec. wp_pures. rewrite /n_payload. wp_pures. wp_load.
    wp_bind (cb #()). iApply (wp_wand with "(Hcb Ht)"). iIntros (?) "_".
    wp_pures. by iApply ("IH" with "Hl").
Qed.

(** H1–H5 over a detached batch: every waiter node reaches DONE (with the task terminal),
    every callback node is queued, then the queue runs. *)
Lemma hand_off_batch_spec γ l L cbs C :
  {{{ is_list γ l L ∗ cbs_list γ cbs C ∗ terminal_w γ }}} hand_off_batch l cbs
  {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "(Hl & Hc & #Ht) HΦ".
  iInduction L as [|n L] "IH" forall (l cbs C); simpl.
  - iDestruct "Hl" as %->. wp_rec. wp_pures. by wp_apply (run_callbacks_spec with "[$Hc $Ht]").
  - iDestruct "Hl" as (pv' ->) "(Hnx & Hown & Hl)".
    wp_rec. wp_pures. rewrite /n_next /n_iscb. wp_pures. wp_load. wp_pures.
    rewrite /node_own. destruct (n_cb n) eqn:Hcb; wp_pures.
    + iApply ("IH" $! pv' (SOMEV (node_val n, cbs)) (n :: C) with "Hl [Hc Hown] HΦ").
      simpl. iExists cbs. iFrame. done.
    + iDestruct "Hown" as "[Htok #Hn]".
      wp_apply (notify_spec with "[$Hn $Htok]"). iIntros (th) "Hpl".
      wp_pures. rewrite /n_payload. wp_pures. wp_load. wp_pures.
      rewrite /n_state. wp_pures.
      wp_bind (Store _ _). iInv Nn as (s) "(>Hs & >[[-> Hpl']|[[-> Htok]|(-> & Htok & _)]])".
      { iDestruct "Hpl'" as (?) "Hpl'". by iDestruct (mapsto_ne with "Hpl Hpl'") as %?. }
      all: wp_store; iModIntro;
           (iSplitL "Hs Htok"; first (iNext; iExists _; iFrame "Hs"; iRight; iRight; by iFrame "Htok Ht")).
      all: wp_pures; by iApply ("IH" with "Hl Hc HΦ").
Qed.

(** The drain (K4/C6): run once by the winner with the task terminal.  It closes the stack only
    when it is empty (every node pushed before CLOSED was in a detached batch), and it never
    returns before CLOSED. *)
Lemma drain_spec γ γc (hd : loc) :
  {{{ inv Ns (stack_inv γ γc hd) ∗ drain_tok γ ∗ terminal_w γ }}} drain #hd
  {{{ RET #(); closed_w γc }}}.
Proof.
  iIntros (Φ) "(#Hinv & Hdr & #Ht) HΦ". iLöb as "IH".
  wp_rec.
  wp_bind (Load _). iInv Ns as (r pv fl L) "(>Hhd & >#Hr & Hl & >Hcase)".
  iDestruct "Hcase" as "[[%Hfl Hpc]|(_ & _ & _ & Hdr')]".
  2:{ by iDestruct (tok_excl with "Hdr Hdr'") as %[]. }
  wp_load. iDestruct (is_list_shape with "Hl") as "[Hl %Hshape]".
  iModIntro. iSplitL "Hhd Hl Hpc"; first (iNext; iExists r, pv, fl, L; iFrame "Hhd Hr Hl"; iLeft; by iFrame).
  wp_pures. wp_load. wp_pures.
  destruct Hfl as [-> | ->]; wp_pures.
  all: destruct Hshape as [-> | [n0 ->]]; wp_pures.
  (* Close *)
  1,3: wp_alloc c as "Hc"; iMod (mapsto_persist with "Hc") as "#Hc"; wp_pures.
  1,2: wp_bind (CmpXchg _ _ _); iInv Ns as (r0 pv0 fl0 L0) "(>Hhd & >#Hr0 & Hl & >Hcase)".
  1,2: destruct (decide (r0 = r)) as [->|Hne];
       [ | wp_cmpxchg_fail; iModIntro; (iSplitL "Hhd Hl Hcase"; first (iNext; iExists r0, pv0, fl0, L0; by iFrame));
           wp_pures; by iApply ("IH" with "Hdr HΦ") ].
  1,2: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  1,2: iDestruct "Hcase" as "[[_ Hpc]|(_ & _ & _ & Hdr')]";
       [ | by iDestruct (tok_excl with "Hdr Hdr'") as %[] ].
  1,2: wp_cmpxchg_suc.
  1,2: iDestruct (is_list_none with "Hl") as %->.
  1,2: iMod (own_update _ _ (Cinr (to_agree (() : leibnizO unit)) : oneshotR unit) with "Hpc") as "#Hcl";
       [ by apply cmra_update_exclusive | ].
  1,2: iModIntro.
  1,2: iSplitL "Hhd Hdr"; [ iNext; iExists c, NONEV, CLOSED, []; iFrame "Hhd Hc"; simpl; iSplit; [done|];
                            iRight; iFrame "Hcl Ht Hdr"; done | ].
  1,2: wp_pures; by iApply "HΦ".
  (* Detach *)
  all: wp_alloc d as "Hd"; iMod (mapsto_persist with "Hd") as "#Hd"; wp_pures.
  all: wp_bind (CmpXchg _ _ _); iInv Ns as (r0 pv0 fl0 L0) "(>Hhd & >#Hr0 & Hl & >Hcase)".
  all: destruct (decide (r0 = r)) as [->|Hne];
       [ | wp_cmpxchg_fail; iModIntro; (iSplitL "Hhd Hl Hcase"; first (iNext; iExists r0, pv0, fl0, L0; by iFrame));
           wp_pures; by iApply ("IH" with "Hdr HΦ") ].
  all: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  all: iDestruct "Hcase" as "[[_ Hpc]|(_ & _ & _ & Hdr')]";
       [ | by iDestruct (tok_excl with "Hdr Hdr'") as %[] ].
  all: wp_cmpxchg_suc; iModIntro.
  all: iSplitL "Hhd Hpc"; [ iNext; iExists d, NONEV, DRAINING, []; iFrame "Hhd Hd"; simpl; iSplit; [done|];
                            iLeft; iFrame "Hpc"; iPureIntro; by right | ].
  all: wp_pures.
  all: wp_apply (hand_off_batch_spec _ _ L0 _ [] with "[$Hl $Ht]"); first done.
  all: iIntros "_"; wp_pures; by iApply ("IH" with "Hdr HΦ").
Qed.

(** The safety half of I3: a waiter leaves G7 only with its node DONE, i.e. the task terminal,
    and then returns the winner's outcome. *)
Lemma wait_done_spec γ t n :
  {{{ is_task γ t ∗ inv Nn (node_inv γ n) }}} wait_done t (node_val n)
  {{{ o, RET outc_val o; decided γ o ∗ terminal_w γ }}}.
Proof.
  iIntros (Φ) "[#Htask #Hn] HΦ". iLöb as "IH".
  wp_rec. rewrite /n_state. wp_pures.
  wp_bind (Load _). iInv Nn as (s) "(>Hs & >Hcase)".
  iDestruct "Hcase" as "[[-> Hpl]|[[-> Htok]|(-> & Htok & #Ht)]]".
  - wp_load. iModIntro. iSplitL "Hs Hpl"; first (iNext; iExists _; iFrame "Hs"; iLeft; by iFrame).
    wp_pures. by iApply ("IH" with "HΦ").
  - wp_load. iModIntro. iSplitL "Hs Htok"; first (iNext; iExists _; iFrame "Hs"; iRight; iLeft; by iFrame).
    wp_pures. by iApply ("IH" with "HΦ").
  - wp_load. iModIntro. iSplitL "Hs Htok"; first (iNext; iExists _; iFrame "Hs"; iRight; iRight; by iFrame "Htok Ht").
    wp_pures. wp_apply (await_settled_spec with "Htask"). iIntros (o) "Hd".
    iApply "HΦ". by iFrame "Hd Ht".
Qed.

(** The task with its waiter stack. *)
Definition is_ft (γ : tgn) (γc : gname) (t : val) : iProp Σ :=
  is_task γ t ∗ ∃ (a fc : val) (hd : loc), ⌜t = PairV (PairV a #hd) fc⌝ ∗ inv Ns (stack_inv γ γc hd).

Global Instance is_ft_persistent γ γc t : Persistent (is_ft γ γc t).
Proof. apply _. Qed.

(** get(): the outcome returned is the decided one (I2), for every path G1, G2, G6, G7. *)
Lemma get_spec γ γc t :
  {{{ is_ft γ γc t }}} get t {{{ o, RET outc_val o; decided γ o }}}.
Proof.
  iIntros (Φ) "[#Htask #Hs] HΦ". iDestruct "Hs" as (a fc hd ->) "#Hinv".
  wp_lam.
  wp_apply (load_state_spec with "Htask"). iIntros (p b) "#Hseen".
  rewrite /is_settled /is_done_w /phase_of.
  destruct (decide (p = PNew)) as [->|Hne].
  2:{ destruct (settled p) eqn:Hs.
      - destruct p; try done; destruct b; rewrite /enc /=; wp_pures.
        all: wp_apply (report_spec with "[$Htask $Hseen]"); [done|].
        all: iIntros (o) "[Hd _]"; by iApply "HΦ".
      - destruct p; try done; destruct b; rewrite /enc /=; wp_pures.
        all: wp_apply (await_settled_spec with "Htask"); iIntros (o) "Hd"; by iApply "HΦ". }
  destruct b; rewrite /enc /=; wp_pures.
  all: wp_alloc pl as "Hpl"; wp_alloc ns as "Hns"; wp_alloc nx as "Hnx"; wp_pures.
  all: iMod (own_alloc (Excl ())) as (γn) "Htok"; first done.
  all: iMod (inv_alloc Nn _ (node_inv γ (Node nx ns pl false γn)) with "[Hns Hpl]") as "#Hn";
       [ iNext; iExists _; iFrame "Hns"; iLeft; iSplit; [done|]; by iExists _ | ].
  all: rewrite /t_waiters; wp_pures.
  all: wp_apply (push_spec γ γc hd (Node nx ns pl false γn) _ false with "[$Hinv $Hnx $Htok $Hn]").
  all: iIntros ([]); [iIntros "_" | iIntros "_"]; wp_pures.
  all: try (wp_apply (wait_done_spec _ _ (Node nx ns pl false γn) with "[$Htask $Hn]");
            iIntros (o) "[Hd _]"; by iApply "HΦ").
  all: wp_apply (await_settled_spec with "Htask"); iIntros (o) "Hd"; by iApply "HΦ".
Qed.

(** D1/D2 (I7): the callback is handed either to the completer (pushed before CLOSED: it runs
    in the completer's drain, after the outcome is visible) or, if the push met CLOSED, run
    here, now, with the task terminal.  Its one-shot specification is used exactly once. *)
Lemma add_done_callback_spec γ γc t cb :
  {{{ is_ft γ γc t ∗ cb_wp γ cb }}} add_done_callback t cb {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "[[#Htask #Hs] Hcb] HΦ". iDestruct "Hs" as (a fc hd ->) "#Hinv".
  wp_lam. wp_alloc pl as "Hpl"; wp_alloc ns as "Hns"; wp_alloc nx as "Hnx"; wp_pures.
  iMod (own_alloc (Excl ())) as (γn) "_"; first done.
  rewrite /t_waiters; wp_pures.
  wp_apply (push_spec γ γc hd (Node nx ns pl true γn) _ false with "[$Hinv $Hnx Hpl Hcb]").
  { rewrite /node_own /=. iSplit; last done. iExists cb. iFrame. }
  iIntros ([]).
  - iIntros "_". wp_pures. by iApply "HΦ".
  - iIntros "(_ & Hown & _ & #Ht)". rewrite /node_own /=. iDestruct "Hown" as (cb') "[Hpl Hcb]".
    wp_pures.
    rewrite /n_payload. wp_pures. wp_load.
    wp_bind (cb' #()). iApply (wp_wand with "(Hcb Ht)"). iIntros (?) "_". wp_pures. by iApply "HΦ".
Qed.

(** The whole task: the stage-1 state word with the real drain as its [finish_completion]
    ([fc_spec] discharged by [drain_spec]). *)
Lemma new_futuretask_spec (f : val) :
  {{{ job_wp f }}} new_futuretask f {{{ t γ γc, RET t; is_ft γ γc t }}}.
Proof.
  iIntros (Φ) "Hjob HΦ". wp_lam.
  iMod task_init_alloc as (γ) "Hinit".
  wp_apply (new_stack_spec γ with "[//]"). iIntros (w γc) "#Hs". iDestruct "Hs" as (hd ->) "#Hinv".
  wp_pures.
  wp_apply (new_task_spec γ f #hd drain with "[$Hinit $Hjob]").
  { iIntros "!>" (o pb Ψ) "Hdr #Hd #Hf HΨ".
    iApply (drain_spec with "[$Hinv $Hdr]"); first (iExists o, pb; by iFrame "Hd Hf").
    iNext. by iIntros "_". }
  iIntros (t) "[#Htask Ht]". iDestruct "Ht" as %[a ->].
  iApply "HΦ". iFrame "Htask". iExists a, drain, hd. eauto.
Qed.

End waiters.
