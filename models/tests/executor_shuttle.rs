//! shuttle models of the executor (`futuretask-executor`), through its public API and the
//! kernel's (run with `cargo test -p futuretask-models --features shuttle --release --test
//! executor_shuttle`): the thread pool with several submitters and workers against shutdown
//! (I10), and the completion inbox with more threads than loom can take — one consumer
//! (`as_completed`, timed or untimed, then a `CompletionService` reused across timed-out polls)
//! against several completing, failing and cancelling threads. Same conventions as `shuttle.rs`
//! (PCT and random scheduling, `FT_SHUTTLE_SCALE`, a failing schedule replays with this file's
//! `replay_schedule` test).

#![cfg(all(feature = "shuttle", not(loom)))]

mod common;

use common::shuttle::{seen_get, Seen};
use futuretask::{current, mock_clock, FutureTask};
use futuretask_executor::{as_completed, CompletionService};
use futuretask_models::shuttle_driver::{both, jitter, pct, random, replay_from_env};
use shuttle::thread;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

/// Replays a failing schedule printed by any model of this file (see `shuttle.rs`):
///
/// ```text
/// FT_SHUTTLE_REPLAY_MODEL=executor_shutdown_now FT_SHUTTLE_REPLAY_SCHEDULE="<the printed schedule>" \
///   cargo test -p futuretask-models --features shuttle --release --test executor_shuttle \
///   -- --ignored --nocapture replay_schedule
/// ```
#[test]
#[ignore = "set FT_SHUTTLE_REPLAY_MODEL and FT_SHUTTLE_REPLAY_SCHEDULE"]
fn replay_schedule() {
    replay_from_env(&[
        ("executor_shutdown_now", executor::shutdown_now_storm),
        ("executor_shutdown_drain", executor::shutdown_drain_storm),
        ("inbox_storm", inbox_storm),
    ]);
}

// ---- the completion inbox --------------------------------------------------------------------

/// Start one thread per task that settles it: set, fail, cancel(), cancel_and_interrupt().
fn settle_all(tasks: &[Arc<FutureTask<u32>>]) -> Vec<thread::JoinHandle<()>> {
    tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let t = Arc::clone(t);
            thread::spawn(move || {
                jitter(6);
                match i % 4 {
                    0 => drop(t.set(i as u32)),
                    1 => drop(t.fail("boom")),
                    2 => drop(t.cancel()),
                    _ => drop(t.cancel_and_interrupt()),
                }
            })
        })
        .collect()
}

/// **one consumer × four settling threads** (I3, I6). 6 threads: four threads that each settle
/// one task (set, fail, cancel, cancel with interrupt), a clock thread, main. Main first runs
/// `as_completed` over the four with a timeout the clock may expire, and then a
/// `CompletionService` over four fresh tasks that it polls with a zero timeout until it has them
/// all. Checks: `as_completed` yields each task at most once, every yielded task is done, a
/// `TimedOut` counts exactly the tasks not yielded; after the iterator is gone no task holds a
/// node of it; the service hands out each task exactly once and keeps exactly one node per
/// outstanding task however many polls time out (no lost notice: an untimed `take` at the end
/// would block forever, which shuttle reports).
fn inbox_storm() {
    let tasks: Vec<Arc<FutureTask<u32>>> = (0..4)
        .map(|_| Arc::new(FutureTask::<u32, _>::pending()) as Arc<FutureTask<u32>>)
        .collect();
    let settlers = settle_all(&tasks);
    let clock = thread::spawn(|| {
        jitter(8);
        mock_clock::expire_all();
    });
    let mut yielded = 0;
    let mut it = as_completed(
        tasks.iter().map(|t| t.handle()),
        Some(Duration::from_nanos(1)),
    );
    for r in &mut it {
        match r {
            Ok(t) => {
                assert!(t.is_done());
                yielded += 1;
            }
            Err(e) => {
                assert_eq!(
                    (e.unfinished(), e.total()),
                    (4 - yielded, 4),
                    "TimedOut counts"
                );
            }
        }
    }
    assert!(yielded <= 4);
    drop(it);
    for t in &tasks {
        assert!(
            t.is_done() || t.waiter_stack_len() == 0,
            "I6: a node outlived as_completed"
        );
    }
    for s in settlers {
        s.join().unwrap();
    }
    clock.join().unwrap();

    let fresh: Vec<Arc<FutureTask<u32>>> = (0..4)
        .map(|_| Arc::new(FutureTask::<u32, _>::pending()) as Arc<FutureTask<u32>>)
        .collect();
    let mut cs = CompletionService::detached();
    for t in &fresh {
        cs.add(t.handle());
    }
    let settlers = settle_all(&fresh);
    let mut got = 0;
    for _ in 0..6 {
        match cs.poll_timeout(Duration::ZERO) {
            Ok(Some(t)) => {
                assert!(t.is_done());
                got += 1;
            }
            Ok(None) => break,
            Err(e) => assert_eq!(e.total(), 4 - got, "TimedOut counts the outstanding tasks"),
        }
        for t in &fresh {
            assert!(
                t.waiter_stack_len() <= 1,
                "I6: timed-out polls piled up nodes"
            );
        }
    }
    while let Some(t) = cs.take().expect("not in a run: never interrupted") {
        assert!(t.is_done());
        got += 1;
    }
    assert_eq!(got, 4, "I3: every task handed out exactly once");
    for s in settlers {
        s.join().unwrap();
    }
    for t in &fresh {
        assert_eq!(t.waiter_stack_len(), 0);
    }
}

#[test]
fn shuttle_inbox_storm() {
    pct("inbox_storm", "I3,I6", 20_000, 3, inbox_storm);
    random("inbox_storm", "I3,I6", 20_000, inbox_storm);
}

// ---- I10: executor ---------------------------------------------------------------------------

mod executor {
    use super::*;
    use futuretask::TaskHandle;
    use futuretask_executor::{RejectReason, ThreadPool};
    use std::sync::atomic::AtomicBool;

    type Accepted = Vec<(TaskHandle<u32>, Arc<AtomicBool>, Seen)>;

    /// Submit two tasks (one of them watches `current::is_interrupted()`), then wait for each accepted one.
    fn submit_two(pool: &ThreadPool, base: u32) -> Accepted {
        let mut out = Vec::new();
        for k in 0..2u32 {
            let ran = Arc::new(AtomicBool::new(false));
            let r = Arc::clone(&ran);
            let v = base + k;
            let f = move || {
                r.store(true, SeqCst);
                if k == 1 {
                    for _ in 0..2 {
                        if current::is_interrupted() {
                            break;
                        }
                        thread::yield_now();
                    }
                }
                v
            };
            jitter(4);
            match pool.submit(f) {
                Ok(h) => out.push((h, ran, Seen::TimedOut)),
                Err(rej) => {
                    assert_eq!(rej.reason, RejectReason::Shutdown);
                    assert_eq!(
                        (rej.into_inner())(),
                        v,
                        "I10: rejected closure not handed back"
                    );
                }
            }
        }
        for (h, _, seen) in &mut out {
            *seen = seen_get(h.get());
        }
        out
    }

    /// **submitters × shutdown_now × workers** (I10, I3). 6 threads: 2 workers, 3 submitters
    /// (two tasks each, then `get` on each accepted handle), main (`shutdown_now`, then drops the
    /// pool). Checks: every `get` returns; an accepted task either ran to its value, or was
    /// cancelled — and then, if its closure never ran, `shutdown_now` reported it — and a task
    /// `shutdown_now` reported never ran (both directions); rejected closures come back.
    pub(super) fn shutdown_now_storm() {
        let pool = Arc::new(ThreadPool::builder().workers(2).build().unwrap());
        let subs: Vec<_> = (0..3u32)
            .map(|i| {
                let p = Arc::clone(&pool);
                thread::spawn(move || submit_two(&p, 10 * i))
            })
            .collect();
        jitter(16);
        let unstarted = pool.shutdown_now();
        let accepted: Vec<_> = subs.into_iter().flat_map(|s| s.join().unwrap()).collect();
        drop(pool);
        for (h, ran, seen) in accepted {
            let listed = unstarted.iter().any(|u| u.is(&h));
            match seen {
                Seen::Value(_) => assert!(!listed, "I10: a task that ran is reported unstarted"),
                Seen::Cancelled => {
                    if !ran.load(SeqCst) {
                        assert!(listed, "I10: a cancelled, never-run task is not reported");
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
            // Both directions: listed as unstarted ⇒ its closure never ran.
            if listed {
                assert!(!ran.load(SeqCst), "I10: a task reported unstarted ran");
            }
            assert!(h.is_done());
        }
    }

    #[test]
    fn shuttle_executor_shutdown_now() {
        both(
            "executor_shutdown_now",
            "I3,I10",
            25_000,
            shutdown_now_storm,
        );
    }

    /// **submitters × shutdown / drop × workers** (I10). 6 threads: 2 workers, 3 submitters
    /// (each holds its own reference to the pool and drops it after waiting), main (`shutdown`,
    /// then drops its reference; whichever reference is dropped last joins the workers). Checks: every accepted task ran to its value; rejected closures
    /// come back.
    pub(super) fn shutdown_drain_storm() {
        let pool = Arc::new(ThreadPool::builder().workers(2).build().unwrap());
        let subs: Vec<_> = (0..3u32)
            .map(|i| {
                let p = Arc::clone(&pool);
                thread::spawn(move || {
                    let acc = submit_two(&p, 10 * i);
                    drop(p);
                    acc
                })
            })
            .collect();
        jitter(16);
        pool.shutdown();
        drop(pool);
        for s in subs {
            for (h, ran, seen) in s.join().unwrap() {
                assert!(ran.load(SeqCst), "I10: an accepted task never ran");
                assert!(matches!(seen, Seen::Value(_)), "I10: {seen:?}");
                assert!(h.try_get().is_some());
            }
        }
    }

    #[test]
    fn shuttle_executor_shutdown_drain() {
        both(
            "executor_shutdown_drain",
            "I10",
            25_000,
            shutdown_drain_storm,
        );
    }
}
