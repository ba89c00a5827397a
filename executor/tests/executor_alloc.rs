//! Allocation counts of the executor: exactly one heap allocation per submitted task (the
//! task's own `Arc`, holding closure, state and result) once the queue's buffer has grown, and
//! none per wait. One test in this binary, so no other test allocates meanwhile.

use futuretask_executor::ThreadPool;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static A: Counting = Counting;

type GateCell = Arc<(Mutex<bool>, Condvar)>;

fn block(pool: &ThreadPool) -> GateCell {
    let gate: GateCell = Arc::default();
    let (tx, rx) = mpsc::channel();
    let g = Arc::clone(&gate);
    pool.execute(move || {
        tx.send(()).unwrap();
        let mut open = g.0.lock().unwrap();
        while !*open {
            open = g.1.wait(open).unwrap();
        }
    })
    .unwrap();
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    gate
}

fn open(gate: &GateCell) {
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
}

#[test]
fn one_allocation_per_task_none_per_wait() {
    const N: usize = 2000;
    let pool = ThreadPool::new(1).unwrap();
    let mut handles = Vec::with_capacity(N);
    // Warm up: grow the queue's buffer to N entries, park and wake the worker once...
    let gate = block(&pool);
    for i in 0..N {
        handles.push(pool.submit(move || i).unwrap());
    }
    open(&gate);
    for h in handles.drain(..) {
        h.get().unwrap();
    }
    // ...and block this thread in one `get`: its first wait asks the system for the CPU count
    // (the kernel's spin decision), which allocates, once per process.
    let slow = pool
        .submit(|| thread::sleep(Duration::from_millis(20)))
        .unwrap();
    slow.get().unwrap();

    let gate = block(&pool);
    let payload = [7u64; 4];
    let mut handles = Vec::with_capacity(N);
    let before = ALLOCS.load(SeqCst);
    for i in 0..N {
        handles.push(pool.submit(move || payload[i % 4] + i as u64).unwrap());
    }
    let submitted = ALLOCS.load(SeqCst) - before;

    let before = ALLOCS.load(SeqCst);
    for _ in 0..N {
        pool.execute(move || {
            std::hint::black_box(payload);
        })
        .unwrap();
    }
    let executed = ALLOCS.load(SeqCst) - before;
    // (The queue holds 2N entries now: its buffer grew once, which `executed` may include.)
    open(&gate); // before any assertion: a failing test must not leave the worker blocked

    let before = ALLOCS.load(SeqCst);
    let mut sum = 0;
    for h in &handles {
        sum += *h.get().unwrap();
    }
    let waited = ALLOCS.load(SeqCst) - before;
    assert_eq!(submitted, N, "one allocation per submitted task");
    assert!(
        (N..=N + 1).contains(&executed),
        "one allocation per executed job (plus one buffer growth): {executed}"
    );
    assert_eq!(waited, 0, "running and waiting allocate nothing");
    assert!(sum > 0);
}
