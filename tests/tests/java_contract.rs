//! Acceptance scenarios from Java's `FutureTask` contract (and its known bugs): cancellation before,
//! during and after a run, cooperative interruption that never leaks to the next task on the
//! thread, many waiters released by one completion, exceptional completion, timeouts at the edges
//! (JDK-8060052) and "done means done" (JDK-8073704).

use futuretask::{current, Error, FutureTask, Outcome, State};
use futuretask_tests::support::{
    quiet_planted_panics, report, PlantedPayload, Tier, Token, Tracker,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_micros(100));
    }
}

#[test]
fn cancel_before_run_never_starts_and_drops_the_closure_once() {
    let tr = Tracker::new();
    let started = Arc::new(AtomicBool::new(false));
    let (tok, s) = (tr.token(), Arc::clone(&started));
    let task = Arc::new(FutureTask::new(move || {
        s.store(true, SeqCst);
        drop(tok);
        1
    }));
    assert_eq!(task.state(), State::Pending);
    assert!(task.cancel());
    assert!(!task.cancel_and_interrupt(), "a second cancel loses");
    assert!(!task.run(), "run after cancel returns false");
    assert!(!started.load(SeqCst), "the closure never starts (I4)");
    assert!(task.is_done() && task.is_cancelled());
    assert_eq!(task.state(), State::Cancelled);
    assert!(matches!(task.get(), Err(Error::Cancelled)));
    assert!(matches!(
        task.get_timeout(Duration::ZERO),
        Err(Error::Cancelled)
    ));
    assert!(matches!(task.try_get(), Some(Err(Error::Cancelled))));
    assert_eq!(
        tr.alive(),
        1,
        "the unrun closure lives in the task until it drops"
    );
    drop(task);
    assert_eq!((tr.created(), tr.dropped()), (1, 1));
}

#[test]
fn cancel_after_run_loses() {
    let task = Arc::new(FutureTask::new(|| 5));
    assert!(task.run());
    assert!(!task.cancel());
    assert!(!task.cancel_and_interrupt());
    assert!(!task.is_cancelled());
    assert_eq!(*task.get().unwrap(), 5);
    assert_eq!(task.state(), State::Success);
}

#[test]
fn cancel_running_without_interrupt_is_cooperative() {
    let seen = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicBool::new(false));
    let (s, st) = (Arc::clone(&seen), Arc::clone(&started));
    let tr = Tracker::new();
    let tok = tr.token();
    let task = Arc::new(FutureTask::new(move || {
        st.store(true, SeqCst);
        while !current::is_cancelled() {
            thread::yield_now();
        }
        // cancel() does not interrupt.
        s.store(1 + usize::from(current::is_interrupted()), SeqCst);
        tok // the late result is discarded (and dropped)
    }));
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let t = Arc::clone(&task);
            thread::spawn(move || matches!(t.get(), Err(Error::Cancelled)))
        })
        .collect();
    let runner = {
        let t = Arc::clone(&task);
        thread::spawn(move || t.run())
    };
    wait_until("the closure to start", || started.load(SeqCst));
    assert_eq!(task.state(), State::Running);
    assert!(task.cancel(), "cancel wins while running");
    assert!(
        runner.join().unwrap(),
        "run still reports that it ran the closure"
    );
    assert_eq!(
        seen.load(SeqCst),
        1,
        "saw current::is_cancelled() but not current::is_interrupted()"
    );
    for w in waiters {
        assert!(w.join().unwrap(), "every waiter is released with Cancelled");
    }
    assert_eq!(tr.alive(), 0, "the discarded result was dropped");
    assert_eq!(task.waiter_stack_len(), 0);
}

#[test]
fn cancel_running_with_interrupt_wakes_a_parked_closure() {
    let started = Arc::new(AtomicBool::new(false));
    let st = Arc::clone(&started);
    let task = Arc::new(FutureTask::new(move || {
        st.store(true, SeqCst);
        let t0 = Instant::now();
        while !current::is_interrupted() {
            thread::park_timeout(Duration::from_secs(30));
            assert!(
                t0.elapsed() < Duration::from_secs(25),
                "the canceller did not unpark us"
            );
        }
        assert!(current::is_cancelled());
        7
    }));
    let runner = {
        let t = Arc::clone(&task);
        thread::spawn(move || {
            let ran = t.run();
            (ran, current::is_interrupted(), current::is_cancelled())
        })
    };
    wait_until("the closure to start", || started.load(SeqCst));
    thread::sleep(Duration::from_millis(5)); // let it park
    assert!(task.cancel_and_interrupt());
    let (ran, leaked_i, leaked_c) = runner.join().unwrap();
    assert!(ran);
    assert!(!leaked_i && !leaked_c, "interrupt must not leak past run");
    assert!(matches!(task.get(), Err(Error::Cancelled)));
    assert_eq!(task.state(), State::Cancelled);
}

/// The reason for Java's 2011 rewrite: an interrupt aimed at one task must never reach the next
/// task the same thread runs — neither as `current::is_interrupted()` nor as a wakeup after `run` returned.
#[test]
fn interrupt_never_leaks_to_the_next_task_on_the_thread() {
    let tier = Tier::current();
    let rounds = tier.count("FT_INTERRUPT_ROUNDS", 300, 5_000);
    tier.announce(
        "interrupt leak",
        &format!("{rounds} cancel_and_interrupt() races"),
    );
    type Job = Arc<FutureTask<u32>>;
    let (tx, rx) = mpsc::channel::<(Job, Job)>();
    let leaks = Arc::new(AtomicUsize::new(0));
    let permits = Arc::new(AtomicUsize::new(0));
    let (l, p) = (Arc::clone(&leaks), Arc::clone(&permits));
    let pool = thread::spawn(move || {
        for (victim, next) in rx {
            victim.run();
            next.run();
            if current::is_interrupted() || current::is_cancelled() {
                l.fetch_add(1, SeqCst);
            }
            let _ = &p;
        }
    });
    for i in 0..rounds {
        let started = Arc::new(AtomicBool::new(false));
        let st = Arc::clone(&started);
        let spin = (i % 7) * 200;
        let victim: Arc<FutureTask<u32>> = Arc::new(FutureTask::new(move || {
            st.store(true, SeqCst);
            for _ in 0..spin {
                if current::is_interrupted() {
                    break;
                }
                std::hint::spin_loop();
            }
            1
        }));
        // The next task checks that it starts clean; every 30th round it also checks that no
        // wakeup reaches the thread after `run` returned (the canceller is done with the thread
        // by then). A permit the canceller's unpark left before that is one spurious wakeup,
        // which `park` allows and `run` cannot tell from another thread's unpark, so it is
        // dropped first.
        let check_permit = i % 30 == 0;
        let l2 = Arc::clone(&leaks);
        let p2 = Arc::clone(&permits);
        let next: Arc<FutureTask<u32>> = Arc::new(FutureTask::new(move || {
            if current::is_interrupted() || current::is_cancelled() {
                l2.fetch_add(1, SeqCst);
            }
            if check_permit {
                thread::park_timeout(Duration::ZERO);
                let t = Instant::now();
                thread::park_timeout(Duration::from_millis(20));
                if t.elapsed() < Duration::from_millis(10) {
                    p2.fetch_add(1, SeqCst);
                }
            }
            2
        }));
        tx.send((Arc::clone(&victim), Arc::clone(&next))).unwrap();
        if i % 2 == 0 {
            wait_until("the victim to start", || {
                started.load(SeqCst) || victim.is_done()
            });
        }
        victim.cancel_and_interrupt();
        let _ = next.get();
    }
    drop(tx);
    pool.join().unwrap();
    assert_eq!(leaks.load(SeqCst), 0, "interrupt leaked into the next task");
    assert_eq!(
        permits.load(SeqCst),
        0,
        "a park permit leaked into the next task"
    );
}

#[test]
fn many_waiters_then_run_or_set() {
    for mode in 0..3 {
        let task: Arc<FutureTask<u32>> = Arc::new(FutureTask::new(|| 42));
        let n = 6;
        let barrier = Arc::new(Barrier::new(n + 1));
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let (t, b) = (Arc::clone(&task), Arc::clone(&barrier));
                thread::spawn(move || {
                    b.wait();
                    match i % 3 {
                        0 => *t.get().unwrap(),
                        1 => *t.get_timeout(Duration::from_secs(60)).unwrap(),
                        _ => *t
                            .get_deadline(Instant::now() + Duration::from_secs(60))
                            .unwrap(),
                    }
                })
            })
            .collect();
        barrier.wait();
        wait_until("waiters to park", || task.waiter_stack_len() == n);
        let want = match mode {
            0 => {
                assert!(task.run());
                42
            }
            1 => {
                task.set(9).unwrap();
                9
            }
            _ => {
                let runner = {
                    let t = Arc::clone(&task);
                    thread::spawn(move || t.run())
                };
                runner.join().unwrap();
                42
            }
        };
        for h in hs {
            assert_eq!(h.join().unwrap(), want);
        }
        assert_eq!(task.waiter_stack_len(), 0);
    }
}

#[test]
fn exceptional_completion() {
    quiet_planted_panics();
    // &str payload, String payload, non-string payload.
    let t = Arc::new(FutureTask::new(|| -> u32 { panic!("ft-planted static") }));
    t.run();
    let Err(Error::Failed(f)) = t.get() else {
        panic!("expected a failure")
    };
    assert!(f.is_panic() && !f.is_broken_promise() && f.error().is_none());
    assert_eq!(f.panic_message(), Some("ft-planted static"));
    assert!(f.to_string().contains("ft-planted static"));
    assert_eq!(t.state(), State::Failed);

    let t = FutureTask::new(|| -> u32 { std::panic::panic_any(PlantedPayload(42)) });
    t.run();
    let Some(Outcome::Failed(f)) = t.into_outcome() else {
        panic!("expected a failure")
    };
    assert!(f.is_panic());
    assert_eq!(f.panic_message(), None);
    let payload = f.into_panic_payload().unwrap();
    assert_eq!(
        payload.downcast_ref::<PlantedPayload>(),
        Some(&PlantedPayload(42))
    );

    // resume_unwind() re-raises the original payload (the only handle to the failure).
    let t = FutureTask::new(|| -> u32 { std::panic::panic_any(String::from("ft-planted owned")) });
    t.run();
    let Some(Outcome::Failed(f)) = t.into_outcome() else {
        panic!()
    };
    let e = catch_unwind(AssertUnwindSafe(|| f.resume_unwind())).unwrap_err();
    assert_eq!(e.downcast_ref::<String>().unwrap(), "ft-planted owned");

    // fail(e): the error is reachable; resume_unwind() of a shared failure panics with its message.
    let t = FutureTask::<u32, _>::pending();
    t.fail(std::io::Error::other("ft-planted io")).unwrap();
    let Err(Error::Failed(f)) = t.get() else {
        panic!()
    };
    assert!(!f.is_panic());
    let io = f.error().unwrap().downcast_ref::<std::io::Error>().unwrap();
    assert_eq!(io.kind(), std::io::ErrorKind::Other);
    // Its message is in the failure's, so it is not the failure's source too (named once).
    assert!(std::error::Error::source(&f).is_none());
    assert_eq!(f.to_string(), "task failed: ft-planted io");
    let e = catch_unwind(AssertUnwindSafe(|| f.clone().resume_unwind())).unwrap_err();
    assert!(e
        .downcast_ref::<String>()
        .unwrap()
        .contains("ft-planted io"));
    assert!(matches!(
        t.into_outcome().unwrap().into_result(),
        Err(Error::Failed(_))
    ));
}

#[test]
fn into_outcome_in_every_state() {
    let t = FutureTask::new(|| 3u32);
    assert!(t.run());
    assert!(matches!(t.into_outcome(), Some(Outcome::Success(3))));
    let t = FutureTask::new(|| 3u32);
    assert!(t.into_outcome().is_none(), "pending: no outcome");
    let t = FutureTask::new(|| 3u32);
    t.cancel_and_interrupt();
    assert!(matches!(t.into_outcome(), Some(Outcome::Cancelled)));
    // The owned value moves out exactly once.
    let tr = Tracker::new();
    let tok = tr.token();
    let t = FutureTask::new(move || tok);
    t.run();
    let v = t.into_outcome().unwrap().into_result().unwrap();
    assert_eq!(tr.alive(), 1);
    drop(v);
    assert_eq!((tr.created(), tr.dropped()), (1, 1));
}

#[test]
fn set_while_running_discards_and_drops_the_late_result() {
    let tr = Tracker::new();
    let tok = tr.token();
    let slot: Arc<std::sync::OnceLock<std::sync::Weak<FutureTask<Token>>>> =
        Arc::new(std::sync::OnceLock::new());
    let s2 = Arc::clone(&slot);
    let other = tr.token();
    let task: Arc<FutureTask<Token>> = Arc::new(FutureTask::new(move || {
        let me = s2.get().unwrap().upgrade().unwrap();
        assert_eq!(me.state(), State::Running);
        assert!(me.set(other).is_ok(), "set wins while running");
        assert_eq!(me.state(), State::Success);
        tok
    }));
    slot.set(Arc::downgrade(&task)).unwrap();
    assert!(task.run());
    assert_eq!(
        tr.alive(),
        1,
        "the closure's late result was dropped, the set value kept"
    );
    assert!(task.get().is_ok());
    drop(task);
    assert_eq!((tr.created(), tr.dropped()), (2, 2));
}

#[test]
fn timeouts_at_the_edges() {
    let task = Arc::new(FutureTask::new(|| 1u32));
    // Zero: answers at once.
    let t0 = Instant::now();
    for _ in 0..1000 {
        assert!(matches!(
            task.get_timeout(Duration::ZERO),
            Err(Error::TimedOut)
        ));
    }
    assert!(t0.elapsed() < Duration::from_secs(1));
    // "Negative": a deadline in the past.
    let past = Instant::now()
        .checked_sub(Duration::from_secs(3600))
        .unwrap_or_else(Instant::now);
    let t0 = Instant::now();
    for _ in 0..100 {
        assert!(matches!(task.get_deadline(past), Err(Error::TimedOut)));
    }
    assert!(t0.elapsed() < Duration::from_secs(1));
    assert_eq!(task.waiter_stack_len(), 0);
    // A real timeout waits at least as long as asked.
    let t0 = Instant::now();
    assert!(matches!(
        task.get_timeout(Duration::from_millis(20)),
        Err(Error::TimedOut)
    ));
    assert!(t0.elapsed() >= Duration::from_millis(20));
    // Huge: no overflow computing the deadline; waits like an untimed get.
    for huge in [
        Duration::MAX,
        Duration::from_secs(u64::MAX / 2),
        Duration::new(u64::MAX, 999_999_999),
    ] {
        let t = Arc::new(FutureTask::new(|| 5u32));
        let r = Arc::clone(&t);
        let h = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            r.run()
        });
        assert_eq!(*t.get_timeout(huge).unwrap(), 5);
        h.join().unwrap();
    }
    let far = Instant::now()
        .checked_add(Duration::from_secs(100 * 365 * 24 * 3600))
        .expect("a deadline a century away");
    let t = Arc::new(FutureTask::new(|| 6u32));
    let r = Arc::clone(&t);
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        r.run()
    });
    assert_eq!(*t.get_deadline(far).unwrap(), 6);
    h.join().unwrap();
    // Once done, no timeout of any size times out.
    task.run();
    for d in [Duration::ZERO, Duration::from_nanos(1), Duration::MAX] {
        assert_eq!(*task.get_timeout(d).unwrap(), 1);
    }
    assert_eq!(*task.get_deadline(past).unwrap(), 1);
}

/// JDK-8073704: once `is_done()` is true, no get blocks, times out or fails for another reason —
/// hammered with a completion racing many timed gets with tiny timeouts.
#[test]
fn done_means_done_under_racing_timed_gets() {
    quiet_planted_panics();
    let tier = Tier::current();
    let rounds = tier.count("FT_DONE_ROUNDS", 250, 10_000);
    let threads = 4;
    tier.announce(
        "done means done",
        &format!("{rounds} completions x {threads} racing timed-get threads"),
    );
    let violations = Arc::new(AtomicUsize::new(0));
    let gets = Arc::new(AtomicUsize::new(0));
    for round in 0..rounds {
        // A distinct value per round: a read of an unpublished outcome would see another
        // round's value (memory is reused) rather than the right one.
        let value = 1_000 + round as u32;
        let task: Arc<FutureTask<u32>> = Arc::new(FutureTask::new(move || {
            if round % 5 == 4 {
                panic!("ft-planted done-means-done");
            }
            value
        }));
        let hs: Vec<_> = (0..threads)
            .map(|i| {
                let (t, v, g) = (
                    Arc::clone(&task),
                    Arc::clone(&violations),
                    Arc::clone(&gets),
                );
                thread::spawn(move || {
                    let d = [0u64, 1, 100, 1000][i % 4];
                    let mut after_done = 0;
                    while after_done < 3 {
                        let was_done = t.is_done();
                        let r = t.get_timeout(Duration::from_nanos(d));
                        g.fetch_add(1, SeqCst);
                        if was_done {
                            after_done += 1;
                            let ok = match r {
                                Ok(v) => *v == value,
                                Err(Error::Failed(f)) => f.is_panic(),
                                Err(Error::Cancelled) => true,
                                Err(_) => false, // timed out (or interrupted) once done
                            };
                            if !ok {
                                v.fetch_add(1, SeqCst);
                            }
                        }
                    }
                })
            })
            .collect();
        thread::sleep(Duration::from_micros(50 + (round % 7) * 30));
        match round % 3 {
            0 => {
                task.run();
            }
            1 => {
                if round % 2 == 0 {
                    task.cancel_and_interrupt();
                } else {
                    task.cancel();
                }
            }
            _ => {
                let _ = task.set(value);
            }
        }
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(task.waiter_stack_len(), 0);
    }
    report(&format!(
        "done means done: {} timed gets",
        gets.load(SeqCst)
    ));
    assert_eq!(
        violations.load(SeqCst),
        0,
        "a get timed out or misreported after is_done()"
    );
}

#[test]
fn state_reports_running_to_other_threads() {
    let go = Arc::new(AtomicBool::new(false));
    let g = Arc::clone(&go);
    let task = Arc::new(FutureTask::new(move || {
        while !g.load(SeqCst) {
            thread::yield_now();
        }
        1u32
    }));
    let r = Arc::clone(&task);
    let h = thread::spawn(move || r.run());
    wait_until("run to claim", || task.state() == State::Running);
    assert!(!task.is_done());
    assert!(!task.run(), "a second run while running returns false");
    assert!(matches!(
        task.get_timeout(Duration::ZERO),
        Err(Error::TimedOut)
    ));
    assert!(task.try_get().is_none());
    go.store(true, SeqCst);
    assert!(h.join().unwrap());
    assert_eq!(task.state(), State::Success);
}

/// I2/I9: a reader polling without blocking while the outcome is being written (the transient
/// COMPLETING phase) must never see a half-written or stale outcome — it waits the phase out.
#[test]
fn completion_is_never_observed_half_written() {
    let tier = Tier::current();
    let rounds = tier.count("FT_COMPLETING_ROUNDS", 2_000, 30_000);
    tier.announce(
        "completing window",
        &format!("{rounds} set/fail vs a polling reader"),
    );
    let mut raced = 0u64;
    for round in 0..rounds {
        let value = 0xA5A5_0000u64 + round;
        let task = Arc::new(FutureTask::<u64, _>::pending());
        let go = Arc::new(AtomicBool::new(false));
        let reader = {
            let (t, go) = (Arc::clone(&task), Arc::clone(&go));
            thread::spawn(move || {
                go.store(true, SeqCst);
                let mut pending = 0u64;
                loop {
                    let r = if pending % 2 == 0 {
                        t.try_get().map(|r| r.copied().map_err(|e| e.to_string()))
                    } else {
                        match t.get_timeout(Duration::ZERO) {
                            Err(Error::TimedOut) => None,
                            r => Some(r.copied().map_err(|e| e.to_string())),
                        }
                    };
                    match r {
                        Some(r) => return (r, pending),
                        None => pending += 1,
                    }
                    if pending % 1024 == 0 {
                        thread::yield_now(); // let the completer have the CPU on a busy machine
                    }
                }
            })
        };
        while !go.load(SeqCst) {
            thread::yield_now(); // the reader needs a CPU to start
        }
        let ok = round % 4 != 3;
        if ok {
            task.set(value).unwrap();
        } else {
            task.fail(format!("ft-error {value}")).unwrap();
        }
        let (r, pending) = reader
            .join()
            .expect("reader panicked (read an unpublished outcome?)");
        raced += u64::from(pending > 0);
        if ok {
            assert_eq!(r, Ok(value), "round {round}");
        } else {
            assert_eq!(
                r,
                Err(format!("task failed: ft-error {value}")),
                "round {round}"
            );
        }
    }
    report(&format!(
        "completing window: {rounds} rounds, {raced} with the reader polling before completion"
    ));
}
