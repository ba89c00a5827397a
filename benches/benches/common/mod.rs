//! Shared pieces of the bench binaries: CPU pinning, the simple peer cells (Mutex+Condvar and
//! OnceLock+park), the criterion configuration and the `--quick` handling.
//!
//! Every bench binary includes this file with `mod common;` and uses only part of it.

#![allow(dead_code)]

use criterion::Criterion;
use std::sync::atomic::{fence, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::Duration;

// ---- pinning -------------------------------------------------------------------------------------

/// The CPUs the calling thread may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `set` is a plain bitmask owned by this frame; sched_getaffinity(0) reads the calling
    // thread's mask into it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return vec![0];
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Restrict the calling thread to `cpus` (an empty slice is refused).
pub fn set_affinity(cpus: &[usize]) {
    assert!(!cpus.is_empty());
    // SAFETY: as in `allowed_cpus`; sched_setaffinity(0) changes only the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        let rc = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(rc, 0, "sched_setaffinity failed");
    }
}

/// Pins the calling thread to one CPU for its lifetime; restores the previous mask on drop.
pub struct Pin {
    previous: Vec<usize>,
}

impl Pin {
    /// Pin to `cpu`, or do nothing for `None`.
    pub fn to(cpu: Option<usize>) -> Option<Pin> {
        let cpu = cpu?;
        let previous = allowed_cpus();
        set_affinity(&[cpu]);
        Some(Pin { previous })
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        set_affinity(&self.previous);
    }
}

/// The CPU the pinned scenarios use: the first one this process may run on.
pub fn pin_cpu() -> usize {
    allowed_cpus()[0]
}

// ---- peer cells ----------------------------------------------------------------------------------

/// A one-shot cell built from a `Mutex<Option<T>>` and a `Condvar` (the textbook blocking cell).
pub struct CondvarCell<T> {
    value: Mutex<Option<T>>,
    ready: Condvar,
}

impl<T> Default for CondvarCell<T> {
    fn default() -> Self {
        CondvarCell {
            value: Mutex::new(None),
            ready: Condvar::new(),
        }
    }
}

impl<T> CondvarCell<T> {
    /// Store the value and wake every waiter.
    pub fn set(&self, v: T) {
        *self.value.lock().unwrap() = Some(v);
        self.ready.notify_all();
    }

    /// Block until a value is present and take it.
    pub fn take(&self) -> T {
        let mut g = self.value.lock().unwrap();
        loop {
            if let Some(v) = g.take() {
                return v;
            }
            g = self.ready.wait(g).unwrap();
        }
    }

    /// Block until a value is present and read it (the value stays for other readers).
    pub fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let g = self
            .ready
            .wait_while(self.value.lock().unwrap(), |v| v.is_none())
            .unwrap();
        f(g.as_ref().unwrap())
    }

    /// As `read`, waiting at most `d`.
    pub fn read_timeout<R>(&self, d: Duration, f: impl FnOnce(&T) -> R) -> Option<R> {
        let (g, _) = self
            .ready
            .wait_timeout_while(self.value.lock().unwrap(), d, |v| v.is_none())
            .unwrap();
        g.as_ref().map(f)
    }
}

/// A one-shot cell for one reader: a `OnceLock<T>` for the value and a `OnceLock<Thread>` where
/// the reader leaves its handle before parking (the hand-rolled cell people write first).
pub struct OnceParkCell<T> {
    value: OnceLock<T>,
    reader: OnceLock<Thread>,
}

impl<T> Default for OnceParkCell<T> {
    fn default() -> Self {
        OnceParkCell {
            value: OnceLock::new(),
            reader: OnceLock::new(),
        }
    }
}

impl<T> OnceParkCell<T> {
    /// Store the value and unpark the reader if it has registered.
    pub fn set(&self, v: T) {
        if self.value.set(v).is_err() {
            panic!("OnceParkCell set twice");
        }
        // Dekker with the reader: either it sees the value or we see its handle.
        fence(Ordering::SeqCst);
        if let Some(t) = self.reader.get() {
            t.unpark();
        }
    }

    /// Block until the value is present (one reader only).
    pub fn get(&self) -> &T {
        if let Some(v) = self.value.get() {
            return v;
        }
        let _ = self.reader.set(thread::current());
        fence(Ordering::SeqCst);
        loop {
            if let Some(v) = self.value.get() {
                return v;
            }
            thread::park();
        }
    }

    /// Move the value out (the cell is exclusively ours).
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }
}

// ---- criterion set-up ----------------------------------------------------------------------------

/// Whether the short (gate) mode is on: `FT_BENCH_QUICK=1` (set by `benches/run.sh --quick`) or
/// criterion's `--quick` flag. The slow scenarios then also shorten the times they set per group
/// (a group's own setting overrides criterion's command line).
pub fn quick() -> bool {
    std::env::var_os("FT_BENCH_QUICK").is_some_and(|v| v != "0")
        || std::env::args().any(|a| a == "--quick")
}

/// Criterion with this suite's defaults; command-line flags (`--quick`, `--warm-up-time`, a
/// filter) still apply on top.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}
