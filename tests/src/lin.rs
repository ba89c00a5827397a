//! A linearizability checker (Wing & Gong's search with Lowe's memoisation, "WGL").
//!
//! A *history* is a set of operations, each with an invocation time and (unless it never
//! returned) a response time taken from one global logical clock, and the response it gave. The
//! history is linearizable with respect to a sequential [`Model`] if the operations can be put in
//! one sequential order that
//! 1. respects real time: if `a` responded before `b` was invoked, `a` comes first;
//! 2. is legal: replaying the model in that order, every completed operation is enabled where it
//!    is placed and the model gives exactly the recorded response.
//!
//! Operations that never responded (still pending when the history was cut) may take effect at any
//! point after their invocation, with any response, or not at all.
//!
//! The search linearizes one operation at a time: the candidates are the operations invoked
//! before the earliest response among those not yet linearized (anything else would violate
//! real-time order). Each candidate the model accepts is tried depth first; the pair (set of
//! linearized operations, model state) is memoised so that no configuration is explored twice.

use std::collections::HashSet;
use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification the checker replays histories against.
pub trait Model: Clone + Eq + Hash {
    /// An operation (with its arguments).
    type Op: Clone + Debug;
    /// A response.
    type Ret: Clone + Debug + PartialEq;
    /// Apply `op` in this state: the successor state and the response, or `None` when the
    /// operation cannot take effect in this state (e.g. a blocking read of an empty cell).
    fn step(&self, op: &Self::Op) -> Option<(Self, Self::Ret)>;
}

/// One operation of a history.
#[derive(Clone, Debug)]
pub struct Event<Op, Ret> {
    /// Which thread (or logical process) performed it; only used for reports.
    pub thread: usize,
    /// The operation.
    pub op: Op,
    /// Invocation time (a ticket from the global clock).
    pub invoke: u64,
    /// Response time and response, or `None` if the operation never returned.
    pub ret: Option<(u64, Ret)>,
}

impl<Op, Ret> Event<Op, Ret> {
    /// A completed operation.
    pub fn done(thread: usize, op: Op, invoke: u64, respond: u64, ret: Ret) -> Self {
        assert!(
            invoke < respond,
            "an operation responds after it is invoked"
        );
        Event {
            thread,
            op,
            invoke,
            ret: Some((respond, ret)),
        }
    }

    /// An operation that never returned.
    pub fn pending(thread: usize, op: Op, invoke: u64) -> Self {
        Event {
            thread,
            op,
            invoke,
            ret: None,
        }
    }

    fn respond(&self) -> u64 {
        self.ret.as_ref().map_or(u64::MAX, |r| r.0)
    }
}

/// Why a history is not linearizable.
#[derive(Clone, Debug)]
pub struct Violation {
    /// The longest legal prefix of a linearization the search found (indices into the history).
    pub longest_prefix: Vec<usize>,
    /// Human-readable report: the history ordered by invocation, and the longest prefix.
    pub report: String,
}

/// Most operations a history may have.
pub const MAX_OPS: usize = 128;

/// Check `history` against `init`. `Ok` holds one valid linearization (indices into `history`,
/// pending operations that were left out omitted).
pub fn check<M: Model>(
    init: &M,
    history: &[Event<M::Op, M::Ret>],
) -> Result<Vec<usize>, Violation> {
    assert!(
        history.len() <= MAX_OPS,
        "history too long ({} > {MAX_OPS})",
        history.len()
    );
    let completed: u128 = history
        .iter()
        .enumerate()
        .filter(|(_, e)| e.ret.is_some())
        .fold(0, |m, (i, _)| m | 1 << i);
    let mut search = Search {
        history,
        completed,
        seen: HashSet::new(),
        order: Vec::new(),
        longest: Vec::new(),
    };
    if search.dfs(init.clone(), 0) {
        Ok(search.order)
    } else {
        let longest = search.longest.clone();
        Err(Violation {
            report: report(history, &longest),
            longest_prefix: longest,
        })
    }
}

struct Search<'h, M: Model> {
    history: &'h [Event<M::Op, M::Ret>],
    completed: u128,
    seen: HashSet<(u128, M)>,
    order: Vec<usize>,
    longest: Vec<usize>,
}

impl<M: Model> Search<'_, M> {
    fn dfs(&mut self, state: M, done: u128) -> bool {
        if done & self.completed == self.completed {
            return true;
        }
        if !self.seen.insert((done, state.clone())) {
            return false;
        }
        let n = self.history.len();
        // Real time: nothing invoked after the earliest pending response may go next.
        let horizon = (0..n)
            .filter(|&i| done & (1 << i) == 0)
            .map(|i| self.history[i].respond())
            .min()
            .unwrap_or(u64::MAX);
        for i in 0..n {
            if done & (1 << i) != 0 {
                continue;
            }
            let e = &self.history[i];
            if e.invoke > horizon {
                continue;
            }
            let Some((next, ret)) = state.step(&e.op) else {
                continue;
            };
            if let Some((_, want)) = &e.ret {
                if *want != ret {
                    continue;
                }
            }
            self.order.push(i);
            if self.order.len() > self.longest.len() {
                self.longest = self.order.clone();
            }
            if self.dfs(next, done | 1 << i) {
                return true;
            }
            self.order.pop();
        }
        false
    }
}

/// Format a history (ordered by invocation) and a linearization prefix.
pub fn report<Op: Debug, Ret: Debug>(history: &[Event<Op, Ret>], prefix: &[usize]) -> String {
    use std::fmt::Write;
    let mut idx: Vec<usize> = (0..history.len()).collect();
    idx.sort_by_key(|&i| history[i].invoke);
    let mut s = String::from("history (by invocation):\n");
    for i in idx {
        let e = &history[i];
        let _ = match &e.ret {
            Some((t, r)) => writeln!(
                s,
                "  #{i:<3} t{} [{:>6} .. {:>6}] {:?} -> {:?}",
                e.thread, e.invoke, t, e.op, r
            ),
            None => writeln!(
                s,
                "  #{i:<3} t{} [{:>6} ..  never] {:?} -> (no response)",
                e.thread, e.invoke, e.op
            ),
        };
    }
    let _ = writeln!(s, "longest legal linearization prefix: {prefix:?}");
    s
}

/// Brute force: try every permutation (only for tiny histories; used to test [`check`]).
pub fn check_brute_force<M: Model>(init: &M, history: &[Event<M::Op, M::Ret>]) -> bool {
    fn go<M: Model>(state: &M, history: &[Event<M::Op, M::Ret>], used: &mut Vec<bool>) -> bool {
        let all_completed_used = history
            .iter()
            .zip(used.iter())
            .all(|(e, &u)| u || e.ret.is_none());
        if all_completed_used {
            return true;
        }
        for i in 0..history.len() {
            if used[i] {
                continue;
            }
            // Real time: every unused operation that responded before `i` was invoked must
            // already be placed.
            let blocked = (0..history.len())
                .any(|j| j != i && !used[j] && history[j].respond() < history[i].invoke);
            if blocked {
                continue;
            }
            let Some((next, ret)) = state.step(&history[i].op) else {
                continue;
            };
            if let Some((_, want)) = &history[i].ret {
                if *want != ret {
                    continue;
                }
            }
            used[i] = true;
            if go(&next, history, used) {
                return true;
            }
            used[i] = false;
        }
        false
    }
    go(init, history, &mut vec![false; history.len()])
}
