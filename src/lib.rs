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
//! let done = unzipper.unzip("numpy.whl", "cache/numpy")?; // blocks
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
//!    | name with bytes over 0x7F but no UTF-8 flag (CPython decodes CP437, Info-ZIP and libarchive write the bytes) | [`UnzipError::AmbiguousEncoding`] |
//!    | a Unicode Path extra field (0x7075) naming anything but the raw name, in either header (Info-ZIP takes the central one, libarchive the local one) | [`UnzipError::SecondName`] |
//!    | two entries with one path                   | [`UnzipError::DuplicateName`]            |
//!    | a path both file and directory              | [`UnzipError::FileDirectoryConflict`]    |
//!    | symbolic link (Unix mode, host Unix)        | [`UnzipError::Symlink`]                  |
//!    | device, FIFO, socket (Unix mode, host Unix) | [`UnzipError::SpecialFile`]              |
//!    | a link or special Unix mode under any other host byte (Info-ZIP makes links under hosts 0, 2, 5, 16, 30), a DOS volume label (Info-ZIP skips it), a type from libarchive's `xl` or ASi's Unix field | [`UnzipError::AmbiguousType`] |
//!    | an extra field some reader acts on that disagrees with the raw fields it overrides, appears twice, or an extra area that does not parse (table below) | [`UnzipError::ExtraFieldMismatch`] |
//!    | encryption                                  | [`UnzipError::Encrypted`]                |
//!    | method other than stored or deflate         | [`UnzipError::UnsupportedMethod`]        |
//!    | stored entry with two different sizes       | [`UnzipError::StoredSizeMismatch`]       |
//!    | local header disagrees (name, method, flags, CRC, sizes) or is missing | [`UnzipError::LocalHeaderMismatch`] |
//!    | data descriptor (flag bit 3) disagrees with the central directory | [`UnzipError::DataDescriptorMismatch`] |
//!    | data descriptor after stored or zstd data, or after no compressed bytes at all, whose end only the central directory knows | [`UnzipError::EntryEndUnknown`] |
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
//!    | records (everything but the files' data) over 256 MiB together, which a streaming extraction would have to keep | [`UnzipError::RecordsTooLarge`] |
//!    | [`Limits`]: files and directories created (implied ones included), entry size, total size, ratio, name length, depth | [`UnzipError::TooManyEntries`], [`UnzipError::EntryTooLarge`], [`UnzipError::TotalTooLarge`], [`UnzipError::CompressionRatio`], [`UnzipError::NameTooLong`], [`UnzipError::TooDeep`] |
//!
//!    Nothing is ever allocated from a size the archive declares, and the plan's
//!    memory is at most 16 times the central directory's size plus 1 MiB, whatever
//!    the names (20 times on Windows and macOS; `src/unzip/plan.rs` argues it,
//!    `tests/plan_memory.rs` measures it).
//!
//!    The raw fields of every header are read by the plan itself, and the extra
//!    fields that some reader acts on are held to them (`src/unzip/format/extra.rs`):
//!
//!    | id | field | which readers act on it | what inflight does |
//!    |---|---|---|---|
//!    | `0x0001` | zip64 extended information: sizes, offset | all, in the central header; Info-ZIP, libarchive and streaming readers in the local one | at most one per header; must hold every saturated 32-bit value, in APPNOTE's order; a local one may not extend one size alone (Java reads sizes at fixed places, Info-ZIP and libarchive in order); its values must match the other header's, else [`UnzipError::ExtraFieldMismatch`] or [`UnzipError::LocalHeaderMismatch`] |
//!    | `0x7075` | Info-ZIP Unicode Path: a second name | Info-ZIP (central, version 1, CRC of the raw name), libarchive (local, CRC, any version), the zip crate (CRC, any version), CPython 3.12+ (central) | must repeat the raw name byte for byte, whatever its version and CRC ([`UnzipError::SecondName`]); not in an archive with a 4-byte data descriptor (Info-ZIP 6.0 then reads descriptors as 8-byte ones and stops) |
//!    | `0x6c78` | libarchive `xl`: host, external attributes (type, mode) | libarchive, both headers | must give the central record's host and external attributes ([`UnzipError::AmbiguousType`] for a link or special file, else [`UnzipError::ExtraFieldMismatch`]) |
//!    | `0x756e` | ASi Unix: mode (type) | Info-ZIP, when the external attributes hold no mode | must give the central Unix mode (same variants) |
//!    | `0x9901` | WinZip AES: the real method | the zip crate, libarchive | refused: AES entries are refused, and elsewhere the field contradicts the method |
//!    | `0x4341` | Acorn SparkFS: a file type | Info-ZIP with `-F` appends it to the name | refused: a second name |
//!    | `0x5455`, `0x5855`, `0x7855`, `0x7875`, `0x000d`, `0x000a` | times, Unix uid/gid, NTFS times | Info-ZIP, libarchive, the zip crate | ignored: never a name, a type or a byte of content |
//!    | `0x6375`, `0xcafe`, `0xd935`, `0xa11e`, any other | Unicode comment, JAR marker, alignment padding | comments and padding only | ignored |
//!
//!    Any field some reader acts on may appear once per header; the area must parse
//!    as fields (up to 3 trailing zero bytes of padding), or the archive is refused.
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
//!    next to `dest`, through its directory handle and never through a link, and
//!    renamed to `dest` only on success, by a rename that never replaces anything.
//!    On any error or panic (in a worker or in the progress callback) the staging
//!    directory is removed and `dest` does not exist: the parent holds `dest` or
//!    nothing more than before. `dest` must not exist beforehand; if another process
//!    publishes it first, [`UnzipError::DestinationExists`] is returned and its
//!    directory is left alone (a cache may count that as success). A staging
//!    directory left by a process that was killed is removed by the next extraction
//!    of the same `dest`; a live one is never touched (each is guarded by an
//!    advisory lock its process holds, on a lock file removed with the directory).
//! 4. **Durable on request.** With [`Unzipper::durable`], every file and directory
//!    is flushed to the device before the rename, so a power cut leaves no `dest` or
//!    a complete one. Off by default: it costs a flush per file.
//!
//! An archive path that is not a regular file (a directory, a FIFO, a device) is
//! refused with [`UnzipError::NotAFile`] before a byte is read.
//!
//! ## Streaming, and single members
//!
//! ```text
//! Unzipper::unzip_reader(impl Read, dest) -> Result<Extracted, UnzipError>     blocks until the stream ends
//! Unzipper::unzip_reader_with(impl Read, dest, &StreamOptions)                 + expect_sha256, verify, keep_archive
//! UnzipCache::unzip_stream(id, FnOnce() -> io::Result<impl Read>)              the opener runs once per build
//! Archive::open(path) / Archive::from_bytes(bytes) -> Archive                  the whole plan
//!     .files()  .read(path) -> Vec<u8>  .read_to(path, &mut impl Write)       the extraction's checks
//! ```
//!
//! [`Unzipper::unzip_reader`] extracts while the archive arrives, from any `Read`:
//! entries are decoded and written by threads of the extraction's own as their bytes
//! come, at most 16 MiB of the stream in memory. At the end of the stream the
//! seekable path's plan runs on what the stream kept (every record), so **both paths
//! give one verdict** on every archive: they refuse together, or write the same tree;
//! only then is `dest` published. A stream that fails or ends early publishes nothing
//! and names the byte ([`UnzipError::StreamRead`], [`UnzipError::StreamEnded`]).
//! [`Archive`] runs the same plan on a file or bytes and reads single members (a
//! wheel's `METADATA`) with the same checks, writing nothing.
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
//! # Caching: [`DiskCache`] and [`UnzipCache`]
//!
//! ```text
//! DiskCache::new(root)                                      Send + Sync; creates nothing yet
//!     .lock_timeout(Duration) .durable(bool) .on_event(Fn(&CacheEvent))
//!     get_or_build(id, FnOnce(&Path) -> Result<(), E>) -> Result<PathBuf, DiskCacheError<E>>
//!     get_or_build_file(id, FnOnce(&mut File) -> Result<(), E>) -> Result<PathBuf, DiskCacheError<E>>
//!     resolve(..) / resolve_file(..) -> Resolution { outcome: Outcome, result }
//!     get(id) -> Result<Option<PathBuf>, _>                 never builds, never waits
//!     forget(id)  in_flight() -> Vec<InFlightBuild>  stats()  sweep()
//! UnzipCache::new(root) / with_unzipper(root, Unzipper)    a DiskCache whose build is an extraction
//!     unzip(archive, id) -> Result<PathBuf, CacheError>     unzip_with_outcome(archive, id)
//! ```
//!
//! [`DiskCache::get_or_build`]`(id, build)` returns `root/<id>`, building it at most
//! once at a time across the threads of a process (a [`OnceMap`] through
//! [`OnceMap::get_or_try_init`]) and across processes (a lock file per id, held while
//! the build runs). The build fills an empty staging directory (or file) beside the
//! entry, which is renamed into place only when the build succeeds, by a rename that
//! never replaces anything; a failure's error, of any type, goes to every caller
//! waiting at that moment as one `Arc<E>`, and is not memoized. It blocks while the
//! entry is built, by this thread, another thread or another process (up to
//! [`DiskCache::lock_timeout`]).
//!
//! Guarantees, each tested (`tests/cache/`) and, for the cross-process protocol,
//! model-checked (`shuttle-tests/`, over a simulated file system in which processes
//! die at any step):
//!
//! - **One build per id at a time**, across threads and processes; none once the
//!   entry exists.
//! - **Complete or absent**: an entry on disk is whole; a build that fails, panics or
//!   whose process is killed leaves no entry.
//! - **Nothing left behind**: once no request runs, a root holds only complete
//!   entries. Lock files are removed by their holder while held, with a protocol that
//!   never gives two processes one lock (`src/fs/lock.rs`); what a killed process left
//!   is removed by the next request for its id and by [`DiskCache::sweep`].
//! - **Never through a link**: every step is relative to an open directory handle,
//!   with no-follow calls ([`FsError`] for a link or a replaced staging entry).
//! - **Bounded waits on request**, with events and [`DiskCache::in_flight`] showing
//!   who waits for which process; per-request [`Outcome`]s and counters.
//!
//! [`UnzipCache::unzip`]`(archive, id)` is the same with an extraction as the build:
//! the [`Unzipper`] extracts into the staging directory the cache hands it
//! ([`Unzipper::unzip_into`]). It is safe from any thread, rayon's workers included.
#![forbid(unsafe_code)]

mod assertions;
mod cache;
mod fs;
mod once_map;
mod sync;
mod unzip;

pub use cache::{
    CacheError, CacheEvent, CacheStats, DiskCache, DiskCacheError, DiskCacheStats, InFlightBuild,
    Outcome, Phase, Resolution, UnzipCache,
};
pub use fs::FsError;
pub use once_map::{Entry, Guard, InFlight, JobError, OnceMap, TryInitError, WaitError, Waiter};
pub use unzip::{
    Archive, Extracted, Limits, Progress, StreamOptions, StreamedArchive, UnzipError, Unzipper,
};

/// The file system layer's protocols, generic over their directory operations, for
/// the shuttle models of `shuttle-tests/`, which run them over a simulated directory
/// in which processes die between any two calls. Only under `--cfg shuttle`.
#[cfg(shuttle)]
#[doc(hidden)]
pub mod model {
    /// Lock files removed by their holder ([`crate::fs::lock`]'s protocol).
    pub mod lock {
        pub use crate::fs::lock::{Acquired, Held, LockSpace, Wait, lock};
    }
    /// Staging slots beside a destination.
    pub mod slots {
        pub use crate::fs::slots::{slot_names, sweep, take};
    }
    /// The streaming extraction's scheduling, for its model.
    pub mod stream {
        /// Sets the cores the writers of the streams that follow schedule for (2
        /// unless set); the model's blocks, pool and large entries are small
        /// (`unzip/stream/blocks.rs`, `writers.rs`).
        pub fn set_cores(cores: usize) {
            crate::sync::stream::set_cores(cores);
        }
        /// How often each point of the protocol was reached since the last call
        /// (`sync::stream::reached`), and starts again from none.
        pub fn take_reached() -> std::collections::BTreeMap<&'static str, u64> {
            crate::sync::stream::take_reached()
        }
        /// Bytes per block of the stream's pool.
        pub const BLOCK_LEN: usize = crate::unzip::stream::BLOCK_LEN;
        /// Blocks in the pool.
        pub const BLOCKS: usize = crate::unzip::stream::BLOCKS;
        /// The decoded size from which an entry gets a thread of its own.
        pub const LARGE: u64 = crate::unzip::stream::LARGE;
    }
    /// `root/<id>` built once across processes.
    pub mod entry {
        pub use crate::fs::entry::{
            EntryError, Resolved, Shape, find, get_or_build, lock_name, staging_name, sweep,
        };
    }
    pub use crate::fs::space::{Kind, Space};
}

/// The README's examples, compiled and run as doc tests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
