//! What the current thread is running: whether it is inside a task's closure, and whether that
//! task was cancelled (Java's `Thread.interrupted()` / `isInterrupted()`, scoped to the task).
//!
//! Rust cannot interrupt a thread, so [`cancel_and_interrupt`](crate::FutureTask::cancel_and_interrupt)
//! (I5):
//! 1. moves the task to INTERRUPTING, which the running closure observes through
//!    [`is_interrupted`] (a thread-local pointer to the state word of the task this thread is
//!    running), and
//! 2. unparks the runner thread, so a closure parked in a `while !is_interrupted() { park() }`
//!    loop wakes up.
//!
//! The signal is the task's own state, scoped to the run: the thread-local is restored when the
//! closure returns, and `run` does not return while the canceller is still between its CAS and
//! INTERRUPTED, so nothing of the interrupt reaches the next task the thread runs.
//!
//! ```
//! use futuretask::{current, FutureTask};
//!
//! assert!(!current::in_task()); // this thread runs no task's closure
//! let task = FutureTask::new(|| (current::in_task(), current::is_cancelled()));
//! task.run();
//! assert_eq!(*task.get().unwrap(), (true, false));
//! ```

use crate::protocol as p;
use crate::sync::{thread_local, AtomicUsize, Ordering::Acquire};
use std::cell::Cell;
use std::ptr;

thread_local! {
    #[allow(clippy::missing_const_for_thread_local)]
    static CURRENT: Cell<*const AtomicUsize> = Cell::new(ptr::null());
}

/// Whether the task this thread is running was cancelled with
/// [`cancel_and_interrupt`](crate::FutureTask::cancel_and_interrupt) (Java's
/// `Thread.currentThread().isInterrupted()`, for the run only; reading it clears nothing).
///
/// Returns `false` outside of a task's closure. A closure that blocks should poll this, or park in
/// a loop that checks it (the canceller unparks the runner).
///
/// ```
/// use futuretask::{current, FutureTask};
/// use std::{sync::mpsc, thread};
///
/// assert!(!current::is_interrupted()); // outside a task's closure
/// let (started, on_start) = mpsc::channel();
/// let task = FutureTask::new(move || {
///     started.send(()).unwrap();
///     while !current::is_interrupted() {
///         thread::park(); // `cancel_and_interrupt` unparks this thread
///     }
/// });
/// thread::scope(|s| {
///     let runner = s.spawn(|| task.run());
///     on_start.recv().unwrap();
///     assert!(task.cancel_and_interrupt());
///     assert!(runner.join().unwrap()); // the closure saw the interrupt and returned
/// });
/// assert!(task.snapshot().interrupted());
/// ```
pub fn is_interrupted() -> bool {
    current_state().is_some_and(p::is_interrupted)
}

/// Whether the task this thread is running was cancelled in any way (with or without interrupt);
/// its result will be discarded, so a cooperative closure may stop early.
///
/// ```
/// use futuretask::{current, FutureTask};
/// use std::{sync::mpsc, thread};
///
/// assert!(!current::is_cancelled()); // outside a task's closure
/// let (started, on_start) = mpsc::channel();
/// let (saw, on_saw) = mpsc::channel();
/// let task = FutureTask::new(move || {
///     started.send(()).unwrap();
///     while !current::is_cancelled() {
///         thread::yield_now(); // a plain cancel does not unpark: poll
///     }
///     saw.send(current::is_interrupted()).unwrap();
/// });
/// thread::scope(|s| {
///     s.spawn(|| task.run());
///     on_start.recv().unwrap();
///     assert!(task.cancel());
/// });
/// assert!(!on_saw.recv().unwrap()); // cancelled, but not interrupted
/// ```
pub fn is_cancelled() -> bool {
    current_state().is_some_and(p::is_cancelled)
}

/// Whether this thread is running a task's closure (inside [`FutureTask::run`](crate::FutureTask::run)).
/// Its blocking waits are then interruptible: they park, so the canceller's unpark reaches them,
/// and re-check [`is_interrupted`]. An executor's own blocking primitives can ask this to do the
/// same.
///
/// ```
/// use futuretask::{current, FutureTask};
///
/// assert!(!current::in_task());
/// let task = FutureTask::new(current::in_task);
/// task.run();
/// assert!(*task.get().unwrap()); // true inside the closure
/// assert!(!current::in_task()); // and restored after it
/// ```
#[inline]
pub fn in_task() -> bool {
    !CURRENT.with(Cell::get).is_null()
}

fn current_state() -> Option<usize> {
    let cur = CURRENT.with(Cell::get);
    // SAFETY: CURRENT points at the state word of the task whose `run` is on this thread's stack
    // (set by `Scope::enter`, restored by its drop before `run` returns), so the task is alive (I5).
    (!cur.is_null()).then(|| unsafe { (*cur).load(Acquire) })
}

/// Marks this thread as running a task for the duration of the closure call.
pub(crate) struct Scope {
    prev: *const AtomicUsize,
}

impl Scope {
    pub(crate) fn enter(state: &AtomicUsize) -> Scope {
        let prev = CURRENT.with(|c| c.replace(state));
        Scope { prev }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}
