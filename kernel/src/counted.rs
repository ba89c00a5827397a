//! A reference to a task: counted in the task's own state word (a promise's task, I13), or by
//! the `Arc` every other task lives in.
//!
//! A promise and its readers share one allocation whose reference count sits in the bits of the
//! state word above the phase (`protocol::REF`), as async-task keeps its count: no separate
//! strong and weak counts, no second allocation, and the last reference's drop is one acquire
//! load when nobody else holds the task. The count is changed only by read-modify-writes (T1,
//! T2), and so is every other write of a counted task's word (`protocol`, "counted task"), so
//! no write erases a concurrent count change.

use crate::failure::{Failure, Outcome};
use crate::foreign::Panics;
use crate::protocol as p;
use crate::sync::Ordering::{Acquire, Relaxed, Release};
use crate::sync::{fence, AtomicUsize};
use crate::task::{FutureTask, Job, NoJob, Published};
use crate::State;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

/// One reference to a task. Whether it counts in the task's word or in an `Arc` is the task's
/// `COUNTED` flag, fixed when the task is made (only a `NoJob` task made by
/// [`counted_pair`](TaskRef::counted_pair) is counted).
pub(crate) struct TaskRef<T, J: ?Sized + Job<T> = dyn Job<T>> {
    ptr: NonNull<FutureTask<T, J>>,
}

// SAFETY: a `TaskRef` is an `Arc<FutureTask<T>>` or behaves as one (a shared reference to a task
// that the last reference frees, on whichever thread drops it), so it is `Send` and `Sync` under
// the `Arc`'s conditions.
unsafe impl<T, J: ?Sized + Job<T>> Send for TaskRef<T, J> where FutureTask<T, J>: Send + Sync {}
// SAFETY: as above.
unsafe impl<T, J: ?Sized + Job<T>> Sync for TaskRef<T, J> where FutureTask<T, J>: Send + Sync {}

impl<T> TaskRef<T, NoJob> {
    /// A new counted task (no closure) and its first two references: its promise (which keeps
    /// the closure's type, so it is one word) and its first reader.
    pub(crate) fn counted_pair() -> (Self, TaskRef<T>) {
        // Written in place, not built on the stack and copied into the box: the copy's 16-byte
        // loads span two of the 8-byte stores that built the task, which the CPU cannot forward,
        // so they wait for those stores to reach the cache.
        let slot = Box::into_raw(Box::new(
            std::mem::MaybeUninit::<FutureTask<T, NoJob>>::uninit(),
        ));
        // SAFETY: `slot` is a fresh, unaliased allocation of `MaybeUninit<FutureTask<T, NoJob>>`,
        // which has the task's layout: writing the task initializes it, and the box it becomes
        // is freed as a `Box<FutureTask<T, NoJob>>` (T3, I13) with that same layout.
        let ptr = unsafe {
            (*slot).write(FutureTask::counted(2));
            NonNull::new_unchecked(slot.cast::<FutureTask<T, NoJob>>())
        };
        (TaskRef { ptr }, TaskRef { ptr })
    }

    /// The promise's completion (W1, W2), then its reference released (W3 after W2, or in W1's
    /// own CAS, T3 when it was the last). A cancel that won hands the outcome back with the state.
    #[inline]
    pub(crate) fn complete(
        self,
        v: Result<T, Failure>,
    ) -> Result<Panics, (Result<T, Failure>, State)> {
        // SAFETY: a counted task, alive while `self` holds the promise's reference (I13).
        match unsafe { FutureTask::publish(self.ptr.as_ptr(), v) } {
            // The reference goes with `self` (T2).
            Err(v) => Err((v, self.state())),
            Ok(Published::Drained(panics)) => {
                self.release_after_drain();
                Ok(panics)
            }
            Ok(Published::Released { last }) => {
                let ptr = self.ptr;
                // W1's CAS gave the reference up: no T2.
                std::mem::forget(self);
                if last {
                    // step T3: SAFETY: W1's CAS released the task's last reference (I13).
                    unsafe { free_counted(ptr.as_ptr()) };
                }
                Ok(Panics::none())
            }
        }
    }

    /// W3: the promise's reference, kept by W1 for the drain (DRAIN_HELD), released after it.
    /// T2, with `DRAIN_HELD` cleared in the same read-modify-write, so a taker (T4) never
    /// mistakes a later reference for the draining promise.
    fn release_after_drain(self) {
        let ptr = self.ptr;
        std::mem::forget(self);
        // SAFETY: the promise's reference keeps the task alive until the release below.
        let word = unsafe { ptr.as_ref() }.state_atomic();
        // step W3: as T2 (the last reference needs no read-modify-write).
        if p::refs(word.load(Acquire)) != 1 {
            if p::refs(word.fetch_sub(p::DRAIN_REF, Release)) != 1 {
                return;
            }
            fence(Acquire);
        }
        // step T3: SAFETY: this was the task's last reference (I13).
        unsafe { free_counted(ptr.as_ptr()) };
    }

    /// The same reference, erased over the closure.
    pub(crate) fn erase(self) -> TaskRef<T> {
        let me = std::mem::ManuallyDrop::new(self);
        TaskRef { ptr: me.ptr }
    }
}

impl<T> TaskRef<T> {
    /// T4: the outcome by value for the reference given up, or the reference back while another
    /// one may still read the outcome (or the task is pending).
    pub(crate) fn try_into_outcome(self) -> Result<Outcome<T>, Self> {
        // step T4: the Acquire load orders the outcome's write (W1) before its move, and every
        // other reference's last use of the task (their Release decrements) before the free.
        let s = self.word().load(Acquire);
        if !p::is_counted(s) {
            return self.try_into_outcome_arc();
        }
        match p::take_step(s) {
            p::Take::Pending | p::Take::Shared => Err(self),
            // The reference goes with `self` (T2).
            p::Take::NoOutcome => Ok(Outcome::Cancelled),
            p::Take::Last(moved) => {
                // SAFETY: published, and the last reference: nobody else reads it (I13).
                let out = unsafe { self.move_outcome_out() };
                // Nobody else can reach the task: a plain store; MOVED keeps the free from
                // dropping the outcome again.
                self.word().store(moved, Relaxed);
                let ptr = self.ptr;
                std::mem::forget(self);
                // step T3: SAFETY: the last reference (I13).
                unsafe { free_counted(ptr.as_ptr().cast::<FutureTask<T, NoJob>>()) };
                Ok(Outcome::from_result(out))
            }
            p::Take::AfterDrain(less) => {
                // T5: the other reference is the promise's; once its drain has closed the
                // stack, it reads no outcome any more.
                if !self.stack().closed_for_take() {
                    return Err(self);
                }
                // SAFETY: published, and no other reference reads it from here on (I13).
                let out = unsafe { self.move_outcome_out() };
                let ptr = self.ptr;
                std::mem::forget(self);
                // SAFETY: our reference keeps the task alive until the release below.
                let word = unsafe { ptr.as_ref() }.state_atomic();
                // step T4: one reference less and MOVED, in one read-modify-write: Release, so
                // the move happens-before the free by the promise if it goes last.
                if p::refs(word.fetch_sub(less, Release)) == 1 {
                    fence(Acquire);
                    // step T3: SAFETY: the last reference (I13); MOVED: the drop leaves the
                    // outcome alone.
                    unsafe { free_counted(ptr.as_ptr().cast::<FutureTask<T, NoJob>>()) };
                }
                Ok(Outcome::from_result(out))
            }
        }
    }

    /// O2 through the task's `Arc`, when this is its only reference.
    fn try_into_outcome_arc(self) -> Result<Outcome<T>, Self> {
        let me = std::mem::ManuallyDrop::new(self);
        // SAFETY: the pointer came from `Arc::into_raw`; `me` gives its reference to the `Arc`.
        let mut arc = unsafe { Arc::from_raw(me.ptr.as_ptr()) };
        let Some(task) = Arc::get_mut(&mut arc) else {
            return Err(TaskRef::from_arc(arc));
        };
        match task.take_outcome() {
            Some(out) => Ok(out),
            None => Err(TaskRef::from_arc(arc)),
        }
    }

    /// The `Arc`'s reference, moved in.
    pub(crate) fn from_arc(task: Arc<FutureTask<T>>) -> Self {
        let raw = Arc::into_raw(task).cast_mut();
        // SAFETY: `Arc::into_raw` never returns null.
        TaskRef {
            ptr: unsafe { NonNull::new_unchecked(raw) },
        }
    }
}

impl<T, J: ?Sized + Job<T>> TaskRef<T, J> {
    /// The task's address (identity), erased.
    pub(crate) fn as_ptr(&self) -> *const () {
        self.ptr.as_ptr().cast_const().cast::<()>()
    }

    /// The references that keep the task alive: the count in its word, or the `Arc`'s.
    #[cfg(feature = "diagnostics")]
    pub(crate) fn count(&self) -> usize {
        let s = self.word().load(Relaxed);
        if p::is_counted(s) {
            p::refs(s)
        } else {
            // SAFETY: the pointer came from `Arc::into_raw` (not counted) and this reference
            // keeps it alive; `ManuallyDrop` gives the borrowed count back untouched.
            let arc = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(self.ptr.as_ptr()) });
            Arc::strong_count(&arc)
        }
    }

    fn word(&self) -> &AtomicUsize {
        self.state_atomic()
    }
}

impl<T, J: ?Sized + Job<T>> Deref for TaskRef<T, J> {
    type Target = FutureTask<T, J>;

    #[inline]
    fn deref(&self) -> &FutureTask<T, J> {
        // SAFETY: this reference keeps the task alive (I13 for a counted task, the `Arc`'s count
        // otherwise).
        unsafe { self.ptr.as_ref() }
    }
}

impl<T, J: ?Sized + Job<T>> Clone for TaskRef<T, J> {
    #[inline]
    fn clone(&self) -> Self {
        // The flag is fixed when the task is made, before any reference is shared.
        if p::is_counted(self.word().load(Relaxed)) {
            // step T1: Relaxed, as `Arc::clone`: the new reference is made from one we hold, so
            // the task cannot be freed meanwhile, and nothing is published by cloning.
            let old = self.word().fetch_add(p::REF, Relaxed);
            if p::refs(old) >= p::MAX_REFS {
                self.word().fetch_sub(p::REF, Relaxed);
                panic!("futuretask: too many handles to one task");
            }
        } else {
            // SAFETY: the pointer came from `Arc::into_raw` and this reference keeps it alive.
            unsafe { Arc::increment_strong_count(self.ptr.as_ptr()) };
        }
        TaskRef { ptr: self.ptr }
    }
}

impl<T, J: ?Sized + Job<T>> Drop for TaskRef<T, J> {
    #[inline]
    fn drop(&mut self) {
        // step T2: the last reference needs no read-modify-write (nobody else can reach the
        // task to change its count); the acquire load or fence orders every other reference's
        // use of the task (their Release decrements) before the free (I13). The same load says
        // whether the task is counted at all (the flag is fixed when the task is made).
        let last = self.word().load(Acquire);
        if !p::is_counted(last) {
            // SAFETY: the pointer came from `Arc::into_raw`; this reference is given back once.
            unsafe { release_arc(self.ptr) };
            return;
        }
        if p::refs(last) != 1 {
            if p::refs(self.word().fetch_sub(p::REF, Release)) != 1 {
                return;
            }
            fence(Acquire);
        }
        // step T3
        // SAFETY: this was the task's last reference (I13); a counted task is made by
        // `counted_pair` as a boxed `FutureTask<T, NoJob>`, so it is freed as one, which needs no
        // job vtable.
        unsafe { free_counted(self.ptr.as_ptr().cast::<FutureTask<T, NoJob>>()) };
    }
}

/// Give back one `Arc` reference. Out of line, so that a counted reference's drop (the
/// promise's readers) stays small enough to inline: the `Arc`'s drop computes the erased task's
/// layout from its vtable.
///
/// # Safety
/// `task` came from `Arc::into_raw`, and the caller gives its reference back once.
#[inline(never)]
unsafe fn release_arc<T, J: ?Sized + Job<T>>(task: NonNull<FutureTask<T, J>>) {
    // SAFETY: the caller's contract.
    drop(unsafe { Arc::from_raw(task.as_ptr()) });
}

/// Step T3 of a counted task.
///
/// # Safety
/// `task` is a counted task (made by `counted_pair`) whose last reference the caller released.
#[inline]
unsafe fn free_counted<T>(task: *mut FutureTask<T, NoJob>) {
    // SAFETY: the caller's contract: the task is alive and ours alone (I13).
    #[cfg(loom)]
    unsafe { &*task }.outcome_last_look();
    // SAFETY: the caller's contract: made as this `Box`, and nobody else refers to it (I13).
    drop(unsafe { Box::from_raw(task) });
}
