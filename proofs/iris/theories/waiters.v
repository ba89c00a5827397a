(** * Stages 2 and 3 — the waiter stack (steps P, F, H, G5–G7) and callbacks (steps D)

    HeapLang transcription of push (P1–P3), the completer's drain (F1–F2, hand_off_batch
    H1–H5), the blocking get (G1, G2, G5–G7) and add_done_callback (D1–D2).

    Encoding of the head word: the head cell holds a location [r] of an immutable record
    [(ptr, flags)] allocated afresh for every head version ([r ↦□ (ptr, #flags)]); CAS compares
    the locations, so a CAS succeeds exactly when the head version is the one observed (the
    kernel's CAS on the packed word [ptr | flags]).  Flags use the kernel's bits (LOCKED=1,
    DIRTY=2, DRAINING=4, CLOSED=8, CALLBACKS=16: the nodes on the stack include a callback;
    a push keeps LOCKED|DIRTY|DRAINING|CALLBACKS and a callback's push sets CALLBACKS).
    F2 on the observed head: LOCKED → WaitForRemover (reload); empty → Close (CAS to CLOSED,
    return); nonempty without CALLBACKS → DetachClose (CAS to CLOSED, hand the batch off, then
    return); nonempty with CALLBACKS → Detach (CAS to DRAINING, hand off, loop).  A node is the tuple of its [next], [state] and [payload]
    cells and its (immutable) kind.  No remover exists before stage 4, so LOCKED/DIRTY are never
    set here; the completer's WaitForRemover branch is transcribed anyway. *)
From iris.algebra Require Import excl agree csum auth gset.
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
Notation CALLBACKS := 16%Z (only parsing).

Definition n_next : val := λ: "nd", Fst (Fst (Fst "nd")).
Definition n_state : val := λ: "nd", Snd (Fst (Fst "nd")).
Definition n_payload : val := λ: "nd", Snd (Fst "nd").
Definition n_iscb : val := λ: "nd", Snd "nd".

Definition new_stack : val := λ: <>, ref (ref (NONE, #0)).

(** [try_push] of protocol.rs on the flags: None when CLOSED, else the kept flags, with
    CALLBACKS set when the pushed node is a callback. *)
Definition try_push : val := λ: "fl" "cb",
  if: ("fl" `land` #CLOSED) = #0
  then SOME (("fl" `land` #(LOCKED + DIRTY + DRAINING + CALLBACKS))
             `lor` (if: "cb" then #CALLBACKS else #0))
  else NONE.

Definition push : val := λ: "hd" "nd",
  let: "h" := !"hd" in                                    (* [P1] *)
  (rec: "p2" "h" :=
     let: "hv" := !"h" in                                  (* (the observed version's record) *)
     match: try_push (Snd "hv") (n_iscb "nd") with
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
      if: ((Snd "hv") `land` #CALLBACKS) = #0 then
        let: "c" := ref (NONE, #CLOSED) in
        if: CAS "hd" "h" "c"                               (* [F2] DetachClose *)
        then hand_off_batch (SOME "top") NONE              (*      hand off, then return *)
        else "f1" "hd"
      else
        let: "d" := ref (NONE, #DRAINING) in
        if: CAS "hd" "h" "d"                               (* [F2] Detach *)
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

Class stackG Σ := StackG {
  stack_cG :> inG Σ (oneshotR unit);
  stack_pG :> inG Σ (authR (gsetUR gname));
  stack_bG :> ghost_varG Σ (gset gname);
}.
Definition stackΣ : gFunctors :=
  #[GFunctor (oneshotR unit); GFunctor (authR (gsetUR gname)); ghost_varΣ (gset gname)].

(** The stack's ghost names: CLOSED one-shot, the set of pushed nodes, the completer's batch,
    the "drain returned" one-shot. *)
Record sgn := Sgn { s_c : gname; s_P : gname; s_B : gname; s_D : gname }.
Definition ids (L : list node) : gset gname := list_to_set (n_g <$> L).
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

Definition pend (g : gname) : iProp Σ := own g (Cinl (Excl ()) : oneshotR unit).
Definition shot (g : gname) : iProp Σ := own g (Cinr (to_agree (() : leibnizO unit)) : oneshotR unit).
Lemma pend_excl g : pend g -∗ pend g -∗ False.
Proof. iIntros "H1 H2". by iDestruct (own_valid_2 with "H1 H2") as %?. Qed.
Lemma pend_shot g : pend g -∗ shot g -∗ False.
Proof. iIntros "H1 H2". by iDestruct (own_valid_2 with "H1 H2") as %?. Qed.
Lemma pend_shoot g : pend g ==∗ shot g.
Proof. apply own_update, cmra_update_exclusive. done. Qed.
Global Instance shot_persistent g : Persistent (shot g).
Proof. apply _. Qed.

Definition pendingC (γs : sgn) : iProp Σ := pend (s_c γs).
(** [closed_w]: the stack was CLOSED (persistent). *)
Definition closed_w (γs : sgn) : iProp Σ := shot (s_c γs).
(** A node's hand-off token ([pend]) and its persistent "handed off" witness ([shot]): a node is
    handed off at most once (one token), and [handed_w] records that it was. *)
Definition handed_w (g : gname) : iProp Σ := shot g.
(** [drained_w]: the completer's drain has returned, its last batch handed off (persistent);
    [drain_pend]: its one-shot token, held by the drainer (or the idle drain slot) until then. *)
Definition drained_w (γs : sgn) : iProp Σ := shot (s_D γs).
Definition drain_pend (γs : sgn) : iProp Σ := pend (s_D γs).
(** The flags of an open (not CLOSED) stack before stage 4: DRAINING and CALLBACKS. *)
Definition open_fl (fl : Z) : Prop := fl = 0%Z ∨ fl = DRAINING ∨ fl = CALLBACKS ∨ fl = 20%Z.
(** [pushed_w]: the node was linked by a successful P3 CAS. *)
Definition pushed_w (γs : sgn) (g : gname) : iProp Σ := own (s_P γs) (◯ ({[g]} : gset gname)).

Lemma ghost_var_three {A} `{!ghost_varG Σ A} γ (a b c : A) :
  ghost_var γ (1/2) a -∗ ghost_var γ (1/2) b -∗ ghost_var γ (1/2) c -∗ False.
Proof.
  iIntros "H1 H2 H3". iDestruct (ghost_var_agree with "H1 H2") as %->.
  iAssert (ghost_var γ (1/2 + 1/2) b)%I with "[H1 H2]" as "H".
  { iSplitL "H1"; iFrame. }
  iDestruct (ghost_var_valid_2 with "H H3") as %[Hq _].
  rewrite Qp.half_half in Hq. by apply Qp.not_add_le_l in Hq.
Qed.

(** Hand-off of a waiter node: WAITING (payload in the invariant) → NOTIFYING (the handler's
    token [pend (n_g n)] is deposited: at most one hand-off; the handler owns the payload
    cell) → DONE (handed off, task terminal, the payload cell given back to the owner's side:
    after H4 the handler touches the node no more). *)
Definition node_inv (γ : tgn) (n : node) : iProp Σ :=
  ∃ s : Z, n_ns n ↦ #s ∗
    ((⌜s = WAITING⌝ ∗ ∃ th, n_pl n ↦ th) ∨
     (⌜s = NOTIFYING⌝ ∗ pend (n_g n)) ∨
     (⌜s = DONE⌝ ∗ handed_w (n_g n) ∗ terminal_w γ ∗ ∃ v, n_pl n ↦ v)).

Definition node_own (γ : tgn) (n : node) : iProp Σ :=
  (pend (n_g n) ∗ if n_cb n then ∃ cb, n_pl n ↦ cb ∗ cb_wp γ cb
   else inv Nn (node_inv γ n))%I.

Fixpoint is_list (γ : tgn) (pv : val) (L : list node) : iProp Σ :=
  match L with
  | [] => ⌜pv = NONEV⌝
  | n :: L' => ∃ pv', ⌜pv = SOMEV (node_val n)⌝ ∗ n_nx n ↦ pv' ∗ node_own γ n ∗ is_list γ pv' L'
  end%I.

(** [P]: every node ever pushed; [B]: the completer's current batch.  Every pushed node is
    handed off, on the stack, or in the batch; CLOSED comes with an empty stack, and either
    [drained_w] and an empty batch, or (after a DetachClose, until the drain returns) the
    [drain_pend] token while the closing completer hands its last batch [B] off. *)
Definition stack_inv (γ : tgn) (γs : sgn) (hd : loc) : iProp Σ :=
  ∃ (r : loc) (pv : val) (fl : Z) (L : list node) (B P : gset gname),
    hd ↦ #r ∗ r ↦□ (pv, #fl)%V ∗ is_list γ pv L ∗
    own (s_P γs) (● P) ∗ ghost_var (s_B γs) (1/2) B ∗
    (∀ g, ⌜g ∈ P⌝ → handed_w g ∨ ⌜g ∈ ids L ∪ B⌝) ∗
    ((⌜open_fl fl⌝ ∗ pendingC γs ∗
        ((ghost_var (s_B γs) (1/2) B ∗ ⌜B = ∅⌝ ∗ drain_pend γs) ∨ drain_tok γ)) ∨
     (⌜fl = CLOSED ∧ L = []⌝ ∗ closed_w γs ∗ terminal_w γ ∗ drain_tok γ ∗
        ((drained_w γs ∗ ghost_var (s_B γs) (1/2) B ∗ ⌜B = ∅⌝) ∨ drain_pend γs))).

Definition is_stack (γ : tgn) (γs : sgn) (w : val) : iProp Σ :=
  ∃ hd : loc, ⌜w = #hd⌝ ∗ inv Ns (stack_inv γ γs hd).

Global Instance is_stack_persistent γ γs w : Persistent (is_stack γ γs w).
Proof. apply _. Qed.

(** What a load of the head tells: the version's record, and CLOSED comes with its witnesses. *)
Definition head_info (γ : tgn) (γs : sgn) (r : loc) : iProp Σ :=
  ∃ pv (fl : Z), r ↦□ (pv, #fl)%V ∗
    ((⌜open_fl fl⌝) ∨ (⌜fl = CLOSED⌝ ∗ closed_w γs ∗ terminal_w γ)).

Lemma pendingC_closed γs : pendingC γs -∗ closed_w γs -∗ False.
Proof. apply pend_shot. Qed.

Lemma new_stack_spec γ :
  {{{ True }}} new_stack #() {{{ w γs, RET w; is_stack γ γs w }}}.
Proof.
  iIntros (Φ) "_ HΦ". wp_lam. wp_alloc r as "Hr". wp_alloc hd as "Hhd".
  iMod (mapsto_persist with "Hr") as "#Hr".
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γc) "Hc"; first done.
  iMod (own_alloc (● (∅ : gset gname))) as (γP) "HP"; first by apply auth_auth_valid.
  iMod (ghost_var_alloc (∅ : gset gname)) as (γB) "[HB1 HB2]".
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γD) "HD"; first done.
  iMod (inv_alloc Ns _ (stack_inv γ (Sgn γc γP γB γD) hd) with "[-HΦ]") as "#Hinv".
  { iNext. iExists r, NONEV, 0%Z, [], ∅, ∅. iFrame "Hhd Hr HP HB1". iSplit; first done.
    iSplitR; first (iIntros (g Hg); set_solver).
    iLeft. iFrame "Hc". iSplit; first (iPureIntro; by left). iLeft. by iFrame. }
  iModIntro. iApply "HΦ". iExists hd. eauto.
Qed.

(** A push onto a CLOSED stack fails; a push that fails proves the stack CLOSED and the task
    terminal, and gives the node back; a push that succeeds records the node as pushed.
    [kc]: the caller already knows the stack is closed. *)
Lemma push_spec γ γs (hd : loc) (n : node) (v0 : val) (kc : bool) :
  {{{ inv Ns (stack_inv γ γs hd) ∗ n_nx n ↦ v0 ∗ node_own γ n ∗ (if kc then closed_w γs else True) }}}
    push #hd (node_val n)
  {{{ (b : bool), RET #b;
      if b then ⌜kc = false⌝ ∗ pushed_w γs (n_g n)
      else (∃ v, n_nx n ↦ v) ∗ node_own γ n ∗ closed_w γs ∗ terminal_w γ }}}.
Proof.
  iIntros (Φ) "(#Hinv & Hnx & Hown & Hkc) HΦ".
  wp_lam. wp_pures.
  wp_bind (Load _). iInv Ns as (r pv fl L B P) "(>Hhd & >#Hr & Hl & >HP & >HB & Hacc & >Hcase)".
  wp_load.
  iAssert (head_info γ γs r) as "#Hi".
  { iExists pv, fl. iFrame "Hr".
    iDestruct "Hcase" as "[[% _]|([% %] & #Hc & #Ht & _)]"; [iLeft; by iPureIntro | iRight; iFrame "Hc Ht"; by iPureIntro]. }
  iModIntro. iSplitL "Hhd Hl HP HB Hacc Hcase"; first (iNext; iExists r, pv, fl, L, B, P; by iFrame).
  wp_let. wp_closure. iClear "Hr". clear pv fl L B P.
  iLöb as "IH" forall (r v0) "Hi".
  iDestruct "Hi" as (pv fl) "[#Hr Hfl]".
  wp_pures. wp_load. wp_pures. rewrite /try_push /n_iscb.
  iDestruct "Hfl" as "[%Hfl|(-> & #Hc & #Ht)]".
  2:{ wp_pures. iApply "HΦ". iModIntro. iFrame "Hc Ht Hown". by iExists v0. }
  destruct Hfl as [-> | [-> | [-> | ->]]]; wp_pures; destruct (n_cb n); wp_pures.
  all: rewrite /n_next; wp_pures; wp_store; wp_alloc r' as "Hr'"; wp_pures.
  all: iMod (mapsto_persist with "Hr'") as "#Hr'".
  all: wp_bind (CmpXchg _ _ _); iInv Ns as (r0 pv0 fl0 L0 B0 P0) "(>Hhd & >#Hr0 & Hl & >HP & >HB & Hacc & >Hcase)".
  all: destruct (decide (r0 = r)) as [->|Hne].
  all: try (wp_cmpxchg_fail; iModIntro;
            iAssert (head_info γ γs r0) as "#Hi0";
            [ iExists pv0, fl0; iFrame "Hr0";
              iDestruct "Hcase" as "[[% _]|([% %] & #Hc & #Ht & _)]";
              [iLeft; by iPureIntro | iRight; iFrame "Hc Ht"; by iPureIntro]
            | ];
            iSplitL "Hhd Hl HP HB Hacc Hcase"; [iNext; iExists r0, pv0, fl0, L0, B0, P0; by iFrame|];
            wp_let; wp_proj; wp_if; wp_proj; by iApply ("IH" with "Hnx Hown Hkc HΦ")).
  all: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  all: iDestruct "Hcase" as "[[_ [Hpc Hslot]]|(%Hx & _)]";
       [| exfalso; destruct Hx as [Hx _]; discriminate Hx].
  all: destruct kc; [by iDestruct (pendingC_closed with "Hpc Hkc") as %[]|].
  all: wp_cmpxchg_suc.
  all: iMod (own_update _ _ (● (P0 ∪ {[n_g n]}) ⋅ ◯ (P0 ∪ {[n_g n]})) with "HP") as "[HP Hfrag]";
       [ apply auth_update_alloc, gset_local_update; set_solver | ].
  all: iDestruct (own_mono _ _ (◯ ({[n_g n]} : gset gname)) with "Hfrag") as "Hpw";
       [ apply auth_frag_mono, gset_included; set_solver | ].
  all: iModIntro.
  all: iSplitL "Hhd Hl Hpc Hslot Hnx Hown HP HB Hacc";
       [ iNext; iExists r', (SOMEV (node_val n)), _, (n :: L0), B0, (P0 ∪ {[n_g n]});
         iFrame "Hhd Hr' HP HB";
         iSplitL "Hl Hnx Hown"; [iExists pv; by iFrame|];
         iSplitL "Hacc";
         [ iIntros (g Hg); destruct (decide (g = n_g n)) as [->|Hgn];
           [ iRight; iPureIntro; rewrite /ids /=; set_solver
           | iDestruct ("Hacc" $! g with "[%]") as "[$|%]"; [set_solver|];
             iRight; iPureIntro; rewrite /ids /= in H |- *; set_solver ]
         | iLeft; iFrame "Hpc Hslot"; iPureIntro; rewrite /open_fl; compute; lia ] | ].
  all: wp_pures; iApply "HΦ"; by iFrame "Hpw".
Qed.

Lemma push_closed_spec γ (γs : sgn) hd n v0 :
  {{{ inv Ns (stack_inv γ γs hd) ∗ n_nx n ↦ v0 ∗ node_own γ n ∗ closed_w γs }}}
    push #hd (node_val n)
  {{{ RET #false; node_own γ n }}}.
Proof.
  iIntros (Φ) "(#Hinv & Hnx & Hown & #Hc) HΦ".
  wp_apply (push_spec _ _ _ _ _ true with "[$Hinv $Hnx $Hown $Hc]").
  iIntros ([]); first by iIntros "[% _]".
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
  {{{ inv Nn (node_inv γ n) ∗ pend (n_g n) }}} notify (node_val n)
  {{{ th, RET #(); n_pl n ↦ th }}}.
Proof.
  iIntros (Φ) "[#Hn Htok] HΦ". iLöb as "IH".
  wp_rec. rewrite /n_state. wp_pures.
  wp_bind (Load _). iInv Nn as (s) "(>Hs & >[[-> Hpl]|[[-> Htok']|(-> & #Hh & _)]])".
  2: by iDestruct (pend_excl with "Htok Htok'") as %[].
  2: by iDestruct (pend_shot with "Htok Hh") as %[].
  wp_load. iModIntro. iSplitL "Hs Hpl"; first (iNext; iExists _; iFrame "Hs"; iLeft; by iFrame).
  wp_pures.
  wp_bind (CmpXchg _ _ _). iInv Nn as (s) "(>Hs & >[[-> Hpl]|[[-> Htok']|(-> & #Hh & _)]])".
  2: by iDestruct (pend_excl with "Htok Htok'") as %[].
  2: by iDestruct (pend_shot with "Htok Hh") as %[].
  wp_cmpxchg_suc. iDestruct "Hpl" as (th) "Hpl". iModIntro.
  iSplitL "Hs Htok"; first (iNext; iExists _; iFrame "Hs"; iRight; iLeft; by iFrame).
  wp_pures. by iApply "HΦ".
Qed.

(** The completer's private callback list. *)
Fixpoint cbs_list (γ : tgn) (cbs : val) (C : list node) : iProp Σ :=
  match C with
  | [] => ⌜cbs = NONEV⌝
  | n :: C' => ∃ rest, ⌜cbs = SOMEV (node_val n, rest)⌝ ∗ pend (n_g n) ∗
                 (∃ cb, n_pl n ↦ cb ∗ cb_wp γ cb) ∗ cbs_list γ rest C'
  end%I.

(** I7: each callback of the list is called exactly once (its token is spent), with the
    outcome visible. *)
Lemma run_callbacks_spec γ cbs C :
  {{{ cbs_list γ cbs C ∗ terminal_w γ }}} run_callbacks cbs
  {{{ RET #(); [∗ list] n ∈ C, handed_w (n_g n) }}}.
Proof.
  iIntros (Φ) "[Hl #Ht] HΦ".
  iInduction C as [|n C] "IH" forall (cbs Φ); simpl.
  - iDestruct "Hl" as %->. wp_rec. wp_pures. by iApply "HΦ".
  - iDestruct "Hl" as (rest ->) "(Htok & Hc & Hl)". iDestruct "Hc" as (cb) "[Hpl Hcb]".
    iMod (pend_shoot with "Htok") as "#Hh".
    wp_rec. wp_pures. rewrite /n_payload. wp_pures. wp_load.
    wp_bind (cb #()). iApply (wp_wand with "(Hcb Ht)"). iIntros (?) "_".
    wp_pures. iApply ("IH" with "Hl"). iIntros "!> Hl". iApply "HΦ". by iFrame "Hh".
Qed.

(** H1–H5 over a detached batch: every waiter node is handed off (DONE, task terminal), every
    callback node queued and then run: all of them end [handed_w]. *)
Lemma hand_off_batch_spec γ l L cbs C :
  {{{ is_list γ l L ∗ cbs_list γ cbs C ∗ terminal_w γ }}} hand_off_batch l cbs
  {{{ RET #(); ([∗ list] n ∈ L, handed_w (n_g n)) ∗ [∗ list] n ∈ C, handed_w (n_g n) }}}.
Proof.
  iIntros (Φ) "(Hl & Hc & #Ht) HΦ".
  iInduction L as [|n L] "IH" forall (l cbs C Φ); simpl.
  - iDestruct "Hl" as %->. wp_rec. wp_pures. wp_apply (run_callbacks_spec with "[$Hc $Ht]").
    iIntros "HC". iApply "HΦ". by iFrame.
  - iDestruct "Hl" as (pv' ->) "(Hnx & Hown & Hl)".
    wp_rec. wp_pures. rewrite /n_next /n_iscb. wp_pures. wp_load. wp_pures.
    rewrite /node_own. iDestruct "Hown" as "[Htok Hown]". destruct (n_cb n) eqn:Hcb; wp_pures.
    + iApply ("IH" $! pv' (SOMEV (node_val n, cbs)) (n :: C) with "Hl [Hc Hown Htok]").
      { simpl. iExists cbs. iFrame. done. }
      iIntros "!> [HL [#Hh HC]]". iApply "HΦ". by iFrame "Hh HL HC".
    + iDestruct "Hown" as "#Hn".
      wp_apply (notify_spec with "[$Hn $Htok]"). iIntros (th) "Hpl".
      wp_pures. rewrite /n_payload. wp_pures. wp_load. wp_pures.
      rewrite /n_state. wp_pures.
      wp_bind (Store _ _). iInv Nn as (s) "(>Hs & >[[-> Hpl']|[[-> Htok]|(-> & #Hh & _ & Hpl')]])".
      { iDestruct "Hpl'" as (?) "Hpl'". by iDestruct (mapsto_ne with "Hpl Hpl'") as %?. }
      2:{ iDestruct "Hpl'" as (?) "Hpl'". by iDestruct (mapsto_ne with "Hpl Hpl'") as %?. }
      iMod (pend_shoot with "Htok") as "#Hh".
      wp_store; iModIntro;
        (iSplitL "Hs Hpl"; first (iNext; iExists _; iFrame "Hs"; iRight; iRight; iFrame "Hh Ht"; iSplit; [done|by iExists _])).
      wp_pures. iApply ("IH" with "Hl Hc"). iIntros "!> [HL HC]". iApply "HΦ". by iFrame "Hh HL HC".
Qed.

Lemma handed_all L :
  ([∗ list] n ∈ L, handed_w (n_g n)) -∗ ∀ g, ⌜g ∈ ids L⌝ → handed_w g.
Proof.
  iIntros "#HL" (g Hg). rewrite /ids elem_of_list_to_set elem_of_list_fmap in Hg.
  destruct Hg as [n [-> Hn]]. by iApply (big_sepL_elem_of with "HL").
Qed.

(** The completer's state between two F1 loads: still holding [drain_tok] (first round), or
    holding its half of the batch ghost variable with every node of the last batch handed off,
    and the [drain_pend] token. *)
Definition drainer (γ : tgn) (γs : sgn) : iProp Σ :=
  drain_tok γ ∨ ∃ B : gset gname, ghost_var (s_B γs) (1/2) B ∗ drain_pend γs ∗
    ∀ g, ⌜g ∈ B⌝ → handed_w g.

(** The drain (K4/C6): run once by the winner with the task terminal.  It hands off every
    batch; it closes the stack when it is empty (Close) or holds no callback (DetachClose: the
    batch detached by the closing CAS is handed off before the drain returns), and returns
    CLOSED with [drained_w]: every pushed node is then handed off ([closed_handed]). *)
Lemma drain_spec γ γs (hd : loc) :
  {{{ inv Ns (stack_inv γ γs hd) ∗ drainer γ γs ∗ terminal_w γ }}} drain #hd
  {{{ RET #(); closed_w γs ∗ drained_w γs }}}.
Proof.
  iIntros (Φ) "(#Hinv & Hdr & #Ht) HΦ". iLöb as "IH".
  wp_rec.
  wp_bind (Load _). iInv Ns as (r pv fl L B P) "(>Hhd & >#Hr & Hl & >HP & >HB & >Hacc & >Hcase)".
  (* normalise: our half of the batch variable at ∅ and [drain_pend] with us, the slot
     holding drain_tok *)
  iAssert (|==> ∃ B', ghost_var (s_B γs) (1/2) B' ∗ ghost_var (s_B γs) (1/2) (∅ : gset gname) ∗
             (∀ g, ⌜g ∈ P⌝ → handed_w g ∨ ⌜g ∈ ids L ∪ B'⌝) ∗
             ⌜open_fl fl⌝ ∗ pendingC γs ∗ drain_tok γ ∗ drain_pend γs)%I
    with "[Hdr HB Hacc Hcase]" as ">(%B' & HB & Hmine & Hacc & %Hfl & Hpc & Hslot & Hdp)".
  { iDestruct "Hcase" as "[(%Hfl & Hpc & Hslot)|(_ & _ & _ & Hdr' & Hcl)]".
    - iDestruct "Hdr" as "[Hdr|(%Bm & Hmine & Hdp & #Hall)]".
      + iDestruct "Hslot" as "[(Hmine & % & Hdp)|Hdr']"; last by iDestruct (tok_excl with "Hdr Hdr'") as %[].
        subst B. iModIntro. iExists ∅. iFrame. iPureIntro. done.
      + iDestruct "Hslot" as "[(HB' & _ & _)|Hslot]"; first by iDestruct (ghost_var_three with "HB HB' Hmine") as %[].
        iDestruct (ghost_var_agree with "HB Hmine") as %->.
        iMod (ghost_var_update_halves (∅ : gset gname) with "HB Hmine") as "[HB Hmine]".
        iModIntro. iExists ∅. iFrame. iSplitL; last done.
        iIntros (g Hg). iDestruct ("Hacc" $! g Hg) as "[$|%Hg']".
        destruct (decide (g ∈ Bm)) as [HgB|HgB]; [iLeft; by iApply "Hall"|].
        iRight. iPureIntro. set_solver.
    - iDestruct "Hdr" as "[Hdr|(%Bm & Hmine & Hdp & _)]".
      + by iDestruct (tok_excl with "Hdr Hdr'") as %[].
      + iDestruct "Hcl" as "[(_ & HBc & _)|Hdp']".
        * by iDestruct (ghost_var_three with "HB HBc Hmine") as %[].
        * by iDestruct (pend_excl with "Hdp Hdp'") as %[]. }
  wp_load. iDestruct (is_list_shape with "Hl") as "[Hl %Hshape]".
  iModIntro. iSplitL "Hhd Hl Hpc Hslot HP HB Hacc".
  { iNext; iExists r, pv, fl, L, B', P; iFrame "Hhd Hr Hl HP HB Hacc"; iLeft; iFrame "Hpc"; iSplit; [done|by iRight]. }
  wp_pures. wp_load. wp_pures.
  destruct Hfl as [-> | [-> | [-> | ->]]]; wp_pures.
  all: destruct Hshape as [-> | [n0 ->]]; wp_pures.
  (* goals: Close (1,3,5,7), DetachClose (2,4: no CALLBACKS), Detach (6,8) *)
  all: wp_alloc c as "Hc"; iMod (mapsto_persist with "Hc") as "#Hc"; wp_pures.
  all: wp_bind (CmpXchg _ _ _); iInv Ns as (r0 pv0 fl0 L0 B0 P0) "(>Hhd & >#Hr0 & Hl & >HP & >HB & Hacc & >Hcase)".
  all: destruct (decide (r0 = r)) as [->|Hne];
       [ | wp_cmpxchg_fail; iModIntro;
           (iSplitL "Hhd Hl HP HB Hacc Hcase"; first (iNext; iExists r0, pv0, fl0, L0, B0, P0; by iFrame));
           wp_pures; iApply ("IH" with "[Hmine Hdp] HΦ"); iRight; iExists ∅; iFrame; iIntros (g Hg); set_solver ].
  all: iDestruct (mapsto_agree with "Hr Hr0") as %[= <- <-].
  all: iDestruct "Hcase" as "[(_ & Hpc & Hslot)|(_ & _ & _ & _ & [(_ & HBc & _)|Hdp'])]";
       [ | by iDestruct (ghost_var_three with "HB HBc Hmine") as %[]
         | by iDestruct (pend_excl with "Hdp Hdp'") as %[] ].
  all: iDestruct "Hslot" as "[(HB' & _ & _)|Hslot]"; first by iDestruct (ghost_var_three with "HB HB' Hmine") as %[].
  all: iDestruct (ghost_var_agree with "HB Hmine") as %->.
  all: wp_cmpxchg_suc.
  (* [F2] Close: the empty stack becomes CLOSED, the drain returns with [drained_w] *)
  1,3,5,7: iDestruct (is_list_none with "Hl") as %->;
       iMod (pend_shoot with "Hpc") as "#Hcl"; iMod (pend_shoot with "Hdp") as "#Hdw"; iModIntro;
       iSplitL "Hhd Hslot HP HB Hacc Hmine";
       [ iNext; iExists c, NONEV, CLOSED, [], ∅, P0; iFrame "Hhd Hc HP HB Hacc"; simpl; iSplit; [done|];
         iRight; iFrame "Hcl Ht Hslot"; iSplit; [done|]; iLeft; by iFrame "Hdw Hmine"
       | wp_pures; iApply "HΦ"; by iFrame "Hcl Hdw" ].
  (* the list leaves the invariant and becomes the batch *)
  all: iMod (ghost_var_update_halves (ids L0) with "HB Hmine") as "[HB Hmine]".
  (* [F2] DetachClose: CLOSED with the batch pending ([drain_pend] inside); hand it off, then
     record [drained_w] *)
  1,2: iMod (pend_shoot with "Hpc") as "#Hcl"; iModIntro;
       iSplitL "Hhd Hslot HP HB Hacc Hdp";
       [ iNext; iExists c, NONEV, CLOSED, [], (ids L0), P0; iFrame "Hhd Hc HP HB"; simpl; iSplit; [done|];
         iSplitL "Hacc";
         [ iIntros (g Hg); iDestruct ("Hacc" $! g Hg) as "[$|%]"; iRight; iPureIntro; set_solver
         | iRight; iFrame "Hcl Ht Hslot Hdp"; done ] | ].
  1,2: wp_pures; iApply wp_fupd;
       wp_apply (hand_off_batch_spec _ _ L0 _ [] with "[$Hl $Ht]"); first done;
       iIntros "[#HL _]";
       iInv Ns as (r1 pv1 fl1 L1 B1 P1) "(>Hhd & >#Hr1 & Hl & >HP & >HB & >#Hacc & >Hcase)";
       iDestruct "Hcase" as "[(_ & Hpc & _)|([%Hfl1 ->] & _ & _ & Hslot & [(_ & HBc & _)|Hdp])]";
       [ by iDestruct (pendingC_closed with "Hpc Hcl") as %[]
       | by iDestruct (ghost_var_three with "HB HBc Hmine") as %[] | ];
       iDestruct (ghost_var_agree with "HB Hmine") as %->;
       iMod (ghost_var_update_halves (∅ : gset gname) with "HB Hmine") as "[HB Hmine]";
       iMod (pend_shoot with "Hdp") as "#Hdw";
       iDestruct (handed_all with "HL") as "#HL'";
       iModIntro; iSplitL "Hhd Hl HP HB Hslot Hmine";
       [ iNext; iExists r1, pv1, fl1, [], ∅, P1; iFrame "Hhd Hr1 Hl HP HB";
         iSplitR; [ iIntros (g Hg); iDestruct ("Hacc" $! g Hg) as "[$|%Hg']"; iLeft; iApply "HL'"; iPureIntro; set_solver |];
         iRight; iFrame "Hcl Ht Hslot"; iSplit; [done|]; iLeft; by iFrame "Hdw Hmine"
       | iModIntro; iApply "HΦ"; by iFrame "Hcl Hdw" ].
  (* [F2] Detach: an empty DRAINING stack stays; hand the batch off and loop *)
  all: iModIntro.
  all: iSplitL "Hhd Hpc Hslot HP HB Hacc";
       [ iNext; iExists c, NONEV, DRAINING, [], (ids L0), P0; iFrame "Hhd Hc HP HB"; simpl; iSplit; [done|];
         iSplitL "Hacc";
         [ iIntros (g Hg); iDestruct ("Hacc" $! g Hg) as "[$|%]"; iRight; iPureIntro; set_solver
         | iLeft; iFrame "Hpc"; iSplit; [iPureIntro; rewrite /open_fl; lia | by iRight] ] | ].
  all: wp_pures.
  all: wp_apply (hand_off_batch_spec _ _ L0 _ [] with "[$Hl $Ht]"); first done.
  all: iIntros "[#HL _]"; wp_pures; iApply ("IH" with "[Hmine Hdp] HΦ").
  all: iRight; iExists (ids L0); iFrame "Hmine Hdp"; by iApply handed_all.
Qed.

(** "Every node pushed before CLOSED is handed off": once the stack is CLOSED and the drain
    has returned ([drained_w]: a DetachClose hands its batch off after the CLOSED CAS), every
    node whose push succeeded has its [handed_w] witness (with the token, exactly once). *)
Lemma closed_handed γ γs hd g :
  inv Ns (stack_inv γ γs hd) -∗ closed_w γs -∗ drained_w γs -∗ pushed_w γs g ={⊤}=∗ handed_w g.
Proof.
  iIntros "#Hinv #Hc #Hdw Hpw".
  iInv Ns as (r pv fl L B P) "(>Hhd & >#Hr & Hl & >HP & >HB & >Hacc & >Hcase)".
  iDestruct "Hcase" as "[(_ & Hpc & _)|((%Hfl8 & ->) & Hc' & Ht' & Hslot & [(Hdw' & HBc & ->)|Hdp])]".
  { by iDestruct (pendingC_closed with "Hpc Hc") as %[]. }
  2:{ by iDestruct (pend_shot with "Hdp Hdw") as %[]. }
  iDestruct "Hacc" as "#Hacc".
  iDestruct (own_valid_2 with "HP Hpw") as %[Hsub _]%auth_both_valid_discrete.
  apply gset_included in Hsub.
  iDestruct ("Hacc" $! g with "[%]") as "[#Hh|%Hg]"; [set_solver| |set_solver].
  iModIntro. iSplitL; last done. iNext. iExists r, pv, fl, [], ∅, P.
  iFrame "Hhd Hr Hl HP HB Hacc". iRight. iFrame "Hc' Ht' Hslot". iSplit; first by iPureIntro.
  iLeft. by iFrame "Hdw' HBc".
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
  iDestruct "Hcase" as "[[-> Hpl]|[[-> Htok]|(-> & #Hh & #Ht & Hpl)]]".
  - wp_load. iModIntro. iSplitL "Hs Hpl"; first (iNext; iExists _; iFrame "Hs"; iLeft; by iFrame).
    wp_pures. by iApply ("IH" with "HΦ").
  - wp_load. iModIntro. iSplitL "Hs Htok"; first (iNext; iExists _; iFrame "Hs"; iRight; iLeft; by iFrame).
    wp_pures. by iApply ("IH" with "HΦ").
  - wp_load. iModIntro. iSplitL "Hs Hpl"; first (iNext; iExists _; iFrame "Hs"; iRight; iRight; by iFrame "Hh Ht Hpl").
    wp_pures. wp_apply (await_settled_spec with "Htask"). iIntros (o) "Hd".
    iApply "HΦ". by iFrame "Hd Ht".
Qed.

(** The task with its waiter stack. *)
Definition is_ft (γ : tgn) (γs : sgn) (t : val) : iProp Σ :=
  is_task γ t ∗ ∃ (a fc : val) (hd : loc), ⌜t = PairV (PairV a #hd) fc⌝ ∗ inv Ns (stack_inv γ γs hd).

Global Instance is_ft_persistent γ γs t : Persistent (is_ft γ γs t).
Proof. apply _. Qed.

(** get(): the outcome returned is the decided one (I2), for every path G1, G2, G6, G7. *)
Lemma get_spec γ γs t :
  {{{ is_ft γ γs t }}} get t {{{ o, RET outc_val o; decided γ o }}}.
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
  all: iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γn) "Htok"; first done.
  all: iMod (inv_alloc Nn _ (node_inv γ (Node nx ns pl false γn)) with "[Hns Hpl]") as "#Hn";
       [ iNext; iExists _; iFrame "Hns"; iLeft; iSplit; [done|]; by iExists _ | ].
  all: rewrite /t_waiters; wp_pures.
  all: wp_apply (push_spec γ γs hd (Node nx ns pl false γn) _ false with "[$Hinv $Hnx Htok]");
       [ rewrite /node_own /=; iFrame "Htok Hn"; done | ].
  all: iIntros ([]); [iIntros "_" | iIntros "_"]; wp_pures.
  all: try (wp_apply (wait_done_spec _ _ (Node nx ns pl false γn) with "[$Htask $Hn]");
            iIntros (o) "[Hd _]"; by iApply "HΦ").
  all: wp_apply (await_settled_spec with "Htask"); iIntros (o) "Hd"; by iApply "HΦ".
Qed.

(** D1/D2 (I7): the callback is handed either to the completer (pushed before CLOSED: it runs
    in the completer's drain, after the outcome is visible) or, if the push met CLOSED, run
    here, now, with the task terminal.  Its one-shot specification is used exactly once. *)
Lemma add_done_callback_spec γ γs t cb :
  {{{ is_ft γ γs t ∗ cb_wp γ cb }}} add_done_callback t cb {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "[[#Htask #Hs] Hcb] HΦ". iDestruct "Hs" as (a fc hd ->) "#Hinv".
  wp_lam. wp_alloc pl as "Hpl"; wp_alloc ns as "Hns"; wp_alloc nx as "Hnx"; wp_pures.
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γn) "Htok"; first done.
  rewrite /t_waiters; wp_pures.
  wp_apply (push_spec γ γs hd (Node nx ns pl true γn) _ false with "[$Hinv $Hnx Hpl Hcb Htok]").
  { rewrite /node_own /=. iFrame "Htok". iExists cb. iFrame. }
  iIntros ([]).
  - iIntros "_". wp_pures. by iApply "HΦ".
  - iIntros "(_ & Hown & _ & #Ht)". rewrite /node_own /=. iDestruct "Hown" as "[_ Hown]".
    iDestruct "Hown" as (cb') "[Hpl Hcb]".
    wp_pures.
    rewrite /n_payload. wp_pures. wp_load.
    wp_bind (cb' #()). iApply (wp_wand with "(Hcb Ht)"). iIntros (?) "_". wp_pures. by iApply "HΦ".
Qed.

(** The whole task: the stage-1 state word with the real drain as its [finish_completion]
    ([fc_spec] discharged by [drain_spec]). *)
Lemma new_futuretask_spec (f : val) :
  {{{ job_wp f }}} new_futuretask f {{{ t γ (γs : sgn), RET t; is_ft γ γs t }}}.
Proof.
  iIntros (Φ) "Hjob HΦ". wp_lam.
  iMod task_init_alloc as (γ) "Hinit".
  wp_apply (new_stack_spec γ with "[//]"). iIntros (w γs) "#Hs". iDestruct "Hs" as (hd ->) "#Hinv".
  wp_pures.
  wp_apply (new_task_spec γ f #hd drain with "[$Hinit $Hjob]").
  { iIntros "!>" (o pb Ψ) "Hdr #Hd #Hf HΨ".
    iApply (drain_spec with "[$Hinv Hdr]"); first (iSplitL; [by iLeft | iExists o, pb; by iFrame "Hd Hf"]).
    iNext. by iIntros "_". }
  iIntros (t) "[#Htask Ht]". iDestruct "Ht" as %[a ->].
  iApply "HΦ". iFrame "Htask". iExists a, drain, hd. eauto.
Qed.

End waiters.
