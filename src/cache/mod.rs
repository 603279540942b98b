//! [`UnzipCache`]: one extraction per archive across threads and processes.
//!
//! # On-disk rules
//!
//! - `root/<id>` exists only complete: the [`Unzipper`] writes into a hidden staging
//!   directory next to it and renames it into place as its last step. So a directory
//!   found on disk is reused without looking inside.
//! - Names that start with `.` are the cache's own (staging directories, lock files);
//!   ids may not start with `.`.
//! - Cross-process: before extracting, a process takes an exclusive advisory lock on
//!   `root/.<id>.lock` (`File::lock`) and checks `root/<id>` again once it holds it, so
//!   a second process waits for the first instead of extracting twice. Without the
//!   lock (a process that does not use this cache, or a file system without advisory
//!   locks) both extract, and the losing rename discards its staging directory: both
//!   still succeed with one complete directory. Lock files stay in place (deleting a
//!   lock file another process may be about to lock is a race); they are empty.
//!
//! # In-process
//!
//! A [`OnceMap`] keyed by id: concurrent callers for one id share one extraction and
//! get the same path or the same error. A failed extraction is not memoized; the next
//! call tries again. A successful one is memoized until [`UnzipCache::forget`].
//!
//! Why this is safe from any thread, and what holds across crashes and power cuts:
//! see the docs of [`UnzipCache`].

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::once_map::{Entry, OnceMap, WaitError};
use crate::unzip::{UnzipError, Unzipper};

mod error;

pub use self::error::CacheError;

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
/// The thread that owns an id's flight runs [`Unzipper::unzip`], which writes files on
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
/// - A process killed half-way (`kill -9`) leaves a staging directory behind; the
///   next extraction of the same id removes it. A staging directory's owner holds an
///   advisory lock beside it for as long as it lives, so a live one is never touched.
///   What stays behind are empty lock files: `.<id>.lock` and
///   `.<id>.staging-<k>.lock`, one per extraction of the id that ran at the same time.
/// - A power cut: by default files are not flushed to the device before the rename,
///   so after a power cut `root/<id>` may exist with empty or short files, and the
///   cache would trust it. Build the cache with
///   [`Unzipper::durable`]`(true)` (through [`UnzipCache::with_unzipper`]) when the
///   cache must survive that: every file and directory is flushed before the rename,
///   so an id either is absent or complete.
#[derive(Debug)]
pub struct UnzipCache {
    root: PathBuf,
    unzipper: Unzipper,
    /// `Arc<Path>`: the map clones values under its lock, so they must be cheap to
    /// clone; each caller gets its own `PathBuf` after unlocking.
    paths: OnceMap<String, Arc<Path>>,
    stats: Counters,
}

/// What an [`UnzipCache`] has done so far, from [`UnzipCache::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Calls to [`UnzipCache::unzip`].
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
    /// Files written by this cache's extractions.
    pub files: u64,
    /// Uncompressed bytes written by this cache's extractions.
    pub bytes: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    extractions: AtomicU64,
    failures: AtomicU64,
    found_on_disk: AtomicU64,
    waited: AtomicU64,
    files: AtomicU64,
    bytes: AtomicU64,
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
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self::with_unzipper(root, Unzipper::new())
    }

    /// A cache under `root` that extracts with `unzipper` (its limits, progress
    /// callback and thread pool). Never blocks.
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
    pub fn with_unzipper(root: impl Into<PathBuf>, unzipper: Unzipper) -> Self {
        UnzipCache {
            root: root.into(),
            unzipper,
            paths: OnceMap::new(),
            stats: Counters::default(),
        }
    }

    /// The cache's root directory. Never blocks.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding `archive`'s contents, `root/<id>`, extracting it unless
    /// it is already there.
    ///
    /// Blocks while the archive is extracted, by this thread, by another thread of this
    /// process (which this call then waits for instead of extracting again), or by
    /// another process using the same root (through the lock file). An id already
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
    /// - [`CacheError::InvalidId`] when `id` is not a single safe path component.
    /// - [`CacheError::Unzip`] when the extraction failed, shared by every caller that
    ///   waited for it; the next call tries again.
    /// - [`CacheError::Io`] when the root or the lock file cannot be created or locked.
    /// - [`CacheError::Wait`] when waiting for another thread's extraction failed (for
    ///   example, an extraction whose owner panicked with an error of another type).
    ///
    /// # Panics
    ///
    /// Only if the unzipper's progress callback panics, and only in the caller that
    /// runs the extraction: it is abandoned first (cleaned up, see
    /// [`Unzipper::unzip`]), and the callers waiting for it take it over.
    pub fn unzip(&self, archive: &Path, id: &str) -> Result<PathBuf, CacheError> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        validate_id(id)?;
        let mut waited = false;
        loop {
            match self.paths.entry(id) {
                Entry::Ready(path) => return Ok(path.to_path_buf()),
                Entry::Vacant(guard) => {
                    return match self.extract(archive, id) {
                        Ok(path) => {
                            guard.complete(Arc::from(path.as_path()));
                            Ok(path)
                        }
                        Err(error) => {
                            // Every waiter gets a clone (cheap: the sources are in `Arc`s).
                            guard.fail(error.clone());
                            Err(error)
                        }
                    };
                }
                Entry::Pending(waiter) => {
                    if !waited {
                        waited = true;
                        self.stats.waited.fetch_add(1, Ordering::Relaxed);
                    }
                    match waiter.wait() {
                        Ok(path) => return Ok(path.to_path_buf()),
                        // The owner went away (panicked): take the job over.
                        Err(WaitError::Abandoned) => continue,
                        Err(WaitError::Failed(shared)) => {
                            return Err(match shared.downcast_ref::<CacheError>() {
                                Some(error) => error.clone(),
                                None => CacheError::Wait(WaitError::Failed(shared)),
                            });
                        }
                        Err(other) => return Err(CacheError::Wait(other)),
                    }
                }
                Entry::Closed => return Err(CacheError::Wait(WaitError::Closed)),
            }
        }
    }

    /// Forgets what this cache remembers about `id` (not the files) and returns the
    /// path it had: the next [`unzip`](UnzipCache::unzip) of it looks at the disk
    /// again. Call it after deleting `root/<id>` yourself. Never blocks on an
    /// extraction in flight, and does not disturb one.
    ///
    /// # Examples
    ///
    /// ```
    /// let cache = inflight::UnzipCache::new("/tmp/wheels");
    /// assert_eq!(cache.forget("never-extracted"), None);
    /// ```
    pub fn forget(&self, id: &str) -> Option<PathBuf> {
        self.paths.remove(id).map(|path| path.to_path_buf())
    }

    /// Counters of what this cache has done, for reports and tests. Never blocks.
    /// See the [type's example](UnzipCache#examples).
    pub fn stats(&self) -> CacheStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let s = &self.stats;
        CacheStats {
            requests: load(&s.requests),
            extractions: load(&s.extractions),
            failures: load(&s.failures),
            found_on_disk: load(&s.found_on_disk),
            waited: load(&s.waited),
            files: load(&s.files),
            bytes: load(&s.bytes),
        }
    }

    /// Runs on the one thread of this process that owns `id`'s job.
    fn extract(&self, archive: &Path, id: &str) -> Result<PathBuf, CacheError> {
        let dest = self.root.join(id);
        if dest.is_dir() {
            self.stats.found_on_disk.fetch_add(1, Ordering::Relaxed);
            return Ok(dest);
        }
        fs::create_dir_all(&self.root).map_err(|source| CacheError::io(&self.root, source))?;
        let lock_path = self.root.join(format!(".{id}.lock"));
        let lock = lock_file(&lock_path)?;
        // Another process may have finished while we waited for the lock.
        if dest.is_dir() {
            self.stats.found_on_disk.fetch_add(1, Ordering::Relaxed);
            return Ok(dest);
        }
        self.stats.extractions.fetch_add(1, Ordering::Relaxed);
        let result = self.unzipper.unzip(archive, &dest);
        drop(lock);
        match result {
            Ok(extracted) => {
                self.stats
                    .files
                    .fetch_add(extracted.files as u64, Ordering::Relaxed);
                self.stats
                    .bytes
                    .fetch_add(extracted.bytes, Ordering::Relaxed);
                Ok(dest)
            }
            // A process that does not take the lock won the race: its directory is
            // complete (renamed into place whole), ours was discarded.
            Err(UnzipError::DestinationExists { .. }) if dest.is_dir() => Ok(dest),
            Err(error) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                Err(CacheError::Unzip(Arc::new(error)))
            }
        }
    }
}

/// Opens (creating if needed) and exclusively locks `path`; the lock is released when
/// the file is closed.
fn lock_file(path: &Path) -> Result<File, CacheError> {
    let io_error = |source: io::Error| CacheError::io(path, source);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_error)?;
    file.lock().map_err(io_error)?;
    Ok(file)
}

/// An id must be one normal path component that cannot collide with the cache's own
/// hidden files: not empty, not starting with `.`, no separators (`/`, `\`), no NUL or
/// control characters, at most 200 bytes (room for the lock file's name within the
/// usual 255-byte limit).
fn validate_id(id: &str) -> Result<(), CacheError> {
    let bad = id.is_empty()
        || id.len() > 200
        || id.starts_with('.')
        || id.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        return Err(CacheError::InvalidId { id: id.to_owned() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate_id;

    #[test]
    fn ids_must_be_one_safe_path_component() {
        for bad in [
            "", ".", "..", ".hidden", "a/b", "a\\b", "../x", "/abs", "a\0b", "a\nb",
        ] {
            assert!(validate_id(bad).is_err(), "{bad:?} was accepted");
        }
        let long = "x".repeat(201);
        assert!(validate_id(&long).is_err());
        for good in [
            "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64",
            "a",
            "a.b",
            "sha256=abc",
            "C:",
        ] {
            assert!(validate_id(good).is_ok(), "{good:?} was refused");
        }
    }
}
