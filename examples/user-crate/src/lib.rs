//! A downstream crate, written only against futuretask's public API, as a user would write it: a
//! memoizing cache ([`Memo`]) that shares one `Arc<FutureTask<V>>` per key between threads.
//!
//! Its promise to callers: **each key is computed at most once, and every caller of
//! [`Memo::get`] for a key sees that one value** — whichever thread asks first computes it, the
//! others wait for that computation. The promise rests on the kernel (`run` claims a task's
//! closure once, `get` waits for the outcome), so this crate's own tests check it with loom
//! (`tests/loom.rs`) and shuttle (`tests/shuttle.rs`): because `futuretask` is compiled with
//! `--cfg loom` (or its `shuttle` feature) too, the checker explores the kernel's interleavings
//! underneath this code. See the README section "Checking your own code with loom and shuttle".
//!
//! ```
//! use futuretask_user_example::Memo;
//! use std::{sync::Arc, thread};
//!
//! let squares = Arc::new(Memo::new(1..=3u64, |k| k * k));
//! let other = Arc::clone(&squares);
//! let reader = thread::spawn(move || *other.get(&3).unwrap());
//! assert_eq!(squares.get(&3), Some(&9));
//! assert_eq!(reader.join().unwrap(), 9);
//! ```

#![warn(missing_docs)]

use futuretask::{Error, FutureTask};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

/// A memoizing cache over a fixed set of keys: the value of each key is computed at most once, by
/// the first thread that asks for it; every thread that asks while it is being computed waits for
/// it, and all of them get the same value (the same reference).
///
/// Each key owns one `Arc<FutureTask<V>>` whose closure computes that key's value; the map is
/// never changed after [`Memo::new`], so the memo itself needs no lock.
///
/// ```
/// use futuretask_user_example::Memo;
///
/// let lengths = Memo::new(["a", "bcd"], |s| s.len());
/// assert_eq!(lengths.get(&"bcd"), Some(&3));
/// assert_eq!(lengths.get(&"zz"), None); // not one of the memo's keys
/// ```
pub struct Memo<K, V> {
    tasks: HashMap<K, Arc<FutureTask<V>>>,
}

impl<K, V> Memo<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Send + Sync + 'static,
{
    /// A memo for `keys`, whose values `compute` will produce on demand (nothing is computed yet).
    ///
    /// ```
    /// use futuretask_user_example::Memo;
    ///
    /// let memo = Memo::new(0..4u32, |k| format!("value {k}"));
    /// assert_eq!(memo.peek(&2), None); // nothing computed yet
    /// assert_eq!(memo.get(&2).map(String::as_str), Some("value 2"));
    /// ```
    pub fn new<F>(keys: impl IntoIterator<Item = K>, compute: F) -> Self
    where
        F: Fn(&K) -> V + Send + Sync + 'static,
    {
        let compute = Arc::new(compute);
        let tasks = keys
            .into_iter()
            .map(|key| {
                let compute = Arc::clone(&compute);
                let own = key.clone();
                let task: Arc<FutureTask<V>> = Arc::new(FutureTask::new(move || compute(&own)));
                (key, task)
            })
            .collect();
        Memo { tasks }
    }

    /// The value of `key`: computed on this thread if no thread has started computing it yet,
    /// otherwise waited for. `None` when `key` is not one of the memo's keys.
    ///
    /// # Panics
    ///
    /// If `compute` panicked for this key, every `get` of the key panics with that message; and
    /// if the wait is interrupted (this runs inside a futuretask closure whose task is cancelled
    /// with interrupt).
    ///
    /// ```
    /// use futuretask_user_example::Memo;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let counted = Arc::clone(&calls);
    /// let memo = Memo::new([7u8], move |k| {
    ///     counted.fetch_add(1, Ordering::Relaxed);
    ///     u32::from(*k) * 6
    /// });
    /// assert_eq!(memo.get(&7), Some(&42));
    /// assert_eq!(memo.get(&7), Some(&42));
    /// assert_eq!(calls.load(Ordering::Relaxed), 1); // computed once
    /// ```
    pub fn get(&self, key: &K) -> Option<&V> {
        let task = self.tasks.get(key)?;
        // Claim the computation if nobody has; `false` means another thread has it (or had it).
        task.run();
        match task.get() {
            Ok(value) => Some(value),
            // Shared with the task, so the panic carries the failure's message.
            Err(Error::Failed(failure)) => failure.resume_unwind(),
            // The memo never cancels its tasks; this is an interrupted wait.
            Err(e) => panic!("Memo::get: {e}"),
        }
    }

    /// The value of `key` if it has been computed, without computing it or waiting for it.
    ///
    /// ```
    /// use futuretask_user_example::Memo;
    ///
    /// let memo = Memo::new(['x'], |c| c.to_ascii_uppercase());
    /// assert_eq!(memo.peek(&'x'), None);
    /// memo.get(&'x');
    /// assert_eq!(memo.peek(&'x'), Some(&'X'));
    /// ```
    pub fn peek(&self, key: &K) -> Option<&V> {
        self.tasks.get(key)?.try_get()?.ok()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Memo<K, V> {
    /// Each key with its task's state.
    ///
    /// ```
    /// use futuretask_user_example::Memo;
    ///
    /// let memo = Memo::new([1], |k| k + 1);
    /// assert!(format!("{memo:?}").starts_with("Memo"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memo").field("tasks", &self.tasks).finish()
    }
}
