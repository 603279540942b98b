//! The caches' errors: [`DiskCacheError`] (the id, the build's own error shared by every
//! caller that waited for it, the file system layer, the wait) and [`CacheError`],
//! its reading for [`UnzipCache`](crate::UnzipCache), whose build is an extraction.

use std::fmt;
use std::sync::Arc;

use crate::fs::FsError;
use crate::once_map::WaitError;
use crate::unzip::UnzipError;

/// Why a [`DiskCache`](crate::DiskCache) request returned no entry. `E` is the build's
/// error type.
///
/// Cheap to clone for any `E` (the build's error is in an `Arc`): every caller that
/// waited for one failed build gets the same error.
#[non_exhaustive]
pub enum DiskCacheError<E = std::convert::Infallible> {
    /// The id is not one the cache accepts (see [`DiskCache`](crate::DiskCache#ids)).
    InvalidId {
        /// The id as given.
        id: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The build failed with this error: this request's own build, or the build of the
    /// thread it waited for (the very same error, shared). Not memoized: the next
    /// request builds again.
    Build(Arc<E>),
    /// The file system layer failed or refused: the root or a lock file could not be
    /// made or locked, another process held the id's lock past the timeout
    /// ([`FsError::LockTimeout`]), a link or a foreign file is where the entry should
    /// be ([`FsError::UnexpectedType`]: never followed), or the staging entry was
    /// replaced while it was filled ([`FsError::Replaced`]: nothing published).
    Fs(FsError),
    /// Waiting for another thread's build of the id failed for a reason other than a
    /// failed build: the build asked the cache for its own id (directly, or through
    /// other builds waiting on each other), which would never return
    /// ([`WaitError::WouldDeadlock`]), or the thread it waited for failed with an error
    /// of another type.
    Wait(WaitError),
}

impl<E> DiskCacheError<E> {
    /// Whether this is [`FsError::LockTimeout`]: another process held the id's lock
    /// for longer than [`DiskCache::lock_timeout`](crate::DiskCache::lock_timeout).
    pub fn is_lock_timeout(&self) -> bool {
        matches!(self, DiskCacheError::Fs(FsError::LockTimeout { .. }))
    }
}

impl<E> Clone for DiskCacheError<E> {
    fn clone(&self) -> Self {
        match self {
            DiskCacheError::InvalidId { id, reason } => DiskCacheError::InvalidId {
                id: id.clone(),
                reason,
            },
            DiskCacheError::Build(error) => DiskCacheError::Build(Arc::clone(error)),
            DiskCacheError::Fs(error) => DiskCacheError::Fs(error.clone()),
            DiskCacheError::Wait(error) => DiskCacheError::Wait(error.clone()),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for DiskCacheError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskCacheError::InvalidId { id, reason } => f
                .debug_struct("InvalidId")
                .field("id", id)
                .field("reason", reason)
                .finish(),
            DiskCacheError::Build(error) => f.debug_tuple("Build").field(error).finish(),
            DiskCacheError::Fs(error) => f.debug_tuple("Fs").field(error).finish(),
            DiskCacheError::Wait(error) => f.debug_tuple("Wait").field(error).finish(),
        }
    }
}

/// Transparent over the build's, the layer's and the wait's errors: it displays as
/// they do, and its [`source`](std::error::Error::source) is theirs, so an error-chain
/// printer shows each cause once.
impl<E: fmt::Display> fmt::Display for DiskCacheError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskCacheError::InvalidId { id, reason } => {
                write!(f, "invalid cache id {id:?}: {reason}")
            }
            DiskCacheError::Build(error) => error.fmt(f),
            DiskCacheError::Fs(error) => error.fmt(f),
            DiskCacheError::Wait(error) => error.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for DiskCacheError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DiskCacheError::InvalidId { .. } => None,
            DiskCacheError::Build(error) => error.source(),
            DiskCacheError::Fs(error) => error.source(),
            DiskCacheError::Wait(error) => error.source(),
        }
    }
}

impl<E> From<FsError> for DiskCacheError<E> {
    fn from(error: FsError) -> Self {
        DiskCacheError::Fs(error)
    }
}

/// Why [`UnzipCache::unzip`](crate::UnzipCache::unzip) returned no directory.
///
/// Cheap to clone: every caller that waited for one failed extraction gets a clone of
/// the same error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The id is not one the cache accepts (see [`DiskCache`](crate::DiskCache#ids)).
    #[error(
        "invalid cache id {id:?}: it must be one portable path component (see DiskCache's id rules)"
    )]
    InvalidId {
        /// The id as given.
        id: String,
    },
    /// The extraction failed. Not memoized: the next call tries again.
    #[error(transparent)]
    Unzip(Arc<UnzipError>),
    /// The cache root or a lock file could not be created or locked.
    #[error("cache I/O on {path}")]
    Io {
        /// The path involved.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The file system layer refused: a link or foreign file where the entry should
    /// be, a staging directory replaced while it was filled, or another process held
    /// the id's lock past the timeout ([`FsError::LockTimeout`]).
    #[error(transparent)]
    Fs(FsError),
    /// Waiting for another thread's extraction of the id returned without a directory
    /// for a reason other than a failed extraction (which is [`CacheError::Unzip`]).
    /// The one way there: code running on the thread that owns the id's extraction
    /// (the progress callback, a stream's opener or its `Read`) asked this cache, or
    /// another on the same root, for that same id, and got
    /// [`WaitError::WouldDeadlock`] instead of waiting for itself.
    #[error(transparent)]
    Wait(#[from] WaitError),
}

impl From<DiskCacheError<UnzipError>> for CacheError {
    fn from(error: DiskCacheError<UnzipError>) -> Self {
        match error {
            DiskCacheError::InvalidId { id, .. } => CacheError::InvalidId { id },
            DiskCacheError::Build(error) => CacheError::Unzip(error),
            DiskCacheError::Fs(FsError::Io { path, source, .. }) => CacheError::Io { path, source },
            DiskCacheError::Fs(error) => CacheError::Fs(error),
            DiskCacheError::Wait(error) => CacheError::Wait(error),
        }
    }
}
