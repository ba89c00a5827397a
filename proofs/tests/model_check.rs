//! Exhaustive model checks of the FutureTask protocol (stateright).
//!
//! Run with `cargo test -p futuretask-proofs --release -- --nocapture` to see the numbers; the big
//! configuration of the brief runs with `-- --ignored big`. Each check uses `FT_CHECK_THREADS`
//! checker threads (default 2); the tests take a lock so that only one check runs at a time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futuretask_proofs::model::{Config, FutureTaskModel, Mutation};
use stateright::{Checker, Expectation, HasDiscoveries, Model};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn threads() -> usize {
    std::env::var("FT_CHECK_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

fn cfg(spec: &str) -> Config {
    Config::parse(spec).expect("config")
}

/// Checks every property exhaustively (breadth-first) and prints the numbers. The `always`
/// properties must hold; the `sometimes` (non-vacuity) examples are required only of the
/// configurations that have every actor they need (`quick`, `big`) and reported for the others.
fn check(name: &str, cfg: Config) {
    check_with(name, cfg, false, false)
}

fn assert_checked<C: Checker<FutureTaskModel>>(checker: &C, require_examples: bool) {
    if require_examples {
        checker.assert_properties();
        return;
    }
    for p in checker.model().properties() {
        match p.expectation {
            Expectation::Sometimes => {
                if checker.discovery(p.name).is_some() {
                    println!("   example found: {}", p.name);
                }
            }
            _ => checker.assert_no_discovery(p.name),
        }
    }
}

/// Same, depth-first when `dfs` (far less memory: only fingerprints are kept), with progress.
fn check_with(name: &str, cfg: Config, dfs: bool, require_examples: bool) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let builder = FutureTaskModel::new(cfg).checker().threads(threads());
    if dfs {
        let checker = builder.spawn_dfs();
        let mut last = Instant::now();
        while !checker.is_done() {
            std::thread::sleep(Duration::from_millis(200));
            if last.elapsed() >= Duration::from_secs(30) {
                last = Instant::now();
                eprintln!(
                    "[{name}] ... {} unique states, depth {}, {:.0}s",
                    checker.unique_state_count(),
                    checker.max_depth(),
                    start.elapsed().as_secs_f64()
                );
            }
        }
        let checker = checker.join();
        report(name, &checker, start);
        assert_checked(&checker, require_examples);
    } else {
        let checker = builder.spawn_bfs().join();
        report(name, &checker, start);
        assert_checked(&checker, require_examples);
    }
}

fn report<C: Checker<FutureTaskModel>>(name: &str, checker: &C, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!(
        "[{name}] unique states: {}, states: {}, max depth: {}, time: {secs:.1}s",
        checker.unique_state_count(),
        checker.state_count(),
        checker.max_depth()
    );
    // One machine-readable line per check (read by `cargo xtask verify`).
    println!(
        "FT-PROOF checker=stateright name={} unique_states={} max_depth={} secs={secs:.1}",
        name.split_whitespace().next().unwrap_or(name),
        checker.unique_state_count(),
        checker.max_depth()
    );
}

/// The default tier: runner, cancel_and_interrupt(), untimed and timed get, a callback; the closure may
/// sleep (and so consume the interrupt's unpark).
#[test]
fn quick() {
    check_with("quick R,C+,W,T,CB,+sleep", Config::quick(), false, true);
}

/// A promise: set racing fail and cancel(), with a timed waiter and an observer
/// (is_done then try_get), a callback.
#[test]
fn promise() {
    check("promise S,Sf,C,T,O,CB", cfg("S,Sf,C,T,O,CB"));
}

/// Async waiters: re-poll with a new waker (UPDATING) and drop (ABANDONED + sweep) racing the
/// completion and an interrupting cancel; the runner's closure may panic.
#[test]
fn async_waiters() {
    check("async R,C+,A1d,T", cfg("R,C+,A1d,T,+fail"));
}

/// Two runners (I4: the closure runs at most once) and an interrupting cancel; the closure may
/// sleep and may panic.
#[test]
fn two_runners() {
    check("two-runners R,R,C+,W", cfg("R,R,C+,W,+sleep,+fail"));
}

/// Callbacks registered concurrently with completion run once each, in registration order.
#[test]
fn callbacks() {
    check("callbacks S,CB,CB,CB,W", cfg("S,CB,CB,CB,W"));
}

/// Removers without a completer: timed waiters and a dropped future sweep each other's nodes
/// (LOCKED / DIRTY / re-sweep); spurious wakeups on.
#[test]
fn sweepers() {
    check("sweepers T,T,A0d", cfg("T,T,A0d,+spurious"));
}

/// Untimed waiters on the sleep word: two sleepers (in one batch or two, so the word changes
/// once or twice), racing an interrupting cancel and a callback that runs after H6; futex waits
/// may return spuriously.
#[test]
fn sleepers() {
    check("sleepers R,C+,W,W,CB", cfg("R,C+,W,W,CB,+spurious"));
}

/// Histories also checked by stateright's `LinearizabilityTester` (on top of the
/// linearization-point refinement check that every configuration runs): run racing
/// cancel_and_interrupt(), a timed get and an observer.
#[test]
fn linearizability_tester() {
    check("lin-tester R,C+,T,O", cfg("R,C+,T,O,+lin"));
}

/// `LinearizabilityTester` on run racing set and cancel(), with an observer.
#[test]
fn linearizability_tester_set() {
    check("lin-tester-set R,C,S,O", cfg("R,C,S,O,+lin,+fail"));
}

/// The brief's configuration: 1 runner + 1 canceller + 3 waiters (untimed, timed, async) + 1
/// callback. Minutes on two cores: run with `-- --ignored big`.
#[test]
#[ignore]
fn big() {
    check_with("big R,C+,W,T,A0,CB", Config::big(), true, true);
}

/// Measures an ad-hoc configuration:
/// `FT_PROBE="R,C+,W,T,A1d,CB" cargo test --release -- --ignored probe` (`FT_PROBE_DFS=1` for
/// depth-first).
#[test]
#[ignore]
fn probe() {
    let Ok(spec) = std::env::var("FT_PROBE") else {
        return; // nothing to measure
    };
    let cfg = Config::parse(&spec).expect("FT_PROBE");
    check_with(&spec, cfg, std::env::var("FT_PROBE_DFS").is_ok(), false);
}

// ---- mutations: each broken variant must produce a counterexample ----------------------------

/// Runs `mutation` on `spec` until a safety property fails; returns the violated properties and
/// prints the first counterexample when `show`.
fn find_counterexample(spec: &str, mutation: Mutation, show: bool) -> Vec<&'static str> {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let model = FutureTaskModel::new(cfg(spec).with_mutation(mutation));
    let checker = model
        .clone()
        .checker()
        .threads(threads())
        .finish_when(HasDiscoveries::AnyFailures)
        .spawn_bfs()
        .join();
    let mut violated: Vec<&'static str> = model
        .properties()
        .into_iter()
        .filter(|p| p.expectation == Expectation::Always)
        .filter(|p| checker.discovery(p.name).is_some())
        .map(|p| p.name)
        .collect();
    violated.sort_unstable();
    println!(
        "[mutation {mutation:?} on {spec}] violated: {violated:?} ({} states, {:.1}s)",
        checker.unique_state_count(),
        start.elapsed().as_secs_f64()
    );
    if show {
        let actors: Vec<String> = model
            .cfg
            .actors
            .iter()
            .enumerate()
            .map(|(t, a)| format!("t{t}={a:?}"))
            .collect();
        println!("threads: {}", actors.join(", "));
        for name in &violated {
            let path = checker.discovery(name).expect("discovery");
            println!("counterexample for \"{name}\":\n{path}");
            println!("last state:\n{}", model.describe(path.last_state()));
        }
    }
    assert!(
        !violated.is_empty(),
        "mutation {mutation:?} was not caught on {spec}"
    );
    violated
}

/// The "missing re-check after push" bug: the waiter links its node although the stack is
/// CLOSED, and parks; nobody will ever hand the node off.
#[test]
fn mutation_no_closed_check_on_push() {
    let v = find_counterexample("R,W", Mutation::NoClosedCheckOnPush, true);
    assert!(v.contains(&"I3 no lost wakeup"), "{v:?}");
}

/// The completer closes after its first batch: a waiter pushed while DRAINING is never woken.
#[test]
fn mutation_close_without_redrain() {
    let v = find_counterexample("R,W,W", Mutation::CloseWithoutRedrain, true);
    assert!(v.contains(&"I3 no lost wakeup"), "{v:?}");
}

#[test]
fn mutation_publish_before_write() {
    let v = find_counterexample("R,W", Mutation::PublishBeforeWrite, false);
    assert!(v.contains(&"I2 publication"), "{v:?}");
}

#[test]
fn mutation_wake_before_publish() {
    let v = find_counterexample("R,W,CB", Mutation::WakeBeforePublish, false);
    assert!(v.contains(&"I7 callbacks"), "{v:?}");
}

#[test]
fn mutation_skip_dirty_resweep() {
    let v = find_counterexample("T,T", Mutation::SkipDirtyResweep, false);
    assert!(v.contains(&"I3 no lost wakeup"), "{v:?}");
}

#[test]
fn mutation_no_interrupt_wait() {
    let v = find_counterexample("R,C+", Mutation::NoInterruptWait, false);
    assert!(v.contains(&"I5 interrupt hygiene"), "{v:?}");
}

#[test]
fn mutation_notify_ignores_updating() {
    let v = find_counterexample("R,A1", Mutation::NotifyIgnoresUpdating, false);
    assert!(
        v.contains(&"I3 no lost wakeup") || v.contains(&"I8 async wake"),
        "{v:?}"
    );
}

/// H6 before the batch's releases: the sleeper wakes, sees its node WAITING, reads the new sleep
/// word and blocks again; nobody wakes it after its node is DONE.
#[test]
fn mutation_wake_before_release() {
    let v = find_counterexample("R,W", Mutation::WakeBeforeRelease, true);
    assert!(v.contains(&"I3 no lost wakeup"), "{v:?}");
}

/// H6 skipped: the sleeper stays blocked on the sleep word after its node is DONE.
#[test]
fn mutation_sleeper_no_wake() {
    let v = find_counterexample("R,W", Mutation::SleeperNoWake, false);
    assert!(v.contains(&"I3 no lost wakeup"), "{v:?}");
}

/// Every mutation is covered by a test above.
#[test]
fn every_mutation_has_a_test() {
    assert_eq!(Mutation::ALL.len(), 9);
}
