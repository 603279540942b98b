//! [`UnzipCache`]: a [`DiskCache`] whose build is an extraction.
//!
//! The cache is the general one; the only thing added here is the build: the
//! [`Unzipper`] extracts straight into the staging directory the cache hands it
//! (no second staging), and the extraction's own counters (files, bytes).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::disk::DiskCache;
use super::error::CacheError;
use super::report::{InFlightBuild, Outcome};
use crate::fs::entry::Shape;
use std::io::Read;

use crate::fs::Dir;
use crate::unzip::{Extracted, Label, Staged, StreamOptions, UnzipError, Unzipper};

/// A directory of extracted archives, each extracted at most once.
///
/// `Send + Sync`: share one cache (by reference or in an `Arc`) between all the
/// threads of an installer.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use inflight::UnzipCache;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let wheel = dir.path().join("demo-1.0-py3-none-any.whl");
/// let mut zip = zip::ZipWriter::new(std::fs::File::create(&wheel)?);
/// zip.start_file("demo/__init__.py", zip::write::SimpleFileOptions::default())?;
/// zip.write_all(b"VERSION = '1.0'\n")?;
/// zip.finish()?;
///
/// let cache = UnzipCache::new(dir.path().join("cache"));
/// let path = std::thread::scope(|s| {
///     let a = s.spawn(|| cache.unzip(&wheel, "demo-1.0"));
///     let b = s.spawn(|| cache.unzip(&wheel, "demo-1.0"));
///     let (a, b) = (a.join().unwrap(), b.join().unwrap());
///     assert_eq!(a.as_ref().ok(), b.as_ref().ok());
///     a
/// })?;
/// assert!(path.join("demo/__init__.py").is_file());
/// assert_eq!(cache.stats().extractions, 1);
/// # Ok(())
/// # }
/// ```
///
/// # Any thread, rayon's included
///
/// No request fails or hangs because of the thread it comes from.
///
/// The thread that owns an id's flight runs the [`Unzipper`], which writes files on
/// that same thread and only *spawns* helpers on the pool; it never waits inside
/// rayon (no `join`, `scope` or `install`), so it never runs another queued request
/// for the id it owns, and never waits for a helper that has not started (the
/// full argument is in the source, `src/unzip/execute.rs`). The threads that wait for the flight block on
/// the map's condvar; the extraction does not need them, so even when they are every
/// worker of the pool (or the only one), the owner finishes alone. Tested with
/// requests from `pool.spawn` on a custom pool, nested `par_iter` on the global pool,
/// nested `join` on a one-thread pool, and plain threads mixed with pool workers.
///
/// # Crashes and power cuts
///
/// - A process killed half-way (`kill -9`) leaves `.<id>.staging` and `.<id>.lock`
///   behind; the next request for the id (in any process) removes them, and so does
///   the first extraction of each cache value for every dead id (see
///   [`DiskCache`](crate::DiskCache#what-a-root-holds), whose on-disk rules this
///   cache follows). A live extraction is never disturbed: its process holds the id's
///   lock. Once no request runs, the root holds only complete `<id>` directories.
/// - A power cut: by default files are not flushed to the device before the rename,
///   so after a power cut `root/<id>` may exist with empty or short files, and the
///   cache would trust it. Build the cache with
///   [`Unzipper::durable`]`(true)` (through [`UnzipCache::with_unzipper`]) when the
///   cache must survive that: every file and directory is flushed before the rename,
///   so an id either is absent or complete.
#[derive(Debug)]
pub struct UnzipCache {
    disk: DiskCache,
    unzipper: Unzipper,
    files: AtomicU64,
    bytes: AtomicU64,
}

/// What an [`UnzipCache`] has done so far, from [`UnzipCache::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Requests: calls to [`UnzipCache::unzip`], [`UnzipCache::unzip_with_outcome`],
    /// [`UnzipCache::unzip_stream`] and [`UnzipCache::unzip_stream_with`].
    pub requests: u64,
    /// Extractions this cache ran (successful or not).
    pub extractions: u64,
    /// Extractions that failed.
    pub failures: u64,
    /// Requests that found the id complete on disk (put there by another process or
    /// an earlier run) and extracted nothing.
    pub found_on_disk: u64,
    /// Requests that waited for another thread's extraction of the same id.
    pub waited: u64,
    /// Requests that waited for another process's extraction of the same id (through
    /// the id's lock) and then found its directory.
    pub waited_for_process: u64,
    /// Files written by this cache's extractions.
    pub files: u64,
    /// Uncompressed bytes written by this cache's extractions.
    pub bytes: u64,
}

impl UnzipCache {
    /// A cache under `root` with a default [`Unzipper`]. Creates nothing yet: `root`
    /// is created on the first extraction. Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let cache = inflight::UnzipCache::new("/tmp/wheels");
    /// assert_eq!(cache.root(), std::path::Path::new("/tmp/wheels"));
    /// assert_eq!(cache.stats().requests, 0);
    /// ```
    pub fn new(root: impl AsRef<Path>) -> Self {
        Self::with_unzipper(root, Unzipper::new())
    }

    /// A cache under `root` that extracts with `unzipper` (its limits, progress
    /// callback, thread pool and durable mode). Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Limits, UnzipCache, Unzipper};
    ///
    /// let mut limits = Limits::default();
    /// limits.max_total_size = 1 << 30;
    /// let cache = UnzipCache::with_unzipper("/tmp/wheels", Unzipper::new().limits(limits));
    /// # let _ = cache;
    /// ```
    pub fn with_unzipper(root: impl AsRef<Path>, unzipper: Unzipper) -> Self {
        UnzipCache {
            disk: DiskCache::new(root).durable(unzipper.is_durable()),
            unzipper,
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Bounds how long a request waits for another process extracting the same id;
    /// see [`DiskCache::lock_timeout`]. Never blocks.
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.disk = self.disk.lock_timeout(timeout);
        self
    }

    /// The cache's root directory. Never blocks.
    pub fn root(&self) -> &Path {
        self.disk.root()
    }

    /// The directory holding `archive`'s contents, `root/<id>`, extracting it unless
    /// it is already there.
    ///
    /// Blocks while the archive is extracted, by this thread, by another thread of this
    /// process (which this call then waits for instead of extracting again), or by
    /// another process using the same root (through the id's lock file). An id already
    /// complete on disk returns at once. `id` names the archive's contents: callers
    /// must give the same id only for archives with the same contents (a wheel's file
    /// name or hash, say).
    ///
    /// Safe to call from any thread: a plain thread, or a worker of rayon's global
    /// pool or of any other pool (the only worker of a one-thread pool, inside a
    /// nested `join`, included). See [the type's docs](UnzipCache#any-thread-rayons-included) for why.
    ///
    /// # Errors
    ///
    /// - [`CacheError::InvalidId`] when `id` is not one portable path component (the
    ///   rules are [`DiskCache`'s](DiskCache#ids)).
    /// - [`CacheError::Unzip`] when the extraction failed, shared by every caller that
    ///   waited for it; the next call tries again.
    /// - [`CacheError::Io`] when the root or the lock file cannot be created or locked.
    /// - [`CacheError::Fs`] when the file system layer refuses (a link at `root/<id>`,
    ///   a staging directory replaced while it was filled) or another process held
    ///   the id's lock past the timeout.
    /// - [`CacheError::Wait`] when waiting for another thread's extraction failed (for
    ///   example, an extraction whose owner panicked with an error of another type).
    ///
    /// # Panics
    ///
    /// Only if the unzipper's progress callback panics, and only in the caller that
    /// runs the extraction: it is abandoned first (cleaned up, see
    /// [`Unzipper::unzip`]), and the callers waiting for it take it over.
    pub fn unzip(&self, archive: impl AsRef<Path>, id: &str) -> Result<PathBuf, CacheError> {
        self.unzip_with_outcome(archive, id).1
    }

    /// [`unzip`](Self::unzip), with how the request was answered (extracted here,
    /// waited for a thread or a process, found on disk, remembered, failed).
    ///
    /// # Errors
    ///
    /// As [`unzip`](Self::unzip).
    pub fn unzip_with_outcome(
        &self,
        archive: impl AsRef<Path>,
        id: &str,
    ) -> (Outcome, Result<PathBuf, CacheError>) {
        let archive = archive.as_ref();
        let label = Label {
            archive: Arc::from(archive),
            id: Some(Arc::from(id)),
        };
        self.extract(id, |root, needs_chmod| {
            self.unzipper
                .unzip_into_dir(archive, root, Some(needs_chmod), &label)
        })
    }

    /// Resolves `id` through the disk cache, running `extract` into the staging
    /// directory when this request owns the build (with whether files there need an
    /// explicit mode), and counts what it extracted.
    fn extract(
        &self,
        id: &str,
        extract: impl FnOnce(&Dir, bool) -> Result<Extracted, UnzipError>,
    ) -> (Outcome, Result<PathBuf, CacheError>) {
        let resolution =
            self.disk
                .resolve_staged(id, Shape::Dir, self.unzipper.is_durable(), |staging| {
                    let root = staging
                        .dir_handle()
                        .expect("a directory entry stages a directory");
                    let done = extract(root, staging.needs_chmod())?;
                    self.files.fetch_add(done.files as u64, Ordering::Relaxed);
                    self.bytes.fetch_add(done.bytes, Ordering::Relaxed);
                    Ok::<(), UnzipError>(())
                });
        (
            resolution.outcome,
            resolution.result.map_err(CacheError::from),
        )
    }

    /// The directory holding the contents of the archive that `open` streams,
    /// `root/<id>`, extracting it as it arrives unless it is already there.
    ///
    /// `open` (a download, say) is called only by the request that owns the id's
    /// build, in this process and across processes: concurrent requests for one wheel
    /// cause one download and one extraction, and the others wait for it. The stream
    /// is extracted with [`Unzipper::unzip_reader_with`] straight into the staging
    /// directory the cache hands out, with every rule checked before the directory is
    /// published. Blocks as [`unzip`](Self::unzip) does, and for as long as the
    /// stream takes.
    ///
    /// # Errors
    ///
    /// As [`unzip`](Self::unzip), and as [`Unzipper::unzip_reader_with`]: an error of
    /// `open` is [`CacheError::Unzip`] with
    /// [`UnzipError::StreamRead`] at byte 0, a stream
    /// that fails or ends early names the byte, wherever it stops
    /// ([`UnzipError::StreamRead`], [`UnzipError::StreamEnded`]).
    ///
    /// # Panics
    ///
    /// If `open`, the stream or the progress callback panics, in the request that
    /// owns the build, after cleaning up; the requests waiting for it take it over.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    /// zip.start_file("pkg/__init__.py", zip::write::SimpleFileOptions::default())?;
    /// zip.write_all(b"VERSION = '1.0'\n")?;
    /// let wheel = zip.finish()?.into_inner();
    ///
    /// let dir = tempfile::tempdir()?;
    /// let cache = inflight::UnzipCache::new(dir.path());
    /// // A download: called once, by whichever request builds the id.
    /// let path = cache.unzip_stream("pkg-1.0", || Ok(std::io::Cursor::new(wheel.clone())))?;
    /// assert!(path.join("pkg/__init__.py").is_file());
    /// # Ok(())
    /// # }
    /// ```
    pub fn unzip_stream<R: Read>(
        &self,
        id: &str,
        open: impl FnOnce() -> std::io::Result<R>,
    ) -> Result<PathBuf, CacheError> {
        self.unzip_stream_with(id, open, &StreamOptions::default())
            .1
    }

    /// [`unzip_stream`](Self::unzip_stream) with options (an expected SHA-256, a
    /// check, a copy of the archive) and how the request was answered.
    ///
    /// The options are the build's: only a request answered [`Outcome::Built`] opened
    /// the stream, so only it checked the hash, ran the check and kept the copy. A
    /// request answered otherwise (the id was on disk or remembered, or another
    /// request built it) read no byte, so it checked nothing and kept nothing; the
    /// id is what vouches for the contents then (an id that names the archive's
    /// hash, say), and a caller that needs the copy can look at the outcome.
    ///
    /// # Errors
    ///
    /// As [`unzip_stream`](Self::unzip_stream).
    pub fn unzip_stream_with<R: Read>(
        &self,
        id: &str,
        open: impl FnOnce() -> std::io::Result<R>,
        options: &StreamOptions,
    ) -> (Outcome, Result<PathBuf, CacheError>) {
        let label = Label {
            // The name the archive goes by in errors and progress: the options', or the id.
            archive: Arc::from(options.name_or(id)),
            id: Some(Arc::from(id)),
        };
        self.extract(id, |root, needs_chmod| {
            let reader = open().map_err(|source| UnzipError::StreamRead { offset: 0, source })?;
            // Entries must fit under the staging directory, `root/.<id>.staging`,
            // which is longer than `root/<id>`: as `unzip_into_dir` checks.
            let base_len = root.path().as_os_str().len();
            let tree = self.root().join(id);
            let into = Staged {
                tree: &tree,
                root,
                needs_chmod,
                base_len,
            };
            self.unzipper.stream_into(reader, &into, &label, options)
        })
    }

    /// Forgets what this cache remembers about `id` (not the files) and returns the
    /// path it had: the next [`unzip`](UnzipCache::unzip) of it looks at the disk
    /// again. Never blocks on an extraction in flight, and does not disturb one.
    /// (An entry deleted from disk is noticed without it.)
    ///
    /// # Examples
    ///
    /// ```
    /// let cache = inflight::UnzipCache::new("/tmp/wheels");
    /// assert_eq!(cache.forget("never-extracted"), None);
    /// ```
    pub fn forget(&self, id: &str) -> Option<PathBuf> {
        self.disk.forget(id)
    }

    /// The ids being extracted (or waited for) by this process right now. Never blocks.
    pub fn in_flight(&self) -> Vec<InFlightBuild> {
        self.disk.in_flight()
    }

    /// Counters of what this cache has done, for reports and tests. Never blocks.
    /// See the [type's example](UnzipCache#examples).
    pub fn stats(&self) -> CacheStats {
        let disk = self.disk.stats();
        CacheStats {
            requests: disk.requests,
            extractions: disk.built + disk.build_failures,
            failures: disk.build_failures,
            found_on_disk: disk.found_on_disk,
            waited: disk.waited_for_thread,
            waited_for_process: disk.waited_for_process,
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}
