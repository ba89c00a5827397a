//! The executor's sync facade: every lock, condition variable, atomic, cell, thread and clock
//! operation of this crate goes through here, so the identical pool runs on `std`, under loom
//! (`--cfg loom`) and under shuttle (feature `shuttle`) for the I10 models.
//!
//! Under a checker time is the kernel's mock clock (`futuretask::mock_clock`): the executor's
//! deadlines and the kernel's timed waits read the same counter, so a model's `advance` expires
//! both at once. A timed wait here re-checks that clock after a yield instead of sleeping.

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::hint::spin_loop;
    pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
    pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
    pub(crate) use loom::thread::{current, park, yield_now, Builder as ThreadBuilder};
    pub(crate) use loom::thread::{JoinHandle, Thread};
    pub(crate) use loom::thread_local;
}

#[cfg(all(not(loom), feature = "shuttle"))]
mod imp {
    pub(crate) use shuttle::hint::spin_loop;
    pub(crate) use shuttle::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
    pub(crate) use shuttle::sync::{Condvar, Mutex, MutexGuard};
    pub(crate) use shuttle::thread::{current, park, yield_now, Builder as ThreadBuilder};
    pub(crate) use shuttle::thread::{JoinHandle, Thread};
    pub(crate) use shuttle::thread_local;
}

#[cfg(all(not(loom), not(feature = "shuttle")))]
mod imp {
    pub(crate) use std::hint::spin_loop;
    pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
    pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
    pub(crate) use std::thread::{current, park, yield_now, Builder as ThreadBuilder};
    pub(crate) use std::thread::{JoinHandle, Thread};
    pub(crate) use std::thread_local;
}

pub(crate) use imp::*;

/// Whether a model checker schedules the threads (loom or shuttle): no spinning, few workers.
pub(crate) const CHECKER: bool = cfg!(any(loom, feature = "shuttle"));

/// `core::cell::UnsafeCell` with loom's access API (`with` / `with_mut`): the ring's slot
/// accesses read the same in every build, and under loom each is checked for causality.
#[cfg(not(loom))]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(core::cell::UnsafeCell::new(value))
    }

    /// Read access through a raw pointer, for the caller's `unsafe` block to justify.
    pub(crate) fn with<R>(&self, read: impl FnOnce(*const T) -> R) -> R {
        read(self.0.get().cast_const())
    }

    /// Write access through a raw pointer, for the caller's `unsafe` block to justify.
    pub(crate) fn with_mut<R>(&self, write: impl FnOnce(*mut T) -> R) -> R {
        write(self.0.get())
    }
}

/// A point in time for the executor's timeouts: `Instant`, or a tick of the kernel's mock clock
/// under a checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Deadline(
    #[cfg(not(any(loom, feature = "shuttle")))] std::time::Instant,
    #[cfg(any(loom, feature = "shuttle"))] u64,
);

impl Deadline {
    /// `now + timeout`; `None` when that does not fit the clock (the wait then has no deadline).
    pub(crate) fn after(timeout: std::time::Duration) -> Option<Self> {
        #[cfg(not(any(loom, feature = "shuttle")))]
        {
            std::time::Instant::now().checked_add(timeout).map(Deadline)
        }
        // The kernel's convention: one mock tick per nanosecond of timeout.
        #[cfg(any(loom, feature = "shuttle"))]
        {
            let ticks = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
            futuretask::mock_clock::now()
                .checked_add(ticks)
                .map(Deadline)
        }
    }

    /// The time left; `None` once the deadline has passed.
    pub(crate) fn remaining(&self) -> Option<std::time::Duration> {
        #[cfg(not(any(loom, feature = "shuttle")))]
        {
            let left = self.0.saturating_duration_since(std::time::Instant::now());
            (!left.is_zero()).then_some(left)
        }
        #[cfg(any(loom, feature = "shuttle"))]
        {
            let now = futuretask::mock_clock::now();
            (now < self.0).then(|| std::time::Duration::from_nanos(self.0 - now))
        }
    }
}

/// Lock a mutex. Poisoning is ignored: no user code runs while one of the executor's locks is
/// held, so a poisoned lock still guards consistent data.
#[inline]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Block on a condition variable (spurious wakeups possible: callers re-check).
#[inline]
pub(crate) fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(g).unwrap_or_else(|e| e.into_inner())
}

/// Block on `cv` for at most `d`. The checkers' condition variables never time out and their time
/// stands still: there, release the lock, yield and re-lock — a spurious wakeup after which the
/// caller re-checks its condition and the mock clock.
#[inline]
pub(crate) fn wait_timeout<'a, T>(
    cv: &Condvar,
    m: &'a Mutex<T>,
    g: MutexGuard<'a, T>,
    d: std::time::Duration,
) -> MutexGuard<'a, T> {
    #[cfg(not(any(loom, feature = "shuttle")))]
    {
        let _ = m;
        cv.wait_timeout(g, d)
            .map_or_else(|e| e.into_inner().0, |(g, _)| g)
    }
    #[cfg(any(loom, feature = "shuttle"))]
    {
        let _ = (cv, d);
        drop(g);
        yield_now();
        lock(m)
    }
}

/// Park for at most `d`; under a checker, a yield (the caller re-checks the mock clock).
#[inline]
pub(crate) fn park_timeout(d: std::time::Duration) {
    #[cfg(not(any(loom, feature = "shuttle")))]
    std::thread::park_timeout(d);
    #[cfg(any(loom, feature = "shuttle"))]
    {
        let _ = d;
        yield_now();
    }
}

/// Whether watching the queue for a few microseconds can pay off: more than one CPU, and never
/// under a checker (spinning there only multiplies interleavings). The system is asked once per
/// process.
pub(crate) fn spin_allowed() -> bool {
    if CHECKER {
        return false;
    }
    static MULTI_CPU: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MULTI_CPU.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}
