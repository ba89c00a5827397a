//! shuttle models of the completion inbox with more threads than loom can take: one consumer
//! (`as_completed`, timed or untimed, then a `CompletionService` reused across timed-out polls)
//! against several completing, failing and cancelling threads. Same conventions as `shuttle.rs`.

#![cfg(all(feature = "shuttle", not(loom)))]

use futuretask::{coverage, mock_clock, FutureTask};
use futuretask_executor::{as_completed, CompletionService};
use futuretask_models::shuttle_driver::{pct, random};
use futuretask_models::{drop_and_poison, poll_once, WakeProbe};
use shuttle::thread;
use std::sync::Arc;
use std::time::Duration;

/// Yield a random number (0..=max) of times (scheduler-controlled, so schedules replay).
fn jitter(max: usize) {
    use shuttle::rand::Rng;
    for _ in 0..shuttle::rand::thread_rng().gen_range(0..=max) {
        thread::yield_now();
    }
}

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

/// **three abandoning waiters** (I6). 4 threads: three async waiters that each poll a `done()`
/// future once and drop it (in place, then poisoned), main (joins them, then completes). With
/// three removers one can hold LOCKED while a second has already set DIRTY and a third finds it
/// set (it must still CAS, see `protocol::RemoveStep::MarkDirty`). Checks: every drop returns,
/// no waker leaks, the stack is empty before completion, completion still works; and the
/// DIRTY-already-set step was reached in some iteration (`coverage`). loom cannot take this
/// shape: two droppers yield-spin for the lock holder at once (see `loom.rs`), which runs into
/// loom's branch limit at any preemption bound; the loom `three_abandoners` (`loom_waits.rs`)
/// reaches the step with parked (interrupted) getters instead.
fn three_abandoners() {
    let task = Arc::new(FutureTask::<u32, _>::pending());
    let droppers: Vec<_> = (0..3)
        .map(|_| {
            let t = Arc::clone(&task);
            thread::spawn(move || {
                let probe = WakeProbe::new();
                let mut fut = Box::pin(t.handle().when_done());
                assert!(poll_once(fut.as_mut(), &probe.waker()).is_pending());
                jitter(3);
                let poisoned = drop_and_poison(fut);
                (probe, poisoned)
            })
        })
        .collect();
    let joined: Vec<_> = droppers.into_iter().map(|d| d.join().unwrap()).collect();
    assert_eq!(
        task.waiter_stack_len(),
        0,
        "I6: an abandoned node is still linked"
    );
    task.set(1).unwrap();
    assert_eq!(*task.get().unwrap(), 1);
    for (probe, poisoned) in joined {
        assert_eq!(probe.wakes(), 0);
        assert_eq!(Arc::strong_count(&probe), 1, "a stored waker leaked");
        drop(poisoned);
    }
}

#[test]
fn shuttle_three_abandoners() {
    let before = coverage::dirty_already_set();
    pct("three_abandoners", "I6", 20_000, 3, three_abandoners);
    let after_pct = coverage::dirty_already_set();
    random("three_abandoners", "I6", 20_000, three_abandoners);
    assert!(
        after_pct > before && coverage::dirty_already_set() > after_pct,
        "a scheduler never reached a remover finding DIRTY already set"
    );
}
