//! The worker loop: take the oldest entry and run it; with none, release the finished task,
//! then watch the queue, then sleep (`sleep.rs`); leave once shut down with the queue empty, or
//! at once after `shutdown_now` (I10).

use crate::job::Runnable;
use crate::panics::contain;
use crate::pool::Shared;
use crate::sync::{self, fence, thread_local, JoinHandle, Ordering::SeqCst, ThreadBuilder};
use std::cell::Cell;
use std::sync::Arc;

/// Guarded by the pop lock.
pub(crate) struct Registry {
    /// What each worker runs (a second reference, for `shutdown_now`'s interrupt). A finished
    /// task stays here until its worker takes the next one or goes idle.
    pub(crate) running: Vec<Option<Arc<dyn Runnable>>>,
    /// `shutdown_now`: workers leave without taking more work (the queue was drained).
    pub(crate) stop: bool,
}

impl Registry {
    /// One empty slot per worker.
    pub(crate) fn new(workers: usize) -> Registry {
        Registry {
            running: (0..workers).map(|_| None).collect(),
            stop: false,
        }
    }
}

thread_local! {
    /// The pool (`Arc::as_ptr` of its `Shared`) whose worker this thread is; 0 elsewhere.
    #[allow(clippy::missing_const_for_thread_local)]
    static WORKER_OF: Cell<usize> = Cell::new(0);
}

/// Whether the calling thread is one of the workers of the pool that shares `shared`.
pub(crate) fn is_worker_of(shared: &Arc<Shared>) -> bool {
    WORKER_OF.with(Cell::get) == Arc::as_ptr(shared) as usize
}

/// Start `workers` threads named `{prefix}-{index}`. If the system refuses one, the pool is shut
/// down and the threads already started are joined before the error is returned.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    workers: usize,
    prefix: &str,
) -> Result<Vec<JoinHandle<()>>, std::io::Error> {
    let mut threads = Vec::with_capacity(workers);
    for idx in 0..workers {
        let sh = Arc::clone(shared);
        let spawned = ThreadBuilder::new()
            .name(format!("{prefix}-{idx}"))
            .spawn(move || worker_main(sh, idx));
        match spawned {
            Ok(h) => threads.push(h),
            Err(e) => {
                // The workers that never started will not decrement `live`.
                sync::lock(&shared.sleep).live -= workers - idx;
                shared.shut_down();
                for h in threads {
                    let _ = h.join();
                }
                return Err(e);
            }
        }
    }
    Ok(threads)
}

/// What one look at the queue did.
enum Turn {
    /// `shutdown_now`: leave without taking more work.
    Stop,
    /// Ran a task.
    Ran,
    /// Released the task that finished last; look again.
    Released,
    /// Nothing to do.
    Idle,
}

fn worker_main(shared: Arc<Shared>, idx: usize) {
    WORKER_OF.with(|w| w.set(Arc::as_ptr(&shared) as usize));
    // Leave through the guard, even if something unexpected unwinds: `live` must reach 0 for
    // `await_termination`, and the running slot must be released.
    let exit = ExitGuard {
        shared: &shared,
        idx,
    };
    let sh = &*shared;
    let mut spun = false;
    loop {
        // I10: read `shutdown` *before* looking at the queue. It is set under the push lock after
        // every accepted push, so once it reads true an empty queue stays empty: nothing
        // accepted is left behind when we leave below.
        let shut = sh.shutdown.load(SeqCst);
        match sh.take_turn(idx) {
            Turn::Stop => break,
            Turn::Ran => {
                spun = false;
                continue;
            }
            Turn::Released => continue,
            Turn::Idle => {}
        }
        if shut {
            break;
        }
        if !spun && sh.try_spin() {
            spun = true;
            continue;
        }
        sh.sleep_until_work();
        spun = false;
    }
    drop(exit);
}

impl Shared {
    /// Worker `idx` looks at the queue once: runs the oldest entry, or else releases its
    /// finished task (outside the lock: its drop may run user code).
    fn take_turn(&self, idx: usize) -> Turn {
        let mut w = self.queue.lock_pop();
        if w.stop {
            return Turn::Stop;
        }
        if let Some(job) = w.pop() {
            let more = !w.is_empty();
            // The registry entry becomes the task's owning reference (no clone): it stays there
            // until this worker takes its next task or leaves, so the pointer below is valid for
            // the run; `shutdown_now` only clones it.
            let task = job.into_task();
            let current: *const dyn Runnable = Arc::as_ptr(&task);
            let finished = w.running[idx].replace(task);
            drop(w);
            self.after_take(more);
            if let Some(t) = finished {
                contain(move || drop(t));
            }
            // SAFETY: `running[idx]` holds an `Arc` of this task until this worker replaces or
            // takes it (a later turn, or `ExitGuard`); nobody else removes it (I10: the registry
            // is how `shutdown_now` reaches a running task).
            contain(|| unsafe { (*current).run_task() });
            return Turn::Ran;
        }
        match w.running[idx].take() {
            Some(t) => {
                drop(w);
                contain(move || drop(t));
                Turn::Released
            }
            None => Turn::Idle,
        }
    }

    /// After taking an entry: the E1/E2 hand-offs it owes to sleepers and blocked submitters.
    fn after_take(&self, more: bool) {
        // E1/E2: our `head` store (in `pop`), then the waiter counts.
        fence(SeqCst);
        self.signal_room();
        if more {
            // More work than this worker: pass the wake on (a spinner took this entry without
            // anyone being woken for the rest).
            self.wake_for_new_work();
        }
    }
}

struct ExitGuard<'a> {
    shared: &'a Shared,
    idx: usize,
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        let sh = self.shared;
        let finished = sh.queue.lock_pop().running[self.idx].take();
        let mut s = sync::lock(&sh.sleep);
        s.live -= 1;
        if s.live == 0 {
            sh.term.notify_all();
        }
        drop(s);
        if let Some(t) = finished {
            // Leaving with a task taken but (after an unexpected unwind) perhaps not run: cancel
            // it so its waiters wake (I10); after a run this is one load.
            contain(move || {
                t.cancel_task(false);
                drop(t)
            });
        }
    }
}
