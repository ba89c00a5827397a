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
//! | operation | NEW (not started) | NEW + STARTED (running) | COMPLETING | NORMAL / EXCEPTIONAL | CANCELLED / INTERRUPTING / INTERRUPTED |
//! |---|---|---|---|---|---|
//! | `run()` | claims, runs the closure, completes; `true` | `false` | `false` | `false` | `false` (the closure never starts, I4) |
//! | `set(v)` / `fail(e)` | wins: `Ok` | wins: `Ok`; the run's late result is discarded | `Err(AlreadyCompleted)` | `Err(AlreadyCompleted)` | `Err(AlreadyCompleted)` |
//! | `cancel(i)` | wins: `true` | wins: `true`; with `i` the closure sees [`interrupted()`] and its thread is unparked | `false` | `false` | `false` |
//! | `get()` | blocks (inside a task's closure: until that task is cancelled with interrupt, then `Err(Interrupted)`) | blocks (same) | waits out COMPLETING (never reports pending) | `Ok(&T)` / `Err(Failed)` | `Err(Cancelled)` |
//! | `get_timeout(d)` | blocks ≤ d, then `TimedOut`; `d = 0` answers at once | same | as `get` (never times out, I9) | as `get` | as `get` |
//! | `try_get()` | `None` | `None` | as `get` | as `get` | as `get` |
//! | `is_done()` | `false` | `false` | `true` | `true` | `true` |
//! | `is_cancelled()` | `false` | `false` | `false` | `false` | `true` |
//! | `state()` | `Pending` | `Running` | waits out COMPLETING | `Success` / `Failed` | `Cancelled` |
//! | `add_done_callback(f)` | queued | queued | queued (runs after the outcome is visible) | runs now, after earlier callbacks | runs now, after earlier callbacks |
//! | `wait_async().await` | pending | pending | ready | ready | ready |
//!
//! A panic in the closure becomes the failure ([`Failure`], message and payload retrievable,
//! re-raisable). A dropped [`Promise`] fails its task instead of leaving waiters hanging.
//!
//! ## Invariants
//! The invariant ids (I1–I10, I12) used in `// SAFETY:` comments are listed in `CI.md` and stated
//! precisely in `proofs/PROOF.md`; `proofs/ALGORITHM.md` gives the algorithm one atomic step per
//! line with the labels (R1, K1, C1, G1, …) used in this crate's comments.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod executor;
mod failure;
mod future;
mod interrupt;
#[doc(hidden)]
pub mod mutant;
mod promise;
pub mod protocol;
mod reclaim;
mod sync;
mod task;
mod waiters;

pub use failure::{
    AlreadyCompleted, Failure, GetError, Outcome, OutcomeError, Snapshot, State, WaitError,
};
pub use future::{Done, Wait};
pub use interrupt::{cancelled, interrupted};
pub use promise::{promise, Promise};
pub use task::{Closure, FutureTask, Job, NoJob};

#[cfg(any(loom, feature = "shuttle"))]
pub use sync::{coverage, mock_clock};
