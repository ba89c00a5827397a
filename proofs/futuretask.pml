/*
 * futuretask.pml -- the FutureTask protocol of proofs/ALGORITHM.md in Promela, for SPIN.
 *
 * One Promela statement (or one atomic{} / d_step{} block that performs exactly one shared
 * access plus thread-local bookkeeping) per numbered step of ALGORITHM.md, named by its label in a
 * comment. The encodings are the ones of kernel/src/protocol.rs; run-spin.sh checks that the
 * #defines below equal the constants of that file (drift check). Every decision of a protocol.rs
 * function is taken by a macro of the "protocol.rs functions" block below (pure expressions of
 * their arguments, which cargo xtask correspond evaluates over every input and compares with the
 * Rust functions); the model body makes no protocol decision inline.
 *
 * Threads (ids index the node/permit arrays; node i lives at address (i+1)*NODE_ALIGN):
 *   0 runner    run(); the closure may observe the interrupt, or sleep (park) once
 *   1 canceller cancel_and_interrupt()
 *   2 waiter    untimed get(): sleeps on the sleep word (futex)  (-DWITH_UNTIMED=0 leaves it out)
 *   3 waiter    timed get(): the deadline may pass at any check  (-DWITH_TIMED=0)
 *   4 async     poll / re-poll with a new waker (UPDATING) / drop while pending (-DWITH_ASYNC=0)
 *   5 callback  add_done_callback                                (-DWITH_CB=0)
 *
 * Checked by run-spin.sh:
 *   safety     assertions (I1 I2 I4 I5 I6 I7 I8 I9) and invalid end states (I3: a thread blocked
 *              forever when nothing else can move)
 *   LTL        (pan -a -f, weak fairness)
 *     waiters_return      [] (settled -> <> all waiters returned)           I3 liveness
 *     runner_settles      [] (INTERRUPTING -> <> runner left run())         I5 liveness
 *     single_winner       [] (wins <= 1)                                    I1
 *     callbacks_run       <> callback ran                                   I7 liveness
 *
 * Mutants (spin -a -DMUTANT_...):
 *   MUTANT_NO_CLOSED_CHECK   push ignores CLOSED and parks ("missing re-check after push")
 *   MUTANT_NO_REDRAIN        the completer closes after its first batch (batch pushed while
 *                            DRAINING is lost)
 *   MUTANT_NO_INTERRUPT_WAIT the runner leaves run() without waiting out INTERRUPTING (R7)
 *   MUTANT_WAKE_BEFORE_RELEASE H6 runs right after the Detach CAS, before the batch's waiters
 *                            are released (a sleeper re-reads the new word and sleeps forever)
 *   MUTANT_SLEEPER_NO_WAKE   H6 skipped (the sleepers of a batch are never woken)
 * (the stateright model has more mutants; see proofs/README.md)
 */

/* ---- protocol.rs constants (checked against the Rust file by run-spin.sh) ---- */
#define PHASE_MASK   7
#define NEW          0
#define COMPLETING   1
#define NORMAL       2
#define EXCEPTIONAL  3
#define CANCELLED    4
#define INTERRUPTING 5
#define INTERRUPTED  6
#define STARTED      8
#define LOCKED       1
#define DIRTY        2
#define DRAINING     4
#define CLOSED       8
#define HEAD_FLAGS   15
#define NODE_ALIGN   16
#define NODE_WAITING   0
#define NODE_UPDATING  1
#define NODE_ABANDONED 2
#define NODE_NOTIFYING 3
#define NODE_DONE      4

/* ---- protocol.rs functions ----
   One macro per decision of kernel/src/protocol.rs, each a pure expression of its arguments and
   the constants above (the mutant variants of PUSH_* and DRAIN_CLOSE excepted, which read the
   completer's local `drained`), so that each can be evaluated alone and compared with the Rust
   function over every word. The model body takes every protocol decision through them. */
#define PHASE(s)            ((s) & PHASE_MASK)
#define IS_DONE(s)          (PHASE(s) != NEW)
#define IS_SETTLED(s)       (PHASE(s) != NEW && PHASE(s) != COMPLETING)
#define IS_INTERRUPTED(s)   (PHASE(s) == INTERRUPTING || PHASE(s) == INTERRUPTED)
/* phase_reachable(a, b) (I9: observers see the phase move forward along allowed edges only) */
#define PHASE_REACHABLE(a, b) ((a) == (b) || (a) == NEW || ((a) == COMPLETING && ((b) == NORMAL || (b) == EXCEPTIONAL)) || ((a) == INTERRUPTING && (b) == INTERRUPTED))
/* try_start(s): Some(START_TO(s)) iff CAN_START(s) */
#define CAN_START(s)        ((s) == NEW)
#define START_TO(s)         (NEW | STARTED)
/* try_begin_complete(s) / try_cancel(s, i): Some(..) iff CAN_DECIDE(s) */
#define CAN_DECIDE(s)       (PHASE(s) == NEW)
#define BEGIN_COMPLETE(s)   (((s) & STARTED) | COMPLETING)
#define CANCEL_TO(s, i)     (((s) & STARTED) | ((i) -> INTERRUPTING : CANCELLED))
/* finish_complete(s, ok), finish_interrupt(s) */
#define FINISH_COMPLETE(s, ok) (((s) & STARTED) | ((ok) -> NORMAL : EXCEPTIONAL))
#define FINISH_INTERRUPT(s) (((s) & STARTED) | INTERRUPTED)
#define HEAD_PTR(h)         ((h) & 240)            /* h & !HEAD_FLAGS on a byte */
#define ADDR(i)             (((i) + 1) * NODE_ALIGN)
#define NODE_AT(a)          ((a) / NODE_ALIGN - 1)
/* try_push(h, node): None iff PUSH_CLOSED(h), else Some(PUSH_TO(h, node)) */
#ifdef MUTANT_NO_CLOSED_CHECK
#define PUSH_CLOSED(h)      false
#define PUSH_TO(h, a)       ((a) | ((h) & HEAD_FLAGS))
#else
#define PUSH_CLOSED(h)      (((h) & CLOSED) != 0)
#define PUSH_TO(h, a)       ((a) | ((h) & (LOCKED | DIRTY | DRAINING)))
#endif
/* drain_step(h): WaitForRemover iff DRAIN_WAIT(h); Close(DRAIN_CLOSE_TO(h)) iff DRAIN_CLOSE(h);
   else Detach(DRAIN_DETACH_TO(h)) */
#define DRAIN_WAIT(h)       (((h) & LOCKED) != 0)
#ifdef MUTANT_NO_REDRAIN
#define DRAIN_CLOSE(h)      (!DRAIN_WAIT(h) && (HEAD_PTR(h) == 0 || drained))
#else
#define DRAIN_CLOSE(h)      (!DRAIN_WAIT(h) && HEAD_PTR(h) == 0)
#endif
#define DRAIN_CLOSE_TO(h)   CLOSED
#define DRAIN_DETACH_TO(h)  DRAINING
/* remove_step(h): AwaitHandOff iff REMOVE_AWAIT(h); MarkDirty(REMOVE_DIRTY_TO(h)) iff
   REMOVE_DIRTY(h) (LOCKED, DIRTY already set or not); else Lock(REMOVE_LOCK_TO(h)) */
#define REMOVE_AWAIT(h)     (((h) & CLOSED) != 0)
#define REMOVE_DIRTY(h)     (!REMOVE_AWAIT(h) && ((h) & LOCKED) != 0)
#define REMOVE_DIRTY_TO(h)  ((h) | DIRTY)
#define REMOVE_LOCK_TO(h)   ((h) | LOCKED)
/* unlink_head(h, node, next): Some(UNLINK_TO(h, next)) iff UNLINK_OK(h, node), else None
   (the sweep restarts) */
#define UNLINK_OK(h, a)     (HEAD_PTR(h) == (a))
#define UNLINK_TO(h, n)     (HEAD_PTR(n) | ((h) & HEAD_FLAGS))
/* unlock_step(h): SweepAgain(UNLOCK_TO(h)) iff UNLOCK_AGAIN(h); else Release(UNLOCK_TO(h)) */
#define UNLOCK_AGAIN(h)     (((h) & DIRTY) != 0)
#define UNLOCK_TO(h)        (UNLOCK_AGAIN(h) -> ((h) & (255 - DIRTY)) : ((h) & (255 - LOCKED)))
/* node_try_notify(n): Some(NOTIFY_TO(n)) iff CAN_NOTIFY(n) */
#define CAN_NOTIFY(n)       ((n) == NODE_WAITING || (n) == NODE_ABANDONED)
#define NOTIFY_TO(n)        NODE_NOTIFYING

/* ---- configuration: which actors run (run-spin.sh checks several; all on by default) ---- */
#ifndef WITH_UNTIMED
#define WITH_UNTIMED 1
#endif
#ifndef WITH_TIMED
#define WITH_TIMED 1
#endif
#ifndef WITH_ASYNC
#define WITH_ASYNC 1
#endif
#ifndef WITH_CB
#define WITH_CB 1
#endif
#define RUNNER 0
#define CANCELLER 1
#define W_UNTIMED 2
#define W_TIMED 3
#define W_ASYNC 4
#define CB 5
#define NT 6
#define NWAITERS (WITH_UNTIMED + WITH_TIMED + WITH_ASYNC)

/* ---- shared words ---- */
byte state = NEW;
byte head = 0;
byte runner = 0;          /* thread id + 1, 0 = null */
byte outcome = 0;         /* 0 = unwritten, 1 = the closure's value */
byte nst[NT];             /* node hand-off states */
byte nnext[NT];           /* node next pointers (addresses) */
byte npay[NT];            /* payload: 0 none, t+1 thread t, PAY_SLEEPER, 16+g waker gen. g */
bit permit[NT];           /* park permits */
byte sword = 0;           /* the sleep word of the untimed waiters (a futex word; H6 increments) */
byte fblocked = 0;        /* futex: bit t set while thread t is blocked in futex_wait(sword) */
#define PAY_SLEEPER 15    /* an untimed waiter's payload: woken by the batch's H6, not per node */

/* ---- async executor state ---- */
byte agen = 0;            /* generation of the waker given to the latest poll */
bit awoken = 0;           /* that waker was woken */

/* ---- ghost state ---- */
byte wins = 0;            /* successful transitions out of NEW (I1) */
byte claims = 0;          /* closure claims (I4) */
bit released[NT];         /* node stored DONE (I6) */
bit pushed[NT];
bit freed[NT];
byte cbran = 0;           /* callback runs (I7) */
byte wret = 0;            /* waiters returned or dropped */
bit runner_left = 0;      /* the runner left run() */
bit runner_in_run = 0;    /* the runner is between R3 and leaving run() (I5) */
byte seen[NT];            /* I9: phase + 1 last observed by each thread */

/* I9: every state load by an observer moves forward along allowed edges only */
inline observe(me, s) {
  assert(seen[me] == 0 || PHASE_REACHABLE(seen[me] - 1, PHASE(s)));
  seen[me] = PHASE(s) + 1
}
/* I2: a reader of a settled state reads the outcome cell it announces */
inline read_outcome(s) {
  assert(IS_SETTLED(s));
  assert(PHASE(s) != NORMAL || outcome != 0)
}
/* I6: a non-owner touches a node only before it is released and freed */
inline touch(i) {
  assert(nst[i] != NODE_DONE && !freed[i])
}
/* H5: wake the payload taken from node i (a sleeper: only remember it for H6; a sweeper never
   releases one, untimed waiters never abandon) */
inline wake(me, p, aband) {
  if
  :: p == PAY_SLEEPER -> assert(me == RUNNER || me == CANCELLER); sleepers = 1
  :: p > 0 && p < PAY_SLEEPER -> if :: p - 1 != me -> permit[p - 1] = 1 :: else -> skip fi
  :: p >= 16 -> if :: !aband && p - 16 == agen -> awoken = 1 :: else -> skip fi
  :: else -> assert(false)
  fi
}

/* H2..H5 on node i (waiter node), by a completer or a sweeper */
inline release_node(me, i) {
  atomic {                                   /* H2 (+H3): CAS WAITING|ABANDONED -> NOTIFYING */
    nst[i] != NODE_UPDATING;                 /* H2: spin while UPDATING */
    touch(i);
    assert(CAN_NOTIFY(nst[i]));              /* node_try_notify: two handlers never meet */
    aband = (nst[i] == NODE_ABANDONED);
    nst[i] = NOTIFY_TO(nst[i]);
    pay = npay[i]; npay[i] = 0
  };
  atomic {                                   /* H4: store DONE (node released) */
    assert(!released[i]); released[i] = 1; nst[i] = NODE_DONE
  };
  atomic { wake(me, pay, aband); pay = 0; aband = 0 }   /* H5 */
}

/* H6: sleep_word.fetch_add(1) [Release]; then futex_wake_all(sleep_word) (two steps) */
inline sleep_wake() {
  atomic { sword++ };                                        /* H6: increment */
  atomic { fblocked = 0; sleepers = 0 }                      /* H6: futex_wake_all */
}

/* finish_completion(): F1/F2, hand_off_batch (H1..H6), callbacks */
inline finish_completion(me) {
  do
  :: atomic { !DRAIN_WAIT(head) -> h = head }             /* F1 (WaitForRemover: blocked) */
     if
     :: DRAIN_CLOSE(h) ->                                   /* F2 Close */
        atomic { if :: head == h -> head = DRAIN_CLOSE_TO(h); ok = 1 :: else -> ok = 0 fi };
        if :: ok -> break :: else -> skip fi
     :: else ->                                              /* F2 Detach */
        atomic { if :: head == h -> head = DRAIN_DETACH_TO(h); cur = HEAD_PTR(h); ok = 1 :: else -> ok = 0 fi };
        if
        :: ok ->
#ifdef MUTANT_NO_REDRAIN
           drained = 1;
#endif
#ifdef MUTANT_WAKE_BEFORE_RELEASE
           sleep_wake();                                     /* H6 before the releases */
#endif
           do                                                /* walk the detached batch */
           :: cur == 0 && !sleepers -> break
           :: cur == 0 && sleepers ->                        /* H6: the batch released sleepers */
#if !defined(MUTANT_WAKE_BEFORE_RELEASE) && !defined(MUTANT_SLEEPER_NO_WAKE)
              sleep_wake(); break                            /* after every DONE, before callbacks */
#else
              sleepers = 0; break
#endif
           :: cur != 0 && NODE_AT(cur) == CB ->              /* callback node: keep it */
              atomic { touch(CB); mycb = 1; cur = nnext[CB] }
           :: cur != 0 && NODE_AT(cur) != CB ->
              i = NODE_AT(cur);
              atomic { touch(i); nxt = nnext[i] };           /* H1 */
              release_node(me, i);
              cur = nxt; nxt = 0; i = 0
           od;
           if                                                /* run the batch's callbacks */
           :: mycb ->
              atomic { assert(IS_SETTLED(state)); assert(cbran == 0); cbran++; freed[CB] = 1; mycb = 0 }
           :: else -> skip
           fi
        :: else -> skip
        fi
     fi
  od;
  h = 0; ok = 0
}

/* push(node me): P1..P3; sets closed = 1 when the stack was closed */
inline push(me) {
  atomic { h = head };                                       /* P1 */
  do
  :: PUSH_CLOSED(h) -> closed = 1; break                     /* P2: Closed */
  :: else ->
     nnext[me] = HEAD_PTR(h);                                /* P2: own, unpublished node */
     atomic {                                                /* P3 */
       if
       :: head == h -> head = PUSH_TO(h, ADDR(me)); pushed[me] = 1; ok = 1
       :: else -> h = head; ok = 0
       fi
     };
     if :: ok -> break :: else -> skip fi
  od;
  h = 0; ok = 0
}

/* remove_abandoned() for thread me: A1, A2, S1, S2 */
inline remove_abandoned(me) {
  atomic { h = head };                                       /* A1 */
  do
  :: REMOVE_AWAIT(h) -> break                                /* A2: AwaitHandOff */
  :: REMOVE_DIRTY(h) ->              /* A2: MarkDirty (also when DIRTY is set: a CAS h -> h) */
     atomic { if :: head == h -> head = REMOVE_DIRTY_TO(h); ok = 1 :: else -> h = head; ok = 0 fi };
     if :: ok -> break :: else -> skip fi
  :: !REMOVE_AWAIT(h) && !REMOVE_DIRTY(h) ->                 /* A2: Lock */
     atomic { if :: head == h -> head = REMOVE_LOCK_TO(h); ok = 1 :: else -> h = head; ok = 0 fi };
     if
     :: ok ->
        do                                                    /* sweep; S2 decides */
        :: atomic { cur = HEAD_PTR(head); pred = 0; h = 0 }; /* S1: walk from the head */
           do
           :: cur == 0 -> break
           :: cur != 0 ->
              i = NODE_AT(cur);
              atomic { if :: i != me -> touch(i) :: else -> skip fi;
                       nxt = nnext[i]; ab = (i != CB && nst[i] == NODE_ABANDONED) };
              if
              :: ab && pred == 0 ->                           /* S1: unlink at the head */
                 atomic { h = head };                         /* S1: head re-load */
                 if                                           /* unlink_head */
                 :: UNLINK_OK(h, cur) ->                      /* S1: head CAS */
                    atomic { if :: head == h -> head = UNLINK_TO(h, nxt); ok = 1 :: else -> ok = 0 fi; h = 0 }
                 :: else -> h = 0; ok = 0                     /* a push landed in front of it */
                 fi;
                 if
                 :: ok -> release_node(me, i); cur = nxt
                 :: else -> cur = 0; pred = 0; restart = 1          /* restart S1 */
                 fi
              :: ab && pred != 0 ->                           /* S1: unlink after pred */
                 atomic { if :: NODE_AT(pred) != me -> touch(NODE_AT(pred)) :: else -> skip fi;
                          nnext[NODE_AT(pred)] = nxt };
                 release_node(me, i); cur = nxt
              :: else -> pred = cur; cur = nxt
              fi;
              ab = 0; nxt = 0; i = 0
           od;
           if
           :: restart -> restart = 0
           :: else ->
              pred = 0;
              do                                              /* S2 */
              :: atomic { h = head };
                 atomic { if :: head == h -> head = UNLOCK_TO(h); ok = 1 :: else -> ok = 0 fi };
                 if :: ok -> break :: else -> skip fi
              od;
              if :: UNLOCK_AGAIN(h) -> skip :: else -> break fi
           fi
        od;
        break
     :: else -> skip
     fi
  od;
  h = 0; ok = 0; cur = 0; pred = 0
}

proctype Runner() {
  byte s, n, h, cur, nxt, pay, i; bit ok, aband, mycb, lost, slept, sleepers;
#ifdef MUTANT_NO_REDRAIN
  bit drained;
#endif
  atomic { s = state };                                      /* R1 */
  do
  :: !CAN_START(s) -> goto leave_unclaimed                   /* R2: cancelled / claimed */
  :: CAN_START(s) ->
     atomic { if :: state == s -> assert(claims == 0); claims++; state = START_TO(s); ok = 1
              :: else -> s = state; ok = 0 fi };
     if :: ok -> break :: else -> skip fi
  od;
  atomic { runner = RUNNER + 1; runner_in_run = 1; s = 0 };  /* R3 (+ fence) */
  do                                                         /* R4: the closure */
  :: break                                                   /* returns normally */
  :: IS_INTERRUPTED(state) -> break                          /* observes the interrupt */
  :: !slept -> slept = 1;                                    /* sleeps: park / times out */
     if :: atomic { permit[RUNNER] -> permit[RUNNER] = 0 } :: skip fi
  od;
  slept = 0;
  atomic { s = state };                                      /* R5: complete(); K1 */
  do
  :: !CAN_DECIDE(s) -> lost = 1; break
  :: CAN_DECIDE(s) ->
     atomic { if :: state == s -> n = BEGIN_COMPLETE(s); state = n; wins++; ok = 1;
                                  outcome = 1                /* K2, folded: nobody reads it yet */
              :: else -> s = state; ok = 0 fi };
     if :: ok -> break :: else -> skip fi
  od;
  s = 0; ok = 0;
  if
  :: !lost ->
     atomic { state = FINISH_COMPLETE(n, 1); n = 0 };        /* K3 (the closure returned) */
     finish_completion(RUNNER)                               /* K4 */
  :: else -> skip
  fi;
  runner = 0;                                                /* R6 */
  if
  :: lost ->
#ifndef MUTANT_NO_INTERRUPT_WAIT
     atomic { PHASE(state) != INTERRUPTING -> s = state };   /* R7 */
#else
     s = state;
#endif
     s = 0                                                   /* R8: permit left alone */
  :: else -> skip
  fi;
  atomic {
    assert(PHASE(state) != INTERRUPTING);                    /* I5 (C4 asserts runner_in_run) */
    runner_in_run = 0; lost = 0
  };
leave_unclaimed:
  atomic { runner_left = 1; s = 0 }
}

proctype Canceller() {
  byte s, n, t, h, cur, nxt, pay, i; bit ok, aband, mycb, sleepers;
#ifdef MUTANT_NO_REDRAIN
  bit drained;
#endif
  atomic { s = state };                                      /* C1 */
  do
  :: !CAN_DECIDE(s) -> goto out
  :: CAN_DECIDE(s) ->
     atomic { if :: state == s -> n = CANCEL_TO(s, 1); state = n; wins++; ok = 1; s = 0
              :: else -> s = state; ok = 0 fi };
     if :: ok -> break :: else -> skip fi
  od;
  ok = 0;
  atomic { t = runner; runner = 0 };                         /* C2 fence, C3 (swap) */
  if
  :: t != 0 -> atomic { assert(runner_in_run); permit[t - 1] = 1; t = 0 }   /* C4 (I5) */
  :: else -> skip
  fi;
  atomic { state = FINISH_INTERRUPT(n); n = 0 };             /* C5 */
  finish_completion(CANCELLER);                              /* C6 */
out:
  s = 0
}

/* get(): untimed (timed = 0) or timed */
proctype Waiter(byte me; bit timed) {
  byte s, h, cur, nxt, pred, pay, i, e; bit ok, closed, aband, ab, restart, sleepers;
  atomic { s = state; observe(me, s) };                      /* G1 */
  if
  :: IS_SETTLED(s) -> read_outcome(s); goto ret
  :: PHASE(s) == COMPLETING -> goto g2
  :: PHASE(s) == NEW && timed -> goto ret                    /* G3: zero timeout */
  :: PHASE(s) == NEW -> skip
  fi;
  atomic { nst[me] = NODE_WAITING;                           /* G5: untimed sleeps on the word */
           if :: timed -> npay[me] = me + 1 :: else -> npay[me] = PAY_SLEEPER fi };
  push(me);                                                  /* G6 */
  if
  :: closed -> atomic { s = state; observe(me, s); assert(IS_DONE(s)) };
     if :: IS_SETTLED(s) -> read_outcome(s); goto ret :: else -> goto g2 fi
  :: else -> skip
  fi;
  if
  :: !timed ->
     do                                                      /* G7, untimed: the sleep word */
     :: atomic { e = sword };                                /* G7: word load (before the node) */
        if
        :: atomic { nst[me] == NODE_DONE -> e = 0; s = state; observe(me, s) };
           if :: IS_SETTLED(s) -> read_outcome(s); goto ret :: else -> goto g2 fi
        :: atomic { nst[me] != NODE_DONE -> assert(seen[me] != 0 && !IS_DONE(seen[me] - 1)) };
           atomic {                                          /* futex_wait(sword, e): check */
             if :: sword == e -> fblocked = fblocked | (1 << me) :: else -> skip fi; e = 0
           };
           atomic { (fblocked & (1 << me)) == 0 }            /* blocked until futex_wake_all */
        fi
     od
  :: else -> skip
  fi;
  do                                                         /* G7, timed */
  :: atomic { nst[me] == NODE_DONE -> s = state; observe(me, s) };
     if :: IS_SETTLED(s) -> read_outcome(s); goto ret :: else -> goto g2 fi
  :: atomic { nst[me] != NODE_DONE -> assert(seen[me] != 0 && !IS_DONE(seen[me] - 1)) };
     if
     :: atomic { permit[me] -> permit[me] = 0 }              /* park */
     :: skip                                                 /* park_timeout returns */
     :: goto g8                                              /* deadline passed */
     fi
  od;
g8:                                                          /* G8: CAS WAITING -> ABANDONED */
  atomic { if :: nst[me] == NODE_WAITING -> nst[me] = NODE_ABANDONED; ok = 1 :: else -> ok = 0 fi };
  if
  :: !ok -> goto g7again
  :: else -> skip
  fi;
  remove_abandoned(me);                                      /* G9 */
  do                                                         /* wait until DONE (park) */
  :: atomic { nst[me] == NODE_DONE -> skip }; break
  :: atomic { nst[me] != NODE_DONE && permit[me] -> permit[me] = 0 }
  od;
  atomic { s = state; observe(me, s) };                      /* G10 */
  if
  :: IS_SETTLED(s) -> read_outcome(s); goto ret
  :: PHASE(s) == COMPLETING -> goto g2
  :: else -> goto ret                                        /* TimedOut */
  fi;
g7again:
  do
  :: atomic { nst[me] == NODE_DONE -> s = state; observe(me, s) };
     if :: IS_SETTLED(s) -> read_outcome(s); goto ret :: else -> goto g2 fi
  :: atomic { nst[me] != NODE_DONE && permit[me] -> permit[me] = 0 }
  od;
g2:                                                          /* G2: wait out COMPLETING */
  atomic { IS_SETTLED(state) -> s = state; observe(me, s); read_outcome(s) };
ret:
  atomic { assert(!pushed[me] || nst[me] == NODE_DONE); freed[me] = 1; wret++; s = 0; closed = 0 }
}

/* an async waiter (future.rs poll_done / detach): poll, re-poll (same or new waker), drop */
proctype Async(byte me) {
  byte s, h, cur, nxt, pred, pay, i; bit ok, closed, aband, ab, restart, registered, repolled, dropper, sleepers;
  if :: dropper = 1 :: dropper = 0 fi;                       /* will this future be dropped? */
poll:
  atomic { s = state; observe(me, s) };                      /* every poll: G1 */
  if
  :: IS_DONE(s) -> s = 0; goto ready                         /* report waits out COMPLETING */
  :: else -> s = 0
  fi;
  if
  :: !registered ->
     atomic { nst[me] = NODE_WAITING; npay[me] = 16 + agen };   /* waker into the unpublished node */
     push(me);
     if
     :: closed -> closed = 0; goto ready                     /* Closed: Ready */
     :: else -> registered = 1                               /* Linked: Pending */
     fi
  :: else ->                                                 /* registered: re-poll */
     if
     :: atomic { nst[me] == NODE_DONE -> skip }; goto ready
     :: atomic { nst[me] != NODE_DONE -> skip };
        /* U1 */
        atomic { if :: nst[me] == NODE_WAITING -> nst[me] = NODE_UPDATING; ok = 1 :: else -> ok = 0 fi };
        if
        :: ok && npay[me] == 16 + agen ->                     /* U2: same waker: keep it */
           atomic { nst[me] = NODE_WAITING; ok = 0 }          /* Pending */
        :: ok && npay[me] != 16 + agen ->
           nst[me] = NODE_WAITING;                            /* U3: clone the new waker outside UPDATING (I11) */
           /* U4 */
           atomic { if :: nst[me] == NODE_WAITING -> nst[me] = NODE_UPDATING; ok = 1 :: else -> ok = 0 fi };
           if
           :: ok -> npay[me] = 16 + agen;                     /* U5: replace the waker */
              atomic { nst[me] = NODE_WAITING; ok = 0 }       /* publish it: Pending */
           :: else -> goto ready                              /* released meanwhile: Ready */
           fi
        :: else -> goto ready                                 /* NOTIFYING/DONE: Ready */
        fi
     fi
  fi;
pending:
  do
  :: atomic { awoken -> awoken = 0 }; goto poll              /* woken: poll again */
  :: !repolled -> repolled = 1;                              /* polled again with a new waker */
     atomic { agen++; awoken = 0 }; goto poll
  :: dropper -> goto drop                                    /* dropped while pending */
  od;
ready:
  atomic { IS_SETTLED(state) -> s = state; observe(me, s); read_outcome(s); s = 0 };
drop:
  if
  :: registered ->
     atomic { if :: nst[me] == NODE_WAITING -> nst[me] = NODE_ABANDONED; ok = 1 :: else -> ok = 0 fi };  /* G8 */
     if :: ok -> ok = 0; remove_abandoned(me) :: else -> skip fi;   /* G9 */
     atomic { nst[me] == NODE_DONE -> skip }                  /* yield until released */
  :: else -> skip
  fi;
  atomic { assert(!pushed[me] || nst[me] == NODE_DONE); freed[me] = 1; wret++;
           s = 0; closed = 0; registered = 0; repolled = 0; dropper = 0 }
}

proctype Callback() {
  byte h; bit ok, closed;
  push(CB);                                                  /* D1 */
  if
  :: closed -> atomic { assert(IS_SETTLED(state)); assert(cbran == 0); cbran++; freed[CB] = 1; closed = 0 }  /* D2 */
  :: else -> skip
  fi
}

/* end-state checks: every pushed waiter node released, the callback ran exactly once */
proctype Final() {
  atomic {
    (wret == NWAITERS && runner_left && (cbran > 0 || !WITH_CB)) ->
    assert(cbran == WITH_CB);
    assert(!pushed[W_UNTIMED] || released[W_UNTIMED]);
    assert(!pushed[W_TIMED] || released[W_TIMED]);
    assert(!pushed[W_ASYNC] || released[W_ASYNC])
  }
}

init {
  atomic {
    run Final();
    run Runner();
    run Canceller();
#if WITH_UNTIMED
    run Waiter(W_UNTIMED, 0);
#endif
#if WITH_TIMED
    run Waiter(W_TIMED, 1);
#endif
#if WITH_ASYNC
    run Async(W_ASYNC);
#endif
#if WITH_CB
    run Callback();
#endif
  }
}

ltl single_winner { [] (wins <= 1) }
ltl waiters_return { [] (IS_SETTLED(state) -> <> (wret == NWAITERS)) }
ltl runner_settles { [] (PHASE(state) == INTERRUPTING -> <> runner_left) }
ltl callbacks_run { <> (cbran == WITH_CB) }
