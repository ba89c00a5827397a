//! The one sync facade of the kernel: every atomic, cell, thread and clock operation of the kernel
//! goes through here, so the identical kernel code runs on `std`, under loom (`--cfg loom`) and
//! under shuttle (feature `shuttle`). Nothing else in the kernel imports `std::sync` or
//! `std::thread` directly.
//!
//! loom and shuttle do not model time. Under them the clock is a **mock clock**: a per-execution
//! counter that only moves when a model calls [`mock_clock::advance`]. A timed wait re-checks the
//! mock clock after a yield instead of sleeping, so "the deadline passed" is just another event
//! the checker interleaves with completion (the timeout × completion race is explored, not
//! skipped).

#![allow(dead_code)]

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::hint::spin_loop;
    pub(crate) use loom::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
    pub(crate) use loom::thread::{current, park, yield_now, Thread};
    pub(crate) use loom::thread_local;
    pub(crate) const MOCK_TIME: bool = true;

    loom::lazy_static! {
        static ref CLOCK: loom::sync::atomic::AtomicU64 = loom::sync::atomic::AtomicU64::new(0);
    }
    pub(crate) fn clock_now() -> u64 {
        CLOCK.load(Ordering::Acquire)
    }
    pub(crate) fn clock_advance(ticks: u64) {
        CLOCK.fetch_add(ticks, Ordering::AcqRel);
    }
}

#[cfg(all(not(loom), feature = "shuttle"))]
mod imp {
    pub(crate) use super::std_cell::UnsafeCell;
    pub(crate) use shuttle::hint::spin_loop;
    pub(crate) use shuttle::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
    pub(crate) use shuttle::thread::{current, park, yield_now, Thread};
    pub(crate) use shuttle::thread_local;
    pub(crate) const MOCK_TIME: bool = true;

    shuttle::lazy_static! {
        static ref CLOCK: shuttle::sync::atomic::AtomicU64 = shuttle::sync::atomic::AtomicU64::new(0);
    }
    pub(crate) fn clock_now() -> u64 {
        CLOCK.load(Ordering::Acquire)
    }
    pub(crate) fn clock_advance(ticks: u64) {
        CLOCK.fetch_add(ticks, Ordering::AcqRel);
    }
}

#[cfg(all(not(loom), not(feature = "shuttle")))]
mod imp {
    pub(crate) use super::std_cell::UnsafeCell;
    pub(crate) use std::hint::spin_loop;
    pub(crate) use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
    pub(crate) use std::thread::{current, park, yield_now, Thread};
    pub(crate) use std::thread_local;
    // The sleep word's emulation where there is no futex (`SleepWord::bucket`).
    #[cfg(not(target_os = "linux"))]
    pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
    pub(crate) const MOCK_TIME: bool = false;
}

pub(crate) use imp::*;

/// `std`'s `UnsafeCell` with loom's closure API, so the kernel's cell accesses read the same in
/// every build (and loom can check each of them for causality).
#[cfg(not(loom))]
mod std_cell {
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        #[inline(always)]
        pub(crate) const fn new(v: T) -> Self {
            Self(core::cell::UnsafeCell::new(v))
        }
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// The clock the kernel reads for deadlines: `std::time::Instant`, or the mock clock under a
/// checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Deadline(DeadlineRepr);

#[cfg(not(any(loom, feature = "shuttle")))]
type DeadlineRepr = std::time::Instant;
#[cfg(any(loom, feature = "shuttle"))]
type DeadlineRepr = u64;

impl Deadline {
    /// `now + timeout`, or `None` when it does not fit (a huge timeout waits without a deadline).
    #[inline]
    pub(crate) fn after(timeout: std::time::Duration) -> Option<Self> {
        #[cfg(not(any(loom, feature = "shuttle")))]
        {
            std::time::Instant::now().checked_add(timeout).map(Deadline)
        }
        #[cfg(any(loom, feature = "shuttle"))]
        {
            // One mock tick per nanosecond of timeout, saturating.
            let t = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
            clock_now().checked_add(t).map(Deadline)
        }
    }

    /// A deadline from a caller's `Instant`. Under a checker an `Instant` cannot be mapped onto the
    /// mock clock, so it is taken as "already passed" when it is not in the future of the real
    /// clock and as one tick away otherwise.
    #[inline]
    pub(crate) fn from_instant(at: std::time::Instant) -> Self {
        #[cfg(not(any(loom, feature = "shuttle")))]
        {
            Deadline(at)
        }
        #[cfg(any(loom, feature = "shuttle"))]
        {
            if at <= std::time::Instant::now() {
                Deadline(clock_now())
            } else {
                Deadline(clock_now().saturating_add(1))
            }
        }
    }

    /// Time left, or `None` once the deadline has passed.
    #[inline]
    pub(crate) fn remaining(&self) -> Option<std::time::Duration> {
        #[cfg(not(any(loom, feature = "shuttle")))]
        {
            let left = self.0.saturating_duration_since(std::time::Instant::now());
            (!left.is_zero()).then_some(left)
        }
        #[cfg(any(loom, feature = "shuttle"))]
        {
            let now = clock_now();
            (now < self.0).then(|| std::time::Duration::from_nanos(self.0 - now))
        }
    }
}

/// Park the current thread for at most `d`. Under a checker, time does not pass by itself: this
/// yields so that other threads (including a model's clock thread) run, and the caller re-checks
/// its node and the mock clock — a spurious wakeup, which every caller must tolerate anyway.
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

/// A pointer to the calling thread's handle that stays valid until the thread exits (it lives in
/// a thread-local), so `run` can publish its runner without cloning the handle (R3). `None` once
/// that thread-local is destroyed (a `run` from a TLS destructor) and under the checkers: the
/// caller then clones.
#[inline]
pub(crate) fn current_ref() -> Option<*const Thread> {
    #[cfg(not(any(loom, feature = "shuttle")))]
    {
        std::thread_local! {
            static ME: Thread = std::thread::current();
        }
        ME.try_with(|t| t as *const Thread).ok()
    }
    #[cfg(any(loom, feature = "shuttle"))]
    {
        None
    }
}

/// How long G4 spins at most before yielding: about one park/unpark hand-off on the machine it was
/// tuned on (a futex wake plus a cross-CPU wake-up, ~5 µs in a 2-vCPU VM), so a spin that fails
/// costs at most what blocking costs (2-competitive). 2 µs was too short there: one side of a
/// two-thread ping-pong (two allocations, a completion, cross-CPU cache misses, a free into the
/// other thread's arena) often takes 1–3 µs, and every missed spin then paid a full wake-up.
#[cfg(not(any(loom, feature = "shuttle")))]
const SPIN_BUDGET: std::time::Duration = std::time::Duration::from_micros(5);
/// `yield_now` calls after the spin: on a CPU shared with the completer (pinned threads, or more
/// runnable threads than CPUs) the completer runs in our place and no futex is touched; on an idle
/// CPU a yield is a cheap syscall.
#[cfg(not(any(loom, feature = "shuttle")))]
const YIELDS: u32 = 2;
/// Spin credit of a thread (see `wait_before_park`).
#[cfg(not(any(loom, feature = "shuttle")))]
const SPIN_CREDIT: u32 = 4;
/// With no credit left, a thread still spins once per this period (a probe), so that it starts
/// spinning again when its completers are back on another CPU. A period, not a count of waits:
/// two ping-pong partners that both ran out of credit (a burst of slow round trips) park on
/// every wait, and each one's probe can only win while the other is awake, so recovery must not
/// wait for hundreds of those slow waits. At most [`PROBE_BUDGET`] of spinning per period: a
/// thread whose completer shares its CPU loses at most that share of it to probes.
#[cfg(not(any(loom, feature = "shuttle")))]
const PROBE_PERIOD: std::time::Duration = std::time::Duration::from_micros(250);
/// How long a probe spins: longer than [`SPIN_BUDGET`], to cover a parked partner's wake-up
/// (a futex wake and a halted vCPU's wake-up took 5–10 µs on the 2-vCPU VM this was measured
/// on), which is what a probe usually waits for.
#[cfg(not(any(loom, feature = "shuttle")))]
const PROBE_BUDGET: std::time::Duration = std::time::Duration::from_micros(10);

/// A thread's spin state for G4 (see [`wait_before_park`]): its credit and when it last probed.
#[cfg(not(any(loom, feature = "shuttle")))]
#[derive(Clone, Copy, Debug, PartialEq)]
struct SpinPolicy {
    credit: u32,
    last_probe: Option<std::time::Instant>,
}

#[cfg(not(any(loom, feature = "shuttle")))]
impl SpinPolicy {
    /// A new thread's: full credit, never probed.
    const NEW: Self = SpinPolicy {
        credit: SPIN_CREDIT,
        last_probe: None,
    };

    /// How long the wait that starts at `now` spins; `None`: it skips the spin. With credit, the
    /// normal budget; without, a probe when none was made in the last [`PROBE_PERIOD`].
    fn budget(&mut self, now: std::time::Instant) -> Option<std::time::Duration> {
        if self.credit > 0 {
            return Some(SPIN_BUDGET);
        }
        let due = match self.last_probe {
            Some(t) => now.saturating_duration_since(t) >= PROBE_PERIOD,
            None => true,
        };
        if !due {
            return None;
        }
        self.last_probe = Some(now);
        Some(PROBE_BUDGET)
    }

    /// After a spin: one that saw the completion restores the credit, one that did not costs one.
    fn spun(&mut self, won: bool) {
        self.credit = if won {
            SPIN_CREDIT
        } else {
            self.credit.saturating_sub(1)
        };
    }
}

/// G4, before a waiter publishes a node and parks: re-check `done` while spinning for at most
/// [`SPIN_BUDGET`] (bounded in time, not in `spin_loop` calls — a PAUSE costs 1 to 140 cycles
/// depending on the CPU, about 25 ns on the AMD EPYC this was tuned on), then while yielding
/// [`YIELDS`] times. Returns whether `done` became true. Never past `deadline`.
///
/// Spinning is adaptive per thread: a spin that ends in parking costs the thread one credit, a
/// spin that sees the completion restores them all; at zero credit the thread skips the spin
/// (but for one probe per [`PROBE_PERIOD`]). So a thread whose completer shares its CPU — where
/// spinning only delays the completer — stops spinning after a few waits, while ping-pong
/// partners on two CPUs keep spinning, or start again within a period when both stopped. No
/// spin on a single-CPU machine, none under the checkers (where it would only multiply
/// interleavings); no allocation, no user code.
#[inline]
pub(crate) fn wait_before_park(done: impl Fn() -> bool, deadline: Option<Deadline>) -> bool {
    #[cfg(not(any(loom, feature = "shuttle")))]
    {
        use std::cell::Cell;
        use std::time::Instant;
        std::thread_local! {
            static SPIN: Cell<SpinPolicy> = const { Cell::new(SpinPolicy::NEW) };
        }
        if spin_allowed() {
            let start = Instant::now();
            // A thread-local destroyed (a wait from a TLS destructor): no spin.
            let budget = SPIN
                .try_with(|c| {
                    let mut policy = c.get();
                    let budget = policy.budget(start);
                    c.set(policy);
                    budget
                })
                .ok()
                .flatten();
            if let Some(budget) = budget {
                let end = match deadline {
                    Some(Deadline(d)) => d.min(start + budget),
                    None => start + budget,
                };
                let won = 'spin: loop {
                    for _ in 0..4 {
                        if done() {
                            break 'spin true;
                        }
                        spin_loop();
                    }
                    if Instant::now() >= end {
                        break false;
                    }
                };
                let _ = SPIN.try_with(|c| {
                    let mut policy = c.get();
                    policy.spun(won);
                    c.set(policy);
                });
                if won {
                    return true;
                }
            }
        }
        for _ in 0..YIELDS {
            if done() {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d.0) {
                break;
            }
            yield_now();
        }
        done()
    }
    #[cfg(any(loom, feature = "shuttle"))]
    {
        let _ = (done, deadline);
        false
    }
}

/// Whether a bounded spin before parking can pay off (more than one CPU; never under a checker,
/// where spinning only multiplies interleavings).
#[inline]
pub(crate) fn spin_allowed() -> bool {
    #[cfg(not(any(loom, feature = "shuttle")))]
    {
        use std::sync::atomic::AtomicU8;
        static MULTI_CPU: AtomicU8 = AtomicU8::new(0);
        match MULTI_CPU.load(std::sync::atomic::Ordering::Relaxed) {
            1 => false,
            2 => true,
            _ => {
                let multi = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
                MULTI_CPU.store(
                    if multi { 2 } else { 1 },
                    std::sync::atomic::Ordering::Relaxed,
                );
                multi
            }
        }
    }
    #[cfg(any(loom, feature = "shuttle"))]
    {
        false
    }
}

/// A 32-bit word threads sleep on until it changes: a futex. The untimed waiters of one task all
/// sleep on their stack's word and the completer wakes them with one [`wake_all`] (H6) instead of
/// one unpark per thread, so waking N sleepers costs one system call, not N.
///
/// Contract (that of `futex`): [`wait`]`(e)` returns at once if the word is no longer `e` —
/// checked atomically with respect to [`wake_all`] — and otherwise blocks until a `wake_all` that
/// comes after it; it may also return spuriously.
///
/// * Linux: the `futex(2)` system call (`FUTEX_WAIT` / `FUTEX_WAKE`, process-private). Miri
///   emulates it, so the Miri tier runs this code.
/// * Other platforms: a mutex and condition variable from a small static table (shared by
///   address: sleepers of different words may share a bucket, a spurious wakeup).
/// * loom and shuttle: park permits, the word itself is not modelled. `wait` parks; `wake_all`
///   unparks exactly the threads whose nodes the batch released (their [`SleepToken`]s). A
///   permit outlives an early unpark as the changed word outlives an early futex wake, so no
///   wakeup is lost, and a wake that comes before a node's DONE (the `wake_before_release`
///   mutant) is still a lost wakeup the models see. This keeps the models at the cost of the
///   per-thread unpark they had (with the word's two extra atomic steps, or with a mutex +
///   condvar emulation, `cancel_wakes` ran past five minutes instead of about one). The word's
///   own ordering (read before the node; incremented after the batch's DONE stores) is checked
///   by Miri, which runs the real `futex(2)` code, and by the protocol models in `proofs/`.
///
/// [`wait`]: SleepWord::wait
/// [`wake_all`]: SleepWord::wake_all
pub(crate) struct SleepWord {
    word: AtomicU32,
}

/// What a sleeper leaves in its node for [`SleepWord::wake_all`]: nothing where the word is a
/// real futex (or the bucket emulation), its thread under the checkers.
#[cfg(not(any(loom, feature = "shuttle")))]
pub(crate) struct SleepToken;
/// What a sleeper leaves in its node for [`SleepWord::wake_all`]: nothing where the word is a
/// real futex (or the bucket emulation), its thread under the checkers.
#[cfg(any(loom, feature = "shuttle"))]
pub(crate) type SleepToken = Thread;

/// The calling thread's [`SleepToken`].
#[inline]
pub(crate) fn sleep_token() -> SleepToken {
    #[cfg(not(any(loom, feature = "shuttle")))]
    {
        SleepToken
    }
    #[cfg(any(loom, feature = "shuttle"))]
    {
        current()
    }
}

/// The sleepers one batch released (H5), for one [`SleepWord::wake_all`] (H6).
#[derive(Default)]
pub(crate) struct Sleepers {
    #[cfg(not(any(loom, feature = "shuttle")))]
    any: bool,
    #[cfg(any(loom, feature = "shuttle"))]
    threads: Vec<Thread>,
}

impl Sleepers {
    #[inline]
    pub(crate) fn add(&mut self, token: SleepToken) {
        #[cfg(not(any(loom, feature = "shuttle")))]
        {
            let SleepToken = token;
            self.any = true;
        }
        #[cfg(any(loom, feature = "shuttle"))]
        self.threads.push(token);
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        #[cfg(not(any(loom, feature = "shuttle")))]
        {
            !self.any
        }
        #[cfg(any(loom, feature = "shuttle"))]
        {
            self.threads.is_empty()
        }
    }
}

impl SleepWord {
    pub(crate) fn new() -> Self {
        SleepWord {
            word: AtomicU32::new(0),
        }
    }

    /// The current value (Acquire: pairs with [`wake_all`](SleepWord::wake_all)'s increment).
    /// Under the checkers the word is not modelled (the park permits are): always 0.
    #[inline]
    pub(crate) fn load(&self) -> u32 {
        #[cfg(not(any(loom, feature = "shuttle")))]
        {
            // step G7: the word first, then the node (`Node::is_done`).
            self.word.load(Ordering::Acquire)
        }
        #[cfg(any(loom, feature = "shuttle"))]
        {
            0
        }
    }

    /// Sleep while the word is `expected` (see the type's contract; spurious returns happen).
    pub(crate) fn wait(&self, expected: u32) {
        #[cfg(all(target_os = "linux", not(any(loom, feature = "shuttle"))))]
        {
            // SAFETY: a futex wait on a live, aligned u32 of this process, which the kernel only
            // reads; the word lives in the task the caller borrows for the whole call (I3).
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    self.word.as_ptr(),
                    libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                    expected,
                    std::ptr::null::<libc::timespec>(),
                );
            }
        }
        #[cfg(all(not(target_os = "linux"), not(any(loom, feature = "shuttle"))))]
        {
            let (m, cv) = self.bucket();
            let g = lock(m);
            // Checked under the bucket lock, which `wake_all` takes after its increment: a waiter
            // that read the old value here waits on `cv` before `wake_all` notifies.
            if self.word.load(Ordering::Acquire) == expected {
                drop(wait(cv, g));
            }
        }
        // The permit stands in for the changed word: every H6 unparks every thread that can be
        // asleep on it, so parking without reading the word loses no wakeup.
        #[cfg(any(loom, feature = "shuttle"))]
        {
            let _ = expected;
            park();
        }
    }

    /// Change the word and wake every thread sleeping on it (H6). The increment is Release: a
    /// waiter that reads the new value sees every node released before it (I3).
    pub(crate) fn wake_all(&self, sleepers: Sleepers) {
        // step H6: the increment, then the wake of every sleeper.
        #[cfg(not(any(loom, feature = "shuttle")))]
        self.word.fetch_add(1, Ordering::Release);
        #[cfg(all(target_os = "linux", not(any(loom, feature = "shuttle"))))]
        {
            let _ = sleepers;
            // SAFETY: a futex wake on a live, aligned u32 of this process (the completer borrows
            // the task for the whole call); the kernel does not access the memory (I3).
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    self.word.as_ptr(),
                    libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                    i32::MAX,
                );
            }
        }
        #[cfg(all(not(target_os = "linux"), not(any(loom, feature = "shuttle"))))]
        {
            let _ = sleepers;
            let (m, cv) = self.bucket();
            let _g = lock(m);
            cv.notify_all();
        }
        #[cfg(any(loom, feature = "shuttle"))]
        for t in sleepers.threads {
            t.unpark();
        }
    }

    #[cfg(all(not(target_os = "linux"), not(any(loom, feature = "shuttle"))))]
    fn bucket(&self) -> (&'static Mutex<()>, &'static Condvar) {
        const BUCKETS: usize = 64;
        #[allow(clippy::declare_interior_mutable_const)]
        const BUCKET: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());
        static TABLE: [(Mutex<()>, Condvar); BUCKETS] = [BUCKET; BUCKETS];
        let i = (self as *const Self as usize >> 4) % BUCKETS;
        (&TABLE[i].0, &TABLE[i].1)
    }
}

impl std::fmt::Debug for SleepWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SleepWord").field(&self.load()).finish()
    }
}

/// Lock a bucket mutex of the sleep word's emulation. Poisoning is ignored: nothing runs while
/// one is held but the word's own check.
#[cfg(all(not(target_os = "linux"), not(any(loom, feature = "shuttle"))))]
#[inline]
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Block on a bucket's condition variable (spurious wakeups possible; the caller re-checks).
#[cfg(all(not(target_os = "linux"), not(any(loom, feature = "shuttle"))))]
#[inline]
fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(g).unwrap_or_else(|e| e.into_inner())
}

/// Reachability counters of the loom and shuttle builds: a model asserts that the scenario it
/// exists for actually happened in some execution (a model that never reaches it proves
/// nothing about it).
#[cfg(any(loom, feature = "shuttle"))]
pub mod coverage {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    static DIRTY_AGAIN: AtomicUsize = AtomicUsize::new(0);

    /// A remover marked DIRTY while DIRTY was already set (a third abandoner met a lock holder
    /// and a second abandoner that had already marked it).
    pub(crate) fn note_dirty_already_set() {
        DIRTY_AGAIN.fetch_add(1, Relaxed);
    }

    /// How many times, across every execution so far, a remover found DIRTY already set.
    pub fn dirty_already_set() -> usize {
        DIRTY_AGAIN.load(Relaxed)
    }
}

/// The mock clock of the loom and shuttle builds.
#[cfg(any(loom, feature = "shuttle"))]
pub mod mock_clock {
    /// Current mock time in ticks (one tick is one nanosecond of timeout).
    pub fn now() -> u64 {
        super::clock_now()
    }
    /// Move the mock clock forward; every timed wait whose deadline is now in the past times out
    /// at its next check.
    pub fn advance(ticks: u64) {
        super::clock_advance(ticks)
    }
    /// Move the mock clock past every deadline.
    pub fn expire_all() {
        super::clock_advance(u64::MAX / 4)
    }
}

#[cfg(all(test, not(any(loom, feature = "shuttle"))))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn out_of_credit() -> SpinPolicy {
        let mut p = SpinPolicy::NEW;
        for _ in 0..SPIN_CREDIT {
            p.spun(false);
        }
        p
    }

    #[test]
    fn credit_buys_the_normal_spin_until_it_is_used_up() {
        let now = Instant::now();
        let mut p = SpinPolicy::NEW;
        for _ in 0..SPIN_CREDIT {
            assert_eq!(p.budget(now), Some(SPIN_BUDGET));
            p.spun(false);
        }
        assert_eq!(p.credit, 0);
        p.spun(false);
        assert_eq!(p.credit, 0, "the credit does not wrap");
    }

    #[test]
    fn a_spin_that_wins_restores_the_whole_credit() {
        let mut p = out_of_credit();
        p.spun(true);
        assert_eq!(
            p,
            SpinPolicy {
                credit: SPIN_CREDIT,
                ..out_of_credit()
            }
        );
    }

    // The P5 cliff: two ping-pong partners that both ran out of credit must start spinning
    // again within a period, however many waits they make meanwhile (a count of waits let them
    // park for thousands of round trips), and a probe must outlast a parked partner's wake-up.
    #[test]
    fn out_of_credit_a_thread_probes_once_per_period_however_often_it_waits() {
        let t0 = Instant::now();
        for gap_us in [1, 7, 100] {
            let mut p = out_of_credit();
            let waits = 10_000 / gap_us;
            let probes: Vec<u64> = (0..waits)
                .map(|i| i * gap_us)
                .filter(|&at| p.budget(t0 + Duration::from_micros(at)).is_some())
                .collect();
            let period = PROBE_PERIOD.as_micros() as u64;
            assert_eq!(probes[0], 0, "the first wait out of credit probes");
            for pair in probes.windows(2) {
                let gap = pair[1] - pair[0];
                assert!(
                    gap >= period && gap < period + gap_us,
                    "probes {gap} µs apart with waits every {gap_us} µs"
                );
            }
            assert_eq!(
                probes.len() as u64,
                10_000_u64.div_ceil(period.div_ceil(gap_us) * gap_us)
            );
        }
        assert!(PROBE_BUDGET > SPIN_BUDGET);
    }

    #[test]
    fn a_probe_that_wins_gives_the_thread_its_spin_back() {
        let now = Instant::now();
        let mut p = out_of_credit();
        assert_eq!(p.budget(now), Some(PROBE_BUDGET));
        assert_eq!(p.budget(now), None, "no second probe in the same period");
        p.spun(true);
        assert_eq!(p.budget(now), Some(SPIN_BUDGET));
    }
}
