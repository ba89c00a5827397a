(** * Stage 1 — the state word (proofs/ALGORITHM.md: R*, K*, C*, G1–G3)

    A HeapLang transcription of [run], [complete] (run's finish, [set], [fail]), [cancel],
    [get] (its state-word part), [is_done] and [state], step for step.  Every HeapLang step
    carries its ALGORITHM.md label in a comment.  The decision functions are those of
    [kernel/src/protocol.rs], on the same integer encoding (bits 0..2 phase, bit 3 STARTED).

    The completer's drain (K4/C6 [finish_completion]) is the value [fc] stored in the task;
    this file proves the state-word protocol for ANY [fc] that satisfies [fc_spec] below (it is
    a hypothesis carried by [is_task], never an axiom); [waiters.v] supplies the real one. *)
From iris.algebra Require Import excl agree csum.
From iris.base_logic.lib Require Import invariants ghost_var.
From iris.heap_lang Require Import lang proofmode notation.
From iris.prelude Require Import options.

Notation "e1 `land` e2" := (BinOp AndOp e1%E e2%E) (at level 40) : expr_scope.
Notation "e1 `lor` e2" := (BinOp OrOp e1%E e2%E) (at level 40) : expr_scope.

(** ** Encodings (kernel/src/protocol.rs) *)
Notation NEW := 0%Z (only parsing).
Notation COMPLETING := 1%Z (only parsing).
Notation NORMAL := 2%Z (only parsing).
Notation EXCEPTIONAL := 3%Z (only parsing).
Notation CANCELLED := 4%Z (only parsing).
Notation INTERRUPTING := 5%Z (only parsing).
Notation INTERRUPTED := 6%Z (only parsing).
Notation STARTED := 8%Z (only parsing).
Notation PHASE_MASK := 7%Z (only parsing).

Definition phase_of : val := λ: "s", "s" `land` #PHASE_MASK.
Definition try_start : val := λ: "s",
  if: "s" = #NEW then SOME (#NEW `lor` #STARTED) else NONE.
Definition try_begin_complete : val := λ: "s",
  if: phase_of "s" = #NEW then SOME (("s" `land` #STARTED) `lor` #COMPLETING) else NONE.
Definition finish_complete : val := λ: "s" "ok",
  ("s" `land` #STARTED) `lor` (if: "ok" then #NORMAL else #EXCEPTIONAL).
Definition try_cancel : val := λ: "s" "intr",
  if: phase_of "s" = #NEW
  then SOME (("s" `land` #STARTED) `lor` (if: "intr" then #INTERRUPTING else #CANCELLED))
  else NONE.
Definition finish_interrupt : val := λ: "s", ("s" `land` #STARTED) `lor` #INTERRUPTED.
Definition is_done_w : val := λ: "s", ~ (phase_of "s" = #NEW).
Definition is_settled : val := λ: "s",
  let: "p" := phase_of "s" in (~ ("p" = #NEW)) && (~ ("p" = #COMPLETING)).

(** ** The task: (state, outcome, runner, job, waiters, fc) *)
Definition t_state : val := λ: "t", Fst (Fst (Fst (Fst (Fst "t")))).
Definition t_out : val := λ: "t", Snd (Fst (Fst (Fst (Fst "t")))).
Definition t_runner : val := λ: "t", Snd (Fst (Fst (Fst "t"))).
Definition t_job : val := λ: "t", Snd (Fst (Fst "t")).
Definition t_waiters : val := λ: "t", Snd (Fst "t").
Definition t_fc : val := λ: "t", Snd "t".

Definition new_task : val := λ: "f" "w" "fc",
  (ref #NEW, ref #(), ref #(), ref "f", "w", "fc").

(** finish_completion (K4 / C6): call the drain stored in the task. *)
Definition finish_completion : val := λ: "t", (t_fc "t") (t_waiters "t").

(** complete(ok, v): K1..K4.  Returns whether this completion won. *)
Definition complete : val := λ: "t" "ok" "v",
  let: "st" := t_state "t" in
  let: "s" := !"st" in                                    (* [K1] load *)
  (rec: "k1" "s" :=
     match: try_begin_complete "s" with
       NONE => #false                                      (* [K1] lost: never overwrite *)
     | SOME "n" =>
         let: "r" := CmpXchg "st" "s" "n" in               (* [K1] CAS *)
         if: Snd "r" then
           t_out "t" <- "v" ;;                             (* [K2] outcome write *)
           "st" <- finish_complete "n" "ok" ;;             (* [K3] publish *)
           finish_completion "t" ;;                        (* [K4] *)
           #true
         else "k1" (Fst "r")
     end) "s".

Definition set : val := λ: "t" "v", complete "t" #true "v".
Definition fail : val := λ: "t" "e", complete "t" #false "e".

(** R7: wait out INTERRUPTING (park/yield modelled as spinning). *)
Definition wait_interrupt : val := rec: "w" "t" :=
  let: "s" := !(t_state "t") in                           (* [R7] *)
  if: phase_of "s" = #INTERRUPTING then "w" "t" else #().

(** run(): R1..R8.  The closure returns [InjL v] (a value) or [InjR e] (a caught panic). *)
Definition run : val := λ: "t" "me",
  let: "st" := t_state "t" in
  let: "s" := !"st" in                                    (* [R1] *)
  (rec: "r2" "s" :=
     match: try_start "s" with
       NONE => #false                                      (* [R2] refused *)
     | SOME "n" =>
         let: "r" := CmpXchg "st" "s" "n" in               (* [R2] claim CAS *)
         if: Snd "r" then
           t_runner "t" <- "me" ;;                         (* [R3] (+ fence: SC) *)
           let: "res" := (!(t_job "t")) #() in             (* [R4] the closure *)
           let: "won" := match: "res" with
                            InjL "v" => complete "t" #true "v"     (* [R5] *)
                          | InjR "e" => complete "t" #false "e"    (* [R5] *)
                          end in
           t_runner "t" <- #() ;;                          (* [R6] *)
           (if: "won" then #() else wait_interrupt "t") ;; (* [R7]; [R8] no permit in SC *)
           #true
         else "r2" (Fst "r")
     end) "s".

(** cancel(interrupt): C1..C6. *)
Definition cancel : val := λ: "t" "intr",
  let: "st" := t_state "t" in
  let: "s" := !"st" in                                    (* [C1] load *)
  (rec: "c1" "s" :=
     match: try_cancel "s" "intr" with
       NONE => #false
     | SOME "n" =>
         let: "r" := CmpXchg "st" "s" "n" in               (* [C1] CAS *)
         if: Snd "r" then
           (if: "intr" then
              (* [C2] fence(SeqCst): a no-op under HeapLang's SC semantics *)
              let: "th" := !(t_runner "t") in              (* [C3] *)
              (if: "th" = #() then #() else #()) ;;        (* [C4] unpark: no-op (spinning) *)
              "st" <- finish_interrupt "n"                 (* [C5] *)
            else #()) ;;
           finish_completion "t" ;;                        (* [C6] *)
           #true
         else "c1" (Fst "r")
     end) "s".

(** Reading the outcome of a settled state word. *)
Definition report : val := λ: "t" "s",
  let: "p" := phase_of "s" in
  if: "p" = #NORMAL then InjL (!(t_out "t"))
  else if: "p" = #EXCEPTIONAL then InjR (InjL (!(t_out "t")))
  else InjR (InjR #()).

(** G1 + G2: the outcome once the task is done (spins through COMPLETING / INTERRUPTING). *)
Definition await_settled : val := rec: "g" "t" :=
  let: "s" := !(t_state "t") in                           (* [G1] / [G2] *)
  if: is_settled "s" then report "t" "s" else "g" "t".

(** get_timeout with an expired deadline: G1, G2, G3. *)
Definition get_now : val := λ: "t",
  let: "s" := !(t_state "t") in                           (* [G1] *)
  if: is_settled "s" then report "t" "s"
  else if: is_done_w "s" then await_settled "t"            (* [G2] *)
  else NONE.                                               (* [G3] TimedOut *)

Definition is_done : val := λ: "t", is_done_w (!(t_state "t")).
Definition state : val := λ: "t", !(t_state "t").

(** ** Abstract states *)
Inductive phase := PNew | PCompleting | PNormal | PExceptional
                 | PCancelled | PInterrupting | PInterrupted.
Global Instance phase_eq_dec : EqDecision phase.
Proof. solve_decision. Defined.

Definition code (p : phase) : Z :=
  match p with PNew => 0 | PCompleting => 1 | PNormal => 2 | PExceptional => 3
          | PCancelled => 4 | PInterrupting => 5 | PInterrupted => 6 end.
(** [enc p b = code p + (if b then STARTED else 0)], written as a table so that it computes
    to literals. *)
Definition enc (p : phase) (b : bool) : Z :=
  if b then
    match p with PNew => 8 | PCompleting => 9 | PNormal => 10 | PExceptional => 11
            | PCancelled => 12 | PInterrupting => 13 | PInterrupted => 14 end
  else code p.
Lemma enc_spec p b : enc p b = (code p + if b then STARTED else 0)%Z.
Proof. by destruct p, b. Qed.

Lemma enc_inj p b p' b' : enc p b = enc p' b' → p = p' ∧ b = b'.
Proof. destruct p, b, p', b'; rewrite /enc /=; intros; simplify_eq; done. Qed.

Lemma enc_new_0 p b : enc p b = 0%Z → p = PNew ∧ b = false.
Proof. destruct p, b; rewrite /enc /=; done. Qed.
Lemma enc_new_8 p b : enc p b = 8%Z → p = PNew ∧ b = true.
Proof. destruct p, b; rewrite /enc /=; done. Qed.

Definition transient (p : phase) : bool :=
  match p with PCompleting | PInterrupting => true | _ => false end.
(** [is_settled] of the kernel: the outcome can be reported (INTERRUPTING included). *)
Definition settled (p : phase) : bool :=
  match p with PNew | PCompleting => false | _ => true end.
(** The word never changes again. *)
Definition terminal (p : phase) : bool :=
  match p with PNormal | PExceptional | PCancelled | PInterrupted => true | _ => false end.

(** Outcomes: a value, a failure, a cancellation (with / without interrupt). *)
Global Instance phase_inhabited : Inhabited phase := populate PNew.

Inductive outc := OVal (v : val) | OErr (e : val) | OCancel (intr : bool).

Definition outc_val (o : outc) : val :=
  match o with OVal v => InjLV v | OErr e => InjRV (InjLV e) | OCancel _ => InjRV (InjRV #()) end.

(** The only phases an outcome allows (I1: a decided task never leaves its family). *)
Definition fits (o : outc) (p : phase) : Prop :=
  match o, p with
  | (OVal _ | OErr _), PCompleting => True
  | OVal _, PNormal => True
  | OErr _, PExceptional => True
  | OCancel false, PCancelled => True
  | OCancel true, (PInterrupting | PInterrupted) => True
  | _, _ => False
  end.

(** ** Ghost state *)
Definition oneshotR (A : Type) := csumR (exclR unitO) (agreeR (leibnizO A)).

Class ftG Σ := FtG {
  ft_phG :> ghost_varG Σ (phase * bool);
  ft_oG :> inG Σ (oneshotR outc);
  ft_fG :> inG Σ (oneshotR (phase * bool));
  ft_tokG :> inG Σ (exclR unitO);
}.
Definition ftΣ : gFunctors :=
  #[ghost_varΣ (phase * bool); GFunctor (oneshotR outc);
    GFunctor (oneshotR (phase * bool)); GFunctor (exclR unitO)].
Global Instance subG_ftΣ {Σ} : subG ftΣ Σ → ftG Σ.
Proof. solve_inG. Qed.

Record tgn := Tgn { g_ph : gname; g_o : gname; g_f : gname;
                    g_win : gname; g_drain : gname; g_claim : gname }.

Section proof.
Context `{!heapGS Σ, !ftG Σ}.
Let N := nroot .@ "futuretask" .@ "state".

Definition tok (γ : gname) : iProp Σ := own γ (Excl ()).
Definition win_tok (γ : tgn) := tok (g_win γ).
Definition drain_tok (γ : tgn) := tok (g_drain γ).
Definition claim_tok (γ : tgn) := tok (g_claim γ).
Definition pendingO (γ : tgn) : iProp Σ := own (g_o γ) (Cinl (Excl ()) : oneshotR outc).
(** [decided γ o]: the outcome [o] won (persistent agreement: I2). *)
Definition decided (γ : tgn) (o : outc) : iProp Σ := own (g_o γ) (Cinr (to_agree (o : leibnizO outc)) : oneshotR outc).
Definition pendingF (γ : tgn) : iProp Σ := own (g_f γ) (Cinl (Excl ()) : oneshotR (phase * bool)).
(** [final γ (p,b)]: the state word was published as the settled word [enc p b] (for good). *)
Definition final (γ : tgn) (pb : phase * bool) : iProp Σ :=
  own (g_f γ) (Cinr (to_agree (pb : leibnizO (phase * bool))) : oneshotR (phase * bool)).

Lemma tok_excl γ : tok γ -∗ tok γ -∗ False.
Proof. iIntros "H1 H2". by iDestruct (own_valid_2 with "H1 H2") as %?. Qed.

(** I1: at most one winner (the token is created once and handed only to a winner). *)
Lemma win_tok_exclusive γ : win_tok γ -∗ win_tok γ -∗ False.
Proof. apply tok_excl. Qed.
(** I4: at most one claim of the closure. *)
Lemma claim_tok_exclusive γ : claim_tok γ -∗ claim_tok γ -∗ False.
Proof. apply tok_excl. Qed.

(** I2: every reader's outcome is the winner's. *)
Lemma decided_agree γ o1 o2 : decided γ o1 -∗ decided γ o2 -∗ ⌜o1 = o2⌝.
Proof.
  iIntros "H1 H2". iDestruct (own_valid_2 with "H1 H2") as %Hv.
  rewrite -Cinr_op Cinr_valid in Hv. by apply to_agree_op_inv_L in Hv.
Qed.
Lemma final_agree γ x y : final γ x -∗ final γ y -∗ ⌜x = y⌝.
Proof.
  iIntros "H1 H2". iDestruct (own_valid_2 with "H1 H2") as %Hv.
  rewrite -Cinr_op Cinr_valid in Hv. by apply to_agree_op_inv_L in Hv.
Qed.
Lemma pendingO_decided γ o : pendingO γ -∗ decided γ o -∗ False.
Proof. iIntros "H1 H2". by iDestruct (own_valid_2 with "H1 H2") as %?. Qed.
Lemma pendingF_final γ x : pendingF γ -∗ final γ x -∗ False.
Proof. iIntros "H1 H2". by iDestruct (own_valid_2 with "H1 H2") as %?. Qed.
Lemma pendingF_excl γ : pendingF γ -∗ pendingF γ -∗ False.
Proof. iIntros "H1 H2". by iDestruct (own_valid_2 with "H1 H2") as %?. Qed.
Global Instance decided_persistent γ o : Persistent (decided γ o).
Proof. apply _. Qed.
Global Instance final_persistent γ x : Persistent (final γ x).
Proof. apply _. Qed.

Lemma shoot_o γ o : pendingO γ ==∗ decided γ o.
Proof. apply own_update, cmra_update_exclusive. done. Qed.
Lemma shoot_f γ x : pendingF γ ==∗ final γ x.
Proof. apply own_update, cmra_update_exclusive. done. Qed.

(** The closure's one-shot specification: it may be called once (I4). *)
Definition job_wp (f : val) : iProp Σ :=
  WP f #() {{ r, ⌜∃ v : val, r = InjLV v ∨ r = InjRV v⌝%I }}%I.

(** What the drain [fc] may assume: it is run once, by the winner ([drain_tok]), after the
    outcome is decided and the terminal word published ([final]).  Stage 2 proves the real drain meets it. *)
Definition fc_spec (γ : tgn) (fc w : val) : iProp Σ :=
  □ ∀ o pb (Φ : val → iProp Σ),
    drain_tok γ -∗ decided γ o -∗ final γ pb -∗ ▷ Φ #() -∗ WP fc w {{ Φ }}.

Definition phase_res (γ : tgn) (out : loc) (p : phase) (b : bool) : iProp Σ :=
  match p with
  | PNew => win_tok γ ∗ drain_tok γ ∗ pendingO γ ∗ pendingF γ ∗ out ↦ #()
  | PCompleting => ∃ o, decided γ o ∗ ⌜fits o PCompleting⌝ ∗ pendingF γ
  | PNormal => ∃ v, decided γ (OVal v) ∗ final γ (p, b) ∗ out ↦ v
  | PExceptional => ∃ v, decided γ (OErr v) ∗ final γ (p, b) ∗ out ↦ v
  | PCancelled => decided γ (OCancel false) ∗ final γ (p, b) ∗ out ↦ #()
  | PInterrupting => decided γ (OCancel true) ∗ pendingF γ ∗ out ↦ #()
  | PInterrupted => decided γ (OCancel true) ∗ final γ (p, b) ∗ out ↦ #()
  end.

Global Instance phase_res_timeless γ out p b : Timeless (phase_res γ out p b).
Proof. destruct p; apply _. Qed.
Global Instance ph2_timeless γ p b :
  Timeless (if transient p then True else ghost_var (g_ph γ) (1/2) (p, b) : iProp Σ)%I.
Proof. destruct (transient p); apply _. Qed.

Definition task_inv (γ : tgn) (st out rn : loc) (f : val) : iProp Σ :=
  ∃ (p : phase) (b : bool),
    st ↦ #(enc p b) ∗ (∃ r, rn ↦ r) ∗
    ghost_var (g_ph γ) (1/2) (p, b) ∗
    (if transient p then True else ghost_var (g_ph γ) (1/2) (p, b)) ∗
    (if b then True else claim_tok γ ∗ job_wp f) ∗
    phase_res γ out p b.

Definition is_task (γ : tgn) (t : val) : iProp Σ :=
  ∃ (st out rn job : loc) (f w fc : val),
    ⌜t = (#st, #out, #rn, #job, w, fc)%V⌝ ∗ job ↦□ f ∗ fc_spec γ fc w ∗
    inv N (task_inv γ st out rn f).

Global Instance is_task_persistent γ t : Persistent (is_task γ t).
Proof. apply _. Qed.

(** The unused ghost state of a fresh task. *)
Definition task_init (γ : tgn) : iProp Σ :=
  ghost_var (g_ph γ) 1 (PNew, false) ∗ win_tok γ ∗ drain_tok γ ∗ claim_tok γ ∗
  pendingO γ ∗ pendingF γ.

Lemma task_init_alloc : ⊢ |==> ∃ γ, task_init γ.
Proof.
  iMod (ghost_var_alloc (PNew, false)) as (γph) "Hph".
  iMod (own_alloc (Excl ())) as (γw) "Hw"; first done.
  iMod (own_alloc (Excl ())) as (γd) "Hd"; first done.
  iMod (own_alloc (Excl ())) as (γc) "Hc"; first done.
  iMod (own_alloc (Cinl (Excl ()) : oneshotR outc)) as (γo) "Ho"; first done.
  iMod (own_alloc (Cinl (Excl ()) : oneshotR (phase * bool))) as (γf) "Hf"; first done.
  iModIntro. iExists (Tgn γph γo γf γw γd γc). iFrame.
Qed.

Lemma new_task_spec γ (f w fc : val) :
  {{{ task_init γ ∗ job_wp f ∗ fc_spec γ fc w }}}
    new_task f w fc
  {{{ t, RET t; is_task γ t ∗ ∃ a : val, ⌜t = PairV (PairV a w) fc⌝ }}}.
Proof.
  iIntros (Φ) "((Hph & Hw & Hd & Hc & Ho & Hf) & Hjob & #Hfc) HΦ".
  wp_lam. wp_alloc job as "Hjl". wp_alloc rn as "Hrn". wp_alloc out as "Hout".
  wp_alloc st as "Hst". iMod (mapsto_persist with "Hjl") as "#Hjl".
  iDestruct "Hph" as "[Hph1 Hph2]".
  iMod (inv_alloc N _ (task_inv γ st out rn f) with "[-HΦ]") as "#Hinv".
  { iNext. iExists PNew, false. rewrite /enc /=. iFrame. eauto. }
  wp_pures. iModIntro. iApply "HΦ". iSplit; last by iExists _.
  iExists st, out, rn, job, f, w, fc. eauto.
Qed.

(** What a load of the state word tells (any [p ≠ New] comes with the decided outcome; a
    terminal word with its [final] witness). *)
Definition seen (γ : tgn) (p : phase) (b : bool) : iProp Σ :=
  ((if decide (p = PNew) then True else ∃ o, decided γ o ∗ ⌜fits o p⌝) ∗
   (if terminal p then final γ (p, b) else True))%I.
Global Instance seen_persistent γ p b : Persistent (seen γ p b).
Proof. rewrite /seen. case_decide; destruct (terminal p); apply _. Qed.

(** Every non-NEW phase carries the decided outcome, every terminal one its witness. *)
Lemma phase_res_seen γ out p b :
  phase_res γ out p b -∗ phase_res γ out p b ∗ seen γ p b.
Proof.
  iIntros "H". rewrite /seen. destruct p; simpl.
  - iFrame. done.
  - iDestruct "H" as (o) "(#Hd & % & Hf)". iSplitL "Hf"; first (iExists o; by iFrame "Hd Hf").
    iSplit; last done. iExists o. by iFrame "Hd".
  - iDestruct "H" as (v) "(#Hd & #Hf & Ho)". iSplitL "Ho"; first (iExists v; by iFrame "Hd Hf Ho").
    iSplit; last done. iExists _. by iFrame "Hd".
  - iDestruct "H" as (v) "(#Hd & #Hf & Ho)". iSplitL "Ho"; first (iExists v; by iFrame "Hd Hf Ho").
    iSplit; last done. iExists _. by iFrame "Hd".
  - iDestruct "H" as "(#Hd & #Hf & Ho)". iSplitL "Ho"; first by iFrame "Hd Hf Ho".
    iSplit; last done. iExists _. by iFrame "Hd".
  - iDestruct "H" as "(#Hd & Hf & Ho)". iSplitL "Ho Hf"; first by iFrame "Hd Hf Ho".
    iSplit; last done. iExists _. by iFrame "Hd".
  - iDestruct "H" as "(#Hd & #Hf & Ho)". iSplitL "Ho"; first by iFrame "Hd Hf Ho".
    iSplit; last done. iExists _. by iFrame "Hd".
Qed.

Lemma load_state_spec γ t :
  {{{ is_task γ t }}} !(t_state t)
  {{{ p b, RET #(enc p b); seen γ p b }}}.
Proof.
  iIntros (Φ) "#Ht HΦ". iDestruct "Ht" as (st out rn job f w fc ->) "(_ & _ & Hinv)".
  rewrite /t_state. wp_pures.
  iInv N as (p b) "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  wp_load. iDestruct (phase_res_seen with "Hres") as "[Hres #Hseen]".
  iModIntro. iSplitR "HΦ"; first (iNext; iExists p, b; iFrame).
  by iApply "HΦ".
Qed.

(** A published (settled) word is the only word the invariant allows afterwards (I1). *)
Lemma res_final γ out p b p' b' :
  final γ (p, b) -∗ phase_res γ out p' b' -∗ ⌜p' = p ∧ b' = b⌝.
Proof.
  iIntros "#Hfin Hres". destruct p'; simpl.
  - iDestruct "Hres" as "(_ & _ & _ & Hf & _)". by iDestruct (pendingF_final with "Hf Hfin") as %[].
  - iDestruct "Hres" as (o) "(_ & _ & Hf)". by iDestruct (pendingF_final with "Hf Hfin") as %[].
  - iDestruct "Hres" as (v) "(_ & Hf & _)". by iDestruct (final_agree with "Hfin Hf") as %[= -> ->].
  - iDestruct "Hres" as (v) "(_ & Hf & _)". by iDestruct (final_agree with "Hfin Hf") as %[= -> ->].
  - iDestruct "Hres" as "(_ & Hf & _)". by iDestruct (final_agree with "Hfin Hf") as %[= -> ->].
  - iDestruct "Hres" as "(_ & Hf & _)". by iDestruct (pendingF_final with "Hf Hfin") as %[].
  - iDestruct "Hres" as "(_ & Hf & _)". by iDestruct (final_agree with "Hfin Hf") as %[= -> ->].
Qed.

(** I1 (terminal state never changes): once a settled word was seen, every later load
    returns exactly that word. *)
Lemma state_terminal_spec γ t p b :
  {{{ is_task γ t ∗ final γ (p, b) }}} !(t_state t) {{{ RET #(enc p b); True }}}.
Proof.
  iIntros (Φ) "[#Ht #Hfin] HΦ". iDestruct "Ht" as (st out rn job f w fc ->) "(_ & _ & Hinv)".
  rewrite /t_state. wp_pures.
  iInv N as (p' b') "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  iDestruct (res_final with "Hfin Hres") as %[-> ->].
  wp_load. iModIntro. iSplitR "HΦ"; first (iNext; iExists p, b; iFrame). by iApply "HΦ".
Qed.

Lemma fits_settled_val o p :
  fits o p → settled p →
  (p = PNormal ∧ ∃ v, o = OVal v) ∨ (p = PExceptional ∧ ∃ v, o = OErr v) ∨
  (p ≠ PNormal ∧ p ≠ PExceptional ∧ ∃ i, o = OCancel i).
Proof. destruct o as [| |[]], p; simpl; try done; eauto 10. Qed.

(** Reading the outcome of a word seen settled returns the decided outcome (I2). *)
Lemma report_spec γ t p b :
  settled p →
  {{{ is_task γ t ∗ seen γ p b }}} report t #(enc p b)
  {{{ o, RET outc_val o; decided γ o ∗ ⌜fits o p⌝ }}}.
Proof.
  iIntros (Hs Φ) "[#Ht [Hd Hfin]] HΦ".
  iAssert (□ (⌜terminal p⌝ → final γ (p, b)))%I as "#Hfin'".
  { destruct (terminal p); iDestruct "Hfin" as "#Hfin"; iIntros "!> %"; done. }
  iClear "Hfin".
  iDestruct "Ht" as (st out rn job f w fc ->) "(_ & _ & Hinv)".
  case_decide; first by subst p. iDestruct "Hd" as (o) "[#Hd %Hfit]".
  rewrite /report /phase_of /t_out.
  destruct (fits_settled_val o p Hfit Hs) as [[-> [v ->]]|[[-> [v ->]]|(? & ? & [i ->])]].
  - iDestruct ("Hfin'" with "[//]") as "Hfin".
    destruct b; rewrite /enc /=; wp_pures.
    all: wp_bind (Load _); iInv N as (p' b') "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
    all: iDestruct (res_final with "Hfin Hres") as %[-> ->]; iSimpl in "Hres".
    all: iDestruct "Hres" as (v') "(#Hd' & #Hf' & Hout)".
    all: iDestruct (decided_agree with "Hd Hd'") as %[= <-].
    all: wp_load; iModIntro; iSplitR "HΦ"; [iNext; iExists _, _; iFrame "Hst"; simpl; iFrame "Hrn Hph Hph2 Hcl"; iExists _; by iFrame "#∗"|].
    all: wp_pures; iModIntro; iApply ("HΦ" $! (OVal v)); by iFrame "Hd".
  - iDestruct ("Hfin'" with "[//]") as "Hfin".
    destruct b; rewrite /enc /=; wp_pures.
    all: wp_bind (Load _); iInv N as (p' b') "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
    all: iDestruct (res_final with "Hfin Hres") as %[-> ->]; iSimpl in "Hres".
    all: iDestruct "Hres" as (v') "(#Hd' & #Hf' & Hout)".
    all: iDestruct (decided_agree with "Hd Hd'") as %[= <-].
    all: wp_load; iModIntro; iSplitR "HΦ"; [iNext; iExists _, _; iFrame "Hst"; simpl; iFrame "Hrn Hph Hph2 Hcl"; iExists _; by iFrame "#∗"|].
    all: wp_pures; iModIntro; iApply ("HΦ" $! (OErr v)); by iFrame "Hd".
  - destruct p; try done; destruct b; rewrite /enc /=; wp_pures;
      iApply ("HΦ" $! (OCancel i)); by iFrame "Hd".
Qed.

(** ** The operations *)

Lemma load_st_spec γ st out rn f :
  {{{ inv N (task_inv γ st out rn f) }}} ! #st
  {{{ p b, RET #(enc p b); seen γ p b }}}.
Proof.
  iIntros (Φ) "#Hinv HΦ".
  iInv N as (p b) "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  wp_load. iDestruct (phase_res_seen with "Hres") as "[Hres #Hseen]".
  iModIntro. iSplitR "HΦ"; first (iNext; iExists p, b; iFrame). by iApply "HΦ".
Qed.

(** A thread that knows the outcome is decided never sees NEW again (I9). *)
Lemma load_st_decided_spec γ st out rn f o :
  {{{ inv N (task_inv γ st out rn f) ∗ decided γ o }}} ! #st
  {{{ p b, RET #(enc p b); seen γ p b ∗ ⌜p ≠ PNew⌝ }}}.
Proof.
  iIntros (Φ) "[#Hinv #Hd] HΦ".
  iInv N as (p b) "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  destruct (decide (p = PNew)) as [->|Hne].
  { iDestruct "Hres" as "(_ & _ & Ho & _)". by iDestruct (pendingO_decided with "Ho Hd") as %[]. }
  wp_load. iDestruct (phase_res_seen with "Hres") as "[Hres #Hseen]".
  iModIntro. iSplitR "HΦ"; first (iNext; iExists p, b; iFrame). iApply "HΦ". by iFrame "Hseen".
Qed.

Lemma seen_not_new γ p b : p ≠ PNew → seen γ p b -∗ ∃ o, decided γ o ∗ ⌜fits o p⌝.
Proof. iIntros (?) "[H _]". by case_decide. Qed.

Definition compl_out (ok : bool) (v : val) : outc := if ok then OVal v else OErr v.

(** I1 + I2 for completions: the K1 CAS winner gets the unique [win_tok] and its outcome is
    the decided one; a loser never writes and learns the decided outcome. *)
Lemma complete_spec γ t (ok : bool) (v : val) :
  {{{ is_task γ t }}} complete t #ok v
  {{{ (won : bool), RET #won;
      if won then win_tok γ ∗ decided γ (compl_out ok v) else ∃ o, decided γ o }}}.
Proof.
  iIntros (Φ) "#Ht HΦ". iDestruct "Ht" as (st out rn job f w fc ->) "(#Hjob & #Hfc & #Hinv)".
  destruct ok; rewrite /compl_out.
  all: rewrite /complete /t_state; wp_pures.
  all: wp_apply (load_st_spec with "Hinv"); iIntros (p b) "#Hseen".
  all: rewrite /try_begin_complete /phase_of /finish_complete.
  all: wp_let; wp_closure.
  all: iLöb as "IH" forall (p b) "Hseen".
  all: wp_pures.
  all: destruct (decide (p = PNew)) as [->|Hne];
       [| iDestruct (seen_not_new with "Hseen") as (o) "[Hd _]"; first done;
          destruct p, b; try done; rewrite /enc /=; wp_pures; iApply "HΦ"; iModIntro; by iExists o ].
  all: destruct b; rewrite /enc /=; wp_pures.
  all: wp_bind (CmpXchg _ _ _); iInv N as (p' b') "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  all: match goal with |- context [CmpXchg _ (Val (LitV (LitInt ?z))) _] =>
         destruct (decide (enc p' b' = z)) as [He|He] end;
       [ first [apply enc_new_0 in He | apply enc_new_8 in He]; destruct He as [-> ->]; simpl
       | iDestruct (phase_res_seen with "Hres") as "[Hres #Hseen']" ].
  all: try (wp_cmpxchg_fail; iModIntro;
            iSplitR "HΦ"; [iNext; iExists p', b'; iFrame|];
            wp_let; wp_proj; wp_if; wp_proj; by iApply ("IH" with "HΦ")).
  all: wp_cmpxchg_suc; iDestruct "Hres" as "(Hw & Hdr & Ho & Hf & Hout)".
  1,2: iMod (shoot_o _ (OVal v) with "Ho") as "#Hd".
  3,4: iMod (shoot_o _ (OErr v) with "Ho") as "#Hd".
  all: match goal with |- context [ghost_var _ _ (PNew, ?bb)] =>
         iMod (ghost_var_update_halves (PCompleting, bb) with "Hph Hph2") as "[Hph Hmine]";
         iModIntro; iSplitR "HΦ Hw Hdr Hout Hmine";
         [ iNext; iExists PCompleting, bb; iFrame "Hst"; simpl; iFrame; iExists _; by iFrame "Hd" | ] end.
  all: wp_pures; rewrite /t_out; wp_pures; wp_store; wp_pures.
  (* [K3]: the ghost half pins the phase to COMPLETING *)
  all: wp_bind (Store _ _); iInv N as (p2 b2) "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  all: iDestruct (ghost_var_agree with "Hph Hmine") as %[= -> ->]; simpl.
  all: iDestruct "Hres" as (o') "(#Hd' & _ & Hf)".
  all: iDestruct (decided_agree with "Hd Hd'") as %<-.
  all: wp_pures; wp_store.
  1,2: match goal with |- context [ghost_var _ _ (PCompleting, ?bb)] =>
         iMod (ghost_var_update_halves (PNormal, bb) with "Hph Hmine") as "[Hph Hmine]";
         iMod (shoot_f _ (PNormal, bb) with "Hf") as "#Hfin";
         iModIntro; iSplitR "HΦ Hw Hdr";
         [ iNext; iExists PNormal, bb; iFrame "Hst"; simpl;
           iFrame; iExists v; by iFrame "#∗" | ] end.
  3,4: match goal with |- context [ghost_var _ _ (PCompleting, ?bb)] =>
         iMod (ghost_var_update_halves (PExceptional, bb) with "Hph Hmine") as "[Hph Hmine]";
         iMod (shoot_f _ (PExceptional, bb) with "Hf") as "#Hfin";
         iModIntro; iSplitR "HΦ Hw Hdr";
         [ iNext; iExists PExceptional, bb; iFrame "Hst"; simpl;
           iFrame; iExists v; by iFrame "#∗" | ] end.
  all: rewrite /finish_completion /t_fc /t_waiters; wp_pures.
  all: wp_apply ("Hfc" with "Hdr Hd Hfin"); wp_pures; iApply "HΦ"; by iFrame "Hw Hd".
Qed.

Lemma set_spec γ t v :
  {{{ is_task γ t }}} set t v
  {{{ (won : bool), RET #won; if won then win_tok γ ∗ decided γ (OVal v) else ∃ o, decided γ o }}}.
Proof. iIntros (Φ) "#Ht HΦ". wp_lam. wp_pures. by wp_apply (complete_spec _ _ true with "Ht"). Qed.

Lemma fail_spec γ t e :
  {{{ is_task γ t }}} fail t e
  {{{ (won : bool), RET #won; if won then win_tok γ ∗ decided γ (OErr e) else ∃ o, decided γ o }}}.
Proof. iIntros (Φ) "#Ht HΦ". wp_lam. wp_pures. by wp_apply (complete_spec _ _ false with "Ht"). Qed.

(** I1 for cancel: the C1 CAS winner gets the unique [win_tok]; CANCELLED / INTERRUPTED is
    published for good. *)
Lemma cancel_spec γ t (intr : bool) :
  {{{ is_task γ t }}} cancel t #intr
  {{{ (won : bool), RET #won;
      if won then win_tok γ ∗ decided γ (OCancel intr) else ∃ o, decided γ o }}}.
Proof.
  iIntros (Φ) "#Ht HΦ". iDestruct "Ht" as (st out rn job f w fc ->) "(#Hjob & #Hfc & #Hinv)".
  destruct intr.
  all: rewrite /cancel /t_state; wp_pures.
  all: wp_apply (load_st_spec with "Hinv"); iIntros (p b) "#Hseen".
  all: rewrite /try_cancel /phase_of /finish_interrupt.
  all: wp_let. all: wp_closure.
  all: iLöb as "IH" forall (p b) "Hseen".
  all: wp_pures.
  all: destruct (decide (p = PNew)) as [->|Hne];
       [| iDestruct (seen_not_new with "Hseen") as (o) "[Hd _]"; first done;
          destruct p, b; try done; rewrite /enc /=; wp_pures; iApply "HΦ"; iModIntro; by iExists o ].
  all: destruct b; rewrite /enc /=; wp_pures.
  all: wp_bind (CmpXchg _ _ _); iInv N as (p' b') "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  all: match goal with |- context [CmpXchg _ (Val (LitV (LitInt ?z))) _] =>
         destruct (decide (enc p' b' = z)) as [He|He] end;
       [ first [apply enc_new_0 in He | apply enc_new_8 in He]; destruct He as [-> ->]; simpl
       | iDestruct (phase_res_seen with "Hres") as "[Hres #Hseen']" ].
  all: try (wp_cmpxchg_fail; iModIntro;
            iSplitR "HΦ"; [iNext; iExists p', b'; iFrame|];
            wp_let; wp_proj; wp_if; wp_proj; by iApply ("IH" with "HΦ")).
  all: wp_cmpxchg_suc; iDestruct "Hres" as "(Hw & Hdr & Ho & Hf & Hout)".
  1,2: iMod (shoot_o _ (OCancel true) with "Ho") as "#Hd".
  3,4: iMod (shoot_o _ (OCancel false) with "Ho") as "#Hd".
  (* cancel(): straight to CANCELLED, published at the CAS *)
  3,4: match goal with |- context [ghost_var _ _ (PNew, ?bb)] =>
         iMod (ghost_var_update_halves (PCancelled, bb) with "Hph Hph2") as "[Hph Hph2]";
         iMod (shoot_f _ (PCancelled, bb) with "Hf") as "#Hfin";
         iModIntro; iSplitR "HΦ Hw Hdr";
         [ iNext; iExists PCancelled, bb; iFrame "Hst"; simpl; by iFrame "#∗" | ] end.
  3,4: wp_pures; rewrite /finish_completion /t_fc /t_waiters; wp_pures.
  3,4: wp_apply ("Hfc" with "Hdr Hd Hfin"); wp_pures; iApply "HΦ"; by iFrame "Hw Hd".
  (* cancel_and_interrupt(): INTERRUPTING, then C3..C5 *)
  all: match goal with |- context [ghost_var _ _ (PNew, ?bb)] =>
         iMod (ghost_var_update_halves (PInterrupting, bb) with "Hph Hph2") as "[Hph Hmine]";
         iModIntro; iSplitR "HΦ Hw Hdr Hmine";
         [ iNext; iExists PInterrupting, bb; iFrame "Hst"; simpl; by iFrame "#∗" | ] end.
  all: wp_pures; rewrite /t_runner; wp_pures.
  all: wp_bind (Load _); iInv N as (p2 b2) "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  all: iDestruct "Hrn" as (r) "Hrn"; wp_load.
  all: iModIntro; (iSplitR "HΦ Hw Hdr Hmine"; [ iNext; iExists _, _; iFrame "Hst"; iFrame; by iExists r | ]).
  all: wp_pures; case_bool_decide; wp_pures.
  all: wp_bind (Store _ _); iInv N as (p3 b3) "(>Hst & >Hrn & >Hph & >Hph2 & Hcl & >Hres)".
  all: iDestruct (ghost_var_agree with "Hph Hmine") as %[= -> ->]; simpl.
  all: iDestruct "Hres" as "(_ & Hf & Hout)"; wp_store.
  all: match goal with |- context [ghost_var _ _ (PInterrupting, ?bb)] =>
         iMod (ghost_var_update_halves (PInterrupted, bb) with "Hph Hmine") as "[Hph Hmine]";
         iMod (shoot_f _ (PInterrupted, bb) with "Hf") as "#Hfin";
         iModIntro; iSplitR "HΦ Hw Hdr";
         [ iNext; iExists PInterrupted, bb; iFrame "Hst"; simpl; by iFrame "#∗" | ] end.
  all: wp_pures; rewrite /finish_completion /t_fc /t_waiters; wp_pures.
  all: wp_apply ("Hfc" with "Hdr Hd Hfin"); wp_pures; iApply "HΦ"; by iFrame "Hw Hd".
Qed.

End proof.
