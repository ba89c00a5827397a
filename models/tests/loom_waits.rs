//! loom models of the kernel's blocking waits: a wait inside a run that is cancelled with
//! interrupt (I12), and three abandoning waiters (A2 with DIRTY already set). The executor's
//! waits on many tasks (the completion inbox) are `executor_loom.rs`. Same harness and
//! conventions as `loom.rs` (one spinner at a time, `FT-MODEL` line per model).

#![cfg(loom)]

mod common;

use common::loom::interrupted_waiter;
use futuretask::{coverage, Error, FutureTask};
use futuretask_models::loom_driver::{check, Bound};
use futuretask_models::{drop_and_poison, poll_once, WakeProbe};
use loom::thread;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

/// What the interrupted closure's `get` returned: 1 value, 2 interrupted, 3 other.
fn code(r: Result<&u32, Error>) -> usize {
    match r {
        Ok(_) => 1,
        Err(Error::Interrupted) => 2,
        Err(_) => 3,
    }
}

/// **a parked getter × cancel_and_interrupt() of its own task** (I5, I12, I6). Threads: the runner (task
/// A's closure blocks in `other.get()`, untimed, on a task nobody completes while A runs), main
/// (`cancel_and_interrupt()` on A, then joins the runner, then completes `other`). Checks: `run` returns
/// although `other` is still pending — a getter that ignored its interrupt, or slept where the
/// canceller's unpark does not reach it, stays blocked and loom reports the deadlock; the getter
/// saw `Interrupted` (or the closure never ran, cancel having won from NEW); after `run` the
/// thread sees no interrupt; `other`'s stack is empty (the getter unlinked its node) and `other`
/// still completes. Only the runner spins (`run`'s INTERRUPTING wait). Bound: exhaustive.
#[test]
fn interrupted_getter() {
    interrupted_waiter("interrupted_getter", |o| code(o.get()));
}

/// **three abandoning waiters** (I6; A2 with DIRTY already set). Threads: two runners, each
/// running its own task whose closure waits in `other.get()` (inside a run: it parks), and main,
/// the third waiter (it polls a `done()` future on `other` once, then `cancel_and_interrupt()`s the two
/// tasks, then drops its future in place and poisons it, then joins the runners). An interrupted
/// getter abandons its node and *parks* until the node is released, so at most one thread
/// (main's dropped future, if it is not the lock holder) yield-spins for another — the obstacle
/// that kept this scenario out of loom, where three async droppers spin for the holder at once
/// (the shuttle model `three_abandoners` covers that shape). One remover can hold the remover
/// lock while a second marks DIRTY and a third finds DIRTY already set and must still CAS
/// (ALGORITHM.md "A2 under C11"). Checks: every wait ends — a lock holder that ignored DIRTY
/// (`sweeper_ignores_dirty`), or an abandoner that skipped its CAS on finding DIRTY
/// (`mark_dirty_skips_cas`, whose ABANDONED store the holder's re-sweep may then not see),
/// leaves an abandoner parked (loom: deadlock) or spinning (loom: branch limit) forever; the
/// stack is empty (I6), main's waker was never woken and not leaked, `other` still completes;
/// and, over all executions, some remover found DIRTY already set (`coverage`). Bound:
/// preemption=1 in the quick tier (the step needs one: the lock holder's, inside its sweep; main
/// parks until both closures run instead of spending a preemption on it; 115,872 executions,
/// ~10 s), 2 in the full tier (2,721,926 executions, ~260 s).
#[test]
fn three_abandoners() {
    let before = coverage::dirty_already_set();
    let bound = Bound::tiered(Bound::Preemption(1), Bound::Preemption(2));
    check("three_abandoners", "I6", bound, || {
        let other: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
        let main = thread::current();
        let entered = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (o, m, e) = (Arc::clone(&other), main.clone(), Arc::clone(&entered));
                Arc::new(FutureTask::new(move || {
                    e.fetch_add(1, SeqCst);
                    m.unpark();
                    assert!(
                        matches!(o.get(), Err(Error::Interrupted)),
                        "I12: only the interrupt ends this get"
                    );
                }))
            })
            .collect();
        let runners: Vec<_> = tasks
            .iter()
            .map(|t| {
                let t = Arc::clone(t);
                thread::spawn(move || {
                    t.run();
                })
            })
            .collect();
        let probe = WakeProbe::new();
        let mut fut = Box::pin(other.handle().when_done());
        assert!(poll_once(fut.as_mut(), &probe.waker()).is_pending());
        // Cancel once both closures run (main parks: no preemption spent on letting the
        // runners reach their `get`).
        while entered.load(SeqCst) < 2 {
            thread::park();
        }
        // Steer loom's first schedule (its DPOR does not try every reordering of a load and
        // a CAS, see `loom.rs`): runner 1 abandons first and takes the remover lock (main
        // yields to it); if it is preempted there, main interrupts runner 0, marks DIRTY and
        // yields, and loom's next pick is runner 0 (the lowest runnable id), which finds DIRTY
        // already set. (Without this order preemption=1 never reached the step.)
        assert!(tasks[1].cancel_and_interrupt());
        thread::yield_now();
        assert!(tasks[0].cancel_and_interrupt());
        let poisoned = drop_and_poison(fut);
        for r in runners {
            r.join().unwrap();
        }
        assert_eq!(
            other.waiter_stack_len(),
            0,
            "I6: an abandoned node is still linked"
        );
        assert_eq!(probe.wakes(), 0);
        assert_eq!(Arc::strong_count(&probe), 1, "a stored waker leaked");
        other.set(1).unwrap();
        assert_eq!(*other.get().unwrap(), 1);
        drop(poisoned);
    });
    assert!(
        coverage::dirty_already_set() > before,
        "no execution reached a remover finding DIRTY already set"
    );
}
