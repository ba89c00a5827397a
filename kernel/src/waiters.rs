//! The waiter stack: a Treiber stack of waiter nodes (blocked threads, async wakers) and callback
//! nodes, hung off one head word (see [`crate::protocol`] for its encoding).
//!
//! * push is lock-free (one CAS; fails once the stack is CLOSED);
//! * completion detaches whole batches with one CAS each, wakes every waiter of a batch, then runs
//!   the batch's callbacks in registration order, until it can CAS the empty stack to CLOSED;
//! * a waiter that gives up (timeout, dropped future) marks its node ABANDONED and one remover at a
//!   time (the LOCKED bit; late arrivals set DIRTY and leave) unlinks every abandoned node and
//!   releases it. The completer waits for LOCKED to clear, so no `next` pointer is ever written
//!   while another thread walks it.
//!
//! Waiter nodes live on the waiting thread's stack or inside a pinned future: no allocation per
//! wait. Another thread touches a node only between its push and its release to DONE (I6).

use crate::failure::Error;
use crate::foreign::Panics;
use crate::protocol::{self as p, DrainStep, RemoveStep, UnlockStep};
use crate::sync::{
    self, AtomicPtr, AtomicUsize, Ordering::*, SleepToken, SleepWord, Sleepers, Thread, UnsafeCell,
};
use std::ptr;
use std::task::Waker;

/// A done-callback: called once with the outcome.
pub(crate) type Callback<T> = Box<dyn for<'a> FnOnce(Result<&'a T, Error>) + Send + 'static>;

/// What a node carries for whoever releases it.
pub(crate) enum Payload<T> {
    /// Taken by the releaser.
    Empty,
    /// A blocked thread with a deadline: unparked on release.
    Thread(Thread),
    /// An untimed blocked thread, asleep on the stack's [`SleepWord`]: the batch that releases it
    /// wakes all such sleepers at once (H6).
    Sleeper(SleepToken),
    /// An async waiter: woken on release (dropped without waking if the future was abandoned).
    Waker(Waker),
    /// A done-callback: run by the completer after the batch's waiters are woken.
    Callback(Callback<T>),
}

/// One entry of the waiter stack. 32-byte aligned so the head word's flag bits stay free.
#[repr(C, align(32))]
pub(crate) struct Node<T> {
    /// Next (older) node. Written by the owner before the node is published, and by the lock
    /// holder while unlinking; read by the completer and the lock holder.
    next: AtomicPtr<Node<T>>,
    /// Hand-off state (`protocol::NODE_*`).
    pub(crate) state: AtomicUsize,
    /// Immutable after construction: callback nodes are owned by the stack, waiter nodes by the
    /// waiting thread or future.
    is_callback: bool,
    payload: UnsafeCell<Payload<T>>,
}

const _: () = assert!(std::mem::align_of::<Node<()>>() >= p::NODE_ALIGN);

impl<T> Node<T> {
    pub(crate) fn waiter(payload: Payload<T>) -> Self {
        Node {
            next: AtomicPtr::new(ptr::null_mut()),
            state: AtomicUsize::new(p::NODE_WAITING),
            is_callback: false,
            payload: UnsafeCell::new(payload),
        }
    }

    fn callback(cb: Callback<T>) -> Box<Self> {
        Box::new(Node {
            next: AtomicPtr::new(ptr::null_mut()),
            state: AtomicUsize::new(p::NODE_WAITING),
            is_callback: true,
            payload: UnsafeCell::new(Payload::Callback(cb)),
        })
    }

    #[inline]
    pub(crate) fn is_done(&self) -> bool {
        // step G7: the owner's check for its release (Acquire: pairs with H4).
        self.state.load(Acquire) == p::NODE_DONE
    }

    /// Under loom only: the owner of a released node reads its payload cell once more before the
    /// node's memory goes away, so a releaser that still touches the payload after its DONE store
    /// shows as a concurrent access (I6); the real owner frees the node at this point, which
    /// loom cannot see.
    #[cfg(loom)]
    pub(crate) fn owner_last_look(&self) {
        self.payload.with(|_| ());
    }

    /// Owner only, before the node is pushed or while it holds UPDATING: replace the payload.
    ///
    /// # Safety
    /// The caller has exclusive access to the payload: the node is unpublished, or the caller
    /// moved its state WAITING → UPDATING (I6).
    pub(crate) unsafe fn set_payload(&self, new: Payload<T>) -> Payload<T> {
        // SAFETY: exclusive access per the function contract (I6).
        self.payload
            .with_mut(|slot| unsafe { std::mem::replace(&mut *slot, new) })
    }

    /// Owner only, with the same exclusive access as `set_payload`: whether the stored waker
    /// would wake the same task as `w`.
    ///
    /// # Safety
    /// As for `set_payload`, or the node is WAITING and the caller is its owner: releasers only
    /// take the payload after moving the state to NOTIFYING, which the owner then observes.
    pub(crate) unsafe fn waker_will_wake(&self, w: &Waker) -> bool {
        // SAFETY: per the function contract; the read races with no write (I6).
        self.payload.with(|slot| match unsafe { &*slot } {
            Payload::Waker(old) => old.will_wake(w),
            _ => false,
        })
    }
}

/// Release a waiter node (H2..H5): take exclusive access, take the payload, mark DONE, then
/// unpark the owner — in that order, so the owner can never free the node while we still touch it.
///
/// A [`Payload::Sleeper`] is not woken here: it joins `sleepers`, whom the caller wakes at once
/// after the whole batch (H6). A [`Payload::Waker`] is returned for the caller to wake: waking is
/// foreign code, which the caller runs where a panic cannot interrupt the protocol (I11). The
/// waker of an ABANDONED node is left in the node: its owner (a dropped future, waiting for DONE)
/// drops it, so a remover never runs foreign code while it holds LOCKED (I11).
///
/// # Safety
/// `node` is a waiter node that the caller reached through the stack (completer with a detached
/// batch, or lock holder after unlinking it), so it is alive until it is marked DONE (I6).
#[must_use = "a returned waker must be woken"]
unsafe fn release<T>(
    node: *const Node<T>,
    own: *const Node<T>,
    sleepers: &mut Sleepers,
) -> Option<Waker> {
    // SAFETY: alive until DONE per the function contract (I6).
    let n = unsafe { &*node };
    // step H2: take exclusive access.
    let mut s = n.state.load(Acquire);
    let was = loop {
        match p::node_try_notify(s) {
            // AcqRel, not Acquire: an async owner that observes NOTIFYING (its re-poll's CAS
            // fails) returns Ready and reads the task state at once; the Release half orders
            // the completer's publication (K3) before that observation (I2, I8).
            Some(next) => match n.state.compare_exchange_weak(s, next, AcqRel, Acquire) {
                Ok(_) => break s,
                Err(actual) => s = actual,
            },
            // UPDATING: the owner is swapping its waker (no foreign code inside, I11); wait it out.
            None => {
                debug_assert_eq!(s, p::NODE_UPDATING, "node released twice");
                sync::spin_loop();
                s = n.state.load(Acquire);
            }
        }
    };
    // An abandoned node's waker stays in place for its owner to drop (I11).
    let is_thread = || {
        // SAFETY: NOTIFYING gives us exclusive access to the payload (I6).
        n.payload
            .with(|slot| matches!(unsafe { &*slot }, Payload::Thread(_)))
    };
    let take = was != p::NODE_ABANDONED || is_thread();
    let take_payload = || {
        // SAFETY: as above (I6).
        n.payload
            .with_mut(|slot| unsafe { std::mem::replace(&mut *slot, Payload::Empty) })
    };
    // step H3: take what the owner needs after DONE.
    let payload = if take { take_payload() } else { Payload::Empty };
    // step H4: the node is released; from here on its owner may free it, so only the taken
    // payload is used.
    n.state.store(p::NODE_DONE, Release);
    if node == own {
        return None;
    }
    // step H5
    match payload {
        Payload::Thread(t) => t.unpark(),
        Payload::Sleeper(token) => sleepers.add(token),
        Payload::Waker(w) if was == p::NODE_WAITING => return Some(w),
        // An ABANDONED node's waker is never taken (above): no foreign code runs here (I11).
        Payload::Waker(_) | Payload::Empty | Payload::Callback(_) => {}
    }
    None
}

// ---- head words as pointers (strict provenance) --------------------------------------------------
//
// The head word is a node pointer with the `protocol` flag bits in its low bits. It is kept as a
// pointer (`AtomicPtr`), never rebuilt from an integer: the pure protocol functions work on its
// address, and the result is put back onto a pointer that carries the right provenance with
// `with_addr` (a `wrapping_byte_offset`, the strict-provenance polyfill; stable since 1.75 so the
// crate's MSRV holds). Miri runs with `-Zmiri-strict-provenance`.

/// The address of a (possibly tagged) node pointer.
#[inline(always)]
fn addr<T>(p: *mut Node<T>) -> usize {
    p as usize
}

/// `p` moved to address `a`, keeping `p`'s provenance (`<*mut T>::with_addr`).
#[inline(always)]
fn with_addr<T>(p: *mut Node<T>, a: usize) -> *mut Node<T> {
    p.cast::<u8>()
        .wrapping_offset((a as isize).wrapping_sub(p as isize))
        .cast::<Node<T>>()
}

/// The node pointer of head word `h` (flag bits cleared).
#[inline(always)]
fn untagged<T>(h: *mut Node<T>) -> *mut Node<T> {
    with_addr(h, p::head_ptr(addr(h)))
}

/// The head word of a task's waiter stack.
pub(crate) struct WaiterStack<T> {
    head: AtomicPtr<Node<T>>,
    /// What the untimed waiters sleep on (G7); changed and woken once per batch with sleepers (H6).
    sleep: SleepWord,
    _marker: std::marker::PhantomData<Node<T>>,
}

/// Result of a push.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Push {
    /// Linked: a completer or remover will release the node.
    Linked,
    /// The stack is CLOSED: the task is settled and the node was not linked.
    Closed,
}

impl<T> WaiterStack<T> {
    pub(crate) fn new() -> Self {
        WaiterStack {
            head: AtomicPtr::new(ptr::null_mut()),
            sleep: SleepWord::new(),
            _marker: std::marker::PhantomData,
        }
    }

    /// P1..P3: link `node` (lock-free).
    ///
    /// # Safety
    /// `node` stays alive and unmoved until it is released to DONE (waiter) or freed by the
    /// completer (callback node, which the caller hands over by pushing it).
    pub(crate) unsafe fn push(&self, node: *const Node<T>) -> Push {
        let node = node as *mut Node<T>;
        let node_addr = addr(node);
        debug_assert_eq!(node_addr & p::HEAD_FLAGS, 0);
        // step P1
        let mut h = self.head.load(Acquire);
        // SAFETY: the node is ours until the CAS publishes it (I6), and `is_callback` never
        // changes.
        let callback = unsafe { (*node).is_callback };
        loop {
            // step P2
            let w = match p::try_push(addr(h), node_addr, callback) {
                Some(w) => w,
                None => return Push::Closed,
            };
            let w = with_addr(node, w);
            // SAFETY: the node is not yet published; we are its only accessor (I6).
            unsafe { (*node).next.store(untagged(h), Relaxed) };
            // step P3
            match self.head.compare_exchange_weak(h, w, AcqRel, Acquire) {
                Ok(_) => return Push::Linked,
                Err(actual) => h = actual,
            }
        }
    }

    /// D1/D2: register a done-callback. Returns it back when the stack is already closed (every
    /// earlier callback has run), so the caller runs it at once.
    pub(crate) fn push_callback(&self, cb: Callback<T>) -> Result<(), Callback<T>> {
        // step D1: a callback node, pushed like a waiter (P1..P3).
        let node = Box::into_raw(Node::callback(cb));
        // SAFETY: a fresh boxed node, handed to the stack on success (I7).
        match unsafe { self.push(node) } {
            Push::Linked => Ok(()),
            Push::Closed => {
                // SAFETY: not linked, so still exclusively ours.
                let node = unsafe { Box::from_raw(node) };
                // SAFETY: the node was never linked and is owned by this box (I7).
                let payload = node
                    .payload
                    .with_mut(|slot| unsafe { std::mem::replace(&mut *slot, Payload::Empty) });
                match payload {
                    Payload::Callback(cb) => Err(cb),
                    _ => unreachable!("callback node without a callback"),
                }
            }
        }
    }

    /// T5, for a taker whose only other reference is the promise draining this stack: whether
    /// the drain has closed it (after which it reads no outcome), waiting for the close while no
    /// user code can run before it; false while a done-callback is pending or running.
    pub(crate) fn closed_for_take(&self) -> bool {
        // step T5: Acquire, so that a callback's reads of the outcome, which the drain ran
        // before its closing CAS, happen-before the taker moves the outcome out (I13).
        loop {
            match p::take_head_step(addr(self.head.load(Acquire))) {
                p::TakeHead::Take => return true,
                p::TakeHead::Callbacks => return false,
                p::TakeHead::Wait => sync::yield_now(),
            }
        }
    }

    /// F1/F2: the completer's drain loop. Called exactly once, by the unique winner of the state
    /// CAS, after the outcome is published. `run_callback` runs one callback (the caller isolates
    /// its panics). Always finishes — every waiter released, every callback run, the stack CLOSED
    /// — and returns the first panic a waker raised meanwhile, for the caller to resume (I11).
    pub(crate) fn close_and_drain(&self, run_callback: &dyn Fn(Callback<T>)) -> Panics {
        let mut panics = Panics::none();
        // step F1
        let mut h = self.head.load(Acquire);
        // step F2
        loop {
            // Every arm but the wait is one CAS of `h` to the decision's word; what follows a
            // success is whether a batch was detached and whether the drain stops there.
            let (w, stops) = match p::drain_step(addr(h)) {
                DrainStep::WaitForRemover => {
                    sync::yield_now();
                    h = self.head.load(Acquire);
                    continue;
                }
                DrainStep::Detach(w) => (w, false),
                // CLOSED: with DetachClose the batch held no callback (CALLBACKS was clear), so
                // one registered from now on runs at once and overtakes none (I7).
                DrainStep::DetachClose(w) | DrainStep::Close(w) => (w, true),
            };
            match self
                .head
                .compare_exchange(h, with_addr(ptr::null_mut(), w), AcqRel, Acquire)
            {
                Ok(_) => {
                    let batch = untagged(h);
                    if !batch.is_null() {
                        // SAFETY: the batch is detached: only we can reach its nodes (I6, I7).
                        unsafe { self.hand_off_batch(batch, run_callback, &mut panics) };
                    }
                    if stops {
                        return panics;
                    }
                    h = self.head.load(Acquire);
                }
                Err(actual) => h = actual,
            }
        }
    }

    /// Wake every waiter of a detached batch (the sleepers with one H6), then run its callbacks
    /// oldest first. A panicking waker is recorded in `panics` and the walk goes on (I11).
    ///
    /// # Safety
    /// `list` was detached from the head by the caller, so no other thread reaches these nodes
    /// through the stack; waiter nodes stay alive until released (I6), callback nodes are owned
    /// by the stack and now by us (I7).
    unsafe fn hand_off_batch(
        &self,
        mut cur: *mut Node<T>,
        run_callback: &dyn Fn(Callback<T>),
        panics: &mut Panics,
    ) {
        let mut callbacks: *mut Node<T> = ptr::null_mut(); // reversed: oldest first
        let mut sleepers = Sleepers::default();
        while !cur.is_null() {
            // SAFETY: alive until released (waiters) or freed by us (callbacks) (I6, I7).
            let n = unsafe { &*cur };
            // step H1: read before the node is released.
            let next = n.next.load(Relaxed);
            if n.is_callback {
                // step H7: a callback joins the completer's own list (oldest first).
                n.next.store(callbacks, Relaxed);
                callbacks = cur;
            } else {
                // SAFETY: a waiter node of our detached batch (I6).
                let waker = unsafe { release(cur, ptr::null(), &mut sleepers) };
                if let Some(w) = waker {
                    panics.call(|| w.wake());
                }
            }
            cur = next;
        }
        // H6: after every DONE store of the batch (a sleeper that reads the new word sees its
        // node released), before the callbacks (waiters do not wait for user code) (I3).
        if !sleepers.is_empty() {
            self.sleep.wake_all(sleepers);
        }
        while !callbacks.is_null() {
            // SAFETY: callback nodes were boxed by `push_callback` and are exclusively ours (I7).
            let node = unsafe { Box::from_raw(callbacks) };
            callbacks = node.next.load(Relaxed);
            // SAFETY: exclusively ours (I7).
            let payload = node
                .payload
                .with_mut(|slot| unsafe { std::mem::replace(&mut *slot, Payload::Empty) });
            drop(node);
            if let Payload::Callback(cb) = payload {
                run_callback(cb);
            }
        }
    }

    /// A1/A2: after the caller moved its node WAITING → ABANDONED, make sure some remover unlinks
    /// and releases it. Returns once that is arranged; the caller then waits for its node to reach
    /// DONE.
    ///
    /// # Safety
    /// `own` is the caller's abandoned node, alive until DONE.
    pub(crate) unsafe fn remove_abandoned(&self, own: *const Node<T>) {
        // step A1
        let mut h = self.head.load(Acquire);
        // step A2
        loop {
            match p::remove_step(addr(h)) {
                RemoveStep::AwaitHandOff => return,
                RemoveStep::MarkDirty(w) => {
                    match self
                        .head
                        .compare_exchange(h, with_addr(h, w), AcqRel, Acquire)
                    {
                        Ok(_) => {
                            #[cfg(any(loom, feature = "shuttle"))]
                            if addr(h) & p::DIRTY != 0 {
                                sync::coverage::note_dirty_already_set();
                            }
                            return;
                        }
                        Err(actual) => h = actual,
                    }
                }
                RemoveStep::Lock(w) => {
                    match self
                        .head
                        .compare_exchange(h, with_addr(h, w), AcqRel, Acquire)
                    {
                        Ok(_) => break,
                        Err(actual) => h = actual,
                    }
                }
            }
        }
        // We hold LOCKED.
        // SAFETY: LOCKED is held (I6).
        unsafe {
            self.sweep(own);
            self.unlock(own);
        }
    }

    /// S2: leave the remover's section, sweeping again for every DIRTY mark set meanwhile.
    ///
    /// # Safety
    /// The caller holds LOCKED.
    unsafe fn unlock(&self, own: *const Node<T>) {
        // step S2
        let mut h = self.head.load(Acquire);
        loop {
            match p::unlock_step(addr(h)) {
                UnlockStep::SweepAgain(w) => {
                    if self
                        .head
                        .compare_exchange(h, with_addr(h, w), AcqRel, Acquire)
                        .is_ok()
                    {
                        // SAFETY: LOCKED is still held (I6).
                        unsafe { self.sweep(own) };
                    }
                    h = self.head.load(Acquire);
                }
                UnlockStep::Release(w) => {
                    match self
                        .head
                        .compare_exchange(h, with_addr(h, w), AcqRel, Acquire)
                    {
                        Ok(_) => return,
                        Err(actual) => h = actual,
                    }
                }
            }
        }
    }

    /// S1: unlink and release every ABANDONED waiter node.
    ///
    /// # Safety
    /// The caller holds LOCKED: no other thread writes a `next` pointer or releases a linked node
    /// until it clears (the completer waits for it), so every node reachable from the head is alive.
    unsafe fn sweep(&self, own: *const Node<T>) {
        // step S1
        'restart: loop {
            let h = self.head.load(Acquire);
            let mut pred: *const Node<T> = ptr::null();
            let mut cur = untagged(h);
            while !cur.is_null() {
                // SAFETY: reachable under LOCKED, hence alive (I6).
                let n = unsafe { &*cur };
                let next = n.next.load(Relaxed);
                if !n.is_callback && n.state.load(Acquire) == p::NODE_ABANDONED {
                    if pred.is_null() {
                        let cur_h = self.head.load(Acquire);
                        let Some(w) = p::unlink_head(addr(cur_h), addr(cur), addr(next)) else {
                            continue 'restart; // a push landed in front of it
                        };
                        if self
                            .head
                            .compare_exchange(cur_h, with_addr(next, w), AcqRel, Acquire)
                            .is_err()
                        {
                            continue 'restart;
                        }
                    } else {
                        // SAFETY: `pred` is linked and alive under LOCKED (I6).
                        unsafe { (*pred).next.store(next, Relaxed) };
                    }
                    let mut sleepers = Sleepers::default();
                    // SAFETY: unlinked under LOCKED: we are the only thread that can reach it (I6).
                    let waker = unsafe { release(cur, own, &mut sleepers) };
                    // An ABANDONED node keeps its waker for its owner: no foreign code runs
                    // under LOCKED (I11).
                    debug_assert!(waker.is_none(), "a remover was handed a waker");
                    debug_assert!(sleepers.is_empty(), "an untimed waiter abandoned its node");
                } else {
                    pred = cur;
                }
                cur = next;
            }
            return;
        }
    }

    /// G7, untimed: sleep on the stack's word until `node` is released. The word is read before
    /// the node: if H6's increment (which follows the node's DONE store) is not yet visible, the
    /// futex wait sees it changed or is woken by the `wake_all` after it (I3).
    pub(crate) fn sleep_until_released(&self, node: &Node<T>) {
        loop {
            let seen = self.sleep.load();
            if node.is_done() {
                return;
            }
            self.sleep.wait(seen);
        }
    }

    #[cfg(feature = "diagnostics")]
    /// Number of linked nodes, counted under LOCKED (for tests and diagnostics: shows that
    /// abandoned waiters leave no garbage behind). Returns 0 once the stack is closed.
    pub(crate) fn len(&self) -> usize {
        // step L1: take LOCKED as a remover does (A2), waiting instead of marking DIRTY.
        let mut h = self.head.load(Acquire);
        loop {
            match p::remove_step(addr(h)) {
                RemoveStep::AwaitHandOff => return 0,
                RemoveStep::MarkDirty(_) => {
                    sync::yield_now();
                    h = self.head.load(Acquire);
                }
                RemoveStep::Lock(w) => {
                    match self
                        .head
                        .compare_exchange(h, with_addr(h, w), AcqRel, Acquire)
                    {
                        Ok(_) => break,
                        Err(actual) => h = actual,
                    }
                }
            }
        }
        let mut count = 0;
        let mut cur = untagged(self.head.load(Acquire));
        while !cur.is_null() {
            count += 1;
            // SAFETY: reachable under LOCKED, hence alive (I6).
            cur = unsafe { (*cur).next.load(Relaxed) };
        }
        // SAFETY: LOCKED is held; sweeps for whoever marked DIRTY meanwhile.
        unsafe { self.unlock(ptr::null()) };
        count
    }
}

impl<T> WaiterStack<T> {
    /// Free the callbacks of a task dropped without completing, unrun. Their drops are foreign
    /// code: every node is freed whatever they do, and the first panic is returned (I7, I11).
    #[inline(always)]
    pub(crate) fn free_unrun_callbacks(&mut self) -> Panics {
        // A completed task's stack is CLOSED with no node: nothing to free (the common case).
        if untagged(self.head.load(Relaxed)).is_null() {
            return Panics::none();
        }
        self.free_callbacks_slow()
    }

    #[cold]
    #[inline(never)]
    fn free_callbacks_slow(&mut self) -> Panics {
        let mut panics = Panics::none();
        // Only callback nodes can remain (waiters hold a reference to the task, so none is linked
        // when the task drops).
        // step O4: the owner empties the stack it is dropping.
        let mut cur = untagged(self.head.load(Acquire));
        self.head.store(ptr::null_mut(), Relaxed);
        while !cur.is_null() {
            // SAFETY: `&mut self`: no other thread can reach the stack (I6, I7).
            let n = unsafe { &*cur };
            let next = n.next.load(Relaxed);
            debug_assert!(n.is_callback, "waiter node linked on a dropped task");
            if n.is_callback {
                // SAFETY: callback nodes are boxed and owned by the stack (I7); each is freed
                // here exactly once, whatever its callback's drop does (I11).
                let node = unsafe { Box::from_raw(cur) };
                panics.call(move || drop(node));
            }
            cur = next;
        }
        panics
    }
}

impl<T> Drop for WaiterStack<T> {
    #[inline]
    fn drop(&mut self) {
        self.free_unrun_callbacks().resume_from_drop();
    }
}

impl<T> WaiterStack<T> {
    /// Whether the stack is CLOSED: the task is settled and every callback registered so far has
    /// run, so a new callback may run at once without breaking registration order.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        addr(self.head.load(Acquire)) & p::CLOSED != 0
    }

    /// Owner side of G8/G9: give up on a linked node (timeout, dropped future) and return once it
    /// is released, so the caller may free it. Returns `true` when the node was abandoned, `false`
    /// when a completer was already releasing it (the task settled first).
    ///
    /// `park` selects how to wait for the release: park (the node's payload is this thread, which
    /// the releaser unparks) or yield (an async owner, whose waker the releaser only drops).
    ///
    /// # Safety
    /// `node` is the caller's own node, linked by `push`, alive and unmoved until this returns.
    pub(crate) unsafe fn abandon_and_wait(&self, node: &Node<T>, park: bool) -> bool {
        // step G8
        let abandoned = node
            .state
            .compare_exchange(p::NODE_WAITING, p::NODE_ABANDONED, AcqRel, Acquire)
            .is_ok();
        // step G9: arrange its unlinking, then wait for its release.
        if abandoned {
            // SAFETY: our node, abandoned just now (I6).
            unsafe { self.remove_abandoned(node) };
        }
        while !node.is_done() {
            if park {
                sync::park();
            } else {
                sync::yield_now();
            }
        }
        abandoned
    }
}
