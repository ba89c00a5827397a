//! CPU-bound work on the pool: primality by trial division (the numbers of Python's
//! `ProcessPoolExecutor` example). Python needs processes here because of the GIL; Rust threads
//! scale with the cores. Prints the single-thread time and, for 1, 2, 4, … workers up to the
//! number of cores (and twice that), the time and the speed-up.
//!
//! `cargo run --release --example primes` (add `--fast`, or set `FT_EXAMPLE_FAST=1`, for a tenth
//! of the work).

use futuretask_executor::ThreadPool;
use std::time::{Duration, Instant};

const NUMBERS: [u64; 6] = [
    112_272_535_095_293,
    112_582_705_942_171,
    112_272_535_095_293,
    115_280_095_190_773,
    115_797_848_077_099,
    1_099_726_899_285_419,
];

/// Fast mode: primes about 100× smaller (a tenth of the trial divisions each).
const FAST_NUMBERS: [u64; 6] = [
    1_122_725_350_963,
    1_125_827_059_429,
    1_122_725_350_963,
    1_152_800_951_941,
    1_157_978_480_779,
    10_997_268_992_891,
];

fn fast() -> bool {
    std::env::args().any(|a| a == "--fast")
        || std::env::var("FT_EXAMPLE_FAST").is_ok_and(|v| v == "1")
}

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n % 2 == 0 {
        return n == 2;
    }
    let mut d = 3;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 2;
    }
    true
}

fn main() {
    // Each list four times over: 24 checks, enough to keep every core busy.
    let numbers = if fast() { FAST_NUMBERS } else { NUMBERS };
    let work: Vec<u64> = numbers.iter().copied().cycle().take(24).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "primes: {} trial-division checks, {cores} cores{}",
        work.len(),
        if fast() { "  [fast mode]" } else { "" }
    );

    let t = Instant::now();
    let expected: Vec<bool> = work.iter().map(|&n| is_prime(n)).collect();
    let single = t.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("single thread:     {:9.1} ms", ms(single));

    let mut counts: Vec<usize> = std::iter::successors(Some(1usize), |n| Some(n * 2))
        .take_while(|&n| n <= cores)
        .collect();
    if *counts.last().unwrap() != cores {
        counts.push(cores);
    }
    counts.push(cores * 2);
    for workers in counts {
        let pool = ThreadPool::new(workers).unwrap();
        let t = Instant::now();
        let got: Vec<bool> = pool
            .map(work.iter().copied(), is_prime)
            .window(work.len())
            .unwrap()
            .map(|r| r.expect("no panics"))
            .collect();
        let took = t.elapsed();
        assert_eq!(got, expected);
        println!(
            "pool, {workers:2} workers:  {:9.1} ms   speed-up {:5.2}×",
            ms(took),
            ms(single) / ms(took)
        );
    }
    println!(
        "{} of {} are prime",
        expected.iter().filter(|p| **p).count(),
        expected.len()
    );
}
