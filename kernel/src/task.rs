//! [`FutureTask`]: the state word, the outcome cell, run / complete / cancel / get.
//! Step labels (R1, K1, C1, G1, …) refer to `proofs/ALGORITHM.md`.

use crate::current;
use crate::failure::{AlreadyCompleted, Error, Failure, Outcome, Snapshot, State};
use crate::foreign::{self, Panics};
use crate::handle::TaskHandle;
use crate::protocol as p;
use crate::sync::{self, fence, AtomicPtr, AtomicUsize, Deadline, Ordering::*, Thread, UnsafeCell};
use crate::waiters::{Callback, Node, Payload, Push, WaiterStack};
use std::fmt;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod sealed {
    /// The supertrait that closes [`Job`](super::Job): implemented only inside the crate, so a
    /// task holds a closure ([`Closure`](super::Closure)) or nothing ([`NoJob`](super::NoJob)).
    ///
    /// ```
    /// use futuretask::{Closure, FutureTask, Job, NoJob};
    ///
    /// fn holds_a_job<T, J: Job<T>>(_: &FutureTask<T, J>) {}
    /// let with_closure: FutureTask<u8, Closure<_>> = FutureTask::new(|| 1);
    /// holds_a_job(&with_closure);
    /// holds_a_job(&FutureTask::<u8, NoJob>::pending());
    /// ```
    pub trait Sealed {}
}

/// The work a [`FutureTask`] runs: a closure ([`Closure`]) or nothing ([`NoJob`], a promise).
///
/// `FutureTask<T>` is `FutureTask<T, dyn Job<T>>`: an `Arc<FutureTask<T, Closure<F>>>` coerces to
/// `Arc<FutureTask<T>>`, so the closure lives inside the task's one allocation.
///
/// ```
/// use futuretask::FutureTask;
/// use std::sync::Arc;
///
/// let typed = Arc::new(FutureTask::new(|| 6 * 7));
/// // `Closure<F>: Job<i32>`, so the task coerces to the type-erased `FutureTask<i32>`.
/// let erased: Arc<FutureTask<i32>> = typed;
/// assert!(erased.run());
/// assert_eq!(*erased.get().unwrap(), 42);
/// ```
pub trait Job<T>: sealed::Sealed + Send + Sync {
    /// Move the closure out and call it.
    ///
    /// # Safety
    /// Called at most once, by the unique winner of the STARTED claim (I4).
    #[doc(hidden)]
    unsafe fn call(&self) -> T;
    /// Drop the closure in place.
    ///
    /// # Safety
    /// Called at most once, only if `call` never was: the task is being dropped with STARTED
    /// unset, or the closure was reclaimed (`reclaim.rs`) and is dropped instead of run.
    #[doc(hidden)]
    unsafe fn drop_unclaimed(&self);
    /// Whether there is a closure to run.
    #[doc(hidden)]
    fn runnable(&self) -> bool;
}

/// A closure stored inline in a [`FutureTask`].
///
/// ```
/// use futuretask::{Closure, FutureTask};
///
/// let task: FutureTask<&str, Closure<_>> = FutureTask::new(|| "ran");
/// assert!(task.run());
/// assert_eq!(*task.get().unwrap(), "ran");
/// ```
pub struct Closure<F>(UnsafeCell<ManuallyDrop<F>>);

// SAFETY: the closure is only touched by the unique STARTED claimer or by `Drop` (I4), so sharing
// the task never shares the closure; it only has to be sendable to the runner's thread.
unsafe impl<F: Send> Sync for Closure<F> {}

impl<F> sealed::Sealed for Closure<F> {}

impl<T, F: FnOnce() -> T + Send> Job<T> for Closure<F> {
    unsafe fn call(&self) -> T {
        // SAFETY: unique STARTED claimer, at most once (I4): nobody else reads the closure.
        let f = self.0.with_mut(|f| unsafe { ManuallyDrop::take(&mut *f) });
        f()
    }
    unsafe fn drop_unclaimed(&self) {
        // SAFETY: never claimed and the task is being dropped: exclusive (I4).
        self.0.with_mut(|f| unsafe { ManuallyDrop::drop(&mut *f) })
    }
    fn runnable(&self) -> bool {
        true
    }
}

/// No closure: the task is completed by [`FutureTask::set`] / [`FutureTask::fail`] (a promise).
///
/// ```
/// use futuretask::{FutureTask, NoJob};
///
/// let task: FutureTask<u8, NoJob> = FutureTask::pending();
/// assert!(!task.run()); // nothing to run
/// task.set(3).unwrap();
/// assert_eq!(*task.get().unwrap(), 3);
/// ```
pub struct NoJob;

impl sealed::Sealed for NoJob {}

impl<T> Job<T> for NoJob {
    unsafe fn call(&self) -> T {
        unreachable!("a promise has no closure to run")
    }
    unsafe fn drop_unclaimed(&self) {}
    fn runnable(&self) -> bool {
        false
    }
}

/// A computation that runs at most once and whose outcome any number of threads (and async
/// tasks) can wait for. See the [crate docs](crate) for the state diagram and the contract table.
///
/// ```
/// use futuretask::FutureTask;
/// use std::{sync::Arc, thread};
///
/// let task = Arc::new(FutureTask::new(|| "hello".len()));
/// let waiters: Vec<_> = (0..3)
///     .map(|_| {
///         let reader = task.handle(); // can wait, cannot run or complete the task
///         thread::spawn(move || *reader.get().unwrap())
///     })
///     .collect();
/// assert!(task.run());
/// assert!(waiters.into_iter().all(|w| w.join().unwrap() == 5));
/// ```
pub struct FutureTask<T, J: ?Sized + Job<T> = dyn Job<T>> {
    /// The state word (`protocol`): NEW → COMPLETING → NORMAL|EXCEPTIONAL, NEW → CANCELLED,
    /// NEW → INTERRUPTING → INTERRUPTED, plus the STARTED flag.
    state: AtomicUsize,
    /// Waiters and done-callbacks.
    head: WaiterStack<T>,
    /// The running thread's handle (on `run`'s stack), published for `cancel_and_interrupt`
    /// (I5).
    runner: AtomicPtr<Thread>,
    /// Written once by the COMPLETING winner, read after an Acquire load of NORMAL/EXCEPTIONAL (I2).
    outcome: UnsafeCell<MaybeUninit<Result<T, Failure>>>,
    job: J,
}

// SAFETY: the outcome is written once by the COMPLETING winner and only read (shared) after it is
// published (I1, I2): readers on any thread get `&T`, so `T: Sync`; the value is produced on the
// runner's thread and dropped wherever the last owner is, so `T: Send`. Waiter payloads are handed
// between threads only under the node protocol (I6); the closure is `Send` (`Job: Send + Sync`).
unsafe impl<T: Send + Sync, J: ?Sized + Job<T>> Sync for FutureTask<T, J> {}
// SAFETY: as above; moving the task moves a `T` (if present) and the closure.
unsafe impl<T: Send, J: ?Sized + Job<T>> Send for FutureTask<T, J> {}

impl<T, F: FnOnce() -> T + Send> FutureTask<T, Closure<F>> {
    /// A task that will run `f` when [`run`](FutureTask::run) is called.
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let task = FutureTask::new(|| String::from("done"));
    /// assert!(task.try_get().is_none()); // nothing runs until `run`
    /// assert!(task.run());
    /// assert_eq!(task.get().unwrap(), "done");
    /// ```
    pub fn new(f: F) -> Self {
        Self::with_job(Closure(UnsafeCell::new(ManuallyDrop::new(f))))
    }
}

impl<T, F: FnOnce() -> T + Send> FutureTask<T, Closure<F>> {
    /// The closure of a task nobody has run, taken back by its only owner (an executor that
    /// refuses a submission hands it to the caller this way). `None` if `run` has claimed it.
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let f = FutureTask::new(|| 7).into_closure().unwrap();
    /// assert_eq!(f(), 7);
    /// let ran = FutureTask::new(|| 7);
    /// ran.run();
    /// assert!(ran.into_closure().is_none());
    /// ```
    pub fn into_closure(self) -> Option<F> {
        // step O1: take the closure back; STARTED tells `Drop` it is gone (owner-only).
        let s = self.state.load(Acquire);
        // A counted task is never owned by value: its word takes no plain store (I13).
        debug_assert!(!p::is_counted(s));
        let taken = p::owner_take_closure(s)?;
        let f = self.job.0.with_mut(|f| {
            // SAFETY: we own the task and nobody claimed the closure, so it is in place and
            // nobody else can claim it (I4); STARTED is set below so `Drop` does not drop it
            // again.
            unsafe { ManuallyDrop::take(&mut *f) }
        });
        self.state.store(taken, Relaxed);
        Some(f)
    }
}

impl<T> FutureTask<T, NoJob> {
    /// A task with no closure, completed by [`set`](FutureTask::set) or
    /// [`fail`](FutureTask::fail) (Python's `Future()`, Spring's `DeferredResult`). For a writer
    /// whose drop fails the task instead of leaving waiters hanging, use [`crate::promise`].
    ///
    /// ```
    /// use futuretask::{FutureTask, State};
    ///
    /// let task = FutureTask::<u32, _>::pending();
    /// assert_eq!(task.state(), State::Pending);
    /// task.set(5).unwrap();
    /// assert_eq!(*task.get().unwrap(), 5);
    /// assert!(task.set(6).is_err()); // completed once
    /// ```
    pub fn pending() -> Self {
        Self::with_job(NoJob)
    }

    /// A promise's task: no closure, `refs` references counted in its state word (I13).
    pub(crate) fn counted(refs: usize) -> Self {
        Self::with_state(NoJob, p::counted_new(refs))
    }
}

impl<T, J: Job<T>> FutureTask<T, J> {
    fn with_job(job: J) -> Self {
        Self::with_state(job, p::NEW)
    }

    fn with_state(job: J, state: usize) -> Self {
        FutureTask {
            state: AtomicUsize::new(state),
            head: WaiterStack::new(),
            runner: AtomicPtr::new(ptr::null_mut()),
            outcome: UnsafeCell::new(MaybeUninit::uninit()),
            job,
        }
    }

    /// A reader of this task: it can wait for, query and cancel the task, never run or complete
    /// it. One `Arc` clone, type-erased over the closure.
    ///
    /// ```
    /// use futuretask::{FutureTask, TaskHandle};
    /// use std::{sync::Arc, thread};
    ///
    /// let task = Arc::new(FutureTask::new(|| 6 * 7));
    /// let reader: TaskHandle<i32> = task.handle();
    /// let t = thread::spawn(move || *reader.get().unwrap());
    /// assert!(task.run()); // the owner runs it
    /// assert_eq!(t.join().unwrap(), 42);
    /// ```
    pub fn handle(self: &Arc<Self>) -> TaskHandle<T>
    where
        J: 'static,
    {
        TaskHandle::from(Arc::clone(self) as Arc<FutureTask<T>>)
    }
}

impl<T> FutureTask<T> {
    /// A reader of this type-erased task (as for a typed one, one `Arc` clone).
    ///
    /// ```
    /// use futuretask::FutureTask;
    /// use std::sync::Arc;
    ///
    /// let task: Arc<FutureTask<u8>> = Arc::new(FutureTask::new(|| 1));
    /// let reader = task.handle();
    /// task.run();
    /// assert_eq!(*reader.get().unwrap(), 1);
    /// ```
    pub fn handle(self: &Arc<Self>) -> TaskHandle<T> {
        TaskHandle::from(Arc::clone(self))
    }
}

impl<T, J: Job<T>> FutureTask<T, J> {
    /// The owned outcome, for the last holder; `None` while the task is pending.
    ///
    /// ```
    /// use futuretask::{FutureTask, Outcome};
    ///
    /// assert!(FutureTask::new(|| 1).into_outcome().is_none()); // still pending
    /// let task = FutureTask::new(|| vec![1, 2]);
    /// task.run();
    /// let Some(Outcome::Success(v)) = task.into_outcome() else { unreachable!() };
    /// assert_eq!(v, [1, 2]); // moved out, not cloned
    /// ```
    pub fn into_outcome(mut self) -> Option<Outcome<T>> {
        self.take_outcome()
    }
}

impl<T, J: ?Sized + Job<T>> FutureTask<T, J> {
    /// O2, for the task's only holder (by value, or the last `Arc`): the outcome moved out,
    /// `None` while pending.
    pub(crate) fn take_outcome(&mut self) -> Option<Outcome<T>> {
        // step O2: move the outcome out; MOVED tells `Drop` it is gone (owner-only: no other
        // handle exists, so nobody observes the word).
        let s = self.state.load(Acquire);
        // A counted task is never owned: its word takes no plain store but T4's (I13).
        debug_assert!(!p::is_counted(s));
        match p::owner_take_outcome(s) {
            Some(moved) => {
                // SAFETY: settled and we own the task: the outcome is initialised and ours to
                // move out; MOVED, stored next, keeps `Drop` from dropping it again (I2).
                let r = unsafe { self.move_outcome_out() };
                self.state.store(moved, Relaxed);
                Some(Outcome::from_result(r))
            }
            None if p::is_cancelled(s) => Some(Outcome::Cancelled),
            None => None,
        }
    }

    /// Under loom only: the free of a counted task writes its outcome cell once more before the
    /// memory goes away, so a read of the outcome (a taker's move, a reader's `get`) that is not
    /// ordered before the free shows as a concurrent access (I13); the real free is a
    /// deallocation, which loom cannot see.
    #[cfg(loom)]
    pub(crate) fn outcome_last_look(&self) {
        self.outcome.with_mut(|_| ());
    }

    /// The published outcome, moved out of its cell.
    ///
    /// # Safety
    /// The outcome is published (NORMAL or EXCEPTIONAL read with Acquire), nobody else reads it
    /// from now on, and MOVED is set in the word before the task's drop reads it (I2, I13).
    pub(crate) unsafe fn move_outcome_out(&self) -> Result<T, Failure> {
        // SAFETY: the caller's contract.
        self.outcome.with(|o| unsafe { (*o).assume_init_read() })
    }
}

impl<T, J: ?Sized + Job<T>> FutureTask<T, J> {
    // ---- run / complete / cancel ---------------------------------------------------------------

    /// Run the closure, if this call is the first to claim it and the task is not cancelled or
    /// completed. Returns whether this call ran the closure. A panic in the closure is caught and
    /// becomes the task's failure. (Java's `run`.)
    ///
    /// ```
    /// use futuretask::{Error, FutureTask};
    ///
    /// let task = FutureTask::new(|| 1);
    /// assert!(task.run());
    /// assert!(!task.run()); // the closure runs at most once
    /// let boom = FutureTask::new(|| -> u8 { panic!("boom") });
    /// assert!(boom.run()); // the panic is caught...
    /// let Err(Error::Failed(f)) = boom.get() else { unreachable!() };
    /// assert_eq!(f.panic_message(), Some("boom")); // ...and becomes the failure
    /// ```
    pub fn run(&self) -> bool {
        if !self.job.runnable() {
            return false;
        }
        // step R1: claim the closure (I4).
        let mut s = self.state.load(Acquire);
        // step R2
        loop {
            let Some(n) = p::try_start(s) else {
                return false;
            };
            match self.state.compare_exchange_weak(s, n, AcqRel, Acquire) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        // step R3: publish the runner for cancel_and_interrupt; the SeqCst fences pair with C2 so that either
        // the canceller sees us (and unparks) or the closure sees INTERRUPTING (I5).
        // The handle is borrowed from a thread-local that lives as long as this thread (no
        // clone per run: two atomic RMWs saved); owned only where that thread-local is gone.
        let owned: Thread;
        let me: *const Thread = match sync::current_ref() {
            Some(me) => me,
            None => {
                owned = sync::current();
                &owned
            }
        };
        self.runner.store(me as *mut Thread, Release);
        fence(SeqCst);
        // step R4
        let result = {
            let _scope = current::Scope::enter(&self.state);
            // SAFETY: we won the STARTED claim above (I4).
            catch_unwind(AssertUnwindSafe(|| unsafe { self.job.call() }))
        };
        // step R5: a lost completion (a cancel won) discards the late result — after R7, so that a
        // panicking `Drop` of the value cannot unwind past the wait below; a waker's panic from
        // the drain is resumed last, too (I11).
        let (panics, lost) = match self.complete(result.map_err(Failure::from_panic)) {
            Ok(panics) => (panics, None),
            Err(lost) => (Panics::none(), Some(lost)),
        };
        let won = lost.is_none();
        // step R6: take the handle back. After a lost completion (a cancel won) whoever swaps it out
        // first owns it: if we get it back, no canceller unparks this thread for this run; if a
        // canceller took it (C3), its unpark lands while this thread is still in `run`. After a
        // won completion no cancel can pass C1, so nobody else touches it: a plain store.
        if won {
            self.runner.store(ptr::null_mut(), Release);
        } else {
            self.runner.swap(ptr::null_mut(), AcqRel);
        }
        // step R7: a canceller that took the handle dereferences it until C5; wait it out (I5).
        if !won {
            while p::phase(self.state.load(Acquire)) == p::INTERRUPTING {
                sync::yield_now();
            }
        }
        // step R8: the park permit is left alone. The canceller's unpark may still be pending (if the
        // closure did not park after it), but a permit is one bit: it cannot be told apart from
        // an unpark another thread sent meanwhile, and consuming it could lose that one. A
        // leftover permit is one spurious wakeup of this thread's next park, which `park`'s
        // contract allows; a consumed foreign one would be a lost wakeup (Java's FutureTask
        // leaves the cancellation interrupt set for the same reason). The interrupt *signal*
        // never outlives the run (I5).
        drop(lost);
        panics.resume();
        true
    }

    /// K1..K4: try to complete with `v`; hands it back if another completion or a cancel won.
    /// On success the protocol has finished; the first panic a waker raised during the drain is
    /// returned for the caller to resume (I11).
    fn complete(&self, v: Result<T, Failure>) -> Result<Panics, Result<T, Failure>> {
        // step K1
        let mut s = self.state.load(Acquire);
        let n = loop {
            let Some(n) = p::try_begin_complete(s) else {
                return Err(v);
            };
            match self.state.compare_exchange_weak(s, n, AcqRel, Acquire) {
                Ok(_) => break n,
                Err(actual) => s = actual,
            }
        };
        let ok = v.is_ok();
        // step K2: SAFETY: only the unique COMPLETING winner writes the outcome, before
        // publishing (I1, I2).
        self.outcome.with_mut(|o| unsafe { (*o).write(v) });
        // step K3: publication point (I2).
        self.state.store(p::finish_complete(n, ok), Release);
        // step K4
        Ok(self.finish_completion())
    }

    /// W1, W2: a counted task's completion by its promise, the task's only writer: write the
    /// outcome, then publish it by one CAS out of NEW (a counted task never passes through
    /// COMPLETING, whose plain store would erase a concurrent count change); hands it back if a
    /// cancel won. When nobody announced a push (P0) the CAS also gives up the promise's
    /// reference ([`Published::Released`]): the caller must not touch the task again.
    ///
    /// The task comes as a pointer, not `&self`: once that CAS has given the reference up,
    /// another thread may free the task before this function returns, and a reference argument
    /// would claim the whole task (its plain bytes too) until then. Only the state word and the
    /// outcome cell are borrowed, and both are interior-mutable.
    ///
    /// # Safety
    /// `task` is a live counted task, and the caller holds its promise's reference (I13).
    #[inline]
    pub(crate) unsafe fn publish(
        task: *const Self,
        v: Result<T, Failure>,
    ) -> Result<Published, Result<T, Failure>> {
        // SAFETY: the promise's reference keeps the task alive up to W1's CAS (I13).
        let (state, outcome) = unsafe { (&(*task).state, &(*task).outcome) };
        let ok = v.is_ok();
        // step W1: SAFETY: the promise is the only writer of a counted task's outcome, and
        // nobody reads it before the CAS below publishes it (I2, I13).
        outcome.with_mut(|o| unsafe { (*o).write(v) });
        let mut s = state.load(Acquire);
        loop {
            let Some(n) = p::try_publish(s, ok) else {
                // SAFETY: never published, so still the promise's alone: take it back.
                return Err(outcome.with_mut(|o| unsafe { (*o).assume_init_read() }));
            };
            match state.compare_exchange_weak(s, n, AcqRel, Acquire) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        if p::publish_releases(s) {
            return Ok(Published::Released {
                last: p::refs(s) == 1,
            });
        }
        // step W2: SAFETY: the CAS kept the promise's reference (it found ANNOUNCED), so the
        // task stays alive through the drain (I13).
        Ok(Published::Drained(unsafe { &*task }.finish_completion()))
    }

    /// P0: before pushing a node onto a counted task's stack, announce it in the state word, so
    /// that the completion (which may otherwise skip the drain) sees it. Returns false when the
    /// task settled unannounced: nobody will drain the stack, so the caller must not push (the
    /// outcome is there to read; nobody ever pushed, so no earlier callback is pending).
    /// `seen`: any state word of this task the caller read; `COUNTED` is fixed at creation, so
    /// a task that is not counted pays no atomic operation here.
    #[inline]
    pub(crate) fn announce(&self, seen: usize) -> bool {
        if !p::is_counted(seen) {
            return true;
        }
        // step P0
        let mut s = self.state.load(Acquire);
        loop {
            match p::announce_step(s) {
                p::Announce::Push => return true,
                p::Announce::Settled => return false,
                p::Announce::Set(n) => {
                    match self.state.compare_exchange_weak(s, n, AcqRel, Acquire) {
                        Ok(_) => return true,
                        Err(actual) => s = actual,
                    }
                }
            }
        }
    }

    /// Complete with a value (promise-style; Python's `set_result`). A second completion, or one
    /// after a cancel, is an error that hands the value back.
    ///
    /// ```
    /// use futuretask::{FutureTask, State};
    ///
    /// let task = FutureTask::pending();
    /// assert!(task.set("first").is_ok());
    /// let lost = task.set("second").unwrap_err();
    /// assert_eq!((lost.value, lost.state), ("second", State::Success)); // handed back
    /// assert_eq!(*task.get().unwrap(), "first");
    /// ```
    pub fn set(&self, value: T) -> Result<(), AlreadyCompleted<T>> {
        self.complete(Ok(value))
            .map(Panics::resume)
            .map_err(|v| AlreadyCompleted {
                value: match v {
                    Ok(v) => v,
                    Err(_) => unreachable!("set passes a value"),
                },
                state: self.state(),
            })
    }

    /// Complete exceptionally with an error (Python's `set_exception`).
    ///
    /// ```
    /// use futuretask::{Error, FutureTask};
    ///
    /// let task = FutureTask::<u8, _>::pending();
    /// task.fail("disk full").unwrap();
    /// let Err(Error::Failed(f)) = task.get() else { unreachable!() };
    /// assert_eq!(f.error().unwrap().to_string(), "disk full");
    /// assert!(task.fail("again").is_err()); // completed once
    /// ```
    pub fn fail(
        &self,
        err: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Result<(), AlreadyCompleted<Failure>> {
        self.fail_with(Failure::from_error(err))
    }

    pub(crate) fn fail_with(&self, failure: Failure) -> Result<(), AlreadyCompleted<Failure>> {
        self.complete(Err(failure))
            .map(Panics::resume)
            .map_err(|v| AlreadyCompleted {
                value: match v {
                    Err(f) => f,
                    Ok(_) => unreachable!("fail passes a failure"),
                },
                state: self.state(),
            })
    }

    /// Cancel the task if it has not completed (Java's `cancel(false)`): succeeds while the task
    /// is pending *or running*; a late result is discarded, and a running closure sees
    /// [`current::is_cancelled`] (it is not unparked: see
    /// [`cancel_and_interrupt`](FutureTask::cancel_and_interrupt)). Returns whether this call
    /// cancelled the task.
    ///
    /// ```
    /// use futuretask::{Error, FutureTask};
    ///
    /// let task = FutureTask::new(|| 1);
    /// assert!(task.cancel());
    /// assert!(!task.cancel()); // only the first cancel wins
    /// assert!(!task.run()); // a cancelled task never runs its closure
    /// assert!(matches!(task.get(), Err(Error::Cancelled)));
    /// let done = FutureTask::new(|| 2);
    /// done.run();
    /// assert!(!done.cancel()); // too late: completed tasks stay completed
    /// ```
    pub fn cancel(&self) -> bool {
        self.cancel_with(false)
    }

    /// Cancel the task and interrupt its run (Java's `cancel(true)`): as
    /// [`cancel`](FutureTask::cancel), and a running closure also observes
    /// [`current::is_interrupted`], its thread is unparked, and a wait it blocks in returns
    /// [`Error::Interrupted`]. Returns whether this call cancelled the task.
    ///
    /// ```
    /// use futuretask::{current, FutureTask};
    /// use std::{sync::mpsc, thread};
    ///
    /// let (started, on_start) = mpsc::channel();
    /// let task = FutureTask::new(move || {
    ///     started.send(()).unwrap();
    ///     while !current::is_interrupted() {
    ///         thread::park(); // the interrupt unparks this thread
    ///     }
    /// });
    /// thread::scope(|s| {
    ///     s.spawn(|| task.run());
    ///     on_start.recv().unwrap();
    ///     assert!(task.cancel_and_interrupt());
    /// });
    /// assert!(task.is_cancelled() && task.snapshot().interrupted());
    /// ```
    pub fn cancel_and_interrupt(&self) -> bool {
        self.cancel_with(true)
    }

    /// C1..C6: the one cancel, with or without the interrupt.
    fn cancel_with(&self, may_interrupt: bool) -> bool {
        // step C1
        let mut s = self.state.load(Acquire);
        let n = loop {
            let Some(n) = p::try_cancel(s, may_interrupt) else {
                return false;
            };
            match self.state.compare_exchange_weak(s, n, AcqRel, Acquire) {
                Ok(_) => break n,
                Err(actual) => s = actual,
            }
        };
        // A counted task has no runner to signal: its cancel went straight to INTERRUPTED.
        if may_interrupt && !p::is_counted(n) {
            // step C2: read the runner only after winning (Java's 2011 fix).
            fence(SeqCst);
            // step C3: swap, not load: a runner that swapped its handle back first (R6) is never
            // unparked for this run, so a cancel that loses the race to the closure's end sends
            // nothing.
            let t = self.runner.swap(ptr::null_mut(), AcqRel);
            if !t.is_null() {
                // step C4: SAFETY: the runner does not leave `run` (dropping its handle) while
                // the state is INTERRUPTING, which it stays until our store below (I5).
                unsafe { (*t).unpark() };
            }
            // step C5
            self.state.store(p::finish_interrupt(n), Release);
        }
        // step C6: a counted task that nobody announced a push on has nobody to wake (P0).
        if p::must_drain(n) {
            self.finish_completion().resume();
        }
        true
    }

    /// F1..: wake every waiter, run every callback (I3, I7). Called once, by the winner. Always
    /// finishes; returns the first panic a waker raised, for the caller to resume (I11).
    fn finish_completion(&self) -> Panics {
        self.head.close_and_drain(&|cb| self.run_callback(cb))
    }

    fn run_callback(&self, cb: Callback<T>) {
        let outcome = self.report_settled();
        // A panicking callback (its body or its captures' drops) must not stop the others or the
        // waiters; the panic hook has already reported it (I7, I11).
        foreign::isolate(move || cb(outcome));
    }

    // ---- queries -------------------------------------------------------------------------------

    /// Whether the task completed or was cancelled (Java's `isDone`). Once true, no `get`
    /// blocks or times out (I9).
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let task = FutureTask::new(|| 1);
    /// assert!(!task.is_done());
    /// task.run();
    /// assert!(task.is_done());
    /// let cancelled = FutureTask::new(|| 1);
    /// cancelled.cancel();
    /// assert!(cancelled.is_done()); // cancelled counts as done
    /// ```
    #[inline]
    pub fn is_done(&self) -> bool {
        p::is_done(self.state.load(Acquire))
    }

    /// Whether the task was cancelled.
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let task = FutureTask::new(|| 1);
    /// assert!(!task.is_cancelled());
    /// task.cancel();
    /// assert!(task.is_cancelled());
    /// ```
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        p::is_cancelled(self.state.load(Acquire))
    }

    /// The task's state (Java 19's `Future.state()`, plus whether `run` has claimed the closure).
    ///
    /// ```
    /// use futuretask::{FutureTask, State};
    ///
    /// let task = FutureTask::new(|| -> u8 { panic!("no") });
    /// assert_eq!(task.state(), State::Pending);
    /// task.run();
    /// assert_eq!(task.state(), State::Failed);
    /// ```
    pub fn state(&self) -> State {
        self.snapshot().state()
    }

    /// [`state`](FutureTask::state) together with whether the closure had started and whether a
    /// cancel interrupted it, from one reading of the state word.
    ///
    /// ```
    /// use futuretask::{FutureTask, State};
    ///
    /// let task = FutureTask::new(|| 2);
    /// task.run();
    /// assert!(!task.cancel_and_interrupt());
    /// let s = task.snapshot();
    /// assert_eq!((s.state(), s.started(), s.interrupted()), (State::Success, true, false));
    /// ```
    pub fn snapshot(&self) -> Snapshot {
        loop {
            let s = self.state.load(Acquire);
            let state = match p::phase(s) {
                p::NEW if p::is_started(s) => State::Running,
                p::NEW => State::Pending,
                p::COMPLETING => {
                    sync::yield_now();
                    continue;
                }
                p::NORMAL => State::Success,
                p::EXCEPTIONAL => State::Failed,
                _ => State::Cancelled,
            };
            return Snapshot {
                state,
                started: p::is_started(s),
                interrupted: p::is_interrupted(s),
            };
        }
    }

    /// The outcome if the task is done, without blocking (`None` while pending).
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let task = FutureTask::new(|| 9);
    /// assert!(task.try_get().is_none()); // pending: no blocking, no value
    /// task.run();
    /// assert_eq!(task.try_get().unwrap().ok(), Some(&9));
    /// ```
    #[inline]
    pub fn try_get(&self) -> Option<Result<&T, Error>> {
        let s = self.state.load(Acquire);
        p::is_done(s).then(|| self.report(s))
    }

    // ---- get -----------------------------------------------------------------------------------

    /// Wait for the task and return its value (Java's `get`). Any number of threads may wait.
    /// The value is borrowed from the task, never cloned. Never returns [`Error::TimedOut`];
    /// returns [`Error::Interrupted`] only inside a task's closure whose run is cancelled with
    /// interrupt while it waits.
    ///
    /// ```
    /// use futuretask::FutureTask;
    /// use std::{sync::Arc, thread};
    ///
    /// let task = Arc::new(FutureTask::pending());
    /// let writer = Arc::clone(&task);
    /// let t = thread::spawn(move || writer.set(String::from("ready")).unwrap());
    /// assert_eq!(task.get().unwrap(), "ready"); // blocks until set
    /// t.join().unwrap();
    /// ```
    #[inline]
    pub fn get(&self) -> Result<&T, Error> {
        // step G1: one Acquire load and a branch when the task is already done.
        let s = self.state.load(Acquire);
        if p::phase(s) != p::NORMAL {
            self.await_normal(s)?;
        }
        // SAFETY: NORMAL observed with Acquire, above or in `await_normal` (I2). One read site
        // for both paths keeps the value's address off the slow path's result, so the fast path
        // is the load, the check and one load of the value (P2).
        Ok(unsafe { self.value_unchecked() })
    }

    /// `get`'s slow path: wait until done; `Ok(())` only once NORMAL was observed with Acquire.
    #[cold]
    fn await_normal(&self, s: usize) -> Result<(), Error> {
        self.get_slow(s, None).map(drop)
    }

    /// Wait at most `timeout`. A zero timeout answers at once (no clock read, no allocation); a
    /// timeout too large for the clock waits without a deadline.
    ///
    /// ```
    /// use futuretask::{Error, FutureTask};
    /// use std::time::Duration;
    ///
    /// let task = FutureTask::new(|| 1);
    /// let waited = task.get_timeout(Duration::from_millis(1));
    /// assert!(matches!(waited, Err(Error::TimedOut))); // still pending
    /// assert!(matches!(task.get_timeout(Duration::ZERO), Err(Error::TimedOut)));
    /// task.run();
    /// assert_eq!(task.get_timeout(Duration::ZERO).ok(), Some(&1)); // done: never times out
    /// ```
    #[inline]
    pub fn get_timeout(&self, timeout: Duration) -> Result<&T, Error> {
        let s = self.state.load(Acquire);
        if p::phase(s) != p::NORMAL {
            self.await_normal_timeout(s, timeout)?;
        }
        // SAFETY: as in `get` (I2).
        Ok(unsafe { self.value_unchecked() })
    }

    /// Everything but `get_timeout`'s NORMAL fast path, out of line so that the fast path is the
    /// same straight-line code as `get`'s (P3 = P2). `Ok(())` only once NORMAL was observed with
    /// Acquire.
    #[cold]
    fn await_normal_timeout(&self, s: usize, timeout: Duration) -> Result<(), Error> {
        if p::is_done(s) {
            return self.report(s).map(drop);
        }
        // step G3: a zero timeout answers at once (no clock read, no allocation).
        if timeout.is_zero() {
            return Err(Error::TimedOut);
        }
        self.get_slow(s, Some(Deadline::after(timeout))).map(drop)
    }

    /// Wait until `deadline` at most. A deadline in the past answers at once.
    ///
    /// ```
    /// use futuretask::{Error, FutureTask};
    /// use std::time::{Duration, Instant};
    ///
    /// let task = FutureTask::<u8, _>::pending();
    /// let soon = Instant::now() + Duration::from_millis(1);
    /// assert!(matches!(task.get_deadline(soon), Err(Error::TimedOut)));
    /// task.set(4).unwrap();
    /// assert_eq!(task.get_deadline(soon).ok(), Some(&4)); // a past deadline answers at once
    /// ```
    pub fn get_deadline(&self, deadline: Instant) -> Result<&T, Error> {
        let s = self.state.load(Acquire);
        if p::is_done(s) {
            return self.report(s);
        }
        self.get_slow(s, Some(Some(Deadline::from_instant(deadline))))
    }

    /// `deadline`: `None` untimed; `Some(None)` a deadline beyond the clock's range (untimed).
    #[cold]
    fn get_slow(&self, s: usize, deadline: Option<Option<Deadline>>) -> Result<&T, Error> {
        if !p::is_done(s) {
            match self.await_done(s, deadline.flatten()) {
                Awaited::Done => {}
                Awaited::TimedOut => return Err(Error::TimedOut),
                Awaited::Interrupted => return Err(Error::Interrupted),
            }
        }
        self.report(self.state.load(Acquire))
    }

    /// G4..G10: block until the task is done, the deadline passes, or — when this thread is
    /// running a task's closure (`current::in_task`) — that task is cancelled with interrupt.
    fn await_done(&self, seen: usize, deadline: Option<Deadline>) -> Awaited {
        // An interruptible wait parks (the canceller's unpark reaches a parked thread, not a
        // futex sleeper) and re-checks the runner's interrupt after every wakeup (I12).
        let interruptible = current::in_task();
        let done = || p::is_done(self.state.load(Acquire));
        // step G4: a short, time-bounded spin, then a couple of yields (see `sync::wait_before_park`).
        if sync::wait_before_park(done, deadline) {
            return Awaited::Done;
        }
        if let Some(d) = deadline {
            if d.remaining().is_none() {
                return if done() {
                    Awaited::Done
                } else {
                    Awaited::TimedOut
                };
            }
        }
        if interruptible && current::is_interrupted() {
            return if done() {
                Awaited::Done
            } else {
                Awaited::Interrupted
            };
        }
        // step G5 G6: the node lives on this stack frame and is not moved until it is DONE (I6). An
        // untimed waiter sleeps on the stack's shared word (no thread handle, woken with the
        // other sleepers by one H6); a timed or interruptible one parks and is unparked by
        // whoever releases it.
        let payload = match deadline {
            None if !interruptible => Payload::Sleeper(sync::sleep_token()),
            _ => Payload::Thread(sync::current()),
        };
        if !self.announce(seen) {
            return Awaited::Done;
        }
        let node = Node::waiter(payload);
        // SAFETY: `node` outlives its linkage: every exit below waits for DONE first (I6).
        if unsafe { self.head.push(&node) } == Push::Closed {
            return Awaited::Done;
        }
        if deadline.is_none() && !interruptible {
            // G7, untimed: sleep on the shared word until the node is DONE.
            self.head.sleep_until_released(&node);
            return Awaited::Done;
        }
        // G7, parked.
        loop {
            if node.is_done() {
                return Awaited::Done;
            }
            let give_up = if interruptible && current::is_interrupted() {
                Awaited::Interrupted
            } else {
                match deadline.map(|d| d.remaining()) {
                    None => {
                        sync::park();
                        continue;
                    }
                    Some(Some(left)) => {
                        sync::park_timeout(left);
                        continue;
                    }
                    Some(None) => Awaited::TimedOut,
                }
            };
            // G8/G9: give up; returns once the node is released (I6).
            // SAFETY: our own linked node.
            if !unsafe { self.head.abandon_and_wait(&node, true) } {
                return Awaited::Done; // a completer got to it first
            }
            // step G10: done means done — report a completion that raced the give-up (I9).
            return if p::is_done(self.state.load(Acquire)) {
                Awaited::Done
            } else {
                give_up
            };
        }
    }

    /// The outcome of a done task (COMPLETING is waited out: it is never reported as pending).
    pub(crate) fn report(&self, mut s: usize) -> Result<&T, Error> {
        loop {
            match p::phase(s) {
                p::NORMAL => {
                    // SAFETY: NORMAL observed with Acquire (I2).
                    return Ok(unsafe { self.value_unchecked() });
                }
                p::EXCEPTIONAL => {
                    // SAFETY: EXCEPTIONAL observed with Acquire: initialised, immutable (I2).
                    let f = unsafe { self.failure_unchecked() };
                    return Err(Error::Failed(f.clone()));
                }
                p::CANCELLED | p::INTERRUPTING | p::INTERRUPTED => return Err(Error::Cancelled),
                p::COMPLETING => {
                    // step G2: the winner is between K1 and K3 (no user code): wait it out (I9).
                    sync::yield_now();
                    s = self.state.load(Acquire);
                }
                _ => unreachable!("report on a pending task"),
            }
        }
    }

    fn report_settled(&self) -> Result<&T, Error> {
        self.report(self.state.load(Acquire))
    }

    /// # Safety
    /// The state was observed NORMAL with Acquire ordering.
    #[inline(always)]
    unsafe fn value_unchecked(&self) -> &T {
        // SAFETY: per the contract the outcome is an initialised `Ok` that is never written again
        // (I1, I2).
        self.outcome
            .with(|o| match unsafe { (*o).assume_init_ref() } {
                // SAFETY: the outcome lives as long as `self` and is never written again once
                // NORMAL is published (I2), so the borrow may outlive the `with` closure.
                Ok(v) => unsafe { &*(v as *const T) },
                Err(_) if cfg!(debug_assertions) => unreachable!("NORMAL with a failure"),
                // SAFETY: NORMAL is published (K3) only after an `Ok` outcome was written (K2), and
                // the caller observed NORMAL (I1, I2). Checked in debug builds (above); in release
                // the branch is gone from `get`'s fast path.
                Err(_) => unsafe { std::hint::unreachable_unchecked() },
            })
    }

    /// # Safety
    /// The state was observed EXCEPTIONAL with Acquire ordering.
    unsafe fn failure_unchecked(&self) -> &Failure {
        // SAFETY: per the contract, an initialised, immutable `Err` (I1, I2).
        self.outcome
            .with(|o| match unsafe { (*o).assume_init_ref() } {
                // SAFETY: as in `value_unchecked`: immutable once EXCEPTIONAL is published (I2).
                Err(f) => unsafe { &*(f as *const Failure) },
                Ok(_) => unreachable!("EXCEPTIONAL with a value"),
            })
    }

    // ---- callbacks -----------------------------------------------------------------------------

    /// Register a callback that runs exactly once with the outcome, after it is visible: on the
    /// completing thread, in registration order, or at once on this thread if every earlier
    /// callback has already run. A panicking callback does not stop the others (I7).
    ///
    /// ```
    /// use futuretask::FutureTask;
    /// use std::sync::{Arc, Mutex};
    ///
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let task = FutureTask::new(|| 10);
    /// for name in ["first", "second"] {
    ///     let log = Arc::clone(&log);
    ///     task.add_done_callback(move |r| log.lock().unwrap().push((name, *r.unwrap())));
    /// }
    /// assert!(log.lock().unwrap().is_empty()); // queued until the task completes
    /// task.run(); // runs them, in registration order
    /// let l = Arc::clone(&log);
    /// task.add_done_callback(move |r| l.lock().unwrap().push(("late", *r.unwrap()))); // runs now
    /// assert_eq!(*log.lock().unwrap(), [("first", 10), ("second", 10), ("late", 10)]);
    /// ```
    pub fn add_done_callback<F>(&self, f: F)
    where
        F: for<'a> FnOnce(Result<&'a T, Error>) + Send + 'static,
    {
        if self.head.is_closed() {
            self.run_callback(Box::new(f));
            return;
        }
        if !self.announce(self.state.load(Acquire)) {
            // A counted task settled with nothing ever pushed: no earlier callback is pending.
            self.run_callback(Box::new(f));
            return;
        }
        // step D2: pushed onto a closed stack: every earlier callback has run, so run it now.
        if let Err(cb) = self.head.push_callback(Box::new(f)) {
            self.run_callback(cb);
        }
    }

    // ---- internals for the async waiters and diagnostics ---------------------------------------

    pub(crate) fn stack(&self) -> &WaiterStack<T> {
        &self.head
    }

    pub(crate) fn state_word(&self) -> usize {
        self.state.load(Acquire)
    }

    /// The state word itself, for the reclaim CAS (`reclaim.rs`).
    pub(crate) fn state_atomic(&self) -> &AtomicUsize {
        &self.state
    }

    /// The closure holder, for a reclaimer that set STARTED (`reclaim.rs`).
    pub(crate) fn job_ref(&self) -> &J {
        &self.job
    }

    /// Number of nodes on the waiter stack (waiters and pending callbacks), counted under the
    /// remover's lock: shows that timed-out and dropped waiters leave nothing behind. Needs the
    /// `diagnostics` feature.
    ///
    /// ```
    /// use futuretask::FutureTask;
    /// use std::time::Duration;
    ///
    /// let task = FutureTask::<u32, _>::pending();
    /// assert!(task.get_timeout(Duration::from_millis(1)).is_err());
    /// assert_eq!(task.waiter_stack_len(), 0); // the timed-out waiter unlinked itself
    /// ```
    #[cfg(feature = "diagnostics")]
    pub fn waiter_stack_len(&self) -> usize {
        self.head.len()
    }
}

/// How a promise's [`publish`](FutureTask::publish) finished.
pub(crate) enum Published {
    /// W2 drained the stack and the promise still holds its reference; the first panic a waker
    /// raised, for the caller to resume.
    Drained(Panics),
    /// W1's CAS gave up the promise's reference (nobody announced a push); `last`: it was the
    /// task's last reference, so the caller frees the task (T3).
    Released {
        /// The reference given up was the task's last.
        last: bool,
    },
}

/// How a blocking wait ended.
enum Awaited {
    Done,
    TimedOut,
    /// The waiting thread's own run was cancelled with interrupt.
    Interrupted,
}

impl<T, J: ?Sized + Job<T>> Drop for FutureTask<T, J> {
    #[inline]
    fn drop(&mut self) {
        // Three drops of foreign code: each runs whatever the others do, and the first panic is
        // resumed after the last (I11).
        let mut panics = self.head.free_unrun_callbacks();
        let s = self.state.load(Acquire);
        if !p::is_started(s) {
            // SAFETY: never claimed, so the closure is still in place; dropped once, whatever
            // the other drops do (I4, I11).
            panics.call(|| unsafe { self.job.drop_unclaimed() });
        }
        // A value without drop glue needs no drop, nor a guard around it; an outcome moved out
        // (`into_outcome`, MOVED) is not ours any more.
        let outcome_needs_drop =
            p::owns_outcome(s) && (p::phase(s) == p::EXCEPTIONAL || std::mem::needs_drop::<T>());
        if outcome_needs_drop {
            // SAFETY: settled and exclusively ours: drop the outcome once (I2).
            panics.call(|| {
                self.outcome
                    .with_mut(|o| unsafe { (*o).assume_init_drop() })
            });
        }
        panics.resume_from_drop();
    }
}

impl<T, J: ?Sized + Job<T>> fmt::Debug for FutureTask<T, J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutureTask")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}
