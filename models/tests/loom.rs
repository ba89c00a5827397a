//! loom models of the kernel (run with `RUSTFLAGS="--cfg loom" cargo test -p futuretask-models
//! --release`; the executor's are `executor_loom.rs`). Each model runs the kernel's own code (through its loom facade) and states, in its
//! doc comment, the threads it uses, what it checks and how much of the interleaving space it
//! explores. Every model prints an `FT-MODEL checker=loom ...` line when it finishes.
//!
//! loom sees every interleaving up to the bound and the C11 weak-memory behaviours of the
//! atomics (a read of the outcome that is not ordered after its write is a "causality violation"),
//! and reports deadlocks. It does not see freed memory: the use-after-free mutants are Miri's.
//! Time is the kernel's mock clock: a model's clock thread calls `mock_clock::advance` /
//! `expire_all`, so "the deadline passed" is one more interleaved event.
//!
//! **One spinner at a time.** The kernel waits out its transient states by yielding (a reader
//! during COMPLETING, the runner during INTERRUPTING, the completer while a remover holds LOCKED,
//! a dropped future until its node is released, a timed wait on the mock clock). loom 0.7 cannot
//! explore two threads that yield-spin on a condition a third, preempted thread will set: its
//! DPOR keeps scheduling the spinners against each other and every such execution runs into the
//! branch limit ("Model exceeded maximum number of branches"), with or without a preemption bound.
//! Each model below is therefore built so that at most one of its threads can be spinning at any
//! moment (its doc comment says which); scenarios with several concurrent spinners (many timed
//! waiters, several readers racing COMPLETING) are the shuttle models' job.
//!
//! **loom's DPOR is incomplete** (tokio-rs/loom#166, #392): it remembers only the *last* access
//! to an atomic, so when thread A loads X and thread B then loads X and CASes X (the kernel's
//! load-then-CAS loops), B's CAS is compared with B's own load and the schedule "B's CAS before
//! A's load" is never tried — a 2-thread `set` × `is_done` model explores 1 interleaving. It does
//! reliably move a load *earlier* than a store. So models whose point is what an observer sees
//! start the observer with `thread::yield_now()`, which makes loom's first schedule run the
//! writers first; DPOR then slides the observer's loads back before each write. "exhaustive"
//! below means loom's unbounded mode, with this caveat; Miri and shuttle sample the rest.

#![cfg(loom)]

use futuretask::{current, mock_clock, promise, Error, FutureTask, Outcome, State};
use futuretask_models::fault::{planted_panic, quiet_planted_panics, Bombs, Fault, FaultyWaker};
use futuretask_models::loom_driver::{check, Bound};
use futuretask_models::{drop_and_poison, poll_once, WakeProbe, TICK};
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

fn rank(s: State) -> u8 {
    match s {
        State::Pending => 0,
        State::Running => 1,
        _ => 2,
    }
}

/// **run × run × cancel()** (I1, I4). Threads: 2 runners + main (cancels, then tries to run).
/// Checks: the closure runs at most once and only for a `run` that returned true; exactly one of
/// completion and cancel wins and `get` reports it; a `run` after a winning cancel never runs the
/// closure. Bound: exhaustive.
#[test]
fn run_cancel() {
    check("run_cancel", "I1,I4", Bound::Exhaustive, || {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&runs);
        let task = Arc::new(FutureTask::new(move || {
            r.fetch_add(1, SeqCst);
            42u32
        }));
        let runners: Vec<_> = (0..2)
            .map(|_| {
                let t = Arc::clone(&task);
                thread::spawn(move || t.run())
            })
            .collect();
        let won = task.cancel();
        if won {
            assert!(
                !task.run(),
                "I4: run claimed the closure after a cancel won"
            );
        }
        let claimed: usize = runners
            .into_iter()
            .map(|h| h.join().unwrap() as usize)
            .sum();
        let n = runs.load(SeqCst);
        assert!(n <= 1, "I4: the closure ran {n} times");
        assert_eq!(
            n, claimed,
            "I4: run() returned true without running (or vice versa)"
        );
        match task.get() {
            Ok(v) => {
                assert!(!won, "I1: cancel won but the value was published");
                assert_eq!((*v, n), (42, 1));
                assert_eq!(task.state(), State::Success);
            }
            Err(Error::Cancelled) => {
                assert!(won, "I1: cancelled but cancel() reported a loss");
                assert!(task.is_cancelled());
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    });
}

/// **set × fail × cancel()** on a promise-style task (I1, I2). Threads: setter, failer,
/// main (cancels). Checks: exactly one completion wins, the losers get their value back, `get`
/// reports the winner's outcome. Bound: exhaustive.
#[test]
fn set_cancel() {
    check("set_cancel", "I1,I2", Bound::Exhaustive, || {
        let task = Arc::new(FutureTask::<String, _>::pending());
        let t = Arc::clone(&task);
        let setter = thread::spawn(move || t.set("v".to_owned()).map_err(|e| e.value));
        let t = Arc::clone(&task);
        let failer = thread::spawn(move || t.fail("boom").is_ok());
        let cancel_won = task.cancel();
        let set_won = match setter.join().unwrap() {
            Ok(()) => true,
            Err(v) => {
                assert_eq!(v, "v", "a losing set must hand its value back");
                false
            }
        };
        let fail_won = failer.join().unwrap();
        assert_eq!(
            set_won as u8 + fail_won as u8 + cancel_won as u8,
            1,
            "I1: not exactly one winner (set {set_won}, fail {fail_won}, cancel {cancel_won})"
        );
        match task.get() {
            Ok(v) => assert!(set_won && v == "v"),
            Err(Error::Failed(f)) => {
                assert!(fail_won);
                assert_eq!(f.error().map(|e| e.to_string()).as_deref(), Some("boom"));
            }
            Err(Error::Cancelled) => assert!(cancel_won),
            Err(e) => panic!("I12: main runs no task, nor waits with a deadline, yet got {e}"),
        }
    });
}

/// **publication**: a reader that is not joined with the writer (I2). Threads: setter, main
/// (`try_get`, then a zero-timeout `get_timeout`, then `state()`). Checks: whoever observes a
/// settled state reads the complete value; loom flags any outcome read that is not ordered after
/// the outcome write (causality violation) — a Relaxed publication or a read during COMPLETING.
/// Only main can spin (on COMPLETING). Bound: exhaustive.
#[test]
fn publication() {
    check("publication", "I2", Bound::Exhaustive, || {
        let task = Arc::new(FutureTask::<String, _>::pending());
        let t = Arc::clone(&task);
        let setter = thread::spawn(move || t.set("published".to_owned()).unwrap());
        // Writer first in loom's initial schedule (see the module docs on loom's DPOR).
        thread::yield_now();
        if let Some(r) = task.try_get() {
            assert_eq!(r.unwrap(), "published");
        }
        match task.get_timeout(Duration::ZERO) {
            Ok(v) => assert_eq!(v, "published"),
            Err(Error::TimedOut) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
        let s = task.state();
        assert!(matches!(s, State::Pending | State::Success), "{s:?}");
        setter.join().unwrap();
    });
}

/// **done means done / monotonic observation** (I9) while run and cancel_and_interrupt() race. Threads:
/// runner, interrupting canceller, main (observer). Checks: once `is_done()` was seen, a
/// zero-timeout `get_timeout` never times out, `try_get` is `Some`, `state()` is terminal; the
/// observed `state()` sequence never moves backwards and a terminal state never changes.
/// Only main can spin (COMPLETING) and only the runner (INTERRUPTING), never both: the two
/// transient states exclude each other. Bound: preemption=4 (68k interleavings, ~12 s): the
/// writers-first schedule (main yields before observing) makes the unbounded space run for more
/// than 10 minutes.
#[test]
fn done_means_done() {
    check("done_means_done", "I9", Bound::Preemption(4), || {
        let task = Arc::new(FutureTask::new(|| 5u32));
        let t = Arc::clone(&task);
        let runner = thread::spawn(move || {
            t.run();
        });
        let t = Arc::clone(&task);
        let canceller = thread::spawn(move || t.cancel_and_interrupt());
        // Writers first in loom's initial schedule (see the module docs on loom's DPOR).
        thread::yield_now();
        let s1 = task.state();
        let d1 = task.is_done();
        if d1 {
            assert!(
                !matches!(task.get_timeout(Duration::ZERO), Err(Error::TimedOut)),
                "I9: done, yet a zero-timeout get timed out"
            );
            assert!(task.try_get().is_some(), "I9: done, yet try_get is None");
        }
        let s2 = task.state();
        if d1 {
            assert_eq!(rank(s2), 2, "I9: done, yet state() is {s2:?}");
        }
        assert!(rank(s1) <= rank(s2), "I9: state went back {s1:?} -> {s2:?}");
        runner.join().unwrap();
        let c = canceller.join().unwrap();
        let s3 = task.state();
        if rank(s2) == 2 {
            assert_eq!(s2, s3, "I9: a terminal state changed");
        }
        assert_eq!(s3 == State::Cancelled, c);
    });
}

/// **push × complete** (I3, I8). Threads: a blocking waiter, a completer, main (an async waiter
/// registered before the completer starts, then parked until its waker fires). Checks: both
/// waiters get the value (a waiter that links after the stack closed is never woken: loom reports
/// the deadlock); the waker fires exactly once and is dropped; nothing is left on the stack.
/// Only the blocking waiter can spin (on COMPLETING). Bound: exhaustive.
#[test]
fn push_complete() {
    check("push_complete", "I3,I8", Bound::Exhaustive, || {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let probe = WakeProbe::for_current_thread();
        let mut fut = Box::pin(task.get_async());
        assert!(poll_once(fut.as_mut(), &probe.waker()).is_pending());
        let t = Arc::clone(&task);
        let waiter = thread::spawn(move || *t.get().unwrap());
        let t = Arc::clone(&task);
        let completer = thread::spawn(move || t.set(7).unwrap());
        while probe.wakes() == 0 {
            thread::park();
        }
        match poll_once(fut.as_mut(), &probe.waker()) {
            Poll::Ready(r) => assert_eq!(*r.unwrap(), 7),
            Poll::Pending => panic!("I3: woken, yet pending"),
        }
        drop(fut);
        assert_eq!(waiter.join().unwrap(), 7);
        completer.join().unwrap();
        assert_eq!(probe.wakes(), 1);
        assert_eq!(Arc::strong_count(&probe), 1, "a stored waker leaked");
        assert_eq!(task.waiter_stack_len(), 0);
    });
}

/// **cancel wakes waiters** (I3, I1). Threads: a blocking waiter, a timed waiter whose deadline
/// never passes (the clock does not move), main (cancel()). Checks: both waiters wake and
/// report `Cancelled`. Bound: exhaustive.
#[test]
fn cancel_wakes() {
    check("cancel_wakes", "I1,I3", Bound::Exhaustive, || {
        let task = Arc::new(FutureTask::new(|| 1u8));
        let t = Arc::clone(&task);
        let w1 = thread::spawn(move || matches!(t.get(), Err(Error::Cancelled)));
        let t = Arc::clone(&task);
        let w2 = thread::spawn(move || {
            matches!(
                t.get_timeout(Duration::from_secs(3600)),
                Err(Error::Cancelled)
            )
        });
        assert!(task.cancel());
        assert!(w1.join().unwrap(), "blocking waiter did not see the cancel");
        assert!(w2.join().unwrap(), "timed waiter did not see the cancel");
        assert!(!task.run(), "I4: ran after cancel");
    });
}

/// **one wake for every sleeper** (I3). Threads: two untimed waiters, which sleep on the task's
/// shared sleep word (G7), and main (`cancel()`: one CAS to the settled state, so no waiter
/// spins through a COMPLETING window — loom handles one spinner at a time). Checks: both waiters
/// return `Cancelled` — the completer's single H6, after every node of the batch is DONE, reaches
/// a waiter wherever it is in its G7 loop; a wake before a node's release (the
/// `wake_before_release` mutant) leaves a sleeper blocked, which loom reports as a deadlock.
/// Bound: exhaustive.
#[test]
fn sleepers_wake_all() {
    check("sleepers_wake_all", "I3", Bound::Exhaustive, || {
        let task = Arc::new(FutureTask::new(|| 1u8));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let t = Arc::clone(&task);
                thread::spawn(move || matches!(t.get(), Err(Error::Cancelled)))
            })
            .collect();
        assert!(task.cancel());
        for w in waiters {
            assert!(w.join().unwrap(), "I3: a sleeper did not see the cancel");
        }
        assert_eq!(task.waiter_stack_len(), 0);
    });
}

/// **timeout × complete** (I3, I6, I9). Threads: a timed waiter (one-tick timeout), a clock thread
/// (`expire_all`), main (sets the value). Checks: the waiter returns either the value or
/// `TimedOut` — never hangs, never another error; a waiter that timed out finds the stack empty
/// (its node was unlinked before it returned; it is the only waiter); the task completes.
/// Only the timed waiter spins (its mock-clock wait). Bound: preemption=4 (63k interleavings,
/// ~12 s): every spin of the timed waiter is a new scheduling point, and without a bound the
/// space runs for more than 5 minutes.
#[test]
fn timeout_complete() {
    check("timeout_complete", "I3,I6,I9", Bound::Preemption(4), || {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let waiter = thread::spawn(move || match t.get_timeout(TICK) {
            Ok(v) => Some(*v),
            Err(Error::TimedOut) => {
                assert_eq!(
                    t.waiter_stack_len(),
                    0,
                    "I6: timed-out waiter left its node"
                );
                None
            }
            Err(e) => panic!("unexpected {e:?}"),
        });
        let clock = thread::spawn(mock_clock::expire_all);
        task.set(9).unwrap();
        if let Some(v) = waiter.join().unwrap() {
            assert_eq!(v, 9);
        }
        clock.join().unwrap();
        assert_eq!(*task.get().unwrap(), 9);
        assert_eq!(task.waiter_stack_len(), 0);
    });
}

/// **abandoned waiters unlink** (I6). Threads: two async waiters that each poll once and drop
/// their future (dropped in place, then poisoned: a node touched after its drop returned reads
/// poison and fails the model) (both abandon their nodes; one may find the other holding the remover lock and
/// mark DIRTY — a lock holder that ignored DIRTY would strand it: it spins forever and loom
/// fails the model), main (joins them, then completes). Checks: both drops return, the stack is
/// empty before completion, no waker leaks, completion still works. At most one thread spins at a
/// time (a dropper waiting for the lock holder, which does not spin). Bound: preemption=4 in the
/// quick tier (16k interleavings, ~4 s; the DIRTY scenario needs 1), exhaustive in the full tier
/// (`FT_TIER=full`: 2.5M interleavings, ~4 min).
#[test]
fn drop_futures_unlink() {
    check(
        "drop_futures_unlink",
        "I6",
        Bound::tiered(Bound::Preemption(4), Bound::Exhaustive),
        || {
            let task = Arc::new(FutureTask::<u32, _>::pending());
            let droppers: Vec<_> = (0..2)
                .map(|_| {
                    let t = Arc::clone(&task);
                    thread::spawn(move || {
                        let probe = WakeProbe::new();
                        let mut fut = Box::pin(t.handle().when_done());
                        assert!(poll_once(fut.as_mut(), &probe.waker()).is_pending());
                        let poisoned = drop_and_poison(fut);
                        assert_eq!(probe.wakes(), 0);
                        (probe, poisoned)
                    })
                })
                .collect();
            let mut poisoned = Vec::new();
            // Check the probes only once both are joined: a lock holder drops the waker it took
            // from the other dropper's node just after releasing it.
            let joined: Vec<_> = droppers.into_iter().map(|d| d.join().unwrap()).collect();
            for (probe, p) in joined {
                assert_eq!(Arc::strong_count(&probe), 1, "a stored waker leaked");
                poisoned.push(p);
            }
            assert_eq!(
                task.waiter_stack_len(),
                0,
                "I6: an abandoned node is still linked"
            );
            task.set(1).unwrap();
            assert_eq!(*task.get().unwrap(), 1);
            drop(poisoned);
        },
    );
}

/// **drop-future × complete** (I6, I8). Threads: an async waiter (polls a `done()` future once with
/// a counting waker, then drops it in place and poisons its memory), main (sets the value). Checks: a Ready poll has the
/// value; the waker is woken at most once; every waker clone the kernel stored is dropped (the
/// probe's strong count is back to 1); the stack is empty. Bound: exhaustive.
#[test]
fn drop_future_complete() {
    check("drop_future_complete", "I6,I8", Bound::Exhaustive, || {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let waiter = thread::spawn(move || {
            let probe = WakeProbe::new();
            let mut fut = Box::pin(t.handle().when_done());
            if let Poll::Ready(done) = poll_once(fut.as_mut(), &probe.waker()) {
                assert_eq!(*done.get().unwrap(), 3);
            }
            let poisoned = drop_and_poison(fut);
            assert!(probe.wakes() <= 1);
            (probe, poisoned)
        });
        task.set(3).unwrap();
        let (probe, poisoned) = waiter.join().unwrap();
        assert!(probe.wakes() <= 1);
        assert_eq!(Arc::strong_count(&probe), 1, "a stored waker leaked");
        assert_eq!(task.waiter_stack_len(), 0);
        drop(poisoned);
    });
}

/// **drop-future × blocking waiter × complete** (I3, I6). Threads: main (polls a `done()` future
/// once before the others start, then drops it — in place, poisoning its memory — while they run: its node may have to be unlinked from
/// under the blocking waiter's node, or the completer waits for the remover lock, or the
/// completer is releasing it), a blocking waiter, a completer. Checks: the blocking waiter gets
/// the value; the dropped future's waker is dropped (woken at most once); the stack is empty.
/// Only the blocking waiter can spin on COMPLETING; main's drop can only spin after the outcome
/// is published. Bound: preemption=3 in the quick tier (56k interleavings, ~4 s), preemption=4
/// in the full tier (371k, ~26 s); the unbounded space runs for more than 10 minutes.
#[test]
fn drop_future_with_waiter() {
    check(
        "drop_future_with_waiter",
        "I3,I6",
        Bound::tiered(Bound::Preemption(3), Bound::Preemption(4)),
        || {
            let task = Arc::new(FutureTask::<u32, _>::pending());
            let probe = WakeProbe::new();
            let mut fut = Box::pin(task.handle().when_done());
            assert!(poll_once(fut.as_mut(), &probe.waker()).is_pending());
            let t = Arc::clone(&task);
            let blocking = thread::spawn(move || *t.get().unwrap());
            let t = Arc::clone(&task);
            let completer = thread::spawn(move || t.set(4).unwrap());
            let poisoned = drop_and_poison(fut);
            assert!(probe.wakes() <= 1);
            assert_eq!(blocking.join().unwrap(), 4);
            completer.join().unwrap();
            assert_eq!(Arc::strong_count(&probe), 1, "a stored waker leaked");
            assert_eq!(task.waiter_stack_len(), 0);
            drop(poisoned);
        },
    );
}

/// **callback × complete** (I7). Threads: main registers callback 1, then a registrant thread
/// registers callbacks 2 and 3 while a completer thread sets the value. Checks: every callback
/// runs exactly once, sees the value and `is_done()`, and they run in registration order 1, 2, 3
/// (a callback registered while the completer still runs earlier ones must wait for them).
/// Each callback takes its position from a loom atomic, so loom sees two callbacks running on
/// different threads as conflicting and explores both orders (a plain `Mutex<Vec>` record would
/// be invisible to its DPOR). Bound: exhaustive.
#[test]
fn callback_complete() {
    check("callback_complete", "I7", Bound::Exhaustive, || {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let order = Arc::new(Mutex::new(Vec::new()));
        let seq = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let cb = |i: u32| {
            let order = Arc::clone(&order);
            let seq = Arc::clone(&seq);
            let weak = Arc::downgrade(&task);
            move |r: Result<&u32, Error>| {
                assert_eq!(*r.unwrap(), 8, "I7: callback saw the wrong outcome");
                assert!(
                    weak.upgrade().unwrap().is_done(),
                    "I7: callback before done"
                );
                let pos = seq.fetch_add(1, loom::sync::atomic::Ordering::AcqRel);
                order.lock().unwrap().push((pos, i));
            }
        };
        task.add_done_callback(cb(1));
        let (c2, c3) = (cb(2), cb(3));
        let t = Arc::clone(&task);
        let registrant = thread::spawn(move || {
            // The completer first in loom's initial schedule (see the module docs on DPOR).
            thread::yield_now();
            t.add_done_callback(c2);
            t.add_done_callback(c3);
        });
        let t = Arc::clone(&task);
        let completer = thread::spawn(move || t.set(8).unwrap());
        registrant.join().unwrap();
        completer.join().unwrap();
        let mut order = std::mem::take(&mut *order.lock().unwrap());
        order.sort_unstable();
        let order: Vec<u32> = order.into_iter().map(|(_, i)| i).collect();
        assert_eq!(order, [1, 2, 3], "I7: order or count");
    });
}

/// **re-poll × complete** (I8). Threads: an async waiter (polls with waker A, re-polls with waker
/// B, then parks until B is woken), main (sets the value). Checks: after a Pending re-poll the
/// completion wakes B (if it woke A instead the waiter parks forever: loom reports the deadlock);
/// the final poll is Ready with the value; no waker leaks. Bound: exhaustive.
#[test]
fn repoll_complete() {
    check("repoll_complete", "I8", Bound::Exhaustive, || {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let waiter = thread::spawn(move || {
            let (a, b) = (
                WakeProbe::for_current_thread(),
                WakeProbe::for_current_thread(),
            );
            let mut fut = Box::pin(t.get_async());
            if poll_once(fut.as_mut(), &a.waker()).is_pending()
                && poll_once(fut.as_mut(), &b.waker()).is_pending()
            {
                while b.wakes() == 0 {
                    thread::park();
                }
                assert_eq!(a.wakes(), 0, "I8: the replaced waker was woken");
                match poll_once(fut.as_mut(), &b.waker()) {
                    Poll::Ready(r) => assert_eq!(*r.unwrap(), 6),
                    Poll::Pending => panic!("I8: woken, yet still pending"),
                }
            }
            drop(fut);
            (a, b)
        });
        task.set(6).unwrap();
        let (a, b) = waiter.join().unwrap();
        assert_eq!(Arc::strong_count(&a), 1, "waker A leaked");
        assert_eq!(Arc::strong_count(&b), 1, "waker B leaked");
    });
}

/// **cancel_and_interrupt() × a parked runner** (I5, I3). Threads: the runner (its closure parks until
/// `current::is_interrupted()`), a blocking waiter, main (cancel_and_interrupt()). Checks: cancel wins; the runner's
/// closure is unparked and returns (a missed interrupt — no Dekker fences — leaves it parked:
/// deadlock); after `run` returns, the runner thread sees neither `current::is_interrupted()` nor
/// `current::is_cancelled()`; the waiter reports `Cancelled`. Bound: exhaustive.
#[test]
fn interrupt_parked_runner() {
    check(
        "interrupt_parked_runner",
        "I3,I5",
        Bound::Exhaustive,
        || {
            let task = Arc::new(FutureTask::new(|| {
                while !current::is_interrupted() {
                    thread::park();
                }
                1u32
            }));
            let t = Arc::clone(&task);
            let runner = thread::spawn(move || {
                t.run();
                assert!(
                    !current::is_interrupted(),
                    "I5: interrupt leaked past run()"
                );
                assert!(
                    !current::is_cancelled(),
                    "I5: cancel scope leaked past run()"
                );
            });
            let t = Arc::clone(&task);
            let waiter = thread::spawn(move || matches!(t.get(), Err(Error::Cancelled)));
            assert!(task.cancel_and_interrupt());
            runner.join().unwrap();
            assert!(waiter.join().unwrap(), "waiter did not see the cancel");
            assert_eq!(task.state(), State::Cancelled);
        },
    );
}

/// **cancel_and_interrupt() × the runner finishing** (I5, I1, I4). Threads: the runner (runs task 1, whose
/// closure returns at once, then runs task 2 on the same thread), main (cancel_and_interrupt() on task 1).
/// Checks: exactly one of cancel and completion wins and `get` agrees; after `run` the thread sees
/// no interrupt; task 2's closure sees neither `current::is_interrupted()` nor `current::is_cancelled()` (the signal
/// never reaches the next task on that thread). Bound: exhaustive.
#[test]
fn interrupt_finishing_runner() {
    check(
        "interrupt_finishing_runner",
        "I1,I4,I5",
        Bound::Exhaustive,
        || {
            let task = Arc::new(FutureTask::new(|| 1u32));
            let t = Arc::clone(&task);
            let runner = thread::spawn(move || {
                t.run();
                assert!(
                    !current::is_interrupted(),
                    "I5: interrupt leaked past run()"
                );
                assert!(
                    !current::is_cancelled(),
                    "I5: cancel scope leaked past run()"
                );
                let next = FutureTask::new(|| {
                    assert!(
                        !current::is_interrupted() && !current::is_cancelled(),
                        "I5: signal reached the next task"
                    );
                    2u32
                });
                assert!(next.run());
                assert_eq!(*next.get().unwrap(), 2);
            });
            let won = task.cancel_and_interrupt();
            runner.join().unwrap();
            match task.get() {
                Ok(v) => assert!(!won && *v == 1, "I1"),
                Err(Error::Cancelled) => assert!(won, "I1"),
                Err(e) => panic!("unexpected {e:?}"),
            }
        },
    );
}

// ---- I11: foreign code may panic -------------------------------------------------------------

/// **a panicking wake in a batch × an older waiter** (I3, I11). Threads: a blocking waiter, main
/// (registers an async waiter whose `wake` panics, racing the blocking waiter's push, so either
/// can be the older), a completer (`set` under `catch_unwind`). Checks: `set` completes and then
/// raises the waker's panic; the blocking waiter — older or newer — gets the value (a walk that
/// stops at the panic strands it: loom reports the deadlock); the waker was called once; a
/// callback added afterwards runs at once; the stack is closed and every waker dropped. Only the
/// blocking waiter can spin (on COMPLETING). Bound: exhaustive.
#[test]
fn panicking_wake_batch() {
    check("panicking_wake_batch", "I3,I11", Bound::Exhaustive, || {
        quiet_planted_panics();
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let waiter = thread::spawn(move || *t.get().unwrap());
        let bad = FaultyWaker::new(Fault::Wake);
        let mut fut = Box::pin(task.get_async());
        assert!(poll_once(fut.as_mut(), &bad.waker()).is_pending());
        let t = Arc::clone(&task);
        let completer = thread::spawn(move || planted_panic(|| t.set(7).unwrap()));
        assert_eq!(
            waiter.join().unwrap(),
            7,
            "I3: a waiter stranded by the panic"
        );
        let raised = completer.join().unwrap();
        assert!(
            raised.is_some_and(|m| m.contains("wake")),
            "I11: panic lost"
        );
        assert_eq!(bad.wakes(), 1);
        let ran = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&ran);
        task.add_done_callback(move |_| {
            r.fetch_add(1, SeqCst);
        });
        assert_eq!(
            ran.load(SeqCst),
            1,
            "I7: a callback after the panic did not run"
        );
        let good = WakeProbe::new();
        assert!(matches!(
            poll_once(fut.as_mut(), &good.waker()),
            Poll::Ready(Ok(7))
        ));
        drop(fut);
        assert_eq!(bad.live(), 0, "a stored waker leaked");
        assert_eq!(task.waiter_stack_len(), 0);
    });
}

/// **a panicking clone on a re-poll × complete** (I8, I11). Threads: an async waiter (polls with
/// waker A, re-polls with a waker whose `clone` panics — the poll unwinds — then parks until A
/// fires), main (`set`). Checks: `set` returns (a node left UPDATING by the panic makes the
/// completer spin forever: loom's branch limit); the re-poll either unwinds with A still
/// registered, or is Ready; A is woken and the final poll is Ready with the value; no waker
/// leaks. Only the completer can spin (on UPDATING). Bound: preemption=3 in the quick tier,
/// exhaustive in the full tier (about a million interleavings).
#[test]
fn panicking_clone_repoll() {
    check(
        "panicking_clone_repoll",
        "I8,I11",
        Bound::tiered(Bound::Preemption(3), Bound::Exhaustive),
        || {
            quiet_planted_panics();
            let task = Arc::new(FutureTask::<u32, _>::pending());
            let t = Arc::clone(&task);
            let waiter = thread::spawn(move || {
                let a = WakeProbe::for_current_thread();
                let bad = FaultyWaker::new(Fault::Clone);
                let mut fut = Box::pin(t.get_async());
                if poll_once(fut.as_mut(), &a.waker()).is_pending() {
                    let w = bad.waker();
                    let mut ready = None;
                    let raised =
                        planted_panic(|| ready = Some(poll_once(fut.as_mut(), &w).is_ready()));
                    match (raised, ready) {
                        (Some(_), _) => {
                            while a.wakes() == 0 {
                                thread::park();
                            }
                            match poll_once(fut.as_mut(), &a.waker()) {
                                Poll::Ready(r) => assert_eq!(*r.unwrap(), 6),
                                Poll::Pending => panic!("I8: woken, yet pending"),
                            }
                        }
                        (None, Some(true)) => {}
                        (None, _) => panic!("I11: a new waker registered without a clone"),
                    }
                }
                drop(fut);
                (a, bad)
            });
            task.set(6).unwrap();
            let (a, bad) = waiter.join().unwrap();
            assert_eq!(Arc::strong_count(&a), 1, "waker A leaked");
            assert_eq!(bad.live(), 0, "a clone of the bad waker leaked");
        },
    );
}

/// **two abandoned futures, one with a panicking waker drop × complete** (I6, I11). Threads: two
/// droppers (each polls its own `get_async` future once, then drops it; one future's waker
/// panics when dropped), main (joins them, then completes). Either dropper may sweep the other's
/// node. Checks: the panic is raised by the drop of its own future, on its own thread, and
/// nowhere else (a remover that drops another node's waker runs foreign code under LOCKED);
/// both nodes are unlinked; completion still works. At most one thread spins (a dropper waiting
/// for the lock holder). Bound: preemption=3 in the quick tier, 4 in the full tier.
#[test]
fn panicking_drop_abandon() {
    check(
        "panicking_drop_abandon",
        "I6,I11",
        Bound::tiered(Bound::Preemption(3), Bound::Preemption(4)),
        || {
            quiet_planted_panics();
            let task = Arc::new(FutureTask::<u32, _>::pending());
            let droppers: Vec<_> = [Fault::Drop, Fault::Never]
                .into_iter()
                .map(|fault| {
                    let t = Arc::clone(&task);
                    thread::spawn(move || {
                        let waker = FaultyWaker::new(fault);
                        let w = waker.waker();
                        let mut fut = Box::pin(t.get_async());
                        assert!(poll_once(fut.as_mut(), &w).is_pending());
                        let raised = planted_panic(move || drop(fut));
                        assert_eq!(
                            raised.is_some(),
                            fault == Fault::Drop,
                            "I11: a waker's drop ran on another thread"
                        );
                        waker.disarm();
                        drop(w);
                        assert_eq!(waker.live(), 0, "a stored waker leaked");
                    })
                })
                .collect();
            for d in droppers {
                d.join().unwrap();
            }
            assert_eq!(
                task.waiter_stack_len(),
                0,
                "I6: an abandoned node is linked"
            );
            task.set(1).unwrap();
            assert_eq!(*task.get().unwrap(), 1);
        },
    );
}

/// **a lost completion whose value panics on drop × cancel_and_interrupt()** (I1, I5, I11). Threads: the
/// runner (its closure returns a value whose drop panics), main (`cancel_and_interrupt()`). Checks: if the
/// cancel won after the closure ran, `run` raises the value's drop panic only after finishing its
/// protocol — the thread then sees no interrupt, and the next task it runs sees no signal; the
/// value is dropped exactly once in every interleaving (by `run`, or with the task). Bound:
/// exhaustive.
#[test]
fn panicking_value_lost() {
    check(
        "panicking_value_lost",
        "I1,I5,I11",
        Bound::Exhaustive,
        || {
            quiet_planted_panics();
            let bombs = Bombs::new();
            let d = Arc::clone(&bombs);
            let task = Arc::new(FutureTask::new(move || d.bomb()));
            let t = Arc::clone(&task);
            let runner = thread::spawn(move || {
                let raised = planted_panic(|| t.run());
                assert!(
                    !current::is_interrupted() && !current::is_cancelled(),
                    "I5: signal leaked past run()"
                );
                let next = FutureTask::new(|| current::is_interrupted() || current::is_cancelled());
                assert!(next.run());
                assert!(!*next.get().unwrap(), "I5: signal reached the next task");
                raised.is_some()
            });
            let won = task.cancel_and_interrupt();
            let raised = runner.join().unwrap();
            assert!(!raised || won, "I11: a panic without a lost completion");
            let settled = task.get().is_ok();
            assert_eq!(settled, !won, "I1");
            let ran = raised || settled;
            let raised_on_drop = planted_panic(move || drop(task)).is_some();
            assert_eq!(raised_on_drop, settled);
            assert_eq!(bombs.dropped(), usize::from(ran), "I11: value dropped once");
        },
    );
}

// ---- I13: a promise's task, counted in its own state word --------------------------------------

/// A value whose drops are counted (a `std` counter, read only once every thread that could drop
/// it is joined) and whose allocation loom tracks: a value the kernel never drops (a task that is
/// never freed) is a loom leak report at the end of the execution.
#[derive(Debug)]
struct Counted {
    n: u32,
    drops: Arc<AtomicUsize>,
    _track: loom::alloc::Track<()>,
}

impl Counted {
    fn new(n: u32, drops: &Arc<AtomicUsize>) -> Self {
        Counted {
            n,
            drops: Arc::clone(drops),
            _track: loom::alloc::Track::new(()),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// **a promise's lifetime: set × a reader's drop × a waiting reader** (I2, I13). Threads: the
/// promise (sets a value whose drops are counted), a reader that only drops its handle (main
/// cloned it while the promise may already be publishing: T1 × W1), main (a blocking `get`, then
/// drops its handle). Whichever of the three references goes last frees the one allocation.
/// Checks: main reads the value; the value is dropped exactly once, by the free, after every
/// thread ended (and loom's leak check: it is dropped at all); loom flags an outcome read, or the
/// free's drop of the outcome, that is not ordered after the promise's write (causality
/// violation) — in particular a last reference that never read the outcome (the dropping reader)
/// must acquire every other reference's release before it frees (T2); without that acquire its
/// free may also read a stale head word (main's waiter node, released and gone, instead of the
/// drain's CLOSED) and walk it as an unrun callback, on which loom fails (`counted_last_relaxed`:
/// "failed to get object for ref"). Nobody spins: a counted
/// task has no transient phase, and main parks. Bound: preemption=4 in the quick tier (652k
/// interleavings, ~30 s: main's announcement, P0, is one more CAS to interleave), 5 in the full
/// tier. A preemption is not needed to reach the free by the
/// dropping reader: it runs last whenever main parks in `get` and then waits in `join`.
#[test]
fn promise_lifetime() {
    let bound = Bound::tiered(Bound::Preemption(4), Bound::Preemption(5));
    check("promise_lifetime", "I2,I13", bound, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (p, h) = promise::<Counted>();
        let v = Counted::new(7, &drops);
        let setter = thread::spawn(move || assert!(p.set(v).is_ok(), "nobody cancels"));
        let h2 = h.clone();
        let reader = thread::spawn(move || drop(h2));
        assert_eq!(h.get().map(|v| v.n).ok(), Some(7), "I2: main's get");
        drop(h);
        setter.join().unwrap();
        reader.join().unwrap();
        assert_eq!(
            drops.load(SeqCst),
            1,
            "I13: the task was not freed exactly once (its value's drops)"
        );
    });
}

/// **the promise's publish × the last reader's drop** (I2, I13). Threads: the promise (sets a
/// value whose drops are counted), a reader that reads the value if it is already there
/// (`try_get`, which never pushes) and drops its handle; main only joins. Nobody announces a
/// push (P0), so W1 gives up the promise's reference in its own CAS and does not drain: whichever
/// reference goes last frees the task — the promise right after that CAS (the reader dropped
/// first, so W1 read a count of 1: T3) or the reader (its T2 load reads a count of 1). Checks:
/// the value is dropped exactly once (a promise that frees without being last, or never frees
/// when last, is a double drop or a leak); a reader that saw the value read it whole; loom flags a
/// free not ordered after the other reference's last use (causality violation). Exhaustive.
#[test]
fn promise_last_release() {
    check("promise_last_release", "I2,I13", Bound::Exhaustive, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (p, h) = promise::<Counted>();
        let v = Counted::new(3, &drops);
        let setter = thread::spawn(move || assert!(p.set(v).is_ok(), "nobody cancels"));
        let reader = thread::spawn(move || {
            if let Some(r) = h.try_get() {
                assert_eq!(r.map(|v| v.n).ok(), Some(3), "I2: the reader's value");
            }
            drop(h);
        });
        setter.join().unwrap();
        reader.join().unwrap();
        assert_eq!(
            drops.load(SeqCst),
            1,
            "I13: the task was not freed exactly once (its value's drops)"
        );
    });
}

/// **a reader's cancel_and_interrupt() × the promise's set × another reader's clone and drops**
/// (I1, I13). Threads: the promise (sets a value whose drops are counted), a reader (clones its
/// handle, drops its handle, then the clone), main (`cancel_and_interrupt()`; it keeps two
/// handles to the end). Checks: exactly one of set and cancel wins and main reads the winner
/// (the cancel as interrupted); a losing set gets its value back; once the other threads are
/// joined the count in the state word is exactly main's two references — a cancel that passed
/// through INTERRUPTING and finished with C5's plain store erases a count change made between
/// its CAS and the store (the reader's or the promise's), leaving one reference too many (a
/// leak) or too few (an early free); main's two drops then free the task, and the value is
/// dropped exactly once, by the losing setter or by the free. Main keeps two references so that
/// no early free can happen before the check. Nobody spins. Bound: preemption=4 in the quick
/// tier (26k interleavings, ~1 s: nobody announces a push, so the cancel drains nothing), 5 in
/// the full tier; the unbounded space ran past 10 minutes. Erasing a count change needs one preemption (main's, between its CAS and
/// the store it would make).
#[test]
fn promise_cancel_lifetime() {
    check(
        "promise_cancel_lifetime",
        "I1,I13",
        Bound::tiered(Bound::Preemption(4), Bound::Preemption(5)),
        || {
            let drops = Arc::new(AtomicUsize::new(0));
            let (p, h) = promise::<Counted>();
            let keep = h.clone();
            let v = Counted::new(9, &drops);
            let setter = thread::spawn(move || match p.set(v) {
                Ok(()) => true,
                Err(lost) => {
                    assert_eq!(lost.value.n, 9, "a losing set must hand its value back");
                    false
                }
            });
            let h2 = h.clone();
            let reader = thread::spawn(move || {
                let c = h2.clone();
                drop(h2);
                drop(c);
            });
            let cancel_won = h.cancel_and_interrupt();
            let set_won = setter.join().unwrap();
            reader.join().unwrap();
            assert_eq!(
                set_won as u8 + cancel_won as u8,
                1,
                "I1: not exactly one winner (set {set_won}, cancel {cancel_won})"
            );
            match h.try_get() {
                Some(Ok(v)) => assert!(set_won && v.n == 9, "I1: read a value the set lost"),
                Some(Err(Error::Cancelled)) => {
                    assert!(cancel_won, "I1: cancelled, yet the cancel lost");
                    assert!(h.snapshot().interrupted());
                }
                other => panic!("I1: settled, yet read {other:?}"),
            }
            assert_eq!(
                h.handle_count(),
                2,
                "I13: a count change was lost (main holds the only two references)"
            );
            drop(keep);
            assert_eq!(h.handle_count(), 1, "I13: a count change was lost");
            drop(h);
            assert_eq!(
                drops.load(SeqCst),
                1,
                "I13: the value was not dropped exactly once"
            );
        },
    );
}

/// A value whose every read and whose drop loom sees: `n` lives in a loom cell that a read reads
/// and the drop writes, so a read of the value not ordered before its drop (a take that moves it
/// from under a reader or a callback, which then drops it) is a loom causality violation, even
/// where the two threads touch nothing else in common.
#[derive(Debug)]
struct Watched {
    n: loom::cell::UnsafeCell<u32>,
}

impl Watched {
    fn new(n: u32) -> Self {
        Watched {
            n: loom::cell::UnsafeCell::new(n),
        }
    }

    fn n(&self) -> u32 {
        // SAFETY: a plain read of the cell; loom checks it against the drop's write.
        self.n.with(|p| unsafe { *p })
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: ours alone; loom checks the reads before it.
        self.n.with_mut(|p| unsafe { *p = 0 });
    }
}

/// **a reader takes the value by value × the promise's set and drain** (I2, I13). Threads: the
/// promise (sets a value whose drops are counted), main (a blocking `get`, then
/// `try_into_outcome`). Checks completeness: with no other handle and no callback the take
/// always succeeds once `get` returned — whether the promise gave its reference up in W1's CAS
/// (nobody announced: main is the last reference), or still holds it for the drain that woke
/// main (DRAIN_HELD: T5 waits for the close if main read the value before it) — and reads the
/// value set; the value is dropped exactly once (by main, never by the free: MOVED), and loom
/// flags a move or a free not ordered after the write and the other reference's last use.
/// A W1 that keeps its reference without DRAIN_HELD makes the take fail
/// (`publish_without_drain_held`). Exhaustive.
#[test]
fn promise_take() {
    check("promise_take", "I2,I13", Bound::Exhaustive, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (p, h) = promise::<Counted>();
        let v = Counted::new(5, &drops);
        let setter = thread::spawn(move || assert!(p.set(v).is_ok(), "nobody cancels"));
        assert_eq!(h.get().map(|v| v.n).ok(), Some(5), "I2: main's get");
        match h.try_into_outcome() {
            Ok(Outcome::Success(v)) => {
                assert_eq!(v.n, 5, "I2: the value taken");
                assert_eq!(
                    drops.load(SeqCst),
                    0,
                    "I13: the value dropped before the take"
                );
            }
            Ok(other) => panic!("I2: took {other:?}"),
            Err(_) => panic!("I13: nobody else reads the value, yet the take failed"),
        }
        setter.join().unwrap();
        assert_eq!(
            drops.load(SeqCst),
            1,
            "I13: the value was not dropped exactly once"
        );
    });
}

/// **a take × another reader holding the value × the promise's set** (I13). Threads: the
/// promise (sets a value whose reads and drop loom sees), a reader (`try_get`, then it drops
/// its handle), main (a blocking `get`, then `try_into_outcome`, which must not take while the
/// reader may still read: of two references, the other is the promise's only with DRAIN_HELD).
/// Checks: a take that succeeds reads the value set; loom flags a read of the value not ordered
/// before its drop (by main after a take, or by the free). A take that treats any second
/// reference as the draining promise moves the value from under the reader
/// (`take_ignores_drain_held`). Bound: preemption=3.
#[test]
fn promise_take_shared() {
    check("promise_take_shared", "I13", Bound::Preemption(3), || {
        let (p, h) = promise::<Watched>();
        let setter =
            thread::spawn(move || assert!(p.set(Watched::new(6)).is_ok(), "nobody cancels"));
        let h2 = h.clone();
        let reader = thread::spawn(move || {
            if let Some(v) = h2.try_get() {
                assert_eq!(v.map(|v| v.n()).ok(), Some(6), "I2: the reader's value");
            }
            drop(h2);
        });
        assert_eq!(h.get().map(|v| v.n()).ok(), Some(6), "I2: main's get");
        if let Ok(out) = h.try_into_outcome() {
            let Outcome::Success(v) = out else {
                panic!("I2: took {out:?}")
            };
            assert_eq!(v.n(), 6, "I2: the value taken");
        }
        setter.join().unwrap();
        reader.join().unwrap();
    });
}

/// **a take × a done-callback of the same batch × the promise's drain** (I7, I13). Threads: the
/// promise (sets a value whose reads and drop loom sees), main (registers a callback that reads
/// the value, a blocking `get`, then `try_into_outcome`). Main's waiter and the callback are one
/// batch, detached without closing the stack: the drain wakes main, then runs the callback.
/// Checks: the callback runs once and reads the value set; a take gives up while a callback is
/// pending or running (T5: DRAINING or CALLBACKS) and succeeds only after the close, whose
/// Acquire read orders the callback's read before the move and the drop (loom flags a read of
/// the value not ordered before its drop). A take that does not wait for the close moves the
/// value from under the callback (`take_skips_close`). Exhaustive.
#[test]
fn promise_take_callback() {
    check("promise_take_callback", "I7,I13", Bound::Exhaustive, || {
        // The kernel isolates a callback's panic (I7), so the callback reports what it read.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (p, h) = promise::<Watched>();
        h.add_done_callback({
            let seen = Arc::clone(&seen);
            move |r| seen.lock().unwrap().push(r.map(|v| v.n()).ok())
        });
        let setter =
            thread::spawn(move || assert!(p.set(Watched::new(8)).is_ok(), "nobody cancels"));
        assert_eq!(h.get().map(|v| v.n()).ok(), Some(8), "I2: main's get");
        if let Ok(out) = h.try_into_outcome() {
            let Outcome::Success(v) = out else {
                panic!("I2: took {out:?}")
            };
            assert_eq!(v.n(), 8, "I2: the value taken");
        }
        setter.join().unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            [Some(8)],
            "I7: the callback ran once and read the value"
        );
    });
}
