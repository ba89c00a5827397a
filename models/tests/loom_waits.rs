//! loom models of the executor's waits on many tasks (the completion inbox, `executor/inbox.rs`:
//! hand-offs N1 register × complete, N2 post × sleep, N3 give up × complete, N4 sleep ×
//! interrupt), of a blocking wait inside a run that is cancelled with interrupt (I12), and of
//! three abandoning waiters (A2 with DIRTY already set). Same harness and conventions as
//! `loom.rs` (one spinner at a time, `FT-MODEL` line per model).

#![cfg(loom)]

use futuretask::{coverage, current, mock_clock, Error, FutureTask, State, TaskHandle};
use futuretask_executor::{as_completed, wait, CompletionService, Incomplete, ReturnWhen};
use futuretask_models::loom_driver::{check, Bound};
use futuretask_models::{drop_and_poison, poll_once, WakeProbe};
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// One mock-clock tick.
const TICK: Duration = Duration::from_nanos(1);

/// **untimed consumer × a completer × a canceller** (I3; N1, N2). Threads: main (an
/// `as_completed` over two tasks, untimed, registering while the others run), a thread that sets
/// task 0, a thread that cancels task 1. Checks: both tasks are yielded exactly once, each with
/// its own outcome (a notice lost at registration — the task finished before the watch linked —
/// or at the inbox — a post that does not signal the sleeping consumer, or a consumer that
/// announces its sleep too late — leaves main blocked: loom reports the deadlock); no node is
/// left on either task. Only main can spin (on COMPLETING, inside the watch's first poll).
/// Bound: preemption=3 (the unbounded space — two waiter stacks, the inbox lock and condition
/// variable — ran past 10 minutes).
#[test]
fn inbox_untimed() {
    check("inbox_untimed", "I3", Bound::Preemption(3), || {
        let tasks: Vec<Arc<FutureTask<u32>>> = (0..2)
            .map(|_| Arc::new(FutureTask::<u32, _>::pending()) as Arc<FutureTask<u32>>)
            .collect();
        let t0 = Arc::clone(&tasks[0]);
        let setter = thread::spawn(move || t0.set(5).unwrap());
        let t1 = Arc::clone(&tasks[1]);
        let canceller = thread::spawn(move || assert!(t1.cancel()));
        let mut seen = [0u8; 2];
        for r in as_completed(tasks.iter().map(|t| t.handle()), None) {
            let t = r.expect("untimed: never times out");
            let i = tasks
                .iter()
                .position(|x| TaskHandle::ptr_eq(&x.handle(), &t))
                .unwrap();
            seen[i] += 1;
            match i {
                0 => assert_eq!(*t.get().unwrap(), 5),
                _ => assert!(matches!(t.get(), Err(Error::Cancelled))),
            }
        }
        assert_eq!(seen, [1, 1], "I3: each task yielded exactly once");
        setter.join().unwrap();
        canceller.join().unwrap();
        for t in &tasks {
            assert_eq!(t.waiter_stack_len(), 0);
        }
    });
}

/// **timed consumer × the clock × a completer** (I3, I6, I9; N2, N3). Threads: main
/// (`as_completed` over one task with a one-tick timeout, then `wait(FIRST_COMPLETED)` with a
/// one-tick timeout), a clock thread (`expire_all`), a completer. Checks: the iterator yields the
/// task or `TimedOut` with the right counts, never hangs; once a wait returned, the task's stack
/// holds none of its nodes (a wait that gives up unlinks every registration; the completer may
/// be releasing one, and the give-up waits for that); `wait` agrees with `is_done`. Only main
/// spins (the mock-clock waits). Bound: preemption=3 (every spin of a timed wait is another
/// scheduling point).
#[test]
fn inbox_timed() {
    check("inbox_timed", "I3,I6,I9", Bound::Preemption(3), || {
        let task: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
        let t = Arc::clone(&task);
        let completer = thread::spawn(move || t.set(2).unwrap());
        let clock = thread::spawn(mock_clock::expire_all);
        let mut it = as_completed(vec![task.handle()], Some(TICK));
        match it.next().unwrap() {
            Ok(t) => assert_eq!(*t.get().unwrap(), 2),
            Err(e) => {
                assert_eq!((e.unfinished(), e.total()), (1, 1));
                assert_eq!(
                    task.waiter_stack_len(),
                    0,
                    "I6: a timed-out as_completed left its node"
                );
            }
        }
        assert!(it.next().is_none());
        drop(it);
        let (done, not_done) = wait(vec![task.handle()], ReturnWhen::FirstCompleted, Some(TICK));
        assert_eq!(done.len() + not_done.len(), 1);
        if !not_done.is_empty() {
            assert_eq!(
                task.waiter_stack_len(),
                0,
                "I6: a timed-out wait left its node"
            );
        }
        completer.join().unwrap();
        clock.join().unwrap();
        assert_eq!(task.waiter_stack_len(), 0);
        let (done, _) = wait(vec![task.handle()], ReturnWhen::AllCompleted, None);
        assert_eq!(done.len(), 1, "I9: done means done");
    });
}

/// What the interrupted closure's `get` returned: 1 value, 2 interrupted, 3 other.
fn code(r: Result<&u32, Error>) -> usize {
    match r {
        Ok(_) => 1,
        Err(Error::Interrupted) => 2,
        Err(_) => 3,
    }
}

/// **a parked getter × cancel_and_interrupt() of its own task** (I5, I12, I6). Threads: the runner (task
/// A's closure blocks in `other.get()`, untimed, on a task nobody completes while A runs), main
/// (`cancel_and_interrupt()` on A, then joins the runner, then completes `other`). Checks: `run` returns
/// although `other` is still pending — a getter that ignored its interrupt, or slept where the
/// canceller's unpark does not reach it, stays blocked and loom reports the deadlock; the getter
/// saw `Interrupted` (or the closure never ran, cancel having won from NEW); after `run` the
/// thread sees no interrupt; `other`'s stack is empty (the getter unlinked its node) and `other`
/// still completes. Only the runner spins (`run`'s INTERRUPTING wait). Bound: exhaustive.
#[test]
fn interrupted_getter() {
    interrupted_waiter("interrupted_getter", |o| code(o.get()));
}

/// The body of the interrupted-wait models: task A's closure runs `wait` on `other` (which
/// nobody completes while A runs) and records its code (`2` = interrupted); main cancels A with
/// interrupt, joins the runner, checks I5, I6 and I12, then completes `other`.
fn interrupted_waiter(name: &'static str, wait: fn(&TaskHandle<u32>) -> usize) {
    check(name, "I5,I6,I12", Bound::Exhaustive, move || {
        let other: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
        let saw = Arc::new(AtomicUsize::new(0));
        let (o, s) = (other.handle(), Arc::clone(&saw));
        let task = Arc::new(FutureTask::new(move || {
            s.store(wait(&o), SeqCst);
        }));
        let t = Arc::clone(&task);
        let runner = thread::spawn(move || {
            t.run();
            assert!(
                !current::is_interrupted(),
                "I5: interrupt leaked past run()"
            );
        });
        assert!(task.cancel_and_interrupt());
        runner.join().unwrap();
        match saw.load(SeqCst) {
            0 | 2 => {}
            c => panic!("I12: the interrupted wait returned outcome {c}"),
        }
        assert_eq!(task.state(), State::Cancelled);
        assert_eq!(
            other.waiter_stack_len(),
            0,
            "I6: the interrupted wait left its node"
        );
        other.set(4).unwrap();
        assert_eq!(*other.get().unwrap(), 4);
    });
}

/// What the interrupted closure's inbox wait returned: 1 the task (with value 4), 2 interrupted,
/// 3 anything else (a timeout, or a task without its value).
fn inbox_code(r: Option<Result<TaskHandle<u32>, Incomplete>>) -> usize {
    match r {
        Some(Ok(t)) if t.try_get().and_then(Result::ok) == Some(&4) => 1,
        // The count is a snapshot: a completion published but not yet posted counts as finished.
        Some(Err(Incomplete::Interrupted(e))) if e.total() == 1 && e.unfinished() <= 1 => 2,
        _ => 3,
    }
}

/// **a consumer parked in the inbox × cancel_and_interrupt() of its own task** (I5, I6, I12; N4).
/// Threads: the runner (task A's closure iterates `as_completed` over a task nobody completes
/// while A runs: it registers, finds the inbox empty and parks), main (`cancel_and_interrupt()` on A, then
/// joins the runner, then completes `other`). Checks: `run` returns although `other` is still
/// pending — a consumer that sleeps where the canceller's unpark does not reach it (the
/// condition variable), or that does not re-check the interrupt after a wakeup
/// (`inbox_interrupt_checked_once`), stays blocked and loom reports the deadlock; the consumer
/// saw `Incomplete::Interrupted` with the right counts (or the closure never ran, cancel having
/// won from NEW); after `run` the thread sees no interrupt; `other`'s stack is empty (the
/// interrupted wait unlinked its registration) and `other` still completes. Only the runner
/// spins (`run`'s INTERRUPTING wait). Bound: exhaustive.
#[test]
fn interrupted_inbox_consumer() {
    interrupted_waiter("interrupted_inbox_consumer", |o| {
        inbox_code(as_completed(vec![o.clone()], None).next())
    });
}

/// **a consumer parked in the inbox × cancel_and_interrupt() of its own task × a post** (I3, I5, I6,
/// I12; N1, N2, N4). Threads: the runner (task A's closure `take`s from a `CompletionService`
/// watching `other`), a completer (sets `other`), main (`cancel_and_interrupt()` on A, joins both).
/// Checks: `run` returns (no lost wakeup between the post, the canceller's unpark and the
/// consumer's park: loom reports a deadlock otherwise); the consumer got `other` with its value
/// (the notice came first: done means done) or `Interrupted` with the right counts (or never
/// ran), never a timeout or a task without its value; the thread sees no interrupt after `run`;
/// `other`'s stack is empty. At most one thread spins at a time (the runner in `run`'s
/// INTERRUPTING wait or while its dropped watch is being released; the completer while the
/// runner's abandon holds the remover lock). Bound: preemption=3 in the quick tier (47,731
/// executions, ~4 s), 4 in the full tier (444,695, ~41 s); unbounded ran past 2 minutes.
#[test]
fn interrupted_inbox_post_race() {
    check(
        "interrupted_inbox_post_race",
        "I3,I5,I6,I12",
        Bound::tiered(Bound::Preemption(3), Bound::Preemption(4)),
        || {
            let other: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
            let saw = Arc::new(AtomicUsize::new(0));
            let (o, s) = (other.handle(), Arc::clone(&saw));
            let task = Arc::new(FutureTask::new(move || {
                let mut cs = CompletionService::detached();
                cs.add(o);
                let r = cs.take().map_err(Incomplete::from).transpose();
                s.store(inbox_code(r), SeqCst);
            }));
            let t = Arc::clone(&task);
            let runner = thread::spawn(move || {
                t.run();
                assert!(
                    !current::is_interrupted(),
                    "I5: interrupt leaked past run()"
                );
            });
            let o = Arc::clone(&other);
            let completer = thread::spawn(move || o.set(4).unwrap());
            // The closure may have taken `other` and returned before the cancel.
            let cancelled = task.cancel_and_interrupt();
            runner.join().unwrap();
            completer.join().unwrap();
            match (cancelled, saw.load(SeqCst)) {
                (true, 0..=2) | (false, 1) => {}
                (_, c) => panic!("I12: the take returned outcome {c} (cancelled: {cancelled})"),
            }
            assert_eq!(other.waiter_stack_len(), 0, "I6: a node was left behind");
            assert_eq!(*other.get().unwrap(), 4);
        },
    );
}

/// **three abandoning waiters** (I6; A2 with DIRTY already set). Threads: two runners, each
/// running its own task whose closure waits in `other.get()` (inside a run: it parks), and main,
/// the third waiter (it polls a `done()` future on `other` once, then `cancel_and_interrupt()`s the two
/// tasks, then drops its future in place and poisons it, then joins the runners). An interrupted
/// getter abandons its node and *parks* until the node is released, so at most one thread
/// (main's dropped future, if it is not the lock holder) yield-spins for another — the obstacle
/// that kept this scenario out of loom, where three async droppers spin for the holder at once
/// (the shuttle model `three_abandoners` covers that shape). One remover can hold the remover
/// lock while a second marks DIRTY and a third finds DIRTY already set and must still CAS
/// (ALGORITHM.md "A2 under C11"). Checks: every wait ends — a lock holder that ignored DIRTY
/// (`sweeper_ignores_dirty`), or an abandoner that skipped its CAS on finding DIRTY
/// (`mark_dirty_skips_cas`, whose ABANDONED store the holder's re-sweep may then not see),
/// leaves an abandoner parked (loom: deadlock) or spinning (loom: branch limit) forever; the
/// stack is empty (I6), main's waker was never woken and not leaked, `other` still completes;
/// and, over all executions, some remover found DIRTY already set (`coverage`). Bound:
/// preemption=1 in the quick tier (the step needs one: the lock holder's, inside its sweep; main
/// parks until both closures run instead of spending a preemption on it; 115,872 executions,
/// ~10 s), 2 in the full tier (2,721,926 executions, ~260 s).
#[test]
fn three_abandoners() {
    let before = coverage::dirty_already_set();
    let bound = Bound::tiered(Bound::Preemption(1), Bound::Preemption(2));
    check("three_abandoners", "I6", bound, || {
        let other: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
        let main = thread::current();
        let entered = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (o, m, e) = (Arc::clone(&other), main.clone(), Arc::clone(&entered));
                Arc::new(FutureTask::new(move || {
                    e.fetch_add(1, SeqCst);
                    m.unpark();
                    assert!(
                        matches!(o.get(), Err(Error::Interrupted)),
                        "I12: only the interrupt ends this get"
                    );
                }))
            })
            .collect();
        let runners: Vec<_> = tasks
            .iter()
            .map(|t| {
                let t = Arc::clone(t);
                thread::spawn(move || {
                    t.run();
                })
            })
            .collect();
        let probe = WakeProbe::new();
        let mut fut = Box::pin(other.handle().when_done());
        assert!(poll_once(fut.as_mut(), &probe.waker()).is_pending());
        // Cancel once both closures run (main parks: no preemption spent on letting the
        // runners reach their `get`).
        while entered.load(SeqCst) < 2 {
            thread::park();
        }
        // Steer loom's first schedule (its DPOR does not try every reordering of a load and
        // a CAS, see `loom.rs`): runner 1 abandons first and takes the remover lock (main
        // yields to it); if it is preempted there, main interrupts runner 0, marks DIRTY and
        // yields, and loom's next pick is runner 0 (the lowest runnable id), which finds DIRTY
        // already set. (Without this order preemption=1 never reached the step.)
        assert!(tasks[1].cancel_and_interrupt());
        thread::yield_now();
        assert!(tasks[0].cancel_and_interrupt());
        let poisoned = drop_and_poison(fut);
        for r in runners {
            r.join().unwrap();
        }
        assert_eq!(
            other.waiter_stack_len(),
            0,
            "I6: an abandoned node is still linked"
        );
        assert_eq!(probe.wakes(), 0);
        assert_eq!(Arc::strong_count(&probe), 1, "a stored waker leaked");
        other.set(1).unwrap();
        assert_eq!(*other.get().unwrap(), 1);
        drop(poisoned);
    });
    assert!(
        coverage::dirty_already_set() > before,
        "no execution reached a remover finding DIRTY already set"
    );
}
