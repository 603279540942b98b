//! Error types, one per layer.
//!
//! The [`OnceMap`](crate::OnceMap) passes the caller's own error type through
//! ([`TryInitError::Failed`]) and reports problems of the waiting protocol itself as a
//! [`WaitError`]. The unzip layer has its own enum, `UnzipError`, whose variants name
//! the archive entry or path involved and carry the underlying source.

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
    #[error("the job failed: {0}")]
    Failed(JobError),
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
/// Cloning is cheap (one reference count). Recover the original error with
/// [`JobError::downcast_ref`].
#[derive(Clone)]
pub struct JobError(Arc<dyn SharedError>);

trait SharedError: Any + fmt::Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
}

impl<E: Any + fmt::Debug + Send + Sync> SharedError for E {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl JobError {
    pub(crate) fn new<E: fmt::Debug + Send + Sync + 'static>(error: E) -> Self {
        JobError(Arc::new(error))
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
    /// guard.fail("disk full");
    /// match waiter.wait() {
    ///     Err(WaitError::Failed(error)) => {
    ///         assert_eq!(error.downcast_ref::<&str>(), Some(&"disk full"))
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
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Why [`OnceMap::get_or_try_init`](crate::OnceMap::get_or_try_init) returned no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TryInitError<E> {
    /// The job failed with this error: either the caller's own job, or the job of the
    /// owner the caller waited for (a clone of its error).
    #[error("the job failed: {0:?}")]
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
