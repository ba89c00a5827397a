//! Shutting down: refusing new submissions, cancelling what never started (handing it back as
//! [`Unstarted`], I10), interrupting what runs (`shutdown_now`), and waiting for the workers to
//! leave.
//!
//! Every variant closes admission and empties the queue in one critical section (push lock, then
//! pop lock), so a submission either lands in the queue before it is drained or is refused. The
//! cancels happen after the locks are released: they run wakers and callbacks (user code). Every
//! task is cancelled whatever a waker does; the first waker panic is raised afterwards (I11).

use crate::job::{QueuedJob, Runnable};
use crate::panics::Deferred;
use crate::pool::{Shared, ThreadPool};
use crate::sync::{self, Deadline, Ordering::SeqCst};
use crate::unstarted::Unstarted;
use crate::worker::is_worker_of;
use std::sync::Arc;
use std::time::Duration;

impl Shared {
    /// Refuse submissions from now on and wake everyone who waits for a change (I10).
    pub(crate) fn shut_down(&self) {
        {
            let mut g = self.queue.lock_push();
            g.shutdown = true;
            self.shutdown.store(true, SeqCst);
        }
        self.wake_everyone();
    }

    /// Refuse submissions and take every queued entry, in one critical section; with `stop`, also
    /// send the workers away and return what they run (for the interrupt).
    fn close_and_drain(&self, stop: bool) -> (Vec<QueuedJob>, Vec<Arc<dyn Runnable>>) {
        let drained = {
            let mut g = self.queue.lock_push();
            g.shutdown = true;
            self.shutdown.store(true, SeqCst);
            let mut w = g.lock_pop();
            let queued = std::iter::from_fn(|| w.pop()).collect();
            let running = if stop {
                w.stop = true;
                w.running.iter().flatten().cloned().collect()
            } else {
                Vec::new()
            };
            (queued, running)
        };
        self.wake_everyone();
        drained
    }
}

/// Cancel each running task with interrupt; those our cancel stopped before they started are
/// unstarted. A task a worker has taken but not yet started counts as never started when our
/// cancel beats its claim (it will not start then, I4).
fn interrupt_running(running: Vec<Arc<dyn Runnable>>, panics: &mut Deferred) -> Vec<Unstarted> {
    let mut unstarted = Vec::new();
    for task in running {
        // `started` is frozen once our cancel won (I4): read it after winning. A waker's panic
        // comes from the drain, after the cancel won (I11).
        let mut won = true;
        panics.call(|| won = task.cancel_task(true));
        if won && !task.started() {
            unstarted.push(Unstarted(task));
        }
    }
    unstarted
}

/// Cancel each drained entry and list those `listed(won, task)` accepts as unstarted.
fn cancel_queued(
    queued: Vec<QueuedJob>,
    panics: &mut Deferred,
    listed: impl Fn(bool, &dyn Runnable) -> bool,
) -> Vec<Unstarted> {
    let mut unstarted = Vec::with_capacity(queued.len());
    for job in queued {
        let task = job.into_task();
        // A waker's panic comes from the drain, after the cancel won.
        let mut won = true;
        panics.call(|| won = task.cancel_task(false));
        if listed(won, &*task) {
            unstarted.push(Unstarted(task));
        }
    }
    unstarted
}

impl ThreadPool {
    /// Stop accepting tasks; queued and running tasks still run, then the workers leave. Does not
    /// wait (see [`await_termination`](ThreadPool::await_termination), or drop the pool).
    /// Idempotent.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let queued = pool.submit(|| 3).unwrap();
    /// pool.shutdown();
    /// pool.shutdown(); // idempotent
    /// assert!(pool.is_shutdown() && pool.execute(|| {}).is_err());
    /// assert_eq!(*queued.get().unwrap(), 3); // accepted tasks still run
    /// ```
    pub fn shutdown(&self) {
        self.shared.shut_down();
    }

    /// Stop accepting tasks, cancel every queued task (its waiters and callbacks wake now) and
    /// cancel every running one with interrupt (cooperative: the closure sees
    /// [`futuretask::current::is_interrupted`] and its thread is unparked). Returns the tasks that
    /// never started, already cancelled: any a worker had taken but not yet started, then the queue in order;
    /// [`Unstarted::into_job`] takes a closure back to run it elsewhere.
    ///
    /// ```
    /// use futuretask::current;
    /// use futuretask_executor::ThreadPool;
    /// use std::thread;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (started, on_start) = std::sync::mpsc::channel();
    /// let running = pool.submit(move || {
    ///     started.send(()).unwrap();
    ///     while !current::is_interrupted() {
    ///         thread::park(); // `shutdown_now` unparks it
    ///     }
    /// }).unwrap();
    /// let queued = pool.submit(|| 2).unwrap();
    /// on_start.recv().unwrap();
    /// let unstarted = pool.shutdown_now();
    /// assert!(unstarted.len() == 1 && unstarted[0].is(&queued));
    /// assert!(queued.is_cancelled() && running.snapshot().interrupted());
    /// ```
    pub fn shutdown_now(&self) -> Vec<Unstarted> {
        let (queued, running) = self.shared.close_and_drain(true);
        let mut panics = Deferred::new();
        let mut unstarted = interrupt_running(running, &mut panics);
        // Every drained entry is listed: it left the queue unrun, and only the pool runs its tasks
        // (a reader cannot). Should one have started anyway, its `into_job` is `None`.
        unstarted.extend(cancel_queued(queued, &mut panics, |_, _| true));
        panics.raise();
        unstarted
    }

    /// Stop accepting tasks and cancel every queued one (its waiters and callbacks wake now), but
    /// let the running tasks finish undisturbed (no interrupt); then the workers leave (CPython's
    /// `shutdown(wait=False, cancel_futures=True)`). Returns the cancelled tasks, in queue order.
    /// Does not wait (see [`await_termination`](ThreadPool::await_termination)).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let running = pool.submit(move || rx.recv().unwrap()).unwrap();
    /// let queued = pool.submit(|| 0).unwrap();
    /// while pool.queued() != 1 {
    ///     std::thread::yield_now();
    /// }
    /// let cancelled = pool.shutdown_cancel_queued();
    /// assert!(queued.is_cancelled() && cancelled[0].is(&queued));
    /// tx.send(7).unwrap();
    /// assert_eq!(*running.get().unwrap(), 7); // ran to completion
    /// assert!(pool.await_termination(Duration::from_secs(10)));
    /// ```
    pub fn shutdown_cancel_queued(&self) -> Vec<Unstarted> {
        let (queued, _) = self.shared.close_and_drain(false);
        let mut panics = Deferred::new();
        // A queued task is unstarted unless it started anyway (only the pool runs its tasks, so
        // this is defensive: a reader cannot run one).
        let unstarted = cancel_queued(queued, &mut panics, |won, task| won || !task.started());
        panics.raise();
        unstarted
    }

    /// Wait until the pool has shut down and every worker has left, at most `timeout` (a timeout
    /// too large for the clock waits without a deadline). Returns whether it terminated. Called
    /// from one of this pool's own workers it returns `false` at once (that worker is still
    /// running).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// assert!(!pool.await_termination(Duration::from_millis(1))); // not shut down
    /// let h = pool.submit(|| 1).unwrap();
    /// pool.shutdown();
    /// assert!(pool.await_termination(Duration::from_secs(10)));
    /// assert!(h.is_done() && pool.is_terminated());
    /// ```
    pub fn await_termination(&self, timeout: Duration) -> bool {
        let sh = &*self.shared;
        if is_worker_of(&self.shared) {
            return self.is_terminated();
        }
        let deadline = Deadline::after(timeout);
        let mut s = sync::lock(&sh.sleep);
        loop {
            if sh.shutdown.load(SeqCst) && s.live == 0 {
                return true;
            }
            s = match deadline {
                None => sync::wait(&sh.term, s),
                Some(d) => match d.remaining() {
                    None => return false,
                    Some(left) => sync::wait_timeout(&sh.term, &sh.sleep, s, left),
                },
            };
        }
    }

    /// Whether [`shutdown`](ThreadPool::shutdown) (or `shutdown_now`, or drop) was called.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// assert!(!pool.is_shutdown());
    /// pool.shutdown();
    /// assert!(pool.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.shared.shutdown.load(SeqCst)
    }

    /// Whether the pool is shut down and every worker has left (so every task ran or was
    /// cancelled).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// assert!(!pool.is_terminated());
    /// pool.shutdown();
    /// pool.await_termination(Duration::from_secs(10));
    /// assert!(pool.is_terminated()); // shut down and every worker left
    /// ```
    pub fn is_terminated(&self) -> bool {
        let s = sync::lock(&self.shared.sleep);
        self.shared.shutdown.load(SeqCst) && s.live == 0
    }

    /// Shut down, let the queue drain and join every worker (what dropping the pool does).
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let handles: Vec<_> = (1..=3).map(|i| pool.submit(move || i * i).unwrap()).collect();
    /// pool.join(); // the queue drains first
    /// let squares: Vec<_> = handles.iter().map(|h| *h.try_get().unwrap().unwrap()).collect();
    /// assert_eq!(squares, [1, 4, 9]);
    /// ```
    pub fn join(self) {
        drop(self);
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shutdown();
        let threads = std::mem::take(&mut *sync::lock(&self.threads));
        if is_worker_of(&self.shared) {
            // Dropped by one of its own tasks: this thread cannot join itself. The workers leave
            // on their own once the queue is empty; nothing is lost (I10).
            return;
        }
        for t in threads {
            // A worker never unwinds because of user code; ignore the impossible.
            let _ = t.join();
        }
    }
}
