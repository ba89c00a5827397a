//! A counting global allocator. A test binary installs it with
//!
//! ```no_run
//! #[global_allocator]
//! static A: futuretask_tests::alloc::Counting = futuretask_tests::alloc::Counting;
//! # fn main() {}
//! ```
//!
//! and then counts the allocations made *by the current thread* ([`count_on_this_thread`]) —
//! other threads of the test harness allocate concurrently, so a per-thread count is the only
//! exact one — or watches the process-wide number of live allocations ([`live`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// The counting allocator (delegates to [`System`]).
pub struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static TOTAL: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // `const` and without a destructor: safe to touch from inside the allocator at any time.
    static THREAD_ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn note_alloc() {
    LIVE.fetch_add(1, Relaxed);
    TOTAL.fetch_add(1, Relaxed);
    let _ = THREAD_ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` unchanged; the counters have no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(1, Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation counts as one allocation (live count unchanged).
        TOTAL.fetch_add(1, Relaxed);
        let _ = THREAD_ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (and reallocations) made by this thread so far.
pub fn on_this_thread() -> u64 {
    THREAD_ALLOCS.with(Cell::get)
}

/// Run `f` and return its result with the number of allocations this thread made meanwhile.
pub fn count_on_this_thread<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = on_this_thread();
    let r = f();
    (r, on_this_thread() - before)
}

/// Live allocations in the whole process (allocations minus deallocations).
pub fn live() -> i64 {
    LIVE.load(Relaxed)
}

/// Allocations in the whole process so far.
pub fn total() -> u64 {
    TOTAL.load(Relaxed)
}
