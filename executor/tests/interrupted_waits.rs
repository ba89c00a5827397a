//! The library's own waits honour the library's own interrupt, and an interrupted run leaves the
//! thread's park permits alone.
//!
//! * A wait that blocks inside a task's closure (a pool task's `get` / `get_timeout` on another
//!   task) returns `Interrupted` promptly when that task is cancelled with interrupt — by
//!   `cancel_and_interrupt()` or `shutdown_now` — so the pool terminates; outside a task nothing changes.
//! * So does a wait on many tasks (the completion inbox): `as_completed`, `wait`,
//!   `CompletionService::take` / `poll_timeout`, `invoke_any`, each with its interrupted error.
//! * `run()` does not consume an unpark that another thread sent while the task was being
//!   cancelled with interrupt.

use futuretask::{current, Error, FutureTask, State};
use futuretask_executor::{
    as_completed, wait, CompletionService, Incomplete, InvokeAnyError, ReturnWhen, ThreadPool,
};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

const PROMPT: Duration = Duration::from_secs(2);

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_micros(200));
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Seen {
    Value,
    Cancelled,
    Failed,
    TimedOut,
    Interrupted,
}

fn seen_get(r: Result<&u32, Error>) -> Seen {
    match r {
        Ok(_) => Seen::Value,
        Err(Error::Cancelled) => Seen::Cancelled,
        Err(Error::Failed(_)) => Seen::Failed,
        Err(Error::Interrupted) => Seen::Interrupted,
        Err(e) => panic!("an untimed get reported {e}"),
    }
}

fn seen_wait(r: Result<&u32, Error>) -> Seen {
    match r {
        Ok(_) => Seen::Value,
        Err(Error::Cancelled) => Seen::Cancelled,
        Err(Error::Failed(_)) => Seen::Failed,
        Err(Error::TimedOut) => Seen::TimedOut,
        Err(Error::Interrupted) => Seen::Interrupted,
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// How the blocked pool task is released.
#[derive(Clone, Copy, Debug)]
enum Release {
    CancelTrue,
    ShutdownNow,
}

fn blocked_pool_task_is_released(timed: bool, how: Release) {
    let pool = ThreadPool::new(1).unwrap();
    let other = Arc::new(FutureTask::<u32, _>::pending());
    let (tx, rx) = mpsc::channel();
    let o = Arc::clone(&other);
    let h = pool
        .submit(move || {
            let seen = if timed {
                seen_wait(o.get_timeout(Duration::from_secs(3600)))
            } else {
                seen_get(o.get())
            };
            tx.send(seen).unwrap();
        })
        .unwrap();
    wait_until("the task to block", || {
        h.state() == State::Running && other.waiter_stack_len() == 1
    });
    thread::sleep(Duration::from_millis(20)); // let it park
    match how {
        Release::CancelTrue => {
            assert!(h.cancel_and_interrupt());
            pool.shutdown();
        }
        Release::ShutdownNow => {
            assert!(pool.shutdown_now().is_empty());
        }
    }
    let t0 = Instant::now();
    assert!(
        pool.await_termination(PROMPT),
        "timed={timed} {how:?}: a task blocked in the library's own wait kept the pool alive"
    );
    assert_eq!(
        rx.recv_timeout(PROMPT).unwrap(),
        Seen::Interrupted,
        "a distinct error: not a timeout, not the other task's outcome"
    );
    assert!(t0.elapsed() < PROMPT);
    assert!(!other.is_done(), "the awaited task is untouched");
    assert_eq!(
        other.waiter_stack_len(),
        0,
        "I6: the interrupted waiter left its node"
    );
    other.set(1).unwrap();
}

#[test]
fn get_in_a_pool_task_is_released_by_cancel_true() {
    blocked_pool_task_is_released(false, Release::CancelTrue);
}

#[test]
fn get_timeout_in_a_pool_task_is_released_by_cancel_true() {
    blocked_pool_task_is_released(true, Release::CancelTrue);
}

#[test]
fn get_in_a_pool_task_is_released_by_shutdown_now() {
    blocked_pool_task_is_released(false, Release::ShutdownNow);
}

#[test]
fn get_timeout_in_a_pool_task_is_released_by_shutdown_now() {
    blocked_pool_task_is_released(true, Release::ShutdownNow);
}

#[test]
fn an_interrupted_run_still_reads_a_finished_task() {
    // Done means done: only a wait that would block reports the interrupt.
    let done = Arc::new(FutureTask::new(|| 5u32));
    done.run();
    let d = Arc::clone(&done);
    let task = Arc::new(FutureTask::new(move || {
        while !current::is_interrupted() {
            thread::yield_now();
        }
        (
            seen_get(d.get()),
            seen_wait(d.get_timeout(Duration::from_secs(1))),
        )
    }));
    let t = Arc::clone(&task);
    let runner = thread::spawn(move || t.run());
    wait_until("the task to run", || task.state() == State::Running);
    assert!(task.cancel_and_interrupt());
    assert!(runner.join().unwrap());
    // The task's own result is discarded (cancelled); what its closure saw is checked through a
    // second task run the same way, below.
    let d = Arc::clone(&done);
    let (tx, rx) = mpsc::channel();
    let probe = Arc::new(FutureTask::new(move || {
        while !current::is_interrupted() {
            thread::yield_now();
        }
        tx.send((seen_get(d.get()), seen_wait(d.get_timeout(Duration::ZERO))))
            .unwrap();
    }));
    let p = Arc::clone(&probe);
    let runner = thread::spawn(move || p.run());
    wait_until("the probe to run", || probe.state() == State::Running);
    assert!(probe.cancel_and_interrupt());
    runner.join().unwrap();
    assert_eq!(rx.recv().unwrap(), (Seen::Value, Seen::Value));
}

#[test]
fn outside_a_task_waits_are_not_interruptible() {
    let pending = Arc::new(FutureTask::<u32, _>::pending());
    assert_eq!(
        seen_wait(pending.get_timeout(Duration::from_millis(30))),
        Seen::TimedOut
    );
    // Unparking a thread blocked in `get` (outside any task) does not make it return.
    let p = Arc::clone(&pending);
    let getter = thread::spawn(move || seen_get(p.get()));
    wait_until("the getter to block", || pending.waiter_stack_len() == 1);
    for _ in 0..20 {
        getter.thread().unpark();
        thread::sleep(Duration::from_millis(2));
    }
    assert!(!getter.is_finished(), "an unpark released a plain get");
    pending.set(3).unwrap();
    assert_eq!(getter.join().unwrap(), Seen::Value);
}

#[test]
fn a_task_that_is_not_interrupted_waits_normally() {
    let pool = ThreadPool::new(2).unwrap();
    let other = Arc::new(FutureTask::<u32, _>::pending());
    let o = Arc::clone(&other);
    let h = pool
        .submit(move || seen_wait(o.get_timeout(Duration::from_secs(30))))
        .unwrap();
    wait_until("the task to block", || other.waiter_stack_len() == 1);
    // Unrelated unparks of the worker do not turn into an interrupt.
    other.set(9).unwrap();
    assert_eq!(*h.get().unwrap(), Seen::Value);
}

/// After `run()` returns, this thread's next `park_timeout(500 ms)` must return at once: an
/// unrelated unpark arrived while the task was being cancelled with interrupt. `park_in_closure`:
/// the closure parks until interrupted (it consumes the canceller's wakeup) or polls without
/// parking (the canceller's wakeup and the unrelated one fall on the same permit).
fn unrelated_unpark_survives(park_in_closure: bool) {
    let started = Arc::new(AtomicBool::new(false));
    let saw = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicBool::new(false));
    let (st, sa, se) = (Arc::clone(&started), Arc::clone(&saw), Arc::clone(&sent));
    let task = Arc::new(FutureTask::new(move || {
        st.store(true, SeqCst);
        while !current::is_interrupted() {
            if park_in_closure {
                thread::park();
            } else {
                thread::yield_now();
            }
        }
        sa.store(true, SeqCst);
        // Stay in the closure until the unrelated unpark has been sent (after this closure's
        // last park, so nothing but `run` can consume it).
        while !se.load(SeqCst) {
            thread::yield_now();
        }
    }));
    let t = Arc::clone(&task);
    let runner = thread::spawn(move || {
        assert!(t.run());
        let t0 = Instant::now();
        thread::park_timeout(Duration::from_millis(500));
        t0.elapsed()
    });
    wait_until("the closure to start", || started.load(SeqCst));
    thread::sleep(Duration::from_millis(5));
    assert!(task.cancel_and_interrupt());
    wait_until("the closure to see the interrupt", || saw.load(SeqCst));
    runner.thread().unpark(); // unrelated: someone else signals the runner thread
    sent.store(true, SeqCst);
    let slept = runner.join().unwrap();
    assert!(
        slept < Duration::from_millis(250),
        "park_in_closure={park_in_closure}: run() swallowed an unrelated unpark (the next park \
         slept {slept:?})"
    );
}

#[test]
fn run_keeps_an_unrelated_unpark_after_cancel_true_closure_parks() {
    unrelated_unpark_survives(true);
}

#[test]
fn run_keeps_an_unrelated_unpark_after_cancel_true_closure_polls() {
    unrelated_unpark_survives(false);
}

#[test]
fn snapshot_tells_interrupted_from_plain_cancels_and_whether_it_started() {
    let plain = FutureTask::new(|| 1u32);
    plain.cancel();
    let s = plain.snapshot();
    assert_eq!(
        (s.state(), s.started(), s.interrupted()),
        (State::Cancelled, false, false)
    );

    let started = Arc::new(AtomicBool::new(false));
    let st = Arc::clone(&started);
    let running = Arc::new(FutureTask::new(move || {
        st.store(true, SeqCst);
        while !current::is_interrupted() {
            thread::yield_now();
        }
    }));
    let r = Arc::clone(&running);
    let runner = thread::spawn(move || r.run());
    wait_until("the closure to start", || started.load(SeqCst));
    assert_eq!(running.snapshot().state(), State::Running);
    assert!(running.cancel_and_interrupt());
    runner.join().unwrap();
    let s = running.snapshot();
    assert_eq!(
        (s.state(), s.started(), s.interrupted()),
        (State::Cancelled, true, true)
    );

    let done = FutureTask::new(|| 3u32);
    done.run();
    let s = done.snapshot();
    assert_eq!(
        (s.state(), s.started(), s.interrupted()),
        (State::Success, true, false)
    );
}

#[test]
fn invoke_all_in_an_interrupted_task_cancels_the_rest_and_returns() {
    let pool = Arc::new(ThreadPool::new(3).unwrap());
    let p = Arc::clone(&pool);
    let (tx, rx) = mpsc::channel();
    let outer = pool
        .submit(move || {
            let hs = p
                .invoke_all(
                    (0..2).map(|_| {
                        || {
                            while !current::is_interrupted() {
                                thread::park_timeout(Duration::from_millis(5));
                            }
                        }
                    }),
                    None,
                )
                .unwrap();
            tx.send(hs.iter().all(|h| h.is_cancelled())).unwrap();
        })
        .unwrap();
    wait_until("the outer task to run", || outer.state() == State::Running);
    thread::sleep(Duration::from_millis(20));
    assert!(outer.cancel_and_interrupt());
    assert!(
        rx.recv_timeout(PROMPT).unwrap(),
        "every returned handle is done: the unfinished ones were cancelled"
    );
    pool.shutdown();
    assert!(pool.await_termination(PROMPT));
}

/// The executor's waits on many tasks (the completion inbox), blocked inside a pool task.
#[derive(Clone, Copy, Debug)]
enum Tool {
    AsCompleted,
    AsCompletedTimed,
    Wait,
    Take,
    PollTimeout,
    InvokeAny,
}

/// A pool task blocks in `tool` on a task nobody completes; `how` must release it promptly with
/// the tool's interrupted error (I12), and the pool must terminate. Never hangs: if the pool does
/// not terminate in time (the waits ignore the interrupt), the awaited task is completed to let
/// the blocked worker go before the test fails.
fn blocked_in_inbox_is_released(tool: Tool, how: Release) {
    let pool = Arc::new(ThreadPool::new(3).unwrap());
    let other = Arc::new(FutureTask::<u32, _>::pending());
    let (tx, rx) = mpsc::channel();
    let (o, p) = (other.handle(), Arc::clone(&pool));
    let h = pool
        .submit(move || {
            let long = Some(Duration::from_secs(3600));
            let seen = match tool {
                Tool::AsCompleted | Tool::AsCompletedTimed => {
                    let timeout = if matches!(tool, Tool::AsCompleted) {
                        None
                    } else {
                        long
                    };
                    match as_completed(vec![o], timeout).next().unwrap() {
                        Ok(_) => "value".to_owned(),
                        Err(Incomplete::Interrupted(e)) => {
                            format!("interrupted {}/{}", e.unfinished(), e.total())
                        }
                        Err(e) => format!("other error: {e}"),
                    }
                }
                Tool::Wait => {
                    let (done, not_done) = wait(vec![o], ReturnWhen::AllCompleted, None);
                    match (done.len(), not_done.len(), current::is_interrupted()) {
                        (0, 1, true) => "interrupted 1/1".to_owned(),
                        r => format!("other {r:?}"),
                    }
                }
                Tool::Take | Tool::PollTimeout => {
                    let mut cs = CompletionService::detached();
                    cs.add(o);
                    let r = if matches!(tool, Tool::Take) {
                        cs.take().map_err(Incomplete::from)
                    } else {
                        cs.poll_timeout(Duration::from_secs(3600))
                    };
                    match r {
                        Ok(_) => "value".to_owned(),
                        Err(Incomplete::Interrupted(e)) => {
                            assert_eq!(cs.outstanding(), 1, "the service stays usable");
                            format!("interrupted {}/{}", e.unfinished(), e.total())
                        }
                        Err(e) => format!("other error: {e}"),
                    }
                }
                Tool::InvokeAny => {
                    let inner = (0..2).map(|_| {
                        let o = o.clone();
                        move || o.get().map_or(0, |v| *v)
                    });
                    match p.invoke_any(inner, None) {
                        Err(InvokeAnyError::Interrupted) => "interrupted 1/1".to_owned(),
                        Ok(_) => "value".to_owned(),
                        Err(e) => format!("other error: {e}"),
                    }
                }
            };
            tx.send(seen).unwrap();
        })
        .unwrap();
    let blocked_nodes = if matches!(tool, Tool::InvokeAny) {
        2
    } else {
        1
    };
    wait_until("the task to block", || {
        h.state() == State::Running && other.waiter_stack_len() == blocked_nodes
    });
    thread::sleep(Duration::from_millis(20)); // let it sleep
    let t0 = Instant::now();
    match how {
        Release::CancelTrue => {
            assert!(h.cancel_and_interrupt());
            pool.shutdown();
        }
        Release::ShutdownNow => {
            assert!(pool.shutdown_now().is_empty());
        }
    }
    let terminated = pool.await_termination(PROMPT);
    let elapsed = t0.elapsed();
    if !terminated {
        other.set(0).unwrap(); // let the blocked worker go, then fail
    }
    let seen = rx.recv_timeout(PROMPT).unwrap();
    assert!(
        terminated,
        "{tool:?} {how:?}: a task blocked in the inbox kept the pool alive (it saw {seen})"
    );
    // `shutdown_now` also cancels invoke_any's own subtasks; if their notices are queued before
    // the consumer wakes, it reports them first (done means done): all of them cancelled.
    let all_cancelled = matches!((tool, how), (Tool::InvokeAny, Release::ShutdownNow))
        && seen == "other error: invoke_any: every task failed; the last: task was cancelled";
    assert!(
        seen == "interrupted 1/1" || all_cancelled,
        "{tool:?} {how:?}: a distinct error: not a timeout, not the other task's outcome; saw \
         {seen}"
    );
    assert!(elapsed < PROMPT);
    assert!(!other.is_done(), "the awaited task is untouched");
    assert_eq!(
        other.waiter_stack_len(),
        0,
        "I6: the interrupted wait left its registration"
    );
    other.set(1).unwrap();
}

#[test]
fn as_completed_in_a_pool_task_is_released_by_cancel_true() {
    blocked_in_inbox_is_released(Tool::AsCompleted, Release::CancelTrue);
}

#[test]
fn as_completed_timed_in_a_pool_task_is_released_by_shutdown_now() {
    blocked_in_inbox_is_released(Tool::AsCompletedTimed, Release::ShutdownNow);
}

#[test]
fn wait_in_a_pool_task_is_released_by_cancel_true() {
    blocked_in_inbox_is_released(Tool::Wait, Release::CancelTrue);
}

#[test]
fn completion_service_take_in_a_pool_task_is_released_by_shutdown_now() {
    blocked_in_inbox_is_released(Tool::Take, Release::ShutdownNow);
}

#[test]
fn completion_service_poll_in_a_pool_task_is_released_by_cancel_true() {
    blocked_in_inbox_is_released(Tool::PollTimeout, Release::CancelTrue);
}

#[test]
fn invoke_any_in_a_pool_task_is_released_by_cancel_true() {
    blocked_in_inbox_is_released(Tool::InvokeAny, Release::CancelTrue);
}

#[test]
fn invoke_any_in_a_pool_task_is_released_by_shutdown_now() {
    blocked_in_inbox_is_released(Tool::InvokeAny, Release::ShutdownNow);
}

#[test]
fn an_interrupted_consumer_still_takes_a_queued_notice() {
    // Done means done: a notice already in the inbox is returned before the interrupt.
    let done = Arc::new(FutureTask::new(|| 7u32));
    done.run();
    let d = Arc::clone(&done);
    let (tx, rx) = mpsc::channel();
    let probe = Arc::new(FutureTask::new(move || {
        while !current::is_interrupted() {
            thread::yield_now();
        }
        let first = as_completed(vec![d.handle()], None).next().unwrap();
        let mut cs = CompletionService::detached();
        cs.add(d.handle());
        let taken = cs.take();
        tx.send((
            first.map(|t| *t.get().unwrap()).ok(),
            taken.ok().flatten().map(|t| *t.get().unwrap()),
        ))
        .unwrap();
    }));
    let p = Arc::clone(&probe);
    let runner = thread::spawn(move || p.run());
    wait_until("the probe to run", || probe.state() == State::Running);
    assert!(probe.cancel_and_interrupt());
    runner.join().unwrap();
    assert_eq!(rx.recv().unwrap(), (Some(7), Some(7)));
}

#[test]
fn outside_a_task_the_inbox_ignores_unparks() {
    let pending = Arc::new(FutureTask::<u32, _>::pending());
    let p = pending.handle();
    let consumer = thread::spawn(move || {
        let mut cs = CompletionService::detached();
        cs.add(p);
        cs.take().map(|t| t.map(|t| *t.get().unwrap()))
    });
    wait_until("the consumer to block", || pending.waiter_stack_len() == 1);
    for _ in 0..20 {
        consumer.thread().unpark();
        thread::sleep(Duration::from_millis(2));
    }
    assert!(!consumer.is_finished(), "an unpark released a plain take");
    pending.set(3).unwrap();
    assert_eq!(consumer.join().unwrap(), Ok(Some(3)));
}
