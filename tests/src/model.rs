//! The **executable specification**: a plain, sequential state machine that implements the
//! contract table of the kernel docs (`kernel/src/lib.rs`, "Contract: every operation in every
//! state") row by row. Nothing here is concurrent, nothing here is clever: every method is one
//! cell (or one row) of that table, and the comments say which.
//!
//! Two layers:
//! * [`Core`] — the task's state word as the contract sees it (NEW, NEW+STARTED, settled). It is
//!   small, `Clone + Hash + Eq`, and is the sequential object the linearizability checker
//!   ([`crate::lin`]) replays concurrent histories against. The transient phases COMPLETING and
//!   INTERRUPTING are not states of the specification: the table makes every operation wait them
//!   out or treat them as their settled successor, so in the specification a completion or a
//!   cancel takes effect atomically.
//! * [`Spec`] — [`Core`] plus what only a sequential test can observe deterministically:
//!   done-callbacks (run in registration order, exactly once, after the outcome is visible;
//!   at once on a task whose earlier callbacks have run), async waiters (`Done` futures: a
//!   pending poll registers the newest waker; completion wakes each registered waiter's newest
//!   waker exactly once; dropping a pending future unregisters it), the promise (dropping it
//!   fails a pending task with a broken-promise failure) and the waiter-stack length (registered
//!   waiters plus queued callbacks; 0 once the task is done).
//!
//! Values are `u32`; failures are identified by a number so that the specification can say
//! *which* failure a reader must see (see [`Fail`]).

use futuretask::State;
use std::collections::VecDeque;

/// The value type of every task under test.
pub type Value = u32;

/// Which failure a task holds. The number identifies the failure so that reports can be compared
/// exactly: panics carry the message `"ft-planted panic {n}"`, errors `"ft-error {n}"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fail {
    /// The closure panicked with message `ft-planted panic {n}`.
    Panic(u32),
    /// `fail(err)` with an error whose message is `ft-error {n}`.
    Error(u32),
    /// The promise was dropped without being completed.
    BrokenPromise,
}

/// What a reader of a done task sees (`get`, `try_get`, callbacks, async waiters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// `Ok(&v)`.
    Value(Value),
    /// `Err(Failed(f))`.
    Failed(Fail),
    /// `Err(Cancelled)`.
    Cancelled,
}

/// The state of the specification's task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// NEW (not completed, not cancelled); `started`: `run` claimed the closure (NEW + STARTED).
    New {
        /// `run` claimed the closure.
        started: bool,
    },
    /// NORMAL.
    Success(Value),
    /// EXCEPTIONAL.
    Failed(Fail),
    /// CANCELLED (`interrupt == false`) or INTERRUPTED (`interrupt == true`).
    Cancelled {
        /// Cancelled with `cancel(true)`.
        interrupt: bool,
    },
}

/// A completion (`set`/`fail`) that lost hands its argument back with the task's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rejected<V> {
    /// What the caller passed (never stored, never dropped silently).
    pub value: V,
    /// `state()` at the time of the attempt (always a settled state).
    pub state: State,
}

/// How the closure of a task ends, once its body has run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum End {
    /// Returns the value.
    Return(Value),
    /// Panics with `ft-planted panic {n}`.
    Panic(u32),
}

impl End {
    /// The outcome this ending stores if it wins.
    pub fn outcome(self) -> Outcome {
        match self {
            End::Return(v) => Outcome::Value(v),
            End::Panic(n) => Outcome::Failed(Fail::Panic(n)),
        }
    }
}

/// The sequential object: the state word as the contract table sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Core {
    /// The current state.
    pub phase: Phase,
    /// Whether the task has a closure (`FutureTask::new`/`arc`) or not (`pending`, `promise`).
    pub runnable: bool,
}

impl Core {
    /// A task with a closure (`FutureTask::new`) or without one (`pending()`/`promise()`).
    pub fn new(runnable: bool) -> Self {
        Core {
            phase: Phase::New { started: false },
            runnable,
        }
    }

    /// `is_done()` — row "is_done": false in NEW and NEW+STARTED, true otherwise.
    pub fn is_done(&self) -> bool {
        !matches!(self.phase, Phase::New { .. })
    }

    /// `is_cancelled()` — true only in CANCELLED / INTERRUPTED.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.phase, Phase::Cancelled { .. })
    }

    /// `state()` — Pending / Running / Success / Failed / Cancelled.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::New { started: false } => State::Pending,
            Phase::New { started: true } => State::Running,
            Phase::Success(_) => State::Success,
            Phase::Failed(_) => State::Failed,
            Phase::Cancelled { .. } => State::Cancelled,
        }
    }

    /// The outcome a reader sees, `None` while NEW (row "get": `Ok(&T)` / `Err(Failed)` /
    /// `Err(Cancelled)` once done).
    pub fn outcome(&self) -> Option<Outcome> {
        match self.phase {
            Phase::New { .. } => None,
            Phase::Success(v) => Some(Outcome::Value(v)),
            Phase::Failed(f) => Some(Outcome::Failed(f)),
            Phase::Cancelled { .. } => Some(Outcome::Cancelled),
        }
    }

    /// `run()`, first half — row "run": claims only in NEW (not started) and only if there is a
    /// closure; `false` in every other state (a cancelled task's closure never starts).
    pub fn claim(&mut self) -> bool {
        if self.runnable && self.phase == (Phase::New { started: false }) {
            self.phase = Phase::New { started: true };
            true
        } else {
            false
        }
    }

    /// `run()`, second half: the closure ended; its outcome is stored if the task is still NEW,
    /// otherwise discarded (row "set/fail" in NEW+STARTED: "the run's late result is
    /// discarded"). Returns whether it was stored. `run` itself returns `true` either way.
    pub fn finish_run(&mut self, end: End) -> bool {
        self.complete(end.outcome()).is_ok()
    }

    /// The completion CAS shared by `set`, `fail`, the end of `run` and a dropped promise:
    /// wins only out of NEW (started or not); otherwise reports the settled state.
    pub fn complete(&mut self, o: Outcome) -> Result<(), State> {
        if !matches!(self.phase, Phase::New { .. }) {
            return Err(self.state());
        }
        self.phase = match o {
            Outcome::Value(v) => Phase::Success(v),
            Outcome::Failed(f) => Phase::Failed(f),
            Outcome::Cancelled => unreachable!("cancel is not a completion"),
        };
        Ok(())
    }

    /// `set(v)` — wins in NEW and NEW+STARTED, else `Err(AlreadyCompleted { value: v, state })`.
    pub fn set(&mut self, v: Value) -> Result<(), Rejected<Value>> {
        self.complete(Outcome::Value(v))
            .map_err(|state| Rejected { value: v, state })
    }

    /// `fail(e)` — as `set`, handing the failure back when it loses.
    pub fn fail(&mut self, f: Fail) -> Result<(), Rejected<Fail>> {
        self.complete(Outcome::Failed(f))
            .map_err(|state| Rejected { value: f, state })
    }

    /// `cancel(i)` — wins (`true`) in NEW and NEW+STARTED, `false` once done.
    pub fn cancel(&mut self, interrupt: bool) -> bool {
        if matches!(self.phase, Phase::New { .. }) {
            self.phase = Phase::Cancelled { interrupt };
            true
        } else {
            false
        }
    }

    /// `futuretask::interrupted()` called *inside this task's closure*: the task was cancelled
    /// with `cancel(true)`. (Outside of any closure it is always `false`.)
    pub fn interrupted(&self) -> bool {
        self.phase == Phase::Cancelled { interrupt: true }
    }

    /// `futuretask::cancelled()` called inside this task's closure.
    pub fn cancelled(&self) -> bool {
        self.is_cancelled()
    }

    /// `try_get()` — `None` while NEW, the outcome otherwise.
    pub fn try_get(&self) -> Option<Outcome> {
        self.outcome()
    }

    /// `get_timeout(d)` / `get_deadline(t)` where the wait *ends pending* (a zero timeout, a past
    /// deadline, or a deadline that passes): `TimedOut` while NEW; once done it never times out.
    pub fn get_timed(&self) -> Wait {
        self.outcome().map_or(Wait::TimedOut, Wait::Out)
    }

    /// Blocking `get()` / `wait_async().await` — only answers once done ([`Wait::Blocks`]
    /// while NEW: a sequential caller would wait forever).
    pub fn get(&self) -> Wait {
        self.outcome().map_or(Wait::Blocks, Wait::Out)
    }
}

/// What a waiting read (`get`, `get_timeout`, `get_deadline`, `.await`) returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Wait {
    /// The task's outcome.
    Out(Outcome),
    /// `Err(TimedOut)`.
    TimedOut,
    /// The call would block (a blocking get on a task that is not done).
    Blocks,
}

/// A done-callback as the sequential tests register it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallbackSpec {
    /// Registration number (assigned in registration order).
    pub id: u32,
    /// After recording itself, the callback registers a plain callback with this id.
    pub nested: Option<u32>,
    /// After recording itself (and registering the nested one), the callback panics.
    pub panics: bool,
}

/// What a done-callback observed when it ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallbackRecord {
    /// Which callback.
    pub id: u32,
    /// The outcome it was handed.
    pub outcome: Outcome,
    /// `is_done()` inside the callback (must be true: callbacks run after the outcome is
    /// visible).
    pub is_done: bool,
    /// `state()` inside the callback.
    pub state: State,
}

/// An async waiter (`Arc<FutureTask>::done()`), as the specification sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FutureState {
    /// Created, never polled pending.
    Fresh,
    /// Polled `Pending`: registered on the task with this waker (the newest one polled with).
    Registered(u32),
    /// Returned `Ready`, or dropped: gone.
    Gone,
}

/// The sequential specification with callbacks, async waiters and the promise.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The state word.
    pub core: Core,
    /// For a `promise()` task: the `Promise` is still held.
    pub promise_held: bool,
    /// Callbacks registered while the task was not done, in registration order.
    queued: Vec<CallbackSpec>,
    /// Callbacks that must run now, in order (a FIFO: a callback registered while callbacks are
    /// running runs after them).
    to_run: VecDeque<CallbackSpec>,
    running_callbacks: bool,
    /// Every callback run so far, in the order they ran.
    pub callback_log: Vec<CallbackRecord>,
    /// Every waker woken so far (by waker id), in the order they were woken.
    pub wakes: Vec<u32>,
    /// The async waiters created so far.
    pub futures: Vec<FutureState>,
    next_callback: u32,
}

impl Spec {
    /// A task with a closure (`runnable`), a `pending()` task, or a `promise()` task
    /// (`promise`).
    pub fn new(runnable: bool, promise: bool) -> Self {
        Spec {
            core: Core::new(runnable),
            promise_held: promise,
            queued: Vec::new(),
            to_run: VecDeque::new(),
            running_callbacks: false,
            callback_log: Vec::new(),
            wakes: Vec::new(),
            futures: Vec::new(),
            next_callback: 0,
        }
    }

    /// The id the next registered callback gets.
    pub fn allocate_callback_id(&mut self) -> u32 {
        let id = self.next_callback;
        self.next_callback += 1;
        id
    }

    /// Row "add_done_callback": queued while NEW; on a done task it runs now, after every
    /// earlier callback.
    pub fn add_callback(&mut self, cb: CallbackSpec) {
        if self.core.is_done() {
            self.to_run.push_back(cb);
            self.run_callbacks();
        } else {
            self.queued.push(cb);
        }
    }

    fn run_callbacks(&mut self) {
        if self.running_callbacks {
            return; // the outer loop runs it after the ones already due
        }
        self.running_callbacks = true;
        while let Some(cb) = self.to_run.pop_front() {
            self.callback_log.push(CallbackRecord {
                id: cb.id,
                outcome: self.core.outcome().expect("callbacks run once done"),
                is_done: true,
                state: self.core.state(),
            });
            if let Some(id) = cb.nested {
                self.to_run.push_back(CallbackSpec {
                    id,
                    nested: None,
                    panics: false,
                });
            }
            // A panicking callback changes nothing: the others still run (I7).
        }
        self.running_callbacks = false;
    }

    /// The completion side effects, run by the winner of the transition out of NEW: wake every
    /// registered async waiter (its newest waker, once), then run the queued callbacks in
    /// registration order.
    fn on_done(&mut self) {
        for f in &mut self.futures {
            if let FutureState::Registered(w) = *f {
                self.wakes.push(w);
                // The future stays registered until it is polled Ready or dropped, but the task
                // no longer holds it (the stack is closed).
            }
        }
        self.to_run.extend(self.queued.drain(..));
        self.run_callbacks();
    }

    fn after(&mut self, won: bool) {
        if won {
            self.on_done();
        }
    }

    /// `run()` claim; see [`Core::claim`].
    pub fn claim(&mut self) -> bool {
        self.core.claim()
    }

    /// End of `run()`; see [`Core::finish_run`].
    pub fn finish_run(&mut self, end: End) {
        let won = self.core.finish_run(end);
        self.after(won);
    }

    /// `set(v)`.
    pub fn set(&mut self, v: Value) -> Result<(), Rejected<Value>> {
        let r = self.core.set(v);
        self.after(r.is_ok());
        r
    }

    /// `fail(e)`.
    pub fn fail(&mut self, f: Fail) -> Result<(), Rejected<Fail>> {
        let r = self.core.fail(f);
        self.after(r.is_ok());
        r
    }

    /// `cancel(i)`.
    pub fn cancel(&mut self, interrupt: bool) -> bool {
        let won = self.core.cancel(interrupt);
        self.after(won);
        won
    }

    /// `Promise::set(v)`: `None` if the promise was already consumed.
    pub fn promise_set(&mut self, v: Value) -> Option<Result<(), Rejected<Value>>> {
        std::mem::take(&mut self.promise_held).then(|| self.set(v))
    }

    /// `Promise::fail(e)`: `None` if the promise was already consumed.
    pub fn promise_fail(&mut self, f: Fail) -> Option<Result<(), Rejected<Fail>>> {
        std::mem::take(&mut self.promise_held).then(|| self.fail(f))
    }

    /// Dropping the `Promise`: fails a task that is not done with a broken-promise failure.
    /// Returns whether there was a promise to drop.
    pub fn drop_promise(&mut self) -> bool {
        if !std::mem::take(&mut self.promise_held) {
            return false;
        }
        if !self.core.is_done() {
            let won = self
                .core
                .complete(Outcome::Failed(Fail::BrokenPromise))
                .is_ok();
            self.after(won);
        }
        true
    }

    /// Create an async waiter; returns its index.
    pub fn new_future(&mut self) -> usize {
        self.futures.push(FutureState::Fresh);
        self.futures.len() - 1
    }

    /// Poll waiter `i` with waker `w`: `None` if the waiter is gone, `Some(None)` for
    /// `Pending`, `Some(Some(outcome))` for `Ready` (row "wait_async().await": pending while NEW,
    /// ready once done). A pending poll registers `w` as the waiter's newest waker.
    pub fn poll_future(&mut self, i: usize, w: u32) -> Option<Option<Outcome>> {
        let f = self.futures.get_mut(i)?;
        if *f == FutureState::Gone {
            return None;
        }
        Some(match self.core.outcome() {
            Some(o) => {
                *f = FutureState::Gone;
                Some(o)
            }
            None => {
                *f = FutureState::Registered(w);
                None
            }
        })
    }

    /// Drop waiter `i` (a pending one unregisters; its waker is not woken). Returns whether it
    /// existed.
    pub fn drop_future(&mut self, i: usize) -> bool {
        match self.futures.get_mut(i) {
            Some(f) if *f != FutureState::Gone => {
                *f = FutureState::Gone;
                true
            }
            _ => false,
        }
    }

    /// `waiter_stack_len()`: registered async waiters plus queued callbacks while NEW; 0 once
    /// done (completion closes and drains the stack).
    pub fn stack_len(&self) -> usize {
        if self.core.is_done() {
            return 0;
        }
        self.queued.len()
            + self
                .futures
                .iter()
                .filter(|f| matches!(f, FutureState::Registered(_)))
                .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_table_rows() {
        // run: claims once, never after a cancel.
        let mut c = Core::new(true);
        assert!(c.claim());
        assert!(!c.claim());
        assert_eq!(c.state(), State::Running);
        assert_eq!(c.set(3), Ok(()));
        assert!(!c.finish_run(End::Return(9)), "late result discarded");
        assert_eq!(c.outcome(), Some(Outcome::Value(3)));
        let mut c = Core::new(true);
        assert!(c.cancel(false));
        assert!(!c.claim());
        assert_eq!(
            c.set(1),
            Err(Rejected {
                value: 1,
                state: State::Cancelled
            })
        );
        assert_eq!(c.get_timed(), Wait::Out(Outcome::Cancelled));
        // no closure: run never claims.
        let mut c = Core::new(false);
        assert!(!c.claim());
        assert_eq!(c.get(), Wait::Blocks);
        assert_eq!(c.get_timed(), Wait::TimedOut);
        assert!(c.cancel(true));
        assert!(c.interrupted() && c.cancelled());
    }

    #[test]
    fn callbacks_fifo_and_nested() {
        let mut s = Spec::new(true, false);
        for id in 0..3 {
            s.add_callback(CallbackSpec {
                id,
                nested: (id == 0).then_some(10),
                panics: id == 1,
            });
        }
        assert_eq!(s.stack_len(), 3);
        s.set(5).unwrap();
        let ids: Vec<_> = s.callback_log.iter().map(|r| r.id).collect();
        assert_eq!(ids, [0, 1, 2, 10]);
        s.add_callback(CallbackSpec {
            id: 4,
            nested: Some(11),
            panics: false,
        });
        let ids: Vec<_> = s.callback_log.iter().map(|r| r.id).collect();
        assert_eq!(ids, [0, 1, 2, 10, 4, 11]);
        assert_eq!(s.stack_len(), 0);
    }

    #[test]
    fn futures_and_promise() {
        let mut s = Spec::new(false, true);
        let f = s.new_future();
        assert_eq!(s.poll_future(f, 1), Some(None));
        assert_eq!(s.poll_future(f, 2), Some(None));
        let g = s.new_future();
        assert_eq!(s.poll_future(g, 3), Some(None));
        assert!(s.drop_future(g));
        assert_eq!(s.stack_len(), 1);
        assert!(s.drop_promise());
        assert!(!s.drop_promise());
        assert_eq!(s.wakes, [2]);
        assert_eq!(
            s.poll_future(f, 4),
            Some(Some(Outcome::Failed(Fail::BrokenPromise)))
        );
        assert_eq!(s.poll_future(f, 4), None);
    }
}
