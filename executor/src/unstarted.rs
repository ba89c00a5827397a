//! What `shutdown_now` hands back: the tasks that never started ([`Unstarted`]) and, taken out of
//! them, their closures ([`UnstartedJob`]), to run elsewhere or drop — exactly once (I4).

use crate::job::{ReclaimedJob, Runnable};
use futuretask::{State, TaskHandle};
use std::fmt;
use std::sync::Arc;

/// A queued task that never ran, as reported by
/// [`ThreadPool::shutdown_now`](crate::ThreadPool::shutdown_now). It has already been cancelled
/// (its waiters and callbacks were woken).
///
/// ```
/// use futuretask::State;
/// use futuretask_executor::ThreadPool;
///
/// let pool = ThreadPool::new(1).unwrap();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// pool.execute(move || drop(rx.recv())).unwrap(); // occupies the only worker
/// let queued = pool.submit(|| 1).unwrap();
/// let unstarted = pool.shutdown_now();
/// drop(tx);
/// assert!(unstarted.iter().any(|u| u.is(&queued) && u.state() == State::Cancelled));
/// assert!(queued.is_cancelled()); // its waiters were released
/// ```
pub struct Unstarted(pub(crate) Arc<dyn Runnable>);

impl Unstarted {
    /// Whether this is the task behind `handle` (identity, by [`TaskHandle::as_ptr`]).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.execute(move || drop(rx.recv())).unwrap();
    /// let (a, b) = (pool.submit(|| 'a').unwrap(), pool.submit(|| 'b').unwrap());
    /// let unstarted = pool.shutdown_now();
    /// drop(tx);
    /// let last = unstarted.last().unwrap(); // the queue, in order
    /// assert!(last.is(&b) && !last.is(&a));
    /// ```
    pub fn is<T>(&self, handle: &TaskHandle<T>) -> bool {
        // Data addresses only: the vtables of one type may differ between codegen units.
        std::ptr::addr_eq(Arc::as_ptr(&self.0), handle.as_ptr())
    }

    /// The task's state: [`State::Cancelled`] (the pool cancelled it before it started, and its
    /// readers — [`TaskHandle`]s — cannot run it).
    ///
    /// ```
    /// use futuretask::State;
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.execute(move || drop(rx.recv())).unwrap();
    /// pool.execute(|| {}).unwrap();
    /// let unstarted = pool.shutdown_now();
    /// drop(tx);
    /// assert!(unstarted.iter().all(|u| u.state() == State::Cancelled));
    /// ```
    pub fn state(&self) -> State {
        self.0.task_state()
    }
    /// The closure, taken back to run elsewhere (what Java's `shutdownNow` hands back). The task
    /// stays cancelled — its waiters were released when `shutdown_now` cancelled it — so the
    /// closure's result is dropped; run it for its effects, or drop it. `None` if the closure is
    /// no longer there (the task started after all; a defensive answer, since only the pool can
    /// run a task it was given).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    /// use std::sync::{atomic::{AtomicU32, Ordering}, Arc};
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.execute(move || drop(rx.recv())).unwrap(); // occupies the only worker
    /// let hits = Arc::new(AtomicU32::new(0));
    /// let h = Arc::clone(&hits);
    /// let queued = pool.submit(move || h.fetch_add(1, Ordering::SeqCst)).unwrap();
    /// let unstarted = pool.shutdown_now();
    /// drop(tx);
    /// assert!(queued.is_cancelled());
    /// for u in unstarted {
    ///     if let Some(job) = u.into_job() {
    ///         job.run(); // the work still happens, on this thread
    ///     }
    /// }
    /// assert_eq!(hits.load(Ordering::SeqCst), 1);
    /// assert!(queued.is_cancelled(), "the task itself stays cancelled");
    /// ```
    pub fn into_job(self) -> Option<UnstartedJob> {
        self.0.reclaim().map(UnstartedJob)
    }
}

/// The closure of a task that [`ThreadPool::shutdown_now`](crate::ThreadPool::shutdown_now) cancelled before it started, taken
/// back with [`Unstarted::into_job`]. `Send`: run it on any thread, at most once; dropping it
/// drops the closure.
///
/// ```
/// use futuretask_executor::{ThreadPool, UnstartedJob};
///
/// let pool = ThreadPool::new(1).unwrap();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// pool.execute(move || drop(rx.recv())).unwrap();
/// pool.execute(|| println!("reclaimed")).unwrap();
/// let unstarted = pool.shutdown_now().into_iter();
/// let jobs: Vec<UnstartedJob> = unstarted.filter_map(|u| u.into_job()).collect();
/// drop(tx);
/// assert!(!jobs.is_empty());
/// drop(jobs); // dropping a job drops its closure unrun
/// ```
pub struct UnstartedJob(Box<dyn ReclaimedJob>);

impl UnstartedJob {
    /// Call the closure (its result is dropped; a panic propagates to the caller).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.execute(move || drop(rx.recv())).unwrap();
    /// pool.execute(|| println!("ran after all")).unwrap();
    /// let jobs: Vec<_> = pool.shutdown_now().into_iter().filter_map(|u| u.into_job()).collect();
    /// drop(tx);
    /// std::thread::spawn(move || jobs.into_iter().for_each(|j| j.run())).join().unwrap();
    /// ```
    pub fn run(self) {
        self.0.run();
    }
}

impl fmt::Debug for UnstartedJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnstartedJob")
    }
}

impl fmt::Debug for Unstarted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unstarted")
            .field("state", &self.state())
            .finish()
    }
}
