//! shuttle models of the kernel (run with `cargo test -p futuretask-models --features shuttle
//! --release`; the executor's are `executor_shuttle.rs`). Each model runs the kernel's own code
//! (through its shuttle facade) with 4–8 threads — several waiters (blocking, timed, async), several cancellers and runners, callbacks —
//! under both the PCT scheduler (`checker=shuttle-pct`, probabilistic bug-depth guarantee) and the
//! uniformly random scheduler (`checker=shuttle-random`). Unlike loom, shuttle copes with many
//! threads spinning at once (timed waits on the mock clock, readers during COMPLETING) and
//! injects spurious `park` wakeups; it sees no weak memory (every atomic is SeqCst) and no freed
//! memory.
//!
//! Iterations are scaled by `FT_SHUTTLE_SCALE` (default 1 = the quick tier). A failing iteration
//! prints its schedule; replay it deterministically with the `replay_schedule` test of its file
//! (see README.md).

#![cfg(all(feature = "shuttle", not(loom)))]

mod common;

use common::shuttle::{seen_get, Seen};
use futuretask::{
    current, mock_clock, promise, Error, FutureTask, Job, Outcome, State, TaskHandle,
};
use futuretask_models::fault::{planted_panic, quiet_planted_panics, Fault, FaultyWaker};
use futuretask_models::shuttle_driver::{both, jitter, replay_from_env};
use futuretask_models::{drop_and_poison, poll_once, WakeProbe, TICK};
use shuttle::thread;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

/// What a timed waiter saw ([`seen_get`], and `TimedOut`).
fn seen_wait(r: Result<&u32, Error>) -> Seen {
    match r {
        Ok(v) => Seen::Value(*v),
        Err(Error::Failed(_)) => Seen::Failed,
        Err(Error::Cancelled) => Seen::Cancelled,
        Err(Error::TimedOut) => Seen::TimedOut,
        Err(e) => panic!("I12: no model thread waits inside a task: {e}"),
    }
}

/// Poll `get_async()` to completion, with a fresh waker (a new probe) on every poll, parking
/// until the latest probe fires (I8: only the most recently registered waker is woken, so a
/// kernel that kept an old waker leaves this thread parked: shuttle reports the deadlock).
fn await_async<J: ?Sized + Job<u32>>(task: &FutureTask<u32, J>) -> (Seen, Vec<Arc<WakeProbe>>) {
    let mut probes = Vec::new();
    let mut fut = Box::pin(task.get_async());
    loop {
        let probe = WakeProbe::for_current_thread();
        probes.push(Arc::clone(&probe));
        match poll_once(fut.as_mut(), &probe.waker()) {
            Poll::Ready(r) => return (seen_get(r), probes),
            Poll::Pending => {
                // Re-poll at most once before waiting, to exercise the waker replacement.
                if probes.len() == 1 {
                    continue;
                }
                while probe.wakes() == 0 {
                    thread::park();
                }
            }
        }
    }
}

// ---- replay ------------------------------------------------------------------------------------

/// Replays a failing schedule printed by any model of this file:
///
/// ```text
/// FT_SHUTTLE_REPLAY_MODEL=mixed_waiters FT_SHUTTLE_REPLAY_SCHEDULE="<the printed schedule>" \
///   cargo test -p futuretask-models --features shuttle --release --test shuttle \
///   -- --ignored --nocapture replay_schedule
/// ```
///
/// (the schedule may keep the line breaks shuttle printed; whitespace is ignored).
#[test]
#[ignore = "set FT_SHUTTLE_REPLAY_MODEL and FT_SHUTTLE_REPLAY_SCHEDULE"]
fn replay_schedule() {
    replay_from_env(&[
        ("mixed_waiters", mixed_waiters),
        ("abandon_storm", abandon_storm),
        ("cancel_storm", cancel_storm),
        ("callback_storm", callback_storm),
        ("async_storm", async_storm),
        ("foreign_storm", foreign_storm),
        ("promise_storm", promise_storm),
    ]);
}

// ---- mixed waiters ---------------------------------------------------------------------------

/// **mixed waiters × run × cancel_and_interrupt() × clock** (I1, I2, I3, I6, I8, I9). 8 threads: runner
/// (closure that yields a few times, watching `current::is_interrupted()`), 2 blocking waiters, 2 timed
/// waiters (one and two ticks), an async waiter (re-polls with a new waker each time), a clock
/// thread (advances 3 ticks), main (cancel_and_interrupt()). Checks: exactly one of completion and cancel
/// wins; every blocking and async waiter reports the winner; a timed waiter reports the winner or
/// `TimedOut`; a waiter that saw the outcome never sees another; no waker leaks; nothing is left
/// on the stack; the closure ran at most once.
fn mixed_waiters() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&runs);
    let task = Arc::new(FutureTask::new(move || {
        r.fetch_add(1, SeqCst);
        for _ in 0..3 {
            if current::is_interrupted() {
                break;
            }
            thread::yield_now();
        }
        11u32
    }));
    let mut hs = Vec::new();
    let t = Arc::clone(&task);
    let runner = thread::spawn(move || {
        jitter(4);
        t.run();
        assert!(
            !current::is_interrupted() && !current::is_cancelled(),
            "I5: signal leaked past run()"
        );
    });
    for _ in 0..2 {
        let t = Arc::clone(&task);
        hs.push(thread::spawn(move || {
            jitter(8);
            vec![seen_get(t.get())]
        }));
    }
    for ticks in 1..=2 {
        let t = Arc::clone(&task);
        hs.push(thread::spawn(move || {
            jitter(8);
            vec![seen_wait(t.get_timeout(Duration::from_nanos(ticks)))]
        }));
    }
    let t = Arc::clone(&task);
    let asy = thread::spawn(move || {
        jitter(8);
        await_async(&t)
    });
    let clock = thread::spawn(|| {
        for _ in 0..3 {
            jitter(6);
            mock_clock::advance(1);
            thread::yield_now();
        }
    });
    jitter(16);
    let won = task.cancel_and_interrupt();
    runner.join().unwrap();
    clock.join().unwrap();
    let fin = seen_get(task.get());
    assert_eq!(
        fin == Seen::Cancelled,
        won,
        "I1: cancel() result vs outcome"
    );
    if !won {
        assert_eq!(fin, Seen::Value(11));
    }
    assert!(runs.load(SeqCst) <= 1, "I4");
    for (i, h) in hs.into_iter().enumerate() {
        for s in h.join().unwrap() {
            if i < 2 {
                assert_eq!(s, fin, "I3/I9: blocking waiter {i}");
            } else {
                assert!(s == fin || s == Seen::TimedOut, "timed waiter {i}: {s:?}");
            }
        }
    }
    let (s, probes) = asy.join().unwrap();
    assert_eq!(s, fin, "I8: async waiter");
    for p in probes {
        assert_eq!(Arc::strong_count(&p), 1, "I6: a stored waker leaked");
    }
    assert_eq!(task.waiter_stack_len(), 0);
}

#[test]
fn shuttle_mixed_waiters() {
    both("mixed_waiters", "I1,I2,I3,I6,I8,I9", 100_000, mixed_waiters);
}

// ---- abandon storm ---------------------------------------------------------------------------

/// **abandon storm** (I6). 6 threads: 3 timed waiters (one tick), 2 async waiters that poll once
/// and drop their future (in place, then poisoning its memory: a node touched after the drop
/// returned reads nonsense and fails the model), main as the clock (advances until every timed waiter returned), no
/// completion until then. Checks: every timed waiter times out and returns (an abandoned node
/// stranded by a remover that ignored DIRTY never returns: shuttle reports the deadlock or the
/// step bound); no waker leaks; the stack is empty before completion; completion then works.
fn abandon_storm() {
    let task = Arc::new(FutureTask::<u32, _>::pending());
    let returned = Arc::new(AtomicUsize::new(0));
    let mut timed = Vec::new();
    for _ in 0..3 {
        let t = Arc::clone(&task);
        let ret = Arc::clone(&returned);
        timed.push(thread::spawn(move || {
            jitter(4);
            let r = t.get_timeout(TICK);
            ret.fetch_add(1, SeqCst);
            matches!(r, Err(Error::TimedOut))
        }));
    }
    let mut droppers = Vec::new();
    for _ in 0..2 {
        let t = Arc::clone(&task);
        droppers.push(thread::spawn(move || {
            jitter(4);
            let probe = WakeProbe::new();
            let mut fut = Box::pin(t.get_async());
            assert!(poll_once(fut.as_mut(), &probe.waker()).is_pending());
            jitter(4);
            (probe, drop_and_poison(fut))
        }));
    }
    while returned.load(SeqCst) < 3 {
        mock_clock::advance(1);
        thread::yield_now();
    }
    for h in timed {
        assert!(h.join().unwrap(), "a timed waiter did not time out");
    }
    let mut poisoned = Vec::new();
    // Check the probes only once every dropper is joined: a lock holder drops the waker it took
    // from another dropper's node just after releasing it.
    let joined: Vec<_> = droppers.into_iter().map(|d| d.join().unwrap()).collect();
    for (probe, p) in joined {
        poisoned.push(p);
        assert_eq!(probe.wakes(), 0);
        assert_eq!(Arc::strong_count(&probe), 1, "I6: a stored waker leaked");
    }
    assert_eq!(
        task.waiter_stack_len(),
        0,
        "I6: an abandoned node is still linked"
    );
    task.set(5).unwrap();
    assert_eq!(*task.get().unwrap(), 5);
    drop(poisoned);
}

#[test]
fn shuttle_abandon_storm() {
    both("abandon_storm", "I6", 100_000, abandon_storm);
}

// ---- cancel storm ----------------------------------------------------------------------------

/// **cancel storm** (I1, I4, I5). 7 threads: 2 runners (each then runs a fresh task on the same
/// thread), cancel_and_interrupt(), cancel(), a setter, a blocking waiter, main. The closure yields
/// until interrupted, at most three times. Checks: exactly one of run-completion,
/// set and the two cancels wins, and `get` reports it; the closure ran at most once and only for
/// a `run` that returned true; after `run` the thread sees no interrupt, and the next task's
/// closure sees neither `current::is_interrupted()` nor `current::is_cancelled()`; the waiter agrees.
fn cancel_storm() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&runs);
    let task = Arc::new(FutureTask::new(move || {
        r.fetch_add(1, SeqCst);
        for _ in 0..3 {
            if current::is_interrupted() {
                break;
            }
            thread::yield_now();
        }
        1u32
    }));
    let mut runners = Vec::new();
    for _ in 0..2 {
        let t = Arc::clone(&task);
        runners.push(thread::spawn(move || {
            jitter(6);
            let ran = t.run();
            assert!(
                !current::is_interrupted() && !current::is_cancelled(),
                "I5: signal leaked past run()"
            );
            let next = FutureTask::new(|| {
                assert!(
                    !current::is_interrupted() && !current::is_cancelled(),
                    "I5: signal reached the next task"
                );
                2u32
            });
            assert!(next.run());
            ran
        }));
    }
    let cancellers: Vec<_> = [true, false]
        .into_iter()
        .map(|i| {
            let t = Arc::clone(&task);
            thread::spawn(move || {
                jitter(12);
                if i {
                    t.cancel_and_interrupt()
                } else {
                    t.cancel()
                }
            })
        })
        .collect();
    let t = Arc::clone(&task);
    let setter = thread::spawn(move || {
        jitter(12);
        t.set(3).is_ok()
    });
    let t = Arc::clone(&task);
    let waiter = thread::spawn(move || {
        jitter(8);
        seen_get(t.get())
    });
    let claimed: usize = runners
        .into_iter()
        .map(|h| h.join().unwrap() as usize)
        .sum();
    let cancels: Vec<bool> = cancellers.into_iter().map(|h| h.join().unwrap()).collect();
    let set_won = setter.join().unwrap();
    let n = runs.load(SeqCst);
    assert!(
        n <= 1 && n == claimed,
        "I4: ran {n} times, claimed {claimed}"
    );
    let fin = seen_get(task.get());
    let run_won = fin == Seen::Value(1);
    let cancel_won = cancels.iter().filter(|c| **c).count();
    assert_eq!(
        run_won as usize + set_won as usize + cancel_won,
        1,
        "I1: winners run {run_won} set {set_won} cancel {cancels:?}"
    );
    assert_eq!(fin == Seen::Value(3), set_won);
    assert_eq!(fin == Seen::Cancelled, cancel_won == 1);
    assert_eq!(waiter.join().unwrap(), fin, "I3: waiter");
    if cancel_won == 1 {
        assert!(!task.run(), "I4: ran after a cancel won");
    }
}

#[test]
fn shuttle_cancel_storm() {
    both("cancel_storm", "I1,I4,I5", 100_000, cancel_storm);
}

// ---- callbacks -------------------------------------------------------------------------------

/// **callback storm** (I7). 6 threads: main registers callback 0 first, then 3 registrant threads
/// register two callbacks each while a completer sets the value and a blocking waiter waits.
/// Checks: every callback runs exactly once, sees the value and `is_done()`; callback 0 runs
/// first; each registrant's two callbacks run in its registration order.
fn callback_storm() {
    let task = Arc::new(FutureTask::<u32, _>::pending());
    let log: Arc<Mutex<Vec<(usize, usize)>>> = Arc::new(Mutex::new(Vec::new()));
    let cb = |who: usize, seq: usize| {
        let log = Arc::clone(&log);
        let weak = Arc::downgrade(&task);
        move |r: Result<&u32, Error>| {
            assert_eq!(*r.unwrap(), 4, "I7: wrong outcome");
            assert!(
                weak.upgrade().unwrap().is_done(),
                "I7: callback before done"
            );
            log.lock().unwrap().push((who, seq));
        }
    };
    task.add_done_callback(cb(0, 0));
    let mut hs = Vec::new();
    for who in 1..=3 {
        let (a, b) = (cb(who, 0), cb(who, 1));
        let t = Arc::clone(&task);
        hs.push(thread::spawn(move || {
            jitter(8);
            t.add_done_callback(a);
            jitter(4);
            t.add_done_callback(b);
        }));
    }
    let t = Arc::clone(&task);
    let completer = thread::spawn(move || {
        jitter(8);
        t.set(4).unwrap()
    });
    let t = Arc::clone(&task);
    let waiter = thread::spawn(move || {
        jitter(8);
        *t.get().unwrap()
    });
    for h in hs {
        h.join().unwrap();
    }
    completer.join().unwrap();
    assert_eq!(waiter.join().unwrap(), 4);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 7, "I7: {log:?}");
    assert_eq!(log[0], (0, 0), "I7: first registered runs first");
    for who in 1..=3 {
        let pos: Vec<_> = (0..2)
            .map(|seq| log.iter().position(|e| *e == (who, seq)).expect("ran"))
            .collect();
        assert!(pos[0] < pos[1], "I7: registration order of {who}: {log:?}");
    }
}

#[test]
fn shuttle_callback_storm() {
    both("callback_storm", "I7", 100_000, callback_storm);
}

// ---- async storm -----------------------------------------------------------------------------

/// **async storm** (I6, I8). 5 threads: 3 async waiters (each re-polls with a new waker before
/// waiting for it; the first drops its future after two polls instead, and poisons its memory),
/// a runner, main.
/// Checks: the awaiting waiters get the value after their latest waker fired; the dropped future
/// leaves nothing behind; every waker the kernel stored is dropped.
fn async_storm() {
    let task = Arc::new(FutureTask::new(|| 9u32));
    let t = Arc::clone(&task);
    let dropper = thread::spawn(move || {
        let (a, b) = (WakeProbe::new(), WakeProbe::new());
        let mut fut = Box::pin(t.get_async());
        jitter(4);
        let _ = poll_once(fut.as_mut(), &a.waker());
        jitter(4);
        let _ = poll_once(fut.as_mut(), &b.waker());
        jitter(4);
        (vec![a, b], drop_and_poison(fut))
    });
    let awaiters: Vec<_> = (0..2)
        .map(|_| {
            let t = Arc::clone(&task);
            thread::spawn(move || {
                jitter(6);
                await_async(&t)
            })
        })
        .collect();
    let t = Arc::clone(&task);
    let runner = thread::spawn(move || {
        jitter(12);
        assert!(t.run())
    });
    runner.join().unwrap();
    let (mut probes, poisoned) = dropper.join().unwrap();
    for a in awaiters {
        let (s, p) = a.join().unwrap();
        assert_eq!(s, Seen::Value(9), "I8");
        probes.extend(p);
    }
    for p in probes {
        assert_eq!(Arc::strong_count(&p), 1, "I6: a stored waker leaked");
    }
    assert_eq!(task.state(), State::Success);
    assert_eq!(task.waiter_stack_len(), 0);
    drop(poisoned);
}

#[test]
fn shuttle_async_storm() {
    both("async_storm", "I6,I8", 100_000, async_storm);
}

// ---- I11: foreign code may panic -------------------------------------------------------------

/// Every kind of foreign panic at once, racing one completion (I3, I6, I7, I8, I11): an async
/// waiter whose `wake` panics, one that re-polls with a waker whose `clone` panics, one that is
/// dropped with a waker whose drop panics, a blocking and a timed waiter, and a registrant of a
/// panicking and a counting callback. Checks: every waiter returns with the value, the counting
/// callback runs exactly once, the completer's caller sees at most the `wake` panic, each
/// waker's drop panic is raised by its own future, nothing is left on the stack, and every
/// waker the kernel stored is dropped.
fn foreign_storm() {
    quiet_planted_panics();
    let task = Arc::new(FutureTask::<u32, _>::pending());
    let mut threads = Vec::new();
    // Waker counts are checked once every thread is joined: a completer drops or wakes the
    // waker it took just after releasing the node.
    let mut wakers = Vec::new();
    // The waiter whose waker panics on wake: it cannot rely on the wake, so it yields.
    let t = Arc::clone(&task);
    let bad = FaultyWaker::new(Fault::Wake);
    wakers.push(Arc::clone(&bad));
    threads.push(thread::spawn(move || {
        let mut fut = Box::pin(t.get_async());
        jitter(6);
        let mut r = poll_once(fut.as_mut(), &bad.waker()).map(|r| *r.unwrap());
        while r.is_pending() {
            thread::yield_now();
            if t.is_done() {
                r = poll_once(fut.as_mut(), &bad.waker()).map(|r| *r.unwrap());
            }
        }
        assert_eq!(r, Poll::Ready(5));
    }));
    // The re-poll whose clone panics: the earlier waker must stay registered and be woken.
    let t = Arc::clone(&task);
    let bad = FaultyWaker::new(Fault::Clone);
    wakers.push(Arc::clone(&bad));
    let probe = Arc::new(Mutex::new(None));
    let p = Arc::clone(&probe);
    threads.push(thread::spawn(move || {
        let a = WakeProbe::for_current_thread();
        *p.lock().unwrap() = Some(Arc::clone(&a));
        let mut fut = Box::pin(t.get_async());
        jitter(6);
        if poll_once(fut.as_mut(), &a.waker()).is_pending() {
            let w = bad.waker();
            jitter(2);
            let _ = planted_panic(|| poll_once(fut.as_mut(), &w));
            while a.wakes() == 0 && !t.is_done() {
                thread::park();
            }
        }
        assert!(matches!(
            poll_once(fut.as_mut(), &a.waker()),
            Poll::Ready(Ok(5))
        ));
    }));
    // The future dropped with a waker whose drop panics.
    let t = Arc::clone(&task);
    let bad = FaultyWaker::new(Fault::Drop);
    wakers.push(Arc::clone(&bad));
    threads.push(thread::spawn(move || {
        let w = bad.waker();
        let mut fut = Box::pin(t.get_async());
        jitter(6);
        let _ = poll_once(fut.as_mut(), &w);
        jitter(6);
        // Raised here iff the node still held its clone (abandoned, or never linked): a
        // completer that released it woke the waker, which consumes it without a drop.
        let _ = planted_panic(move || drop(fut));
        bad.disarm();
        drop(w);
    }));
    let t = Arc::clone(&task);
    threads.push(thread::spawn(move || assert_eq!(*t.get().unwrap(), 5)));
    let t = Arc::clone(&task);
    threads.push(thread::spawn(move || {
        assert_eq!(*t.get_timeout(Duration::from_secs(3600)).unwrap(), 5)
    }));
    let ran = Arc::new(AtomicUsize::new(0));
    let t = Arc::clone(&task);
    let r = Arc::clone(&ran);
    threads.push(thread::spawn(move || {
        jitter(6);
        t.add_done_callback(|_| panic!("ft-planted callback"));
        t.add_done_callback(move |v| {
            assert_eq!(v.copied().ok(), Some(5), "I7");
            r.fetch_add(1, SeqCst);
        });
    }));
    jitter(12);
    if let Some(m) = planted_panic(|| task.set(5).unwrap()) {
        assert!(m.contains("wake"), "I11: `set` raised {m}");
    }
    for t in threads {
        t.join().unwrap();
    }
    for w in wakers {
        assert_eq!(w.live(), 0, "a stored waker leaked");
    }
    let a = probe.lock().unwrap().take().unwrap();
    assert_eq!(Arc::strong_count(&a), 1, "I8: waker A leaked");
    assert_eq!(ran.load(SeqCst), 1, "I7: callback count");
    assert_eq!(task.state(), State::Success);
    assert_eq!(task.waiter_stack_len(), 0);
}

#[test]
fn shuttle_foreign_storm() {
    both("foreign_storm", "I3,I6,I7,I8,I11", 100_000, foreign_storm);
}

// ---- I13: a promise's task, counted in its own state word --------------------------------------

/// A value (or a failure's error) whose drops are counted.
#[derive(Debug)]
struct Dropped {
    n: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Dropped {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "dropped {}", self.n)
    }
}

impl std::error::Error for Dropped {}

/// What a waiter of the promise's task saw: its value's number, a failure whose error is a
/// [`Dropped`] (its number), a broken promise (`u32::MAX`), a cancel or a timeout.
fn seen_promise(r: Result<&Dropped, Error>) -> Seen {
    // A published value or error is dropped only once no reference can read it (I13).
    let live = |v: &Dropped| {
        assert_eq!(v.drops.load(SeqCst), 0, "I13: read after it was dropped");
        v.n
    };
    match r {
        Ok(v) => Seen::Value(live(v)),
        Err(Error::Failed(f)) if f.is_broken_promise() => Seen::Value(u32::MAX),
        Err(Error::Failed(f)) => {
            let e = f.error().and_then(|e| e.downcast_ref::<Dropped>());
            Seen::Value(100 + live(e.expect("the failure's error")))
        }
        Err(Error::Cancelled) => Seen::Cancelled,
        Err(Error::TimedOut) => Seen::TimedOut,
        Err(e) => panic!("I12: no model thread waits inside a task: {e}"),
    }
}

/// Poll a handle's `get_async()` to completion with a fresh waker on every poll (as
/// [`await_async`]).
fn await_handle(h: &TaskHandle<Dropped>) -> (Seen, Vec<Arc<WakeProbe>>) {
    let mut probes = Vec::new();
    let mut fut = Box::pin(h.get_async());
    loop {
        let probe = WakeProbe::for_current_thread();
        probes.push(Arc::clone(&probe));
        match poll_once(fut.as_mut(), &probe.waker()) {
            Poll::Ready(r) => return (seen_promise(r), probes),
            Poll::Pending => {
                if probes.len() == 1 {
                    continue;
                }
                while probe.wakes() == 0 {
                    thread::park();
                }
            }
        }
    }
}

/// **promise storm** (I1, I2, I3, I13). 8 threads: the promise (chosen per iteration by
/// shuttle's RNG: sets a value, fails with an error, or is dropped unset — a broken promise),
/// 2 readers that each clone their handle twice and drop the clones and then their handle, a
/// blocking waiter, a timed waiter (one tick), an async waiter (a new waker per poll), a
/// canceller (`cancel()` or `cancel_and_interrupt()`, also chosen by the RNG), main (advances
/// the clock). Every thread drops its handle when done. In half of the iterations (the RNG)
/// main keeps its own handle to the end; in the others it drops it at once, so that the last
/// reference — the one that frees the task — is any thread's, the promise's included, possibly
/// while the promise still drains. Checks: exactly one of the promise and the cancel wins (a
/// dropped promise publishes its broken-promise failure unless cancelled) and the blocking
/// waiter, and main if it kept its handle, read it; the async waiter reports the winner, the
/// timed one the winner or a timeout; every waker the kernel stored is dropped; if main kept its
/// handle: once every thread is joined the count in the state word is exactly that handle (no
/// lost count change, no leak) and nothing is left on the stack; once every reference is gone,
/// the value or the error was dropped exactly once — by the free, or by the losing writer.
fn promise_storm() {
    use shuttle::rand::Rng;
    let (mode, interrupt, keep) = {
        let mut rng = shuttle::rand::thread_rng();
        (rng.gen_range(0..3u32), rng.gen_bool(0.5), rng.gen_bool(0.5))
    };
    let drops = Arc::new(AtomicUsize::new(0));
    let (p, h) = promise::<Dropped>();
    let d = Arc::clone(&drops);
    let writer = thread::spawn(move || {
        jitter(12);
        match mode {
            0 => match p.set(Dropped { n: 5, drops: d }) {
                Ok(()) => Some(true),
                Err(lost) => {
                    assert_eq!(lost.value.n, 5, "a losing set must hand its value back");
                    Some(false)
                }
            },
            1 => Some(p.fail(Dropped { n: 6, drops: d }).is_ok()),
            _ => {
                drop(p);
                None
            }
        }
    });
    let r = h.clone();
    let canceller = thread::spawn(move || {
        jitter(8);
        if interrupt {
            r.cancel_and_interrupt()
        } else {
            r.cancel()
        }
    });
    let mut readers = Vec::new();
    for _ in 0..2 {
        let r = h.clone();
        readers.push(thread::spawn(move || {
            for _ in 0..2 {
                jitter(4);
                let c = r.clone();
                jitter(4);
                drop(c);
            }
            jitter(4);
            drop(r);
        }));
    }
    let mut waiters = Vec::new();
    let r = h.clone();
    waiters.push(thread::spawn(move || {
        jitter(8);
        let seen = seen_promise(r.get());
        jitter(4);
        // Then it takes the outcome if nobody else can read it any more (T4).
        match r.try_into_outcome() {
            Ok(Outcome::Success(v)) => assert_eq!(Seen::Value(v.n), seen, "I2: the value taken"),
            Ok(Outcome::Failed(f)) => {
                let n = f
                    .error()
                    .and_then(|e| e.downcast_ref::<Dropped>())
                    .map(|e| e.n);
                assert!(
                    f.is_broken_promise() || n == Some(6),
                    "I2: the failure taken"
                );
            }
            Ok(Outcome::Cancelled) => assert_eq!(seen, Seen::Cancelled, "I1: the cancel taken"),
            Err(r) => drop(r),
        }
        (seen, Vec::new())
    }));
    let r = h.clone();
    waiters.push(thread::spawn(move || {
        jitter(8);
        (seen_promise(r.get_timeout(TICK)), Vec::new())
    }));
    let r = h.clone();
    waiters.push(thread::spawn(move || {
        jitter(8);
        await_handle(&r)
    }));
    let mine = if keep {
        Some(h)
    } else {
        drop(h);
        None
    };
    jitter(12);
    mock_clock::advance(1);
    let writer_won = writer.join().unwrap();
    let cancel_won = canceller.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
    let mut seen = Vec::new();
    for w in waiters {
        let (s, probes) = w.join().unwrap();
        seen.push(s);
        for p in probes {
            assert_eq!(Arc::strong_count(&p), 1, "I6: a stored waker leaked");
        }
    }
    let fin = seen[0];
    let published = match mode {
        0 => Seen::Value(5),
        1 => Seen::Value(106),
        _ => Seen::Value(u32::MAX),
    };
    assert_eq!(
        fin == Seen::Cancelled,
        cancel_won,
        "I1: cancel() returned {cancel_won}, the waiter read {fin:?}"
    );
    assert!(
        fin == Seen::Cancelled || fin == published,
        "I1: mode {mode}, read {fin:?}"
    );
    if let Some(won) = writer_won {
        assert_eq!(won, fin == published, "I1: the writer's result vs {fin:?}");
    }
    assert!(
        seen[1] == fin || seen[1] == Seen::TimedOut,
        "I3: the timed waiter saw {:?}",
        seen[1]
    );
    assert_eq!(seen[2], fin, "I3: the async waiter");
    if let Some(h) = mine {
        let mine = seen_promise(h.try_get().expect("I1: settled, yet pending"));
        assert_eq!(mine, fin, "I2: main and the waiter read different outcomes");
        if cancel_won {
            assert_eq!(h.snapshot().interrupted(), interrupt);
        }
        assert_eq!(h.waiter_stack_len(), 0);
        assert_eq!(
            h.handle_count(),
            1,
            "I13: a count change was lost (main holds the only reference)"
        );
        drop(h);
    }
    let expected = usize::from(mode != 2);
    assert_eq!(
        drops.load(SeqCst),
        expected,
        "I13: the value or error was not dropped exactly once (mode {mode})"
    );
}

#[test]
fn shuttle_promise_storm() {
    both("promise_storm", "I1,I2,I3,I13", 100_000, promise_storm);
}
