//! Fault injection for foreign code (I11): wakers whose `clone`, `wake` or `drop` panics, values
//! whose drop panics, callbacks that panic. The models and the test suites (`futuretask-tests`:
//! the acceptance tests and the sequential differential harness) hand these to the kernel
//! wherever it calls user code, so every checker explores a panic at each foreign call together
//! with the races. This module is the one injector of the workspace.
//!
//! * [`FaultyWaker`] — a waker source with a planted [`Fault`]; counts its wakes and its live
//!   wakers, and can log the wakes to a shared [`WakeLog`] under an id;
//! * [`Bombs`] / [`Bomb`] — values whose drop panics (and duds that only count), counted;
//! * [`Planted`] — which planted foreign call a panic message comes from;
//! * [`catch_panic`], [`planted_panic`], [`quiet_planted_panics`], [`drop_own`] — running,
//!   recognising, silencing and avoiding planted panics.
//!
//! Every planted panic message contains [`PLANTED`] (and non-string planted payloads are
//! [`PlantedPayload`]s), so a quiet panic hook can tell them apart from real assertion failures.
//!
//! The counters the checkers read ([`FaultyWaker::wakes`], [`FaultyWaker::live`],
//! [`Bombs::dropped`]) are checker atomics under loom and shuttle, so a count carries the same
//! happens-before edge a real executor's wake → poll hand-off does. The [`WakeLog`] and
//! [`drop_own`] are for the `std` tier only (a `std` mutex, a `std` thread-local: loom and shuttle
//! run every model thread on one OS thread).

use super::{order, ProbeCounter};
use std::any::Any;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once};
use std::task::{RawWaker, RawWakerVTable, Waker};

/// Marker in every panic message planted by this module (and by the suites' own planted
/// closure and callback panics).
pub const PLANTED: &str = "ft-planted";

/// A non-string panic payload the suites plant (`std::panic::panic_any(PlantedPayload(n))`);
/// [`quiet_planted_panics`] keeps it quiet too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlantedPayload(pub u32);

/// Which foreign call of a [`FaultyWaker`] panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// None: a well-behaved waker that counts its wakes.
    Never,
    /// `Waker::clone` panics (the kernel clones on registration and on a re-poll).
    Clone,
    /// `wake` / `wake_by_ref` panics, after counting (and logging) the wake.
    Wake,
    /// Dropping a waker panics (unless the thread is already unwinding, which would abort, or the
    /// drop is the caller's own, [`drop_own`]).
    Drop,
}

/// The planted foreign call a panic came from (see [`Planted::of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Planted {
    /// A [`FaultyWaker`]'s clone ([`Fault::Clone`]).
    WakerClone,
    /// A [`FaultyWaker`]'s `wake` or `wake_by_ref` ([`Fault::Wake`]).
    WakerWake,
    /// A [`FaultyWaker`]'s drop ([`Fault::Drop`]).
    WakerDrop,
    /// A [`Bomb`]'s drop.
    ValueDrop,
}

impl Planted {
    /// Which planted foreign call raised the panic with `message`; `None` for anything else
    /// (a real panic, or a planted closure or callback panic).
    pub fn of(message: &str) -> Option<Planted> {
        match message.strip_prefix(PLANTED)? {
            " waker clone" => Some(Planted::WakerClone),
            " waker wake" | " waker wake_by_ref" => Some(Planted::WakerWake),
            " waker drop" => Some(Planted::WakerDrop),
            " value drop" => Some(Planted::ValueDrop),
            _ => None,
        }
    }
}

/// A log of wakes shared by several [`FaultyWaker`]s: each wake appends its source's id.
pub type WakeLog = Arc<Mutex<Vec<u32>>>;

/// A waker source with a planted fault, counting wakes and live wakers.
///
/// All wakers of one source `will_wake` each other, so re-polling with the same source keeps the
/// registered waker. [`FaultyWaker::live`] counts every waker of the source still alive: once the
/// caller has dropped its own, it is the number the kernel holds.
#[derive(Debug)]
pub struct FaultyWaker {
    id: u32,
    fault: Fault,
    /// Cleared by [`FaultyWaker::disarm`] (a plain atomic: only the test's own control flow).
    armed: AtomicBool,
    wakes: ProbeCounter,
    live: ProbeCounter,
    log: Option<WakeLog>,
}

impl FaultyWaker {
    /// A waker source with `fault` (id 0, counting its wakes).
    pub fn new(fault: Fault) -> Arc<Self> {
        Self::build(0, fault, None)
    }

    /// A waker source `id` with `fault` that also appends `id` to `log` on every wake (before a
    /// planted `wake` panic). For the `std` tier.
    pub fn logged(id: u32, fault: Fault, log: &WakeLog) -> Arc<Self> {
        Self::build(id, fault, Some(Arc::clone(log)))
    }

    fn build(id: u32, fault: Fault, log: Option<WakeLog>) -> Arc<Self> {
        Arc::new(FaultyWaker {
            id,
            fault,
            armed: AtomicBool::new(true),
            wakes: ProbeCounter::new(0),
            live: ProbeCounter::new(0),
            log,
        })
    }

    /// A new `Waker` of this source. Making it is not a clone, so it never panics.
    pub fn waker(self: &Arc<Self>) -> Waker {
        self.live.fetch_add(1, order::AcqRel);
        let data = Arc::into_raw(Arc::clone(self)).cast::<()>();
        // SAFETY: `data` is an `Arc<FaultyWaker>` leaked for the waker; the vtable's functions
        // follow the `RawWaker` contract (each consumes or borrows exactly that reference).
        unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
    }

    /// Stop planting faults, for good (so the test can drop its own handles). To drop one
    /// handle quietly and keep the fault for the kernel's, use [`drop_own`].
    pub fn disarm(&self) {
        self.armed.store(false, SeqCst);
    }

    fn faulty(&self, at: Fault) -> bool {
        self.fault == at && self.armed.load(SeqCst)
    }

    /// The source's id (0 unless made by [`FaultyWaker::logged`]).
    pub fn id(&self) -> u32 {
        self.id
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

    fn woken(&self) {
        self.wakes.fetch_add(1, order::AcqRel);
        if let Some(log) = &self.log {
            log.lock().unwrap().push(self.id);
        }
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
    let w = unsafe { borrow(data) };
    let panics = w.faulty(Fault::Wake);
    w.woken();
    // SAFETY: the consumed waker's reference, released before any panic; `w` is not used past
    // this point.
    unsafe { release(data) };
    if panics {
        panic!("{PLANTED} waker wake");
    }
}

unsafe fn wake_by_ref_raw(data: *const ()) {
    // SAFETY: called on a live waker.
    let w = unsafe { borrow(data) };
    w.woken();
    if w.faulty(Fault::Wake) {
        panic!("{PLANTED} waker wake_by_ref");
    }
}

unsafe fn drop_raw(data: *const ()) {
    // SAFETY: called on a live waker, which this call consumes.
    let panics = unsafe { borrow(data) }.faulty(Fault::Drop);
    // SAFETY: as above.
    unsafe { release(data) };
    if panics && drop_panics() {
        panic!("{PLANTED} waker drop");
    }
}

/// Counts the [`Bomb`]s made from it and their drops: proves that every value whose drop panics
/// (and every [`token`](Bombs::token), a dud) is dropped exactly once.
#[derive(Debug)]
pub struct Bombs {
    /// A plain atomic: only the test's own control flow reads it (no checker scheduling point).
    made: AtomicUsize,
    dropped: ProbeCounter,
}

impl Bombs {
    /// A fresh counter.
    pub fn new() -> Arc<Bombs> {
        Arc::new(Bombs {
            made: AtomicUsize::new(0),
            dropped: ProbeCounter::new(0),
        })
    }

    /// A new bomb counted here: its drop panics.
    pub fn bomb(self: &Arc<Self>) -> Bomb {
        self.make(true)
    }

    /// A new dud counted here: a value whose drop never panics, only counts (for proving that
    /// values and closures handed to the kernel are dropped exactly once).
    pub fn token(self: &Arc<Self>) -> Bomb {
        self.make(false)
    }

    fn make(self: &Arc<Self>, armed: bool) -> Bomb {
        self.made.fetch_add(1, SeqCst);
        Bomb {
            bombs: Arc::clone(self),
            armed,
        }
    }

    /// Bombs (and tokens) made so far.
    pub fn created(&self) -> usize {
        self.made.load(SeqCst)
    }

    /// Bombs (and tokens) dropped so far (a panicking drop counts: it happened).
    pub fn dropped(&self) -> usize {
        self.dropped.load(order::Acquire)
    }

    /// Bombs (and tokens) alive: made and not yet dropped.
    pub fn alive(&self) -> usize {
        self.created() - self.dropped()
    }
}

/// A value counted by its [`Bombs`] when it drops. A bomb ([`Bombs::bomb`]) then panics with
/// `ft-planted value drop` (unless the thread is already unwinding, where a second panic would
/// abort, or the drop is the caller's own, [`drop_own`]); a dud ([`Bombs::token`]) never does.
#[derive(Debug)]
pub struct Bomb {
    bombs: Arc<Bombs>,
    armed: bool,
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.bombs.dropped.fetch_add(1, order::AcqRel);
        if self.armed && drop_panics() {
            panic!("{PLANTED} value drop");
        }
    }
}

thread_local! {
    /// Set while [`drop_own`] drops something: planted drop panics stay quiet then.
    static OWN_DROP: Cell<bool> = const { Cell::new(false) };
}

/// Drop something the caller itself holds (its own waker handle, a value handed back to it)
/// without its planted drop panic: that panic would be the caller's, not the kernel's. Still
/// counted as dropped. For the `std` tier (loom and shuttle share one OS thread between model
/// threads; there, [`FaultyWaker::disarm`] or `mem::forget`).
pub fn drop_own<T>(x: T) {
    OWN_DROP.with(|own| {
        own.set(true);
        drop(x);
        own.set(false);
    });
}

/// Whether a planted drop panic fires now.
fn drop_panics() -> bool {
    !std::thread::panicking() && !OWN_DROP.with(Cell::get)
}

/// The message of a panic payload (`None` if it is not a string).
fn message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Run `f`; `Err(message)` if it panicked (the message of a string payload, else empty).
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|p| message(&*p).unwrap_or_default().to_owned())
}

/// Run `f` and return the message of the planted panic it raised (`None` if it returned).
/// Panics on a panic that was not planted.
pub fn planted_panic<R>(f: impl FnOnce() -> R) -> Option<String> {
    let msg = catch_panic(f).err()?;
    assert!(msg.contains(PLANTED), "unexpected panic: {msg}");
    Some(msg)
}

/// Install (once per process) a panic hook that stays silent for planted panics (messages
/// containing [`PLANTED`], [`PlantedPayload`]s) and defers to the previous hook for everything
/// else, so real assertion failures still print.
pub fn quiet_planted_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            if message(p).is_some_and(|m| m.contains(PLANTED)) || p.is::<PlantedPayload>() {
                return;
            }
            prev(info);
        }));
    });
}
