//! The file system layer's error: the path involved and what went wrong there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why an operation of the file system layer (staging, locking, publishing, removing)
/// failed. Every variant names the path involved.
///
/// Cheap to clone (the I/O error is in an `Arc`): every caller waiting for one failed
/// build gets a clone.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    /// A system call failed.
    #[error("cannot {op} {path}")]
    Io {
        /// What was being done: `"create directory"`, `"lock"`, `"rename"`, ...
        op: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// Something other than what the layer created, or expected, is at a path it
    /// owns: a symbolic link where a directory, file or lock file should be, or a
    /// directory where a file should be. It is never followed or used; the request
    /// fails instead, and the thing is left alone for a person to look at.
    #[error("{path} is a {found}, not the {expected} this cache expects there")]
    UnexpectedType {
        /// The path.
        path: PathBuf,
        /// What is there: `"symbolic link"`, `"directory"`, `"file"`, `"FIFO"`, ...
        found: &'static str,
        /// What should be there.
        expected: &'static str,
    },
    /// The staging directory or file was replaced by something else (another
    /// directory, a symbolic link) while it was being filled: nothing was published.
    #[error("{path} was replaced while it was being filled; nothing was published")]
    Replaced {
        /// The staging path.
        path: PathBuf,
    },
    /// Another process held the lock for longer than the timeout allows.
    #[error("waited {waited:?} for the lock {path}, held by another process")]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long this request waited.
        waited: Duration,
    },
    /// The destination exists already: another process or thread published it first,
    /// or it was there before. It is left as it is.
    #[error("{path} exists")]
    Exists {
        /// The destination.
        path: PathBuf,
    },
}

impl FsError {
    /// An [`FsError::Io`] for `map_err`: `.map_err(FsError::io("rename", &path))`.
    pub(crate) fn io(
        op: &'static str,
        path: &Path,
    ) -> impl FnOnce(std::io::Error) -> FsError + use<> {
        let path = path.to_owned();
        move |source| FsError::Io {
            op,
            path,
            source: Arc::new(source),
        }
    }
}
