//! I10 (no lost task) under real races: submit × shutdown, submit × shutdown_now, submissions from
//! tasks × dropping the pool, waiters × shutdown_now. Every submitted task runs, or is refused
//! (closure handed back), or is cancelled and reported; no waiter hangs. Many iterations
//! (`FT_TIER=full` for more).

use futuretask::Error;
use futuretask_executor::{RejectReason, ThreadPool};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const HANG: Duration = Duration::from_secs(20);

fn iterations(quick: usize) -> usize {
    if std::env::var("FT_TIER").is_ok_and(|v| v == "full") {
        quick * 10
    } else {
        quick
    }
}

/// A short, varying pause so the racing call lands at different points.
fn jitter(i: usize) {
    for _ in 0..(i * 37 % 500) {
        std::hint::spin_loop();
    }
    if i % 7 == 0 {
        thread::yield_now();
    }
}

#[test]
fn submit_races_shutdown_nothing_lost() {
    let (mut mixed, mut total_refused) = (0, 0);
    for it in 0..iterations(150) {
        let pool = ThreadPool::new(2).unwrap();
        let submitters = 3;
        let per = 60;
        let ran: Arc<Vec<AtomicBool>> = Arc::new(
            (0..submitters * per)
                .map(|_| AtomicBool::new(false))
                .collect(),
        );
        let start = Barrier::new(submitters + 1);
        let (accepted, refused) = thread::scope(|s| {
            let workers: Vec<_> = (0..submitters)
                .map(|k| {
                    let (pool, ran, start) = (&pool, Arc::clone(&ran), &start);
                    s.spawn(move || {
                        start.wait();
                        let mut accepted = Vec::new();
                        let mut refused = 0;
                        for j in 0..per {
                            let id = k * per + j;
                            let r = Arc::clone(&ran);
                            match pool.submit(move || {
                                assert!(!r[id].swap(true, SeqCst), "ran twice");
                                id
                            }) {
                                Ok(h) => accepted.push((id, h)),
                                Err(rej) => {
                                    assert_eq!(rej.reason, RejectReason::Shutdown);
                                    // The closure came back: it can still be run by hand.
                                    assert_eq!((rej.task)(), id);
                                    refused += 1;
                                }
                            }
                        }
                        (accepted, refused)
                    })
                })
                .collect();
            start.wait();
            jitter(it);
            pool.shutdown();
            workers.into_iter().fold((Vec::new(), 0), |(mut a, r), w| {
                let (a2, r2) = w.join().unwrap();
                a.extend(a2);
                (a, r + r2)
            })
        });
        assert_eq!(accepted.len() + refused, submitters * per);
        total_refused += refused;
        mixed += usize::from(refused > 0 && !accepted.is_empty());
        // shutdown lets the queue drain: every accepted task runs to completion.
        for (id, h) in &accepted {
            assert_eq!(*h.get_timeout(HANG).expect("no hang, no loss"), *id);
        }
        assert!(pool.await_termination(HANG));
        assert_eq!(
            ran.iter().filter(|r| r.load(SeqCst)).count(),
            submitters * per,
            "accepted ones ran in the pool, refused ones by hand"
        );
    }
    // Not vacuous: the shutdown did land in the middle of submissions.
    assert!(total_refused > 0 && mixed > 0, "no race observed");
}

#[test]
fn submit_races_shutdown_now_every_task_runs_or_is_reported() {
    let (mut total_unstarted, mut total_ran) = (0, 0);
    for it in 0..iterations(150) {
        let pool = ThreadPool::new(2).unwrap();
        let submitters = 2;
        let per = 80;
        let ran: Arc<Vec<AtomicBool>> = Arc::new(
            (0..submitters * per)
                .map(|_| AtomicBool::new(false))
                .collect(),
        );
        let start = Barrier::new(submitters + 1);
        let (accepted, refused, unstarted) = thread::scope(|s| {
            let workers: Vec<_> = (0..submitters)
                .map(|k| {
                    let (pool, ran, start) = (&pool, Arc::clone(&ran), &start);
                    s.spawn(move || {
                        start.wait();
                        let mut accepted = Vec::new();
                        let mut refused = 0;
                        for j in 0..per {
                            let id = k * per + j;
                            let r = Arc::clone(&ran);
                            match pool.submit(move || {
                                r[id].store(true, SeqCst);
                                thread::yield_now();
                                id
                            }) {
                                Ok(h) => accepted.push((id, h)),
                                Err(_) => refused += 1,
                            }
                        }
                        (accepted, refused)
                    })
                })
                .collect();
            start.wait();
            jitter(it);
            let unstarted = pool.shutdown_now();
            let (a, r) = workers.into_iter().fold((Vec::new(), 0), |(mut a, r), w| {
                let (a2, r2) = w.join().unwrap();
                a.extend(a2);
                (a, r + r2)
            });
            (a, r, unstarted)
        });
        assert_eq!(accepted.len() + refused, submitters * per);
        assert!(pool.await_termination(HANG));
        for (id, h) in &accepted {
            // No waiter hangs: every accepted task is done.
            let res = h.get_timeout(HANG);
            let reported = unstarted.iter().any(|u| u.is(h));
            match res {
                Ok(v) => {
                    assert_eq!(v, id);
                    assert!(!reported);
                }
                Err(Error::Cancelled) => {
                    // Either reported as never started (and it never ran), or cancelled with
                    // interrupt while it was running (it ran).
                    assert_eq!(reported, !ran[*id].load(SeqCst), "task {id}");
                }
                Err(e) => panic!("task {id}: {e}"),
            }
            if !reported {
                assert!(
                    ran[*id].load(SeqCst),
                    "task {id} neither ran nor was reported"
                );
            }
        }
        total_unstarted += unstarted.len();
        total_ran += ran.iter().filter(|r| r.load(SeqCst)).count();
    }
    // Not vacuous: some tasks ran and some were cancelled before they started.
    assert!(total_unstarted > 0 && total_ran > 0, "no race observed");
}

#[test]
fn submissions_from_tasks_race_dropping_the_pool() {
    for it in 0..iterations(100) {
        let accepted = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let pool = Arc::new(ThreadPool::new(2).unwrap());
        let weak = Arc::downgrade(&pool);
        for _ in 0..4 {
            spawn_chain(&pool, 6, &accepted, &refused, &ran);
        }
        jitter(it);
        drop(pool); // may or may not be the last reference: tasks hold clones
        let t0 = Instant::now();
        // Once no task holds the pool any more nothing new can be submitted, and every accepted
        // task runs (I10) even if the last drop happened on a worker (which does not join).
        while weak.strong_count() > 0 || ran.load(SeqCst) < accepted.load(SeqCst) {
            assert!(
                t0.elapsed() < HANG,
                "lost task: accepted {} ran {}",
                accepted.load(SeqCst),
                ran.load(SeqCst)
            );
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(ran.load(SeqCst), accepted.load(SeqCst));
        assert!(accepted.load(SeqCst) >= 4);
    }
}

/// Execute a job that, when it runs, submits `depth - 1` more through its own pool handle.
fn spawn_chain(
    pool: &Arc<ThreadPool>,
    depth: usize,
    accepted: &Arc<AtomicUsize>,
    refused: &Arc<AtomicUsize>,
    ran: &Arc<AtomicUsize>,
) {
    let (p, a, r, n) = (
        Arc::clone(pool),
        Arc::clone(accepted),
        Arc::clone(refused),
        Arc::clone(ran),
    );
    // Count before submitting so `ran` can never overtake `accepted`.
    accepted.fetch_add(1, SeqCst);
    let res = pool.execute(move || {
        if depth > 1 {
            spawn_chain(&p, depth - 1, &a, &r, &n);
        }
        drop(p);
        n.fetch_add(1, SeqCst);
    });
    if let Err(rej) = res {
        assert_eq!(rej.reason, RejectReason::Shutdown);
        accepted.fetch_sub(1, SeqCst);
        refused.fetch_add(1, SeqCst);
    }
}

#[test]
fn waiters_on_queued_tasks_wake_when_shutdown_now_races_them() {
    for it in 0..iterations(100) {
        let pool = ThreadPool::new(1).unwrap();
        let handles: Vec<_> = (0..20)
            .map(|i| {
                pool.submit(move || {
                    thread::yield_now();
                    i
                })
                .unwrap()
            })
            .collect();
        thread::scope(|s| {
            let waiters: Vec<_> = handles
                .iter()
                .map(|h| {
                    s.spawn(move || match h.get_timeout(HANG) {
                        Ok(_) | Err(Error::Cancelled) => {}
                        Err(e) => panic!("waiter: {e}"),
                    })
                })
                .collect();
            jitter(it);
            let unstarted = pool.shutdown_now();
            for u in &unstarted {
                assert!(handles.iter().any(|h| u.is(h)));
            }
            for w in waiters {
                w.join().unwrap();
            }
        });
        assert!(handles
            .iter()
            .all(|h| matches!(h.try_get(), Some(Ok(_) | Err(Error::Cancelled)))));
    }
}

#[test]
fn concurrent_submitters_and_a_dropped_pool_run_everything_accepted() {
    for _ in 0..iterations(50) {
        let ran = Arc::new(AtomicUsize::new(0));
        let accepted = {
            let pool = ThreadPool::builder()
                .workers(2)
                .queue_bound(4)
                .build()
                .unwrap();
            let accepted = thread::scope(|s| {
                let subs: Vec<_> = (0..3)
                    .map(|_| {
                        let (pool, ran) = (&pool, Arc::clone(&ran));
                        s.spawn(move || {
                            let mut n = 0;
                            for _ in 0..50 {
                                let r = Arc::clone(&ran);
                                if pool
                                    .execute(move || {
                                        r.fetch_add(1, SeqCst);
                                    })
                                    .is_ok()
                                {
                                    n += 1;
                                }
                            }
                            n
                        })
                    })
                    .collect();
                subs.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
            });
            assert_eq!(
                accepted, 150,
                "Block policy: nothing refused before shutdown"
            );
            accepted
        }; // drop: shutdown + join
        assert_eq!(ran.load(SeqCst), accepted);
    }
}
