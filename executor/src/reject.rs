//! Refused submissions: the full-queue [`Policy`], why a submission was refused
//! ([`RejectReason`]) and the refusal itself ([`Rejected`]), which hands the closure back (I10).

use futuretask::{Closure, FutureTask};
use std::fmt;
use std::sync::Arc;

/// What a submission does when the bounded queue is full.
///
/// ```
/// use futuretask_executor::{Policy, ThreadPool};
/// use std::thread;
///
/// assert_eq!(Policy::default(), Policy::Block);
/// let pool = ThreadPool::builder().workers(1).queue_bound(1).when_full(Policy::CallerRuns);
/// let pool = pool.build().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// pool.execute(move || drop(rx.recv())).unwrap(); // occupies the only worker
/// while pool.queued() != 0 {
///     thread::yield_now();
/// }
/// pool.execute(|| {}).unwrap(); // fills the queue
/// let here = pool.submit(|| thread::current().id()).unwrap(); // full: runs right here
/// assert_eq!(*here.try_get().unwrap().unwrap(), thread::current().id());
/// drop(tx);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Policy {
    /// Block the submitter until there is room (or the pool shuts down, which rejects).
    #[default]
    Block,
    /// Reject at once: the closure comes back in [`Rejected`] with [`RejectReason::QueueFull`].
    Reject,
    /// Run the task on the submitting thread (Java's `CallerRunsPolicy`): a natural brake on a
    /// producer that outpaces the pool. The returned handle is already done.
    CallerRuns,
}

/// Why a submission was refused.
///
/// ```
/// use futuretask_executor::{Policy, RejectReason, ThreadPool};
///
/// let pool = ThreadPool::builder().workers(1).queue_bound(1).when_full(Policy::Reject);
/// let pool = pool.build().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// pool.execute(move || drop(rx.recv())).unwrap(); // occupies the only worker
/// while pool.queued() != 0 {
///     std::thread::yield_now();
/// }
/// pool.execute(|| {}).unwrap(); // fills the queue
/// assert_eq!(pool.execute(|| {}).unwrap_err().reason, RejectReason::QueueFull);
/// drop(tx);
/// pool.shutdown();
/// assert_eq!(pool.execute(|| {}).unwrap_err().reason, RejectReason::Shutdown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The pool was shut down (`shutdown`, `shutdown_now` or drop) before the submission.
    Shutdown,
    /// The bounded queue was full and the policy is [`Policy::Reject`].
    QueueFull,
}

/// A refused submission: the closure is handed back, never dropped silently (I10).
///
/// ```
/// use futuretask_executor::{RejectReason, ThreadPool};
///
/// let pool = ThreadPool::new(1).unwrap();
/// pool.shutdown();
/// let refused = pool.submit(|| 40 + 2).unwrap_err();
/// assert_eq!(refused.reason, RejectReason::Shutdown);
/// assert_eq!((refused.task)(), 42); // the closure comes back, never lost
/// ```
pub struct Rejected<F> {
    /// The closure that was not queued.
    pub task: F,
    /// Why.
    pub reason: RejectReason,
}

impl<F> Rejected<F> {
    /// The closure that was not queued.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// pool.shutdown();
    /// let f = pool.submit(|| "still callable").unwrap_err().into_inner();
    /// assert_eq!(f(), "still callable");
    /// ```
    pub fn into_inner(self) -> F {
        self.task
    }
}

impl<F> fmt::Debug for Rejected<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for Rejected<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            RejectReason::Shutdown => f.write_str("task rejected: the pool is shut down"),
            RejectReason::QueueFull => f.write_str("task rejected: the queue is full"),
        }
    }
}

impl<F> std::error::Error for Rejected<F> {}

/// A refused submission: the task was never shared (no queue entry, no handle), so its closure
/// is still in it, unclaimed; hand it back (I10: nothing is dropped silently).
pub(crate) fn refused<T, F: FnOnce() -> T + Send>(
    task: Arc<FutureTask<T, Closure<F>>>,
    reason: RejectReason,
) -> Rejected<F> {
    let task =
        Arc::try_unwrap(task).unwrap_or_else(|_| unreachable!("a refused task has no other owner"));
    Rejected {
        task: task.into_closure().expect("a refused task was never run"),
        reason,
    }
}
