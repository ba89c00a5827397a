//! P8 `pool_100k`: submit 100,000 tiny tasks to a pool with as many workers as CPUs, then collect
//! every result in submission order. One criterion iteration is the whole batch; the pools are
//! built once per contender, outside the measurement.

// The group macro generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futuretask::FutureTask;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

const TASKS: u64 = 100_000;

/// The tiny task: a multiply-add the optimiser cannot see through.
#[inline]
fn work(i: u64) -> u64 {
    black_box(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7
}

fn expected() -> u64 {
    (0..TASKS).map(work).fold(0, u64::wrapping_add)
}

fn workers() -> usize {
    thread::available_parallelism().map_or(2, |n| n.get())
}

/// The pool people write by hand: workers pull boxed jobs from a crossbeam channel.
struct CrossbeamPool<J: Send + 'static> {
    tx: Option<crossbeam_channel::Sender<J>>,
    threads: Vec<JoinHandle<()>>,
}

impl<J: Send + 'static> CrossbeamPool<J> {
    fn new(run: fn(J)) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded::<J>();
        let threads = (0..workers())
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    while let Ok(job) = rx.recv() {
                        run(job);
                    }
                })
            })
            .collect();
        CrossbeamPool {
            tx: Some(tx),
            threads,
        }
    }

    fn send(&self, job: J) {
        self.tx.as_ref().unwrap().send(job).unwrap();
    }
}

impl<J: Send + 'static> Drop for CrossbeamPool<J> {
    fn drop(&mut self) {
        self.tx = None;
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
    }
}

type BoxedJob = Box<dyn FnOnce() + Send>;

fn run_boxed(job: BoxedJob) {
    job()
}

/// A `FutureTask` is its own job: the channel carries `Arc<FutureTask<u64>>` and the worker
/// calls `run`, so a task is one allocation.
fn run_task(task: Arc<FutureTask<u64>>) {
    task.run();
}

fn p8_pool(c: &mut Criterion) {
    let want = expected();
    let mut g = c.benchmark_group("P8_pool_100k");
    g.throughput(Throughput::Elements(TASKS));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(if common::quick() { 2 } else { 5 }));

    {
        let pool = futuretask_executor::ThreadPool::new(workers()).unwrap();
        g.bench_function("futuretask_executor", |b| {
            b.iter(|| {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| pool.submit(move || work(i)).ok().unwrap())
                    .collect();
                let sum = handles
                    .iter()
                    .map(|h| *h.get().unwrap())
                    .fold(0, u64::wrapping_add);
                assert_eq!(sum, want);
            })
        });
    }
    {
        let pool = CrossbeamPool::<Arc<FutureTask<u64>>>::new(run_task);
        g.bench_function("futuretask_on_crossbeam_pool", |b| {
            b.iter(|| {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|i| {
                        let t: Arc<FutureTask<u64>> = Arc::new(FutureTask::new(move || work(i)));
                        pool.send(Arc::clone(&t));
                        t
                    })
                    .collect();
                let sum = tasks
                    .iter()
                    .map(|t| *t.get().unwrap())
                    .fold(0, u64::wrapping_add);
                assert_eq!(sum, want);
            })
        });
    }
    {
        let pool = CrossbeamPool::<BoxedJob>::new(run_boxed);
        g.bench_function("crossbeam_pool_oneshot", |b| {
            b.iter(|| {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| {
                        let (tx, rx) = oneshot::channel();
                        pool.send(Box::new(move || {
                            let _ = tx.send(work(i));
                        }));
                        rx
                    })
                    .collect();
                let sum = handles
                    .into_iter()
                    .map(|rx| rx.recv().unwrap())
                    .fold(0, u64::wrapping_add);
                assert_eq!(sum, want);
            })
        });
    }
    {
        let pool = threadpool::ThreadPool::new(workers());
        g.bench_function("threadpool_oneshot", |b| {
            b.iter(|| {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| {
                        let (tx, rx) = oneshot::channel();
                        pool.execute(move || {
                            let _ = tx.send(work(i));
                        });
                        rx
                    })
                    .collect();
                let sum = handles
                    .into_iter()
                    .map(|rx| rx.recv().unwrap())
                    .fold(0, u64::wrapping_add);
                assert_eq!(sum, want);
            })
        });
    }
    {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers())
            .build()
            .unwrap();
        let slots: Vec<AtomicU64> = (0..TASKS).map(|_| AtomicU64::new(0)).collect();
        g.bench_function("rayon_scope", |b| {
            b.iter(|| {
                pool.scope(|s| {
                    for (i, slot) in slots.iter().enumerate() {
                        s.spawn(move |_| slot.store(work(i as u64), Relaxed));
                    }
                });
                let sum = slots
                    .iter()
                    .map(|s| s.load(Relaxed))
                    .fold(0, u64::wrapping_add);
                assert_eq!(sum, want);
            })
        });
    }
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(workers())
            .build()
            .unwrap();
        g.bench_function("tokio_spawn_blocking", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let handles: Vec<_> = (0..TASKS)
                        .map(|i| tokio::task::spawn_blocking(move || work(i)))
                        .collect();
                    let mut sum = 0u64;
                    for h in handles {
                        sum = sum.wrapping_add(h.await.unwrap());
                    }
                    assert_eq!(sum, want);
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = p8_pool
}
criterion_main!(benches);
