//! Multi-threaded races of the executor for Miri (`bash models/run-miri.sh <seeds>`), through its
//! public API: plain `std` threads against the real thread pool, run like the kernel's races
//! (`miri_races.rs`, `futuretask_models::race_driver`): small iteration counts, once per seed with
//! `-Zmiri-many-seeds`, natively as a smoke test, each with its `FT-MODEL checker=miri` line
//! (`checker=std` when not under Miri).

#![cfg(not(any(loom, feature = "shuttle")))]

use futuretask_models::race_driver::run_race;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;

/// **submitters × workers × shutdown_now** (I10, Q1–Q3): two submitters push into the pool's
/// two-lock ring while two workers pop from it; the ring starts empty and grows under the race
/// (8 slots, then 16 or 32 when the workers fall behind), and `shutdown_now` drains what is left
/// under both locks. Miri checks
/// the ring's slot hand-over (a slot read before it is written, or rewritten before it is read, is
/// a data race or an uninitialised read) and the buffer replacement; the test checks that every
/// accepted task ran or was cancelled and listed, and that nothing was run twice.
#[test]
fn pool_push_pop_grow() {
    use futuretask_executor::ThreadPool;
    run_race("pool_push_pop_grow", "I10", |i| {
        let pool = Arc::new(ThreadPool::new(2).unwrap());
        let ran = Arc::new(AtomicUsize::new(0));
        let submitters: Vec<_> = (0..2)
            .map(|_| {
                let (p, r) = (Arc::clone(&pool), Arc::clone(&ran));
                thread::spawn(move || {
                    (0..12)
                        .map(|k| {
                            let r = Arc::clone(&r);
                            p.submit(move || {
                                r.fetch_add(1, SeqCst);
                                k
                            })
                            .ok()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        if i % 2 == 1 {
            thread::yield_now();
        }
        let unstarted = pool.shutdown_now();
        let handles: Vec<_> = submitters
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .flatten()
            .collect();
        drop(pool);
        // Done, or cancelled in the queue (listed), or cancelled while running (started: its
        // closure ran to the end before the workers were joined).
        let (mut done, mut interrupted) = (0, 0);
        for h in &handles {
            match h.try_get().expect("I10: an accepted task was left pending") {
                Ok(_) => done += 1,
                Err(_) => {
                    assert!(h.is_cancelled());
                    if !unstarted.iter().any(|u| u.is(h)) {
                        interrupted += 1;
                    }
                }
            }
        }
        done += interrupted;
        assert_eq!(
            ran.load(SeqCst),
            done,
            "I10: a listed task ran, or a task ran twice"
        );
    });
}
