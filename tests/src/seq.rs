//! The sequential differential harness: apply one sequence of operations to a real
//! [`FutureTask`] and to the specification ([`Spec`]) and compare every observation.
//!
//! A test case is a task kind (a closure task whose closure itself runs a *body* of operations on
//! its own task before returning or panicking — that is how the "running" column of the contract
//! table is exercised sequentially —, a `pending()` task, or a `promise()` task) and a list of
//! operations. After each operation the harness compares the operation's result, the log of
//! done-callbacks that ran so far (order included), the multiset of wakers woken so far, the
//! wakers the kernel still holds, and the values whose drop panics that are still alive.
//!
//! Foreign code may panic (I11): wakers with a planted [`WakerFault`], callbacks and closures
//! capturing a [`Bomb`], values that are bombs. Every operation runs under `catch_unwind`; a
//! planted panic that reaches the caller is the observation [`Obs::Raised`], which the
//! specification predicts ([`Spec::take_raised`]). The end of a case drops every waiter, the
//! promise and the task itself the same way, compared too ([`Spec::drop_task`]).

use crate::model::{
    CallbackRecord, CallbackSpec, End, Fail, Outcome, Raised, Rejected, Spec, Value, Wait,
    WakerFault,
};
use crate::support::{
    error, observe_failure, observe_get, observe_wait, panic_message, raised_by, PLANTED,
};
use futuretask::{Error, FutureTask, NoJob, Promise, State, TaskHandle, WhenDone};
use futuretask_models::fault::{catch_panic, drop_own, Bomb, Bombs, FaultyWaker, WakeLog};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// One operation of a sequential test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `run()`.
    Run,
    /// `set(v)`.
    Set(Value),
    /// `set(v)` with a value whose drop panics (I11): stored if it wins (the task's drop drops
    /// it), handed back if it loses (the harness, its caller, drops it).
    SetBomb(Value),
    /// `fail(ft-error n)`.
    Fail(u32),
    /// `cancel(may_interrupt)`.
    Cancel(bool),
    /// `try_get()`.
    TryGet,
    /// `get_timeout(Duration::ZERO)`.
    GetZero,
    /// `get_timeout(1 µs)`.
    GetTiny,
    /// `get_deadline(Instant::now())` (a deadline that has passed by the time it is checked).
    GetPastDeadline,
    /// `get_timeout(Duration::MAX)` (waits without a deadline).
    GetHuge,
    /// `get()`. On a task that is not done it would block forever, so the harness then asks
    /// `get_timeout(1 µs)` and reports "blocks" if that times out.
    Get,
    /// `state()`.
    State,
    /// `is_done()`.
    IsDone,
    /// `is_cancelled()`.
    IsCancelled,
    /// `futuretask::current::is_interrupted()` (inside the closure body: of this task; outside: `false`).
    Interrupted,
    /// `futuretask::current::is_cancelled()`.
    CancelledFn,
    /// `add_done_callback(..)`: the callback records what it sees, optionally registers one more
    /// callback from inside itself, optionally panics, optionally captures a value whose drop
    /// panics (at the end of its body, or in the task's drop if it never runs).
    AddCallback {
        /// Register a nested callback from inside the callback.
        nested: bool,
        /// Panic after recording.
        panics: bool,
        /// Capture a [`Bomb`].
        bomb: bool,
    },
    /// `Promise::set(v)` (no-op without a promise).
    PromiseSet(Value),
    /// `Promise::fail(ft-error n)`.
    PromiseFail(u32),
    /// Drop the `Promise`.
    DropPromise,
    /// Create an async waiter (`Arc<FutureTask>::done()`).
    NewFuture,
    /// Poll async waiter `fut % count` with waker `waker`.
    PollFuture {
        /// Which waiter (modulo the number created).
        fut: u8,
        /// Which waker (a small set of distinct wakers).
        waker: u8,
    },
    /// Poll async waiter `fut % count` with the waker whose `fault` call panics (one waker per
    /// fault, id [`faulty_waker`]`(fault)`): registers it, re-registers over another waker, or
    /// replaces a waker whose drop panics.
    PollFaulty {
        /// Which waiter (modulo the number created).
        fut: u8,
        /// Which call of the waker panics.
        fault: WakerFault,
    },
    /// Drop async waiter `fut % count` (a registered one's waker may panic on drop, I11).
    DropFuture {
        /// Which waiter (modulo the number created).
        fut: u8,
    },
    /// Poll a fresh `get_async()` future once with waker `waker`, then drop it.
    PollOnce {
        /// Which waker.
        waker: u8,
    },
    /// `waiter_stack_len()`.
    StackLen,
}

/// The kind of task a case runs against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `Arc::new(FutureTask::new(closure))`: the closure applies `body` to its own task, then ends.
    Closure {
        /// Operations the closure performs on its own task while running (each under
        /// `catch_unwind`: a planted panic is the body's observation, the closure goes on).
        body: Vec<Op>,
        /// How the closure ends.
        end: End,
        /// The closure captures a [`Bomb`]: dropped with the closure if it never runs, returned
        /// inside its value on `End::Return` (stored if that wins, dropped by `run` if it lost).
        bomb: bool,
    },
    /// `FutureTask::pending()`.
    Pending,
    /// `futuretask::promise()`.
    Promise,
}

/// A sequential test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The task under test.
    pub kind: Kind,
    /// The operations, in order.
    pub ops: Vec<Op>,
}

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Obs {
    /// `run()`: whether it ran the closure, and what the closure's body observed.
    Run {
        /// `run()`'s return value.
        ran: bool,
        /// The body's observations (empty if it did not run).
        body: Vec<Obs>,
    },
    /// `set` / `Promise::set`.
    Set(Result<(), Rejected<Value>>),
    /// `fail` / `Promise::fail`.
    Fail(Result<(), Rejected<Fail>>),
    /// A boolean answer.
    Bool(bool),
    /// `try_get()`.
    Try(Option<Outcome>),
    /// A waiting get.
    Wait(Wait),
    /// `state()`.
    State(State),
    /// Nothing to report.
    Unit,
    /// A promise operation on a task without a (remaining) promise.
    NoPromise,
    /// `run` / `set` / `fail` on a promise's task: only its promise completes it (its readers
    /// cannot), so the operation does not exist.
    NotOwner,
    /// A poll: `None` no such waiter, `Some(None)` pending, `Some(Some(o))` ready.
    Poll(Option<Option<Outcome>>),
    /// A count (`waiter_stack_len()`, index of a new waiter).
    Count(usize),
    /// The operation finished the protocol, then raised a planted foreign panic (I11).
    Raised(Raised),
    /// `run()` ran the closure (whose body observed `body`), then raised `raised`.
    RunRaised {
        /// The body's observations.
        body: Vec<Obs>,
        /// The panic `run` raised.
        raised: Raised,
    },
    /// A panic that is no planted foreign panic reached the caller (the specification never
    /// predicts one: a callback's or closure's panic escaped, or the kernel itself panicked).
    Unexpected(String),
}

/// Base of the ids of the faulty wakers (`PollFuture` uses small ids for well-behaved ones).
const FAULTY_WAKERS: u32 = 1000;

/// The id of the one waker whose `fault` call panics.
pub fn faulty_waker(fault: WakerFault) -> u32 {
    FAULTY_WAKERS + fault as u32
}

/// The observation of a panic that reached the caller.
fn raised(message: String) -> Obs {
    raised_by(&message).map_or(Obs::Unexpected(message), Obs::Raised)
}

/// Apply `op` to the specification. `in_closure`: the op runs inside the task's closure. If the
/// specification says the caller sees a planted panic, that is the observation.
pub fn apply_spec(spec: &mut Spec, op: &Op, kind: &Kind, in_closure: bool) -> Obs {
    let obs = apply_spec_op(spec, op, kind, in_closure);
    match (spec.take_raised(), obs) {
        (None, obs) => obs,
        (Some(raised), Obs::Run { body, .. }) => Obs::RunRaised { body, raised },
        (Some(r), _) => Obs::Raised(r),
    }
}

fn apply_spec_op(spec: &mut Spec, op: &Op, kind: &Kind, in_closure: bool) -> Obs {
    match *op {
        Op::Run => {
            if !spec.claim() {
                return Obs::Run {
                    ran: false,
                    body: vec![],
                };
            }
            let Kind::Closure { body, end, .. } = kind else {
                unreachable!("only closure tasks can be claimed")
            };
            let body = body
                .iter()
                .map(|o| apply_spec(spec, o, kind, true))
                .collect();
            spec.finish_run(*end);
            Obs::Run { ran: true, body }
        }
        Op::Set(_) | Op::SetBomb(_) | Op::Fail(_) if *kind == Kind::Promise => Obs::NotOwner,
        Op::Set(v) => Obs::Set(spec.set(v)),
        Op::SetBomb(v) => Obs::Set(spec.set_bomb(v)),
        Op::Fail(n) => Obs::Fail(spec.fail(Fail::Error(n))),
        Op::Cancel(i) => Obs::Bool(spec.cancel(i)),
        Op::TryGet => Obs::Try(spec.core.try_get()),
        Op::GetZero | Op::GetTiny | Op::GetPastDeadline => Obs::Wait(spec.core.get_timed()),
        Op::GetHuge | Op::Get => Obs::Wait(spec.core.get()),
        Op::State => Obs::State(spec.core.state()),
        Op::IsDone => Obs::Bool(spec.core.is_done()),
        Op::IsCancelled => Obs::Bool(spec.core.is_cancelled()),
        Op::Interrupted => Obs::Bool(in_closure && spec.core.interrupted()),
        Op::CancelledFn => Obs::Bool(in_closure && spec.core.cancelled()),
        Op::AddCallback {
            nested,
            panics,
            bomb,
        } => {
            let id = spec.allocate_callback_id();
            let nested = nested.then(|| spec.allocate_callback_id());
            spec.add_callback(CallbackSpec {
                id,
                nested,
                panics,
                bomb,
            });
            Obs::Unit
        }
        Op::PromiseSet(v) => spec.promise_set(v).map_or(Obs::NoPromise, Obs::Set),
        Op::PromiseFail(n) => spec
            .promise_fail(Fail::Error(n))
            .map_or(Obs::NoPromise, Obs::Fail),
        Op::DropPromise => {
            if spec.drop_promise() {
                Obs::Unit
            } else {
                Obs::NoPromise
            }
        }
        Op::NewFuture => Obs::Count(spec.new_future()),
        Op::PollFuture { fut, waker } => {
            let n = spec.futures.len();
            if n == 0 {
                return Obs::Poll(None);
            }
            Obs::Poll(spec.poll_future(fut as usize % n, waker as u32, WakerFault::Never))
        }
        Op::PollFaulty { fut, fault } => {
            let n = spec.futures.len();
            if n == 0 {
                return Obs::Poll(None);
            }
            Obs::Poll(spec.poll_future(fut as usize % n, faulty_waker(fault), fault))
        }
        Op::DropFuture { fut } => {
            let n = spec.futures.len();
            Obs::Bool(n != 0 && spec.drop_future(fut as usize % n))
        }
        Op::PollOnce { .. } => Obs::Poll(Some(spec.core.outcome())),
        Op::StackLen => Obs::Count(spec.stack_len()),
    }
}

/// The value type of the real tasks: the specification's [`Value`], and a [`Bomb`] for a value
/// whose drop panics.
#[derive(Debug)]
pub struct Val {
    v: Value,
    _bomb: Option<Bomb>,
}

impl Val {
    fn plain(v: Value) -> Self {
        Val { v, _bomb: None }
    }

    fn armed(self, bombs: &Arc<Bombs>) -> Self {
        Val {
            v: self.v,
            _bomb: Some(bombs.bomb()),
        }
    }
}

fn seen(r: Result<&Val, Error>) -> Outcome {
    observe_get(r.map(|x| &x.v))
}

fn seen_wait(r: Result<&Val, Error>) -> Wait {
    observe_wait(r.map(|x| &x.v))
}

/// A pinned `when_done()` future of the real task.
type AsyncWaiter = Pin<Box<WhenDone<Val>>>;

/// The harness's own reference to the real task: the owner of a closure or `pending()` task, or
/// a reader of a `promise()` task (which only its promise completes).
pub enum Held {
    /// A closure or `pending()` task.
    Owned(Arc<FutureTask<Val>>),
    /// A `promise()` task.
    Promised(TaskHandle<Val>),
}

/// The real side of a case: the task, its promise, its async waiters and the logs its callbacks
/// and wakers write.
pub struct Real {
    /// The owned task (not for a promise's task), weakly: the harness holds the last reference.
    task: OnceLock<Weak<FutureTask<Val>>>,
    /// A promise's task, read through a handle (no weak form exists); taken out at the end of
    /// the case, after the promise's drop ran the callbacks that reach it through `Real`.
    reader: Mutex<Option<TaskHandle<Val>>>,
    promise: Mutex<Option<Promise<Val>>>,
    futures: Mutex<Vec<Option<AsyncWaiter>>>,
    /// The waker sources by id; the harness drops its own wakers after each use, so their live
    /// counts are the wakers the kernel holds.
    wakers: Mutex<HashMap<u32, Arc<FaultyWaker>>>,
    /// Callbacks that ran, in order.
    pub callbacks: Mutex<Vec<CallbackRecord>>,
    /// Wakers woken, in order.
    pub wakes: WakeLog,
    /// Every [`Bomb`] of the case (values, captures): alive ones are compared with the
    /// specification after each step; none may be alive at the end (dropped exactly once).
    pub bombs: Arc<Bombs>,
    body: Mutex<Vec<Obs>>,
    next_callback: Mutex<u32>,
}

impl Real {
    /// Build the real task for `kind`.
    pub fn new(kind: &Kind) -> (Arc<Real>, Held) {
        let real = Arc::new(Real {
            task: OnceLock::new(),
            reader: Mutex::new(None),
            promise: Mutex::new(None),
            futures: Mutex::new(Vec::new()),
            wakers: Mutex::new(HashMap::new()),
            callbacks: Mutex::new(Vec::new()),
            wakes: WakeLog::default(),
            bombs: Bombs::new(),
            body: Mutex::new(Vec::new()),
            next_callback: Mutex::new(0),
        });
        let task: Arc<FutureTask<Val>> = match kind {
            Kind::Closure { body, end, bomb } => {
                let (body, end, r) = (body.clone(), *end, Arc::clone(&real));
                let bomb = bomb.then(|| real.bombs.bomb());
                Arc::new(FutureTask::new(move || {
                    for op in &body {
                        let o = r.apply(op, true);
                        r.body.lock().unwrap().push(o);
                    }
                    match end {
                        End::Return(v) => Val { v, _bomb: bomb },
                        // The captured bomb drops while unwinding: quietly (a second panic would
                        // abort), and counted.
                        End::Panic(n) => panic!("{}", panic_message(n)),
                    }
                }))
            }
            Kind::Pending => Arc::new(FutureTask::<Val, NoJob>::pending()),
            Kind::Promise => {
                let (p, t) = futuretask::promise::<Val>();
                *real.promise.lock().unwrap() = Some(p);
                *real.reader.lock().unwrap() = Some(t.clone());
                return (real, Held::Promised(t));
            }
        };
        real.task.set(Arc::downgrade(&task)).unwrap();
        (real, Held::Owned(task))
    }

    fn task(&self) -> TaskHandle<Val> {
        match self.owner() {
            Some(t) => t.handle(),
            None => self.reader.lock().unwrap().clone().expect("task alive"),
        }
    }

    /// The owner of the task; `None` for a promise's task.
    fn owner(&self) -> Option<Arc<FutureTask<Val>>> {
        let t = self.task.get()?;
        Some(t.upgrade().expect("task alive"))
    }

    /// A new waker of source `id` (the caller drops it with [`drop_own`]).
    fn waker(&self, id: u32, fault: WakerFault) -> Waker {
        self.wakers
            .lock()
            .unwrap()
            .entry(id)
            .or_insert_with(|| FaultyWaker::logged(id, fault, &self.wakes))
            .waker()
    }

    /// The ids of the wakers alive (sorted, one entry per live waker): those the kernel holds.
    pub fn held_wakers(&self) -> Vec<u32> {
        let mut held: Vec<u32> = (self.wakers.lock().unwrap().values())
            .flat_map(|w| std::iter::repeat(w.id()).take(w.live()))
            .collect();
        held.sort_unstable();
        held
    }

    fn allocate_callback_id(&self) -> u32 {
        let mut n = self.next_callback.lock().unwrap();
        *n += 1;
        *n - 1
    }

    fn callback(
        self: &Arc<Self>,
        spec: CallbackSpec,
    ) -> impl for<'a> FnOnce(Result<&'a Val, Error>) + Send + 'static {
        let r = Arc::clone(self);
        let bomb = spec.bomb.then(|| self.bombs.bomb());
        move |res| {
            let task = r.task();
            r.callbacks.lock().unwrap().push(CallbackRecord {
                id: spec.id,
                outcome: seen(res),
                is_done: task.is_done(),
                state: task.state(),
            });
            if let Some(id) = spec.nested {
                task.add_done_callback(r.callback(CallbackSpec {
                    id,
                    nested: None,
                    panics: false,
                    bomb: false,
                }));
            }
            if spec.panics {
                panic!("{PLANTED} callback {}", spec.id);
            }
            drop(bomb); // the capture's drop panics at the end of the body (isolated)
        }
    }

    /// Poll waiter `fut % count` with `w` (then drop `w`: the kernel holds its own clone).
    fn poll_future(&self, fut: u8, w: Waker) -> Obs {
        let (i, f) = {
            let mut fs = self.futures.lock().unwrap();
            if fs.is_empty() {
                drop_own(w);
                return Obs::Poll(None);
            }
            let i = fut as usize % fs.len();
            (i, fs[i].take())
        };
        let Some(mut f) = f else {
            drop_own(w);
            return Obs::Poll(None);
        };
        let r = catch_panic(|| f.as_mut().poll(&mut Context::from_waker(&w)));
        drop_own(w);
        match r {
            Ok(Poll::Ready(t)) => Obs::Poll(Some(Some(seen(t.get())))),
            Ok(Poll::Pending) => {
                self.futures.lock().unwrap()[i] = Some(f);
                Obs::Poll(Some(None))
            }
            Err(message) => {
                // A poll that raised leaves its future usable (still registered, I11).
                self.futures.lock().unwrap()[i] = Some(f);
                raised(message)
            }
        }
    }

    /// Apply `op` to the real task, catching a panic that reaches the caller. `in_closure` only
    /// documents the context (the real `current::is_interrupted()` knows by itself).
    pub fn apply(self: &Arc<Self>, op: &Op, _in_closure: bool) -> Obs {
        let task = self.task();
        if *op == Op::Run {
            let Some(owner) = self.owner() else {
                // A promise's task has nothing to run (its spec never claims).
                return Obs::Run {
                    ran: false,
                    body: vec![],
                };
            };
            let r = catch_panic(|| owner.run());
            // A `run` that raised did run the closure (only the claimer raises).
            let body = if r.as_ref().map_or(true, |ran| *ran) {
                std::mem::take(&mut *self.body.lock().unwrap())
            } else {
                vec![]
            };
            return match r {
                Ok(ran) => Obs::Run { ran, body },
                Err(message) => match raised_by(&message) {
                    Some(raised) => Obs::RunRaised { body, raised },
                    None => Obs::Unexpected(message),
                },
            };
        }
        catch_panic(|| self.apply_op(&task, op)).unwrap_or_else(raised)
    }

    fn apply_op(self: &Arc<Self>, task: &TaskHandle<Val>, op: &Op) -> Obs {
        let tiny = Duration::from_micros(1);
        let owner = self.owner();
        match *op {
            Op::Run => unreachable!("handled by `apply`"),
            Op::Set(_) | Op::SetBomb(_) | Op::Fail(_) if owner.is_none() => Obs::NotOwner,
            Op::Set(v) => Obs::Set(owner.unwrap().set(Val::plain(v)).map_err(|e| Rejected {
                value: e.value.v,
                state: e.state,
            })),
            Op::SetBomb(v) => Obs::Set(
                owner
                    .unwrap()
                    .set(Val::plain(v).armed(&self.bombs))
                    .map_err(|e| {
                        let r = Rejected {
                            value: e.value.v,
                            state: e.state,
                        };
                        // Handed back: dropping it is the caller's business (the harness's own).
                        drop_own(e.value);
                        r
                    }),
            ),
            Op::Fail(n) => Obs::Fail(owner.unwrap().fail(error(n)).map_err(|e| Rejected {
                value: observe_failure(&e.value),
                state: e.state,
            })),
            Op::Cancel(i) => Obs::Bool(if i {
                task.cancel_and_interrupt()
            } else {
                task.cancel()
            }),
            Op::TryGet => Obs::Try(task.try_get().map(seen)),
            Op::GetZero => Obs::Wait(seen_wait(task.get_timeout(Duration::ZERO))),
            Op::GetTiny => Obs::Wait(seen_wait(task.get_timeout(tiny))),
            Op::GetPastDeadline => Obs::Wait(seen_wait(task.get_deadline(Instant::now()))),
            Op::GetHuge | Op::Get => {
                if task.is_done() {
                    Obs::Wait(if *op == Op::Get {
                        Wait::Out(seen(task.get()))
                    } else {
                        seen_wait(task.get_timeout(Duration::MAX))
                    })
                } else {
                    match seen_wait(task.get_timeout(tiny)) {
                        Wait::TimedOut => Obs::Wait(Wait::Blocks),
                        w => Obs::Wait(w),
                    }
                }
            }
            Op::State => Obs::State(task.state()),
            Op::IsDone => Obs::Bool(task.is_done()),
            Op::IsCancelled => Obs::Bool(task.is_cancelled()),
            Op::Interrupted => Obs::Bool(futuretask::current::is_interrupted()),
            Op::CancelledFn => Obs::Bool(futuretask::current::is_cancelled()),
            Op::AddCallback {
                nested,
                panics,
                bomb,
            } => {
                let id = self.allocate_callback_id();
                let nested = nested.then(|| self.allocate_callback_id());
                task.add_done_callback(self.callback(CallbackSpec {
                    id,
                    nested,
                    panics,
                    bomb,
                }));
                Obs::Unit
            }
            Op::PromiseSet(v) => {
                let p = self.promise.lock().unwrap().take();
                p.map_or(Obs::NoPromise, |p| {
                    Obs::Set(p.set(Val::plain(v)).map_err(|e| Rejected {
                        value: e.value.v,
                        state: e.state,
                    }))
                })
            }
            Op::PromiseFail(n) => {
                let p = self.promise.lock().unwrap().take();
                p.map_or(Obs::NoPromise, |p| {
                    Obs::Fail(p.fail(error(n)).map_err(|e| Rejected {
                        value: observe_failure(&e.value),
                        state: e.state,
                    }))
                })
            }
            Op::DropPromise => {
                let p = self.promise.lock().unwrap().take();
                match p {
                    Some(p) => {
                        drop(p);
                        Obs::Unit
                    }
                    None => Obs::NoPromise,
                }
            }
            Op::NewFuture => {
                let mut fs = self.futures.lock().unwrap();
                fs.push(Some(Box::pin(self.task().when_done())));
                Obs::Count(fs.len() - 1)
            }
            Op::PollFuture { fut, waker } => {
                self.poll_future(fut, self.waker(waker as u32, WakerFault::Never))
            }
            Op::PollFaulty { fut, fault } => {
                self.poll_future(fut, self.waker(faulty_waker(fault), fault))
            }
            Op::DropFuture { fut } => {
                let f = {
                    let mut fs = self.futures.lock().unwrap();
                    if fs.is_empty() {
                        return Obs::Bool(false);
                    }
                    let i = fut as usize % fs.len();
                    fs[i].take()
                };
                let existed = f.is_some();
                drop(f); // outside the lock: its waker's drop may panic (the owner's, I11)
                Obs::Bool(existed)
            }
            Op::PollOnce { waker } => {
                let w = self.waker(waker as u32, WakerFault::Never);
                let mut f = pin!(task.get_async());
                let r = Obs::Poll(Some(match f.as_mut().poll(&mut Context::from_waker(&w)) {
                    Poll::Ready(r) => Some(seen(r)),
                    Poll::Pending => None,
                }));
                drop_own(w);
                r
            }
            Op::StackLen => Obs::Count(task.waiter_stack_len()),
        }
    }

    /// Drop every async waiter and the promise, whatever their drops raise (after a mismatch;
    /// breaks the `Arc` cycles).
    fn teardown(&self) {
        let fs = std::mem::take(&mut *self.futures.lock().unwrap());
        for f in fs {
            let _ = catch_panic(move || drop(f));
        }
        let p = self.promise.lock().unwrap().take();
        let _ = catch_panic(move || drop(p));
    }
}

/// One step of a failed comparison, for the report.
pub struct Step {
    /// The operation.
    pub op: Op,
    /// What the specification said.
    pub expected: Obs,
    /// What the kernel did.
    pub actual: Obs,
}

/// A mismatch between the kernel and the specification.
pub struct Mismatch {
    /// Index of the first differing step (`ops.len()` for the end-of-case checks).
    pub at: usize,
    /// What differed.
    pub what: String,
    /// The steps up to and including the mismatch.
    pub trace: Vec<Step>,
}

impl fmt::Debug for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "mismatch at step {}: {}", self.at, self.what)?;
        for (i, s) in self.trace.iter().enumerate() {
            let mark = if s.expected == s.actual { " " } else { "!" };
            writeln!(f, "{mark} {i:>3}: {:?}", s.op)?;
            writeln!(f, "        spec:   {:?}", s.expected)?;
            if s.expected != s.actual {
                writeln!(f, "        kernel: {:?}", s.actual)?;
            }
        }
        Ok(())
    }
}

/// What a passing case exercised: the planted foreign panics the caller saw (I11), so that a
/// run can show that its operations reached them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Planted panics that reached the caller of an operation (closure bodies and the end-of-case
    /// drops of waiters included), by kind: waker clone, waker wake, waker drop, value drop.
    pub raised: [usize; 4],
    /// Cases whose final drop of the task raised (it dropped a bomb: an unrun callback's capture,
    /// the unclaimed closure's, or the stored outcome).
    pub task_drops_raised: usize,
    /// Bombs created (values and captures).
    pub bombs: usize,
}

impl Stats {
    /// Add `other`'s counts.
    pub fn add(&mut self, other: &Stats) {
        for (a, b) in self.raised.iter_mut().zip(other.raised) {
            *a += b;
        }
        self.task_drops_raised += other.task_drops_raised;
        self.bombs += other.bombs;
    }

    fn count(&mut self, obs: &Obs) {
        match obs {
            Obs::Raised(r) => self.raised[*r as usize] += 1,
            Obs::RunRaised { body, raised } => {
                self.raised[*raised as usize] += 1;
                body.iter().for_each(|o| self.count(o));
            }
            Obs::Run { body, .. } => body.iter().for_each(|o| self.count(o)),
            _ => {}
        }
    }
}

/// Run `case` against the kernel and the specification; `Err` describes the first difference.
/// The end of a case drops every async waiter, the promise, then the task (compared like the
/// operations: which drops raise), and checks that nothing is left: no waiter on the stack, no
/// other reference to the task, no waker held, no bomb alive.
pub fn run_case(case: &Case) -> Result<Stats, Mismatch> {
    let mut spec = Spec::new(
        matches!(case.kind, Kind::Closure { .. }),
        case.kind == Kind::Promise,
    );
    spec.closure_bomb = matches!(case.kind, Kind::Closure { bomb: true, .. });
    let (real, task) = Real::new(&case.kind);
    let mut task = Some(task);
    let mut trace = Vec::new();
    let mut stats = Stats::default();
    let step = |op: Op, expected: Obs, actual: Obs, trace: &mut Vec<Step>| {
        let same = expected == actual;
        trace.push(Step {
            op,
            expected,
            actual,
        });
        same
    };
    let result = (|| {
        for (at, op) in case.ops.iter().enumerate() {
            let expected = apply_spec(&mut spec, op, &case.kind, false);
            let actual = real.apply(op, false);
            if !step(op.clone(), expected, actual, &mut trace) {
                return Err((at, "operation result differs".to_owned()));
            }
            compare_logs(&spec, &real).map_err(|w| (at, w))?;
        }
        // End of case: drop every async waiter and the promise, compare as steps.
        let at = case.ops.len();
        for i in 0..spec.futures.len() {
            let fut = u8::try_from(i).expect("at most 256 waiters");
            let op = Op::DropFuture { fut };
            let expected = apply_spec(&mut spec, &op, &case.kind, false);
            let actual = real.apply(&op, false);
            if !step(op, expected, actual, &mut trace) {
                return Err((at, "end of case: dropping a waiter differs".to_owned()));
            }
        }
        let expected = apply_spec(&mut spec, &Op::DropPromise, &case.kind, false);
        let actual = real.apply(&Op::DropPromise, false);
        if !step(Op::DropPromise, expected, actual, &mut trace) {
            return Err((at, "end of case: dropping the promise differs".to_owned()));
        }
        compare_logs(&spec, &real).map_err(|w| (at, w))?;
        let held = task.take().expect("the task");
        let got = match &held {
            Held::Owned(t) => t.waiter_stack_len(),
            Held::Promised(t) => t.waiter_stack_len(),
        };
        let want = spec.stack_len();
        if want != got {
            return Err((
                at,
                format!("waiter_stack_len at the end: spec {want}, kernel {got}"),
            ));
        }
        // The promise's drop ran every callback: no cycle through `Real` is left to break.
        drop(real.reader.lock().unwrap().take());
        // Nothing but the harness's own reference may hold the task now (no leak).
        let strong = match &held {
            Held::Owned(t) => Arc::strong_count(t),
            Held::Promised(t) => t.handle_count(),
        };
        if strong != 1 {
            return Err((
                at,
                format!("{strong} strong references to the task at the end (leak)"),
            ));
        }
        // The last reference: the task drops its callbacks, closure and outcome (I11).
        let want = spec.drop_task();
        let got = match catch_panic(move || drop(held)) {
            Ok(()) => None,
            Err(message) => Some(raised_by(&message).ok_or(message)),
        };
        if got != want.map(Ok) {
            return Err((
                at,
                format!("dropping the task raised: spec {want:?}, kernel {got:?}"),
            ));
        }
        stats.task_drops_raised += usize::from(want.is_some());
        let alive = real.bombs.alive();
        if alive != 0 {
            return Err((
                at,
                format!(
                    "{alive} of {} values whose drop panics never dropped (leak)",
                    real.bombs.created()
                ),
            ));
        }
        let held = real.held_wakers();
        if !held.is_empty() {
            return Err((at, format!("wakers never dropped (leak): {held:?}")));
        }
        Ok(())
    })();
    real.teardown();
    if let Some(t) = task {
        let _ = catch_panic(move || drop(t));
    }
    result.map_err(|(at, what)| Mismatch {
        at,
        what,
        trace: std::mem::take(&mut trace),
    })?;
    trace.iter().for_each(|s| stats.count(&s.expected));
    stats.bombs = real.bombs.created();
    Ok(stats)
}

fn compare_logs(spec: &Spec, real: &Real) -> Result<(), String> {
    let got = real.callbacks.lock().unwrap().clone();
    if got != spec.callback_log {
        return Err(format!(
            "callback log differs:\n  spec:   {:?}\n  kernel: {:?}",
            spec.callback_log, got
        ));
    }
    let mut want = spec.wakes.clone();
    let mut got = real.wakes.lock().unwrap().clone();
    want.sort_unstable();
    got.sort_unstable();
    if want != got {
        return Err(format!(
            "woken wakers differ: spec {want:?}, kernel {got:?}"
        ));
    }
    let (want, got) = (spec.held_wakers(), real.held_wakers());
    if want != got {
        return Err(format!(
            "wakers the kernel holds differ (leak or double drop): spec {want:?}, kernel {got:?}"
        ));
    }
    let (want, got) = (spec.bombs_held(), real.bombs.alive());
    if want != got {
        return Err(format!(
            "values whose drop panics still alive: spec {want}, kernel {got}"
        ));
    }
    Ok(())
}
