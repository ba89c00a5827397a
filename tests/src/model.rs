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
//! * Foreign code that panics (I11): wakers whose `clone`, `wake` or `drop` panics
//!   ([`WakerFault`]), done-callbacks that capture a value whose drop panics, and values (stored
//!   outcomes, the closure's captures) whose drop panics. The protocol always finishes; the
//!   specification says which operation's *caller* then sees the panic ([`Raised`],
//!   [`Spec::take_raised`], [`Spec::drop_task`]) and which wakers the kernel still holds
//!   ([`Spec::held_wakers`]).
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
        /// Cancelled with `cancel_and_interrupt()`.
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

    /// `futuretask::current::is_interrupted()` called *inside this task's closure*: the task was cancelled
    /// with `cancel_and_interrupt()`. (Outside of any closure it is always `false`.)
    pub fn interrupted(&self) -> bool {
        self.phase == Phase::Cancelled { interrupt: true }
    }

    /// `futuretask::current::is_cancelled()` called inside this task's closure.
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

    /// Blocking `get()` / `get_async().await` — only answers once done ([`Wait::Blocks`]
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

/// Which foreign call of a waker panics (I11). The kernel clones a waker to register it (first
/// poll, or a re-poll with a different waker), wakes it once at completion, and drops it when a
/// re-poll replaces it or its pending future is dropped. `Never`: a well-behaved waker; `Clone`:
/// such a waker can never be registered; `Wake`: its wake panics (after the wake is counted);
/// `Drop`: dropping a clone of it panics.
///
/// The specification's name for the fault the tests plant with
/// [`FaultyWaker`](futuretask_models::fault::FaultyWaker): one enum, so the harness hands the
/// specification's fault to the injector as it is.
pub use futuretask_models::fault::Fault as WakerFault;

/// A planted panic of foreign code that reaches the caller of an operation after the kernel has
/// finished its protocol (I11). Panics of done-callbacks (body or captures) never do: they are
/// isolated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Raised {
    /// A poll's clone of the new waker panicked: nothing changed (a re-poll keeps the old waker).
    WakerClone,
    /// A waker woken by the completion panicked: raised by the completer (`set`, `fail`, `cancel`,
    /// `run`, `Promise::set`/`fail`/drop), after every waiter was woken and every callback ran.
    WakerWake,
    /// The drop of a registered waker panicked: in the re-poll that replaced it, or in the drop of
    /// its pending future (its owner), which still unregisters.
    WakerDrop,
    /// The drop of a value panicked: `run`'s lost late result, or the task's own drop (unrun
    /// callbacks, the unclaimed closure, the stored outcome — all dropped, the first panic raised).
    ValueDrop,
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
    /// The callback captures a value whose drop panics: at the end of its body if it runs
    /// (isolated, I7/I11), in the task's drop if it never runs ([`Raised::ValueDrop`]).
    pub bomb: bool,
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
    /// Polled `Pending`: registered on the task with this waker (the newest one polled with) and
    /// its fault.
    Registered(u32, WakerFault),
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
    /// The closure (of a runnable task) captures a value whose drop panics, and returns it inside
    /// its value if it runs to `End::Return`.
    pub closure_bomb: bool,
    claimed: bool,
    /// The stored outcome is a value whose drop panics.
    outcome_bomb: bool,
    /// The panic the current operation's caller sees (the first one, I11).
    raised: Option<Raised>,
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
            closure_bomb: false,
            claimed: false,
            outcome_bomb: false,
            raised: None,
        }
    }

    /// The planted panic the caller of the operation just applied sees, if any (and forget it:
    /// call once after every operation).
    pub fn take_raised(&mut self) -> Option<Raised> {
        self.raised.take()
    }

    /// Foreign code panicked during this operation: the caller sees the first such panic.
    fn raise(&mut self, r: Raised) {
        self.raised.get_or_insert(r);
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
                    bomb: false,
                });
            }
            // A panicking callback (body or captured drop) changes nothing: the others still run,
            // and the caller does not see it (I7, I11).
        }
        self.running_callbacks = false;
    }

    /// The completion side effects, run by the winner of the transition out of NEW: wake every
    /// registered async waiter (its newest waker, once), then run the queued callbacks in
    /// registration order. A waker whose `wake` panics changes none of that: the completer sees
    /// the panic once everything is done (I11).
    fn on_done(&mut self) {
        let mut wake_panicked = false;
        for f in &self.futures {
            if let FutureState::Registered(w, fault) = *f {
                self.wakes.push(w);
                wake_panicked |= fault == WakerFault::Wake;
                // The future stays registered until it is polled Ready or dropped, but the task
                // no longer holds it (the stack is closed, the waker was consumed by its wake).
            }
        }
        self.to_run.extend(self.queued.drain(..));
        self.run_callbacks();
        if wake_panicked {
            self.raise(Raised::WakerWake);
        }
    }

    fn after(&mut self, won: bool) {
        if won {
            self.on_done();
        }
    }

    /// `run()` claim; see [`Core::claim`]. The claimer owns the closure from now on.
    pub fn claim(&mut self) -> bool {
        let claimed = self.core.claim();
        self.claimed |= claimed;
        claimed
    }

    /// End of `run()`; see [`Core::finish_run`]. A returned value carries the closure's bomb: if
    /// it wins it is the stored outcome; if it lost, `run` drops it after finishing its protocol
    /// and its caller sees the panic (I11).
    pub fn finish_run(&mut self, end: End) {
        let won = self.core.finish_run(end);
        let bomb = self.closure_bomb && matches!(end, End::Return(_));
        if won {
            self.outcome_bomb = bomb;
        }
        self.after(won);
        if !won && bomb {
            self.raise(Raised::ValueDrop);
        }
    }

    /// `set(v)`.
    pub fn set(&mut self, v: Value) -> Result<(), Rejected<Value>> {
        let r = self.core.set(v);
        self.after(r.is_ok());
        r
    }

    /// `set(v)` with a value whose drop panics: stored if it wins (the task's drop then drops it);
    /// handed back if it loses, like any value — the kernel never drops it there.
    pub fn set_bomb(&mut self, v: Value) -> Result<(), Rejected<Value>> {
        let r = self.core.set(v);
        self.outcome_bomb |= r.is_ok();
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

    /// Poll waiter `i` with waker `w` (whose `fault` call panics): `None` if the waiter is gone,
    /// `Some(None)` for `Pending`, `Some(Some(outcome))` for `Ready` (row "get_async().await":
    /// pending while NEW, ready once done; a done task calls no waker). A pending poll registers
    /// `w` as the waiter's newest waker: a clone of it, unless the registered one is the same
    /// waker. A panicking clone changes nothing (a re-poll keeps the old waker); a replaced waker
    /// whose drop panics is dropped after the new one is in place (I8, I11).
    pub fn poll_future(&mut self, i: usize, w: u32, fault: WakerFault) -> Option<Option<Outcome>> {
        let done = self.core.outcome();
        let f = self.futures.get_mut(i)?;
        let old = match (*f, done) {
            (FutureState::Gone, _) => return None,
            (_, Some(o)) => {
                *f = FutureState::Gone;
                return Some(Some(o));
            }
            (FutureState::Registered(old, _), None) if old == w => return Some(None),
            (FutureState::Registered(_, old), None) => Some(old),
            (FutureState::Fresh, None) => None,
        };
        if fault == WakerFault::Clone {
            self.raise(Raised::WakerClone);
        } else {
            *f = FutureState::Registered(w, fault);
            if old == Some(WakerFault::Drop) {
                self.raise(Raised::WakerDrop);
            }
        }
        Some(None)
    }

    /// Drop waiter `i` (a pending one unregisters; its waker is not woken, but dropped by its
    /// owner: this drop). Returns whether it existed.
    pub fn drop_future(&mut self, i: usize) -> bool {
        let done = self.core.is_done();
        match self.futures.get_mut(i) {
            Some(f) if *f != FutureState::Gone => {
                // Once done, the completion consumed the waker with its wake.
                let drops_waker = *f != FutureState::Fresh && !done;
                let fault = match *f {
                    FutureState::Registered(_, fault) => fault,
                    _ => WakerFault::Never,
                };
                *f = FutureState::Gone;
                if drops_waker && fault == WakerFault::Drop {
                    self.raise(Raised::WakerDrop);
                }
                true
            }
            _ => false,
        }
    }

    /// The wakers (by id, sorted) of which the kernel holds a clone: the registered waiters' while
    /// the task is not done (completion consumes them with their wakes). Anything else alive is a
    /// leak; anything missing a double drop.
    pub fn held_wakers(&self) -> Vec<u32> {
        if self.core.is_done() {
            return vec![];
        }
        let mut held: Vec<u32> = self
            .futures
            .iter()
            .filter_map(|f| match *f {
                FutureState::Registered(w, _) => Some(w),
                _ => None,
            })
            .collect();
        held.sort_unstable();
        held
    }

    /// Dropping the last reference to the task (every waiter and the promise already gone): it
    /// drops its unrun callbacks, its unclaimed closure and its stored outcome — every one of them,
    /// whatever their drops do — and raises the first panic (I11).
    pub fn drop_task(&self) -> Option<Raised> {
        let unrun_bomb = self.queued.iter().any(|cb| cb.bomb);
        let closure_bomb = self.core.runnable && self.closure_bomb && !self.claimed;
        let outcome_bomb = self.outcome_bomb && matches!(self.core.phase, Phase::Success(_));
        (unrun_bomb || closure_bomb || outcome_bomb).then_some(Raised::ValueDrop)
    }

    /// How many values whose drop panics the task holds (dropped with it, [`Spec::drop_task`]).
    pub fn bombs_held(&self) -> usize {
        self.queued.iter().filter(|cb| cb.bomb).count()
            + usize::from(self.core.runnable && self.closure_bomb && !self.claimed)
            + usize::from(self.outcome_bomb && matches!(self.core.phase, Phase::Success(_)))
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
                .filter(|f| matches!(f, FutureState::Registered(..)))
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
                bomb: id == 2,
            });
        }
        assert_eq!(s.stack_len(), 3);
        assert_eq!(s.drop_task(), Some(Raised::ValueDrop), "an unrun bomb");
        s.set(5).unwrap();
        assert_eq!(s.take_raised(), None, "callback panics are isolated");
        let ids: Vec<_> = s.callback_log.iter().map(|r| r.id).collect();
        assert_eq!(ids, [0, 1, 2, 10]);
        s.add_callback(CallbackSpec {
            id: 4,
            nested: Some(11),
            panics: false,
            bomb: true,
        });
        assert_eq!(s.drop_task(), None, "every callback ran");
        let ids: Vec<_> = s.callback_log.iter().map(|r| r.id).collect();
        assert_eq!(ids, [0, 1, 2, 10, 4, 11]);
        assert_eq!(s.stack_len(), 0);
    }

    #[test]
    fn futures_and_promise() {
        let mut s = Spec::new(false, true);
        let ok = WakerFault::Never;
        let f = s.new_future();
        assert_eq!(s.poll_future(f, 1, ok), Some(None));
        assert_eq!(s.poll_future(f, 2, ok), Some(None));
        let g = s.new_future();
        assert_eq!(s.poll_future(g, 3, ok), Some(None));
        assert!(s.drop_future(g));
        assert_eq!(s.stack_len(), 1);
        assert_eq!(s.held_wakers(), [2]);
        assert!(s.drop_promise());
        assert!(!s.drop_promise());
        assert_eq!(s.wakes, [2]);
        assert_eq!(s.held_wakers(), [0u32; 0]);
        assert_eq!(
            s.poll_future(f, 4, ok),
            Some(Some(Outcome::Failed(Fail::BrokenPromise)))
        );
        assert_eq!(s.poll_future(f, 4, ok), None);
        assert_eq!(s.take_raised(), None);
    }

    #[test]
    fn foreign_panics_reach_the_right_caller() {
        let mut s = Spec::new(false, false);
        let (f, g, h) = (s.new_future(), s.new_future(), s.new_future());
        // A clone that panics registers nothing, on a first poll and on a re-poll.
        s.poll_future(f, 10, WakerFault::Clone);
        assert_eq!(s.take_raised(), Some(Raised::WakerClone));
        assert_eq!(s.stack_len(), 0);
        s.poll_future(f, 12, WakerFault::Drop);
        s.poll_future(f, 10, WakerFault::Clone);
        assert_eq!(s.take_raised(), Some(Raised::WakerClone));
        assert_eq!(s.held_wakers(), [12]);
        // Replacing a waker whose drop panics: the poll raises, the new waker is in place.
        s.poll_future(f, 11, WakerFault::Wake);
        assert_eq!(s.take_raised(), Some(Raised::WakerDrop));
        s.poll_future(g, 12, WakerFault::Drop);
        assert!(s.drop_future(g));
        assert_eq!(s.take_raised(), Some(Raised::WakerDrop));
        s.poll_future(h, 1, WakerFault::Never);
        // The completer raises the wake's panic after waking everyone and running callbacks.
        s.add_callback(CallbackSpec {
            id: 0,
            nested: None,
            panics: true,
            bomb: true,
        });
        assert_eq!(s.set_bomb(3), Ok(()));
        assert_eq!(s.take_raised(), Some(Raised::WakerWake));
        assert_eq!(s.wakes, [11, 1]);
        assert_eq!(s.callback_log.len(), 1);
        assert_eq!(s.drop_task(), Some(Raised::ValueDrop), "the stored outcome");
        // A lost set hands the value back: nothing raised in the kernel.
        assert!(s.set_bomb(4).is_err());
        assert_eq!(s.take_raised(), None);

        // A lost late result of a closure with a bomb: `run` raises after finishing.
        let mut s = Spec::new(true, false);
        s.closure_bomb = true;
        assert_eq!(
            s.drop_task(),
            Some(Raised::ValueDrop),
            "the unclaimed closure"
        );
        assert!(s.claim());
        assert!(s.cancel(true));
        s.finish_run(End::Return(1));
        assert_eq!(s.take_raised(), Some(Raised::ValueDrop));
        assert_eq!(s.drop_task(), None);
    }
}
