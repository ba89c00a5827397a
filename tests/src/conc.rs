//! Real concurrent runs, recorded as histories and checked for linearizability against the
//! specification's [`Core`].
//!
//! A [`Lab`] keeps 2–4 worker threads. For each history it builds one task and one random
//! [`Plan`] (a script of actions per thread), releases the workers together, and records every
//! operation as an [`Event`]: a ticket from one global clock (`AtomicU64`, SeqCst) right before
//! the call and one right after it returns.
//!
//! `run()` is two steps of the specification (claim, then complete), so the closure itself takes
//! tickets: when it starts (the claim has responded) and when it ends (the completion is
//! invoked). Inside the closure it also asks `current::is_interrupted()` and `current::is_cancelled()`, which are
//! operations of the history too. Blocking `get()` and `get_async().await` are included: they
//! respond once the task is done. If every worker has finished or is blocked and the task is not
//! done, the coordinator issues (and records) a `cancel()` so that every history ends.
//!
//! Done-callbacks are not operations of the sequential object; they are checked separately: each
//! registered callback runs exactly once, sees the final outcome and `is_done()`, callbacks
//! registered by one thread run in registration order, a callback registered before the winning
//! completion was invoked has run when that completion returns, and one registered after the
//! winning completion returned runs before its registration returns.

use crate::lin::{self, Event, Model};
use crate::model::{Core, End, Fail, Outcome, Rejected, Value, Wait};
use crate::support::{
    block_on, error, observe_failure, observe_get, observe_wait, panic_message, Rng,
};
use futuretask::{FutureTask, Promise, State, TaskHandle};
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// An operation of the concurrent alphabet (what the history records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinOp {
    /// `run()`'s claim: from the call to the moment the closure starts (or to `run`'s return
    /// when the closure did not start).
    Run,
    /// `run()`'s completion: from the moment the closure ended to `run`'s return.
    Complete(End),
    /// `current::is_interrupted()` inside the closure.
    Interrupted,
    /// `current::is_cancelled()` inside the closure.
    CancelledFn,
    /// `set(v)` (or `Promise::set`).
    Set(Value),
    /// `fail(e)` (or `Promise::fail`).
    Fail(Fail),
    /// Dropping the promise.
    DropPromise,
    /// `cancel(i)`.
    Cancel(bool),
    /// `try_get()`.
    TryGet,
    /// `get_timeout(Duration::ZERO)`.
    GetZero,
    /// `get_timeout(d)` for a small `d` (µs).
    GetTimed(u32),
    /// `get_deadline(Instant::now())`.
    GetPast,
    /// Blocking `get()`.
    Get,
    /// `block_on(task.get_async())`.
    Await,
    /// `state()`.
    State,
    /// `is_done()`.
    IsDone,
    /// `is_cancelled()`.
    IsCancelled,
}

/// A response of the concurrent alphabet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinRet {
    /// `Run`: whether the closure was claimed.
    Claimed(bool),
    /// `Complete`: `run()`'s return value.
    Ran(bool),
    /// A boolean answer.
    Bool(bool),
    /// `set`.
    Set(Result<(), Rejected<Value>>),
    /// `fail`.
    Fail(Result<(), Rejected<Fail>>),
    /// Nothing.
    Unit,
    /// `try_get`.
    Try(Option<Outcome>),
    /// A waiting get.
    Wait(Wait),
    /// `state()`.
    State(State),
}

impl Model for Core {
    type Op = LinOp;
    type Ret = LinRet;

    fn step(&self, op: &LinOp) -> Option<(Core, LinRet)> {
        let mut s = *self;
        let r = match *op {
            LinOp::Run => LinRet::Claimed(s.claim()),
            LinOp::Complete(end) => {
                s.finish_run(end);
                LinRet::Ran(true)
            }
            LinOp::Interrupted => LinRet::Bool(s.interrupted()),
            LinOp::CancelledFn => LinRet::Bool(s.cancelled()),
            LinOp::Set(v) => LinRet::Set(s.set(v)),
            LinOp::Fail(f) => LinRet::Fail(s.fail(f)),
            LinOp::DropPromise => {
                let _ = s.complete(Outcome::Failed(Fail::BrokenPromise));
                LinRet::Unit
            }
            LinOp::Cancel(i) => LinRet::Bool(s.cancel(i)),
            LinOp::TryGet => LinRet::Try(s.try_get()),
            LinOp::GetZero | LinOp::GetTimed(_) | LinOp::GetPast => LinRet::Wait(s.get_timed()),
            LinOp::Get | LinOp::Await => match s.get() {
                Wait::Blocks => return None, // cannot take effect before the task is done
                w => LinRet::Wait(w),
            },
            LinOp::State => LinRet::State(s.state()),
            LinOp::IsDone => LinRet::Bool(s.is_done()),
            LinOp::IsCancelled => LinRet::Bool(s.is_cancelled()),
        };
        Some((s, r))
    }
}

/// One scripted action of a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `run()`.
    Run,
    /// `set(v)`.
    Set(Value),
    /// `fail(ft-error n)`.
    Fail(u32),
    /// `cancel(i)`.
    Cancel(bool),
    /// `try_get()`.
    TryGet,
    /// `get_timeout(0)`.
    GetZero,
    /// `get_timeout(µs)`.
    GetTimed(u32),
    /// `get_deadline(now)`.
    GetPast,
    /// `get()`.
    Get,
    /// `block_on(get_async())`.
    Await,
    /// `state()`.
    State,
    /// `is_done()`.
    IsDone,
    /// `is_cancelled()`.
    IsCancelled,
    /// `add_done_callback(..)`.
    AddCallback,
    /// `Promise::set(v)` (promise owner only).
    PromiseSet(Value),
    /// `Promise::fail(ft-error n)` (promise owner only).
    PromiseFail(u32),
    /// Drop the promise (promise owner only).
    DropPromise,
    /// Spin this many iterations (changes the interleaving).
    Pause(u32),
    /// `try_get()` in a tight loop until it answers or `n` tries: recorded as one `TryGet`
    /// spanning the loop, answering the last try (a read linearizes at its last try, which lies
    /// inside the span). Aims at the completer's COMPLETING window.
    SpinTryGet(u32),
}

/// What one history does: the task kind and each thread's script.
#[derive(Clone, Debug)]
pub struct Plan {
    /// `Some(thread)`: a `promise()` task whose promise that thread holds (dropped at the end
    /// of its script if still held). `None`: a closure task.
    pub promise_owner: Option<usize>,
    /// How the closure ends.
    pub end: End,
    /// How long the closure spins (polling `current::is_cancelled()`).
    pub work: u32,
    /// One script per worker.
    pub scripts: Vec<Vec<Action>>,
}

impl Plan {
    /// A random plan for `threads` workers.
    pub fn random(rng: &mut Rng, threads: usize) -> Plan {
        let promise_owner = rng.chance(1, 4).then(|| rng.below(threads as u64) as usize);
        let mut next = 1u32;
        let mut fresh = || {
            next += 1;
            next
        };
        let end = if rng.chance(1, 4) {
            End::Panic(fresh())
        } else {
            End::Return(1000 + fresh())
        };
        let work = [0, 10, 200, 2000][rng.below(4) as usize];
        let mut scripts = Vec::new();
        for t in 0..threads {
            let len = 1 + rng.below(7) as usize;
            let mut s = Vec::with_capacity(len + 2);
            if rng.chance(1, 2) {
                // Stagger the start a little, so that every op kind meets every other.
                s.push(Action::Pause(rng.below(300) as u32));
            }
            for _ in 0..len {
                let a = match rng.below(100) {
                    0..=13 => {
                        if promise_owner.is_none() {
                            Action::Run
                        } else {
                            Action::Get
                        }
                    }
                    14..=21 => Action::Set(fresh()),
                    22..=25 => Action::Fail(fresh()),
                    26..=33 => Action::Cancel(rng.chance(1, 2)),
                    34..=39 => Action::TryGet,
                    40..=45 => Action::GetZero,
                    46..=53 => Action::GetTimed([1, 5, 50][rng.below(3) as usize]),
                    54..=56 => Action::GetPast,
                    57..=66 => Action::Get,
                    67..=71 => Action::Await,
                    72..=77 => Action::State,
                    78..=82 => Action::IsDone,
                    83..=85 => Action::IsCancelled,
                    86..=91 => Action::AddCallback,
                    92..=94 => Action::SpinTryGet(1 + rng.below(20_000) as u32),
                    _ => Action::Pause(rng.below(500) as u32),
                };
                s.push(a);
            }
            if promise_owner == Some(t) && rng.chance(3, 4) {
                let at = rng.below(s.len() as u64 + 1) as usize;
                let a = match rng.below(3) {
                    0 => Action::PromiseSet(fresh()),
                    1 => Action::PromiseFail(fresh()),
                    _ => Action::DropPromise,
                };
                s.insert(at, a);
            }
            scripts.push(s);
        }
        Plan {
            promise_owner,
            end,
            work,
            scripts,
        }
    }

    /// Number of operations in the plan (upper bound on the history length).
    pub fn len(&self) -> usize {
        self.scripts.iter().map(Vec::len).sum()
    }

    /// Whether no thread has anything to do.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

static CLOCK: AtomicU64 = AtomicU64::new(1);

/// A ticket from the global logical clock.
pub fn tick() -> u64 {
    CLOCK.fetch_add(1, SeqCst)
}

thread_local! {
    static WORKER: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// What the closure recorded about one execution of itself.
#[derive(Clone, Copy, Debug)]
struct ClosureRun {
    thread: usize,
    enter: u64,
    interrupted: (u64, u64, bool),
    cancelled: (u64, u64, bool),
    exit: u64,
}

/// Lives for the whole process (the closure only holds `&'static`, so even a planted double run
/// of the closure touches nothing freed).
struct Probe {
    runs: Mutex<Vec<ClosureRun>>,
}

#[derive(Clone, Copy, Debug)]
struct CallbackReg {
    thread: usize,
    id: u32,
    invoke: u64,
    respond: u64,
}

#[derive(Clone, Copy, Debug)]
struct CallbackRun {
    id: u32,
    at: u64,
    outcome: Outcome,
    is_done: bool,
}

const ACTIVE: u8 = 0;
const BLOCKED: u8 = 1;
const FINISHED: u8 = 2;

struct Round {
    /// Every thread's reader of the task.
    task: TaskHandle<Value>,
    /// The owner of a closure task (runs, sets, fails it); `None` for a promise's task, which
    /// only its promise completes.
    owner: Option<Arc<FutureTask<Value>>>,
    promise: Mutex<Option<Promise<Value>>>,
    plan: Plan,
    events: Vec<Mutex<Vec<Event<LinOp, LinRet>>>>,
    regs: Mutex<Vec<CallbackReg>>,
    runs: Arc<Mutex<Vec<CallbackRun>>>,
    /// Panics of worker scripts (a kernel panic, or a failed check inside the harness).
    panics: Mutex<Vec<String>>,
}

struct Shared {
    round: Mutex<Option<Arc<Round>>>,
    status: Vec<AtomicU8>,
    start: Barrier,
    end: Barrier,
    probe: &'static Probe,
    stop: AtomicBool,
    /// Workers past the start barrier, spinning on `go` (a barrier alone releases them tens of
    /// microseconds apart, which serialises short scripts).
    ready: AtomicU64,
    go: AtomicBool,
}

/// A pool of worker threads that runs recorded histories.
pub struct Lab {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    next_callback: u32,
}

/// Statistics of a checked history.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Operations in the history.
    pub ops: usize,
    /// The coordinator had to cancel to release blocked workers.
    pub finisher: bool,
    /// Some two operations of different threads overlapped in time.
    pub overlap: bool,
}

impl Lab {
    /// Start `threads` workers (2–4 is the intended range).
    pub fn new(threads: usize) -> Lab {
        let probe: &'static Probe = Box::leak(Box::new(Probe {
            runs: Mutex::new(Vec::new()),
        }));
        let shared = Arc::new(Shared {
            round: Mutex::new(None),
            status: (0..threads).map(|_| AtomicU8::new(FINISHED)).collect(),
            start: Barrier::new(threads + 1),
            end: Barrier::new(threads + 1),
            probe,
            stop: AtomicBool::new(false),
            ready: AtomicU64::new(0),
            go: AtomicBool::new(false),
        });
        let workers = (0..threads)
            .map(|me| {
                let sh = Arc::clone(&shared);
                thread::Builder::new()
                    .name(format!("lin-worker-{me}"))
                    .spawn(move || worker(me, &sh))
                    .expect("spawn worker")
            })
            .collect();
        Lab {
            shared,
            workers,
            next_callback: 0,
        }
    }

    /// Number of workers.
    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Run `plan` once on a fresh task and check the history. `Err` holds a full report.
    pub fn run(&mut self, plan: &Plan) -> Result<Stats, String> {
        assert_eq!(plan.scripts.len(), self.threads());
        let sh = &self.shared;
        let probe = sh.probe;
        probe.runs.lock().unwrap().clear();
        let (end, work) = (plan.end, plan.work);
        let (task, owner, promise) = match plan.promise_owner {
            Some(_) => {
                let (p, t) = futuretask::promise::<Value>();
                (t, None, Some(p))
            }
            None => {
                let t: Arc<FutureTask<Value>> =
                    Arc::new(FutureTask::new(move || closure_body(probe, end, work)));
                (t.handle(), Some(t), None)
            }
        };
        // Give every callback of this round a distinct id.
        let regs_base = self.next_callback;
        self.next_callback = self.next_callback.wrapping_add(10_000);
        let round = Arc::new(Round {
            task: task.clone(),
            owner: owner.clone(),
            promise: Mutex::new(promise),
            plan: plan.clone(),
            events: (0..=self.threads())
                .map(|_| Mutex::new(Vec::new()))
                .collect(),
            regs: Mutex::new(Vec::new()),
            runs: Arc::new(Mutex::new(Vec::new())),
            panics: Mutex::new(Vec::new()),
        });
        CALLBACK_BASE.store(u64::from(regs_base), SeqCst);
        *sh.round.lock().unwrap() = Some(Arc::clone(&round));
        for s in &sh.status {
            s.store(ACTIVE, SeqCst);
        }
        sh.go.store(false, SeqCst);
        sh.ready.store(0, SeqCst);
        sh.start.wait();
        while sh.ready.load(SeqCst) < self.threads() as u64 {
            thread::yield_now();
        }
        sh.go.store(true, SeqCst);
        let mut stats = Stats::default();
        let started = Instant::now();
        let mut done_since: Option<Instant> = None;
        let mut spins = 0u32;
        loop {
            let st: Vec<u8> = sh.status.iter().map(|s| s.load(SeqCst)).collect();
            if st.iter().all(|&s| s == FINISHED) {
                break;
            }
            if !stats.finisher && st.iter().all(|&s| s != ACTIVE) && !task.is_done() {
                // Everyone left is blocked on a task nobody will complete: cancel it (recorded).
                stats.finisher = true;
                let inv = tick();
                let r = task.cancel();
                let resp = tick();
                round.events[self.threads()]
                    .lock()
                    .unwrap()
                    .push(Event::done(
                        self.threads(),
                        LinOp::Cancel(false),
                        inv,
                        resp,
                        LinRet::Bool(r),
                    ));
            }
            // Done means done: once the task is done no waiter may stay blocked.
            if task.is_done() && st.contains(&BLOCKED) {
                let since = *done_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(10) {
                    panic!(
                        "the task is done ({:?}) but a waiter has stayed blocked for 10 s (lost \
                         wake-up): statuses {st:?}, waiter_stack_len {}\nplan: {plan:?}",
                        task.state(),
                        task.waiter_stack_len()
                    );
                }
            } else {
                done_since = None;
            }
            if started.elapsed() > Duration::from_secs(60) {
                panic!(
                    "history did not finish within 60 s (hang?): statuses {st:?}, task {:?}, \
                     waiter_stack_len {}\nplan: {plan:?}",
                    task.state(),
                    task.waiter_stack_len()
                );
            }
            spins += 1;
            if spins % 64 == 0 {
                thread::sleep(Duration::from_micros(20));
            } else {
                thread::yield_now();
            }
        }
        sh.end.wait();
        *sh.round.lock().unwrap() = None;
        let round = Arc::try_unwrap(round).unwrap_or_else(|_| panic!("round still shared"));
        let mut history: Vec<Event<LinOp, LinRet>> = Vec::new();
        for evs in round.events {
            history.extend(evs.into_inner().unwrap());
        }
        stats.ops = history.len();
        stats.overlap = history.iter().any(|a| {
            history.iter().any(|b| {
                a.thread != b.thread
                    && match (a.ret, b.ret) {
                        (Some((ar, _)), Some((br, _))) => a.invoke < br && b.invoke < ar,
                        _ => true,
                    }
            })
        });
        let mut report = String::new();
        for p in round.panics.into_inner().unwrap() {
            let _ = writeln!(report, "worker panicked: {p}");
        }
        let init = Core::new(plan.promise_owner.is_none());
        let linearizable = match lin::check(&init, &history) {
            Ok(_) => true,
            Err(v) => {
                let _ = writeln!(report, "NOT LINEARIZABLE\n{}", v.report);
                false
            }
        };
        let regs = round.regs.into_inner().unwrap();
        let runs = round.runs.lock().unwrap().clone();
        check_callbacks(&task, &history, &regs, &runs, &mut report);
        let len = task.waiter_stack_len();
        let want = if task.is_done() { 0 } else { regs.len() };
        if len != want {
            let _ = writeln!(
                report,
                "waiter_stack_len() == {len} at the end, expected {want} (task {:?})",
                task.state()
            );
        }
        drop(round.promise);
        // Every reference but `task` is gone now (the workers, the round, the promise, the owner):
        // a closure or promise task alike, it must be the last one.
        drop((round.task, round.owner, owner));
        let strong = task.handle_count();
        drop(task);
        if strong != 1 {
            let _ = writeln!(report, "{strong} strong references to the task remain");
        }
        if report.is_empty() {
            Ok(stats)
        } else {
            for g in &regs {
                let _ = writeln!(
                    report,
                    "  callback {} registered by t{} [{} .. {}], ran at {:?}",
                    g.id,
                    g.thread,
                    g.invoke,
                    g.respond,
                    runs.iter().find(|r| r.id == g.id).map(|r| r.at)
                );
            }
            if linearizable {
                report.push_str(&lin::report(&history, &[]));
            }
            Err(format!("{report}plan: {plan:?}"))
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if thread::panicking() {
            // A failed history may leave workers blocked forever (e.g. a waiter never woken):
            // do not wait for them, let the panic report.
            return;
        }
        self.shared.stop.store(true, SeqCst);
        *self.shared.round.lock().unwrap() = None;
        self.shared.start.wait();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

static CALLBACK_BASE: AtomicU64 = AtomicU64::new(0);

fn closure_body(probe: &'static Probe, end: End, work: u32) -> Value {
    let thread = WORKER.with(Cell::get);
    let enter = tick();
    for i in 0..work {
        if i % 64 == 0 && futuretask::current::is_cancelled() {
            break;
        }
        std::hint::spin_loop();
    }
    let i0 = tick();
    let a = futuretask::current::is_interrupted();
    let i1 = tick();
    let c0 = tick();
    let b = futuretask::current::is_cancelled();
    let c1 = tick();
    let exit = tick();
    probe.runs.lock().unwrap().push(ClosureRun {
        thread,
        enter,
        interrupted: (i0, i1, a),
        cancelled: (c0, c1, b),
        exit,
    });
    match end {
        End::Return(v) => v,
        End::Panic(n) => panic!("{}", panic_message(n)),
    }
}

fn worker(me: usize, sh: &Shared) {
    WORKER.with(|w| w.set(me));
    let mut local_id = 0u32;
    loop {
        sh.start.wait();
        if sh.stop.load(SeqCst) {
            return;
        }
        let round = sh.round.lock().unwrap().clone().expect("round");
        sh.ready.fetch_add(1, SeqCst);
        let mut spins = 0u32;
        while !sh.go.load(SeqCst) {
            spins += 1;
            if spins % 4096 == 0 {
                thread::yield_now();
            }
            std::hint::spin_loop();
        }
        let script = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_script(me, sh, &round, &mut local_id)
        }));
        let evs = match script {
            Ok(evs) => evs,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                round.panics.lock().unwrap().push(format!("t{me}: {msg}"));
                Vec::new()
            }
        };
        *round.events[me].lock().unwrap() = evs;
        drop(round);
        sh.status[me].store(FINISHED, SeqCst);
        sh.end.wait();
    }
}

fn run_script(
    me: usize,
    sh: &Shared,
    round: &Round,
    local_id: &mut u32,
) -> Vec<Event<LinOp, LinRet>> {
    let mut evs = Vec::new();
    let task = &round.task;
    let owner = round.plan.promise_owner == Some(me);
    for &a in &round.plan.scripts[me] {
        let mut rec = |op: LinOp, f: &mut dyn FnMut() -> LinRet| {
            let inv = tick();
            let r = f();
            let resp = tick();
            evs.push(Event::done(me, op, inv, resp, r));
        };
        match a {
            Action::Run => {
                let owner = round
                    .owner
                    .as_ref()
                    .expect("only a closure task's plan runs it");
                let inv = tick();
                let ran = owner.run();
                let resp = tick();
                let mine: Vec<ClosureRun> = sh
                    .probe
                    .runs
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|r| r.thread == me && r.enter > inv && r.exit < resp)
                    .copied()
                    .collect();
                match mine.first() {
                    Some(c) => {
                        evs.push(Event::done(
                            me,
                            LinOp::Run,
                            inv,
                            c.enter,
                            LinRet::Claimed(true),
                        ));
                        let (i0, i1, ia) = c.interrupted;
                        evs.push(Event::done(
                            me,
                            LinOp::Interrupted,
                            i0,
                            i1,
                            LinRet::Bool(ia),
                        ));
                        let (c0, c1, ca) = c.cancelled;
                        evs.push(Event::done(
                            me,
                            LinOp::CancelledFn,
                            c0,
                            c1,
                            LinRet::Bool(ca),
                        ));
                        evs.push(Event::done(
                            me,
                            LinOp::Complete(round.plan.end),
                            c.exit,
                            resp,
                            LinRet::Ran(ran),
                        ));
                    }
                    None => evs.push(Event::done(me, LinOp::Run, inv, resp, LinRet::Claimed(ran))),
                }
                // Interrupt must not leak past `run`.
                if futuretask::current::is_interrupted() || futuretask::current::is_cancelled() {
                    evs.push(Event::done(
                        me,
                        LinOp::Interrupted,
                        tick(),
                        tick(),
                        LinRet::Bool(true), // never valid after run returned: flags the leak
                    ));
                }
            }
            // A promise's task is completed by its promise only: its readers cannot set or fail it.
            Action::Set(_) | Action::Fail(_) if round.owner.is_none() => {}
            Action::Set(v) => rec(LinOp::Set(v), &mut || {
                let task = round.owner.as_ref().expect("checked above");
                LinRet::Set(task.set(v).map_err(|e| Rejected {
                    value: e.value,
                    state: e.state,
                }))
            }),
            Action::Fail(n) => rec(LinOp::Fail(Fail::Error(n)), &mut || {
                let task = round.owner.as_ref().expect("checked above");
                LinRet::Fail(task.fail(error(n)).map_err(|e| Rejected {
                    value: observe_failure(&e.value),
                    state: e.state,
                }))
            }),
            Action::Cancel(i) => rec(LinOp::Cancel(i), &mut || {
                LinRet::Bool(if i {
                    task.cancel_and_interrupt()
                } else {
                    task.cancel()
                })
            }),
            Action::TryGet => rec(LinOp::TryGet, &mut || {
                LinRet::Try(task.try_get().map(observe_get))
            }),
            Action::GetZero => rec(LinOp::GetZero, &mut || {
                LinRet::Wait(observe_wait(task.get_timeout(Duration::ZERO)))
            }),
            Action::GetTimed(us) => rec(LinOp::GetTimed(us), &mut || {
                LinRet::Wait(observe_wait(
                    task.get_timeout(Duration::from_micros(u64::from(us))),
                ))
            }),
            Action::GetPast => rec(LinOp::GetPast, &mut || {
                LinRet::Wait(observe_wait(task.get_deadline(Instant::now())))
            }),
            Action::Get => {
                sh.status[me].store(BLOCKED, SeqCst);
                rec(LinOp::Get, &mut || {
                    LinRet::Wait(Wait::Out(observe_get(task.get())))
                });
                sh.status[me].store(ACTIVE, SeqCst);
            }
            Action::Await => {
                sh.status[me].store(BLOCKED, SeqCst);
                rec(LinOp::Await, &mut || {
                    LinRet::Wait(Wait::Out(observe_get(block_on(task.get_async()))))
                });
                sh.status[me].store(ACTIVE, SeqCst);
            }
            Action::State => rec(LinOp::State, &mut || LinRet::State(task.state())),
            Action::IsDone => rec(LinOp::IsDone, &mut || LinRet::Bool(task.is_done())),
            Action::IsCancelled => rec(LinOp::IsCancelled, &mut || {
                LinRet::Bool(task.is_cancelled())
            }),
            Action::AddCallback => {
                let id = CALLBACK_BASE.load(SeqCst) as u32 + me as u32 * 1000 + *local_id;
                *local_id += 1;
                let runs = Arc::clone(&round.runs);
                // An owned task is probed weakly (a callback that never runs must not keep it
                // alive); a promise's task through a reader, a cycle its promise's drop at the
                // end of the round breaks by running the callback.
                let weak: Option<Weak<FutureTask<Value>>> =
                    round.owner.as_ref().map(Arc::downgrade);
                let reader = round.owner.is_none().then(|| task.clone());
                let invoke = tick();
                task.add_done_callback(move |r| {
                    let at = tick();
                    let is_done = match (&weak, &reader) {
                        (Some(w), _) => w.upgrade().is_some_and(|t| t.is_done()),
                        (None, r) => r.as_ref().is_some_and(TaskHandle::is_done),
                    };
                    runs.lock().unwrap().push(CallbackRun {
                        id,
                        at,
                        outcome: observe_get(r),
                        is_done,
                    });
                });
                let respond = tick();
                round.regs.lock().unwrap().push(CallbackReg {
                    thread: me,
                    id,
                    invoke,
                    respond,
                });
            }
            Action::PromiseSet(v) if owner => {
                let p = round.promise.lock().unwrap().take();
                if let Some(p) = p {
                    let inv = tick();
                    let r = p.set(v).map_err(|e| Rejected {
                        value: e.value,
                        state: e.state,
                    });
                    let resp = tick();
                    evs.push(Event::done(me, LinOp::Set(v), inv, resp, LinRet::Set(r)));
                }
            }
            Action::PromiseFail(n) if owner => {
                let p = round.promise.lock().unwrap().take();
                if let Some(p) = p {
                    let inv = tick();
                    let r = p.fail(error(n)).map_err(|e| Rejected {
                        value: observe_failure(&e.value),
                        state: e.state,
                    });
                    let resp = tick();
                    let op = LinOp::Fail(Fail::Error(n));
                    evs.push(Event::done(me, op, inv, resp, LinRet::Fail(r)));
                }
            }
            Action::DropPromise if owner => drop_promise(round, me, &mut evs),
            Action::PromiseSet(_) | Action::PromiseFail(_) | Action::DropPromise => {}
            Action::Pause(n) => {
                for _ in 0..n {
                    std::hint::spin_loop();
                }
            }
            Action::SpinTryGet(n) => rec(LinOp::TryGet, &mut || {
                let mut last = None;
                for _ in 0..n {
                    last = task.try_get().map(observe_get);
                    if last.is_some() {
                        break;
                    }
                }
                LinRet::Try(last)
            }),
        }
    }
    if owner {
        drop_promise(round, me, &mut evs);
    }
    evs
}

fn drop_promise(round: &Round, me: usize, evs: &mut Vec<Event<LinOp, LinRet>>) {
    let p = round.promise.lock().unwrap().take();
    if let Some(p) = p {
        let inv = tick();
        drop(p);
        let resp = tick();
        evs.push(Event::done(me, LinOp::DropPromise, inv, resp, LinRet::Unit));
    }
}

/// The operation that decided the task's outcome, if any: `(invoke, respond)`.
fn winner(final_outcome: Outcome, history: &[Event<LinOp, LinRet>]) -> Option<(u64, u64)> {
    history.iter().find_map(|e| {
        let (resp, ret) = e.ret?;
        let won = match (e.op, ret, final_outcome) {
            (LinOp::Set(v), LinRet::Set(Ok(())), Outcome::Value(w)) => v == w,
            (LinOp::Fail(f), LinRet::Fail(Ok(())), Outcome::Failed(g)) => f == g,
            (LinOp::Cancel(_), LinRet::Bool(true), Outcome::Cancelled) => true,
            (LinOp::Complete(end), _, o) => end.outcome() == o,
            (LinOp::DropPromise, _, Outcome::Failed(Fail::BrokenPromise)) => true,
            _ => false,
        };
        won.then_some((e.invoke, resp))
    })
}

fn check_callbacks(
    task: &TaskHandle<Value>,
    history: &[Event<LinOp, LinRet>],
    regs: &[CallbackReg],
    runs: &[CallbackRun],
    report: &mut String,
) {
    let outcome = task.try_get().map(observe_get);
    for r in runs {
        let n = runs.iter().filter(|x| x.id == r.id).count();
        if n != 1 {
            let _ = writeln!(report, "callback {} ran {n} times", r.id);
        }
        if Some(r.outcome) != outcome || !r.is_done {
            let _ = writeln!(
                report,
                "callback {} saw {:?} (is_done {}), final outcome {outcome:?}",
                r.id, r.outcome, r.is_done
            );
        }
    }
    let Some(outcome) = outcome else {
        if !runs.is_empty() {
            let _ = writeln!(report, "callbacks ran on a task that is not done: {runs:?}");
        }
        return;
    };
    let win = winner(outcome, history);
    if win.is_none() {
        let _ = writeln!(report, "no operation in the history decided {outcome:?}");
    }
    let ran_at = |id: u32| runs.iter().find(|r| r.id == id).map(|r| r.at);
    let mut last_per_thread: Vec<Option<u64>> = vec![None; 8];
    for g in regs {
        let Some(at) = ran_at(g.id) else {
            let _ = writeln!(
                report,
                "callback {} (registered by t{}) never ran",
                g.id, g.thread
            );
            continue;
        };
        if let Some(prev) = last_per_thread[g.thread] {
            if at < prev {
                let _ = writeln!(
                    report,
                    "callback {} of t{} ran before an earlier registration of t{}",
                    g.id, g.thread, g.thread
                );
            }
        }
        last_per_thread[g.thread] = Some(at);
        if let Some((w_inv, w_resp)) = win {
            if g.respond < w_inv && at > w_resp {
                let _ = writeln!(
                    report,
                    "callback {} registered before the completion, ran after it returned",
                    g.id
                );
            }
            if g.invoke > w_resp && at > g.respond {
                let _ = writeln!(
                    report,
                    "callback {} registered on a finished task ran after its registration returned",
                    g.id
                );
            }
        }
    }
}

/// Totals of [`run_histories`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    /// Histories checked.
    pub histories: u64,
    /// Operations in them.
    pub ops: u64,
    /// Histories in which the coordinator had to cancel to release blocked workers.
    pub finisher: u64,
    /// Histories in which operations of different threads overlapped.
    pub overlapping: u64,
}

/// Run `count` random histories with `threads` workers from `seed`. Panics with a full report on
/// the first violation.
pub fn run_histories(seed: u64, threads: usize, count: u64) -> Totals {
    let mut lab = Lab::new(threads);
    let mut rng = Rng::new(seed);
    let mut t = Totals::default();
    for i in 0..count {
        let plan = Plan::random(&mut rng, threads);
        match lab.run(&plan) {
            Ok(s) => {
                t.histories += 1;
                t.ops += s.ops as u64;
                t.finisher += u64::from(s.finisher);
                t.overlapping += u64::from(s.overlap);
            }
            Err(report) => panic!(
                "history {i} (seed {seed}, {threads} threads; replay the plans with \
                 FT_LIN_SEED={seed}) failed:\n{report}"
            ),
        }
    }
    t
}
