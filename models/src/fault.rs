//! Fault injection for foreign code (I11): wakers whose `clone`, `wake` or `drop` panics, values
//! whose drop panics, callbacks that panic. The models and the test suites hand these to the
//! kernel wherever it calls user code, so every checker explores a panic at each foreign call
//! together with the races.
//!
//! Every planted panic message contains [`PLANTED`], so a quiet panic hook can tell them apart
//! from real assertion failures.

use super::{order, ProbeCounter};
use std::sync::Arc;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// Marker in every panic message planted by this module.
pub const PLANTED: &str = "ft-planted";

/// Which foreign call of a [`FaultyWaker`] panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// None: a well-behaved waker that counts its wakes.
    Never,
    /// `Waker::clone` panics (the kernel clones on registration and on a re-poll).
    Clone,
    /// `wake` / `wake_by_ref` panics, after counting the wake.
    Wake,
    /// Dropping a waker panics (unless the thread is already unwinding, which would abort).
    Drop,
}

/// A waker with a planted fault, counting wakes and live clones.
#[derive(Debug)]
pub struct FaultyWaker {
    fault: Fault,
    /// Cleared by [`FaultyWaker::disarm`] (a plain atomic: only the test's own control flow).
    armed: std::sync::atomic::AtomicBool,
    wakes: ProbeCounter,
    live: ProbeCounter,
}

impl FaultyWaker {
    /// A waker source with `fault`.
    pub fn new(fault: Fault) -> Arc<Self> {
        Arc::new(FaultyWaker {
            fault,
            armed: std::sync::atomic::AtomicBool::new(true),
            wakes: ProbeCounter::new(0),
            live: ProbeCounter::new(0),
        })
    }

    /// A `Waker` (all wakers of one source `will_wake` each other). Making it is not a clone, so
    /// it never panics.
    pub fn waker(self: &Arc<Self>) -> Waker {
        self.live.fetch_add(1, order::AcqRel);
        let data = Arc::into_raw(Arc::clone(self)).cast::<()>();
        // SAFETY: `data` is an `Arc<FaultyWaker>` leaked for the waker; the vtable's functions
        // follow the `RawWaker` contract (each consumes or borrows exactly that reference).
        unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
    }

    /// Stop planting faults (so the test can drop its own handles).
    pub fn disarm(&self) {
        self.armed.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    fn faulty(&self, at: Fault) -> bool {
        self.fault == at && self.armed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Wakes delivered (a panicking wake counts: the kernel called it).
    pub fn wakes(&self) -> usize {
        self.wakes.load(order::Acquire)
    }

    /// Wakers of this source still alive: 0 at the end of a model means the kernel dropped
    /// every waker it stored, exactly once.
    pub fn live(&self) -> usize {
        self.live.load(order::Acquire)
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_raw, wake_raw, wake_by_ref_raw, drop_raw);

/// # Safety
/// `data` is a live `Arc<FaultyWaker>` reference held by a waker.
unsafe fn borrow<'a>(data: *const ()) -> &'a FaultyWaker {
    // SAFETY: per the function contract.
    unsafe { &*data.cast::<FaultyWaker>() }
}

/// Release one waker's reference.
///
/// # Safety
/// `data` is a live reference owned by the waker being consumed.
unsafe fn release(data: *const ()) {
    // SAFETY: per the function contract.
    let w = unsafe { Arc::from_raw(data.cast::<FaultyWaker>()) };
    w.live.fetch_sub(1, order::AcqRel);
}

unsafe fn clone_raw(data: *const ()) -> RawWaker {
    // SAFETY: called on a live waker.
    let w = unsafe { borrow(data) };
    if w.faulty(Fault::Clone) {
        panic!("{PLANTED} waker clone");
    }
    w.live.fetch_add(1, order::AcqRel);
    // SAFETY: one more reference for the clone.
    unsafe { Arc::increment_strong_count(data.cast::<FaultyWaker>()) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake_raw(data: *const ()) {
    // SAFETY: called on a live waker, which this call consumes.
    let panics = unsafe { borrow(data) }.faulty(Fault::Wake);
    // SAFETY: as above.
    unsafe { wake_by_ref_count(data) };
    // SAFETY: the consumed waker's reference, released before any panic.
    unsafe { release(data) };
    if panics {
        panic!("{PLANTED} waker wake");
    }
}

unsafe fn wake_by_ref_count(data: *const ()) {
    // SAFETY: called on a live waker.
    unsafe { borrow(data) }.wakes.fetch_add(1, order::AcqRel);
}

unsafe fn wake_by_ref_raw(data: *const ()) {
    // SAFETY: called on a live waker.
    unsafe { wake_by_ref_count(data) };
    // SAFETY: as above.
    if unsafe { borrow(data) }.faulty(Fault::Wake) {
        panic!("{PLANTED} waker wake_by_ref");
    }
}

unsafe fn drop_raw(data: *const ()) {
    // SAFETY: called on a live waker, which this call consumes.
    let panics = unsafe { borrow(data) }.faulty(Fault::Drop);
    // SAFETY: as above.
    unsafe { release(data) };
    if panics && !std::thread::panicking() {
        panic!("{PLANTED} waker drop");
    }
}

/// A value whose drop panics (once armed), counting its drops.
#[derive(Debug)]
pub struct Bomb {
    drops: Arc<ProbeCounter>,
    armed: bool,
}

impl Bomb {
    /// A bomb whose drop panics; `drops` counts drops of every bomb sharing it.
    pub fn new(drops: &Arc<ProbeCounter>) -> Self {
        Bomb {
            drops: Arc::clone(drops),
            armed: true,
        }
    }

    /// A fresh drop counter.
    pub fn counter() -> Arc<ProbeCounter> {
        Arc::new(ProbeCounter::new(0))
    }

    /// How many bombs of this counter were dropped.
    pub fn dropped(counter: &ProbeCounter) -> usize {
        counter.load(order::Acquire)
    }
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.drops.fetch_add(1, order::AcqRel);
        if self.armed && !std::thread::panicking() {
            panic!("{PLANTED} value drop");
        }
    }
}

/// Run `f` and return the message of the planted panic it raised (`None` if it returned).
pub fn planted_panic<R>(f: impl FnOnce() -> R) -> Option<String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(_) => None,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            assert!(msg.contains(PLANTED), "unexpected panic: {msg}");
            Some(msg)
        }
    }
}

/// Install (once) a panic hook that stays silent for planted panics and defers to the previous
/// hook for everything else.
pub fn quiet_planted_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let msg = p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str));
            if msg.is_some_and(|m| m.contains(PLANTED)) {
                return;
            }
            prev(info);
        }));
    });
}
