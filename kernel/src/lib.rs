//! # futuretask
//!
//! A lock-free `FutureTask`: Java's `java.util.concurrent.FutureTask` contract, with the parts of
//! Python's `concurrent.futures.Future` people rely on, done the Rust way — and checked by loom,
//! shuttle, Miri, proptest, stateright and SPIN (see `CI.md` and `proofs/PROOF.md`).
//!
//! ```
//! use futuretask::FutureTask;
//! use std::{sync::Arc, thread};
//!
//! let task = Arc::new(FutureTask::new(|| 6 * 7));
//! let reader = task.handle(); // waits, queries, cancels; cannot run or complete the task
//! thread::spawn(move || task.run());
//! assert_eq!(*reader.get().unwrap(), 42);
//! ```
//!
//! The writer and the readers are told apart by type: whoever owns the [`FutureTask`] (or its
//! `Arc`) runs or completes it; a [`TaskHandle`] (from [`FutureTask::handle`], [`promise`] or the
//! executor's `submit`) only reads it. Every wait reports one error type, [`Error`] (`'static`,
//! `Send + Sync`), so `?` carries it into `Box<dyn Error + Send + Sync>` or `anyhow::Error`, and
//! the value still comes back by reference.
//!
//! ## Coming from Java / Python / tokio
//!
//! | Java (`java.util.concurrent`) | Python (`concurrent.futures`) | tokio | here |
//! |---|---|---|---|
//! | `new FutureTask<>(callable)` | — | — | [`FutureTask::new`] (`Arc::new` it to share) |
//! | `CompletableFuture<>()` + `complete` / `completeExceptionally` | `Future()` + `set_result` / `set_exception` | `oneshot::channel()` + `send` | [`promise()`] → ([`Promise`], [`TaskHandle`]); [`Promise::set`] / [`Promise::fail`] |
//! | `task.run()` | — | — | [`FutureTask::run`] (owner only) |
//! | `get()` / `get(timeout, unit)` | `result()` / `result(timeout)` | `handle.await` | [`TaskHandle::get`] / [`TaskHandle::get_timeout`] (also [`get_deadline`](TaskHandle::get_deadline)), `(&handle).await` / [`TaskHandle::get_async`] |
//! | `isDone()` / `isCancelled()` / `state()` | `done()` / `cancelled()` / `running()` | `is_finished()` | [`TaskHandle::is_done`] / [`TaskHandle::is_cancelled`] / [`TaskHandle::state`] |
//! | `cancel(false)` / `cancel(true)` | `cancel()` | `JoinHandle::abort()` | [`TaskHandle::cancel`] / [`TaskHandle::cancel_and_interrupt`] |
//! | `CancellationException` | `CancelledError` | `JoinError::is_cancelled` | [`Error::Cancelled`] |
//! | `ExecutionException` (`getCause()`) | the raised exception (`exception()`) | `JoinError::into_panic` | [`Error::Failed`] ([`Failure`]: panic payload, message or error; [`Failure::resume_unwind`]) |
//! | `TimeoutException` | `TimeoutError` | `time::error::Elapsed` | [`Error::TimedOut`] |
//! | `InterruptedException` | — | — | [`Error::Interrupted`] |
//! | `Thread.currentThread().isInterrupted()` | — | — | [`current::is_interrupted`] (also [`current::is_cancelled`], [`current::in_task`]) |
//! | `thenRun` / `whenComplete` | `add_done_callback(fn)` | — | [`TaskHandle::add_done_callback`] |
//! | — | `asyncio.wrap_future(f)` | `JoinHandle` as a `'static` future | [`TaskHandle::when_done`] |
//! | `ExecutorService` | `ThreadPoolExecutor` | — | `futuretask_executor::ThreadPool` (crate `futuretask-executor`; `submit` → [`TaskHandle`]) |
//!
//! ## State diagram (one state word, CAS transitions only)
//!
//! ```text
//!          run claims (STARTED)        run finishes / set / fail
//!   NEW ──────────────────────▶ NEW+STARTED ───────────────▶ COMPLETING ──▶ NORMAL
//!    │                                │                              └──▶ EXCEPTIONAL
//!    │  cancel()                      │ cancel()
//!    ├────────────────────────────────┴──────────────────────▶ CANCELLED
//!    │  cancel_and_interrupt()   (also while running)
//!    └───────────────────────────────────────────────────────▶ INTERRUPTING ──▶ INTERRUPTED
//! ```
//!
//! Exactly one of run-completion, `set`, `fail` and `cancel` wins the CAS out of NEW; the others
//! report that they lost (I1). Terminal states never change. Waiters and done-callbacks hang off a
//! Treiber stack that completion closes and drains (I3, I7).
//!
//! ## Contract: every operation in every state
//!
//! | operation | NEW (not started) | NEW + STARTED (running) | COMPLETING | NORMAL / EXCEPTIONAL | CANCELLED / INTERRUPTING / INTERRUPTED | if user code panics (I11) |
//! |---|---|---|---|---|---|---|
//! | `run()` | claims, runs the closure, completes; `true` | `false` | `false` | `false` | `false` (the closure never starts, I4) | the closure's panic becomes the failure; a waker's panic during the drain, or a lost late result's drop panic, is raised after `run` has finished |
//! | `set(v)` / `fail(e)` | wins: `Ok` | wins: `Ok`; the run's late result is discarded | `Err(AlreadyCompleted)` | `Err(AlreadyCompleted)` | `Err(AlreadyCompleted)` | a waker's panic during the drain is raised after the task is settled, every waiter released and woken, every callback run |
//! | `cancel()` / `cancel_and_interrupt()` | wins: `true` | wins: `true`; the closure sees [`current::is_cancelled`]; after `cancel_and_interrupt` also [`current::is_interrupted`], and its thread is unparked | `false` | `false` | `false` | as `set` |
//! | `get()` | blocks (inside a task's closure: until that task is cancelled with interrupt, then `Err(Interrupted)`) | blocks (same) | waits out COMPLETING (never reports pending) | `Ok(&T)` / `Err(Failed)` | `Err(Cancelled)` | calls no user code |
//! | `get_timeout(d)` | blocks ≤ d, then `TimedOut`; `d = 0` answers at once | same | as `get` (never times out, I9) | as `get` | as `get` | calls no user code |
//! | `try_get()` | `None` | `None` | as `get` | as `get` | as `get` | calls no user code |
//! | `is_done()` | `false` | `false` | `true` | `true` | `true` | calls no user code |
//! | `is_cancelled()` | `false` | `false` | `false` | `false` | `true` | calls no user code |
//! | `state()` | `Pending` | `Running` | waits out COMPLETING | `Success` / `Failed` | `Cancelled` | calls no user code |
//! | `add_done_callback(f)` | queued | queued | queued (runs after the outcome is visible) | runs now, after earlier callbacks | runs now, after earlier callbacks | a callback's panic (body or captures' drops) is isolated: the others still run |
//! | `get_async().await` | pending | pending | ready | ready | ready | a panicking `clone` of the new waker unwinds out of `poll` with the previous waker still registered; a dropped future drops its own waker (on its own thread) after unlinking |
//!
//! A panic in the closure becomes the failure ([`Failure`], message and payload retrievable,
//! re-raisable). A dropped [`Promise`] fails its task instead of leaving waiters hanging.
//!
//! **Foreign code may panic (I11).** Closures, done-callbacks, wakers (`clone`, `wake`, drop) and
//! the drops of closures, values and failures are user code. Whatever they do, the protocol
//! finishes — the state is terminal, the stack closed, every waiter released and woken, every
//! callback run exactly once, nothing leaked — and only then does the panic reach the caller that
//! triggered it (last column above), or it is isolated where the table says so. Dropping a task
//! drops its unrun callbacks, its unclaimed closure and its outcome, every one of them, and then
//! raises the first panic (not if the thread is already unwinding: that would abort); a
//! failure still shared by an [`Error`] the caller kept is dropped with that error instead. The
//! thread pool (crate `futuretask-executor`) builds on this public API; its workers never unwind
//! because of a task. `proofs/PROOF.md` §7 lists every call site.
//!
//! ## Invariants
//! The invariant ids (I1–I12) used in `// SAFETY:` comments are listed in `CI.md` and stated
//! precisely in `proofs/PROOF.md`; `proofs/ALGORITHM.md` gives the algorithm one atomic step per
//! line with the labels (R1, K1, C1, G1, …) used in this crate's comments.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod counted;
pub mod current;
mod failure;
mod foreign;
mod future;
mod handle;
mod promise;
// Crate-private: the encodings are not a semver promise. The models include the file by path;
// some functions exist for them only.
#[allow(dead_code)]
mod protocol;
mod reclaim;
mod sync;
mod task;
mod waiters;

pub use failure::{AlreadyCompleted, Error, Failure, Outcome, Snapshot, State};
pub use future::{Wait, WhenDone};
pub use handle::TaskHandle;
pub use promise::{promise, Promise};
pub use reclaim::Reclaimed;
pub use task::{Closure, FutureTask, Job, NoJob};

#[cfg(any(loom, feature = "shuttle"))]
pub use sync::{coverage, mock_clock};
