//! Taking back the closure of a task that was cancelled before it started, so that whoever
//! cancelled it (an executor's `shutdown_now`) can hand the work to its caller.
//!
//! The claim is the same STARTED bit `run` sets (I4), set by CAS from a *terminal* cancelled
//! state (CANCELLED or INTERRUPTED, never INTERRUPTING, whose canceller still stores C5 over the
//! word): at most one claim ever succeeds — `run` claims only from exactly NEW, a cancelled task
//! never goes back to NEW, and a second reclaim sees STARTED. The task itself stays cancelled;
//! its waiters were already released. Once STARTED is set the task's `Drop` leaves the closure
//! alone, so the [`Reclaimed`] guard calls it or drops it, exactly once.

use crate::protocol as p;
use crate::sync::Ordering::{AcqRel, Acquire};
use crate::task::{FutureTask, Job};
use std::fmt;
use std::sync::Arc;

/// The closure of a task cancelled before it started, taken back by [`Reclaimed::claim`]:
/// [`run`](Reclaimed::run) calls it, dropping the guard drops it — exactly once either way (I4).
/// The task stays cancelled: the closure's result is not its outcome.
///
/// ```
/// use futuretask::{FutureTask, Reclaimed};
/// use std::sync::Arc;
///
/// let task = Arc::new(FutureTask::new(|| 6 * 7));
/// assert!(task.cancel()); // cancelled before anyone ran it
/// let job = Reclaimed::claim(task.clone()).unwrap();
/// assert!(Reclaimed::claim(task.clone()).is_none()); // claimed once
/// assert_eq!(job.run(), 42); // the work still happens, outside the task
/// assert!(task.is_cancelled());
/// ```
#[must_use = "dropping a reclaimed closure drops it unrun"]
pub struct Reclaimed<T, J: ?Sized + Job<T> = dyn Job<T>> {
    task: Option<Arc<FutureTask<T, J>>>,
}

impl<T, J: ?Sized + Job<T>> Reclaimed<T, J> {
    /// Claim the closure of `task`, if it was cancelled before `run` claimed it and nobody
    /// reclaimed it yet; `None` otherwise (pending, running, completed, still interrupting, a
    /// closure that already ran, or one already reclaimed).
    ///
    /// ```
    /// use futuretask::{FutureTask, Reclaimed};
    /// use std::sync::Arc;
    ///
    /// let pending = Arc::new(FutureTask::new(|| 1));
    /// assert!(Reclaimed::claim(pending.clone()).is_none()); // not cancelled
    /// pending.run();
    /// pending.cancel();
    /// assert!(Reclaimed::claim(pending).is_none()); // the closure already ran
    /// ```
    pub fn claim(task: Arc<FutureTask<T, J>>) -> Option<Self> {
        // step O3
        let state = task.state_atomic();
        let mut s = state.load(Acquire);
        loop {
            let n = p::try_reclaim(s)?;
            match state.compare_exchange_weak(s, n, AcqRel, Acquire) {
                Ok(_) => return Some(Reclaimed { task: Some(task) }),
                Err(actual) => s = actual,
            }
        }
    }

    /// Call the closure (on this thread) and return its result; a panic propagates to the
    /// caller. The task is not touched: it stays cancelled.
    ///
    /// ```
    /// use futuretask::{FutureTask, Reclaimed};
    /// use std::sync::Arc;
    ///
    /// let task = Arc::new(FutureTask::new(|| String::from("late")));
    /// task.cancel_and_interrupt();
    /// let job = Reclaimed::claim(task).unwrap();
    /// let out = std::thread::spawn(move || job.run()).join().unwrap();
    /// assert_eq!(out, "late");
    /// ```
    pub fn run(mut self) -> T {
        let task = self.task.take().expect("a reclaimed closure runs once");
        // SAFETY: our CAS above set STARTED from a terminal cancelled state: we are the unique
        // claimer and call the closure at most once (I4).
        unsafe { task.job_ref().call() }
    }
}

impl<T, J: ?Sized + Job<T>> fmt::Debug for Reclaimed<T, J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reclaimed")
    }
}

impl<T, J: ?Sized + Job<T>> Drop for Reclaimed<T, J> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            // SAFETY: claimed (STARTED set by us) and never called: the closure is in place and
            // only we may drop it; the task's own `Drop` skips it because STARTED is set (I4).
            unsafe { task.job_ref().drop_unclaimed() };
        }
    }
}

#[cfg(all(test, not(loom), not(feature = "shuttle")))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    /// Counts its drops, so a closure dropped twice (or never) shows.
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn task(drops: &Arc<AtomicUsize>, runs: &Arc<AtomicUsize>) -> Arc<FutureTask<u32>> {
        let (t, r) = (Token(Arc::clone(drops)), Arc::clone(runs));
        Arc::new(FutureTask::new(move || {
            let _t = t;
            r.fetch_add(1, SeqCst) as u32
        }))
    }

    #[test]
    fn a_cancelled_unstarted_closure_is_reclaimed_once_and_run_or_dropped_once() {
        let (drops, runs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let fresh = task(&drops, &runs);
        assert!(
            Reclaimed::claim(Arc::clone(&fresh)).is_none(),
            "not cancelled"
        );
        let ran = task(&drops, &runs);
        assert!(ran.run());
        assert!(!ran.cancel());
        assert!(Reclaimed::claim(Arc::clone(&ran)).is_none(), "completed");

        let a = task(&drops, &runs);
        assert!(a.cancel());
        let job = Reclaimed::claim(Arc::clone(&a)).expect("cancelled before it started");
        assert!(Reclaimed::claim(Arc::clone(&a)).is_none(), "claimed once");
        assert!(!a.run(), "the task stays cancelled (I4)");
        assert_eq!(job.run(), 1);
        assert_eq!(runs.load(SeqCst), 2);

        let b = task(&drops, &runs);
        assert!(b.cancel_and_interrupt());
        drop(Reclaimed::claim(Arc::clone(&b)).expect("interrupted before it started"));
        assert_eq!(runs.load(SeqCst), 2, "a dropped reclaim does not run");
        drop((fresh, ran, a, b));
        assert_eq!(drops.load(SeqCst), 4, "every closure dropped exactly once");
    }
}
