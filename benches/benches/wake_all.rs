//! P6 `wake_all`: one cell, 8 threads blocked on it; complete it and measure until all 8 have
//! returned from their wait.
//!
//! Per iteration (untimed): a fresh cell is handed to the 8 persistent waiter threads, the bench
//! thread waits until all 8 are registered on the cell, then yields the CPU for 20 µs so each
//! waiter is really asleep (not between registering and parking). Timed: the completion and the
//! wake-ups, until the last waiter has counted itself woken (the bench thread yields while it
//! waits, so woken waiters may use its CPU too).

// The group macro generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use futuretask::FutureTask;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const WAITERS: usize = 8;

/// A cell many threads block on until one completion wakes them all.
trait Broadcast: Send + Sync + 'static {
    fn fresh() -> Self;
    /// Threads registered as waiting (for the untimed set-up only).
    fn waiting(&self) -> usize;
    fn complete(&self);
    fn wait(&self) -> u64;
}

impl Broadcast for Arc<FutureTask<u64>> {
    fn fresh() -> Self {
        Arc::new(FutureTask::new(|| black_box(42)))
    }
    fn waiting(&self) -> usize {
        self.waiter_stack_len()
    }
    fn complete(&self) {
        assert!(self.run());
    }
    fn wait(&self) -> u64 {
        *self.get().unwrap()
    }
}

/// Mutex + Condvar with `notify_all`, the waiters counted under the lock.
#[derive(Default)]
struct CondvarBroadcast {
    state: Mutex<(Option<u64>, usize)>,
    ready: Condvar,
}

impl Broadcast for Arc<CondvarBroadcast> {
    fn fresh() -> Self {
        Arc::default()
    }
    fn waiting(&self) -> usize {
        self.state.lock().unwrap().1
    }
    fn complete(&self) {
        self.state.lock().unwrap().0 = Some(black_box(42));
        self.ready.notify_all();
    }
    fn wait(&self) -> u64 {
        let mut g = self.state.lock().unwrap();
        g.1 += 1;
        let g = self.ready.wait_while(g, |s| s.0.is_none()).unwrap();
        g.0.unwrap()
    }
}

/// The floor of any design that sleeps in the kernel: a bare futex word, one `FUTEX_WAKE` of every
/// sleeper, no cell semantics (no value, no waiter registration beyond a counter).
#[derive(Default)]
struct RawFutex {
    word: std::sync::atomic::AtomicU32,
    waiting: AtomicUsize,
}

impl Broadcast for Arc<RawFutex> {
    fn fresh() -> Self {
        Arc::default()
    }
    fn waiting(&self) -> usize {
        self.waiting.load(Acquire)
    }
    fn complete(&self) {
        self.word.store(1, Release);
        // SAFETY: a futex wake on a live, aligned u32.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.word.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                i32::MAX,
            )
        };
    }
    fn wait(&self) -> u64 {
        self.waiting.fetch_add(1, AcqRel);
        while self.word.load(Acquire) == 0 {
            // SAFETY: a futex wait on a live, aligned u32 (returns at once if it is no longer 0).
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    self.word.as_ptr(),
                    libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                    0u32,
                    std::ptr::null::<libc::timespec>(),
                )
            };
        }
        black_box(42)
    }
}

struct Shared<B> {
    slot: Mutex<Option<B>>,
    go: Barrier,
    woken: AtomicUsize,
    stop: AtomicBool,
}

fn wake_all<B: Broadcast + Clone>(iters: u64) -> Duration {
    let shared = Arc::new(Shared::<B> {
        slot: Mutex::new(None),
        go: Barrier::new(WAITERS + 1),
        woken: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || loop {
                shared.go.wait();
                if shared.stop.load(Acquire) {
                    return;
                }
                let cell = shared.slot.lock().unwrap().clone().unwrap();
                black_box(cell.wait());
                shared.woken.fetch_add(1, AcqRel);
            })
        })
        .collect();
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let cell = B::fresh();
        *shared.slot.lock().unwrap() = Some(cell.clone());
        shared.woken.store(0, Release);
        shared.go.wait();
        while cell.waiting() < WAITERS {
            thread::yield_now();
        }
        let settle = Instant::now();
        while settle.elapsed() < Duration::from_micros(20) {
            thread::yield_now();
        }
        let t0 = Instant::now();
        cell.complete();
        while shared.woken.load(Acquire) < WAITERS {
            thread::yield_now();
        }
        total += t0.elapsed();
    }
    shared.stop.store(true, Release);
    shared.go.wait();
    for w in waiters {
        w.join().unwrap();
    }
    total
}

fn p6_wake_all(c: &mut Criterion) {
    let mut g = c.benchmark_group("P6_wake_all");
    g.sample_size(30);
    if common::quick() {
        g.warm_up_time(Duration::from_millis(300));
    }
    g.bench_function("futuretask", |b| {
        b.iter_custom(wake_all::<Arc<FutureTask<u64>>>)
    });
    g.bench_function("mutex_condvar", |b| {
        b.iter_custom(wake_all::<Arc<CondvarBroadcast>>)
    });
    g.bench_function("raw_futex_floor", |b| {
        b.iter_custom(wake_all::<Arc<RawFutex>>)
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = p6_wake_all
}
criterion_main!(benches);
