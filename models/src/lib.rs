//! # futuretask-models
//!
//! Concurrency models of the `futuretask` kernel, run against the kernel's own code through its
//! sync facade:
//!
//! * `tests/loom.rs`, `tests/loom_waits.rs` — exhaustive (or explicitly preemption-bounded) loom
//!   models of the kernel, one per invariant and one per racing pair (`RUSTFLAGS="--cfg loom"`);
//! * `tests/shuttle.rs`, `tests/shuttle_waits.rs` — randomized shuttle models of the kernel with
//!   4–8 threads under PCT and random scheduling (`--features shuttle`);
//! * `tests/miri_races.rs` — plain `std` races of the kernel for Miri (use-after-free, data races);
//! * `tests/executor_loom.rs`, `tests/executor_shuttle.rs`, `tests/executor_miri.rs` — the same
//!   three checkers on the executor (`futuretask-executor`), through its public API and the
//!   kernel's;
//! * `run-mutants.sh` — the mutation harness over the planted mutants.
//!
//! This library holds what the models share: the `FT-MODEL` report line (so no model can pass
//! silently), the loom, shuttle and race drivers that count iterations, and a counting waker.
//! Pieces of model bodies that a kernel file and an executor file share are in
//! `tests/common/`.
//! See `models/README.md` for how to run each tier and `models/MANIFEST.txt` for the list of
//! models a runner must see.

#![warn(missing_docs)]

pub mod fault;

use std::io::Write;
use std::sync::atomic::AtomicUsize;
#[cfg(any(loom, feature = "shuttle"))]
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The wake counter of [`WakeProbe`] is a checker atomic, so that "the waker fired" carries the
/// same happens-before edge a real executor's wake → poll hand-off does (a plain `std` atomic
/// would let loom read stale task state after seeing the wake).
#[cfg(loom)]
type ProbeCounter = loom::sync::atomic::AtomicUsize;
#[cfg(all(not(loom), feature = "shuttle"))]
type ProbeCounter = shuttle::sync::atomic::AtomicUsize;
#[cfg(all(not(loom), not(feature = "shuttle")))]
type ProbeCounter = AtomicUsize;
use std::task::{Wake, Waker};
use std::time::Instant;

/// The thread and sync primitives of the checker this crate is built for: loom under
/// `--cfg loom`, shuttle under the `shuttle` feature, `std` otherwise. Models use these for their
/// own threads so that the checker controls every thread of a model.
pub mod rt {
    #[cfg(loom)]
    pub use loom::{hint, thread};
    #[cfg(all(not(loom), feature = "shuttle"))]
    pub use shuttle::{hint, thread};
    #[cfg(all(not(loom), not(feature = "shuttle")))]
    pub use std::{hint, thread};
}

/// Print the one machine-readable line every model ends with:
///
/// `FT-MODEL checker=<c> name=<model> invariants=<I1,I3> iterations=<n> bound=<b> secs=<f>`
///
/// It is written straight to the process's stdout (not through `print!`), so the test harness's
/// output capture cannot swallow it. Panics if `iterations` is zero: a model that explored
/// nothing must fail, not pass.
pub fn report(
    checker: &str,
    name: &str,
    invariants: &str,
    iterations: usize,
    bound: &str,
    secs: f64,
) {
    assert!(
        iterations > 0,
        "model {name} under {checker} ran 0 iterations: refusing a silent pass"
    );
    let line = format!(
        "FT-MODEL checker={checker} name={name} invariants={invariants} iterations={iterations} bound={bound} secs={secs:.3}\n"
    );
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// Seconds since `start`, for [`report`].
pub fn secs_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// One mock-clock tick: a timed wait with this timeout expires at the clock's first `advance` (or
/// `expire_all`).
pub const TICK: std::time::Duration = std::time::Duration::from_nanos(1);

/// A waker that counts its wakes and can unpark one model thread (the thread that waits for it).
///
/// Clones are clones of the `Arc`, so `Arc::strong_count(&probe) == 1` at the end of a model
/// proves that the kernel dropped every waker it stored (no leak, no double drop).
#[derive(Debug)]
pub struct WakeProbe {
    wakes: ProbeCounter,
    #[cfg(any(loom, feature = "shuttle"))]
    thread: std::sync::Mutex<Option<rt::thread::Thread>>,
}

impl WakeProbe {
    /// A probe that only counts.
    pub fn new() -> Arc<Self> {
        Arc::new(WakeProbe {
            wakes: ProbeCounter::new(0),
            #[cfg(any(loom, feature = "shuttle"))]
            thread: std::sync::Mutex::new(None),
        })
    }

    /// A probe that also unparks the calling thread on every wake.
    #[cfg(any(loom, feature = "shuttle"))]
    pub fn for_current_thread() -> Arc<Self> {
        let p = Self::new();
        *p.thread.lock().unwrap() = Some(rt::thread::current());
        p
    }

    /// A `Waker` for this probe (all wakers of one probe `will_wake` each other).
    pub fn waker(self: &Arc<Self>) -> Waker {
        Waker::from(Arc::clone(self))
    }

    /// How many times a waker of this probe was woken.
    pub fn wakes(&self) -> usize {
        self.wakes.load(order::Acquire)
    }

    fn hit(&self) {
        self.wakes.fetch_add(1, order::AcqRel);
        #[cfg(any(loom, feature = "shuttle"))]
        {
            let t = self.thread.lock().unwrap().clone();
            if let Some(t) = t {
                t.unpark();
            }
        }
    }
}

impl Wake for WakeProbe {
    fn wake(self: Arc<Self>) {
        self.hit();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.hit();
    }
}

/// The memory of a dropped future, filled with a poison pattern and kept allocated (see
/// [`drop_and_poison`]). Freed, without running any destructor, when this is dropped — do that
/// at the very end of a model, after every kernel operation.
#[derive(Debug)]
pub struct Poisoned {
    ptr: *mut u8,
    layout: std::alloc::Layout,
}

// SAFETY: `Poisoned` owns a plain byte allocation and only ever frees it.
unsafe impl Send for Poisoned {}

impl Drop for Poisoned {
    fn drop(&mut self) {
        if self.layout.size() != 0 {
            // SAFETY: allocated by `Box` with this layout; its value was dropped in place
            // already, so only the memory is released.
            unsafe { std::alloc::dealloc(self.ptr, self.layout) };
        }
    }
}

/// The byte [`drop_and_poison`] fills a dropped future with.
pub const POISON: u8 = 0xA5;

/// Drop a boxed future in place — running its `Drop`, which unlinks its waiter node (I6) — then
/// overwrite its memory with [`POISON`] and keep it allocated. If the kernel touches the node
/// after the drop returned (a released-too-early or still-linked node), it reads poison instead
/// of memory that happens to still look valid: loom fails on the poisoned atomic (its object
/// index is out of bounds), shuttle on the nonsense state. This turns "the node is never touched
/// after its owner freed it" into something loom and shuttle check (Miri checks the real free).
pub fn drop_and_poison<F>(fut: std::pin::Pin<Box<F>>) -> Poisoned {
    // SAFETY: the value is dropped in place before its memory is reused (the `Pin` drop
    // guarantee holds), and the memory is not freed until the returned `Poisoned` is dropped.
    unsafe {
        let raw = Box::into_raw(std::pin::Pin::into_inner_unchecked(fut));
        std::ptr::drop_in_place(raw);
        let layout = std::alloc::Layout::new::<F>();
        std::ptr::write_bytes(raw.cast::<u8>(), POISON, layout.size());
        Poisoned {
            ptr: raw.cast::<u8>(),
            layout,
        }
    }
}

#[cfg(loom)]
use loom::sync::atomic::Ordering as order;
#[cfg(all(not(loom), feature = "shuttle"))]
use shuttle::sync::atomic::Ordering as order;
#[cfg(all(not(loom), not(feature = "shuttle")))]
use std::sync::atomic::Ordering as order;

/// Poll a future once with `waker`.
pub fn poll_once<F: std::future::Future + ?Sized>(
    fut: std::pin::Pin<&mut F>,
    waker: &Waker,
) -> std::task::Poll<F::Output> {
    let mut cx = std::task::Context::from_waker(waker);
    fut.poll(&mut cx)
}

/// Loom driver: runs a model under `loom::model::Builder` with an explicit bound and reports it.
#[cfg(loom)]
pub mod loom_driver {
    use super::*;

    /// How much of the interleaving space a loom model explores.
    #[derive(Clone, Copy, Debug)]
    pub enum Bound {
        /// Every interleaving (no preemption bound).
        Exhaustive,
        /// Interleavings with at most this many preemptions per execution.
        Preemption(usize),
    }

    /// Whether this is the full tier (`FT_TIER=full`, set by `cargo xtask verify`); the quick
    /// tier (the default) keeps every loom model within about a minute.
    pub fn full_tier() -> bool {
        std::env::var("FT_TIER").is_ok_and(|t| t == "full")
    }

    impl Bound {
        /// `quick` in the quick tier, `full` in the full tier (see [`full_tier`]).
        pub fn tiered(quick: Bound, full: Bound) -> Bound {
            if full_tier() {
                full
            } else {
                quick
            }
        }

        /// `FT_LOOM_PREEMPTION=<n>|none` replaces every model's bound (for measuring; the
        /// `FT-MODEL` line reports the bound that was actually used).
        fn overridden(self) -> Bound {
            match std::env::var("FT_LOOM_PREEMPTION").as_deref() {
                Ok("none") => Bound::Exhaustive,
                Ok(n) => n.parse().map(Bound::Preemption).unwrap_or(self),
                Err(_) => self,
            }
        }

        fn label(self) -> String {
            match self {
                Bound::Exhaustive => "exhaustive".to_owned(),
                Bound::Preemption(n) => format!("preemption={n}"),
            }
        }
    }

    /// Environment variables that would make loom stop early and still report a pass (or start
    /// from a stale checkpoint). The models refuse to run under them.
    const TRUNCATING_ENV: &[&str] = &[
        "LOOM_MAX_PERMUTATIONS",
        "LOOM_MAX_DURATION",
        "LOOM_CHECKPOINT_FILE",
    ];

    /// Run `f` under loom with `bound` and print its `FT-MODEL` line.
    pub fn check<F>(name: &str, invariants: &str, bound: Bound, f: F)
    where
        F: Fn() + Sync + Send + 'static,
    {
        for var in TRUNCATING_ENV {
            assert!(
                std::env::var_os(var).is_none(),
                "{var} is set: it would truncate the loom model {name} silently; unset it"
            );
        }
        let bound = bound.overridden();
        let mut builder = loom::model::Builder::new();
        // Explicit, so LOOM_MAX_PREEMPTIONS in the environment cannot change what a model claims.
        builder.preemption_bound = match bound {
            Bound::Exhaustive => None,
            Bound::Preemption(n) => Some(n),
        };
        // Reproducing a failure: FT_LOOM_CHECKPOINT=<file> checkpoints after every execution, so
        // the failing one is the last thing in the file; a second run with the same file resumes
        // right there and, with the log on, prints that execution step by step. A resumed model
        // did not explore from the start, so it reports nothing (a gate run with this variable
        // set fails the manifest check instead of passing).
        let replay = std::env::var_os("FT_LOOM_CHECKPOINT");
        if let Some(file) = &replay {
            // Relative to the workspace root (tests run in `models/`).
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            builder.checkpoint_file = Some(root.join(file));
            builder.checkpoint_interval = 1;
            builder.log = true;
            builder.location = true;
        }
        let iterations = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&iterations);
        let start = Instant::now();
        builder.check(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            f();
        });
        if replay.is_some() {
            eprintln!(
                "{name}: FT_LOOM_CHECKPOINT is set: passed from the checkpoint on; not reported"
            );
            return;
        }
        report(
            "loom",
            name,
            invariants,
            iterations.load(Ordering::Relaxed),
            &bound.label(),
            secs_since(start),
        );
    }
}

/// Shuttle driver: runs a model under the PCT and random schedulers and reports each run.
#[cfg(all(not(loom), feature = "shuttle"))]
pub mod shuttle_driver {
    use super::*;
    use shuttle::scheduler::{PctScheduler, RandomScheduler};
    use shuttle::{Config, FailurePersistence, Runner};

    /// Iterations scaled by `FT_SHUTTLE_SCALE` (default: 1 in the quick tier, 10 when
    /// `FT_TIER=full`).
    pub fn scaled(iterations: usize) -> usize {
        let default = if std::env::var("FT_TIER").is_ok_and(|t| t == "full") {
            10
        } else {
            1
        };
        let scale = std::env::var("FT_SHUTTLE_SCALE")
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(default)
            .max(1);
        iterations * scale
    }

    fn config() -> Config {
        let mut config = Config::new();
        // A failing schedule is printed; replay it with `shuttle::replay(model, "<schedule>")`
        // (see README.md).
        config.failure_persistence = FailurePersistence::Print;
        config
    }

    fn run<F>(
        checker: &str,
        name: &str,
        invariants: &str,
        bound: &str,
        runner: impl FnOnce(Arc<dyn Fn() + Send + Sync>) -> usize,
        f: F,
    ) where
        F: Fn() + Send + Sync + 'static,
    {
        let iterations = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&iterations);
        let start = Instant::now();
        let ran = runner(Arc::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            f();
        }));
        let counted = iterations.load(Ordering::Relaxed);
        assert_eq!(ran, counted, "shuttle iteration count mismatch");
        report(checker, name, invariants, counted, bound, secs_since(start));
    }

    /// `check_pct` with an explicit bug depth, reported as `checker=shuttle-pct`.
    pub fn pct<F>(name: &str, invariants: &str, iterations: usize, depth: usize, f: F)
    where
        F: Fn() + Send + Sync + 'static,
    {
        let iterations = scaled(iterations);
        run(
            "shuttle-pct",
            name,
            invariants,
            &format!("depth={depth}"),
            |f| Runner::new(PctScheduler::new(depth, iterations), config()).run(move || f()),
            f,
        );
    }

    /// `check_random`, reported as `checker=shuttle-random`.
    pub fn random<F>(name: &str, invariants: &str, iterations: usize, f: F)
    where
        F: Fn() + Send + Sync + 'static,
    {
        let iterations = scaled(iterations);
        run(
            "shuttle-random",
            name,
            invariants,
            "random",
            |f| Runner::new(RandomScheduler::new(iterations), config()).run(move || f()),
            f,
        );
    }

    /// Replay a schedule printed by a failing run (for debugging; see README.md).
    pub fn replay<F>(f: F, schedule: &str)
    where
        F: Fn() + Send + Sync + 'static,
    {
        shuttle::replay(f, schedule);
    }

    /// Replay the schedule `FT_SHUTTLE_REPLAY_SCHEDULE` of the model `FT_SHUTTLE_REPLAY_MODEL`,
    /// one of `models` (a model file's `(name, model)` list; the schedule may keep the line
    /// breaks shuttle printed and surrounding quotes). Panics naming the known models if the
    /// model is not in `models`.
    pub fn replay_from_env(models: &[(&str, fn())]) {
        let name = std::env::var("FT_SHUTTLE_REPLAY_MODEL").expect("FT_SHUTTLE_REPLAY_MODEL");
        let schedule =
            std::env::var("FT_SHUTTLE_REPLAY_SCHEDULE").expect("FT_SHUTTLE_REPLAY_SCHEDULE");
        let Some(&(_, model)) = models.iter().find(|(n, _)| *n == name) else {
            let known: Vec<_> = models.iter().map(|(n, _)| *n).collect();
            panic!(
                "unknown shuttle model {name} (this file's: {})",
                known.join(", ")
            );
        };
        replay(model, schedule.trim_matches('"'));
    }

    /// PCT bug depth used by [`both`] (3 covers the kernel's known bugs of depth ≤ 3: a
    /// preempted completer, a racing pusher / remover, and a third party).
    pub const DEPTH: usize = 3;

    /// Run `model` under PCT (depth [`DEPTH`]) and then under the random scheduler, `iterations`
    /// each (scaled, see [`scaled`]).
    pub fn both(name: &str, invariants: &str, iterations: usize, model: fn()) {
        pct(name, invariants, iterations, DEPTH, model);
        random(name, invariants, iterations, model);
    }

    /// Yield a random number (0..=max) of times, chosen by shuttle's scheduler-controlled RNG (so
    /// a failing schedule still replays). Without it the thread that starts the race (usually
    /// main) wins it in almost every iteration: a racing operation is a handful of steps, the
    /// other side tens of steps.
    pub fn jitter(max: usize) {
        use shuttle::rand::Rng;
        for _ in 0..shuttle::rand::thread_rng().gen_range(0..=max) {
            shuttle::thread::yield_now();
        }
    }
}

/// Race driver: runs a plain-`std` race (the `*_miri` / `miri_races` files) for a number of
/// iterations under a watchdog and reports it (`checker=miri` under Miri, `checker=std` natively).
#[cfg(not(any(loom, feature = "shuttle")))]
pub mod race_driver {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::thread;
    use std::time::Duration;

    /// Iterations per race: 8 per seed under Miri, 300 natively.
    pub fn iterations() -> usize {
        if cfg!(miri) {
            8
        } else {
            300
        }
    }

    /// The most a race may take per seed, in seconds of the clock it runs on (Miri's virtual
    /// clock under Miri, which advances with every step a thread takes, spinning included):
    /// `FT_MIRI_RACE_SECS` (forwarded by `run-miri.sh`), default 60.
    pub fn race_bound() -> Duration {
        let secs = std::env::var("FT_MIRI_RACE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60);
        Duration::from_secs(secs)
    }

    /// Run `body` for every iteration, under a watchdog: a race that has not finished within
    /// [`race_bound`] (a livelock — threads spinning on a hand-off that never comes — or a
    /// deadlock the watchdog's own sleeping keeps Miri from reporting) aborts the process with
    /// its name, so the seed fails and Miri names it, instead of the tier running into its
    /// overall timeout.
    pub fn run_race(name: &str, invariants: &str, body: impl Fn(usize)) {
        let start = Instant::now();
        let n = iterations();
        let bound = race_bound();
        let finished = Arc::new(AtomicBool::new(false));
        let watchdog = {
            let finished = Arc::clone(&finished);
            let name = name.to_owned();
            thread::spawn(move || {
                let deadline = Instant::now() + bound;
                while !finished.load(SeqCst) {
                    if Instant::now() >= deadline {
                        // Straight to stderr: the test harness's capture dies with the process.
                        let _ = writeln!(
                            std::io::stderr(),
                            "FT-MIRI-NO-PROGRESS race={name} bound={}s: the race did not finish \
                             (livelock or deadlock); Miri reports the failing seed",
                            bound.as_secs()
                        );
                        std::process::abort();
                    }
                    thread::sleep(Duration::from_millis(50));
                }
            })
        };
        for i in 0..n {
            body(i);
        }
        finished.store(true, SeqCst);
        watchdog.join().unwrap();
        let checker = if cfg!(miri) { "miri" } else { "std" };
        report(checker, name, invariants, n, "per-seed", secs_since(start));
    }
}
