//! P4/P5: cross-thread round trip with a fresh cell per message.
//!
//! A persistent partner thread (one per criterion sample, spawned and warmed up outside the
//! timed section) and the bench thread ping-pong: each round trip the bench thread makes two
//! fresh cells — the partner's next request and this request's response — sends both through
//! the current request cell, and blocks on the response. Every contender carries its own
//! handles, so each round trip costs two cell creations, two completions and two blocking reads
//! of the contender's primitive and nothing else.
//!
//! * P4 `roundtrip_pinned`: both threads pinned to one CPU with `sched_setaffinity` *inside*
//!   the process (the kernel saw two CPUs at start-up, so this is the case where a spin before
//!   parking can only waste time: the partner cannot run while we spin).
//! * P5 `roundtrip_unpinned`: no pinning (two CPUs, shared with whatever else runs). Its
//!   issue-18 target is about the worst run, not one run's median: `benches/run.sh` measures
//!   this group several times (`--p5-runs N`, `--p5-gap SECS` apart) and the ratio table
//!   compares the worst median of each contender over those runs.
//!
//! `futuretask`'s cells are held as users hold them: an `Arc<FutureTask<_, NoJob>>` owned by the
//! writer and a `TaskHandle` held by the reader.

// The group macro generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use common::{CondvarCell, OnceParkCell, Pin};
use criterion::{criterion_group, criterion_main, Criterion};
use futuretask::{FutureTask, NoJob, TaskHandle};
use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Untimed round trips before the clock starts (partner scheduled, caches warm).
const WARM: u64 = 64;

/// The shape shared by every contender: `pair`, `send`, blocking `recv` of a one-shot cell.
trait OneShot: 'static {
    type Tx<T: Send + 'static>: Send;
    type Rx<T: Send + 'static>: Send;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>);
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T);
    fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T;
}

struct Oneshot;
impl OneShot for Oneshot {
    type Tx<T: Send + 'static> = oneshot::Sender<T>;
    type Rx<T: Send + 'static> = oneshot::Receiver<T>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        oneshot::channel()
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        assert!(tx.send(v).is_ok());
    }
    fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        rx.recv().unwrap()
    }
}

struct TokioOneshot;
impl OneShot for TokioOneshot {
    type Tx<T: Send + 'static> = tokio::sync::oneshot::Sender<T>;
    type Rx<T: Send + 'static> = tokio::sync::oneshot::Receiver<T>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        tokio::sync::oneshot::channel()
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        assert!(tx.send(v).is_ok());
    }
    fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        rx.blocking_recv().unwrap()
    }
}

struct FuturesOneshot;
impl OneShot for FuturesOneshot {
    type Tx<T: Send + 'static> = futures::channel::oneshot::Sender<T>;
    type Rx<T: Send + 'static> = futures::channel::oneshot::Receiver<T>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        futures::channel::oneshot::channel()
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        assert!(tx.send(v).is_ok());
    }
    fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        futures::executor::block_on(rx).unwrap()
    }
}

struct StdSyncChannel;
impl OneShot for StdSyncChannel {
    type Tx<T: Send + 'static> = std::sync::mpsc::SyncSender<T>;
    type Rx<T: Send + 'static> = std::sync::mpsc::Receiver<T>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        std::sync::mpsc::sync_channel(1)
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        assert!(tx.send(v).is_ok());
    }
    fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        rx.recv().unwrap()
    }
}

struct CrossbeamBounded;
impl OneShot for CrossbeamBounded {
    type Tx<T: Send + 'static> = crossbeam_channel::Sender<T>;
    type Rx<T: Send + 'static> = crossbeam_channel::Receiver<T>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        crossbeam_channel::bounded(1)
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        assert!(tx.send(v).is_ok());
    }
    fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        rx.recv().unwrap()
    }
}

struct MutexCondvar;
impl OneShot for MutexCondvar {
    type Tx<T: Send + 'static> = Arc<CondvarCell<T>>;
    type Rx<T: Send + 'static> = Arc<CondvarCell<T>>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        let c = Arc::new(CondvarCell::default());
        (Arc::clone(&c), c)
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        tx.set(v);
    }
    fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        rx.take()
    }
}

/// `OnceParkCell` needs `T: Sync` to be shared; the messages here are moved out by the (then
/// unique) reader, so wrap them in a `Sync` box that is only ever opened by its owner.
struct Owned<T>(T);
// SAFETY: `Owned` is only read by `into_inner` after the cell is exclusively owned (Arc::into_inner)
// and never through a shared reference.
unsafe impl<T: Send> Sync for Owned<T> {}

struct OnceLockPark;
impl OneShot for OnceLockPark {
    type Tx<T: Send + 'static> = Arc<OnceParkCell<Owned<T>>>;
    type Rx<T: Send + 'static> = Arc<OnceParkCell<Owned<T>>>;
    fn pair<T: Send + 'static>() -> (Self::Tx<T>, Self::Rx<T>) {
        let c = Arc::new(OnceParkCell::default());
        (Arc::clone(&c), c)
    }
    fn send<T: Send + 'static>(tx: Self::Tx<T>, v: T) {
        tx.set(Owned(v));
    }
    fn recv<T: Send + 'static>(rx: Self::Rx<T>) -> T {
        rx.get();
        // The writer may still be inside `set` (unparking us); wait for its handle to go.
        let mut rx = rx;
        loop {
            match Arc::try_unwrap(rx) {
                Ok(cell) => return cell.into_inner().unwrap().0,
                Err(back) => {
                    rx = back;
                    thread::yield_now();
                }
            }
        }
    }
}

/// The request message of contender `C`: the partner's next request cell and this response.
struct Req<C: OneShot> {
    next: C::Rx<Req<C>>,
    resp: C::Tx<u64>,
}

/// `iters` timed round trips of contender `C`, both threads on `pin` if given.
fn roundtrip<C: OneShot>(iters: u64, pin: Option<usize>) -> Duration
where
    Req<C>: Send,
{
    let _pin = Pin::to(pin);
    let (mut tx, rx) = C::pair::<Req<C>>();
    let total = WARM + iters;
    let partner = thread::spawn(move || {
        let _pin = Pin::to(pin);
        let mut rx = rx;
        for i in 0..total {
            let Req { next, resp } = C::recv(rx);
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
        black_box(C::recv(resp_rx));
        tx = next_tx;
    }
    let elapsed = start.elapsed();
    drop(tx);
    partner.join().unwrap();
    elapsed
}

/// The kernel's round trip, with the handles users hold: each cell is an
/// `Arc<FutureTask<_, NoJob>>` owned by its writer and a `TaskHandle` held by its reader. A
/// request carries the partner's next request (its reader) and this response (its writer);
/// `get` lends the request, so the partner clones the one handle it keeps (`next`) and completes
/// the response through the lent writer.
fn roundtrip_futuretask(iters: u64, pin: Option<usize>) -> Duration {
    type Writer<T> = Arc<FutureTask<T, NoJob>>;
    struct FtReq {
        next: TaskHandle<FtReq>,
        resp: Writer<u64>,
    }
    let _pin = Pin::to(pin);
    let mut req: Writer<FtReq> = Arc::new(FutureTask::pending());
    let first = req.handle();
    let total = WARM + iters;
    let partner = thread::spawn(move || {
        let _pin = Pin::to(pin);
        let mut req = first;
        for i in 0..total {
            let r = req.get().ok().unwrap();
            r.resp.set(i).ok().unwrap();
            let next = r.next.clone();
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
        black_box(*resp_reader.get().ok().unwrap());
        req = next;
    }
    let elapsed = start.elapsed();
    partner.join().unwrap();
    elapsed
}

fn bench_roundtrips(c: &mut Criterion, group: &str, pin: Option<usize>) {
    let mut g = c.benchmark_group(group);
    if common::quick() {
        g.warm_up_time(Duration::from_millis(300));
    }
    g.bench_function("futuretask", |b| {
        b.iter_custom(|n| roundtrip_futuretask(n, pin))
    });
    g.bench_function("oneshot", |b| {
        b.iter_custom(|n| roundtrip::<Oneshot>(n, pin))
    });
    g.bench_function("tokio_oneshot", |b| {
        b.iter_custom(|n| roundtrip::<TokioOneshot>(n, pin))
    });
    g.bench_function("futures_oneshot", |b| {
        b.iter_custom(|n| roundtrip::<FuturesOneshot>(n, pin))
    });
    g.bench_function("std_sync_channel", |b| {
        b.iter_custom(|n| roundtrip::<StdSyncChannel>(n, pin))
    });
    g.bench_function("crossbeam_bounded", |b| {
        b.iter_custom(|n| roundtrip::<CrossbeamBounded>(n, pin))
    });
    g.bench_function("mutex_condvar", |b| {
        b.iter_custom(|n| roundtrip::<MutexCondvar>(n, pin))
    });
    g.bench_function("oncelock_park", |b| {
        b.iter_custom(|n| roundtrip::<OnceLockPark>(n, pin))
    });
    g.finish();
}

fn p4_roundtrip_pinned(c: &mut Criterion) {
    // One unpinned round trip first, so the kernel's one-time CPU-count probe sees the machine
    // as it is (two CPUs) before the threads get pinned — the case an application that pins its
    // own threads creates.
    roundtrip_futuretask(1, None);
    bench_roundtrips(c, "P4_roundtrip_pinned", Some(common::pin_cpu()));
}

fn p5_roundtrip_unpinned(c: &mut Criterion) {
    bench_roundtrips(c, "P5_roundtrip_unpinned", None);
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = p4_roundtrip_pinned, p5_roundtrip_unpinned
}
criterion_main!(benches);
