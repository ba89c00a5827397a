//! P1–P3: one thread, no waiting.
//!
//! * P1 `create_complete_get`: make a fresh cell, complete it, read the value. `futuretask` is
//!   the local form (one owner, no handle, nothing allocated: the P1 target); the
//!   `futuretask_shared*` and `futuretask_promise` rows are the shared form with two handles to
//!   one task as users hold them, both dropped inside the iteration (the P1-shared target, the
//!   best of them against `oneshot`, which also hands one value from a writer to a reader).
//! * P2 `get_done`: read the value of a finished cell again and again.
//! * P3 `timed_get_done`: the same with a timed read (1 s timeout): must cost what P2 costs (no
//!   clock read when the task is already done).

// The group macro generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use futuretask::{promise, FutureTask, NoJob, TaskHandle};
use std::hint::black_box;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

fn p1_create_complete_get(c: &mut Criterion) {
    let mut g = c.benchmark_group("P1_create_complete_get");
    // One thread owns the task, so it needs no handle: `get` borrows (no allocation at all).
    g.bench_function("futuretask", |b| {
        b.iter(|| {
            let x = black_box(7u64);
            let t = FutureTask::new(move || x + 1);
            t.run();
            *t.get().unwrap()
        })
    });
    // P1-shared: the forms every cross-thread user holds, two handles to one task (one
    // allocation), both dropped inside the iteration. The owner of an `Arc<FutureTask>` runs it
    // (or `set`s a pending one) and lets its `Arc` go; the reader (`TaskHandle`) reads and goes.
    g.bench_function("futuretask_shared", |b| {
        b.iter(|| {
            let x = black_box(7u64);
            let task = Arc::new(FutureTask::new(move || x + 1));
            let reader: TaskHandle<u64> = task.handle();
            task.run();
            drop(task);
            let v = *reader.get().unwrap();
            drop(reader);
            v
        })
    });
    g.bench_function("futuretask_shared_pending", |b| {
        b.iter(|| {
            let task = Arc::new(FutureTask::<u64, NoJob>::pending());
            let reader: TaskHandle<u64> = task.handle();
            task.set(black_box(8)).unwrap();
            drop(task);
            let v = *reader.get().unwrap();
            drop(reader);
            v
        })
    });
    // `Promise::set` consumes (and drops) the writer.
    g.bench_function("futuretask_promise", |b| {
        b.iter(|| {
            let (p, reader) = promise::<u64>();
            p.set(black_box(8)).unwrap();
            let v = *reader.get().unwrap();
            drop(reader);
            v
        })
    });
    g.bench_function("oneshot", |b| {
        b.iter(|| {
            let (tx, rx) = oneshot::channel::<u64>();
            tx.send(black_box(8)).unwrap();
            rx.recv().unwrap()
        })
    });
    g.bench_function("tokio_oneshot", |b| {
        b.iter(|| {
            let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
            tx.send(black_box(8)).unwrap();
            rx.blocking_recv().unwrap()
        })
    });
    g.bench_function("futures_oneshot", |b| {
        b.iter(|| {
            let (tx, rx) = futures::channel::oneshot::channel::<u64>();
            tx.send(black_box(8)).unwrap();
            futures::executor::block_on(rx).unwrap()
        })
    });
    g.bench_function("std_sync_channel", |b| {
        b.iter(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<u64>(1);
            tx.send(black_box(8)).unwrap();
            rx.recv().unwrap()
        })
    });
    g.bench_function("crossbeam_bounded", |b| {
        b.iter(|| {
            let (tx, rx) = crossbeam_channel::bounded::<u64>(1);
            tx.send(black_box(8)).unwrap();
            rx.recv().unwrap()
        })
    });
    g.bench_function("mutex_condvar", |b| {
        b.iter(|| {
            let cell = Arc::new(common::CondvarCell::<u64>::default());
            let writer = Arc::clone(&cell);
            writer.set(black_box(8));
            drop(writer);
            cell.take()
        })
    });
    g.bench_function("oncelock_park", |b| {
        b.iter(|| {
            let cell = Arc::new(common::OnceParkCell::<u64>::default());
            let writer = Arc::clone(&cell);
            writer.set(black_box(8));
            drop(writer);
            *cell.get()
        })
    });
    g.finish();
}

fn p2_get_done(c: &mut Criterion) {
    let mut g = c.benchmark_group("P2_get_done");
    // `black_box(&x)` makes every contender reload through a thin reference each iteration.
    let task = FutureTask::new(|| 42u64);
    task.run();
    g.bench_function("futuretask", |b| {
        b.iter(|| *black_box(&task).get().unwrap())
    });
    // Through the type-erased `Arc<FutureTask<u64>>` (what a `TaskHandle` holds): the
    // reference is a fat pointer, so `black_box` stores and reloads two words per iteration.
    let erased: Arc<FutureTask<u64>> = Arc::new(FutureTask::new(|| 42u64));
    erased.run();
    g.bench_function("futuretask_dyn", |b| {
        b.iter(|| *black_box(&*erased).get().unwrap())
    });
    let once = OnceLock::new();
    once.set(42u64).unwrap();
    g.bench_function("oncelock", |b| b.iter(|| *black_box(&once).get().unwrap()));
    let cell = tokio::sync::OnceCell::new();
    cell.set(42u64).unwrap();
    g.bench_function("tokio_oncecell", |b| {
        b.iter(|| *black_box(&cell).get().unwrap())
    });
    let m = Mutex::new(Some(42u64));
    g.bench_function("mutex", |b| {
        b.iter(|| black_box(&m).lock().unwrap().unwrap())
    });
    g.finish();
}

fn p3_timed_get_done(c: &mut Criterion) {
    let mut g = c.benchmark_group("P3_timed_get_done");
    let task = FutureTask::new(|| 42u64);
    task.run();
    // An opaque timeout, chosen once (as a caller's configuration would be).
    let d = black_box(Duration::from_secs(1));
    g.bench_function("futuretask", |b| {
        b.iter(|| *black_box(&task).get_timeout(d).unwrap())
    });
    g.bench_function("futuretask_untimed", |b| {
        b.iter(|| *black_box(&task).get().unwrap())
    });
    let once = OnceLock::new();
    once.set(42u64).unwrap();
    g.bench_function("oncelock", |b| b.iter(|| *black_box(&once).get().unwrap()));
    let cell = common::CondvarCell::default();
    cell.set(42u64);
    g.bench_function("mutex_condvar", |b| {
        b.iter(|| black_box(&cell).read_timeout(d, |v| *v).unwrap())
    });
    // A peer's timed receive consumes the message, so it needs a fresh channel per read: the
    // channel is made outside the measurement but freed inside it — an upper bound, not a
    // like-for-like.
    g.bench_function("oneshot_fresh", |b| {
        b.iter_batched(
            || {
                let (tx, rx) = oneshot::channel::<u64>();
                tx.send(42).unwrap();
                rx
            },
            |rx| rx.recv_timeout(d).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = p1_create_complete_get, p2_get_done, p3_timed_get_done
}
criterion_main!(benches);
