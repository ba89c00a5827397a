//! A million timed-out gets (zero and tiny timeouts, from several threads) on a pending task leave
//! no garbage: a sampler checks `waiter_stack_len() <= threads` at every sample (each thread has
//! at most one node linked at a time, and unlinks it before its get returns), and the stack is
//! empty at the end. Then the task completes and everyone sees the value.
//!
//! Tier: `FT_TIMED_GETS=N` total gets; else 1 000 000 (quick) / 10 000 000 (`FT_TIER=full`).

use futuretask::{Error, FutureTask};
use futuretask_tests::support::{report, Tier};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn a_million_timed_out_gets_leave_the_stack_bounded_and_empty() {
    let tier = Tier::current();
    let total = tier.count("FT_TIMED_GETS", 1_000_000, 10_000_000);
    let threads = 4u64;
    tier.announce(
        "timed-out gets",
        &format!("{total} gets from {threads} threads (zero, 1 ns, 1 µs, 20 µs, past deadline)"),
    );
    let task: Arc<FutureTask<u64>> = Arc::new(FutureTask::new(|| 77));
    let stop = Arc::new(AtomicBool::new(false));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let samples = Arc::new(AtomicU64::new(0));
    let timed_out = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(threads as usize + 1));
    let start = Instant::now();
    let sampler = {
        let (t, s, m, n) = (
            Arc::clone(&task),
            Arc::clone(&stop),
            Arc::clone(&max_seen),
            Arc::clone(&samples),
        );
        thread::spawn(move || {
            while !s.load(SeqCst) {
                let len = t.waiter_stack_len();
                m.fetch_max(len, SeqCst);
                n.fetch_add(1, SeqCst);
                assert!(
                    len <= threads as usize,
                    "{len} nodes linked with only {threads} waiting threads (garbage)"
                );
                thread::yield_now();
            }
        })
    };
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            let (t, b, to) = (
                Arc::clone(&task),
                Arc::clone(&barrier),
                Arc::clone(&timed_out),
            );
            thread::spawn(move || {
                b.wait();
                let n = total / threads + u64::from(i < total % threads);
                let mut local = 0;
                for k in 0..n {
                    // Half zero timeouts (fast path, no node), the rest take the slow path with
                    // a node linked and abandoned: 1 ns, 1 µs, a deadline already passed, and
                    // one in 64 a 20 µs timeout that parks (so the sampler sees linked nodes).
                    let r = match k % 64 {
                        63 => t.get_timeout(Duration::from_micros(20)), // parks: stays linked
                        x if x % 8 < 4 => t.get_timeout(Duration::ZERO),
                        x if x % 8 < 6 => t.get_timeout(Duration::from_nanos(1)),
                        x if x % 8 == 6 => t.get_timeout(Duration::from_micros(1)),
                        _ => t.get_deadline(Instant::now()),
                    };
                    assert!(matches!(r, Err(Error::TimedOut)));
                    local += 1;
                }
                to.fetch_add(local, SeqCst);
            })
        })
        .collect();
    barrier.wait();
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, SeqCst);
    sampler.join().unwrap();
    assert_eq!(timed_out.load(SeqCst), total);
    assert_eq!(
        task.waiter_stack_len(),
        0,
        "garbage left after every waiter timed out"
    );
    assert!(
        max_seen.load(SeqCst) > 0,
        "the sampler never saw a linked waiter"
    );
    report(&format!(
        "timed-out gets: {total} in {:.2?}, {} samples, max stack length {}",
        start.elapsed(),
        samples.load(SeqCst),
        max_seen.load(SeqCst)
    ));
    // The task is still perfectly usable.
    let waiters: Vec<_> = (0..threads)
        .map(|_| {
            let t = Arc::clone(&task);
            thread::spawn(move || *t.get().unwrap())
        })
        .collect();
    assert!(task.run());
    for w in waiters {
        assert_eq!(w.join().unwrap(), 77);
    }
    assert_eq!(task.waiter_stack_len(), 0);
}

/// Timed-out waiters interleaved with waiters that stay: the timed-out ones must be unlinked
/// from the middle of the stack while the others remain and are woken at completion.
#[test]
fn timeouts_amid_long_waiters() {
    let task: Arc<FutureTask<u32>> = Arc::new(FutureTask::new(|| 5));
    let long: Vec<_> = (0..3)
        .map(|_| {
            let t = Arc::clone(&task);
            thread::spawn(move || *t.get().unwrap())
        })
        .collect();
    let t0 = Instant::now();
    while task.waiter_stack_len() < 3 {
        assert!(t0.elapsed() < Duration::from_secs(10));
        thread::sleep(Duration::from_millis(1));
    }
    let short: Vec<_> = (0..3)
        .map(|_| {
            let t = Arc::clone(&task);
            thread::spawn(move || {
                for _ in 0..20_000 {
                    assert!(t.get_timeout(Duration::from_nanos(500)).is_err());
                }
            })
        })
        .collect();
    for s in short {
        s.join().unwrap();
    }
    assert_eq!(
        task.waiter_stack_len(),
        3,
        "exactly the long waiters remain"
    );
    task.run();
    for l in long {
        assert_eq!(l.join().unwrap(), 5);
    }
    assert_eq!(task.waiter_stack_len(), 0);
}
