//! Property: for *any* sequence of operations, the kernel behaves exactly like the reference
//! model (`futuretask_tests::model`, the executable form of the contract table).
//!
//! A case is a task kind and a sequence of operations (see `futuretask_tests::seq`). Closure
//! tasks carry a *body*: operations the closure applies to its own task while it runs, which is
//! how set / cancel_and_interrupt() / callbacks / current::is_interrupted() are exercised in the RUNNING column. Every
//! operation's result, the callback log (order included) and the set of woken wakers are compared
//! after every step; `waiter_stack_len()` and `Arc` strong counts at the end.
//!
//! The state machine is hand-rolled on plain `proptest` (rather than `proptest-state-machine`):
//! every operation is applicable in every state (the contract table has no preconditions), so a
//! case is just a `Vec` of operations, and proptest's `Vec` shrinking — drop operations, then
//! simplify each — yields a minimal failing sequence directly.
//!
//! Foreign code panics (I11): wakers whose `clone`, `wake` or `drop` panics (`PollFaulty`),
//! values whose drop panics (`SetBomb`, closures and callbacks capturing one), panicking
//! callbacks. The model predicts which operation's caller sees the panic; the summary line counts
//! the panics that reached a caller, by kind, so a run shows it exercised each of them.
//!
//! A case that never returns (e.g. a completer spinning on a node left UPDATING) fails the run
//! through a watchdog after [`CASE_TIMEOUT`], printing the case, instead of hanging it.
//!
//! Tiers: `FT_PROPTEST_CASES=N` sets the number of cases; otherwise 5 000 (quick) or 200 000
//! (`FT_TIER=full`).
//!
//! Replaying a failure: the run prints its seed (`PROPTEST_RNG_SEED=…`, on stderr and in the
//! failure message); setting it replays the whole run. proptest also
//! prints the minimal (shrunk) case and saves the failing case's seed in
//! `tests/tests/model_proptest.proptest-regressions`; every later run replays the seeds in that
//! file first. Commit the line to keep the regression.

use futuretask_tests::model::{End, WakerFault};
use futuretask_tests::seq::{run_case, Case, Kind, Op, Stats};
use futuretask_tests::support::{quiet_planted_panics, Tier};
use futuretask_tests::support::{report, Rng};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed, TestRunner};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long one case may run before the watchdog calls it a hang (a case takes well under a
/// millisecond; a hung one never returns, so it cannot be shrunk either).
const CASE_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether a failing case is saved to `proptest-regressions` (proptest's own switch: unset
/// `PROPTEST_DISABLE_FAILURE_PERSISTENCE`).
fn persist_failures() -> bool {
    std::env::var_os("PROPTEST_DISABLE_FAILURE_PERSISTENCE").is_none()
}

/// The case in flight and when it started.
type InFlight = Arc<Mutex<Option<(Instant, Case)>>>;

/// Start a watchdog over the cases run through the returned slot: a case still in flight after
/// [`CASE_TIMEOUT`] ends the process with a failure and the case (a hung thread cannot be
/// stopped, and a hang must fail the run rather than stall it).
fn watchdog(what: String) -> InFlight {
    let slot: InFlight = Arc::default();
    let watched = Arc::clone(&slot);
    thread::spawn(move || loop {
        thread::sleep(Duration::from_millis(250));
        if let Some((start, case)) = &*watched.lock().unwrap_or_else(|e| e.into_inner()) {
            if start.elapsed() > CASE_TIMEOUT {
                report(&format!(
                    "model_proptest: HANG: a case did not return within {CASE_TIMEOUT:?} \
                     ({what}); the case:\n{case:?}"
                ));
                std::process::exit(101);
            }
        }
    });
    slot
}

/// Run `case` under the watchdog `slot`.
fn guarded(slot: &InFlight, case: &Case) -> Result<Stats, futuretask_tests::seq::Mismatch> {
    *slot.lock().unwrap() = Some((Instant::now(), case.clone()));
    let r = run_case(case);
    *slot.lock().unwrap() = None;
    r
}

fn fault() -> impl Strategy<Value = WakerFault> {
    prop_oneof![
        2 => Just(WakerFault::Wake),
        1 => Just(WakerFault::Clone),
        1 => Just(WakerFault::Drop),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Run),
        2 => (0u32..50).prop_map(Op::Set),
        1 => (0u32..50).prop_map(Op::SetBomb),
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
        3 => (any::<bool>(), prop::bool::weighted(0.2), prop::bool::weighted(0.25))
            .prop_map(|(nested, panics, bomb)| Op::AddCallback { nested, panics, bomb }),
        1 => (0u32..50).prop_map(Op::PromiseSet),
        1 => (0u32..50).prop_map(Op::PromiseFail),
        1 => Just(Op::DropPromise),
        2 => Just(Op::NewFuture),
        2 => (0u8..4, 0u8..3).prop_map(|(fut, waker)| Op::PollFuture { fut, waker }),
        3 => (0u8..4, fault()).prop_map(|(fut, fault)| Op::PollFaulty { fut, fault }),
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

/// Registrations only: a case starts with a few of these, so that its completions meet waiters
/// with faulty wakers and callbacks with bombs (otherwise most tasks are done before any waiter
/// registers, and the I11 rows are reached by a few cases in a hundred).
fn setup_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::NewFuture),
        2 => (0u8..4, fault()).prop_map(|(fut, fault)| Op::PollFaulty { fut, fault }),
        1 => (0u8..4, 0u8..3).prop_map(|(fut, waker)| Op::PollFuture { fut, waker }),
        1 => (any::<bool>(), prop::bool::weighted(0.2), prop::bool::weighted(0.5))
            .prop_map(|(nested, panics, bomb)| Op::AddCallback { nested, panics, bomb }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let kind = prop_oneof![
        4 => (prop::collection::vec(op(), 0..6), end(), prop::bool::weighted(0.5))
            .prop_map(|(body, end, bomb)| Kind::Closure { body, end, bomb }),
        1 => Just(Kind::Pending),
        2 => Just(Kind::Promise),
    ];
    let setup = prop::collection::vec(setup_op(), 0..5);
    (kind, setup, prop::collection::vec(op(), 0..32)).prop_map(|(kind, setup, ops)| Case {
        kind,
        ops: setup.into_iter().chain(ops).collect(),
    })
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
        // A failure against a planted mutant (`models/mutants/`) is expected, not a regression to
        // keep: run those with PROPTEST_DISABLE_FAILURE_PERSISTENCE set.
        failure_persistence: persist_failures().then(|| {
            Box::new(FileFailurePersistence::WithSource("proptest-regressions")) as Box<_>
        }),
        ..Config::default()
    };
    let start = Instant::now();
    let mut runner = TestRunner::new(config);
    let slot = watchdog(format!("replay: PROPTEST_RNG_SEED={seed}"));
    // Counted over the passing cases (a failing run shrinks and reports instead).
    let tally = Mutex::new((Stats::default(), Generated::default()));
    let result = runner.run(&case(), |case| {
        let r = guarded(&slot, &case);
        prop_assert!(r.is_ok(), "{:?}", r.as_ref().unwrap_err());
        let mut t = tally.lock().unwrap();
        t.0.add(&r.unwrap());
        t.1.count(&case);
        Ok(())
    });
    if let Err(e) = result {
        let saved = if persist_failures() {
            "the failing case's seed is also saved in \
             tests/tests/model_proptest.proptest-regressions and replayed first by every run"
        } else {
            "not saved: PROPTEST_DISABLE_FAILURE_PERSISTENCE is set"
        };
        panic!(
            "{e}\nreplay: PROPTEST_RNG_SEED={seed} cargo test -p futuretask-tests --test \
             model_proptest ({saved})"
        );
    }
    let (stats, generated) = tally.into_inner().unwrap();
    let [clone, wake, drop, value] = stats.raised;
    report(&format!(
        "model_proptest: {cases} cases passed in {:.2?}; foreign-code ops generated: {generated}; \
         planted panics that reached the caller: waker clone {clone}, waker wake {wake}, waker \
         drop {drop}, value drop {value} (run's lost result), task drop {} ({} bombs in all)",
        start.elapsed(),
        stats.task_drops_raised,
        stats.bombs,
    ));
    // A full-size run that never reached one of the I11 outcomes checks nothing about it: fail
    // rather than pass vacuously (small `FT_PROPTEST_CASES` runs are exempt).
    if cases >= 1_000 {
        assert!(
            stats.raised.iter().all(|&n| n > 0) && stats.task_drops_raised > 0,
            "the generated cases missed an I11 outcome: {stats:?}"
        );
    }
}

/// How many foreign-code operations the generator produced (closure bodies included).
#[derive(Default)]
struct Generated {
    poll_faulty: [usize; 4],
    set_bomb: usize,
    bomb_callbacks: usize,
    panicking_callbacks: usize,
    bomb_closures: usize,
}

impl Generated {
    fn count(&mut self, case: &Case) {
        let body = match &case.kind {
            Kind::Closure { body, bomb, .. } => {
                self.bomb_closures += usize::from(*bomb);
                &body[..]
            }
            _ => &[],
        };
        for op in body.iter().chain(&case.ops) {
            match *op {
                Op::PollFaulty { fault, .. } => self.poll_faulty[fault as usize] += 1,
                Op::SetBomb(_) => self.set_bomb += 1,
                Op::AddCallback { panics, bomb, .. } => {
                    self.bomb_callbacks += usize::from(bomb);
                    self.panicking_callbacks += usize::from(panics);
                }
                _ => {}
            }
        }
    }
}

impl std::fmt::Display for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [_, clone, wake, drop] = self.poll_faulty;
        write!(
            f,
            "PollFaulty clone {clone} / wake {wake} / drop {drop}, SetBomb {}, bomb callbacks {}, \
             panicking callbacks {}, bomb closures {}",
            self.set_bomb, self.bomb_callbacks, self.panicking_callbacks, self.bomb_closures
        )
    }
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
                        bomb: false,
                    },
                    Op::Cancel(true),
                    Op::Interrupted,
                    Op::CancelledFn,
                    Op::Set(3),
                    Op::State,
                ],
                end: End::Return(1001),
                bomb: false,
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
                    bomb: false,
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
                bomb: false,
            },
            ops: vec![Op::GetTiny, Op::Run, Op::Get, Op::Fail(1), Op::GetHuge],
        },
        // I11: a panicking wake between two good waiters and around callbacks (the completer
        // sees it after all of them); a clone that panics on a re-poll (the old waker stays and
        // is woken); a waker whose drop panics, replaced, then dropped with its future.
        Case {
            kind: Kind::Pending,
            ops: vec![
                Op::NewFuture,
                Op::NewFuture,
                Op::NewFuture,
                Op::NewFuture,
                Op::PollFuture { fut: 0, waker: 0 },
                Op::PollFaulty {
                    fut: 1,
                    fault: WakerFault::Wake,
                },
                Op::PollFuture { fut: 2, waker: 1 },
                Op::PollFaulty {
                    fut: 2,
                    fault: WakerFault::Clone,
                },
                Op::PollFaulty {
                    fut: 3,
                    fault: WakerFault::Drop,
                },
                Op::PollFuture { fut: 3, waker: 2 },
                Op::PollFaulty {
                    fut: 3,
                    fault: WakerFault::Drop,
                },
                Op::DropFuture { fut: 3 },
                Op::AddCallback {
                    nested: true,
                    panics: true,
                    bomb: true,
                },
                Op::AddCallback {
                    nested: false,
                    panics: false,
                    bomb: false,
                },
                Op::Cancel(false),
                Op::StackLen,
                Op::PollFuture { fut: 2, waker: 1 },
                Op::SetBomb(3),
            ],
        },
        // I11: the closure's late result (a bomb) loses to a cancel in its body: `run` raises
        // after finishing; a stored bomb and an unrun bomb callback are dropped with the task.
        Case {
            kind: Kind::Closure {
                body: vec![Op::Cancel(true), Op::Interrupted],
                end: End::Return(1002),
                bomb: true,
            },
            ops: vec![Op::Run, Op::Interrupted, Op::Get],
        },
        Case {
            kind: Kind::Closure {
                body: vec![],
                end: End::Return(1003),
                bomb: true,
            },
            ops: vec![
                Op::AddCallback {
                    nested: false,
                    panics: false,
                    bomb: true,
                },
                Op::NewFuture,
                Op::PollFaulty {
                    fut: 0,
                    fault: WakerFault::Drop,
                },
            ],
        },
        Case {
            kind: Kind::Promise,
            ops: vec![
                Op::NewFuture,
                Op::PollFaulty {
                    fut: 0,
                    fault: WakerFault::Wake,
                },
                Op::DropPromise,
                Op::SetBomb(4),
            ],
        },
        // I11: the winning bomb is the outcome, dropped with the task; the losing one is handed
        // back to the caller.
        Case {
            kind: Kind::Pending,
            ops: vec![Op::SetBomb(5), Op::SetBomb(6), Op::TryGet],
        },
    ];
    let slot = watchdog("hand-picked cases".to_owned());
    let mut stats = Stats::default();
    for c in &cases {
        match guarded(&slot, c) {
            Ok(s) => stats.add(&s),
            Err(m) => panic!("{c:?}\n{m:?}"),
        }
    }
    // The cases above reach every I11 outcome (so the harness does observe them).
    assert!(
        stats.raised.iter().all(|&n| n > 0) && stats.task_drops_raised >= 2,
        "{stats:?}"
    );
}
