//! inflight: run a keyed job once while it is in flight, and unzip archives into a
//! shared cache exactly once.
//!
//! (The OnceMap's half of these docs lives on its own branch; this is the unzip half.)
//!
//! # Unzipping: [`Unzipper`]
//!
//! ```no_run
//! use inflight::{Limits, Progress, Unzipper};
//! # fn main() -> Result<(), inflight::UnzipError> {
//! let unzipper = Unzipper::new()                 // Send + Sync + Clone + Debug
//!     .limits(Limits::default())                // checked before anything is written
//!     .progress(|p: Progress| { let _ = p.files_done; }); // the library never prints
//! let done = unzipper.unzip("numpy.whl".as_ref(), "cache/numpy".as_ref())?; // blocks
//! println!("{} files, {} dirs, {} bytes in {}", done.files, done.dirs, done.bytes, done.dest.display());
//! # Ok(())
//! # }
//! ```
//!
//! [`Unzipper::unzip`] blocks the calling thread until the archive is extracted or
//! rejected; the writing happens on rayon's global pool (or the pool given to
//! [`Unzipper::thread_pool`]). Building an `Unzipper` never blocks.
//!
//! ## Guarantees
//!
//! 1. **Validate first.** One single-threaded pass reads the central directory and
//!    every local header and rejects the archive, with an [`UnzipError`] variant
//!    naming the entry, before a single byte is written:
//!
//!    | rejection                                   | variant                                  |
//!    |---------------------------------------------|------------------------------------------|
//!    | absolute path `/x`                          | [`UnzipError::AbsolutePath`]             |
//!    | drive or UNC prefix `C:`, `\\srv`, `//srv`  | [`UnzipError::PathPrefix`]               |
//!    | `..` escaping the destination               | [`UnzipError::ParentEscape`]             |
//!    | backslash                                   | [`UnzipError::Backslash`]                |
//!    | NUL or control character                    | [`UnzipError::ControlCharacter`]         |
//!    | empty or `.`-only name                      | [`UnzipError::EmptyName`]                |
//!    | name flagged UTF-8 that is not              | [`UnzipError::NameNotUtf8`]              |
//!    | two entries with one path                   | [`UnzipError::DuplicateName`]            |
//!    | a path both file and directory              | [`UnzipError::FileDirectoryConflict`]    |
//!    | symbolic link                               | [`UnzipError::Symlink`]                  |
//!    | device, FIFO, socket                        | [`UnzipError::SpecialFile`]              |
//!    | encryption                                  | [`UnzipError::Encrypted`]                |
//!    | method other than stored or deflate         | [`UnzipError::UnsupportedMethod`]        |
//!    | stored entry with two different sizes       | [`UnzipError::StoredSizeMismatch`]       |
//!    | local header disagrees (name, method, flags, CRC, sizes) or is missing | [`UnzipError::LocalHeaderMismatch`] |
//!    | entries sharing bytes (overlap, quoting)    | [`UnzipError::OverlappingEntries`]       |
//!    | entry past the data area (truncated/forged) | [`UnzipError::EntryOutOfBounds`]         |
//!    | no readable central directory               | [`UnzipError::CentralDirectory`]         |
//!    | [`Limits`]: entries, entry size, total size, ratio, name length, depth | [`UnzipError::TooManyEntries`], [`UnzipError::EntryTooLarge`], [`UnzipError::TotalTooLarge`], [`UnzipError::CompressionRatio`], [`UnzipError::NameTooLong`], [`UnzipError::TooDeep`] |
//!
//!    Nothing is ever allocated from a size the archive declares.
//! 2. **Write strictly.** Directories are created first, then files in parallel,
//!    each with create-new semantics (never following or overwriting anything).
//!    Output per entry stops at its declared size ([`UnzipError::ExceedsDeclaredSize`])
//!    and is checked against it ([`UnzipError::SizeMismatch`]) and its CRC-32
//!    ([`UnzipError::CrcMismatch`]); bad deflate data is [`UnzipError::CorruptData`].
//!    If several entries fail, the error is the lowest entry index's, independent of
//!    thread timing. Files get 0o755 if their Unix mode has any execute bit and
//!    0o644 otherwise, directories 0o755, whatever the process umask; setuid, setgid
//!    and sticky bits are never applied.
//! 3. **Publish atomically.** Everything is written into a hidden staging directory
//!    next to `dest` and renamed to `dest` only on success. On any error or panic
//!    (in a worker or in the progress callback) the staging directory is removed and
//!    `dest` does not exist. `dest` must not exist beforehand; if another process
//!    publishes it first, [`UnzipError::DestinationExists`] is returned and its
//!    directory is left alone (a cache may count that as success).
//!
//! ## Compared with the alternatives
//!
//! - `zip::ZipArchive::extract` is sequential and writes straight into the target
//!   directory, so a failure half-way leaves a partial tree for the next reader.
//! - Extracting with `par_iter` and one `ZipArchive` per task re-parses the central
//!   directory per task and calls `create_dir_all` per file; it is rarely faster than
//!   a serial loop on small files (see `benches/unzip.rs`).
//! - `Unzipper` pays one extra `pread` per entry to check local headers, and in
//!   return refuses the archives that make two tools disagree.
#![forbid(unsafe_code)]

// `JobError::new` is only called by the OnceMap, which lives on another branch.
#[allow(dead_code)]
mod error;
mod unzip;

// The OnceMap branch adds the map itself; these re-exports make its error types
// reachable (and so not `unreachable_pub`) on this branch too.
pub use error::{JobError, TryInitError, UnzipError, WaitError};
pub use unzip::{Extracted, Limits, Progress, Unzipper};
