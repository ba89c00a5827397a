//! Outcomes and errors: what a finished task holds and what `get` reports.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// Why a task completed exceptionally: its closure panicked, a promise was failed with an error,
/// or a promise was dropped without being completed.
///
/// Cheap to clone (a reference count): every reader of the task that reports the failure (an
/// [`Error::Failed`]) holds a clone of the one `Failure` the task stores. It is `Sync`; the
/// original panic payload (which is only `Send`) is reachable only through the sole handle to the
/// failure ([`Failure::into_panic_payload`], [`Failure::resume_unwind`]). The payload or error is
/// dropped with the last clone: by the task's own drop when no [`Error`] outlives it, otherwise by
/// whoever drops the last `Error`/`Failure` (a payload whose drop panics panics there).
///
/// ```
/// use futuretask::{promise, Error, FutureTask};
///
/// let task = FutureTask::new(|| -> u8 { panic!("oops") });
/// task.run();
/// let f = task.get().unwrap_err().into_failure().unwrap();
/// assert!(f.is_panic());
/// assert_eq!(f.to_string(), "task panicked: oops");
/// let (p, failed) = promise::<u8>();
/// p.fail(std::fmt::Error).unwrap();
/// let Err(Error::Failed(f)) = failed.get() else { unreachable!() };
/// assert!(f.error().unwrap().is::<std::fmt::Error>()); // the error, by reference
/// ```
///
/// ## In an error chain
/// A failure's message already includes its error's (`task failed: <error>`), so its
/// [`source`](StdError::source) is that error's own source, not the error itself: a report that
/// walks the chain (`anyhow`'s `{:#}`, `Error::sources`) names every message exactly once. The
/// error itself stays reachable with [`Failure::error`].
///
/// ```
/// use futuretask::promise;
/// use std::error::Error as _;
///
/// #[derive(Debug)]
/// struct Io;
/// impl std::fmt::Display for Io {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("disk gone")
///     }
/// }
/// impl std::error::Error for Io {}
///
/// #[derive(Debug)]
/// struct Load(Io);
/// impl std::fmt::Display for Load {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("cannot load") // does not repeat its source's message
///     }
/// }
/// impl std::error::Error for Load {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let (p, reader) = promise::<u8>();
/// p.fail(Load(Io)).unwrap();
/// let f = reader.get().unwrap_err().into_failure().unwrap();
/// assert_eq!(f.to_string(), "task failed: cannot load");
/// assert!(f.error().unwrap().is::<Load>()); // the error itself
/// assert!(f.source().unwrap().is::<Io>()); // the next link: the error's own source
/// let e = anyhow::Error::new(reader.get().unwrap_err());
/// assert_eq!(format!("{e:#}"), "task failed: cannot load: disk gone");
/// ```
#[derive(Clone)]
pub struct Failure {
    kind: Arc<Kind>,
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

// SAFETY: no method hands out `&PanicPayload.0` itself: the payload is reachable by moving it out
// of the sole handle to the failure (`Arc::try_unwrap` in `into_panic_payload` and
// `resume_unwind`: no other thread can reach it then), or shared only as `&P` for a concrete
// `P: Sync` (`Failure::panic_payload`), whose `downcast_ref` reads nothing but the vtable's type
// id; so no two threads access a non-`Sync` value through it at once.
unsafe impl Sync for PanicPayload {}

impl Failure {
    fn new(kind: Kind) -> Self {
        Failure {
            kind: Arc::new(kind),
        }
    }

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
        Failure::new(Kind::Panic {
            message,
            payload: PanicPayload(payload),
        })
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
        Failure::new(Kind::Error(err.into()))
    }

    pub(crate) fn broken_promise() -> Self {
        Failure::new(Kind::BrokenPromise)
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
        matches!(*self.kind, Kind::Panic { .. })
    }

    /// The promise was dropped without being completed.
    ///
    /// ```
    /// use futuretask::promise;
    ///
    /// let (p, task) = promise::<u8>();
    /// drop(p); // never completed
    /// let f = task.get().unwrap_err().into_failure().unwrap();
    /// assert!(f.is_broken_promise() && !f.is_panic());
    /// ```
    pub fn is_broken_promise(&self) -> bool {
        matches!(*self.kind, Kind::BrokenPromise)
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
        match &*self.kind {
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
        match &*self.kind {
            Kind::Error(e) => Some(&**e),
            _ => None,
        }
    }

    /// The panic payload by reference, if the failure is a panic whose payload is a `P` — from
    /// any handle (every reader of the task shares the failure). `P: Sync` because of that
    /// sharing; for other payloads take the owned one ([`Failure::into_panic_payload`]).
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// #[derive(Debug, PartialEq)]
    /// struct Code(u32);
    /// let task = FutureTask::new(|| -> u8 { std::panic::panic_any(Code(7)) });
    /// task.run();
    /// let f = task.get().unwrap_err().into_failure().unwrap();
    /// assert_eq!(f.panic_payload::<Code>(), Some(&Code(7)));
    /// assert_eq!(f.panic_payload::<String>(), None);
    /// ```
    pub fn panic_payload<P: Any + Sync>(&self) -> Option<&P> {
        match &*self.kind {
            Kind::Panic { payload, .. } => payload.0.downcast_ref::<P>(),
            _ => None,
        }
    }

    /// The original panic payload, if the failure is a panic and this is the only handle to it
    /// (no clone of it is alive: not in the task, not in an [`Error`] a reader kept). Otherwise
    /// the failure comes back unchanged.
    ///
    /// ```
    /// use futuretask::{FutureTask, Outcome};
    ///
    /// let task = FutureTask::new(|| -> u8 { std::panic::panic_any(42u64) });
    /// task.run();
    /// let Some(Outcome::Failed(f)) = task.into_outcome() else { unreachable!() };
    /// let shared = f.clone();
    /// let f = f.into_panic_payload().unwrap_err(); // `shared` still holds it
    /// drop(shared);
    /// let payload = f.into_panic_payload().unwrap(); // the only handle now
    /// assert_eq!(payload.downcast_ref::<u64>(), Some(&42)); // the original payload
    /// assert!(futuretask::Failure::from_error("e").into_panic_payload().is_err());
    /// ```
    pub fn into_panic_payload(self) -> Result<Box<dyn Any + Send + 'static>, Failure> {
        if !self.is_panic() {
            return Err(self);
        }
        match Arc::try_unwrap(self.kind) {
            Ok(Kind::Panic { payload, .. }) => Ok(payload.0),
            Ok(kind) => Err(Failure::new(kind)),
            Err(kind) => Err(Failure { kind }),
        }
    }

    /// Re-raise (std's `resume_unwind`): the original panic payload when this is the only handle
    /// to a panic failure; otherwise — an error or broken-promise failure, or a panic whose
    /// failure is still shared — a panic whose payload is this failure's message (a `String`,
    /// as [`Display`](fmt::Display) writes it).
    ///
    /// ```
    /// use futuretask::{Failure, FutureTask, Outcome};
    /// use std::panic::{catch_unwind, AssertUnwindSafe};
    ///
    /// let task = FutureTask::new(|| -> u8 { std::panic::panic_any(7i32) });
    /// task.run();
    /// let Some(Outcome::Failed(f)) = task.into_outcome() else { unreachable!() };
    /// let again = catch_unwind(AssertUnwindSafe(|| f.resume_unwind())).unwrap_err();
    /// assert_eq!(again.downcast_ref::<i32>(), Some(&7)); // the only handle: payload intact
    ///
    /// let f = Failure::from_error("bad input");
    /// let raised = catch_unwind(AssertUnwindSafe(|| f.resume_unwind())).unwrap_err();
    /// assert_eq!(raised.downcast_ref::<String>().unwrap(), "task failed: bad input");
    /// ```
    pub fn resume_unwind(self) -> ! {
        match self.into_panic_payload() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(f) => std::panic::resume_unwind(Box::new(f.to_string())),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.kind {
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
    /// The error's own source: the failure's message already includes the error's (`task
    /// failed: <error>`), so the error itself is not returned here (it would be reported twice);
    /// [`Failure::error`] reaches it. `None` for a panic or a broken promise.
    ///
    /// ```
    /// use futuretask::Failure;
    /// use std::error::Error;
    ///
    /// let f = Failure::from_error("bad"); // a message without a source
    /// assert_eq!(f.to_string(), "task failed: bad");
    /// assert!(f.source().is_none()); // "bad" is in the message, not repeated as a source
    /// assert_eq!(f.error().unwrap().to_string(), "bad");
    /// ```
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &*self.kind {
            Kind::Error(e) => e.source(),
            _ => None,
        }
    }
}

/// Why a task gave no value: the one error type of the crate (Java's `CancellationException`,
/// `ExecutionException`, `TimeoutException` and `InterruptedException`). `'static`, `Send + Sync`
/// and cheap to clone, so `?` carries it into `Box<dyn Error + Send + Sync>` or `anyhow::Error`.
///
/// [`get`](crate::FutureTask::get) never returns [`TimedOut`](Error::TimedOut); the timed waits
/// do. More variants may come: match with a `_` arm.
///
/// ```
/// use futuretask::{Error, FutureTask};
///
/// let cancelled = FutureTask::new(|| 1);
/// cancelled.cancel();
/// assert!(matches!(cancelled.get(), Err(Error::Cancelled)));
/// let failed = FutureTask::<u8, _>::pending();
/// failed.fail("bad").unwrap();
/// let err = failed.get().unwrap_err();
/// assert!(matches!(&err, Error::Failed(f) if f.error().is_some()));
/// assert_eq!(err.to_string(), "task failed: bad");
/// ```
///
/// With `?`, the value still comes back by reference:
///
/// ```
/// use futuretask::FutureTask;
/// use std::time::Duration;
///
/// fn lengths() -> Result<usize, Box<dyn std::error::Error + Send + Sync + 'static>> {
///     let task = FutureTask::new(|| String::from("four"));
///     task.run();
///     let s: &String = task.get()?; // borrowed from the task, not cloned
///     let again = task.get_timeout(Duration::from_secs(1))?;
///     Ok(s.len() + again.len())
/// }
/// assert_eq!(lengths().unwrap(), 8);
///
/// fn with_anyhow() -> anyhow::Result<usize> {
///     let task = FutureTask::<String, _>::pending();
///     task.set(String::from("abc")).unwrap();
///     let s: &String = task.get()?;
///     let t = task.get_timeout(Duration::ZERO)?;
///     Ok(s.len() + t.len())
/// }
/// assert_eq!(with_anyhow().unwrap(), 6);
///
/// fn cancelled_task() -> anyhow::Result<u8> {
///     let task = FutureTask::new(|| 1u8);
///     task.cancel();
///     Ok(*task.get_timeout(Duration::ZERO)?)
/// }
/// let e = cancelled_task().unwrap_err();
/// assert!(e.downcast_ref::<futuretask::Error>().unwrap().is_cancelled());
///
/// fn failed_task() -> anyhow::Result<u8> {
///     let task = FutureTask::<u8, _>::pending();
///     task.fail("bad").unwrap();
///     Ok(*task.get()?)
/// }
/// // The whole chain (`{:#}`) names the failure's message once.
/// assert_eq!(format!("{:#}", failed_task().unwrap_err()), "task failed: bad");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The task was cancelled before it completed.
    Cancelled,
    /// The task completed exceptionally; a clone of its [`Failure`]. Transparent: it displays
    /// as the failure and its [`source`](StdError::source) is the failure's.
    Failed(Failure),
    /// The deadline of a timed wait passed while the task was still pending.
    TimedOut,
    /// The *waiting* thread was interrupted: it is running a task's closure, and that task was
    /// cancelled with interrupt ([`cancel_and_interrupt`](crate::FutureTask::cancel_and_interrupt))
    /// while it waited (Java's `InterruptedException`). Says nothing about the awaited task,
    /// which is still pending. Only a wait that would block inside an interrupted run returns
    /// this; outside a task's closure it never happens.
    Interrupted,
}

impl Error {
    /// Whether the task was cancelled.
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let task = FutureTask::new(|| 1);
    /// task.cancel();
    /// assert!(task.get().unwrap_err().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled)
    }

    /// Whether a timed wait's deadline passed.
    ///
    /// ```
    /// use futuretask::FutureTask;
    /// use std::time::Duration;
    ///
    /// let task = FutureTask::new(|| 1);
    /// assert!(task.get_timeout(Duration::ZERO).unwrap_err().is_timed_out());
    /// ```
    pub fn is_timed_out(&self) -> bool {
        matches!(self, Error::TimedOut)
    }

    /// Whether the waiting thread's own run was cancelled with interrupt.
    ///
    /// ```
    /// use futuretask::{current, FutureTask};
    /// use std::{sync::mpsc, thread};
    ///
    /// let never = &FutureTask::<u8, _>::pending();
    /// let (tx, rx) = mpsc::channel();
    /// let outer = FutureTask::new(move || {
    ///     while !current::is_interrupted() {
    ///         thread::yield_now();
    ///     }
    ///     tx.send(never.get().map(drop)).unwrap(); // would block: interrupted instead
    /// });
    /// thread::scope(|s| {
    ///     s.spawn(|| outer.run());
    ///     while !outer.snapshot().started() {
    ///         thread::yield_now();
    ///     }
    ///     outer.cancel_and_interrupt();
    /// });
    /// assert!(rx.recv().unwrap().unwrap_err().is_interrupted());
    /// ```
    pub fn is_interrupted(&self) -> bool {
        matches!(self, Error::Interrupted)
    }

    /// The failure, if the task completed exceptionally.
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let task = FutureTask::<u8, _>::pending();
    /// task.fail("gone").unwrap();
    /// assert_eq!(task.get().unwrap_err().failure().unwrap().to_string(), "task failed: gone");
    /// ```
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Error::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// The failure, owned, if the task completed exceptionally.
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let task = FutureTask::new(|| -> u8 { panic!("boom") });
    /// task.run();
    /// let f = task.get().unwrap_err().into_failure().unwrap();
    /// assert_eq!(f.panic_message(), Some("boom"));
    /// ```
    pub fn into_failure(self) -> Option<Failure> {
        match self {
            Error::Failed(f) => Some(f),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Cancelled => f.write_str("task was cancelled"),
            Error::Failed(e) => fmt::Display::fmt(e, f),
            Error::TimedOut => f.write_str("timed out waiting for the task"),
            Error::Interrupted => f.write_str(
                "interrupted: the task this thread is running was cancelled with interrupt while \
                 it waited",
            ),
        }
    }
}

impl StdError for Error {
    /// [`Error::Failed`] is transparent over its [`Failure`]: it displays the failure's message
    /// and returns the failure's own source, so a chain names each message once. The other
    /// variants have no source.
    ///
    /// ```
    /// use futuretask::FutureTask;
    /// use std::error::Error;
    ///
    /// let task = FutureTask::<u8, _>::pending();
    /// task.fail("bad").unwrap();
    /// let e = task.get().unwrap_err();
    /// assert_eq!(e.to_string(), "task failed: bad");
    /// assert!(e.source().is_none()); // not the failure, whose message is this one
    ///
    /// // anyhow's `{:#}` prints the whole chain: the message appears exactly once
    /// let report = anyhow::Error::new(e);
    /// assert_eq!(format!("{report:#}"), "task failed: bad");
    /// assert_eq!(report.chain().count(), 1);
    /// ```
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Failed(f) => f.source(),
            _ => None,
        }
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Self {
        Error::Failed(f)
    }
}

/// The owned outcome of a finished task (for the last holder).
///
/// ```
/// use futuretask::{FutureTask, Outcome};
///
/// let ok = FutureTask::new(|| 1);
/// ok.run();
/// assert!(matches!(ok.into_outcome(), Some(Outcome::Success(1))));
/// let cancelled = FutureTask::new(|| 1);
/// cancelled.cancel();
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
    /// A published outcome: success or failure.
    pub(crate) fn from_result(r: Result<T, Failure>) -> Self {
        match r {
            Ok(v) => Outcome::Success(v),
            Err(f) => Outcome::Failed(f),
        }
    }

    /// `Ok(value)`, or the reason there is none ([`Error::Failed`] or [`Error::Cancelled`]).
    ///
    /// ```
    /// use futuretask::{Error, Outcome};
    ///
    /// assert_eq!(Outcome::Success(3).into_result().unwrap(), 3);
    /// let cancelled = Outcome::<u8>::Cancelled.into_result();
    /// assert!(matches!(cancelled, Err(Error::Cancelled)));
    /// ```
    pub fn into_result(self) -> Result<T, Error> {
        match self {
            Outcome::Success(v) => Ok(v),
            Outcome::Failed(f) => Err(Error::Failed(f)),
            Outcome::Cancelled => Err(Error::Cancelled),
        }
    }
}

/// A completion (`set`/`fail`) that lost: the task was already completed or cancelled. The value
/// is handed back, never silently dropped or overwritten.
///
/// ```
/// use futuretask::{FutureTask, State};
///
/// let task = FutureTask::<String, _>::pending();
/// task.cancel();
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
/// task.cancel_and_interrupt();
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
    /// never_ran.cancel();
    /// assert!(!never_ran.snapshot().started()); // cancelled before it ran: never will
    /// let ran = FutureTask::new(|| 1);
    /// ran.run();
    /// assert!(ran.snapshot().started());
    /// ```
    pub fn started(&self) -> bool {
        self.started
    }

    /// Whether the task was cancelled with interrupt (`cancel_and_interrupt`, `shutdown_now`), as
    /// opposed to a plain `cancel`. `false` for every state but [`State::Cancelled`].
    ///
    /// ```
    /// use futuretask::FutureTask;
    ///
    /// let plain = FutureTask::new(|| 1);
    /// plain.cancel();
    /// assert!(!plain.snapshot().interrupted());
    /// let interrupting = FutureTask::new(|| 1);
    /// interrupting.cancel_and_interrupt();
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
#[non_exhaustive]
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
