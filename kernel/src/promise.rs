//! Promise-style completion: a unique writer whose drop fails the task, so a forgotten promise
//! is a clear error for its waiters instead of a hang.

use crate::failure::{AlreadyCompleted, Failure};
use crate::task::{FutureTask, NoJob};
use std::fmt;
use std::sync::Arc;

/// The writing side of a task with no closure. Dropping it without completing the task fails the
/// task with a "promise dropped" [`Failure`] ([`Failure::is_broken_promise`]).
///
/// ```
/// use futuretask::promise;
/// use std::thread;
///
/// let (p, task) = promise();
/// let writer = thread::spawn(move || p.set(1 + 1).unwrap());
/// assert_eq!(*task.get().unwrap(), 2);
/// writer.join().unwrap();
/// ```
pub struct Promise<T> {
    task: Arc<FutureTask<T, NoJob>>,
}

/// A promise and the task its waiters read.
///
/// ```
/// use futuretask::{promise, GetError};
///
/// let (p, task) = promise::<u32>();
/// assert!(!task.is_done());
/// drop(p); // forgotten: the waiters get an error, not a hang
/// let Err(GetError::Failed(f)) = task.get() else { unreachable!() };
/// assert!(f.is_broken_promise());
/// ```
pub fn promise<T>() -> (Promise<T>, Arc<FutureTask<T, NoJob>>) {
    let task = Arc::new(FutureTask::pending());
    (
        Promise {
            task: Arc::clone(&task),
        },
        task,
    )
}

impl<T> Promise<T> {
    /// Complete with a value. Fails (handing the value back) if the task was cancelled.
    ///
    /// ```
    /// use futuretask::promise;
    ///
    /// let (p, task) = promise();
    /// p.set(String::from("ok")).unwrap();
    /// assert_eq!(task.get().unwrap(), "ok");
    /// let (p, task) = promise();
    /// task.cancel(false); // a reader gave up
    /// assert_eq!(p.set(String::from("late")).unwrap_err().value, "late");
    /// ```
    pub fn set(self, value: T) -> Result<(), AlreadyCompleted<T>> {
        self.task.set(value)
    }

    /// Complete exceptionally. Fails (handing the failure back) if the task was cancelled.
    ///
    /// ```
    /// use futuretask::{promise, GetError};
    ///
    /// let (p, task) = promise::<u8>();
    /// p.fail("upstream closed").unwrap();
    /// let Err(GetError::Failed(f)) = task.get() else { unreachable!() };
    /// assert_eq!(f.error().unwrap().to_string(), "upstream closed");
    /// assert!(!f.is_broken_promise());
    /// ```
    pub fn fail(
        self,
        err: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Result<(), AlreadyCompleted<Failure>> {
        self.task.fail(err)
    }

    /// Whether a reader cancelled the task (the writer may stop producing).
    ///
    /// ```
    /// use futuretask::promise;
    ///
    /// let (p, task) = promise::<u8>();
    /// assert!(!p.is_cancelled());
    /// task.cancel(false);
    /// assert!(p.is_cancelled()); // the writer may stop producing
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.task.is_cancelled()
    }

    /// The task this promise completes.
    ///
    /// ```
    /// use futuretask::promise;
    /// use std::sync::Arc;
    ///
    /// let (p, task) = promise::<u8>();
    /// assert!(Arc::ptr_eq(p.task(), &task));
    /// p.set(1).unwrap();
    /// assert!(task.is_done());
    /// ```
    pub fn task(&self) -> &Arc<FutureTask<T, NoJob>> {
        &self.task
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if !self.task.is_done() {
            // Losing here is fine: someone else completed or cancelled it meanwhile.
            self.task.fail_from_drop(Failure::broken_promise());
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise").field("task", &self.task).finish()
    }
}
