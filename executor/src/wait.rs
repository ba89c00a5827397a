//! Waiting on many tasks: [`as_completed`] and [`wait`].
//!
//! Both register one waiter node per pending task that feeds an inbox (`inbox.rs`), so nothing
//! polls. A task's waiters are released the moment it completes *or is cancelled*, so
//! cancellation wakes these waits immediately — unlike CPython, where a cancelled future only
//! notifies `wait`/`as_completed` once a worker dequeues it (gh-92001). A wait that returns or
//! times out unlinks every node it still has registered: polling with a timeout leaves nothing
//! behind on the tasks (I6).

use crate::inbox::{watch, Inbox, Recv, Watch};
use crate::sync::Deadline;
use futuretask::{Error, State, TaskHandle};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The deadline passed with tasks still pending: how many of how many (CPython's
/// `TimeoutError: 2 (of 4) futures unfinished`).
///
/// ```
/// use futuretask::promise;
/// use futuretask_executor::as_completed;
/// use std::time::Duration;
///
/// let (_p, pending) = promise::<u8>();
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
    /// use futuretask::FutureTask;
    /// use futuretask_executor::as_completed;
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let (a, b) = (Arc::new(FutureTask::new(|| 1)), Arc::new(FutureTask::new(|| 2)));
    /// a.run();
    /// let mut it = as_completed([a.handle(), b.handle()], Some(Duration::from_millis(1)));
    /// assert!(it.next().unwrap().is_ok()); // `a`
    /// assert_eq!(it.next().unwrap().unwrap_err().unfinished(), 1); // `b` never ran
    /// ```
    pub fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// How many tasks the wait was over.
    ///
    /// ```
    /// use futuretask::FutureTask;
    /// use futuretask_executor::as_completed;
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let tasks: Vec<_> = (1..=3).map(|i| Arc::new(FutureTask::new(move || i)).handle()).collect();
    /// let mut it = as_completed(tasks, Some(Duration::ZERO));
    /// assert_eq!(it.next().unwrap().unwrap_err().total(), 3);
    /// ```
    pub fn total(&self) -> usize {
        self.total
    }

    /// How many had finished: `total - unfinished`.
    ///
    /// ```
    /// use futuretask::FutureTask;
    /// use futuretask_executor::as_completed;
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let (a, b) = (Arc::new(FutureTask::new(|| 1)), Arc::new(FutureTask::new(|| 2)));
    /// a.run();
    /// let mut it = as_completed([a.handle(), b.handle()], Some(Duration::ZERO));
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

impl From<TimedOut> for Error {
    /// The counts dropped: [`Error::TimedOut`].
    ///
    /// ```
    /// use futuretask::{promise, Error};
    /// use futuretask_executor::as_completed;
    /// use std::time::Duration;
    ///
    /// let (_p, pending) = promise::<u8>();
    /// let e = as_completed([pending], Some(Duration::ZERO)).next().unwrap().unwrap_err();
    /// assert!(Error::from(e).is_timed_out());
    /// ```
    fn from(_: TimedOut) -> Self {
        Error::TimedOut
    }
}

/// The waiting thread is running a task's closure, and that task was cancelled with interrupt
/// (`cancel_and_interrupt`, or its pool's `shutdown_now`) while it waited: the wait gave up at
/// once, with this many of how many tasks unfinished. The tasks waited on are left alone. The
/// analogue of [`Error::Interrupted`] for the waits on many tasks (Java's
/// `InterruptedException` from `take` / `poll` / `invokeAny`), and converts into it; see I12.
///
/// ```
/// use futuretask_executor::{as_completed, Incomplete, ThreadPool};
/// use futuretask::{promise, State};
/// use std::sync::mpsc;
///
/// let pool = ThreadPool::new(1).unwrap();
/// let (_p, never) = promise::<u8>();
/// let (tx, rx) = mpsc::channel();
/// let waiter = pool
///     .submit(move || tx.send(as_completed(vec![never], None).next().map(|r| r.map(drop))))
///     .unwrap();
/// while waiter.state() != State::Running {
///     std::thread::yield_now();
/// }
/// waiter.cancel_and_interrupt(); // the waiting task is cancelled with interrupt
/// let Some(Err(Incomplete::Interrupted(e))) = rx.recv().unwrap() else { panic!() };
/// assert_eq!((e.unfinished(), e.total()), (1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interrupted {
    unfinished: usize,
    total: usize,
}

impl Interrupted {
    pub(crate) fn new(unfinished: usize, total: usize) -> Self {
        Interrupted { unfinished, total }
    }

    /// How many tasks were not finished (or not yet yielded) when the wait was interrupted.
    ///
    /// ```
    /// use futuretask_executor::{as_completed, Incomplete, ThreadPool};
    /// use futuretask::{promise, State};
    /// use std::sync::mpsc;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (_p, never) = promise::<u8>();
    /// let (tx, rx) = mpsc::channel();
    /// let waiter = pool
    ///     .submit(move || tx.send(as_completed(vec![never], None).next().map(|r| r.map(drop))))
    ///     .unwrap();
    /// while waiter.state() != State::Running {
    ///     std::thread::yield_now();
    /// }
    /// waiter.cancel_and_interrupt(); // the waiting task is cancelled with interrupt
    /// let Some(Err(Incomplete::Interrupted(e))) = rx.recv().unwrap() else { panic!() };
    /// assert_eq!((e.unfinished(), e.total()), (1, 1));
    /// ```
    pub fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// How many tasks the wait was over.
    ///
    /// ```
    /// use futuretask_executor::{as_completed, Incomplete, ThreadPool};
    /// use futuretask::{promise, State};
    /// use std::sync::mpsc;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (_p, never) = promise::<u8>();
    /// let (tx, rx) = mpsc::channel();
    /// let waiter = pool
    ///     .submit(move || tx.send(as_completed(vec![never], None).next().map(|r| r.map(drop))))
    ///     .unwrap();
    /// while waiter.state() != State::Running {
    ///     std::thread::yield_now();
    /// }
    /// waiter.cancel_and_interrupt(); // the waiting task is cancelled with interrupt
    /// let Some(Err(Incomplete::Interrupted(e))) = rx.recv().unwrap() else { panic!() };
    /// assert_eq!((e.unfinished(), e.total()), (1, 1));
    /// ```
    pub fn total(&self) -> usize {
        self.total
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interrupted: the waiting task was cancelled with {} (of {}) futures unfinished",
            self.unfinished, self.total
        )
    }
}

impl std::error::Error for Interrupted {}

impl From<Interrupted> for Error {
    /// The counts dropped: [`Error::Interrupted`].
    ///
    /// ```
    /// use futuretask_executor::{CompletionService, ThreadPool};
    /// use futuretask::{current, promise, Error, State};
    /// use std::sync::mpsc;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (_p, never) = promise::<u8>();
    /// let (tx, rx) = mpsc::channel();
    /// let waiter = pool
    ///     .submit(move || {
    ///         let mut cs = CompletionService::detached();
    ///         cs.add(never);
    ///         while !current::is_interrupted() {
    ///             std::thread::yield_now();
    ///         }
    ///         tx.send(cs.take().map(drop).map_err(Error::from)).unwrap();
    ///     })
    ///     .unwrap();
    /// while waiter.state() != State::Running {
    ///     std::thread::yield_now();
    /// }
    /// waiter.cancel_and_interrupt();
    /// assert!(rx.recv().unwrap().unwrap_err().is_interrupted());
    /// ```
    fn from(_: Interrupted) -> Self {
        Error::Interrupted
    }
}

/// Why a wait on many tasks ([`as_completed`], [`CompletionService::poll_timeout`](
/// crate::CompletionService::poll_timeout)) ended with tasks unfinished.
///
/// ```
/// use futuretask::promise;
/// use futuretask_executor::{as_completed, Incomplete};
/// use std::time::Duration;
///
/// let (_p, pending) = promise::<u8>();
/// let e = as_completed(vec![pending], Some(Duration::ZERO)).next().unwrap().unwrap_err();
/// assert!(matches!(e, Incomplete::TimedOut(_)));
/// assert_eq!((e.unfinished(), e.total()), (1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Incomplete {
    /// The deadline passed.
    TimedOut(TimedOut),
    /// The waiting thread's own run was cancelled with interrupt (I12).
    Interrupted(Interrupted),
}

impl Incomplete {
    /// How many tasks were not finished (or not yet yielded) when the wait ended.
    ///
    /// ```
    /// use futuretask::{promise, FutureTask};
    /// use futuretask_executor::as_completed;
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let (done, (_p, never)) = (Arc::new(FutureTask::new(|| 1)), promise::<i32>());
    /// done.run();
    /// let mut it = as_completed(vec![done.handle(), never], Some(Duration::ZERO));
    /// assert!(it.next().unwrap().is_ok());
    /// let e = it.next().unwrap().unwrap_err();
    /// assert!(e.is_timeout());
    /// assert_eq!((e.unfinished(), e.total(), e.finished()), (1, 2, 1));
    /// ```
    pub fn unfinished(&self) -> usize {
        match self {
            Incomplete::TimedOut(e) => e.unfinished(),
            Incomplete::Interrupted(e) => e.unfinished(),
        }
    }

    /// How many tasks the wait was over.
    ///
    /// ```
    /// use futuretask::{promise, FutureTask};
    /// use futuretask_executor::as_completed;
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let (done, (_p, never)) = (Arc::new(FutureTask::new(|| 1)), promise::<i32>());
    /// done.run();
    /// let mut it = as_completed(vec![done.handle(), never], Some(Duration::ZERO));
    /// assert!(it.next().unwrap().is_ok());
    /// let e = it.next().unwrap().unwrap_err();
    /// assert!(e.is_timeout());
    /// assert_eq!((e.unfinished(), e.total(), e.finished()), (1, 2, 1));
    /// ```
    pub fn total(&self) -> usize {
        match self {
            Incomplete::TimedOut(e) => e.total(),
            Incomplete::Interrupted(e) => e.total(),
        }
    }

    /// How many had finished: `total - unfinished`.
    ///
    /// ```
    /// use futuretask::{promise, FutureTask};
    /// use futuretask_executor::as_completed;
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let (done, (_p, never)) = (Arc::new(FutureTask::new(|| 1)), promise::<i32>());
    /// done.run();
    /// let mut it = as_completed(vec![done.handle(), never], Some(Duration::ZERO));
    /// assert!(it.next().unwrap().is_ok());
    /// let e = it.next().unwrap().unwrap_err();
    /// assert!(e.is_timeout());
    /// assert_eq!((e.unfinished(), e.total(), e.finished()), (1, 2, 1));
    /// ```
    pub fn finished(&self) -> usize {
        self.total() - self.unfinished()
    }

    /// Whether the deadline passed (as opposed to an interrupt).
    ///
    /// ```
    /// use futuretask::{promise, FutureTask};
    /// use futuretask_executor::as_completed;
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let (done, (_p, never)) = (Arc::new(FutureTask::new(|| 1)), promise::<i32>());
    /// done.run();
    /// let mut it = as_completed(vec![done.handle(), never], Some(Duration::ZERO));
    /// assert!(it.next().unwrap().is_ok());
    /// let e = it.next().unwrap().unwrap_err();
    /// assert!(e.is_timeout());
    /// assert_eq!((e.unfinished(), e.total(), e.finished()), (1, 2, 1));
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Incomplete::TimedOut(_))
    }
}

impl From<TimedOut> for Incomplete {
    fn from(e: TimedOut) -> Self {
        Incomplete::TimedOut(e)
    }
}

impl From<Interrupted> for Incomplete {
    fn from(e: Interrupted) -> Self {
        Incomplete::Interrupted(e)
    }
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Incomplete::TimedOut(e) => fmt::Display::fmt(e, f),
            Incomplete::Interrupted(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for Incomplete {
    /// Transparent over the error it wraps (it displays that error's message), so its source is
    /// that error's own: a chain names each message once.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Incomplete::TimedOut(e) => std::error::Error::source(e),
            Incomplete::Interrupted(e) => std::error::Error::source(e),
        }
    }
}

impl From<Incomplete> for Error {
    /// The counts dropped: [`Error::TimedOut`] or [`Error::Interrupted`].
    ///
    /// ```
    /// use futuretask::{promise, Error};
    /// use futuretask_executor::CompletionService;
    /// use std::time::Duration;
    ///
    /// let (_p, pending) = promise::<u8>();
    /// let mut cs = CompletionService::detached();
    /// cs.add(pending);
    /// let e = cs.poll_timeout(Duration::ZERO).unwrap_err();
    /// assert!(Error::from(e).is_timed_out());
    /// ```
    fn from(e: Incomplete) -> Self {
        match e {
            Incomplete::TimedOut(e) => e.into(),
            Incomplete::Interrupted(e) => e.into(),
        }
    }
}

/// `timeout` as a deadline: `None` when there is none or it is too large for the clock.
pub(crate) fn deadline_after(timeout: Option<Duration>) -> Option<Deadline> {
    timeout.and_then(Deadline::after)
}

/// Iterator returned by [`as_completed`]: each task once, as it finishes (completes, fails or is
/// cancelled); `Err(Incomplete::TimedOut)` once if the deadline passes first, then the end;
/// `Err(Incomplete::Interrupted)` once, then the end, if the iterating thread runs a task that is
/// cancelled with interrupt while it waits (I12).
///
/// ```
/// use futuretask::FutureTask;
/// use futuretask_executor::as_completed;
/// use std::sync::Arc;
///
/// let first = Arc::new(FutureTask::new(|| "first"));
/// let second = Arc::new(FutureTask::new(|| "second"));
/// second.run(); // finishes first
/// let mut it = as_completed([first.handle(), second.handle()], None);
/// assert_eq!(*it.next().unwrap().unwrap().get().unwrap(), "second");
/// first.cancel(); // a cancellation counts as finishing
/// assert!(it.next().unwrap().unwrap().is_cancelled());
/// assert!(it.next().is_none());
/// ```
pub struct AsCompleted<T> {
    tasks: Vec<Option<TaskHandle<T>>>,
    /// The registration of each task not yet yielded (none for one already done when watched).
    watches: Vec<Option<Watch<T>>>,
    inbox: Arc<Inbox>,
    left: usize,
    deadline: Option<Deadline>,
    /// The wait gave up (deadline or interrupt): the iterator has ended.
    timed_out: bool,
}

/// Yield `tasks` in the order they finish (Python's `concurrent.futures.as_completed`).
/// Tasks already finished come first. With `timeout`, an `Err(Incomplete::TimedOut)` is yielded
/// if the deadline passes while some are still pending; the pending ones are left alone (see
/// [`AsCompleted::into_pending`]). A duplicate handle is yielded once per occurrence. Iterated
/// inside a task's closure, a wait that would block ends with `Err(Incomplete::Interrupted)` once
/// that task is cancelled with interrupt (I12).
///
/// Each pending task carries one waiter node of this iterator until it is yielded; the nodes
/// still registered are unlinked when the deadline passes and when the iterator is dropped, so
/// polling in a loop with a short timeout leaves nothing behind (I6).
///
/// ```
/// use futuretask_executor::{as_completed, ThreadPool};
///
/// let pool = ThreadPool::new(2).unwrap();
/// let handles: Vec<_> = (1..=4).map(|i| pool.submit(move || i).unwrap()).collect();
/// let mut seen: Vec<i32> = as_completed(handles, None)
///     .map(|h| *h.unwrap().get().unwrap()) // each handle is done: `get` never blocks
///     .collect();
/// seen.sort();
/// assert_eq!(seen, [1, 2, 3, 4]); // each task exactly once
/// ```
pub fn as_completed<T, I>(tasks: I, timeout: Option<Duration>) -> AsCompleted<T>
where
    I: IntoIterator<Item = TaskHandle<T>>,
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

impl<T> AsCompleted<T> {
    /// The tasks not yielded yet, in their original order.
    ///
    /// ```
    /// use futuretask::{FutureTask, TaskHandle};
    /// use futuretask_executor::as_completed;
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let done = Arc::new(FutureTask::new(|| 1));
    /// let waiting = Arc::new(FutureTask::new(|| 2)).handle();
    /// done.run();
    /// let mut it = as_completed([done.handle(), waiting.clone()], Some(Duration::ZERO));
    /// assert!(it.next().unwrap().is_ok());
    /// assert!(it.next().unwrap().is_err()); // timed out
    /// let pending = it.into_pending();
    /// assert!(pending.len() == 1 && TaskHandle::ptr_eq(&pending[0], &waiting)); // left alone
    /// ```
    pub fn into_pending(mut self) -> Vec<TaskHandle<T>> {
        self.watches.clear();
        self.tasks.drain(..).flatten().collect()
    }
}

impl<T> Iterator for AsCompleted<T> {
    type Item = Result<TaskHandle<T>, Incomplete>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 || self.timed_out {
            return None;
        }
        let interrupted = match self.inbox.recv(self.deadline) {
            Recv::Notice(i) => {
                self.left -= 1;
                // The node was released (DONE): dropping the watch only frees it.
                self.watches[i] = None;
                return Some(Ok(self.tasks[i].take().expect("each task posts once")));
            }
            Recv::TimedOut => false,
            Recv::Interrupted => true,
        };
        // Give up (the deadline passed, or this thread's run was interrupted): unlink every node
        // still registered (I6).
        self.timed_out = true;
        drop(std::mem::take(&mut self.watches));
        let total = self.tasks.len();
        Some(Err(if interrupted {
            Interrupted::new(self.left, total).into()
        } else {
            TimedOut::new(self.left, total).into()
        }))
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

impl<T> fmt::Debug for AsCompleted<T> {
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
/// use futuretask_executor::{wait, ReturnWhen};
/// use futuretask::FutureTask;
/// use std::sync::Arc;
///
/// let (bad, good) = (Arc::new(FutureTask::new(|| -> u8 { panic!("x") })), Arc::new(FutureTask::new(|| 2)));
/// let tasks = vec![bad.handle(), good.handle()];
/// bad.run(); // fails; the other is still pending
/// let (done, not_done) = wait(tasks.clone(), ReturnWhen::FirstException, None);
/// assert_eq!((done.len(), not_done.len()), (1, 1)); // returned at the first failure
/// let (done, _) = wait(tasks.clone(), ReturnWhen::FirstCompleted, None);
/// assert_eq!(done.len(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
/// use futuretask_executor::{wait, DoneAndNotDone, ReturnWhen};
/// use futuretask::FutureTask;
/// use std::{sync::Arc, time::Duration};
///
/// let (first, second) = (Arc::new(FutureTask::new(|| 1)), Arc::new(FutureTask::new(|| 2)));
/// let tasks = vec![first.handle(), second.handle()];
/// second.run();
/// let (done, not_done): DoneAndNotDone<i32> =
///     wait(tasks, ReturnWhen::AllCompleted, Some(Duration::from_millis(1)));
/// assert_eq!(*done[0].get().unwrap(), 2);
/// assert!(!not_done[0].is_done()); // the deadline passed first
/// ```
pub type DoneAndNotDone<T> = (Vec<TaskHandle<T>>, Vec<TaskHandle<T>>);

/// Wait for `tasks` until `when` holds or `timeout` passes; returns `(done, not_done)`, each in
/// the original order (Python's `concurrent.futures.wait`). Returns at once if the condition
/// already holds.
///
/// Called inside a task's closure, a wait that would block returns at once, like a timeout, when
/// that task is cancelled with interrupt (I12); [`futuretask::current::is_interrupted`] then
/// tells the two apart.
///
/// ```
/// use futuretask_executor::{wait, ReturnWhen, ThreadPool};
///
/// let pool = ThreadPool::new(2).unwrap();
/// let handles: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
/// let (done, not_done) = wait(handles, ReturnWhen::AllCompleted, None);
/// assert_eq!((done.len(), not_done.len()), (3, 0));
/// assert!(done.iter().all(|h| h.is_done())); // in the original order
/// ```
pub fn wait<T, I>(tasks: I, when: ReturnWhen, timeout: Option<Duration>) -> DoneAndNotDone<T>
where
    I: IntoIterator<Item = TaskHandle<T>>,
{
    let deadline = deadline_after(timeout);
    let tasks: Vec<_> = tasks.into_iter().collect();
    let failed = |t: &TaskHandle<T>| t.state() == State::Failed;
    let any_failed = tasks.iter().any(failed);
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
                Recv::Notice(i) => {
                    done += 1;
                    any_failed |= failed(&tasks[i]);
                }
                Recv::TimedOut | Recv::Interrupted => break,
            }
        }
        // Unlink the nodes of the tasks still pending before returning (I6).
        drop(watches);
    }
    tasks.into_iter().partition(|t| t.is_done())
}
