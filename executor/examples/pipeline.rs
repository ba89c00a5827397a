//! Spring Batch's multi-threaded step (seed 000): `AsyncItemProcessor` runs each item's
//! processing as a `FutureTask` on an executor; `AsyncItemWriter` unwraps the futures of a chunk
//! *in input order* and writes the chunk. Here: read 1,000 orders, process them concurrently
//! (each takes 2 ms of simulated I/O), write each chunk of 100 in input order. One item fails
//! (its processor panics) and is skipped, the way a skip policy would, without stopping the step.
//!
//! `cargo run --release --example pipeline` (add `--fast`, or set `FT_EXAMPLE_FAST=1`, to scale
//! the sleeps down 10×).

use futuretask::TaskHandle;
use futuretask_executor::ThreadPool;
use std::thread;
use std::time::{Duration, Instant};

const ITEMS: u32 = 1000;
const CHUNK: usize = 100;
const POISON: u32 = 537;

fn fast() -> bool {
    std::env::args().any(|a| a == "--fast")
        || std::env::var("FT_EXAMPLE_FAST").is_ok_and(|v| v == "1")
}

#[derive(Debug, Clone, PartialEq)]
struct Order {
    id: u32,
    cents: u64,
}

/// ItemReader: a plain iterator.
fn reader() -> impl Iterator<Item = Order> {
    (0..ITEMS).map(|id| Order {
        id,
        cents: u64::from(id) * 37 % 10_000,
    })
}

/// ItemProcessor: simulated I/O (2 ms, 0.2 ms in fast mode) and a transformation.
fn process(o: Order) -> (u32, u64) {
    thread::sleep(Duration::from_micros(if fast() { 200 } else { 2000 }));
    if o.id == POISON {
        panic!("cannot price order {}", o.id);
    }
    (o.id, o.cents * 108 / 100)
}

/// ItemWriter: receives each chunk in input order.
#[derive(Default)]
struct Writer {
    written: Vec<(u32, u64)>,
    chunks: usize,
    skipped: Vec<u32>,
}

impl Writer {
    fn write(&mut self, chunk: Vec<(u32, u64)>) {
        assert!(
            chunk.windows(2).all(|w| w[0].0 < w[1].0),
            "chunk out of order"
        );
        self.written.extend(chunk);
        self.chunks += 1;
    }
}

fn sequential() -> Writer {
    let mut w = Writer::default();
    let items: Vec<Order> = reader().collect();
    for chunk in items.chunks(CHUNK) {
        let mut out = Vec::with_capacity(CHUNK);
        for o in chunk {
            let id = o.id;
            match std::panic::catch_unwind(|| process(o.clone())) {
                Ok(v) => out.push(v),
                Err(_) => w.skipped.push(id),
            }
        }
        w.write(out);
    }
    w
}

/// AsyncItemProcessor + AsyncItemWriter: each item becomes a task; the writer unwraps the chunk's
/// handles in order. The next chunk is submitted before the current one is written, so reading,
/// processing and writing overlap.
fn concurrent(pool: &ThreadPool) -> Writer {
    let mut w = Writer::default();
    let mut items = reader().peekable();
    let submit_chunk =
        |items: &mut dyn Iterator<Item = Order>| -> Vec<(u32, TaskHandle<(u32, u64)>)> {
            items
                .take(CHUNK)
                .map(|o| (o.id, pool.submit(move || process(o)).unwrap()))
                .collect()
        };
    let mut current = submit_chunk(&mut items);
    while !current.is_empty() {
        let next = submit_chunk(&mut items);
        let mut out = Vec::with_capacity(CHUNK);
        for (id, h) in current {
            match h.get() {
                Ok(v) => out.push(*v),
                Err(_) => w.skipped.push(id),
            }
        }
        w.write(out);
        current = next;
    }
    w
}

fn main() {
    // The poison item's panic is expected: keep the output readable.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let poison = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|m| m.contains("cannot price order"));
        if !poison {
            default_hook(info);
        }
    }));
    println!(
        "pipeline: {ITEMS} items, chunks of {CHUNK}, 1 poison item{}",
        if fast() {
            "  [fast mode: sleeps ÷10]"
        } else {
            ""
        }
    );
    let t = Instant::now();
    let seq = sequential();
    let seq_t = t.elapsed();

    let workers = 16;
    let pool = ThreadPool::builder()
        .workers(workers)
        .name_prefix("batch")
        .build()
        .unwrap();
    let t = Instant::now();
    let par = concurrent(&pool);
    let par_t = t.elapsed();

    assert_eq!(par.written, seq.written, "same items, same order");
    assert_eq!(par.skipped, vec![POISON]);
    assert_eq!(seq.skipped, vec![POISON]);
    assert_eq!(par.chunks, ITEMS as usize / CHUNK);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "sequential:           {:8.1} ms  ({} written in {} chunks, skipped {:?})",
        ms(seq_t),
        seq.written.len(),
        seq.chunks,
        seq.skipped
    );
    println!(
        "pool ({workers} workers):    {:8.1} ms  ({} written in {} chunks, in input order)",
        ms(par_t),
        par.written.len(),
        par.chunks
    );
    println!("speed-up:             {:8.1}×", ms(seq_t) / ms(par_t));
}
