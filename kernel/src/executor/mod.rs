//! A thread pool on top of [`FutureTask`](crate::FutureTask): Java's `ThreadPoolExecutor` and
//! Python's `concurrent.futures.ThreadPoolExecutor`, with shutdown that never loses a task (I10).
//!
//! ```
//! use futuretask::executor::{as_completed, ThreadPool};
//!
//! let pool = ThreadPool::new(4).unwrap();
//! let square = pool.submit(|| 7 * 7).unwrap();
//! assert_eq!(*square.get().unwrap(), 49);
//!
//! // map: results in input order; a panic is that item's error
//! let out: Vec<_> = pool.map(1..=5, |x| x * 10).collect();
//! assert_eq!(out.into_iter().map(Result::unwrap).collect::<Vec<_>>(), [10, 20, 30, 40, 50]);
//!
//! // as_completed: in completion order, woken by the tasks' own waiter stacks (also on cancel)
//! let handles: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
//! let mut sum = 0;
//! for h in as_completed(handles, None) {
//!     sum += *h.unwrap().get().unwrap();
//! }
//! assert_eq!(sum, 3);
//! // dropping the pool shuts it down and joins the workers after the queue drained
//! ```
//!
//! | Java / Python | here |
//! |---|---|
//! | `Executors.newFixedThreadPool(n)` / `ThreadPoolExecutor(max_workers=n)` | [`ThreadPool::new`], [`ThreadPool::builder`] |
//! | `submit` | [`ThreadPool::submit`] → [`TaskHandle`](crate::TaskHandle) (a reader: no `run`) |
//! | `execute` | [`ThreadPool::execute`] |
//! | `RejectedExecutionException` | `Err(`[`Rejected`]`)`, the closure handed back |
//! | `ArrayBlockingQueue(n)` + `RejectedExecutionHandler` | [`Builder::queue_bound`] + [`Policy`] |
//! | `Executor.map(fn, *it, timeout=)` | [`ThreadPool::map`] (lazy, windowed, per-item errors) |
//! | `invokeAll` / `invokeAny` | [`ThreadPool::invoke_all`] / [`ThreadPool::invoke_any`] |
//! | `as_completed(fs, timeout)` / `wait(fs, timeout, return_when)` | [`as_completed`] / [`wait`] |
//! | `ExecutorCompletionService` (`submit`, `take`, `poll`) | [`CompletionService`] |
//! | `shutdown()` / `shutdownNow()` / `awaitTermination` | [`ThreadPool::shutdown`] / [`ThreadPool::shutdown_now`] / [`ThreadPool::await_termination`] |
//! | `with ThreadPoolExecutor() as pool:` | dropping the pool |
//!
//! Everything here goes through the crate's sync facade (mutexes, condition variables, worker
//! threads, the clock), so the same code runs under loom (`--cfg loom`) and shuttle (feature
//! `shuttle`) for the I10 models.

mod completion;
mod inbox;
mod invoke;
mod job;
mod map;
mod pool;
mod ring;
mod wait;

pub use completion::CompletionService;
pub use invoke::InvokeAnyError;
pub use map::{Map, MapError};
pub use pool::{
    BuildError, Builder, Policy, RejectReason, Rejected, ThreadPool, Unstarted, UnstartedJob,
};
pub use wait::{
    as_completed, wait, AsCompleted, DoneAndNotDone, Incomplete, Interrupted, ReturnWhen, TimedOut,
};
