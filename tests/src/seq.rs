//! The sequential differential harness: apply one sequence of operations to a real
//! [`FutureTask`] and to the specification ([`Spec`]) and compare every observation.
//!
//! A test case is a task kind (a closure task whose closure itself runs a *body* of operations on
//! its own task before returning or panicking — that is how the "running" column of the contract
//! table is exercised sequentially —, a `pending()` task, or a `promise()` task) and a list of
//! operations. After each operation the harness compares the operation's result, the log of
//! done-callbacks that ran so far (order included), and the multiset of wakers woken so far.

use crate::model::{CallbackRecord, CallbackSpec, End, Fail, Outcome, Rejected, Spec, Value, Wait};
use crate::support::{error, observe_failure, observe_get, observe_wait, panic_message, PLANTED};
use futuretask::{Done, FutureTask, GetError, NoJob, Promise, State};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// One operation of a sequential test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `run()`.
    Run,
    /// `set(v)`.
    Set(Value),
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
    /// `futuretask::interrupted()` (inside the closure body: of this task; outside: `false`).
    Interrupted,
    /// `futuretask::cancelled()`.
    CancelledFn,
    /// `add_done_callback(..)`: the callback records what it sees, optionally registers one more
    /// callback from inside itself, optionally panics.
    AddCallback {
        /// Register a nested callback from inside the callback.
        nested: bool,
        /// Panic after recording.
        panics: bool,
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
    /// Drop async waiter `fut % count`.
    DropFuture {
        /// Which waiter (modulo the number created).
        fut: u8,
    },
    /// Poll a fresh `wait_async()` future once with waker `waker`, then drop it.
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
    /// `FutureTask::arc(closure)`: the closure applies `body` to its own task, then ends.
    Closure {
        /// Operations the closure performs on its own task while running.
        body: Vec<Op>,
        /// How the closure ends.
        end: End,
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
    /// A poll: `None` no such waiter, `Some(None)` pending, `Some(Some(o))` ready.
    Poll(Option<Option<Outcome>>),
    /// A count (`waiter_stack_len()`, index of a new waiter).
    Count(usize),
}

/// Apply `op` to the specification. `in_closure`: the op runs inside the task's closure.
pub fn apply_spec(spec: &mut Spec, op: &Op, kind: &Kind, in_closure: bool) -> Obs {
    match *op {
        Op::Run => {
            if !spec.claim() {
                return Obs::Run {
                    ran: false,
                    body: vec![],
                };
            }
            let Kind::Closure { body, end } = kind else {
                unreachable!("only closure tasks can be claimed")
            };
            let body = body
                .iter()
                .map(|o| apply_spec(spec, o, kind, true))
                .collect();
            spec.finish_run(*end);
            Obs::Run { ran: true, body }
        }
        Op::Set(v) => Obs::Set(spec.set(v)),
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
        Op::AddCallback { nested, panics } => {
            let id = spec.allocate_callback_id();
            let nested = nested.then(|| spec.allocate_callback_id());
            spec.add_callback(CallbackSpec { id, nested, panics });
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
            Obs::Poll(spec.poll_future(fut as usize % n, waker as u32))
        }
        Op::DropFuture { fut } => {
            let n = spec.futures.len();
            Obs::Bool(n != 0 && spec.drop_future(fut as usize % n))
        }
        Op::PollOnce { .. } => Obs::Poll(Some(spec.core.outcome())),
        Op::StackLen => Obs::Count(spec.stack_len()),
    }
}

/// A pinned `done()` future of the real task.
type AsyncWaiter = Pin<Box<Done<Value>>>;

/// The real side of a case: the task, its promise, its async waiters and the logs its callbacks
/// and wakers write.
pub struct Real {
    task: OnceLock<Weak<FutureTask<Value>>>,
    promise: Mutex<Option<Promise<Value>>>,
    futures: Mutex<Vec<Option<AsyncWaiter>>>,
    wakers: Mutex<HashMap<u8, Waker>>,
    /// Callbacks that ran, in order.
    pub callbacks: Mutex<Vec<CallbackRecord>>,
    /// Wakers woken, in order.
    pub wakes: Arc<Mutex<Vec<u32>>>,
    body: Mutex<Vec<Obs>>,
    next_callback: Mutex<u32>,
}

struct RecordingWaker {
    id: u32,
    log: Arc<Mutex<Vec<u32>>>,
}

impl Wake for RecordingWaker {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.id);
    }
}

impl Real {
    /// Build the real task for `kind`.
    pub fn new(kind: &Kind) -> (Arc<Real>, Arc<FutureTask<Value>>) {
        let real = Arc::new(Real {
            task: OnceLock::new(),
            promise: Mutex::new(None),
            futures: Mutex::new(Vec::new()),
            wakers: Mutex::new(HashMap::new()),
            callbacks: Mutex::new(Vec::new()),
            wakes: Arc::new(Mutex::new(Vec::new())),
            body: Mutex::new(Vec::new()),
            next_callback: Mutex::new(0),
        });
        let task: Arc<FutureTask<Value>> = match kind {
            Kind::Closure { body, end } => {
                let (body, end, r) = (body.clone(), *end, Arc::clone(&real));
                FutureTask::arc(move || {
                    for op in &body {
                        let o = r.apply(op, true);
                        r.body.lock().unwrap().push(o);
                    }
                    match end {
                        End::Return(v) => v,
                        End::Panic(n) => panic!("{}", panic_message(n)),
                    }
                })
            }
            Kind::Pending => Arc::new(FutureTask::<Value, NoJob>::pending()),
            Kind::Promise => {
                let (p, t) = futuretask::promise::<Value>();
                *real.promise.lock().unwrap() = Some(p);
                t
            }
        };
        real.task.set(Arc::downgrade(&task)).unwrap();
        (real, task)
    }

    fn task(&self) -> Arc<FutureTask<Value>> {
        self.task.get().unwrap().upgrade().expect("task alive")
    }

    fn waker(&self, id: u8) -> Waker {
        self.wakers
            .lock()
            .unwrap()
            .entry(id)
            .or_insert_with(|| {
                Waker::from(Arc::new(RecordingWaker {
                    id: id as u32,
                    log: Arc::clone(&self.wakes),
                }))
            })
            .clone()
    }

    fn allocate_callback_id(&self) -> u32 {
        let mut n = self.next_callback.lock().unwrap();
        *n += 1;
        *n - 1
    }

    fn callback(
        self: &Arc<Self>,
        spec: CallbackSpec,
    ) -> impl for<'a> FnOnce(Result<&'a Value, GetError<'a>>) + Send + 'static {
        let r = Arc::clone(self);
        move |res| {
            let task = r.task();
            r.callbacks.lock().unwrap().push(CallbackRecord {
                id: spec.id,
                outcome: observe_get(res),
                is_done: task.is_done(),
                state: task.state(),
            });
            if let Some(id) = spec.nested {
                task.add_done_callback(r.callback(CallbackSpec {
                    id,
                    nested: None,
                    panics: false,
                }));
            }
            if spec.panics {
                panic!("{PLANTED} callback {}", spec.id);
            }
        }
    }

    /// Apply `op` to the real task. `in_closure` only documents the context (the real
    /// `interrupted()` knows by itself).
    pub fn apply(self: &Arc<Self>, op: &Op, _in_closure: bool) -> Obs {
        let task = self.task();
        let tiny = Duration::from_micros(1);
        match *op {
            Op::Run => {
                let ran = task.run();
                let body = if ran {
                    std::mem::take(&mut *self.body.lock().unwrap())
                } else {
                    vec![]
                };
                Obs::Run { ran, body }
            }
            Op::Set(v) => Obs::Set(task.set(v).map_err(|e| Rejected {
                value: e.value,
                state: e.state,
            })),
            Op::Fail(n) => Obs::Fail(task.fail(error(n)).map_err(|e| Rejected {
                value: observe_failure(&e.value),
                state: e.state,
            })),
            Op::Cancel(i) => Obs::Bool(task.cancel(i)),
            Op::TryGet => Obs::Try(task.try_get().map(observe_get)),
            Op::GetZero => Obs::Wait(observe_wait(task.get_timeout(Duration::ZERO))),
            Op::GetTiny => Obs::Wait(observe_wait(task.get_timeout(tiny))),
            Op::GetPastDeadline => Obs::Wait(observe_wait(task.get_deadline(Instant::now()))),
            Op::GetHuge | Op::Get => {
                if task.is_done() {
                    Obs::Wait(if *op == Op::Get {
                        Wait::Out(observe_get(task.get()))
                    } else {
                        observe_wait(task.get_timeout(Duration::MAX))
                    })
                } else {
                    match observe_wait(task.get_timeout(tiny)) {
                        Wait::TimedOut => Obs::Wait(Wait::Blocks),
                        w => Obs::Wait(w),
                    }
                }
            }
            Op::State => Obs::State(task.state()),
            Op::IsDone => Obs::Bool(task.is_done()),
            Op::IsCancelled => Obs::Bool(task.is_cancelled()),
            Op::Interrupted => Obs::Bool(futuretask::interrupted()),
            Op::CancelledFn => Obs::Bool(futuretask::cancelled()),
            Op::AddCallback { nested, panics } => {
                let id = self.allocate_callback_id();
                let nested = nested.then(|| self.allocate_callback_id());
                task.add_done_callback(self.callback(CallbackSpec { id, nested, panics }));
                Obs::Unit
            }
            Op::PromiseSet(v) => {
                let p = self.promise.lock().unwrap().take();
                p.map_or(Obs::NoPromise, |p| {
                    Obs::Set(p.set(v).map_err(|e| Rejected {
                        value: e.value,
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
                fs.push(Some(Box::pin(Arc::clone(&task).done())));
                Obs::Count(fs.len() - 1)
            }
            Op::PollFuture { fut, waker } => {
                let (i, f) = {
                    let mut fs = self.futures.lock().unwrap();
                    if fs.is_empty() {
                        return Obs::Poll(None);
                    }
                    let i = fut as usize % fs.len();
                    (i, fs[i].take())
                };
                let Some(mut f) = f else {
                    return Obs::Poll(None);
                };
                let w = self.waker(waker);
                match f.as_mut().poll(&mut Context::from_waker(&w)) {
                    Poll::Ready(t) => Obs::Poll(Some(Some(observe_get(t.get())))),
                    Poll::Pending => {
                        self.futures.lock().unwrap()[i] = Some(f);
                        Obs::Poll(Some(None))
                    }
                }
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
                Obs::Bool(f.is_some())
            }
            Op::PollOnce { waker } => {
                let w = self.waker(waker);
                let mut f = pin!(task.wait_async());
                Obs::Poll(Some(match f.as_mut().poll(&mut Context::from_waker(&w)) {
                    Poll::Ready(r) => Some(observe_get(r)),
                    Poll::Pending => None,
                }))
            }
            Op::StackLen => Obs::Count(task.waiter_stack_len()),
        }
    }

    /// Drop every async waiter and the promise (ends of a case; breaks the `Arc` cycles).
    fn teardown(&self) {
        let fs = std::mem::take(&mut *self.futures.lock().unwrap());
        drop(fs);
        let p = self.promise.lock().unwrap().take();
        drop(p);
        self.wakers.lock().unwrap().clear();
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

/// Run `case` against the kernel and the specification; `Err` describes the first difference.
pub fn run_case(case: &Case) -> Result<(), Mismatch> {
    let mut spec = Spec::new(
        matches!(case.kind, Kind::Closure { .. }),
        case.kind == Kind::Promise,
    );
    let (real, task) = Real::new(&case.kind);
    let mut trace = Vec::new();
    let result = (|| {
        for (at, op) in case.ops.iter().enumerate() {
            let expected = apply_spec(&mut spec, op, &case.kind, false);
            let actual = real.apply(op, false);
            let same = expected == actual;
            trace.push(Step {
                op: op.clone(),
                expected,
                actual,
            });
            if !same {
                return Err((at, "operation result differs".to_owned()));
            }
            compare_logs(&spec, &real).map_err(|w| (at, w))?;
        }
        // End of case: drop every async waiter and the promise, compare once more.
        let at = case.ops.len();
        for i in 0..spec.futures.len() {
            spec.drop_future(i);
        }
        spec.drop_promise();
        real.teardown();
        compare_logs(&spec, &real).map_err(|w| (at, w))?;
        let (want, got) = (spec.stack_len(), task.waiter_stack_len());
        if want != got {
            return Err((
                at,
                format!("waiter_stack_len at the end: spec {want}, kernel {got}"),
            ));
        }
        Ok(())
    })();
    real.teardown();
    let strong = Arc::strong_count(&task);
    drop(task);
    result.map_err(|(at, what)| Mismatch { at, what, trace })?;
    if strong != 1 {
        return Err(Mismatch {
            at: case.ops.len(),
            what: format!("{strong} strong references to the task at the end (leak)"),
            trace: vec![],
        });
    }
    Ok(())
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
    Ok(())
}
