//! The FutureTask protocol as pure data: the encoding of the state word, the encoding of the
//! waiter-stack head word, the per-node hand-off states, and the transition rules.
//!
//! This file is deliberately free of atomics, `std` and `unsafe`: the kernel executes exactly these
//! functions inside its CAS loops, and the protocol models in `proofs/` import the same file, so a
//! change to the protocol here changes the kernel and the models together (no drift).
//!
//! # State word
//!
//! ```text
//!   bits 0..=2  phase       NEW=0 COMPLETING=1 NORMAL=2 EXCEPTIONAL=3
//!                           CANCELLED=4 INTERRUPTING=5 INTERRUPTED=6
//!   bit  3      STARTED     the closure was claimed by `run` (set once, never cleared)
//!   bit  4      MOVED       owner-only: the outcome was moved out (`into_outcome`)
//!   bit  5      COUNTED     the task's lifetime is counted in this word (a promise's task, I13)
//!   bit  6      ANNOUNCED   counted only: a thread may push onto the waiter stack (P0), so the
//!                           completion must drain it
//!   bit  7      DRAIN_HELD  counted only: W1 kept the promise's reference for its drain; the
//!                           promise's release after the drain (W3) clears it
//!   bits 8..    REFS        a counted task's references: its promise and its handles
//!
//!          run claims            set / fail / run finishes
//!   NEW ───────────────▶ NEW|STARTED ──────────────────▶ COMPLETING ──▶ NORMAL
//!    │                       │                                     └──▶ EXCEPTIONAL
//!    │ cancel()         │ cancel()
//!    ├──────────────────────┴──────────────▶ CANCELLED
//!    │ cancel_and_interrupt()
//!    └──────────────────────────────────────▶ INTERRUPTING ──▶ INTERRUPTED
//! ```
//!
//! `STARTED` rides along every later transition, so `state()` can say whether a cancelled task had
//! started. Every transition out of NEW is a CAS (I1); COMPLETING → NORMAL/EXCEPTIONAL and
//! INTERRUPTING → INTERRUPTED are plain release stores by the unique winner.
//!
//! A *counted* task (made by `promise()`) has no closure and one writer, and other threads change
//! its reference count at any time, so its word is only ever written by read-modify-writes that
//! carry `COUNTED` and `REFS` along: it leaves NEW by one CAS straight to NORMAL, EXCEPTIONAL
//! (the promise wrote the outcome before, W1), CANCELLED or INTERRUPTED (no runner to signal),
//! never through COMPLETING or INTERRUPTING, whose plain stores would erase a concurrent count.
//! Its waiter stack is drained only if some pusher announced itself first (P0, `ANNOUNCED`): the
//! promise's CAS then sees the flag. Without it nobody can be on the stack, so the same CAS also
//! gives up the promise's reference and the completion touches nothing else; a pusher that comes
//! later sees the task settled and does not push.
//!
//! A counted task's reader may take the outcome by value (T4, `take_step`): as the last
//! reference, or as one of two when the other is the promise still draining (`DRAIN_HELD`) and
//! the drain has closed the stack, after which the drain reads no outcome. It sets `MOVED` in the
//! read-modify-write that gives up its reference, so whichever reference goes last frees a task
//! whose outcome is gone.
//!
//! # Waiter-stack head word
//!
//! ```text
//!   bits 5..    pointer to the most recently pushed node (nodes are 32-byte aligned), or null
//!   bit  0      LOCKED    a remover holds the exclusive right to unlink abandoned nodes
//!   bit  1      DIRTY     a node was abandoned while LOCKED was held: the holder must sweep again
//!   bit  2      DRAINING  the completer has detached a batch of callbacks and is still running
//!   bit  3      CLOSED    terminal: pushes fail; every node pushed before it is handed off by
//!                         the completer that closed it, before its drain returns
//!   bit  4      CALLBACKS the nodes on the stack include a callback (set by its push, cleared
//!                         by the detach that takes it)
//! ```
//!
//! A batch without a callback is detached and the stack closed in one CAS: nothing registered
//! later can overtake a callback of it. A batch with one is detached alone (DRAINING), its
//! callbacks run, and the completer looks again: a callback registered meanwhile joins the next
//! batch instead of running before them (I7).
//!
//! # Node hand-off states
//!
//! `WAITING → UPDATING → WAITING` (an async waiter replaces its waker), `WAITING → ABANDONED`
//! (a timed-out waiter or a dropped future gives up), `WAITING|ABANDONED → NOTIFYING → DONE` (a
//! completer or a remover takes the node's payload, then releases the node). After a node reaches
//! `DONE` no thread but its owner touches it again (I6).

// ---- state word -------------------------------------------------------------------------------

/// Mask of the phase bits of the state word.
pub const PHASE_MASK: usize = 0b0111;
/// Not completed, not cancelled (the closure may or may not have started, see [`STARTED`]).
pub const NEW: usize = 0;
/// A completion won the race and is writing the outcome (transient).
pub const COMPLETING: usize = 1;
/// Completed with a value.
pub const NORMAL: usize = 2;
/// Completed with a failure (panic in the closure, or `fail`).
pub const EXCEPTIONAL: usize = 3;
/// Cancelled without interrupting.
pub const CANCELLED: usize = 4;
/// Cancelled with interrupt; the canceller is signalling the runner (transient).
pub const INTERRUPTING: usize = 5;
/// Cancelled with interrupt; the signal has been delivered.
pub const INTERRUPTED: usize = 6;
/// Flag: `run` claimed the closure.
pub const STARTED: usize = 0b1000;
/// Flag: the outcome was moved out, so the task's drop must not drop it. Set by the owner
/// (`into_outcome`, O2) on a task no other handle can reach, or by a counted task's taker (T4)
/// when no other reference reads the outcome any more.
pub const MOVED: usize = 0b1_0000;

/// Flag: the task's lifetime is counted in this word, in [`REF`]s (a promise's task, I13).
pub const COUNTED: usize = 0b10_0000;
/// One reference in the count field (bits 8..) of a counted task's word.
pub const REF: usize = 1 << 8;
/// The most references a counted task may have: half the count field, so that the clones
/// racing past the check (each undoes its own increment) cannot carry the field over.
pub const MAX_REFS: usize = (usize::MAX >> 8) / 2;
/// Flag of a counted task: a thread announced that it may push onto the waiter stack (P0), so
/// the completion must drain the stack. Set only while NEW, never cleared.
pub const ANNOUNCED: usize = 0b100_0000;
/// Flag of a counted task: W1 kept the promise's reference for its drain (it found ANNOUNCED),
/// so of two references one is the promise's until its release after the drain (W3) clears
/// the flag with its `REF` ([`DRAIN_REF`]). Tells a taker (T4) who the other reference is.
pub const DRAIN_HELD: usize = 0b1000_0000;
/// W3: what the promise's release after its drain subtracts: its reference and [`DRAIN_HELD`].
pub const DRAIN_REF: usize = REF + DRAIN_HELD;
/// The bits every transition carries along: STARTED, and a counted task's lifetime and
/// announcement.
const CARRIED: usize = STARTED | COUNTED | ANNOUNCED | !(REF - 1);

/// The phase of a state word.
#[inline(always)]
pub const fn phase(s: usize) -> usize {
    s & PHASE_MASK
}

/// `run` may claim the closure: the task is NEW and nobody claimed it yet.
/// Returns the state to CAS in.
#[inline(always)]
pub const fn try_start(s: usize) -> Option<usize> {
    if s == NEW {
        Some(NEW | STARTED)
    } else {
        None
    }
}

/// A completion (run finishing, `set`, `fail`) may win: the task is still NEW and not counted
/// (a counted task completes by [`try_publish`]). Returns the state to CAS in (COMPLETING,
/// keeping STARTED).
#[inline(always)]
pub const fn try_begin_complete(s: usize) -> Option<usize> {
    if phase(s) == NEW && !is_counted(s) {
        Some((s & CARRIED) | COMPLETING)
    } else {
        None
    }
}

/// The state the unique completer stores after writing the outcome.
#[inline(always)]
pub const fn finish_complete(s: usize, success: bool) -> usize {
    (s & CARRIED) | if success { NORMAL } else { EXCEPTIONAL }
}

/// W1: a counted task's promise may publish the outcome it already wrote: the task is still
/// NEW. Returns the state to CAS in: NORMAL or EXCEPTIONAL, the count carried along, less the
/// promise's own reference when nobody announced a push ([`publish_releases`]), or else with
/// [`DRAIN_HELD`]: the promise keeps its reference for the drain.
#[inline(always)]
pub const fn try_publish(s: usize, success: bool) -> Option<usize> {
    if phase(s) == NEW && is_counted(s) {
        let n = finish_complete(s, success);
        Some(if publish_releases(s) {
            n - REF
        } else {
            n | DRAIN_HELD
        })
    } else {
        None
    }
}

/// W1 from `s` gives up the promise's reference in its CAS: nobody announced a push (P0), so
/// nobody is on the stack and there is nothing to drain; the promise is finished with the task.
#[inline(always)]
pub const fn publish_releases(s: usize) -> bool {
    s & ANNOUNCED == 0
}

/// Whether the winner of the transition out of NEW from `s` drains the waiter stack (F1..):
/// always for a task that is not counted; for a counted one only if a pusher announced (P0).
#[inline(always)]
pub const fn must_drain(s: usize) -> bool {
    !is_counted(s) || s & ANNOUNCED != 0
}

/// What a thread about to push a node (a waiter or a callback) does first, with state word `s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announce {
    /// Push: the task is not counted (its completion always drains), or a pusher announced (its
    /// completion drains, or drained: a push then fails on CLOSED or joins the drain, which keeps
    /// callbacks in registration order).
    Push,
    /// P0, counted and NEW: CAS `s` → the given word (ANNOUNCED set), then push.
    Set(usize),
    /// Counted, settled, never announced: nobody ever pushed and nobody will drain, so do not
    /// push; read the outcome (a callback runs now).
    Settled,
}

/// P0: the pusher's decision for state word `s`.
#[inline(always)]
pub const fn announce_step(s: usize) -> Announce {
    if !is_counted(s) || s & ANNOUNCED != 0 {
        Announce::Push
    } else if phase(s) != NEW {
        Announce::Settled
    } else {
        Announce::Set(s | ANNOUNCED)
    }
}

/// T4: what a reader of a counted task that gives up its reference for the outcome does, with
/// state word `s` (its own reference included in the count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// Not settled: nothing to take; keep the reference.
    Pending,
    /// Settled without an outcome (cancelled): report that; release the reference (T2).
    NoOutcome,
    /// The last reference: nobody else can reach the task. Move the outcome out, store the given
    /// word (MOVED set) and free the task (T3).
    Last(usize),
    /// Two references, the other the promise's, held for its drain (DRAIN_HELD): once the drain
    /// has closed the stack (`take_head_step`), move the outcome out and release the reference
    /// by subtracting the given amount (one `REF`, MOVED added) in one read-modify-write.
    AfterDrain(usize),
    /// Another reference may read the outcome: keep the reference.
    Shared,
}

/// T4: the taker's decision for state word `s` of a counted task.
#[inline(always)]
pub const fn take_step(s: usize) -> Take {
    if !is_settled(s) {
        Take::Pending
    } else if !owns_outcome(s) {
        Take::NoOutcome
    } else if refs(s) == 1 {
        Take::Last(s | MOVED)
    } else if refs(s) == 2 && s & DRAIN_HELD != 0 {
        Take::AfterDrain(REF - MOVED)
    } else {
        Take::Shared
    }
}

/// T5: what a taker whose other reference is the draining promise does with head word `h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TakeHead {
    /// CLOSED: the drain has run every callback and reads no outcome any more: take it.
    Take,
    /// A done-callback is pending or running (CALLBACKS, DRAINING): it may read the outcome, and
    /// it is user code of unbounded length: keep the reference.
    Callbacks,
    /// The drain has not closed the stack yet, and no user code runs before it does (it waits
    /// at most for a remover, F2): look again.
    Wait,
}

/// T5: the taker's decision for head word `h`.
#[inline(always)]
pub const fn take_head_step(h: usize) -> TakeHead {
    if h & CLOSED != 0 {
        TakeHead::Take
    } else if h & (CALLBACKS | DRAINING) != 0 {
        TakeHead::Callbacks
    } else {
        TakeHead::Wait
    }
}

/// `cancel(interrupt)` may win: the task is still NEW (started or not).
/// Returns the state to CAS in: INTERRUPTING when a runner may have to be signalled, straight
/// INTERRUPTED for a counted task (it has no runner, and no plain store may follow).
#[inline(always)]
pub const fn try_cancel(s: usize, interrupt: bool) -> Option<usize> {
    if phase(s) != NEW {
        None
    } else if !interrupt {
        Some((s & CARRIED) | CANCELLED)
    } else if is_counted(s) {
        Some(finish_interrupt(s))
    } else {
        Some((s & CARRIED) | INTERRUPTING)
    }
}

/// The state the interrupting canceller stores after signalling the runner.
#[inline(always)]
pub const fn finish_interrupt(s: usize) -> usize {
    (s & CARRIED) | INTERRUPTED
}

/// The task's lifetime is counted in its state word.
#[inline(always)]
pub const fn is_counted(s: usize) -> bool {
    s & COUNTED != 0
}

/// The state word of a new counted task with `refs` references.
#[inline(always)]
pub const fn counted_new(refs: usize) -> usize {
    COUNTED | (refs * REF)
}

/// A counted task's references.
#[inline(always)]
pub const fn refs(s: usize) -> usize {
    s / REF
}

/// Java's `isDone`: anything but NEW (COMPLETING and INTERRUPTING included; I9).
#[inline(always)]
pub const fn is_done(s: usize) -> bool {
    phase(s) != NEW
}

/// Cancelled, with or without interrupt.
#[inline(always)]
pub const fn is_cancelled(s: usize) -> bool {
    phase(s) >= CANCELLED
}

/// The outcome can be reported without waiting: everything but NEW and COMPLETING.
#[inline(always)]
pub const fn is_settled(s: usize) -> bool {
    let p = phase(s);
    p != NEW && p != COMPLETING
}

/// The closure's run was asked to stop (cancel with interrupt won).
#[inline(always)]
pub const fn is_interrupted(s: usize) -> bool {
    let p = phase(s);
    p == INTERRUPTING || p == INTERRUPTED
}

/// Whether the closure was claimed by `run`.
#[inline(always)]
pub const fn is_started(s: usize) -> bool {
    s & STARTED != 0
}

/// O1, owner-only: take back the closure of a task nobody claimed. Returns the state to store
/// (STARTED set, so the drop leaves the closure alone), or `None` if `run` claimed it.
#[inline(always)]
pub const fn owner_take_closure(s: usize) -> Option<usize> {
    if is_started(s) {
        None
    } else {
        Some(s | STARTED)
    }
}

/// O2, owner-only: move the outcome out of a task that completed. Returns the state to store
/// (MOVED set, so the drop leaves the outcome alone), or `None` if there is no outcome.
#[inline(always)]
pub const fn owner_take_outcome(s: usize) -> Option<usize> {
    match phase(s) {
        NORMAL | EXCEPTIONAL if s & MOVED == 0 => Some(s | MOVED),
        _ => None,
    }
}

/// Whether the task's drop must drop an outcome: it completed and the outcome was not moved out.
#[inline(always)]
pub const fn owns_outcome(s: usize) -> bool {
    matches!(phase(s), NORMAL | EXCEPTIONAL) && s & MOVED == 0
}

/// O3: claim the closure of a task cancelled before it started (CAS in the result). Only from a
/// *terminal* cancelled phase: an INTERRUPTING canceller still stores C5 over the word. At most
/// one claim succeeds: `run` claims only from exactly NEW, and a second claim sees STARTED (I4).
#[inline(always)]
pub const fn try_reclaim(s: usize) -> Option<usize> {
    match phase(s) {
        CANCELLED | INTERRUPTED if !is_started(s) => Some(s | STARTED),
        _ => None,
    }
}

/// Every transition the protocol allows between two *distinct* phases (I9: observers only ever
/// see phases move forward along these edges).
/// A counted task's edges (`counted`) skip the transient phases.
pub const fn phase_edge_allowed(from: usize, to: usize, counted: bool) -> bool {
    if counted {
        return matches!(
            (from, to),
            (NEW, NORMAL) | (NEW, EXCEPTIONAL) | (NEW, CANCELLED) | (NEW, INTERRUPTED)
        );
    }
    matches!(
        (from, to),
        (NEW, COMPLETING)
            | (NEW, CANCELLED)
            | (NEW, INTERRUPTING)
            | (COMPLETING, NORMAL)
            | (COMPLETING, EXCEPTIONAL)
            | (INTERRUPTING, INTERRUPTED)
    )
}

/// `from` can reach `to` along allowed edges (reflexive).
pub const fn phase_reachable(from: usize, to: usize) -> bool {
    if from == to {
        return true;
    }
    match from {
        NEW => true,
        COMPLETING => matches!(to, NORMAL | EXCEPTIONAL),
        INTERRUPTING => to == INTERRUPTED,
        _ => false,
    }
}

// ---- waiter-stack head word --------------------------------------------------------------------

/// A remover holds the exclusive right to unlink abandoned nodes.
pub const LOCKED: usize = 0b0001;
/// A node was abandoned while LOCKED was held.
pub const DIRTY: usize = 0b0010;
/// The completer detached a batch of callbacks and is still running them.
pub const DRAINING: usize = 0b0100;
/// Pushes fail; the completer that closed the stack hands off every node pushed before.
pub const CLOSED: usize = 0b1000;
/// The nodes on the stack include a callback: the drain detaches them without closing.
pub const CALLBACKS: usize = 0b1_0000;
/// Mask of the flag bits of the head word.
pub const HEAD_FLAGS: usize = 0b1_1111;
/// Required alignment of waiter nodes so their addresses leave the flag bits free.
pub const NODE_ALIGN: usize = 32;

/// The pointer part of a head word.
#[inline(always)]
pub const fn head_ptr(h: usize) -> usize {
    h & !HEAD_FLAGS
}

/// Push `node` (an address with the flag bits clear; `callback`: a done-callback's node): the
/// head word to CAS in, or `None` when the stack is closed (the caller must read the outcome
/// instead of waiting, or run its callback now).
#[inline(always)]
pub const fn try_push(h: usize, node: usize, callback: bool) -> Option<usize> {
    if h & CLOSED != 0 {
        None
    } else {
        let kind = if callback { CALLBACKS } else { 0 };
        Some(node | (h & (LOCKED | DIRTY | DRAINING | CALLBACKS)) | kind)
    }
}

/// What the completer does with head word `h` in its drain loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainStep {
    /// A remover holds LOCKED: wait for it (its critical section is bounded and runs no user code).
    WaitForRemover,
    /// The batch holds a callback: CAS `h` → the given word (DRAINING, empty), hand off the
    /// detached batch at `head_ptr(h)`, and look again.
    Detach(usize),
    /// The batch holds no callback: CAS `h` → the given word (CLOSED), hand off the detached
    /// batch at `head_ptr(h)`, and stop.
    DetachClose(usize),
    /// Nothing left: CAS `h` → the given word (CLOSED) and stop.
    Close(usize),
}

/// The completer's decision for head word `h`.
#[inline(always)]
pub const fn drain_step(h: usize) -> DrainStep {
    if h & LOCKED != 0 {
        DrainStep::WaitForRemover
    } else if head_ptr(h) == 0 {
        DrainStep::Close(CLOSED)
    } else if h & CALLBACKS != 0 {
        DrainStep::Detach(DRAINING)
    } else {
        DrainStep::DetachClose(CLOSED)
    }
}

/// What a waiter that has just abandoned its node does with head word `h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoveStep {
    /// The stack is closed: the completer has handed off (or is handing off) the node; wait for
    /// the node to reach DONE.
    AwaitHandOff,
    /// Another remover holds LOCKED: CAS `h` → the given word (`h | DIRTY`), then wait for DONE.
    /// Also when DIRTY is already set — the CAS then writes the same word, and it must still be
    /// a CAS, not a plain load: the lock holder's next sweep reads our ABANDONED with a plain
    /// load, which is only guaranteed to see it if our store happens-before the holder's
    /// clear-DIRTY CAS. A read-modify-write of `head` gives that edge (the holder's CAS reads our
    /// write or a later one of the same release sequence); merely *reading* DIRTY gives none
    /// under the C11 model, and the holder could release without unlinking our node (found by
    /// Miri's weak-memory emulation, `abandon_vs_abandon`, seed 3).
    MarkDirty(usize),
    /// CAS `h` → the given word (set LOCKED) and sweep.
    Lock(usize),
}

/// The remover's decision for head word `h`.
#[inline(always)]
pub const fn remove_step(h: usize) -> RemoveStep {
    if h & CLOSED != 0 {
        RemoveStep::AwaitHandOff
    } else if h & LOCKED != 0 {
        RemoveStep::MarkDirty(h | DIRTY)
    } else {
        RemoveStep::Lock(h | LOCKED)
    }
}

/// S1, unlinking the first node: `node` is unlinked from head word `h` by CAS'ing in the result
/// (its successor `next`, the flags of `h` kept), or the walk restarts (`None`) because a push
/// landed in front of it since the walk read the head.
#[inline(always)]
pub const fn unlink_head(h: usize, node: usize, next: usize) -> Option<usize> {
    if head_ptr(h) == node {
        Some(head_ptr(next) | (h & HEAD_FLAGS))
    } else {
        None
    }
}

/// What the lock holder does with head word `h` after a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnlockStep {
    /// DIRTY was set: CAS `h` → the given word (clear DIRTY) and sweep again.
    SweepAgain(usize),
    /// CAS `h` → the given word (clear LOCKED) and leave.
    Release(usize),
}

/// The lock holder's decision after a sweep. CLOSED cannot be set while LOCKED is held, because
/// the completer waits for LOCKED to clear before detaching or closing.
#[inline(always)]
pub const fn unlock_step(h: usize) -> UnlockStep {
    if h & DIRTY != 0 {
        UnlockStep::SweepAgain(h & !DIRTY)
    } else {
        UnlockStep::Release(h & !LOCKED)
    }
}

// ---- node hand-off -----------------------------------------------------------------------------

/// The owner is waiting; the node is linked (or about to be).
pub const NODE_WAITING: usize = 0;
/// An async owner is replacing its waker (short exclusive section, no user code inside).
pub const NODE_UPDATING: usize = 1;
/// The owner gave up (timeout or drop) and waits for a completer or remover to release the node.
pub const NODE_ABANDONED: usize = 2;
/// A completer or remover took exclusive access and is taking the payload out.
pub const NODE_NOTIFYING: usize = 3;
/// Released: nobody but the owner touches the node again.
pub const NODE_DONE: usize = 4;

/// A handler (completer or remover) may take exclusive access from node state `n`.
#[inline(always)]
pub const fn node_try_notify(n: usize) -> Option<usize> {
    match n {
        NODE_WAITING | NODE_ABANDONED => Some(NODE_NOTIFYING),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_winner_from_new() {
        for s in [NEW, NEW | STARTED] {
            assert!(try_begin_complete(s).is_some());
            assert!(try_cancel(s, true).is_some());
            assert!(try_cancel(s, false).is_some());
        }
        for p in [
            COMPLETING,
            NORMAL,
            EXCEPTIONAL,
            CANCELLED,
            INTERRUPTING,
            INTERRUPTED,
        ] {
            for s in [p, p | STARTED] {
                assert!(try_begin_complete(s).is_none());
                assert!(try_cancel(s, true).is_none());
                assert!(try_cancel(s, false).is_none());
                assert!(try_start(s).is_none());
            }
        }
        assert!(try_start(NEW | STARTED).is_none());
    }

    #[test]
    fn started_rides_along() {
        let s = try_start(NEW).unwrap();
        assert!(is_started(finish_complete(
            try_begin_complete(s).unwrap(),
            true
        )));
        assert!(is_started(finish_interrupt(try_cancel(s, true).unwrap())));
        assert!(!is_started(try_cancel(NEW, false).unwrap()));
    }

    #[test]
    fn head_word_steps() {
        let node = 0x1000;
        assert_eq!(try_push(0, node, false), Some(node));
        assert_eq!(
            try_push(LOCKED | DIRTY, node, false),
            Some(node | LOCKED | DIRTY)
        );
        assert_eq!(try_push(CLOSED, node, false), None);
        assert_eq!(try_push(CLOSED, node, true), None);
        assert_eq!(try_push(0, node, true), Some(node | CALLBACKS));
        // A waiter pushed over a callback keeps the flag: the batch still holds the callback.
        assert_eq!(
            try_push(node | CALLBACKS | DRAINING, 0x2000, false),
            Some(0x2000 | CALLBACKS | DRAINING)
        );
        assert_eq!(drain_step(node | LOCKED), DrainStep::WaitForRemover);
        assert_eq!(
            drain_step(node | LOCKED | CALLBACKS),
            DrainStep::WaitForRemover
        );
        assert_eq!(drain_step(DRAINING), DrainStep::Close(CLOSED));
        assert_eq!(drain_step(node), DrainStep::DetachClose(CLOSED));
        assert_eq!(drain_step(node | DRAINING), DrainStep::DetachClose(CLOSED));
        assert_eq!(drain_step(node | CALLBACKS), DrainStep::Detach(DRAINING));
        assert_eq!(
            drain_step(node | CALLBACKS | DRAINING),
            DrainStep::Detach(DRAINING)
        );
        assert_eq!(
            unlink_head(node | CALLBACKS | LOCKED, node, 0x2000),
            Some(0x2000 | CALLBACKS | LOCKED)
        );
        assert_eq!(remove_step(CLOSED), RemoveStep::AwaitHandOff);
        assert_eq!(
            remove_step(node | LOCKED),
            RemoveStep::MarkDirty(node | LOCKED | DIRTY)
        );
        assert_eq!(
            remove_step(node | LOCKED | DIRTY),
            RemoveStep::MarkDirty(node | LOCKED | DIRTY)
        );
        assert_eq!(remove_step(node), RemoveStep::Lock(node | LOCKED));
        assert_eq!(
            unlock_step(node | LOCKED | DIRTY),
            UnlockStep::SweepAgain(node | LOCKED)
        );
        assert_eq!(unlock_step(node | LOCKED), UnlockStep::Release(node));
    }

    #[test]
    fn owner_and_reclaim_steps() {
        assert_eq!(owner_take_closure(NEW), Some(NEW | STARTED));
        assert_eq!(owner_take_closure(NEW | STARTED), None);
        for p in [NORMAL, EXCEPTIONAL] {
            for s in [p, p | STARTED] {
                assert!(owns_outcome(s));
                let moved = owner_take_outcome(s).unwrap();
                assert!(!owns_outcome(moved));
                assert_eq!(phase(moved), p);
                assert_eq!(owner_take_outcome(moved), None);
            }
        }
        for s in [NEW, COMPLETING, CANCELLED, INTERRUPTING, INTERRUPTED] {
            assert!(!owns_outcome(s) && owner_take_outcome(s).is_none());
        }
        assert_eq!(try_reclaim(CANCELLED), Some(CANCELLED | STARTED));
        assert_eq!(try_reclaim(INTERRUPTED), Some(INTERRUPTED | STARTED));
        for s in [
            NEW,
            INTERRUPTING,
            NORMAL,
            CANCELLED | STARTED,
            INTERRUPTED | STARTED,
        ] {
            assert_eq!(try_reclaim(s), None);
        }
        assert_eq!(unlink_head(0x20 | LOCKED, 0x20, 0x40), Some(0x40 | LOCKED));
        assert_eq!(unlink_head(0x60 | LOCKED | DIRTY, 0x20, 0x40), None);
        assert_eq!(
            unlink_head(0x20 | LOCKED | DIRTY, 0x20, 0),
            Some(LOCKED | DIRTY)
        );
    }

    #[test]
    fn reachability_matches_edges() {
        for a in 0..=6 {
            for b in 0..=6 {
                if phase_edge_allowed(a, b, false) || phase_edge_allowed(a, b, true) {
                    assert!(phase_reachable(a, b));
                }
            }
        }
        assert!(!phase_reachable(NORMAL, CANCELLED));
        assert!(!phase_reachable(CANCELLED, NORMAL));
    }

    #[test]
    fn a_counted_task_leaves_new_in_one_cas_and_keeps_its_count() {
        let s = counted_new(2) + REF; // a clone
        assert_eq!((refs(s), is_counted(s), phase(s)), (3, true, NEW));
        // Only the promise's publish completes it; never through COMPLETING or INTERRUPTING.
        assert_eq!(try_begin_complete(s), None);
        assert_eq!(try_start(s), None);
        for (n, to, kept) in [
            // Nobody announced: the promise's reference goes with its CAS.
            (try_publish(s, true), NORMAL, 2),
            (try_publish(s, false), EXCEPTIONAL, 2),
            // Announced: it keeps it, for the drain (DRAIN_HELD).
            (try_publish(s | ANNOUNCED, true), NORMAL, 3),
            (try_cancel(s, false), CANCELLED, 3),
            (try_cancel(s, true), INTERRUPTED, 3),
        ] {
            let n = n.unwrap();
            assert_eq!((phase(n), refs(n), is_counted(n)), (to, kept, true));
            assert!(phase_edge_allowed(NEW, to, true));
            assert!(try_publish(n, true).is_none() && try_cancel(n, true).is_none());
            assert!(is_settled(n));
        }
        // An uncounted task never publishes, and its words carry no count.
        assert_eq!(try_publish(NEW, true), None);
        assert_eq!(refs(try_cancel(NEW | STARTED, true).unwrap()), 0);
        assert!(MAX_REFS.checked_mul(2 * REF).is_some());
    }

    #[test]
    fn a_taker_moves_the_outcome_only_when_nobody_else_reads_it() {
        let s = counted_new(2);
        let a = s | ANNOUNCED;
        assert_eq!(take_step(s), Take::Pending);
        assert_eq!(take_step(a), Take::Pending);
        // W1 released the promise's reference: the reader is the last one.
        let released = try_publish(s, true).unwrap();
        assert_eq!(released & DRAIN_HELD, 0);
        let Take::Last(n) = take_step(released) else {
            panic!()
        };
        assert!(!owns_outcome(n) && refs(n) == 1 && phase(n) == NORMAL);
        // W1 kept it for the drain: of two references the other is the promise's.
        let held = try_publish(a, false).unwrap();
        assert_eq!(held & DRAIN_HELD, DRAIN_HELD);
        let Take::AfterDrain(d) = take_step(held) else {
            panic!()
        };
        let after = held - d;
        assert!(!owns_outcome(after) && refs(after) == 1 && phase(after) == EXCEPTIONAL);
        // The promise's release then clears DRAIN_HELD with its reference (W3).
        assert_eq!(
            after - DRAIN_REF,
            counted_new(0) | ANNOUNCED | EXCEPTIONAL | MOVED
        );
        assert_eq!(held - DRAIN_REF, counted_new(1) | ANNOUNCED | EXCEPTIONAL);
        // A third reference, or two without the promise's drain, may read it: no take.
        assert_eq!(take_step(held + REF), Take::Shared);
        assert_eq!(take_step(try_publish(s + REF, true).unwrap()), Take::Shared);
        assert_eq!(take_step(held - DRAIN_REF + REF), Take::Shared);
        // Cancelled: no outcome to move, whoever else holds the task.
        for c in [try_cancel(a, false), try_cancel(s + REF, true)] {
            assert_eq!(take_step(c.unwrap()), Take::NoOutcome);
        }
        assert_eq!(take_head_step(CLOSED), TakeHead::Take);
        assert_eq!(take_head_step(0x40), TakeHead::Wait);
        assert_eq!(take_head_step(0x40 | LOCKED), TakeHead::Wait);
        assert_eq!(take_head_step(0x40 | CALLBACKS), TakeHead::Callbacks);
        assert_eq!(take_head_step(DRAINING), TakeHead::Callbacks);
    }

    #[test]
    fn a_counted_task_drains_only_after_an_announcement() {
        let s = counted_new(2);
        // P0 on NEW sets ANNOUNCED once; later pushers just push; nobody pushes once settled.
        let a = match announce_step(s) {
            Announce::Set(a) => a,
            other => panic!("{other:?}"),
        };
        assert_eq!((phase(a), refs(a), a & ANNOUNCED), (NEW, 2, ANNOUNCED));
        assert_eq!(announce_step(a), Announce::Push);
        for done in [try_publish(s, true), try_cancel(s, true)] {
            assert_eq!(announce_step(done.unwrap()), Announce::Settled);
        }
        // Announced: pushers push even once settled (the push fails on CLOSED or joins the
        // drain, so a callback never overtakes an earlier one).
        for done in [try_publish(a, true), try_cancel(a, false)] {
            assert_eq!(announce_step(done.unwrap()), Announce::Push);
        }
        // The flag rides along and decides the drain; W1 releases the reference only without it.
        assert!(!must_drain(try_cancel(s, false).unwrap()));
        assert!(must_drain(try_cancel(a, false).unwrap()));
        assert!(must_drain(try_publish(a, true).unwrap()));
        assert!(publish_releases(s) && !publish_releases(a));
        // A task that is not counted always drains and its pushers never announce.
        for w in [NEW, NEW | STARTED, COMPLETING, NORMAL, CANCELLED | STARTED] {
            assert_eq!(announce_step(w), Announce::Push);
            assert!(must_drain(w));
        }
    }
}
