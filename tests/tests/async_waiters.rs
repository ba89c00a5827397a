//! Async acceptance: `get_async()` and `when_done()` under tokio (multi-thread and current-thread) and
//! `futures::executor::block_on`; a re-poll with a new waker wakes the newest waker only; dropping
//! a pending future (directly, through `select!`/`timeout`, or racing completion) leaves nothing
//! on the waiter stack.

use futures::task::{waker, ArcWake};
use futuretask::{Error, FutureTask};
use futuretask_tests::support::Tier;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

struct CountingWaker(AtomicUsize);

impl ArcWake for CountingWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.fetch_add(1, SeqCst);
    }
}

fn counting() -> (Arc<CountingWaker>, std::task::Waker) {
    let c = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let w = waker(Arc::clone(&c));
    (c, w)
}

#[test]
fn tokio_multi_thread_many_waiters() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        for round in 0..50u32 {
            let task = Arc::new(FutureTask::new(move || round * 2));
            let mut hs = Vec::new();
            for i in 0..8 {
                let t = Arc::clone(&task);
                hs.push(tokio::spawn(async move {
                    if i % 2 == 0 {
                        *t.get_async().await.unwrap()
                    } else {
                        *t.handle().when_done().await.get().unwrap()
                    }
                }));
            }
            tokio::task::yield_now().await;
            let t = Arc::clone(&task);
            tokio::task::spawn_blocking(move || t.run()).await.unwrap();
            for h in hs {
                assert_eq!(h.await.unwrap(), round * 2);
            }
            assert_eq!(task.waiter_stack_len(), 0);
        }
    });
}

#[test]
fn tokio_current_thread_woken_from_another_thread_and_from_inside() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        // Completed by a plain thread.
        let task = Arc::new(FutureTask::new(|| 5u32));
        let t = Arc::clone(&task);
        let h = thread::spawn(move || {
            thread::sleep(Duration::from_millis(5));
            t.run()
        });
        assert_eq!(*task.get_async().await.unwrap(), 5);
        h.join().unwrap();
        // Completed by another task on the same (single) thread.
        let (p, task) = futuretask::promise::<u32>();
        let waiter = tokio::spawn(task.clone().when_done());
        tokio::task::yield_now().await;
        assert_eq!(task.waiter_stack_len(), 1);
        tokio::spawn(async move { p.set(6).unwrap() })
            .await
            .unwrap();
        assert_eq!(*waiter.await.unwrap().get().unwrap(), 6);
        // Cancelled while awaited.
        let task = Arc::new(FutureTask::new(|| 0u32));
        let w = tokio::spawn(task.handle().when_done());
        tokio::task::yield_now().await;
        task.cancel_and_interrupt();
        assert!(matches!(w.await.unwrap().get(), Err(Error::Cancelled)));
    });
}

#[test]
fn futures_block_on() {
    let task = Arc::new(FutureTask::new(|| 9u32));
    let t = Arc::clone(&task);
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(5));
        t.run()
    });
    assert_eq!(*futures::executor::block_on(task.get_async()).unwrap(), 9);
    h.join().unwrap();
    // Already done: ready on the first poll.
    assert_eq!(*futures::executor::block_on(task.get_async()).unwrap(), 9);
    let done = futures::executor::block_on(task.handle().when_done());
    assert_eq!(*done.get().unwrap(), 9);
}

#[test]
fn repoll_with_a_new_waker_wakes_only_the_newest() {
    let task = Arc::new(FutureTask::new(|| 1u32));
    let (a, wa) = counting();
    let (b, wb) = counting();
    let (c, wc) = counting();
    let mut f = pin!(task.get_async());
    assert!(f.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(f.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    assert!(f.as_mut().poll(&mut Context::from_waker(&wb)).is_pending()); // same waker: kept
    assert_eq!(
        task.waiter_stack_len(),
        1,
        "one node per future, however often polled"
    );
    task.run();
    assert_eq!(a.0.load(SeqCst), 0, "the replaced waker is not woken");
    assert_eq!(
        b.0.load(SeqCst),
        1,
        "the newest waker is woken exactly once"
    );
    assert!(matches!(
        f.as_mut().poll(&mut Context::from_waker(&wc)),
        Poll::Ready(Ok(1))
    ));
    assert_eq!(c.0.load(SeqCst), 0);
}

#[test]
fn repoll_racing_completion_always_wakes_the_newest() {
    let tier = Tier::current();
    let rounds = tier.count("FT_REPOLL_ROUNDS", 2_000, 50_000);
    tier.announce("re-poll vs completion", &format!("{rounds} rounds"));
    for i in 0..rounds {
        let task = Arc::new(FutureTask::new(|| 1u32));
        let mut f = Box::pin(task.handle().when_done());
        let (first, w1) = counting();
        assert!(f.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
        let t = Arc::clone(&task);
        let h = thread::spawn(move || {
            for _ in 0..(i % 50) {
                std::hint::spin_loop();
            }
            t.run()
        });
        let (last, w2) = counting();
        let ready = f.as_mut().poll(&mut Context::from_waker(&w2)).is_ready();
        h.join().unwrap();
        let (n1, n2) = (first.0.load(SeqCst), last.0.load(SeqCst));
        if ready {
            // Completion won before the re-poll (or during it): at most the first waker was
            // woken, and the future resolved.
            assert!(n1 + n2 <= 1, "round {i}: woken {n1}+{n2} times");
        } else {
            // The re-poll registered w2 before completion: w2 (only) must be woken.
            assert_eq!(
                (n1, n2),
                (0, 1),
                "round {i}: the newest waker must be woken"
            );
            assert!(f.as_mut().poll(&mut Context::from_waker(&w2)).is_ready());
        }
        drop(f);
        assert_eq!(task.waiter_stack_len(), 0);
    }
}

#[test]
fn dropping_pending_futures_leaves_the_stack_empty() {
    let task = Arc::new(FutureTask::new(|| 1u32));
    let (_c, w) = counting();
    {
        let mut futs: Vec<_> = (0..100).map(|_| Box::pin(task.get_async())).collect();
        for f in &mut futs {
            assert!(f.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
        }
        assert_eq!(task.waiter_stack_len(), 100);
        // Drop every other one, then the rest.
        let mut i = 0;
        futs.retain(|_| {
            i += 1;
            i % 2 == 0
        });
        assert_eq!(task.waiter_stack_len(), 50);
    }
    assert_eq!(task.waiter_stack_len(), 0);
    // A never-polled future is not on the stack at all.
    let f = task.handle().when_done();
    assert_eq!(task.waiter_stack_len(), 0);
    drop(f);
    // tokio::time::timeout and select! drop the losing future.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..20 {
            let r = tokio::time::timeout(Duration::from_micros(100), task.get_async()).await;
            assert!(r.is_err());
            tokio::select! {
                _ = task.handle().when_done() => unreachable!(),
                _ = tokio::task::yield_now() => {}
            }
        }
    });
    assert_eq!(task.waiter_stack_len(), 0);
    task.run();
    assert_eq!(task.waiter_stack_len(), 0);
}

#[test]
fn dropping_futures_racing_completion() {
    let tier = Tier::current();
    let rounds = tier.count("FT_DROP_ROUNDS", 1_000, 30_000);
    tier.announce("drop future vs completion", &format!("{rounds} rounds"));
    for i in 0..rounds {
        let task = Arc::new(FutureTask::new(|| 3u32));
        let t = Arc::clone(&task);
        let dropper = thread::spawn(move || {
            let (_c, w) = counting();
            let mut futs: Vec<_> = (0..4).map(|_| Box::pin(t.handle().when_done())).collect();
            for f in &mut futs {
                let _ = f.as_mut().poll(&mut Context::from_waker(&w));
            }
            for _ in 0..(i % 100) {
                std::hint::spin_loop();
            }
            drop(futs);
        });
        for _ in 0..(i % 37) {
            std::hint::spin_loop();
        }
        task.run();
        dropper.join().unwrap();
        assert_eq!(task.waiter_stack_len(), 0);
        assert_eq!(Arc::strong_count(&task), 1);
    }
}

struct PanickingWaker;

impl ArcWake for PanickingWaker {
    fn wake_by_ref(_: &Arc<Self>) {
        panic!("waker panics on purpose");
    }
}

/// A waker that panics while the completer wakes a batch must not strand the untimed waiters
/// released before it: they sleep on the task's shared word, and the batch's one wake-up (H6)
/// runs while the panic unwinds (I3). The panic itself reaches the completer's caller.
#[test]
fn panicking_waker_does_not_strand_released_sleepers() {
    let task = Arc::new(FutureTask::<u32, _>::pending());
    // The async waiter is pushed first, so the walk (newest first) releases the sleeper before
    // it reaches the panicking waker.
    let mut fut = Box::pin(task.get_async());
    let w = waker(Arc::new(PanickingWaker));
    assert!(fut.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
    let (tx, rx) = std::sync::mpsc::channel();
    let t = Arc::clone(&task);
    let sleeper = thread::spawn(move || tx.send(*t.get().unwrap()).unwrap());
    while task.waiter_stack_len() < 2 {
        thread::sleep(Duration::from_millis(1));
    }
    // Let the sleeper get past its spin and into the futex wait.
    thread::sleep(Duration::from_millis(20));
    let t = Arc::clone(&task);
    let completed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.set(9)));
    assert!(
        completed.is_err(),
        "the waker's panic reaches the completer"
    );
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Ok(9),
        "I3: a sleeper released before the panicking waker was never woken"
    );
    sleeper.join().unwrap();
    drop(fut);
}
