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

/// Checks every property exhaustively (breadth-first): the `always` properties must hold, and
/// the `sometimes` examples named in `required` must be reached (the others are reported).
fn check_reaching(name: &str, cfg: Config, required: &[&'static str]) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let checker = FutureTaskModel::new(cfg)
        .checker()
        .threads(threads())
        .spawn_bfs()
        .join();
    report(name, &checker, start);
    assert_checked(&checker, false);
    let properties = checker.model().properties();
    for want in required {
        assert!(
            properties.iter().any(|p| p.name == *want),
            "[{name}] no example {want:?}"
        );
        assert!(
            checker.discovery(want).is_some(),
            "[{name}] example not reached: {want}"
        );
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

/// A counted task (I13): a promise that sets, a reader's cancel_and_interrupt() (straight to
/// INTERRUPTED, no C5), an untimed get, an async waiter that may re-poll and be dropped, and a
/// handle that clones itself; every one of them drops its reference when done, the last frees
/// the task. The waiters announce (P0) before or after the promise's W1, or find it settled
/// unannounced. The counted examples (W1's CAS failing on a count change and on an
/// announcement, W1 with and without the drain, a pusher finding the task settled unannounced
/// and one pushing after it settled announced, a cancel beating the promise, both ways of
/// freeing, a count change while a waiter waits) are required.
#[test]
fn counted() {
    check_with("counted P,C+,W,A1d,H", cfg("P,C+,W,A1d,H"), false, true);
}

/// A counted task whose promise is dropped without setting (the broken promise, after its
/// `is_done()` check), with a timed get (abandon and sweep while the count changes), an observer
/// and a cloner; then one whose promise fails, racing a plain cancel(), an untimed get and a
/// callback (registered before W1, so drained, or after it, so run at once or pushed after an
/// announcement).
#[test]
fn counted_broken() {
    check_with(
        "counted-broken Pd,C+,T,O,H",
        cfg("Pd,C+,T,O,H"),
        false,
        true,
    );
    check_with("counted-fail Pf,C,W,CB,H", cfg("Pf,C,W,CB,H"), false, true);
}

/// A counted task without a canceller: a timed get, an observer and a cloner can all drop their
/// references before the promise publishes without announcing, so W1's own CAS gives up the
/// last reference and the promise frees the task (required), or the timed get announces first
/// and W1 drains.
#[test]
fn counted_release() {
    check_with("counted-release P,T,O,H", cfg("P,T,O,H"), false, true);
}

// The taker's examples (`FutureTaskModel::taker_examples`), named by the tests below.
const TAKE_LAST: &str = "a taker moves the outcome as the last reference";
const TAKE_AFTER_DRAIN: &str = "a taker moves the outcome after the promise's drain closed";
const TAKE_PROMISE_FREES: &str = "the promise frees the task after a taker's move (W3)";
const TAKE_TAKER_FREES: &str = "a taker frees the task after its fetch_sub";
const TAKE_PENDING: &str = "a take finds the task pending";
const TAKE_SHARED: &str = "a take is refused: another reference";
const TAKE_CANCELLED: &str = "a take finds the task cancelled";
const TAKE_WAITS: &str = "a take waits for the drain to close (T5)";
const TAKE_CALLBACKS: &str = "a take is refused: a done-callback is still to run (T5)";

/// A counted task's reader takes the outcome by value (T4, T5; the promise's W3): the promise
/// (sets, fails, or is dropped unset) and a taker that waits (`get()`) and then takes. Nobody
/// else can read the outcome, so the take must succeed (I13 take completes): as the last
/// reference (W1 gave the promise's up, or W3 came first), or after the drain closed the stack
/// while the promise still holds its reference (DRAIN_HELD), whoever of the two frees the task.
#[test]
fn take() {
    for (name, spec) in [
        ("take", "P,K"),
        ("take-fail", "Pf,K"),
        ("take-unset", "Pd,K"),
    ] {
        check_reaching(
            &format!("{name} {spec}"),
            cfg(spec),
            &[
                TAKE_LAST,
                TAKE_AFTER_DRAIN,
                TAKE_PROMISE_FREES,
                TAKE_TAKER_FREES,
            ],
        );
    }
}

/// Takers beside other readers: a taker that waits, one that takes at once (it may find the task
/// pending), an observer (is_done, try_get) and a cloning handle. A take while another reference
/// is held is refused, and no reader reads the outcome after it was moved.
#[test]
fn take_readers() {
    check_reaching(
        "take-readers P,K,K0,O,H",
        cfg("P,K,K0,O,H"),
        &[TAKE_LAST, TAKE_AFTER_DRAIN, TAKE_PENDING, TAKE_SHARED],
    );
}

/// A taker and two done-callbacks, whose registrars drop their references once registered: the
/// drain wakes the taker in a batch with a callback (detached without closing, DRAINING), so the
/// take gives up while the callbacks are to run (T5) and moves the outcome only once the drain
/// closed the stack; a callback registered after the close runs at once, by a registrar that
/// still holds its reference (the take is refused). Then a callback and a timed get that may
/// abandon its node and sweep the stack (LOCKED, DIRTY) while the drain hands the batch off.
#[test]
fn take_callbacks() {
    check_reaching(
        "take-callbacks P,K,CB,CB",
        cfg("P,K,CB,CB"),
        &[TAKE_LAST, TAKE_AFTER_DRAIN, TAKE_SHARED, TAKE_CALLBACKS],
    );
    check_reaching(
        "take-timed P,K,CB,T",
        cfg("P,K,CB,T"),
        &[TAKE_LAST, TAKE_AFTER_DRAIN, TAKE_SHARED, TAKE_CALLBACKS],
    );
}

/// A taker that takes at once while the promise drains for an async waiter that may re-poll and
/// be dropped (its node unlinked by its own sweep): the take waits for the close (T5); the
/// promise fails, and a waiting taker moves the failure out.
#[test]
fn take_async() {
    check_reaching(
        "take-async Pf,K,K0,A1d",
        cfg("Pf,K,K0,A1d"),
        &[TAKE_LAST, TAKE_AFTER_DRAIN, TAKE_PENDING, TAKE_WAITS],
    );
}

/// Takers racing a reader's cancel_and_interrupt() and an untimed get: a cancelled task has no
/// outcome to move (the taker reports the cancel and drops its reference, T2); a broken promise
/// racing a plain cancel(), a taker, a callback and an observer.
#[test]
fn take_cancel() {
    check_reaching(
        "take-cancel P,C+,K,K0,W",
        cfg("P,C+,K,K0,W"),
        &[TAKE_LAST, TAKE_AFTER_DRAIN, TAKE_CANCELLED, TAKE_SHARED],
    );
    check_reaching(
        "take-broken Pd,C,K,CB,O",
        cfg("Pd,C,K,CB,O"),
        &[TAKE_LAST, TAKE_AFTER_DRAIN, TAKE_CANCELLED, TAKE_CALLBACKS],
    );
}

/// The full tier's counted configuration (`--include-ignored`), the big configuration's
/// counterpart: a promise that sets, an interrupting cancel, untimed, timed and async gets, and a
/// cloning handle (depth-first; a droppable, re-polled async waiter on top of these was explored
/// for minutes without finishing: `counted` has it with fewer other threads).
#[test]
#[ignore]
fn counted_big() {
    check_with(
        "counted-big P,C+,W,T,A0,H",
        cfg("P,C+,W,T,A0,H"),
        true,
        true,
    );
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
    find_counterexample_until(spec, mutation, HasDiscoveries::AnyFailures, show)
}

/// Same, running until `until` (e.g. until the consequence of a bug, not only its first symptom).
fn find_counterexample_until(
    spec: &str,
    mutation: Mutation,
    until: HasDiscoveries,
    show: bool,
) -> Vec<&'static str> {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let model = FutureTaskModel::new(cfg(spec).with_mutation(mutation));
    let checker = model
        .clone()
        .checker()
        .threads(threads())
        .finish_when(until)
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
        let properties = model.properties();
        for name in &violated {
            // The checker keeps the last violating state it visited (the bad bits are sticky),
            // not the first: search again with a growing depth bound for a shortest path, and
            // cut it at its first state that violates the property.
            let path = (1..)
                .find_map(|depth| {
                    model
                        .clone()
                        .checker()
                        .target_max_depth(depth)
                        .finish_when(HasDiscoveries::AnyOf([*name].into()))
                        .spawn_bfs()
                        .join()
                        .discovery(name)
                })
                .expect("discovery")
                .into_vec();
            let holds = properties
                .iter()
                .find(|p| p.name == *name)
                .expect("property")
                .condition;
            let first = path
                .iter()
                .position(|(s, _)| !holds(&model, s))
                .expect("the path violates the property");
            let steps: Vec<String> = path[..first]
                .iter()
                .filter_map(|(_, a)| a.map(|a| format!("{a:?}")))
                .collect();
            println!(
                "counterexample for \"{name}\" ({first} steps): {}",
                steps.join(", ")
            );
            println!("state reached:\n{}", model.describe(&path[first].0));
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

/// The completer closes after its first batch, one with a callback (a batch without one is
/// closed with its detach anyway): a waiter pushed while DRAINING is never woken.
#[test]
fn mutation_close_without_redrain() {
    let v = find_counterexample("R,CB,W", Mutation::CloseWithoutRedrain, true);
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

/// The promise drops its reference before W2's drain: a reader that sees the published outcome
/// returns and drops the last other reference, freeing the task, and the promise's drain then
/// reads the freed head word (I13: use after free).
#[test]
fn mutation_release_before_drain() {
    let v = find_counterexample_until(
        "P,W",
        Mutation::ReleaseBeforeDrain,
        HasDiscoveries::AnyOf(["I13 counted lifetime"].into()),
        true,
    );
    assert!(v.contains(&"I13 counted lifetime"), "{v:?}");
}

/// A counted task's interrupting cancel stores C5 over the word: a clone (T1) between C1 and C5
/// is erased, and the task is freed while the clone is still held (early free, then use after
/// free); a release (T2) erased instead leaks the task. Run until the lifetime breaks, not only
/// until the count or the edge (I9: NEW → INTERRUPTING on a counted word) does.
#[test]
fn mutation_counted_interrupt_store() {
    for spec in ["P,C+,H", "P,C+,W"] {
        let v = find_counterexample_until(
            spec,
            Mutation::CountedInterruptStore,
            HasDiscoveries::AnyOf(["I13 counted lifetime"].into()),
            true,
        );
        assert!(v.contains(&"I13 counted lifetime"), "{v:?}");
        assert!(v.contains(&"I13 no lost count"), "{v:?}");
    }
}

/// P0 skipped: nobody sets ANNOUNCED, so W1 gives up the promise's reference and skips the
/// drain although a node is on the stack: the untimed get sleeps forever (I3); the callback
/// never runs, and the promise frees the task with the callback still on the stack (I7, I13).
#[test]
fn mutation_push_without_announce() {
    let v = find_counterexample("P,W", Mutation::PushWithoutAnnounce, true);
    assert!(v.contains(&"I3 no lost wakeup"), "{v:?}");
    let v = find_counterexample_until(
        "P,CB",
        Mutation::PushWithoutAnnounce,
        HasDiscoveries::AllOf(["I7 callbacks", "I13 counted lifetime"].into()),
        false,
    );
    assert!(v.contains(&"I7 callbacks"), "{v:?}");
    assert!(v.contains(&"I13 counted lifetime"), "{v:?}");
}

/// W1 ignores ANNOUNCED: a waiter that announced and pushed before W1 is never handed off (I3);
/// a callback registered before W1 never runs, and the task is freed with it on the stack (I7,
/// I13).
#[test]
fn mutation_publish_ignores_announce() {
    let v = find_counterexample("P,W", Mutation::PublishIgnoresAnnounce, true);
    assert!(v.contains(&"I3 no lost wakeup"), "{v:?}");
    let v = find_counterexample_until(
        "P,CB",
        Mutation::PublishIgnoresAnnounce,
        HasDiscoveries::AllOf(["I7 callbacks", "I13 counted lifetime"].into()),
        false,
    );
    assert!(v.contains(&"I7 callbacks"), "{v:?}");
    assert!(v.contains(&"I13 counted lifetime"), "{v:?}");
}

/// The counted mutations change nothing on an uncounted task, and the counted configuration
/// holds without them (`counted` above); each is caught only through the counted protocol.
#[test]
fn counted_mutations_need_a_counted_task() {
    for m in [
        Mutation::ReleaseBeforeDrain,
        Mutation::CountedInterruptStore,
        Mutation::PushWithoutAnnounce,
        Mutation::PublishIgnoresAnnounce,
        Mutation::TakeIgnoresDrainHeld,
        Mutation::TakeSkipsClose,
        Mutation::PublishWithoutDrainHeld,
    ] {
        let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let checker = FutureTaskModel::new(cfg("S,C+,W").with_mutation(m))
            .checker()
            .threads(threads())
            .spawn_bfs()
            .join();
        assert_checked(&checker, false);
    }
}

/// A callback's push leaves CALLBACKS clear: its batch (a waiter above it, so the walk takes
/// steps) is closed with the detach, and the second callback, registered after the close, runs at
/// once, before the first (I7).
#[test]
fn mutation_callback_push_unflagged() {
    let v = find_counterexample("R,CB,W,CB", Mutation::CallbackPushUnflagged, false);
    assert!(v.contains(&"I7 callbacks"), "{v:?}");
}

/// T4 takes any second reference for the draining promise's: after the promise's W3 the
/// other reference is the observer's, and the taker moves the outcome while the observer may
/// still read it (I13 outcome moved once: a move with another reference held, then the
/// observer's try_get reading the moved outcome).
#[test]
fn mutation_take_ignores_drain_held() {
    let v = find_counterexample("P,K,O", Mutation::TakeIgnoresDrainHeld, true);
    assert!(v.contains(&"I13 outcome moved once"), "{v:?}");
}

/// T5 does not wait for the close: the drain wakes the taker in a batch with a callback (whose
/// registrar dropped its reference), the taker moves the outcome out, and the drain's callback
/// then reads it (I13 outcome moved once).
#[test]
fn mutation_take_skips_close() {
    let v = find_counterexample("P,K,CB", Mutation::TakeSkipsClose, true);
    assert!(v.contains(&"I13 outcome moved once"), "{v:?}");
}

/// W1 keeps the promise's reference without DRAIN_HELD: the taker, woken by the drain with
/// nobody else holding the task, finds two references it cannot tell from a reader's and is
/// refused (I13 take completes); W3's DRAIN_REF then also corrupts the count.
#[test]
fn mutation_publish_without_drain_held() {
    let v = find_counterexample_until(
        "P,K",
        Mutation::PublishWithoutDrainHeld,
        HasDiscoveries::AnyOf(["I13 take completes"].into()),
        true,
    );
    assert!(v.contains(&"I13 take completes"), "{v:?}");
}

/// Every mutation is covered by a test above.
#[test]
fn every_mutation_has_a_test() {
    assert_eq!(Mutation::ALL.len(), 17);
}
