(** * Stage 4 composed — the task with timed waiters, the remover and the completer

    [new_futuretask] (the code of [waiters.v], unchanged: the stage-1 task whose
    [finish_completion] is [drain]) is specified here over the stage-4 stack [rstack_inv]: the
    drain's [fc_spec] is discharged by [rdrain_spec] (F1/F2 with a concurrent remover).  On
    that task, [get_timed] is the blocking get with a deadline (G1, G2, G5, G6, then G7 timed –
    G10 of [lifetime.v] with G9's real [remove_abandoned] of [remover.v]) on a lifetime node
    that its owner frees after DONE; [add_done_callback] (D1, D2) pushes a callback node onto
    the same stack.  [run], [cancel], [set], [fail], [is_done], [get_now] need only the
    stage-1 [is_task], which [is_rft] includes.

    [client_adequate] is the closed theorem: a program in which a runner, an interrupting
    cancel, a timed waiter that may abandon (its clock is another thread), a callback
    registration and a second timed waiter share one task is safe in every interleaving
    (HeapLang's adequacy: no thread gets stuck — in particular no access to a freed cell, no
    double [Free], no CAS on a non-comparable value). *)
From iris.algebra Require Import excl agree csum.
From iris.base_logic.lib Require Import invariants ghost_var.
From iris.heap_lang Require Import adequacy.
From iris.heap_lang Require Import lang proofmode notation.
From iris.prelude Require Import options.
From futuretask Require Import state_word operations waiters lifetime remover rdrain.

(** get(deadline): G1, G2, G5, G6, then G7 (timed)–G10.  [expired] is the deadline test (any
    closure returning a boolean).  Returns [SOME outcome] or [NONE] (TimedOut). *)
Definition get_timed : val := λ: "t" "expired",
  let: "s" := !(t_state "t") in                            (* [G1] *)
  if: is_settled "s" then SOME (report "t" "s")
  else if: is_done_w "s" then SOME (await_settled "t")      (* [G2] *)
  else
    let: "w" := t_waiters "t" in
    let: "nd" := (ref NONE, ref #WAITING, ref #(), #false) in   (* [G5] *)
    if: push "w" "nd"                                       (* [G6] *)
    then timed_wait "t" "nd" "expired" (λ: <>, remove_abandoned "w")   (* [G7]–[G10] *)
    else                                                    (* [G6] Closed: the node was
                                                                never published, *)
      free_node "nd" ;;                                     (*   so it is freed now *)
      SOME (await_settled "t").

Section rtask.
Context `{!heapGS Σ, !ftG Σ, !stackG Σ, !removerG Σ}.
Let Nl := nroot .@ "futuretask" .@ "lnode".
Let Nr := nroot .@ "futuretask" .@ "rstack".

(** The task with its stage-4 waiter stack. *)
Definition is_rft (γ : tgn) (t : val) : iProp Σ :=
  is_task γ t ∗ ∃ (a fc : val) (hd : loc) (γs : sgn) (γl γb : gname),
    ⌜t = PairV (PairV a #hd) fc⌝ ∗ inv Nr (rstack_inv γ γs γl γb hd).

Global Instance is_rft_persistent γ t : Persistent (is_rft γ t).
Proof. apply _. Qed.

(** The whole task over the stage-4 stack: the stage-1 state word with the real drain as its
    [finish_completion] ([fc_spec] discharged by [rdrain_spec], which allows a concurrent
    remover), and the stack invariant established by [new_stack]. *)
Lemma new_futuretask_rspec (f : val) :
  {{{ job_wp f }}} new_futuretask f {{{ t γ, RET t; is_rft γ t }}}.
Proof.
  iIntros (Φ) "Hjob HΦ". wp_lam.
  iMod task_init_alloc as (γ) "Hinit".
  wp_apply (new_rstack_spec γ with "[//]"). iIntros (hd γs γl γb) "#Hinv".
  wp_pures.
  wp_apply (new_task_spec γ f #hd drain with "[$Hinit $Hjob]").
  { iIntros "!>" (o pb Ψ) "Hdr #Hd #Hf HΨ".
    iApply (rdrain_spec with "[$Hinv Hdr]"); first (iSplitL; [by iLeft | iExists o, pb; by iFrame "Hd Hf"]).
    iNext. by iIntros "_". }
  iIntros (t) "[#Htask Ht]". iDestruct "Ht" as %[a ->].
  iApply "HΦ". iFrame "Htask". iExists a, drain, hd, γs, γl, γb. eauto.
Qed.

(** get with a deadline (I2, I3 safety, I6, I9): it returns the winner's outcome or TimedOut;
    on the slow path its node is pushed, possibly abandoned (G8) and unlinked by a remover (its
    own G9 call or another's) or released by the completer's drain, and freed by the waiter
    after DONE, never before, exactly once; if the push meets CLOSED the never-published node
    is freed by the waiter at once ([reclaim_unpushed]).  Every node it allocates is freed
    exactly once, on every path. *)
Lemma get_timed_spec γ t (expired : val) :
  {{{ is_rft γ t ∗ □ (∀ Ψ, ▷ (∀ b : bool, Ψ #b) -∗ WP expired #() {{ Ψ }}) }}}
    get_timed t expired
  {{{ r, RET r; ⌜r = NONEV⌝ ∨ ∃ o, ⌜r = SOMEV (outc_val o)⌝ ∗ decided γ o }}}.
Proof.
  iIntros (Φ) "[[#Htask #Hs] #Hexp] HΦ". iDestruct "Hs" as (a fc hd γs γl γb ->) "#Hinv".
  wp_lam. wp_pures.
  wp_apply (load_state_spec with "Htask"). iIntros (p b) "#Hseen".
  rewrite /is_settled /is_done_w /phase_of.
  destruct (decide (p = PNew)) as [->|Hne].
  2:{ destruct (settled p) eqn:Hs.
      - destruct p; try done; destruct b; rewrite /enc /=; wp_pures.
        all: wp_apply (report_spec with "[$Htask $Hseen]"); [done|].
        all: iIntros (o) "[Hd _]"; wp_pures; iApply "HΦ"; iRight; iExists o; by iFrame "Hd".
      - destruct p; try done; destruct b; rewrite /enc /=; wp_pures.
        all: wp_apply (await_settled_spec with "Htask"); iIntros (o) "Hd"; wp_pures.
        all: iApply "HΦ"; iRight; iExists o; by iFrame "Hd". }
  destruct b; rewrite /enc /=; wp_pures.
  all: rewrite /t_waiters; wp_pures.
  all: wp_alloc pl as "Hpl"; wp_alloc ns as "Hns"; wp_alloc nx as "Hnx"; wp_pures.
  all: iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γn) "Htok"; first done.
  all: iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (ga) "Ha"; first done.
  all: iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (gr) "Hr"; first done.
  all: iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (gf) "Hf"; first done.
  all: iMod (own_alloc (Excl ())) as (gu) "HU"; first done.
  all: iMod (inv_alloc Nl _ (lnode_inv γ (Node nx ns pl false γn) (Lgn ga gr gf gu)) with "[Hns Hpl Hr HU]") as "#Hn";
       [ iNext; iLeft; iExists _; iFrame "Hns"; iLeft; iSplit; [done|]; iFrame "Hr HU"; by iExists _ | ].
  all: wp_apply (push_rspec γ γs γl γb hd (Node nx ns pl false γn) _ false with "[$Hinv $Hnx Htok]");
       [ iSplitL; [rewrite /lnode_own /=; iFrame "Htok"; iExists _; iFrame "Hn" | done] | ].
  all: iIntros ([]); [iIntros "_" | iIntros "([%v Hnx] & [Htok _] & _)"]; wp_pures.
  1,3: wp_apply (timed_wait_removing_spec γ γs γl γb hd _ (Node nx ns pl false γn) (Lgn ga gr gf gu) expired
                   with "[$Htask $Hinv $Hn $Ha $Hf $Hexp]");
       iIntros (r) "[(%o & -> & Hd & _)|(_ & [->|(%o & -> & Hd)])]"; iApply "HΦ";
       [iRight; iExists o; by iFrame "Hd" | by iLeft | iRight; iExists o; by iFrame "Hd"].
  all: iMod (reclaim_unpushed with "Hn Htok Ha Hf") as "[Hns Hpl]".
  all: wp_apply (free_node_spec (Node nx ns pl false γn) with "[$Hns $Hpl Hnx]"); [by iExists v|].
  all: iIntros "_"; wp_pures.
  all: wp_apply (await_settled_spec with "Htask"); iIntros (o) "Hd"; wp_pures.
  all: iApply "HΦ"; iRight; iExists o; by iFrame "Hd".
Qed.

(** D1/D2 on the stage-4 stack (I7): the callback is handed either to the completer (pushed
    before CLOSED: it runs in the drain's batch walk, with the outcome visible) or, if the
    push met CLOSED, run here, now; its one-shot specification is used exactly once. *)
Lemma add_done_callback_rspec γ t cb :
  {{{ is_rft γ t ∗ cb_wp γ cb }}} add_done_callback t cb {{{ RET #(); True }}}.
Proof.
  iIntros (Φ) "[[#Htask #Hs] Hcb] HΦ". iDestruct "Hs" as (a fc hd γs γl γb ->) "#Hinv".
  wp_lam. wp_alloc pl as "Hpl"; wp_alloc ns as "Hns"; wp_alloc nx as "Hnx"; wp_pures.
  iMod (own_alloc (Cinl (Excl ()) : oneshotR unit)) as (γn) "Htok"; first done.
  rewrite /t_waiters; wp_pures.
  wp_apply (push_rspec γ γs γl γb hd (Node nx ns pl true γn) _ false with "[$Hinv $Hnx Hpl Hcb Htok]").
  { iSplitL; last done. rewrite /lnode_own /=. iFrame "Htok". iExists cb. iFrame. }
  iIntros ([]).
  - iIntros "_". wp_pures. by iApply "HΦ".
  - iIntros "(_ & Hown & _ & #Ht)". rewrite /lnode_own /=. iDestruct "Hown" as "[_ Hown]".
    iDestruct "Hown" as (cb') "[Hpl Hcb]".
    wp_pures.
    rewrite /n_payload. wp_pures. wp_load.
    wp_bind (cb' #()). iApply (wp_wand with "(Hcb Ht)"). iIntros (?) "_". wp_pures. by iApply "HΦ".
Qed.

End rtask.

(** ** The closed theorem: everything together, in every interleaving *)
Definition client : expr :=
  let: "t" := new_futuretask (λ: <>, InjL #42) in
  let: "clk" := ref #false in
  Fork (run "t" #()) ;;                                     (* the runner (R1–R8, K1–K4) *)
  Fork (cancel "t" #true) ;;                                (* an interrupting cancel (C1–C6) *)
  Fork ("clk" <- #true) ;;                                  (* the deadline passes, some time *)
  Fork (get_timed "t" (λ: <>, !"clk")) ;;                   (* a timed waiter: may abandon *)
  Fork (add_done_callback "t" (λ: <>, #())) ;;              (* a callback (D1, D2) *)
  get_timed "t" (λ: <>, !"clk").                            (* another timed waiter *)

Section client.
Context `{!heapGS Σ, !ftG Σ, !stackG Σ, !removerG Σ}.
Let Nc := nroot .@ "client" .@ "clock".

Lemma client_spec :
  ⊢ WP client {{ r, ⌜r = NONEV ∨ ∃ v, r = SOMEV v⌝ }}.
Proof using All.
  rewrite /client. wp_pure (Rec _ _ _). wp_apply (new_futuretask_rspec with "[]").
  { rewrite /job_wp. wp_pures. iPureIntro. eauto. }
  iIntros (t γ) "#Ht". wp_pures. wp_alloc clk as "Hclk". wp_pures.
  iMod (inv_alloc Nc _ (∃ b : bool, clk ↦ #b) with "[Hclk]") as "#Hc"; first (iNext; by iExists false).
  iAssert (□ (∀ Ψ, ▷ (∀ b : bool, Ψ #b) -∗ WP (λ: <>, ! #clk)%V #() {{ Ψ }}))%I as "#Hexp".
  { iIntros "!>" (Ψ) "HΨ". wp_pures. iInv Nc as (b) ">Hclk". wp_load. iModIntro.
    iSplitL "Hclk"; first (iNext; by iExists b). iApply "HΨ". }
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
  { iNext. wp_pures. wp_apply (add_done_callback_rspec with "[$Htask $Hs]"); last by iIntros "_".
    iIntros "_". by wp_pures. }
  wp_pures. wp_apply (get_timed_spec with "[$Htask $Hs $Hexp]").
  iIntros (r) "[->|(%o & -> & _)]"; iPureIntro; eauto.
Qed.
End client.

Definition clientΣ : gFunctors := #[heapΣ; ftΣ; stackΣ; removerΣ].

(** Adequacy: the whole concurrent program — runner, interrupting cancel, a timed waiter that
    may abandon (G8) and run the remover (G9: A1–S2), a callback registration, another timed
    waiter, and the completer's drain (F1/F2, H1–H5) run by whichever of run/cancel wins — never
    gets stuck in any interleaving: no thread reads, writes, CASes or frees a freed node cell,
    no cell is freed twice; and the main thread returns TimedOut or an outcome. *)
Theorem client_adequate σ :
  adequate NotStuck client σ (λ r _, r = NONEV ∨ ∃ v, r = SOMEV v).
Proof.
  apply (heap_adequacy clientΣ). iIntros (?) "_". iApply client_spec.
Qed.
