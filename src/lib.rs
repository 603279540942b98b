//! Run a keyed job once while it is in flight, and unzip archives into a shared cache
//! exactly once.
//!
//! A package installer runs many jobs on many threads, and two of them ask for the same
//! archive, the same metadata, the same build at the same moment. `inflight` makes the
//! second caller wait for the first one's result instead of doing the work again, and
//! makes sure nobody waits forever when the first one fails, panics or re-enters.
//!
//! # API sketch
//!
//! ```text
//! OnceMap<K, V, S = FxBuildHasher>
//!     get(&Q) -> Option<V>                                  never blocks
//!     entry(&Q) -> Entry { Ready(V) | Pending(Waiter) | Vacant(Guard) | Closed }
//!                                                           never blocks
//!     get_or_try_init(&Q, FnOnce() -> Result<V, E>) -> Result<V, TryInitError<E>>
//!                                                           blocks on a job in flight
//!     get_or_init(&Q, FnOnce() -> V) -> Result<V, WaitError>  the same, with E = Infallible
//!     wait(&Q) -> Result<V, WaitError>                      the same lookup; never starts a job
//!     remove(&Q) -> Option<V>                               never blocks
//!     close()                                               never blocks; wakes every waiter
//!     in_flight() -> Vec<InFlight<K>>                       never blocks
//! Guard::complete(V) | Guard::fail(E: Error) | Guard::fail_with_message(M) | drop(Guard) = abandon
//! Waiter::wait() | wait_timeout(Duration) | wait_deadline(Instant)
//! TryInitError<E> { Failed(Arc<E>) | Wait(WaitError) }    E: Display + Debug + Send + Sync,
//!                                                           shared, never cloned
//! ```
//!
//! "Never blocks" means the call takes the map's one mutex for a few hash-map
//! operations and never waits for a job.
//!
//! # Guarantees
//!
//! - **Once while in flight.** For a key, at most one job runs at a time; callers that
//!   arrive while it runs wait for it and get a clone of its value.
//! - **No waiter hangs because an owner went away.** The owner's [`Guard`] settles the
//!   key on every path: `complete` publishes, `fail` hands the error to the current
//!   waiters and makes the key vacant, and dropping the guard (early return, `?`,
//!   panic) wakes every waiter with [`WaitError::Abandoned`];
//!   [`OnceMap::get_or_init`] callers then retry and one of them becomes the owner.
//! - **Failures are shared, not memoized.** A failed job's error is allocated once, in
//!   an `Arc`: its owner and the callers waiting at that moment get that same `Arc<E>`
//!   ([`TryInitError::Failed`]) or a [`JobError`] over it, never a copy, so `E` need
//!   not be `Clone`. The next call after a failure runs the job again. Store a
//!   `Result` as `V` to memoize failures.
//! - **Re-entry and wait cycles are errors, not hangs.** A thread that waits for a job
//!   it runs itself, or closes a cycle of owners waiting for each other's jobs
//!   (A waits on B, B waits on A, or longer), gets [`WaitError::WouldDeadlock`] at
//!   once. Cycles that pass through something the map cannot see (a second map, a
//!   lock, a channel, a thread join) cannot be detected.
//! - **Per-key wake-ups.** Each job someone waits for has its own condvar: settling
//!   key A wakes only A's waiters, all at once.
//! - **What runs under the lock** (the map's one mutex): the keys' `Eq`, `ToOwned` on
//!   first insertion, `V::clone` on a hit and once for the waiters of a job that
//!   completes, and `K::clone` in `in_flight`; a key's `Hash` runs before the lock is
//!   taken. So `V::clone` must be cheap (an `Arc`) and must not use the same map. A
//!   panic in any of these leaves the map unlocked and unchanged (the waiters' copy
//!   abandons its job first, so nobody is stranded). Each waiter clones its own copy
//!   under its job's lock, not the map's. Job closures and drops of keys, values and
//!   errors run unlocked.
//! - **A broken key breaks only itself.** Entries keep their hash; the map never
//!   hashes a stored key again. A key whose `Hash` changes after insertion only makes
//!   its own lookups miss.
//! - **A leaked [`Guard`]** (`mem::forget`) never settles its job, like a leaked
//!   `MutexGuard`: its waiters block until [`OnceMap::close`] or their deadline;
//!   [`OnceMap::in_flight`] shows when its owner thread has exited.
//!
//! # Compared with the alternatives
//!
//! - `std::sync::OnceLock` / `once_cell`: one value, not a map; a panicking
//!   initializer lets the next caller retry, but there is no error sharing, no
//!   cancellation and no deadlock detection (re-entrant init deadlocks or panics).
//! - `Mutex<HashMap<K, Arc<OnceLock<V>>>>`: the usual hand-rolled single-flight map;
//!   failures cannot be shared with the waiters, and a job that waits on its own key
//!   hangs.
//! - uv's `once-map` (async, dashmap + `Notify`): waiters of an owner that is dropped
//!   or panics wait forever; no error sharing, no deadlock detection.
//! - Go's `singleflight`: shares errors, but a panicking function leaves the waiters
//!   with a panic, and re-entry deadlocks.
//!
//! # Model-checked
//!
//! Every arrow of the slot state machine, close and the cycle detection have loom
//! models in `loom-tests/` that explore all interleavings of the exact code that ships
//! (`src/sync.rs` swaps in loom's primitives under `--cfg loom`).
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
//! rejected. The calling thread writes files itself and spawns helpers on the current
//! rayon pool (or the pool given to [`Unzipper::thread_pool`]) that take files from
//! the same list; it never runs other queued jobs and never waits for a helper that
//! has not started, so it is safe to call from any thread, rayon's included. Building
//! an `Unzipper` never blocks.
//!
//! ## Guarantees
//!
//! 1. **Validate first.** One single-threaded pass reads the end records, the
//!    central directory, every local header and data descriptor, and rejects the
//!    archive, with an [`UnzipError`] variant naming the entry or the structure,
//!    before a single byte is written. The rule: accept an archive only when every
//!    mainstream reader (CPython's `zipfile`, the zip crate, Info-ZIP, libarchive,
//!    and a streaming reader walking local headers from offset 0) would extract the
//!    same files with the same bytes. So every byte of the file belongs to exactly one
//!    thing: an entry (local header, data, data descriptor), the central directory,
//!    the (zip64) end records, or the comment, which ends the file:
//!
//!    | rejection                                   | variant                                  |
//!    |---------------------------------------------|------------------------------------------|
//!    | absolute path `/x`                          | [`UnzipError::AbsolutePath`]             |
//!    | drive or UNC prefix `C:`, `\\srv`, `//srv`  | [`UnzipError::PathPrefix`]               |
//!    | `..` escaping the destination               | [`UnzipError::ParentEscape`]             |
//!    | `..` staying inside, or a final `.` (CPython drops them, others resolve them) | [`UnzipError::DotComponent`] |
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
//!    | data descriptor (flag bit 3) disagrees with the central directory | [`UnzipError::DataDescriptorMismatch`] |
//!    | directory entry (`d/`) with a size, CRC or bytes other than one empty stream | [`UnzipError::DirectoryWithData`] |
//!    | directory by Unix mode or DOS attribute, but no trailing `/` | [`UnzipError::DirectoryWithoutSlash`] |
//!    | path component over 255 bytes               | [`UnzipError::ComponentTooLong`]         |
//!    | path over `PATH_MAX` under the destination  | [`UnzipError::PathTooLong`]              |
//!    | Windows: device name, trailing dot or space, `< > : " \| ? *` | [`UnzipError::ReservedName`], [`UnzipError::TrailingDotOrSpace`], [`UnzipError::ForbiddenCharacter`] |
//!    | Windows, macOS: two paths equal ignoring case | [`UnzipError::CaseCollision`] |
//!    | macOS: two paths equal under Unicode normalization | [`UnzipError::NormalizationCollision`] |
//!    | entries sharing bytes (overlap, quoting)    | [`UnzipError::OverlappingEntries`]       |
//!    | entry past the data area (truncated/forged) | [`UnzipError::EntryOutOfBounds`]         |
//!    | local entry the central directory does not list | [`UnzipError::UnlistedEntry`]        |
//!    | bytes between entries that no entry owns    | [`UnzipError::UnlistedBytes`]            |
//!    | bytes before the archive (self-extracting stub, prepended data) | [`UnzipError::Prefix`] |
//!    | end record counts differ from the records in the central directory | [`UnzipError::EntryCountMismatch`] |
//!    | junk inside the central directory, or a record past its declared size | [`UnzipError::CentralDirectoryJunk`] |
//!    | central directory running into the end records | [`UnzipError::CentralDirectoryExtent`] |
//!    | bytes after the comment, or a comment cut short | [`UnzipError::CommentNotAtEnd`]      |
//!    | a record signature in the comment (a second end record or archive) | [`UnzipError::SignatureInComment`] |
//!    | zip64 end record or locator inconsistent (extensible data, elsewhere, other values), multi-disk | [`UnzipError::EndRecordMismatch`] |
//!    | no end record at all (not a zip, or cut short), or an unreadable central directory | [`UnzipError::CentralDirectory`] |
//!    | [`Limits`]: entries, entry size, total size, ratio, name length, depth | [`UnzipError::TooManyEntries`], [`UnzipError::EntryTooLarge`], [`UnzipError::TotalTooLarge`], [`UnzipError::CompressionRatio`], [`UnzipError::NameTooLong`], [`UnzipError::TooDeep`] |
//!
//!    Nothing is ever allocated from a size the archive declares.
//! 2. **Write strictly.** Directories are created first, then files in parallel,
//!    each with create-new semantics (never following or overwriting anything).
//!    Output per entry stops at its declared size ([`UnzipError::ExceedsDeclaredSize`])
//!    and is checked against it ([`UnzipError::SizeMismatch`]) and its CRC-32
//!    ([`UnzipError::CrcMismatch`]); bad deflate data is [`UnzipError::CorruptData`],
//!    and bytes after the end of an entry's stream, inside its compressed size, are
//!    [`UnzipError::TrailingData`] (a streaming reader would take them for the next
//!    records). With the `libdeflate` feature, deflated entries of up to
//!    [`Unzipper::in_memory_limit`] bytes (32 MiB by default) are inflated in memory
//!    in one call (inflation 1.2-1.5x as fast), with the same checks and errors; the
//!    buffers are bounded by that limit, never by what an archive declares.
//!    If several entries fail, the error is the lowest entry index's, independent of
//!    thread timing. Files get 0o755 if their Unix mode has any execute bit and
//!    0o644 otherwise, directories 0o755, whatever the process umask; setuid, setgid
//!    and sticky bits are never applied.
//! 3. **Publish atomically.** Everything is written into a hidden staging directory
//!    next to `dest` and renamed to `dest` only on success. On any error or panic
//!    (in a worker or in the progress callback) the staging directory is removed and
//!    `dest` does not exist. `dest` must not exist beforehand; if another process
//!    publishes it first, [`UnzipError::DestinationExists`] is returned and its
//!    directory is left alone (a cache may count that as success). A staging
//!    directory left by a process that was killed is removed by the next extraction
//!    of the same `dest`; a live one is never touched (each is guarded by an
//!    advisory lock its process holds).
//! 4. **Durable on request.** With [`Unzipper::durable`], every file and directory
//!    is flushed to the device before the rename, so a power cut leaves no `dest` or
//!    a complete one. Off by default: it costs a flush per file.
//!
//! An archive path that is not a regular file (a directory, a FIFO, a device) is
//! refused with [`UnzipError::NotAFile`] before a byte is read.
//!
//! ## Compared with the alternatives
//!
//! - `zip::ZipArchive::extract` is sequential and writes straight into the target
//!   directory, so a failure half-way leaves a partial tree for the next reader.
//! - Extracting with `par_iter` and one `ZipArchive` per task re-parses the central
//!   directory per task and calls `create_dir_all` per file; `Unzipper` is 1.2x to
//!   1.6x faster than that on the three shapes of `benches/unzip.rs`.
//! - `Unzipper` pays one extra `pread` per entry to check local headers, and in
//!   return refuses the archives that make two tools disagree.
//!
//! # Caching: [`UnzipCache`]
//!
//! [`UnzipCache::unzip`]`(archive, id)` joins the two: it returns `root/<id>`,
//! extracting at most once. Concurrent callers in one process share one extraction
//! through a [`OnceMap`] and get the same path or the same error; a second process
//! waits on an advisory lock file and then finds the directory complete; an id
//! already on disk is returned without extracting; a failure is not memoized. It
//! blocks while the archive is extracted (by this thread or another).
#![forbid(unsafe_code)]

mod assertions;
mod cache;
mod once_map;
mod sync;
mod unzip;

pub use cache::{CacheError, CacheStats, UnzipCache};
pub use once_map::{Entry, Guard, InFlight, JobError, OnceMap, TryInitError, WaitError, Waiter};
pub use unzip::{Extracted, Limits, Progress, UnzipError, Unzipper};

/// The README's examples, compiled and run as doc tests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
