//! Promise-style completion: a unique writer whose drop fails the task, so a forgotten promise
//! is a clear error for its waiters instead of a hang.

use crate::counted::TaskRef;
use crate::failure::{AlreadyCompleted, Failure};
use crate::handle::TaskHandle;
use crate::task::NoJob;
use std::fmt;
use std::mem::ManuallyDrop;

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
    /// A counted task (I13): the promise and its readers share one allocation. Released by
    /// the completion, which may give it up in W1's own CAS (`TaskRef::complete`).
    task: ManuallyDrop<TaskRef<T, NoJob>>,
}

/// A promise (the writer) and a handle to the task its waiters read (the reader: it cannot
/// complete the task).
///
/// ```
/// use futuretask::{promise, Error};
///
/// let (p, task) = promise::<u32>();
/// assert!(!task.is_done());
/// drop(p); // forgotten: the waiters get an error, not a hang
/// let Err(Error::Failed(f)) = task.get() else { unreachable!() };
/// assert!(f.is_broken_promise());
/// ```
pub fn promise<T>() -> (Promise<T>, TaskHandle<T>) {
    let (writer, reader) = TaskRef::counted_pair();
    (
        Promise {
            task: ManuallyDrop::new(writer),
        },
        TaskHandle::from_ref(reader),
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
    /// task.cancel(); // a reader gave up
    /// assert_eq!(p.set(String::from("late")).unwrap_err().value, "late");
    /// ```
    #[inline]
    pub fn set(self, value: T) -> Result<(), AlreadyCompleted<T>> {
        self.complete(Ok(value)).map_err(|lost| AlreadyCompleted {
            value: lost
                .value
                .unwrap_or_else(|_| unreachable!("set publishes a value")),
            state: lost.state,
        })
    }

    /// Complete exceptionally. Fails (handing the failure back) if the task was cancelled.
    ///
    /// ```
    /// use futuretask::{promise, Error};
    ///
    /// let (p, task) = promise::<u8>();
    /// p.fail("upstream closed").unwrap();
    /// let Err(Error::Failed(f)) = task.get() else { unreachable!() };
    /// assert_eq!(f.error().unwrap().to_string(), "upstream closed");
    /// assert!(!f.is_broken_promise());
    /// ```
    pub fn fail(
        self,
        err: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Result<(), AlreadyCompleted<Failure>> {
        self.complete(Err(Failure::from_error(err)))
            .map_err(|lost| AlreadyCompleted {
                value: lost
                    .value
                    .err()
                    .unwrap_or_else(|| unreachable!("fail publishes a failure")),
                state: lost.state,
            })
    }

    /// Whether a reader cancelled the task (the writer may stop producing).
    ///
    /// ```
    /// use futuretask::promise;
    ///
    /// let (p, task) = promise::<u8>();
    /// assert!(!p.is_cancelled());
    /// task.cancel();
    /// assert!(p.is_cancelled()); // the writer may stop producing
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.task.is_cancelled()
    }

    /// A new reader of the task this promise completes.
    ///
    /// ```
    /// use futuretask::{promise, TaskHandle};
    ///
    /// let (p, task) = promise::<u8>();
    /// let another = p.handle();
    /// assert!(TaskHandle::ptr_eq(&another, &task));
    /// p.set(1).unwrap();
    /// assert!(another.is_done());
    /// ```
    pub fn handle(&self) -> TaskHandle<T> {
        TaskHandle::from_ref(TaskRef::clone(&self.task).erase())
    }

    /// W1, W2 with the promise consumed: its reference is released in W1's CAS or, after a
    /// drain, by T2, and a waker's panic is resumed once the protocol has finished (I11).
    #[inline]
    fn complete(self, v: Result<T, Failure>) -> Result<(), AlreadyCompleted<Result<T, Failure>>> {
        let mut me = ManuallyDrop::new(self);
        // SAFETY: `me` is never used or dropped again, so its reference is taken out once (I13);
        // the promise's own drop does not run.
        let task = unsafe { ManuallyDrop::take(&mut me.task) };
        match task.complete(v) {
            Ok(panics) => {
                panics.resume();
                Ok(())
            }
            Err((value, state)) => Err(AlreadyCompleted { value, state }),
        }
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        // SAFETY: the drop runs once and nothing uses the field after it (I13).
        let task = unsafe { ManuallyDrop::take(&mut self.task) };
        if task.is_done() {
            return; // the reference goes with `task` (T2)
        }
        // Losing here is fine: a reader cancelled it meanwhile.
        if let Ok(panics) = task.complete(Err(Failure::broken_promise())) {
            panics.resume_from_drop();
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("task", &&**self.task)
            .finish()
    }
}
