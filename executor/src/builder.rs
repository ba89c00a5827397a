//! Configuring and starting a pool: [`Builder`], and [`BuildError`] for the arguments it refuses
//! before anything is allocated or started.

use crate::pool::{Shared, ThreadPool};
use crate::reject::Policy;
use crate::{sync, worker};
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;

/// Configures a [`ThreadPool`]: `ThreadPool::builder().workers(4).name_prefix("io").build()`.
///
/// ```
/// use futuretask_executor::{Policy, ThreadPool};
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
    /// use futuretask_executor::{BuildError, ThreadPool};
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
    /// use futuretask_executor::ThreadPool;
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
    /// use futuretask_executor::{Policy, ThreadPool};
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
    /// use futuretask_executor::{Policy, ThreadPool};
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
    /// use futuretask_executor::{BuildError, ThreadPool};
    ///
    /// let absurd = ThreadPool::builder().workers(usize::MAX).build();
    /// assert!(matches!(absurd, Err(BuildError::TooManyWorkers { .. })));
    /// ```
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        let workers = self.checked_workers()?;
        self.check_queue_bound()?;
        let shared = Arc::new(Shared::new(workers, self.queue_bound, self.policy));
        let threads =
            worker::spawn(&shared, workers, &self.name_prefix).map_err(BuildError::Spawn)?;
        Ok(ThreadPool::assemble(shared, threads, self.name_prefix))
    }

    /// The number of workers asked for (or the default), if a pool may have that many.
    fn checked_workers(&self) -> Result<usize, BuildError> {
        match self.workers {
            Some(0) => Err(BuildError::ZeroWorkers),
            Some(n) if n > ThreadPool::MAX_WORKERS => Err(BuildError::TooManyWorkers {
                requested: n,
                max: ThreadPool::MAX_WORKERS,
            }),
            Some(n) => Ok(n),
            None => Ok(default_workers().min(ThreadPool::MAX_WORKERS)),
        }
    }

    /// Whether the queue bound (if any) fits the policy and the largest ring.
    fn check_queue_bound(&self) -> Result<(), BuildError> {
        match self.queue_bound {
            Some(0) if self.policy == Policy::Block => Err(BuildError::ZeroQueueBound),
            Some(n) if n > ThreadPool::MAX_QUEUE_BOUND => Err(BuildError::QueueBoundTooLarge {
                requested: n,
                max: ThreadPool::MAX_QUEUE_BOUND,
            }),
            _ => Ok(()),
        }
    }
}

fn default_workers() -> usize {
    if sync::CHECKER {
        2
    } else {
        std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
    }
}

/// Why a [`Builder`] (or [`crate::Map::window`]) refused its arguments.
///
/// ```
/// use futuretask_executor::{BuildError, Policy, ThreadPool};
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
    /// [`BuildError::Spawn`]'s message already includes the I/O error's, so its source is that
    /// error's own source: a chain names each message once.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Spawn(e) => std::error::Error::source(e),
            _ => None,
        }
    }
}
