//! The stateright model of the FutureTask protocol, one atomic step of `proofs/ALGORITHM.md` per
//! transition.
//!
//! Every decision the kernel takes inside a CAS loop is taken here by the same function of
//! [`crate::protocol`] (`try_start`, `try_begin_complete`, `try_publish`, `publish_releases`,
//! `try_cancel`, `must_drain`, `announce_step`, `finish_complete`, `finish_interrupt`,
//! `counted_new`, `refs`, `take_step`, `take_head_step`, `owns_outcome`, `try_push`,
//! `drain_step`, `remove_step`, `unlink_head`, `unlock_step`, `node_try_notify`,
//! `phase_reachable`, `phase_edge_allowed`, …), on the same encodings: the state word and the
//! head word are the very bit patterns of the kernel, node `i` lives at address
//! `(i + 1) * NODE_ALIGN`. The state word is a `u16` (the phase in bits 0..=2, `STARTED`, `MOVED`,
//! `COUNTED`, `ANNOUNCED`, `DRAIN_HELD` in bits 3..=7, a counted task's count from bit 8, as in
//! the kernel: at most [`MAX_ACTORS`] + 1 references fit the eight bits above); the head word and
//! node addresses are `u8`.
//!
//! # Counted tasks (I13)
//!
//! A configuration with a promise ([`Actor::Promise`]) models a task made by `promise()`: its
//! word starts as `counted_new(n)`, one reference per actor. Every pusher (a waiter's first
//! push, a callback's registration) first announces itself (P0: load, then `announce_step`: push,
//! CAS `ANNOUNCED` in and push, or, on a task that settled unannounced, push nothing and read the
//! outcome or run the callback at once). The promise publishes by W1 (load, then CAS
//! `try_publish`; a failed CAS, on a cancel, an announcement or a count change, retries with the
//! word read). Unannounced (`publish_releases`), that CAS also gives up the promise's reference:
//! no drain, no T2, and the promise frees the task (T3) if that was the last reference; announced,
//! the CAS sets `DRAIN_HELD`, the promise drains (W2: the F1.. steps of `finish_completion`) and
//! then drops its reference with `DRAIN_HELD` (W3: T2 subtracting `DRAIN_REF`). A promise
//! dropped without setting first loads the word (`Promise::drop`'s `is_done()`) and then
//! publishes the broken-promise failure the same way. Every other actor is a handle: it does its
//! operation, then drops its reference (T2: the load, then, unless the count was 1, the
//! `fetch_sub`; T3 the free); a [`Actor::Cloner`] clones first (T1); a [`Actor::Taker`] (after
//! an untimed `get()`, or at once) takes the outcome by value instead (T4: load, `take_step`;
//! the last reference moves the outcome out, stores `MOVED` and frees; one of two, the other the
//! promise's held for its drain, waits for the drain's close, T5 `take_head_step`, moves the
//! outcome out and gives its reference up with `MOVED` in one `fetch_sub`; refused, it drops its
//! reference with T2). A reader's interrupting cancel goes straight to INTERRUPTED
//! (`try_cancel`) and skips C2..C5; a cancel drains only if
//! `must_drain` (a pusher announced). The ghost state keeps the references each thread holds and
//! the number of frees; `I13 counted lifetime` checks that the task is freed at most once, by a
//! thread that holds the last reference, after the protocol is over with it (the stack drained and
//! CLOSED, or never used when nobody announced; every node handed off, every callback run), that
//! no step of any thread touches the task after the free, and that it is freed once every thread
//! has finished (no leak); `I13 no lost count` checks that the word's count is the references held
//! until the free. The ghost also counts the moves of the outcome: `I13 outcome moved once`
//! checks that it is moved at most once, only while nobody else may read it (every other
//! reference held is the promise's, with every registered callback run), that no reader (a get,
//! a wait, an async wait, an observer's `try_get`) and no callback reads it after the move, and
//! that the free drops it iff it was published and not moved (so it is dropped or moved exactly
//! once); `I13 take completes` checks that a taker whose `get()` returned an outcome, with no
//! other handle and no callback ([`Config::take_must_succeed`]: the promise and that taker), is
//! never refused. Every write of the state word must be an edge `phase_edge_allowed` allows (the
//! counted edges for a counted word: never through COMPLETING or INTERRUPTING), checked under I9.
//!
//! Reductions (each one removes only interleavings that cannot change what any thread observes;
//! every load, store, CAS and swap of the state word, the head word and a node's state remains a
//! step of its own):
//! * a spin or yield loop that re-reads a word until it changes (`F2 WaitForRemover`, `H2` on
//!   `UPDATING`, `G2`, `R7`, "wait until DONE") is one step that is enabled once the awaited value
//!   is there: the re-reads in between are stutter steps;
//! * `K2` (the outcome write) is folded into the winning `K1` CAS: nobody reads the cell before
//!   `K3` publishes a settled state (kept apart under [`Mutation::PublishBeforeWrite`]);
//! * `H1` (the `next` read of a detached node) and `H3` (taking the payload) are folded into the
//!   `H2` CAS: the batch is detached and the node is the handler's while `NOTIFYING`; prepending a
//!   detached callback node and running the batch's callbacks are folded into the walk (private
//!   to the completer; callbacks touch no shared word);
//! * writes to a node that is not published yet (`G5`, the `next` store of `P2`, the async
//!   waker) are folded into the neighbouring step; so is replacing the waker under `UPDATING`
//!   (kept apart under [`Mutation::NotifyIgnoresUpdating`]);
//! * the closure body (`R4`) is folded into `R3` unless the closure may sleep
//!   ([`Config::closure_sleeps`]): it touches no shared word;
//! * a sweeper reads a visited node's `next` and `state` in one step: while `LOCKED` is held no
//!   other thread writes a linked node's `next` (that is what `LOCKED` is for);
//! * `G7` (and the async re-poll) reads the node state and, on `DONE`, the state word in one step
//!   (the state is settled and final by then in every correct run; mutations that break that are
//!   still caught because a not-settled state sends the waiter to `G2`);
//! * the return of an untimed waiter's `futex_wait` after a wake is folded into the waker's
//!   `futex_wake_all` (`H6Wake` moves every thread blocked on the sleep word back to `G7Word`): the
//!   return touches no shared word;
//! * an uncounted task's P0 is left out: a load whose decision (`announce_step`) is always Push,
//!   it writes nothing and tells the thread nothing;
//! * W1's outcome write, before its load, is folded into the winning W1 CAS: nobody reads the cell
//!   before the CAS publishes NORMAL or EXCEPTIONAL, and a promise that loses takes its value back
//!   unread (it touches the cell while it holds its reference, so I13 is not weakened);
//! * the taker's move of the outcome out of its cell (private to the taker from its decision on)
//!   is folded into the step that decides it: T4's load for the last reference, T5's head load
//!   after the drain (so a read by anyone else from that decision on is flagged, a stricter check);
//!   T5's yield loop on `Wait` is one step, enabled once the head word decides (`Take` or
//!   `Callbacks`);
//! * W2 is no transition of its own: the winning W1 CAS moves the promise to F1 (or, when it gave
//!   up the promise's reference, out of the protocol); the Acquire fences of T2, W3 and T4 are
//!   no-ops in this sequentially consistent model, and so is T1's `MAX_REFS` check (it never
//!   fires with a handful of references); the `is_counted` Relaxed loads that select the counted
//!   path of T1, T2 and T4 read a bit fixed before any reference is shared.
//!
//! The sleep word (H6) is a small counter in the state; the futex is a thread status: `GFutex`
//! atomically compares the word with the value read at `G7Word` and either returns (changed) or
//! blocks (`GSleep`, left only by a `futex_wake_all` or, with [`Config::spurious`], spuriously).

use std::fmt;

use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use stateright::{Model, Property};

use crate::protocol::*;
use stateright::semantics::SequentialSpec;

use crate::spec::{Op, Outcome, Ret, WriteOnce, RUN_VALUE, SET_VALUE};

/// At most this many callbacks in one configuration.
pub const MAX_CALLBACKS: usize = 3;
/// At most this many actors (the state is a fixed-size array, so it clones without allocating;
/// node addresses `(i + 1) * NODE_ALIGN` and the flags must also fit the `u8` head word of the
/// model, which allows up to 7, and a counted task's references the eight count bits of the `u16`
/// state word).
pub const MAX_ACTORS: usize = 7;
const _: () = assert!(MAX_ACTORS * NODE_ALIGN + HEAD_FLAGS <= u8::MAX as usize);

/// One thread of the model and what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// Calls `run()` once; the closure may panic (if [`Config::closure_may_fail`]), may observe
    /// an interrupt and return early, and may sleep (park) once if [`Config::closure_sleeps`].
    Runner,
    /// Calls `cancel(interrupt)` once.
    Canceller {
        /// `cancel_and_interrupt()`.
        interrupt: bool,
    },
    /// A promise completer: calls `set(v)` (or `fail(e)`) once.
    Setter {
        /// Calls `fail` instead of `set`.
        fail: bool,
    },
    /// Calls blocking `get()` (untimed) or `get_timeout()` (timed) once.
    Waiter {
        /// `get_timeout`: the deadline may pass at any check.
        timed: bool,
    },
    /// Awaits the task: polls, may be re-polled (same or new waker) and may be dropped.
    Async {
        /// How many extra polls the executor may make (each with the same or a new waker).
        repolls: u8,
        /// The future may be dropped while pending.
        may_drop: bool,
    },
    /// Calls `add_done_callback` once.
    Callback,
    /// Calls `is_done()` then `try_get()`.
    Observer,
    /// The promise of a counted task (`promise()`, I13): publishes once (W1), then, if a pusher
    /// announced, drains (W2) and drops its reference and `DRAIN_HELD` (W3, T3); if none did,
    /// W1's CAS dropped it (T3 if it was the last); if a cancel won, it drops it (T2, T3). Its
    /// presence makes the task counted: every other actor is then a handle of it, holding one
    /// reference from the start and dropping it when done.
    Promise {
        /// How the promise ends.
        end: PromiseEnd,
    },
    /// A handle of a counted task that clones itself (T1), then drops both references (T2, T3).
    Cloner,
    /// A handle of a counted task that gives itself up for the outcome (`try_into_outcome`, T4):
    /// first, if `wait`, a blocking `get()` (untimed, as [`Actor::Waiter`]); then T4's load and
    /// `take_step`: the last reference moves the outcome out and frees the task (T3); one of two
    /// with the promise still holding its reference for the drain (`DRAIN_HELD`) waits for the
    /// drain to close the stack (T5), moves the outcome out and gives its reference up with
    /// `MOVED` in one `fetch_sub`; a pending task, another reference, or a done-callback still to
    /// run (T5) refuses the take: the handle is handed back and dropped (T2); a cancelled task has
    /// no outcome to move: the reference goes (T2).
    Taker {
        /// `get()` first; without it the take may find the task pending.
        wait: bool,
    },
}

/// How an [`Actor::Promise`] ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PromiseEnd {
    /// `set(v)`.
    Set,
    /// `fail(e)`.
    Fail,
    /// Dropped without setting: `Promise::drop` checks `is_done()` and, if not, publishes the
    /// "broken promise" failure.
    Broken,
}

/// A deliberately broken variant of the protocol (the model must find a counterexample for each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// The protocol as specified.
    None,
    /// A pusher ignores `CLOSED` and links its node onto a closed stack, then parks: the
    /// "missing re-check after push" bug (no completer will ever see the node).
    NoClosedCheckOnPush,
    /// After handing off its first batch the completer closes the stack without draining again:
    /// a batch pushed while `DRAINING` is lost.
    CloseWithoutRedrain,
    /// The completer publishes the settled state (K3) before writing the outcome (K2).
    PublishBeforeWrite,
    /// The completer wakes waiters and runs callbacks (K4) before publishing the state (K3).
    WakeBeforePublish,
    /// The sweeper releases `LOCKED` without sweeping again when `DIRTY` was set.
    SkipDirtyResweep,
    /// The runner leaves `run` without waiting out `INTERRUPTING` (R7 skipped).
    NoInterruptWait,
    /// The completer takes a node that its async owner is updating (`UPDATING`), so the waker
    /// registered by the update is never woken.
    NotifyIgnoresUpdating,
    /// H6 (increment the sleep word, `futex_wake_all`) runs right after the Detach CAS, before the
    /// batch's waiters are released: a sleeper that wakes sees its node still `WAITING`, reads the
    /// new word and sleeps through the rest of the hand-off.
    WakeBeforeRelease,
    /// H6 is skipped: a batch that released sleepers never wakes them.
    SleeperNoWake,
    /// The promise drops its reference (T2) right after W1, before W2's drain: the last reader
    /// may free the task (T3) while the promise still drains its head word and nodes.
    ReleaseBeforeDrain,
    /// A counted task's interrupting cancel goes through INTERRUPTING and the plain C5 store, as
    /// an uncounted task's does: a count change (T1, T2) between C1 and C5 is erased, so the task
    /// leaks or is freed while a reference is still held.
    CountedInterruptStore,
    /// P0 is skipped: a pusher on a counted task never sets `ANNOUNCED`, so the completion folds
    /// the promise's release into W1 and never drains the node or the callback pushed meanwhile.
    PushWithoutAnnounce,
    /// W1 always gives up the promise's reference in its CAS and skips W2's drain, `ANNOUNCED` or
    /// not: a pusher that announced before W1 is never handed off.
    PublishIgnoresAnnounce,
    /// A callback's push leaves `CALLBACKS` clear: the drain closes the stack with the batch that
    /// holds it (DetachClose), and a callback registered after the close runs before it.
    CallbackPushUnflagged,
    /// T4 takes any second reference for the draining promise's (`AfterDrain` for every count of
    /// two, `DRAIN_HELD` or not): the outcome is moved out from under another reader.
    TakeIgnoresDrainHeld,
    /// T5 does not wait for the drain to close the stack (always `Take`): the outcome is moved
    /// out before a done-callback of the drain reads it.
    TakeSkipsClose,
    /// W1 keeps the promise's reference for the drain without setting `DRAIN_HELD` (W3 still
    /// subtracts `DRAIN_REF`, as the kernel's mutant): a taker that waited for the value, with no
    /// other handle and no callback, is refused (and W3 corrupts the count).
    PublishWithoutDrainHeld,
}

impl Mutation {
    /// Every mutation (without [`Mutation::None`]).
    pub const ALL: [Mutation; 17] = [
        Mutation::NoClosedCheckOnPush,
        Mutation::CloseWithoutRedrain,
        Mutation::PublishBeforeWrite,
        Mutation::WakeBeforePublish,
        Mutation::SkipDirtyResweep,
        Mutation::NoInterruptWait,
        Mutation::NotifyIgnoresUpdating,
        Mutation::WakeBeforeRelease,
        Mutation::SleeperNoWake,
        Mutation::ReleaseBeforeDrain,
        Mutation::CountedInterruptStore,
        Mutation::PushWithoutAnnounce,
        Mutation::PublishIgnoresAnnounce,
        Mutation::CallbackPushUnflagged,
        Mutation::TakeIgnoresDrainHeld,
        Mutation::TakeSkipsClose,
        Mutation::PublishWithoutDrainHeld,
    ];
}

/// A model configuration: the actors and the knobs of the environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// The threads, by index (thread `i` owns node `i`).
    pub actors: Vec<Actor>,
    /// The mutation to apply.
    pub mutation: Mutation,
    /// Untimed waits (`futex_wait` on the sleep word) may return spuriously (timed parks always
    /// may: that is their timeout).
    pub spurious: bool,
    /// The runner's closure may panic (outcome `Failed`).
    pub closure_may_fail: bool,
    /// The runner's closure may park once (an interruptible sleep that consumes the interrupt's
    /// unpark, or times out).
    pub closure_sleeps: bool,
    /// Also record the history in stateright's `LinearizabilityTester` and check it (the
    /// linearization-point check runs always; the tester multiplies the state space, because the
    /// recorded real-time order splits otherwise equal states).
    pub linearizability: bool,
}

impl Config {
    /// A configuration with the given actors and the defaults for everything else.
    pub fn new(actors: Vec<Actor>) -> Self {
        if let Err(e) = Self::validate(&actors) {
            panic!("{e}");
        }
        Config {
            actors,
            mutation: Mutation::None,
            spurious: false,
            closure_may_fail: false,
            closure_sleeps: false,
            linearizability: false,
        }
    }

    /// Parses a comma-separated actor list: `R` runner, `C` cancel(), `C+` cancel_and_interrupt(),
    /// `S` set, `Sf` fail, `W` untimed get, `T` timed get, `A<n>` async with `n` re-polls,
    /// `A<n>d` the same and droppable, `CB` callback, `O` observer (is_done, try_get); a counted
    /// task (I13): `P` promise that sets, `Pf` one that fails, `Pd` one dropped without setting
    /// (broken promise), `H` a handle that clones itself and drops both references, `K` a handle
    /// that waits (`get()`) and then takes the outcome by value (T4), `K0` one that takes at once
    /// (with a promise, every other actor is a handle holding one reference).
    /// Flags: `+sleep` (closure sleeps), `+fail` (closure may panic), `+spurious`, `+lin`
    /// (LinearizabilityTester). Example: `R,C+,W,T,A1d,CB`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut actors = Vec::new();
        let (mut sleep, mut fail, mut spurious, mut lin) = (false, false, false, false);
        for item in spec.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            let actor = match item {
                "+sleep" => {
                    sleep = true;
                    continue;
                }
                "+fail" => {
                    fail = true;
                    continue;
                }
                "+spurious" => {
                    spurious = true;
                    continue;
                }
                "+lin" => {
                    lin = true;
                    continue;
                }
                "R" => Actor::Runner,
                "C" => Actor::Canceller { interrupt: false },
                "C+" => Actor::Canceller { interrupt: true },
                "S" => Actor::Setter { fail: false },
                "Sf" => Actor::Setter { fail: true },
                "W" => Actor::Waiter { timed: false },
                "T" => Actor::Waiter { timed: true },
                "CB" => Actor::Callback,
                "O" => Actor::Observer,
                "P" => Actor::Promise {
                    end: PromiseEnd::Set,
                },
                "Pf" => Actor::Promise {
                    end: PromiseEnd::Fail,
                },
                "Pd" => Actor::Promise {
                    end: PromiseEnd::Broken,
                },
                "H" => Actor::Cloner,
                "K" => Actor::Taker { wait: true },
                "K0" => Actor::Taker { wait: false },
                a if a.starts_with('A') => {
                    let may_drop = a.ends_with('d');
                    let digits = a[1..].trim_end_matches('d');
                    let repolls = if digits.is_empty() {
                        0
                    } else {
                        digits
                            .parse()
                            .map_err(|_| format!("bad async spec {a:?}"))?
                    };
                    Actor::Async { repolls, may_drop }
                }
                other => return Err(format!("unknown actor {other:?}")),
            };
            actors.push(actor);
        }
        if actors.is_empty() {
            return Err(format!("between 1 and {MAX_ACTORS} actors"));
        }
        Self::validate(&actors)?;
        Ok(Config::new(actors)
            .with_closure_sleep(sleep)
            .with_closure_failure(fail)
            .with_spurious(spurious)
            .with_linearizability(lin))
    }

    /// The actors make a valid configuration: at most [`MAX_ACTORS`], at most
    /// [`MAX_CALLBACKS`] callbacks; a counted task (with a promise) has one promise, and neither a
    /// runner nor a setter (it has no closure, and only its promise completes it); a cloner and a
    /// taker only on a counted task.
    fn validate(actors: &[Actor]) -> Result<(), String> {
        if actors.len() > MAX_ACTORS {
            return Err(format!("between 1 and {MAX_ACTORS} actors"));
        }
        if actors.iter().filter(|a| **a == Actor::Callback).count() > MAX_CALLBACKS {
            return Err("too many callbacks".into());
        }
        let promises = actors
            .iter()
            .filter(|a| matches!(a, Actor::Promise { .. }))
            .count();
        if promises > 1 {
            return Err("at most one promise".into());
        }
        if promises == 1
            && actors
                .iter()
                .any(|a| matches!(a, Actor::Runner | Actor::Setter { .. }))
        {
            return Err("a counted task (a promise's) has no runner and no setter".into());
        }
        if promises == 0 && actors.contains(&Actor::Cloner) {
            return Err("a cloner (H) needs a counted task: add a promise (P, Pf, Pd)".into());
        }
        if promises == 0 && actors.iter().any(|a| matches!(a, Actor::Taker { .. })) {
            return Err("a taker (K, K0) needs a counted task: add a promise (P, Pf, Pd)".into());
        }
        Ok(())
    }

    /// The task is counted (I13): the configuration has a promise.
    pub fn counted(&self) -> bool {
        self.actors
            .iter()
            .any(|a| matches!(a, Actor::Promise { .. }))
    }

    /// The take must succeed once the taker's `get()` returned an outcome (I13, completeness):
    /// the configuration is the promise and one taker that waits, so no other handle and no
    /// callback may read the outcome.
    pub fn take_must_succeed(&self) -> bool {
        self.actors.len() == 2
            && self.counted()
            && self.actors.contains(&Actor::Taker { wait: true })
    }

    /// Builder: apply a mutation.
    pub fn with_mutation(mut self, m: Mutation) -> Self {
        self.mutation = m;
        self
    }

    /// Builder: allow spurious wakeups of untimed waits (`futex_wait`).
    pub fn with_spurious(mut self, on: bool) -> Self {
        self.spurious = on;
        self
    }

    /// Builder: the closure may panic.
    pub fn with_closure_failure(mut self, on: bool) -> Self {
        self.closure_may_fail = on;
        self
    }

    /// Builder: the closure may sleep once.
    pub fn with_closure_sleep(mut self, on: bool) -> Self {
        self.closure_sleeps = on;
        self
    }

    /// Builder: also check histories with stateright's `LinearizabilityTester`.
    pub fn with_linearizability(mut self, on: bool) -> Self {
        self.linearizability = on;
        self
    }

    /// The quick configuration run by default: runner, cancel_and_interrupt(), an untimed, a timed and
    /// an async waiter, one callback.
    pub fn quick() -> Self {
        Config::new(vec![
            Actor::Runner,
            Actor::Canceller { interrupt: true },
            Actor::Waiter { timed: false },
            Actor::Waiter { timed: true },
            Actor::Callback,
        ])
        .with_closure_sleep(true)
    }

    /// The big configuration of the brief: 1 runner + 1 canceller (interrupting) + 3 waiters
    /// (untimed, timed, async) + 1 callback. The async waiter polls, registers, re-checks and is
    /// woken; re-polling with a new waker and dropping are covered by smaller configurations
    /// (with them the state space grows past what two cores finish in reasonable time).
    pub fn big() -> Self {
        Config::new(vec![
            Actor::Runner,
            Actor::Canceller { interrupt: true },
            Actor::Waiter { timed: false },
            Actor::Waiter { timed: true },
            Actor::Async {
                repolls: 0,
                may_drop: false,
            },
            Actor::Callback,
        ])
    }
}

/// Program counters. The names are the step labels of `ALGORITHM.md`; the thread's next action
/// performs the step named by its `pc`.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Pc {
    /// Not started yet (the first step invokes the operation).
    #[default]
    Idle,
    /// Returned / exited; the thread's node (if any) has been freed.
    Finished,
    // run()
    R1,
    R2Cas,
    R3,
    R4Body,
    R4Sleep,
    R6,
    R7,
    R8,
    // complete()
    K1Load,
    K1Cas,
    K2,
    K3,
    // cancel()
    C1Load,
    C1Cas,
    C3,
    C4,
    C5,
    // finish_completion()
    F1,
    F2Close,
    F2Detach,
    H2,
    H4,
    H5,
    H6Inc,
    H6Wake,
    // get()
    G1,
    G2,
    // push (P0: a counted task's announcement, load then CAS; P1..P3)
    P0Load,
    P0Cas,
    P1,
    P3,
    GClosed,
    G7Word,
    G7,
    GFutex,
    GSleep,
    GPark,
    G8,
    GWait,
    GWaitPark,
    G10,
    // remove_abandoned()
    A1,
    A2Cas,
    S1,
    SVisit,
    SUnlinkLoad,
    SUnlinkHead,
    SUnlinkPred,
    SH2,
    SH4,
    SH5,
    S2,
    S2Cas,
    // async poll / drop
    APoll,
    APending,
    ARepoll,
    AUpdate,
    AClone,
    AReacquire,
    AReplace,
    AStore,
    ADrop,
    ADropWait,
    // callbacks
    D2Run,
    // observer
    OIsDone,
    OTryGet,
    // the promise of a counted task: `Promise::drop`'s `is_done()`, then W1 (W2 is F1..), then
    // W3 (its reference released after the drain)
    WIsDone,
    W1Load,
    W1Cas,
    W3Load,
    W3Sub,
    // a counted task's references
    T1,
    T2Load,
    T2Sub,
    T3,
    // a taker: T4 (load and `take_step`; the plain store of the last reference, or the
    // `fetch_sub` of one of two), T5 (the head load of `take_head_step`)
    T4Load,
    T4Store,
    T4Sub,
    T5,
}

/// What a node carries for its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Payload {
    /// Taken (or never set).
    #[default]
    None,
    /// A thread handle (unpark target), by thread id: a timed waiter.
    Thread(u8),
    /// An untimed waiter asleep on the sleep word (woken by the batch's H6, not per node).
    Sleeper,
    /// A waker of the given async thread, generation `gen`.
    Waker(u8, u8),
}

/// One waiter/callback node (node `i` belongs to thread `i`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Node {
    /// The node's hand-off state (`NODE_WAITING`, …).
    pub st: u8,
    /// The `next` pointer as an address (`(j + 1) * NODE_ALIGN`), 0 for null.
    pub next: u8,
    /// The payload.
    pub pay: Payload,
}

/// A thread: its program counter, its park permit and its locals.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Thread {
    /// Program counter.
    pub pc: Pc,
    /// The park permit (set by unpark, consumed by park).
    pub permit: bool,
    /// Last state word read / state to CAS from.
    pub s: u16,
    /// Last head word read / expected head word of a CAS.
    pub h: u8,
    /// Head word to CAS in.
    pub w: u8,
    /// Current node of a walk (address, 0 = none) / runner pointer read by C3.
    pub cur: u8,
    /// Sweep predecessor (address, 0 = none).
    pub pred: u8,
    /// Successor read before handling `cur` (address).
    pub nxt: u8,
    /// Payload taken from a node, to be woken.
    pub pay: Payload,
    /// Scratch flag: A2 locks (vs marks dirty); S2 releases (vs sweeps again); the node handled in
    /// H2 was ABANDONED; an async re-poll carries a new waker.
    pub flag: bool,
    /// Runner: K1 failed (a cancel or another completion won).
    pub lost: bool,
    /// Runner/setter: the outcome is a value (not a failure).
    pub ok: bool,
    /// Runner: the closure already slept once. Completer: already drained a batch (mutation only).
    pub once: bool,
    /// The completer's private FIFO list of callback nodes (addresses).
    pub cbs: [u8; MAX_CALLBACKS],
    /// Length of `cbs`.
    pub ncb: u8,
    /// Async: generation of the waker passed to the latest poll.
    pub gen: u8,
    /// Async: the latest waker was woken.
    pub woken: bool,
    /// Async: extra polls left.
    pub polls: u8,
    /// Async: the node is registered (pushed).
    pub registered: bool,
    /// Untimed waiter: the sleep word read at `G7Word`, compared by `GFutex`.
    pub e: u8,
    /// Completer: the current batch released a `Sleeper` (H6 is due after the walk).
    pub sleepers: bool,
    /// I9: 1 + the phase this thread observed last (0: none yet).
    pub seen: u8,
    /// Ghost, counted task: the references this thread holds (I13).
    pub refs: u8,
    /// Promise, [`Mutation::ReleaseBeforeDrain`] only: W2's drain is still to come after T2.
    pub then_drain: bool,
    /// Completer: the batch being handed off was detached with the stack closed (F2's
    /// DetachClose), so the drain ends with it.
    pub closing: bool,
    /// Ghost, taker: its `get()` returned an outcome to take (a value or a failure), so, where
    /// [`Config::take_must_succeed`], the take must not be refused.
    pub waited: bool,
}

/// Ghost state: counters and flags used only by the properties.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Ghost {
    /// Successful transitions out of phase NEW (I1).
    pub wins: u8,
    /// Successful claims of the closure (I4).
    pub claims: u8,
    /// Writes of the outcome cell (I1/I2).
    pub writes: u8,
    /// Bit `i`: node `i` was published on the stack.
    pub pushed: u16,
    /// Bit `i`: node `i` was released (stored DONE).
    pub released: u16,
    /// Bit `i`: node `i`'s memory was freed by its owner (or, for callbacks, by whoever ran it).
    pub freed: u16,
    /// Callback threads in registration order (thread ids + 1).
    pub cb_reg: [u8; MAX_CALLBACKS],
    /// Callback threads in the order their callbacks ran (thread ids + 1).
    pub cb_ran: [u8; MAX_CALLBACKS],
    /// Bit set of violated invariants (`BAD_*`), set by the transition that broke them.
    pub bad: u16,
    /// The abstract outcome (the sequential object's state), set at the linearization point of
    /// the operation that decided it.
    pub decided: Option<Outcome>,
    /// Counted task: how many times the task was freed (T3; I13).
    pub frees: u8,
    /// Counted task: how many times a taker moved the outcome out (T4; I13).
    pub moves: u8,
}

/// I1 violated by a transition.
pub const BAD_I1: u16 = 1 << 1;
/// I2 violated by a transition.
pub const BAD_I2: u16 = 1 << 2;
/// I3 violated by a transition.
pub const BAD_I3: u16 = 1 << 3;
/// I4 violated by a transition.
pub const BAD_I4: u16 = 1 << 4;
/// I5 violated by a transition.
pub const BAD_I5: u16 = 1 << 5;
/// I6 violated by a transition.
pub const BAD_I6: u16 = 1 << 6;
/// I7 violated by a transition.
pub const BAD_I7: u16 = 1 << 7;
/// I8 violated by a transition.
pub const BAD_I8: u16 = 1 << 8;
/// I9 violated by a transition.
pub const BAD_I9: u16 = 1 << 9;
/// A linearization point disagreed with the sequential specification.
pub const BAD_LIN: u16 = 1 << 10;
/// I13 violated by a transition (a touch of the task after its free, a second free, a free while
/// another reference is held or before the protocol finished with the task).
pub const BAD_I13: u16 = 1 << 11;
/// I13 (the outcome's ownership) violated by a transition: a second move, a read of the outcome
/// (a reader returning it, a callback) after the move, a move while another reference may still
/// read it, or a free that drops the outcome although it was moved, or leaks it.
pub const BAD_MOVE: u16 = 1 << 12;
/// I13 (completeness) violated: a take refused where nobody else can read the outcome
/// ([`Config::take_must_succeed`]).
pub const BAD_TAKE: u16 = 1 << 13;

/// The whole model state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The state word (`protocol` encoding; `u16`, so that a counted task's count, from bit 8,
    /// keeps the kernel's bit pattern).
    pub state: u16,
    /// The waiter-stack head word (`protocol` encoding; node `i` at `(i + 1) * NODE_ALIGN`).
    pub head: u8,
    /// The runner pointer: thread id + 1, 0 for null.
    pub runner: u8,
    /// The sleep word of the untimed waiters (a futex; incremented by H6).
    pub sleep: u8,
    /// The write-once outcome cell.
    pub outcome: Option<Outcome>,
    /// Node `i` belongs to thread `i` (slots past the configuration's actors are unused).
    pub nodes: [Node; MAX_ACTORS],
    /// The threads (slots past the configuration's actors are `Finished`).
    pub threads: [Thread; MAX_ACTORS],
    /// Ghost state for the properties.
    pub ghost: Ghost,
    /// The recorded history (when [`Config::linearizability`] is on).
    pub history: Option<LinearizabilityTester<u8, WriteOnce>>,
}

/// Which alternative of a thread's next step is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alt {
    /// The step itself (the program's own progress).
    Go,
    /// Environment: a park returns without a permit (spurious wakeup or timeout).
    Spurious,
    /// Environment: the deadline has passed at this check.
    Deadline,
    /// Environment: the closure panics (chosen when `run` is invoked).
    Fail,
    /// Environment: the closure sleeps (parks).
    Sleep,
    /// The closure observes the interrupt and returns early.
    Check,
    /// Environment: the executor polls again with the same waker.
    Repoll,
    /// Environment: the executor polls again with a new waker.
    NewWaker,
    /// Environment: the future is dropped while pending.
    Drop,
}

impl Alt {
    /// The program's own progress (as opposed to an environment choice).
    pub fn is_progress(self) -> bool {
        matches!(self, Alt::Go | Alt::Check)
    }
}

/// A transition: thread `tid` takes alternative `alt` of its next step.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Action {
    /// The thread.
    pub tid: u8,
    /// The alternative.
    pub alt: Alt,
    /// The step (for display).
    pub pc: Pc,
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}:{:?}", self.tid, self.pc)?;
        if self.alt != Alt::Go {
            write!(f, "[{:?}]", self.alt)?;
        }
        Ok(())
    }
}

/// The model: a configuration.
#[derive(Clone, Debug)]
pub struct FutureTaskModel {
    /// The configuration.
    pub cfg: Config,
}

/// Address of node `i`.
#[inline]
fn addr(i: usize) -> u8 {
    ((i + 1) * NODE_ALIGN) as u8
}

/// Node index at an address (which must not be null).
#[inline]
fn node_at(a: u8) -> usize {
    debug_assert!(a != 0);
    a as usize / NODE_ALIGN - 1
}

const fn bit(i: usize) -> u16 {
    1 << i
}

impl FutureTaskModel {
    /// A model of the given configuration.
    pub fn new(cfg: Config) -> Self {
        FutureTaskModel { cfg }
    }

    fn actor(&self, t: usize) -> Actor {
        self.cfg.actors[t]
    }

    fn mutation(&self) -> Mutation {
        self.cfg.mutation
    }

    fn is_callback_node(&self, i: usize) -> bool {
        self.actor(i) == Actor::Callback
    }

    // ---- ghost helpers ----------------------------------------------------------------------

    fn invoke(&self, st: &mut State, t: usize, op: Op) {
        if let Some(h) = st.history.as_mut() {
            h.on_invoke(t as u8, op).expect("model invoked twice");
        }
    }

    /// The abstraction function: the sequential object the concrete state stands for.
    pub fn alpha(st: &State) -> WriteOnce {
        WriteOnce {
            outcome: st.ghost.decided,
            claimed: is_started(st.state as usize),
        }
    }

    /// A linearization point: the operation `op` of thread `t` takes effect now (on the state
    /// *before* this step's write) and returns `actual`; the sequential specification applied to
    /// the abstraction of the current state must return the same, and its next state becomes the
    /// abstraction.
    fn lp(&self, st: &mut State, op: Op, actual: Ret) {
        let mut spec = Self::alpha(st);
        if spec.invoke(&op) != actual {
            st.ghost.bad |= BAD_LIN;
        }
        st.ghost.decided = spec.outcome;
    }

    /// The operation thread `t` is executing (from its role and program counter).
    fn current_op(&self, st: &State, t: usize) -> Op {
        let th = &st.threads[t];
        match self.actor(t) {
            Actor::Runner if matches!(th.pc, Pc::R1 | Pc::R2Cas) => Op::Claim,
            Actor::Runner => Op::Complete { panics: !th.ok },
            Actor::Canceller { interrupt } => Op::Cancel { interrupt },
            Actor::Setter { fail } => Op::Set { fail },
            Actor::Waiter { timed: true } => Op::TimedGet,
            Actor::Waiter { timed: false } | Actor::Taker { .. } => Op::Get,
            Actor::Async { .. } => Op::Await,
            Actor::Observer if th.pc == Pc::OIsDone => Op::IsDone,
            Actor::Observer => Op::TryGet,
            Actor::Promise { end } => Op::Set {
                fail: end != PromiseEnd::Set,
            },
            Actor::Callback | Actor::Cloner => unreachable!("{:?} returns nothing", self.actor(t)),
        }
    }

    /// Thread `t`'s operation returns `r`. A read's linearization point is the load that
    /// produced `r`, i.e. this very step.
    fn ret(&self, st: &mut State, t: usize, r: Ret) {
        let op = self.current_op(st, t);
        if matches!(
            op,
            Op::Get | Op::TimedGet | Op::TryGet | Op::IsDone | Op::Await
        ) {
            self.lp(st, op, r);
        }
        if let Some(h) = st.history.as_mut() {
            h.on_return(t as u8, r)
                .expect("model returned without invoke");
        }
    }

    /// I9: every state load by an observer is checked against the last phase it saw.
    fn observe(&self, st: &mut State, t: usize, s: u16) {
        let p = phase(s as usize);
        let th = &mut st.threads[t];
        if th.seen != 0 && !phase_reachable(th.seen as usize - 1, p) {
            st.ghost.bad |= BAD_I9;
        }
        th.seen = p as u8 + 1;
    }

    /// Every write of the state word: a change of phase must be an edge the protocol allows, a
    /// counted task's edges for a counted word (I9; `phase_edge_allowed`: a counted task never
    /// passes through COMPLETING or INTERRUPTING, whose plain stores would erase a count).
    fn write_state(st: &mut State, n: usize) {
        let old = st.state as usize;
        let (from, to) = (phase(old), phase(n));
        if from != to && !phase_edge_allowed(from, to, is_counted(old)) {
            st.ghost.bad |= BAD_I9;
        }
        st.state = n as u16;
    }

    /// Whether a thread's step at `pc` touches the task (its state word, head word, sleep word,
    /// nodes or outcome): every step but the parks, the closure's body and the executor's choices,
    /// which touch only the thread's own state (I13: nothing touches a counted task after T3).
    fn touches_task(pc: Pc) -> bool {
        !matches!(
            pc,
            Pc::Finished
                | Pc::R4Body
                | Pc::R4Sleep
                | Pc::GPark
                | Pc::GWaitPark
                | Pc::GSleep
                | Pc::APending
        )
    }

    /// References held by every thread but `me` (ghost).
    fn refs_held_by_others(st: &State, me: usize) -> usize {
        st.threads
            .iter()
            .enumerate()
            .filter(|&(t, _)| t != me)
            .map(|(_, th)| th.refs as usize)
            .sum()
    }

    fn saw_done(st: &State, t: usize) -> bool {
        let seen = st.threads[t].seen;
        seen != 0 && is_done(seen as usize - 1)
    }

    /// The outcome a reader of a settled state reports (reading the outcome cell when the phase
    /// says it was written: I2; never after a taker moved it out: I13).
    fn outcome_of(st: &mut State, s: u16) -> Outcome {
        match phase(s as usize) {
            NORMAL | EXCEPTIONAL if st.ghost.moves > 0 => {
                // I13: the outcome is read after a taker moved it out.
                st.ghost.bad |= BAD_MOVE;
                st.outcome.unwrap_or(Outcome::Failed)
            }
            NORMAL | EXCEPTIONAL => match st.outcome {
                Some(o) => o,
                None => {
                    st.ghost.bad |= BAD_I2;
                    Outcome::Failed
                }
            },
            CANCELLED | INTERRUPTING | INTERRUPTED => Outcome::Cancelled,
            _ => {
                st.ghost.bad |= BAD_I9;
                Outcome::Failed
            }
        }
    }

    /// A non-owner touches node `i`: it must be neither released nor freed (I6).
    fn touch(st: &mut State, i: usize) {
        if st.nodes[i].st as usize == NODE_DONE || st.ghost.freed & bit(i) != 0 {
            st.ghost.bad |= BAD_I6;
        }
    }

    fn unpark(st: &mut State, target: usize) {
        st.threads[target].permit = true;
    }

    fn wake(&self, st: &mut State, me: usize, pay: Payload, abandoned: bool) {
        match pay {
            Payload::None => st.ghost.bad |= BAD_I6, // the payload was taken twice
            Payload::Thread(o) => {
                if o as usize != me {
                    Self::unpark(st, o as usize);
                }
            }
            // H5 does nothing per sleeper: the batch's H6 wakes them all (the caller remembers).
            Payload::Sleeper => {}
            Payload::Waker(o, g) => {
                if !abandoned && st.threads[o as usize].gen == g {
                    st.threads[o as usize].woken = true;
                }
            }
        }
    }

    /// The owner of node `t` leaves: its node memory is freed (I6: only after DONE).
    fn free_own_node(st: &mut State, t: usize) {
        if st.ghost.pushed & bit(t) != 0 && st.nodes[t].st as usize != NODE_DONE {
            st.ghost.bad |= BAD_I6;
        }
        st.ghost.freed |= bit(t);
    }

    fn run_callback(&self, st: &mut State, c: usize) {
        // I7: the outcome is visible, the callback runs once and after every callback that was
        // pushed before it.
        if !is_settled(st.state as usize) {
            st.ghost.bad |= BAD_I7;
        }
        if matches!(phase(st.state as usize), NORMAL | EXCEPTIONAL) && st.outcome.is_none() {
            st.ghost.bad |= BAD_I7;
        }
        if matches!(phase(st.state as usize), NORMAL | EXCEPTIONAL) && st.ghost.moves > 0 {
            // I13: the callback reads an outcome a taker moved out.
            st.ghost.bad |= BAD_MOVE;
        }
        let id = c as u8 + 1;
        if st.ghost.cb_ran.contains(&id) {
            st.ghost.bad |= BAD_I7;
            return;
        }
        let pos = st.ghost.cb_reg.iter().position(|&x| x == id);
        match pos {
            None => st.ghost.bad |= BAD_I7,
            Some(p) => {
                for &earlier in &st.ghost.cb_reg[..p] {
                    if !st.ghost.cb_ran.contains(&earlier) {
                        st.ghost.bad |= BAD_I7;
                    }
                }
            }
        }
        let slot = st
            .ghost
            .cb_ran
            .iter()
            .position(|&x| x == 0)
            .expect("cb slots");
        st.ghost.cb_ran[slot] = id;
        st.ghost.freed |= bit(c);
    }

    fn register_callback(st: &mut State, c: usize) {
        let slot = st
            .ghost
            .cb_reg
            .iter()
            .position(|&x| x == 0)
            .expect("cb slots");
        st.ghost.cb_reg[slot] = c as u8 + 1;
    }

    // ---- control flow helpers ---------------------------------------------------------------

    /// Where a completer goes once `finish_completion` is over.
    fn after_finish(&self, st: &mut State, t: usize) {
        let th = &mut st.threads[t];
        th.h = 0;
        th.w = 0;
        th.cur = 0;
        th.nxt = 0;
        th.once = false;
        th.sleepers = false;
        th.closing = false;
        if self.mutation() == Mutation::WakeBeforePublish && phase(st.state as usize) == COMPLETING
        {
            th.pc = Pc::K3;
            return;
        }
        match self.actor(t) {
            Actor::Runner => th.pc = Pc::R6,
            Actor::Setter { .. } | Actor::Canceller { .. } => {
                th.pc = Pc::Finished;
                th.s = 0;
                self.ret(st, t, Ret::Won);
                if st.threads[t].refs > 0 {
                    // A counted task's canceller is a handle: it drops its reference (T2).
                    self.finish(st, t);
                }
            }
            Actor::Promise { .. } => {
                // W2 is over: the promise drops the reference W1 kept for it (W3; none left
                // under ReleaseBeforeDrain, which dropped it before the drain).
                self.ret(st, t, Ret::Won);
                self.finish(st, t);
                if st.threads[t].refs > 0 {
                    st.threads[t].pc = Pc::W3Load;
                }
            }
            a => unreachable!("{a:?} does not complete"),
        }
    }

    /// Where a remover goes once `remove_abandoned` is over.
    fn after_remove(&self, st: &mut State, t: usize) {
        let th = &mut st.threads[t];
        th.h = 0;
        th.w = 0;
        th.cur = 0;
        th.pred = 0;
        th.nxt = 0;
        th.flag = false;
        th.pc = match self.actor(t) {
            Actor::Waiter { .. } => Pc::GWait,
            Actor::Async { .. } => Pc::ADropWait,
            a => unreachable!("{a:?} does not remove"),
        };
    }

    /// An operation that reads the outcome returns it.
    fn return_outcome(&self, st: &mut State, t: usize, s: u16) {
        let o = Self::outcome_of(st, s);
        self.ret(st, t, Ret::Out(o));
        match self.actor(t) {
            Actor::Taker { .. } => {
                // The get is over: the take (T4) comes next, with an outcome to take or not.
                self.finish(st, t);
                st.threads[t].waited = o != Outcome::Cancelled;
            }
            Actor::Async { .. } => {
                let th = &mut st.threads[t];
                th.s = 0;
                if th.registered {
                    th.pc = Pc::ADrop;
                } else if th.refs > 0 {
                    self.finish(st, t);
                } else {
                    th.pc = Pc::Finished;
                    Self::free_own_node(st, t);
                }
            }
            _ => self.finish(st, t),
        }
    }

    /// The thread is done; its node (if it has one) is freed. A handle of a counted task then
    /// drops its references (T2); a taker first tries to take the outcome (T4).
    fn finish(&self, st: &mut State, t: usize) {
        // Locals of a returned thread are dead: clear them so equal futures merge. The runner's
        // permit stays (a leftover permit is allowed; I5 checks that no unpark comes later).
        let permit = self.actor(t) == Actor::Runner && st.threads[t].permit;
        let refs = st.threads[t].refs;
        let taker = matches!(self.actor(t), Actor::Taker { .. });
        st.threads[t] = Thread {
            pc: match refs {
                0 => Pc::Finished,
                _ if taker => Pc::T4Load,
                _ => Pc::T2Load,
            },
            permit,
            refs,
            ..Thread::default()
        };
        match self.actor(t) {
            Actor::Waiter { .. } | Actor::Async { .. } | Actor::Taker { .. } => {
                Self::free_own_node(st, t)
            }
            _ => {}
        }
    }

    /// A reference was dropped (T2, and T3 if it was the last): drop the next one, or leave.
    fn after_release(&self, st: &mut State, t: usize) {
        let th = &mut st.threads[t];
        th.s = 0;
        th.pc = if th.then_drain {
            // ReleaseBeforeDrain: W2's drain comes only now.
            th.then_drain = false;
            Pc::F1
        } else if th.refs > 0 {
            Pc::T2Load
        } else {
            Pc::Finished
        };
    }

    /// The promise lost W1 (a reader's cancel won): it takes its value back (never published,
    /// so nobody saw it) and drops its reference.
    fn lose_publish(&self, st: &mut State, t: usize) {
        let op = self.current_op(st, t);
        self.lp(st, op, Ret::Lost);
        self.ret(st, t, Ret::Lost);
        self.finish(st, t);
    }

    /// W1's decision on state word `s`: the kernel's `try_publish`, or, under
    /// [`Mutation::PublishIgnoresAnnounce`], the unannounced one (the reference given up) always.
    fn publish_decision(&self, s: u16, ok: bool) -> Option<usize> {
        let s = s as usize;
        match self.mutation() {
            Mutation::PublishIgnoresAnnounce => {
                try_publish(s & !ANNOUNCED, ok).map(|n| n | (s & ANNOUNCED))
            }
            Mutation::PublishWithoutDrainHeld => try_publish(s, ok).map(|n| n & !DRAIN_HELD),
            _ => try_publish(s, ok),
        }
    }

    /// T4's decision on state word `s`: the kernel's `take_step`, or, under
    /// [`Mutation::TakeIgnoresDrainHeld`], `AfterDrain` for any two references.
    fn take_decision(&self, s: u16) -> Take {
        let s = s as usize;
        match (take_step(s), self.mutation()) {
            (Take::Shared, Mutation::TakeIgnoresDrainHeld) => match take_step(s | DRAIN_HELD) {
                after @ Take::AfterDrain(_) => after,
                _ => Take::Shared,
            },
            (take, _) => take,
        }
    }

    /// T5's decision on head word `h`: the kernel's `take_head_step`, or, under
    /// [`Mutation::TakeSkipsClose`], `Take` always.
    fn take_head_decision(&self, h: u8) -> TakeHead {
        if self.mutation() == Mutation::TakeSkipsClose {
            return TakeHead::Take;
        }
        take_head_step(h as usize)
    }

    /// The take is refused (pending, another reference, a callback still to run): the handle is
    /// handed back and dropped (T2). I13 (completeness): not after the taker's `get()` returned
    /// an outcome, where nobody else can read it ([`Config::take_must_succeed`]).
    fn refuse_take(&self, st: &mut State, t: usize) {
        if st.threads[t].waited && self.cfg.take_must_succeed() {
            st.ghost.bad |= BAD_TAKE;
        }
        let th = &mut st.threads[t];
        th.s = 0;
        th.pc = Pc::T2Load;
    }

    /// The taker moves the outcome out (the ghost of `move_outcome_out`, folded into the step
    /// that decided it: T4's load for the last reference, T5's head load after the drain; the
    /// cell is private to the taker from there on, and a read by anyone else from the decision
    /// on is flagged). I13: the outcome is published and moved at most once, nobody reads it
    /// afterwards, and no other reference may still read it: each one held by someone else is
    /// the promise's, with every registered callback already run.
    fn move_outcome(&self, st: &mut State, t: usize, s: u16) {
        let o = Self::outcome_of(st, s);
        // The take's result is `try_get`'s at this point: the value or the failure decided.
        self.lp(st, Op::TryGet, Ret::Out(o));
        if !owns_outcome(s as usize) || st.ghost.moves > 0 {
            st.ghost.bad |= BAD_MOVE;
        }
        let others_may_read = (0..self.cfg.actors.len()).any(|u| {
            u != t && st.threads[u].refs > 0 && !matches!(self.actor(u), Actor::Promise { .. })
        }) || st
            .ghost
            .cb_reg
            .iter()
            .any(|&c| c != 0 && !st.ghost.cb_ran.contains(&c));
        if others_may_read {
            st.ghost.bad |= BAD_MOVE;
        }
        st.ghost.moves = st.ghost.moves.saturating_add(1);
    }

    /// W1's CAS from `s` gives up the promise's reference (and W2 is skipped).
    fn publish_folds_release(&self, s: u16) -> bool {
        publish_releases(s as usize) || self.mutation() == Mutation::PublishIgnoresAnnounce
    }

    /// The interrupting-or-not cancel's decision (C1) on state word `s`: the kernel's
    /// `try_cancel`, or, under [`Mutation::CountedInterruptStore`], the uncounted decision
    /// (INTERRUPTING, the count carried along) for a counted task too.
    fn cancel_decision(&self, s: u16, interrupt: bool) -> Option<usize> {
        let s = s as usize;
        if self.mutation() == Mutation::CountedInterruptStore && interrupt && is_counted(s) {
            return try_cancel(s & !COUNTED, true).map(|n| n | COUNTED);
        }
        try_cancel(s, interrupt)
    }

    /// C6: the winning cancel drains (`finish_completion`, F1..) only if `must_drain` on the
    /// word `n` it wrote: a counted task nobody announced a push on has nobody to wake.
    fn cancel_drain(&self, st: &mut State, t: usize, n: usize) {
        if must_drain(n) {
            st.threads[t].pc = Pc::F1;
        } else {
            self.after_finish(st, t);
        }
    }

    /// A reader of a state word `s` that is not NEW: settled → return, COMPLETING → G2.
    fn read_done(&self, st: &mut State, t: usize, s: u16) {
        if is_settled(s as usize) {
            self.return_outcome(st, t, s);
        } else {
            st.threads[t].pc = Pc::G2;
        }
    }

    /// The step a pusher starts with: P0 on a counted task (not under
    /// [`Mutation::PushWithoutAnnounce`]), else P1.
    fn first_push_pc(&self) -> Pc {
        if self.cfg.counted() && self.mutation() != Mutation::PushWithoutAnnounce {
            Pc::P0Load
        } else {
            Pc::P1
        }
    }

    /// Thread `t` is about to push its node: P0 first on a counted task, then the push.
    fn announce_then_push(&self, st: &mut State, t: usize) {
        if self.first_push_pc() == Pc::P0Load {
            st.threads[t].pc = Pc::P0Load;
        } else {
            self.start_push(st, t);
        }
    }

    /// G5 (or the async waker, or the callback) goes into the node, then P1. The node is not
    /// published yet (private to its owner), so the write is folded into this step.
    fn start_push(&self, st: &mut State, t: usize) {
        let pay = match self.actor(t) {
            // An untimed waiter sleeps on the sleep word, a timed one parks.
            Actor::Waiter { timed: true } => Some(Payload::Thread(t as u8)),
            Actor::Waiter { timed: false } | Actor::Taker { .. } => Some(Payload::Sleeper),
            Actor::Async { .. } => Some(Payload::Waker(t as u8, st.threads[t].gen)),
            _ => None, // a callback node: its closure is not modelled
        };
        if let Some(pay) = pay {
            st.nodes[t] = Node {
                st: NODE_WAITING as u8,
                next: 0,
                pay,
            };
        }
        st.threads[t].pc = Pc::P1;
    }

    /// P0's decision (`announce_step`) on the state word `s` that thread `t` loaded or that its
    /// failed CAS read.
    fn announce_decide(&self, st: &mut State, t: usize, s: u16) {
        match announce_step(s as usize) {
            Announce::Push => {
                st.threads[t].s = 0;
                self.start_push(st, t);
            }
            Announce::Set(_) => {
                st.threads[t].s = s;
                st.threads[t].pc = Pc::P0Cas;
            }
            Announce::Settled => {
                // Settled and never announced: nobody pushed and nobody will drain, so push
                // nothing; a callback runs now (no earlier one is pending), a waiter returns the
                // outcome of the word it read.
                st.threads[t].s = 0;
                if self.actor(t) == Actor::Callback {
                    Self::register_callback(st, t);
                    self.run_callback(st, t);
                    self.finish(st, t);
                } else {
                    self.observe(st, t, s);
                    self.read_done(st, t, s);
                }
            }
        }
    }

    /// Compute the next push attempt from head word `h` (P2), for thread `t`.
    fn push_from(&self, st: &mut State, t: usize, h: u8) {
        let node = addr(t);
        let callback =
            self.actor(t) == Actor::Callback && self.mutation() != Mutation::CallbackPushUnflagged;
        let w = if self.mutation() == Mutation::NoClosedCheckOnPush {
            let kind = if callback { CALLBACKS } else { 0 };
            Some(node as usize | (h as usize & HEAD_FLAGS) | kind)
        } else {
            try_push(h as usize, node as usize, callback)
        };
        match w {
            None => {
                let th = &mut st.threads[t];
                th.h = 0;
                th.w = 0;
                th.pc = match self.actor(t) {
                    Actor::Callback => Pc::D2Run,
                    _ => Pc::GClosed,
                };
            }
            Some(w) => {
                st.nodes[t].next = head_ptr(h as usize) as u8;
                let th = &mut st.threads[t];
                th.h = h;
                th.w = w as u8;
                th.pc = Pc::P3;
            }
        }
    }

    /// Continue a completer's walk at `next` (address).
    ///
    /// Callback nodes of the detached batch are private to the completer, so prepending them to
    /// its FIFO list is folded into this step; so is running the callbacks when the walk ends
    /// (they touch no shared word).
    fn walk_to(&self, st: &mut State, t: usize, mut next: u8) {
        while next != 0 && self.is_callback_node(node_at(next)) {
            let i = node_at(next);
            Self::touch(st, i);
            next = st.nodes[i].next;
            let th = &mut st.threads[t];
            let n = th.ncb as usize;
            th.cbs.copy_within(0..n, 1);
            th.cbs[0] = addr(i);
            th.ncb += 1;
        }
        let th = &mut st.threads[t];
        th.cur = next;
        th.nxt = 0;
        th.pay = Payload::None;
        th.flag = false;
        if next != 0 {
            th.pc = Pc::H2;
            return;
        }
        if th.sleepers {
            // H6 (after every DONE store of the batch, before its callbacks).
            th.pc = Pc::H6Inc;
            return;
        }
        self.end_batch(st, t);
    }

    /// The walk of a batch is over (and its H6 done): run the batch's callbacks (folded: private
    /// to the completer, they touch no shared word) and drain again (F1).
    fn end_batch(&self, st: &mut State, t: usize) {
        let th = &mut st.threads[t];
        th.cur = 0;
        th.pc = Pc::F1;
        let n = th.ncb as usize;
        let cbs = th.cbs;
        let closing = th.closing;
        th.cbs = [0; MAX_CALLBACKS];
        th.ncb = 0;
        for &c in &cbs[..n] {
            self.run_callback(st, node_at(c));
        }
        if closing {
            // F2's DetachClose closed the stack with this batch: the drain is over.
            self.after_finish(st, t);
        }
    }

    /// Continue a sweep at `next` (address).
    fn sweep_to(st: &mut State, t: usize, next: u8) {
        let th = &mut st.threads[t];
        th.cur = next;
        th.nxt = 0;
        th.pay = Payload::None;
        th.flag = false;
        th.pc = if next != 0 { Pc::SVisit } else { Pc::S2 };
        if next == 0 {
            th.pred = 0;
        }
    }

    /// S1 restarts: the walk starts again from a fresh head load.
    fn restart_sweep(th: &mut Thread) {
        th.cur = 0;
        th.nxt = 0;
        th.pred = 0;
        th.h = 0;
        th.w = 0;
        th.pc = Pc::S1;
    }

    /// Decision of A2 on head word `h`.
    fn remove_decide(&self, st: &mut State, t: usize, h: u8) {
        match remove_step(h as usize) {
            RemoveStep::AwaitHandOff => self.after_remove(st, t),
            RemoveStep::MarkDirty(w) => {
                let th = &mut st.threads[t];
                th.h = h;
                th.w = w as u8;
                th.flag = false;
                th.pc = Pc::A2Cas;
            }
            RemoveStep::Lock(w) => {
                let th = &mut st.threads[t];
                th.h = h;
                th.w = w as u8;
                th.flag = true;
                th.pc = Pc::A2Cas;
            }
        }
    }

    fn unlock_decide(&self, st: &mut State, t: usize, h: u8) {
        let step = if self.mutation() == Mutation::SkipDirtyResweep {
            UnlockStep::Release(h as usize & !(LOCKED | DIRTY))
        } else {
            unlock_step(h as usize)
        };
        let th = &mut st.threads[t];
        th.h = h;
        match step {
            UnlockStep::SweepAgain(w) => {
                th.w = w as u8;
                th.flag = false;
            }
            UnlockStep::Release(w) => {
                th.w = w as u8;
                th.flag = true;
            }
        }
        th.pc = Pc::S2Cas;
    }

    fn in_run_window(pc: Pc) -> bool {
        matches!(
            pc,
            Pc::R3
                | Pc::R4Body
                | Pc::R4Sleep
                | Pc::K1Load
                | Pc::K1Cas
                | Pc::K2
                | Pc::K3
                | Pc::F1
                | Pc::F2Close
                | Pc::F2Detach
                | Pc::H2
                | Pc::H4
                | Pc::H5
                | Pc::H6Inc
                | Pc::H6Wake
                | Pc::R6
                | Pc::R7
                | Pc::R8
        )
    }

    /// The pcs of a completer inside `finish_completion` walking or running a batch.
    pub fn is_walking(pc: Pc) -> bool {
        matches!(pc, Pc::H2 | Pc::H4 | Pc::H5)
    }

    /// The pcs of a thread that is completing (between winning K1/C1 and leaving
    /// `finish_completion`).
    pub fn is_completing(pc: Pc) -> bool {
        matches!(
            pc,
            Pc::K2
                | Pc::K3
                | Pc::C3
                | Pc::C4
                | Pc::C5
                | Pc::F1
                | Pc::F2Close
                | Pc::F2Detach
                | Pc::H2
                | Pc::H4
                | Pc::H5
                | Pc::H6Inc
                | Pc::H6Wake
        )
    }

    // ---- enabled alternatives ---------------------------------------------------------------

    fn alts(&self, st: &State, t: usize, out: &mut Vec<Alt>) {
        let th = &st.threads[t];
        let node = &st.nodes[t];
        let timed = matches!(self.actor(t), Actor::Waiter { timed: true });
        match th.pc {
            Pc::Finished => {}
            Pc::Idle => {
                out.push(Alt::Go);
                if self.actor(t) == Actor::Runner && self.cfg.closure_may_fail {
                    out.push(Alt::Fail);
                }
                if timed {
                    out.push(Alt::Deadline);
                }
            }
            Pc::R4Body => {
                out.push(Alt::Go);
                if is_interrupted(st.state as usize) {
                    out.push(Alt::Check);
                }
                if self.cfg.closure_sleeps && !th.once {
                    out.push(Alt::Sleep);
                }
            }
            Pc::R4Sleep => {
                if th.permit {
                    out.push(Alt::Go);
                }
                out.push(Alt::Spurious);
            }
            Pc::R7 => {
                if phase(st.state as usize) != INTERRUPTING {
                    out.push(Alt::Go);
                }
            }
            Pc::F1 => {
                if st.head as usize & LOCKED == 0 {
                    out.push(Alt::Go);
                }
            }
            Pc::H2 | Pc::SH2 => {
                let n = st.nodes[node_at(th.cur)].st as usize;
                if n != NODE_UPDATING || self.mutation() == Mutation::NotifyIgnoresUpdating {
                    out.push(Alt::Go);
                }
            }
            Pc::G2 => {
                if is_settled(st.state as usize) {
                    out.push(Alt::Go);
                }
            }
            Pc::G7 => {
                out.push(Alt::Go);
                if timed {
                    out.push(Alt::Deadline);
                }
            }
            Pc::GSleep => {
                // Blocked on the futex: only `futex_wake_all` (H6Wake) or a spurious return.
                if self.cfg.spurious {
                    out.push(Alt::Spurious);
                }
            }
            Pc::GPark | Pc::GWaitPark => {
                if th.permit {
                    out.push(Alt::Go);
                }
                if self.cfg.spurious || timed {
                    out.push(Alt::Spurious);
                }
            }
            Pc::APending => {
                if th.woken {
                    out.push(Alt::Go);
                }
                if th.polls > 0 {
                    out.push(Alt::Repoll);
                    out.push(Alt::NewWaker);
                }
                if let Actor::Async { may_drop: true, .. } = self.actor(t) {
                    out.push(Alt::Drop);
                }
            }
            Pc::ADropWait => {
                if node.st as usize == NODE_DONE {
                    out.push(Alt::Go);
                }
            }
            Pc::T5 => {
                // T5's yield loop (`Wait`: the drain has not closed the stack, and runs no user
                // code before it does) is one step, enabled once the head word decides.
                if self.take_head_decision(st.head) != TakeHead::Wait {
                    out.push(Alt::Go);
                }
            }
            _ => out.push(Alt::Go),
        }
    }

    // ---- the steps --------------------------------------------------------------------------

    #[allow(clippy::cognitive_complexity)]
    fn step(&self, st: &mut State, t: usize, alt: Alt) {
        let pc = st.threads[t].pc;
        if st.ghost.frees > 0 && Self::touches_task(pc) {
            // I13: a counted task is touched after its free (use after free).
            st.ghost.bad |= BAD_I13;
        }
        match pc {
            Pc::Finished => unreachable!(),
            Pc::Idle => match self.actor(t) {
                Actor::Runner => {
                    self.invoke(st, t, Op::Claim);
                    st.threads[t].ok = alt != Alt::Fail;
                    st.threads[t].pc = Pc::R1;
                    self.step(st, t, Alt::Go);
                }
                Actor::Canceller { interrupt } => {
                    self.invoke(st, t, Op::Cancel { interrupt });
                    st.threads[t].pc = Pc::C1Load;
                    self.step(st, t, Alt::Go);
                }
                Actor::Setter { fail } => {
                    self.invoke(st, t, Op::Set { fail });
                    st.threads[t].ok = !fail;
                    st.threads[t].pc = Pc::K1Load;
                    self.step(st, t, Alt::Go);
                }
                Actor::Waiter { timed } => {
                    self.invoke(st, t, if timed { Op::TimedGet } else { Op::Get });
                    st.threads[t].pc = Pc::G1;
                    self.step(st, t, alt);
                }
                Actor::Async { repolls, .. } => {
                    self.invoke(st, t, Op::Await);
                    st.threads[t].polls = repolls;
                    st.threads[t].pc = Pc::APoll;
                    self.step(st, t, Alt::Go);
                }
                Actor::Callback => {
                    // D1: the node is allocated; push it (P0 first on a counted task).
                    st.threads[t].pc = self.first_push_pc();
                    self.step(st, t, Alt::Go);
                }
                Actor::Observer => {
                    self.invoke(st, t, Op::IsDone);
                    st.threads[t].pc = Pc::OIsDone;
                    self.step(st, t, Alt::Go);
                }
                Actor::Promise { end } => {
                    self.invoke(
                        st,
                        t,
                        Op::Set {
                            fail: end != PromiseEnd::Set,
                        },
                    );
                    st.threads[t].ok = end == PromiseEnd::Set;
                    st.threads[t].pc = if end == PromiseEnd::Broken {
                        Pc::WIsDone
                    } else {
                        Pc::W1Load
                    };
                    self.step(st, t, Alt::Go);
                }
                Actor::Cloner => {
                    st.threads[t].pc = Pc::T1;
                    self.step(st, t, Alt::Go);
                }
                Actor::Taker { wait: true } => {
                    self.invoke(st, t, Op::Get);
                    st.threads[t].pc = Pc::G1;
                    self.step(st, t, Alt::Go);
                }
                Actor::Taker { wait: false } => {
                    st.threads[t].pc = Pc::T4Load;
                    self.step(st, t, Alt::Go);
                }
            },

            // ---- run ----
            Pc::R1 => {
                let s = st.state;
                if try_start(s as usize).is_some() {
                    st.threads[t].s = s;
                    st.threads[t].pc = Pc::R2Cas;
                } else {
                    self.lp(st, Op::Claim, Ret::Lost);
                    self.ret(st, t, Ret::Lost);
                    self.finish(st, t);
                }
            }
            Pc::R2Cas => {
                let s = st.threads[t].s;
                if st.state == s {
                    let n = try_start(s as usize).expect("R2 decided");
                    if phase(s as usize) != NEW || is_started(s as usize) {
                        st.ghost.bad |= BAD_I4;
                    }
                    self.lp(st, Op::Claim, Ret::Won);
                    Self::write_state(st, n);
                    st.ghost.claims += 1;
                    self.ret(st, t, Ret::Won);
                    let ok = st.threads[t].ok;
                    self.invoke(st, t, Op::Complete { panics: !ok });
                    st.threads[t].s = 0;
                    st.threads[t].pc = Pc::R3;
                } else {
                    let s = st.state;
                    if try_start(s as usize).is_some() {
                        st.threads[t].s = s;
                    } else {
                        self.lp(st, Op::Claim, Ret::Lost);
                        self.ret(st, t, Ret::Lost);
                        self.finish(st, t);
                    }
                }
            }
            Pc::R3 => {
                st.runner = t as u8 + 1;
                // R4: the closure runs. Unless it may sleep, it touches no shared word (it may
                // read the state to observe an interrupt, which changes nothing), so its run is
                // folded into this step. R5: then complete(outcome), K1..K4.
                st.threads[t].pc = if self.cfg.closure_sleeps {
                    Pc::R4Body
                } else {
                    Pc::K1Load
                };
            }
            Pc::R4Body => match alt {
                Alt::Sleep => {
                    st.threads[t].once = true;
                    st.threads[t].pc = Pc::R4Sleep;
                }
                // Go: the closure returns; Check: it saw the interrupt and returns early.
                _ => {
                    st.threads[t].once = false;
                    st.threads[t].pc = Pc::K1Load;
                }
            },
            Pc::R4Sleep => {
                if alt == Alt::Go {
                    st.threads[t].permit = false;
                }
                st.threads[t].pc = Pc::R4Body;
            }
            Pc::R6 => {
                st.runner = 0;
                if !st.threads[t].lost {
                    self.ret(st, t, Ret::Won);
                    self.finish(st, t);
                } else if self.mutation() == Mutation::NoInterruptWait {
                    st.threads[t].s = st.state;
                    st.threads[t].pc = Pc::R8;
                } else {
                    st.threads[t].pc = Pc::R7;
                }
            }
            Pc::R7 => {
                let s = st.state;
                st.threads[t].s = s;
                st.threads[t].pc = Pc::R8;
            }
            Pc::R8 => {
                // The park permit is left alone: it cannot be told apart from another thread's
                // unpark (a leftover one is a spurious wakeup, which park allows).
                self.leave_run(st, t);
            }

            // ---- complete (the runner's R5; set, fail) ----
            Pc::K1Load => {
                let s = st.state;
                if try_begin_complete(s as usize).is_some() {
                    st.threads[t].s = s;
                    st.threads[t].pc = Pc::K1Cas;
                } else {
                    self.lose_completion(st, t);
                }
            }
            Pc::K1Cas => {
                let s = st.threads[t].s;
                if st.state == s {
                    let n = try_begin_complete(s as usize).expect("K1 decided");
                    let op = self.current_op(st, t);
                    self.lp(st, op, Ret::Won);
                    Self::write_state(st, n);
                    st.ghost.wins += 1;
                    if st.ghost.wins > 1 {
                        st.ghost.bad |= BAD_I1;
                    }
                    st.threads[t].s = n as u16;
                    if self.mutation() == Mutation::PublishBeforeWrite {
                        st.threads[t].pc = Pc::K3;
                    } else {
                        // K2: the cell is read only after a settled state is seen (K3), so the
                        // write commutes with every step of the other threads until then: it is
                        // folded into the winning CAS.
                        self.write_outcome(st, t);
                    }
                } else {
                    let s = st.state;
                    if try_begin_complete(s as usize).is_some() {
                        st.threads[t].s = s;
                    } else {
                        self.lose_completion(st, t);
                    }
                }
            }
            Pc::K2 => self.write_outcome(st, t),
            Pc::K3 => {
                let n = st.threads[t].s;
                let ok = st.threads[t].ok;
                Self::write_state(st, finish_complete(n as usize, ok));
                st.threads[t].pc = match self.mutation() {
                    Mutation::PublishBeforeWrite => Pc::K2,
                    Mutation::WakeBeforePublish => {
                        // finish_completion already ran: leave.
                        self.after_finish(st, t);
                        return;
                    }
                    _ => Pc::F1,
                };
            }

            // ---- cancel ----
            Pc::C1Load => {
                let interrupt = matches!(self.actor(t), Actor::Canceller { interrupt: true });
                let s = st.state;
                if self.cancel_decision(s, interrupt).is_some() {
                    st.threads[t].s = s;
                    st.threads[t].pc = Pc::C1Cas;
                } else {
                    self.lp(st, Op::Cancel { interrupt }, Ret::Lost);
                    self.ret(st, t, Ret::Lost);
                    self.finish(st, t);
                }
            }
            Pc::C1Cas => {
                let interrupt = matches!(self.actor(t), Actor::Canceller { interrupt: true });
                let s = st.threads[t].s;
                if st.state == s {
                    let n = self.cancel_decision(s, interrupt).expect("C1 decided");
                    self.lp(st, Op::Cancel { interrupt }, Ret::Won);
                    Self::write_state(st, n);
                    st.ghost.wins += 1;
                    if st.ghost.wins > 1 {
                        st.ghost.bad |= BAD_I1;
                    }
                    st.threads[t].s = n as u16;
                    // C2..C5 with interrupt; C6 (finish_completion) without. A counted task has
                    // no runner to signal: its interrupting cancel went straight to INTERRUPTED
                    // (C2..C5 skipped, no plain store; not under CountedInterruptStore).
                    let signal = interrupt
                        && (!is_counted(n) || self.mutation() == Mutation::CountedInterruptStore);
                    if signal {
                        st.threads[t].pc = Pc::C3;
                    } else {
                        self.cancel_drain(st, t, n);
                    }
                } else {
                    let s = st.state;
                    if self.cancel_decision(s, interrupt).is_some() {
                        st.threads[t].s = s;
                    } else {
                        self.lp(st, Op::Cancel { interrupt }, Ret::Lost);
                        self.ret(st, t, Ret::Lost);
                        self.finish(st, t);
                    }
                }
            }
            Pc::C3 => {
                // C2: fence(SeqCst) (a no-op here: the model is sequentially consistent), then
                // C3: t = runner.swap(null): a runner that swapped it back first (R6) is not
                // unparked.
                let r = st.runner;
                st.runner = 0;
                st.threads[t].cur = r;
                st.threads[t].pc = if r != 0 { Pc::C4 } else { Pc::C5 };
            }
            Pc::C4 => {
                let r = st.threads[t].cur as usize - 1;
                // I5: *t is alive and still this run's runner.
                if !Self::in_run_window(st.threads[r].pc) {
                    st.ghost.bad |= BAD_I5;
                }
                Self::unpark(st, r);
                st.threads[t].cur = 0;
                st.threads[t].pc = Pc::C5;
            }
            Pc::C5 => {
                let n = finish_interrupt(st.threads[t].s as usize);
                Self::write_state(st, n);
                self.cancel_drain(st, t, n);
            }

            // ---- finish_completion ----
            Pc::F1 => {
                let h = st.head;
                let mut step = drain_step(h as usize);
                if self.mutation() == Mutation::CloseWithoutRedrain && st.threads[t].once {
                    step = DrainStep::Close(CLOSED);
                }
                let th = &mut st.threads[t];
                th.h = h;
                th.pc = match step {
                    DrainStep::WaitForRemover => unreachable!("F1 is enabled only when unlocked"),
                    DrainStep::Close(_) => Pc::F2Close,
                    DrainStep::Detach(_) | DrainStep::DetachClose(_) => Pc::F2Detach,
                };
            }
            Pc::F2Close => {
                if st.head == st.threads[t].h {
                    st.head = CLOSED as u8;
                    self.after_finish(st, t);
                } else {
                    st.threads[t].h = 0;
                    st.threads[t].pc = Pc::F1;
                }
            }
            Pc::F2Detach => {
                let h = st.threads[t].h;
                if st.head == h {
                    let (w, closing) = match drain_step(h as usize) {
                        DrainStep::Detach(w) => (w, false),
                        DrainStep::DetachClose(w) => (w, true),
                        _ => unreachable!(),
                    };
                    st.head = w as u8;
                    st.threads[t].h = 0;
                    st.threads[t].closing = closing;
                    if self.mutation() == Mutation::CloseWithoutRedrain {
                        st.threads[t].once = true;
                    }
                    if self.mutation() == Mutation::WakeBeforeRelease {
                        // H6 first, then the walk (from `cur`).
                        st.threads[t].cur = head_ptr(h as usize) as u8;
                        st.threads[t].pc = Pc::H6Inc;
                    } else {
                        self.walk_to(st, t, head_ptr(h as usize) as u8);
                    }
                } else {
                    st.threads[t].h = 0;
                    st.threads[t].pc = Pc::F1;
                }
            }
            Pc::H2 | Pc::SH2 => {
                let i = node_at(st.threads[t].cur);
                Self::touch(st, i);
                if pc == Pc::H2 {
                    // H1: read `next` before the node can be released (the batch is detached:
                    // nobody else writes it, so the read is folded into this step).
                    st.threads[t].nxt = st.nodes[i].next;
                }
                let mut n = st.nodes[i].st as usize;
                if n == NODE_UPDATING {
                    n = NODE_WAITING; // only under NotifyIgnoresUpdating
                }
                match node_try_notify(n) {
                    Some(v) => {
                        st.nodes[i].st = v as u8;
                        let pay = std::mem::take(&mut st.nodes[i].pay);
                        let th = &mut st.threads[t];
                        th.pay = pay;
                        th.flag = n == NODE_ABANDONED;
                        th.pc = if pc == Pc::H2 { Pc::H4 } else { Pc::SH4 };
                    }
                    None => {
                        // Two handlers for one node.
                        st.ghost.bad |= BAD_I6;
                        st.threads[t].pc = if pc == Pc::H2 { Pc::H4 } else { Pc::SH4 };
                    }
                }
            }
            Pc::H4 | Pc::SH4 => {
                let i = node_at(st.threads[t].cur);
                if i != t {
                    Self::touch(st, i);
                }
                if st.ghost.released & bit(i) != 0 {
                    st.ghost.bad |= BAD_I6;
                }
                st.ghost.released |= bit(i);
                st.nodes[i].st = NODE_DONE as u8;
                st.threads[t].pc = if pc == Pc::H4 { Pc::H5 } else { Pc::SH5 };
            }
            Pc::H5 | Pc::SH5 => {
                let (pay, abandoned) = (st.threads[t].pay, st.threads[t].flag);
                if pay == Payload::Sleeper {
                    if pc == Pc::SH5 {
                        // S1 never releases a sleeper: untimed waiters never abandon.
                        st.ghost.bad |= BAD_I3;
                    } else if !matches!(
                        self.mutation(),
                        Mutation::WakeBeforeRelease | Mutation::SleeperNoWake
                    ) {
                        st.threads[t].sleepers = true;
                    }
                }
                self.wake(st, t, pay, abandoned);
                let next = st.threads[t].nxt;
                if pc == Pc::H5 {
                    self.walk_to(st, t, next);
                } else {
                    Self::sweep_to(st, t, next);
                }
            }
            Pc::H6Inc => {
                // sleep_word.fetch_add(1) [Release]
                st.sleep = st.sleep.wrapping_add(1);
                st.threads[t].pc = Pc::H6Wake;
            }
            Pc::H6Wake => {
                // futex_wake_all(sleep_word): every thread blocked on the word returns from its
                // futex_wait (the return is folded in: it touches nothing shared).
                for th in st.threads.iter_mut() {
                    if th.pc == Pc::GSleep {
                        th.pc = Pc::G7Word;
                    }
                }
                st.threads[t].sleepers = false;
                if self.mutation() == Mutation::WakeBeforeRelease {
                    let first = st.threads[t].cur;
                    self.walk_to(st, t, first);
                } else {
                    self.end_batch(st, t);
                }
            }

            // ---- get ----
            Pc::G1 => {
                let s = st.state;
                self.observe(st, t, s);
                if is_done(s as usize) {
                    self.read_done(st, t, s);
                } else if alt == Alt::Deadline {
                    // G3: a zero timeout answers at once, no node.
                    self.ret(st, t, Ret::TimedOut);
                    self.finish(st, t);
                } else {
                    // G5: the node, on the waiter's stack; G6: push it (P0 on a counted task,
                    // then P1..P3; Closed → GClosed).
                    self.announce_then_push(st, t);
                }
            }
            Pc::G2 => {
                let s = st.state;
                self.observe(st, t, s);
                self.return_outcome(st, t, s);
            }
            Pc::P0Load => {
                // P0: s = state.load [Acquire], then `announce_step`.
                let s = st.state;
                self.announce_decide(st, t, s);
            }
            Pc::P0Cas => {
                // P0: CAS state s → s | ANNOUNCED [AcqRel]; on failure (a count change, another
                // pusher's announcement, the task settled) decide again on the word read.
                let s = st.threads[t].s;
                if st.state == s {
                    let Announce::Set(n) = announce_step(s as usize) else {
                        unreachable!("P0 decided")
                    };
                    Self::write_state(st, n);
                    st.threads[t].s = 0;
                    self.start_push(st, t);
                } else {
                    let s = st.state;
                    self.announce_decide(st, t, s);
                }
            }
            Pc::P1 => {
                let h = st.head;
                // I9: a blocking get that saw the task done never waits (an async poll that saw
                // COMPLETING registers instead: it must not block the executor).
                if matches!(self.actor(t), Actor::Waiter { .. } | Actor::Taker { .. })
                    && Self::saw_done(st, t)
                {
                    st.ghost.bad |= BAD_I9;
                }
                self.push_from(st, t, h);
            }
            Pc::P3 => {
                let (h, w) = (st.threads[t].h, st.threads[t].w);
                if st.head == h {
                    st.head = w;
                    st.ghost.pushed |= bit(t);
                    let th = &mut st.threads[t];
                    th.h = 0;
                    th.w = 0;
                    match self.actor(t) {
                        Actor::Waiter { timed: true } => th.pc = Pc::G7,
                        Actor::Waiter { timed: false } | Actor::Taker { .. } => th.pc = Pc::G7Word,
                        Actor::Async { .. } => {
                            th.registered = true;
                            th.pc = Pc::APending;
                        }
                        Actor::Callback => {
                            Self::register_callback(st, t);
                            self.finish(st, t);
                        }
                        a => unreachable!("{a:?} does not push"),
                    }
                } else {
                    let h = st.head;
                    self.push_from(st, t, h);
                }
            }
            Pc::GClosed => {
                // G6: the push found the stack closed: return outcome(state.load).
                let s = st.state;
                self.observe(st, t, s);
                if is_done(s as usize) {
                    self.read_done(st, t, s);
                } else {
                    // CLOSED while NEW: impossible in the protocol.
                    st.ghost.bad |= BAD_I3;
                    self.ret(st, t, Ret::Blocked);
                    self.finish(st, t);
                }
            }
            Pc::G7Word => {
                // Untimed: e = sleep_word.load [Acquire], before the node state.
                st.threads[t].e = st.sleep;
                st.threads[t].pc = Pc::G7;
            }
            Pc::G7 => {
                let n = st.nodes[t].st as usize;
                let timed = matches!(self.actor(t), Actor::Waiter { timed: true });
                if n == NODE_DONE {
                    st.threads[t].e = 0;
                    let s = st.state;
                    self.observe(st, t, s);
                    self.read_done(st, t, s);
                } else if alt == Alt::Deadline {
                    if Self::saw_done(st, t) {
                        st.ghost.bad |= BAD_I9;
                    }
                    st.threads[t].pc = Pc::G8;
                } else {
                    if Self::saw_done(st, t) {
                        st.ghost.bad |= BAD_I9;
                    }
                    st.threads[t].pc = if timed { Pc::GPark } else { Pc::GFutex };
                }
            }
            Pc::GFutex => {
                // futex_wait(sleep_word, e): atomically, return if the word changed, else block.
                let th = &mut st.threads[t];
                th.pc = if st.sleep != th.e {
                    Pc::G7Word
                } else {
                    Pc::GSleep
                };
                th.e = 0;
            }
            Pc::GSleep => {
                // Only a spurious return (a wake moves the thread itself, in H6Wake).
                st.threads[t].pc = Pc::G7Word;
            }
            Pc::GPark => {
                if alt == Alt::Go {
                    st.threads[t].permit = false;
                }
                st.threads[t].pc = Pc::G7;
            }
            Pc::G8 => {
                if st.nodes[t].st as usize == NODE_WAITING {
                    st.nodes[t].st = NODE_ABANDONED as u8;
                    // G9: remove_abandoned(), then wait until DONE (GWait).
                    st.threads[t].pc = Pc::A1;
                } else {
                    st.threads[t].pc = Pc::G7;
                }
            }
            Pc::GWait => {
                // G9: wait until the node is DONE (park; the releaser unparks).
                st.threads[t].pc = if st.nodes[t].st as usize == NODE_DONE {
                    Pc::G10
                } else {
                    Pc::GWaitPark
                };
            }
            Pc::GWaitPark => {
                if alt == Alt::Go {
                    st.threads[t].permit = false;
                }
                st.threads[t].pc = Pc::GWait;
            }
            Pc::G10 => {
                let s = st.state;
                self.observe(st, t, s);
                if is_done(s as usize) {
                    self.read_done(st, t, s);
                } else {
                    self.ret(st, t, Ret::TimedOut);
                    self.finish(st, t);
                }
            }

            // ---- remove_abandoned ----
            Pc::A1 => {
                let h = st.head;
                self.remove_decide(st, t, h);
            }
            Pc::A2Cas => {
                let th = &st.threads[t];
                let (h, w, lock) = (th.h, th.w, th.flag);
                if st.head == h {
                    st.head = w;
                    if lock {
                        let th = &mut st.threads[t];
                        th.h = 0;
                        th.w = 0;
                        th.flag = false;
                        th.pc = Pc::S1;
                    } else {
                        self.after_remove(st, t);
                    }
                } else {
                    let h = st.head;
                    self.remove_decide(st, t, h);
                }
            }
            Pc::S1 => {
                // S1: walk from head_ptr(head.load()); the word itself is not kept (the head
                // unlink re-loads it).
                let h = st.head;
                st.threads[t].pred = 0;
                Self::sweep_to(st, t, head_ptr(h as usize) as u8);
            }
            Pc::SVisit => {
                let cur = st.threads[t].cur;
                let i = node_at(cur);
                if i != t {
                    Self::touch(st, i);
                }
                let next = st.nodes[i].next;
                if !self.is_callback_node(i) && st.nodes[i].st as usize == NODE_ABANDONED {
                    let th = &mut st.threads[t];
                    th.nxt = next;
                    th.pc = if th.pred == 0 {
                        Pc::SUnlinkLoad
                    } else {
                        Pc::SUnlinkPred
                    };
                } else {
                    st.threads[t].pred = cur;
                    Self::sweep_to(st, t, next);
                }
            }
            Pc::SUnlinkLoad => {
                // S1, unlinking the first node: re-load the head; `unlink_head` says whether the
                // node is still first (CAS in its successor with the fresh flags) or a push
                // landed in front of it (restart the walk).
                let h = st.head;
                let th = &mut st.threads[t];
                match unlink_head(h as usize, th.cur as usize, th.nxt as usize) {
                    Some(w) => {
                        th.h = h;
                        th.w = w as u8;
                        th.pc = Pc::SUnlinkHead;
                    }
                    None => Self::restart_sweep(th),
                }
            }
            Pc::SUnlinkHead => {
                // S1: CAS head from the re-loaded word; on failure restart the walk.
                let th = &mut st.threads[t];
                if st.head == th.h {
                    st.head = th.w;
                    th.h = 0;
                    th.w = 0;
                    th.pc = Pc::SH2;
                } else {
                    Self::restart_sweep(th);
                }
            }
            Pc::SUnlinkPred => {
                let p = node_at(st.threads[t].pred);
                if p != t {
                    Self::touch(st, p);
                }
                st.nodes[p].next = st.threads[t].nxt;
                st.threads[t].pc = Pc::SH2;
            }
            Pc::S2 => {
                let h = st.head;
                self.unlock_decide(st, t, h);
            }
            Pc::S2Cas => {
                let th = &st.threads[t];
                let (h, w, release) = (th.h, th.w, th.flag);
                if st.head == h {
                    st.head = w;
                    if release {
                        self.after_remove(st, t);
                    } else {
                        let th = &mut st.threads[t];
                        th.h = 0;
                        th.w = 0;
                        th.flag = false;
                        th.pc = Pc::S1;
                    }
                } else {
                    let th = &mut st.threads[t];
                    th.h = 0;
                    th.w = 0;
                    th.flag = false;
                    th.pc = Pc::S2;
                }
            }

            // ---- async (future.rs: poll_done / detach) ----
            Pc::APoll => {
                // Every poll starts with G1: done → Ready (report waits out COMPLETING).
                let s = st.state;
                self.observe(st, t, s);
                if is_done(s as usize) {
                    self.read_done(st, t, s);
                } else if !st.threads[t].registered {
                    // The waker goes into the unpublished node, then push (P0 on a counted task:
                    // settled unannounced → Ready; P1..P3); Linked → Pending, Closed → Ready.
                    self.announce_then_push(st, t);
                } else {
                    st.threads[t].pc = Pc::ARepoll;
                }
            }
            Pc::APending => {
                let th = &mut st.threads[t];
                match alt {
                    Alt::Go => {
                        th.woken = false;
                        th.flag = false;
                        th.pc = Pc::APoll;
                    }
                    Alt::Repoll => {
                        th.polls -= 1;
                        th.flag = false;
                        th.pc = Pc::APoll;
                    }
                    Alt::NewWaker => {
                        th.polls -= 1;
                        th.gen += 1;
                        th.woken = false;
                        th.flag = true;
                        th.pc = Pc::APoll;
                    }
                    Alt::Drop => {
                        th.flag = false;
                        th.pc = Pc::ADrop;
                    }
                    _ => unreachable!(),
                }
            }
            Pc::ARepoll => {
                // Registered: node DONE → Ready (the report's state load is folded in, as in
                // G7); otherwise take the node back to compare / replace the waker.
                if st.nodes[t].st as usize == NODE_DONE {
                    let s = st.state;
                    self.observe(st, t, s);
                    st.threads[t].flag = false;
                    self.read_done(st, t, s);
                } else {
                    st.threads[t].pc = Pc::AUpdate;
                }
            }
            Pc::AUpdate => {
                // U1
                if st.nodes[t].st as usize == NODE_WAITING {
                    st.nodes[t].st = NODE_UPDATING as u8;
                    if !st.threads[t].flag {
                        // U2, will_wake: same waker, nothing to replace.
                        st.threads[t].pc = Pc::AStore;
                    } else {
                        // U3: a new waker is cloned outside UPDATING (user code, I11).
                        st.threads[t].pc = Pc::AClone;
                    }
                    st.threads[t].flag = false;
                } else {
                    // NOTIFYING or DONE: a completer is releasing the node; the task is done.
                    st.threads[t].flag = false;
                    st.threads[t].pc = Pc::G2;
                }
            }
            Pc::AClone => {
                // U3: back to WAITING while the new waker is cloned.
                st.nodes[t].st = NODE_WAITING as u8;
                st.threads[t].pc = Pc::AReacquire;
            }
            Pc::AReacquire => {
                // U4
                if st.nodes[t].st as usize == NODE_WAITING {
                    st.nodes[t].st = NODE_UPDATING as u8;
                    if self.mutation() == Mutation::NotifyIgnoresUpdating {
                        st.threads[t].pc = Pc::AReplace;
                    } else {
                        // U5: the payload is exclusively the owner's while UPDATING (handlers
                        // wait in H2), so replacing the waker is folded into the CAS.
                        let g = st.threads[t].gen;
                        st.nodes[t].pay = Payload::Waker(t as u8, g);
                        st.threads[t].pc = Pc::AStore;
                    }
                } else {
                    // NOTIFYING or DONE: released meanwhile (it woke the old waker); Ready.
                    st.threads[t].pc = Pc::G2;
                }
            }
            Pc::AReplace => {
                let g = st.threads[t].gen;
                st.nodes[t].pay = Payload::Waker(t as u8, g);
                st.threads[t].pc = Pc::AStore;
            }
            Pc::AStore => {
                st.nodes[t].st = NODE_WAITING as u8;
                st.threads[t].pc = Pc::APending;
            }
            Pc::ADrop => {
                if st.nodes[t].st as usize == NODE_WAITING {
                    st.nodes[t].st = NODE_ABANDONED as u8;
                    st.threads[t].pc = Pc::A1;
                } else {
                    st.threads[t].pc = Pc::ADropWait;
                }
            }
            Pc::ADropWait => {
                self.finish(st, t);
            }

            // ---- callbacks ----
            Pc::D2Run => {
                // D2: the stack is closed: every earlier callback already ran; run it here.
                Self::register_callback(st, t);
                self.run_callback(st, t);
                self.finish(st, t);
            }

            // ---- observer ----
            Pc::OIsDone => {
                let s = st.state;
                self.observe(st, t, s);
                self.ret(st, t, Ret::Done(is_done(s as usize)));
                self.invoke(st, t, Op::TryGet);
                st.threads[t].pc = Pc::OTryGet;
            }
            Pc::OTryGet => {
                let s = st.state;
                self.observe(st, t, s);
                if is_done(s as usize) {
                    self.read_done(st, t, s);
                } else {
                    self.ret(st, t, Ret::NotYet);
                    self.finish(st, t);
                }
            }

            // ---- the promise of a counted task (task.rs `publish`, promise.rs) ----
            Pc::WIsDone => {
                // `Promise::drop`: `is_done()` [Acquire]; a reader's cancel settled the task
                // already: nothing to publish, the reference goes (T2).
                let s = st.state;
                if is_done(s as usize) {
                    self.lose_publish(st, t);
                } else {
                    st.threads[t].pc = Pc::W1Load;
                }
            }
            Pc::W1Load => {
                // W1: the outcome is written into the cell (folded into the winning CAS below:
                // nobody reads it before the CAS publishes a settled phase, and a losing promise
                // takes it back unread); s = state.load [Acquire].
                let s = st.state;
                if try_publish(s as usize, st.threads[t].ok).is_some() {
                    st.threads[t].s = s;
                    st.threads[t].pc = Pc::W1Cas;
                } else {
                    self.lose_publish(st, t);
                }
            }
            Pc::W1Cas => {
                // W1: CAS state s → try_publish(s) [AcqRel]; on failure (a cancel, or a count
                // change by T1/T2) retry with the word read.
                let (s, ok) = (st.threads[t].s, st.threads[t].ok);
                if st.state == s {
                    let n = self.publish_decision(s, ok).expect("W1 decided");
                    let op = self.current_op(st, t);
                    self.lp(st, op, Ret::Won);
                    Self::write_state(st, n);
                    st.ghost.wins += 1;
                    if st.ghost.wins > 1 || st.outcome.is_some() {
                        st.ghost.bad |= BAD_I1;
                    }
                    st.ghost.writes += 1;
                    st.outcome = Some(if ok {
                        Outcome::Value(SET_VALUE)
                    } else {
                        Outcome::Failed
                    });
                    let th = &mut st.threads[t];
                    th.s = 0;
                    if self.publish_folds_release(s) {
                        // Nobody announced a push: the CAS gave up the promise's reference too;
                        // no W2 (nothing to drain), no T2; T3 if the reference was the last.
                        th.refs -= 1;
                        self.ret(st, t, Ret::Won);
                        self.finish(st, t);
                        if refs(s as usize) == 1 {
                            st.threads[t].pc = Pc::T3;
                        }
                    } else if self.mutation() == Mutation::ReleaseBeforeDrain {
                        th.then_drain = true;
                        th.pc = Pc::T2Load;
                    } else {
                        // W2: finish_completion (F1..), then the promise's T2.
                        th.pc = Pc::F1;
                    }
                } else {
                    let s = st.state;
                    if try_publish(s as usize, ok).is_some() {
                        st.threads[t].s = s;
                    } else {
                        self.lose_publish(st, t);
                    }
                }
            }

            Pc::W3Load => {
                // W3: the reference W1 kept for the drain, released after it: as T2's load
                // (a count of 1 is the last reference: free without a read-modify-write).
                let s = st.state;
                st.threads[t].pc = if refs(s as usize) == 1 {
                    Pc::T3
                } else {
                    Pc::W3Sub
                };
            }
            Pc::W3Sub => {
                // W3: old = state.fetch_sub(DRAIN_REF) [Release]: the reference and DRAIN_HELD in
                // one read-modify-write, so no taker takes a later reference for the promise's.
                // Not the last: return; the last: fence [Acquire] (a no-op here), then T3.
                let old = st.state;
                Self::write_state(st, old.wrapping_sub(DRAIN_REF as u16) as usize);
                st.threads[t].refs -= 1;
                if refs(old as usize) != 1 {
                    self.after_release(st, t);
                } else {
                    st.threads[t].pc = Pc::T3;
                }
            }

            // ---- a counted task's references (counted.rs) ----
            Pc::T1 => {
                // T1: state.fetch_add(REF) [Relaxed], from a reference this thread holds. The
                // MAX_REFS check (undo, panic) never fires with the model's few references.
                let s = st.state;
                Self::write_state(st, s.wrapping_add(REF as u16) as usize);
                st.threads[t].refs += 1;
                st.threads[t].pc = Pc::T2Load;
            }
            Pc::T2Load => {
                // T2: s = state.load [Acquire]; a count of 1 is the last reference: free without
                // a read-modify-write (nobody else can reach the task to change the count).
                let s = st.state;
                st.threads[t].pc = if refs(s as usize) == 1 {
                    Pc::T3
                } else {
                    Pc::T2Sub
                };
            }
            Pc::T2Sub => {
                // T2: old = state.fetch_sub(REF) [Release]; not the last: return. The last: fence
                // [Acquire] (a no-op in this sequentially consistent model), then T3.
                let old = st.state;
                Self::write_state(st, old.wrapping_sub(REF as u16) as usize);
                st.threads[t].refs -= 1;
                if refs(old as usize) != 1 {
                    self.after_release(st, t);
                } else {
                    st.threads[t].pc = Pc::T3;
                }
            }
            Pc::T3 => {
                // T3: free the task (its drop). I13: once; with no other reference held, so every
                // other reference's last use came before; and the protocol is over with the task
                // (the stack CLOSED, or never used when nobody announced a push; every pushed node
                // handed off) so nothing is freed in use.
                let stack_over = st.head as usize == CLOSED
                    || (st.state as usize & ANNOUNCED == 0 && st.head == 0);
                if st.ghost.frees > 0
                    || Self::refs_held_by_others(st, t) > 0
                    || !stack_over
                    || (0..self.cfg.actors.len()).any(|i| {
                        st.ghost.pushed & bit(i) != 0
                            && !self.is_callback_node(i)
                            && st.ghost.released & bit(i) == 0
                    })
                    || !self.all_callbacks_ran(st)
                {
                    st.ghost.bad |= BAD_I13;
                }
                // The task's drop drops the outcome iff the word owns it (published, not
                // MOVED): I13, exactly when it was published and no taker moved it out, so the
                // outcome is dropped or moved exactly once.
                let published = st.outcome.is_some();
                if owns_outcome(st.state as usize) != (published && st.ghost.moves == 0) {
                    st.ghost.bad |= BAD_MOVE;
                }
                st.ghost.frees = st.ghost.frees.saturating_add(1);
                st.threads[t].refs = 0;
                self.after_release(st, t);
            }

            // ---- a taker (counted.rs `try_into_outcome`, waiters.rs `closed_for_take`) ----
            Pc::T4Load => {
                // T4: s = state.load [Acquire]; `take_step(s)`.
                let s = st.state;
                self.observe(st, t, s);
                match self.take_decision(s) {
                    Take::Pending => {
                        self.lp(st, Op::TryGet, Ret::NotYet);
                        self.refuse_take(st, t);
                    }
                    Take::Shared => self.refuse_take(st, t),
                    Take::NoOutcome => {
                        // Cancelled: reported, nothing to move; the reference goes (T2).
                        self.lp(st, Op::TryGet, Ret::Out(Outcome::Cancelled));
                        st.threads[t].pc = Pc::T2Load;
                    }
                    Take::Last(n) => {
                        // T4: the last reference: nobody else can reach the task; the outcome is
                        // moved out (ghost), then MOVED stored.
                        self.move_outcome(st, t, s);
                        st.threads[t].s = n as u16;
                        st.threads[t].pc = Pc::T4Store;
                    }
                    Take::AfterDrain(d) => {
                        // T4: the other reference is the draining promise's: T5 first.
                        st.threads[t].s = d as u16;
                        st.threads[t].pc = Pc::T5;
                    }
                }
            }
            Pc::T4Store => {
                // T4: state.store(n) [Relaxed] (n = s | MOVED), a plain store: nobody else can
                // reach the task; then T3, whose drop leaves the moved outcome alone.
                let n = st.threads[t].s;
                Self::write_state(st, n as usize);
                st.threads[t].s = 0;
                st.threads[t].pc = Pc::T3;
            }
            Pc::T5 => {
                // T5: h = head.load [Acquire]; `take_head_step(h)` (`Wait` is not enabled: the
                // yield loop's re-reads are stutter steps).
                match self.take_head_decision(st.head) {
                    TakeHead::Take => {
                        // CLOSED: the drain reads no outcome any more; move it out (ghost).
                        let s = st.state;
                        self.move_outcome(st, t, s);
                        st.threads[t].pc = Pc::T4Sub;
                    }
                    TakeHead::Callbacks => self.refuse_take(st, t),
                    TakeHead::Wait => unreachable!("T5 is enabled only when the head decides"),
                }
            }
            Pc::T4Sub => {
                // T4: old = state.fetch_sub(d) [Release] (d = REF - MOVED: one reference less and
                // MOVED set in one read-modify-write). Not the last: return; the last: fence
                // [Acquire] (a no-op here), then T3.
                let (old, d) = (st.state, st.threads[t].s);
                Self::write_state(st, old.wrapping_sub(d) as usize);
                st.threads[t].refs -= 1;
                st.threads[t].s = 0;
                if refs(old as usize) != 1 {
                    self.after_release(st, t);
                } else {
                    st.threads[t].pc = Pc::T3;
                }
            }
        }
    }

    /// K2: the COMPLETING winner writes the outcome cell, once.
    fn write_outcome(&self, st: &mut State, t: usize) {
        if phase(st.state as usize) != COMPLETING && self.mutation() != Mutation::PublishBeforeWrite
        {
            st.ghost.bad |= BAD_I1;
        }
        if st.outcome.is_some() {
            st.ghost.bad |= BAD_I1;
        }
        st.ghost.writes += 1;
        let ok = st.threads[t].ok;
        st.outcome = Some(match (self.actor(t), ok) {
            (_, false) => Outcome::Failed,
            (Actor::Runner, true) => Outcome::Value(RUN_VALUE),
            (_, true) => Outcome::Value(SET_VALUE),
        });
        st.threads[t].pc = match self.mutation() {
            Mutation::PublishBeforeWrite | Mutation::WakeBeforePublish => Pc::F1,
            _ => Pc::K3,
        };
    }

    /// The runner lost K1 (a cancel or another completion won).
    fn lose_completion(&self, st: &mut State, t: usize) {
        let op = self.current_op(st, t);
        self.lp(st, op, Ret::Lost);
        let th = &mut st.threads[t];
        th.s = 0;
        match self.actor(t) {
            Actor::Runner => {
                th.lost = true;
                th.pc = Pc::R6;
            }
            _ => {
                self.ret(st, t, Ret::Lost);
                self.finish(st, t);
            }
        }
    }

    /// The runner leaves `run` (I5 checks).
    fn leave_run(&self, st: &mut State, t: usize) {
        if phase(st.state as usize) == INTERRUPTING {
            st.ghost.bad |= BAD_I5;
        }
        self.ret(st, t, Ret::Lost);
        self.finish(st, t);
    }

    // ---- properties' helpers ----------------------------------------------------------------

    /// The abstraction agrees with the concrete state: decided iff done; a settled completion
    /// holds the decided outcome; a cancelled phase stands for `Cancelled`.
    pub fn alpha_matches(st: &State) -> bool {
        let s = st.state as usize;
        if st.ghost.decided.is_some() != is_done(s) {
            return false;
        }
        match phase(s) {
            NORMAL | EXCEPTIONAL => st.outcome.is_none() || st.outcome == st.ghost.decided,
            CANCELLED | INTERRUPTING | INTERRUPTED => st.ghost.decided == Some(Outcome::Cancelled),
            _ => true,
        }
    }

    /// A compact description of a state: the two words, then each thread's step, permit and
    /// node (for printing counterexamples).
    pub fn describe(&self, st: &State) -> String {
        let counted = if is_counted(st.state as usize) {
            format!(
                " (counted, {} refs{}{}{}; freed {} times, outcome moved {} times)",
                refs(st.state as usize),
                if st.state as usize & ANNOUNCED != 0 {
                    ", announced"
                } else {
                    ""
                },
                if st.state as usize & DRAIN_HELD != 0 {
                    ", drain held"
                } else {
                    ""
                },
                if st.state as usize & MOVED != 0 {
                    ", MOVED"
                } else {
                    ""
                },
                st.ghost.frees,
                st.ghost.moves
            )
        } else {
            String::new()
        };
        let mut out = format!(
            "state={:#x} (phase {}){counted}, head={:#x} (ptr {:#x}, flags {:#06b}), runner={}, sleep word={}, outcome={:?}\n",
            st.state,
            phase(st.state as usize),
            st.head,
            head_ptr(st.head as usize),
            st.head as usize & HEAD_FLAGS,
            st.runner,
            st.sleep,
            st.outcome
        );
        for (t, actor) in self.cfg.actors.iter().enumerate() {
            let th = &st.threads[t];
            let n = &st.nodes[t];
            out += &format!(
                "  t{t} {actor:?}: at {:?}{}{}; node {{ state {}, next {:#x}, payload {:?} }}\n",
                th.pc,
                if th.permit { ", permit" } else { "" },
                if th.refs > 0 {
                    format!(", holds {} ref(s)", th.refs)
                } else {
                    String::new()
                },
                ["WAITING", "UPDATING", "ABANDONED", "NOTIFYING", "DONE"][n.st as usize],
                n.next,
                n.pay
            );
        }
        out
    }

    /// All threads have returned.
    pub fn all_finished(st: &State) -> bool {
        st.threads.iter().all(|t| t.pc == Pc::Finished)
    }

    /// A thread that is blocked on the outcome while the task is legitimately not done.
    fn legitimately_blocked(&self, st: &State, t: usize) -> bool {
        phase(st.state as usize) == NEW
            && matches!(st.threads[t].pc, Pc::GPark | Pc::GSleep | Pc::APending)
    }

    /// No thread can make progress on its own, yet some thread has not returned and is not
    /// waiting for an outcome that nobody is obliged to produce.
    pub fn stuck(&self, st: &State) -> bool {
        let mut alts = Vec::new();
        for t in 0..self.cfg.actors.len() {
            // A sleeping closure wakes up by itself (its sleep times out).
            if st.threads[t].pc == Pc::R4Sleep {
                return false;
            }
            alts.clear();
            self.alts(st, t, &mut alts);
            if alts.iter().any(|a| a.is_progress()) {
                return false;
            }
        }
        (0..self.cfg.actors.len())
            .any(|t| st.threads[t].pc != Pc::Finished && !self.legitimately_blocked(st, t))
    }

    fn pending_wake_to(st: &State, pay: Payload) -> bool {
        st.threads
            .iter()
            .any(|th| matches!(th.pc, Pc::H5 | Pc::SH5) && th.pay == pay)
    }

    /// A completer is about to run H6 (its batch released a sleeper, or it is about to remember
    /// one at H5).
    fn pending_sleep_wake(st: &State) -> bool {
        st.threads
            .iter()
            .any(|th| th.sleepers || (th.pc == Pc::H5 && th.pay == Payload::Sleeper))
    }

    /// I3: a parked thread waiter without a permit whose node is DONE and whom no handler is about
    /// to unpark; or an untimed waiter blocked on the sleep word whose node is DONE and whom no
    /// H6 is about to wake.
    pub fn lost_thread_wakeup(&self, st: &State) -> bool {
        (0..self.cfg.actors.len()).any(|t| {
            let th = &st.threads[t];
            let done = st.nodes[t].st as usize == NODE_DONE;
            (matches!(th.pc, Pc::GPark | Pc::GWaitPark)
                && !th.permit
                && done
                && !Self::pending_wake_to(st, Payload::Thread(t as u8)))
                || (th.pc == Pc::GSleep && done && !Self::pending_sleep_wake(st))
        })
    }

    /// I8: a pending future whose node is DONE, whose latest waker was not woken and is not about
    /// to be.
    pub fn lost_async_wakeup(&self, st: &State) -> bool {
        (0..self.cfg.actors.len()).any(|t| {
            let th = &st.threads[t];
            th.pc == Pc::APending
                && !th.woken
                && st.nodes[t].st as usize == NODE_DONE
                && !Self::pending_wake_to(st, Payload::Waker(t as u8, th.gen))
        })
    }

    /// I6 (structure): the list from the head is acyclic, bounded by the node count, and holds
    /// only published, unreleased, unfreed nodes.
    pub fn stack_well_formed(&self, st: &State) -> bool {
        let mut p = head_ptr(st.head as usize) as u8;
        let mut seen = 0u16;
        while p != 0 {
            let i = node_at(p);
            if i >= self.cfg.actors.len() || seen & bit(i) != 0 {
                return false;
            }
            seen |= bit(i);
            if st.ghost.freed & bit(i) != 0 || st.nodes[i].st as usize == NODE_DONE {
                return false;
            }
            p = st.nodes[i].next;
        }
        true
    }

    /// I6 (final): every published waiter node was released exactly once.
    pub fn all_nodes_released(&self, st: &State) -> bool {
        (0..self.cfg.actors.len())
            .filter(|&i| !self.is_callback_node(i) && st.ghost.pushed & bit(i) != 0)
            .all(|i| st.ghost.released & bit(i) != 0)
    }

    /// I7 (final): every registered callback ran.
    pub fn all_callbacks_ran(&self, st: &State) -> bool {
        let want = st.ghost.cb_reg.iter().filter(|&&x| x != 0).count();
        let ran = st.ghost.cb_ran.iter().filter(|&&x| x != 0).count();
        let registrars = self
            .cfg
            .actors
            .iter()
            .filter(|a| **a == Actor::Callback)
            .count();
        want == ran && want == registrars
    }
}

impl Model for FutureTaskModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let n = self.cfg.actors.len();
        let mut threads: [Thread; MAX_ACTORS] = Default::default();
        for th in threads.iter_mut().skip(n) {
            th.pc = Pc::Finished;
        }
        // A counted task: the promise and every handle hold one reference from the start.
        let state = if self.cfg.counted() {
            for th in threads.iter_mut().take(n) {
                th.refs = 1;
            }
            counted_new(n)
        } else {
            NEW
        };
        vec![State {
            state: state as u16,
            head: 0,
            runner: 0,
            sleep: 0,
            outcome: None,
            nodes: [Node::default(); MAX_ACTORS],
            threads,
            ghost: Ghost::default(),
            history: self
                .cfg
                .linearizability
                .then(|| LinearizabilityTester::new(WriteOnce::default())),
        }]
    }

    fn actions(&self, st: &State, actions: &mut Vec<Action>) {
        let mut alts = Vec::new();
        for t in 0..self.cfg.actors.len() {
            alts.clear();
            self.alts(st, t, &mut alts);
            let pc = match st.threads[t].pc {
                // The first action invokes the operation and performs its first step.
                Pc::Idle => match self.actor(t) {
                    Actor::Runner => Pc::R1,
                    Actor::Canceller { .. } => Pc::C1Load,
                    Actor::Setter { .. } => Pc::K1Load,
                    Actor::Waiter { .. } => Pc::G1,
                    Actor::Async { .. } => Pc::APoll,
                    Actor::Callback => self.first_push_pc(),
                    Actor::Observer => Pc::OIsDone,
                    Actor::Promise {
                        end: PromiseEnd::Broken,
                    } => Pc::WIsDone,
                    Actor::Promise { .. } => Pc::W1Load,
                    Actor::Cloner => Pc::T1,
                    Actor::Taker { wait: true } => Pc::G1,
                    Actor::Taker { wait: false } => Pc::T4Load,
                },
                pc => pc,
            };
            actions.extend(alts.iter().map(|&alt| Action {
                tid: t as u8,
                alt,
                pc,
            }));
        }
    }

    fn next_state(&self, st: &State, a: Action) -> Option<State> {
        let mut next = st.clone();
        self.step(&mut next, a.tid as usize, a.alt);
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut props = vec![
            Property::always("I1 single winner", |_, s: &State| {
                s.ghost.bad & BAD_I1 == 0 && s.ghost.wins <= 1 && s.ghost.writes <= 1
            }),
            Property::always("I2 publication", |_, s: &State| {
                s.ghost.bad & BAD_I2 == 0
                    && (!matches!(phase(s.state as usize), NORMAL | EXCEPTIONAL)
                        || s.outcome.is_some())
            }),
            Property::always("I3 no lost wakeup", |m: &Self, s: &State| {
                s.ghost.bad & BAD_I3 == 0 && !m.lost_thread_wakeup(s) && !m.stuck(s)
            }),
            Property::always("I4 run at most once", |_, s: &State| {
                s.ghost.bad & BAD_I4 == 0 && s.ghost.claims <= 1
            }),
            Property::always("I5 interrupt hygiene", |m: &Self, s: &State| {
                s.ghost.bad & BAD_I5 == 0
                    && (0..m.cfg.actors.len()).all(|r| {
                        m.actor(r) != Actor::Runner
                            || s.threads[r].pc != Pc::Finished
                            || !s
                                .threads
                                .iter()
                                .any(|c| c.pc == Pc::C4 && c.cur as usize == r + 1)
                    })
            }),
            Property::always("I6 waiter lifetime", |m: &Self, s: &State| {
                s.ghost.bad & BAD_I6 == 0
                    && m.stack_well_formed(s)
                    && (!FutureTaskModel::all_finished(s) || m.all_nodes_released(s))
            }),
            Property::always("I7 callbacks", |m: &Self, s: &State| {
                s.ghost.bad & BAD_I7 == 0
                    && (!FutureTaskModel::all_finished(s) || m.all_callbacks_ran(s))
            }),
            Property::always("I8 async wake", |m: &Self, s: &State| {
                s.ghost.bad & BAD_I8 == 0 && !m.lost_async_wakeup(s)
            }),
            Property::always("I9 monotonic observation", |_, s: &State| {
                s.ghost.bad & BAD_I9 == 0
            }),
            Property::always("linearizable", |_, s: &State| {
                s.ghost.bad & BAD_LIN == 0
                    && FutureTaskModel::alpha_matches(s)
                    && match &s.history {
                        None => true,
                        Some(h) => h.serialized_history().is_some(),
                    }
            }),
            Property::always("I13 counted lifetime", |m: &Self, s: &State| {
                s.ghost.bad & BAD_I13 == 0
                    && s.ghost.frees <= 1
                    && (!m.cfg.counted() || !FutureTaskModel::all_finished(s) || s.ghost.frees == 1)
            }),
            Property::always("I13 no lost count", |m: &Self, s: &State| {
                !m.cfg.counted() || s.ghost.frees > 0 || m.count_matches(s)
            }),
            Property::always("I13 outcome moved once", |_, s: &State| {
                s.ghost.bad & BAD_MOVE == 0 && s.ghost.moves <= 1
            }),
            Property::always("I13 take completes", |_, s: &State| {
                s.ghost.bad & BAD_TAKE == 0
            }),
        ];
        if self.cfg.counted() {
            props.extend(self.counted_examples());
        } else {
            props.extend(Self::uncounted_examples());
        }
        props
    }
}

impl FutureTaskModel {
    /// The word's count of a counted task that is not freed is the references its threads hold:
    /// no count change was lost (I13).
    pub fn count_matches(&self, st: &State) -> bool {
        let s = st.state as usize;
        is_counted(s) && refs(s) == Self::refs_held_by_others(st, MAX_ACTORS)
    }

    /// The promise's thread state, in a counted configuration.
    fn promise_thread<'a>(&self, s: &'a State) -> &'a Thread {
        let t = self
            .cfg
            .actors
            .iter()
            .position(|a| matches!(a, Actor::Promise { .. }))
            .expect("a counted configuration has a promise");
        &s.threads[t]
    }

    /// The examples (`sometimes`) a counted configuration must reach. Each needs some actors: the
    /// cancel's a canceller; the promise freeing the task in W1 needs every other actor able to
    /// drop its reference before the task settles without announcing (an observer, a cloner, a
    /// timed get's zero timeout), which a canceller, a waiter that blocks or a callback cannot.
    fn counted_examples(&self) -> Vec<Property<Self>> {
        let mut examples = vec![
            Property::sometimes("W1's CAS fails on a count change", |_, s: &State| {
                phase(s.state as usize) == NEW
                    && s.threads
                        .iter()
                        .any(|t| t.pc == Pc::W1Cas && refs(t.s as usize) != refs(s.state as usize))
            }),
            Property::sometimes(
                "W1's CAS fails on an announcement",
                |m: &Self, s: &State| {
                    let w = m.promise_thread(s);
                    w.pc == Pc::W1Cas && w.s ^ s.state == ANNOUNCED as u16
                },
            ),
            Property::sometimes(
                "the promise drains after an announcement",
                |m: &Self, s: &State| {
                    s.state as usize & ANNOUNCED != 0
                        && matches!(phase(s.state as usize), NORMAL | EXCEPTIONAL)
                        && m.promise_thread(s).pc == Pc::F1
                },
            ),
            Property::sometimes(
                "W1 gives up the promise's reference without a drain",
                |m: &Self, s: &State| {
                    s.state as usize & ANNOUNCED == 0
                        && matches!(phase(s.state as usize), NORMAL | EXCEPTIONAL)
                        && m.promise_thread(s).pc == Pc::Finished
                        && s.ghost.frees == 0
                },
            ),
            Property::sometimes(
                "a pusher finds the task settled unannounced",
                |_, s: &State| {
                    announce_step(s.state as usize) == Announce::Settled
                        && s.threads
                            .iter()
                            .any(|t| matches!(t.pc, Pc::P0Load | Pc::P0Cas))
                },
            ),
            Property::sometimes(
                "an announced pusher pushes after the task settled",
                |_, s: &State| {
                    s.state as usize & ANNOUNCED != 0
                        && is_settled(s.state as usize)
                        && s.threads.iter().any(|t| t.pc == Pc::P1)
                },
            ),
            Property::sometimes("the last reference frees on its load", |_, s: &State| {
                s.threads.iter().any(|t| t.pc == Pc::T3 && t.refs == 1)
            }),
            Property::sometimes(
                "the last reference frees after its fetch_sub",
                // Not the promise: it reaches T3 holding nothing after W1's release too.
                |m: &Self, s: &State| {
                    (0..m.cfg.actors.len()).any(|t| {
                        !matches!(m.actor(t), Actor::Promise { .. })
                            && s.threads[t].pc == Pc::T3
                            && s.threads[t].refs == 0
                    })
                },
            ),
            Property::sometimes("a count change while a waiter waits", |_, s: &State| {
                s.threads.iter().any(|t| matches!(t.pc, Pc::T1 | Pc::T2Sub))
                    && s.threads
                        .iter()
                        .any(|t| matches!(t.pc, Pc::GPark | Pc::GSleep | Pc::APending))
            }),
        ];
        let actors = &self.cfg.actors;
        if actors.iter().any(|a| matches!(a, Actor::Canceller { .. })) {
            examples.push(Property::sometimes(
                "a reader's cancel beats the promise",
                |m: &Self, s: &State| {
                    is_cancelled(s.state as usize)
                        && matches!(m.promise_thread(s).pc, Pc::T2Load | Pc::T2Sub | Pc::T3)
                },
            ));
        }
        let leaves_unannounced = |a: &Actor| {
            matches!(
                a,
                Actor::Promise { .. }
                    | Actor::Observer
                    | Actor::Cloner
                    | Actor::Waiter { timed: true }
                    | Actor::Taker { wait: false }
            )
        };
        if actors.iter().all(leaves_unannounced) {
            examples.push(Property::sometimes(
                "the promise frees the task in W1",
                |m: &Self, s: &State| {
                    s.state as usize & ANNOUNCED == 0
                        && matches!(phase(s.state as usize), NORMAL | EXCEPTIONAL)
                        && m.promise_thread(s).pc == Pc::T3
                },
            ));
        }
        if actors.iter().any(|a| matches!(a, Actor::Taker { .. })) {
            examples.extend(Self::taker_examples());
        }
        examples
    }

    /// The examples (`sometimes`) of a counted configuration with a taker. Which ones a
    /// configuration reaches depends on its actors: the tests name the ones each must reach.
    pub fn taker_examples() -> Vec<Property<Self>> {
        // A taker at T4's load that will decide `take`.
        fn at_t4(m: &FutureTaskModel, s: &State, take: fn(Take) -> bool) -> bool {
            (0..m.cfg.actors.len()).any(|t| {
                // A taker that does not wait loads at its first step.
                let at = match m.actor(t) {
                    Actor::Taker { wait } => {
                        s.threads[t].pc == Pc::T4Load || (!wait && s.threads[t].pc == Pc::Idle)
                    }
                    _ => false,
                };
                at && take(m.take_decision(s.state))
            })
        }
        // A taker at T5 that will decide `head`.
        fn at_t5(m: &FutureTaskModel, s: &State, head: TakeHead) -> bool {
            s.threads.iter().any(|t| t.pc == Pc::T5) && m.take_head_decision(s.head) == head
        }
        vec![
            Property::sometimes(
                "a taker moves the outcome as the last reference",
                |_, s: &State| s.threads.iter().any(|t| t.pc == Pc::T4Store),
            ),
            Property::sometimes(
                "a taker moves the outcome after the promise's drain closed",
                |_, s: &State| s.threads.iter().any(|t| t.pc == Pc::T4Sub),
            ),
            Property::sometimes(
                "the promise frees the task after a taker's move (W3)",
                |m: &Self, s: &State| {
                    s.ghost.moves == 1
                        && m.promise_thread(s).pc == Pc::T3
                        && (0..m.cfg.actors.len()).all(|t| {
                            matches!(m.actor(t), Actor::Promise { .. }) || s.threads[t].refs == 0
                        })
                },
            ),
            Property::sometimes(
                "a taker frees the task after its fetch_sub",
                |m: &Self, s: &State| {
                    s.ghost.moves == 1
                        && (0..m.cfg.actors.len()).any(|t| {
                            matches!(m.actor(t), Actor::Taker { .. })
                                && s.threads[t].pc == Pc::T3
                                && s.threads[t].refs == 0
                        })
                },
            ),
            Property::sometimes("a take finds the task pending", |m: &Self, s: &State| {
                at_t4(m, s, |d| d == Take::Pending)
            }),
            Property::sometimes(
                "a take is refused: another reference",
                |m: &Self, s: &State| at_t4(m, s, |d| d == Take::Shared),
            ),
            Property::sometimes("a take finds the task cancelled", |m: &Self, s: &State| {
                at_t4(m, s, |d| d == Take::NoOutcome)
            }),
            Property::sometimes(
                "a take waits for the drain to close (T5)",
                |m: &Self, s: &State| at_t5(m, s, TakeHead::Wait),
            ),
            Property::sometimes(
                "a take is refused: a done-callback is still to run (T5)",
                |m: &Self, s: &State| at_t5(m, s, TakeHead::Callbacks),
            ),
        ]
    }

    /// The examples (`sometimes`) the uncounted quick and big configurations must reach.
    fn uncounted_examples() -> Vec<Property<Self>> {
        vec![
            Property::sometimes(
                "timed waiter times out during completion",
                |m: &Self, s: &State| {
                    let completing = s.threads.iter().any(|t| Self::is_completing(t.pc));
                    completing
                        && (0..m.cfg.actors.len()).any(|t| {
                            matches!(m.actor(t), Actor::Waiter { timed: true })
                                && s.nodes[t].st as usize == NODE_ABANDONED
                        })
                },
            ),
            Property::sometimes(
                "pushed while DRAINING (a batch of callbacks is being handed off)",
                |_: &Self, s: &State| {
                    head_ptr(s.head as usize) != 0 && s.head as usize & DRAINING != 0
                },
            ),
            Property::sometimes(
                "cancel_and_interrupt() races the runner's finish",
                |m: &Self, s: &State| {
                    phase(s.state as usize) == INTERRUPTING
                        && (0..m.cfg.actors.len()).any(|r| {
                            m.actor(r) == Actor::Runner
                                && matches!(
                                    s.threads[r].pc,
                                    Pc::K1Load | Pc::K1Cas | Pc::R6 | Pc::R7
                                )
                        })
                },
            ),
            Property::sometimes(
                "sleeper's futex_wait sees the word changed",
                |_, s: &State| {
                    s.threads
                        .iter()
                        .any(|t| t.pc == Pc::GFutex && t.e != s.sleep)
                },
            ),
            Property::sometimes("sleeper blocked when H6 wakes", |_, s: &State| {
                s.threads.iter().any(|t| t.pc == Pc::GSleep)
                    && s.threads.iter().any(|t| t.pc == Pc::H6Wake)
            }),
            Property::sometimes("sweeper unlinks while completer walks", |_, s: &State| {
                s.threads.iter().any(|t| Self::is_walking(t.pc))
                    && s.threads
                        .iter()
                        .any(|t| matches!(t.pc, Pc::SH2 | Pc::SH4 | Pc::SH5))
            }),
        ]
    }
}
