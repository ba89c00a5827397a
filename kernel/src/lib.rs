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
//! let task = FutureTask::arc(|| 6 * 7);
//! let runner = Arc::clone(&task);
//! thread::spawn(move || runner.run());
//! assert_eq!(*task.get().unwrap(), 42);
//! ```
//!
//! ## State diagram (one state word, CAS transitions only)
//!
//! ```text
//!          run claims (STARTED)        run finishes / set / fail
//!   NEW ──────────────────────▶ NEW+STARTED ───────────────▶ COMPLETING ──▶ NORMAL
//!    │                                │                              └──▶ EXCEPTIONAL
//!    │  cancel(false)                 │ cancel(false)
//!    ├────────────────────────────────┴──────────────────────▶ CANCELLED
//!    │  cancel(true)   (also while running)
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
//! | `cancel(i)` | wins: `true` | wins: `true`; with `i` the closure sees [`interrupted()`] and its thread is unparked | `false` | `false` | `false` | as `set` |
//! | `get()` | blocks (inside a task's closure: until that task is cancelled with interrupt, then `Err(Interrupted)`) | blocks (same) | waits out COMPLETING (never reports pending) | `Ok(&T)` / `Err(Failed)` | `Err(Cancelled)` | calls no user code |
//! | `get_timeout(d)` | blocks ≤ d, then `TimedOut`; `d = 0` answers at once | same | as `get` (never times out, I9) | as `get` | as `get` | calls no user code |
//! | `try_get()` | `None` | `None` | as `get` | as `get` | as `get` | calls no user code |
//! | `is_done()` | `false` | `false` | `true` | `true` | `true` | calls no user code |
//! | `is_cancelled()` | `false` | `false` | `false` | `false` | `true` | calls no user code |
//! | `state()` | `Pending` | `Running` | waits out COMPLETING | `Success` / `Failed` | `Cancelled` | calls no user code |
//! | `add_done_callback(f)` | queued | queued | queued (runs after the outcome is visible) | runs now, after earlier callbacks | runs now, after earlier callbacks | a callback's panic (body or captures' drops) is isolated: the others still run |
//! | `wait_async().await` | pending | pending | ready | ready | ready | a panicking `clone` of the new waker unwinds out of `poll` with the previous waker still registered; a dropped future drops its own waker (on its own thread) after unlinking |
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
//! raises the first panic (not if the thread is already unwinding: that would abort). The
//! executor's workers never unwind because of a task. `proofs/PROOF.md` §7 lists every call
//! site.
//!
//! ## Invariants
//! The invariant ids (I1–I12) used in `// SAFETY:` comments are listed in `CI.md` and stated
//! precisely in `proofs/PROOF.md`; `proofs/ALGORITHM.md` gives the algorithm one atomic step per
//! line with the labels (R1, K1, C1, G1, …) used in this crate's comments.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod current;
pub mod executor;
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
pub use task::{Closure, FutureTask, Job, NoJob};

#[cfg(any(loom, feature = "shuttle"))]
pub use sync::{coverage, mock_clock};
