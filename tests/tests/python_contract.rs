//! Acceptance scenarios from Python's `concurrent.futures.Future` (and the listener bugs of other
//! libraries): callbacks in registration order, at once on a finished task, isolated from each
//! other's panics, exactly once even when registered concurrently with completion
//! (async-http-client #1128), seeing `is_done()` (#1368); a second completion is an error that
//! hands the value back; a dropped promise fails its task instead of hanging its waiters.

use futuretask::{promise, Error, FutureTask, State, TaskHandle};
use futuretask_tests::support::{quiet_planted_panics, Tier, Token, Tracker};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

type Log = Arc<Mutex<Vec<(u32, Result<u32, String>, bool)>>>;

/// A callback that logs its outcome and whether the task was done when it ran. It holds a reader
/// of the task until it runs (every task here completes, which drops it).
fn record(
    log: &Log,
    task: &TaskHandle<u32>,
    id: u32,
) -> impl FnOnce(Result<&u32, Error>) + Send + 'static {
    let (log, t) = (Arc::clone(log), task.clone());
    move |r| {
        let done = t.is_done();
        log.lock()
            .unwrap()
            .push((id, r.copied().map_err(|e| e.to_string()), done));
    }
}

#[test]
fn callbacks_run_in_registration_order_with_the_outcome() {
    let log: Log = Arc::default();
    let task: Arc<FutureTask<u32>> = Arc::new(FutureTask::new(|| 8));
    for id in 0..10 {
        task.add_done_callback(record(&log, &task.handle(), id));
    }
    assert_eq!(task.waiter_stack_len(), 10);
    assert!(log.lock().unwrap().is_empty(), "queued until completion");
    task.run();
    let l = log.lock().unwrap().clone();
    assert_eq!(l.len(), 10);
    for (i, (id, r, done)) in l.into_iter().enumerate() {
        assert_eq!(id, i as u32);
        assert_eq!(r, Ok(8));
        assert!(done, "callbacks see is_done() (#1368)");
    }
    assert_eq!(task.waiter_stack_len(), 0);
}

#[test]
fn callback_on_a_finished_task_runs_at_once_on_this_thread() {
    let task = Arc::new(FutureTask::new(|| 1u32));
    task.run();
    let me = thread::current().id();
    let ran_on = Arc::new(Mutex::new(None));
    let r = Arc::clone(&ran_on);
    task.add_done_callback(move |v| {
        assert_eq!(v.ok(), Some(&1));
        *r.lock().unwrap() = Some(thread::current().id());
    });
    assert_eq!(
        *ran_on.lock().unwrap(),
        Some(me),
        "ran before add_done_callback returned"
    );
    // Also for a cancelled and a failed task.
    let task = Arc::new(FutureTask::new(|| 1u32));
    task.cancel();
    let hit = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hit);
    task.add_done_callback(move |v| {
        assert!(matches!(v, Err(Error::Cancelled)));
        h.fetch_add(1, SeqCst);
    });
    assert_eq!(hit.load(SeqCst), 1);
}

#[test]
fn a_panicking_callback_is_isolated() {
    quiet_planted_panics();
    let log: Log = Arc::default();
    let (p, task) = promise::<u32>();
    let waiter = {
        let t = task.clone();
        thread::spawn(move || *t.get().unwrap())
    };
    for id in 0..6 {
        if id % 2 == 1 {
            let rec = record(&log, &task, id);
            task.add_done_callback(move |r| {
                rec(r);
                panic!("ft-planted callback {id}");
            });
        } else {
            task.add_done_callback(record(&log, &task, id));
        }
    }
    p.set(3).unwrap(); // returns normally despite the panicking callbacks
    assert_eq!(waiter.join().unwrap(), 3, "waiters are still woken");
    let ids: Vec<u32> = log.lock().unwrap().iter().map(|e| e.0).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5]);
    // And on a finished task, a panicking callback does not escape either.
    task.add_done_callback(|_| panic!("ft-planted late callback"));
    task.add_done_callback(record(&log, &task, 9));
    assert_eq!(log.lock().unwrap().last().unwrap().0, 9);
}

#[test]
fn a_callback_registered_by_a_callback_runs_after_the_others() {
    let log: Log = Arc::default();
    let task: Arc<FutureTask<u32>> = Arc::new(FutureTask::new(|| 4));
    let (l, t) = (Arc::clone(&log), Arc::downgrade(&task));
    task.add_done_callback(move |_| {
        let t = t.upgrade().unwrap();
        t.add_done_callback(record(&l, &t.handle(), 100));
        l.lock().unwrap().push((0, Ok(0), true));
    });
    for id in 1..4 {
        task.add_done_callback(record(&log, &task.handle(), id));
    }
    task.run();
    let ids: Vec<u32> = log.lock().unwrap().iter().map(|e| e.0).collect();
    assert_eq!(ids, [0, 1, 2, 3, 100]);
}

#[test]
fn second_completion_is_an_error_that_hands_the_value_back() {
    let tr = Tracker::new();
    let task = FutureTask::<Token, _>::pending();
    assert!(task.set(tr.token()).is_ok());
    let e = task.set(tr.token()).unwrap_err();
    assert_eq!(e.state, State::Success);
    assert_eq!(
        tr.alive(),
        2,
        "the rejected value is handed back, not dropped"
    );
    drop(e.value);
    assert_eq!(tr.alive(), 1);
    let e = task.fail("ft-error 1").unwrap_err();
    assert_eq!(e.state, State::Success);
    assert_eq!(e.value.error().unwrap().to_string(), "ft-error 1");
    assert!(e.to_string().contains("already completed"));
    // After a cancel.
    let task = FutureTask::<u32, _>::pending();
    assert!(task.cancel());
    let e = task.set(5).unwrap_err();
    assert_eq!((e.value, e.state), (5, State::Cancelled));
    // After a failure.
    let task = FutureTask::<u32, _>::pending();
    task.fail("ft-error 2").unwrap();
    let e = task.set(6).unwrap_err();
    assert_eq!((e.value, e.state), (6, State::Failed));
    // The promise's own set after a reader cancelled.
    let (p, t) = promise::<u32>();
    t.cancel();
    assert!(p.is_cancelled());
    let e = p.set(7).unwrap_err();
    assert_eq!((e.value, e.state), (7, State::Cancelled));
}

#[test]
fn dropped_promise_fails_its_waiters_instead_of_hanging() {
    let (p, task) = promise::<u32>();
    let waiters: Vec<_> = (0..4)
        .map(|i| {
            let t = task.clone();
            thread::spawn(move || {
                let r = if i % 2 == 0 {
                    t.get().copied().map_err(|e| e.to_string())
                } else {
                    t.get_timeout(Duration::from_secs(60))
                        .copied()
                        .map_err(|e| e.to_string())
                };
                (
                    r,
                    matches!(t.get(), Err(Error::Failed(f)) if f.is_broken_promise()),
                )
            })
        })
        .collect();
    let t0 = Instant::now();
    while task.waiter_stack_len() < 4 && t0.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(1));
    }
    drop(p);
    for w in waiters {
        let (r, broken) = w.join().unwrap();
        assert!(broken);
        assert!(r.unwrap_err().contains("promise dropped"));
    }
    assert_eq!(task.state(), State::Failed);
    // A promise dropped after completing changes nothing.
    let (p, task) = promise::<u32>();
    p.set(1).unwrap(); // consumed: no drop left to fail the task
    assert_eq!(*task.get().unwrap(), 1);
    // Promise::fail.
    let (p, task) = promise::<u32>();
    p.fail("ft-error 3").unwrap();
    assert!(matches!(task.get(), Err(Error::Failed(f)) if f.error().is_some()));
    // Moved to another thread and dropped there.
    let (p, task) = promise::<u32>();
    thread::spawn(move || drop(p)).join().unwrap();
    assert!(matches!(task.get(), Err(Error::Failed(f)) if f.is_broken_promise()));
}

#[test]
fn callbacks_of_a_task_dropped_unfinished_are_dropped_unrun() {
    let tr = Tracker::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let task = Arc::new(FutureTask::new(|| 1u32));
    for _ in 0..5 {
        let (tok, r) = (tr.token(), Arc::clone(&ran));
        task.add_done_callback(move |_| {
            r.fetch_add(1, SeqCst);
            drop(tok);
        });
    }
    drop(task);
    assert_eq!(ran.load(SeqCst), 0);
    assert_eq!((tr.created(), tr.dropped()), (5, 5));
}

/// async-http-client #1128: a listener added concurrently with completion must run exactly once.
#[test]
fn callbacks_registered_concurrently_with_completion_run_exactly_once() {
    let tier = Tier::current();
    let rounds = tier.count("FT_CALLBACK_ROUNDS", 300, 10_000);
    let threads = 3;
    let per = 20;
    tier.announce(
        "concurrent callbacks",
        &format!("{rounds} rounds x {threads} threads x {per} callbacks"),
    );
    for round in 0..rounds {
        let task: Arc<FutureTask<u32>> = Arc::new(FutureTask::new(|| 11));
        let counts: Arc<Vec<AtomicUsize>> =
            Arc::new((0..threads * per).map(|_| AtomicUsize::new(0)).collect());
        let order_ok = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(threads + 1));
        let hs: Vec<_> = (0..threads)
            .map(|i| {
                let (t, c, b, ok) = (
                    Arc::clone(&task),
                    Arc::clone(&counts),
                    Arc::clone(&barrier),
                    Arc::clone(&order_ok),
                );
                thread::spawn(move || {
                    b.wait();
                    let last = Arc::new(AtomicUsize::new(0));
                    for k in 0..per {
                        let (c, last, ok, t2) = (
                            Arc::clone(&c),
                            Arc::clone(&last),
                            Arc::clone(&ok),
                            Arc::downgrade(&t),
                        );
                        t.add_done_callback(move |r| {
                            assert_eq!(r.ok(), Some(&11));
                            assert!(t2.upgrade().unwrap().is_done());
                            c[i * per + k].fetch_add(1, SeqCst);
                            // Per-thread registration order is kept.
                            if last.swap(k + 1, SeqCst) != k {
                                ok.fetch_add(1, SeqCst);
                            }
                        });
                    }
                })
            })
            .collect();
        barrier.wait();
        if round % 4 != 0 {
            thread::sleep(Duration::from_micros(round % 50));
        }
        task.run();
        for h in hs {
            h.join().unwrap();
        }
        for (k, c) in counts.iter().enumerate() {
            assert_eq!(
                c.load(SeqCst),
                1,
                "round {round}: callback {k} ran {} times",
                c.load(SeqCst)
            );
        }
        assert_eq!(
            order_ok.load(SeqCst),
            0,
            "round {round}: per-thread order broken"
        );
        assert_eq!(task.waiter_stack_len(), 0);
    }
}
