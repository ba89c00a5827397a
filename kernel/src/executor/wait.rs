//! Waiting on many tasks: [`as_completed`] and [`wait`].
//!
//! Both register one waiter node per pending task that feeds an inbox (`inbox.rs`), so nothing
//! polls. A task's waiters are released the moment it completes *or is cancelled*, so
//! cancellation wakes these waits immediately — unlike CPython, where a cancelled future only
//! notifies `wait`/`as_completed` once a worker dequeues it (gh-92001). A wait that returns or
//! times out unlinks every node it still has registered: polling with a timeout leaves nothing
//! behind on the tasks (I6).

use super::inbox::{watch, Inbox, Watch};
use crate::failure::State;
use crate::sync::Deadline;
use crate::task::{FutureTask, Job};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The deadline passed with tasks still pending: how many of how many (CPython's
/// `TimeoutError: 2 (of 4) futures unfinished`).
///
/// ```
/// use futuretask::{executor::as_completed, FutureTask};
/// use std::time::Duration;
///
/// let pending = std::sync::Arc::new(FutureTask::<u8, _>::pending());
/// let mut it = as_completed(vec![pending], Some(Duration::ZERO));
/// let e = it.next().unwrap().unwrap_err();
/// assert_eq!((e.unfinished(), e.total()), (1, 1));
/// assert_eq!(e.to_string(), "1 (of 1) futures unfinished");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimedOut {
    unfinished: usize,
    total: usize,
}

impl TimedOut {
    pub(crate) fn new(unfinished: usize, total: usize) -> Self {
        TimedOut { unfinished, total }
    }

    /// How many tasks were not finished (or not yet yielded) when the deadline passed.
    pub fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// How many tasks the wait was over.
    pub fn total(&self) -> usize {
        self.total
    }

    /// How many had finished: `total - unfinished`.
    pub fn finished(&self) -> usize {
        self.total - self.unfinished
    }
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (of {}) futures unfinished",
            self.unfinished, self.total
        )
    }
}

impl std::error::Error for TimedOut {}

/// `timeout` as a deadline: `None` when there is none or it is too large for the clock.
pub(crate) fn deadline_after(timeout: Option<Duration>) -> Option<Deadline> {
    timeout.and_then(Deadline::after)
}

/// Iterator returned by [`as_completed`]: each task once, as it finishes (completes, fails or is
/// cancelled); `Err(TimedOut)` once if the deadline passes first, then the end.
pub struct AsCompleted<T, J: ?Sized + Job<T> = dyn Job<T>> {
    tasks: Vec<Option<Arc<FutureTask<T, J>>>>,
    /// The registration of each task not yet yielded (none for one already done when watched).
    watches: Vec<Option<Watch<T, J>>>,
    inbox: Arc<Inbox>,
    left: usize,
    deadline: Option<Deadline>,
    timed_out: bool,
}

/// Yield `tasks` in the order they finish (Python's `concurrent.futures.as_completed`).
/// Tasks already finished come first. With `timeout`, an `Err(TimedOut)` is yielded if the
/// deadline passes while some are still pending; the pending ones are left alone (see
/// [`AsCompleted::into_pending`]). A duplicate handle is yielded once per occurrence.
///
/// Each pending task carries one waiter node of this iterator until it is yielded; the nodes
/// still registered are unlinked when the deadline passes and when the iterator is dropped, so
/// polling in a loop with a short timeout leaves nothing behind (I6).
pub fn as_completed<T, J, I>(tasks: I, timeout: Option<Duration>) -> AsCompleted<T, J>
where
    I: IntoIterator<Item = Arc<FutureTask<T, J>>>,
    J: ?Sized + Job<T>,
{
    let deadline = deadline_after(timeout);
    let tasks: Vec<_> = tasks.into_iter().map(Some).collect();
    let inbox = Inbox::new();
    let watches = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| t.as_ref().and_then(|t| watch(&inbox, t, i)))
        .collect();
    AsCompleted {
        left: tasks.len(),
        tasks,
        watches,
        inbox,
        deadline,
        timed_out: false,
    }
}

impl<T, J: ?Sized + Job<T>> AsCompleted<T, J> {
    /// The tasks not yielded yet, in their original order.
    pub fn into_pending(mut self) -> Vec<Arc<FutureTask<T, J>>> {
        self.watches.clear();
        self.tasks.drain(..).flatten().collect()
    }
}

impl<T, J: ?Sized + Job<T>> Iterator for AsCompleted<T, J> {
    type Item = Result<Arc<FutureTask<T, J>>, TimedOut>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 || self.timed_out {
            return None;
        }
        match self.inbox.recv(self.deadline) {
            Some(i) => {
                self.left -= 1;
                // The node was released (DONE): dropping the watch only frees it.
                self.watches[i] = None;
                Some(Ok(self.tasks[i].take().expect("each task posts once")))
            }
            None => {
                self.timed_out = true;
                // Give up: unlink every node still registered (I6).
                drop(std::mem::take(&mut self.watches));
                Some(Err(TimedOut::new(self.left, self.tasks.len())))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.left == 0 || self.timed_out {
            (0, Some(0))
        } else if self.deadline.is_some() {
            (1, Some(self.left))
        } else {
            (self.left, Some(self.left))
        }
    }
}

impl<T, J: ?Sized + Job<T>> fmt::Debug for AsCompleted<T, J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("left", &self.left)
            .field("timed_out", &self.timed_out)
            .finish_non_exhaustive()
    }
}

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task is done (completed, failed or cancelled).
    FirstCompleted,
    /// As soon as any task fails (a cancellation is not a failure); otherwise when all are done.
    FirstException,
    /// When every task is done.
    AllCompleted,
}

/// What [`wait`] returns: `(done, not_done)` (Python's `DoneAndNotDoneFutures`).
pub type DoneAndNotDone<T, J = dyn Job<T>> =
    (Vec<Arc<FutureTask<T, J>>>, Vec<Arc<FutureTask<T, J>>>);

/// Wait for `tasks` until `when` holds or `timeout` passes; returns `(done, not_done)`, each in
/// the original order (Python's `concurrent.futures.wait`). Returns at once if the condition
/// already holds.
pub fn wait<T, J, I>(tasks: I, when: ReturnWhen, timeout: Option<Duration>) -> DoneAndNotDone<T, J>
where
    I: IntoIterator<Item = Arc<FutureTask<T, J>>>,
    J: ?Sized + Job<T>,
{
    let deadline = deadline_after(timeout);
    let tasks: Vec<_> = tasks.into_iter().collect();
    let failed = |t: &FutureTask<T, J>| t.state() == State::Failed;
    let any_failed = tasks.iter().any(|t| failed(t));
    let done = tasks.iter().filter(|t| t.is_done()).count();
    let satisfied = |done: usize, any_failed: bool| match when {
        ReturnWhen::FirstCompleted => done > 0 || tasks.is_empty(),
        ReturnWhen::FirstException => any_failed || done == tasks.len(),
        ReturnWhen::AllCompleted => done == tasks.len(),
    };
    if !satisfied(done, any_failed) {
        // Watch every task not done now; each posts exactly once (at once if it finished since
        // the scan), so `done` counts the rest plus the notices.
        let inbox = Inbox::new();
        let mut done = 0;
        let mut any_failed = any_failed;
        let mut watches = Vec::with_capacity(tasks.len());
        for (i, t) in tasks.iter().enumerate() {
            if t.is_done() {
                done += 1;
                any_failed |= failed(t);
            } else {
                watches.push(watch(&inbox, t, i));
            }
        }
        while !satisfied(done, any_failed) {
            match inbox.recv(deadline) {
                Some(i) => {
                    done += 1;
                    any_failed |= failed(&tasks[i]);
                }
                None => break,
            }
        }
        // Unlink the nodes of the tasks still pending before returning (I6).
        drop(watches);
    }
    tasks.into_iter().partition(|t| t.is_done())
}
