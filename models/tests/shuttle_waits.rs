//! shuttle models of the kernel's waiters with more threads than loom can take: three abandoning
//! waiters reaching DIRTY already set. The executor's completion inbox is `executor_shuttle.rs`.
//! Same conventions as `shuttle.rs`.

#![cfg(all(feature = "shuttle", not(loom)))]

use futuretask::{coverage, FutureTask};
use futuretask_models::shuttle_driver::{jitter, pct, random};
use futuretask_models::{drop_and_poison, poll_once, WakeProbe};
use shuttle::thread;
use std::sync::Arc;

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
