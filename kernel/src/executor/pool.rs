//! [`ThreadPool`]: fixed named workers, one FIFO queue (optionally bounded), shutdown that never
//! loses a task (I10).
//!
//! ## Locking
//! One facade `Mutex` guards the queue and the pool's bookkeeping ([`Inner`]); three condition
//! variables hang off it (`work` for idle workers, `room` for submitters blocked on a full queue,
//! `term` for `await_termination`). No user code ever runs while the lock is held: closures,
//! callbacks (which `cancel` runs) and drops of tasks and results all happen after it is released.
//!
//! ## Wakeups
//! A submitter wakes a worker only when some worker sleeps that no earlier submitter has already
//! woken (`idle > wakes`), so a burst of submissions costs at most one `notify_one` per sleeping
//! worker, not one per task.
//!
//! ## I10 (no lost task)
//! Submission and shutdown take the same lock: a submission either sees `shutdown` and hands the
//! closure back, or its task is in the queue before shutdown is set. Workers leave only when the
//! queue is empty (`shutdown`) or after `shutdown_now` drained it (`stop`) — also under that lock —
//! so a queued task is always run, or cancelled and returned by `shutdown_now`. A queue entry
//! dropped unrun cancels its task ([`QueuedJob`]'s drop guard).

use super::job::{QueuedJob, Runnable};
use crate::failure::State;
use crate::sync::{
    self, thread_local, AtomicUsize, Condvar, Deadline, JoinHandle, Mutex, Ordering::Relaxed,
    ThreadBuilder,
};
use crate::task::{Closure, FutureTask, Job};
use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

/// The handle [`ThreadPool::submit`] returns: the task itself, type-erased over its closure.
/// `get`, `get_timeout`, `try_get`, `cancel`, `add_done_callback`, `wait_async` and `done` are
/// [`FutureTask`]'s.
pub type TaskHandle<T> = Arc<FutureTask<T>>;

/// What a submission does when the bounded queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The pool was shut down (`shutdown`, `shutdown_now` or drop) before the submission.
    Shutdown,
    /// The bounded queue was full and the policy is [`Policy::Reject`].
    QueueFull,
}

/// A refused submission: the closure is handed back, never dropped silently (I10).
pub struct Rejected<F> {
    /// The closure that was not queued.
    pub task: F,
    /// Why.
    pub reason: RejectReason,
}

impl<F> Rejected<F> {
    /// The closure that was not queued.
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
pub struct Unstarted(Arc<dyn Runnable>);

impl Unstarted {
    /// Whether this is the task behind `handle` (identity, e.g. against a [`TaskHandle`]).
    pub fn is<T, J: ?Sized + Job<T>>(&self, handle: &FutureTask<T, J>) -> bool {
        std::ptr::eq(
            Arc::as_ptr(&self.0) as *const (),
            handle as *const FutureTask<T, J> as *const (),
        )
    }

    /// The task's state ([`State::Cancelled`], unless someone ran it by hand through its handle
    /// before `shutdown_now` got to it).
    pub fn state(&self) -> State {
        self.0.task_state()
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
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// Worker thread names are `{prefix}-{index}` (default prefix `futuretask-worker`).
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }

    /// Bound the queue of waiting (not yet running) tasks; what happens when it is full is the
    /// [`when_full`](Builder::when_full) policy. Unbounded by default.
    pub fn queue_bound(mut self, n: usize) -> Self {
        self.queue_bound = Some(n);
        self
    }

    /// The policy for a full bounded queue (default [`Policy::Block`]).
    pub fn when_full(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Start the workers. Invalid arguments are refused here, never turned into a hang later.
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        let workers = match self.workers {
            Some(0) => return Err(BuildError::ZeroWorkers),
            Some(n) => n,
            None => default_workers(),
        };
        if self.queue_bound == Some(0) && self.policy == Policy::Block {
            return Err(BuildError::ZeroQueueBound);
        }
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                running: (0..workers).map(|_| None).collect(),
                idle: 0,
                wakes: 0,
                spinning: false,
                blocked: 0,
                shutdown: false,
                stop: false,
                live: workers,
            }),
            queued_hint: AtomicUsize::new(0),
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
                    {
                        let mut g = sync::lock(&shared.inner);
                        g.shutdown = true;
                        // The workers that never started will not decrement `live`.
                        g.live -= workers - idx;
                    }
                    shared.work.notify_all();
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
///   the running ones (cooperatively, see [`crate::interrupted`]).
/// * Dropping the pool shuts it down and joins the workers after the queue drained (Python's
///   `with ThreadPoolExecutor() as pool:`).
pub struct ThreadPool {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    workers: usize,
    name_prefix: String,
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// The queue length as of the last push or pop (written under the lock): what a spinning
    /// worker watches without taking the lock. Only a hint; the queue itself is always
    /// re-checked under the lock.
    queued_hint: AtomicUsize,
    /// Idle workers wait here for work or shutdown.
    work: Condvar,
    /// Submitters wait here for room in a full queue (`Policy::Block`).
    room: Condvar,
    /// `await_termination` waits here for the last worker to leave.
    term: Condvar,
    bound: Option<usize>,
    policy: Policy,
}

struct Inner {
    queue: VecDeque<QueuedJob>,
    /// What each worker runs (a second reference, for `shutdown_now`'s interrupt). A finished
    /// task stays here until its worker takes the next one or goes idle.
    running: Vec<Option<Arc<dyn Runnable>>>,
    /// Workers waiting on `work`.
    idle: usize,
    /// `notify_one`s sent on `work` that no worker has consumed yet.
    wakes: usize,
    /// A worker is spinning on `queued_hint` before it sleeps (at most one at a time); it will
    /// find new work without being woken.
    spinning: bool,
    /// Submitters waiting on `room`.
    blocked: usize,
    shutdown: bool,
    /// `shutdown_now`: workers leave without taking more work (the queue was drained).
    stop: bool,
    /// Workers that have not left yet.
    live: usize,
}

impl Shared {
    /// Whether a submission can be queued now. Entries a woken worker is about to take do not
    /// count against the bound, and a sleeping worker nobody woke yet is room too (hand-off).
    #[inline]
    fn has_room(&self, g: &Inner) -> bool {
        match self.bound {
            None => true,
            Some(b) => g.queue.len().saturating_sub(g.wakes) < b || g.idle > g.wakes,
        }
    }
}

impl Inner {
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

/// How long a worker that ran out of work watches the queue before it sleeps: a burst of small
/// submissions then costs no futex wake per task. Under a checker, one yield (so the protocol is
/// still explored); on one CPU, not at all.
fn spin_for_work(hint: &AtomicUsize) {
    if sync::CHECKER {
        sync::yield_now();
        return;
    }
    if !sync::spin_allowed() {
        return;
    }
    for round in 0..SPIN_ROUNDS {
        if hint.load(Relaxed) > 0 {
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
    let _ = catch_unwind(AssertUnwindSafe(f));
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
    let mut g = sync::lock(&sh.inner);
    loop {
        if g.stop {
            break;
        }
        if let Some(job) = g.queue.pop_front() {
            sh.queued_hint.store(g.queue.len(), Relaxed);
            let room = g.blocked > 0;
            // More work than this worker: pass the wake on (a spinner took this entry without
            // anyone being woken for the rest).
            let chain = !g.queue.is_empty() && g.claim_wake();
            // The registry entry becomes the task's owning reference (no clone): it stays there
            // until this worker takes its next task or leaves, so the pointer below is valid for
            // the run; `shutdown_now` only clones it.
            let task = job.into_task();
            let current: *const dyn Runnable = Arc::as_ptr(&task);
            let finished = g.running[idx].replace(task);
            drop(g);
            if room {
                sh.room.notify_one();
            }
            if chain {
                sh.work.notify_one();
            }
            if let Some(t) = finished {
                contained(move || drop(t));
            }
            // SAFETY: `running[idx]` holds an `Arc` of this task until this worker replaces or
            // takes it (the loop below, or `ExitGuard`); nobody else removes it (I10: the registry
            // is how `shutdown_now` reaches a running task).
            contained(|| unsafe { (*current).run_task() });
            spun = false;
            g = sync::lock(&sh.inner);
            continue;
        }
        if let Some(t) = g.running[idx].take() {
            // Release the finished task outside the lock (its drop may run user code), then
            // look at the queue again.
            drop(g);
            contained(move || drop(t));
            g = sync::lock(&sh.inner);
            continue;
        }
        if g.shutdown {
            break;
        }
        if !spun && !g.spinning {
            g.spinning = true;
            drop(g);
            spin_for_work(&sh.queued_hint);
            spun = true;
            g = sync::lock(&sh.inner);
            g.spinning = false;
            continue;
        }
        g.idle += 1;
        g = sync::wait(&sh.work, g);
        g.idle -= 1;
        g.wakes = g.wakes.saturating_sub(1);
        spun = false;
    }
    drop(g);
    drop(exit);
}

struct ExitGuard<'a> {
    shared: &'a Shared,
    idx: usize,
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        let sh = self.shared;
        let mut g = sync::lock(&sh.inner);
        let finished = g.running[self.idx].take();
        g.live -= 1;
        let last = g.live == 0;
        drop(g);
        if last {
            sh.term.notify_all();
        }
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
    /// A pool of `workers` threads with an unbounded queue. Zero workers is an error.
    pub fn new(workers: usize) -> Result<ThreadPool, BuildError> {
        ThreadPool::builder().workers(workers).build()
    }

    /// A [`Builder`] with the defaults: available parallelism, unbounded queue.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The worker thread name prefix.
    pub fn name_prefix(&self) -> &str {
        &self.name_prefix
    }

    /// Number of tasks waiting in the queue (not yet started).
    pub fn queued(&self) -> usize {
        sync::lock(&self.shared.inner).queue.len()
    }

    /// Submit a closure; its handle reports the value, the panic (as
    /// [`Failure`](crate::Failure)) or the cancellation. One heap allocation: the task.
    ///
    /// After shutdown — or with a full queue under [`Policy::Reject`] — the closure comes back in
    /// `Err(Rejected { task, reason })`. Under [`Policy::Block`] a full queue blocks the caller;
    /// under [`Policy::CallerRuns`] the caller runs the task and gets a finished handle.
    pub fn submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, Rejected<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        self.enqueue(Arc::new(FutureTask::new(f)))
            .map(|task| task as TaskHandle<T>)
    }

    /// Fire and forget. A panic is reported by the panic hook and contained: the worker goes on.
    /// Refused like [`submit`](ThreadPool::submit), with the closure handed back.
    pub fn execute<F>(&self, f: F) -> Result<(), Rejected<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.enqueue(Arc::new(FutureTask::new(f))).map(drop)
    }

    /// The one submission path. The task (the one allocation) is built by the caller, before the
    /// lock: the critical section is the admission decision and a `push_back`. A refused task is
    /// still unshared, so its closure is taken back out of it and handed to the caller.
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
        let mut g = sync::lock(&sh.inner);
        loop {
            if g.shutdown {
                drop(g);
                return Err(refused(task, RejectReason::Shutdown));
            }
            if sh.has_room(&g) {
                break;
            }
            match sh.policy {
                Policy::Block => {
                    g.blocked += 1;
                    g = sync::wait(&sh.room, g);
                    g.blocked -= 1;
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
        g.queue
            .push_back(QueuedJob::new(Arc::clone(&task) as Arc<dyn Runnable>));
        sh.queued_hint.store(g.queue.len(), Relaxed);
        let wake = g.claim_wake();
        drop(g);
        if wake {
            sh.work.notify_one();
        }
        Ok(task)
    }

    /// Stop accepting tasks; queued and running tasks still run, then the workers leave. Does not
    /// wait (see [`await_termination`](ThreadPool::await_termination), or drop the pool).
    /// Idempotent.
    pub fn shutdown(&self) {
        let sh = &*self.shared;
        sync::lock(&sh.inner).shutdown = true;
        sh.work.notify_all();
        sh.room.notify_all();
    }

    /// Stop accepting tasks, cancel every queued task (its waiters and callbacks wake now) and
    /// `cancel(true)` every running one (cooperative interrupt: the closure sees
    /// [`crate::interrupted`] and its thread is unparked). Returns the tasks that never started,
    /// already cancelled: any a worker had taken but not yet started, then the queue in order.
    pub fn shutdown_now(&self) -> Vec<Unstarted> {
        let sh = &*self.shared;
        let (queued, running): (Vec<QueuedJob>, Vec<Arc<dyn Runnable>>) = {
            let mut g = sync::lock(&sh.inner);
            g.shutdown = true;
            g.stop = true;
            let queued = g.queue.drain(..).collect();
            sh.queued_hint.store(0, Relaxed);
            let running = g.running.iter().flatten().cloned().collect();
            (queued, running)
        };
        sh.work.notify_all();
        sh.room.notify_all();
        // Outside the lock: cancelling runs callbacks (user code). A task a worker has taken
        // but not yet started counts as never started when our cancel beats its claim (it will
        // not start then, I4).
        let mut unstarted = Vec::with_capacity(queued.len());
        for task in running {
            if task.cancel_task(true) && !task.started() {
                unstarted.push(Unstarted(task));
            }
        }
        for job in queued {
            let task = job.into_task();
            task.cancel_task(false);
            unstarted.push(Unstarted(task));
        }
        unstarted
    }

    /// Wait until the pool has shut down and every worker has left, at most `timeout` (a timeout
    /// too large for the clock waits without a deadline). Returns whether it terminated. Called
    /// from one of this pool's own workers it returns `false` at once (that worker is still
    /// running).
    pub fn await_termination(&self, timeout: Duration) -> bool {
        let sh = &*self.shared;
        if self.on_own_worker() {
            return self.is_terminated();
        }
        let deadline = Deadline::after(timeout);
        let mut g = sync::lock(&sh.inner);
        loop {
            if g.shutdown && g.live == 0 {
                return true;
            }
            g = match deadline {
                None => sync::wait(&sh.term, g),
                Some(d) => match d.remaining() {
                    None => return false,
                    Some(left) => sync::wait_timeout(&sh.term, &sh.inner, g, left),
                },
            };
        }
    }

    /// Whether [`shutdown`](ThreadPool::shutdown) (or `shutdown_now`, or drop) was called.
    pub fn is_shutdown(&self) -> bool {
        sync::lock(&self.shared.inner).shutdown
    }

    /// Whether the pool is shut down and every worker has left (so every task ran or was
    /// cancelled).
    pub fn is_terminated(&self) -> bool {
        let g = sync::lock(&self.shared.inner);
        g.shutdown && g.live == 0
    }

    /// Shut down, let the queue drain and join every worker (what dropping the pool does).
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
        let g = sync::lock(&self.shared.inner);
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers)
            .field("name_prefix", &self.name_prefix)
            .field("queued", &g.queue.len())
            .field("bound", &self.shared.bound)
            .field("policy", &self.shared.policy)
            .field("shutdown", &g.shutdown)
            .field("live", &g.live)
            .finish()
    }
}
