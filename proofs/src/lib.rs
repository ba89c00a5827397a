//! Machine-checked models of the futuretask protocol.
//!
//! * [`model`]: an exhaustive [stateright](https://docs.rs/stateright) model of
//!   `proofs/ALGORITHM.md`, one atomic step per transition, whose every decision is taken by the
//!   kernel's own pure protocol functions ([`protocol`], included from `kernel/src/protocol.rs`
//!   unchanged, so the model cannot drift from the kernel's encodings and rules).
//! * [`spec`]: the sequential write-once specification the concurrent histories are checked
//!   against with stateright's `LinearizabilityTester`.
//! * `futuretask.pml` (beside this crate, checked by `run-spin.sh`): the same protocol in Promela
//!   for SPIN, which adds LTL liveness under weak fairness.
//!
//! See `proofs/PROOF.md` and `CI.md` for the invariants (I1–I13) and `proofs/README.md` for the
//! commands.
#![warn(missing_docs)]

/// The kernel's protocol file, included verbatim (no drift between kernel and model).
#[path = "../../kernel/src/protocol.rs"]
#[allow(dead_code)]
pub mod protocol;

pub mod model;
pub mod spec;

pub use model::{Actor, Config, FutureTaskModel, Mutation};
