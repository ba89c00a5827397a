//! shuttle tests of the user crate, the same scenarios as `tests/loom.rs`. Run with
//! `cargo test -p futuretask-user-example --features shuttle --release --test shuttle`.
//!
//! The crate's `shuttle` feature turns on futuretask's: the kernel's atomics, parking and threads
//! become shuttle's, so shuttle's schedulers (random, and PCT with its bug-depth guarantee)
//! interleave the kernel's own steps under this code. Unlike loom, shuttle samples schedules
//! rather than enumerating them, but copes with more threads, so these scenarios use four.

#![cfg(feature = "shuttle")]

use futuretask_user_example::Memo;
use shuttle::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use shuttle::thread;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::Arc;

/// A value that records which computation produced it (see `tests/loom.rs`).
type Stamped = (u32, usize);

/// Schedules per scheduler.
const ITERATIONS: usize = 10_000;
/// PCT bug depth.
const DEPTH: usize = 3;

/// A compute function that counts its calls.
fn counting(calls: &Arc<AtomicUsize>) -> impl Fn(&u32) -> Stamped + Send + Sync + 'static {
    let calls = Arc::clone(calls);
    move |k| (*k, calls.fetch_add(1, SeqCst))
}

/// The memo's promise with four threads asking for keys 1 and 2 (in different orders): each key
/// computed exactly once, every thread sees the same value for each key.
fn memo_scenario() {
    let calls = Arc::new(AtomicUsize::new(0));
    let memo = Arc::new(Memo::new([1u32, 2], counting(&calls)));
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let memo = Arc::clone(&memo);
            thread::spawn(move || {
                let keys = if i % 2 == 0 { [1, 2] } else { [2, 1] };
                let mut seen = keys.map(|k| *memo.get(&k).unwrap());
                seen.sort();
                seen
            })
        })
        .collect();
    let mine = [*memo.get(&1).unwrap(), *memo.get(&2).unwrap()];
    for t in threads {
        assert_eq!(t.join().unwrap(), mine, "two threads saw different values");
    }
    assert_eq!(calls.load(SeqCst), 2, "a key was computed twice");
}

/// The memo's promise under shuttle's random scheduler.
#[test]
fn memo_computes_each_key_once_random() {
    shuttle::check_random(memo_scenario, ITERATIONS);
}

/// The memo's promise under shuttle's PCT scheduler.
#[test]
fn memo_computes_each_key_once_pct() {
    shuttle::check_pct(memo_scenario, ITERATIONS, DEPTH);
}

/// The wrong use of `tests/loom.rs`: a check-then-act race (`peek`, then compute it here
/// instead of waiting).
fn get_without_waiting(memo: &Memo<u32, Stamped>, compute: impl Fn(&u32) -> Stamped) -> Stamped {
    match memo.peek(&1) {
        Some(v) => *v,       // check: already computed?
        None => compute(&1), // act: "not yet, so compute it here" (the race)
    }
}

/// One thread uses the memo correctly, one uses [`get_without_waiting`], a third reads
/// correctly too; the memo's promise is asserted.
fn racy_scenario() {
    let calls = Arc::new(AtomicUsize::new(0));
    let memo = Arc::new(Memo::new([1u32], counting(&calls)));
    let racy = {
        let memo = Arc::clone(&memo);
        let compute = counting(&calls);
        thread::spawn(move || get_without_waiting(&memo, compute))
    };
    let reader = {
        let memo = Arc::clone(&memo);
        thread::spawn(move || *memo.get(&1).unwrap())
    };
    let mine = *memo.get(&1).unwrap();
    assert_eq!(reader.join().unwrap(), mine);
    assert_eq!(
        racy.join().unwrap(),
        mine,
        "two threads saw different values"
    );
    assert_eq!(calls.load(SeqCst), 1, "the key was computed twice");
}

/// Assert that `check`, given a shuttle run of [`racy_scenario`], fails with the memo's
/// invariant; print at which iteration.
fn assert_finds_race(
    scheduler: &str,
    check: impl FnOnce(Box<dyn Fn() + Send + Sync>) + std::panic::UnwindSafe,
) {
    let iterations = Arc::new(StdAtomicUsize::new(0));
    let counter = Arc::clone(&iterations);
    let scenario = Box::new(move || {
        counter.fetch_add(1, SeqCst);
        racy_scenario();
    });
    let message = std::panic::catch_unwind(move || check(scenario))
        .err()
        .map(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
        .expect("shuttle did not find the check-then-act race");
    let at = iterations.load(SeqCst);
    println!("shuttle ({scheduler}) found the race at iteration {at}: {message}");
    assert!(
        message.contains("saw different values") || message.contains("computed twice"),
        "shuttle failed for another reason: {message}"
    );
}

/// shuttle's random scheduler catches the user's check-then-act race, through the kernel.
#[test]
fn shuttle_random_catches_check_then_act() {
    assert_finds_race("random", |f| shuttle::check_random(f, ITERATIONS));
}

/// shuttle's PCT scheduler catches it too.
#[test]
fn shuttle_pct_catches_check_then_act() {
    assert_finds_race("pct", |f| shuttle::check_pct(f, ITERATIONS, DEPTH));
}
