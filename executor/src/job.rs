//! The queue's view of a task: a type-erased, runnable, cancellable `FutureTask`, and the queue
//! entry whose drop cancels a task that never ran (I10).

use crate::panics::{self, Deferred};
use futuretask::{FutureTask, Job, Reclaimed, State, TaskHandle};
use std::sync::Arc;

/// What a worker needs from a queued task, whatever its result type and closure. Implemented by
/// every `FutureTask`, so an `Arc<FutureTask<T, Closure<F>>>` coerces to `Arc<dyn Runnable>`
/// without a second allocation.
pub(crate) trait Runnable: Send + Sync {
    /// Run the task's closure (at most once; a cancelled task does not start).
    fn run_task(&self);
    /// Cancel it, with or without interrupt (Java's `cancel(mayInterruptIfRunning)`); whether
    /// this call won.
    fn cancel_task(&self, interrupt: bool) -> bool;
    /// Its current state.
    fn task_state(&self) -> State;
    /// Whether `run` has claimed the closure. Frozen once the task is cancelled (a claim after a
    /// cancel fails, I4), so after winning a cancel this says whether the closure ever starts.
    fn started(&self) -> bool;
    /// Take the closure back from a task cancelled before it started ([`Reclaimed::claim`]).
    fn reclaim(self: Arc<Self>) -> Option<Box<dyn ReclaimedJob>>;
}

/// A closure taken back from a cancelled, never-started task, type-erased.
pub(crate) trait ReclaimedJob: Send {
    /// Call it (its result is dropped).
    fn run(self: Box<Self>);
}

impl<T, J: ?Sized + Job<T>> ReclaimedJob for Reclaimed<T, J>
where
    Reclaimed<T, J>: Send,
{
    fn run(self: Box<Self>) {
        drop(Reclaimed::run(*self));
    }
}

impl<T, J> Runnable for FutureTask<T, J>
where
    T: Send + Sync + 'static,
    J: ?Sized + Job<T> + 'static,
{
    #[inline]
    fn run_task(&self) {
        self.run();
    }
    #[inline]
    fn cancel_task(&self, interrupt: bool) -> bool {
        if interrupt {
            self.cancel_and_interrupt()
        } else {
            self.cancel()
        }
    }
    fn task_state(&self) -> State {
        self.state()
    }
    fn started(&self) -> bool {
        self.snapshot().started()
    }
    fn reclaim(self: Arc<Self>) -> Option<Box<dyn ReclaimedJob>> {
        Reclaimed::claim(self).map(|r| Box::new(r) as Box<dyn ReclaimedJob>)
    }
}

/// Cancel every task of `tasks`, whatever their wakers do: each cancel's drain finishes, and the
/// first waker panic is returned for the caller to resume once all are cancelled (I11).
pub(crate) fn cancel_all<'a, T: 'a>(
    tasks: impl IntoIterator<Item = &'a TaskHandle<T>>,
    interrupt: bool,
) -> Deferred {
    let mut panics = Deferred::new();
    for t in tasks {
        panics.call(|| {
            if interrupt {
                t.cancel_and_interrupt();
            } else {
                t.cancel();
            }
        });
    }
    panics
}

/// One queue entry: the task's own `Arc` (a fat pointer, no allocation of its own).
///
/// Drop guard (I10): an entry dropped without being run cancels its task, so a waiter never hangs
/// on a task that left the queue unrun. After a run, the cancel is a no-op (one load of the
/// terminal state).
pub(crate) struct QueuedJob(Option<Arc<dyn Runnable>>);

impl QueuedJob {
    #[inline]
    pub(crate) fn new(task: Arc<dyn Runnable>) -> Self {
        QueuedJob(Some(task))
    }

    /// Take the task out without the drop guard firing (the caller reports or cancels it).
    pub(crate) fn into_task(mut self) -> Arc<dyn Runnable> {
        self.0
            .take()
            .expect("a queued job holds its task until consumed")
    }
}

impl Drop for QueuedJob {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            // I10: never strand a waiter on a task that will not run. Losing (the task already
            // ran, or someone else cancelled it) is the normal case after `run`.
            // The cancel's drain (wakers) and the task's drop (its closure) are user code; an
            // entry is dropped inside the pool's own code, which must not unwind (I11).
            panics::contain(move || {
                task.cancel_task(false);
                drop(task);
            });
        }
    }
}

#[cfg(all(test, not(loom), not(feature = "shuttle")))]
mod tests {
    use super::*;
    use futuretask::Error;
    use std::thread;
    use std::time::Duration;

    #[test]
    fn a_queue_entry_dropped_unrun_cancels_its_task_and_wakes_waiters() {
        let task = Arc::new(FutureTask::new(|| 1));
        let waiter = {
            let t = Arc::clone(&task);
            thread::spawn(move || matches!(t.get(), Err(Error::Cancelled)))
        };
        thread::sleep(Duration::from_millis(10));
        let job = QueuedJob::new(Arc::new(FutureTask::new(|| ())));
        drop(job);
        let job = QueuedJob::new(Arc::clone(&task) as Arc<dyn Runnable>);
        drop(job); // I10: never run, so cancelled
        assert!(waiter.join().unwrap());
        assert_eq!(task.state(), State::Cancelled);
        assert!(!task.started());
    }

    #[test]
    fn a_queue_entry_that_ran_leaves_the_outcome_alone() {
        let task = Arc::new(FutureTask::new(|| 2));
        let job = QueuedJob::new(Arc::clone(&task) as Arc<dyn Runnable>);
        task.run();
        drop(job); // the guard's cancel loses: the task already ran
        assert_eq!(*task.get().unwrap(), 2);
        let unrun = Arc::new(FutureTask::new(|| 3));
        let t = QueuedJob::new(Arc::clone(&unrun) as Arc<dyn Runnable>).into_task();
        assert_eq!(unrun.state(), State::Pending, "into_task disarms the guard");
        t.run_task();
        assert_eq!(*unrun.get().unwrap(), 3);
        assert!(unrun.started());
    }
}
