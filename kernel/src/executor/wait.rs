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
    ///
    /// ```
    /// use futuretask::{executor::as_completed, FutureTask};
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let (a, b) = (FutureTask::arc(|| 1), FutureTask::arc(|| 2));
    /// a.run();
    /// let mut it = as_completed([a, b], Some(Duration::from_millis(1)));
    /// assert!(it.next().unwrap().is_ok()); // `a`
    /// assert_eq!(it.next().unwrap().unwrap_err().unfinished(), 1); // `b` never ran
    /// ```
    pub fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// How many tasks the wait was over.
    ///
    /// ```
    /// use futuretask::{executor::as_completed, FutureTask};
    /// use std::time::Duration;
    ///
    /// let tasks = vec![FutureTask::arc(|| 1), FutureTask::arc(|| 2), FutureTask::arc(|| 3)];
    /// let mut it = as_completed(tasks, Some(Duration::ZERO));
    /// assert_eq!(it.next().unwrap().unwrap_err().total(), 3);
    /// ```
    pub fn total(&self) -> usize {
        self.total
    }

    /// How many had finished: `total - unfinished`.
    ///
    /// ```
    /// use futuretask::{executor::as_completed, FutureTask};
    /// use std::time::Duration;
    ///
    /// let (a, b) = (FutureTask::arc(|| 1), FutureTask::arc(|| 2));
    /// a.run();
    /// let mut it = as_completed([a, b], Some(Duration::ZERO));
    /// it.next(); // `a`, already done
    /// let e = it.next().unwrap().unwrap_err();
    /// assert_eq!((e.finished(), e.unfinished(), e.total()), (1, 1, 2));
    /// ```
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
///
/// ```
/// use futuretask::{executor::as_completed, FutureTask};
/// use std::sync::Arc;
///
/// let (first, second) = (FutureTask::arc(|| "first"), FutureTask::arc(|| "second"));
/// second.run(); // finishes first
/// let mut it = as_completed([Arc::clone(&first), Arc::clone(&second)], None);
/// assert_eq!(*it.next().unwrap().unwrap().get().unwrap(), "second");
/// first.cancel(false); // a cancellation counts as finishing
/// assert!(it.next().unwrap().unwrap().is_cancelled());
/// assert!(it.next().is_none());
/// ```
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
///
/// ```
/// use futuretask::executor::{as_completed, ThreadPool};
///
/// let pool = ThreadPool::new(2).unwrap();
/// let handles: Vec<_> = (1..=4).map(|i| pool.submit(move || i).unwrap()).collect();
/// let mut seen: Vec<i32> = as_completed(handles, None)
///     .map(|h| *h.unwrap().get().unwrap()) // each handle is done: `get` never blocks
///     .collect();
/// seen.sort();
/// assert_eq!(seen, [1, 2, 3, 4]); // each task exactly once
/// ```
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
    ///
    /// ```
    /// use futuretask::{executor::as_completed, FutureTask};
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let (done, waiting) = (FutureTask::arc(|| 1), FutureTask::arc(|| 2));
    /// done.run();
    /// let mut it = as_completed([done, Arc::clone(&waiting)], Some(Duration::ZERO));
    /// assert!(it.next().unwrap().is_ok());
    /// assert!(it.next().unwrap().is_err()); // timed out
    /// let pending = it.into_pending();
    /// assert!(pending.len() == 1 && Arc::ptr_eq(&pending[0], &waiting)); // left alone
    /// ```
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
///
/// ```
/// use futuretask::executor::{wait, ReturnWhen};
/// use futuretask::FutureTask;
///
/// let tasks = vec![FutureTask::arc(|| -> u8 { panic!("x") }), FutureTask::arc(|| 2)];
/// tasks[0].run(); // fails; the other is still pending
/// let (done, not_done) = wait(tasks.clone(), ReturnWhen::FirstException, None);
/// assert_eq!((done.len(), not_done.len()), (1, 1)); // returned at the first failure
/// let (done, _) = wait(tasks.clone(), ReturnWhen::FirstCompleted, None);
/// assert_eq!(done.len(), 1);
/// ```
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
///
/// ```
/// use futuretask::executor::{wait, DoneAndNotDone, ReturnWhen};
/// use futuretask::FutureTask;
/// use std::time::Duration;
///
/// let tasks = vec![FutureTask::arc(|| 1), FutureTask::arc(|| 2)];
/// tasks[1].run();
/// let (done, not_done): DoneAndNotDone<i32> =
///     wait(tasks, ReturnWhen::AllCompleted, Some(Duration::from_millis(1)));
/// assert_eq!(*done[0].get().unwrap(), 2);
/// assert!(!not_done[0].is_done()); // the deadline passed first
/// ```
pub type DoneAndNotDone<T, J = dyn Job<T>> =
    (Vec<Arc<FutureTask<T, J>>>, Vec<Arc<FutureTask<T, J>>>);

/// Wait for `tasks` until `when` holds or `timeout` passes; returns `(done, not_done)`, each in
/// the original order (Python's `concurrent.futures.wait`). Returns at once if the condition
/// already holds.
///
/// ```
/// use futuretask::executor::{wait, ReturnWhen, ThreadPool};
///
/// let pool = ThreadPool::new(2).unwrap();
/// let handles: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
/// let (done, not_done) = wait(handles, ReturnWhen::AllCompleted, None);
/// assert_eq!((done.len(), not_done.len()), (3, 0));
/// assert!(done.iter().all(|h| h.is_done())); // in the original order
/// ```
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
