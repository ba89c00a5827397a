//! # futuretask-tests
//!
//! The executable specification of `futuretask` and the suites that hold the kernel to it.
//!
//! * [`model`] — **the reference model**: a plain sequential state machine implementing the
//!   contract table of the kernel docs, operation by operation and state by state. It *is* the
//!   specification the other suites test against.
//! * [`seq`] — the sequential differential harness: one sequence of operations applied to a real
//!   task and to the model, every observation compared (the proptest suite drives it).
//! * [`lin`] — a Wing–Gong–Lowe linearizability checker, generic over a sequential model.
//! * [`conc`] — real threads running random operation mixes on one task, recording histories with
//!   a global logical clock, checked with [`lin`] against [`model::Core`].
//! * [`alloc`] — a counting global allocator (installed by the allocation and soak test binaries).
//! * [`support`] — tiers, seeded RNG, result translation, a tiny `block_on`; the quiet panic hook
//!   and the drop tracker re-exported from `futuretask_models::fault`, the one fault injector
//!   (I11) of the workspace, which the harness uses for its faulty wakers and panicking values.
//!
//! The test binaries live in `tests/tests/`; `README.md` in this crate lists them, their tiers
//! and how to replay failures.

#![warn(missing_docs)]

pub mod alloc;
pub mod conc;
pub mod lin;
pub mod model;
pub mod seq;
pub mod support;
