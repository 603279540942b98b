//! Progress reporting through a callback the caller owns; the library never prints.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A snapshot of an extraction's progress, passed to the callback set with
/// [`Unzipper::progress`](crate::Unzipper::progress).
///
/// Only regular files count: directories are all created, in one go, before the first
/// report. `bytes_*` are declared uncompressed sizes. In a streaming extraction
/// ([`Unzipper::unzip_reader`](crate::Unzipper::unzip_reader)) the totals are what
/// has arrived so far, and grow as entries arrive. Each report names the archive it
/// is about and, for an extraction a cache runs, the cache id, so one callback can
/// serve many extractions at once.
///
/// # Examples
///
/// Driving a progress bar the caller owns (the library itself never prints):
///
/// ```
/// use std::io::Write;
/// use indicatif::ProgressBar;
/// use inflight::{Progress, Unzipper};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// # let archive = dir.path().join("a.zip");
/// # let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive)?);
/// # zip.start_file("a.txt", zip::write::SimpleFileOptions::default())?;
/// # zip.write_all(b"abc")?;
/// # zip.finish()?;
/// let bar = ProgressBar::hidden(); // ProgressBar::new(0) in a real program
/// let handle = bar.clone();
/// let unzipper = Unzipper::new().progress(move |p: Progress| {
///     handle.set_length(p.bytes_total);
///     handle.set_position(p.bytes_done);
/// });
/// unzipper.unzip(&archive, &dir.path().join("out"))?;
/// bar.finish();
/// assert_eq!(bar.position(), 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The archive being extracted, as the caller named it.
    pub archive: Arc<Path>,
    /// The cache id this extraction is for, when an
    /// [`UnzipCache`](crate::UnzipCache) runs it; `None` for a plain
    /// [`Unzipper::unzip`](crate::Unzipper::unzip).
    pub id: Option<Arc<str>>,
    /// Files completely written and checked.
    pub files_done: usize,
    /// Files in the archive.
    pub files_total: usize,
    /// Uncompressed bytes of the files done.
    pub bytes_done: u64,
    /// Uncompressed bytes of all files.
    pub bytes_total: u64,
}

/// The shared callback type.
pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Counters shared by the workers of one extraction. Owns a handle on the callback,
/// so helper jobs on the pool (which must be `'static`) can share it.
///
/// Each report is a snapshot taken right after its own increments, so the counts in
/// one report are consistent with each other, but two workers may deliver their
/// reports in either order: a callback can see `files_done` 7 before 6.
pub(crate) struct Tracker {
    callback: Option<ProgressFn>,
    archive: Arc<Path>,
    id: Option<Arc<str>>,
    files_done: AtomicUsize,
    bytes_done: AtomicU64,
    /// Known up front from the plan; in a streaming extraction, grown as entries
    /// arrive ([`Tracker::grow`]).
    files_total: AtomicUsize,
    bytes_total: AtomicU64,
}

impl Tracker {
    pub(crate) fn new(
        callback: Option<ProgressFn>,
        label: &Label,
        files_total: usize,
        bytes_total: u64,
    ) -> Self {
        Tracker {
            callback,
            archive: Arc::clone(&label.archive),
            id: label.id.clone(),
            files_done: AtomicUsize::new(0),
            bytes_done: AtomicU64::new(0),
            files_total: AtomicUsize::new(files_total),
            bytes_total: AtomicU64::new(bytes_total),
        }
    }

    /// Reports the starting point (nothing done yet).
    pub(crate) fn start(&self) {
        if let Some(callback) = &self.callback {
            callback(self.report(0, 0));
        }
    }

    /// Records one finished file of `bytes` bytes and reports.
    pub(crate) fn file_done(&self, bytes: u64) {
        // Relaxed: the counters are statistics; nothing else is published through them.
        let files_done = self.files_done.fetch_add(1, Ordering::Relaxed) + 1;
        let bytes_done = self.bytes_done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(callback) = &self.callback {
            callback(self.report(files_done, bytes_done));
        }
    }

    /// A streaming extraction met another file of `bytes` bytes: the totals grow.
    pub(crate) fn grow(&self, bytes: u64) {
        self.files_total.fetch_add(1, Ordering::Relaxed);
        self.bytes_total.fetch_add(bytes, Ordering::Relaxed);
    }

    fn report(&self, files_done: usize, bytes_done: u64) -> Progress {
        // Read after the counts done, which the totals always cover (a file is
        // counted in the totals before its job can finish).
        Progress {
            archive: Arc::clone(&self.archive),
            id: self.id.clone(),
            files_done,
            files_total: self.files_total.load(Ordering::Relaxed).max(files_done),
            bytes_done,
            bytes_total: self.bytes_total.load(Ordering::Relaxed).max(bytes_done),
        }
    }
}

/// What an extraction's progress reports name: the archive, and the cache id if a
/// cache runs it.
#[derive(Debug, Clone)]
pub(crate) struct Label {
    pub(crate) archive: Arc<Path>,
    pub(crate) id: Option<Arc<str>>,
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker")
            .field("files_done", &self.files_done)
            .field("files_total", &self.files_total.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
