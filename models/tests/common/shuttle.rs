//! The shuttle model pieces a kernel file and an executor file share.

use futuretask::Error;

/// What a waiter saw, comparable across threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Value(u32),
    Failed,
    Cancelled,
    TimedOut,
}

/// What an untimed waiter outside any task saw (it is never interrupted, never times out).
pub fn seen_get(r: Result<&u32, Error>) -> Seen {
    match r {
        Ok(v) => Seen::Value(*v),
        Err(Error::Failed(_)) => Seen::Failed,
        Err(Error::Cancelled) => Seen::Cancelled,
        Err(e) => panic!("I12: no model thread waits inside a task, nor untimed times out: {e}"),
    }
}
