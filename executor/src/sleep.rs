//! The workers' sleep protocol: how an idle worker goes to sleep and how a submitter that added
//! work wakes one, without a lock shared by every submission.
//!
//! **E1** A worker about to sleep publishes `unwoken` (SeqCst) and then, after a SeqCst fence,
//! re-checks the queue; a submitter pushes, fences, and reads `unwoken`. Store-buffering is ruled
//! out by the two fences, so either the worker sees the entry and does not sleep, or the
//! submitter sees the sleeper and wakes it (under the sleep lock, which the sleeper holds from its
//! check until it waits). A burst of submissions to busy workers costs no lock beyond the push
//! lock, and at most one `notify_one` per sleeping worker. Before sleeping, one worker at a time
//! watches the queue for a few microseconds ([`Shared::try_spin`]), so a burst of small
//! submissions costs no futex wake per task.

use crate::pool::Shared;
use crate::sync::{
    self, fence,
    Ordering::{Relaxed, SeqCst},
};

/// Guarded by the sleep lock.
pub(crate) struct Sleep {
    /// Workers waiting on `work` (or about to).
    pub(crate) idle: usize,
    /// `notify_one`s sent on `work` that no worker has consumed yet.
    pub(crate) wakes: usize,
    /// A worker is watching the queue before it sleeps (at most one at a time); it will find new
    /// work without being woken.
    spinning: bool,
    /// Workers that have not left yet.
    pub(crate) live: usize,
}

impl Sleep {
    /// `workers` threads about to start, none asleep.
    pub(crate) fn new(workers: usize) -> Sleep {
        Sleep {
            idle: 0,
            wakes: 0,
            spinning: false,
            live: workers,
        }
    }

    /// Whether a new queue entry needs a `notify_one`: some worker sleeps that nobody woke yet,
    /// and no worker is spinning (a spinner finds the entry by itself). Claims the wake.
    #[inline]
    pub(crate) fn claim_wake(&mut self) -> bool {
        let wake = self.idle > self.wakes && !self.spinning;
        if wake {
            self.wakes += 1;
        }
        wake
    }
}

impl Shared {
    /// Publish `idle - wakes` for lock-free readers (E1). Called with the sleep lock held after
    /// every change of either.
    #[inline]
    pub(crate) fn publish_unwoken(&self, s: &Sleep) {
        self.unwoken.store(s.idle - s.wakes, SeqCst);
    }

    /// After a queue entry was added (and a SeqCst fence): wake a sleeping worker if one is not
    /// woken yet (E1). Usually one load.
    #[inline]
    pub(crate) fn wake_for_new_work(&self) {
        if self.unwoken.load(Relaxed) > 0 {
            let mut s = sync::lock(&self.sleep);
            let wake = s.claim_wake();
            self.publish_unwoken(&s);
            drop(s);
            if wake {
                self.work.notify_one();
            }
        }
    }

    /// Block an idle worker until it is woken, unless work or shutdown is already visible.
    pub(crate) fn sleep_until_work(&self) {
        let mut s = sync::lock(&self.sleep);
        s.idle += 1;
        self.publish_unwoken(&s);
        // E1 (Dekker with `enqueue`): our `unwoken` store, then the queue; the submitter's push,
        // then `unwoken`. One of the two sees the other's write.
        fence(SeqCst);
        if self.queue.is_empty() && !self.shutdown.load(SeqCst) {
            s = sync::wait(&self.work, s);
            s.wakes = s.wakes.saturating_sub(1);
        }
        s.idle -= 1;
        self.publish_unwoken(&s);
    }

    /// Watch the queue for a while before sleeping, if no other worker does. Whether it did.
    pub(crate) fn try_spin(&self) -> bool {
        {
            let mut s = sync::lock(&self.sleep);
            if s.spinning {
                return false;
            }
            s.spinning = true;
        }
        if self.spin {
            spin_for_work(|| !self.queue.is_empty());
        } else if sync::CHECKER {
            // One yield, so the spinning state is still explored.
            sync::yield_now();
        }
        // Cleared under the sleep lock: a submitter that saw `spinning` (and so woke no one)
        // published its entry before this, and our next pop sees it.
        sync::lock(&self.sleep).spinning = false;
        true
    }

    /// After `shutdown` was set: wake blocked submitters (they re-check it under the push lock)
    /// and idle workers.
    pub(crate) fn wake_everyone(&self) {
        self.room.notify_all();
        // Under the sleep lock: a worker about to sleep either sees the flag or is waiting.
        let _s = sync::lock(&self.sleep);
        self.work.notify_all();
    }
}

/// How long a worker that ran out of work watches the queue before it sleeps (never on one CPU,
/// nor under a checker: `Shared::spin`).
fn spin_for_work(work: impl Fn() -> bool) {
    for round in 0..SPIN_ROUNDS {
        if work() {
            return;
        }
        if round % 16 == 15 {
            sync::yield_now();
        } else {
            for _ in 0..64 {
                sync::spin_loop();
            }
        }
    }
}

/// Rounds of [`spin_for_work`]: a few microseconds of watching, with a yield every 16 rounds so
/// an oversubscribed machine runs the submitter instead.
const SPIN_ROUNDS: u32 = 128;
