//! [`ThreadPool::invoke_all`] and [`ThreadPool::invoke_any`] (Java's `invokeAll` / `invokeAny`).

use crate::inbox::{watch, Inbox, Recv};
use crate::job::cancel_all;
use crate::pool::ThreadPool;
use crate::reject::Rejected;
use crate::wait::deadline_after;
use futuretask::{Error, State, TaskHandle};
use std::fmt;
use std::time::Duration;

/// Why [`ThreadPool::invoke_any`] has no successful task to return.
///
/// ```
/// use futuretask_executor::{InvokeAnyError, ThreadPool};
///
/// let pool = ThreadPool::new(2).unwrap();
/// let none = pool.invoke_any(Vec::<fn() -> u8>::new(), None);
/// assert!(matches!(none, Err(InvokeAnyError::Empty)));
/// let all_bad = pool.invoke_any((0..2).map(|_| || -> u8 { panic!("bad") }), None);
/// let Err(InvokeAnyError::AllFailed(last)) = all_bad else { unreachable!() };
/// assert!(last.get().is_err()); // the last to fail, with its error
/// ```
#[non_exhaustive]
pub enum InvokeAnyError<T, F> {
    /// No tasks were given.
    Empty,
    /// The deadline passed before any task succeeded; every task was cancelled.
    TimedOut,
    /// Every task failed or was cancelled; this is the last one to finish (its `get` reports
    /// the error).
    AllFailed(TaskHandle<T>),
    /// The pool refused a task (it is handed back); the tasks already submitted were cancelled.
    Rejected(Rejected<F>),
    /// The caller runs a task's closure, and that task was cancelled with interrupt while it
    /// waited (Java's `InterruptedException`; I12); every task was cancelled.
    Interrupted,
}

impl<T, F> fmt::Debug for InvokeAnyError<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvokeAnyError::Empty => f.write_str("Empty"),
            InvokeAnyError::TimedOut => f.write_str("TimedOut"),
            InvokeAnyError::AllFailed(t) => f.debug_tuple("AllFailed").field(&t.state()).finish(),
            InvokeAnyError::Rejected(r) => f.debug_tuple("Rejected").field(r).finish(),
            InvokeAnyError::Interrupted => f.write_str("Interrupted"),
        }
    }
}

impl<T, F> fmt::Display for InvokeAnyError<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvokeAnyError::Empty => f.write_str("invoke_any: no tasks"),
            InvokeAnyError::TimedOut => f.write_str("invoke_any: no task succeeded in time"),
            InvokeAnyError::AllFailed(t) => match t.try_get() {
                Some(Err(e)) => write!(f, "invoke_any: every task failed; the last: {e}"),
                _ => f.write_str("invoke_any: every task failed"),
            },
            InvokeAnyError::Rejected(r) => write!(f, "invoke_any: {r}"),
            InvokeAnyError::Interrupted => {
                f.write_str("invoke_any: interrupted: the waiting task was cancelled")
            }
        }
    }
}

impl<T, F> std::error::Error for InvokeAnyError<T, F> {}

impl ThreadPool {
    /// Submit every task and wait for all of them (Java's `invokeAll`). With `timeout`, the tasks
    /// not finished when it passes are cancelled with interrupt; so are they when the caller is a
    /// task that is itself cancelled with interrupt while it waits. Every returned handle is done,
    /// in input order; each reports its own value, failure or cancellation.
    ///
    /// If the pool refuses a task, the ones already submitted are cancelled and the refused
    /// closure comes back in the error. Do not call this from one of the pool's own tasks with
    /// every worker busy.
    ///
    /// ```
    /// use futuretask::current;
    /// use futuretask_executor::ThreadPool;
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// let all = pool.invoke_all((1..=3).map(|i| move || i * 2), None).unwrap();
    /// assert_eq!(all.iter().map(|h| *h.get().unwrap()).collect::<Vec<_>>(), [2, 4, 6]);
    /// let stuck = || {
    ///     while !current::is_interrupted() {
    ///         std::thread::park(); // runs until cancelled with interrupt
    ///     }
    /// };
    /// let late = pool.invoke_all([stuck], Some(Duration::from_millis(5))).unwrap();
    /// assert!(late[0].is_cancelled()); // unfinished at the deadline: cancelled
    /// ```
    pub fn invoke_all<I, F, T>(
        &self,
        tasks: I,
        timeout: Option<Duration>,
    ) -> Result<Vec<TaskHandle<T>>, Rejected<F>>
    where
        I: IntoIterator<Item = F>,
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        let deadline = deadline_after(timeout);
        let handles = self.submit_all(tasks)?;
        for h in &handles {
            // Called from a task that is cancelled with interrupt, the wait gives up like a
            // deadline (Java's `invokeAll` throws `InterruptedException` and cancels the rest).
            let finished = match deadline {
                None => !matches!(h.get(), Err(Error::Interrupted)),
                Some(d) => !matches!(
                    h.get_timeout(d.remaining().unwrap_or(Duration::ZERO)),
                    Err(Error::TimedOut | Error::Interrupted)
                ),
            };
            if !finished {
                cancel_all(&handles, true).raise();
                break;
            }
        }
        Ok(handles)
    }

    /// Submit every task and return the first to succeed (Java's `invokeAny`); the others are
    /// cancelled with interrupt. If all fail (or are cancelled), the last to finish is returned
    /// in [`InvokeAnyError::AllFailed`]; with `timeout`, everything is cancelled when it passes.
    /// Called from a task that is cancelled with interrupt while it waits, everything is
    /// cancelled and the error is [`InvokeAnyError::Interrupted`] (I12).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// let tasks = (0..3).map(|i| move || {
    ///     assert!(i != 0, "task 0 fails");
    ///     i
    /// });
    /// let winner = pool.invoke_any(tasks, None).unwrap();
    /// assert!(*winner.get().unwrap() > 0); // the first to succeed; the others are cancelled
    /// ```
    pub fn invoke_any<I, F, T>(
        &self,
        tasks: I,
        timeout: Option<Duration>,
    ) -> Result<TaskHandle<T>, InvokeAnyError<T, F>>
    where
        I: IntoIterator<Item = F>,
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        let deadline = deadline_after(timeout);
        let handles = self.submit_all(tasks).map_err(InvokeAnyError::Rejected)?;
        if handles.is_empty() {
            return Err(InvokeAnyError::Empty);
        }
        let inbox = Inbox::new();
        // Dropped on every return: the nodes of tasks still running are unlinked (I6).
        let _watches: Vec<_> = handles
            .iter()
            .enumerate()
            .map(|(i, h)| watch(&inbox, h, i))
            .collect();
        let cancel_all = || cancel_all(&handles, true).raise();
        let mut left = handles.len();
        loop {
            let i = match inbox.recv(deadline) {
                Recv::Notice(i) => i,
                Recv::TimedOut => {
                    cancel_all();
                    return Err(InvokeAnyError::TimedOut);
                }
                Recv::Interrupted => {
                    cancel_all();
                    return Err(InvokeAnyError::Interrupted);
                }
            };
            left -= 1;
            if handles[i].state() == State::Success {
                cancel_all();
                return Ok(handles[i].clone());
            }
            if left == 0 {
                return Err(InvokeAnyError::AllFailed(handles[i].clone()));
            }
        }
    }

    /// Submit each task; on a refusal cancel the submitted ones and hand the refused one back.
    fn submit_all<I, F, T>(&self, tasks: I) -> Result<Vec<TaskHandle<T>>, Rejected<F>>
    where
        I: IntoIterator<Item = F>,
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        let tasks = tasks.into_iter();
        let mut handles = Vec::with_capacity(tasks.size_hint().0);
        for f in tasks {
            match self.submit(f) {
                Ok(h) => handles.push(h),
                Err(r) => {
                    cancel_all(&handles, true).raise();
                    return Err(r);
                }
            }
        }
        Ok(handles)
    }
}
