//! `CompletionService` against the scenarios of Java's `ExecutorCompletionService` (its javadoc's
//! two usage examples and the JSR-166 TCK's take / poll tests) and CPython's `as_completed`
//! (`test_concurrent_futures`: zero timeout over finished and pending futures, the
//! "2 (of 4) futures unfinished" message, cancellation).

mod common;
use common::Gate;
use futuretask::{current, Error, FutureTask, TaskHandle};
use futuretask_executor::{as_completed, CompletionService, ThreadPool};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Javadoc example 1 ("solve"): submit every solver, use each result as it arrives — in
/// completion order, not submission order.
#[test]
fn java_ecs_results_come_back_in_completion_order() {
    let pool = ThreadPool::new(3).unwrap();
    let gates: Vec<Gate> = (0..3).map(|_| Gate::default()).collect();
    let mut cs = CompletionService::new(&pool);
    for (i, g) in gates.iter().enumerate() {
        let g = g.clone();
        cs.submit(move || {
            g.wait();
            i
        })
        .unwrap();
    }
    let mut order = Vec::new();
    for i in [2, 0, 1] {
        gates[i].open();
        order.push(*cs.take().unwrap().unwrap().get().unwrap());
    }
    assert_eq!(order, [2, 0, 1]);
    assert!(
        cs.take().unwrap().is_none(),
        "nothing outstanding: take does not block"
    );
}

/// Javadoc example 2: use the first non-null result and cancel the rest (Java's
/// `f.cancel_and_interrupt()` in the `finally`), then the pool terminates promptly.
#[test]
fn java_ecs_first_non_null_result_cancels_the_rest() {
    let pool = ThreadPool::new(4).unwrap();
    let mut cs = CompletionService::new(&pool);
    let mut futures = Vec::new();
    for i in 0..4u32 {
        futures.push(
            cs.submit(move || {
                match i {
                    0 => None,          // a solver that finds nothing
                    1 => Some(i * 100), // the one that succeeds
                    _ => {
                        // Long-running solvers that honour cancellation.
                        while !current::is_interrupted() {
                            thread::park_timeout(Duration::from_millis(5));
                        }
                        None
                    }
                }
            })
            .unwrap(),
        );
    }
    let mut result = None;
    for _ in 0..futures.len() {
        if let Some(r) = *cs.take().unwrap().unwrap().get().unwrap() {
            result = Some(r);
            break;
        }
    }
    for f in &futures {
        f.cancel_and_interrupt();
    }
    assert_eq!(result, Some(100));
    pool.shutdown();
    assert!(pool.await_termination(Duration::from_secs(5)));
    // The cancelled ones still come back, as cancelled.
    let mut cancelled = 0;
    while let Some(f) = cs.take().unwrap() {
        if matches!(f.get(), Err(Error::Cancelled)) {
            cancelled += 1;
        }
    }
    assert_eq!(cancelled, 2);
}

/// TCK `testTake`, `testPoll1`, `testPoll2`: take returns the submitted future once it is done;
/// poll returns nothing until one is done; a timed poll waits for it.
#[test]
fn java_tck_take_and_poll() {
    let pool = ThreadPool::new(2).unwrap();
    let mut cs = CompletionService::new(&pool);
    let h = cs.submit(|| "ok").unwrap();
    let t = cs.take().unwrap().unwrap();
    assert!(TaskHandle::ptr_eq(&h, &t) && t.is_done());

    let gate = Gate::default();
    let g = gate.clone();
    cs.submit(move || {
        g.wait();
        "one"
    })
    .unwrap_or_else(|_| unreachable!());
    let mut cs2 = CompletionService::new(&pool);
    let g2 = gate.clone();
    cs2.submit(move || {
        g2.wait();
        2
    })
    .unwrap();
    assert!(cs2.try_poll().is_none(), "poll before completion: nothing");
    let e = cs2.poll_timeout(Duration::from_millis(20)).unwrap_err();
    assert_eq!(e.to_string(), "1 (of 1) futures unfinished");
    gate.open();
    let t0 = Instant::now();
    let f = cs2.poll_timeout(Duration::from_secs(10)).unwrap().unwrap();
    assert_eq!(*f.get().unwrap(), 2);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(*cs.take().unwrap().unwrap().get().unwrap(), "one");
}

/// A service polled with a timeout many times keeps one node per outstanding task.
#[test]
fn timed_out_polls_register_nothing_new() {
    let t = Arc::new(FutureTask::<u8, _>::pending());
    let mut cs = CompletionService::detached();
    cs.add(t.handle());
    for _ in 0..10_000 {
        assert!(cs.poll_timeout(Duration::ZERO).is_err());
    }
    assert_eq!(t.waiter_stack_len(), 1);
    drop(cs);
    assert_eq!(
        t.waiter_stack_len(),
        0,
        "dropping the service unlinks its nodes (I6)"
    );
}

/// CPython `AsCompletedTests.test_zero_timeout` and the message of its `TimeoutError`: finished
/// futures (cancelled, failed, successful) are yielded, then the deadline reports the rest.
#[test]
fn cpython_as_completed_zero_timeout_over_finished_and_pending() {
    let cancelled: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
    cancelled.cancel();
    let failed: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
    failed.fail("boom").unwrap();
    let ok: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
    ok.set(42).unwrap();
    let pending1: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
    let pending2: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
    let all = vec![
        cancelled.handle(),
        failed.handle(),
        ok.handle(),
        pending1.handle(),
        pending2.handle(),
    ];
    let mut finished = Vec::new();
    let mut timed_out = None;
    for r in as_completed(all, Some(Duration::ZERO)) {
        match r {
            Ok(t) => finished.push(t),
            Err(e) => timed_out = Some(e),
        }
    }
    assert_eq!(finished.len(), 3);
    for t in [&cancelled, &failed, &ok] {
        assert!(finished.iter().any(|f| TaskHandle::ptr_eq(f, &t.handle())));
    }
    let e = timed_out.expect("the pending ones time out");
    assert_eq!(e.to_string(), "2 (of 5) futures unfinished");
    assert_eq!(pending1.waiter_stack_len() + pending2.waiter_stack_len(), 0);
}

/// CPython `test_no_timeout`: without a timeout every future is yielded, as it finishes; and a
/// cancellation is yielded at once (gh-92001 is CPython's bug, not ours).
#[test]
fn cpython_as_completed_no_timeout_and_cancel() {
    let a: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
    let b: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
    let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        b2.cancel();
        thread::sleep(Duration::from_millis(10));
        a2.set(1).unwrap();
    });
    let got: Vec<_> = as_completed(vec![a.handle(), b.handle()], None)
        .map(Result::unwrap)
        .collect();
    t.join().unwrap();
    assert!(TaskHandle::ptr_eq(&got[0], &b.handle()) && TaskHandle::ptr_eq(&got[1], &a.handle()));
}
