//! Compile-time guarantees: `Send`/`Sync` exactly when sound, and size bounds.
//!
//! * `FutureTask<T>` is `Sync` iff `T: Send + Sync` (readers on any thread get `&T`; the value is
//!   produced on the runner's thread) and `Send` iff `T: Send`.
//! * `Arc<FutureTask<T>>`, `TaskHandle<T>`, `Promise<T>` and the `WhenDone` future cross threads
//!   iff `T: Send + Sync`;
//!   the borrowing `Wait` future iff the task is `Sync`.
//! * Nothing thread-bound (`Rc`, `Cell`, a `MutexGuard`) can be smuggled across threads.

use futuretask::{Closure, Error, Failure, FutureTask, NoJob, Promise, TaskHandle, Wait, WhenDone};
use futuretask_tests::support::report;
use static_assertions::{assert_impl_all, assert_not_impl_any, const_assert};
use std::cell::Cell;
use std::mem::size_of;
use std::rc::Rc;
use std::sync::{Arc, MutexGuard};

type Guard = MutexGuard<'static, u8>; // Sync but not Send
type Fn0<T> = fn() -> T;

// T: Send + Sync → everything is Send + Sync.
assert_impl_all!(FutureTask<u32>: Send, Sync);
assert_impl_all!(FutureTask<String, NoJob>: Send, Sync);
assert_impl_all!(FutureTask<Vec<u8>, Closure<Fn0<Vec<u8>>>>: Send, Sync);
assert_impl_all!(Arc<FutureTask<u32>>: Send, Sync);
assert_impl_all!(Promise<u32>: Send, Sync);
assert_impl_all!(WhenDone<u32>: Send);
assert_impl_all!(TaskHandle<u32>: Send, Sync, Clone);
assert_impl_all!(Wait<'static, u32>: Send);
assert_impl_all!(Failure: Send, Sync);
assert_impl_all!(Failure: Clone);
assert_impl_all!(Error: Send, Sync, Clone, std::error::Error);

// T: Send but !Sync (Cell): the task may move, but not be shared.
assert_impl_all!(FutureTask<Cell<u8>, NoJob>: Send);
assert_not_impl_any!(FutureTask<Cell<u8>, NoJob>: Sync);
assert_not_impl_any!(FutureTask<Cell<u8>>: Sync);
assert_not_impl_any!(Arc<FutureTask<Cell<u8>>>: Send, Sync);
assert_not_impl_any!(Promise<Cell<u8>>: Send, Sync);
assert_not_impl_any!(WhenDone<Cell<u8>>: Send);
assert_not_impl_any!(TaskHandle<Cell<u8>>: Send, Sync);
assert_not_impl_any!(Wait<'static, Cell<u8>>: Send);

// T: Sync but !Send (MutexGuard): may not be shared either (it would be dropped elsewhere).
assert_not_impl_any!(FutureTask<Guard, NoJob>: Send, Sync);
assert_not_impl_any!(Promise<Guard>: Send);

// T: neither (Rc).
assert_not_impl_any!(FutureTask<Rc<u8>, NoJob>: Send, Sync);
assert_not_impl_any!(FutureTask<Rc<u8>>: Send, Sync);
assert_not_impl_any!(Promise<Rc<u8>>: Send, Sync);
assert_not_impl_any!(WhenDone<Rc<u8>>: Send);
assert_not_impl_any!(TaskHandle<Rc<u8>>: Send, Sync);

// Size: the state word, the waiter-stack head and its sleep word (a 32-bit futex word, padded to
// a word), the runner pointer and the outcome (Result<(), Failure>) — a handful of words.
const WORD: usize = size_of::<usize>();
const_assert!(size_of::<FutureTask<(), NoJob>>() <= 9 * WORD);
const_assert!(size_of::<FutureTask<u64, Closure<Fn0<u64>>>>() <= 10 * WORD);
const_assert!(size_of::<Promise<u64>>() == WORD);
// A reader is the type-erased task's `Arc` (data and vtable pointers); a failure one `Arc`.
const_assert!(size_of::<TaskHandle<u64>>() == 2 * WORD);
const_assert!(size_of::<Failure>() == WORD);

#[test]
fn print_sizes() {
    report(&format!(
        "sizes: FutureTask<(), NoJob> = {} B, FutureTask<u64, Closure<fn>> = {} B, \
         Failure = {} B, Promise<u64> = {} B, WhenDone<u64> = {} B, Wait<u64> = {} B",
        size_of::<FutureTask<(), NoJob>>(),
        size_of::<FutureTask<u64, Closure<Fn0<u64>>>>(),
        size_of::<Failure>(),
        size_of::<Promise<u64>>(),
        size_of::<WhenDone<u64>>(),
        size_of::<Wait<'static, u64>>(),
    ));
}
