//! loom models of the executor (`futuretask-executor`), through its public API and the kernel's
//! (run with `RUSTFLAGS="--cfg loom" cargo test -p futuretask-models --release --test
//! executor_loom`): the executor's waits on many tasks (the completion inbox,
//! `executor/src/inbox.rs`: hand-offs N1 register × complete, N2 post × sleep, N3 give up ×
//! complete, N4 sleep × interrupt), including a consumer inside a run that is cancelled with
//! interrupt (I12), and the thread pool, which never loses a task (I10). Same harness and
//! conventions as `loom.rs` (one spinner at a time, `FT-MODEL` line per model); the test paths
//! (`inbox_untimed`, `executor::submit_drop`, ...) are the ones `models/mutants/REGISTRY` runs.

#![cfg(loom)]

mod common;

use common::loom::interrupted_waiter;
use futuretask::{current, mock_clock, Error, FutureTask, TaskHandle};
use futuretask_executor::{as_completed, wait, CompletionService, Incomplete, ReturnWhen};
use futuretask_models::loom_driver::{check, Bound};
use futuretask_models::TICK;
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

// ---- the completion inbox (N1-N4) and an inbox consumer inside a run (I12) --------------------

/// **untimed consumer × a completer × a canceller** (I3; N1, N2). Threads: main (an
/// `as_completed` over two tasks, untimed, registering while the others run), a thread that sets
/// task 0, a thread that cancels task 1. Checks: both tasks are yielded exactly once, each with
/// its own outcome (a notice lost at registration — the task finished before the watch linked —
/// or at the inbox — a post that does not signal the sleeping consumer, or a consumer that
/// announces its sleep too late — leaves main blocked: loom reports the deadlock); no node is
/// left on either task. Only main can spin (on COMPLETING, inside the watch's first poll).
/// Bound: preemption=3 (the unbounded space — two waiter stacks, the inbox lock and condition
/// variable — ran past 10 minutes).
#[test]
fn inbox_untimed() {
    check("inbox_untimed", "I3", Bound::Preemption(3), || {
        let tasks: Vec<Arc<FutureTask<u32>>> = (0..2)
            .map(|_| Arc::new(FutureTask::<u32, _>::pending()) as Arc<FutureTask<u32>>)
            .collect();
        let t0 = Arc::clone(&tasks[0]);
        let setter = thread::spawn(move || t0.set(5).unwrap());
        let t1 = Arc::clone(&tasks[1]);
        let canceller = thread::spawn(move || assert!(t1.cancel()));
        let mut seen = [0u8; 2];
        for r in as_completed(tasks.iter().map(|t| t.handle()), None) {
            let t = r.expect("untimed: never times out");
            let i = tasks
                .iter()
                .position(|x| TaskHandle::ptr_eq(&x.handle(), &t))
                .unwrap();
            seen[i] += 1;
            match i {
                0 => assert_eq!(*t.get().unwrap(), 5),
                _ => assert!(matches!(t.get(), Err(Error::Cancelled))),
            }
        }
        assert_eq!(seen, [1, 1], "I3: each task yielded exactly once");
        setter.join().unwrap();
        canceller.join().unwrap();
        for t in &tasks {
            assert_eq!(t.waiter_stack_len(), 0);
        }
    });
}

/// **timed consumer × the clock × a completer** (I3, I6, I9; N2, N3). Threads: main
/// (`as_completed` over one task with a one-tick timeout, then `wait(FIRST_COMPLETED)` with a
/// one-tick timeout), a clock thread (`expire_all`), a completer. Checks: the iterator yields the
/// task or `TimedOut` with the right counts, never hangs; once a wait returned, the task's stack
/// holds none of its nodes (a wait that gives up unlinks every registration; the completer may
/// be releasing one, and the give-up waits for that); `wait` agrees with `is_done`. Only main
/// spins (the mock-clock waits). Bound: preemption=3 (every spin of a timed wait is another
/// scheduling point).
#[test]
fn inbox_timed() {
    check("inbox_timed", "I3,I6,I9", Bound::Preemption(3), || {
        let task: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let completer = thread::spawn(move || t.set(2).unwrap());
        let clock = thread::spawn(mock_clock::expire_all);
        let mut it = as_completed(vec![task.handle()], Some(TICK));
        match it.next().unwrap() {
            Ok(t) => assert_eq!(*t.get().unwrap(), 2),
            Err(e) => {
                assert_eq!((e.unfinished(), e.total()), (1, 1));
                assert_eq!(
                    task.waiter_stack_len(),
                    0,
                    "I6: a timed-out as_completed left its node"
                );
            }
        }
        assert!(it.next().is_none());
        drop(it);
        let (done, not_done) = wait(vec![task.handle()], ReturnWhen::FirstCompleted, Some(TICK));
        assert_eq!(done.len() + not_done.len(), 1);
        if !not_done.is_empty() {
            assert_eq!(
                task.waiter_stack_len(),
                0,
                "I6: a timed-out wait left its node"
            );
        }
        completer.join().unwrap();
        clock.join().unwrap();
        assert_eq!(task.waiter_stack_len(), 0);
        let (done, _) = wait(vec![task.handle()], ReturnWhen::AllCompleted, None);
        assert_eq!(done.len(), 1, "I9: done means done");
    });
}

/// What the interrupted closure's inbox wait returned: 1 the task (with value 4), 2 interrupted,
/// 3 anything else (a timeout, or a task without its value).
fn inbox_code(r: Option<Result<TaskHandle<u32>, Incomplete>>) -> usize {
    match r {
        Some(Ok(t)) if t.try_get().and_then(Result::ok) == Some(&4) => 1,
        // The count is a snapshot: a completion published but not yet posted counts as finished.
        Some(Err(Incomplete::Interrupted(e))) if e.total() == 1 && e.unfinished() <= 1 => 2,
        _ => 3,
    }
}

/// **a consumer parked in the inbox × cancel_and_interrupt() of its own task** (I5, I6, I12; N4).
/// Threads: the runner (task A's closure iterates `as_completed` over a task nobody completes
/// while A runs: it registers, finds the inbox empty and parks), main (`cancel_and_interrupt()` on A, then
/// joins the runner, then completes `other`). Checks: `run` returns although `other` is still
/// pending — a consumer that sleeps where the canceller's unpark does not reach it (the
/// condition variable), or that does not re-check the interrupt after a wakeup
/// (`inbox_interrupt_checked_once`), stays blocked and loom reports the deadlock; the consumer
/// saw `Incomplete::Interrupted` with the right counts (or the closure never ran, cancel having
/// won from NEW); after `run` the thread sees no interrupt; `other`'s stack is empty (the
/// interrupted wait unlinked its registration) and `other` still completes. Only the runner
/// spins (`run`'s INTERRUPTING wait). Bound: exhaustive.
#[test]
fn interrupted_inbox_consumer() {
    interrupted_waiter("interrupted_inbox_consumer", |o| {
        inbox_code(as_completed(vec![o.clone()], None).next())
    });
}

/// **a consumer parked in the inbox × cancel_and_interrupt() of its own task × a post** (I3, I5, I6,
/// I12; N1, N2, N4). Threads: the runner (task A's closure `take`s from a `CompletionService`
/// watching `other`), a completer (sets `other`), main (`cancel_and_interrupt()` on A, joins both).
/// Checks: `run` returns (no lost wakeup between the post, the canceller's unpark and the
/// consumer's park: loom reports a deadlock otherwise); the consumer got `other` with its value
/// (the notice came first: done means done) or `Interrupted` with the right counts (or never
/// ran), never a timeout or a task without its value; the thread sees no interrupt after `run`;
/// `other`'s stack is empty. At most one thread spins at a time (the runner in `run`'s
/// INTERRUPTING wait or while its dropped watch is being released; the completer while the
/// runner's abandon holds the remover lock). Bound: preemption=3 in the quick tier (47,731
/// executions, ~4 s), 4 in the full tier (444,695, ~41 s); unbounded ran past 2 minutes.
#[test]
fn interrupted_inbox_post_race() {
    check(
        "interrupted_inbox_post_race",
        "I3,I5,I6,I12",
        Bound::tiered(Bound::Preemption(3), Bound::Preemption(4)),
        || {
            let other: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
            let saw = Arc::new(AtomicUsize::new(0));
            let (o, s) = (other.handle(), Arc::clone(&saw));
            let task = Arc::new(FutureTask::new(move || {
                let mut cs = CompletionService::detached();
                cs.add(o);
                let r = cs.take().map_err(Incomplete::from).transpose();
                s.store(inbox_code(r), SeqCst);
            }));
            let t = Arc::clone(&task);
            let runner = thread::spawn(move || {
                t.run();
                assert!(
                    !current::is_interrupted(),
                    "I5: interrupt leaked past run()"
                );
            });
            let o = Arc::clone(&other);
            let completer = thread::spawn(move || o.set(4).unwrap());
            // The closure may have taken `other` and returned before the cancel.
            let cancelled = task.cancel_and_interrupt();
            runner.join().unwrap();
            completer.join().unwrap();
            match (cancelled, saw.load(SeqCst)) {
                (true, 0..=2) | (false, 1) => {}
                (_, c) => panic!("I12: the take returned outcome {c} (cancelled: {cancelled})"),
            }
            assert_eq!(other.waiter_stack_len(), 0, "I6: a node was left behind");
            assert_eq!(*other.get().unwrap(), 4);
        },
    );
}

// ---- I10: the executor never loses a task ------------------------------------------------------

mod executor {
    use super::*;
    use futuretask_executor::{RejectReason, ThreadPool};
    use std::sync::atomic::AtomicBool;

    fn pool(workers: usize) -> Arc<ThreadPool> {
        Arc::new(ThreadPool::builder().workers(workers).build().unwrap())
    }

    /// **submit × shutdown** (I10). Threads: one worker, a submitter, main (`shutdown`, then drops
    /// the pool, which joins the worker). Checks: a submission is either accepted — and its task
    /// has run to completion once the pool is gone — or rejected with `Shutdown`, handing the
    /// closure back intact. Bound: exhaustive.
    #[test]
    fn submit_shutdown() {
        check("submit_shutdown", "I10", Bound::Exhaustive, || {
            let pool = pool(1);
            let p = Arc::clone(&pool);
            let submitter = thread::spawn(move || match p.submit(|| 5u32) {
                Ok(h) => Some(h),
                Err(r) => {
                    assert_eq!(r.reason, RejectReason::Shutdown);
                    assert_eq!(
                        (r.into_inner())(),
                        5,
                        "I10: rejected closure not handed back"
                    );
                    None
                }
            });
            pool.shutdown();
            let handle = submitter.join().unwrap();
            drop(pool);
            if let Some(h) = handle {
                let r = h.try_get().expect("I10: an accepted task was lost");
                assert_eq!(*r.unwrap(), 5);
            }
        });
    }

    /// **submit × shutdown_now** (I10, I3). Threads: one worker, a submitter that then blocks in
    /// `get` on its handle, main (`shutdown_now`, then drops the pool). Checks: the submitter's
    /// `get` returns (a cancelled queued task wakes its waiters); an accepted task either ran or
    /// was cancelled, and if its closure never ran it is in `shutdown_now`'s unstarted list, and
    /// if it is in that list its closure never ran (both directions);
    /// a rejected closure is handed back. Bound: preemption=3 in the quick tier (8k
    /// interleavings, 1.5 s), preemption=5 in the full tier (772k interleavings, 60 s). Since the
    /// pool's two-lock ring (three locks and the E1 handshake's atomics instead of one mutex) the
    /// unbounded space did not finish in 9 minutes (before it: 3.7M interleavings, ~5 min).
    #[test]
    fn submit_shutdown_now() {
        let bound = Bound::tiered(Bound::Preemption(3), Bound::Preemption(5));
        check("submit_shutdown_now", "I3,I10", bound, || {
            let pool = pool(1);
            let ran = Arc::new(AtomicBool::new(false));
            let p = Arc::clone(&pool);
            let r = Arc::clone(&ran);
            let submitter = thread::spawn(move || {
                match p.submit(move || {
                    r.store(true, SeqCst);
                    6u32
                }) {
                    Ok(h) => {
                        let seen = match h.get() {
                            Ok(v) => Some(*v),
                            Err(Error::Cancelled) => None,
                            Err(e) => panic!("unexpected {e:?}"),
                        };
                        Some((h, seen))
                    }
                    Err(rej) => {
                        assert_eq!(rej.reason, RejectReason::Shutdown);
                        None
                    }
                }
            });
            let unstarted = pool.shutdown_now();
            let accepted = submitter.join().unwrap();
            drop(pool);
            if let Some((h, seen)) = accepted {
                let listed = unstarted.iter().any(|u| u.is(&h));
                match seen {
                    Some(v) => {
                        assert_eq!(v, 6);
                        assert!(!listed, "I10: a task that ran is reported unstarted");
                    }
                    None => {
                        assert!(h.is_cancelled());
                        if !ran.load(SeqCst) {
                            assert!(listed, "I10: a cancelled, never-run task is not reported");
                        }
                    }
                }
                // Both directions: listed as unstarted ⇒ its closure never ran.
                if listed {
                    assert!(!ran.load(SeqCst), "I10: a task reported unstarted ran");
                }
            } else {
                assert!(unstarted.is_empty());
            }
        });
    }

    /// **a submitter blocked on a full queue × the worker making room** (I10, E2). Threads: one
    /// worker, main. The pool's queue holds one entry (`Policy::Block`); main submits three tasks,
    /// so at least one submission finds the queue full unless the worker keeps up, and blocks
    /// until the worker takes an entry (the E2 handshake: `blocked`, fence, re-check; the
    /// worker's `head`, fence, `blocked`). Checks: every submission returns and every task runs
    /// (a lost room signal is a deadlock). Bound: preemption=3 in the quick tier (140k
    /// interleavings, 10 s), 4 in the full tier (1.28M, 103 s); the unbounded space (three
    /// submissions and three gets against the worker's loop) ran past 10 minutes.
    #[test]
    fn submit_blocks_for_room() {
        let bound = Bound::tiered(Bound::Preemption(3), Bound::Preemption(4));
        check("submit_blocks_for_room", "I10", bound, || {
            let pool = ThreadPool::builder()
                .workers(1)
                .queue_bound(1)
                .build()
                .unwrap();
            let handles: Vec<_> = (0..3u32)
                .map(|i| match pool.submit(move || i) {
                    Ok(h) => h,
                    Err(r) => panic!("I10: Block never rejects ({})", r),
                })
                .collect();
            for (i, h) in handles.iter().enumerate() {
                assert_eq!(*h.get().unwrap(), i as u32);
            }
            drop(pool);
        });
    }

    /// **submit × dropping the pool** (I10). Threads: one worker, a submitter holding its own
    /// reference to the pool (submits, then drops it), main (drops its reference). Whichever
    /// drop is last shuts the pool down and joins the worker. Checks: the accepted task ran to
    /// completion. Bound: exhaustive.
    #[test]
    fn submit_drop() {
        check("submit_drop", "I10", Bound::Exhaustive, || {
            let pool = pool(1);
            let p = Arc::clone(&pool);
            let submitter = thread::spawn(move || {
                let h = p.submit(|| 7u32).expect("the pool is alive: accepted");
                drop(p);
                h
            });
            drop(pool);
            let h = submitter.join().unwrap();
            let r = h.try_get().expect("I10: an accepted task was lost");
            assert_eq!(*r.unwrap(), 7);
        });
    }
}
