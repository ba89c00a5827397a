//! Polling many tasks with a timeout leaves nothing behind: a million `as_completed` / `wait` /
//! `CompletionService::poll_timeout` calls that time out on a task that never finishes leave its
//! waiter stack empty, the process's live allocations where they were, and its RSS flat (I6 for
//! the executor's waits). Then the task completes and a last wait sees it.
//!
//! Tier: `FT_TIMED_POLLS=N` polls; else 1 000 000 (quick) / 5 000 000 (`FT_TIER=full`).

use futuretask::FutureTask;
use futuretask_executor::{as_completed, wait, CompletionService, ReturnWhen};
use futuretask_tests::alloc::{live, Counting};
use futuretask_tests::support::{report, Tier};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static A: Counting = Counting;

/// Resident set size in KiB (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

#[test]
fn a_million_timed_out_polls_leave_no_registration_and_no_memory() {
    let tier = Tier::current();
    let total = tier.count("FT_TIMED_POLLS", 1_000_000, 5_000_000);
    tier.announce(
        "timed-out polls",
        &format!("{total} as_completed / wait / poll_timeout calls that time out"),
    );
    let task: Arc<FutureTask<u64>> = Arc::new(FutureTask::<u64, _>::pending());
    let other: Arc<FutureTask<u64>> = Arc::new(FutureTask::<u64, _>::pending());
    let mut service = CompletionService::detached();
    service.add(other.handle());
    let poll = |k: u64, service: &mut CompletionService<'static, u64>| match k % 4 {
        0 => {
            let mut it = as_completed(vec![task.handle()], Some(Duration::ZERO));
            let e = it.next().unwrap().unwrap_err();
            assert_eq!((e.unfinished(), e.total()), (1, 1));
        }
        1 => {
            let (done, not_done) = wait(
                vec![task.handle()],
                ReturnWhen::FirstCompleted,
                Some(Duration::ZERO),
            );
            assert_eq!((done.len(), not_done.len()), (0, 1));
        }
        2 => {
            // Kept alive past the timeout: its registration must already be gone.
            let mut it = as_completed(
                vec![task.handle(), task.handle()],
                Some(Duration::from_nanos(1)),
            );
            assert!(it.next().unwrap().is_err());
            assert_eq!(
                task.waiter_stack_len(),
                0,
                "I6: a timed-out iterator kept a node"
            );
        }
        _ => {
            let e = service.poll_timeout(Duration::ZERO).unwrap_err();
            assert_eq!((e.unfinished(), e.total()), (1, 1));
        }
    };
    // Warm up (allocator caches, thread-locals), then measure.
    for k in 0..1000 {
        poll(k, &mut service);
    }
    let (live0, rss0, t0) = (live(), rss_kib(), Instant::now());
    let mut max_len = 0;
    for k in 0..total {
        poll(k, &mut service);
        if k % 1024 == 0 {
            let len = task.waiter_stack_len();
            max_len = max_len.max(len);
            assert_eq!(
                len, 0,
                "I6: {len} registrations left on the task after {k} polls"
            );
            assert_eq!(
                other.waiter_stack_len(),
                1,
                "the service keeps exactly its one node"
            );
        }
    }
    let (live1, rss1) = (live(), rss_kib());
    report(&format!(
        "{total} timed-out polls in {:.2} s: waiter stack max {max_len}, live allocations {live0} \
         -> {live1}, RSS {rss0} KiB -> {rss1} KiB",
        t0.elapsed().as_secs_f64()
    ));
    assert_eq!(task.waiter_stack_len(), 0);
    assert!(
        (live1 - live0).abs() <= 16,
        "live allocations grew from {live0} to {live1} over {total} polls"
    );
    assert!(
        rss1 <= rss0 + 8 * 1024,
        "RSS grew from {rss0} KiB to {rss1} KiB over {total} polls"
    );
    // The task still completes normally, and a wait sees it.
    task.set(7).unwrap();
    let first = as_completed(vec![task.handle()], Some(Duration::ZERO))
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(*first.get().unwrap(), 7);
    other.set(8).unwrap();
    assert_eq!(*service.take().unwrap().unwrap().get().unwrap(), 8);
    assert_eq!(service.outstanding(), 0);
}
