//! Small shared pieces: translating the kernel's results into the specification's vocabulary,
//! test tiers, a seeded RNG, a panic hook that keeps planted panics quiet, a minimal `block_on`,
//! and the foreign-code faults of I11 (wakers and values that panic).
//!
//! The faults mirror `futuretask_models::fault` (same panic messages), but live here because the
//! harness in this *library* cannot use that crate: it is only a dev-dependency of the tests.

use crate::model::{Fail, Outcome, Raised, Value, Wait, WakerFault};
use futuretask::{Failure, GetError, WaitError};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Wake, Waker};
use std::thread::{self, Thread};

/// Prefix of every panic message the suites plant on purpose.
pub const PLANTED: &str = "ft-planted";

/// The panic message of planted closure panic `n`.
pub fn panic_message(n: u32) -> String {
    format!("{PLANTED} panic {n}")
}

/// The error message of failure `n` (`fail(err)`).
pub fn error_message(n: u32) -> String {
    format!("ft-error {n}")
}

/// The error value the suites pass to `fail`.
pub fn error(n: u32) -> Box<dyn std::error::Error + Send + Sync> {
    error_message(n).into()
}

/// Which [`Fail`] a kernel failure is. Panics on a failure the suites never plant.
pub fn observe_failure(f: &Failure) -> Fail {
    if f.is_broken_promise() {
        return Fail::BrokenPromise;
    }
    if f.is_panic() {
        let m = f.panic_message().unwrap_or_default();
        if let Some(n) = m
            .strip_prefix(PLANTED)
            .and_then(|r| r.strip_prefix(" panic "))
        {
            return Fail::Panic(n.parse().expect("planted panic number"));
        }
        panic!("unexpected panic failure: {f}");
    }
    if let Some(e) = f.error() {
        let m = e.to_string();
        if let Some(n) = m.strip_prefix("ft-error ") {
            return Fail::Error(n.parse().expect("error number"));
        }
    }
    panic!("unexpected failure: {f}")
}

/// A `get`/callback result in the specification's vocabulary.
pub fn observe_get(r: Result<&Value, GetError<'_>>) -> Outcome {
    match r {
        Ok(v) => Outcome::Value(*v),
        Err(GetError::Cancelled) => Outcome::Cancelled,
        Err(GetError::Failed(f)) => Outcome::Failed(observe_failure(f)),
    }
}

/// A timed-get result in the specification's vocabulary.
pub fn observe_wait(r: Result<&Value, WaitError<'_>>) -> Wait {
    match r {
        Ok(v) => Wait::Out(Outcome::Value(*v)),
        Err(WaitError::Cancelled) => Wait::Out(Outcome::Cancelled),
        Err(WaitError::Failed(f)) => Wait::Out(Outcome::Failed(observe_failure(f))),
        Err(WaitError::TimedOut) => Wait::TimedOut,
    }
}

/// A non-string panic payload the suites plant (`std::panic::panic_any(PlantedPayload(n))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlantedPayload(pub u32);

/// Install (once per process) a panic hook that stays silent for planted panics
/// (messages containing `ft-planted`, [`PlantedPayload`]) and defers to the previous hook for everything else, so real assertion
/// failures still print.
pub fn quiet_planted_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let msg = p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str));
            if msg.is_some_and(|m| m.contains(PLANTED)) || p.is::<PlantedPayload>() {
                return;
            }
            prev(info);
        }));
    });
}

/// The test tier: `Quick` by default, `Full` with `FT_FULL=1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// The default: fast enough for every `cargo test --workspace`.
    Quick,
    /// `FT_FULL=1`: the long runs.
    Full,
}

impl Tier {
    /// The tier selected by the environment.
    pub fn current() -> Tier {
        match std::env::var("FT_FULL") {
            Ok(v) if !v.is_empty() && v != "0" => Tier::Full,
            _ => Tier::Quick,
        }
    }

    /// `quick` or `full`, overridden by the environment variable `var` when it is set to a
    /// number.
    pub fn count(self, var: &str, quick: u64, full: u64) -> u64 {
        if let Some(n) = std::env::var(var).ok().and_then(|v| v.parse().ok()) {
            return n;
        }
        match self {
            Tier::Quick => quick,
            Tier::Full => full,
        }
    }

    /// Print which tier a suite runs. Written to the process's stderr directly, so it shows even
    /// when the test harness captures the test's output.
    pub fn announce(self, suite: &str, what: &str) {
        report(&format!("{suite}: tier {self:?}: {what}"));
    }
}

/// Print one `[futuretask-tests] …` line on the process's stderr, bypassing the test harness's
/// output capture (so tiers, counts and timings show in every `cargo test` run).
pub fn report(line: &str) {
    use std::io::Write;
    // One write, so the line is not interleaved with the harness's own output.
    let line = format!("[futuretask-tests] {line}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// SplitMix64: a tiny seeded generator (replayable: every suite prints its seed).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A seed from `var` if set, else from the clock.
    pub fn seed_from_env(var: &str) -> u64 {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0x5eed, |d| d.as_nanos() as u64)
            })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `num/den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drive a future to completion on this thread (park between polls).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

/// Run `f`; `Err(message)` if it panicked (the message of a string payload, else empty).
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    })
}

/// Which planted foreign panic a panic message is (`None`: not one of [`FaultyWaker`]'s or
/// [`Bomb`]'s).
pub fn raised_by(message: &str) -> Option<Raised> {
    match message.strip_prefix(PLANTED)? {
        " waker clone" => Some(Raised::WakerClone),
        " waker wake" | " waker wake_by_ref" => Some(Raised::WakerWake),
        " waker drop" => Some(Raised::WakerDrop),
        " value drop" => Some(Raised::ValueDrop),
        _ => None,
    }
}

thread_local! {
    /// Set while the harness drops something of its own: planted drop panics stay quiet then.
    static OWN_DROP: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Drop something the harness itself holds (its own waker handle, a value handed back to it)
/// without its planted drop panic: that panic would be the harness's, not the kernel's, and
/// unwinding costs time. Still counted as dropped.
pub fn drop_own<T>(x: T) {
    OWN_DROP.with(|own| {
        own.set(true);
        drop(x);
        own.set(false);
    });
}

/// Whether a planted drop panic should fire now.
fn drop_panics() -> bool {
    !thread::panicking() && !OWN_DROP.with(|own| own.get())
}

/// A waker source with a planted [`WakerFault`]: every wake appends its id to a shared log (before
/// a planted `wake` panic), and it counts its live wakers, so that the harness can compare which
/// wakers the kernel still holds with what the specification says. A planted drop panic stays
/// quiet while unwinding and in [`drop_own`].
#[derive(Debug)]
pub struct FaultyWaker {
    id: u32,
    fault: WakerFault,
    log: Arc<Mutex<Vec<u32>>>,
    live: AtomicUsize,
}

impl FaultyWaker {
    /// A source of wakers `id` with `fault`, logging wakes to `log`.
    pub fn new(id: u32, fault: WakerFault, log: &Arc<Mutex<Vec<u32>>>) -> Arc<Self> {
        Arc::new(FaultyWaker {
            id,
            fault,
            log: Arc::clone(log),
            live: AtomicUsize::new(0),
        })
    }

    /// A new `Waker` of this source (not a clone: never panics). All of them `will_wake` each
    /// other, so re-polling with the same source keeps the registered waker.
    pub fn waker(self: &Arc<Self>) -> Waker {
        self.live.fetch_add(1, SeqCst);
        let data = Arc::into_raw(Arc::clone(self)).cast::<()>();
        // SAFETY: `data` is an `Arc<FaultyWaker>` reference owned by the new waker; the vtable's
        // functions consume or borrow exactly that reference (the `RawWaker` contract).
        unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
    }

    /// Wakers of this source alive (the harness drops its own after each use).
    pub fn live(&self) -> usize {
        self.live.load(SeqCst)
    }

    /// The waker id.
    pub fn id(&self) -> u32 {
        self.id
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_raw, wake_raw, wake_by_ref_raw, drop_raw);

/// # Safety
/// `data` is a live `Arc<FaultyWaker>` reference owned by a waker.
unsafe fn source<'a>(data: *const ()) -> &'a FaultyWaker {
    // SAFETY: per the function contract.
    unsafe { &*data.cast::<FaultyWaker>() }
}

/// Release the reference of a consumed waker.
///
/// # Safety
/// `data` is a live reference owned by the waker being consumed.
unsafe fn release(data: *const ()) -> WakerFault {
    // SAFETY: per the function contract.
    let w = unsafe { Arc::from_raw(data.cast::<FaultyWaker>()) };
    w.live.fetch_sub(1, SeqCst);
    w.fault
}

unsafe fn clone_raw(data: *const ()) -> RawWaker {
    // SAFETY: called on a live waker.
    let w = unsafe { source(data) };
    if w.fault == WakerFault::Clone {
        panic!("{PLANTED} waker clone");
    }
    w.live.fetch_add(1, SeqCst);
    // SAFETY: one more reference, owned by the clone.
    unsafe { Arc::increment_strong_count(data.cast::<FaultyWaker>()) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake_by_ref_raw(data: *const ()) {
    // SAFETY: called on a live waker.
    let w = unsafe { source(data) };
    w.log.lock().unwrap().push(w.id);
    if w.fault == WakerFault::Wake {
        panic!("{PLANTED} waker wake");
    }
}

unsafe fn wake_raw(data: *const ()) {
    // SAFETY: called on a live waker, consumed here: logged, then released before any panic.
    let w = unsafe { source(data) };
    w.log.lock().unwrap().push(w.id);
    // SAFETY: as above; `w` is not used past this point.
    if unsafe { release(data) } == WakerFault::Wake {
        panic!("{PLANTED} waker wake");
    }
}

unsafe fn drop_raw(data: *const ()) {
    // SAFETY: called on a live waker, consumed here (released before any panic).
    let fault = unsafe { release(data) };
    // A second panic while unwinding would abort the process.
    if fault == WakerFault::Drop && drop_panics() {
        panic!("{PLANTED} waker drop");
    }
}

/// Counts creations and drops of [`Token`]s: proves that every value and every closure a suite
/// hands to the kernel is dropped exactly once.
#[derive(Debug, Default)]
pub struct Tracker {
    created: std::sync::atomic::AtomicUsize,
    dropped: std::sync::atomic::AtomicUsize,
}

impl Tracker {
    /// A new tracker.
    pub fn new() -> Arc<Tracker> {
        Arc::new(Tracker::default())
    }

    /// A new token counted by this tracker.
    pub fn token(self: &Arc<Self>) -> Token {
        self.created
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Token(Arc::clone(self))
    }

    /// Tokens created so far.
    pub fn created(&self) -> usize {
        self.created.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Tokens dropped so far.
    pub fn dropped(&self) -> usize {
        self.dropped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Tokens alive (created and not yet dropped).
    pub fn alive(&self) -> usize {
        self.created() - self.dropped()
    }

    /// A new [`Bomb`] counted by this tracker.
    pub fn bomb(self: &Arc<Self>) -> Bomb {
        self.created.fetch_add(1, SeqCst);
        Bomb(Arc::clone(self))
    }
}

/// A value whose drop panics with `ft-planted value drop` (unless the thread is already
/// unwinding, where a second panic would abort, or the harness drops it as its own with
/// [`drop_own`]); counted by its [`Tracker`] before it panics.
#[derive(Debug)]
pub struct Bomb(Arc<Tracker>);

impl Drop for Bomb {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, SeqCst);
        if drop_panics() {
            panic!("{PLANTED} value drop");
        }
    }
}

/// A value whose drop is counted by its [`Tracker`].
#[derive(Debug)]
pub struct Token(Arc<Tracker>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0
            .dropped
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}
