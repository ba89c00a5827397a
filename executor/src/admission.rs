//! Admission: whether a submission is queued, refused or (for a full bounded queue) waits or runs
//! on the caller, decided under the push lock so that it is atomic with the push and with
//! `shutdown` (I10).
//!
//! **E2** (a full bounded queue): a submitter that must wait counts itself in `blocked`
//! (SeqCst), fences and re-checks for room before it waits on `room`; a worker that took an entry
//! (its `head` store), fences and reads `blocked` ([`Shared::signal_room`]). Store-buffering is
//! ruled out by the two fences, so either the submitter sees the room or the worker sees the
//! submitter and signals it — under the push lock, which the submitter holds from its re-check
//! until it waits.

use crate::job::{QueuedJob, Runnable};
use crate::pool::Shared;
use crate::reject::{refused, Policy, RejectReason, Rejected};
use crate::ring::PushGuard;
use crate::sleep::Sleep;
use crate::sync::{
    self, fence,
    Ordering::{Relaxed, SeqCst},
};
use crate::worker::Registry;
use futuretask::{Closure, FutureTask};
use std::sync::Arc;

/// Guarded by the push lock.
pub(crate) struct Admission {
    /// What submitters decide on. `Shared::shutdown` is its copy for readers without the lock;
    /// a plain field here keeps the admission decision free of atomic accesses (each one is a
    /// scheduling point for loom: reading the atomic here made `submit_shutdown` 8.5x larger).
    pub(crate) shutdown: bool,
}

/// The push end of the queue, locked.
type Push<'a> = PushGuard<'a, QueuedJob, Admission, Registry>;

/// A task built for submission: the one allocation, made before any lock is taken.
type NewTask<T, F> = Arc<FutureTask<T, Closure<F>>>;

impl Shared {
    /// The one submission path. The critical section is the admission decision and a push; a
    /// refused task is still unshared, so its closure is taken back out of it for the caller.
    pub(crate) fn enqueue<T, F>(&self, task: NewTask<T, F>) -> Result<NewTask<T, F>, Rejected<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        let g = self.queue.lock_push();
        if self.bound.is_none() {
            self.enqueue_unbounded(g, task)
        } else {
            self.enqueue_bounded(g, task)
        }
    }

    /// Unbounded: queued unless the pool is shut down; a sleeping worker is woken lock-free (E1).
    fn enqueue_unbounded<T, F>(
        &self,
        mut g: Push<'_>,
        task: NewTask<T, F>,
    ) -> Result<NewTask<T, F>, Rejected<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        if g.shutdown {
            drop(g);
            return Err(refused(task, RejectReason::Shutdown));
        }
        g.push(QueuedJob::new(Arc::clone(&task) as Arc<dyn Runnable>));
        drop(g);
        // E1 (Dekker with `sleep_until_work`): our push, then `unwoken`.
        fence(SeqCst);
        self.wake_for_new_work();
        Ok(task)
    }

    /// Bounded: queued if there is room, otherwise what the [`Policy`] says, until one of them
    /// settles the submission.
    fn enqueue_bounded<T, F>(
        &self,
        mut g: Push<'_>,
        task: NewTask<T, F>,
    ) -> Result<NewTask<T, F>, Rejected<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        loop {
            if g.shutdown {
                drop(g);
                return Err(refused(task, RejectReason::Shutdown));
            }
            if let Some(wake) = self.push_if_room(&mut g, &task) {
                drop(g);
                if wake {
                    self.work.notify_one();
                }
                return Ok(task);
            }
            match self.policy {
                Policy::Block => g = self.wait_for_room(g),
                Policy::Reject => {
                    drop(g);
                    return Err(refused(task, RejectReason::QueueFull));
                }
                Policy::CallerRuns => {
                    drop(g);
                    task.run();
                    return Ok(task);
                }
            }
        }
    }

    /// Push `task` if the bounded queue has room; then whether a sleeping worker must be
    /// notified. The decision needs the exact sleep state (a sleeping worker is room, and
    /// claiming it must be atomic with the push). Nesting: push lock, then sleep lock.
    fn push_if_room<T, F>(&self, g: &mut Push<'_>, task: &NewTask<T, F>) -> Option<bool>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        let mut s = sync::lock(&self.sleep);
        if !self.has_room(g.len(), &s) {
            return None;
        }
        g.push(QueuedJob::new(Arc::clone(task) as Arc<dyn Runnable>));
        let wake = s.claim_wake();
        self.publish_unwoken(&s);
        Some(wake)
    }

    /// E2, submitter side: wait on `room` unless room appeared since the caller looked.
    fn wait_for_room<'g>(&self, mut g: Push<'g>) -> Push<'g> {
        self.blocked.fetch_add(1, SeqCst);
        // E2 (Dekker with the worker's pop): our `blocked` count, then the queue.
        fence(SeqCst);
        let s = sync::lock(&self.sleep);
        let room = self.has_room(g.len(), &s);
        drop(s);
        if !room {
            g = g.wait(&self.room);
        }
        self.blocked.fetch_sub(1, SeqCst);
        g
    }

    /// Whether a submission can be queued now (bounded queues). Entries a woken worker is about
    /// to take do not count against the bound, and a sleeping worker nobody woke yet is room
    /// too (hand-off).
    #[inline]
    fn has_room(&self, queued: usize, s: &Sleep) -> bool {
        match self.bound {
            None => true,
            Some(b) => queued.saturating_sub(s.wakes) < b || s.idle > s.wakes,
        }
    }

    /// E2, worker side: after a worker took an entry (and so made room) and a SeqCst fence,
    /// signal a submitter blocked on a full queue. Usually one load.
    #[inline]
    pub(crate) fn signal_room(&self) {
        if self.blocked.load(Relaxed) > 0 {
            // Under the push lock: a submitter that counted itself in `blocked` is waiting on
            // `room` by the time we get the lock (or has found room and left).
            let _g = self.queue.lock_push();
            self.room.notify_one();
        }
    }
}
