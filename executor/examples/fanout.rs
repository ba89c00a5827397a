//! The seed's fan-out case study (004): one page needs 17 remote calls — the address (100 ms),
//! 15 category searches (150 ms each) and a crime-rate lookup (200 ms) that needs the address.
//! One after the other that is 100 + 15 × 150 + 200 = 2,550 ms; on a pool the critical path is
//! address → crime = 300 ms.
//!
//! `cargo run --release --example fanout` (add `--fast`, or set `FT_EXAMPLE_FAST=1`, to scale
//! every sleep down 10×).

use futuretask_executor::ThreadPool;
use std::thread;
use std::time::{Duration, Instant};

const CATEGORIES: [&str; 15] = [
    "schools",
    "parks",
    "hospitals",
    "groceries",
    "cafes",
    "gyms",
    "libraries",
    "pharmacies",
    "banks",
    "restaurants",
    "transit",
    "parking",
    "museums",
    "cinemas",
    "post offices",
];

fn fast() -> bool {
    std::env::args().any(|a| a == "--fast")
        || std::env::var("FT_EXAMPLE_FAST").is_ok_and(|v| v == "1")
}

/// A simulated remote call of `ms` milliseconds (a tenth of that in fast mode).
fn remote(ms: u64) {
    let us = if fast() { ms * 100 } else { ms * 1000 };
    thread::sleep(Duration::from_micros(us));
}

fn lookup_address(user: u32) -> String {
    remote(100);
    format!("{} Main Street", 100 + user)
}

fn search_category(category: &'static str) -> (String, usize) {
    remote(150);
    (category.to_owned(), category.len())
}

fn crime_rate(address: &str) -> f64 {
    remote(200);
    address.len() as f64 / 10.0
}

#[derive(Debug, PartialEq)]
struct Page {
    address: String,
    categories: Vec<(String, usize)>,
    crime: f64,
}

fn sequential(user: u32) -> Page {
    let address = lookup_address(user);
    let categories = CATEGORIES.iter().map(|c| search_category(c)).collect();
    let crime = crime_rate(&address);
    Page {
        address,
        categories,
        crime,
    }
}

fn on_pool(pool: &ThreadPool, user: u32) -> Page {
    let address = pool.submit(move || lookup_address(user)).unwrap();
    let categories: Vec<_> = CATEGORIES
        .iter()
        .map(|&c| pool.submit(move || search_category(c)).unwrap())
        .collect();
    // The crime lookup depends on the address: chain it once the address is known, while the
    // category searches keep running.
    let addr = address.get().expect("address lookup failed").clone();
    let crime = pool.submit(move || crime_rate(&addr)).unwrap();
    Page {
        address: address.get().unwrap().clone(),
        categories: categories
            .iter()
            .map(|h| h.get().unwrap().clone())
            .collect(),
        crime: *crime.get().unwrap(),
    }
}

fn main() {
    let scale = if fast() { 0.1 } else { 1.0 };
    println!(
        "fan-out: 1 address (100 ms) + 15 categories (150 ms) + crime (200 ms, needs the address){}",
        if fast() { "  [fast mode: sleeps ÷10]" } else { "" }
    );
    let t = Instant::now();
    let expected = sequential(7);
    let seq = t.elapsed();

    let pool = ThreadPool::builder()
        .workers(16)
        .name_prefix("fanout")
        .build()
        .unwrap();
    // Warm the workers up so the timing is the calls, not thread start-up.
    pool.invoke_all((0..16).map(|_| || ()), None).unwrap();
    let t = Instant::now();
    let page = on_pool(&pool, 7);
    let par = t.elapsed();
    assert_eq!(page, expected, "the pool computes the same page");

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "sequential: {:8.1} ms   (expected ≈ {:.0} ms)",
        ms(seq),
        2550.0 * scale
    );
    println!(
        "pool (16):  {:8.1} ms   (expected ≈ {:.0} ms: address → crime)",
        ms(par),
        300.0 * scale
    );
    println!("speed-up:   {:8.1}×  (ideal 8.5×)", ms(seq) / ms(par));
}
