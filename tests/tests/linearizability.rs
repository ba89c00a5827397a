//! Linearizability of real concurrent runs, and the tests of the checker itself.
//!
//! * `checker_*`: the WGL checker (`futuretask_tests::lin`) on hand-written histories that are
//!   known not to be linearizable and ones that are, and cross-checked against a brute-force
//!   search over every ordering on thousands of small random histories.
//! * `real_histories_are_linearizable`: 2–4 real threads run random operation mixes on one task
//!   (blocking gets and awaits included); each recorded history must linearize against the
//!   reference model. Tiers: `FT_LIN_HISTORIES=N`, else 3 000 (quick) / 30 000 (`FT_TIER=full`).
//!   The plans come from a seeded RNG: `FT_LIN_SEED=<seed>` replays the same plans (the
//!   interleaving itself is up to the OS scheduler).

use futuretask::State;
use futuretask_tests::conc::{run_histories, LinOp, LinRet, Totals};
use futuretask_tests::lin::{check, check_brute_force, Event};
use futuretask_tests::model::{Core, End, Fail, Outcome, Rejected, Wait};
use futuretask_tests::support::{quiet_planted_panics, report, Rng, Tier};
use proptest::prelude::*;
use std::time::Instant;

type Ev = Event<LinOp, LinRet>;

fn ev(t: usize, op: LinOp, inv: u64, resp: u64, ret: LinRet) -> Ev {
    Event::done(t, op, inv, resp, ret)
}

fn closure() -> Core {
    Core::new(true)
}

fn promise() -> Core {
    Core::new(false)
}

fn out(o: Outcome) -> LinRet {
    LinRet::Wait(Wait::Out(o))
}

const SET_OK: LinRet = LinRet::Set(Ok(()));

fn assert_not_linearizable(init: Core, h: &[Ev], why: &str) {
    match check(&init, h) {
        Ok(order) => panic!("{why}: accepted with order {order:?}"),
        Err(v) => assert!(v.report.contains("longest legal linearization prefix")),
    }
    assert!(!check_brute_force(&init, h), "{why}: brute force disagrees");
}

fn assert_linearizable(init: Core, h: &[Ev], why: &str) {
    if let Err(v) = check(&init, h) {
        panic!("{why}: rejected\n{}", v.report);
    }
    assert!(check_brute_force(&init, h), "{why}: brute force disagrees");
}

#[test]
fn checker_rejects_two_different_values() {
    // Only set(1) succeeded, yet one reader saw 2.
    let h = [
        ev(0, LinOp::Set(1), 1, 10, SET_OK),
        ev(
            1,
            LinOp::Set(2),
            2,
            9,
            LinRet::Set(Err(Rejected {
                value: 2,
                state: State::Success,
            })),
        ),
        ev(2, LinOp::Get, 3, 11, out(Outcome::Value(1))),
        ev(3, LinOp::Get, 4, 12, out(Outcome::Value(2))),
    ];
    assert_not_linearizable(promise(), &h, "two different values");
    // Both sets claim success.
    let h = [
        ev(0, LinOp::Set(1), 1, 10, SET_OK),
        ev(1, LinOp::Set(2), 2, 9, SET_OK),
    ];
    assert_not_linearizable(promise(), &h, "two winning sets");
}

#[test]
fn checker_rejects_get_before_completion_invoked() {
    let h = [
        ev(0, LinOp::Get, 1, 2, out(Outcome::Value(5))),
        ev(1, LinOp::Set(5), 3, 4, SET_OK),
    ];
    assert_not_linearizable(promise(), &h, "get returned before set was invoked");
    let h = [
        ev(
            0,
            LinOp::TryGet,
            1,
            2,
            LinRet::Try(Some(Outcome::Cancelled)),
        ),
        ev(1, LinOp::Cancel(false), 3, 4, LinRet::Bool(true)),
    ];
    assert_not_linearizable(promise(), &h, "try_get saw a cancel from the future");
}

#[test]
fn checker_rejects_cancel_and_set_both_winning() {
    let h = [
        ev(0, LinOp::Cancel(false), 1, 4, LinRet::Bool(true)),
        ev(1, LinOp::Set(1), 2, 3, SET_OK),
    ];
    assert_not_linearizable(closure(), &h, "cancel and set both won");
    // A run whose closure started after a cancel won.
    let h = [
        ev(0, LinOp::Cancel(true), 1, 2, LinRet::Bool(true)),
        ev(1, LinOp::Run, 3, 4, LinRet::Claimed(true)),
    ];
    assert_not_linearizable(closure(), &h, "closure started after cancel");
}

#[test]
fn checker_rejects_timeout_after_done_and_other_anomalies() {
    let h = [
        ev(0, LinOp::Set(1), 1, 2, SET_OK),
        ev(1, LinOp::IsDone, 3, 4, LinRet::Bool(true)),
        ev(1, LinOp::GetTimed(5), 5, 6, LinRet::Wait(Wait::TimedOut)),
    ];
    assert_not_linearizable(promise(), &h, "timed out after is_done");
    let h = [
        ev(0, LinOp::Run, 1, 3, LinRet::Claimed(true)),
        ev(1, LinOp::Run, 2, 4, LinRet::Claimed(true)),
    ];
    assert_not_linearizable(closure(), &h, "two claims");
    let h = [
        ev(0, LinOp::Run, 1, 2, LinRet::Claimed(true)),
        ev(1, LinOp::Cancel(false), 3, 4, LinRet::Bool(true)),
        ev(0, LinOp::Interrupted, 5, 6, LinRet::Bool(true)),
    ];
    assert_not_linearizable(closure(), &h, "interrupted without cancel_and_interrupt()");
    let h = [
        ev(0, LinOp::Run, 1, 2, LinRet::Claimed(true)),
        ev(0, LinOp::Complete(End::Return(3)), 3, 4, LinRet::Ran(true)),
        ev(1, LinOp::State, 5, 6, LinRet::State(State::Running)),
    ];
    assert_not_linearizable(closure(), &h, "running after completion");
    let h = [ev(0, LinOp::Run, 1, 2, LinRet::Claimed(false))];
    assert_not_linearizable(closure(), &h, "run refused on a fresh task");
    // A lost set must hand back its own value.
    let h = [
        ev(0, LinOp::Set(1), 1, 2, SET_OK),
        ev(
            1,
            LinOp::Set(2),
            3,
            4,
            LinRet::Set(Err(Rejected {
                value: 1,
                state: State::Success,
            })),
        ),
    ];
    assert_not_linearizable(promise(), &h, "wrong value handed back");
}

#[test]
fn checker_accepts_linearizable_histories() {
    let h = [
        ev(0, LinOp::Set(1), 1, 10, SET_OK),
        ev(
            1,
            LinOp::Set(2),
            2,
            9,
            LinRet::Set(Err(Rejected {
                value: 2,
                state: State::Success,
            })),
        ),
        ev(2, LinOp::Get, 3, 11, out(Outcome::Value(1))),
        ev(3, LinOp::TryGet, 4, 5, LinRet::Try(None)),
        ev(3, LinOp::GetTimed(1), 6, 7, LinRet::Wait(Wait::TimedOut)),
    ];
    assert_linearizable(promise(), &h, "racing sets");
    let h = [
        ev(0, LinOp::Run, 1, 5, LinRet::Claimed(true)),
        ev(1, LinOp::Cancel(true), 2, 8, LinRet::Bool(true)),
        ev(0, LinOp::Interrupted, 6, 7, LinRet::Bool(true)),
        ev(0, LinOp::CancelledFn, 9, 10, LinRet::Bool(true)),
        ev(0, LinOp::Complete(End::Panic(4)), 11, 14, LinRet::Ran(true)),
        ev(2, LinOp::Get, 3, 12, out(Outcome::Cancelled)),
        ev(2, LinOp::State, 13, 15, LinRet::State(State::Cancelled)),
    ];
    assert_linearizable(closure(), &h, "cancel_and_interrupt() while running");
    let h = [
        ev(0, LinOp::Get, 1, 10, out(Outcome::Value(3))),
        ev(1, LinOp::Await, 2, 11, out(Outcome::Value(3))),
        ev(2, LinOp::Set(3), 5, 6, SET_OK),
        ev(3, LinOp::GetTimed(9), 3, 7, LinRet::Wait(Wait::TimedOut)),
    ];
    assert_linearizable(promise(), &h, "gets waiting for a set");
    let h = [
        ev(0, LinOp::Run, 1, 2, LinRet::Claimed(true)),
        ev(1, LinOp::State, 3, 4, LinRet::State(State::Running)),
        ev(1, LinOp::Fail(Fail::Error(2)), 5, 6, LinRet::Fail(Ok(()))),
        ev(0, LinOp::Complete(End::Return(9)), 7, 8, LinRet::Ran(true)),
        ev(1, LinOp::Get, 9, 10, out(Outcome::Failed(Fail::Error(2)))),
    ];
    assert_linearizable(closure(), &h, "fail while running, late result discarded");
    // Pending operations: one took effect, one did not.
    let h = [
        Event::pending(0, LinOp::Set(7), 1),
        ev(1, LinOp::Get, 2, 3, out(Outcome::Value(7))),
        Event::pending(2, LinOp::Cancel(false), 4),
    ];
    assert_linearizable(promise(), &h, "pending set took effect");
    let h = [
        Event::pending(0, LinOp::Set(7), 1),
        ev(1, LinOp::TryGet, 2, 3, LinRet::Try(None)),
    ];
    assert_linearizable(promise(), &h, "pending set not yet effective");
    let h = [
        ev(0, LinOp::DropPromise, 1, 4, LinRet::Unit),
        ev(1, LinOp::Set(1), 2, 3, SET_OK),
        ev(1, LinOp::Get, 5, 6, out(Outcome::Value(1))),
    ];
    assert_linearizable(promise(), &h, "promise dropped after a racing set");
}

/// A random history over a small alphabet: a random sequential execution of the model (so the
/// unmutated history is linearizable), stretched into overlapping intervals around each
/// operation's linearization point, optionally with one response changed and some operations
/// left pending.
fn random_history(seed: u64) -> (Core, Vec<Ev>) {
    let mut rng = Rng::new(seed);
    let init = Core::new(rng.chance(1, 2));
    let n = 1 + rng.below(6) as usize;
    let ops = [
        LinOp::Run,
        LinOp::Complete(End::Return(1)),
        LinOp::Complete(End::Panic(1)),
        LinOp::Set(2),
        LinOp::Set(3),
        LinOp::Cancel(false),
        LinOp::Cancel(true),
        LinOp::TryGet,
        LinOp::GetZero,
        LinOp::Get,
        LinOp::IsDone,
        LinOp::State,
        LinOp::Interrupted,
    ];
    let mut state = init;
    let mut h = Vec::new();
    let span = 10 * n as u64 + 10;
    for i in 0..n {
        let mut op = ops[rng.below(ops.len() as u64) as usize];
        // A blocking get on a pending task cannot linearize here: ask try_get instead.
        if op == LinOp::Get && !state.is_done() {
            op = LinOp::TryGet;
        }
        let (next, ret) = <Core as futuretask_tests::lin::Model>::step(&state, &op).unwrap();
        state = next;
        let point = 10 * i as u64 + 5;
        let inv = rng.below(point) * 2;
        let resp = (point + 1 + rng.below(span - point)) * 2 + 1;
        h.push(ev(i % 3, op, inv, resp, ret));
    }
    if rng.chance(1, 2) {
        let i = rng.below(n as u64) as usize;
        let bogus = [
            LinRet::Bool(true),
            LinRet::Bool(false),
            LinRet::Claimed(true),
            LinRet::Try(None),
            LinRet::Wait(Wait::TimedOut),
            out(Outcome::Value(2)),
            out(Outcome::Cancelled),
            LinRet::State(State::Running),
            SET_OK,
        ];
        let r = bogus[rng.below(bogus.len() as u64) as usize];
        if let Some((t, _)) = h[i].ret {
            h[i].ret = Some((t, r));
        }
    }
    if rng.chance(1, 4) {
        let i = rng.below(n as u64) as usize;
        h[i].ret = None;
    }
    (init, h)
}

#[test]
fn checker_agrees_with_brute_force() {
    let tier = Tier::current();
    let count = tier.count("FT_CHECKER_CASES", 20_000, 300_000);
    tier.announce(
        "checker brute-force cross-check",
        &format!("{count} histories"),
    );
    let (mut yes, mut no) = (0, 0);
    for seed in 0..count {
        let (init, h) = random_history(seed);
        let fast = check(&init, &h).is_ok();
        let slow = check_brute_force(&init, &h);
        assert_eq!(
            fast,
            slow,
            "seed {seed}: WGL says {fast}, brute force {slow}\n{}",
            futuretask_tests::lin::report(&h, &[])
        );
        if fast {
            yes += 1;
        } else {
            no += 1;
        }
    }
    report(&format!(
        "checker cross-check: {yes} linearizable, {no} not"
    ));
    assert!(yes > count / 10 && no > count / 10, "both kinds exercised");
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    })]

    /// A purely sequential history (no overlap) is linearizable iff every response is the
    /// model's: the checker must accept the model's own responses and reject any other.
    #[test]
    fn checker_sequential_histories(
        runnable in any::<bool>(),
        ops in prop::collection::vec(0usize..9, 1..12),
        corrupt in prop::option::of((any::<prop::sample::Index>(), 0usize..4)),
    ) {
        let alphabet = [
            LinOp::Run,
            LinOp::Complete(End::Return(1)),
            LinOp::Set(2),
            LinOp::Cancel(true),
            LinOp::TryGet,
            LinOp::GetZero,
            LinOp::IsDone,
            LinOp::State,
            LinOp::Interrupted,
        ];
        let init = Core::new(runnable);
        let mut s = init;
        let mut h = Vec::new();
        for (i, &k) in ops.iter().enumerate() {
            let (next, ret) = <Core as futuretask_tests::lin::Model>::step(&s, &alphabet[k]).unwrap();
            s = next;
            h.push(ev(i % 2, alphabet[k], 2 * i as u64 + 1, 2 * i as u64 + 2, ret));
        }
        prop_assert!(check(&init, &h).is_ok());
        if let Some((idx, r)) = corrupt {
            let i = idx.index(h.len());
            let bogus = [LinRet::Bool(true), LinRet::Bool(false), LinRet::Try(None), LinRet::Claimed(true)][r];
            let (t, orig) = h[i].ret.unwrap();
            h[i].ret = Some((t, bogus));
            prop_assert_eq!(check(&init, &h).is_ok(), orig == bogus);
        }
    }
}

#[test]
fn real_histories_are_linearizable() {
    quiet_planted_panics();
    let tier = Tier::current();
    let count = tier.count("FT_LIN_HISTORIES", 3_000, 30_000);
    let seed = Rng::seed_from_env("FT_LIN_SEED");
    tier.announce(
        "linearizability",
        &format!("{count} real histories, 2-4 threads, FT_LIN_SEED={seed}"),
    );
    let start = Instant::now();
    let per = count / 3;
    let mut total = Totals::default();
    for (k, threads) in [2usize, 3, 4].into_iter().enumerate() {
        let n = if k == 2 { count - 2 * per } else { per };
        let t = run_histories(seed.wrapping_add(k as u64), threads, n);
        report(&format!(
            "  {threads} threads: {} histories, {} ops, {} overlapping",
            t.histories, t.ops, t.overlapping
        ));
        total.histories += t.histories;
        total.ops += t.ops;
        total.finisher += t.finisher;
        total.overlapping += t.overlapping;
    }
    report(&format!(
        "linearizability: {} histories, {} operations checked in {:.2?} \
         ({} with overlapping operations of different threads, {} needed the finisher cancel)",
        total.histories,
        total.ops,
        start.elapsed(),
        total.overlapping,
        total.finisher,
    ));
    assert_eq!(total.histories, count);
    assert!(
        total.overlapping * 10 > total.histories,
        "too few concurrent histories: the harness is not exercising concurrency"
    );
}
