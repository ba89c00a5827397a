//! The completion inbox: how [`as_completed`](super::as_completed), [`wait`](super::wait),
//! [`ThreadPool::invoke_any`](super::ThreadPool::invoke_any) and
//! [`CompletionService`](super::CompletionService) learn that a task finished, without polling
//! and without leaving anything behind when they give up.
//!
//! A [`Watch`] is one async waiter node on the watched task's own waiter stack (a pinned, boxed
//! [`Done`] future polled once with a [`Notice`] waker). Completion or cancellation releases the
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

use crate::sync::{self, Condvar, Deadline, Mutex};
use crate::task::{FutureTask, Job};
use crate::Done;
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
}

impl Inbox {
    pub(crate) fn new() -> Arc<Inbox> {
        Arc::new(Inbox {
            state: Mutex::new(InboxState {
                ready: VecDeque::new(),
                waiting: false,
            }),
            cv: Condvar::new(),
        })
    }

    /// N2, producer side.
    fn post(&self, idx: usize) {
        let mut g = sync::lock(&self.state);
        g.ready.push_back(idx);
        let wake = g.waiting;
        drop(g);
        if wake {
            self.cv.notify_one();
        }
    }

    /// A notice if one is queued, without blocking.
    pub(crate) fn try_recv(&self) -> Option<usize> {
        sync::lock(&self.state).ready.pop_front()
    }

    /// N2, consumer side: the next notice, or `None` once `deadline` has passed.
    pub(crate) fn recv(&self, deadline: Option<Deadline>) -> Option<usize> {
        let mut g = sync::lock(&self.state);
        loop {
            if let Some(i) = g.ready.pop_front() {
                return Some(i);
            }
            g.waiting = true;
            g = match deadline {
                None => sync::wait(&self.cv, g),
                Some(d) => match d.remaining() {
                    Some(left) => sync::wait_timeout(&self.cv, &self.state, g, left),
                    None => {
                        g.waiting = false;
                        return None;
                    }
                },
            };
            g.waiting = false;
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
pub(crate) struct Watch<T, J: ?Sized + Job<T>> {
    _waiter: Pin<Box<Done<T, J>>>,
}

/// N1: watch `task` for `inbox` under `idx`. If the task is already done the index is posted at
/// once and nothing stays registered (`None`).
pub(crate) fn watch<T, J: ?Sized + Job<T>>(
    inbox: &Arc<Inbox>,
    task: &Arc<FutureTask<T, J>>,
    idx: usize,
) -> Option<Watch<T, J>> {
    let notice = Arc::new(Notice {
        inbox: Arc::clone(inbox),
        idx,
    });
    let waker = Waker::from(notice);
    let mut waiter = Box::pin(Arc::clone(task).done());
    match waiter.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Pending => Some(Watch { _waiter: waiter }),
        Poll::Ready(_) => {
            inbox.post(idx);
            None
        }
    }
}
