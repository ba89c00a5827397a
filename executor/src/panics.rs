//! Containing panics of user code (I11). The pool calls user code in three ways: a task's closure
//! and the drops of tasks and results on a worker, which must never unwind ([`contain`]); and
//! the wakers and done-callbacks a `cancel` runs while the pool cancels many tasks at once, where
//! every task must still be cancelled before the first panic reaches the caller ([`Deferred`]).

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

type Payload = Box<dyn Any + Send + 'static>;

/// Run `f`; a panic it raises has been reported by the panic hook and goes no further.
pub(crate) fn contain(f: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
        drop_payload(payload);
    }
}

/// Drop a payload nobody re-raises. Its `Drop` is user code too: a panic there leaves a new
/// payload, dropped the same way; past a few nested panics the last one is forgotten (leaked),
/// the only answer that neither unwinds nor loops without end.
fn drop_payload(payload: Payload) {
    const NESTED: usize = 3;
    let mut left = Some(payload);
    for _ in 0..NESTED {
        let Some(p) = left.take() else { return };
        left = panic::catch_unwind(AssertUnwindSafe(move || drop(p))).err();
    }
    if let Some(p) = left {
        std::mem::forget(p);
    }
}

/// The first panic of a batch of calls that must all happen, kept to be raised after the last.
#[must_use = "a deferred panic must be raised (`raise`) or deliberately dropped"]
pub(crate) struct Deferred(Option<Payload>);

impl Deferred {
    /// Nothing caught yet.
    pub(crate) const fn new() -> Self {
        Deferred(None)
    }

    /// Call `f`; keep its panic if it is the batch's first, drop it otherwise.
    pub(crate) fn call(&mut self, f: impl FnOnce()) {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
            match self.0 {
                None => self.0 = Some(payload),
                Some(_) => drop_payload(payload),
            }
        }
    }

    /// The batch is over: re-raise its first panic, if any.
    pub(crate) fn raise(self) {
        if let Some(payload) = self.0 {
            panic::resume_unwind(payload);
        }
    }

    /// As [`raise`](Self::raise), from a `Drop`: on a thread already unwinding a second panic
    /// would abort the process, so the caught one is dropped instead.
    pub(crate) fn raise_unless_unwinding(self) {
        match self.0 {
            Some(payload) if std::thread::panicking() => drop_payload(payload),
            _ => self.raise(),
        }
    }
}

#[cfg(all(test, not(loom), not(feature = "shuttle")))]
mod tests {
    use super::*;

    struct PanicsWhenDropped;
    impl Drop for PanicsWhenDropped {
        fn drop(&mut self) {
            panic!("payload drop");
        }
    }

    #[test]
    fn every_call_happens_and_the_first_panic_is_raised_last() {
        let mut calls = 0;
        let mut batch = Deferred::new();
        batch.call(|| calls += 1);
        batch.call(|| panic!("first"));
        batch.call(|| panic!("second"));
        batch.call(|| calls += 1);
        assert_eq!(calls, 2);
        let raised = panic::catch_unwind(AssertUnwindSafe(|| batch.raise())).unwrap_err();
        assert_eq!(raised.downcast_ref::<&str>(), Some(&"first"));
        Deferred::new().raise(); // nothing caught: no panic
    }

    #[test]
    fn contained_panics_stop_here_even_when_their_payload_panics() {
        contain(|| panic!("contained"));
        contain(|| std::panic::panic_any(PanicsWhenDropped));
        let mut batch = Deferred::new();
        batch.call(|| panic!("kept"));
        batch.call(|| std::panic::panic_any(PanicsWhenDropped));
        let raised = panic::catch_unwind(AssertUnwindSafe(|| batch.raise())).unwrap_err();
        assert_eq!(raised.downcast_ref::<&str>(), Some(&"kept"));
    }
}
