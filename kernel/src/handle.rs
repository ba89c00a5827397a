//! [`TaskHandle`]: the reader capability. It waits for, queries and cancels a task; it cannot run
//! or complete it (no `run`, `set`, `fail`), so whoever hands one out keeps the writer's side.

use crate::counted::TaskRef;
use crate::failure::{Error, Outcome, Snapshot, State};
use crate::future::{Wait, WhenDone};
use crate::task::FutureTask;
use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A reader of a task (type-erased over its closure): what [`promise`](crate::promise),
/// [`FutureTask::handle`] and the executor's `submit` hand out. Clone it freely (one atomic
/// increment: of the task's `Arc`, or of the count a promise's task keeps in its own state
/// word); every clone reads the same task.
///
/// ```
/// use futuretask::{FutureTask, TaskHandle};
/// use std::{sync::Arc, thread};
///
/// let task = Arc::new(FutureTask::new(|| "hi".repeat(2)));
/// let reader: TaskHandle<String> = task.handle();
/// let t = thread::spawn({
///     let reader = reader.clone();
///     move || reader.get().map(|s| s.len()).unwrap()
/// });
/// task.run(); // only the owner can run it
/// assert_eq!(t.join().unwrap(), 4);
/// assert_eq!(reader.get().unwrap(), "hihi"); // by reference, never cloned
/// ```
pub struct TaskHandle<T>(TaskRef<T>);

impl<T> TaskHandle<T> {
    /// Wait for the task and return its value by reference (Java's `get`); never
    /// [`Error::TimedOut`]. See [`FutureTask::get`].
    ///
    /// ```
    /// use futuretask::promise;
    /// use std::thread;
    ///
    /// let (p, reader) = promise();
    /// let t = thread::spawn(move || p.set(7).unwrap());
    /// assert_eq!(*reader.get().unwrap(), 7); // blocks until set
    /// t.join().unwrap();
    /// ```
    #[inline]
    pub fn get(&self) -> Result<&T, Error> {
        self.0.get()
    }

    /// Wait at most `timeout` ([`Error::TimedOut`] after it). See [`FutureTask::get_timeout`].
    ///
    /// ```
    /// use futuretask::promise;
    /// use std::time::Duration;
    ///
    /// let (p, reader) = promise::<u8>();
    /// assert!(reader.get_timeout(Duration::ZERO).unwrap_err().is_timed_out());
    /// p.set(1).unwrap();
    /// assert_eq!(reader.get_timeout(Duration::ZERO).ok(), Some(&1));
    /// ```
    #[inline]
    pub fn get_timeout(&self, timeout: Duration) -> Result<&T, Error> {
        self.0.get_timeout(timeout)
    }

    /// Wait until `deadline` at most. See [`FutureTask::get_deadline`].
    ///
    /// ```
    /// use futuretask::promise;
    /// use std::time::{Duration, Instant};
    ///
    /// let (p, reader) = promise::<u8>();
    /// let soon = Instant::now() + Duration::from_millis(1);
    /// assert!(reader.get_deadline(soon).unwrap_err().is_timed_out());
    /// p.set(2).unwrap();
    /// assert_eq!(reader.get_deadline(soon).ok(), Some(&2));
    /// ```
    pub fn get_deadline(&self, deadline: Instant) -> Result<&T, Error> {
        self.0.get_deadline(deadline)
    }

    /// The outcome if the task is done, without blocking (`None` while pending).
    ///
    /// ```
    /// use futuretask::promise;
    ///
    /// let (p, reader) = promise();
    /// assert!(reader.try_get().is_none());
    /// p.set('x').unwrap();
    /// assert_eq!(reader.try_get().unwrap().ok(), Some(&'x'));
    /// ```
    #[inline]
    pub fn try_get(&self) -> Option<Result<&T, Error>> {
        self.0.try_get()
    }

    /// Whether the task completed or was cancelled.
    ///
    /// ```
    /// use futuretask::promise;
    ///
    /// let (p, reader) = promise::<u8>();
    /// assert!(!reader.is_done());
    /// drop(p); // a dropped promise fails the task
    /// assert!(reader.is_done());
    /// ```
    #[inline]
    pub fn is_done(&self) -> bool {
        self.0.is_done()
    }

    /// Whether the task was cancelled.
    ///
    /// ```
    /// use futuretask::promise;
    ///
    /// let (_p, reader) = promise::<u8>();
    /// reader.cancel();
    /// assert!(reader.is_cancelled());
    /// ```
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }

    /// The task's state. See [`FutureTask::state`].
    ///
    /// ```
    /// use futuretask::{promise, State};
    ///
    /// let (p, reader) = promise::<u8>();
    /// assert_eq!(reader.state(), State::Pending);
    /// p.fail("no").unwrap();
    /// assert_eq!(reader.state(), State::Failed);
    /// ```
    pub fn state(&self) -> State {
        self.0.state()
    }

    /// The state with whether the closure started and whether a cancel interrupted it. See
    /// [`FutureTask::snapshot`].
    ///
    /// ```
    /// use futuretask::{FutureTask, State};
    /// use std::sync::Arc;
    ///
    /// let reader = Arc::new(FutureTask::new(|| 1)).handle();
    /// reader.cancel_and_interrupt();
    /// let s = reader.snapshot();
    /// assert_eq!((s.state(), s.started(), s.interrupted()), (State::Cancelled, false, true));
    /// ```
    pub fn snapshot(&self) -> Snapshot {
        self.0.snapshot()
    }

    /// Cancel the task (Java's `cancel(false)`); whether this call cancelled it. See
    /// [`FutureTask::cancel`].
    ///
    /// ```
    /// use futuretask::{promise, Error};
    ///
    /// let (p, reader) = promise::<u8>();
    /// assert!(reader.cancel());
    /// assert!(p.set(1).is_err()); // the writer lost
    /// assert!(matches!(reader.get(), Err(Error::Cancelled)));
    /// ```
    pub fn cancel(&self) -> bool {
        self.0.cancel()
    }

    /// Cancel the task and interrupt its run (Java's `cancel(true)`). See
    /// [`FutureTask::cancel_and_interrupt`].
    ///
    /// ```
    /// use futuretask::{current, FutureTask};
    /// use std::{sync::{mpsc, Arc}, thread};
    ///
    /// let (started, on_start) = mpsc::channel();
    /// let task = Arc::new(FutureTask::new(move || {
    ///     started.send(()).unwrap();
    ///     while !current::is_interrupted() {
    ///         thread::park();
    ///     }
    /// }));
    /// let reader = task.handle();
    /// let runner = thread::spawn(move || task.run());
    /// on_start.recv().unwrap();
    /// assert!(reader.cancel_and_interrupt());
    /// assert!(runner.join().unwrap()); // the closure saw the interrupt and returned
    /// ```
    pub fn cancel_and_interrupt(&self) -> bool {
        self.0.cancel_and_interrupt()
    }

    /// Register a callback that runs once with the outcome. See
    /// [`FutureTask::add_done_callback`].
    ///
    /// ```
    /// use futuretask::promise;
    /// use std::sync::mpsc;
    ///
    /// let (p, reader) = promise::<u8>();
    /// let (tx, rx) = mpsc::channel();
    /// reader.add_done_callback(move |r| tx.send(r.map(|v| *v).ok()).unwrap());
    /// p.set(4).unwrap(); // runs the callback
    /// assert_eq!(rx.recv().unwrap(), Some(4));
    /// ```
    pub fn add_done_callback<F>(&self, f: F)
    where
        F: for<'a> FnOnce(Result<&'a T, Error>) + Send + 'static,
    {
        self.0.add_done_callback(f)
    }

    /// Wait asynchronously for the value (also `(&handle).await`). See [`FutureTask::get_async`].
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futuretask::promise;
    /// use std::thread;
    ///
    /// let (p, reader) = promise();
    /// let t = thread::spawn(move || p.set(3).unwrap());
    /// assert_eq!(*block_on(reader.get_async()).unwrap(), 3);
    /// assert_eq!(*block_on(async { (&reader).await }).unwrap(), 3);
    /// t.join().unwrap();
    /// ```
    pub fn get_async(&self) -> Wait<'_, T> {
        self.0.get_async()
    }

    /// An owning future that resolves to this handle once the task is done (so it can be
    /// `'static`, e.g. moved into `tokio::spawn`); `get` on the result never blocks.
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futuretask::promise;
    /// use std::thread;
    ///
    /// let (p, reader) = promise();
    /// let done = reader.clone().when_done(); // owns a handle: `'static`
    /// let t = thread::spawn(move || p.set("value").unwrap());
    /// let reader = block_on(done);
    /// assert_eq!(*reader.try_get().unwrap().unwrap(), "value"); // done: never blocks
    /// t.join().unwrap();
    /// ```
    pub fn when_done(self) -> WhenDone<T> {
        WhenDone::new(self)
    }

    /// Whether two handles read the same task.
    ///
    /// ```
    /// use futuretask::{promise, TaskHandle};
    ///
    /// let (p, a) = promise::<u8>();
    /// assert!(TaskHandle::ptr_eq(&a, &p.handle()));
    /// assert!(!TaskHandle::ptr_eq(&a, &promise::<u8>().1));
    /// ```
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        // Compare the data pointers only: the vtables of one type may differ between codegen units.
        a.0.as_ptr() == b.0.as_ptr()
    }

    /// The address of the task this handle reads, for identity comparisons only (like
    /// [`Arc::as_ptr`], erased to `*const ()` because the closure's type is): two handles — or a
    /// handle and an owner's `Arc<FutureTask<..>>` — read the same task exactly when their
    /// addresses are equal. Never dereference it.
    ///
    /// ```
    /// use futuretask::{FutureTask, TaskHandle};
    /// use std::sync::Arc;
    ///
    /// let task = Arc::new(FutureTask::new(|| 1));
    /// let (a, b) = (task.handle(), task.handle());
    /// assert_eq!(a.as_ptr(), b.as_ptr()); // one task, however many readers
    /// assert_eq!(a.as_ptr(), Arc::as_ptr(&task).cast::<()>()); // its owner's `Arc`
    /// let other: TaskHandle<i32> = Arc::new(FutureTask::new(|| 1)).handle();
    /// assert_ne!(a.as_ptr(), other.as_ptr());
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *const () {
        self.0.as_ptr()
    }

    /// Number of nodes on the task's waiter stack. Needs the `diagnostics` feature. See
    /// [`FutureTask::waiter_stack_len`].
    ///
    /// ```
    /// use futuretask::promise;
    /// use std::time::Duration;
    ///
    /// let (_p, reader) = promise::<u8>();
    /// assert!(reader.get_timeout(Duration::from_millis(1)).is_err());
    /// assert_eq!(reader.waiter_stack_len(), 0); // the timed-out waiter unlinked itself
    /// ```
    #[cfg(feature = "diagnostics")]
    pub fn waiter_stack_len(&self) -> usize {
        self.0.waiter_stack_len()
    }

    /// How many references keep the task alive: every [`TaskHandle`] to it (this one included),
    /// its owners' `Arc<FutureTask<..>>`s and its [`Promise`](crate::Promise), whoever holds
    /// them (an executor's queue entry too): the task's `Arc::strong_count`, or for a promise's task
    /// the count in its state word. For leak checks in tests: a handle that is the last reference
    /// reads 1. Needs the `diagnostics` feature. Like
    /// `Arc::strong_count`, it can be stale as soon as it returns if other threads clone or drop
    /// references meanwhile.
    ///
    /// ```
    /// use futuretask::promise;
    ///
    /// let (p, reader) = promise::<u8>();
    /// assert_eq!(reader.handle_count(), 2); // the reader and the promise
    /// let other = reader.clone();
    /// assert_eq!(reader.handle_count(), 3);
    /// drop((p, other)); // the promise's drop fails the task, then lets it go
    /// assert_eq!(reader.handle_count(), 1); // nothing else holds the task: no leak
    /// ```
    #[cfg(feature = "diagnostics")]
    pub fn handle_count(&self) -> usize {
        self.0.count()
    }

    /// The outcome by value, giving up this handle, when no other handle can read it any
    /// more; otherwise (the task pending, or another handle or the task's owner holding it)
    /// the handle back, unchanged. `Arc::try_unwrap` for the outcome.
    ///
    /// A promise's completion hands its own reference back once it has woken every waiter and
    /// run every done-callback; the handle it woke does not wait for that: it takes the
    /// outcome as soon as the wake-up is done, unless a done-callback (which may read the
    /// outcome) is still to run.
    ///
    /// ```
    /// use futuretask::{promise, Outcome};
    /// use std::thread;
    ///
    /// let (p, reader) = promise::<Vec<u8>>();
    /// let reader = reader.try_into_outcome().unwrap_err(); // pending: handed back
    /// let writer = thread::spawn(move || p.set(vec![1, 2]).unwrap());
    /// reader.get().unwrap(); // wait
    /// let Ok(Outcome::Success(v)) = reader.try_into_outcome() else { unreachable!() };
    /// assert_eq!(v, [1, 2]); // moved out, not cloned
    /// writer.join().unwrap();
    ///
    /// let (p, reader) = promise();
    /// p.set(String::from("shared")).unwrap();
    /// let other = reader.clone();
    /// let reader = reader.try_into_outcome().unwrap_err(); // `other` may still read it
    /// drop(other);
    /// assert!(matches!(reader.try_into_outcome(), Ok(Outcome::Success(s)) if s == "shared"));
    /// ```
    pub fn try_into_outcome(self) -> Result<Outcome<T>, TaskHandle<T>> {
        self.0.try_into_outcome().map_err(TaskHandle)
    }

    /// A handle holding `task`.
    pub(crate) fn from_ref(task: TaskRef<T>) -> Self {
        TaskHandle(task)
    }

    /// The task, for the crate's own waiters.
    pub(crate) fn erased(&self) -> &FutureTask<T> {
        &self.0
    }
}

impl<T> Clone for TaskHandle<T> {
    fn clone(&self) -> Self {
        TaskHandle(self.0.clone())
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TaskHandle").field(&self.0.state()).finish()
    }
}

impl<T> From<Arc<FutureTask<T>>> for TaskHandle<T> {
    /// A reader of a type-erased task (for a typed one, [`FutureTask::handle`] erases it).
    ///
    /// ```
    /// use futuretask::{FutureTask, TaskHandle};
    /// use std::sync::Arc;
    ///
    /// let task: Arc<FutureTask<u8>> = Arc::new(FutureTask::new(|| 1));
    /// let reader = TaskHandle::from(Arc::clone(&task));
    /// task.run();
    /// assert_eq!(*reader.get().unwrap(), 1);
    /// ```
    fn from(task: Arc<FutureTask<T>>) -> Self {
        TaskHandle(TaskRef::from_arc(task))
    }
}

impl<'a, T> IntoFuture for &'a TaskHandle<T> {
    type Output = Result<&'a T, Error>;
    type IntoFuture = Wait<'a, T>;

    /// `(&handle).await`: the same future as [`TaskHandle::get_async`].
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futuretask::promise;
    ///
    /// let (p, reader) = promise();
    /// p.set(5).unwrap();
    /// assert_eq!(block_on(async { *(&reader).await.unwrap() }), 5);
    /// ```
    fn into_future(self) -> Wait<'a, T> {
        self.get_async()
    }
}
