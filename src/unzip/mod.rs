//! [`Unzipper`]: a strict, parallel zip extractor that publishes atomically.
//!
//! Under everything, [`format`](mod@format): each zip record (end records, central records,
//! local headers, data descriptors, extra fields) parses from a byte slice there,
//! apart from any policy. The seekable path has three phases, one file each:
//!
//! 1. [`plan`]: single-threaded, reads the end records and checks the archive's
//!    structure ([`format::end`]), reads the central directory
//!    ([`format::central`]), every local header and data descriptor (with
//!    positional reads, [`placement`]) and their extra fields ([`format::extra`]),
//!    checks that the entries own every byte before the central directory
//!    ([`coverage`]), rejects anything dubious, and builds an immutable
//!    [`vocabulary::Plan`]. Nothing is written yet.
//! 2. [`execute`]: creates every directory, then writes the files on rayon, one job
//!    per file, largest first, all workers reading the one archive `File` with
//!    `pread`. Each file's bytes go through [`decode`], one driver loop for every
//!    method, fed chunks, where output is capped at the declared size and
//!    CRC-checked.
//! 3. publishing: all of that happened in a staging directory of the file system
//!    layer ([`crate::fs`]) next to `dest`; it is renamed to `dest` on success and
//!    removed on any failure or panic.
//!
//! The streaming path ([`stream`], [`streaming`]) walks local headers as bytes
//! arrive, parses them with the same [`format`](mod@format) functions, feeds the same
//! [`decode`] driver, and at the end runs the same [`plan`] over the central
//! directory it kept, then checks that what it wrote is what that plan says.

mod archive;
mod coverage;
mod decode;
mod error;
mod execute;
mod failures;
mod format;
pub(crate) mod fs_names;
mod kind;
mod limits;
mod name;
mod placement;
mod plan;
mod platform;
mod progress;
mod reader;
mod source;
pub(crate) mod stream;
mod streaming;
mod tree;
mod vocabulary;

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use self::archive::Archive;
pub use self::error::UnzipError;
use self::execute::FileJobs;
pub use self::limits::Limits;
pub(crate) use self::progress::Label;
pub use self::progress::Progress;
use self::progress::{ProgressFn, Tracker};
pub(crate) use self::streaming::Staged;
pub use self::streaming::{StreamOptions, StreamedArchive};
use crate::fs::{Dir, FsError, Staging, slots};

/// Extracts zip archives strictly, in parallel, and atomically.
///
/// Cheap to clone (the callback and thread pool are shared), and `Send + Sync`: one
/// `Unzipper` can serve many threads at once.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use inflight::{Limits, Unzipper};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let archive = dir.path().join("demo.zip");
/// let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive)?);
/// zip.start_file("pkg/__init__.py", zip::write::SimpleFileOptions::default())?;
/// zip.write_all(b"print('hello')\n")?;
/// zip.finish()?;
///
/// let unzipper = Unzipper::new().limits(Limits::default());
/// let done = unzipper.unzip(&archive, &dir.path().join("out"))?;
/// assert_eq!((done.files, done.dirs, done.bytes), (1, 1, 15));
/// assert_eq!(std::fs::read(done.dest.join("pkg/__init__.py"))?, b"print('hello')\n");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Unzipper {
    limits: Limits,
    progress: Option<ProgressFn>,
    pool: Option<Arc<rayon::ThreadPool>>,
    durable: bool,
    in_memory_limit: usize,
}

impl Default for Unzipper {
    /// The same as [`Unzipper::new`].
    fn default() -> Self {
        Unzipper {
            limits: Limits::default(),
            progress: None,
            pool: None,
            durable: false,
            in_memory_limit: decode::DEFAULT_IN_MEMORY_LIMIT,
        }
    }
}

/// What [`Unzipper::unzip`] produced.
///
/// # Examples
///
/// ```
/// # use std::io::Write;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// # let archive = dir.path().join("a.zip");
/// # let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive)?);
/// # let options = zip::write::SimpleFileOptions::default();
/// # zip.add_directory("empty/", options)?;
/// # zip.start_file("src/lib.rs", options)?;
/// # zip.write_all(b"// hi\n")?;
/// # zip.finish()?;
/// // An archive with `empty/` and `src/lib.rs`:
/// let done = inflight::Unzipper::new().unzip(&archive, &dir.path().join("out"))?;
/// assert_eq!((done.files, done.dirs, done.bytes), (1, 2, 6));
/// assert!(done.dest.join("empty").is_dir());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extracted {
    /// The destination directory, now complete.
    pub dest: PathBuf,
    /// Regular files written.
    pub files: usize,
    /// Directories created (entries and implied parents), not counting `dest` itself.
    pub dirs: usize,
    /// Uncompressed bytes written.
    pub bytes: u64,
}

impl Unzipper {
    /// An extractor with [`Limits::default()`], no progress callback, and rayon's
    /// global thread pool. Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let unzipper = inflight::Unzipper::new();
    /// # let _ = unzipper;
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the limits checked in the plan phase. Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut limits = inflight::Limits::default();
    /// limits.max_entries = 50_000;
    /// let unzipper = inflight::Unzipper::new().limits(limits);
    /// # let _ = unzipper;
    /// ```
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Calls `callback` once before the first file is written and once after each
    /// file is written and checked. Never blocks.
    ///
    /// The callback runs on the calling thread and on the pool's workers, possibly on
    /// several at once, and its reports can arrive slightly out of order (see
    /// [`Progress`]). Keep it short: a worker waits for it. It must not wait for an
    /// extraction (an [`UnzipCache`](crate::UnzipCache) request, say): the extraction
    /// it reports on waits for it, so that could deadlock. If it panics, the
    /// extraction stops, cleans up, and the panic resumes in the caller of
    /// [`unzip`](Self::unzip).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&calls);
    /// let unzipper = inflight::Unzipper::new().progress(move |p| {
    ///     seen.fetch_add(1, Ordering::Relaxed);
    ///     assert!(p.files_done <= p.files_total);
    /// });
    /// # let _ = unzipper;
    /// ```
    #[must_use]
    pub fn progress(mut self, callback: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// Spawns the helpers of the parallel phase on `pool` instead of the current rayon
    /// pool (the pool of the thread calling [`unzip`](Self::unzip), or rayon's global
    /// pool when it is not a rayon worker). Never blocks.
    ///
    /// Any pool is safe, including one whose threads run your own jobs or wait for
    /// extractions: the calling thread writes files itself and never waits for a
    /// helper that has not started, so helpers speed an extraction up but are never
    /// needed for it to finish.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build()?;
    /// let unzipper = inflight::Unzipper::new().thread_pool(std::sync::Arc::new(pool));
    /// # let _ = unzipper;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn thread_pool(mut self, pool: Arc<rayon::ThreadPool>) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Durable mode: before `dest` is renamed into place, every file's data and every
    /// directory of the tree are flushed to the device (`fdatasync` per file, `fsync`
    /// per directory), and after the rename the parent directory is flushed too. A
    /// power cut then leaves either no `dest` or a complete one, never one with empty
    /// or short files. Never blocks.
    ///
    /// Off by default: on a real disk it costs several times the extraction itself on
    /// archives of many small files (one flush per file; `benches/README.md` has the
    /// numbers), and a crash of the process alone (not of the machine) never leaves a
    /// partial `dest` either way, because the rename is the last step. Turn it on when
    /// the extracted tree is trusted across reboots without being checked, as a
    /// shared cache's is.
    ///
    /// # Examples
    ///
    /// ```
    /// let unzipper = inflight::Unzipper::new().durable(true);
    /// # let _ = unzipper;
    /// ```
    #[must_use]
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// The most memory a thread uses to decode one entry in one call: entries whose
    /// compressed and uncompressed sizes together are at most `bytes` are read whole
    /// and inflated in one call, the rest stream through 320 KiB of buffers. Default
    /// 32 MiB; 0 streams every entry. Never blocks.
    ///
    /// Only deflated entries, and only with the `libdeflate` feature (without it every
    /// entry streams and this setting changes nothing). In-memory decoding is faster
    /// (inflation 1.2-1.5x on wheels; extraction as a whole 1.0-1.35x, most on wheels
    /// of many small and mid-sized files, least on a few files of 16 MiB and more;
    /// `benches/README.md` has the numbers) and gives the same files and the same
    /// errors, with one exception the feature documents: a few deflate streams that
    /// zlib refuses and no encoder writes. [`unzip_reader`](Self::unzip_reader) and
    /// [`Archive::read`](crate::Archive::read) always stream, so they refuse those.
    ///
    /// Memory: each thread that writes files (the pool's and the callers') keeps its
    /// in-memory buffers for later entries and extractions, as it keeps its streaming
    /// buffers: grown to the largest entry it decoded in memory, so at most `bytes`
    /// plus 18 bytes per thread. Fresh memory for every entry would cost, in page
    /// faults, about what decoding in one call saves.
    ///
    /// # Examples
    ///
    /// ```
    /// // Bound the memory a thread keeps to 8 MiB: larger entries stream.
    /// let unzipper = inflight::Unzipper::new().in_memory_limit(8 << 20);
    /// # let _ = unzipper;
    /// ```
    #[must_use]
    pub fn in_memory_limit(mut self, bytes: usize) -> Self {
        self.in_memory_limit = bytes;
        self
    }

    /// Whether durable mode is on (see [`durable`](Self::durable)).
    pub(crate) fn is_durable(&self) -> bool {
        self.durable
    }

    /// Extracts `archive` into the new directory `dest`.
    ///
    /// Blocks until the extraction is complete or has failed. The calling thread
    /// writes files itself, helped by jobs it spawns on the thread pool; it never runs
    /// other queued pool jobs while it waits, and never needs a helper to start, so
    /// the call is safe from any thread, a rayon worker's included (see
    /// [`thread_pool`](Self::thread_pool)). `dest` must not exist; its parent must.
    /// On success `dest` appears at once, complete (one rename that never replaces
    /// anything). On any error, and on a panic in a worker or in the progress
    /// callback, the staging directory is removed and `dest` is left as it was:
    /// absent, or someone else's. Either way the parent holds nothing more than
    /// before besides `dest` (the staging slot and its lock file are removed; only a
    /// process killed half-way leaves them, and the next extraction of the same
    /// `dest` removes them).
    ///
    /// # Errors
    ///
    /// - [`UnzipError::DestinationExists`] if `dest` exists before the call or
    ///   appears before the final rename (another process won the race; its `dest`
    ///   is untouched).
    /// - A rejection of the plan phase (see the crate docs), naming the entry, before
    ///   anything is written.
    /// - A content error ([`UnzipError::CrcMismatch`], [`UnzipError::SizeMismatch`],
    ///   [`UnzipError::ExceedsDeclaredSize`], [`UnzipError::CorruptData`]): of all
    ///   failing entries, the one with the lowest index, whatever the thread timing.
    /// - I/O errors with the path involved: [`UnzipError::OpenArchive`],
    ///   [`UnzipError::ReadArchive`], [`UnzipError::Write`], [`UnzipError::Publish`],
    ///   and [`UnzipError::Fs`] for the staging directory (a link or another
    ///   directory swapped in for it is refused, never followed).
    ///
    /// # Panics
    ///
    /// Only if the progress callback panics; the panic is resumed after cleanup.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{UnzipError, Unzipper};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let archive = dir.path().join("not-a.zip");
    /// std::fs::write(&archive, b"hello").unwrap();
    /// let err = Unzipper::new().unzip(&archive, dir.path().join("out")).unwrap_err();
    /// assert!(matches!(err, UnzipError::CentralDirectory { .. }));
    /// // Nothing was left beside the archive: no `out`, no staging, no lock file.
    /// assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    /// ```
    pub fn unzip(
        &self,
        archive: impl AsRef<Path>,
        dest: impl AsRef<Path>,
    ) -> Result<Extracted, UnzipError> {
        let (archive, dest) = (archive.as_ref(), dest.as_ref());
        let target = Destination::new(dest)?;
        let file = open_archive(archive)?;
        let plan = plan::plan(&file, archive, &self.limits, target.base_len)?;
        let extracted = Extracted {
            dest: dest.to_owned(),
            files: plan.files.len(),
            dirs: plan.dirs.len(),
            bytes: plan.total_bytes,
        };
        let parent = target.open_parent()?;
        let staging = target.stage(&parent)?;
        let root = staging.dir_handle().expect("a slot stages a directory");
        let label = Label {
            archive: Arc::from(archive),
            id: None,
        };
        self.extract(plan, file, &label, root, Some(staging.needs_chmod()))?;
        target.publish(staging, self.durable)?;
        Ok(extracted)
    }

    /// Extracts `archive` into the existing directory `dir`, which should be empty:
    /// the staging directory of a cache build, say
    /// ([`DiskCache::get_or_build`](crate::DiskCache::get_or_build) hands one out).
    /// No staging and no publishing of its own: the caller decides what becomes of
    /// `dir`, complete or not.
    ///
    /// Blocks as [`unzip`](Self::unzip) does. The same plan, checks and limits apply,
    /// and everything is created relative to `dir` without following a link (`dir`
    /// itself must not be one). On an error, what was written so far stays in `dir`
    /// for the caller to remove; nothing is written outside it, and an entry whose
    /// name is already taken in `dir` fails the extraction instead of replacing it.
    ///
    /// # Errors
    ///
    /// As [`unzip`](Self::unzip), without [`UnzipError::DestinationExists`] and
    /// [`UnzipError::Publish`]; [`UnzipError::Write`] if `dir` cannot be opened.
    ///
    /// # Panics
    ///
    /// Only if the progress callback panics, after every worker has stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let archive = dir.path().join("demo.zip");
    /// let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive)?);
    /// zip.start_file("pkg/data.txt", zip::write::SimpleFileOptions::default())?;
    /// zip.write_all(b"42")?;
    /// zip.finish()?;
    ///
    /// let into = dir.path().join("staging");
    /// std::fs::create_dir(&into)?;
    /// let done = inflight::Unzipper::new().unzip_into(&archive, &into)?;
    /// assert_eq!((done.files, done.dest.as_path()), (1, into.as_path()));
    /// assert_eq!(std::fs::read(into.join("pkg/data.txt"))?, b"42");
    /// # Ok(())
    /// # }
    /// ```
    pub fn unzip_into(
        &self,
        archive: impl AsRef<Path>,
        dir: impl AsRef<Path>,
    ) -> Result<Extracted, UnzipError> {
        let (archive, dir) = (archive.as_ref(), dir.as_ref());
        let label = Label {
            archive: Arc::from(archive),
            id: None,
        };
        let root = open_target(dir)?;
        self.unzip_into_dir(archive, &root, None, &label)
    }

    /// [`unzip_into`](Self::unzip_into) an open directory; `needs_chmod` when the
    /// caller knows whether the umask strips bits of 0o755 there (it created it).
    pub(crate) fn unzip_into_dir(
        &self,
        archive: &Path,
        root: &Dir,
        needs_chmod: Option<bool>,
        label: &Label,
    ) -> Result<Extracted, UnzipError> {
        let file = open_archive(archive)?;
        let plan = plan::plan(&file, archive, &self.limits, root.path().as_os_str().len())?;
        let extracted = Extracted {
            dest: root.path().to_owned(),
            files: plan.files.len(),
            dirs: plan.dirs.len(),
            bytes: plan.total_bytes,
        };
        self.extract(plan, file, label, root, needs_chmod)?;
        if self.durable {
            root.sync().map_err(UnzipError::write(root.path()))?;
        }
        Ok(extracted)
    }

    /// The execute phase of a checked plan, under `root`: directories, then files
    /// (and, in durable mode, every directory flushed).
    fn extract(
        &self,
        plan: plan::Plan,
        file: File,
        label: &Label,
        root: &Dir,
        needs_chmod: Option<bool>,
    ) -> Result<(), UnzipError> {
        let needs_chmod = execute::create_dirs(&plan, root, needs_chmod)?;
        let tracker = Tracker::new(
            self.progress.clone(),
            label,
            plan.files.len(),
            plan.total_bytes,
        );
        tracker.start();
        let jobs = FileJobs {
            files: plan.files,
            archive_file: file,
            archive: label.archive.to_path_buf(),
            root: root.try_clone().map_err(UnzipError::write(root.path()))?,
            needs_chmod,
            durable: self.durable,
            in_memory_limit: self.in_memory_limit,
            tracker,
        };
        execute::write_files(jobs, self.pool.as_deref())?;
        if self.durable {
            // Every file's data is on the device (each job synced its own); now the
            // directory entries, children before the directories that hold them.
            for dir in plan.dirs.paths().rev() {
                let path = root.path().join(&dir);
                root.open_dir_beneath(&dir)
                    .and_then(|d| d.sync())
                    .map_err(UnzipError::write(&path))?;
            }
            root.sync().map_err(UnzipError::write(root.path()))?;
        }
        Ok(())
    }
}

/// Where a standalone extraction ([`Unzipper::unzip`], [`Unzipper::unzip_reader`])
/// publishes: `dest`, checked before anything is read, and its staging slots beside
/// it.
struct Destination<'a> {
    dest: &'a Path,
    name: &'a std::ffi::OsStr,
    parent: &'a Path,
    stem: String,
    /// The longer of `dest` and a staging directory's path: entries are written under
    /// the one and end up under the other, so their paths must fit under both.
    base_len: usize,
}

impl<'a> Destination<'a> {
    /// Refuses a `dest` without a name or parent, or one that exists already.
    fn new(dest: &'a Path) -> Result<Self, UnzipError> {
        let invalid = || UnzipError::InvalidDestination {
            dest: dest.to_owned(),
        };
        let name = dest.file_name().ok_or_else(invalid)?;
        let parent = parent_dir(dest).ok_or_else(invalid)?;
        if dest.symlink_metadata().is_ok() {
            return Err(UnzipError::DestinationExists {
                dest: dest.to_owned(),
            });
        }
        let stem = staging_stem(name);
        let staging_len =
            parent.as_os_str().len() + 1 + slots::slot_names(&stem, usize::MAX).0.len();
        Ok(Destination {
            dest,
            name,
            parent,
            base_len: dest.as_os_str().len().max(staging_len),
            stem,
        })
    }

    /// The directory `dest` goes into.
    fn open_parent(&self) -> Result<Dir, UnzipError> {
        Dir::open(self.parent).map_err(UnzipError::write(self.parent))
    }

    /// A staging directory in a slot of `parent` (from [`open_parent`](Self::open_parent)).
    fn stage<'d>(&self, parent: &'d Dir) -> Result<Staging<'d>, UnzipError> {
        Staging::in_slot(parent, &self.stem).map_err(UnzipError::from_fs)
    }

    /// Renames `staging` to `dest`.
    fn publish(&self, staging: Staging<'_>, durable: bool) -> Result<(), UnzipError> {
        let dest = self.dest.to_owned();
        staging
            .publish(self.name, durable)
            .map_err(|error| match error {
                FsError::Exists { .. } => UnzipError::DestinationExists { dest },
                FsError::Io {
                    op: "rename",
                    path,
                    source,
                } => UnzipError::Publish {
                    staging: path,
                    dest,
                    source: error::unshare(source),
                },
                other => UnzipError::from_fs(other),
            })
    }
}

/// The directory `path` is in: its parent, or `.` for a bare name; `None` for a root
/// or a prefix, which are in none.
fn parent_dir(path: &Path) -> Option<&Path> {
    path.parent().map(|parent| {
        if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        }
    })
}

/// `dest`'s name as it appears in its staging slots: at most [`STEM_MAX`] bytes (cut
/// at a character boundary), so that the slot names stay under `NAME_MAX` (255)
/// whatever the length of `dest`'s name. A name that is not UTF-8 is converted
/// lossily: the stem only has to be the same for every extraction of one `dest`.
fn staging_stem(dest_name: &std::ffi::OsStr) -> String {
    let mut stem = dest_name.to_string_lossy().into_owned();
    while stem.len() > STEM_MAX {
        stem.pop();
    }
    stem
}

/// Longest stem of `dest`'s name kept in a staging name (see [`staging_stem`]).
const STEM_MAX: usize = 200;

/// Opens the directory an extraction fills in place, refusing a link there.
fn open_target(dir: &Path) -> Result<Dir, UnzipError> {
    Dir::open_no_follow(dir).map_err(|source| {
        if dir
            .symlink_metadata()
            .is_ok_and(|meta| meta.file_type().is_symlink())
        {
            UnzipError::Fs(FsError::UnexpectedType {
                path: dir.to_owned(),
                found: "symbolic link",
                expected: "directory",
            })
        } else {
            UnzipError::write(dir)(source)
        }
    })
}

/// Opens the archive for reading, refusing anything but a regular file before a byte
/// is read (see [`platform::archive_open_options`] for why a FIFO cannot block here).
fn open_archive(archive: &Path) -> Result<File, UnzipError> {
    let not_a_file = |file_type: std::fs::FileType| UnzipError::NotAFile {
        archive: archive.to_owned(),
        kind: platform::describe(file_type),
    };
    let file = match platform::archive_open_options().open(archive) {
        Ok(file) => file,
        // Sockets cannot be opened at all, directories cannot on some platforms: say
        // what the path is rather than what `open` made of it.
        Err(e) => {
            return Err(match std::fs::metadata(archive) {
                Ok(meta) if !meta.is_file() => not_a_file(meta.file_type()),
                _ => UnzipError::open(archive)(e),
            });
        }
    };
    let meta = file.metadata().map_err(UnzipError::open(archive))?;
    if !meta.is_file() {
        return Err(not_a_file(meta.file_type()));
    }
    Ok(file)
}

impl fmt::Debug for Unzipper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unzipper")
            .field("limits", &self.limits)
            .field("progress", &self.progress.as_ref().map(|_| "Fn(Progress)"))
            .field(
                "thread_pool",
                &self.pool.as_ref().map(|pool| pool.current_num_threads()),
            )
            .field("durable", &self.durable)
            .field("in_memory_limit", &self.in_memory_limit)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_shareable<T: Send + Sync + Clone + fmt::Debug + 'static>() {}

    #[test]
    fn unzipper_can_be_shared_by_a_cache_across_threads() {
        assert_shareable::<Unzipper>();
        assert_shareable::<Limits>();
        assert_shareable::<Extracted>();
    }
}
