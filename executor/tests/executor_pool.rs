//! The thread pool itself: construction errors, naming, submit / execute, panics, rejection and
//! the full-queue policies, shutdown / shutdown_now / await_termination / drop.

mod common;
use common::Gate;
use futuretask::{current, Error, State, TaskHandle};
use futuretask_executor::{BuildError, Policy, RejectReason, ThreadPool};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// Occupy the pool's only worker until the returned gate opens; returns once it is running.
fn block_worker(pool: &ThreadPool) -> (Gate, TaskHandle<()>) {
    let gate = Gate::default();
    let (tx, rx) = mpsc::channel();
    let g = gate.clone();
    let h = pool
        .submit(move || {
            tx.send(()).unwrap();
            g.wait();
        })
        .unwrap();
    rx.recv_timeout(Duration::from_secs(10))
        .expect("blocker started");
    (gate, h)
}

const LONG: Duration = Duration::from_secs(10);

/// Absurd sizes are refused with an error naming the limit, before anything is allocated or
/// spawned (no "capacity overflow" panic, no thread started).
#[test]
fn absurd_sizes_are_refused_not_a_panic() {
    for n in [usize::MAX, usize::MAX / 2, ThreadPool::MAX_WORKERS + 1] {
        let r = std::panic::catch_unwind(|| ThreadPool::builder().workers(n).build());
        match r {
            Ok(Err(BuildError::TooManyWorkers { requested, max })) => {
                assert_eq!((requested, max), (n, ThreadPool::MAX_WORKERS));
            }
            Ok(other) => panic!("workers({n}): {other:?}"),
            Err(_) => panic!("workers({n}) panicked instead of returning an error"),
        }
    }
    let e = ThreadPool::new(usize::MAX).unwrap_err();
    assert!(e.to_string().contains("at most"), "clear message: {e}");
    for policy in [Policy::Block, Policy::Reject, Policy::CallerRuns] {
        let r = std::panic::catch_unwind(|| {
            ThreadPool::builder()
                .workers(1)
                .queue_bound(usize::MAX)
                .when_full(policy)
                .build()
        });
        assert!(
            matches!(r, Ok(Err(BuildError::QueueBoundTooLarge { .. }))),
            "queue_bound(usize::MAX) with {policy:?}"
        );
    }
    // The largest accepted values are accepted (the queue is allocated lazily).
    let pool = ThreadPool::builder()
        .workers(1)
        .queue_bound(ThreadPool::MAX_QUEUE_BOUND)
        .build()
        .unwrap();
    assert_eq!(*pool.submit(|| 3).unwrap().get().unwrap(), 3);
}

#[test]
fn invalid_arguments_are_refused_at_construction() {
    assert!(matches!(ThreadPool::new(0), Err(BuildError::ZeroWorkers)));
    assert!(matches!(
        ThreadPool::builder().workers(0).build(),
        Err(BuildError::ZeroWorkers)
    ));
    assert!(matches!(
        ThreadPool::builder().workers(1).queue_bound(0).build(),
        Err(BuildError::ZeroQueueBound)
    ));
    assert!(matches!(
        ThreadPool::builder()
            .workers(1)
            .queue_bound(0)
            .when_full(Policy::Block)
            .build(),
        Err(BuildError::ZeroQueueBound)
    ));
    for msg in [BuildError::ZeroWorkers, BuildError::ZeroQueueBound].map(|e| e.to_string()) {
        assert!(msg.len() > 20, "clear message: {msg}");
    }
    // A hand-off (bound 0) is fine with a policy that does not wait for room.
    ThreadPool::builder()
        .workers(1)
        .queue_bound(0)
        .when_full(Policy::Reject)
        .build()
        .unwrap();
    ThreadPool::builder()
        .workers(1)
        .queue_bound(0)
        .when_full(Policy::CallerRuns)
        .build()
        .unwrap();
}

#[test]
fn default_worker_count_is_available_parallelism() {
    let pool = ThreadPool::builder().build().unwrap();
    assert_eq!(
        pool.workers(),
        thread::available_parallelism().map_or(1, |n| n.get())
    );
    assert_eq!(ThreadPool::new(3).unwrap().workers(), 3);
}

#[test]
fn workers_are_named_and_distinct() {
    let n = 3;
    let pool = ThreadPool::builder()
        .workers(n)
        .name_prefix("io")
        .build()
        .unwrap();
    assert_eq!(pool.name_prefix(), "io");
    // n tasks that meet at a barrier of n must run on n different workers.
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let b = Arc::clone(&barrier);
            pool.submit(move || {
                b.wait();
                thread::current().name().unwrap().to_owned()
            })
            .unwrap()
        })
        .collect();
    let names: HashSet<String> = handles.iter().map(|h| h.get().unwrap().clone()).collect();
    let expected: HashSet<String> = (0..n).map(|i| format!("io-{i}")).collect();
    assert_eq!(names, expected);
}

#[test]
fn submit_returns_a_handle_with_the_value() {
    let pool = ThreadPool::new(2).unwrap();
    let handles: Vec<_> = (0..1000u64)
        .map(|i| pool.submit(move || i * i).unwrap())
        .collect();
    let sum: u64 = handles.iter().map(|h| *h.get().unwrap()).sum();
    assert_eq!(sum, (0..1000u64).map(|i| i * i).sum::<u64>());
    for h in &handles {
        assert_eq!(h.state(), State::Success);
        assert!(h.get_timeout(Duration::ZERO).is_ok());
    }
    // The handle waits asynchronously too.
    let h = pool.submit(|| "async").unwrap();
    assert_eq!(
        *futures::executor::block_on(h.get_async()).unwrap(),
        "async"
    );
    let done = futures::executor::block_on(pool.submit(|| 5).unwrap().when_done());
    assert_eq!(*done.try_get().unwrap().unwrap(), 5);
}

#[test]
fn execute_runs_fire_and_forget_jobs() {
    let pool = ThreadPool::new(2).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    for _ in 0..500 {
        let c = Arc::clone(&count);
        pool.execute(move || {
            c.fetch_add(1, SeqCst);
        })
        .unwrap();
    }
    drop(pool); // joins after the queue drained
    assert_eq!(count.load(SeqCst), 500);
}

#[test]
fn a_panicking_task_fails_its_future_and_the_worker_survives() {
    let pool = ThreadPool::builder()
        .workers(1)
        .name_prefix("solo")
        .build()
        .unwrap();
    let bad = pool.submit(|| -> u32 { panic!("boom {}", 7) }).unwrap();
    match bad.get() {
        Err(Error::Failed(f)) => {
            assert!(f.is_panic());
            assert_eq!(f.panic_message(), Some("boom 7"));
        }
        other => panic!("expected the panic, got {other:?}"),
    }
    // Fire-and-forget panics are contained as well.
    for _ in 0..10 {
        pool.execute(|| panic!("execute boom")).unwrap();
    }
    let name = pool
        .submit(|| thread::current().name().unwrap().to_owned())
        .unwrap();
    assert_eq!(
        name.get().unwrap(),
        "solo-0",
        "the one worker is still alive"
    );
}

#[test]
fn a_panicking_drop_of_a_dropped_result_does_not_kill_the_worker() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            if !thread::panicking() {
                panic!("drop boom");
            }
        }
    }
    let pool = ThreadPool::new(1).unwrap();
    for _ in 0..5 {
        // The handle is dropped while the task waits, so the worker holds the last reference
        // and drops the result (panicking) itself.
        let gate = Gate::default();
        let g = gate.clone();
        drop(
            pool.submit(move || {
                g.wait();
                PanicOnDrop
            })
            .unwrap(),
        );
        gate.open();
    }
    let h = pool.submit(|| 1).unwrap();
    assert_eq!(*h.get_timeout(LONG).unwrap(), 1);
}

#[test]
fn submitting_after_shutdown_hands_the_closure_back() {
    let pool = ThreadPool::new(1).unwrap();
    assert!(!pool.is_shutdown());
    pool.shutdown();
    assert!(pool.is_shutdown());
    let marker = String::from("mine");
    let err = pool.submit(move || marker.len()).unwrap_err();
    assert_eq!(err.reason, RejectReason::Shutdown);
    assert!(err.to_string().contains("shut down"));
    assert_eq!((err.into_inner())(), 4, "the closure comes back intact");
    let err = pool.execute(|| ()).unwrap_err();
    assert_eq!(err.reason, RejectReason::Shutdown);
    assert!(pool.await_termination(LONG));
    assert!(pool.is_terminated());
}

#[test]
fn reject_policy_hands_back_what_does_not_fit() {
    let pool = ThreadPool::builder()
        .workers(1)
        .queue_bound(2)
        .when_full(Policy::Reject)
        .build()
        .unwrap();
    let (gate, blocker) = block_worker(&pool);
    let a = pool.submit(|| 'a').unwrap();
    let b = pool.submit(|| 'b').unwrap();
    assert_eq!(pool.queued(), 2);
    let full = pool.submit(|| 'c').unwrap_err();
    assert_eq!(full.reason, RejectReason::QueueFull);
    assert_eq!((full.task)(), 'c');
    assert!(matches!(
        pool.execute(|| ()).unwrap_err().reason,
        RejectReason::QueueFull
    ));
    gate.open();
    blocker.get().unwrap();
    assert_eq!(*a.get().unwrap(), 'a');
    assert_eq!(*b.get().unwrap(), 'b');
}

#[test]
fn hand_off_queue_accepts_only_for_an_idle_worker() {
    let pool = ThreadPool::builder()
        .workers(1)
        .queue_bound(0)
        .when_full(Policy::Reject)
        .build()
        .unwrap();
    // Accepted once the worker is idle (it may still be starting up, or finishing the previous
    // task); refused while it is busy.
    fn hand_off<T: Send + Sync + 'static>(
        pool: &ThreadPool,
        f: impl Fn() -> T + Send + Clone + 'static,
    ) -> TaskHandle<T> {
        let start = Instant::now();
        loop {
            match pool.submit(f.clone()) {
                Ok(h) => return h,
                Err(r) => {
                    assert_eq!(r.reason, RejectReason::QueueFull);
                    assert!(
                        start.elapsed() < LONG,
                        "the idle worker never took a hand-off"
                    );
                    thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    assert_eq!(*hand_off(&pool, || 1).get().unwrap(), 1);
    let gate = Gate::default();
    let (tx, rx) = mpsc::channel();
    let g = gate.clone();
    let blocker = hand_off(&pool, move || {
        tx.send(()).unwrap();
        g.wait();
    });
    rx.recv_timeout(LONG).unwrap();
    assert_eq!(
        pool.submit(|| 2).unwrap_err().reason,
        RejectReason::QueueFull
    );
    gate.open();
    blocker.get().unwrap();
}

#[test]
fn block_policy_blocks_the_submitter_until_there_is_room() {
    let pool = Arc::new(
        ThreadPool::builder()
            .workers(1)
            .queue_bound(1)
            .when_full(Policy::Block)
            .build()
            .unwrap(),
    );
    let (gate, _blocker) = block_worker(&pool);
    let queued = pool.submit(|| 1).unwrap();
    let (tx, rx) = mpsc::channel();
    let p = Arc::clone(&pool);
    let submitter = thread::spawn(move || {
        let h = p.submit(|| 2).map_err(|r| r.reason);
        tx.send(()).unwrap();
        h
    });
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "the submitter must block on the full queue"
    );
    gate.open();
    rx.recv_timeout(LONG).expect("room frees the submitter");
    let second = submitter.join().unwrap().unwrap();
    assert_eq!(*queued.get().unwrap(), 1);
    assert_eq!(*second.get().unwrap(), 2);
}

#[test]
fn block_policy_submitter_is_released_by_shutdown() {
    let pool = Arc::new(
        ThreadPool::builder()
            .workers(1)
            .queue_bound(1)
            .build()
            .unwrap(),
    );
    let (gate, _blocker) = block_worker(&pool);
    let queued = pool.submit(|| 1).unwrap();
    let p = Arc::clone(&pool);
    let submitter = thread::spawn(move || p.submit(|| 2).map(|_| ()).map_err(|r| r.reason));
    thread::sleep(Duration::from_millis(50));
    pool.shutdown();
    assert_eq!(
        submitter.join().unwrap(),
        Err(RejectReason::Shutdown),
        "a blocked submission is refused, with its closure, by shutdown"
    );
    gate.open();
    assert_eq!(*queued.get().unwrap(), 1, "queued tasks still run");
}

#[test]
fn caller_runs_policy_runs_on_the_submitting_thread() {
    let pool = ThreadPool::builder()
        .workers(1)
        .queue_bound(1)
        .when_full(Policy::CallerRuns)
        .build()
        .unwrap();
    let (gate, _blocker) = block_worker(&pool);
    let queued = pool
        .submit(|| thread::current().name().map(str::to_owned))
        .unwrap();
    let inline = pool
        .submit(|| thread::current().name().map(str::to_owned))
        .unwrap();
    assert!(inline.is_done(), "ran before submit returned");
    assert_eq!(
        *inline.get().unwrap(),
        thread::current().name().map(str::to_owned)
    );
    let ran_here = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran_here);
    pool.execute(move || r.store(true, SeqCst)).unwrap();
    assert!(ran_here.load(SeqCst));
    gate.open();
    assert_eq!(
        queued.get().unwrap().as_deref(),
        Some("futuretask-worker-0")
    );
}

#[test]
fn a_cancelled_queued_task_never_runs_and_the_worker_moves_on() {
    let pool = ThreadPool::new(1).unwrap();
    let (gate, _blocker) = block_worker(&pool);
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let victim = pool.submit(move || r.store(true, SeqCst)).unwrap();
    let next = pool.submit(|| 3).unwrap();
    assert!(victim.cancel());
    assert!(matches!(victim.get(), Err(Error::Cancelled)));
    gate.open();
    assert_eq!(*next.get().unwrap(), 3);
    assert!(!ran.load(SeqCst));
}

#[test]
fn shutdown_lets_the_queue_drain() {
    let pool = ThreadPool::new(1).unwrap();
    let (gate, _blocker) = block_worker(&pool);
    let handles: Vec<_> = (0..10).map(|i| pool.submit(move || i).unwrap()).collect();
    pool.shutdown();
    pool.shutdown(); // idempotent
    assert!(!pool.await_termination(Duration::from_millis(20)));
    assert!(!pool.is_terminated());
    gate.open();
    assert!(pool.await_termination(LONG));
    assert!(pool.is_terminated());
    for (i, h) in handles.iter().enumerate() {
        assert_eq!(*h.get_timeout(Duration::ZERO).unwrap(), i);
    }
}

#[test]
fn shutdown_now_cancels_the_queue_and_interrupts_the_running() {
    let pool = ThreadPool::new(1).unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let (saw_tx, saw_rx) = mpsc::channel();
    let running = pool
        .submit(move || {
            started_tx.send(()).unwrap();
            let t0 = Instant::now();
            while !current::is_interrupted() && t0.elapsed() < LONG {
                thread::park_timeout(Duration::from_secs(1));
            }
            saw_tx.send(current::is_interrupted()).unwrap();
            "finished"
        })
        .unwrap();
    started_rx.recv_timeout(LONG).unwrap();
    let queued: Vec<_> = (0..5).map(|i| pool.submit(move || i).unwrap()).collect();
    // Threads blocked on the queued tasks must wake when they are cancelled.
    let waiters: Vec<_> = queued
        .iter()
        .map(|h| {
            let h = h.clone();
            thread::spawn(move || matches!(h.get(), Err(Error::Cancelled)))
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    let t0 = Instant::now();
    let unstarted = pool.shutdown_now();
    assert_eq!(unstarted.len(), 5);
    for (u, h) in unstarted.iter().zip(&queued) {
        assert!(u.is(h), "returned in queue order");
        assert_eq!(u.state(), State::Cancelled);
        assert!(!u.is(&running));
    }
    for w in waiters {
        assert!(w.join().unwrap());
    }
    assert!(
        saw_rx.recv_timeout(LONG).unwrap(),
        "the running task saw the interrupt"
    );
    assert!(matches!(running.get(), Err(Error::Cancelled)));
    assert!(pool.await_termination(LONG));
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(pool.submit(|| ()).is_err());
    assert!(pool.shutdown_now().is_empty());
}

#[test]
fn await_termination_edges() {
    let pool = ThreadPool::new(2).unwrap();
    let t0 = Instant::now();
    assert!(!pool.await_termination(Duration::ZERO), "not shut down");
    assert!(!pool.await_termination(Duration::from_millis(30)));
    assert!(t0.elapsed() >= Duration::from_millis(30));
    pool.shutdown();
    assert!(
        pool.await_termination(Duration::MAX),
        "huge timeout: no overflow"
    );
    assert!(pool.await_termination(Duration::ZERO));
}

#[test]
fn await_termination_from_an_own_worker_does_not_deadlock() {
    let pool = Arc::new(ThreadPool::new(1).unwrap());
    let p = Arc::clone(&pool);
    let h = pool
        .submit(move || p.await_termination(Duration::MAX))
        .unwrap();
    assert_eq!(h.get_timeout(LONG).ok(), Some(&false));
}

#[test]
fn dropping_the_pool_runs_the_queue_and_joins() {
    let count = Arc::new(AtomicUsize::new(0));
    {
        let pool = ThreadPool::new(2).unwrap();
        for _ in 0..50 {
            let c = Arc::clone(&count);
            pool.execute(move || {
                thread::sleep(Duration::from_micros(200));
                c.fetch_add(1, SeqCst);
            })
            .unwrap();
        }
    }
    assert_eq!(count.load(SeqCst), 50);
}

#[test]
fn dropping_the_pool_from_its_own_task_does_not_deadlock() {
    let pool = Arc::new(ThreadPool::new(2).unwrap());
    let gate = Gate::default();
    let g = gate.clone();
    let p = Arc::clone(&pool);
    let weak = Arc::downgrade(&pool);
    let h = pool
        .submit(move || {
            g.wait();
            drop(p); // the last reference: the pool is dropped on its own worker
            thread::current().name().unwrap().to_owned()
        })
        .unwrap();
    drop(pool);
    gate.open();
    assert!(h
        .get_timeout(LONG)
        .unwrap()
        .starts_with("futuretask-worker-"));
    assert!(weak.upgrade().is_none());
}

#[test]
fn interrupt_of_a_task_does_not_reach_the_next_one() {
    let pool = ThreadPool::new(1).unwrap();
    let (tx, rx) = mpsc::channel();
    let first = pool
        .submit(move || {
            tx.send(()).unwrap();
            while !current::is_interrupted() {
                thread::park_timeout(Duration::from_millis(50));
            }
        })
        .unwrap();
    let second = pool.submit(current::is_interrupted).unwrap();
    rx.recv_timeout(LONG).unwrap();
    assert!(first.cancel_and_interrupt());
    assert_eq!(second.get_timeout(LONG).ok(), Some(&false));
}

#[test]
fn handles_report_timeouts_while_queued() {
    let pool = ThreadPool::new(1).unwrap();
    let (gate, _blocker) = block_worker(&pool);
    let h = pool.submit(|| 9).unwrap();
    assert!(matches!(
        h.get_timeout(Duration::from_millis(10)),
        Err(Error::TimedOut)
    ));
    assert_eq!(h.state(), State::Pending);
    assert!(format!("{pool:?}").contains("queued: 1"));
    gate.open();
    assert_eq!(*h.get().unwrap(), 9);
}

/// CPython's `shutdown(cancel_futures=True)`: the queue is cancelled and handed back, the running
/// task finishes undisturbed, then the workers leave.
#[test]
fn shutdown_cancel_queued_cancels_the_queue_and_lets_running_tasks_finish() {
    let pool = ThreadPool::new(1).unwrap();
    let (gate, running) = block_worker(&pool);
    let saw_interrupt = Arc::new(AtomicBool::new(false));
    let queued: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
    let s = Arc::clone(&saw_interrupt);
    let probe = pool.submit(move || s.store(current::is_interrupted(), SeqCst));
    let unstarted = pool.shutdown_cancel_queued();
    assert!(probe.is_ok(), "accepted before the shutdown");
    assert_eq!(unstarted.len(), 4);
    for (u, h) in unstarted.iter().zip(&queued) {
        assert!(u.is(h));
        assert!(matches!(h.get(), Err(Error::Cancelled)));
        assert!(!h.snapshot().started() && !h.snapshot().interrupted());
    }
    assert!(matches!(
        pool.submit(|| 9).map_err(|r| r.reason),
        Err(RejectReason::Shutdown)
    ));
    assert_eq!(
        running.state(),
        State::Running,
        "the running task is not interrupted"
    );
    gate.open();
    running.get().unwrap();
    assert!(pool.await_termination(LONG));
    assert!(!saw_interrupt.load(SeqCst));
}

/// `shutdown_now` hands the unstarted closures back: each can be run once, elsewhere, or dropped
/// (which drops it); the tasks stay cancelled.
#[test]
fn shutdown_now_hands_back_the_unstarted_closures() {
    let pool = ThreadPool::new(1).unwrap();
    let (gate, running) = block_worker(&pool);
    let ran = Arc::new(AtomicUsize::new(0));
    let token = Arc::new(());
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let (r, t) = (Arc::clone(&ran), Arc::clone(&token));
            pool.submit(move || {
                let _t = t;
                r.fetch_add(1, SeqCst);
                i
            })
            .unwrap()
        })
        .collect();
    let unstarted = pool.shutdown_now();
    gate.open();
    let _ = running.get();
    let mut jobs: Vec<_> = unstarted.into_iter().filter_map(|u| u.into_job()).collect();
    assert_eq!(
        jobs.len(),
        3,
        "a handle cannot run its task: every closure is still there"
    );
    let dropped = jobs.pop().unwrap();
    drop(dropped); // drops its closure (and the token it holds)
    assert_eq!(Arc::strong_count(&token), 3, "one closure dropped");
    let job = jobs.pop().unwrap();
    thread::spawn(move || job.run()).join().unwrap();
    assert_eq!(ran.load(SeqCst), 1);
    assert_eq!(Arc::strong_count(&token), 2, "one closure ran elsewhere");
    drop(jobs);
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "every closure consumed exactly once"
    );
    assert!(
        hs.iter().all(|h| h.is_cancelled()),
        "the tasks stay cancelled"
    );
    assert!(pool.await_termination(LONG));
}
