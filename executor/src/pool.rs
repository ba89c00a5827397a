//! [`ThreadPool`] itself: the state its workers and submitters share, and its handle's
//! constructors, queries and submission methods. The protocol lives beside it, one concept a
//! file: admission (`admission.rs`), the workers' sleep (`sleep.rs`), the worker loop
//! (`worker.rs`), shutdown (`shutdown.rs`).
//!
//! ## Locking
//! The queue is a two-lock [`Ring`]: submitters serialise on its push lock, workers on its pop
//! lock, so a submitter never waits for a worker (or the reverse) to take or add an entry. The
//! push lock also guards admission ([`Admission`]: `shutdown`), the pop lock the registry of
//! running tasks ([`Registry`]: `shutdown_now`'s interrupt). A third lock guards the sleep
//! bookkeeping ([`Sleep`]); it is taken only on the way to or from sleep, by a submitter that must
//! wake a sleeper, and by a bounded queue's admission. Nesting order: push, then sleep, then pop.
//! No user code ever runs while a lock is held: closures, callbacks (which `cancel` runs) and
//! drops of tasks and results all happen after it is released.
//!
//! ## I10 (no lost task)
//! Submission and shutdown take the push lock: a submission either sees `shutdown` and hands the
//! closure back, or its entry is in the ring before `shutdown` is set. A worker reads `shutdown`
//! *before* it looks at the queue and leaves only when it read `true` and then found the queue
//! empty — so every entry accepted before the shutdown was visible to it. `shutdown_now` drains
//! the queue under both locks and sets `stop`, which workers check under the pop lock; a drained
//! task is cancelled and returned. A queue entry dropped unrun cancels its task ([`QueuedJob`]'s
//! drop guard), as does the ring dropping what is left in it.

use crate::admission::Admission;
use crate::builder::{BuildError, Builder};
use crate::job::QueuedJob;
use crate::reject::{Policy, Rejected};
use crate::ring::Ring;
use crate::sleep::Sleep;
use crate::sync::{self, AtomicBool, AtomicUsize, Condvar, JoinHandle, Mutex, Ordering::SeqCst};
use crate::worker::Registry;
use futuretask::{FutureTask, TaskHandle};
use std::fmt;
use std::sync::Arc;

/// A fixed-size pool of named worker threads with one FIFO queue.
///
/// * [`submit`](ThreadPool::submit) returns a [`TaskHandle`], a reader of the task (one heap
///   allocation per task holds the closure, the state and the result; the queue entry and the
///   handle share it, type-erased); [`execute`](ThreadPool::execute) is fire-and-forget.
/// * A submission after shutdown, or to a full queue under [`Policy::Reject`], returns
///   [`Rejected`] with the closure.
/// * A panicking task fails its own future; the worker goes on.
/// * [`shutdown`](ThreadPool::shutdown) lets queued tasks run;
///   [`shutdown_now`](ThreadPool::shutdown_now) cancels them (waking their waiters) and interrupts
///   the running ones (cooperatively, see [`futuretask::current::is_interrupted`]).
/// * Dropping the pool shuts it down and joins the workers after the queue drained (Python's
///   `with ThreadPoolExecutor() as pool:`).
///
/// ```
/// use futuretask_executor::ThreadPool;
///
/// let pool = ThreadPool::new(2).unwrap();
/// let bad = pool.submit(|| -> u8 { panic!("task bug") }).unwrap();
/// assert!(bad.get().is_err()); // the panic fails its own future...
/// let good = pool.submit(|| 2).unwrap();
/// assert_eq!(*good.get().unwrap(), 2); // ...and the worker goes on
/// drop(pool); // shuts down and joins the workers
/// ```
pub struct ThreadPool {
    pub(crate) shared: Arc<Shared>,
    /// Taken (and joined) by the pool's drop.
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
    workers: usize,
    name_prefix: String,
}

/// The queue: its push end guards [`Admission`], its pop end the worker [`Registry`].
pub(crate) type Queue = Ring<QueuedJob, Admission, Registry>;

/// What the pool's handle, its workers and its submitters share.
pub(crate) struct Shared {
    /// The queue; its push lock guards [`Admission`], its pop lock the worker [`Registry`].
    pub(crate) queue: Queue,
    /// `Admission::shutdown`, readable without the push lock (set under it, never cleared).
    pub(crate) shutdown: AtomicBool,
    pub(crate) sleep: Mutex<Sleep>,
    /// `idle - wakes` (stored under the sleep lock): sleeping workers nobody has woken yet. What
    /// a submitter reads, after a SeqCst fence, to decide whether it must wake one (E1).
    pub(crate) unwoken: AtomicUsize,
    /// Submitters waiting on `room` (changed under the push lock). What a worker reads, after a
    /// SeqCst fence, to decide whether it must signal room (E2).
    pub(crate) blocked: AtomicUsize,
    /// Idle workers wait here (with the sleep lock) for work or shutdown.
    pub(crate) work: Condvar,
    /// Submitters wait here (with the push lock) for room in a full queue (`Policy::Block`).
    pub(crate) room: Condvar,
    /// `await_termination` waits here (with the sleep lock) for the last worker to leave.
    pub(crate) term: Condvar,
    pub(crate) bound: Option<usize>,
    pub(crate) policy: Policy,
    /// Whether an idle worker watches the queue before it sleeps (`sleep.rs`). Decided when the
    /// pool is built: asking the system later could allocate inside a caller's measured window.
    pub(crate) spin: bool,
}

impl Shared {
    /// A pool's state before its `workers` threads start: an empty queue, nobody asleep.
    pub(crate) fn new(workers: usize, bound: Option<usize>, policy: Policy) -> Shared {
        Shared {
            queue: Ring::new(Admission { shutdown: false }, Registry::new(workers)),
            shutdown: AtomicBool::new(false),
            sleep: Mutex::new(Sleep::new(workers)),
            unwoken: AtomicUsize::new(0),
            blocked: AtomicUsize::new(0),
            work: Condvar::new(),
            room: Condvar::new(),
            term: Condvar::new(),
            bound,
            policy,
            spin: sync::spin_allowed(),
        }
    }
}

impl ThreadPool {
    /// The most workers a pool accepts (each is an operating-system thread).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    /// assert!(ThreadPool::new(ThreadPool::MAX_WORKERS + 1).is_err());
    /// ```
    pub const MAX_WORKERS: usize = 1 << 15;

    /// The largest queue bound a pool accepts: the most entries its ring buffer (one pointer
    /// pair per entry, a power-of-two capacity) can be allocated for.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    /// assert!(ThreadPool::builder().queue_bound(usize::MAX).build().is_err());
    /// ```
    pub const MAX_QUEUE_BOUND: usize =
        (isize::MAX as usize / std::mem::size_of::<QueuedJob>() / 2).next_power_of_two();

    /// A pool of `workers` threads with an unbounded queue. Zero workers is an error.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// assert_eq!(pool.workers(), 2);
    /// assert!(ThreadPool::new(0).is_err());
    /// ```
    pub fn new(workers: usize) -> Result<ThreadPool, BuildError> {
        ThreadPool::builder().workers(workers).build()
    }

    /// A [`Builder`] with the defaults: available parallelism, unbounded queue.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// assert_eq!(pool.name_prefix(), "futuretask-worker"); // the default
    /// assert!(!pool.is_shutdown());
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The pool a [`Builder`] assembles once its workers have started.
    pub(crate) fn assemble(
        shared: Arc<Shared>,
        threads: Vec<JoinHandle<()>>,
        name_prefix: String,
    ) -> ThreadPool {
        ThreadPool {
            workers: threads.len(),
            shared,
            threads: Mutex::new(threads),
            name_prefix,
        }
    }

    /// Number of worker threads.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// assert_eq!(ThreadPool::new(3).unwrap().workers(), 3);
    /// ```
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The worker thread name prefix.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).name_prefix("cpu").build().unwrap();
    /// assert_eq!(pool.name_prefix(), "cpu");
    /// ```
    pub fn name_prefix(&self) -> &str {
        &self.name_prefix
    }

    /// Number of tasks waiting in the queue (not yet started).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.execute(move || drop(rx.recv())).unwrap(); // occupies the only worker
    /// while pool.queued() != 0 {
    ///     std::thread::yield_now();
    /// }
    /// let waiting = [pool.submit(|| 1).unwrap(), pool.submit(|| 2).unwrap()];
    /// assert_eq!(pool.queued(), 2); // not started yet
    /// drop(tx);
    /// assert!(waiting.iter().all(|h| h.get().is_ok()));
    /// ```
    pub fn queued(&self) -> usize {
        self.shared.queue.len()
    }

    /// Submit a closure; its handle reports the value, the panic (as
    /// [`Failure`](futuretask::Failure)) or the cancellation. One heap allocation: the task.
    ///
    /// After shutdown — or with a full queue under [`Policy::Reject`] — the closure comes back in
    /// `Err(Rejected { task, reason })`. Under [`Policy::Block`] a full queue blocks the caller;
    /// under [`Policy::CallerRuns`] the caller runs the task and gets a finished handle.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    /// use futuretask::Error;
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// let ok = pool.submit(|| "value").unwrap();
    /// let failed = pool.submit(|| -> u8 { panic!("bug") }).unwrap();
    /// assert_eq!(*ok.get().unwrap(), "value");
    /// assert!(matches!(failed.get(), Err(Error::Failed(f)) if f.is_panic()));
    /// pool.shutdown();
    /// assert!(pool.submit(|| 1).is_err()); // refused after shutdown
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, Rejected<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        self.shared
            .enqueue(Arc::new(FutureTask::new(f)))
            .map(|task| TaskHandle::from(task as Arc<FutureTask<T>>))
    }

    /// Fire and forget. A panic is reported by the panic hook and contained: the worker goes on.
    /// Refused like [`submit`](ThreadPool::submit), with the closure handed back.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.execute(|| panic!("contained")).unwrap(); // reported, the worker survives
    /// pool.execute(move || tx.send(5).unwrap()).unwrap();
    /// assert_eq!(rx.recv().unwrap(), 5);
    /// ```
    pub fn execute<F>(&self, f: F) -> Result<(), Rejected<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared.enqueue(Arc::new(FutureTask::new(f))).map(drop)
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let live = sync::lock(&self.shared.sleep).live;
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers)
            .field("name_prefix", &self.name_prefix)
            .field("queued", &self.shared.queue.len())
            .field("bound", &self.shared.bound)
            .field("policy", &self.shared.policy)
            .field("shutdown", &self.shared.shutdown.load(SeqCst))
            .field("live", &live)
            .finish()
    }
}
