//! The file system layer: staging, publishing, cross-process locks and the removal of
//! what dead processes left, never following a symbolic link.
//!
//! Everything the crate writes goes through here: the [`Unzipper`](crate::Unzipper)'s
//! staging directory and its files, and the [`DiskCache`](crate::DiskCache)'s entries
//! and locks. One rule holds at every step: **a link inside a directory the layer
//! works in is never followed.** Every call is made relative to an open directory
//! ([`Dir`]) with no-follow flags where the platform has them (Linux and macOS, see
//! `unix.rs`) and checks where it does not (Windows, see `windows.rs`). What a caller
//! names as a root or a destination's parent is resolved as given: choosing that path
//! is the caller's business, what lies inside it is ours.
//!
//! | file          | concept                                                              |
//! |---------------|----------------------------------------------------------------------|
//! | `unix.rs`, `windows.rs` | [`Dir`]: an open directory and the calls relative to it    |
//! | `space.rs`    | [`Space`](space::Space): the operations the protocols need (real or simulated)      |
//! | `lock.rs`     | lock files that are removed when released, without two holders       |
//! | `slots.rs`    | staging slots beside a destination, and the sweep of dead ones        |
//! | `entry.rs`    | `root/<id>` built once across processes (the [`DiskCache`](crate::DiskCache) protocol) |
//! | `staging.rs`  | [`Staging`]: a directory or file being filled, published or removed   |
//! | `error.rs`    | [`FsError`]                                                          |
//!
//! The protocols (`lock`, `slots`, `entry`) are generic over [`Space`](space::Space), so the shuttle
//! models in `shuttle-tests/` check the code that ships, over a simulated directory in
//! which processes die between any two calls (`cfg(shuttle)` exposes them as
//! `inflight::model`).

pub(crate) mod entry;
mod error;
pub(crate) mod lock;
pub(crate) mod slots;
pub(crate) mod space;
mod staging;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use self::unix::Dir;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use self::windows::Dir;

pub use self::error::FsError;
pub(crate) use self::staging::Staging;

/// What is at a name in a [`Dir`], without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    Missing,
    Dir,
    File,
    /// A symbolic link (or, on Windows, a junction).
    Symlink,
    /// A FIFO, socket or device: what it is.
    Other(&'static str),
}
