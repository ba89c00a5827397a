//! # futuretask-executor
//!
//! A thread pool on top of [`FutureTask`](futuretask::FutureTask): Java's `ThreadPoolExecutor`
//! and Python's `concurrent.futures.ThreadPoolExecutor`, with shutdown that never loses a task
//! (I10). It is built on the kernel's public API alone.
//!
//! ```
//! use futuretask_executor::{as_completed, ThreadPool};
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
//! | `submit` | [`ThreadPool::submit`] → [`TaskHandle`](futuretask::TaskHandle) (a reader: no `run`) |
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
//! threads, the clock — the kernel's mock clock under a checker), so the same code runs under
//! loom (`--cfg loom`) and shuttle (feature `shuttle`) for the I10 models.
//!
//! ## Layout
//! | file | concept |
//! |---|---|
//! | `pool.rs` | [`ThreadPool`]: the shared state, constructors, queries, `submit` / `execute` |
//! | `builder.rs` | [`Builder`], [`BuildError`] |
//! | `reject.rs` | [`Policy`], [`RejectReason`], [`Rejected`] |
//! | `admission.rs` | the submission path: admit, refuse, wait for room (E2) |
//! | `sleep.rs` | the workers' sleep protocol (E1) |
//! | `worker.rs` | the worker loop |
//! | `shutdown.rs` | `shutdown`, `shutdown_now`, `await_termination`, drop |
//! | `unstarted.rs` | [`Unstarted`], [`UnstartedJob`] |
//! | `ring.rs` | the two-lock queue (Q1–Q3) |
//! | `job.rs` | a task as the queue sees it; the entry that cancels its task if dropped unrun |
//! | `inbox.rs` | the completion inbox (N1–N4) behind the waits on many tasks |
//! | `wait.rs`, `map.rs`, `invoke.rs`, `completion.rs` | [`as_completed`] / [`wait`], [`ThreadPool::map`], `invoke_all` / `invoke_any`, [`CompletionService`] |
//! | `panics.rs`, `sync.rs` | containing user panics (I11); the loom / shuttle / std facade |

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod admission;
mod builder;
mod completion;
mod inbox;
mod invoke;
mod job;
mod map;
mod panics;
mod pool;
mod reject;
mod ring;
mod shutdown;
mod sleep;
mod sync;
mod unstarted;
mod wait;
mod worker;

pub use builder::{BuildError, Builder};
pub use completion::CompletionService;
pub use invoke::InvokeAnyError;
pub use map::{Map, MapError};
pub use pool::ThreadPool;
pub use reject::{Policy, RejectReason, Rejected};
pub use unstarted::{Unstarted, UnstartedJob};
pub use wait::{
    as_completed, wait, AsCompleted, DoneAndNotDone, Incomplete, Interrupted, ReturnWhen, TimedOut,
};
