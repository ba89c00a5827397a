//! Soak: a bounded randomized stress over many tasks and threads, mixing run (on a pool and
//! inline), set, cancel(with and without interrupt), get, timed gets, async waits, done-callbacks
//! and panicking closures. Checks:
//! * no hang — a watchdog aborts the process (with a report) if no task finishes for 60 s;
//! * no leak — every value, closure and callback carries a counted token, and every token is
//!   dropped exactly once by the end; `Arc` strong counts return to 1; live allocations return to
//!   their starting level (the binary installs the counting allocator);
//! * correct outcomes — every observer of a task (gets, timed gets, awaits, callbacks, other
//!   threads) sees the one outcome decided by the operation that won, and no interrupt leaks into
//!   the next task a pool thread runs.
//!
//! Bounds: whichever comes first of `FT_SOAK_SECS` seconds and `FT_SOAK_TASKS` tasks; defaults
//! 3 s / 30 000 tasks (quick) and 60 s / 50 000 000 tasks (`FT_TIER=full`). The full tier is meant
//! for a release build:
//! `FT_TIER=full cargo test -p futuretask-tests --release --test soak -- --nocapture`.

use futuretask::{current, Error, FutureTask};
use futuretask_tests::alloc::{live, Counting};
use futuretask_tests::support::{
    block_on, quiet_planted_panics, report, Rng, Tier, Token, Tracker,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: Counting = Counting;

type Val = (u64, Token);
type Task = FutureTask<Val>;

/// The outcome of one task, in a comparable form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    Value(u64),
    Panic(u64),
    Error,
    Cancelled,
}

fn code(r: Result<&Val, Error>) -> Code {
    match r {
        Ok(v) => Code::Value(v.0),
        Err(Error::Cancelled) => Code::Cancelled,
        Err(Error::Failed(f)) if f.is_panic() => Code::Panic(
            f.panic_message()
                .and_then(|m| m.rsplit(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(u64::MAX),
        ),
        Err(Error::Failed(_)) => Code::Error,
        Err(e) => panic!("the soak never waits inside an interrupted run, nor times out here: {e}"),
    }
}

fn wcode(r: Result<&Val, Error>) -> Option<Code> {
    match r {
        Ok(v) => Some(Code::Value(v.0)),
        Err(Error::Cancelled) => Some(Code::Cancelled),
        Err(Error::Failed(f)) => Some(code(Err(Error::Failed(f)))),
        Err(Error::TimedOut) => None,
        Err(e) => panic!("the soak never waits inside an interrupted run: {e}"),
    }
}

/// One task and the single outcome every observer must agree on.
struct Entry {
    task: Arc<Task>,
    seen: Arc<OnceLock<Code>>,
}

fn observe(seen: &OnceLock<Code>, c: Code, what: &str) {
    let first = *seen.get_or_init(|| c);
    assert_eq!(first, c, "{what} saw {c:?}, another observer saw {first:?}");
}

struct Queue {
    q: Mutex<(VecDeque<Arc<Task>>, bool)>,
    cv: Condvar,
}

#[test]
fn soak() {
    quiet_planted_panics();
    let tier = Tier::current();
    let secs = tier.count("FT_SOAK_SECS", 3, 60);
    let max_tasks = tier.count("FT_SOAK_TASKS", 30_000, 50_000_000);
    let clients = 3;
    let pool_threads = 2;
    let seed = Rng::seed_from_env("FT_SOAK_SEED");
    tier.announce(
        "soak",
        &format!(
            "{secs} s or {max_tasks} tasks, {clients} clients + {pool_threads} pool threads, \
             {} build, FT_SOAK_SEED={seed}",
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        ),
    );
    let live_before = live();
    let tracker = Tracker::new();
    let done = Arc::new(AtomicU64::new(0));
    let ops = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let leaks = Arc::new(AtomicU64::new(0));
    let queue = Arc::new(Queue {
        q: Mutex::new((VecDeque::new(), false)),
        cv: Condvar::new(),
    });
    let shared: Arc<Mutex<Vec<Entry>>> = Arc::new(Mutex::new(Vec::new()));

    // Watchdog: no finished task for 60 s is a hang.
    let watchdog = {
        let (done, stop) = (Arc::clone(&done), Arc::clone(&stop));
        thread::spawn(move || {
            let mut last = (done.load(SeqCst), Instant::now());
            while !stop.load(SeqCst) {
                thread::sleep(Duration::from_millis(50));
                let now = done.load(SeqCst);
                if now != last.0 {
                    last = (now, Instant::now());
                } else if last.1.elapsed() > Duration::from_secs(60) {
                    eprintln!("soak: no task finished for 60 s after {now} tasks: HANG");
                    std::process::abort();
                }
            }
        })
    };

    let pool: Vec<_> = (0..pool_threads)
        .map(|_| {
            let (queue, leaks) = (Arc::clone(&queue), Arc::clone(&leaks));
            thread::spawn(move || loop {
                let task = {
                    let mut g = queue.q.lock().unwrap();
                    loop {
                        if let Some(t) = g.0.pop_front() {
                            break Some(t);
                        }
                        if g.1 {
                            break None;
                        }
                        g = queue.cv.wait(g).unwrap();
                    }
                };
                let Some(task) = task else { return };
                task.run();
                if current::is_interrupted() || current::is_cancelled() {
                    leaks.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();

    let start = Instant::now();
    let next_id = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (tracker, done, ops, stop, queue, shared, next_id) = (
                Arc::clone(&tracker),
                Arc::clone(&done),
                Arc::clone(&ops),
                Arc::clone(&stop),
                Arc::clone(&queue),
                Arc::clone(&shared),
                Arc::clone(&next_id),
            );
            thread::spawn(move || {
                let mut rng = Rng::new(seed.wrapping_add(c));
                let mut n_ops = 0u64;
                while !stop.load(SeqCst) {
                    let id = next_id.fetch_add(1, SeqCst);
                    if id >= max_tasks || start.elapsed() >= Duration::from_secs(secs) {
                        stop.store(true, SeqCst);
                        break;
                    }
                    n_ops += one_task(id, &mut rng, &tracker, &queue, &shared);
                    done.fetch_add(1, SeqCst);
                    // Cross-thread observers: timed gets on other clients' tasks.
                    let other = {
                        let s = shared.lock().unwrap();
                        (!s.is_empty()).then(|| {
                            let e = &s[rng.below(s.len() as u64) as usize];
                            (Arc::clone(&e.task), Arc::clone(&e.seen))
                        })
                    };
                    if let Some((t, seen)) = other {
                        if let Some(c) = wcode(t.get_timeout(Duration::from_micros(rng.below(20))))
                        {
                            observe(&seen, c, "a timed get from another client");
                        }
                        n_ops += 1;
                    }
                }
                ops.fetch_add(n_ops, SeqCst);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    {
        let mut g = queue.q.lock().unwrap();
        g.1 = true;
        queue.cv.notify_all();
    }
    for p in pool {
        p.join().unwrap();
    }
    // Every task left in the shared ring is done: check strong counts, then drop them.
    let ring = std::mem::take(&mut *shared.lock().unwrap());
    for e in ring {
        assert!(e.task.is_done());
        assert_eq!(e.task.waiter_stack_len(), 0);
        assert_eq!(
            Arc::strong_count(&e.task),
            1,
            "a reference to a task leaked"
        );
    }
    stop.store(true, SeqCst);
    watchdog.join().unwrap();
    let elapsed = start.elapsed();
    let tasks = done.load(SeqCst);
    report(&format!(
        "soak: {tasks} tasks, {} operations in {elapsed:.2?} ({:.0} tasks/s); \
         tokens created {} dropped {}; live allocations {} -> {}",
        ops.load(SeqCst),
        tasks as f64 / elapsed.as_secs_f64(),
        tracker.created(),
        tracker.dropped(),
        live_before,
        live()
    ));
    assert_eq!(
        leaks.load(SeqCst),
        0,
        "an interrupt leaked into a pool thread's next task"
    );
    assert_eq!(
        tracker.alive(),
        0,
        "values/closures/callbacks not dropped exactly once ({} created, {} dropped)",
        tracker.created(),
        tracker.dropped()
    );
    // Thread-locals of the joined threads and the harness's own buffers may account for a few.
    let grown = live() - live_before;
    assert!(
        grown <= 64,
        "{grown} allocations still live after the soak (leak)"
    );
}

/// Create one task, drive it through a random mix of operations, check every observation.
/// Returns the number of operations.
fn one_task(
    id: u64,
    rng: &mut Rng,
    tracker: &Arc<Tracker>,
    queue: &Queue,
    shared: &Mutex<Vec<Entry>>,
) -> u64 {
    let seen: Arc<OnceLock<Code>> = Arc::new(OnceLock::new());
    let panics = rng.chance(1, 10);
    let spin = [0u64, 0, 50, 500, 5_000][rng.below(5) as usize];
    let wait_interrupt = rng.chance(1, 20);
    let tok = tracker.token();
    let closure_token = tracker.token();
    let task: Arc<Task> = Arc::new(FutureTask::new(move || {
        let _keep = closure_token; // dropped when the closure is consumed
        for i in 0..spin {
            if i % 64 == 0 && current::is_cancelled() {
                break;
            }
            std::hint::spin_loop();
        }
        if wait_interrupt {
            let t0 = Instant::now();
            while !current::is_cancelled() && t0.elapsed() < Duration::from_millis(2) {
                thread::park_timeout(Duration::from_micros(200));
            }
        }
        if panics {
            panic!("ft-planted soak {id}");
        }
        (id * 3, tok)
    }));
    let mut n = 1u64;
    // Callbacks, some registered before and some after the completion.
    let add_callback = |task: &Arc<Task>, n: &mut u64| {
        let (seen, tok) = (Arc::clone(&seen), tracker.token());
        let weak = Arc::downgrade(task);
        task.add_done_callback(move |r| {
            let _keep = tok;
            assert!(weak.upgrade().map_or(true, |t| t.is_done()));
            observe(&seen, code(r), "a callback");
        });
        *n += 1;
    };
    for _ in 0..rng.below(3) {
        add_callback(&task, &mut n);
    }
    // How it is run.
    let inline = match rng.below(4) {
        0 => true,
        _ => {
            let mut g = queue.q.lock().unwrap();
            g.0.push_back(Arc::clone(&task));
            queue.cv.notify_one();
            false
        }
    };
    // Racing completions from this thread.
    let mut set_won = None;
    let mut cancel_won = false;
    for _ in 0..rng.below(3) {
        n += 1;
        match rng.below(3) {
            0 => {
                let v = id * 3 + 1;
                match task.set((v, tracker.token())) {
                    Ok(()) => set_won = Some(v),
                    Err(e) => {
                        assert_eq!(e.value.0, v, "set handed back a different value");
                    }
                }
            }
            1 => {
                cancel_won |= if rng.chance(1, 2) {
                    task.cancel_and_interrupt()
                } else {
                    task.cancel()
                }
            }
            _ => {
                if let Some(c) = wcode(task.get_timeout(Duration::from_micros(rng.below(50)))) {
                    observe(&seen, c, "a timed get");
                }
            }
        }
    }
    if inline {
        task.run();
        assert!(
            !current::is_interrupted() && !current::is_cancelled(),
            "interrupt leaked out of an inline run"
        );
        n += 1;
    }
    if rng.chance(1, 2) {
        add_callback(&task, &mut n);
    }
    // Wait for the outcome in one of several ways.
    let c = match rng.below(4) {
        0 => code(task.get()),
        1 => loop {
            if let Some(c) = wcode(task.get_timeout(Duration::from_micros(rng.below(100)))) {
                break c;
            }
            n += 1;
        },
        2 => code(block_on(task.get_async())),
        _ => code(block_on(task.handle().when_done()).get()),
    };
    n += 1;
    observe(&seen, c, "the owner's wait");
    assert!(task.is_done());
    // Exactly one completion decided it.
    let want = if let Some(v) = set_won {
        Code::Value(v)
    } else if cancel_won {
        Code::Cancelled
    } else if panics {
        Code::Panic(id)
    } else {
        Code::Value(id * 3)
    };
    assert!(
        !(set_won.is_some() && cancel_won),
        "both set and cancel won on task {id}"
    );
    // Only this thread completes its tasks (others only read), so it knows the winner.
    assert_eq!(c, want, "task {id}");
    if rng.chance(1, 4) {
        add_callback(&task, &mut n);
    }
    // Share some tasks with other clients' observers (bounded ring).
    let mut s = shared.lock().unwrap();
    if s.len() >= 64 {
        let i = rng.below(64) as usize;
        s.swap_remove(i);
    }
    s.push(Entry { task, seen });
    n
}
