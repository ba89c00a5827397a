//! The sequential specification the concurrent operations are checked against: a write-once
//! cell with a one-shot claim for `run`.
//!
//! `run` is two observable steps in the concurrent object (claiming the closure, then trying to
//! store its outcome), so the history records it as two operations on the runner's thread:
//! [`Op::Claim`] and [`Op::Complete`]. Everything else is one operation.

use stateright::semantics::SequentialSpec;

/// The value the runner's closure returns when it does not panic.
pub const RUN_VALUE: u8 = 1;
/// The value a promise completer `set`s.
pub const SET_VALUE: u8 = 2;

/// The outcome a settled task reports.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Completed with a value (which completer wrote it).
    Value(u8),
    /// Completed with a failure (the closure panicked, or `fail`).
    Failed,
    /// Cancelled (with or without interrupt).
    Cancelled,
}

/// The observable operations.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// `run` claims the closure (steps R1–R2).
    Claim,
    /// `run` tries to store the closure's outcome (K1) and returns; `panics` is the closure's
    /// behaviour, chosen when `run` is invoked.
    Complete {
        /// The closure panics (outcome `Failed`).
        panics: bool,
    },
    /// `set(SET_VALUE)` or `fail`.
    Set {
        /// `fail` instead of `set`.
        fail: bool,
    },
    /// `cancel(interrupt)`.
    Cancel {
        /// `cancel_and_interrupt()`.
        interrupt: bool,
    },
    /// Blocking `get()`.
    Get,
    /// `get_timeout(d)`; may return `TimedOut` only while the task is not done.
    TimedGet,
    /// `try_get()`.
    TryGet,
    /// `is_done()`.
    IsDone,
    /// `.await` on the task (a sequence of polls ending in `Ready`).
    Await,
}

/// What an operation returned.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ret {
    /// `Claim`: the closure was claimed; `Complete`/`Set`/`Cancel`: this call decided the outcome.
    Won,
    /// The call did not win (already claimed, already done).
    Lost,
    /// The outcome.
    Out(Outcome),
    /// `TimedGet` gave up.
    TimedOut,
    /// `TryGet` on a task that is not done.
    NotYet,
    /// A blocking call on a task that is not done (never a valid return of the real object).
    Blocked,
    /// `IsDone`.
    Done(bool),
}

/// The sequential object: a write-once outcome plus the one-shot claim flag of `run`.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct WriteOnce {
    /// The outcome, once decided.
    pub outcome: Option<Outcome>,
    /// `run` claimed the closure.
    pub claimed: bool,
}

impl WriteOnce {
    fn decide(&mut self, o: Outcome) -> Ret {
        if self.outcome.is_some() {
            Ret::Lost
        } else {
            self.outcome = Some(o);
            Ret::Won
        }
    }
}

impl SequentialSpec for WriteOnce {
    type Op = Op;
    type Ret = Ret;

    fn invoke(&mut self, op: &Op) -> Ret {
        match *op {
            Op::Claim => {
                if self.claimed || self.outcome.is_some() {
                    Ret::Lost
                } else {
                    self.claimed = true;
                    Ret::Won
                }
            }
            Op::Complete { panics } => self.decide(if panics {
                Outcome::Failed
            } else {
                Outcome::Value(RUN_VALUE)
            }),
            Op::Set { fail } => self.decide(if fail {
                Outcome::Failed
            } else {
                Outcome::Value(SET_VALUE)
            }),
            Op::Cancel { .. } => self.decide(Outcome::Cancelled),
            Op::Get | Op::Await => self.outcome.map_or(Ret::Blocked, Ret::Out),
            Op::TimedGet => self.outcome.map_or(Ret::TimedOut, Ret::Out),
            Op::TryGet => self.outcome.map_or(Ret::NotYet, Ret::Out),
            Op::IsDone => Ret::Done(self.outcome.is_some()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::semantics::{ConsistencyTester, LinearizabilityTester};

    #[test]
    fn spec_rejects_timeout_after_done() {
        let mut t = LinearizabilityTester::<u8, WriteOnce>::new(WriteOnce::default());
        t.on_invret(0, Op::Cancel { interrupt: false }, Ret::Won)
            .unwrap();
        t.on_invret(1, Op::TimedGet, Ret::TimedOut).unwrap();
        assert!(!t.is_consistent());
    }

    #[test]
    fn spec_accepts_concurrent_claim_and_cancel() {
        let mut t = LinearizabilityTester::<u8, WriteOnce>::new(WriteOnce::default());
        t.on_invoke(0, Op::Claim).unwrap();
        t.on_invret(1, Op::Cancel { interrupt: true }, Ret::Won)
            .unwrap();
        t.on_return(0, Ret::Won).unwrap();
        assert!(t.is_consistent());
    }
}
