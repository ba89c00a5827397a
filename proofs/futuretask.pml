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
 *   1 canceller cancel_and_interrupt()                               (-DWITH_CANCELLER=0)
 *   2 waiter    untimed get(): sleeps on the sleep word (futex)  (-DWITH_UNTIMED=0 leaves it out)
 *   3 waiter    timed get(): the deadline may pass at any check  (-DWITH_TIMED=0)
 *   4 async     poll / re-poll with a new waker (UPDATING) / drop while pending (-DWITH_ASYNC=0)
 *   5 callback  add_done_callback                                (-DWITH_CB=0)
 *
 * -DCOUNTED_TASK=1: a promise's counted task (ALGORITHM.md "counted task", I13). The word starts
 * at counted_new(NREFS) and carries the count (bits 8..) through every transition:
 *   0 promise   set(v) / fail(e) / dropped unset (a broken promise), nondeterministically:
 *               W1 (outcome write, CAS NEW -> NORMAL/EXCEPTIONAL, or take the value back when a
 *               cancel won); announced (some pusher's P0 came first): the W1 CAS sets
 *               DRAIN_HELD (the promise keeps its reference), W2 (the drain above), then W3 (T2
 *               of its reference, DRAIN_HELD cleared in the same fetch_sub: DRAIN_REF);
 *               unannounced: the W1 CAS also gave the reference up (no W2, no W3; T3 if it was
 *               the last)
 *   1 canceller cancel_and_interrupt(): C1 goes straight to INTERRUPTED (no C2..C5), then C6
 *               (the drain) only if a pusher announced (must_drain), T2
 *   2..5        the waiters and the callback's registrar as above; each announces itself (P0)
 *               before its push and, finding the task settled unannounced, pushes nothing (a
 *               waiter returns, the callback runs at once); each holds one reference and
 *               releases it (T2) when it returns or is dropped
 *     cloner    holds one reference, clones it (T1), releases both (T2)  (-DWITH_CLONER=0)
 *     taker     (-DWITH_TAKER=1) a handle that takes the outcome by value (T4) at any time;
 *               -DUNTIMED_TAKES=1: the untimed get's handle takes it once the get returned.
 *               T4 loads the word (take_step): Pending, Shared -> the handle is handed back and
 *               dropped (T2); NoOutcome -> T2; Last -> move, plain store of s|MOVED, T3;
 *               AfterDrain (two references, DRAIN_HELD: the other is the draining promise's)
 *               -> T5 (loop on the head word: CLOSED -> go on, CALLBACKS/DRAINING -> give up,
 *               handed back, T2; else look again), move, fetch_sub(REF - MOVED), T3 if last.
 *               Ghost `moved`: the outcome is moved at most once and never read after the move
 *               (every read_outcome and callback run asserts !moved); T3 asserts the word owns
 *               the outcome (drops it) iff it was published and not moved. TAKE_COMPLETE (the
 *               promise and one handle, no callback): an outcome found published is taken
 *   T2 takes the last reference's fast path (a count of 1: no read-modify-write) or fetch_sub;
 *   T3 frees. I13: every access to the task's words asserts !freed; T3 asserts it runs once and
 *   that the drain is over (CLOSED, or the stack never used when nobody announced; every
 *   callback ran); Final asserts that once every holder finished the task was freed; a
 *   holder's T2 never reads a count below 1.
 *
 * Checked by run-spin.sh:
 *   safety     assertions (I1 I2 I4 I5 I6 I7 I8 I9 I13) and invalid end states (I3: a thread
 *              blocked forever when nothing else can move)
 *   LTL        (pan -a -f, weak fairness)
 *     waiters_return      [] (settled -> <> all waiters returned)           I3 liveness
 *     runner_settles      [] (INTERRUPTING -> <> runner left run())         I5 liveness
 *                         (not for a counted task: it has no runner and no INTERRUPTING)
 *     single_winner       [] (wins <= 1)                                    I1
 *     callbacks_run       <> callback ran                                   I7 liveness
 *     task_freed          <> freed (a counted task only)                    I13 liveness
 *     take_ends           [] (in T5 -> <> left T5) (a taker only)           T5 terminates
 *
 * Mutants (spin -a -DMUTANT_...):
 *   MUTANT_NO_CLOSED_CHECK   push ignores CLOSED and parks ("missing re-check after push")
 *   MUTANT_NO_REDRAIN        the completer closes after its first batch (batch pushed while
 *                            DRAINING is lost)
 *   MUTANT_NO_INTERRUPT_WAIT the runner leaves run() without waiting out INTERRUPTING (R7)
 *   MUTANT_WAKE_BEFORE_RELEASE H6 runs right after the Detach CAS, before the batch's waiters
 *                            are released (a sleeper re-reads the new word and sleeps forever)
 *   MUTANT_SLEEPER_NO_WAKE   H6 skipped (the sleepers of a batch are never woken)
 *   MUTANT_RELEASE_BEFORE_DRAIN the promise releases its reference (T2) right after W1, before
 *                            W2's drain: the last reader frees the task while the promise
 *                            still drains (use after free; -DCOUNTED_TASK=1)
 *   MUTANT_COUNTED_PLAIN_STORE a counted task's interrupting cancel goes through INTERRUPTING
 *                            and C2..C5, whose plain C5 store erases a concurrent count change
 *                            (leak, double or early free; -DCOUNTED_TASK=1)
 *   MUTANT_PUSH_WITHOUT_ANNOUNCE P0 skipped: pushers never set ANNOUNCED, so W1 gives up the
 *                            promise's reference and nobody drains a node pushed meanwhile
 *                            (a waiter never returns; -DCOUNTED_TASK=1)
 *   MUTANT_PUBLISH_IGNORES_ANNOUNCE W1 always gives up the promise's reference and skips W2's
 *                            drain, ANNOUNCED or not (a waiter never returns; -DCOUNTED_TASK=1)
 *   MUTANT_TAKE_IGNORES_DRAIN_HELD T4 takes AfterDrain with any two references: the other
 *                            reader reads the outcome after the move (-DWITH_TAKER=1)
 *   MUTANT_TAKE_SKIPS_CLOSE  T5 never waits for CLOSED: a callback still to run in the drain
 *                            reads the outcome after the move (-DWITH_TAKER=1, callback)
 *   MUTANT_PUBLISH_WITHOUT_DRAIN_HELD W1 does not set DRAIN_HELD (W3 still subtracts
 *                            DRAIN_REF): a waiting taker alone with the promise finds two
 *                            references and no flag, Shared (completeness)
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
#define MOVED        16
#define COUNTED      32
#define ANNOUNCED    64
#define DRAIN_HELD   128
#define REF          256
#define DRAIN_REF    384
#define LOCKED       1
#define DIRTY        2
#define DRAINING     4
#define CLOSED       8
#define CALLBACKS    16
#define HEAD_FLAGS   31
#define NODE_ALIGN   32
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
/* the bits every transition carries along: STARTED, a counted task's count and announcement
   (CARRIED) */
#define CARRIED             (STARTED | COUNTED | ANNOUNCED | ~(REF - 1))
/* is_counted(s), refs(s), counted_new(r) */
#define IS_COUNTED(s)       (((s) & COUNTED) != 0)
#define REFS(s)             ((s) / REF)
#define COUNTED_NEW(r)      (COUNTED | ((r) * REF))
#define IS_DONE(s)          (PHASE(s) != NEW)
#define IS_SETTLED(s)       (PHASE(s) != NEW && PHASE(s) != COMPLETING)
#define IS_INTERRUPTED(s)   (PHASE(s) == INTERRUPTING || PHASE(s) == INTERRUPTED)
/* phase_reachable(a, b) (I9: observers see the phase move forward along allowed edges only) */
#define PHASE_REACHABLE(a, b) ((a) == (b) || (a) == NEW || ((a) == COMPLETING && ((b) == NORMAL || (b) == EXCEPTIONAL)) || ((a) == INTERRUPTING && (b) == INTERRUPTED))
/* try_start(s): Some(START_TO(s)) iff CAN_START(s) */
#define CAN_START(s)        ((s) == NEW)
#define START_TO(s)         (NEW | STARTED)
/* try_begin_complete(s): Some(BEGIN_COMPLETE(s)) iff CAN_DECIDE(s) (never for a counted task) */
#define CAN_DECIDE(s)       (PHASE(s) == NEW && !IS_COUNTED(s))
#define BEGIN_COMPLETE(s)   (((s) & CARRIED) | COMPLETING)
/* try_cancel(s, i): Some(CANCEL_TO(s, i)) iff CAN_CANCEL(s); a counted task's interrupting
   cancel goes straight to INTERRUPTED (no runner to signal, no plain C5 store may follow) */
#define CAN_CANCEL(s)       (PHASE(s) == NEW)
#ifdef MUTANT_COUNTED_PLAIN_STORE
#define CANCEL_TO(s, i)     (((s) & CARRIED) | ((i) -> INTERRUPTING : CANCELLED))
#else
#define CANCEL_TO(s, i)     (((s) & CARRIED) | ((i) -> (IS_COUNTED(s) -> INTERRUPTED : INTERRUPTING) : CANCELLED))
#endif
/* finish_complete(s, ok), finish_interrupt(s) */
#define FINISH_COMPLETE(s, ok) (((s) & CARRIED) | ((ok) -> NORMAL : EXCEPTIONAL))
#define FINISH_INTERRUPT(s) (((s) & CARRIED) | INTERRUPTED)
/* publish_releases(s): W1 from s also gives up the promise's reference (nobody announced, so
   nothing to drain) */
#ifdef MUTANT_PUBLISH_IGNORES_ANNOUNCE
#define PUBLISH_RELEASES(s) true
#else
#define PUBLISH_RELEASES(s) (((s) & ANNOUNCED) == 0)
#endif
/* try_publish(s, ok) (W1): Some(PUBLISH_TO(s, ok)) iff CAN_PUBLISH(s); a promise that keeps its
   reference for the drain marks it DRAIN_HELD (released with it by W3) */
#define CAN_PUBLISH(s)      (PHASE(s) == NEW && IS_COUNTED(s))
#ifndef MUTANT_PUBLISH_WITHOUT_DRAIN_HELD
#define PUBLISH_TO(s, ok)   ((FINISH_COMPLETE(s, ok) - (PUBLISH_RELEASES(s) -> REF : 0)) | (PUBLISH_RELEASES(s) -> 0 : DRAIN_HELD))
#else
#define PUBLISH_TO(s, ok)   (FINISH_COMPLETE(s, ok) - (PUBLISH_RELEASES(s) -> REF : 0))
#endif
/* must_drain(s): the winner out of NEW (C6) drains the stack */
#define MUST_DRAIN(s)       (!IS_COUNTED(s) || ((s) & ANNOUNCED) != 0)
/* announce_step(s) (P0): Push iff ANNOUNCE_PUSH(s); Settled iff ANNOUNCE_SETTLED(s); else
   Set(ANNOUNCE_TO(s)) */
#ifdef MUTANT_PUSH_WITHOUT_ANNOUNCE
#define ANNOUNCE_PUSH(s)    true
#else
#define ANNOUNCE_PUSH(s)    (!IS_COUNTED(s) || ((s) & ANNOUNCED) != 0)
#endif
#define ANNOUNCE_SETTLED(s) (!ANNOUNCE_PUSH(s) && PHASE(s) != NEW)
#define ANNOUNCE_TO(s)      ((s) | ANNOUNCED)
/* owns_outcome(s): published (NORMAL, EXCEPTIONAL) and not moved out */
#define OWNS_OUTCOME(s)     ((PHASE(s) == NORMAL || PHASE(s) == EXCEPTIONAL) && ((s) & MOVED) == 0)
/* take_step(s) (T4): Pending iff TAKE_PENDING(s); NoOutcome iff TAKE_NO_OUTCOME(s);
   Last(TAKE_LAST_TO(s)) iff TAKE_LAST(s); AfterDrain(TAKE_AFTER_DRAIN_BY(s)) iff
   TAKE_AFTER_DRAIN(s); else Shared */
#define TAKE_PENDING(s)     (!IS_SETTLED(s))
#define TAKE_NO_OUTCOME(s)  (IS_SETTLED(s) && !OWNS_OUTCOME(s))
#define TAKE_LAST(s)        (OWNS_OUTCOME(s) && REFS(s) == 1)
#define TAKE_LAST_TO(s)     ((s) | MOVED)
#ifdef MUTANT_TAKE_IGNORES_DRAIN_HELD
#define TAKE_AFTER_DRAIN(s) (OWNS_OUTCOME(s) && REFS(s) == 2)
#else
#define TAKE_AFTER_DRAIN(s) (OWNS_OUTCOME(s) && REFS(s) == 2 && ((s) & DRAIN_HELD) != 0)
#endif
#define TAKE_AFTER_DRAIN_BY(s) (REF - MOVED)
#define HEAD_PTR(h)         ((h) & 224)            /* h & !HEAD_FLAGS on a byte */
#define ADDR(i)             (((i) + 1) * NODE_ALIGN)
#define NODE_AT(a)          ((a) / NODE_ALIGN - 1)
/* try_push(h, node, callback): None iff PUSH_CLOSED(h), else Some(PUSH_TO(h, node, callback)) */
#ifdef MUTANT_NO_CLOSED_CHECK
#define PUSH_CLOSED(h)      false
#define PUSH_TO(h, a, cb)   ((a) | ((h) & HEAD_FLAGS) | ((cb) -> CALLBACKS : 0))
#else
#define PUSH_CLOSED(h)      (((h) & CLOSED) != 0)
#define PUSH_TO(h, a, cb)   ((a) | ((h) & (LOCKED | DIRTY | DRAINING | CALLBACKS)) | ((cb) -> CALLBACKS : 0))
#endif
/* drain_step(h): WaitForRemover iff DRAIN_WAIT(h); Close(DRAIN_CLOSE_TO(h)) iff DRAIN_CLOSE(h);
   DetachClose(DRAIN_DETACH_CLOSE_TO(h)) iff DRAIN_DETACH_CLOSE(h); else Detach(DRAIN_DETACH_TO(h)) */
#define DRAIN_WAIT(h)       (((h) & LOCKED) != 0)
#ifdef MUTANT_NO_REDRAIN
#define DRAIN_CLOSE(h)      (!DRAIN_WAIT(h) && (HEAD_PTR(h) == 0 || drained))
#else
#define DRAIN_CLOSE(h)      (!DRAIN_WAIT(h) && HEAD_PTR(h) == 0)
#endif
#define DRAIN_CLOSE_TO(h)   CLOSED
#define DRAIN_DETACH_CLOSE(h) (!DRAIN_WAIT(h) && !DRAIN_CLOSE(h) && ((h) & CALLBACKS) == 0)
#define DRAIN_DETACH_CLOSE_TO(h) CLOSED
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
/* take_head_step(h) (T5): Take iff TAKE_HEAD_GO(h); Callbacks iff TAKE_HEAD_GIVE_UP(h); else Wait */
#ifdef MUTANT_TAKE_SKIPS_CLOSE
#define TAKE_HEAD_GO(h)     true
#else
#define TAKE_HEAD_GO(h)     (((h) & CLOSED) != 0)
#endif
#define TAKE_HEAD_GIVE_UP(h) (!TAKE_HEAD_GO(h) && ((h) & (CALLBACKS | DRAINING)) != 0)
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
/* without a canceller, a counted task's readers can all leave before it settles (a timed get's
   zero timeout, the cloner), so the promise's W1 may give up the last reference and free it */
#ifndef WITH_CANCELLER
#define WITH_CANCELLER 1
#endif
/* -DCOUNTED_TASK=1: a promise's counted task (I13) instead of a runner's task: the promise
   replaces the runner, every other actor holds one reference, and a cloner is added */
#ifndef COUNTED_TASK
#define COUNTED_TASK 0
#endif
#ifndef WITH_CLONER
#define WITH_CLONER COUNTED_TASK
#endif
/* a counted task's takers (T4, T5): -DWITH_TAKER=1 adds a handle that takes the outcome at any
   time, without waiting (Pending: it drops the handle); -DUNTIMED_TAKES=1 makes the untimed
   get's handle take the outcome once the get returned */
#ifndef WITH_TAKER
#define WITH_TAKER 0
#endif
#ifndef UNTIMED_TAKES
#define UNTIMED_TAKES 0
#endif
#define RUNNER 0
#define PROMISE 0         /* the promise takes the runner's thread id (a counted task has no runner) */
#define CANCELLER 1
#define W_UNTIMED 2
#define W_TIMED 3
#define W_ASYNC 4
#define CB 5
#define NT 6
#define NWAITERS (WITH_UNTIMED + WITH_TIMED + WITH_ASYNC)
/* a counted task's references: the promise, the canceller, every waiter, the callback's
   registrar, the cloner and the taker */
#define NREFS (1 + WITH_CANCELLER + NWAITERS + WITH_CB + WITH_CLONER + WITH_TAKER)
/* completeness of the take: with the promise and one handle only (no other handle, no
   callback), a taker that finds the outcome published takes it (never Shared, never T5's
   give-up) */
#define TAKE_COMPLETE (NREFS == 2)

/* ---- shared words ---- */
int state = NEW;          /* int: a counted task's word carries its count (bits 8..) */
byte head = 0;
byte runner = 0;          /* thread id + 1, 0 = null */
byte outcome = 0;         /* 0 = unwritten, 1 = a value (the closure's, set), 2 = a failure (fail, broken promise) */
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
bit nfreed[NT];           /* the waiter's node (its stack frame / future) is gone */
byte cbran = 0;           /* callback runs (I7) */
byte wret = 0;            /* waiters returned or dropped */
bit runner_left = 0;      /* the runner left run() */
bit runner_in_run = 0;    /* the runner is between R3 and leaving run() (I5) */
byte seen[NT];            /* I9: phase + 1 last observed by each thread */
bit freed = 0;            /* I13: the counted task was freed (T3) */
byte nleft = 0;           /* I13: reference holders that finished (their last T2 done) */
bit moved = 0;            /* I13: a taker moved the outcome out (T4) */
byte t5s = 0;             /* takers in T5's loop */

/* I13: every access to the task's words (state, head, outcome, runner, sleep word, the callback
   node it owns) asserts that the task is not freed */
inline live() {
  assert(!freed)
}

/* I9: every state load by an observer moves forward along allowed edges only */
inline observe(me, s) {
  live();
  assert(seen[me] == 0 || PHASE_REACHABLE(seen[me] - 1, PHASE(s)));
  seen[me] = PHASE(s) + 1
}
/* I2: a reader of a settled state reads the outcome cell it announces (a value for NORMAL, a
   failure for EXCEPTIONAL); I13: the cell is the task's */
inline read_outcome(s) {
  assert(IS_SETTLED(s));
  /* I13: no read of the outcome after its move (T4) */
  assert(!freed && (PHASE(s) != NORMAL || outcome == 1) && (PHASE(s) != EXCEPTIONAL || outcome == 2) && !moved)
}
/* a done-callback runs (reads the outcome): once (I7), on a settled task (I2), not after the
   outcome's move (I13) */
inline run_callback(s) {
  live(); assert(IS_SETTLED(s) && !moved); assert(cbran == 0); cbran++; nfreed[CB] = 1
}
/* I6: a non-owner touches a node only before it is released and freed */
inline touch(i) {
  assert(nst[i] != NODE_DONE && !nfreed[i] && (i != CB || !freed))
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
  atomic { live(); sword++ };                                /* H6: increment */
  atomic { live(); fblocked = 0; sleepers = 0 }              /* H6: futex_wake_all */
}

/* finish_completion(): F1/F2, hand_off_batch (H1..H6), callbacks */
inline finish_completion(me) {
  do
  :: atomic { !DRAIN_WAIT(head) -> live(); h = head }     /* F1 (WaitForRemover: blocked) */
     if
     :: DRAIN_CLOSE(h) ->                                   /* F2 Close */
        atomic { live(); if :: head == h -> head = DRAIN_CLOSE_TO(h); ok = 1 :: else -> ok = 0 fi };
        if :: ok -> break :: else -> skip fi
     :: else ->                                              /* F2 Detach, DetachClose */
        atomic { live(); if :: head == h -> head = (DRAIN_DETACH_CLOSE(h) -> DRAIN_DETACH_CLOSE_TO(h) : DRAIN_DETACH_TO(h)); closing = DRAIN_DETACH_CLOSE(h); cur = HEAD_PTR(h); ok = 1 :: else -> ok = 0 fi };
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
              atomic { run_callback(state); mycb = 0 }
           :: else -> skip
           fi;
           if :: closing -> closing = 0; break :: else -> skip fi   /* DetachClose: the drain is over */
        :: else -> skip
        fi
     fi
  od;
  h = 0; ok = 0
}

/* push(node me): P1..P3; sets closed = 1 when the stack was closed */
inline push(me) {
  atomic { live(); h = head };                               /* P1 */
  do
  :: PUSH_CLOSED(h) -> closed = 1; break                     /* P2: Closed */
  :: else ->
     nnext[me] = HEAD_PTR(h);                                /* P2: own, unpublished node */
     atomic {                                                /* P3 */
       live();
       if
       :: head == h -> head = PUSH_TO(h, ADDR(me), me == CB); pushed[me] = 1; ok = 1
       :: else -> h = head; ok = 0
       fi
     };
     if :: ok -> break :: else -> skip fi
  od;
  h = 0; ok = 0
}

/* P0, a pusher on a counted task, before its push: announce it in the state word, so that the
   completion drains the stack; sets settled = 1 (s: the word read) when the task settled
   unannounced (nobody pushed, nobody will drain: push nothing). On an uncounted task P0 is a
   load whose decision is always Push: left out. */
inline announce() {
  atomic { live(); s = state };                              /* P0: load */
  do
  :: ANNOUNCE_PUSH(s) -> break
  :: ANNOUNCE_SETTLED(s) -> settled = 1; break
  :: !ANNOUNCE_PUSH(s) && !ANNOUNCE_SETTLED(s) ->            /* P0: CAS (Set) */
     atomic { live(); if :: state == s -> state = ANNOUNCE_TO(s); ok = 1 :: else -> s = state; ok = 0 fi };
     if :: ok -> break :: else -> skip fi
  od;
  ok = 0;
  if :: !settled -> s = 0 :: else -> skip fi
}

/* remove_abandoned() for thread me: A1, A2, S1, S2 */
inline remove_abandoned(me) {
  atomic { live(); h = head };                               /* A1 */
  do
  :: REMOVE_AWAIT(h) -> break                                /* A2: AwaitHandOff */
  :: REMOVE_DIRTY(h) ->              /* A2: MarkDirty (also when DIRTY is set: a CAS h -> h) */
     atomic { live(); if :: head == h -> head = REMOVE_DIRTY_TO(h); ok = 1 :: else -> h = head; ok = 0 fi };
     if :: ok -> break :: else -> skip fi
  :: !REMOVE_AWAIT(h) && !REMOVE_DIRTY(h) ->                 /* A2: Lock */
     atomic { live(); if :: head == h -> head = REMOVE_LOCK_TO(h); ok = 1 :: else -> h = head; ok = 0 fi };
     if
     :: ok ->
        do                                                    /* sweep; S2 decides */
        :: atomic { live(); cur = HEAD_PTR(head); pred = 0; h = 0 }; /* S1: walk from the head */
           do
           :: cur == 0 -> break
           :: cur != 0 ->
              i = NODE_AT(cur);
              atomic { if :: i != me -> touch(i) :: else -> skip fi;
                       nxt = nnext[i]; ab = (i != CB && nst[i] == NODE_ABANDONED) };
              if
              :: ab && pred == 0 ->                           /* S1: unlink at the head */
                 atomic { live(); h = head };                 /* S1: head re-load */
                 if                                           /* unlink_head */
                 :: UNLINK_OK(h, cur) ->                      /* S1: head CAS */
                    atomic { live(); if :: head == h -> head = UNLINK_TO(h, nxt); ok = 1 :: else -> ok = 0 fi; h = 0 }
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
              :: atomic { live(); h = head };
                 atomic { live(); if :: head == h -> head = UNLOCK_TO(h); ok = 1 :: else -> ok = 0 fi };
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

/* T3: free the task (its drop: unrun callbacks, the published outcome), by the last reference.
   I13: exactly once (here never twice; Final: at least once), and after every other reference's
   last use: the drain is over (CLOSED: no node, no callback left), every callback ran */
inline free_task() {
  atomic {                                                   /* T3 */
    assert(!freed); freed = 1;
    assert(head == CLOSED || ((state & ANNOUNCED) == 0 && head == 0));   /* drained, or unused */
    /* the drop drops the outcome iff the word owns it; it must own it iff it was published
       (not taken back) and not moved out: dropped or moved exactly once */
    assert(IS_SETTLED(state) && OWNS_OUTCOME(state) == (outcome != 0 && !moved)); assert(cbran == WITH_CB)
  }
}

/* T2: release one reference of a counted task (s: the caller's local word). The last
   reference (a count of 1) frees without a read-modify-write; I13: a holder never sees a count
   below its own reference (a lost increment or decrement shows up here, or as a double or
   missing free) */
inline release_ref() {
  atomic { live(); s = state; assert(REFS(s) >= 1) };       /* T2: load [Acquire] */
  if
  :: REFS(s) != 1 ->
     atomic { live(); s = state; assert(REFS(s) >= 1); state = state - REF };   /* T2: fetch_sub [Release] */
     if
     :: REFS(s) != 1 -> s = 0                                /* not the last */
     :: else -> s = 0; free_task()                           /* T2: fence [Acquire]; T3 */
     fi
  :: else -> s = 0; free_task()                              /* T3 */
  fi
}

/* the end of a reference holder of a counted task: its reference's T2 */
inline holder_done() {
  release_ref();                                             /* T2 */
  nleft++
}

/* W3: the promise's reference, kept by W1 for the drain (DRAIN_HELD), released after it: T2,
   with DRAIN_HELD cleared in the same fetch_sub (DRAIN_REF). MUTANT_PUBLISH_WITHOUT_DRAIN_HELD:
   W1 does not set the flag, and W3, unchanged, still subtracts DRAIN_REF, as the kernel's mutant */
#define W3_SUB DRAIN_REF
inline release_after_drain() {
#ifndef MUTANT_PUBLISH_WITHOUT_DRAIN_HELD
  /* W3: load [Acquire]; W1 marked the reference kept (DRAIN_HELD) */
  atomic { live(); s = state; assert(REFS(s) >= 1 && (s & DRAIN_HELD) != 0) };
#else
  atomic { live(); s = state; assert(REFS(s) >= 1) };       /* W3: load [Acquire] */
#endif
  if
  :: REFS(s) != 1 ->
     atomic { live(); s = state; assert(REFS(s) >= 1); state = state - W3_SUB };   /* W3: fetch_sub [Release] */
     if
     :: REFS(s) != 1 -> s = 0                                /* not the last */
     :: else -> s = 0; free_task()                           /* W3: fence [Acquire]; T3 */
     fi
  :: else -> s = 0; free_task()                              /* T3 */
  fi;
  nleft++
}

/* T4: the outcome moved out of its cell (ghost): published, moved at most once (I13) */
inline move_outcome(s) {
  atomic {
    live(); assert(OWNS_OUTCOME(s));
    assert((PHASE(s) != NORMAL || outcome == 1) && (PHASE(s) != EXCEPTIONAL || outcome == 2));
    assert(!moved); moved = 1
  }
}

/* T4 (+ T5): a handle of a counted task gives up its reference for the outcome; Pending, Shared
   and T5's give-up keep the reference (the handle is handed back), which is then dropped (T2)
   like any handle's. TAKE_COMPLETE: with no other handle and no callback, an outcome found
   published is taken */
inline take_outcome() {
  atomic { live(); s = state; assert(REFS(s) >= 1) };       /* T4: load [Acquire] */
  if
  :: TAKE_PENDING(s) -> s = 0; holder_done()                 /* T4 Pending: handed back; T2 */
  :: TAKE_NO_OUTCOME(s) -> s = 0; holder_done()              /* T4 NoOutcome (cancelled): T2 */
  :: TAKE_LAST(s) ->                                         /* T4 Last: nobody else can reach it */
     move_outcome(s);
     atomic { live(); assert(state == s); state = TAKE_LAST_TO(s); s = 0 };   /* T4: store [Relaxed] */
     free_task();                                            /* T3 (MOVED: the outcome is not dropped) */
     nleft++
  :: TAKE_AFTER_DRAIN(s) ->          /* T4 AfterDrain: the other reference is the draining promise's */
     t5s++;
     do                                                      /* T5: head.load [Acquire], in a loop */
     :: atomic { TAKE_HEAD_GO(head) -> live(); t5s-- }; break   /* T5 Take: CLOSED, the drain reads no outcome */
     :: atomic { TAKE_HEAD_GIVE_UP(head) -> live(); t5s--; assert(!TAKE_COMPLETE); s = 0 };   /* T5 Callbacks */
        holder_done(); goto taken                            /* handed back; T2 */
     :: atomic { !TAKE_HEAD_GO(head) && !TAKE_HEAD_GIVE_UP(head) -> live() }   /* T5 Wait: yield, look again */
     od;
     move_outcome(s);
     atomic { live(); state = state - TAKE_AFTER_DRAIN_BY(s);   /* T4: fetch_sub [Release] (one REF less, MOVED) */
              s = state + TAKE_AFTER_DRAIN_BY(s); assert(REFS(s) >= 1) };   /* s: the word it returned */
     if
     :: REFS(s) == 1 -> s = 0; free_task()                   /* T4: fence [Acquire]; T3 */
     :: else -> s = 0
     fi;
     nleft++
  :: else -> assert(!TAKE_COMPLETE); s = 0; holder_done()    /* T4 Shared: handed back; T2 */
  fi;
taken:
  skip
}

proctype Runner() {
  int s, n; byte h, cur, nxt, pay, i; bit ok, aband, mycb, lost, slept, sleepers, closing;   /* closing: F2's DetachClose closed the stack with this batch */
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
  int s, n; byte t, h, cur, nxt, pay, i; bit ok, aband, mycb, sleepers, drain, closing;   /* closing: F2's DetachClose closed the stack with this batch */
#ifdef MUTANT_NO_REDRAIN
  bit drained;
#endif
  atomic { live(); s = state };                              /* C1 */
  do
  :: !CAN_CANCEL(s) -> goto out
  :: CAN_CANCEL(s) ->
     atomic { live(); if :: state == s -> n = CANCEL_TO(s, 1); state = n; wins++; ok = 1; s = 0;
                                  drain = MUST_DRAIN(n)      /* C6's decision, on the word C1 wrote */
              :: else -> s = state; ok = 0 fi };
     if :: ok -> break :: else -> skip fi
  od;
  ok = 0;
#if COUNTED_TASK && !defined(MUTANT_COUNTED_PLAIN_STORE)
  if                                 /* a counted task: C1 went straight to INTERRUPTED, no C2..C5 */
  :: IS_COUNTED(n) -> n = 0; goto c6
  :: else -> skip
  fi;
#endif
  atomic { live(); t = runner; runner = 0 };                 /* C2 fence, C3 (swap) */
  if
  :: t != 0 -> atomic { assert(runner_in_run); permit[t - 1] = 1; t = 0 }   /* C4 (I5) */
  :: else -> skip
  fi;
  atomic { live(); state = FINISH_INTERRUPT(n); n = 0 };     /* C5 */
c6:
#if COUNTED_TASK
  if                                 /* C6: nobody announced a push on a counted task: no drain */
  :: drain -> drain = 0; finish_completion(CANCELLER)
  :: else -> skip
  fi;
#else
  finish_completion(CANCELLER);      /* C6 (an uncounted task always drains: must_drain) */
#endif
out:
  s = 0
#if COUNTED_TASK
  ; holder_done()
#endif
}

/* a counted task's promise: set(v), fail(e) or dropped unset (a broken promise: its drop fails
   the task unless it is done), then its reference: given up by the W1 CAS when nobody announced
   a push, else kept (DRAIN_HELD) and released after the drain (W3); released by T2 when a
   cancel won */
proctype Promise() {
  int s; byte h, cur, nxt, pay, i; bit ok, okv, aband, mycb, sleepers, closing;   /* closing: F2's DetachClose closed the stack with this batch */
#ifdef MUTANT_NO_REDRAIN
  bit drained;
#endif
  if
  :: okv = 1                                                 /* set(v) */
  :: okv = 0                                                 /* fail(e) */
  :: atomic { live(); s = state };                           /* drop unset: is_done() */
     if :: IS_DONE(s) -> s = 0; goto release :: else -> s = 0; okv = 0 fi   /* broken promise */
  fi;
  atomic { live(); outcome = 2 - okv };                      /* W1: outcome.write (unpublished) */
  atomic { live(); s = state };                              /* W1: load */
  do
  :: !CAN_PUBLISH(s) ->                                      /* a cancel won: take it back */
     atomic { live(); outcome = 0; s = 0; okv = 0 }; goto release
  :: CAN_PUBLISH(s) ->
     atomic { live(); if :: state == s -> state = PUBLISH_TO(s, okv); wins++; ok = 1   /* W1: CAS */
              :: else -> s = state; ok = 0 fi };
     if :: ok -> break :: else -> skip fi
  od;
  ok = 0; okv = 0;
  if
  :: PUBLISH_RELEASES(s) ->          /* the CAS gave the reference up: no W2, no T2 */
     if :: REFS(s) == 1 -> s = 0; free_task() :: else -> s = 0 fi;   /* T3: it was the last */
     nleft++; goto done
  :: else -> s = 0
  fi;
#ifdef MUTANT_RELEASE_BEFORE_DRAIN
  release_after_drain();                                     /* W3 before the drain */
  finish_completion(PROMISE);                                /* W2 */
  goto done;
#endif
  finish_completion(PROMISE);                                /* W2 (the promise keeps its reference) */
  release_after_drain();                                     /* W3 */
  goto done;
release:
  holder_done();                                             /* T2 */
done:
  skip
}

/* a reader that clones its reference (T1) and drops both. T1's overflow check
   (refs(old) >= MAX_REFS: undo and panic) cannot fire with a handful of references */
proctype Cloner() {
  int s;
  atomic { live(); s = state; assert(REFS(s) >= 1); state = state + REF; s = 0 }   /* T1: fetch_add */
  release_ref();                                             /* T2 (the clone) */
  release_ref();                                             /* T2 (its own) */
  nleft++
}

/* get(): untimed (timed = 0) or timed */
proctype Waiter(byte me; bit timed; bit take) {
  int s; byte h, cur, nxt, pred, pay, i, e; bit ok, closed, aband, ab, restart, sleepers, settled;
  atomic { s = state; observe(me, s) };                      /* G1 */
  if
  :: IS_SETTLED(s) -> read_outcome(s); goto ret
  :: PHASE(s) == COMPLETING -> goto g2
  :: PHASE(s) == NEW && timed -> goto ret                    /* G3: zero timeout */
  :: PHASE(s) == NEW -> skip
  fi;
#if COUNTED_TASK
  announce();                                                /* P0 */
  if
  :: settled -> atomic { observe(me, s); read_outcome(s); settled = 0 }; goto ret
  :: else -> skip
  fi;
#endif
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
     :: atomic { live(); e = sword };                        /* G7: word load (before the node) */
        if
        :: atomic { nst[me] == NODE_DONE -> e = 0; s = state; observe(me, s) };
           if :: IS_SETTLED(s) -> read_outcome(s); goto ret :: else -> goto g2 fi
        :: atomic { nst[me] != NODE_DONE -> assert(seen[me] != 0 && !IS_DONE(seen[me] - 1)) };
           atomic {                                          /* futex_wait(sword, e): check */
             live();
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
  atomic { assert(!pushed[me] || nst[me] == NODE_DONE); nfreed[me] = 1; wret++; s = 0; closed = 0 }
#if COUNTED_TASK && UNTIMED_TAKES
  ;
  if
  :: take -> take_outcome()                                  /* T4: the handle takes the outcome */
  :: else -> holder_done()
  fi
#elif COUNTED_TASK
  ; holder_done()
#endif
}

/* an async waiter (future.rs poll_done / detach): poll, re-poll (same or new waker), drop */
proctype Async(byte me) {
  int s; byte h, cur, nxt, pred, pay, i; bit ok, closed, aband, ab, restart, registered, repolled, dropper, sleepers, settled;
  if :: dropper = 1 :: dropper = 0 fi;                       /* will this future be dropped? */
poll:
  atomic { s = state; observe(me, s) };                      /* every poll: G1 */
  if
  :: IS_DONE(s) -> s = 0; goto ready                         /* report waits out COMPLETING */
  :: else -> s = 0
  fi;
  if
  :: !registered ->
#if COUNTED_TASK
     announce();                                             /* P0 */
     if :: settled -> settled = 0; s = 0; goto ready :: else -> skip fi;
#endif
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
  atomic { assert(!pushed[me] || nst[me] == NODE_DONE); nfreed[me] = 1; wret++;
           s = 0; closed = 0; registered = 0; repolled = 0; dropper = 0 }
#if COUNTED_TASK
  ; holder_done()
#endif
}

/* a handle that takes the outcome (T4, T5) at any time, without waiting for the task */
proctype Taker() {
  int s
  ; take_outcome()
}

proctype Callback() {
  int s; byte h; bit ok, closed, settled;
#if COUNTED_TASK
  announce();                                                /* P0 */
  if
  :: settled ->                      /* settled unannounced: no earlier callback pending, run it now */
     atomic { run_callback(s); settled = 0; s = 0 };
     goto ran
  :: else -> skip
  fi;
#endif
  push(CB);                                                  /* D1 */
  if
  :: closed -> atomic { run_callback(state); closed = 0 }   /* D2 */
  :: else -> skip
  fi
#if COUNTED_TASK
  ;
ran:
  holder_done()
#endif
}

/* end-state checks: every pushed waiter node released, the callback ran exactly once */
proctype Final() {
  atomic {
#if COUNTED_TASK
    (nleft == NREFS) ->                                       /* every reference holder finished */
    assert(freed);                                           /* I13: T3 ran (once: free_task) */
#else
    (wret == NWAITERS && runner_left && (cbran > 0 || !WITH_CB)) ->
#endif
    assert(cbran == WITH_CB);
    assert(!pushed[W_UNTIMED] || released[W_UNTIMED]);
    assert(!pushed[W_TIMED] || released[W_TIMED]);
    assert(!pushed[W_ASYNC] || released[W_ASYNC])
  }
}

init {
  atomic {
    run Final();
#if COUNTED_TASK
    state = COUNTED_NEW(NREFS);
    run Promise();
#else
    run Runner();
#endif
#if WITH_CANCELLER
    run Canceller();
#endif
#if WITH_UNTIMED
    run Waiter(W_UNTIMED, 0, UNTIMED_TAKES);
#endif
#if WITH_TIMED
    run Waiter(W_TIMED, 1, 0);
#endif
#if WITH_ASYNC
    run Async(W_ASYNC);
#endif
#if WITH_CB
    run Callback();
#endif
#if WITH_CLONER
    run Cloner();
#endif
#if WITH_TAKER
    run Taker();
#endif
  }
}

ltl single_winner { [] (wins <= 1) }
ltl waiters_return { [] (IS_SETTLED(state) -> <> (wret == NWAITERS)) }
ltl runner_settles { [] (PHASE(state) == INTERRUPTING -> <> runner_left) }
ltl callbacks_run { <> (cbran == WITH_CB) }
ltl task_freed { <> freed }
ltl take_ends { [] (t5s > 0 -> <> (t5s == 0)) }
