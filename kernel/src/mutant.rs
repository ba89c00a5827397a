//! Planted bugs for the mutation harness (`models/` and `cargo xtask verify`): each site in the
//! kernel guarded by `mutant("name")` switches to a deliberately broken variant when the kernel is
//! compiled with the environment variable `FT_MUTANT=name`. Without it every guard is the constant
//! `false` and the broken code is removed at compile time, so nothing of it ships.
//!
//! An environment variable (not a `--cfg`) keeps a mutant rebuild to this crate and its
//! dependents: cargo tracks `option_env!` and leaves the rest of the dependency graph cached.

/// The mutant selected at compile time, if any.
pub const ACTIVE: Option<&str> = option_env!("FT_MUTANT");

/// Every mutant the kernel knows, with the invariant it breaks.
pub const ALL: &[(&str, &str)] = &[
    (
        "publish_relaxed",
        "I2: outcome published with a Relaxed store",
    ),
    (
        "completing_is_settled",
        "I2/I9: a reader treats COMPLETING as settled and reads the outcome early",
    ),
    (
        "start_without_cas",
        "I4: run claims the closure with load+store instead of CAS",
    ),
    (
        "push_ignores_closed",
        "I3: a waiter links onto a CLOSED stack and is never woken",
    ),
    (
        "drain_closes_early",
        "I3/I7: the completer closes after one batch, losing pushes made meanwhile",
    ),
    (
        "cancel_no_wake",
        "I3: cancel does not drain the waiter stack",
    ),
    (
        "no_dekker_fence",
        "I5: no SeqCst fences between publishing the runner and reading the state",
    ),
    (
        "runner_skips_interrupt_wait",
        "I5: run returns while the canceller still uses its thread handle",
    ),
    (
        "interrupt_scope_leaks",
        "I5: the interrupt scope outlives the run",
    ),
    (
        "release_before_take",
        "I6: a node is marked DONE before its payload is taken",
    ),
    (
        "release_before_unlink",
        "I6: a swept node is released before it is unlinked",
    ),
    (
        "timeout_no_unlink",
        "I6: a timed-out waiter leaves its node linked",
    ),
    (
        "wake_before_release",
        "I3: the sleepers are woken before their nodes are released",
    ),
    (
        "sweeper_ignores_dirty",
        "I6: the lock holder ignores DIRTY and strands an abandoned waiter",
    ),
    (
        "closed_callback_dropped",
        "I7: a callback registered on a closed stack is dropped",
    ),
    ("waker_not_replaced", "I8: a re-poll keeps the old waker"),
    (
        "wake_unguarded",
        "I11: a panicking waker unwinds out of the batch walk, stranding the rest of the drain",
    ),
    (
        "clone_inside_updating",
        "I11: a re-poll clones the new waker inside UPDATING; a panicking clone leaves it there",
    ),
    (
        "sweeper_drops_waker",
        "I11: the remover drops an abandoned node's waker under LOCKED",
    ),
    (
        "drop_unguarded",
        "I11: a task's drop stops at the first panicking foreign drop, leaking the rest",
    ),
    (
        "sleep_without_recheck",
        "I10/E1: an idle worker sleeps without re-checking the queue after announcing itself",
    ),
    (
        "shutdown_read_after_pop",
        "I10: a worker reads `shutdown` after finding the queue empty and leaves work behind",
    ),
    (
        "tail_relaxed",
        "I10/Q1: the pool's ring publishes a slot with a Relaxed store of `tail`",
    ),
    (
        "room_without_recheck",
        "I10/E2: a submitter blocked on a full queue waits without re-checking for room",
    ),
    (
        "shutdown_now_lists_started",
        "I10: shutdown_now reports a task whose closure started as unstarted",
    ),
    (
        "reclaim_ignores_started",
        "I4: a cancelled task's closure is reclaimed twice (run or dropped twice)",
    ),
    (
        "wait_ignores_interrupt",
        "I12: a blocking wait inside a run ignores that run's interrupt",
    ),
    (
        "inbox_post_without_notify",
        "I3/N2: a completion notice does not signal the consumer sleeping on the inbox",
    ),
    (
        "inbox_sleep_without_recheck",
        "I3/N2: the inbox consumer announces its sleep after re-locking, missing a notice",
    ),
    (
        "watch_ready_not_posted",
        "I3/N1: a task already done when watched is never reported",
    ),
    (
        "timed_out_watch_kept",
        "I6/N3: a wait that gives up leaves its registrations on the pending tasks",
    ),
    (
        "inbox_interrupt_checked_once",
        "I12/N4: the inbox consumer checks its run's interrupt only before its first sleep",
    ),
    (
        "mark_dirty_skips_cas",
        "I6/A2: an abandoner that finds DIRTY already set returns without its CAS on head",
    ),
];

/// Whether the mutant `name` is compiled in.
#[inline(always)]
pub const fn mutant(name: &str) -> bool {
    match ACTIVE {
        Some(active) => str_eq(active, name),
        None => false,
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn active_mutant_is_known() {
        if let Some(m) = super::ACTIVE {
            assert!(
                super::ALL.iter().any(|(n, _)| *n == m),
                "unknown FT_MUTANT {m}"
            );
        }
    }
}
