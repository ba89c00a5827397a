//! Outcomes and errors: what a finished task holds and what `get` reports.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;

/// Why a task completed exceptionally: its closure panicked, a promise was failed with an error,
/// or a promise was dropped without being completed.
///
/// A `Failure` is shared by every reader of the task (`get` hands out `&Failure`), so it is `Sync`;
/// the original panic payload (which is only `Send`) is reachable only through an owned `Failure`
/// ([`Failure::into_panic_payload`], [`Failure::resume`]).
///
/// ```
/// use futuretask::{promise, FutureTask, GetError};
/// use std::error::Error;
///
/// let task = FutureTask::new(|| -> u8 { panic!("oops") });
/// task.run();
/// let Err(GetError::Failed(f)) = task.get() else { unreachable!() };
/// assert!(f.is_panic());
/// assert_eq!(f.to_string(), "task panicked: oops");
/// let (p, failed) = promise::<u8>();
/// p.fail(std::fmt::Error).unwrap();
/// let Err(GetError::Failed(f)) = failed.get() else { unreachable!() };
/// assert!(f.source().is_some()); // the error is the failure's source
/// ```
pub struct Failure {
    kind: Kind,
}

enum Kind {
    Panic {
        message: Option<String>,
        payload: PanicPayload,
    },
    Error(Box<dyn StdError + Send + Sync + 'static>),
    BrokenPromise,
}

/// A panic payload that is only ever accessed by value, which makes sharing `&PanicPayload`
/// across threads sound even though `dyn Any + Send` is not `Sync`.
struct PanicPayload(Box<dyn Any + Send + 'static>);

// SAFETY: no method hands out `&PanicPayload.0` itself: the payload is reachable by moving the
// owning `Failure` (`into_panic_payload`, `resume`), or shared only as `&P` for a concrete
// `P: Sync` (`Failure::panic_payload`), whose `downcast_ref` reads nothing but the vtable's type
// id; so no two threads access a non-`Sync` value through it at once.
unsafe impl Sync for PanicPayload {}

impl Failure {
    /// A failure from a caught panic payload.
    ///
    /// ```
    /// use futuretask::Failure;
    ///
    /// let payload = std::panic::catch_unwind(|| panic!("caught")).unwrap_err();
    /// let f = Failure::from_panic(payload);
    /// assert!(f.is_panic());
    /// assert_eq!(f.panic_message(), Some("caught"));
    /// ```
    pub fn from_panic(payload: Box<dyn Any + Send + 'static>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((*s).to_owned())
        } else {
            payload.downcast_ref::<String>().cloned()
        };
        Failure {
            kind: Kind::Panic {
                message,
                payload: PanicPayload(payload),
            },
        }
    }

    /// A failure carrying an error value (promise-style `fail`, Python's `set_exception`).
    ///
    /// ```
    /// use futuretask::Failure;
    ///
    /// let f = Failure::from_error("no such key");
    /// assert!(!f.is_panic());
    /// assert_eq!(f.error().unwrap().to_string(), "no such key");
    /// assert_eq!(f.to_string(), "task failed: no such key");
    /// ```
    pub fn from_error(err: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Failure {
            kind: Kind::Error(err.into()),
        }
    }

    pub(crate) fn broken_promise() -> Self {
        Failure {
            kind: Kind::BrokenPromise,
        }
    }

    /// The task's closure panicked.
    ///
    /// ```
    /// use futuretask::Failure;
    ///
    /// let panicked = std::panic::catch_unwind(|| panic!("x")).unwrap_err();
    /// assert!(Failure::from_panic(panicked).is_panic());
    /// assert!(!Failure::from_error("e").is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.kind, Kind::Panic { .. })
    }

    /// The promise was dropped without being completed.
    ///
    /// ```
    /// use futuretask::{promise, GetError};
    ///
    /// let (p, task) = promise::<u8>();
    /// drop(p); // never completed
    /// let Err(GetError::Failed(f)) = task.get() else { unreachable!() };
    /// assert!(f.is_broken_promise() && !f.is_panic());
    /// ```
    pub fn is_broken_promise(&self) -> bool {
        matches!(self.kind, Kind::BrokenPromise)
    }

    /// The panic message (`&str` or `String` payloads), if the failure is a panic with one.
    ///
    /// ```
    /// use futuretask::Failure;
    ///
    /// let s = std::panic::catch_unwind(|| panic!("code {}", 7)).unwrap_err();
    /// assert_eq!(Failure::from_panic(s).panic_message(), Some("code 7")); // a `String` payload
    /// let n = std::panic::catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
    /// assert_eq!(Failure::from_panic(n).panic_message(), None); // not a string
    /// assert_eq!(Failure::from_error("e").panic_message(), None); // not a panic
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match &self.kind {
            Kind::Panic { message, .. } => message.as_deref(),
            _ => None,
        }
    }

    /// The error value, if the failure was set with one.
    ///
    /// ```
    /// use futuretask::Failure;
    ///
    /// let f = Failure::from_error(std::fmt::Error);
    /// assert!(f.error().unwrap().is::<std::fmt::Error>()); // downcastable
    /// let panicked = std::panic::catch_unwind(|| panic!("x")).unwrap_err();
    /// assert!(Failure::from_panic(panicked).error().is_none());
    /// ```
    pub fn error(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        match &self.kind {
            Kind::Error(e) => Some(&**e),
            _ => None,
        }
    }

    /// The panic payload by reference, if the failure is a panic whose payload is a `P` — from
    /// any shared handle (`get` hands out `&Failure`). `P: Sync` because every reader of the task
    /// shares it; for other payloads take the owned one ([`Failure::into_panic_payload`]).
    ///
    /// ```
    /// use futuretask::{FutureTask, GetError};
    ///
    /// #[derive(Debug, PartialEq)]
    /// struct Code(u32);
    /// let task = FutureTask::new(|| -> u8 { std::panic::panic_any(Code(7)) });
    /// task.run();
    /// let Err(GetError::Failed(f)) = task.get() else { unreachable!() };
    /// assert_eq!(f.panic_payload::<Code>(), Some(&Code(7)));
    /// assert_eq!(f.panic_payload::<String>(), None);
    /// ```
    pub fn panic_payload<P: Any + Sync>(&self) -> Option<&P> {
        match &self.kind {
            Kind::Panic { payload, .. } => payload.0.downcast_ref::<P>(),
            _ => None,
        }
    }

    /// The original panic payload, if the failure is a panic.
    ///
    /// ```
    /// use futuretask::{FutureTask, Outcome};
    ///
    /// let task = FutureTask::new(|| -> u8 { std::panic::panic_any(42u64) });
    /// task.run();
    /// let Some(Outcome::Failed(f)) = task.into_outcome() else { unreachable!() };
    /// let payload = f.into_panic_payload().unwrap();
    /// assert_eq!(payload.downcast_ref::<u64>(), Some(&42)); // the original payload
    /// assert!(futuretask::Failure::from_error("e").into_panic_payload().is_err());
    /// ```
    pub fn into_panic_payload(self) -> Result<Box<dyn Any + Send + 'static>, Failure> {
        match self.kind {
            Kind::Panic { payload, .. } => Ok(payload.0),
            kind => Err(Failure { kind }),
        }
    }

    /// Re-raise: resume the original panic (payload intact), or panic with this failure's message.
    ///
    /// ```
    /// use futuretask::{FutureTask, Outcome};
    /// use std::panic::{catch_unwind, AssertUnwindSafe};
    ///
    /// let task = FutureTask::new(|| -> u8 { std::panic::panic_any(7i32) });
    /// task.run();
    /// let Some(Outcome::Failed(f)) = task.into_outcome() else { unreachable!() };
    /// let again = catch_unwind(AssertUnwindSafe(|| f.resume())).unwrap_err();
    /// assert_eq!(again.downcast_ref::<i32>(), Some(&7)); // payload intact
    /// ```
    pub fn resume(self) -> ! {
        match self.kind {
            Kind::Panic { payload, .. } => std::panic::resume_unwind(payload.0),
            kind => panic!("{}", Failure { kind }),
        }
    }

    /// Re-raise from a shared reference: panic with this failure's message (the original payload
    /// stays in the task; use [`Failure::resume`] on an owned failure to keep it).
    ///
    /// ```
    /// use futuretask::Failure;
    /// use std::panic::{catch_unwind, AssertUnwindSafe};
    ///
    /// let f = Failure::from_error("bad input");
    /// let raised = catch_unwind(AssertUnwindSafe(|| f.rethrow())).unwrap_err();
    /// assert_eq!(raised.downcast_ref::<String>().unwrap(), "task failed: bad input");
    /// ```
    pub fn rethrow(&self) -> ! {
        panic!("{}", self)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Panic {
                message: Some(m), ..
            } => write!(f, "task panicked: {m}"),
            Kind::Panic { message: None, .. } => f.write_str("task panicked (non-string payload)"),
            Kind::Error(e) => write!(f, "task failed: {e}"),
            Kind::BrokenPromise => f.write_str("promise dropped without being completed"),
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Failure")
            .field(&format_args!("{self}"))
            .finish()
    }
}

impl StdError for Failure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.kind {
            Kind::Error(e) => Some(&**e),
            _ => None,
        }
    }
}

/// Why `get` returned no value.
///
/// ```
/// use futuretask::{FutureTask, GetError};
///
/// let cancelled = FutureTask::new(|| 1);
/// cancelled.cancel(false);
/// assert!(matches!(cancelled.get(), Err(GetError::Cancelled)));
/// let failed = FutureTask::<u8, _>::pending();
/// failed.fail("bad").unwrap();
/// let err = failed.get().unwrap_err();
/// assert!(matches!(err, GetError::Failed(f) if f.error().is_some()));
/// assert_eq!(err.to_string(), "task failed: bad");
/// ```
#[derive(Debug, Clone, Copy)]
pub enum GetError<'a> {
    /// The task was cancelled before it completed.
    Cancelled,
    /// The task completed exceptionally.
    Failed(&'a Failure),
    /// The *waiting* thread was interrupted: it is running a task's closure, and that task was
    /// cancelled with `cancel(true)` while it waited (Java's `InterruptedException`). Says
    /// nothing about the awaited task, which is still pending. Only a wait that would block
    /// inside an interrupted run returns this; outside a task's closure it never happens.
    Interrupted,
}

/// Why a timed `get` returned no value.
///
/// ```
/// use futuretask::{FutureTask, WaitError};
/// use std::time::Duration;
///
/// let task = FutureTask::new(|| 1);
/// assert!(matches!(task.get_timeout(Duration::ZERO), Err(WaitError::TimedOut)));
/// task.cancel(false);
/// assert!(matches!(task.get_timeout(Duration::ZERO), Err(WaitError::Cancelled)));
/// ```
#[derive(Debug, Clone, Copy)]
pub enum WaitError<'a> {
    /// The task was cancelled before it completed.
    Cancelled,
    /// The task completed exceptionally.
    Failed(&'a Failure),
    /// The deadline passed while the task was still pending.
    TimedOut,
    /// The waiting thread was interrupted (see [`GetError::Interrupted`]); the awaited task is
    /// still pending.
    Interrupted,
}

impl<'a> From<GetError<'a>> for WaitError<'a> {
    fn from(e: GetError<'a>) -> Self {
        match e {
            GetError::Cancelled => WaitError::Cancelled,
            GetError::Failed(f) => WaitError::Failed(f),
            GetError::Interrupted => WaitError::Interrupted,
        }
    }
}

impl fmt::Display for GetError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Cancelled => f.write_str("task was cancelled"),
            GetError::Failed(e) => fmt::Display::fmt(e, f),
            GetError::Interrupted => f.write_str(INTERRUPTED),
        }
    }
}

impl fmt::Display for WaitError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Cancelled => f.write_str("task was cancelled"),
            WaitError::Failed(e) => fmt::Display::fmt(e, f),
            WaitError::TimedOut => f.write_str("timed out waiting for the task"),
            WaitError::Interrupted => f.write_str(INTERRUPTED),
        }
    }
}

const INTERRUPTED: &str =
    "interrupted: the task this thread is running was cancelled with interrupt while it waited";

impl StdError for GetError<'_> {}
impl StdError for WaitError<'_> {}

/// The owned outcome of a finished task (for the last holder).
///
/// ```
/// use futuretask::{FutureTask, Outcome};
///
/// let ok = FutureTask::new(|| 1);
/// ok.run();
/// assert!(matches!(ok.into_outcome(), Some(Outcome::Success(1))));
/// let cancelled = FutureTask::new(|| 1);
/// cancelled.cancel(false);
/// assert!(matches!(cancelled.into_outcome(), Some(Outcome::Cancelled)));
/// ```
#[derive(Debug)]
pub enum Outcome<T> {
    /// Completed with a value.
    Success(T),
    /// Completed exceptionally.
    Failed(Failure),
    /// Cancelled before completion.
    Cancelled,
}

impl<T> Outcome<T> {
    /// `Ok(value)`, or the reason there is none.
    ///
    /// ```
    /// use futuretask::{Outcome, OutcomeError};
    ///
    /// assert_eq!(Outcome::Success(3).into_result().unwrap(), 3);
    /// let cancelled = Outcome::<u8>::Cancelled.into_result();
    /// assert!(matches!(cancelled, Err(OutcomeError::Cancelled)));
    /// ```
    pub fn into_result(self) -> Result<T, OutcomeError> {
        match self {
            Outcome::Success(v) => Ok(v),
            Outcome::Failed(f) => Err(OutcomeError::Failed(f)),
            Outcome::Cancelled => Err(OutcomeError::Cancelled),
        }
    }
}

/// The owned counterpart of [`GetError`].
///
/// ```
/// use futuretask::{FutureTask, OutcomeError};
///
/// let task = FutureTask::<u8, _>::pending();
/// task.fail("gone").unwrap();
/// let err = task.into_outcome().unwrap().into_result().unwrap_err();
/// assert!(matches!(&err, OutcomeError::Failed(f) if f.error().is_some()));
/// assert_eq!(err.to_string(), "task failed: gone");
/// ```
#[derive(Debug)]
pub enum OutcomeError {
    /// The task was cancelled before it completed.
    Cancelled,
    /// The task completed exceptionally.
    Failed(Failure),
}

impl fmt::Display for OutcomeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutcomeError::Cancelled => f.write_str("task was cancelled"),
            OutcomeError::Failed(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl StdError for OutcomeError {}

/// A completion (`set`/`fail`) that lost: the task was already completed or cancelled. The value
/// is handed back, never silently dropped or overwritten.
///
/// ```
/// use futuretask::{FutureTask, State};
///
/// let task = FutureTask::<String, _>::pending();
/// task.cancel(false);
/// let lost = task.set(String::from("late")).unwrap_err();
/// assert_eq!(lost.value, "late"); // handed back, not dropped
/// assert_eq!(lost.state, State::Cancelled);
/// ```
pub struct AlreadyCompleted<V> {
    /// The value that was not stored.
    pub value: V,
    /// The task's state at the time of the attempt.
    pub state: State,
}

impl<V> fmt::Debug for AlreadyCompleted<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlreadyCompleted")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<V> fmt::Display for AlreadyCompleted<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task already completed (state: {:?})", self.state)
    }
}

impl<V> StdError for AlreadyCompleted<V> {}

/// One consistent reading of a task's state with what [`State`] leaves out: whether `run` had
/// claimed the closure, and whether a cancel was an interrupting one. From
/// [`FutureTask::snapshot`](crate::FutureTask::snapshot).
///
/// ```
/// use futuretask::{FutureTask, State};
///
/// let task = FutureTask::new(|| 1);
/// task.cancel(true);
/// let s = task.snapshot();
/// assert_eq!(s.state(), State::Cancelled);
/// assert!(s.interrupted() && !s.started());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Snapshot {
    pub(crate) state: State,
    pub(crate) started: bool,
    pub(crate) interrupted: bool,
}

impl Snapshot {
    /// The state.
    ///
    /// ```
    /// use futuretask::{FutureTask, State};
    ///
    /// let task = FutureTask::new(|| 1);
    /// assert_eq!(task.snapshot().state(), State::Pending);
    /// task.run();
    /// assert_eq!(task.snapshot().state(), State::Success);
    /// ```
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the closure was claimed: by `run` — a cancelled task with `started() == false`
    /// never ran and never will (I4), one with `true` was cancelled while (or after) it ran — or,
    /// after the cancel, taken back by [`Reclaimed::claim`](crate::Reclaimed::claim).
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let never_ran = FutureTask::new(|| 1);
    /// never_ran.cancel(false);
    /// assert!(!never_ran.snapshot().started()); // cancelled before it ran: never will
    /// let ran = FutureTask::new(|| 1);
    /// ran.run();
    /// assert!(ran.snapshot().started());
    /// ```
    pub fn started(&self) -> bool {
        self.started
    }

    /// Whether the task was cancelled with interrupt (`cancel(true)`, `shutdown_now`), as opposed
    /// to a plain `cancel(false)`. `false` for every state but [`State::Cancelled`].
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let plain = FutureTask::new(|| 1);
    /// plain.cancel(false);
    /// assert!(!plain.snapshot().interrupted());
    /// let interrupting = FutureTask::new(|| 1);
    /// interrupting.cancel(true);
    /// assert!(interrupting.snapshot().interrupted());
    /// ```
    pub fn interrupted(&self) -> bool {
        self.interrupted
    }
}

/// A snapshot of a task's state (Java 19's `Future.State`, plus whether the closure started).
///
/// ```
/// use futuretask::{FutureTask, State};
/// use std::{sync::mpsc, thread};
///
/// let (started, on_start) = mpsc::channel();
/// let (release, on_release) = mpsc::channel::<()>();
/// let task = FutureTask::new(move || {
///     started.send(()).unwrap();
///     on_release.recv().unwrap();
/// });
/// assert_eq!(task.state(), State::Pending);
/// thread::scope(|s| {
///     s.spawn(|| task.run());
///     on_start.recv().unwrap();
///     assert_eq!(task.state(), State::Running); // claimed, not yet completed
///     release.send(()).unwrap();
/// });
/// assert_eq!(task.state(), State::Success);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not completed and not cancelled; the closure has not been claimed by `run`.
    Pending,
    /// Not completed and not cancelled; `run` has claimed the closure (it is running, or has just
    /// returned and is completing).
    Running,
    /// Completed with a value.
    Success,
    /// Completed exceptionally.
    Failed,
    /// Cancelled (with or without interrupt).
    Cancelled,
}
