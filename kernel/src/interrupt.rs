//! Cooperative interruption. Rust cannot interrupt a thread, so `cancel(true)` (I5):
//! 1. moves the task to INTERRUPTING, which the running closure observes through
//!    [`interrupted()`] (a thread-local pointer to the state word of the task this thread is
//!    running), and
//! 2. unparks the runner thread, so a closure parked in a `while !interrupted() { park() }` loop
//!    wakes up.
//!
//! The signal is the task's own state, scoped to the run: the thread-local is restored when the
//! closure returns, and `run` does not return while the canceller is still between its CAS and
//! INTERRUPTED, so nothing of the interrupt reaches the next task the thread runs.

use crate::protocol as p;
use crate::sync::{thread_local, AtomicUsize, Ordering::Acquire};
use std::cell::Cell;
use std::ptr;

thread_local! {
    #[allow(clippy::missing_const_for_thread_local)]
    static CURRENT: Cell<*const AtomicUsize> = Cell::new(ptr::null());
}

/// Whether the task this thread is running was cancelled with `cancel(true)`.
///
/// Returns `false` outside of a task's closure. A closure that blocks should poll this, or park in
/// a loop that checks it (the canceller unparks the runner).
///
/// ```
/// use futuretask::{interrupted, FutureTask};
/// use std::{sync::mpsc, thread};
///
/// assert!(!interrupted()); // outside a task's closure
/// let (started, on_start) = mpsc::channel();
/// let task = FutureTask::new(move || {
///     started.send(()).unwrap();
///     while !interrupted() {
///         thread::park(); // `cancel(true)` unparks this thread
///     }
/// });
/// thread::scope(|s| {
///     let runner = s.spawn(|| task.run());
///     on_start.recv().unwrap();
///     assert!(task.cancel(true));
///     assert!(runner.join().unwrap()); // the closure saw the interrupt and returned
/// });
/// assert!(task.snapshot().interrupted());
/// ```
pub fn interrupted() -> bool {
    current_state().is_some_and(p::is_interrupted)
}

/// Whether the task this thread is running was cancelled in any way (with or without interrupt);
/// its result will be discarded, so a cooperative closure may stop early.
///
/// ```
/// use futuretask::{cancelled, interrupted, FutureTask};
/// use std::{sync::mpsc, thread};
///
/// assert!(!cancelled()); // outside a task's closure
/// let (started, on_start) = mpsc::channel();
/// let (saw, on_saw) = mpsc::channel();
/// let task = FutureTask::new(move || {
///     started.send(()).unwrap();
///     while !cancelled() {
///         thread::yield_now(); // a plain cancel does not unpark: poll
///     }
///     saw.send(interrupted()).unwrap();
/// });
/// thread::scope(|s| {
///     s.spawn(|| task.run());
///     on_start.recv().unwrap();
///     assert!(task.cancel(false));
/// });
/// assert!(!on_saw.recv().unwrap()); // cancelled, but not interrupted
/// ```
pub fn cancelled() -> bool {
    current_state().is_some_and(p::is_cancelled)
}

/// Whether this thread is running a task's closure (inside [`FutureTask::run`]). A blocking wait
/// made there can be interrupted by a `cancel(true)` of that task, which unparks this thread: a
/// wait built outside this crate parks (rather than waiting on a condition variable) while this
/// is `true`, and re-checks [`interrupted()`] after every wakeup.
///
/// [`FutureTask::run`]: crate::FutureTask::run
///
/// ```
/// use futuretask::{in_task, FutureTask};
///
/// assert!(!in_task());
/// let task = FutureTask::new(in_task);
/// task.run();
/// assert!(*task.get().unwrap());
/// assert!(!in_task()); // the scope ends with the run
/// ```
pub fn in_task() -> bool {
    in_run()
}

/// Whether this thread is running a task's closure: its blocking waits are then interruptible
/// (they park, so the canceller's unpark reaches them, and re-check [`interrupted()`]).
#[inline]
pub(crate) fn in_run() -> bool {
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
