//! The OnceMap's errors: the waiting protocol's own ([`WaitError`]) and the job's,
//! passed through ([`TryInitError::Failed`], type-erased for waiters as [`JobError`]).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// Why a wait on a [`OnceMap`](crate::OnceMap) key returned without a value.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The job's owner went away (dropped its [`Guard`](crate::Guard), returned early
    /// or panicked) without publishing a value. The key is vacant again; a retry may
    /// become the new owner. [`OnceMap::get_or_init`](crate::OnceMap::get_or_init)
    /// retries on its own.
    #[error("the job's owner went away without publishing a value")]
    Abandoned,
    /// The job's owner reported this error through
    /// [`Guard::fail`](crate::Guard::fail). The key is vacant again: failures are not
    /// memoized.
    #[error("the job failed")]
    Failed(#[source] JobError),
    /// [`OnceMap::wait`](crate::OnceMap::wait) was asked for a key that nobody has
    /// registered (neither published nor in flight).
    #[error("no job is registered for this key")]
    Unregistered,
    /// Waiting would never return: the calling thread runs the job it would wait for,
    /// or waits for a job whose owner (through a chain of owners that are themselves
    /// waiting) waits for a job of the calling thread.
    #[error("waiting would deadlock: the job waits, directly or through other jobs, on the caller")]
    WouldDeadlock,
    /// The deadline of [`Waiter::wait_timeout`](crate::Waiter::wait_timeout) or
    /// [`Waiter::wait_deadline`](crate::Waiter::wait_deadline) passed first. The job
    /// is still running.
    #[error("timed out waiting for the job")]
    TimedOut,
    /// The map was closed with [`OnceMap::close`](crate::OnceMap::close) before a
    /// value was published for this key.
    #[error("the map was closed")]
    Closed,
}

/// The error a job reported, shared by every waiter of that job.
///
/// It stands for the job's own error: it displays as that error, and its
/// [`source`](std::error::Error::source) is that error's source (for an error given to
/// [`Guard::fail`](crate::Guard::fail)) or none (a message given to
/// [`Guard::fail_with_message`](crate::Guard::fail_with_message) or
/// [`OnceMap::get_or_try_init`](crate::OnceMap::get_or_try_init)). So an error-chain
/// printer shows each cause once.
///
/// Cloning is cheap (one reference count). Recover the original error with
/// [`JobError::downcast_ref`].
#[derive(Clone)]
pub struct JobError(Arc<dyn SharedError>);

/// The job's error, type-erased: what `JobError` needs of it.
trait SharedError: Any + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn display(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)>;
}

/// An error with a source chain.
struct Chained<E>(E);

impl<E: std::error::Error + Send + Sync + 'static> SharedError for Chained<E> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
    fn display(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A message: displayed, no source.
struct Message<M>(M);

impl<M: fmt::Display + fmt::Debug + Send + Sync + 'static> SharedError for Message<M> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
    fn display(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        None
    }
}

impl JobError {
    pub(crate) fn new<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        JobError(Arc::new(Chained(error)))
    }

    pub(crate) fn message<M: fmt::Display + fmt::Debug + Send + Sync + 'static>(
        message: M,
    ) -> Self {
        JobError(Arc::new(Message(message)))
    }

    /// The job's error, if it is of type `E`.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Entry, OnceMap, WaitError};
    ///
    /// let map: OnceMap<u32, u32> = OnceMap::new();
    /// let Entry::Vacant(guard) = map.entry(&1) else { unreachable!() };
    /// let Entry::Pending(waiter) = map.entry(&1) else { unreachable!() };
    /// guard.fail_with_message("disk full");
    /// match waiter.wait() {
    ///     Err(WaitError::Failed(error)) => {
    ///         assert_eq!(error.downcast_ref::<&str>(), Some(&"disk full"));
    ///         assert_eq!(error.to_string(), "disk full");
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn downcast_ref<E: 'static>(&self) -> Option<&E> {
        (*self.0).as_any().downcast_ref()
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(f)
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display(f)
    }
}

impl std::error::Error for JobError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Why [`OnceMap::get_or_try_init`](crate::OnceMap::get_or_try_init) returned no value.
///
/// Transparent: it displays as the job's error or the wait's, and its source is
/// theirs, so an error-chain printer shows nothing twice. It is a
/// [`std::error::Error`] when `E` is one; with a message type such as `String` it
/// still displays.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TryInitError<E> {
    /// The job failed with this error: either the caller's own job, or the job of the
    /// owner the caller waited for (a clone of its error).
    #[error(transparent)]
    Failed(E),
    /// The wait itself failed (deadlock, closed map, or the owner failed with an error
    /// of another type).
    #[error(transparent)]
    Wait(#[from] WaitError),
}

impl PartialEq for WaitError {
    /// Variants compare equal when they are the same variant; two `Failed` errors are
    /// equal when they share one job's error.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (WaitError::Failed(a), WaitError::Failed(b)) => Arc::ptr_eq(&a.0, &b.0),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Eq for WaitError {}
