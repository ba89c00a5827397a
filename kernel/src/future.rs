//! `std::future::Future` support: an async waiter keeps its node inside the (pinned) future, on
//! the same waiter stack as blocked threads. Re-polling with a new waker replaces the stored one
//! (I8); dropping a pending future unlinks its node before the memory goes away (I6).

use crate::failure::Error;
use crate::handle::TaskHandle;
use crate::protocol as p;
use crate::sync::Ordering::{Acquire, Release};
use crate::task::{FutureTask, Job};
use crate::waiters::{Node, Payload, Push};
use std::future::{Future, IntoFuture};
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The node of one async waiter and whether it is linked.
struct AsyncWaiter<T> {
    node: Node<T>,
    linked: bool,
    _pin: PhantomPinned,
}

impl<T> AsyncWaiter<T> {
    fn new() -> Self {
        AsyncWaiter {
            node: Node::waiter(Payload::Empty),
            linked: false,
            _pin: PhantomPinned,
        }
    }

    /// Ready once the task is done; `s` is the state word the caller just loaded.
    ///
    /// # Safety
    /// `self` is pinned (it is not moved again while `linked`), and is always polled against the
    /// same task.
    unsafe fn poll_done<J: ?Sized + Job<T>>(
        &mut self,
        task: &FutureTask<T, J>,
        s: usize,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if p::is_done(s) {
            return Poll::Ready(());
        }
        if !self.linked {
            if !task.announce(s) {
                return Poll::Ready(());
            }
            // SAFETY: unpublished node: exclusively ours.
            let empty = unsafe { self.node.set_payload(Payload::Waker(cx.waker().clone())) };
            // A fresh node holds nothing: skip the payload's (out-of-line) drop glue (P7).
            debug_assert!(matches!(empty, Payload::Empty));
            std::mem::forget(empty);
            // SAFETY: pinned; `Drop` unlinks it before the memory is released (I6).
            return match unsafe { task.stack().push(&self.node) } {
                Push::Closed => Poll::Ready(()),
                Push::Linked => {
                    self.linked = true;
                    Poll::Pending
                }
            };
        }
        if self.node.is_done() {
            return Poll::Ready(());
        }
        // Re-poll: take the node back for a moment to compare / replace the waker (I8). Cloning
        // the new waker is foreign code and may panic: it runs while the node is WAITING, never
        // inside UPDATING, on which a completer would spin (I11).
        if !self.enter_updating() {
            // NOTIFYING or DONE: a completer is releasing the node, the task is done.
            return Poll::Ready(());
        }
        // SAFETY: UPDATING gives the owner exclusive access to the payload (I6).
        if unsafe { self.node.waker_will_wake(cx.waker()) } {
            // step U2: the same waker: nothing to replace.
            self.node.state.store(p::NODE_WAITING, Release);
            return Poll::Pending;
        }
        // step U3: clone the new waker (user code) while the node is WAITING, then take it back.
        self.node.state.store(p::NODE_WAITING, Release);
        let new = cx.waker().clone();
        if !self.enter_updating() {
            return Poll::Ready(()); // released meanwhile: `new` is dropped unused
        }
        // step U5: replace the waker, leave UPDATING, then drop the old one.
        // SAFETY: as above.
        let old = unsafe { self.node.set_payload(Payload::Waker(new)) };
        self.node.state.store(p::NODE_WAITING, Release);
        drop(old); // foreign code (the old waker's drop) runs outside the exclusive section
        Poll::Pending
    }

    /// The owner's WAITING → UPDATING; false if a completer is releasing the node.
    fn enter_updating(&self) -> bool {
        // step U1 U4
        self.node
            .state
            .compare_exchange(p::NODE_WAITING, p::NODE_UPDATING, Acquire, Acquire)
            .is_ok()
    }

    /// Unlink before the node's memory goes away.
    fn detach<J: ?Sized + Job<T>>(&mut self, task: &FutureTask<T, J>) {
        if self.linked && !self.node.is_done() {
            // SAFETY: our own linked node, still in place (pinned) (I6).
            unsafe { task.stack().abandon_and_wait(&self.node, false) };
        }
        #[cfg(loom)]
        if self.linked {
            self.node.owner_last_look();
        }
        self.linked = false;
    }
}

/// Future returned by [`FutureTask::get_async`] (and by `.await` on a `&FutureTask` or a
/// `&TaskHandle`): resolves to the task's outcome, the value by reference.
///
/// ```
/// use futures::{executor::block_on, FutureExt};
/// use futuretask::FutureTask;
/// use std::{sync::Arc, thread};
///
/// let task = Arc::new(FutureTask::new(|| 5));
/// assert!(task.get_async().now_or_never().is_none()); // pending
/// let runner = Arc::clone(&task);
/// let t = thread::spawn(move || runner.run());
/// assert_eq!(*block_on(task.get_async()).unwrap(), 5);
/// t.join().unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'a, T, J: ?Sized + Job<T> = dyn Job<T>> {
    task: &'a FutureTask<T, J>,
    waiter: AsyncWaiter<T>,
}

impl<'a, T, J: ?Sized + Job<T>> Future for Wait<'a, T, J> {
    type Output = Result<&'a T, Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: we never move out of the pinned future; the node stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let task = this.task;
        // A settled task is reported from the word just read, without touching the node.
        let s = task.state_word();
        if p::is_settled(s) {
            return Poll::Ready(task.report(s));
        }
        // SAFETY: pinned, always the same task.
        match unsafe { this.waiter.poll_done(task, s, cx) } {
            Poll::Ready(()) => Poll::Ready(task.report(task.state_word())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T, J: ?Sized + Job<T>> Drop for Wait<'_, T, J> {
    fn drop(&mut self) {
        let task = self.task;
        self.waiter.detach(task);
    }
}

/// Future returned by [`TaskHandle::when_done`]: owns the handle and resolves to it once the task
/// is done (so it can be `'static`, e.g. moved into `tokio::spawn`). `get` on the result never
/// blocks.
///
/// ```
/// use futures::executor::block_on;
/// use futuretask::promise;
/// use std::thread;
///
/// let (p, reader) = promise();
/// let done = reader.when_done(); // owns the handle: `'static`, can be moved anywhere
/// let t = thread::spawn(move || p.set("value").unwrap());
/// let reader = block_on(done);
/// assert_eq!(*reader.try_get().unwrap().unwrap(), "value"); // done: never blocks
/// t.join().unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct WhenDone<T> {
    handle: Option<TaskHandle<T>>,
    waiter: AsyncWaiter<T>,
}

impl<T> WhenDone<T> {
    pub(crate) fn new(handle: TaskHandle<T>) -> Self {
        WhenDone {
            handle: Some(handle),
            waiter: AsyncWaiter::new(),
        }
    }
}

impl<T> Future for WhenDone<T> {
    type Output = TaskHandle<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: we never move out of the pinned future; the node stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let handle = this
            .handle
            .as_ref()
            .expect("`WhenDone` polled after completion");
        let task = handle.erased();
        // SAFETY: pinned, always the same task.
        match unsafe { this.waiter.poll_done(task, task.state_word(), cx) } {
            Poll::Ready(()) => {
                this.waiter.detach(task);
                Poll::Ready(this.handle.take().expect("checked above"))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for WhenDone<T> {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.waiter.detach(handle.erased());
        }
    }
}

impl<T, J: ?Sized + Job<T>> FutureTask<T, J> {
    /// Wait asynchronously (the async twin of [`get`](FutureTask::get); also `(&task).await`):
    /// a future that resolves to the outcome. Wakers live on the same waiter stack as blocked
    /// threads; re-polling with a new waker replaces the old one; dropping the future unlinks it.
    ///
    /// ```
    /// use futures::{executor::block_on, FutureExt};
    /// use futuretask::{Error, FutureTask};
    ///
    /// let task = FutureTask::<u8, _>::pending();
    /// assert!(task.get_async().now_or_never().is_none()); // polled once, then dropped
    /// assert_eq!(task.waiter_stack_len(), 0); // the dropped future unlinked its waker
    /// task.cancel();
    /// assert!(matches!(block_on(task.get_async()), Err(Error::Cancelled)));
    /// ```
    pub fn get_async(&self) -> Wait<'_, T, J> {
        Wait {
            task: self,
            waiter: AsyncWaiter::new(),
        }
    }
}

impl<'a, T, J: ?Sized + Job<T>> IntoFuture for &'a FutureTask<T, J> {
    type Output = Result<&'a T, Error>;
    type IntoFuture = Wait<'a, T, J>;

    /// `(&task).await`: the same future as [`FutureTask::get_async`].
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futuretask::FutureTask;
    ///
    /// let task = FutureTask::new(|| 2);
    /// task.run();
    /// assert_eq!(block_on(async { *(&task).await.unwrap() }), 2);
    /// ```
    fn into_future(self) -> Wait<'a, T, J> {
        self.get_async()
    }
}
