//! [`ThreadPool::map`]: apply a function to every item of an iterator on the pool, results in
//! input order, lazily, with a bounded number of tasks in flight.

use crate::job::cancel_all;
use crate::panics::Deferred;
use crate::pool::ThreadPool;
use crate::sync::{self, Deadline, Mutex};
use crate::{BuildError, RejectReason};
use futuretask::{Error, Failure, TaskHandle};
use std::collections::VecDeque;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

/// Why [`Map`] yielded no value for an item.
///
/// ```
/// use futuretask_executor::{MapError, ThreadPool};
///
/// let pool = ThreadPool::new(2).unwrap();
/// let out: Vec<_> = pool.map([1, 0, 2], |x| 10 / x).collect(); // 10 / 0 panics
/// assert_eq!(out[0].as_ref().ok(), Some(&10));
/// assert!(matches!(&out[1], Err(MapError::Failed(f)) if f.is_panic()));
/// assert_eq!(out[2].as_ref().ok(), Some(&5)); // the other items go on
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum MapError {
    /// The function panicked on this item (the panic is the [`Failure`]).
    Failed(Failure),
    /// The item's task was cancelled (through the pool's `shutdown_now`).
    Cancelled,
    /// The map's deadline passed while this item was still running; it and every later item in
    /// flight were cancelled, and the iterator ends.
    TimedOut,
    /// The pool refused the item (shut down, or full under [`crate::Policy::Reject`]); the
    /// iterator ends.
    Rejected(RejectReason),
    /// The thread iterating the map runs a task that was cancelled with interrupt while it
    /// waited for this item; everything in flight was cancelled, and the iterator ends.
    Interrupted,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::Failed(e) => fmt::Display::fmt(e, f),
            MapError::Cancelled => f.write_str("map item was cancelled"),
            MapError::TimedOut => f.write_str("map deadline passed"),
            MapError::Interrupted => {
                f.write_str("map interrupted: the iterating task was cancelled")
            }
            MapError::Rejected(RejectReason::Shutdown) => {
                f.write_str("map item rejected: the pool is shut down")
            }
            MapError::Rejected(RejectReason::QueueFull) => {
                f.write_str("map item rejected: the queue is full")
            }
        }
    }
}

impl std::error::Error for MapError {
    /// [`MapError::Failed`] is transparent over its [`Failure`] (it displays the failure's
    /// message), so its source is the failure's own: a chain names each message once.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MapError::Failed(e) => std::error::Error::source(e),
            _ => None,
        }
    }
}

/// The result cell of one map task: the task's value is shared (`&Slot`), the map takes the
/// owned result out of it exactly once.
struct Slot<R>(Mutex<Option<Result<R, Failure>>>);

impl<R> Slot<R> {
    fn take(&self) -> Result<R, MapError> {
        match sync::lock(&self.0).take() {
            Some(Ok(v)) => Ok(v),
            Some(Err(f)) => Err(MapError::Failed(f)),
            None => unreachable!("a map result is taken once"),
        }
    }
}

enum Entry<R> {
    Task(TaskHandle<Slot<R>>),
    Rejected(RejectReason),
}

/// Iterator returned by [`ThreadPool::map`]: `Ok(value)` or `Err(MapError)` for each input item,
/// in input order.
///
/// Lazy: nothing is submitted before the first `next`. At most [`window`](Map::window) items are
/// in flight (submitted and not yet yielded); the input is pulled only when one of them is
/// yielded. Dropping the iterator cancels the items in flight: those that have not started never
/// will; those already running finish (they are not interrupted) and their results are dropped.
///
/// ```
/// use futuretask_executor::ThreadPool;
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
/// use std::sync::Arc;
///
/// let pool = ThreadPool::new(2).unwrap();
/// let pulled = Arc::new(AtomicUsize::new(0));
/// let p = Arc::clone(&pulled);
/// let input = (0..100).inspect(move |_| drop(p.fetch_add(1, SeqCst)));
/// let mut squares = pool.map(input, |x| x * x).window(2).unwrap();
/// assert_eq!(pulled.load(SeqCst), 0); // lazy: nothing before the first `next`
/// assert_eq!(squares.next().unwrap().unwrap(), 0);
/// assert_eq!(pulled.load(SeqCst), 2); // at most `window` in flight
/// ```
#[must_use = "iterators are lazy: nothing runs until the map is iterated"]
pub struct Map<'p, I: Iterator, F, R> {
    pool: &'p ThreadPool,
    input: Option<I>,
    f: Arc<F>,
    window: usize,
    /// `None`: no deadline; `Some(None)`: a timeout too large for the clock (no deadline either).
    deadline: Option<Option<Deadline>>,
    in_flight: VecDeque<Entry<R>>,
    done: bool,
}

impl<'p, I, F, R> Map<'p, I, F, R>
where
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> R + Send + Sync + 'static,
    R: Send + 'static,
{
    /// At most `n` items in flight (default: twice the number of workers). Zero is refused.
    ///
    /// ```
    /// use futuretask_executor::{BuildError, ThreadPool};
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// assert!(matches!(pool.map(0..3, |x| x).window(0), Err(BuildError::ZeroWindow)));
    /// let one_at_a_time = pool.map(0..3, |x| x + 1).window(1).unwrap();
    /// assert_eq!(one_at_a_time.map(Result::unwrap).collect::<Vec<_>>(), [1, 2, 3]);
    /// ```
    pub fn window(mut self, n: usize) -> Result<Self, BuildError> {
        if n == 0 {
            return Err(BuildError::ZeroWindow);
        }
        self.window = n;
        Ok(self)
    }

    /// A deadline `timeout` from now (Python's `map(..., timeout=)`): an item not finished by
    /// then yields [`MapError::TimedOut`], everything in flight is cancelled with interrupt, and
    /// the iterator ends.
    ///
    /// ```
    /// use futuretask::current;
    /// use futuretask_executor::{MapError, ThreadPool};
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let stuck = |_: u8| {
    ///     while !current::is_interrupted() {
    ///         std::thread::park(); // runs until cancelled with interrupt
    ///     }
    /// };
    /// let mut it = pool.map([0, 1], stuck).timeout(Duration::from_millis(5));
    /// assert!(matches!(it.next(), Some(Err(MapError::TimedOut))));
    /// assert!(it.next().is_none()); // the rest was cancelled; the iterator ends
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Some(Deadline::after(timeout));
        self
    }

    fn fill(&mut self) {
        while self.in_flight.len() < self.window {
            let Some(item) = self.input.as_mut().and_then(Iterator::next) else {
                self.input = None;
                return;
            };
            let f = Arc::clone(&self.f);
            let submitted = self.pool.submit(move || {
                let r = catch_unwind(AssertUnwindSafe(|| f(item))).map_err(Failure::from_panic);
                Slot(Mutex::new(Some(r)))
            });
            match submitted {
                Ok(h) => self.in_flight.push_back(Entry::Task(h)),
                Err(rejected) => {
                    // The item's error is reported in place; the closure (and the item) is
                    // dropped here, and no more input is pulled.
                    self.in_flight.push_back(Entry::Rejected(rejected.reason));
                    self.input = None;
                    return;
                }
            }
        }
    }

    fn cancel_in_flight(&mut self, interrupt: bool) {
        let panics = cancel_entries(&mut self.in_flight, interrupt);
        self.input = None;
        self.done = true;
        panics.raise();
    }
}

impl<I, F, R> Iterator for Map<'_, I, F, R>
where
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> R + Send + Sync + 'static,
    R: Send + 'static,
{
    type Item = Result<R, MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.fill();
        let Some(front) = self.in_flight.pop_front() else {
            self.done = true;
            return None;
        };
        let task = match front {
            Entry::Task(t) => t,
            Entry::Rejected(reason) => {
                self.cancel_in_flight(false);
                return Some(Err(MapError::Rejected(reason)));
            }
        };
        let res = match self.deadline {
            Some(Some(d)) => task.get_timeout(d.remaining().unwrap_or(Duration::ZERO)),
            None | Some(None) => task.get(),
        };
        Some(match res {
            Ok(slot) => slot.take(),
            Err(Error::Cancelled) => Err(MapError::Cancelled),
            // The task's closure catches the function's panic itself, so its task cannot fail;
            // report it anyway rather than assume.
            Err(Error::Failed(f)) => Err(MapError::Failed(f)),
            // The items behind this one first (see `cancel_entries`), then this one.
            Err(Error::TimedOut) => {
                self.cancel_in_flight(true);
                task.cancel_and_interrupt();
                Err(MapError::TimedOut)
            }
            Err(Error::Interrupted) => {
                self.cancel_in_flight(true);
                task.cancel_and_interrupt();
                Err(MapError::Interrupted)
            }
            // A kind of error this version does not know (`Error` is non-exhaustive): this item
            // has no value; report it as its failure (the error kept: `Failure::error`), go on.
            Err(e) => Err(MapError::Failed(Failure::from_error(e))),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let n = self.in_flight.len();
        let (lo, hi) = match &self.input {
            None => (0, Some(0)),
            Some(i) => i.size_hint(),
        };
        // A deadline or a rejection may end the iteration early, but the next item is always
        // yielded (as a value or an error).
        (
            usize::from(n > 0 || lo > 0),
            hi.and_then(|h| h.checked_add(n)),
        )
    }
}

/// Cancel and forget every task in flight (I11: all of them, whatever their wakers do), newest
/// first: the queue is FIFO, so the items not yet started are cancelled before any running one is
/// interrupted, and a worker freed by an interrupt finds no item of this map left to start.
fn cancel_entries<R>(in_flight: &mut VecDeque<Entry<R>>, interrupt: bool) -> Deferred {
    let entries: Vec<_> = in_flight.drain(..).collect();
    cancel_all(
        entries.iter().rev().filter_map(|e| match e {
            Entry::Task(h) => Some(h),
            Entry::Rejected(_) => None,
        }),
        interrupt,
    )
}

impl<I: Iterator, F, R> Drop for Map<'_, I, F, R> {
    fn drop(&mut self) {
        cancel_entries(&mut self.in_flight, false).raise_unless_unwinding();
    }
}

impl<I: Iterator, F, R> fmt::Debug for Map<'_, I, F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("window", &self.window)
            .field("in_flight", &self.in_flight.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ThreadPool {
    /// Apply `f` to every item on the pool; results come back in input order, lazily, as
    /// `Result<R, MapError>` (a panic on one item is that item's error; the others go on).
    /// Options: [`Map::window`] (tasks in flight, default twice the workers) and
    /// [`Map::timeout`].
    ///
    /// Do not call this from one of the pool's own tasks with every worker busy: the items would
    /// queue behind the caller.
    ///
    /// ```
    /// use futuretask_executor::ThreadPool;
    ///
    /// let pool = ThreadPool::new(3).unwrap();
    /// let lengths: Result<Vec<usize>, _> = pool.map(["a", "bb", "ccc"], str::len).collect();
    /// assert_eq!(lengths.unwrap(), [1, 2, 3]); // input order, whatever the finishing order
    /// ```
    pub fn map<I, F, R>(&self, items: I, f: F) -> Map<'_, I::IntoIter, F, R>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> R + Send + Sync + 'static,
        R: Send + 'static,
    {
        Map {
            pool: self,
            input: Some(items.into_iter()),
            f: Arc::new(f),
            window: self.workers().saturating_mul(2),
            deadline: None,
            in_flight: VecDeque::new(),
            done: false,
        }
    }
}
