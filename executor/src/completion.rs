//! [`CompletionService`]: submit tasks, take them back in the order they finish (Java's
//! `ExecutorCompletionService`, CPython's `for f in as_completed(fs)` loop over a growing set).

use crate::inbox::{watch, Inbox, Recv, Watch};
use crate::pool::ThreadPool;
use crate::reject::Rejected;
use crate::wait::{deadline_after, Incomplete, Interrupted, TimedOut};
use futuretask::TaskHandle;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Tasks submitted through this service come back from [`take`](CompletionService::take) /
/// [`poll_timeout`](CompletionService::poll_timeout) in the order they finish (complete, fail or
/// are cancelled), each exactly once.
///
/// Each outstanding task carries one waiter node of the service (no callback, no thread). A poll
/// that times out registers nothing new, so polling in a loop costs no memory; dropping the
/// service unlinks the nodes of the tasks still outstanding (I6). Indices of taken tasks are
/// reused, so a long-lived service stays as large as its largest number of outstanding tasks.
///
/// ```
/// use futuretask_executor::{CompletionService, ThreadPool};
/// use std::time::Duration;
///
/// let pool = ThreadPool::new(2).unwrap();
/// let mut cs = CompletionService::new(&pool);
/// for i in 1..=3u64 {
///     cs.submit(move || i * 10).unwrap();
/// }
/// let mut sum = 0;
/// while let Some(done) = cs.take().unwrap() {
///     sum += *done.get().unwrap();
/// }
/// assert_eq!(sum, 60);
/// assert!(cs.poll_timeout(Duration::from_millis(1)).unwrap().is_none(), "nothing outstanding");
/// ```
pub struct CompletionService<'p, T> {
    pool: Option<&'p ThreadPool>,
    inbox: Arc<Inbox>,
    /// Outstanding tasks by index (`None`: free, reusable).
    slots: Vec<Option<Slot<T>>>,
    free: Vec<usize>,
    outstanding: usize,
}

struct Slot<T> {
    task: TaskHandle<T>,
    /// `None` when the task was already done when added (its index was posted at once).
    _watch: Option<Watch<T>>,
}

impl<'p, T: Send + Sync + 'static> CompletionService<'p, T> {
    /// A service that submits to `pool`.
    ///
    /// ```
    /// use futuretask_executor::{CompletionService, ThreadPool};
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// let mut cs = CompletionService::new(&pool);
    /// cs.submit(|| "a").unwrap();
    /// assert_eq!(cs.outstanding(), 1);
    /// assert_eq!(*cs.take().unwrap().unwrap().get().unwrap(), "a");
    /// assert!(cs.take().unwrap().is_none()); // nothing outstanding: returns at once
    /// ```
    pub fn new(pool: &'p ThreadPool) -> Self {
        CompletionService {
            pool: Some(pool),
            inbox: Inbox::new(),
            slots: Vec::new(),
            free: Vec::new(),
            outstanding: 0,
        }
    }

    /// Submit `f` to the pool and watch it (Java's `submit`). A refusal hands the closure back
    /// and leaves the service unchanged.
    ///
    /// ```
    /// use futuretask::TaskHandle;
    /// use futuretask_executor::{CompletionService, ThreadPool};
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let mut cs = CompletionService::new(&pool);
    /// let h = cs.submit(|| 5).unwrap();
    /// assert!(TaskHandle::ptr_eq(&h, &cs.take().unwrap().unwrap()));
    /// ```
    pub fn submit<F>(&mut self, f: F) -> Result<TaskHandle<T>, Rejected<F>>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let pool = self.pool.expect("a service made by `new` has a pool");
        let h = pool.submit(f)?;
        self.add(h.clone());
        Ok(h)
    }
}

impl<T> CompletionService<'static, T> {
    /// A service with no pool, over tasks added with [`add`](CompletionService::add) (run by
    /// anyone: threads, another pool, promises).
    ///
    /// ```
    /// use futuretask::promise;
    /// use futuretask_executor::CompletionService;
    ///
    /// let (a, reader) = promise::<u8>();
    /// let mut cs = CompletionService::detached();
    /// cs.add(reader);
    /// a.set(1).unwrap();
    /// assert_eq!(*cs.take().unwrap().unwrap().get().unwrap(), 1);
    /// ```
    pub fn detached() -> Self {
        CompletionService {
            pool: None,
            inbox: Inbox::new(),
            slots: Vec::new(),
            free: Vec::new(),
            outstanding: 0,
        }
    }
}

impl<T> CompletionService<'_, T> {
    /// Watch a task submitted elsewhere; it comes back from `take` / `poll` once it finishes (at
    /// once if it already has).
    ///
    /// ```
    /// use futuretask::FutureTask;
    /// use futuretask_executor::CompletionService;
    /// use std::sync::Arc;
    ///
    /// let mut cs = CompletionService::detached();
    /// cs.add(Arc::new(FutureTask::new(|| 2)).handle());
    /// assert_eq!(cs.outstanding(), 1);
    /// ```
    pub fn add(&mut self, task: TaskHandle<T>) {
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let w = watch(&self.inbox, &task, idx);
        self.slots[idx] = Some(Slot { task, _watch: w });
        self.outstanding += 1;
    }

    /// Tasks added and not yet taken back.
    ///
    /// ```
    /// # use futuretask_executor::CompletionService;
    /// let cs = CompletionService::<u8>::detached();
    /// assert_eq!(cs.outstanding(), 0);
    /// ```
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// The next task to finish, blocking until one does (Java's `take`); `Ok(None)` when nothing
    /// is outstanding (where Java's would block forever). Called inside a task's closure, a take
    /// that would block returns `Err(Interrupted)` once that task is cancelled with interrupt
    /// (Java's `InterruptedException`; I12); the service stays usable.
    ///
    /// ```
    /// # use futuretask_executor::CompletionService;
    /// let mut cs = CompletionService::<u8>::detached();
    /// assert!(cs.take().unwrap().is_none());
    /// ```
    pub fn take(&mut self) -> Result<Option<TaskHandle<T>>, Interrupted> {
        if self.outstanding == 0 {
            return Ok(None);
        }
        match self.inbox.recv(None) {
            Recv::Notice(i) => Ok(Some(self.hand_out(i))),
            Recv::Interrupted => Err(Interrupted::new(self.unfinished(), self.outstanding)),
            Recv::TimedOut => unreachable!("an untimed receive does not time out"),
        }
    }

    /// A task that has finished, without blocking (Java's `poll()`); `None` if none has.
    ///
    /// ```
    /// use futuretask::promise;
    /// use futuretask_executor::CompletionService;
    ///
    /// let (_p, t) = promise::<u8>();
    /// let mut cs = CompletionService::detached();
    /// cs.add(t.clone());
    /// assert!(cs.try_poll().is_none());
    /// t.cancel();
    /// assert!(cs.try_poll().unwrap().is_cancelled());
    /// ```
    pub fn try_poll(&mut self) -> Option<TaskHandle<T>> {
        let i = self.inbox.try_recv()?;
        Some(self.hand_out(i))
    }

    /// The next task to finish within `timeout` (Java's `poll(timeout, unit)`): `Ok(None)` when
    /// nothing is outstanding, `Err(Incomplete::TimedOut)` (how many of the outstanding tasks are
    /// unfinished) when none finished in time, `Err(Incomplete::Interrupted)` when the poll runs
    /// inside a task's closure and that task is cancelled with interrupt (I12). The service stays
    /// usable; a poll that gives up leaves nothing registered beyond the one node per outstanding
    /// task it already had.
    ///
    /// ```
    /// use futuretask::promise;
    /// use futuretask_executor::CompletionService;
    /// use std::time::Duration;
    ///
    /// let (_p, pending) = promise::<u8>();
    /// let mut cs = CompletionService::detached();
    /// cs.add(pending);
    /// let e = cs.poll_timeout(Duration::ZERO).unwrap_err();
    /// assert_eq!(e.to_string(), "1 (of 1) futures unfinished");
    /// ```
    pub fn poll_timeout(&mut self, timeout: Duration) -> Result<Option<TaskHandle<T>>, Incomplete> {
        if self.outstanding == 0 {
            return Ok(None);
        }
        match self.inbox.recv(deadline_after(Some(timeout))) {
            Recv::Notice(i) => Ok(Some(self.hand_out(i))),
            Recv::TimedOut => Err(TimedOut::new(self.unfinished(), self.outstanding).into()),
            Recv::Interrupted => Err(Interrupted::new(self.unfinished(), self.outstanding).into()),
        }
    }

    /// Outstanding tasks not done yet.
    fn unfinished(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|s| !s.task.is_done())
            .count()
    }

    fn hand_out(&mut self, i: usize) -> TaskHandle<T> {
        let slot = self.slots[i]
            .take()
            .expect("each outstanding task posts exactly once");
        self.free.push(i);
        self.outstanding -= 1;
        slot.task
    }
}

impl<T> fmt::Debug for CompletionService<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionService")
            .field("outstanding", &self.outstanding)
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}
