//! Small shared pieces: translating the kernel's results into the specification's vocabulary,
//! test tiers, a seeded RNG, a minimal `block_on` and a drop [`Tracker`].
//!
//! The foreign-code faults of I11 (wakers and values that panic, the quiet panic hook, catching
//! and recognising planted panics) are `futuretask_models::fault`, the one injector of the
//! workspace; the pieces the suites use everywhere are re-exported here, and [`raised_by`]
//! translates a planted panic into the specification's [`Raised`].

pub use futuretask_models::fault::{quiet_planted_panics, PlantedPayload, PLANTED};

use crate::model::{Fail, Outcome, Raised, Value, Wait};
use futuretask::{Error, Failure};
use futuretask_models::fault::Planted;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

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
pub fn observe_get(r: Result<&Value, Error>) -> Outcome {
    match r {
        Ok(v) => Outcome::Value(*v),
        Err(Error::Cancelled) => Outcome::Cancelled,
        Err(Error::Failed(f)) => Outcome::Failed(observe_failure(&f)),
        // The suites never wait inside an interrupted run.
        Err(Error::Interrupted) => panic!("a wait outside an interrupted run was interrupted"),
        Err(e) => panic!("an untimed get reported {e}"),
    }
}

/// A timed-get result in the specification's vocabulary.
pub fn observe_wait(r: Result<&Value, Error>) -> Wait {
    match r {
        Ok(v) => Wait::Out(Outcome::Value(*v)),
        Err(Error::Cancelled) => Wait::Out(Outcome::Cancelled),
        Err(Error::Failed(f)) => Wait::Out(Outcome::Failed(observe_failure(&f))),
        Err(Error::TimedOut) => Wait::TimedOut,
        Err(Error::Interrupted) => panic!("a wait outside an interrupted run was interrupted"),
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// The test tier: `Quick` by default, `Full` with `FT_TIER=full` (the gate's tier variable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// The default: fast enough for every `cargo test --workspace`.
    Quick,
    /// `FT_TIER=full`: the long runs.
    Full,
}

impl Tier {
    /// The tier selected by the environment.
    pub fn current() -> Tier {
        match std::env::var("FT_TIER") {
            Ok(v) if v == "full" => Tier::Full,
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

/// Which planted foreign panic a panic message is, as the specification names it (`None`: not
/// one of a [`FaultyWaker`](futuretask_models::fault::FaultyWaker)'s or a
/// [`Bomb`](futuretask_models::fault::Bomb)'s).
pub fn raised_by(message: &str) -> Option<Raised> {
    Some(match Planted::of(message)? {
        Planted::WakerClone => Raised::WakerClone,
        Planted::WakerWake => Raised::WakerWake,
        Planted::WakerDrop => Raised::WakerDrop,
        Planted::ValueDrop => Raised::ValueDrop,
    })
}

/// Counts creations and drops of [`Token`]s (`created`, `dropped`, `alive`): proves that every
/// value and every closure a suite hands to the kernel is dropped exactly once. The injector's
/// counter: a token is a [`Bomb`](futuretask_models::fault::Bomb) that never goes off
/// ([`Tracker::token`]).
pub use futuretask_models::fault::Bombs as Tracker;

/// A value whose drop is counted by its [`Tracker`] (and never panics).
pub use futuretask_models::fault::Bomb as Token;
