//! Calls into foreign (user) code that may panic: wakers, done-callbacks, the drops of closures,
//! values and failures (I11).
//!
//! The kernel never lets such a panic interrupt a protocol step that other threads wait on. A
//! foreign call made while the protocol is unfinished (a batch walk, a drop loop) runs under
//! [`Panics::call`], which records the first panic and lets the protocol go on; the caller
//! re-raises it with [`Panics::resume`] once the protocol has finished. Foreign code never runs
//! while this thread holds a state another thread spins on (UPDATING, LOCKED, COMPLETING,
//! INTERRUPTING): it runs before entering or after leaving such a state.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// A panic's payload.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// The first panic raised by foreign code during one protocol operation.
#[must_use = "a recorded panic must be resumed (or deliberately discarded)"]
pub(crate) struct Panics(Option<Payload>);

impl Panics {
    /// No panic recorded.
    #[inline]
    pub(crate) const fn none() -> Self {
        Panics(None)
    }

    /// Run `f`; if it panics, keep the first panic (a later one is discarded) and return.
    #[inline]
    pub(crate) fn call(&mut self, f: impl FnOnce()) {
        if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
            self.record(p);
        }
    }

    /// Keep `p` if it is the first panic; discard it otherwise.
    pub(crate) fn record(&mut self, p: Payload) {
        match self.0 {
            None => self.0 = Some(p),
            Some(_) => discard(p),
        }
    }

    /// Whether a panic was recorded.
    #[cfg(test)]
    pub(crate) fn is_some(&self) -> bool {
        self.0.is_some()
    }

    /// The protocol has finished: re-raise the recorded panic in the caller that triggered it.
    #[inline(always)]
    pub(crate) fn resume(self) {
        if let Some(p) = self.0 {
            raise(p);
        }
    }

    /// As [`resume`](Self::resume), from a `Drop`: if this thread is already unwinding a panic of
    /// its own, a second one would abort the process, so the recorded one is discarded instead
    /// (the panic hook has already reported it).
    #[inline(always)]
    pub(crate) fn resume_from_drop(self) {
        if let Some(p) = self.0 {
            raise_from_drop(p);
        }
    }
}

/// Out of line: the common path (no panic recorded) stays a test and a branch.
#[cold]
#[inline(never)]
fn raise(p: Payload) -> ! {
    resume_unwind(p)
}

#[cold]
#[inline(never)]
fn raise_from_drop(p: Payload) {
    if std::thread::panicking() {
        discard(p);
    } else {
        resume_unwind(p);
    }
}

/// Drop a panic payload that nobody will re-raise. Its `Drop` is foreign code too: if it panics,
/// the new payload is dropped the same way, a few levels deep; a chain longer than that is
/// leaked (forgotten), the one answer that neither unwinds nor loops without bound.
pub(crate) fn discard(p: Payload) {
    const NESTED_DROPS: usize = 4;
    let mut p = p;
    for _ in 0..NESTED_DROPS {
        match catch_unwind(AssertUnwindSafe(move || drop(p))) {
            Ok(()) => return,
            Err(again) => p = again,
        }
    }
    std::mem::forget(p);
}

/// Run `f` and isolate a panic it raises: for foreign code whose panic the contract says is
/// reported by the panic hook and goes no further (done-callbacks, a worker's task).
#[inline]
pub(crate) fn isolate(f: impl FnOnce()) {
    if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
        discard(p);
    }
}

#[cfg(all(test, not(loom), not(feature = "shuttle")))]
mod tests {
    use super::*;

    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("payload drop");
        }
    }

    #[test]
    fn first_panic_wins_and_later_ones_are_discarded() {
        let mut p = Panics::none();
        p.call(|| {});
        assert!(!p.is_some());
        p.call(|| panic!("first"));
        p.call(|| panic!("second"));
        let got = catch_unwind(AssertUnwindSafe(|| p.resume())).unwrap_err();
        assert_eq!(got.downcast_ref::<&str>(), Some(&"first"));
    }

    #[test]
    fn a_payload_whose_drop_panics_is_contained() {
        isolate(|| std::panic::panic_any(PanicsOnDrop));
        let mut p = Panics::none();
        p.call(|| panic!("first"));
        p.call(|| std::panic::panic_any(PanicsOnDrop));
        assert!(p.is_some());
        discard(Box::new(PanicsOnDrop));
    }
}
