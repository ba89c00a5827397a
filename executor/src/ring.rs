//! The pool's queue: a growable ring with **two locks**, one per end (after Michael & Scott's
//! two-lock queue). Producers serialise on the push lock, consumers on the pop lock; a producer
//! and a consumer never wait for each other, except while the ring grows (rare, amortised).
//!
//! Between the two locks the ring is a single-producer/single-consumer ring: only the push-lock
//! holder writes `tail` and the slot at `tail`, only the pop-lock holder writes `head` and takes
//! the slot at `head`.
//!
//! * **Q1 (slot hand-over)** A slot's value is written before `tail` moves past it (Release) and
//!   read only by a consumer that saw that `tail` (Acquire); a slot is rewritten only by a
//!   producer that saw the `head` (Acquire) a consumer stored (Release) after taking it out.
//! * **Q3 (cached indices)** Each end keeps the last value of the other end's index it acquired
//!   and re-reads it only when that value says full (producer) or empty (consumer). Indices only
//!   grow, so a cached value is a lower bound: it may report full or empty too early (then it is
//!   re-read), never a slot that is not free or not filled.
//! * **Q2 (buffer)** The buffer is replaced only by a producer holding **both** locks (push, then
//!   pop — the only nesting order anywhere), so whoever holds either lock reads a stable buffer.
//!
//! Each lock also guards a caller-chosen state (`P` beside the tail, `C` beside the head), so the
//! pool keeps its admission state (shutdown, blocked submitters) and its worker registry in the
//! same critical sections as the queue operations they must be atomic with.
//!
//! Capacity doubles when full and never shrinks (like `VecDeque`): no allocation per entry.

use crate::sync::{self, AtomicUsize, Mutex, MutexGuard, Ordering, UnsafeCell};
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};

/// The smallest buffer the first push allocates.
const MIN_CAP: usize = 8;

type Buffer<T> = Box<[UnsafeCell<MaybeUninit<T>>]>;

/// A FIFO queue with a locked producer end and a locked consumer end; see the module docs.
///
/// Each end (its lock and its index) has a cache line of its own: the submitter and the workers
/// write different lines, and the buffer pointer (read by both, rarely written) a third.
pub(crate) struct Ring<T, P, C> {
    push: Mutex<End<P>>,
    /// Next slot to fill. Written under the push lock; read by consumers (emptiness, length).
    tail: AtomicUsize,
    pop: Padded<PopEnd<C>>,
    /// Power-of-two sized (or empty). Q2: replaced only under both locks.
    buf: Padded<UnsafeCell<Buffer<T>>>,
}

/// The consumer end, on its own cache line.
struct PopEnd<C> {
    pop: Mutex<End<C>>,
    /// Next slot to take. Written under the pop lock; read by producers (room, length).
    head: AtomicUsize,
}

/// What a lock guards: the caller's state and the end's cached copy of the *other* end's index
/// (Q3). Producers re-read `head` only when the cached value says the ring is full, consumers
/// re-read `tail` only when theirs says it is empty: a steady stream costs no cache-line transfer
/// of the other end's index per entry.
struct End<S> {
    state: S,
    /// A value the other end's index had (it only grows, so this is a lower bound).
    seen: usize,
}

/// Aligns its content to 128 bytes (two 64-byte lines: the adjacent-line prefetcher pulls
/// pairs), so fields written by different threads do not share a line.
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> Deref for Padded<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

// SAFETY: Q1/Q2 — the values of `T` move between threads through the slots, each slot accessed
// by one lock holder at a time; `P` and `C` are only reached through their mutexes.
unsafe impl<T: Send, P: Send, C: Send> Sync for Ring<T, P, C> {}
// SAFETY: as above; the ring owns its `T`s.
unsafe impl<T: Send, P: Send, C: Send> Send for Ring<T, P, C> {}

fn buffer<T>(cap: usize) -> Buffer<T> {
    (0..cap)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect()
}

impl<T, P, C> Ring<T, P, C> {
    pub(crate) fn new(push_state: P, pop_state: C) -> Self {
        Ring {
            push: Mutex::new(End {
                state: push_state,
                seen: 0,
            }),
            tail: AtomicUsize::new(0),
            pop: Padded(PopEnd {
                pop: Mutex::new(End {
                    state: pop_state,
                    seen: 0,
                }),
                head: AtomicUsize::new(0),
            }),
            buf: Padded(UnsafeCell::new(buffer(0))),
        }
    }

    /// Take the producer end.
    #[inline]
    pub(crate) fn lock_push(&self) -> PushGuard<'_, T, P, C> {
        PushGuard {
            ring: self,
            g: sync::lock(&self.push),
        }
    }

    /// Take the consumer end.
    #[inline]
    pub(crate) fn lock_pop(&self) -> PopGuard<'_, T, P, C> {
        PopGuard {
            ring: self,
            g: sync::lock(&self.pop.pop),
        }
    }

    /// The number of queued entries, without a lock (a snapshot: entries may come and go
    /// meanwhile). `Acquire` on both ends: a caller that sees an entry here finds it under the
    /// pop lock.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        // `head` first: it never passes `tail`, so reading `tail` second cannot underflow.
        let h = self.pop.head.load(Ordering::Acquire);
        let t = self.tail.load(Ordering::Acquire);
        t.wrapping_sub(h)
    }

    /// `len() == 0`, as a snapshot.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T, P, C> Drop for Ring<T, P, C> {
    fn drop(&mut self) {
        // `&mut self`: no lock holder is left. Drop what is still queued, in order.
        let mut pop = self.lock_pop();
        while pop.pop().is_some() {}
    }
}

/// The producer end, locked. Dereferences to the push-side state `P`.
pub(crate) struct PushGuard<'a, T, P, C> {
    ring: &'a Ring<T, P, C>,
    g: MutexGuard<'a, End<P>>,
}

impl<'a, T, P, C> PushGuard<'a, T, P, C> {
    /// Append `value`, growing the ring when it is full (which takes the pop lock too, Q2).
    #[inline]
    pub(crate) fn push(&mut self, value: T) {
        let r = self.ring;
        // Only push-lock holders write `tail`: our own last store.
        let t = r.tail.load(Ordering::Relaxed);
        // SAFETY: Q2 — we hold the push lock, so no one replaces the buffer while we read it.
        let cap = r.buf.with(|b| unsafe { (&*b).len() });
        if t.wrapping_sub(self.g.seen) == cap {
            // Q1/Q3: full as far as we know: look at `head`. Acquire pairs with the consumer's
            // Release of `head`, so its read of every slot before it happened before we
            // rewrite one.
            self.g.seen = r.pop.head.load(Ordering::Acquire);
            if t.wrapping_sub(self.g.seen) == cap {
                self.grow();
            }
        }
        // SAFETY: Q2 as above; Q1/Q3 — the slot at `t` is free: `t - seen < cap`, `seen` is a
        // `head` we acquired (the slot's last value was taken before it), and only the push-lock
        // holder writes slots.
        r.buf.with(|b| unsafe {
            let b = &*b;
            b[t & (b.len() - 1)].with_mut(|slot| (*slot).write(value));
        });
        // Q1: publish the slot.
        r.tail.store(t.wrapping_add(1), Ordering::Release);
    }

    /// Double the buffer. Holding both locks (push, then pop: Q2), move the entries to the same
    /// logical positions of the new buffer.
    #[cold]
    fn grow(&mut self) {
        let r = self.ring;
        let _pop = sync::lock(&r.pop.pop);
        let h = r.pop.head.load(Ordering::Relaxed);
        let t = r.tail.load(Ordering::Relaxed);
        // SAFETY: Q2 — we hold both locks: no one else reads or writes the buffer or its slots.
        r.buf.with_mut(|b| unsafe {
            let old = &mut *b;
            let cap = (old.len() * 2).max(MIN_CAP);
            let new: Buffer<T> = buffer(cap);
            let mut i = h;
            while i != t {
                let v = old[i & (old.len() - 1)].with(|s| (*s).assume_init_read());
                new[i & (cap - 1)].with_mut(|s| (*s).write(v));
                i = i.wrapping_add(1);
            }
            *old = new;
        });
        self.g.seen = h;
    }

    /// Entries queued now (a consumer may take some meanwhile).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.ring.len()
    }

    /// Hand the guard to a condition variable wait (the push lock is released while waiting).
    #[inline]
    pub(crate) fn wait(self, cv: &sync::Condvar) -> Self {
        PushGuard {
            ring: self.ring,
            g: sync::wait(cv, self.g),
        }
    }

    /// Take the pop lock too (push, then pop: the one nesting order, Q2).
    #[inline]
    pub(crate) fn lock_pop(&self) -> PopGuard<'a, T, P, C> {
        self.ring.lock_pop()
    }
}

impl<T, P, C> Deref for PushGuard<'_, T, P, C> {
    type Target = P;
    #[inline]
    fn deref(&self) -> &P {
        &self.g.state
    }
}

impl<T, P, C> DerefMut for PushGuard<'_, T, P, C> {
    #[inline]
    fn deref_mut(&mut self) -> &mut P {
        &mut self.g.state
    }
}

/// The consumer end, locked. Dereferences to the pop-side state `C`.
pub(crate) struct PopGuard<'a, T, P, C> {
    ring: &'a Ring<T, P, C>,
    g: MutexGuard<'a, End<C>>,
}

impl<T, P, C> PopGuard<'_, T, P, C> {
    /// Take the oldest entry.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        let r = self.ring;
        // Only pop-lock holders write `head`.
        let h = r.pop.head.load(Ordering::Relaxed);
        if h == self.g.seen && self.refresh_tail(h) {
            return None;
        }
        // SAFETY: Q2 — we hold the pop lock, so the buffer is stable; Q1/Q3 — `h < seen`, a
        // `tail` we acquired: the slot at `h` was filled before `tail` passed it, and no producer
        // rewrites it until `head` passes it.
        let v = r.buf.with(|b| unsafe {
            let b = &*b;
            b[h & (b.len() - 1)].with(|s| (*s).assume_init_read())
        });
        // Q1: hand the slot back to the producers.
        r.pop.head.store(h.wrapping_add(1), Ordering::Release);
        Some(v)
    }

    /// Whether the queue is empty now (a producer may add entries meanwhile). Reads `tail` only
    /// when the cached value says empty.
    #[inline]
    pub(crate) fn is_empty(&mut self) -> bool {
        let h = self.ring.pop.head.load(Ordering::Relaxed);
        h == self.g.seen && self.refresh_tail(h)
    }

    /// Q3: re-read `tail` (Acquire pairs with the producer's Release: the slots before it are
    /// filled); whether the ring is still empty at `head == h`.
    #[inline]
    fn refresh_tail(&mut self, h: usize) -> bool {
        self.g.seen = self.ring.tail.load(Ordering::Acquire);
        h == self.g.seen
    }
}

impl<T, P, C> Deref for PopGuard<'_, T, P, C> {
    type Target = C;
    #[inline]
    fn deref(&self) -> &C {
        &self.g.state
    }
}

impl<T, P, C> DerefMut for PopGuard<'_, T, P, C> {
    #[inline]
    fn deref_mut(&mut self) -> &mut C {
        &mut self.g.state
    }
}

#[cfg(all(test, not(loom), not(feature = "shuttle")))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn fifo_across_growth_and_wraparound() {
        let r: Ring<u32, (), ()> = Ring::new((), ());
        let mut next = 0;
        let mut expect = 0;
        for round in 0..50 {
            for _ in 0..(round % 13 + 1) {
                r.lock_push().push(next);
                next += 1;
            }
            for _ in 0..(round % 7 + 1) {
                match r.lock_pop().pop() {
                    Some(v) => {
                        assert_eq!(v, expect);
                        expect += 1;
                    }
                    None => assert_eq!(expect, next),
                }
            }
            assert_eq!(r.len() as u32, next - expect);
        }
    }

    #[test]
    fn drop_drops_what_is_queued() {
        let token = Arc::new(());
        let r: Ring<Arc<()>, (), ()> = Ring::new((), ());
        for _ in 0..20 {
            r.lock_push().push(Arc::clone(&token));
        }
        drop(r.lock_pop().pop());
        assert_eq!(Arc::strong_count(&token), 20);
        drop(r);
        assert_eq!(Arc::strong_count(&token), 1);
    }

    #[test]
    fn concurrent_producers_and_consumers_lose_and_duplicate_nothing() {
        // Under Miri (the executor's unit tests are part of its tier) a short race: no lock or fence
        // links a producer to a consumer here but `tail` and `head` themselves (Q1).
        const PER: usize = if cfg!(miri) { 24 } else { 20_000 };
        const NP: usize = 2;
        const NC: usize = 2;
        let r: Arc<Ring<usize, (), ()>> = Arc::new(Ring::new((), ()));
        let producers: Vec<_> = (0..NP)
            .map(|p| {
                let r = Arc::clone(&r);
                thread::spawn(move || {
                    for i in 0..PER {
                        r.lock_push().push(p * PER + i);
                    }
                })
            })
            .collect();
        let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let consumers: Vec<_> = (0..NC)
            .map(|_| {
                let r = Arc::clone(&r);
                let taken = Arc::clone(&taken);
                thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut last = [None::<usize>; 2];
                    while taken.load(std::sync::atomic::Ordering::Relaxed) < NP * PER {
                        if let Some(v) = r.lock_pop().pop() {
                            taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            // Per producer, a consumer sees increasing values (FIFO).
                            let p = v / PER;
                            assert!(last[p].map_or(true, |l| l < v));
                            last[p] = Some(v);
                            got.push(v);
                        } else {
                            thread::yield_now();
                        }
                    }
                    got
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        let mut all: Vec<usize> = consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..NP * PER).collect::<Vec<_>>());
    }
}
