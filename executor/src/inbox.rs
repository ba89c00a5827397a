//! The completion inbox: how [`as_completed`](crate::as_completed), [`wait`](crate::wait),
//! [`ThreadPool::invoke_any`](crate::ThreadPool::invoke_any) and
//! [`CompletionService`](crate::CompletionService) learn that a task finished, without polling
//! and without leaving anything behind when they give up.
//!
//! A [`Watch`] is one async waiter node on the watched task's own waiter stack (a pinned, boxed
//! [`WhenDone`] future polled once with a [`Notice`] waker). Completion or cancellation releases the
//! node and wakes the waker, which posts the watch's index into the [`Inbox`]; the consumer takes
//! indices out in completion order. Dropping a watch that has not fired unlinks its node through
//! the kernel's abandon path (I6), so a consumer that times out leaves no node, waker or inbox
//! reference on any task — unlike a done-callback, which stays registered until the task ends.
//!
//! Hand-offs (each has a mutant in `models/mutants/` and a model in `models/`):
//! * **N1 register × complete**: the first poll of a watch either links its node (the releaser
//!   will post) or finds the task done (the registrant posts at once); exactly one of them does.
//! * **N2 post × sleep**: a producer pushes its index and reads `waiting` under the inbox lock; the
//!   consumer checks `ready` and sets `waiting` under the same lock before it sleeps, so either it
//!   sees the index or the producer sees it waiting and notifies.
//! * **N3 give up × complete**: a consumer that gives up drops its watches; a watch whose node a
//!   completer is already releasing waits for the release (I6) and may still post — a stale
//!   index, in an inbox nobody reads again.
//! * **N4 sleep × interrupt** (I12): a consumer on a thread that is running a task's closure
//!   ([`futuretask::current::in_task`]) parks instead of waiting on the condition variable, so the
//!   unpark of a `cancel_and_interrupt` of that task (C4) reaches it, and it re-checks the run's
//!   interrupt after every wakeup, before it sleeps again. It announces itself (`parked`) under
//!   the lock, like N2; a producer takes the handle under the lock and unparks after it; a park
//!   permit outlives an unpark sent before the park, so neither a notice nor the interrupt is
//!   lost. A notice already queued is returned first (done means done); otherwise the wait ends
//!   with [`Recv::Interrupted`]. Outside a run the consumer sleeps on the condition variable as
//!   before: unrelated unparks of its thread neither wake it nor are consumed by it.

use crate::sync::{self, Condvar, Deadline, Mutex, Thread};
use futuretask::current;
use futuretask::{TaskHandle, WhenDone};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Completion notices: indices of finished tasks, in completion order (single consumer).
pub(crate) struct Inbox {
    state: Mutex<InboxState>,
    cv: Condvar,
}

struct InboxState {
    ready: VecDeque<usize>,
    /// The consumer is blocked on `cv` (so a notice needs a `notify_one`).
    waiting: bool,
    /// The consumer is parked (it waits inside a task's run, N4): a notice unparks it.
    parked: Option<Thread>,
}

/// How [`Inbox::recv`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recv {
    /// The index of a finished task.
    Notice(usize),
    /// The deadline passed with nothing queued.
    TimedOut,
    /// Nothing was queued and the task this thread is running was cancelled with interrupt (I12).
    Interrupted,
}

impl Inbox {
    pub(crate) fn new() -> Arc<Inbox> {
        Arc::new(Inbox {
            state: Mutex::new(InboxState {
                ready: VecDeque::new(),
                waiting: false,
                parked: None,
            }),
            cv: Condvar::new(),
        })
    }

    /// N2, producer side.
    fn post(&self, idx: usize) {
        let mut g = sync::lock(&self.state);
        g.ready.push_back(idx);
        let wake = g.waiting;
        let parked = g.parked.take();
        drop(g);
        if wake {
            self.cv.notify_one();
        }
        if let Some(t) = parked {
            t.unpark();
        }
    }

    /// A notice if one is queued, without blocking.
    pub(crate) fn try_recv(&self) -> Option<usize> {
        sync::lock(&self.state).ready.pop_front()
    }

    /// N2 (and N4 inside a run), consumer side: the next notice; `TimedOut` once `deadline` has
    /// passed; `Interrupted` when this thread runs a task that was cancelled with interrupt.
    pub(crate) fn recv(&self, deadline: Option<Deadline>) -> Recv {
        // N4: inside a run the wait is interruptible: it parks (the canceller's unpark reaches a
        // parked thread, not a condition variable) and re-checks the interrupt after every wakeup.
        let interruptible = current::in_task();
        let mut g = sync::lock(&self.state);
        loop {
            if let Some(i) = g.ready.pop_front() {
                return Recv::Notice(i);
            }
            // N4: after every wakeup, before sleeping again.
            if interruptible && current::is_interrupted() {
                return Recv::Interrupted;
            }
            let left = match deadline {
                None => None,
                Some(d) => match d.remaining() {
                    Some(left) => Some(left),
                    None => return Recv::TimedOut,
                },
            };
            if interruptible {
                // N4: announced under the lock; the permit keeps an unpark sent before the park.
                g.parked = Some(sync::current());
                drop(g);
                match left {
                    None => sync::park(),
                    Some(left) => sync::park_timeout(left),
                }
                g = sync::lock(&self.state);
                g.parked = None;
            } else {
                g.waiting = true;
                g = match left {
                    None => sync::wait(&self.cv, g),
                    Some(left) => sync::wait_timeout(&self.cv, &self.state, g, left),
                };
                g.waiting = false;
            }
        }
    }
}

/// The waker of a watch: posts its index. Woken at most once (a watch is polled once).
struct Notice {
    inbox: Arc<Inbox>,
    idx: usize,
}

impl Wake for Notice {
    fn wake(self: Arc<Self>) {
        self.inbox.post(self.idx);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.inbox.post(self.idx);
    }
}

/// A registration on one task: its node stays linked until the task finishes (then its index
/// is posted) or the watch is dropped (then the node is unlinked, I6).
pub(crate) struct Watch<T> {
    _waiter: Pin<Box<WhenDone<T>>>,
}

/// N1: watch `task` for `inbox` under `idx`. If the task is already done the index is posted at
/// once and nothing stays registered (`None`).
pub(crate) fn watch<T>(inbox: &Arc<Inbox>, task: &TaskHandle<T>, idx: usize) -> Option<Watch<T>> {
    let notice = Arc::new(Notice {
        inbox: Arc::clone(inbox),
        idx,
    });
    let waker = Waker::from(notice);
    let mut waiter = Box::pin(task.clone().when_done());
    match waiter.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Pending => Some(Watch { _waiter: waiter }),
        Poll::Ready(_) => {
            inbox.post(idx);
            None
        }
    }
}
