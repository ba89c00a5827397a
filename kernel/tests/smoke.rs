//! Fast end-to-end checks of the kernel's main paths (the full suites live in `tests/` and `models/`).

use futuretask::{current, promise, Error, FutureTask, Outcome, State};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn run_then_get_from_many_threads() {
    let task = Arc::new(FutureTask::new(|| 6 * 7));
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let t = Arc::clone(&task);
            thread::spawn(move || *t.get().unwrap())
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    assert!(task.run());
    assert!(!task.run(), "runs at most once");
    for w in waiters {
        assert_eq!(w.join().unwrap(), 42);
    }
    assert_eq!(task.state(), State::Success);
    assert_eq!(task.waiter_stack_len(), 0);
}

#[test]
fn timed_get_times_out_and_unlinks() {
    let task = Arc::new(FutureTask::new(|| 1));
    assert!(matches!(
        task.get_timeout(Duration::ZERO),
        Err(Error::TimedOut)
    ));
    for _ in 0..1000 {
        assert!(matches!(
            task.get_timeout(Duration::from_nanos(1)),
            Err(Error::TimedOut)
        ));
    }
    assert_eq!(task.waiter_stack_len(), 0);
    let start = Instant::now();
    assert!(matches!(
        task.get_timeout(Duration::from_millis(30)),
        Err(Error::TimedOut)
    ));
    assert!(start.elapsed() >= Duration::from_millis(30));
    task.run();
    assert_eq!(*task.get_timeout(Duration::ZERO).unwrap(), 1);
    assert_eq!(*task.get_timeout(Duration::MAX).unwrap(), 1);
}

#[test]
fn concurrent_timeouts_and_completion() {
    for _ in 0..50 {
        let task = Arc::new(FutureTask::new(|| 7));
        let hs: Vec<_> = (0..4)
            .map(|i| {
                let t = Arc::clone(&task);
                thread::spawn(move || {
                    for _ in 0..50 {
                        match t.get_timeout(Duration::from_micros(10 * i + 1)) {
                            Ok(v) => assert_eq!(*v, 7),
                            Err(Error::TimedOut) => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                })
            })
            .collect();
        thread::sleep(Duration::from_micros(200));
        task.run();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(task.waiter_stack_len(), 0);
    }
}

#[test]
fn cancel_running_with_interrupt() {
    let started = Arc::new(AtomicUsize::new(0));
    let s2 = Arc::clone(&started);
    let task = Arc::new(FutureTask::new(move || {
        s2.store(1, Ordering::SeqCst);
        while !current::is_interrupted() {
            thread::park();
        }
        5
    }));
    let runner = {
        let t = Arc::clone(&task);
        thread::spawn(move || {
            assert!(t.run());
            assert!(
                !current::is_interrupted(),
                "interrupt must not leak past run"
            );
        })
    };
    while started.load(Ordering::SeqCst) == 0 {
        thread::yield_now();
    }
    assert!(task.cancel_and_interrupt());
    assert!(!task.cancel_and_interrupt());
    runner.join().unwrap();
    assert!(matches!(task.get(), Err(Error::Cancelled)));
    assert!(task.is_cancelled() && task.is_done());
    assert_eq!(task.state(), State::Cancelled);
}

#[test]
fn panic_becomes_failure_and_set_twice_is_error() {
    let task = Arc::new(FutureTask::new(|| -> u32 { panic!("boom") }));
    task.run();
    match task.get() {
        Err(Error::Failed(f)) => {
            assert!(f.is_panic());
            assert_eq!(f.panic_message(), Some("boom"));
        }
        other => panic!("unexpected {other:?}"),
    }
    let t = FutureTask::<u32, _>::pending();
    assert!(t.set(1).is_ok());
    assert_eq!(t.set(2).unwrap_err().value, 2);
    assert_eq!(*t.get().unwrap(), 1);
    let (p, t) = promise::<u32>();
    p.set(1).unwrap(); // consumed: its drop does not fail the completed task
    assert_eq!(*t.get().unwrap(), 1);
    let (p, t) = promise::<u32>();
    drop(p);
    assert!(matches!(t.get(), Err(Error::Failed(f)) if f.is_broken_promise()));
}

/// A promise's task is freed exactly once whoever holds the last reference: the promise itself
/// (its readers are gone, so W1 gives up the last reference), or a reader, with or without a
/// waiter or callback announced before the set (I13).
#[test]
fn promise_frees_its_task_once() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    // The readers are gone: the promise's set holds the last reference.
    let (p, t) = promise::<Counted>();
    drop(t);
    assert!(p.set(Counted(Arc::clone(&drops))).is_ok());
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the promise freed the task"
    );
    // A reader outlives the set, nobody announced: the reader's drop frees it.
    let (p, t) = promise::<Counted>();
    assert!(p.set(Counted(Arc::clone(&drops))).is_ok());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(t);
    assert_eq!(drops.load(Ordering::SeqCst), 2, "the reader freed the task");
    // A callback announced before the set: it runs once, and the reader frees the task.
    let (p, t) = promise::<Counted>();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    t.add_done_callback(move |v| {
        assert!(v.is_ok());
        r.fetch_add(1, Ordering::SeqCst);
    });
    assert!(p.set(Counted(Arc::clone(&drops))).is_ok());
    assert_eq!(ran.load(Ordering::SeqCst), 1, "the announced callback ran");
    t.add_done_callback(|v| assert!(v.is_ok())); // settled: runs now
    drop(t);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "the reader freed the task");
}

#[test]
fn a_handle_takes_the_outcome_by_value_when_nobody_else_reads_it() {
    #[derive(Debug)]
    struct Counted(u32, Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let value = |n| Counted(n, Arc::clone(&drops));
    // Pending: handed back; then the last reference takes it (no drop by the free).
    let (p, t) = promise::<Counted>();
    let t = t.try_into_outcome().unwrap_err();
    assert!(p.set(value(1)).is_ok());
    let Ok(Outcome::Success(v)) = t.try_into_outcome() else {
        panic!("the last reference takes the value")
    };
    assert_eq!((v.0, drops.load(Ordering::SeqCst)), (1, 0));
    drop(v);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "dropped once, by its taker"
    );
    // Another reader holds it: handed back until that reader is gone.
    let (p, t) = promise::<Counted>();
    let other = t.clone();
    assert!(p.set(value(2)).is_ok());
    let t = t.try_into_outcome().unwrap_err();
    assert_eq!(other.get().unwrap().0, 2);
    drop(other);
    assert!(matches!(
        t.try_into_outcome(),
        Ok(Outcome::Success(Counted(2, _)))
    ));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    // A waiter on another thread, woken by the drain: the take succeeds at once.
    for _ in 0..100 {
        let (p, t) = promise::<Counted>();
        let taker = thread::spawn(move || {
            t.get().unwrap();
            match t.try_into_outcome() {
                Ok(Outcome::Success(v)) => v.0,
                _ => panic!("nobody else reads it"),
            }
        });
        assert!(p.set(value(3)).is_ok());
        assert_eq!(taker.join().unwrap(), 3);
    }
    assert_eq!(drops.load(Ordering::SeqCst), 102);
    // A failure and a cancel come out as they are; a broken promise too.
    let (p, t) = promise::<u8>();
    p.fail("no").unwrap();
    assert!(matches!(t.try_into_outcome(), Ok(Outcome::Failed(f)) if !f.is_broken_promise()));
    let (_p, t) = promise::<u8>();
    t.cancel();
    assert!(matches!(t.try_into_outcome(), Ok(Outcome::Cancelled)));
    let (p, t) = promise::<u8>();
    drop(p);
    assert!(matches!(t.try_into_outcome(), Ok(Outcome::Failed(f)) if f.is_broken_promise()));
    // A task in an `Arc`: taken once the owner's `Arc` is gone, never while it is held.
    let task = Arc::new(FutureTask::new(|| String::from("arc")));
    let h = task.handle();
    task.run();
    let h = h.try_into_outcome().unwrap_err();
    drop(task);
    assert!(matches!(h.try_into_outcome(), Ok(Outcome::Success(s)) if s == "arc"));
    let task = Arc::new(FutureTask::new(|| 1u8));
    let h = task.handle();
    drop(task);
    assert!(h.try_into_outcome().is_err(), "pending: handed back");
}

#[test]
fn callbacks_in_order_and_isolated() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let task = Arc::new(FutureTask::new(|| 3));
    for i in 0..5 {
        let log = Arc::clone(&log);
        task.add_done_callback(move |r| {
            log.lock().unwrap().push((i, *r.unwrap()));
            if i == 2 {
                panic!("callback 2 panics");
            }
        });
    }
    task.run();
    let l2 = Arc::clone(&log);
    task.add_done_callback(move |r| l2.lock().unwrap().push((9, *r.unwrap())));
    assert_eq!(
        *log.lock().unwrap(),
        vec![(0, 3), (1, 3), (2, 3), (3, 3), (4, 3), (9, 3)]
    );
}

#[test]
fn async_under_block_on_and_tokio() {
    let task = Arc::new(FutureTask::new(|| 11));
    let t2 = Arc::clone(&task);
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        t2.run();
    });
    assert_eq!(*futures::executor::block_on(task.get_async()).unwrap(), 11);
    h.join().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let task = Arc::new(FutureTask::new(|| 12));
        let waiter = tokio::spawn(task.handle().when_done());
        let t2 = Arc::clone(&task);
        tokio::task::spawn_blocking(move || t2.run()).await.unwrap();
        assert_eq!(*waiter.await.unwrap().get().unwrap(), 12);
        // A dropped pending future unlinks its node.
        let pending = Arc::new(FutureTask::new(|| 0));
        let r = tokio::time::timeout(Duration::from_millis(5), &*pending).await;
        assert!(r.is_err());
        assert_eq!(pending.waiter_stack_len(), 0);
    });
}
