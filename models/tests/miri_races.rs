//! Multi-threaded races of the kernel for Miri (`bash models/run-miri.sh <seeds>`; the executor's
//! are `executor_miri.rs`): plain `std` threads against the real kernel, small iteration counts,
//! run once per seed with `-Zmiri-many-seeds` (`futuretask_models::race_driver`). Miri's
//! scheduler preempts at random points, so across seeds these hit the windows where a node, a
//! thread handle or an outcome could be touched after it is freed or before it is published —
//! which loom and shuttle cannot see (use-after-free, data races, uninitialised reads).
//!
//! Each test also runs natively (more iterations) as a smoke test, and prints its `FT-MODEL
//! checker=miri` line (`checker=std` when not under Miri).

#![cfg(not(any(loom, feature = "shuttle")))]

use futuretask::{current, promise, Error, FutureTask, Outcome};
use futuretask_models::fault::{planted_panic, quiet_planted_panics, Bombs, Fault, FaultyWaker};
use futuretask_models::race_driver::run_race;
use futuretask_models::{poll_once, WakeProbe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::thread;
use std::time::Duration;

/// **timeout × completion** (I6): two timed waiters with tiny timeouts race the completer; the
/// timed-out waiters' stack nodes must be unlinked (or handed off) before their frames die.
#[test]
fn timeout_vs_completion() {
    run_race("timeout_vs_completion", "I3,I6,I9", |i| {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let waiters: Vec<_> = (0..2)
            .map(|k| {
                let t = Arc::clone(&task);
                thread::spawn(move || {
                    let d = Duration::from_nanos(((i + k) % 4) as u64 * 500);
                    match t.get_timeout(d) {
                        Ok(v) => assert_eq!(*v, 3),
                        Err(Error::TimedOut) => {}
                        Err(e) => panic!("unexpected {e:?}"),
                    }
                })
            })
            .collect();
        if i % 2 == 0 {
            thread::yield_now();
        }
        task.set(3).unwrap();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(task.waiter_stack_len(), 0);
    });
}

/// **abandoners × abandoners** (I6): a timed waiter and three dropped futures abandon their
/// nodes concurrently with no completion (remover lock, DIRTY marks, re-sweeps, unlinking at the
/// head while another abandoner's CAS moves it); every node must be released only after it is
/// unlinked, and nothing stays linked.
#[test]
fn abandon_vs_abandon() {
    run_race("abandon_vs_abandon", "I6", |i| {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let timed = thread::spawn(move || {
            let d = Duration::from_nanos(1 + (i % 3) as u64 * 300);
            assert!(matches!(t.get_timeout(d), Err(Error::TimedOut)));
        });
        let droppers: Vec<_> = (0..3)
            .map(|_| {
                let t = Arc::clone(&task);
                thread::spawn(move || {
                    let probe = WakeProbe::new();
                    let mut fut = Box::pin(t.get_async());
                    assert!(poll_once(fut.as_mut(), &probe.waker()).is_pending());
                    drop(fut);
                    probe
                })
            })
            .collect();
        timed.join().unwrap();
        let probes: Vec<_> = droppers.into_iter().map(|d| d.join().unwrap()).collect();
        // Only once every remover is done: the lock holder that released a node drops the waker
        // it took from it just after marking the node DONE, possibly after that node's owner
        // has returned.
        for probe in probes {
            assert_eq!(probe.wakes(), 0);
            assert_eq!(Arc::strong_count(&probe), 1);
        }
        assert_eq!(task.waiter_stack_len(), 0);
        task.set(1).unwrap();
    });
}

/// **drop-future × completion** (I6, I8): a future polled once is dropped while the completer
/// releases its node; the node (inside the future) must not be touched after the drop returns.
#[test]
fn drop_future_vs_completion() {
    run_race("drop_future_vs_completion", "I6,I8", |i| {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let dropper = thread::spawn(move || {
            let probe = WakeProbe::new();
            let mut fut = Box::pin(t.get_async());
            if let Poll::Ready(r) = poll_once(fut.as_mut(), &probe.waker()) {
                assert_eq!(*r.unwrap(), 2);
            }
            drop(fut);
            probe
        });
        let t = Arc::clone(&task);
        let waiter = thread::spawn(move || *t.get().unwrap());
        if i % 2 == 1 {
            thread::yield_now();
        }
        task.set(2).unwrap();
        let probe = dropper.join().unwrap();
        assert!(probe.wakes() <= 1);
        assert_eq!(Arc::strong_count(&probe), 1);
        assert_eq!(waiter.join().unwrap(), 2);
    });
}

/// **re-poll × completion** (I8): the waker is replaced while the completer may be taking it.
#[test]
fn repoll_vs_completion() {
    run_race("repoll_vs_completion", "I8", |_| {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let poller = thread::spawn(move || {
            let (a, b) = (WakeProbe::new(), WakeProbe::new());
            let mut fut = Box::pin(t.get_async());
            let mut ready = poll_once(fut.as_mut(), &a.waker()).is_ready();
            if !ready {
                ready = poll_once(fut.as_mut(), &b.waker()).is_ready();
            }
            if !ready {
                while b.wakes() == 0 {
                    thread::yield_now();
                }
                assert_eq!(a.wakes(), 0, "I8: replaced waker woken");
                assert!(poll_once(fut.as_mut(), &b.waker()).is_ready());
            }
            drop(fut);
            (a, b)
        });
        task.set(5).unwrap();
        let (a, b) = poller.join().unwrap();
        // After both joined: the completer drops (wakes) the waker it took after releasing the
        // node, so a check inside the poller could still see its clone.
        assert_eq!(Arc::strong_count(&a), 1);
        assert_eq!(Arc::strong_count(&b), 1);
    });
}

/// **callback × completion** (I7): callbacks registered concurrently with completion run once,
/// in registration order, after the outcome is visible.
#[test]
fn callback_vs_completion() {
    run_race("callback_vs_completion", "I7", |_| {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let log = Arc::new(Mutex::new(Vec::new()));
        let cb = |k: u32| {
            let log = Arc::clone(&log);
            move |r: Result<&u32, Error>| {
                assert_eq!(*r.unwrap(), 8);
                log.lock().unwrap().push(k);
            }
        };
        task.add_done_callback(cb(0));
        let (c1, c2) = (cb(1), cb(2));
        let t = Arc::clone(&task);
        let reg = thread::spawn(move || {
            t.add_done_callback(c1);
            t.add_done_callback(c2);
        });
        let t = Arc::clone(&task);
        let completer = thread::spawn(move || t.set(8).unwrap());
        reg.join().unwrap();
        completer.join().unwrap();
        assert_eq!(*log.lock().unwrap(), [0, 1, 2]);
    });
}

/// **cancel_and_interrupt() × run** (I5): the canceller dereferences the runner's thread handle (on `run`'s
/// stack) between its CAS and INTERRUPTED; `run` must not return (popping that frame) before.
/// Alternates a closure that finishes at once with one that parks until interrupted.
#[test]
fn cancel_interrupt_vs_run() {
    run_race("cancel_interrupt_vs_run", "I1,I5", |i| {
        let parks = i % 2 == 1;
        let task = Arc::new(FutureTask::new(move || {
            if parks {
                while !current::is_interrupted() {
                    thread::park_timeout(Duration::from_micros(50));
                }
            }
            1u32
        }));
        let t = Arc::clone(&task);
        let runner = thread::spawn(move || {
            t.run();
            assert!(!current::is_interrupted());
        });
        let t = Arc::clone(&task);
        let canceller = thread::spawn(move || t.cancel_and_interrupt());
        runner.join().unwrap();
        let won = canceller.join().unwrap();
        match task.get() {
            Ok(v) => assert!(!won && *v == 1),
            Err(Error::Cancelled) => assert!(won),
            Err(e) => panic!("unexpected {e:?}"),
        }
    });
}

/// **sleepers × completion** (I3): two untimed waiters sleep on the task's shared sleep word —
/// the real `futex(2)` path, whose wait and wake Miri emulates — while a third thread completes:
/// both return the value (a lost wake is a Miri deadlock report), and no node outlives its frame.
#[test]
fn sleepers_vs_completion() {
    run_race("sleepers_vs_completion", "I3", |i| {
        let task = Arc::new(FutureTask::<usize, _>::pending());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let t = Arc::clone(&task);
                thread::spawn(move || *t.get().unwrap())
            })
            .collect();
        let t = Arc::clone(&task);
        let completer = thread::spawn(move || t.set(i).unwrap());
        for w in waiters {
            assert_eq!(w.join().unwrap(), i);
        }
        completer.join().unwrap();
        assert_eq!(task.waiter_stack_len(), 0);
    });
}

/// **run × run × set** (I1, I4): the closure is claimed once; the outcome is written once.
#[test]
fn run_vs_set() {
    run_race("run_vs_set", "I1,I2,I4", |_| {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&runs);
        let task = Arc::new(FutureTask::new(move || {
            r.fetch_add(1, SeqCst);
            String::from("run")
        }));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let t = Arc::clone(&task);
                thread::spawn(move || t.run())
            })
            .collect();
        let set_won = task.set(String::from("set")).is_ok();
        let claimed: usize = hs.into_iter().map(|h| h.join().unwrap() as usize).sum();
        assert!(runs.load(SeqCst) <= 1 && runs.load(SeqCst) == claimed);
        let v = task.get().unwrap();
        assert_eq!(v == "set", set_won);
    });
}

// ---- I13: a promise's task, counted in its own state word --------------------------------------

/// A value whose drops are counted.
struct Counted {
    n: usize,
    drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// **a promise's set × the last reader's drop × a reader's clone and drop** (I13): the promise
/// and its readers share one allocation, freed by whichever reference goes last. A callback
/// registered before the race and a blocking waiter (whose handle goes as soon as its `get`
/// returns, possibly while the promise still drains) make the drain (W2) walk nodes and the head
/// of a task that only the promise's own reference keeps alive; a third thread clones its handle
/// and drops both; main drops its handle before the set. Miri reports a task freed under the
/// drain (use after free), freed twice, never freed (leak) or freed without the others' uses
/// ordered before it (data race); the value and the callback each go exactly once.
#[test]
fn promise_drop_vs_set() {
    run_race("promise_drop_vs_set", "I13", |i| {
        let drops = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let (p, h) = promise::<Counted>();
        let r = Arc::clone(&ran);
        h.add_done_callback(move |v| {
            assert_eq!(v.map(|v| v.n).ok(), Some(i), "I7: the callback's outcome");
            r.fetch_add(1, SeqCst);
        });
        let w = h.clone();
        let waiter = thread::spawn(move || {
            assert_eq!(w.get().map(|v| v.n).ok(), Some(i), "I2: the waiter's value");
            drop(w);
        });
        let c = h.clone();
        let churn = thread::spawn(move || {
            let c2 = c.clone();
            if i % 2 == 0 {
                thread::yield_now();
            }
            drop(c);
            drop(c2);
        });
        drop(h);
        let v = Counted {
            n: i,
            drops: Arc::clone(&drops),
        };
        let setter = thread::spawn(move || assert!(p.set(v).is_ok(), "nobody cancels"));
        setter.join().unwrap();
        waiter.join().unwrap();
        churn.join().unwrap();
        assert_eq!(
            ran.load(SeqCst),
            1,
            "I7: the callback ran {} times",
            ran.load(SeqCst)
        );
        assert_eq!(
            drops.load(SeqCst),
            1,
            "I13: the task was not freed exactly once"
        );
    });
}

/// **the promise's publish × a reader that may wait × the last drop** (I2, I3, I13): a reader
/// blocks in `get` on even iterations (it may announce a push before the promise's CAS, or find
/// the task settled) and only peeks (`try_get`, never a push) on odd ones, then drops its handle,
/// while the promise sets. Unannounced, W1 gives up the promise's reference in its own CAS and
/// skips the drain, and whichever reference goes last frees the task: a publish that touched the
/// task after giving up its reference, or a free not ordered after the other side's last use, is
/// a data race or a use-after-free for Miri; a waiter stranded by a skipped drain trips the
/// race's watchdog; a second or missing free shows in the value's drops (and Miri's leak check).
#[test]
fn promise_set_vs_last_drop() {
    run_race("promise_set_vs_last_drop", "I2,I3,I13", |i| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (p, h) = promise::<Counted>();
        let reader = thread::spawn(move || {
            let seen = if i % 2 == 0 {
                Some(h.get().map(|v| v.n).ok())
            } else {
                h.try_get().map(|r| r.map(|v| v.n).ok())
            };
            assert!(
                matches!(seen, None | Some(Some(_))),
                "I2: the reader's value"
            );
            if let Some(Some(n)) = seen {
                assert_eq!(n, i, "I2: the reader's value");
            }
            drop(h);
        });
        let v = Counted {
            n: i,
            drops: Arc::clone(&drops),
        };
        assert!(p.set(v).is_ok(), "nobody cancels");
        reader.join().unwrap();
        assert_eq!(
            drops.load(SeqCst),
            1,
            "I13: the task was not freed exactly once"
        );
    });
}

/// **the promise's releasing publication × the reader's free** (I13, W1): the reader drops its
/// handle the moment it sees the task settled, so it may free the task while the promise is
/// still inside its completion, just after W1's CAS gave the promise's reference up. Past that
/// CAS the completion may touch nothing of the task, nor hold a reference to it: a `&FutureTask`
/// argument claims the whole task until its function returns, and Miri's borrow tracker reports
/// a free under it. 32 rounds per iteration: the window is a few steps wide.
#[test]
fn promise_release_vs_reader_free() {
    run_race("promise_release_vs_reader_free", "I13", |i| {
        for round in 0..32 {
            let n = i * 32 + round;
            let drops = Arc::new(AtomicUsize::new(0));
            let (p, h) = promise::<Counted>();
            let reader = thread::spawn(move || {
                // Peeking never announces a push, so W1 always gives the promise's reference up
                // in its CAS, and the reader frees the task as soon as it sees the value.
                let seen = loop {
                    match h.try_get() {
                        Some(r) => break r.map(|v| v.n).ok(),
                        None => thread::yield_now(),
                    }
                };
                assert_eq!(seen, Some(n), "I2: the reader's value");
                drop(h);
            });
            let v = Counted {
                n,
                drops: Arc::clone(&drops),
            };
            assert!(p.set(v).is_ok(), "nobody cancels");
            reader.join().unwrap();
            assert_eq!(
                drops.load(SeqCst),
                1,
                "I13: the task was not freed exactly once"
            );
        }
    });
}

/// **a take × the promise's drain and release** (I2, I13, T4): the reader waits (`get`, which
/// often announces a push, so the promise keeps its reference for the drain: DRAIN_HELD) and
/// then takes the value by value, which must succeed (nobody else holds the task). The take
/// moves the outcome while the promise may still be draining and then frees the task or leaves
/// the free to the promise's release (W3): a move not ordered before the promise's free (the
/// take's Release), a free of an outcome already moved (MOVED lost), or a second or missing
/// free is a data race, a use-after-free, a double drop or a leak for Miri. 8 rounds per
/// iteration.
#[test]
fn promise_take_vs_drain() {
    run_race("promise_take_vs_drain", "I2,I13", |i| {
        for round in 0..8 {
            let n = i * 8 + round;
            let drops = Arc::new(AtomicUsize::new(0));
            let (p, h) = promise::<Counted>();
            let reader = thread::spawn(move || {
                assert_eq!(h.get().map(|v| v.n).ok(), Some(n), "I2: the reader's value");
                match h.try_into_outcome() {
                    Ok(Outcome::Success(v)) => assert_eq!(v.n, n, "I2: the value taken"),
                    Ok(_) => panic!("I2: took a failure or a cancel"),
                    Err(_) => panic!("I13: nobody else holds the task, yet the take failed"),
                }
            });
            for _ in 0..round % 3 {
                thread::yield_now();
            }
            let v = Counted {
                n,
                drops: Arc::clone(&drops),
            };
            assert!(p.set(v).is_ok(), "nobody cancels");
            reader.join().unwrap();
            assert_eq!(
                drops.load(SeqCst),
                1,
                "I13: the value was not dropped exactly once"
            );
        }
    });
}

// ---- I11: foreign code may panic -------------------------------------------------------------

/// **a panicking wake × an older sleeper × a timed waiter × completion** (I3, I6, I11): the
/// completer's batch walk meets a waker that panics after the newer nodes and before an older
/// untimed sleeper, while a timed waiter may be timing out; every node is released before its
/// frame dies (a walk that stops at the panic strands the sleeper: Miri reports the deadlock),
/// and the panic reaches `set`'s caller.
#[test]
fn wake_panic_vs_completion() {
    quiet_planted_panics();
    run_race("wake_panic_vs_completion", "I3,I6,I11", |i| {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let sleeper = thread::spawn(move || assert_eq!(*t.get().unwrap(), 5));
        while task.waiter_stack_len() == 0 {
            thread::yield_now();
        }
        let t = Arc::clone(&task);
        let timed = thread::spawn(move || {
            match t.get_timeout(Duration::from_nanos((i % 3) as u64 * 400)) {
                Ok(v) => assert_eq!(*v, 5),
                Err(Error::TimedOut) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        });
        let bad = FaultyWaker::new(Fault::Wake);
        let mut fut = Box::pin(task.get_async());
        assert!(poll_once(fut.as_mut(), &bad.waker()).is_pending());
        let t = Arc::clone(&task);
        let setter = thread::spawn(move || planted_panic(|| t.set(5).unwrap()).is_some());
        assert!(setter.join().unwrap(), "I11: the waker's panic was lost");
        timed.join().unwrap();
        sleeper.join().unwrap();
        assert!(matches!(
            poll_once(fut.as_mut(), &WakeProbe::new().waker()),
            Poll::Ready(Ok(5))
        ));
        drop(fut);
        assert_eq!(bad.live(), 0);
    });
}

/// **a panicking clone on a re-poll × completion** (I6, I8, I11): the node must never be left
/// UPDATING, and the completer must never read the waker slot while the owner writes it.
#[test]
fn repoll_clone_panic_vs_completion() {
    quiet_planted_panics();
    run_race("repoll_clone_panic_vs_completion", "I6,I8,I11", |i| {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let setter = thread::spawn(move || {
            if i % 2 == 0 {
                thread::yield_now();
            }
            t.set(2).unwrap();
        });
        let (a, bad) = (WakeProbe::new(), FaultyWaker::new(Fault::Clone));
        let mut fut = Box::pin(task.get_async());
        if poll_once(fut.as_mut(), &a.waker()).is_pending() {
            let w = bad.waker();
            let _ = planted_panic(|| poll_once(fut.as_mut(), &w));
        }
        setter.join().unwrap();
        assert!(matches!(
            poll_once(fut.as_mut(), &a.waker()),
            Poll::Ready(Ok(2))
        ));
        drop(fut);
        assert_eq!(Arc::strong_count(&a), 1, "waker A leaked");
        assert_eq!(bad.live(), 0);
    });
}

/// **abandon × abandon with a panicking waker drop × completion** (I6, I11): two futures are
/// dropped while the task completes; the waker whose drop panics is dropped by its own future,
/// never by a remover (under LOCKED) or the completer, and no node is touched after its frame
/// is gone.
#[test]
fn abandon_drop_panic_vs_completion() {
    quiet_planted_panics();
    run_race("abandon_drop_panic_vs_completion", "I6,I11", |i| {
        let task = Arc::new(FutureTask::<u32, _>::pending());
        let droppers: Vec<_> = [Fault::Drop, Fault::Never]
            .into_iter()
            .map(|fault| {
                let t = Arc::clone(&task);
                thread::spawn(move || {
                    let waker = FaultyWaker::new(fault);
                    let w = waker.waker();
                    let mut fut = Box::pin(t.get_async());
                    let _ = poll_once(fut.as_mut(), &w);
                    let raised = planted_panic(move || drop(fut)).is_some();
                    // Raised by its own drop only (a completer that released the node woke the
                    // waker, which consumes it without a drop).
                    assert!(
                        !raised || fault == Fault::Drop,
                        "I11: raised on the wrong thread"
                    );
                    waker.disarm();
                    drop(w);
                    waker
                })
            })
            .collect();
        if i % 2 == 1 {
            thread::yield_now();
        }
        task.set(1).unwrap();
        // Counted only now: a completer that released the node may still hold the clone it
        // took out (H4 stores DONE, then wakes), so `live` reaches 0 once `set` has returned.
        for d in droppers {
            assert_eq!(d.join().unwrap().live(), 0);
        }
    });
}

/// **a task dropped with panicking foreign drops** (I7, I11): unrun callbacks, an unclaimed
/// closure and an outcome whose drops all panic are all freed (Miri reports a leaked node or
/// value), and the first panic reaches the dropper.
#[test]
fn task_drop_foreign_panics() {
    quiet_planted_panics();
    run_race("task_drop_foreign_panics", "I7,I11", |_| {
        let bombs = Bombs::new();
        let (b1, b2, b3) = (bombs.bomb(), bombs.bomb(), bombs.bomb());
        let task = Arc::new(FutureTask::new(move || drop(b1)));
        task.add_done_callback(move |_| drop(b2));
        task.add_done_callback(move |_| drop(b3));
        let t = Arc::clone(&task);
        thread::spawn(move || drop(t)).join().unwrap();
        assert!(planted_panic(move || drop(task)).is_some());
        assert_eq!(bombs.dropped(), 3);
        let task = FutureTask::new({
            let b = bombs.bomb();
            move || b
        });
        assert!(task.set(bombs.bomb()).is_ok());
        assert!(planted_panic(move || drop(task)).is_some());
        assert_eq!(bombs.dropped(), 5);
    });
}
