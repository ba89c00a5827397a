//! map, invoke_all, invoke_any, as_completed and wait, including the CPython hangs
//! where a cancellation does not wake `wait` / `as_completed` (gh-92001, bpo-43727).

mod common;
use common::Gate;
use futuretask::{current, promise, Error, State, TaskHandle};
use futuretask_executor::{
    as_completed, wait, BuildError, Incomplete, InvokeAnyError, MapError, RejectReason, ReturnWhen,
    ThreadPool, TimedOut,
};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(10);

/// Sleep up to `d`, returning early (with `false`) when the task is interrupted.
fn interruptible_sleep(d: Duration) -> bool {
    let t0 = Instant::now();
    while !current::is_interrupted() {
        let left = d.saturating_sub(t0.elapsed());
        if left.is_zero() {
            return true;
        }
        thread::park_timeout(left);
    }
    false
}

/// Occupy the pool's only worker until the returned gate opens; returns once it is running.
fn block_worker(pool: &ThreadPool) -> Gate {
    let gate = Gate::default();
    let (tx, rx) = mpsc::channel();
    let g = gate.clone();
    pool.submit(move || {
        tx.send(()).unwrap();
        g.wait();
    })
    .unwrap();
    rx.recv_timeout(LONG).expect("blocker started");
    gate
}

// ---- map -----------------------------------------------------------------------------------

#[test]
fn map_yields_in_input_order_with_panics_in_place() {
    let pool = ThreadPool::new(3).unwrap();
    let out: Vec<_> = pool
        .map(0..40u64, |i| {
            // Later items finish first, so order must be restored.
            thread::sleep(Duration::from_micros(40 * (40 - i)));
            if i == 7 {
                panic!("item {i}");
            }
            i * 2
        })
        .collect();
    assert_eq!(out.len(), 40);
    for (i, r) in out.into_iter().enumerate() {
        match r {
            Ok(v) => assert_eq!(v, 2 * i as u64),
            Err(MapError::Failed(f)) => {
                assert_eq!(i, 7);
                assert_eq!(f.panic_message(), Some("item 7"));
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
}

#[test]
fn map_is_lazy_and_respects_the_window() {
    let pool = ThreadPool::new(4).unwrap();
    let pulled = Arc::new(AtomicUsize::new(0));
    let active = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&pulled);
    let input = (0..30).inspect(move |_| {
        p.fetch_add(1, SeqCst);
    });
    let (a, pk) = (Arc::clone(&active), Arc::clone(&peak));
    let mut m = pool
        .map(input, move |x| {
            let now = a.fetch_add(1, SeqCst) + 1;
            pk.fetch_max(now, SeqCst);
            thread::sleep(Duration::from_millis(2));
            a.fetch_sub(1, SeqCst);
            x
        })
        .window(2)
        .unwrap();
    thread::sleep(Duration::from_millis(20));
    assert_eq!(
        pulled.load(SeqCst),
        0,
        "nothing is pulled before the first next"
    );
    let mut yielded = 0;
    for r in m.by_ref() {
        assert_eq!(r.unwrap(), yielded);
        yielded += 1;
        assert!(
            pulled.load(SeqCst) <= yielded + 2,
            "at most `window` items in flight"
        );
    }
    assert_eq!(yielded, 30);
    assert!(
        peak.load(SeqCst) <= 2,
        "peak concurrency {}",
        peak.load(SeqCst)
    );
}

#[test]
fn map_window_zero_is_refused() {
    let pool = ThreadPool::new(1).unwrap();
    assert!(matches!(
        pool.map(0..3, |x| x).window(0),
        Err(BuildError::ZeroWindow)
    ));
}

#[test]
fn map_deadline_reports_timed_out_and_cancels_the_rest() {
    let pool = ThreadPool::new(2).unwrap();
    let interrupted_count = Arc::new(AtomicUsize::new(0));
    let ic = Arc::clone(&interrupted_count);
    let t0 = Instant::now();
    let out: Vec<_> = pool
        .map(0..6, move |i| {
            if i == 0 {
                return i;
            }
            if !interruptible_sleep(LONG) {
                ic.fetch_add(1, SeqCst);
            }
            i
        })
        .window(4)
        .unwrap()
        .timeout(Duration::from_millis(50))
        .collect();
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(out.len(), 2);
    assert_eq!(*out[0].as_ref().unwrap(), 0);
    assert!(matches!(out[1], Err(MapError::TimedOut)));
    drop(pool); // joins: the running items saw the interrupt and returned
    assert_eq!(
        interrupted_count.load(SeqCst),
        2,
        "both running items interrupted"
    );
}

#[test]
fn dropping_the_map_cancels_what_has_not_started() {
    let pool = ThreadPool::new(1).unwrap();
    let started: Arc<Mutex<Vec<u32>>> = Arc::default();
    let gate = Gate::default();
    let (s, g) = (Arc::clone(&started), gate.clone());
    let mut m = pool
        .map(0..6u32, move |i| {
            s.lock().unwrap().push(i);
            if i > 0 {
                g.wait();
            }
            i
        })
        .window(5)
        .unwrap();
    assert_eq!(m.next().unwrap().unwrap(), 0);
    drop(m);
    gate.open();
    drop(pool);
    let started = started.lock().unwrap().clone();
    assert!(
        started == [0] || started == [0, 1],
        "only the running item may have started: {started:?}"
    );
}

#[test]
fn map_on_a_shut_down_pool_reports_the_rejection_in_place() {
    let pool = ThreadPool::new(1).unwrap();
    pool.shutdown();
    let out: Vec<_> = pool.map(0..5, |x| x).collect();
    assert_eq!(out.len(), 1);
    assert!(matches!(
        out[0],
        Err(MapError::Rejected(RejectReason::Shutdown))
    ));
}

#[test]
fn map_items_cancelled_by_shutdown_now_are_reported() {
    let pool = Arc::new(ThreadPool::new(1).unwrap());
    let gate = block_worker(&pool);
    let p = Arc::clone(&pool);
    let consumer = thread::spawn(move || p.map(0..4, |x| x).window(4).unwrap().collect::<Vec<_>>());
    thread::sleep(Duration::from_millis(50));
    let unstarted = pool.shutdown_now();
    gate.open();
    let out = consumer.join().unwrap();
    assert_eq!(unstarted.len(), 4);
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|r| matches!(r, Err(MapError::Cancelled))));
}

// ---- invoke_all / invoke_any ---------------------------------------------------------------

#[test]
fn invoke_all_returns_every_handle_done_in_order() {
    let pool = ThreadPool::new(2).unwrap();
    let tasks: Vec<Box<dyn FnOnce() -> u32 + Send>> = vec![
        Box::new(|| 1),
        Box::new(|| panic!("two")),
        Box::new(|| {
            thread::sleep(Duration::from_millis(20));
            3
        }),
    ];
    let hs = pool.invoke_all(tasks, None).unwrap();
    assert!(hs.iter().all(|h| h.is_done()));
    assert_eq!(*hs[0].get().unwrap(), 1);
    assert!(matches!(hs[1].get(), Err(Error::Failed(_))));
    assert_eq!(*hs[2].get().unwrap(), 3);
}

#[test]
fn invoke_all_deadline_cancels_the_unfinished() {
    let pool = ThreadPool::new(2).unwrap();
    let t0 = Instant::now();
    let hs = pool
        .invoke_all(
            (0..3).map(|i| {
                move || {
                    if i == 1 {
                        interruptible_sleep(LONG);
                    }
                    i
                }
            }),
            Some(Duration::from_millis(50)),
        )
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(hs.iter().all(|h| h.is_done()));
    assert!(hs[1].is_cancelled());
    // The quick ones finished in time, or (on a very slow machine) were cancelled: done either way.
    assert!(matches!(hs[0].get(), Ok(0) | Err(Error::Cancelled)));
    assert!(matches!(hs[2].get(), Ok(2) | Err(Error::Cancelled)));
}

#[test]
fn invoke_any_returns_the_first_success_and_cancels_the_rest() {
    let pool = ThreadPool::new(3).unwrap();
    let stopped = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let s = Arc::clone(&stopped);
            move || {
                if i == 2 {
                    thread::sleep(Duration::from_millis(10));
                    return i;
                }
                if !interruptible_sleep(LONG) {
                    s.fetch_add(1, SeqCst);
                }
                i
            }
        })
        .collect();
    let t0 = Instant::now();
    let winner = pool.invoke_any(tasks, None).unwrap();
    assert_eq!(*winner.get().unwrap(), 2);
    drop(pool); // joins: the losers were cancelled (interrupted if they had started)
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "the losers were interrupted"
    );
    assert!(stopped.load(SeqCst) <= 2);
}

#[test]
fn invoke_any_skips_failures_and_reports_the_last_when_all_fail() {
    let pool = ThreadPool::new(2).unwrap();
    let tasks: Vec<Box<dyn FnOnce() -> u32 + Send>> = vec![
        Box::new(|| panic!("first")),
        Box::new(|| {
            thread::sleep(Duration::from_millis(30));
            5
        }),
    ];
    assert_eq!(*pool.invoke_any(tasks, None).unwrap().get().unwrap(), 5);

    let tasks: Vec<Box<dyn FnOnce() -> u32 + Send>> = vec![
        Box::new(|| panic!("early")),
        Box::new(|| {
            thread::sleep(Duration::from_millis(30));
            panic!("late")
        }),
    ];
    match pool.invoke_any(tasks, None) {
        Err(e @ InvokeAnyError::AllFailed(_)) => {
            assert!(e.to_string().contains("late"), "{e}");
            let InvokeAnyError::AllFailed(last) = e else {
                unreachable!()
            };
            match last.get() {
                Err(Error::Failed(f)) => assert_eq!(f.panic_message(), Some("late")),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("expected AllFailed, got {other:?}"),
    }
}

#[test]
fn invoke_any_edges_empty_timeout_rejected() {
    let pool = ThreadPool::new(1).unwrap();
    let none: Vec<fn() -> u8> = Vec::new();
    assert!(matches!(
        pool.invoke_any(none, None),
        Err(InvokeAnyError::Empty)
    ));
    let t0 = Instant::now();
    let r = pool.invoke_any(
        [|| interruptible_sleep(LONG)],
        Some(Duration::from_millis(30)),
    );
    assert!(matches!(r, Err(InvokeAnyError::TimedOut)));
    assert!(t0.elapsed() < Duration::from_secs(5));
    pool.shutdown();
    match pool.invoke_any([|| 1], None) {
        Err(InvokeAnyError::Rejected(r)) => assert_eq!((r.task)(), 1),
        other => panic!("{other:?}"),
    }
    assert!(pool.invoke_all([|| 1], None).is_err());
}

// ---- as_completed --------------------------------------------------------------------------

#[test]
fn as_completed_yields_in_completion_order() {
    let pool = ThreadPool::new(3).unwrap();
    let gates: Vec<Gate> = (0..3).map(|_| Gate::default()).collect();
    let hs: Vec<_> = gates
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let g = g.clone();
            pool.submit(move || {
                g.wait();
                i
            })
            .unwrap()
        })
        .collect();
    let mut it = as_completed(hs, None);
    // Finish them in the order 1, 2, 0; each is yielded as it finishes.
    for i in [1, 2, 0] {
        gates[i].open();
        assert_eq!(*it.next().unwrap().unwrap().get().unwrap(), i);
    }
    assert!(it.next().is_none());
}

#[test]
fn as_completed_deadline_yields_timed_out_then_ends() {
    let pool = ThreadPool::new(2).unwrap();
    let fast = pool.submit(|| 1).unwrap();
    let slow = pool.submit(|| interruptible_sleep(LONG) as i32).unwrap();
    let t0 = Instant::now();
    let mut it = as_completed(vec![fast, slow.clone()], Some(Duration::from_millis(50)));
    assert_eq!(*it.next().unwrap().unwrap().get().unwrap(), 1);
    let Incomplete::TimedOut(e) = it.next().unwrap().unwrap_err() else {
        panic!("not interrupted: this thread runs no task")
    };
    let _: TimedOut = e;
    assert_eq!((e.unfinished(), e.total(), e.finished()), (1, 2, 1));
    assert_eq!(e.to_string(), "1 (of 2) futures unfinished");
    assert_eq!(
        slow.waiter_stack_len(),
        0,
        "I6: the timed-out wait left its node"
    );
    assert!(it.next().is_none());
    assert!(t0.elapsed() < Duration::from_secs(5));
    let pending = it.into_pending();
    assert_eq!(pending.len(), 1);
    assert!(TaskHandle::ptr_eq(&pending[0], &slow));
    slow.cancel_and_interrupt();
}

#[test]
fn cancellation_wakes_as_completed_at_once() {
    // gh-92001: CPython's as_completed only hears of a cancelled future once a worker dequeues
    // it. Here the victim is queued behind a task that holds the only worker for a long time.
    let pool = ThreadPool::new(1).unwrap();
    let gate = block_worker(&pool);
    let victim = pool.submit(|| 1).unwrap();
    let v = victim.clone();
    let t = thread::spawn(move || {
        let t0 = Instant::now();
        let first = as_completed(vec![v], None).next().unwrap().unwrap();
        (first.is_cancelled(), t0.elapsed())
    });
    thread::sleep(Duration::from_millis(30));
    assert!(victim.cancel());
    let (cancelled, waited) = t.join().unwrap();
    assert!(cancelled);
    assert!(
        waited < Duration::from_secs(5),
        "woken by the cancel itself"
    );
    gate.open();
}

#[test]
fn as_completed_works_on_promises_and_finished_tasks() {
    let (p1, t1) = promise::<u8>();
    let (p2, t2) = promise::<u8>();
    p2.set(2).unwrap();
    let it = as_completed(vec![t1, t2], None);
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        p1.set(1).unwrap();
    });
    let got: Vec<u8> = it.map(|t| *t.unwrap().get().unwrap()).collect();
    assert_eq!(got, [2, 1], "already-finished tasks come first");
    h.join().unwrap();
    assert!(as_completed(Vec::<TaskHandle<u8>>::new(), None)
        .next()
        .is_none());
}

// ---- wait ----------------------------------------------------------------------------------

#[test]
fn wait_first_completed() {
    let pool = ThreadPool::new(2).unwrap();
    let quick = pool.submit(|| 1).unwrap();
    let slow = pool.submit(|| interruptible_sleep(LONG) as i32).unwrap();
    let (done, not_done) = wait(
        vec![slow.clone(), quick.clone()],
        ReturnWhen::FirstCompleted,
        None,
    );
    assert_eq!(done.len(), 1);
    assert!(TaskHandle::ptr_eq(&done[0], &quick));
    assert_eq!(not_done.len(), 1);
    slow.cancel_and_interrupt();
}

#[test]
fn wait_first_exception_and_all_completed() {
    let pool = ThreadPool::new(2).unwrap();
    let bad = pool
        .submit(|| -> i32 {
            thread::sleep(Duration::from_millis(20));
            panic!("bad")
        })
        .unwrap();
    let slow = pool.submit(|| interruptible_sleep(LONG) as i32).unwrap();
    let (done, not_done) = wait(
        vec![bad.clone(), slow.clone()],
        ReturnWhen::FirstException,
        None,
    );
    assert_eq!((done.len(), not_done.len()), (1, 1));
    assert_eq!(done[0].state(), State::Failed);

    // A cancellation is not an exception: FIRST_EXCEPTION keeps waiting, ALL_COMPLETED returns.
    let other = pool.submit(|| 3).unwrap();
    let s = slow.clone();
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        s.cancel_and_interrupt();
    });
    let (done, not_done) = wait(vec![slow, other], ReturnWhen::AllCompleted, Some(LONG));
    canceller.join().unwrap();
    assert_eq!((done.len(), not_done.len()), (2, 0));
}

#[test]
fn wait_timeout_partitions_done_and_not_done() {
    let (_p, pending) = promise::<i32>();
    let (q, finished) = promise::<i32>();
    q.set(1).unwrap();
    let t0 = Instant::now();
    let (done, not_done) = wait(
        vec![pending.clone(), finished.clone()],
        ReturnWhen::AllCompleted,
        Some(Duration::from_millis(30)),
    );
    assert!(t0.elapsed() >= Duration::from_millis(30));
    assert!(TaskHandle::ptr_eq(&done[0], &finished));
    assert!(TaskHandle::ptr_eq(&not_done[0], &pending));
    // Already satisfied: returns at once, even with a zero timeout.
    let (done, _) = wait(
        vec![finished],
        ReturnWhen::FirstCompleted,
        Some(Duration::ZERO),
    );
    assert_eq!(done.len(), 1);
    let (done, not_done) = wait(
        vec![pending],
        ReturnWhen::FirstCompleted,
        Some(Duration::ZERO),
    );
    assert_eq!((done.len(), not_done.len()), (0, 1));
}

#[test]
fn cancellation_and_shutdown_now_wake_wait_at_once() {
    let pool = Arc::new(ThreadPool::new(1).unwrap());
    let gate = block_worker(&pool);
    let queued: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
    let q = queued.clone();
    let waiter = thread::spawn(move || {
        let t0 = Instant::now();
        let (done, not_done) = wait(q, ReturnWhen::AllCompleted, None);
        (done.len(), not_done.len(), t0.elapsed())
    });
    thread::sleep(Duration::from_millis(30));
    let ran = Arc::new(AtomicBool::new(false));
    assert_eq!(pool.shutdown_now().len(), 3);
    let (d, nd, waited) = waiter.join().unwrap();
    assert_eq!((d, nd), (3, 0));
    assert!(waited < Duration::from_secs(5));
    assert!(queued.iter().all(|h| h.is_cancelled()));
    assert!(!ran.load(SeqCst));
    gate.open();
}

/// Every message of an error's chain (`Display` of the error, then of each source).
fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    std::iter::successors(Some(e), |e| e.source())
        .map(ToString::to_string)
        .collect()
}

#[test]
fn error_chains_name_each_message_once() {
    let pool = ThreadPool::new(1).unwrap();
    // A map item's panic: `MapError::Failed` displays the failure and is transparent over it.
    let out: Vec<_> = pool
        .map([0u8], |_| -> u8 { panic!("ft-planted map") })
        .collect();
    let Err(e) = &out[0] else {
        panic!("the item panicked")
    };
    assert_eq!(chain(e), ["task panicked: ft-planted map"]);
    // A submitted task failed with an error that has a source: each link appears once.
    let io = std::io::Error::other("disk gone");
    let (p, reader) = promise::<u8>();
    p.fail(Wrapped(io)).unwrap();
    let e = reader.get().unwrap_err();
    assert_eq!(chain(&e), ["task failed: cannot load", "disk gone"]);
    // A wait on many tasks that timed out: one message, not repeated as its own source.
    let (_p, never) = promise::<u8>();
    let e = as_completed([never], Some(Duration::ZERO))
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(chain(&e), ["1 (of 1) futures unfinished"]);
}

/// An error whose message does not repeat its source's.
#[derive(Debug)]
struct Wrapped(std::io::Error);

impl std::fmt::Display for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cannot load")
    }
}

impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
