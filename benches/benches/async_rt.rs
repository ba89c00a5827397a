//! P7, async, on one current-thread tokio runtime:
//!
//! * `async_roundtrip`: the P4/P5 ping-pong between two tasks of the runtime: the bench future
//!   (in `block_on`) and a spawned partner task. Each round trip makes two fresh cells (the
//!   partner's next request and this response), completes both and awaits both — so it measures
//!   cell creation, completion, waker registration and wake-up, with no thread ever parking.
//!   `futuretask` holds each cell as users do: the writer's `Arc<FutureTask<_, NoJob>>` and the
//!   reader's `TaskHandle`, awaited with `(&handle).await`; `futuretask_promise` makes each cell a
//!   promise and its reader, and the partner takes the request by value. `futuretask_no_refcount`
//!   is a diagnostic floor (see its function), not a contender.
//! * `create_set_await`: one task made, completed and awaited, over and over, inside one
//!   `block_on` (the await is ready at its first poll): the promise and its reader
//!   (`futuretask_promise`), an `Arc`'d pending task and a `TaskHandle` (`futuretask_shared`),
//!   both dropped each time; `futuretask_local` (one owner awaiting its own task, nothing
//!   allocated) for reference; the peers' `send` + `.await` of the receiver.

// The group macro generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use futuretask::{promise, FutureTask, NoJob, Outcome, Promise, TaskHandle};
use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::{Builder, Runtime};

const WARM: u64 = 64;

/// An async one-shot cell: `pair`, `send`, awaitable `recv`.
trait AsyncOneShot: 'static {
    type Tx<T: Send + 'static>: Send;
    type Rx<T: Send + 'static>: Send;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>);
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T);
    fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> impl Future<Output = T> + Send;
}

struct Oneshot;
impl AsyncOneShot for Oneshot {
    type Tx<T: Send + 'static> = oneshot::Sender<T>;
    type Rx<T: Send + 'static> = oneshot::Receiver<T>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        oneshot::channel()
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        assert!(tx.send(v).is_ok());
    }
    async fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        rx.await.unwrap()
    }
}

struct TokioOneshot;
impl AsyncOneShot for TokioOneshot {
    type Tx<T: Send + 'static> = tokio::sync::oneshot::Sender<T>;
    type Rx<T: Send + 'static> = tokio::sync::oneshot::Receiver<T>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        tokio::sync::oneshot::channel()
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        assert!(tx.send(v).is_ok());
    }
    async fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        rx.await.unwrap()
    }
}

struct FuturesOneshot;
impl AsyncOneShot for FuturesOneshot {
    type Tx<T: Send + 'static> = futures::channel::oneshot::Sender<T>;
    type Rx<T: Send + 'static> = futures::channel::oneshot::Receiver<T>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        futures::channel::oneshot::channel()
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        assert!(tx.send(v).is_ok());
    }
    async fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        rx.await.unwrap()
    }
}

struct Req<C: AsyncOneShot> {
    next: C::Rx<Req<C>>,
    resp: C::Tx<u64>,
}

async fn roundtrip<C: AsyncOneShot>(iters: u64) -> Duration
where
    Req<C>: Send,
{
    let (mut tx, rx) = C::pair::<Req<C>>();
    let total = WARM + iters;
    let partner = tokio::spawn(async move {
        let mut rx = rx;
        for i in 0..total {
            let Req { next, resp } = C::recv(rx).await;
            C::send(resp, i);
            rx = next;
        }
    });
    let mut start = Instant::now();
    for i in 0..total {
        if i == WARM {
            start = Instant::now();
        }
        let (next_tx, next_rx) = C::pair::<Req<C>>();
        let (resp_tx, resp_rx) = C::pair::<u64>();
        C::send(
            tx,
            Req {
                next: next_rx,
                resp: resp_tx,
            },
        );
        black_box(C::recv(resp_rx).await);
        tx = next_tx;
    }
    let elapsed = start.elapsed();
    partner.await.unwrap();
    elapsed
}

/// The kernel, with the handles users hold: each cell is an `Arc<FutureTask<_, NoJob>>` owned
/// by its writer and a `TaskHandle` awaited by its reader (`(&handle).await`). The partner is
/// lent the request, so it clones the one handle it keeps (`next`) and completes the response
/// through the lent writer.
async fn roundtrip_futuretask(iters: u64) -> Duration {
    type Writer<T> = Arc<FutureTask<T, NoJob>>;
    struct FtReq {
        next: TaskHandle<FtReq>,
        resp: Writer<u64>,
    }
    let mut req: Writer<FtReq> = Arc::new(FutureTask::pending());
    let first = req.handle();
    let total = WARM + iters;
    let partner = tokio::spawn(async move {
        let mut req = first;
        for i in 0..total {
            let next = {
                let r = (&req).await.ok().unwrap();
                r.resp.set(i).ok().unwrap();
                r.next.clone()
            };
            req = next;
        }
    });
    let mut start = Instant::now();
    for i in 0..total {
        if i == WARM {
            start = Instant::now();
        }
        let next: Writer<FtReq> = Arc::new(FutureTask::pending());
        let resp: Writer<u64> = Arc::new(FutureTask::pending());
        let resp_reader = resp.handle();
        req.set(FtReq {
            next: next.handle(),
            resp,
        })
        .ok()
        .unwrap();
        black_box(*(&resp_reader).await.ok().unwrap());
        req = next;
    }
    let elapsed = start.elapsed();
    partner.await.unwrap();
    elapsed
}

/// The kernel in the promise form, as a request/response protocol is written with promises:
/// each cell is a `Promise` (the writer's side, moved into the request or kept for the next
/// one) and its reader. The partner awaits the request and takes it by value
/// (`try_into_outcome`: the reader that the promise's drain woke is the last one to read it),
/// so it owns the response's promise and completes it.
async fn roundtrip_futuretask_promise(iters: u64) -> Duration {
    struct FtReq {
        next: TaskHandle<FtReq>,
        resp: Promise<u64>,
    }
    let (mut req, first) = promise::<FtReq>();
    let total = WARM + iters;
    let partner = tokio::spawn(async move {
        let mut reader = first;
        for i in 0..total {
            (&reader).await.ok().unwrap();
            let Ok(Outcome::Success(FtReq { next, resp })) = reader.try_into_outcome() else {
                unreachable!("nobody else reads the request")
            };
            resp.set(i).ok().unwrap();
            reader = next;
        }
    });
    let mut start = Instant::now();
    for i in 0..total {
        if i == WARM {
            start = Instant::now();
        }
        let (next, next_reader) = promise::<FtReq>();
        let (resp, resp_reader) = promise::<u64>();
        req.set(FtReq {
            next: next_reader,
            resp,
        })
        .ok()
        .unwrap();
        black_box(*(&resp_reader).await.ok().unwrap());
        req = next;
    }
    let elapsed = start.elapsed();
    partner.await.unwrap();
    elapsed
}

/// Diagnostic floor, not a contender: the kernel's protocol with the cells' lifetimes managed by
/// hand instead of by `Arc`, so no reference count is touched. It measures what the best owned
/// (non-shared) handle API could reach on this protocol: the gap between `futuretask` and this row
/// is the reference counting, the gap between this row and `oneshot` is the protocol itself.
///
/// Sound only here: on a current-thread runtime a completer's `set` returns before the task it
/// woke runs again, so each cell is freed by the side that touches it last in program order.
async fn roundtrip_futuretask_no_refcount(iters: u64) -> Duration {
    /// A cell freed by hand.
    struct Ptr<T>(*mut FutureTask<T, NoJob>);
    impl<T> Clone for Ptr<T> {
        fn clone(&self) -> Self {
            *self
        }
    }
    impl<T> Copy for Ptr<T> {}
    // SAFETY: the pointers only travel between the two tasks of one current-thread runtime.
    unsafe impl<T> Send for Ptr<T> {}
    // SAFETY: as above.
    unsafe impl<T> Sync for Ptr<T> {}
    impl<T> Ptr<T> {
        fn new() -> Self {
            Ptr(Box::into_raw(Box::new(FutureTask::pending())))
        }
        /// # Safety
        /// The cell has not been freed yet.
        unsafe fn cell<'a>(self) -> &'a FutureTask<T, NoJob> {
            // SAFETY: per the contract.
            unsafe { &*self.0 }
        }
        /// # Safety
        /// Nobody touches the cell again.
        unsafe fn free(self) {
            // SAFETY: per the contract; allocated by `new`.
            drop(unsafe { Box::from_raw(self.0) })
        }
    }
    struct FtReq {
        next: Ptr<FtReq>,
        resp: Ptr<u64>,
    }
    let first = Ptr::<FtReq>::new();
    let mut req = first;
    let total = WARM + iters;
    let partner = tokio::spawn(async move {
        let mut req = first;
        for i in 0..total {
            // SAFETY: `req` is freed only below, by us.
            let (next, resp) = {
                let r = unsafe { req.cell() }.get_async().await.ok().unwrap();
                (r.next, r.resp)
            };
            // SAFETY: the main task's `set` of `req` returned before we ran (current-thread
            // runtime) and nobody else holds it.
            unsafe { req.free() };
            // SAFETY: the main task frees `resp` only after this `set` has returned.
            unsafe { resp.cell() }.set(i).ok().unwrap();
            req = next;
        }
    });
    let mut start = Instant::now();
    for i in 0..total {
        if i == WARM {
            start = Instant::now();
        }
        let next = Ptr::<FtReq>::new();
        let resp = Ptr::<u64>::new();
        // SAFETY: the partner frees `req` only after this `set` has returned.
        unsafe { req.cell() }
            .set(FtReq { next, resp })
            .ok()
            .unwrap();
        // SAFETY: alive until the `free` below.
        black_box(*unsafe { resp.cell() }.get_async().await.ok().unwrap());
        // SAFETY: the partner's `set` returned before we ran again; nobody touches `resp` now.
        unsafe { resp.free() };
        req = next;
    }
    let elapsed = start.elapsed();
    partner.await.unwrap();
    // SAFETY: the partner is gone; the last request cell was never sent.
    unsafe { req.free() };
    elapsed
}

/// `iters` times, one task made, completed and awaited by the future `block_on` runs (the
/// await finds the value at its first poll): `once` is one such create + set + await.
async fn create_set_await<F: Future<Output = u64>>(
    iters: u64,
    once: impl Fn(u64) -> F,
) -> Duration {
    for i in 0..WARM {
        black_box(once(i).await);
    }
    let start = Instant::now();
    for i in 0..iters {
        black_box(once(i).await);
    }
    start.elapsed()
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn p7_async_roundtrip(c: &mut Criterion) {
    let mut g = c.benchmark_group("P7_async_roundtrip");
    let rt = current_thread();
    g.bench_function("futuretask", |b| {
        b.iter_custom(|n| rt.block_on(roundtrip_futuretask(n)))
    });
    g.bench_function("futuretask_promise", |b| {
        b.iter_custom(|n| rt.block_on(roundtrip_futuretask_promise(n)))
    });
    g.bench_function("futuretask_no_refcount", |b| {
        b.iter_custom(|n| rt.block_on(roundtrip_futuretask_no_refcount(n)))
    });
    g.bench_function("oneshot", |b| {
        b.iter_custom(|n| rt.block_on(roundtrip::<Oneshot>(n)))
    });
    g.bench_function("tokio_oneshot", |b| {
        b.iter_custom(|n| rt.block_on(roundtrip::<TokioOneshot>(n)))
    });
    g.bench_function("futures_oneshot", |b| {
        b.iter_custom(|n| rt.block_on(roundtrip::<FuturesOneshot>(n)))
    });
    g.finish();
}

fn p7_create_set_await(c: &mut Criterion) {
    let mut g = c.benchmark_group("P7_create_set_await");
    let rt = current_thread();
    // The shared forms (the P7 target): a promise and its reader; an `Arc`'d pending task's
    // owner and a `TaskHandle`. Both handles are dropped inside the iteration.
    g.bench_function("futuretask_promise", |b| {
        b.iter_custom(|n| {
            rt.block_on(create_set_await(n, |i| async move {
                let (p, reader) = promise::<u64>();
                p.set(black_box(i)).unwrap();
                let v = *(&reader).await.unwrap();
                v
            }))
        })
    });
    g.bench_function("futuretask_shared", |b| {
        b.iter_custom(|n| {
            rt.block_on(create_set_await(n, |i| async move {
                let task = Arc::new(FutureTask::<u64, NoJob>::pending());
                let reader: TaskHandle<u64> = task.handle();
                task.set(black_box(i)).unwrap();
                drop(task);
                let v = *(&reader).await.unwrap();
                v
            }))
        })
    });
    // The local form, for reference: one owner awaits its own task (nothing allocated).
    g.bench_function("futuretask_local", |b| {
        b.iter_custom(|n| {
            rt.block_on(create_set_await(n, |i| async move {
                let task = FutureTask::<u64, NoJob>::pending();
                task.set(black_box(i)).unwrap();
                let v = *(&task).await.unwrap();
                v
            }))
        })
    });
    g.bench_function("oneshot", |b| {
        b.iter_custom(|n| {
            rt.block_on(create_set_await(n, |i| async move {
                let (tx, rx) = oneshot::channel::<u64>();
                tx.send(black_box(i)).unwrap();
                rx.await.unwrap()
            }))
        })
    });
    g.bench_function("tokio_oneshot", |b| {
        b.iter_custom(|n| {
            rt.block_on(create_set_await(n, |i| async move {
                let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
                tx.send(black_box(i)).unwrap();
                rx.await.unwrap()
            }))
        })
    });
    g.bench_function("futures_oneshot", |b| {
        b.iter_custom(|n| {
            rt.block_on(create_set_await(n, |i| async move {
                let (tx, rx) = futures::channel::oneshot::channel::<u64>();
                tx.send(black_box(i)).unwrap();
                rx.await.unwrap()
            }))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = p7_async_roundtrip, p7_create_set_await
}
criterion_main!(benches);
