//! Acceptance: foreign code may panic (I11). Wakers, callbacks, closures and values are user
//! code; whatever they do, the protocol finishes — the state is terminal, the stack CLOSED,
//! every waiter released and woken, every callback run once — and the panic then reaches the
//! caller that triggered it, or is isolated where the contract says so.

use futuretask::{promise, Error, FutureTask, State};
use futuretask_models::fault::{planted_panic, quiet_planted_panics, Bombs, Fault, FaultyWaker};
use futuretask_models::poll_once;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::thread;
use std::time::Duration;

/// How long a test waits for something that must happen "promptly" before calling it a hang.
const PROMPT: Duration = Duration::from_secs(5);

/// The first program: a panicking `wake` in the middle of a batch strands nobody.
#[test]
fn a_panicking_wake_strands_no_older_waiter_and_no_later_callback() {
    quiet_planted_panics();
    let task = Arc::new(FutureTask::<u32, _>::pending());
    let (tx, rx) = mpsc::channel();
    let getter = {
        let task = Arc::clone(&task);
        thread::spawn(move || {
            let r = task.get_timeout(Duration::from_secs(2)).copied();
            tx.send(format!("{r:?}")).unwrap();
        })
    };
    // Let the timed getter link its node first (it is then older than the async waiter).
    while task.waiter_stack_len() == 0 {
        thread::yield_now();
    }
    let bad = FaultyWaker::new(Fault::Wake);
    let mut fut = pin!(task.get_async());
    assert!(poll_once(fut.as_mut(), &bad.waker()).is_pending());

    let msg = planted_panic(|| task.set(7)).expect("the waker's panic reaches `set`'s caller");
    assert!(msg.contains("waker wake"));
    assert_eq!(bad.wakes(), 1, "the panicking waker was called once");
    assert_eq!(
        rx.recv_timeout(PROMPT)
            .expect("the older timed waiter returns"),
        "Ok(7)"
    );
    getter.join().unwrap();
    assert_eq!(task.state(), State::Success);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    task.add_done_callback(move |v| {
        assert_eq!(v.copied().ok(), Some(7));
        r.fetch_add(1, SeqCst);
    });
    assert_eq!(
        ran.load(SeqCst),
        1,
        "a callback added after `set` runs at once"
    );
    let good = FaultyWaker::new(Fault::Never);
    assert!(matches!(
        poll_once(fut.as_mut(), &good.waker()),
        Poll::Ready(Ok(7))
    ));
}

/// The second program: a panicking `clone` on a re-poll leaves no node UPDATING.
#[test]
fn a_panicking_clone_on_repoll_does_not_hang_the_completer() {
    quiet_planted_panics();
    let task = Arc::new(FutureTask::<u32, _>::pending());
    let good = FaultyWaker::new(Fault::Never);
    let bad = FaultyWaker::new(Fault::Clone);
    let mut fut = Box::pin(task.get_async());
    assert!(poll_once(fut.as_mut(), &good.waker()).is_pending());
    let msg = planted_panic(|| poll_once(fut.as_mut(), &bad.waker()))
        .expect("the clone's panic unwinds out of the poll");
    assert!(msg.contains("waker clone"));

    let (tx, rx) = mpsc::channel();
    let setter = {
        let task = Arc::clone(&task);
        thread::spawn(move || tx.send(task.set(5).is_ok()).unwrap())
    };
    assert!(rx.recv_timeout(PROMPT).expect("`set` returns"), "set won");
    setter.join().unwrap();
    assert_eq!(good.wakes(), 1, "the waker that stayed registered is woken");
    assert!(matches!(
        poll_once(fut.as_mut(), &good.waker()),
        Poll::Ready(Ok(5))
    ));
    drop(fut);
    assert_eq!(
        good.live() + bad.live(),
        0,
        "every waker the kernel stored was dropped"
    );
}

/// A panicking clone on the first poll: nothing is registered, the future stays usable.
#[test]
fn a_panicking_clone_on_first_poll_registers_nothing() {
    quiet_planted_panics();
    let task = FutureTask::<u32, _>::pending();
    let bad = FaultyWaker::new(Fault::Clone);
    let mut fut = pin!(task.get_async());
    assert!(planted_panic(|| poll_once(fut.as_mut(), &bad.waker())).is_some());
    assert_eq!(task.waiter_stack_len(), 0);
    let good = FaultyWaker::new(Fault::Never);
    assert!(poll_once(fut.as_mut(), &good.waker()).is_pending());
    task.set(1).unwrap();
    assert_eq!(good.wakes(), 1);
    assert!(matches!(
        poll_once(fut.as_mut(), &good.waker()),
        Poll::Ready(Ok(1))
    ));
}

/// Several panicking wakers in one batch: every waiter is woken, the first panic is resumed.
#[test]
fn every_waker_of_a_batch_is_woken_when_several_panic() {
    quiet_planted_panics();
    let task = FutureTask::<u32, _>::pending();
    let wakers: Vec<_> = [Fault::Wake, Fault::Never, Fault::Wake, Fault::Never]
        .into_iter()
        .map(FaultyWaker::new)
        .collect();
    let mut futs: Vec<_> = wakers.iter().map(|_| Box::pin(task.get_async())).collect();
    for (f, w) in futs.iter_mut().zip(&wakers) {
        assert!(poll_once(f.as_mut(), &w.waker()).is_pending());
    }
    assert!(planted_panic(|| task.cancel()).is_some());
    assert!(
        wakers.iter().all(|w| w.wakes() == 1),
        "each waker woken once"
    );
    assert!(task.is_cancelled());
    drop(futs);
    assert!(wakers.iter().all(|w| w.live() == 0));
}

/// A panicking waker drop of an abandoned future is the future's owner's: the remover (and the
/// completer) never runs it.
#[test]
fn an_abandoned_futures_waker_is_dropped_by_its_owner() {
    quiet_planted_panics();
    let task = FutureTask::<u32, _>::pending();
    let bad = FaultyWaker::new(Fault::Drop);
    let mut fut = Box::pin(task.get_async());
    let w = bad.waker();
    assert!(poll_once(fut.as_mut(), &w).is_pending());
    std::mem::forget(w); // the test's own handle would panic on drop; only the kernel's counts
    assert!(
        planted_panic(move || drop(fut)).is_some(),
        "the owner's drop raises it"
    );
    assert_eq!(
        task.waiter_stack_len(),
        0,
        "the node was unlinked all the same"
    );
    task.set(3).unwrap();
    assert_eq!(*task.get().unwrap(), 3);
}

/// A panicking value drop on a lost completion: `run` finishes its protocol, then raises it.
#[test]
fn a_late_result_whose_drop_panics_is_raised_after_run_finishes() {
    quiet_planted_panics();
    let bombs = Bombs::new();
    let next = FutureTask::new(|| 1u32);
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let bombs2 = Arc::clone(&bombs);
    let task2 = Arc::new(FutureTask::new(move || {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        bombs2.bomb()
    }));
    let t2 = Arc::clone(&task2);
    let runner = thread::spawn(move || planted_panic(|| t2.run()));
    started_rx.recv().unwrap();
    assert!(task2.cancel_and_interrupt());
    go_tx.send(()).unwrap();
    let msg = runner
        .join()
        .unwrap()
        .expect("the late value's drop panics in `run`");
    assert!(msg.contains("value drop"));
    assert!(matches!(task2.get(), Err(Error::Cancelled)));
    assert_eq!(bombs.dropped(), 1);
    // The thread's next task is not affected (the runner left `run` through R7).
    assert!(next.run());
    assert!(!futuretask::current::is_interrupted());
    assert_eq!(*next.get().unwrap(), 1);
}

/// A task dropped with panicking foreign drops frees every one of them.
#[test]
fn a_dropped_task_frees_everything_whatever_its_drops_do() {
    quiet_planted_panics();
    // Pending, dropped with its closure and two callbacks unrun: three panicking drops.
    let bombs = Bombs::new();
    let (b1, b2, b3) = (bombs.bomb(), bombs.bomb(), bombs.bomb());
    let task = FutureTask::new(move || drop(b1));
    task.add_done_callback(move |_| drop(b2));
    task.add_done_callback(move |_| drop(b3));
    assert!(planted_panic(move || drop(task)).is_some());
    assert_eq!(bombs.dropped(), 3, "every foreign value was dropped once");

    // Set without running: the unclaimed closure and the outcome both panic on drop.
    let bombs = Bombs::new();
    let b1 = bombs.bomb();
    let task = FutureTask::new(move || b1);
    assert!(task.set(bombs.bomb()).is_ok());
    assert!(planted_panic(move || drop(task)).is_some());
    assert_eq!(bombs.dropped(), 2);
}

/// A promise whose writer drops with a panicking waker registered: the waiters still learn.
#[test]
fn a_dropped_promise_with_a_panicking_waker_still_fails_its_task() {
    quiet_planted_panics();
    let (p, task) = promise::<u32>();
    let bad = FaultyWaker::new(Fault::Wake);
    let mut fut = pin!(task.get_async());
    assert!(poll_once(fut.as_mut(), &bad.waker()).is_pending());
    assert!(planted_panic(move || drop(p)).is_some());
    match task.get() {
        Err(Error::Failed(f)) => assert!(f.is_broken_promise()),
        other => panic!("unexpected {other:?}"),
    }
}

/// A panicking callback body or capture drop is isolated; the others and the waiters go on.
#[test]
fn callbacks_are_isolated_from_each_other() {
    quiet_planted_panics();
    let bombs = Bombs::new();
    let task = FutureTask::<u32, _>::pending();
    let ran = Arc::new(AtomicUsize::new(0));
    let b = bombs.bomb();
    task.add_done_callback(move |_| {
        let _b = b; // its drop panics at the end of the body
    });
    task.add_done_callback(|_| panic!("ft-planted callback body"));
    let r = Arc::clone(&ran);
    task.add_done_callback(move |_| {
        r.fetch_add(1, SeqCst);
    });
    task.set(9).unwrap();
    assert_eq!(ran.load(SeqCst), 1);
    assert_eq!(bombs.dropped(), 1);
}

/// A pool worker survives a task whose completion wakes a panicking waker.
#[test]
fn a_pool_worker_survives_a_panicking_waker() {
    quiet_planted_panics();
    let pool = futuretask_executor::ThreadPool::new(1).unwrap();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let h = pool
        .submit(move || go_rx.recv().map(|_| 1u32).unwrap_or(0))
        .unwrap();
    let bad = FaultyWaker::new(Fault::Wake);
    let mut fut = Box::pin(h.get_async());
    assert!(poll_once(fut.as_mut(), &bad.waker()).is_pending());
    go_tx.send(()).unwrap();
    assert_eq!(*h.get().unwrap(), 1);
    let h2 = pool.submit(|| 2u32).unwrap();
    assert_eq!(
        *h2.get_timeout(PROMPT).expect("the worker is still alive"),
        2
    );
    drop(fut);
    assert_eq!(bad.wakes(), 1);
}
