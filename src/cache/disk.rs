//! [`DiskCache`]: a keyed on-disk cache of directories and files, each built at most
//! once at a time across threads and processes.
//!
//! # Who does what
//!
//! - In this process, a [`OnceMap`] keyed by id (through
//!   [`OnceMap::get_or_try_init`]): one thread owns an id's resolution, the others
//!   wait for it and get its path or its error. Success is remembered until
//!   [`DiskCache::forget`] (or until the entry disappears from disk); failure is not.
//! - Across processes, the owning thread runs the file system layer's build-once
//!   protocol (`crate::fs::entry`): look, lock `.<id>.lock`, look again, build in
//!   `.<id>.staging`, rename to `<id>`, release. The lock is the only thing a thread
//!   waits on that another process holds; the wait polls, so it ends at the lock
//!   timeout and is reported (event, [`Phase::WaitingForProcess`]).

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rustc_hash::FxHashMap;

use super::error::DiskCacheError;
use super::id;
use super::report::{
    CacheEvent, Counters, DiskCacheStats, InFlightBuild, Outcome, Phase, Resolution,
};
use crate::fs::entry::{self, EntryError, Shape};
use crate::fs::lock::Wait;
use crate::fs::{Dir, FsError, Staging};
use crate::once_map::{OnceMap, TryInitError, WaitError};
use crate::sync::thread;

/// The event callback's type.
type EventFn = Arc<dyn Fn(&CacheEvent) + Send + Sync>;

/// A directory of entries, each a directory or a file that a build fills, built at
/// most once at a time across the threads of this process and the processes that
/// share the root.
///
/// `Send + Sync`: share one cache (by reference or in an `Arc`) between all the
/// threads of a program. Several `DiskCache` values on one root (in one process or
/// several) coordinate through the root's lock files.
///
/// # Examples
///
/// A build step that fills a directory, requested by four threads at once; it runs
/// once, and every thread gets the same directory:
///
/// ```
/// use std::path::Path;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::time::Duration;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// # let root = dir.path().join("builds");
/// let cache = inflight::DiskCache::new(&root).lock_timeout(Duration::from_secs(300));
/// let builds = AtomicUsize::new(0);
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             let dir = cache.get_or_build("pkg-1.0", |staging: &Path| -> std::io::Result<()> {
///                 builds.fetch_add(1, Ordering::Relaxed);
///                 std::fs::write(staging.join("built.txt"), "done")
///             });
///             assert!(dir.unwrap().join("built.txt").is_file());
///         });
///     }
/// });
/// assert_eq!(builds.load(Ordering::Relaxed), 1);
/// # Ok(())
/// # }
/// ```
///
/// # What a root holds
///
/// | name          | what                                           | when                                        |
/// |---------------|------------------------------------------------|---------------------------------------------|
/// | `<id>`        | a complete entry (directory or file)           | from its publication on                     |
/// | `.<id>.lock`  | the id's lock, an empty file                   | while a process builds or waits for `<id>`  |
/// | `.<id>.staging` | the entry being built                        | while it is built                           |
///
/// Nothing else, and once no request is running, only complete entries: lock files are
/// removed when released, staging entries are published or removed. A process killed
/// half-way leaves its `.<id>.lock` and `.<id>.staging`; the next request for that id
/// removes them, and the first build of each `DiskCache` value (or
/// [`DiskCache::sweep`]) removes those of every id whose lock is free.
///
/// # Guarantees
///
/// - **One build per id at a time**, across threads and processes (among processes that
///   use this crate's protocol); none once the entry exists.
/// - **Complete or absent**: `root/<id>` appears by one rename of the finished staging
///   entry, never replacing anything, so an entry found on disk is used without
///   looking inside.
/// - **Never through a link**: every step is relative to an open root directory with
///   no-follow calls (checks on Windows). A link where an entry, a lock file or a
///   staging entry should be is refused ([`FsError::UnexpectedType`]) and left alone,
///   as is a link or an entry of the other type that takes the entry's name while it
///   is built; a staging entry replaced while it is filled is not published
///   ([`FsError::Replaced`]).
/// - **Bounded waits, on request**: [`DiskCache::lock_timeout`] bounds the wait for
///   another process ([`FsError::LockTimeout`]); [`DiskCache::on_event`] and
///   [`DiskCache::in_flight`] show who waits for what.
/// - **Current paths**: an entry deleted by another process is rebuilt by the next
///   request rather than returned, and a deleted root is created again.
/// - **Durable on request**: [`DiskCache::durable`] flushes everything in the staging
///   entry before the rename and the root after it.
///
/// # The build closure
///
/// It runs on the thread that owns the id, outside every lock of the map, with the
/// id's lock file held:
///
/// | the closure          | this caller gets            | callers waiting at that moment get | the staging entry |
/// |----------------------|-----------------------------|------------------------------------|-------------------|
/// | returns `Ok`         | the path                    | the path                           | renamed to `root/<id>` |
/// | returns `Err(e)`     | [`DiskCacheError::Build`] with `Arc<e>` | the same `Arc` (with the same `E`) | removed |
/// | panics               | the panic                   | one of them builds instead         | removed |
/// | asks for its own id (of this cache, or of another on the same root) | (that inner request) [`WaitError::WouldDeadlock`] | unaffected | as the outer build ends |
///
/// A build may use rayon, but it should not wait inside `join`, `scope` or `install`
/// when other requests of the same cache run on the same pool: the waiting thread
/// may pick up a request for the id it builds, which then gets `WouldDeadlock`
/// (rightly: it would wait for itself). [`UnzipCache`](crate::UnzipCache)'s build never
/// waits inside rayon.
///
/// # Ids
///
/// An id is one path component that names the same entry on every platform: not
/// empty, at most 200 bytes, not starting with `.`, without `/`, `\`, control
/// characters or `< > : " | ? *`, not ending in `.` or a space, and not a Windows
/// device name (`CON`, `nul.txt`, `COM1`, ...). The same rules everywhere, so an id
/// that works on Linux works on Windows. Anything else is
/// [`DiskCacheError::InvalidId`]. Ids should name contents (a hash, or a name and
/// version that never changes meaning).
pub struct DiskCache {
    root: PathBuf,
    lock_timeout: Option<Duration>,
    durable: bool,
    on_event: Option<EventFn>,
    /// Published entries of this process; `Arc<Path>` because the map clones values
    /// under its lock.
    entries: OnceMap<String, Arc<Path>>,
    /// What each owning thread is doing, and since when, for [`DiskCache::in_flight`].
    phases: Mutex<FxHashMap<String, (Phase, Instant)>>,
    counters: Counters,
    /// Whether this value has swept its root yet (once, at its first build).
    swept: AtomicBool,
}

impl DiskCache {
    /// A cache under `root`. Creates nothing yet: `root` (and its parents) are created
    /// at the first build, and again if someone deletes it. Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let cache = inflight::DiskCache::new("/tmp/builds");
    /// assert_eq!(cache.root(), std::path::Path::new("/tmp/builds"));
    /// ```
    pub fn new(root: impl AsRef<Path>) -> Self {
        DiskCache {
            root: root.as_ref().to_owned(),
            lock_timeout: None,
            durable: false,
            on_event: None,
            entries: OnceMap::new(),
            phases: Mutex::new(FxHashMap::default()),
            counters: Counters::default(),
            swept: AtomicBool::new(false),
        }
    }

    /// Bounds how long a request waits for another process that holds the id's lock;
    /// past it the request fails with [`FsError::LockTimeout`]
    /// ([`DiskCacheError::is_lock_timeout`]). By default a request waits as long as
    /// the other process builds: a build may take long, and a dead process releases
    /// its lock at once. A process that is stopped (`SIGSTOP`, a debugger, a hung
    /// network file system) holds it forever: set a timeout when that must not hang
    /// the caller. Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let cache = inflight::DiskCache::new("/tmp/builds").lock_timeout(Duration::from_secs(300));
    /// # let _ = cache;
    /// ```
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// Durable mode: every file and directory of a finished staging entry is flushed
    /// to the device before it is renamed into place, and the root after the rename,
    /// so a power cut leaves an entry absent or complete. Off by default (a flush per
    /// file). Never blocks.
    #[must_use]
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// Calls `callback` with each [`CacheEvent`] of this cache's builds: waiting for
    /// another process, building, built, failed. It runs on the thread that owns the
    /// build, outside every lock; keep it short, and do not make it wait for a
    /// request of this cache (it could wait for itself). Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::CacheEvent;
    /// let cache = inflight::DiskCache::new("/tmp/builds").on_event(|event| {
    ///     if let CacheEvent::WaitingForProcess { id, lock } = event {
    ///         eprintln!("waiting for another process to build {id} ({})", lock.display());
    ///     }
    /// });
    /// # let _ = cache;
    /// ```
    #[must_use]
    pub fn on_event(mut self, callback: impl Fn(&CacheEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(callback));
        self
    }

    /// The cache's root directory. Never blocks.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory `root/<id>`, built by `build` unless it is there already.
    ///
    /// `build` gets an empty staging directory beside the entry and fills it; when it
    /// returns `Ok`, the directory is renamed to `root/<id>`, complete. Blocks while
    /// the entry is built, by this thread, another thread (which this call then waits
    /// for) or another process (through the id's lock, up to the lock timeout). An
    /// entry complete on disk returns at once. See [the build closure](DiskCache#the-build-closure)
    /// for what happens on `Err`, panic and re-entry.
    ///
    /// # Errors
    ///
    /// - [`DiskCacheError::InvalidId`] for an id outside [the rules](DiskCache#ids).
    /// - [`DiskCacheError::Build`] with the build's error, shared by every caller that
    ///   waited for it. Not memoized: the next request builds again.
    /// - [`DiskCacheError::Fs`]: the root or lock cannot be made or taken, the lock
    ///   timeout passed, a link or a file is at `root/<id>`, or the staging directory
    ///   was replaced while the build filled it.
    /// - [`DiskCacheError::Wait`]: the build asked for its own id.
    ///
    /// # Panics
    ///
    /// If `build` panics, in this caller, after the staging directory is removed.
    ///
    /// # Examples
    ///
    /// See [the type's](DiskCache#examples).
    pub fn get_or_build<E>(
        &self,
        id: &str,
        build: impl FnOnce(&Path) -> Result<(), E>,
    ) -> Result<PathBuf, DiskCacheError<E>>
    where
        E: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        self.resolve(id, build).result
    }

    /// [`get_or_build`](Self::get_or_build), with how the request was answered.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::Outcome;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let cache = inflight::DiskCache::new(dir.path().join("checkouts"));
    /// let checkout = |staging: &std::path::Path| std::fs::write(staging.join("HEAD"), "abc123");
    /// assert_eq!(cache.resolve("repo-abc123", checkout).outcome, Outcome::Built);
    /// assert_eq!(cache.resolve("repo-abc123", checkout).outcome, Outcome::Remembered);
    /// // Another process (here: another cache value on the same root) finds it on disk.
    /// let other = inflight::DiskCache::new(dir.path().join("checkouts"));
    /// assert_eq!(other.resolve("repo-abc123", checkout).outcome, Outcome::FoundOnDisk);
    /// ```
    pub fn resolve<E>(&self, id: &str, build: impl FnOnce(&Path) -> Result<(), E>) -> Resolution<E>
    where
        E: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        self.resolve_staged(id, Shape::Dir, false, |staging| build(&staging.path()))
    }

    /// The file `root/<id>`, written by `build` unless it is there already: fetched
    /// metadata, a downloaded archive. `build` writes into an empty, new staging file
    /// (created by the cache, not through any link); when it returns `Ok`, the file is
    /// renamed to `root/<id>`, complete. Blocks, fails and panics as
    /// [`get_or_build`](Self::get_or_build) does.
    ///
    /// # Errors
    ///
    /// As [`get_or_build`](Self::get_or_build); a directory at `root/<id>` is
    /// [`FsError::UnexpectedType`].
    ///
    /// # Panics
    ///
    /// If `build` panics, in this caller, after the staging file is removed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let cache = inflight::DiskCache::new(dir.path().join("metadata"));
    /// let path = cache.get_or_build_file("numpy-2.1.0.metadata", |file: &mut std::fs::File| {
    ///     file.write_all(b"Metadata-Version: 2.1\nName: numpy\n")
    /// }).unwrap();
    /// assert!(std::fs::read_to_string(path).unwrap().contains("numpy"));
    /// ```
    pub fn get_or_build_file<E>(
        &self,
        id: &str,
        build: impl FnOnce(&mut File) -> Result<(), E>,
    ) -> Result<PathBuf, DiskCacheError<E>>
    where
        E: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        self.resolve_file(id, build).result
    }

    /// [`get_or_build_file`](Self::get_or_build_file), with how the request was
    /// answered.
    pub fn resolve_file<E>(
        &self,
        id: &str,
        build: impl FnOnce(&mut File) -> Result<(), E>,
    ) -> Resolution<E>
    where
        E: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        self.resolve_staged(id, Shape::File, false, |staging| {
            let file = staging.file_handle().expect("a file entry stages a file");
            build(file)
        })
    }

    /// The entry `root/<id>` if it is complete on disk now (a directory or a file);
    /// never builds and never waits for a build in flight. Never blocks.
    ///
    /// # Errors
    ///
    /// [`DiskCacheError::InvalidId`]; [`DiskCacheError::Fs`] when something other than
    /// a directory or a file is there (a link: never followed), or it cannot be looked at.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let cache = inflight::DiskCache::new(dir.path());
    /// assert_eq!(cache.get("never-built").unwrap(), None);
    /// ```
    pub fn get(&self, id: &str) -> Result<Option<PathBuf>, DiskCacheError> {
        if let Some(reason) = id::refusal(id) {
            return Err(DiskCacheError::InvalidId {
                id: id.to_owned(),
                reason,
            });
        }
        let path = self.root.join(id);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() || meta.is_file() => Ok(Some(path)),
            Ok(meta) => Err(DiskCacheError::Fs(FsError::UnexpectedType {
                path,
                found: describe(&meta),
                expected: "directory or file",
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DiskCacheError::Fs(FsError::io("look at", &path)(e))),
        }
    }

    /// Forgets what this cache remembers about `id` (not the files) and returns the
    /// path it had. Never blocks on a build in flight, and does not disturb one.
    ///
    /// # Examples
    ///
    /// ```
    /// let cache = inflight::DiskCache::new("/tmp/builds");
    /// assert_eq!(cache.forget("never-built"), None);
    /// ```
    pub fn forget(&self, id: &str) -> Option<PathBuf> {
        self.entries.remove(id).map(|path| path.to_path_buf())
    }

    /// The ids this process is resolving right now, with what each owning thread does
    /// (looking, waiting for another process, building), for how long, and how many
    /// threads wait for it. Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let cache = inflight::DiskCache::new("/tmp/builds");
    /// for build in cache.in_flight() {
    ///     eprintln!("{}: {:?} for {:?}, {} waiting", build.id, build.phase, build.running_for, build.waiters);
    /// }
    /// ```
    pub fn in_flight(&self) -> Vec<InFlightBuild> {
        let jobs = self.entries.in_flight();
        let phases = self.phases.lock();
        jobs.into_iter()
            .map(|job| {
                let (phase, since) = phases
                    .get(&job.key)
                    .copied()
                    .map_or((Phase::Starting, None), |(phase, since)| {
                        (phase, Some(since))
                    });
                InFlightBuild {
                    running_for: since.map_or(job.running_for, |since| since.elapsed()),
                    id: job.key,
                    phase,
                    waiters: job.waiters,
                }
            })
            .collect()
    }

    /// Counters of what this cache has done. Never blocks.
    pub fn stats(&self) -> DiskCacheStats {
        self.counters.snapshot()
    }

    /// Removes what dead processes left in the root (the lock file and staging entry
    /// of every id whose lock nobody holds) and returns how many ids it cleaned. Ids
    /// being built, here or elsewhere, are skipped. Blocks only on the file system.
    ///
    /// # Errors
    ///
    /// [`FsError::Io`] when the root cannot be listed, or a leftover cannot be
    /// removed. A missing root is nothing to sweep.
    pub fn sweep(&self) -> Result<usize, FsError> {
        let root = match Dir::open(&self.root) {
            Ok(root) => root,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(FsError::io("open", &self.root)(e)),
        };
        entry::sweep(&root)
    }

    /// Resolves `id` as an entry of `shape`, filling the staging entry with `build`;
    /// `flushed` when the build flushes what it writes itself (the unzipper in
    /// durable mode).
    pub(crate) fn resolve_staged<E>(
        &self,
        id: &str,
        shape: Shape,
        flushed: bool,
        build: impl FnOnce(&mut Staging<'_>) -> Result<(), E>,
    ) -> Resolution<E>
    where
        E: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        let (outcome, result) = match self.answer(id, shape, flushed, build) {
            Ok((outcome, path)) => (outcome, Ok(path)),
            Err(error) => (Outcome::Failed, Err(error)),
        };
        self.counters.count(outcome);
        Resolution { outcome, result }
    }

    fn answer<E>(
        &self,
        id: &str,
        shape: Shape,
        flushed: bool,
        build: impl FnOnce(&mut Staging<'_>) -> Result<(), E>,
    ) -> Result<(Outcome, PathBuf), DiskCacheError<E>>
    where
        E: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        if let Some(reason) = id::refusal(id) {
            return Err(DiskCacheError::InvalidId {
                id: id.to_owned(),
                reason,
            });
        }
        if let Some(path) = self.entries.get(id) {
            if still_there(&path, shape)? {
                return Ok((Outcome::Remembered, path.to_path_buf()));
            }
            // Deleted under us (by another process, or by hand): resolve it again
            // rather than hand out a path that does not exist.
            self.entries.remove(id);
        }
        let mut owned: Option<Outcome> = None;
        let found = self.entries.get_or_try_init(id, || {
            let (outcome, result) = self.own(id, shape, flushed, build);
            owned = Some(outcome);
            result
        });
        match found {
            Ok(path) => Ok((
                owned.unwrap_or(Outcome::WaitedForThread),
                path.to_path_buf(),
            )),
            Err(TryInitError::Failed(error)) => Err(DiskCacheError::clone(&error)),
            Err(TryInitError::Wait(error)) => Err(DiskCacheError::Wait(error)),
        }
    }

    /// Runs on the one thread of this process that owns `id`: the cross-process
    /// protocol, and the build if it comes to that.
    fn own<E>(
        &self,
        id: &str,
        shape: Shape,
        flushed: bool,
        build: impl FnOnce(&mut Staging<'_>) -> Result<(), E>,
    ) -> (Outcome, Result<Arc<Path>, DiskCacheError<E>>) {
        let phase = PhaseGuard::enter(self, id);
        let root = match self.open_root() {
            Ok(root) => root,
            Err(error) => return (Outcome::Failed, Err(error.into())),
        };
        if !self.swept.swap(true, Ordering::Relaxed) {
            // Best effort: a failure to clean another id's leftovers is no reason to
            // fail this request (`sweep` reports it to whoever asks).
            let _ = entry::sweep(&root);
        }
        // This thread may hold the id's lock already, through another cache value on
        // the same root (its build asking for its own id): waiting for the lock would
        // wait for itself, forever without a lock timeout.
        let held = Held::key(&self.root, id);
        if held.as_ref().is_some_and(Held::by_this_thread) {
            return (
                Outcome::Failed,
                Err(DiskCacheError::Wait(WaitError::WouldDeadlock)),
            );
        }
        let id_arc: Arc<str> = Arc::from(id);
        let deadline = self.lock_timeout.map(|timeout| Instant::now() + timeout);
        let lost_to_another_writer = std::cell::Cell::new(false);
        let resolved = entry::get_or_build(
            &root,
            id,
            shape,
            Wait::Until(deadline),
            || {
                phase.set(Phase::WaitingForProcess);
                self.emit(CacheEvent::WaitingForProcess {
                    id: Arc::clone(&id_arc),
                    lock: root.join(entry::lock_name(id)),
                });
            },
            |staging_name| {
                // The lock is ours from here until the build ends.
                let _held = held.clone().map(Held::enter);
                phase.set(Phase::Building);
                let mut staging = match shape {
                    Shape::Dir => Staging::dir(&root, staging_name)?,
                    Shape::File => Staging::file(&root, staging_name)?,
                };
                self.emit(CacheEvent::Building {
                    id: Arc::clone(&id_arc),
                    staging: staging.path(),
                });
                build(&mut staging).map_err(EntryError::Build)?;
                if self.durable && !flushed {
                    staging.sync_all()?;
                }
                match staging.publish(OsStr::new(id), self.durable) {
                    Ok(()) => Ok(()),
                    // Something appeared at the name while we built, without the lock.
                    // An entry of the right type is a writer's that does not take the
                    // lock: complete (it appeared by rename), so ours is discarded.
                    // Anything else (a link, a file where a directory belongs) is
                    // refused and left alone, as it is when it is there before.
                    Err(exists @ FsError::Exists { .. }) => match entry::find(&root, id, shape) {
                        Ok(true) => {
                            lost_to_another_writer.set(true);
                            Ok(())
                        }
                        // Gone again already: nothing complete to hand out.
                        Ok(false) => Err(exists.into()),
                        Err(error) => Err(error.into()),
                    },
                    Err(error) => Err(error.into()),
                }
            },
        );
        let path = self.root.join(id);
        match resolved {
            Ok(resolved) => {
                let outcome = if resolved.built && !lost_to_another_writer.get() {
                    self.emit(CacheEvent::Built {
                        id: id_arc,
                        path: path.clone(),
                    });
                    Outcome::Built
                } else if resolved.waited_for_process {
                    Outcome::WaitedForProcess
                } else {
                    Outcome::FoundOnDisk
                };
                (outcome, Ok(Arc::from(path)))
            }
            Err(error) => {
                let error = match error {
                    EntryError::Build(error) => {
                        self.counters.build_failed();
                        DiskCacheError::Build(Arc::new(error))
                    }
                    EntryError::Fs(error) => DiskCacheError::Fs(error),
                };
                self.emit(CacheEvent::Failed { id: id_arc });
                (Outcome::Failed, Err(error))
            }
        }
    }

    /// Creates the root if it is missing (it may have been deleted since the last
    /// build) and opens it.
    fn open_root(&self) -> Result<Dir, FsError> {
        std::fs::create_dir_all(&self.root).map_err(FsError::io("create", &self.root))?;
        Dir::open(&self.root).map_err(FsError::io("open", &self.root))
    }

    fn emit(&self, event: CacheEvent) {
        if let Some(callback) = &self.on_event {
            callback(&event);
        }
    }
}

/// The ids whose lock file a thread of this process holds while it builds them, by
/// root (resolved) and id: across every cache value, so that a build asking another
/// cache value on the same root for its own id is refused rather than left waiting
/// for its own lock. Only the owner's entries are ever looked for, so a thread finds
/// its own and no other's.
static HELD: Mutex<Vec<(PathBuf, String, thread::ThreadId)>> = Mutex::new(Vec::new());

/// One id's lock held by this thread, in [`HELD`] while the value lives.
#[derive(Debug, Clone)]
struct Held {
    root: PathBuf,
    id: String,
}

impl Held {
    /// The key of `id` under `root`; `None` when the root cannot be resolved (it was
    /// just made, so only a concurrent removal does that, and the lock then fails).
    fn key(root: &Path, id: &str) -> Option<Held> {
        Some(Held {
            root: std::fs::canonicalize(root).ok()?,
            id: id.to_owned(),
        })
    }

    /// Whether this thread holds the lock of that id.
    fn by_this_thread(&self) -> bool {
        HELD.lock().iter().any(|held| self.names_ours(held))
    }

    /// Whether `held` is this id, held by this thread.
    fn names_ours(&self, (root, id, thread): &(PathBuf, String, thread::ThreadId)) -> bool {
        *thread == thread::current().id() && *root == self.root && *id == self.id
    }

    /// Records that this thread holds the lock, until the guard is dropped.
    fn enter(self) -> HeldGuard {
        HELD.lock()
            .push((self.root.clone(), self.id.clone(), thread::current().id()));
        HeldGuard(self)
    }
}

/// Removes its [`Held`] from [`HELD`] when dropped (the build ended, or panicked).
struct HeldGuard(Held);

impl Drop for HeldGuard {
    fn drop(&mut self) {
        let mut held = HELD.lock();
        if let Some(at) = held.iter().position(|held| self.0.names_ours(held)) {
            held.swap_remove(at);
        }
    }
}

/// Whether the remembered entry at `path` is still there, as a `shape`.
fn still_there<E>(path: &Path, shape: Shape) -> Result<bool, DiskCacheError<E>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta)
            if (shape == Shape::Dir && meta.is_dir())
                || (shape == Shape::File && meta.is_file()) =>
        {
            Ok(true)
        }
        Ok(meta) => Err(DiskCacheError::Fs(FsError::UnexpectedType {
            path: path.to_owned(),
            found: describe(&meta),
            expected: shape.describe(),
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(DiskCacheError::Fs(FsError::io("look at", path)(e))),
    }
}

fn describe(meta: &std::fs::Metadata) -> &'static str {
    let file_type = meta.file_type();
    if file_type.is_symlink() {
        "symbolic link"
    } else if file_type.is_dir() {
        "directory"
    } else if file_type.is_file() {
        "file"
    } else {
        "special file"
    }
}

/// The owning thread's entry in [`DiskCache::in_flight`]'s table, removed when the
/// owner is done (or unwinds).
struct PhaseGuard<'c> {
    cache: &'c DiskCache,
    id: &'c str,
}

impl<'c> PhaseGuard<'c> {
    fn enter(cache: &'c DiskCache, id: &'c str) -> Self {
        cache
            .phases
            .lock()
            .insert(id.to_owned(), (Phase::Starting, Instant::now()));
        PhaseGuard { cache, id }
    }

    fn set(&self, phase: Phase) {
        if let Some(entry) = self.cache.phases.lock().get_mut(self.id) {
            entry.0 = phase;
        }
    }
}

impl Drop for PhaseGuard<'_> {
    fn drop(&mut self) {
        self.cache.phases.lock().remove(self.id);
    }
}

impl fmt::Debug for DiskCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskCache")
            .field("root", &self.root)
            .field("lock_timeout", &self.lock_timeout)
            .field("durable", &self.durable)
            .field(
                "on_event",
                &self.on_event.as_ref().map(|_| "Fn(&CacheEvent)"),
            )
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}
