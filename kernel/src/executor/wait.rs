//! Waiting on many tasks: [`as_completed`] and [`wait`].
//!
//! Both hang a done-callback on every task that feeds an inbox (a small mutex-guarded queue with
//! a condition variable), so nothing polls. A task's callbacks run at the moment it completes *or
//! is cancelled*, so cancellation wakes these waits immediately — unlike CPython, where a
//! cancelled future only notifies `wait`/`as_completed` once a worker dequeues it (gh-92001).

use crate::failure::State;
use crate::sync::{self, Condvar, Deadline, Mutex};
use crate::task::{FutureTask, Job};
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The deadline passed with tasks still pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out waiting for tasks")
    }
}

impl std::error::Error for TimedOut {}

/// Completion notices: indices of finished tasks, in completion order.
pub(crate) struct Inbox {
    state: Mutex<InboxState>,
    cv: Condvar,
}

struct InboxState {
    ready: VecDeque<usize>,
    /// The consumer is blocked on `cv` (so a notice needs a `notify_one`).
    waiting: bool,
}

impl Inbox {
    pub(crate) fn new() -> Arc<Inbox> {
        Arc::new(Inbox {
            state: Mutex::new(InboxState {
                ready: VecDeque::new(),
                waiting: false,
            }),
            cv: Condvar::new(),
        })
    }

    /// Register a done-callback on `task` that posts `idx` (at once if it is already done).
    pub(crate) fn watch<T: 'static, J: ?Sized + Job<T>>(
        self: &Arc<Self>,
        task: &FutureTask<T, J>,
        idx: usize,
    ) {
        let inbox = Arc::clone(self);
        task.add_done_callback(move |_| inbox.post(idx));
    }

    fn post(&self, idx: usize) {
        let mut g = sync::lock(&self.state);
        g.ready.push_back(idx);
        let wake = g.waiting;
        drop(g);
        if wake {
            self.cv.notify_one();
        }
    }

    /// The next notice, or `None` once `deadline` has passed (single consumer).
    pub(crate) fn recv(&self, deadline: Option<Deadline>) -> Option<usize> {
        let mut g = sync::lock(&self.state);
        loop {
            if let Some(i) = g.ready.pop_front() {
                return Some(i);
            }
            g.waiting = true;
            g = match deadline {
                None => sync::wait(&self.cv, g),
                Some(d) => match d.remaining() {
                    Some(left) => sync::wait_timeout(&self.cv, &self.state, g, left),
                    None => {
                        g.waiting = false;
                        return None;
                    }
                },
            };
            g.waiting = false;
        }
    }
}

/// `timeout` as a deadline: `None` when there is none or it is too large for the clock.
pub(crate) fn deadline_after(timeout: Option<Duration>) -> Option<Deadline> {
    timeout.and_then(Deadline::after)
}

/// Iterator returned by [`as_completed`]: each task once, as it finishes (completes, fails or is
/// cancelled); `Err(TimedOut)` once if the deadline passes first, then the end.
pub struct AsCompleted<T, J: ?Sized + Job<T> = dyn Job<T>> {
    tasks: Vec<Option<Arc<FutureTask<T, J>>>>,
    inbox: Arc<Inbox>,
    left: usize,
    deadline: Option<Deadline>,
    timed_out: bool,
}

/// Yield `tasks` in the order they finish (Python's `concurrent.futures.as_completed`).
/// Tasks already finished come first. With `timeout`, an `Err(TimedOut)` is yielded if the
/// deadline passes while some are still pending; the pending ones are left alone (see
/// [`AsCompleted::into_pending`]). A duplicate handle is yielded once per occurrence.
pub fn as_completed<T, J, I>(tasks: I, timeout: Option<Duration>) -> AsCompleted<T, J>
where
    I: IntoIterator<Item = Arc<FutureTask<T, J>>>,
    T: 'static,
    J: ?Sized + Job<T>,
{
    let deadline = deadline_after(timeout);
    let tasks: Vec<_> = tasks.into_iter().map(Some).collect();
    let inbox = Inbox::new();
    for (i, t) in tasks.iter().enumerate() {
        if let Some(t) = t {
            inbox.watch(t, i);
        }
    }
    AsCompleted {
        left: tasks.len(),
        tasks,
        inbox,
        deadline,
        timed_out: false,
    }
}

impl<T, J: ?Sized + Job<T>> AsCompleted<T, J> {
    /// The tasks not yielded yet, in their original order.
    pub fn into_pending(mut self) -> Vec<Arc<FutureTask<T, J>>> {
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
                Some(Ok(self.tasks[i].take().expect("each task posts once")))
            }
            None => {
                self.timed_out = true;
                Some(Err(TimedOut))
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
    T: 'static,
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
        for (i, t) in tasks.iter().enumerate() {
            if t.is_done() {
                done += 1;
                any_failed |= failed(t);
            } else {
                inbox.watch(t, i);
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
    }
    tasks.into_iter().partition(|t| t.is_done())
}
