//! [`ThreadPool`]: fixed named workers, one FIFO queue (optionally bounded), shutdown that never
//! loses a task (I10).
//!
//! ## Locking
//! The queue is a two-lock [`Ring`]: submitters serialise on its push lock, workers on its pop
//! lock, so a submitter never waits for a worker (or the reverse) to take or add an entry. The
//! push lock also guards admission (`shutdown`), the pop lock the registry of running tasks
//! (`shutdown_now`'s interrupt). A third lock guards the sleep bookkeeping ([`Sleep`]); it is
//! taken only on the way to or from sleep, by a submitter that must wake a sleeper, and by a
//! bounded queue's admission. Nesting order: push, then sleep, then pop. No user code ever runs
//! while a lock is held: closures, callbacks (which `cancel` runs) and drops of tasks and results
//! all happen after it is released.
//!
//! ## Wakeups without a shared lock (E1, E2)
//! * **E1** A worker about to sleep publishes `unwoken` (SeqCst) and then, after a SeqCst fence,
//!   re-checks the queue; a submitter pushes, fences, and reads `unwoken`. Store-buffering is
//!   ruled out by the two fences, so either the worker sees the entry and does not sleep, or the
//!   submitter sees the sleeper and wakes it (under the sleep lock, which the sleeper holds from
//!   its check until it waits). A burst of submissions to busy workers costs no lock beyond the
//!   push lock, and at most one `notify_one` per sleeping worker.
//! * **E2** The same handshake between a submitter blocked on a full bounded queue (`blocked`,
//!   then the queue length) and a worker that took an entry (`head`, then `blocked`).
//!
//! ## I10 (no lost task)
//! Submission and shutdown take the push lock: a submission either sees `shutdown` and hands the
//! closure back, or its entry is in the ring before `shutdown` is set. A worker reads `shutdown`
//! *before* it looks at the queue and leaves only when it read `true` and then found the queue
//! empty — so every entry accepted before the shutdown was visible to it. `shutdown_now` drains
//! the queue under both locks and sets `stop`, which workers check under the pop lock; a drained
//! task is cancelled and returned. A queue entry dropped unrun cancels its task ([`QueuedJob`]'s
//! drop guard), as does the ring dropping what is left in it.

use super::job::{QueuedJob, ReclaimedJob, Runnable};
use super::ring::Ring;
use crate::failure::State;
use crate::foreign::Panics;
use crate::sync::{
    self, fence, thread_local, AtomicBool, AtomicUsize, Condvar, Deadline, JoinHandle, Mutex,
    Ordering::{Relaxed, SeqCst},
    ThreadBuilder,
};
use crate::task::{Closure, FutureTask};
use crate::TaskHandle;
use std::cell::Cell;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

/// What a submission does when the bounded queue is full.
///
/// ```
/// use futuretask::executor::{Policy, ThreadPool};
/// use std::thread;
///
/// assert_eq!(Policy::default(), Policy::Block);
/// let pool = ThreadPool::builder().workers(1).queue_bound(1).when_full(Policy::CallerRuns);
/// let pool = pool.build().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// pool.execute(move || drop(rx.recv())).unwrap(); // occupies the only worker
/// while pool.queued() != 0 {
///     thread::yield_now();
/// }
/// pool.execute(|| {}).unwrap(); // fills the queue
/// let here = pool.submit(|| thread::current().id()).unwrap(); // full: runs right here
/// assert_eq!(*here.try_get().unwrap().unwrap(), thread::current().id());
/// drop(tx);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Policy {
    /// Block the submitter until there is room (or the pool shuts down, which rejects).
    #[default]
    Block,
    /// Reject at once: the closure comes back in [`Rejected`] with [`RejectReason::QueueFull`].
    Reject,
    /// Run the task on the submitting thread (Java's `CallerRunsPolicy`): a natural brake on a
    /// producer that outpaces the pool. The returned handle is already done.
    CallerRuns,
}

/// Why a [`Builder`] (or [`crate::executor::Map::window`]) refused its arguments.
///
/// ```
/// use futuretask::executor::{BuildError, Policy, ThreadPool};
///
/// let zero = ThreadPool::new(0).unwrap_err();
/// assert!(matches!(zero, BuildError::ZeroWorkers));
/// assert_eq!(zero.to_string(), "a thread pool needs at least one worker");
/// let no_queue = ThreadPool::builder().queue_bound(0).when_full(Policy::Block).build();
/// assert!(matches!(no_queue, Err(BuildError::ZeroQueueBound)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// A pool needs at least one worker.
    ZeroWorkers,
    /// `queue_bound(0)` with [`Policy::Block`]: there is no queue to wait for room in. (With
    /// [`Policy::Reject`] or [`Policy::CallerRuns`] a bound of 0 is a direct hand-off: a task is
    /// accepted only when an idle worker can take it at once.)
    ZeroQueueBound,
    /// A map window of 0 would never start a task.
    ZeroWindow,
    /// More workers than [`ThreadPool::MAX_WORKERS`]: refused before any memory is reserved or
    /// any thread is started.
    TooManyWorkers {
        /// The number asked for.
        requested: usize,
        /// The largest number accepted.
        max: usize,
    },
    /// A queue bound above [`ThreadPool::MAX_QUEUE_BOUND`] (no queue that long can be
    /// allocated); leave the queue unbounded instead.
    QueueBoundTooLarge {
        /// The bound asked for.
        requested: usize,
        /// The largest bound accepted.
        max: usize,
    },
    /// The operating system refused to start a worker thread (the pool was not built; the
    /// workers already started were shut down and joined).
    Spawn(std::io::Error),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::ZeroWorkers => f.write_str("a thread pool needs at least one worker"),
            BuildError::ZeroQueueBound => f.write_str(
                "queue bound 0 with Policy::Block would block every submission; use a bound of at \
                 least 1, or Policy::Reject / Policy::CallerRuns for a direct hand-off",
            ),
            BuildError::ZeroWindow => f.write_str("a map window must allow at least one task"),
            BuildError::TooManyWorkers { requested, max } => write!(
                f,
                "{requested} workers requested; a thread pool has at most {max}"
            ),
            BuildError::QueueBoundTooLarge { requested, max } => write!(
                f,
                "queue bound {requested} is larger than any queue can be ({max}); leave the queue \
                 unbounded instead"
            ),
            BuildError::Spawn(e) => write!(f, "could not start a worker thread: {e}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a submission was refused.
///
/// ```
/// use futuretask::executor::{Policy, RejectReason, ThreadPool};
///
/// let pool = ThreadPool::builder().workers(1).queue_bound(1).when_full(Policy::Reject);
/// let pool = pool.build().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// pool.execute(move || drop(rx.recv())).unwrap(); // occupies the only worker
/// while pool.queued() != 0 {
///     std::thread::yield_now();
/// }
/// pool.execute(|| {}).unwrap(); // fills the queue
/// assert_eq!(pool.execute(|| {}).unwrap_err().reason, RejectReason::QueueFull);
/// drop(tx);
/// pool.shutdown();
/// assert_eq!(pool.execute(|| {}).unwrap_err().reason, RejectReason::Shutdown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The pool was shut down (`shutdown`, `shutdown_now` or drop) before the submission.
    Shutdown,
    /// The bounded queue was full and the policy is [`Policy::Reject`].
    QueueFull,
}

/// A refused submission: the closure is handed back, never dropped silently (I10).
///
/// ```
/// use futuretask::executor::{RejectReason, ThreadPool};
///
/// let pool = ThreadPool::new(1).unwrap();
/// pool.shutdown();
/// let refused = pool.submit(|| 40 + 2).unwrap_err();
/// assert_eq!(refused.reason, RejectReason::Shutdown);
/// assert_eq!((refused.task)(), 42); // the closure comes back, never lost
/// ```
pub struct Rejected<F> {
    /// The closure that was not queued.
    pub task: F,
    /// Why.
    pub reason: RejectReason,
}

impl<F> Rejected<F> {
    /// The closure that was not queued.
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// pool.shutdown();
    /// let f = pool.submit(|| "still callable").unwrap_err().into_inner();
    /// assert_eq!(f(), "still callable");
    /// ```
    pub fn into_inner(self) -> F {
        self.task
    }
}

impl<F> fmt::Debug for Rejected<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for Rejected<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            RejectReason::Shutdown => f.write_str("task rejected: the pool is shut down"),
            RejectReason::QueueFull => f.write_str("task rejected: the queue is full"),
        }
    }
}

impl<F> std::error::Error for Rejected<F> {}

/// A queued task that never ran, as reported by [`ThreadPool::shutdown_now`]. It has already been
/// cancelled (its waiters and callbacks were woken).
///
/// ```
/// use futuretask::{executor::ThreadPool, State};
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
pub struct Unstarted(Arc<dyn Runnable>);

impl Unstarted {
    /// Whether this is the task behind `handle` (identity).
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
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
        std::ptr::addr_eq(
            Arc::as_ptr(&self.0),
            handle.erased() as *const FutureTask<T>,
        )
    }

    /// The task's state ([`State::Cancelled`], unless someone ran it by hand through its handle
    /// before `shutdown_now` got to it).
    ///
    /// ```
    /// use futuretask::{executor::ThreadPool, State};
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
    /// no longer there (someone ran the task by hand through its handle first).
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
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

/// The closure of a task that [`ThreadPool::shutdown_now`] cancelled before it started, taken
/// back with [`Unstarted::into_job`]. `Send`: run it on any thread, at most once; dropping it
/// drops the closure.
///
/// ```
/// use futuretask::executor::{ThreadPool, UnstartedJob};
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
    /// use futuretask::executor::ThreadPool;
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

/// Configures a [`ThreadPool`]: `ThreadPool::builder().workers(4).name_prefix("io").build()`.
///
/// ```
/// use futuretask::executor::{Policy, ThreadPool};
///
/// let pool = ThreadPool::builder()
///     .workers(2)
///     .name_prefix("io")
///     .queue_bound(64)
///     .when_full(Policy::Reject)
///     .build()
///     .unwrap();
/// assert_eq!((pool.workers(), pool.name_prefix()), (2, "io"));
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    workers: Option<usize>,
    name_prefix: String,
    queue_bound: Option<usize>,
    policy: Policy,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            workers: None,
            name_prefix: "futuretask-worker".to_owned(),
            queue_bound: None,
            policy: Policy::Block,
        }
    }
}

impl Builder {
    /// Number of worker threads (default: the available parallelism; 2 under a model checker).
    /// Zero is refused by [`build`](Builder::build).
    ///
    /// ```
    /// use futuretask::executor::{BuildError, ThreadPool};
    ///
    /// assert_eq!(ThreadPool::builder().workers(3).build().unwrap().workers(), 3);
    /// let none = ThreadPool::builder().workers(0).build();
    /// assert!(matches!(none, Err(BuildError::ZeroWorkers)));
    /// ```
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// Worker thread names are `{prefix}-{index}` (default prefix `futuretask-worker`).
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).name_prefix("db").build().unwrap();
    /// let name = pool.submit(|| std::thread::current().name().map(String::from)).unwrap();
    /// assert_eq!(name.get().unwrap().as_deref(), Some("db-0"));
    /// ```
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }

    /// Bound the queue of waiting (not yet running) tasks; what happens when it is full is the
    /// [`when_full`](Builder::when_full) policy. Unbounded by default.
    ///
    /// ```
    /// use futuretask::executor::{Policy, ThreadPool};
    ///
    /// let pool = ThreadPool::builder().workers(1).queue_bound(2).when_full(Policy::Reject);
    /// let pool = pool.build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.execute(move || drop(rx.recv())).unwrap(); // occupies the only worker
    /// while pool.queued() != 0 {
    ///     std::thread::yield_now();
    /// }
    /// assert!(pool.execute(|| {}).is_ok() && pool.execute(|| {}).is_ok());
    /// assert!(pool.execute(|| {}).is_err()); // a third would exceed the bound
    /// drop(tx);
    /// ```
    pub fn queue_bound(mut self, n: usize) -> Self {
        self.queue_bound = Some(n);
        self
    }

    /// The policy for a full bounded queue (default [`Policy::Block`]).
    ///
    /// ```
    /// use futuretask::executor::{Policy, ThreadPool};
    ///
    /// let pool = ThreadPool::builder().workers(1).queue_bound(1).when_full(Policy::Block);
    /// let pool = pool.build().unwrap();
    /// // A submitter blocks while the queue is full; here it never is for long.
    /// let all: Vec<_> = (0..4).map(|i| pool.submit(move || i).unwrap()).collect();
    /// assert_eq!(all.iter().map(|h| *h.get().unwrap()).sum::<i32>(), 6);
    /// ```
    pub fn when_full(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Start the workers. Invalid arguments are refused here, before anything is allocated or
    /// started, never turned into a panic or a hang later.
    ///
    /// ```
    /// use futuretask::executor::{BuildError, ThreadPool};
    ///
    /// let absurd = ThreadPool::builder().workers(usize::MAX).build();
    /// assert!(matches!(absurd, Err(BuildError::TooManyWorkers { .. })));
    /// ```
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        let workers = match self.workers {
            Some(0) => return Err(BuildError::ZeroWorkers),
            Some(n) if n > ThreadPool::MAX_WORKERS => {
                return Err(BuildError::TooManyWorkers {
                    requested: n,
                    max: ThreadPool::MAX_WORKERS,
                })
            }
            Some(n) => n,
            None => default_workers().min(ThreadPool::MAX_WORKERS),
        };
        match self.queue_bound {
            Some(0) if self.policy == Policy::Block => return Err(BuildError::ZeroQueueBound),
            Some(n) if n > ThreadPool::MAX_QUEUE_BOUND => {
                return Err(BuildError::QueueBoundTooLarge {
                    requested: n,
                    max: ThreadPool::MAX_QUEUE_BOUND,
                })
            }
            _ => {}
        }
        let shared = Arc::new(Shared {
            queue: Ring::new(
                Admission { shutdown: false },
                Registry {
                    running: (0..workers).map(|_| None).collect(),
                    stop: false,
                },
            ),
            shutdown: AtomicBool::new(false),
            sleep: Mutex::new(Sleep {
                idle: 0,
                wakes: 0,
                spinning: false,
                live: workers,
            }),
            unwoken: AtomicUsize::new(0),
            blocked: AtomicUsize::new(0),
            work: Condvar::new(),
            room: Condvar::new(),
            term: Condvar::new(),
            bound: self.queue_bound,
            policy: self.policy,
        });
        let mut threads = Vec::with_capacity(workers);
        for idx in 0..workers {
            let sh = Arc::clone(&shared);
            let spawned = ThreadBuilder::new()
                .name(format!("{}-{idx}", self.name_prefix))
                .spawn(move || worker_main(sh, idx));
            match spawned {
                Ok(h) => threads.push(h),
                Err(e) => {
                    // The workers that never started will not decrement `live`.
                    sync::lock(&shared.sleep).live -= workers - idx;
                    shared.shut_down();
                    for h in threads {
                        let _ = h.join();
                    }
                    return Err(BuildError::Spawn(e));
                }
            }
        }
        Ok(ThreadPool {
            shared,
            threads: Mutex::new(threads),
            workers,
            name_prefix: self.name_prefix,
        })
    }
}

fn default_workers() -> usize {
    if sync::CHECKER {
        2
    } else {
        std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
    }
}

/// A fixed-size pool of named worker threads with one FIFO queue.
///
/// * [`submit`](ThreadPool::submit) returns a [`TaskHandle`] (the task's own `Arc`: one heap
///   allocation per task holds the closure, the state and the result; the queue entry is that
///   `Arc`, type-erased); [`execute`](ThreadPool::execute) is fire-and-forget.
/// * A submission after shutdown, or to a full queue under [`Policy::Reject`], returns
///   [`Rejected`] with the closure.
/// * A panicking task fails its own future; the worker goes on.
/// * [`shutdown`](ThreadPool::shutdown) lets queued tasks run;
///   [`shutdown_now`](ThreadPool::shutdown_now) cancels them (waking their waiters) and interrupts
///   the running ones (cooperatively, see [`crate::current::is_interrupted`]).
/// * Dropping the pool shuts it down and joins the workers after the queue drained (Python's
///   `with ThreadPoolExecutor() as pool:`).
///
/// ```
/// use futuretask::executor::ThreadPool;
///
/// let pool = ThreadPool::new(2).unwrap();
/// let bad = pool.submit(|| -> u8 { panic!("task bug") }).unwrap();
/// assert!(bad.get().is_err()); // the panic fails its own future...
/// let good = pool.submit(|| 2).unwrap();
/// assert_eq!(*good.get().unwrap(), 2); // ...and the worker goes on
/// drop(pool); // shuts down and joins the workers
/// ```
pub struct ThreadPool {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    workers: usize,
    name_prefix: String,
}

pub(crate) struct Shared {
    /// The queue; its push lock guards [`Admission`], its pop lock the worker [`Registry`].
    queue: Ring<QueuedJob, Admission, Registry>,
    /// `Admission::shutdown`, readable without the push lock (set under it, never cleared).
    shutdown: AtomicBool,
    sleep: Mutex<Sleep>,
    /// `idle - wakes` (stored under the sleep lock): sleeping workers nobody has woken yet. What
    /// a submitter reads, after a SeqCst fence, to decide whether it must wake one (E1).
    unwoken: AtomicUsize,
    /// Submitters waiting on `room` (changed under the push lock). What a worker reads, after a
    /// SeqCst fence, to decide whether it must signal room (E2).
    blocked: AtomicUsize,
    /// Idle workers wait here (with the sleep lock) for work or shutdown.
    work: Condvar,
    /// Submitters wait here (with the push lock) for room in a full queue (`Policy::Block`).
    room: Condvar,
    /// `await_termination` waits here (with the sleep lock) for the last worker to leave.
    term: Condvar,
    bound: Option<usize>,
    policy: Policy,
}

/// Guarded by the push lock.
struct Admission {
    /// What submitters decide on. `Shared::shutdown` is its copy for readers without the lock;
    /// a plain field here keeps the admission decision free of atomic accesses (each one is a
    /// scheduling point for loom: reading the atomic here made `submit_shutdown` 8.5x larger).
    shutdown: bool,
}

/// Guarded by the pop lock.
struct Registry {
    /// What each worker runs (a second reference, for `shutdown_now`'s interrupt). A finished
    /// task stays here until its worker takes the next one or goes idle.
    running: Vec<Option<Arc<dyn Runnable>>>,
    /// `shutdown_now`: workers leave without taking more work (the queue was drained).
    stop: bool,
}

/// Guarded by the sleep lock.
struct Sleep {
    /// Workers waiting on `work` (or about to).
    idle: usize,
    /// `notify_one`s sent on `work` that no worker has consumed yet.
    wakes: usize,
    /// A worker is watching the queue before it sleeps (at most one at a time); it will find new
    /// work without being woken.
    spinning: bool,
    /// Workers that have not left yet.
    live: usize,
}

impl Sleep {
    /// Whether a new queue entry needs a `notify_one`: some worker sleeps that nobody woke yet,
    /// and no worker is spinning (a spinner finds the entry by itself). Claims the wake.
    #[inline]
    fn claim_wake(&mut self) -> bool {
        let wake = self.idle > self.wakes && !self.spinning;
        if wake {
            self.wakes += 1;
        }
        wake
    }
}

impl Shared {
    /// Publish `idle - wakes` for lock-free readers (E1). Called with the sleep lock held after
    /// every change of either.
    #[inline]
    fn publish_unwoken(&self, s: &Sleep) {
        self.unwoken.store(s.idle - s.wakes, SeqCst);
    }

    /// After a queue entry was added (and a SeqCst fence): wake a sleeping worker if one is not
    /// woken yet (E1). Usually one load.
    #[inline]
    fn wake_for_new_work(&self) {
        if self.unwoken.load(Relaxed) > 0 {
            let mut s = sync::lock(&self.sleep);
            let wake = s.claim_wake();
            self.publish_unwoken(&s);
            drop(s);
            if wake {
                self.work.notify_one();
            }
        }
    }

    /// Block an idle worker until it is woken, unless work or shutdown is already visible.
    fn sleep_until_work(&self) {
        let mut s = sync::lock(&self.sleep);
        s.idle += 1;
        self.publish_unwoken(&s);
        // E1 (Dekker with `enqueue`): our `unwoken` store, then the queue; the submitter's push,
        // then `unwoken`. One of the two sees the other's write.
        fence(SeqCst);
        if self.queue.is_empty() && !self.shutdown.load(SeqCst) {
            s = sync::wait(&self.work, s);
            s.wakes = s.wakes.saturating_sub(1);
        }
        s.idle -= 1;
        self.publish_unwoken(&s);
    }

    /// Watch the queue for a while before sleeping, if no other worker does. Whether it did.
    fn try_spin(&self) -> bool {
        {
            let mut s = sync::lock(&self.sleep);
            if s.spinning {
                return false;
            }
            s.spinning = true;
        }
        spin_for_work(|| !self.queue.is_empty());
        // Cleared under the sleep lock: a submitter that saw `spinning` (and so woke no one)
        // published its entry before this, and our next pop sees it.
        sync::lock(&self.sleep).spinning = false;
        true
    }

    /// After a worker took an entry (and so made room) and a SeqCst fence: signal a submitter
    /// blocked on a full queue (E2). Usually one load.
    #[inline]
    fn signal_room(&self) {
        if self.blocked.load(Relaxed) > 0 {
            // Under the push lock: a submitter that counted itself in `blocked` is waiting on
            // `room` by the time we get the lock (or has found room and left).
            let _g = self.queue.lock_push();
            self.room.notify_one();
        }
    }

    /// Whether a submission can be queued now (bounded queues). Entries a woken worker is about
    /// to take do not count against the bound, and a sleeping worker nobody woke yet is room
    /// too (hand-off).
    #[inline]
    fn has_room(&self, queued: usize, s: &Sleep) -> bool {
        match self.bound {
            None => true,
            Some(b) => queued.saturating_sub(s.wakes) < b || s.idle > s.wakes,
        }
    }

    /// Refuse submissions from now on and wake everyone who waits for a change (I10).
    fn shut_down(&self) {
        {
            let mut g = self.queue.lock_push();
            g.shutdown = true;
            self.shutdown.store(true, SeqCst);
        }
        self.wake_everyone();
    }

    /// After `shutdown` was set: wake blocked submitters (they re-check it under the push lock)
    /// and idle workers.
    fn wake_everyone(&self) {
        self.room.notify_all();
        // Under the sleep lock: a worker about to sleep either sees the flag or is waiting.
        let _s = sync::lock(&self.sleep);
        self.work.notify_all();
    }
}

/// How long a worker that ran out of work watches the queue before it sleeps: a burst of small
/// submissions then costs no futex wake per task. Under a checker, one yield (so the protocol is
/// still explored); on one CPU, not at all.
fn spin_for_work(work: impl Fn() -> bool) {
    if sync::CHECKER {
        sync::yield_now();
        return;
    }
    if !sync::spin_allowed() {
        return;
    }
    for round in 0..SPIN_ROUNDS {
        if work() {
            return;
        }
        if round % 16 == 15 {
            sync::yield_now();
        } else {
            for _ in 0..64 {
                sync::spin_loop();
            }
        }
    }
}

/// Rounds of [`spin_for_work`]: a few microseconds of watching, with a yield every 16 rounds so
/// an oversubscribed machine runs the submitter instead.
const SPIN_ROUNDS: u32 = 128;

thread_local! {
    /// The pool (`Arc::as_ptr` of its `Shared`) whose worker this thread is; 0 elsewhere.
    #[allow(clippy::missing_const_for_thread_local)]
    static WORKER_OF: Cell<usize> = Cell::new(0);
}

/// Run `f`, containing a panic (a task's result or closure with a panicking `Drop`): a worker
/// never unwinds because of user code.
#[inline]
fn contained(f: impl FnOnce()) {
    crate::foreign::isolate(f);
}

/// A refused submission: the task was never shared (no queue entry, no handle), so its closure
/// is still in it, unclaimed; hand it back (I10: nothing is dropped silently).
fn refused<T, F: FnOnce() -> T + Send>(
    task: Arc<FutureTask<T, Closure<F>>>,
    reason: RejectReason,
) -> Rejected<F> {
    let task =
        Arc::try_unwrap(task).unwrap_or_else(|_| unreachable!("a refused task has no other owner"));
    Rejected {
        task: task.into_closure().expect("a refused task was never run"),
        reason,
    }
}

fn worker_main(shared: Arc<Shared>, idx: usize) {
    WORKER_OF.with(|w| w.set(Arc::as_ptr(&shared) as usize));
    // Leave through the guard, even if something unexpected unwinds: `live` must reach 0 for
    // `await_termination`, and the running slot must be released.
    let exit = ExitGuard {
        shared: &shared,
        idx,
    };
    let sh = &*shared;
    let mut spun = false;
    loop {
        // I10: read `shutdown` *before* looking at the queue. It is set under the push lock after
        // every accepted push, so once it reads true an empty queue stays empty: nothing
        // accepted is left behind when we leave below.
        let shut = sh.shutdown.load(SeqCst);
        let mut w = sh.queue.lock_pop();
        if w.stop {
            break;
        }
        if let Some(job) = w.pop() {
            let more = !w.is_empty();
            // The registry entry becomes the task's owning reference (no clone): it stays there
            // until this worker takes its next task or leaves, so the pointer below is valid for
            // the run; `shutdown_now` only clones it.
            let task = job.into_task();
            let current: *const dyn Runnable = Arc::as_ptr(&task);
            let finished = w.running[idx].replace(task);
            drop(w);
            // E1/E2: our `head` store (in `pop`), then the waiter counts.
            fence(SeqCst);
            sh.signal_room();
            if more {
                // More work than this worker: pass the wake on (a spinner took this entry without
                // anyone being woken for the rest).
                sh.wake_for_new_work();
            }
            if let Some(t) = finished {
                contained(move || drop(t));
            }
            // SAFETY: `running[idx]` holds an `Arc` of this task until this worker replaces or
            // takes it (the loop below, or `ExitGuard`); nobody else removes it (I10: the registry
            // is how `shutdown_now` reaches a running task).
            contained(|| unsafe { (*current).run_task() });
            spun = false;
            continue;
        }
        if let Some(t) = w.running[idx].take() {
            // Release the finished task outside the lock (its drop may run user code), then
            // look at the queue again.
            drop(w);
            contained(move || drop(t));
            continue;
        }
        drop(w);
        if shut {
            break;
        }
        if !spun && sh.try_spin() {
            spun = true;
            continue;
        }
        sh.sleep_until_work();
        spun = false;
    }
    drop(exit);
}

struct ExitGuard<'a> {
    shared: &'a Shared,
    idx: usize,
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        let sh = self.shared;
        let finished = sh.queue.lock_pop().running[self.idx].take();
        let mut s = sync::lock(&sh.sleep);
        s.live -= 1;
        if s.live == 0 {
            sh.term.notify_all();
        }
        drop(s);
        if let Some(t) = finished {
            // Leaving with a task taken but (after an unexpected unwind) perhaps not run: cancel
            // it so its waiters wake (I10); after a run this is one load.
            contained(move || {
                t.cancel_task(false);
                drop(t)
            });
        }
    }
}

impl ThreadPool {
    /// The most workers a pool accepts (each is an operating-system thread).
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    /// assert!(ThreadPool::new(ThreadPool::MAX_WORKERS + 1).is_err());
    /// ```
    pub const MAX_WORKERS: usize = 1 << 15;

    /// The largest queue bound a pool accepts: the most entries its ring buffer (one pointer
    /// pair per entry, a power-of-two capacity) can be allocated for.
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    /// assert!(ThreadPool::builder().queue_bound(usize::MAX).build().is_err());
    /// ```
    pub const MAX_QUEUE_BOUND: usize =
        (isize::MAX as usize / std::mem::size_of::<QueuedJob>() / 2).next_power_of_two();

    /// A pool of `workers` threads with an unbounded queue. Zero workers is an error.
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
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
    /// use futuretask::executor::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// assert_eq!(pool.name_prefix(), "futuretask-worker"); // the default
    /// assert!(!pool.is_shutdown());
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Number of worker threads.
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    ///
    /// assert_eq!(ThreadPool::new(3).unwrap().workers(), 3);
    /// ```
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The worker thread name prefix.
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
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
    /// use futuretask::executor::ThreadPool;
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
    /// [`Failure`](crate::Failure)) or the cancellation. One heap allocation: the task.
    ///
    /// After shutdown — or with a full queue under [`Policy::Reject`] — the closure comes back in
    /// `Err(Rejected { task, reason })`. Under [`Policy::Block`] a full queue blocks the caller;
    /// under [`Policy::CallerRuns`] the caller runs the task and gets a finished handle.
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
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
        self.enqueue(Arc::new(FutureTask::new(f)))
            .map(|task| TaskHandle::from(task as Arc<FutureTask<T>>))
    }

    /// Fire and forget. A panic is reported by the panic hook and contained: the worker goes on.
    /// Refused like [`submit`](ThreadPool::submit), with the closure handed back.
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
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
        self.enqueue(Arc::new(FutureTask::new(f))).map(drop)
    }

    /// The one submission path. The task (the one allocation) is built by the caller, before the
    /// lock: the critical section is the admission decision and a push. A refused task is still
    /// unshared, so its closure is taken back out of it and handed to the caller.
    #[inline]
    fn enqueue<T, F>(
        &self,
        task: Arc<FutureTask<T, Closure<F>>>,
    ) -> Result<Arc<FutureTask<T, Closure<F>>>, Rejected<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        let sh = &*self.shared;
        let mut g = sh.queue.lock_push();
        if sh.bound.is_none() {
            if g.shutdown {
                drop(g);
                return Err(refused(task, RejectReason::Shutdown));
            }
            g.push(QueuedJob::new(Arc::clone(&task) as Arc<dyn Runnable>));
            drop(g);
            // E1 (Dekker with `sleep_until_work`): our push, then `unwoken`.
            fence(SeqCst);
            sh.wake_for_new_work();
            return Ok(task);
        }
        // Bounded: the admission decision needs the exact sleep state (a sleeping worker is room,
        // and claiming it must be atomic with the push). Nesting: push lock, then sleep lock.
        loop {
            if g.shutdown {
                drop(g);
                return Err(refused(task, RejectReason::Shutdown));
            }
            let mut s = sync::lock(&sh.sleep);
            if sh.has_room(g.len(), &s) {
                g.push(QueuedJob::new(Arc::clone(&task) as Arc<dyn Runnable>));
                let wake = s.claim_wake();
                sh.publish_unwoken(&s);
                drop(s);
                drop(g);
                if wake {
                    sh.work.notify_one();
                }
                return Ok(task);
            }
            drop(s);
            match sh.policy {
                Policy::Block => {
                    sh.blocked.fetch_add(1, SeqCst);
                    // E2 (Dekker with the worker's pop): our `blocked` count, then the queue.
                    fence(SeqCst);
                    let s = sync::lock(&sh.sleep);
                    let room = sh.has_room(g.len(), &s);
                    drop(s);
                    if !room {
                        g = g.wait(&sh.room);
                    }
                    sh.blocked.fetch_sub(1, SeqCst);
                }
                Policy::Reject => {
                    drop(g);
                    return Err(refused(task, RejectReason::QueueFull));
                }
                Policy::CallerRuns => {
                    drop(g);
                    task.run();
                    return Ok(task);
                }
            }
        }
    }

    /// Stop accepting tasks; queued and running tasks still run, then the workers leave. Does not
    /// wait (see [`await_termination`](ThreadPool::await_termination), or drop the pool).
    /// Idempotent.
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let queued = pool.submit(|| 3).unwrap();
    /// pool.shutdown();
    /// pool.shutdown(); // idempotent
    /// assert!(pool.is_shutdown() && pool.execute(|| {}).is_err());
    /// assert_eq!(*queued.get().unwrap(), 3); // accepted tasks still run
    /// ```
    pub fn shutdown(&self) {
        self.shared.shut_down();
    }

    /// Stop accepting tasks, cancel every queued task (its waiters and callbacks wake now) and
    /// cancel every running one with interrupt (cooperative: the closure sees
    /// [`crate::current::is_interrupted`] and its thread is unparked). Returns the tasks that never started,
    /// already cancelled: any a worker had taken but not yet started, then the queue in order;
    /// [`Unstarted::into_job`] takes a closure back to run it elsewhere.
    ///
    /// ```
    /// use futuretask::{current, executor::ThreadPool};
    /// use std::thread;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (started, on_start) = std::sync::mpsc::channel();
    /// let running = pool.submit(move || {
    ///     started.send(()).unwrap();
    ///     while !current::is_interrupted() {
    ///         thread::park(); // `shutdown_now` unparks it
    ///     }
    /// }).unwrap();
    /// let queued = pool.submit(|| 2).unwrap();
    /// on_start.recv().unwrap();
    /// let unstarted = pool.shutdown_now();
    /// assert!(unstarted.len() == 1 && unstarted[0].is(&queued));
    /// assert!(queued.is_cancelled() && running.snapshot().interrupted());
    /// ```
    pub fn shutdown_now(&self) -> Vec<Unstarted> {
        let sh = &*self.shared;
        let (queued, running): (Vec<QueuedJob>, Vec<Arc<dyn Runnable>>) = {
            let mut g = sh.queue.lock_push();
            g.shutdown = true;
            sh.shutdown.store(true, SeqCst);
            let mut w = g.lock_pop();
            w.stop = true;
            let queued = std::iter::from_fn(|| w.pop()).collect();
            let running = w.running.iter().flatten().cloned().collect();
            (queued, running)
        };
        sh.wake_everyone();
        // Outside the locks: cancelling runs wakers (user code). A task a worker has taken but
        // not yet started counts as never started when our cancel beats its claim (it will not
        // start then, I4). Every task is cancelled whatever a waker does; the first waker panic
        // is raised afterwards (I11).
        let mut panics = Panics::none();
        let mut unstarted = Vec::with_capacity(queued.len());
        for task in running {
            // `started` is frozen once our cancel won (I4): read it after winning. A waker's panic
            // comes from the drain, after the cancel won (I11).
            let mut won = true;
            panics.call(|| won = task.cancel_task(true));
            if won && !task.started() {
                unstarted.push(Unstarted(task));
            }
        }
        for job in queued {
            let task = job.into_task();
            panics.call(|| {
                task.cancel_task(false);
            });
            unstarted.push(Unstarted(task));
        }
        panics.resume();
        unstarted
    }

    /// Stop accepting tasks and cancel every queued one (its waiters and callbacks wake now), but
    /// let the running tasks finish undisturbed (no interrupt); then the workers leave (CPython's
    /// `shutdown(wait=False, cancel_futures=True)`). Returns the cancelled tasks, in queue order.
    /// Does not wait (see [`await_termination`](ThreadPool::await_termination)).
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let running = pool.submit(move || rx.recv().unwrap()).unwrap();
    /// let queued = pool.submit(|| 0).unwrap();
    /// while pool.queued() != 1 {
    ///     std::thread::yield_now();
    /// }
    /// let cancelled = pool.shutdown_cancel_queued();
    /// assert!(queued.is_cancelled() && cancelled[0].is(&queued));
    /// tx.send(7).unwrap();
    /// assert_eq!(*running.get().unwrap(), 7); // ran to completion
    /// assert!(pool.await_termination(Duration::from_secs(10)));
    /// ```
    pub fn shutdown_cancel_queued(&self) -> Vec<Unstarted> {
        let sh = &*self.shared;
        let queued: Vec<QueuedJob> = {
            let mut g = sh.queue.lock_push();
            g.shutdown = true;
            sh.shutdown.store(true, SeqCst);
            let mut w = g.lock_pop();
            std::iter::from_fn(|| w.pop()).collect()
        };
        sh.wake_everyone();
        // Outside the locks: cancelling runs wakers (user code). Every task is cancelled
        // whatever a waker does; the first waker panic is raised afterwards (I11).
        let mut panics = Panics::none();
        let mut unstarted = Vec::with_capacity(queued.len());
        for job in queued {
            let task = job.into_task();
            // A waker's panic comes from the drain, after the cancel won.
            let mut won = true;
            panics.call(|| won = task.cancel_task(false));
            // A queued task is unstarted unless someone ran it by hand through its handle.
            if won || !task.started() {
                unstarted.push(Unstarted(task));
            }
        }
        panics.resume();
        unstarted
    }

    /// Wait until the pool has shut down and every worker has left, at most `timeout` (a timeout
    /// too large for the clock waits without a deadline). Returns whether it terminated. Called
    /// from one of this pool's own workers it returns `false` at once (that worker is still
    /// running).
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// assert!(!pool.await_termination(Duration::from_millis(1))); // not shut down
    /// let h = pool.submit(|| 1).unwrap();
    /// pool.shutdown();
    /// assert!(pool.await_termination(Duration::from_secs(10)));
    /// assert!(h.is_done() && pool.is_terminated());
    /// ```
    pub fn await_termination(&self, timeout: Duration) -> bool {
        let sh = &*self.shared;
        if self.on_own_worker() {
            return self.is_terminated();
        }
        let deadline = Deadline::after(timeout);
        let mut s = sync::lock(&sh.sleep);
        loop {
            if sh.shutdown.load(SeqCst) && s.live == 0 {
                return true;
            }
            s = match deadline {
                None => sync::wait(&sh.term, s),
                Some(d) => match d.remaining() {
                    None => return false,
                    Some(left) => sync::wait_timeout(&sh.term, &sh.sleep, s, left),
                },
            };
        }
    }

    /// Whether [`shutdown`](ThreadPool::shutdown) (or `shutdown_now`, or drop) was called.
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// assert!(!pool.is_shutdown());
    /// pool.shutdown();
    /// assert!(pool.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.shared.shutdown.load(SeqCst)
    }

    /// Whether the pool is shut down and every worker has left (so every task ran or was
    /// cancelled).
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// assert!(!pool.is_terminated());
    /// pool.shutdown();
    /// pool.await_termination(Duration::from_secs(10));
    /// assert!(pool.is_terminated()); // shut down and every worker left
    /// ```
    pub fn is_terminated(&self) -> bool {
        let s = sync::lock(&self.shared.sleep);
        self.shared.shutdown.load(SeqCst) && s.live == 0
    }

    /// Shut down, let the queue drain and join every worker (what dropping the pool does).
    ///
    /// ```
    /// use futuretask::executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let handles: Vec<_> = (1..=3).map(|i| pool.submit(move || i * i).unwrap()).collect();
    /// pool.join(); // the queue drains first
    /// let squares: Vec<_> = handles.iter().map(|h| *h.try_get().unwrap().unwrap()).collect();
    /// assert_eq!(squares, [1, 4, 9]);
    /// ```
    pub fn join(self) {
        drop(self);
    }

    fn on_own_worker(&self) -> bool {
        WORKER_OF.with(Cell::get) == Arc::as_ptr(&self.shared) as usize
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shutdown();
        let threads = std::mem::take(&mut *sync::lock(&self.threads));
        if self.on_own_worker() {
            // Dropped by one of its own tasks: this thread cannot join itself. The workers leave
            // on their own once the queue is empty; nothing is lost (I10).
            return;
        }
        for t in threads {
            // A worker never unwinds because of user code; ignore the impossible.
            let _ = t.join();
        }
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
