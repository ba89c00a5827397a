//! Promise-style completion: a unique writer whose drop fails the task, so a forgotten promise
//! is a clear error for its waiters instead of a hang.

use crate::failure::{AlreadyCompleted, Failure};
use crate::task::{FutureTask, NoJob};
use std::fmt;
use std::sync::Arc;

/// The writing side of a task with no closure. Dropping it without completing the task fails the
/// task with a "promise dropped" [`Failure`] ([`Failure::is_broken_promise`]).
pub struct Promise<T> {
    task: Arc<FutureTask<T, NoJob>>,
}

/// A promise and the task its waiters read.
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
    pub fn set(self, value: T) -> Result<(), AlreadyCompleted<T>> {
        self.task.set(value)
    }

    /// Complete exceptionally. Fails (handing the failure back) if the task was cancelled.
    pub fn fail(
        self,
        err: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Result<(), AlreadyCompleted<Failure>> {
        self.task.fail(err)
    }

    /// Whether a reader cancelled the task (the writer may stop producing).
    pub fn is_cancelled(&self) -> bool {
        self.task.is_cancelled()
    }

    /// The task this promise completes.
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
