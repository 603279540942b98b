//! inflight (skeleton)
#![forbid(unsafe_code)]

// `JobError::new` is only called by the OnceMap, which lives on another branch.
#[allow(dead_code)]
mod error;
mod unzip;

// The OnceMap branch adds the map itself; these re-exports make its error types
// reachable (and so not `unreachable_pub`) on this branch too.
pub use error::{JobError, TryInitError, UnzipError, WaitError};
pub use unzip::{Extracted, Limits, Progress, Unzipper};
