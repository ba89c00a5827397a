//! Property: for *any* sequence of operations, the kernel behaves exactly like the reference
//! model (`futuretask_tests::model`, the executable form of the contract table).
//!
//! A case is a task kind and a sequence of operations (see `futuretask_tests::seq`). Closure
//! tasks carry a *body*: operations the closure applies to its own task while it runs, which is
//! how set / cancel(true) / callbacks / interrupted() are exercised in the RUNNING column. Every
//! operation's result, the callback log (order included) and the set of woken wakers are compared
//! after every step; `waiter_stack_len()` and `Arc` strong counts at the end.
//!
//! The state machine is hand-rolled on plain `proptest` (rather than `proptest-state-machine`):
//! every operation is applicable in every state (the contract table has no preconditions), so a
//! case is just a `Vec` of operations, and proptest's `Vec` shrinking — drop operations, then
//! simplify each — yields a minimal failing sequence directly.
//!
//! Tiers: `FT_PROPTEST_CASES=N` sets the number of cases; otherwise 5 000 (quick) or 200 000
//! (`FT_FULL=1`).
//!
//! Replaying a failure: the run prints its seed (`PROPTEST_RNG_SEED=…`, on stderr and in the
//! failure message); setting it replays the whole run. proptest also
//! prints the minimal (shrunk) case and saves the failing case's seed in
//! `tests/tests/model_proptest.proptest-regressions`; every later run replays the seeds in that
//! file first. Commit the line to keep the regression.

use futuretask_tests::model::End;
use futuretask_tests::seq::{run_case, Case, Kind, Op};
use futuretask_tests::support::{quiet_planted_panics, Tier};
use futuretask_tests::support::{report, Rng};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed, TestRunner};
use std::time::Instant;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Run),
        2 => (0u32..50).prop_map(Op::Set),
        1 => (0u32..50).prop_map(Op::Fail),
        2 => any::<bool>().prop_map(Op::Cancel),
        1 => Just(Op::TryGet),
        1 => Just(Op::GetZero),
        1 => Just(Op::GetTiny),
        1 => Just(Op::GetPastDeadline),
        1 => Just(Op::GetHuge),
        2 => Just(Op::Get),
        1 => Just(Op::State),
        1 => Just(Op::IsDone),
        1 => Just(Op::IsCancelled),
        1 => Just(Op::Interrupted),
        1 => Just(Op::CancelledFn),
        3 => (any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(nested, panics)| Op::AddCallback { nested, panics }),
        1 => (0u32..50).prop_map(Op::PromiseSet),
        1 => (0u32..50).prop_map(Op::PromiseFail),
        1 => Just(Op::DropPromise),
        2 => Just(Op::NewFuture),
        2 => (0u8..4, 0u8..3).prop_map(|(fut, waker)| Op::PollFuture { fut, waker }),
        1 => (0u8..4).prop_map(|fut| Op::DropFuture { fut }),
        1 => (0u8..3).prop_map(|waker| Op::PollOnce { waker }),
        2 => Just(Op::StackLen),
    ]
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![
        3 => (0u32..50).prop_map(|v| End::Return(1000 + v)),
        1 => (0u32..50).prop_map(End::Panic),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let kind = prop_oneof![
        4 => (prop::collection::vec(op(), 0..6), end())
            .prop_map(|(body, end)| Kind::Closure { body, end }),
        1 => Just(Kind::Pending),
        2 => Just(Kind::Promise),
    ];
    (kind, prop::collection::vec(op(), 0..32)).prop_map(|(kind, ops)| Case { kind, ops })
}

#[test]
fn kernel_matches_reference_model() {
    quiet_planted_panics();
    let tier = Tier::current();
    let cases = tier.count("FT_PROPTEST_CASES", 5_000, 200_000) as u32;
    let seed = Rng::seed_from_env("PROPTEST_RNG_SEED");
    tier.announce(
        "model_proptest",
        &format!("{cases} cases, PROPTEST_RNG_SEED={seed}"),
    );
    let config = Config {
        cases,
        // ChaCha (the default) is ten times slower in a debug build; XorShift keeps the quick
        // tier quick. Persisted seeds record their algorithm.
        rng_algorithm: RngAlgorithm::XorShift,
        rng_seed: RngSeed::Fixed(seed),
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    };
    let start = Instant::now();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |case| {
        let r = run_case(&case);
        prop_assert!(r.is_ok(), "{:?}", r.unwrap_err());
        Ok(())
    });
    if let Err(e) = result {
        panic!(
            "{e}\nreplay: PROPTEST_RNG_SEED={seed} cargo test -p futuretask-tests --test \
             model_proptest (the failing case's seed is also saved in \
             tests/tests/model_proptest.proptest-regressions and replayed first by every run)"
        );
    }
    report(&format!(
        "model_proptest: {cases} cases passed in {:.2?}",
        start.elapsed()
    ));
}

/// A few hand-picked cases, so that the property's harness itself is known to exercise the
/// interesting rows (these also document the operation vocabulary).
#[test]
fn hand_picked_cases_pass() {
    quiet_planted_panics();
    let cases = [
        Case {
            kind: Kind::Closure {
                body: vec![
                    Op::AddCallback {
                        nested: true,
                        panics: true,
                    },
                    Op::Cancel(true),
                    Op::Interrupted,
                    Op::CancelledFn,
                    Op::Set(3),
                    Op::State,
                ],
                end: End::Return(1001),
            },
            ops: vec![Op::Run, Op::Interrupted, Op::Get, Op::Run, Op::StackLen],
        },
        Case {
            kind: Kind::Promise,
            ops: vec![
                Op::NewFuture,
                Op::PollFuture { fut: 0, waker: 1 },
                Op::PollFuture { fut: 0, waker: 2 },
                Op::AddCallback {
                    nested: false,
                    panics: false,
                },
                Op::StackLen,
                Op::DropPromise,
                Op::PollFuture { fut: 0, waker: 0 },
                Op::PromiseSet(4),
                Op::Set(5),
                Op::Get,
            ],
        },
        Case {
            kind: Kind::Closure {
                body: vec![Op::Run, Op::GetZero, Op::State],
                end: End::Panic(7),
            },
            ops: vec![Op::GetTiny, Op::Run, Op::Get, Op::Fail(1), Op::GetHuge],
        },
    ];
    for c in &cases {
        if let Err(m) = run_case(c) {
            panic!("{c:?}\n{m:?}");
        }
    }
}
