//! loom tests of the user crate, written as a downstream user writes them. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p futuretask-user-example --release --test loom`.
//!
//! With `--cfg loom`, futuretask's atomics, parking and cells are loom's, so every interleaving
//! loom explores here includes the kernel's own steps (the claim in `run`, the completion, the
//! waiter push and park in `get`), not just this test's.
//!
//! [`memo_computes_each_key_once`] checks the memo's promise over every interleaving;
//! [`loom_catches_check_then_act`] runs a deliberately wrong use (a check-then-act race around the
//! task) and asserts that loom finds the interleaving that breaks the same promise;
//! [`one_value_for_every_reader`] is the README's example, kept compiling and passing here.

#![cfg(loom)]

use futuretask_user_example::Memo;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::Arc;

/// A value that records which computation produced it: two computations of one key give two
/// different values, so "every reader sees the one value" is checkable.
type Stamped = (u32, usize);

/// A compute function that counts its calls (a loom atomic: one more interleaved step).
fn counting(calls: &Arc<AtomicUsize>) -> impl Fn(&u32) -> Stamped + Send + Sync + 'static {
    let calls = Arc::clone(calls);
    move |k| (*k, calls.fetch_add(1, SeqCst))
}

/// Run `f` under loom (unbounded: every interleaving, up to loom's DPOR) and return how many
/// executions loom explored.
fn explore(f: impl Fn() + Send + Sync + 'static) -> usize {
    let executions = Arc::new(StdAtomicUsize::new(0));
    let counter = Arc::clone(&executions);
    loom::model::Builder::new().check(move || {
        counter.fetch_add(1, SeqCst);
        f();
    });
    executions.load(SeqCst)
}

/// **The memo's promise, under every interleaving.** Two threads ask for keys 1 and 2 in
/// opposite orders, so for each key either may be the one that computes it and the other waits
/// (or finds it done). Checks: each key computed exactly once, both threads see the same value
/// for each key, and `peek` afterwards returns it.
#[test]
fn memo_computes_each_key_once() {
    let executions = explore(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let memo = Arc::new(Memo::new([1u32, 2], counting(&calls)));
        let other = Arc::clone(&memo);
        let t = thread::spawn(move || [*other.get(&1).unwrap(), *other.get(&2).unwrap()]);
        let two = *memo.get(&2).unwrap();
        let one = *memo.get(&1).unwrap();
        let seen = t.join().unwrap();
        assert_eq!(seen, [one, two], "the two threads saw different values");
        assert_eq!(calls.load(SeqCst), 2, "a key was computed twice");
        assert_eq!(memo.peek(&1), Some(&one));
    });
    println!("memo_computes_each_key_once: loom explored {executions} executions");
    assert!(executions > 1);
}

/// A user's "non-blocking" read, and it is WRONG: a check-then-act race around the task. It
/// checks whether the value is there (`peek`) and, if not, acts by computing it itself instead of
/// waiting. Between the check and the act another thread may be computing the same key: the key
/// is computed twice and the two callers see different values.
fn get_without_waiting(memo: &Memo<u32, Stamped>, compute: impl Fn(&u32) -> Stamped) -> Stamped {
    match memo.peek(&1) {
        Some(v) => *v,       // check: already computed?
        None => compute(&1), // act: "not yet, so compute it here" (the race)
    }
}

/// **loom catches the user's bug, through the kernel.** One thread uses the memo correctly; the
/// other uses [`get_without_waiting`]. The failure needs the wrong thread's `peek` (the kernel's
/// state load in `try_get`) not to see the other thread's `run` publish the value (the kernel's
/// completion store): either it runs before that store, or — since nothing orders the two
/// threads — it reads the state word's older value even after the other thread's `get` has
/// returned, which loom's model of the atomics allows and its first execution already tries. The
/// test asserts that `loom::model` fails, and fails with the memo's invariant.
#[test]
fn loom_catches_check_then_act() {
    let executions = Arc::new(StdAtomicUsize::new(0));
    let counter = Arc::clone(&executions);
    let found = std::panic::catch_unwind(move || {
        loom::model::Builder::new().check(move || {
            counter.fetch_add(1, SeqCst);
            let calls = Arc::new(AtomicUsize::new(0));
            let memo = Arc::new(Memo::new([1u32], counting(&calls)));
            let other = Arc::clone(&memo);
            let compute = counting(&calls);
            let t = thread::spawn(move || get_without_waiting(&other, compute));
            let mine = *memo.get(&1).unwrap();
            let theirs = t.join().unwrap();
            assert_eq!(mine, theirs, "the two threads saw different values");
            assert_eq!(calls.load(SeqCst), 1, "the key was computed twice");
        });
    });
    let failed_at = executions.load(SeqCst);
    let message = found
        .err()
        .map(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
        .expect("loom explored every interleaving and did not find the check-then-act race");
    println!(
        "loom_catches_check_then_act: loom found the race at execution {failed_at}: {message}"
    );
    assert!(
        message.contains("saw different values") || message.contains("computed twice"),
        "loom failed for another reason: {message}"
    );
}

/// The README's example (section "Checking your own code with loom and shuttle").
#[test]
fn one_value_for_every_reader() {
    use futuretask::FutureTask;
    loom::model(|| {
        let task = Arc::new(FutureTask::new(|| 42));
        let other = task.clone();
        let t = loom::thread::spawn(move || {
            other.run();
            *other.get().unwrap()
        });
        task.run();
        assert_eq!(*task.get().unwrap(), t.join().unwrap());
    });
}
