//! Allocation counts, with a counting global allocator that counts per thread (the harness runs
//! other tests on other threads meanwhile):
//! * at most 1 heap allocation per task (`Arc::new(FutureTask::new(..))` + `run` + `get`), 0 for
//!   a task on the stack (`FutureTask::new`);
//! * 0 allocations per blocking `get`, timed get (zero, tiny, huge, past deadline) and `try_get`,
//!   on a finished task and on a pending one;
//! * 0 allocations on a thread that blocks in `get()` until another thread completes the task.

use futuretask::{Error, FutureTask};
use futuretask_tests::alloc::{count_on_this_thread, Counting};
use futuretask_tests::support::report;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Context;
use std::thread;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: Counting = Counting;

/// What is set up lazily once: this thread's handle, and — once per process — the kernel's
/// "more than one CPU?" probe before its first spin (`available_parallelism`, which reads the
/// cgroup quota files and allocates). Both are one-time costs, not per-get ones.
fn warm_up() {
    let _ = thread::current();
    let _ = Instant::now();
    let t = FutureTask::new(|| 0u8);
    let _ = t.get_timeout(Duration::from_nanos(1)); // pending: reaches the spin
    t.run();
}

#[test]
fn at_most_one_allocation_per_task() {
    warm_up();
    let n = 1_000u64;
    let ((), allocs) = count_on_this_thread(|| {
        for i in 0..n {
            let big = [i; 16]; // a closure with captured state lives inside the same allocation
            let t = Arc::new(FutureTask::new(move || big.iter().sum::<u64>()));
            assert!(t.run());
            assert_eq!(*t.get().unwrap(), 16 * i);
            drop(t);
        }
    });
    report(&format!(
        "allocations: {allocs} for {n} arc tasks (create + run + get)"
    ));
    assert!(allocs <= n, "{allocs} allocations for {n} tasks");
    let ((), allocs) = count_on_this_thread(|| {
        for i in 0..n {
            let t = FutureTask::new(move || i);
            t.run();
            assert_eq!(*t.get().unwrap(), i);
        }
    });
    assert_eq!(allocs, 0, "a task on the stack allocates nothing");
    let ((), allocs) = count_on_this_thread(|| {
        let (p, t) = futuretask::promise::<u64>();
        p.set(3).unwrap();
        assert_eq!(*t.get().unwrap(), 3);
    });
    assert!(allocs <= 1, "a promise is one allocation ({allocs})");
}

#[test]
fn no_allocation_per_get_on_a_finished_task() {
    warm_up();
    let ok = Arc::new(FutureTask::new(|| 5u64));
    ok.run();
    let failed = FutureTask::<u64, _>::pending();
    failed.fail("ft-error 1").unwrap();
    let cancelled = Arc::new(FutureTask::new(|| 5u64));
    cancelled.cancel_and_interrupt();
    let past = Instant::now();
    let ((), allocs) = count_on_this_thread(|| {
        for _ in 0..1_000 {
            assert_eq!(*ok.get().unwrap(), 5);
            assert_eq!(*ok.get_timeout(Duration::ZERO).unwrap(), 5);
            assert_eq!(*ok.get_timeout(Duration::from_secs(1)).unwrap(), 5);
            assert_eq!(*ok.get_timeout(Duration::MAX).unwrap(), 5);
            assert_eq!(*ok.get_deadline(past).unwrap(), 5);
            assert!(ok.try_get().is_some());
            assert!(failed.get().is_err());
            assert!(failed.get_timeout(Duration::from_millis(1)).is_err());
            assert!(cancelled.get().is_err());
            assert!(cancelled.get_deadline(past).is_err());
            let _ = ok.state();
        }
    });
    assert_eq!(allocs, 0);
}

#[test]
fn no_allocation_per_timed_out_get() {
    warm_up();
    let t = Arc::new(FutureTask::new(|| 5u64));
    let ((), allocs) = count_on_this_thread(|| {
        for _ in 0..1_000 {
            assert!(matches!(
                t.get_timeout(Duration::ZERO),
                Err(Error::TimedOut)
            ));
            assert!(matches!(
                t.get_timeout(Duration::from_nanos(1)),
                Err(Error::TimedOut)
            ));
            assert!(matches!(
                t.get_deadline(Instant::now()),
                Err(Error::TimedOut)
            ));
        }
        for _ in 0..20 {
            // Long enough to park.
            assert!(matches!(
                t.get_timeout(Duration::from_micros(200)),
                Err(Error::TimedOut)
            ));
        }
    });
    assert_eq!(allocs, 0);
    assert_eq!(t.waiter_stack_len(), 0);
}

#[test]
fn no_allocation_on_a_thread_blocked_until_another_completes() {
    warm_up();
    for mode in 0..4 {
        let task = Arc::new(FutureTask::new(|| 9u64));
        let parked = Arc::new(AtomicBool::new(false));
        let (t, p) = (Arc::clone(&task), Arc::clone(&parked));
        let completer = thread::spawn(move || {
            while !p.load(SeqCst) {
                thread::yield_now();
            }
            thread::sleep(Duration::from_millis(10)); // the waiter is parked by now
            t.run();
        });
        let (v, allocs) = count_on_this_thread(|| {
            parked.store(true, SeqCst);
            match mode {
                0 => *task.get().unwrap(),
                1 => *task.get_timeout(Duration::from_secs(60)).unwrap(),
                2 => *task.get_timeout(Duration::MAX).unwrap(),
                _ => *task
                    .get_deadline(Instant::now() + Duration::from_secs(60))
                    .unwrap(),
            }
        });
        completer.join().unwrap();
        assert_eq!(v, 9);
        assert_eq!(allocs, 0, "mode {mode}: the waiting thread allocated");
    }
}

#[test]
fn no_allocation_per_async_poll() {
    warm_up();
    let task = Arc::new(FutureTask::new(|| 1u64));
    let w = futures::task::noop_waker();
    let ((), allocs) = count_on_this_thread(|| {
        for _ in 0..100 {
            let mut f = pin!(task.get_async());
            assert!(f.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
            assert!(f.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
        }
    });
    assert_eq!(allocs, 0, "get_async keeps its node inside the future");
    assert_eq!(task.waiter_stack_len(), 0);
}

#[test]
fn callback_registration_cost_is_reported() {
    warm_up();
    let task = Arc::new(FutureTask::new(|| 1u64));
    let ((), allocs) = count_on_this_thread(|| task.add_done_callback(|_| {}));
    report(&format!("allocations: {allocs} per queued done-callback"));
    assert!(allocs <= 2);
    task.run();
    let ((), allocs) = count_on_this_thread(|| task.add_done_callback(|_| {}));
    report(&format!(
        "allocations: {allocs} per callback on a finished task"
    ));
    assert!(allocs <= 1);
}
