//! The OnceMap's errors: the waiting protocol's own ([`WaitError`]) and the job's,
//! passed through ([`TryInitError::Failed`], type-erased for waiters as [`JobError`]).

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
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
/// [`Guard::fail_with_message`](crate::Guard::fail_with_message), or the error of a
/// job run by [`OnceMap::get_or_try_init`](crate::OnceMap::get_or_try_init), whose
/// type need not be an error). So an error-chain printer shows each cause once.
///
/// Cloning is cheap (one reference count): the job's error is allocated once, and
/// every waiter shares it; `get_or_try_init` callers get that same allocation as
/// [`TryInitError::Failed`]. Recover the original error with
/// [`JobError::downcast_ref`].
#[derive(Clone)]
pub struct JobError {
    /// The job's error itself, an `E`: the one allocation every holder shares.
    error: Arc<dyn Any + Send + Sync>,
    /// How to show it, chosen for its `E` when it was handed over.
    view: &'static View,
}

/// What a [`JobError`] does with its type-erased error: one set per error type and way
/// of showing it ([`ViewOf`]), so the error needs no wrapper and keeps its own
/// allocation (`get_or_try_init` hands out that very `Arc<E>`).
struct View {
    display: fn(&dyn Any, &mut fmt::Formatter<'_>) -> fmt::Result,
    debug: fn(&dyn Any, &mut fmt::Formatter<'_>) -> fmt::Result,
    source: fn(&dyn Any) -> Option<&(dyn std::error::Error + 'static)>,
}

/// The views of an error of type `E`, as constants (so a `JobError` points at one with
/// a `'static` reference).
struct ViewOf<E>(PhantomData<fn() -> E>);

impl<E: fmt::Display + fmt::Debug + 'static> ViewOf<E> {
    /// A message: displayed, no source.
    const MESSAGE: View = View {
        display: display::<E>,
        debug: debug::<E>,
        source: |_| None,
    };
}

impl<E: std::error::Error + 'static> ViewOf<E> {
    /// An error: displayed, with its own source chain.
    const ERROR: View = View {
        display: display::<E>,
        debug: debug::<E>,
        source: source::<E>,
    };
}

/// The error behind a `JobError`, as the type its view was made for.
fn typed<E: 'static>(error: &dyn Any) -> &E {
    match error.downcast_ref() {
        Some(error) => error,
        None => unreachable!("a JobError's view is made for the type of its error"),
    }
}

fn display<E: fmt::Display + 'static>(error: &dyn Any, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Display::fmt(typed::<E>(error), f)
}

fn debug<E: fmt::Debug + 'static>(error: &dyn Any, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Debug::fmt(typed::<E>(error), f)
}

fn source<E: std::error::Error + 'static>(
    error: &dyn Any,
) -> Option<&(dyn std::error::Error + 'static)> {
    typed::<E>(error).source()
}

impl JobError {
    /// An error with its source chain (`Guard::fail`).
    pub(crate) fn new<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        JobError {
            error: Arc::new(error),
            view: &ViewOf::<E>::ERROR,
        }
    }

    /// A message, shown without a source (`Guard::fail_with_message`).
    pub(crate) fn message<M: fmt::Display + fmt::Debug + Send + Sync + 'static>(
        message: M,
    ) -> Self {
        Self::shared(Arc::new(message))
    }

    /// An error someone else holds too, shared as it is (no copy) and shown as a
    /// message: `get_or_try_init`'s, whose `E` need not be a [`std::error::Error`].
    pub(crate) fn shared<E: fmt::Display + fmt::Debug + Send + Sync + 'static>(
        error: Arc<E>,
    ) -> Self {
        JobError {
            error,
            view: &ViewOf::<E>::MESSAGE,
        }
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
        (*self.error).downcast_ref()
    }

    /// The job's error itself, the allocation every holder shares, if it is of type
    /// `E`; otherwise `self` back.
    pub(crate) fn downcast<E: Send + Sync + 'static>(self) -> Result<Arc<E>, JobError> {
        let view = self.view;
        self.error
            .downcast()
            .map_err(|error| JobError { error, view })
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.view.debug)(&*self.error, f)
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.view.display)(&*self.error, f)
    }
}

impl std::error::Error for JobError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        (self.view.source)(&*self.error)
    }
}

/// Why [`OnceMap::get_or_try_init`](crate::OnceMap::get_or_try_init) returned no value.
///
/// The job's error arrives as [`Failed`](TryInitError::Failed), in an `Arc`: the owner
/// that ran the job and every caller that waited for it at that moment get the same
/// allocation (so `E` need not be `Clone`: an [`std::io::Error`] works as it is).
/// `TryInitError<E>` is `Clone` for every `E`, and `PartialEq` when `E` is (two
/// `Failed` compare their errors).
///
/// Transparent: it displays as the job's error or the wait's, and its source is
/// theirs, so an error-chain printer shows nothing twice. It is a
/// [`std::error::Error`] when `E` is one; with a message type such as `String` it
/// still displays.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use inflight::{OnceMap, TryInitError};
///
/// let map: OnceMap<String, u64> = OnceMap::new();
/// let error = map
///     .get_or_try_init("wheel", || Err(std::io::Error::other("mirror unreachable")))
///     .unwrap_err();
/// let TryInitError::Failed(io) = &error else { unreachable!() };
/// assert_eq!(io.kind(), std::io::ErrorKind::Other);
/// let copy = error.clone(); // no `io::Error::clone` needed: the `Arc` is shared
/// assert!(matches!(&copy, TryInitError::Failed(shared) if Arc::ptr_eq(shared, io)));
/// assert_eq!(error.to_string(), "mirror unreachable");
/// ```
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TryInitError<E> {
    /// The job failed with this error: either the caller's own job, or the job of the
    /// owner the caller waited for (the same `Arc`, shared).
    #[error(transparent)]
    Failed(Arc<E>),
    /// The wait itself failed (deadlock, closed map, or the owner failed with an error
    /// of another type).
    #[error(transparent)]
    Wait(#[from] WaitError),
}

// By hand: a derive would require `E: Clone`, and the point of the `Arc` is that it
// need not be.
impl<E> Clone for TryInitError<E> {
    fn clone(&self) -> Self {
        match self {
            TryInitError::Failed(error) => TryInitError::Failed(Arc::clone(error)),
            TryInitError::Wait(error) => TryInitError::Wait(error.clone()),
        }
    }
}

impl PartialEq for WaitError {
    /// Variants compare equal when they are the same variant; two `Failed` errors are
    /// equal when they share one job's error.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (WaitError::Failed(a), WaitError::Failed(b)) => Arc::ptr_eq(&a.error, &b.error),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Eq for WaitError {}
