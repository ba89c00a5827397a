//! Foreign code may panic (I11): the kernel's own quick checks. The fault injector, the models
//! and the acceptance suite are in `models/` and `tests/`.

use futuretask::FutureTask;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::{Context, RawWaker, RawWakerVTable, Waker};
use std::thread;
use std::time::Duration;

const PROMPT: Duration = Duration::from_secs(5);

/// A waker that does nothing (`NOOP`), or whose `clone` (`CLONE`) or `wake` (`WAKE`) panics; it
/// holds no data.
fn faulty_waker(vtable: &'static RawWakerVTable) -> Waker {
    // SAFETY: the vtable's functions ignore the (null) data pointer.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), vtable)) }
}
unsafe fn noop(_: *const ()) {}
unsafe fn ok_clone(_: *const ()) -> RawWaker {
    RawWaker::new(std::ptr::null(), &WAKE)
}
unsafe fn panic_clone(_: *const ()) -> RawWaker {
    panic!("planted: clone")
}
unsafe fn panic_wake(_: *const ()) {
    panic!("planted: wake")
}
unsafe fn noop_clone(_: *const ()) -> RawWaker {
    RawWaker::new(std::ptr::null(), &NOOP)
}
static NOOP: RawWakerVTable = RawWakerVTable::new(noop_clone, noop, noop, noop);
static WAKE: RawWakerVTable = RawWakerVTable::new(ok_clone, panic_wake, panic_wake, noop);
static CLONE: RawWakerVTable = RawWakerVTable::new(panic_clone, noop, noop, noop);

struct Bomb<'a>(&'a AtomicUsize);
impl Drop for Bomb<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
        if !thread::panicking() {
            panic!("planted: drop");
        }
    }
}

#[test]
fn a_panicking_wake_strands_no_older_sleeper() {
    let task = Arc::new(FutureTask::<u32, _>::pending());
    let (tx, rx) = mpsc::channel();
    let t = Arc::clone(&task);
    thread::spawn(move || tx.send(*t.get().unwrap()).unwrap());
    while task.waiter_stack_len() == 0 {
        thread::yield_now();
    }
    let mut fut = pin!(task.get_async());
    let waker = faulty_waker(&WAKE);
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    assert!(catch_unwind(AssertUnwindSafe(|| task.set(4))).is_err());
    assert_eq!(
        rx.recv_timeout(PROMPT),
        Ok(4),
        "the older waiter was stranded"
    );
}

#[test]
fn a_panicking_clone_on_repoll_leaves_the_node_releasable() {
    let task = Arc::new(FutureTask::<u32, _>::pending());
    let mut fut = Box::pin(task.get_async());
    let good = faulty_waker(&NOOP);
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&good))
        .is_pending());
    let bad = faulty_waker(&CLONE);
    let polled = catch_unwind(AssertUnwindSafe(|| {
        let _ = fut.as_mut().poll(&mut Context::from_waker(&bad));
    }));
    assert!(polled.is_err());
    let (tx, rx) = mpsc::channel();
    let t = Arc::clone(&task);
    thread::spawn(move || tx.send(t.set(8).is_ok()).unwrap());
    assert_eq!(rx.recv_timeout(PROMPT), Ok(true), "the completer hangs");
}

#[test]
fn a_dropped_task_drops_every_foreign_value_once() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let (b1, b2, b3) = (Bomb(&DROPS), Bomb(&DROPS), Bomb(&DROPS));
    let task = FutureTask::new(move || drop(b1));
    task.add_done_callback(move |_| drop(b2));
    task.add_done_callback(move |_| drop(b3));
    assert!(catch_unwind(AssertUnwindSafe(move || drop(task))).is_err());
    assert_eq!(DROPS.load(SeqCst), 3);
}
