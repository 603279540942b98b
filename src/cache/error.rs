//! The cache's error: the id, the extraction (an [`UnzipError`], shared by every
//! caller that waited for it), the cache's own I/O, or the wait.

use std::sync::Arc;

use crate::once_map::WaitError;
use crate::unzip::UnzipError;

/// Why [`UnzipCache::unzip`](crate::UnzipCache::unzip) returned no directory.
///
/// Cheap to clone: every caller that waited for one failed extraction gets a clone of
/// the same error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The id is not a single safe path component (empty, starts with `.`, holds a
    /// separator or a control character, or is longer than 200 bytes).
    #[error(
        "invalid cache id {id:?}: it must be one path component of at most 200 bytes, not starting with '.', without '/', '\\' or control characters"
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
    /// Waiting for another thread's extraction of the id returned without a directory
    /// for a reason other than a failed extraction (which is [`CacheError::Unzip`]).
    /// The one way there: the progress callback, on the thread that owns the id's
    /// extraction, asked the cache for that same id, and got
    /// [`WaitError::WouldDeadlock`] instead of waiting for itself.
    #[error(transparent)]
    Wait(#[from] WaitError),
}

impl CacheError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        CacheError::Io {
            path: path.to_owned(),
            source: Arc::new(source),
        }
    }
}
